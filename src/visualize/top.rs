//! Top activations: for one feature map of a higher layer, the images of a data set that
//! excite it most, each cut down to the receptive field of its strongest unit: the patch of
//! pixels that unit could see (Zeiler and Fergus, 2014, Figure 2; Girshick et al., 2014).
//! Where the filters themselves cannot be drawn (they act on feature maps, not pixels),
//! the patches show what a unit responds to.

use std::ops::Range;

use ndarray::{s, Array4, ArrayView4, Axis, Ix4};

use super::{check_layer, forward_to};
use crate::error::{Error, Result};
use crate::layer::Layer;
use crate::layers::{
    AlphaDropout, AvgPool2d, BatchNorm2d, Conv2d, Dropout, LocalResponseNorm, MaxPool2d, Relu,
    Residual, Selu, Sequential, Sigmoid, Tanh,
};
use crate::shape::{receptive_field, Window};

/// One of the images that excite a feature map most.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The image's index in the data set.
    pub image: usize,
    /// The feature map's largest value on this image, and where it is.
    pub value: f32,
    pub row: usize,
    pub column: usize,
    /// The receptive field of that unit in the image, clipped to the image.
    pub rows: Range<usize>,
    pub columns: Range<usize>,
}

// ANCHOR: windows
/// The sliding windows of `layer` along one spatial dimension, in order: a convolution or
/// a pooling layer is one; element-wise layers (activations, batch normalization, LRN,
/// dropout) are none; a residual block has its body's (its shortcut sees no more).
pub fn windows(layer: &dyn Layer) -> Result<Vec<Window>> {
    if let Some(conv) = layer.downcast_ref::<Conv2d>() {
        let w = conv.weight.value.shape();
        if w[2] != w[3] {
            return Err(Error::Invalid(format!(
                "{} has non-square filters",
                conv.name()
            )));
        }
        return Ok(vec![Window::new(
            w[2],
            conv.config.padding,
            conv.config.stride,
        )?]);
    }
    if let Some(pool) = layer.downcast_ref::<MaxPool2d>() {
        let c = pool.config;
        return Ok(vec![Window::new(c.field, c.padding, c.stride)?]);
    }
    if let Some(pool) = layer.downcast_ref::<AvgPool2d>() {
        let c = pool.config;
        return Ok(vec![Window::new(c.field, c.padding, c.stride)?]);
    }
    if let Some(seq) = layer.downcast_ref::<Sequential>() {
        let mut all = Vec::new();
        for i in 0..seq.len() {
            all.extend(windows(seq.layer(i).expect("in range"))?);
        }
        return Ok(all);
    }
    if let Some(block) = layer.downcast_ref::<Residual>() {
        return windows(&block.body);
    }
    let elementwise = layer.downcast_ref::<Relu>().is_some()
        || layer.downcast_ref::<Selu>().is_some()
        || layer.downcast_ref::<AlphaDropout>().is_some()
        || layer.downcast_ref::<Tanh>().is_some()
        || layer.downcast_ref::<Sigmoid>().is_some()
        || layer.downcast_ref::<BatchNorm2d>().is_some()
        || layer.downcast_ref::<LocalResponseNorm>().is_some()
        || layer.downcast_ref::<Dropout>().is_some();
    if elementwise {
        return Ok(Vec::new());
    }
    Err(Error::Invalid(format!(
        "the receptive field through {} is not known here (a layer that mixes all \
         positions, such as flattening, has none: every unit after it sees the whole image)",
        layer.name()
    )))
}
// ANCHOR_END: windows

// ANCHOR: patch
/// The pixels of an `height x width` image that unit `(row, column)` of top-level layer
/// `layer`'s output can see: its receptive field (chapter 2), clipped to the image.
pub fn receptive_patch(
    model: &Sequential,
    layer: usize,
    (row, column): (usize, usize),
    (height, width): (usize, usize),
) -> Result<(Range<usize>, Range<usize>)> {
    check_layer(model, layer)?;
    let mut all = Vec::new();
    for i in 0..=layer {
        all.extend(windows(model.layer(i).expect("checked"))?);
    }
    // The unit must be one the layer has: its output size, by chapter 2's formula.
    let outputs = |length: usize| {
        all.iter().try_fold(length, |n, w| {
            (n + 2 * w.padding)
                .checked_sub(w.field)
                .map(|d| d / w.stride + 1)
        })
    };
    match (outputs(height), outputs(width)) {
        (Some(h), Some(w)) if row < h && column < w => {}
        (h, w) => {
            return Err(Error::Invalid(format!(
                "unit ({row}, {column}) asked for, but layer {layer} gives {h:?} x {w:?} \
                 outputs for a {height} x {width} image"
            )))
        }
    }
    let rf = receptive_field(&all)?;
    let clip = |span: Range<i64>, size: usize| {
        let start = span.start.clamp(0, size as i64) as usize;
        let end = span.end.clamp(0, size as i64) as usize;
        start..end
    };
    Ok((clip(rf.span(row), height), clip(rf.span(column), width)))
}
// ANCHOR_END: patch

// ANCHOR: top_activations
/// The `k` images of `images` `(N, C, H, W)` on which feature map `channel` of top-level
/// layer `layer` reaches its largest values, strongest first (an image counts once, by its
/// strongest unit; ties go to the earlier image), with each unit's receptive field. The
/// images go through the network `batch` at a time, in evaluation mode.
pub fn top_activations(
    model: &mut Sequential,
    images: ArrayView4<f32>,
    layer: usize,
    channel: usize,
    k: usize,
    batch: usize,
) -> Result<Vec<Hit>> {
    let maps = layer_outputs(model, images, layer, batch)?;
    let (_, _, height, width) = images.dim();
    top_in_maps(model, maps.view(), layer, channel, k, (height, width))
}

/// [`top_activations`] on maps already computed: `maps` `(N, K, H', W')` are the outputs
/// of top-level layer `layer` for `N` images of `height x width` pixels.
pub fn top_in_maps(
    model: &Sequential,
    maps: ArrayView4<f32>,
    layer: usize,
    channel: usize,
    k: usize,
    (height, width): (usize, usize),
) -> Result<Vec<Hit>> {
    if channel >= maps.shape()[1] {
        return Err(Error::Invalid(format!(
            "layer {layer} has {} feature maps; {channel} asked for",
            maps.shape()[1]
        )));
    }
    let mut best: Vec<(usize, f32, usize, usize)> = Vec::with_capacity(maps.shape()[0]);
    for (n, map) in maps.slice(s![.., channel, .., ..]).outer_iter().enumerate() {
        // The strongest unit of this image's map (the first, if several tie).
        let mut top = (f32::NEG_INFINITY, 0, 0);
        for ((i, j), &v) in map.indexed_iter() {
            if v > top.0 {
                top = (v, i, j);
            }
        }
        best.push((n, top.0, top.1, top.2));
    }
    // Strongest first; `sort_by` is stable, so ties keep the images' order.
    best.sort_by(|a, b| b.1.total_cmp(&a.1));
    best.into_iter()
        .take(k)
        .map(|(image, value, row, column)| {
            let (rows, columns) = receptive_patch(model, layer, (row, column), (height, width))?;
            Ok(Hit {
                image,
                value,
                row,
                column,
                rows,
                columns,
            })
        })
        .collect()
}
// ANCHOR_END: top_activations

/// The outputs of top-level layer `layer` of `model` for every image of `images`
/// `(N, C, H, W)`, which go through the network `batch` at a time in evaluation mode; the
/// layer must give feature maps.
pub fn layer_outputs(
    model: &mut Sequential,
    images: ArrayView4<f32>,
    layer: usize,
    batch: usize,
) -> Result<Array4<f32>> {
    if batch == 0 {
        return Err(Error::Invalid("the batch size must be at least 1".into()));
    }
    let mut chunks = Vec::new();
    for chunk in images.axis_chunks_iter(Axis(0), batch) {
        let outputs = forward_to(model, &chunk.to_owned().into_dyn(), layer)?;
        let maps = outputs
            .into_iter()
            .last()
            .expect("one layer at least")
            .into_dimensionality::<Ix4>()
            .map_err(|_| Error::Invalid(format!("layer {layer} gives no feature maps")))?;
        chunks.push(maps);
    }
    let views: Vec<_> = chunks.iter().map(|c| c.view()).collect();
    ndarray::concatenate(Axis(0), &views)
        .map_err(|e| Error::Shape(format!("the batches' outputs do not stack: {e}")))
}
