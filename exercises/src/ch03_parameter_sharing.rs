//! Exercises for chapter 3, *Parameter sharing*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch03_parameter_sharing
//! ```
//!
//! A layer with [`ConvGeometry`] `{ field: F, stride: S, padding: P, filters: K }` on a
//! `W x H x D` input [`Volume`] slides `F x F` windows, spanning the full depth `D`, over
//! width and height, giving a `W' x H' x K` output. How many weights and biases its
//! neurons have, shared or not, is the chapter's subject (section *Stationarity*).
//!
//! Along each of width and height, as in chapter 2, an input of `W` values gives
//! `W' = (W - F + 2P)/S + 1` outputs, but only when the window *works* along it: `F >= 1`,
//! `S >= 1`, `W >= 1`, the window fits in the padded input (`F <= W + 2P`), and
//! `W - F + 2P` is a multiple of `S` (no input is left over after the last window).
//!
//! - *Locally connected*: every output neuron has its own weights and bias.
//! - *Convolutional*: the `W' * H'` neurons of one depth slice share one filter's
//!   weights and bias.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use cnn_book::{ConvGeometry, Volume};

/// Exercise 3.1: how much parameter sharing saves.
///
/// Return how many times more parameters the locally connected layer with `geometry` on
/// `input` has than the convolutional layer with the same geometry (the division is
/// exact). Return `None` when the layer does not fit its input:
///
/// - `geometry.filters == 0` or `input.depth == 0`;
/// - or the window does not work (see the top of this file) along the width or along the
///   height.
///
/// Worked example: on a `4x4x1` input, 2 filters of `3x3` at stride 1 without padding
/// give a `2x2x2` output. The locally connected layer has 80 parameters, the
/// convolutional one 20, and
///
/// ```text
/// sharing_ratio(
///     Volume::new(4, 4, 1),
///     ConvGeometry { field: 3, stride: 1, padding: 0, filters: 2 },
/// ) == Some(4)
/// ```
///
/// For AlexNet's first layer (96 filters of `11x11x3`, stride 4, on `227x227x3`) the
/// ratio is 3025. Can you say what the ratio counts, without computing either total?
pub fn sharing_ratio(input: Volume, geometry: ConvGeometry) -> Option<u64> {
    todo!("Exercise 3.1: locally connected parameters / convolutional parameters")
}

/// Exercise 3.2: the nearest input width that a window tiles exactly.
///
/// AlexNet's paper says its `11x11` stride-4 filters run on `224`-wide images, but
/// `(224 - 11)/4 + 1` is not an integer; `227` is the smallest width from 224 up that
/// works. Return the smallest `W' >= width` on which a window with `field`, `padding` and
/// `stride` works (see the top of this file).
///
/// - You may assume `field >= 1` and `stride >= 1`, so such a `W'` always exists.
/// - Remember the other conditions, not just the multiple of the stride: `W' >= 1` and the
///   window must fit in the padded input, `field <= W' + 2 * padding`.
///
/// Worked examples:
///
/// - `nearest_tiling_width(224, 11, 0, 4) == 227` and `nearest_tiling_width(227, 11, 0, 4) == 227`.
/// - `nearest_tiling_width(6, 3, 0, 2) == 7`: `6 - 3 = 3` is odd, `7 - 3 = 4` is even.
/// - `nearest_tiling_width(2, 3, 1, 2) == 3`: `2 + 2*1 - 3 = 1` is odd, `3 + 2*1 - 3 = 2` is even.
/// - `nearest_tiling_width(0, 3, 0, 1) == 3` (the window needs 3 inputs) and
///   `nearest_tiling_width(0, 3, 1, 1) == 1` (an input needs at least one value).
pub fn nearest_tiling_width(width: usize, field: usize, padding: usize, stride: usize) -> usize {
    todo!("Exercise 3.2: the smallest width >= width that the window tiles exactly")
}

/// Exercise 3.3: the parameters of a stack of convolutional layers.
///
/// Apply `layers` in order: the first to `input`, each next one to the previous layer's
/// output volume (so its input depth is the previous layer's number of filters). Return
/// the total number of parameters, weights and biases, of all the (convolutional,
/// shared) layers, or `None` if any layer does not fit its input (the conditions of
/// exercise 3.1). With no layers, return `Some(0)` whatever the input.
///
/// The checker only uses stacks whose count fits comfortably in a `u64`.
///
/// Worked example: on a `5x5x1` input,
///
/// - `ConvGeometry { field: 3, stride: 1, padding: 0, filters: 2 }` has 20 parameters
///   and outputs `3x3x2`;
/// - then `ConvGeometry { field: 3, stride: 1, padding: 0, filters: 4 }` has 76
///   parameters and outputs `1x1x4`;
///
/// so the total is `Some(96)`. A third layer with `field: 2` would not fit the `1x1x4`
/// volume, and the answer would be `None`.
pub fn conv_stack_params(input: Volume, layers: &[ConvGeometry]) -> Option<u64> {
    todo!("Exercise 3.3: total parameters of a stack of convolutional layers, or None")
}
