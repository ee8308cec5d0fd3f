//! Exercises for chapter 7, *Pooling*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch07_pooling
//! ```
//!
//! A batch of feature maps is a 4D array `ndarray::Array4<f32>` of shape
//! `(N, C, H, W)`: `N` images, `C` channels each, every channel an `H x W` map, indexed
//! `x[[n, c, row, column]]`. `x.dim()` returns the four sizes as a tuple. Build a result
//! with `Array4::zeros((n, c, h, w))` (or `Array2::zeros((n, c))`) and fill it in, or
//! with `from_shape_fn`.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::{Array2, Array4};

/// Exercise 7.1: global average pooling.
///
/// Network-in-Network and GoogLeNet replace the last fully connected layers by one number
/// per channel: the mean of the channel's whole map. For `x` of shape `(N, C, H, W)`,
/// return the `(N, C)` array
///
/// ```text
/// y[n][c] = (sum over r < H, q < W of x[n][c][r][q]) / (H * W)
/// ```
///
/// It is average pooling with one window as large as the map (`field = H` when the map
/// is square). The maps need not be square. `H` and `W` are at least 1; the batch or the
/// channels may be empty (`N = 0` or `C = 0`), and then so is the answer: shape
/// `(0, C)` or `(N, 0)`.
///
/// Worked examples:
///
/// - `x` of shape `(1, 2, 2, 2)` with channel 0 `[[1, 2], [3, 4]]` and channel 1
///   `[[0, 0], [0, -8]]` (`array![[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, -8.0]]]]`)
///   gives `array![[2.5, -2.0]]`: `10/4` and `-8/4`.
/// - `x` of shape `(2, 1, 1, 3)`, `array![[[[1.0, 2.0, 6.0]]], [[[-3.0, 0.0, 0.0]]]]`,
///   gives `array![[3.0], [-1.0]]`: one row per image, one column per channel.
/// - `Array4::zeros((0, 5, 3, 3))` gives a `0 x 5` array.
///
/// The checker allows for rounding: answers within about `1e-4` of the expected ones are
/// right.
pub fn global_avg_pool(x: &Array4<f32>) -> Array2<f32> {
    todo!("Exercise 7.1: the (N, C) means of every channel's map")
}

/// Exercise 7.2: the backward pass of global average pooling.
///
/// Given `grad[n][c]`, the gradient of the loss with respect to output `y[n][c]` of
/// [`global_avg_pool`], return the gradient with respect to its input, of shape
/// `shape = (N, C, H, W)`, by the chain rule through the forward pass. `grad` has shape
/// `(N, C)`; `H` and `W` are at least 1, and `N` or `C` may be 0.
///
/// Worked examples:
///
/// - `global_avg_pool_backward(&array![[8.0, -4.0]], (1, 2, 2, 2))` is the `(1, 2, 2, 2)`
///   array with channel 0 all `2.0` and channel 1 all `-1.0`:
///   `array![[[[2.0, 2.0], [2.0, 2.0]], [[-1.0, -1.0], [-1.0, -1.0]]]]`.
/// - `global_avg_pool_backward(&array![[3.0], [6.0]], (2, 1, 1, 3))` is
///   `array![[[[1.0, 1.0, 1.0]]], [[[2.0, 2.0, 2.0]]]]`.
///
/// Summing the input gradient of a map gives back `grad[n][c]`: pooling neither creates
/// nor loses gradient. The checker allows for rounding: answers within about `1e-4` of the
/// expected ones are right.
pub fn global_avg_pool_backward(
    grad: &Array2<f32>,
    shape: (usize, usize, usize, usize),
) -> Array4<f32> {
    todo!("Exercise 7.2: the (N, C, H, W) input gradient of global average pooling")
}

/// Exercise 7.3: the backward pass of average pooling that ignores the padding.
///
/// Average pooling with `field x field` windows, moving by `stride` along both axes, on
/// maps padded with `padding` rows and columns on every side. The windows sit as in
/// chapter 2: the first at the top-left corner of the padded map, each next one `stride`
/// further down or right. Each output is the mean of the *real* inputs of its window: the
/// padding is neither added nor counted, so a window that hangs over the border averages
/// fewer values (the second of the chapter's two choices, PyTorch's
/// `count_include_pad=False`).
///
/// Given `grad[n][c][i][j]`, the gradient of the loss with respect to output `(i, j)` of
/// map `(n, c)`, return the gradient with respect to the input, of shape
/// `shape = (N, C, H, W)`. Chapter 7 derives the backward pass of an average whose window
/// always holds `F * F` values; here work it out for this one.
///
/// You may assume that the shapes fit: `field`, `stride`, `H` and `W` are at least 1, the
/// padding is at most half the window (`2 * padding <= field`, so every window holds at
/// least one real input), the windows tile the padded maps exactly along both axes, and
/// `grad` has shape `(N, C, H', W')` for the `H' x W'` windows. `N` or `C` may be 0.
///
/// Worked examples:
///
/// - `2 x 2` windows, stride 2, padding 1 on a `2 x 2` map: the padded map is `4 x 4` and
///   holds four windows, each with one real input, its corner. So with
///   `g = array![[[[1.0, 2.0], [3.0, 4.0]]]]`,
///   `avg_pool_backward_excluding_padding(&g, (1, 1, 2, 2), 2, 2, 1)` is `g` itself: each
///   input receives its window's whole gradient. (Counting the padding, each would
///   receive a quarter.)
/// - `3 x 3` windows, stride 1, padding 1 on a `1 x 3` map (shape `(1, 1, 1, 3)`): three
///   windows, over the real inputs `{0, 1}`, `{0, 1, 2}` and `{1, 2}`. With
///   `grad = array![[[[6.0, 6.0, 6.0]]]]` the answer is `array![[[[5.0, 8.0, 5.0]]]]`: the
///   middle input belongs to all three windows, the others to two.
///
/// The input gradients of a map add up to the gradients of its outputs: the padding takes
/// none. The checker allows for rounding: answers within about `1e-4` of the expected ones
/// are right.
pub fn avg_pool_backward_excluding_padding(
    grad: &Array4<f32>,
    shape: (usize, usize, usize, usize),
    field: usize,
    stride: usize,
    padding: usize,
) -> Array4<f32> {
    todo!("Exercise 7.3: share each window's gradient among its real inputs")
}
