//! FIT activity decoding: `.fit` and `.fit.gz` → [`Activity`].
//!
//! Built on rustyfit's stream decoder (see `reference/crates.md` §4), behind this module so the
//! rest of the workspace sees only the typed model:
//! - **chained files** (several headers in one file) are decoded in sequence into one activity;
//! - **truncated** data (the file ends before its declared size) keep every message read before
//!   the break: `Ok` with [`Activity::truncated`] set and a warning;
//! - **corrupt** data (a message that uses an undefined local message type, a message running
//!   past its file's declared size, not FIT at all) are an `Err` naming the byte offset;
//! - CRCs are checked here, not by rustyfit (its check is wrong for 14-byte headers with a zero
//!   header CRC); a mismatch is a warning, because the values are usually still good;
//! - gzip is recognised by its magic bytes, whatever the file is called (`crate::gz`).
//!
//! Workout files (`decode_workout_file`) go through the same framing with the same rules.

mod crc;
mod decode;
mod sport;
mod workout;

use std::path::{Path, PathBuf};

use crate::model::{Activity, FitWorkout};

pub use sport::map_sport;

/// Seconds between the Unix epoch and the FIT epoch (1989-12-31T00:00:00Z): Unix = FIT + this.
pub const FIT_EPOCH_OFFSET: i64 = decode::FIT_EPOCH_OFFSET;

/// Why FIT data could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Any other error, with the file it came from.
    #[error("{path}: {source}")]
    InFile {
        path: PathBuf,
        source: Box<FitError>,
    },
    #[error("not FIT data (byte {offset}): {reason}")]
    NotFit { offset: u64, reason: String },
    #[error("corrupt FIT data at byte {offset}: {reason}")]
    Corrupt { offset: u64, reason: String },
    #[error("the gzip stream is unreadable after {decompressed} decompressed bytes: {source}")]
    Gzip {
        decompressed: u64,
        source: std::io::Error,
    },
}

impl FitError {
    /// The byte offset (in the decompressed FIT data) the error refers to, if any.
    pub fn offset(&self) -> Option<u64> {
        match self {
            FitError::NotFit { offset, .. } | FitError::Corrupt { offset, .. } => Some(*offset),
            FitError::InFile { source, .. } => source.offset(),
            FitError::Io { .. } | FitError::Gzip { .. } => None,
        }
    }
}

/// Decode a `.fit` or `.fit.gz` file. Errors name the path.
pub fn decode_file(path: &Path) -> Result<Activity, FitError> {
    let bytes = std::fs::read(path).map_err(|source| FitError::Io {
        path: path.to_owned(),
        source,
    })?;
    decode_bytes(&bytes).map_err(|source| FitError::InFile {
        path: path.to_owned(),
        source: Box::new(source),
    })
}

/// Decode FIT data held in memory, gzip-compressed or not.
pub fn decode_bytes(bytes: &[u8]) -> Result<Activity, FitError> {
    if is_gzip(bytes) {
        let (plain, warnings) = gunzip(bytes)?;
        decode::decode_fit(&plain, warnings)
    } else {
        decode::decode_fit(bytes, Vec::new())
    }
}

/// Decode a `.fit` or `.fit.gz` workout file (`workout` + `workout_step` messages). Errors name
/// the path; data holding no workout message at all are an error.
pub fn decode_workout_file(path: &Path) -> Result<FitWorkout, FitError> {
    let bytes = std::fs::read(path).map_err(|source| FitError::Io {
        path: path.to_owned(),
        source,
    })?;
    decode_workout_bytes(&bytes).map_err(|source| FitError::InFile {
        path: path.to_owned(),
        source: Box::new(source),
    })
}

/// Decode a FIT workout held in memory, gzip-compressed or not.
pub fn decode_workout_bytes(bytes: &[u8]) -> Result<FitWorkout, FitError> {
    if is_gzip(bytes) {
        let (plain, warnings) = gunzip(bytes)?;
        workout::decode_workout(&plain, warnings)
    } else {
        workout::decode_workout(bytes, Vec::new())
    }
}

use crate::gz::is_gzip;

/// Decompress everything that can be decompressed. A cut or damaged gzip stream keeps what came
/// out before the damage (the FIT decoder then reports the truncation), with a warning; only a
/// stream yielding nothing at all is an error.
fn gunzip(bytes: &[u8]) -> Result<(Vec<u8>, Vec<String>), FitError> {
    let (plain, damage) = crate::gz::gunzip_lenient(bytes).map_err(|source| FitError::Gzip {
        decompressed: 0,
        source,
    })?;
    let warnings = damage
        .map(|e| {
            format!(
                "The gzip stream is damaged after {} decompressed bytes ({e}); the FIT data \
                 before that point were decoded.",
                plain.len()
            )
        })
        .into_iter()
        .collect();
    Ok((plain, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// A minimal valid FIT file: header, one definition + data message (file_id), CRC.
    pub(super) fn tiny_fit(header_crc: bool) -> Vec<u8> {
        let mut data = Vec::new();
        // Definition for local 0: global message 0 (file_id), little endian, 2 fields.
        data.extend_from_slice(&[0x40, 0, 0, 0, 0, 2]);
        data.extend_from_slice(&[0, 1, 0x00]); // type: enum, 1 byte
        data.extend_from_slice(&[4, 4, 0x86]); // time_created: uint32
        data.push(0x00); // data message, local 0
        data.push(4); // file type: activity
        data.extend_from_slice(&1_000_000_000u32.to_le_bytes());
        let mut out = vec![14, 0x20];
        out.extend_from_slice(&2132u16.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(b".FIT");
        let hcrc = if header_crc { crc::crc16(&out) } else { 0 };
        out.extend_from_slice(&hcrc.to_le_bytes());
        out.extend_from_slice(&data);
        let crc = crc::crc16(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    #[test]
    fn decodes_minimal_file_with_and_without_header_crc() {
        for header_crc in [true, false] {
            let a = decode_bytes(&tiny_fit(header_crc)).unwrap();
            assert_eq!(a.message_count, 1);
            assert!(a.warnings.is_empty(), "{:?}", a.warnings);
            let id = a.file_id.unwrap();
            assert_eq!(id.file_type.as_deref(), Some("activity"));
            assert_eq!(
                id.time_created.unwrap().as_second(),
                1_000_000_000 + FIT_EPOCH_OFFSET
            );
        }
    }

    #[test]
    fn flipped_data_byte_is_a_crc_warning() {
        let mut bytes = tiny_fit(true);
        let n = bytes.len();
        bytes[n - 3] ^= 0x01; // last byte of time_created
        let a = decode_bytes(&bytes).unwrap();
        assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
        assert!(
            a.warnings[0].contains("CRC of FIT file 1"),
            "{}",
            a.warnings[0]
        );
    }

    #[test]
    fn bad_header_size_is_an_error_at_byte_0() {
        let mut bytes = tiny_fit(true);
        bytes[0] = 13;
        let err = decode_bytes(&bytes).unwrap_err();
        assert_eq!(err.offset(), Some(0));
        assert!(err.to_string().contains("header size byte is 13"), "{err}");
    }

    #[test]
    fn missing_signature_is_an_error() {
        let mut bytes = tiny_fit(true);
        bytes[9] = b'X';
        let err = decode_bytes(&bytes).unwrap_err();
        assert_eq!(err.offset(), Some(8));
    }

    #[test]
    fn undefined_local_message_is_corrupt_with_offset() {
        let mut bytes = tiny_fit(false);
        // The data message header (after header 14 + definition 12) now names local message 3.
        bytes[26] = 0x03;
        let err = decode_bytes(&bytes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "corrupt FIT data at byte 26: local message 3 not defined"
        );
    }

    #[test]
    fn data_size_too_small_is_corrupt() {
        let mut bytes = tiny_fit(false);
        bytes[4..8].copy_from_slice(&14u32.to_le_bytes()); // the message ends at 14 + 17
        let err = decode_bytes(&bytes).unwrap_err();
        assert_eq!(err.offset(), Some(28), "{err}");
        assert!(err.to_string().contains("declares 14 data bytes"), "{err}");
    }

    #[test]
    fn empty_and_gzip_of_nothing_are_errors() {
        assert!(matches!(
            decode_bytes(&[]),
            Err(FitError::NotFit { offset: 0, .. })
        ));
        let err = decode_bytes(&[0x1f, 0x8b, 0x08]).unwrap_err();
        assert!(matches!(err, FitError::Gzip { .. }), "{err}");
    }

    #[test]
    fn gzip_is_detected_by_magic() {
        let plain = tiny_fit(true);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(decode_bytes(&gz).unwrap(), decode_bytes(&plain).unwrap());
    }

    #[test]
    fn truncated_after_first_message_is_flagged() {
        let mut bytes = tiny_fit(true);
        bytes.truncate(bytes.len() - 1); // half the CRC
        let a = decode_bytes(&bytes).unwrap();
        assert!(a.truncated);
        assert_eq!(a.message_count, 1);
        assert!(
            a.warnings[0].contains("without the 2-byte CRC"),
            "{:?}",
            a.warnings
        );
    }

    #[test]
    fn trailing_zero_padding_is_a_warning() {
        let mut bytes = tiny_fit(true);
        bytes.extend_from_slice(&[0; 7]);
        let a = decode_bytes(&bytes).unwrap();
        assert!(!a.truncated);
        assert!(a.warnings[0].contains("7 bytes"), "{:?}", a.warnings);
        assert!(a.warnings[0].contains("zero padding"), "{:?}", a.warnings);
    }

    #[test]
    fn file_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ride.fit");
        std::fs::write(&path, b"hello").unwrap();
        let err = decode_file(&path).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("ride.fit"), "{msg}");
        assert!(msg.contains("byte 0"), "{msg}");
        let missing = decode_file(&dir.path().join("absent.fit")).unwrap_err();
        assert!(missing.to_string().starts_with("cannot read"), "{missing}");
    }
}
