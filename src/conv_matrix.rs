//! Convolution as a sparse matrix, its transpose as the backward pass, and transposed
//! convolution (chapter `06-conv-as-matrix`).
//!
//! A convolution is linear in its input, so for a fixed kernel it *is* a matrix: flatten
//! the input `x` (row by row) into a vector, and `y = C vec(x)` with one row of `C` per
//! output and one column per input. Most entries of `C` are zero: row `o` holds the kernel's
//! weights in the columns of the inputs that output `o` sees. Dumoulin & Visin, "A guide
//! to convolution arithmetic for deep learning" (2016), Section 4, draws the 4x16 example.

use ndarray::{s, Array2, Array4, ArrayView2, ArrayView4};

use crate::conv::{Conv2dConfig, ConvDims};
use crate::error::Error;

// ANCHOR: conv_matrix
/// The matrix `C` of a single-channel convolution of an `height x width` input with
/// `kernel`: shape `(H' W', H W)`, so that `C vec(x) = vec(conv(x))` (row-major `vec`).
pub fn conv_matrix(
    height: usize,
    width: usize,
    kernel: ArrayView2<f32>,
    config: Conv2dConfig,
) -> Result<Array2<f32>, Error> {
    let (kh, kw) = kernel.dim();
    let d = ConvDims::new((1, 1, height, width), (1, 1, kh, kw), config)?;
    let mut c = Array2::zeros((d.out_height * d.out_width, height * width));
    for i in 0..d.out_height {
        for j in 0..d.out_width {
            let row = i * d.out_width + j;
            for u in 0..kh {
                for v in 0..kw {
                    if let Some((r, q)) = d.source(i, j, u, v) {
                        c[[row, r * width + q]] = kernel[[u, v]];
                    }
                }
            }
        }
    }
    Ok(c)
}
// ANCHOR_END: conv_matrix

/// The filters rotated by 180 degrees in space, with input and output channels swapped:
/// `flipped[c, k, u, v] = weight[k, c, KH-1-u, KW-1-v]`.
pub fn flip_filters(weight: ArrayView4<f32>) -> Array4<f32> {
    let flipped = weight.slice(s![.., .., ..;-1, ..;-1]);
    flipped
        .permuted_axes([1, 0, 2, 3])
        .as_standard_layout()
        .to_owned()
}

/// Inserts `stride - 1` zeros between neighbouring values along height and width:
/// the "dilated" error map whose full correlation gives a strided convolution's gradient.
pub fn dilate(x: ArrayView4<f32>, stride: usize) -> Result<Array4<f32>, Error> {
    let (n, c, h, w) = x.dim();
    if stride == 0 {
        return Err(Error::ZeroStride);
    }
    if stride == 1 || h == 0 || w == 0 {
        return Ok(x.to_owned());
    }
    let mut out = Array4::zeros((n, c, (h - 1) * stride + 1, (w - 1) * stride + 1));
    out.slice_mut(s![.., .., ..;stride, ..;stride]).assign(&x);
    Ok(out)
}

// ANCHOR: conv_transpose
/// Transposed convolution ("deconvolution", "fractionally strided convolution"): every
/// input value scatters a copy of the filters, scaled by itself, into the output. It maps
/// a convolution's output shape back to its input shape and is the adjoint of
/// [`crate::conv::conv2d_naive`]: with the same weights it computes `C^T`.
///
/// - `input`: `(N, K, H', W')` (shaped like a convolution's output)
/// - `weight`: `(K, C, KH, KW)` (the convolution's filters)
/// - `output_size`: `(H, W)`, the convolution's input size (needed because with stride > 1
///   several input sizes give the same `H'`)
/// - returns `(N, C, H, W)`
pub fn conv_transpose2d(
    input: ArrayView4<f32>,
    weight: ArrayView4<f32>,
    config: Conv2dConfig,
    output_size: (usize, usize),
) -> Result<Array4<f32>, Error> {
    let (n, k, oh, ow) = input.dim();
    let (wk, c, kh, kw) = weight.dim();
    let d = ConvDims::new(
        (n, c, output_size.0, output_size.1),
        (wk, c, kh, kw),
        config,
    )?;
    if (k, oh, ow) != (d.filters, d.out_height, d.out_width) {
        return Err(Error::Shape(format!(
            "transposed convolution: input {:?} does not match a convolution of a {:?} image \
             with filters {:?}, whose output is {:?}",
            input.dim(),
            output_size,
            weight.dim(),
            d.output_shape()
        )));
    }
    let mut out = Array4::zeros((n, c, output_size.0, output_size.1));
    for b in 0..n {
        for f in 0..k {
            for i in 0..oh {
                for j in 0..ow {
                    let value = input[[b, f, i, j]];
                    for ch in 0..c {
                        for u in 0..kh {
                            for v in 0..kw {
                                if let Some((r, q)) = d.source(i, j, u, v) {
                                    out[[b, ch, r, q]] += value * weight[[f, ch, u, v]];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}
// ANCHOR_END: conv_transpose

// ANCHOR: full_correlation
/// The input gradient of a convolution computed as a *forward* convolution: dilate the
/// error map by the stride, pad it by `KH - 1 - P`, and correlate it (stride 1) with the
/// flipped filters. This is the "convolve the error with the flipped kernel" rule.
pub fn input_gradient_by_flipped_kernel(
    grad_output: ArrayView4<f32>,
    weight: ArrayView4<f32>,
    config: Conv2dConfig,
    input_size: (usize, usize),
) -> Result<Array4<f32>, Error> {
    let (_, _, kh, kw) = weight.dim();
    if kh != kw {
        return Err(Error::Shape(format!(
            "the flipped-kernel form is written for square kernels, got {kh}x{kw}"
        )));
    }
    if config.padding > kh - 1 {
        return Err(Error::Shape(format!(
            "padding {} > kernel size - 1 = {}: the gradient would need negative padding",
            config.padding,
            kh - 1
        )));
    }
    let dilated = dilate(grad_output, config.stride)?;
    let full = Conv2dConfig::new(1, kh - 1 - config.padding);
    let dx = crate::conv::conv2d_naive(dilated.view(), flip_filters(weight).view(), None, full)?;
    if (dx.dim().2, dx.dim().3) != input_size {
        return Err(Error::Shape(format!(
            "the flipped-kernel correlation gives {:?}, not the input size {input_size:?}",
            (dx.dim().2, dx.dim().3)
        )));
    }
    Ok(dx)
}
// ANCHOR_END: full_correlation
