//! Exercises for chapter 11, *Famous architectures*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch11_architectures
//! ```

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

/// Exercise 11.1: the parameters of a grouped convolution.
///
/// A convolution from `c_in` to `c_out` channels with `field x field` filters, split in
/// `groups` groups as AlexNet's layers were split between two GPUs: group `g` takes only
/// its own `c_in / groups` input channels and gives its own `c_out / groups` output
/// channels. Every filter has a bias. Return the number of parameters (weights and
/// biases). `groups` divides both `c_in` and `c_out`.
///
/// Worked example: AlexNet's second layer, `c_in = 96`, `c_out = 256`, `field = 5`,
/// `groups = 2`: each group has `128` filters of `48 x 5 x 5` and `128` biases, `153,728`,
/// so `307,456` in all. With `groups = 1` the same layer would have `614,656`.
pub fn grouped_conv_params(c_in: usize, c_out: usize, field: usize, groups: usize) -> usize {
    todo!("Exercise 11.1: count one group, then all of them")
}

/// The widths of an Inception module, as the columns of Table 1 of Szegedy et al. (2015):
/// `[#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj]`.
pub type Widths = [usize; 6];

/// Exercise 11.2: the parameters of an Inception module with dimension reductions.
///
/// The module of Figure 2b of the GoogLeNet paper on an input of `c_in` channels, four
/// branches side by side: a 1 x 1 convolution to `#1x1`; a 1 x 1 convolution to
/// `#3x3 reduce` then a 3 x 3 to `#3x3`; a 1 x 1 to `#5x5 reduce` then a 5 x 5 to `#5x5`;
/// 3 x 3 max pooling (no parameters; it keeps the `c_in` channels) then a 1 x 1 to
/// `pool proj`. Every convolution has a
/// bias. Return the number of parameters.
///
/// Worked example: `c_in = 4`, widths `[1, 2, 3, 1, 2, 1]`: the 1 x 1 branch has `4 + 1 = 5`,
/// the 3 x 3 branch `(8 + 2) + (54 + 3) = 67`, the 5 x 5 branch `(4 + 1) + (50 + 2) = 57`,
/// the pooling branch `4 + 1 = 5`: `134` in all.
pub fn inception_params(c_in: usize, widths: Widths) -> usize {
    todo!("Exercise 11.2: the four branches, one convolution at a time")
}

/// Exercise 11.3: the multiply-accumulates of the same module.
///
/// The module keeps the image's size (every convolution is padded to do so), on an input
/// of `c_in x side x side`. Count one multiply-accumulate for every product of a weight
/// with an input value (padding zeros included) that the module's convolutions compute;
/// biases, ReLUs and pooling are not counted (the convention of published counts). Return
/// the total of the module.
///
/// Worked example: `c_in = 4`, `side = 2`, widths `[1, 2, 3, 1, 2, 1]`: 496 in all, 124 at
/// each of the 4 positions.
pub fn inception_multiply_adds(c_in: usize, side: usize, widths: Widths) -> u64 {
    todo!("Exercise 11.3: the same convolutions, each at every position")
}
