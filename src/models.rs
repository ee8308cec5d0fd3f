//! LeNet, as LeCun et al. (1998) built it and as it is built today (chapter `09-lenet`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::conv::Conv2dConfig;
use crate::init::Init;
use crate::layers::{AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Relu, Sequential, Tanh};

/// The models `cnn-book train` knows, by name.
pub const MODEL_NAMES: [&str; 2] = ["lenet", "lenet-classic"];

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

/// A model by name (see [`MODEL_NAMES`]).
pub fn by_name(name: &str, seed: u64) -> Result<Sequential, String> {
    match name {
        "lenet" => Ok(lenet(seed)),
        "lenet-classic" => Ok(lenet_classic(seed)),
        other => Err(format!(
            "unknown model '{other}'; known: {}",
            MODEL_NAMES.join(", ")
        )),
    }
}
