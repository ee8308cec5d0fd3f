//! Saving and loading a model's state in the safetensors format (chapter `09-lenet`).
//!
//! A safetensors file is: an 8-byte little-endian header length `n`; `n` bytes of JSON
//! mapping each tensor's name to `{"dtype": "F32", "shape": [...], "data_offsets": [start,
//! end]}`; then the raw little-endian data, offsets counted from the end of the header. The
//! format (Hugging Face, 2022) is simple enough to read without a library, and Python reads
//! it with `safetensors.numpy.load_file`. The tensors are the model's state dict
//! ([`crate::model::state_dict`]): parameters and buffers under their full names.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layer::{Layer, Tensor};
use crate::model::{load_state_dict, state_dict, StateDict};

#[derive(Serialize, Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// Encodes tensors as safetensors bytes, in name order.
pub fn encode(tensors: &StateDict) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, t) in tensors {
        let start = data.len();
        for v in t.as_standard_layout().iter() {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let entry = Entry {
            dtype: "F32".into(),
            shape: t.shape().to_vec(),
            data_offsets: [start, data.len()],
        };
        header.insert(
            name.clone(),
            serde_json::to_value(entry).expect("serialisable"),
        );
    }
    let mut json = serde_json::to_vec(&header).expect("serialisable");
    while !json.len().is_multiple_of(8) {
        json.push(b' '); // the format pads the header with spaces to 8-byte alignment
    }
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out.extend(data);
    out
}

/// Decodes safetensors bytes (F32 tensors only), checking everything a file can get wrong:
/// the header's length and JSON, each entry's fields, shapes whose sizes overflow, offsets
/// outside the data, tensors that overlap or leave gaps or trailing bytes (the format
/// stores them back to back), names given twice, and values that are not finite. `name`
/// (the file's) appears in the errors. Any bytes give a value or an error, never a panic,
/// and nothing larger than the file is allocated.
pub fn decode(bytes: &[u8], name: &str) -> Result<StateDict> {
    let fail = |why: String| Error::State(format!("{name}: not a valid safetensors file: {why}"));
    let Some((length, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(fail(format!(
            "{} bytes, shorter than the 8-byte header length",
            bytes.len()
        )));
    };
    let n = u64::from_le_bytes(*length);
    let body = usize::try_from(n)
        .ok()
        .and_then(|n| rest.get(..n))
        .ok_or_else(|| fail(format!("header length {n} exceeds the file")))?;
    let data = &rest[body.len()..];
    let entries = header_entries(body).map_err(|why| fail(format!("header: {why}")))?;
    // Every tensor's byte range, checked, then sorted by start: they must tile the data.
    let mut ranges = Vec::with_capacity(entries.len());
    for (key, value) in &entries {
        if key == "__metadata__" {
            continue;
        }
        let e: Entry = serde_json::from_value(value.clone())
            .map_err(|e| fail(format!("entry '{key}': {e}")))?;
        if e.dtype != "F32" {
            return Err(fail(format!(
                "tensor '{key}' has dtype {}, only F32 is supported",
                e.dtype
            )));
        }
        // The product of the sizes, zeros left out (a zero-sized tensor with an absurd
        // other axis is no tensor either), must count bytes that an array can hold.
        let too_large = || {
            fail(format!(
                "tensor '{key}' of shape {:?} is too large",
                e.shape
            ))
        };
        let nonzero = e
            .shape
            .iter()
            .filter(|&&d| d > 0)
            .try_fold(4usize, |acc, &d| acc.checked_mul(d))
            .filter(|&b| b <= isize::MAX as usize)
            .ok_or_else(too_large)?;
        let bytes_needed = if e.shape.contains(&0) { 0 } else { nonzero };
        let [start, end] = e.data_offsets;
        if end < start || end - start != bytes_needed || end > data.len() {
            return Err(fail(format!(
                "tensor '{key}' of shape {:?} needs {bytes_needed} bytes, offsets [{start}, {end}] in {} bytes of data",
                e.shape,
                data.len()
            )));
        }
        ranges.push((start, end, key.as_str(), e.shape));
    }
    ranges.sort_by_key(|r| (r.0, r.1));
    let mut at = 0;
    for (start, end, key, _) in &ranges {
        if *start != at {
            let what = if *start < at {
                "overlaps the tensor before it"
            } else {
                "leaves a gap before it"
            };
            return Err(fail(format!(
                "tensor '{key}' at [{start}, {end}] {what} (the data ends at {at} so far)"
            )));
        }
        at = *end;
    }
    if at != data.len() {
        return Err(fail(format!(
            "{} bytes of data after the last tensor",
            data.len() - at
        )));
    }
    let mut out = StateDict::new();
    for (start, end, key, shape) in ranges {
        let values: Vec<f32> = data[start..end]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(fail(format!(
                "tensor '{key}' holds {} at flat index {i}: weights must be finite",
                values[i]
            )));
        }
        let tensor = Tensor::from_shape_vec(shape, values)
            .map_err(|e| fail(format!("tensor '{key}': {e}")))?;
        out.insert(key.to_string(), tensor);
    }
    Ok(out)
}

/// The header's entries in file order, a name given twice an error (a JSON object that
/// repeats a key is valid JSON, and a map would keep only the last).
fn header_entries(body: &[u8]) -> std::result::Result<Vec<(String, serde_json::Value)>, String> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = Vec<(String, serde_json::Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object of tensors")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut entries: Vec<(String, serde_json::Value)> = Vec::new();
            let mut seen = std::collections::BTreeSet::new();
            while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                if !seen.insert(key.clone()) {
                    return Err(serde::de::Error::custom(format!(
                        "tensor '{key}' is named twice"
                    )));
                }
                entries.push((key, value));
            }
            Ok(entries)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let entries =
        serde::Deserializer::deserialize_map(&mut de, Entries).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(entries)
}

// ANCHOR: save_load
/// Saves `model`'s state (parameters and buffers, by name) to `path`, atomically (see
/// [`crate::files`]): an interrupted save leaves the old file. Returns the file's
/// [`checksum`], for the record of the run that made it.
pub fn save(model: &dyn Layer, path: &Path) -> Result<String> {
    let bytes = encode(&state_dict(model));
    crate::files::write_atomic(path, &bytes)?;
    Ok(checksum(&bytes))
}

/// Loads a state saved by [`save`] into `model`: every tensor the model has must be in
/// the file, with its shape, and nothing else.
pub fn load(model: &mut dyn Layer, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
    let state = decode(&bytes, &path.display().to_string())?;
    load_state_dict(model, &state).map_err(|e| match e {
        Error::State(why) => Error::State(format!("{}: {why}", path.display())),
        other => other,
    })
}
// ANCHOR_END: save_load

/// The checksum a run records of the weights file it wrote: `crc32:` and the CRC-32 of
/// its bytes (the checksum of gzip and PNG) in hexadecimal.
pub fn checksum(bytes: &[u8]) -> String {
    format!("crc32:{:08x}", crc32fast::hash(bytes))
}

/// Like [`load`], after checking that the file is the one a run recorded: `recorded` is
/// the [`checksum`] in its record. A weights file and a record that disagree (a run
/// stopped between writing the two, or one of them restored alone) are an error naming
/// both checksums, never a silent mix of one run's numbers with another's weights.
pub fn load_recorded(model: &mut dyn Layer, path: &Path, recorded: &str) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
    let found = checksum(&bytes);
    if found != recorded {
        return Err(Error::State(format!(
            "{}: the weights file has checksum {found}, but the run recorded {recorded}: \
             the weights and the results come from different runs (train again, or restore \
             both from version control)",
            path.display()
        )));
    }
    let state = decode(&bytes, &path.display().to_string())?;
    load_state_dict(model, &state).map_err(|e| match e {
        Error::State(why) => Error::State(format!("{}: {why}", path.display())),
        other => other,
    })
}
