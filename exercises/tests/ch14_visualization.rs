//! Checkers for chapter 14: compare the exercises with `cnn_book::visualize`, the library's
//! receptive fields and its ReLU layer.

mod common;

use cnn_book::layer::{Implementation, Layer, Mode, Tensor};
use cnn_book::layers::{Relu, ReluRule};
use cnn_book::model::set_implementation;
use cnn_book::models::lenet_classic;
use cnn_book::shape::{receptive_field, Window};
use cnn_book::visualize::saliency::saliency;
use cnn_book_exercises::ch14_visualization::{
    finite_difference_saliency, receptive_patch, relu_backward,
};
use common::{array_code, random_array, Checker, Rng};
use ndarray::{array, Array2, Axis};

const FILE: &str = "exercises/src/ch14_visualization.rs";

#[test]
fn exercise_14_1_finite_difference_saliency() {
    let mut checker = Checker::new(
        "14.1",
        "finite_difference_saliency",
        FILE,
        "for each pixel, score the image with h added to that pixel alone and with h \
         subtracted, divide the difference by 2h, and keep its absolute value",
    );
    // Scores whose gradient is known: s(I) = sum(w * I) + c sum(I^2) has gradient
    // w + 2 c I, so the saliency is |w + 2 c I| (central differences are exact for it,
    // up to rounding).
    let mut rng = Rng::new(140 + 1);
    let mut cases = vec![(array![[3.0f32, -2.0]], 0.0f32, array![[0.5f32, 0.25]])];
    for _ in 0..60 {
        let (h, w) = (rng.size(1, 6), rng.size(1, 6));
        let integers = rng.chance(1, 2);
        let weights = random_array(&mut rng, h, w, integers);
        let image = random_array(&mut rng, h, w, false);
        cases.push((weights, rng.pick(&[0.0, 0.5, -1.0]) as f32, image));
    }
    for (weights, c, image) in cases {
        let expected = (&weights + &(image.mapv(|v| 2.0 * c * v))).mapv(f32::abs);
        let w2 = weights.clone();
        let score = move |i: &Array2<f32>| (&w2 * i).sum() + c * i.mapv(|v| v * v).sum();
        checker.check_close(
            || {
                format!(
                    "finite_difference_saliency(&|i| sum({} * i) + {c:?} * sum(i * i), &{}, 1e-2)",
                    array_code(&weights),
                    array_code(&image)
                )
            },
            expected,
            || finite_difference_saliency(&score, &image, 1e-2),
            1e-2,
        );
    }
    // A network: chapter 9's classic LeNet (tanh, average pooling, smooth), with random
    // weights, against the library's saliency from one backward pass.
    let seed = 1;
    let mut net = lenet_classic(seed);
    set_implementation(&mut net, Implementation::Reference);
    let image = random_array(&mut rng, 28, 28, false);
    let class = seed as usize * 3;
    let expected = saliency(&mut net, &image.clone().insert_axis(Axis(0)), class).unwrap();
    let net = std::sync::Mutex::new(net);
    let score = |i: &Array2<f32>| {
        let x = i
            .clone()
            .insert_axis(Axis(0))
            .insert_axis(Axis(0))
            .into_dyn();
        net.lock()
            .expect("the network is not poisoned")
            .forward(&x, Mode::Eval)
            .unwrap()[[0, class]]
    };
    checker.check_close(
        || format!("finite_difference_saliency(<score of class {class} of lenet_classic({seed})>, <a random 28 x 28 image>, 1e-2)"),
        expected,
        || finite_difference_saliency(&score, &image, 1e-2),
        1e-2,
    );
    checker.finish();
}

#[test]
fn exercise_14_2_receptive_patch() {
    let mut checker = Checker::new(
        "14.2",
        "receptive_patch",
        FILE,
        "follow chapter 2's recurrence through the layers, first layer first, and mind \
         its order: a layer's field and padding are measured with the jump of the layers \
         below it, before its own stride changes the jump. The field may start before 0 \
         and end past the image: clip both ends to the image",
    );
    let lenet = vec![(5, 2, 1), (2, 0, 2), (5, 0, 1)];
    let mut cases = vec![
        (lenet.clone(), 5, 2, 28, 28),
        (lenet.clone(), 0, 0, 28, 28),
        (vec![(3, 1, 1)], 0, 4, 5, 5),
    ];
    let mut rng = Rng::new(140 + 2);
    for _ in 0..500 {
        let layers: Vec<(usize, usize, usize)> = (0..rng.size(1, 4))
            .map(|_| {
                let field = rng.size(1, 5);
                (field, rng.size(0, field / 2), rng.size(1, 3))
            })
            .collect();
        let (height, width) = (rng.size(4, 30), rng.size(4, 30));
        cases.push((layers, rng.size(0, 8), rng.size(0, 8), height, width));
    }
    for (layers, row, col, height, width) in cases {
        let windows: Vec<Window> = layers
            .iter()
            .map(|&(f, p, s)| Window::new(f, p, s).unwrap())
            .collect();
        let rf = receptive_field(&windows).unwrap();
        let clip = |span: std::ops::Range<i64>, length: usize| {
            span.start.clamp(0, length as i64) as usize..span.end.clamp(0, length as i64) as usize
        };
        let expected = (clip(rf.span(row), height), clip(rf.span(col), width));
        checker.check(
            || format!("receptive_patch(&{layers:?}, {row}, {col}, {height}, {width})"),
            expected,
            || receptive_patch(&layers, row, col, height, width),
        );
    }
    checker.finish();
}

#[test]
fn exercise_14_3_relu_backward() {
    let mut checker = Checker::new(
        "14.3",
        "relu_backward",
        FILE,
        "backprop looks at the forward input, DeconvNet at the signal, guided at both; \
         'positive' means > 0 (a forward input of exactly 0 lets nothing through)",
    );
    let mut cases = vec![(vec![1.0f32, -1.0, 2.0], vec![-1.0f32, 2.0, 3.0])];
    let mut rng = Rng::new(140 + 3);
    for _ in 0..200 {
        let n = rng.size(1, 8);
        let draw = |rng: &mut Rng| rng.between(0, 6) as f32 - 3.0;
        let x: Vec<f32> = (0..n).map(|_| draw(&mut rng)).collect();
        let g: Vec<f32> = (0..n).map(|_| draw(&mut rng)).collect();
        cases.push((x, g));
    }
    for (x, g) in cases {
        for rule in [ReluRule::Backprop, ReluRule::Deconvnet, ReluRule::Guided] {
            let mut relu = Relu::new();
            relu.rule = rule;
            let n = x.len();
            relu.forward(
                &Tensor::from_shape_vec(vec![n], x.clone()).unwrap(),
                Mode::Eval,
            )
            .unwrap();
            let expected: Vec<f32> = relu
                .backward(&Tensor::from_shape_vec(vec![n], g.clone()).unwrap())
                .unwrap()
                .iter()
                .copied()
                .collect();
            checker.check(
                || format!("relu_backward(ReluRule::{rule:?}, &{x:?}, &{g:?})"),
                expected,
                || relu_backward(rule, &x, &g),
            );
        }
    }
    checker.finish();
}
