//! Experiment, figures and numbers of chapter `11-architectures`.
//!
//! Most of the chapter is counted, not trained: the parameters, multiply-accumulates and
//! neurons of the famous networks come from the library's definitions, the ILSVRC figure
//! from a data table with its sources (`src/figures/data/ilsvrc-top5.csv`). [`retrain`]
//! (about ten minutes on two cores) trains the conv-pool-FC network and the all-convolutional
//! one on Fashion-MNIST and writes `book/generated/11-architectures/results.json`.

use std::path::Path;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{markdown_table, GenResult, Writer};
use crate::architectures::{
    all_conv, by_name, conv_pool_fc, inception_naive, inception_paper, InceptionWidths,
    GOOGLENET_MODULES,
};
use crate::error::{Error, Result};
use crate::format::thousands;
use crate::layer::param_count;
use crate::model::{summary, Summary};
use crate::optim::{Sgd, StepSchedule};
use crate::plot::{bar_chart, line_chart_styled, Bar, ChartSpec, ChartStyle, LegendCorner, Series};
use crate::records::{cpu_description, Normalisation};
use crate::shape::{receptive_field, Window};
use crate::train::{train, EpochStats, Examples, Training};

/// Where the runs are recorded, below the book.
pub const RESULTS: &str = "generated/11-architectures/results.json";

/// The ILSVRC table: `year|entry|top5_error|layers`, after comment lines with the sources.
pub const ILSVRC: &str = include_str!("data/ilsvrc-top5.csv");

// ANCHOR: experiment_config
pub const SEEDS: [u64; 2] = [1, 2];
pub const EPOCHS: usize = 4;
pub const LEARNING_RATE: f32 = 0.02;
/// The learning rate is multiplied by 0.2 for the last epoch.
pub const SCHEDULE: StepSchedule = StepSchedule {
    base: LEARNING_RATE,
    gamma: 0.2,
    every: EPOCHS - 1,
};
pub const BATCH: usize = 64;
pub const MOMENTUM: f32 = 0.9;
pub const WEIGHT_DECAY: f32 = 5e-4;
// ANCHOR_END: experiment_config

/// One training run of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArchitectureRun {
    pub network: String,
    pub seed: u64,
    pub params: usize,
    pub history: Vec<EpochStats>,
    pub test_accuracy: f32,
    pub seconds: f32,
}

/// Everything the chapter's runs recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArchitectureResults {
    pub command: String,
    pub cpu: String,
    pub seconds: f32,
    pub epochs: usize,
    pub batch_size: usize,
    pub schedule: StepSchedule,
    pub normalisation: Normalisation,
    /// Every run trains on all of the training set and is tested on all of the test set.
    pub train_examples: usize,
    pub test_examples: usize,
    pub runs: Vec<ArchitectureRun>,
}

/// The two networks compared, by the names `cnn-book summary` knows.
pub const COMPARED: [&str; 2] = ["conv-pool-fc", "all-conv"];

/// Trains the conv-pool-FC network and the all-convolutional one on the full
/// Fashion-MNIST, from each seed, and writes `results.json` below `book`.
pub fn retrain(book: &Path) -> Result<()> {
    let started = Instant::now();
    let super::FullData {
        train_x,
        train_y,
        test_x,
        test_y,
        normalisation,
    } = super::full_data()?;
    let mut runs = Vec::new();
    for &seed in &SEEDS {
        for network in COMPARED {
            println!("{network}, seed {seed}");
            let run_started = Instant::now();
            let mut net = if network == "all-conv" {
                all_conv(seed)
            } else {
                conv_pool_fc(seed)
            };
            let mut training = Training::new(EPOCHS, BATCH, seed);
            training.schedule = Some(SCHEDULE);
            training.test = Some(Examples::new(&test_x, &test_y)?);
            training.show_progress = true;
            let history = train(
                &mut net,
                &mut Sgd::new(LEARNING_RATE, MOMENTUM, WEIGHT_DECAY)?,
                Examples::new(&train_x, &train_y)?,
                &training,
                |_| {},
            )?;
            let test_accuracy = history.last().and_then(|e| e.test_accuracy).unwrap_or(0.0);
            println!("  test accuracy {test_accuracy:.4}");
            runs.push(ArchitectureRun {
                network: network.to_string(),
                seed,
                params: param_count(&net),
                history,
                test_accuracy,
                seconds: run_started.elapsed().as_secs_f32(),
            });
        }
    }
    let results = ArchitectureResults {
        command: "cnn-book figures --chapter 11 --retrain".into(),
        cpu: cpu_description(),
        seconds: started.elapsed().as_secs_f32(),
        epochs: EPOCHS,
        batch_size: BATCH,
        schedule: SCHEDULE,
        normalisation,
        train_examples: train_y.len(),
        test_examples: test_y.len(),
        runs,
    };
    super::write_results(book, RESULTS, &results)
}

/// The recorded runs, from `results.json` below `book`.
pub fn read(book: &Path) -> Result<ArchitectureResults> {
    super::read_results(book, RESULTS, 11)
}

/// One row of the ILSVRC table.
#[derive(Debug, Clone, PartialEq)]
pub struct IlsvrcEntry {
    /// A year, or `human`.
    pub year: String,
    pub entry: String,
    pub top5_error: f64,
    /// Layers with weights; `None` for methods without a deep network (and the human).
    pub layers: Option<usize>,
}

/// The rows of [`ILSVRC`], refusing a malformed one with its line number.
pub fn ilsvrc() -> Result<Vec<IlsvrcEntry>> {
    let mut rows = Vec::new();
    let lines = ILSVRC
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1); // the header
    for (i, line) in lines {
        let bad = |what: &str| Error::Invalid(format!("ilsvrc-top5.csv line {}: {what}", i + 1));
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() != 4 {
            return Err(bad("expected 4 fields separated by |"));
        }
        let top5_error = fields[2]
            .parse::<f64>()
            .map_err(|_| bad("the error is not a number"))?;
        let layers = match fields[3] {
            "" | "shallow" => None,
            n => Some(n.parse().map_err(|_| bad("the layers are not a number"))?),
        };
        rows.push(IlsvrcEntry {
            year: fields[0].to_string(),
            entry: fields[1].to_string(),
            top5_error,
            layers,
        });
    }
    Ok(rows)
}

/// The ILSVRC winners' top-5 error by year, with their depth, and the human error as a
/// dashed line.
pub fn ilsvrc_chart() -> Result<crate::plot::Svg> {
    let rows = ilsvrc()?;
    let bars: Vec<Bar> = rows
        .iter()
        .filter(|r| r.year != "human")
        .map(|r| Bar {
            label: r.year.clone(),
            value: r.top5_error,
            notes: vec![
                r.entry.clone(),
                match r.layers {
                    Some(n) => format!("{n} layers"),
                    None => "shallow".into(),
                },
            ],
        })
        .collect();
    let human = rows.iter().find(|r| r.year == "human");
    let label = human.map(|h| format!("one human: {}%", h.top5_error));
    bar_chart(
        "ImageNet classification: the winners' top-5 error",
        "top-5 error (%)",
        &bars,
        human.zip(label.as_deref()).map(|(h, l)| (l, h.top5_error)),
    )
}

/// Multiply-accumulates in millions, or in billions from a billion on.
fn macs(count: u64) -> String {
    if count >= 1_000_000_000 {
        format!("{:.2} G", count as f64 / 1e9)
    } else {
        format!("{:.2} M", count as f64 / 1e6)
    }
}

fn summary_of(name: &str) -> Result<Summary> {
    let (net, input) = by_name(name, 0)?;
    summary(&net, &input, 3)
}

/// Rows of a summary at `depth` that hold weights: convolutions, groups of them, fully
/// connected layers.
fn weighted_rows(s: &Summary, depth: usize) -> Vec<&crate::model::SummaryRow> {
    s.rows
        .iter()
        .filter(|r| r.depth == depth && r.params > 0)
        .collect()
}

pub fn generate(w: &mut Writer) -> GenResult {
    // The famous networks, counted.
    let networks = [
        ("lenet", "LeNet-5 (1998)", "this book's (chapter 9)"),
        ("alexnet-paper", "AlexNet (2012)", "its paper, two GPUs"),
        ("alexnet", "AlexNet", "torchvision (one GPU)"),
        ("zfnet", "ZFNet (2013)", "its paper's Figure 3"),
        ("vgg16", "VGG-16 (2014)", "torchvision = paper"),
        ("googlenet", "GoogLeNet (2014)", "torchvision"),
        ("resnet18", "ResNet-18 (2015)", "torchvision"),
        ("resnet50", "ResNet-50 (2015)", "torchvision (v1.5)"),
        ("resnet152", "ResNet-152 (2015)", "torchvision (v1.5)"),
    ];
    let mut rows = Vec::new();
    let mut params = std::collections::BTreeMap::new();
    for (name, shown, source) in networks {
        let s = summary_of(name)?;
        params.insert(name, s.total_params as f64);
        let key = name.replace('-', "_");
        w.count(&format!("{key}_params"), s.total_params as u64);
        w.number(
            &format!("{key}_macs"),
            macs(s.total_multiply_adds),
            s.total_multiply_adds,
        );
        let input = &s.input[1..];
        rows.push(vec![
            shown.to_string(),
            format!("`{name}`"),
            source.to_string(),
            format!("{} x {} x {}", input[0], input[1], input[2]),
            thousands(s.total_params as u64),
            macs(s.total_multiply_adds),
        ]);
    }
    let ratio = params["alexnet-paper"] / params["googlenet"];
    w.number("alexnet_googlenet_ratio", format!("{ratio:.0}"), ratio);
    w.snippet(
        "networks.md",
        &markdown_table(
            &[
                "network",
                "`cnn-book summary`",
                "as defined by",
                "input",
                "parameters",
                "multiply-accumulates",
            ],
            &rows,
        ),
        "crate::architectures::by_name",
    )?;

    // AlexNet's neurons against its paper's list.
    let paper: [u64; 8] = [253_440, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000];
    let alexnet = summary_of("alexnet-paper")?;
    let layers = weighted_rows(&alexnet, 2);
    let names = [
        "conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8",
    ];
    if layers.len() != names.len() {
        return Err(Error::Invalid(format!(
            "AlexNet has {} layers with weights, not 8",
            layers.len()
        )));
    }
    let mut rows = Vec::new();
    for ((row, name), &paper) in layers.iter().zip(names).zip(&paper) {
        let neurons: usize = row.output[1..].iter().product();
        let shape = row.output[1..]
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" x ");
        rows.push(vec![
            name.to_string(),
            if row.layer.starts_with("Grouped") {
                "2 groups".into()
            } else {
                "whole".into()
            },
            shape,
            thousands(row.params as u64),
            thousands(neurons as u64),
            thousands(paper),
            if neurons as u64 == paper {
                "="
            } else {
                "differs"
            }
            .to_string(),
        ]);
        w.count(&format!("alexnet_{name}_params"), row.params as u64);
        w.count(&format!("alexnet_{name}_neurons"), neurons as u64);
    }
    w.count("alexnet_paper_conv1_neurons", paper[0]);
    w.snippet(
        "alexnet-neurons.md",
        &markdown_table(
            &[
                "layer",
                "across GPUs",
                "output",
                "parameters",
                "neurons",
                "the paper's neurons",
                "",
            ],
            &rows,
        ),
        "crate::architectures::alexnet_paper",
    )?;
    // What the split saves: conv2 whole would see all 96 maps.
    let whole_conv2 = 256 * 96 * 25 + 256;
    w.count("alexnet_conv2_whole", whole_conv2);
    let fc: usize = layers[5..].iter().map(|r| r.params).sum();
    w.number(
        "alexnet_fc_share",
        format!("{:.0}%", 100.0 * fc as f64 / alexnet.total_params as f64),
        fc as f64 / alexnet.total_params as f64,
    );

    // ZFNet's first layers beside AlexNet's.
    let zfnet = summary_of("zfnet")?;
    let z = weighted_rows(&zfnet, 2);
    let a = &layers;
    let side = |r: &crate::model::SummaryRow| format!("{} x {}", r.output[2], r.output[3]);
    let mut rows = Vec::new();
    for (i, name) in names[..5].iter().enumerate() {
        rows.push(vec![
            name.to_string(),
            side(a[i]),
            side(z[i]),
            thousands(a[i].params as u64),
            thousands(z[i].params as u64),
        ]);
    }
    w.snippet(
        "zfnet.md",
        &markdown_table(
            &[
                "layer",
                "AlexNet output",
                "ZFNet output",
                "AlexNet parameters",
                "ZFNet parameters",
            ],
            &rows,
        ),
        "crate::architectures::{alexnet_paper, zfnet}",
    )?;
    w.count("zfnet_conv1_side", z[0].output[2] as u64);
    w.count("alexnet_conv1_side", a[0].output[2] as u64);
    w.count("zfnet_conv1_params", z[0].params as u64);

    // VGG: stacks of 3 x 3 convolutions against one larger convolution.
    let channels = 256u64;
    w.count("vgg_channels", channels);
    let mut rows = Vec::new();
    for k in 1..=4usize {
        let stack = vec![Window::new(3, 1, 1)?; k];
        let field = receptive_field(&stack)?.size;
        let stacked = k as u64 * 9 * channels * channels;
        let single = (field * field) as u64 * channels * channels;
        w.count(&format!("vgg_field_{k}"), field as u64);
        w.count(&format!("vgg_stack_{k}"), stacked);
        w.count(&format!("vgg_single_{k}"), single);
        rows.push(vec![
            k.to_string(),
            format!("{field} x {field}"),
            thousands(stacked),
            thousands(single),
            format!("{:.0}%", 100.0 * stacked as f64 / single as f64),
            k.to_string(),
        ]);
    }
    w.snippet(
        "vgg-stacks.md",
        &markdown_table(
            &[
                "3 x 3 layers",
                "receptive field",
                "weights of the stack",
                "weights of one layer with that field",
                "ratio",
                "ReLUs",
            ],
            &rows,
        ),
        "crate::shape::receptive_field",
    )?;
    let vgg = summary_of("vgg16")?;
    let vgg_fc: usize = vgg
        .rows
        .iter()
        .filter(|r| r.depth == 2 && r.path.starts_with("classifier"))
        .map(|r| r.params)
        .sum();
    w.number(
        "vgg_fc_share",
        format!("{:.0}%", 100.0 * vgg_fc as f64 / vgg.total_params as f64),
        vgg_fc as f64 / vgg.total_params as f64,
    );
    let vgg_first_fc = vgg
        .rows
        .iter()
        .find(|r| r.path == "classifier.0")
        .map(|r| r.params)
        .unwrap_or(0);
    w.count("vgg_first_fc", vgg_first_fc as u64);

    // Inception 3a: naive against reduced, on its real input of 192 x 28 x 28.
    let (name, widths) = GOOGLENET_MODULES[0];
    let InceptionWidths { c1, c3, c5, .. } = widths;
    let r = &mut ChaCha8Rng::seed_from_u64(0);
    let input = [1, 192, 28, 28];
    let naive = inception_naive(192, c1, c3, c5, r);
    let reduced = inception_paper(192, widths, r);
    let sn = summary(&naive, &input, 1)?;
    let sr = summary(&reduced, &input, 1)?;
    let mut rows = Vec::new();
    for (label, key, s) in [
        ("naive (Figure 2a)", "naive", &sn),
        ("with 1 x 1 reductions (Figure 2b)", "reduced", &sr),
    ] {
        w.count(&format!("inception_{key}_params"), s.total_params as u64);
        w.count(&format!("inception_{key}_macs"), s.total_multiply_adds);
        w.count(&format!("inception_{key}_channels"), s.output[1] as u64);
        rows.push(vec![
            label.to_string(),
            thousands(s.total_params as u64),
            format!("{:.0} M", s.total_multiply_adds as f64 / 1e6),
            format!("{} x {} x {}", s.output[1], s.output[2], s.output[3]),
        ]);
    }
    w.number("inception_module", name.to_string(), name);
    w.number(
        "inception_macs_ratio",
        format!(
            "{:.1}",
            sn.total_multiply_adds as f64 / sr.total_multiply_adds as f64
        ),
        sn.total_multiply_adds as f64 / sr.total_multiply_adds as f64,
    );
    w.snippet(
        "inception.md",
        &markdown_table(
            &[
                "inception 3a",
                "parameters",
                "multiply-accumulates",
                "output",
            ],
            &rows,
        ),
        "crate::architectures::{inception_naive, inception_paper}",
    )?;

    // The ILSVRC story: from the first deep winner to the last.
    let table = ilsvrc()?;
    let deep: Vec<&IlsvrcEntry> = table
        .iter()
        .filter(|r| r.year != "human" && r.layers.is_some())
        .collect();
    if let (Some(first), Some(last)) = (deep.first(), deep.last()) {
        w.count("ilsvrc_first_deep_layers", first.layers.unwrap_or(0) as u64);
        w.count("ilsvrc_last_layers", last.layers.unwrap_or(0) as u64);
        let ratio = first.top5_error / last.top5_error;
        w.number("ilsvrc_error_ratio", format!("{ratio:.1}"), ratio);
    }
    let rows: Vec<Vec<String>> = table
        .iter()
        .map(|r| {
            vec![
                r.year.clone(),
                r.entry.clone(),
                format!("{}%", r.top5_error),
                match (r.layers, r.year.as_str()) {
                    (Some(n), _) => n.to_string(),
                    (None, "human") => String::new(),
                    (None, _) => "shallow".into(),
                },
            ]
        })
        .collect();
    w.snippet(
        "ilsvrc.md",
        &markdown_table(&["year", "entry", "top-5 error", "layers"], &rows),
        "src/figures/data/ilsvrc-top5.csv",
    )?;
    w.figure(
        "ilsvrc.svg",
        &ilsvrc_chart()?,
        "src/figures/data/ilsvrc-top5.csv",
    )?;

    // The trained comparison.
    let results = read(w.book_dir())?;
    w.run_record(&results.cpu, results.seconds);
    w.count("epochs", results.epochs as u64);
    w.count("seeds", SEEDS.len() as u64);
    w.count("train_examples", results.train_examples as u64);
    w.count("test_examples", results.test_examples as u64);
    let mut rows = Vec::new();
    let mut series = Vec::new();
    for network in COMPARED {
        let runs: Vec<&ArchitectureRun> = results
            .runs
            .iter()
            .filter(|r| r.network == network)
            .collect();
        let first = runs
            .first()
            .ok_or_else(|| Error::Invalid(format!("no run of {network} in {RESULTS}")))?;
        let key = network.replace('-', "_");
        let mean = runs.iter().map(|r| r.test_accuracy as f64).sum::<f64>() / runs.len() as f64;
        let seconds = runs.iter().map(|r| r.seconds as f64).sum::<f64>() / runs.len() as f64;
        w.number(
            &format!("{key}_accuracy"),
            format!("{:.2}%", 100.0 * mean),
            mean,
        );
        w.count(&format!("{key}_params"), first.params as u64);
        let s = summary_of(network)?;
        w.number(
            &format!("{key}_macs"),
            macs(s.total_multiply_adds),
            s.total_multiply_adds,
        );
        let train_accuracy =
            |r: &ArchitectureRun| r.history.last().map(|e| e.train_accuracy).unwrap_or(0.0);
        w.number(&format!("{key}_seconds"), format!("{seconds:.0}"), seconds);
        rows.push(vec![
            format!("`{network}`"),
            thousands(first.params as u64),
            runs.iter()
                .map(|r| format!("{:.2}%", 100.0 * r.test_accuracy))
                .collect::<Vec<_>>()
                .join(", "),
            format!("{:.2}%", 100.0 * mean),
            runs.iter()
                .map(|r| format!("{:.2}%", 100.0 * train_accuracy(r)))
                .collect::<Vec<_>>()
                .join(", "),
            format!("{seconds:.0} s"),
        ]);
        for run in runs {
            series.push(Series {
                name: format!("{network}, seed {}", run.seed),
                points: run
                    .history
                    .iter()
                    .map(|e| {
                        (
                            e.epoch as f64,
                            100.0 * e.test_accuracy.unwrap_or(0.0) as f64,
                        )
                    })
                    .collect(),
            });
        }
    }
    let header = format!(
        "test accuracy, seeds {}",
        SEEDS.map(|s| s.to_string()).join(", ")
    );
    w.snippet(
        "comparison.md",
        &markdown_table(
            &[
                "network",
                "parameters",
                &header,
                "mean",
                "training accuracy, last epoch",
                "time per run",
            ],
            &rows,
        ),
        RESULTS,
    )?;
    let spec = ChartSpec {
        title: "Test accuracy after each epoch".into(),
        x_label: "epoch".into(),
        y_label: "test accuracy (%)".into(),
        log_x: false,
        log_y: false,
    };
    w.figure(
        "comparison.svg",
        &line_chart_styled(
            &spec,
            &series,
            ChartStyle {
                legend: LegendCorner::LowerRight,
                x_labels: Some(results.epochs),
                ..ChartStyle::default()
            },
        )?,
        RESULTS,
    )?;
    Ok(())
}
