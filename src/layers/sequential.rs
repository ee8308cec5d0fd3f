use crate::error::{Error, Result};
use crate::layer::{no_forward, Layer, Mode, Tensor};

/// A layer, or a boxed one, ready to go into a container.
pub trait IntoLayer {
    fn into_layer(self) -> Box<dyn Layer>;
}

impl<L: Layer> IntoLayer for L {
    fn into_layer(self) -> Box<dyn Layer> {
        Box::new(self)
    }
}

impl IntoLayer for Box<dyn Layer> {
    fn into_layer(self) -> Box<dyn Layer> {
        self
    }
}

// ANCHOR: sequential
/// Layers applied one after another; backward runs them in reverse. Each layer has a name
/// (its position, `"0"`, `"1"`, ..., unless given one), which names its tensors in the
/// model's state: `3.weight`, or `features.3.weight` inside a part named `features`.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<(String, Box<dyn Layer>)>,
    /// Whether the last forward pass went through every layer: after one that failed
    /// half-way, the layers behind the failure still hold an earlier pass's caches.
    forwarded: bool,
}

impl Sequential {
    /// An empty network; add layers with [`Sequential::add`].
    pub fn new() -> Self {
        Sequential::default()
    }

    /// This network with `layer` added at the end, named by its position.
    #[allow(clippy::should_implement_trait)] // `add` as in candle-nn's `seq().add(layer)`
    pub fn add(mut self, layer: impl IntoLayer) -> Self {
        self.push(layer.into_layer());
        self
    }

    /// This network with `layer` added at the end under `name`.
    pub fn add_named(mut self, name: &str, layer: impl IntoLayer) -> Self {
        self.layers.push((name.to_string(), layer.into_layer()));
        self.forwarded = false;
        self
    }

    /// Adds `layer` at the end, named by its position.
    pub fn push(&mut self, layer: Box<dyn Layer>) {
        let name = self.layers.len().to_string();
        self.layers.push((name, layer));
        self.forwarded = false;
    }

    /// The output of every layer for `input`, first layer first: for looking inside the
    /// network (visualisation) without a second forward pass.
    pub fn forward_all(&mut self, input: &Tensor, mode: Mode) -> Result<Vec<Tensor>> {
        self.forwarded = false;
        let mut outputs: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        for (name, layer) in self.layers.iter_mut() {
            let x = outputs.last().unwrap_or(input);
            let y = layer
                .forward(x, mode)
                .map_err(|e| e.in_layer(name.as_str(), layer.name()))?;
            outputs.push(y);
        }
        self.forwarded = true;
        Ok(outputs)
    }
}

impl Layer for Sequential {
    fn name(&self) -> String {
        let names: Vec<String> = self.layers.iter().map(|(_, l)| l.name()).collect();
        format!("Sequential[{}]", names.join(", "))
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor> {
        self.forwarded = false;
        let mut x: Option<Tensor> = None;
        for (name, layer) in self.layers.iter_mut() {
            let y = layer
                .forward(x.as_ref().unwrap_or(input), mode)
                .map_err(|e| e.in_layer(name.as_str(), layer.name()))?;
            x = Some(y);
        }
        self.forwarded = true;
        Ok(x.unwrap_or_else(|| input.clone()))
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        if !self.forwarded {
            return Err(no_forward("Sequential"));
        }
        let mut g: Option<Tensor> = None;
        for (name, layer) in self.layers.iter_mut().rev() {
            let dx = layer
                .backward(g.as_ref().unwrap_or(grad_output))
                .map_err(|e| e.in_layer(name.as_str(), layer.name()))?;
            g = Some(dx);
        }
        Ok(g.unwrap_or_else(|| grad_output.clone()))
    }

    /// Backward through every layer, but the first layer is only asked for its parameter
    /// gradients: the input gradient of the network is never used in training.
    fn backward_params(&mut self, grad_output: &Tensor) -> Result<()> {
        if !self.forwarded {
            return Err(no_forward("Sequential"));
        }
        let mut g: Option<Tensor> = None;
        for (i, (name, layer)) in self.layers.iter_mut().enumerate().rev() {
            let grad = g.as_ref().unwrap_or(grad_output);
            let description = layer.name();
            let named = |e: Error| e.in_layer(name.as_str(), description);
            if i == 0 {
                layer.backward_params(grad).map_err(named)?;
            } else {
                g = Some(layer.backward(grad).map_err(named)?);
            }
        }
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.layers
            .iter()
            .try_fold(input.to_vec(), |shape, (name, layer)| {
                layer
                    .output_shape(&shape)
                    .map_err(|e| e.in_layer(name.as_str(), layer.name()))
            })
    }

    fn child_inputs(&self, input: &[usize]) -> Result<Vec<Vec<usize>>> {
        let mut shape = input.to_vec();
        let mut inputs = Vec::with_capacity(self.layers.len());
        for (name, layer) in &self.layers {
            inputs.push(shape.clone());
            shape = layer
                .output_shape(&shape)
                .map_err(|e| e.in_layer(name.as_str(), layer.name()))?;
        }
        Ok(inputs)
    }

    fn children(&self) -> Vec<(String, &dyn Layer)> {
        self.layers
            .iter()
            .map(|(name, l)| (name.clone(), l.as_ref()))
            .collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Layer)> {
        self.layers
            .iter_mut()
            .map(|(name, l)| (name.clone(), l.as_mut() as &mut dyn Layer))
            .collect()
    }
}
// ANCHOR_END: sequential

impl Sequential {
    /// How many layers the network has (the layers inside them not counted).
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True if the network has no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Layer `i`.
    pub fn layer(&self, i: usize) -> Option<&dyn Layer> {
        self.layers.get(i).map(|(_, l)| l.as_ref())
    }

    /// A row per layer: its description, its output shape for `input`, and its number of
    /// learnable numbers (those of the layers inside it included).
    pub fn summary(&self, input: &[usize]) -> Result<Vec<(String, Vec<usize>, usize)>> {
        let mut shape = input.to_vec();
        let mut rows = Vec::new();
        for (name, layer) in &self.layers {
            shape = layer
                .output_shape(&shape)
                .map_err(|e| e.in_layer(name.as_str(), layer.name()))?;
            rows.push((
                layer.name(),
                shape.clone(),
                crate::layer::param_count(layer.as_ref()),
            ));
        }
        Ok(rows)
    }

    /// The layers, taken out of the network, in order.
    pub fn into_layers(self) -> Vec<Box<dyn Layer>> {
        self.layers.into_iter().map(|(_, l)| l).collect()
    }

    /// Puts `layer` in place of layer `i`, keeping its name, and returns the old one: for
    /// experiments that change one part of a built network (another activation, say).
    pub fn replace(&mut self, i: usize, layer: impl IntoLayer) -> Result<Box<dyn Layer>> {
        let len = self.layers.len();
        let slot = self.layers.get_mut(i).ok_or_else(|| {
            Error::Invalid(format!(
                "Sequential::replace: no layer {i} in a network of {len} layers"
            ))
        })?;
        self.forwarded = false;
        Ok(std::mem::replace(&mut slot.1, layer.into_layer()))
    }

    /// Layer `i`, mutably.
    pub fn layer_mut(&mut self, i: usize) -> Option<&mut dyn Layer> {
        self.layers
            .get_mut(i)
            .map(|(_, l)| l.as_mut() as &mut dyn Layer)
    }
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}
