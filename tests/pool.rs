//! Chapter 07: max and average pooling, forward and backward, against hand calculations.

use cnn_book::pool::{
    avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, PoolConfig,
};
use cnn_book::Error;
use ndarray::{array, Array4};
use rand::Rng;

mod common;

fn image(rows: Vec<Vec<f32>>) -> Array4<f32> {
    let (h, w) = (rows.len(), rows[0].len());
    Array4::from_shape_vec((1, 1, h, w), rows.into_iter().flatten().collect()).unwrap()
}

fn pool(field: usize, stride: usize) -> PoolConfig {
    PoolConfig::new(field, stride)
}

#[test]
fn max_pooling_2x2_by_hand() {
    let x = image(vec![
        vec![1., 3., 2., 1.],
        vec![4., 2., 0., 5.],
        vec![0., 1., 7., 3.],
        vec![2., 6., 1., 1.],
    ]);
    let (y, switches) = max_pool2d(x.view(), pool(2, 2)).unwrap();
    // Window maxima: {1,3,4,2} -> 4, {2,1,0,5} -> 5, {0,1,2,6} -> 6, {7,3,1,1} -> 7.
    assert_eq!(
        y.into_shape_with_order((2, 2)).unwrap(),
        array![[4., 5.], [6., 7.]]
    );
    assert_eq!(switches[[0, 0, 0, 0]], (1, 0));
    assert_eq!(switches[[0, 0, 1, 1]], (2, 2));
    // Backward: each output's gradient lands on its winner, everything else gets zero.
    let dy = array![[10., 20.], [30., 40.]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    let dx = max_pool2d_backward(dy.view(), switches.view(), x.dim()).unwrap();
    let expected = image(vec![
        vec![0., 0., 0., 0.],
        vec![10., 0., 0., 20.],
        vec![0., 0., 40., 0.],
        vec![0., 30., 0., 0.],
    ]);
    assert_eq!(dx, expected);
}

#[test]
fn two_by_two_pooling_keeps_one_activation_in_four() {
    let mut rng = common::rng(7);
    let x = common::random4(&mut rng, (2, 3, 8, 8));
    let (y, _) = max_pool2d(x.view(), PoolConfig::default()).unwrap();
    // Depth unchanged, width and height halved: 75% of the activations are discarded.
    assert_eq!(y.dim(), (2, 3, 4, 4));
    assert_eq!(y.len() * 4, x.len());
}

#[test]
fn ties_go_to_the_first_maximum_in_row_major_order() {
    let x = image(vec![vec![5., 5.], vec![5., 1.]]);
    let (_, switches) = max_pool2d(x.view(), pool(2, 2)).unwrap();
    assert_eq!(switches[[0, 0, 0, 0]], (0, 0));
    let dy = array![[1.]].into_shape_with_order((1, 1, 1, 1)).unwrap();
    let dx = max_pool2d_backward(dy.view(), switches.view(), x.dim()).unwrap();
    // The whole gradient goes to one input, so gradients still sum to the output's.
    assert_eq!(dx.sum(), 1.0);
    assert_eq!(dx[[0, 0, 0, 0]], 1.0);
}

#[test]
fn overlapping_pooling_3x3_stride_2() {
    // AlexNet's pooling on 55x55: (55 - 3)/2 + 1 = 27.
    let x = Array4::<f32>::zeros((1, 1, 55, 55));
    assert_eq!(
        max_pool2d(x.view(), pool(3, 2)).unwrap().0.dim(),
        (1, 1, 27, 27)
    );
    // On 5x5 with a single peak in the middle, all four overlapping windows pick it,
    // and backward adds up their gradients there.
    let mut x = Array4::<f32>::zeros((1, 1, 5, 5));
    x[[0, 0, 2, 2]] = 9.0;
    let (y, s) = max_pool2d(x.view(), pool(3, 2)).unwrap();
    assert!(y.iter().all(|&v| v == 9.0));
    let dx = max_pool2d_backward(Array4::ones((1, 1, 2, 2)).view(), s.view(), x.dim()).unwrap();
    assert_eq!(dx[[0, 0, 2, 2]], 4.0);
}

#[test]
fn average_pooling_by_hand_and_its_backward_spreads_evenly() {
    let x = image(vec![vec![1., 3.], vec![4., 8.]]);
    let y = avg_pool2d(x.view(), pool(2, 2)).unwrap();
    assert_eq!(y[[0, 0, 0, 0]], (1. + 3. + 4. + 8.) / 4.);
    let dy = array![[8.]].into_shape_with_order((1, 1, 1, 1)).unwrap();
    let dx = avg_pool2d_backward(dy.view(), x.dim(), pool(2, 2)).unwrap();
    assert!(dx.iter().all(|&v| v == 8. / 4.));
}

#[test]
fn the_10x10_stride_10_pooling_of_the_slides() {
    // A 20x20 map pooled with 10x10 windows, stride 10: a 2x2 summary of its quadrants.
    let x = Array4::from_shape_fn((1, 1, 20, 20), |(_, _, r, q)| (r / 10 * 2 + q / 10) as f32);
    let (y, _) = max_pool2d(x.view(), pool(10, 10)).unwrap();
    assert_eq!(
        y.into_shape_with_order((2, 2)).unwrap(),
        array![[0., 1.], [2., 3.]]
    );
}

#[test]
fn backward_passes_match_finite_differences() {
    // Random inputs have no ties, so max pooling is differentiable there.
    let mut rng = common::rng(70);
    for (field, stride) in [(2, 2), (3, 2), (3, 1), (2, 1)] {
        let w = field + 3 * stride; // tiles exactly: 4 windows along each axis
        let x = common::random4(&mut rng, (2, 2, w, w));
        let config = pool(field, stride);
        let (y, s) = max_pool2d(x.view(), config).unwrap();
        let r = Array4::from_shape_fn(y.dim(), |_| rng.random_range(-1.0f32..1.0));
        let dmax = max_pool2d_backward(r.view(), s.view(), x.dim()).unwrap();
        let davg = avg_pool2d_backward(r.view(), x.dim(), config).unwrap();
        let eps = 1e-3f32;
        for idx in [
            [0, 0, 0, 0],
            [1, 1, w - 1, w - 1],
            [0, 1, 3, 4],
            [1, 0, 2, 4],
        ] {
            let loss = |x: &Array4<f32>, max: bool| -> f64 {
                let y = if max {
                    max_pool2d(x.view(), config).unwrap().0
                } else {
                    avg_pool2d(x.view(), config).unwrap()
                };
                y.iter()
                    .zip(r.iter())
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum()
            };
            for (max, analytic) in [(true, &dmax), (false, &davg)] {
                let (mut plus, mut minus) = (x.clone(), x.clone());
                plus[idx] += eps;
                minus[idx] -= eps;
                let numeric = (loss(&plus, max) - loss(&minus, max)) / (2.0 * eps as f64);
                assert!(
                    (numeric - analytic[idx] as f64).abs() < 2e-3,
                    "F {field} S {stride} max {max} at {idx:?}: {numeric} vs {}",
                    analytic[idx]
                );
            }
        }
    }
}

#[test]
fn bad_pooling_shapes_are_named() {
    let x = Array4::<f32>::zeros((1, 1, 5, 5));
    let err = max_pool2d(x.view(), pool(2, 2)).unwrap_err().to_string();
    assert!(err.contains("stride 2") && err.contains("size 5"), "{err}");
    assert_eq!(
        max_pool2d(x.view(), pool(2, 0)).unwrap_err(),
        Error::ZeroStride
    );
    let dy = Array4::<f32>::zeros((1, 1, 3, 3));
    let err = avg_pool2d_backward(dy.view(), (1, 1, 4, 4), pool(2, 2))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("(1, 1, 3, 3)") && err.contains("(1, 1, 2, 2)"),
        "{err}"
    );
}

// Padding and rounding, as PyTorch has them; and the fast planes of chapter 16 against the
// loops above.

use cnn_book::fast;
use cnn_book::shape::Rounding;
use proptest::prelude::*;

#[test]
fn padded_max_pooling_never_picks_the_padding() {
    // All inputs negative: a zero from the padding would win if padding counted.
    let x = image(vec![
        vec![-1., -2., -3.],
        vec![-4., -5., -6.],
        vec![-7., -8., -9.],
    ]);
    let config = PoolConfig::new(3, 2).with_padding(1);
    let (y, switches) = max_pool2d(x.view(), config).unwrap();
    // Windows start at -1 and 1: rows/columns {-1, 0, 1} and {1, 2, 3}, clipped to the
    // image. Maxima: top-left {-1,-2,-4,-5} -> -1, top-right {-2,-3,-5,-6} -> -2,
    // bottom-left {-4,-5,-7,-8} -> -4, bottom-right {-5,-6,-8,-9} -> -5.
    assert_eq!(
        y.into_shape_with_order((2, 2)).unwrap(),
        array![[-1., -2.], [-4., -5.]]
    );
    assert_eq!(switches[[0, 0, 1, 1]], (1, 1));
}

#[test]
fn padded_average_pooling_counts_the_padding_or_not() {
    let x = image(vec![vec![1., 2.], vec![3., 4.]]);
    // One 3x3 window centred on each of the four pixels (stride 1, padding 1): the
    // top-left window holds 1, 2, 3, 4 and five zeros of padding.
    let with = PoolConfig::new(3, 1).with_padding(1);
    let y = avg_pool2d(x.view(), with).unwrap();
    assert_eq!(y[[0, 0, 0, 0]], 10.0 / 9.0);
    let without = with.excluding_padding();
    let y = avg_pool2d(x.view(), without).unwrap();
    assert_eq!(y[[0, 0, 0, 0]], 10.0 / 4.0);
    // Backward shares each output's gradient among the real inputs by the same divisor.
    let dy = Array4::ones((1, 1, 2, 2));
    let dx = avg_pool2d_backward(dy.view(), x.dim(), without).unwrap();
    assert!(dx.iter().all(|&g| (g - 1.0).abs() < 1e-6), "{dx:?}");
    let dx = avg_pool2d_backward(dy.view(), x.dim(), with).unwrap();
    assert!(dx.iter().all(|&g| (g - 4.0 / 9.0).abs() < 1e-6), "{dx:?}");
}

#[test]
fn googlenets_ceil_mode_pooling() {
    // GoogLeNet pools 112 x 112 with 3 x 3 windows, stride 2, rounding up: 56, where
    // rounding down gives 55 (Szegedy et al., 2015, Table 1; Caffe's pooling rounds up).
    let x = Array4::<f32>::zeros((1, 1, 112, 112));
    let ceil = PoolConfig::new(3, 2).with_rounding(Rounding::Ceil);
    assert_eq!(max_pool2d(x.view(), ceil).unwrap().0.dim(), (1, 1, 56, 56));
    let floor = PoolConfig::new(3, 2).with_rounding(Rounding::Floor);
    assert_eq!(max_pool2d(x.view(), floor).unwrap().0.dim(), (1, 1, 55, 55));
    assert!(max_pool2d(x.view(), PoolConfig::new(3, 2)).is_err());
    // The last window of the ceil mode hangs over the edge: it averages what it holds.
    let x = image(vec![vec![1., 2., 3., 4.]]);
    let config = PoolConfig::new(1, 1).with_rounding(Rounding::Ceil);
    assert_eq!(avg_pool2d(x.view(), config).unwrap().len(), 4);
    let x = image(vec![vec![1., 2., 3.], vec![4., 5., 6.], vec![7., 8., 9.]]);
    let config = PoolConfig::new(2, 2).with_rounding(Rounding::Ceil);
    let y = avg_pool2d(x.view(), config).unwrap();
    // Windows {1,2,4,5}, {3,6}, {7,8}, {9}: the overhang is not counted.
    assert_eq!(
        y.into_shape_with_order((2, 2)).unwrap(),
        array![[3.0, 4.5], [7.5, 9.0]]
    );
}

#[test]
fn padding_more_than_half_the_window_is_refused() {
    let x = Array4::<f32>::zeros((1, 1, 4, 4));
    let err = max_pool2d(x.view(), PoolConfig::new(2, 2).with_padding(2))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("padding 2") && err.contains("window 2"),
        "{err}"
    );
}

/// The output size PyTorch's `pooling_output_shape` gives (aten/src/ATen/native/Pool.h):
/// `(W + 2P - F + (ceil ? S - 1 : 0)) / S + 1`, less one in ceil mode if the last window
/// would start at or beyond `W + P`.
fn pytorch_size(w: usize, f: usize, p: usize, s: usize, ceil: bool) -> usize {
    let mut out = (w + 2 * p - f + if ceil { s - 1 } else { 0 }) / s + 1;
    if ceil && (out - 1) * s >= w + p {
        out -= 1;
    }
    out
}

/// A pooling configuration and an input it fits: field 1..5, stride 1..4, padding up to
/// half the field, a rounding, and sizes from the field to 13.
fn pooling_case() -> impl Strategy<Value = (PoolConfig, (usize, usize, usize, usize))> {
    (1usize..5, 1usize..4, 0usize..3, 0usize..3, any::<bool>()).prop_flat_map(
        |(field, stride, padding, rounding, exclude)| {
            let padding = padding.min(field / 2);
            let rounding = [Rounding::Exact, Rounding::Floor, Rounding::Ceil][rounding];
            let mut config = PoolConfig::new(field, stride)
                .with_padding(padding)
                .with_rounding(rounding);
            if exclude {
                config = config.excluding_padding();
            }
            let low = field.saturating_sub(2 * padding).max(1);
            (Just(config), 1usize..3, 1usize..3, low..13, low..13)
                .prop_map(|(config, n, c, h, w)| (config, (n, c, h, w)))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Floor and ceil output sizes against PyTorch's formula, and exact against divisibility.
    #[test]
    fn output_sizes_follow_pytorch(w in 1usize..40, f in 1usize..8, p in 0usize..4, s in 1usize..6) {
        prop_assume!(f <= w + 2 * p && 2 * p <= f);
        let window = cnn_book::Window::new(f, p, s).unwrap();
        prop_assert_eq!(window.output_size_with(w, Rounding::Floor).unwrap(), pytorch_size(w, f, p, s, false));
        prop_assert_eq!(window.output_size_with(w, Rounding::Ceil).unwrap(), pytorch_size(w, f, p, s, true));
        let exact = window.output_size_with(w, Rounding::Exact);
        if (w + 2 * p - f) % s == 0 {
            prop_assert_eq!(exact.unwrap(), pytorch_size(w, f, p, s, false));
        } else {
            prop_assert!(exact.is_err());
        }
    }

    /// On random shapes, paddings and roundings: every output is the max (or the mean, by
    /// the stated divisor) of the real inputs of its window, computed here from the window
    /// formula directly; and the fast planes give the same numbers and switches, bit for bit.
    #[test]
    fn pooling_values_follow_the_window_formula_and_fast_equals_reference(
        (config, shape) in pooling_case(), seed in 0u64..1000,
    ) {
        let mut rng = common::rng(seed);
        // Values from a small set: many ties, which the first maximum must win.
        let x = Array4::from_shape_fn(shape, |_| rng.random_range(-3..3) as f32 / 2.0);
        let Ok((y, switches)) = max_pool2d(x.view(), config) else {
            // Only the exact rounding refuses a shape (the strategy keeps the field inside).
            prop_assert_eq!(config.rounding, Rounding::Exact);
            return Ok(());
        };
        let (_, _, h, w) = shape;
        let (f, s, p) = (config.field as i64, config.stride as i64, config.padding as i64);
        let avg = avg_pool2d(x.view(), config).unwrap();
        for ((n, c, i, j), &value) in y.indexed_iter() {
            let (r0, q0) = (i as i64 * s - p, j as i64 * s - p);
            let rows = r0.max(0)..(r0 + f).min(h as i64);
            let cols = q0.max(0)..(q0 + f).min(w as i64);
            let mut best = f32::NEG_INFINITY;
            let mut at = (0, 0);
            let mut sum = 0.0f32;
            for r in rows.clone() {
                for q in cols.clone() {
                    let v = x[[n, c, r as usize, q as usize]];
                    if v > best {
                        (best, at) = (v, (r as u32, q as u32));
                    }
                    sum += v;
                }
            }
            prop_assert_eq!(value, best);
            prop_assert_eq!(switches[[n, c, i, j]], at);
            let divisor = if config.count_include_pad {
                let span = |start: i64, size: usize| (start + f).min(size as i64 + p) - start;
                span(r0, h) * span(q0, w)
            } else {
                (rows.end - rows.start) * (cols.end - cols.start)
            };
            prop_assert_eq!(avg[[n, c, i, j]], sum / divisor as f32);
        }
        let (yf, sf) = fast::pool::max_pool2d(x.view(), config).unwrap();
        prop_assert_eq!(&y, &yf);
        prop_assert_eq!(&switches, &sf);
        prop_assert_eq!(&avg, &fast::pool::avg_pool2d(x.view(), config).unwrap());
        let dy = Array4::from_shape_fn(y.dim(), |_| rng.random_range(-1.0f32..1.0));
        prop_assert_eq!(
            max_pool2d_backward(dy.view(), switches.view(), shape).unwrap(),
            fast::pool::max_pool2d_backward(dy.view(), switches.view(), shape).unwrap()
        );
        prop_assert_eq!(
            avg_pool2d_backward(dy.view(), shape, config).unwrap(),
            fast::pool::avg_pool2d_backward(dy.view(), shape, config).unwrap()
        );
    }
}

#[test]
fn adaptive_average_pooling_uses_pytorchs_windows() {
    use cnn_book::layer::{Layer, Mode, Tensor};
    use cnn_book::layers::AdaptiveAvgPool2d;
    // 5 x 5 -> 3 x 3: output row i averages input rows floor(5i/3) .. ceil(5(i+1)/3),
    // that is [0, 2), [1, 4), [3, 5): windows of 2, 3 and 2 rows that overlap.
    let x = Tensor::from_shape_vec(vec![1, 1, 5, 5], (0..25).map(|v| v as f32).collect()).unwrap();
    let mut pool = AdaptiveAvgPool2d::new(3, 3);
    let y = pool.forward(&x, Mode::Train).unwrap();
    assert_eq!(y.shape(), &[1, 1, 3, 3]);
    // x[r][c] = 5r + c, so a window's mean is 5 * (mean row) + (mean column).
    assert_eq!(y[[0, 0, 0, 0]], (0. + 1. + 5. + 6.) / 4.); // rows 0-1, columns 0-1
    assert_eq!(y[[0, 0, 1, 1]], 5. * 2. + 2.); // rows 1-3, columns 1-3
    assert_eq!(y[[0, 0, 2, 2]], (18. + 19. + 23. + 24.) / 4.); // rows 3-4, columns 3-4
    assert_eq!(y[[0, 0, 0, 2]], 5. * 0.5 + 3.5); // rows 0-1, columns 3-4
                                                 // Backward: every input receives 1 / (window size) from each window that holds it.
                                                 // Input (1, 1) is in windows (0, 0) (2 x 2 = 4 entries), (0, 1) (2 x 3), (1, 0) (3 x 2)
                                                 // and (1, 1) (3 x 3).
    let dx = pool.backward(&Tensor::ones(vec![1, 1, 3, 3])).unwrap();
    let expected = 1. / 4. + 1. / 6. + 1. / 6. + 1. / 9.;
    assert!(
        (dx[[0, 0, 1, 1]] - expected).abs() < 1e-6,
        "{}",
        dx[[0, 0, 1, 1]]
    );
    // The gradients sum to the number of windows, as every window's weights sum to 1.
    assert!((dx.sum() - 9.0).abs() < 1e-5);
    // Same size in and out: the identity; 1 x 1 out: global average pooling.
    let mut same = AdaptiveAvgPool2d::new(5, 5);
    assert_eq!(same.forward(&x, Mode::Eval).unwrap(), x);
    let mut global = AdaptiveAvgPool2d::new(1, 1);
    assert_eq!(global.forward(&x, Mode::Eval).unwrap()[[0, 0, 0, 0]], 12.0);
    // As in PyTorch, a larger output repeats entries: 1 x 1 -> 2 x 2 copies the value.
    let one = Tensor::from_elem(vec![1, 1, 1, 1], 7.0);
    let up = AdaptiveAvgPool2d::new(2, 2)
        .forward(&one, Mode::Eval)
        .unwrap();
    assert!(up.iter().all(|&v| v == 7.0));
    // An empty output is refused.
    assert!(AdaptiveAvgPool2d::new(0, 3)
        .output_shape(&[1, 1, 5, 5])
        .is_err());
}

/// The fast path's blocks of eight side-by-side windows (2 x 2 and 3 x 3, stride = field,
/// widths giving full blocks, a remainder, or both) against the reference loops, bit for
/// bit, on values with many ties and some NaNs (a NaN wins its window and stays; among
/// ties the first in row-major order wins). The expected switches of a hand-made window
/// with a NaN after a larger number and a tie are checked first.
#[test]
fn fast_max_pooling_blocks_equal_the_loops_with_ties_and_nans() {
    let x = image(vec![
        vec![1.0, 5.0, 0.0, 0.0],
        vec![f32::NAN, 5.0, 2.0, 2.0],
    ]);
    let (y, s) = fast::pool::max_pool2d(x.view(), pool(2, 2)).unwrap();
    assert!(y[[0, 0, 0, 0]].is_nan());
    assert_eq!(
        s[[0, 0, 0, 0]],
        (1, 0),
        "the NaN at row 1, column 0 wins over the 5s"
    );
    assert_eq!(
        (y[[0, 0, 0, 1]], s[[0, 0, 0, 1]]),
        (2.0, (1, 2)),
        "the first 2 wins"
    );

    let mut rng = common::rng(7);
    for (field, width) in [(2, 16), (2, 28), (2, 14), (2, 35), (3, 24), (3, 28), (3, 9)] {
        let shape = (2, 3, 2 * field + 1, width);
        let x = Array4::from_shape_fn(shape, |_| match rng.random_range(0..40) {
            0 => f32::NAN,
            v => (v % 5) as f32 - 2.0,
        });
        // Floor rounding: the odd sizes drop their last row or columns.
        let config = pool(field, field).with_rounding(Rounding::Floor);
        let (y, switches) = max_pool2d(x.view(), config).unwrap();
        let (yf, sf) = fast::pool::max_pool2d(x.view(), config).unwrap();
        let bits = |a: &Array4<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&y),
            bits(&yf),
            "{field}x{field} pooling of width {width}"
        );
        assert_eq!(switches, sf, "{field}x{field} pooling of width {width}");
        assert!(y.iter().any(|v| v.is_nan()), "the case has NaN windows");
    }
}
