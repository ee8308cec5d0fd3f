//! Exercises for chapter 2, *Local connectivity*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch02_local_connectivity
//! ```
//!
//! Along one dimension a window has a receptive field `F` (how many inputs one output
//! sees), a stride `S` (how far it moves between neighbouring outputs) and a zero-padding
//! `P` (zeros added on each side of an input of width `W`).

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

/// Exercise 2.1: the output-size formula backwards.
///
/// The chapter's output-size formula (section *The output size*) gives the number of
/// outputs `W'` of a window with field `F`, padding `P` and stride `S` on an input of width
/// `W`, but only when the window works: `F >= 1`, `S >= 1`, `W >= 1`, the window fits in the
/// padded input (`F <= W + 2P`) and the division is exact (no input left over after the
/// last window). Here you go the other way: given `W' = output`, `F = field`,
/// `P = padding` and `S = stride`, return `Some(W)` for the input width `W` with which the
/// window works and gives exactly `output` outputs. There is at most one such `W`.
///
/// Return `None` when there is none:
///
/// - `output == 0`, `field == 0` or `stride == 0`;
/// - or the formula, solved for `W`, gives `W <= 0`: the padding alone is too wide for so
///   few outputs, and no input of one value or more gives exactly `output` of them.
///
/// Worked examples:
///
/// - `input_size_for(3, 3, 1, 2) == Some(5)`: an input of 5, padded to 7, gives windows at
///   padded positions 0, 2 and 4, and the last one ends on the last position.
/// - `input_size_for(55, 11, 0, 4) == Some(227)`: AlexNet's first layer.
/// - `input_size_for(3, 3, 2, 1) == Some(1)`: one input padded to 5 gives 3 windows.
/// - `input_size_for(2, 3, 2, 1) == None`: even a single input, padded to 5, already gives
///   3 outputs, and every wider one gives more.
/// - `input_size_for(0, 3, 0, 1) == None` (every width gives at least one output),
///   `input_size_for(4, 0, 1, 1) == None` (no field), `input_size_for(4, 3, 1, 0) == None`
///   (no stride).
///
/// The checker uses only values whose answer fits comfortably in a `usize`.
pub fn input_size_for(output: usize, field: usize, padding: usize, stride: usize) -> Option<usize> {
    todo!("Exercise 2.1: the input width W that gives `output` outputs, or None")
}

/// Exercise 2.2: which real inputs one output neuron sees.
///
/// Output number `output` (counting from 0) of a window with `field`, `padding` and
/// `stride` over an input of width `input` sees `field` consecutive positions of the padded
/// input. Output 0's window starts at the left edge of the padding, and each following
/// output's window starts `stride` positions further right. Return the indices (0-based,
/// in the unpadded input, `0..input`) of the real inputs in that window, in ascending
/// order, leaving out the positions that fall in the padding on either side. The result
/// can have fewer than `field` entries, or none at all when a window lies entirely in the
/// padding.
///
/// You may assume that the window works on this input (the output-size formula of
/// exercise 2.1 gives a whole number of outputs `n`) and that `output < n`.
///
/// Worked examples, with `input = 5, field = 3, padding = 1, stride = 2` (3 outputs):
///
/// - `seen_by(0, 5, 3, 1, 2) == vec![0, 1]` (the window's first position is padding),
/// - `seen_by(1, 5, 3, 1, 2) == vec![1, 2, 3]`,
/// - `seen_by(2, 5, 3, 1, 2) == vec![3, 4]` (its last position is padding).
///
/// And with `input = 1, field = 1, padding = 1, stride = 1` (3 outputs):
/// `seen_by(0, 1, 1, 1, 1)` is empty and `seen_by(1, 1, 1, 1, 1) == vec![0]`.
pub fn seen_by(
    output: usize,
    input: usize,
    field: usize,
    padding: usize,
    stride: usize,
) -> Vec<usize> {
    todo!("Exercise 2.2: the real inputs that one output sees")
}

/// Exercise 2.3: how many layers a receptive field needs.
///
/// Stack identical 1D layers, each with field `F = field`, stride `S = stride` and no
/// padding: the first on the input, the second on the first one's output, and so on.
/// Return the smallest number of layers for which one output of the top layer sees at
/// least `target` consecutive input positions, or `None` if no number of layers does.
///
/// - `target <= 1` needs no layer at all: `Some(0)`, whatever `field` and `stride` are
///   (with no layer, a position sees itself).
/// - For `target >= 2`, return `None` when the field never grows: `field <= 1` or
///   `stride == 0`.
///
/// Worked examples:
///
/// - `layers_to_cover(7, 3, 1) == Some(3)`: at stride 1 the fields are 3, 5, 7 wide after
///   one, two, three layers.
/// - `layers_to_cover(7, 3, 2) == Some(2)`: one layer sees 3 positions, two layers see 7
///   (the chapter's figure of a strided stack shows why).
/// - `layers_to_cover(8, 3, 2) == Some(3)`: two layers see only 7 positions, three see 15.
/// - `layers_to_cover(100, 3, 1) == Some(50)`: 49 layers see 99 positions, one short.
/// - `layers_to_cover(1, 1, 5) == Some(0)`, `layers_to_cover(2, 1, 5) == None`.
///
/// The checker uses only targets for which the fields you compute fit comfortably in a
/// `usize`.
pub fn layers_to_cover(target: usize, field: usize, stride: usize) -> Option<usize> {
    todo!("Exercise 2.3: the number of identical layers needed to see `target` positions")
}
