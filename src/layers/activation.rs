use rayon::prelude::*;

use crate::error::ShapeError;
use crate::layer::{no_forward, Layer, Mode, Tensor};

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
    /// Where the last forward input was positive: all the backward pass needs (a byte per
    /// value, where a copy of the output would take four).
    positive: Option<ndarray::ArrayD<bool>>,
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

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor, ShapeError> {
        let (y, positive) = match input.as_slice() {
            // One pass over contiguous memory, split between the threads; each thread's
            // part is a loop the compiler vectorizes.
            Some(xs) => {
                let (y, positive): (Vec<f32>, Vec<bool>) =
                    xs.par_iter().map(|&v| (v.max(0.0), v > 0.0)).unzip();
                let shape = input.raw_dim();
                (
                    Tensor::from_shape_vec(shape.clone(), y).expect("same length"),
                    ndarray::ArrayD::from_shape_vec(shape, positive).expect("same length"),
                )
            }
            None => (input.mapv(|v| v.max(0.0)), input.mapv(|v| v > 0.0)),
        };
        self.positive = Some(positive);
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let positive = self.positive.as_ref().ok_or_else(|| no_forward("ReLU"))?;
        if positive.shape() != grad_output.shape() {
            return Err(ShapeError::Mismatch(format!(
                "ReLU backward: gradient of shape {:?} for an output of shape {:?}",
                grad_output.shape(),
                positive.shape()
            )));
        }
        let rule = self.rule;
        let pass = move |g: f32, p: bool| {
            let keep = match rule {
                ReluRule::Backprop => p,
                ReluRule::Deconvnet => g > 0.0,
                ReluRule::Guided => p && g > 0.0,
            };
            if keep {
                g
            } else {
                0.0
            }
        };
        if let (Some(gs), Some(ps)) = (grad_output.as_slice(), positive.as_slice()) {
            // One loop per rule, each a branch-free pass the compiler vectorizes.
            let pairs = gs.par_iter().zip(ps);
            let dx: Vec<f32> = match rule {
                ReluRule::Backprop => pairs.map(|(&g, &p)| if p { g } else { 0.0 }).collect(),
                ReluRule::Deconvnet => pairs.map(|(&g, _)| g.max(0.0)).collect(),
                ReluRule::Guided => pairs
                    .map(|(&g, &p)| if p { g.max(0.0) } else { 0.0 })
                    .collect(),
            };
            return Ok(Tensor::from_shape_vec(grad_output.raw_dim(), dx).expect("same length"));
        }
        Ok(ndarray::Zip::from(grad_output)
            .and(positive)
            .map_collect(|&g, &p| pass(g, p)))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }
}
// ANCHOR_END: relu

pub(crate) fn check_same(name: &str, cached: &Tensor, grad: &Tensor) -> Result<(), ShapeError> {
    if cached.shape() != grad.shape() {
        return Err(ShapeError::Mismatch(format!(
            "{name} backward: gradient of shape {:?} for an output of shape {:?}",
            grad.shape(),
            cached.shape()
        )));
    }
    Ok(())
}

// ANCHOR: sigmoid_tanh
/// The logistic function `1 / (1 + e^-x)`; its derivative is `y (1 - y)`.
#[derive(Debug, Clone, Default)]
pub struct Sigmoid {
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

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor, ShapeError> {
        let y = input.mapv(|v| 1.0 / (1.0 + (-v).exp()));
        self.output = Some(y.clone());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let y = self.output.as_ref().ok_or_else(|| no_forward("Sigmoid"))?;
        check_same("Sigmoid", y, grad_output)?;
        Ok(grad_output * &y.mapv(|s| s * (1.0 - s)))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }
}

/// The hyperbolic tangent; its derivative is `1 - y^2`.
#[derive(Debug, Clone, Default)]
pub struct Tanh {
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

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor, ShapeError> {
        let y = input.mapv(f32::tanh);
        self.output = Some(y.clone());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let y = self.output.as_ref().ok_or_else(|| no_forward("Tanh"))?;
        check_same("Tanh", y, grad_output)?;
        Ok(grad_output * &y.mapv(|t| 1.0 - t * t))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }
}
// ANCHOR_END: sigmoid_tanh
