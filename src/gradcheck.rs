//! Gradient checking: compare a layer's backward pass with central finite differences
//! (chapter `08-backprop`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::layer::{Layer, Mode, Tensor};
use crate::model::{named_params, visit_params_mut};

// ANCHOR: report
/// The worst disagreement found between analytic and numerical gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct GradReport {
    /// Where: `"input"` or a parameter's full name, and the entry.
    pub worst: String,
    /// Largest relative error `|a - n| / max(|a| + |n|, 1e-3)` over the checked entries.
    pub max_relative_error: f64,
    /// How many entries were compared.
    pub checked: usize,
}
// ANCHOR_END: report

// ANCHOR: gradcheck
/// Checks `layer`'s backward pass at `input` in `mode`: the loss is `L = sum(output * r)`
/// for a fixed random `r`, so `dL/doutput = r`; every input entry and every parameter
/// entry (up to `max_per_tensor` of each, chosen at random) is nudged by `+-eps` and the
/// central difference `(L(+eps) - L(-eps)) / 2 eps` is compared with the backward pass.
/// The loss is accumulated in `f64` so that the difference is not lost to rounding.
pub fn check_gradients(
    layer: &mut dyn Layer,
    input: &Tensor,
    mode: Mode,
    eps: f32,
    max_per_tensor: usize,
    seed: u64,
) -> Result<GradReport> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Flat indices below address standard (row-major) layouts.
    let input = &input.as_standard_layout().into_owned();
    let output = layer.forward(input, mode)?;
    let r = Tensor::from_shape_simple_fn(output.raw_dim(), || rng.random_range(-1.0f32..1.0));
    crate::layer::zero_grads(layer);
    let grad_input = layer.backward(&r)?;
    let analytic: Vec<(String, Tensor)> = std::iter::once(("input".to_string(), grad_input))
        .chain(
            named_params(layer)
                .into_iter()
                .map(|(name, p)| (name, p.grad.clone())),
        )
        .map(|(name, g)| (name, g.as_standard_layout().into_owned()))
        .collect();

    let loss = |layer: &mut dyn Layer, x: &Tensor| -> Result<f64> {
        let y = layer.forward(x, mode)?;
        Ok(y.iter()
            .zip(r.iter())
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum())
    };
    // Adds `delta` to entry `idx` of the parameter called `name`.
    let nudge_param = |layer: &mut dyn Layer, name: &str, idx: usize, delta: f32| {
        visit_params_mut(layer, &mut |full, p| {
            if full == name {
                p.value.as_slice_mut().expect("standard layout")[idx] += delta;
            }
        });
    };
    let mut report = GradReport {
        worst: String::new(),
        max_relative_error: 0.0,
        checked: 0,
    };
    for (name, grad) in &analytic {
        let len = grad.len();
        let picks: Vec<usize> = if len <= max_per_tensor {
            (0..len).collect()
        } else {
            (0..max_per_tensor)
                .map(|_| rng.random_range(0..len))
                .collect()
        };
        for idx in picks {
            let at = |delta: f32, layer: &mut dyn Layer| -> Result<f64> {
                if name == "input" {
                    let mut x = input.clone();
                    x.as_slice_mut().expect("standard layout")[idx] += delta;
                    loss(layer, &x)
                } else {
                    nudge_param(layer, name, idx, delta);
                    let l = loss(layer, input);
                    nudge_param(layer, name, idx, -delta);
                    l
                }
            };
            let numeric = (at(eps, layer)? - at(-eps, layer)?) / (2.0 * eps as f64);
            let a = grad.as_slice().expect("standard layout")[idx] as f64;
            let rel = (a - numeric).abs() / (a.abs() + numeric.abs()).max(1e-3);
            report.checked += 1;
            if rel > report.max_relative_error {
                report.max_relative_error = rel;
                report.worst = format!("{name} [{idx}]: backward {a:.6}, numeric {numeric:.6}");
            }
        }
    }
    Ok(report)
}
// ANCHOR_END: gradcheck
