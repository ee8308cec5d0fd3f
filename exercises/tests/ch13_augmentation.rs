//! Checkers for chapter 13: compare the exercises with `cnn_book::augment`.

mod common;

use cnn_book::augment::{
    flip_horizontal as library_flip, shift, Augmentation, Augmenter, PixelRange,
};
use cnn_book_exercises::ch13_augmentation::{adjust_contrast, flip_horizontal, shift_image};
use common::{array_code, random_array, Checker, Rng};
use ndarray::{array, Array2, Array3, Array4};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const FILE: &str = "exercises/src/ch13_augmentation.rs";

/// Random grey images of 1 to 7 rows and columns.
fn random_image(rng: &mut Rng) -> Array2<f32> {
    let (h, w) = (rng.size(1, 7), rng.size(1, 7));
    let integers = rng.chance(1, 2);
    random_array(rng, h, w, integers)
}

fn as3(image: &Array2<f32>) -> Array3<f32> {
    image.clone().insert_axis(ndarray::Axis(0))
}

#[test]
fn exercise_13_1_flip_horizontal() {
    let mut checker = Checker::new(
        "13.1",
        "flip_horizontal",
        FILE,
        "column j of the answer is column W - 1 - j of the image; the rows do not move",
    );
    let mut cases = vec![array![[1.0f32, 2., 3.], [4., 5., 6.]], array![[7.0f32]]];
    let mut rng = Rng::new(130 + 1);
    cases.extend((0..200).map(|_| random_image(&mut rng)));
    for image in cases {
        let mut expected = as3(&image);
        library_flip(expected.view_mut());
        let expected = expected.index_axis_move(ndarray::Axis(0), 0);
        checker.check(
            || format!("flip_horizontal(&{})", array_code(&image)),
            expected,
            || flip_horizontal(&image),
        );
    }
    checker.finish();
}

#[test]
fn exercise_13_2_shift_image() {
    let mut checker = Checker::new(
        "13.2",
        "shift_image",
        FILE,
        "pixel [r, c] comes from [r - dy, c - dx]: a positive dx moves the picture right, so \
         the left columns are filled; anything from outside the image is the fill",
    );
    let mut cases = vec![
        (array![[1.0f32, 2.], [3., 4.]], 0, 1, 0.0),
        (array![[1.0f32, 2.], [3., 4.]], -1, 0, 0.0),
        (array![[1.0f32, 2.], [3., 4.]], 5, -5, -1.0),
    ];
    let mut rng = Rng::new(130 + 2);
    for _ in 0..300 {
        let image = random_image(&mut rng);
        let dy = rng.between(0, 8) as isize - 4;
        let dx = rng.between(0, 8) as isize - 4;
        cases.push((image, dy, dx, rng.pick(&[0.0, -0.8, 1.0]) as f32));
    }
    for (image, dy, dx, fill) in cases {
        let mut expected = as3(&image);
        shift(expected.view_mut(), dy, dx, fill);
        let expected = expected.index_axis_move(ndarray::Axis(0), 0);
        checker.check(
            || format!("shift_image(&{}, {dy}, {dx}, {fill:?})", array_code(&image)),
            expected,
            || shift_image(&image, dy, dx, fill),
        );
    }
    checker.finish();
}

#[test]
fn exercise_13_3_adjust_contrast() {
    let mut checker = Checker::new(
        "13.3",
        "adjust_contrast",
        FILE,
        "the mean is over all pixels of the image, taken before anything changes; scale each \
         pixel's difference from it, add the mean back, and only then clip to [low, high]",
    );
    let mut cases = vec![
        (array![[0.4f32, 0.6]], 2.0, 0.0, 1.0),
        (array![[0.4f32, 0.6]], 10.0, 0.0, 1.0),
    ];
    let mut rng = Rng::new(130 + 3);
    for _ in 0..300 {
        let image = random_image(&mut rng).mapv(|v| v * 0.4);
        let factor = rng.pick(&[0.0, 0.5, 1.0, 1.5, 4.0]) * rng.float(0.8, 1.2);
        let (low, high) = rng.pick(&[(0.0, 1.0), (-0.8, 2.0), (-1.0, 1.0)]);
        cases.push((image, factor as f32, low as f32, high as f32));
    }
    for (image, factor, low, high) in cases {
        // The library's contrast augmentation with lower = upper = factor draws nothing
        // that matters: it applies exactly this factor.
        let augmenter = Augmenter::new(
            PixelRange { low, high },
            &[Augmentation::Contrast {
                lower: factor,
                upper: factor,
            }],
        )
        .expect("valid parameters");
        let mut batch: Array4<f32> = as3(&image).insert_axis(ndarray::Axis(0));
        augmenter.apply(&mut batch, &mut ChaCha8Rng::seed_from_u64(0));
        let expected = batch
            .index_axis_move(ndarray::Axis(0), 0)
            .index_axis_move(ndarray::Axis(0), 0);
        checker.check_close(
            || {
                format!(
                    "adjust_contrast(&{}, {factor:?}, {low:?}, {high:?})",
                    array_code(&image)
                )
            },
            expected,
            || adjust_contrast(&image, factor, low, high),
            1e-5,
        );
    }
    checker.finish();
}
