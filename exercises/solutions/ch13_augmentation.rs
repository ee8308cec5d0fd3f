//! Reference solutions for chapter 13 (compiled with `--features solutions`).

use ndarray::Array2;

/// Exercise 13.1: column `j` from column `W - 1 - j`.
pub fn flip_horizontal(image: &Array2<f32>) -> Array2<f32> {
    let (h, w) = image.dim();
    Array2::from_shape_fn((h, w), |(r, c)| image[[r, w - 1 - c]])
}

/// Exercise 13.2: each output pixel from `(r - dy, c - dx)`, or the fill.
pub fn shift_image(image: &Array2<f32>, dy: isize, dx: isize, fill: f32) -> Array2<f32> {
    let (h, w) = image.dim();
    Array2::from_shape_fn((h, w), |(r, c)| {
        let (y, x) = (r as isize - dy, c as isize - dx);
        if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
            image[[y as usize, x as usize]]
        } else {
            fill
        }
    })
}

/// Exercise 13.3: around the mean, then clipped.
pub fn adjust_contrast(image: &Array2<f32>, factor: f32, low: f32, high: f32) -> Array2<f32> {
    let mean = image.mean().unwrap_or(0.0);
    image.mapv(|v| ((v - mean) * factor + mean).clamp(low, high))
}
