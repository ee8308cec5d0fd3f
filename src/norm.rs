//! Batch and layer normalization as plain loops that read like their equations (chapter
//! `10-normalization`; Ioffe & Szegedy, 2015; Ba, Kiros & Hinton, 2016). The layers are
//! [`crate::layers::BatchNorm2d`], [`crate::layers::BatchNorm1d`] and
//! [`crate::layers::LayerNorm`]; [`crate::fast::batchnorm`] computes batch normalization
//! with threads, tested equal to these.
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

use ndarray::{Array2, Array4, ArrayView2, ArrayView4, Axis};

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

// ANCHOR: layer_norm
/// Layer normalization (Ba, Kiros & Hinton, 2016) of each example `x[n, ..]` (a row of
/// `D` units) over its own units: `mu_n = 1/D sum_i x[n, i]`, `var_n = 1/D sum_i (x[n, i] -
/// mu_n)^2`, `x_hat = (x - mu_n) / sqrt(var_n + eps)`, `y = gain x_hat + bias` with a gain
/// and a bias per unit. Returns `(y, x_hat, 1 / sqrt(var_n + eps) per example)`.
pub fn layer_norm_forward(
    x: ArrayView2<f32>,
    (gain, bias): (&[f32], &[f32]),
    eps: f32,
) -> (Array2<f32>, Array2<f32>, Vec<f32>) {
    let (n, d) = x.dim();
    let mut x_hat = Array2::zeros((n, d));
    let mut y = Array2::zeros((n, d));
    let mut inv_std = vec![0.0; n];
    for e in 0..n {
        let row = x.row(e);
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / d as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / d as f64;
        inv_std[e] = (1.0 / (var + eps as f64).sqrt()) as f32;
        for i in 0..d {
            x_hat[[e, i]] = (row[i] - mean as f32) * inv_std[e];
            y[[e, i]] = gain[i] * x_hat[[e, i]] + bias[i];
        }
    }
    (y, x_hat, inv_std)
}

/// The backward pass of [`layer_norm_forward`]: `(dx, dgain, dbias)`. With `g = dy gain`,
/// `dx = inv_std (g - mean(g) - x_hat mean(g x_hat))` over each example's units: the same
/// form as batch normalization's, with the roles of examples and units swapped.
pub fn layer_norm_backward(
    dy: ArrayView2<f32>,
    x_hat: ArrayView2<f32>,
    inv_std: &[f32],
    gain: &[f32],
) -> (Array2<f32>, Vec<f32>, Vec<f32>) {
    let (n, d) = dy.dim();
    let mut dgain = vec![0.0; d];
    let mut dbias = vec![0.0; d];
    let mut dx = Array2::zeros((n, d));
    for e in 0..n {
        let g: Vec<f32> = (0..d).map(|i| dy[[e, i]] * gain[i]).collect();
        let mean_g = g.iter().sum::<f32>() / d as f32;
        let mean_gx = (0..d).map(|i| g[i] * x_hat[[e, i]]).sum::<f32>() / d as f32;
        for i in 0..d {
            dgain[i] += dy[[e, i]] * x_hat[[e, i]];
            dbias[i] += dy[[e, i]];
            dx[[e, i]] = inv_std[e] * (g[i] - mean_g - x_hat[[e, i]] * mean_gx);
        }
    }
    (dx, dgain, dbias)
}
// ANCHOR_END: layer_norm
