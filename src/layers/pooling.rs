use ndarray::Array4;

use super::view4;
use crate::error::{Error, Result};
use crate::fast;
use crate::layer::{
    check_grad_shape, expect_rank, no_forward, Implementation, Layer, Mode, Tensor,
};
use crate::pool::{self, PoolConfig};
use crate::shape::Rounding;

/// `(N, C, H', W')` for an input `(N, C, H, W)` pooled by `config`.
fn pooled_shape(name: &str, input: &[usize], config: PoolConfig) -> Result<Vec<usize>> {
    expect_rank(name, input, 4, "images (N, C, H, W)")?;
    let d = config.dims((input[0], input[1], input[2], input[3]))?;
    Ok(vec![d.batch, d.channels, d.out_height, d.out_width])
}

/// `"3x3, stride 2"`, with the padding and rounding when they are not the plain ones.
fn describe(c: &PoolConfig) -> String {
    let mut s = format!("{}x{}, stride {}", c.field, c.field, c.stride);
    if c.padding > 0 {
        s += &format!(", padding {}", c.padding);
    }
    if c.rounding == Rounding::Ceil {
        s += ", ceil";
    }
    s
}

// ANCHOR: max_pool_layer
/// Max pooling as a layer; remembers the switches of the last forward pass.
#[derive(Debug, Clone)]
pub struct MaxPool2d {
    pub config: PoolConfig,
    pub implementation: Implementation,
    /// Where each output's maximum came from, for backward and for unpooling.
    pub switches: Option<Array4<(u32, u32)>>,
    input_shape: Option<(usize, usize, usize, usize)>,
}

impl Layer for MaxPool2d {
    fn name(&self) -> String {
        format!("MaxPool2d({})", describe(&self.config))
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        (self.switches, self.input_shape) = (None, None);
        let x = view4(&self.name(), input)?;
        let (y, switches) = match self.implementation {
            Implementation::Reference => pool::max_pool2d(x, self.config)?,
            Implementation::Fast => fast::pool::max_pool2d(x, self.config)?,
        };
        (self.switches, self.input_shape) = (Some(switches), Some(x.dim()));
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let (Some(switches), Some(shape)) = (&self.switches, self.input_shape) else {
            return Err(no_forward("MaxPool2d"));
        };
        check_grad_shape("MaxPool2d", switches.shape(), grad_output)?;
        let dy = view4("MaxPool2d backward", grad_output)?;
        Ok(match self.implementation {
            Implementation::Reference => pool::max_pool2d_backward(dy, switches.view(), shape)?,
            Implementation::Fast => fast::pool::max_pool2d_backward(dy, switches.view(), shape)?,
        }
        .into_dyn())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        pooled_shape(&self.name(), input, self.config)
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.implementation = implementation;
    }
}
// ANCHOR_END: max_pool_layer

impl MaxPool2d {
    /// `field x field` windows moving by `stride`, no padding; like PyTorch's
    /// `nn.MaxPool2d`, a stride that does not tile drops the last inputs.
    pub fn new(field: usize, stride: usize) -> Self {
        MaxPool2d {
            config: PoolConfig::new(field, stride).with_rounding(Rounding::Floor),
            implementation: Implementation::default(),
            switches: None,
            input_shape: None,
        }
    }

    /// This layer with `padding` on each side (at most half the window; never a maximum).
    pub fn padding(mut self, padding: usize) -> Self {
        self.config.padding = padding;
        self
    }

    /// This layer with another rule for strides that do not tile: [`Rounding::Ceil`] is
    /// PyTorch's `ceil_mode=True` and Caffe's pooling (GoogLeNet).
    pub fn rounding(mut self, rounding: Rounding) -> Self {
        self.config.rounding = rounding;
        self
    }
}

/// Average pooling as a layer.
#[derive(Debug, Clone)]
pub struct AvgPool2d {
    pub config: PoolConfig,
    pub implementation: Implementation,
    input_shape: Option<(usize, usize, usize, usize)>,
}

impl AvgPool2d {
    /// `field x field` windows moving by `stride`, no padding; like PyTorch's
    /// `nn.AvgPool2d`, a stride that does not tile drops the last inputs.
    pub fn new(field: usize, stride: usize) -> Self {
        AvgPool2d {
            config: PoolConfig::new(field, stride).with_rounding(Rounding::Floor),
            implementation: Implementation::default(),
            input_shape: None,
        }
    }

    /// This layer with `padding` zeros on each side (at most half the window).
    pub fn padding(mut self, padding: usize) -> Self {
        self.config.padding = padding;
        self
    }

    /// This layer with another rule for strides that do not tile.
    pub fn rounding(mut self, rounding: Rounding) -> Self {
        self.config.rounding = rounding;
        self
    }

    /// This layer, averaging over the real inputs only (PyTorch's
    /// `count_include_pad=False`).
    pub fn excluding_padding(mut self) -> Self {
        self.config.count_include_pad = false;
        self
    }
}

impl Layer for AvgPool2d {
    fn name(&self) -> String {
        format!("AvgPool2d({})", describe(&self.config))
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        self.input_shape = None;
        let x = view4(&self.name(), input)?;
        let y = match self.implementation {
            Implementation::Reference => pool::avg_pool2d(x, self.config)?,
            Implementation::Fast => fast::pool::avg_pool2d(x, self.config)?,
        };
        self.input_shape = Some(x.dim());
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let shape = self.input_shape.ok_or_else(|| no_forward("AvgPool2d"))?;
        let dy = view4("AvgPool2d backward", grad_output)?;
        Ok(match self.implementation {
            Implementation::Reference => pool::avg_pool2d_backward(dy, shape, self.config)?,
            Implementation::Fast => fast::pool::avg_pool2d_backward(dy, shape, self.config)?,
        }
        .into_dyn())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        pooled_shape(&self.name(), input, self.config)
    }

    fn set_implementation(&mut self, implementation: Implementation) {
        self.implementation = implementation;
    }
}

// ANCHOR: global_avg_pool
/// The mean of each channel: `(N, C, H, W)` -> `(N, C)`. ResNet's replacement for the large
/// fully connected layers at the top of earlier networks.
#[derive(Debug, Clone, Default)]
pub struct GlobalAvgPool {
    input_shape: Option<(usize, usize, usize, usize)>,
}

impl GlobalAvgPool {
    pub fn new() -> Self {
        GlobalAvgPool::default()
    }
}

impl Layer for GlobalAvgPool {
    fn name(&self) -> String {
        "GlobalAvgPool".into()
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        self.input_shape = None;
        let x = view4("GlobalAvgPool", input)?;
        let (n, c, h, w) = x.dim();
        if h * w == 0 {
            return Err(Error::Shape(format!(
                "GlobalAvgPool: empty images {:?}",
                input.shape()
            )));
        }
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        // Sixteen partial sums at a time, which the compiler keeps in a vector register.
        let means: Vec<f32> = xs
            .chunks(h * w)
            .map(|p| fast::direct::sum16(p) / (h * w) as f32)
            .collect();
        self.input_shape = Some((n, c, h, w));
        Ok(Tensor::from_shape_vec(vec![n, c], means).expect("N x C values"))
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = self
            .input_shape
            .ok_or_else(|| no_forward("GlobalAvgPool"))?;
        check_grad_shape("GlobalAvgPool", &[n, c], grad_output)?;
        let share = 1.0 / (h * w) as f32;
        let mut dx = Vec::with_capacity(n * c * h * w);
        for g in grad_output.iter() {
            dx.extend(std::iter::repeat_n(g * share, h * w));
        }
        Ok(Tensor::from_shape_vec(vec![n, c, h, w], dx).expect("N C H W values"))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_rank(&self.name(), input, 4, "images (N, C, H, W)")?;
        Ok(vec![input[0], input[1]])
    }
}
// ANCHOR_END: global_avg_pool

/// The input rows (or columns) that output `i` of `outputs` averages over an input of
/// `size`: PyTorch's adaptive windows, `floor(i size / outputs)` to
/// `ceil((i + 1) size / outputs)`.
fn adaptive_window(i: usize, outputs: usize, size: usize) -> std::ops::Range<usize> {
    (i * size / outputs)..((i + 1) * size).div_ceil(outputs)
}

/// Average pooling to a fixed output size, whatever the input's (PyTorch's
/// `nn.AdaptiveAvgPool2d`): windows of about `H / H'` by `W / W'`, placed as evenly as
/// the sizes allow. With an output of `1 x 1` it is global average pooling; torchvision's
/// AlexNet and VGG use it to accept inputs larger than 224 x 224.
#[derive(Debug, Clone)]
pub struct AdaptiveAvgPool2d {
    pub output: (usize, usize),
    input_shape: Option<(usize, usize, usize, usize)>,
}

impl AdaptiveAvgPool2d {
    pub fn new(height: usize, width: usize) -> Self {
        AdaptiveAvgPool2d {
            output: (height, width),
            input_shape: None,
        }
    }
}

impl Layer for AdaptiveAvgPool2d {
    fn name(&self) -> String {
        format!("AdaptiveAvgPool2d({}x{})", self.output.0, self.output.1)
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor> {
        self.input_shape = None;
        let shape = self.output_shape(input.shape())?;
        let x = view4(&self.name(), input)?;
        let (n, c, h, w) = x.dim();
        let (oh, ow) = self.output;
        let y = Array4::from_shape_fn((n, c, oh, ow), |(b, ch, i, j)| {
            let (rows, cols) = (adaptive_window(i, oh, h), adaptive_window(j, ow, w));
            let count = (rows.len() * cols.len()) as f32;
            let mut sum = 0.0;
            for r in rows {
                for q in cols.clone() {
                    sum += x[[b, ch, r, q]];
                }
            }
            sum / count
        });
        self.input_shape = Some((n, c, h, w));
        debug_assert_eq!(y.shape(), shape.as_slice());
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = self
            .input_shape
            .ok_or_else(|| no_forward("AdaptiveAvgPool2d"))?;
        let (oh, ow) = self.output;
        check_grad_shape("AdaptiveAvgPool2d", &[n, c, oh, ow], grad_output)?;
        let dy = view4("AdaptiveAvgPool2d backward", grad_output)?;
        let mut dx = Array4::zeros((n, c, h, w));
        for ((b, ch, i, j), &g) in dy.indexed_iter() {
            let (rows, cols) = (adaptive_window(i, oh, h), adaptive_window(j, ow, w));
            let share = g / (rows.len() * cols.len()) as f32;
            for r in rows {
                for q in cols.clone() {
                    dx[[b, ch, r, q]] += share;
                }
            }
        }
        Ok(dx.into_dyn())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        expect_rank(&self.name(), input, 4, "images (N, C, H, W)")?;
        if input[2] == 0 || input[3] == 0 || self.output.0 == 0 || self.output.1 == 0 {
            return Err(Error::Shape(format!(
                "{}: cannot pool an input of shape {input:?}",
                self.name()
            )));
        }
        Ok(vec![input[0], input[1], self.output.0, self.output.1])
    }
}
