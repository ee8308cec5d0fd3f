//! Looking inside a trained network (chapter `14-visualization`): what its filters and
//! feature maps look like, which input a unit likes best, which pixels a decision rests
//! on, which images and which parts of them excite a unit, and what hiding part of an
//! image does to the answer.
//!
//! Every method works on a [`Sequential`] network in evaluation mode and names a place in
//! it by the index of a top-level layer: a unit is one output of that layer. Most methods
//! need the gradient of one unit with respect to the input image; [`forward_to`] and
//! [`backward_from`] run the network up to that layer and back again, and the ReLU layers'
//! [`ReluRule`] decides whether that gradient is plain backpropagation, DeconvNet's or
//! guided backpropagation's ([`set_relu_rule`]).
//!
//! - [`features`]: first-layer filters and every layer's feature maps.
//! - [`maximize`]: activation maximization and class model visualization (gradient ascent
//!   on the input).
//! - [`saliency`]: image-specific class saliency `|dS_c/dI|`.
//! - [`top`]: the images (and their receptive-field patches) that excite a unit most.
//! - [`deconvnet`]: Zeiler and Fergus's reconstruction, with unpooling by the switches.
//! - [`guided`]: guided backpropagation, beside plain backprop and DeconvNet.
//! - [`occlusion`]: a grey square slid over the image, and the class probability.

pub mod deconvnet;
pub mod features;
pub mod guided;
pub mod maximize;
pub mod occlusion;
pub mod saliency;
pub mod top;

use crate::error::{Error, Result};
use crate::layer::{zero_grads, Layer, Mode, Tensor};
use crate::layers::{Relu, ReluRule, Sequential};

/// One unit of a network: output `index` of top-level layer `layer`, for one image. For a
/// layer with feature maps `(N, C, H, W)` the index is `[c, row, column]`; for a layer with
/// a vector per image `(N, D)` (a fully connected layer, the class scores), it is `[d]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub layer: usize,
    pub index: Vec<usize>,
}

impl Unit {
    /// Unit `channel` at `(row, column)` of the feature maps of layer `layer`.
    pub fn at(layer: usize, channel: usize, row: usize, column: usize) -> Unit {
        Unit {
            layer,
            index: vec![channel, row, column],
        }
    }

    /// Output `d` of layer `layer`, which gives a vector per image (class scores: `d` is
    /// the class).
    pub fn output(layer: usize, d: usize) -> Unit {
        Unit {
            layer,
            index: vec![d],
        }
    }

    /// The unit's value in `output`, the output of its layer for a batch, for image `n`.
    pub fn value(&self, output: &Tensor, n: usize) -> Result<f32> {
        let mut at = vec![n];
        at.extend(&self.index);
        output.get(at.as_slice()).copied().ok_or_else(|| {
            Error::Shape(format!(
                "unit {:?} of layer {} is outside its output of shape {:?}",
                self.index,
                self.layer,
                output.shape()
            ))
        })
    }

    /// A gradient for `output` that is `scale` at this unit of image `n` and zero
    /// everywhere else: what [`backward_from`] starts from to get `d unit / d input`.
    pub fn seed(&self, output: &Tensor, n: usize, scale: f32) -> Result<Tensor> {
        self.value(output, n)?;
        let mut grad = Tensor::zeros(output.raw_dim());
        let mut at = vec![n];
        at.extend(&self.index);
        grad[at.as_slice()] = scale;
        Ok(grad)
    }
}

/// Checks that `layer` is a layer of `model`.
pub(crate) fn check_layer(model: &Sequential, layer: usize) -> Result<()> {
    if layer >= model.len() {
        return Err(Error::Invalid(format!(
            "layer {layer} asked for, but the network has {} layers (0 to {})",
            model.len(),
            model.len().saturating_sub(1)
        )));
    }
    Ok(())
}

// ANCHOR: forward_backward
/// Runs layers `0..=last` of `model` on `input` in evaluation mode and returns each one's
/// output, first layer first. Every layer remembers what its backward pass needs.
pub fn forward_to(model: &mut Sequential, input: &Tensor, last: usize) -> Result<Vec<Tensor>> {
    check_layer(model, last)?;
    let mut outputs: Vec<Tensor> = Vec::with_capacity(last + 1);
    for i in 0..=last {
        let layer = model.layer_mut(i).expect("checked above");
        let x = outputs.last().unwrap_or(input);
        let y = layer
            .forward(x, Mode::Eval)
            .map_err(|e| e.in_layer(i.to_string(), layer.name()))?;
        outputs.push(y);
    }
    Ok(outputs)
}

/// Sends `grad`, a gradient for the output of layer `last`, back through layers
/// `last..=0` (after [`forward_to`] with the same `last`) and returns the gradient for the
/// input image. The parameters' gradients are set to zero on the way (including any a
/// training step had accumulated and not yet applied).
pub fn backward_from(model: &mut Sequential, last: usize, grad: &Tensor) -> Result<Tensor> {
    check_layer(model, last)?;
    let mut g = grad.clone();
    for i in (0..=last).rev() {
        let layer = model.layer_mut(i).expect("checked above");
        g = layer
            .backward(&g)
            .map_err(|e| e.in_layer(i.to_string(), layer.name()))?;
        zero_grads(layer);
    }
    Ok(g)
}
// ANCHOR_END: forward_backward

/// `d unit / d input` for `image` (a batch of one, `(1, C, H, W)`), with every ReLU of the
/// network following `rule` on the way back; the network's rules are restored afterwards.
/// With [`ReluRule::Backprop`] this is the true gradient.
pub fn input_gradient(
    model: &mut Sequential,
    image: &Tensor,
    unit: &Unit,
    rule: ReluRule,
) -> Result<Tensor> {
    if image.ndim() != 4 || image.shape()[0] != 1 {
        return Err(Error::Shape(format!(
            "one image (1, C, H, W) expected, got shape {:?}",
            image.shape()
        )));
    }
    let outputs = forward_to(model, image, unit.layer)?;
    let seed = unit.seed(outputs.last().expect("at least one layer"), 0, 1.0)?;
    let before = set_relu_rule(model, rule);
    let grad = backward_from(model, unit.layer, &seed);
    restore_relu_rules(model, &before);
    grad
}

/// Sets the rule of every ReLU in `model` (nested ones included) and returns the rules
/// they had, in the order [`crate::model::visit_mut`] meets them.
pub fn set_relu_rule(model: &mut dyn Layer, rule: ReluRule) -> Vec<ReluRule> {
    let mut before = Vec::new();
    crate::model::visit_mut(model, &mut |_, layer| {
        if let Some(relu) = layer.downcast_mut::<Relu>() {
            before.push(relu.rule);
            relu.rule = rule;
        }
    });
    before
}

/// Gives the ReLUs of `model` back the rules [`set_relu_rule`] returned.
pub fn restore_relu_rules(model: &mut dyn Layer, rules: &[ReluRule]) {
    let mut rules = rules.iter();
    crate::model::visit_mut(model, &mut |_, layer| {
        if let Some(relu) = layer.downcast_mut::<Relu>() {
            if let Some(&rule) = rules.next() {
                relu.rule = rule;
            }
        }
    });
}

/// One image `(C, H, W)` as a batch of one `(1, C, H, W)`.
pub fn batch(image: &ndarray::Array3<f32>) -> Tensor {
    image.clone().insert_axis(ndarray::Axis(0)).into_dyn()
}

/// A network trained in this project, with the pixel statistics its inputs were
/// standardised with: the networks the chapter looks inside.
#[derive(Debug)]
pub struct Trained {
    pub name: &'static str,
    pub model: Sequential,
    pub normalisation: crate::records::Normalisation,
}

impl Trained {
    /// Chapter 9's modern LeNet (`weights/lenet.safetensors`), below the repository
    /// `root`.
    pub fn lenet(root: &std::path::Path) -> Result<Trained> {
        let mut model = crate::models::lenet(0);
        crate::checkpoint::load(&mut model, &root.join("weights/lenet.safetensors"))?;
        let normalisation = read_normalisation(
            &root.join("book/generated/09-lenet/results.json"),
            &["lenet", "normalisation"],
        )?;
        Ok(Trained {
            name: "LeNet",
            model,
            normalisation,
        })
    }

    /// Chapter 12's small ResNet (`weights/resnet-fashion.safetensors`), below the
    /// repository `root`.
    pub fn resnet(root: &std::path::Path) -> Result<Trained> {
        let mut model = crate::resnet::small_image_net(1, 16, true, 0);
        crate::checkpoint::load(&mut model, &root.join("weights/resnet-fashion.safetensors"))?;
        let normalisation = read_normalisation(
            &root.join("book/generated/12-resnet/results.json"),
            &["normalisation"],
        )?;
        Ok(Trained {
            name: "ResNet",
            model,
            normalisation,
        })
    }

    /// `data`'s images standardised as this network's training images were.
    pub fn standardise(&self, data: &crate::data::fashion_mnist::Dataset) -> ndarray::Array4<f32> {
        let crate::records::Normalisation { mean, std } = self.normalisation;
        crate::train::standardise(data, mean, std)
    }
}

/// The pixel statistics recorded at `keys` in the JSON file `path`.
fn read_normalisation(
    path: &std::path::Path,
    keys: &[&str],
) -> Result<crate::records::Normalisation> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    for key in keys {
        value = value
            .get(key)
            .cloned()
            .ok_or_else(|| Error::Data(format!("{}: no field {key:?}", path.display())))?;
    }
    serde_json::from_value(value).map_err(|e| Error::Data(format!("{}: {e}", path.display())))
}
