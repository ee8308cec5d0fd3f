//! Saving and loading a model's state in the safetensors format (chapter `09-lenet`).
//!
//! A safetensors file is: an 8-byte little-endian header length `n`; `n` bytes of JSON
//! mapping each tensor's name to `{"dtype": "F32", "shape": [...], "data_offsets": [start,
//! end]}`; then the raw little-endian data, offsets counted from the end of the header. The
//! format (Hugging Face, 2022) is simple enough to read without a library, and Python reads
//! it with `safetensors.numpy.load_file`. The tensors are the model's state dict
//! ([`crate::model::state_dict`]): parameters and buffers under their full names.

use std::collections::BTreeMap;
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

/// Decodes safetensors bytes (F32 tensors only), checking every offset and length;
/// `name` (the file's) appears in the errors.
pub fn decode(bytes: &[u8], name: &str) -> Result<StateDict> {
    let fail = |why: String| Error::State(format!("{name}: not a valid safetensors file: {why}"));
    if bytes.len() < 8 {
        return Err(fail(format!(
            "{} bytes, shorter than the 8-byte header length",
            bytes.len()
        )));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let body = bytes
        .get(8..8usize.saturating_add(n))
        .ok_or_else(|| fail(format!("header length {n} exceeds the file")))?;
    let data = &bytes[8 + n..];
    let header: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| fail(format!("header is not JSON: {e}")))?;
    let mut out = StateDict::new();
    for (key, value) in header {
        if key == "__metadata__" {
            continue;
        }
        let e: Entry =
            serde_json::from_value(value).map_err(|e| fail(format!("entry '{key}': {e}")))?;
        if e.dtype != "F32" {
            return Err(fail(format!(
                "tensor '{key}' has dtype {}, only F32 is supported",
                e.dtype
            )));
        }
        let [start, end] = e.data_offsets;
        let expected = e.shape.iter().product::<usize>() * 4;
        if end < start || end - start != expected || end > data.len() {
            return Err(fail(format!(
                "tensor '{key}' of shape {:?} needs {expected} bytes, offsets [{start}, {end}] in {} bytes of data",
                e.shape,
                data.len()
            )));
        }
        let values = data[start..end]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(
            key,
            Tensor::from_shape_vec(e.shape, values).expect("length checked"),
        );
    }
    Ok(out)
}

// ANCHOR: save_load
/// Saves `model`'s state (parameters and buffers, by name) to `path`.
pub fn save(model: &dyn Layer, path: &Path) -> Result<()> {
    std::fs::write(path, encode(&state_dict(model))).map_err(|e| Error::io(path, &e))
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
