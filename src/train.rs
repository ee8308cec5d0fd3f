//! Training and evaluation: normalised mini-batches, SGD steps, per-epoch statistics, a
//! progress bar, and a clear stop when the loss diverges (chapter `09-lenet`).

use std::time::Instant;

use ndarray::{s, Array2, Array4, Axis, Ix2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::data::fashion_mnist::Dataset;
use crate::layer::{zero_grads, Layer, Mode};
use crate::layers::Sequential;
use crate::loss::{argmax_rows, softmax_cross_entropy};
use crate::optim::{Sgd, StepSchedule};

// ANCHOR: config
/// Everything that decides a training run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
    /// Multiply the learning rate by `lr_gamma` every `lr_step` epochs.
    pub lr_gamma: f32,
    pub lr_step: usize,
    pub momentum: f32,
    pub weight_decay: f32,
    /// Seeds the shuffling of the training set.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 64,
            learning_rate: 0.02,
            lr_gamma: 0.2,
            lr_step: 6,
            momentum: 0.9,
            weight_decay: 5e-4,
            seed: 9,
        }
    }
}
// ANCHOR_END: config

/// What one epoch did.
#[derive(Debug, Clone, Serialize)]
pub struct EpochStats {
    pub epoch: usize,
    pub learning_rate: f32,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub test_loss: f32,
    pub test_accuracy: f32,
    pub seconds: f32,
}

/// Images as a `(N, 1, H, W)` batch, standardised with the given mean and deviation.
pub fn standardise(data: &Dataset, mean: f32, std: f32) -> Array4<f32> {
    let (n, h, w) = data.images.dim();
    let x = data.images.mapv(|p| (p - mean) / std);
    x.into_shape_with_order((n, 1, h, w))
        .expect("(N, H, W) -> (N, 1, H, W)")
}

/// Mean and standard deviation of all pixels (computed on the training set only).
pub fn pixel_statistics(data: &Dataset) -> (f32, f32) {
    let n = data.images.len() as f64;
    let mean = data.images.iter().map(|&p| p as f64).sum::<f64>() / n;
    let var = data
        .images
        .iter()
        .map(|&p| (p as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean as f32, var.sqrt() as f32)
}

/// Loss, accuracy and predictions of `model` on `images` (evaluation mode, in batches).
pub fn evaluate(
    model: &mut Sequential,
    images: &Array4<f32>,
    labels: &[usize],
    batch: usize,
) -> Result<(f32, f32, Vec<usize>), String> {
    let mut predictions = Vec::with_capacity(labels.len());
    let mut loss_sum = 0.0f64;
    for start in (0..labels.len()).step_by(batch.max(1)) {
        let end = (start + batch).min(labels.len());
        let x = images
            .slice(s![start..end, .., .., ..])
            .to_owned()
            .into_dyn();
        let logits = model.forward(&x, Mode::Eval).map_err(|e| e.to_string())?;
        let logits: Array2<f32> = logits
            .into_dimensionality::<Ix2>()
            .map_err(|_| "the model must output (N, classes)".to_string())?;
        let (loss, _) =
            softmax_cross_entropy(&logits, &labels[start..end]).map_err(|e| e.to_string())?;
        loss_sum += loss as f64 * (end - start) as f64;
        predictions.extend(argmax_rows(&logits));
    }
    let correct = predictions
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    Ok((
        (loss_sum / labels.len() as f64) as f32,
        correct as f32 / labels.len() as f32,
        predictions,
    ))
}

// ANCHOR: train
/// Trains `model` on `(train_x, train_y)`, evaluating on `(test_x, test_y)` after each epoch.
/// Stops with an error that says where, if the loss stops being a finite number.
pub fn train(
    model: &mut Sequential,
    (train_x, train_y): (&Array4<f32>, &[usize]),
    (test_x, test_y): (&Array4<f32>, &[usize]),
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochStats),
    show_progress: bool,
) -> Result<Vec<EpochStats>, String> {
    if config.batch_size == 0 || config.epochs == 0 {
        return Err(format!(
            "batch size {} and epochs {} must be at least 1",
            config.batch_size, config.epochs
        ));
    }
    let schedule = StepSchedule {
        base: config.learning_rate,
        gamma: config.lr_gamma,
        every: config.lr_step,
    };
    let mut sgd = Sgd::new(config.learning_rate, config.momentum, config.weight_decay)
        .map_err(|e| e.to_string())?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..train_y.len()).collect();
    let batches = train_y.len().div_ceil(config.batch_size);
    let mut history = Vec::new();
    for epoch in 0..config.epochs {
        let started = Instant::now();
        sgd.learning_rate = schedule.at(epoch);
        order.shuffle(&mut rng);
        let bar = progress_bar(show_progress, batches as u64, epoch, config.epochs);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for (b, chunk) in order.chunks(config.batch_size).enumerate() {
            let x = train_x.select(Axis(0), chunk).into_dyn();
            let y: Vec<usize> = chunk.iter().map(|&i| train_y[i]).collect();
            zero_grads(model);
            let logits = model.forward(&x, Mode::Train).map_err(|e| e.to_string())?;
            let logits: Array2<f32> = logits
                .into_dimensionality::<Ix2>()
                .map_err(|_| "the model must output (N, classes)".to_string())?;
            let (loss, grad) = softmax_cross_entropy(&logits, &y).map_err(|e| e.to_string())?;
            if !loss.is_finite() {
                return Err(format!(
                    "the loss became {loss} at epoch {}, batch {} of {batches} (learning rate {}): \
                     training diverged; try a smaller learning rate",
                    epoch + 1,
                    b + 1,
                    sgd.learning_rate
                ));
            }
            model
                .backward_params(&grad.into_dyn())
                .map_err(|e| e.to_string())?;
            sgd.step(&mut model.params_mut())
                .map_err(|e| e.to_string())?;
            loss_sum += loss as f64 * chunk.len() as f64;
            correct += argmax_rows(&logits)
                .iter()
                .zip(&y)
                .filter(|(p, l)| p == l)
                .count();
            if let Some(bar) = &bar {
                bar.inc(1);
                if b % 20 == 0 {
                    bar.set_message(format!(
                        "loss {:.3}",
                        loss_sum / ((b + 1) * config.batch_size) as f64
                    ));
                }
            }
        }
        let (test_loss, test_accuracy, _) = evaluate(model, test_x, test_y, 500)?;
        let stats = EpochStats {
            epoch: epoch + 1,
            learning_rate: sgd.learning_rate,
            train_loss: (loss_sum / train_y.len() as f64) as f32,
            train_accuracy: correct as f32 / train_y.len() as f32,
            test_loss,
            test_accuracy,
            seconds: started.elapsed().as_secs_f32(),
        };
        if let Some(bar) = bar {
            bar.finish_with_message(format!(
                "loss {:.3}, train {:.2}%, test {:.2}%",
                stats.train_loss,
                100.0 * stats.train_accuracy,
                100.0 * stats.test_accuracy
            ));
        }
        on_epoch(&stats);
        history.push(stats);
    }
    Ok(history)
}
// ANCHOR_END: train

fn progress_bar(
    show: bool,
    batches: u64,
    epoch: usize,
    epochs: usize,
) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let bar = indicatif::ProgressBar::new(batches);
    let style = indicatif::ProgressStyle::with_template(&format!(
        "epoch {}/{epochs} [{{bar:30}}] {{pos}}/{{len}} {{elapsed}} {{msg}}",
        epoch + 1
    ))
    .expect("valid template");
    bar.set_style(style.progress_chars("=> "));
    Some(bar)
}

// ANCHOR: confusion
/// `matrix[true][predicted]`: how often each class was taken for each other.
pub fn confusion_matrix(
    predictions: &[usize],
    labels: &[usize],
    classes: usize,
) -> Result<Array2<usize>, String> {
    if predictions.len() != labels.len() {
        return Err(format!(
            "{} predictions for {} labels",
            predictions.len(),
            labels.len()
        ));
    }
    let mut m = Array2::zeros((classes, classes));
    for (&p, &l) in predictions.iter().zip(labels) {
        if p >= classes || l >= classes {
            return Err(format!("class {} is not below {classes}", p.max(l)));
        }
        m[[l, p]] += 1;
    }
    Ok(m)
}
// ANCHOR_END: confusion
