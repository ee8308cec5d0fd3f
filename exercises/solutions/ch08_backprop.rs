//! Reference solutions for chapter 8. Try the exercises in `exercises/src/` first.

use ndarray::{Array1, Array2, Axis, Zip};

/// Exercise 8.1: x where x > 0, slope * x elsewhere.
pub fn leaky_relu(x: &Array2<f32>, slope: f32) -> Array2<f32> {
    x.mapv(|v| if v > 0.0 { v } else { slope * v })
}

/// Exercise 8.2: grad where x > 0, slope * grad elsewhere.
pub fn leaky_relu_backward(x: &Array2<f32>, grad: &Array2<f32>, slope: f32) -> Array2<f32> {
    Zip::from(x)
        .and(grad)
        .map_collect(|&v, &g| if v > 0.0 { g } else { slope * g })
}

/// Exercise 8.3: (dL/dx, dL/dw, dL/db) of y = x w^T + b.
pub fn linear_backward(
    x: &Array2<f32>,
    w: &Array2<f32>,
    grad: &Array2<f32>,
) -> (Array2<f32>, Array2<f32>, Array1<f32>) {
    let (n, d_in) = x.dim();
    let d_out = w.nrows();
    // dx[n][i] = sum over k of grad[n][k] * w[k][i]
    let dx = Array2::from_shape_fn((n, d_in), |(m, i)| {
        (0..d_out).map(|k| grad[[m, k]] * w[[k, i]]).sum()
    });
    // dw[k][i] = sum over the batch of grad[n][k] * x[n][i]
    let dw = Array2::from_shape_fn((d_out, d_in), |(k, i)| {
        (0..n).map(|m| grad[[m, k]] * x[[m, i]]).sum()
    });
    let db = grad.sum_axis(Axis(0));
    (dx, dw, db)
}

/// Exercise 8.4: the (field x field) gradient of the filter.
pub fn conv_weight_gradient(x: &Array2<f32>, grad: &Array2<f32>, field: usize) -> Array2<f32> {
    let (out_h, out_w) = grad.dim();
    Array2::from_shape_fn((field, field), |(u, v)| {
        let mut sum = 0.0;
        for i in 0..out_h {
            for j in 0..out_w {
                sum += grad[[i, j]] * x[[i + u, j + v]];
            }
        }
        sum
    })
}
