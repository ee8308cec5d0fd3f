//! Chapter 02: output sizes, receptive fields and the errors for bad hyperparameters.

use cnn_book::shape::{
    conv_output_size, output_sizes, receptive_field, ConvGeometry, Rounding, Volume, Window,
};
use cnn_book::Error;

fn size(w: usize, f: usize, p: usize, s: usize) -> Result<usize, Error> {
    conv_output_size(w, f, p, s)
}

#[test]
fn formula_on_hand_computed_cases() {
    assert_eq!(size(5, 3, 1, 1), Ok(5)); // (5 - 3 + 2)/1 + 1 = 5: the slides' audio, S = 1
    assert_eq!(size(5, 3, 1, 2), Ok(3)); // (5 - 3 + 2)/2 + 1 = 3: the slides' audio, S = 2
    assert_eq!(size(5, 3, 0, 1), Ok(3)); // (5 - 3)/1 + 1 = 3: the slides' 5x5 image demo
    assert_eq!(size(7, 3, 0, 2), Ok(3)); // (7 - 3)/2 + 1 = 3
    assert_eq!(size(32, 5, 2, 1), Ok(32)); // (32 - 5 + 4)/1 + 1 = 32: padding keeps the size
    assert_eq!(size(227, 11, 0, 4), Ok(55)); // (227 - 11)/4 + 1 = 55: AlexNet
    assert_eq!(size(3, 3, 0, 1), Ok(1)); // filter as large as the input: one output
    assert_eq!(size(1, 3, 1, 1), Ok(1)); // one input, fully padded
}

#[test]
fn padding_p_equals_f_minus_1_over_2_keeps_the_size() {
    for f in [1, 3, 5, 7, 9, 11] {
        let p = Window::same_padding(f).unwrap();
        assert_eq!(p, (f - 1) / 2);
        for w in [f, 10, 28, 32] {
            assert_eq!(size(w, f, p, 1), Ok(w), "W = {w}, F = {f}, P = {p}");
        }
    }
    assert_eq!(Window::same_padding(4), None);
}

#[test]
fn zero_stride_is_refused() {
    assert_eq!(Window::new(3, 1, 0), Err(Error::ZeroStride));
    let err = size(5, 3, 1, 0).unwrap_err();
    assert!(err.to_string().contains("stride 0"), "{err}");
}

#[test]
fn zero_field_and_zero_input_are_refused() {
    assert_eq!(Window::new(0, 0, 1), Err(Error::ZeroField));
    assert_eq!(
        size(0, 3, 1, 1),
        Err(Error::ZeroInput { what: "input size" })
    );
    assert!(size(0, 3, 1, 1).unwrap_err().to_string().contains("got 0"));
}

#[test]
fn field_larger_than_padded_input_names_the_values() {
    let err = size(4, 7, 1, 1).unwrap_err();
    assert_eq!(
        err,
        Error::FieldTooLarge {
            input: 4,
            field: 7,
            padding: 1
        }
    );
    // 4 + 2*1 = 6 < 7
    assert_eq!(
        err.to_string(),
        "filter 7 is larger than the padded input: 4 + 2*1 = 6 < 7"
    );
}

#[test]
fn stride_that_does_not_tile_names_the_values() {
    // (5 - 3 + 0)/3 = 2/3: not an integer.
    let err = size(5, 3, 0, 3).unwrap_err();
    assert_eq!(
        err,
        Error::StrideDoesNotTile {
            input: 5,
            field: 3,
            padding: 0,
            stride: 3
        }
    );
    let text = err.to_string();
    for needle in ["stride 3", "size 5", "filter 3", "padding 0", "2/3 + 1"] {
        assert!(text.contains(needle), "'{needle}' missing from: {text}");
    }
}

#[test]
fn rounding_modes_follow_floor_and_ceil() {
    let w = Window::new(3, 0, 2).unwrap();
    // (10 - 3)/2 = 3.5 steps.
    assert!(w.output_size(10).is_err());
    assert_eq!(w.output_size_with(10, Rounding::Floor), Ok(3 + 1));
    assert_eq!(w.output_size_with(10, Rounding::Ceil), Ok(4 + 1));
    // When the stride tiles, all three agree: (11 - 3)/2 = 4 steps.
    for r in [Rounding::Exact, Rounding::Floor, Rounding::Ceil] {
        assert_eq!(w.output_size_with(11, r), Ok(5));
    }
}

#[test]
fn formula_agrees_with_counting_window_positions() {
    // Second implementation: slide the window one position at a time and count where it
    // fits; the formula must agree whenever the stride tiles, and floor otherwise.
    for w in 1..20 {
        for f in 1..8 {
            for p in 0..4 {
                for s in 1..5 {
                    let padded = w + 2 * p;
                    let mut count = 0;
                    let mut start = 0;
                    while start + f <= padded {
                        count += 1;
                        start += s;
                    }
                    let floor = Window::new(f, p, s)
                        .unwrap()
                        .output_size_with(w, Rounding::Floor);
                    if f > padded {
                        assert!(floor.is_err());
                        continue;
                    }
                    assert_eq!(floor, Ok(count), "W={w} F={f} P={p} S={s}");
                    // Exact: valid exactly when the last window ends at the padded edge.
                    let last_end = (count - 1) * s + f;
                    assert_eq!(size(w, f, p, s).is_ok(), last_end == padded);
                }
            }
        }
    }
}

#[test]
fn input_span_of_the_slides_audio_example() {
    // F = 3, P = 1, S = 2 on 5 inputs: windows start at -1, 1, 3 (index -1 is padding).
    let w = Window::new(3, 1, 2).unwrap();
    assert_eq!(w.input_span(0), -1..2);
    assert_eq!(w.input_span(1), 1..4);
    assert_eq!(w.input_span(2), 3..6);
    assert_eq!(w.real_inputs(0, 5), 0..2);
    assert_eq!(w.real_inputs(2, 5), 3..5);
}

#[test]
fn receptive_field_of_stacked_3x3_layers() {
    // Simonyan & Zisserman (VGG, 2014, Sec. 2.3): two stacked 3x3 layers see 5x5, three see 7x7.
    let conv3 = Window::new(3, 1, 1).unwrap();
    assert_eq!(receptive_field(&[conv3; 2]).unwrap().size, 5);
    assert_eq!(receptive_field(&[conv3; 3]).unwrap().size, 7);
    // Stride 2 then 3: 3 + (3 - 1)*2 = 7, jump 2*1 = 2.
    let rf =
        receptive_field(&[Window::new(3, 0, 2).unwrap(), Window::new(3, 0, 1).unwrap()]).unwrap();
    assert_eq!((rf.size, rf.jump, rf.start), (7, 2, 0));
    // Padding shifts the start: 3x3 with P = 1 starts one position left of the input.
    assert_eq!(receptive_field(&[conv3]).unwrap().start, -1);
    // AlexNet conv1 then its 3x3/2 pooling: 11 + (3 - 1)*4 = 19, jump 8.
    let rf = receptive_field(&[
        Window::new(11, 0, 4).unwrap(),
        Window::new(3, 0, 2).unwrap(),
    ])
    .unwrap();
    assert_eq!((rf.size, rf.jump), (19, 8));
    assert_eq!(receptive_field(&[]).unwrap().size, 1);
}

#[test]
fn receptive_field_agrees_with_tracing_every_connection() {
    // Second implementation: enumerate the connections of one top neuron layer by layer
    // (neuron j of a layer reads positions j*S - P .. j*S - P + F of the row below, padding
    // positions included) and take the extent of the set reached at the bottom.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n) as usize
    };
    let mut checked = 0;
    for _ in 0..400 {
        let layers: Vec<Window> = (0..1 + next(4))
            .map(|_| Window::new(1 + next(5), next(3), 1 + next(3)).unwrap())
            .collect();
        let Ok(sizes) = output_sizes(20 + next(40), &layers) else {
            continue;
        };
        let rf = receptive_field(&layers).unwrap();
        for out in 0..sizes[sizes.len() - 1] {
            let mut reached = std::collections::BTreeSet::from([out as i64]);
            for layer in layers.iter().rev() {
                let (f, s, p) = (
                    layer.field as i64,
                    layer.stride as i64,
                    layer.padding as i64,
                );
                reached = reached
                    .iter()
                    .flat_map(|&j| (0..f).map(move |k| j * s - p + k))
                    .collect();
            }
            let (lo, hi) = (*reached.first().unwrap(), *reached.last().unwrap() + 1);
            assert_eq!(lo..hi, rf.span(out), "layers {layers:?}, output {out}");
            // With F >= S everywhere the windows overlap or touch, so the field has no holes.
            if layers.iter().all(|l| l.field >= l.stride) {
                assert_eq!(reached.len(), rf.size, "holes in {layers:?}");
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} outputs checked");
}

#[test]
fn volumes_and_geometry() {
    let cifar = Volume::square(32, 3);
    assert_eq!(cifar.len(), 3_072); // 32*32*3
    let layer = ConvGeometry {
        field: 5,
        stride: 1,
        padding: 2,
        filters: 12,
    };
    assert_eq!(layer.output(cifar), Ok(Volume::new(32, 32, 12)));
    let no_filters = ConvGeometry {
        filters: 0,
        ..layer
    };
    assert!(no_filters
        .output(cifar)
        .unwrap_err()
        .to_string()
        .contains("number of filters"));
    let bad = ConvGeometry { stride: 2, ..layer };
    // (32 - 5 + 4)/2 = 31/2
    assert!(matches!(
        bad.output(cifar),
        Err(Error::StrideDoesNotTile { input: 32, .. })
    ));
}

#[test]
fn output_sizes_through_a_stack_stop_at_the_first_error() {
    let conv = Window::new(3, 1, 1).unwrap();
    let pool = Window::new(2, 0, 2).unwrap();
    assert_eq!(
        output_sizes(28, &[conv, pool, conv, pool]),
        Ok(vec![28, 14, 14, 7])
    );
    // 7 does not halve.
    assert!(matches!(
        output_sizes(28, &[conv, pool, conv, pool, pool]),
        Err(Error::StrideDoesNotTile { input: 7, .. })
    ));
}

#[test]
fn receptive_field_of_an_absurd_stack_is_an_error_not_a_wraparound() {
    // 70 layers of stride 2: the jump 2^70 does not fit in 64 bits.
    let halving = Window::new(2, 0, 2).unwrap();
    assert_eq!(
        receptive_field(&[halving; 70]),
        Err(Error::Overflow {
            what: "receptive field"
        })
    );
    // 60 of them fit: the field is 1 + (2 - 1)(1 + 2 + ... + 2^59) = 2^60.
    assert_eq!(receptive_field(&[halving; 60]).unwrap().size, 1 << 60);
}
