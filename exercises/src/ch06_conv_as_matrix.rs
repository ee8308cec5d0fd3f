//! Exercises for chapter 6, *Convolution as a matrix*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch06_conv_as_matrix
//! ```
//!
//! A convolution is linear in its input, so for a fixed kernel it is a matrix `C`: one row
//! per output, one column per input, and `C x` is the convolution of `x`. A second way to
//! write it as one matrix product copies every window of the input into a column of a
//! *patch matrix* (im2col); the flattened kernel times that matrix is the convolution.
//! Matrices are `ndarray::Array2<f32>`, indexed `[row, column]`. As in chapter 5,
//! "convolution" is the cross-correlation: the kernel is not flipped.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::Array2;

/// Exercise 6.1: the matrix of a dilated 1D convolution.
///
/// A signal `x` of `length` values is padded with `padding` zeros on each side and
/// cross-correlated at stride `stride` with a *dilated* kernel, as in exercise 5.2: the
/// `k` taps of `kernel` are spread `dilation` positions apart, so that tap `u` reads the
/// padded signal `u * dilation` positions after the start of its window (dilation 1 is the
/// ordinary convolution). The first window starts at the left edge of the padding, and
/// each next one `stride` positions further right, as long as the whole dilated kernel
/// still lies inside the padded signal.
///
/// Return the matrix `C` of shape `(outputs, length)` with `C x = y` for every `x`: one
/// row per output, one column per real input, each tap's weight in the column of the
/// input it reads. Taps that land in the padding multiply zeros: they have no column.
///
/// Return `None` when the window does not work, with the dilated kernel in the role of
/// chapter 2's field: `length`, `k`, `stride` or `dilation` is 0, the dilated kernel is
/// longer than the padded signal, or the windows do not tile the padded signal exactly (no
/// window ends on its last position).
///
/// Worked examples, with the kernel `[1.0, 2.0, 3.0]`:
///
/// - `conv_matrix_1d(4, &[1.0, 2.0, 3.0], 1, 0, 1)` is
///   `Some(array![[1.0, 2.0, 3.0, 0.0], [0.0, 1.0, 2.0, 3.0]])`: the ordinary convolution,
///   the kernel shifted one column per row.
/// - `conv_matrix_1d(5, &[1.0, 2.0, 3.0], 1, 0, 2)` is
///   `Some(array![[1.0, 0.0, 2.0, 0.0, 3.0]])`: with dilation 2 the three taps cover all
///   five inputs, so there is one window.
/// - `conv_matrix_1d(6, &[1.0, 2.0, 3.0], 1, 1, 2)` is `Some` of the `4 x 6` matrix
///   `[[0, 2, 0, 3, 0, 0], [1, 0, 2, 0, 3, 0], [0, 1, 0, 2, 0, 3], [0, 0, 1, 0, 2, 0]]`:
///   the first row's first tap and the last row's last tap land in the padding.
/// - `conv_matrix_1d(5, &[1.0, 2.0, 3.0], 2, 1, 1)` is `Some` of the `3 x 5` matrix
///   `[[2, 3, 0, 0, 0], [0, 1, 2, 3, 0], [0, 0, 0, 1, 2]]`: at stride 2 each row moves two
///   columns.
/// - `conv_matrix_1d(8, &[1.0, 2.0], 2, 0, 3)` is `Some` of the `3 x 8` matrix
///   `[[1, 0, 0, 2, 0, 0, 0, 0], [0, 0, 1, 0, 0, 2, 0, 0], [0, 0, 0, 0, 1, 0, 0, 2]]`, but
///   `conv_matrix_1d(7, &[1.0, 2.0], 2, 0, 3)` is `None`: its last window would end one
///   position short of the end.
/// - `conv_matrix_1d(4, &[1.0, 2.0, 3.0], 1, 0, 2)` is `None` (the dilated kernel is longer
///   than the signal), and so are `conv_matrix_1d(4, &[1.0, 2.0, 3.0], 1, 0, 0)` and
///   `conv_matrix_1d(0, &[1.0], 1, 0, 1)`.
///
/// The entries are copies of the kernel's values, so the checker compares them exactly.
pub fn conv_matrix_1d(
    length: usize,
    kernel: &[f32],
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<Array2<f32>> {
    todo!("Exercise 6.1: the (outputs x length) matrix of the dilated convolution, or None")
}

/// Exercise 6.2: im2col for one channel.
///
/// Slide a `field x field` window over `image` (`H x W`) in steps of `stride`, without
/// padding: there are `out_h = (H - field)/stride + 1` window positions down and
/// `out_w = (W - field)/stride + 1` across. Return the patch matrix of shape
/// `(field*field, out_h*out_w)`: column `i*out_w + j` holds the window at position
/// `(i, j)` (top-left corner at `(i*stride, j*stride)`), read row by row, so
///
/// ```text
/// patches[u*field + v][i*out_w + j] = image[i*stride + u][j*stride + v]
/// ```
///
/// Then a kernel flattened row by row into a row vector, times the patch matrix, is the
/// convolution, flattened row by row.
///
/// Return `None` when the windows do not tile the image: `field` or `stride` is 0, the
/// image is empty (a dimension of 0), `field > H` or `field > W`, or `H - field` or
/// `W - field` is not a multiple of `stride`.
///
/// Worked examples:
///
/// - With `x = array![[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]`,
///   `im2col_one_channel(&x, 2, 1)` is `Some` of the `4 x 6` matrix
///
///   ```text
///   [[1, 2, 3,  5,  6,  7],
///    [2, 3, 4,  6,  7,  8],
///    [5, 6, 7,  9, 10, 11],
///    [6, 7, 8, 10, 11, 12]]
///   ```
///
///   whose first column is the top-left window `1, 2, 5, 6` and whose fourth column
///   (`i = 1, j = 0`) is `5, 6, 9, 10`. Inputs inside the image appear in several columns.
/// - With the `4 x 4` image `1.0, 2.0, ..., 16.0` (row by row), `im2col_one_channel(&x, 2, 2)`
///   is `Some` of `[[1, 3, 9, 11], [2, 4, 10, 12], [5, 7, 13, 15], [6, 8, 14, 16]]`: the
///   windows do not overlap, and every pixel appears exactly once.
/// - The `3 x 4` image above with `field = 2, stride = 2` gives `None`: `(3 - 2)/2` is not
///   a whole number.
///
/// The entries are copies of the image's values, so the checker compares them exactly.
pub fn im2col_one_channel(image: &Array2<f32>, field: usize, stride: usize) -> Option<Array2<f32>> {
    todo!("Exercise 6.2: the (field*field x out_h*out_w) patch matrix, or None")
}

/// Exercise 6.3: multiplying by `C^T` without building `C`.
///
/// Take the convolution of exercise 6.1 with dilation 1 (an ordinary kernel): a signal of
/// `out_len` values, padded with `padding` zeros on each side, cross-correlated with the
/// kernel `w` at stride `stride`, and its matrix `C` of shape `(outputs, out_len)`. Its
/// transpose `C^T` takes a vector of the convolution's output size back to its input size:
/// it is the backward pass of the convolution and, with learned weights, the chapter's
/// transposed convolution. Given `y`, one value per output of the convolution, return
/// `C^T y`: `out_len` values.
///
/// Do it without building `C`: the matrix has `outputs * out_len` entries, nearly all of
/// them zero, while each entry of `C^T y` needs only a few of them.
///
/// You may assume that the shapes fit: `w` is not empty, `stride` and `out_len` are at
/// least 1, the kernel is no longer than the padded signal, `out_len - w.len() + 2*padding`
/// is a multiple of `stride`, and `y.len()` is the number of outputs,
/// `(out_len - w.len() + 2*padding)/stride + 1`.
///
/// Worked examples, with the kernel `[1.0, 2.0, 3.0]` and exercise 6.1's matrices (dilation
/// 1):
///
/// - `conv_transpose_1d(&[1.0, 1.0], &[1.0, 2.0, 3.0], 1, 0, 4) == vec![1.0, 3.0, 5.0, 3.0]`:
///   `C = [[1, 2, 3, 0], [0, 1, 2, 3]]`, and `C^T [1, 1]` adds up the rows of `C`.
/// - `conv_transpose_1d(&[1.0, 10.0, 100.0], &[1.0, 2.0, 3.0], 2, 1, 5)` is
///   `vec![2.0, 13.0, 20.0, 130.0, 200.0]`: `C` is `[[2, 3, 0, 0, 0], [0, 1, 2, 3, 0],
///   [0, 0, 0, 1, 2]]`, so the first entry is `2*1`, the second `3*1 + 1*10`, and so on.
/// - `conv_transpose_1d(&[2.0], &[1.0, 2.0, 3.0], 1, 0, 3) == vec![2.0, 4.0, 6.0]`: one
///   output, whose window covers the whole signal.
/// - `conv_transpose_1d(&[1.0, 2.0, 3.0, 4.0], &[5.0], 1, 1, 2) == vec![10.0, 15.0]`: a
///   one-tap kernel with padding 1 has four outputs, of which the first and the last read
///   only padding (`C = [[0, 0], [5, 0], [0, 5], [0, 0]]`).
///
/// The checker allows for rounding: answers within about `1e-5` of the expected ones are
/// right.
pub fn conv_transpose_1d(
    y: &[f32],
    w: &[f32],
    stride: usize,
    padding: usize,
    out_len: usize,
) -> Vec<f32> {
    todo!("Exercise 6.3: C^T y for the convolution's matrix C, without building C")
}
