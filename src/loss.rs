//! Softmax cross-entropy, computed stably (chapter `08-backprop`).

use ndarray::{Array2, Axis};

use crate::error::Error;

// ANCHOR: softmax_cross_entropy
/// The mean cross-entropy of `softmax(logits)` against integer `labels`, and its gradient
/// with respect to the logits.
///
/// - `logits`: `(N, K)` scores; `labels`: `N` classes in `0..K`
/// - returns `(loss, dL/dlogits)` with `dL/dlogits = (softmax(logits) - onehot(labels)) / N`
///
/// The softmax subtracts each row's maximum before exponentiating (the log-sum-exp trick),
/// so large logits do not overflow: the result is the same, since softmax is unchanged by
/// adding a constant to every score.
pub fn softmax_cross_entropy(
    logits: &Array2<f32>,
    labels: &[usize],
) -> Result<(f32, Array2<f32>), Error> {
    let (n, k) = logits.dim();
    if labels.len() != n {
        return Err(Error::Shape(format!(
            "{n} rows of logits but {} labels",
            labels.len()
        )));
    }
    if let Some(&bad) = labels.iter().find(|&&l| l >= k) {
        return Err(Error::Shape(format!(
            "label {bad} is not one of the {k} classes"
        )));
    }
    if n == 0 {
        // The mean over no examples would be 0 / 0.
        return Err(Error::Shape(
            "an empty batch (0 rows of logits) has no mean loss".into(),
        ));
    }
    let mut probs = logits.clone();
    let mut loss = 0.0f64;
    for (mut row, &label) in probs.axis_iter_mut(Axis(0)).zip(labels) {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let shifted_label = row[label] - max;
        row.mapv_inplace(|v| (v - max).exp());
        let sum: f32 = row.sum();
        // -log softmax[label] = log(sum_j e^(z_j - max)) - (z_label - max): finite even
        // when e^(z_label - max) underflows to zero.
        loss += (sum.ln() - shifted_label) as f64;
        row /= sum;
    }
    let mut grad = probs;
    for (mut row, &label) in grad.axis_iter_mut(Axis(0)).zip(labels) {
        row[label] -= 1.0;
    }
    grad /= n as f32;
    Ok(((loss / n as f64) as f32, grad))
}
// ANCHOR_END: softmax_cross_entropy

/// The softmax of each row of `logits`: the class probabilities, computed after
/// subtracting the row's maximum as [`softmax_cross_entropy`] does.
pub fn softmax(logits: &Array2<f32>) -> Array2<f32> {
    let mut probs = logits.clone();
    for mut row in probs.axis_iter_mut(Axis(0)) {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let sum: f32 = row.sum();
        row /= sum;
    }
    probs
}

/// The index of the largest score in each row: the predicted classes.
pub fn argmax_rows(scores: &Array2<f32>) -> Vec<usize> {
    scores
        .axis_iter(Axis(0))
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv {
                        (i, v)
                    } else {
                        (bi, bv)
                    }
                })
                .0
        })
        .collect()
}
