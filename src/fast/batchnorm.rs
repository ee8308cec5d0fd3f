//! Batch normalization with threads (chapter `16-fast-convolution`): the functions of
//! [`crate::norm`], plane by plane, tested equal to them.
//!
//! A channel's values are spread over `N` planes of `H x W`; each thread sums whole
//! planes, and the per-plane sums are combined per channel in `f64`. Each plane is summed
//! around its first value (a shift that keeps `sum x^2 - m mu^2` from cancelling
//! catastrophically), so one pass over the data gives both the mean and the variance.

use ndarray::{Array4, ArrayView4};
use rayon::prelude::*;

use super::simd::map_planes;

/// Planes summed together by [`interleaved_folds`].
const G: usize = 8;

/// Two running sums over each of `planes` (at most [`G`], of one length), from zero,
/// `step(g, sums, v)` for the entries `v` of plane `g` in order: the same numbers as one
/// plane after the other, but with [`G`] planes the folds are interleaved entry by
/// entry, so that the processor works on eight chains of additions at once instead of
/// waiting for each (the statistics of 16 channels of 28 x 28, batch 64, one thread:
/// 0.43 ms one plane after the other, 0.31 ms interleaved).
#[inline(always)]
fn interleaved_folds(
    planes: &[&[f32]],
    step: impl Fn(usize, (f32, f32), f32) -> (f32, f32),
) -> Vec<(f32, f32)> {
    let mut acc = vec![(0.0f32, 0.0f32); planes.len()];
    match <&[&[f32]; G]>::try_from(planes) {
        Ok(planes) => {
            let len = planes[0].len();
            let planes: [&[f32]; G] = std::array::from_fn(|g| &planes[g][..len]);
            let mut a = [(0.0f32, 0.0f32); G];
            // Entry i of every plane in turn: the index walks the planes in step.
            #[allow(clippy::needless_range_loop)]
            for i in 0..len {
                for g in 0..G {
                    a[g] = step(g, a[g], planes[g][i]);
                }
            }
            acc.copy_from_slice(&a);
        }
        Err(_) => {
            for (g, (plane, a)) in planes.iter().zip(acc.iter_mut()).enumerate() {
                *a = plane.iter().fold(*a, |a, &v| step(g, a, v));
            }
        }
    }
    acc
}

/// [`crate::norm::channel_statistics`]: mean and biased variance of each channel.
pub fn channel_statistics(x: ArrayView4<f32>) -> (Vec<f32>, Vec<f32>) {
    let (n, c, h, w) = x.dim();
    let plane = h * w;
    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout");
    // Per plane: the sum and the sum of squares around the plane's first value.
    let sums: Vec<(f64, f64, f32)> = xs
        .par_chunks(G * plane)
        .flat_map_iter(|group| {
            let planes: Vec<&[f32]> = group.chunks(plane).collect();
            let shifts: Vec<f32> = planes.iter().map(|p| p[0]).collect();
            let sums = interleaved_folds(&planes, |g, (s, q), v| {
                let d = v - shifts[g];
                (s + d, q + d * d)
            });
            sums.into_iter()
                .zip(shifts)
                .map(|((s, q), shift)| (s as f64, q as f64, shift))
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
    let [y, x_hat] = map_planes([xs], plane, |p| {
        let k = p % c;
        let (mu, inv, g, b) = (mean[k], inv_std[k], gamma[k], beta[k]);
        move |[x]: [f32; 1]| {
            let hat = (x - mu) * inv;
            [g * hat + b, hat]
        }
    });
    let array = |v| Array4::from_shape_vec(x.dim(), v).expect("one value per entry");
    (array(y), array(x_hat))
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
    let [dx] = map_planes([dys, xh], plane, |p| {
        let (scale, mean_dy, mean_dyx) = coef[p % c];
        move |[g, h]: [f32; 2]| [scale * (g - mean_dy - h * mean_dyx)]
    });
    let dx = Array4::from_shape_vec(dy.dim(), dx).expect("one value per entry");
    (dx, dgamma, dbeta)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interleaved or not, each plane's sums are the same chain of additions: the same
    /// bits as a plain fold over each plane, for a full group of planes and a short one.
    #[test]
    fn interleaved_folds_sum_each_plane_in_order() {
        let data: Vec<f32> = (0..8 * 37)
            .map(|i| ((i * 7919) % 1000) as f32 / 7.0 - 60.0)
            .collect();
        for count in [G, 5] {
            let planes: Vec<&[f32]> = data.chunks(37).take(count).collect();
            let step = |g: usize, (s, q): (f32, f32), v: f32| {
                let d = v - g as f32;
                (s + d, q + d * d)
            };
            let got = interleaved_folds(&planes, step);
            for (g, plane) in planes.iter().enumerate() {
                let want = plane.iter().fold((0.0f32, 0.0f32), |a, &v| step(g, a, v));
                assert_eq!(got[g].0.to_bits(), want.0.to_bits(), "plane {g} of {count}");
                assert_eq!(got[g].1.to_bits(), want.1.to_bits(), "plane {g} of {count}");
            }
        }
    }
}
