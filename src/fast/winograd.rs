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
/// even number of rows and columns, and filters in whole blocks for the wide kernels that
/// do the products ([`block`]).
pub(crate) fn applies(g: &Direct) -> bool {
    g.kh == 3
        && g.kw == 3
        && g.out_h().is_multiple_of(2)
        && g.out_w().is_multiple_of(2)
        && g.out_h() > 0
        && g.out_w() > 0
        && block(g.dst_c).is_some()
}

/// Filters per block of the products for `filters` filters: 64 for a multiple of 64, else
/// 32 for a multiple of 32. The same on every instruction set, so that every CPU computes
/// the same numbers. (For 16 filters the transforms cost more than the products save:
/// the ResNet's 16-channel forward pass took 4% longer than the direct kernel's on the
/// AVX2 machine.)
pub(crate) fn block(filters: usize) -> Option<usize> {
    if direct::is_wide(filters) {
        Some(WIDE)
    } else if filters.is_multiple_of(32) {
        Some(32)
    } else {
        None
    }
}

/// [`block`] of a correlation that [`applies`].
fn block_of(g: &Direct) -> usize {
    block(g.dst_c).expect("F(2x2, 3x3) applies")
}

/// Tiles of 2 x 2 outputs of `g`: rows and columns.
fn tiles(g: &Direct) -> (usize, usize) {
    (g.out_h() / 2, g.out_w() / 2)
}

/// Whether the input transform takes a row of at most 7 tiles in one half vector: with
/// AVX-512 ([`Avx512::winograd_row`]), for rows of up to 7 tiles. Longer rows go 16 tiles
/// at a time on every instruction set ([`transform_input_vectors`]): with AVX-512, half
/// vectors took 40% longer on rows of 14 tiles (the 32-channel layer of 28 x 28), 16
/// lanes 12% longer on rows of 7 (the 64-channel layer of 14 x 14), most of them unused.
fn short_rows(g: &Direct, isa: Isa) -> bool {
    isa == Isa::Avx512 && tiles(g).1 <= ROW_TILES
}

/// Slots per row of tiles in the transformed inputs. For [`short_rows`] 8 for every 7
/// tiles, so that each vector of 7 tiles is stored as 8 aligned lanes (the eighth slot is
/// never read); elsewhere one per tile.
fn row_slots(g: &Direct, isa: Isa) -> usize {
    if short_rows(g, isa) {
        tiles(g).1.div_ceil(ROW_TILES) * 8
    } else {
        tiles(g).1
    }
}

/// Slots of one channel of one `V_xi`: the rows of tiles, and (but for [`short_rows`])
/// room for the last row's vector of 16 tiles.
fn channel_slots(g: &Direct, isa: Isa) -> usize {
    let rows = tiles(g).0 * row_slots(g, isa);
    if short_rows(g, isa) {
        rows
    } else {
        rows + LANES
    }
}

/// The slot of every tile, row by row.
fn slots(g: &Direct, isa: Isa) -> Vec<usize> {
    let (th, tw) = tiles(g);
    let rs = row_slots(g, isa);
    let short = short_rows(g, isa);
    (0..th)
        .flat_map(|ti| {
            (0..tw).map(move |tj| match short {
                true => ti * rs + tj / ROW_TILES * 8 + tj % ROW_TILES,
                false => ti * rs + tj,
            })
        })
        .collect()
}

/// The transformed filters `U_xi = G g G^T`, for every block of `n` filters ([`block`]),
/// `xi` and channel a row of `n` filters: entry `((b XI + xi) C + c) n + k % n` for filter
/// `k` of block `b = k / n`. `weight(k, c, u, v)` is tap `(u, v)` of the 3 x 3 filter `k`
/// on channel `c`.
pub(crate) fn transform_filters(
    g: &Direct,
    weight: impl Fn(usize, usize, usize, usize) -> f32,
    out: &mut Vec<f32>,
) {
    let c_count = g.src_c;
    let n = block_of(g);
    out.clear();
    out.resize(g.dst_c * XI * c_count, 0.0);
    for k in 0..g.dst_c {
        let (b, kk) = (k / n, k % n);
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
                    out[((b * XI + 4 * i + j) * c_count + c) * n + kk] = value;
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
    /// `M_xi[tile, k]` for one block of filters ([`block`]): `XI` matrices of whole tiles of
    /// positions by the block's filters.
    products: Vec<f32>,
    /// The block's outputs, `(position, filter)`, before the transpose into planes.
    outputs: Vec<f32>,
    /// The weight gradient's transformed output gradients, `(A dY A^T)_xi[tile, k]`.
    grads: Vec<f32>,
    /// The weight gradient's sums over the images so far, `S_xi[c, k]` per block
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
    let n = block_of(g);
    let (th, tw) = tiles(g);
    let (count, c_count) = (th * tw, g.src_c);
    let width = channel_slots(g, isa);
    let plane = g.out_h() * g.out_w();
    assert!(filters.len() >= g.dst_c * XI * c_count && dst.len() >= g.dst_c * plane);
    let inputs = transform_input(isa, g, padded, &mut scratch.inputs);
    // Channel c of V_xi starts at c * width: the channels are the "taps" of the products,
    // the tiles' slots the positions.
    let offsets: Vec<usize> = (0..c_count).map(|c| c * width).collect();
    let offsets = Bounded::new(&offsets);
    let positions = slots(g, isa);
    let stride = wide_sums_len(count, n);
    scratch.products.resize(XI * stride, 0.0);
    scratch.outputs.resize(plane * n, 0.0);
    for b in 0..g.dst_c / n {
        for xi in 0..XI {
            let v = &inputs[xi * c_count * width..(xi + 1) * c_count * width];
            let u = &filters[(b * XI + xi) * c_count * n..][..c_count * n];
            let m = &mut scratch.products[xi * stride..(xi + 1) * stride];
            wide_sums(isa, n, v, (u, offsets), &positions, m, false);
        }
        transform_output(isa, g, n, &scratch.products, stride, &mut scratch.outputs);
        let planes = &mut dst[b * n * plane..(b + 1) * n * plane];
        let shift = bias.map(|bias| &bias[b * n..(b + 1) * n]);
        direct::transpose(isa, &scratch.outputs, plane, n, shift, planes);
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
    let len = XI * g.src_c * channel_slots(g, isa);
    buffer.resize(len + LANES, 0.0);
    let v = direct::aligned(buffer);
    assert!(v.len() >= len);
    #[cfg(target_arch = "x86_64")]
    if short_rows(g, isa) {
        let t = Avx512::new().expect("AVX-512 asked for on a CPU without it");
        t.run(
            #[inline(always)]
            |t| transform_input_avx512(t, g, padded, v),
        );
        return v;
    }
    let out: &mut [f32] = &mut *v;
    with_simd!(isa, s => transform_input_vectors(s, isa, g, padded, out));
    v
}

/// The place of entry `xi = 0` of the first tile of a row of 7, `(c width + ti rs + t0 /
/// 7 * 8`, and the distance from one `xi` to the next, `C width`.
#[inline(always)]
fn row_place(g: &Direct, c: usize, ti: usize, t0: usize) -> (usize, usize) {
    let (rs, c_count) = (row_slots(g, Isa::Avx512), g.src_c);
    let width = channel_slots(g, Isa::Avx512);
    (c * width + ti * rs + t0 / ROW_TILES * 8, c_count * width)
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
                t.winograd_row(rows, columns, v, row_place(g, c, ti, t0));
            }
        }
    }
}

/// 16 tiles of a row at once, as vectors: column `2 t + j` of the tiles `t` from `t0` is
/// lane `t - t0` of the even (`j = 0, 2`) or odd (`j = 1, 3`) columns of a padded row,
/// read from column `2 t0` (`j = 0, 1`) or `2 t0 + 2` (`j = 2, 3`), each pair of vectors
/// by one [`Simd::deinterleave`] of 32 floats; then the same additions and subtractions
/// on every instruction set, in the same order (B^T on the rows of the patch, then on its
/// columns), so the same bits. Entry `xi` of the row's tiles goes to its 16 slots from
/// `ti tw + t0` of channel `c` of `V_xi`: the lanes past the row's last tile (read from
/// the next row, or zeros past the data) spill into slots that a later store (the next
/// row's, or the room at the end) overwrites or that are never read.
#[inline(always)]
fn transform_input_vectors<S: Simd>(s: S, isa: Isa, g: &Direct, padded: &[f32], v: &mut [f32]) {
    let (_, wp) = g.padded();
    let (th, tw) = tiles(g);
    let plane = g.padded().0 * wp;
    let c_count = g.src_c;
    let width = channel_slots(g, isa);
    for c in 0..c_count {
        for ti in 0..th {
            for t0 in (0..tw).step_by(LANES) {
                // Columns 2 t + j, j = 0..4, of the patch's four rows, for the 16 tiles.
                // No closure wraps the vector operations: a closure is compiled without the
                // instruction set, and its loads would become calls.
                let mut d = [[s.zero(); 4]; 4];
                for (r, d) in d.iter_mut().enumerate() {
                    let row = c * plane + (2 * ti + r) * wp + 2 * t0;
                    (d[0], d[1]) = column_pairs(s, padded, row);
                    (d[2], d[3]) = column_pairs(s, padded, row + 2);
                }
                let [d0, d1, d2, d3] = d;
                // The rows of B^T d (row 0 - row 2, 1 + 2, 2 - 1, 1 - 3), column by column,
                // then B on the columns of each; entry xi = 4 i + j of V_xi.
                let base = c * width + ti * tw + t0;
                let stride = c_count * width;
                let rows = [
                    [
                        s.sub(d0[0], d2[0]),
                        s.sub(d0[1], d2[1]),
                        s.sub(d0[2], d2[2]),
                        s.sub(d0[3], d2[3]),
                    ],
                    [
                        s.add(d1[0], d2[0]),
                        s.add(d1[1], d2[1]),
                        s.add(d1[2], d2[2]),
                        s.add(d1[3], d2[3]),
                    ],
                    [
                        s.sub(d2[0], d1[0]),
                        s.sub(d2[1], d1[1]),
                        s.sub(d2[2], d1[2]),
                        s.sub(d2[3], d1[3]),
                    ],
                    [
                        s.sub(d1[0], d3[0]),
                        s.sub(d1[1], d3[1]),
                        s.sub(d1[2], d3[2]),
                        s.sub(d1[3], d3[3]),
                    ],
                ];
                let mut values = [s.zero(); XI];
                for (i, t) in rows.into_iter().enumerate() {
                    values[4 * i..4 * i + 4].copy_from_slice(&[
                        s.sub(t[0], t[2]),
                        s.add(t[1], t[2]),
                        s.sub(t[2], t[1]),
                        s.sub(t[1], t[3]),
                    ]);
                }
                // V_xi is plane xi of `v`: the planes all have the same length, so one
                // check of `base + 16 <= stride` serves the 16 stores (with an index
                // `base + xi stride` into `v`, each store was checked on its own).
                for (plane, value) in v[..XI * stride].chunks_exact_mut(stride).zip(values) {
                    let slots = &mut plane[base..base + LANES];
                    s.store(value, slots.try_into().expect("16 floats"));
                }
            }
        }
    }
}

/// The even and odd entries of the 32 floats of `padded` from `at`, zeros past its end.
#[inline(always)]
fn column_pairs<S: Simd>(s: S, padded: &[f32], at: usize) -> (S::V, S::V) {
    match padded.get(at..at + 2 * LANES) {
        Some(pairs) => s.deinterleave(pairs.try_into().expect("32 floats")),
        None => {
            let mut pairs = [0.0; 2 * LANES];
            let rest = &padded[at.min(padded.len())..];
            pairs[..rest.len()].copy_from_slice(rest);
            s.deinterleave(&pairs)
        }
    }
}

/// The outputs `A^T m A` of every tile, `A^T = [1 1 1 0; 0 1 -1 -1]`, from the products
/// `m` of one block of filters ([`block`]) (matrix `xi` at `xi * stride`, rows of the block's filters), into
/// `out[(position, filter)]`.
fn transform_output(
    isa: Isa,
    g: &Direct,
    n: usize,
    products: &[f32],
    stride: usize,
    out: &mut [f32],
) {
    let (th, tw) = tiles(g);
    let ow = g.out_w();
    assert!(products.len() >= (XI - 1) * stride + th * tw * n);
    assert!(out.len() >= g.out_h() * ow * n);
    with_simd!(isa, s => transform_output_in(s, g, n, products, stride, out))
}

#[inline(always)]
fn transform_output_in<S: Simd>(
    s: S,
    g: &Direct,
    n: usize,
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
            for lane0 in (0..n).step_by(LANES) {
                let p: [S::V; XI] = std::array::from_fn(|xi| {
                    s.load(&vector(&products[xi * stride + tile * n + lane0..]))
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
                        let at = position * n + lane0;
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
    let n = block_of(g);
    let (th, tw) = tiles(g);
    let (count, c_count, k_count) = (th * tw, g.src_c, g.dst_c);
    let width = channel_slots(g, isa);
    assert!(dy_t.len() >= g.out_h() * g.out_w() * k_count);
    let inputs = transform_input(isa, g, padded, &mut scratch.inputs);
    scratch.grads.resize(k_count * XI * count, 0.0);
    transform_grads(isa, g, n, dy_t, &mut scratch.grads);
    // The tiles are the "taps" (their slots in V_xi, and rows of E_xi), the channels the
    // positions (rows of V_xi).
    let taps = slots(g, isa);
    let taps = Bounded::new(&taps);
    let positions: Vec<usize> = (0..c_count).map(|c| c * width).collect();
    let stride = wide_sums_len(c_count, n);
    scratch.weight_sums.resize(k_count / n * XI * stride, 0.0);
    for b in 0..k_count / n {
        for xi in 0..XI {
            let v = &inputs[xi * c_count * width..(xi + 1) * c_count * width];
            let e = &scratch.grads[(b * XI + xi) * count * n..][..count * n];
            let sums = &mut scratch.weight_sums[(b * XI + xi) * stride..][..stride];
            wide_sums(isa, n, v, (e, taps), &positions, sums, !first);
        }
    }
}

/// The weight gradient from the sums of [`weight_grad_image`]: `dw[(k, c, u, v)]` (the
/// layout of `W`) = `(G^T S[c, k] G)[u, v]`, with `G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0;
/// 0 1/2 1/2 1]`, 16 filters at a time into rows of the block's filters per tap, then transposed.
pub(crate) fn weight_grad_finish(isa: Isa, g: &Direct, scratch: &mut Scratch, dw: &mut [f32]) {
    let (c_count, k_count) = (g.src_c, g.dst_c);
    let taps = c_count * 9;
    let n = block_of(g);
    let stride = wide_sums_len(c_count, n);
    assert!(dw.len() >= k_count * taps);
    assert!(scratch.weight_sums.len() >= k_count / n * XI * stride);
    scratch.outputs.resize(taps * n, 0.0);
    for b in 0..k_count / n {
        let sums = &scratch.weight_sums[b * XI * stride..(b + 1) * XI * stride];
        for c in 0..c_count {
            for kk in (0..n).step_by(LANES) {
                let s: [[f32; LANES]; XI] = std::array::from_fn(|xi| {
                    std::array::from_fn(|l| sums[xi * stride + c * n + kk + l])
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
                        scratch.outputs[row * n + kk..][..LANES].copy_from_slice(w);
                    }
                }
            }
        }
        // Rows of the block's filters per tap into the rows of the filters, `(k, tap)`.
        let block = &mut dw[b * n * taps..(b + 1) * n * taps];
        direct::transpose(isa, &scratch.outputs, taps, n, None, block);
    }
}

/// `E_xi[tile, k] = (A e A^T)[xi]` for every tile of 2 x 2 output gradients `e` and every
/// filter, `A = [1 0; 1 1; 1 -1; 0 -1]`: matrix `(b XI + xi)` of `tiles x n` for the
/// block `b` of filters. `dy_t` holds the output gradient as `(position, filter)`.
fn transform_grads(isa: Isa, g: &Direct, n: usize, dy_t: &[f32], e: &mut [f32]) {
    let (th, tw) = tiles(g);
    assert!(dy_t.len() >= g.out_h() * g.out_w() * g.dst_c);
    assert!(e.len() >= g.dst_c * XI * th * tw);
    with_simd!(isa, s => transform_grads_in(s, g, n, dy_t, e))
}

#[inline(always)]
fn transform_grads_in<S: Simd>(s: S, g: &Direct, n: usize, dy_t: &[f32], e: &mut [f32]) {
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
                let (blk, kk) = (k0 / n, k0 % n);
                for (i, [x, y]) in rows.into_iter().enumerate() {
                    let cols = [x, s.add(x, y), s.sub(x, y), s.sub(s.zero(), y)];
                    for (j, value) in cols.into_iter().enumerate() {
                        let at = ((blk * XI + 4 * i + j) * count + tile) * n + kk;
                        s.store(value, (&mut e[at..at + LANES]).try_into().expect("16"));
                    }
                }
            }
        }
    }
}
