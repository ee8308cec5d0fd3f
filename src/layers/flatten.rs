use crate::error::{Error, Result};
use crate::layer::{no_forward, Layer, Mode, Tensor};

/// Flattens `(N, C, H, W)` (or any rank) into `(N, C H W)`; backward restores the shape.
#[derive(Debug, Clone, Default)]
pub struct Flatten {
    input_shape: Option<Vec<usize>>,
}

impl Flatten {
    pub fn new() -> Self {
        Flatten::default()
    }
}

impl Layer for Flatten {
    fn name(&self) -> String {
        "Flatten".into()
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        self.input_shape = None;
        let shape = self.output_shape(input.shape())?;
        self.input_shape = Some(input.shape().to_vec());
        Ok(input
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(shape)
            .expect("same number of elements"))
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let shape = self
            .input_shape
            .clone()
            .ok_or_else(|| no_forward("Flatten"))?;
        let g = grad_output.as_standard_layout().into_owned();
        g.into_shape_with_order(shape.clone()).map_err(|_| {
            Error::Shape(format!(
                "Flatten backward: gradient {:?} does not hold the {} values of {shape:?}",
                grad_output.shape(),
                shape.iter().product::<usize>()
            ))
        })
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        if input.is_empty() {
            return Err(Error::Shape("Flatten needs a batch dimension".into()));
        }
        Ok(vec![input[0], input[1..].iter().product()])
    }
}
