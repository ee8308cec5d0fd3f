//! Checkers for chapter 1: compare the exercises with `cnn_book::fully_connected` and
//! `cnn_book::figures::shuffled_pixels`.

mod common;

use cnn_book::figures::shuffled_pixels::{permute_pixels, pixel_permutation};
use cnn_book::fully_connected::{dense_params, image_mlp_params};
use cnn_book::Volume;
use cnn_book_exercises::ch01_fully_connected::{
    columns_for_shuffled_pixels, hidden_units_for_same_budget, largest_side_within_budget,
};
use common::{array_code, largest_fitting, random_array, Checker, Rng};
use ndarray::{array, Array2};

const FILE: &str = "exercises/src/ch01_fully_connected.rs";

/// Sides where a floating-point square root goes wrong or `(s + 1)^2` overflows a `u64`.
const LARGE_SIDES: [u64; 4] = [
    94_906_266,    // s^2 just above 2^53: from there on f64 skips integers
    1_000_000_000, // s^2 = 10^18
    3_037_000_499, // the largest s with s^2 < 2^63
    4_294_967_295, // 2^32 - 1, the largest s with s^2 < 2^64
];

#[test]
fn exercise_1_1_largest_side_within_budget() {
    let mut checker = Checker::new(
        "1.1",
        "largest_side_within_budget",
        FILE,
        "write the layer's parameter count for a side s (chapter 1 counts it), solve the \
         inequality for s and round down; \
         a budget met exactly still fits, and a budget below `hidden` (the biases alone) \
         gives 0. f64 has 53 bits of mantissa, so the square root of a large u64 can be off \
         by one: check the neighbours in integers (with checked_mul, as (s + 1)^2 may \
         overflow), or use u64::isqrt.",
    );
    let mut rng = Rng::new(11);
    for channels in [1, 2, 3, 4, 16, 64] {
        for hidden in [1, 2, 3, 10, 100, 1000, 4096] {
            // The library's count, searched over sides: the largest s within budget. A side
            // whose count would not fit in a u64 is over every budget (and would make
            // `dense_params` panic).
            let params = |side: u64| {
                let inputs = side.checked_mul(side)?.checked_mul(channels)?;
                inputs.checked_mul(hidden)?.checked_add(hidden)?;
                Some(dense_params(inputs, hidden))
            };
            let expected = |budget: u64| {
                largest_fitting(|side| params(side).is_some_and(|count| count <= budget))
            };

            let mut budgets: Vec<u64> = (0..=200).collect();
            budgets.extend([u64::MAX - 1, u64::MAX]);
            // Exact boundaries, where one more parameter lets the next side in, up to the
            // largest sides, where f64 square roots round and (s + 1)^2 overflows.
            let sides = [55, 96, 224, 1000, 31_623, 100_000];
            for side in (1..=40).chain(sides).chain(LARGE_SIDES) {
                if let Some(exact) = params(side).filter(|&count| count < u64::MAX) {
                    budgets.extend([exact - 1, exact, exact + 1]);
                }
            }
            // Random budgets of every magnitude up to 10^19.
            for _ in 0..60 {
                let magnitude = 10u64.pow(rng.between(1, 19) as u32);
                budgets.push(rng.between(0, magnitude));
            }
            for budget in budgets {
                checker.check(
                    || format!("largest_side_within_budget({budget}, {channels}, {hidden})"),
                    expected(budget),
                    || largest_side_within_budget(budget, channels, hidden),
                );
            }
        }
    }
    checker.finish();
}

#[test]
fn exercise_1_2_hidden_units_for_same_budget() {
    let mut checker = Checker::new(
        "1.2",
        "hidden_units_for_same_budget",
        FILE,
        "compute the reference network's total first. Each hidden unit costs one weight per \
         input pixel value, one bias and one weight per class; the `classes` output biases \
         are paid whatever `hidden` is. Round down.",
    );
    let images = [
        Volume::new(1, 1, 1),
        Volume::new(2, 2, 1),
        Volume::new(3, 3, 1),
        Volume::new(5, 5, 3),
        Volume::new(7, 5, 2),
        Volume::new(8, 8, 1),
        Volume::new(28, 28, 1),
        Volume::new(32, 32, 3),
        Volume::new(64, 64, 3),
        Volume::new(96, 96, 1),
        Volume::new(96, 96, 3),
        Volume::new(224, 224, 3),
    ];
    for reference in images {
        for reference_hidden in [0, 1, 2, 3, 10, 100, 500, 1000, 4096] {
            for classes in [0, 1, 2, 10, 100, 1000] {
                let budget = image_mlp_params(reference, reference_hidden, classes);
                for image in images {
                    // The library's count, searched over hidden sizes.
                    let expected = largest_fitting(|hidden| {
                        image_mlp_params(image, hidden, classes) <= budget
                    });
                    checker.check(
                        || {
                            format!(
                                "hidden_units_for_same_budget(Volume::new({}, {}, {}), {}, \
                                 Volume::new({}, {}, {}), {})",
                                reference.width,
                                reference.height,
                                reference.depth,
                                reference_hidden,
                                image.width,
                                image.height,
                                image.depth,
                                classes
                            )
                        },
                        expected,
                        || {
                            hidden_units_for_same_budget(
                                reference,
                                reference_hidden,
                                image,
                                classes,
                            )
                        },
                    );
                }
            }
        }
    }
    checker.finish();
}

/// The library's answer to exercise 1.3.
///
/// Column `p` of the answer must meet pixel `permutation[p]` of the original image, which
/// column `permutation[p]` of `a` meets: the columns move exactly as the pixels do
/// (`a P^T`, in the chapter's notation). `permute_pixels` moves the pixels of a batch of
/// images `(N, C, H, W)`, pixel `p` of the result being pixel `permutation[p]`; with
/// every row of `a` as a one-row image of `pixels` pixels, it moves the columns.
fn library_columns_for_shuffled_pixels(a: &Array2<f32>, permutation: &[usize]) -> Array2<f32> {
    let (units, pixels) = a.dim();
    let rows = a
        .to_shape((units, 1, 1, pixels))
        .expect("a matrix is a batch of one-row images")
        .to_owned();
    permute_pixels(&rows, permutation)
        .expect("checker bug: not a permutation")
        .into_shape_with_order((units, pixels))
        .expect("back to a matrix")
}

/// Images given as the columns of `images` (`pixels x count`), each with its pixels moved
/// by `permutation` as the chapter shuffles them (`permute_pixels` on one-row images).
fn shuffled_columns(images: &Array2<f32>, permutation: &[usize]) -> Array2<f32> {
    let (pixels, count) = images.dim();
    let batch = images
        .t()
        .to_shape((count, 1, 1, pixels))
        .expect("one image per column")
        .to_owned();
    let moved = permute_pixels(&batch, permutation).expect("checker bug: not a permutation");
    moved
        .into_shape_with_order((count, pixels))
        .expect("back to a matrix")
        .reversed_axes()
}

/// Every permutation of `0..n`, in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for first in 0..n {
        for rest in permutations(n - 1) {
            let mut permutation = vec![first];
            permutation.extend(rest.into_iter().map(|q| if q >= first { q + 1 } else { q }));
            all.push(permutation);
        }
    }
    all
}

/// Checks exercise 1.3 on one input, written into a failure message by `call`: the
/// student's matrix must equal the library's exactly (`.0`), and times four random images
/// shuffled by `permutation`, it must give `a` times the original images (`.1`). Every
/// value is a small integer, so both are exact in `f32`.
fn check_columns(
    checker: &mut Checker,
    rng: &mut Rng,
    a: &Array2<f32>,
    permutation: &[usize],
    call: impl FnOnce() -> String,
) {
    let pixels = a.ncols();
    let expected = library_columns_for_shuffled_pixels(a, permutation);
    let images = random_array(rng, pixels, 4, true);
    let shuffled = shuffled_columns(&images, permutation);
    let outputs = a.dot(&images);
    assert_eq!(
        expected.dot(&shuffled),
        outputs,
        "checker bug: the library's matrix does not undo the shuffle"
    );
    checker.check_close(
        call,
        (expected, outputs),
        || {
            let answer = columns_for_shuffled_pixels(a, permutation);
            // A matrix with the wrong number of columns cannot multiply the images;
            // `.0` already names its shape.
            let product = if answer.ncols() == pixels {
                answer.dot(&shuffled)
            } else {
                Array2::zeros((0, 0))
            };
            (answer, product)
        },
        0.0,
    );
}

#[test]
fn exercise_1_3_columns_for_shuffled_pixels() {
    let mut checker = Checker::new(
        "1.3",
        "columns_for_shuffled_pixels",
        FILE,
        "in a2 · shuffled(x), column p of a2 multiplies pixel p of the shuffled image, which \
         is pixel permutation[p] of the original; in a · x that pixel meets column \
         permutation[p] of a. Build a2 column by column from that, with the shape of a. The \
         inverse permutation gives the right answer only for permutations that are their \
         own inverse, like a swap. In the message, .0 is your matrix and .1 your matrix \
         times four random shuffled images, which must equal a times the original images.",
    );
    let mut rng = Rng::new(13);
    let mut check = |checker: &mut Checker, a: Array2<f32>, permutation: &[usize]| {
        check_columns(checker, &mut rng, &a, permutation, || {
            format!(
                "columns_for_shuffled_pixels(&{}, &{permutation:?})",
                array_code(&a)
            )
        });
    };
    // The worked examples, and no units or no pixels at all.
    check(&mut checker, array![[1.0, 2.0, 3.0]], &[2, 0, 1]);
    check(&mut checker, array![[1.0, 2.0], [3.0, 4.0]], &[1, 0]);
    check(
        &mut checker,
        array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
        &[0, 1, 2],
    );
    check(&mut checker, Array2::zeros((0, 3)), &[2, 0, 1]);
    check(&mut checker, Array2::zeros((2, 0)), &[]);
    check(&mut checker, Array2::zeros((0, 0)), &[]);

    // Every permutation of up to 6 pixels, with distinct weights (10u + q + 1 for unit u
    // and pixel q): a column in the wrong place cannot go unnoticed.
    for pixels in 0..=6 {
        for permutation in permutations(pixels) {
            let units = 1 + permutation.first().map_or(0, |&q| q % 3);
            let a = Array2::from_shape_fn((units, pixels), |(u, q)| (10 * u + q + 1) as f32);
            check(&mut checker, a, &permutation);
        }
    }
    // Random permutations (the library's, as the chapter draws them) and random weights.
    let mut weights = Rng::new(14);
    for seed in 0..500 {
        let (units, pixels) = (weights.size(1, 16), weights.size(1, 100));
        let a = random_array(&mut weights, units, pixels, true);
        check(&mut checker, a, &pixel_permutation(pixels, seed));
    }
    // The chapter's case: 28 x 28 = 784 pixels, up to its 100 hidden units. The weights
    // follow a formula, so that the call in a failure message can be pasted.
    let mut rng = Rng::new(15);
    for units in [1, 10, 100] {
        for seed in 0..5 {
            let a =
                Array2::from_shape_fn((units, 784), |(u, q)| ((7 * u + 3 * q) % 9) as f32 - 4.0);
            let permutation = pixel_permutation(784, seed);
            check_columns(&mut checker, &mut rng, &a, &permutation, || {
                format!(
                    "columns_for_shuffled_pixels(&Array2::from_shape_fn(({units}, 784), \
                     |(u, q)| ((7 * u + 3 * q) % 9) as f32 - 4.0), \
                     &cnn_book::figures::shuffled_pixels::pixel_permutation(784, {seed}))"
                )
            });
        }
    }
    checker.finish();
}
