//! Shape arithmetic of sliding windows: output sizes, which inputs a neuron sees, and
//! receptive fields through a stack of layers (chapter `02-local-connectivity`).
//!
//! One window type serves convolution and pooling alike. Along one dimension a window
//! has a size `F` (the receptive field), a stride `S` and a zero-padding `P`; an input of
//! width `W` then gives
//!
//! ```text
//! W' = (W - F + 2P) / S + 1
//! ```
//!
//! outputs, provided the division is exact. Dumoulin & Visin, "A guide to convolution
//! arithmetic for deep learning" (2016), works through every case.

use crate::error::Error;

/// How to treat a stride that does not tile the input exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    /// Refuse: `(W - F + 2P)` must be a multiple of `S` (the textbook rule).
    #[default]
    Exact,
    /// Drop the inputs the last window cannot reach (what PyTorch and most frameworks do):
    /// `floor((W - F + 2P)/S) + 1` outputs.
    Floor,
    /// Let the last window hang over the edge (Caffe's pooling; `ceil_mode=True` in
    /// PyTorch): `ceil((W - F + 2P)/S) + 1` outputs, less one if the last window would
    /// start beyond the input and its left padding, as both frameworks rule.
    Ceil,
}

// ANCHOR: window
/// A sliding window along one dimension: receptive field `F`, stride `S`, zero-padding `P`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Receptive field size `F`: how many inputs one output sees.
    pub field: usize,
    /// Zero-padding `P`: zeros added on each side of the input.
    pub padding: usize,
    /// Stride `S`: how far the window moves between neighbouring outputs.
    pub stride: usize,
}
// ANCHOR_END: window

impl Window {
    /// A window with field `F`, padding `P` and stride `S`, in the order of the formula
    /// `(W - F + 2P)/S + 1`, like every function of the library that takes all three.
    ///
    /// Fails if the field or the stride is zero.
    pub fn new(field: usize, padding: usize, stride: usize) -> Result<Self, Error> {
        if field == 0 {
            return Err(Error::ZeroField);
        }
        if stride == 0 {
            return Err(Error::ZeroStride);
        }
        Ok(Window {
            field,
            stride,
            padding,
        })
    }

    // ANCHOR: output_size
    /// Number of outputs along a dimension of `input` values: `(W - F + 2P)/S + 1`.
    ///
    /// Errors name the values: a zero stride or field, a field larger than the padded
    /// input, or a stride that does not tile the input.
    pub fn output_size(&self, input: usize) -> Result<usize, Error> {
        self.output_size_with(input, Rounding::Exact)
    }

    /// Like [`Window::output_size`], choosing what to do when the stride does not tile.
    pub fn output_size_with(&self, input: usize, rounding: Rounding) -> Result<usize, Error> {
        let (w, f, p, s) = (input, self.field, self.padding, self.stride);
        if f == 0 {
            return Err(Error::ZeroField);
        }
        if s == 0 {
            return Err(Error::ZeroStride);
        }
        if w == 0 {
            return Err(Error::ZeroInput { what: "input size" });
        }
        let padded = p
            .checked_mul(2)
            .and_then(|both| both.checked_add(w))
            .ok_or(Error::Overflow {
                what: "the padded input size W + 2P",
            })?;
        if f > padded {
            return Err(Error::FieldTooLarge {
                input: w,
                field: f,
                padding: p,
            });
        }
        let span = padded - f; // how far the window can travel
        let steps = match rounding {
            Rounding::Exact if span % s != 0 => {
                return Err(Error::StrideDoesNotTile {
                    input: w,
                    field: f,
                    padding: p,
                    stride: s,
                })
            }
            Rounding::Exact | Rounding::Floor => span / s,
            Rounding::Ceil => {
                // The last window must start inside the input or its left padding, so that
                // it holds a real input (PyTorch's and Caffe's rule).
                let steps = span.div_ceil(s);
                if steps * s >= w + p {
                    steps - 1
                } else {
                    steps
                }
            }
        };
        Ok(steps + 1)
    }
    // ANCHOR_END: output_size

    // ANCHOR: input_span
    /// The inputs that output `index` sees, as a half-open range `start..end` in the
    /// coordinates of the unpadded input. Negative positions and positions at or past the
    /// input width are padding zeros.
    pub fn input_span(&self, index: usize) -> std::ops::Range<i64> {
        let start = (index * self.stride) as i64 - self.padding as i64;
        start..start + self.field as i64
    }
    // ANCHOR_END: input_span

    /// The real (non-padding) inputs that output `index` sees in an input of width `input`.
    pub fn real_inputs(&self, index: usize, input: usize) -> std::ops::Range<usize> {
        let span = self.input_span(index);
        let start = span.start.clamp(0, input as i64) as usize;
        let end = span.end.clamp(0, input as i64) as usize;
        start..end
    }

    /// The padding that keeps the output as wide as the input at stride 1: `P = (F - 1)/2`.
    ///
    /// Only odd fields have one; an even field cannot be centred.
    pub fn same_padding(field: usize) -> Option<usize> {
        (field % 2 == 1).then_some((field - 1) / 2)
    }
}

/// The output-size formula as a free function: `(W - F + 2P)/S + 1`, exact, with the
/// arguments in the order they appear in the formula.
///
/// ```
/// use cnn_book::shape::conv_output_size;
/// // AlexNet's first layer: W = 227, F = 11, P = 0, S = 4.
/// assert_eq!(conv_output_size(227, 11, 0, 4), Ok(55));
/// // The 224 written in the paper does not tile.
/// assert!(conv_output_size(224, 11, 0, 4).is_err());
/// ```
pub fn conv_output_size(
    input: usize,
    field: usize,
    padding: usize,
    stride: usize,
) -> Result<usize, Error> {
    Window::new(field, padding, stride)?.output_size(input)
}

// ANCHOR: volume
/// Neurons arranged in 3D: `width x height x depth` (depth = channels or filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Volume {
    pub width: usize,
    pub height: usize,
    pub depth: usize,
}
// ANCHOR_END: volume

impl Volume {
    pub fn new(width: usize, height: usize, depth: usize) -> Self {
        Volume {
            width,
            height,
            depth,
        }
    }

    /// A square volume `side x side x depth`.
    pub fn square(side: usize, depth: usize) -> Self {
        Volume::new(side, side, depth)
    }

    /// How many neurons (numbers) the volume holds.
    ///
    /// Panics with a message if the count does not fit in 64 bits; see [`Volume::checked_len`].
    pub fn len(&self) -> u64 {
        self.checked_len()
            .unwrap_or_else(|| panic!("volume {self} holds more than 2^64 neurons"))
    }

    /// How many neurons the volume holds, or `None` if that overflows 64 bits.
    pub fn checked_len(&self) -> Option<u64> {
        (self.width as u64)
            .checked_mul(self.height as u64)?
            .checked_mul(self.depth as u64)
    }

    /// True if any dimension is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Display for Volume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.width, self.height, self.depth)
    }
}

// ANCHOR: conv_geometry
/// The hyperparameters of a convolutional (or locally connected) layer on a 3D volume:
/// square `field x field` windows over the full input depth, `filters` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    pub field: usize,
    pub padding: usize,
    pub stride: usize,
    /// Depth of the output: how many filters look at each window.
    pub filters: usize,
}

impl ConvGeometry {
    /// The window this layer slides along each spatial axis.
    pub fn window(&self) -> Result<Window, Error> {
        Window::new(self.field, self.padding, self.stride)
    }

    /// The output volume for `input`: the formula along width and height, depth = filters.
    pub fn output(&self, input: Volume) -> Result<Volume, Error> {
        if self.filters == 0 {
            return Err(Error::ZeroInput {
                what: "number of filters",
            });
        }
        if input.depth == 0 {
            return Err(Error::ZeroInput {
                what: "input depth",
            });
        }
        let window = self.window()?;
        Ok(Volume {
            width: window.output_size(input.width)?,
            height: window.output_size(input.height)?,
            depth: self.filters,
        })
    }
}
// ANCHOR_END: conv_geometry

/// What one output of a stack of windows sees in the stack's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ReceptiveField {
    /// How many input positions (padding included) the field spans.
    pub size: usize,
    /// How far apart in the input two neighbouring outputs' fields start (product of strides).
    pub jump: usize,
    /// Where output 0's field starts in input coordinates (negative: in the padding).
    pub start: i64,
}

impl ReceptiveField {
    /// The half-open range of input positions seen by output `index`.
    pub fn span(&self, index: usize) -> std::ops::Range<i64> {
        let start = self.start + (index * self.jump) as i64;
        start..start + self.size as i64
    }
}

// ANCHOR: receptive_field
/// The receptive field, in the input, of one output of `layers` applied in order.
///
/// Each layer widens the field by `(F - 1)` steps of the current jump, multiplies the jump
/// by its stride, and shifts the start left by its padding (in input units):
///
/// ```text
/// size' = size + (F - 1) * jump     jump' = jump * S     start' = start - P * jump
/// ```
pub fn receptive_field(layers: &[Window]) -> Result<ReceptiveField, Error> {
    let mut rf = ReceptiveField {
        size: 1,
        jump: 1,
        start: 0,
    };
    // The recurrence above, with overflow reported instead of wrapped around.
    let too_deep = || Error::Overflow {
        what: "receptive field",
    };
    for layer in layers {
        Window::new(layer.field, layer.padding, layer.stride)?; // rejects F = 0 and S = 0
        let grow = (layer.field - 1)
            .checked_mul(rf.jump)
            .ok_or_else(too_deep)?;
        rf.size = rf.size.checked_add(grow).ok_or_else(too_deep)?;
        let shift = layer.padding.checked_mul(rf.jump).ok_or_else(too_deep)?;
        let shift = i64::try_from(shift).map_err(|_| too_deep())?;
        rf.start = rf.start.checked_sub(shift).ok_or_else(too_deep)?;
        rf.jump = rf.jump.checked_mul(layer.stride).ok_or_else(too_deep)?;
    }
    Ok(rf)
}
// ANCHOR_END: receptive_field

/// Output sizes after each of `layers` applied in turn to an input of width `input`.
pub fn output_sizes(input: usize, layers: &[Window]) -> Result<Vec<usize>, Error> {
    let mut sizes = Vec::with_capacity(layers.len());
    let mut width = input;
    for layer in layers {
        width = layer.output_size(width)?;
        sizes.push(width);
    }
    Ok(sizes)
}
