//! Working on a built model without knowing its type: walking its layers by path, naming
//! its tensors, saving and restoring its state.
//!
//! Every layer reports its parameters, its buffers and the layers inside it (the
//! [`Layer`] trait); this module walks those. Paths join names with dots, as PyTorch's
//! `state_dict` does: in a `Sequential` the layers are `0`, `1`, ...; a residual block
//! holds `body` and `shortcut`; so the running variance of the batch norm in the second
//! place of the shortcut of the first block of `layer2` is `layer2.0.shortcut.1.running_var`.
//!
//! ```
//! use cnn_book::layer::Layer;
//! use cnn_book::layers::{Conv2d, Relu};
//! use cnn_book::model;
//!
//! let mut net = cnn_book::models::lenet(7);
//! // Every ReLU of the network passes gradients by guided backpropagation from now on.
//! model::visit_mut(&mut net, &mut |_, layer| {
//!     if let Some(relu) = layer.downcast_mut::<Relu>() {
//!         relu.rule = cnn_book::layers::ReluRule::Guided;
//!     }
//! });
//! // The first layer's filters, by path.
//! let conv = model::get(&net, "0").unwrap().downcast_ref::<Conv2d>().unwrap();
//! assert_eq!(conv.weight.value.shape(), &[6, 1, 5, 5]);
//! ```

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::layer::{Implementation, Layer, Param, Tensor};

/// Tensors by name, in name order: a model's state (parameters and buffers).
pub type StateDict = BTreeMap<String, Tensor>;

/// `prefix.name`, or `name` at the top.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Calls `f` with every layer of `model` and its path, the model itself first (path
/// `""`), then each layer before the layers inside it.
pub fn visit(model: &dyn Layer, f: &mut dyn FnMut(&str, &dyn Layer)) {
    fn walk(path: &str, layer: &dyn Layer, f: &mut dyn FnMut(&str, &dyn Layer)) {
        f(path, layer);
        for (name, child) in layer.children() {
            walk(&join(path, &name), child, f);
        }
    }
    walk("", model, f);
}

/// [`visit`], with each layer mutable: to change a ReLU's rule, replace filters, or
/// switch implementations, without rebuilding the model.
pub fn visit_mut(model: &mut dyn Layer, f: &mut dyn FnMut(&str, &mut dyn Layer)) {
    fn walk(path: &str, layer: &mut dyn Layer, f: &mut dyn FnMut(&str, &mut dyn Layer)) {
        f(path, layer);
        for (name, child) in layer.children_mut() {
            walk(&join(path, &name), child, f);
        }
    }
    walk("", model, f);
}

/// The layer at `path` (`"3"`, `"layer2.0.shortcut"`; `""` is the model itself).
pub fn get<'a>(model: &'a dyn Layer, path: &str) -> Option<&'a dyn Layer> {
    if path.is_empty() {
        return Some(model);
    }
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    let child = model
        .children()
        .into_iter()
        .find_map(|(name, child)| (name == first).then_some(child))?;
    get(child, rest)
}

/// The layer at `path`, mutably.
pub fn get_mut<'a>(model: &'a mut dyn Layer, path: &str) -> Option<&'a mut dyn Layer> {
    if path.is_empty() {
        return Some(model);
    }
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    let child = model
        .children_mut()
        .into_iter()
        .find_map(|(name, child)| (name == first).then_some(child))?;
    get_mut(child, rest)
}

/// The paths of every layer of type `T` in `model`, in the order of [`visit`].
pub fn paths_of<T: Layer>(model: &dyn Layer) -> Vec<String> {
    let mut paths = Vec::new();
    visit(model, &mut |path, layer| {
        if layer.downcast_ref::<T>().is_some() {
            paths.push(path.to_string());
        }
    });
    paths
}

/// Every learnable parameter of `model` with its full name, in the order of [`visit`].
pub fn named_params(model: &dyn Layer) -> Vec<(String, &Param)> {
    fn walk<'a>(path: &str, layer: &'a dyn Layer, out: &mut Vec<(String, &'a Param)>) {
        for p in layer.params() {
            out.push((join(path, &p.name), p));
        }
        for (name, child) in layer.children() {
            walk(&join(path, &name), child, out);
        }
    }
    let mut out = Vec::new();
    walk("", model, &mut out);
    out
}

/// Calls `f` with every learnable parameter of `model` and its full name, in the order of
/// [`named_params`]: what an optimizer's step does.
pub fn visit_params_mut(model: &mut dyn Layer, f: &mut dyn FnMut(&str, &mut Param)) {
    fn walk(path: &str, layer: &mut dyn Layer, f: &mut dyn FnMut(&str, &mut Param)) {
        for p in layer.params_mut() {
            let name = join(path, &p.name);
            f(&name, p);
        }
        for (name, child) in layer.children_mut() {
            walk(&join(path, &name), child, f);
        }
    }
    walk("", model, f);
}

/// Every buffer of `model` with its full name.
pub fn named_buffers(model: &dyn Layer) -> Vec<(String, &Tensor)> {
    fn walk<'a>(path: &str, layer: &'a dyn Layer, out: &mut Vec<(String, &'a Tensor)>) {
        for (name, b) in layer.buffers() {
            out.push((join(path, name), b));
        }
        for (name, child) in layer.children() {
            walk(&join(path, &name), child, out);
        }
    }
    let mut out = Vec::new();
    walk("", model, &mut out);
    out
}

/// Switches every layer of `model` to the reference loops or to the fast kernels.
pub fn set_implementation(model: &mut dyn Layer, implementation: Implementation) {
    visit_mut(model, &mut |_, layer| {
        layer.set_implementation(implementation)
    });
}

// ANCHOR: state_dict
/// The state of `model`: every parameter and every buffer, by its full name
/// (`features.0.weight`, `layer2.0.shortcut.1.running_var`). Together they decide what
/// the model computes in evaluation mode.
pub fn state_dict(model: &dyn Layer) -> StateDict {
    let params = named_params(model)
        .into_iter()
        .map(|(name, p)| (name, p.value.clone()));
    let buffers = named_buffers(model)
        .into_iter()
        .map(|(name, b)| (name, b.clone()));
    params.chain(buffers).collect()
}

/// Copies `state` into `model`. The names must match exactly, and so must the shapes:
/// a tensor the model lacks, a tensor the state lacks, or a shape that differs is an error
/// that names it (and both shapes), and nothing is changed.
pub fn load_state_dict(model: &mut dyn Layer, state: &StateDict) -> Result<()> {
    let expected: BTreeMap<String, Vec<usize>> = state_dict(model)
        .into_iter()
        .map(|(name, t)| (name, t.shape().to_vec()))
        .collect();
    if let Some(name) = expected.keys().find(|name| !state.contains_key(*name)) {
        return Err(Error::State(format!(
            "the saved state has no tensor '{name}' (shape {:?}), which the model needs",
            expected[name]
        )));
    }
    if let Some(name) = state.keys().find(|name| !expected.contains_key(*name)) {
        return Err(Error::State(format!(
            "the saved state has a tensor '{name}' (shape {:?}) that the model does not have",
            state[name].shape()
        )));
    }
    for (name, shape) in &expected {
        if state[name].shape() != shape.as_slice() {
            return Err(Error::State(format!(
                "tensor '{name}': the model has shape {shape:?}, the saved state {:?}",
                state[name].shape()
            )));
        }
    }
    // Every name and shape fits: copy.
    visit_params_mut(model, &mut |name, p| p.value.assign(&state[name]));
    visit_mut(model, &mut |path, layer| {
        for (name, b) in layer.buffers_mut() {
            b.assign(&state[&join(path, name)]);
        }
    });
    Ok(())
}
// ANCHOR_END: state_dict

/// One line of a [`summary`]: a layer, where it sits, and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SummaryRow {
    /// The layer's path in the model (`layer2.0.body.conv1`).
    pub path: String,
    /// How deep it sits (1 for the model's own layers).
    pub depth: usize,
    /// What it is: a container's kind, a layer's full description.
    pub layer: String,
    /// Its output shape for the summary's input.
    pub output: Vec<usize>,
    /// Its learnable numbers, those of the layers inside it included.
    pub params: usize,
    /// Its multiply-accumulates, those of the layers inside it included.
    pub multiply_adds: u64,
}

/// A table of a model's layers with their output shapes, parameters and
/// multiply-accumulates (like torchinfo's `summary`), and the totals.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub input: Vec<usize>,
    pub output: Vec<usize>,
    pub rows: Vec<SummaryRow>,
    pub total_params: usize,
    pub total_multiply_adds: u64,
}

/// The summary of `model` for an input of shape `input`, listing the layers down to
/// `max_depth` levels of nesting (the totals count every layer, however deep).
pub fn summary(model: &dyn Layer, input: &[usize], max_depth: usize) -> Result<Summary> {
    fn walk(
        layer: &dyn Layer,
        path: &str,
        input: &[usize],
        (depth, max_depth): (usize, usize),
        rows: &mut Vec<SummaryRow>,
    ) -> Result<(usize, u64)> {
        let named = |e: Error| e.in_layer(path, layer.name());
        let output = layer.output_shape(input).map_err(named)?;
        let mut params: usize = layer.params().iter().map(|p| p.value.len()).sum();
        let mut macs = layer.multiply_adds(input).map_err(named)?;
        let children = layer.children();
        let row = (depth >= 1 && depth <= max_depth).then_some(rows.len());
        if row.is_some() {
            let description = layer.name();
            // A container's description lists everything inside it: its kind will do.
            let kind = match description.find(['[', '(']) {
                Some(at) if !children.is_empty() => description[..at].to_string(),
                _ => description,
            };
            rows.push(SummaryRow {
                path: path.to_string(),
                depth,
                layer: kind,
                output: output.clone(),
                params: 0,
                multiply_adds: 0,
            });
        }
        let inputs = layer.child_inputs(input).map_err(named)?;
        for ((name, child), child_input) in children.into_iter().zip(inputs) {
            let (p, m) = walk(
                child,
                &join(path, &name),
                &child_input,
                (depth + 1, max_depth),
                rows,
            )?;
            params += p;
            macs += m;
        }
        if let Some(i) = row {
            rows[i].params = params;
            rows[i].multiply_adds = macs;
        }
        Ok((params, macs))
    }
    let mut rows = Vec::new();
    let (total_params, total_multiply_adds) = walk(model, "", input, (0, max_depth), &mut rows)?;
    Ok(Summary {
        input: input.to_vec(),
        output: model.output_shape(input)?,
        rows,
        total_params,
        total_multiply_adds,
    })
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::format::thousands;
        let shape = |s: &[usize]| format!("{s:?}");
        let width = self
            .rows
            .iter()
            .map(|r| 2 * (r.depth - 1) + r.path.len() + r.layer.len() + 3)
            .max()
            .unwrap_or(20)
            .clamp(20, 90);
        let rule = "=".repeat(width + 56);
        writeln!(f, "{rule}")?;
        writeln!(
            f,
            "{:<width$} {:>22} {:>15} {:>16}",
            "Layer (path)", "Output shape", "Param #", "Mult-adds"
        )?;
        writeln!(f, "{rule}")?;
        for r in &self.rows {
            let mut label = format!("{}{} ({})", "  ".repeat(r.depth - 1), r.layer, r.path);
            if label.len() > width {
                label.truncate(width - 1);
                label.push('…');
            }
            let params = if r.params == 0 {
                "--".to_string()
            } else {
                thousands(r.params as u64)
            };
            let macs = if r.multiply_adds == 0 {
                "--".to_string()
            } else {
                thousands(r.multiply_adds)
            };
            writeln!(
                f,
                "{label:<width$} {:>22} {params:>15} {macs:>16}",
                shape(&r.output)
            )?;
        }
        writeln!(f, "{rule}")?;
        writeln!(
            f,
            "Input shape: {}    Output shape: {}",
            shape(&self.input),
            shape(&self.output)
        )?;
        writeln!(
            f,
            "Total mult-adds: {} ({:.2} G)",
            thousands(self.total_multiply_adds),
            self.total_multiply_adds as f64 / 1e9
        )?;
        write!(f, "Total params: {}", thousands(self.total_params as u64))
    }
}
