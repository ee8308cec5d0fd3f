//! A model's state and its walk: names of parameters and buffers, checkpoints that keep
//! batch norm's running statistics, loading that refuses what does not fit, the book's own
//! safetensors reader and writer against the `safetensors` crate, and reaching one layer
//! of a built model by its path.

mod common;

use std::collections::BTreeMap;

use cnn_book::checkpoint::{decode, encode, load, save};
use cnn_book::init::Init;
use cnn_book::layer::{Implementation, Layer, Mode, Tensor};
use cnn_book::layers::{BatchNorm2d, Conv2d, MaxPool2d, Relu, ReluRule, Sequential};
use cnn_book::model::{
    get, get_mut, load_state_dict, named_buffers, named_params, paths_of, set_implementation,
    state_dict, visit, visit_mut, StateDict,
};
use cnn_book::models::{by_name, MODEL_NAMES};
use cnn_book::Error;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use common::random_tensor as random;

/// A scratch directory of this test binary.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cnn-book-model-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Trains `model` for a few steps so that its batch-norm statistics move away from 0 and 1.
fn warm_up(model: &mut dyn Layer, input: &[usize]) {
    for seed in 0..3 {
        model.forward(&random(input, seed), Mode::Train).unwrap();
    }
}

#[test]
fn every_model_gives_the_same_evaluation_after_a_checkpoint_round_trip() {
    let dir = scratch("round-trip");
    for name in MODEL_NAMES {
        let mut a = by_name(name, 1).unwrap();
        warm_up(&mut a, &[8, 1, 28, 28]);
        let path = dir.join(format!("{name}.safetensors"));
        save(&a, &path).unwrap();
        // Another seed: every weight differs, running statistics at their start.
        let mut b = by_name(name, 2).unwrap();
        assert_ne!(state_dict(&a), state_dict(&b));
        load(&mut b, &path).unwrap();
        assert_eq!(state_dict(&a), state_dict(&b), "{name}");
        let x = random(&[5, 1, 28, 28], 9);
        assert_eq!(
            a.forward(&x, Mode::Eval).unwrap(),
            b.forward(&x, Mode::Eval).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn batch_norm_statistics_are_buffers_saved_by_name() {
    let mut net = by_name("resnet-small", 3).unwrap();
    warm_up(&mut net, &[4, 1, 28, 28]);
    let buffers: Vec<String> = named_buffers(&net).into_iter().map(|(n, _)| n).collect();
    // The stem's batch norm (layer 1), and the two of each block's body.
    assert_eq!(buffers[..2], ["1.running_mean", "1.running_var"]);
    assert!(
        buffers.contains(&"3.body.4.running_var".to_string()),
        "{buffers:?}"
    );
    assert_eq!(buffers.len(), 2 * 7);
    let state = state_dict(&net);
    let var = &state["3.body.4.running_var"];
    assert!(var.iter().any(|&v| v != 1.0), "the statistics moved");
    // Parameters use PyTorch's names: a batch norm's gamma is its weight.
    let params: Vec<String> = named_params(&net).into_iter().map(|(n, _)| n).collect();
    assert_eq!(params[..4], ["0.weight", "0.bias", "1.weight", "1.bias"]);
    assert_eq!(state.len(), params.len() + buffers.len());
}

#[test]
fn loading_what_does_not_fit_is_refused_with_the_tensor_named() {
    let mut model = by_name("lenet", 1).unwrap();
    let good = state_dict(&model);
    let before = state_dict(&model);
    let refuse = |state: StateDict, model: &mut dyn Layer| -> String {
        match load_state_dict(model, &state) {
            Err(Error::State(message)) => message,
            other => panic!("expected a state error, got {other:?}"),
        }
    };
    // Missing.
    let mut missing = good.clone();
    missing.remove("3.bias");
    let err = refuse(missing, &mut model);
    assert!(err.contains("'3.bias'") && err.contains("[16]"), "{err}");
    // Extra.
    let mut extra = good.clone();
    extra.insert("12.weight".into(), Tensor::zeros(vec![2, 2]));
    let err = refuse(extra, &mut model);
    assert!(
        err.contains("'12.weight'") && err.contains("does not have"),
        "{err}"
    );
    // Misshaped: two tensors of the same size but another shape.
    let mut misshaped = good.clone();
    misshaped.insert("7.weight".into(), Tensor::zeros(vec![400, 120]));
    let err = refuse(misshaped, &mut model);
    assert!(
        err.contains("'7.weight'") && err.contains("[120, 400]") && err.contains("[400, 120]"),
        "{err}"
    );
    // Nothing was changed by the refusals.
    assert_eq!(state_dict(&model), before);
    // Layers swapped (the first convolution's weights where the second's go) are caught by
    // the shapes, where names by position would not see it.
    let mut swapped = good.clone();
    let first = swapped["0.weight"].clone();
    swapped.insert("3.weight".into(), first);
    assert!(refuse(swapped, &mut model).contains("'3.weight'"));
}

#[test]
fn a_weights_file_of_another_dtype_or_damaged_is_refused() {
    let bytes = encode(&state_dict(&by_name("lenet", 1).unwrap()));
    for (cut, why) in [(bytes.len() - 4, "needs"), (4, "shorter than")] {
        let err = decode(&bytes[..cut], "cut").unwrap_err();
        assert!(matches!(&err, Error::State(m) if m.contains(why)), "{err}");
    }
    // A file in F16 (written by the safetensors crate) names the tensor and its dtype.
    let data = vec![0u8; 8];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F16, vec![4], &data).unwrap();
    let f16 = safetensors::serialize([("half", view)], None).unwrap();
    let err = decode(&f16, "half.safetensors").unwrap_err().to_string();
    assert!(err.contains("'half'") && err.contains("F16"), "{err}");
}

#[test]
fn the_books_safetensors_agree_with_the_safetensors_crate_both_ways() {
    // Written here, read by the crate.
    let mut state = state_dict(&by_name("resnet-small", 4).unwrap());
    state.insert("scalar".into(), Tensor::from_elem(vec![], 2.5));
    let bytes = encode(&state);
    let read = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(read.len(), state.len());
    for (name, t) in &state {
        let view = read.tensor(name).unwrap();
        assert_eq!(view.dtype(), safetensors::Dtype::F32);
        assert_eq!(view.shape(), t.shape(), "{name}");
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(values, t.iter().copied().collect::<Vec<_>>(), "{name}");
    }
    // Written by the crate (with metadata, in its own order), read here.
    let tensors: BTreeMap<String, Vec<u8>> = state
        .iter()
        .map(|(n, t)| (n.clone(), t.iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, bytes)| {
            let shape = state[n].shape().to_vec();
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, bytes)
                    .unwrap(),
            )
        })
        .collect();
    let metadata = Some(std::collections::HashMap::from([(
        "format".to_string(),
        "cnn-book".to_string(),
    )]));
    let theirs = safetensors::serialize(views, metadata).unwrap();
    assert_eq!(decode(&theirs, "theirs").unwrap(), state);
}

#[test]
fn walking_a_model_reaches_every_layer_by_path() {
    let mut net = by_name("resnet-small", 5).unwrap();
    let mut paths = Vec::new();
    visit(&net, &mut |path, _| paths.push(path.to_string()));
    assert_eq!(paths[0], "");
    assert!(paths.contains(&"3.body.0".to_string()), "{paths:?}");
    assert_eq!(paths_of::<Conv2d>(&net).len(), 7);
    assert_eq!(
        paths_of::<BatchNorm2d>(&net),
        ["1", "3.body.1", "3.body.4", "5.body.1", "5.body.4", "7.body.1", "7.body.4"]
    );
    // Read a layer's filters by path.
    let conv = get(&net, "3.body.3")
        .unwrap()
        .downcast_ref::<Conv2d>()
        .unwrap();
    assert_eq!(conv.weight.value.shape(), &[16, 16, 3, 3]);
    assert!(get(&net, "3.body.9").is_none() && get(&net, "nowhere").is_none());
    // Change a layer in place: zero the stem's filters, and the network's output no longer
    // depends on its input (batch norm in evaluation mode turns the zeros into constants).
    let stem = get_mut(&mut net, "0")
        .unwrap()
        .downcast_mut::<Conv2d>()
        .unwrap();
    stem.weight.value.fill(0.0);
    let a = net
        .forward(&random(&[2, 1, 28, 28], 1), Mode::Eval)
        .unwrap();
    let b = net
        .forward(&random(&[2, 1, 28, 28], 2), Mode::Eval)
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_relu_rule_changed_by_the_walk_changes_the_backward_pass() {
    let mut r = ChaCha8Rng::seed_from_u64(6);
    let mut net = Sequential::new()
        .add(Conv2d::new(1, 2, 3, Init::He, &mut r).padding(1))
        .add(Relu::new())
        .add(MaxPool2d::new(2, 2));
    let x = random(&[1, 1, 4, 4], 7);
    let dy = random(&[1, 2, 2, 2], 8);
    net.forward(&x, Mode::Eval).unwrap();
    let plain = net.backward(&dy).unwrap();
    let mut changed = 0;
    visit_mut(&mut net, &mut |_, layer| {
        if let Some(relu) = layer.downcast_mut::<Relu>() {
            relu.rule = ReluRule::Guided;
            changed += 1;
        }
    });
    assert_eq!(changed, 1);
    net.forward(&x, Mode::Eval).unwrap();
    let guided = net.backward(&dy).unwrap();
    // Guided backpropagation passes only positive gradients through the ReLU; with some
    // negative entries in dy the two input gradients differ.
    assert!(dy.iter().any(|&g| g < 0.0));
    assert_ne!(plain, guided);
    // The max-pooling switches of the last forward pass are there to read (DeconvNet).
    let pool = get(&net, "2").unwrap().downcast_ref::<MaxPool2d>().unwrap();
    assert_eq!(pool.switches.as_ref().unwrap().dim(), (1, 2, 2, 2));
}

#[test]
fn a_whole_model_runs_its_reference_loops_or_its_fast_kernels_alike() {
    for name in MODEL_NAMES {
        let mut model = by_name(name, 10).unwrap();
        let x = random(&[3, 1, 28, 28], 11);
        let dy = random(&[3, 10], 12);
        let fast = model.forward(&x, Mode::Train).unwrap();
        let dx_fast = model.backward(&dy).unwrap();
        let mut reference = by_name(name, 10).unwrap();
        set_implementation(&mut reference, Implementation::Reference);
        let slow = reference.forward(&x, Mode::Train).unwrap();
        let dx_slow = reference.backward(&dy).unwrap();
        assert!(
            approx::abs_diff_eq!(fast, slow, epsilon = 1e-4),
            "{name} forward"
        );
        assert!(
            approx::abs_diff_eq!(dx_fast, dx_slow, epsilon = 1e-4),
            "{name} input gradient"
        );
        for ((n, p), (_, q)) in named_params(&model).iter().zip(named_params(&reference)) {
            let scale = p.grad.iter().fold(1.0f32, |m, g| m.max(g.abs()));
            assert!(
                approx::abs_diff_eq!(p.grad, q.grad, epsilon = 1e-3 * scale),
                "{name}: gradient of {n}"
            );
        }
    }
}

#[test]
fn errors_inside_a_model_keep_their_cause_and_say_where() {
    let mut net = by_name("resnet-small", 1).unwrap();
    let err = net
        .forward(&random(&[2, 3, 28, 28], 1), Mode::Train)
        .unwrap_err();
    // The first layer expects one channel.
    assert!(
        matches!(&err, Error::InLayer { path, .. } if path == "0"),
        "{err:?}"
    );
    assert!(
        matches!(err.root(), Error::Shape(m) if m.contains("3 channels")),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("layer 0 (Conv2d(1 -> 16"),
        "{err}"
    );
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("channels"), "{source}");
}

#[test]
fn normalization_layers_keep_their_state_through_a_checkpoint() {
    use cnn_book::models::{deep_mlp, lrn_cnn, small_cnn, Normalization};
    let dir = scratch("norms");
    type Build = fn(u64) -> cnn_book::layers::Sequential;
    let nets: [(&str, Build); 5] = [
        ("batch norm, features", |s| {
            deep_mlp(3, 8, Normalization::Batch, s)
        }),
        ("layer norm", |s| deep_mlp(3, 8, Normalization::Layer, s)),
        ("SELU", |s| {
            deep_mlp(3, 8, Normalization::SelfNormalizing, s)
        }),
        ("batch norm, images", |s| small_cnn(true, s)),
        ("LRN", |s| {
            lrn_cnn(true, cnn_book::lrn::LrnConfig::ALEXNET, s)
        }),
    ];
    for (name, build) in nets {
        let mut a = build(1);
        warm_up(&mut a, &[6, 1, 28, 28]);
        let path = dir.join("net.safetensors");
        save(&a, &path).unwrap();
        let mut b = build(2);
        load(&mut b, &path).unwrap();
        let x = random(&[3, 1, 28, 28], 5);
        assert_eq!(
            a.forward(&x, Mode::Eval).unwrap(),
            b.forward(&x, Mode::Eval).unwrap(),
            "{name}"
        );
    }
}
