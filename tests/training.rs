//! Chapter 09: the optimizers by hand, LeNet's shapes, and the training loop: short real
//! runs, a validation split, a per-batch transform, colour images, divergence.

use approx::assert_abs_diff_eq;
use cnn_book::data::fashion_mnist::sample;
use cnn_book::init::Init;
use cnn_book::layer::{param_count, Layer, Mode};
use cnn_book::layers::Linear;
use cnn_book::models::{by_name, lenet, lenet_classic, resnet_small};
use cnn_book::optim::{Adam, Optimizer, Sgd, StepSchedule};
use cnn_book::train::{
    channel_statistics, evaluate, pixel_statistics, split_validation, standardise,
    standardise_channels, train, Examples, TrainConfig, Training,
};
use cnn_book::Error;
use ndarray::{s, Array4, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A one-input, one-output linear layer with weight 1 and bias 0, and the given gradients.
fn one_weight(weight_grad: f32, bias_grad: f32) -> Linear {
    let mut layer = Linear::new(1, 1, Init::Constant(1.0), &mut ChaCha8Rng::seed_from_u64(0));
    layer.weight.grad.fill(weight_grad);
    layer.bias.grad.fill(bias_grad);
    layer
}

#[test]
fn sgd_with_momentum_and_weight_decay_by_hand() {
    // w = 1, gradient 0.5, lr 0.1, momentum 0.9, weight decay 0.01.
    let mut layer = one_weight(0.5, 0.2);
    let mut sgd = Sgd::new(0.1, 0.9, 0.01).unwrap();
    sgd.step(&mut layer).unwrap();
    // v = 0.9*0 + 0.5 + 0.01*1 = 0.51; w = 1 - 0.1*0.51 = 0.949
    assert_abs_diff_eq!(layer.weight.value[[0, 0]], 0.949, epsilon = 1e-6);
    // The bias: v = 0.2 + 0.01*0 = 0.2; b = 0 - 0.1*0.2 = -0.02.
    assert_abs_diff_eq!(layer.bias.value[[0]], -0.02, epsilon = 1e-6);
    sgd.step(&mut layer).unwrap();
    // v = 0.9*0.51 + 0.5 + 0.01*0.949 = 0.96849; w = 0.949 - 0.096849 = 0.852151
    assert_abs_diff_eq!(layer.weight.value[[0, 0]], 0.852151, epsilon = 1e-6);
    for (lr, mu, wd) in [
        (0.0, 0.9, 0.0),
        (0.1, 1.0, 0.0),
        (0.1, 0.9, -1.0),
        (f32::NAN, 0.0, 0.0),
    ] {
        assert!(Sgd::new(lr, mu, wd).is_err(), "lr {lr} mu {mu} wd {wd}");
    }
    // One optimizer serves one model: a parameter that changes shape is an error.
    let mut other = Linear::new(2, 1, Init::Xavier, &mut ChaCha8Rng::seed_from_u64(1));
    let err = sgd.step(&mut other).unwrap_err().to_string();
    assert!(err.contains("'weight'") && err.contains("[1, 2]"), "{err}");
}

#[test]
fn adam_by_hand() {
    // w = 1, lr 0.1, b1 0.9, b2 0.999. Step 1, g = 0.5: m = 0.05, v = 0.00025, corrected
    // m_hat = 0.05 / 0.1 = 0.5, v_hat = 0.00025 / 0.001 = 0.25: w = 1 - 0.1 * 0.5 / 0.5.
    let mut layer = one_weight(0.5, 0.0);
    let mut adam = Adam::new(0.1, 0.0).unwrap();
    adam.step(&mut layer).unwrap();
    assert_abs_diff_eq!(layer.weight.value[[0, 0]], 0.9, epsilon = 1e-6);
    // A zero gradient moves nothing on the first step: m = v = 0 (0 / (0 + eps)).
    assert_eq!(layer.bias.value[[0]], 0.0);
    // Step 2, g = -0.5: m = 0.045 - 0.05 = -0.005, v = 0.999 * 0.00025 + 0.001 * 0.25
    // = 0.00049975; m_hat = -0.005 / 0.19, v_hat = 0.00049975 / 0.001999 = 0.25:
    // w = 0.9 + 0.1 * (0.005 / 0.19) / 0.5 = 0.9052632.
    layer.weight.grad.fill(-0.5);
    adam.step(&mut layer).unwrap();
    assert_abs_diff_eq!(layer.weight.value[[0, 0]], 0.905_263_2, epsilon = 1e-6);
    assert!(Adam::new(-1.0, 0.0).is_err() && Adam::new(0.1, -1.0).is_err());
}

#[test]
fn step_schedule() {
    let s = StepSchedule {
        base: 0.1,
        gamma: 0.5,
        every: 3,
    };
    let rates: Vec<f32> = (0..7).map(|e| s.at(e)).collect();
    assert_eq!(rates, vec![0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
}

#[test]
fn lenet_shapes_and_parameter_count() {
    let net = lenet(1);
    // conv1 6*(1*5*5)+6 = 156; conv2 16*(6*5*5)+16 = 2,416; fc 400*120+120 = 48,120;
    // 120*84+84 = 10,164; 84*10+10 = 850.
    assert_eq!(param_count(&net), 156 + 2_416 + 48_120 + 10_164 + 850);
    assert_eq!(param_count(&net), 61_706);
    assert_eq!(param_count(&lenet_classic(1)), 61_706);
    let shapes: Vec<Vec<usize>> = net
        .summary(&[1, 1, 28, 28])
        .unwrap()
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(shapes[0], vec![1, 6, 28, 28]); // (28 - 5 + 4)/1 + 1 = 28
    assert_eq!(shapes[2], vec![1, 6, 14, 14]);
    assert_eq!(shapes[3], vec![1, 16, 10, 10]); // (14 - 5)/1 + 1 = 10
    assert_eq!(shapes[5], vec![1, 16, 5, 5]);
    assert_eq!(shapes.last().unwrap(), &vec![1, 10]);
    let err = by_name("alexnet", 0).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(m) if m.contains("lenet-classic")),
        "{err}"
    );
}

/// The embedded sample, standardised: 1,000 images and their labels.
fn sample_set() -> (Array4<f32>, Vec<usize>) {
    let data = sample();
    let (mean, std) = pixel_statistics(&data);
    let labels = data.labels.iter().map(|&l| l as usize).collect();
    (standardise(&data, mean, std), labels)
}

#[test]
fn a_short_run_on_the_sample_learns_something() {
    // 800 training and 200 test images from the embedded sample, 3 epochs: far from the
    // real result, but well above the 10% of guessing if forward, backward and the
    // optimizer work together.
    let (x, labels) = sample_set();
    let train_x = x.slice(s![..800, .., .., ..]).to_owned();
    let test_x = x.slice(s![800.., .., .., ..]).to_owned();
    let config = TrainConfig {
        epochs: 3,
        batch_size: 32,
        lr_step: 10,
        ..TrainConfig::default()
    };
    let mut model = lenet(4);
    let (_, before, _) = evaluate(&mut model, &test_x, &labels[800..], 100).unwrap();
    let mut training = config.training();
    training.test = Some(Examples::new(&test_x, &labels[800..]).unwrap());
    let mut epochs_seen = Vec::new();
    let history = train(
        &mut model,
        &mut config.optimizer().unwrap(),
        Examples::new(&train_x, &labels[..800]).unwrap(),
        &training,
        |e| epochs_seen.push(e.epoch),
    )
    .unwrap();
    assert_eq!(epochs_seen, vec![1, 2, 3]);
    let last = history.last().unwrap();
    assert!(history[0].train_loss > last.train_loss, "{history:?}");
    let after = last.test_accuracy.unwrap();
    assert!(after > 0.5 && after > before + 0.3, "{before} -> {after}");
    assert!(last.validation_accuracy.is_none());
}

#[test]
fn any_model_any_optimizer_with_a_validation_split() {
    // The residual network, trained with Adam, on 900 images with 100 held out.
    let (x, labels) = sample_set();
    let (t, v) = split_validation(Examples::new(&x, &labels).unwrap(), 100, 7).unwrap();
    assert_eq!((t.labels.len(), v.images.len_of(Axis(0))), (900, 100));
    // The split is a partition: no image lost, none in both halves.
    let sum = |a: &Array4<f32>| a.iter().map(|&v| v as f64).sum::<f64>();
    assert_abs_diff_eq!(sum(&t.images) + sum(&v.images), sum(&x), epsilon = 1e-2);
    let mut training = Training::new(2, 50, 3);
    training.validation = Some(v.examples());
    let mut model = resnet_small(2);
    let history = train(
        &mut model,
        &mut Adam::new(3e-3, 0.0).unwrap(),
        t.examples(),
        &training,
        |_| {},
    )
    .unwrap();
    let last = history.last().unwrap();
    assert!(last.validation_accuracy.unwrap() > 0.3, "{history:?}");
    assert!(last.test_accuracy.is_none());
    assert!(split_validation(Examples::new(&x, &labels).unwrap(), 1000, 7).is_err());
}

#[test]
fn the_per_batch_transform_sees_every_batch_and_repeats_with_the_seed() {
    let (x, labels) = sample_set();
    let (x, labels) = (x.slice(s![..256, .., .., ..]).to_owned(), &labels[..256]);
    // A transform that flips a random half of each batch left to right.
    let flips = std::sync::atomic::AtomicUsize::new(0);
    let flip = |batch: &mut Array4<f32>, rng: &mut ChaCha8Rng| {
        for mut image in batch.axis_iter_mut(Axis(0)) {
            if rng.random::<bool>() {
                let flipped = image.slice(s![.., .., ..;-1]).to_owned();
                image.assign(&flipped);
                flips.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    };
    let run = |transform: bool| {
        let mut training = Training::new(2, 64, 5);
        if transform {
            training.transform = Some(&flip);
        }
        let mut model = lenet(6);
        let history = train(
            &mut model,
            &mut Sgd::new(0.02, 0.9, 0.0).unwrap(),
            Examples::new(&x, labels).unwrap(),
            &training,
            |_| {},
        )
        .unwrap();
        history.last().unwrap().train_loss
    };
    let plain = run(false);
    assert_eq!(flips.load(std::sync::atomic::Ordering::Relaxed), 0);
    let flipped = run(true);
    // About half of the 2 x 256 images were flipped.
    let n = flips.load(std::sync::atomic::Ordering::Relaxed);
    assert!((180..330).contains(&n), "{n} flips");
    assert_ne!(plain, flipped);
    // The transform has its own seeded generator: the same run gives the same bits.
    assert_eq!(run(true), flipped);
    assert_eq!(run(false), plain);
}

#[test]
fn colour_images_of_any_size_train_too() {
    // Three channels of 12 x 12: class 0 is red-heavy, class 1 blue-heavy.
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let labels: Vec<usize> = (0..200).map(|i| i % 2).collect();
    let mut x = Array4::from_shape_fn((200, 3, 12, 12), |(n, c, _, _)| {
        let bias = match (labels[n], c) {
            (0, 0) | (1, 2) => 0.6,
            _ => 0.0,
        };
        bias + rng.random_range(0.0f32..1.0)
    });
    let stats = channel_statistics(&x);
    assert_eq!(stats.len(), 3);
    standardise_channels(&mut x, &stats).unwrap();
    for (mean, std) in channel_statistics(&x) {
        assert_abs_diff_eq!(mean, 0.0, epsilon = 1e-4);
        assert_abs_diff_eq!(std, 1.0, epsilon = 1e-4);
    }
    let mut r = ChaCha8Rng::seed_from_u64(9);
    let mut model = cnn_book::layers::Sequential::new()
        .add(cnn_book::layers::Conv2d::new(3, 4, 3, Init::He, &mut r))
        .add(cnn_book::layers::Relu::new())
        .add(cnn_book::layers::GlobalAvgPool::new())
        .add(Linear::new(4, 2, Init::Xavier, &mut r));
    let history = train(
        &mut model,
        &mut Adam::new(1e-2, 0.0).unwrap(),
        Examples::new(&x, &labels).unwrap(),
        &Training::new(5, 20, 1),
        |_| {},
    )
    .unwrap();
    assert!(history.last().unwrap().train_accuracy > 0.9, "{history:?}");
    let (_, accuracy, _) = evaluate(&mut model, &x, &labels, 64).unwrap();
    assert!(accuracy > 0.9);
    assert!(standardise_channels(&mut x, &stats[..2]).is_err());
}

#[test]
fn divergence_stops_with_a_clear_message() {
    let data = sample();
    let x = standardise(&data, 0.0, 1.0);
    let labels: Vec<usize> = data.labels.iter().map(|&l| l as usize).collect();
    let (tx, ty) = (x.slice(s![..256, .., .., ..]).to_owned(), &labels[..256]);
    let config = TrainConfig {
        epochs: 2,
        batch_size: 64,
        learning_rate: 1e6,
        momentum: 0.0,
        ..TrainConfig::default()
    };
    let err = train(
        &mut lenet(5),
        &mut config.optimizer().unwrap(),
        Examples::new(&tx, ty).unwrap(),
        &config.training(),
        |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Training(m) if m.contains("training diverged") && m.contains("learning rate")),
        "{err}"
    );
    // Nothing to train on is an error too, not an empty run.
    let empty = Array4::<f32>::zeros((0, 1, 28, 28));
    let err = train(
        &mut lenet(5),
        &mut config.optimizer().unwrap(),
        Examples::new(&empty, &[]).unwrap(),
        &config.training(),
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, Error::Training(_)), "{err}");
    assert!(Examples::new(&tx, &ty[..10]).is_err());
}

#[test]
fn evaluation_mode_is_used_for_evaluation() {
    // A model in Eval mode gives the same output twice; dropout would not in training.
    let (x, labels) = sample_set();
    let mut model = lenet(1);
    let a = evaluate(&mut model, &x, &labels, 100).unwrap();
    let b = evaluate(&mut model, &x, &labels, 333).unwrap();
    assert_eq!(a.2, b.2);
    let y = model
        .forward(
            &x.slice(s![..4, .., .., ..]).to_owned().into_dyn(),
            Mode::Eval,
        )
        .unwrap();
    assert_eq!(y.shape(), &[4, 10]);
}

#[test]
fn a_results_file_with_a_missing_field_is_an_error_that_names_it() {
    use cnn_book::records::{read_results, write_results};
    let dir = std::env::temp_dir().join(format!("cnn-book-records-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("results.json");
    // The committed results read back into typed records, and write out the same records.
    let committed =
        read_results(std::path::Path::new("book/generated/09-lenet/results.json")).unwrap();
    assert_eq!(committed["lenet"].epochs, committed["lenet"].history.len());
    write_results(&path, &committed).unwrap();
    assert_eq!(read_results(&path).unwrap(), committed);
    // Without its seed, a run cannot be repeated: the reader refuses it.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["lenet"].as_object_mut().unwrap().remove("seed");
    std::fs::write(&path, json.to_string()).unwrap();
    let err = read_results(&path).unwrap_err().to_string();
    assert!(
        err.contains("results.json") && err.contains("missing field `seed`"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn batch_reports_add_up_to_the_epochs() {
    // 100 images in batches of 32: 4 steps an epoch (32, 32, 32, 4 images), 2 epochs. The
    // per-batch counts, summed over an epoch, must give the epoch's training accuracy and
    // (weighted by the batch sizes) its loss.
    use cnn_book::train::{train_observed, BatchStats, EpochStats, Observer};
    #[derive(Default)]
    struct Record {
        batches: Vec<BatchStats>,
        epochs: Vec<EpochStats>,
    }
    impl Observer for Record {
        fn batch(&mut self, stats: &BatchStats) {
            self.batches.push(*stats);
        }
        fn epoch(&mut self, stats: &EpochStats) {
            self.epochs.push(stats.clone());
        }
    }
    let (x, labels) = sample_set();
    let x = x.slice(s![..100, .., .., ..]).to_owned();
    let mut record = Record::default();
    train_observed(
        &mut lenet(1),
        &mut Sgd::new(0.05, 0.9, 0.0).unwrap(),
        Examples::new(&x, &labels[..100]).unwrap(),
        &Training::new(2, 32, 3),
        &mut record,
    )
    .unwrap();
    let steps: Vec<usize> = record.batches.iter().map(|b| b.step).collect();
    assert_eq!(steps, (1..=8).collect::<Vec<_>>());
    let sizes: Vec<usize> = record.batches.iter().map(|b| b.examples).collect();
    assert_eq!(sizes, vec![32, 32, 32, 4, 32, 32, 32, 4]);
    for epoch in &record.epochs {
        let batches: Vec<&BatchStats> = record
            .batches
            .iter()
            .filter(|b| b.epoch == epoch.epoch)
            .collect();
        let correct: usize = batches.iter().map(|b| b.correct).sum();
        assert_eq!(epoch.train_accuracy, correct as f32 / 100.0);
        let loss: f64 = batches
            .iter()
            .map(|b| b.loss as f64 * b.examples as f64)
            .sum::<f64>()
            / 100.0;
        assert_abs_diff_eq!(epoch.train_loss as f64, loss, epsilon = 1e-6);
    }
}
