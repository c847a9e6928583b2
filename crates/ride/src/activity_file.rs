//! Any activity file → [`Activity`]: FIT, TCX or GPX, gzip-compressed or not, recognised by
//! content (gzip magic, then an XML root element or the FIT header) rather than by name, as
//! people rename files and Strava's names are not always right.

use std::path::{Path, PathBuf};

use crate::fit::FitError;
use crate::model::Activity;
use crate::xml::XmlError;

/// The formats an activity file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Fit,
    Tcx,
    Gpx,
}

/// Why an activity file could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ActivityFileError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Any other error, with the file it came from.
    #[error("{path}: {source}")]
    InFile {
        path: PathBuf,
        source: Box<ActivityFileError>,
    },
    #[error("the gzip stream is unreadable: {0}")]
    Gzip(std::io::Error),
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error(transparent)]
    Xml(#[from] XmlError),
}

/// Is `name` an activity file the decoders read (`.fit`, `.tcx`, `.gpx`, each optionally
/// `.gz`; case-insensitive)?
pub fn is_activity_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
    [".fit", ".tcx", ".gpx"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Decode a FIT, TCX or GPX file (each possibly gzip-compressed). Errors name the path.
pub fn decode_file(path: &Path) -> Result<Activity, ActivityFileError> {
    let bytes = std::fs::read(path).map_err(|source| ActivityFileError::Io {
        path: path.to_owned(),
        source,
    })?;
    decode_bytes(&bytes).map_err(|source| ActivityFileError::InFile {
        path: path.to_owned(),
        source: Box::new(source),
    })
}

/// Decode FIT, TCX or GPX data held in memory, gzip-compressed or not.
pub fn decode_bytes(bytes: &[u8]) -> Result<Activity, ActivityFileError> {
    if crate::gz::is_gzip(bytes) {
        let (plain, damage) = crate::gz::gunzip_lenient(bytes).map_err(ActivityFileError::Gzip)?;
        let mut activity = decode_plain(&plain)?;
        if let Some(e) = damage {
            activity.warnings.insert(
                0,
                format!(
                    "The gzip stream is damaged after {} decompressed bytes ({e}); the data \
                     before that point were decoded.",
                    plain.len()
                ),
            );
        }
        return Ok(activity);
    }
    decode_plain(bytes)
}

fn decode_plain(bytes: &[u8]) -> Result<Activity, ActivityFileError> {
    Ok(match sniff(bytes) {
        Format::Fit => crate::fit::decode_bytes(bytes)?,
        Format::Tcx => crate::tcx::decode_text(crate::xml::text_of(bytes)?)?,
        Format::Gpx => crate::gpx::decode_text(crate::xml::text_of(bytes)?)?,
    })
}

/// The format of uncompressed data: XML whose first element is `<gpx` is GPX, any other XML is
/// read as TCX (whose decoder names a wrong root element), everything else as FIT (whose decoder
/// names what is wrong with the header).
pub fn sniff(bytes: &[u8]) -> Format {
    let head = &bytes[..bytes.len().min(4096)];
    let head = String::from_utf8_lossy(head);
    let text = head.trim_start_matches('\u{feff}').trim_start();
    if !text.starts_with('<') {
        return Format::Fit;
    }
    // The first element that is not a declaration, comment or DOCTYPE.
    let first = text
        .match_indices('<')
        .map(|(i, _)| &text[i + 1..])
        .find(|rest| !rest.starts_with('?') && !rest.starts_with('!'));
    let local = first
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
                .collect();
            name.rsplit(':').next().unwrap_or_default().to_string()
        })
        .unwrap_or_default();
    if local == "gpx" {
        Format::Gpx
    } else {
        Format::Tcx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    const GPX: &str = "<?xml version=\"1.0\"?>\n<!-- exported -->\n<gpx><trk><trkseg>\
        <trkpt lat=\"1\" lon=\"2\"><time>2020-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>";
    const TCX: &str = "\u{feff}<TrainingCenterDatabase><Activities><Activity Sport=\"Biking\">\
        <Id>2020-01-01T00:00:00Z</Id></Activity></Activities></TrainingCenterDatabase>";

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(sniff(GPX.as_bytes()), Format::Gpx);
        assert_eq!(sniff(b"<x:gpx xmlns:x=\"u\"/>"), Format::Gpx);
        assert_eq!(sniff(TCX.as_bytes()), Format::Tcx);
        assert_eq!(sniff(b"\x0e\x10\x00\x00"), Format::Fit);
        assert_eq!(decode_bytes(GPX.as_bytes()).unwrap().records.len(), 1);
        assert_eq!(decode_bytes(TCX.as_bytes()).unwrap().sessions.len(), 1);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(GPX.as_bytes()).unwrap();
        assert_eq!(
            decode_bytes(&gz.finish().unwrap()).unwrap().records.len(),
            1
        );
    }

    #[test]
    fn names_and_errors() {
        assert!(is_activity_file_name("a/b/1.TCX.gz"));
        assert!(is_activity_file_name("1.gpx"));
        assert!(is_activity_file_name("1.fit"));
        assert!(!is_activity_file_name("1.kml"));
        assert!(!is_activity_file_name("gpx"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.gpx");
        std::fs::write(&path, "<gpx><trk></gpx>").unwrap();
        let msg = decode_file(&path).unwrap_err().to_string();
        assert!(
            msg.contains("bad.gpx") && msg.contains("line 1, column 11"),
            "{msg}"
        );
        let fit = decode_bytes(b"hello").unwrap_err();
        assert!(matches!(fit, ActivityFileError::Fit(_)), "{fit}");
    }
}
