//! Local response normalization at speed (chapter `16-fast-convolution`): the numbers of
//! the loops of [`crate::lrn`], up to rounding, computed plane by plane.
//!
//! - **Sums over the window by differences of running sums**: the squares of the channels
//!   are added up once, in order (`P[c] = a[0]^2 + ... + a[c-1]^2` for every position at
//!   once, a whole plane at a time), and the window of channel `c` is `P[hi] - P[lo]`: two
//!   plane operations per channel whatever the window's size, where the loops read every
//!   neighbour again.
//! - **Powers without `powf`** for AlexNet's `beta = 3/4`: `s^(-3/4) = 1 / (sqrt(s) sqrt(sqrt(s)))`,
//!   which the compiler turns into vector square roots, where `powf` is a call into the
//!   math library for every number.
//! - **Images in parallel**, each image's planes contiguous.
//!
//! The running sums are kept in `f64`, so that subtracting two of them loses nothing of
//! the small window sums that `f32` would. The results differ from the loops' in the last
//! bits (another order of addition, square roots for the power); the tests compare.

use ndarray::{Array4, ArrayView4};
use rayon::prelude::*;

use crate::error::Result;
use crate::lrn::LrnConfig;
use crate::tensor::zeros4_par;

/// `s^-beta`, by square roots for `beta = 3/4` and `1/2`.
#[inline]
fn inverse_power(s: f32, beta: f32) -> f32 {
    if beta == 0.75 {
        let r = s.sqrt();
        1.0 / (r * r.sqrt())
    } else if beta == 0.5 {
        1.0 / s.sqrt()
    } else {
        s.powf(-beta)
    }
}

/// The window sums of squares of one image `(C, H W)`: `k + alpha sum`, into `scale`.
fn bases(image: &[f32], plane: usize, channels: usize, config: LrnConfig, scale: &mut [f32]) {
    // prefix[c][p] = sum of squares of channels 0..c at position p.
    let mut prefix = vec![0.0f64; (channels + 1) * plane];
    for c in 0..channels {
        for p in 0..plane {
            let v = image[c * plane + p] as f64;
            prefix[(c + 1) * plane + p] = prefix[c * plane + p] + v * v;
        }
    }
    for c in 0..channels {
        let w = config.window(c, channels);
        let (lo, hi) = (&prefix[w.start * plane..], &prefix[w.end * plane..]);
        for p in 0..plane {
            scale[c * plane + p] = config.k + config.alpha * (hi[p] - lo[p]) as f32;
        }
    }
}

/// [`crate::lrn::lrn_forward`], plane by plane: the output and the bases.
pub fn lrn_forward(x: ArrayView4<f32>, config: LrnConfig) -> Result<(Array4<f32>, Array4<f32>)> {
    config.check()?;
    let (_, c, h, w) = x.dim();
    let plane = h * w;
    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout");
    let mut y = zeros4_par(x.dim());
    let mut s = zeros4_par(x.dim());
    let len = c * plane;
    if len == 0 {
        return Ok((y, s));
    }
    y.as_slice_mut()
        .expect("fresh")
        .par_chunks_mut(len)
        .zip(s.as_slice_mut().expect("fresh").par_chunks_mut(len))
        .zip(xs.par_chunks(len))
        .for_each(|((y, s), image)| {
            bases(image, plane, c, config, s);
            for ((y, &s), &a) in y.iter_mut().zip(s.iter()).zip(image) {
                *y = a * inverse_power(s, config.beta);
            }
        });
    Ok((y, s))
}

/// [`crate::lrn::lrn_backward`], plane by plane: the sum over the channels whose window
/// holds `m` is again a difference of running sums, of `t[i] = g[i] a[i] s[i]^(-beta-1)`.
pub fn lrn_backward(
    x: ArrayView4<f32>,
    scale: ArrayView4<f32>,
    grad_output: ArrayView4<f32>,
    config: LrnConfig,
) -> Result<Array4<f32>> {
    if grad_output.dim() != x.dim() || scale.dim() != x.dim() {
        // The loops name the shapes.
        return crate::lrn::lrn_backward(x, scale, grad_output, config);
    }
    let (_, c, h, w) = x.dim();
    let plane = h * w;
    let len = c * plane;
    let (x, s, g) = (
        x.as_standard_layout(),
        scale.as_standard_layout(),
        grad_output.as_standard_layout(),
    );
    let (xs, ss, gs) = (
        x.as_slice().expect("standard layout"),
        s.as_slice().expect("standard layout"),
        g.as_slice().expect("standard layout"),
    );
    let mut dx = zeros4_par(x.dim());
    if len == 0 {
        return Ok(dx);
    }
    let beta = config.beta;
    dx.as_slice_mut()
        .expect("fresh")
        .par_chunks_mut(len)
        .zip(xs.par_chunks(len))
        .zip(ss.par_chunks(len).zip(gs.par_chunks(len)))
        .for_each(|((dx, a), (s, g))| {
            let mut prefix = vec![0.0f64; (c + 1) * plane];
            for i in 0..c {
                for p in 0..plane {
                    let q = i * plane + p;
                    let t = g[q] * a[q] * inverse_power(s[q], beta) / s[q];
                    prefix[(i + 1) * plane + p] = prefix[i * plane + p] + t as f64;
                }
            }
            for m in 0..c {
                let win = config.window(m, c);
                for p in 0..plane {
                    let q = m * plane + p;
                    let through =
                        (prefix[win.end * plane + p] - prefix[win.start * plane + p]) as f32;
                    dx[q] = g[q] * inverse_power(s[q], beta)
                        - 2.0 * config.alpha * beta * a[q] * through;
                }
            }
        });
    Ok(dx)
}
