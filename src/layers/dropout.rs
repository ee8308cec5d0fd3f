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
        let mask = input.mapv(|_| {
            if self.rng.random::<f32>() < keep {
                1.0 / keep
            } else {
                0.0
            }
        });
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
