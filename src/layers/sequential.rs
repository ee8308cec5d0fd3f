use crate::error::ShapeError;
use crate::layer::{Layer, Mode, Param, Tensor};

// ANCHOR: sequential
/// Layers applied one after another; backward runs them in reverse.
#[derive(Default)]
pub struct Sequential {
    pub layers: Vec<Box<dyn Layer>>,
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl Sequential {
    pub fn new(layers: Vec<Box<dyn Layer>>) -> Self {
        Sequential { layers }
    }

    /// The activations after every layer for `input`, first layer first: for looking
    /// inside the network (visualisation) without a second forward pass.
    pub fn forward_all(&mut self, input: &Tensor, mode: Mode) -> Result<Vec<Tensor>, ShapeError> {
        let mut outputs: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let x = outputs.last().unwrap_or(input);
            let y = layer
                .forward(x, mode)
                .map_err(|e| ShapeError::Mismatch(format!("layer {i} ({}): {e}", layer.name())))?;
            outputs.push(y);
        }
        Ok(outputs)
    }

    /// A table of the layers with their output shapes and parameter counts for `input`.
    pub fn summary(&self, input: &[usize]) -> Result<Vec<(String, Vec<usize>, usize)>, ShapeError> {
        let mut shape = input.to_vec();
        let mut rows = Vec::new();
        for layer in &self.layers {
            shape = layer.output_shape(&shape)?;
            let params = layer.params().iter().map(|p| p.value.len()).sum();
            rows.push((layer.name(), shape.clone(), params));
        }
        Ok(rows)
    }
}

impl Layer for Sequential {
    fn name(&self) -> String {
        let names: Vec<String> = self.layers.iter().map(|l| l.name()).collect();
        format!("Sequential[{}]", names.join(", "))
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor, ShapeError> {
        let mut x = input.clone();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            x = layer
                .forward(&x, mode)
                .map_err(|e| ShapeError::Mismatch(format!("layer {i} ({}): {e}", layer.name())))?;
        }
        Ok(x)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let mut g = grad_output.clone();
        for (i, layer) in self.layers.iter_mut().enumerate().rev() {
            g = layer.backward(&g).map_err(|e| {
                ShapeError::Mismatch(format!("layer {i} ({}) backward: {e}", layer.name()))
            })?;
        }
        Ok(g)
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        self.layers
            .iter()
            .try_fold(input.to_vec(), |shape, layer| layer.output_shape(&shape))
    }

    fn params(&self) -> Vec<&Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.params_mut())
            .collect()
    }
}
// ANCHOR_END: sequential
