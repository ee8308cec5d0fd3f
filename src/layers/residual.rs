use rayon::prelude::*;

use super::{Relu, Sequential};
use crate::error::{Error, Result};
use crate::layer::{Layer, Mode, Tensor};

/// `a += b` for two tensors of the same shape, split between the threads when both are
/// contiguous.
fn add_into(a: &mut Tensor, b: &Tensor) {
    match (a.as_slice_mut(), b.as_slice()) {
        (Some(a), Some(b)) => a
            .par_chunks_mut(4096)
            .zip(b.par_chunks(4096))
            .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| *a += b)),
        _ => *a += b,
    }
}

// ANCHOR: residual
/// `body(x) + shortcut(x)`: a residual block (He et al., 2016). The shortcut is the
/// identity, or a projection (a 1x1 convolution with the body's stride, then batch
/// normalization) where the body changes the shape. The gradient reaches the input twice,
/// through the body and along the shortcut, and the two add. ResNet's blocks apply a ReLU
/// to the sum ([`Residual::then_relu`]).
#[derive(Debug)]
pub struct Residual {
    pub body: Sequential,
    /// `None`: the identity.
    pub shortcut: Option<Sequential>,
    /// Applied to the sum, if any.
    pub relu: Option<Relu>,
    /// Whether the last forward pass succeeded, body, shortcut and sum.
    forwarded: bool,
}

impl Residual {
    /// `x + body(x)`: the identity shortcut.
    pub fn new(body: Sequential) -> Self {
        Residual {
            body,
            shortcut: None,
            relu: None,
            forwarded: false,
        }
    }

    /// This block with a ReLU applied to the sum, as in ResNet's blocks:
    /// `relu(body(x) + shortcut(x))`.
    pub fn then_relu(mut self) -> Self {
        self.relu = Some(Relu::new());
        self
    }

    /// `body(x) + shortcut(x)`: a projection shortcut.
    pub fn with_shortcut(body: Sequential, shortcut: Sequential) -> Self {
        Residual {
            body,
            shortcut: Some(shortcut),
            relu: None,
            forwarded: false,
        }
    }
}

impl Layer for Residual {
    fn name(&self) -> String {
        let after = if self.relu.is_some() {
            ", then ReLU"
        } else {
            ""
        };
        match &self.shortcut {
            None => format!("Residual({}{after})", self.body.name()),
            Some(s) => format!(
                "Residual({}, shortcut {}{after})",
                self.body.name(),
                s.name()
            ),
        }
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor> {
        self.forwarded = false;
        let mut y = self
            .body
            .forward(input, mode)
            .map_err(|e| e.in_layer("body", "the residual body"))?;
        let shortcut = match &mut self.shortcut {
            Some(s) => &s
                .forward(input, mode)
                .map_err(|e| e.in_layer("shortcut", "the projection shortcut"))?,
            None => input,
        };
        if y.shape() != shortcut.shape() {
            return Err(Error::Shape(format!(
                "Residual: the body maps {:?} to {:?} but the shortcut to {:?}; they must \
                 agree (a projection shortcut changes the shape as the body does)",
                input.shape(),
                y.shape(),
                shortcut.shape()
            )));
        }
        add_into(&mut y, shortcut);
        if let Some(relu) = &mut self.relu {
            y = relu.forward(&y, mode)?;
        }
        self.forwarded = true;
        Ok(y)
    }

    // ANCHOR: residual_backward
    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        if !self.forwarded {
            return Err(crate::layer::no_forward("Residual"));
        }
        // Through the ReLU after the sum first: the gradient of the sum.
        let relu_grad;
        let grad_output = match &mut self.relu {
            Some(relu) => {
                relu_grad = relu.backward(grad_output)?;
                &relu_grad
            }
            None => grad_output,
        };
        let mut dx = self
            .body
            .backward(grad_output)
            .map_err(|e| e.in_layer("body", "the residual body"))?;
        let shortcut = match &mut self.shortcut {
            Some(s) => &s
                .backward(grad_output)
                .map_err(|e| e.in_layer("shortcut", "the projection shortcut"))?,
            None => grad_output,
        };
        add_into(&mut dx, shortcut);
        Ok(dx)
    }
    // ANCHOR_END: residual_backward

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let out = self.body.output_shape(input)?;
        let short = match &self.shortcut {
            Some(s) => s.output_shape(input)?,
            None => input.to_vec(),
        };
        if out != short {
            return Err(Error::Shape(format!(
                "Residual: the body maps {input:?} to {out:?} but the shortcut to {short:?}; \
                 they must agree"
            )));
        }
        Ok(out)
    }

    fn children(&self) -> Vec<(String, &dyn Layer)> {
        let mut c: Vec<(String, &dyn Layer)> = vec![("body".into(), &self.body)];
        if let Some(s) = &self.shortcut {
            c.push(("shortcut".into(), s));
        }
        if let Some(r) = &self.relu {
            c.push(("relu".into(), r));
        }
        c
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Layer)> {
        let mut c: Vec<(String, &mut dyn Layer)> = vec![("body".into(), &mut self.body)];
        if let Some(s) = &mut self.shortcut {
            c.push(("shortcut".into(), s));
        }
        if let Some(r) = &mut self.relu {
            c.push(("relu".into(), r));
        }
        c
    }

    fn child_inputs(&self, input: &[usize]) -> Result<Vec<Vec<usize>>> {
        let mut inputs = vec![input.to_vec()];
        if self.shortcut.is_some() {
            inputs.push(input.to_vec());
        }
        if self.relu.is_some() {
            inputs.push(self.output_shape(input)?);
        }
        Ok(inputs)
    }
}
// ANCHOR_END: residual
