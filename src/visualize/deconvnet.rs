//! Zeiler and Fergus's deconvolutional network (2014): a way back from one activation to
//! the pixels, built from the network's own layers run in reverse.
//!
//! The image goes forward once; every max pooling layer records its *switches*, where
//! each window's maximum was. Then all activations of the chosen layer but one are set to
//! zero and that one is sent back, layer by layer:
//!
//! - max pooling is undone by **unpooling**: each value goes back to its switch, the rest
//!   of the window stays zero (an approximate inverse: what the maximum hid is lost);
//! - a ReLU is undone by **rectifying**: the reconstruction is kept non-negative;
//! - a convolution is undone by the **transposed filters**: every value paints its filter,
//!   scaled by the value, on the patch the filter read (no bias);
//! - flattening is undone by reshaping, a fully connected layer by its transposed weights.
//!
//! The picture that arrives shows which pattern in the input the activation responded to.
//! Written this way the reconstruction is the backward pass of the network with one
//! change: ReLUs pass the signal where the *signal* is positive
//! ([`crate::layers::ReluRule::Deconvnet`]); the tests hold the two equal.

use ndarray::{Array3, Array4, ArrayView2, ArrayView4, Axis, Ix2, Ix4};

use super::{batch, forward_to, Unit};
use crate::conv::Conv2dConfig;
use crate::error::{Error, Result};
use crate::layer::Tensor;
use crate::layers::{Conv2d, Flatten, Linear, MaxPool2d, Relu, Sequential};

// ANCHOR: unpool
/// Unpooling: a zero map of `input_shape` with each pooled value put back at its switch.
pub fn unpool(
    pooled: ArrayView4<f32>,
    switches: ArrayView4<(u32, u32)>,
    input_shape: (usize, usize, usize, usize),
) -> Result<Array4<f32>> {
    crate::pool::check_switches(pooled.dim(), switches, input_shape)?;
    let mut maps = Array4::zeros(input_shape);
    for ((n, c, i, j), &(row, col)) in switches.indexed_iter() {
        // Overlapping windows can share a switch: their values add up there.
        maps[[n, c, row as usize, col as usize]] += pooled[[n, c, i, j]];
    }
    Ok(maps)
}
// ANCHOR_END: unpool

// ANCHOR: rectify
/// Rectification: the reconstruction passes a ReLU as the activations did, kept >= 0.
pub fn rectify(maps: &Tensor) -> Tensor {
    maps.mapv(|v| v.max(0.0))
}
// ANCHOR_END: rectify

// ANCHOR: transposed_conv
/// The transposed convolution: maps `(N, K, H', W')` back to `input_shape` `(N, C, H, W)`
/// through filters `(K, C, F, F)` applied with `config`. Each value paints its filter,
/// scaled by the value, on the patch of the input that the filter read.
pub fn transposed_conv(
    maps: ArrayView4<f32>,
    filters: ArrayView4<f32>,
    config: Conv2dConfig,
    input_shape: (usize, usize, usize, usize),
) -> Result<Array4<f32>> {
    let (n_, k_, h_out, w_out) = maps.dim();
    let (k2, c_, f, f2) = filters.dim();
    let (n2, c2, h, w) = input_shape;
    if k_ != k2 || n_ != n2 || c_ != c2 || f != f2 {
        return Err(Error::Shape(format!(
            "transposed convolution: maps {:?}, filters {:?} and input {input_shape:?} do not \
             belong together",
            maps.dim(),
            filters.dim()
        )));
    }
    // The maps must be what the convolution gives for this input (chapter 2's formula).
    let expected = |length: usize| {
        (length + 2 * config.padding)
            .checked_sub(f)
            .map(|d| d / config.stride.max(1) + 1)
    };
    if config.stride == 0 || expected(h) != Some(h_out) || expected(w) != Some(w_out) {
        return Err(Error::Shape(format!(
            "transposed convolution: maps of {h_out} x {w_out} cannot come from a {h} x {w} \
             input through {f} x {f} filters with stride {} and padding {}",
            config.stride, config.padding
        )));
    }
    let (s, p) = (config.stride, config.padding as isize);
    let mut out = Array4::zeros(input_shape);
    for n in 0..n_ {
        for k in 0..k_ {
            for i in 0..h_out {
                for j in 0..w_out {
                    let value = maps[[n, k, i, j]];
                    for c in 0..c_ {
                        for u in 0..f {
                            for v in 0..f {
                                // The input pixel filter tap (u, v) read for output (i, j).
                                let row = (i * s + u) as isize - p;
                                let col = (j * s + v) as isize - p;
                                if (0..h as isize).contains(&row) && (0..w as isize).contains(&col)
                                {
                                    out[[n, c, row as usize, col as usize]] +=
                                        value * filters[[k, c, u, v]];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}
// ANCHOR_END: transposed_conv

/// `t` as images `(N, C, H, W)`, or an error naming what it was for.
fn as4<'a>(t: &'a Tensor, what: &str) -> Result<ArrayView4<'a, f32>> {
    t.view().into_dimensionality::<Ix4>().map_err(|_| {
        Error::Shape(format!(
            "{what}: expected (N, C, H, W), got {:?}",
            t.shape()
        ))
    })
}

/// `t` as vectors `(N, D)`, or an error naming what it was for.
fn as2<'a>(t: &'a Tensor, what: &str) -> Result<ArrayView2<'a, f32>> {
    t.view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| Error::Shape(format!("{what}: expected (N, D), got {:?}", t.shape())))
}

// ANCHOR: reconstruct
/// Zeiler and Fergus's reconstruction of `unit` for `image` `(C, H, W)`: every other
/// activation of the unit's layer set to zero, the unit's own value sent back through
/// unpooling, rectification and transposed filters (and, above the feature maps, transposed
/// fully connected layers). `model` may hold convolutions, ReLUs, max pooling, flattening
/// and fully connected layers.
pub fn reconstruct(
    model: &mut Sequential,
    image: &Array3<f32>,
    unit: &Unit,
) -> Result<Array3<f32>> {
    let input = batch(image);
    let outputs = forward_to(model, &input, unit.layer)?;
    let top = outputs.last().expect("at least one layer");
    let mut signal = unit.seed(top, 0, unit.value(top, 0)?)?;
    for i in (0..=unit.layer).rev() {
        let below = if i == 0 { &input } else { &outputs[i - 1] };
        let layer = model.layer(i).expect("forward_to checked the index");
        signal = if let Some(pool) = layer.downcast_ref::<MaxPool2d>() {
            let switches = pool
                .switches
                .as_ref()
                .expect("the forward pass recorded them");
            unpool(
                as4(&signal, "unpool")?,
                switches.view(),
                as4(below, "unpool")?.dim(),
            )?
            .into_dyn()
        } else if layer.downcast_ref::<Relu>().is_some() {
            rectify(&signal)
        } else if let Some(conv) = layer.downcast_ref::<Conv2d>() {
            let w = as4(&conv.weight.value, "filters")?;
            transposed_conv(
                as4(&signal, "deconv")?,
                w,
                conv.config,
                as4(below, "deconv")?.dim(),
            )?
            .into_dyn()
        } else if layer.downcast_ref::<Flatten>().is_some() {
            signal
                .as_standard_layout()
                .into_owned()
                .into_shape_with_order(below.raw_dim())
                .map_err(|e| Error::Shape(format!("unflatten: {e}")))?
        } else if let Some(linear) = layer.downcast_ref::<Linear>() {
            // (N, D_out) x (D_out, D_in): the transposed weights.
            let w = as2(&linear.weight.value, "weights")?;
            as2(&signal, "linear")?.dot(&w).into_dyn()
        } else {
            return Err(Error::Invalid(format!(
                "DeconvNet reconstructs through convolutions, ReLUs, max pooling, flattening \
                 and fully connected layers; layer {i} is {}",
                layer.name()
            )));
        };
    }
    Ok(as4(&signal, "image")?.index_axis(Axis(0), 0).to_owned())
}
// ANCHOR_END: reconstruct
