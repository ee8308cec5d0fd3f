//! Direct convolution with register-blocked micro-kernels (chapter `16-fast-convolution`).
//!
//! im2col + GEMM pays for a patch matrix `KH KW` times the size of the input, written once
//! and then copied again by the GEMM's packing. A *direct* convolution reads the
//! (zero-padded) image itself, with the idea of a GEMM micro-kernel: a tile of sums held in
//! vector registers, each loaded number used by many fused multiply-adds.
//!
//! **The flat trick.** Pad every input plane to `Hp x Wp` and number the outputs as if the
//! output were `Wp` wide: output `(i, j)` gets the flat index `q = i Wp + j`. Then the
//! input under tap `(c, u, v)` of output `q` sits at `c Hp Wp + u Wp + v + q`: one fixed
//! offset per tap, the same for every output. Sixteen neighbouring flat outputs read
//! sixteen neighbouring inputs, one vector load, even across the end of a row. The columns
//! `j >= W'` are garbage (they straddle two rows) and are dropped when the tile is written
//! out: with 3 x 3 filters on 28 x 28 images, 2 columns of 30.
//!
//! **The forward tile** (`correlate`): `F` filters by `R` vectors of 16 flat outputs,
//! `F R` vector registers of sums. For each of the `C KH KW` taps, `R` loads of inputs and
//! `F` broadcast weights feed `F R` multiply-adds: 24 for 11 loads with `F = 8, R = 3`.
//!
//! **The input gradient** is the same correlation: the output gradient padded by
//! `KH - 1 - P`, correlated with the flipped filters, channels and filters swapped. With
//! a wide padding many taps of a tile meet only zeros: the taps go filter row by filter
//! row, and a tile runs only the rows that meet real inputs ([`Direct::tap_rows`]), which
//! changes no sum (for LeNet's second layer it leaves out 2 of every 7 rows of taps).
//!
//! **The weight gradient** (`weight_grad`) swaps the roles: `dW[k, tap]` is the sum over
//! all outputs of `dY[k, q] x[tap offset + q]`. A tile of `F` filters by `T` taps is `F T`
//! vectors of partial sums over sixteen outputs at a time: per vector of outputs, `F` loads
//! of the output gradient and `T` loads of inputs feed `F T` multiply-adds. The sixteen
//! lanes are added up once, after every image of the chunk.
//!
//! **Wide layers** (a multiple of 64 filters) turn the tile around (`correlate_wide`,
//! `weight_grad_wide`): 16 filters per vector, 4 vectors by 6 real output positions
//! (or, for the weight gradient, by 6 taps), so that no garbage column or rounding is
//! computed and the weight gradient's sums need no adding across lanes. The weight
//! gradient turns around from 16 filters on (4 vectors by 4 taps for 64, 2 by 8 for 32,
//! 1 by 24 for 16, [`wide_grad_block`]; for 16 filters 3 or 5 wide, AVX-512 slides along
//! the input rows instead, [`sliding_rows`]). Without AVX-512 the wide forward tile also
//! takes blocks of 32 or 16 filters ([`wide_block`]).
//!
//! **Sliding tiles** (AVX-512, a multiple of 16 filters but not of 32, filters 3 or 5
//! wide) use the taps of one filter row together: tap `(c, u, v)` at output `j` reads the input that tap
//! `(c, u, v + 1)` reads at output `j - 1`, so each input, broadcast once, serves `KW`
//! taps. The forward tile (`correlate_sliding`) holds 16 filters by 8, 10 or 14 real
//! outputs of a row, no garbage columns, and runs where the flat layout computes over a
//! quarter more outputs than the real ones ([`sliding_positions`]); the weight-gradient tile
//! (`weight_grad_wide`) holds 16 filters by the taps of 6 or 3 filter rows and walks
//! along the rows keeping the output gradients of the last `KW` positions in registers
//! ([`sliding_rows`]). Both sum in the same order as the other tiles.
//!
//! The tiles above are the AVX-512 ones (32 registers of 16 floats). With AVX2 a vector
//! of 16 floats takes two of its 16 registers, so the tiles shrink to fit: 6 or 4 filters
//! by one vector forward, 2 filters by 2 taps for the weight gradient, 1 vector by 4
//! positions (or taps) for the wide kernels: at most 8 registers of sums, 2 of loaded
//! values and 4 of broadcasts, which the compiler likes to load all at once. The sums
//! are the same in every lane, in the same order, whatever the tile: every path gives the
//! same bits.
//!
//! The kernels are written once, generic over the vector of 16 floats of
//! [`crate::fast::simd`] (plain loops over the data were vectorized by the compiler along
//! the wrong axis, with gathers, and ran many times slower). They only run on stride-1
//! convolutions; the instruction set is chosen at run time ([`crate::fast::simd::active`]).
//! There is no `unsafe` here: the checked windows of `simd` ([`Strip`], [`Lockstep`])
//! check each tile's furthest load once.

#[cfg(target_arch = "x86_64")]
use crate::fast::simd::Avx512;
use crate::fast::simd::{with_simd, Bounded, Isa, Lockstep, Simd, Strip, LANES};

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
}

impl Direct {
    /// `src = (C, H, W)` planes padded by `pad = (P_h, P_w)`, filters of `field = (KH, KW)`,
    /// `dst_c` of them.
    pub fn new(
        src: (usize, usize, usize),
        pad: (usize, usize),
        field: (usize, usize),
        dst_c: usize,
    ) -> Direct {
        Direct {
            src_c: src.0,
            src_h: src.1,
            src_w: src.2,
            pad_h: pad.0,
            pad_w: pad.1,
            kh: field.0,
            kw: field.1,
            dst_c,
        }
    }

    /// Rows and columns of a padded input plane.
    pub fn padded(&self) -> (usize, usize) {
        (self.src_h + 2 * self.pad_h, self.src_w + 2 * self.pad_w)
    }

    pub fn out_h(&self) -> usize {
        self.padded().0 + 1 - self.kh
    }

    pub fn out_w(&self) -> usize {
        self.padded().1 + 1 - self.kw
    }

    fn plane(&self) -> usize {
        let (hp, wp) = self.padded();
        hp * wp
    }

    /// Taps `C KH KW`: the length of every filter.
    pub fn taps(&self) -> usize {
        self.src_c * self.kh * self.kw
    }

    /// Vectors of 16 flat outputs that cover the `out_h` rows of width `Wp`.
    pub fn vectors(&self) -> usize {
        (self.out_h() * self.padded().1).div_ceil(LANES)
    }

    /// Length of one flat plane of outputs: whole vectors, rounded up to a multiple of 12
    /// so that the last tile of 3, 4 or 6 vectors stays inside.
    pub fn flat_len(&self) -> usize {
        self.vectors().next_multiple_of(12) * LANES
    }

    /// The padded planes plus a tail of zeros: every load of every tile lands inside.
    pub fn padded_len(&self) -> usize {
        let (_, wp) = self.padded();
        self.src_c * self.plane() + self.kh * wp + self.kw + MAX_ROWS * LANES
    }

    /// The filter rows `u` that can meet a real input row for the flat outputs `q0..q0 +
    /// len`: the tap rows under which every output of those lie in the padding (zeros)
    /// are left out, as their products are zeros (an empty range when there is none).
    /// With LeNet's second layer's input gradient (10 x 10 padded by 4, 5 x 5 filters) that
    /// is 20 of every 70 rows of taps.
    pub fn tap_rows(&self, q0: usize, len: usize) -> std::ops::Range<usize> {
        let wp = self.padded().1;
        let first = q0 / wp;
        let last = ((q0 + len.max(1) - 1) / wp).min(self.out_h().saturating_sub(1));
        // Output row i under filter row u reads padded row i + u; real rows are
        // pad_h..pad_h + src_h.
        let lo = self.pad_h.saturating_sub(last).min(self.kh);
        let hi = (self.pad_h + self.src_h).saturating_sub(first).min(self.kh);
        lo..hi.max(lo)
    }

    /// The input offset of tap `k = (c KH + u) KW + v` (the order of the weight gradient's
    /// taps and of `W`; the forward tiles take them row by row, see [`offsets`]).
    fn tap_offset(&self, k: usize) -> usize {
        let (c, uv) = (k / (self.kh * self.kw), k % (self.kh * self.kw));
        let (u, v) = (uv / self.kw, uv % self.kw);
        c * self.plane() + u * self.padded().1 + v
    }
}

/// The most vectors of outputs in one forward tile.
const MAX_ROWS: usize = 6;

/// Filters per forward tile for `filters` filters on `isa`. With AVX-512 (32 vector
/// registers): eight when that wastes nothing, six for LeNet's six, else four or eight,
/// whichever leaves fewer empty filter slots; the tile is then 8 x 3, 6 x 4 or 4 x 6
/// vectors. Elsewhere (16 registers of half the width with AVX2, so a vector of 16 floats
/// takes two): six or four filters by one vector, whichever wastes fewer slots, six on a
/// tie (more multiply-adds per load).
pub(crate) fn filter_tile(filters: usize, isa: Isa) -> usize {
    let waste = |f: usize| filters.next_multiple_of(f) - filters;
    if isa != Isa::Avx512 {
        return if waste(6) <= waste(4) { 6 } else { 4 };
    }
    if waste(8) == 0 {
        8
    } else if waste(6) == 0 {
        6
    } else if waste(4) < waste(8) {
        4
    } else {
        8
    }
}

/// The forward tile for `f` filters on `isa`: filters by vectors of outputs.
fn forward_tile(f: usize, isa: Isa) -> (usize, usize) {
    match (isa, f) {
        (Isa::Avx512, 8) => (8, 3),
        (Isa::Avx512, 6) => (6, 4),
        (Isa::Avx512, 4) => (4, 6),
        (_, 6) => (6, 1),
        (_, 4) => (4, 1),
        _ => panic!("no forward tile for {f} filters on {}", isa.name()),
    }
}

/// Filters per weight-gradient tile. With AVX-512: six for LeNet's six (then four taps),
/// else four (then six taps), so that one block of filters' output gradients for a whole
/// chunk of images fits in the core's first-level cache. Elsewhere two filters by two taps:
/// 4 vectors of sums, 2 of gradients and 1 of inputs fill the 16 registers of AVX2.
pub(crate) fn grad_filter_tile(filters: usize, isa: Isa) -> usize {
    if isa != Isa::Avx512 {
        2
    } else if filters.is_multiple_of(6) && !filters.is_multiple_of(4) {
        6
    } else {
        4
    }
}

/// Copies `src` (`src_c` planes) into the zero-padded layout of [`Direct::padded`]: every
/// entry of `out[..padded_len]` is written, the border and the tail with zeros, once each.
///
/// With AVX-512 every padded row is written by whole vectors, its data lanes filled by one
/// expanding load ([`Avx512::pad_row`]); the slices-and-fills version below calls `memset`
/// and `memcpy` for runs of one to a few dozen floats, two or three calls per row, which
/// cost a tenth of a 64-channel layer's forward pass.
///
/// # Panics
/// If `src` holds fewer than `src_c` planes or `out` fewer than [`Direct::padded_len`]
/// entries.
pub(crate) fn pad_planes(isa: Isa, src: &[f32], g: &Direct, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx512 {
        let t = Avx512::new().expect("AVX-512 asked for on a CPU without it");
        return t.run(
            #[inline(always)]
            |t| pad_planes_avx512(t, src, g, out),
        );
    }
    let _ = isa;
    pad_planes_sliced(src, g, out)
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pad_planes_avx512(t: Avx512, src: &[f32], g: &Direct, out: &mut [f32]) {
    let (hp, wp) = g.padded();
    let (h, w) = (g.src_h, g.src_w);
    let src = &src[..g.src_c * h * w];
    let out = &mut out[..g.padded_len()];
    let (planes, tail) = out.split_at_mut(g.src_c * hp * wp);
    tail.fill(0.0);
    for (plane, src) in planes
        .chunks_exact_mut(hp * wp)
        .zip(src.chunks_exact(h * w))
    {
        for (r, row) in plane.chunks_exact_mut(wp).enumerate() {
            let from = r
                .checked_sub(g.pad_h)
                .filter(|&i| i < h)
                .map(|i| &src[i * w..(i + 1) * w]);
            t.pad_row(from, g.pad_w, row);
        }
    }
}

/// [`pad_planes`] by slices: the portable version, and the reference in the tests.
pub(crate) fn pad_planes_sliced(src: &[f32], g: &Direct, out: &mut [f32]) {
    let (hp, wp) = g.padded();
    let (h, w) = (g.src_h, g.src_w);
    let out = &mut out[..g.padded_len()];
    let (planes, tail) = out.split_at_mut(g.src_c * hp * wp);
    tail.fill(0.0);
    for (plane, src) in planes
        .chunks_exact_mut(hp * wp)
        .zip(src.chunks_exact(h * w))
    {
        let (top, rest) = plane.split_at_mut(g.pad_h * wp);
        let (middle, bottom) = rest.split_at_mut(h * wp);
        top.fill(0.0);
        bottom.fill(0.0);
        for (row, from) in middle.chunks_exact_mut(wp).zip(src.chunks_exact(w)) {
            row[..g.pad_w].fill(0.0);
            row[g.pad_w..g.pad_w + w].copy_from_slice(from);
            row[g.pad_w + w..].fill(0.0);
        }
    }
}

/// The part of `buffer` from its first 64-byte boundary on: vector loads and stores at
/// multiples of 16 floats from there never straddle two cache lines.
pub(crate) fn aligned(buffer: &mut [f32]) -> &mut [f32] {
    let skip = buffer.as_ptr().align_offset(64).min(buffer.len());
    &mut buffer[skip..]
}

/// The sum of `xs` in sixteen interleaved partial sums (which the compiler keeps in one
/// vector register), then added up: many times faster than one running sum, and the same
/// result on every machine.
pub(crate) fn sum16(xs: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (l, &x) in lanes.iter_mut().zip(chunk) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + rest
}

/// Packs filters for the forward tile of `f` filters: `packed[((block, tap), ff)]`, the `f`
/// filters of a block side by side for each tap (in the order of [`offsets`]), zeros for
/// the missing filters of a last, partial block. `weight(k, c, u, v)` reads the filters in whatever layout the caller has
/// (the forward pass reads `W[k, c, u, v]`, the input gradient the flipped, transposed
/// `W[c, k, KH-1-u, KW-1-v]`).
pub(crate) fn pack_filters(
    g: &Direct,
    f: usize,
    weight: impl Fn(usize, usize, usize, usize) -> f32,
    packed: &mut Vec<f32>,
) {
    let blocks = g.dst_c.div_ceil(f);
    packed.clear();
    packed.resize(blocks * g.taps() * f, 0.0);
    for b in 0..blocks {
        for u in 0..g.kh {
            for c in 0..g.src_c {
                for v in 0..g.kw {
                    let tap = (u * g.src_c + c) * g.kw + v;
                    let at = (b * g.taps() + tap) * f;
                    for ff in 0..f.min(g.dst_c - b * f) {
                        packed[at + ff] = weight(b * f + ff, c, u, v);
                    }
                }
            }
        }
    }
}

/// Where one vector of 16 flat outputs goes in a dense output plane: the lanes set in
/// `mask` are real outputs (not a garbage column, not past the last row) and go, packed in
/// order, to `start..end` of the plane (`end - start` = `mask.count_ones()`, counted once
/// here rather than at every store).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Spill {
    mask: u16,
    start: usize,
    end: usize,
}

/// The [`Spill`] of every vector of a flat plane ([`Direct::flat_len`] / 16 of them).
///
/// The real flat outputs before `q` are the whole rows before it, `q / Wp` of `W'` each, and
/// the first `min(q mod Wp, W')` of its own row: that count is where the vector's first real
/// output lands in the dense plane, and its real outputs follow one another there, since
/// the garbage columns are exactly what the dense plane leaves out.
pub(crate) fn spills(g: &Direct) -> Vec<Spill> {
    let (oh, ow, wp) = (g.out_h(), g.out_w(), g.padded().1);
    let (flat_end, plane) = (oh * wp, oh * ow);
    let spill = |q: usize| {
        let real = |l: usize| q + l < flat_end && (q + l) % wp < ow;
        let mask = (0..LANES)
            .filter(|&l| real(l))
            .map(|l| 1u16 << l)
            .sum::<u16>();
        let start = ((q / wp) * ow + (q % wp).min(ow)).min(plane);
        let end = start + mask.count_ones() as usize;
        assert!(end <= plane);
        Spill { mask, start, end }
    };
    (0..g.flat_len() / LANES)
        .map(|v| spill(v * LANES))
        .collect()
}

/// The output gradient of one image (`dst_c` planes of `out_h x out_w`) in the flat layout
/// of the outputs, zeros in the garbage columns and in the empty filters up to a multiple
/// of `f`: ready for [`weight_grad`]. `flat` gets `dst_c.next_multiple_of(f) * vectors * 16`
/// entries, all written.
pub(crate) fn flatten(isa: Isa, g: &Direct, f: usize, src: &[f32], flat: &mut [f32]) {
    let (oh, ow, wp) = (g.out_h(), g.out_w(), g.padded().1);
    let len = g.vectors() * LANES;
    let flat = &mut flat[..g.dst_c.next_multiple_of(f) * len];
    let (planes, empty) = flat.split_at_mut(g.dst_c * len);
    empty.fill(0.0);
    let rows = Rows {
        count: oh,
        width: ow,
        strides: (ow, wp),
        dst_width: wp,
    };
    for (k, plane) in planes.chunks_exact_mut(len).enumerate() {
        let (written, rest) = plane.split_at_mut(oh * wp);
        rows.copy(isa, &src[k * oh * ow..], written, 0.0);
        rest.fill(0.0);
    }
}

/// Rows copied between two strided layouts: `count` rows of `width` floats, row `r` read
/// at `r * strides.0` and written at `r * strides.1`, each written row `dst_width >=
/// width` long (zeros after the copied part).
#[derive(Clone, Copy)]
struct Rows {
    count: usize,
    width: usize,
    strides: (usize, usize),
    dst_width: usize,
}

impl Rows {
    /// `dst`'s rows from `src`'s plus `shift` (zeros after `width`, not shifted). With
    /// AVX-512 by masked vector loads and stores ([`Avx512::copy_row`]).
    ///
    /// # Panics
    /// If a row lies outside `src` or `dst`, or `dst_width < width`.
    fn copy(self, isa: Isa, src: &[f32], dst: &mut [f32], shift: f32) {
        assert!(self.dst_width >= self.width);
        if let Some(last) = self.count.checked_sub(1) {
            assert!(last * self.strides.0 + self.width <= src.len());
            assert!(last * self.strides.1 + self.dst_width <= dst.len());
        }
        #[cfg(target_arch = "x86_64")]
        if isa == Isa::Avx512 {
            let t = Avx512::new().expect("AVX-512 asked for on a CPU without it");
            return t.run(
                #[inline(always)]
                |t| {
                    for r in 0..self.count {
                        let from = &src[r * self.strides.0..][..self.width];
                        let to = &mut dst[r * self.strides.1..][..self.dst_width];
                        t.copy_row(from, to, shift);
                    }
                },
            );
        }
        let _ = isa;
        self.copy_sliced(src, dst, shift)
    }

    /// [`Rows::copy`] by slices: the portable version, and the reference in the tests.
    fn copy_sliced(self, src: &[f32], dst: &mut [f32], shift: f32) {
        for r in 0..self.count {
            let from = &src[r * self.strides.0..][..self.width];
            let to = &mut dst[r * self.strides.1..][..self.dst_width];
            let (copied, zeros) = to.split_at_mut(self.width);
            for (t, f) in copied.iter_mut().zip(from) {
                *t = f + shift;
            }
            zeros.fill(0.0);
        }
    }
}

// ANCHOR: tile
/// One forward tile: `F` filters (their weights `packed`, `F` per tap) by `R` vectors of
/// flat outputs starting at `q0`, summed over every tap, plus `bias`, written straight into
/// the dense output planes `out` (planes of `plane`): only the lanes of real outputs,
/// packed by `spills` (the first `filters` filters; the others of a last, partial block
/// are not written).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<S: Simd, const F: usize, const R: usize>(
    s: S,
    padded: &[f32],
    (packed, offsets): (&[f32], Bounded),
    taps: std::ops::Range<usize>,
    q0: usize,
    spills: &[Spill],
    (bias, filters): (&[f32; F], usize),
    out: &mut [f32],
    plane: usize,
) {
    // Every load reads padded[q0 + off..][..16 R] for a tap offset `off`: the strip checks
    // the furthest once.
    let inputs = Strip::new(padded, q0, offsets, R * LANES);
    assert!(offsets.items().len() * F <= packed.len());
    assert!(filters <= F && out.len() == filters * plane);
    let mut acc = [[s.zero(); R]; F];
    // Only the taps of the filter rows that meet real inputs (the others multiply zeros of
    // the padding: leaving them out changes no sum). Taps go row by row of the filters
    // ([`offsets`]), so those are one run.
    let taps = taps.start..taps.end.max(taps.start);
    // Per tap: the inputs under it for R x 16 neighbouring flat outputs (R loads), and each
    // of the F filters' weight for it, broadcast, times the R vectors.
    for (xv, w) in inputs
        .slice(taps.clone())
        .vectors::<S, R>(s, R * LANES)
        .zip(packed[taps.start * F..taps.end * F].chunks_exact(F))
    {
        for (acc_f, &w) in acc.iter_mut().zip(w) {
            let wv = s.splat(w);
            for (a, &xr) in acc_f.iter_mut().zip(&xv) {
                *a = s.mul_add(wv, xr, *a);
            }
        }
    }
    // The real outputs' lanes, packed, to their place in the output planes: spill by spill,
    // each checked once, then filter by filter (every plane of `out` is `plane` long, so
    // the check covers the stores of all `filters` filters).
    let spills = &spills[q0 / LANES..][..R];
    for (r, sp) in spills.iter().enumerate() {
        let (start, end) = (sp.start, sp.end);
        assert!(start <= end && end <= plane && end - start <= LANES);
        for ((acc_f, &b), out) in acc.iter().zip(bias).zip(out.chunks_exact_mut(plane)) {
            s.spill(s.add(acc_f[r], s.splat(b)), sp.mask, &mut out[start..end]);
        }
    }
}
// ANCHOR_END: tile

#[inline(always)]
fn correlate_tiles<S: Simd, const F: usize, const R: usize>(
    s: S,
    g: &Direct,
    padded: &[f32],
    (packed, offsets, spills): (&[f32], &[usize], &[Spill]),
    bias: Option<&[f32]>,
    out: &mut [f32],
) {
    let taps = g.taps();
    let offsets = Bounded::new(offsets);
    let plane = g.out_h() * g.out_w();
    for b in 0..g.dst_c.div_ceil(F) {
        let w = &packed[b * taps * F..(b + 1) * taps * F];
        let filters = F.min(g.dst_c - b * F);
        let o = &mut out[b * F * plane..(b * F + filters) * plane];
        let shift: [f32; F] = std::array::from_fn(|f| match bias {
            Some(bias) if f < filters => bias[b * F + f],
            _ => 0.0,
        });
        for q0 in (0..g.vectors()).step_by(R) {
            let q0 = q0 * LANES;
            let rows = g.tap_rows(q0, R * LANES);
            let per_row = g.src_c * g.kw;
            tile::<S, F, R>(
                s,
                padded,
                (w, offsets),
                rows.start * per_row..rows.end * per_row,
                q0,
                spills,
                (&shift, filters),
                o,
                plane,
            );
        }
    }
}

/// The tap offsets of `g` in the order of the forward kernels, filter row by filter row:
/// tap `k = (u C + c) KW + v` reads the padded input at `c Hp Wp + u Wp + v` (so that the
/// taps of the rows that meet real inputs, [`Direct::tap_rows`], are one run).
pub(crate) fn offsets(g: &Direct) -> Vec<usize> {
    let (plane, wp) = (g.plane(), g.padded().1);
    (0..g.kh)
        .flat_map(|u| (0..g.src_c).flat_map(move |c| (0..g.kw).map(move |v| (c, u, v))))
        .map(|(c, u, v)| c * plane + u * wp + v)
        .collect()
}

/// The correlation of one padded image, plus `bias`, into `dst` (`dst_c` dense planes of
/// `out_h x out_w`, every entry written), on `isa`. `packed` comes from [`pack_filters`]
/// with `f` = [`filter_tile`] for the same `isa`, `offsets` from [`offsets`] and `spills`
/// from [`spills`], all for `g`.
///
/// # Panics
/// If `isa` is not available on this CPU, or `f` has no tile on it: caller bugs.
pub(crate) fn correlate(
    isa: Isa,
    g: &Direct,
    f: usize,
    padded: &[f32],
    (packed, offsets, spills): (&[f32], &[usize], &[Spill]),
    bias: Option<&[f32]>,
    dst: &mut [f32],
) {
    assert!(padded.len() >= g.padded_len() && offsets.len() == g.taps());
    assert_eq!(
        spills.len() * LANES,
        g.flat_len(),
        "spills of another layer"
    );
    assert!(packed.len() >= g.dst_c.div_ceil(f) * g.taps() * f);
    assert!(dst.len() >= g.dst_c * g.out_h() * g.out_w());
    assert!(bias.is_none_or(|b| b.len() >= g.dst_c));
    let data = (packed, offsets, spills);
    let tile = forward_tile(f, isa);
    with_simd!(isa, s => match tile {
        (8, 3) => correlate_tiles::<_, 8, 3>(s, g, padded, data, bias, dst),
        (6, 4) => correlate_tiles::<_, 6, 4>(s, g, padded, data, bias, dst),
        (4, 6) => correlate_tiles::<_, 4, 6>(s, g, padded, data, bias, dst),
        (6, 1) => correlate_tiles::<_, 6, 1>(s, g, padded, data, bias, dst),
        (4, 1) => correlate_tiles::<_, 4, 1>(s, g, padded, data, bias, dst),
        _ => unreachable!("forward_tile gives one of these"),
    })
}

/// One weight-gradient tile: `F` filters from `f0` by the `T` taps at `offsets`, summed
/// over the flat outputs of images `images`, added to the sums in `acc` (vectors of 16
/// partial sums each).
#[inline(always)]
fn grad_tile<S: Simd, const F: usize, const T: usize>(
    s: S,
    g: &Direct,
    (padded, flat_dy): (&[f32], &[f32]),
    images: std::ops::Range<usize>,
    offsets: &[usize; T],
    f0: usize,
    acc: &mut [[S::V; T]; F],
) {
    let (plen, nv) = (g.padded_len(), g.vectors());
    let len = nv * LANES;
    let dlen = g.dst_c.next_multiple_of(F) * len;
    let mut sums = *acc;
    for n in images {
        // Image n's inputs under the T taps and its F filters' output gradients, 16
        // outputs at a time: the lock-steps check every load once, here.
        let x = &padded[n * plen..(n + 1) * plen];
        let dy = &flat_dy[n * dlen + f0 * len..][..F * len];
        let xs = Lockstep::new(std::array::from_fn::<_, T, _>(|t| &x[offsets[t]..]), nv);
        let ds = Lockstep::new(std::array::from_fn::<_, F, _>(|f| &dy[f * len..]), nv);
        for j in 0..nv {
            let dv = ds.load(s, j);
            for t in 0..T {
                let xv = xs.load_one(s, t, j);
                for (sums_f, &d) in sums.iter_mut().zip(&dv) {
                    sums_f[t] = s.mul_add(d, xv, sums_f[t]);
                }
            }
        }
    }
    *acc = sums;
}

/// Partial sums of the weight gradient kept as vectors, at most this many bytes of them:
/// then the images can be the outer loop (see [`weight_grad_tiles`]).
const CARRY_BYTES: usize = 1024 * 1024;

#[inline(always)]
fn weight_grad_tiles<S: Simd, const F: usize, const T: usize>(
    s: S,
    g: &Direct,
    padded: &[f32],
    flat_dy: &[f32],
    images: usize,
    dw: &mut [f32],
) {
    let taps = g.taps();
    // A last, partial block of taps repeats tap 0: valid loads, results dropped.
    let blocks: Vec<[usize; T]> = tap_blocks(g);
    let filter_blocks = g.dst_c.div_ceil(F);
    let zero = [[s.zero(); T]; F];
    let mut acc = vec![zero; filter_blocks * blocks.len()];
    let data = (padded, flat_dy);
    if std::mem::size_of_val(&acc[..]) <= CARRY_BYTES {
        // Few partial sums: image by image, so that one image's output gradients and
        // inputs stay in the core's cache while every tile reads them.
        for n in 0..images {
            for (fb, acc) in acc.chunks_mut(blocks.len()).enumerate() {
                for (offsets, acc) in blocks.iter().zip(acc) {
                    grad_tile::<S, F, T>(s, g, data, n..n + 1, offsets, fb * F, acc);
                }
            }
        }
    } else {
        // Many: tile by tile over all images, filters outside, so that one block of
        // filters' output gradients stays in cache while every tap reads it.
        for (fb, acc) in acc.chunks_mut(blocks.len()).enumerate() {
            for (offsets, acc) in blocks.iter().zip(acc) {
                grad_tile::<S, F, T>(s, g, data, 0..images, offsets, fb * F, acc);
            }
        }
    }
    // The sixteen lanes of every partial sum added up, once.
    for (fb, acc) in acc.chunks(blocks.len()).enumerate() {
        for (tb, acc) in acc.iter().enumerate() {
            for (f, acc_f) in acc.iter().enumerate() {
                for (t, &a) in acc_f.iter().enumerate() {
                    let (k, tap) = (fb * F + f, tb * T + t);
                    if k < g.dst_c && tap < taps {
                        dw[k * taps + tap] += s.sum(a);
                    }
                }
            }
        }
    }
}

/// Adds the weight gradient of `images` images to `dw` (`dst_c x taps`, the layout of
/// `W[k, c, u, v]`), on `isa`: `padded` holds the images padded (each
/// [`Direct::padded_len`]), `flat_dy` their output gradients flattened by [`flatten`] with
/// the same `f` = [`grad_filter_tile`].
///
/// # Panics
/// If `isa` is not available on this CPU, or `f` has no tile on it: caller bugs.
pub(crate) fn weight_grad(
    isa: Isa,
    g: &Direct,
    f: usize,
    padded: &[f32],
    flat_dy: &[f32],
    images: usize,
    dw: &mut [f32],
) {
    assert!(padded.len() >= images * g.padded_len());
    assert!(flat_dy.len() >= images * g.dst_c.next_multiple_of(f) * g.vectors() * LANES);
    assert!(dw.len() >= g.dst_c * g.taps());
    with_simd!(isa, s => match (isa, f) {
        (Isa::Avx512, 4) => weight_grad_tiles::<_, 4, 6>(s, g, padded, flat_dy, images, dw),
        (Isa::Avx512, 6) => weight_grad_tiles::<_, 6, 4>(s, g, padded, flat_dy, images, dw),
        (_, 2) => weight_grad_tiles::<_, 2, 2>(s, g, padded, flat_dy, images, dw),
        _ => panic!("no weight-gradient tile for {f} filters on {}", isa.name()),
    })
}

// The wide kernels: filters in the vector lanes.
//
// With a multiple of 64 filters, the flat kernels' garbage columns and rounding cost more
// than they save (with 14 x 14 outputs, 240 flat outputs are computed for 196 real ones).
// The wide kernels turn the tile around: 16 filters per vector, up to 4 vectors (64
// filters) by 6 output positions, each position any real output (`pixels`), nothing
// computed twice. Per tap: 4 vector loads of weights and 6 broadcast inputs feed 24
// multiply-adds (with AVX2: 1 vector by 6 positions, 12 registers of sums). The weight
// gradient has the same shape: vectors of 16 filters by taps, summed over the positions,
// with the output gradient transposed to `(position, filter)` so that 16 filters'
// gradients at one position are one load; the sums are already per filter, so nothing is
// added across lanes.

/// Filters per vector block of the wide kernels: 64 (four vectors).
pub(crate) const WIDE: usize = 64;

/// Whether the wide kernels take a layer of `filters` filters in blocks of 64: a multiple
/// of 64 (Winograd's products need these blocks).
pub(crate) fn is_wide(filters: usize) -> bool {
    filters.is_multiple_of(WIDE)
}

/// The block of filters with which the wide forward kernel computes a correlation of
/// `filters` filters on `isa`, if it does: 64 for a multiple of 64; elsewhere than on
/// AVX-512 also 32 or 16 for a multiple of those. There the flat tiles hold only 4 or 6
/// filters, so they lose nothing by turning around, and the wide tile computes no garbage
/// columns and rounds nothing up: LeNet's second layer (10 x 10 outputs numbered 14 wide)
/// computes 144 flat outputs for 100 real ones.
pub(crate) fn wide_block(filters: usize, isa: Isa) -> Option<usize> {
    let blocks: &[usize] = if isa == Isa::Avx512 {
        &[WIDE]
    } else {
        &[WIDE, 32, LANES]
    };
    blocks.iter().copied().find(|&b| filters.is_multiple_of(b))
}

/// The flat index `i Wp + j` of every real output `(i, j)`, row by row: the order of an
/// output plane.
pub(crate) fn pixels(g: &Direct) -> Vec<usize> {
    let wp = g.padded().1;
    (0..g.out_h())
        .flat_map(|i| (0..g.out_w()).map(move |j| i * wp + j))
        .collect()
}

/// The sums of the wide forward kernels are laid out for whole tiles of positions: 6 with
/// AVX-512, 4 elsewhere; 12 is a multiple of both.
const WIDE_P: usize = 12;

/// One wide tile: `NV` vectors of 16 filters from vector `v0` of a block of `B` (`packed`
/// holds the block: `taps x B`) by the `P` positions `pix`, summed over every tap,
/// written to `tile[(p, filter)]` (rows of `B`).
#[inline(always)]
fn wide_tile<S: Simd, const B: usize, const NV: usize, const P: usize>(
    s: S,
    padded: &[f32],
    (packed, offsets): (&[f32], Bounded),
    v0: usize,
    pix: &[usize; P],
    tile: &mut [f32],
    first: bool,
) {
    // Every load reads padded[off + pix[p]]: the strip checks the furthest once.
    let reach = pix.iter().max().map_or(1, |&m| m + 1);
    let inputs = Strip::new(padded, 0, offsets, reach);
    assert!(offsets.items().len() * B <= packed.len() && (v0 + NV) * LANES <= B);
    let tile = &mut tile[..P * B];
    // The sums so far (from earlier blocks of taps), or zeros for the first block; row p of
    // the tile holds vectors v0..v0 + NV of position p's B filters.
    let mut acc = [[s.zero(); NV]; P];
    if !first {
        for (acc_p, row) in acc.iter_mut().zip(tile.chunks_exact(B)) {
            let row = &row[v0 * LANES..(v0 + NV) * LANES];
            for (a, x) in acc_p.iter_mut().zip(row.as_chunks::<LANES>().0) {
                *a = s.load(x);
            }
        }
    }
    for (xs, w) in inputs.points(pix, reach).zip(packed.chunks_exact(B)) {
        let w = &w[v0 * LANES..(v0 + NV) * LANES];
        let mut wv = [s.zero(); NV];
        for (v, x) in wv.iter_mut().zip(w.as_chunks::<LANES>().0) {
            *v = s.load(x);
        }
        for (p, acc_p) in acc.iter_mut().enumerate() {
            let xv = s.splat(xs.get(p));
            for (a, &wv) in acc_p.iter_mut().zip(&wv) {
                *a = s.mul_add(xv, wv, *a);
            }
        }
    }
    for (acc_p, row) in acc.iter().zip(tile.chunks_exact_mut(B)) {
        let row = &mut row[v0 * LANES..(v0 + NV) * LANES];
        for (&a, x) in acc_p.iter().zip(row.as_chunks_mut::<LANES>().0) {
            s.store(a, x);
        }
    }
}

/// The correlation of one padded image by the wide kernels, straight into `dst` (`dst_c`
/// planes of `out_h x out_w`, every entry written, `bias` added), on `isa`, in blocks of
/// `block` filters ([`wide_block`]). `packed` comes from [`pack_filters`] with
/// `f = block`, `offsets` from [`offsets`], `pixels` from [`pixels`]; `sums` is scratch.
///
/// # Panics
/// If `isa` is not available or `block` is not [`wide_block`] of `dst_c`: caller bugs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn correlate_wide(
    isa: Isa,
    g: &Direct,
    block: usize,
    padded: &[f32],
    (packed, offsets): (&[f32], &[usize]),
    pixels: &[usize],
    bias: Option<&[f32]>,
    dst: &mut [f32],
    sums: &mut Vec<f32>,
) {
    assert!(wide_block(g.dst_c, isa) == Some(block) && pixels.len() == g.out_h() * g.out_w());
    let plane = pixels.len();
    let dst = &mut dst[..g.dst_c * plane];
    let taps = g.taps();
    let offsets = Bounded::new(offsets);
    // The sums of every position for one block of filters, `(position, filter)`.
    sums.resize(wide_sums_len(plane, block), 0.0);
    for b in 0..g.dst_c / block {
        let w = &packed[b * taps * block..(b + 1) * taps * block];
        wide_sums(isa, block, padded, (w, offsets), pixels, sums, false);
        // The sums, `(position, filter)`, into the output planes, `(filter, position)`.
        let planes = &mut dst[b * block * plane..(b + 1) * block * plane];
        let shift = bias.map(|bias| &bias[b * block..(b + 1) * block]);
        transpose(isa, &sums[..plane * block], plane, block, shift, planes);
    }
}

/// Entries of the sums that [`wide_sums`] writes for `positions` positions and blocks of
/// `block` filters: rows of `block`, whole tiles of positions.
pub(crate) fn wide_sums_len(positions: usize, block: usize) -> usize {
    positions.next_multiple_of(WIDE_P) * block
}

/// The sums of one block of `block` filters (64, 32 or 16) over every tap, at every
/// position of `positions`, on `isa`: `sums[(p, filter)]` = sum over taps `k` of
/// `data[offsets[k] + positions[p]]` times `packed[(k, filter)]` (`packed` holds the
/// block's weights, taps x `block`); with `add`, added to the sums already there. The
/// positions go 6 to a tile; the taps in blocks whose weights fit in the
/// first-level cache, each block over every position, so that the weights are read from
/// that cache, not streamed from the next one once per tile.
///
/// # Panics
/// If `isa` is not available, `block` is not 16, 32 or 64, `sums` is shorter than
/// [`wide_sums_len`] or a load would leave `data` or `packed`.
pub(crate) fn wide_sums(
    isa: Isa,
    block: usize,
    data: &[f32],
    (packed, offsets): (&[f32], Bounded),
    positions: &[usize],
    sums: &mut [f32],
    add: bool,
) {
    assert!(sums.len() >= wide_sums_len(positions.len(), block));
    let data = (data, packed, offsets);
    with_simd!(isa, s => match (isa == Isa::Avx512, block) {
        (true, WIDE) => wide_sums_tiles::<_, WIDE, 4, 6>(s, data, positions, sums, add),
        (true, 32) => wide_sums_tiles::<_, 32, 2, 6>(s, data, positions, sums, add),
        (false, WIDE) => wide_sums_tiles::<_, WIDE, 1, 6>(s, data, positions, sums, add),
        (false, 32) => wide_sums_tiles::<_, 32, 1, 6>(s, data, positions, sums, add),
        (false, LANES) => wide_sums_tiles::<_, LANES, 1, 6>(s, data, positions, sums, add),
        _ => panic!("no wide tile for blocks of {block} filters"),
    })
}

/// [`wide_sums`] with tiles of `NV` vectors by `P` positions of blocks of `B` filters,
/// inlined into the loop over the positions (a call per tile cost a tenth of the time
/// when the taps were few, as in the 64-channel products of [`crate::fast::winograd`]).
#[inline(always)]
fn wide_sums_tiles<S: Simd, const B: usize, const NV: usize, const P: usize>(
    s: S,
    (data, packed, offsets): (&[f32], &[f32], Bounded),
    positions: &[usize],
    sums: &mut [f32],
    add: bool,
) {
    let taps = offsets.items().len();
    // Blocks of 32 KB of weights, whatever the block of filters.
    let block = WIDE_TAPS * WIDE / B;
    for k0 in (0..taps).step_by(block) {
        let k1 = taps.min(k0 + block);
        let (w, offs) = (&packed[k0 * B..k1 * B], offsets.slice(k0..k1));
        for (chunk, tile) in positions.chunks(P).zip(sums.chunks_exact_mut(P * B)) {
            // A last, short chunk repeats its last position: valid loads, the extra sums
            // never read.
            let pix: [usize; P] = std::array::from_fn(|p| chunk[p.min(chunk.len() - 1)]);
            for v0 in (0..B / LANES).step_by(NV) {
                wide_tile::<S, B, NV, P>(s, data, (w, offs), v0, &pix, tile, k0 == 0 && !add);
            }
        }
    }
}

/// `to[(j, i)] = from[(i, j)] + shift[j]` for a `rows x cols` matrix `from`. With AVX-512
/// 16 entries of a column are gathered by one instruction ([`Avx512::transpose`]);
/// elsewhere entry by entry, 16 rows at a time.
///
/// # Panics
/// If a slice is too short: caller bugs.
pub(crate) fn transpose(
    isa: Isa,
    from: &[f32],
    rows: usize,
    cols: usize,
    shift: Option<&[f32]>,
    to: &mut [f32],
) {
    assert!(from.len() >= rows * cols && to.len() >= rows * cols);
    assert!(shift.is_none_or(|s| s.len() >= cols));
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx512 {
        let t = Avx512::new().expect("AVX-512 asked for on a CPU without it");
        return t.run(
            #[inline(always)]
            |t| t.transpose(from, (rows, cols), shift, to),
        );
    }
    // Compiled for the instruction set (the blocks of 8 x 8 become register shuffles).
    with_simd!(isa, s => transpose_blocks(s, from, (rows, cols), shift, to))
}

/// [`transpose`] by blocks of 8 x 8 held in registers ([`Simd::transpose8`]), then entry
/// by entry for the rows and columns past the last whole block.
#[inline(always)]
fn transpose_blocks<S: Simd>(
    s: S,
    from: &[f32],
    (rows, cols): (usize, usize),
    shift: Option<&[f32]>,
    to: &mut [f32],
) {
    let (from, to) = (&from[..rows * cols], &mut to[..rows * cols]);
    // Blocks of 8 x 8: eight rows of eight neighbours read, eight columns written.
    const T: usize = 8;
    let (rows8, cols8) = (rows / T * T, cols / T * T);
    let mut block = [[0.0; T]; T];
    for i0 in (0..rows8).step_by(T) {
        for j0 in (0..cols8).step_by(T) {
            for (i, b) in block.iter_mut().enumerate() {
                *b = from[(i0 + i) * cols + j0..][..T]
                    .try_into()
                    .expect("8 floats");
            }
            for (j, column) in s.transpose8(&block).iter().enumerate() {
                let add = shift.map_or(0.0, |s| s[j0 + j]);
                let row: &mut [f32; T] = (&mut to[(j0 + j) * rows + i0..][..T])
                    .try_into()
                    .expect("8 floats");
                for (r, &c) in row.iter_mut().zip(column) {
                    *r = c + add;
                }
            }
        }
    }
    // The rows past the last block (every column), then the columns past the last block.
    let one = |i: usize, j: usize, to: &mut [f32]| {
        to[j * rows + i] = from[i * cols + j] + shift.map_or(0.0, |s| s[j]);
    };
    for i in rows8..rows {
        (0..cols).for_each(|j| one(i, j, to));
    }
    for j in cols8..cols {
        (0..rows8).for_each(|i| one(i, j, to));
    }
}

/// Taps per block of the wide forward tile: 128 taps of 64 weights, 32 KB, which stay in a
/// first-level data cache of 48 KB (Ice Lake and later cores). Measured on 64 -> 64 at
/// 14 x 14 with AVX-512: 2% faster than blocks of 64 (fewer loads and stores of the sums),
/// blocks of 192 slower (the weights no longer fit).
const WIDE_TAPS: usize = 128;

/// One wide weight-gradient tile for one image: `NV` vectors of 16 filters (block `b` of
/// `NV 16`) by the `T` taps at `offs`, summed over the positions `pixels`, added to the
/// sums in `sums` (row `t` at `t * filters`: the rows of the transposed weight gradient).
/// `dy_t` holds the output gradient of those positions transposed, `(position, filter)`,
/// rows of `filters`.
#[inline(always)]
fn wide_grad_tile<S: Simd, const NV: usize, const T: usize>(
    s: S,
    padded: &[f32],
    dy_t: &[f32],
    (filters, b): (usize, usize),
    pixels: Bounded,
    offs: &[usize; T],
    sums: &mut [f32],
) {
    let block = NV * LANES;
    // Every input load reads padded[q + offs[t]] for a position q: checked once.
    let reach = offs.iter().max().map_or(1, |&m| m + 1);
    let inputs = Strip::new(padded, 0, pixels, reach);
    assert!(pixels.items().len() * filters <= dy_t.len());
    assert!((b + 1) * block <= filters && sums.len() >= (T - 1) * filters + (b + 1) * block);
    // Row t of the sums: the block's NV vectors of filters for tap t.
    let row = |t: usize| t * filters + b * block..t * filters + (b + 1) * block;
    let mut acc = [[s.zero(); NV]; T];
    for (t, acc_t) in acc.iter_mut().enumerate() {
        for (a, x) in acc_t.iter_mut().zip(sums[row(t)].as_chunks::<LANES>().0) {
            *a = s.load(x);
        }
    }
    for (xs, dy) in inputs.points(offs, reach).zip(dy_t.chunks_exact(filters)) {
        let dy = &dy[b * block..(b + 1) * block];
        let mut dv = [s.zero(); NV];
        for (v, x) in dv.iter_mut().zip(dy.as_chunks::<LANES>().0) {
            *v = s.load(x);
        }
        for (t, acc_t) in acc.iter_mut().enumerate() {
            let xv = s.splat(xs.get(t));
            for (a, &dv) in acc_t.iter_mut().zip(&dv) {
                *a = s.mul_add(xv, dv, *a);
            }
        }
    }
    for (t, acc_t) in acc.iter().enumerate() {
        for (&a, x) in acc_t.iter().zip(sums[row(t)].as_chunks_mut::<LANES>().0) {
            s.store(a, x);
        }
    }
}

/// Filters per block of the wide weight gradient for `g`: 64 for a multiple of 64
/// filters, 32 for another multiple of 32, 16 for another multiple of 16; else `None` (the
/// flat kernel). The same on every instruction set, so that every CPU adds the same
/// numbers in the same order. Measured for 16 filters, one thread: on the AVX2 machine the
/// wide kernel took 7.5 ms where the flat one took 10.4 ms for the ResNet's 16 -> 16 layer
/// at 28 x 28 (the flat tile of 2 filters by 2 taps waits on its loads there); on an
/// AVX-512 machine the flat kernel had been a little faster at that shape, and the wide one
/// for LeNet's second layer (10 x 10 outputs in rows of 14, 30% of the flat layout wasted).
pub(crate) fn wide_grad_block(g: &Direct) -> Option<usize> {
    [64, 32, 16]
        .into_iter()
        .find(|&b| g.dst_c.is_multiple_of(b))
}

/// The wide weight-gradient tile of `g` on `isa`: vectors of 16 filters by taps. With
/// AVX-512 16 vector registers of sums for blocks of 64 or 32 filters (4 x 4, 2 x 8: with
/// the gradients and the broadcast inputs of one step, 24 or 26 of the 32 registers; 4 x 6
/// and 2 x 12 needed 34 and 38, and spilled) and 24 for blocks of 16 (1 x 24, measured
/// faster than 1 x 16) unless a sliding tile takes them ([`sliding_rows`]: 1 vector by
/// 18 or 15 taps), with AVX2 and elsewhere 6 (1 vector by 6 taps: 12 registers of sums, 2
/// of gradients and 1 broadcast input, each input loaded just before its multiply-adds;
/// 3% faster than 1 x 4 on the ResNet's 16-channel layer).
fn wide_grad_tile_shape(g: &Direct, isa: Isa) -> (usize, usize) {
    if let Some(nu) = sliding_rows(g, isa) {
        return (1, nu * g.kw);
    }
    let block = wide_grad_block(g).expect("a wide layer");
    let nv = if isa == Isa::Avx512 { block / LANES } else { 1 };
    let registers = match (isa, nv) {
        (Isa::Avx512, 1) => 24,
        (Isa::Avx512, _) => 16,
        _ => 6,
    };
    (nv, registers / nv)
}

/// The tap offsets of `g` in blocks of a wide weight-gradient tile on `isa`, one after the
/// other, for [`weight_grad_wide`]; a last, partial block repeats tap 0 (valid loads, sums
/// unread).
pub(crate) fn wide_tap_blocks(g: &Direct, isa: Isa) -> Vec<usize> {
    let taps = g.taps();
    (0..wide_grad_rows(g, isa))
        .map(|k| if k < taps { g.tap_offset(k) } else { 0 })
        .collect()
}

/// The tap offsets of `g` in blocks of `T`, the last one completed with tap 0.
fn tap_blocks<const T: usize>(g: &Direct) -> Vec<[usize; T]> {
    let taps = g.taps();
    (0..taps)
        .step_by(T)
        .map(|k0| {
            std::array::from_fn(|t| {
                if k0 + t < taps {
                    g.tap_offset(k0 + t)
                } else {
                    0
                }
            })
        })
        .collect()
}

/// Rows of the transposed weight gradient that [`weight_grad_wide`] needs for `g` on
/// `isa`: whole blocks of taps (the rows past the last tap collect sums nobody reads).
pub(crate) fn wide_grad_rows(g: &Direct, isa: Isa) -> usize {
    g.taps().next_multiple_of(wide_grad_tile_shape(g, isa).1)
}

/// Positions per block of the wide weight gradient, at most: 128 positions of 64
/// gradients (256 of 32), 32 KB, stay in the first-level cache while every block of taps
/// reads them, and the sums of a tile are loaded and stored once per block (blocks of 64
/// positions of 64 gradients measured 3% slower on 14 x 14 images, whose 196 positions
/// then made blocks of 64, 64, 64 and 4).
const WIDE_GRADIENTS: usize = 128 * WIDE;

/// Adds the weight gradient of one image to `dw_t` (`taps x dst_c`, the transpose of the
/// layout of `W`, with [`wide_grad_rows`] rows) with the wide kernels on `isa`. `padded`
/// is the image padded, `dy_t` its output gradient transposed to `(position, filter)`,
/// `pixels` from [`pixels`] and `blocks` from [`wide_tap_blocks`] for the same `isa`.
///
/// # Panics
/// If `isa` is not available or `g` has no wide weight gradient: caller bugs.
pub(crate) fn weight_grad_wide(
    isa: Isa,
    g: &Direct,
    padded: &[f32],
    dy_t: &[f32],
    (pixels, blocks): (&[usize], &[usize]),
    dw_t: &mut [f32],
) {
    assert!(dw_t.len() >= wide_grad_rows(g, isa) * g.dst_c);
    assert_eq!(
        blocks.len(),
        wide_grad_rows(g, isa),
        "taps of another layer"
    );
    if let Some(nu) = sliding_rows(g, isa) {
        let data = (padded, dy_t, blocks);
        return with_simd!(isa, s => match (nu, g.kw) {
            (6, 3) => sliding_grad_tiles::<_, 6, 3>(s, g, data, dw_t),
            (3, 5) => sliding_grad_tiles::<_, 3, 5>(s, g, data, dw_t),
            _ => unreachable!("sliding_rows gives one of these"),
        });
    }
    let data = (padded, dy_t, pixels, blocks);
    let shape = wide_grad_tile_shape(g, isa);
    with_simd!(isa, s => match shape {
        (4, 4) => weight_grad_wide_tiles::<_, 4, 4>(s, g, data, dw_t),
        (2, 8) => weight_grad_wide_tiles::<_, 2, 8>(s, g, data, dw_t),
        (1, 24) => weight_grad_wide_tiles::<_, 1, 24>(s, g, data, dw_t),
        (1, 6) => weight_grad_wide_tiles::<_, 1, 6>(s, g, data, dw_t),
        _ => unreachable!("wide_grad_tile_shape gives one of these"),
    })
}

#[inline(always)]
fn weight_grad_wide_tiles<S: Simd, const NV: usize, const T: usize>(
    s: S,
    g: &Direct,
    (padded, dy_t, pixels, blocks): (&[f32], &[f32], &[usize], &[usize]),
    dw_t: &mut [f32],
) {
    let (taps, filters, block) = (g.taps(), g.dst_c, NV * LANES);
    // Blocks of at most WIDE_GRADIENTS / block positions, all of (nearly) one length: no
    // short last block whose few positions would not pay for loading and storing the sums.
    let n = pixels.len();
    let per = n.div_ceil(n.div_ceil(WIDE_GRADIENTS / block).max(1)).max(1);
    for p0 in (0..n).step_by(per) {
        let p1 = n.min(p0 + per);
        let (pix, dy) = (
            Bounded::new(&pixels[p0..p1]),
            &dy_t[p0 * filters..p1 * filters],
        );
        for b in 0..filters / block {
            for (offs, k0) in blocks.chunks_exact(T).zip((0..taps).step_by(T)) {
                let offs: &[usize; T] = offs.try_into().expect("chunks of T");
                let sums = &mut dw_t[k0 * filters..(k0 + T) * filters];
                wide_grad_tile::<S, NV, T>(s, padded, dy, (filters, b), pix, offs, sums);
            }
        }
    }
}

/// Output positions per *sliding* forward tile for `g` on `isa`, where it takes one: with
/// AVX-512, for a multiple of 16 filters that is not one of 32 (16, 48, ...), filters 3 or
/// 5 wide, rows of at least 8 outputs, and a flat layout that computes over a quarter more
/// outputs than the real ones; the tile is one vector of 16 filters by 14, 10 or 8
/// neighbouring positions of an output row, whichever computes fewest positions twice (a
/// row not a multiple of the tile ends with a tile that overlaps the one before).
///
/// The flat tile computes the garbage columns and rounds each plane up to whole tiles
/// (LeNet's second layer: 144 flat outputs for 100 real ones). The sliding tile computes
/// real outputs only, and reads each input of a filter row once for the `KW` taps of that
/// row: walking along the row, input `j` meets tap `v` at position `j - v` (as in
/// [`sliding_rows`]), `P + KW - 1` broadcasts and `KW` weight vectors for `P KW`
/// multiply-adds; its sums are then transposed, as for the wide tiles. Each position's
/// sum goes over the taps in the order of [`offsets`], so the bits are those of every
/// other forward tile. Measured on an AVX-512 machine, one thread, against the flat tile:
/// LeNet's second layer forward 0.26 -> 0.19 ms; the ResNet's 16 -> 16 layer at 28 x 28
/// (864 flat outputs for 784) 5% *slower* forward, 2% forward and backward, once the flat
/// tile stored its outputs with one check per vector: there the flat tile runs.
pub(crate) fn sliding_positions(g: &Direct, isa: Isa) -> Option<usize> {
    let (filters, ow) = (g.dst_c, g.out_w());
    let flat = |f: usize| g.vectors().next_multiple_of(forward_tile(f, isa).1) * LANES;
    let fits = isa == Isa::Avx512
        && filters.is_multiple_of(LANES)
        && !filters.is_multiple_of(2 * LANES)
        && matches!(g.kw, 3 | 5)
        && ow >= 8
        && 4 * flat(filter_tile(filters, isa)) > 5 * g.out_h() * ow;
    // Positions computed per row with tiles of p: whole tiles, the last one overlapping.
    let cost = |p: usize| ow.div_ceil(p) * p;
    fits.then(|| {
        SLIDING_P
            .into_iter()
            .filter(|&p| p <= ow)
            .min_by_key(|&p| (cost(p), std::cmp::Reverse(p)))
            .expect("ow >= 8")
    })
}

/// The positions of a sliding forward tile, largest first.
const SLIDING_P: [usize; 3] = [14, 10, 8];

/// One sliding forward tile: block `b` of 16 filters (`packed`, from [`pack_filters`] with
/// `f = 16`) at the `P` positions from `(i, j0)`, summed over every tap, written to
/// `sums[(position, filter)]` (rows of 16, positions numbered `i out_w + j`).
#[inline(always)]
fn sliding_tile<S: Simd, const P: usize, const KW: usize>(
    s: S,
    g: &Direct,
    padded: &[f32],
    w: &[f32],
    (i, j0): (usize, usize),
    sums: &mut [f32],
) {
    let (wp, plane) = (g.padded().1, g.plane());
    assert!(g.kw == KW && w.len() >= g.taps() * LANES && j0 + P <= g.out_w());
    let mut acc = [s.zero(); P];
    // Filter row by filter row, in the order of `offsets`: row u C + c.
    let rows = (0..g.kh).flat_map(|u| (0..g.src_c).map(move |c| c * plane + (i + u) * wp));
    for (start, w) in rows.zip(w.chunks_exact(KW * LANES)) {
        let xs = &padded[start + j0..][..P + KW - 1];
        let wv: [S::V; KW] = std::array::from_fn(|v| load16(s, w, v * LANES));
        // Position p under tap v reads input p + v of the row: the compiler unrolls the
        // loops and loads each input once for the KW positions that read it.
        for (p, a) in acc.iter_mut().enumerate() {
            for (v, &wv) in wv.iter().enumerate() {
                *a = s.mul_add(s.splat(xs[p + v]), wv, *a);
            }
        }
    }
    let row0 = (i * g.out_w() + j0) * LANES;
    for (a, to) in acc
        .iter()
        .zip(sums[row0..][..P * LANES].as_chunks_mut::<LANES>().0)
    {
        s.store(*a, to);
    }
}

/// The sums of every position for block `b` of 16 filters by sliding tiles of `P`
/// positions: `sums[(position, filter)]`, rows of 16.
#[inline(always)]
fn sliding_sums<S: Simd, const P: usize, const KW: usize>(
    s: S,
    g: &Direct,
    padded: &[f32],
    w: &[f32],
    sums: &mut [f32],
) {
    let ow = g.out_w();
    for i in 0..g.out_h() {
        // Whole tiles, then one that ends at the row's end (overlapping the one before).
        let starts = (0..ow / P)
            .map(|t| t * P)
            .chain((!ow.is_multiple_of(P)).then(|| ow - P));
        for j0 in starts {
            sliding_tile::<S, P, KW>(s, g, padded, w, (i, j0), sums);
        }
    }
}

/// The correlation of one padded image by sliding tiles ([`sliding_positions`] gives
/// `p`), straight into `dst` (`dst_c` planes of `out_h x out_w`, every entry written,
/// `bias` added), on `isa`. `packed` comes from [`pack_filters`] with `f = 16`; `sums`
/// is scratch.
///
/// # Panics
/// If `isa` is not available or `p` is not [`sliding_positions`] of `g`: caller bugs.
pub(crate) fn correlate_sliding(
    isa: Isa,
    g: &Direct,
    p: usize,
    (padded, packed): (&[f32], &[f32]),
    bias: Option<&[f32]>,
    dst: &mut [f32],
    sums: &mut Vec<f32>,
) {
    assert_eq!(sliding_positions(g, isa), Some(p));
    let plane = g.out_h() * g.out_w();
    let (taps, dst) = (g.taps(), &mut dst[..g.dst_c * plane]);
    sums.resize(plane * LANES, 0.0);
    let sums = &mut sums[..];
    for b in 0..g.dst_c / LANES {
        let w = &packed[b * taps * LANES..(b + 1) * taps * LANES];
        let out = &mut *sums;
        with_simd!(isa, s => match (p, g.kw) {
            (14, 3) => sliding_sums::<_, 14, 3>(s, g, padded, w, out),
            (10, 3) => sliding_sums::<_, 10, 3>(s, g, padded, w, out),
            (8, 3) => sliding_sums::<_, 8, 3>(s, g, padded, w, out),
            (14, 5) => sliding_sums::<_, 14, 5>(s, g, padded, w, out),
            (10, 5) => sliding_sums::<_, 10, 5>(s, g, padded, w, out),
            (8, 5) => sliding_sums::<_, 8, 5>(s, g, padded, w, out),
            _ => unreachable!("sliding_positions gives one of these"),
        });
        let planes = &mut dst[b * LANES * plane..(b + 1) * LANES * plane];
        let shift = bias.map(|bias| &bias[b * LANES..(b + 1) * LANES]);
        transpose(isa, &sums[..plane * LANES], plane, LANES, shift, planes);
    }
}

/// Filter rows per *sliding* tile of the wide weight gradient, where there is one: with
/// AVX-512, blocks of 16 filters and filters 3 or 5 wide, 6 rows of 3 taps or 3 of 5.
///
/// The 1 x 24 tile of 16 filters loads one input per multiply-add (measured at about half
/// the machine's peak). But tap `(c, u, v)` at output `(i, j)` reads the input that tap
/// `(c, u, v + 1)` reads at `(i, j - 1)`: walking along an input row, each input broadcast
/// once serves the `KW` taps of its filter row, each with the output gradient of another
/// position, and the last `KW` of those stay in registers. A step is one load of output
/// gradients, one broadcast per filter row and `KW` multiply-adds per filter row: 18 for 7
/// loads with 6 rows of 3 (15 for 4 with 3 rows of 5). Each sum still goes over the positions in order, so the bits are those of the
/// other tiles. Measured on an AVX-512 machine, one thread: the ResNet's 16 -> 16 layer at
/// 28 x 28, forward and backward, 6.2 ms instead of 7.15; with AVX2 a tile of 1 filter
/// row (the most that fits in 16 registers) was slower than the 1 x 4 tile.
fn sliding_rows(g: &Direct, isa: Isa) -> Option<usize> {
    if isa != Isa::Avx512 || wide_grad_block(g) != Some(LANES) {
        return None;
    }
    match g.kw {
        3 => Some(6),
        5 => Some(3),
        _ => None,
    }
}

/// One sliding tile (see [`sliding_rows`]) for block `b` of 16 filters: the `NU` filter
/// rows whose first taps read the input at `bases` (row `u` of the tile is taps `u KW..(u
/// + 1) KW` of `sums`, rows of `filters`), summed over the output rows `rows`, whose
/// output gradients `dy_t` holds, `(position, filter)`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn sliding_grad_tile<S: Simd, const NU: usize, const KW: usize>(
    s: S,
    g: &Direct,
    padded: &[f32],
    dy_t: &[f32],
    (filters, b): (usize, usize),
    rows: std::ops::Range<usize>,
    bases: [usize; NU],
    sums: &mut [f32],
) {
    let (ow, wp) = (g.out_w(), g.padded().1);
    // The inputs under one output row: ow + KW - 1 of each filter row.
    let span = ow + KW - 1;
    assert!(ow > 0 && dy_t.len() >= rows.len() * ow * filters && (b + 1) * LANES <= filters);
    assert!(sums.len() >= (NU * KW - 1) * filters + (b + 1) * LANES);
    let at = |t: usize| t * filters + b * LANES;
    let mut acc = [[s.zero(); KW]; NU];
    for (u, acc_u) in acc.iter_mut().enumerate() {
        for (v, a) in acc_u.iter_mut().enumerate() {
            *a = load16(s, sums, at(u * KW + v));
        }
    }
    for (i, dy) in rows.zip(dy_t.chunks_exact(ow * filters)) {
        let xs: [&[f32]; NU] = std::array::from_fn(|u| &padded[bases[u] + i * wp..][..span]);
        // d[v]: the output gradients of position j - v (zeros outside the row, not used).
        let mut d = [s.zero(); KW];
        for j in 0..span {
            let new = if j < ow {
                load16(s, dy, j * filters + b * LANES)
            } else {
                s.zero()
            };
            d = std::array::from_fn(|v| if v == 0 { new } else { d[v - 1] });
            // The taps v whose position j - v lies in the row: all but near the ends.
            let taps = (j + 1).saturating_sub(ow)..(j + 1).min(KW);
            if taps == (0..KW) {
                slide(s, &mut acc, &d, (&xs, j), 0..KW);
            } else {
                slide(s, &mut acc, &d, (&xs, j), taps);
            }
        }
    }
    for (u, acc_u) in acc.iter().enumerate() {
        for (v, &a) in acc_u.iter().enumerate() {
            let to: &mut [f32; LANES] = (&mut sums[at(u * KW + v)..][..LANES])
                .try_into()
                .expect("16 floats");
            s.store(a, to);
        }
    }
}

/// The 16 floats of `xs` from `at`.
#[inline(always)]
fn load16<S: Simd>(s: S, xs: &[f32], at: usize) -> S::V {
    s.load(xs[at..][..LANES].try_into().expect("16 floats"))
}

/// Step `j` of a sliding tile: the inputs at `j` of every filter row of `xs`, times the
/// output gradients of positions `j - v` (`d[v]`), added to the sums of the taps `v` in
/// `taps` (every `v` is tried, so that the sums stay in registers).
#[inline(always)]
fn slide<S: Simd, const NU: usize, const KW: usize>(
    s: S,
    acc: &mut [[S::V; KW]; NU],
    d: &[S::V; KW],
    (xs, j): (&[&[f32]; NU], usize),
    taps: std::ops::Range<usize>,
) {
    for (acc_u, xs) in acc.iter_mut().zip(xs) {
        let xv = s.splat(xs[j]);
        for (v, (a, &d)) in acc_u.iter_mut().zip(d).enumerate() {
            if taps.contains(&v) {
                *a = s.mul_add(xv, d, *a);
            }
        }
    }
}

/// [`weight_grad_wide`] by sliding tiles of `NU` filter rows `KW` wide, in blocks of
/// output rows whose gradients stay in the first-level cache.
#[inline(always)]
fn sliding_grad_tiles<S: Simd, const NU: usize, const KW: usize>(
    s: S,
    g: &Direct,
    (padded, dy_t, blocks): (&[f32], &[f32], &[usize]),
    dw_t: &mut [f32],
) {
    let (oh, ow, filters, taps) = (g.out_h(), g.out_w(), g.dst_c, g.taps());
    assert_eq!(g.kw, KW);
    // Rows per block: at most WIDE_GRADIENTS / 16 positions, blocks of one length.
    let most = (WIDE_GRADIENTS / LANES / ow.max(1)).max(1);
    let per = oh.div_ceil(oh.div_ceil(most).max(1)).max(1);
    for i0 in (0..oh).step_by(per) {
        let i1 = oh.min(i0 + per);
        let dy = &dy_t[i0 * ow * filters..i1 * ow * filters];
        for b in 0..filters / LANES {
            for (offs, k0) in blocks.chunks_exact(NU * KW).zip((0..taps).step_by(NU * KW)) {
                let bases = std::array::from_fn(|u| offs[u * KW]);
                let sums = &mut dw_t[k0 * filters..(k0 + NU * KW) * filters];
                sliding_grad_tile::<S, NU, KW>(s, g, padded, dy, (filters, b), i0..i1, bases, sums);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instruction sets this CPU can run (the portable one always): the copies below
    /// have an AVX-512 version; the others copy by slices.
    fn available() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|isa| isa.available()).collect()
    }

    #[test]
    fn sum16_adds_every_entry_of_any_length() {
        for len in [0, 1, 15, 16, 17, 33, 1000] {
            // Small integers: every order of summation is exact.
            let xs: Vec<f32> = (0..len).map(|i| (i % 7) as f32 - 3.0).collect();
            let expected: i64 = (0..len).map(|i| (i % 7) as i64 - 3).sum();
            assert_eq!(sum16(&xs), expected as f32, "length {len}");
        }
    }

    #[test]
    fn sliding_tiles_take_the_layers_whose_flat_layout_wastes_a_quarter() {
        // 16 filters: flat tiles of 8 filters by 3 vectors of 16, so a plane is rounded up
        // to 48 flat outputs. LeNet's second layer: 10 rows of 14 = 140 -> 144 for 100
        // real outputs (44% more); tiles of 10 positions, one per row.
        let lenet = Direct::new((6, 14, 14), (0, 0), (5, 5), 16);
        assert_eq!(sliding_positions(&lenet, Isa::Avx512), Some(10));
        // The ResNet's 28 x 28 layer: 28 rows of 30 = 840 -> 864 for 784 (10% more).
        let resnet = Direct::new((16, 28, 28), (1, 1), (3, 3), 16);
        assert_eq!(sliding_positions(&resnet, Isa::Avx512), None);
        // 2 rows of 16 = 32 -> 48 for 28 (71% more): two tiles of 14.
        let short = Direct::new((16, 2, 14), (1, 1), (3, 3), 16);
        assert_eq!(sliding_positions(&short, Isa::Avx512), Some(14));
        // 32 filters take the wide tiles; AVX2 has no sliding forward tile.
        let wide = Direct::new((6, 14, 14), (0, 0), (5, 5), 32);
        assert_eq!(sliding_positions(&wide, Isa::Avx512), None);
        assert_eq!(sliding_positions(&lenet, Isa::Avx2), None);
    }

    #[test]
    fn positions_and_offsets_of_the_flat_numbering() {
        // 4 x 4 image, padding 1, 3 x 3 filter: padded rows of 6, outputs 4 x 4.
        let g = Direct::new((2, 4, 4), (1, 1), (3, 3), 1);
        let rows: Vec<usize> = (0..4)
            .flat_map(|i| (0..4).map(move |j| 6 * i + j))
            .collect();
        assert_eq!(pixels(&g), rows);
        // Tap (c, u, v) = (1, 2, 1): plane 1 (36 entries on), two rows of 6 down, one right.
        assert_eq!(offsets(&g)[9 + 2 * 3 + 1], 36 + 12 + 1);
        // Two vectors of 16 cover the 4 rows of 6 flat outputs (24 of them).
        assert_eq!(g.vectors(), 2);
    }

    #[test]
    fn spills_send_every_real_flat_output_to_its_dense_place() {
        // Outputs narrower and wider than a vector, rows that end inside a vector.
        for ((h, w), pad, k) in [
            ((4, 4), 1, 3),
            ((28, 28), 1, 3),
            ((14, 14), 0, 5),
            ((3, 40), 2, 5),
        ] {
            let g = Direct::new((1, h, w), (pad, pad), (k, k), 1);
            let (oh, ow, wp) = (g.out_h(), g.out_w(), g.padded().1);
            let spills = spills(&g);
            assert_eq!(spills.len() * LANES, g.flat_len());
            // By the definition: flat output q = i Wp + j is real when i < H' and j < W',
            // and its dense index is i W' + j; lane l of vector v holds q = 16 v + l.
            let mut written = vec![0; oh * ow];
            for (v, s) in spills.iter().enumerate() {
                let mut place = s.start;
                for l in 0..LANES {
                    let q = v * LANES + l;
                    let (i, j) = (q / wp, q % wp);
                    let real = i < oh && j < ow;
                    assert_eq!(s.mask >> l & 1 == 1, real, "{h}x{w}: vector {v}, lane {l}");
                    if real {
                        assert_eq!(place, i * ow + j, "{h}x{w}: vector {v}, lane {l}");
                        written[place] += 1;
                        place += 1;
                    }
                }
            }
            assert!(
                written.iter().all(|&n| n == 1),
                "{h}x{w}: every output once"
            );
        }
    }

    #[test]
    fn padded_planes_hold_the_image_inside_zeros() {
        // Rows narrower and wider than a vector, rows that end inside a vector, no padding.
        let cases = [
            ((3, 5, 7), (2, 1)),
            ((2, 28, 28), (1, 1)),
            ((1, 4, 33), (0, 3)),
            ((2, 3, 16), (0, 0)),
            ((1, 2, 14), (1, 2)),
            // Data that starts inside the second vector of a row and ends in the third.
            ((1, 2, 20), (1, 18)),
        ];
        for ((c, h, w), (ph, pw)) in cases {
            let g = Direct::new((c, h, w), (ph, pw), (3, 3), 1);
            let (hp, wp) = g.padded();
            let src: Vec<f32> = (0..c * h * w).map(|i| i as f32 + 1.0).collect();
            // By the definition: entry (plane, row, column) of the padded layout.
            let expected = |k: usize| -> f32 {
                let (plane, rc) = (k / (hp * wp), k % (hp * wp));
                let (r, col) = (rc / wp, rc % wp);
                let inside = plane < c && (ph..ph + h).contains(&r) && (pw..pw + w).contains(&col);
                if inside {
                    src[plane * h * w + (r - ph) * w + col - pw]
                } else {
                    0.0
                }
            };
            for isa in available() {
                let mut out = vec![f32::NAN; g.padded_len() + 5];
                pad_planes(isa, &src, &g, &mut out);
                for (k, &v) in out[..g.padded_len()].iter().enumerate() {
                    assert_eq!(v, expected(k), "shape {:?}, entry {k}", (c, h, w, ph, pw));
                }
                // Nothing past the padded layout is touched.
                assert!(out[g.padded_len()..].iter().all(|v| v.is_nan()));
            }
        }
    }

    #[test]
    fn rows_are_copied_shifted_and_closed_with_zeros() {
        // (count, width, strides, dst_width): narrow, exactly a vector, wider than two.
        for (count, width, strides, dst_width) in [
            (3, 5, (7, 6), 6),
            (2, 16, (16, 16), 16),
            (4, 28, (30, 28), 28),
            (3, 28, (28, 30), 30),
            (0, 4, (4, 4), 4),
        ] {
            let rows = Rows {
                count,
                width,
                strides,
                dst_width,
            };
            let src: Vec<f32> = (0..count * strides.0 + width).map(|i| i as f32).collect();
            for isa in available() {
                let mut dst = vec![f32::NAN; count * strides.1 + dst_width];
                rows.copy(isa, &src, &mut dst, 0.5);
                for (k, &v) in dst.iter().enumerate() {
                    let (r, c) = (k / strides.1, k % strides.1);
                    let expected = if r >= count || c >= dst_width {
                        f32::NAN // between rows and past the last: untouched
                    } else if c < width {
                        src[r * strides.0 + c] + 0.5
                    } else {
                        0.0
                    };
                    let same = v == expected || (v.is_nan() && expected.is_nan());
                    assert!(
                        same,
                        "{:?}: entry {k} is {v}, not {expected}",
                        (count, width)
                    );
                }
            }
        }
    }

    #[test]
    fn transpose_moves_every_entry_and_adds_the_shift() {
        for (isa, (rows, cols)) in available().into_iter().flat_map(|isa| {
            [(1, 1), (3, 70), (37, 64), (16, 5), (17, 17), (40, 24)].map(|s| (isa, s))
        }) {
            let from: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            let shift: Vec<f32> = (0..cols).map(|j| 1000.0 * j as f32).collect();
            let mut to = vec![f32::NAN; rows * cols];
            transpose(isa, &from, rows, cols, Some(&shift[..]), &mut to);
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(to[j * rows + i], from[i * cols + j] + shift[j]);
                }
            }
        }
    }
}
