//! Branches: residual blocks with identity and projection shortcuts, parallel branches
//! joined along the channels, and the small ResNet of chapter 16, against hand calculations
//! and finite differences.

mod common;

use cnn_book::init::Init;
use cnn_book::layer::{param_count, Layer, Mode, Tensor};
use cnn_book::layers::{
    AvgPool2d, BatchNorm2d, Concat, Conv2d, GlobalAvgPool, Linear, MaxPool2d, Relu, Residual,
    Sequential, Tanh,
};
use cnn_book::model::named_params;
use cnn_book::models::{lenet, resnet_small};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use common::{
    assert_gradients_eps as assert_gradients, assert_gradients_in, random_tensor as random,
};

#[test]
fn residual_block_and_global_pool_match_finite_differences() {
    let mut r = ChaCha8Rng::seed_from_u64(30);
    let mut block = Residual::new(
        Sequential::new()
            .add(Conv2d::new(2, 2, 3, Init::He, &mut r).padding(1))
            .add(Relu::new())
            .add(Conv2d::new(2, 2, 3, Init::He, &mut r).padding(1)),
    );
    assert_gradients(&mut block, &random(&[2, 2, 5, 5], 31), 2e-2, 1e-3);
    let mut gap = GlobalAvgPool::new();
    assert_gradients(&mut gap, &random(&[3, 4, 2, 5], 32), 1e-2, 1e-2);
    // The mean of 1..6 is 3.5.
    let x = Tensor::from_shape_vec(vec![1, 1, 2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
    assert_eq!(gap.forward(&x, Mode::Eval).unwrap()[[0, 0]], 3.5);
}

#[test]
fn a_residual_block_with_an_identity_body_doubles_its_input() {
    // body(x) = ReLU(x); for positive x the block gives x + x, and the gradient is 2.
    let mut block = Residual::new(Sequential::new().add(Relu::new()));
    let x = Tensor::from_elem(vec![1, 1, 2, 2], 1.5);
    assert!(block
        .forward(&x, Mode::Train)
        .unwrap()
        .iter()
        .all(|&v| v == 3.0));
    let dx = block.backward(&Tensor::ones(vec![1, 1, 2, 2])).unwrap();
    assert!(dx.iter().all(|&g| g == 2.0));
}

/// ResNet's downsampling block: the body halves the size and doubles the channels
/// (3 x 3 convolutions, the first with stride 2), and so does the projection shortcut
/// (a 1 x 1 convolution with stride 2, then batch norm), tanh for ReLU so that central
/// differences are accurate.
fn downsampling_block(seed: u64) -> Residual {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let body = Sequential::new()
        .add(
            Conv2d::new(2, 4, 3, Init::He, &mut r)
                .stride(2)
                .padding(1)
                .without_bias(),
        )
        .add(BatchNorm2d::new(4))
        .add(Tanh::new())
        .add(
            Conv2d::new(4, 4, 3, Init::He, &mut r)
                .padding(1)
                .without_bias(),
        )
        .add(BatchNorm2d::new(4));
    let shortcut = Sequential::new()
        .add(
            Conv2d::new(2, 4, 1, Init::He, &mut r)
                .stride(2)
                .without_bias(),
        )
        .add(BatchNorm2d::new(4));
    Residual::with_shortcut(body, shortcut)
}

#[test]
fn a_projection_shortcut_block_passes_the_gradient_check_in_both_modes() {
    let mut block = downsampling_block(33);
    // 6 x 6 -> 3 x 3: (6 - 3 + 2)/2 + 1 = 3 (floor of 3.5) for the body, (6 - 1)/2 + 1 = 3
    // for the shortcut.
    assert_eq!(block.output_shape(&[2, 2, 6, 6]).unwrap(), vec![2, 4, 3, 3]);
    let x = random(&[3, 2, 6, 6], 34);
    // Through batch norm in training the input gradients are small differences of larger
    // terms: a larger step keeps the f32 rounding of the difference quotient below them.
    assert_gradients_in(&mut block, &x, Mode::Train, 2e-2, 3e-2);
    assert_gradients_in(&mut block, &x, Mode::Eval, 2e-2, 1e-2);
    // Parameters and buffers are named by their place in the block.
    let names: Vec<String> = named_params(&block).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.contains(&"shortcut.0.weight".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"body.1.weight".to_string()), "{names:?}");
    // 2*4*9 + 4+4 + 4*4*9 + 4+4 (body), 2*4 + 4+4 (shortcut).
    assert_eq!(param_count(&block), 72 + 8 + 144 + 8 + 8 + 8);
}

#[test]
fn a_shortcut_of_the_wrong_shape_is_an_error_that_shows_both() {
    let mut r = ChaCha8Rng::seed_from_u64(35);
    let mut block = Residual::new(
        Sequential::new().add(Conv2d::new(2, 4, 3, Init::He, &mut r).stride(2).padding(1)),
    );
    let err = block
        .forward(&random(&[1, 2, 6, 6], 36), Mode::Train)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[1, 4, 3, 3]") && err.contains("[1, 2, 6, 6]"),
        "{err}"
    );
    assert!(block.output_shape(&[1, 2, 6, 6]).is_err());
}

/// An Inception-like module: four branches (1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max pool
/// then 1x1), joined along the channels.
fn inception(seed: u64) -> Concat {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    Concat::new()
        .branch(Sequential::new().add(Conv2d::new(3, 2, 1, Init::He, &mut r)))
        .branch(
            Sequential::new()
                .add(Conv2d::new(3, 2, 1, Init::He, &mut r))
                .add(Tanh::new())
                .add(Conv2d::new(2, 3, 3, Init::He, &mut r).padding(1)),
        )
        .branch(
            Sequential::new()
                .add(Conv2d::new(3, 1, 1, Init::He, &mut r))
                .add(Tanh::new())
                .add(Conv2d::new(1, 2, 5, Init::He, &mut r).padding(2)),
        )
        .branch(
            Sequential::new()
                .add(AvgPool2d::new(3, 1).padding(1))
                .add(Conv2d::new(3, 1, 1, Init::He, &mut r)),
        )
}

#[test]
fn concatenated_branches_pass_the_gradient_check_through_the_join() {
    let mut module = inception(37);
    assert_eq!(
        module.output_shape(&[2, 3, 5, 5]).unwrap(),
        vec![2, 2 + 3 + 2 + 1, 5, 5]
    );
    let x = random(&[2, 3, 5, 5], 38);
    assert_gradients(&mut module, &x, 1e-2, 1e-2);
    assert_gradients_in(&mut module, &x, Mode::Eval, 1e-2, 1e-2);
    // Each branch's output sits in its own channels, in order.
    let y = inception(37).forward(&x, Mode::Eval).unwrap();
    let mut first = Sequential::new().add(Conv2d::new(
        3,
        2,
        1,
        Init::He,
        &mut ChaCha8Rng::seed_from_u64(37),
    ));
    let y0 = first.forward(&x, Mode::Eval).unwrap();
    assert_eq!(y.slice(ndarray::s![.., 0..2, .., ..]).into_dyn(), y0.view());
}

#[test]
fn concatenation_refuses_branches_that_disagree_on_size() {
    let mut r = ChaCha8Rng::seed_from_u64(39);
    let mut module = Concat::new()
        .branch(Sequential::new().add(Conv2d::new(1, 1, 3, Init::He, &mut r)))
        .branch(Sequential::new().add(MaxPool2d::new(2, 2)));
    let err = module
        .forward(&random(&[1, 1, 6, 6], 40), Mode::Train)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[1, 1, 4, 4]") && err.contains("[1, 1, 3, 3]"),
        "{err}"
    );
}

#[test]
fn the_small_resnet_has_the_parameters_counted_by_hand() {
    let mut net = resnet_small(1);
    // stem conv 1*16*9 + 16 = 160, BN 2*16 = 32; each block 2 convs of 16*16*9 + 16 = 2,320
    // and 2 BNs of 32: 4,704, three blocks 14,112; linear 16*10 + 10 = 170.
    assert_eq!(param_count(&net), 160 + 32 + 3 * (2 * 2320 + 2 * 32) + 170);
    assert_eq!(param_count(&net), 14_474);
    assert_eq!(net.output_shape(&[5, 1, 28, 28]).unwrap(), vec![5, 10]);
    assert!(net
        .forward(&random(&[2, 1, 28, 28], 40), Mode::Train)
        .is_ok());
}

/// The small ResNet's structure with tanh for ReLU: smooth everywhere, so central
/// differences are accurate even where a nudge of a weight moves a whole channel through
/// batch normalization (with ReLU, such a nudge flips activations across the kink).
fn smooth_resnet(seed: u64) -> Sequential {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut net = Sequential::new()
        .add(Conv2d::new(1, 3, 3, Init::He, &mut r).padding(1))
        .add(BatchNorm2d::new(3))
        .add(Tanh::new());
    for _ in 0..2 {
        let body = Sequential::new()
            .add(Conv2d::new(3, 3, 3, Init::He, &mut r).padding(1))
            .add(BatchNorm2d::new(3))
            .add(Tanh::new())
            .add(Conv2d::new(3, 3, 3, Init::He, &mut r).padding(1))
            .add(BatchNorm2d::new(3));
        net = net.add(Residual::new(body)).add(Tanh::new());
    }
    net.add(GlobalAvgPool::new())
        .add(Linear::new(3, 4, Init::Xavier, &mut r))
}

#[test]
fn a_whole_residual_network_with_batch_norm_passes_the_gradient_check() {
    let mut net = smooth_resnet(41);
    // A smooth network allows a larger step, which keeps f32 rounding in the difference
    // quotient small. The hardest entries are the biases of convolutions followed by batch
    // normalization: BN subtracts the channel mean, so their true gradient is exactly 0 and
    // the finite difference returns rounding noise alone.
    assert_gradients(&mut net, &random(&[3, 1, 6, 6], 42), 2e-2, 1e-2);
    // Every convolution of this network is followed by batch norm.
    let mut bias_grads = 0.0f32;
    let mut convs = 0;
    cnn_book::model::visit(&net, &mut |_, layer| {
        if let Some(conv) = layer.downcast_ref::<Conv2d>() {
            convs += 1;
            let bias = conv.bias.as_ref().expect("with bias");
            bias_grads += bias.grad.iter().map(|g| g.abs()).sum::<f32>();
        }
    });
    assert_eq!(convs, 5);
    assert!(bias_grads < 1e-5, "conv biases before BN: {bias_grads}");
    // In evaluation mode too: saliency maps of a batch-norm network need it.
    assert_gradients_in(&mut net, &random(&[3, 1, 6, 6], 43), Mode::Eval, 2e-2, 1e-2);
}

#[test]
fn training_skips_only_the_input_gradient_of_the_first_layer() {
    // backward_params fills exactly the parameter gradients that backward fills.
    let x = random(&[4, 1, 28, 28], 60);
    let dy = random(&[4, 10], 61);
    let mut a = lenet(3);
    let mut b = lenet(3);
    a.forward(&x, Mode::Train).unwrap();
    b.forward(&x, Mode::Train).unwrap();
    a.backward(&dy).unwrap();
    b.backward_params(&dy).unwrap();
    for ((na, pa), (nb, pb)) in named_params(&a).iter().zip(named_params(&b)) {
        assert_eq!(na, &nb);
        assert_eq!(pa.grad, pb.grad, "{na}");
    }
}

/// The block with tanh in place of every ReLU, the one after the sum included, so that
/// finite differences are derivatives everywhere: with ReLU, nudging one weight moves a
/// whole channel's batch mean and pushes some inputs of a ReLU across its kink, where the
/// difference quotient says nothing about the slope.
fn smooth(mut block: Residual) -> Sequential {
    for i in 0..block.body.len() {
        if block
            .body
            .layer(i)
            .unwrap()
            .downcast_ref::<Relu>()
            .is_some()
        {
            block.body.replace(i, Tanh::new()).unwrap();
        }
    }
    assert!(block.relu.is_some());
    // tanh(body(x) + shortcut(x)): the sum, then tanh.
    let sum = match block.shortcut {
        Some(s) => Residual::with_shortcut(block.body, s),
        None => Residual::new(block.body),
    };
    Sequential::new().add(sum).add(Tanh::new())
}

#[test]
fn resnet_blocks_pass_the_gradient_check_through_the_addition() {
    use cnn_book::resnet::{basic_block, bottleneck};
    let mut r = ChaCha8Rng::seed_from_u64(40);
    // A bottleneck that changes the shape (8 -> 4 x 4 = 16 channels, stride 2: a
    // projection), one that keeps it (identity), and a basic block with a projection.
    for (name, block, shape) in [
        (
            "bottleneck, projection",
            bottleneck(8, 4, 2, &mut r),
            [2, 8, 6, 6],
        ),
        (
            "bottleneck, identity",
            bottleneck(16, 4, 1, &mut r),
            [2, 16, 4, 4],
        ),
        (
            "basic, projection",
            basic_block(8, 6, 2, &mut r),
            [2, 8, 6, 6],
        ),
    ] {
        assert_eq!(
            block.shortcut.is_some(),
            name.contains("projection"),
            "{name}"
        );
        let x = random(&shape, 41);
        // As built, in evaluation mode (batch norm is affine there) with a small step
        // that rarely crosses a kink.
        let mut block = block;
        assert_gradients_in(&mut block, &x, Mode::Eval, 2e-2, 1e-3);
        // Smooth, in both modes: training mode goes through the batch statistics too.
        let mut block = smooth(block);
        assert_gradients_in(&mut block, &x, Mode::Eval, 1e-2, 1e-2);
        assert_gradients_in(&mut block, &x, Mode::Train, 3e-2, 2e-2);
    }
}

#[test]
fn the_gradient_reaches_the_input_along_both_paths() {
    // A block whose body is a single 1 x 1 convolution with weight w and bias b:
    // y = x + (w x + b), so dy/dx = 1 (the shortcut) + w (the body). With the ReLU after
    // the sum and y > 0 the same holds; where y < 0 nothing passes.
    let mut r = ChaCha8Rng::seed_from_u64(43);
    let mut conv = Conv2d::new(1, 1, 1, Init::He, &mut r);
    conv.weight.value.fill(0.5);
    conv.bias.as_mut().unwrap().value.fill(-2.0);
    let mut block = Residual::new(Sequential::new().add(conv)).then_relu();
    let x = Tensor::from_shape_vec(vec![1, 1, 1, 2], vec![3.0, 1.0]).unwrap();
    // y = relu(x + 0.5 x - 2): 3 -> 2.5, 1 -> relu(-0.5) = 0.
    let y = block.forward(&x, Mode::Train).unwrap();
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![2.5, 0.0]);
    let dx = block.backward(&Tensor::ones(vec![1, 1, 1, 2])).unwrap();
    assert_eq!(dx.iter().copied().collect::<Vec<_>>(), vec![1.5, 0.0]);
}

#[test]
fn the_papers_inception_module_trains_through_its_concatenation() {
    use cnn_book::architectures::{inception_paper, InceptionWidths};
    let mut r = ChaCha8Rng::seed_from_u64(44);
    let w = InceptionWidths {
        c1: 2,
        reduce3: 2,
        c3: 3,
        reduce5: 1,
        c5: 2,
        pool_proj: 1,
    };
    let mut module = inception_paper(4, w, &mut r);
    assert_eq!(
        module.output_shape(&[2, 4, 5, 5]).unwrap(),
        vec![2, 8, 5, 5]
    );
    // Max pooling has a kink wherever two entries of a window tie: the input's entries are
    // a shuffle of -1, -0.99, ..., 0.99, at least 0.01 apart, and the step is smaller.
    let mut values: Vec<f32> = (0..200).map(|k| k as f32 * 0.01 - 1.0).collect();
    use rand::seq::SliceRandom;
    values.shuffle(&mut r);
    let x = Tensor::from_shape_vec(vec![2, 4, 5, 5], values).unwrap();
    assert_gradients_in(&mut module, &x, Mode::Train, 2e-2, 1e-3);
}
