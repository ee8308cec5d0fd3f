//! Checkers for chapter 10: compare the exercises with `cnn_book::norm` and
//! `cnn_book::selu`.

mod common;

use cnn_book::norm::{batch_norm_backward, batch_norm_forward, channel_statistics};
use cnn_book::selu::moment_map;
use cnn_book_exercises::ch10_normalization::{
    batch_norm_features, batch_norm_input_gradient, selu_constants_for,
};
use common::{array_code, random_array, Checker, Rng};
use ndarray::{array, Array2, Array4};

const FILE: &str = "exercises/src/ch10_normalization.rs";

/// `(N, D)` as the library's `(N, D, 1, 1)` images: features as channels.
fn as_images(x: &Array2<f32>) -> Array4<f32> {
    let (n, d) = x.dim();
    x.clone()
        .into_shape_with_order((n, d, 1, 1))
        .expect("(N, D) reshapes")
}

fn as_vectors(x: Array4<f32>) -> Array2<f32> {
    let (n, d, _, _) = x.dim();
    x.into_shape_with_order((n, d))
        .expect("(N, D, 1, 1) reshapes")
}

/// The library's training-mode forward pass: `(y, x_hat, var)`.
fn library_forward(
    x: &Array2<f32>,
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) -> (Array2<f32>, Array4<f32>, Vec<f32>) {
    let images = as_images(x);
    let (mean, var) = channel_statistics(images.view());
    let (y, x_hat) = batch_norm_forward(images.view(), (&mean, &var), (gamma, beta), eps);
    (as_vectors(y), x_hat, var)
}

/// Random batches: 2 to 9 examples of 1 to 6 features, values of several scales, some
/// columns constant, some offset far from 0; gamma and beta of either sign.
fn random_case(rng: &mut Rng) -> (Array2<f32>, Vec<f32>, Vec<f32>, f32) {
    let (n, d) = (rng.size(2, 9), rng.size(1, 6));
    let scale = rng.pick(&[0.1, 1.0, 10.0]) as f32;
    let mut x = random_array(rng, n, d, false).mapv(|v| v * scale);
    for j in 0..d {
        if rng.chance(1, 8) {
            let c = rng.float(-3.0, 3.0) as f32;
            x.column_mut(j).fill(c);
        } else if rng.chance(1, 5) {
            let offset = rng.float(-50.0, 50.0) as f32;
            x.column_mut(j).mapv_inplace(|v| v + offset);
        }
    }
    let gamma = (0..d).map(|_| rng.float(-2.0, 2.0) as f32).collect();
    let beta = (0..d).map(|_| rng.float(-2.0, 2.0) as f32).collect();
    let eps = rng.pick(&[1e-5, 1e-3, 0.1]) as f32;
    (x, gamma, beta, eps)
}

#[test]
fn exercise_10_1_batch_norm_features() {
    let mut checker = Checker::new(
        "10.1",
        "batch_norm_features",
        FILE,
        "each column has its own mean and variance, over the rows (the examples); the \
         variance divides by N, and eps goes under the square root",
    );
    let mut cases = vec![(
        array![[1.0, 10.0], [3.0, 10.0]],
        vec![1.0, 2.0],
        vec![0.0, 5.0],
        1e-5,
    )];
    let mut rng = Rng::new(100 + 1);
    cases.extend((0..300).map(|_| random_case(&mut rng)));
    for (x, gamma, beta, eps) in cases {
        let (expected, _, _) = library_forward(&x, &gamma, &beta, eps);
        checker.check_close(
            || {
                format!(
                    "batch_norm_features(&{}, &{gamma:?}, &{beta:?}, {eps:e})",
                    array_code(&x)
                )
            },
            expected,
            || batch_norm_features(&x, &gamma, &beta, eps),
            1e-4,
        );
    }
    checker.finish();
}

#[test]
fn exercise_10_2_batch_norm_input_gradient() {
    let mut checker = Checker::new(
        "10.2",
        "batch_norm_input_gradient",
        FILE,
        "besides the direct path (gamma / sigma times grad), x reaches every output of its \
         column through the mean and through the variance: write dL/dmu and dL/dvar first, \
         then add the three paths; with the worked examples, check that a constant \
         gradient gives 0",
    );
    let mut cases = vec![
        (array![[1.0], [1.0]], array![[0.0], [2.0]], vec![1.0], 1e-5),
        (array![[-1.0], [1.0]], array![[0.0], [2.0]], vec![1.0], 1e-5),
        (
            array![[1.0], [0.0], [0.0]],
            array![[0.0], [1.0], [2.0]],
            vec![1.0],
            1e-5,
        ),
    ];
    let mut rng = Rng::new(100 + 2);
    for _ in 0..300 {
        let (x, gamma, _, eps) = random_case(&mut rng);
        let (n, d) = x.dim();
        let grad = random_array(&mut rng, n, d, false);
        cases.push((grad, x, gamma, eps));
    }
    for (grad, x, gamma, eps) in cases {
        let (_, x_hat, var) = library_forward(&x, &gamma, &vec![0.0; gamma.len()], eps);
        let (dx, _, _) = batch_norm_backward(
            as_images(&grad).view(),
            x_hat.view(),
            &var,
            &gamma,
            eps,
            true,
        );
        checker.check_close(
            || {
                format!(
                    "batch_norm_input_gradient(&{}, &{}, &{gamma:?}, {eps:e})",
                    array_code(&grad),
                    array_code(&x)
                )
            },
            as_vectors(dx),
            || batch_norm_input_gradient(&grad, &x, &gamma, eps),
            1e-3,
        );
    }
    checker.finish();
}

#[test]
fn exercise_10_3_selu_constants_for() {
    let mut checker = Checker::new(
        "10.3",
        "selu_constants_for",
        FILE,
        "write z = sigma u with u standard normal; the mean condition splits at 0 into an \
         integral over the positive half and one over the negative half, and does not \
         involve lambda; then lambda follows from the second moment",
    );
    let mut rng = Rng::new(100 + 3);
    let mut variances = vec![1.0, 0.25, 4.0];
    variances.extend((0..20).map(|_| rng.float(0.25, 4.0)));
    for variance in variances {
        // What the library's moment map gives for the student's constants: the mean and
        // variance of selu(z) for z ~ N(0, variance) (omega = 0, tau = 1).
        let outcome = |constants: (f64, f64)| {
            let (mean, var) = moment_map(0.0, variance, 0.0, 1.0, constants);
            vec![mean, var / variance]
        };
        checker.check_close(
            || format!("moment_map(0, {variance}, 0, 1, selu_constants_for({variance})) (mean, variance / {variance})"),
            vec![0.0, 1.0],
            || outcome(selu_constants_for(variance)),
            1e-6,
        );
    }
    checker.finish();
}
