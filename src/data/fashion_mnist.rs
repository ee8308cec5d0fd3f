//! Fashion-MNIST: 28x28 grey-scale images of clothing in 10 classes (Xiao, Rasul &
//! Vollgraf, 2017), a drop-in replacement for MNIST that is harder to solve.
//!
//! A sample of 1,000 real test images ships inside the library ([`sample`]); the full set
//! is found by [`locate`].

use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3};

use super::idx::{parse_idx, read_idx, IdxArray, IdxError};
use crate::error::{Error, Result};

/// The ten classes, indexed by label.
pub const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Where Debian's `dataset-fashion-mnist` package installs the full data set.
pub const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Images and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Pixel values scaled to `[0, 1]`, shape `(n, 28, 28)`.
    pub images: Array3<f32>,
    /// Class labels `0..10`.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True if there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as a 28x28 array in `[0, 1]`.
    pub fn image(&self, i: usize) -> Array2<f32> {
        self.images.index_axis(ndarray::Axis(0), i).to_owned()
    }

    /// Builds a data set from parsed IDX image (rank 3) and label (rank 1) arrays.
    pub fn from_idx(images: IdxArray, labels: IdxArray) -> Result<Dataset, IdxError> {
        let (n, h, w) = (images.dims[0], images.dims[1], images.dims[2]);
        if labels.dims[0] != n {
            return Err(IdxError::Inconsistent(format!(
                "{n} images but {} labels: the two files do not belong together",
                labels.dims[0]
            )));
        }
        if let Some(bad) = labels
            .data
            .iter()
            .find(|&&l| l as usize >= CLASS_NAMES.len())
        {
            return Err(IdxError::Inconsistent(format!(
                "label {bad} is not a Fashion-MNIST class (0 to 9)"
            )));
        }
        let pixels = images.data.iter().map(|&p| p as f32 / 255.0).collect();
        let images = Array3::from_shape_vec((n, h, w), pixels)
            .expect("parse_idx checked that the data length matches the dimensions");
        Ok(Dataset {
            images,
            labels: labels.data,
        })
    }
}

const SAMPLE_IMAGES: &[u8] =
    include_bytes!("../../data/fashion-mnist-sample/t10k-images-idx3-ubyte.gz");
const SAMPLE_LABELS: &[u8] =
    include_bytes!("../../data/fashion-mnist-sample/t10k-labels-idx1-ubyte.gz");

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("the embedded sample is valid gzip");
    out
}

/// The first 1,000 images of the Fashion-MNIST test set, embedded in the library.
pub fn sample() -> Dataset {
    let images = parse_idx(&gunzip(SAMPLE_IMAGES), 3, "embedded sample images")
        .expect("the embedded sample is valid IDX");
    let labels = parse_idx(&gunzip(SAMPLE_LABELS), 1, "embedded sample labels")
        .expect("the embedded sample is valid IDX");
    Dataset::from_idx(images, labels).expect("the embedded sample is consistent")
}

/// Which half of the data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// 60,000 training images.
    Train,
    /// 10,000 test images.
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// Finds the directory of the full data set: `dir` if given, else the environment variable
/// `FASHION_MNIST_DIR`, else Debian's [`DEBIAN_DIR`]. The error says how to get the data.
pub fn locate(dir: Option<&Path>) -> Result<PathBuf> {
    let candidates: Vec<(PathBuf, &str)> = match dir {
        Some(d) => vec![(d.to_path_buf(), "the directory you gave")],
        None => std::env::var_os("FASHION_MNIST_DIR")
            .map(|d| (PathBuf::from(d), "FASHION_MNIST_DIR"))
            .into_iter()
            .chain(std::iter::once((
                PathBuf::from(DEBIAN_DIR),
                "Debian's package",
            )))
            .collect(),
    };
    for (dir, _) in &candidates {
        if dir.join("train-images-idx3-ubyte.gz").is_file()
            || dir.join("train-images-idx3-ubyte").is_file()
        {
            return Ok(dir.clone());
        }
    }
    let tried: Vec<String> = candidates
        .iter()
        .map(|(d, why)| format!("{} ({why})", d.display()))
        .collect();
    Err(Error::Data(format!(
        "Fashion-MNIST not found; looked in: {}.\n\
         On Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist\n\
         Elsewhere: download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n\
         t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from\n\
         https://github.com/zalandoresearch/fashion-mnist into a directory and pass it\n\
         (or set FASHION_MNIST_DIR to it).",
        tried.join(", ")
    )))
}

/// Loads one split of the full data set from `dir` (see [`locate`]).
pub fn load(dir: &Path, split: Split) -> Result<Dataset> {
    let file = |kind: &str| {
        let gz = dir.join(format!("{}-{kind}.gz", split.prefix()));
        if gz.is_file() {
            gz
        } else {
            dir.join(format!("{}-{kind}", split.prefix()))
        }
    };
    let images = read_idx(&file("images-idx3-ubyte"), 3)?;
    let labels = read_idx(&file("labels-idx1-ubyte"), 1)?;
    Ok(Dataset::from_idx(images, labels)?)
}
