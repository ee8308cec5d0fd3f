//! Winograd's minimal filtering F(2 x 2, 3 x 3) for 3 x 3 convolutions (chapter
//! `16-fast-convolution`).
//!
//! A 2 x 2 block of outputs of a 3 x 3 correlation reads a 4 x 4 patch `d` of the padded
//! input and costs 36 multiply-adds per channel. Winograd's algorithm (Lavin and Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2016) computes the same block as
//!
//! ```text
//! Y = A^T [ (G g G^T) * (B^T d B) ] A
//! ```
//!
//! with `*` element by element: 16 multiplications per channel instead of 36. The filter
//! transform `G g G^T` is done once per batch; the input transform `B^T d B` and the
//! output transform `A^T m A` use only additions. With the 16 transformed positions `xi`
//! written as matrices, the multiplications become 16 independent matrix products, one
//! per `xi`: `M_xi[tile, k] = sum over c of V_xi[c, tile] U_xi[c, k]`, which the wide
//! kernels of [`crate::fast::direct`] compute (the channels play the taps, the tiles the
//! positions).
//!
//! The price: the transforms write and read four times the input (16 numbers per 4 x 4
//! patch per channel); the rounding changes, since inputs are added and subtracted before
//! they are multiplied (the tests hold the results to the same tolerance against the
//! naive loops as every fast path); and only 2 x 2 blocks of outputs come out, so the
//! output must have an even number of rows and columns here.
//!
//! The weight gradient is the same formula differentiated (see [`weight_grad_image`]).

use crate::fast::direct::{self, wide_sums, wide_sums_len, Direct, WIDE};
#[cfg(target_arch = "x86_64")]
use crate::fast::simd::Avx512;
use crate::fast::simd::{with_simd, Bounded, Isa, Simd, LANES};

/// Transformed positions per tile: 4 x 4.
const XI: usize = 16;

/// Tiles per vector of a padded row in the input transform: 7 tiles of 2 outputs read 16
/// columns.
const ROW_TILES: usize = 7;

/// Whether F(2 x 2, 3 x 3) runs the correlation `g`: a 3 x 3 filter, an output with an
/// even number of rows and columns, and a multiple of 64 filters (the wide kernels do the
/// products).
pub(crate) fn applies(g: &Direct) -> bool {
    g.kh == 3
        && g.kw == 3
        && g.out_h().is_multiple_of(2)
        && g.out_w().is_multiple_of(2)
        && g.out_h() > 0
        && g.out_w() > 0
        && direct::is_wide(g.dst_c)
}

/// Tiles of 2 x 2 outputs of `g`: rows and columns.
fn tiles(g: &Direct) -> (usize, usize) {
    (g.out_h() / 2, g.out_w() / 2)
}

/// Slots per row of tiles in the transformed inputs: 8 for every 7 tiles, so that each
/// vector of 7 tiles is stored as 8 aligned lanes (the eighth slot is never read).
fn row_slots(g: &Direct) -> usize {
    tiles(g).1.div_ceil(ROW_TILES) * 8
}

/// The slot of every tile, row by row.
fn slots(g: &Direct) -> Vec<usize> {
    let (th, tw) = tiles(g);
    let rs = row_slots(g);
    (0..th)
        .flat_map(|ti| (0..tw).map(move |tj| ti * rs + tj / ROW_TILES * 8 + tj % ROW_TILES))
        .collect()
}

/// The transformed filters `U_xi = G g G^T`, for every block of 64 filters, `xi` and
/// channel a row of 64 filters: entry `((b XI + xi) C + c) 64 + k % 64` for filter `k` of
/// block `b = k / 64`. `weight(k, c, u, v)` is tap `(u, v)` of the 3 x 3 filter `k` on
/// channel `c`.
pub(crate) fn transform_filters(
    g: &Direct,
    weight: impl Fn(usize, usize, usize, usize) -> f32,
    out: &mut Vec<f32>,
) {
    let c_count = g.src_c;
    out.clear();
    out.resize(g.dst_c * XI * c_count, 0.0);
    for k in 0..g.dst_c {
        let (b, kk) = (k / WIDE, k % WIDE);
        for c in 0..c_count {
            // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], first on the rows of the
            // filter, then on the columns.
            let f = |u: usize, v: usize| weight(k, c, u, v);
            let rows: [[f32; 3]; 4] = std::array::from_fn(|i| {
                std::array::from_fn(|v| match i {
                    0 => f(0, v),
                    1 => 0.5 * (f(0, v) + f(1, v) + f(2, v)),
                    2 => 0.5 * (f(0, v) - f(1, v) + f(2, v)),
                    _ => f(2, v),
                })
            });
            for (i, r) in rows.iter().enumerate() {
                let u = [
                    r[0],
                    0.5 * (r[0] + r[1] + r[2]),
                    0.5 * (r[0] - r[1] + r[2]),
                    r[2],
                ];
                for (j, &value) in u.iter().enumerate() {
                    out[((b * XI + 4 * i + j) * c_count + c) * WIDE + kk] = value;
                }
            }
        }
    }
}

/// Buffers of one chunk's transforms, reused image after image.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    /// `V_xi[c, tile]`: `XI` matrices of `C x tiles`.
    inputs: Vec<f32>,
    /// `M_xi[tile, k]` for one block of 64 filters: `XI` matrices of whole tiles of
    /// positions by 64.
    products: Vec<f32>,
    /// The block's outputs, `(position, filter)`, before the transpose into planes.
    outputs: Vec<f32>,
    /// The weight gradient's transformed output gradients, `(A dY A^T)_xi[tile, k]`.
    grads: Vec<f32>,
    /// The weight gradient's sums over the images so far, `S_xi[c, k]` per block of 64
    /// filters.
    weight_sums: Vec<f32>,
}

// ANCHOR: correlate
/// The correlation `g` of one padded image (laid out as [`direct::pad_planes`] pads
/// it) by F(2 x 2, 3 x 3), straight into `dst` (`dst_c` planes of `out_h x out_w`, every
/// entry written, `bias` added). `filters` comes from [`transform_filters`].
///
/// # Panics
/// If [`applies`] does not hold for `g`, or `padded` or `filters` are too short.
pub(crate) fn correlate(
    isa: Isa,
    g: &Direct,
    padded: &[f32],
    filters: &[f32],
    bias: Option<&[f32]>,
    dst: &mut [f32],
    scratch: &mut Scratch,
) {
    assert!(applies(g), "F(2x2, 3x3) does not apply to {g:?}");
    let (th, tw) = tiles(g);
    let (count, c_count) = (th * tw, g.src_c);
    let width = th * row_slots(g);
    let plane = g.out_h() * g.out_w();
    assert!(filters.len() >= g.dst_c * XI * c_count && dst.len() >= g.dst_c * plane);
    let inputs = transform_input(isa, g, padded, &mut scratch.inputs);
    // Channel c of V_xi starts at c * width: the channels are the "taps" of the products,
    // the tiles' slots the positions.
    let offsets: Vec<usize> = (0..c_count).map(|c| c * width).collect();
    let offsets = Bounded::new(&offsets);
    let positions = slots(g);
    let stride = wide_sums_len(count, WIDE);
    scratch.products.resize(XI * stride, 0.0);
    scratch.outputs.resize(plane * WIDE, 0.0);
    for b in 0..g.dst_c / WIDE {
        for xi in 0..XI {
            let v = &inputs[xi * c_count * width..(xi + 1) * c_count * width];
            let u = &filters[(b * XI + xi) * c_count * WIDE..][..c_count * WIDE];
            let m = &mut scratch.products[xi * stride..(xi + 1) * stride];
            wide_sums(isa, WIDE, v, (u, offsets), &positions, m, false);
        }
        transform_output(isa, g, &scratch.products, stride, &mut scratch.outputs);
        let planes = &mut dst[b * WIDE * plane..(b + 1) * WIDE * plane];
        let shift = bias.map(|bias| &bias[b * WIDE..(b + 1) * WIDE]);
        direct::transpose(isa, &scratch.outputs, plane, WIDE, shift, planes);
    }
}

// ANCHOR_END: correlate

/// `V_xi[c, slot] = (B^T d B)[xi]` for every channel and tile of one padded image, with
/// `d` the tile's 4 x 4 patch and `B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]`; the
/// tiles at their [`slots`], rows of `th * row_slots` slots. Written into `buffer`
/// (resized) from its first 64-byte boundary on, which is returned.
fn transform_input<'a>(
    isa: Isa,
    g: &Direct,
    padded: &[f32],
    buffer: &'a mut Vec<f32>,
) -> &'a [f32] {
    let (hp, wp) = g.padded();
    assert!(padded.len() >= g.src_c * hp * wp);
    buffer.resize(XI * g.src_c * tiles(g).0 * row_slots(g) + LANES, 0.0);
    let v = direct::aligned(buffer);
    assert!(v.len() >= XI * g.src_c * tiles(g).0 * row_slots(g));
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx512 {
        let t = Avx512::new().expect("AVX-512 asked for on a CPU without it");
        t.run(
            #[inline(always)]
            |t| transform_input_avx512(t, g, padded, v),
        );
        return v;
    }
    let _ = isa;
    transform_input_portable(g, padded, v);
    v
}

/// The place of entry `xi` of the first tile of a row of 7: `((xi C + c) width + ti rs +
/// t0 / 7 * 8`.
fn row_places(g: &Direct, c: usize, ti: usize, t0: usize) -> [usize; XI] {
    let (th, rs, c_count) = (tiles(g).0, row_slots(g), g.src_c);
    let width = th * rs; // slots of one channel of one V_xi
    std::array::from_fn(|xi| (xi * c_count + c) * width + ti * rs + t0 / ROW_TILES * 8)
}

/// With AVX-512: 7 tiles of a row at once, B^T on the rows of their patches as vectors,
/// then on the columns by permutations ([`Avx512::winograd_row`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn transform_input_avx512(t: Avx512, g: &Direct, padded: &[f32], v: &mut [f32]) {
    let (_, wp) = g.padded();
    let (th, tw) = tiles(g);
    let plane = g.padded().0 * wp;
    for c in 0..g.src_c {
        for ti in 0..th {
            for t0 in (0..tw).step_by(ROW_TILES) {
                let n = ROW_TILES.min(tw - t0);
                // Columns 2 t0 .. 2 t0 + 2 n + 1 of rows 2 ti .. 2 ti + 3: inside the plane
                // (2 tw + 2 = Wp columns, 2 th + 2 = Hp rows).
                let columns = 2 * n + 2;
                let rows: [&[f32]; 4] = std::array::from_fn(|r| {
                    let at = c * plane + (2 * ti + r) * wp + 2 * t0;
                    &padded[at..at + columns.min(LANES)]
                });
                t.winograd_row(rows, columns, v, &row_places(g, c, ti, t0));
            }
        }
    }
}

/// Tile by tile: the same additions and subtractions as the AVX-512 version, in the same
/// order (B^T on the rows of the patch, then on its columns), so the same bits.
fn transform_input_portable(g: &Direct, padded: &[f32], v: &mut [f32]) {
    let (_, wp) = g.padded();
    let (th, tw) = tiles(g);
    let plane = g.padded().0 * wp;
    for c in 0..g.src_c {
        for ti in 0..th {
            for t0 in (0..tw).step_by(ROW_TILES) {
                let places = row_places(g, c, ti, t0);
                for l in 0..ROW_TILES.min(tw - t0) {
                    let at = c * plane + 2 * ti * wp + 2 * (t0 + l);
                    let d: [[f32; 4]; 4] =
                        std::array::from_fn(|r| padded[at + r * wp..][..4].try_into().unwrap());
                    let [d0, d1, d2, d3] = d;
                    let t: [[f32; 4]; 4] = [
                        std::array::from_fn(|j| d0[j] - d2[j]),
                        std::array::from_fn(|j| d1[j] + d2[j]),
                        std::array::from_fn(|j| d2[j] - d1[j]),
                        std::array::from_fn(|j| d1[j] - d3[j]),
                    ];
                    for (i, [e0, e1, e2, e3]) in t.into_iter().enumerate() {
                        let u = [e0 - e2, e1 + e2, e2 - e1, e1 - e3];
                        for (j, value) in u.into_iter().enumerate() {
                            v[places[4 * i + j] + l] = value;
                        }
                    }
                }
            }
        }
    }
}

/// The outputs `A^T m A` of every tile, `A^T = [1 1 1 0; 0 1 -1 -1]`, from the products
/// `m` of one block of 64 filters (matrix `xi` at `xi * stride`, rows of 64 filters), into
/// `out[(position, filter)]`.
fn transform_output(isa: Isa, g: &Direct, products: &[f32], stride: usize, out: &mut [f32]) {
    let (th, tw) = tiles(g);
    let ow = g.out_w();
    assert!(products.len() >= (XI - 1) * stride + th * tw * WIDE);
    assert!(out.len() >= g.out_h() * ow * WIDE);
    with_simd!(isa, s => transform_output_in(s, g, products, stride, out))
}

#[inline(always)]
fn transform_output_in<S: Simd>(
    s: S,
    g: &Direct,
    products: &[f32],
    stride: usize,
    out: &mut [f32],
) {
    let (th, tw) = tiles(g);
    let ow = g.out_w();
    let vector = |x: &[f32]| -> [f32; LANES] { x[..LANES].try_into().expect("16 floats") };
    for ti in 0..th {
        for tj in 0..tw {
            let tile = ti * tw + tj;
            for lane0 in (0..WIDE).step_by(LANES) {
                let p: [S::V; XI] = std::array::from_fn(|xi| {
                    s.load(&vector(&products[xi * stride + tile * WIDE + lane0..]))
                });
                // A^T on the rows (i) of the 4 x 4 products, then on the columns.
                let s2: [[S::V; 4]; 2] = [
                    std::array::from_fn(|j| s.add(s.add(p[j], p[4 + j]), p[8 + j])),
                    std::array::from_fn(|j| s.sub(s.sub(p[4 + j], p[8 + j]), p[12 + j])),
                ];
                for (a, r) in s2.iter().enumerate() {
                    let y = [
                        s.add(s.add(r[0], r[1]), r[2]),
                        s.sub(s.sub(r[1], r[2]), r[3]),
                    ];
                    for (bcol, &value) in y.iter().enumerate() {
                        let position = (2 * ti + a) * ow + 2 * tj + bcol;
                        let at = position * WIDE + lane0;
                        s.store(value, (&mut out[at..at + LANES]).try_into().expect("16"));
                    }
                }
            }
        }
    }
}

// The weight gradient. In one dimension F(2, 3) computes y_i = sum_u g_u d_(i+u) as
// A^T [(G g) * (B^T d)]; the derivative of sum_i e_i y_i with respect to g_u is
// sum_i e_i d_(i+u), the weight gradient of one tile, and it reads
// G^T [(A e) * (B^T d)]. In two dimensions, per tile of 2 x 2 output gradients e:
//
//     dW = G^T [ (A e A^T) * (B^T d B) ] G,
//
// with the same matrices and the same input transform as the forward pass. The sum over
// all tiles of all images is taken in the transformed domain, 16 products
// S_xi[c, k] = sum over tiles of V_xi[c, tile] E_xi[tile, k], and G^T S G is applied once
// at the end.

/// Adds one image's products to the weight gradient's sums (`first`: the first image of
/// the sums). `padded` is the image padded as for [`correlate`], `dy_t` its output
/// gradient transposed to `(position, filter)`, rows of `dst_c`.
///
/// # Panics
/// If [`applies`] does not hold for `g`, or a slice is too short.
pub(crate) fn weight_grad_image(
    isa: Isa,
    g: &Direct,
    padded: &[f32],
    dy_t: &[f32],
    first: bool,
    scratch: &mut Scratch,
) {
    assert!(applies(g), "F(2x2, 3x3) does not apply to {g:?}");
    let (th, tw) = tiles(g);
    let (count, c_count, k_count) = (th * tw, g.src_c, g.dst_c);
    let width = th * row_slots(g);
    assert!(dy_t.len() >= g.out_h() * g.out_w() * k_count);
    let inputs = transform_input(isa, g, padded, &mut scratch.inputs);
    scratch.grads.resize(k_count * XI * count, 0.0);
    transform_grads(isa, g, dy_t, &mut scratch.grads);
    // The tiles are the "taps" (their slots in V_xi, and rows of E_xi), the channels the
    // positions (rows of V_xi).
    let taps = slots(g);
    let taps = Bounded::new(&taps);
    let positions: Vec<usize> = (0..c_count).map(|c| c * width).collect();
    let stride = wide_sums_len(c_count, WIDE);
    scratch
        .weight_sums
        .resize(k_count / WIDE * XI * stride, 0.0);
    for b in 0..k_count / WIDE {
        for xi in 0..XI {
            let v = &inputs[xi * c_count * width..(xi + 1) * c_count * width];
            let e = &scratch.grads[(b * XI + xi) * count * WIDE..][..count * WIDE];
            let sums = &mut scratch.weight_sums[(b * XI + xi) * stride..][..stride];
            wide_sums(isa, WIDE, v, (e, taps), &positions, sums, !first);
        }
    }
}

/// The weight gradient from the sums of [`weight_grad_image`]: `dw[(k, c, u, v)]` (the
/// layout of `W`) = `(G^T S[c, k] G)[u, v]`, with `G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0;
/// 0 1/2 1/2 1]`, 16 filters at a time into rows of 64 filters per tap, then transposed.
pub(crate) fn weight_grad_finish(isa: Isa, g: &Direct, scratch: &mut Scratch, dw: &mut [f32]) {
    let (c_count, k_count) = (g.src_c, g.dst_c);
    let taps = c_count * 9;
    let stride = wide_sums_len(c_count, WIDE);
    assert!(dw.len() >= k_count * taps);
    assert!(scratch.weight_sums.len() >= k_count / WIDE * XI * stride);
    scratch.outputs.resize(taps * WIDE, 0.0);
    for b in 0..k_count / WIDE {
        let sums = &scratch.weight_sums[b * XI * stride..(b + 1) * XI * stride];
        for c in 0..c_count {
            for kk in (0..WIDE).step_by(LANES) {
                let s: [[f32; LANES]; XI] = std::array::from_fn(|xi| {
                    std::array::from_fn(|l| sums[xi * stride + c * WIDE + kk + l])
                });
                // G^T on the rows of S (xi = 4 i + j), then on the columns, lane by lane.
                let gt =
                    |a: &[f32; LANES], b: &[f32; LANES], c: &[f32; LANES], d: &[f32; LANES]| {
                        let mut out = [[0.0f32; LANES]; 3];
                        for l in 0..LANES {
                            out[0][l] = a[l] + 0.5 * (b[l] + c[l]);
                            out[1][l] = 0.5 * (b[l] - c[l]);
                            out[2][l] = 0.5 * (b[l] + c[l]) + d[l];
                        }
                        out
                    };
                let cols: [[[f32; LANES]; 3]; 4] =
                    std::array::from_fn(|j| gt(&s[j], &s[4 + j], &s[8 + j], &s[12 + j]));
                let [c0, c1, c2, c3] = &cols;
                let rows = c0.iter().zip(c1).zip(c2.iter().zip(c3));
                for (u, ((r0, r1), (r2, r3))) in rows.enumerate() {
                    let w = gt(r0, r1, r2, r3);
                    for (v, w) in w.iter().enumerate() {
                        let row = c * 9 + u * 3 + v;
                        scratch.outputs[row * WIDE + kk..][..LANES].copy_from_slice(w);
                    }
                }
            }
        }
        // Rows of 64 filters per tap into the rows of the filters, `(k, tap)`.
        let block = &mut dw[b * WIDE * taps..(b + 1) * WIDE * taps];
        direct::transpose(isa, &scratch.outputs, taps, WIDE, None, block);
    }
}

/// `E_xi[tile, k] = (A e A^T)[xi]` for every tile of 2 x 2 output gradients `e` and every
/// filter, `A = [1 0; 1 1; 1 -1; 0 -1]`: matrix `(b XI + xi)` of `tiles x 64` for the
/// block `b` of 64 filters. `dy_t` holds the output gradient as `(position, filter)`.
fn transform_grads(isa: Isa, g: &Direct, dy_t: &[f32], e: &mut [f32]) {
    let (th, tw) = tiles(g);
    assert!(dy_t.len() >= g.out_h() * g.out_w() * g.dst_c);
    assert!(e.len() >= g.dst_c * XI * th * tw);
    with_simd!(isa, s => transform_grads_in(s, g, dy_t, e))
}

#[inline(always)]
fn transform_grads_in<S: Simd>(s: S, g: &Direct, dy_t: &[f32], e: &mut [f32]) {
    let (th, tw) = tiles(g);
    let (count, ow, k_count) = (th * tw, g.out_w(), g.dst_c);
    let vector = |x: &[f32]| -> [f32; LANES] { x[..LANES].try_into().expect("16 floats") };
    for ti in 0..th {
        for tj in 0..tw {
            let tile = ti * tw + tj;
            let p = (2 * ti) * ow + 2 * tj;
            for k0 in (0..k_count).step_by(LANES) {
                let [a, b, c, dd] = [p, p + 1, p + ow, p + ow + 1]
                    .map(|q| s.load(&vector(&dy_t[q * k_count + k0..])));
                // A on the rows of the tile [a b; c dd], then on the columns.
                let rows = [
                    [a, b],
                    [s.add(a, c), s.add(b, dd)],
                    [s.sub(a, c), s.sub(b, dd)],
                    [s.sub(s.zero(), c), s.sub(s.zero(), dd)],
                ];
                let (blk, kk) = (k0 / WIDE, k0 % WIDE);
                for (i, [x, y]) in rows.into_iter().enumerate() {
                    let cols = [x, s.add(x, y), s.sub(x, y), s.sub(s.zero(), y)];
                    for (j, value) in cols.into_iter().enumerate() {
                        let at = ((blk * XI + 4 * i + j) * count + tile) * WIDE + kk;
                        s.store(value, (&mut e[at..at + LANES]).try_into().expect("16"));
                    }
                }
            }
        }
    }
}
