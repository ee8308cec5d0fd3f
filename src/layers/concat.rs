use ndarray::{Axis, Slice};

use super::IntoLayer;
use crate::error::{Error, Result};
use crate::layer::{Layer, Mode, Tensor};

// ANCHOR: concat
/// Parallel branches on the same input, their outputs joined along the channels
/// (GoogLeNet's Inception module, Szegedy et al., 2015): `(N, C, H, W)` to
/// `(N, K_1 + ... + K_b, H', W')`. Every branch must give the same `N, H', W'`. Backward,
/// each branch gets its own channels of the gradient, and the input gradients of all
/// branches add up (the input was used by each).
#[derive(Debug, Default)]
pub struct Concat {
    branches: Vec<(String, Box<dyn Layer>)>,
    /// How many channels each branch gave in the last forward pass.
    widths: Option<Vec<usize>>,
}

impl Concat {
    /// No branches yet; add them with [`Concat::branch`].
    pub fn new() -> Self {
        Concat::default()
    }

    /// These branches and one more (a layer, or a `Sequential` of them), named by its
    /// position.
    pub fn branch(self, branch: impl IntoLayer) -> Self {
        let name = self.branches.len().to_string();
        self.branch_named(&name, branch)
    }

    /// These branches and one more, named `name`.
    pub fn branch_named(mut self, name: &str, branch: impl IntoLayer) -> Self {
        self.branches.push((name.to_string(), branch.into_layer()));
        self
    }
}

impl Layer for Concat {
    fn name(&self) -> String {
        let names: Vec<String> = self.branches.iter().map(|(_, b)| b.name()).collect();
        format!("Concat[{}]", names.join(" | "))
    }

    fn forward(&mut self, input: &Tensor, mode: Mode) -> Result<Tensor> {
        self.widths = None;
        if self.branches.is_empty() {
            return Err(Error::Shape("Concat has no branches".into()));
        }
        let mut outputs = Vec::with_capacity(self.branches.len());
        for (name, branch) in &mut self.branches {
            let y = branch
                .forward(input, mode)
                .map_err(|e| e.in_layer(name.as_str(), "a branch"))?;
            outputs.push(y);
        }
        let shapes: Vec<&[usize]> = outputs.iter().map(|y| y.shape()).collect();
        joined_shape(&shapes)?;
        let views: Vec<_> = outputs.iter().map(|y| y.view()).collect();
        let y = ndarray::concatenate(Axis(1), &views).expect("shapes checked");
        self.widths = Some(shapes.iter().map(|s| s[1]).collect());
        Ok(y)
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let widths = self
            .widths
            .as_ref()
            .ok_or_else(|| crate::layer::no_forward("Concat"))?;
        let total: usize = widths.iter().sum();
        if grad_output.ndim() < 2 || grad_output.shape()[1] != total {
            return Err(Error::Shape(format!(
                "Concat backward: gradient of shape {:?}, but the branches gave {total} channels",
                grad_output.shape()
            )));
        }
        let mut dx: Option<Tensor> = None;
        let mut start = 0;
        for ((name, branch), &width) in self.branches.iter_mut().zip(widths) {
            let part = grad_output.slice_axis(Axis(1), Slice::from(start..start + width));
            start += width;
            let g = branch
                .backward(&part.to_owned())
                .map_err(|e| e.in_layer(name.as_str(), "a branch"))?;
            match &mut dx {
                None => dx = Some(g),
                Some(sum) => *sum += &g,
            }
        }
        Ok(dx.expect("at least one branch"))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let shapes = self
            .branches
            .iter()
            .map(|(name, b)| {
                b.output_shape(input)
                    .map_err(|e| e.in_layer(name.as_str(), "a branch"))
            })
            .collect::<Result<Vec<_>>>()?;
        let shapes: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
        joined_shape(&shapes)
    }

    fn children(&self) -> Vec<(String, &dyn Layer)> {
        self.branches
            .iter()
            .map(|(name, b)| (name.clone(), b.as_ref()))
            .collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Layer)> {
        self.branches
            .iter_mut()
            .map(|(name, b)| (name.clone(), b.as_mut() as &mut dyn Layer))
            .collect()
    }
}
// ANCHOR_END: concat

/// The shape of the branches' outputs joined along axis 1, or an error that shows them all.
fn joined_shape(shapes: &[&[usize]]) -> Result<Vec<usize>> {
    let first = shapes
        .first()
        .ok_or_else(|| Error::Shape("Concat has no branches".into()))?;
    let fits = |s: &[usize]| {
        s.len() == first.len() && s.len() >= 2 && s[0] == first[0] && s[2..] == first[2..]
    };
    if !shapes.iter().all(|s| fits(s)) {
        return Err(Error::Shape(format!(
            "Concat: the branches give {shapes:?}; they must agree on every axis but the \
             channels (axis 1)"
        )));
    }
    let mut joined = first.to_vec();
    joined[1] = shapes.iter().map(|s| s[1]).sum();
    Ok(joined)
}
