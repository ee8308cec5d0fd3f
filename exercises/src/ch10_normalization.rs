//! Exercises for chapter 10, *Normalization*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch10_normalization
//! ```
//!
//! A batch of vectors is an `ndarray::Array2<f32>` of shape `(N, D)`: `N` examples (rows),
//! `D` features (columns), indexed `x[[n, d]]`; `x.dim()` returns `(N, D)`.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::Array2;

/// Exercise 10.1: batch normalization of features, training mode.
///
/// Normalise each feature (column) `d` as chapter 10's batch norm does in training mode:
/// with the mean and the variance of that column over the `N` examples of the batch (the
/// biased variance, which divides by `N`), `eps` added to the variance, then scaled by
/// `gamma[d]` and shifted by `beta[d]`. `gamma` and `beta` have one value per feature; `N`
/// is at least 2.
///
/// Worked example: `x = [[1, 10], [3, 10]]` (two examples, two features), `gamma = [1, 2]`,
/// `beta = [0, 5]`, `eps = 1e-5`. Feature 0 has mean 2 and variance 1, so its outputs are
/// `-1 / sqrt(1.00001)` and `+1 / sqrt(1.00001)`, about -1 and 1. Feature 1 is constant
/// (variance 0): its normalised values are `0 / sqrt(1e-5) = 0`, and its outputs are
/// `beta = 5`. The answer is about `[[-1, 5], [1, 5]]`.
///
/// The checker allows for rounding: answers within about `1e-4` of the expected ones are
/// right.
pub fn batch_norm_features(x: &Array2<f32>, gamma: &[f32], beta: &[f32], eps: f32) -> Array2<f32> {
    todo!("Exercise 10.1: standardise each column with its batch mean and variance")
}

/// Exercise 10.2: the input gradient of batch normalization in training mode.
///
/// The forward pass is [`batch_norm_features`]. Given `grad[n][d]`, the gradient of the
/// loss with respect to `y[n][d]`, return the gradient with respect to `x[n][d]`, of the
/// same `(N, D)` shape.
///
/// Careful: `x[n][d]` changes `y[n][d]` directly, but also every `y[m][d]` of its column,
/// through the mean and the variance that all of them use. Work it out by the chain rule,
/// one column at a time (the chapter shows the steps); then check your formula on the
/// smallest case by hand.
///
/// Worked examples (one feature, `gamma = [1]`, `eps = 0`):
///
/// - `x = [[0], [2]]`: the outputs are `[[-1], [1]]` whatever the scale of `x`, so a
///   gradient that only asks to make both outputs larger, `grad = [[1], [1]]`, gets an
///   input gradient of `[[0], [0]]` (shifting the column shifts its mean too), and so does
///   `grad = [[-1], [1]]`, which asks to spread them apart (normalising undoes stretching).
/// - `x = [[0], [1], [2]]`, `grad = [[1], [0], [0]]`: the answer is about
///   `[[0.204], [-0.408], [0.204]]`. Raising `x[0]` raises `y[0]`, but also the mean and
///   the spread that every output is measured against.
///
/// The checker uses `eps > 0` and allows for rounding: answers within about `1e-3` of
/// the expected ones, relative to their size, are right.
pub fn batch_norm_input_gradient(
    grad: &Array2<f32>,
    x: &Array2<f32>,
    gamma: &[f32],
    eps: f32,
) -> Array2<f32> {
    todo!("Exercise 10.2: dL/dx through x_hat, the batch mean and the batch variance")
}

/// Exercise 10.3: SELU for another variance.
///
/// `selu(x) = lambda x` for `x > 0` and `lambda alpha (e^x - 1)` for `x <= 0`. The
/// published constants make mean 0 and variance 1 a fixed point: inputs with mean 0 and
/// variance 1, through normalised weights, give outputs with mean 0 and variance 1. Find
/// the `(lambda, alpha)` that make `(0, variance)` the fixed point instead: for a
/// pre-activation `z ~ N(0, variance)`, `selu(z)` has mean 0 and variance `variance`.
///
/// `variance` is between 0.25 and 4. For `variance = 1` the answer is the chapter's
/// `(1.0507..., 1.6733...)`.
///
/// The checker does not compare with a table of constants: it runs yours through the
/// library's moment map (`cnn_book::selu::moment_map`) and checks that the mean comes out
/// within `1e-6` of 0 and the variance within `1e-6` (relative) of `variance`.
pub fn selu_constants_for(variance: f64) -> (f64, f64) {
    todo!("Exercise 10.3: the two moment conditions for a normal input of this variance")
}
