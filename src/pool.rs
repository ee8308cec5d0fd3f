//! Pooling: max and average over windows of each channel, forward and backward
//! (chapter `07-pooling`).
//!
//! Pooling summarises each `F x F` window of every channel by one number, moving by a
//! stride `S` (the common `F = 2, S = 2` keeps one activation in four; `F = 3, S = 2`,
//! AlexNet's choice, makes neighbouring windows overlap). It has no parameters, and it
//! leaves the number of channels unchanged.
//!
//! Backward, the error of each pooled output goes back to the inputs of its window:
//! - **max pooling** sends all of it to the input that won (its *switch*), because only
//!   that input influenced the output; the others get nothing;
//! - **average pooling** spreads it evenly, `1 / F^2` to each input.
//!
//! **Ties.** When several inputs of a window share the maximum, the first one in row-major
//! order wins and receives the whole gradient (PyTorch does the same). Any choice among
//! the tied inputs is a valid subgradient; choosing one keeps the sum of the input
//! gradients equal to the sum of the output gradients.

use ndarray::{Array4, ArrayView4};

use crate::conv::{Conv2dConfig, ConvDims};
use crate::error::ShapeError;
use crate::layer::zeros4_par;

// ANCHOR: config
/// Window size and stride of a pooling layer (no padding, the same along both axes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    pub field: usize,
    pub stride: usize,
}

impl Default for PoolConfig {
    /// `F = 2, S = 2`: halve width and height.
    fn default() -> Self {
        PoolConfig {
            field: 2,
            stride: 2,
        }
    }
}
// ANCHOR_END: config

impl PoolConfig {
    /// Checks `(N, C, H, W)` against the window, with the output-size formula along each axis.
    fn dims(&self, input: (usize, usize, usize, usize)) -> Result<ConvDims, ShapeError> {
        let (_, c, _, _) = input;
        let config = Conv2dConfig {
            stride: self.stride,
            padding: 0,
        };
        // A pooling window is a convolution window with one "filter" per channel.
        ConvDims::new(input, (c, c, self.field, self.field), config)
    }
}

/// For every pooled output, the `(row, column)` in the input of the value that won.
pub type Switches = Array4<(u32, u32)>;

// ANCHOR: max_pool
/// Max pooling. Returns the pooled maps `(N, C, H', W')` and, for every output, the
/// position `(row, column)` in the input of the value that won: its switch, which the
/// backward pass (and DeconvNet's unpooling) reuses.
pub fn max_pool2d(
    input: ArrayView4<f32>,
    config: PoolConfig,
) -> Result<(Array4<f32>, Switches), ShapeError> {
    let d = config.dims(input.dim())?;
    let shape = (d.batch, d.channels, d.out_height, d.out_width);
    let mut output = Array4::zeros(shape);
    let mut switches = Array4::from_elem(shape, (0u32, 0u32));
    for n in 0..d.batch {
        for c in 0..d.channels {
            for i in 0..d.out_height {
                for j in 0..d.out_width {
                    let mut at = (i * config.stride, j * config.stride);
                    let mut best = input[[n, c, at.0, at.1]];
                    for u in 0..config.field {
                        for v in 0..config.field {
                            let (r, q) = (i * config.stride + u, j * config.stride + v);
                            // Strictly greater: the first maximum in row-major order wins.
                            if input[[n, c, r, q]] > best {
                                best = input[[n, c, r, q]];
                                at = (r, q);
                            }
                        }
                    }
                    output[[n, c, i, j]] = best;
                    switches[[n, c, i, j]] = (at.0 as u32, at.1 as u32);
                }
            }
        }
    }
    Ok((output, switches))
}

/// Backward pass of max pooling: each output's gradient goes, whole, to its switch.
pub fn max_pool2d_backward(
    grad_output: ArrayView4<f32>,
    switches: ArrayView4<(u32, u32)>,
    input_shape: (usize, usize, usize, usize),
) -> Result<Array4<f32>, ShapeError> {
    if grad_output.dim() != switches.dim() {
        return Err(ShapeError::Mismatch(format!(
            "max-pool backward: gradient {:?} and switches {:?} differ",
            grad_output.dim(),
            switches.dim()
        )));
    }
    let mut grad_input = Array4::zeros(input_shape);
    for ((n, c, i, j), &(r, q)) in switches.indexed_iter() {
        let (r, q) = (r as usize, q as usize);
        if r >= input_shape.2 || q >= input_shape.3 {
            return Err(ShapeError::Mismatch(format!(
                "a switch points at ({r}, {q}) outside the input {input_shape:?}"
            )));
        }
        grad_input[[n, c, r, q]] += grad_output[[n, c, i, j]];
    }
    Ok(grad_input)
}
// ANCHOR_END: max_pool

/// The sizes of pooling `input_shape`, checked against the shape of the output gradient.
fn grad_dims(
    grad: (usize, usize, usize, usize),
    input_shape: (usize, usize, usize, usize),
    config: PoolConfig,
) -> Result<ConvDims, ShapeError> {
    let d = config.dims(input_shape)?;
    let expected = (d.batch, d.channels, d.out_height, d.out_width);
    if grad != expected {
        return Err(ShapeError::Mismatch(format!(
            "avg-pool backward: gradient {grad:?}, but pooling {input_shape:?} gives {expected:?}"
        )));
    }
    Ok(d)
}

// ANCHOR: avg_pool
/// Average pooling: the mean of each window.
pub fn avg_pool2d(input: ArrayView4<f32>, config: PoolConfig) -> Result<Array4<f32>, ShapeError> {
    let d = config.dims(input.dim())?;
    let area = (config.field * config.field) as f32;
    let mut output = Array4::zeros((d.batch, d.channels, d.out_height, d.out_width));
    for ((n, c, i, j), out) in output.indexed_iter_mut() {
        let mut sum = 0.0;
        for u in 0..config.field {
            for v in 0..config.field {
                sum += input[[n, c, i * config.stride + u, j * config.stride + v]];
            }
        }
        *out = sum / area;
    }
    Ok(output)
}

/// Backward pass of average pooling: each output's gradient is shared equally by the
/// `F^2` inputs of its window (overlapping windows add up).
pub fn avg_pool2d_backward(
    grad_output: ArrayView4<f32>,
    input_shape: (usize, usize, usize, usize),
    config: PoolConfig,
) -> Result<Array4<f32>, ShapeError> {
    grad_dims(grad_output.dim(), input_shape, config)?;
    let share = 1.0 / (config.field * config.field) as f32;
    let mut grad_input = Array4::zeros(input_shape);
    for ((n, c, i, j), &g) in grad_output.indexed_iter() {
        for u in 0..config.field {
            for v in 0..config.field {
                grad_input[[n, c, i * config.stride + u, j * config.stride + v]] += g * share;
            }
        }
    }
    Ok(grad_input)
}
// ANCHOR_END: avg_pool

// ANCHOR: max_pool_fast
/// Max pooling on contiguous planes, threads over the `N C` planes: the same outputs and
/// switches as [`max_pool2d`] (ties included), without four-dimensional indexing in the
/// inner loop (chapter `16-fast-convolution`).
pub fn max_pool2d_fast(
    input: ArrayView4<f32>,
    config: PoolConfig,
) -> Result<(Array4<f32>, Switches), ShapeError> {
    use rayon::prelude::*;
    let d = config.dims(input.dim())?;
    let (h, w, oh, ow) = (d.height, d.width, d.out_height, d.out_width);
    let (field, stride) = (config.field, config.stride);
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
            for i in 0..oh {
                for j in 0..ow {
                    let (r0, q0) = (i * stride, j * stride);
                    let (mut best, mut at) = (plane[r0 * w + q0], (r0, q0));
                    for r in r0..r0 + field {
                        let row = &plane[r * w + q0..r * w + q0 + field];
                        for (v, &value) in row.iter().enumerate() {
                            // Strictly greater: the first maximum in row-major order wins.
                            if value > best {
                                best = value;
                                at = (r, q0 + v);
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

/// The backward pass of [`max_pool2d_fast`]: [`max_pool2d_backward`] plane by plane.
pub fn max_pool2d_backward_fast(
    grad_output: ArrayView4<f32>,
    switches: ArrayView4<(u32, u32)>,
    input_shape: (usize, usize, usize, usize),
) -> Result<Array4<f32>, ShapeError> {
    use rayon::prelude::*;
    if grad_output.dim() != switches.dim() {
        return Err(ShapeError::Mismatch(format!(
            "max-pool backward: gradient {:?} and switches {:?} differ",
            grad_output.dim(),
            switches.dim()
        )));
    }
    let (n, c, h, w) = input_shape;
    let (gn, gc, oh, ow) = grad_output.dim();
    if (gn, gc) != (n, c) {
        return Err(ShapeError::Mismatch(format!(
            "max-pool backward: gradient {:?} for an input {input_shape:?}",
            grad_output.dim()
        )));
    }
    if let Some(&(r, q)) = switches
        .iter()
        .find(|&&(r, q)| r as usize >= h || q as usize >= w)
    {
        return Err(ShapeError::Mismatch(format!(
            "a switch points at ({r}, {q}) outside the input {input_shape:?}"
        )));
    }
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

/// Average pooling on contiguous planes, threads over the `N C` planes: the same outputs
/// as [`avg_pool2d`], bit for bit (each window summed in the same order).
pub fn avg_pool2d_fast(
    input: ArrayView4<f32>,
    config: PoolConfig,
) -> Result<Array4<f32>, ShapeError> {
    use rayon::prelude::*;
    let d = config.dims(input.dim())?;
    let (h, w, oh, ow) = (d.height, d.width, d.out_height, d.out_width);
    let (field, stride) = (config.field, config.stride);
    let area = (field * field) as f32;
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
                for r in i * stride..i * stride + field {
                    let row = &plane[r * w..(r + 1) * w];
                    match (field, stride) {
                        // Windows side by side, of a size known to the compiler: a loop
                        // it vectorizes (LeNet's 2 x 2 pooling).
                        (2, 2) => add_windows::<2>(out, row),
                        (3, 3) => add_windows::<3>(out, row),
                        _ => {
                            for (j, sum) in out.iter_mut().enumerate() {
                                for &v in &row[j * stride..j * stride + field] {
                                    *sum += v;
                                }
                            }
                        }
                    }
                }
                out.iter_mut().for_each(|sum| *sum /= area);
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

/// The backward pass of [`avg_pool2d_fast`]: [`avg_pool2d_backward`] plane by plane, bit
/// for bit (every input's shares added in the same order).
pub fn avg_pool2d_backward_fast(
    grad_output: ArrayView4<f32>,
    input_shape: (usize, usize, usize, usize),
    config: PoolConfig,
) -> Result<Array4<f32>, ShapeError> {
    use rayon::prelude::*;
    let d = grad_dims(grad_output.dim(), input_shape, config)?;
    let (h, w, oh, ow) = (d.height, d.width, d.out_height, d.out_width);
    let (field, stride) = (config.field, config.stride);
    let share = 1.0 / (field * field) as f32;
    let g = grad_output.as_standard_layout();
    let mut grad_input = zeros4_par(input_shape);
    grad_input
        .as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(h * w)
        .zip(g.as_slice().expect("standard layout").par_chunks(oh * ow))
        .for_each(|(plane, g)| {
            for i in 0..oh {
                for j in 0..ow {
                    let (r0, q0) = (i * stride, j * stride);
                    let gs = g[i * ow + j] * share;
                    for r in r0..r0 + field {
                        plane[r * w + q0..r * w + q0 + field]
                            .iter_mut()
                            .for_each(|x| *x += gs);
                    }
                }
            }
        });
    Ok(grad_input)
}
