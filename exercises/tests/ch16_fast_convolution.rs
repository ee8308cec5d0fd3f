//! Checkers for chapter 16: compare the exercises with ndarray's matrix product,
//! `cnn_book::im2col`, a multiply-add count of the convolution's definition and the
//! library's naive correlation.

mod common;

use cnn_book::conv::conv2d_naive;
use cnn_book::conv::{Conv2dConfig, ConvDims};
use cnn_book::im2col::im2col;
use cnn_book_exercises::ch16_fast_convolution::{
    blocked_matmul, conv_flops, im2col_same, winograd_filter, winograd_input, winograd_output,
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

/// The library's direct correlation of a 4 x 4 patch with a 3 x 3 filter: the 2 x 2 tile.
fn direct_tile(d: &Array2<f32>, g: &Array2<f32>) -> Array2<f32> {
    let x = d.clone().into_shape_with_order((1, 1, 4, 4)).unwrap();
    let w = g.clone().into_shape_with_order((1, 1, 3, 3)).unwrap();
    let y: Array4<f32> = conv2d_naive(x.view(), w.view(), None, Conv2dConfig::new(1, 0)).unwrap();
    y.into_shape_with_order((2, 2)).unwrap()
}

/// F(2 x 2, 3 x 3)'s B^T, G and A^T, as chapter 16 prints them; checked below against the
/// library's direct correlation before any answer is judged.
fn winograd_matrices() -> (Array2<f32>, Array2<f32>, Array2<f32>) {
    let bt = array![
        [1.0, 0.0, -1.0, 0.0],
        [0.0, 1.0, 1.0, 0.0],
        [0.0, -1.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, -1.0]
    ];
    let g = array![
        [1.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [0.0, 0.0, 1.0]
    ];
    let at = array![[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]];
    (bt, g, at)
}

fn filter_transform(g: &Array2<f32>) -> Array2<f32> {
    let (_, gm, _) = winograd_matrices();
    gm.dot(g).dot(&gm.t())
}

fn input_transform(d: &Array2<f32>) -> Array2<f32> {
    let (bt, _, _) = winograd_matrices();
    bt.dot(d).dot(&bt.t())
}

fn output_transform(u: &Array2<f32>, v: &Array2<f32>) -> Array2<f32> {
    let (_, _, at) = winograd_matrices();
    at.dot(&(u * v)).dot(&at.t())
}

/// Random patches and filters for the three steps: integers (exact) and reals.
fn winograd_cases(seed: u64) -> Vec<(Array2<f32>, Array2<f32>)> {
    let mut rng = Rng::new(seed);
    let mut cases: Vec<(Array2<f32>, Array2<f32>)> = Vec::new();
    for round in 0..500 {
        let integers = round % 2 == 0;
        cases.push((
            random_array(&mut rng, 4, 4, integers),
            random_array(&mut rng, 3, 3, integers),
        ));
    }
    // The checker's own three steps must reproduce the direct sums.
    for (d, g) in &cases {
        let tile = output_transform(&filter_transform(g), &input_transform(d));
        let direct = direct_tile(d, g);
        let err = (&tile - &direct)
            .mapv(f32::abs)
            .fold(0.0f32, |m, &e| m.max(e));
        assert!(
            err <= 1e-3 * direct.mapv(f32::abs).fold(1.0f32, |m, &e| m.max(e)),
            "checker bug"
        );
    }
    cases
}

/// Is `got` `want` within the checkers' tolerance? (For recognising mistakes.)
fn same(got: &Option<Array2<f32>>, want: &Array2<f32>) -> bool {
    got.as_ref().is_some_and(|g| {
        g.dim() == want.dim()
            && g.iter()
                .zip(want)
                .all(|(a, b)| (a - b).abs() <= 1e-4 * b.abs().max(1.0))
    })
}

#[test]
fn exercise_16_4_winograd_filter() {
    let mut checker = Checker::new(
        "16.4, step 1 of 3 (the filter transform)",
        "winograd_filter",
        FILE,
        "U is 4 x 4: the filter transform of chapter 16's step 5 applied on both sides of \
         g, so that each row and each column of g is transformed the way the 1D version \
         transforms a 3-tap filter. Check it against the worked example, then try a filter \
         with a single 1 elsewhere; return None unless g is 3 x 3.",
    );
    let mut centre = Array2::zeros((3, 3));
    centre[[1, 1]] = 1.0;
    assert_eq!(
        filter_transform(&centre),
        array![
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.25, -0.25, 0.0],
            [0.0, -0.25, 0.25, 0.0],
            [0.0, 0.0, 0.0, 0.0]
        ],
        "checker bug: the worked example"
    );
    let mut filters = vec![centre];
    filters.extend(winograd_cases(164).into_iter().map(|(_, g)| g));
    for g in &filters {
        checker.check_close(
            || format!("winograd_filter(&{})", array_code(g)),
            Some(filter_transform(g)),
            || winograd_filter(g),
            FLOAT_TOLERANCE,
        );
    }
    for shape in [(3, 4), (4, 4), (2, 3), (0, 0)] {
        let g = Array2::zeros(shape);
        checker.check_close(
            || format!("winograd_filter(&{})", array_code(&g)),
            None,
            || winograd_filter(&g),
            0.0,
        );
    }
    checker.finish();
}

#[test]
fn exercise_16_4_winograd_input() {
    let mut checker = Checker::new(
        "16.4, step 2 of 3 (the input transform)",
        "winograd_input",
        FILE,
        "V is 4 x 4: the input transform of chapter 16's step 5 applied on both sides of \
         d, rows and columns alike. Check it on the two worked examples, a patch with one 1; \
         return None unless d is 4 x 4.",
    );
    let unit = |r: usize, c: usize| {
        let mut d = Array2::zeros((4, 4));
        d[[r, c]] = 1.0;
        d
    };
    assert_eq!(input_transform(&unit(0, 0)), unit(0, 0), "checker bug");
    assert_eq!(
        input_transform(&unit(1, 1)),
        array![
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, -1.0, 1.0],
            [0.0, -1.0, 1.0, -1.0],
            [0.0, 1.0, -1.0, 1.0]
        ],
        "checker bug: the worked example"
    );
    let mut patches: Vec<Array2<f32>> = (0..16).map(|k| unit(k / 4, k % 4)).collect();
    patches.extend(winograd_cases(164).into_iter().map(|(d, _)| d));
    let (bt, _, _) = winograd_matrices();
    for d in &patches {
        checker.check_close_explained(
            || format!("winograd_input(&{})", array_code(d)),
            Some(input_transform(d)),
            || winograd_input(d),
            FLOAT_TOLERANCE,
            |got| {
                let swapped = bt.t().dot(d).dot(&bt);
                let one_side = bt.dot(d);
                if same(got, &swapped) {
                    Some("Your V is B d B^T: the two transposes are swapped".into())
                } else if same(got, &one_side) || same(got, &d.dot(&bt.t())) {
                    Some("Your V transforms only one side of d (its columns or its rows)".into())
                } else {
                    None
                }
            },
        );
    }
    for shape in [(3, 3), (4, 3), (5, 5), (0, 0)] {
        let d = Array2::zeros(shape);
        checker.check_close(
            || format!("winograd_input(&{})", array_code(&d)),
            None,
            || winograd_input(&d),
            0.0,
        );
    }
    checker.finish();
}

#[test]
fn exercise_16_4_winograd_output() {
    let mut checker = Checker::new(
        "16.4, step 3 of 3 (the product and the output transform)",
        "winograd_output",
        FILE,
        "Multiply U and V entry by entry (16 products), then apply chapter 16's output \
         transform on both sides to get 2 x 2. With U and V all ones the worked example \
         gives [[9, -3], [-3, 1]]; return None unless both are 4 x 4.",
    );
    let ones = Array2::<f32>::ones((4, 4));
    assert_eq!(
        output_transform(&ones, &ones),
        array![[9.0, -3.0], [-3.0, 1.0]],
        "checker bug: the worked example"
    );
    // The transforms of real patches and filters: then the answer is the correlation.
    let mut pairs = vec![(ones.clone(), ones.clone())];
    for (d, g) in winograd_cases(165) {
        pairs.push((filter_transform(&g), input_transform(&d)));
    }
    let (_, _, at) = winograd_matrices();
    for (u, v) in &pairs {
        checker.check_close_explained(
            || format!("winograd_output(&{}, &{})", array_code(u), array_code(v)),
            Some(output_transform(u, v)),
            || winograd_output(u, v),
            FLOAT_TOLERANCE,
            |got| {
                let matrix_product = at.dot(&u.dot(v)).dot(&at.t());
                same(got, &matrix_product).then(|| {
                    "Your tile uses the matrix product U V; the step multiplies U and V entry \
                     by entry"
                        .to_string()
                })
            },
        );
    }
    for (a, b) in [((4, 4), (3, 3)), ((3, 3), (4, 4)), ((2, 2), (2, 2))] {
        let (u, v) = (Array2::zeros(a), Array2::zeros(b));
        checker.check_close(
            || format!("winograd_output(&{}, &{})", array_code(&u), array_code(&v)),
            None,
            || winograd_output(&u, &v),
            0.0,
        );
    }
    checker.finish();
}
