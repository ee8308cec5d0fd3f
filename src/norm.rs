//! Batch normalization as plain loops that read like its equations (chapter
//! `10-normalization`; Ioffe & Szegedy, 2015). The layer is
//! [`crate::layers::BatchNorm2d`]; [`crate::fast::batchnorm`] computes the same with
//! threads, tested equal to these.
//!
//! For images `(N, C, H, W)` each channel `c` is normalised over the `m = N H W` values it
//! has in the batch:
//!
//! ```text
//! mu_c = 1/m sum x          var_c = 1/m sum (x - mu_c)^2
//! x_hat = (x - mu_c) / sqrt(var_c + eps)          y = gamma_c x_hat + beta_c
//! ```
//!
//! and, backward, with `dy` the gradient of the output,
//!
//! ```text
//! dbeta_c = sum dy          dgamma_c = sum dy x_hat
//! dx = gamma_c / sqrt(var_c + eps) (dy - dbeta_c / m - x_hat dgamma_c / m)
//! ```
//!
//! when the statistics came from the batch (training); when they are the running
//! averages (evaluation) they are constants, and `dx = gamma_c / sqrt(var_c + eps) dy`.

use ndarray::{Array4, ArrayView4, Axis};

// ANCHOR: batch_norm
/// The mean and the (biased) variance of each channel of `x`, over `(N, H, W)`.
pub fn channel_statistics(x: ArrayView4<f32>) -> (Vec<f32>, Vec<f32>) {
    let (n, c, h, w) = x.dim();
    let m = (n * h * w) as f64;
    let mut means = vec![0.0; c];
    let mut variances = vec![0.0; c];
    for k in 0..c {
        let channel = x.index_axis(Axis(1), k);
        let mean = channel.iter().map(|&v| v as f64).sum::<f64>() / m;
        let var = channel
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / m;
        means[k] = mean as f32;
        variances[k] = var as f32;
    }
    (means, variances)
}

/// `x_hat = (x - mean) / sqrt(var + eps)` and `y = gamma x_hat + beta`, per channel.
/// Returns `(y, x_hat)`.
pub fn batch_norm_forward(
    x: ArrayView4<f32>,
    (mean, var): (&[f32], &[f32]),
    (gamma, beta): (&[f32], &[f32]),
    eps: f32,
) -> (Array4<f32>, Array4<f32>) {
    let mut x_hat = Array4::zeros(x.dim());
    let mut y = Array4::zeros(x.dim());
    for ((n, k, i, j), &v) in x.indexed_iter() {
        let normalised = (v - mean[k]) / (var[k] + eps).sqrt();
        x_hat[[n, k, i, j]] = normalised;
        y[[n, k, i, j]] = gamma[k] * normalised + beta[k];
    }
    (y, x_hat)
}

/// The backward pass: `(dx, dgamma, dbeta)` from the output gradient `dy`, the normalised
/// input `x_hat` and the variance used forward. `batch_statistics` says whether the mean
/// and variance came from this batch (training), so that `dx` flows through them too.
pub fn batch_norm_backward(
    dy: ArrayView4<f32>,
    x_hat: ArrayView4<f32>,
    var: &[f32],
    gamma: &[f32],
    eps: f32,
    batch_statistics: bool,
) -> (Array4<f32>, Vec<f32>, Vec<f32>) {
    let (n, c, h, w) = dy.dim();
    let m = (n * h * w) as f32;
    let mut dgamma = vec![0.0; c];
    let mut dbeta = vec![0.0; c];
    for ((_, k, _, _), &g) in dy.indexed_iter() {
        dbeta[k] += g;
    }
    for (&g, ((_, k, _, _), &xh)) in dy.iter().zip(x_hat.indexed_iter()) {
        dgamma[k] += g * xh;
    }
    let mut dx = Array4::zeros(dy.dim());
    for ((idx @ (_, k, _, _), &g), &xh) in dy.indexed_iter().zip(x_hat.iter()) {
        let scale = gamma[k] / (var[k] + eps).sqrt();
        dx[idx] = if batch_statistics {
            scale * (g - dbeta[k] / m - xh * dgamma[k] / m)
        } else {
            scale * g
        };
    }
    (dx, dgamma, dbeta)
}
// ANCHOR_END: batch_norm
