//! Chapter 07: max and average pooling, forward and backward, against hand calculations.

use cnn_book::pool::{
    avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, PoolConfig,
};
use cnn_book::ShapeError;
use ndarray::{array, Array4};
use rand::Rng;

mod common;

fn image(rows: Vec<Vec<f32>>) -> Array4<f32> {
    let (h, w) = (rows.len(), rows[0].len());
    Array4::from_shape_vec((1, 1, h, w), rows.into_iter().flatten().collect()).unwrap()
}

fn pool(field: usize, stride: usize) -> PoolConfig {
    PoolConfig { field, stride }
}

#[test]
fn max_pooling_2x2_by_hand() {
    let x = image(vec![
        vec![1., 3., 2., 1.],
        vec![4., 2., 0., 5.],
        vec![0., 1., 7., 3.],
        vec![2., 6., 1., 1.],
    ]);
    let (y, switches) = max_pool2d(x.view(), pool(2, 2)).unwrap();
    // Window maxima: {1,3,4,2} -> 4, {2,1,0,5} -> 5, {0,1,2,6} -> 6, {7,3,1,1} -> 7.
    assert_eq!(
        y.into_shape_with_order((2, 2)).unwrap(),
        array![[4., 5.], [6., 7.]]
    );
    assert_eq!(switches[[0, 0, 0, 0]], (1, 0));
    assert_eq!(switches[[0, 0, 1, 1]], (2, 2));
    // Backward: each output's gradient lands on its winner, everything else gets zero.
    let dy = array![[10., 20.], [30., 40.]]
        .into_shape_with_order((1, 1, 2, 2))
        .unwrap();
    let dx = max_pool2d_backward(dy.view(), switches.view(), x.dim()).unwrap();
    let expected = image(vec![
        vec![0., 0., 0., 0.],
        vec![10., 0., 0., 20.],
        vec![0., 0., 40., 0.],
        vec![0., 30., 0., 0.],
    ]);
    assert_eq!(dx, expected);
}

#[test]
fn two_by_two_pooling_keeps_one_activation_in_four() {
    let mut rng = common::rng(7);
    let x = common::random4(&mut rng, (2, 3, 8, 8));
    let (y, _) = max_pool2d(x.view(), PoolConfig::default()).unwrap();
    // Depth unchanged, width and height halved: 75% of the activations are discarded.
    assert_eq!(y.dim(), (2, 3, 4, 4));
    assert_eq!(y.len() * 4, x.len());
}

#[test]
fn ties_go_to_the_first_maximum_in_row_major_order() {
    let x = image(vec![vec![5., 5.], vec![5., 1.]]);
    let (_, switches) = max_pool2d(x.view(), pool(2, 2)).unwrap();
    assert_eq!(switches[[0, 0, 0, 0]], (0, 0));
    let dy = array![[1.]].into_shape_with_order((1, 1, 1, 1)).unwrap();
    let dx = max_pool2d_backward(dy.view(), switches.view(), x.dim()).unwrap();
    // The whole gradient goes to one input, so gradients still sum to the output's.
    assert_eq!(dx.sum(), 1.0);
    assert_eq!(dx[[0, 0, 0, 0]], 1.0);
}

#[test]
fn overlapping_pooling_3x3_stride_2() {
    // AlexNet's pooling on 55x55: (55 - 3)/2 + 1 = 27.
    let x = Array4::<f32>::zeros((1, 1, 55, 55));
    assert_eq!(
        max_pool2d(x.view(), pool(3, 2)).unwrap().0.dim(),
        (1, 1, 27, 27)
    );
    // On 5x5 with a single peak in the middle, all four overlapping windows pick it,
    // and backward adds up their gradients there.
    let mut x = Array4::<f32>::zeros((1, 1, 5, 5));
    x[[0, 0, 2, 2]] = 9.0;
    let (y, s) = max_pool2d(x.view(), pool(3, 2)).unwrap();
    assert!(y.iter().all(|&v| v == 9.0));
    let dx = max_pool2d_backward(Array4::ones((1, 1, 2, 2)).view(), s.view(), x.dim()).unwrap();
    assert_eq!(dx[[0, 0, 2, 2]], 4.0);
}

#[test]
fn average_pooling_by_hand_and_its_backward_spreads_evenly() {
    let x = image(vec![vec![1., 3.], vec![4., 8.]]);
    let y = avg_pool2d(x.view(), pool(2, 2)).unwrap();
    assert_eq!(y[[0, 0, 0, 0]], (1. + 3. + 4. + 8.) / 4.);
    let dy = array![[8.]].into_shape_with_order((1, 1, 1, 1)).unwrap();
    let dx = avg_pool2d_backward(dy.view(), x.dim(), pool(2, 2)).unwrap();
    assert!(dx.iter().all(|&v| v == 8. / 4.));
}

#[test]
fn the_10x10_stride_10_pooling_of_the_slides() {
    // A 20x20 map pooled with 10x10 windows, stride 10: a 2x2 summary of its quadrants.
    let x = Array4::from_shape_fn((1, 1, 20, 20), |(_, _, r, q)| (r / 10 * 2 + q / 10) as f32);
    let (y, _) = max_pool2d(x.view(), pool(10, 10)).unwrap();
    assert_eq!(
        y.into_shape_with_order((2, 2)).unwrap(),
        array![[0., 1.], [2., 3.]]
    );
}

#[test]
fn backward_passes_match_finite_differences() {
    // Random inputs have no ties, so max pooling is differentiable there.
    let mut rng = common::rng(70);
    for (field, stride) in [(2, 2), (3, 2), (3, 1), (2, 1)] {
        let w = field + 3 * stride; // tiles exactly: 4 windows along each axis
        let x = common::random4(&mut rng, (2, 2, w, w));
        let config = pool(field, stride);
        let (y, s) = max_pool2d(x.view(), config).unwrap();
        let r = Array4::from_shape_fn(y.dim(), |_| rng.random_range(-1.0f32..1.0));
        let dmax = max_pool2d_backward(r.view(), s.view(), x.dim()).unwrap();
        let davg = avg_pool2d_backward(r.view(), x.dim(), config).unwrap();
        let eps = 1e-3f32;
        for idx in [
            [0, 0, 0, 0],
            [1, 1, w - 1, w - 1],
            [0, 1, 3, 4],
            [1, 0, 2, 4],
        ] {
            let loss = |x: &Array4<f32>, max: bool| -> f64 {
                let y = if max {
                    max_pool2d(x.view(), config).unwrap().0
                } else {
                    avg_pool2d(x.view(), config).unwrap()
                };
                y.iter()
                    .zip(r.iter())
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum()
            };
            for (max, analytic) in [(true, &dmax), (false, &davg)] {
                let (mut plus, mut minus) = (x.clone(), x.clone());
                plus[idx] += eps;
                minus[idx] -= eps;
                let numeric = (loss(&plus, max) - loss(&minus, max)) / (2.0 * eps as f64);
                assert!(
                    (numeric - analytic[idx] as f64).abs() < 2e-3,
                    "F {field} S {stride} max {max} at {idx:?}: {numeric} vs {}",
                    analytic[idx]
                );
            }
        }
    }
}

#[test]
fn bad_pooling_shapes_are_named() {
    let x = Array4::<f32>::zeros((1, 1, 5, 5));
    let err = max_pool2d(x.view(), pool(2, 2)).unwrap_err().to_string();
    assert!(err.contains("stride 2") && err.contains("size 5"), "{err}");
    assert_eq!(
        max_pool2d(x.view(), pool(2, 0)).unwrap_err(),
        ShapeError::ZeroStride
    );
    let dy = Array4::<f32>::zeros((1, 1, 3, 3));
    let err = avg_pool2d_backward(dy.view(), (1, 1, 4, 4), pool(2, 2))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("(1, 1, 3, 3)") && err.contains("(1, 1, 2, 2)"),
        "{err}"
    );
}
