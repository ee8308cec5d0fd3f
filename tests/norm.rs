//! Batch normalization (chapter 10's column): the layer against hand calculations and
//! finite differences in both modes, the reference loops against the fast version, and the
//! running statistics against a two-pass computation in f64.

mod common;

use approx::{assert_abs_diff_eq, AbsDiffEq};
use cnn_book::layer::{Implementation, Layer, Mode, Tensor};
use cnn_book::layers::BatchNorm2d;
use cnn_book::{fast, norm};
use ndarray::{Array4, Axis};
use proptest::prelude::*;

use common::{assert_gradients_in, random_tensor as random};

#[test]
fn batch_norm_by_hand() {
    for implementation in [Implementation::Reference, Implementation::Fast] {
        // One channel, values 1, 2, 3, 4 (two images of 1x2): mean 2.5, biased variance 1.25.
        let x = Tensor::from_shape_vec(vec![2, 1, 1, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let mut bn = BatchNorm2d::new(1);
        bn.implementation = implementation;
        bn.gamma.value[0] = 2.0;
        bn.beta.value[0] = 0.5;
        let y = bn.forward(&x, Mode::Train).unwrap();
        let sigma = (1.25f32 + 1e-5).sqrt();
        for (got, v) in y.iter().zip([1.0f32, 2.0, 3.0, 4.0]) {
            assert_abs_diff_eq!(*got, 2.0 * (v - 2.5) / sigma + 0.5, epsilon = 1e-5);
        }
        // Running statistics: 0.9 * 0 + 0.1 * 2.5, and 0.9 * 1 + 0.1 * (5 / 3) (unbiased).
        assert_abs_diff_eq!(bn.running_mean[0], 0.25, epsilon = 1e-6);
        assert_abs_diff_eq!(bn.running_var[0], 0.9 + 0.1 * 5.0 / 3.0, epsilon = 1e-6);
        // A constant upstream gradient is cancelled: the normalised values have zero mean.
        let dx = bn
            .backward(&Tensor::from_elem(vec![2, 1, 1, 2], 3.0))
            .unwrap();
        assert!(dx.iter().all(|g| g.abs() < 1e-5), "{dx:?}");
        assert_abs_diff_eq!(bn.beta.grad[0], 12.0, epsilon = 1e-5);
        // Evaluation uses the running statistics, not the batch's: 1 becomes
        // 2 (1 - 0.25) / sqrt(running var + eps) + 0.5.
        let e = bn.forward(&x, Mode::Eval).unwrap();
        let scale = 2.0 / (bn.running_var[0] + 1e-5).sqrt();
        assert_abs_diff_eq!(e[[0, 0, 0, 0]], scale * (1.0 - 0.25) + 0.5, epsilon = 1e-5);
        // ... and so does its backward pass: the statistics are constants, dx = scale dy.
        let dx = bn
            .backward(&Tensor::from_elem(vec![2, 1, 1, 2], 3.0))
            .unwrap();
        assert!(dx.iter().all(|&g| (g - 3.0 * scale).abs() < 1e-5), "{dx:?}");
    }
}

#[test]
fn batch_norm_backward_matches_finite_differences_in_both_modes() {
    for implementation in [Implementation::Reference, Implementation::Fast] {
        let mut bn = BatchNorm2d::new(3);
        bn.implementation = implementation;
        bn.gamma.value = random(&[3], 20).mapv(|v| v + 1.5);
        bn.beta.value = random(&[3], 21);
        bn.running_mean = random(&[3], 23);
        bn.running_var = random(&[3], 24).mapv(|v| v + 1.5);
        let x = random(&[4, 3, 3, 3], 22);
        assert_gradients_in(&mut bn, &x, Mode::Train, 1e-2, 1e-2);
        assert_gradients_in(&mut bn, &x, Mode::Eval, 1e-2, 1e-2);
    }
}

#[test]
fn batch_norm_rejects_wrong_channels_single_values_and_stale_caches() {
    let mut bn = BatchNorm2d::new(3);
    let err = bn
        .forward(&random(&[2, 4, 3, 3], 1), Mode::Train)
        .unwrap_err();
    assert!(err.to_string().contains("4 channels"), "{err}");
    let err = bn
        .forward(&random(&[1, 3, 1, 1], 1), Mode::Train)
        .unwrap_err();
    assert!(err.to_string().contains("at least two"), "{err}");
    assert!(BatchNorm2d::new(3)
        .backward(&random(&[2, 3, 2, 2], 1))
        .is_err());
    // A failed forward pass leaves nothing behind for a backward pass to use.
    let mut bn = BatchNorm2d::new(3);
    bn.forward(&random(&[2, 3, 2, 2], 2), Mode::Train).unwrap();
    assert!(bn.forward(&random(&[2, 5, 2, 2], 3), Mode::Train).is_err());
    let err = bn.backward(&random(&[2, 3, 2, 2], 4)).unwrap_err();
    assert!(err.to_string().contains("before forward"), "{err}");
}

#[test]
fn batch_norm_statistics_survive_a_large_offset() {
    // Values 10,000 + u with u uniform in [-1, 1): a naive E[x^2] - E[x]^2 in f32 loses
    // every digit of the variance. Compare with a two-pass f64 computation.
    let x = random(&[8, 2, 5, 5], 80).mapv(|u| 1e4 + u);
    for implementation in [Implementation::Reference, Implementation::Fast] {
        let mut bn = BatchNorm2d::new(2);
        bn.implementation = implementation;
        bn.momentum = 1.0; // the running variance becomes the batch's unbiased variance
        bn.forward(&x, Mode::Train).unwrap();
        for k in 0..2 {
            let values: Vec<f64> = x.index_axis(Axis(1), k).iter().map(|&v| v as f64).collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let var =
                values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
            let got = bn.running_var[k] as f64;
            assert!(
                (got / var - 1.0).abs() < 1e-3,
                "{implementation:?}, channel {k}: {got} vs {var}"
            );
            assert_abs_diff_eq!(bn.running_mean[k] as f64, mean, epsilon = 1e-2);
        }
    }
}

/// An image batch of the given shape, entries uniform in `[-2, 2)` plus a per-channel offset.
fn batch(shape: (usize, usize, usize, usize), seed: u64) -> Array4<f32> {
    let t = random(&[shape.0, shape.1, shape.2, shape.3], seed);
    let mut x: Array4<f32> = t.into_dimensionality().unwrap();
    for (k, mut c) in x.axis_iter_mut(Axis(1)).enumerate() {
        c.mapv_inplace(|v| 2.0 * v + k as f32);
    }
    x
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The fast batch norm computes what the reference loops compute, forward and
    /// backward, in both modes, on random shapes.
    #[test]
    fn fast_batch_norm_equals_the_reference(
        n in 1usize..5, c in 1usize..5, h in 1usize..6, w in 1usize..6, seed in 0u64..1000,
        batch_statistics in any::<bool>(),
    ) {
        prop_assume!(n * h * w >= 2);
        let x = batch((n, c, h, w), seed);
        let gamma: Vec<f32> = (0..c).map(|k| 0.5 + k as f32).collect();
        let beta: Vec<f32> = (0..c).map(|k| k as f32 - 1.0).collect();
        let (mean, var) = norm::channel_statistics(x.view());
        let (mean_f, var_f) = fast::batchnorm::channel_statistics(x.view());
        for k in 0..c {
            prop_assert!(approx::abs_diff_eq!(mean[k], mean_f[k], epsilon = 1e-5), "mean {} vs {}", mean[k], mean_f[k]);
            prop_assert!(approx::abs_diff_eq!(var[k], var_f[k], epsilon = 1e-4 * var[k].max(1.0)), "var {} vs {}", var[k], var_f[k]);
        }
        let (y, x_hat) = norm::batch_norm_forward(x.view(), (&mean, &var), (&gamma, &beta), 1e-5);
        let (yf, x_hat_f) = fast::batchnorm::forward(x.view(), (&mean, &var), (&gamma, &beta), 1e-5);
        prop_assert!(y.abs_diff_eq(&yf, 1e-4), "forward");
        prop_assert!(x_hat.abs_diff_eq(&x_hat_f, 1e-4), "x_hat");
        let dy = batch((n, c, h, w), seed + 1);
        let (dx, dg, db) = norm::batch_norm_backward(dy.view(), x_hat.view(), &var, &gamma, 1e-5, batch_statistics);
        let (dxf, dgf, dbf) = fast::batchnorm::backward(dy.view(), x_hat.view(), &var, &gamma, 1e-5, batch_statistics);
        prop_assert!(dx.abs_diff_eq(&dxf, 1e-3), "input gradient");
        for k in 0..c {
            prop_assert!(approx::abs_diff_eq!(dg[k], dgf[k], epsilon = 1e-3 * dg[k].abs().max(1.0)), "dgamma");
            prop_assert!(approx::abs_diff_eq!(db[k], dbf[k], epsilon = 1e-3 * db[k].abs().max(1.0)), "dbeta");
        }
    }
}

// Batch norm for fully connected layers, layer norm, SELU and alpha dropout.

use cnn_book::layers::{AlphaDropout, BatchNorm1d, LayerNorm, Selu};
use cnn_book::selu::{alpha_dropout_affine, derive_constants, moment_map, selu};

#[test]
fn batch_norm_of_features_normalises_each_feature_over_the_batch() {
    // Two features over a batch of 4: (1, 2, 3, 4) and (10, 10, 10, 30).
    let x = Tensor::from_shape_vec(vec![4, 2], vec![1., 10., 2., 10., 3., 10., 4., 30.]).unwrap();
    let mut bn = BatchNorm1d::new(2);
    let y = bn.forward(&x, Mode::Train).unwrap();
    assert_eq!(y.shape(), &[4, 2]);
    // Feature 0: mean 2.5, variance 1.25; feature 1: mean 15, variance 75.
    assert_abs_diff_eq!(y[[0, 0]], -1.5 / (1.25f32 + 1e-5).sqrt(), epsilon = 1e-5);
    assert_abs_diff_eq!(y[[3, 1]], 15.0 / (75.0f32 + 1e-5).sqrt(), epsilon = 1e-5);
    assert_abs_diff_eq!(bn.inner.running_mean[1], 0.1 * 15.0, epsilon = 1e-5);
    // Its state has the names of a batch norm's.
    let names: Vec<String> = cnn_book::model::state_dict(&bn).into_keys().collect();
    assert_eq!(names, ["bias", "running_mean", "running_var", "weight"]);
    assert!(bn.forward(&random(&[2, 2, 1, 1], 1), Mode::Train).is_err());
}

#[test]
fn batch_norm_of_features_passes_the_gradient_check_in_both_modes() {
    for implementation in [Implementation::Reference, Implementation::Fast] {
        let mut bn = BatchNorm1d::new(5);
        bn.inner.implementation = implementation;
        bn.inner.gamma.value = random(&[5], 30).mapv(|v| v + 1.5);
        bn.inner.running_var = random(&[5], 31).mapv(|v| v + 1.5);
        let x = random(&[6, 5], 32);
        assert_gradients_in(&mut bn, &x, Mode::Train, 1e-2, 1e-2);
        assert_gradients_in(&mut bn, &x, Mode::Eval, 1e-2, 1e-2);
    }
}

#[test]
fn layer_norm_by_hand_and_the_same_in_both_modes() {
    // One example, units (1, 2, 3, 6): mean 3, variance (4 + 1 + 0 + 9)/4 = 3.5.
    let x = Tensor::from_shape_vec(vec![1, 4], vec![1., 2., 3., 6.]).unwrap();
    let mut ln = LayerNorm::new(&[4]);
    ln.gain.value[[3]] = 2.0;
    ln.bias.value[[0]] = 0.5;
    let y = ln.forward(&x, Mode::Train).unwrap();
    let sigma = (3.5f32 + 1e-5).sqrt();
    assert_abs_diff_eq!(y[[0, 0]], -2.0 / sigma + 0.5, epsilon = 1e-5);
    assert_abs_diff_eq!(y[[0, 3]], 2.0 * 3.0 / sigma, epsilon = 1e-5);
    // No batch statistics: evaluation computes exactly what training does, on one example.
    let x = random(&[3, 2, 3, 3], 40);
    let mut ln = LayerNorm::new(&[2, 3, 3]);
    let train = ln.forward(&x, Mode::Train).unwrap();
    assert_eq!(train, ln.forward(&x, Mode::Eval).unwrap());
    // Each example alone gives its own row of the batch's result.
    let one = ln
        .forward(
            &x.slice(ndarray::s![1..2, .., .., ..]).to_owned().into_dyn(),
            Mode::Eval,
        )
        .unwrap();
    assert_eq!(
        one.slice(ndarray::s![0, .., .., ..]),
        train.slice(ndarray::s![1, .., .., ..])
    );
    let err = ln
        .forward(&random(&[3, 18], 41), Mode::Train)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[2, 3, 3]") && err.contains("[3, 18]"),
        "{err}"
    );
}

#[test]
fn layer_norm_passes_the_gradient_check() {
    for units in [&[7][..], &[2, 3, 3]] {
        let mut ln = LayerNorm::new(units);
        ln.gain.value = random(units, 42).mapv(|v| v + 1.5);
        ln.bias.value = random(units, 43);
        let mut shape = vec![4];
        shape.extend_from_slice(units);
        let x = random(&shape, 44);
        assert_gradients_in(&mut ln, &x, Mode::Train, 1e-2, 1e-2);
        assert_gradients_in(&mut ln, &x, Mode::Eval, 1e-2, 1e-2);
    }
}

#[test]
fn the_derived_selu_constants_are_the_published_ones() {
    // Klambauer et al. (2017), equation 14: alpha_01 = 1.6732632423543772...,
    // lambda_01 = 1.0507009873554804...
    let (lambda, alpha) = derive_constants();
    assert_abs_diff_eq!(alpha, 1.673_263_242_354_377_3, epsilon = 1e-9);
    assert_abs_diff_eq!(lambda, 1.050_700_987_355_480_5, epsilon = 1e-9);
    // They make (0, 1) a fixed point of the moment map for normalised weights...
    let (mean, var) = moment_map(0.0, 1.0, 0.0, 1.0, (lambda, alpha));
    assert_abs_diff_eq!(mean, 0.0, epsilon = 1e-9);
    assert_abs_diff_eq!(var, 1.0, epsilon = 1e-9);
    // ... an attracting one: variances of 0.3 and 3 move towards 1, every layer closer.
    for start in [0.3, 3.0] {
        let mut nu: f64 = start;
        for _ in 0..100 {
            let next = moment_map(0.0, nu, 0.0, 1.0, (lambda, alpha)).1;
            assert!(
                (next - 1.0).abs() < (nu - 1.0).abs(),
                "from {start}: {nu} -> {next}"
            );
            nu = next;
        }
        assert_abs_diff_eq!(nu, 1.0, epsilon = 1e-3);
    }
    // selu by hand: lambda x for x > 0, lambda alpha (e^x - 1) below.
    let c = (lambda as f32, alpha as f32);
    assert_abs_diff_eq!(selu(2.0, c), 2.0 * 1.050_701, epsilon = 1e-5);
    assert_abs_diff_eq!(
        selu(-1.0, c),
        1.050_701 * 1.673_263 * ((-1.0f32).exp() - 1.0),
        epsilon = 1e-5
    );
}

#[test]
fn selu_and_alpha_dropout_pass_the_gradient_check() {
    // Away from 0, where SELU's slope jumps from lambda alpha to lambda.
    let x = random(&[4, 6], 50).mapv(|v| if v.abs() < 0.05 { v + 0.1 } else { v });
    common::assert_gradients_eps(&mut Selu::new(), &x, 1e-3, 1e-2);
    let mut d = AlphaDropout::new(0.2, 51).unwrap();
    d.fixed_mask = true;
    common::assert_gradients_eps(&mut d, &x, 1e-3, 1e-2);
    common::assert_gradients_in(&mut d, &x, Mode::Eval, 1e-3, 1e-2);
}

#[test]
fn alpha_dropout_keeps_mean_zero_and_variance_one() {
    // Inputs with mean 0 and variance 1 (selu of standard normals, as in a SELU network).
    let mut rng = common::rng(52);
    use rand::Rng;
    let c = cnn_book::selu::constants();
    let normals: Vec<f32> = (0..200_000)
        .map(|_| {
            // Box-Muller.
            let (u, v): (f32, f32) = (rng.random_range(1e-7..1.0), rng.random_range(0.0..1.0));
            selu(
                (-2.0 * u.ln()).sqrt() * (2.0 * std::f32::consts::PI * v).cos(),
                c,
            )
        })
        .collect();
    let x = Tensor::from_shape_vec(vec![1_000, 200], normals).unwrap();
    let stats = |t: &Tensor| {
        let n = t.len() as f64;
        let mean = t.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = t.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    };
    let (m0, v0) = stats(&x);
    assert!(
        m0.abs() < 0.01 && (v0 - 1.0).abs() < 0.02,
        "input {m0} {v0}"
    );
    let mut d = AlphaDropout::new(0.1, 53).unwrap();
    let (m, v) = stats(&d.forward(&x, Mode::Train).unwrap());
    assert!(
        m.abs() < 0.01 && (v - 1.0).abs() < 0.02,
        "after alpha dropout: {m} {v}"
    );
    // Plain dropout would keep the mean but change the variance to 1/(1 - p) times.
    let mut plain = cnn_book::layers::Dropout::new(0.1, 53).unwrap();
    let (_, vp) = stats(&plain.forward(&x, Mode::Train).unwrap());
    assert!((vp - 1.0 / 0.9).abs() < 0.03, "plain dropout: {vp}");
    // The affine correction by hand for p = 0.1: alpha' = -lambda alpha = -1.7581;
    // a = (0.9 + 1.7581^2 * 0.9 * 0.1)^(-1/2) = (0.9 + 0.2782)^(-1/2) = 0.9213,
    // b = -a * 0.1 * alpha' = 0.9213 * 0.17581 = 0.1620.
    let (prime, a, b) = alpha_dropout_affine(0.1, c);
    assert_abs_diff_eq!(prime, -1.758_099, epsilon = 1e-5);
    assert_abs_diff_eq!(a, 0.921_3, epsilon = 1e-3);
    assert_abs_diff_eq!(b, 0.162_0, epsilon = 1e-3);
    assert_eq!(d.forward(&x, Mode::Eval).unwrap(), x);
}
