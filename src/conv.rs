//! The convolutional layer: 2D convolution over `C` input channels with `K` filters,
//! stride, zero-padding and bias, on batches in NCHW order (chapter `05-conv-layer`).
//!
//! Like every deep-learning library, "convolution" here is the cross-correlation
//! `y[n, k, i, j] = b[k] + sum_{c, u, v} x[n, c, i*S + u - P, j*S + v - P] * w[k, c, u, v]`
//! (chapter `04-convolution` explains why the missing flip does not matter for learning).
//! The functions in this module are the *reference*: loops that read like the formula.
//! Chapter `06-conv-as-matrix` computes the same thing as one matrix product
//! ([`crate::im2col`]), tested equal to this one.

use ndarray::{Array1, Array2, Array4, ArrayView1, ArrayView2, ArrayView4};

use crate::error::Error;
use crate::shape::{Rounding, Window};

// ANCHOR: config
/// Stride and zero-padding of a 2D convolution, the same along height and width, and what
/// to do when the stride does not tile the padded input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    pub stride: usize,
    pub padding: usize,
    /// [`Rounding::Exact`] refuses such a stride (the rule of chapter 2);
    /// [`Rounding::Floor`] drops the inputs the last window cannot reach, as PyTorch does.
    pub rounding: Rounding,
}

impl Conv2dConfig {
    /// Stride `stride` and `padding` zeros on each side; windows must tile exactly.
    pub fn new(stride: usize, padding: usize) -> Self {
        Conv2dConfig {
            stride,
            padding,
            rounding: Rounding::Exact,
        }
    }

    /// The same stride and padding, with another rule for strides that do not tile.
    pub fn with_rounding(self, rounding: Rounding) -> Self {
        Conv2dConfig { rounding, ..self }
    }
}

impl Default for Conv2dConfig {
    /// Stride 1, no padding (so every window fits).
    fn default() -> Self {
        Conv2dConfig::new(1, 0)
    }
}
// ANCHOR_END: config

/// The most numbers in one array that a convolution or pooling layer allocates (2^31, 8 GiB
/// of `f32`): larger shapes are refused with an error naming them, before any allocation.
pub const MAX_ELEMENTS: usize = 1 << 31;

/// The sizes of one convolution, checked once at the boundary so the loops need no checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvDims {
    /// Batch size `N`.
    pub batch: usize,
    /// Input channels `C`.
    pub channels: usize,
    /// Input height and width `H`, `W`.
    pub height: usize,
    pub width: usize,
    /// Number of filters `K` (output channels).
    pub filters: usize,
    /// Kernel height and width.
    pub kernel_height: usize,
    pub kernel_width: usize,
    /// Output height and width.
    pub out_height: usize,
    pub out_width: usize,
    pub config: Conv2dConfig,
}

impl ConvDims {
    /// Checks that an input of shape `(N, C, H, W)` and filters of shape `(K, C, KH, KW)` fit
    /// together under `config`, naming both shapes when they do not.
    pub fn new(
        input: (usize, usize, usize, usize),
        weight: (usize, usize, usize, usize),
        config: Conv2dConfig,
    ) -> Result<ConvDims, Error> {
        let (n, c, h, w) = input;
        let (k, wc, kh, kw) = weight;
        if c != wc {
            return Err(Error::Shape(format!(
                "the input has {c} channels but the filters expect {wc}: \
                 input (N, C, H, W) = {input:?}, filters (K, C, KH, KW) = {weight:?}"
            )));
        }
        if n == 0 || c == 0 || k == 0 {
            return Err(Error::Shape(format!(
                "empty batch, channels or filters: input {input:?}, filters {weight:?}"
            )));
        }
        let along = |size: usize, field: usize, axis: &str| {
            Window::new(field, config.padding, config.stride)?
                .output_size_with(size, config.rounding)
                .map_err(|e| Error::Shape(format!("along the {axis}: {e}")))
        };
        let d = ConvDims {
            batch: n,
            channels: c,
            height: h,
            width: w,
            filters: k,
            kernel_height: kh,
            kernel_width: kw,
            out_height: along(h, kh, "height")?,
            out_width: along(w, kw, "width")?,
            config,
        };
        // The arrays the implementations allocate: refused before any allocation when one
        // would exceed MAX_ELEMENTS (a padding of 100,000 on an 8 x 8 image would ask for
        // hundreds of gigabytes).
        let p2 = 2 * config.padding; // fits: checked by `along`
        let (oh, ow) = (d.out_height, d.out_width);
        let sizes: [(&str, &[usize]); 3] = [
            (
                "the padded input N C (H + 2P) (W + 2P)",
                &[n, c, h + p2, w + p2],
            ),
            ("the output N K H' W'", &[n, k, oh, ow]),
            (
                "one image's patch matrix C KH KW H' W'",
                &[c, kh, kw, oh, ow],
            ),
        ];
        for (what, dims) in sizes {
            let count = dims.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
            if count.is_none_or(|count| count > MAX_ELEMENTS) {
                return Err(Error::Shape(format!(
                    "{what} would hold {} numbers, more than the {MAX_ELEMENTS} this library \
                     allocates at once: input {input:?}, filters {weight:?}, stride {}, \
                     padding {}",
                    dims.iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(" x "),
                    config.stride,
                    config.padding
                )));
            }
        }
        Ok(d)
    }

    /// The shape of the output, `(N, K, H', W')`.
    pub fn output_shape(&self) -> (usize, usize, usize, usize) {
        (self.batch, self.filters, self.out_height, self.out_width)
    }

    /// Checks that an output gradient has the shape of this convolution's output.
    pub fn check_grad_output(&self, grad: (usize, usize, usize, usize)) -> Result<(), Error> {
        if grad != self.output_shape() {
            return Err(Error::Shape(format!(
                "the output gradient has shape {grad:?} but the convolution's output is {:?}",
                self.output_shape()
            )));
        }
        Ok(())
    }

    /// The shape of the input, `(N, C, H, W)`.
    pub fn input_shape(&self) -> (usize, usize, usize, usize) {
        (self.batch, self.channels, self.height, self.width)
    }

    /// Position in the unpadded input read by output `(i, j)` through kernel tap `(u, v)`,
    /// or `None` if it falls in the zero padding.
    #[inline]
    pub fn source(&self, i: usize, j: usize, u: usize, v: usize) -> Option<(usize, usize)> {
        let Conv2dConfig {
            stride, padding, ..
        } = self.config;
        let r = (i * stride + u).checked_sub(padding)?;
        let q = (j * stride + v).checked_sub(padding)?;
        (r < self.height && q < self.width).then_some((r, q))
    }
}

/// Checks that a bias, if any, has one value per filter.
pub(crate) fn check_bias(bias: Option<ArrayView1<f32>>, filters: usize) -> Result<(), Error> {
    match bias {
        Some(b) if b.len() != filters => Err(Error::Shape(format!(
            "the bias has {} values but there are {filters} filters",
            b.len()
        ))),
        _ => Ok(()),
    }
}

// ANCHOR: conv2d_naive
/// 2D convolution (cross-correlation), the reference implementation.
///
/// - `input`: `(N, C, H, W)`
/// - `weight`: `(K, C, KH, KW)`, one filter per output channel
/// - `bias`: `(K,)` or `None`
/// - returns `(N, K, H', W')` with `H' = (H - KH + 2P)/S + 1` and likewise `W'`
pub fn conv2d_naive(
    input: ArrayView4<f32>,
    weight: ArrayView4<f32>,
    bias: Option<ArrayView1<f32>>,
    config: Conv2dConfig,
) -> Result<Array4<f32>, Error> {
    let d = ConvDims::new(input.dim(), weight.dim(), config)?;
    check_bias(bias, d.filters)?;
    let mut output = Array4::zeros(d.output_shape());
    for n in 0..d.batch {
        for k in 0..d.filters {
            for i in 0..d.out_height {
                for j in 0..d.out_width {
                    // One neuron: the dot product of filter k with its receptive field.
                    let mut sum = bias.map_or(0.0, |b| b[k]);
                    for c in 0..d.channels {
                        for u in 0..d.kernel_height {
                            for v in 0..d.kernel_width {
                                if let Some((r, q)) = d.source(i, j, u, v) {
                                    sum += input[[n, c, r, q]] * weight[[k, c, u, v]];
                                }
                            }
                        }
                    }
                    output[[n, k, i, j]] = sum;
                }
            }
        }
    }
    Ok(output)
}
// ANCHOR_END: conv2d_naive

/// One channel, one filter: a 2D image and a 2D kernel, no bias.
pub fn conv2d_single(
    image: ArrayView2<f32>,
    kernel: ArrayView2<f32>,
    config: Conv2dConfig,
) -> Result<Array2<f32>, Error> {
    let (h, w) = image.dim();
    let (kh, kw) = kernel.dim();
    let x = image
        .to_shape((1, 1, h, w))
        .expect("a 2D array reshapes to 4D");
    let k = kernel
        .to_shape((1, 1, kh, kw))
        .expect("a 2D array reshapes to 4D");
    let y = conv2d_naive(x.view(), k.view(), None, config)?;
    let (_, _, oh, ow) = y.dim();
    Ok(y.into_shape_with_order((oh, ow))
        .expect("one image, one filter"))
}

// ANCHOR: gradients
/// Gradients of a convolution's loss with respect to its input, filters and bias.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2dGrads {
    /// `dL/dx`, shape `(N, C, H, W)`.
    pub input: Array4<f32>,
    /// `dL/dw`, shape `(K, C, KH, KW)`.
    pub weight: Array4<f32>,
    /// `dL/db`, shape `(K,)`.
    pub bias: Array1<f32>,
}

/// Backward pass of [`conv2d_naive`]: given `dL/dy` of shape `(N, K, H', W')`, every output
/// sends its gradient back along the connections it was computed from. Each weight was
/// used at every position, so its gradient is a sum over positions (and the batch).
pub fn conv2d_backward_naive(
    input: ArrayView4<f32>,
    weight: ArrayView4<f32>,
    grad_output: ArrayView4<f32>,
    config: Conv2dConfig,
) -> Result<Conv2dGrads, Error> {
    let d = ConvDims::new(input.dim(), weight.dim(), config)?;
    d.check_grad_output(grad_output.dim())?;
    let mut dx = Array4::zeros(input.dim());
    let mut dw = Array4::zeros(weight.dim());
    let mut db = Array1::zeros(d.filters);
    for n in 0..d.batch {
        for k in 0..d.filters {
            for i in 0..d.out_height {
                for j in 0..d.out_width {
                    let g = grad_output[[n, k, i, j]];
                    db[k] += g;
                    for c in 0..d.channels {
                        for u in 0..d.kernel_height {
                            for v in 0..d.kernel_width {
                                if let Some((r, q)) = d.source(i, j, u, v) {
                                    dw[[k, c, u, v]] += g * input[[n, c, r, q]];
                                    dx[[n, c, r, q]] += g * weight[[k, c, u, v]];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(Conv2dGrads {
        input: dx,
        weight: dw,
        bias: db,
    })
}
// ANCHOR_END: gradients

// ANCHOR: classic_filters
/// Hand-designed 3x3 filters that image processing used long before learning did.
pub fn classic_filters() -> Vec<(&'static str, Array2<f32>)> {
    use ndarray::array;
    vec![
        ("identity", array![[0., 0., 0.], [0., 1., 0.], [0., 0., 0.]]),
        ("box blur", Array2::from_elem((3, 3), 1.0 / 9.0)),
        (
            "sharpen",
            array![[0., -1., 0.], [-1., 5., -1.], [0., -1., 0.]],
        ),
        (
            "vertical edges (Sobel x)",
            array![[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]],
        ),
        (
            "horizontal edges (Sobel y)",
            array![[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]],
        ),
        (
            "outline (Laplacian)",
            array![[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]],
        ),
    ]
}
// ANCHOR_END: classic_filters
