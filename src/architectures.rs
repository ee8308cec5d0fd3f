//! The famous convolutional networks of chapter `11-architectures`, one line per layer:
//! AlexNet, ZFNet, VGG-16 and GoogLeNet, for 224 x 224 colour images and 1,000 classes.
//!
//! AlexNet, VGG-16 and GoogLeNet are torchvision's definitions (the reference that
//! readers compare with: same layers, same parameter names and shapes, checked in
//! `tests/architectures.rs` against a record of torchvision 0.29); where torchvision
//! departs from the paper, the function says how. ZFNet, which torchvision does not have,
//! follows Figure 3 of its paper. The residual networks are in [`crate::resnet`].
//!
//! The networks are built with random weights; nothing in this course trains them (they
//! are meant for ImageNet), but they run forward and backward like any other model, and
//! [`crate::model::summary`] counts their parameters and multiply-accumulates.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::init::Init;
use crate::layers::{
    AdaptiveAvgPool2d, BatchNorm2d, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool, Grouped,
    Linear, LocalResponseNorm, MaxPool2d, Relu, Sequential,
};
use crate::lrn::LrnConfig;
use crate::shape::Rounding;

/// The networks [`by_name`] knows, for `cnn-book summary`.
pub const NAMES: [&str; 14] = [
    "lenet",
    "alexnet",
    "alexnet-paper",
    "zfnet",
    "vgg16",
    "googlenet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet152",
    "resnet-small",
    "resnet-fashion",
    "conv-pool-fc",
    "all-conv",
];

/// A network by name (see [`NAMES`]), with weights drawn from `seed`, and the shape of one
/// input it takes.
pub fn by_name(name: &str, seed: u64) -> Result<(Sequential, Vec<usize>)> {
    let imagenet = vec![1, 3, 224, 224];
    let fashion = vec![1, 1, 28, 28];
    Ok(match name {
        "lenet" => (crate::models::lenet(seed), fashion),
        "resnet-small" => (crate::models::resnet_small(seed), fashion),
        "resnet-fashion" => (crate::figures::resnet::small_resnet(seed), fashion),
        "conv-pool-fc" => (conv_pool_fc(seed), fashion),
        "all-conv" => (all_conv(seed), fashion),
        "alexnet" => (alexnet(seed), imagenet),
        "alexnet-paper" => (alexnet_paper(seed), vec![1, 3, 227, 227]),
        "zfnet" => (zfnet(seed), imagenet),
        "vgg16" => (vgg16(seed), imagenet),
        "googlenet" => (googlenet(seed), imagenet),
        "resnet18" => (crate::resnet::resnet18(seed), imagenet),
        "resnet34" => (crate::resnet::resnet34(seed), imagenet),
        "resnet50" => (crate::resnet::resnet50(seed), imagenet),
        "resnet152" => (crate::resnet::resnet152(seed), imagenet),
        other => {
            return Err(Error::Invalid(format!(
                "unknown network '{other}'; known: {}",
                NAMES.join(", ")
            )))
        }
    })
}

/// A convolution with `padding` and `stride`, He-initialised.
fn conv(
    c_in: usize,
    c_out: usize,
    field: usize,
    stride: usize,
    padding: usize,
    rng: &mut ChaCha8Rng,
) -> Conv2d {
    Conv2d::new(c_in, c_out, field, Init::He, rng)
        .stride(stride)
        .padding(padding)
}

/// A fully connected layer, He-initialised.
fn fc(inputs: usize, outputs: usize, rng: &mut ChaCha8Rng) -> Linear {
    Linear::new(inputs, outputs, Init::He, rng)
}

/// Dropout with probability 0.5 (AlexNet's and VGG's), its own seed from `rng`.
fn dropout(p: f32, rng: &mut ChaCha8Rng) -> Dropout {
    Dropout::new(p, rand::Rng::random(rng)).expect("0 <= p < 1")
}

/// The classifier of ZFNet and VGG: two fully connected layers of 4,096 with ReLU and
/// dropout, then 1,000 outputs.
fn classifier(inputs: usize, r: &mut ChaCha8Rng) -> Sequential {
    Sequential::new()
        .add(fc(inputs, 4096, r))
        .add(Relu::new())
        .add(dropout(0.5, r))
        .add(fc(4096, 4096, r))
        .add(Relu::new())
        .add(dropout(0.5, r))
        .add(fc(4096, 1000, r))
}

// ANCHOR: alexnet
/// AlexNet (Krizhevsky, Sutskever & Hinton, 2012) as torchvision defines it: 61,100,840
/// parameters. torchvision's is based on Krizhevsky's later single-GPU version ("One weird
/// trick", 2014) as his cuda-convnet2 code configures it: 64, 192, 384, 256, 256 filters
/// (that paper's footnote has 384 for the fourth) where the 2012 paper has 96, 256, 384,
/// 384, 256 in two halves on two GPUs; no local response normalization, and padding that
/// makes a 224 x 224 input work (the paper's layer sizes need 227, chapter 3).
pub fn alexnet(seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    let features = Sequential::new()
        .add(conv(3, 64, 11, 4, 2, r)) // 64 x 55 x 55
        .add(Relu::new())
        .add(MaxPool2d::new(3, 2)) // 64 x 27 x 27
        .add(conv(64, 192, 5, 1, 2, r)) // 192 x 27 x 27
        .add(Relu::new())
        .add(MaxPool2d::new(3, 2)) // 192 x 13 x 13
        .add(conv(192, 384, 3, 1, 1, r)) // 384 x 13 x 13
        .add(Relu::new())
        .add(conv(384, 256, 3, 1, 1, r)) // 256 x 13 x 13
        .add(Relu::new())
        .add(conv(256, 256, 3, 1, 1, r)) // 256 x 13 x 13
        .add(Relu::new())
        .add(MaxPool2d::new(3, 2)); // 256 x 6 x 6
    let classifier = Sequential::new()
        .add(dropout(0.5, r))
        .add(fc(256 * 6 * 6, 4096, r))
        .add(Relu::new())
        .add(dropout(0.5, r))
        .add(fc(4096, 4096, r))
        .add(Relu::new())
        .add(fc(4096, 1000, r));
    Sequential::new()
        .add_named("features", features)
        .add_named("avgpool", AdaptiveAvgPool2d::new(6, 6))
        .add_named("flatten", Flatten::new())
        .add_named("classifier", classifier)
}
// ANCHOR_END: alexnet

// ANCHOR: alexnet_paper
/// AlexNet as its paper describes it (Krizhevsky, Sutskever & Hinton, 2012, section 3 and
/// Figure 2), for the 227 x 227 inputs its sizes need (chapter 3): 96, 256, 384, 384 and
/// 256 filters; the second, fourth and fifth layers split in two groups, one per GPU, each
/// seeing only the feature maps of its own GPU; local response normalization after the
/// first two ReLUs; dropout after the first two fully connected layers. 60,965,224
/// parameters.
pub fn alexnet_paper(seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    // Two halves of a layer, one per GPU: each takes half the channels, gives half.
    let halves = |c_in: usize, c_out: usize, field, padding, r: &mut ChaCha8Rng| {
        Grouped::new()
            .group(conv(c_in / 2, c_out / 2, field, 1, padding, r))
            .group(conv(c_in / 2, c_out / 2, field, 1, padding, r))
    };
    let lrn = || LocalResponseNorm::new(LrnConfig::ALEXNET);
    let features = Sequential::new()
        .add(conv(3, 96, 11, 4, 0, r)) // 96 x 55 x 55
        .add(Relu::new())
        .add(lrn())
        .add(MaxPool2d::new(3, 2)) // 96 x 27 x 27
        .add(halves(96, 256, 5, 2, r)) // 256 x 27 x 27
        .add(Relu::new())
        .add(lrn())
        .add(MaxPool2d::new(3, 2)) // 256 x 13 x 13
        .add(conv(256, 384, 3, 1, 1, r)) // 384 x 13 x 13: across the GPUs
        .add(Relu::new())
        .add(halves(384, 384, 3, 1, r)) // 384 x 13 x 13
        .add(Relu::new())
        .add(halves(384, 256, 3, 1, r)) // 256 x 13 x 13
        .add(Relu::new())
        .add(MaxPool2d::new(3, 2)); // 256 x 6 x 6
    Sequential::new()
        .add_named("features", features)
        .add_named("flatten", Flatten::new())
        .add_named("classifier", classifier(256 * 6 * 6, r))
}
// ANCHOR_END: alexnet_paper

// ANCHOR: zfnet
/// ZFNet (Zeiler & Fergus, *Visualizing and Understanding Convolutional Networks*, 2014),
/// as Figure 3 of the paper draws it: AlexNet with a 7 x 7 first layer of stride 2 (where
/// AlexNet has 11 x 11 with stride 4), a second layer of stride 2, all on one GPU, and
/// normalization across feature maps after the first two poolings (here AlexNet's local
/// response normalization; the paper calls it contrast normalization and gives no
/// constants). The padding and rounding are chosen to give the paper's sizes, 110, 55,
/// 26, 13 and 6.
pub fn zfnet(seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    let pool = || MaxPool2d::new(3, 2).rounding(Rounding::Ceil);
    let features = Sequential::new()
        .add(conv(3, 96, 7, 2, 1, r)) // 96 x 110 x 110
        .add(Relu::new())
        .add(pool()) // 96 x 55 x 55
        .add(LocalResponseNorm::new(LrnConfig::ALEXNET))
        .add(conv(96, 256, 5, 2, 0, r)) // 256 x 26 x 26
        .add(Relu::new())
        .add(pool()) // 256 x 13 x 13
        .add(LocalResponseNorm::new(LrnConfig::ALEXNET))
        .add(conv(256, 384, 3, 1, 1, r)) // 384 x 13 x 13
        .add(Relu::new())
        .add(conv(384, 384, 3, 1, 1, r)) // 384 x 13 x 13
        .add(Relu::new())
        .add(conv(384, 256, 3, 1, 1, r)) // 256 x 13 x 13
        .add(Relu::new())
        .add(pool()); // 256 x 6 x 6
    Sequential::new()
        .add_named("features", features)
        .add_named("flatten", Flatten::new())
        .add_named("classifier", classifier(256 * 6 * 6, r))
}
// ANCHOR_END: zfnet

// ANCHOR: vgg16
/// VGG-16 (Simonyan & Zisserman, 2015, configuration D) as torchvision defines it:
/// 138,357,544 parameters. Thirteen 3 x 3 convolutions with padding 1 in five stages of
/// 64, 128, 256, 512 and 512 filters, each stage halved by 2 x 2 max pooling, then three
/// fully connected layers.
pub fn vgg16(seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    let mut features = Sequential::new();
    let mut channels = 3;
    for (convs, filters) in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)] {
        for _ in 0..convs {
            features = features
                .add(conv(channels, filters, 3, 1, 1, r))
                .add(Relu::new());
            channels = filters;
        }
        features = features.add(MaxPool2d::new(2, 2)); // 224 -> 112 -> 56 -> 28 -> 14 -> 7
    }
    Sequential::new()
        .add_named("features", features)
        .add_named("avgpool", AdaptiveAvgPool2d::new(7, 7))
        .add_named("flatten", Flatten::new())
        .add_named("classifier", classifier(512 * 7 * 7, r))
}
// ANCHOR_END: vgg16

// ANCHOR: inception
/// torchvision's `BasicConv2d`: a convolution without bias, batch normalization
/// (epsilon 0.001) and ReLU.
fn basic_conv(
    c_in: usize,
    c_out: usize,
    field: usize,
    stride: usize,
    padding: usize,
    r: &mut ChaCha8Rng,
) -> Sequential {
    let mut bn = BatchNorm2d::new(c_out);
    bn.eps = 1e-3;
    Sequential::new()
        .add_named(
            "conv",
            conv(c_in, c_out, field, stride, padding, r).without_bias(),
        )
        .add_named("bn", bn)
        .add_named("relu", Relu::new())
}

/// The widths of one Inception module, named as the columns of Table 1 of Szegedy et al.
/// (2015): the 1 x 1 branch, the 3 x 3 branch's reduction and output, the 5 x 5 branch's
/// reduction and output, and the projection after the pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InceptionWidths {
    pub c1: usize,
    pub reduce3: usize,
    pub c3: usize,
    pub reduce5: usize,
    pub c5: usize,
    pub pool_proj: usize,
}

impl InceptionWidths {
    /// The channels of the module's output: the four branches side by side.
    pub fn outputs(&self) -> usize {
        self.c1 + self.c3 + self.c5 + self.pool_proj
    }
}

/// GoogLeNet's nine Inception modules, rows of the paper's Table 1.
pub const GOOGLENET_MODULES: [(&str, InceptionWidths); 9] = {
    const fn w(
        c1: usize,
        reduce3: usize,
        c3: usize,
        reduce5: usize,
        c5: usize,
        pool_proj: usize,
    ) -> InceptionWidths {
        InceptionWidths {
            c1,
            reduce3,
            c3,
            reduce5,
            c5,
            pool_proj,
        }
    }
    [
        ("inception3a", w(64, 96, 128, 16, 32, 32)),
        ("inception3b", w(128, 128, 192, 32, 96, 64)),
        ("inception4a", w(192, 96, 208, 16, 48, 64)),
        ("inception4b", w(160, 112, 224, 24, 64, 64)),
        ("inception4c", w(128, 128, 256, 24, 64, 64)),
        ("inception4d", w(112, 144, 288, 32, 64, 64)),
        ("inception4e", w(256, 160, 320, 32, 128, 128)),
        ("inception5a", w(256, 160, 320, 32, 128, 128)),
        ("inception5b", w(384, 192, 384, 48, 128, 128)),
    ]
};

/// The Inception module with dimension reductions (Szegedy et al., 2015, Figure 2b), as
/// torchvision builds it: four branches on the same input, joined along the channels: a
/// 1 x 1 convolution; a 1 x 1 reduction then a 3 x 3; a 1 x 1 reduction then a "5 x 5";
/// a 3 x 3 max pooling then a 1 x 1 projection. Every convolution is torchvision's
/// `BasicConv2d` (with batch normalization), and the third branch's convolution is
/// 3 x 3 where the paper has 5 x 5, an error torchvision keeps for compatibility with its
/// trained weights. [`inception_paper`] is the paper's module.
pub fn inception(c_in: usize, w: InceptionWidths, r: &mut ChaCha8Rng) -> Concat {
    let reduced = |reduce, c_out, r: &mut ChaCha8Rng| {
        Sequential::new()
            .add(basic_conv(c_in, reduce, 1, 1, 0, r))
            .add(basic_conv(reduce, c_out, 3, 1, 1, r))
    };
    Concat::new()
        .branch_named("branch1", basic_conv(c_in, w.c1, 1, 1, 0, r))
        .branch_named("branch2", reduced(w.reduce3, w.c3, r))
        .branch_named("branch3", reduced(w.reduce5, w.c5, r))
        .branch_named(
            "branch4",
            Sequential::new()
                .add(MaxPool2d::new(3, 1).padding(1).rounding(Rounding::Ceil))
                .add(basic_conv(c_in, w.pool_proj, 1, 1, 0, r)),
        )
}
// ANCHOR_END: inception

// ANCHOR: inception_paper
/// A convolution with bias, then ReLU: the paper's convolutions.
fn conv_relu(c_in: usize, c_out: usize, field: usize, r: &mut ChaCha8Rng) -> Sequential {
    Sequential::new()
        .add(conv(c_in, c_out, field, 1, field / 2, r))
        .add(Relu::new())
}

/// A 1 x 1 convolution to `reduce` channels, then a `field x field` one to `c_out`, each
/// with a ReLU.
fn reduce_then(
    c_in: usize,
    reduce: usize,
    c_out: usize,
    field: usize,
    r: &mut ChaCha8Rng,
) -> Sequential {
    Sequential::new()
        .add(conv(c_in, reduce, 1, 1, 0, r))
        .add(Relu::new())
        .add(conv(reduce, c_out, field, 1, field / 2, r))
        .add(Relu::new())
}

/// The naive Inception module (Szegedy et al., 2015, Figure 2a): 1 x 1, 3 x 3 and 5 x 5
/// convolutions and a 3 x 3 max pooling, side by side on the same input and joined along
/// the channels. Nothing reduces the channels: the 5 x 5 convolutions see all `c_in`, and
/// the pooling passes all `c_in` on, so the output has `c1 + c3 + c5 + c_in` channels.
pub fn inception_naive(c_in: usize, c1: usize, c3: usize, c5: usize, r: &mut ChaCha8Rng) -> Concat {
    Concat::new()
        .branch(conv_relu(c_in, c1, 1, r))
        .branch(conv_relu(c_in, c3, 3, r))
        .branch(conv_relu(c_in, c5, 5, r))
        .branch(MaxPool2d::new(3, 1).padding(1))
}

/// The Inception module with dimension reductions as the paper drew it (Figure 2b): 1 x 1
/// convolutions shrink the channels before the 3 x 3 and 5 x 5 convolutions and after the
/// pooling; every convolution has a bias and a ReLU.
pub fn inception_paper(c_in: usize, w: InceptionWidths, r: &mut ChaCha8Rng) -> Concat {
    Concat::new()
        .branch(conv_relu(c_in, w.c1, 1, r))
        .branch(reduce_then(c_in, w.reduce3, w.c3, 3, r))
        .branch(reduce_then(c_in, w.reduce5, w.c5, 5, r))
        .branch(
            Sequential::new()
                .add(MaxPool2d::new(3, 1).padding(1))
                .add(conv_relu(c_in, w.pool_proj, 1, r)),
        )
}
// ANCHOR_END: inception_paper

// ANCHOR: googlenet
/// GoogLeNet (Inception v1; Szegedy et al., 2015) as torchvision defines it, without the
/// two auxiliary classifiers used only in training: 6,624,904 parameters. The nine
/// Inception modules of [`GOOGLENET_MODULES`], with a max pooling that halves the size
/// after the second and the seventh; max pooling rounds up (ceil mode), as in the paper's
/// Caffe model. torchvision adds batch normalization after every convolution, which the
/// paper (before batch normalization existed) did not have.
pub fn googlenet(seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    let pool = |field| MaxPool2d::new(field, 2).rounding(Rounding::Ceil);
    let mut net = Sequential::new()
        .add_named("conv1", basic_conv(3, 64, 7, 2, 3, r)) // 64 x 112 x 112
        .add_named("maxpool1", pool(3)) // 64 x 56 x 56
        .add_named("conv2", basic_conv(64, 64, 1, 1, 0, r))
        .add_named("conv3", basic_conv(64, 192, 3, 1, 1, r)) // 192 x 56 x 56
        .add_named("maxpool2", pool(3)); // 192 x 28 x 28
    let mut channels = 192;
    for (name, widths) in GOOGLENET_MODULES {
        net = net.add_named(name, inception(channels, widths, r));
        channels = widths.outputs();
        match name {
            "inception3b" => net = net.add_named("maxpool3", pool(3)), // 480 x 14 x 14
            "inception4e" => net = net.add_named("maxpool4", pool(2)), // 832 x 7 x 7
            _ => {}
        }
    }
    net.add_named("avgpool", GlobalAvgPool::new()) // 1024
        .add_named("dropout", dropout(0.2, r))
        .add_named("fc", fc(1024, 1000, r))
}
// ANCHOR_END: googlenet

// ANCHOR: conv_pool_fc
/// The common pattern of the networks before 2014, for 28 x 28 grey images: two stages of
/// a 3 x 3 convolution, ReLU and 2 x 2 max pooling (32 and 64 filters), then a fully
/// connected hidden layer of 128 units and the 10 class scores. 421,642 parameters, most
/// of them in the first fully connected layer.
pub fn conv_pool_fc(seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    Sequential::new()
        .add(conv(1, 32, 3, 1, 1, r)) // 32 x 28 x 28
        .add(Relu::new())
        .add(MaxPool2d::new(2, 2)) // 32 x 14 x 14
        .add(conv(32, 64, 3, 1, 1, r)) // 64 x 14 x 14
        .add(Relu::new())
        .add(MaxPool2d::new(2, 2)) // 64 x 7 x 7
        .add(Flatten::new())
        .add(fc(64 * 7 * 7, 128, r))
        .add(Relu::new())
        .add(Linear::new(128, 10, Init::Xavier, r))
}
// ANCHOR_END: conv_pool_fc

// ANCHOR: all_conv
/// The same two stages with nothing but convolutions (after Springenberg, Dosovitskiy, Brox
/// & Riedmiller, *Striving for Simplicity: The All Convolutional Net*, 2015): each max
/// pooling becomes a 3 x 3 convolution with stride 2, and the fully connected layers a
/// 1 x 1 convolution to the 10 classes followed by global average pooling. 65,642
/// parameters.
pub fn all_conv(seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    Sequential::new()
        .add(conv(1, 32, 3, 1, 1, r)) // 32 x 28 x 28
        .add(Relu::new())
        .add(conv(32, 32, 3, 2, 1, r)) // 32 x 14 x 14: in place of pooling
        .add(Relu::new())
        .add(conv(32, 64, 3, 1, 1, r)) // 64 x 14 x 14
        .add(Relu::new())
        .add(conv(64, 64, 3, 2, 1, r)) // 64 x 7 x 7: in place of pooling
        .add(Relu::new())
        .add(Conv2d::new(64, 10, 1, Init::Xavier, r)) // 10 x 7 x 7: a score map per class
        .add(GlobalAvgPool::new()) // 10 scores
}
// ANCHOR_END: all_conv
