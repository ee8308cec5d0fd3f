//! Exercises for chapter 13, *Data augmentation*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch13_augmentation
//! ```
//!
//! A grey image is an `ndarray::Array2<f32>` indexed `[row, column]`; `image.dim()` returns
//! `(rows, columns)`.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::Array2;

/// Exercise 13.1: the mirror image, left to right.
///
/// Column `j` of the answer is column `W - 1 - j` of `image` (for `W` columns); the rows
/// stay where they are.
///
/// Worked example: `[[1, 2, 3], [4, 5, 6]]` gives `[[3, 2, 1], [6, 5, 4]]`.
pub fn flip_horizontal(image: &Array2<f32>) -> Array2<f32> {
    todo!("Exercise 13.1: reverse the order of the columns")
}

/// Exercise 13.2: the image moved by `dy` rows down and `dx` columns right.
///
/// Negative `dy` moves up, negative `dx` left. Pixel `[r, c]` of the answer is
/// `image[r - dy, c - dx]` where that lies inside the image, and `fill` (the background)
/// where it does not. Shifts as large as the image, or larger, leave only `fill`.
///
/// Worked example: `[[1, 2], [3, 4]]` with `dy = 0`, `dx = 1`, `fill = 0` gives
/// `[[0, 1], [0, 3]]`; with `dy = -1`, `dx = 0` it gives `[[3, 4], [0, 0]]`.
pub fn shift_image(image: &Array2<f32>, dy: isize, dx: isize, fill: f32) -> Array2<f32> {
    todo!("Exercise 13.2: copy what stays inside, fill the rest")
}

/// Exercise 13.3: a change of contrast.
///
/// With `m` the mean of all the pixels of `image`, every pixel `v` becomes
/// `m + factor * (v - m)`, then is clipped to `[low, high]` (values below `low` become
/// `low`, above `high` become `high`). A factor below 1 flattens the image towards its
/// mean, above 1 makes it starker.
///
/// Worked example: `[[0.4, 0.6]]` (mean 0.5) with `factor = 2`, `low = 0`, `high = 1`
/// gives `[[0.3, 0.7]]`; with `factor = 10` it gives `[[0, 1]]` (clipped from -0.5 and
/// 1.5).
///
/// The checker allows for rounding: answers within about `1e-5` of the expected ones are
/// right.
pub fn adjust_contrast(image: &Array2<f32>, factor: f32, low: f32, high: f32) -> Array2<f32> {
    todo!("Exercise 13.3: the mean, the scaled deviations, the clipping")
}
