use super::Sequential;
use crate::error::ShapeError;
use crate::layer::{Layer, Mode, Param, Tensor};
use rayon::prelude::*;

/// `a += b` for two tensors of the same shape, split between the threads when both are
/// contiguous.
fn add_into(a: &mut Tensor, b: &Tensor) -> Result<(), ShapeError> {
    if a.shape() != b.shape() {
        return Err(ShapeError::Mismatch(format!(
            "Residual: the shortcut adds {:?} to {:?}; they must have the same shape",
            b.shape(),
            a.shape()
        )));
    }
    match (a.as_slice_mut(), b.as_slice()) {
        (Some(a), Some(b)) => a
            .par_chunks_mut(4096)
            .zip(b.par_chunks(4096))
            .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| *a += b)),
        _ => *a += b,
    }
    Ok(())
}

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
        add_into(&mut y, input)?;
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let mut dx = self.body.backward(grad_output)?;
        add_into(&mut dx, grad_output)?;
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
