//! The bearer token of the HTTP transport: 32 random bytes (hex), generated on first start and
//! kept in the data directory in a file only its owner may read (0600). Compared in constant time.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The token file's name in the data directory.
pub const TOKEN_FILE: &str = "mcp-http-token";

/// Why the token could not be read or written (the file is always named).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("MCP token file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("MCP token file {path}: {problem}; delete it or run `cycling-ai mcp token --rotate`")]
    Invalid { path: PathBuf, problem: String },
    #[error("no random source: {0}")]
    Random(String),
}

/// The token in force and whether it was created by this call (then it is shown once).
#[derive(Debug, Clone)]
pub struct Token {
    pub value: String,
    pub created: bool,
    pub path: PathBuf,
}

pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// The stored token, or a new one stored now. A file others can read is tightened to 0600
/// (a token readable by other users would let them in).
pub fn load_or_create(data_dir: &Path) -> Result<Token, TokenError> {
    let path = token_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let value = text.trim().to_owned();
            if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(TokenError::Invalid {
                    path,
                    problem: "not a token written by cycling-ai (64 hexadecimal digits)".into(),
                });
            }
            restrict(&path)?;
            Ok(Token {
                value,
                created: false,
                path,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => rotate(data_dir),
        Err(source) => Err(TokenError::Io { path, source }),
    }
}

/// A new token replaces the stored one (clients holding the old one get 401 from now on).
pub fn rotate(data_dir: &Path) -> Result<Token, TokenError> {
    let path = token_path(data_dir);
    let value = random_hex(32)?;
    let io = |source| TokenError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(|source| TokenError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    // Written to a private temporary file then renamed: the token is never readable by others,
    // not even for a moment, and a crash leaves the old token or the new one.
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(value.as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(Token {
        value,
        created: true,
        path,
    })
}

#[cfg(unix)]
fn restrict(path: &Path) -> Result<(), TokenError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| TokenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "token file readable by others; set to 0600");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> Result<(), TokenError> {
    Ok(())
}

/// `bytes` random bytes from the OS as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String, TokenError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `given` is the token, in time independent of where they differ.
pub fn matches(given: &str, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.len() == token.len() && bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert!(first.created);
        assert_eq!(first.value.len(), 64);
        let again = load_or_create(dir.path()).unwrap();
        assert!(!again.created);
        assert_eq!(again.value, first.value);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&first.path, std::fs::Permissions::from_mode(0o644)).unwrap();
            load_or_create(dir.path()).unwrap();
            let mode = std::fs::metadata(&first.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "a loose token file is tightened");
        }
        let rotated = rotate(dir.path()).unwrap();
        assert_ne!(rotated.value, first.value);
        assert_eq!(load_or_create(dir.path()).unwrap().value, rotated.value);
    }

    #[test]
    fn comparison_needs_the_whole_token() {
        let t = "ab".repeat(32);
        assert!(matches(&t, &t));
        assert!(!matches(&t[..63], &t));
        assert!(!matches(&format!("{}c", &t[..63]), &t));
        assert!(!matches("", &t));
    }

    #[test]
    fn a_damaged_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(token_path(dir.path()), "short").unwrap();
        let e = load_or_create(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains(TOKEN_FILE) && e.contains("64 hexadecimal"),
            "{e}"
        );
    }
}
