//! The `Layer` abstraction: a forward pass that caches what the backward pass needs, and a
//! backward pass that returns the input gradient and fills the parameter gradients
//! (chapter `08-backprop`). No autograd: every layer writes its own backward pass, and
//! every backward pass is checked by finite differences in the tests.
//!
//! Tensors are dynamic-dimensional `f32` arrays: `(N, C, H, W)` for images, `(N, D)` for
//! vectors, batch first.

use ndarray::ArrayD;

use crate::error::ShapeError;

/// A batch of activations or gradients of any rank, batch first.
pub type Tensor = ArrayD<f32>;

/// Training or evaluation: dropout and batch normalization behave differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Train,
    Eval,
}

// ANCHOR: param
/// A learnable parameter: its value, and the gradient the last backward pass left in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub value: Tensor,
    pub grad: Tensor,
}

impl Param {
    /// A parameter with a zero gradient of the same shape.
    pub fn new(name: impl Into<String>, value: Tensor) -> Self {
        let grad = Tensor::zeros(value.raw_dim());
        Param {
            name: name.into(),
            value,
            grad,
        }
    }
}
// ANCHOR_END: param

// ANCHOR: layer
/// One layer of a network. `Send`, so that a network can be trained inside a thread pool.
pub trait Layer: Send {
    /// A short description, e.g. `Conv2d(1 -> 6, 5x5, stride 1, padding 2)`.
    fn name(&self) -> String;

    /// Computes the output for `input`, remembering what `backward` will need.
    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor, ShapeError>;

    /// Given `dL/d(output)` for the last forward pass, returns `dL/d(input)` and adds the
    /// parameters' gradients into their `grad` fields.
    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError>;

    /// Like [`Layer::backward`], but only the parameter gradients are wanted: the first
    /// layer of a network has nobody to send an input gradient to. Layers for which the
    /// input gradient is real work (convolutions) skip it.
    fn backward_params(&mut self, grad_output: &Tensor) -> Result<(), ShapeError> {
        self.backward(grad_output).map(|_| ())
    }

    /// The output shape for an input of shape `input` (batch included).
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError>;

    /// The learnable parameters (none by default).
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }

    /// The learnable parameters, mutably: for the optimizer and for loading weights.
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }
}
// ANCHOR_END: layer

/// Sets every parameter gradient of `layer` to zero (before a new backward pass).
pub fn zero_grads(layer: &mut dyn Layer) {
    for p in layer.params_mut() {
        p.grad.fill(0.0);
    }
}

/// The number of learnable numbers in `layer`.
pub fn param_count(layer: &dyn Layer) -> usize {
    layer.params().iter().map(|p| p.value.len()).sum()
}

/// An error for a backward pass called before any forward pass.
/// A zero-filled tensor whose zeros are written by all threads: a batch of activations is
/// megabytes, and one thread writing them while the others wait costs a few percent of a
/// layer's time on two cores.
pub(crate) fn zeros_par(shape: &[usize]) -> Tensor {
    use rayon::prelude::*;
    let len = shape.iter().product();
    let zeros: Vec<f32> = (0..len).into_par_iter().map(|_| 0.0).collect();
    Tensor::from_shape_vec(shape, zeros).expect("length matches the shape")
}

/// [`zeros_par`] with four axes.
pub(crate) fn zeros4_par(shape: (usize, usize, usize, usize)) -> ndarray::Array4<f32> {
    zeros_par(&[shape.0, shape.1, shape.2, shape.3])
        .into_dimensionality()
        .expect("four axes")
}

pub(crate) fn no_forward(name: &str) -> ShapeError {
    ShapeError::Mismatch(format!(
        "{name}: backward called before forward (nothing cached)"
    ))
}

/// Checks that `shape` has `rank` dimensions, naming the layer and the shape otherwise.
pub(crate) fn expect_rank(
    name: &str,
    shape: &[usize],
    rank: usize,
    what: &str,
) -> Result<(), ShapeError> {
    if shape.len() != rank {
        return Err(ShapeError::Mismatch(format!(
            "{name} expects {what} (rank {rank}), got shape {shape:?}"
        )));
    }
    Ok(())
}
