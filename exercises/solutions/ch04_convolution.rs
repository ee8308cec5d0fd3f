//! Reference solutions for chapter 4. Try the exercises in `exercises/src/` first.

/// Exercise 4.1: the valid cross-correlation of x with kernel.
pub fn correlate_valid(x: &[f64], kernel: &[f64]) -> Vec<f64> {
    if kernel.is_empty() || kernel.len() > x.len() {
        return Vec::new();
    }
    // Each window of kernel.len() consecutive values, dotted with the kernel as it is
    // (no flip). `windows` yields exactly x.len() - kernel.len() + 1 of them.
    x.windows(kernel.len())
        .map(|window| window.iter().zip(kernel).map(|(a, b)| a * b).sum())
        .collect()
}

/// Exercise 4.2: the exponential moving average divided by the sum of its weights.
pub fn ema_bias_corrected(x: &[f64], alpha: f64) -> Vec<f64> {
    // Run the recursion, and alongside it the weight left out, (1 - alpha)^(t + 1): the
    // kernel's first t + 1 weights sum to 1 minus that.
    let mut average = 0.0;
    let mut left_out = 1.0;
    x.iter()
        .map(|&value| {
            average = alpha * value + (1.0 - alpha) * average;
            left_out *= 1.0 - alpha;
            average / (1.0 - left_out)
        })
        .collect()
}

/// Exercise 4.3: the moving average over the past k values, in O(1) per output.
pub fn moving_average_running(x: &[f64], k: usize) -> Vec<f64> {
    // Keep the sum of the window: each step adds the value that enters it and subtracts
    // the one that leaves it, x(t - k), which is a zero before time 0.
    let mut sum = 0.0;
    (0..x.len())
        .map(|t| {
            sum += x[t];
            if t >= k {
                sum -= x[t - k];
            }
            sum / k as f64
        })
        .collect()
}
