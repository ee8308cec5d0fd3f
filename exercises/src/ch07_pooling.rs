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
/// `shape = (N, C, H, W)`. Every input of map `(n, c)` counts `1 / (H*W)` in the mean, so
/// each receives the same share of the output's gradient:
///
/// ```text
/// dx[n][c][r][q] = grad[n][c] / (H * W)
/// ```
///
/// `grad` has shape `(N, C)`; `H` and `W` are at least 1, and `N` or `C` may be 0.
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
    todo!("Exercise 7.2: spread each map's gradient evenly over its H*W inputs")
}

/// Exercise 7.3: DeconvNet's max unpooling.
///
/// Max pooling keeps, for every output `(n, c, i, j)`, the largest input of its window,
/// and its *switch* records where that input was: `switches[[n, c, i, j]]` is its
/// `(row, column)` in the input map, as a `(u32, u32)` (convert with `as usize`). To map
/// pooled activations back to the input's resolution, Zeiler and Fergus' DeconvNet
/// *unpools*: start from zeros of the input's `shape = (N, C, H, W)` and put each pooled
/// value back where its switch points,
///
/// ```text
/// out[n][c][row][column] += pooled[n][c][i][j]   where (row, column) = switches[n][c][i][j]
/// ```
///
/// Every other position stays 0. When windows overlap (stride smaller than the field),
/// one input can win several windows: the values sent to the same position add up. (This
/// is also the backward pass of max pooling, with the output gradient in place of
/// `pooled`.) `pooled` and `switches` have the same shape `(N, C, H', W')`, and every
/// switch lies inside the `H x W` map.
///
/// Worked examples:
///
/// - Max pooling `[[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 3, 3], [2, 6, 1, 0]]` (one image,
///   one channel) with `2 x 2` windows and stride 2 gives `pooled = [[4, 5], [6, 3]]` and
///   `switches = [[(1, 0), (1, 3)], [(3, 1), (2, 2)]]` (the tie between the two 3s goes to
///   the first one in reading order). Unpooling them to shape `(1, 1, 4, 4)` gives
///   `[[0, 0, 0, 0], [4, 0, 0, 5], [0, 0, 3, 0], [0, 6, 0, 0]]`: each maximum back in its
///   place, zeros elsewhere.
/// - Max pooling `[[0, 9, 0], [1, 2, 3]]` with `2 x 2` windows and stride 1 gives
///   `pooled = [[9, 9]]` and `switches = [[(0, 1), (0, 1)]]`: the 9 wins both windows.
///   Unpooling to shape `(1, 1, 2, 3)` gives `[[0, 18, 0], [0, 0, 0]]`.
///
/// As Rust: `max_unpool(&array![[[[9.0, 9.0]]]], &array![[[[(0, 1), (0, 1)]]]], (1, 1, 2, 3))`
/// is `array![[[[0.0, 18.0, 0.0], [0.0, 0.0, 0.0]]]]`. The answers are copies or sums of
/// the pooled values: the checker allows only for the rounding of sums in another order.
pub fn max_unpool(
    pooled: &Array4<f32>,
    switches: &Array4<(u32, u32)>,
    shape: (usize, usize, usize, usize),
) -> Array4<f32> {
    todo!("Exercise 7.3: each pooled value back at its switch, zeros elsewhere")
}
