//! Weight initialisation: draw the initial weights so that activations and gradients keep
//! their scale from layer to layer (chapter `08-backprop`).

use rand::Rng;

use crate::tensor::Tensor;

// ANCHOR: init
/// How to draw initial weights, given a layer's fan-in (inputs per unit) and fan-out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Glorot & Bengio (2010): uniform on `[-a, a]` with `a = sqrt(6 / (fan_in + fan_out))`,
    /// variance `2 / (fan_in + fan_out)`; for tanh and sigmoid.
    Xavier,
    /// He et al. (2015): normal with variance `2 / fan_in`; for ReLU, which zeroes half
    /// of its inputs.
    He,
    /// LeCun et al. (1998): normal with variance `1 / fan_in`.
    LeCun,
    /// Every weight the same value (for tests and worked examples).
    Constant(f32),
}

impl Init {
    /// A tensor of shape `shape` drawn from this distribution.
    pub fn sample(
        &self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        rng: &mut impl Rng,
    ) -> Tensor {
        let (fan_in, fan_out) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        match *self {
            Init::Xavier => {
                let a = (6.0 / (fan_in + fan_out)).sqrt();
                Tensor::from_shape_simple_fn(shape, || rng.random_range(-a..a))
            }
            Init::He => normal(shape, (2.0 / fan_in).sqrt(), rng),
            Init::LeCun => normal(shape, (1.0 / fan_in).sqrt(), rng),
            Init::Constant(c) => Tensor::from_elem(shape, c),
        }
    }
}
// ANCHOR_END: init

/// Normal samples with standard deviation `std`, by the Box-Muller transform.
fn normal(shape: &[usize], std: f32, rng: &mut impl Rng) -> Tensor {
    Tensor::from_shape_simple_fn(shape, || {
        let u1: f32 = 1.0 - rng.random::<f32>(); // (0, 1]: the logarithm is finite
        let u2: f32 = rng.random();
        std * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
    })
}
