//! Chapter 01: parameter counts of dense networks on images, against hand calculations.

use cnn_book::fully_connected::{dense_params, image_mlp_params, mlp_params, IMAGE_SETS};
use cnn_book::shape::Volume;

/// image -> 100 hidden -> 10 classes, as in the slides.
fn net(image: Volume) -> u64 {
    image_mlp_params(image, 100, 10)
}

#[test]
fn dense_layer_counts_weights_and_biases() {
    // 3 inputs to 2 outputs: 6 weights, 2 biases.
    assert_eq!(dense_params(3, 2), 8);
    assert_eq!(dense_params(1, 1), 2);
    assert_eq!(dense_params(0, 5), 5);
}

#[test]
fn mlp_sums_its_layers() {
    // 4 -> 3 -> 2: (4*3 + 3) + (3*2 + 2) = 15 + 8
    assert_eq!(mlp_params(&[4, 3, 2]), 23);
    assert_eq!(mlp_params(&[7]), 0);
    assert_eq!(mlp_params(&[]), 0);
}

#[test]
fn mnist_network() {
    // 28*28 = 784 inputs; 784*100 + 100 = 78,500; 100*10 + 10 = 1,010.
    assert_eq!(net(Volume::square(28, 1)), 78_500 + 1_010);
    assert_eq!(net(Volume::square(28, 1)), 79_510);
}

#[test]
fn cifar10_network() {
    // 32*32*3 = 3,072 inputs; 3,072*100 + 100 = 307,300; + 1,010.
    assert_eq!(net(Volume::square(32, 3)), 308_310);
}

#[test]
fn stl10_network_of_the_slides_is_about_a_million() {
    // The slides' 96x96 "pixels": 9,216 inputs; 921,600 + 100 + 1,010 = 922,710.
    let grey = net(Volume::square(96, 1));
    assert_eq!(grey, 922_710);
    // "About 10^6": within a factor of two of a million.
    assert!((500_000..2_000_000).contains(&grey));
    // "10 times more than MNIST": 922,710 / 79,510 = 11.6.
    let ratio = grey as f64 / net(Volume::square(28, 1)) as f64;
    assert!(
        approx::abs_diff_eq!(ratio, 11.6049, epsilon = 1e-3),
        "ratio {ratio}"
    );
    // With three colour channels: 27,648 inputs; 2,764,800 + 100 + 1,010.
    assert_eq!(net(Volume::square(96, 3)), 2_765_910);
}

#[test]
fn imagenet_network() {
    // 224*224*3 = 150,528 inputs; 15,052,800 + 100 + 1,010 = 15,053,910.
    assert_eq!(net(Volume::square(224, 3)), 15_053_910);
}

#[test]
fn image_sets_have_the_published_shapes() {
    let shapes: Vec<_> = IMAGE_SETS
        .iter()
        .map(|s| (s.name, s.image.to_string()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("MNIST", "28x28x1".to_string()),
            ("CIFAR-10", "32x32x3".to_string()),
            ("STL-10 (grey)", "96x96x1".to_string()),
            ("STL-10", "96x96x3".to_string()),
            ("ImageNet", "224x224x3".to_string()),
        ]
    );
}

#[test]
fn first_layer_grows_with_the_area() {
    // Doubling the side quadruples the first layer's weights (biases stay 100).
    let weights = |side: u64| dense_params(side * side, 100) - 100;
    assert_eq!(weights(64), 4 * weights(32));
}

#[test]
#[should_panic(expected = "does not fit in 64 bits")]
fn absurd_sizes_overflow_loudly() {
    dense_params(u64::MAX / 2, 3);
}
