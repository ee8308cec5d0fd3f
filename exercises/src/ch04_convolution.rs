//! Exercises for chapter 4, *Convolution in mathematics*.
//!
//! Replace each `todo!()` with your code, then check it with
//!
//! ```text
//! cargo test -p cnn-book-exercises --test ch04_convolution
//! ```
//!
//! A signal here is a slice `x` of values `x(0), x(1), ...`, zero before time 0 and after
//! its last value. The chapter's cross-correlation of `x` with a kernel `g` is
//!
//! ```text
//! (x ⋆ g)(t) = sum over tau of x(t + tau) g(tau)
//! ```
//!
//! (convolution is the same with `x(t - tau)`: the kernel flipped), and the exponential
//! moving average is the recursion `s(t) = alpha x(t) + (1 - alpha) s(t - 1)`, started at
//! `s(-1) = 0`.

// The stubs do not use their arguments yet; this keeps the compiler quiet until they do.
#![allow(unused_variables)]

/// Exercise 4.1: the "valid" cross-correlation of deep-learning libraries.
///
/// Slide `kernel` along `x` without flipping it and without padding: output `i` is the
/// dot product of the kernel with the `kernel.len()` values of `x` starting at `i`,
///
/// ```text
/// y[i] = sum over u in 0..kernel.len() of x[i + u] * kernel[u]
/// ```
///
/// for every `i` where the kernel lies entirely inside `x`: `i` from 0 to
/// `x.len() - kernel.len()`, so the result has `x.len() - kernel.len() + 1` values. These
/// are the values `(x ⋆ kernel)(t)` of the chapter's cross-correlation at the times
/// `t = 0, 1, ...` where no term reads a zero from outside `x`.
///
/// Return an empty vector when the kernel fits nowhere: `kernel.len() > x.len()`, or
/// either slice is empty.
///
/// Worked examples:
///
/// - `correlate_valid(&[1.0, 2.0, 3.0, 4.0], &[1.0, 0.0, -1.0]) == vec![-2.0, -2.0]`:
///   `1*1 + 2*0 + 3*(-1) = -2` and `2*1 + 3*0 + 4*(-1) = -2`.
/// - `correlate_valid(&[1.0, 2.0, 3.0, 4.0], &[0.5, 0.5]) == vec![1.5, 2.5, 3.5]`: the
///   average of each pair of neighbours.
/// - `correlate_valid(&[0.0, 1.0, 0.0], &[1.0, 2.0]) == vec![2.0, 1.0]`: an impulse comes
///   out as the kernel reversed. (A true convolution, which flips the kernel, would give
///   `[1.0, 2.0]`.)
/// - `correlate_valid(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]) == vec![32.0]`: a kernel as long
///   as the signal fits once, and the answer is the dot product.
/// - `correlate_valid(&[1.0, 2.0], &[1.0, 1.0, 1.0])` and `correlate_valid(&[1.0, 2.0], &[])`
///   are empty.
pub fn correlate_valid(x: &[f64], kernel: &[f64]) -> Vec<f64> {
    todo!("Exercise 4.1: the valid cross-correlation of x with kernel")
}

/// Exercise 4.2: the exponential moving average without its start-up bias.
///
/// The exponential moving average `s(t) = alpha x(t) + (1 - alpha) s(t - 1)`, started at
/// `s(-1) = 0`, is the causal filter with kernel `g(tau) = alpha (1 - alpha)^tau`. At time
/// `t` only the kernel's first `t + 1` weights have met a value of `x`, and they sum to
/// less than 1, so the first averages are pulled towards the zero it started from. The
/// Adam optimizer removes that bias by dividing by that sum. Return, for every `t` from 0
/// to `x.len() - 1`, `s(t)` divided by the sum of the kernel's first `t + 1` weights.
///
/// You may assume `0 < alpha <= 1`. An empty `x` gives an empty result.
///
/// Worked examples:
///
/// - `ema_bias_corrected(&[2.0, 4.0], 0.5)` is `[2.0, 3.333...]`: `s(0) = 0.5*2 = 1`,
///   divided by the first weight, 0.5, gives 2; `s(1) = 0.5*4 + 0.5*1 = 2.5`, divided by
///   the first two, `0.5 + 0.25 = 0.75`, gives `10/3`. (The uncorrected averages are
///   `[1.0, 2.5]`.)
/// - `ema_bias_corrected(&[3.0, 3.0, 3.0], 0.5) == vec![3.0, 3.0, 3.0]`: the averages
///   1.5, 2.25, 2.625 divided by 0.5, 0.75, 0.875. On a constant signal the corrected
///   average is that constant from the start, and at `t = 0` it is always `x(0)`.
/// - `ema_bias_corrected(&[10.0, 10.0], 0.1)` is `[10.0, 10.0]` up to rounding:
///   `1 / 0.1` and `1.9 / 0.19`.
/// - With `alpha = 1` nothing is averaged: the result is `x` itself.
///
/// The checker allows for rounding: answers within about `1e-9` of the expected ones
/// (relative to their size, when that is above 1) are right.
pub fn ema_bias_corrected(x: &[f64], alpha: f64) -> Vec<f64> {
    todo!("Exercise 4.2: the exponential moving average divided by the sum of its weights")
}

/// Exercise 4.3: the moving average at a constant cost per step.
///
/// The moving average over the past `k` values is the causal filter with the kernel
/// `g(tau) = 1/k` for `0 <= tau < k` (`cnn_book::conv1d::moving_average_kernel`): output
/// `t` is the mean of `x(t - k + 1), ..., x(t)`, the `k` values up to and including time
/// `t`. The signal is zero before time 0, so the first `k - 1` outputs average in zeros:
/// they are still divided by `k`, not by the number of real values. Return one output per
/// value of `x`.
///
/// Computed from that definition, every output costs `k` additions: `10^10` for a signal
/// of a million values averaged over the past 10,000. The exponential moving average
/// costs one multiply-add per output, however long its memory, thanks to its recursion.
/// Compute the moving average with a fixed amount of work per output too, whatever `k`.
///
/// - You may assume `k >= 1`. `k` may be longer than `x`: then every output averages in
///   zeros.
/// - An empty `x` gives an empty result.
///
/// Worked examples:
///
/// - `moving_average_running(&[3.0, 6.0, 9.0, 12.0], 2) == vec![1.5, 4.5, 7.5, 10.5]`:
///   `(0 + 3)/2`, `(3 + 6)/2`, `(6 + 9)/2`, `(9 + 12)/2`.
/// - `moving_average_running(&[3.0, 6.0, 9.0, 12.0], 3) == vec![1.0, 3.0, 6.0, 9.0]`:
///   `3/3`, `(3 + 6)/3`, `(3 + 6 + 9)/3`, `(6 + 9 + 12)/3`.
/// - `moving_average_running(&[4.0, 8.0], 4) == vec![1.0, 3.0]`: `4/4` and `(4 + 8)/4`.
/// - With `k = 1` nothing is averaged: the result is `x` itself.
///
/// The checker allows for rounding: answers within about `1e-9` of the expected ones
/// (relative to their size, when that is above 1) are right. Its last inputs have a
/// million values and `k` up to 10,000: adding up `k` values per output gives the right
/// answers there too, but with some `10^10` additions, seconds instead of milliseconds.
pub fn moving_average_running(x: &[f64], k: usize) -> Vec<f64> {
    todo!("Exercise 4.3: the moving average over the past k values, in O(1) per output")
}
