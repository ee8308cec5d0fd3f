//! Issue-level promise: files a user supplies (weights, results records, IDX data) and
//! interrupted writes never panic, never allocate more than the file justifies, and never
//! lose a committed result. Bounded property tests: arbitrary and mutated bytes give a
//! value or an error.

use std::collections::BTreeMap;

use cnn_book::checkpoint::{decode, encode};
use cnn_book::data::idx::decode_idx;
use cnn_book::error::Error;
use cnn_book::files::{write_atomic, write_atomic_with};
use cnn_book::fuzz::{mutate, Target};
use cnn_book::init::Init;
use cnn_book::layer::{Layer, Mode, Tensor};
use cnn_book::layers::{
    AdaptiveAvgPool2d, AlphaDropout, AvgPool2d, BatchNorm1d, BatchNorm2d, Concat, Conv2d, Dropout,
    Flatten, GlobalAvgPool, Grouped, LayerNorm, Linear, LocalResponseNorm, MaxPool2d, Relu,
    Residual, Selu, Sequential, Sigmoid, Tanh,
};
use cnn_book::lrn::LrnConfig;
use cnn_book::model::state_dict;
use cnn_book::models::by_name;
use cnn_book::records::parse_results;
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

// ---- The fuzz targets, bounded (see `cnn_book::fuzz` and `examples/fuzz.rs`) ----

/// The seed files of one fuzz target's corpus.
fn corpus(target: Target) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target.name());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| (f.display().to_string(), std::fs::read(&f).unwrap()))
        .collect()
}

#[test]
fn the_fuzz_corpus_holds_valid_files_that_the_readers_accept() {
    for (name, bytes) in corpus(Target::Idx) {
        let rank = if name.contains("labels") { 1 } else { 3 };
        let a = decode_idx(&bytes, rank, &name).unwrap();
        assert_eq!(a.data.len(), a.dims.iter().product::<usize>(), "{name}");
    }
    for (name, bytes) in corpus(Target::Weights) {
        assert!(!decode(&bytes, &name).unwrap().is_empty(), "{name}");
    }
    for (name, bytes) in corpus(Target::Results) {
        parse_results(&bytes, &name).unwrap();
    }
}

/// The property-test form of every fuzz target: mutated seed files (the same 3,000 per
/// target in every run, so that a failure reproduces) give a value that keeps the reader's
/// promises, or an error; never a panic.
#[test]
fn every_fuzz_target_keeps_its_promises_on_mutated_seed_files() {
    use rand::SeedableRng;
    const INPUTS: usize = 3000;
    for target in Target::ALL {
        let seeds = corpus(target);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        for i in 0..INPUTS {
            let input = mutate(&mut rng, &seeds[i % seeds.len()].1);
            if let Err(why) = target.check(&input) {
                panic!("{} input {i} ({input:?}): {why}", target.name());
            }
        }
        println!(
            "fuzz target {}: {INPUTS} mutated inputs, no failure",
            target.name()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes, for every fuzz target.
    #[test]
    fn arbitrary_bytes_never_break_a_fuzz_target(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for target in Target::ALL {
            prop_assert!(target.check(&bytes).is_ok(), "{}", target.name());
        }
    }
}

#[test]
fn a_gzip_file_that_inflates_past_its_header_is_refused_without_inflating_it() {
    use std::io::Write;
    // A labels header declaring 10 bytes, followed by 50 MB of zeros, compressed to about
    // 50 KB: the reader stops one byte past the declared length.
    let mut raw = vec![0, 0, 8, 1];
    raw.extend(10u32.to_be_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&raw).unwrap();
    gz.write_all(&vec![0u8; 50_000_000]).unwrap();
    let bytes = gz.finish().unwrap();
    let err = decode_idx(&bytes, 1, "bomb.gz").unwrap_err().to_string();
    assert!(
        err.contains("bomb.gz") && err.contains("10 bytes of data"),
        "{err}"
    );
}

// ---- Sizes from user input ----

#[test]
fn a_padding_that_would_need_huge_arrays_is_refused_before_allocating() {
    use cnn_book::conv::{Conv2dConfig, ConvDims, MAX_ELEMENTS};
    // 100,000 zeros on each side of an 8 x 8 image: 200,008^2 per plane.
    let err = ConvDims::new((1, 1, 8, 8), (1, 1, 3, 3), Conv2dConfig::new(1, 100_000))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("padding 100000") && err.contains(&MAX_ELEMENTS.to_string()),
        "{err}"
    );
    // Near usize::MAX / 2, W + 2P wraps around in plain arithmetic: an error, not a shape.
    let err = ConvDims::new(
        (1, 1, 8, 8),
        (1, 1, 3, 3),
        Conv2dConfig::new(1, usize::MAX / 2),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("W + 2P"), "{err}");
    // And through a layer: the same errors, no abort.
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
    let mut conv = Conv2d::new(1, 1, 3, Init::He, &mut rng).padding(100_000);
    assert!(conv
        .forward(&Tensor::zeros(vec![1, 1, 8, 8]), Mode::Train)
        .is_err());
    let mut pool = MaxPool2d::new(2, 2).padding(1);
    assert!(pool
        .forward(&Tensor::zeros(vec![1, 1, 8, 8]), Mode::Train)
        .is_ok());
}

#[test]
fn batch_norm_refuses_an_input_with_an_empty_axis_in_both_modes() {
    for shape in [[0, 2, 3, 3], [2, 2, 0, 3], [2, 2, 3, 0]] {
        for mode in [Mode::Train, Mode::Eval] {
            let mut bn = BatchNorm2d::new(2);
            let err = bn
                .forward(&Tensor::zeros(shape.to_vec()), mode)
                .unwrap_err();
            assert!(
                err.to_string().contains("no values"),
                "{shape:?} {mode:?}: {err}"
            );
        }
    }
}

/// Every kind of layer, a valid input for it, and its backward pass handed a gradient one
/// larger than its output along each axis in turn: an error that names the layer and shows
/// the shapes, never a panic.
#[test]
fn every_layer_refuses_a_gradient_of_the_wrong_shape() {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
    let r = &mut rng;
    let images = vec![2, 4, 6, 6];
    let vectors = vec![2, 4];
    let mut layers: Vec<(Box<dyn Layer>, Vec<usize>)> = vec![
        (
            Box::new(Conv2d::new(4, 3, 3, Init::He, r).padding(1)),
            images.clone(),
        ),
        (Box::new(Linear::new(4, 3, Init::He, r)), vectors.clone()),
        (Box::new(BatchNorm2d::new(4)), images.clone()),
        (Box::new(BatchNorm1d::new(4)), vectors.clone()),
        (Box::new(LayerNorm::new(&[4, 6, 6])), images.clone()),
        (Box::new(MaxPool2d::new(2, 2)), images.clone()),
        (Box::new(AvgPool2d::new(2, 2)), images.clone()),
        (Box::new(GlobalAvgPool::new()), images.clone()),
        (Box::new(AdaptiveAvgPool2d::new(2, 2)), images.clone()),
        (Box::new(Relu::new()), images.clone()),
        (Box::new(Sigmoid::new()), images.clone()),
        (Box::new(Tanh::new()), images.clone()),
        (Box::new(Selu::new()), images.clone()),
        (Box::new(Dropout::new(0.5, 1).unwrap()), images.clone()),
        (Box::new(AlphaDropout::new(0.5, 1).unwrap()), images.clone()),
        (Box::new(Flatten::new()), images.clone()),
        (
            Box::new(LocalResponseNorm::new(LrnConfig::ALEXNET)),
            images.clone(),
        ),
        (
            Box::new(Residual::new(
                Sequential::new().add(Conv2d::new(4, 4, 3, Init::He, r).padding(1)),
            )),
            images.clone(),
        ),
        (
            Box::new(
                Sequential::new()
                    .add(Conv2d::new(4, 2, 1, Init::He, r))
                    .add(Relu::new()),
            ),
            images.clone(),
        ),
        (
            Box::new(
                Concat::new()
                    .branch(Conv2d::new(4, 2, 1, Init::He, r))
                    .branch(Conv2d::new(4, 3, 1, Init::He, r)),
            ),
            images.clone(),
        ),
        (
            Box::new(
                Grouped::new()
                    .group(Conv2d::new(2, 2, 1, Init::He, r))
                    .group(Conv2d::new(2, 2, 1, Init::He, r)),
            ),
            images.clone(),
        ),
    ];
    for (layer, shape) in &mut layers {
        let mut k = 0;
        let x = Tensor::from_shape_fn(shape.clone(), |_| {
            k += 1;
            (k % 7) as f32 - 3.0
        });
        let y = layer.forward(&x, Mode::Train).unwrap();
        // The right gradient works...
        layer.backward(&Tensor::ones(y.shape())).unwrap();
        for axis in 0..y.ndim() {
            let mut wrong = y.shape().to_vec();
            wrong[axis] += 1;
            layer.forward(&x, Mode::Train).unwrap();
            let err = layer
                .backward(&Tensor::ones(wrong.clone()))
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("{wrong:?}")) || err.contains(&wrong[axis].to_string()),
                "{}: gradient {wrong:?} gave: {err}",
                layer.name()
            );
        }
    }
}

#[test]
fn the_weights_checksum_is_the_standard_crc32_and_every_committed_record_matches_its_file() {
    // The check value of CRC-32 (ISO-HDLC, as in gzip and PNG) for the nine ASCII digits.
    assert_eq!(
        cnn_book::checkpoint::checksum(b"123456789"),
        "crc32:cbf43926"
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let lenet = cnn_book::records::read_results(&root.join("book/generated/09-lenet/results.json"))
        .unwrap();
    let resnet = cnn_book::figures::resnet::read(&root.join("book")).unwrap();
    let pairs = lenet
        .values()
        .map(|r| (r.weights.clone(), r.weights_checksum.clone()))
        .chain([(
            cnn_book::figures::resnet::WEIGHTS.to_string(),
            resnet.small.weights_checksum.clone(),
        )]);
    for (file, recorded) in pairs {
        let bytes = std::fs::read(root.join(&file)).unwrap();
        assert_eq!(cnn_book::checkpoint::checksum(&bytes), recorded, "{file}");
    }
}

#[test]
fn files_written_together_are_all_replaced_or_none_is() {
    use cnn_book::files::write_atomic_all;
    let dir = std::env::temp_dir().join(format!("cnn-book-pair-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (weights, results) = (dir.join("w.safetensors"), dir.join("results.json"));
    write_atomic(&weights, b"old weights").unwrap();
    write_atomic(&results, b"old results").unwrap();
    // The second file cannot be written (its directory does not exist): the first keeps
    // its old contents, though its new ones were written first, and no temporary is left.
    let unwritable = dir.join("missing").join("results.json");
    let err = write_atomic_all(&[
        (weights.as_path(), &b"new weights"[..]),
        (unwritable.as_path(), &b"new results"[..]),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    assert_eq!(std::fs::read(&weights).unwrap(), b"old weights");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    // Both writable: both replaced.
    write_atomic_all(&[
        (weights.as_path(), &b"new weights"[..]),
        (results.as_path(), &b"new results"[..]),
    ])
    .unwrap();
    assert_eq!(std::fs::read(&weights).unwrap(), b"new weights");
    assert_eq!(std::fs::read(&results).unwrap(), b"new results");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
