//! Guided backpropagation (Springenberg, Dosovitskiy, Brox and Riedmiller, 2015), and the
//! two methods it sits between. All three send a signal from one unit back to the image
//! through the same layers; they differ only in what a ReLU lets through on the way back
//! ([`ReluRule`]):
//!
//! - backpropagation: where the ReLU's forward input was positive (the true derivative);
//! - DeconvNet: where the backward signal is positive, whatever the forward input was;
//! - guided backpropagation: where both are positive.
//!
//! Guided backpropagation keeps only what the image contributed to the unit *and* what
//! raises it, which gives the sharpest pictures; it is no longer the gradient of anything.

use ndarray::{Array3, Axis, Ix4};

use super::{batch, input_gradient, Unit};
use crate::error::Result;
use crate::layers::{ReluRule, Sequential};

/// The signal `unit` sends back to `image` `(C, H, W)` when every ReLU follows `rule`.
pub fn signal(
    model: &mut Sequential,
    image: &Array3<f32>,
    unit: &Unit,
    rule: ReluRule,
) -> Result<Array3<f32>> {
    let g = input_gradient(model, &batch(image), unit, rule)?;
    Ok(g.into_dimensionality::<Ix4>()
        .expect("images are 4D")
        .index_axis_move(Axis(0), 0))
}

// ANCHOR: guided
/// Guided backpropagation from `unit` to `image`.
pub fn guided_backprop(
    model: &mut Sequential,
    image: &Array3<f32>,
    unit: &Unit,
) -> Result<Array3<f32>> {
    signal(model, image, unit, ReluRule::Guided)
}
// ANCHOR_END: guided

/// The three signals side by side.
#[derive(Debug, Clone)]
pub struct ThreeRules {
    pub backprop: Array3<f32>,
    pub deconvnet: Array3<f32>,
    pub guided: Array3<f32>,
}

/// Backpropagation, DeconvNet and guided backpropagation from `unit` to `image`.
pub fn three_rules(model: &mut Sequential, image: &Array3<f32>, unit: &Unit) -> Result<ThreeRules> {
    Ok(ThreeRules {
        backprop: signal(model, image, unit, ReluRule::Backprop)?,
        deconvnet: signal(model, image, unit, ReluRule::Deconvnet)?,
        guided: signal(model, image, unit, ReluRule::Guided)?,
    })
}
