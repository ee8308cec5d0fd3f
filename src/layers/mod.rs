//! The layers of chapters 7 to 9, each a forward/backward pair behind the [`Layer`] trait,
//! and the [`Sequential`] container.
//!
//! [`Layer`]: crate::layer::Layer

mod activation;
mod batchnorm;
mod conv2d;
mod dropout;
mod flatten;
mod linear;
mod pooling;
mod residual;
mod sequential;

pub use activation::{tanh, Relu, ReluRule, Sigmoid, Tanh};
pub use batchnorm::BatchNorm2d;
pub use conv2d::{Conv2d, ConvAlgorithm};
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use linear::Linear;
pub use pooling::{AvgPool2d, GlobalAvgPool, MaxPool2d};
pub use residual::Residual;
pub use sequential::Sequential;

use crate::error::ShapeError;
use crate::layer::Tensor;
use ndarray::{Array2, Array4, ArrayView4, Ix2, Ix4};

/// Views a tensor as `(N, C, H, W)`, naming the layer and the shape if it is not 4D.
pub(crate) fn as4(name: &str, t: &Tensor) -> Result<Array4<f32>, ShapeError> {
    t.clone().into_dimensionality::<Ix4>().map_err(|_| {
        ShapeError::Mismatch(format!(
            "{name} expects images (N, C, H, W), got shape {:?}",
            t.shape()
        ))
    })
}

/// Borrows a tensor as `(N, C, H, W)` without copying it.
pub(crate) fn view4<'a>(name: &str, t: &'a Tensor) -> Result<ArrayView4<'a, f32>, ShapeError> {
    t.view().into_dimensionality::<Ix4>().map_err(|_| {
        ShapeError::Mismatch(format!(
            "{name} expects images (N, C, H, W), got shape {:?}",
            t.shape()
        ))
    })
}

/// Views a tensor as `(N, D)`, naming the layer and the shape if it is not 2D.
pub(crate) fn as2(name: &str, t: &Tensor) -> Result<Array2<f32>, ShapeError> {
    t.clone().into_dimensionality::<Ix2>().map_err(|_| {
        ShapeError::Mismatch(format!(
            "{name} expects vectors (N, D), got shape {:?}",
            t.shape()
        ))
    })
}
