//! Reference solutions for chapter 5. Try the exercises in `exercises/src/` first.

use ndarray::{Array2, Array3, Array4};

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

/// Exercise 5.3: the (K, H', W') output of K filters on a C-channel image.
pub fn conv2d_multi(
    input: &Array3<f32>,
    filters: &Array4<f32>,
    bias: &[f32],
    stride: usize,
    padding: usize,
) -> Array3<f32> {
    let (channels, height, width) = input.dim();
    let (count, _, kh, kw) = filters.dim();
    // The shapes fit, so these subtractions and divisions are exact.
    let out_height = (height + 2 * padding - kh) / stride + 1;
    let out_width = (width + 2 * padding - kw) / stride + 1;
    // Real input row or column read at padded position `position`, if it is not padding.
    let real = |position: usize, size: usize| position.checked_sub(padding).filter(|&n| n < size);
    Array3::from_shape_fn((count, out_height, out_width), |(k, i, j)| {
        let mut sum = bias[k];
        for c in 0..channels {
            for u in 0..kh {
                let Some(r) = real(i * stride + u, height) else {
                    continue;
                };
                for v in 0..kw {
                    if let Some(q) = real(j * stride + v, width) {
                        sum += input[[c, r, q]] * filters[[k, c, u, v]];
                    }
                }
            }
        }
        sum
    })
}
