//! Gradient checking: compare a layer's backward pass with central finite differences
//! (chapter `08-backprop`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::ShapeError;
use crate::layer::{Layer, Mode, Tensor};

// ANCHOR: report
/// The worst disagreement found between analytic and numerical gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct GradReport {
    /// What was checked: `"input"` or a parameter's name.
    pub worst: String,
    /// Largest relative error `|a - n| / max(|a| + |n|, 1e-3)` over the checked entries.
    pub max_relative_error: f64,
    /// How many entries were compared.
    pub checked: usize,
}
// ANCHOR_END: report

// ANCHOR: gradcheck
/// Checks `layer`'s backward pass at `input`: the loss is `L = sum(output * r)` for a fixed
/// random `r`, so `dL/doutput = r`; every input entry and every parameter entry (up to
/// `max_per_tensor` of each, chosen at random) is nudged by `+-eps` and the central
/// difference `(L(+eps) - L(-eps)) / 2 eps` is compared with the backward pass. The loss
/// is accumulated in `f64` so that the difference is not lost to rounding.
pub fn check_gradients(
    layer: &mut dyn Layer,
    input: &Tensor,
    eps: f32,
    max_per_tensor: usize,
    seed: u64,
) -> Result<GradReport, ShapeError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Flat indices below address standard (row-major) layouts.
    let input = &input.as_standard_layout().into_owned();
    let output = layer.forward(input, Mode::Train)?;
    let r = Tensor::from_shape_simple_fn(output.raw_dim(), || rng.random_range(-1.0f32..1.0));
    for p in layer.params_mut() {
        p.grad.fill(0.0);
    }
    let grad_input = layer.backward(&r)?;
    let analytic: Vec<(String, Tensor)> = std::iter::once(("input".to_string(), grad_input))
        .chain(
            layer
                .params()
                .iter()
                .map(|p| (p.name.clone(), p.grad.clone())),
        )
        .map(|(name, g)| (name, g.as_standard_layout().into_owned()))
        .collect();

    let loss = |layer: &mut dyn Layer, x: &Tensor| -> Result<f64, ShapeError> {
        let y = layer.forward(x, Mode::Train)?;
        Ok(y.iter()
            .zip(r.iter())
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum())
    };
    let mut report = GradReport {
        worst: String::new(),
        max_relative_error: 0.0,
        checked: 0,
    };
    for (t, (name, grad)) in analytic.iter().enumerate() {
        let len = grad.len();
        let picks: Vec<usize> = if len <= max_per_tensor {
            (0..len).collect()
        } else {
            (0..max_per_tensor)
                .map(|_| rng.random_range(0..len))
                .collect()
        };
        for idx in picks {
            let numeric = {
                let nudge = |delta: f32, layer: &mut dyn Layer| -> Result<f64, ShapeError> {
                    if t == 0 {
                        let mut x = input.clone();
                        x.as_slice_mut().expect("standard layout")[idx] += delta;
                        loss(layer, &x)
                    } else {
                        let param = &mut layer.params_mut()[t - 1].value;
                        param.as_slice_mut().expect("standard layout")[idx] += delta;
                        let l = loss(layer, input);
                        layer.params_mut()[t - 1]
                            .value
                            .as_slice_mut()
                            .expect("standard layout")[idx] -= delta;
                        l
                    }
                };
                (nudge(eps, layer)? - nudge(-eps, layer)?) / (2.0 * eps as f64)
            };
            let a = grad.as_slice().expect("standard layout")[idx] as f64;
            let rel = (a - numeric).abs() / (a.abs() + numeric.abs()).max(1e-3);
            report.checked += 1;
            if rel > report.max_relative_error {
                report.max_relative_error = rel;
                report.worst =
                    format!("{name} (tensor {t}) [{idx}]: backward {a:.6}, numeric {numeric:.6}");
            }
        }
    }
    Ok(report)
}
// ANCHOR_END: gradcheck
