//! The `Layer` abstraction: a forward pass that caches what the backward pass needs, and a
//! backward pass that returns the input gradient and fills the parameter gradients
//! (chapter `08-backprop`). No autograd: every layer writes its own backward pass, and
//! every backward pass is checked by finite differences in the tests.
//!
//! A layer also says what it holds, so that tools can work on any model without knowing
//! its type: its learnable parameters, its buffers (state that evaluation needs but
//! gradient descent does not touch, like batch normalization's running statistics) and
//! the layers inside it. [`crate::model`] walks these to name every tensor of a model
//! (`layer2.0.shortcut.1.running_var`), to save and load it, and to reach one layer.

use crate::error::{Error, Result};
pub use crate::tensor::Tensor;

/// Training or evaluation: dropout and batch normalization behave differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Train,
    Eval,
}

/// Which code computes a layer: the plain loops its chapter explains, or chapter 16's fast
/// kernels. Both give the same numbers (up to the rounding of a different summation
/// order); the tests hold every fast layer to its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Implementation {
    /// Loops that read like the formula: the version the chapters include.
    Reference,
    /// Threads, vector instructions and reused buffers (chapter `16-fast-convolution`).
    #[default]
    Fast,
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
pub trait Layer: std::any::Any + Send {
    /// A short description, e.g. `Conv2d(1 -> 6, 5x5, stride 1, padding 2)`.
    fn name(&self) -> String;

    /// Computes the output for `input`, remembering what `backward` will need (in both
    /// modes: saliency maps need input gradients of a network in evaluation mode).
    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor>;

    /// Given `dL/d(output)` for the last forward pass, returns `dL/d(input)` and adds the
    /// parameters' gradients into their `grad` fields.
    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor>;

    /// Like [`Layer::backward`], but only the parameter gradients are wanted: the first
    /// layer of a network has nobody to send an input gradient to. Layers for which the
    /// input gradient is real work (convolutions) skip it.
    fn backward_params(&mut self, grad_output: &Tensor) -> Result<()> {
        self.backward(grad_output).map(|_| ())
    }

    /// The output shape for an input of shape `input` (batch included).
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>>;

    /// The layer's own learnable parameters (none by default).
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }

    /// The same, mutably: for the optimizer and for loading weights.
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }

    /// State that is not learned by gradient descent but that evaluation needs, by name
    /// (batch normalization's running statistics; none by default).
    fn buffers(&self) -> Vec<(&'static str, &Tensor)> {
        Vec::new()
    }

    /// The same, mutably: for loading a checkpoint.
    fn buffers_mut(&mut self) -> Vec<(&'static str, &mut Tensor)> {
        Vec::new()
    }

    /// The layers inside this one, each with its name (none by default).
    fn children(&self) -> Vec<(String, &dyn Layer)> {
        Vec::new()
    }

    /// The same, mutably.
    fn children_mut(&mut self) -> Vec<(String, &mut dyn Layer)> {
        Vec::new()
    }

    /// Chooses the reference loops or the fast kernels (layers with one implementation
    /// ignore it; [`crate::model::set_implementation`] sets a whole model).
    fn set_implementation(&mut self, _implementation: Implementation) {}

    /// The multiply-accumulates this layer itself does (not those of the layers inside
    /// it) for an input of shape `input`: convolutions and fully connected layers count,
    /// the rest is taken as free (the convention of torchinfo and of published counts).
    fn multiply_adds(&self, _input: &[usize]) -> Result<u64> {
        Ok(0)
    }

    /// The shape of the input each layer inside this one receives, in the order of
    /// [`Layer::children`], when this one receives `input`: by default all of them get
    /// `input` (parallel branches); a `Sequential` passes each layer's output on.
    fn child_inputs(&self, input: &[usize]) -> Result<Vec<Vec<usize>>> {
        Ok(vec![input.to_vec(); self.children().len()])
    }
}
// ANCHOR_END: layer

impl dyn Layer {
    /// This layer as its concrete type `T`, if it is one: `layer.downcast_ref::<Conv2d>()`.
    pub fn downcast_ref<T: Layer>(&self) -> Option<&T> {
        (self as &dyn std::any::Any).downcast_ref()
    }

    /// The same, mutably: `layer.downcast_mut::<Relu>()` to change a ReLU's rule.
    pub fn downcast_mut<T: Layer>(&mut self) -> Option<&mut T> {
        (self as &mut dyn std::any::Any).downcast_mut()
    }
}

impl std::fmt::Debug for dyn Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// Sets every parameter gradient of `layer`, and of the layers inside it, to zero (before
/// a new backward pass).
pub fn zero_grads(layer: &mut dyn Layer) {
    crate::model::visit_params_mut(layer, &mut |_, p| p.grad.fill(0.0));
}

/// The number of learnable numbers in `layer` and the layers inside it.
pub fn param_count(layer: &dyn Layer) -> usize {
    crate::model::named_params(layer)
        .iter()
        .map(|(_, p)| p.value.len())
        .sum()
}

/// An error for a backward pass called before any forward pass.
pub(crate) fn no_forward(name: &str) -> Error {
    Error::Shape(format!(
        "{name}: backward called before forward (nothing cached)"
    ))
}

/// Checks that `shape` has `rank` dimensions, naming the layer and the shape otherwise.
pub(crate) fn expect_rank(name: &str, shape: &[usize], rank: usize, what: &str) -> Result<()> {
    if shape.len() != rank {
        return Err(Error::Shape(format!(
            "{name} expects {what} (rank {rank}), got shape {shape:?}"
        )));
    }
    Ok(())
}

/// Checks that the gradient handed to `name`'s backward pass has the shape of the output
/// its forward pass produced.
pub(crate) fn check_grad_shape(name: &str, output: &[usize], grad: &Tensor) -> Result<()> {
    if output != grad.shape() {
        return Err(Error::Shape(format!(
            "{name} backward: gradient of shape {:?} for an output of shape {output:?}",
            grad.shape()
        )));
    }
    Ok(())
}
