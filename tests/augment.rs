//! Chapter 13: what each augmentation does to an image, by hand, and that an augmenter
//! repeats with its seed and plugs into training.

use cnn_book::augment::{flip_horizontal, shift, Augmentation, Augmenter, PixelRange};
use cnn_book::records::Normalisation;
use ndarray::{s, Array3, Array4};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Images `(n, 1, 6, 5)` whose pixels all differ: `0.01 * (30 i + 5 r + c) + 0.1` stays
/// inside (0, 1) for up to 3 images.
fn distinct(n: usize) -> Array4<f32> {
    Array4::from_shape_fn((n, 1, 6, 5), |(i, _, r, c)| {
        0.1 + 0.01 * (30 * i + 5 * r + c) as f32
    })
}

fn augment(steps: &[Augmentation], x: &Array4<f32>, seed: u64) -> Array4<f32> {
    let mut y = x.clone();
    Augmenter::new(PixelRange::UNIT, steps)
        .unwrap()
        .apply(&mut y, &mut ChaCha8Rng::seed_from_u64(seed));
    y
}

#[test]
fn a_flip_mirrors_the_columns_and_twice_is_the_identity() {
    let x = distinct(1);
    let mut y = x.index_axis(ndarray::Axis(0), 0).to_owned();
    flip_horizontal(y.view_mut());
    // Column j holds what column 4 - j held; rows are untouched.
    for r in 0..6 {
        for c in 0..5 {
            assert_eq!(y[[0, r, c]], x[[0, 0, r, 4 - c]]);
        }
    }
    flip_horizontal(y.view_mut());
    assert_eq!(y, x.index_axis(ndarray::Axis(0), 0));
    // Probability 1 flips every image, 0 none.
    let x = distinct(3);
    let always = augment(&[Augmentation::HorizontalFlip { p: 1.0 }], &x, 1);
    assert_eq!(always, x.slice(s![.., .., .., ..;-1]));
    assert_eq!(
        augment(&[Augmentation::HorizontalFlip { p: 0.0 }], &x, 1),
        x
    );
}

#[test]
fn a_flip_with_probability_one_half_flips_about_half() {
    // 2,000 images: the number flipped is binomial(2000, 0.5), mean 1000, standard
    // deviation 22.4; 5 deviations either side would fail once in millions of seeds.
    let x = Array4::from_shape_fn((2000, 1, 1, 2), |(_, _, _, c)| c as f32);
    let y = augment(&[Augmentation::HorizontalFlip { p: 0.5 }], &x, 7);
    let flipped = (0..2000).filter(|&i| y[[i, 0, 0, 0]] == 1.0).count();
    assert!((888..=1112).contains(&flipped), "{flipped}");
}

#[test]
fn a_shift_moves_a_known_pixel_and_fills_with_the_background() {
    // One bright pixel at row 2, column 3 of a black 6 x 5 image.
    let mut image = Array3::<f32>::zeros((1, 6, 5));
    image[[0, 2, 3]] = 1.0;
    for (dy, dx, row, column) in [(-1, 0, 1, 3), (1, 0, 3, 3), (0, -1, 2, 2), (0, 1, 2, 4)] {
        let mut y = image.clone();
        shift(y.view_mut(), dy, dx, 0.0);
        assert_eq!(y[[0, row, column]], 1.0, "shift ({dy}, {dx})");
        assert_eq!(y.sum(), 1.0, "shift ({dy}, {dx})");
    }
    // Down by one: row 0 comes from outside (the fill), row r from row r - 1; the last row
    // falls off.
    let x = distinct(1).index_axis(ndarray::Axis(0), 0).to_owned();
    let mut y = x.clone();
    shift(y.view_mut(), 1, 0, -9.0);
    assert!(y.slice(s![0, 0, ..]).iter().all(|&v| v == -9.0));
    assert_eq!(y.slice(s![.., 1.., ..]), x.slice(s![.., ..5, ..]));
    // The augmentation picks one of the four shifts per image, each about a quarter of
    // the time (400 images: 100 expected, standard deviation 8.7).
    let mut batch = Array4::<f32>::zeros((400, 1, 6, 5));
    batch.slice_mut(s![.., 0, 2, 3]).fill(1.0);
    let y = augment(&[Augmentation::Shift], &batch, 3);
    let mut counts = [0usize; 4];
    for i in 0..400 {
        let at = [(1, 3), (3, 3), (2, 2), (2, 4)]
            .iter()
            .position(|&(r, c)| y[[i, 0, r, c]] == 1.0)
            .expect("the pixel moved by one");
        counts[at] += 1;
    }
    assert!(
        counts.iter().all(|&n| (60..=140).contains(&n)),
        "{counts:?}"
    );
}

#[test]
fn brightness_adds_one_number_per_image_and_stays_in_range() {
    // Away from the ends of the range, each image moves by one delta in [-0.05, 0.05].
    let x = distinct(3).mapv(|v| 0.3 + 0.4 * v);
    let y = augment(&[Augmentation::Brightness { max_delta: 0.05 }], &x, 2);
    for i in 0..3 {
        let d = y[[i, 0, 0, 0]] - x[[i, 0, 0, 0]];
        assert!(d.abs() <= 0.05 + 1e-6, "{d}");
        let diff = &y.slice(s![i, .., .., ..]) - &x.slice(s![i, .., .., ..]);
        assert!(diff.iter().all(|&e| (e - d).abs() < 1e-6));
    }
    // Large changes are clipped to the range, standardised or not.
    let norm = Normalisation {
        mean: 0.286,
        std: 0.353,
    };
    for range in [PixelRange::UNIT, PixelRange::standardised(norm)] {
        let x = distinct(3).mapv(|v| range.low + (range.high - range.low) * v);
        let mut y = x.clone();
        Augmenter::new(range, &[Augmentation::Brightness { max_delta: 5.0 }])
            .unwrap()
            .apply(&mut y, &mut ChaCha8Rng::seed_from_u64(4));
        assert!(y.iter().all(|&v| v >= range.low && v <= range.high));
        assert_ne!(y, x);
    }
    // No change at all with max_delta 0.
    let x = distinct(2);
    assert_eq!(
        augment(&[Augmentation::Brightness { max_delta: 0.0 }], &x, 2),
        x
    );
}

#[test]
fn contrast_scales_the_deviations_from_the_mean_and_stays_in_range() {
    // A 1 x 2 image [0.4, 0.6], mean 0.5: factor f gives [0.5 - 0.1 f, 0.5 + 0.1 f].
    let x = Array4::from_shape_vec((1, 1, 1, 2), vec![0.4f32, 0.6]).unwrap();
    let y = augment(
        &[Augmentation::Contrast {
            lower: 0.5,
            upper: 1.5,
        }],
        &x,
        5,
    );
    let f = (y[[0, 0, 0, 1]] - 0.5) / 0.1;
    assert!((0.5..=1.5).contains(&f), "{f}");
    assert!((y[[0, 0, 0, 0]] - (0.5 - 0.1 * f)).abs() < 1e-6);
    // The mean is kept when nothing is clipped (factors at most 1 cannot leave the range).
    let x = distinct(3);
    let y = augment(
        &[Augmentation::Contrast {
            lower: 0.2,
            upper: 1.0,
        }],
        &x,
        6,
    );
    for i in 0..3 {
        let before = x.slice(s![i, .., .., ..]).mean().unwrap();
        let after = y.slice(s![i, .., .., ..]).mean().unwrap();
        assert!((before - after).abs() < 1e-5);
    }
    // Strong contrast clips to the range; factor 1 changes nothing.
    let y = augment(
        &[Augmentation::Contrast {
            lower: 50.0,
            upper: 60.0,
        }],
        &x,
        6,
    );
    assert!(y.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(y.iter().any(|&v| v == 0.0) && y.iter().any(|&v| v == 1.0));
    let same = augment(
        &[Augmentation::Contrast {
            lower: 1.0,
            upper: 1.0,
        }],
        &x,
        6,
    );
    assert!(same.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-6));
}

#[test]
fn a_crop_of_a_padded_image_is_the_image_moved_by_at_most_the_padding() {
    let x = distinct(1);
    assert_eq!(augment(&[Augmentation::Crop { padding: 0 }], &x, 1), x);
    // Every crop is a shift by (dy, dx) in [-2, 2]^2 filled with the background: find the
    // shift from where the first pixel went, then check the whole image.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let y = augment(&[Augmentation::Crop { padding: 2 }], &x, seed);
        let moved = (-2..=2)
            .flat_map(|dy| (-2..=2).map(move |dx| (dy, dx)))
            .find(|&(dy, dx)| {
                let mut expected = x.index_axis(ndarray::Axis(0), 0).to_owned();
                shift(expected.view_mut(), dy, dx, 0.0);
                expected == y.index_axis(ndarray::Axis(0), 0)
            });
        seen.insert(moved.expect("a crop is a shift within the padding"));
    }
    // 40 draws from 25 offsets reach most of them.
    assert!(seen.len() >= 15, "{seen:?}");
}

#[test]
fn an_augmenter_repeats_with_its_seed_and_refuses_bad_parameters() {
    let steps = [
        Augmentation::HorizontalFlip { p: 0.5 },
        Augmentation::Brightness { max_delta: 0.1 },
        Augmentation::Contrast {
            lower: 0.8,
            upper: 1.2,
        },
        Augmentation::Shift,
        Augmentation::Crop { padding: 1 },
    ];
    let x = distinct(3);
    assert_eq!(augment(&steps, &x, 9), augment(&steps, &x, 9));
    assert_ne!(augment(&steps, &x, 9), augment(&steps, &x, 10));
    for (bad, says) in [
        (Augmentation::HorizontalFlip { p: 1.5 }, "probability"),
        (Augmentation::Brightness { max_delta: -0.1 }, "brightness"),
        (
            Augmentation::Brightness {
                max_delta: f32::NAN,
            },
            "brightness",
        ),
        (
            Augmentation::Contrast {
                lower: 1.2,
                upper: 0.8,
            },
            "contrast",
        ),
        (
            Augmentation::Contrast {
                lower: -1.0,
                upper: 1.0,
            },
            "contrast",
        ),
    ] {
        let err = Augmenter::new(PixelRange::UNIT, &[bad])
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{err}");
    }
    let err = Augmenter::new(
        PixelRange {
            low: 1.0,
            high: 0.0,
        },
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("pixel range"), "{err}");
}

#[test]
fn augmentation_plugs_into_training_through_the_batch_hook() {
    use cnn_book::data::fashion_mnist::sample;
    use cnn_book::models::lenet;
    use cnn_book::optim::Sgd;
    use cnn_book::train::{pixel_statistics, standardise, train, Examples, Training};
    let data = sample();
    let (mean, std) = pixel_statistics(&data);
    let x = standardise(&data, mean, std)
        .slice(s![..200, .., .., ..])
        .to_owned();
    let labels: Vec<usize> = data.labels[..200].iter().map(|&l| l as usize).collect();
    let augmenter = Augmenter::new(
        PixelRange::standardised(Normalisation { mean, std }),
        &[Augmentation::HorizontalFlip { p: 0.5 }, Augmentation::Shift],
    )
    .unwrap();
    let run = |augmented: bool| {
        let transform = |b: &mut Array4<f32>, r: &mut ChaCha8Rng| augmenter.apply(b, r);
        let mut training = Training::new(1, 50, 3);
        if augmented {
            training.transform = Some(&transform);
        }
        train(
            &mut lenet(1),
            &mut Sgd::new(0.01, 0.9, 0.0).unwrap(),
            Examples::new(&x, &labels).unwrap(),
            &training,
            |_| {},
        )
        .unwrap()[0]
            .train_loss
    };
    // The hook changes what the network sees (so the loss), and repeats with the seed.
    assert_ne!(run(true), run(false));
    assert_eq!(run(true), run(true));
}
