//! Chapter 04: discrete convolution, cross-correlation, and the two smoothing kernels.

use approx::assert_abs_diff_eq;
use cnn_book::conv1d::{
    causal_filter, convolve, correlate, ema_kernel, ema_recursive, moving_average_kernel, Sequence,
};
use cnn_book::Error;
use rand::Rng;

mod common;

fn seq(start: i64, values: &[f64]) -> Sequence {
    Sequence::new(start, values.to_vec())
}

#[test]
fn small_convolution_by_hand() {
    // f = [1, 2, 3] at t = 0..3, g = [1, 1] at tau = 0..2:
    // (f*g)(0) = f0 g0 = 1; (1) = f1 g0 + f0 g1 = 3; (2) = 3 + 2 = 5; (3) = f2 g1 = 3.
    let y = convolve(&seq(0, &[1., 2., 3.]), &seq(0, &[1., 1.]));
    assert_eq!(y, seq(0, &[1., 3., 5., 3.]));
    // A kernel that starts in the future (tau = -1) shifts the result one step earlier.
    let y = convolve(&seq(0, &[1., 2., 3.]), &seq(-1, &[1., 1.]));
    assert_eq!(y, seq(-1, &[1., 3., 5., 3.]));
}

#[test]
fn impulse_response_is_the_kernel() {
    let g = seq(-2, &[0.5, -1., 2., 3., 0.25]);
    let delta = seq(0, &[1.]);
    assert_eq!(convolve(&delta, &g), g);
    // A delayed impulse delays the kernel.
    let late = convolve(&seq(3, &[1.]), &g);
    assert_eq!(late, seq(1, &g.values));
}

#[test]
fn convolution_flips_and_correlation_does_not() {
    // An asymmetric kernel: correlation slides it as written, convolution slides it reversed.
    let f = seq(0, &[0., 0., 1., 0., 0.]); // an impulse at t = 2
    let g = seq(0, &[1., 2., 3.]);
    // (f*g)(t) = g(t - 2): the kernel appears as written, starting at t = 2.
    let conv = convolve(&f, &g);
    assert_eq!(
        (2..5).map(|t| conv.at(t)).collect::<Vec<_>>(),
        vec![1., 2., 3.]
    );
    // (f⋆g)(t) = g(2 - t): the kernel appears reversed, ending at t = 2.
    let corr = correlate(&f, &g);
    assert_eq!(
        (0..3).map(|t| corr.at(t)).collect::<Vec<_>>(),
        vec![3., 2., 1.]
    );
}

#[test]
fn correlation_is_convolution_with_the_flipped_kernel() {
    let mut rng = common::rng(4);
    for _ in 0..200 {
        let f = random_seq(&mut rng);
        let g = random_seq(&mut rng);
        let a = correlate(&f, &g);
        let b = convolve(&f, &g.flipped());
        for t in a.start.min(b.start)..a.end().max(b.end()) {
            assert!(
                approx::abs_diff_eq!(a.at(t), b.at(t), epsilon = 1e-12),
                "t = {t}"
            );
        }
        // Flipping twice gives the kernel back.
        assert_eq!(g.flipped().flipped(), g);
    }
}

fn random_seq(rng: &mut rand_chacha::ChaCha8Rng) -> Sequence {
    let len = rng.random_range(1..8);
    // Small integers make every product and sum exact in f64, so the identities hold exactly.
    let values = (0..len).map(|_| rng.random_range(-5..=5) as f64).collect();
    Sequence::new(rng.random_range(-4..4), values)
}

#[test]
fn convolution_is_commutative_and_associative() {
    let mut rng = common::rng(44);
    for _ in 0..300 {
        let (f, g, h) = (
            random_seq(&mut rng),
            random_seq(&mut rng),
            random_seq(&mut rng),
        );
        assert_eq!(convolve(&f, &g), convolve(&g, &f), "f*g = g*f");
        assert_eq!(
            convolve(&convolve(&f, &g), &h),
            convolve(&f, &convolve(&g, &h)),
            "(f*g)*h = f*(g*h)"
        );
    }
}

#[test]
fn correlation_is_not_commutative() {
    let f = seq(0, &[1., 2.]);
    let g = seq(0, &[0., 1.]);
    // (f⋆g)(t) = f(t + 1): at t = -1 it is f(0) = 1; (g⋆f)(-1) = g(-1)f(0) + g(0)f(1) = 0.
    assert_eq!(correlate(&f, &g).at(-1), 1.);
    assert_eq!(correlate(&g, &f).at(-1), 0.);
}

#[test]
fn moving_average_by_hand() {
    // K = 3 over x = [3, 6, 9, 12]: y = [3/3, 9/3, 18/3, 27/3] (zeros before t = 0).
    let y = causal_filter(&[3., 6., 9., 12.], &moving_average_kernel(3).unwrap()).unwrap();
    let expected = [1., 3., 6., 9.];
    for (a, b) in y.iter().zip(expected) {
        assert!(approx::abs_diff_eq!(*a, b, epsilon = 1e-12), "{y:?}");
    }
    assert_eq!(moving_average_kernel(0), Err(Error::ZeroField));
}

#[test]
fn ema_kernel_matches_the_recursion() {
    // s(t) = a x(t) + (1 - a) s(t - 1), s(-1) = 0, unrolls to sum_{tau=0}^{t} a (1-a)^tau x(t - tau):
    // the convolution with the EMA kernel truncated after len(x) terms is exact.
    let mut rng = common::rng(40);
    for alpha in [0.05, 0.1, 0.3, 0.5, 0.9, 1.0] {
        let x: Vec<f64> = (0..200).map(|_| rng.random_range(-1.0..1.0)).collect();
        let by_kernel = causal_filter(&x, &ema_kernel(alpha, x.len()).unwrap()).unwrap();
        let by_recursion = ema_recursive(&x, alpha);
        for (t, (a, b)) in by_kernel.iter().zip(&by_recursion).enumerate() {
            assert!(
                approx::abs_diff_eq!(a, b, epsilon = 1e-9),
                "alpha {alpha}, t {t}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn truncated_ema_kernel_misses_exactly_the_tail() {
    // The weights of the kernel sum to 1 - (1 - a)^len (a geometric series).
    for (alpha, len) in [(0.1, 10), (0.5, 4), (0.3, 25)] {
        let sum: f64 = ema_kernel(alpha, len).unwrap().values.iter().sum();
        assert_abs_diff_eq!(
            sum,
            (1.0 - (1.0f64 - alpha).powi(len as i32)),
            epsilon = 1e-12
        );
    }
    // alpha = 0.5, 3 terms: 0.5 + 0.25 + 0.125.
    assert_eq!(ema_kernel(0.5, 3).unwrap().values, vec![0.5, 0.25, 0.125]);
}

#[test]
fn bad_smoothing_hyperparameters_are_refused() {
    for alpha in [0.0, -0.1, 1.5, f64::NAN] {
        let err = ema_kernel(alpha, 5).unwrap_err();
        assert!(err.to_string().contains("alpha"), "{err}");
    }
    let future = seq(-1, &[1., 1.]);
    assert!(causal_filter(&[1., 2.], &future)
        .unwrap_err()
        .to_string()
        .contains("causal"));
}
