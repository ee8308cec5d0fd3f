//! Residual networks (chapter `12-resnet`; He, Zhang, Ren & Sun, *Deep Residual Learning
//! for Image Recognition*, 2016): the basic and bottleneck blocks, and ResNet-18, -34, -50
//! and -152 as torchvision defines them (the reference readers compare with; same layers
//! and parameter shapes, checked in `tests/architectures.rs`).
//!
//! A block's layers are named as torchvision names them (`conv1`, `bn1`, ...), inside the
//! block's `body`; its projection shortcut is torchvision's `downsample`. So torchvision's
//! `layer2.0.conv1.weight` is `layer2.0.body.conv1.weight` here, and
//! `layer2.0.downsample.1.running_var` is `layer2.0.shortcut.1.running_var`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::init::Init;
use crate::layers::{
    BatchNorm2d, Conv2d, GlobalAvgPool, Linear, MaxPool2d, Relu, Residual, Sequential,
};

/// A convolution without bias (batch normalization follows), He-initialised.
fn conv(c_in: usize, c_out: usize, field: usize, stride: usize, rng: &mut ChaCha8Rng) -> Conv2d {
    Conv2d::new(c_in, c_out, field, Init::He, rng)
        .stride(stride)
        .padding(field / 2)
        .without_bias()
}

/// The projection shortcut: a 1 x 1 convolution with the block's stride, then batch
/// normalization; `None` (the identity) when the shape does not change.
fn shortcut(c_in: usize, c_out: usize, stride: usize, rng: &mut ChaCha8Rng) -> Option<Sequential> {
    (stride != 1 || c_in != c_out).then(|| {
        Sequential::new()
            .add(conv(c_in, c_out, 1, stride, rng))
            .add(BatchNorm2d::new(c_out))
    })
}

/// A block from its body and its shortcut, with ReLU after the sum.
fn block(body: Sequential, shortcut: Option<Sequential>) -> Residual {
    match shortcut {
        Some(s) => Residual::with_shortcut(body, s),
        None => Residual::new(body),
    }
    .then_relu()
}

// ANCHOR: basic_block
/// The basic block of ResNet-18 and -34: `relu(x' + F(x))` with
/// `F = BN(conv3x3(relu(BN(conv3x3(x)))))`; the first convolution has the block's
/// stride, and `x'` is `x` or its projection.
pub fn basic_block(c_in: usize, c_out: usize, stride: usize, rng: &mut ChaCha8Rng) -> Residual {
    let body = Sequential::new()
        .add_named("conv1", conv(c_in, c_out, 3, stride, rng))
        .add_named("bn1", BatchNorm2d::new(c_out))
        .add_named("relu", Relu::new())
        .add_named("conv2", conv(c_out, c_out, 3, 1, rng))
        .add_named("bn2", BatchNorm2d::new(c_out));
    let shortcut = shortcut(c_in, c_out, stride, rng);
    block(body, shortcut)
}
// ANCHOR_END: basic_block

// ANCHOR: bottleneck
/// The bottleneck block of ResNet-50 and deeper: a 1 x 1 convolution reduces the channels
/// to `width`, a 3 x 3 works at that width, a 1 x 1 expands to `4 width`. The stride sits
/// on the 3 x 3 convolution, as in torchvision (ResNet "v1.5"; the paper put it on the
/// first 1 x 1).
pub fn bottleneck(c_in: usize, width: usize, stride: usize, rng: &mut ChaCha8Rng) -> Residual {
    let c_out = 4 * width;
    let body = Sequential::new()
        .add_named("conv1", conv(c_in, width, 1, 1, rng))
        .add_named("bn1", BatchNorm2d::new(width))
        .add_named("relu1", Relu::new())
        .add_named("conv2", conv(width, width, 3, stride, rng))
        .add_named("bn2", BatchNorm2d::new(width))
        .add_named("relu2", Relu::new())
        .add_named("conv3", conv(width, c_out, 1, 1, rng))
        .add_named("bn3", BatchNorm2d::new(c_out));
    let shortcut = shortcut(c_in, c_out, stride, rng);
    block(body, shortcut)
}
// ANCHOR_END: bottleneck

/// Which block a ResNet stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    Basic,
    Bottleneck,
}

// ANCHOR: resnet
/// A ResNet for 224 x 224 images: a 7 x 7 stem of stride 2 and a 3 x 3 max pooling (to
/// 56 x 56), four stages of `blocks[i]` blocks at 64, 128, 256 and 512 channels (times 4
/// for bottlenecks), each stage after the first halving the size in its first block, then
/// global average pooling and one fully connected layer.
pub fn resnet(block_kind: Block, blocks: [usize; 4], classes: usize, seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    let expansion = if block_kind == Block::Basic { 1 } else { 4 };
    let mut net = Sequential::new()
        .add_named("conv1", conv(3, 64, 7, 2, r)) // 64 x 112 x 112
        .add_named("bn1", BatchNorm2d::new(64))
        .add_named("relu", Relu::new())
        .add_named("maxpool", MaxPool2d::new(3, 2).padding(1)); // 64 x 56 x 56
    let mut channels = 64;
    for (stage, (&count, width)) in blocks.iter().zip([64, 128, 256, 512]).enumerate() {
        let mut layer = Sequential::new();
        for i in 0..count {
            let stride = if stage > 0 && i == 0 { 2 } else { 1 };
            layer = match block_kind {
                Block::Basic => layer.add(basic_block(channels, width, stride, r)),
                Block::Bottleneck => layer.add(bottleneck(channels, width, stride, r)),
            };
            channels = width * expansion;
        }
        net = net.add_named(&format!("layer{}", stage + 1), layer);
    }
    net.add_named("avgpool", GlobalAvgPool::new())
        .add_named("fc", Linear::new(channels, classes, Init::Xavier, r))
}
// ANCHOR_END: resnet

/// ResNet-18: basic blocks `[2, 2, 2, 2]`, 11,689,512 parameters (torchvision).
pub fn resnet18(seed: u64) -> Sequential {
    resnet(Block::Basic, [2, 2, 2, 2], 1000, seed)
}

/// ResNet-34: basic blocks `[3, 4, 6, 3]`, 21,797,672 parameters (torchvision).
pub fn resnet34(seed: u64) -> Sequential {
    resnet(Block::Basic, [3, 4, 6, 3], 1000, seed)
}

/// ResNet-50: bottlenecks `[3, 4, 6, 3]`, 25,557,032 parameters (torchvision).
pub fn resnet50(seed: u64) -> Sequential {
    resnet(Block::Bottleneck, [3, 4, 6, 3], 1000, seed)
}

/// ResNet-152: bottlenecks `[3, 8, 36, 3]`, 60,192,808 parameters (torchvision).
pub fn resnet152(seed: u64) -> Sequential {
    resnet(Block::Bottleneck, [3, 8, 36, 3], 1000, seed)
}

// ANCHOR: plain_block
/// A basic block without its shortcut: `relu(BN(conv3x3(relu(BN(conv3x3(x))))))`, the
/// same layers as [`basic_block`] in the same order, for the plain networks the residual
/// ones are compared with.
pub fn plain_block(c_in: usize, c_out: usize, stride: usize, rng: &mut ChaCha8Rng) -> Sequential {
    Sequential::new()
        .add_named("conv1", conv(c_in, c_out, 3, stride, rng))
        .add_named("bn1", BatchNorm2d::new(c_out))
        .add_named("relu1", Relu::new())
        .add_named("conv2", conv(c_out, c_out, 3, 1, rng))
        .add_named("bn2", BatchNorm2d::new(c_out))
        .add_named("relu2", Relu::new())
}
// ANCHOR_END: plain_block

// ANCHOR: small_images
/// The networks of He et al.'s CIFAR-10 experiments (section 4.2), for 28 x 28 grey images:
/// a 3 x 3 convolution to `width` channels, three stages of `n` blocks at `width`, `2 width`
/// and `4 width` channels on 28 x 28, 14 x 14 and 7 x 7 (the first block of the second and
/// third stage halves the size with stride 2), global average pooling and a fully
/// connected layer to 10 classes: `6n + 2` layers with weights. With `residual` the blocks
/// are [`basic_block`]s, whose shortcut is a projection where the shape changes (the
/// paper's option B; for CIFAR it padded with zeros, option A); without, they are
/// [`plain_block`]s.
pub fn small_image_net(n: usize, width: usize, residual: bool, seed: u64) -> Sequential {
    let r = &mut ChaCha8Rng::seed_from_u64(seed);
    let mut net = Sequential::new()
        .add_named("conv1", conv(1, width, 3, 1, r))
        .add_named("bn1", BatchNorm2d::new(width))
        .add_named("relu", Relu::new());
    let mut channels = width;
    for stage in 0..3 {
        let c_out = width << stage;
        let mut layer = Sequential::new();
        for i in 0..n {
            let stride = if stage > 0 && i == 0 { 2 } else { 1 };
            layer = if residual {
                layer.add(basic_block(channels, c_out, stride, r))
            } else {
                layer.add(plain_block(channels, c_out, stride, r))
            };
            channels = c_out;
        }
        net = net.add_named(&format!("layer{}", stage + 1), layer);
    }
    net.add_named("avgpool", GlobalAvgPool::new())
        .add_named("fc", Linear::new(channels, 10, Init::Xavier, r))
}
// ANCHOR_END: small_images

/// The number of layers with weights in [`small_image_net`] with `n` blocks a stage:
/// the first convolution, two in each of the `3n` blocks, and the fully connected layer
/// (projection shortcuts are not counted, as in the paper).
pub fn small_image_depth(n: usize) -> usize {
    6 * n + 2
}
