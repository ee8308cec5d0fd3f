//! Exercises for chapter 14, *Visualizing what a network learned*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch14_visualization
//! ```
//!
//! A grey image is an `ndarray::Array2<f32>` indexed `[row, column]`; `image.dim()` returns
//! `(rows, columns)`.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use std::ops::Range;

use cnn_book::layers::ReluRule;
use ndarray::Array2;

/// Exercise 14.1: a saliency map without backpropagation.
///
/// `score` gives a class score for an image. For every pixel `p`, compute the central
/// difference `(score(I + h e_p) - score(I - h e_p)) / (2 h)`, where `I + h e_p` is
/// `image` with `h` added to pixel `p` only, and return the map of their absolute values.
///
/// Worked example: for `score(I) = 3 I[0, 0] - 2 I[0, 1]` and any `1 x 2` image, the answer
/// is `[[3, 2]]` (up to rounding).
///
/// The checker allows for rounding: answers within about `1e-2` of the expected ones,
/// relative to the largest, are accepted.
pub fn finite_difference_saliency(
    score: &dyn Fn(&Array2<f32>) -> f32,
    image: &Array2<f32>,
    h: f32,
) -> Array2<f32> {
    todo!("Exercise 14.1: two evaluations of the score per pixel")
}

/// Exercise 14.2: the patch of the image that one unit sees.
///
/// `layers` are the sliding windows of a stack of convolutions and poolings, each
/// `(field, padding, stride)`, the same along rows and columns, first layer first.
/// Return the rows and the columns of a `height x width` image that unit `(row, col)` of
/// the last layer's output can see, as half-open ranges, clipped to the image.
///
/// Chapter 2 derives the receptive field of one output of such a stack (section
/// *Receptive fields through a stack*): how wide it is, where output 0's field starts,
/// and how far apart the fields of neighbouring outputs are. Positions before 0 or past
/// the image are padding: they are clipped off.
///
/// Worked example: LeNet's `[(5, 2, 1), (2, 0, 2), (5, 0, 1)]` (first convolution,
/// pooling, second convolution) on a `28 x 28` image: unit `(5, 2)` sees rows `8..22` and
/// columns `2..16`; unit `(0, 0)` sees rows `0..12` and columns `0..12` (its field starts
/// at -2, in the padding).
pub fn receptive_patch(
    layers: &[(usize, usize, usize)],
    row: usize,
    col: usize,
    height: usize,
    width: usize,
) -> (Range<usize>, Range<usize>) {
    todo!("Exercise 14.2: the unit's receptive field, clipped to the image")
}

/// Exercise 14.3: what a ReLU sends back, under each of the three rules.
///
/// `forward_input[i]` is what the ReLU received in the forward pass, `signal[i]` what
/// arrives from above on the way back. Return what passes to the layer below:
///
/// - `ReluRule::Backprop`: the signal where the forward input was positive, else 0;
/// - `ReluRule::Deconvnet`: the signal where the signal is positive, else 0;
/// - `ReluRule::Guided`: the signal where both are positive, else 0.
///
/// Worked example (the chapter's table): forward inputs `[1, -1, 2]` and signal
/// `[-1, 2, 3]` give `[-1, 0, 3]`, `[0, 2, 3]` and `[0, 0, 3]`.
pub fn relu_backward(rule: ReluRule, forward_input: &[f32], signal: &[f32]) -> Vec<f32> {
    todo!("Exercise 14.3: one condition per rule")
}
