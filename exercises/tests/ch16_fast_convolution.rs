//! Checkers for chapter 16: compare the exercises with ndarray's matrix product,
//! `cnn_book::im2col`, a multiply-add count of the convolution's definition and the
//! library's naive correlation.

mod common;

use cnn_book::conv::conv2d_naive;
use cnn_book::conv::{Conv2dConfig, ConvDims};
use cnn_book::im2col::im2col;
use cnn_book_exercises::ch16_fast_convolution::{
    blocked_matmul, conv_flops, im2col_same, winograd_tile,
};
use common::{array_code, random_array, Checker, Rng};
use ndarray::{array, Array2, Array4, Axis};

const FILE: &str = "exercises/src/ch16_fast_convolution.rs";

/// Relative tolerance for products of floats summed in another order.
const FLOAT_TOLERANCE: f64 = 1e-4;

#[test]
fn exercise_16_1_blocked_matmul() {
    let mut checker = Checker::new(
        "16.1",
        "blocked_matmul",
        FILE,
        "C[i][j] is the sum over p of A[i][p] * B[p][j], whatever the blocks: loop over tiles \
         of C (i0, j0 in steps of `block`) and over bands p0 of the shared dimension, and clip \
         every band at the matrix's edge with min(start + block, size). Return None for \
         block 0 or when a.ncols() != b.nrows().",
    );
    let check = |checker: &mut Checker, a: &Array2<f32>, b: &Array2<f32>, block: usize| {
        let expected = (block > 0 && a.ncols() == b.nrows()).then(|| a.dot(b));
        checker.check_close(
            || {
                format!(
                    "blocked_matmul(&{}, &{}, {block})",
                    array_code(a),
                    array_code(b)
                )
            },
            expected,
            || blocked_matmul(a, b, block),
            FLOAT_TOLERANCE,
        );
    };
    let (a, b) = (
        array![[1.0, 2.0], [3.0, 4.0]],
        array![[5.0, 6.0], [7.0, 8.0]],
    );
    for block in 0..5 {
        check(&mut checker, &a, &b, block);
    }
    check(
        &mut checker,
        &array![[1.0, 2.0, 3.0]],
        &array![[1.0], [1.0], [1.0]],
        2,
    );
    check(&mut checker, &array![[1.0, 2.0]], &array![[1.0, 2.0]], 4);
    // Empty products: no rows, no columns, or an empty shared dimension (all zeros).
    for (m, k, n) in [(0, 3, 2), (2, 0, 3), (3, 2, 0), (0, 0, 0)] {
        let mut rng = Rng::new(160 + m as u64);
        let (a, b) = (
            random_array(&mut rng, m, k, true),
            random_array(&mut rng, k, n, true),
        );
        check(&mut checker, &a, &b, 2);
    }
    // Random shapes: blocks that divide the sizes, that do not, and that exceed them;
    // small integers (exact in any order) and floats; mismatched shapes now and then.
    let mut rng = Rng::new(161);
    for round in 0..500 {
        let (m, k, n) = (rng.size(1, 24), rng.size(1, 24), rng.size(1, 24));
        let k2 = if round % 25 == 0 { k + 1 } else { k };
        let integers = rng.chance(1, 2);
        let a = random_array(&mut rng, m, k, integers);
        let b = random_array(&mut rng, k2, n, integers);
        let block = rng.pick(&[1, 2, 3, 4, 5, 7, 8, 16, 32, 100]);
        check(&mut checker, &a, &b, block);
    }
    // A few larger ones, the size of the chapter's GEMMs' tiles.
    for _ in 0..5 {
        let a = random_array(&mut rng, 64, 96, false);
        let b = random_array(&mut rng, 96, 48, false);
        check(&mut checker, &a, &b, 16);
    }
    checker.finish();
}

/// The library's patch matrix of one channel for a "same" convolution.
fn expected_im2col_same(image: &Array2<f32>, field: usize) -> Option<Array2<f32>> {
    let (h, w) = image.dim();
    if field == 0 || field % 2 == 0 || h == 0 || w == 0 {
        return None;
    }
    let config = Conv2dConfig::new(1, (field - 1) / 2);
    let x = image.clone().insert_axis(Axis(0)).insert_axis(Axis(0));
    Some(im2col(x.view(), field, field, config).expect("a same convolution always tiles"))
}

#[test]
fn exercise_16_2_im2col_same() {
    let mut checker = Checker::new(
        "16.2",
        "im2col_same",
        FILE,
        "Row u*F + v, column i*W + j holds image[i + u - P][j + v - P] with P = (F - 1)/2, or \
         0 when that position is outside the image. After the long copy, clear the rows i \
         with i + u - P outside 0..H and, in every row, the columns j with j + v - P outside \
         0..W: the copy wrapped values from the neighbouring image row into them.",
    );
    let check = |checker: &mut Checker, image: &Array2<f32>, field: usize| {
        checker.check_close(
            || format!("im2col_same(&{}, {field})", array_code(image)),
            expected_im2col_same(image, field),
            || im2col_same(image, field),
            0.0,
        );
    };
    let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
    for field in 0..8 {
        check(&mut checker, &x, field);
    }
    check(&mut checker, &Array2::zeros((0, 3)), 3);
    check(&mut checker, &Array2::zeros((2, 0)), 1);
    // Every image from 1x1 to 9x9 with fields 1, 3, 5, 7 (wider than the image included).
    let mut rng = Rng::new(162);
    for h in 1..=9 {
        for w in 1..=9 {
            for field in [1, 3, 5, 7] {
                let image = random_array(&mut rng, h, w, true);
                check(&mut checker, &image, field);
            }
        }
    }
    for _ in 0..100 {
        let (h, w) = (rng.size(1, 30), rng.size(1, 30));
        let image = random_array(&mut rng, h, w, false);
        check(&mut checker, &image, rng.pick(&[1, 3, 5, 7, 9, 2, 4]));
    }
    checker.finish();
}

/// The FLOPs of forward + backward: one `C F F` sum per output, in 128-bit arithmetic so
/// that overflow shows as a number too large for `u64`; the library's `ConvDims` decides
/// which shapes tile.
fn expected_conv_flops(
    input: (usize, usize, usize, usize),
    filters: usize,
    field: usize,
    padding: usize,
    stride: usize,
    input_gradient: bool,
) -> Option<u64> {
    let config = Conv2dConfig::new(stride, padding);
    // The library refuses an empty batch; the shape question is the same for one image.
    let (n, c, h, w) = input;
    let d = ConvDims::new((n.max(1), c, h, w), (filters, c, field, field), config).ok()?;
    let passes: u128 = if input_gradient { 3 } else { 2 };
    let per_output = (d.channels * field * field) as u128;
    let outputs = (n * d.filters) as u128 * (d.out_height * d.out_width) as u128;
    let total = 2 * passes * per_output * outputs;
    u64::try_from(total).ok()
}

#[test]
fn exercise_16_3_conv_flops() {
    let mut checker = Checker::new(
        "16.3",
        "conv_flops",
        FILE,
        "FLOPs = 2 x (number of outputs N K H' W') x (C F F) x (3 with the input gradient, 2 \
         without), with H' = (H - F + 2P)/S + 1. Return None when F or S is 0, F > H + 2P \
         (or W + 2P), the division is not whole, or the product overflows u64 \
         (checked_mul).",
    );
    let check = |checker: &mut Checker,
                 args: (
        (usize, usize, usize, usize),
        usize,
        usize,
        usize,
        usize,
        bool,
    )| {
        let (input, k, f, p, s, g) = args;
        checker.check(
            || format!("conv_flops({input:?}, {k}, {f}, {p}, {s}, {g})"),
            expected_conv_flops(input, k, f, p, s, g),
            || conv_flops(input, k, f, p, s, g),
        );
    };
    // The worked examples, checked by hand: 64*32*28*28 outputs * 288 * 2 * 3, and
    // 64*6*28*28 outputs * 25 * 2 * 2.
    assert_eq!(
        expected_conv_flops((64, 32, 28, 28), 32, 3, 1, 1, true),
        Some(64 * 32 * 28 * 28 * 288 * 2 * 3)
    );
    assert_eq!(
        expected_conv_flops((64, 1, 28, 28), 6, 5, 2, 1, false),
        Some(30_105_600)
    );
    check(&mut checker, ((64, 32, 28, 28), 32, 3, 1, 1, true));
    check(&mut checker, ((64, 1, 28, 28), 6, 5, 2, 1, false));
    check(&mut checker, ((1, 1, 4, 4), 1, 3, 0, 2, true));
    // Zero-sized fields and strides, empty batches, rectangles, overflow.
    check(&mut checker, ((1, 1, 4, 4), 1, 0, 0, 1, true));
    check(&mut checker, ((1, 1, 4, 4), 1, 3, 0, 0, true));
    check(&mut checker, ((0, 3, 8, 8), 4, 3, 1, 1, true));
    check(&mut checker, ((2, 3, 8, 6), 4, 3, 1, 1, false));
    check(
        &mut checker,
        ((1 << 20, 1 << 10, 1 << 10, 1 << 10), 1 << 10, 3, 1, 1, true),
    );
    let mut rng = Rng::new(163);
    for _ in 0..2000 {
        let input = (
            rng.size(0, 5),
            rng.size(1, 6),
            rng.size(1, 20),
            rng.size(1, 20),
        );
        let args = (
            input,
            rng.size(1, 9),
            rng.size(0, 8),
            rng.size(0, 4),
            rng.size(0, 4),
            rng.chance(1, 2),
        );
        check(&mut checker, args);
    }
    checker.finish();
}

/// The 2 x 2 correlation of a 4 x 4 patch with a 3 x 3 filter by the library's naive
/// loops (chapter 5), or `None` for other shapes.
fn expected_winograd_tile(d: &Array2<f32>, g: &Array2<f32>) -> Option<Array2<f32>> {
    if d.dim() != (4, 4) || g.dim() != (3, 3) {
        return None;
    }
    let x = d.clone().into_shape_with_order((1, 1, 4, 4)).unwrap();
    let w = g.clone().into_shape_with_order((1, 1, 3, 3)).unwrap();
    let config = Conv2dConfig::new(1, 0);
    let y: Array4<f32> = conv2d_naive(x.view(), w.view(), None, config).unwrap();
    Some(y.into_shape_with_order((2, 2)).unwrap())
}

#[test]
fn exercise_16_4_winograd_tile() {
    let mut checker = Checker::new(
        "16.4",
        "winograd_tile",
        FILE,
        "Compute V = B^T d B (4 x 4) and U = G g G^T (4 x 4), multiply them entry by entry, \
         and return A^T (U * V) A (2 x 2). Check your matrices against the two worked \
         examples; return None unless d is 4 x 4 and g is 3 x 3.",
    );
    let check = |checker: &mut Checker, d: &Array2<f32>, g: &Array2<f32>| {
        checker.check_close(
            || format!("winograd_tile(&{}, &{})", array_code(d), array_code(g)),
            expected_winograd_tile(d, g),
            || winograd_tile(d, g),
            FLOAT_TOLERANCE,
        );
    };
    // The worked examples, checked by hand: the centre of d, and window sums of i + j.
    let ramp = Array2::from_shape_fn((4, 4), |(i, j)| (i + j) as f32);
    let mut centre = Array2::zeros((3, 3));
    centre[[1, 1]] = 1.0;
    assert_eq!(
        expected_winograd_tile(&ramp, &centre),
        Some(array![[2.0, 3.0], [3.0, 4.0]])
    );
    assert_eq!(
        expected_winograd_tile(&ramp, &Array2::ones((3, 3))),
        Some(array![[18.0, 27.0], [27.0, 36.0]])
    );
    check(&mut checker, &ramp, &centre);
    check(&mut checker, &ramp, &Array2::ones((3, 3)));
    // Wrong shapes.
    check(&mut checker, &Array2::zeros((3, 4)), &Array2::ones((3, 3)));
    check(&mut checker, &ramp, &Array2::ones((2, 3)));
    check(&mut checker, &Array2::zeros((0, 0)), &Array2::zeros((0, 0)));
    // Random patches and filters, integers (exact) and reals.
    let mut rng = Rng::new(164);
    for round in 0..500 {
        let integers = round % 2 == 0;
        let d = random_array(&mut rng, 4, 4, integers);
        let g = random_array(&mut rng, 3, 3, integers);
        check(&mut checker, &d, &g);
    }
    checker.finish();
}
