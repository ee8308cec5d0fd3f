//! Naive loops against im2col + GEMM for the forward pass of a convolution
//! (chapter `06-conv-as-matrix`; chapter 16 goes much further).
//!
//! `cargo bench --bench conv` prints the medians; `cargo bench --bench conv -- --save` also
//! writes them to `benches/results/conv.json`, from which `cnn-book figures --chapter 6`
//! draws the chapter's chart. Both implementations run side by side in one process, so the
//! ratio between them is meaningful even on a noisy machine; the absolute times are not.

mod timing;

use std::hint::black_box;

use cnn_book::conv::{conv2d_naive, Conv2dConfig};
use cnn_book::im2col::conv2d_im2col;
use ndarray::{Array1, Array4};
use rand::{Rng, SeedableRng};
use timing::median_ms;

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu} ({cores} cores available)")
}

fn main() {
    let save = std::env::args().any(|a| a == "--save");
    // (name, N, C, H=W, K, F, padding): LeNet's two convolutions and a 3x3 layer, batch 16.
    let cases = [
        ("LeNet conv1 1->6, 28x28, 5x5", 16, 1, 28, 6, 5, 2),
        ("LeNet conv2 6->16, 14x14, 5x5", 16, 6, 14, 16, 5, 0),
        ("3x3 conv 16->16, 28x28", 16, 16, 28, 16, 3, 1),
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    let mut results = Vec::new();
    println!(
        "{:<32} {:>12} {:>12} {:>9}",
        "case (batch 16)", "naive ms", "im2col ms", "speed-up"
    );
    for (name, n, c, hw, k, f, p) in cases {
        let x = Array4::from_shape_fn((n, c, hw, hw), |_| rng.random_range(-1.0f32..1.0));
        let w = Array4::from_shape_fn((k, c, f, f), |_| rng.random_range(-1.0f32..1.0));
        let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0f32..1.0));
        let config = Conv2dConfig::new(1, p);
        let naive = median_ms(1, 5, || {
            black_box(conv2d_naive(x.view(), w.view(), Some(b.view()), config).unwrap());
        });
        let fast = median_ms(1, 9, || {
            black_box(conv2d_im2col(x.view(), w.view(), Some(b.view()), config).unwrap());
        });
        println!(
            "{name:<32} {naive:>12.2} {fast:>12.2} {:>8.1}x",
            naive / fast
        );
        results.push(serde_json::json!({ "name": name, "naive_ms": naive, "im2col_ms": fast }));
    }
    if save {
        let report = serde_json::json!({ "machine": machine(), "threads": 1, "cases": results });
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/results/conv.json");
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
        println!("saved {path}");
    }
}
