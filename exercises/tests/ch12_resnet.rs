//! Checkers for chapter 12: compare the exercises with `cnn_book::resnet` and with the
//! library's residual layer.

mod common;

use cnn_book::init::Init;
use cnn_book::layer::{param_count, Layer, Mode, Tensor};
use cnn_book::layers::{Conv2d, Residual, Sequential};
use cnn_book::resnet::{basic_block, small_image_net};
use cnn_book_exercises::ch12_resnet::{basic_block_params, input_gradient, small_resnet_params};
use common::{Checker, Rng};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const FILE: &str = "exercises/src/ch12_resnet.rs";

/// The derivative of the chain by the library: each layer a 1 x 1 convolution of one
/// channel without bias (weight `w`), wrapped in a residual block for the residual chain;
/// one backward pass of a gradient of 1.
fn library_gradient(weights: &[f32], residual: bool) -> f32 {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut net = Sequential::new();
    for &w in weights {
        let mut conv = Conv2d::new(1, 1, 1, Init::He, &mut rng).without_bias();
        conv.weight.value.fill(w);
        let body = Sequential::new().add(conv);
        net = if residual {
            net.add(Residual::new(body))
        } else {
            net.add(body)
        };
    }
    let x = Tensor::from_elem(vec![1, 1, 1, 1], 0.5);
    net.forward(&x, Mode::Train)
        .expect("a chain of 1 x 1 convolutions");
    let dx = net
        .backward(&Tensor::ones(vec![1, 1, 1, 1]))
        .expect("after a forward pass");
    dx[[0, 0, 0, 0]]
}

#[test]
fn exercise_12_1_input_gradient() {
    let mut checker = Checker::new(
        "12.1",
        "input_gradient",
        FILE,
        "apply the chain rule one layer at a time: differentiate each layer's output with \
         respect to its input (in a residual layer both the body and the shortcut depend \
         on it), then combine the layers' derivatives; an empty chain gives 1",
    );
    let mut cases: Vec<(Vec<f32>, bool)> = vec![
        (vec![], false),
        (vec![], true),
        (vec![0.5, 0.5], false),
        (vec![0.5, 0.5], true),
        (vec![0.1; 20], false),
        (vec![0.1; 20], true),
    ];
    let mut rng = Rng::new(120 + 1);
    for _ in 0..300 {
        let depth = rng.size(1, 30);
        let weights = (0..depth).map(|_| rng.float(-1.5, 1.5) as f32).collect();
        cases.push((weights, rng.chance(1, 2)));
    }
    for (weights, residual) in cases {
        let expected = if weights.is_empty() {
            1.0
        } else {
            library_gradient(&weights, residual) as f64
        };
        checker.check_close(
            || format!("input_gradient(&{weights:?}, {residual})"),
            expected,
            || input_gradient(&weights, residual) as f64,
            1e-5,
        );
    }
    checker.finish();
}

#[test]
fn exercise_12_2_basic_block_params() {
    let mut checker = Checker::new(
        "12.2",
        "basic_block_params",
        FILE,
        "a convolution has c_in * c_out * field * field weights and no bias here; a batch \
         norm has 2 parameters per channel; the projection is there only when the stride is \
         not 1 or the channels change",
    );
    let mut cases = vec![(64, 64, 1), (64, 128, 2), (1, 1, 1), (3, 3, 2)];
    let mut rng = Rng::new(120 + 2);
    cases.extend((0..200).map(|_| {
        let c_in = rng.size(1, 64);
        let c_out = if rng.chance(1, 3) {
            c_in
        } else {
            rng.size(1, 64)
        };
        (c_in, c_out, rng.size(1, 2))
    }));
    let mut generator = ChaCha8Rng::seed_from_u64(1);
    for (c_in, c_out, stride) in cases {
        let expected = param_count(&basic_block(c_in, c_out, stride, &mut generator));
        checker.check(
            || format!("basic_block_params({c_in}, {c_out}, {stride})"),
            expected,
            || basic_block_params(c_in, c_out, stride),
        );
    }
    checker.finish();
}

#[test]
fn exercise_12_3_small_resnet_params() {
    let mut checker = Checker::new(
        "12.3",
        "small_resnet_params",
        FILE,
        "only the first block of stages 2 and 3 changes the shape (stride 2, twice the \
         channels); the other blocks keep it and have no projection; the last layer has \
         weights and biases",
    );
    let mut cases = vec![(1, 1), (1, 16), (3, 8), (9, 8)];
    let mut rng = Rng::new(120 + 3);
    cases.extend((0..40).map(|_| (rng.size(1, 6), rng.size(1, 20))));
    for (n, width) in cases {
        let expected = param_count(&small_image_net(n, width, true, 0));
        checker.check(
            || format!("small_resnet_params({n}, {width})"),
            expected,
            || small_resnet_params(n, width),
        );
    }
    checker.finish();
}
