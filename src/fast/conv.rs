//! Convolution at library speed (chapter `16-fast-convolution`).
//!
//! The same mathematics as [`crate::im2col::conv2d_im2col`], reorganised for the machine:
//!
//! - **one image at a time**: the patch matrix of one image (`C KH KW x H' W'`) is small
//!   enough to stay in the core's cache while the matrix product reads it, where the patch
//!   matrix of a whole batch (57 MB for 64 images of 32 channels at 28 x 28) is not;
//! - **rows copied, not elements**: with stride 1, each row of the patch matrix is a run of
//!   an input row, so [`im2col_image`] copies slices instead of testing every index;
//! - **no permutation**: image `n`'s product `W_mat X_col` *is* the `(K, H' W')` block of
//!   the output in `(N, K, H', W')` order, written in place with the bias already there;
//! - **the backward pass by the same trick**: `dW += dY_n X_col^T` and `dX_col = W^T dY_n`,
//!   folded back by [`col2im_image`]; the input gradient is skipped when nobody needs it
//!   (the first layer of a network);
//! - **threads over the batch** (rayon): images are split into [`CHUNKS`] fixed chunks, so
//!   the partial weight gradients are summed in the same order whatever the thread count,
//!   and results do not depend on how many cores ran them;
//! - **buffers reused**: a [`ConvScratch`] keeps the patch matrices and partial gradients
//!   between batches.
//!
//! The matrix products are ndarray's `general_mat_mul`, which calls the matrixmultiply
//! crate: packing into cache-sized panels and a register-blocked kernel chosen at run time
//! for the CPU (SSE2, AVX, FMA or AVX-512).
//!
//! Stride-1 convolutions skip the patch matrix altogether: the direct kernels of
//! [`crate::fast::direct`] (on the vectors of [`crate::fast::simd`], for every CPU) compute
//! the forward pass and both gradients from the padded images (see [`use_direct`]), and
//! the forward pass keeps those padded images for [`conv2d_backward_saved`].

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array4, ArrayView1, ArrayView2, ArrayView4, ArrayViewMut2};
use rayon::prelude::*;

use crate::conv::{check_bias, Conv2dConfig, ConvDims};
use crate::error::{Error, Result};
use crate::fast::direct::{self, Direct};
use crate::fast::simd::{self, Isa, LANES};
use crate::fast::winograd;
use crate::tensor::zeros4_par;

/// The number of pieces a batch is cut into for the threads. Fixed, so that the partial
/// weight gradients are always added in the same order: one thread or eight, the same bits.
pub const CHUNKS: usize = 8;

// ANCHOR: im2col_image
/// The patch matrix of one image `(C, H, W)` (a flat slice) into `cols`, shape
/// `(C KH KW) x (H' W')`, row-major. With stride 1 the part of a row that falls inside the
/// image is one contiguous run of an input row: copied with `copy_from_slice`.
pub fn im2col_image(image: &[f32], d: &ConvDims, cols: &mut [f32]) {
    let (h, w) = (d.height, d.width);
    let (oh, ow) = (d.out_height, d.out_width);
    let Conv2dConfig {
        stride, padding, ..
    } = d.config;
    let positions = oh * ow;
    let same = stride == 1 && oh == h && ow == w;
    for c in 0..d.channels {
        let plane = &image[c * h * w..(c + 1) * h * w];
        for u in 0..d.kernel_height {
            for v in 0..d.kernel_width {
                let row = (c * d.kernel_height + u) * d.kernel_width + v;
                let out = &mut cols[row * positions..(row + 1) * positions];
                // Output columns j whose input column q = j S + v - P lies in [0, W).
                let j0 = padding.saturating_sub(v).div_ceil(stride).min(ow);
                let j1 = ((w + padding).saturating_sub(v).div_ceil(stride)).clamp(j0, ow);
                if same {
                    shifted_row(plane, out, (u, v), (j0, j1), d);
                    continue;
                }
                for i in 0..oh {
                    let dst = &mut out[i * ow..(i + 1) * ow];
                    let r = (i * stride + u).wrapping_sub(padding);
                    if r >= h {
                        dst.fill(0.0);
                        continue;
                    }
                    zero(&mut dst[..j0]);
                    zero(&mut dst[j1..]);
                    if j1 == j0 {
                        continue;
                    }
                    let src = &plane[r * w..(r + 1) * w];
                    let q0 = j0 * stride + v - padding;
                    if stride == 1 {
                        dst[j0..j1].copy_from_slice(&src[q0..q0 + (j1 - j0)]);
                    } else {
                        for (k, x) in dst[j0..j1].iter_mut().enumerate() {
                            *x = src[q0 + k * stride];
                        }
                    }
                }
            }
        }
    }
}
// ANCHOR_END: im2col_image

/// Sets a (usually very short) run to zero, without a call for an empty one.
#[inline]
fn zero(run: &mut [f32]) {
    for x in run {
        *x = 0.0;
    }
}

/// One row of the patch matrix of a "same" convolution (stride 1, output as large as the
/// input): the plane shifted by `u - P` rows and `v - P` columns. Copied as one long run,
/// which drags values across row ends into the columns `j < j0` and `j >= j1`; those, and
/// the rows that fall outside the image, are then set to zero.
fn shifted_row(
    plane: &[f32],
    out: &mut [f32],
    (u, v): (usize, usize),
    (j0, j1): (usize, usize),
    d: &ConvDims,
) {
    let (h, w, p) = (d.height, d.width, d.config.padding);
    let i0 = p.saturating_sub(u).min(h);
    let i1 = (h + p).saturating_sub(u).clamp(i0, h);
    out[..i0 * w].fill(0.0);
    out[i1 * w..].fill(0.0);
    if i1 == i0 || j1 == j0 {
        out[i0 * w..i1 * w].fill(0.0);
        return;
    }
    let (start, end) = (i0 * w + j0, (i1 - 1) * w + j1);
    let from = (i0 + u - p) * w + j0 + v - p;
    out[start..end].copy_from_slice(&plane[from..from + (end - start)]);
    // The dragged-in columns, one strided pass per column (a handful at most).
    for j in (0..j0).chain(j1..w) {
        for x in out[i0 * w + j..].iter_mut().step_by(w).take(i1 - i0) {
            *x = 0.0;
        }
    }
}

/// The adjoint of [`im2col_image`]: adds every entry of `cols` back into the image position
/// it was copied from. `image` is added to, not overwritten. `cols` is scratch: the entries
/// that belong to padding (and so go nowhere) may be overwritten with zeros.
pub fn col2im_image(cols: &mut [f32], d: &ConvDims, image: &mut [f32]) {
    let (h, w) = (d.height, d.width);
    let (oh, ow) = (d.out_height, d.out_width);
    let Conv2dConfig {
        stride, padding, ..
    } = d.config;
    let positions = oh * ow;
    if stride == 1 && oh == h && ow == w {
        // A "same" convolution: each row of `cols` is the image shifted; clear what fell
        // outside, then add the row as one long run (the reverse of `shifted_row`).
        for c in 0..d.channels {
            let plane = &mut image[c * h * w..(c + 1) * h * w];
            for u in 0..d.kernel_height {
                for v in 0..d.kernel_width {
                    let row = (c * d.kernel_height + u) * d.kernel_width + v;
                    let from = &mut cols[row * positions..(row + 1) * positions];
                    let j0 = padding.saturating_sub(v).min(w);
                    let j1 = (w + padding).saturating_sub(v).clamp(j0, w);
                    let i0 = padding.saturating_sub(u).min(h);
                    let i1 = (h + padding).saturating_sub(u).clamp(i0, h);
                    if i1 == i0 || j1 == j0 {
                        continue;
                    }
                    for j in (0..j0).chain(j1..w) {
                        for x in from[i0 * w + j..].iter_mut().step_by(w).take(i1 - i0) {
                            *x = 0.0;
                        }
                    }
                    let (start, end) = (i0 * w + j0, (i1 - 1) * w + j1);
                    let to = (i0 + u - padding) * w + j0 + v - padding;
                    for (x, g) in plane[to..to + (end - start)]
                        .iter_mut()
                        .zip(&from[start..end])
                    {
                        *x += g;
                    }
                }
            }
        }
        return;
    }
    for c in 0..d.channels {
        let plane = &mut image[c * h * w..(c + 1) * h * w];
        for u in 0..d.kernel_height {
            for v in 0..d.kernel_width {
                let row = (c * d.kernel_height + u) * d.kernel_width + v;
                let from = &cols[row * positions..(row + 1) * positions];
                let j0 = padding.saturating_sub(v).div_ceil(stride).min(ow);
                let j1 = ((w + padding).saturating_sub(v).div_ceil(stride)).clamp(j0, ow);
                for i in 0..oh {
                    let r = (i * stride + u).wrapping_sub(padding);
                    if r >= h || j1 == j0 {
                        continue;
                    }
                    let src = &from[i * ow + j0..i * ow + j1];
                    let dst = &mut plane[r * w..(r + 1) * w];
                    let q0 = j0 * stride + v - padding;
                    if stride == 1 {
                        for (x, g) in dst[q0..q0 + src.len()].iter_mut().zip(src) {
                            *x += g;
                        }
                    } else {
                        for (k, g) in src.iter().enumerate() {
                            dst[q0 + k * stride] += g;
                        }
                    }
                }
            }
        }
    }
}

/// Whether the patch matrix of an image is the image itself: a 1 x 1 filter with stride 1
/// and no padding needs no copy at all.
fn is_pointwise(d: &ConvDims) -> bool {
    d.kernel_height == 1 && d.kernel_width == 1 && d.config.stride == 1 && d.config.padding == 0
}

/// Which kernel the fast path runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FastKernel {
    /// The library's choice (see [`use_direct`]): Winograd's F(2 x 2, 3 x 3) where it
    /// applies, the direct kernels elsewhere where they apply (they measured faster than
    /// im2col + GEMM on every layer of chapter 16), im2col + GEMM for the rest.
    #[default]
    Auto,
    /// Always im2col + GEMM.
    Gemm,
    /// The direct kernels of [`crate::fast::direct`] (forward, weight and input gradients)
    /// wherever they apply (stride 1, padding narrower than the filter); im2col + GEMM
    /// elsewhere.
    Direct,
    /// Winograd's F(2 x 2, 3 x 3) of [`crate::fast::winograd`] for the forward pass and both
    /// gradients wherever it applies (3 x 3 filters, stride 1, even output sizes, a
    /// multiple of 32 filters); otherwise as [`FastKernel::Direct`].
    Winograd,
}

/// Buffers a convolution keeps between batches: one patch matrix (or padded image) per
/// chunk, and one partial weight and bias gradient per chunk. Sized on first use, reused
/// while the shapes stay. `kernel` chooses between im2col + GEMM and the direct kernels.
#[derive(Debug, Clone, Default)]
pub struct ConvScratch {
    pub kernel: FastKernel,
    /// The instruction set of the direct and Winograd kernels: `None` for
    /// [`simd::active`] (the widest this CPU has, or the limit of `CNN_BOOK_ISA`); a
    /// narrower one to run, or test, that path. Every path gives the same bits.
    pub isa: Option<simd::Isa>,
    cols: Vec<Vec<f32>>,
    dcols: Vec<Vec<f32>>,
    dw: Vec<Vec<f32>>,
    db: Vec<Vec<f32>>,
    dy_padded: Vec<Vec<f32>>,
    packed: Vec<f32>,
    offsets: Vec<usize>,
    saved: Vec<f32>,
    saved_for: Option<ConvDims>,
    sums: Vec<Vec<f32>>,
    winograd: Vec<winograd::Scratch>,
}

impl ConvScratch {
    /// The sizes of the convolution whose padded input the last forward pass kept (the
    /// direct kernels keep it for [`conv2d_backward_saved`]), if any.
    pub fn saved_input(&self) -> Option<ConvDims> {
        self.saved_for
    }
}

/// The instruction set `scratch` asks for, or the active one; an error if this CPU cannot
/// run it.
fn isa_of(scratch: &ConvScratch) -> Result<simd::Isa> {
    match scratch.isa {
        None => Ok(simd::active()),
        Some(isa) if isa.available() => Ok(isa),
        Some(isa) => Err(Error::Invalid(format!(
            "the convolution asks for the {} kernels, which this CPU cannot run (it has {})",
            isa.name(),
            simd::detected().name()
        ))),
    }
}

// ANCHOR: use_direct
/// Whether the direct kernels run: they need stride 1 and padding smaller than the filter
/// (the input gradient pads the output gradient by `KH - 1 - P`). They run on every CPU
/// (see [`crate::fast::simd`]); only where a fused multiply-add is a library call (the
/// portable path on an x86-64 CPU without FMA) does `Auto` prefer im2col + GEMM.
pub fn use_direct(d: &ConvDims, kernel: FastKernel) -> bool {
    let p = d.config.padding;
    let applies = d.config.stride == 1 && p < d.kernel_height && p < d.kernel_width;
    let wanted = match kernel {
        FastKernel::Gemm => false,
        FastKernel::Direct | FastKernel::Winograd => true,
        FastKernel::Auto => simd::active().fast_fma(),
    };
    applies && wanted
}
// ANCHOR_END: use_direct

/// Whether Winograd's F(2 x 2, 3 x 3) computes the correlation `g` (the forward pass or
/// the input gradient) under `kernel`.
fn use_winograd(g: &Direct, kernel: FastKernel) -> bool {
    matches!(kernel, FastKernel::Winograd | FastKernel::Auto) && winograd::applies(g)
}

/// The tiles that compute a correlation `g` (a forward pass, or an input gradient with
/// channels and filters swapped) on `isa` under `kernel`, the first that applies:
/// Winograd (3 x 3, even outputs, a multiple of 32 filters), the wide tiles (a multiple
/// of 64 filters; of 32 or 16 too without AVX-512), the sliding tiles (AVX-512, a
/// multiple of 16 filters that is not one of 32, where the flat layout wastes over a
/// quarter, [`direct::sliding_positions`]), else the flat tiles.
#[derive(Debug, Clone, Copy)]
enum Tiles {
    Winograd,
    /// Blocks of this many filters ([`direct::wide_block`]).
    Wide(usize),
    /// Tiles of this many positions ([`direct::sliding_positions`]).
    Sliding(usize),
    /// Tiles of this many filters ([`direct::filter_tile`]).
    Flat(usize),
}

impl Tiles {
    fn of(g: &Direct, isa: Isa, kernel: FastKernel) -> Tiles {
        if use_winograd(g, kernel) {
            Tiles::Winograd
        } else if let Some(block) = direct::wide_block(g.dst_c, isa) {
            Tiles::Wide(block)
        } else if let Some(p) = direct::sliding_positions(g, isa) {
            Tiles::Sliding(p)
        } else {
            Tiles::Flat(direct::filter_tile(g.dst_c, isa))
        }
    }

    /// Packs the filters `weight(k, c, u, v)` of `g` for these tiles.
    fn pack(
        self,
        g: &Direct,
        weight: impl Fn(usize, usize, usize, usize) -> f32,
        packed: &mut Vec<f32>,
    ) {
        match self {
            Tiles::Winograd => winograd::transform_filters(g, weight, packed),
            Tiles::Wide(f) | Tiles::Flat(f) => direct::pack_filters(g, f, weight, packed),
            Tiles::Sliding(_) => direct::pack_filters(g, LANES, weight, packed),
        }
    }
}

/// What [`correlate_image`] reads besides the image: the packed filters and the tap
/// offsets, positions and spills of the correlation.
type Plan<'a> = (&'a [f32], &'a [usize], &'a [usize], &'a [direct::Spill]);

/// The correlation `g` of one padded image by `tiles`, plus `bias`, into `out`: a forward
/// pass, or an input gradient.
#[allow(clippy::too_many_arguments)]
fn correlate_image(
    isa: Isa,
    g: &Direct,
    tiles: Tiles,
    padded: &[f32],
    (packed, offsets, pixels, spills): Plan,
    bias: Option<&[f32]>,
    out: &mut [f32],
    (sums, transforms): (&mut Vec<f32>, &mut winograd::Scratch),
) {
    match tiles {
        Tiles::Winograd => winograd::correlate(isa, g, padded, packed, bias, out, transforms),
        Tiles::Wide(block) => {
            let data = (packed, offsets);
            direct::correlate_wide(isa, g, block, padded, data, pixels, bias, out, sums);
        }
        Tiles::Sliding(p) => {
            direct::correlate_sliding(isa, g, p, (padded, packed), bias, out, sums)
        }
        Tiles::Flat(f) => {
            direct::correlate(isa, g, f, padded, (packed, offsets, spills), bias, out)
        }
    }
}

/// Whether the forward pass (and the weight gradient) of `d` runs by Winograd's
/// F(2 x 2, 3 x 3) under `kernel`: 3 x 3 filters, stride 1, even output sizes, a multiple
/// of 32 filters. The input gradient uses it when the same holds with
/// channels and filters swapped.
pub fn uses_winograd(d: &ConvDims, kernel: FastKernel) -> bool {
    use_direct(d, kernel) && use_winograd(&direct_forward(d), kernel)
}

/// The kernel that computes the forward pass of `d` under `kernel` on this CPU, in words:
/// `"im2col + GEMM"`, `"direct (avx2)"`, `"direct, sliding (avx512)"`,
/// `"Winograd F(2x2, 3x3) (avx512)"`, ... (the
/// benchmarks name what ran with it).
pub fn kernel_name(d: &ConvDims, kernel: FastKernel) -> String {
    let isa = simd::active();
    if !use_direct(d, kernel) {
        return "im2col + GEMM".into();
    }
    let name = isa.name();
    match Tiles::of(&direct_forward(d), isa, kernel) {
        Tiles::Winograd => format!("Winograd F(2x2, 3x3) ({name})"),
        Tiles::Wide(_) => format!("direct, wide ({name})"),
        Tiles::Sliding(_) => format!("direct, sliding ({name})"),
        Tiles::Flat(_) => format!("direct ({name})"),
    }
}

/// The geometry of the direct forward correlation of `d`.
fn direct_forward(d: &ConvDims) -> Direct {
    let p = d.config.padding;
    Direct::new(
        (d.channels, d.height, d.width),
        (p, p),
        (d.kernel_height, d.kernel_width),
        d.filters,
    )
}

/// The geometry of the input gradient as a direct correlation: the output gradient padded
/// by `KH - 1 - P` (so a "full" correlation), with the flipped filters, channels and
/// filters swapped.
fn direct_input_grad(d: &ConvDims) -> Direct {
    let (kh, kw, p) = (d.kernel_height, d.kernel_width, d.config.padding);
    Direct::new(
        (d.filters, d.out_height, d.out_width),
        (kh - 1 - p, kw - 1 - p),
        (kh, kw),
        d.channels,
    )
}

/// `count` buffers of at least `len` floats, with 16 to spare for [`aligned`].
fn sized(buffers: &mut Vec<Vec<f32>>, count: usize, len: usize) {
    buffers.resize_with(count, Vec::new);
    for b in buffers.iter_mut() {
        b.resize(len + 16, 0.0);
    }
}

/// Images per chunk for a batch of `n`.
fn chunk_size(n: usize) -> usize {
    n.div_ceil(CHUNKS).max(1)
}

// ANCHOR: conv2d_fast
/// 2D convolution, fast: same arguments and result as [`crate::conv::conv2d_naive`]
/// (up to the rounding of a different summation order). Runs on the current rayon pool.
pub fn conv2d_fast(
    input: ArrayView4<f32>,
    weight: ArrayView4<f32>,
    bias: Option<ArrayView1<f32>>,
    config: Conv2dConfig,
    scratch: &mut ConvScratch,
) -> Result<Array4<f32>> {
    let d = ConvDims::new(input.dim(), weight.dim(), config)?;
    check_bias(bias, d.filters)?;
    isa_of(scratch)?;
    let x = input.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    if use_direct(&d, scratch.kernel) {
        return Ok(direct_forward_batch(&d, x, weight, bias, scratch));
    }
    scratch.saved_for = None;
    let w = weight.as_standard_layout();
    let rows = d.channels * d.kernel_height * d.kernel_width;
    let w_mat = w.to_shape((d.filters, rows)).expect("(K, C KH KW)");
    let positions = d.out_height * d.out_width;
    let (in_len, out_len) = (d.channels * d.height * d.width, d.filters * positions);
    let mut y = zeros4_par(d.output_shape());
    let per = chunk_size(d.batch);
    let pointwise = is_pointwise(&d);
    sized(
        &mut scratch.cols,
        CHUNKS,
        if pointwise { 0 } else { rows * positions },
    );
    let ys = y.as_slice_mut().expect("fresh array");
    ys.par_chunks_mut(per * out_len)
        .zip(x.par_chunks(per * in_len))
        .zip(scratch.cols.par_iter_mut())
        .for_each(|((ys, xs), cols)| {
            for (yn, xn) in ys.chunks_mut(out_len).zip(xs.chunks(in_len)) {
                let mut yn = ArrayViewMut2::from_shape((d.filters, positions), yn).expect("K x P");
                if let Some(b) = bias {
                    for (mut row, &bk) in yn.rows_mut().into_iter().zip(b) {
                        row.fill(bk);
                    }
                }
                let patches = if pointwise {
                    xn
                } else {
                    im2col_image(xn, &d, cols);
                    &cols[..]
                };
                let patches = ArrayView2::from_shape((rows, positions), patches).expect("CKK x P");
                // Y_n = W X_col, computed as its transpose Y_n^T = X_col^T W^T: the long
                // side (the H' W' positions) becomes the rows the kernel walks, which is
                // up to twice as fast when there are few filters.
                general_mat_mul(
                    1.0,
                    &patches.t(),
                    &w_mat.t(),
                    1.0,
                    &mut yn.view_mut().reversed_axes(),
                );
            }
        });
    Ok(y)
}
// ANCHOR_END: conv2d_fast

/// The forward pass by the direct kernels, image by image in parallel chunks.
fn direct_forward_batch(
    d: &ConvDims,
    x: &[f32],
    weight: ArrayView4<f32>,
    bias: Option<ArrayView1<f32>>,
    scratch: &mut ConvScratch,
) -> Array4<f32> {
    let g = direct_forward(d);
    let isa = isa_of(scratch).expect("checked by the caller");
    let tiles = Tiles::of(&g, isa, scratch.kernel);
    tiles.pack(&g, |k, c, u, v| weight[[k, c, u, v]], &mut scratch.packed);
    scratch.offsets = direct::offsets(&g);
    let pixels = direct::pixels(&g);
    let spills = direct::spills(&g);
    let bias: Option<Vec<f32>> = bias.map(|b| b.to_vec());
    let (in_len, out_len) = (
        d.channels * d.height * d.width,
        d.filters * d.out_height * d.out_width,
    );
    let per = chunk_size(d.batch);
    // The padded images are kept for the backward pass (see `conv2d_backward_saved`).
    let plen = g.padded_len();
    scratch.saved.resize(d.batch * plen, 0.0);
    scratch.saved_for = Some(*d);
    scratch.sums.resize_with(CHUNKS, Vec::new);
    scratch.winograd.resize_with(CHUNKS, Default::default);
    let mut y = zeros4_par(d.output_shape());
    let (packed, offsets) = (&scratch.packed, &scratch.offsets);
    y.as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(per * out_len)
        .zip(x.par_chunks(per * in_len))
        .zip(scratch.saved.par_chunks_mut(per * plen))
        .zip(
            scratch
                .sums
                .par_iter_mut()
                .zip(scratch.winograd.par_iter_mut()),
        )
        .for_each(|(((ys, xs), padded), (sums, transforms))| {
            for ((yn, xn), padded) in ys
                .chunks_mut(out_len)
                .zip(xs.chunks(in_len))
                .zip(padded.chunks_mut(plen))
            {
                direct::pad_planes(isa, xn, &g, padded);
                let plan = (&packed[..], &offsets[..], &pixels[..], &spills[..]);
                let b = bias.as_deref();
                correlate_image(isa, &g, tiles, padded, plan, b, yn, (sums, transforms));
            }
        });
    y
}

/// The backward pass by the direct kernels: per chunk, the images padded and their output
/// gradients flattened once, the weight gradient by [`direct::weight_grad`], the
/// input gradient image by image as a correlation of the padded output gradient with the
/// flipped filters.
fn direct_backward_batch(
    d: &ConvDims,
    x: Images,
    weight: ArrayView4<f32>,
    dy: &[f32],
    input_grad: bool,
    scratch: &mut ConvScratch,
) -> FastConvGrads {
    let g = direct_forward(d);
    let gx = direct_input_grad(d);
    let isa = isa_of(scratch).expect("checked by the caller");
    let f = direct::grad_filter_tile(d.filters, isa);
    // The wide kernels for the weight gradient of a multiple of 32 filters (or 16, see
    // `wide_grad_block`); the input gradient's tiles as for a forward pass whose "filters"
    // are the channels.
    let wide_w = direct::wide_grad_block(&g).is_some();
    let tiles_x = Tiles::of(&gx, isa, scratch.kernel);
    let (pixels, pixels_x) = (direct::pixels(&g), direct::pixels(&gx));
    let spills_x = direct::spills(&gx);
    let tap_blocks = if wide_w {
        direct::wide_tap_blocks(&g, isa)
    } else {
        Vec::new()
    };
    let (plane, taps) = (d.out_height * d.out_width, g.taps());
    // Winograd's weight gradient runs within the wide kernels' loop (32 filters or more).
    let fast3_w = wide_w && use_winograd(&g, scratch.kernel);
    if input_grad {
        let (kh, kw) = (d.kernel_height, d.kernel_width);
        let flipped =
            |c: usize, k: usize, u: usize, v: usize| weight[[k, c, kh - 1 - u, kw - 1 - v]];
        tiles_x.pack(&gx, flipped, &mut scratch.packed);
        scratch.offsets = direct::offsets(&gx);
    }
    let (in_len, out_len) = (
        d.channels * d.height * d.width,
        d.filters * d.out_height * d.out_width,
    );
    let per = chunk_size(d.batch);
    let flat_dy_len = d.filters.next_multiple_of(f) * g.vectors() * 16;
    let plen = g.padded_len();
    let to_pad = matches!(x, Images::Raw(_));
    sized(
        &mut scratch.cols,
        CHUNKS,
        if to_pad { per * plen } else { 0 },
    );
    // Per chunk: the flat output gradients of its images, or (wide) one image's output
    // gradient transposed and the chunk's weight gradient transposed.
    let grad_len = if wide_w {
        (plane + direct::wide_grad_rows(&g, isa)) * d.filters
    } else {
        per * flat_dy_len
    };
    sized(&mut scratch.dcols, CHUNKS, grad_len);
    let dx_pad = if input_grad { gx.padded_len() } else { 0 };
    sized(&mut scratch.dy_padded, CHUNKS, dx_pad);
    sized(&mut scratch.dw, CHUNKS, d.filters * g.taps());
    sized(&mut scratch.db, CHUNKS, d.filters);
    let mut dx = input_grad.then(|| zeros4_par((d.batch, d.channels, d.height, d.width)));
    let dx_chunks: Vec<&mut [f32]> = match dx.as_mut() {
        Some(a) => a
            .as_slice_mut()
            .expect("fresh array")
            .chunks_mut(per * in_len)
            .collect(),
        None => (0..d.batch.div_ceil(per)).map(|_| &mut [][..]).collect(),
    };
    let ConvScratch {
        cols,
        dcols,
        dw,
        db,
        dy_padded,
        packed,
        offsets,
        saved,
        sums,
        winograd: transforms,
        ..
    } = scratch;
    sums.resize_with(CHUNKS, Vec::new);
    transforms.resize_with(CHUNKS, Default::default);
    let (packed, offsets) = (&*packed, &*offsets);
    // Per chunk: its images as given (to be padded into `cols`), or already padded.
    let (raw, padded): (&[f32], &[f32]) = match x {
        Images::Raw(x) => (x, &[]),
        Images::Padded => (&[], &saved[..]),
    };
    let sources: Vec<(&[f32], &[f32])> = (0..d.batch.div_ceil(per))
        .map(|c| {
            let images = per.min(d.batch - c * per);
            if raw.is_empty() {
                (&[][..], &padded[c * per * plen..][..images * plen])
            } else {
                (&raw[c * per * in_len..][..images * in_len], &[][..])
            }
        })
        .collect();
    dx_chunks
        .into_par_iter()
        .zip(sources)
        .zip(dy.par_chunks(per * out_len))
        .zip(cols.par_iter_mut())
        .zip(dcols.par_iter_mut())
        .zip(dw.par_iter_mut())
        .zip(db.par_iter_mut())
        .zip(dy_padded.par_iter_mut())
        .zip(sums.par_iter_mut().zip(transforms.par_iter_mut()))
        .for_each(
            |(
                (((((((dxs, (xs, kept)), dys), cols), flat_dy), dw), db), dy_padded),
                (sums, transforms),
            )| {
                dw.fill(0.0);
                db.fill(0.0);
                let flat_dy = direct::aligned(flat_dy);
                // Wide: one image's transposed output gradient, then the transposed weight
                // gradient; else the flat output gradients of every image of the chunk.
                let split = if wide_w {
                    plane * d.filters
                } else {
                    flat_dy.len()
                };
                let (dy_t, dw_t) = flat_dy.split_at_mut(split);
                if wide_w {
                    dw_t[..direct::wide_grad_rows(&g, isa) * d.filters].fill(0.0);
                }
                let images = dys.len() / out_len;
                for (n, dyn_) in dys.chunks(out_len).enumerate() {
                    if !wide_w {
                        for (k, plane) in dyn_.chunks(plane).enumerate() {
                            db[k] += direct::sum16(plane);
                        }
                    }
                    if !xs.is_empty() {
                        let xn = &xs[n * in_len..(n + 1) * in_len];
                        direct::pad_planes(isa, xn, &g, &mut cols[n * plen..(n + 1) * plen]);
                    }
                    if wide_w {
                        let padded = if xs.is_empty() { kept } else { &cols[..] };
                        let padded = &padded[n * plen..(n + 1) * plen];
                        direct::transpose(isa, dyn_, d.filters, plane, None, dy_t);
                        // The bias gradient from the transposed rows (each row is one
                        // position's gradient for every filter).
                        for row in dy_t[..plane * d.filters].chunks_exact(d.filters) {
                            db.iter_mut().zip(row).for_each(|(b, &v)| *b += v);
                        }
                        if fast3_w {
                            winograd::weight_grad_image(isa, &g, padded, dy_t, n == 0, transforms);
                        } else {
                            let at = (&pixels[..], &tap_blocks[..]);
                            direct::weight_grad_wide(isa, &g, padded, dy_t, at, dw_t);
                        }
                    } else {
                        direct::flatten(isa, &g, f, dyn_, &mut dy_t[n * flat_dy_len..]);
                    }
                    if input_grad {
                        let dxn = &mut dxs[n * in_len..(n + 1) * in_len];
                        direct::pad_planes(isa, dyn_, &gx, dy_padded);
                        let plan = (&packed[..], &offsets[..], &pixels_x[..], &spills_x[..]);
                        let scratch = (&mut *sums, &mut *transforms);
                        correlate_image(isa, &gx, tiles_x, dy_padded, plan, None, dxn, scratch);
                    }
                }
                if fast3_w {
                    winograd::weight_grad_finish(isa, &g, transforms, dw);
                } else if wide_w {
                    // dW[k, tap] from its transpose.
                    direct::transpose(isa, dw_t, taps, d.filters, None, dw);
                } else {
                    let padded = if xs.is_empty() { kept } else { &cols[..] };
                    direct::weight_grad(isa, &g, f, padded, dy_t, images, dw);
                }
            },
        );
    sum_partials(d, per, dx, dw, db)
}

/// Where the direct backward pass finds the input images.
#[derive(Clone, Copy)]
enum Images<'a> {
    /// As given, `(N, C, H, W)`: padded chunk by chunk.
    Raw(&'a [f32]),
    /// Padded by the forward pass, in [`ConvScratch`].
    Padded,
}

/// The backward pass of the last [`conv2d_fast`] call with `scratch`, from the padded input
/// that its direct kernels kept (see [`ConvScratch::saved_input`]): the same gradients as
/// [`conv2d_backward_fast`] with that input, without the caller keeping a copy of it.
///
/// # Errors
/// If the last forward pass kept no input (it ran im2col + GEMM, or never ran), or the
/// weights or the output gradient do not fit the convolution it ran.
pub fn conv2d_backward_saved(
    weight: ArrayView4<f32>,
    grad_output: ArrayView4<f32>,
    input_grad: bool,
    scratch: &mut ConvScratch,
) -> Result<FastConvGrads> {
    isa_of(scratch)?;
    let d = scratch.saved_for.ok_or_else(|| {
        Error::Shape("no input kept: run conv2d_fast with the direct kernels first".into())
    })?;
    let weights = (d.filters, d.channels, d.kernel_height, d.kernel_width);
    if weight.dim() != weights || grad_output.dim() != d.output_shape() {
        return Err(Error::Shape(format!(
            "weights {:?} and output gradient {:?}; the kept input needs {weights:?} and {:?}",
            weight.dim(),
            grad_output.dim(),
            d.output_shape()
        )));
    }
    let dy = grad_output.as_standard_layout();
    let dy = dy.as_slice().expect("standard layout");
    Ok(direct_backward_batch(
        &d,
        Images::Padded,
        weight,
        dy,
        input_grad,
        scratch,
    ))
}

/// Adds the chunks' partial weight and bias gradients in chunk order.
fn sum_partials(
    d: &ConvDims,
    per: usize,
    dx: Option<Array4<f32>>,
    dw: &[Vec<f32>],
    db: &[Vec<f32>],
) -> FastConvGrads {
    let mut weight = Array4::<f32>::zeros((d.filters, d.channels, d.kernel_height, d.kernel_width));
    let mut bias = Array1::<f32>::zeros(d.filters);
    let used = d.batch.div_ceil(per);
    let ws = weight.as_slice_mut().expect("fresh array");
    for part in &dw[..used] {
        for (a, b) in ws.iter_mut().zip(part) {
            *a += b;
        }
    }
    for part in &db[..used] {
        for (a, b) in bias.iter_mut().zip(part) {
            *a += b;
        }
    }
    FastConvGrads {
        input: dx,
        weight,
        bias,
    }
}

/// The gradients of a convolution; `input` is `None` when it was not asked for.
#[derive(Debug, Clone)]
pub struct FastConvGrads {
    pub input: Option<Array4<f32>>,
    pub weight: Array4<f32>,
    pub bias: Array1<f32>,
}

/// What a convolutional layer running the fast kernels keeps between its forward and
/// backward passes: the buffers of a [`ConvScratch`] and, unless the direct kernels kept a
/// padded copy of it there, the input.
#[derive(Debug, Clone, Default)]
pub struct FastConv {
    pub scratch: ConvScratch,
    input: Option<Array4<f32>>,
}

impl FastConv {
    /// [`conv2d_fast`], remembering what [`FastConv::backward`] needs.
    pub fn forward(
        &mut self,
        input: ArrayView4<f32>,
        weight: ArrayView4<f32>,
        bias: Option<ArrayView1<f32>>,
        config: Conv2dConfig,
    ) -> Result<Array4<f32>> {
        self.forget();
        let y = conv2d_fast(input, weight, bias, config, &mut self.scratch)?;
        if self.scratch.saved_for.is_none() {
            self.input = Some(input.to_owned());
        }
        Ok(y)
    }

    /// Forgets the last forward pass: a backward pass now is an error.
    pub fn forget(&mut self) {
        self.input = None;
        self.scratch.saved_for = None;
    }

    /// The gradients of the last forward pass (the input gradient only if `input_grad`).
    pub fn backward(
        &mut self,
        weight: ArrayView4<f32>,
        grad_output: ArrayView4<f32>,
        config: Conv2dConfig,
        input_grad: bool,
    ) -> Result<FastConvGrads> {
        match &self.input {
            Some(x) => conv2d_backward_fast(
                x.view(),
                weight,
                grad_output,
                config,
                input_grad,
                &mut self.scratch,
            ),
            None if self.scratch.saved_for.is_some() => {
                conv2d_backward_saved(weight, grad_output, input_grad, &mut self.scratch)
            }
            None => Err(Error::Shape(
                "Conv2d: backward called before forward (nothing cached)".into(),
            )),
        }
    }
}

// ANCHOR: conv2d_backward_fast
/// The backward pass of [`conv2d_fast`] for the output gradient `grad_output`: the same
/// gradients as [`crate::conv::conv2d_backward_naive`]. With `input_grad == false` the
/// input gradient (the larger half of the work for a first layer) is not computed.
pub fn conv2d_backward_fast(
    input: ArrayView4<f32>,
    weight: ArrayView4<f32>,
    grad_output: ArrayView4<f32>,
    config: Conv2dConfig,
    input_grad: bool,
    scratch: &mut ConvScratch,
) -> Result<FastConvGrads> {
    let d = ConvDims::new(input.dim(), weight.dim(), config)?;
    d.check_grad_output(grad_output.dim())?;
    isa_of(scratch)?;
    let x = input.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    let dy = grad_output.as_standard_layout();
    let dy = dy.as_slice().expect("standard layout");
    if use_direct(&d, scratch.kernel) {
        return Ok(direct_backward_batch(
            &d,
            Images::Raw(x),
            weight,
            dy,
            input_grad,
            scratch,
        ));
    }
    let w = weight.as_standard_layout();
    let rows = d.channels * d.kernel_height * d.kernel_width;
    let w_mat = w.to_shape((d.filters, rows)).expect("(K, C KH KW)");
    let positions = d.out_height * d.out_width;
    let (in_len, out_len) = (d.channels * d.height * d.width, d.filters * positions);
    let per = chunk_size(d.batch);
    let pointwise = is_pointwise(&d);
    let patch_len = if pointwise { 0 } else { rows * positions };
    sized(&mut scratch.cols, CHUNKS, patch_len);
    sized(
        &mut scratch.dcols,
        CHUNKS,
        if input_grad { patch_len } else { 0 },
    );
    sized(&mut scratch.dw, CHUNKS, d.filters * rows);
    sized(&mut scratch.db, CHUNKS, d.filters);
    let mut dx = input_grad.then(|| zeros4_par(input.dim()));
    let mut empty: Vec<f32> = Vec::new();
    let dxs: &mut [f32] = match dx.as_mut() {
        Some(a) => a.as_slice_mut().expect("fresh array"),
        None => &mut empty,
    };
    // Without an input gradient, hand every chunk an empty slice of it.
    let dx_chunk = if input_grad { per * in_len } else { 1 };
    let dx_chunks: Vec<&mut [f32]> = if input_grad {
        dxs.chunks_mut(dx_chunk).collect()
    } else {
        (0..d.batch.div_ceil(per)).map(|_| &mut [][..]).collect()
    };
    let ConvScratch {
        cols,
        dcols,
        dw,
        db,
        ..
    } = scratch;
    dx_chunks
        .into_par_iter()
        .zip(x.par_chunks(per * in_len))
        .zip(dy.par_chunks(per * out_len))
        .zip(cols.par_iter_mut())
        .zip(dcols.par_iter_mut())
        .zip(dw.par_iter_mut())
        .zip(db.par_iter_mut())
        .for_each(|((((((dxs, xs), dys), cols), dcols), dw), db)| {
            dw.fill(0.0);
            db.fill(0.0);
            let mut dw =
                ArrayViewMut2::from_shape((d.filters, rows), &mut dw[..]).expect("K x CKK");
            for (n, (xn, dyn_)) in xs.chunks(in_len).zip(dys.chunks(out_len)).enumerate() {
                let dyn_ = ArrayView2::from_shape((d.filters, positions), dyn_).expect("K x P");
                for (k, row) in dyn_.rows().into_iter().enumerate() {
                    db[k] += row.sum();
                }
                let patches = if pointwise {
                    xn
                } else {
                    im2col_image(xn, &d, cols);
                    &cols[..]
                };
                let patches = ArrayView2::from_shape((rows, positions), patches).expect("CKK x P");
                // dW += dY_n X_col^T, as its transpose dW^T += X_col dY_n^T (see forward).
                general_mat_mul(
                    1.0,
                    &patches,
                    &dyn_.t(),
                    1.0,
                    &mut dw.view_mut().reversed_axes(),
                );
                if input_grad {
                    let dxn = &mut dxs[n * in_len..(n + 1) * in_len];
                    if pointwise {
                        let mut dxn =
                            ArrayViewMut2::from_shape((rows, positions), dxn).expect("C x P");
                        general_mat_mul(1.0, &w_mat.t(), &dyn_, 0.0, &mut dxn);
                    } else {
                        let mut dc = ArrayViewMut2::from_shape((rows, positions), &mut dcols[..])
                            .expect("CKK x P");
                        // dX_col = W^T dY_n, then folded back onto the image.
                        general_mat_mul(1.0, &w_mat.t(), &dyn_, 0.0, &mut dc);
                        col2im_image(dcols, &d, dxn);
                    }
                }
            }
        });
    // Partial gradients added in chunk order: the same result for any number of threads.
    Ok(sum_partials(&d, per, dx, dw, db))
}
// ANCHOR_END: conv2d_backward_fast
