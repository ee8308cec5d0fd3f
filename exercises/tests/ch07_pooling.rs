//! Checkers for chapter 7: compare the exercises with `cnn_book::pool`.

mod common;

use cnn_book::pool::{avg_pool2d, avg_pool2d_backward, PoolConfig};
use cnn_book_exercises::ch07_pooling::{
    avg_pool_backward_excluding_padding, global_avg_pool, global_avg_pool_backward,
};
use common::{array_code, random_array, random_array4, Checker, Rng};
use ndarray::{array, Array2, Array4};

const FILE: &str = "exercises/src/ch07_pooling.rs";

/// Means and spread gradients of random floats are allowed this much rounding (relative
/// to the larger of 1 and the entries' size): another summation order, or a division
/// instead of a multiplication by `1/(H*W)`, changes the last digits.
const FLOAT_TOLERANCE: f64 = 1e-4;

/// The checker's own answer to exercise 7.1, for the maps the library cannot pool in one
/// window (non-square ones, or an empty batch): the mean of each map, summed in `f64`.
fn mean_f64(x: &Array4<f64>) -> Array2<f64> {
    let (n, c, h, w) = x.dim();
    Array2::from_shape_fn((n, c), |(n, c)| {
        let mut sum = 0.0;
        for r in 0..h {
            for q in 0..w {
                sum += x[[n, c, r, q]];
            }
        }
        sum / (h * w) as f64
    })
}

/// The expected answer to exercise 7.1: the library's average pooling with one window as
/// large as the map when the maps are square (and the batch not empty), the checker's own
/// mean otherwise.
fn expected_global_avg_pool(x: &Array4<f32>) -> Array2<f32> {
    let (n, c, h, w) = x.dim();
    if h == w && n > 0 && c > 0 {
        let pooled = avg_pool2d(x.view(), PoolConfig::new(h, 1))
            .expect("one window as large as a square map fits");
        assert_eq!(
            pooled.dim(),
            (n, c, 1, 1),
            "checker bug: a window as large as the map gives one output per map"
        );
        pooled
            .into_shape_with_order((n, c))
            .expect("(N, C, 1, 1) reshapes to (N, C)")
    } else {
        mean_f64(&x.mapv(f64::from)).mapv(|v| v as f32)
    }
}

/// The worked examples of exercises 7.1 and 7.2, as `(N, C, H, W)` arrays.
fn example_maps() -> Vec<Array4<f32>> {
    vec![
        array![[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, -8.0]]]],
        array![[[[1.0, 2.0, 6.0]]], [[[-3.0, 0.0, 0.0]]]],
        Array4::zeros((0, 5, 3, 3)),
    ]
}

/// Every shape `(N, C, H, W)` with `N` and `C` from 0 to 2 and `H` and `W` from 1 to 5.
fn small_shapes() -> Vec<(usize, usize, usize, usize)> {
    let mut shapes = Vec::new();
    for n in 0..=2 {
        for c in 0..=2 {
            for h in 1..=5 {
                for w in 1..=5 {
                    shapes.push((n, c, h, w));
                }
            }
        }
    }
    shapes
}

#[test]
fn exercise_7_1_global_avg_pool() {
    let mut checker = Checker::new(
        "7.1",
        "global_avg_pool",
        FILE,
        "y[n][c] is the mean of the whole H x W map x[n][c][..][..]: add up its H*W values \
         and divide by H*W (not by H or W alone). The result has shape (N, C), one row per \
         image and one column per channel, even when N or C is 0.",
    );
    let check = |checker: &mut Checker, x: Array4<f32>, tolerance: f64| {
        checker.check_close(
            || format!("global_avg_pool(&{})", array_code(&x)),
            expected_global_avg_pool(&x),
            || global_avg_pool(&x),
            tolerance,
        );
    };
    for x in example_maps() {
        check(&mut checker, x, FLOAT_TOLERANCE);
    }

    // Every small shape, empty batches and channels, non-square and 1-pixel maps
    // included, with small integers and with floats.
    let mut rng = Rng::new(71);
    for shape in small_shapes() {
        for integers in [true, false] {
            let (n, c, _, _) = shape;
            if n * c == 0 && !integers {
                continue; // no entries: the same input as with integers
            }
            let x = random_array4(&mut rng, shape, integers);
            check(&mut checker, x, FLOAT_TOLERANCE);
        }
    }
    // Larger random batches, square maps two times in three, LeNet-sized ones included.
    for round in 0..600 {
        let (n, c) = (rng.size(1, 4), rng.size(1, 8));
        let h = if round % 50 == 0 { 28 } else { rng.size(1, 12) };
        let w = if rng.chance(2, 3) { h } else { rng.size(1, 12) };
        let integers = rng.chance(1, 4);
        let x = random_array4(&mut rng, (n, c, h, w), integers);
        check(&mut checker, x, FLOAT_TOLERANCE);
    }
    checker.finish();
}

/// The expected answer to exercise 7.2: the library's average-pooling backward pass with
/// one window as large as the map when the maps are square (and the batch not empty);
/// otherwise central finite differences of the loss `L(x) = sum of grad[n][c] * y[n][c]`,
/// with `y` the checker's own means (exercise 7.1). `L` is linear in `x`, so the
/// differences are exact up to rounding.
fn expected_global_avg_pool_backward(
    grad: &Array2<f32>,
    shape: (usize, usize, usize, usize),
) -> Array4<f32> {
    let (n, c, h, w) = shape;
    if h == w && n > 0 && c > 0 {
        let grad4 = grad
            .to_shape((n, c, 1, 1))
            .expect("(N, C) reshapes to (N, C, 1, 1)");
        return avg_pool2d_backward(grad4.view(), shape, PoolConfig::new(h, 1))
            .expect("one window as large as a square map fits");
    }
    let grad = grad.mapv(f64::from);
    let loss = |x: &Array4<f64>| (mean_f64(x) * &grad).sum();
    // Any point will do for a linear function; a fixed pattern keeps the checker simple.
    let mut x = Array4::from_shape_fn(shape, |(n, c, r, q)| {
        ((n + 2 * c + 3 * r + 5 * q) % 7) as f64
    });
    let step = 1e-3;
    let mut dx = Array4::zeros(shape);
    for index in ndarray::indices(shape) {
        let (n, c, r, q) = index;
        let saved = x[[n, c, r, q]];
        x[[n, c, r, q]] = saved + step;
        let plus = loss(&x);
        x[[n, c, r, q]] = saved - step;
        let minus = loss(&x);
        x[[n, c, r, q]] = saved;
        dx[[n, c, r, q]] = ((plus - minus) / (2.0 * step)) as f32;
    }
    dx
}

#[test]
fn exercise_7_2_global_avg_pool_backward() {
    let mut checker = Checker::new(
        "7.2",
        "global_avg_pool_backward",
        FILE,
        "by the chain rule: how much does a small change of one input move the mean of its \
         map, and so y[n][c]? Every input of a map plays the same role. Check that the \
         map's input gradients add up to grad[n][c], and return an array of the given shape \
         (N, C, H, W).",
    );
    let check = |checker: &mut Checker,
                 grad: Array2<f32>,
                 shape: (usize, usize, usize, usize),
                 tolerance: f64| {
        checker.check_close(
            || {
                format!(
                    "global_avg_pool_backward(&{}, {shape:?})",
                    array_code(&grad)
                )
            },
            expected_global_avg_pool_backward(&grad, shape),
            || global_avg_pool_backward(&grad, shape),
            tolerance,
        );
    };
    check(
        &mut checker,
        array![[8.0, -4.0]],
        (1, 2, 2, 2),
        FLOAT_TOLERANCE,
    );
    check(
        &mut checker,
        array![[3.0], [6.0]],
        (2, 1, 1, 3),
        FLOAT_TOLERANCE,
    );
    check(
        &mut checker,
        Array2::zeros((0, 5)),
        (0, 5, 3, 3),
        FLOAT_TOLERANCE,
    );

    // Every small shape, with small integers and with floats.
    let mut rng = Rng::new(72);
    for shape in small_shapes() {
        for integers in [true, false] {
            let (n, c, _, _) = shape;
            if n * c == 0 && !integers {
                continue; // no entries: the same input as with integers
            }
            let grad = random_array(&mut rng, n, c, integers);
            check(&mut checker, grad, shape, FLOAT_TOLERANCE);
        }
    }
    // Larger random batches, square maps two times in three (the library) and non-square
    // ones (finite differences, kept small).
    for round in 0..600 {
        let shape = if rng.chance(2, 3) {
            let h = if round % 50 == 0 { 28 } else { rng.size(1, 12) };
            (rng.size(1, 4), rng.size(1, 8), h, h)
        } else {
            (
                rng.size(1, 3),
                rng.size(1, 3),
                rng.size(1, 7),
                rng.size(1, 7),
            )
        };
        let integers = rng.chance(1, 4);
        let grad = random_array(&mut rng, shape.0, shape.1, integers);
        check(&mut checker, grad, shape, FLOAT_TOLERANCE);
    }
    checker.finish();
}

/// The mean of the real inputs of every window (the padding neither added nor counted),
/// written from the definition in `f64`: the checker's own forward pass for exercise 7.3,
/// against which it tests the library's.
fn real_average_f64(x: &Array4<f32>, field: usize, stride: usize, padding: usize) -> Array4<f64> {
    let (n, c, h, w) = x.dim();
    let windows = |size: usize| (size + 2 * padding - field) / stride + 1;
    Array4::from_shape_fn((n, c, windows(h), windows(w)), |(n, c, i, j)| {
        let (mut sum, mut count) = (0.0, 0);
        for u in 0..field {
            for v in 0..field {
                let (r, q) = (i * stride + u, j * stride + v);
                if r >= padding && q >= padding && r - padding < h && q - padding < w {
                    sum += x[[n, c, r - padding, q - padding]] as f64;
                    count += 1;
                }
            }
        }
        assert!(count > 0, "checker bug: a window holds no real input");
        sum / count as f64
    })
}

/// The expected answer to exercise 7.3: the library's average-pooling backward pass with
/// the padding excluded (zeros for an empty batch or no channels, which the library
/// refuses). Checker self-test: the library's forward pass is the mean of the real inputs
/// (`real_average_f64`), and its backward pass is the adjoint of that forward pass,
/// `sum(forward(x) * grad) == sum(x * backward(grad))` for a random `x`.
fn expected_avg_pool_backward_excluding_padding(
    rng: &mut Rng,
    grad: &Array4<f32>,
    shape: (usize, usize, usize, usize),
    field: usize,
    stride: usize,
    padding: usize,
) -> Array4<f32> {
    let (n, c, _, _) = shape;
    if n == 0 || c == 0 {
        return Array4::zeros(shape);
    }
    let config = PoolConfig::new(field, stride)
        .with_padding(padding)
        .excluding_padding();
    let dx = avg_pool2d_backward(grad.view(), shape, config)
        .expect("checker bug: the library refuses the shapes");
    let x = random_array4(rng, shape, false);
    let y = avg_pool2d(x.view(), config).expect("checker bug: the forward pass fails");
    let own = real_average_f64(&x, field, stride, padding);
    for (a, b) in y.iter().zip(&own) {
        assert!(
            (*a as f64 - b).abs() <= 1e-5 * b.abs().max(1.0),
            "checker bug: the library's mean {a} is not the mean of the real inputs {b}"
        );
    }
    let forward: f64 = own.iter().zip(grad).map(|(y, g)| y * *g as f64).sum();
    let backward: f64 = x.iter().zip(&dx).map(|(x, d)| *x as f64 * *d as f64).sum();
    assert!(
        (forward - backward).abs() <= 1e-4 * forward.abs().max(1.0),
        "checker bug: the backward pass is not the adjoint ({forward} vs {backward})"
    );
    dx
}

#[test]
fn exercise_7_3_avg_pool_backward_excluding_padding() {
    let mut checker = Checker::new(
        "7.3",
        "avg_pool_backward_excluding_padding",
        FILE,
        "each window shares its gradient equally among the real inputs it covers: count how \
         many of its rows and how many of its columns fall inside the map, not in the \
         padding, and give each of those inputs its share (padding takes nothing and does \
         not count). An input inside several windows adds up their shares. Check that the \
         input gradients of each map add up to the gradients of its outputs.",
    );
    let mut rng = Rng::new(73);
    let mut check = |checker: &mut Checker,
                     grad: Array4<f32>,
                     shape: (usize, usize, usize, usize),
                     (field, stride, padding): (usize, usize, usize)| {
        let expected = expected_avg_pool_backward_excluding_padding(
            &mut rng, &grad, shape, field, stride, padding,
        );
        checker.check_close(
            || {
                format!(
                    "avg_pool_backward_excluding_padding(&{}, {shape:?}, {field}, {stride}, \
                     {padding})",
                    array_code(&grad)
                )
            },
            expected,
            || avg_pool_backward_excluding_padding(&grad, shape, field, stride, padding),
            FLOAT_TOLERANCE,
        );
    };
    // The worked examples.
    check(
        &mut checker,
        array![[[[1.0, 2.0], [3.0, 4.0]]]],
        (1, 1, 2, 2),
        (2, 2, 1),
    );
    check(
        &mut checker,
        array![[[[6.0, 6.0, 6.0]]]],
        (1, 1, 1, 3),
        (3, 1, 1),
    );

    // Every small window, stride and padding (at most half the window), on every map size
    // they tile with up to four windows along each axis, empty batches and channels
    // included.
    let mut values = Rng::new(74);
    for field in 1..=4usize {
        for stride in 1..=3 {
            for padding in 0..=field / 2 {
                let sizes: Vec<(usize, usize)> = (1..=4)
                    .filter_map(|windows| {
                        ((windows - 1) * stride + field)
                            .checked_sub(2 * padding)
                            .filter(|&size| size >= 1)
                            .map(|size| (windows, size))
                    })
                    .collect();
                for &(out_h, h) in &sizes {
                    for &(out_w, w) in &sizes {
                        let (n, c) = (values.size(0, 2), values.size(0, 2));
                        let integers = values.chance(1, 2);
                        let grad = random_array4(&mut values, (n, c, out_h, out_w), integers);
                        check(&mut checker, grad, (n, c, h, w), (field, stride, padding));
                    }
                }
            }
        }
    }
    // Larger random batches and windows, LeNet- and ResNet-like ones included.
    for round in 0..600 {
        let (field, stride, padding) = match round % 4 {
            0 => (2, 2, 1),
            1 => (3, 2, 1),
            _ => {
                let field = values.size(1, 6);
                (field, values.size(1, 4), values.size(0, field / 2))
            }
        };
        let mut side = || loop {
            let windows = values.size(1, 8);
            if let Some(size) = ((windows - 1) * stride + field).checked_sub(2 * padding) {
                if size >= 1 {
                    return (windows, size);
                }
            }
        };
        let ((out_h, h), (out_w, w)) = (side(), side());
        let (n, c) = (values.size(1, 3), values.size(1, 4));
        let grad = random_array4(&mut values, (n, c, out_h, out_w), false);
        check(&mut checker, grad, (n, c, h, w), (field, stride, padding));
    }
    checker.finish();
}
