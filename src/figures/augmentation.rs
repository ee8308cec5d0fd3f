//! Experiment, figures and numbers of chapter `13-augmentation`.
//!
//! [`retrain`] (a few minutes on two cores) trains chapter 9's LeNet on a small part of
//! Fashion-MNIST with and without augmentation, and with each augmentation alone, and
//! writes `book/generated/13-augmentation/results.json`; the figures are drawn from it and
//! from the augmentations themselves (on embedded test images, with a fixed seed).

use std::path::Path;
use std::time::Instant;

use ndarray::{s, Array4};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{markdown_table, GenResult, Writer};
use crate::augment::{Augmentation, Augmenter, PixelRange};
use crate::data::fashion_mnist::sample;
use crate::error::{Error, Result};
use crate::models::lenet;
use crate::optim::{Sgd, StepSchedule};
use crate::plot::{line_chart_styled, ChartSpec, ChartStyle, LegendCorner, Series};
use crate::raster::{image_grid, Panel, Shading};
use crate::records::{cpu_description, Normalisation};
use crate::train::{pixel_statistics, standardise, train, EpochStats, Examples, Training};

/// Where the runs are recorded, below the book.
pub const RESULTS: &str = "generated/13-augmentation/results.json";

// ANCHOR: experiment_config
/// The first this many training images: few enough that LeNet overfits them.
pub const SUBSET: usize = 2_000;
pub const EPOCHS: usize = 40;
pub const BATCH: usize = 32;
pub const LEARNING_RATE: f32 = 0.01;
/// The learning rate is divided by 10 for the last quarter of the epochs.
pub const SCHEDULE: StepSchedule = StepSchedule {
    base: LEARNING_RATE,
    gamma: 0.1,
    every: EPOCHS * 3 / 4,
};
pub const SEEDS: [u64; 2] = [1, 2];
pub const MOMENTUM: f32 = 0.9;
/// Weight decay regularises too, with and without augmentation alike.
pub const WEIGHT_DECAY: f32 = 5e-4;
// ANCHOR_END: experiment_config

// ANCHOR: augmentations
/// The chapter's augmentations, in the order they are applied, for images standardised
/// with `norm`: crops move by up to 2 pixels, the brightness by up to a tenth of the pixel
/// range, the contrast by up to a fifth either way. The moves come first, so that the
/// background they bring in changes with the rest of the image.
pub fn augmentations(norm: Normalisation) -> Vec<(&'static str, Augmentation)> {
    vec![
        ("shift", Augmentation::Shift),
        (
            "crop",
            Augmentation::Crop {
                padding: CROP_PADDING,
            },
        ),
        ("flip", Augmentation::HorizontalFlip { p: 0.5 }),
        (
            "brightness",
            Augmentation::Brightness {
                max_delta: 0.1 / norm.std,
            },
        ),
        (
            "contrast",
            Augmentation::Contrast {
                lower: 0.8,
                upper: 1.2,
            },
        ),
    ]
}
// ANCHOR_END: augmentations

/// How far the chapter's crops move an image, at most, in each direction.
pub const CROP_PADDING: usize = 2;
/// The grid of augmented examples: images, random versions of each, and its seed.
pub const GRID: (usize, usize, u64) = (4, 7, 13);

/// One training run: which augmentations, and the history (`validation_*` is the clean
/// training subset, evaluated after each epoch; `test_*` the 10,000 test images).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AugmentationRun {
    /// `none`, `all`, or the name of the one augmentation used.
    pub augmentation: String,
    pub seed: u64,
    pub history: Vec<EpochStats>,
    pub train_accuracy: f32,
    pub test_accuracy: f32,
    pub seconds: f32,
}

/// Everything the chapter's runs recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AugmentationResults {
    pub command: String,
    pub cpu: String,
    pub seconds: f32,
    pub subset: usize,
    pub test_examples: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub schedule: StepSchedule,
    pub normalisation: Normalisation,
    pub runs: Vec<AugmentationRun>,
}

/// Trains LeNet on the first [`SUBSET`] training images without augmentation and with all
/// of them (every seed), and with each one alone (the first seed); writes `results.json`.
pub fn retrain(book: &Path) -> Result<()> {
    let started = Instant::now();
    let super::FullData {
        train_x,
        train_y,
        test_x,
        test_y,
        normalisation,
    } = super::full_data()?;
    let x = train_x.slice(s![..SUBSET, .., .., ..]).to_owned();
    let y = &train_y[..SUBSET];
    let range = PixelRange::standardised(normalisation);
    let all = augmentations(normalisation);
    let mut configs: Vec<(String, Vec<Augmentation>, u64)> = Vec::new();
    for &seed in &SEEDS {
        configs.push(("none".into(), vec![], seed));
        configs.push(("all".into(), all.iter().map(|a| a.1).collect(), seed));
    }
    for (name, a) in &all {
        configs.push((name.to_string(), vec![*a], SEEDS[0]));
    }
    let mut runs = Vec::new();
    for (name, steps, seed) in configs {
        println!("augmentation {name}, seed {seed}");
        let run_started = Instant::now();
        let augmenter = Augmenter::new(range, &steps)?;
        let transform = |b: &mut Array4<f32>, r: &mut ChaCha8Rng| augmenter.apply(b, r);
        let mut training = Training::new(EPOCHS, BATCH, seed);
        training.schedule = Some(SCHEDULE);
        if !steps.is_empty() {
            training.transform = Some(&transform);
        }
        training.validation = Some(Examples::new(&x, y)?);
        training.test = Some(Examples::new(&test_x, &test_y)?);
        let history = train(
            &mut lenet(seed),
            &mut Sgd::new(LEARNING_RATE, MOMENTUM, WEIGHT_DECAY)?,
            Examples::new(&x, y)?,
            &training,
            |_| {},
        )?;
        let last = history.last().expect("at least one epoch");
        let (train_accuracy, test_accuracy) = (
            last.validation_accuracy.unwrap_or(0.0),
            last.test_accuracy.unwrap_or(0.0),
        );
        println!("  training images {train_accuracy:.4}, test {test_accuracy:.4}");
        runs.push(AugmentationRun {
            augmentation: name,
            seed,
            history,
            train_accuracy,
            test_accuracy,
            seconds: run_started.elapsed().as_secs_f32(),
        });
    }
    let results = AugmentationResults {
        command: "cnn-book figures --chapter 13 --retrain".into(),
        cpu: cpu_description(),
        seconds: started.elapsed().as_secs_f32(),
        subset: SUBSET,
        test_examples: test_y.len(),
        epochs: EPOCHS,
        batch_size: BATCH,
        schedule: SCHEDULE,
        normalisation,
        runs,
    };
    super::write_results(book, RESULTS, &results)
}

/// The recorded runs, from `results.json` below `book`.
pub fn read(book: &Path) -> Result<AugmentationResults> {
    super::read_results(book, RESULTS, 13)
}

/// A grid of augmented images: for each of `images` embedded test images, the original
/// and `variants` augmented copies (all augmentations at once), drawn with `seed`.
pub fn examples_grid(images: usize, variants: usize, seed: u64) -> Result<crate::raster::Png> {
    let data = sample();
    let (mean, std) = pixel_statistics(&data);
    let norm = Normalisation { mean, std };
    let range = PixelRange::standardised(norm);
    let steps: Vec<Augmentation> = augmentations(norm).iter().map(|a| a.1).collect();
    let augmenter = Augmenter::new(range, &steps)?;
    let x = standardise(&data, mean, std);
    let rng = &mut ChaCha8Rng::seed_from_u64(seed);
    let mut panels = Vec::new();
    for i in 0..images {
        let original = x.slice(s![i..i + 1, .., .., ..]).to_owned();
        panels.push(Panel {
            title: "original".into(),
            image: original.slice(s![0, 0, .., ..]).to_owned(),
            shading: Shading::Range(range.low, range.high),
        });
        for v in 0..variants {
            let mut copy = original.clone();
            augmenter.apply(&mut copy, rng);
            panels.push(Panel {
                title: format!("random {}", v + 1),
                image: copy.slice(s![0, 0, .., ..]).to_owned(),
                shading: Shading::Range(range.low, range.high),
            });
        }
    }
    image_grid(&panels, variants + 1, 3)
}

fn mean(values: impl Iterator<Item = f32>) -> f32 {
    let v: Vec<f32> = values.collect();
    v.iter().sum::<f32>() / v.len().max(1) as f32
}

pub fn generate(w: &mut Writer) -> GenResult {
    let (images, variants, seed) = GRID;
    w.set_seed(seed);
    w.figure_bytes(
        "examples.png",
        &examples_grid(images, variants, seed)?.0,
        "the embedded test images; augmentations()",
    )?;
    w.count("grid_images", images as u64);
    w.count("grid_variants", variants as u64);
    w.count("crop_padding", CROP_PADDING as u64);
    let results = read(w.book_dir())?;
    w.run_record(&results.cpu, results.seconds);
    w.count("subset", results.subset as u64);
    w.count("test_examples", results.test_examples as u64);
    w.count("epochs", results.epochs as u64);
    w.count("seeds", SEEDS.len() as u64);
    w.count(
        "augmentation_count",
        augmentations(results.normalisation).len() as u64,
    );
    let norm = results.normalisation;
    let range = PixelRange::standardised(norm);
    w.number("pixel_mean", format!("{:.3}", norm.mean), norm.mean);
    w.number("pixel_std", format!("{:.3}", norm.std), norm.std);
    w.number("range_low", format!("{:.2}", range.low), range.low);
    w.number("range_high", format!("{:.2}", range.high), range.high);
    let runs_of = |name: &str| -> Vec<&AugmentationRun> {
        results
            .runs
            .iter()
            .filter(|r| r.augmentation == name)
            .collect()
    };
    let mut rows = Vec::new();
    let mut names = vec!["none", "all"];
    let singles: Vec<String> = augmentations(results.normalisation)
        .iter()
        .map(|a| a.0.to_string())
        .collect();
    names.extend(singles.iter().map(String::as_str));
    for name in names {
        let runs = runs_of(name);
        if runs.is_empty() {
            return Err(Error::Invalid(format!("no run '{name}' in {RESULTS}")));
        }
        // Rounded as printed, so that the gap is the difference a reader computes.
        let round = |v: f32| (1000.0 * v).round() / 1000.0;
        let train = round(mean(runs.iter().map(|r| r.train_accuracy)));
        let test = round(mean(runs.iter().map(|r| r.test_accuracy)));
        w.number(
            &format!("{name}_train"),
            format!("{:.1}%", 100.0 * train),
            train,
        );
        w.number(
            &format!("{name}_test"),
            format!("{:.1}%", 100.0 * test),
            test,
        );
        w.number(
            &format!("{name}_gap"),
            format!("{:.1}", 100.0 * (train - test)),
            train - test,
        );
        if let (Some(first), true) = (runs.first(), runs.len() > 1) {
            // The test accuracy of the first seed, for comparisons with one-seed runs, and
            // how far the seeds lie apart.
            w.number(
                &format!("{name}_test_seed1"),
                format!("{:.1}%", 100.0 * first.test_accuracy),
                first.test_accuracy,
            );
            let (lo, hi) = runs.iter().fold((f32::MAX, f32::MIN), |(lo, hi), r| {
                (lo.min(r.test_accuracy), hi.max(r.test_accuracy))
            });
            w.number(
                &format!("{name}_seed_spread"),
                format!("{:.1}", 100.0 * (hi - lo)),
                hi - lo,
            );
        }
        rows.push(vec![
            name.to_string(),
            runs.len().to_string(),
            format!("{:.1}%", 100.0 * train),
            format!("{:.1}%", 100.0 * test),
            format!("{:.1}", 100.0 * (train - test)),
        ]);
    }
    w.snippet(
        "runs.md",
        &markdown_table(
            &[
                "augmentation",
                "seeds",
                "accuracy on the training images",
                "test accuracy",
                "gap (points)",
            ],
            &rows,
        ),
        RESULTS,
    )?;
    // Curves of the first seed: clean training images and test images, with and without.
    let mut series = Vec::new();
    for name in ["none", "all"] {
        let run = runs_of(name)[0];
        let label = if name == "none" {
            "without"
        } else {
            "with augmentation"
        };
        let curve = |f: fn(&EpochStats) -> Option<f32>| -> Vec<(f64, f64)> {
            run.history
                .iter()
                .map(|e| (e.epoch as f64, 100.0 * f(e).unwrap_or(0.0) as f64))
                .collect()
        };
        series.push(Series {
            name: format!("{label}: training images"),
            points: curve(|e| e.validation_accuracy),
        });
        series.push(Series {
            name: format!("{label}: test images"),
            points: curve(|e| e.test_accuracy),
        });
    }
    let spec = ChartSpec {
        title: format!(
            "LeNet on {} training images, seed {}",
            crate::format::thousands(results.subset as u64),
            SEEDS[0]
        ),
        x_label: "epoch".into(),
        y_label: "accuracy (%)".into(),
        log_x: false,
        log_y: false,
    };
    w.figure(
        "curves.svg",
        &line_chart_styled(
            &spec,
            &series,
            ChartStyle {
                legend: LegendCorner::LowerRight,
                ..ChartStyle::default()
            },
        )?,
        RESULTS,
    )?;
    Ok(())
}
