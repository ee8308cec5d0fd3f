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

/// Exercise 7.3: share each window's gradient among its real inputs.
pub fn avg_pool_backward_excluding_padding(
    grad: &Array4<f32>,
    shape: (usize, usize, usize, usize),
    field: usize,
    stride: usize,
    padding: usize,
) -> Array4<f32> {
    let (_, _, h, w) = shape;
    // The real inputs that window `index` covers along an axis of `size` values: padded
    // positions index*stride .. index*stride + field, less the padding on either side.
    let real = |index: usize, size: usize| {
        let start = (index * stride).saturating_sub(padding);
        let end = (index * stride + field).saturating_sub(padding).min(size);
        start..end
    };
    let mut dx = Array4::zeros(shape);
    for ((n, c, i, j), &g) in grad.indexed_iter() {
        let (rows, columns) = (real(i, h), real(j, w));
        // The window averaged rows.len() * columns.len() values: each gets that share.
        let share = g / (rows.len() * columns.len()) as f32;
        for r in rows {
            for q in columns.clone() {
                dx[[n, c, r, q]] += share;
            }
        }
    }
    dx
}
