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
                for (j, cols) in win.cols.iter().enumerate() {
                    let (r0, q0) = (rows.start, cols.start);
                    let (mut best, mut at) = (plane[r0 * w + q0], (r0, q0));
                    for r in rows.clone() {
                        let row = &plane[r * w + cols.start..r * w + cols.end];
                        for (v, &value) in row.iter().enumerate() {
                            // Strictly greater: the first maximum in row-major order
                            // wins. A NaN wins, and stays.
                            if value > best || (value.is_nan() && !best.is_nan()) {
                                best = value;
                                at = (r, cols.start + v);
                            }
                        }
                    }
                    out[i * ow + j] = best;
                    sw[i * ow + j] = (at.0 as u32, at.1 as u32);
                }
            }
        });
    Ok((output, switches))
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
