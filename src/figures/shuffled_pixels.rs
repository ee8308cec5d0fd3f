//! Chapter 1's experiment: a dense network and a convolutional one (LeNet, chapter 9),
//! trained on Fashion-MNIST as it is and with every image's pixels shuffled by one fixed
//! permutation. [`retrain`] (about two minutes on two cores) writes
//! `book/generated/01-fully-connected/results.json`; [`generate`] draws the chapter's table,
//! numbers and the figure of shuffled images from it and from the embedded sample.

use std::path::Path;
use std::time::Instant;

use ndarray::{Array2, Array4};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{experiment_run, markdown_table, percent, GenResult, Writer};
use crate::data::fashion_mnist::{sample, CLASS_NAMES};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::layers::{Flatten, Linear, Relu, Sequential};
use crate::models::lenet;
use crate::raster::{image_grid, Panel, Shading};
use crate::records::cpu_description;
use crate::train::{EpochStats, Examples, TrainConfig};

/// Where the runs are recorded, below the book.
pub const RESULTS: &str = "generated/01-fully-connected/results.json";
const EPOCHS: usize = 5;
const SEED: u64 = 1;
/// Seeds the one permutation applied to every image.
const PERMUTATION_SEED: u64 = 101;

/// One training run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShuffleRun {
    pub network: String,
    pub shuffled: bool,
    pub history: Vec<EpochStats>,
    pub test_accuracy: f32,
    pub seconds: f32,
}

/// Everything the experiment recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShuffleResults {
    pub command: String,
    pub cpu: String,
    pub seconds: f32,
    pub epochs: usize,
    pub seed: u64,
    pub permutation_seed: u64,
    pub train_examples: usize,
    pub runs: Vec<ShuffleRun>,
}

/// A permutation of the `n` pixel positions, drawn from `seed`.
pub fn pixel_permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order
}

/// Every image of a `(N, C, H, W)` batch with its pixels moved by `permutation`: pixel
/// `p` of the result (counted row by row) is pixel `permutation[p]` of the original, in
/// every channel.
pub fn permute_pixels(images: &Array4<f32>, permutation: &[usize]) -> Result<Array4<f32>> {
    let (n, c, h, w) = images.dim();
    let mut sorted = permutation.to_vec();
    sorted.sort_unstable();
    if sorted != (0..h * w).collect::<Vec<_>>() {
        return Err(Error::Shape(format!(
            "a permutation of the {h} x {w} = {} pixels must hold each of 0..{} once",
            h * w,
            h * w
        )));
    }
    Ok(Array4::from_shape_fn((n, c, h, w), |(i, ch, r, q)| {
        let p = permutation[r * w + q];
        images[[i, ch, p / w, p % w]]
    }))
}

/// The chapter's dense network for 28 x 28 images: 784 inputs, one hidden layer of
/// [`super::fully_connected::HIDDEN`] ReLU units, 10 class scores.
pub fn dense_network(seed: u64) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let hidden = super::fully_connected::HIDDEN as usize;
    Sequential::new()
        .add(Flatten::new())
        .add(Linear::new(28 * 28, hidden, Init::He, &mut rng))
        .add(Relu::new())
        .add(Linear::new(hidden, 10, Init::Xavier, &mut rng))
}

/// Trains both networks on the plain and on the shuffled images and writes `results.json`
/// below `book`.
pub fn retrain(book: &Path) -> Result<()> {
    let started = Instant::now();
    let data = super::full_data()?;
    let permutation = pixel_permutation(28 * 28, PERMUTATION_SEED);
    let shuffled_train = permute_pixels(&data.train_x, &permutation)?;
    let shuffled_test = permute_pixels(&data.test_x, &permutation)?;
    let config = TrainConfig {
        epochs: EPOCHS,
        seed: SEED,
        ..TrainConfig::default()
    };
    let mut runs = Vec::new();
    for network in ["dense", "LeNet"] {
        for shuffled in [false, true] {
            let run_started = Instant::now();
            println!("{network}, shuffled pixels: {shuffled}");
            let mut model = match network {
                "dense" => dense_network(SEED),
                _ => lenet(SEED),
            };
            let (train_x, test_x) = if shuffled {
                (&shuffled_train, &shuffled_test)
            } else {
                (&data.train_x, &data.test_x)
            };
            let (history, test_accuracy) = experiment_run(
                &mut model,
                Examples::new(train_x, &data.train_y)?,
                Examples::new(test_x, &data.test_y)?,
                None,
                &config,
            )?;
            runs.push(ShuffleRun {
                network: network.into(),
                shuffled,
                history,
                test_accuracy,
                seconds: run_started.elapsed().as_secs_f32(),
            });
        }
    }
    let results = ShuffleResults {
        command: "cnn-book figures --chapter 1 --retrain".into(),
        cpu: cpu_description(),
        seconds: started.elapsed().as_secs_f32(),
        epochs: EPOCHS,
        seed: SEED,
        permutation_seed: PERMUTATION_SEED,
        train_examples: data.train_y.len(),
        runs,
    };
    super::write_results(book, RESULTS, &results)
}

/// The experiment's table, numbers and figure.
pub fn generate(w: &mut Writer) -> GenResult {
    let results: ShuffleResults = super::read_results(w.book_dir(), RESULTS, 1)?;
    let find = |network: &str, shuffled: bool| {
        results
            .runs
            .iter()
            .find(|r| r.network == network && r.shuffled == shuffled)
            .ok_or_else(|| Error::Invalid(format!("{RESULTS}: no run of {network}")))
    };
    let mut rows = Vec::new();
    for network in ["dense", "LeNet"] {
        let (plain, shuffled) = (find(network, false)?, find(network, true)?);
        let key = network.to_lowercase();
        w.number(
            &format!("{key}_plain"),
            percent(plain.test_accuracy),
            plain.test_accuracy,
        );
        w.number(
            &format!("{key}_shuffled"),
            percent(shuffled.test_accuracy),
            shuffled.test_accuracy,
        );
        let drop = plain.test_accuracy - shuffled.test_accuracy;
        w.number(&format!("{key}_drop"), format!("{:.2}", 100.0 * drop), drop);
        let label = if network == "dense" {
            "dense: 784 → 100 → 10".to_string()
        } else {
            "convolutional: LeNet (chapter 9)".to_string()
        };
        rows.push(vec![
            label,
            percent(plain.test_accuracy),
            percent(shuffled.test_accuracy),
        ]);
    }
    w.snippet(
        "shuffled-pixels.md",
        &markdown_table(
            &[
                "network",
                "test accuracy, pixels as they are",
                "test accuracy, pixels shuffled",
            ],
            &rows,
        ),
        RESULTS,
    )?;
    w.number("shuffle_epochs", results.epochs.to_string(), results.epochs);
    w.count("shuffle_train", results.train_examples as u64);
    w.run_record(&results.cpu, results.seconds);

    // Four sample images and the same images shuffled.
    let data = sample();
    let permutation = pixel_permutation(28 * 28, results.permutation_seed);
    let mut panels = Vec::new();
    for shuffled in [false, true] {
        for i in 0..4 {
            let image: Array2<f32> = data.image(i);
            let image = if shuffled {
                let batch = image.clone().into_shape_with_order((1, 1, 28, 28))?;
                permute_pixels(&batch, &permutation)?.into_shape_with_order((28, 28))?
            } else {
                image
            };
            let name = CLASS_NAMES[data.labels[i] as usize];
            panels.push(Panel {
                title: if shuffled {
                    format!("{name}, shuffled")
                } else {
                    name.to_string()
                },
                image,
                shading: Shading::Range(0.0, 1.0),
            });
        }
    }
    let png = image_grid(&panels, 4, 4)?;
    w.figure_bytes(
        "shuffled-pixels.png",
        &png.0,
        "Fashion-MNIST sample, images 0-3, one fixed pixel permutation",
    )?;
    Ok(())
}
