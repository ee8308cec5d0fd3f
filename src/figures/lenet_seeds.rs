//! Chapter 9's second experiment: how much of LeNet's accuracy is the luck of the seed?
//! [`retrain`] (about four minutes on two cores) sets 6,000 training images aside as a
//! validation set, trains LeNet on the other 54,000 with three seeds (the chapter's
//! configuration otherwise), records validation and test accuracy after every epoch, and
//! writes `book/generated/09-lenet/seeds.json`; [`generate`] draws the table and numbers.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{experiment_run, markdown_table, percent, GenResult, Writer};
use crate::error::{Error, Result};
use crate::models::lenet;
use crate::records::cpu_description;
use crate::train::{split_validation, EpochStats, Examples, TrainConfig};

/// Where the runs are recorded, below the book.
pub const RESULTS: &str = "generated/09-lenet/seeds.json";
/// The seeds of the weights and of the order of the batches.
pub const SEEDS: [u64; 3] = [1, 2, 3];
/// Training images set aside for validation, and the seed that picks them.
pub const VALIDATION: usize = 6_000;
const SPLIT_SEED: u64 = 0;

/// One seed's run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeedRun {
    pub seed: u64,
    pub history: Vec<EpochStats>,
    pub seconds: f32,
}

/// Everything the experiment recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeedResults {
    pub command: String,
    pub cpu: String,
    pub seconds: f32,
    pub config: TrainConfig,
    pub train_examples: usize,
    pub validation_examples: usize,
    pub split_seed: u64,
    pub runs: Vec<SeedRun>,
}

/// What a run says once its validation curve has chosen an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chosen {
    /// The epoch with the highest validation accuracy (the first, on a tie).
    pub epoch: usize,
    pub validation_accuracy: f32,
    /// The test accuracy after that epoch: looked at once, after the choice.
    pub test_accuracy: f32,
    /// The test accuracy after the last epoch.
    pub final_test_accuracy: f32,
}

/// Chooses `history`'s epoch by validation accuracy.
pub fn choose(history: &[EpochStats]) -> Result<Chosen> {
    let missing = |what: &str| Error::Invalid(format!("an epoch without {what} accuracy"));
    let mut best: Option<(&EpochStats, f32)> = None;
    for e in history {
        let v = e.validation_accuracy.ok_or_else(|| missing("validation"))?;
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((e, v));
        }
    }
    let (epoch, validation_accuracy) = best.ok_or_else(|| missing("any"))?;
    let last = history.last().ok_or_else(|| missing("any"))?;
    Ok(Chosen {
        epoch: epoch.epoch,
        validation_accuracy,
        test_accuracy: epoch.test_accuracy.ok_or_else(|| missing("test"))?,
        final_test_accuracy: last.test_accuracy.ok_or_else(|| missing("test"))?,
    })
}

/// Mean and sample standard deviation (n - 1 in the denominator).
pub fn mean_std(values: &[f32]) -> (f32, f32) {
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// Trains LeNet with every seed of [`SEEDS`] and writes `seeds.json` below `book`.
pub fn retrain(book: &Path) -> Result<()> {
    let started = Instant::now();
    let data = super::full_data()?;
    let (train, validation) = split_validation(
        Examples::new(&data.train_x, &data.train_y)?,
        VALIDATION,
        SPLIT_SEED,
    )?;
    let mut runs = Vec::new();
    let mut config = TrainConfig::default();
    for seed in SEEDS {
        let run_started = Instant::now();
        println!("LeNet, seed {seed}");
        config.seed = seed;
        let mut model = lenet(seed);
        let (history, _) = experiment_run(
            &mut model,
            train.examples(),
            Examples::new(&data.test_x, &data.test_y)?,
            Some(validation.examples()),
            &config,
        )?;
        runs.push(SeedRun {
            seed,
            history,
            seconds: run_started.elapsed().as_secs_f32(),
        });
    }
    let results = SeedResults {
        command: "cnn-book figures --chapter 9 --retrain".into(),
        cpu: cpu_description(),
        seconds: started.elapsed().as_secs_f32(),
        config: TrainConfig {
            seed: SEEDS[0],
            ..config
        },
        train_examples: train.labels.len(),
        validation_examples: validation.labels.len(),
        split_seed: SPLIT_SEED,
        runs,
    };
    super::write_results(book, RESULTS, &results)
}

/// The experiment's table and numbers.
pub fn generate(w: &mut Writer) -> GenResult {
    let results: SeedResults = super::read_results(w.book_dir(), RESULTS, 9)?;
    let mut rows = Vec::new();
    let mut chosen = Vec::new();
    for run in &results.runs {
        let c = choose(&run.history)?;
        rows.push(vec![
            run.seed.to_string(),
            c.epoch.to_string(),
            percent(c.validation_accuracy),
            percent(c.test_accuracy),
            percent(c.final_test_accuracy),
        ]);
        chosen.push(c);
    }
    let column = |f: fn(&Chosen) -> f32| -> Vec<f32> { chosen.iter().map(f).collect() };
    let spread = |values: &[f32]| {
        let (m, s) = mean_std(values);
        format!("{} ± {:.2}", percent(m), 100.0 * s)
    };
    let validation = column(|c| c.validation_accuracy);
    let test = column(|c| c.test_accuracy);
    let last = column(|c| c.final_test_accuracy);
    rows.push(vec![
        "mean ± standard deviation".into(),
        String::new(),
        spread(&validation),
        spread(&test),
        spread(&last),
    ]);
    w.snippet(
        "seeds.md",
        &markdown_table(
            &[
                "seed",
                "epoch chosen by validation",
                "validation accuracy",
                "test accuracy, that epoch",
                "test accuracy, last epoch",
            ],
            &rows,
        ),
        RESULTS,
    )?;
    let (mean, std) = mean_std(&test);
    w.number("seeds_test_mean", percent(mean), mean);
    w.number("seeds_test_std", format!("{:.2}", 100.0 * std), std);
    let (lo, hi) = test
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    w.number("seeds_test_min", percent(lo), lo);
    w.number("seeds_test_max", percent(hi), hi);
    let (vmean, _) = mean_std(&validation);
    w.number("seeds_validation_mean", percent(vmean), vmean);
    w.number(
        "seeds_count",
        results.runs.len().to_string(),
        results.runs.len(),
    );
    w.count("seeds_train", results.train_examples as u64);
    w.count("seeds_validation", results.validation_examples as u64);
    w.number("seeds_cpu", results.cpu.clone(), results.cpu.clone());
    w.number(
        "seeds_minutes",
        format!("{:.0}", results.seconds / 60.0),
        results.seconds,
    );
    Ok(())
}
