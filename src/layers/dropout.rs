use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::layer::{check_grad_shape, no_forward, Layer, Mode, Tensor};

// ANCHOR: dropout
/// Dropout (Srivastava et al., 2014), "inverted": in training each value is zeroed with
/// probability `p` and the survivors are scaled by `1 / (1 - p)`, so that evaluation, which
/// keeps every value, needs no rescaling.
#[derive(Debug, Clone)]
pub struct Dropout {
    pub p: f32,
    /// Keep drawing the same mask while the input's shape stays (for gradient checks,
    /// which run the layer forward many times and need the same function each time).
    pub fixed_mask: bool,
    rng: ChaCha8Rng,
    /// The mask of the last training pass, or `None` after an evaluation pass (which
    /// passes everything, gradients too), with the shape of that pass's output.
    mask: Option<(Option<Tensor>, Vec<usize>)>,
}

impl Dropout {
    /// Drops with probability `p` in `[0, 1)`; the mask comes from a generator seeded
    /// with `seed`, so runs repeat exactly.
    pub fn new(p: f32, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::BadHyperparameter {
                name: "dropout probability",
                value: p as f64,
                expected: "0 <= p < 1",
            });
        }
        Ok(Dropout {
            p,
            fixed_mask: false,
            rng: ChaCha8Rng::seed_from_u64(seed),
            mask: None,
        })
    }
}

impl Layer for Dropout {
    fn name(&self) -> String {
        format!("Dropout(p = {})", self.p)
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor> {
        let shape = input.shape().to_vec();
        if mode == Mode::Eval || self.p == 0.0 {
            self.mask = Some((None, shape));
            return Ok(input.clone());
        }
        let keep = 1.0 - self.p;
        let mask = match self.mask.take() {
            Some((Some(mask), _)) if self.fixed_mask && mask.shape() == input.shape() => mask,
            _ => input.mapv(|_| {
                if self.rng.random::<f32>() < keep {
                    1.0 / keep
                } else {
                    0.0
                }
            }),
        };
        let out = input * &mask;
        self.mask = Some((Some(mask), shape));
        Ok(out)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let (mask, shape) = self.mask.as_ref().ok_or_else(|| no_forward("Dropout"))?;
        check_grad_shape("Dropout", shape, grad_output)?;
        Ok(match mask {
            Some(mask) => grad_output * mask,
            None => grad_output.clone(),
        })
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
// ANCHOR_END: dropout

// ANCHOR: alpha_dropout
/// Alpha dropout (Klambauer et al., 2017), the dropout of self-normalizing networks: a
/// dropped unit is set to SELU's lower bound `alpha' = -lambda alpha` instead of 0, and
/// `a x + b` (see [`crate::selu::alpha_dropout_affine`]) keeps the mean 0 and the variance
/// 1 that SELU maintains. Evaluation keeps every value and changes nothing.
#[derive(Debug, Clone)]
pub struct AlphaDropout {
    pub p: f32,
    /// As [`Dropout::fixed_mask`].
    pub fixed_mask: bool,
    rng: ChaCha8Rng,
    /// The kept units (1) and dropped ones (0) of the last training pass, or `None` after
    /// an evaluation pass; with the shape of that pass's output.
    mask: Option<(Option<Tensor>, Vec<usize>)>,
}

impl AlphaDropout {
    /// Drops with probability `p` in `[0, 1)`, from a generator seeded with `seed`.
    pub fn new(p: f32, seed: u64) -> Result<Self> {
        let d = Dropout::new(p, seed)?;
        Ok(AlphaDropout {
            p,
            fixed_mask: false,
            rng: d.rng,
            mask: None,
        })
    }
}

impl Layer for AlphaDropout {
    fn name(&self) -> String {
        format!("AlphaDropout(p = {})", self.p)
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor> {
        let shape = input.shape().to_vec();
        if mode == Mode::Eval || self.p == 0.0 {
            self.mask = Some((None, shape));
            return Ok(input.clone());
        }
        let keep = 1.0 - self.p;
        let mask = match self.mask.take() {
            Some((Some(mask), _)) if self.fixed_mask && mask.shape() == input.shape() => mask,
            _ => input.mapv(|_| {
                if self.rng.random::<f32>() < keep {
                    1.0
                } else {
                    0.0
                }
            }),
        };
        let (prime, a, b) = crate::selu::alpha_dropout_affine(self.p, crate::selu::constants());
        let out = ndarray::Zip::from(input)
            .and(&mask)
            .map_collect(|&x, &m| a * (x * m + prime * (1.0 - m)) + b);
        self.mask = Some((Some(mask), shape));
        Ok(out)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let (mask, shape) = self
            .mask
            .as_ref()
            .ok_or_else(|| no_forward("AlphaDropout"))?;
        check_grad_shape("AlphaDropout", shape, grad_output)?;
        Ok(match mask {
            Some(mask) => {
                let (_, a, _) = crate::selu::alpha_dropout_affine(self.p, crate::selu::constants());
                grad_output * &mask.mapv(|m| a * m)
            }
            None => grad_output.clone(),
        })
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }
}
// ANCHOR_END: alpha_dropout
