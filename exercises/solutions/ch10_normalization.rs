//! Reference solutions for chapter 10 (see `exercises/src/ch10_normalization.rs` for the
//! exercises). Used by CI to prove that every checker passes on a correct answer.

use ndarray::Array2;

/// Mean and biased variance of each column.
fn column_stats(x: &Array2<f32>) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = x.dim();
    let mean: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| x[[i, j]] as f64).sum::<f64>() / n as f64)
        .collect();
    let var = (0..d)
        .map(|j| {
            (0..n)
                .map(|i| (x[[i, j]] as f64 - mean[j]).powi(2))
                .sum::<f64>()
                / n as f64
        })
        .collect();
    (mean, var)
}

pub fn batch_norm_features(x: &Array2<f32>, gamma: &[f32], beta: &[f32], eps: f32) -> Array2<f32> {
    let (mean, var) = column_stats(x);
    Array2::from_shape_fn(x.dim(), |(i, j)| {
        let x_hat = (x[[i, j]] as f64 - mean[j]) / (var[j] + eps as f64).sqrt();
        (gamma[j] as f64 * x_hat + beta[j] as f64) as f32
    })
}

pub fn batch_norm_input_gradient(
    grad: &Array2<f32>,
    x: &Array2<f32>,
    gamma: &[f32],
    eps: f32,
) -> Array2<f32> {
    let (n, d) = x.dim();
    let (mean, var) = column_stats(x);
    let mut dx = Array2::zeros((n, d));
    for j in 0..d {
        let s = 1.0 / (var[j] + eps as f64).sqrt();
        let x_hat: Vec<f64> = (0..n).map(|i| (x[[i, j]] as f64 - mean[j]) * s).collect();
        let g: Vec<f64> = (0..n).map(|i| grad[[i, j]] as f64).collect();
        let mean_g = g.iter().sum::<f64>() / n as f64;
        let mean_gx = g.iter().zip(&x_hat).map(|(a, b)| a * b).sum::<f64>() / n as f64;
        for i in 0..n {
            dx[[i, j]] = (gamma[j] as f64 * s * (g[i] - mean_g - x_hat[i] * mean_gx)) as f32;
        }
    }
    dx
}

pub fn selu_constants_for(variance: f64) -> (f64, f64) {
    // z = sigma u with u standard normal: E[f(z)] = E[f(sigma u)]. Simpson's rule for
    // E[f(sigma u); a <= u <= b].
    let sigma = variance.sqrt();
    let expect = |f: &dyn Fn(f64) -> f64, a: f64, b: f64| {
        let n = 4_000;
        let h = (b - a) / n as f64;
        let g = |u: f64| f(sigma * u) * (-u * u / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let inner: f64 = (1..n)
            .map(|i| if i % 2 == 1 { 4.0 } else { 2.0 } * g(a + i as f64 * h))
            .sum();
        (g(a) + inner + g(b)) * h / 3.0
    };
    // Mean 0: alpha from the two halves; then the second moment equals the variance.
    let alpha = -expect(&|z| z, 0.0, 10.0) / expect(&|z| z.exp() - 1.0, -10.0, 0.0);
    let second = expect(&|z| z * z, 0.0, 10.0)
        + alpha * alpha * expect(&|z| (z.exp() - 1.0).powi(2), -10.0, 0.0);
    ((variance / second).sqrt(), alpha)
}
