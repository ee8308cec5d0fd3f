use ndarray::{Array4, Ix1};

use super::view4;
use crate::error::{Error, Result};
use crate::fast;
use crate::layer::{
    check_grad_shape, expect_rank, no_forward, Implementation, Layer, Mode, Param, Tensor,
};
use crate::norm;

/// What the backward pass needs from the last forward pass.
#[derive(Debug, Clone)]
struct Cache {
    /// The normalised input.
    x_hat: Array4<f32>,
    /// The variance it was normalised with: the batch's in training, the running one in
    /// evaluation.
    var: Vec<f32>,
    mode: Mode,
}

// ANCHOR: batchnorm
/// Batch normalization over the channels of images (Ioffe & Szegedy, 2015).
///
/// In training, each channel is standardised with the mean and (biased) variance of the
/// batch over `(N, H, W)`, then scaled by `gamma` and shifted by `beta`; the running
/// averages used in evaluation move towards the batch statistics by `momentum`
/// (`running = (1 - momentum) running + momentum batch`, with the unbiased variance, as
/// PyTorch does). Parameters `weight` (gamma) and `bias` (beta), buffers `running_mean`
/// and `running_var`, as PyTorch names them.
#[derive(Debug, Clone)]
pub struct BatchNorm2d {
    pub gamma: Param,
    pub beta: Param,
    pub running_mean: Tensor,
    pub running_var: Tensor,
    pub momentum: f32,
    pub eps: f32,
    pub implementation: Implementation,
    cache: Option<Cache>,
}

impl BatchNorm2d {
    /// `gamma = 1`, `beta = 0`, running mean 0 and variance 1, momentum 0.1, eps 1e-5.
    pub fn new(channels: usize) -> Self {
        BatchNorm2d {
            gamma: Param::new("weight", Tensor::ones(vec![channels])),
            beta: Param::new("bias", Tensor::zeros(vec![channels])),
            running_mean: Tensor::zeros(vec![channels]),
            running_var: Tensor::ones(vec![channels]),
            momentum: 0.1,
            eps: 1e-5,
            implementation: Implementation::default(),
            cache: None,
        }
    }

    fn channels(&self) -> usize {
        self.gamma.value.len()
    }
}

/// The values of a 1D tensor.
fn values(t: &Tensor) -> Vec<f32> {
    t.view().into_dimensionality::<Ix1>().expect("1D").to_vec()
}

impl Layer for BatchNorm2d {
    fn name(&self) -> String {
        format!("BatchNorm2d({})", self.channels())
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor> {
        self.cache = None;
        let x = view4(&self.name(), input)?;
        let (n, c, h, w) = x.dim();
        if c != self.channels() {
            return Err(Error::Shape(format!(
                "{} got {c} channels (input shape {:?})",
                self.name(),
                input.shape()
            )));
        }
        if n * h * w == 0 {
            return Err(Error::Shape(format!(
                "{} got an input with no values per channel: shape {:?}",
                self.name(),
                input.shape()
            )));
        }
        let reference = self.implementation == Implementation::Reference;
        let (mean, var) = match mode {
            Mode::Train => {
                let m = n * h * w;
                if m < 2 {
                    return Err(Error::Shape(format!(
                        "{} needs at least two values per channel in training, got input {:?}",
                        self.name(),
                        input.shape()
                    )));
                }
                let (mean, var) = if reference {
                    norm::channel_statistics(x)
                } else {
                    fast::batchnorm::channel_statistics(x)
                };
                // The running averages take the unbiased variance, m / (m - 1) times.
                let mo = self.momentum;
                let unbiased = m as f32 / (m - 1) as f32;
                for k in 0..c {
                    self.running_mean[k] = (1.0 - mo) * self.running_mean[k] + mo * mean[k];
                    self.running_var[k] = (1.0 - mo) * self.running_var[k] + mo * var[k] * unbiased;
                }
                (mean, var)
            }
            Mode::Eval => (values(&self.running_mean), values(&self.running_var)),
        };
        let (gamma, beta) = (values(&self.gamma.value), values(&self.beta.value));
        let stats = (mean.as_slice(), var.as_slice());
        let (y, x_hat) = if reference {
            norm::batch_norm_forward(x, stats, (&gamma, &beta), self.eps)
        } else {
            fast::batchnorm::forward(x, stats, (&gamma, &beta), self.eps)
        };
        self.cache = Some(Cache { x_hat, var, mode });
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let cache = self
            .cache
            .as_ref()
            .ok_or_else(|| no_forward("BatchNorm2d"))?;
        check_grad_shape("BatchNorm2d", cache.x_hat.shape(), grad_output)?;
        let dy = view4("BatchNorm2d backward", grad_output)?;
        let gamma = values(&self.gamma.value);
        let batch = cache.mode == Mode::Train;
        let (dx, dgamma, dbeta) = if self.implementation == Implementation::Reference {
            norm::batch_norm_backward(dy, cache.x_hat.view(), &cache.var, &gamma, self.eps, batch)
        } else {
            fast::batchnorm::backward(dy, cache.x_hat.view(), &cache.var, &gamma, self.eps, batch)
        };
        for k in 0..self.channels() {
            self.gamma.grad[k] += dgamma[k];
            self.beta.grad[k] += dbeta[k];
        }
        Ok(dx.into_dyn())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_rank(&self.name(), input, 4, "images (N, C, H, W)")?;
        Ok(input.to_vec())
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.gamma, &self.beta]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.gamma, &mut self.beta]
    }

    fn buffers(&self) -> Vec<(&'static str, &Tensor)> {
        vec![
            ("running_mean", &self.running_mean),
            ("running_var", &self.running_var),
        ]
    }

    fn buffers_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        vec![
            ("running_mean", &mut self.running_mean),
            ("running_var", &mut self.running_var),
        ]
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.implementation = implementation;
    }
}
// ANCHOR_END: batchnorm

/// Batch normalization of fully connected layers (`(N, D)`, each of the `D` features
/// normalized over the batch): the computation of [`BatchNorm2d`] on `(N, D, 1, 1)`, as
/// Ioffe & Szegedy apply it to the inputs of each unit.
#[derive(Debug, Clone)]
pub struct BatchNorm1d {
    /// The same parameters, buffers and computation, on the features as channels.
    pub inner: BatchNorm2d,
}

impl BatchNorm1d {
    /// `gamma = 1`, `beta = 0`, running mean 0 and variance 1, momentum 0.1, eps 1e-5.
    pub fn new(features: usize) -> Self {
        BatchNorm1d {
            inner: BatchNorm2d::new(features),
        }
    }
}

/// `(N, D)` as `(N, D, 1, 1)`, checking the rank.
fn as_images(name: &str, t: &Tensor) -> Result<Tensor> {
    expect_rank(name, t.shape(), 2, "vectors (N, D)")?;
    let (n, d) = (t.shape()[0], t.shape()[1]);
    Ok(t.to_shape(vec![n, d, 1, 1])
        .expect("(N, D) reshapes")
        .into_owned())
}

/// `(N, D, 1, 1)` back to `(N, D)`.
fn as_vectors(t: Tensor) -> Tensor {
    let (n, d) = (t.shape()[0], t.shape()[1]);
    t.into_shape_with_order(vec![n, d])
        .expect("(N, D, 1, 1) reshapes")
}

impl Layer for BatchNorm1d {
    fn name(&self) -> String {
        format!("BatchNorm1d({})", self.inner.channels())
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor> {
        self.inner.cache = None;
        let x = as_images(&self.name(), input)?;
        Ok(as_vectors(self.inner.forward(&x, mode)?))
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let dy = as_images("BatchNorm1d backward", grad_output)?;
        Ok(as_vectors(self.inner.backward(&dy)?))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_rank(&self.name(), input, 2, "vectors (N, D)")?;
        Ok(input.to_vec())
    }

    fn params(&self) -> Vec<&Param> {
        self.inner.params()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.inner.params_mut()
    }

    fn buffers(&self) -> Vec<(&'static str, &Tensor)> {
        self.inner.buffers()
    }

    fn buffers_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        self.inner.buffers_mut()
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.inner.set_implementation(implementation);
    }
}
