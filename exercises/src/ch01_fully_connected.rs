//! Exercises for chapter 1, *Fully connected layers on images*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch01_fully_connected
//! ```
//!
//! A dense layer's parameters are its weights and its biases, which the chapter counts
//! (section *An image as a vector*). Fed a raw image, it has one input per pixel value
//! (`width * height * channels` of them).

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use cnn_book::Volume;
use ndarray::Array2;

/// Exercise 1.1: the largest square image a parameter budget can afford.
///
/// A dense layer takes a square `s x s` image with `channels` values per pixel
/// (`s * s * channels` inputs) to `hidden` units. Return the largest side `s` for which
/// the layer, weights and biases together, has at most `budget` parameters.
///
/// - Return 0 if even `s = 1` is over budget (for instance when `budget < hidden`).
/// - A budget met exactly is within budget.
/// - You may assume `channels >= 1` and `hidden >= 1` (otherwise no side would be too
///   large), and `channels * hidden <= 10^6`.
/// - Budgets go all the way up to `u64::MAX`, so sides reach `2^32 - 1`: counting up one
///   side at a time is too slow, and on the way the parameter count of a large side can
///   overflow `u64` (a panic in debug builds).
///
/// Worked examples:
///
/// - MNIST's first layer with 100 hidden units has `28 * 28 * 1 * 100 + 100 = 78_500`
///   parameters, so `largest_side_within_budget(78_500, 1, 100) == 28`, while one
///   parameter less, `largest_side_within_budget(78_499, 1, 100)`, is 27.
/// - The same budget with colour images: `largest_side_within_budget(78_500, 3, 100)`
///   is 16, because `16 * 16 * 3 * 100 + 100 = 76_900` fits but
///   `17 * 17 * 3 * 100 + 100 = 86_800` does not.
/// - `largest_side_within_budget(9, 1, 10) == 0`: ten biases alone cost 10 > 9.
pub fn largest_side_within_budget(budget: u64, channels: u64, hidden: u64) -> u64 {
    todo!("Exercise 1.1: the largest square image side within a parameter budget")
}

/// Exercise 1.2: how many hidden units a larger image can afford on the same budget.
///
/// The chapter's network is `image -> hidden -> classes`: a dense layer from the
/// flattened image (`image.len()` inputs) to `hidden` units, then a dense layer to
/// `classes` outputs, both with biases. A reference network
/// `reference -> reference_hidden -> classes` sets the budget: its total number of
/// parameters. Return the largest `hidden` for which the network on `image` has at most
/// that many parameters (a budget met exactly is within budget).
///
/// - `hidden = 0` always fits (it costs only the `classes` output biases), so the
///   answer is never below 0; it is 0 when even one hidden unit is too expensive.
/// - Any of the counts may be 0 (for instance `classes = 0` or `reference_hidden = 0`).
/// - Answers reach hundreds of millions (tiny images on a large budget): compute the
///   answer rather than counting up one hidden unit at a time.
///
/// Worked examples:
///
/// - Reference `2x2x1` with 3 hidden units and 2 classes: `4*3 + 3 + 3*2 + 2 = 23`
///   parameters. On a `3x3x1` image, one hidden unit costs `9*1 + 1 + 1*2 + 2 = 14 <= 23`
///   but two cost `18 + 2 + 4 + 2 = 26 > 23`, so
///   `hidden_units_for_same_budget(Volume::new(2, 2, 1), 3, Volume::new(3, 3, 1), 2) == 1`.
/// - MNIST (`28x28x1`) with 100 hidden units and 10 classes has 79_510 parameters; on a
///   `96x96x1` image the same budget affords only 8 hidden units
///   (`9216*8 + 8 + 8*10 + 10 = 73_826`, while 9 units need 83_053).
pub fn hidden_units_for_same_budget(
    reference: Volume,
    reference_hidden: u64,
    image: Volume,
    classes: u64,
) -> u64 {
    todo!("Exercise 1.2: the largest hidden layer within the reference network's budget")
}

/// Exercise 1.3: the first layer that sees through a pixel shuffle.
///
/// The chapter shuffles the pixels of every image with one fixed permutation: pixel `p`
/// of the shuffled image (pixels counted row by row) is pixel `permutation[p]` of the
/// original. A dense layer does not mind. Its weight matrix `a` has one row per unit and
/// one column per pixel (`a.dim() == (units, pixels)`), and there is a matrix `a2` of the
/// same shape that computes on every shuffled image exactly what `a` computes on the
/// original:
///
/// ```text
/// a2 · shuffled(x) == a · x    for every image x (a column of `pixels` values)
/// ```
///
/// Return that matrix (there is only one).
///
/// - `permutation` holds each of `0..pixels` exactly once, where `pixels = a.ncols()`.
/// - `units` or `pixels` may be 0; the answer always has the shape of `a`.
///
/// Worked examples:
///
/// - Three pixels and `permutation = [2, 0, 1]`: the image `[x0, x1, x2]` becomes
///   `[x2, x0, x1]`. For `a = array![[1.0, 2.0, 3.0]]`, which computes
///   `x0 + 2 x1 + 3 x2`, the answer is `array![[3.0, 1.0, 2.0]]`: on the shuffled image
///   it computes `3 x2 + 1 x0 + 2 x1`, the same. (`array![[2.0, 3.0, 1.0]]` would compute
///   `2 x2 + 3 x0 + x1` instead.)
/// - `permutation = [1, 0]` swaps two pixels, and
///   `columns_for_shuffled_pixels(&array![[1.0, 2.0], [3.0, 4.0]], &[1, 0])` is
///   `array![[2.0, 1.0], [4.0, 3.0]]`: every unit sees the swap the same way.
/// - The identity permutation `[0, 1, ..., pixels - 1]` leaves `a` as it is.
///
/// (`array!` is `ndarray::array`.) The entries are copies of `a`'s, so the checker
/// compares them exactly; it also multiplies your matrix by shuffled random images and
/// compares the result with `a` times the original images.
pub fn columns_for_shuffled_pixels(a: &Array2<f32>, permutation: &[usize]) -> Array2<f32> {
    todo!("Exercise 1.3: the weight matrix that computes on shuffled images what `a` computes")
}
