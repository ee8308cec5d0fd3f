//! Stochastic gradient descent with momentum and weight decay, and a step schedule for the
//! learning rate (chapter `09-lenet`).

use crate::error::ShapeError;
use crate::layer::{Param, Tensor};

// ANCHOR: sgd
/// SGD with momentum `mu` and L2 weight decay `lambda`:
///
/// ```text
/// g = dL/dw + lambda w        v = mu v + g        w = w - lr v
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    pub learning_rate: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    velocity: Vec<Tensor>,
}

impl Sgd {
    pub fn new(learning_rate: f32, momentum: f32, weight_decay: f32) -> Result<Self, ShapeError> {
        let check = |name, value: f32, ok: bool, expected| {
            if ok {
                Ok(())
            } else {
                Err(ShapeError::BadHyperparameter {
                    name,
                    value: value as f64,
                    expected,
                })
            }
        };
        check(
            "learning rate",
            learning_rate,
            learning_rate > 0.0 && learning_rate.is_finite(),
            "a positive number",
        )?;
        check(
            "momentum",
            momentum,
            (0.0..1.0).contains(&momentum),
            "0 <= momentum < 1",
        )?;
        check(
            "weight decay",
            weight_decay,
            weight_decay >= 0.0 && weight_decay.is_finite(),
            "weight decay >= 0",
        )?;
        Ok(Sgd {
            learning_rate,
            momentum,
            weight_decay,
            velocity: Vec::new(),
        })
    }

    /// Updates `params` from their gradients. The parameters must be the same, in the same
    /// order, at every step (the velocity of each is remembered).
    pub fn step(&mut self, params: &mut [&mut Param]) -> Result<(), ShapeError> {
        if self.velocity.is_empty() {
            self.velocity = params
                .iter()
                .map(|p| Tensor::zeros(p.value.raw_dim()))
                .collect();
        }
        if self.velocity.len() != params.len() {
            return Err(ShapeError::Mismatch(format!(
                "the optimizer was set up for {} parameters, got {}",
                self.velocity.len(),
                params.len()
            )));
        }
        let (lr, mu, lambda) = (self.learning_rate, self.momentum, self.weight_decay);
        for (p, v) in params.iter_mut().zip(&mut self.velocity) {
            if v.shape() != p.value.shape() {
                return Err(ShapeError::Mismatch(format!(
                    "parameter '{}' changed shape from {:?} to {:?}",
                    p.name,
                    v.shape(),
                    p.value.shape()
                )));
            }
            ndarray::Zip::from(&mut p.value)
                .and(v)
                .and(&p.grad)
                .for_each(|w, v, &g| {
                    *v = mu * *v + g + lambda * *w;
                    *w -= lr * *v;
                });
        }
        Ok(())
    }
}
// ANCHOR_END: sgd

/// The learning rate multiplied by `gamma` every `every` epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSchedule {
    pub base: f32,
    pub gamma: f32,
    pub every: usize,
}

impl StepSchedule {
    /// The learning rate of epoch `epoch` (counting from 0).
    pub fn at(&self, epoch: usize) -> f32 {
        self.base * self.gamma.powi((epoch / self.every.max(1)) as i32)
    }
}
