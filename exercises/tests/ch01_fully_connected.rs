//! Checkers for chapter 1: compare the exercises with `cnn_book::fully_connected`.

mod common;

use cnn_book::fully_connected::{dense_params, image_mlp_params};
use cnn_book::Volume;
use cnn_book_exercises::ch01_fully_connected::{
    hidden_units_for_same_budget, largest_side_within_budget,
};
use common::{largest_fitting, Checker, Rng};

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
        "the layer has s*s*channels*hidden + hidden parameters. Solve for s and round down; \
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
