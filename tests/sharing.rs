//! Chapter 03: AlexNet's first layer, shared and unshared, against the slides and the paper.

use cnn_book::shape::{conv_output_size, ConvGeometry, Rounding, Volume, Window};
use cnn_book::sharing::{
    layer_counts, tiling_widths, ALEXNET_CONV1, ALEXNET_INPUT, ALEXNET_PAPER_CONV1_NEURONS,
    ALEXNET_PAPER_INPUT,
};
use cnn_book::Error;

#[test]
fn alexnet_first_layer_counts() {
    let c = layer_counts(ALEXNET_INPUT, ALEXNET_CONV1).unwrap();
    // (227 - 11 + 0)/4 + 1 = 216/4 + 1 = 55
    assert_eq!(c.output, Volume::new(55, 55, 96));
    // 55 * 55 * 96 = 3,025 * 96 = 290,400 neurons
    assert_eq!(c.neurons, 290_400);
    // 11 * 11 * 3 = 363 weights, + 1 bias = 364
    assert_eq!(c.weights_per_neuron, 363);
    assert_eq!(c.params_per_neuron, 364);
    // Unshared: 290,400 * 364 = 105,705,600, over 10^8.
    assert_eq!(c.unshared_params, 105_705_600);
    assert!(c.unshared_params > 100_000_000);
    // Shared: 96 * 364 = 34,944.
    assert_eq!(c.shared_params, 34_944);
    // Sharing divides by the number of positions, 55 * 55 = 3,025.
    assert_eq!(c.unshared_params / c.shared_params, 3_025);
}

#[test]
fn the_papers_224_does_not_tile() {
    assert_eq!(ALEXNET_PAPER_INPUT.width, 224);
    // (224 - 11)/4 = 213/4 = 53.25
    assert!(matches!(
        layer_counts(ALEXNET_PAPER_INPUT, ALEXNET_CONV1),
        Err(Error::StrideDoesNotTile {
            input: 224,
            field: 11,
            padding: 0,
            stride: 4
        })
    ));
    // 224 - 11 + 2P is odd for every P, so no symmetric padding can make it divisible by 4.
    for p in 0..50 {
        assert!(conv_output_size(224, 11, p, 4).is_err(), "P = {p}");
    }
    // Three extra pixels (227 = 224 + 3) make it tile.
    assert_eq!(conv_output_size(224 + 3, 11, 0, 4), Ok(55));
    // Frameworks that floor would silently give 54 x 54 x 96 = 279,936 neurons.
    let floor = Window::new(11, 0, 4)
        .unwrap()
        .output_size_with(224, Rounding::Floor);
    assert_eq!(floor, Ok(54));
    assert_eq!(54 * 54 * 96, 279_936);
}

#[test]
fn the_papers_253440_is_not_a_square_layer_of_96_filters() {
    assert_eq!(ALEXNET_PAPER_CONV1_NEURONS, 253_440);
    // 253,440 / 96 = 2,640 neurons per filter, between 51^2 = 2,601 and 52^2 = 2,704.
    assert_eq!(ALEXNET_PAPER_CONV1_NEURONS % 96, 0);
    let per_filter = ALEXNET_PAPER_CONV1_NEURONS / 96;
    assert_eq!(per_filter, 2_640);
    assert!((1..100u64).all(|side| side * side != per_filter));
    // And no input width gives it at F = 11, S = 4, P = 0 (floored or not).
    for w in 11..400 {
        let side = Window::new(11, 0, 4)
            .unwrap()
            .output_size_with(w, Rounding::Floor)
            .unwrap();
        assert_ne!(
            (side * side * 96) as u64,
            ALEXNET_PAPER_CONV1_NEURONS,
            "W = {w}"
        );
    }
}

#[test]
fn the_second_layer_follows_from_227_and_matches_the_paper() {
    // Overlapping 3x3 max pooling with stride 2 on the 55x55 maps: (55 - 3)/2 + 1 = 27.
    let c = layer_counts(ALEXNET_INPUT, ALEXNET_CONV1).unwrap();
    let pooled = Window::new(3, 0, 2)
        .unwrap()
        .output_size(c.output.width)
        .unwrap();
    assert_eq!(pooled, 27);
    // 27 * 27 * 256 filters = 186,624: the second number in the paper's list of layer sizes.
    assert_eq!(pooled * pooled * 256, 186_624);
}

#[test]
fn a_dense_layer_with_the_same_outputs_would_need_tens_of_billions() {
    // 227 * 227 * 3 = 154,587 inputs, 290,400 outputs: 154,587 * 290,400 + 290,400 biases.
    let dense = cnn_book::fully_connected::dense_params(ALEXNET_INPUT.len(), 290_400);
    assert_eq!(ALEXNET_INPUT.len(), 154_587);
    assert_eq!(dense, 154_587 * 290_400 + 290_400);
    assert_eq!(dense, 44_892_355_200);
}

#[test]
fn widths_that_tile_for_alexnet_are_3_mod_4() {
    // (W - 11) divisible by 4  <=>  W = 3 (mod 4)
    assert_eq!(
        tiling_widths(215..=235, 11, 0, 4),
        vec![215, 219, 223, 227, 231, 235]
    );
}

#[test]
fn locally_connected_small_case_by_hand() {
    // 4x4x2 input, 3x3 windows, stride 1, no padding, 5 filters:
    // output 2x2x5 = 20 neurons, each 3*3*2 + 1 = 19 parameters.
    let c = layer_counts(
        Volume::new(4, 4, 2),
        ConvGeometry {
            field: 3,
            stride: 1,
            padding: 0,
            filters: 5,
        },
    )
    .unwrap();
    assert_eq!(c.output, Volume::new(2, 2, 5));
    assert_eq!(c.neurons, 20);
    assert_eq!(c.params_per_neuron, 19);
    assert_eq!(c.unshared_params, 20 * 19);
    assert_eq!(c.shared_params, 5 * 19);
}

#[test]
fn counts_that_overflow_are_errors() {
    // 2^20 * 2^20 positions * 2^30 filters = 2^70 neurons: too many to count in 64 bits.
    let one_filter_deep = Volume::new(1 << 20, 1 << 20, 1);
    let geometry = ConvGeometry {
        field: 1,
        stride: 1,
        padding: 0,
        filters: 1 << 30,
    };
    assert_eq!(
        layer_counts(one_filter_deep, geometry).unwrap_err(),
        Error::Overflow {
            what: "neuron count"
        }
    );
    // 2^21 * 2^21 * 2^12 = 2^54 neurons fit, but each has 1*1*2^10 + 1 parameters,
    // and 2^54 * (2^10 + 1) > 2^64.
    let deep = Volume::new(1 << 21, 1 << 21, 1 << 10);
    let many = ConvGeometry {
        field: 1,
        stride: 1,
        padding: 0,
        filters: 1 << 12,
    };
    assert_eq!(
        layer_counts(deep, many).unwrap_err(),
        Error::Overflow {
            what: "parameter count"
        }
    );
}
