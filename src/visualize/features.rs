//! The first and simplest look inside: the first layer's filters, which act on pixels and
//! can be drawn as images, and the feature maps each layer computes for one input.

use ndarray::{s, Array2, Array3, Ix4};

use super::{batch, check_layer, forward_to};
use crate::error::{Error, Result};
use crate::layers::{Conv2d, Sequential};

// ANCHOR: filters
/// The filters of `conv` as images, one per (filter, input channel): entry `[k][c]` is
/// filter `k`'s weights on input channel `c`, `F x F`.
pub fn filters(conv: &Conv2d) -> Vec<Vec<Array2<f32>>> {
    let w = &conv.weight.value; // (K, C, F, F)
    (0..w.shape()[0])
        .map(|k| {
            (0..w.shape()[1])
                .map(|c| w.slice(s![k, c, .., ..]).to_owned())
                .collect()
        })
        .collect()
}
// ANCHOR_END: filters

/// The convolution at top-level layer `layer` of `model`, or an error naming what is
/// there instead.
pub fn conv_at(model: &Sequential, layer: usize) -> Result<&Conv2d> {
    check_layer(model, layer)?;
    let l = model.layer(layer).expect("checked");
    l.downcast_ref::<Conv2d>()
        .ok_or_else(|| Error::Invalid(format!("layer {layer} is {}, not a convolution", l.name())))
}

/// The feature maps of one layer for one image.
#[derive(Debug, Clone)]
pub struct FeatureMaps {
    /// The top-level layer's index and description.
    pub layer: usize,
    pub name: String,
    /// `(C, H, W)`.
    pub maps: Array3<f32>,
}

// ANCHOR: feature_maps
/// The output of every top-level layer of `model` that gives feature maps `(C, H, W)` for
/// `image` `(C, H, W)`, in evaluation mode.
pub fn feature_maps(model: &mut Sequential, image: &Array3<f32>) -> Result<Vec<FeatureMaps>> {
    let last = model
        .len()
        .checked_sub(1)
        .ok_or_else(|| Error::Invalid("the network has no layers".into()))?;
    let outputs = forward_to(model, &batch(image), last)?;
    Ok(outputs
        .into_iter()
        .enumerate()
        .filter_map(|(i, y)| {
            let y = y.into_dimensionality::<Ix4>().ok()?; // vectors are not maps
            Some(FeatureMaps {
                layer: i,
                name: model.layer(i).expect("a layer").name(),
                maps: y.index_axis_move(ndarray::Axis(0), 0),
            })
        })
        .collect())
}
// ANCHOR_END: feature_maps
