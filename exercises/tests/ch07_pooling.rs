//! Checkers for chapter 7: compare the exercises with `cnn_book::pool`.

mod common;

use cnn_book::pool::{
    avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, PoolConfig,
};
use cnn_book_exercises::ch07_pooling::{global_avg_pool, global_avg_pool_backward, max_unpool};
use common::{array_code, nested_code, random_array, random_array4, Checker, Rng};
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
        "each of the H*W inputs of map (n, c) counts 1/(H*W) in its mean, so each gets \
         grad[n][c] / (H*W): the same value everywhere in the map, and the map's input \
         gradients add up to grad[n][c]. Return an array of the given shape (N, C, H, W).",
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

/// Window sizes and strides for exercise 7.3: the usual `2 x 2` stride 2, AlexNet's
/// overlapping `3 x 3` stride 2, stride 1 (heavily overlapping), and windows with gaps
/// between them (stride larger than the field).
const POOLS: [(usize, usize); 9] = [
    (1, 1),
    (1, 2),
    (2, 1),
    (2, 2),
    (2, 3),
    (3, 1),
    (3, 2),
    (3, 3),
    (4, 2),
];

#[test]
fn exercise_7_3_max_unpool() {
    let mut checker = Checker::new(
        "7.3",
        "max_unpool",
        FILE,
        "start from Array4::zeros(shape) and, for every pooled position (n, c, i, j), add \
         pooled[n][c][i][j] at (n, c, row, column) where (row, column) = \
         switches[n][c][i][j] (as usize). The switches are positions in the input map, not \
         offsets inside the window. Use +=, not =: when windows overlap, one input can win \
         several of them, and their values add up.",
    );
    let check = |checker: &mut Checker,
                 values: Array4<f32>,
                 switches: Array4<(u32, u32)>,
                 shape: (usize, usize, usize, usize),
                 tolerance: f64| {
        let expected = max_pool2d_backward(values.view(), switches.view(), shape)
            .expect("the switches of max_pool2d fit the input");
        checker.check_close(
            || {
                format!(
                    "max_unpool(&{}, &{}, {shape:?})",
                    array_code(&values),
                    nested_code(&switches, "(u32, u32)", |(r, q)| format!("({r}, {q})"))
                )
            },
            expected,
            || max_unpool(&values, &switches, shape),
            tolerance,
        );
    };
    // The worked examples: pool, then unpool the maxima.
    let examples: [(Array4<f32>, PoolConfig); 2] = [
        (
            array![[[
                [1.0, 3.0, 2.0, 0.0],
                [4.0, 2.0, 1.0, 5.0],
                [0.0, 1.0, 3.0, 3.0],
                [2.0, 6.0, 1.0, 0.0]
            ]]],
            PoolConfig::new(2, 2),
        ),
        (
            array![[[[0.0, 9.0, 0.0], [1.0, 2.0, 3.0]]]],
            PoolConfig::new(2, 1),
        ),
    ];
    for (x, config) in examples {
        let (pooled, switches) = max_pool2d(x.view(), config).expect("the examples tile");
        check(&mut checker, pooled, switches, x.dim(), 0.0);
    }

    let mut rng = Rng::new(73);
    for round in 0..2000 {
        let (field, stride) = POOLS[round % POOLS.len()];
        let (out_h, out_w) = (rng.size(1, 4), rng.size(1, 4));
        let shape = (
            rng.size(1, 2),
            rng.size(1, 3),
            (out_h - 1) * stride + field,
            (out_w - 1) * stride + field,
        );
        // Small integers make ties, which the first maximum in reading order wins.
        let integers = rng.chance(1, 2);
        let x = random_array4(&mut rng, shape, integers);
        let (pooled, switches) =
            max_pool2d(x.view(), PoolConfig::new(field, stride)).expect("the sizes tile");
        // Unpool either the maxima themselves (a DeconvNet reconstruction) or other values
        // of the same shape (a gradient, or a deeper layer's reconstruction).
        let values = if rng.chance(1, 2) {
            pooled
        } else {
            random_array4(&mut rng, pooled.dim(), integers)
        };
        // Integers add up exactly; floats sent to one position may add in another order.
        let tolerance = if integers { 0.0 } else { 1e-6 };
        check(&mut checker, values, switches, shape, tolerance);
    }
    // Global max pooling: one window as large as the map.
    for _ in 0..100 {
        let side = rng.size(1, 6);
        let shape = (rng.size(1, 3), rng.size(1, 3), side, side);
        let x = random_array4(&mut rng, shape, false);
        let (pooled, switches) =
            max_pool2d(x.view(), PoolConfig::new(side, 1)).expect("one window fits");
        check(&mut checker, pooled, switches, shape, 0.0);
    }
    checker.finish();
}
