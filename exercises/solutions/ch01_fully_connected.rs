//! Reference solutions for chapter 1. Try the exercises in `exercises/src/` first.

use cnn_book::Volume;
use ndarray::Array2;

/// Exercise 1.1: the largest square image side within a parameter budget.
pub fn largest_side_within_budget(budget: u64, channels: u64, hidden: u64) -> u64 {
    // s*s*channels*hidden + hidden <= budget  <=>  s*s <= (budget - hidden) / (channels*hidden),
    // where rounding the right-hand side down changes nothing because s*s is an integer.
    if budget < hidden {
        return 0; // the biases alone are over budget
    }
    ((budget - hidden) / (channels * hidden)).isqrt()
}

/// Exercise 1.2: the largest hidden layer within the reference network's budget.
pub fn hidden_units_for_same_budget(
    reference: Volume,
    reference_hidden: u64,
    image: Volume,
    classes: u64,
) -> u64 {
    // Both networks pay the same `classes` output biases. Everything else comes per hidden
    // unit: one weight per input, its bias, and one weight per class.
    let per_hidden_unit = |inputs: Volume| inputs.len() + 1 + classes;
    reference_hidden * per_hidden_unit(reference) / per_hidden_unit(image)
}

/// Exercise 1.3: the weight matrix that computes on shuffled images what `a` computes.
pub fn columns_for_shuffled_pixels(a: &Array2<f32>, permutation: &[usize]) -> Array2<f32> {
    // a2 · shuffled(x) = sum over p of a2[.., p] * x[permutation[p]], while
    // a · x = sum over q of a[.., q] * x[q]. Every pixel q = permutation[p] must meet the
    // same weights in both, so column p of a2 is column permutation[p] of a: the columns
    // move exactly as the pixels did.
    Array2::from_shape_fn(a.dim(), |(unit, p)| a[[unit, permutation[p]]])
}
