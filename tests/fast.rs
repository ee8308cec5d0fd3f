//! Chapter 16: the fast convolution computes what the naive loops of chapter 5 compute,
//! forward and backward, on hundreds of random shapes (with windows that tile, and with
//! strides rounded down and up), with any number of threads.

mod common;

use cnn_book::conv::{conv2d_backward_naive, conv2d_naive, Conv2dConfig, ConvDims};
use cnn_book::fast::conv::{
    col2im_image, conv2d_backward_fast, conv2d_backward_saved, conv2d_fast, im2col_image,
    use_direct, ConvScratch, FastKernel,
};

/// Both kernels of the fast path. (On a CPU without AVX-512, `Direct` falls back to the
/// GEMM and the test checks that twice.)
const KERNELS: [FastKernel; 4] = [
    FastKernel::Gemm,
    FastKernel::Direct,
    FastKernel::Winograd,
    FastKernel::Auto,
];

fn scratch(kernel: FastKernel) -> ConvScratch {
    let mut scratch = ConvScratch::default();
    scratch.kernel = kernel;
    scratch
}
use cnn_book::im2col::{col2im, im2col};
use cnn_book::shape::Rounding;
use ndarray::{Array1, Array2, Array4};
use proptest::prelude::*;
use rand::Rng;

use common::{assert_close, random4};

fn cfg(stride: usize, padding: usize) -> Conv2dConfig {
    Conv2dConfig::new(stride, padding)
}

/// A random convolution `[n, c, k, h, w, kh, kw, stride, padding]` and its rounding:
/// "same" convolutions (about 30%), 1x1 filters, strides up to 3, padding wider than the
/// filter's reach, batches larger than the number of chunks, now and then enough channels
/// and filters for every tile of the direct kernels (4, 6 and 8 filters, and partial
/// blocks of them); windows that tile exactly, or not (rounded down or up).
fn conv_case() -> impl Strategy<Value = ([usize; 9], Rounding)> {
    let batch = prop_oneof![4 => 1usize..4, 1 => 9usize..20];
    let widths = prop_oneof![3 => (1usize..5, 1usize..5), 1 => (1usize..20, 5usize..20)];
    let window = prop_oneof![
        7 => (1usize..5, 1usize..5, 1usize..4, 0usize..4),
        // A "same" convolution (stride 1, odd square filter, padding (F - 1) / 2): the
        // output is as large as the input, and the fast path copies whole shifted rows.
        3 => (0usize..4).prop_map(|f| (2 * f + 1, 2 * f + 1, 1, f)),
    ];
    let rounding = prop_oneof![
        Just(Rounding::Exact),
        Just(Rounding::Floor),
        Just(Rounding::Ceil)
    ];
    (batch, widths, window, rounding).prop_flat_map(|(n, (c, k), (kh, kw, s, p), rounding)| {
        let (low_h, low_w) = (
            kh.saturating_sub(2 * p).max(1),
            kw.saturating_sub(2 * p).max(1),
        );
        (low_h..12, low_w..12)
            .prop_map(move |(h, w)| ([n, c, k, h, w, kh, kw, s, p], rounding))
            .prop_filter(
                "the exact rule needs windows that tile",
                move |([_, _, _, h, w, kh, kw, s, p], r)| {
                    let fits = |size: usize, f: usize| (size + 2 * p - f).is_multiple_of(*s);
                    *r != Rounding::Exact || (fits(*h, *kh) && fits(*w, *kw))
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn forward_equals_the_naive_loops(([n, c, k, h, w, kh, kw, s, p], rounding) in conv_case(), seed in 0u64..10_000) {
        let mut rng = common::rng(seed);
        let config = cfg(s, p).with_rounding(rounding);
        let x = random4(&mut rng, (n, c, h, w));
        let wt = random4(&mut rng, (k, c, kh, kw));
        let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0..1.0));
        let naive = conv2d_naive(x.view(), wt.view(), Some(b.view()), config).unwrap();
        let naive_no_bias = conv2d_naive(x.view(), wt.view(), None, config).unwrap();
        for kernel in KERNELS {
            let mut scratch = scratch(kernel);
            let fast = conv2d_fast(x.view(), wt.view(), Some(b.view()), config, &mut scratch).unwrap();
            let context = format!("{kernel:?}: x {:?} w {:?} {config:?}", x.dim(), wt.dim());
            assert_close(&fast, &naive, 1e-5, &context);
            // The same scratch again, without a bias: the buffers are reused.
            let no_bias = conv2d_fast(x.view(), wt.view(), None, config, &mut scratch).unwrap();
            assert_close(&no_bias, &naive_no_bias, 1e-5, &context);
        }
    }

    #[test]
    fn backward_equals_the_naive_loops(([n, c, k, h, w, kh, kw, s, p], rounding) in conv_case(), seed in 0u64..10_000) {
        let mut rng = common::rng(seed);
        let config = cfg(s, p).with_rounding(rounding);
        let x = random4(&mut rng, (n, c, h, w));
        let wt = random4(&mut rng, (k, c, kh, kw));
        let d = ConvDims::new(x.dim(), wt.dim(), config).unwrap();
        let dy = random4(&mut rng, d.output_shape());
        let naive = conv2d_backward_naive(x.view(), wt.view(), dy.view(), config).unwrap();
        for kernel in KERNELS {
            let mut scratch = scratch(kernel);
            let context = format!("{kernel:?}: x {:?} w {:?} {config:?}", x.dim(), wt.dim());
            let fast = conv2d_backward_fast(x.view(), wt.view(), dy.view(), config, true, &mut scratch).unwrap();
            assert_close(fast.input.as_ref().unwrap(), &naive.input, 1e-5, &context);
            // Each entry of the weight and bias gradients sums one product per output
            // position of every image, in another order than the naive loops: rounding
            // differences grow with the number of terms (up to terms x epsilon, relative).
            let terms = (n * d.out_height * d.out_width) as f32;
            let tol = (terms * f32::EPSILON).max(1e-5);
            assert_close(&fast.weight, &naive.weight, tol, &context);
            assert_close(&fast.bias, &naive.bias, tol, &context);
            // Without the input gradient: the same parameter gradients, bit for bit.
            let params_only = conv2d_backward_fast(x.view(), wt.view(), dy.view(), config, false, &mut scratch).unwrap();
            prop_assert!(params_only.input.is_none());
            prop_assert_eq!(&params_only.weight, &fast.weight, "{}", context);
            prop_assert_eq!(&params_only.bias, &fast.bias, "{}", context);
            // From the padded input the direct kernels kept in the forward pass: the same bits.
            conv2d_fast(x.view(), wt.view(), None, config, &mut scratch).unwrap();
            let kept = scratch.saved_input();
            prop_assert_eq!(kept.is_some(), use_direct(&d, kernel), "{}", context);
            if kept.is_some() {
                let saved = conv2d_backward_saved(wt.view(), dy.view(), true, &mut scratch).unwrap();
                prop_assert_eq!(&saved.input, &fast.input, "{}", context);
                prop_assert_eq!(&saved.weight, &fast.weight, "{}", context);
                prop_assert_eq!(&saved.bias, &fast.bias, "{}", context);
            } else {
                prop_assert!(conv2d_backward_saved(wt.view(), dy.view(), true, &mut scratch).is_err(), "{}", context);
            }
        }
    }

    #[test]
    fn one_image_patch_matrix_equals_chapter_6s_and_col2im_image_is_its_adjoint(
        ([_, c, _, h, w, kh, kw, s, p], rounding) in conv_case(), seed in 0u64..10_000,
    ) {
        let mut rng = common::rng(seed);
        let config = cfg(s, p).with_rounding(rounding);
        let x = random4(&mut rng, (1, c, h, w));
        let d = ConvDims::new(x.dim(), (1, c, kh, kw), config).unwrap();
        let reference = im2col(x.view(), kh, kw, config).unwrap();
        // Start from garbage: every entry must be written, padding included.
        let mut cols = vec![f32::NAN; reference.len()];
        im2col_image(x.as_slice().unwrap(), &d, &mut cols);
        prop_assert_eq!(&cols[..], reference.as_slice().unwrap(), "x {:?} {}x{} {:?}", x.dim(), kh, kw, config);
        let y = Array2::from_shape_fn(reference.dim(), |_| rng.random_range(-1.0f32..1.0));
        let expected = col2im(y.view(), x.dim(), kh, kw, config).unwrap();
        let mut image = vec![0.0; x.len()];
        col2im_image(y.clone().as_slice_mut().unwrap(), &d, &mut image);
        let image = Array4::from_shape_vec(x.dim(), image).unwrap();
        assert_close(&image, &expected, 1e-6, "col2im_image");
    }
}

#[test]
fn the_kept_input_must_fit_the_weights_and_gradient() {
    let mut rng = common::rng(166);
    let mut scratch = scratch(FastKernel::Direct);
    let x = random4(&mut rng, (2, 3, 8, 8));
    let wt = random4(&mut rng, (4, 3, 3, 3));
    let dy = random4(&mut rng, (2, 4, 8, 8));
    // Nothing kept yet.
    assert!(conv2d_backward_saved(wt.view(), dy.view(), true, &mut scratch).is_err());
    conv2d_fast(x.view(), wt.view(), None, cfg(1, 1), &mut scratch).unwrap();
    if scratch.saved_input().is_none() {
        return; // no AVX-512: the GEMM ran and kept nothing
    }
    let other = random4(&mut rng, (4, 2, 3, 3));
    let err = conv2d_backward_saved(other.view(), dy.view(), true, &mut scratch).unwrap_err();
    assert!(err.to_string().contains("kept input"), "{err}");
    let wrong = random4(&mut rng, (2, 4, 6, 6));
    assert!(conv2d_backward_saved(wt.view(), wrong.view(), true, &mut scratch).is_err());
}

#[test]
fn the_result_does_not_depend_on_the_number_of_threads() {
    for kernel in KERNELS {
        the_result_does_not_depend_on_the_number_of_threads_with(kernel);
    }
}

fn the_result_does_not_depend_on_the_number_of_threads_with(kernel: FastKernel) {
    let mut rng = common::rng(165);
    let x = random4(&mut rng, (37, 3, 12, 12));
    let wt = random4(&mut rng, (5, 3, 3, 3));
    let dy = random4(&mut rng, (37, 5, 12, 12));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut scratch = scratch(kernel);
            let y = conv2d_fast(x.view(), wt.view(), None, cfg(1, 1), &mut scratch).unwrap();
            let g = conv2d_backward_fast(
                x.view(),
                wt.view(),
                dy.view(),
                cfg(1, 1),
                true,
                &mut scratch,
            )
            .unwrap();
            (y, g.input.unwrap(), g.weight, g.bias)
        })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        let other = run(threads);
        assert_eq!(one.0, other.0, "{kernel:?} forward with {threads} threads");
        assert_eq!(
            one.1, other.1,
            "{kernel:?} input gradient, {threads} threads"
        );
        assert_eq!(
            one.2, other.2,
            "{kernel:?} weight gradient, {threads} threads"
        );
        assert_eq!(
            one.3, other.3,
            "{kernel:?} bias gradient, {threads} threads"
        );
    }
}

#[test]
fn bad_shapes_are_errors_not_panics() {
    let mut scratch = ConvScratch::default();
    let x = Array4::<f32>::zeros((2, 3, 8, 8));
    let w = Array4::<f32>::zeros((4, 2, 3, 3));
    let err = conv2d_fast(x.view(), w.view(), None, cfg(1, 0), &mut scratch).unwrap_err();
    assert!(err.to_string().contains("channel"), "{err}");
    let w = Array4::<f32>::zeros((4, 3, 3, 3));
    let b = Array1::<f32>::zeros(5);
    let err = conv2d_fast(x.view(), w.view(), Some(b.view()), cfg(1, 0), &mut scratch).unwrap_err();
    assert!(err.to_string().contains("bias has 5"), "{err}");
    let dy = Array4::<f32>::zeros((2, 4, 5, 5));
    let err = conv2d_backward_fast(x.view(), w.view(), dy.view(), cfg(1, 0), true, &mut scratch)
        .unwrap_err();
    assert!(err.to_string().contains("(2, 4, 6, 6)"), "{err}");
}

/// The wide direct kernels (filters in the vector lanes: a multiple of 64 filters or
/// channels, or of 32 or 16 filters for the weight gradient)
/// against the naive loops, forward and backward, on shapes the random ones do not reach.
#[test]
fn wide_layers_equal_the_naive_loops() {
    let mut rng = common::rng(167);
    for (n, c, k, h, w, f, p) in [
        (2, 64, 64, 6, 5, 3, 1),
        (3, 3, 64, 7, 7, 3, 1),
        (2, 64, 5, 6, 6, 3, 0),
        (1, 128, 64, 4, 9, 5, 2),
        (9, 64, 128, 3, 3, 1, 0),
        (2, 64, 64, 5, 5, 2, 1),
        // 143 positions: the weight gradient's blocks of positions split unevenly; 576
        // taps: the forward's blocks of taps end with a partial one.
        (1, 64, 64, 13, 11, 3, 1),
        // Even outputs: Winograd's F(2x2, 3x3) forward and for the input gradient, with
        // one and two blocks of 7 tiles per row, 3 channels, no padding.
        (2, 64, 64, 6, 8, 3, 1),
        (1, 64, 128, 4, 16, 3, 1),
        (2, 3, 64, 6, 6, 3, 1),
        (1, 64, 64, 8, 10, 3, 0),
        // A multiple of 32 filters: the weight gradient's tile of 2 vectors by 12 taps, with
        // a partial last block of taps (45 taps), three blocks of filters, and 340
        // positions in two blocks.
        (2, 5, 32, 6, 7, 3, 1),
        (1, 16, 96, 5, 9, 3, 1),
        (1, 3, 32, 20, 17, 3, 1),
        (3, 32, 32, 7, 7, 5, 2),
        // 16 filters on LeNet's second layer (a third of the flat layout wasted): the
        // weight gradient's tile of 1 vector by 24 taps.
        (3, 6, 16, 14, 14, 5, 0),
        // The small ResNet's 16 and 32 filters with even outputs (16: the direct kernels;
        // 32: Winograd's blocks of 32), and 48 filters (the direct kernels: Winograd needs
        // a multiple of 32).
        (2, 16, 16, 10, 8, 3, 1),
        (1, 16, 32, 6, 6, 3, 1),
        (2, 32, 48, 4, 8, 3, 1),
    ] {
        for kernel in KERNELS {
            let mut scratch = scratch(kernel);
            let x = random4(&mut rng, (n, c, h, w));
            let wt = random4(&mut rng, (k, c, f, f));
            let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0..1.0));
            let context = format!("{kernel:?}: x {:?} w {:?} P {p}", x.dim(), wt.dim());
            let naive = conv2d_naive(x.view(), wt.view(), Some(b.view()), cfg(1, p)).unwrap();
            let fast =
                conv2d_fast(x.view(), wt.view(), Some(b.view()), cfg(1, p), &mut scratch).unwrap();
            assert_close(&fast, &naive, 1e-5, &context);
            let dy = random4(&mut rng, naive.dim());
            let naive = conv2d_backward_naive(x.view(), wt.view(), dy.view(), cfg(1, p)).unwrap();
            let fast = conv2d_backward_fast(
                x.view(),
                wt.view(),
                dy.view(),
                cfg(1, p),
                true,
                &mut scratch,
            )
            .unwrap();
            assert_close(fast.input.as_ref().unwrap(), &naive.input, 1e-5, &context);
            assert_close(&fast.weight, &naive.weight, 1e-5, &context);
            assert_close(&fast.bias, &naive.bias, 1e-5, &context);
        }
    }
}
