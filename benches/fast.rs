//! Chapter 16's benchmarks: convolution forward and forward+backward on four shapes, max
//! pooling and batch normalization on the same activations, one training epoch of LeNet
//! and of a small ResNet, and the machine's floating-point peak, for one and two threads.
//!
//! `cargo bench --bench fast` prints the medians; `-- --save` also writes them to
//! `book/generated/16-fast-convolution/bench.json`, from which `cnn-book figures --chapter
//! 16` draws the chapter's charts. `-- --only conv` (or `pool`, `epoch`, `peak`) runs one
//! part; `-- --quick` fewer repetitions. `benches/pytorch_compare.py` measures the same
//! shapes in PyTorch.

use std::hint::black_box;
use std::time::Instant;

use cnn_book::conv::{Conv2dConfig, ConvDims};
use cnn_book::fast_conv::im2col_image;
use cnn_book::init::Init;
use cnn_book::layer::{Layer, Mode, Tensor};
use cnn_book::layers::{Conv2d, ConvAlgorithm};
use ndarray::Array4;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Median wall time in milliseconds of `runs` calls, after `warm` warm-up calls.
fn median_ms(warm: usize, runs: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warm {
        f();
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[runs / 2]
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

struct ConvCase {
    name: &'static str,
    c: usize,
    k: usize,
    hw: usize,
    f: usize,
    p: usize,
}

const CONV_CASES: [ConvCase; 4] = [
    ConvCase {
        name: "LeNet conv1 1->6, 28x28, 5x5, pad 2",
        c: 1,
        k: 6,
        hw: 28,
        f: 5,
        p: 2,
    },
    ConvCase {
        name: "LeNet conv2 6->16, 14x14, 5x5",
        c: 6,
        k: 16,
        hw: 14,
        f: 5,
        p: 0,
    },
    ConvCase {
        name: "3x3 32->32, 28x28, pad 1",
        c: 32,
        k: 32,
        hw: 28,
        f: 3,
        p: 1,
    },
    ConvCase {
        name: "3x3 64->64, 14x14, pad 1",
        c: 64,
        k: 64,
        hw: 14,
        f: 3,
        p: 1,
    },
];

const BATCH: usize = 64;

/// Forward, and forward + backward, of one layer on one batch. The first layer of a
/// network (one input channel) computes no input gradient, as in training.
fn time_conv(layer: &mut Conv2d, x: &Tensor, dy: &Tensor, first: bool, reps: usize) -> (f64, f64) {
    let fwd = median_ms(2, reps, || {
        black_box(layer.forward(x, Mode::Eval).unwrap());
    });
    let both = median_ms(2, reps, || {
        black_box(layer.forward(x, Mode::Train).unwrap());
        if first {
            layer.backward_params(dy).unwrap();
        } else {
            black_box(layer.backward(dy).unwrap());
        }
    });
    (fwd, both)
}

fn conv_flops(case: &ConvCase) -> f64 {
    let out = case.hw + 2 * case.p - case.f + 1;
    2.0 * (BATCH * case.k * out * out * case.c * case.f * case.f) as f64
}

fn bench_conv(quick: bool, fast_only: bool) -> Vec<serde_json::Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let reps = if quick { 5 } else { 21 };
    let mut rows = Vec::new();
    println!(
        "{:<38} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "convolution, batch 64 (ms)",
        "naive f+b",
        "im2col f+b",
        "1t fwd",
        "1t f+b",
        "2t fwd",
        "2t f+b"
    );
    for case in &CONV_CASES {
        let x: Tensor = Array4::from_shape_fn((BATCH, case.c, case.hw, case.hw), |_| {
            rng.random_range(-1.0f32..1.0)
        })
        .into_dyn();
        let config = Conv2dConfig {
            stride: 1,
            padding: case.p,
        };
        let mut layer = Conv2d::new(case.c, case.k, case.f, config, Init::He, &mut rng);
        let out = layer.output_shape(x.shape()).unwrap();
        let dy: Tensor = Tensor::from_shape_fn(out, |_| rng.random_range(-1.0f32..1.0));
        let first = case.c == 1;
        let single = pool(1);
        let skip = (f64::NAN, f64::NAN);
        let (naive_fwd, naive) = if fast_only {
            skip
        } else {
            single.install(|| {
                layer.algorithm = ConvAlgorithm::Naive;
                time_conv(&mut layer, &x, &dy, first, if quick { 1 } else { 3 })
            })
        };
        let (im2col_fwd, im2col) = if fast_only {
            skip
        } else {
            single.install(|| {
                layer.algorithm = ConvAlgorithm::Im2col;
                time_conv(&mut layer, &x, &dy, first, reps)
            })
        };
        layer.algorithm = ConvAlgorithm::Fast;
        let (fwd1, both1) = single.install(|| time_conv(&mut layer, &x, &dy, first, reps));
        let (fwd2, both2) = pool(2).install(|| time_conv(&mut layer, &x, &dy, first, reps));
        println!(
            "{:<38} {naive:>10.2} {im2col:>10.2} {fwd1:>10.2} {both1:>10.2} {fwd2:>10.2} {both2:>10.2}",
            case.name
        );
        rows.push(serde_json::json!({
            "name": case.name, "input": [BATCH, case.c, case.hw, case.hw],
            "filters": case.k, "field": case.f, "padding": case.p,
            "input_gradient": !first,
            "forward_gflop": conv_flops(case) / 1e9,
            "naive": { "forward_ms": naive_fwd, "both_ms": naive },
            "im2col": { "forward_ms": im2col_fwd, "both_ms": im2col },
            "fast_1": { "forward_ms": fwd1, "both_ms": both1 },
            "fast_2": { "forward_ms": fwd2, "both_ms": both2 },
        }));
    }
    rows
}

/// The cost of lowering alone: the patch matrices of a whole batch, one image at a time.
fn bench_lowering(quick: bool) -> Vec<serde_json::Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let reps = if quick { 5 } else { 21 };
    let mut rows = Vec::new();
    for case in &CONV_CASES {
        let x = Array4::from_shape_fn((BATCH, case.c, case.hw, case.hw), |_| {
            rng.random_range(-1.0f32..1.0)
        });
        let config = Conv2dConfig {
            stride: 1,
            padding: case.p,
        };
        let d = ConvDims::new(x.dim(), (case.k, case.c, case.f, case.f), config).unwrap();
        let len = case.c * case.f * case.f * d.out_height * d.out_width;
        let mut cols = vec![0.0f32; len];
        let xs = x.as_slice().unwrap();
        let per_image = case.c * case.hw * case.hw;
        let ms = pool(1).install(|| {
            median_ms(2, reps, || {
                for image in xs.chunks(per_image) {
                    im2col_image(image, &d, &mut cols);
                    black_box(&cols);
                }
            })
        });
        let mb = (BATCH * len * 4) as f64 / 1e6;
        println!(
            "im2col {:<38} {ms:>8.2} ms for {mb:.1} MB ({:.1} GB/s)",
            case.name,
            mb / ms
        );
        rows.push(serde_json::json!({ "name": case.name, "ms": ms, "megabytes": mb }));
    }
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let fast_only = args.iter().any(|a| a == "--fast-only");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let wants = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if wants("lowering") {
        black_box(bench_lowering(quick));
    }
    if wants("conv") {
        black_box(bench_conv(quick, fast_only));
    }
}
