//! The experiments of chapters 1, 7 and 9: their helpers against hand calculations and
//! second implementations, and the chapters' claims about the committed runs, so that a
//! rerun that changes the story fails here instead of leaving the prose wrong.

use cnn_book::figures::lenet_seeds::{self, choose, mean_std, SeedResults};
use cnn_book::figures::shift_invariance::{self, shifted, ShiftResults};
use cnn_book::figures::shuffled_pixels::{self, dense_network, permute_pixels, ShuffleResults};
use cnn_book::layer::{Layer, Mode, Tensor};
use cnn_book::layers::Linear;
use cnn_book::train::EpochStats;
use ndarray::Array4;

fn committed<T: serde::de::DeserializeOwned>(relative: &str) -> T {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("book")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn permuting_pixels_by_hand() {
    // A 2 x 2 image [[1, 2], [3, 4]]; pixel p of the result is pixel permutation[p].
    let x = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let y = permute_pixels(&x, &[3, 0, 2, 1]).unwrap();
    assert_eq!(y.into_raw_vec_and_offset().0, vec![4.0, 1.0, 3.0, 2.0]);
    // Not a permutation: refused, naming the pixel count.
    let err = permute_pixels(&x, &[0, 0, 1, 2]).unwrap_err().to_string();
    assert!(err.contains("2 x 2 = 4 pixels"), "{err}");
    let err = permute_pixels(&x, &[0, 1, 2]).unwrap_err().to_string();
    assert!(err.contains("4 pixels"), "{err}");
}

#[test]
fn a_dense_network_with_permuted_columns_computes_the_same_on_shuffled_pixels() {
    // Chapter 1's claim (its exercise 5): A x = (A P^T)(P x). Reorder the first layer's
    // columns as the pixels were reordered and the outputs agree to rounding.
    let permutation = shuffled_pixels::pixel_permutation(28 * 28, 5);
    let x = Array4::from_shape_fn((3, 1, 28, 28), |(n, _, r, c)| {
        ((n * 784 + r * 28 + c) as f32 * 0.37).sin()
    });
    let shuffled = permute_pixels(&x, &permutation).unwrap();
    let mut original = dense_network(3);
    let mut moved = dense_network(3);
    let first = moved
        .layer_mut(1)
        .unwrap()
        .downcast_mut::<Linear>()
        .unwrap();
    let a = first.weight.value.clone();
    for (p, &from) in permutation.iter().enumerate() {
        for unit in 0..a.shape()[0] {
            first.weight.value[[unit, p]] = a[[unit, from]];
        }
    }
    let y: Tensor = original.forward(&x.into_dyn(), Mode::Eval).unwrap();
    let z: Tensor = moved.forward(&shuffled.into_dyn(), Mode::Eval).unwrap();
    let diff = (&y - &z).mapv(f32::abs).fold(0.0f32, |m, &v| m.max(v));
    assert!(diff < 1e-4, "largest difference {diff}");
}

#[test]
fn shifting_a_batch_moves_every_image() {
    let x = Array4::from_shape_vec((2, 1, 2, 2), vec![1., 2., 3., 4., 5., 6., 7., 8.]).unwrap();
    // One column right: the left column is filled with -1.
    let y = shifted(&x, 0, 1, -1.0);
    assert_eq!(
        y.into_raw_vec_and_offset().0,
        vec![-1., 1., -1., 3., -1., 5., -1., 7.]
    );
}

fn epoch(epoch: usize, validation: f32, test: f32) -> EpochStats {
    EpochStats {
        epoch,
        learning_rate: 0.1,
        train_loss: 0.0,
        train_accuracy: 0.0,
        validation_loss: None,
        validation_accuracy: Some(validation),
        test_loss: None,
        test_accuracy: Some(test),
        seconds: 0.0,
    }
}

#[test]
fn the_epoch_is_chosen_by_validation_not_by_test() {
    // Validation peaks at epoch 2 (the first of two ties); test peaks at epoch 3.
    let history = [
        epoch(1, 0.80, 0.79),
        epoch(2, 0.90, 0.88),
        epoch(3, 0.85, 0.95),
        epoch(4, 0.90, 0.87),
    ];
    let c = choose(&history).unwrap();
    assert_eq!(c.epoch, 2);
    assert_eq!(c.validation_accuracy, 0.90);
    assert_eq!(c.test_accuracy, 0.88);
    assert_eq!(c.final_test_accuracy, 0.87);
    let mut missing = history.to_vec();
    missing[1].validation_accuracy = None;
    assert!(choose(&missing).is_err());
    assert!(choose(&[]).is_err());
}

#[test]
fn mean_and_sample_deviation_by_hand() {
    // 1, 2, 3, 4: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over
    // n - 1 = 3: variance 5/3.
    let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(m, 2.5);
    assert!((s - (5.0f32 / 3.0).sqrt()).abs() < 1e-6);
}

// --- the chapters' claims about the committed runs ---------------------------------------

#[test]
fn chapter_1_shuffled_pixels_cost_the_dense_network_little_and_lenet_much() {
    let r: ShuffleResults = committed(shuffled_pixels::RESULTS);
    let acc = |net: &str, shuffled: bool| {
        r.runs
            .iter()
            .find(|x| x.network == net && x.shuffled == shuffled)
            .unwrap()
            .test_accuracy
    };
    // "The dense network does about as well either way": within one point.
    assert!((acc("dense", false) - acc("dense", true)).abs() < 0.01);
    // "LeNet, better on the real images, loses ... points ... and falls below the dense
    // network."
    assert!(acc("LeNet", false) > acc("dense", false));
    assert!(acc("LeNet", false) - acc("LeNet", true) > 0.03);
    assert!(acc("LeNet", true) < acc("dense", true));
    assert_eq!(r.runs.len(), 4);
    assert!(r.runs.iter().all(|x| x.history.len() == r.epochs));
}

#[test]
fn chapter_7_no_downsampling_is_shift_invariant_and_averaging_changes_least() {
    let r: ShiftResults = committed(shift_invariance::RESULTS);
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let run = |kind: &str| r.runs.iter().find(|x| x.kind == kind).unwrap();
    let (max, avg, strided) = (
        run("max pooling"),
        run("average pooling"),
        run("strided convolution"),
    );
    for x in [max, avg, strided] {
        assert_eq!(x.changed.len(), shift_invariance::SHIFTS.len());
        // "None of the three is invariant": every shift changes some predictions and
        // costs accuracy; "several per cent" of the predictions change.
        assert!(x.changed.iter().all(|&c| c > 0.01), "{}", x.kind);
        assert!(
            mean(&x.changed) > 0.03 && mean(&x.changed) < 0.15,
            "{}",
            x.kind
        );
        assert!(mean(&x.shifted_accuracy) < x.test_accuracy, "{}", x.kind);
        // "changes the first downsampled maps by close to half their size"
        let f = mean(&x.feature_change);
        assert!(f > 0.3 && f < 0.6, "{}: {f}", x.kind);
    }
    // "average pooling changes the fewest predictions", the strided convolution the most.
    assert!(mean(&avg.changed) < mean(&max.changed));
    assert!(mean(&max.changed) < mean(&strided.changed));
}

#[test]
fn chapter_9_seeds_spread_more_than_the_two_networks_differ() {
    let r: SeedResults = committed(lenet_seeds::RESULTS);
    assert_eq!(r.runs.len(), lenet_seeds::SEEDS.len());
    assert_eq!(r.validation_examples, lenet_seeds::VALIDATION);
    assert_eq!(r.train_examples + r.validation_examples, 60_000);
    let tests: Vec<f32> = r
        .runs
        .iter()
        .map(|run| choose(&run.history).unwrap().test_accuracy)
        .collect();
    let (_, std) = mean_std(&tests);
    // "much more than the difference between the two networks of the results table"
    let table = cnn_book::records::read_results(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("book/generated/09-lenet/results.json"),
    )
    .unwrap();
    let gap = (table["lenet"].test_accuracy - table["lenet-classic"].test_accuracy).abs();
    assert!(
        std > 2.0 * gap,
        "seed deviation {std}, gap between the networks {gap}"
    );
    // "For every seed the chosen epoch's validation accuracy is above its test accuracy."
    for run in &r.runs {
        let c = choose(&run.history).unwrap();
        assert!(c.validation_accuracy > c.test_accuracy, "seed {}", run.seed);
    }
}
