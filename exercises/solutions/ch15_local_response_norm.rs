//! Reference solutions for chapter 15 (see `exercises/src/ch15_local_response_norm.rs`
//! for the exercises). Used by CI to prove that every checker passes on a correct answer.

use ndarray::Array4;

/// The channels in channel `c`'s window.
fn window(c: usize, channels: usize, size: usize) -> std::ops::RangeInclusive<usize> {
    c.saturating_sub(size / 2)..=(c + size / 2).min(channels - 1)
}

/// The bases `k + alpha * sum of squares`, in f64.
fn bases(x: &Array4<f32>, size: usize, k: f32, alpha: f32) -> Array4<f64> {
    let c = x.dim().1;
    Array4::from_shape_fn(x.dim(), |(n, ch, r, q)| {
        k as f64
            + alpha as f64
                * window(ch, c, size)
                    .map(|j| (x[[n, j, r, q]] as f64).powi(2))
                    .sum::<f64>()
    })
}

pub fn lrn(x: &Array4<f32>, size: usize, k: f32, alpha: f32, beta: f32) -> Array4<f32> {
    let s = bases(x, size, k, alpha);
    Array4::from_shape_fn(x.dim(), |i| (x[i] as f64 * s[i].powf(-beta as f64)) as f32)
}

pub fn lrn_backward(
    grad: &Array4<f32>,
    x: &Array4<f32>,
    size: usize,
    k: f32,
    alpha: f32,
    beta: f32,
) -> Array4<f32> {
    let s = bases(x, size, k, alpha);
    let c = x.dim().1;
    let b = beta as f64;
    Array4::from_shape_fn(x.dim(), |(n, m, r, q)| {
        let direct = grad[[n, m, r, q]] as f64 * s[[n, m, r, q]].powf(-b);
        let through: f64 = window(m, c, size)
            .map(|i| {
                grad[[n, i, r, q]] as f64 * x[[n, i, r, q]] as f64 * s[[n, i, r, q]].powf(-b - 1.0)
            })
            .sum();
        (direct - 2.0 * alpha as f64 * b * x[[n, m, r, q]] as f64 * through) as f32
    })
}

pub fn peak_activation(size: usize, k: f64, alpha: f64, beta: f64) -> f64 {
    // The output is a / (k + n alpha a^2)^beta; its derivative is zero where
    // k + n alpha a^2 = 2 beta n alpha a^2.
    (k / (size as f64 * alpha * (2.0 * beta - 1.0))).sqrt()
}
