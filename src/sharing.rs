//! Neuron and parameter counts of locally connected and convolutional layers
//! (chapter `03-parameter-sharing`).
//!
//! A *locally connected* layer gives every output neuron its own weights over its
//! receptive field. A *convolutional* layer makes all neurons of one depth slice share
//! one filter, because the statistics of natural images are stationary: a feature worth
//! detecting in one place is worth detecting everywhere. Krizhevsky, Sutskever & Hinton,
//! "ImageNet Classification with Deep Convolutional Neural Networks" (NIPS 2012) supplies
//! the running example.

use crate::error::Error;
use crate::shape::{ConvGeometry, Volume};

// ANCHOR: layer_counts
/// Counts for one layer of `F x F` windows over a `W x H x D` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LayerCounts {
    /// The output volume `W' x H' x K`.
    pub output: Volume,
    /// Neurons in the output volume: `W' * H' * K`.
    pub neurons: u64,
    /// Weights of one neuron: `F * F * D` (the window spans the full input depth).
    pub weights_per_neuron: u64,
    /// Weights plus the bias: `F * F * D + 1`.
    pub params_per_neuron: u64,
    /// Locally connected, nothing shared: every neuron has its own parameters.
    pub unshared_params: u64,
    /// Convolutional: one set of parameters per filter, shared across positions.
    pub shared_params: u64,
}

/// Neurons and parameters of a layer with `geometry` applied to `input`.
pub fn layer_counts(input: Volume, geometry: ConvGeometry) -> Result<LayerCounts, Error> {
    let output = geometry.output(input)?;
    let neurons = output.checked_len().ok_or(Error::Overflow {
        what: "neuron count",
    })?;
    let weights_per_neuron = mul(
        mul(geometry.field as u64, geometry.field as u64)?,
        input.depth as u64,
    )?;
    let params_per_neuron = weights_per_neuron + 1;
    Ok(LayerCounts {
        output,
        neurons,
        weights_per_neuron,
        params_per_neuron,
        unshared_params: mul(neurons, params_per_neuron)?,
        shared_params: mul(geometry.filters as u64, params_per_neuron)?,
    })
}
// ANCHOR_END: layer_counts

fn mul(a: u64, b: u64) -> Result<u64, Error> {
    a.checked_mul(b).ok_or(Error::Overflow {
        what: "parameter count",
    })
}

// ANCHOR: alexnet
/// AlexNet's first convolutional layer: 96 filters of 11x11, stride 4, no padding.
pub const ALEXNET_CONV1: ConvGeometry = ConvGeometry {
    field: 11,
    stride: 4,
    padding: 0,
    filters: 96,
};

/// The input size that makes AlexNet's first layer work: 227x227x3.
pub const ALEXNET_INPUT: Volume = Volume {
    width: 227,
    height: 227,
    depth: 3,
};
// ANCHOR_END: alexnet

/// The input size printed in the AlexNet paper (Section 3.5 and Figure 2): 224x224x3.
pub const ALEXNET_PAPER_INPUT: Volume = Volume {
    width: 224,
    height: 224,
    depth: 3,
};

/// The first-layer neuron count printed in the AlexNet paper (Section 3.5).
pub const ALEXNET_PAPER_CONV1_NEURONS: u64 = 253_440;

/// Input widths in `range` for which a window tiles exactly: `(W - F + 2P)` divisible by `S`.
pub fn tiling_widths(
    range: std::ops::RangeInclusive<usize>,
    field: usize,
    padding: usize,
    stride: usize,
) -> Vec<usize> {
    range
        .filter(|&w| crate::shape::conv_output_size(w, field, padding, stride).is_ok())
        .collect()
}
