//! Fuzzing the readers of files a user supplies: IDX data (gzip or raw), weights
//! (safetensors) and results records (JSON). Each [`Target`] takes any bytes and must
//! give a value or an error: never a panic, a hang, or an allocation larger than the
//! file justifies (gzip is inflated at most [`crate::data::idx::MAX_IDX_BYTES`] past its
//! header). A value must also be sound: shapes that match their data, finite weights.
//!
//! Two drivers share these targets. `cargo test` runs a bounded property test of each
//! (`tests/hostile_input.rs`), and `cargo run --release --example fuzz -- TARGET COUNT`
//! runs millions of inputs: the seed files of `fuzz/corpus/TARGET/`, each changed by
//! [`mutate`] (bytes flipped, inserted, removed, cut, spliced, and lengths in headers
//! set to extreme values), reporting how many ran and writing any input that broke a
//! promise to `fuzz/crashes/`. (`cargo fuzz` needs a nightly compiler; these run on
//! stable.)

use rand::{Rng, RngCore};

use crate::data::idx::decode_idx;

/// A reader under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// [`decode_idx`] of rank 3 (images) and of rank 1 (labels).
    Idx,
    /// [`crate::checkpoint::decode`].
    Weights,
    /// [`crate::records::parse_results`].
    Results,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Idx, Target::Weights, Target::Results];

    /// The name used on the command line and for the corpus folder.
    pub fn name(self) -> &'static str {
        match self {
            Target::Idx => "idx",
            Target::Weights => "weights",
            Target::Results => "results",
        }
    }

    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Reads `bytes` and checks what the reader promises of a value it returns; an error
    /// from the reader is a pass (bad input refused). `Err` describes a broken promise.
    /// A panic inside the reader is left to propagate: the drivers catch it.
    pub fn check(self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Target::Idx => {
                for rank in [1, 3] {
                    if let Ok(a) = decode_idx(bytes, rank, "fuzz") {
                        let len = a.dims.iter().try_fold(1usize, |p, &d| p.checked_mul(d));
                        if a.dims.len() != rank || len != Some(a.data.len()) {
                            return Err(format!(
                                "IDX of rank {rank}: dims {:?} for {} bytes",
                                a.dims,
                                a.data.len()
                            ));
                        }
                    }
                }
                Ok(())
            }
            Target::Weights => {
                if let Ok(state) = crate::checkpoint::decode(bytes, "fuzz") {
                    for (name, t) in &state {
                        if !t.iter().all(|v| v.is_finite()) {
                            return Err(format!("weights: {name} has a non-finite value"));
                        }
                    }
                }
                Ok(())
            }
            Target::Results => {
                let _ = crate::records::parse_results(bytes, "fuzz");
                Ok(())
            }
        }
    }
}

/// `seed` changed in one to four random ways: bytes flipped, inserted or removed, the
/// file cut, a run of bytes copied from elsewhere in it, or a 4- or 8-byte field set to an
/// extreme value (0, 1, all ones, a power of two), big- or little-endian (the lengths of
/// IDX and safetensors headers).
pub fn mutate(rng: &mut impl RngCore, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = |rng: &mut dyn RngCore, len: usize| rng.random_range(0..=len);
        match rng.random_range(0..7) {
            0 if !b.is_empty() => {
                let i = at(rng, b.len() - 1);
                b[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let i = at(rng, b.len());
                b.insert(i, rng.random());
            }
            2 if !b.is_empty() => {
                let i = at(rng, b.len() - 1);
                b.remove(i);
            }
            3 => {
                let i = at(rng, b.len());
                b.truncate(i);
            }
            4 if !b.is_empty() => {
                let (from, to) = (at(rng, b.len() - 1), at(rng, b.len() - 1));
                let n = rng.random_range(1..=16).min(b.len() - from);
                let run: Vec<u8> = b[from..from + n].to_vec();
                b.splice(to..to, run);
            }
            5 | 6 if b.len() >= 8 => {
                let width = if rng.random() { 4 } else { 8 };
                let i = at(rng, b.len() - width);
                let value: u64 = match rng.random_range(0..4) {
                    0 => 0,
                    1 => 1,
                    2 => u64::MAX,
                    _ => 1 << rng.random_range(0..64),
                };
                let field = if rng.random() {
                    value.to_be_bytes()[8 - width..].to_vec()
                } else {
                    value.to_le_bytes()[..width].to_vec()
                };
                b[i..i + width].copy_from_slice(&field);
            }
            _ => {
                let i = at(rng, b.len());
                b.insert(i, rng.random());
            }
        }
    }
    b
}
