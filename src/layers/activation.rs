use ndarray::{ArrayD, Zip};

use crate::error::Result;
use crate::fast::elementwise::{map_par, mask, relu, tanh, zip_map_par};
use crate::layer::{check_grad_shape, no_forward, Implementation, Layer, Mode, Tensor};

/// How a ReLU sends gradients back: the rule differs between plain backpropagation and the
/// visualisation methods of chapter 14.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReluRule {
    /// Pass the gradient where the forward input was positive (the true derivative).
    #[default]
    Backprop,
    /// Pass the gradient where the gradient itself is positive (Zeiler & Fergus' DeconvNet).
    Deconvnet,
    /// Both conditions at once (Springenberg et al.'s guided backpropagation).
    Guided,
}

// ANCHOR: relu
/// `max(0, x)`, element-wise.
#[derive(Debug, Clone, Default)]
pub struct Relu {
    pub rule: ReluRule,
    pub implementation: Implementation,
    /// Where the last forward input was positive: all the backward pass needs (a byte per
    /// value, where a copy of the output would take four).
    positive: Option<ArrayD<bool>>,
}

impl Relu {
    pub fn new() -> Self {
        Relu::default()
    }
}

impl Layer for Relu {
    fn name(&self) -> String {
        "ReLU".into()
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        let (y, positive) = match self.implementation {
            Implementation::Reference => (input.mapv(|v| v.max(0.0)), input.mapv(|v| v > 0.0)),
            Implementation::Fast => relu(input),
        };
        self.positive = Some(positive);
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let positive = self.positive.as_ref().ok_or_else(|| no_forward("ReLU"))?;
        check_grad_shape("ReLU", positive.shape(), grad_output)?;
        let backprop = |g: f32, p: bool| if p { g } else { 0.0 };
        let deconvnet = |g: f32, _: bool| if g > 0.0 { g } else { 0.0 };
        let guided = |g: f32, p: bool| if p && g > 0.0 { g } else { 0.0 };
        Ok(match (self.implementation, self.rule) {
            (Implementation::Reference, rule) => {
                let pass = match rule {
                    ReluRule::Backprop => backprop as fn(f32, bool) -> f32,
                    ReluRule::Deconvnet => deconvnet,
                    ReluRule::Guided => guided,
                };
                Zip::from(grad_output)
                    .and(positive)
                    .map_collect(|&g, &p| pass(g, p))
            }
            // One loop per rule, each a branch-free pass the compiler vectorizes.
            (Implementation::Fast, ReluRule::Backprop) => mask(grad_output, positive, backprop),
            (Implementation::Fast, ReluRule::Deconvnet) => mask(grad_output, positive, deconvnet),
            (Implementation::Fast, ReluRule::Guided) => mask(grad_output, positive, guided),
        })
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.implementation = implementation;
    }
}
// ANCHOR_END: relu

// ANCHOR: sigmoid_tanh
/// The logistic function `1 / (1 + e^-x)`; its derivative is `y (1 - y)`.
#[derive(Debug, Clone, Default)]
pub struct Sigmoid {
    pub implementation: Implementation,
    output: Option<Tensor>,
}

impl Sigmoid {
    pub fn new() -> Self {
        Sigmoid::default()
    }
}

impl Layer for Sigmoid {
    fn name(&self) -> String {
        "Sigmoid".into()
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
        let y = match self.implementation {
            Implementation::Reference => input.mapv(sigmoid),
            Implementation::Fast => map_par(input, sigmoid),
        };
        self.output = Some(y.clone());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let y = self.output.as_ref().ok_or_else(|| no_forward("Sigmoid"))?;
        check_grad_shape("Sigmoid", y.shape(), grad_output)?;
        let slope = |g: f32, s: f32| g * s * (1.0 - s);
        Ok(match self.implementation {
            Implementation::Reference => Zip::from(grad_output)
                .and(y)
                .map_collect(|&g, &s| slope(g, s)),
            Implementation::Fast => zip_map_par(grad_output, y, slope),
        })
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.implementation = implementation;
    }
}

/// The hyperbolic tangent; its derivative is `1 - y^2`. The fast implementation computes
/// it by a rational function that vectorizes ([`crate::fast::elementwise::tanh`]).
#[derive(Debug, Clone, Default)]
pub struct Tanh {
    pub implementation: Implementation,
    output: Option<Tensor>,
}

impl Tanh {
    pub fn new() -> Self {
        Tanh::default()
    }
}

impl Layer for Tanh {
    fn name(&self) -> String {
        "Tanh".into()
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        let y = match self.implementation {
            Implementation::Reference => input.mapv(f32::tanh),
            Implementation::Fast => map_par(input, tanh),
        };
        self.output = Some(y.clone());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let y = self.output.as_ref().ok_or_else(|| no_forward("Tanh"))?;
        check_grad_shape("Tanh", y.shape(), grad_output)?;
        let slope = |g: f32, t: f32| g * (1.0 - t * t);
        Ok(match self.implementation {
            Implementation::Reference => Zip::from(grad_output)
                .and(y)
                .map_collect(|&g, &t| slope(g, t)),
            Implementation::Fast => zip_map_par(grad_output, y, slope),
        })
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.implementation = implementation;
    }
}
// ANCHOR_END: sigmoid_tanh

// ANCHOR: selu_layer
/// The scaled exponential linear unit of self-normalizing networks, with the constants
/// derived in [`crate::selu::derive_constants`]; its slope comes from its output.
#[derive(Debug, Clone, Default)]
pub struct Selu {
    output: Option<Tensor>,
}

impl Selu {
    pub fn new() -> Self {
        Selu::default()
    }
}

impl Layer for Selu {
    fn name(&self) -> String {
        "SELU".into()
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        let constants = crate::selu::constants();
        let y = map_par(input, |x| crate::selu::selu(x, constants));
        self.output = Some(y.clone());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let y = self.output.as_ref().ok_or_else(|| no_forward("SELU"))?;
        check_grad_shape("SELU", y.shape(), grad_output)?;
        let constants = crate::selu::constants();
        Ok(zip_map_par(grad_output, y, |g, y| {
            g * crate::selu::selu_slope(y, constants)
        }))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
// ANCHOR_END: selu_layer
