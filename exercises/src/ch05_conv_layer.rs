//! Exercises for chapter 5, *The convolutional layer*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch05_conv_layer
//! ```
//!
//! An image and a kernel are 2D arrays (`ndarray::Array2<f32>`), indexed `[row, column]`:
//! `image[[r, c]]`, `image.dim() == (height, width)`. Build a result with
//! `Array2::zeros((rows, columns))` and fill it in, or with `Array2::from_shape_fn`. Like
//! every deep-learning library, "convolution" here is the cross-correlation: the kernel is
//! not flipped. Exercise 5.3 works on a whole volume: an `ndarray::Array3<f32>` indexed
//! `[channel, row, column]`, and filters in an `ndarray::Array4<f32>` indexed
//! `[filter, channel, row, column]`.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::{Array2, Array3, Array4};

/// Exercise 5.1: one channel, one filter, with stride and zero-padding.
///
/// Pad `image` (`H x W`) with `padding` rows of zeros above and below and `padding`
/// columns of zeros left and right, then slide `kernel` (`KH x KW`) over the padded image
/// in steps of `stride` along both axes. Output `(i, j)` is the dot product of the kernel
/// with the window whose top-left corner sits at padded position `(i*stride, j*stride)`:
///
/// ```text
/// y[i][j] = sum over u < KH, v < KW of padded[i*stride + u][j*stride + v] * kernel[u][v]
/// ```
///
/// where `padded[r][c]` is `image[r - padding][c - padding]` inside the image and 0 in the
/// border. The output is `H' x W'` with `H' = (H - KH + 2*padding)/stride + 1` and
/// `W' = (W - KW + 2*padding)/stride + 1`.
///
/// Return `None` when the window does not work along the height or the width:
///
/// - `stride == 0`, or the kernel or the image is empty (a dimension of 0);
/// - the kernel is taller or wider than the padded image (`KH > H + 2*padding` or
///   `KW > W + 2*padding`);
/// - the stride does not tile: `H - KH + 2*padding` or `W - KW + 2*padding` is not a
///   multiple of `stride` (the last window would hang over the edge).
///
/// Worked examples, with `x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]`:
///
/// - `conv2d_one_channel(&x, &array![[1.0, 0.0], [0.0, -1.0]], 1, 0)` is
///   `Some(array![[-4.0, -4.0], [-4.0, -4.0]])`: `1 - 5`, `2 - 6`, `4 - 8`, `5 - 9`.
/// - `conv2d_one_channel(&x, &array![[1.0, -1.0]], 1, 0)` is `Some` of a `3 x 2` array of
///   `-1.0`: the kernel can be wider than it is tall.
/// - `conv2d_one_channel(&x, &Array2::ones((3, 3)), 2, 1)` is
///   `Some(array![[12.0, 16.0], [24.0, 28.0]])`: the padded image is `5 x 5`, the windows
///   start at padded rows and columns 0 and 2, and each covers a `2 x 2` corner of `x`
///   (`1 + 2 + 4 + 5 = 12`, ...) and five zeros.
/// - `conv2d_one_channel(&x, &array![[1.0, 0.0], [0.0, -1.0]], 2, 0)` is `None`:
///   `(3 - 2)/2` is not a whole number.
/// - `conv2d_one_channel(&x, &Array2::ones((4, 4)), 1, 0)` is `None` (the kernel is
///   larger than the image), but with `padding = 1` it gives a `2 x 2` result.
///
/// (`array!` is `ndarray::array`.) The checker allows for rounding: answers within about
/// `1e-4` of the expected ones are right.
pub fn conv2d_one_channel(
    image: &Array2<f32>,
    kernel: &Array2<f32>,
    stride: usize,
    padding: usize,
) -> Option<Array2<f32>> {
    todo!("Exercise 5.1: the convolution of one image with one kernel, or None")
}

/// Exercise 5.2: a dilated ("atrous") convolution.
///
/// A dilated convolution spreads the kernel's taps `dilation` pixels apart, so that a
/// `3 x 3` kernel with dilation 2 covers a `5 x 5` area with the same nine weights. With
/// stride 1 and no padding, kernel tap `(u, v)` of output `(i, j)` reads
/// `image[i + u*dilation][j + v*dilation]`, and the output is the sum of the taps'
/// products, as in exercise 5.1. There is one output for every position where the whole
/// dilated kernel fits inside the image (how many that makes along each axis is yours to
/// work out). Dilation 1 is the ordinary convolution.
///
/// Return `None` when `dilation == 0`, when the kernel has no taps (a dimension of 0), or
/// when the dilated kernel does not fit in the image (which includes an empty image).
///
/// Worked examples, with the `5 x 5` image `x[r][c] = 5r + c`
/// (`Array2::from_shape_fn((5, 5), |(r, c)| (5 * r + c) as f32)`):
///
/// - `conv2d_dilated(&x, &array![[1.0, -1.0]], 2)` is `Some` of a `5 x 3` array of `-2.0`:
///   each output is `x[i][j] - x[i][j + 2]`.
/// - `conv2d_dilated(&x, &Array2::ones((3, 3)), 2)` is `Some(array![[108.0]])`: the dilated
///   kernel spans the whole image and adds up rows 0, 2, 4 of columns 0, 2, 4:
///   `3*5*(0 + 2 + 4) + 3*(0 + 2 + 4) = 108`.
/// - `conv2d_dilated(&x, &Array2::ones((3, 3)), 3)` is `None`: the kernel would span 7.
/// - `conv2d_dilated(&x, &Array2::ones((3, 3)), 0)` is `None`.
///
/// The checker allows for rounding: answers within about `1e-4` of the expected ones are
/// right.
pub fn conv2d_dilated(
    image: &Array2<f32>,
    kernel: &Array2<f32>,
    dilation: usize,
) -> Option<Array2<f32>> {
    todo!("Exercise 5.2: the convolution with the kernel's taps `dilation` apart, or None")
}

/// Exercise 5.3: the whole convolutional layer, for one image.
///
/// The chapter's layer reads a volume and writes a volume. `input` has shape `(C, H, W)`
/// (channel, row, column), `filters` has shape `(K, C, KH, KW)`: `K` filters, each with
/// one `KH x KW` kernel per input channel, and `bias` holds one value per filter. Output
/// channel `k` is filter `k` slid over the input volume, which is padded with `padding`
/// rows and columns of zeros on every side, in steps of `stride` along both axes: each
/// output value is the dot product of the whole filter (all `C` channels) with the window
/// of the volume under it, plus `bias[k]`. The kernel is not flipped. The output has shape
/// `(K, H', W')` with `H' = (H - KH + 2*padding)/stride + 1` and
/// `W' = (W - KW + 2*padding)/stride + 1`.
///
/// You may assume that the shapes fit: `C`, `K` and `stride` are at least 1, the filters
/// have `C` channels, `bias.len() == K`, and along both axes the window tiles the padded
/// input (the kernel is no larger than the padded input, though it may be larger than the
/// input itself, and the divisions are exact). Build the result with `Array3::zeros` or
/// `Array3::from_shape_fn`.
///
/// Worked examples:
///
/// - One channel and one filter is exercise 5.1 plus a bias: with
///   `x = array![[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]` (shape `(1, 3, 3)`),
///   `conv2d_multi(&x, &Array4::ones((1, 1, 2, 2)), &[0.5], 1, 0)` is
///   `array![[[12.5, 16.5], [24.5, 28.5]]]`: `1 + 2 + 4 + 5 + 0.5`, ...
/// - Two channels, two filters: with `x = array![[[1.0, 2.0], [3.0, 4.0]], [[10.0, 20.0],
///   [30.0, 40.0]]]` and the filters
///   `w = array![[[[1.0, 1.0], [1.0, 1.0]], [[-1.0, -1.0], [-1.0, -1.0]]],
///   [[[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]]]` (shape `(2, 2, 2, 2)`),
///   `conv2d_multi(&x, &w, &[0.0, 1.0], 1, 0)` is `array![[[-90.0]], [[101.0]]]`
///   (shape `(2, 1, 1)`): the first filter adds channel 0 and subtracts channel 1,
///   `10 - 100`; the second reads channel 1 only, `100`, plus its bias 1.
/// - Padding: `conv2d_multi(&array![[[1.0, 2.0], [3.0, 4.0]]], &Array4::ones((1, 1, 2, 2)),
///   &[0.0], 1, 1)` is `array![[[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]]`: the
///   corner windows hold one pixel and three zeros.
/// - A kernel larger than the image: on the `1 x 1` image `array![[[5.0]]]`, a `3 x 3`
///   filter with padding 1 gives one value, `5` times the filter's centre weight, plus the
///   bias.
///
/// (`array!` is `ndarray::array`.) The checker allows for rounding: answers within about
/// `1e-4` of the expected ones are right.
pub fn conv2d_multi(
    input: &Array3<f32>,
    filters: &Array4<f32>,
    bias: &[f32],
    stride: usize,
    padding: usize,
) -> Array3<f32> {
    todo!("Exercise 5.3: the (K, H', W') output of K filters on a C-channel image")
}
