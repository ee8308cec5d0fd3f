//! The IDX file format of MNIST and Fashion-MNIST, read with every field validated.
//!
//! An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
//! dimensions), one big-endian `u32` per dimension, then the data in row-major order.
//! Files may be gzip-compressed (detected by the gzip magic bytes, not the file name).
//! A truncated, padded or corrupt file is an error that says what was expected.

use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// What can be wrong with the contents of an IDX file (a file that cannot be read at all
/// is an [`Error::Io`](crate::Error::Io)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdxError {
    /// The file starts like gzip but does not decompress (truncated or corrupt).
    Gzip { path: String, message: String },
    /// Fewer than 4 bytes, or the first two bytes are not zero.
    BadMagic { path: String, found: Vec<u8> },
    /// The type code is not 0x08 (unsigned bytes), the only type MNIST uses.
    UnsupportedType { path: String, code: u8 },
    /// The number of dimensions is not what the caller asked for.
    WrongRank {
        path: String,
        expected: usize,
        found: usize,
    },
    /// The header promises more (or fewer) bytes of data than the file holds.
    WrongLength {
        path: String,
        dims: Vec<usize>,
        expected: usize,
        found: usize,
    },
    /// Two files that belong together disagree (e.g. images and labels).
    Inconsistent(String),
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdxError::Gzip { path, message } => write!(
                f,
                "{path}: not valid gzip ({message}); the file is truncated or corrupt, download it again"
            ),
            IdxError::BadMagic { path, found } => write!(
                f,
                "{path}: not an IDX file: expected the magic bytes 00 00 08 <rank>, found {found:02x?}"
            ),
            IdxError::UnsupportedType { path, code } => write!(
                f,
                "{path}: IDX type code 0x{code:02x} is not supported (only 0x08, unsigned bytes)"
            ),
            IdxError::WrongRank { path, expected, found } => write!(
                f,
                "{path}: expected an IDX file with {expected} dimensions, found {found}"
            ),
            IdxError::WrongLength { path, dims, expected, found } => write!(
                f,
                "{path}: the header says {dims:?} = {expected} bytes of data, but the file holds {found} \
                 (truncated or corrupt; download it again)"
            ),
            IdxError::Inconsistent(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for IdxError {}

/// An IDX array of unsigned bytes: its dimensions and its data in row-major order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parses IDX bytes (already decompressed) that should have `rank` dimensions; `name`
/// appears in error messages.
pub fn parse_idx(bytes: &[u8], rank: usize, name: &str) -> Result<IdxArray, IdxError> {
    let path = name.to_string();
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(IdxError::BadMagic {
            path,
            found: bytes.iter().take(4).copied().collect(),
        });
    }
    if bytes[2] != 0x08 {
        return Err(IdxError::UnsupportedType {
            path,
            code: bytes[2],
        });
    }
    let found_rank = bytes[3] as usize;
    if found_rank != rank {
        return Err(IdxError::WrongRank {
            path,
            expected: rank,
            found: found_rank,
        });
    }
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(IdxError::WrongLength {
            path,
            dims: Vec::new(),
            expected: header,
            found: bytes.len(),
        });
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .unwrap_or(usize::MAX);
    let found = bytes.len() - header;
    if found != expected {
        return Err(IdxError::WrongLength {
            path,
            dims,
            expected,
            found,
        });
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// The most data an IDX file may declare: 1 GiB (Fashion-MNIST's training images are 47
/// MB). A gzip file is inflated only as far as its header declares, one byte more to see
/// whether it goes on, so a small file cannot make the reader allocate gigabytes.
pub const MAX_IDX_BYTES: usize = 1 << 30;

/// Reads an IDX file, gzip-compressed (one member or several, as `cat a.gz b.gz` makes)
/// or raw, that should have `rank` dimensions.
pub fn read_idx(path: &Path, rank: usize) -> Result<IdxArray> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
    decode_idx(&raw, rank, &path.display().to_string())
}

/// The IDX array in `raw`, the bytes of a file gzip-compressed (one member or several) or
/// raw, that should have `rank` dimensions; `name` appears in error messages. A gzip
/// stream is inflated only as far as its header declares, plus one byte, and a header
/// declaring more than [`MAX_IDX_BYTES`] is refused before inflating.
pub fn decode_idx(raw: &[u8], rank: usize, name: &str) -> Result<IdxArray> {
    let name = name.to_string();
    let inflated;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let gzip = |e: std::io::Error| IdxError::Gzip {
            path: name.clone(),
            message: e.to_string(),
        };
        let mut stream = flate2::read::MultiGzDecoder::new(raw);
        let mut out = Vec::new();
        let header = 4 + 4 * rank.min(255);
        (&mut stream)
            .take(header as u64)
            .read_to_end(&mut out)
            .map_err(gzip)?;
        // A header that is not this IDX's: parse_idx names what is wrong with it.
        let declared = declared_len(&out, rank).unwrap_or(0);
        if declared > MAX_IDX_BYTES {
            return Err(IdxError::Inconsistent(format!(
                "{name}: the header declares {declared} bytes of data, more than the \
                 {MAX_IDX_BYTES} this reader accepts"
            ))
            .into());
        }
        stream
            .take(declared as u64 + 1)
            .read_to_end(&mut out)
            .map_err(gzip)?;
        inflated = out;
        &inflated[..]
    } else {
        raw
    };
    Ok(parse_idx(bytes, rank, &name)?)
}

/// The data length that the IDX header `bytes` of rank `rank` declares (saturating at
/// `usize::MAX`), or `None` if `bytes` is not such a header.
fn declared_len(bytes: &[u8], rank: usize) -> Option<usize> {
    let ok = bytes.len() == 4 + 4 * rank && bytes[..3] == [0, 0, 0x08] && bytes[3] as usize == rank;
    ok.then(|| {
        bytes[4..]
            .chunks_exact(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .try_fold(1usize, |acc, d| acc.checked_mul(d))
            .unwrap_or(usize::MAX)
    })
}

/// Encodes an array of unsigned bytes as IDX (uncompressed): the inverse of [`parse_idx`].
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Vec<u8> {
    assert_eq!(
        dims.iter().product::<usize>(),
        data.len(),
        "dims {dims:?} do not match {} bytes",
        data.len()
    );
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}
