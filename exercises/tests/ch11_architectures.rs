//! Checkers for chapter 11: compare the exercises with the library's layers and modules
//! (`cnn_book::layers::Grouped`, `cnn_book::architectures::inception_paper`), counted by
//! `cnn_book::model::summary`.

mod common;

use cnn_book::architectures::{inception_paper, InceptionWidths, GOOGLENET_MODULES};
use cnn_book::init::Init;
use cnn_book::layer::param_count;
use cnn_book::layers::{Conv2d, Grouped};
use cnn_book::model::summary;
use cnn_book_exercises::ch11_architectures::{
    grouped_conv_params, inception_multiply_adds, inception_params,
};
use common::{Checker, Rng};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const FILE: &str = "exercises/src/ch11_architectures.rs";

fn as_array(w: InceptionWidths) -> [usize; 6] {
    [w.c1, w.reduce3, w.c3, w.reduce5, w.c5, w.pool_proj]
}

fn random_widths(rng: &mut Rng) -> InceptionWidths {
    InceptionWidths {
        c1: rng.size(1, 12),
        reduce3: rng.size(1, 12),
        c3: rng.size(1, 12),
        reduce5: rng.size(1, 12),
        c5: rng.size(1, 12),
        pool_proj: rng.size(1, 12),
    }
}

#[test]
fn exercise_11_1_grouped_conv_params() {
    let mut checker = Checker::new(
        "11.1",
        "grouped_conv_params",
        FILE,
        "each group is a convolution from c_in / groups to c_out / groups channels: \
         (c_out / groups) filters of (c_in / groups) x field x field weights, and a bias per \
         filter",
    );
    let mut cases = vec![
        (96, 256, 5, 2),
        (96, 256, 5, 1),
        (384, 384, 3, 2),
        (1, 1, 1, 1),
    ];
    let mut rng = Rng::new(110 + 1);
    cases.extend((0..200).map(|_| {
        let groups = rng.size(1, 4);
        (
            groups * rng.size(1, 6),
            groups * rng.size(1, 6),
            rng.pick(&[1, 3, 5, 7]),
            groups,
        )
    }));
    let r = &mut ChaCha8Rng::seed_from_u64(1);
    for (c_in, c_out, field, groups) in cases {
        let mut layer = Grouped::new();
        for _ in 0..groups {
            layer = layer.group(Conv2d::new(
                c_in / groups,
                c_out / groups,
                field,
                Init::He,
                r,
            ));
        }
        checker.check(
            || format!("grouped_conv_params({c_in}, {c_out}, {field}, {groups})"),
            param_count(&layer),
            || grouped_conv_params(c_in, c_out, field, groups),
        );
    }
    checker.finish();
}

#[test]
fn exercise_11_2_inception_params() {
    let mut checker = Checker::new(
        "11.2",
        "inception_params",
        FILE,
        "six convolutions: three 1 x 1 on the input (#1x1, #3x3 reduce, #5x5 reduce), a 3 x 3 \
         on the 3 x 3 reduction, a 5 x 5 on the 5 x 5 reduction, and a 1 x 1 after the \
         pooling (which keeps c_in channels); each has weights and a bias per filter",
    );
    let mut cases: Vec<(usize, InceptionWidths)> = vec![(
        4,
        InceptionWidths {
            c1: 1,
            reduce3: 2,
            c3: 3,
            reduce5: 1,
            c5: 2,
            pool_proj: 1,
        },
    )];
    let mut c_in = 192;
    for (_, w) in GOOGLENET_MODULES {
        cases.push((c_in, w));
        c_in = w.outputs();
    }
    let mut rng = Rng::new(110 + 2);
    cases.extend((0..100).map(|_| (rng.size(1, 16), random_widths(&mut rng))));
    let r = &mut ChaCha8Rng::seed_from_u64(2);
    for (c_in, w) in cases {
        let expected = param_count(&inception_paper(c_in, w, r));
        let widths = as_array(w);
        checker.check(
            || format!("inception_params({c_in}, {widths:?})"),
            expected,
            || inception_params(c_in, widths),
        );
    }
    checker.finish();
}

#[test]
fn exercise_11_3_inception_multiply_adds() {
    let mut checker = Checker::new(
        "11.3",
        "inception_multiply_adds",
        FILE,
        "the same six convolutions as in 11.2, each computed at every position of the \
         side x side map; count the products of a weight with an input that one output \
         value needs, then how many output values each convolution gives",
    );
    let mut cases: Vec<(usize, usize, InceptionWidths)> = vec![
        (
            4,
            2,
            InceptionWidths {
                c1: 1,
                reduce3: 2,
                c3: 3,
                reduce5: 1,
                c5: 2,
                pool_proj: 1,
            },
        ),
        (192, 28, GOOGLENET_MODULES[0].1),
    ];
    let mut rng = Rng::new(110 + 3);
    cases.extend((0..60).map(|_| (rng.size(1, 16), rng.size(1, 9), random_widths(&mut rng))));
    let r = &mut ChaCha8Rng::seed_from_u64(3);
    for (c_in, side, w) in cases {
        let module = inception_paper(c_in, w, r);
        let expected = summary(&module, &[1, c_in, side, side], 0)
            .expect("the module keeps any size")
            .total_multiply_adds;
        let widths = as_array(w);
        checker.check(
            || format!("inception_multiply_adds({c_in}, {side}, {widths:?})"),
            expected,
            || inception_multiply_adds(c_in, side, widths),
        );
    }
    checker.finish();
}
