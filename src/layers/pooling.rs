use ndarray::{Array4, Ix4};

use super::as4;
use crate::error::ShapeError;
use crate::layer::{expect_rank, no_forward, Layer, Mode, Tensor};
use crate::pool::{
    avg_pool2d_backward_fast, avg_pool2d_fast, max_pool2d_backward_fast, max_pool2d_fast,
    PoolConfig,
};
use crate::shape::Window;

fn pooled_shape(name: &str, input: &[usize], config: PoolConfig) -> Result<Vec<usize>, ShapeError> {
    expect_rank(name, input, 4, "images (N, C, H, W)")?;
    let w = Window::new(config.field, 0, config.stride)?;
    Ok(vec![
        input[0],
        input[1],
        w.output_size(input[2])?,
        w.output_size(input[3])?,
    ])
}

// ANCHOR: max_pool_layer
/// Max pooling as a layer; remembers the switches of the last forward pass.
#[derive(Debug, Clone)]
pub struct MaxPool2d {
    pub config: PoolConfig,
    /// Where each output's maximum came from, for backward and for unpooling.
    pub switches: Option<Array4<(u32, u32)>>,
    input_shape: Option<(usize, usize, usize, usize)>,
}

impl MaxPool2d {
    pub fn new(field: usize, stride: usize) -> Self {
        MaxPool2d {
            config: PoolConfig { field, stride },
            switches: None,
            input_shape: None,
        }
    }
}

impl Layer for MaxPool2d {
    fn name(&self) -> String {
        format!(
            "MaxPool2d({}x{}, stride {})",
            self.config.field, self.config.field, self.config.stride
        )
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor, ShapeError> {
        let x = super::view4("MaxPool2d", input)?;
        let (y, switches) = max_pool2d_fast(x, self.config)?;
        self.switches = Some(switches);
        self.input_shape = Some(x.dim());
        Ok(y.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let switches = self
            .switches
            .as_ref()
            .ok_or_else(|| no_forward("MaxPool2d"))?;
        let shape = self.input_shape.ok_or_else(|| no_forward("MaxPool2d"))?;
        let dy = grad_output
            .view()
            .into_dimensionality::<Ix4>()
            .map_err(|_| {
                ShapeError::Mismatch(format!(
                    "MaxPool2d backward: gradient of shape {:?}",
                    grad_output.shape()
                ))
            })?;
        Ok(max_pool2d_backward_fast(dy, switches.view(), shape)?.into_dyn())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        pooled_shape(&self.name(), input, self.config)
    }
}

// ANCHOR_END: max_pool_layer

/// Average pooling as a layer.
#[derive(Debug, Clone)]
pub struct AvgPool2d {
    pub config: PoolConfig,
    input_shape: Option<(usize, usize, usize, usize)>,
}

impl AvgPool2d {
    pub fn new(field: usize, stride: usize) -> Self {
        AvgPool2d {
            config: PoolConfig { field, stride },
            input_shape: None,
        }
    }
}

impl Layer for AvgPool2d {
    fn name(&self) -> String {
        format!(
            "AvgPool2d({}x{}, stride {})",
            self.config.field, self.config.field, self.config.stride
        )
    }

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor, ShapeError> {
        let x = as4("AvgPool2d", input)?;
        self.input_shape = Some(x.dim());
        Ok(avg_pool2d_fast(x.view(), self.config)?.into_dyn())
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let shape = self.input_shape.ok_or_else(|| no_forward("AvgPool2d"))?;
        let dy = as4("AvgPool2d backward", grad_output)?;
        Ok(avg_pool2d_backward_fast(dy.view(), shape, self.config)?.into_dyn())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        pooled_shape(&self.name(), input, self.config)
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

    fn forward(&mut self, input: &Tensor, _mode: Mode) -> Result<Tensor, ShapeError> {
        let x = super::view4("GlobalAvgPool", input)?;
        let (n, c, h, w) = x.dim();
        if h * w == 0 {
            return Err(ShapeError::Mismatch(format!(
                "GlobalAvgPool: empty images {:?}",
                input.shape()
            )));
        }
        self.input_shape = Some((n, c, h, w));
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let means: Vec<f32> = xs
            .chunks(h * w)
            .map(|p| crate::direct_conv::sum16(p) / (h * w) as f32)
            .collect();
        Ok(Tensor::from_shape_vec(vec![n, c], means).expect("N x C values"))
    }

    fn backward(&mut self, grad_output: &Tensor) -> Result<Tensor, ShapeError> {
        let (n, c, h, w) = self
            .input_shape
            .ok_or_else(|| no_forward("GlobalAvgPool"))?;
        if grad_output.shape() != [n, c] {
            return Err(ShapeError::Mismatch(format!(
                "GlobalAvgPool backward: gradient of shape {:?}, expected {:?}",
                grad_output.shape(),
                [n, c]
            )));
        }
        let share = 1.0 / (h * w) as f32;
        let mut dx = Vec::with_capacity(n * c * h * w);
        for g in grad_output.iter() {
            dx.extend(std::iter::repeat_n(g * share, h * w));
        }
        Ok(Tensor::from_shape_vec(vec![n, c, h, w], dx).expect("N C H W values"))
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        expect_rank(&self.name(), input, 4, "images (N, C, H, W)")?;
        Ok(vec![input[0], input[1]])
    }
}
// ANCHOR_END: global_avg_pool
