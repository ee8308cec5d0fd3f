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
//! **Padding and rounding.** A window may also be padded, and the last window may be
//! dropped or let hang over the edge when the stride does not tile ([`Rounding`], as in
//! [`crate::conv`]). Padding never wins a max-pooling window (it counts as minus
//! infinity), and average pooling either counts it as zeros (PyTorch's default) or divides
//! by the real inputs only. The padding may be at most half the window, so that every
//! window holds at least one real input.
//!
//! **Ties.** When several inputs of a window share the maximum, the first one in row-major
//! order wins and receives the whole gradient (PyTorch does the same). Any choice among
//! the tied inputs is a valid subgradient; choosing one keeps the sum of the input
//! gradients equal to the sum of the output gradients.

use ndarray::{Array4, ArrayView4};

use crate::conv::{Conv2dConfig, ConvDims};
use crate::error::{Error, Result};
use crate::shape::{Rounding, Window};

// ANCHOR: config
/// Window size, stride and padding of a pooling layer, the same along both axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    pub field: usize,
    pub stride: usize,
    /// Added on each side; never wins a max, and counts as zeros in an average only if
    /// `count_include_pad`.
    pub padding: usize,
    /// What to do when the stride does not tile: refuse, drop the last inputs, or let the
    /// last window hang over the edge.
    pub rounding: Rounding,
    /// Whether average pooling divides by the whole window, padding included (PyTorch's
    /// default), or by the number of real inputs in it.
    pub count_include_pad: bool,
}

impl PoolConfig {
    /// `F x F` windows moving by `S`, no padding, windows that tile exactly.
    pub fn new(field: usize, stride: usize) -> Self {
        PoolConfig {
            field,
            stride,
            padding: 0,
            rounding: Rounding::Exact,
            count_include_pad: true,
        }
    }

    /// The same windows with `padding` on each side.
    pub fn with_padding(self, padding: usize) -> Self {
        PoolConfig { padding, ..self }
    }

    /// The same windows, rounding the output size as `rounding` says.
    pub fn with_rounding(self, rounding: Rounding) -> Self {
        PoolConfig { rounding, ..self }
    }

    /// The same windows, averaging over the real inputs only (padding not counted).
    pub fn excluding_padding(self) -> Self {
        PoolConfig {
            count_include_pad: false,
            ..self
        }
    }
}

impl Default for PoolConfig {
    /// `F = 2, S = 2`: halve width and height.
    fn default() -> Self {
        PoolConfig::new(2, 2)
    }
}
// ANCHOR_END: config

impl PoolConfig {
    /// Checks `(N, C, H, W)` against the window, with the output-size formula along each
    /// axis.
    pub fn dims(&self, input: (usize, usize, usize, usize)) -> Result<ConvDims> {
        let (_, c, _, _) = input;
        if 2 * self.padding > self.field {
            return Err(Error::Shape(format!(
                "pooling padding {} is more than half the window {}: a window could hold \
                 padding only",
                self.padding, self.field
            )));
        }
        let config = Conv2dConfig {
            stride: self.stride,
            padding: self.padding,
            rounding: self.rounding,
        };
        // A pooling window is a convolution window with one "filter" per channel.
        ConvDims::new(input, (c, c, self.field, self.field), config)
    }

    /// What average pooling divides the sum of window `(i, j)` by: the positions of the
    /// window inside the padded input, or only its real inputs.
    pub fn divisor(&self, d: &ConvDims, i: usize, j: usize) -> usize {
        let window = Window {
            field: self.field,
            padding: self.padding,
            stride: self.stride,
        };
        let count = |index: usize, size: usize| {
            if self.count_include_pad {
                // A window that hangs past the padding (ceil mode) counts up to its end.
                let span = window.input_span(index);
                (span.end.min((size + self.padding) as i64) - span.start) as usize
            } else {
                window.real_inputs(index, size).len()
            }
        };
        count(i, d.height) * count(j, d.width)
    }
}

/// For every pooled output, the `(row, column)` in the input of the value that won.
pub type Switches = Array4<(u32, u32)>;

// ANCHOR: max_pool
/// Max pooling. Returns the pooled maps `(N, C, H', W')` and, for every output, the
/// position `(row, column)` in the input of the value that won: its switch, which the
/// backward pass (and DeconvNet's unpooling) reuses.
pub fn max_pool2d(input: ArrayView4<f32>, config: PoolConfig) -> Result<(Array4<f32>, Switches)> {
    let d = config.dims(input.dim())?;
    let shape = (d.batch, d.channels, d.out_height, d.out_width);
    let mut output = Array4::zeros(shape);
    let mut switches = Array4::from_elem(shape, (0u32, 0u32));
    for n in 0..d.batch {
        for c in 0..d.channels {
            for i in 0..d.out_height {
                for j in 0..d.out_width {
                    let mut best: Option<(f32, (usize, usize))> = None;
                    for u in 0..config.field {
                        for v in 0..config.field {
                            // Padding (`None`) never wins.
                            if let Some((r, q)) = d.source(i, j, u, v) {
                                let x = input[[n, c, r, q]];
                                // Strictly greater: the first maximum in row-major order
                                // wins. A NaN wins, and stays.
                                if best.is_none_or(|(b, _)| x > b || (x.is_nan() && !b.is_nan())) {
                                    best = Some((x, (r, q)));
                                }
                            }
                        }
                    }
                    let (value, (r, q)) = best.expect("every window holds a real input");
                    output[[n, c, i, j]] = value;
                    switches[[n, c, i, j]] = (r as u32, q as u32);
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
) -> Result<Array4<f32>> {
    check_switches(grad_output.dim(), switches, input_shape)?;
    let mut grad_input = Array4::zeros(input_shape);
    for ((n, c, i, j), &(r, q)) in switches.indexed_iter() {
        grad_input[[n, c, r as usize, q as usize]] += grad_output[[n, c, i, j]];
    }
    Ok(grad_input)
}
// ANCHOR_END: max_pool

/// Checks that the gradient and the switches belong together and to the input shape, and
/// that every switch points inside the input.
pub(crate) fn check_switches(
    grad: (usize, usize, usize, usize),
    switches: ArrayView4<(u32, u32)>,
    input_shape: (usize, usize, usize, usize),
) -> Result<()> {
    let (n, c, h, w) = input_shape;
    if grad != switches.dim() || (grad.0, grad.1) != (n, c) {
        return Err(Error::Shape(format!(
            "max-pool backward: gradient {grad:?} and switches {:?} for an input {input_shape:?}",
            switches.dim()
        )));
    }
    if let Some(&(r, q)) = switches
        .iter()
        .find(|&&(r, q)| r as usize >= h || q as usize >= w)
    {
        return Err(Error::Shape(format!(
            "a switch points at ({r}, {q}) outside the input {input_shape:?}"
        )));
    }
    Ok(())
}

/// The sizes of pooling `input_shape`, checked against the shape of the output gradient.
pub(crate) fn grad_dims(
    grad: (usize, usize, usize, usize),
    input_shape: (usize, usize, usize, usize),
    config: PoolConfig,
) -> Result<ConvDims> {
    let d = config.dims(input_shape)?;
    let expected = (d.batch, d.channels, d.out_height, d.out_width);
    if grad != expected {
        return Err(Error::Shape(format!(
            "avg-pool backward: gradient {grad:?}, but pooling {input_shape:?} gives {expected:?}"
        )));
    }
    Ok(d)
}

// ANCHOR: avg_pool
/// Average pooling: the mean of each window (see [`PoolConfig::divisor`] for what a window
/// that covers padding is divided by).
pub fn avg_pool2d(input: ArrayView4<f32>, config: PoolConfig) -> Result<Array4<f32>> {
    let d = config.dims(input.dim())?;
    let mut output = Array4::zeros((d.batch, d.channels, d.out_height, d.out_width));
    for ((n, c, i, j), out) in output.indexed_iter_mut() {
        let mut sum = 0.0;
        for u in 0..config.field {
            for v in 0..config.field {
                if let Some((r, q)) = d.source(i, j, u, v) {
                    sum += input[[n, c, r, q]];
                }
            }
        }
        *out = sum / config.divisor(&d, i, j) as f32;
    }
    Ok(output)
}

/// Backward pass of average pooling: each output's gradient is shared equally by the
/// inputs of its window (overlapping windows add up).
pub fn avg_pool2d_backward(
    grad_output: ArrayView4<f32>,
    input_shape: (usize, usize, usize, usize),
    config: PoolConfig,
) -> Result<Array4<f32>> {
    let d = grad_dims(grad_output.dim(), input_shape, config)?;
    let mut grad_input = Array4::zeros(input_shape);
    for ((n, c, i, j), &g) in grad_output.indexed_iter() {
        let share = 1.0 / config.divisor(&d, i, j) as f32;
        for u in 0..config.field {
            for v in 0..config.field {
                if let Some((r, q)) = d.source(i, j, u, v) {
                    grad_input[[n, c, r, q]] += g * share;
                }
            }
        }
    }
    Ok(grad_input)
}
// ANCHOR_END: avg_pool
