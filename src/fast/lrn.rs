//! Local response normalization with threads (chapter `16-fast-convolution`): the loops of
//! [`crate::lrn`], one image per task, so the results are the same bits.

use ndarray::{s, Array4, ArrayView4, Axis};
use rayon::prelude::*;

use crate::error::Result;
use crate::lrn::{lrn_backward as backward_one, lrn_forward as forward_one, LrnConfig};

/// [`crate::lrn::lrn_forward`], images in parallel.
pub fn lrn_forward(x: ArrayView4<f32>, config: LrnConfig) -> Result<(Array4<f32>, Array4<f32>)> {
    config.check()?;
    let parts: Vec<(Array4<f32>, Array4<f32>)> = (0..x.len_of(Axis(0)))
        .into_par_iter()
        .map(|n| forward_one(x.slice(s![n..n + 1, .., .., ..]), config))
        .collect::<Result<_>>()?;
    Ok(join(parts))
}

/// [`crate::lrn::lrn_backward`], images in parallel.
pub fn lrn_backward(
    x: ArrayView4<f32>,
    scale: ArrayView4<f32>,
    grad_output: ArrayView4<f32>,
    config: LrnConfig,
) -> Result<Array4<f32>> {
    if grad_output.dim() != x.dim() || scale.dim() != x.dim() {
        // The reference names the shapes.
        return backward_one(x, scale, grad_output, config);
    }
    let parts: Vec<Array4<f32>> = (0..x.len_of(Axis(0)))
        .into_par_iter()
        .map(|n| {
            let one = s![n..n + 1, .., .., ..];
            backward_one(
                x.slice(one),
                scale.slice(one),
                grad_output.slice(one),
                config,
            )
        })
        .collect::<Result<_>>()?;
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    Ok(ndarray::concatenate(Axis(0), &views).expect("same shapes"))
}

/// Stacks per-image pairs along the batch.
fn join(parts: Vec<(Array4<f32>, Array4<f32>)>) -> (Array4<f32>, Array4<f32>) {
    let ys: Vec<_> = parts.iter().map(|(y, _)| y.view()).collect();
    let ss: Vec<_> = parts.iter().map(|(_, s)| s.view()).collect();
    (
        ndarray::concatenate(Axis(0), &ys).expect("same shapes"),
        ndarray::concatenate(Axis(0), &ss).expect("same shapes"),
    )
}
