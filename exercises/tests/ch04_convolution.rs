//! Checkers for chapter 4: compare the exercises with `cnn_book::conv1d`.

mod common;

use cnn_book::conv1d::{causal_filter, correlate, ema_kernel, moving_average_kernel, Sequence};
use cnn_book_exercises::ch04_convolution::{
    correlate_valid, ema_bias_corrected, moving_average_running,
};
use common::{Checker, Rng};

const FILE: &str = "exercises/src/ch04_convolution.rs";

/// `count` random values: small integers from -4 to 4 (every sum of products is then
/// exact, and the checker asks for the exact answer) or floats in [-scale, scale).
fn signal(rng: &mut Rng, count: usize, integers: bool, scale: f64) -> Vec<f64> {
    (0..count)
        .map(|_| {
            if integers {
                rng.between(0, 8) as f64 - 4.0
            } else {
                rng.float(-scale, scale)
            }
        })
        .collect()
}

/// The library's answer to exercise 4.1.
///
/// `correlate` returns the full cross-correlation `(x ⋆ k)(t) = sum_tau x(t + tau) k(tau)`
/// of two causal sequences (both starting at time 0), non-zero from `t = 1 - k.len()` to
/// `t = x.len() - 1`. Its term `x(t + tau)` reads inside `x` for every `tau` in
/// `0..k.len()` exactly when `0 <= t` and `t + k.len() - 1 <= x.len() - 1`: the valid part
/// is the times `t = 0, ..., x.len() - k.len()`, and output `i` is time `t = i`.
fn library_correlate_valid(x: &[f64], kernel: &[f64]) -> Vec<f64> {
    if kernel.is_empty() || kernel.len() > x.len() {
        return Vec::new();
    }
    let full = correlate(
        &Sequence::causal(x.to_vec()),
        &Sequence::causal(kernel.to_vec()),
    );
    assert_eq!(
        full.start,
        1 - kernel.len() as i64,
        "checker bug: the full cross-correlation does not start where expected"
    );
    (0..=(x.len() - kernel.len()) as i64)
        .map(|t| full.at(t))
        .collect()
}

#[test]
fn exercise_4_1_correlate_valid() {
    let mut checker = Checker::new(
        "4.1",
        "correlate_valid",
        FILE,
        "output i is the dot product of the kernel, not flipped, with x[i], x[i + 1], ..., \
         x[i + k - 1], for i from 0 to x.len() - k (k = kernel.len()): the positions where \
         the whole kernel lies inside x. When the kernel is longer than x, or either is \
         empty, there is no such position: return an empty vector (and mind that \
         x.len() - kernel.len() cannot go below zero in usize).",
    );
    let check = |checker: &mut Checker, x: Vec<f64>, kernel: Vec<f64>, tolerance: f64| {
        checker.check_close(
            || format!("correlate_valid(&{x:?}, &{kernel:?})"),
            library_correlate_valid(&x, &kernel),
            || correlate_valid(&x, &kernel),
            tolerance,
        );
    };
    let examples = [
        (vec![1.0, 2.0, 3.0, 4.0], vec![1.0, 0.0, -1.0]),
        (vec![1.0, 2.0, 3.0, 4.0], vec![0.5, 0.5]),
        (vec![0.0, 1.0, 0.0], vec![1.0, 2.0]),
        (vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]),
        (vec![1.0, 2.0], vec![1.0, 1.0, 1.0]),
        (vec![1.0, 2.0], vec![]),
        (vec![], vec![1.0]),
        (vec![], vec![]),
        (vec![7.0], vec![-3.0]),
    ];
    for (x, kernel) in examples {
        check(&mut checker, x, kernel, 0.0);
    }
    // Every pair of short lengths, empty ones included, with small integers: exact.
    let mut rng = Rng::new(41);
    for length in 0..=12 {
        for width in 0..=12 {
            for _ in 0..3 {
                let x = signal(&mut rng, length, true, 0.0);
                let kernel = signal(&mut rng, width, true, 0.0);
                check(&mut checker, x, kernel, 0.0);
            }
        }
    }
    // Random floats, mostly kernels shorter than the signal, some longer.
    for _ in 0..1000 {
        let length = rng.size(1, 120);
        let width = if rng.chance(1, 10) {
            rng.size(length, length + 5)
        } else {
            rng.size(1, length.min(25))
        };
        let x = signal(&mut rng, length, false, 1.0);
        let kernel = signal(&mut rng, width, false, 1.0);
        check(&mut checker, x, kernel, 1e-9);
    }
    checker.finish();
}

/// The library's answer to exercise 4.2: the exponential moving average as the causal
/// filter with the kernel `alpha (1 - alpha)^tau` (`causal_filter` and `ema_kernel`),
/// divided at each time `t` by the sum of the kernel's weights `tau = 0..=t`, the ones that
/// have met a value of `x` so far.
fn library_ema_bias_corrected(x: &[f64], alpha: f64) -> Vec<f64> {
    // `ema_kernel` refuses a length of 0; filtering an empty signal with any kernel gives
    // an empty result anyway.
    let kernel = ema_kernel(alpha, x.len().max(1)).expect("checker bug: a bad alpha");
    let averages = causal_filter(x, &kernel).expect("an EMA kernel is causal");
    let mut weights = 0.0;
    averages
        .iter()
        .zip(&kernel.values)
        .map(|(average, weight)| {
            weights += weight;
            average / weights
        })
        .collect()
}

#[test]
fn exercise_4_2_ema_bias_corrected() {
    let mut checker = Checker::new(
        "4.2",
        "ema_bias_corrected",
        FILE,
        "run the recursion s(t) = alpha x(t) + (1 - alpha) s(t - 1) from s(-1) = 0 and divide \
         each s(t) by the sum of the kernel's weights that have met a value of x so far, \
         with t counted from 0 (at t = 0 that is the first weight alone, so the result \
         starts at x(0)); keep the sum up to date from step to step, or find it in closed \
         form (a geometric series). Divide the output only: the \
         recursion itself must carry on with the uncorrected s(t - 1). A constant signal must \
         come out unchanged.",
    );
    let check = |checker: &mut Checker, x: Vec<f64>, alpha: f64| {
        checker.check_close(
            || format!("ema_bias_corrected(&{x:?}, {alpha:?})"),
            library_ema_bias_corrected(&x, alpha),
            || ema_bias_corrected(&x, alpha),
            1e-9,
        );
    };
    check(&mut checker, vec![2.0, 4.0], 0.5);
    check(&mut checker, vec![3.0, 3.0, 3.0], 0.5);
    check(&mut checker, vec![10.0, 10.0], 0.1);
    check(&mut checker, vec![1.0, -2.0, 3.0], 1.0);
    check(&mut checker, vec![], 0.3);

    // Constant signals: the corrected average is the constant from t = 0 on. Compared with
    // the constant itself, not with the library.
    let alphas = [1.0, 0.9, 0.5, 0.3, 0.1, 0.05, 0.01, 0.001];
    for value in [0.0, 1.0, -2.5, 3.0, 1000.0] {
        for alpha in alphas {
            for length in [1, 2, 3, 10, 100] {
                checker.check_close(
                    || format!("ema_bias_corrected(&vec![{value:?}; {length}], {alpha:?})"),
                    vec![value; length],
                    || ema_bias_corrected(&vec![value; length], alpha),
                    1e-9,
                );
            }
        }
    }

    // Short signals of every length, then longer ones with random alphas.
    let mut rng = Rng::new(42);
    for alpha in alphas {
        for length in 0..=20 {
            for integers in [true, false] {
                check(
                    &mut checker,
                    signal(&mut rng, length, integers, 10.0),
                    alpha,
                );
            }
        }
    }
    for _ in 0..500 {
        let alpha = rng.float(0.001, 1.0);
        let length = rng.size(1, 200);
        check(&mut checker, signal(&mut rng, length, false, 10.0), alpha);
    }
    checker.finish();
}

/// The library's answer to exercise 4.3: the causal filter with the moving-average kernel,
/// `k` additions per output.
fn library_moving_average(x: &[f64], k: usize) -> Vec<f64> {
    let kernel = moving_average_kernel(k).expect("checker bug: k = 0");
    causal_filter(x, &kernel).expect("a moving-average kernel is causal")
}

/// The moving average of an integer signal from exact prefix sums: the sum over the
/// window `t - k + 1 ..= t` is `prefix[t + 1] - prefix[t + 1 - k]` (0 before time 0),
/// computed in integers, so that the only rounding is the final division. The library's
/// causal filter costs `k` additions per output, too slow for the long inputs.
fn exact_moving_average(x: &[i64], k: usize) -> Vec<f64> {
    let mut prefix = vec![0i64; x.len() + 1];
    for (t, &value) in x.iter().enumerate() {
        prefix[t + 1] = prefix[t] + value;
    }
    (0..x.len())
        .map(|t| (prefix[t + 1] - prefix[(t + 1).saturating_sub(k)]) as f64 / k as f64)
        .collect()
}

/// The long integer signal of exercise 4.3's last inputs, `length` values from -1000 to
/// 1000, and the Rust code that builds it (for the failure message).
fn long_signal(length: u64) -> (Vec<i64>, String) {
    let values = (0..length)
        .map(|t| ((t * 7919) % 2001) as i64 - 1000)
        .collect();
    let code = format!(
        "(0..{length}u64).map(|t| ((t * 7919) % 2001) as f64 - 1000.0).collect::<Vec<f64>>()"
    );
    (values, code)
}

#[test]
fn exercise_4_3_moving_average_running() {
    let mut checker = Checker::new(
        "4.3",
        "moving_average_running",
        FILE,
        "output t is the sum of x(t - k + 1), ..., x(t) divided by k, with zeros before time \
         0: divide by k even while fewer than k values have arrived. Going from output t - 1 \
         to output t, the window gains one value and loses one; keep its sum from step to \
         step instead of adding up k values each time, and mind that the value leaving the \
         window is a zero while t < k.",
    );
    let check = |checker: &mut Checker, x: Vec<f64>, k: usize| {
        checker.check_close(
            || format!("moving_average_running(&{x:?}, {k})"),
            library_moving_average(&x, k),
            || moving_average_running(&x, k),
            1e-9,
        );
    };
    check(&mut checker, vec![3.0, 6.0, 9.0, 12.0], 2);
    check(&mut checker, vec![3.0, 6.0, 9.0, 12.0], 3);
    check(&mut checker, vec![4.0, 8.0], 4);
    check(&mut checker, vec![1.0, -2.0, 3.0], 1);
    check(&mut checker, vec![], 1);
    check(&mut checker, vec![], 5);

    // Every short length, k longer than the signal included, with small integers and
    // floats.
    let mut rng = Rng::new(43);
    for length in 0..=20 {
        for k in 1..=25 {
            for integers in [true, false] {
                check(&mut checker, signal(&mut rng, length, integers, 10.0), k);
            }
        }
    }
    // Longer random signals, mostly windows shorter than the signal.
    for _ in 0..500 {
        let length = rng.size(1, 300);
        let k = if rng.chance(1, 10) {
            rng.size(length, length + 20)
        } else {
            rng.size(1, length.min(50))
        };
        let scale = rng.pick(&[1.0, 10.0, 1000.0]);
        check(&mut checker, signal(&mut rng, length, false, scale), k);
    }
    // A hundred thousand values, where rounding errors have time to add up.
    for k in [1, 2, 10, 100] {
        check(&mut checker, signal(&mut rng, 100_000, false, 10.0), k);
    }

    // Long integer signals, compared with exact prefix sums (checked against the library
    // on a short piece first).
    let (short, _) = long_signal(3000);
    for k in [1, 7, 100, 2999, 3000, 5000] {
        let floats: Vec<f64> = short.iter().map(|&v| v as f64).collect();
        let library = library_moving_average(&floats, k);
        let exact = exact_moving_average(&short, k);
        assert!(
            library
                .iter()
                .zip(&exact)
                .all(|(a, b)| (a - b).abs() <= 1e-9 * a.abs().max(1.0)),
            "checker bug: the prefix sums disagree with the library for k = {k}"
        );
    }
    let (long, code) = long_signal(1_000_000);
    let floats: Vec<f64> = long.iter().map(|&v| v as f64).collect();
    for k in [1, 3, 1000, 10_000] {
        checker.check_close(
            || format!("moving_average_running(&{code}, {k})"),
            exact_moving_average(&long, k),
            || moving_average_running(&floats, k),
            1e-9,
        );
    }
    checker.finish();
}
