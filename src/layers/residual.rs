use super::Sequential;
use crate::error::ShapeError;
use crate::layer::{Layer, Mode, Param, Tensor};

// ANCHOR: residual
/// `x + body(x)`: a shortcut around `body` (He et al., 2016). The gradient reaches the
/// input twice, through the body and straight along the shortcut, and the two add.
#[derive(Debug)]
pub struct Residual {
    pub body: Sequential,
}

impl Residual {
    pub fn new(body: Sequential) -> Self {
        Residual { body }
    }
}

impl Layer for Residual {
    fn name(&self) -> String {
        format!("Residual({})", self.body.name())
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor, ShapeError> {
        let mut y = self.body.forward(input, mode)?;
        if y.shape() != input.shape() {
            return Err(ShapeError::Mismatch(format!(
                "Residual: the body maps {:?} to {:?}; the shortcut needs the same shape",
                input.shape(),
                y.shape()
            )));
        }
        y += input;
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let mut dx = self.body.backward(grad_output)?;
        dx += grad_output;
        Ok(dx)
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let out = self.body.output_shape(input)?;
        if out != input {
            return Err(ShapeError::Mismatch(format!(
                "Residual: the body maps {input:?} to {out:?}; the shortcut needs the same shape"
            )));
        }
        Ok(out)
    }

    fn params(&self) -> Vec<&Param> {
        self.body.params()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.body.params_mut()
    }
}
// ANCHOR_END: residual
