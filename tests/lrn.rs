//! Chapter 15: local response normalization by hand, against PyTorch's way of writing
//! it, against finite differences, and the fast version against the loops.

mod common;

use approx::assert_abs_diff_eq;
use cnn_book::layer::{Implementation, Layer, Mode, Tensor};
use cnn_book::layers::LocalResponseNorm;
use cnn_book::lrn::{lrn_backward, lrn_forward, LrnConfig};
use cnn_book::{fast, Error};
use ndarray::{Array4, Axis};
use proptest::prelude::*;

use common::{assert_gradients_in, random4, random_tensor as random};

#[test]
fn lrn_by_hand() {
    // Channels 1, 2, 3 at one position; n = 3, k = 1, alpha = 1, beta = 1: the sums run over
    // channels {0, 1}, {0, 1, 2}, {1, 2}, so the denominators are 1 + 1 + 4 = 6,
    // 1 + 1 + 4 + 9 = 15 and 1 + 4 + 9 = 14.
    let x = Array4::from_shape_vec((1, 3, 1, 1), vec![1., 2., 3.]).unwrap();
    let config = LrnConfig {
        size: 3,
        k: 1.0,
        alpha: 1.0,
        beta: 1.0,
    };
    let (y, s) = lrn_forward(x.view(), config).unwrap();
    assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![6., 15., 14.]);
    for (got, expected) in y.iter().zip([1.0 / 6.0, 2.0 / 15.0, 3.0 / 14.0]) {
        assert_abs_diff_eq!(*got, expected, epsilon = 1e-7);
    }
    // AlexNet's constants barely touch small activations: k = 2 dominates the sum, and
    // each value is divided by about 2^0.75 = 1.68.
    let (y, _) = lrn_forward(x.view(), LrnConfig::ALEXNET).unwrap();
    assert_abs_diff_eq!(
        y[[0, 0, 0, 0]],
        1.0 / (2.0f32 + 1e-4 * 14.0).powf(0.75),
        epsilon = 1e-7
    );
}

#[test]
fn alexnet_in_pytorchs_parameters() {
    // PyTorch's `nn.LocalResponseNorm(size, alpha, beta, k)` documents
    // b_c = a_c (k + alpha / n sum_{c'=max(0, c-n/2)}^{min(N-1, c+n/2)} a_{c'}^2)^(-beta):
    // it divides alpha by the size. Written here on its own, that formula with
    // alpha = 5 * 1e-4 gives AlexNet's normalization.
    let pytorch = |a: &Array4<f32>, size: usize, alpha: f32, beta: f32, k: f32| {
        let c = a.len_of(Axis(1)) as i64;
        Array4::from_shape_fn(a.dim(), |(n, ch, i, j)| {
            let lo = (ch as i64 - (size as i64) / 2).max(0);
            let hi = (ch as i64 + (size as i64) / 2).min(c - 1);
            let sum: f32 = (lo..=hi).map(|q| a[[n, q as usize, i, j]].powi(2)).sum();
            a[[n, ch, i, j]] * (k + alpha / size as f32 * sum).powf(-beta)
        })
    };
    let mut rng = common::rng(5);
    let x = random4(&mut rng, (2, 7, 3, 3)).mapv(|v| 30.0 * v); // large enough to matter
    let config = LrnConfig::from_pytorch(5, 5e-4, 0.75, 2.0);
    assert_abs_diff_eq!(config.alpha, LrnConfig::ALEXNET.alpha, epsilon = 1e-10);
    assert_abs_diff_eq!(LrnConfig::ALEXNET.pytorch_alpha(), 5e-4, epsilon = 1e-10);
    let (ours, _) = lrn_forward(x.view(), LrnConfig::ALEXNET).unwrap();
    let theirs = pytorch(&x, 5, 5e-4, 0.75, 2.0);
    common::assert_close(&ours, &theirs, 1e-6, "AlexNet vs PyTorch's formula");
    // With PyTorch's alpha taken for the paper's, the effect would be five times too weak.
    let (weak, _) = lrn_forward(
        x.view(),
        LrnConfig {
            alpha: 1e-4 / 5.0,
            ..LrnConfig::ALEXNET
        },
    )
    .unwrap();
    assert!(common::max_abs_diff(&weak, &ours) > 1e-2);
}

#[test]
fn lrn_passes_the_gradient_check() {
    // Strong normalization (alpha 0.5) so that the sum's term in the gradient matters.
    let config = LrnConfig {
        size: 3,
        k: 1.0,
        alpha: 0.5,
        beta: 0.75,
    };
    for implementation in [Implementation::Reference, Implementation::Fast] {
        let mut layer = LocalResponseNorm::new(config);
        layer.implementation = implementation;
        let x = random(&[2, 5, 3, 3], 6);
        assert_gradients_in(&mut layer, &x, Mode::Train, 1e-2, 1e-2);
        assert_gradients_in(&mut layer, &x, Mode::Eval, 1e-2, 1e-2);
    }
    let mut alexnet = LocalResponseNorm::new(LrnConfig::ALEXNET);
    assert_gradients_in(
        &mut alexnet,
        &random(&[2, 8, 2, 2], 7).mapv(|v| 20.0 * v),
        Mode::Train,
        1e-2,
        1e-2,
    );
}

#[test]
fn bad_hyperparameters_and_shapes_are_errors() {
    let x = Array4::<f32>::zeros((1, 3, 2, 2));
    for (config, name) in [
        (
            LrnConfig {
                size: 4,
                ..LrnConfig::ALEXNET
            },
            "LRN size",
        ),
        (
            LrnConfig {
                size: 0,
                ..LrnConfig::ALEXNET
            },
            "LRN size",
        ),
        (
            LrnConfig {
                k: 0.0,
                ..LrnConfig::ALEXNET
            },
            "LRN k",
        ),
        (
            LrnConfig {
                alpha: -1.0,
                ..LrnConfig::ALEXNET
            },
            "LRN alpha",
        ),
    ] {
        let err = lrn_forward(x.view(), config).unwrap_err();
        assert!(
            matches!(err, Error::BadHyperparameter { name: n, .. } if n == name),
            "{err}"
        );
    }
    let (_, s) = lrn_forward(x.view(), LrnConfig::ALEXNET).unwrap();
    let wrong = Array4::<f32>::zeros((1, 3, 2, 1));
    assert!(lrn_backward(x.view(), s.view(), wrong.view(), LrnConfig::ALEXNET).is_err());
    let mut layer = LocalResponseNorm::new(LrnConfig::ALEXNET);
    assert!(layer
        .forward(&Tensor::zeros(vec![2, 3]), Mode::Train)
        .is_err());
    assert!(layer.backward(&Tensor::zeros(vec![1, 3, 2, 2])).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The fast version (running sums over the channels, square roots for the power)
    /// computes what the loops compute, to rounding.
    #[test]
    fn fast_lrn_equals_the_loops(
        (n, c, h, w) in (1usize..5, 1usize..9, 1usize..5, 1usize..5),
        size in prop_oneof![Just(1usize), Just(3), Just(5), Just(7)],
        // AlexNet's 3/4 and 1/2 go through square roots, others through powf.
        beta in prop_oneof![Just(0.75f32), Just(0.5), Just(0.6), Just(1.0)],
        seed in 0u64..1000,
    ) {
        let mut rng = common::rng(seed);
        let x = random4(&mut rng, (n, c, h, w)).mapv(|v| 10.0 * v);
        let config = LrnConfig { size, k: 1.5, alpha: 0.01, beta };
        let (y, s) = lrn_forward(x.view(), config).unwrap();
        let (yf, sf) = fast::lrn::lrn_forward(x.view(), config).unwrap();
        common::assert_close(&yf, &y, 1e-5, "forward");
        common::assert_close(&sf, &s, 1e-5, "bases");
        let dy = random4(&mut rng, (n, c, h, w));
        common::assert_close(
            &fast::lrn::lrn_backward(x.view(), s.view(), dy.view(), config).unwrap(),
            &lrn_backward(x.view(), s.view(), dy.view(), config).unwrap(),
            1e-5,
            "backward",
        );
    }
}
