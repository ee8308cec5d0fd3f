//! Model definitions that read like the network's diagram, one line per layer: LeNet, as
//! LeCun et al. (1998) built it and as it is built today (chapter `09-lenet`), and the small
//! residual network of chapter `16-fast-convolution`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::init::Init;
use crate::layer::Layer;
use crate::layers::{
    AvgPool2d, BatchNorm2d, Conv2d, Flatten, GlobalAvgPool, Linear, MaxPool2d, Relu, Residual,
    Sequential, Sigmoid, Tanh,
};

/// The models `cnn-book train` knows, by name.
pub const MODEL_NAMES: [&str; 3] = ["lenet", "lenet-classic", "resnet-small"];

/// An activation function, as a choice in a model's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Tanh,
    Sigmoid,
}

impl Activation {
    /// A fresh layer computing it.
    pub fn layer(self) -> Box<dyn Layer> {
        match self {
            Activation::Relu => Box::new(Relu::new()),
            Activation::Tanh => Box::new(Tanh::new()),
            Activation::Sigmoid => Box::new(Sigmoid::new()),
        }
    }
}

/// Max or average pooling, as a choice in a model's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Max,
    Average,
}

impl Pooling {
    /// A fresh `field x field` pooling layer with stride `stride`.
    pub fn layer(self, field: usize, stride: usize) -> Box<dyn Layer> {
        match self {
            Pooling::Max => Box::new(MaxPool2d::new(field, stride)),
            Pooling::Average => Box::new(AvgPool2d::new(field, stride)),
        }
    }
}

// ANCHOR: lenet
/// The choices that tell the LeNets of chapter 9 apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeNetConfig {
    pub activation: Activation,
    pub pooling: Pooling,
    /// How the weights of every layer but the last are drawn (the last: Xavier).
    pub init: Init,
}

impl LeNetConfig {
    /// Today's choices: ReLU, max pooling, He initialisation.
    pub const MODERN: LeNetConfig = LeNetConfig {
        activation: Activation::Relu,
        pooling: Pooling::Max,
        init: Init::He,
    };
    /// The 1998 paper's spirit: tanh, average pooling, Xavier initialisation (the paper's
    /// trainable subsampling and sparse C3 connections simplified to plain average pooling
    /// and full connections).
    pub const CLASSIC: LeNetConfig = LeNetConfig {
        activation: Activation::Tanh,
        pooling: Pooling::Average,
        init: Init::Xavier,
    };
}

/// LeNet-5 for `(N, 1, 28, 28)` images, with the weights drawn from `seed`.
pub fn lenet_with(config: LeNetConfig, seed: u64) -> Sequential {
    let LeNetConfig {
        activation: act,
        pooling: pool,
        init,
    } = config;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Sequential::new()
        .add(Conv2d::new(1, 6, 5, init, &mut rng).padding(2)) // 6 x 28 x 28
        .add(act.layer())
        .add(pool.layer(2, 2)) // 6 x 14 x 14
        .add(Conv2d::new(6, 16, 5, init, &mut rng)) // 16 x 10 x 10
        .add(act.layer())
        .add(pool.layer(2, 2)) // 16 x 5 x 5
        .add(Flatten::new()) // 400
        .add(Linear::new(16 * 5 * 5, 120, init, &mut rng))
        .add(act.layer())
        .add(Linear::new(120, 84, init, &mut rng))
        .add(act.layer())
        .add(Linear::new(84, 10, Init::Xavier, &mut rng)) // 10 class scores
}
// ANCHOR_END: lenet

/// LeNet-5 with today's choices ([`LeNetConfig::MODERN`]).
pub fn lenet(seed: u64) -> Sequential {
    lenet_with(LeNetConfig::MODERN, seed)
}

/// LeNet-5 with the classic choices ([`LeNetConfig::CLASSIC`]).
pub fn lenet_classic(seed: u64) -> Sequential {
    lenet_with(LeNetConfig::CLASSIC, seed)
}

// ANCHOR: resnet_small
/// A small residual network for 28 x 28 images (chapter 16's benchmark, after He et al.,
/// 2016): a 3 x 3 stem of 16 channels, three basic blocks `x + BN(conv(ReLU(BN(conv(x)))))`
/// each followed by a ReLU, all at 28 x 28 with 16 channels, then global average pooling
/// and one linear layer: 14,474 parameters, 7 convolutions.
pub fn resnet_small(seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let conv3 =
        |c_in, c_out, rng: &mut ChaCha8Rng| Conv2d::new(c_in, c_out, 3, Init::He, rng).padding(1);
    let mut net = Sequential::new()
        .add(conv3(1, 16, &mut rng))
        .add(BatchNorm2d::new(16))
        .add(Relu::new());
    for _ in 0..3 {
        let body = Sequential::new()
            .add(conv3(16, 16, &mut rng))
            .add(BatchNorm2d::new(16))
            .add(Relu::new())
            .add(conv3(16, 16, &mut rng))
            .add(BatchNorm2d::new(16));
        net = net.add(Residual::new(body)).add(Relu::new());
    }
    net.add(GlobalAvgPool::new())
        .add(Linear::new(16, 10, Init::Xavier, &mut rng))
}
// ANCHOR_END: resnet_small

/// A model by name (see [`MODEL_NAMES`]).
pub fn by_name(name: &str, seed: u64) -> Result<Sequential> {
    match name {
        "lenet" => Ok(lenet(seed)),
        "lenet-classic" => Ok(lenet_classic(seed)),
        "resnet-small" => Ok(resnet_small(seed)),
        other => Err(Error::Invalid(format!(
            "unknown model '{other}'; known: {}",
            MODEL_NAMES.join(", ")
        ))),
    }
}
