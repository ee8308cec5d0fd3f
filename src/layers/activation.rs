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
        check_same("ReLU", positive.shape(), grad_output)?;
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

pub(crate) fn check_same(name: &str, cached: &[usize], grad: &Tensor) -> Result<(), ShapeError> {
    if cached != grad.shape() {
        return Err(ShapeError::Mismatch(format!(
            "{name} backward: gradient of shape {:?} for an output of shape {cached:?}",
            grad.shape()
        )));
    }
    Ok(())
}

/// `f` of every entry, split between the threads when the tensor is contiguous.
fn map_par(x: &Tensor, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
    match x.as_slice() {
        Some(xs) => Tensor::from_shape_vec(x.raw_dim(), xs.par_iter().map(|&v| f(v)).collect())
            .expect("same length"),
        None => x.mapv(f),
    }
}

/// `f(a, b)` of every pair of entries (same shapes), split between the threads when both
/// tensors are contiguous.
fn zip_map_par(a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32 + Sync) -> Tensor {
    match (a.as_slice(), b.as_slice()) {
        (Some(xs), Some(ys)) => Tensor::from_shape_vec(
            a.raw_dim(),
            xs.par_iter().zip(ys).map(|(&x, &y)| f(x, y)).collect(),
        )
        .expect("same length"),
        _ => ndarray::Zip::from(a).and(b).map_collect(|&x, &y| f(x, y)),
    }
}

/// `tanh(x)` in `f32` by a rational function, as Eigen computes it
/// (`generic_fast_tanh_float` in `Eigen/src/Core/MathFunctionsImpl.h`; XLA and ONNX
/// Runtime use the same coefficients): `x p(x^2) / q(x^2)` with `p` of degree 6 and `q`
/// of degree 3, for `|x|` up to 7.905, beyond which `tanh` rounds to `+-1` in `f32`. Only
/// multiplications, additions and one division: the compiler vectorizes a loop of them,
/// where `f32::tanh` is a call into the math library for every number, many times
/// slower. The price is accuracy: within 5e-7 of the true value (a few units in the last
/// place near `+-1`), where `f32::tanh` is within one unit; the tests compare.
#[allow(clippy::excessive_precision)]
pub fn tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311_107_635_498_05;
    const P: [f32; 7] = [
        -2.760_768_477_423_55e-16,
        2.000_187_904_824_77e-13,
        -8.604_671_522_137_35e-11,
        5.122_297_090_371_14e-8,
        1.485_722_357_179_79e-5,
        6.372_619_288_754_36e-4,
        4.893_524_558_917_86e-3,
    ];
    const Q: [f32; 4] = [
        1.198_258_394_667_02e-6,
        1.185_347_056_866_54e-4,
        2.268_434_632_439_00e-3,
        4.893_525_185_543_85e-3,
    ];
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let p = P.iter().fold(0.0, |acc, &c| acc * x2 + c);
    let q = Q.iter().fold(0.0, |acc, &c| acc * x2 + c);
    x * p / q
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
        let y = map_par(input, |v| 1.0 / (1.0 + (-v).exp()));
        self.output = Some(y.clone());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let y = self.output.as_ref().ok_or_else(|| no_forward("Sigmoid"))?;
        check_same("Sigmoid", y.shape(), grad_output)?;
        Ok(zip_map_par(grad_output, y, |g, s| g * s * (1.0 - s)))
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
        let y = map_par(input, tanh);
        self.output = Some(y.clone());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let y = self.output.as_ref().ok_or_else(|| no_forward("Tanh"))?;
        check_same("Tanh", y.shape(), grad_output)?;
        Ok(zip_map_par(grad_output, y, |g, t| g * (1.0 - t * t)))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }
}
// ANCHOR_END: sigmoid_tanh
