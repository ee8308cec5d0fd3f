use ndarray::Ix2;

use crate::error::{Error, Result};
use crate::layer::{check_grad_shape, no_forward, Layer, Mode, Param, Tensor};
use crate::norm::{layer_norm_backward, layer_norm_forward};

/// What the backward pass needs: the normalised input, one `1/sigma` per example.
#[derive(Debug, Clone)]
struct Cache {
    x_hat: ndarray::Array2<f32>,
    inv_std: Vec<f32>,
    shape: Vec<usize>,
}

// ANCHOR: layernorm
/// Layer normalization (Ba, Kiros & Hinton, 2016): each example normalised over its own
/// units (all axes but the batch), then a gain and a bias per unit. Unlike batch
/// normalization it needs no batch statistics, so training and evaluation compute the
/// same thing, and it works on a batch of one.
///
/// - input `(N, ...)` with the unit shape given at construction, output the same
/// - parameters `weight` (gain, 1 at start) and `bias` (0), of the unit shape
#[derive(Debug, Clone)]
pub struct LayerNorm {
    pub gain: Param,
    pub bias: Param,
    pub eps: f32,
    cache: Option<Cache>,
}

impl LayerNorm {
    /// Normalises over units of shape `units` (`&[D]` for vectors, `&[C, H, W]` for images).
    pub fn new(units: &[usize]) -> Self {
        LayerNorm {
            gain: Param::new("weight", Tensor::ones(units)),
            bias: Param::new("bias", Tensor::zeros(units)),
            eps: 1e-5,
            cache: None,
        }
    }
}

impl Layer for LayerNorm {
    fn name(&self) -> String {
        format!("LayerNorm({:?})", self.gain.value.shape())
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        self.cache = None;
        let shape = self.output_shape(input.shape())?;
        // Each example's units as one row.
        let d = self.gain.value.len();
        let x = input.to_shape((shape[0], d)).expect("checked").into_owned();
        let gain = self.gain.value.as_standard_layout();
        let bias = self.bias.value.as_standard_layout();
        let units = (
            gain.as_slice().expect("standard"),
            bias.as_slice().expect("standard"),
        );
        let (y, x_hat, inv_std) = layer_norm_forward(x.view(), units, self.eps);
        self.cache = Some(Cache {
            x_hat,
            inv_std,
            shape: shape.clone(),
        });
        Ok(y.into_shape_with_order(shape).expect("same size"))
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let cache = self.cache.as_ref().ok_or_else(|| no_forward("LayerNorm"))?;
        check_grad_shape("LayerNorm", &cache.shape, grad_output)?;
        let dy = grad_output
            .to_shape(cache.x_hat.raw_dim())
            .expect("checked")
            .into_dimensionality::<Ix2>()
            .expect("2D");
        let gain = self.gain.value.as_standard_layout();
        let gain = gain.as_slice().expect("standard");
        let (dx, dgain, dbias) =
            layer_norm_backward(dy.view(), cache.x_hat.view(), &cache.inv_std, gain);
        for (g, d) in self.gain.grad.iter_mut().zip(dgain) {
            *g += d;
        }
        for (g, d) in self.bias.grad.iter_mut().zip(dbias) {
            *g += d;
        }
        Ok(dx
            .into_shape_with_order(cache.shape.clone())
            .expect("same size"))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input.len() < 2 || &input[1..] != self.gain.value.shape() {
            return Err(Error::Shape(format!(
                "{} expects inputs (N, {:?}), got shape {input:?}",
                self.name(),
                self.gain.value.shape()
            )));
        }
        Ok(input.to_vec())
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.gain, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.gain, &mut self.bias]
    }
}
// ANCHOR_END: layernorm
