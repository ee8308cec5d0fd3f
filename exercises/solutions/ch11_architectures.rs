//! Reference solutions for chapter 11 (compiled with `--features solutions`).

/// See the exercise.
pub type Widths = [usize; 6];

/// Exercise 11.1: `groups` convolutions of `c_in / groups` to `c_out / groups` channels.
pub fn grouped_conv_params(c_in: usize, c_out: usize, field: usize, groups: usize) -> usize {
    let (a, b) = (c_in / groups, c_out / groups);
    groups * (b * a * field * field + b)
}

/// The convolutions of the module: `(from, to, field)`.
fn convolutions(c_in: usize, w: Widths) -> [(usize, usize, usize); 6] {
    let [c1, r3, c3, r5, c5, pool] = w;
    [
        (c_in, c1, 1),
        (c_in, r3, 1),
        (r3, c3, 3),
        (c_in, r5, 1),
        (r5, c5, 5),
        (c_in, pool, 1),
    ]
}

/// Exercise 11.2: weights and biases of the six convolutions.
pub fn inception_params(c_in: usize, widths: Widths) -> usize {
    convolutions(c_in, widths)
        .iter()
        .map(|&(a, b, f)| b * a * f * f + b)
        .sum()
}

/// Exercise 11.3: each convolution at every one of the `side * side` positions.
pub fn inception_multiply_adds(c_in: usize, side: usize, widths: Widths) -> u64 {
    convolutions(c_in, widths)
        .iter()
        .map(|&(a, b, f)| (side * side * b * a * f * f) as u64)
        .sum()
}
