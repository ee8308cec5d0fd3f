//! Experiments, figures and numbers of chapter `12-resnet`.
//!
//! [`retrain`] (about a quarter of an hour on two cores) runs the degradation experiment,
//! plain and residual networks of three depths trained alike on a part of Fashion-MNIST,
//! and trains the chapter's small ResNet on all of it; it writes
//! `book/generated/12-resnet/results.json` and `weights/resnet-fashion.safetensors`. The
//! figures are drawn from that file; the block sizes, from the library.

use std::path::Path;
use std::time::Instant;

use ndarray::s;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{markdown_table, GenResult, Writer};
use crate::error::{Error, Result};
use crate::layer::param_count;
use crate::layers::{Conv2d, Linear};
use crate::model::{paths_of, summary};
use crate::optim::{Sgd, StepSchedule};
use crate::plot::{line_chart_styled, ChartSpec, ChartStyle, LegendCorner, Series};
use crate::records::{cpu_description, Normalisation};
use crate::resnet::{basic_block, bottleneck, resnet, small_image_depth, small_image_net, Block};
use crate::train::{
    evaluate, train, train_observed, BatchStats, EpochStats, Examples, Observer, Training,
};

/// Where the runs are recorded, below the book.
pub const RESULTS: &str = "generated/12-resnet/results.json";
/// The small ResNet's trained weights, relative to the repository.
pub const WEIGHTS: &str = "weights/resnet-fashion.safetensors";

// ANCHOR: degradation_config
/// Blocks per stage of the networks compared: 8, 20 and 56 layers with weights.
pub const DEPTHS: [usize; 3] = [1, 3, 9];
/// Channels of the first stage (then twice and four times as many).
pub const DEGRADATION_WIDTH: usize = 8;
/// The first this many training images.
pub const SUBSET: usize = 12_800;
pub const DEGRADATION_EPOCHS: usize = 5;
/// Training steps averaged into one point of a curve.
pub const WINDOW: usize = 20;
// ANCHOR_END: degradation_config

// ANCHOR: small_config
/// The chapter's small ResNet: [`small_image_net`] with `n = 1` and 16 channels (8
/// layers with weights), trained on all 60,000 images.
pub const SMALL_BLOCKS: usize = 1;
pub const SMALL_WIDTH: usize = 16;
pub const SMALL_EPOCHS: usize = 10;
/// The learning rate is divided by 10 after every this many epochs.
pub const SMALL_STEP_EVERY: usize = 4;
// ANCHOR_END: small_config

/// Every run's learning rate (before the small ResNet's schedule lowers it), momentum and
/// weight decay: He et al.'s.
pub const LEARNING_RATE: f32 = 0.1;
pub const MOMENTUM: f32 = 0.9;
pub const WEIGHT_DECAY: f32 = 1e-4;
pub const BATCH: usize = 64;
pub const SEED: u64 = 1;

/// The small ResNet of the chapter, untrained: [`small_image_net`] with the chapter's
/// configuration.
pub fn small_resnet(seed: u64) -> crate::layers::Sequential {
    small_image_net(SMALL_BLOCKS, SMALL_WIDTH, true, seed)
}

/// One network of the degradation experiment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DegradationRun {
    pub blocks: usize,
    pub layers: usize,
    pub residual: bool,
    pub params: usize,
    /// `(step, training error)`: the error over the batches of each window of
    /// [`WINDOW`] steps, at the window's last step.
    pub curve: Vec<(usize, f32)>,
    /// The training error over the last epoch's batches.
    pub final_train_error: f32,
    pub test_accuracy: f32,
    pub seconds: f32,
}

/// The small ResNet's run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SmallRun {
    pub blocks: usize,
    pub width: usize,
    pub layers: usize,
    pub params: usize,
    pub examples: usize,
    pub epochs: usize,
    pub schedule: StepSchedule,
    pub history: Vec<EpochStats>,
    pub test_accuracy: f32,
    pub seconds: f32,
    /// The [`crate::checkpoint::checksum`] of the weights file this run wrote.
    pub weights_checksum: String,
}

/// Everything the chapter's runs recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResnetResults {
    pub command: String,
    pub cpu: String,
    pub seconds: f32,
    pub seed: u64,
    pub batch_size: usize,
    pub learning_rate: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    /// The training set's pixel statistics, which every run standardised its images with.
    pub normalisation: Normalisation,
    pub subset: usize,
    pub degradation_epochs: usize,
    pub degradation_width: usize,
    pub degradation: Vec<DegradationRun>,
    pub small: SmallRun,
}

/// Sums the batches of each window of `window` steps into a training error.
struct Windows {
    window: usize,
    wrong: usize,
    seen: usize,
    last_epoch: (usize, usize, usize),
    curve: Vec<(usize, f32)>,
}

impl Observer for Windows {
    fn batch(&mut self, b: &BatchStats) {
        self.wrong += b.examples - b.correct;
        self.seen += b.examples;
        if b.step.is_multiple_of(self.window) {
            self.curve
                .push((b.step, self.wrong as f32 / self.seen as f32));
            (self.wrong, self.seen) = (0, 0);
        }
        let (epoch, wrong, seen) = &mut self.last_epoch;
        if *epoch != b.epoch {
            (*epoch, *wrong, *seen) = (b.epoch, 0, 0);
        }
        *wrong += b.examples - b.correct;
        *seen += b.examples;
    }
}

/// Runs the degradation experiment and trains the small ResNet; writes `results.json`
/// below `book` and the weights beside the book (in `weights/`).
pub fn retrain(book: &Path) -> Result<()> {
    let started = Instant::now();
    let super::FullData {
        train_x,
        train_y,
        test_x,
        test_y,
        normalisation,
    } = super::full_data()?;
    let test = Examples::new(&test_x, &test_y)?;
    let sgd = || Sgd::new(LEARNING_RATE, MOMENTUM, WEIGHT_DECAY);

    let subset_x = train_x.slice(s![..SUBSET, .., .., ..]).to_owned();
    let subset = Examples::new(&subset_x, &train_y[..SUBSET])?;
    let mut degradation = Vec::new();
    for &blocks in &DEPTHS {
        for residual in [false, true] {
            let run_started = Instant::now();
            let layers = small_image_depth(blocks);
            let kind = if residual { "residual" } else { "plain" };
            println!("{kind} network, {layers} layers");
            let mut net = small_image_net(blocks, DEGRADATION_WIDTH, residual, SEED);
            let mut training = Training::new(DEGRADATION_EPOCHS, BATCH, SEED);
            training.show_progress = true;
            let mut windows = Windows {
                window: WINDOW,
                wrong: 0,
                seen: 0,
                last_epoch: (0, 0, 0),
                curve: Vec::new(),
            };
            train_observed(&mut net, &mut sgd()?, subset, &training, &mut windows)?;
            let (_, test_accuracy, _) = evaluate(&mut net, &test_x, &test_y, 500)?;
            let (_, wrong, seen) = windows.last_epoch;
            let final_train_error = wrong as f32 / seen as f32;
            println!("  training error {final_train_error:.4}, test accuracy {test_accuracy:.4}");
            degradation.push(DegradationRun {
                blocks,
                layers,
                residual,
                params: param_count(&net),
                curve: windows.curve,
                final_train_error,
                test_accuracy,
                seconds: run_started.elapsed().as_secs_f32(),
            });
        }
    }

    println!("the small ResNet, all {} training images", train_y.len());
    let run_started = Instant::now();
    let mut net = small_resnet(SEED);
    let schedule = StepSchedule {
        base: LEARNING_RATE,
        gamma: 0.1,
        every: SMALL_STEP_EVERY,
    };
    let mut training = Training::new(SMALL_EPOCHS, BATCH, SEED);
    training.schedule = Some(schedule);
    training.test = Some(test);
    training.show_progress = true;
    let history = train(
        &mut net,
        &mut sgd()?,
        Examples::new(&train_x, &train_y)?,
        &training,
        |e| {
            println!(
                "  epoch {}: test accuracy {:.4}",
                e.epoch,
                e.test_accuracy.unwrap_or(0.0)
            )
        },
    )?;
    let test_accuracy = history.last().and_then(|e| e.test_accuracy).unwrap_or(0.0);
    let weights = book
        .parent()
        .ok_or_else(|| Error::Invalid(format!("{} has no parent", book.display())))?
        .join(WEIGHTS);
    std::fs::create_dir_all(weights.parent().expect("a directory"))
        .map_err(|e| Error::io(&weights, &e))?;
    let weights_checksum = crate::checkpoint::save(&net, &weights)?;
    let small = SmallRun {
        blocks: SMALL_BLOCKS,
        width: SMALL_WIDTH,
        layers: small_image_depth(SMALL_BLOCKS),
        params: param_count(&net),
        examples: train_y.len(),
        epochs: SMALL_EPOCHS,
        schedule,
        history,
        test_accuracy,
        seconds: run_started.elapsed().as_secs_f32(),
        weights_checksum,
    };
    let results = ResnetResults {
        command: "cnn-book figures --chapter 12 --retrain".into(),
        cpu: cpu_description(),
        seconds: started.elapsed().as_secs_f32(),
        seed: SEED,
        batch_size: BATCH,
        learning_rate: LEARNING_RATE,
        momentum: MOMENTUM,
        weight_decay: WEIGHT_DECAY,
        normalisation,
        subset: SUBSET,
        degradation_epochs: DEGRADATION_EPOCHS,
        degradation_width: DEGRADATION_WIDTH,
        degradation,
        small,
    };
    super::write_results(book, RESULTS, &results)
}

/// The layers with weights that give a ResNet its name: every convolution and fully
/// connected layer except the projection shortcuts.
pub fn weighted_layers(net: &dyn crate::layer::Layer) -> usize {
    let convs = paths_of::<Conv2d>(net);
    let main = convs.iter().filter(|p| !p.contains("shortcut")).count();
    main + paths_of::<Linear>(net).len()
}

/// The recorded runs, from `results.json` below `book`.
pub fn read(book: &Path) -> Result<ResnetResults> {
    super::read_results(book, RESULTS, 12)
}

/// The training-error curves of the plain networks and of the residual ones, all depths,
/// on the same value axis (in percent) so that the two charts compare.
pub fn degradation_charts(results: &ResnetResults) -> Result<[crate::plot::Svg; 2]> {
    let top = results
        .degradation
        .iter()
        .flat_map(|r| r.curve.iter().map(|&(_, e)| 100.0 * e as f64))
        .fold(0.0f64, f64::max);
    let y_range = (0.0, (top / 10.0).ceil() * 10.0);
    let chart = |residual: bool| {
        let kind = if residual { "residual" } else { "plain" };
        let series: Vec<Series> = results
            .degradation
            .iter()
            .filter(|r| r.residual == residual)
            .map(|r| Series {
                name: format!("{kind}-{}", r.layers),
                points: r
                    .curve
                    .iter()
                    .map(|&(step, e)| (step as f64, 100.0 * e as f64))
                    .collect(),
            })
            .collect();
        let spec = ChartSpec {
            title: format!(
                "{} networks: training error",
                if residual { "Residual" } else { "Plain" }
            ),
            x_label: format!("training step (batches of {})", results.batch_size),
            y_label: "training error (%)".into(),
            log_x: false,
            log_y: false,
        };
        line_chart_styled(
            &spec,
            &series,
            ChartStyle {
                legend: LegendCorner::UpperRight,
                y_range: Some(y_range),
                ..ChartStyle::default()
            },
        )
    };
    Ok([chart(false)?, chart(true)?])
}

pub fn generate(w: &mut Writer) -> GenResult {
    // The blocks' sizes, from the library: a basic block at 64 channels against a
    // bottleneck that carries 256 channels through 64.
    let r = &mut rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let basic = basic_block(64, 64, 1, r);
    let neck = bottleneck(256, 64, 1, r);
    w.count("basic_params", param_count(&basic) as u64);
    w.count("bottleneck_params", param_count(&neck) as u64);
    let basic_macs = summary(&basic, &[1, 64, 56, 56], 0)?.total_multiply_adds;
    let neck_macs = summary(&neck, &[1, 256, 56, 56], 0)?.total_multiply_adds;
    w.count("basic_macs", basic_macs);
    w.count("bottleneck_macs", neck_macs);
    let plain_basic_at_256 = 2 * 256 * 256 * 9;
    w.count("two_3x3_at_256", plain_basic_at_256);

    // The four ImageNet ResNets: their depth counted from their layers, their sizes.
    let mut rows = Vec::new();
    for (name, kind, blocks) in [
        ("ResNet-18", "basic", [2, 2, 2, 2]),
        ("ResNet-34", "basic", [3, 4, 6, 3]),
        ("ResNet-50", "bottleneck", [3, 4, 6, 3]),
        ("ResNet-152", "bottleneck", [3, 8, 36, 3]),
    ] {
        let block = if kind == "basic" {
            Block::Basic
        } else {
            Block::Bottleneck
        };
        let net = resnet(block, blocks, 1000, 0);
        let layers = weighted_layers(&net);
        let s = summary(&net, &[1, 3, 224, 224], 0)?;
        let key = name.to_lowercase().replace('-', "");
        w.count(&format!("{key}_layers"), layers as u64);
        w.count(&format!("{key}_params"), s.total_params as u64);
        w.number(
            &format!("{key}_gmacs"),
            format!("{:.1}", s.total_multiply_adds as f64 / 1e9),
            s.total_multiply_adds,
        );
        rows.push(vec![
            name.to_string(),
            kind.to_string(),
            format!("{blocks:?}"),
            layers.to_string(),
            crate::format::thousands(s.total_params as u64),
            format!("{:.1} G", s.total_multiply_adds as f64 / 1e9),
        ]);
    }
    w.snippet(
        "resnets.md",
        &markdown_table(
            &[
                "network",
                "block",
                "blocks per stage",
                "layers with weights",
                "parameters",
                "multiply-accumulates (224 x 224)",
            ],
            &rows,
        ),
        "crate::resnet::resnet",
    )?;
    for &blocks in &DEPTHS {
        w.count(
            &format!("layers_{blocks}"),
            small_image_depth(blocks) as u64,
        );
    }

    let results = read(w.book_dir())?;
    w.run_record(&results.cpu, results.seconds);
    w.count("subset", results.subset as u64);
    w.count("degradation_epochs", results.degradation_epochs as u64);
    w.count("degradation_width", results.degradation_width as u64);
    let steps = results.subset.div_ceil(results.batch_size) * results.degradation_epochs;
    w.count("degradation_steps", steps as u64);
    w.count("window", WINDOW as u64);
    let mut rows = Vec::new();
    for run in &results.degradation {
        let name = format!(
            "{}-{}",
            if run.residual { "residual" } else { "plain" },
            run.layers
        );
        w.number(
            &format!("{}_train_error", name.replace('-', "_")),
            format!("{:.1}%", 100.0 * run.final_train_error),
            run.final_train_error,
        );
        w.number(
            &format!("{}_test_error", name.replace('-', "_")),
            format!("{:.1}%", 100.0 * (1.0 - run.test_accuracy)),
            1.0 - run.test_accuracy,
        );
        rows.push(vec![
            name,
            run.layers.to_string(),
            crate::format::thousands(run.params as u64),
            format!("{:.1}%", 100.0 * run.final_train_error),
            format!("{:.1}%", 100.0 * (1.0 - run.test_accuracy)),
            format!("{:.0} s", run.seconds),
        ]);
    }
    w.snippet(
        "degradation.md",
        &markdown_table(
            &[
                "network",
                "layers with weights",
                "parameters",
                "training error, last epoch",
                "test error",
                "time",
            ],
            &rows,
        ),
        RESULTS,
    )?;
    let [plain, residual] = degradation_charts(&results)?;
    w.figure("degradation-plain.svg", &plain, RESULTS)?;
    w.figure("degradation-residual.svg", &residual, RESULTS)?;

    let small = &results.small;
    w.number(
        "small_accuracy",
        format!("{:.2}%", 100.0 * small.test_accuracy),
        small.test_accuracy,
    );
    w.count("small_params", small.params as u64);
    w.count("small_layers", small.layers as u64);
    w.count("small_epochs", small.epochs as u64);
    w.count("small_examples", small.examples as u64);
    w.count("small_width", small.width as u64);
    w.number(
        "small_minutes",
        format!("{:.0}", small.seconds / 60.0),
        small.seconds,
    );
    w.number(
        "small_epoch_seconds",
        format!("{:.0}", small.seconds / small.epochs as f32),
        small.seconds / small.epochs as f32,
    );
    let curve = |f: fn(&EpochStats) -> f32| -> Vec<(f64, f64)> {
        small
            .history
            .iter()
            .map(|e| (e.epoch as f64, 100.0 * f(e) as f64))
            .collect()
    };
    let spec = ChartSpec {
        title: format!(
            "The small ResNet on all {} training images",
            crate::format::thousands(small.examples as u64)
        ),
        x_label: "epoch".into(),
        y_label: "accuracy (%)".into(),
        log_x: false,
        log_y: false,
    };
    w.figure(
        "small-resnet.svg",
        &line_chart_styled(
            &spec,
            &[
                Series {
                    name: "training (during the epoch)".into(),
                    points: curve(|e| e.train_accuracy),
                },
                Series {
                    name: "test (after the epoch)".into(),
                    points: curve(|e| e.test_accuracy.unwrap_or(0.0)),
                },
            ],
            ChartStyle {
                legend: LegendCorner::LowerRight,
                ..ChartStyle::default()
            },
        )?,
        RESULTS,
    )?;
    Ok(())
}
