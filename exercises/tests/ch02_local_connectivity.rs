//! Checkers for chapter 2: compare the exercises with `cnn_book::shape`.

mod common;

use cnn_book::shape::{conv_output_size, receptive_field, Window};
use cnn_book_exercises::ch02_local_connectivity::{input_size_for, layers_to_cover, seen_by};
use common::{Checker, Rng};

const FILE: &str = "exercises/src/ch02_local_connectivity.rs";

/// The library's answer to exercise 2.1, by brute force: the widths `W` for which the
/// library gives exactly `output` outputs.
///
/// The search is exact: with `W' = output >= 1` outputs, the padded input `W + 2P` spans
/// the first window plus `W' - 1` strides, `(W' - 1)*S + F`, so `W` is at most that (when
/// `P = 0`). With `output = 0`, a zero field or a zero stride the library never answers
/// `Ok(output)`, and the search finds nothing. It also checks that the answer is unique.
fn library_input_size_for(
    output: usize,
    field: usize,
    padding: usize,
    stride: usize,
) -> Option<usize> {
    let largest = output.saturating_sub(1) * stride + field;
    let mut widths =
        (1..=largest).filter(|&w| conv_output_size(w, field, padding, stride) == Ok(output));
    let width = widths.next();
    assert_eq!(
        widths.next(),
        None,
        "checker bug: two widths give {output} outputs with F = {field}, P = {padding}, \
         S = {stride}"
    );
    width
}

#[test]
fn exercise_2_1_input_size_for() {
    let mut checker = Checker::new(
        "2.1",
        "input_size_for",
        FILE,
        "rule out output = 0, F = 0 and S = 0 first. Then solve the chapter's output-size \
         formula for W, and check your answer by putting it back into the formula. usize \
         cannot go negative: subtract the padding last, and only from something large \
         enough. W = 0 is not a width either.",
    );
    let mut cases = vec![
        (3, 3, 1, 2),
        (55, 11, 0, 4),
        (3, 3, 2, 1),
        (2, 3, 2, 1),
        (0, 3, 0, 1),
        (4, 0, 1, 1),
        (4, 3, 1, 0),
        (112, 7, 3, 2),
        (224, 3, 1, 1),
        (27, 3, 0, 2),
        (1, 1, 0, 1),
        (1, 100_000, 49_999, 1),
        (1, 100_000, 50_000, 1),
        (1_000, 3, 1_000, 1),
        (1_000, 3, 1_001, 3),
        (10_000, 5, 2, 1),
    ];
    // Every combination of small values, zeros included: small outputs against large
    // paddings give the cases where no width works.
    for output in 0..=12 {
        for field in 0..=12 {
            for padding in 0..=6 {
                for stride in 0..=6 {
                    cases.push((output, field, padding, stride));
                }
            }
        }
    }
    // Random larger layers.
    let mut rng = Rng::new(21);
    for _ in 0..1000 {
        cases.push((
            rng.size(1, 300),
            rng.size(1, 40),
            rng.size(0, 30),
            rng.size(1, 8),
        ));
    }
    for (output, field, padding, stride) in cases {
        checker.check(
            || format!("input_size_for({output}, {field}, {padding}, {stride})"),
            library_input_size_for(output, field, padding, stride),
            || input_size_for(output, field, padding, stride),
        );
    }
    checker.finish();
}

#[test]
fn exercise_2_2_seen_by() {
    let mut checker = Checker::new(
        "2.2",
        "seen_by",
        FILE,
        "in padded coordinates, output o's window covers positions o*S up to o*S + F - 1, and \
         real input i sits at padded position P + i. Keep only the positions that are real \
         inputs, and convert them back to real indices.",
    );
    // Every output of every valid configuration with small values.
    for input in 1..=10 {
        for field in 1..=8 {
            for padding in 0..=4 {
                for stride in 1..=4 {
                    let window = Window::new(field, padding, stride).unwrap();
                    let Ok(outputs) = window.output_size(input) else {
                        continue;
                    };
                    for output in 0..outputs {
                        checker.check(
                            || format!("seen_by({output}, {input}, {field}, {padding}, {stride})"),
                            window.real_inputs(output, input).collect::<Vec<_>>(),
                            || seen_by(output, input, field, padding, stride),
                        );
                    }
                }
            }
        }
    }
    // A few outputs of real layers.
    for (input, field, padding, stride) in [(227, 11, 0, 4), (223, 7, 3, 2), (224, 3, 1, 1)] {
        let window = Window::new(field, padding, stride).unwrap();
        let outputs = window.output_size(input).unwrap();
        for output in [0, 1, 2, outputs / 2, outputs - 2, outputs - 1] {
            checker.check(
                || format!("seen_by({output}, {input}, {field}, {padding}, {stride})"),
                window.real_inputs(output, input).collect::<Vec<_>>(),
                || seen_by(output, input, field, padding, stride),
            );
        }
    }
    checker.finish();
}

/// The library's answer to exercise 2.3: stack identical windows one at a time until the
/// library's receptive field reaches `target`, up to a depth cap.
///
/// The cap is exact for `F >= 2`: layer `k` (from 1) widens the field by `(F - 1)` times the
/// product of the strides below it, `(F - 1) * S^(k-1)`. At `S = 1` that is at least 1, so
/// `target - 1` layers reach `target` (starting from 1). At `S >= 2` it is at least
/// `2^(k-1)`, so `n` layers see at least `2^n` positions and `log2(target)` rounded up
/// layers suffice. With `F = 1` the field never grows and the search finds nothing; the
/// short cap at `S >= 2` also keeps the library's product of strides from overflowing
/// there. A zero field or stride is not a window at all.
fn library_layers_to_cover(target: usize, field: usize, stride: usize) -> Option<usize> {
    if target <= 1 {
        return Some(0);
    }
    let window = Window::new(field, 0, stride).ok()?;
    let cap = if stride == 1 {
        target - 1
    } else {
        target.next_power_of_two().trailing_zeros() as usize
    };
    let mut stack = Vec::new();
    while stack.len() < cap {
        stack.push(window);
        if receptive_field(&stack).unwrap().size >= target {
            return Some(stack.len());
        }
    }
    None
}

#[test]
fn exercise_2_3_layers_to_cover() {
    let mut checker = Checker::new(
        "2.3",
        "layers_to_cover",
        FILE,
        "one layer sees F positions. Work out from the chapter's stack figures how much \
         each further layer on top widens the field, and why the strides below it matter \
         (chapter 2 derives it). Add layers while the field is still smaller than the \
         target. A target of 0 or 1 needs no layer (whatever F and S are); otherwise \
         F <= 1 or S = 0 never gets there.",
    )
    .on_timeout(
        "The checker's large targets (up to 10^15) are reached in a few dozen layers when \
         the strides multiply up as they should. A loop that widens the field by the same \
         amount at every layer, because the distance between a layer's inputs does not grow \
         with each stride below it, needs billions of passes there; so does a loop whose \
         field stops growing.",
    );
    let mut cases = vec![
        (7, 3, 1),
        (7, 3, 2),
        (8, 3, 2),
        (100, 3, 1),
        (1, 1, 5),
        (2, 1, 5),
        (0, 0, 0),
        (1, 0, 3),
        (2, 0, 3),
        (2, 3, 0),
        (227, 11, 4),
        (224, 3, 1),
        (224, 3, 2),
        (1_000, 2, 1),
        (2_000, 1, 3),
        (1_000_000, 2, 2),
        (1_000_000_000_000, 3, 2),
        (1_000_000_000_000_000, 11, 4),
    ];
    // Every combination of small values, zeros included: targets that a stack reaches
    // exactly (7 with F = 3, S = 1) and ones it overshoots (8 with F = 3, S = 2).
    for target in 0..=60 {
        for field in 0..=9 {
            for stride in 0..=5 {
                cases.push((target, field, stride));
            }
        }
    }
    // Random larger targets.
    let mut rng = Rng::new(23);
    for _ in 0..1000 {
        cases.push((rng.size(2, 2_000), rng.size(2, 12), rng.size(1, 5)));
    }
    for (target, field, stride) in cases {
        checker.check(
            || format!("layers_to_cover({target}, {field}, {stride})"),
            library_layers_to_cover(target, field, stride),
            || layers_to_cover(target, field, stride),
        );
    }
    checker.finish();
}
