//! Chapter 08: every layer's backward pass against finite differences, the loss, the
//! initialisers, and whole small networks.

mod common;

use approx::assert_abs_diff_eq;
use cnn_book::fast::elementwise::tanh;
use cnn_book::init::Init;
use cnn_book::layer::{param_count, Implementation, Layer, Mode, Tensor};
use cnn_book::layers::{
    AvgPool2d, Conv2d, ConvAlgorithm, Dropout, Flatten, Linear, MaxPool2d, Relu, ReluRule,
    Sequential, Sigmoid, Tanh,
};
use cnn_book::loss::{argmax_rows, softmax_cross_entropy};
use ndarray::{array, Array2, IxDyn};
use rand::Rng;

use common::{assert_gradients_eps, random_tensor as random, rng};

/// Asserts that the layer's backward pass agrees with central differences.
fn assert_gradients(layer: &mut dyn Layer, input: &Tensor, tolerance: f64) {
    assert_gradients_eps(layer, input, tolerance, 1e-2);
}

#[test]
fn linear_backward_matches_finite_differences() {
    let mut layer = Linear::new(7, 4, Init::Xavier, &mut rng(1));
    assert_gradients(&mut layer, &random(&[3, 7], 2), 1e-2);
}

#[test]
fn conv2d_backward_matches_finite_differences_for_every_algorithm() {
    for algorithm in [
        ConvAlgorithm::Naive,
        ConvAlgorithm::Im2col,
        ConvAlgorithm::Fast,
    ] {
        for (stride, padding) in [(1, 0), (1, 1), (2, 1)] {
            let mut layer = Conv2d::new(2, 3, 3, Init::He, &mut rng(3))
                .stride(stride)
                .padding(padding);
            layer.algorithm = algorithm;
            assert_gradients(&mut layer, &random(&[2, 2, 7, 7], 4), 1e-2);
        }
    }
}

#[test]
fn im2col_fast_and_naive_layers_agree_forward_and_backward() {
    let conv = || {
        Conv2d::new(3, 4, 3, Init::He, &mut rng(5))
            .stride(2)
            .padding(1)
    };
    let mut a = conv();
    a.algorithm = ConvAlgorithm::Naive;
    let x = random(&[2, 3, 9, 9], 6);
    let ya = a.forward(&x, Mode::Train).unwrap();
    let dy = random(ya.shape(), 7);
    let da = a.backward(&dy).unwrap();
    let close = |p: &Tensor, q: &Tensor| p.iter().zip(q).all(|(x, y)| (x - y).abs() < 1e-4);
    for algorithm in [ConvAlgorithm::Im2col, ConvAlgorithm::Fast] {
        let mut b = conv();
        b.algorithm = algorithm;
        let yb = b.forward(&x, Mode::Train).unwrap();
        assert!(close(&ya, &yb), "{algorithm:?} forward");
        let db = b.backward(&dy).unwrap();
        assert!(close(&da, &db), "{algorithm:?} input gradient");
        let (ab, bb) = (a.bias.as_ref().unwrap(), b.bias.as_ref().unwrap());
        assert!(
            close(&a.weight.grad, &b.weight.grad) && close(&ab.grad, &bb.grad),
            "{algorithm:?} parameter gradients"
        );
    }
}

#[test]
fn activations_backward_match_finite_differences() {
    // Keep inputs away from 0, where ReLU has a kink the finite difference would straddle.
    let x = random(&[4, 5], 8).mapv(|v| if v.abs() < 0.05 { v + 0.1 } else { v });
    assert_gradients(&mut Relu::new(), &x, 1e-3);
    assert_gradients(&mut Sigmoid::new(), &x, 1e-3);
    assert_gradients(&mut Tanh::new(), &x, 1e-3);
}

/// The rational `tanh` against the math library's, in `f64`: on a fine grid over
/// [-10, 10], near 0 (where `tanh(x)` is `x` to within `x^3 / 3`), and on the special
/// values; and its odd symmetry, exact since `p` and `q` take `x^2`.
#[test]
fn rational_tanh_matches_the_math_library() {
    let mut worst: f64 = 0.0;
    for i in -200_000..=200_000 {
        let x = i as f32 * 5e-5;
        let exact = (x as f64).tanh();
        let got = tanh(x) as f64;
        worst = worst.max((got - exact).abs());
        assert_eq!(tanh(-x), -tanh(x), "odd at {x}");
    }
    // A few units in the last place of numbers just below 1 (one unit there is 6e-8).
    assert!(worst < 5e-7, "largest error {worst:e}");
    for x in [1e-30f32, 1e-12, 1e-6, 3e-4, 1e-3] {
        let relative = (tanh(x) as f64 / (x as f64).tanh() - 1.0).abs();
        assert!(relative < 1e-6, "tanh({x:e}): relative error {relative:e}");
    }
    assert_eq!(tanh(0.0), 0.0);
    assert!(tanh(f32::NAN).is_nan());
    for (x, limit) in [
        (f32::INFINITY, 1.0f32),
        (f32::NEG_INFINITY, -1.0),
        (40.0, 1.0),
    ] {
        assert!(
            approx::abs_diff_eq!(tanh(x), limit, epsilon = 1e-7),
            "tanh({x}) = {}",
            tanh(x)
        );
    }
}

#[test]
fn relu_rules_for_visualisation() {
    let x = Tensor::from_shape_vec(IxDyn(&[4]), vec![1., 1., -1., -1.]).unwrap();
    let g = Tensor::from_shape_vec(IxDyn(&[4]), vec![2., -2., 2., -2.]).unwrap();
    let run = |rule| {
        let mut relu = Relu::new();
        relu.rule = rule;
        relu.forward(&x, Mode::Eval).unwrap();
        relu.backward(&g).unwrap().into_raw_vec_and_offset().0
    };
    assert_eq!(run(ReluRule::Backprop), vec![2., -2., 0., 0.]); // where x > 0
    assert_eq!(run(ReluRule::Deconvnet), vec![2., 0., 2., 0.]); // where g > 0
    assert_eq!(run(ReluRule::Guided), vec![2., 0., 0., 0.]); // both
}

#[test]
fn pooling_layers_and_flatten_backward_match_finite_differences() {
    let x = random(&[2, 3, 6, 6], 9);
    assert_gradients(&mut MaxPool2d::new(2, 2), &x, 1e-3);
    assert_gradients(&mut AvgPool2d::new(2, 2), &x, 1e-3);
    assert_gradients(&mut Flatten::new(), &x, 1e-3);
}

#[test]
fn dropout_scales_survivors_and_is_the_identity_in_evaluation() {
    let x = Tensor::ones(IxDyn(&[100, 100]));
    let mut d = Dropout::new(0.25, 11).unwrap();
    let y = d.forward(&x, Mode::Train).unwrap();
    let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
    assert!(
        approx::abs_diff_eq!(kept, 0.75, epsilon = 0.02),
        "kept {kept}"
    );
    assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    // The mean is preserved in expectation: (1 - p) * 1/(1 - p) = 1.
    assert_abs_diff_eq!(y.mean().unwrap(), 1.0, epsilon = 0.03);
    // Backward uses the same mask.
    let g = d.backward(&x).unwrap();
    assert_eq!(g, y);
    assert_eq!(d.forward(&x, Mode::Eval).unwrap(), x);
    assert!(Dropout::new(1.0, 0)
        .unwrap_err()
        .to_string()
        .contains("0 <= p < 1"));
}

#[test]
fn softmax_cross_entropy_by_hand() {
    // Logits (0, ln 3): softmax = (1/4, 3/4). Label 1: loss -ln(3/4); gradient (1/4, -1/4).
    let logits = array![[0.0f32, 3.0f32.ln()]];
    let (loss, grad) = softmax_cross_entropy(&logits, &[1]).unwrap();
    assert_abs_diff_eq!(loss, (-(0.75f32).ln()), epsilon = 1e-6);
    assert!((grad[[0, 0]] - 0.25).abs() < 1e-6 && (grad[[0, 1]] + 0.25).abs() < 1e-6);
    // Averaged over the batch: two identical rows give the same loss, half the gradient.
    let (loss2, grad2) =
        softmax_cross_entropy(&array![[0.0, 3.0f32.ln()], [0.0, 3.0f32.ln()]], &[1, 1]).unwrap();
    assert!((loss2 - loss).abs() < 1e-6 && (grad2[[0, 0]] - 0.125).abs() < 1e-6);
}

#[test]
fn softmax_cross_entropy_is_stable_for_huge_logits() {
    // exp(1000) overflows f32; the log-sum-exp form does not care.
    let (loss, grad) = softmax_cross_entropy(&array![[1000.0f32, 0.0, -1000.0]], &[2]).unwrap();
    assert!(loss.is_finite() && (loss - 2000.0).abs() < 1e-2, "{loss}");
    assert!(grad.iter().all(|g| g.is_finite()));
    let err = softmax_cross_entropy(&array![[1.0f32, 2.0]], &[2])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("label 2") && err.contains("2 classes"),
        "{err}"
    );
    // An empty batch has no mean: an error, not NaN.
    let err = softmax_cross_entropy(&Array2::<f32>::zeros((0, 10)), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty batch"), "{err}");
}

#[test]
fn softmax_cross_entropy_gradient_matches_finite_differences() {
    let mut r = rng(12);
    let logits = Array2::from_shape_fn((3, 5), |_| r.random_range(-3.0f32..3.0));
    let labels = [0, 4, 2];
    let (_, grad) = softmax_cross_entropy(&logits, &labels).unwrap();
    let eps = 1e-2f32;
    for (i, j) in [(0, 0), (1, 4), (2, 1), (1, 2)] {
        let (mut p, mut m) = (logits.clone(), logits.clone());
        p[[i, j]] += eps;
        m[[i, j]] -= eps;
        let numeric = (softmax_cross_entropy(&p, &labels).unwrap().0
            - softmax_cross_entropy(&m, &labels).unwrap().0)
            / (2.0 * eps);
        assert!(
            (numeric - grad[[i, j]]).abs() < 1e-3,
            "({i}, {j}): {numeric} vs {}",
            grad[[i, j]]
        );
    }
    assert_eq!(
        argmax_rows(&array![[0.1, 0.9, 0.0], [5.0, -1.0, 4.0]]),
        vec![1, 0]
    );
}

#[test]
fn initialisers_have_the_published_variances() {
    // Glorot & Bengio (2010): Var = 2 / (fan_in + fan_out); He et al. (2015): 2 / fan_in;
    // LeCun et al. (1998): 1 / fan_in. Empirical variance of 100,000 draws within 3%.
    let (fan_in, fan_out) = (300, 100);
    for (init, expected) in [
        (Init::Xavier, 2.0 / (fan_in + fan_out) as f64),
        (Init::He, 2.0 / fan_in as f64),
        (Init::LeCun, 1.0 / fan_in as f64),
    ] {
        let w = init.sample(&[100_000], fan_in, fan_out, &mut rng(13));
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64;
        assert!(
            (var / expected - 1.0).abs() < 0.03,
            "{init:?}: variance {var}, expected {expected}"
        );
        assert!(mean.abs() < 0.01 * expected.sqrt() * 10.0);
    }
}

fn tiny_cnn(seed: u64, pool_max: bool) -> Sequential {
    let mut r = rng(seed);
    let pool: Box<dyn Layer> = if pool_max {
        Box::new(MaxPool2d::new(2, 2))
    } else {
        Box::new(AvgPool2d::new(2, 2))
    };
    Sequential::new()
        .add(Conv2d::new(1, 2, 3, Init::He, &mut r).padding(1))
        .add(Tanh::new())
        .add(pool)
        .add(Flatten::new())
        .add(Linear::new(2 * 3 * 3, 3, Init::Xavier, &mut r))
}

#[test]
fn whole_networks_pass_the_gradient_check() {
    for pool_max in [true, false] {
        // A smaller step: nudging a first-layer weight moves every activation after it,
        // and a step of 1e-2 can flip which input wins a max-pooling window.
        let mut net = tiny_cnn(14, pool_max);
        assert_gradients_eps(&mut net, &random(&[2, 1, 6, 6], 15), 2e-2, 1e-3);
    }
}

#[test]
fn sequential_reports_shapes_and_parameters_and_names_the_failing_layer() {
    let net = tiny_cnn(16, true);
    // conv: 2 * (1*3*3) + 2 = 20; linear: 18 * 3 + 3 = 57.
    assert_eq!(param_count(&net), 20 + 57);
    let summary = net.summary(&[5, 1, 6, 6]).unwrap();
    assert_eq!(summary.last().unwrap().1, vec![5, 3]);
    assert_eq!(summary[2].1, vec![5, 2, 3, 3]);
    let mut net = tiny_cnn(16, true);
    let err = net
        .forward(&random(&[1, 1, 8, 8], 17), Mode::Train)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("layer 4 (Linear(18 -> 3))") && err.contains("32"),
        "{err}"
    );
}

/// Every layer of the library, with an input it takes.
fn every_layer() -> Vec<(Box<dyn Layer>, Vec<usize>)> {
    let mut r = rng(70);
    vec![
        (
            Box::new(Linear::new(6, 4, Init::Xavier, &mut r)),
            vec![3, 6],
        ),
        (
            Box::new(Conv2d::new(2, 3, 3, Init::He, &mut r).stride(2).padding(1)),
            vec![2, 2, 7, 7],
        ),
        (Box::new(MaxPool2d::new(3, 2).padding(1)), vec![2, 2, 6, 6]),
        (Box::new(AvgPool2d::new(3, 2).padding(1)), vec![2, 2, 6, 6]),
        (Box::new(Relu::new()), vec![4, 5]),
        (Box::new(Sigmoid::new()), vec![4, 5]),
        (Box::new(Tanh::new()), vec![4, 5]),
        (Box::new(Flatten::new()), vec![2, 3, 2, 2]),
        (Box::new(Dropout::new(0.5, 3).unwrap()), vec![4, 5]),
        (
            Box::new(cnn_book::layers::GlobalAvgPool::new()),
            vec![2, 3, 3, 3],
        ),
        (
            Box::new(cnn_book::layers::BatchNorm2d::new(2)),
            vec![3, 2, 3, 3],
        ),
    ]
}

#[test]
fn every_layer_gives_input_gradients_after_an_evaluation_pass() {
    // Evaluation mode is deterministic for every layer (dropout keeps everything), so the
    // backward pass after an Eval forward must be the derivative of the Eval function.
    for (mut layer, shape) in every_layer() {
        let x = random(&shape, 71).mapv(|v| if v.abs() < 0.05 { v + 0.1 } else { v });
        for implementation in [Implementation::Reference, Implementation::Fast] {
            layer.set_implementation(implementation);
            common::assert_gradients_in(layer.as_mut(), &x, Mode::Eval, 1e-2, 1e-2);
        }
    }
}

#[test]
fn no_layer_uses_a_cache_from_another_forward_pass() {
    // A forward pass that fails leaves nothing a backward pass could use, whatever an
    // earlier pass cached.
    for (mut layer, shape) in every_layer() {
        let name = layer.name();
        let x = random(&shape, 72);
        layer.forward(&x, Mode::Train).unwrap();
        // An input of another rank fails every layer but the element-wise ones.
        let bad = random(&[1, 2, 3, 4, 5], 73);
        if layer.forward(&bad, Mode::Train).is_ok() {
            continue;
        }
        let dy = random(&layer.output_shape(&shape).unwrap(), 74);
        assert!(layer.backward(&dy).is_err(), "{name} used a stale cache");
    }
    // And a backward pass answers for the last forward pass: after an Eval pass, dropout
    // passes the gradient whole, whatever mask the training pass before it drew.
    let mut d = Dropout::new(0.5, 1).unwrap();
    let x = Tensor::ones(IxDyn(&[10, 10]));
    d.forward(&x, Mode::Train).unwrap();
    d.forward(&x, Mode::Eval).unwrap();
    assert_eq!(d.backward(&x).unwrap(), x);
}

#[test]
fn reference_and_fast_layers_agree() {
    // The activations' reference loops against chapter 16's parallel maps (and, for tanh,
    // the rational function against the math library: within its stated 5e-7).
    for (layer, shape) in every_layer() {
        let name = layer.name();
        if name == "Dropout(p = 0.5)" {
            continue;
        }
        let x = random(&shape, 75);
        let run = |implementation| {
            let (mut layer, _) = every_layer()
                .into_iter()
                .find(|(l, _)| l.name() == name)
                .unwrap();
            layer.set_implementation(implementation);
            let y = layer.forward(&x, Mode::Train).unwrap();
            let dx = layer.backward(&random(y.shape(), 76)).unwrap();
            let grads: Vec<Tensor> = cnn_book::model::named_params(layer.as_ref())
                .into_iter()
                .map(|(_, p)| p.grad.clone())
                .collect();
            (y, dx, grads)
        };
        let (y, dx, g) = run(Implementation::Reference);
        let (yf, dxf, gf) = run(Implementation::Fast);
        let close = |a: &Tensor, b: &Tensor| approx::abs_diff_eq!(a, b, epsilon = 1e-4);
        assert!(close(&y, &yf), "{name} forward");
        assert!(close(&dx, &dxf), "{name} input gradient");
        assert!(
            g.iter().zip(&gf).all(|(a, b)| close(a, b)),
            "{name} parameter gradients"
        );
    }
}

#[test]
fn a_network_that_failed_half_way_keeps_no_earlier_cache() {
    // The first layers of a network accept a wrong input, a later one refuses it: the
    // layers behind the failure still hold the earlier pass's caches, so the network must
    // refuse a backward pass.
    let mut net = tiny_cnn(18, true);
    let good = random(&[2, 1, 6, 6], 19);
    net.forward(&good, Mode::Train).unwrap();
    assert!(net
        .forward(&random(&[2, 1, 8, 8], 20), Mode::Train)
        .is_err());
    let err = net.backward(&random(&[2, 3], 21)).unwrap_err().to_string();
    assert!(err.contains("before forward"), "{err}");
    assert!(net.backward_params(&random(&[2, 3], 21)).is_err());
    // And a residual block whose new body disagrees with its shortcut.
    let mut r = rng(22);
    let mut block = cnn_book::layers::Residual::new(
        Sequential::new().add(Conv2d::new(1, 1, 3, Init::He, &mut r).padding(1)),
    );
    block
        .forward(&random(&[1, 1, 4, 4], 23), Mode::Train)
        .unwrap();
    block.body = Sequential::new().add(Conv2d::new(1, 2, 3, Init::He, &mut r).padding(1));
    assert!(block
        .forward(&random(&[1, 1, 4, 4], 24), Mode::Train)
        .is_err());
    assert!(block.backward(&random(&[1, 1, 4, 4], 25)).is_err());
}
