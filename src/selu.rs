//! Self-normalizing networks (chapter `10-normalization`; Klambauer, Unterthiner, Mayr &
//! Hochreiter, *Self-Normalizing Neural Networks*, 2017): the scaled exponential linear
//! unit
//!
//! ```text
//! selu(x) = lambda x                    for x > 0
//!           lambda alpha (e^x - 1)      for x <= 0
//! ```
//!
//! whose two constants are chosen so that activations with mean 0 and variance 1 stay so
//! from layer to layer, for weights with mean 0 and variance `1 / fan_in`. This module
//! derives the constants from that condition, numerically, instead of quoting them, and
//! computes the map from one layer's mean and variance to the next's.

use std::f64::consts::PI;

/// The standard normal density.
fn phi(z: f64) -> f64 {
    (-z * z / 2.0).exp() / (2.0 * PI).sqrt()
}

/// `E[f(z)]` restricted to `a <= z <= b`, for `z` standard normal: Simpson's rule on
/// 4,000 intervals (`f` smooth on the interval; the density is negligible beyond 10).
fn expect(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let n = 4_000;
    let h = (b - a) / n as f64;
    let g = |z: f64| f(z) * phi(z);
    let inner: f64 = (1..n)
        .map(|i| {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            w * g(a + i as f64 * h)
        })
        .sum();
    (g(a) + inner + g(b)) * h / 3.0
}

// ANCHOR: constants
/// SELU's `(lambda, alpha)`, from the fixed point of the moment map at `(0, 1)`: for
/// `z ~ N(0, 1)`, `E[selu(z)] = 0` and `E[selu(z)^2] = 1`. The first condition does not
/// involve `lambda` and gives `alpha`:
///
/// ```text
/// E[z; z > 0] + alpha E[e^z - 1; z <= 0] = 0
/// ```
///
/// and the second then gives `lambda`:
///
/// ```text
/// lambda^2 (E[z^2; z > 0] + alpha^2 E[(e^z - 1)^2; z <= 0]) = 1
/// ```
pub fn derive_constants() -> (f64, f64) {
    let positive_mean = expect(|z| z, 0.0, 10.0);
    let negative_mean = expect(|z| z.exp() - 1.0, -10.0, 0.0);
    let alpha = -positive_mean / negative_mean;
    let second = expect(|z| z * z, 0.0, 10.0)
        + alpha * alpha * expect(|z| (z.exp() - 1.0).powi(2), -10.0, 0.0);
    let lambda = 1.0 / second.sqrt();
    (lambda, alpha)
}
// ANCHOR_END: constants

/// The constants as the SELU layer uses them, derived once.
pub fn constants() -> (f32, f32) {
    static CONSTANTS: std::sync::OnceLock<(f32, f32)> = std::sync::OnceLock::new();
    *CONSTANTS.get_or_init(|| {
        let (lambda, alpha) = derive_constants();
        (lambda as f32, alpha as f32)
    })
}

// ANCHOR: selu
/// `selu(x)` with constants `(lambda, alpha)`.
pub fn selu(x: f32, (lambda, alpha): (f32, f32)) -> f32 {
    if x > 0.0 {
        lambda * x
    } else {
        lambda * alpha * (x.exp() - 1.0)
    }
}

/// Its derivative, from the output `y`: `lambda` where `x > 0`, else
/// `lambda alpha e^x = y + lambda alpha`.
pub fn selu_slope(y: f32, (lambda, alpha): (f32, f32)) -> f32 {
    if y > 0.0 {
        lambda
    } else {
        y + lambda * alpha
    }
}
// ANCHOR_END: selu

// ANCHOR: moment_map
/// The mean and variance of `selu(z)` for a pre-activation `z ~ N(mu omega, nu tau)`: a
/// layer's map from the mean `mu` and variance `nu` of its inputs to those of its outputs,
/// when its weights sum to `omega` and their squares to `tau` (`omega = 0`, `tau = 1` for
/// LeCun-normal weights, in expectation). Computed by quadrature with `(lambda, alpha)`.
pub fn moment_map(
    mu: f64,
    nu: f64,
    omega: f64,
    tau: f64,
    (lambda, alpha): (f64, f64),
) -> (f64, f64) {
    let (m, s) = (mu * omega, (nu * tau).sqrt());
    let f = |z: f64| {
        let x = m + s * z;
        if x > 0.0 {
            lambda * x
        } else {
            lambda * alpha * (x.exp() - 1.0)
        }
    };
    // Split where the argument crosses 0, so that each piece is smooth.
    let cut = if s > 0.0 {
        (-m / s).clamp(-10.0, 10.0)
    } else {
        0.0
    };
    let mean = expect(f, -10.0, cut) + expect(f, cut, 10.0);
    let second = expect(|z| f(z).powi(2), -10.0, cut) + expect(|z| f(z).powi(2), cut, 10.0);
    (mean, second - mean * mean)
}
// ANCHOR_END: moment_map

/// The affine correction of alpha dropout (Klambauer et al., 2017, section "New dropout
/// technique"): dropped units are set to `alpha' = -lambda alpha` (SELU's lower bound), and
/// `a x + b` restores mean 0 and variance 1 for inputs with mean 0 and variance 1, where
/// `q = 1 - p` is the probability of keeping a unit:
///
/// ```text
/// a = (q + alpha'^2 q (1 - q))^(-1/2)        b = -a (1 - q) alpha'
/// ```
///
/// Returns `(alpha', a, b)`.
pub fn alpha_dropout_affine(p: f32, (lambda, alpha): (f32, f32)) -> (f32, f32, f32) {
    let q = 1.0 - p;
    let prime = -lambda * alpha;
    let a = 1.0 / (q + prime * prime * q * (1.0 - q)).sqrt();
    let b = -a * (1.0 - q) * prime;
    (prime, a, b)
}
