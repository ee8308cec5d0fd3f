use ndarray::{Array4, Axis, Ix1};
use rand::Rng;

use super::{as4, view4};
use crate::conv::{conv2d_backward_naive, conv2d_naive, Conv2dConfig, ConvDims};
use crate::error::ShapeError;
use crate::fast_conv::{
    conv2d_backward_fast, conv2d_backward_saved, conv2d_fast, ConvScratch, FastKernel,
};
use crate::im2col::{col2im, conv2d_im2col, im2col};
use crate::init::Init;
use crate::layer::{expect_rank, no_forward, Layer, Mode, Param, Tensor};

/// Which implementation a [`Conv2d`] layer runs; both compute the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvAlgorithm {
    /// The loops of chapter 5: the reference.
    Naive,
    /// One matrix product per pass (chapter 6).
    Im2col,
    /// Chapter 16's fast path: direct kernels (or one matrix product per image), threads
    /// over the batch, buffers reused.
    #[default]
    Fast,
}

// ANCHOR: conv2d_layer
/// A convolutional layer: `K` filters of `C x F x F`, with bias, stride and padding.
///
/// - input `(N, C, H, W)`, output `(N, K, H', W')`
/// - weight `(K, C, F, F)`, bias `(K,)`
#[derive(Debug, Clone)]
pub struct Conv2d {
    pub weight: Param,
    pub bias: Param,
    pub config: Conv2dConfig,
    pub algorithm: ConvAlgorithm,
    input: Option<Array4<f32>>,
    scratch: ConvScratch,
}

impl Conv2d {
    /// `filters` filters of `channels x field x field`, weights drawn with `init`.
    pub fn new(
        channels: usize,
        filters: usize,
        field: usize,
        config: Conv2dConfig,
        init: Init,
        rng: &mut impl Rng,
    ) -> Self {
        let fan_in = channels * field * field;
        let fan_out = filters * field * field;
        let weight = init.sample(&[filters, channels, field, field], fan_in, fan_out, rng);
        Conv2d {
            weight: Param::new("weight", weight),
            bias: Param::new("bias", Tensor::zeros(vec![filters])),
            config,
            algorithm: ConvAlgorithm::default(),
            input: None,
            scratch: ConvScratch::default(),
        }
    }

    /// Chooses between im2col + GEMM and the direct kernels for [`ConvAlgorithm::Fast`]
    /// (the default is [`FastKernel::Auto`]).
    pub fn set_fast_kernel(&mut self, kernel: FastKernel) {
        self.scratch.kernel = kernel;
    }

    fn w(&self) -> ndarray::ArrayView4<'_, f32> {
        self.weight
            .value
            .view()
            .into_dimensionality()
            .expect("weight is 4D")
    }
}

impl Conv2d {
    /// The fast backward pass; the input gradient only if `input_grad`.
    fn backward_fast(
        &mut self,
        grad_output: &Tensor,
        input_grad: bool,
    ) -> Result<Option<Array4<f32>>, ShapeError> {
        let name = self.name();
        let dy = view4("Conv2d backward", grad_output)?;
        let w = self
            .weight
            .value
            .view()
            .into_dimensionality()
            .expect("weight is 4D");
        let g = match &self.input {
            Some(x) => {
                conv2d_backward_fast(x.view(), w, dy, self.config, input_grad, &mut self.scratch)
            }
            // The direct kernels kept the padded input themselves.
            None if self.scratch.saved_input().is_some() => {
                conv2d_backward_saved(w, dy, input_grad, &mut self.scratch)
            }
            None => return Err(no_forward("Conv2d")),
        }
        .map_err(|e| ShapeError::Mismatch(format!("{name}: {e}")))?;
        add_into(&mut self.weight.grad, g.weight.as_slice().expect("fresh"));
        add_into(&mut self.bias.grad, g.bias.as_slice().expect("fresh"));
        Ok(g.input)
    }
}

/// `grad += delta`, element by element, without broadcasting.
fn add_into(grad: &mut Tensor, delta: &[f32]) {
    match grad.as_slice_mut() {
        Some(g) => g.iter_mut().zip(delta).for_each(|(g, d)| *g += d),
        None => {
            for (g, d) in grad.iter_mut().zip(delta) {
                *g += d;
            }
        }
    }
}

impl Layer for Conv2d {
    fn name(&self) -> String {
        let s = self.weight.value.shape();
        format!(
            "Conv2d({} -> {}, {}x{}, stride {}, padding {})",
            s[1], s[0], s[2], s[3], self.config.stride, self.config.padding
        )
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor, ShapeError> {
        let x = view4("Conv2d", input)?;
        let config = self.config;
        let b = self
            .bias
            .value
            .view()
            .into_dimensionality::<Ix1>()
            .expect("bias is 1D");
        let y = match self.algorithm {
            ConvAlgorithm::Naive => conv2d_naive(x, self.w(), Some(b), self.config),
            ConvAlgorithm::Im2col => conv2d_im2col(x, self.w(), Some(b), self.config),
            ConvAlgorithm::Fast => {
                let w = self
                    .weight
                    .value
                    .view()
                    .into_dimensionality()
                    .expect("weight is 4D");
                conv2d_fast(x, w, Some(b), config, &mut self.scratch)
            }
        }
        .map_err(|e| ShapeError::Mismatch(format!("{}: {e}", self.name())))?;
        // The backward pass needs the input. The direct kernels keep a padded copy of it in
        // the scratch buffers; otherwise the layer keeps one.
        let kept = self.algorithm == ConvAlgorithm::Fast
            && self
                .scratch
                .saved_input()
                .is_some_and(|d| d.input_shape() == x.dim());
        self.input = if kept { None } else { Some(x.to_owned()) };
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        if self.algorithm == ConvAlgorithm::Fast {
            let dx = self.backward_fast(grad_output, true)?;
            return Ok(dx.expect("input gradient asked for").into_dyn());
        }
        let x = self.input.as_ref().ok_or_else(|| no_forward("Conv2d"))?;
        let dy = as4("Conv2d backward", grad_output)?;
        let (dx, dw, db) = match self.algorithm {
            ConvAlgorithm::Naive => {
                let g = conv2d_backward_naive(x.view(), self.w(), dy.view(), self.config)?;
                (g.input, g.weight, g.bias)
            }
            ConvAlgorithm::Fast => unreachable!("handled above"),
            ConvAlgorithm::Im2col => {
                // dW = dY_mat X_col^T and dX_col = W_mat^T dY_mat, folded back by col2im.
                let d = ConvDims::new(x.dim(), self.w().dim(), self.config)?;
                if dy.dim() != d.output_shape() {
                    return Err(ShapeError::Mismatch(format!(
                        "{}: output gradient {:?}, expected {:?}",
                        self.name(),
                        dy.dim(),
                        d.output_shape()
                    )));
                }
                let cols = im2col(x.view(), d.kernel_height, d.kernel_width, self.config)?;
                let rows = d.channels * d.kernel_height * d.kernel_width;
                // (N, K, H', W') -> (K, N H' W'), matching the columns of the patch matrix.
                let dy_mat = dy
                    .view()
                    .permuted_axes([1, 0, 2, 3])
                    .as_standard_layout()
                    .into_owned()
                    .into_shape_with_order((d.filters, cols.ncols()))
                    .expect("(K, N, H', W') flattens");
                let w_mat = self
                    .w()
                    .to_shape((d.filters, rows))
                    .expect("(K, C, F, F) flattens")
                    .into_owned();
                let dw = dy_mat
                    .dot(&cols.t())
                    .into_shape_with_order(self.w().dim())
                    .expect("same size");
                let dx_cols = w_mat.t().dot(&dy_mat);
                let dx = col2im(
                    dx_cols.view(),
                    x.dim(),
                    d.kernel_height,
                    d.kernel_width,
                    self.config,
                )?;
                let db = dy_mat.sum_axis(Axis(1));
                (dx, dw, db)
            }
        };
        self.weight.grad += &dw.into_dyn();
        self.bias.grad += &db.into_dyn();
        Ok(dx.into_dyn())
    }

    fn backward_params(&mut self, grad_output: &Tensor) -> Result<(), ShapeError> {
        if self.algorithm == ConvAlgorithm::Fast {
            self.backward_fast(grad_output, false)?;
            Ok(())
        } else {
            self.backward(grad_output).map(|_| ())
        }
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        expect_rank(&self.name(), input, 4, "images (N, C, H, W)")?;
        let d = ConvDims::new(
            (input[0], input[1], input[2], input[3]),
            self.w().dim(),
            self.config,
        )?;
        let (n, k, h, w) = d.output_shape();
        Ok(vec![n, k, h, w])
    }

    fn params(&self) -> Vec<&Param> {
        vec![&self.weight, &self.bias]
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight, &mut self.bias]
    }
}
// ANCHOR_END: conv2d_layer
