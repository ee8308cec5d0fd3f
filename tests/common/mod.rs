//! Helpers shared by the integration tests: seeded random arrays and tolerant comparison.
#![allow(dead_code)]

use cnn_book::gradcheck::check_gradients;
use cnn_book::layer::{Layer, Mode, Tensor};
use ndarray::{Array, Array4, Dimension, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded generator: the same seed gives the same test inputs on every machine.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// An array of the given shape with entries uniform in [-1, 1).
pub fn random4(rng: &mut ChaCha8Rng, shape: (usize, usize, usize, usize)) -> Array4<f32> {
    Array4::from_shape_fn(shape, |_| rng.random_range(-1.0..1.0))
}

/// Largest absolute difference, after checking that the shapes agree.
pub fn max_abs_diff<D: Dimension>(a: &Array<f32, D>, b: &Array<f32, D>) -> f32 {
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Asserts that two arrays agree to `tol`, relative to the larger magnitude (at least 1):
/// `approx`'s absolute comparison with the tolerance scaled by that magnitude.
pub fn assert_close<D: Dimension>(a: &Array<f32, D>, b: &Array<f32, D>, tol: f32, context: &str) {
    assert_eq!(a.shape(), b.shape(), "{context}: shapes differ");
    let scale = a.iter().chain(b.iter()).fold(1.0f32, |m, x| m.max(x.abs()));
    assert!(
        approx::abs_diff_eq!(a, b, epsilon = tol * scale),
        "{context}: max |a - b| = {} > {tol} * {scale}",
        max_abs_diff(a, b)
    );
}

/// Reshapes into a dynamic-dimensional array (for error messages that print shapes).
pub fn dyn_shape<D: Dimension>(a: &Array<f32, D>) -> Vec<usize> {
    a.clone()
        .into_dimensionality::<IxDyn>()
        .unwrap()
        .shape()
        .to_vec()
}

/// A tensor of the given shape with entries uniform in [-1, 1), from its own seed.
pub fn random_tensor(shape: &[usize], seed: u64) -> Tensor {
    let mut r = rng(seed);
    Tensor::from_shape_simple_fn(IxDyn(shape), || r.random_range(-1.0f32..1.0))
}

/// Asserts that the layer's backward pass in training mode agrees with central differences
/// of step `eps` (40 entries per tensor), to a relative error below `tolerance`.
pub fn assert_gradients_eps(layer: &mut dyn Layer, input: &Tensor, tolerance: f64, eps: f32) {
    assert_gradients_in(layer, input, Mode::Train, tolerance, eps);
}

/// [`assert_gradients_eps`] in either mode.
pub fn assert_gradients_in(
    layer: &mut dyn Layer,
    input: &Tensor,
    mode: Mode,
    tolerance: f64,
    eps: f32,
) {
    let report = check_gradients(layer, input, mode, eps, 40, 1).unwrap();
    assert!(report.checked > 0);
    assert!(
        report.max_relative_error < tolerance,
        "{} ({mode:?}): relative error {:.2e} at {}",
        layer.name(),
        report.max_relative_error,
        report.worst
    );
}
