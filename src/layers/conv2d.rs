use ndarray::{Array4, ArrayView1, ArrayView4, Ix1, Ix4};
use rand::Rng;

use super::view4;
use crate::conv::{conv2d_backward_naive, conv2d_naive, Conv2dConfig, Conv2dGrads, ConvDims};
use crate::error::Result;
use crate::fast::conv::{FastConv, FastKernel};
use crate::im2col::{conv2d_backward_im2col, conv2d_im2col};
use crate::init::Init;
use crate::layer::{expect_rank, no_forward, Implementation, Layer, Mode, Param, Tensor};
use crate::shape::Rounding;

/// Which implementation a [`Conv2d`] layer runs; all compute the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvAlgorithm {
    /// The loops of chapter 5: the reference.
    Naive,
    /// One matrix product per pass (chapter 6).
    Im2col,
    /// Chapter 16's kernels: direct kernels (or one matrix product per image), threads
    /// over the batch, buffers reused.
    #[default]
    Fast,
}

// ANCHOR: conv2d_layer
/// A convolutional layer: `K` filters of `C x F x F`, with bias, stride and padding.
///
/// - input `(N, C, H, W)`, output `(N, K, H', W')`
/// - weight `(K, C, F, F)`, bias `(K,)` (or none)
#[derive(Debug, Clone)]
pub struct Conv2d {
    pub weight: Param,
    pub bias: Option<Param>,
    pub config: Conv2dConfig,
    pub algorithm: ConvAlgorithm,
    /// The input of the last forward pass, which the backward pass needs.
    input: Option<Array4<f32>>,
    /// Chapter 16's kernels keep their own buffers (and, often, the input).
    fast: FastConv,
}

impl Layer for Conv2d {
    fn name(&self) -> String {
        let s = self.weight.value.shape();
        let c = self.config;
        format!(
            "Conv2d({} -> {}, {}x{}, stride {}, padding {})",
            s[1], s[0], s[2], s[3], c.stride, c.padding
        )
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        // Nothing of an earlier forward pass may serve this one's backward pass.
        self.input = None;
        self.fast.forget();
        let x = view4(&self.name(), input)?;
        let (w, b, config) = (
            weights(&self.weight),
            self.bias.as_ref().map(bias),
            self.config,
        );
        let y = match self.algorithm {
            ConvAlgorithm::Naive => conv2d_naive(x, w, b, config)?,
            ConvAlgorithm::Im2col => conv2d_im2col(x, w, b, config)?,
            ConvAlgorithm::Fast => return Ok(self.fast.forward(x, w, b, config)?.into_dyn()),
        };
        self.input = Some(x.to_owned());
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let dx = self.gradients(grad_output, true)?;
        Ok(dx.expect("the input gradient was asked for").into_dyn())
    }

    fn backward_params(&mut self, grad_output: &Tensor) -> Result<()> {
        self.gradients(grad_output, false).map(|_| ())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_rank(&self.name(), input, 4, "images (N, C, H, W)")?;
        let (n, c, h, w) = (input[0], input[1], input[2], input[3]);
        let d = ConvDims::new((n, c, h, w), weights(&self.weight).dim(), self.config)?;
        let (n, k, h, w) = d.output_shape();
        Ok(vec![n, k, h, w])
    }

    fn params(&self) -> Vec<&Param> {
        std::iter::once(&self.weight).chain(&self.bias).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        std::iter::once(&mut self.weight)
            .chain(&mut self.bias)
            .collect()
    }

    fn multiply_adds(&self, input: &[usize]) -> Result<u64> {
        // Every output value is a dot product over C KH KW taps.
        let out = self.output_shape(input)?;
        let taps: usize = self.weight.value.shape()[1..].iter().product();
        Ok(out.iter().product::<usize>() as u64 * taps as u64)
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.algorithm = match implementation {
            Implementation::Reference => ConvAlgorithm::Naive,
            Implementation::Fast => ConvAlgorithm::Fast,
        };
    }
}

impl Conv2d {
    /// The gradients of the last forward pass: the parameters' are added to their `grad`,
    /// the input's is returned if `input_grad`.
    fn gradients(&mut self, grad_output: &Tensor, input_grad: bool) -> Result<Option<Array4<f32>>> {
        let dy = view4("Conv2d backward", grad_output)?;
        let (w, config) = (weights(&self.weight), self.config);
        let (dx, dw, db) = if self.algorithm == ConvAlgorithm::Fast {
            let g = self.fast.backward(w, dy, config, input_grad)?;
            (g.input, g.weight, g.bias)
        } else {
            let x = self.input.as_ref().ok_or_else(|| no_forward("Conv2d"))?;
            let Conv2dGrads {
                input,
                weight,
                bias,
            } = match self.algorithm {
                ConvAlgorithm::Naive => conv2d_backward_naive(x.view(), w, dy, config)?,
                _ => conv2d_backward_im2col(x.view(), w, dy, config)?,
            };
            (Some(input), weight, bias)
        };
        self.weight.grad += &dw.into_dyn();
        if let Some(bias) = &mut self.bias {
            bias.grad += &db.into_dyn();
        }
        Ok(dx)
    }
}
// ANCHOR_END: conv2d_layer

impl Conv2d {
    /// `filters` filters of `channels x field x field`, weights drawn with `init`, biases
    /// zero; stride 1, no padding. Like PyTorch's `nn.Conv2d`, a stride that does not tile
    /// the input drops the last inputs ([`Rounding::Floor`]); see the builder methods.
    pub fn new(
        channels: usize,
        filters: usize,
        field: usize,
        init: Init,
        rng: &mut impl Rng,
    ) -> Self {
        let fan_in = channels * field * field;
        let fan_out = filters * field * field;
        let weight = init.sample(&[filters, channels, field, field], fan_in, fan_out, rng);
        Conv2d {
            weight: Param::new("weight", weight),
            bias: Some(Param::new("bias", Tensor::zeros(vec![filters]))),
            config: Conv2dConfig::new(1, 0).with_rounding(Rounding::Floor),
            algorithm: ConvAlgorithm::default(),
            input: None,
            fast: FastConv::default(),
        }
    }

    /// This layer with stride `stride`.
    pub fn stride(mut self, stride: usize) -> Self {
        self.config.stride = stride;
        self
    }

    /// This layer with `padding` zeros on each side.
    pub fn padding(mut self, padding: usize) -> Self {
        self.config.padding = padding;
        self
    }

    /// This layer with another rule for strides that do not tile.
    pub fn rounding(mut self, rounding: Rounding) -> Self {
        self.config.rounding = rounding;
        self
    }

    /// This layer with stride, padding and rounding from `config`.
    pub fn with_config(mut self, config: Conv2dConfig) -> Self {
        self.config = config;
        self
    }

    /// This layer without biases: for a convolution followed by batch normalization, whose
    /// shift `beta` makes a bias redundant (ResNet's convolutions have none).
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// Chooses between im2col + GEMM and the direct kernels for [`ConvAlgorithm::Fast`]
    /// (the default is [`FastKernel::Auto`]).
    pub fn set_fast_kernel(&mut self, kernel: FastKernel) {
        self.fast.scratch.kernel = kernel;
    }

    /// The kernel choice of [`Conv2d::set_fast_kernel`].
    pub fn fast_kernel(&self) -> FastKernel {
        self.fast.scratch.kernel
    }

    /// Runs the direct and Winograd kernels of this layer on `isa` (`None`: the widest
    /// this CPU has, see [`crate::fast::simd::active`]). Every instruction set gives the
    /// same bits; a narrower one is slower.
    pub fn set_isa(&mut self, isa: Option<crate::fast::simd::Isa>) {
        self.fast.scratch.isa = isa;
    }
}

/// The filters `(K, C, F, F)`.
fn weights(weight: &Param) -> ArrayView4<'_, f32> {
    weight
        .value
        .view()
        .into_dimensionality::<Ix4>()
        .expect("weight is 4D")
}

/// The biases `(K,)`.
fn bias(bias: &Param) -> ArrayView1<'_, f32> {
    bias.value
        .view()
        .into_dimensionality::<Ix1>()
        .expect("bias is 1D")
}
