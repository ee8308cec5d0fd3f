//! Exercises of the cnn-book course, one module per chapter.
//!
//! Each exercise is a function whose body is `todo!()`: open the chapter's file in
//! `exercises/src/`, replace the `todo!()` with your code, and run the chapter's checker,
//! e.g. `cargo test -p cnn-book-exercises --test ch02_local_connectivity`. The checkers
//! (in `exercises/tests/`) compare your function with the `cnn_book` library on hundreds
//! to thousands of inputs. See `exercises/README.md`.
//!
//! With `--features solutions` the same modules come from `exercises/solutions/`, the
//! reference answers, so that CI can prove that every checker passes on a correct answer.

#[cfg_attr(feature = "solutions", path = "../solutions/ch01_fully_connected.rs")]
pub mod ch01_fully_connected;

#[cfg_attr(
    feature = "solutions",
    path = "../solutions/ch02_local_connectivity.rs"
)]
pub mod ch02_local_connectivity;

#[cfg_attr(feature = "solutions", path = "../solutions/ch03_parameter_sharing.rs")]
pub mod ch03_parameter_sharing;

#[cfg_attr(feature = "solutions", path = "../solutions/ch04_convolution.rs")]
pub mod ch04_convolution;

#[cfg_attr(feature = "solutions", path = "../solutions/ch05_conv_layer.rs")]
pub mod ch05_conv_layer;

#[cfg_attr(feature = "solutions", path = "../solutions/ch06_conv_as_matrix.rs")]
pub mod ch06_conv_as_matrix;

#[cfg_attr(feature = "solutions", path = "../solutions/ch07_pooling.rs")]
pub mod ch07_pooling;

#[cfg_attr(feature = "solutions", path = "../solutions/ch08_backprop.rs")]
pub mod ch08_backprop;

#[cfg_attr(feature = "solutions", path = "../solutions/ch09_lenet.rs")]
pub mod ch09_lenet;

#[cfg_attr(feature = "solutions", path = "../solutions/ch10_normalization.rs")]
pub mod ch10_normalization;

#[cfg_attr(feature = "solutions", path = "../solutions/ch11_architectures.rs")]
pub mod ch11_architectures;

#[cfg_attr(feature = "solutions", path = "../solutions/ch12_resnet.rs")]
pub mod ch12_resnet;

#[cfg_attr(feature = "solutions", path = "../solutions/ch13_augmentation.rs")]
pub mod ch13_augmentation;

#[cfg_attr(feature = "solutions", path = "../solutions/ch14_visualization.rs")]
pub mod ch14_visualization;

#[cfg_attr(
    feature = "solutions",
    path = "../solutions/ch15_local_response_norm.rs"
)]
pub mod ch15_local_response_norm;

#[cfg_attr(feature = "solutions", path = "../solutions/ch16_fast_convolution.rs")]
pub mod ch16_fast_convolution;
