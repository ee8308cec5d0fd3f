//! Errors for bad hyperparameters and shapes.
//!
//! Every error names the values that caused it, so that a reader who passes a stride
//! of 3 where it does not fit sees the arithmetic that failed rather than an index out
//! of bounds deep inside a loop.

use std::fmt;

/// A hyperparameter or shape that cannot work.
#[derive(Debug, Clone, PartialEq)]
pub enum ShapeError {
    /// A stride of zero would never move the window.
    ZeroStride,
    /// A window (filter or pooling field) of size zero sees nothing.
    ZeroField,
    /// An input of size zero along some dimension.
    ZeroInput { what: &'static str },
    /// The window is larger than the zero-padded input, so it fits nowhere.
    FieldTooLarge {
        input: usize,
        field: usize,
        padding: usize,
    },
    /// `(W - F + 2P)` is not a multiple of `S`: the last window would hang over the edge.
    StrideDoesNotTile {
        input: usize,
        field: usize,
        padding: usize,
        stride: usize,
    },
    /// A count grew beyond what 64 bits can hold.
    Overflow { what: &'static str },
    /// A real-valued hyperparameter outside its range.
    BadHyperparameter {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    /// Two arrays whose shapes do not fit together; the message shows both shapes.
    Mismatch(String),
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ShapeError::ZeroStride => write!(f, "stride 0 is not allowed: the window would never move"),
            ShapeError::ZeroField => write!(f, "a receptive field (filter) of size 0 is not allowed"),
            ShapeError::ZeroInput { what } => write!(f, "{what} must be at least 1, got 0"),
            ShapeError::FieldTooLarge { input, field, padding } => write!(
                f,
                "filter {field} is larger than the padded input: {input} + 2*{padding} = {} < {field}",
                input + 2 * padding
            ),
            ShapeError::StrideDoesNotTile { input, field, padding, stride } => {
                let span = input + 2 * padding - field;
                write!(
                    f,
                    "stride {stride} does not tile size {input} with filter {field} and padding {padding}: \
                     ({input} - {field} + 2*{padding})/{stride} + 1 = {span}/{stride} + 1 is not an integer"
                )
            }
            ShapeError::Overflow { what } => write!(f, "{what} does not fit in 64 bits"),
            ShapeError::BadHyperparameter {
                name,
                value,
                expected,
            } => write!(f, "{name} = {value} is out of range: expected {expected}"),
            ShapeError::Mismatch(ref message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ShapeError {}
