//! Checkers for chapter 9: compare the exercises with `cnn_book::train::confusion_matrix`
//! and `cnn_book::loss::argmax_rows`.

mod common;

use cnn_book::loss::argmax_rows;
use cnn_book::train;
use cnn_book_exercises::ch09_lenet::{confusion_matrix, per_class_accuracy, top_k_accuracy};
use common::{array_code, nested_code, random_array, Checker, Rng};
use ndarray::{array, Array2};

const FILE: &str = "exercises/src/ch09_lenet.rs";

/// Fractions computed another way (`1 - wrong/total`, a sum of `1/N`, ...) may differ in
/// the last digits.
const FRACTION_TOLERANCE: f64 = 1e-9;

/// The accuracy of each class counted directly from the predictions and labels, without
/// a confusion matrix: `None` for a class that no label names.
fn counted_per_class(predictions: &[usize], labels: &[usize], classes: usize) -> Vec<Option<f64>> {
    (0..classes)
        .map(|class| {
            let examples = labels.iter().filter(|&&l| l == class).count();
            let right = predictions
                .iter()
                .zip(labels)
                .filter(|&(&p, &l)| l == class && p == class)
                .count();
            (examples > 0).then(|| right as f64 / examples as f64)
        })
        .collect()
}

/// Random labels and predictions for `classes` classes (at least 1): labels drawn from
/// only some of the classes half of the time (so that some have no examples), predictions
/// right with a random probability and otherwise any class.
fn random_predictions(rng: &mut Rng, count: usize, classes: usize) -> (Vec<usize>, Vec<usize>) {
    let present = if rng.chance(1, 2) {
        rng.size(1, classes)
    } else {
        classes
    };
    let skill = rng.between(0, 10);
    let labels: Vec<usize> = (0..count).map(|_| rng.size(0, present - 1)).collect();
    let predictions = labels
        .iter()
        .map(|&label| {
            if rng.between(1, 10) <= skill {
                label
            } else {
                rng.size(0, classes - 1)
            }
        })
        .collect();
    (predictions, labels)
}

/// The random inputs of the confusion-matrix checkers, as `(predictions, labels,
/// classes)`: 1 to 12 classes with 0 to 100 examples (ten draws each, one without
/// examples), then 50 larger sets, like Fashion-MNIST's 10 000 images in 10 classes.
fn random_sets(seed: u64) -> Vec<(Vec<usize>, Vec<usize>, usize)> {
    let mut rng = Rng::new(seed);
    let mut sets = Vec::new();
    for classes in 1..=12 {
        for count in [0, 1, 2, 3, 5, 10, 30, 100] {
            for _ in 0..if count == 0 { 1 } else { 10 } {
                let (predictions, labels) = random_predictions(&mut rng, count, classes);
                sets.push((predictions, labels, classes));
            }
        }
    }
    for _ in 0..50 {
        let classes = rng.size(2, 20);
        let count = rng.size(500, 10_000);
        let (predictions, labels) = random_predictions(&mut rng, count, classes);
        sets.push((predictions, labels, classes));
    }
    sets
}

#[test]
fn exercise_9_1_per_class_accuracy() {
    let mut checker = Checker::new(
        "9.1",
        "per_class_accuracy",
        FILE,
        "row t of the matrix holds every example whose true class is t; the diagonal entry \
         confusion[t][t] counts those predicted right. Divide it by the row's sum (not the \
         column's, which would be the precision), as f64, and return None when the row sum \
         is 0 (a class with no examples has no accuracy, not 0). One entry per class, in \
         order.",
    );
    let check = |checker: &mut Checker, predictions: &[usize], labels: &[usize], classes: usize| {
        let confusion = train::confusion_matrix(predictions, labels, classes)
            .expect("the checker's classes are below `classes`");
        checker.check_close(
            || {
                format!(
                    "per_class_accuracy(&{})",
                    nested_code(&confusion, "usize", |count| count.to_string())
                )
            },
            counted_per_class(predictions, labels, classes),
            || per_class_accuracy(&confusion),
            FRACTION_TOLERANCE,
        );
    };
    // The worked example: class 0 has 3 right and 1 taken for class 1, class 1 no
    // examples, class 2 2 right and 2 taken for class 0.
    let pairs = [
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 1),
        (2, 0),
        (2, 0),
        (2, 2),
        (2, 2),
    ];
    let labels: Vec<usize> = pairs.iter().map(|&(label, _)| label).collect();
    let predictions: Vec<usize> = pairs.iter().map(|&(_, prediction)| prediction).collect();
    assert_eq!(
        train::confusion_matrix(&predictions, &labels, 3),
        Ok(array![[3, 1, 0], [0, 0, 0], [2, 0, 2]]),
        "checker bug: the worked example's matrix"
    );
    check(&mut checker, &predictions, &labels, 3);
    // No classes; classes but no examples; one example; all right; all wrong.
    check(&mut checker, &[], &[], 0);
    check(&mut checker, &[], &[], 4);
    check(&mut checker, &[1], &[1], 2);
    check(&mut checker, &[0, 1, 2, 0], &[0, 1, 2, 0], 3);
    check(&mut checker, &[1, 2, 0, 1], &[0, 1, 2, 0], 3);

    for (predictions, labels, classes) in random_sets(91) {
        check(&mut checker, &predictions, &labels, classes);
    }
    checker.finish();
}

/// Top-k accuracy by brute force: sort each row's scores from the largest down; the label
/// is among the `k` largest when its score is at least the `k`-th largest one (ties
/// included), and `k = 0` admits nothing.
fn brute_force_top_k(scores: &Array2<f32>, labels: &[usize], k: usize) -> f64 {
    let hits = scores
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(row, &label)| {
            if k == 0 {
                return false;
            }
            let mut sorted = row.to_vec();
            sorted.sort_by(|a, b| b.partial_cmp(a).expect("no NaN scores"));
            row[label] >= sorted[k.min(sorted.len()) - 1]
        })
        .count();
    hits as f64 / labels.len() as f64
}

/// Top-1 accuracy from the library's predictions, for scores without ties (with ties,
/// `argmax_rows` picks the first maximum, while a tied label counts for top-1).
fn library_top_1(scores: &Array2<f32>, labels: &[usize]) -> f64 {
    let predictions = argmax_rows(scores);
    let hits = predictions
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    hits as f64 / labels.len() as f64
}

/// Random float scores with no two equal in any row.
fn tie_free_scores(rng: &mut Rng, rows: usize, classes: usize) -> Array2<f32> {
    loop {
        let scores = random_array(rng, rows, classes, false);
        let tie_free = scores.rows().into_iter().all(|row| {
            let mut sorted = row.to_vec();
            sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN scores"));
            sorted.windows(2).all(|pair| pair[0] < pair[1])
        });
        if tie_free {
            return scores;
        }
    }
}

#[test]
fn exercise_9_2_top_k_accuracy() {
    let mut checker = Checker::new(
        "9.2",
        "top_k_accuracy",
        FILE,
        "for each row, count the scores strictly larger than the label's own score; the row \
         counts when that number is below k (so ties with the label do not push it out, \
         k = 0 counts no row, and k >= the number of classes every row). Return the number \
         of rows that count divided by the number of rows, as f64.",
    );
    let check =
        |checker: &mut Checker, scores: &Array2<f32>, labels: &[usize], k: usize, expected: f64| {
            checker.check_close(
                || format!("top_k_accuracy(&{}, &{labels:?}, {k})", array_code(scores)),
                expected,
                || top_k_accuracy(scores, labels, k),
                FRACTION_TOLERANCE,
            );
        };
    let scores = array![[0.1, 0.5, 0.4], [0.3, 0.3, 0.2], [0.9, 0.05, 0.05]];
    for k in 0..=4 {
        let expected = brute_force_top_k(&scores, &[2, 1, 2], k);
        check(&mut checker, &scores, &[2, 1, 2], k, expected);
    }
    // Infinite scores tie with each other like any equal scores.
    let extremes = array![
        [f32::INFINITY, f32::INFINITY, 0.0],
        [f32::NEG_INFINITY, 1.0, f32::NEG_INFINITY],
        [5.0, 5.0, 5.0]
    ];
    for labels in [[1, 0, 2], [2, 2, 0], [0, 1, 1]] {
        for k in 0..=3 {
            let expected = brute_force_top_k(&extremes, &labels, k);
            check(&mut checker, &extremes, &labels, k, expected);
        }
    }

    let mut rng = Rng::new(92);
    // Top-1 on tie-free scores: the library's argmax predictions.
    for _ in 0..500 {
        let (rows, classes) = (rng.size(1, 40), rng.size(1, 12));
        let scores = tie_free_scores(&mut rng, rows, classes);
        let labels: Vec<usize> = (0..rows).map(|_| rng.size(0, classes - 1)).collect();
        let expected = library_top_1(&scores, &labels);
        check(&mut checker, &scores, &labels, 1, expected);
    }
    // Every k from 0 to past the number of classes, with many ties (small integer scores
    // from -4 to 4) or none (floats): brute force.
    for _ in 0..1500 {
        let (rows, classes) = (rng.size(1, 30), rng.size(1, 12));
        let integers = rng.chance(1, 2);
        let scores = random_array(&mut rng, rows, classes, integers);
        let labels: Vec<usize> = (0..rows).map(|_| rng.size(0, classes - 1)).collect();
        let k = rng.size(0, classes + 2);
        let expected = brute_force_top_k(&scores, &labels, k);
        check(&mut checker, &scores, &labels, k, expected);
    }
    checker.finish();
}

/// A matrix of counts, compared with `==` and shown in a failure message as Rust code
/// (`array![[1, 0], [0, 2]]`).
#[derive(PartialEq)]
struct Counts(Array2<usize>);

impl std::fmt::Debug for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&nested_code(&self.0, "usize", |count| count.to_string()))
    }
}

#[test]
fn exercise_9_3_confusion_matrix() {
    let mut checker = Checker::new(
        "9.3",
        "confusion_matrix",
        FILE,
        "start from a classes x classes matrix of zeros and add 1 at [labels[n], \
         predictions[n]] for every example n: the row is the true class, the column the \
         prediction (not the other way round). The matrix is classes x classes even when \
         some classes never occur, or when there are no examples at all.",
    );
    let check = |checker: &mut Checker, predictions: &[usize], labels: &[usize], classes: usize| {
        let expected = train::confusion_matrix(predictions, labels, classes)
            .expect("the checker's classes are below `classes`");
        checker.check(
            || format!("confusion_matrix(&{predictions:?}, &{labels:?}, {classes})"),
            Counts(expected),
            || Counts(confusion_matrix(predictions, labels, classes)),
        );
    };
    // The worked example; no classes; classes but no examples; one example; all right;
    // all wrong.
    check(&mut checker, &[0, 1, 1, 2], &[0, 1, 2, 2], 3);
    check(&mut checker, &[], &[], 0);
    check(&mut checker, &[], &[], 4);
    check(&mut checker, &[1], &[0], 2);
    check(&mut checker, &[0, 1, 2, 0], &[0, 1, 2, 0], 3);
    check(&mut checker, &[1, 2, 0, 1], &[0, 1, 2, 0], 3);

    for (predictions, labels, classes) in random_sets(93) {
        check(&mut checker, &predictions, &labels, classes);
    }
    checker.finish();
}
