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
//! not flipped.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::Array2;

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
/// `image[i + u*dilation][j + v*dilation]`:
///
/// ```text
/// y[i][j] = sum over u < KH, v < KW of image[i + u*dilation][j + v*dilation] * kernel[u][v]
/// ```
///
/// The dilated kernel spans `(KH - 1)*dilation + 1` rows and `(KW - 1)*dilation + 1`
/// columns, and the output has one entry for every position where that span fits inside
/// the image: `H - (KH - 1)*dilation` rows and `W - (KW - 1)*dilation` columns. Dilation 1
/// is the ordinary convolution.
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
