//! Reference solutions for chapter 7. Try the exercises in `exercises/src/` first.

use ndarray::{Array2, Array4, Axis};

/// Exercise 7.1: the (N, C) means of every channel's map.
pub fn global_avg_pool(x: &Array4<f32>) -> Array2<f32> {
    let (n, c, h, w) = x.dim();
    let area = (h * w) as f32;
    // Sum over the columns, then over the rows: (N, C, H, W) -> (N, C, H) -> (N, C).
    let sums = x.sum_axis(Axis(3)).sum_axis(Axis(2));
    debug_assert_eq!(sums.dim(), (n, c));
    sums / area
}

/// Exercise 7.2: spread each map's gradient evenly over its H*W inputs.
pub fn global_avg_pool_backward(
    grad: &Array2<f32>,
    shape: (usize, usize, usize, usize),
) -> Array4<f32> {
    let (_, _, h, w) = shape;
    let share = 1.0 / (h * w) as f32;
    Array4::from_shape_fn(shape, |(n, c, _, _)| grad[[n, c]] * share)
}

/// Exercise 7.3: each pooled value back at its switch, zeros elsewhere.
pub fn max_unpool(
    pooled: &Array4<f32>,
    switches: &Array4<(u32, u32)>,
    shape: (usize, usize, usize, usize),
) -> Array4<f32> {
    let mut out = Array4::zeros(shape);
    for ((n, c, i, j), &value) in pooled.indexed_iter() {
        let (row, column) = switches[[n, c, i, j]];
        // `+=`, not `=`: with overlapping windows one input can win several of them.
        out[[n, c, row as usize, column as usize]] += value;
    }
    out
}
