//! Model definitions that read like the network's diagram, one line per layer: LeNet, as
//! LeCun et al. (1998) built it and as it is built today (chapter `09-lenet`), and the small
//! residual network of chapter `16-fast-convolution`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::init::Init;
use crate::layer::Layer;
use crate::layers::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Flatten, GlobalAvgPool, LayerNorm, Linear,
    LocalResponseNorm, MaxPool2d, Relu, Residual, Selu, Sequential, Sigmoid, Tanh,
};
use crate::lrn::LrnConfig;

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

// ANCHOR: small_cnn
/// Chapter 10's convolutional network: two 3 x 3 convolutions (16 and 32 filters), each
/// followed by a ReLU and 2 x 2 max pooling, then a hidden layer of 128 units. With
/// `batch_norm`, every convolution and the hidden layer are batch-normalized before their
/// ReLU, as Ioffe & Szegedy place it, and lose their biases (batch norm's beta shifts).
pub fn small_cnn(batch_norm: bool, seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let conv = |c_in, c_out, rng: &mut ChaCha8Rng| {
        let conv = Conv2d::new(c_in, c_out, 3, Init::He, rng).padding(1);
        if batch_norm {
            conv.without_bias()
        } else {
            conv
        }
    };
    let mut net = Sequential::new().add(conv(1, 16, &mut rng)); // 16 x 28 x 28
    if batch_norm {
        net = net.add(BatchNorm2d::new(16));
    }
    net = net
        .add(Relu::new())
        .add(MaxPool2d::new(2, 2)) // 16 x 14 x 14
        .add(conv(16, 32, &mut rng)); // 32 x 14 x 14
    if batch_norm {
        net = net.add(BatchNorm2d::new(32));
    }
    net = net
        .add(Relu::new())
        .add(MaxPool2d::new(2, 2)) // 32 x 7 x 7
        .add(Flatten::new())
        .add(Linear::new(32 * 7 * 7, 128, Init::He, &mut rng));
    if batch_norm {
        net = net.add(BatchNorm1d::new(128));
    }
    net.add(Relu::new())
        .add(Linear::new(128, 10, Init::Xavier, &mut rng))
}
// ANCHOR_END: small_cnn

// ANCHOR: lrn_cnn
/// Chapter 15's network: chapter 10's small CNN without batch normalization, and with
/// `lrn`, local response normalization after each convolution's ReLU and before its
/// pooling, where AlexNet has it.
pub fn lrn_cnn(lrn: bool, config: LrnConfig, seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = Sequential::new()
        .add(Conv2d::new(1, 16, 3, Init::He, &mut rng).padding(1)) // 16 x 28 x 28
        .add(Relu::new());
    if lrn {
        net = net.add(LocalResponseNorm::new(config));
    }
    net = net
        .add(MaxPool2d::new(2, 2)) // 16 x 14 x 14
        .add(Conv2d::new(16, 32, 3, Init::He, &mut rng).padding(1)) // 32 x 14 x 14
        .add(Relu::new());
    if lrn {
        net = net.add(LocalResponseNorm::new(config));
    }
    net.add(MaxPool2d::new(2, 2)) // 32 x 7 x 7
        .add(Flatten::new())
        .add(Linear::new(32 * 7 * 7, 128, Init::He, &mut rng))
        .add(Relu::new())
        .add(Linear::new(128, 10, Init::Xavier, &mut rng))
}
// ANCHOR_END: lrn_cnn

/// How the hidden layers of [`deep_mlp`] keep their activations in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Normalization {
    /// ReLU after He-initialised weights, nothing else.
    Plain,
    /// Batch normalization before each ReLU.
    Batch,
    /// Layer normalization before each ReLU.
    Layer,
    /// SELU after LeCun-normal weights: a self-normalizing network.
    SelfNormalizing,
}

// ANCHOR: deep_mlp
/// A fully connected network on flattened 28 x 28 images: `depth` hidden layers of
/// `width` units, normalized as `norm` says, then 10 class scores.
pub fn deep_mlp(depth: usize, width: usize, norm: Normalization, seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let init = match norm {
        Normalization::SelfNormalizing => Init::LeCun,
        _ => Init::He,
    };
    let mut net = Sequential::new().add(Flatten::new());
    let mut inputs = 28 * 28;
    for _ in 0..depth {
        net = net.add(Linear::new(inputs, width, init, &mut rng));
        net = match norm {
            Normalization::Plain => net.add(Relu::new()),
            Normalization::Batch => net.add(BatchNorm1d::new(width)).add(Relu::new()),
            Normalization::Layer => net.add(LayerNorm::new(&[width])).add(Relu::new()),
            Normalization::SelfNormalizing => net.add(Selu::new()),
        };
        inputs = width;
    }
    net.add(Linear::new(inputs, 10, init, &mut rng))
}
// ANCHOR_END: deep_mlp

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
