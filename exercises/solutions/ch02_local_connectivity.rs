//! Reference solutions for chapter 2. Try the exercises in `exercises/src/` first.

/// Exercise 2.1: the input width W that gives `output` outputs, or None.
pub fn input_size_for(output: usize, field: usize, padding: usize, stride: usize) -> Option<usize> {
    if output == 0 || field == 0 || stride == 0 {
        return None;
    }
    // W' = (W + 2P - F)/S + 1 solved for W: the padded input spans the first window (F)
    // plus W' - 1 steps of S. W is what is left after taking the padding away, if anything.
    let padded = (output - 1) * stride + field;
    padded.checked_sub(2 * padding).filter(|&width| width >= 1)
}

/// Exercise 2.2: the real inputs that one output sees.
pub fn seen_by(
    output: usize,
    input: usize,
    field: usize,
    padding: usize,
    stride: usize,
) -> Vec<usize> {
    // In padded coordinates the window covers output*stride .. output*stride + field,
    // and real input i sits at padded position padding + i.
    let first = output * stride;
    (first..first + field)
        .filter(|&position| position >= padding && position < padding + input)
        .map(|position| position - padding)
        .collect()
}

/// Exercise 2.3: the number of identical layers needed to see `target` positions.
pub fn layers_to_cover(target: usize, field: usize, stride: usize) -> Option<usize> {
    if target <= 1 {
        return Some(0); // a position sees itself
    }
    if field <= 1 || stride == 0 {
        return None; // the field stays 1 wide (or there is no layer at all)
    }
    // Add layers on top one at a time. The new layer's F inputs are `spacing` input
    // positions apart (the product of the strides below it), so it widens the field by
    // (F - 1) * spacing >= 1: the loop ends after at most target - 1 layers.
    let (mut seen, mut spacing, mut layers) = (1, 1, 0);
    while seen < target {
        seen += (field - 1) * spacing;
        spacing *= stride;
        layers += 1;
    }
    Some(layers)
}
