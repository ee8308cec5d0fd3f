//! Exercises for chapter 12, *Residual networks*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch12_resnet
//! ```

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

/// Exercise 12.1: how much gradient reaches the input of a deep chain.
///
/// A chain of scalar layers starts from `y0 = x`. Layer `l` (counting from 1) has one
/// weight `w = weights[l - 1]` and computes
///
/// ```text
/// plain:     y_l = w * y_(l-1)
/// residual:  y_l = y_(l-1) + w * y_(l-1)     (the body w * y plus the shortcut)
/// ```
///
/// Return the derivative of the last output `y_L` with respect to the input `x` (1 for
/// an empty chain).
///
/// Worked example: `weights = [0.5, 0.5]`. Plain: `y2 = 0.25 x`, the derivative is `0.25`.
/// Residual: `y1 = 1.5 x`, `y2 = 2.25 x`, the derivative is `2.25`. With twenty weights of
/// `0.1`, the plain chain passes about `1e-20` of the gradient, the residual one about
/// `6.73`.
///
/// The checker allows for rounding: answers within about `1e-5` of the expected ones,
/// relative to their size, are right.
pub fn input_gradient(weights: &[f32], residual: bool) -> f32 {
    todo!("Exercise 12.1: dy_L/dx by the chain rule")
}

/// Exercise 12.2: the parameters of a basic block.
///
/// The block of ResNet-18 and -34 (`cnn_book::resnet::basic_block`): a 3 x 3 convolution
/// from `c_in` to `c_out` channels with stride `stride`, batch normalization, ReLU, a 3 x 3
/// convolution from `c_out` to `c_out`, batch normalization. The convolutions have no
/// bias (batch normalization's `beta` does its job); each batch normalization has a `gamma`
/// and a `beta` per channel (its running statistics are buffers, not parameters). Where
/// the shape changes (`stride != 1` or `c_in != c_out`) the shortcut is a projection: a
/// 1 x 1 convolution without bias from `c_in` to `c_out`, then batch normalization.
///
/// Return the number of parameters of the whole block.
///
/// Worked example: `c_in = c_out = 64`, `stride = 1`: two convolutions of
/// `64 * 64 * 9 = 36,864` weights and two batch norms of `2 * 64`, so `73,984`.
pub fn basic_block_params(c_in: usize, c_out: usize, stride: usize) -> usize {
    todo!("Exercise 12.2: count the body, then the shortcut if there is one")
}

/// Exercise 12.3: the parameters of a small ResNet.
///
/// The networks of the chapter's experiment (`cnn_book::resnet::small_image_net` with
/// `residual = true`): for 28 x 28 grey images, a 3 x 3 convolution from 1 channel to
/// `width` (no bias) and batch normalization; three stages of `n` basic blocks (exercise
/// 12.2) at `width`, `2 width` and `4 width` channels, where the first block of the second
/// and of the third stage has stride 2; global average pooling; a fully connected layer
/// from `4 width` to 10 classes, with biases.
///
/// Return the number of parameters. (You may call your `basic_block_params`.)
///
/// Worked example: `n = 1`, `width = 1`: the stem has `9 + 2 = 11`; the blocks (1 to 1, 1
/// to 2 with stride 2, 2 to 4 with stride 2) have `22`, `68` and `248`; the last layer
/// `4 * 10 + 10 = 50`: `399` in all.
pub fn small_resnet_params(n: usize, width: usize) -> usize {
    todo!("Exercise 12.3: the stem, the blocks of the three stages, and the classifier")
}
