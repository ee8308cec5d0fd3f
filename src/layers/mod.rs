//! The layers of the course, each a forward/backward pair behind the [`Layer`] trait, and
//! the containers that build networks from them: [`Sequential`] (one after another),
//! [`Residual`] (a shortcut around a body), [`Concat`] (parallel branches joined along
//! the channels) and [`Grouped`] (the channels split among layers, then joined).
//!
//! Each layer file is the reference a chapter explains; where chapter 16 has a faster
//! computation of the same numbers (in [`crate::fast`]), the layer's `implementation`
//! chooses, and the tests hold the two equal.
//!
//! [`Layer`]: crate::layer::Layer

mod activation;
mod batchnorm;
mod concat;
mod conv2d;
mod dropout;
mod flatten;
mod grouped;
mod layernorm;
mod linear;
mod lrn;
mod pooling;
mod residual;
mod sequential;

pub use activation::{Relu, ReluRule, Selu, Sigmoid, Tanh};
pub use batchnorm::{BatchNorm1d, BatchNorm2d};
pub use concat::Concat;
pub use conv2d::{Conv2d, ConvAlgorithm};
pub use dropout::{AlphaDropout, Dropout};
pub use flatten::Flatten;
pub use grouped::Grouped;
pub use layernorm::LayerNorm;
pub use linear::Linear;
pub use lrn::LocalResponseNorm;
pub use pooling::{AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool, MaxPool2d};
pub use residual::Residual;
pub use sequential::{IntoLayer, Sequential};

use crate::error::{Error, Result};
use crate::layer::Tensor;
use ndarray::{ArrayView2, ArrayView4, Ix2, Ix4};

/// Borrows a tensor as `(N, C, H, W)` without copying it, naming the layer and the shape
/// if it is not 4D.
pub(crate) fn view4<'a>(name: &str, t: &'a Tensor) -> Result<ArrayView4<'a, f32>> {
    t.view().into_dimensionality::<Ix4>().map_err(|_| {
        Error::Shape(format!(
            "{name} expects images (N, C, H, W), got shape {:?}",
            t.shape()
        ))
    })
}

/// Borrows a tensor as `(N, D)` without copying it, naming the layer and the shape if it
/// is not 2D.
pub(crate) fn view2<'a>(name: &str, t: &'a Tensor) -> Result<ArrayView2<'a, f32>> {
    t.view().into_dimensionality::<Ix2>().map_err(|_| {
        Error::Shape(format!(
            "{name} expects vectors (N, D), got shape {:?}",
            t.shape()
        ))
    })
}
