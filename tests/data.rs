//! IDX files and the Fashion-MNIST sample: valid files load, every kind of damage is a
//! clear error.

use std::io::Write;

use cnn_book::data::fashion_mnist::{self, sample, Dataset, CLASS_NAMES};
use cnn_book::data::idx::{encode_idx, parse_idx, read_idx, IdxError};
use cnn_book::Error;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cnn-book-data-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_header_is_parsed_by_hand() {
    // Magic 00 00 08 03 (unsigned bytes, 3 dimensions), dims 2 x 1 x 3, then 6 bytes.
    let bytes = [
        0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 10, 20, 30, 40, 50, 60,
    ];
    let a = parse_idx(&bytes, 3, "hand-made").unwrap();
    assert_eq!(a.dims, vec![2, 1, 3]);
    assert_eq!(a.data, vec![10, 20, 30, 40, 50, 60]);
    assert_eq!(encode_idx(&a.dims, &a.data), bytes.to_vec());
}

#[test]
fn damaged_files_are_rejected_with_clear_errors() {
    let good = encode_idx(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
    // Truncated: one byte of data missing.
    let err = parse_idx(&good[..good.len() - 1], 3, "short").unwrap_err();
    assert!(
        matches!(
            err,
            IdxError::WrongLength {
                expected: 8,
                found: 7,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("truncated"), "{err}");
    // Trailing garbage.
    let mut long = good.clone();
    long.push(0);
    assert!(matches!(
        parse_idx(&long, 3, "long"),
        Err(IdxError::WrongLength { found: 9, .. })
    ));
    // Wrong magic: a PNG is not an IDX file.
    let err = parse_idx(b"\x89PNG\r\n", 3, "picture.png").unwrap_err();
    assert!(
        matches!(err, IdxError::BadMagic { .. }) && err.to_string().contains("picture.png"),
        "{err}"
    );
    // Unsupported type code (0x0D = float32).
    let mut float = good.clone();
    float[2] = 0x0d;
    assert!(parse_idx(&float, 3, "f")
        .unwrap_err()
        .to_string()
        .contains("0x0d"));
    // A label file (rank 1) where images (rank 3) were expected.
    let labels = encode_idx(&[3], &[1, 2, 3]);
    let err = parse_idx(&labels, 3, "labels").unwrap_err();
    assert!(
        matches!(
            err,
            IdxError::WrongRank {
                expected: 3,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
    // Too short for even the header.
    assert!(matches!(
        parse_idx(&[0, 0], 1, "tiny"),
        Err(IdxError::BadMagic { .. })
    ));
    assert!(matches!(
        parse_idx(&[0, 0, 8, 3, 0, 0], 3, "cut"),
        Err(IdxError::WrongLength { .. })
    ));
}

#[test]
fn gzip_and_raw_files_read_the_same_and_a_corrupt_gzip_is_an_error() {
    let dir = scratch("gz");
    let bytes = encode_idx(&[4], &[0, 1, 2, 9]);
    std::fs::write(dir.join("raw"), &bytes).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(dir.join("file.gz"), &gz).unwrap();
    assert_eq!(
        read_idx(&dir.join("raw"), 1).unwrap(),
        read_idx(&dir.join("file.gz"), 1).unwrap()
    );
    // Two gzip members, one after the other (what `cat a.gz b.gz` makes): one stream.
    let half = |part: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(part).unwrap();
        gz.finish().unwrap()
    };
    let members = [half(&bytes[..6]), half(&bytes[6..])].concat();
    std::fs::write(dir.join("members.gz"), &members).unwrap();
    assert_eq!(
        read_idx(&dir.join("members.gz"), 1).unwrap(),
        read_idx(&dir.join("raw"), 1).unwrap()
    );
    // A gzip bomb: a header of 4 bytes of data, then 200 MB of zeros (about 200 KB
    // compressed). Only the declared bytes and one more are inflated: a length error.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    bomb.write_all(&encode_idx(&[4], &[0; 4])).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..200 {
        bomb.write_all(&zeros).unwrap();
    }
    std::fs::write(dir.join("bomb.gz"), bomb.finish().unwrap()).unwrap();
    let err = read_idx(&dir.join("bomb.gz"), 1).unwrap_err();
    assert!(
        matches!(err, Error::Idx(IdxError::WrongLength { .. })),
        "{err}"
    );
    // A header that declares more than the reader accepts: refused before inflating.
    let mut huge = [0u8, 0, 8, 3].to_vec();
    for d in [65_536u32, 65_536, 65_536] {
        huge.extend(d.to_be_bytes());
    }
    std::fs::write(dir.join("huge.gz"), half(&huge)).unwrap();
    let err = read_idx(&dir.join("huge.gz"), 3).unwrap_err().to_string();
    assert!(err.contains("more than the 1073741824"), "{err}");
    // Cut the gzip stream in half.
    std::fs::write(dir.join("cut.gz"), &gz[..gz.len() / 2]).unwrap();
    let err = read_idx(&dir.join("cut.gz"), 1).unwrap_err();
    assert!(
        matches!(err, Error::Idx(IdxError::Gzip { .. })) && err.to_string().contains("cut.gz"),
        "{err}"
    );
    let err = read_idx(&dir.join("missing"), 1).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            }
        ) && err.to_string().contains("missing"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn images_and_labels_must_agree() {
    let images = parse_idx(&encode_idx(&[2, 1, 1], &[0, 255]), 3, "i").unwrap();
    let labels = parse_idx(&encode_idx(&[3], &[0, 1, 2]), 1, "l").unwrap();
    let err = Dataset::from_idx(images.clone(), labels)
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 images but 3 labels"), "{err}");
    let bad_label = parse_idx(&encode_idx(&[2], &[0, 10]), 1, "l").unwrap();
    assert!(Dataset::from_idx(images.clone(), bad_label)
        .unwrap_err()
        .to_string()
        .contains("label 10"));
    let ok = Dataset::from_idx(
        images,
        parse_idx(&encode_idx(&[2], &[3, 4]), 1, "l").unwrap(),
    )
    .unwrap();
    assert_eq!(ok.images[[1, 0, 0]], 1.0); // 255 / 255
}

#[test]
fn the_embedded_sample_is_the_start_of_the_test_set() {
    let s = sample();
    assert_eq!(s.len(), 1000);
    assert_eq!(s.images.dim(), (1000, 28, 28));
    // The first test images of Fashion-MNIST: ankle boot, pullover, trouser, trouser, shirt.
    assert_eq!(&s.labels[..5], &[9, 2, 1, 1, 6]);
    assert_eq!(CLASS_NAMES[9], "Ankle boot");
    assert!(s.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
    // Where the full data set is installed, the sample must be its first 1,000 test images.
    match fashion_mnist::locate(None) {
        Ok(dir) => {
            let full = fashion_mnist::load(&dir, fashion_mnist::Split::Test).unwrap();
            assert_eq!(full.len(), 10_000);
            assert_eq!(&full.labels[..1000], &s.labels[..]);
            assert_eq!(full.images.slice(ndarray::s![..1000, .., ..]), s.images);
        }
        Err(message) => eprintln!("full data set not installed, comparison skipped: {message}"),
    }
}

#[test]
fn a_missing_data_set_says_how_to_get_it() {
    let err = fashion_mnist::locate(Some(std::path::Path::new("/nonexistent/fmnist"))).unwrap_err();
    assert!(
        matches!(&err, Error::Data(m) if m.contains("/nonexistent/fmnist")
            && m.contains("apt-get install dataset-fashion-mnist")),
        "{err}"
    );
}
