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
        let mut x: Option<Tensor> = None;
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let y = layer
                .forward(x.as_ref().unwrap_or(input), mode)
                .map_err(|e| ShapeError::Mismatch(format!("layer {i} ({}): {e}", layer.name())))?;
            x = Some(y);
        }
        Ok(x.unwrap_or_else(|| input.clone()))
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let mut g: Option<Tensor> = None;
        for (i, layer) in self.layers.iter_mut().enumerate().rev() {
            let dx = layer
                .backward(g.as_ref().unwrap_or(grad_output))
                .map_err(|e| {
                    ShapeError::Mismatch(format!("layer {i} ({}) backward: {e}", layer.name()))
                })?;
            g = Some(dx);
        }
        Ok(g.unwrap_or_else(|| grad_output.clone()))
    }

    /// Backward through every layer, but the first layer is only asked for its parameter
    /// gradients: the input gradient of the network is never used in training.
    fn backward_params(&mut self, grad_output: &Tensor) -> Result<(), ShapeError> {
        let mut g: Option<Tensor> = None;
        for (i, layer) in self.layers.iter_mut().enumerate().rev() {
            let grad = g.as_ref().unwrap_or(grad_output);
            let name = layer.name();
            let named =
                |e: ShapeError| ShapeError::Mismatch(format!("layer {i} ({name}) backward: {e}"));
            if i == 0 {
                layer.backward_params(grad).map_err(named)?;
            } else {
                g = Some(layer.backward(grad).map_err(named)?);
            }
        }
        Ok(())
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
