//! Reference solutions for chapter 14 (compiled with `--features solutions`).

use std::ops::Range;

use cnn_book::layers::ReluRule;
use ndarray::Array2;

pub fn finite_difference_saliency(
    score: &dyn Fn(&Array2<f32>) -> f32,
    image: &Array2<f32>,
    h: f32,
) -> Array2<f32> {
    Array2::from_shape_fn(image.dim(), |p| {
        let (mut plus, mut minus) = (image.clone(), image.clone());
        plus[p] += h;
        minus[p] -= h;
        ((score(&plus) - score(&minus)) / (2.0 * h)).abs()
    })
}

pub fn receptive_patch(
    layers: &[(usize, usize, usize)],
    row: usize,
    col: usize,
    height: usize,
    width: usize,
) -> (Range<usize>, Range<usize>) {
    let (mut size, mut jump, mut start) = (1i64, 1i64, 0i64);
    for &(field, padding, stride) in layers {
        size += (field as i64 - 1) * jump;
        start -= padding as i64 * jump;
        jump *= stride as i64;
    }
    let span = |i: usize, length: usize| {
        let from = start + i as i64 * jump;
        let clip = |v: i64| v.clamp(0, length as i64) as usize;
        clip(from)..clip(from + size)
    };
    (span(row, height), span(col, width))
}

pub fn relu_backward(rule: ReluRule, forward_input: &[f32], signal: &[f32]) -> Vec<f32> {
    forward_input
        .iter()
        .zip(signal)
        .map(|(&x, &g)| {
            let pass = match rule {
                ReluRule::Backprop => x > 0.0,
                ReluRule::Deconvnet => g > 0.0,
                ReluRule::Guided => x > 0.0 && g > 0.0,
            };
            if pass {
                g
            } else {
                0.0
            }
        })
        .collect()
}
