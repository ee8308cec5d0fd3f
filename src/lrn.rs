//! Local response normalization (chapter `15-local-response-norm`; Krizhevsky, Sutskever
//! & Hinton, *ImageNet Classification with Deep Convolutional Neural Networks*, 2012,
//! section 3.3): each activation is divided by a power of the summed squares of its
//! neighbours across channels at the same position, a form of lateral inhibition,
//!
//! ```text
//! b[c] = a[c] / (k + alpha sum_{j = max(0, c - n/2)}^{min(C - 1, c + n/2)} a[j]^2)^beta
//! ```
//!
//! with AlexNet's `k = 2, n = 5, alpha = 1e-4, beta = 0.75`. The layer is
//! [`crate::layers::LocalResponseNorm`].

use ndarray::{Array4, ArrayView4};

use crate::error::{Error, Result};

// ANCHOR: config
/// The hyperparameters of local response normalization, as AlexNet's paper writes them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrnConfig {
    /// How many adjacent channels the sum runs over, the channel itself in the middle.
    pub size: usize,
    pub k: f32,
    /// The weight of the sum of squares (the paper's; PyTorch's `alpha` is `size` times it).
    pub alpha: f32,
    pub beta: f32,
}

impl LrnConfig {
    /// AlexNet's: `n = 5`, `k = 2`, `alpha = 1e-4`, `beta = 0.75`.
    pub const ALEXNET: LrnConfig = LrnConfig {
        size: 5,
        k: 2.0,
        alpha: 1e-4,
        beta: 0.75,
    };

    /// The same normalization written with PyTorch's parameters: `nn.LocalResponseNorm(size,
    /// alpha, beta, k)` divides its `alpha` by `size` (it averages the squares where the
    /// paper sums them), so the paper's `alpha` is PyTorch's divided by `size`.
    pub fn from_pytorch(size: usize, alpha: f32, beta: f32, k: f32) -> LrnConfig {
        LrnConfig {
            size,
            k,
            alpha: alpha / size as f32,
            beta,
        }
    }

    /// PyTorch's `alpha` for this normalization: `size` times the paper's.
    pub fn pytorch_alpha(&self) -> f32 {
        self.alpha * self.size as f32
    }

    /// The channels whose squares the sum for channel `c` of `channels` takes.
    pub fn window(&self, c: usize, channels: usize) -> std::ops::Range<usize> {
        let half = self.size / 2;
        c.saturating_sub(half)..(c + self.size - half).min(channels)
    }

    /// Checks the hyperparameters: an odd `size` of at least 1 (so the window is centred),
    /// `k > 0` (so the denominator is never 0), `alpha >= 0`, finite `beta`.
    pub fn check(&self) -> Result<()> {
        let bad = |name, value: f64, expected| {
            Err(Error::BadHyperparameter {
                name,
                value,
                expected,
            })
        };
        if self.size.is_multiple_of(2) {
            return bad("LRN size", self.size as f64, "an odd number of channels");
        }
        if !(self.k > 0.0 && self.k.is_finite()) {
            return bad("LRN k", self.k as f64, "k > 0");
        }
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return bad("LRN alpha", self.alpha as f64, "alpha >= 0");
        }
        if !self.beta.is_finite() {
            return bad("LRN beta", self.beta as f64, "a finite number");
        }
        Ok(())
    }
}
// ANCHOR_END: config

// ANCHOR: lrn
/// The denominators' bases `s[n, c, i, j] = k + alpha sum_{d in window(c)} a[n, d, i, j]^2`.
pub fn lrn_scale(x: ArrayView4<f32>, config: LrnConfig) -> Array4<f32> {
    let (n, c, h, w) = x.dim();
    let mut s = Array4::from_elem((n, c, h, w), config.k);
    for b in 0..n {
        for ch in 0..c {
            for near in config.window(ch, c) {
                for i in 0..h {
                    for j in 0..w {
                        s[[b, ch, i, j]] += config.alpha * x[[b, near, i, j]].powi(2);
                    }
                }
            }
        }
    }
    s
}

/// Local response normalization: `b = a s^-beta`. Returns the output and `s`, which the
/// backward pass needs.
pub fn lrn_forward(x: ArrayView4<f32>, config: LrnConfig) -> Result<(Array4<f32>, Array4<f32>)> {
    config.check()?;
    let s = lrn_scale(x, config);
    let y = ndarray::Zip::from(&x)
        .and(&s)
        .map_collect(|&a, &s| a * s.powf(-config.beta));
    Ok((y, s))
}

/// The backward pass. Output `c` depends on input `m` directly (`m = c`) and through the sum
/// (`m` in the window of `c`, which for an odd size means `c` in the window of `m`):
///
/// ```text
/// dx[m] = dy[m] s[m]^-beta - 2 alpha beta a[m] sum_{c in window(m)} dy[c] a[c] s[c]^(-beta-1)
/// ```
pub fn lrn_backward(
    x: ArrayView4<f32>,
    s: ArrayView4<f32>,
    grad_output: ArrayView4<f32>,
    config: LrnConfig,
) -> Result<Array4<f32>> {
    if grad_output.dim() != x.dim() || s.dim() != x.dim() {
        return Err(Error::Shape(format!(
            "LRN backward: gradient {:?} and kept denominators {:?} for an input {:?}",
            grad_output.dim(),
            s.dim(),
            x.dim()
        )));
    }
    let (n, c, h, w) = x.dim();
    let beta = config.beta;
    let mut dx = Array4::zeros((n, c, h, w));
    for b in 0..n {
        for m in 0..c {
            for i in 0..h {
                for j in 0..w {
                    let direct = grad_output[[b, m, i, j]] * s[[b, m, i, j]].powf(-beta);
                    let through_sums: f32 = config
                        .window(m, c)
                        .map(|ch| {
                            let (g, a, s) = (
                                grad_output[[b, ch, i, j]],
                                x[[b, ch, i, j]],
                                s[[b, ch, i, j]],
                            );
                            g * a * s.powf(-beta - 1.0)
                        })
                        .sum();
                    dx[[b, m, i, j]] =
                        direct - 2.0 * config.alpha * beta * x[[b, m, i, j]] * through_sums;
                }
            }
        }
    }
    Ok(dx)
}
// ANCHOR_END: lrn
