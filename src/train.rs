//! Training and evaluation: one loop for any model, loss and optimizer, over shuffled
//! mini-batches, with an optional per-batch transform (augmentation), a validation set,
//! per-epoch records, a progress bar, and a clear stop when the loss diverges (chapter
//! `09-lenet`).

use std::time::Instant;

use ndarray::{s, Array2, Array4, Axis, Ix2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::fashion_mnist::Dataset;
use crate::error::{Error, Result};
use crate::layer::{zero_grads, Layer, Mode};
use crate::loss::{argmax_rows, softmax_cross_entropy};
use crate::optim::{Optimizer, Sgd, StepSchedule};

// ANCHOR: config
/// Everything that decides a training run of `cnn-book train`: SGD with momentum and
/// weight decay, and a step schedule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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

impl TrainConfig {
    /// The optimizer this configuration describes.
    pub fn optimizer(&self) -> Result<Sgd> {
        Sgd::new(self.learning_rate, self.momentum, self.weight_decay)
    }

    /// The loop's settings, with softmax cross-entropy and the step schedule.
    pub fn training(&self) -> Training<'static> {
        Training {
            schedule: Some(StepSchedule {
                base: self.learning_rate,
                gamma: self.lr_gamma,
                every: self.lr_step,
            }),
            ..Training::new(self.epochs, self.batch_size, self.seed)
        }
    }
}

/// Images `(N, C, H, W)` and their classes: a training, validation or test set.
#[derive(Debug, Clone, Copy)]
pub struct Examples<'a> {
    pub images: &'a Array4<f32>,
    pub labels: &'a [usize],
}

impl<'a> Examples<'a> {
    /// Checks that there is one label per image.
    pub fn new(images: &'a Array4<f32>, labels: &'a [usize]) -> Result<Self> {
        if images.len_of(Axis(0)) != labels.len() {
            return Err(Error::Shape(format!(
                "{} images but {} labels",
                images.len_of(Axis(0)),
                labels.len()
            )));
        }
        Ok(Examples { images, labels })
    }
}

/// The loss the loop minimises: `(loss, dL/dlogits)` for a batch of logits and labels.
pub type LossFn<'a> = &'a (dyn Fn(&Array2<f32>, &[usize]) -> Result<(f32, Array2<f32>)> + Sync);

/// Changes a training batch in place before the forward pass (augmentation), with a
/// generator of its own, seeded from the run's seed.
pub type Transform<'a> = &'a (dyn Fn(&mut Array4<f32>, &mut ChaCha8Rng) + Sync);

/// How the loop runs: epochs, batches, what it minimises, and what else it does.
#[derive(Clone, Copy)]
pub struct Training<'a> {
    pub epochs: usize,
    pub batch_size: usize,
    /// Seeds the shuffling of the training set (and, through `seed + 1`, the transform).
    pub seed: u64,
    /// The learning rate per epoch; `None` keeps the optimizer's.
    pub schedule: Option<StepSchedule>,
    pub loss: LossFn<'a>,
    /// Applied to every training batch; `None` trains on the images as they are.
    pub transform: Option<Transform<'a>>,
    /// Evaluated after every epoch, its loss and accuracy recorded.
    pub validation: Option<Examples<'a>>,
    /// Evaluated after every epoch too (the book's curves); not for choosing anything.
    pub test: Option<Examples<'a>>,
    pub show_progress: bool,
}

impl<'a> Training<'a> {
    /// `epochs` epochs of batches of `batch_size`, softmax cross-entropy, no schedule, no
    /// transform, no validation or test set, no progress bar.
    pub fn new(epochs: usize, batch_size: usize, seed: u64) -> Self {
        Training {
            epochs,
            batch_size,
            seed,
            schedule: None,
            loss: &softmax_cross_entropy,
            transform: None,
            validation: None,
            test: None,
            show_progress: false,
        }
    }
}

/// What one epoch did. The running averages over the epoch's batches for the training
/// set; a full evaluation for the validation and test sets, if given.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochStats {
    pub epoch: usize,
    pub learning_rate: f32,
    pub train_loss: f32,
    pub train_accuracy: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_loss: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_accuracy: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f32>,
    pub seconds: f32,
}

/// Images as a `(N, 1, H, W)` batch, standardised with the given mean and deviation.
///
/// # Panics
/// If `std` is not a positive finite number or `mean` is not finite: images of one colour
/// have a deviation of 0, and dividing by it would fill the batch with NaN and infinities
/// that a ReLU then hides. (`cnn-book train` checks this first and exits with an error.)
pub fn standardise(data: &Dataset, mean: f32, std: f32) -> Array4<f32> {
    assert!(
        std > 0.0 && std.is_finite() && mean.is_finite(),
        "standardise: the standard deviation must be a positive finite number and the mean \
         finite, got mean {mean} and std {std} (images of one colour have std 0)"
    );
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

/// Mean and standard deviation of each channel of `images` `(N, C, H, W)`: for
/// standardising colour images channel by channel.
pub fn channel_statistics(images: &Array4<f32>) -> Vec<(f32, f32)> {
    images
        .axis_iter(Axis(1))
        .map(|c| {
            let n = c.len() as f64;
            let mean = c.iter().map(|&p| p as f64).sum::<f64>() / n;
            let var = c.iter().map(|&p| (p as f64 - mean).powi(2)).sum::<f64>() / n;
            (mean as f32, var.sqrt() as f32)
        })
        .collect()
}

/// Standardises each channel of `images` with its `(mean, std)`.
pub fn standardise_channels(images: &mut Array4<f32>, stats: &[(f32, f32)]) -> Result<()> {
    if images.len_of(Axis(1)) != stats.len() {
        return Err(Error::Shape(format!(
            "{} channels but statistics for {}",
            images.len_of(Axis(1)),
            stats.len()
        )));
    }
    if let Some((k, &(mean, std))) = stats
        .iter()
        .enumerate()
        .find(|(_, &(mean, std))| !(std > 0.0 && std.is_finite() && mean.is_finite()))
    {
        return Err(Error::Invalid(format!(
            "standardise_channels: channel {k} has mean {mean} and standard deviation {std};              the deviation must be a positive finite number (a channel of one colour has 0)"
        )));
    }
    for (mut c, &(mean, std)) in images.axis_iter_mut(Axis(1)).zip(stats) {
        c.mapv_inplace(|p| (p - mean) / std);
    }
    Ok(())
}

/// Images and labels of one's own: a part of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub images: Array4<f32>,
    pub labels: Vec<usize>,
}

impl Labelled {
    /// Borrowed, for [`train`] and [`Training`].
    pub fn examples(&self) -> Examples<'_> {
        Examples {
            images: &self.images,
            labels: &self.labels,
        }
    }
}

/// Splits off `count` examples, chosen at random with `seed`, as a validation set:
/// returns `(train, validation)`.
pub fn split_validation(data: Examples, count: usize, seed: u64) -> Result<(Labelled, Labelled)> {
    let n = data.labels.len();
    if count == 0 || count >= n {
        return Err(Error::Shape(format!(
            "a validation set of {count} from {n} examples leaves nothing to train on or \
             to validate with"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let (train, validation) = order.split_at(n - count);
    let take = |idx: &[usize]| Labelled {
        images: data.images.select(Axis(0), idx),
        labels: idx.iter().map(|&i| data.labels[i]).collect(),
    };
    Ok((take(train), take(validation)))
}

/// Loss, accuracy and predictions of `model` on `data` (evaluation mode, in batches of
/// `batch`, softmax cross-entropy).
pub fn evaluate(
    model: &mut dyn Layer,
    images: &Array4<f32>,
    labels: &[usize],
    batch: usize,
) -> Result<(f32, f32, Vec<usize>)> {
    evaluate_with(
        model,
        Examples::new(images, labels)?,
        batch,
        &softmax_cross_entropy,
    )
}

/// [`evaluate`] with any loss.
pub fn evaluate_with(
    model: &mut dyn Layer,
    data: Examples,
    batch: usize,
    loss: LossFn,
) -> Result<(f32, f32, Vec<usize>)> {
    let labels = data.labels;
    if labels.is_empty() {
        return Err(Error::Data("nothing to evaluate: no examples".into()));
    }
    let mut predictions = Vec::with_capacity(labels.len());
    let mut loss_sum = 0.0f64;
    for start in (0..labels.len()).step_by(batch.max(1)) {
        let end = (start + batch).min(labels.len());
        let x = data
            .images
            .slice(s![start..end, .., .., ..])
            .to_owned()
            .into_dyn();
        let logits = logits(model.forward(&x, Mode::Eval)?)?;
        let (l, _) = loss(&logits, &labels[start..end])?;
        loss_sum += l as f64 * (end - start) as f64;
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

/// The model's output as `(N, classes)` scores.
fn logits(output: crate::layer::Tensor) -> Result<Array2<f32>> {
    let shape = output.shape().to_vec();
    output.into_dimensionality::<Ix2>().map_err(|_| {
        Error::Shape(format!(
            "the model must output (N, classes) scores, got shape {shape:?}"
        ))
    })
}

/// What a training run reports to: after every step (with the model, to look inside it)
/// and after every epoch.
pub trait Observer {
    /// After training step `step` (counting from 1 over the whole run).
    fn step(&mut self, _step: usize, _model: &mut dyn Layer) -> Result<()> {
        Ok(())
    }

    /// After each training batch: its mean loss, and how many of its examples the model
    /// (before the step) classified right.
    fn batch(&mut self, _stats: &BatchStats) {}

    /// After each epoch.
    fn epoch(&mut self, _stats: &EpochStats) {}
}

/// What one training batch did, before the optimizer's step: the curves of He et al.'s
/// Figure 1 are made of these.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// Counting from 1 over the whole run.
    pub step: usize,
    pub epoch: usize,
    pub loss: f32,
    pub correct: usize,
    pub examples: usize,
}

/// An observer of epochs only.
struct Epochs<F>(F);

impl<F: FnMut(&EpochStats)> Observer for Epochs<F> {
    fn epoch(&mut self, stats: &EpochStats) {
        (self.0)(stats)
    }
}

/// Trains `model` on `data` with `optimizer`, as `training` says, calling `on_epoch` after
/// every epoch: [`train_observed`] with an observer of epochs.
pub fn train(
    model: &mut dyn Layer,
    optimizer: &mut dyn Optimizer,
    data: Examples,
    training: &Training,
    on_epoch: impl FnMut(&EpochStats),
) -> Result<Vec<EpochStats>> {
    train_observed(model, optimizer, data, training, &mut Epochs(on_epoch))
}

// ANCHOR: train
/// Trains `model` on `data` with `optimizer`, as `training` says, reporting every step and
/// every epoch to `observer`. Stops with an error that says where, if the loss stops being
/// a finite number.
pub fn train_observed(
    model: &mut dyn Layer,
    optimizer: &mut dyn Optimizer,
    data: Examples,
    training: &Training,
    observer: &mut dyn Observer,
) -> Result<Vec<EpochStats>> {
    let Training {
        epochs, batch_size, ..
    } = *training;
    if batch_size == 0 || epochs == 0 || data.labels.is_empty() {
        return Err(Error::Training(format!(
            "batch size {batch_size}, epochs {epochs} and examples {} must all be at least 1",
            data.labels.len()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(training.seed);
    let mut transform_rng = ChaCha8Rng::seed_from_u64(training.seed.wrapping_add(1));
    let mut order: Vec<usize> = (0..data.labels.len()).collect();
    let batches = data.labels.len().div_ceil(batch_size);
    let mut history = Vec::new();
    // The first batch's loss: a later loss orders of magnitude above it means divergence.
    let mut first_loss: Option<f32> = None;
    for epoch in 0..epochs {
        let started = Instant::now();
        if let Some(schedule) = training.schedule {
            optimizer.set_learning_rate(schedule.at(epoch));
        }
        order.shuffle(&mut rng);
        let bar = progress_bar(training.show_progress, batches as u64, epoch, epochs);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for (b, chunk) in order.chunks(batch_size).enumerate() {
            let mut x = data.images.select(Axis(0), chunk);
            if let Some(transform) = training.transform {
                transform(&mut x, &mut transform_rng);
            }
            let y: Vec<usize> = chunk.iter().map(|&i| data.labels[i]).collect();
            zero_grads(model);
            let logits = logits(model.forward(&x.into_dyn(), Mode::Train)?)?;
            let (loss, grad) = (training.loss)(&logits, &y)?;
            if !loss.is_finite() {
                return Err(Error::Training(format!(
                    "the loss became {loss} at epoch {}, batch {} of {batches} (learning rate {}): \
                     training diverged; try a smaller learning rate",
                    epoch + 1,
                    b + 1,
                    optimizer.learning_rate()
                )));
            }
            let rate = optimizer.learning_rate();
            let at = || {
                format!(
                    "epoch {}, batch {} of {batches} (learning rate {rate})",
                    epoch + 1,
                    b + 1
                )
            };
            let first = *first_loss.get_or_insert(loss);
            if loss > first * LOSS_GROWTH && loss > LOSS_FLOOR {
                return Err(Error::Training(format!(
                    "the loss grew from {first:?} (first batch) to {loss:?} at {}: training \
                     diverged; try a smaller learning rate",
                    at()
                )));
            }
            model.backward_params(&grad.into_dyn())?;
            first_non_finite(model, |p| &p.grad).map_or(Ok(()), |(name, v)| {
                Err(Error::Training(format!(
                    "the gradient of {name} holds {v} at {}: training diverged",
                    at()
                )))
            })?;
            optimizer.step(model)?;
            first_non_finite(model, |p| &p.value).map_or(Ok(()), |(name, v)| {
                Err(Error::Training(format!(
                    "{name} holds {v} after the step at {}: training diverged; try a \
                     smaller learning rate",
                    at()
                )))
            })?;
            observer.step(epoch * batches + b + 1, model)?;
            let right = argmax_rows(&logits)
                .iter()
                .zip(&y)
                .filter(|(p, l)| p == l)
                .count();
            observer.batch(&BatchStats {
                step: epoch * batches + b + 1,
                epoch: epoch + 1,
                loss,
                correct: right,
                examples: chunk.len(),
            });
            loss_sum += loss as f64 * chunk.len() as f64;
            correct += right;
            if let Some(bar) = &bar {
                bar.inc(1);
                if b % 20 == 0 {
                    bar.set_message(format!(
                        "loss {:.3}",
                        loss_sum / ((b + 1) * batch_size) as f64
                    ));
                }
            }
        }
        let mut eval = |set: Option<Examples>| -> Result<(Option<f32>, Option<f32>)> {
            Ok(match set {
                Some(set) => {
                    let (loss, accuracy, _) = evaluate_with(model, set, 500, training.loss)?;
                    (Some(loss), Some(accuracy))
                }
                None => (None, None),
            })
        };
        let (validation_loss, validation_accuracy) = eval(training.validation)?;
        let (test_loss, test_accuracy) = eval(training.test)?;
        let first = first_loss.unwrap_or(f32::INFINITY);
        for (set, loss) in [("validation", validation_loss), ("test", test_loss)] {
            if let Some(loss) =
                loss.filter(|&l| !l.is_finite() || (l > first * LOSS_GROWTH && l > LOSS_FLOOR))
            {
                return Err(Error::Training(format!(
                    "the {set} loss after epoch {} is {loss:?} (the first training batch's was \
                     {first:?}): training diverged; try a smaller learning rate",
                    epoch + 1
                )));
            }
        }
        let n = data.labels.len();
        let stats = EpochStats {
            epoch: epoch + 1,
            learning_rate: optimizer.learning_rate(),
            train_loss: (loss_sum / n as f64) as f32,
            train_accuracy: correct as f32 / n as f32,
            validation_loss,
            validation_accuracy,
            test_loss,
            test_accuracy,
            seconds: started.elapsed().as_secs_f32(),
        };
        if let Some(bar) = bar {
            bar.finish_with_message(format!(
                "loss {:.3}, train {:.2}%",
                stats.train_loss,
                100.0 * stats.train_accuracy,
            ));
        }
        observer.epoch(&stats);
        history.push(stats);
    }
    Ok(history)
}
// ANCHOR_END: train

/// How many times the first batch's loss a later loss may reach before training counts
/// as diverged (and at least [`LOSS_FLOOR`]: a first loss near zero is no yardstick).
const LOSS_GROWTH: f32 = 1e3;
/// Losses below this never count as diverged (ten classes at chance give ln 10 = 2.3).
const LOSS_FLOOR: f32 = 100.0;

/// The first parameter of `model` (by its full name) whose `part` (value or gradient)
/// holds a value that is not finite, and that value.
fn first_non_finite(
    model: &dyn Layer,
    part: impl Fn(&crate::layer::Param) -> &crate::layer::Tensor,
) -> Option<(String, f32)> {
    crate::model::named_params(model)
        .into_iter()
        .find_map(|(name, p)| part(p).iter().find(|v| !v.is_finite()).map(|&v| (name, v)))
}

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
) -> Result<Array2<usize>> {
    if predictions.len() != labels.len() {
        return Err(Error::Shape(format!(
            "{} predictions for {} labels",
            predictions.len(),
            labels.len()
        )));
    }
    let mut m = Array2::zeros((classes, classes));
    for (&p, &l) in predictions.iter().zip(labels) {
        if p >= classes || l >= classes {
            return Err(Error::Shape(format!(
                "class {} is not below {classes}",
                p.max(l)
            )));
        }
        m[[l, p]] += 1;
    }
    Ok(m)
}
// ANCHOR_END: confusion
