//! Timing shared by the bench binaries (`benches/conv.rs`, `benches/fast.rs`).

use std::time::Instant;

/// The median of some times (sorted in place).
pub fn median(times: &mut [f64]) -> f64 {
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

/// Median wall time in milliseconds of `runs` calls, after `warm` warm-up calls.
pub fn median_ms(warm: usize, runs: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warm {
        f();
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    median(&mut times)
}
