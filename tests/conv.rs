//! Chapter 05: the convolutional layer, against the slides' demos, a second
//! implementation, and finite differences.

use cnn_book::conv::{
    classic_filters, conv2d_backward_naive, conv2d_naive, conv2d_single, Conv2dConfig,
};
use cnn_book::shape::Rounding;
use cnn_book::Error;
use ndarray::{array, s, Array1, Array2, Array4};
use proptest::prelude::*;
use rand::Rng;

mod common;
use common::{assert_close, random4};

fn cfg(stride: usize, padding: usize) -> Conv2dConfig {
    Conv2dConfig::new(stride, padding)
}

#[test]
fn slides_demo_one_channel_one_filter() {
    // The 5x5 binary image and the 3x3 "X" filter of the slides, stride 1, no padding.
    let image = array![
        [1., 1., 1., 0., 0.],
        [0., 1., 1., 1., 0.],
        [0., 0., 1., 1., 1.],
        [0., 0., 1., 1., 0.],
        [0., 1., 1., 0., 0.]
    ];
    let filter = array![[1., 0., 1.], [0., 1., 0.], [1., 0., 1.]];
    let y = conv2d_single(image.view(), filter.view(), cfg(1, 0)).unwrap();
    // Top-left by hand: the corners and centre of the first window, 1 + 1 + 1 + 0 + 1 = 4.
    assert_eq!(y[[0, 0]], 1. + 1. + 1. + 0. + 1.);
    assert_eq!(y, array![[4., 3., 4.], [2., 4., 3.], [2., 3., 4.]]);
    // The X has 5 taps; no window holds a full X, so the peak is 5 - 1 (chapter 5).
    let taps = filter.iter().filter(|&&v| v == 1.0).count();
    assert_eq!(taps, 5);
    assert_eq!(
        y.iter().cloned().fold(f32::MIN, f32::max),
        (taps - 1) as f32
    );
}

/// The second demo's input: 3 channels of 5x5, values (c + 2r + q) mod 3.
fn demo_two_input() -> Array4<f32> {
    Array4::from_shape_fn((1, 3, 5, 5), |(_, c, r, q)| ((c + 2 * r + q) % 3) as f32)
}

/// Two filters of 3x3x3, values ((k + c + 2u + v) mod 3) - 1, biases 1 and 0.
fn demo_two_filters() -> (Array4<f32>, Array1<f32>) {
    let w = Array4::from_shape_fn((2, 3, 3, 3), |(k, c, u, v)| {
        ((k + c + 2 * u + v) % 3) as f32 - 1.
    });
    (w, array![1., 0.])
}

#[test]
#[allow(clippy::neg_multiply, clippy::erasing_op, clippy::identity_op)] // the products are written out as computed
fn slides_demo_three_channels_two_filters() {
    // 5x5x3 input, two 3x3x3 filters, stride 2, padding 1: (5 - 3 + 2)/2 + 1 = 3, so 3x3x2.
    let x = demo_two_input();
    let (w, b) = demo_two_filters();
    let y = conv2d_naive(x.view(), w.view(), Some(b.view()), cfg(2, 1)).unwrap();
    assert_eq!(y.dim(), (1, 2, 3, 3));
    // Output (filter 0, row 0, column 0) by hand. Its window covers padded rows and columns
    // -1..=1, so only input rows 0..=1 and columns 0..=1 are real, and they meet the
    // filter's taps u, v = 1..=2. The products x[c, r, q] * w[0, c, r + 1, q + 1], in the
    // order (c, r, q), with x[0] = [[0, 1], [2, 0]] and w[0, 0] taps [[-1, 0], [1, -1]], etc.:
    let by_hand = 0. * -1. + 1. * 0. + 2. * 1. + 0. * -1.   // c = 0
        + 1. * 0. + 2. * 1. + 0. * -1. + 1. * 0.             // c = 1
        + 2. * 1. + 0. * -1. + 1. * 0. + 2. * 1.             // c = 2
        + 1.; // bias of filter 0
    assert_eq!(y[[0, 0, 0, 0]], by_hand);
    // The whole output, from an independent implementation (a direct Python loop over the
    // same formulas, outside this crate):
    let expected = array![
        [[9., -5., -3.], [-5., 19., -5.], [-3., -5., 9.]],
        [[-4., -6., 8.], [12., -9., -6.], [-4., 12., -4.]]
    ];
    assert_eq!(y.slice(s![0, .., .., ..]), expected);
}

/// The output size by the rule of each rounding, computed on its own: exact tiling or
/// nothing, PyTorch's floor, and ceil with PyTorch's and Caffe's last-window rule.
fn expected_size(size: usize, f: usize, p: usize, s: usize, rounding: Rounding) -> Option<usize> {
    let padded = size + 2 * p;
    if f > padded {
        return None;
    }
    match rounding {
        Rounding::Exact => (padded - f)
            .is_multiple_of(s)
            .then_some((padded - f) / s + 1),
        Rounding::Floor => Some((padded - f) / s + 1),
        Rounding::Ceil => {
            let mut out = (padded - f).div_ceil(s) + 1;
            if (out - 1) * s >= size + p {
                out -= 1;
            }
            Some(out)
        }
    }
}

/// A second implementation: zero-pad explicitly (on the right as far as the last window
/// reaches), then take strided slices and multiply element-wise. It shares no code with
/// `conv2d_naive`.
fn conv_by_slicing(
    x: &Array4<f32>,
    w: &Array4<f32>,
    b: &Array1<f32>,
    c: Conv2dConfig,
    (oh, ow): (usize, usize),
) -> Array4<f32> {
    let (n, ch, h, wd) = x.dim();
    let (k, _, kh, kw) = w.dim();
    let (p, st) = (c.padding, c.stride);
    let rows = (h + 2 * p).max((oh - 1) * st + kh);
    let cols = (wd + 2 * p).max((ow - 1) * st + kw);
    let mut padded = Array4::zeros((n, ch, rows, cols));
    padded.slice_mut(s![.., .., p..p + h, p..p + wd]).assign(x);
    Array4::from_shape_fn((n, k, oh, ow), |(b_, f, i, j)| {
        let patch = padded.slice(s![b_, .., i * st..i * st + kh, j * st..j * st + kw]);
        (&patch * &w.slice(s![f, .., .., ..])).sum() + b[f]
    })
}

/// `(N, C, H, W)`, `(K, KH, KW)` and the configuration of a convolution.
type ConvCase = (
    (usize, usize, usize, usize),
    (usize, usize, usize),
    Conv2dConfig,
);

/// A convolution's sizes and configuration: `(N, C, H, W)`, `(K, KH, KW)`, stride, padding
/// and rounding; the field fits in the padded input.
fn conv_case() -> impl Strategy<Value = ConvCase> {
    (
        1usize..3,
        1usize..4,
        1usize..4,
        1usize..5,
        1usize..5,
        1usize..4,
        0usize..3,
        0usize..3,
    )
        .prop_flat_map(|(n, c, k, kh, kw, s, p, r)| {
            let rounding = [Rounding::Exact, Rounding::Floor, Rounding::Ceil][r];
            let config = Conv2dConfig::new(s, p).with_rounding(rounding);
            let (low_h, low_w) = (
                kh.saturating_sub(2 * p).max(1),
                kw.saturating_sub(2 * p).max(1),
            );
            (low_h..11, low_w..11).prop_map(move |(h, w)| ((n, c, h, w), (k, kh, kw), config))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Output sizes by each rounding rule, and every output's value, against the second
    /// implementation; a shape the exact rule refuses is an error naming the stride.
    #[test]
    fn naive_matches_a_second_implementation_on_random_shapes(
        ((n, c, h, w), (k, kh, kw), config) in conv_case(), seed in 0u64..10_000,
    ) {
        let mut rng = common::rng(seed);
        let x = random4(&mut rng, (n, c, h, w));
        let wt = random4(&mut rng, (k, c, kh, kw));
        let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0..1.0));
        let (s, p) = (config.stride, config.padding);
        let sizes = (
            expected_size(h, kh, p, s, config.rounding),
            expected_size(w, kw, p, s, config.rounding),
        );
        match (conv2d_naive(x.view(), wt.view(), Some(b.view()), config), sizes) {
            (Ok(y), (Some(oh), Some(ow))) => {
                prop_assert_eq!(y.dim(), (n, k, oh, ow));
                let expected = conv_by_slicing(&x, &wt, &b, config, (oh, ow));
                assert_close(&y, &expected, 1e-5, &format!("x {:?} w {:?} {config:?}", x.dim(), wt.dim()));
            }
            (Err(e), (None, _) | (_, None)) => {
                prop_assert!(e.to_string().contains("does not tile"), "{}", e);
            }
            (y, sizes) => prop_assert!(false, "{config:?} on {:?}: {:?} but expected sizes {sizes:?}", x.dim(), y.map(|y| y.dim())),
        }
    }
}

/// Loss L = sum(y * r) for a fixed random r, so dL/dy = r.
fn loss(
    x: &Array4<f32>,
    w: &Array4<f32>,
    b: &Array1<f32>,
    r: &Array4<f32>,
    c: Conv2dConfig,
) -> f64 {
    let y = conv2d_naive(x.view(), w.view(), Some(b.view()), c).unwrap();
    y.iter()
        .zip(r.iter())
        .map(|(a, b)| *a as f64 * *b as f64)
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn backward_matches_finite_differences(
        ((n, c, h, w), (k, kh, kw), config) in conv_case(), seed in 0u64..10_000,
    ) {
        // Central differences (L(t + e) - L(t - e)) / 2e. The loss is linear in x, w and b,
        // so the difference quotient has no truncation error and only rounding remains.
        let mut rng = common::rng(seed);
        let eps = 0.5f32;
        let x = random4(&mut rng, (n, c, h, w));
        let wt = random4(&mut rng, (k, c, kh, kw));
        let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0..1.0));
        let Ok(y) = conv2d_naive(x.view(), wt.view(), Some(b.view()), config) else {
            return Ok(()); // a shape the exact rule refuses: the test above covers it
        };
        let r = random4(&mut rng, y.dim());
        let grads = conv2d_backward_naive(x.view(), wt.view(), r.view(), config).unwrap();
        let numeric =
            |perturb: &dyn Fn(f32) -> f64| (perturb(eps) - perturb(-eps)) / (2.0 * eps as f64);
        for idx in [[0, 0, 0, 0], [n - 1, c - 1, h - 1, w - 1], [0, c / 2, h / 2, w / 2]] {
            let d = numeric(&|e| {
                let mut xp = x.clone();
                xp[idx] += e;
                loss(&xp, &wt, &b, &r, config)
            });
            prop_assert!(approx::abs_diff_eq!(d, grads.input[idx] as f64, epsilon = 1e-3),
                "dL/dx{:?}: {} vs {}", idx, d, grads.input[idx]);
        }
        for idx in [[0, 0, 0, 0], [k - 1, c - 1, kh - 1, kw - 1]] {
            let d = numeric(&|e| {
                let mut wp = wt.clone();
                wp[idx] += e;
                loss(&x, &wp, &b, &r, config)
            });
            prop_assert!(approx::abs_diff_eq!(d, grads.weight[idx] as f64, epsilon = 1e-3),
                "dL/dw{:?}: {} vs {}", idx, d, grads.weight[idx]);
        }
        let d = numeric(&|e| {
            let mut bp = b.clone();
            bp[k - 1] += e;
            loss(&x, &wt, &bp, &r, config)
        });
        prop_assert!(approx::abs_diff_eq!(d, grads.bias[k - 1] as f64, epsilon = 1e-3));
        // The bias gradient is the sum of the error map of its filter.
        let sum: f32 = r.slice(s![.., k - 1, .., ..]).sum();
        prop_assert!(approx::abs_diff_eq!(grads.bias[k - 1], sum, epsilon = 1e-4));
    }
}

#[test]
fn shape_errors_name_the_shapes() {
    let x = Array4::<f32>::zeros((1, 3, 5, 5));
    let w = Array4::<f32>::zeros((2, 2, 3, 3));
    let err = conv2d_naive(x.view(), w.view(), None, cfg(1, 0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("3 channels") && err.contains("expect 2"),
        "{err}"
    );
    assert!(
        err.contains("(1, 3, 5, 5)") && err.contains("(2, 2, 3, 3)"),
        "{err}"
    );

    let w = Array4::<f32>::zeros((2, 3, 3, 3));
    let b = Array1::<f32>::zeros(3);
    let err = conv2d_naive(x.view(), w.view(), Some(b.view()), cfg(1, 0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bias has 3 values") && err.contains("2 filters"),
        "{err}"
    );

    // (5 - 3 + 0)/3: stride 3 does not tile; the message says which axis and why.
    let err = conv2d_naive(x.view(), w.view(), None, cfg(3, 0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("along the height") && err.contains("stride 3"),
        "{err}"
    );

    let err = conv2d_naive(x.view(), w.view(), None, cfg(0, 0)).unwrap_err();
    assert_eq!(err, Error::ZeroStride);

    let dy = Array4::<f32>::zeros((1, 2, 4, 4));
    let err = conv2d_backward_naive(x.view(), w.view(), dy.view(), cfg(1, 0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("(1, 2, 4, 4)") && err.contains("(1, 2, 3, 3)"),
        "{err}"
    );
}

#[test]
fn classic_filters_do_what_their_names_say() {
    let filters: std::collections::HashMap<_, _> = classic_filters().into_iter().collect();
    let ramp = Array2::from_shape_fn((6, 6), |(_, q)| q as f32); // brightness grows to the right
    let same = cfg(1, 1);
    let interior = s![1..5, 1..5];
    // Identity returns the image; the box blur leaves a linear ramp unchanged away from the border.
    let id = conv2d_single(ramp.view(), filters["identity"].view(), same).unwrap();
    assert_eq!(id, ramp);
    let blur = conv2d_single(ramp.view(), filters["box blur"].view(), same).unwrap();
    assert_close(
        &blur.slice(interior).to_owned(),
        &ramp.slice(interior).to_owned(),
        1e-6,
        "blur",
    );
    // Sobel x on a slope of 1 per pixel: (1 + 2 + 1) * (right - left) = 4 * 2 = 8.
    let gx = conv2d_single(
        ramp.view(),
        filters["vertical edges (Sobel x)"].view(),
        same,
    )
    .unwrap();
    assert!(gx.slice(interior).iter().all(|&v| v == 8.));
    // Sobel y and the Laplacian see nothing in a horizontal ramp's interior.
    let gy = conv2d_single(
        ramp.view(),
        filters["horizontal edges (Sobel y)"].view(),
        same,
    )
    .unwrap();
    assert!(gy.slice(interior).iter().all(|&v| v == 0.));
    let lap = conv2d_single(ramp.view(), filters["outline (Laplacian)"].view(), same).unwrap();
    assert!(lap.slice(interior).iter().all(|&v| v == 0.));
    // Sharpen = 2 * identity - (blur with the 4-neighbour kernel): leaves a ramp unchanged too.
    let sharp = conv2d_single(ramp.view(), filters["sharpen"].view(), same).unwrap();
    assert_eq!(sharp.slice(interior), ramp.slice(interior));
}
