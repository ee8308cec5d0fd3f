use ndarray::Array1;
use rayon::prelude::*;

use super::view4;
use crate::error::ShapeError;
use crate::layer::{expect_rank, no_forward, zeros_par, Layer, Mode, Param, Tensor};

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
        let gamma = self.gamma.value.as_slice().expect("1D");
        let beta = self.beta.value.as_slice().expect("1D");
        let mut y = zeros_par(input.shape());
        if mode == Mode::Eval {
            let (scale, shift): (Vec<f32>, Vec<f32>) = (0..c)
                .map(|k| {
                    let scale = gamma[k] / (self.running_var[k] + self.eps).sqrt();
                    (scale, beta[k] - self.running_mean[k] * scale)
                })
                .unzip();
            let ys = y.as_slice_mut().expect("fresh array");
            ys.par_chunks_mut(plane)
                .zip(xs.par_chunks(plane))
                .enumerate()
                .for_each(|(p, (yp, xp))| {
                    let (a, b) = (scale[p % c], shift[p % c]);
                    yp.iter_mut().zip(xp).for_each(|(y, &x)| *y = x * a + b);
                });
            return Ok(y);
        }
        let m = n * plane;
        if m < 2 {
            return Err(ShapeError::Mismatch(format!(
                "{} needs at least two values per channel in training, got input {:?}",
                self.name(),
                input.shape()
            )));
        }
        // Per plane: the sum and the sum of squares around the plane's first value (a
        // shift that keeps the subtraction below well conditioned), in f64 across planes.
        let sums: Vec<(f64, f64, f32)> = xs
            .par_chunks(plane)
            .map(|xp| {
                let shift = xp[0];
                let (s, q) = xp.iter().fold((0.0f32, 0.0f32), |(s, q), &v| {
                    let d = v - shift;
                    (s + d, q + d * d)
                });
                (s as f64, q as f64, shift)
            })
            .collect();
        let mut mean = vec![0.0f32; c];
        let mut inv_std = vec![0.0f32; c];
        for k in 0..c {
            // Combine the planes of channel k: sum of x and of x^2 from each shifted plane.
            let (mut sx, mut sxx) = (0.0f64, 0.0f64);
            for &(s, q, shift) in sums.iter().skip(k).step_by(c) {
                let (t, pl) = (shift as f64, plane as f64);
                sx += s + pl * t;
                sxx += q + 2.0 * t * s + pl * t * t;
            }
            let mu = sx / m as f64;
            let var = (sxx / m as f64 - mu * mu).max(0.0);
            mean[k] = mu as f32;
            inv_std[k] = (1.0 / (var + self.eps as f64).sqrt()) as f32;
            let unbiased = var * m as f64 / (m - 1) as f64;
            let mo = self.momentum;
            self.running_mean[k] = (1.0 - mo) * self.running_mean[k] + mo * mu as f32;
            self.running_var[k] = (1.0 - mo) * self.running_var[k] + mo * unbiased as f32;
        }
        let mut x_hat = zeros_par(input.shape());
        y.as_slice_mut()
            .expect("fresh array")
            .par_chunks_mut(plane)
            .zip(
                x_hat
                    .as_slice_mut()
                    .expect("fresh array")
                    .par_chunks_mut(plane),
            )
            .zip(xs.par_chunks(plane))
            .enumerate()
            .for_each(|(p, ((yp, hp), xp))| {
                let k = p % c;
                let (mu, inv, g, b) = (mean[k], inv_std[k], gamma[k], beta[k]);
                for ((y, hat), &x) in yp.iter_mut().zip(hp.iter_mut()).zip(xp) {
                    *hat = (x - mu) * inv;
                    *y = g * *hat + b;
                }
            });
        self.cache = Some((x_hat, inv_std));
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
        let m = (n * plane) as f64;
        let dy = grad_output.as_standard_layout();
        let dys = dy.as_slice().expect("standard layout");
        let xh = x_hat.as_slice().expect("standard layout");
        // Per plane: the sums of dy and of dy * x_hat.
        let sums: Vec<(f64, f64)> = dys
            .par_chunks(plane)
            .zip(xh.par_chunks(plane))
            .map(|(g, h)| {
                let (a, b) = g
                    .iter()
                    .zip(h)
                    .fold((0.0f32, 0.0f32), |(a, b), (&g, &h)| (a + g, b + g * h));
                (a as f64, b as f64)
            })
            .collect();
        let mut coef = vec![(0.0f32, 0.0f32, 0.0f32); c];
        let gamma = self.gamma.value.as_slice().expect("1D");
        for k in 0..c {
            let (dbeta, dgamma) = sums
                .iter()
                .skip(k)
                .step_by(c)
                .fold((0.0, 0.0), |(a, b), &(s, t)| (a + s, b + t));
            self.beta.grad[k] += dbeta as f32;
            self.gamma.grad[k] += dgamma as f32;
            coef[k] = (
                gamma[k] * inv_std[k],
                (dbeta / m) as f32,
                (dgamma / m) as f32,
            );
        }
        let mut dx = zeros_par(s);
        dx.as_slice_mut()
            .expect("fresh array")
            .par_chunks_mut(plane)
            .zip(dys.par_chunks(plane))
            .zip(xh.par_chunks(plane))
            .enumerate()
            .for_each(|(p, ((dp, gp), hp))| {
                let (scale, mean_dy, mean_dyx) = coef[p % c];
                for ((d, &g), &h) in dp.iter_mut().zip(gp).zip(hp) {
                    *d = scale * (g - mean_dy - h * mean_dyx);
                }
            });
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
