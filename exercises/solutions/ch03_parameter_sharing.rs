//! Reference solutions for chapter 3. Try the exercises in `exercises/src/` first.

use cnn_book::{ConvGeometry, Volume};

/// Outputs along one dimension of `input` values, (W - F + 2P)/S + 1, or None.
fn side(input: usize, layer: &ConvGeometry) -> Option<usize> {
    let padded = input + 2 * layer.padding;
    if input == 0 || layer.field == 0 || layer.stride == 0 || layer.field > padded {
        return None;
    }
    let travel = padded - layer.field;
    (travel % layer.stride == 0).then_some(travel / layer.stride + 1)
}

/// Exercise 3.1: locally connected parameters / convolutional parameters.
pub fn sharing_ratio(input: Volume, geometry: ConvGeometry) -> Option<u64> {
    if geometry.filters == 0 || input.depth == 0 {
        return None;
    }
    // Both layers have the same parameters per neuron. The locally connected one has a set
    // per neuron (W' * H' * K), the convolutional one a set per filter (K): the ratio is
    // the number of output positions, W' * H'.
    let width = side(input.width, &geometry)?;
    let height = side(input.height, &geometry)?;
    Some(width as u64 * height as u64)
}

/// Exercise 3.2: the smallest width >= width that the window tiles exactly.
pub fn nearest_tiling_width(width: usize, field: usize, padding: usize, stride: usize) -> usize {
    // At least one value, and wide enough for the window to fit in the padded input...
    let smallest = width.max(1).max(field.saturating_sub(2 * padding));
    // ...then up to the next width where the travel is a multiple of the stride.
    let travel = smallest + 2 * padding - field;
    smallest + (stride - travel % stride) % stride
}

/// Exercise 3.3: total parameters of a stack of convolutional layers, or None.
pub fn conv_stack_params(input: Volume, layers: &[ConvGeometry]) -> Option<u64> {
    let (mut width, mut height, mut depth) = (input.width, input.height, input.depth);
    let mut total = 0;
    for layer in layers {
        if layer.filters == 0 || depth == 0 {
            return None;
        }
        width = side(width, layer)?;
        height = side(height, layer)?;
        let per_filter = (layer.field * layer.field * depth) as u64 + 1; // weights + bias
        total += layer.filters as u64 * per_filter;
        depth = layer.filters;
    }
    Some(total)
}
