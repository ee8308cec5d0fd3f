//! Chapter 16 and its appendix: the direct and Winograd kernels on every instruction set
//! this CPU has. Each path runs the same layers; the portable path is held to the naive
//! loops of chapter 5, and every other path to the portable one, bit for bit (the kernels
//! do the same fused multiply-adds in the same order whatever the vector width).
//!
//! A path this CPU cannot run is reported as *ignored*, with the reason, never passed
//! without running: the build script marks which instruction sets the machine has
//! (`cpu_avx2`, `cpu_avx512`). On a machine with AVX-512 all three paths run.

mod common;

use cnn_book::conv::{conv2d_backward_naive, conv2d_naive, Conv2dConfig};
use cnn_book::fast::conv::{conv2d_backward_fast, conv2d_fast, ConvScratch, FastKernel};
use cnn_book::fast::simd::{self, Isa};
use ndarray::{Array1, Array4};
use rand::Rng;

use common::{assert_close, random4};

/// Layers that reach every tile of the kernels: `(N, C, K, H, W, F, P)`.
const CASES: [(usize, usize, usize, usize, usize, usize, usize); 24] = [
    // Flat forward tiles of 8, 6 and 4 filters (AVX-512) or 6 and 4 (elsewhere), a partial
    // last block of filters (5, 7), LeNet's layers, garbage columns; flat weight gradients.
    (3, 1, 6, 28, 28, 5, 2),
    (3, 6, 16, 14, 14, 5, 0),
    (2, 3, 8, 9, 11, 3, 1),
    (2, 4, 5, 7, 6, 3, 1),
    (1, 7, 7, 12, 10, 3, 2),
    // Wide forward (64 filters, and 32 or 16 without AVX-512) with Winograd's even
    // outputs and without (odd); the input gradient wide (64 channels); wide weight
    // gradients for blocks of 64, 32 and 16.
    (2, 64, 64, 6, 8, 3, 1),
    (2, 64, 64, 7, 5, 3, 1),
    (2, 5, 32, 6, 7, 3, 1),
    (1, 3, 128, 9, 9, 3, 1),
    (2, 16, 16, 14, 14, 5, 0),
    // 143 positions and 576 taps: partial blocks of positions and of taps.
    (1, 64, 64, 13, 11, 3, 1),
    // 3 x 3 layers of the small ResNet's widths with even outputs (16 filters: the direct
    // kernels; 32: Winograd's blocks of 32), and multiples of 16 and 32 filters.
    (2, 16, 16, 8, 10, 3, 1),
    (1, 8, 32, 6, 6, 3, 1),
    (2, 32, 48, 4, 6, 3, 1),
    (1, 3, 96, 6, 4, 3, 1),
    // Winograd's input transform on rows of 16 tiles and more (32 and 36 outputs wide: one
    // whole vector of tiles, and a second one that spills into the next row).
    (1, 4, 32, 4, 32, 3, 1),
    (2, 3, 64, 6, 36, 3, 1),
    // Rows of 14 tiles (28 outputs wide, as in the 32-channel layer of 28 x 28): 16 tiles
    // at a time on every instruction set, the last row's reads past the end of the data.
    // (Rows of up to 7 tiles take AVX-512's half vectors: the 6 to 10 outputs wide above.)
    (2, 5, 32, 6, 28, 3, 1),
    // The sliding weight-gradient tiles of 16 filters (AVX-512): 9 filter rows of 3 taps
    // for tiles of 6 rows, and 10 of 5 taps for tiles of 3, with outputs only 2 wide
    // (every step of a row at one of its ends).
    (2, 3, 16, 5, 9, 3, 1),
    (2, 2, 16, 6, 4, 5, 1),
    // The sliding forward tiles (AVX-512, 16 or 48 filters, where the flat layout computes
    // over a quarter more outputs than the real ones): 14 positions by 3 taps (and the
    // input gradient of 16 channels), 14 by 5, and 10 by 5 for 48 filters on rows of 19,
    // whose last tile overlaps the one before. Rows of 28 in 30 take the flat tile.
    (1, 16, 16, 2, 14, 3, 1),
    (1, 16, 16, 3, 28, 3, 1),
    (1, 2, 16, 6, 18, 5, 0),
    (1, 2, 48, 4, 19, 5, 2),
];

/// The forward output, input, weight and bias gradients of every case on `isa` with
/// `kernel`.
fn run(isa: Isa, kernel: FastKernel) -> Vec<(String, [Array4<f32>; 3], Array1<f32>)> {
    let mut rng = common::rng(1616);
    CASES
        .iter()
        .map(|&(n, c, k, h, w, f, p)| {
            let x = random4(&mut rng, (n, c, h, w));
            let wt = random4(&mut rng, (k, c, f, f));
            let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0..1.0));
            let config = Conv2dConfig::new(1, p);
            let mut scratch = ConvScratch::default();
            scratch.kernel = kernel;
            scratch.isa = Some(isa);
            let y = conv2d_fast(x.view(), wt.view(), Some(b.view()), config, &mut scratch).unwrap();
            let dy = random4(&mut rng, y.dim());
            let g =
                conv2d_backward_fast(x.view(), wt.view(), dy.view(), config, true, &mut scratch)
                    .unwrap();
            let name = format!("{kernel:?} x {:?} w {:?} P {p}", x.dim(), wt.dim());
            (name, [y, g.input.unwrap(), g.weight], g.bias)
        })
        .collect()
}

/// The naive loops' results for the same cases (same random draws as [`run`]).
fn naive() -> Vec<([Array4<f32>; 3], Array1<f32>)> {
    let mut rng = common::rng(1616);
    CASES
        .iter()
        .map(|&(n, c, k, h, w, f, p)| {
            let x = random4(&mut rng, (n, c, h, w));
            let wt = random4(&mut rng, (k, c, f, f));
            let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0..1.0));
            let config = Conv2dConfig::new(1, p);
            let y = conv2d_naive(x.view(), wt.view(), Some(b.view()), config).unwrap();
            let dy = random4(&mut rng, y.dim());
            let g = conv2d_backward_naive(x.view(), wt.view(), dy.view(), config).unwrap();
            ([y, g.input, g.weight], g.bias)
        })
        .collect()
}

const KERNELS: [FastKernel; 2] = [FastKernel::Direct, FastKernel::Winograd];

#[test]
fn portable_kernels_equal_the_naive_loops() {
    let expected = naive();
    for kernel in KERNELS {
        for ((name, got, db), (want, want_db)) in run(Isa::Portable, kernel).iter().zip(&expected) {
            for (what, (g, w)) in ["forward", "input gradient", "weight gradient"]
                .iter()
                .zip(got.iter().zip(want))
            {
                assert_close(g, w, 1e-4, &format!("portable {name}: {what}"));
            }
            assert_close(
                db,
                want_db,
                1e-4,
                &format!("portable {name}: bias gradient"),
            );
        }
    }
    println!(
        "portable kernels: {} layers x {} kernels equal the naive loops",
        CASES.len(),
        KERNELS.len()
    );
}

/// Every result of `isa` has the bits of the portable path's.
fn same_bits_as_portable(isa: Isa) {
    assert!(
        isa.available(),
        "the build script found {} on this machine, but the CPU running the tests has not: \
         rebuild here (cargo clean -p cnn-book)",
        isa.name()
    );
    for kernel in KERNELS {
        let portable = run(Isa::Portable, kernel);
        for ((name, got, db), (_, want, want_db)) in run(isa, kernel).iter().zip(&portable) {
            for (what, (g, w)) in ["forward", "input gradient", "weight gradient"]
                .iter()
                .zip(got.iter().zip(want))
            {
                let differ = g
                    .iter()
                    .zip(w)
                    .filter(|(a, b)| a.to_bits() != b.to_bits())
                    .count();
                assert_eq!(
                    differ,
                    0,
                    "{} {name}: {what}: {differ} entries differ from the portable path",
                    isa.name()
                );
            }
            assert_eq!(db, want_db, "{} {name}: bias gradient", isa.name());
        }
    }
    println!(
        "{} kernels ({}): {} layers x {} kernels, bit-identical to the portable path",
        isa.name(),
        isa.describe(),
        CASES.len(),
        KERNELS.len()
    );
}

#[test]
#[cfg_attr(
    not(cpu_avx2),
    ignore = "this CPU has no AVX2 + FMA: the AVX2 path cannot run here"
)]
fn avx2_kernels_give_the_bits_of_the_portable_ones() {
    same_bits_as_portable(Isa::Avx2);
}

#[test]
#[cfg_attr(
    not(cpu_avx512),
    ignore = "this CPU has no AVX-512F: the AVX-512 path cannot run here"
)]
fn avx512_kernels_give_the_bits_of_the_portable_ones() {
    same_bits_as_portable(Isa::Avx512);
}

#[test]
#[cfg_attr(
    cpu_avx512,
    ignore = "this CPU has every instruction set: none to refuse"
)]
fn asking_for_an_instruction_set_the_cpu_lacks_is_an_error() {
    let missing = Isa::ALL
        .into_iter()
        .find(|isa| !isa.available())
        .expect("a CPU without AVX-512 lacks at least that");
    let mut scratch = ConvScratch::default();
    scratch.isa = Some(missing);
    let x = Array4::<f32>::zeros((1, 1, 5, 5));
    let w = Array4::<f32>::zeros((2, 1, 3, 3));
    let err = conv2d_fast(
        x.view(),
        w.view(),
        None,
        Conv2dConfig::new(1, 1),
        &mut scratch,
    )
    .unwrap_err();
    assert!(err.to_string().contains(missing.name()), "{err}");
    println!(
        "asked for {}, refused: {err}; this CPU's widest is {}",
        missing.name(),
        simd::detected().name()
    );
}
