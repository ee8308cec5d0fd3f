//! Experiments, figures and numbers of chapter `10-normalization`.
//!
//! The training runs ([`retrain`], about ten minutes on two cores) write
//! `book/generated/10-normalization/results.json`; the figures are drawn from that file and
//! from computations that take a moment (SELU's constants, the moment map, activations of
//! untrained networks on the embedded sample), so that the chapter regenerates byte for
//! byte without training.

use std::path::Path;
use std::time::Instant;

use ndarray::{s, Axis};
use serde::{Deserialize, Serialize};

use super::{markdown_table, GenResult, Writer};
use crate::error::{Error, Result};
use crate::layer::{Layer, Mode, Tensor};
use crate::layers::{Relu, Sequential};
use crate::loss::argmax_rows;
use crate::models::{deep_mlp, small_cnn, Normalization};
use crate::optim::{Adam, Sgd, StepSchedule};
use crate::plot::{line_chart_styled, ChartSpec, ChartStyle, LegendCorner, Series};
use crate::records::cpu_description;
use crate::train::{train, train_observed, EpochStats, Examples, Observer, Training};

/// Where the runs are recorded, below the book.
pub const RESULTS: &str = "generated/10-normalization/results.json";

/// The plan of experiment 1 (and 2): the small CNN with and without batch norm, at a
/// baseline learning rate and five times it.
const BN_SEED: u64 = 10;
const BN_EPOCHS: usize = 5;
/// The learning rate drops to a fifth for the last epoch.
const BN_DROP_AFTER: usize = 4;
const BN_RATES: [f32; 2] = [0.01, 0.05];
/// Record test accuracy (on the first `PROBE` test images) and the hidden unit's input
/// every this many steps.
const BN_EVERY: usize = 150;
const PROBE: usize = 1_000;

/// The plan of experiment 4: depths, normalizations, seeds, width, training images.
const DEPTHS: [usize; 5] = [2, 4, 8, 16, 32];
const NORMS: [Normalization; 4] = [
    Normalization::SelfNormalizing,
    Normalization::Batch,
    Normalization::Layer,
    Normalization::Plain,
];
const DEPTH_SEEDS: [u64; 3] = [1, 2, 3];
const WIDTH: usize = 64;
const DEPTH_TRAIN: usize = 20_000;
const DEPTH_EPOCHS: usize = 3;
/// Adam's, the same for every network: its steps adapt to each weight's gradients, which
/// spares a search for a learning rate per depth and normalization.
const DEPTH_LEARNING_RATE: f32 = 1e-3;

/// One run of experiment 1.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BnRun {
    pub batch_norm: bool,
    pub learning_rate: f32,
    pub seed: u64,
    pub history: Vec<EpochStats>,
    /// `(step, accuracy on the first `PROBE` test images)`.
    pub curve: Vec<(usize, f32)>,
    /// `(step, [15th, 50th, 85th percentile])` of hidden unit 0's input (what its ReLU
    /// receives) over the same images.
    pub percentiles: Vec<(usize, [f32; 3])>,
    /// On all 10,000 test images after the last epoch.
    pub test_accuracy: f32,
    pub seconds: f32,
}

/// One run of experiment 4.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DepthRun {
    pub norm: Normalization,
    pub depth: usize,
    pub seed: u64,
    /// `None` if training diverged.
    pub train_loss: Option<f32>,
    pub test_accuracy: f32,
    pub seconds: f32,
}

/// Experiment 3: the mean and variance of every hidden layer's activations in an
/// untrained 32-layer network, for one activation function.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InitStats {
    pub activation: String,
    pub means: Vec<f32>,
    pub variances: Vec<f32>,
}

/// Everything the chapter's runs recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NormResults {
    pub command: String,
    /// The CPU that ran them: the numbers depend on it in their last digits.
    pub cpu: String,
    pub seconds: f32,
    pub bn_epochs: usize,
    pub train_examples: usize,
    pub depth_train_examples: usize,
    pub depth_epochs: usize,
    pub depth_learning_rate: f32,
    pub width: usize,
    pub bn: Vec<BnRun>,
    pub depth: Vec<DepthRun>,
    pub init: Vec<InitStats>,
}

/// Records accuracy on a probe batch and the percentiles of one hidden unit's input.
struct Probe<'a> {
    images: Tensor,
    labels: &'a [usize],
    every: usize,
    curve: Vec<(usize, f32)>,
    percentiles: Vec<(usize, [f32; 3])>,
}

impl Observer for Probe<'_> {
    fn step(&mut self, step: usize, model: &mut dyn Layer) -> Result<()> {
        if !step.is_multiple_of(self.every) {
            return Ok(());
        }
        let net = model
            .downcast_mut::<Sequential>()
            .ok_or_else(|| Error::Invalid("the probe needs a Sequential".into()))?;
        let outputs = net.forward_all(&self.images, Mode::Eval)?;
        // The input of the last ReLU: what the hidden unit's nonlinearity receives.
        let last_relu = (0..net.len())
            .rev()
            .find(|&i| {
                net.layer(i)
                    .and_then(|l| l.downcast_ref::<Relu>())
                    .is_some()
            })
            .ok_or_else(|| Error::Invalid("no ReLU to probe".into()))?;
        let mut unit: Vec<f32> = outputs[last_relu - 1]
            .index_axis(Axis(1), 0)
            .iter()
            .copied()
            .collect();
        unit.sort_by(f32::total_cmp);
        let at = |q: f64| unit[((unit.len() - 1) as f64 * q).round() as usize];
        self.percentiles.push((step, [at(0.15), at(0.5), at(0.85)]));
        let logits = outputs
            .last()
            .expect("layers")
            .view()
            .into_dimensionality()?;
        let correct = argmax_rows(&logits.to_owned())
            .iter()
            .zip(self.labels)
            .filter(|(p, l)| p == l)
            .count();
        self.curve
            .push((step, correct as f32 / self.labels.len() as f32));
        Ok(())
    }
}

/// Runs the chapter's experiments on the full Fashion-MNIST and writes `results.json`
/// below `book`.
pub fn retrain(book: &Path) -> Result<()> {
    let started = Instant::now();
    let super::FullData {
        train_x,
        train_y,
        test_x,
        test_y,
        normalisation: _,
    } = super::full_data()?;
    let test = Examples::new(&test_x, &test_y)?;

    let mut bn = Vec::new();
    for &learning_rate in &BN_RATES {
        for batch_norm in [false, true] {
            let run_started = Instant::now();
            println!("small CNN, batch norm {batch_norm}, learning rate {learning_rate}");
            let mut model = small_cnn(batch_norm, BN_SEED);
            let mut probe = Probe {
                images: test_x.slice(s![..PROBE, .., .., ..]).to_owned().into_dyn(),
                labels: &test_y[..PROBE],
                every: BN_EVERY,
                curve: Vec::new(),
                percentiles: Vec::new(),
            };
            let mut training = Training::new(BN_EPOCHS, 64, BN_SEED);
            training.schedule = Some(StepSchedule {
                base: learning_rate,
                gamma: 0.2,
                every: BN_DROP_AFTER,
            });
            training.test = Some(test);
            training.show_progress = true;
            let history = train_observed(
                &mut model,
                &mut Sgd::new(learning_rate, 0.9, 5e-4)?,
                Examples::new(&train_x, &train_y)?,
                &training,
                &mut probe,
            );
            // A run that diverges is a result too: record what it reached.
            let (history, test_accuracy) = match history {
                Ok(h) => {
                    let acc = h.last().and_then(|e| e.test_accuracy).unwrap_or(0.0);
                    (h, acc)
                }
                Err(Error::Training(why)) => {
                    println!("  {why}");
                    (Vec::new(), 0.1)
                }
                Err(e) => return Err(e),
            };
            bn.push(BnRun {
                batch_norm,
                learning_rate,
                seed: BN_SEED,
                history,
                curve: probe.curve,
                percentiles: probe.percentiles,
                test_accuracy,
                seconds: run_started.elapsed().as_secs_f32(),
            });
        }
    }

    let mut depth = Vec::new();
    let (dx, dy) = (
        train_x.slice(s![..DEPTH_TRAIN, .., .., ..]).to_owned(),
        &train_y[..DEPTH_TRAIN],
    );
    for &norm in &NORMS {
        for &d in &DEPTHS {
            for &seed in &DEPTH_SEEDS {
                let run_started = Instant::now();
                let mut model = deep_mlp(d, WIDTH, norm, seed);
                let mut training = Training::new(DEPTH_EPOCHS, 64, seed);
                training.test = Some(test);
                let history = train(
                    &mut model,
                    &mut Adam::new(DEPTH_LEARNING_RATE, 0.0)?,
                    Examples::new(&dx, dy)?,
                    &training,
                    |_| {},
                );
                let (train_loss, test_accuracy) = match history {
                    Ok(h) => {
                        let last = h.last().expect("epochs");
                        (Some(last.train_loss), last.test_accuracy.unwrap_or(0.0))
                    }
                    Err(Error::Training(_)) => (None, 0.1),
                    Err(e) => return Err(e),
                };
                println!("{norm:?}, depth {d}, seed {seed}: test accuracy {test_accuracy:.4}");
                depth.push(DepthRun {
                    norm,
                    depth: d,
                    seed,
                    train_loss,
                    test_accuracy,
                    seconds: run_started.elapsed().as_secs_f32(),
                });
            }
        }
    }

    let init = init_statistics(&test_x.slice(s![..1_000, .., .., ..]).to_owned())?;

    let results = NormResults {
        command: "cnn-book figures --chapter 10 --retrain".into(),
        cpu: cpu_description(),
        seconds: started.elapsed().as_secs_f32(),
        bn_epochs: BN_EPOCHS,
        train_examples: train_y.len(),
        depth_train_examples: DEPTH_TRAIN,
        depth_epochs: DEPTH_EPOCHS,
        depth_learning_rate: DEPTH_LEARNING_RATE,
        width: WIDTH,
        bn,
        depth,
        init,
    };
    super::write_results(book, RESULTS, &results)
}

/// Layers and width of experiment 3's untrained networks.
const INIT_LAYERS: usize = 32;
const INIT_WIDTH: usize = 256;

/// Experiment 3: standardized images through `INIT_LAYERS` fully connected layers with
/// LeCun-normal weights (variance `1 / fan_in`) and each activation function; the mean and
/// variance of each layer's activations over all units and images.
pub fn init_statistics(images: &ndarray::Array4<f32>) -> Result<Vec<InitStats>> {
    use crate::init::Init;
    use crate::layers::{Flatten, Linear, Selu, Sigmoid, Tanh};
    use rand::SeedableRng;
    let mut out = Vec::new();
    for activation in ["SELU", "ReLU", "tanh", "sigmoid"] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut net = Sequential::new().add(Flatten::new());
        let mut inputs = 28 * 28;
        for _ in 0..INIT_LAYERS {
            net = net.add(Linear::new(inputs, INIT_WIDTH, Init::LeCun, &mut rng));
            net = match activation {
                "SELU" => net.add(Selu::new()),
                "ReLU" => net.add(Relu::new()),
                "tanh" => net.add(Tanh::new()),
                _ => net.add(Sigmoid::new()),
            };
            inputs = INIT_WIDTH;
        }
        let outputs = net.forward_all(&images.clone().into_dyn(), Mode::Eval)?;
        let (mut means, mut variances) = (Vec::new(), Vec::new());
        // Every second output is an activation (after Flatten, Linear).
        for y in outputs.iter().skip(2).step_by(2) {
            let n = y.len() as f64;
            let mean = y.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = y.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            means.push(mean as f32);
            variances.push(var as f32);
        }
        out.push(InitStats {
            activation: activation.into(),
            means,
            variances,
        });
    }
    Ok(out)
}

/// Reads the committed runs.
fn read(book: &Path) -> Result<NormResults> {
    super::read_results(book, RESULTS, 10)
}

/// The published comparison of Klambauer et al. (2017), Table 2: fully connected networks
/// on the Tox21 challenge, area under the ROC curve (%), mean and standard deviation, by
/// number of layers. The course slides reproduce it.
const TOX21: [(&str, [(f32, f32); 7]); 7] = [
    (
        "SNN",
        [
            (83.7, 0.3),
            (84.4, 0.5),
            (84.2, 0.4),
            (83.9, 0.5),
            (84.5, 0.2),
            (83.5, 0.5),
            (82.5, 0.7),
        ],
    ),
    (
        "Batchnorm",
        [
            (80.0, 0.5),
            (79.8, 1.6),
            (77.2, 1.1),
            (77.0, 1.7),
            (75.0, 0.9),
            (73.7, 2.0),
            (76.0, 1.1),
        ],
    ),
    (
        "WeightNorm",
        [
            (83.7, 0.8),
            (82.9, 0.8),
            (82.2, 0.9),
            (82.5, 0.6),
            (81.9, 1.2),
            (78.1, 1.3),
            (56.6, 2.6),
        ],
    ),
    (
        "LayerNorm",
        [
            (84.3, 0.3),
            (84.3, 0.5),
            (84.0, 0.2),
            (82.5, 0.8),
            (80.9, 1.8),
            (78.7, 2.3),
            (78.8, 0.8),
        ],
    ),
    (
        "Highway",
        [
            (83.3, 0.9),
            (83.0, 0.5),
            (82.6, 0.9),
            (82.4, 0.8),
            (80.3, 1.4),
            (80.3, 2.4),
            (79.6, 0.8),
        ],
    ),
    (
        "MSRAinit",
        [
            (82.7, 0.4),
            (81.6, 0.9),
            (81.1, 1.7),
            (80.6, 0.6),
            (80.9, 1.1),
            (80.2, 1.1),
            (80.4, 1.9),
        ],
    ),
    (
        "ResNet",
        [
            (82.2, 1.1),
            (80.0, 2.0),
            (80.5, 1.2),
            (81.2, 0.7),
            (81.8, 0.6),
            (81.2, 0.6),
            (f32::NAN, f32::NAN),
        ],
    ),
];
const TOX21_DEPTHS: [usize; 7] = [2, 3, 4, 6, 8, 16, 32];

fn norm_name(n: Normalization) -> &'static str {
    match n {
        Normalization::SelfNormalizing => "SELU (self-normalizing)",
        Normalization::Batch => "batch norm + ReLU",
        Normalization::Layer => "layer norm + ReLU",
        Normalization::Plain => "ReLU, no normalization",
    }
}

/// Mean and (sample) standard deviation.
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

fn chart(title: &str, x: &str, y: &str) -> ChartSpec {
    ChartSpec {
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        log_x: false,
        log_y: false,
    }
}

pub fn generate(w: &mut Writer) -> GenResult {
    // SELU's constants, derived (no training involved).
    let (lambda, alpha) = crate::selu::derive_constants();
    w.number("selu_lambda", format!("{lambda:.10}"), lambda);
    w.number("selu_alpha", format!("{alpha:.10}"), alpha);
    let (m, v) = crate::selu::moment_map(0.0, 1.0, 0.0, 1.0, (lambda, alpha));
    w.number(
        "fixed_point_error",
        format!("{:.0e}", m.abs().max((v - 1.0).abs()).max(1e-15)),
        m.abs().max((v - 1.0).abs()),
    );
    // The variance map nu -> g(nu) for normalized weights, from a few starting points.
    let mut rows = Vec::new();
    for start in [0.25f64, 0.5, 2.0, 4.0] {
        let mut nu = start;
        let mut row = vec![format!("{start}")];
        for _ in 0..5 {
            nu = crate::selu::moment_map(0.0, nu, 0.0, 1.0, (lambda, alpha)).1;
            row.push(format!("{nu:.3}"));
        }
        rows.push(row);
    }
    w.snippet(
        "variance-map.md",
        &markdown_table(
            &[
                "variance in",
                "layer 1",
                "layer 2",
                "layer 3",
                "layer 4",
                "layer 5",
            ],
            &rows,
        ),
        "selu::moment_map with omega = 0, tau = 1",
    )?;

    let results = read(w.book_dir())?;
    w.run_record(&results.cpu, results.seconds);
    w.number(
        "bn_epochs",
        results.bn_epochs.to_string(),
        results.bn_epochs,
    );
    w.count("probe_images", PROBE as u64);
    w.number("probe_every", BN_EVERY.to_string(), BN_EVERY);

    // Experiment 1: accuracy over the steps, four runs.
    let label = |r: &BnRun| {
        format!(
            "{}, lr {}",
            if r.batch_norm {
                "batch norm"
            } else {
                "no batch norm"
            },
            r.learning_rate
        )
    };
    let series: Vec<Series> = results
        .bn
        .iter()
        .map(|r| Series {
            name: label(r),
            points: r.curve.iter().map(|&(s, a)| (s as f64, a as f64)).collect(),
        })
        .collect();
    let style = ChartStyle {
        legend: LegendCorner::LowerRight,
        ..ChartStyle::default()
    };
    w.figure(
        "bn-accuracy.svg",
        &line_chart_styled(
            &chart(
                &format!(
                    "Test accuracy during training ({} test images)",
                    crate::format::thousands(PROBE as u64)
                ),
                "training step",
                "accuracy",
            ),
            &series,
            style,
        )?,
        RESULTS,
    )?;
    let mut rows = Vec::new();
    for r in &results.bn {
        let key = format!(
            "{}_{}",
            if r.batch_norm { "bn" } else { "plain" },
            if r.learning_rate == BN_RATES[0] {
                "base"
            } else {
                "high"
            }
        );
        w.number(
            &format!("{key}_accuracy"),
            format!("{:.2}%", 100.0 * r.test_accuracy),
            r.test_accuracy,
        );
        // The first step at which the probe reached 88%.
        let reached = r.curve.iter().find(|&&(_, a)| a >= 0.88).map(|&(s, _)| s);
        w.number(
            &format!("{key}_steps_to_88"),
            reached.map_or("never".into(), |s| crate::format::thousands(s as u64)),
            reached.map_or(serde_json::Value::Null, |s| s.into()),
        );
        let per_epoch: Vec<String> = r
            .history
            .iter()
            .map(|e| {
                e.test_accuracy
                    .map_or("-".into(), |a| format!("{:.2}%", 100.0 * a))
            })
            .collect();
        rows.push(vec![
            if r.batch_norm { "yes" } else { "no" }.into(),
            format!("{}", r.learning_rate),
            per_epoch.join(", "),
            reached.map_or("never".into(), |s| crate::format::thousands(s as u64)),
            format!("{:.0} s", r.seconds),
        ]);
    }
    let time = |bn: bool| -> f32 {
        results
            .bn
            .iter()
            .filter(|r| r.batch_norm == bn)
            .map(|r| r.seconds)
            .sum()
    };
    let slower = time(true) / time(false) - 1.0;
    w.number("bn_slower", format!("{:.0}%", 100.0 * slower), slower);
    w.number(
        "bn_rates_ratio",
        format!("{}", BN_RATES[1] / BN_RATES[0]),
        BN_RATES[1] / BN_RATES[0],
    );
    w.snippet(
        "bn-runs.md",
        &markdown_table(
            &[
                "batch norm",
                "learning rate",
                "test accuracy after each epoch",
                "steps to 88%",
                "time",
            ],
            &rows,
        ),
        RESULTS,
    )?;

    // Experiment 2: the hidden unit's input over training, at the baseline rate.
    let mut series = Vec::new();
    for r in results.bn.iter().filter(|r| r.learning_rate == BN_RATES[0]) {
        for (q, name) in [(0, "15th"), (1, "50th"), (2, "85th")] {
            series.push(Series {
                name: format!(
                    "{}, {name} percentile",
                    if r.batch_norm { "with BN" } else { "without" }
                ),
                points: r
                    .percentiles
                    .iter()
                    .map(|(s, p)| (*s as f64, p[q] as f64))
                    .collect(),
            });
        }
    }
    let style = ChartStyle {
        legend: LegendCorner::UpperRight,
        headroom: 0.6,
        ..ChartStyle::default()
    };
    w.figure(
        "bn-shift.svg",
        &line_chart_styled(
            &chart(
                "The input of one hidden unit's ReLU during training",
                "training step",
                "value",
            ),
            &series,
            style,
        )?,
        RESULTS,
    )?;

    // Experiment 3: moments through 32 untrained layers.
    let means: Vec<Series> = results
        .init
        .iter()
        .map(|s| Series {
            name: s.activation.clone(),
            points: s
                .means
                .iter()
                .enumerate()
                .map(|(i, &v)| ((i + 1) as f64, v as f64))
                .collect(),
        })
        .collect();
    let variances: Vec<Series> = results
        .init
        .iter()
        .map(|s| Series {
            name: s.activation.clone(),
            points: s
                .variances
                .iter()
                .enumerate()
                .map(|(i, &v)| ((i + 1) as f64, (v as f64).max(1e-12)))
                .collect(),
        })
        .collect();
    w.figure(
        "init-means.svg",
        &line_chart_styled(
            &chart(
                "Mean of the activations, untrained network",
                "layer",
                "mean",
            ),
            &means,
            ChartStyle::default(),
        )?,
        RESULTS,
    )?;
    let mut spec = chart(
        "Variance of the activations, untrained network",
        "layer",
        "variance",
    );
    spec.log_y = true;
    w.figure(
        "init-variances.svg",
        &line_chart_styled(
            &spec,
            &variances,
            ChartStyle {
                legend: LegendCorner::LowerLeft,
                ..ChartStyle::default()
            },
        )?,
        RESULTS,
    )?;
    for s in &results.init {
        let key = s.activation.to_lowercase();
        let last = s.variances.len() - 1;
        w.number(
            &format!("init_{key}_var_last"),
            format!("{:.2e}", s.variances[last]),
            s.variances[last],
        );
        w.number(
            &format!("init_{key}_mean_last"),
            format!("{:.2}", s.means[last]),
            s.means[last],
        );
    }

    // Experiment 4: test accuracy by depth.
    let mut rows = Vec::new();
    let mut series = Vec::new();
    for &norm in &NORMS {
        let mut row = vec![norm_name(norm).to_string()];
        let mut points = Vec::new();
        for &d in &DEPTHS {
            let accs: Vec<f32> = results
                .depth
                .iter()
                .filter(|r| r.norm == norm && r.depth == d)
                .map(|r| r.test_accuracy)
                .collect();
            let (mean, std) = mean_std(&accs);
            row.push(format!("{:.1} ± {:.1}", 100.0 * mean, 100.0 * std));
            points.push(((d as f64).log2(), 100.0 * mean));
        }
        rows.push(row);
        series.push(Series {
            name: norm_name(norm).into(),
            points,
        });
    }
    let mut header = vec!["hidden layers".to_string()];
    header.extend(DEPTHS.iter().map(|d| d.to_string()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    w.snippet("depth.md", &markdown_table(&header, &rows), RESULTS)?;
    let spec = chart(
        "Fashion-MNIST test accuracy by depth (mean of 3 seeds)",
        "hidden layers, as a power of 2 (1: 2 layers, 5: 32 layers)",
        "test accuracy (%)",
    );
    w.figure(
        "depth.svg",
        &line_chart_styled(
            &spec,
            &series,
            ChartStyle {
                legend: LegendCorner::LowerLeft,
                ..ChartStyle::default()
            },
        )?,
        RESULTS,
    )?;
    w.number(
        "depth_seeds",
        DEPTH_SEEDS.len().to_string(),
        DEPTH_SEEDS.len(),
    );
    w.count("depth_train", results.depth_train_examples as u64);
    w.number(
        "depth_epochs",
        results.depth_epochs.to_string(),
        results.depth_epochs,
    );
    w.number("depth_width", results.width.to_string(), results.width);
    let steps = results.depth_epochs * results.depth_train_examples.div_ceil(64);
    w.count("depth_steps", steps as u64);
    let losses: Vec<f32> = results
        .depth
        .iter()
        .filter(|r| r.norm == Normalization::Batch && r.depth == 32)
        .filter_map(|r| r.train_loss)
        .collect();
    let (loss, _) = mean_std(&losses);
    w.number("bn32_train_loss", format!("{loss:.2}"), loss);
    let tox: Vec<Vec<String>> = TOX21
        .iter()
        .map(|(name, cells)| {
            std::iter::once(name.to_string())
                .chain(cells.iter().map(|&(m, s)| {
                    if m.is_nan() {
                        "n/a".into()
                    } else {
                        format!("{m:.1} ± {s:.1}")
                    }
                }))
                .collect()
        })
        .collect();
    let mut header = vec!["layers".to_string()];
    header.extend(TOX21_DEPTHS.iter().map(|d| d.to_string()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    w.snippet(
        "tox21.md",
        &markdown_table(&header, &tox),
        "Klambauer et al. (2017), Table 2",
    )?;
    Ok(())
}
