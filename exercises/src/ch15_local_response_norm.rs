//! Exercises for chapter 15, *Local response normalization*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch15_local_response_norm
//! ```
//!
//! A batch of feature maps is an `ndarray::Array4<f32>` of shape `(N, C, H, W)`, indexed
//! `x[[n, c, row, column]]`; `x.dim()` returns the four sizes.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::Array4;

/// Exercise 15.1: local response normalization, AlexNet's formula.
///
/// For every image `n`, channel `c` and position `(r, q)`:
///
/// ```text
/// s = k + alpha * sum of a[n][j][r][q]^2 over j from max(0, c - size/2) to min(C - 1, c + size/2)
/// b[n][c][r][q] = a[n][c][r][q] / s^beta
/// ```
///
/// `size` is odd (`size / 2` is integer division: 2 for a size of 5); the window is
/// clipped at the first and last channel, so the edge channels sum over fewer neighbours.
///
/// Worked example: one image, one position, channels `1, 2, 3` (`x` of shape
/// `(1, 3, 1, 1)`), `size = 3`, `k = 1`, `alpha = 1`, `beta = 1`: the sums run over channels
/// `{0, 1}`, `{0, 1, 2}` and `{1, 2}`, so the bases are `1 + 1 + 4 = 6`, `1 + 14 = 15` and
/// `1 + 13 = 14`, and the answer is `[1/6, 2/15, 3/14]`.
///
/// The checker allows for rounding: answers within about `1e-5` of the expected ones,
/// relative to their size, are right.
pub fn lrn(x: &Array4<f32>, size: usize, k: f32, alpha: f32, beta: f32) -> Array4<f32> {
    todo!("Exercise 15.1: divide each activation by a power of its neighbours' squares")
}

/// Exercise 15.2: the backward pass of [`lrn`].
///
/// Given `grad[n][c][r][q]`, the gradient of the loss with respect to the output
/// `b[n][c][r][q]`, return the gradient with respect to the input `a`, of the same shape.
///
/// An activation `a[m]` changes its own output, but also the outputs of every channel whose
/// window contains `m`, through their sums of squares. Derive the gradient by the chain
/// rule and add both contributions.
///
/// Worked examples (`k = 1`, `alpha = 1`, `beta = 1`):
///
/// - `size = 1`: the sum holds the channel alone, `b = a / (1 + a^2)`, which is flat at
///   its peak `a = 1` (exercise 15.3): a gradient of 5 there gives 0.
/// - `size = 3`, channels `[1, 2]` at one position, `grad = [1, 0]`: both channels' windows
///   hold both, so `b0 = a0 / (1 + a0^2 + a1^2)` and `b1 = a1 / (1 + a0^2 + a1^2)`. The
///   answer is `[1/9, -1/9]`: raising `a1` does not change `b1`'s gradient here (it is 0),
///   but it lowers `b0`, which the gradient asks to raise.
///
/// The checker allows for rounding: answers within about `1e-4` of the expected ones,
/// relative to their size, are right.
pub fn lrn_backward(
    grad: &Array4<f32>,
    x: &Array4<f32>,
    size: usize,
    k: f32,
    alpha: f32,
    beta: f32,
) -> Array4<f32> {
    todo!("Exercise 15.2: the direct term, minus what each activation does to its neighbours")
}

/// Exercise 15.3: where the response peaks.
///
/// All `size` channels of a window (`size` odd, the channel in the middle, far from the
/// first and last channel) hold the same activation `a > 0`. For `k > 0`, `alpha > 0` and
/// `beta > 1/2`, the middle channel's output rises from 0 as `a` grows, reaches a largest
/// value and falls again. Return the `a` at which it is largest.
///
/// Worked example: `size = 1` (a channel alone), `k = 1`, `alpha = 1`, `beta = 1`: the
/// output `a / (1 + a^2)` is largest at `a = 1` (where it is 1/2).
///
/// The checker finds the peak of the library's layer numerically and allows for rounding:
/// answers within about `1e-6` of it, relative to its size, are right.
pub fn peak_activation(size: usize, k: f64, alpha: f64, beta: f64) -> f64 {
    todo!("Exercise 15.3: set the derivative to zero")
}
