//! Exercises for chapter 8, *Backpropagation*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch08_backprop
//! ```
//!
//! Every layer has a forward pass, `y = f(x)`, and a backward pass: given `dL/dy`, the
//! gradient of the loss with respect to the layer's output (`grad`, of the same shape as
//! `y`), it returns `dL/dx` and the gradients of the layer's parameters, by the chain
//! rule. A batch of vectors is an `ndarray::Array2<f32>` of shape `(N, D)`, one example
//! per row; a bias is an `ndarray::Array1<f32>`. `a.dot(&b)` is the matrix product,
//! `a.t()` the transpose, and `a.sum_axis(Axis(0))` the column sums (`use ndarray::Axis;`).

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

use ndarray::{Array1, Array2};

/// Exercise 8.1: the leaky ReLU.
///
/// A ReLU outputs 0 for every negative input, and then passes no gradient back: a unit
/// whose inputs are always negative stops learning. The leaky ReLU lets a little through,
/// element-wise:
///
/// ```text
/// leaky_relu(x) = max(x, slope * x) = x if x > 0, slope * x otherwise
/// ```
///
/// for a `slope` with `0 <= slope < 1` (0.01 is common). With `slope = 0` it is the ReLU.
/// The output has the shape of `x`, which may have no entries.
///
/// Worked examples, with `x = array![[-2.0, 0.0, 3.0], [0.5, -1.0, -4.0]]`:
///
/// - `leaky_relu(&x, 0.25)` is `array![[-0.5, 0.0, 3.0], [0.5, -0.25, -1.0]]`;
/// - `leaky_relu(&x, 0.0)` is `array![[0.0, 0.0, 3.0], [0.5, 0.0, 0.0]]`, the ReLU (a
///   `-0.0` in place of a `0.0` is fine: they are equal).
///
/// The checker allows only for rounding: answers within about `1e-6` of the expected ones
/// are right.
pub fn leaky_relu(x: &Array2<f32>, slope: f32) -> Array2<f32> {
    todo!("Exercise 8.1: x where x > 0, slope * x elsewhere")
}

/// Exercise 8.2: the backward pass of the leaky ReLU.
///
/// Given the input `x` of the forward pass and `grad = dL/dy` (same shape), return
/// `dL/dx`, element-wise, by the chain rule through the leaky ReLU of exercise 8.1.
///
/// At `x = 0` exactly the function has a kink and no derivative; like the library's ReLU
/// (which passes nothing back at 0), use the derivative of the left side, that of the
/// negative inputs, there.
///
/// Worked examples, with `x = array![[-2.0, 0.0, 3.0], [0.5, -1.0, -4.0]]` and
/// `grad = array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]`:
///
/// - `leaky_relu_backward(&x, &grad, 0.25)` is
///   `array![[0.25, 0.25, 1.0], [2.0, 0.5, 0.5]]`;
/// - `leaky_relu_backward(&x, &grad, 0.0)` is `array![[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]]`:
///   the ReLU passes the gradient only where the input was positive.
///
/// The checker allows only for rounding: answers within about `1e-6` of the expected ones
/// are right.
pub fn leaky_relu_backward(x: &Array2<f32>, grad: &Array2<f32>, slope: f32) -> Array2<f32> {
    todo!("Exercise 8.2: dL/dx of the leaky ReLU")
}

/// Exercise 8.3: the backward pass of a fully connected layer.
///
/// A fully connected layer computes `y = x w^T + b`: for a batch `x` of shape
/// `(N, D_in)`, weights `w` of shape `(D_out, D_in)` (one row per output unit) and a bias
/// `b` of `D_out` values,
///
/// ```text
/// y[n][k] = sum over i < D_in of x[n][i] * w[k][i]  +  b[k]
/// ```
///
/// Given `grad = dL/dy` of shape `(N, D_out)`, return `(dL/dx, dL/dw, dL/db)`, of shapes
/// `(N, D_in)`, `(D_out, D_in)` (that of `w`) and `D_out`: the gradients of the loss
/// summed over the whole batch (not averaged), in matrix form. Chapter 8 derives them for
/// one example (section *Fully connected networks*); every weight and every bias is used
/// once per example of the batch.
///
/// The bias does not change any of the three, so it is not an argument. Any of `N`,
/// `D_in`, `D_out` may be 0 (an empty batch has zero gradients).
///
/// Worked examples:
///
/// - `x = array![[1.0, 2.0]]`, `w = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]`,
///   `grad = array![[1.0, 2.0, 3.0]]`: `dL/dx = array![[4.0, 5.0]]`,
///   `dL/dw = array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]`, `dL/db = array![1.0, 2.0, 3.0]`.
/// - `x = array![[1.0, 2.0], [3.0, 4.0]]`, `w = array![[1.0, -1.0]]`,
///   `grad = array![[1.0], [2.0]]`: `dL/dx = array![[1.0, -1.0], [2.0, -2.0]]`,
///   `dL/dw = array![[7.0, 10.0]]` and `dL/db = array![3.0]`: two examples, so the
///   parameters' gradients have a contribution from each.
///
/// The checker compares each of the three exactly when every value is a small integer,
/// and within about `1e-4` for random floats.
pub fn linear_backward(
    x: &Array2<f32>,
    w: &Array2<f32>,
    grad: &Array2<f32>,
) -> (Array2<f32>, Array2<f32>, Array1<f32>) {
    todo!("Exercise 8.3: (dL/dx, dL/dw, dL/db) of y = x w^T + b")
}

/// Exercise 8.4: the gradient of a convolution filter.
///
/// One channel, one filter, stride 1, no padding: the input `x` is `H x W`, the filter
/// `field x field`, and output `(i, j)` is `y[i][j] = sum over u, v < field of
/// x[i + u][j + v] * kernel[u][v]`, for `H - field + 1` rows and `W - field + 1` columns.
/// Given `grad = dL/dy` of that shape, return `dL/dkernel` (`field x field`). Chapter 8
/// derives it (section *Convolutional networks*, with a worked example): mind that each
/// weight is shared by every output position. The checker passes
/// `1 <= field <= min(H, W)` and a `grad` of the right shape.
///
/// Worked example (the course's question: a `4 x 4` input and a `3 x 3` field give a
/// `2 x 2` output, so each of the 9 weights touches 4 inputs): with
/// `x[r][c] = 4r + c`, `Array2::from_shape_fn((4, 4), |(r, c)| (4 * r + c) as f32)`, and
///
/// - `grad = Array2::ones((2, 2))`, `conv_weight_gradient(&x, &grad, 3)` is
///   `array![[10.0, 14.0, 18.0], [26.0, 30.0, 34.0], [42.0, 46.0, 50.0]]`;
/// - `grad = array![[1.0, 2.0], [3.0, 4.0]]` gives
///   `array![[34.0, 44.0, 54.0], [74.0, 84.0, 94.0], [114.0, 124.0, 134.0]]`, the nine
///   numbers of the chapter's worked example.
///
/// The checker compares exactly when every value is a small integer, and within about
/// `1e-4` for random floats.
pub fn conv_weight_gradient(x: &Array2<f32>, grad: &Array2<f32>, field: usize) -> Array2<f32> {
    todo!("Exercise 8.4: the (field x field) gradient of the filter")
}
