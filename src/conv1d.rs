//! Convolution in mathematics: finite discrete sequences, convolution and
//! cross-correlation, and the two smoothing kernels of the slides (chapter
//! `04-convolution`).
//!
//! A discrete signal here is a finite run of values `f(start), f(start + 1), ...`, zero
//! everywhere else. Its convolution with a kernel `g` is
//!
//! ```text
//! (f * g)(t) = sum over tau of f(t - tau) g(tau)
//! ```
//!
//! where `g(tau)` weighs the value of `f` from `tau` steps in the past (`tau >= 0`) or
//! `-tau` steps in the future (`tau < 0`). Everything is `f64`: this chapter is about
//! identities, and they should hold to the last bit where the arithmetic allows.

use crate::error::Error;

// ANCHOR: sequence
/// A finite discrete signal: `values[i]` is the value at time `start + i`; zero elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// The time of the first stored value (negative: a kernel that looks into the future).
    pub start: i64,
    pub values: Vec<f64>,
}
// ANCHOR_END: sequence

impl Sequence {
    /// A sequence whose first value sits at time `start`.
    pub fn new(start: i64, values: Vec<f64>) -> Self {
        Sequence { start, values }
    }

    /// A sequence starting at time 0.
    pub fn causal(values: Vec<f64>) -> Self {
        Sequence::new(0, values)
    }

    /// The value at time `t` (zero outside the stored range).
    pub fn at(&self, t: i64) -> f64 {
        let i = t - self.start;
        if i < 0 || i >= self.values.len() as i64 {
            0.0
        } else {
            self.values[i as usize]
        }
    }

    /// One past the last stored time.
    pub fn end(&self) -> i64 {
        self.start + self.values.len() as i64
    }

    /// The time-reversed sequence `g(-t)`.
    pub fn flipped(&self) -> Sequence {
        let mut values = self.values.clone();
        values.reverse();
        Sequence::new(1 - self.end(), values)
    }
}

// ANCHOR: convolve
/// The convolution `(f * g)(t) = sum_tau f(t - tau) g(tau)` of two finite sequences.
///
/// The result is non-zero at most from `f.start + g.start` to `f.end() + g.end() - 2`,
/// so it has `len(f) + len(g) - 1` values.
pub fn convolve(f: &Sequence, g: &Sequence) -> Sequence {
    if f.values.is_empty() || g.values.is_empty() {
        return Sequence::new(f.start + g.start, Vec::new());
    }
    let start = f.start + g.start;
    let len = f.values.len() + g.values.len() - 1;
    let values = (0..len as i64)
        .map(|i| {
            let t = start + i;
            (g.start..g.end())
                .map(|tau| f.at(t - tau) * g.at(tau))
                .sum()
        })
        .collect();
    Sequence::new(start, values)
}
// ANCHOR_END: convolve

// ANCHOR: correlate
/// The cross-correlation `(f ⋆ g)(t) = sum_tau f(t + tau) g(tau)`: the same sliding dot
/// product without the flip. This is what deep-learning libraries call "convolution".
pub fn correlate(f: &Sequence, g: &Sequence) -> Sequence {
    if f.values.is_empty() || g.values.is_empty() {
        return Sequence::new(f.start - g.start, Vec::new());
    }
    let start = f.start - (g.end() - 1);
    let len = f.values.len() + g.values.len() - 1;
    let values = (0..len as i64)
        .map(|i| {
            let t = start + i;
            (g.start..g.end())
                .map(|tau| f.at(t + tau) * g.at(tau))
                .sum()
        })
        .collect();
    Sequence::new(start, values)
}
// ANCHOR_END: correlate

// ANCHOR: kernels
/// The moving average over the past `k` values: `g(tau) = 1/k` for `0 <= tau < k`.
pub fn moving_average_kernel(k: usize) -> Result<Sequence, Error> {
    if k == 0 {
        return Err(Error::ZeroField);
    }
    Ok(Sequence::causal(vec![1.0 / k as f64; k]))
}

/// The exponential moving average `g(tau) = alpha (1 - alpha)^tau` for `tau >= 0`,
/// truncated after `len` terms (the weights left out sum to `(1 - alpha)^len`).
pub fn ema_kernel(alpha: f64, len: usize) -> Result<Sequence, Error> {
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(Error::BadHyperparameter {
            name: "alpha",
            value: alpha,
            expected: "0 < alpha <= 1",
        });
    }
    if len == 0 {
        return Err(Error::ZeroField);
    }
    let values = (0..len)
        .map(|tau| alpha * (1.0 - alpha).powi(tau as i32))
        .collect();
    Ok(Sequence::causal(values))
}
// ANCHOR_END: kernels

// ANCHOR: causal_filter
/// Filters a signal `x(0), x(1), ...` with a causal kernel (`g.start >= 0`), keeping the
/// signal's length: `y(t) = sum_tau x(t - tau) g(tau)`, with `x` zero before time 0.
/// This is the first `len(x)` values of `x * g`.
pub fn causal_filter(x: &[f64], g: &Sequence) -> Result<Vec<f64>, Error> {
    if g.start < 0 {
        return Err(Error::BadHyperparameter {
            name: "kernel start",
            value: g.start as f64,
            expected: "a causal kernel, starting at time 0 or later",
        });
    }
    let full = convolve(&Sequence::causal(x.to_vec()), g);
    Ok((0..x.len() as i64).map(|t| full.at(t)).collect())
}
// ANCHOR_END: causal_filter

// ANCHOR: ema_recursive
/// The exponential moving average by its recursion `s(t) = alpha x(t) + (1 - alpha) s(t-1)`,
/// with `s(-1) = 0`: one multiply-add per step, however long the memory.
pub fn ema_recursive(x: &[f64], alpha: f64) -> Vec<f64> {
    let mut s = 0.0;
    x.iter()
        .map(|&xt| {
            s = alpha * xt + (1.0 - alpha) * s;
            s
        })
        .collect()
}
// ANCHOR_END: ema_recursive
