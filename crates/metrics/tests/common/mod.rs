//! What the fixture tests share.

use std::path::{Path, PathBuf};

/// `../shared/fixtures`, or `None` (with a message) when absent: a user's clone skips.
pub fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures"
    ));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        eprintln!("skipping: fixtures absent ({})", dir.display());
        None
    }
}
