use ndarray::Array1;

use super::view4;
use crate::error::ShapeError;
use crate::layer::{expect_rank, no_forward, Layer, Mode, Param, Tensor};

// ANCHOR: batchnorm
/// Batch normalization over the channels of images (Ioffe & Szegedy, 2015).
///
/// In training, each channel is standardised with the mean and (biased) variance of the
/// batch over `(N, H, W)`, then scaled by `gamma` and shifted by `beta`; the running
/// averages used in evaluation move towards the batch statistics by `momentum`
/// (`running = (1 - momentum) running + momentum batch`, with the unbiased variance, as
/// PyTorch does).
#[derive(Debug, Clone)]
pub struct BatchNorm2d {
    pub gamma: Param,
    pub beta: Param,
    pub running_mean: Array1<f32>,
    pub running_var: Array1<f32>,
    pub momentum: f32,
    pub eps: f32,
    /// The normalised input `x_hat` and `1 / sigma` per channel of the last training pass.
    cache: Option<(Tensor, Vec<f32>)>,
}

impl BatchNorm2d {
    /// `gamma = 1`, `beta = 0`, running mean 0 and variance 1, momentum 0.1, eps 1e-5.
    pub fn new(channels: usize) -> Self {
        BatchNorm2d {
            gamma: Param::new("gamma", Tensor::ones(vec![channels])),
            beta: Param::new("beta", Tensor::zeros(vec![channels])),
            running_mean: Array1::zeros(channels),
            running_var: Array1::ones(channels),
            momentum: 0.1,
            eps: 1e-5,
            cache: None,
        }
    }

    fn channels(&self) -> usize {
        self.gamma.value.len()
    }
}

impl Layer for BatchNorm2d {
    fn name(&self) -> String {
        format!("BatchNorm2d({})", self.channels())
    }

    // `k` indexes five per-channel arrays at once: a range reads better than a zip of five.
    #[allow(clippy::needless_range_loop)]
    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor, ShapeError> {
        let x = view4("BatchNorm2d", input)?;
        let (n, c, h, w) = x.dim();
        if c != self.channels() {
            return Err(ShapeError::Mismatch(format!(
                "{} got {c} channels (input shape {:?})",
                self.name(),
                input.shape()
            )));
        }
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let plane = h * w;
        let m = (n * plane) as f64;
        let gamma = self.gamma.value.as_slice().expect("1D");
        let beta = self.beta.value.as_slice().expect("1D");
        let mut y = Tensor::zeros(input.shape());
        let ys = y.as_slice_mut().expect("fresh array");
        let planes = |k: usize| (0..n).map(move |i| (i * c + k) * plane..(i * c + k + 1) * plane);
        match mode {
            Mode::Train => {
                if n * plane < 2 {
                    return Err(ShapeError::Mismatch(format!(
                        "{} needs at least two values per channel in training, got input {:?}",
                        self.name(),
                        input.shape()
                    )));
                }
                let mut inv_std = vec![0.0f32; c];
                for k in 0..c {
                    // Two passes in f64: the mean, then the spread around it.
                    let sum: f64 = planes(k)
                        .map(|r| xs[r].iter().map(|&v| v as f64).sum::<f64>())
                        .sum();
                    let mean = sum / m;
                    let sq: f64 = planes(k)
                        .map(|r| {
                            xs[r]
                                .iter()
                                .map(|&v| (v as f64 - mean).powi(2))
                                .sum::<f64>()
                        })
                        .sum();
                    let var = sq / m;
                    let inv = 1.0 / (var + self.eps as f64).sqrt();
                    inv_std[k] = inv as f32;
                    let (mean32, inv32) = (mean as f32, inv as f32);
                    for r in planes(k) {
                        for (yv, &xv) in ys[r.clone()].iter_mut().zip(&xs[r]) {
                            *yv = (xv - mean32) * inv32;
                        }
                    }
                    let unbiased = sq / (m - 1.0);
                    let mo = self.momentum;
                    self.running_mean[k] = (1.0 - mo) * self.running_mean[k] + mo * mean32;
                    self.running_var[k] = (1.0 - mo) * self.running_var[k] + mo * unbiased as f32;
                }
                let x_hat = y.clone();
                let ys = y.as_slice_mut().expect("fresh array");
                for k in 0..c {
                    for r in planes(k) {
                        for v in &mut ys[r] {
                            *v = gamma[k] * *v + beta[k];
                        }
                    }
                }
                self.cache = Some((x_hat, inv_std));
            }
            Mode::Eval => {
                for k in 0..c {
                    let inv = 1.0 / (self.running_var[k] + self.eps).sqrt();
                    let scale = gamma[k] * inv;
                    let shift = beta[k] - self.running_mean[k] * scale;
                    for r in planes(k) {
                        for (yv, &xv) in ys[r.clone()].iter_mut().zip(&xs[r]) {
                            *yv = xv * scale + shift;
                        }
                    }
                }
            }
        }
        Ok(y)
    }

    /// `dx = gamma / sigma * (dy - mean(dy) - x_hat * mean(dy * x_hat))`, per channel.
    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let (x_hat, inv_std) = self
            .cache
            .as_ref()
            .ok_or_else(|| no_forward("BatchNorm2d (training mode)"))?;
        if grad_output.shape() != x_hat.shape() {
            return Err(ShapeError::Mismatch(format!(
                "BatchNorm2d backward: gradient of shape {:?} for an output of shape {:?}",
                grad_output.shape(),
                x_hat.shape()
            )));
        }
        let s = x_hat.shape();
        let (n, c, plane) = (s[0], s[1], s[2] * s[3]);
        let m = (n * plane) as f32;
        let dy = grad_output.as_standard_layout();
        let dys = dy.as_slice().expect("standard layout");
        let xh = x_hat.as_slice().expect("standard layout");
        let gamma = self.gamma.value.as_slice().expect("1D").to_vec();
        let mut dx = Tensor::zeros(s);
        let dxs = dx.as_slice_mut().expect("fresh array");
        let planes = |k: usize| (0..n).map(move |i| (i * c + k) * plane..(i * c + k + 1) * plane);
        for k in 0..c {
            let (mut dbeta, mut dgamma) = (0.0f64, 0.0f64);
            for r in planes(k) {
                for (&g, &xv) in dys[r.clone()].iter().zip(&xh[r]) {
                    dbeta += g as f64;
                    dgamma += (g * xv) as f64;
                }
            }
            self.beta.grad[k] += dbeta as f32;
            self.gamma.grad[k] += dgamma as f32;
            let scale = gamma[k] * inv_std[k];
            let (mean_dy, mean_dyx) = (dbeta as f32 / m, dgamma as f32 / m);
            for r in planes(k) {
                for ((d, &g), &xv) in dxs[r.clone()].iter_mut().zip(&dys[r.clone()]).zip(&xh[r]) {
                    *d = scale * (g - mean_dy - xv * mean_dyx);
                }
            }
        }
        Ok(dx)
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        expect_rank(&self.name(), input, 4, "images (N, C, H, W)")?;
        Ok(input.to_vec())
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.gamma, &self.beta]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.gamma, &mut self.beta]
    }
}
// ANCHOR_END: batchnorm
