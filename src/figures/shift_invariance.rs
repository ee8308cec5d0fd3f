//! Chapter 7's experiment: how much do one-pixel shifts of the input change three networks
//! that differ only in how they downsample (max pooling, average pooling, a convolution
//! of stride 2)? [`retrain`] (about three minutes on two cores) trains each on
//! Fashion-MNIST and measures it on shifted test images, writing
//! `book/generated/07-pooling/results.json`; [`generate`] draws the chapter's table and
//! numbers from it.

use std::path::Path;
use std::time::Instant;

use ndarray::{s, Array4, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{experiment_run, markdown_table, percent, GenResult, Writer};
use crate::augment::shift;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::layer::Mode;
use crate::layers::{Conv2d, Flatten, Linear, Relu, Sequential};
use crate::models::{lenet_with, Activation, LeNetConfig, Pooling};
use crate::records::cpu_description;
use crate::train::{evaluate, Examples, TrainConfig};

/// Where the runs are recorded, below the book.
pub const RESULTS: &str = "generated/07-pooling/results.json";
const EPOCHS: usize = 5;
const SEED: u64 = 1;
/// The one-pixel shifts: (rows down, columns right).
pub const SHIFTS: [(isize, isize); 4] = [(0, 1), (0, -1), (1, 0), (-1, 0)];
/// Test images whose downsampled feature maps are compared.
const FEATURE_IMAGES: usize = 1_000;

/// The three ways to downsample, as the experiment names them.
pub const KINDS: [&str; 3] = ["max pooling", "average pooling", "strided convolution"];

/// LeNet (ReLU, He initialisation) downsampling with `kind`: 2 x 2 max or average pooling
/// of stride 2, or in their place a learned 3 x 3 convolution of stride 2 and padding 1
/// followed by a ReLU, which gives the same shapes (28 -> 14 and 10 -> 5).
pub fn network(kind: &str, seed: u64) -> Result<Sequential> {
    let pooling = |pooling| LeNetConfig {
        activation: Activation::Relu,
        pooling,
        init: Init::He,
    };
    match kind {
        "max pooling" => Ok(lenet_with(pooling(Pooling::Max), seed)),
        "average pooling" => Ok(lenet_with(pooling(Pooling::Average), seed)),
        "strided convolution" => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            Ok(Sequential::new()
                .add(Conv2d::new(1, 6, 5, Init::He, &mut rng).padding(2)) // 6 x 28 x 28
                .add(Relu::new())
                .add(
                    Conv2d::new(6, 6, 3, Init::He, &mut rng)
                        .stride(2)
                        .padding(1),
                ) // 6 x 14 x 14
                .add(Relu::new())
                .add(Conv2d::new(6, 16, 5, Init::He, &mut rng)) // 16 x 10 x 10
                .add(Relu::new())
                .add(
                    Conv2d::new(16, 16, 3, Init::He, &mut rng)
                        .stride(2)
                        .padding(1),
                ) // 16 x 5 x 5
                .add(Relu::new())
                .add(Flatten::new())
                .add(Linear::new(16 * 5 * 5, 120, Init::He, &mut rng))
                .add(Relu::new())
                .add(Linear::new(120, 84, Init::He, &mut rng))
                .add(Relu::new())
                .add(Linear::new(84, 10, Init::Xavier, &mut rng)))
        }
        other => Err(Error::Invalid(format!(
            "no network '{other}'; the kinds are {KINDS:?}"
        ))),
    }
}

/// What one network did on shifted images.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShiftRun {
    pub kind: String,
    pub parameters: usize,
    pub test_accuracy: f32,
    /// Test accuracy on the images shifted by each of [`SHIFTS`].
    pub shifted_accuracy: Vec<f32>,
    /// The fraction of test images whose predicted class changes under each shift.
    pub changed: Vec<f32>,
    /// The relative change `|g(shifted) - g(x)| / |g(x)|` of the first downsampled feature
    /// maps `g` (the output of the first pooling or strided layer), under each shift,
    /// over the first 1,000 test images.
    pub feature_change: Vec<f32>,
    pub seconds: f32,
}

/// Everything the experiment recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShiftResults {
    pub command: String,
    pub cpu: String,
    pub seconds: f32,
    pub epochs: usize,
    pub seed: u64,
    pub runs: Vec<ShiftRun>,
}

/// `images` moved by `(dy, dx)`, the pixels that come in from outside set to `fill`.
pub fn shifted(images: &Array4<f32>, dy: isize, dx: isize, fill: f32) -> Array4<f32> {
    let mut out = images.clone();
    for image in out.axis_iter_mut(Axis(0)) {
        shift(image, dy, dx, fill);
    }
    out
}

/// The index of every network's first downsampling layer: conv, ReLU, then the pooling
/// layer or the strided convolution.
const FIRST_DOWNSAMPLING: usize = 2;

/// Trains the three networks and measures them on shifted test images; writes
/// `results.json` below `book`.
pub fn retrain(book: &Path) -> Result<()> {
    let started = Instant::now();
    let data = super::full_data()?;
    // A blank pixel, standardised: what comes in at the border when an image moves.
    let fill = -data.normalisation.mean / data.normalisation.std;
    let config = TrainConfig {
        epochs: EPOCHS,
        seed: SEED,
        ..TrainConfig::default()
    };
    let probe = data
        .test_x
        .slice(s![..FEATURE_IMAGES, .., .., ..])
        .to_owned();
    let mut runs = Vec::new();
    for kind in KINDS {
        let run_started = Instant::now();
        println!("{kind}");
        let mut model = network(kind, SEED)?;
        let (_, test_accuracy) = experiment_run(
            &mut model,
            Examples::new(&data.train_x, &data.train_y)?,
            Examples::new(&data.test_x, &data.test_y)?,
            None,
            &config,
        )?;
        let (_, _, predictions) = evaluate(&mut model, &data.test_x, &data.test_y, 500)?;
        let features = |model: &mut Sequential, x: &Array4<f32>| -> Result<Vec<f32>> {
            let outputs = model.forward_all(&x.clone().into_dyn(), Mode::Eval)?;
            Ok(outputs[FIRST_DOWNSAMPLING].iter().copied().collect())
        };
        let base = features(&mut model, &probe)?;
        let (mut shifted_accuracy, mut changed, mut feature_change) =
            (Vec::new(), Vec::new(), Vec::new());
        for (dy, dx) in SHIFTS {
            let moved = shifted(&data.test_x, dy, dx, fill);
            let (_, accuracy, moved_predictions) = evaluate(&mut model, &moved, &data.test_y, 500)?;
            let differ = predictions
                .iter()
                .zip(&moved_predictions)
                .filter(|(a, b)| a != b)
                .count();
            shifted_accuracy.push(accuracy);
            changed.push(differ as f32 / predictions.len() as f32);
            let moved_probe = shifted(&probe, dy, dx, fill);
            let after = features(&mut model, &moved_probe)?;
            let (num, den) = base
                .iter()
                .zip(&after)
                .fold((0.0f64, 0.0f64), |(n, d), (&a, &b)| {
                    (n + ((b - a) as f64).powi(2), d + (a as f64).powi(2))
                });
            feature_change.push((num / den).sqrt() as f32);
        }
        runs.push(ShiftRun {
            kind: kind.into(),
            parameters: crate::layer::param_count(&model),
            test_accuracy,
            shifted_accuracy,
            changed,
            feature_change,
            seconds: run_started.elapsed().as_secs_f32(),
        });
    }
    let results = ShiftResults {
        command: "cnn-book figures --chapter 7 --retrain".into(),
        cpu: cpu_description(),
        seconds: started.elapsed().as_secs_f32(),
        epochs: EPOCHS,
        seed: SEED,
        runs,
    };
    super::write_results(book, RESULTS, &results)
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len().max(1) as f32
}

/// The experiment's table and numbers.
pub fn generate(w: &mut Writer) -> GenResult {
    let results: ShiftResults = super::read_results(w.book_dir(), RESULTS, 7)?;
    let mut rows = Vec::new();
    for kind in KINDS {
        let run = results
            .runs
            .iter()
            .find(|r| r.kind == kind)
            .ok_or_else(|| Error::Invalid(format!("{RESULTS}: no run of {kind}")))?;
        let key = kind.split(' ').next().unwrap_or(kind);
        let (acc, moved, changed, features) = (
            run.test_accuracy,
            mean(&run.shifted_accuracy),
            mean(&run.changed),
            mean(&run.feature_change),
        );
        w.number(&format!("{key}_accuracy"), percent(acc), acc);
        w.number(&format!("{key}_shifted"), percent(moved), moved);
        w.number(&format!("{key}_changed"), percent(changed), changed);
        w.number(
            &format!("{key}_features"),
            format!("{:.2}", features),
            features,
        );
        rows.push(vec![
            kind.to_string(),
            crate::format::thousands(run.parameters as u64),
            percent(acc),
            percent(moved),
            percent(changed),
            format!("{features:.2}"),
        ]);
    }
    w.snippet(
        "shift-invariance.md",
        &markdown_table(
            &[
                "downsampling",
                "parameters",
                "test accuracy",
                "shifted by one pixel",
                "predictions that change",
                "change of the first downsampled maps",
            ],
            &rows,
        ),
        RESULTS,
    )?;
    w.number("shift_epochs", results.epochs.to_string(), results.epochs);
    w.run_record(&results.cpu, results.seconds);
    Ok(())
}
