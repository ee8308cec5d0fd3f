//! Issue-level promise: files a user supplies (weights, results records, IDX data) and
//! interrupted writes never panic, never allocate more than the file justifies, and never
//! lose a committed result. Bounded property tests: arbitrary and mutated bytes give a
//! value or an error.

use std::collections::BTreeMap;

use cnn_book::checkpoint::{decode, encode};
use cnn_book::error::Error;
use cnn_book::files::{write_atomic, write_atomic_with};
use cnn_book::layer::Tensor;
use cnn_book::model::state_dict;
use cnn_book::models::by_name;
use proptest::prelude::*;

/// A small valid file: two tensors.
fn small_file() -> Vec<u8> {
    let mut state = BTreeMap::new();
    state.insert(
        "a".to_string(),
        Tensor::from_shape_vec(vec![2, 3], (0..6).map(|v| v as f32).collect()).unwrap(),
    );
    state.insert("b".to_string(), Tensor::from_elem(vec![4], 0.5));
    encode(&state)
}

/// A file with the header `json` (padded as the format pads it) and `data` after it.
fn with_header(json: &str, data: &[u8]) -> Vec<u8> {
    let mut json = json.as_bytes().to_vec();
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out.extend(data);
    out
}

fn refused(bytes: &[u8]) -> String {
    match decode(bytes, "w.safetensors") {
        Err(e @ Error::State(_)) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn weights_files_that_lie_are_refused_with_the_reason() {
    // Shapes whose byte counts overflow (the product wraps to 0 or to the data's size).
    let huge = 1u64 << 62;
    let err = refused(&with_header(
        &format!(r#"{{"w":{{"dtype":"F32","shape":[{huge},4],"data_offsets":[0,0]}}}}"#),
        &[],
    ));
    assert!(err.contains("'w'") && err.contains("too large"), "{err}");
    let err = refused(&with_header(
        &format!(
            r#"{{"w":{{"dtype":"F32","shape":[0,{}],"data_offsets":[0,0]}}}}"#,
            1u64 << 63
        ),
        &[],
    ));
    assert!(err.contains("too large"), "{err}");
    // Two tensors over the same bytes.
    let err = refused(&with_header(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        &[0; 12],
    ));
    assert!(err.contains("'b'") && err.contains("overlaps"), "{err}");
    // A gap between tensors, and bytes after the last one.
    let err = refused(&with_header(
        r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
        &[0; 8],
    ));
    assert!(err.contains("gap"), "{err}");
    let err = refused(&with_header(
        r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        &[0; 8],
    ));
    assert!(err.contains("4 bytes of data after"), "{err}");
    // A name given twice (valid JSON; a map would keep the second silently).
    let err = refused(&with_header(
        r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
        &[0; 8],
    ));
    assert!(err.contains("'a'") && err.contains("twice"), "{err}");
    // Values that are not finite, named with their place.
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut data = vec![0u8; 8];
        data[4..].copy_from_slice(&bad.to_le_bytes());
        let err = refused(&with_header(
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            &data,
        ));
        assert!(
            err.contains("'a'") && err.contains("index 1") && err.contains("finite"),
            "{err}"
        );
    }
    // A header length beyond the file, and beyond any address.
    let mut bytes = small_file();
    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(refused(&bytes).contains("exceeds the file"));
}

#[test]
fn a_real_weights_file_still_loads() {
    let state = state_dict(&by_name("lenet", 3).unwrap());
    assert_eq!(decode(&encode(&state), "lenet").unwrap(), state);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Arbitrary bytes, short or long: a value or an error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic_the_weights_reader(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes, "fuzz");
    }

    /// A valid file with a few bytes changed, cut or extended: a value or an error, and
    /// any value it gives has finite weights and shapes that match their data.
    #[test]
    fn mutated_weights_files_never_panic_the_reader(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        cut_it in any::<bool>(),
    ) {
        let mut bytes = small_file();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if cut_it {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if let Ok(state) = decode(&bytes, "fuzz") {
            for t in state.values() {
                prop_assert!(t.iter().all(|v| v.is_finite()));
            }
        }
    }
}

#[test]
fn an_interrupted_write_leaves_the_old_file() {
    let dir = std::env::temp_dir().join(format!("cnn-book-atomic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("results.json");
    write_atomic(&path, b"old").unwrap();
    // A write that fails halfway (a full disk): the error names the file; the old
    // contents stay, and no temporary file is left.
    let err = write_atomic_with(&path, |f| {
        use std::io::Write;
        f.write_all(b"ne")?;
        Err(std::io::Error::other("disk full"))
    })
    .unwrap_err();
    assert!(err.to_string().contains("results.json"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A write killed halfway (simulated by a panic in the middle): the old contents stay.
    let killed = std::panic::catch_unwind(|| {
        write_atomic_with(&path, |f| {
            use std::io::Write;
            f.write_all(b"ne")?;
            panic!("killed");
        })
    });
    assert!(killed.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    // A whole write replaces it.
    write_atomic(&path, b"new").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
    std::fs::remove_dir_all(&dir).unwrap();
}
