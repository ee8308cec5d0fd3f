use ndarray::{Axis, Slice};

use super::IntoLayer;
use crate::error::{Error, Result};
use crate::layer::{Layer, Mode, Tensor};

// ANCHOR: grouped
/// The channels split into equal groups, each through its own layer, the outputs joined
/// along the channels: `(N, C, H, W)`, group `g` gets channels `g C/G .. (g+1) C/G`. With a
/// convolution in every group this is a *grouped convolution* (PyTorch's `groups=G`):
/// AlexNet's second, fourth and fifth layers, whose two halves lived on two GPUs and saw
/// only the feature maps on their own GPU. Backward, each group gets its own channels of
/// the gradient and returns the gradient of its own input channels.
#[derive(Debug, Default)]
pub struct Grouped {
    groups: Vec<(String, Box<dyn Layer>)>,
    /// How many channels each group gave in the last forward pass.
    widths: Option<Vec<usize>>,
}

impl Grouped {
    /// No groups yet; add them with [`Grouped::group`].
    pub fn new() -> Self {
        Grouped::default()
    }

    /// These groups and one more (a layer, or a `Sequential` of them), named by its
    /// position.
    pub fn group(mut self, layer: impl IntoLayer) -> Self {
        let name = self.groups.len().to_string();
        self.groups.push((name, layer.into_layer()));
        self
    }

    /// The channels of each group for an input of `channels` channels.
    fn split(&self, shape: &[usize]) -> Result<usize> {
        let g = self.groups.len();
        if g == 0 {
            return Err(Error::Shape("Grouped has no groups".into()));
        }
        if shape.len() < 2 || !shape[1].is_multiple_of(g) {
            return Err(Error::Shape(format!(
                "Grouped: an input of shape {shape:?} does not split into {g} equal groups \
                 of channels (axis 1)"
            )));
        }
        Ok(shape[1] / g)
    }
}

impl Layer for Grouped {
    fn name(&self) -> String {
        let names: Vec<String> = self.groups.iter().map(|(_, l)| l.name()).collect();
        format!("Grouped[{}]", names.join(" | "))
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor> {
        self.widths = None;
        let per = self.split(input.shape())?;
        let mut outputs = Vec::with_capacity(self.groups.len());
        for (g, (name, layer)) in self.groups.iter_mut().enumerate() {
            let part = input.slice_axis(Axis(1), Slice::from(g * per..(g + 1) * per));
            let y = layer
                .forward(&part.to_owned(), mode)
                .map_err(|e| e.in_layer(name.as_str(), "a group"))?;
            outputs.push(y);
        }
        let views: Vec<_> = outputs.iter().map(|y| y.view()).collect();
        let y = ndarray::concatenate(Axis(1), &views).map_err(|_| {
            let shapes: Vec<&[usize]> = outputs.iter().map(|y| y.shape()).collect();
            Error::Shape(format!(
                "Grouped: the groups give {shapes:?}; they must agree on every axis but the \
                 channels"
            ))
        })?;
        self.widths = Some(outputs.iter().map(|y| y.shape()[1]).collect());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let widths = self
            .widths
            .as_ref()
            .ok_or_else(|| crate::layer::no_forward("Grouped"))?;
        let total: usize = widths.iter().sum();
        if grad_output.ndim() < 2 || grad_output.shape()[1] != total {
            return Err(Error::Shape(format!(
                "Grouped backward: gradient of shape {:?}, but the groups gave {total} channels",
                grad_output.shape()
            )));
        }
        let mut parts = Vec::with_capacity(widths.len());
        let mut start = 0;
        for ((name, layer), &width) in self.groups.iter_mut().zip(widths) {
            let part = grad_output.slice_axis(Axis(1), Slice::from(start..start + width));
            start += width;
            parts.push(
                layer
                    .backward(&part.to_owned())
                    .map_err(|e| e.in_layer(name.as_str(), "a group"))?,
            );
        }
        let views: Vec<_> = parts.iter().map(|g| g.view()).collect();
        Ok(ndarray::concatenate(Axis(1), &views).expect("each group's input had its shape"))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let mut joined: Option<Vec<usize>> = None;
        for ((name, layer), part) in self.groups.iter().zip(self.child_inputs(input)?) {
            let s = layer
                .output_shape(&part)
                .map_err(|e| e.in_layer(name.as_str(), "a group"))?;
            joined = Some(match joined {
                None => s,
                Some(mut j) if j.len() == s.len() && j[0] == s[0] && j[2..] == s[2..] => {
                    j[1] += s[1];
                    j
                }
                Some(j) => {
                    return Err(Error::Shape(format!(
                        "Grouped: the groups give {j:?} and {s:?}; they must agree on every \
                         axis but the channels"
                    )))
                }
            });
        }
        Ok(joined.expect("at least one group"))
    }

    fn children(&self) -> Vec<(String, &dyn Layer)> {
        self.groups
            .iter()
            .map(|(name, l)| (name.clone(), l.as_ref()))
            .collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Layer)> {
        self.groups
            .iter_mut()
            .map(|(name, l)| (name.clone(), l.as_mut() as &mut dyn Layer))
            .collect()
    }

    fn child_inputs(&self, input: &[usize]) -> Result<Vec<Vec<usize>>> {
        let per = self.split(input)?;
        let mut part = input.to_vec();
        part[1] = per;
        Ok(vec![part; self.groups.len()])
    }
}
// ANCHOR_END: grouped
