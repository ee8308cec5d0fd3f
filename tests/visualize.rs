//! The visualization methods of chapter 14, each pinned by an independent check: hand
//! calculations on tiny networks, finite differences, brute force, and the closed-form
//! optimum of a first-layer unit.

// Images and their labels are indexed side by side.
#![allow(clippy::needless_range_loop)]

mod common;

use std::path::Path;

use cnn_book::conv::{conv2d_naive, Conv2dConfig};
use cnn_book::data::fashion_mnist::sample;
use cnn_book::init::Init;
use cnn_book::layer::{Implementation, Layer, Mode, Param};
use cnn_book::layers::{Conv2d, Flatten, Linear, Relu, ReluRule, Sequential};
use cnn_book::model::set_implementation;
use cnn_book::models::{lenet, lenet_classic};
use cnn_book::pool::{max_pool2d, PoolConfig};
use cnn_book::visualize::deconvnet::{reconstruct, transposed_conv, unpool};
use cnn_book::visualize::features::{feature_maps, filters};
use cnn_book::visualize::guided::{signal, three_rules};
use cnn_book::visualize::maximize::{class_model, maximize, Ascent};
use cnn_book::visualize::occlusion::{occlude, occlusion, Occluder};
use cnn_book::visualize::saliency::{class_score_gradient, saliency};
use cnn_book::visualize::top::{receptive_patch, top_activations};
use cnn_book::visualize::{forward_to, input_gradient, Trained, Unit};
use common::{assert_close, max_abs_diff, rng};
use ndarray::{array, s, Array2, Array3, Array4, Axis};
use rand::SeedableRng;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The committed LeNet on the reference loops, and the first `n` sample test images,
/// standardised as its training images were.
fn trained_lenet(n: usize) -> (Sequential, Array4<f32>, Vec<usize>) {
    let mut t = Trained::lenet(repo()).unwrap();
    set_implementation(&mut t.model, Implementation::Reference);
    let data = sample();
    let x = t.standardise(&data).slice(s![..n, .., .., ..]).to_owned();
    let y = data.labels.iter().take(n).map(|&l| l as usize).collect();
    (t.model, x, y)
}

/// The class score `S_c` of one image `(C, H, W)`.
fn score(model: &mut Sequential, image: &Array3<f32>, class: usize) -> f32 {
    let x = image.clone().insert_axis(Axis(0)).into_dyn();
    model.forward(&x, Mode::Eval).unwrap()[[0, class]]
}

// ---- the three ReLU rules, on a network small enough to do by hand ----

/// Flatten -> Linear(2 -> 3) -> ReLU -> Linear(3 -> 1), with weights chosen so that the
/// ReLU sees inputs of both signs and backward signals of both signs.
fn tiny() -> Sequential {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut first = Linear::new(2, 3, Init::Xavier, &mut r);
    first.weight = Param::new(
        "weight",
        array![[1.0, 0.0], [0.0, -1.0], [1.0, 1.0]].into_dyn(),
    );
    let mut second = Linear::new(3, 1, Init::Xavier, &mut r);
    second.weight = Param::new("weight", array![[-1.0, 2.0, 3.0]].into_dyn());
    Sequential::new()
        .add(Flatten::new())
        .add(first)
        .add(Relu::new())
        .add(second)
}

#[test]
fn the_three_relu_rules_by_hand() {
    // Input x = (1, 1). Forward: the ReLU's input is W1 x = (1, -1, 2).
    // Backward from the output (gradient 1): the signal arriving at the ReLU is
    // W2^T = (-1, 2, 3).
    //   backprop   keeps it where the forward input > 0:  (-1, 0, 3)
    //   deconvnet  keeps it where the signal > 0:          ( 0, 2, 3)
    //   guided     keeps it where both are > 0:            ( 0, 0, 3)
    // and W1^T sends each to the input:
    //   W1^T (-1, 0, 3) = (-1 + 3, 0 + 3)  = (2, 3)
    //   W1^T ( 0, 2, 3) = (0 + 3, -2 + 3)  = (3, 1)
    //   W1^T ( 0, 0, 3) = (3, 3)
    let image = Array3::from_shape_vec((1, 1, 2), vec![1.0, 1.0]).unwrap();
    let mut net = tiny();
    let unit = Unit::output(3, 0);
    let expect = [
        (ReluRule::Backprop, [2.0, 3.0]),
        (ReluRule::Deconvnet, [3.0, 1.0]),
        (ReluRule::Guided, [3.0, 3.0]),
    ];
    for implementation in [Implementation::Reference, Implementation::Fast] {
        set_implementation(&mut net, implementation);
        for (rule, want) in expect {
            let got = signal(&mut net, &image, &unit, rule).unwrap();
            assert_eq!(got.iter().copied().collect::<Vec<_>>(), want, "{rule:?}");
        }
    }
    // Backprop is the true gradient: the network is linear near x, with slope (2, 3).
    let s0 = score(&mut net, &image, 0);
    let nudged = Array3::from_shape_vec((1, 1, 2), vec![1.01, 1.0]).unwrap();
    assert!((score(&mut net, &nudged, 0) - s0 - 0.02).abs() < 1e-5);
}

#[test]
fn the_rules_are_restored_after_a_visualization() {
    let mut net = tiny();
    let image = Array3::from_shape_vec((1, 1, 2), vec![1.0, 1.0]).unwrap();
    three_rules(&mut net, &image, &Unit::output(3, 0)).unwrap();
    let relu = net.layer(2).unwrap().downcast_ref::<Relu>().unwrap();
    assert_eq!(relu.rule, ReluRule::Backprop);
}

// ---- saliency ----

#[test]
fn saliency_is_the_finite_difference_gradient_of_the_class_score() {
    // The classic LeNet is smooth (tanh, average pooling): central differences of the
    // score in f64 steps agree with one backward pass.
    let mut net = lenet_classic(3);
    set_implementation(&mut net, Implementation::Reference);
    let mut r = rng(4);
    let image = common::random4(&mut r, (1, 1, 28, 28)).index_axis_move(Axis(0), 0);
    let class = 7;
    let grad = class_score_gradient(&mut net, &image, class).unwrap();
    let h = 1e-2f32;
    let mut worst = 0.0f32;
    for (row, col) in [(0, 0), (3, 17), (14, 14), (20, 5), (27, 27), (9, 22)] {
        let mut plus = image.clone();
        plus[[0, row, col]] += h;
        let mut minus = image.clone();
        minus[[0, row, col]] -= h;
        let fd = (score(&mut net, &plus, class) - score(&mut net, &minus, class)) / (2.0 * h);
        let g = grad[[0, row, col]];
        worst = worst.max((fd - g).abs() / g.abs().max(1e-2));
    }
    assert!(worst < 1e-2, "relative error {worst}");
    // The saliency map is its absolute value (one channel: nothing to take the max over).
    let map = saliency(&mut net, &image, class).unwrap();
    assert_eq!(map, grad.index_axis(Axis(0), 0).mapv(f32::abs));
}

#[test]
fn saliency_of_the_trained_smooth_lenet_is_the_finite_difference_gradient() {
    // Chapter 9's classic LeNet (tanh, average pooling) is differentiable everywhere: at
    // real test images, every pixel's difference quotient matches.
    let mut net = lenet_classic(0);
    cnn_book::checkpoint::load(&mut net, &repo().join("weights/lenet-classic.safetensors"))
        .unwrap();
    set_implementation(&mut net, Implementation::Reference);
    let t = Trained::lenet(repo()).unwrap();
    let data = sample();
    let x = t.standardise(&data);
    for n in 0..3 {
        let image = x.index_axis(Axis(0), n).to_owned();
        let class = data.labels[n] as usize;
        let grad = class_score_gradient(&mut net, &image, class).unwrap();
        let (agree, total, bad) = agreement(&mut net, &image, class, &grad, 1e-2);
        assert_eq!(agree, total, "image {n}: (row, col, fd, g): {bad:?}");
    }
}

/// A pixel where the difference quotient and the gradient disagree: `(row, col, fd, g)`.
type Mismatch = (usize, usize, f32, f32);

/// How many of the pixels `(row, col)` on a 3-pixel grid have a central difference of the
/// class score within `1e-2 |g| + 1e-3` of the gradient `g`; and the first mismatches, for
/// the failure message. The step, 3e-3, is small enough to stay inside one linear piece at
/// most pixels and large enough that the f32 rounding of the score difference (about
/// 2e-4 after dividing by the step) stays below the 1e-3 allowed.
fn agreement(
    net: &mut Sequential,
    image: &Array3<f32>,
    class: usize,
    grad: &Array3<f32>,
    h: f32,
) -> (usize, usize, Vec<Mismatch>) {
    // Every nudged image in one batch: image 2k is pixel k plus h, image 2k + 1 minus h.
    let pixels: Vec<(usize, usize)> = (0..28)
        .step_by(3)
        .flat_map(|r| (0..28).step_by(3).map(move |c| (r, c)))
        .collect();
    let mut batch = Array4::zeros((2 * pixels.len(), 1, 28, 28));
    for (k, &(row, col)) in pixels.iter().enumerate() {
        for (j, sign) in [(0, 1.0), (1, -1.0)] {
            let mut nudged = image.clone();
            nudged[[0, row, col]] += sign * h;
            batch.index_axis_mut(Axis(0), 2 * k + j).assign(&nudged);
        }
    }
    let scores = net.forward(&batch.into_dyn(), Mode::Eval).unwrap();
    let (mut agree, mut bad) = (0, Vec::new());
    for (k, &(row, col)) in pixels.iter().enumerate() {
        let fd = (scores[[2 * k, class]] - scores[[2 * k + 1, class]]) / (2.0 * h);
        let g = grad[[0, row, col]];
        if (fd - g).abs() <= 1e-2 * g.abs() + 1e-3 {
            agree += 1;
        } else if bad.len() < 5 {
            bad.push((row, col, fd, g));
        }
    }
    (agree, pixels.len(), bad)
}

/// A real test image with a little seeded noise: the blank background of Fashion-MNIST
/// makes many units exactly equal, and a max-pooling window of equal values is a kink
/// (the gradient picks one, a difference quotient splits between them). The noise breaks
/// those ties, so that the score is linear around the image.
fn untied(image: &Array3<f32>, seed: u64) -> Array3<f32> {
    let mut r = rng(seed);
    let noise = common::random4(&mut r, (1, 1, 28, 28)).index_axis_move(Axis(0), 0);
    image + &(noise * 0.1)
}

#[test]
fn saliency_of_the_trained_lenet_matches_finite_differences() {
    // With ReLUs and max pooling the score is piecewise linear: a small step rarely
    // crosses a kink, so the difference quotient matches the gradient at nearly every
    // pixel.
    let (mut net, x, y) = trained_lenet(3);
    for n in 0..3 {
        let image = untied(&x.index_axis(Axis(0), n).to_owned(), n as u64);
        let grad = class_score_gradient(&mut net, &image, y[n]).unwrap();
        let (agree, total, bad) = agreement(&mut net, &image, y[n], &grad, 3e-3);
        // Measured: 88 of 100 pixels for the first image; the rest cross a kink.
        assert!(
            agree * 100 >= total * 85,
            "image {n}: {agree} of {total} agree; (row, col, fd, g): {bad:?}"
        );
    }
}

// ---- DeconvNet ----

#[test]
fn unpooling_puts_each_value_back_at_its_switch() {
    // Pool a 4 x 4 map with 2 x 2 windows: the maxima 6, 8, 9, 7 sit at (1, 0), (0, 3),
    // (2, 1), (3, 3).
    let x = array![
        [1.0, 2.0, 0.0, 8.0],
        [6.0, 3.0, 4.0, 5.0],
        [0.0, 9.0, 1.0, 2.0],
        [5.0, 4.0, 3.0, 7.0]
    ]
    .into_shape_with_order((1, 1, 4, 4))
    .unwrap();
    let (pooled, switches) = max_pool2d(x.view(), PoolConfig::new(2, 2)).unwrap();
    let back = unpool(pooled.view(), switches.view(), (1, 1, 4, 4)).unwrap();
    let want = array![
        [0.0, 0.0, 0.0, 8.0],
        [6.0, 0.0, 0.0, 0.0],
        [0.0, 9.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 7.0]
    ];
    assert_eq!(back.slice(s![0, 0, .., ..]), want);
    // Switches that do not belong to the input are refused.
    assert!(unpool(pooled.view(), switches.view(), (1, 1, 2, 2)).is_err());
}

#[test]
fn transposed_filters_paint_the_filter_and_are_the_adjoint_of_convolution() {
    // One value 2 through a 2 x 2 filter: the filter, doubled, on the patch it read.
    let maps = Array4::from_elem((1, 1, 1, 1), 2.0);
    let w = array![[1.0, 2.0], [3.0, 4.0]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    let out =
        transposed_conv(maps.view(), w.view(), Conv2dConfig::new(1, 0), (1, 1, 2, 2)).unwrap();
    assert_eq!(out.slice(s![0, 0, .., ..]), array![[2.0, 4.0], [6.0, 8.0]]);
    // In general <conv(x), y> = <x, conv^T(y)> (chapter 6: the transposed matrix), with
    // stride and padding.
    let mut r = rng(7);
    let x = common::random4(&mut r, (2, 3, 9, 9));
    let w = common::random4(&mut r, (4, 3, 3, 3));
    let config = Conv2dConfig::new(2, 1);
    let y = conv2d_naive(x.view(), w.view(), None, config).unwrap();
    let g = common::random4(&mut r, y.dim());
    let back = transposed_conv(g.view(), w.view(), config, x.dim()).unwrap();
    let lhs: f32 = (&y * &g).sum();
    let rhs: f32 = (&x * &back).sum();
    assert!(
        (lhs - rhs).abs() < 1e-4 * lhs.abs().max(1.0),
        "{lhs} vs {rhs}"
    );
    // Maps that this convolution could not have produced are refused.
    let small = Array4::zeros((2, 4, 4, 4));
    assert!(transposed_conv(small.view(), w.view(), config, x.dim()).is_err());
}

#[test]
fn deconvnet_is_backprop_with_the_deconvnet_relu_rule() {
    // The reconstruction written as the paper draws it (unpool, rectify, transposed
    // filters) equals the backward pass with the DeconvNet rule, scaled by the activation
    // it started from. Activations after a ReLU or a pooling layer are never negative;
    // from the class scores, the image's own class, whose score is positive.
    let (mut net, x, y) = trained_lenet(4);
    for n in 0..4 {
        let image = x.index_axis(Axis(0), n).to_owned();
        for unit in [
            Unit::at(5, 3, 2, 2),
            Unit::at(4, 9, 4, 6),
            Unit::at(2, 1, 7, 7),
            Unit::output(11, y[n]),
        ] {
            let outputs = forward_to(
                &mut net,
                &image.clone().insert_axis(Axis(0)).into_dyn(),
                unit.layer,
            )
            .unwrap();
            let a = unit.value(outputs.last().unwrap(), 0).unwrap();
            assert!(a >= 0.0, "{unit:?}: {a}");
            let explicit = reconstruct(&mut net, &image, &unit).unwrap();
            let backward = signal(&mut net, &image, &unit, ReluRule::Deconvnet).unwrap() * a;
            assert_close(&explicit, &backward, 1e-5, &format!("image {n}, {unit:?}"));
        }
    }
}

#[test]
fn deconvnet_refuses_layers_it_cannot_invert() {
    let mut t = Trained::resnet(repo()).unwrap();
    let image = Array3::zeros((1, 28, 28));
    let err = reconstruct(&mut t.model, &image, &Unit::at(2, 0, 0, 0)).unwrap_err();
    assert!(err.to_string().contains("DeconvNet reconstructs"), "{err}");
}

// ---- activation maximization and class models ----

#[test]
fn a_first_layer_unit_is_maximized_by_its_own_filter() {
    // Unit (k, 14, 14) of LeNet's first convolution (5 x 5, padding 2) computes
    // a(I) = w_k . I[12..17, 12..17] + b_k. Maximizing a(I) - lambda ||I||^2 sets the
    // gradient w_k - 2 lambda I to zero: I = w_k / (2 lambda) on that patch, 0 elsewhere.
    // Gradient ascent from 0 reaches it geometrically: I_t = (1 - (1 - 2 lambda rate)^t) I*.
    let (mut net, _, _) = trained_lenet(1);
    let (lambda, rate, steps) = (0.5f32, 0.5f32, 30);
    for k in 0..6 {
        let found = maximize(
            &mut net,
            &Unit::at(0, k, 14, 14),
            &Array3::zeros((1, 28, 28)),
            Ascent {
                steps,
                rate,
                l2: lambda,
            },
        )
        .unwrap();
        let w = filters(net.layer(0).unwrap().downcast_ref::<Conv2d>().unwrap())[k][0].clone();
        let mut want = Array3::<f32>::zeros((1, 28, 28));
        want.slice_mut(s![0, 12..17, 12..17])
            .assign(&(&w / (2.0 * lambda)));
        assert_close(&found.image, &want, 1e-5, &format!("filter {k}"));
    }
}

#[test]
fn gradient_ascent_raises_the_unit_for_small_steps() {
    let (mut net, x, _) = trained_lenet(2);
    for (n, unit) in [
        (0, Unit::at(3, 5, 5, 5)),
        (1, Unit::output(11, 4)),
        (0, Unit::output(9, 17)),
    ] {
        let start = x.index_axis(Axis(0), n).to_owned();
        let found = maximize(
            &mut net,
            &unit,
            &start,
            Ascent {
                steps: 10,
                rate: 1e-3,
                l2: 0.0,
            },
        )
        .unwrap();
        for pair in found.activations.windows(2) {
            assert!(pair[1] > pair[0], "{unit:?}: {:?}", found.activations);
        }
        // With the penalty, the objective rises too.
        let found = maximize(
            &mut net,
            &unit,
            &start,
            Ascent {
                steps: 10,
                rate: 1e-3,
                l2: 0.1,
            },
        )
        .unwrap();
        for pair in found.objectives.windows(2) {
            assert!(pair[1] > pair[0], "{unit:?}: {:?}", found.objectives);
        }
    }
}

#[test]
fn a_class_model_is_classified_as_its_class() {
    // From the mean image (from the zero image, every first-layer unit is off and the
    // gradient is zero: see the chapter).
    let (mut net, x, _) = trained_lenet(1000);
    set_implementation(&mut net, Implementation::Fast);
    let mean = x.mean_axis(Axis(0)).unwrap();
    let stuck = class_model(
        &mut net,
        0,
        &Array3::zeros((1, 28, 28)),
        Ascent {
            steps: 5,
            rate: 0.1,
            l2: 0.5,
        },
    )
    .unwrap();
    assert_eq!(stuck.image, Array3::<f32>::zeros((1, 28, 28)));
    for class in 0..10 {
        let found = class_model(
            &mut net,
            class,
            &mean,
            Ascent {
                steps: 200,
                rate: 0.1,
                l2: 0.5,
            },
        )
        .unwrap();
        let scores = net
            .forward(
                &found.image.clone().insert_axis(Axis(0)).into_dyn(),
                Mode::Eval,
            )
            .unwrap();
        let best = (0..10)
            .max_by(|&a, &b| scores[[0, a]].total_cmp(&scores[[0, b]]))
            .unwrap();
        assert_eq!(best, class, "{:?}", scores);
    }
}

#[test]
fn bad_ascent_settings_are_refused() {
    let (mut net, _, _) = trained_lenet(1);
    let start = Array3::zeros((1, 28, 28));
    for ascent in [
        Ascent {
            steps: 1,
            rate: 0.0,
            l2: 0.1,
        },
        Ascent {
            steps: 1,
            rate: f32::NAN,
            l2: 0.1,
        },
        Ascent {
            steps: 1,
            rate: 0.1,
            l2: -1.0,
        },
    ] {
        assert!(maximize(&mut net, &Unit::output(11, 0), &start, ascent).is_err());
    }
    let err = maximize(
        &mut net,
        &Unit::output(12, 0),
        &start,
        Ascent {
            steps: 1,
            rate: 0.1,
            l2: 0.0,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("12 layers"), "{err}");
    let err = maximize(
        &mut net,
        &Unit::output(11, 10),
        &start,
        Ascent {
            steps: 1,
            rate: 0.1,
            l2: 0.0,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("outside"), "{err}");
}

// ---- top activations and receptive fields ----

#[test]
fn receptive_patches_of_lenet_by_hand() {
    // conv1 5x5 padding 2, pool 2x2 stride 2, conv2 5x5: a conv2 unit sees
    // 1 + 4 + 1 * 1 = 6 then 6 + 4 * 2 = 14 pixels, starting at 2 r - 2.
    let net = lenet(0);
    assert_eq!(
        receptive_patch(&net, 3, (0, 0), (28, 28)).unwrap(),
        (0..12, 0..12)
    );
    assert_eq!(
        receptive_patch(&net, 3, (5, 2), (28, 28)).unwrap(),
        (8..22, 2..16)
    );
    assert_eq!(
        receptive_patch(&net, 5, (4, 4), (28, 28)).unwrap(),
        (14..28, 14..28)
    );
    assert_eq!(
        receptive_patch(&net, 0, (0, 27), (28, 28)).unwrap(),
        (0..3, 25..28)
    );
    assert!(receptive_patch(&net, 7, (0, 0), (28, 28)).is_err());
}

#[test]
fn pixels_outside_the_receptive_patch_do_not_move_the_unit() {
    let (mut net, x, _) = trained_lenet(1);
    let image = x.index_axis(Axis(0), 0).to_owned();
    let unit = Unit::at(3, 4, 3, 6);
    let (rows, cols) = receptive_patch(&net, 3, (3, 6), (28, 28)).unwrap();
    let value = |net: &mut Sequential, img: &Array3<f32>| {
        let out = forward_to(net, &img.clone().insert_axis(Axis(0)).into_dyn(), 3).unwrap();
        unit.value(out.last().unwrap(), 0).unwrap()
    };
    let base = value(&mut net, &image);
    let mut outside = image.clone();
    for r in 0..28 {
        for c in 0..28 {
            if !(rows.contains(&r) && cols.contains(&c)) {
                outside[[0, r, c]] = 5.0;
            }
        }
    }
    assert_eq!(value(&mut net, &outside), base);
    let mut inside = image.clone();
    inside
        .slice_mut(s![0, rows.clone(), cols.clone()])
        .fill(5.0);
    assert_ne!(value(&mut net, &inside), base);
}

#[test]
fn top_activations_agree_with_brute_force() {
    let (mut net, x, _) = trained_lenet(200);
    let (layer, channel) = (5, 7);
    let hits = top_activations(&mut net, x.view(), layer, channel, 9, 64).unwrap();
    // One image at a time, the whole map searched by hand.
    let mut each: Vec<(usize, f32)> = (0..200)
        .map(|n| {
            let out = forward_to(
                &mut net,
                &x.slice(s![n..n + 1, .., .., ..]).to_owned().into_dyn(),
                layer,
            )
            .unwrap();
            let best = out[layer]
                .slice(s![0, channel, .., ..])
                .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            (n, best)
        })
        .collect();
    each.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert_eq!(hits.len(), 9);
    for (hit, (n, v)) in hits.iter().zip(&each) {
        assert_eq!(hit.image, *n);
        assert_eq!(hit.value, *v);
        let out = forward_to(
            &mut net,
            &x.slice(s![*n..*n + 1, .., .., ..]).to_owned().into_dyn(),
            layer,
        )
        .unwrap();
        assert_eq!(out[layer][[0, channel, hit.row, hit.column]], *v);
        let patch = receptive_patch(&net, layer, (hit.row, hit.column), (28, 28)).unwrap();
        assert_eq!((hit.rows.clone(), hit.columns.clone()), patch);
    }
    assert!(top_activations(&mut net, x.view(), layer, 16, 9, 64).is_err());
    assert!(top_activations(&mut net, x.view(), 7, 0, 9, 64).is_err());
}

// ---- occlusion ----

#[test]
fn occlusion_maps_have_one_value_per_position_and_start_from_the_base_probability() {
    let (mut net, x, y) = trained_lenet(2);
    let image = x.index_axis(Axis(0), 1).to_owned();
    let occluder = Occluder {
        size: 6,
        stride: 2,
        fill: 0.0,
    };
    let found = occlusion(&mut net, &image, y[1], occluder, Some((3, 2)), 50).unwrap();
    // (28 - 6) / 2 + 1 = 12 positions a side.
    assert_eq!(found.probability.dim(), (12, 12));
    assert_eq!(found.predicted.dim(), (12, 12));
    let (activity, base_activity) = found.feature.clone().unwrap();
    assert_eq!(activity.dim(), (12, 12));
    // The base probability is the softmax of the scores of the unoccluded image.
    let scores = net
        .forward(&image.clone().insert_axis(Axis(0)).into_dyn(), Mode::Eval)
        .unwrap();
    let row: Vec<f32> = (0..10).map(|c| scores[[0, c]]).collect();
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
    let p = (row[y[1]] - max).exp() / sum;
    assert!((found.base - p).abs() < 1e-6, "{} vs {p}", found.base);
    let maps = forward_to(&mut net, &image.clone().insert_axis(Axis(0)).into_dyn(), 3).unwrap();
    let total: f32 = maps[3].slice(s![0, 2, .., ..]).sum();
    assert!((base_activity - total).abs() < 1e-4 * total.abs().max(1.0));
    // Each map entry is the probability of the image occluded at that position.
    let covered = occlude(&image, 2 * 5, 2 * 7, occluder);
    let scores = net
        .forward(&covered.insert_axis(Axis(0)).into_dyn(), Mode::Eval)
        .unwrap();
    let row: Vec<f32> = (0..10).map(|c| scores[[0, c]]).collect();
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
    assert!((found.probability[[5, 7]] - (row[y[1]] - max).exp() / sum).abs() < 1e-6);
}

#[test]
fn occluding_what_is_already_there_changes_nothing_and_blank_corners_little() {
    let (mut net, x, y) = trained_lenet(10);
    for n in 0..10 {
        let image = x.index_axis(Axis(0), n).to_owned();
        let background = image[[0, 0, 0]];
        // A square of the background's own value over a blank corner: the same image.
        let same = Occluder {
            size: 4,
            stride: 24,
            fill: background,
        };
        let corner = image.slice(s![0, 0..4, 0..4]);
        if corner.iter().all(|&v| v == background) {
            let found = occlusion(&mut net, &image, y[n], same, None, 10).unwrap();
            assert_eq!(found.probability[[0, 0]], found.base, "image {n}");
        }
        // A grey square (the mean pixel) over a blank corner moves the probability little;
        // over the middle of the garment, more.
        let grey = Occluder {
            size: 4,
            stride: 12,
            fill: 0.0,
        };
        let found = occlusion(&mut net, &image, y[n], grey, None, 10).unwrap();
        if corner.iter().all(|&v| v == background) {
            assert!(
                (found.probability[[0, 0]] - found.base).abs() < 0.05,
                "image {n}: {:?}",
                found
            );
        }
    }
}

#[test]
fn bad_occluders_are_refused() {
    let (mut net, x, _) = trained_lenet(1);
    let image = x.index_axis(Axis(0), 0).to_owned();
    for occluder in [
        Occluder {
            size: 0,
            stride: 1,
            fill: 0.0,
        },
        Occluder {
            size: 4,
            stride: 0,
            fill: 0.0,
        },
        Occluder {
            size: 29,
            stride: 1,
            fill: 0.0,
        },
    ] {
        assert!(occlusion(&mut net, &image, 0, occluder, None, 10).is_err());
    }
    // A square placed past the edge covers nothing, and does not panic.
    let far = Occluder {
        size: 4,
        stride: 1,
        fill: 9.0,
    };
    assert_eq!(occlude(&image, 30, 5, far), image);
    let ok = Occluder {
        size: 4,
        stride: 4,
        fill: 0.0,
    };
    assert!(occlusion(&mut net, &image, 10, ok, None, 10).is_err());
    assert!(occlusion(&mut net, &image, 0, ok, Some((3, 16)), 10).is_err());
}

// ---- filters and feature maps ----

#[test]
fn feature_maps_of_lenet_have_the_shapes_of_chapter_9() {
    let (mut net, x, _) = trained_lenet(1);
    let maps = feature_maps(&mut net, &x.index_axis(Axis(0), 0).to_owned()).unwrap();
    let shapes: Vec<(usize, (usize, usize, usize))> =
        maps.iter().map(|m| (m.layer, m.maps.dim())).collect();
    assert_eq!(
        shapes,
        [
            (0, (6, 28, 28)),
            (1, (6, 28, 28)),
            (2, (6, 14, 14)),
            (3, (16, 10, 10)),
            (4, (16, 10, 10)),
            (5, (16, 5, 5))
        ]
    );
    // The first map is the convolution of the image with the first filter.
    let conv = net.layer(0).unwrap().downcast_ref::<Conv2d>().unwrap();
    let w = conv.weight.value.clone().into_dimensionality().unwrap();
    let b = conv
        .bias
        .as_ref()
        .unwrap()
        .value
        .clone()
        .into_dimensionality()
        .unwrap();
    let y = conv2d_naive(
        x.slice(s![0..1, .., .., ..]),
        w.view(),
        Some(b.view()),
        Conv2dConfig::new(1, 2),
    )
    .unwrap();
    assert_eq!(maps[0].maps, y.index_axis(Axis(0), 0));
    let f = filters(conv);
    assert_eq!((f.len(), f[0].len(), f[0][0].dim()), (6, 1, (5, 5)));
    assert_eq!(f[2][0], conv.weight.value.slice(s![2, 0, .., ..]));
}

#[test]
fn the_resnet_gradient_reaches_the_input_through_both_paths() {
    // Guided backprop and saliency work through residual blocks and batch norm in
    // evaluation mode: the input gradient of the ResNet's class score matches finite
    // differences at most pixels.
    let mut t = Trained::resnet(repo()).unwrap();
    set_implementation(&mut t.model, Implementation::Reference);
    let data = sample();
    let image = t.standardise(&data).index_axis(Axis(0), 0).to_owned();
    let class = data.labels[0] as usize;
    let image = untied(&image, 5);
    let grad = class_score_gradient(&mut t.model, &image, class).unwrap();
    // The ResNet has a ReLU for every one of its 16 x 28 x 28 first-stage values, so a
    // pixel is never far from a kink: difference quotients agree with the gradient more
    // often the smaller the step (measured: 74, 66, 34 and 15 of 100 pixels for steps
    // 1e-3, 3e-3, 1e-2 and 3e-2), until f32 rounding takes over. A wrong gradient would
    // not improve as the step shrinks.
    // The difference quotients come from the fast kernels, 200 images at a time.
    let mut fast = Trained::resnet(repo()).unwrap();
    set_implementation(&mut fast.model, Implementation::Fast);
    let small = agreement(&mut fast.model, &image, class, &grad, 1e-3);
    let large = agreement(&mut fast.model, &image, class, &grad, 3e-2);
    assert!(
        small.0 * 100 >= small.1 * 70,
        "{} of {}: {:?}",
        small.0,
        small.1,
        small.2
    );
    assert!(small.0 > 2 * large.0, "{} vs {}", small.0, large.0);
    // The fast kernels (chapter 16) compute the same gradient by other code.
    let grad_fast = class_score_gradient(&mut fast.model, &image, class).unwrap();
    assert_close(&grad_fast, &grad, 1e-4, "fast against reference");
    let last = t.model.len() - 1;
    let guided = input_gradient(
        &mut t.model,
        &image.clone().insert_axis(Axis(0)).into_dyn(),
        &Unit::output(last, class),
        ReluRule::Guided,
    )
    .unwrap();
    assert!(max_abs_diff(&guided, &grad.clone().insert_axis(Axis(0)).into_dyn()) > 0.0);
    let map: Array2<f32> = saliency(&mut t.model, &image, class).unwrap();
    assert_eq!(map, grad.index_axis(Axis(0), 0).mapv(f32::abs));
}
