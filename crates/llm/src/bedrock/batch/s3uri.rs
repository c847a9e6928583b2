//! `s3://bucket/prefix` URIs: parsed once, with errors that say what is wrong with the text.

use std::fmt;

/// A bucket and a key (or key prefix) inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    /// No leading slash; empty for the bucket's root.
    pub key: String,
}

/// Why a text is not an S3 URI the batch service accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{uri}` is not an S3 URI: {reason} (expected s3://bucket/prefix)")]
pub struct S3UriError {
    pub uri: String,
    pub reason: String,
}

impl S3Uri {
    /// Parse `s3://bucket[/key]`. The bucket follows S3's naming rules (3–63 characters of
    /// lower-case letters, digits, dots and hyphens, starting and ending with a letter or
    /// digit), which is also what the batch API's `s3Uri` pattern demands.
    pub fn parse(uri: &str) -> Result<S3Uri, S3UriError> {
        let fail = |reason: &str| S3UriError {
            uri: uri.to_string(),
            reason: reason.to_string(),
        };
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| fail("it does not start with s3://"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(fail("the bucket name is missing"));
        }
        if bucket.len() < 3 || bucket.len() > 63 {
            return Err(fail("a bucket name has 3 to 63 characters"));
        }
        let ok_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
        if let Some(c) = bucket.chars().find(|c| !ok_char(*c)) {
            return Err(fail(&format!(
                "the bucket name contains `{c}`: only lower-case letters, digits, dots and hyphens are allowed"
            )));
        }
        let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !edge(bucket.chars().next()) || !edge(bucket.chars().last()) {
            return Err(fail(
                "the bucket name must start and end with a letter or digit",
            ));
        }
        if key.contains("//") {
            return Err(fail("the key contains an empty path segment (`//`)"));
        }
        if key.len() > 1024 {
            return Err(fail("the key is longer than 1024 bytes"));
        }
        Ok(S3Uri {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// This prefix as a folder: the key ends with `/` (or is empty).
    pub fn as_folder(&self) -> S3Uri {
        let key = if self.key.is_empty() || self.key.ends_with('/') {
            self.key.clone()
        } else {
            format!("{}/", self.key)
        };
        S3Uri {
            bucket: self.bucket.clone(),
            key,
        }
    }

    /// `name` inside this prefix taken as a folder.
    pub fn join(&self, name: &str) -> S3Uri {
        let folder = self.as_folder();
        S3Uri {
            bucket: folder.bucket,
            key: format!("{}{}", folder.key, name.trim_start_matches('/')),
        }
    }
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_key_and_joins_as_a_folder() {
        let u = S3Uri::parse("s3://my-bucket.data/batch/run1").unwrap();
        assert_eq!(u.bucket, "my-bucket.data");
        assert_eq!(u.key, "batch/run1");
        assert_eq!(
            u.join("input.jsonl").to_string(),
            "s3://my-bucket.data/batch/run1/input.jsonl"
        );
        let root = S3Uri::parse("s3://bkt").unwrap();
        assert_eq!(root.key, "");
        assert_eq!(root.join("a/b").to_string(), "s3://bkt/a/b");
        assert_eq!(
            S3Uri::parse("s3://bkt/out/").unwrap().as_folder().key,
            "out/"
        );
    }

    #[test]
    fn bad_uris_say_what_is_wrong() {
        let reason = |u: &str| S3Uri::parse(u).unwrap_err().reason;
        assert!(reason("https://bkt/x").contains("s3://"));
        assert!(reason("s3:///x").contains("missing"));
        assert!(reason("s3://ab/x").contains("3 to 63"));
        assert!(reason("s3://My_Bucket/x").contains("`M`"));
        assert!(reason("s3://-bucket/x").contains("start and end"));
        assert!(reason("s3://bucket/a//b").contains("//"));
        let e = S3Uri::parse("s3://My_Bucket").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`s3://My_Bucket` is not an S3 URI")
        );
    }
}
