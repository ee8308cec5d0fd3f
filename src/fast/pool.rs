//! Pooling on contiguous planes, threads over the `N C` planes (chapter
//! `16-fast-convolution`): the same outputs, switches and gradients as the loops of
//! [`crate::pool`], bit for bit (every window visited in the same order), without
//! four-dimensional indexing in the inner loops.

use std::ops::Range;

use ndarray::{Array4, ArrayView4};
use rayon::prelude::*;

use crate::conv::ConvDims;
use crate::error::Result;
use crate::pool::{check_switches, grad_dims, PoolConfig, Switches};
use crate::shape::Window;
use crate::tensor::zeros4_par;

/// The real (unpadded) input rows or columns of each output row or column.
fn spans(config: &PoolConfig, outputs: usize, size: usize) -> Vec<Range<usize>> {
    let window = Window {
        field: config.field,
        padding: config.padding,
        stride: config.stride,
    };
    (0..outputs).map(|i| window.real_inputs(i, size)).collect()
}

/// The window's rows and columns, and the divisor of each output of average pooling.
struct Windows {
    rows: Vec<Range<usize>>,
    cols: Vec<Range<usize>>,
    /// Every window lies inside the input, unpadded: `F x F` inputs each.
    full: bool,
}

impl Windows {
    fn new(d: &ConvDims, config: &PoolConfig) -> Self {
        let rows = spans(config, d.out_height, d.height);
        let cols = spans(config, d.out_width, d.width);
        let f = config.field;
        let full = rows.iter().chain(&cols).all(|r| r.len() == f);
        Windows { rows, cols, full }
    }
}

// ANCHOR: max_pool_fast
/// Max pooling, plane by plane: the same outputs and switches as
/// [`crate::pool::max_pool2d`] (ties, padding and NaNs included).
pub fn max_pool2d(input: ArrayView4<f32>, config: PoolConfig) -> Result<(Array4<f32>, Switches)> {
    let d = config.dims(input.dim())?;
    let win = Windows::new(&d, &config);
    let (h, w, oh, ow) = (d.height, d.width, d.out_height, d.out_width);
    let shape = (d.batch, d.channels, oh, ow);
    let x = input.as_standard_layout();
    let xs = x.as_slice().expect("standard layout");
    let mut output = zeros4_par(shape);
    let mut switches = Array4::from_elem(shape, (0u32, 0u32));
    output
        .as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(oh * ow)
        .zip(
            switches
                .as_slice_mut()
                .expect("fresh array")
                .par_chunks_mut(oh * ow),
        )
        .zip(xs.par_chunks(h * w))
        .for_each(|((out, sw), plane)| {
            for (i, rows) in win.rows.iter().enumerate() {
                let (out, sw) = (
                    &mut out[i * ow..(i + 1) * ow],
                    &mut sw[i * ow..(i + 1) * ow],
                );
                match (config.field, config.stride, win.full) {
                    // Windows side by side, of a size known to the compiler.
                    (2, 2, true) => max_windows::<2>(out, sw, plane, w, rows.start),
                    (3, 3, true) => max_windows::<3>(out, sw, plane, w, rows.start),
                    _ => {
                        for ((best, at), cols) in out.iter_mut().zip(sw.iter_mut()).zip(&win.cols) {
                            let (r0, q0) = (rows.start, cols.start);
                            let mut flat = r0 * w + q0;
                            *best = plane[flat];
                            for r in rows.clone() {
                                for q in cols.clone() {
                                    take_larger(best, &mut flat, plane[r * w + q], r * w + q);
                                }
                            }
                            *at = ((flat / w) as u32, (flat % w) as u32);
                        }
                    }
                }
            }
        });
    Ok((output, switches))
}

/// All ones where `value` takes the place of `best`: strictly greater, or a NaN over a
/// number (the first maximum in row-major order wins; a NaN wins and stays); else zero.
/// Masks and bit operations rather than a branch: on real activations which input wins
/// is a coin toss the processor mispredicts, and the compiler turns these loops over
/// [`LANES`] windows into vector instructions (a 2 x 2 pooling of 32 channels of 28 x 28,
/// batch 64, one thread: 7.2 ms with the branch, 1.3 ms with masks).
#[inline(always)]
fn wins(value: f32, best: f32) -> u32 {
    let nan_over_number = value.is_nan() & !best.is_nan();
    ((value > best) | nan_over_number) as u32 * u32::MAX
}

/// `a` where `mask` is all ones, `b` where it is zero.
#[inline(always)]
fn pick(mask: u32, a: u32, b: u32) -> u32 {
    (a & mask) | (b & !mask)
}

/// `best` and its position `at` become `value` and `pos` where [`wins`] says so.
#[inline(always)]
fn take_larger(best: &mut f32, at: &mut usize, value: f32, pos: usize) {
    let mask = wins(value, *best);
    *best = f32::from_bits(pick(mask, value.to_bits(), best.to_bits()));
    *at = if mask != 0 { pos } else { *at };
}

/// Windows processed together by [`max_windows`].
const LANES: usize = 8;

/// The widest window [`max_windows`] takes (its callers: 2 x 2 and 3 x 3).
const MAX_F: usize = 3;

/// One row of `F x F` windows with stride `F` starting at input row `r0`: the maxima in
/// `out` and their switches in `sw`, each window visited row by row, left to right.
/// [`LANES`] windows at a time, in arrays the compiler keeps in vector registers; the
/// last few are copied into a full block first.
fn max_windows<const F: usize>(
    out: &mut [f32],
    sw: &mut [(u32, u32)],
    plane: &[f32],
    w: usize,
    r0: usize,
) {
    const { assert!(F <= MAX_F, "max_windows takes windows up to MAX_F wide") };
    let mut spare = [[0.0f32; LANES * MAX_F]; F];
    for j0 in (0..out.len()).step_by(LANES) {
        let n = LANES.min(out.len() - j0);
        let (best, k) = if n == LANES {
            max_block::<F>(std::array::from_fn(|dr| {
                &plane[(r0 + dr) * w + j0 * F..][..LANES * F]
            }))
        } else {
            for (dr, spare) in spare.iter_mut().enumerate() {
                spare[..n * F].copy_from_slice(&plane[(r0 + dr) * w + j0 * F..][..n * F]);
            }
            max_block::<F>(std::array::from_fn(|dr| &spare[dr][..LANES * F]))
        };
        for l in 0..n {
            let j = j0 + l;
            out[j] = best[l];
            sw[j] = (
                r0 as u32 + k[l] / F as u32,
                (j * F) as u32 + k[l] % F as u32,
            );
        }
    }
}

/// The maxima of [`LANES`] side-by-side `F x F` windows (`rows` holds their `F` rows,
/// `LANES * F` entries each), and where each was found: `k = dr * F + dq`.
#[inline(always)]
fn max_block<const F: usize>(rows: [&[f32]; F]) -> ([f32; LANES], [u32; LANES]) {
    let mut b: [f32; LANES] = std::array::from_fn(|l| rows[0][l * F]);
    let mut k = [0u32; LANES];
    for (dr, row) in rows.iter().enumerate() {
        let row = &row[..LANES * F];
        for dq in 0..F {
            let value: [f32; LANES] = std::array::from_fn(|l| row[l * F + dq]);
            let at = (dr * F + dq) as u32;
            for l in 0..LANES {
                let mask = wins(value[l], b[l]);
                b[l] = f32::from_bits(pick(mask, value[l].to_bits(), b[l].to_bits()));
                k[l] = pick(mask, at, k[l]);
            }
        }
    }
    (b, k)
}

/// The backward pass of [`max_pool2d`]: [`crate::pool::max_pool2d_backward`] plane by
/// plane.
pub fn max_pool2d_backward(
    grad_output: ArrayView4<f32>,
    switches: ArrayView4<(u32, u32)>,
    input_shape: (usize, usize, usize, usize),
) -> Result<Array4<f32>> {
    check_switches(grad_output.dim(), switches, input_shape)?;
    let (_, _, h, w) = input_shape;
    let (_, _, oh, ow) = grad_output.dim();
    let g = grad_output.as_standard_layout();
    let s = switches.as_standard_layout();
    let mut grad_input = zeros4_par(input_shape);
    grad_input
        .as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(h * w)
        .zip(g.as_slice().expect("standard layout").par_chunks(oh * ow))
        .zip(s.as_slice().expect("standard layout").par_chunks(oh * ow))
        .for_each(|((plane, g), s)| {
            for (&gv, &(r, q)) in g.iter().zip(s) {
                plane[r as usize * w + q as usize] += gv;
            }
        });
    Ok(grad_input)
}
// ANCHOR_END: max_pool_fast

/// Average pooling, plane by plane: the same outputs as [`crate::pool::avg_pool2d`], bit
/// for bit (each window summed in the same order).
pub fn avg_pool2d(input: ArrayView4<f32>, config: PoolConfig) -> Result<Array4<f32>> {
    let d = config.dims(input.dim())?;
    let win = Windows::new(&d, &config);
    let (h, w, oh, ow) = (d.height, d.width, d.out_height, d.out_width);
    let (field, stride) = (config.field, config.stride);
    let divisors: Vec<f32> = (0..oh * ow)
        .map(|p| config.divisor(&d, p / ow, p % ow) as f32)
        .collect();
    let x = input.as_standard_layout();
    let xs = x.as_slice().expect("standard layout");
    let mut output = zeros4_par((d.batch, d.channels, oh, ow));
    output
        .as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(oh * ow)
        .zip(xs.par_chunks(h * w))
        .for_each(|(out, plane)| {
            // Row by row of windows: each output's sum grows by the window's rows in
            // order, its entries left to right, as in the loops of `avg_pool2d`.
            for (i, out) in out.chunks_exact_mut(ow).enumerate() {
                out.fill(0.0);
                for r in win.rows[i].clone() {
                    let row = &plane[r * w..(r + 1) * w];
                    match (field, stride, win.full) {
                        // Windows side by side, of a size known to the compiler: a loop
                        // it vectorizes (LeNet's 2 x 2 pooling).
                        (2, 2, true) => add_windows::<2>(out, row),
                        (3, 3, true) => add_windows::<3>(out, row),
                        _ => {
                            for (sum, cols) in out.iter_mut().zip(&win.cols) {
                                for &v in &row[cols.clone()] {
                                    *sum += v;
                                }
                            }
                        }
                    }
                }
                let divisors = &divisors[i * ow..(i + 1) * ow];
                out.iter_mut().zip(divisors).for_each(|(sum, &n)| *sum /= n);
            }
        });
    Ok(output)
}

/// `sums[j] += row[F j] + ... + row[F j + F - 1]`, added one by one, left to right: the
/// windows of one row for `F x F` pooling with stride `F`.
fn add_windows<const F: usize>(sums: &mut [f32], row: &[f32]) {
    for (sum, window) in sums.iter_mut().zip(row.chunks_exact(F)) {
        for &v in window {
            *sum += v;
        }
    }
}

/// The backward pass of [`avg_pool2d`]: [`crate::pool::avg_pool2d_backward`] plane by
/// plane, bit for bit (every input's shares added in the same order).
pub fn avg_pool2d_backward(
    grad_output: ArrayView4<f32>,
    input_shape: (usize, usize, usize, usize),
    config: PoolConfig,
) -> Result<Array4<f32>> {
    let d = grad_dims(grad_output.dim(), input_shape, config)?;
    let win = Windows::new(&d, &config);
    let (h, w, oh, ow) = (d.height, d.width, d.out_height, d.out_width);
    let shares: Vec<f32> = (0..oh * ow)
        .map(|p| 1.0 / config.divisor(&d, p / ow, p % ow) as f32)
        .collect();
    let g = grad_output.as_standard_layout();
    let mut grad_input = zeros4_par(input_shape);
    grad_input
        .as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(h * w)
        .zip(g.as_slice().expect("standard layout").par_chunks(oh * ow))
        .for_each(|(plane, g)| {
            for (i, rows) in win.rows.iter().enumerate() {
                for (j, cols) in win.cols.iter().enumerate() {
                    let gs = g[i * ow + j] * shares[i * ow + j];
                    for r in rows.clone() {
                        plane[r * w + cols.start..r * w + cols.end]
                            .iter_mut()
                            .for_each(|x| *x += gs);
                    }
                }
            }
        });
    Ok(grad_input)
}
