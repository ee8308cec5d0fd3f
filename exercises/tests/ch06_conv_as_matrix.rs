//! Checkers for chapter 6: compare the exercises with `cnn_book::conv_matrix` and
//! `cnn_book::im2col`.

mod common;

use cnn_book::conv::Conv2dConfig;
use cnn_book::conv1d::{correlate, Sequence};
use cnn_book::conv_matrix::{conv_matrix, conv_transpose2d};
use cnn_book::im2col::im2col;
use cnn_book::shape::conv_output_size;
use cnn_book_exercises::ch06_conv_as_matrix::{
    conv_matrix_1d, conv_transpose_1d, im2col_one_channel,
};
use common::{array_code, random_array, Checker, Rng};
use ndarray::{array, s, Array1, Array2, ArrayView2, ArrayView4, Axis};

const FILE: &str = "exercises/src/ch06_conv_as_matrix.rs";

/// A kernel as a `1 x k` matrix, the shape `conv_matrix` takes.
fn as_row(kernel: &[f32]) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((1, kernel.len()), kernel).expect("a slice is one row")
}

/// The library's answer to exercise 6.1 with dilation 1, the ordinary convolution.
///
/// `conv_matrix(1, length, kernel as a 1 x k row, Conv2dConfig::new(stride, padding))` is
/// *not* the 1D matrix when `padding > 0`: the config pads the height as well. The image
/// then has `1 + 2P` rows, of which only row `P` is real, and the kernel (one row tall)
/// slides down them at stride `S` too. That gives `2P/S + 1` rows of windows, so `C` has
/// that many times too many rows; the windows at padded height `r*S != P` read only
/// padding and their rows of `C` are zero; when `S` does not divide `P`, no window reads
/// the real row and `C` is all zeros; and when `S` does not divide `2P` the library refuses
/// although the 1D window works. (`check_height_one_padding` below confirms all this.)
///
/// So pad the signal explicitly instead. With padding `P`, the convolution of `x` is the
/// padding-free convolution of the padded signal `[0; P] x [0; P]`, whose matrix
/// `conv_matrix(1, length + 2P, row, Conv2dConfig::new(stride, 0))` has a column for
/// each padded position. The first and last `P` columns multiply the padding zeros, so
/// they never contribute: dropping them leaves exactly the `(outputs, length)` matrix of
/// the padded convolution, with no height axis to get in the way. Whether the window
/// works at all is the library's 1D rule, `conv_output_size`, which (unlike the padded
/// signal) also refuses a signal of length 0.
fn library_conv_matrix_1d(
    length: usize,
    kernel: &[f32],
    stride: usize,
    padding: usize,
) -> Option<Array2<f32>> {
    let outputs = conv_output_size(length, kernel.len(), padding, stride).ok()?;
    let config = Conv2dConfig::new(stride, 0);
    let padded = conv_matrix(1, length + 2 * padding, as_row(kernel), config)
        .expect("checker bug: the padded signal does not work without padding");
    assert_eq!(padded.dim(), (outputs, length + 2 * padding), "checker bug");
    Some(padded.slice(s![.., padding..padding + length]).to_owned())
}

/// Checker self-test for a working 1D window, whose matrix is `expected`: what
/// `conv_matrix` with height 1 and the padding in the config gives (see
/// `library_conv_matrix_1d`), and that `expected` times a signal `x` is the convolution of
/// `x` computed from `cnn_book::conv1d::correlate` on the explicitly padded signal.
fn check_height_one_padding(
    rng: &mut Rng,
    length: usize,
    kernel: &[f32],
    stride: usize,
    padding: usize,
    expected: &Array2<f32>,
) {
    let outputs = expected.nrows();
    let config = Conv2dConfig::new(stride, padding);
    match conv_matrix(1, length, as_row(kernel), config) {
        Err(_) => assert_ne!((2 * padding) % stride, 0, "checker bug: unexpected error"),
        Ok(tall) => {
            let windows_down = 2 * padding / stride + 1;
            assert_eq!(tall.dim(), (windows_down * outputs, length), "checker bug");
            for r in 0..windows_down {
                let block = tall.slice(s![r * outputs..(r + 1) * outputs, ..]);
                if r * stride == padding {
                    assert_eq!(block, expected, "checker bug: the real row differs");
                } else {
                    assert!(block.iter().all(|&w| w == 0.0), "checker bug: padding row");
                }
            }
        }
    }
    // C x against the chapter 4 cross-correlation of the padded signal: output o is the
    // valid correlation at time o*stride, the full correlation's value there.
    let x: Vec<f64> = (0..length).map(|_| rng.float(-1.0, 1.0)).collect();
    let mut padded_x = vec![0.0; padding];
    padded_x.extend(&x);
    padded_x.extend(vec![0.0; padding]);
    let full = correlate(
        &Sequence::causal(padded_x),
        &Sequence::causal(kernel.iter().map(|&w| w as f64).collect()),
    );
    for o in 0..outputs {
        let product: f64 = (0..length).map(|n| expected[[o, n]] as f64 * x[n]).sum();
        let want = full.at((o * stride) as i64);
        assert!(
            (product - want).abs() <= 1e-9 * want.abs().max(1.0),
            "checker bug: C x = {product} but the correlation is {want} at output {o}"
        );
    }
}

/// A dilated kernel written out as an ordinary one: `dilation - 1` zeros between
/// neighbouring taps. Convolving with it is the dilated convolution (the zeros add
/// nothing), so its matrix is the answer to exercise 6.1 (for `dilation >= 1`).
fn spread(kernel: &[f32], dilation: usize) -> Vec<f32> {
    let mut spread = Vec::new();
    for (u, &weight) in kernel.iter().enumerate() {
        if u > 0 {
            spread.extend(std::iter::repeat_n(0.0, dilation - 1));
        }
        spread.push(weight);
    }
    spread
}

/// The library's answer to exercise 6.1: no window for a dilation of 0, otherwise the
/// matrix of the ordinary kernel with the zeros spread in.
fn library_dilated_conv_matrix_1d(
    length: usize,
    kernel: &[f32],
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<Array2<f32>> {
    if dilation == 0 {
        return None;
    }
    library_conv_matrix_1d(length, &spread(kernel, dilation), stride, padding)
}

/// Checker self-test, independent of the library: `expected` times a random signal is the
/// dilated correlation written from its definition (tap `u` of output `o` reads padded
/// position `o*stride + u*dilation`), summed in `f64`.
fn check_dilated_definition(
    rng: &mut Rng,
    length: usize,
    kernel: &[f32],
    (stride, padding, dilation): (usize, usize, usize),
    expected: &Array2<f32>,
) {
    let x: Vec<f64> = (0..length).map(|_| rng.float(-1.0, 1.0)).collect();
    let padded = |position: usize| {
        position
            .checked_sub(padding)
            .filter(|&n| n < length)
            .map_or(0.0, |n| x[n])
    };
    for o in 0..expected.nrows() {
        let want: f64 = kernel
            .iter()
            .enumerate()
            .map(|(u, &w)| w as f64 * padded(o * stride + u * dilation))
            .sum();
        let product: f64 = (0..length).map(|n| expected[[o, n]] as f64 * x[n]).sum();
        assert!(
            (product - want).abs() <= 1e-9 * want.abs().max(1.0),
            "checker bug: C x = {product} but the dilated correlation is {want} at output {o}"
        );
    }
    // The last window ends on the padded signal's last position.
    if let Some(last) = expected.nrows().checked_sub(1) {
        assert_eq!(
            last * stride + (kernel.len() - 1) * dilation + 1,
            length + 2 * padding,
            "checker bug: the windows do not tile the padded signal"
        );
    }
}

#[test]
fn exercise_6_1_conv_matrix_1d() {
    let mut checker = Checker::new(
        "6.1",
        "conv_matrix_1d",
        FILE,
        "first work out how far the dilated kernel reaches, from its first tap to its last, \
         and count the windows of that length that fit in the padded signal; return None \
         when they do not tile it exactly (or when the signal, the kernel, the stride or \
         the dilation is empty or 0). Then place each tap of each row in the column of the \
         real input it reads: taps in the padding get no column (check that a position is \
         at least the padding before subtracting it), and the gaps between taps stay zero. \
         With dilation 1 you must get the ordinary convolution's matrix.",
    );
    let mut rng = Rng::new(61);
    let mut check = |checker: &mut Checker,
                     length: usize,
                     kernel: Vec<f32>,
                     (stride, padding, dilation): (usize, usize, usize)| {
        let expected = library_dilated_conv_matrix_1d(length, &kernel, stride, padding, dilation);
        if let Some(matrix) = &expected {
            let ordinary = spread(&kernel, dilation);
            check_height_one_padding(&mut rng, length, &ordinary, stride, padding, matrix);
            let geometry = (stride, padding, dilation);
            check_dilated_definition(&mut rng, length, &kernel, geometry, matrix);
        }
        checker.check_close(
            || format!("conv_matrix_1d({length}, &{kernel:?}, {stride}, {padding}, {dilation})"),
            expected,
            || conv_matrix_1d(length, &kernel, stride, padding, dilation),
            0.0,
        );
    };
    let kernel = vec![1.0, 2.0, 3.0];
    check(&mut checker, 4, kernel.clone(), (1, 0, 1));
    check(&mut checker, 5, kernel.clone(), (1, 0, 2));
    check(&mut checker, 6, kernel.clone(), (1, 1, 2));
    check(&mut checker, 5, kernel.clone(), (2, 1, 1));
    check(&mut checker, 8, vec![1.0, 2.0], (2, 0, 3));
    check(&mut checker, 7, vec![1.0, 2.0], (2, 0, 3));
    check(&mut checker, 4, kernel.clone(), (1, 0, 2));
    check(&mut checker, 4, kernel.clone(), (1, 0, 0));
    check(&mut checker, 4, kernel.clone(), (2, 1, 1));
    check(&mut checker, 0, vec![1.0], (1, 0, 1));
    check(&mut checker, 0, vec![1.0], (1, 1, 1));
    check(&mut checker, 3, vec![], (1, 1, 1));
    check(&mut checker, 3, vec![1.0, 2.0], (0, 1, 1));
    check(&mut checker, 1, vec![1.0, 2.0, 3.0, 4.0, 5.0], (1, 2, 1));
    check(&mut checker, 1, vec![1.0, 2.0], (1, 2, 3));

    // Every combination of small values, zeros included. The kernels' values are distinct
    // (1, 2, ...): a tap in the wrong column cannot go unnoticed.
    for length in 0..=12 {
        for width in 0..=5 {
            let kernel: Vec<f32> = (1..=width).map(|u| u as f32).collect();
            for stride in 0..=3 {
                for padding in 0..=3 {
                    for dilation in 0..=3 {
                        check(
                            &mut checker,
                            length,
                            kernel.clone(),
                            (stride, padding, dilation),
                        );
                    }
                }
            }
        }
    }
    // Random float kernels on longer signals, mostly ones the window tiles.
    let mut values = Rng::new(62);
    for _ in 0..500 {
        let (width, stride, padding) = (values.size(1, 6), values.size(1, 4), values.size(0, 4));
        let dilation = values.size(1, 4);
        let span = (width - 1) * dilation + 1;
        // The padded signal spans the dilated kernel plus a whole number of strides.
        let padded = (values.size(1, 12) - 1) * stride + span;
        let length = if padded <= 2 * padding || values.chance(1, 5) {
            values.size(1, 40)
        } else {
            padded - 2 * padding
        };
        let kernel = (0..width).map(|_| values.float(-1.0, 1.0) as f32).collect();
        check(&mut checker, length, kernel, (stride, padding, dilation));
    }
    checker.finish();
}

#[test]
fn exercise_6_2_im2col_one_channel() {
    let mut checker = Checker::new(
        "6.2",
        "im2col_one_channel",
        FILE,
        "there are out_h = (H - F)/S + 1 window positions down and out_w = (W - F)/S + 1 \
         across (None if either does not work: F or S is 0, an empty image, F larger than \
         the image, or a division that is not exact). Column i*out_w + j is window (i, j), \
         and its row u*F + v is tap (u, v): image[i*S + u][j*S + v]. Rows are taps and \
         columns are positions, not the other way round.",
    );
    let check = |checker: &mut Checker, image: Array2<f32>, field: usize, stride: usize| {
        let config = Conv2dConfig::new(stride, 0);
        let image4 = image.view().insert_axis(Axis(0)).insert_axis(Axis(0));
        checker.check_close(
            || {
                format!(
                    "im2col_one_channel(&{}, {field}, {stride})",
                    array_code(&image)
                )
            },
            im2col(image4, field, field, config).ok(),
            || im2col_one_channel(&image, field, stride),
            0.0,
        );
    };
    let x = array![
        [1.0, 2.0, 3.0, 4.0],
        [5.0, 6.0, 7.0, 8.0],
        [9.0, 10.0, 11.0, 12.0]
    ];
    let sixteen = Array2::from_shape_fn((4, 4), |(r, c)| (4 * r + c + 1) as f32);
    check(&mut checker, x.clone(), 2, 1);
    check(&mut checker, sixteen.clone(), 2, 2);
    check(&mut checker, x.clone(), 2, 2);
    check(&mut checker, x.clone(), 3, 1);
    check(&mut checker, x.clone(), 4, 1);
    check(&mut checker, x.clone(), 0, 1);
    check(&mut checker, x, 1, 0);
    check(&mut checker, sixteen, 4, 3);
    check(&mut checker, Array2::zeros((0, 4)), 1, 1);

    // Every combination of small sizes, fields and strides, zeros and non-square images
    // included. The pixels' values are distinct: a pixel in the wrong place shows.
    for height in 0..=7 {
        for width in 0..=7 {
            let image = Array2::from_shape_fn((height, width), |(r, c)| (10 * r + c) as f32);
            for field in 0..=4 {
                for stride in 0..=3 {
                    check(&mut checker, image.clone(), field, stride);
                }
            }
        }
    }
    // Random images, mostly of sizes the windows tile.
    let mut rng = Rng::new(63);
    for _ in 0..500 {
        let (field, stride) = (rng.size(1, 5), rng.size(1, 4));
        let mut side = || {
            if rng.chance(1, 5) {
                rng.size(1, 20)
            } else {
                (rng.size(1, 6) - 1) * stride + field
            }
        };
        let (height, width) = (side(), side());
        let image = random_array(&mut rng, height, width, false);
        check(&mut checker, image, field, stride);
    }
    checker.finish();
}

/// The library's answer to exercise 6.3: the transpose of the convolution's matrix (as in
/// exercise 6.1, from `conv_matrix` on the explicitly padded signal) times `y`, or `None`
/// when the shapes do not fit (the exercise assumes they do, so the checker skips those).
fn library_conv_transpose_1d(
    y: &[f32],
    w: &[f32],
    stride: usize,
    padding: usize,
    out_len: usize,
) -> Option<Vec<f32>> {
    let matrix = library_conv_matrix_1d(out_len, w, stride, padding)?;
    if matrix.nrows() != y.len() {
        return None;
    }
    Some(matrix.t().dot(&Array1::from(y.to_vec())).to_vec())
}

/// Checker self-test: `expected` is also what the library's scattering
/// `conv_transpose2d` gives. Like `conv_matrix`, it would pad the height of a one-row
/// signal too, so it runs without padding on the padded signal's length, and the padding
/// positions are dropped from its output (they are the columns of `C` that multiply the
/// padding zeros).
fn check_against_conv_transpose2d(
    y: &[f32],
    w: &[f32],
    stride: usize,
    padding: usize,
    out_len: usize,
    expected: &[f32],
) {
    let y4 = ArrayView4::from_shape((1, 1, 1, y.len()), y).expect("one row");
    let w4 = ArrayView4::from_shape((1, 1, 1, w.len()), w).expect("one row");
    let config = Conv2dConfig::new(stride, 0);
    let padded = conv_transpose2d(y4, w4, config, (1, out_len + 2 * padding))
        .expect("checker bug: the padded signal does not work without padding");
    let scattered = padded.slice(s![0, 0, 0, padding..padding + out_len]);
    for (n, (&a, &b)) in scattered.iter().zip(expected).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1.0),
            "checker bug: C^T y = {b} but conv_transpose2d gives {a} at {n}"
        );
    }
}

#[test]
fn exercise_6_3_conv_transpose_1d() {
    let mut checker = Checker::new(
        "6.3",
        "conv_transpose_1d",
        FILE,
        "C^T y is the sum over outputs o of y[o] times row o of C, and row o of C holds w[u] \
         in column o*S + u - P for each tap u that lands on a real input \
         (0 <= o*S + u - P < out_len; compute o*S + u first and check it is at least P \
         before subtracting). Start from out_len zeros and add y[o] * w[u] there, for every \
         o and u; taps in the padding add nothing, and overlapping taps add up.",
    );
    // Checks one input, if its shapes fit; returns whether they did.
    let check = |checker: &mut Checker,
                 y: Vec<f32>,
                 w: Vec<f32>,
                 stride: usize,
                 padding: usize,
                 out_len: usize,
                 tolerance: f64| {
        let Some(expected) = library_conv_transpose_1d(&y, &w, stride, padding, out_len) else {
            return false;
        };
        check_against_conv_transpose2d(&y, &w, stride, padding, out_len, &expected);
        checker.check_close(
            || format!("conv_transpose_1d(&{y:?}, &{w:?}, {stride}, {padding}, {out_len})"),
            expected,
            || conv_transpose_1d(&y, &w, stride, padding, out_len),
            tolerance,
        );
        true
    };
    let kernel = vec![1.0, 2.0, 3.0];
    let examples = [
        (vec![1.0, 1.0], kernel.clone(), 1, 0, 4),
        (vec![1.0, 10.0, 100.0], kernel.clone(), 2, 1, 5),
        (vec![2.0], kernel.clone(), 1, 0, 3),
        (vec![1.0, 2.0, 3.0, 4.0], vec![5.0], 1, 1, 2),
        (vec![1.0, 2.0, 3.0], kernel, 1, 2, 1),
    ];
    for (y, w, stride, padding, out_len) in examples {
        assert!(
            check(&mut checker, y, w, stride, padding, out_len, 0.0),
            "checker bug: a worked example does not fit"
        );
    }

    // Every combination of small sizes, strides and paddings that fits, with small
    // integers: exact. The kernel's values are distinct (1, 2, ...).
    let mut rng = Rng::new(64);
    for out_len in 1..=12 {
        for width in 1..=6 {
            for stride in 1..=4 {
                for padding in 0..=3 {
                    let Ok(outputs) = conv_output_size(out_len, width, padding, stride) else {
                        continue;
                    };
                    let y = (0..outputs)
                        .map(|_| rng.between(0, 8) as f32 - 4.0)
                        .collect();
                    let w = (1..=width).map(|u| u as f32).collect();
                    assert!(check(&mut checker, y, w, stride, padding, out_len, 0.0));
                }
            }
        }
    }
    // Random floats on longer signals.
    for _ in 0..1000 {
        let (width, stride, padding) = (rng.size(1, 8), rng.size(1, 4), rng.size(0, 4));
        let outputs = rng.size(1, 40);
        // The padded signal spans one kernel plus a whole number of strides.
        let padded = (outputs - 1) * stride + width;
        if padded <= 2 * padding {
            continue;
        }
        let out_len = padded - 2 * padding;
        let y = (0..outputs).map(|_| rng.float(-1.0, 1.0) as f32).collect();
        let w = (0..width).map(|_| rng.float(-1.0, 1.0) as f32).collect();
        assert!(check(&mut checker, y, w, stride, padding, out_len, 1e-5));
    }
    checker.finish();
}
