//! Activation maximization (Erhan et al., 2009) and class model visualization (Simonyan,
//! Vedaldi and Zisserman, 2014): gradient ascent on the input image itself, the network's
//! weights fixed, towards the image a unit (or a class score) likes best.
//!
//! Maximizing a unit's value `a(I)` alone has no answer: scaling the image up scales most
//! units up. An L2 penalty keeps the image bounded, so the objective is
//!
//! ```text
//! J(I) = a(I) - lambda ||I||^2        I <- I + rate (da/dI - 2 lambda I)
//! ```
//!
//! For a class the unit is the class score `S_c`, taken before the softmax: the softmax
//! probability can also be raised by lowering the other classes' scores, which says more
//! about them than about class `c`.

use ndarray::{Array3, Ix4};

use super::{backward_from, batch, forward_to, Unit};
use crate::error::{Error, Result};
use crate::layers::Sequential;

/// How the ascent moves: `steps` steps of size `rate` on `J(I) = a(I) - l2 ||I||^2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ascent {
    pub steps: usize,
    pub rate: f32,
    /// The weight `lambda` of the L2 penalty.
    pub l2: f32,
}

impl Ascent {
    fn check(&self) -> Result<()> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(Error::Invalid(format!(
                "gradient ascent needs a positive, finite rate, got {}",
                self.rate
            )));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::Invalid(format!(
                "the L2 weight must be zero or positive and finite, got {}",
                self.l2
            )));
        }
        Ok(())
    }
}

/// The image an ascent ended with, and how the unit and the objective rose on the way.
#[derive(Debug, Clone)]
pub struct Maximized {
    pub image: Array3<f32>,
    /// The unit's value `a(I)` before each step and after the last (`steps + 1` values).
    pub activations: Vec<f32>,
    /// The objective `J(I) = a(I) - lambda ||I||^2` at the same images.
    pub objectives: Vec<f32>,
}

// ANCHOR: maximize
/// Gradient ascent on the input from `start` `(C, H, W)` to maximize `unit` of `model`
/// with an L2 penalty, in evaluation mode.
pub fn maximize(
    model: &mut Sequential,
    unit: &Unit,
    start: &Array3<f32>,
    ascent: Ascent,
) -> Result<Maximized> {
    ascent.check()?;
    let mut image = start.clone();
    let (mut activations, mut objectives) = (Vec::new(), Vec::new());
    for step in 0..=ascent.steps {
        let outputs = forward_to(model, &batch(&image), unit.layer)?;
        let output = outputs.last().expect("at least one layer");
        let a = unit.value(output, 0)?;
        let norm2: f32 = image.iter().map(|v| v * v).sum();
        activations.push(a);
        objectives.push(a - ascent.l2 * norm2);
        if step == ascent.steps {
            break;
        }
        // da/dI by backpropagation from a gradient that is 1 at the unit, 0 elsewhere.
        let grad = backward_from(model, unit.layer, &unit.seed(output, 0, 1.0)?)?;
        let grad = grad.into_dimensionality::<Ix4>().expect("images are 4D");
        let grad = grad.index_axis(ndarray::Axis(0), 0);
        // I <- I + rate (da/dI - 2 lambda I)
        ndarray::Zip::from(&mut image)
            .and(&grad)
            .for_each(|i, &g| *i += ascent.rate * (g - 2.0 * ascent.l2 * *i));
        if image.iter().any(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "the ascent diverged at step {step} (rate {} too large?)",
                ascent.rate
            )));
        }
    }
    Ok(Maximized {
        image,
        activations,
        objectives,
    })
}
// ANCHOR_END: maximize

// ANCHOR: class_model
/// Simonyan et al.'s class model: starting from `start` `(C, H, W)`, the image that
/// maximizes the score of `class` (the output of the network's last layer, before any
/// softmax) with an L2 penalty. Simonyan et al. start from the zero image of
/// mean-subtracted inputs, which is the data set's mean image.
pub fn class_model(
    model: &mut Sequential,
    class: usize,
    start: &Array3<f32>,
    ascent: Ascent,
) -> Result<Maximized> {
    let last = model
        .len()
        .checked_sub(1)
        .ok_or_else(|| Error::Invalid("the network has no layers".into()))?;
    maximize(model, &Unit::output(last, class), start, ascent)
}
// ANCHOR_END: class_model
