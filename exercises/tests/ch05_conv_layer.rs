//! Checkers for chapter 5: compare the exercises with `cnn_book::conv`.

mod common;

use cnn_book::conv::{conv2d_naive, conv2d_single, Conv2dConfig};
use cnn_book::conv_matrix::dilate;
use cnn_book_exercises::ch05_conv_layer::{conv2d_dilated, conv2d_multi, conv2d_one_channel};
use common::{array_code, random_array, random_array4, Checker, Rng};
use ndarray::{array, s, Array1, Array2, Array3, Array4, Axis};

const FILE: &str = "exercises/src/ch05_conv_layer.rs";

/// Small integers are exact in `f32`, whatever the order of the sums; random floats are
/// allowed this much rounding (relative to the larger of 1 and the entries' size).
const FLOAT_TOLERANCE: f64 = 1e-4;

/// The `5 x 5` image of the worked examples of exercise 5.2, `x[r][c] = 5r + c`.
fn ramp() -> Array2<f32> {
    Array2::from_shape_fn((5, 5), |(r, c)| (5 * r + c) as f32)
}

/// A size along one axis for which a window with `field`, `padding` and `stride` works and
/// gives between 1 and 6 outputs, or a random size (often one that does not work) when
/// there is none or with probability 1/5.
fn size_for(rng: &mut Rng, field: usize, padding: usize, stride: usize) -> usize {
    if !rng.chance(1, 5) {
        let padded = (rng.size(1, 6) - 1) * stride + field;
        if padded > 2 * padding {
            return padded - 2 * padding;
        }
    }
    rng.size(1, 16)
}

#[test]
fn exercise_5_1_conv2d_one_channel() {
    let mut checker = Checker::new(
        "5.1",
        "conv2d_one_channel",
        FILE,
        "output (i, j) is the sum over u < KH, v < KW of padded[i*S + u][j*S + v] * \
         kernel[u][v], where padded[r][c] is image[r - P][c - P] inside the image and 0 in the \
         border of P rows and columns (do not flip the kernel). Work out the output size \
         along each axis separately, (H - KH + 2P)/S + 1 and (W - KW + 2P)/S + 1, and return \
         None if either does not work: S = 0, an empty kernel or image, a kernel larger than \
         the padded image, or a division that is not exact.",
    );
    let check = |checker: &mut Checker,
                 image: Array2<f32>,
                 kernel: Array2<f32>,
                 stride: usize,
                 padding: usize,
                 tolerance: f64| {
        let config = Conv2dConfig::new(stride, padding);
        checker.check_close(
            || {
                format!(
                    "conv2d_one_channel(&{}, &{}, {stride}, {padding})",
                    array_code(&image),
                    array_code(&kernel)
                )
            },
            conv2d_single(image.view(), kernel.view(), config).ok(),
            || conv2d_one_channel(&image, &kernel, stride, padding),
            tolerance,
        );
    };
    let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
    let examples = [
        (array![[1.0, 0.0], [0.0, -1.0]], 1, 0),
        (array![[1.0, -1.0]], 1, 0),
        (Array2::ones((3, 3)), 2, 1),
        (array![[1.0, 0.0], [0.0, -1.0]], 2, 0),
        (Array2::ones((4, 4)), 1, 0),
        (Array2::ones((4, 4)), 1, 1),
        (Array2::ones((3, 3)), 0, 1),
        (Array2::zeros((0, 2)), 1, 0),
    ];
    for (kernel, stride, padding) in examples {
        check(&mut checker, x.clone(), kernel, stride, padding, 0.0);
    }
    check(
        &mut checker,
        Array2::zeros((0, 3)),
        Array2::ones((1, 1)),
        1,
        1,
        0.0,
    );

    // Every combination of small sizes, strides and paddings, zeros and non-square shapes
    // included, with small integers: exact. Most of them do not work, in one way or another.
    let mut rng = Rng::new(51);
    for height in 0..=5 {
        for width in 0..=5 {
            for kh in 0..=4 {
                for kw in 0..=4 {
                    for stride in 0..=3 {
                        for padding in 0..=2 {
                            let image = random_array(&mut rng, height, width, true);
                            let kernel = random_array(&mut rng, kh, kw, true);
                            check(&mut checker, image, kernel, stride, padding, 0.0);
                        }
                    }
                }
            }
        }
    }
    // Random floats on larger images, mostly sizes the window tiles.
    for _ in 0..1000 {
        let (kh, kw) = (rng.size(1, 6), rng.size(1, 6));
        let (stride, padding) = (rng.size(1, 4), rng.size(0, 3));
        let height = size_for(&mut rng, kh, padding, stride);
        let width = size_for(&mut rng, kw, padding, stride);
        let image = random_array(&mut rng, height, width, false);
        let kernel = random_array(&mut rng, kh, kw, false);
        check(
            &mut checker,
            image,
            kernel,
            stride,
            padding,
            FLOAT_TOLERANCE,
        );
    }
    checker.finish();
}

/// The library's answer to exercise 5.2: spread the kernel's taps `dilation` apart by
/// inserting `dilation - 1` zeros between neighbours (`dilate`, which works on 4D arrays
/// `(N, C, H, W)`), then run the ordinary convolution, stride 1, no padding. The zeros
/// contribute nothing, and tap `(u, v)` lands at `(u*dilation, v*dilation)`.
fn library_conv2d_dilated(
    image: &Array2<f32>,
    kernel: &Array2<f32>,
    dilation: usize,
) -> Option<Array2<f32>> {
    let kernel4 = kernel.view().insert_axis(Axis(0)).insert_axis(Axis(0));
    let spread = dilate(kernel4, dilation).ok()?; // dilation 0 is an error
    conv2d_single(
        image.view(),
        spread.slice(s![0, 0, .., ..]),
        Conv2dConfig::default(),
    )
    .ok()
}

#[test]
fn exercise_5_2_conv2d_dilated() {
    let mut checker = Checker::new(
        "5.2",
        "conv2d_dilated",
        FILE,
        "tap (u, v) of output (i, j) reads image[i + u*d][j + v*d] (d = dilation), not \
         image[i + u][j + v]. Work out how many rows and columns the dilated kernel spans, \
         from its first tap to its last (draw a 3 x 3 kernel with dilation 2): the output \
         has one entry per position where that span fits in the image. Return None for \
         d = 0, an empty kernel, or a span larger than the image.",
    );
    let check = |checker: &mut Checker,
                 image: Array2<f32>,
                 kernel: Array2<f32>,
                 dilation: usize,
                 tolerance: f64| {
        checker.check_close(
            || {
                format!(
                    "conv2d_dilated(&{}, &{}, {dilation})",
                    array_code(&image),
                    array_code(&kernel)
                )
            },
            library_conv2d_dilated(&image, &kernel, dilation),
            || conv2d_dilated(&image, &kernel, dilation),
            tolerance,
        );
    };
    check(&mut checker, ramp(), array![[1.0, -1.0]], 2, 0.0);
    check(&mut checker, ramp(), Array2::ones((3, 3)), 2, 0.0);
    check(&mut checker, ramp(), Array2::ones((3, 3)), 3, 0.0);
    check(&mut checker, ramp(), Array2::ones((3, 3)), 0, 0.0);
    check(&mut checker, ramp(), array![[1.0, 2.0], [3.0, 4.0]], 1, 0.0);
    check(&mut checker, ramp(), array![[1.0, 2.0], [3.0, 4.0]], 4, 0.0);
    check(&mut checker, ramp(), Array2::zeros((2, 0)), 1, 0.0);
    check(&mut checker, Array2::zeros((0, 0)), array![[1.0]], 1, 0.0);

    // Every combination of small sizes and dilations, with small integers: exact.
    let mut rng = Rng::new(52);
    for height in 0..=7 {
        for width in 0..=7 {
            for kh in 0..=3 {
                for kw in 0..=3 {
                    for dilation in 0..=4 {
                        let image = random_array(&mut rng, height, width, true);
                        let kernel = random_array(&mut rng, kh, kw, true);
                        check(&mut checker, image, kernel, dilation, 0.0);
                    }
                }
            }
        }
    }
    // Random floats on larger images, mostly ones the dilated kernel fits in.
    for _ in 0..1000 {
        let (kh, kw, dilation) = (rng.size(1, 4), rng.size(1, 4), rng.size(1, 5));
        let (span_h, span_w) = ((kh - 1) * dilation + 1, (kw - 1) * dilation + 1);
        let (height, width) = if rng.chance(1, 5) {
            (rng.size(1, 20), rng.size(1, 20))
        } else {
            (span_h + rng.size(0, 8), span_w + rng.size(0, 8))
        };
        let image = random_array(&mut rng, height, width, false);
        let kernel = random_array(&mut rng, kh, kw, false);
        check(&mut checker, image, kernel, dilation, FLOAT_TOLERANCE);
    }
    checker.finish();
}

/// The library's answer to exercise 5.3: `conv2d_naive` on a batch of one image, or
/// `None` for shapes the library refuses (the exercise assumes shapes that fit, so the
/// checker skips those).
fn library_conv2d_multi(
    input: &Array3<f32>,
    filters: &Array4<f32>,
    bias: &[f32],
    stride: usize,
    padding: usize,
) -> Option<Array3<f32>> {
    let batch = input.view().insert_axis(Axis(0));
    let bias = Array1::from(bias.to_vec());
    let config = Conv2dConfig::new(stride, padding);
    let output = conv2d_naive(batch, filters.view(), Some(bias.view()), config).ok()?;
    Some(output.index_axis_move(Axis(0), 0))
}

/// A random `(C, H, W)` image, small integers or floats as in `random_array`.
fn random_volume(rng: &mut Rng, shape: (usize, usize, usize), integers: bool) -> Array3<f32> {
    let (channels, height, width) = shape;
    random_array4(rng, (1, channels, height, width), integers).index_axis_move(Axis(0), 0)
}

#[test]
fn exercise_5_3_conv2d_multi() {
    let mut checker = Checker::new(
        "5.3",
        "conv2d_multi",
        FILE,
        "output [k, i, j] is bias[k] plus the sum over every channel c < C and tap \
         u < KH, v < KW of padded[c][i*S + u][j*S + v] * filters[k][c][u][v], where \
         padded[c][r][q] is input[c][r - P][q - P] inside the image and 0 in the border (do \
         not flip the kernel). Add the bias once per output value, not once per channel, \
         and sum over the channels into one output channel per filter. The output has \
         shape (K, (H - KH + 2P)/S + 1, (W - KW + 2P)/S + 1).",
    );
    // Checks one input, if its shapes fit; returns whether they did.
    let check = |checker: &mut Checker,
                 input: &Array3<f32>,
                 filters: &Array4<f32>,
                 bias: &[f32],
                 stride: usize,
                 padding: usize,
                 tolerance: f64| {
        let Some(expected) = library_conv2d_multi(input, filters, bias, stride, padding) else {
            return false;
        };
        checker.check_close(
            || {
                format!(
                    "conv2d_multi(&{}, &{}, &{bias:?}, {stride}, {padding})",
                    array_code(input),
                    array_code(filters)
                )
            },
            expected,
            || conv2d_multi(input, filters, bias, stride, padding),
            tolerance,
        );
        true
    };
    // The worked examples.
    let x = array![[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]];
    let two = array![[[1.0, 2.0], [3.0, 4.0]], [[10.0, 20.0], [30.0, 40.0]]];
    let w = array![
        [[[1.0, 1.0], [1.0, 1.0]], [[-1.0, -1.0], [-1.0, -1.0]]],
        [[[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]]
    ];
    let small = array![[[1.0, 2.0], [3.0, 4.0]]];
    let centre = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, u, v)| (3 * u + v + 1) as f32);
    let examples = [
        (x, Array4::ones((1, 1, 2, 2)), vec![0.5], 1, 0),
        (two, w, vec![0.0, 1.0], 1, 0),
        (small, Array4::ones((1, 1, 2, 2)), vec![0.0], 1, 1),
        (array![[[5.0]]], centre, vec![-1.0], 1, 1),
    ];
    for (input, filters, bias, stride, padding) in examples {
        assert!(
            check(&mut checker, &input, &filters, &bias, stride, padding, 0.0),
            "checker bug: a worked example does not fit"
        );
    }

    // Every small geometry that fits, non-square kernels and kernels larger than the image
    // included, with 1 to 3 channels and filters and small integers: exact.
    let mut rng = Rng::new(53);
    for height in 1..=5 {
        for width in 1..=5 {
            for kh in 1..=4 {
                for kw in 1..=4 {
                    for stride in 1..=3 {
                        for padding in 0..=2 {
                            let (channels, count) = (rng.size(1, 3), rng.size(1, 3));
                            let input = random_volume(&mut rng, (channels, height, width), true);
                            let filters = random_array4(&mut rng, (count, channels, kh, kw), true);
                            let bias: Vec<f32> =
                                (0..count).map(|_| rng.between(0, 8) as f32 - 4.0).collect();
                            check(&mut checker, &input, &filters, &bias, stride, padding, 0.0);
                        }
                    }
                }
            }
        }
    }
    // LeNet's two convolutions: 6 filters 5 x 5 on a padded 28 x 28 image, then 16 on the
    // 6 channels of a 14 x 14 map.
    for (channels, side, count, padding) in [(1, 28, 6, 2), (6, 14, 16, 0)] {
        let input = random_volume(&mut rng, (channels, side, side), true);
        let filters = random_array4(&mut rng, (count, channels, 5, 5), true);
        let bias: Vec<f32> = (0..count).map(|_| rng.between(0, 8) as f32 - 4.0).collect();
        assert!(check(
            &mut checker,
            &input,
            &filters,
            &bias,
            1,
            padding,
            0.0
        ));
    }
    // Random floats on larger volumes, with sizes the window tiles.
    for _ in 0..500 {
        let (channels, count) = (rng.size(1, 6), rng.size(1, 6));
        let (kh, kw) = (rng.size(1, 5), rng.size(1, 5));
        let (stride, padding) = (rng.size(1, 3), rng.size(0, 2));
        let height = size_for(&mut rng, kh, padding, stride);
        let width = size_for(&mut rng, kw, padding, stride);
        let input = random_volume(&mut rng, (channels, height, width), false);
        let filters = random_array4(&mut rng, (count, channels, kh, kw), false);
        let bias: Vec<f32> = (0..count).map(|_| rng.float(-1.0, 1.0) as f32).collect();
        check(
            &mut checker,
            &input,
            &filters,
            &bias,
            stride,
            padding,
            FLOAT_TOLERANCE,
        );
    }
    checker.finish();
}
