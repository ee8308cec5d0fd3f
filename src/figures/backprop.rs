//! Figures and numbers of chapter `08-backprop`.

use ndarray::{Array4, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{markdown_table, GenResult, Writer};
use crate::conv::{conv2d_backward_naive, Conv2dConfig};
use crate::gradcheck::check_gradients;
use crate::init::Init;
use crate::layer::{Layer, Mode, Tensor};
use crate::layers::{
    AvgPool2d, Conv2d, ConvAlgorithm, Flatten, Linear, MaxPool2d, Relu, Sequential, Sigmoid, Tanh,
};
use crate::plot::labelled_matrix;

/// The seed of the gradient checks' inputs and layers.
pub const SEED: u64 = 8;

/// An error as the power of ten it stays below: `3e-5` -> `"< 10^-4"`, written in TeX.
fn below(err: f64) -> String {
    if err == 0.0 {
        return "0 (exact)".into();
    }
    if err >= 1.0 {
        // |a - n| / (|a| + |n|) is at most 1: a zero, or the signs disagree.
        return "1 (the maximum)".into();
    }
    let k = err.log10().floor() as i32 + 1;
    format!("$< 10^{{{k}}}$")
}

/// A small CNN on 8 x 8 inputs, the same weights on every call: conv, tanh, average
/// pooling when `kinks` is false; conv, ReLU, max pooling when it is true.
fn small_cnn(kinks: bool) -> Sequential {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let net = Sequential::new().add(Conv2d::new(1, 4, 3, Init::Xavier, &mut rng).padding(1));
    let net = if kinks {
        net.add(Relu::new()).add(MaxPool2d::new(2, 2))
    } else {
        net.add(Tanh::new()).add(AvgPool2d::new(2, 2))
    };
    net.add(Flatten::new())
        .add(Linear::new(4 * 4 * 4, 10, Init::Xavier, &mut rng))
}

pub fn generate(w: &mut Writer) -> GenResult {
    w.set_seed(SEED);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let input = |shape: &[usize], rng: &mut ChaCha8Rng| {
        // Away from zero, where ReLU's kink would confuse a finite difference.
        Tensor::from_shape_simple_fn(IxDyn(shape), || {
            let v: f32 = rng.random_range(-1.0..1.0);
            if v.abs() < 0.05 {
                v + 0.1
            } else {
                v
            }
        })
    };
    let mut naive = Conv2d::new(2, 3, 3, Init::He, &mut rng)
        .stride(2)
        .padding(1);
    naive.algorithm = ConvAlgorithm::Naive;
    let mut fast = naive.clone();
    fast.algorithm = ConvAlgorithm::Im2col;
    let mut cases: Vec<(Box<dyn Layer>, Vec<usize>, f32)> = vec![
        (
            Box::new(Linear::new(8, 5, Init::Xavier, &mut rng)),
            vec![4, 8],
            1e-2,
        ),
        (Box::new(naive), vec![2, 2, 7, 7], 1e-2),
        (Box::new(fast), vec![2, 2, 7, 7], 1e-2),
        (Box::new(MaxPool2d::new(2, 2)), vec![2, 3, 6, 6], 1e-2),
        (Box::new(AvgPool2d::new(2, 2)), vec![2, 3, 6, 6], 1e-2),
        (Box::new(Relu::new()), vec![4, 10], 1e-2),
        (Box::new(Sigmoid::new()), vec![4, 10], 1e-2),
        (Box::new(Tanh::new()), vec![4, 10], 1e-2),
    ];
    // Two small networks, each checked with two steps: a smooth one (tanh, average
    // pooling) and one with kinks (ReLU, max pooling), as in the notebook.
    for kinks in [false, true] {
        for eps in [1e-2, 1e-3] {
            cases.push((Box::new(small_cnn(kinks)), vec![2, 1, 8, 8], eps));
        }
    }
    let mut rows = Vec::new();
    for (mut layer, shape, eps) in cases {
        let x = input(&shape, &mut rng);
        let report = check_gradients(layer.as_mut(), &x, Mode::Train, eps, 50, SEED)?;
        let name = match layer.name() {
            n if n.starts_with("Conv2d") => {
                let algo = if rows
                    .iter()
                    .any(|r: &Vec<String>| r[0].starts_with("Conv2d"))
                {
                    "im2col"
                } else {
                    "naive"
                };
                format!("{n} [{algo}]")
            }
            n if n.starts_with("Sequential") && n.contains("Tanh") => {
                "a small CNN: conv, tanh, average pool, flatten, linear".to_string()
            }
            n if n.starts_with("Sequential") => {
                "a small CNN: conv, ReLU, max pool, flatten, linear".to_string()
            }
            n => n,
        };
        if name.starts_with("a small CNN") {
            let kind = if name.contains("ReLU") {
                "kinked"
            } else {
                "smooth"
            };
            let step = if eps > 5e-3 { "coarse" } else { "fine" };
            let err = report.max_relative_error;
            w.number(&format!("{kind}_{step}"), below(err), err);
        }
        rows.push(vec![
            name,
            format!("{shape:?}"),
            format!("$10^{{{}}}$", eps.log10().round() as i32),
            report.checked.to_string(),
            below(report.max_relative_error),
        ]);
    }
    let table = markdown_table(
        &[
            "layer",
            "input shape",
            "step $\\varepsilon$",
            "entries checked",
            "largest relative error",
        ],
        &rows,
    );
    w.snippet(
        "gradient-checks.md",
        &table,
        "check_gradients on each layer, central differences",
    )?;

    // The slides' question: a 4x4 input, a 3x3 field. Which inputs does weight (1, 1) touch?
    let x = Array4::from_shape_fn((1, 1, 4, 4), |(_, _, r, q)| (4 * r + q + 1) as f32);
    let weight = Array4::<f32>::zeros((1, 1, 3, 3));
    let mut touched = vec![vec![None; 4]; 4];
    for i in 0..2 {
        for j in 0..2 {
            // An error of 1 at output (i, j) alone: dW then holds the inputs that output read.
            let mut dy = Array4::<f32>::zeros((1, 1, 2, 2));
            dy[[0, 0, i, j]] = 1.0;
            let g =
                conv2d_backward_naive(x.view(), weight.view(), dy.view(), Conv2dConfig::default())?;
            let value = g.weight[[0, 0, 1, 1]];
            let (r, q) = ((value as usize - 1) / 4, (value as usize - 1) % 4);
            touched[r][q] = Some(format!("δ{i}{j}"));
        }
    }
    let svg = labelled_matrix(
        "4x4 input a, 3x3 field: what w11 meets (0: never)",
        4,
        4,
        &|r, c| touched[r][c].clone().map(|d| format!("a{r}{c}·{d}")),
    )?;
    w.figure(
        "w11-contributions.svg",
        &svg,
        "4x4 input, 3x3 kernel, stride 1, no padding; weight (1, 1)",
    )?;

    // The same example with numbers: a[r][c] = 4r + c and the error map ((1, 2), (3, 4)).
    let a = Array4::from_shape_fn((1, 1, 4, 4), |(_, _, r, c)| (4 * r + c) as f32);
    let delta = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 2.0, 3.0, 4.0])?;
    let g = conv2d_backward_naive(
        a.view(),
        weight.view(),
        delta.view(),
        Conv2dConfig::default(),
    )?;
    let rows: Vec<Vec<String>> = (0..3)
        .map(|u| (0..3).map(|v| g.weight[[0, 0, u, v]].to_string()).collect())
        .collect();
    w.snippet(
        "worked-gradient.md",
        &markdown_table(&["v = 0", "v = 1", "v = 2"], &rows),
        "a[r][c] = 4r + c, delta = ((1, 2), (3, 4))",
    )?;
    w.number(
        "worked_w00",
        g.weight[[0, 0, 0, 0]].to_string(),
        g.weight[[0, 0, 0, 0]],
    );
    Ok(())
}
