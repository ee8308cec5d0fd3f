//! The library's one error type, [`Error`], and its [`Result`].
//!
//! Every error names the values that caused it, so that a reader who passes a stride
//! of 3 where it does not fit sees the arithmetic that failed rather than an index out
//! of bounds deep inside a loop. An error raised inside a layer of a model keeps its
//! cause and says which layer it came from ([`Error::InLayer`]), so a program can still
//! match on what went wrong.

use std::fmt;

pub use crate::data::idx::IdxError;

/// What the library's functions return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library, with the values that caused it.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
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
    /// Two arrays whose shapes do not fit together, or a call out of order (a backward
    /// pass before any forward pass); the message shows the shapes.
    Shape(String),
    /// An error inside one layer of a model: the layer's path in the model (`"3"`,
    /// `"layer2.0.shortcut.1"`), its description, and the error itself.
    InLayer {
        path: String,
        layer: String,
        source: Box<Error>,
    },
    /// Saved state (a checkpoint, a state dict) that does not fit the model or is not a
    /// valid file; the message names the tensor and both shapes.
    State(String),
    /// An IDX data file that is corrupt, or two that do not belong together.
    Idx(IdxError),
    /// A data set that cannot be found or cannot be used; the message says where the
    /// library looked and how to get it.
    Data(String),
    /// A file that could not be read or written.
    Io {
        path: String,
        kind: std::io::ErrorKind,
        message: String,
    },
    /// Training cannot start or cannot go on (the loss stopped being a finite number).
    Training(String),
    /// A name or request the library does not know (an unknown model or chapter, a
    /// record with a missing field).
    Invalid(String),
    /// Drawing or encoding a figure failed.
    Figure(String),
}

impl Error {
    /// The error of reading or writing `path`.
    pub fn io(path: impl AsRef<std::path::Path>, e: &std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    /// The innermost error: through every [`Error::InLayer`] to what went wrong.
    pub fn root(&self) -> &Error {
        match self {
            Error::InLayer { source, .. } => source.root(),
            other => other,
        }
    }

    /// This error, said to have happened in the layer at `path` described by `layer`.
    pub fn in_layer(self, path: impl Into<String>, layer: impl Into<String>) -> Self {
        Error::InLayer {
            path: path.into(),
            layer: layer.into(),
            source: Box::new(self),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ZeroStride => write!(f, "stride 0 is not allowed: the window would never move"),
            Error::ZeroField => write!(f, "a receptive field (filter) of size 0 is not allowed"),
            Error::ZeroInput { what } => write!(f, "{what} must be at least 1, got 0"),
            Error::FieldTooLarge { input, field, padding } => write!(
                f,
                "filter {field} is larger than the padded input: {input} + 2*{padding} = {} < {field}",
                input + 2 * padding
            ),
            Error::StrideDoesNotTile { input, field, padding, stride } => {
                let span = input + 2 * padding - field;
                write!(
                    f,
                    "stride {stride} does not tile size {input} with filter {field} and padding {padding}: \
                     ({input} - {field} + 2*{padding})/{stride} + 1 = {span}/{stride} + 1 is not an integer"
                )
            }
            Error::Overflow { what } => write!(f, "{what} does not fit in 64 bits"),
            Error::BadHyperparameter {
                name,
                value,
                expected,
            } => write!(f, "{name} = {value} is out of range: expected {expected}"),
            Error::Shape(message)
            | Error::State(message)
            | Error::Training(message)
            | Error::Data(message)
            | Error::Invalid(message)
            | Error::Figure(message) => f.write_str(message),
            Error::InLayer {
                path,
                layer,
                source,
            } => write!(f, "layer {path} ({layer}): {source}"),
            Error::Idx(e) => e.fmt(f),
            Error::Io { path, message, .. } => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InLayer { source, .. } => Some(source.as_ref()),
            Error::Idx(e) => Some(e),
            _ => None,
        }
    }
}

impl From<IdxError> for Error {
    fn from(e: IdxError) -> Self {
        Error::Idx(e)
    }
}

impl From<ndarray::ShapeError> for Error {
    fn from(e: ndarray::ShapeError) -> Self {
        Error::Shape(format!("array shape: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Invalid(format!("JSON: {e}"))
    }
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for Error
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        Error::Figure(e.to_string())
    }
}

impl From<png::EncodingError> for Error {
    fn from(e: png::EncodingError) -> Self {
        Error::Figure(format!("PNG encoding: {e}"))
    }
}

impl From<gif::EncodingError> for Error {
    fn from(e: gif::EncodingError) -> Self {
        Error::Figure(format!("GIF encoding: {e}"))
    }
}
