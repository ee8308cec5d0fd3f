//! Optimizers: stochastic gradient descent with momentum and weight decay, Adam, and a step
//! schedule for the learning rate (chapter `09-lenet`).
//!
//! An optimizer updates every parameter of a model from the gradient the last backward
//! pass left in it. It keeps its own state per parameter (a velocity, moment estimates)
//! under the parameter's full name, so that the same optimizer can only be used with the
//! same model.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::layer::{Layer, Param, Tensor};
use crate::model::visit_params_mut;

/// Anything that updates a model's parameters from their gradients.
pub trait Optimizer {
    /// One update of every parameter of `model` from its `grad`.
    fn step(&mut self, model: &mut dyn Layer) -> Result<()>;

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Changes the learning rate (a schedule's job).
    fn set_learning_rate(&mut self, learning_rate: f32);
}

/// Checks a hyperparameter, naming it and its range otherwise.
fn check(name: &'static str, value: f32, ok: bool, expected: &'static str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::BadHyperparameter {
            name,
            value: value as f64,
            expected,
        })
    }
}

/// Checks a learning rate (positive, finite) and a weight decay (at least 0, finite).
fn check_rates(learning_rate: f32, weight_decay: f32) -> Result<()> {
    check(
        "learning rate",
        learning_rate,
        learning_rate > 0.0 && learning_rate.is_finite(),
        "a positive number",
    )?;
    check(
        "weight decay",
        weight_decay,
        weight_decay >= 0.0 && weight_decay.is_finite(),
        "weight decay >= 0",
    )
}

/// The state tensor kept for parameter `name` (zeros the first time), checked against the
/// parameter's shape.
fn state_for<'a>(
    state: &'a mut HashMap<String, Tensor>,
    name: &str,
    p: &Param,
) -> Result<&'a mut Tensor> {
    let t = state
        .entry(name.to_string())
        .or_insert_with(|| Tensor::zeros(p.value.raw_dim()));
    if t.shape() != p.value.shape() {
        return Err(Error::Shape(format!(
            "parameter '{name}' changed shape from {:?} to {:?}: an optimizer serves one model",
            t.shape(),
            p.value.shape()
        )));
    }
    Ok(t)
}

/// Runs `update` on every parameter of `model`, stopping at the first error.
fn each_param(
    model: &mut dyn Layer,
    mut update: impl FnMut(&str, &mut Param) -> Result<()>,
) -> Result<()> {
    let mut failed = None;
    visit_params_mut(model, &mut |name, p| {
        if failed.is_none() {
            failed = update(name, p).err();
        }
    });
    failed.map_or(Ok(()), Err)
}

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
    /// The velocity `v` of every parameter, by name.
    velocity: HashMap<String, Tensor>,
}

impl Optimizer for Sgd {
    fn step(&mut self, model: &mut dyn Layer) -> Result<()> {
        let (lr, mu, lambda) = (self.learning_rate, self.momentum, self.weight_decay);
        each_param(model, |name, p| {
            let v = state_for(&mut self.velocity, name, p)?;
            ndarray::Zip::from(&mut p.value)
                .and(v)
                .and(&p.grad)
                .for_each(|w, v, &g| {
                    *v = mu * *v + g + lambda * *w;
                    *w -= lr * *v;
                });
            Ok(())
        })
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}
// ANCHOR_END: sgd

impl Sgd {
    pub fn new(learning_rate: f32, momentum: f32, weight_decay: f32) -> Result<Self> {
        check_rates(learning_rate, weight_decay)?;
        check(
            "momentum",
            momentum,
            (0.0..1.0).contains(&momentum),
            "0 <= momentum < 1",
        )?;
        Ok(Sgd {
            learning_rate,
            momentum,
            weight_decay,
            velocity: HashMap::new(),
        })
    }
}

// ANCHOR: adam
/// Adam (Kingma & Ba, 2015): running averages of the gradient (`m`) and of its square
/// (`v`), corrected for starting at zero, give every weight a step of about `lr` in the
/// direction the gradient has kept:
///
/// ```text
/// g = dL/dw + lambda w      m = b1 m + (1 - b1) g      v = b2 v + (1 - b2) g^2
/// m_hat = m / (1 - b1^t)    v_hat = v / (1 - b2^t)    w = w - lr m_hat / (sqrt(v_hat) + eps)
/// ```
#[derive(Debug, Clone)]
pub struct Adam {
    pub learning_rate: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// Steps taken so far: `t`.
    steps: i32,
    moments: HashMap<String, (Tensor, Tensor)>,
}

impl Optimizer for Adam {
    fn step(&mut self, model: &mut dyn Layer) -> Result<()> {
        self.steps += 1;
        let (lr, b1, b2, eps, lambda) = (
            self.learning_rate,
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
        );
        let (c1, c2) = (1.0 - b1.powi(self.steps), 1.0 - b2.powi(self.steps));
        let moments = &mut self.moments;
        each_param(model, |name, p| {
            let (m, v) = moments.entry(name.to_string()).or_insert_with(|| {
                (
                    Tensor::zeros(p.value.raw_dim()),
                    Tensor::zeros(p.value.raw_dim()),
                )
            });
            if m.shape() != p.value.shape() {
                return Err(Error::Shape(format!(
                    "parameter '{name}' changed shape from {:?} to {:?}: an optimizer serves one model",
                    m.shape(),
                    p.value.shape()
                )));
            }
            ndarray::Zip::from(&mut p.value)
                .and(m)
                .and(v)
                .and(&p.grad)
                .for_each(|w, m, v, &g| {
                    let g = g + lambda * *w;
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *w -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
                });
            Ok(())
        })
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}
// ANCHOR_END: adam

impl Adam {
    /// Adam with the paper's defaults `b1 = 0.9`, `b2 = 0.999`, `eps = 1e-8`, and L2 weight
    /// decay `weight_decay` added to the gradient (as PyTorch's `Adam` does).
    pub fn new(learning_rate: f32, weight_decay: f32) -> Result<Self> {
        check_rates(learning_rate, weight_decay)?;
        Ok(Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            steps: 0,
            moments: HashMap::new(),
        })
    }
}

/// The learning rate multiplied by `gamma` every `every` epochs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
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
