//! Checkers for chapter 15: compare the exercises with `cnn_book::lrn`.

mod common;

use cnn_book::lrn::{lrn_backward as library_backward, lrn_forward, LrnConfig};
use cnn_book_exercises::ch15_local_response_norm::{lrn, lrn_backward, peak_activation};
use common::{array_code, random_array4, Checker, Rng};
use ndarray::{array, Array4};

const FILE: &str = "exercises/src/ch15_local_response_norm.rs";

/// Random cases: small batches of maps with 1 to 9 channels, odd sizes from 1 to 7,
/// constants of several strengths (AlexNet's among them), activations of several scales.
fn random_case(rng: &mut Rng) -> (Array4<f32>, LrnConfig) {
    let shape = (
        rng.size(1, 2),
        rng.size(1, 9),
        rng.size(1, 3),
        rng.size(1, 3),
    );
    let scale = rng.pick(&[1.0, 10.0, 100.0]) as f32;
    let x = random_array4(rng, shape, false).mapv(|v| v * scale);
    let config = if rng.chance(1, 4) {
        LrnConfig::ALEXNET
    } else {
        LrnConfig {
            size: rng.pick(&[1, 3, 5, 7]),
            k: rng.float(0.5, 3.0) as f32,
            alpha: rng.pick(&[1e-4, 1e-2, 0.5]) as f32,
            beta: rng.float(0.25, 1.0) as f32,
        }
    };
    (x, config)
}

#[test]
fn exercise_15_1_lrn() {
    let mut checker = Checker::new(
        "15.1",
        "lrn",
        FILE,
        "the sum runs over channels c - size/2 to c + size/2, clipped to 0..C, and squares \
         the activations of those channels at the same image and position; then divide by \
         the sum (plus k, times alpha) to the power beta",
    );
    let mut cases = vec![(
        array![[[[1.0f32]], [[2.0]], [[3.0]]]],
        LrnConfig {
            size: 3,
            k: 1.0,
            alpha: 1.0,
            beta: 1.0,
        },
    )];
    let mut rng = Rng::new(150 + 1);
    cases.extend((0..300).map(|_| random_case(&mut rng)));
    for (x, c) in cases {
        let (expected, _) = lrn_forward(x.view(), c).expect("valid constants");
        checker.check_close(
            || {
                format!(
                    "lrn(&{}, {}, {}, {:e}, {})",
                    array_code(&x),
                    c.size,
                    c.k,
                    c.alpha,
                    c.beta
                )
            },
            expected,
            || lrn(&x, c.size, c.k, c.alpha, c.beta),
            1e-5,
        );
    }
    checker.finish();
}

#[test]
fn exercise_15_2_lrn_backward() {
    let mut checker = Checker::new(
        "15.2",
        "lrn_backward",
        FILE,
        "a[m] reaches the loss through its own output and through the sum of every channel \
         whose window holds it (for an odd size: the channels of m's own window); \
         differentiate b[i] = a[i] s[i]^-beta with respect to s[i], and s[i] with respect \
         to a[m]",
    );
    let mut cases = vec![
        (
            array![[[[5.0f32]]]],
            array![[[[1.0f32]]]],
            LrnConfig {
                size: 1,
                k: 1.0,
                alpha: 1.0,
                beta: 1.0,
            },
        ),
        (
            array![[[[1.0f32]], [[0.0]]]],
            array![[[[1.0f32]], [[2.0]]]],
            LrnConfig {
                size: 3,
                k: 1.0,
                alpha: 1.0,
                beta: 1.0,
            },
        ),
    ];
    let mut rng = Rng::new(150 + 2);
    for _ in 0..300 {
        let (x, c) = random_case(&mut rng);
        let grad = random_array4(&mut rng, x.dim(), false);
        cases.push((grad, x, c));
    }
    for (grad, x, c) in cases {
        let (_, s) = lrn_forward(x.view(), c).expect("valid constants");
        let expected = library_backward(x.view(), s.view(), grad.view(), c).expect("shapes fit");
        checker.check_close(
            || {
                format!(
                    "lrn_backward(&{}, &{}, {}, {}, {:e}, {})",
                    array_code(&grad),
                    array_code(&x),
                    c.size,
                    c.k,
                    c.alpha,
                    c.beta
                )
            },
            expected,
            || lrn_backward(&grad, &x, c.size, c.k, c.alpha, c.beta),
            1e-4,
        );
    }
    checker.finish();
}

#[test]
fn exercise_15_3_peak_activation() {
    let mut checker = Checker::new(
        "15.3",
        "peak_activation",
        FILE,
        "with every channel of the window equal to a, the sum is size * a^2; set the \
         derivative of the output with respect to a to zero",
    );
    let mut rng = Rng::new(150 + 3);
    let mut cases = vec![
        (1, 1.0, 1.0, 1.0),
        (5, 2.0, 1e-4, 0.75),
        (1, 2.0, 1e-4, 0.75),
    ];
    cases.extend((0..200).map(|_| {
        let size = rng.pick(&[1, 3, 5, 7]);
        let alpha = rng.pick(&[1e-4, 1e-2, 1.0]) * rng.float(0.5, 2.0);
        (size, rng.float(0.1, 5.0), alpha, rng.float(0.55, 2.0))
    }));
    for (size, k, alpha, beta) in cases {
        // The middle channel's output when all channels hold `a`, by the library's layer
        // (in f32), and the peak found by golden-section search on it, refined on the same
        // function in f64 where the f32 curve is too flat to resolve 1e-6.
        let config = LrnConfig {
            size,
            k: k as f32,
            alpha: alpha as f32,
            beta: beta as f32,
        };
        let layer = |a: f64| {
            let x = Array4::from_elem((1, 2 * size + 1, 1, 1), a as f32);
            lrn_forward(x.view(), config).expect("valid constants").0[[0, size, 0, 0]] as f64
        };
        let f = |a: f64| a / (k + size as f64 * alpha * a * a).powf(beta);
        let coarse = (1..=400)
            .map(|i| i as f64 * 0.05 / alpha.sqrt())
            .max_by(|&p, &q| layer(p).total_cmp(&layer(q)))
            .expect("points");
        let (mut lo, mut hi) = (coarse * 0.5, coarse * 1.5 + 1e-9);
        let g = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..200 {
            let (m1, m2) = (hi - g * (hi - lo), lo + g * (hi - lo));
            if f(m1) < f(m2) {
                lo = m1;
            } else {
                hi = m2;
            }
        }
        checker.check_close(
            || format!("peak_activation({size}, {k}, {alpha:e}, {beta})"),
            (lo + hi) / 2.0,
            || peak_activation(size, k, alpha, beta),
            1e-6,
        );
    }
    checker.finish();
}
