//! LeNet, as LeCun et al. (1998) built it and as it is built today (chapter `09-lenet`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::conv::Conv2dConfig;
use crate::init::Init;
use crate::layers::{
    AvgPool2d, BatchNorm2d, Conv2d, Flatten, GlobalAvgPool, Linear, MaxPool2d, Relu, Residual,
    Sequential, Tanh,
};

/// The models `cnn-book train` knows, by name.
pub const MODEL_NAMES: [&str; 3] = ["lenet", "lenet-classic", "resnet-small"];

// ANCHOR: lenet
/// LeNet-5 with today's choices: ReLU, max pooling, He initialisation.
/// `(N, 1, 28, 28)` -> conv 5x5 (pad 2) 6 -> pool -> conv 5x5 16 -> pool -> 120 -> 84 -> 10.
pub fn lenet(seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pad2 = Conv2dConfig {
        stride: 1,
        padding: 2,
    };
    Sequential::new(vec![
        Box::new(Conv2d::new(1, 6, 5, pad2, Init::He, &mut rng)),
        Box::new(Relu::new()),
        Box::new(MaxPool2d::new(2, 2)),
        Box::new(Conv2d::new(
            6,
            16,
            5,
            Conv2dConfig::default(),
            Init::He,
            &mut rng,
        )),
        Box::new(Relu::new()),
        Box::new(MaxPool2d::new(2, 2)),
        Box::new(Flatten::new()),
        Box::new(Linear::new(16 * 5 * 5, 120, Init::He, &mut rng)),
        Box::new(Relu::new()),
        Box::new(Linear::new(120, 84, Init::He, &mut rng)),
        Box::new(Relu::new()),
        Box::new(Linear::new(84, 10, Init::Xavier, &mut rng)),
    ])
}

/// LeNet-5 as in the 1998 paper's spirit: tanh, average pooling, fully connected layers at
/// the end, Xavier initialisation (the paper's trainable subsampling and sparse C3
/// connections are simplified to plain average pooling and full connections).
pub fn lenet_classic(seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pad2 = Conv2dConfig {
        stride: 1,
        padding: 2,
    };
    Sequential::new(vec![
        Box::new(Conv2d::new(1, 6, 5, pad2, Init::Xavier, &mut rng)),
        Box::new(Tanh::new()),
        Box::new(AvgPool2d::new(2, 2)),
        Box::new(Conv2d::new(
            6,
            16,
            5,
            Conv2dConfig::default(),
            Init::Xavier,
            &mut rng,
        )),
        Box::new(Tanh::new()),
        Box::new(AvgPool2d::new(2, 2)),
        Box::new(Flatten::new()),
        Box::new(Linear::new(16 * 5 * 5, 120, Init::Xavier, &mut rng)),
        Box::new(Tanh::new()),
        Box::new(Linear::new(120, 84, Init::Xavier, &mut rng)),
        Box::new(Tanh::new()),
        Box::new(Linear::new(84, 10, Init::Xavier, &mut rng)),
    ])
}
// ANCHOR_END: lenet

// ANCHOR: resnet_small
/// A small residual network for 28 x 28 images (chapter 16's benchmark, after He et al.,
/// 2016): a 3 x 3 stem of 16 channels, three basic blocks `x + BN(conv(ReLU(BN(conv(x)))))`
/// each followed by a ReLU, all at 28 x 28 with 16 channels, then global average pooling
/// and one linear layer: 14,474 parameters, 7 convolutions.
pub fn resnet_small(seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let same = Conv2dConfig {
        stride: 1,
        padding: 1,
    };
    let mut layers: Vec<Box<dyn crate::layer::Layer>> = vec![
        Box::new(Conv2d::new(1, 16, 3, same, Init::He, &mut rng)),
        Box::new(BatchNorm2d::new(16)),
        Box::new(Relu::new()),
    ];
    for _ in 0..3 {
        let body = Sequential::new(vec![
            Box::new(Conv2d::new(16, 16, 3, same, Init::He, &mut rng)),
            Box::new(BatchNorm2d::new(16)),
            Box::new(Relu::new()),
            Box::new(Conv2d::new(16, 16, 3, same, Init::He, &mut rng)),
            Box::new(BatchNorm2d::new(16)),
        ]);
        layers.push(Box::new(Residual::new(body)));
        layers.push(Box::new(Relu::new()));
    }
    layers.push(Box::new(GlobalAvgPool::new()));
    layers.push(Box::new(Linear::new(16, 10, Init::Xavier, &mut rng)));
    Sequential::new(layers)
}
// ANCHOR_END: resnet_small

/// A model by name (see [`MODEL_NAMES`]).
pub fn by_name(name: &str, seed: u64) -> Result<Sequential, String> {
    match name {
        "lenet" => Ok(lenet(seed)),
        "lenet-classic" => Ok(lenet_classic(seed)),
        "resnet-small" => Ok(resnet_small(seed)),
        other => Err(format!(
            "unknown model '{other}'; known: {}",
            MODEL_NAMES.join(", ")
        )),
    }
}
