//! Chapter 16's benchmarks: convolution forward and forward+backward on five shapes, max
//! pooling and batch normalization on the same activations, one training epoch of LeNet
//! and of a small ResNet, and the machine's floating-point peak, for one and two threads.
//!
//! `cargo bench --bench fast` prints the medians; `-- --save` also writes them to
//! `book/generated/16-fast-convolution/bench.json`, from which `cnn-book figures --chapter
//! 16` draws the chapter's charts; `-- --out FILE` writes them elsewhere. `-- --only conv`
//! (or `peak`, `lowering`, `kernels`, `pool`, `profile`, `epoch`) runs one part,
//! `-- --skip epoch` leaves one out, `-- --quick` takes fewer repetitions, `-- --fast-only`
//! leaves out the slow reference implementations and `-- --model lenet` times the epoch of
//! one model only. `-- --kernels` compares the im2col + GEMM and direct kernels pass by
//! pass, `-- --profile MODEL [--threads T]` times every layer of a model (or of one
//! residual `block`). `benches/pytorch_compare.py` measures the same shapes in PyTorch.

mod timing;

use std::hint::black_box;
use std::time::Instant;

use cnn_book::conv::{Conv2dConfig, ConvDims};
use cnn_book::fast::conv::im2col_image;
use cnn_book::init::Init;
use cnn_book::layer::{Layer, Mode, Tensor};
use cnn_book::layers::{BatchNorm2d, Conv2d, ConvAlgorithm, MaxPool2d};
use ndarray::Array4;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use timing::median_ms;

/// Shortest wall time in milliseconds of `runs` calls: for profiling, where the question
/// is what the code costs, not what the machine's neighbours cost.
fn min_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::MAX, f64::min)
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

const CONV_CASES: [ConvCase; 5] = [
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
    ConvCase {
        name: "ResNet 3x3 16->16, 28x28, pad 1",
        c: 16,
        k: 16,
        hw: 28,
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

/// Forward, and forward + backward, of one layer on one thread and then on two, as
/// `benches/pytorch_compare.py` times PyTorch: on one thread the medians of `reps`
/// forward passes and then of `reps` forward + backward passes (each after two warm-up
/// runs), then the same on two threads. The pools are made one after the other: an idle
/// rayon pool's threads spin for a while before they sleep, and a two-thread pool taking
/// turns with a one-thread pool slowed the one-thread runs (by up to 15% in a test on this
/// two-core machine). Returns `[(fwd, both) on 1 thread, (fwd, both) on 2 threads]`.
fn one_then_two(
    reps: usize,
    layer: &mut dyn Layer,
    x: &Tensor,
    dy: &Tensor,
    first: bool,
) -> [(f64, f64); 2] {
    [1, 2].map(|threads| {
        pool(threads).install(|| {
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
        })
    })
}

/// The layer of one benchmark case (He-initialised), a random batch and a random output
/// gradient for it.
fn conv_case(case: &ConvCase, rng: &mut ChaCha8Rng) -> (Conv2d, Tensor, Tensor) {
    let x: Tensor = Array4::from_shape_fn((BATCH, case.c, case.hw, case.hw), |_| {
        rng.random_range(-1.0f32..1.0)
    })
    .into_dyn();
    let layer = Conv2d::new(case.c, case.k, case.f, Init::He, rng).padding(case.p);
    let out = layer.output_shape(x.shape()).unwrap();
    let dy: Tensor = Tensor::from_shape_fn(out, |_| rng.random_range(-1.0f32..1.0));
    (layer, x, dy)
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
        let (mut layer, x, dy) = conv_case(case, &mut rng);
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
        drop(single);
        layer.algorithm = ConvAlgorithm::Fast;
        let [(fwd1, both1), (fwd2, both2)] = one_then_two(reps, &mut layer, &x, &dy, first);
        let d = ConvDims::new(
            (BATCH, case.c, case.hw, case.hw),
            (case.k, case.c, case.f, case.f),
            Conv2dConfig::new(1, case.p),
        )
        .unwrap();
        let kernel = cnn_book::fast::conv::kernel_name(&d, layer.fast_kernel());
        println!(
            "{:<38} {naive:>10.2} {im2col:>10.2} {fwd1:>10.2} {both1:>10.2} {fwd2:>10.2} {both2:>10.2}  {kernel}",
            case.name
        );
        rows.push(serde_json::json!({
            "name": case.name, "input": [BATCH, case.c, case.hw, case.hw],
            "kernel": kernel,
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
        let config = Conv2dConfig::new(1, case.p);
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

/// The pooling and batch-normalization layers of [`bench_pool_bn`]: name, layer, input and
/// output gradient (the same random numbers on every call).
type LayerCase = (String, Box<dyn Layer>, Tensor, Tensor);

fn pool_bn_cases() -> Vec<LayerCase> {
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let mut cases = Vec::new();
    for (c, hw) in [(6, 28), (32, 28), (64, 14)] {
        let x: Tensor =
            Array4::from_shape_fn((BATCH, c, hw, hw), |_| rng.random_range(-1.0f32..1.0))
                .into_dyn();
        let layers: Vec<(String, Box<dyn Layer>)> = vec![
            (
                format!("max pool 2x2 on {c}x{hw}x{hw}"),
                Box::new(MaxPool2d::new(2, 2)),
            ),
            (
                format!("batch norm on {c}x{hw}x{hw}"),
                Box::new(BatchNorm2d::new(c)),
            ),
        ];
        for (name, layer) in layers {
            let out = layer.output_shape(x.shape()).unwrap();
            let dy: Tensor = Tensor::from_shape_fn(out, |_| rng.random_range(-1.0f32..1.0));
            cases.push((name, layer, x.clone(), dy));
        }
    }
    cases
}

/// Max pooling (2x2, stride 2) and batch normalization, forward + backward, on the
/// activations the convolutions above produce.
fn bench_pool_bn(quick: bool) -> Vec<serde_json::Value> {
    let reps = if quick { 5 } else { 21 };
    let mut rows = Vec::new();
    println!(
        "{:<38} {:>10} {:>10} {:>10} {:>10}",
        "layer, batch 64 (ms)", "1t fwd", "1t f+b", "2t fwd", "2t f+b"
    );
    for (name, mut layer, x, dy) in pool_bn_cases() {
        let [(f1, b1), (f2, b2)] = one_then_two(reps, layer.as_mut(), &x, &dy, false);
        println!("{name:<38} {f1:>10.2} {b1:>10.2} {f2:>10.2} {b2:>10.2}");
        let input = x.shape().to_vec();
        rows.push(serde_json::json!({
            "name": name, "input": input,
            "fast_1": { "forward_ms": f1, "both_ms": b1 },
            "fast_2": { "forward_ms": f2, "both_ms": b2 },
        }));
    }
    rows
}

/// `--serve`: the partner of `benches/pytorch_compare.py`, which takes turns with PyTorch
/// a few runs at a time. Reads commands from standard input, one per line, `conv I T PASS
/// RUNS` (convolution I of [`CONV_CASES`]) or `layer I T PASS RUNS` (layer I of
/// [`pool_bn_cases`]), with T threads, PASS `forward` or `both`; runs the pass once to warm
/// up and then RUNS times, and prints the times in milliseconds on one line.
fn serve() {
    use std::io::{BufRead, Write};
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut convs: Vec<LayerCase> = CONV_CASES
        .iter()
        .map(|case| {
            let (layer, x, dy) = conv_case(case, &mut rng);
            (
                case.name.to_string(),
                Box::new(layer) as Box<dyn Layer>,
                x,
                dy,
            )
        })
        .collect();
    let mut layers = pool_bn_cases();
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("a command");
        let words: Vec<&str> = line.split_whitespace().collect();
        let [kind, index, threads, pass, runs] = words[..] else {
            panic!("expected `conv|layer INDEX THREADS forward|both RUNS`, got {line:?}");
        };
        let number = |w: &str| -> usize { w.parse().expect("a number") };
        let cases = if kind == "conv" {
            &mut convs
        } else {
            &mut layers
        };
        let (_, layer, x, dy) = &mut cases[number(index)];
        // The first layer of a network (one input channel) computes no input gradient.
        let first = x.shape()[1] == 1;
        let mut run = || {
            let start = Instant::now();
            if pass == "forward" {
                black_box(layer.forward(x, Mode::Eval).unwrap());
            } else {
                black_box(layer.forward(x, Mode::Train).unwrap());
                if first {
                    layer.backward_params(dy).unwrap();
                } else {
                    black_box(layer.backward(dy).unwrap());
                }
            }
            start.elapsed().as_secs_f64() * 1e3
        };
        // A fresh pool per request, dropped after it: no idle threads of another pool
        // around while this one runs.
        let times: Vec<String> = pool(number(threads)).install(|| {
            run();
            (0..number(runs)).map(|_| format!("{:.4}", run())).collect()
        });
        writeln!(out, "{}", times.join(" ")).expect("standard output");
        out.flush().expect("standard output");
    }
}

/// One epoch of training on the 60,000 Fashion-MNIST training images (batch 64, SGD with
/// momentum), as `cnn-book train` runs it; the test set is cut to one batch so the time is
/// the training pass.
fn bench_epochs(models: &[&str], threads: &[usize]) -> Vec<serde_json::Value> {
    use cnn_book::data::fashion_mnist::{load, locate, Split};
    use cnn_book::train::{pixel_statistics, standardise, train, Examples, TrainConfig};
    let dir = match locate(None) {
        Ok(dir) => dir,
        Err(e) => {
            println!("skipping the epochs: {e}");
            return Vec::new();
        }
    };
    let train_set = load(&dir, Split::Train).expect("training images");
    let test_set = load(&dir, Split::Test).expect("test images");
    let (mean, std) = pixel_statistics(&train_set);
    let train_x = standardise(&train_set, mean, std);
    let test_x = standardise(&test_set, mean, std).slice_move(ndarray::s![..BATCH, .., .., ..]);
    let train_y: Vec<usize> = train_set.labels.iter().map(|&l| l as usize).collect();
    let test_y: Vec<usize> = test_set.labels[..BATCH]
        .iter()
        .map(|&l| l as usize)
        .collect();
    let config = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    let mut rows = Vec::new();
    for &model in models {
        for &t in threads {
            let mut net = cnn_book::models::by_name(model, config.seed).unwrap();
            let started = Instant::now();
            let mut training = config.training();
            training.test = Some(Examples::new(&test_x, &test_y).unwrap());
            let stats = pool(t)
                .install(|| {
                    train(
                        &mut net,
                        &mut config.optimizer().unwrap(),
                        Examples::new(&train_x, &train_y).unwrap(),
                        &training,
                        |_| {},
                    )
                })
                .unwrap();
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "one epoch of {model:<14} {t} thread(s): {seconds:>7.1} s (train loss {:.3})",
                stats[0].train_loss
            );
            rows.push(serde_json::json!({
                "model": model, "threads": t, "seconds": seconds,
                "train_loss": stats[0].train_loss, "images": train_y.len(),
            }));
        }
    }
    rows
}

/// Where the time of one training step goes: forward and backward of every top-level layer
/// of a model on one batch of 64, one thread.
fn bench_profile(model: &str, threads: usize) -> Vec<serde_json::Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let (mut net, x): (cnn_book::layers::Sequential, Tensor) = if model == "block" {
        let net = cnn_book::layers::Sequential::new()
            .add(Conv2d::new(16, 16, 3, Init::He, &mut rng).padding(1))
            .add(BatchNorm2d::new(16))
            .add(cnn_book::layers::Relu::new())
            .add(Conv2d::new(16, 16, 3, Init::He, &mut rng).padding(1))
            .add(BatchNorm2d::new(16));
        (
            net,
            Array4::from_shape_fn((BATCH, 16, 28, 28), |_| rng.random_range(-1.0f32..1.0))
                .into_dyn(),
        )
    } else {
        let net = cnn_book::models::by_name(model, 9).unwrap();
        (
            net,
            Array4::from_shape_fn((BATCH, 1, 28, 28), |_| rng.random_range(-1.0f32..1.0))
                .into_dyn(),
        )
    };
    pool(threads).install(|| {
        let mut out = Vec::new();
        let mut inputs = vec![x.clone()];
        let mut forward = Vec::new();
        for i in 0..net.len() {
            let layer = net.layer_mut(i).unwrap();
            let input = inputs.last().unwrap().clone();
            let mut y = None;
            forward.push(min_ms(15, || {
                y = Some(layer.forward(&input, Mode::Train).unwrap())
            }));
            inputs.push(y.unwrap());
        }
        let mut grad: Tensor = Tensor::from_shape_fn(inputs.last().unwrap().raw_dim(), |_| 0.01);
        let mut rows = Vec::new();
        for i in (0..net.len()).rev() {
            let layer = net.layer_mut(i).unwrap();
            layer.forward(&inputs[i], Mode::Train).unwrap();
            let mut dx = None;
            let back = min_ms(15, || dx = Some(layer.backward(&grad).unwrap()));
            grad = dx.unwrap();
            rows.push((i, layer.name(), forward[i], back));
        }
        rows.reverse();
        let (mut tf, mut tb) = (0.0, 0.0);
        for (i, name, f, b) in rows {
            let short: String = name.chars().take(60).collect();
            println!("{i:>3} {short:<60} {f:>8.2} {b:>8.2}");
            tf += f;
            tb += b;
            out.push(serde_json::json!({ "layer": name, "forward_ms": f, "backward_ms": b }));
        }
        println!(
            "    {:<60} {tf:>8.2} {tb:>8.2}",
            "total forward / backward (ms)"
        );
        out
    })
}

/// The floating-point peak: independent chains of fused multiply-adds, as wide as the CPU
/// allows, on `threads` threads at once. Returns GFLOP/s and the instruction set used.
fn peak_gflops(threads: usize) -> (f64, &'static str) {
    const ITERS: usize = 20_000_000;
    let (per_call, isa): (f64, &'static str) = probe::flops_per_iteration();
    let run = || {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| s.spawn(|| probe::fma_chains(ITERS)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum::<f32>()
        })
    };
    black_box(run());
    let ms = median_ms(1, 5, || {
        black_box(run());
    });
    (
        threads as f64 * ITERS as f64 * per_call / (ms * 1e-3) / 1e9,
        isa,
    )
}

// ANCHOR: fma_probe
mod probe {
    //! Twelve independent accumulators, so that the two FMA units of a core never wait for
    //! a result (an FMA takes four cycles; twelve chains cover 2 x 4 with room to spare).
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn chains_avx512(iters: usize) -> f32 {
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); 12];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, &x| _mm512_add_ps(s, x));
        _mm512_reduce_add_ps(sum)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn chains_avx2(iters: usize) -> f32 {
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); 12];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut lanes = [0.0f32; 8];
        for x in acc {
            let mut v = [0.0f32; 8];
            // Element-wise sum through an array: no pointer intrinsics needed.
            v.iter_mut()
                .zip(0..8)
                .for_each(|(slot, i)| *slot = extract(x, i));
            lanes.iter_mut().zip(v).for_each(|(l, v)| *l += v);
        }
        lanes.iter().sum()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn extract(x: __m256, i: usize) -> f32 {
        let halves: [__m128; 2] = [_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x)];
        let h = halves[i / 4];
        let shifted = match i % 4 {
            0 => h,
            1 => _mm_shuffle_ps::<0b01_01_01_01>(h, h),
            2 => _mm_shuffle_ps::<0b10_10_10_10>(h, h),
            _ => _mm_shuffle_ps::<0b11_11_11_11>(h, h),
        };
        _mm_cvtss_f32(shifted)
    }

    /// FLOPs per loop iteration (12 chains x lanes x 2) and the instruction set.
    pub fn flops_per_iteration() -> (f64, &'static str) {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                return (12.0 * 16.0 * 2.0, "AVX-512 FMA");
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return (12.0 * 8.0 * 2.0, "AVX2 FMA");
            }
        }
        (12.0 * 2.0, "scalar mul_add")
    }

    pub fn fma_chains(iters: usize) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has just been checked for AVX-512F.
                return unsafe { chains_avx512(iters) };
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has just been checked for AVX2 and FMA.
                return unsafe { chains_avx2(iters) };
            }
        }
        let mut acc = [1.0f32; 12];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = x.mul_add(0.999_999, 1e-7);
            }
        }
        acc.iter().sum()
    }
}
// ANCHOR_END: fma_probe

fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or_else(
            || std::env::consts::ARCH.to_string(),
            |m| m.trim().to_string(),
        );
    let rustc =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
    serde_json::json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "rustc": rustc,
        "crate": format!("cnn-book {}", env!("CARGO_PKG_VERSION")),
        "gemm": "matrixmultiply 0.3 (via ndarray 0.17), AVX-512 kernel enabled",
        "isa": cnn_book::fast::simd::active().name(),
        "isa_detected": cnn_book::fast::simd::detected().name(),
        "isa_description": cnn_book::fast::simd::active().describe(),
    })
}

/// The kernels of the fast path side by side on every shape, one thread: forward, weight
/// gradient alone and the whole backward pass, each the shortest of 15 runs, the kernels
/// taking turns so that all see the same machine. Where Winograd's F(2 x 2, 3 x 3) does
/// not apply, its column times the direct kernels again (`winograd_applies` is false).
fn compare_kernels() -> Vec<serde_json::Value> {
    use cnn_book::fast::conv::FastKernel;
    const KERNELS: [FastKernel; 3] = [FastKernel::Gemm, FastKernel::Direct, FastKernel::Winograd];
    let mut rows = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for case in &CONV_CASES {
        let (layer, x, dy) = conv_case(case, &mut rng);
        let first = case.c == 1;
        let mut layers = KERNELS.map(|kernel| {
            let mut layer = layer.clone();
            layer.set_fast_kernel(kernel);
            layer
        });
        // best[kernel] = [forward, weight gradient, backward]
        let mut best = [[f64::MAX; 3]; 3];
        pool(1).install(|| {
            for _ in 0..15 {
                for (layer, best) in layers.iter_mut().zip(best.iter_mut()) {
                    best[0] = best[0].min(min_ms(1, || {
                        black_box(layer.forward(&x, Mode::Train).unwrap());
                    }));
                    best[1] = best[1].min(min_ms(1, || {
                        layer.backward_params(&dy).unwrap();
                    }));
                    if !first {
                        best[2] = best[2].min(min_ms(1, || {
                            black_box(layer.backward(&dy).unwrap());
                        }));
                    }
                }
            }
        });
        let mut row = Vec::new();
        let d = ConvDims::new(
            (BATCH, case.c, case.hw, case.hw),
            (case.k, case.c, case.f, case.f),
            Conv2dConfig::new(1, case.p),
        )
        .unwrap();
        let winograd = cnn_book::fast::conv::uses_winograd(&d, FastKernel::Winograd);
        let mut json = serde_json::json!({
            "name": case.name,
            "winograd_applies": winograd,
            "isa": cnn_book::fast::simd::active().name(),
        });
        for (kernel, [f, p, b]) in KERNELS.iter().zip(best) {
            let b = if first { p } else { b };
            let ran = cnn_book::fast::conv::kernel_name(&d, *kernel);
            row.push(format!("{ran}: fwd {f:.2} bwd {b:.2} (dW {p:.2})"));
            json[format!("{kernel:?}").to_lowercase()] =
                serde_json::json!({ "forward_ms": f, "backward_ms": b, "weight_grad_ms": p });
        }
        println!("{:<36} {}", case.name, row.join("   "));
        rows.push(json);
    }
    rows
}

/// The parts of the benchmark that `--only` and `--skip` name.
const PARTS: [&str; 7] = [
    "peak", "lowering", "conv", "kernels", "pool", "profile", "epoch",
];

const USAGE: &str = "\
cargo bench --bench fast -- [OPTIONS]

    (no option)        every part, printed; about ten minutes
    --save             also write book/generated/16-fast-convolution/bench.json
    --out FILE         write the results to FILE instead
    --only PART        one part: peak, lowering, conv, kernels, pool, profile or epoch
    --skip PART        leave a part out (may be repeated)
    --quick            fewer repetitions (and the LeNet epoch only)
    --fast-only        leave out the slow reference implementations
    --model MODEL      the epoch of one model only (lenet, lenet-classic, resnet-small)
    --kernels          im2col + GEMM against the direct kernels, pass by pass
    --profile MODEL|block [--threads T]
                       every layer of a model (or of one residual block), timed
    --serve            answer timing requests on standard input (for pytorch_compare.py)
";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return;
    }
    // A misspelt part would otherwise run nothing and say nothing.
    for w in args.windows(2) {
        if (w[0] == "--only" || w[0] == "--skip") && !PARTS.contains(&w[1].as_str()) {
            eprintln!(
                "unknown part '{}' for {}: one of {}",
                w[1],
                w[0],
                PARTS.join(", ")
            );
            std::process::exit(2);
        }
    }
    let quick = args.iter().any(|a| a == "--quick");
    let fast_only = args.iter().any(|a| a == "--fast-only");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let skipped: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--skip")
        .map(|w| w[1].as_str())
        .collect();
    let wants = |part: &str| only.as_deref().is_none_or(|o| o == part) && !skipped.contains(&part);
    let save = args.iter().any(|a| a == "--save");
    if args.iter().any(|a| a == "--serve") {
        serve();
        return;
    }
    if args.iter().any(|a| a == "--kernels") {
        compare_kernels();
        return;
    }
    if let Some(model) = args
        .iter()
        .position(|a| a == "--profile")
        .and_then(|i| args.get(i + 1))
    {
        let threads = args
            .iter()
            .position(|a| a == "--threads")
            .and_then(|i| args.get(i + 1))
            .map_or(1, |t| t.parse().expect("--threads takes a number"));
        bench_profile(model, threads);
        return;
    }
    let mut report = serde_json::json!({ "machine": machine(), "batch": BATCH });
    if wants("peak") {
        let (one, isa) = peak_gflops(1);
        let (two, _) = peak_gflops(2);
        println!("peak ({isa}): {one:.0} GFLOP/s on one thread, {two:.0} on two");
        report["peak"] = serde_json::json!({ "isa": isa, "gflops_1": one, "gflops_2": two });
    }
    if wants("lowering") {
        report["lowering"] = bench_lowering(quick).into();
    }
    if wants("conv") {
        report["conv"] = bench_conv(quick, fast_only).into();
    }
    if wants("kernels") {
        println!("im2col + GEMM and direct kernels, one thread, shortest of 15 (ms)");
        report["kernels"] = compare_kernels().into();
    }
    if wants("pool") {
        report["pool_bn"] = bench_pool_bn(quick).into();
    }
    if wants("profile") {
        println!(
            "one residual block of the small ResNet, batch 64, one thread (shortest of 15, ms)"
        );
        report["profile_block"] = bench_profile("block", 1).into();
    }
    if wants("epoch") {
        let one = args
            .iter()
            .position(|a| a == "--model")
            .and_then(|i| args.get(i + 1));
        let models = match one {
            Some(model) => vec![model.as_str()],
            None if quick => vec!["lenet"],
            None => vec!["lenet", "resnet-small"],
        };
        report["epochs"] = bench_epochs(&models, &[1, 2]).into();
    }
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1).cloned());
    let path = match (save, out) {
        (_, Some(path)) => Some(std::path::PathBuf::from(path)),
        (true, None) => Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("book/generated/16-fast-convolution/bench.json"),
        ),
        (false, None) => None,
    };
    if let Some(path) = path {
        std::fs::create_dir_all(path.parent().expect("a directory")).expect("a directory");
        let text = serde_json::to_string_pretty(&report).expect("JSON") + "\n";
        std::fs::write(&path, text).expect("writable results");
        println!("wrote {}", path.display());
    }
}
