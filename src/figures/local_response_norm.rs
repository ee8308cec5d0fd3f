//! Experiment, figures and numbers of chapter `15-local-response-norm`.
//!
//! [`retrain`] (a few minutes on two cores) trains chapter 15's network with and without
//! local response normalization, three seeds each, and writes
//! `book/generated/15-local-response-norm/results.json`; the figures are drawn from it
//! and from the normalization's formula.

use std::path::Path;
use std::time::Instant;

use ndarray::s;
use serde::{Deserialize, Serialize};

use super::{markdown_table, GenResult, Writer};
use crate::error::{Error, Result};
use crate::layer::Mode;
use crate::layers::{LocalResponseNorm, Sequential};
use crate::lrn::{lrn_forward, LrnConfig};
use crate::models::lrn_cnn;
use crate::optim::{Sgd, StepSchedule};
use crate::plot::{line_chart_styled, ChartSpec, ChartStyle, LegendCorner, Series};
use crate::records::cpu_description;
use crate::train::{train, EpochStats, Examples, Training};

/// Where the runs are recorded, below the book.
pub const RESULTS: &str = "generated/15-local-response-norm/results.json";

const SEEDS: [u64; 3] = [1, 2, 3];
const EPOCHS: usize = 3;
const LEARNING_RATE: f32 = 0.02;

/// One training run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LrnRun {
    pub lrn: bool,
    pub seed: u64,
    pub history: Vec<EpochStats>,
    pub test_accuracy: f32,
    /// With LRN: the mean, over 1,000 test images and every position and channel, of the
    /// first LRN layer's divisor `(k + alpha sum a^2)^beta` after training.
    pub mean_divisor: Option<f32>,
    /// With LRN: the largest divisor there.
    pub max_divisor: Option<f32>,
    pub seconds: f32,
}

/// Everything the chapter's runs recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LrnResults {
    pub command: String,
    pub cpu: String,
    pub seconds: f32,
    pub epochs: usize,
    pub learning_rate: f32,
    pub config: (usize, f32, f32, f32),
    pub runs: Vec<LrnRun>,
}

/// The divisors of the first LRN layer of `net` for `images`: its input is what the
/// layer before it outputs.
fn divisors(
    net: &mut Sequential,
    images: &crate::layer::Tensor,
    config: LrnConfig,
) -> Result<(f32, f32)> {
    let outputs = net.forward_all(images, Mode::Eval)?;
    let at = (0..net.len())
        .find(|&i| {
            net.layer(i)
                .and_then(|l| l.downcast_ref::<LocalResponseNorm>())
                .is_some()
        })
        .ok_or_else(|| Error::Invalid("no LRN layer".into()))?;
    let input = outputs[at - 1].view().into_dimensionality()?;
    let (_, scale) = lrn_forward(input, config)?;
    let d = scale.mapv(|s| s.powf(config.beta));
    let mean = d.iter().map(|&v| v as f64).sum::<f64>() / d.len() as f64;
    Ok((mean as f32, d.fold(0.0f32, |m, &v| m.max(v))))
}

/// Trains chapter 15's network with and without LRN on the full Fashion-MNIST and writes
/// `results.json` below `book`.
pub fn retrain(book: &Path) -> Result<()> {
    let started = Instant::now();
    let super::FullData {
        train_x,
        train_y,
        test_x,
        test_y,
        normalisation: _,
    } = super::full_data()?;
    let config = LrnConfig::ALEXNET;
    let mut runs = Vec::new();
    for &seed in &SEEDS {
        for lrn in [false, true] {
            let run_started = Instant::now();
            println!("LRN {lrn}, seed {seed}");
            let mut net = lrn_cnn(lrn, config, seed);
            let mut training = Training::new(EPOCHS, 64, seed);
            training.schedule = Some(StepSchedule {
                base: LEARNING_RATE,
                gamma: 0.2,
                every: EPOCHS - 1,
            });
            training.test = Some(Examples::new(&test_x, &test_y)?);
            training.show_progress = true;
            let history = train(
                &mut net,
                &mut Sgd::new(LEARNING_RATE, 0.9, 5e-4)?,
                Examples::new(&train_x, &train_y)?,
                &training,
                |_| {},
            )?;
            let test_accuracy = history.last().and_then(|e| e.test_accuracy).unwrap_or(0.0);
            let (mean_divisor, max_divisor) = if lrn {
                let probe = test_x.slice(s![..1_000, .., .., ..]).to_owned().into_dyn();
                let (m, x) = divisors(&mut net, &probe, config)?;
                (Some(m), Some(x))
            } else {
                (None, None)
            };
            println!("  test accuracy {test_accuracy:.4}");
            runs.push(LrnRun {
                lrn,
                seed,
                history,
                test_accuracy,
                mean_divisor,
                max_divisor,
                seconds: run_started.elapsed().as_secs_f32(),
            });
        }
    }
    let results = LrnResults {
        command: "cnn-book figures --chapter 15 --retrain".into(),
        cpu: cpu_description(),
        seconds: started.elapsed().as_secs_f32(),
        epochs: EPOCHS,
        learning_rate: LEARNING_RATE,
        config: (config.size, config.k, config.alpha, config.beta),
        runs,
    };
    super::write_results(book, RESULTS, &results)
}

fn read(book: &Path) -> Result<LrnResults> {
    super::read_results(book, RESULTS, 15)
}

/// Mean and sample standard deviation.
fn mean_std(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

pub fn generate(w: &mut Writer) -> GenResult {
    // The response of one channel alone (n = 1) to its own activation: a / (k + alpha a^2)^beta
    // with AlexNet's constants, and where it peaks.
    let c = LrnConfig::ALEXNET;
    let peak = (c.k / (c.alpha * (2.0 * c.beta - 1.0))).sqrt();
    w.number("peak_activation", format!("{peak:.0}"), peak);
    let response = |a: f32| a / (c.k + c.alpha * a * a).powf(c.beta);
    w.number(
        "peak_response",
        format!("{:.1}", response(peak)),
        response(peak),
    );
    let neighbours = (c.k / (c.size as f32 * c.alpha)).sqrt();
    w.number("neighbours_scale", format!("{neighbours:.0}"), neighbours);
    w.number(
        "small_divisor",
        format!("{:.3}", c.k.powf(c.beta)),
        c.k.powf(c.beta),
    );
    let points: Vec<(f64, f64)> = (0..=100)
        .map(|i| {
            let a = i as f32 * 10.0;
            (a as f64, response(a) as f64)
        })
        .collect();
    let identity: Vec<(f64, f64)> = (0..=100)
        .map(|i| {
            let a = i as f64 * 10.0;
            (a, a / c.k.powf(c.beta) as f64)
        })
        .collect();
    let spec = ChartSpec {
        title: "One channel alone: output against input, AlexNet's constants".into(),
        x_label: "activation a".into(),
        y_label: "normalized output".into(),
        log_x: false,
        log_y: false,
    };
    w.figure(
        "response.svg",
        &line_chart_styled(
            &spec,
            &[
                Series {
                    name: "a / (2 + 1e-4 a^2)^0.75".into(),
                    points,
                },
                Series {
                    name: "a / 2^0.75 (k alone)".into(),
                    points: identity,
                },
            ],
            ChartStyle {
                legend: LegendCorner::UpperLeft,
                ..ChartStyle::default()
            },
        )?,
        "LrnConfig::ALEXNET",
    )?;

    let results = read(w.book_dir())?;
    w.run_record(&results.cpu, results.seconds);
    w.number("epochs", results.epochs.to_string(), results.epochs);
    w.number("seeds", SEEDS.len().to_string(), SEEDS.len());
    let mut rows = Vec::new();
    for lrn in [false, true] {
        let runs: Vec<&LrnRun> = results.runs.iter().filter(|r| r.lrn == lrn).collect();
        let accs: Vec<f32> = runs.iter().map(|r| r.test_accuracy).collect();
        let (mean, std) = mean_std(&accs);
        let key = if lrn { "with" } else { "without" };
        w.number(
            &format!("{key}_accuracy"),
            format!("{:.2}%", 100.0 * mean),
            mean,
        );
        w.number(&format!("{key}_spread"), format!("{:.2}", 100.0 * std), std);
        let seconds: f32 = runs.iter().map(|r| r.seconds).sum::<f32>() / runs.len() as f32;
        w.number(&format!("{key}_seconds"), format!("{seconds:.0}"), seconds);
        rows.push(vec![
            if lrn { "with LRN" } else { "without" }.to_string(),
            runs.iter()
                .map(|r| format!("{:.2}%", 100.0 * r.test_accuracy))
                .collect::<Vec<_>>()
                .join(", "),
            format!("{:.2}% ± {:.2}", 100.0 * mean, 100.0 * std),
            format!("{seconds:.0} s"),
        ]);
        if lrn {
            let divisors: Vec<f32> = runs.iter().filter_map(|r| r.mean_divisor).collect();
            let (m, _) = mean_std(&divisors);
            let largest = runs
                .iter()
                .filter_map(|r| r.max_divisor)
                .fold(0.0f32, f32::max);
            w.number("mean_divisor", format!("{m:.3}"), m);
            w.number("max_divisor", format!("{largest:.2}"), largest);
        }
    }
    let header: Vec<String> = vec![
        "network".into(),
        format!(
            "test accuracy, seeds {}",
            SEEDS.map(|s| s.to_string()).join(", ")
        ),
        "mean ± standard deviation".into(),
        "time per run".into(),
    ];
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    w.snippet("runs.md", &markdown_table(&header, &rows), RESULTS)?;
    Ok(())
}
