//! Results of training runs as typed records: written by `cnn-book train`, read by the
//! figure generator and the notebooks. A record that lacks a field is an error that names
//! the file and the field, never a silent default.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::train::{EpochStats, TrainConfig};

/// The mean and standard deviation the images were standardised with (training set).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Normalisation {
    pub mean: f32,
    pub std: f32,
}

/// One training run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    /// The test accuracy after the last epoch.
    pub test_accuracy: f32,
    pub epochs: usize,
    /// Wall-clock time of the whole run.
    pub seconds: f32,
    pub seed: u64,
    pub train_examples: usize,
    pub test_examples: usize,
    pub normalisation: Normalisation,
    pub config: TrainConfig,
    pub history: Vec<EpochStats>,
    /// Where the weights were written.
    pub weights: String,
    /// The [`crate::checkpoint::checksum`] of the weights file this run wrote: a reader
    /// loads the weights with [`crate::checkpoint::load_recorded`], which refuses a file
    /// from another run.
    pub weights_checksum: String,
    /// The command that made the run.
    pub command: String,
    /// The CPU that made the run (its model and vector extensions), when it was recorded:
    /// training is bit-identical across thread counts but not across CPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
}

/// Runs by model name, as in a chapter's `results.json`.
pub type Results = BTreeMap<String, RunRecord>;

/// Reads `path`; an error names the file and what is wrong (a missing field, bad JSON).
pub fn read_results(path: &Path) -> Result<Results> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
    parse_results(&bytes, &path.display().to_string())
}

/// The results in `bytes` (the contents of a `results.json`); `name` appears in errors.
pub fn parse_results(bytes: &[u8], name: &str) -> Result<Results> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Invalid(format!("{name}: not a results file: {e}")))
}

/// Reads `path` if it exists; an empty set of results if it does not.
pub fn read_results_or_empty(path: &Path) -> Result<Results> {
    if path.exists() {
        read_results(path)
    } else {
        Ok(Results::new())
    }
}

/// Writes `results` to `path` as pretty JSON, atomically (see [`crate::files`]).
pub fn write_results(path: &Path, results: &Results) -> Result<()> {
    crate::files::write_atomic(path, encode_results(results)?.as_bytes())
}

/// The text of a `results.json` holding `results`: pretty JSON and a final newline.
pub fn encode_results(results: &Results) -> Result<String> {
    Ok(serde_json::to_string_pretty(results)? + "\n")
}

/// This machine's CPU: its model name and the vector extensions that decide which kernels
/// run (from `/proc/cpuinfo` where there is one).
pub fn cpu_description() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']))
        })
        .unwrap_or(std::env::consts::ARCH)
        .to_string();
    let mut features: Vec<&str> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            features.push("AVX-512");
        }
        if std::is_x86_feature_detected!("avx2") {
            features.push("AVX2");
        }
        if std::is_x86_feature_detected!("fma") {
            features.push("FMA");
        }
    }
    #[cfg(target_arch = "aarch64")]
    features.push("NEON");
    if features.is_empty() {
        model
    } else {
        format!("{model} ({})", features.join(", "))
    }
}
