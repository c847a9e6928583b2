//! gzip, recognised by its magic bytes whatever the file is called (Strava names compressed
//! files `.fit.gz`, `.tcx.gz`, `.gpx.gz`; people rename them).

use std::io::Read as _;

use flate2::read::MultiGzDecoder;

pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompress everything that can be decompressed. A cut or damaged stream keeps what came out
/// before the damage, with the error that stopped it (the format's decoder then reports the
/// truncation); only a stream yielding nothing at all is an error.
pub(crate) fn gunzip_lenient(
    bytes: &[u8],
) -> Result<(Vec<u8>, Option<std::io::Error>), std::io::Error> {
    // Ride files compress about 3:1 (FIT) to 10:1 (XML); reserving avoids most regrowth.
    let mut plain = Vec::with_capacity(bytes.len().saturating_mul(4));
    let mut decoder = MultiGzDecoder::new(bytes);
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match decoder.read(&mut chunk) {
            Ok(0) => return Ok((plain, None)),
            Ok(n) => plain.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if plain.is_empty() => return Err(e),
            Err(e) => return Ok((plain, Some(e))),
        }
    }
}
