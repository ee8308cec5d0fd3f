//! Reference solutions for chapter 5. Try the exercises in `exercises/src/` first.

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

/// Exercise 5.1: the convolution of one image with one kernel, or None.
pub fn conv2d_one_channel(
    image: &Array2<f32>,
    kernel: &Array2<f32>,
    stride: usize,
    padding: usize,
) -> Option<Array2<f32>> {
    let (height, width) = image.dim();
    let (kh, kw) = kernel.dim();
    let out_height = outputs(height, kh, padding, stride)?;
    let out_width = outputs(width, kw, padding, stride)?;
    // Copy the image into the middle of a zero array, then every window is a plain slice.
    let mut padded = Array2::zeros((height + 2 * padding, width + 2 * padding));
    for ((r, c), &value) in image.indexed_iter() {
        padded[[r + padding, c + padding]] = value;
    }
    Some(Array2::from_shape_fn((out_height, out_width), |(i, j)| {
        let mut sum = 0.0;
        for ((u, v), &weight) in kernel.indexed_iter() {
            sum += padded[[i * stride + u, j * stride + v]] * weight;
        }
        sum
    }))
}

/// Exercise 5.2: the convolution with the kernel's taps `dilation` apart, or None.
pub fn conv2d_dilated(
    image: &Array2<f32>,
    kernel: &Array2<f32>,
    dilation: usize,
) -> Option<Array2<f32>> {
    let (height, width) = image.dim();
    let (kh, kw) = kernel.dim();
    if dilation == 0 || kh == 0 || kw == 0 {
        return None;
    }
    // The span of the dilated kernel; the output is one entry per position where it fits.
    let span_h = (kh - 1) * dilation + 1;
    let span_w = (kw - 1) * dilation + 1;
    let out_height = (height + 1).checked_sub(span_h).filter(|&n| n > 0)?;
    let out_width = (width + 1).checked_sub(span_w).filter(|&n| n > 0)?;
    Some(Array2::from_shape_fn((out_height, out_width), |(i, j)| {
        let mut sum = 0.0;
        for ((u, v), &weight) in kernel.indexed_iter() {
            sum += image[[i + u * dilation, j + v * dilation]] * weight;
        }
        sum
    }))
}
