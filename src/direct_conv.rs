//! Direct convolution with a register-blocked micro-kernel (chapter `16-fast-convolution`).
//!
//! im2col + GEMM pays for a patch matrix `F^2` times the size of the input, written once
//! and then copied again by the GEMM's packing. When there are few filters, each entry of
//! that matrix is used only `K` times, and the copies cost as much as the arithmetic. A
//! *direct* convolution reads the (zero-padded) image itself:
//!
//! - 16 filters and 16 neighbouring output positions form a tile of `16 x 16` sums held
//!   in sixteen AVX-512 vector registers;
//! - for every input channel `c` and filter tap `(u, v)`, the 16 inputs under the tile are
//!   one contiguous load from the padded row (the window moves one column per output), and
//!   each of the 16 filters adds `w[k, c, u, v] * inputs` with one fused multiply-add;
//! - the tile is written to the output once, at the end.
//!
//! Only the forward pass runs here. The backward pass stays with im2col + GEMM: a direct
//! weight gradient (sixteen filters' `dY * shifted input` accumulated over positions) loads
//! as many numbers as it multiplies and measured slower than the GEMM on every shape, and
//! the input gradient (the same kernel on the output gradient with flipped, transposed
//! filters) gained nothing over `W^T dY` + col2im.
//!
//! The kernels are written with the AVX-512 intrinsics of `std::arch` (plain loops over
//! arrays were vectorized by the compiler along the wrong axis, with gathers, and ran many
//! times slower). They only run on stride-1 convolutions, after the CPU has been asked
//! whether it has AVX-512; elsewhere the GEMM path runs. The `unsafe` blocks are the
//! vector loads and stores from slices whose length was checked just before, and the calls
//! into the AVX-512 functions after the CPU check.

/// Filters per tile: one vector register per filter.
const TILE_K: usize = 16;

/// The vector width of the direct kernels on this CPU: 16 floats with AVX-512, or `None`
/// (no direct kernels; the GEMM path runs instead).
pub fn lanes() -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return Some(16);
        }
    }
    None
}

/// The shape of one direct correlation: `src_c` planes of `src_h x src_w` in, padded by
/// `(pad_h, pad_w)`, correlated with `dst_c` filters of `kh x kw`, stride 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Direct {
    pub src_c: usize,
    pub src_h: usize,
    pub src_w: usize,
    pub pad_h: usize,
    pub pad_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub dst_c: usize,
    pub lanes: usize,
}

impl Direct {
    pub fn out_h(&self) -> usize {
        self.src_h + 2 * self.pad_h + 1 - self.kh
    }

    pub fn out_w(&self) -> usize {
        self.src_w + 2 * self.pad_w + 1 - self.kw
    }

    /// Output columns rounded up to whole vectors.
    fn out_w_rounded(&self) -> usize {
        self.out_w().div_ceil(self.lanes) * self.lanes
    }

    /// Rows and columns of a padded input plane: room for every load of every tile.
    pub fn padded(&self) -> (usize, usize) {
        (
            self.src_h + 2 * self.pad_h,
            self.out_w_rounded() + self.kw - 1,
        )
    }

    pub fn padded_len(&self) -> usize {
        let (hp, wp) = self.padded();
        self.src_c * hp * wp
    }

    /// Filter blocks of [`TILE_K`].
    pub fn blocks(&self) -> usize {
        self.dst_c.div_ceil(TILE_K)
    }

    pub fn packed_len(&self) -> usize {
        self.blocks() * self.src_c * self.kh * self.kw * TILE_K
    }
}

/// Copies `src` (`src_c` planes) into the zero-padded layout of [`Direct::padded`]: every
/// entry of `out` is written.
pub(crate) fn pad_planes(src: &[f32], g: &Direct, out: &mut [f32]) {
    let (hp, wp) = g.padded();
    let out = &mut out[..g.src_c * hp * wp];
    out.fill(0.0);
    for c in 0..g.src_c {
        for r in 0..g.src_h {
            let from = &src[(c * g.src_h + r) * g.src_w..][..g.src_w];
            let to = (c * hp + r + g.pad_h) * wp + g.pad_w;
            out[to..to + g.src_w].copy_from_slice(from);
        }
    }
}

/// Packs filters for the kernel: `packed[((block, c, u, v), kk)]`, 16 filters side by side,
/// zeros for the missing filters of a last, partial block. `weight(k, c, u, v)` reads the
/// filters in whatever layout the caller has (the forward pass reads `W[k, c, u, v]`, the
/// input gradient the flipped, transposed `W[c, k, KH-1-u, KW-1-v]`).
pub(crate) fn pack_filters(
    g: &Direct,
    weight: impl Fn(usize, usize, usize, usize) -> f32,
    packed: &mut Vec<f32>,
) {
    packed.clear();
    packed.resize(g.packed_len(), 0.0);
    for b in 0..g.blocks() {
        for c in 0..g.src_c {
            for u in 0..g.kh {
                for v in 0..g.kw {
                    let at = (((b * g.src_c + c) * g.kh + u) * g.kw + v) * TILE_K;
                    for kk in 0..TILE_K.min(g.dst_c - b * TILE_K) {
                        packed[at + kk] = weight(b * TILE_K + kk, c, u, v);
                    }
                }
            }
        }
    }
}

// ANCHOR: tile
/// The correlation of one image: `dst` (`dst_c` planes of `out_h x out_w`) is set to
/// `bias + correlation`, every entry written. `padded` holds the input planes padded (see
/// [`Direct::padded`]), `packed` the filters (see [`pack_filters`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn correlate_avx512(
    g: &Direct,
    padded: &[f32],
    packed: &[f32],
    bias: Option<&[f32]>,
    dst: &mut [f32],
) {
    use std::arch::x86_64::*;
    let (hp, wp) = g.padded();
    let (oh, ow) = (g.out_h(), g.out_w());
    for b in 0..g.blocks() {
        let filters = TILE_K.min(g.dst_c - b * TILE_K);
        for i in 0..oh {
            for j0 in (0..ow).step_by(16) {
                // A tile of 16 filters x 16 neighbouring outputs: sixteen vector registers.
                let mut acc = [_mm512_setzero_ps(); TILE_K];
                for c in 0..g.src_c {
                    for u in 0..g.kh {
                        let row = &padded[(c * hp + i + u) * wp..][..wp];
                        for v in 0..g.kw {
                            // The 16 inputs under the tile for tap (u, v): one load.
                            let x = &row[j0 + v..j0 + v + 16];
                            // SAFETY: `x` holds 16 floats (the slice above is checked).
                            let x = unsafe { _mm512_loadu_ps(x.as_ptr()) };
                            let at = (((b * g.src_c + c) * g.kh + u) * g.kw + v) * TILE_K;
                            let w = &packed[at..at + TILE_K];
                            for (acc_k, &w_k) in acc.iter_mut().zip(w) {
                                *acc_k = _mm512_fmadd_ps(_mm512_set1_ps(w_k), x, *acc_k);
                            }
                        }
                    }
                }
                let n = 16.min(ow - j0);
                for (kk, &acc_k) in acc.iter().enumerate().take(filters) {
                    let k = b * TILE_K + kk;
                    let shift = bias.map_or(0.0, |bias| bias[k]);
                    let mut sums = [0.0f32; 16];
                    // SAFETY: `sums` has room for 16 floats.
                    unsafe { _mm512_storeu_ps(sums.as_mut_ptr(), acc_k) };
                    let out = &mut dst[(k * oh + i) * ow + j0..][..n];
                    for (o, s) in out.iter_mut().zip(sums) {
                        *o = s + shift;
                    }
                }
            }
        }
    }
}
// ANCHOR_END: tile

/// Runs the correlation of one padded image.
///
/// # Panics
/// If the CPU has no AVX-512 ([`lanes`] is `None`): a caller bug.
pub(crate) fn correlate(
    g: &Direct,
    padded: &[f32],
    packed: &[f32],
    bias: Option<&[f32]>,
    dst: &mut [f32],
) {
    assert_eq!(lanes(), Some(16), "direct kernel on a CPU without AVX-512");
    let (hp, wp) = g.padded();
    assert!(padded.len() >= g.src_c * hp * wp && packed.len() >= g.packed_len());
    assert!(dst.len() >= g.dst_c * g.out_h() * g.out_w());
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `lanes()` found AVX-512F on this CPU.
    unsafe {
        correlate_avx512(g, padded, packed, bias, dst)
    }
}
