use ndarray::{Array2, Axis, Ix1, Ix2};
use rand::Rng;

use super::view2;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::layer::{expect_rank, no_forward, Layer, Mode, Param, Tensor};

// ANCHOR: linear
/// A fully connected layer `y = x W^T + b`.
///
/// - input `(N, D_in)`, output `(N, D_out)`
/// - weight `(D_out, D_in)`, bias `(D_out,)`
#[derive(Debug, Clone)]
pub struct Linear {
    pub weight: Param,
    pub bias: Param,
    input: Option<Array2<f32>>,
}

impl Linear {
    /// A layer from `inputs` to `outputs` units, weights drawn with `init`, biases zero.
    pub fn new(inputs: usize, outputs: usize, init: Init, rng: &mut impl Rng) -> Self {
        let weight = init.sample(&[outputs, inputs], inputs, outputs, rng);
        Linear {
            weight: Param::new("weight", weight),
            bias: Param::new("bias", Tensor::zeros(vec![outputs])),
            input: None,
        }
    }

    fn w(&self) -> ndarray::ArrayView2<'_, f32> {
        self.weight
            .value
            .view()
            .into_dimensionality::<Ix2>()
            .expect("weight is 2D")
    }
}

impl Layer for Linear {
    fn name(&self) -> String {
        let s = self.weight.value.shape();
        format!("Linear({} -> {})", s[1], s[0])
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        self.input = None;
        let x = view2("Linear", input)?;
        let d_in = self.weight.value.shape()[1];
        if x.ncols() != d_in {
            return Err(Error::Shape(format!(
                "{} expects {d_in} inputs per example, got shape {:?}",
                self.name(),
                x.shape()
            )));
        }
        let b = self
            .bias
            .value
            .view()
            .into_dimensionality::<Ix1>()
            .expect("bias is 1D");
        let y = x.dot(&self.w().t()) + b;
        // Kept in both modes: saliency maps need input gradients of a network in Eval.
        self.input = Some(x.to_owned());
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let x = self.input.as_ref().ok_or_else(|| no_forward("Linear"))?;
        let dy = view2("Linear backward", grad_output)?;
        if dy.dim() != (x.nrows(), self.weight.value.shape()[0]) {
            return Err(Error::Shape(format!(
                "{} backward: gradient of shape {:?} for an output of shape {:?}",
                self.name(),
                dy.shape(),
                [x.nrows(), self.weight.value.shape()[0]]
            )));
        }
        // dL/dW = dY^T X, dL/db = column sums of dY, dL/dX = dY W.
        let dw = dy.t().dot(x);
        self.weight.grad += &dw.into_dyn();
        self.bias.grad += &dy.sum_axis(Axis(0)).into_dyn();
        Ok(dy.dot(&self.w()).into_dyn())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_rank(&self.name(), input, 2, "vectors (N, D)")?;
        let d_in = self.weight.value.shape()[1];
        if input[1] != d_in {
            return Err(Error::Shape(format!(
                "{} expects {d_in} inputs per example, got shape {input:?}",
                self.name()
            )));
        }
        Ok(vec![input[0], self.weight.value.shape()[0]])
    }

    fn multiply_adds(&self, input: &[usize]) -> Result<u64> {
        let out = self.output_shape(input)?;
        Ok((out[0] * out[1]) as u64 * self.weight.value.shape()[1] as u64)
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.weight, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight, &mut self.bias]
    }
}
// ANCHOR_END: linear
