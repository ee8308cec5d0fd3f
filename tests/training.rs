//! Chapter 09: the optimizer, checkpoints, LeNet's shapes, and a short real training run.

use cnn_book::checkpoint::{decode, encode, load_state, state};
use cnn_book::data::fashion_mnist::sample;
use cnn_book::layer::{param_count, Param, Tensor};
use cnn_book::models::{by_name, lenet, lenet_classic};
use cnn_book::optim::{Sgd, StepSchedule};
use cnn_book::train::{evaluate, pixel_statistics, standardise, train, TrainConfig};
use ndarray::IxDyn;

#[test]
fn sgd_with_momentum_and_weight_decay_by_hand() {
    // w = 1, gradient 0.5, lr 0.1, momentum 0.9, weight decay 0.01.
    let mut p = Param::new("w", Tensor::from_elem(IxDyn(&[1]), 1.0));
    let mut sgd = Sgd::new(0.1, 0.9, 0.01).unwrap();
    p.grad.fill(0.5);
    sgd.step(&mut [&mut p]).unwrap();
    // v = 0.9*0 + 0.5 + 0.01*1 = 0.51; w = 1 - 0.1*0.51 = 0.949
    assert!((p.value[[0]] - 0.949).abs() < 1e-6);
    sgd.step(&mut [&mut p]).unwrap();
    // v = 0.9*0.51 + 0.5 + 0.01*0.949 = 0.96849; w = 0.949 - 0.096849 = 0.852151
    assert!((p.value[[0]] - 0.852151).abs() < 1e-6);
    for (lr, mu, wd) in [
        (0.0, 0.9, 0.0),
        (0.1, 1.0, 0.0),
        (0.1, 0.9, -1.0),
        (f32::NAN, 0.0, 0.0),
    ] {
        assert!(Sgd::new(lr, mu, wd).is_err(), "lr {lr} mu {mu} wd {wd}");
    }
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
    assert!(by_name("alexnet", 0).unwrap_err().contains("lenet-classic"));
}

#[test]
fn checkpoints_round_trip_and_reject_damage() {
    let a = lenet(2);
    let bytes = encode(&state(&a));
    let mut b = lenet(3);
    assert_ne!(state(&a), state(&b));
    load_state(&mut b, &decode(&bytes, "mem").unwrap()).unwrap();
    assert_eq!(state(&a), state(&b));
    // The first 8 bytes are the header length, little-endian, and the header is JSON.
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    assert_eq!(
        header["00.weight"]["shape"],
        serde_json::json!([6, 1, 5, 5])
    );
    // Truncated data, a bad header, and a model of another shape are errors.
    assert!(decode(&bytes[..bytes.len() - 4], "cut")
        .unwrap_err()
        .contains("needs"));
    assert!(decode(&bytes[..4], "tiny")
        .unwrap_err()
        .contains("shorter than"));
    let mut other = cnn_book::layers::Sequential::new(vec![]);
    assert!(load_state(&mut other, &decode(&bytes, "mem").unwrap())
        .unwrap_err()
        .contains("parameter tensors"));
}

#[test]
fn a_short_run_on_the_sample_learns_something() {
    // 800 training and 200 test images from the embedded sample, 3 epochs: far from the
    // real result, but well above the 10% of guessing if forward, backward and the
    // optimizer work together.
    let data = sample();
    let (mean, std) = pixel_statistics(&data);
    let x = standardise(&data, mean, std);
    let labels: Vec<usize> = data.labels.iter().map(|&l| l as usize).collect();
    let train_x = x.slice(ndarray::s![..800, .., .., ..]).to_owned();
    let test_x = x.slice(ndarray::s![800.., .., .., ..]).to_owned();
    let config = TrainConfig {
        epochs: 3,
        batch_size: 32,
        lr_step: 10,
        ..TrainConfig::default()
    };
    let mut model = lenet(4);
    let (_, before, _) = evaluate(&mut model, &test_x, &labels[800..], 100).unwrap();
    let history = train(
        &mut model,
        (&train_x, &labels[..800]),
        (&test_x, &labels[800..]),
        &config,
        |_| {},
        false,
    )
    .unwrap();
    let last = history.last().unwrap();
    assert!(history[0].train_loss > last.train_loss, "{history:?}");
    assert!(
        last.test_accuracy > 0.5 && last.test_accuracy > before + 0.3,
        "{before} -> {}",
        last.test_accuracy
    );
}

#[test]
fn divergence_stops_with_a_clear_message() {
    let data = sample();
    let x = standardise(&data, 0.0, 1.0);
    let labels: Vec<usize> = data.labels.iter().map(|&l| l as usize).collect();
    let (tx, ty) = (
        x.slice(ndarray::s![..256, .., .., ..]).to_owned(),
        &labels[..256],
    );
    let config = TrainConfig {
        epochs: 2,
        batch_size: 64,
        learning_rate: 1e6,
        momentum: 0.0,
        ..TrainConfig::default()
    };
    let err = train(&mut lenet(5), (&tx, ty), (&tx, ty), &config, |_| {}, false).unwrap_err();
    assert!(
        err.contains("training diverged") && err.contains("learning rate"),
        "{err}"
    );
}
