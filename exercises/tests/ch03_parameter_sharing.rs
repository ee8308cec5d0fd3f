//! Checkers for chapter 3: compare the exercises with `cnn_book::sharing` and
//! `cnn_book::shape`.

mod common;

use cnn_book::shape::conv_output_size;
use cnn_book::sharing::{layer_counts, ALEXNET_CONV1, ALEXNET_INPUT, ALEXNET_PAPER_INPUT};
use cnn_book::{ConvGeometry, Volume};
use cnn_book_exercises::ch03_parameter_sharing::{
    conv_stack_params, nearest_tiling_width, sharing_ratio,
};
use common::{Checker, Rng};

const FILE: &str = "exercises/src/ch03_parameter_sharing.rs";

/// A volume as Rust code, so that a failing input can be pasted into a test.
fn volume(v: Volume) -> String {
    format!("Volume::new({}, {}, {})", v.width, v.height, v.depth)
}

fn geometry(field: usize, stride: usize, padding: usize, filters: usize) -> ConvGeometry {
    ConvGeometry {
        field,
        stride,
        padding,
        filters,
    }
}

#[test]
fn exercise_3_1_sharing_ratio() {
    let mut checker = Checker::new(
        "3.1",
        "sharing_ratio",
        FILE,
        "a locally connected neuron and a convolutional filter have the same number of \
         parameters. How many sets of them does each layer have? Return None \
         exactly when there are no filters, the input has no depth, or the window does not \
         work along the width or the height (F, S and W at least 1, F <= W + 2P, and \
         W - F + 2P a multiple of S).",
    );
    let library = |input: Volume, g: ConvGeometry| {
        layer_counts(input, g).ok().map(|counts| {
            assert_eq!(
                counts.unshared_params % counts.shared_params,
                0,
                "checker bug: the ratio is not an integer"
            );
            counts.unshared_params / counts.shared_params
        })
    };
    let mut cases = vec![
        (ALEXNET_INPUT, ALEXNET_CONV1),
        (ALEXNET_PAPER_INPUT, ALEXNET_CONV1),
        (Volume::new(224, 224, 3), geometry(3, 1, 1, 64)),
        (Volume::new(224, 224, 3), geometry(7, 2, 3, 64)),
        (Volume::new(32, 28, 3), geometry(5, 1, 0, 6)),
        (Volume::new(1000, 1, 1), geometry(1, 1, 0, 1)),
    ];
    // Every combination of small values, zeros and non-square inputs included.
    for width in 0..=9 {
        for height in 0..=9 {
            for depth in [0, 1, 3] {
                for field in 0..=5 {
                    for stride in 0..=3 {
                        for padding in 0..=2 {
                            for filters in [0, 1, 4] {
                                cases.push((
                                    Volume::new(width, height, depth),
                                    geometry(field, stride, padding, filters),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    for (input, g) in cases {
        checker.check(
            || format!("sharing_ratio({}, {g:?})", volume(input)),
            library(input, g),
            || sharing_ratio(input, g),
        );
    }
    checker.finish();
}

#[test]
fn exercise_3_2_nearest_tiling_width() {
    let mut checker = Checker::new(
        "3.2",
        "nearest_tiling_width",
        FILE,
        "start from the width itself, but at least 1, and at least wide enough for the window \
         to fit in the padded input (W + 2P >= F). Then go up to the next width whose travel \
         W + 2P - F is a multiple of S: step by step, or in one jump with %.",
    );
    // Brute force with the library: the first width from `width` up that tiles.
    let library = |width: usize, field: usize, padding: usize, stride: usize| {
        (width..)
            .find(|&w| conv_output_size(w, field, padding, stride).is_ok())
            .unwrap()
    };
    let mut cases = vec![
        (224, 11, 0, 4),
        (227, 11, 0, 4),
        (500, 7, 3, 5),
        (1000, 64, 0, 9),
    ];
    for width in 0..=40 {
        for field in 1..=12 {
            for padding in 0..=3 {
                for stride in 1..=6 {
                    cases.push((width, field, padding, stride));
                }
            }
        }
    }
    for (width, field, padding, stride) in cases {
        checker.check(
            || format!("nearest_tiling_width({width}, {field}, {padding}, {stride})"),
            library(width, field, padding, stride),
            || nearest_tiling_width(width, field, padding, stride),
        );
    }
    checker.finish();
}

/// The library's answer to exercise 3.3: chain the layers, summing the shared parameters.
fn library_stack_params(input: Volume, layers: &[ConvGeometry]) -> Option<u64> {
    let mut volume = input;
    let mut total = 0;
    for layer in layers {
        total += layer_counts(volume, *layer).ok()?.shared_params;
        volume = layer.output(volume).ok()?;
    }
    Some(total)
}

/// A random layer: mostly shapes that real networks use (so that many stacks fit), now
/// and then anything at all.
fn random_layer(rng: &mut Rng) -> ConvGeometry {
    let filters = if rng.chance(1, 40) {
        0
    } else {
        rng.pick(&[1, 2, 3, 8, 16, 64, 96, 256])
    };
    match rng.between(0, 3) {
        // "Same" padding at stride 1: keeps width and height.
        0 => {
            let field = rng.pick(&[1, 3, 5, 7]);
            geometry(field, 1, (field - 1) / 2, filters)
        }
        // "Valid" at stride 1: shrinks by F - 1.
        1 => geometry(rng.size(1, 5), 1, 0, filters),
        // Downsampling at stride 2.
        2 => geometry(rng.size(2, 3), 2, rng.size(0, 1), filters),
        // Anything, zeros included.
        _ => geometry(rng.size(0, 7), rng.size(0, 3), rng.size(0, 3), filters),
    }
}

#[test]
fn exercise_3_3_conv_stack_params() {
    let mut checker = Checker::new(
        "3.3",
        "conv_stack_params",
        FILE,
        "count each layer's weights and biases as the chapter does, with D its input's \
         depth: the stack's input depth for the first layer, the previous layer's filters \
         after that. Track the width and height too (chapter 2's output size along each), \
         and return None as soon as a layer does not fit; an empty stack is Some(0).",
    );
    let worked = [geometry(3, 1, 0, 2), geometry(3, 1, 0, 4)];
    let mut cases: Vec<(Volume, Vec<ConvGeometry>)> = vec![
        (Volume::new(5, 5, 1), worked.to_vec()),
        (
            Volume::new(5, 5, 1),
            [&worked[..], &[geometry(2, 1, 0, 8)]].concat(),
        ),
        (Volume::new(5, 5, 0), vec![]),
        (Volume::new(0, 5, 1), vec![]),
        (Volume::new(5, 5, 0), worked.to_vec()),
        (Volume::new(6, 5, 1), worked.to_vec()),
        (ALEXNET_INPUT, vec![ALEXNET_CONV1]),
        (ALEXNET_PAPER_INPUT, vec![ALEXNET_CONV1]),
        (
            Volume::new(224, 224, 3),
            vec![geometry(3, 1, 1, 64), geometry(3, 1, 1, 64)],
        ),
        (
            Volume::new(32, 32, 3),
            vec![
                geometry(5, 1, 0, 6),
                geometry(2, 2, 0, 6),
                geometry(5, 1, 0, 16),
                geometry(2, 2, 0, 16),
                geometry(5, 1, 0, 120),
            ],
        ),
    ];
    let mut rng = Rng::new(37);
    for _ in 0..4000 {
        let width = if rng.chance(1, 50) {
            0
        } else {
            rng.size(1, 64)
        };
        let height = if rng.chance(2, 3) {
            width
        } else {
            rng.size(1, 64)
        };
        let depth = if rng.chance(1, 50) {
            0
        } else {
            rng.pick(&[1, 3, 4])
        };
        let layers = (0..rng.size(0, 5))
            .map(|_| random_layer(&mut rng))
            .collect();
        cases.push((Volume::new(width, height, depth), layers));
    }
    let mut fitting = 0;
    for (input, layers) in &cases {
        let expected = library_stack_params(*input, layers);
        fitting += usize::from(expected.is_some());
        checker.check(
            || format!("conv_stack_params({}, &{layers:?})", volume(*input)),
            expected,
            || conv_stack_params(*input, layers),
        );
    }
    assert!(
        fitting >= cases.len() / 3 && fitting <= cases.len() * 9 / 10,
        "checker bug: {fitting} of {} stacks fit; the mix should have both kinds",
        cases.len()
    );
    checker.finish();
}
