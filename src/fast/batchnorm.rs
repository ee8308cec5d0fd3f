//! Batch normalization with threads (chapter `16-fast-convolution`): the functions of
//! [`crate::norm`], plane by plane, tested equal to them.
//!
//! A channel's values are spread over `N` planes of `H x W`; each thread sums whole
//! planes, and the per-plane sums are combined per channel in `f64`. Each plane is summed
//! around its first value (a shift that keeps `sum x^2 - m mu^2` from cancelling
//! catastrophically), so one pass over the data gives both the mean and the variance.

use ndarray::{Array4, ArrayView4};
use rayon::prelude::*;

use crate::tensor::zeros4_par;

/// [`crate::norm::channel_statistics`]: mean and biased variance of each channel.
pub fn channel_statistics(x: ArrayView4<f32>) -> (Vec<f32>, Vec<f32>) {
    let (n, c, h, w) = x.dim();
    let plane = h * w;
    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout");
    // Per plane: the sum and the sum of squares around the plane's first value.
    let sums: Vec<(f64, f64, f32)> = xs
        .par_chunks(plane)
        .map(|xp| {
            let shift = xp[0];
            let (s, q) = xp.iter().fold((0.0f32, 0.0f32), |(s, q), &v| {
                let d = v - shift;
                (s + d, q + d * d)
            });
            (s as f64, q as f64, shift)
        })
        .collect();
    let m = (n * plane) as f64;
    let (mut means, mut variances) = (vec![0.0; c], vec![0.0; c]);
    for k in 0..c {
        // Combine the planes of channel k: sum of x and of x^2 from each shifted plane.
        let (mut sx, mut sxx) = (0.0f64, 0.0f64);
        for &(s, q, shift) in sums.iter().skip(k).step_by(c) {
            let (t, pl) = (shift as f64, plane as f64);
            sx += s + pl * t;
            sxx += q + 2.0 * t * s + pl * t * t;
        }
        let mu = sx / m;
        means[k] = mu as f32;
        variances[k] = (sxx / m - mu * mu).max(0.0) as f32;
    }
    (means, variances)
}

/// [`crate::norm::batch_norm_forward`]: `(y, x_hat)`.
pub fn forward(
    x: ArrayView4<f32>,
    (mean, var): (&[f32], &[f32]),
    (gamma, beta): (&[f32], &[f32]),
    eps: f32,
) -> (Array4<f32>, Array4<f32>) {
    let (_, c, h, w) = x.dim();
    let plane = h * w;
    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout");
    let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let mut y = zeros4_par(x.dim());
    let mut x_hat = zeros4_par(x.dim());
    y.as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(plane)
        .zip(
            x_hat
                .as_slice_mut()
                .expect("fresh array")
                .par_chunks_mut(plane),
        )
        .zip(xs.par_chunks(plane))
        .enumerate()
        .for_each(|(p, ((yp, hp), xp))| {
            let k = p % c;
            let (mu, inv, g, b) = (mean[k], inv_std[k], gamma[k], beta[k]);
            for ((y, hat), &x) in yp.iter_mut().zip(hp.iter_mut()).zip(xp) {
                *hat = (x - mu) * inv;
                *y = g * *hat + b;
            }
        });
    (y, x_hat)
}

/// [`crate::norm::batch_norm_backward`]: `(dx, dgamma, dbeta)`.
pub fn backward(
    dy: ArrayView4<f32>,
    x_hat: ArrayView4<f32>,
    var: &[f32],
    gamma: &[f32],
    eps: f32,
    batch_statistics: bool,
) -> (Array4<f32>, Vec<f32>, Vec<f32>) {
    let (n, c, h, w) = dy.dim();
    let plane = h * w;
    let m = (n * plane) as f64;
    let dy = dy.as_standard_layout();
    let dys = dy.as_slice().expect("standard layout");
    let x_hat = x_hat.as_standard_layout();
    let xh = x_hat.as_slice().expect("standard layout");
    // Per plane: the sums of dy and of dy * x_hat.
    let sums: Vec<(f64, f64)> = dys
        .par_chunks(plane)
        .zip(xh.par_chunks(plane))
        .map(|(g, h)| {
            let (a, b) = g
                .iter()
                .zip(h)
                .fold((0.0f32, 0.0f32), |(a, b), (&g, &h)| (a + g, b + g * h));
            (a as f64, b as f64)
        })
        .collect();
    let (mut dgamma, mut dbeta) = (vec![0.0; c], vec![0.0; c]);
    let mut coef = vec![(0.0f32, 0.0f32, 0.0f32); c];
    for k in 0..c {
        let (db, dg) = sums
            .iter()
            .skip(k)
            .step_by(c)
            .fold((0.0, 0.0), |(a, b), &(s, t)| (a + s, b + t));
        dbeta[k] = db as f32;
        dgamma[k] = dg as f32;
        let scale = gamma[k] / (var[k] + eps).sqrt();
        coef[k] = if batch_statistics {
            (scale, (db / m) as f32, (dg / m) as f32)
        } else {
            (scale, 0.0, 0.0)
        };
    }
    let mut dx = zeros4_par(dy.dim());
    dx.as_slice_mut()
        .expect("fresh array")
        .par_chunks_mut(plane)
        .zip(dys.par_chunks(plane))
        .zip(xh.par_chunks(plane))
        .enumerate()
        .for_each(|(p, ((dp, gp), hp))| {
            let (scale, mean_dy, mean_dyx) = coef[p % c];
            for ((d, &g), &h) in dp.iter_mut().zip(gp).zip(hp) {
                *d = scale * (g - mean_dy - h * mean_dyx);
            }
        });
    (dx, dgamma, dbeta)
}
