//! Data augmentation (chapter `13-augmentation`): random changes to the training images
//! that keep their label, drawn anew for every image of every batch.
//!
//! The four transforms of the course: a mirror image (with crops, AlexNet's, Krizhevsky et
//! al., 2012), a change of brightness and of contrast (as in TensorFlow's CIFAR-10
//! example), a shift by one pixel (the slides); and the random crop of a padded image that
//! most modern training uses. Each [`Augmentation`]
//! works on one image `(C, H, W)`; an [`Augmenter`] applies a list of them to every image
//! of a batch, in order, with a generator the caller seeds, so a run repeats exactly. It
//! plugs into training as [`crate::train::Training::transform`].
//!
//! The images may be raw pixels in `[0, 1]` or standardised ones; a [`PixelRange`] says
//! which values are valid (brightness and contrast clip to it) and which value is the
//! background (shifts and crops fill with it).

use ndarray::{s, Array3, Array4, ArrayViewMut3, Axis};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::records::Normalisation;

/// The values a pixel can take: `low` is black (the background of Fashion-MNIST), `high`
/// white.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelRange {
    pub low: f32,
    pub high: f32,
}

impl PixelRange {
    /// Raw pixels, 0 to 1.
    pub const UNIT: PixelRange = PixelRange {
        low: 0.0,
        high: 1.0,
    };

    /// Pixels of `[0, 1]` after standardisation with `norm`: `(0 - mean) / std` to
    /// `(1 - mean) / std`.
    pub fn standardised(norm: Normalisation) -> PixelRange {
        PixelRange {
            low: (0.0 - norm.mean) / norm.std,
            high: (1.0 - norm.mean) / norm.std,
        }
    }

    fn check(&self) -> Result<()> {
        if !(self.low.is_finite() && self.high.is_finite() && self.low < self.high) {
            return Err(Error::Invalid(format!(
                "a pixel range needs finite low < high, got {} to {}",
                self.low, self.high
            )));
        }
        Ok(())
    }
}

// ANCHOR: augmentation
/// One random change to an image `(C, H, W)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Augmentation {
    /// Mirror the image left to right, with probability `p`.
    HorizontalFlip { p: f32 },
    /// Add one number, uniform in `[-max_delta, max_delta]`, to every pixel (then clip).
    Brightness { max_delta: f32 },
    /// Multiply every pixel's difference from the image's mean (per channel) by one
    /// factor, uniform in `[lower, upper]` (then clip).
    Contrast { lower: f32, upper: f32 },
    /// Move the image one pixel up, down, left or right (each with probability 1/4); the
    /// row or column left empty is background.
    Shift,
    /// Surround the image with `padding` pixels of background, then cut out a window of
    /// the original size at a uniformly random position.
    Crop { padding: usize },
}
// ANCHOR_END: augmentation

impl Augmentation {
    /// Refuses parameters that make no sense, naming them.
    pub fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Invalid(what));
        match *self {
            Augmentation::HorizontalFlip { p } if !(0.0..=1.0).contains(&p) => {
                bad(format!("a flip probability must be in [0, 1], got {p}"))
            }
            Augmentation::Brightness { max_delta }
                if !(max_delta >= 0.0 && max_delta.is_finite()) =>
            {
                bad(format!(
                    "a brightness change must be a finite number >= 0, got {max_delta}"
                ))
            }
            Augmentation::Contrast { lower, upper }
                if !(lower >= 0.0 && lower <= upper && upper.is_finite()) =>
            {
                bad(format!(
                    "contrast factors need 0 <= lower <= upper (finite), got {lower} and {upper}"
                ))
            }
            _ => Ok(()),
        }
    }

    /// Applies this change to one image, drawing from `rng`.
    fn apply(&self, mut image: ArrayViewMut3<f32>, range: PixelRange, rng: &mut ChaCha8Rng) {
        match *self {
            Augmentation::HorizontalFlip { p } => {
                if rng.random::<f32>() < p {
                    flip_horizontal(image);
                }
            }
            Augmentation::Brightness { max_delta } => {
                let delta = rng.random_range(-max_delta..=max_delta);
                image.mapv_inplace(|v| (v + delta).clamp(range.low, range.high));
            }
            Augmentation::Contrast { lower, upper } => {
                let factor = rng.random_range(lower..=upper);
                for mut channel in image.axis_iter_mut(Axis(0)) {
                    let mean = channel.mean().unwrap_or(0.0);
                    channel.mapv_inplace(|v| {
                        ((v - mean) * factor + mean).clamp(range.low, range.high)
                    });
                }
            }
            Augmentation::Shift => {
                let (dy, dx) = [(-1, 0), (1, 0), (0, -1), (0, 1)][rng.random_range(0..4)];
                shift(image, dy, dx, range.low);
            }
            Augmentation::Crop { padding } => {
                let (_, h, w) = image.dim();
                let top = rng.random_range(0..=2 * padding);
                let left = rng.random_range(0..=2 * padding);
                let mut padded =
                    Array3::from_elem((image.dim().0, h + 2 * padding, w + 2 * padding), range.low);
                padded
                    .slice_mut(s![.., padding..padding + h, padding..padding + w])
                    .assign(&image);
                image.assign(&padded.slice(s![.., top..top + h, left..left + w]));
            }
        }
    }
}

// ANCHOR: flip_shift
/// Mirrors an image `(C, H, W)` left to right: column `j` becomes column `W - 1 - j`.
pub fn flip_horizontal(mut image: ArrayViewMut3<f32>) {
    let flipped = image.slice(s![.., .., ..;-1]).to_owned();
    image.assign(&flipped);
}

/// Moves an image `(C, H, W)` by `dy` rows down and `dx` columns right (negative: up,
/// left); the pixels that come in from outside are `fill`.
pub fn shift(mut image: ArrayViewMut3<f32>, dy: isize, dx: isize, fill: f32) {
    let (_, h, w) = image.dim();
    let (h, w) = (h as isize, w as isize);
    let source = image.to_owned();
    image.fill(fill);
    // Rows and columns that stay inside: output [a, b) comes from input [a - d, b - d).
    let inside = |d: isize, n: isize| (d.max(0).min(n), (n + d).min(n).max(0));
    let ((y0, y1), (x0, x1)) = (inside(dy, h), inside(dx, w));
    if y0 < y1 && x0 < x1 {
        image
            .slice_mut(s![.., y0..y1, x0..x1])
            .assign(&source.slice(s![.., y0 - dy..y1 - dy, x0 - dx..x1 - dx]));
    }
}
// ANCHOR_END: flip_shift

// ANCHOR: augmenter
/// A list of augmentations applied to every image of a batch, in order, each image
/// drawing its own random numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Augmenter {
    steps: Vec<Augmentation>,
    range: PixelRange,
}

impl Augmenter {
    /// The augmentations `steps`, for images whose pixels lie in `range`; refuses invalid
    /// parameters here, so that training never meets them.
    pub fn new(range: PixelRange, steps: &[Augmentation]) -> Result<Self> {
        range.check()?;
        for step in steps {
            step.check()?;
        }
        Ok(Augmenter {
            steps: steps.to_vec(),
            range,
        })
    }

    /// Changes every image of `batch` `(N, C, H, W)` in place.
    pub fn apply(&self, batch: &mut Array4<f32>, rng: &mut ChaCha8Rng) {
        for mut image in batch.axis_iter_mut(Axis(0)) {
            for step in &self.steps {
                step.apply(image.view_mut(), self.range, rng);
            }
        }
    }
}
// ANCHOR_END: augmenter
