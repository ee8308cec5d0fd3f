//! The library's layers against PyTorch, forward and backward, on the inputs and with the
//! results that `tests/pytorch/reference.py` recorded from PyTorch in
//! `tests/data/pytorch-reference.json` (PyTorch is not needed to run this test; the
//! script and its output are committed). Parameters are set to PyTorch's and loaded by
//! name, buffers compared by name: the state dicts share PyTorch's names.

mod common;

use std::collections::BTreeMap;

use cnn_book::layer::{Layer, Mode, Tensor};
use cnn_book::layers::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, LayerNorm, LocalResponseNorm, MaxPool2d, Selu,
};
use cnn_book::lrn::LrnConfig;
use cnn_book::model::{load_state_dict, named_buffers, named_params, StateDict};
use cnn_book::shape::Rounding;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    mode: String,
    input_shape: Vec<usize>,
    input: Vec<f32>,
    output_shape: Vec<usize>,
    output: Vec<f32>,
    grad_output: Vec<f32>,
    grad_input: Vec<f32>,
    params: BTreeMap<String, Vec<f32>>,
    param_grads: BTreeMap<String, Vec<f32>>,
    buffers: BTreeMap<String, Vec<f32>>,
}

#[derive(Deserialize)]
struct Reference {
    torch: String,
    cases: Vec<Case>,
}

/// The layer that computes what PyTorch's module of case `name` computes.
fn layer(name: &str) -> Box<dyn Layer> {
    let mut rng = common::rng(0); // weights are replaced by PyTorch's
    match name {
        "lrn_alexnet" => Box::new(LocalResponseNorm::new(LrnConfig::from_pytorch(
            5, 5e-4, 0.75, 2.0,
        ))),
        "lrn_strong" => Box::new(LocalResponseNorm::new(LrnConfig::from_pytorch(
            3, 1.5, 0.75, 1.0,
        ))),
        "bn2d_train" | "bn2d_eval" => Box::new(BatchNorm2d::new(3)),
        "bn1d_train" | "bn1d_eval" => Box::new(BatchNorm1d::new(5)),
        "layernorm_vectors" => Box::new(LayerNorm::new(&[6])),
        "layernorm_images" => Box::new(LayerNorm::new(&[2, 3, 3])),
        "selu" => Box::new(Selu::new()),
        "maxpool_3s2p1" => Box::new(MaxPool2d::new(3, 2).padding(1)),
        "maxpool_3s2_ceil" => Box::new(MaxPool2d::new(3, 2).rounding(Rounding::Ceil)),
        "avgpool_3s2p1" => Box::new(AvgPool2d::new(3, 2).padding(1)),
        "avgpool_3s2p1_exclude" => Box::new(AvgPool2d::new(3, 2).padding(1).excluding_padding()),
        "avgpool_2s2_ceil" => Box::new(AvgPool2d::new(2, 2).rounding(Rounding::Ceil)),
        "conv_3s2p1" => Box::new(
            Conv2d::new(2, 3, 3, cnn_book::init::Init::He, &mut rng)
                .stride(2)
                .padding(1),
        ),
        "conv_1x1s2_nobias" => Box::new(
            Conv2d::new(2, 4, 1, cnn_book::init::Init::He, &mut rng)
                .stride(2)
                .without_bias(),
        ),
        other => panic!("no layer for PyTorch case {other}"),
    }
}

fn tensor(shape: &[usize], values: &[f32]) -> Tensor {
    Tensor::from_shape_vec(shape.to_vec(), values.to_vec()).unwrap()
}

/// Asserts that `got` and PyTorch's `expected` agree to `tol` relative to their magnitude.
fn assert_agrees(got: &[f32], expected: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths");
    let scale = expected.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in got.iter().zip(expected).enumerate() {
        assert!(
            (a - b).abs() <= tol * scale,
            "{what}[{i}]: {a} here, {b} in PyTorch"
        );
    }
}

#[test]
fn layers_compute_what_pytorch_computes() {
    let text = std::fs::read_to_string("tests/data/pytorch-reference.json").unwrap();
    let reference: Reference = serde_json::from_str(&text).unwrap();
    assert!(
        reference.torch.starts_with('2'),
        "recorded with PyTorch {}",
        reference.torch
    );
    assert_eq!(reference.cases.len(), 16);
    for case in &reference.cases {
        let name = &case.name;
        let mut layer = layer(name);
        // PyTorch's parameters, and for evaluation its buffers too, loaded by name.
        let mut state: StateDict = named_params(layer.as_ref())
            .into_iter()
            .map(|(n, p)| (n.clone(), tensor(p.value.shape(), &case.params[&n])))
            .collect();
        let mode = if case.mode == "train" {
            Mode::Train
        } else {
            Mode::Eval
        };
        for (n, b) in named_buffers(layer.as_ref()) {
            let value = if mode == Mode::Eval {
                tensor(b.shape(), &case.buffers[&n])
            } else {
                b.clone()
            };
            state.insert(n, value);
        }
        load_state_dict(layer.as_mut(), &state).unwrap();
        let x = tensor(&case.input_shape, &case.input);
        if mode == Mode::Train && name.starts_with("bn") {
            // The recording ran one training pass before the one it recorded.
            layer.forward(&x, Mode::Train).unwrap();
        }
        let y = layer.forward(&x, mode).unwrap();
        assert_eq!(
            y.shape(),
            case.output_shape.as_slice(),
            "{name}: output shape"
        );
        assert_agrees(
            y.as_standard_layout().as_slice().unwrap(),
            &case.output,
            1e-5,
            &format!("{name} output"),
        );
        let dy = tensor(&case.output_shape, &case.grad_output);
        cnn_book::layer::zero_grads(layer.as_mut());
        let dx = layer.backward(&dy).unwrap();
        assert_agrees(
            dx.as_standard_layout().as_slice().unwrap(),
            &case.grad_input,
            1e-4,
            &format!("{name} input gradient"),
        );
        for (n, p) in named_params(layer.as_ref()) {
            assert_agrees(
                p.grad.as_standard_layout().as_slice().unwrap(),
                &case.param_grads[&n],
                1e-4,
                &format!("{name} gradient of {n}"),
            );
        }
        for (n, b) in named_buffers(layer.as_ref()) {
            assert_agrees(
                b.as_slice().unwrap(),
                &case.buffers[&n],
                1e-5,
                &format!("{name} buffer {n}"),
            );
        }
    }
}
