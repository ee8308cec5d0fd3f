//! Parameter counts of fully connected networks on images (chapter `01-fully-connected`).
//!
//! A fully connected (dense) layer joins every one of its `n_in` inputs to every one of its
//! `n_out` outputs: `n_in * n_out` weights plus one bias per output. Fed a raw image, `n_in`
//! is the number of pixel values, so the first layer grows with the *area* of the image.

use crate::shape::Volume;

// ANCHOR: dense_params
/// Parameters of a dense layer: one weight per (input, output) pair and one bias per output.
pub fn dense_params(inputs: u64, outputs: u64) -> u64 {
    checked(
        inputs
            .checked_mul(outputs)
            .and_then(|w| w.checked_add(outputs)),
    )
}

/// Parameters of a multilayer perceptron whose layer widths are `widths`
/// (input first, output last): the sum of its dense layers.
pub fn mlp_params(widths: &[u64]) -> u64 {
    widths
        .windows(2)
        .map(|pair| dense_params(pair[0], pair[1]))
        .fold(0, |total, layer| checked(total.checked_add(layer)))
}
// ANCHOR_END: dense_params

fn checked(count: Option<u64>) -> u64 {
    count.expect("parameter count does not fit in 64 bits")
}

/// A benchmark image data set and the shape of its images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImageSet {
    pub name: &'static str,
    pub image: Volume,
}

// ANCHOR: image_sets
/// The data sets the chapter compares, with their image shapes (width x height x channels).
///
/// The slides' "96x96 pixels" example counts one value per pixel, so it is listed as a
/// grey-scale STL-10 next to the real, colour one.
#[rustfmt::skip]
pub const IMAGE_SETS: [ImageSet; 5] = [
    ImageSet { name: "MNIST", image: Volume { width: 28, height: 28, depth: 1 } },
    ImageSet { name: "CIFAR-10", image: Volume { width: 32, height: 32, depth: 3 } },
    ImageSet { name: "STL-10 (grey)", image: Volume { width: 96, height: 96, depth: 1 } },
    ImageSet { name: "STL-10", image: Volume { width: 96, height: 96, depth: 3 } },
    ImageSet { name: "ImageNet", image: Volume { width: 224, height: 224, depth: 3 } },
];
// ANCHOR_END: image_sets

/// Parameters of the chapter's network on `image`: flattened input -> `hidden` -> `classes`.
pub fn image_mlp_params(image: Volume, hidden: u64, classes: u64) -> u64 {
    mlp_params(&[image.len(), hidden, classes])
}
