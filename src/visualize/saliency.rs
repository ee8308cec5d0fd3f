//! Image-specific class saliency (Simonyan, Vedaldi and Zisserman, 2014): near a given
//! image `I0` the class score is roughly linear in the pixels, `S_c(I) ~ w^T I + b` with
//! `w = dS_c/dI` at `I0`, so the size of each pixel's `w` says how much that pixel can
//! move the score. One backward pass gives all of them.

use ndarray::{Array2, Array3, Axis, Ix4};

use super::{batch, input_gradient, Unit};
use crate::error::{Error, Result};
use crate::layers::{ReluRule, Sequential};

// ANCHOR: saliency
/// The saliency map of `image` `(C, H, W)` for `class`: `|dS_c/dI|` at every pixel,
/// the largest over the colour channels, `(H, W)`. `S_c` is the output of the network's
/// last layer (the class score before the softmax).
pub fn saliency(model: &mut Sequential, image: &Array3<f32>, class: usize) -> Result<Array2<f32>> {
    let grad = class_score_gradient(model, image, class)?;
    Ok(grad.map_axis(Axis(0), |g| g.iter().fold(0.0f32, |m, v| m.max(v.abs()))))
}
// ANCHOR_END: saliency

/// `dS_c/dI` itself, with its sign, `(C, H, W)`.
pub fn class_score_gradient(
    model: &mut Sequential,
    image: &Array3<f32>,
    class: usize,
) -> Result<Array3<f32>> {
    let last = model
        .len()
        .checked_sub(1)
        .ok_or_else(|| Error::Invalid("the network has no layers".into()))?;
    let grad = input_gradient(
        model,
        &batch(image),
        &Unit::output(last, class),
        ReluRule::Backprop,
    )?;
    Ok(grad
        .into_dimensionality::<Ix4>()
        .expect("images are 4D")
        .index_axis_move(Axis(0), 0))
}
