//! The layers of the small ResNet (batch normalization, the residual shortcut, global
//! average pooling) against finite differences and hand calculations; the fast max
//! pooling against chapter 7's loops; the first layer's parameters-only backward pass.

mod common;

use cnn_book::conv::Conv2dConfig;
use cnn_book::init::Init;
use cnn_book::layer::{param_count, Layer, Mode, Tensor};
use cnn_book::layers::{
    BatchNorm2d, Conv2d, GlobalAvgPool, Linear, Relu, Residual, Sequential, Tanh,
};
use cnn_book::models::{lenet, resnet_small};
use cnn_book::pool::{
    avg_pool2d, avg_pool2d_backward, avg_pool2d_backward_fast, avg_pool2d_fast, max_pool2d,
    max_pool2d_backward, max_pool2d_backward_fast, max_pool2d_fast, PoolConfig,
};
use ndarray::Array4;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use common::{assert_gradients_eps as assert_gradients, random_tensor as random};

#[test]
fn batch_norm_by_hand() {
    // One channel, values 1, 2, 3, 4 (two images of 1x2): mean 2.5, biased variance 1.25.
    let x = Tensor::from_shape_vec(vec![2, 1, 1, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let mut bn = BatchNorm2d::new(1);
    bn.gamma.value[0] = 2.0;
    bn.beta.value[0] = 0.5;
    let y = bn.forward(&x, Mode::Train).unwrap();
    let sigma = (1.25f32 + 1e-5).sqrt();
    for (got, v) in y.iter().zip([1.0f32, 2.0, 3.0, 4.0]) {
        let expected = 2.0 * (v - 2.5) / sigma + 0.5;
        assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
    }
    // Running statistics: 0.9 * 0 + 0.1 * 2.5, and 0.9 * 1 + 0.1 * (5 / 3) (unbiased).
    assert!((bn.running_mean[0] - 0.25).abs() < 1e-6);
    assert!((bn.running_var[0] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-6);
    // Evaluation uses the running statistics, not the batch's.
    let e = bn.forward(&x, Mode::Eval).unwrap();
    let expected = 2.0 * (1.0 - 0.25) / (bn.running_var[0] + 1e-5).sqrt() + 0.5;
    assert!((e[[0, 0, 0, 0]] - expected).abs() < 1e-5);
    // A gradient equal to the output's own shift direction sums to zero through BN: the
    // normalised values have zero mean, so a constant upstream gradient is cancelled.
    let dx = bn
        .backward(&Tensor::from_elem(vec![2, 1, 1, 2], 3.0))
        .unwrap();
    assert!(dx.iter().all(|g| g.abs() < 1e-5), "{dx:?}");
    assert!((bn.beta.grad[0] - 12.0).abs() < 1e-5);
}

#[test]
fn batch_norm_backward_matches_finite_differences() {
    let mut bn = BatchNorm2d::new(3);
    bn.gamma.value = random(&[3], 20).mapv(|v| v + 1.5);
    bn.beta.value = random(&[3], 21);
    assert_gradients(&mut bn, &random(&[4, 3, 3, 3], 22), 1e-2, 1e-2);
}

#[test]
fn batch_norm_rejects_wrong_channels_and_single_values() {
    let mut bn = BatchNorm2d::new(3);
    let err = bn
        .forward(&random(&[2, 4, 3, 3], 1), Mode::Train)
        .unwrap_err();
    assert!(err.to_string().contains("4 channels"), "{err}");
    let err = bn
        .forward(&random(&[1, 3, 1, 1], 1), Mode::Train)
        .unwrap_err();
    assert!(err.to_string().contains("at least two"), "{err}");
    assert!(BatchNorm2d::new(3)
        .backward(&random(&[2, 3, 2, 2], 1))
        .is_err());
}

#[test]
fn residual_block_and_global_pool_match_finite_differences() {
    let mut r = ChaCha8Rng::seed_from_u64(30);
    let same = Conv2dConfig {
        stride: 1,
        padding: 1,
    };
    let mut block = Residual::new(Sequential::new(vec![
        Box::new(Conv2d::new(2, 2, 3, same, Init::He, &mut r)),
        Box::new(Relu::new()),
        Box::new(Conv2d::new(2, 2, 3, same, Init::He, &mut r)),
    ]));
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
    let mut block = Residual::new(Sequential::new(vec![Box::new(Relu::new())]));
    let x = Tensor::from_elem(vec![1, 1, 2, 2], 1.5);
    assert!(block
        .forward(&x, Mode::Train)
        .unwrap()
        .iter()
        .all(|&v| v == 3.0));
    let dx = block.backward(&Tensor::ones(vec![1, 1, 2, 2])).unwrap();
    assert!(dx.iter().all(|&g| g == 2.0));
}

#[test]
fn the_small_resnet_has_the_parameters_counted_by_hand_and_passes_the_gradient_check() {
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
    let same = Conv2dConfig {
        stride: 1,
        padding: 1,
    };
    let mut layers: Vec<Box<dyn Layer>> = vec![
        Box::new(Conv2d::new(1, 3, 3, same, Init::He, &mut r)),
        Box::new(BatchNorm2d::new(3)),
        Box::new(Tanh::new()),
    ];
    for _ in 0..2 {
        layers.push(Box::new(Residual::new(Sequential::new(vec![
            Box::new(Conv2d::new(3, 3, 3, same, Init::He, &mut r)),
            Box::new(BatchNorm2d::new(3)),
            Box::new(Tanh::new()),
            Box::new(Conv2d::new(3, 3, 3, same, Init::He, &mut r)),
            Box::new(BatchNorm2d::new(3)),
        ]))));
        layers.push(Box::new(Tanh::new()));
    }
    layers.push(Box::new(GlobalAvgPool::new()));
    layers.push(Box::new(Linear::new(3, 4, Init::Xavier, &mut r)));
    Sequential::new(layers)
}

#[test]
fn a_whole_residual_network_with_batch_norm_passes_the_gradient_check() {
    let mut net = smooth_resnet(41);
    // A smooth network allows a larger step, which keeps f32 rounding in the difference
    // quotient small. The hardest entries are the biases of convolutions followed by batch
    // normalization: BN subtracts the channel mean, so their true gradient is exactly 0 and
    // the finite difference returns rounding noise alone.
    assert_gradients(&mut net, &random(&[3, 1, 6, 6], 42), 2e-2, 1e-2);
    let bias_grads: f32 = net
        .params()
        .iter()
        .filter(|p| p.name == "bias" && p.value.len() == 3)
        .map(|p| p.grad.iter().map(|g| g.abs()).sum::<f32>())
        .sum();
    assert!(bias_grads < 1e-5, "conv biases before BN: {bias_grads}");
}

#[test]
fn fast_max_pooling_equals_chapter_7s_loops_ties_included() {
    let mut r = ChaCha8Rng::seed_from_u64(50);
    for _ in 0..200 {
        let (field, stride) = (r.random_range(1..4), r.random_range(1..4));
        let (h, w) = (r.random_range(field..12), r.random_range(field..12));
        if (h - field) % stride != 0 || (w - field) % stride != 0 {
            continue;
        }
        let shape = (r.random_range(1..4), r.random_range(1..4), h, w);
        // Values from a small set: many ties, which the first maximum must win.
        let x = Array4::from_shape_fn(shape, |_| r.random_range(0..3) as f32);
        let config = PoolConfig { field, stride };
        let (y, s) = max_pool2d(x.view(), config).unwrap();
        let (yf, sf) = max_pool2d_fast(x.view(), config).unwrap();
        assert_eq!(y, yf);
        assert_eq!(s, sf);
        let dy = Array4::from_shape_fn(y.dim(), |_| r.random_range(-1.0f32..1.0));
        let dx = max_pool2d_backward(dy.view(), s.view(), shape).unwrap();
        let dxf = max_pool2d_backward_fast(dy.view(), s.view(), shape).unwrap();
        assert_eq!(dx, dxf);
    }
}

#[test]
fn fast_average_pooling_equals_chapter_7s_loops_bit_for_bit() {
    let mut r = ChaCha8Rng::seed_from_u64(51);
    let mut tested = 0;
    while tested < 200 {
        let (field, stride) = (r.random_range(1..4), r.random_range(1..4));
        let (h, w) = (r.random_range(field..12), r.random_range(field..12));
        if (h - field) % stride != 0 || (w - field) % stride != 0 {
            continue;
        }
        tested += 1;
        // Overlapping windows (stride below the field) share inputs in the backward pass.
        let shape = (r.random_range(1..4), r.random_range(1..4), h, w);
        let x = Array4::from_shape_fn(shape, |_| r.random_range(-1.0f32..1.0));
        let config = PoolConfig { field, stride };
        let y = avg_pool2d(x.view(), config).unwrap();
        assert_eq!(y, avg_pool2d_fast(x.view(), config).unwrap());
        let dy = Array4::from_shape_fn(y.dim(), |_| r.random_range(-1.0f32..1.0));
        let dx = avg_pool2d_backward(dy.view(), shape, config).unwrap();
        assert_eq!(
            dx,
            avg_pool2d_backward_fast(dy.view(), shape, config).unwrap()
        );
    }
    // A gradient of the wrong shape is an error, not a panic.
    let config = PoolConfig {
        field: 2,
        stride: 2,
    };
    let dy = Array4::<f32>::zeros((1, 1, 3, 3));
    let err = avg_pool2d_backward_fast(dy.view(), (1, 1, 4, 4), config).unwrap_err();
    assert!(err.to_string().contains("(1, 1, 2, 2)"), "{err}");
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
    for (pa, pb) in a.params().iter().zip(b.params()) {
        assert_eq!(pa.grad, pb.grad, "{}", pa.name);
    }
}

#[test]
fn batch_norm_statistics_survive_a_large_offset() {
    // Values 10,000 + u with u uniform in [-1, 1): a naive E[x^2] - E[x]^2 in f32 loses
    // every digit of the variance. Compare with a two-pass f64 computation.
    let x = random(&[8, 2, 5, 5], 80).mapv(|u| 1e4 + u);
    let mut bn = BatchNorm2d::new(2);
    bn.momentum = 1.0; // the running variance becomes the batch's unbiased variance
    bn.forward(&x, Mode::Train).unwrap();
    for k in 0..2 {
        let values: Vec<f64> = x
            .index_axis(ndarray::Axis(1), k)
            .iter()
            .map(|&v| v as f64)
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var =
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
        let got = bn.running_var[k] as f64;
        assert!(
            (got / var - 1.0).abs() < 1e-3,
            "channel {k}: {got} vs {var}"
        );
        assert!((bn.running_mean[k] as f64 - mean).abs() < 1e-2);
    }
}
