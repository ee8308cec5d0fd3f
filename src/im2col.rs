//! im2col: lowering a convolution to one matrix product (chapter `06-conv-as-matrix`).
//!
//! Copy every receptive field of the input into a column of a *patch matrix*, flatten each
//! filter into a row of a *filter matrix*, and the whole convolution becomes one product
//! `W_mat (K x CKK) * X_col (CKK x N H' W')`, which a tuned GEMM computes far faster than
//! the seven nested loops of [`crate::conv::conv2d_naive`]. The price is memory: each input
//! value is copied into up to `KH * KW` columns. Chellapilla, Puri & Simard, "High
//! performance convolutional neural networks for document processing" (2006) introduced
//! the idea; Caffe made it the standard.

use ndarray::{Array2, Array4, ArrayView1, ArrayView2, ArrayView4, Axis};

use crate::conv::{Conv2dConfig, ConvDims};
use crate::error::Error;

// ANCHOR: im2col
/// The patch matrix of `input` `(N, C, H, W)` for `kh x kw` windows: shape
/// `(C KH KW, N H' W')`. Column `(n, i, j)` holds the receptive field of output `(i, j)` of
/// image `n`, in the order `(c, u, v)` of a flattened filter; padding positions are zero.
pub fn im2col(
    input: ArrayView4<f32>,
    kh: usize,
    kw: usize,
    config: Conv2dConfig,
) -> Result<Array2<f32>, Error> {
    let (_, c, _, _) = input.dim();
    let d = ConvDims::new(input.dim(), (1, c, kh, kw), config)?;
    let positions = d.out_height * d.out_width;
    let mut cols = Array2::zeros((c * kh * kw, d.batch * positions));
    for n in 0..d.batch {
        for i in 0..d.out_height {
            for j in 0..d.out_width {
                let col = n * positions + i * d.out_width + j;
                for ch in 0..c {
                    for u in 0..kh {
                        for v in 0..kw {
                            if let Some((r, q)) = d.source(i, j, u, v) {
                                cols[[(ch * kh + u) * kw + v, col]] = input[[n, ch, r, q]];
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(cols)
}
// ANCHOR_END: im2col

/// The adjoint of [`im2col`]: adds every entry of a patch matrix back to the input position
/// it was copied from (positions copied into several columns receive the sum).
pub fn col2im(
    cols: ArrayView2<f32>,
    input_shape: (usize, usize, usize, usize),
    kh: usize,
    kw: usize,
    config: Conv2dConfig,
) -> Result<Array4<f32>, Error> {
    let (_, c, _, _) = input_shape;
    let d = ConvDims::new(input_shape, (1, c, kh, kw), config)?;
    let positions = d.out_height * d.out_width;
    if cols.dim() != (c * kh * kw, d.batch * positions) {
        return Err(Error::Shape(format!(
            "col2im: a patch matrix of shape {:?} does not come from an input {input_shape:?} \
             with {kh}x{kw} windows, which gives {:?}",
            cols.dim(),
            (c * kh * kw, d.batch * positions)
        )));
    }
    let mut out = Array4::zeros(input_shape);
    for n in 0..d.batch {
        for i in 0..d.out_height {
            for j in 0..d.out_width {
                let col = n * positions + i * d.out_width + j;
                for ch in 0..c {
                    for u in 0..kh {
                        for v in 0..kw {
                            if let Some((r, q)) = d.source(i, j, u, v) {
                                out[[n, ch, r, q]] += cols[[(ch * kh + u) * kw + v, col]];
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

// ANCHOR: conv2d_im2col
/// 2D convolution as one matrix product; same arguments and result as
/// [`crate::conv::conv2d_naive`].
pub fn conv2d_im2col(
    input: ArrayView4<f32>,
    weight: ArrayView4<f32>,
    bias: Option<ArrayView1<f32>>,
    config: Conv2dConfig,
) -> Result<Array4<f32>, Error> {
    let d = ConvDims::new(input.dim(), weight.dim(), config)?;
    crate::conv::check_bias(bias, d.filters)?;
    let cols = im2col(input, d.kernel_height, d.kernel_width, config)?;
    let rows = d.channels * d.kernel_height * d.kernel_width;
    let filters = weight
        .to_shape((d.filters, rows))
        .expect("(K, C, KH, KW) flattens to (K, C KH KW)");
    let mut product = filters.dot(&cols); // (K, N H' W')
    if let Some(b) = bias {
        product += &b.insert_axis(Axis(1));
    }
    // (K, N, H', W') -> (N, K, H', W')
    let product = product
        .into_shape_with_order((d.filters, d.batch, d.out_height, d.out_width))
        .expect("K x (N H' W') splits into (K, N, H', W')");
    Ok(product
        .permuted_axes([1, 0, 2, 3])
        .as_standard_layout()
        .into_owned())
}
// ANCHOR_END: conv2d_im2col

/// The backward pass of [`conv2d_im2col`], as matrix products with the same patch matrix:
/// `dW = dY_mat X_col^T`, `db` = the row sums of `dY_mat`, and `dX_col = W_mat^T dY_mat`
/// folded back onto the image by [`col2im`]; the same gradients as
/// [`crate::conv::conv2d_backward_naive`].
pub fn conv2d_backward_im2col(
    input: ArrayView4<f32>,
    weight: ArrayView4<f32>,
    grad_output: ArrayView4<f32>,
    config: Conv2dConfig,
) -> Result<crate::conv::Conv2dGrads, Error> {
    let d = ConvDims::new(input.dim(), weight.dim(), config)?;
    d.check_grad_output(grad_output.dim())?;
    let cols = im2col(input, d.kernel_height, d.kernel_width, config)?;
    let rows = d.channels * d.kernel_height * d.kernel_width;
    // (N, K, H', W') -> (K, N H' W'), matching the columns of the patch matrix.
    let dy_mat = grad_output
        .permuted_axes([1, 0, 2, 3])
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((d.filters, cols.ncols()))
        .expect("(K, N, H', W') flattens");
    let w_mat = weight
        .to_shape((d.filters, rows))
        .expect("(K, C, KH, KW) flattens")
        .into_owned();
    let dw = dy_mat
        .dot(&cols.t())
        .into_shape_with_order(weight.dim())
        .expect("same size");
    let dx_cols = w_mat.t().dot(&dy_mat);
    let dx = col2im(
        dx_cols.view(),
        input.dim(),
        d.kernel_height,
        d.kernel_width,
        config,
    )?;
    Ok(crate::conv::Conv2dGrads {
        input: dx,
        weight: dw,
        bias: dy_mat.sum_axis(Axis(1)),
    })
}
