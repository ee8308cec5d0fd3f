//! Reference solutions for chapter 12 (compiled with `--features solutions`).

/// Exercise 12.1: the chain rule, one factor per layer: `w` for a plain layer, `1 + w`
/// for a residual one.
pub fn input_gradient(weights: &[f32], residual: bool) -> f32 {
    weights
        .iter()
        .map(|&w| if residual { 1.0 + w } else { w })
        .product()
}

/// Exercise 12.2: two 3 x 3 convolutions and two batch norms, plus the projection.
pub fn basic_block_params(c_in: usize, c_out: usize, stride: usize) -> usize {
    let body = c_in * c_out * 9 + 2 * c_out + c_out * c_out * 9 + 2 * c_out;
    let shortcut = if stride != 1 || c_in != c_out {
        c_in * c_out + 2 * c_out
    } else {
        0
    };
    body + shortcut
}

/// Exercise 12.3: the stem, `3n` blocks, the classifier.
pub fn small_resnet_params(n: usize, width: usize) -> usize {
    let mut total = 9 * width + 2 * width;
    let mut channels = width;
    for stage in 0..3 {
        let c_out = width << stage;
        for i in 0..n {
            let stride = if stage > 0 && i == 0 { 2 } else { 1 };
            total += basic_block_params(channels, c_out, stride);
            channels = c_out;
        }
    }
    total + channels * 10 + 10
}
