//! Reference solutions for chapter 6. Try the exercises in `exercises/src/` first.

use ndarray::Array2;

/// Outputs along one axis of `size` values, `(size - field + 2*padding)/stride + 1`, or
/// `None` if the window does not work there.
fn outputs(size: usize, field: usize, padding: usize, stride: usize) -> Option<usize> {
    let padded = size + 2 * padding;
    if size == 0 || field == 0 || stride == 0 || field > padded {
        return None;
    }
    let travel = padded - field;
    (travel % stride == 0).then_some(travel / stride + 1)
}

/// Exercise 6.1: the (outputs x length) matrix of the dilated convolution, or None.
pub fn conv_matrix_1d(
    length: usize,
    kernel: &[f32],
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<Array2<f32>> {
    if kernel.is_empty() || dilation == 0 {
        return None;
    }
    // The dilated kernel reaches from its first tap to its last, (k - 1) gaps of
    // `dilation` plus one: that span is the window whose positions chapter 2 counts.
    let span = (kernel.len() - 1) * dilation + 1;
    let rows = outputs(length, span, padding, stride)?;
    let mut matrix = Array2::zeros((rows, length));
    for o in 0..rows {
        for (u, &weight) in kernel.iter().enumerate() {
            // Tap u of output o reads padded position o*stride + u*dilation, which is real
            // input o*stride + u*dilation - padding if that lies in 0..length.
            let position = (o * stride + u * dilation).checked_sub(padding);
            if let Some(n) = position.filter(|&n| n < length) {
                matrix[[o, n]] = weight;
            }
        }
    }
    Some(matrix)
}

/// Exercise 6.2: the (field*field x out_h*out_w) patch matrix, or None.
pub fn im2col_one_channel(image: &Array2<f32>, field: usize, stride: usize) -> Option<Array2<f32>> {
    let (height, width) = image.dim();
    let out_h = outputs(height, field, 0, stride)?;
    let out_w = outputs(width, field, 0, stride)?;
    Some(Array2::from_shape_fn(
        (field * field, out_h * out_w),
        |(tap, position)| {
            let (u, v) = (tap / field, tap % field);
            let (i, j) = (position / out_w, position % out_w);
            image[[i * stride + u, j * stride + v]]
        },
    ))
}

/// Exercise 6.3: C^T y for the convolution's matrix C, without building C.
pub fn conv_transpose_1d(
    y: &[f32],
    w: &[f32],
    stride: usize,
    padding: usize,
    out_len: usize,
) -> Vec<f32> {
    // Row o of C holds w[u] in column o*stride + u - padding, so C^T y is the sum over o
    // of y[o] times that row: every y[o] stamps the kernel, scaled by itself, into the
    // output at o*stride - padding. Taps that land in the padding have no column.
    let mut x = vec![0.0; out_len];
    for (o, &value) in y.iter().enumerate() {
        for (u, &weight) in w.iter().enumerate() {
            let position = (o * stride + u).checked_sub(padding);
            if let Some(n) = position.filter(|&n| n < out_len) {
                x[n] += value * weight;
            }
        }
    }
    x
}
