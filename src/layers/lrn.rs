use ndarray::Array4;

use super::view4;
use crate::error::Result;
use crate::fast;
use crate::layer::{
    check_grad_shape, expect_rank, no_forward, Implementation, Layer, Mode, Tensor,
};
use crate::lrn::{lrn_backward, lrn_forward, LrnConfig};

// ANCHOR: lrn_layer
/// Local response normalization across channels, as a layer (AlexNet's, after the ReLU of
/// its first two convolutional layers). No parameters; it keeps its input and the
/// denominators' bases for the backward pass.
#[derive(Debug, Clone)]
pub struct LocalResponseNorm {
    pub config: LrnConfig,
    pub implementation: Implementation,
    cache: Option<(Array4<f32>, Array4<f32>)>,
}

impl LocalResponseNorm {
    /// With the hyperparameters of `config` ([`LrnConfig::ALEXNET`] for AlexNet's).
    pub fn new(config: LrnConfig) -> Self {
        LocalResponseNorm {
            config,
            implementation: Implementation::default(),
            cache: None,
        }
    }
}

impl Layer for LocalResponseNorm {
    fn name(&self) -> String {
        let c = self.config;
        format!(
            "LocalResponseNorm(n = {}, k = {}, alpha = {:e}, beta = {})",
            c.size, c.k, c.alpha, c.beta
        )
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        self.cache = None;
        let x = view4(&self.name(), input)?;
        let (y, scale) = match self.implementation {
            Implementation::Reference => lrn_forward(x, self.config)?,
            Implementation::Fast => fast::lrn::lrn_forward(x, self.config)?,
        };
        self.cache = Some((x.to_owned(), scale));
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let (x, scale) = self
            .cache
            .as_ref()
            .ok_or_else(|| no_forward("LocalResponseNorm"))?;
        check_grad_shape("LocalResponseNorm", x.shape(), grad_output)?;
        let dy = view4("LocalResponseNorm backward", grad_output)?;
        let (x, scale) = (x.view(), scale.view());
        Ok(match self.implementation {
            Implementation::Reference => lrn_backward(x, scale, dy, self.config)?,
            Implementation::Fast => fast::lrn::lrn_backward(x, scale, dy, self.config)?,
        }
        .into_dyn())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_rank(&self.name(), input, 4, "images (N, C, H, W)")?;
        Ok(input.to_vec())
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.implementation = implementation;
    }
}
// ANCHOR_END: lrn_layer
