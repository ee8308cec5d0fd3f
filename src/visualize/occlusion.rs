//! Occlusion sensitivity (Zeiler and Fergus, 2014, Figure 7): cover part of the image with
//! a square and see what the network makes of what is left. Slid over every position, the
//! square draws a map of where the evidence for the class is: where covering the image
//! makes the correct class's probability fall, the network was looking. The same run gives
//! a map for any feature map inside the network: how much of its activity the square takes
//! away.

use ndarray::{s, Array2, Array3, Array4, Axis, Ix2, Ix4};

use super::{check_layer, forward_to};
use crate::error::{Error, Result};
use crate::layers::Sequential;
use crate::loss::softmax;

/// The square: `size x size` pixels set to `fill`, moved by `stride` pixels at a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occluder {
    pub size: usize,
    pub stride: usize,
    /// The value the covered pixels take: Zeiler and Fergus's grey is the mean pixel,
    /// which is 0 in standardised images.
    pub fill: f32,
}

impl Occluder {
    /// The positions along a side of `length` pixels: `0, stride, ...` while the square
    /// fits.
    pub fn positions(&self, length: usize) -> Result<usize> {
        if self.size == 0 {
            return Err(Error::Invalid(
                "an occluder of 0 x 0 pixels hides nothing".into(),
            ));
        }
        if self.stride == 0 {
            return Err(Error::Invalid(
                "the occluder must move by at least 1 pixel".into(),
            ));
        }
        if self.size > length {
            return Err(Error::Invalid(format!(
                "an occluder of {0} x {0} pixels does not fit an image side of {length}",
                self.size
            )));
        }
        Ok((length - self.size) / self.stride + 1)
    }
}

// ANCHOR: occlude
/// `image` `(C, H, W)` with the square's top-left corner at `(row, column)`; the part of
/// the square outside the image is dropped.
pub fn occlude(image: &Array3<f32>, row: usize, column: usize, occluder: Occluder) -> Array3<f32> {
    let mut covered = image.clone();
    let (_, h, w) = image.dim();
    let (r0, c0) = (row.min(h), column.min(w));
    let (r1, c1) = (
        (row + occluder.size).min(h),
        (column + occluder.size).min(w),
    );
    covered
        .slice_mut(s![.., r0..r1, c0..c1])
        .fill(occluder.fill);
    covered
}
// ANCHOR_END: occlude

/// What an occlusion run found.
#[derive(Debug, Clone)]
pub struct Occlusion {
    /// The class's probability without the square.
    pub base: f32,
    /// The class's probability with the square at `(i stride, j stride)`, at `[i, j]`.
    pub probability: Array2<f32>,
    /// The most probable class with the square there.
    pub predicted: Array2<usize>,
    /// The feature map's total activity (the sum of its values) with the square there, if
    /// one was asked for, and without the square.
    pub feature: Option<(Array2<f32>, f32)>,
}

// ANCHOR: occlusion
/// Slides `occluder` over `image` `(C, H, W)` (its top-left corner at `0, stride, ...`
/// while the square fits, so up to `stride - 1` rows and columns at the far edges are
/// never covered) and records the softmax probability of
/// `class` at every position, and, if `feature` is `Some((layer, channel))`, the total
/// activity of that feature map. The occluded images go through the network `batch` at a
/// time, in evaluation mode.
pub fn occlusion(
    model: &mut Sequential,
    image: &Array3<f32>,
    class: usize,
    occluder: Occluder,
    feature: Option<(usize, usize)>,
    batch: usize,
) -> Result<Occlusion> {
    let (c, h, w) = image.dim();
    let (rows, cols) = (occluder.positions(h)?, occluder.positions(w)?);
    if batch == 0 {
        return Err(Error::Invalid("the batch size must be at least 1".into()));
    }
    let last = model
        .len()
        .checked_sub(1)
        .ok_or_else(|| Error::Invalid("the network has no layers".into()))?;
    if let Some((layer, _)) = feature {
        check_layer(model, layer)?;
    }
    // Image 0 is the unoccluded one; image 1 + i cols + j has the square at (i, j).
    let count = 1 + rows * cols;
    let mut images = Array4::zeros((count, c, h, w));
    images.index_axis_mut(Axis(0), 0).assign(image);
    for i in 0..rows {
        for j in 0..cols {
            let covered = occlude(image, i * occluder.stride, j * occluder.stride, occluder);
            images
                .index_axis_mut(Axis(0), 1 + i * cols + j)
                .assign(&covered);
        }
    }
    let (mut probs, mut winners, mut activity) = (Vec::new(), Vec::new(), Vec::new());
    for chunk in images.axis_chunks_iter(Axis(0), batch) {
        let outputs = forward_to(model, &chunk.to_owned().into_dyn(), last)?;
        let scores = outputs[last]
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| Error::Invalid("the network's last layer gives no class scores".into()))?;
        if class >= scores.ncols() {
            return Err(Error::Invalid(format!(
                "class {class} asked for, the network has {} classes",
                scores.ncols()
            )));
        }
        let p = softmax(&scores.to_owned());
        probs.extend(p.column(class).iter().copied());
        winners.extend(crate::loss::argmax_rows(&p));
        if let Some((layer, channel)) = feature {
            let maps = outputs[layer]
                .view()
                .into_dimensionality::<Ix4>()
                .map_err(|_| Error::Invalid(format!("layer {layer} gives no feature maps")))?;
            if channel >= maps.shape()[1] {
                return Err(Error::Invalid(format!(
                    "layer {layer} has {} feature maps; {channel} asked for",
                    maps.shape()[1]
                )));
            }
            activity.extend(
                maps.index_axis(Axis(1), channel)
                    .outer_iter()
                    .map(|m| m.sum()),
            );
        }
    }
    let grid = |v: &[f32]| Array2::from_shape_vec((rows, cols), v[1..].to_vec()).expect("sizes");
    Ok(Occlusion {
        base: probs[0],
        probability: grid(&probs),
        predicted: Array2::from_shape_vec((rows, cols), winners[1..].to_vec()).expect("sizes"),
        feature: feature.map(|_| (grid(&activity), activity[0])),
    })
}
// ANCHOR_END: occlusion

/// The feature map of top-level layer `layer` with the largest single activation for
/// `image` `(C, H, W)`: Zeiler and Fergus's "strongest feature map".
pub fn strongest_map(model: &mut Sequential, image: &Array3<f32>, layer: usize) -> Result<usize> {
    let outputs = forward_to(model, &super::batch(image), layer)?;
    let maps = outputs[layer]
        .view()
        .into_dimensionality::<Ix4>()
        .map_err(|_| Error::Invalid(format!("layer {layer} gives no feature maps")))?;
    let mut best = (f32::NEG_INFINITY, 0);
    for (k, map) in maps.index_axis(Axis(0), 0).outer_iter().enumerate() {
        let top = map.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        if top > best.0 {
            best = (top, k);
        }
    }
    Ok(best.1)
}
