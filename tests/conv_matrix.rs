//! Chapter 06: convolution as a matrix C, backprop as C^T, the flipped kernel, transposed
//! convolution, and im2col, each checked on hundreds of random shapes.

use cnn_book::conv::{conv2d_backward_naive, conv2d_naive, Conv2dConfig};
use cnn_book::conv_matrix::{
    conv_matrix, conv_transpose2d, dilate, flip_filters, input_gradient_by_flipped_kernel,
};
use cnn_book::im2col::{col2im, conv2d_im2col, im2col};
use ndarray::{array, Array1, Array2, Array4};
use proptest::prelude::*;
use rand::Rng;

mod common;
use common::{assert_close, random4};

fn cfg(stride: usize, padding: usize) -> Conv2dConfig {
    Conv2dConfig::new(stride, padding)
}

#[test]
fn the_4x16_matrix_of_the_slides() {
    // Dumoulin & Visin (2016), Fig. 2.1 and Sec. 4.1: a 3x3 kernel over a 4x4 input, unit
    // stride, no padding. Name the weights w[u][v] = 10u + v + 11 (11..33) to see them move.
    let k = Array2::from_shape_fn((3, 3), |(u, v)| (10 * u + v + 11) as f32);
    let c = conv_matrix(4, 4, k.view(), cfg(1, 0)).unwrap();
    let (w00, w01, w02, w10, w11, w12, w20, w21, w22) =
        (11., 12., 13., 21., 22., 23., 31., 32., 33.);
    let expected = array![
        [w00, w01, w02, 0., w10, w11, w12, 0., w20, w21, w22, 0., 0., 0., 0., 0.],
        [0., w00, w01, w02, 0., w10, w11, w12, 0., w20, w21, w22, 0., 0., 0., 0.],
        [0., 0., 0., 0., w00, w01, w02, 0., w10, w11, w12, 0., w20, w21, w22, 0.],
        [0., 0., 0., 0., 0., w00, w01, w02, 0., w10, w11, w12, 0., w20, w21, w22],
    ];
    assert_eq!(c, expected);
}

/// Random single-image shapes that tile: (C, H, W, K, F, stride, padding), square kernel,
/// padding at most F - 1 (what the flipped-kernel form needs).
fn tiling_shape() -> impl Strategy<Value = (usize, usize, usize, usize, usize, usize, usize)> {
    (
        1usize..4,
        1usize..10,
        1usize..10,
        1usize..4,
        1usize..5,
        1usize..4,
    )
        .prop_flat_map(|(c, h, w, k, f, s)| (Just((c, h, w, k, f, s)), 0..f))
        .prop_map(|((c, h, w, k, f, s), p)| (c, h, w, k, f, s, p))
        .prop_filter("windows that tile", |&(_, h, w, _, f, s, p)| {
            let fits = |size: usize| size + 2 * p >= f && (size + 2 * p - f).is_multiple_of(s);
            fits(h) && fits(w)
        })
}

proptest! {
#![proptest_config(ProptestConfig::with_cases(300))]

#[test]
fn c_times_x_is_the_convolution((_, h, w, _, f, s, p) in tiling_shape(), seed in 0u64..10_000) {
    let mut rng = common::rng(seed);
    {
        let x = random4(&mut rng, (1, 1, h, w));
        let kernel = random4(&mut rng, (1, 1, f, f));
        let c = conv_matrix(h, w, kernel.slice(ndarray::s![0, 0, .., ..]), cfg(s, p)).unwrap();
        let x_vec = x.iter().copied().collect::<Array1<f32>>();
        let y = conv2d_naive(x.view(), kernel.view(), None, cfg(s, p)).unwrap();
        let y_vec = y.iter().copied().collect::<Array1<f32>>();
        assert_close(
            &c.dot(&x_vec),
            &y_vec,
            1e-5,
            &format!("H {h} W {w} F {f} S {s} P {p}"),
        );
    }
}

#[test]
fn c_transpose_is_the_backward_pass_is_the_flipped_kernel_is_the_transposed_convolution(
    (ch, h, w, k, f, s, p) in tiling_shape(), seed in 0u64..10_000,
) {
    let mut rng = common::rng(seed);
    {
        let config = cfg(s, p);
        let x = random4(&mut rng, (1, ch, h, w));
        let weight = random4(&mut rng, (k, ch, f, f));
        let y = conv2d_naive(x.view(), weight.view(), None, config).unwrap();
        let dy = random4(&mut rng, y.dim());
        let context = format!("C {ch} H {h} W {w} K {k} F {f} S {s} P {p}");

        // 1. The backward pass of the reference implementation.
        let dx = conv2d_backward_naive(x.view(), weight.view(), dy.view(), config)
            .unwrap()
            .input;
        // 2. Sum over filters of C_{k,c}^T dy_k, with one matrix per (filter, channel) pair.
        let mut by_matrix = Array4::<f32>::zeros((1, ch, h, w));
        for kk in 0..k {
            let dy_vec = dy
                .slice(ndarray::s![0, kk, .., ..])
                .iter()
                .copied()
                .collect::<Array1<f32>>();
            for cc in 0..ch {
                let c =
                    conv_matrix(h, w, weight.slice(ndarray::s![kk, cc, .., ..]), config).unwrap();
                let back = c.t().dot(&dy_vec).into_shape_with_order((h, w)).unwrap();
                let mut slot = by_matrix.slice_mut(ndarray::s![0, cc, .., ..]);
                slot += &back;
            }
        }
        assert_close(
            &by_matrix,
            &dx,
            1e-5,
            &format!("C^T vs backward, {context}"),
        );
        // 3. Full correlation of the dilated error with the flipped filters.
        let flipped =
            input_gradient_by_flipped_kernel(dy.view(), weight.view(), config, (h, w)).unwrap();
        assert_close(
            &flipped,
            &dx,
            1e-5,
            &format!("flipped kernel vs backward, {context}"),
        );
        // 4. Transposed convolution with the same filters.
        let transposed = conv_transpose2d(dy.view(), weight.view(), config, (h, w)).unwrap();
        assert_close(
            &transposed,
            &dx,
            1e-5,
            &format!("transposed conv vs backward, {context}"),
        );
    }
}

}

#[test]
fn flipping_and_dilating_by_hand() {
    // Flipping reverses both axes (a rotation by 180 degrees): [[1,2,3],[4,5,6],[7,8,9]]
    // becomes [[9,8,7],[6,5,4],[3,2,1]]. (The slides' picture rotates by 90 degrees.)
    let w = array![[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]]
        .into_shape_with_order((1, 1, 3, 3))
        .unwrap();
    let flipped = flip_filters(w.view());
    assert_eq!(
        flipped.into_shape_with_order((3, 3)).unwrap(),
        array![[9., 8., 7.], [6., 5., 4.], [3., 2., 1.]]
    );
    let d = array![[1., 2.], [3., 4.]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    assert_eq!(
        dilate(d.view(), 2)
            .unwrap()
            .into_shape_with_order((3, 3))
            .unwrap(),
        array![[1., 0., 2.], [0., 0., 0.], [3., 0., 4.]]
    );
}

#[test]
fn transposed_convolution_of_a_single_value_stamps_the_kernel() {
    // One input value v scatters v * kernel into the output: the "deconvolution" picture.
    let kernel = array![[1., 2.], [3., 4.]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    let one = array![[2.]].into_shape_with_order((1, 1, 1, 1)).unwrap();
    let out = conv_transpose2d(one.view(), kernel.view(), cfg(1, 0), (2, 2)).unwrap();
    assert_eq!(
        out.into_shape_with_order((2, 2)).unwrap(),
        array![[2., 4.], [6., 8.]]
    );
    // Stride 2 with a 3x3 kernel on a constant input: stamps overlap in a grid of lines,
    // the checkerboard pattern of strided transposed convolutions. A 2x2 input of ones with
    // a 3x3 kernel of ones gives a 5x5 output where overlaps count 2 or 4.
    let ones = Array4::<f32>::ones((1, 1, 2, 2));
    let k3 = Array4::<f32>::ones((1, 1, 3, 3));
    let out = conv_transpose2d(ones.view(), k3.view(), cfg(2, 0), (5, 5)).unwrap();
    assert_eq!(
        out.into_shape_with_order((5, 5)).unwrap(),
        array![
            [1., 1., 2., 1., 1.],
            [1., 1., 2., 1., 1.],
            [2., 2., 4., 2., 2.],
            [1., 1., 2., 1., 1.],
            [1., 1., 2., 1., 1.]
        ]
    );
}

proptest! {
#![proptest_config(ProptestConfig::with_cases(300))]

#[test]
fn im2col_convolution_equals_the_naive_one(
    (n, c, k) in (1usize..4, 1usize..5, 1usize..5),
    (h, w, kh, kw, s, p) in (1usize..12, 1usize..12, 1usize..5, 1usize..5, 1usize..4, 0usize..3)
        .prop_filter("windows that tile", |&(h, w, kh, kw, s, p)| {
            let fits = |size: usize, f: usize| size + 2 * p >= f && (size + 2 * p - f).is_multiple_of(s);
            fits(h, kh) && fits(w, kw)
        }),
    seed in 0u64..10_000,
) {
    let mut rng = common::rng(seed);
    {
        let x = random4(&mut rng, (n, c, h, w));
        let wt = random4(&mut rng, (k, c, kh, kw));
        let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0..1.0));
        let naive = conv2d_naive(x.view(), wt.view(), Some(b.view()), cfg(s, p)).unwrap();
        let fast = conv2d_im2col(x.view(), wt.view(), Some(b.view()), cfg(s, p)).unwrap();
        assert_close(
            &fast,
            &naive,
            1e-5,
            &format!("x {:?} w {:?} S {s} P {p}", x.dim(), wt.dim()),
        );
    }
}
}

#[test]
fn im2col_by_hand_and_col2im_is_its_adjoint() {
    // A 3x3 input 1..9 with 2x2 windows, stride 1: four columns, one per window.
    let x = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, r, q)| (3 * r + q + 1) as f32);
    let cols = im2col(x.view(), 2, 2, cfg(1, 0)).unwrap();
    assert_eq!(
        cols,
        array![
            [1., 2., 4., 5.],
            [2., 3., 5., 6.],
            [4., 5., 7., 8.],
            [5., 6., 8., 9.]
        ]
    );
}

proptest! {
#![proptest_config(ProptestConfig::with_cases(100))]

/// <im2col(x), Y> = <x, col2im(Y)> for random x and Y: col2im is im2col's transpose.
#[test]
fn col2im_is_the_adjoint_of_im2col((c, h, w, _, f, s, p) in tiling_shape(), seed in 0u64..10_000) {
    let mut rng = common::rng(seed);
    {
        let x = random4(&mut rng, (2, c, h, w));
        let cols = im2col(x.view(), f, f, cfg(s, p)).unwrap();
        let y = Array2::from_shape_fn(cols.dim(), |_| rng.random_range(-1.0f32..1.0));
        let back = col2im(y.view(), x.dim(), f, f, cfg(s, p)).unwrap();
        let left: f64 = cols
            .iter()
            .zip(y.iter())
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum();
        let right: f64 = x
            .iter()
            .zip(back.iter())
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum();
        prop_assert!(
            approx::abs_diff_eq!(left, right, epsilon = 1e-4 * (1.0 + left.abs())),
            "{} vs {}", left, right
        );
    }
}
}

#[test]
fn mismatched_shapes_are_named() {
    let dy = Array4::<f32>::zeros((1, 2, 3, 3));
    let w = Array4::<f32>::zeros((2, 1, 3, 3));
    // A 3x3 output of a 3x3 kernel at stride 1 comes from a 5x5 input, not 6x6.
    let err = conv_transpose2d(dy.view(), w.view(), cfg(1, 0), (6, 6))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("(6, 6)") && err.contains("(1, 2, 4, 4)"),
        "{err}"
    );
    let cols = Array2::<f32>::zeros((9, 5));
    let err = col2im(cols.view(), (1, 1, 5, 5), 3, 3, cfg(1, 0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("(9, 5)") && err.contains("(9, 9)"), "{err}");
}

/// Chapter 6: the transposed convolution's output width is W = (W' - 1) S + F - 2P, and
/// with stride S under floor rounding the S widths W .. W + S - 1 give the same W'.
#[test]
fn the_transposed_convolutions_output_size_and_its_ambiguity() {
    use cnn_book::shape::{Rounding, Window};
    // By hand: 3 outputs of a 3-tap window, stride 2, padding 1: (3 - 1) 2 + 3 - 2 = 5.
    assert_eq!(Window::new(3, 1, 2).unwrap().output_size(5).unwrap(), 3);
    for (out, f, s, p) in [
        (3, 3, 2, 1),
        (4, 5, 1, 2),
        (7, 2, 2, 0),
        (5, 3, 3, 0),
        (6, 4, 2, 1),
    ] {
        let w = (out - 1) * s + f - 2 * p;
        let window = Window::new(f, p, s).unwrap();
        assert_eq!(window.output_size(w).unwrap(), out, "W = {w}");
        for extra in 0..s {
            assert_eq!(
                window.output_size_with(w + extra, Rounding::Floor).unwrap(),
                out
            );
        }
        assert_eq!(
            window.output_size_with(w + s, Rounding::Floor).unwrap(),
            out + 1
        );
        // The transposed convolution of a (1, 1, out, out) map gives (w, w) when asked to.
        let x = Array4::from_elem((1, 1, out, out), 1.0f32);
        let k = Array4::from_elem((1, 1, f, f), 1.0f32);
        let y = conv_transpose2d(x.view(), k.view(), cfg(s, p), (w, w)).unwrap();
        assert_eq!(y.dim(), (1, 1, w, w));
    }
}
