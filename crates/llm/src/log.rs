//! The interaction log: one JSON line per model call, appended to `interactions.jsonl` in a
//! given directory. Credentials and API keys are never written: every line is scrubbed of the
//! secrets known to the process (credential env vars, registered secrets) and of anything shaped
//! like an AWS access key id, an `Authorization` value or a provider API key.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::catalog::Cost;
use crate::error::LlmError;
use crate::types::{Request, Response, Usage};

const REDACTED: &str = "[REDACTED]";

/// Errors writing the log (the file path is always named).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("interaction log {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One logged call.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// RFC 3339 UTC time the call finished.
    pub time: String,
    pub provider: String,
    pub model_requested: String,
    pub model_used: Option<String>,
    pub request: Value,
    pub response: Option<Value>,
    pub usage: Option<Usage>,
    pub cost: Option<Cost>,
    pub latency_ms: Option<u64>,
    pub attempts: Option<u32>,
    pub error: Option<Value>,
}

impl LogEntry {
    /// Build an entry from a finished call.
    pub fn new(
        provider: &str,
        request: &Request,
        outcome: &Result<Response, LlmError>,
        cost: Option<Cost>,
        attempts: Option<u32>,
    ) -> Self {
        let (model_used, response, usage, latency_ms, error) = match outcome {
            Ok(r) => (
                Some(r.model_used.clone()),
                Some(serde_json::json!({
                    "text": r.text,
                    "tool_calls": r.tool_calls,
                    "malformed_tool_calls": r.malformed_tool_calls,
                    "stop_reason": r.stop_reason,
                })),
                Some(r.usage),
                r.latency.map(|d| d.as_millis() as u64),
                None,
            ),
            Err(e) => {
                let mut err = serde_json::json!({"kind": e.kind(), "message": e.to_string()});
                if let LlmError::StreamBroken { partial_text, .. } = e {
                    err["partial_text"] = Value::String(partial_text.clone());
                }
                // The variant's own fields, so a replay can give back exactly this error.
                err["detail"] = error_detail(e);
                (None, None, None, None, Some(err))
            }
        };
        Self {
            time: jiff::Timestamp::now().to_string(),
            provider: provider.to_string(),
            model_requested: request.model.clone(),
            model_used,
            request: serde_json::json!({
                "system": request.system,
                "messages": request.messages,
                "tools": request.tools,
                "tool_choice": request.tool_choice,
                // What shape of answer was asked for: a schema (by name) or free text. With
                // `tool_choice`, enough to tell a forced call from an ignored one in the log.
                "response_format": match &request.structured_output {
                    Some(so) => serde_json::json!({"type": "json_schema", "name": so.name}),
                    None => serde_json::json!({"type": "text"}),
                },
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
                "top_p": request.top_p,
            }),
            response,
            usage,
            cost,
            latency_ms,
            attempts,
            error,
        }
    }
}

/// The fields of an error (provider, the service's message, model, profile, retry-after in
/// milliseconds), as logged under `error.detail`; [`crate::replay`] rebuilds the error from them.
pub fn error_detail(e: &LlmError) -> Value {
    use LlmError::*;
    let (provider, message) = match e {
        Authentication { provider, message }
        | PermissionDenied { provider, message }
        | ModelNotFound {
            provider, message, ..
        }
        | ModelNotEnabled {
            provider, message, ..
        }
        | NeedsInferenceProfile {
            provider, message, ..
        }
        | Validation { provider, message }
        | RateLimited {
            provider, message, ..
        }
        | Unavailable { provider, message }
        | Timeout { provider, message }
        | ContextTooLong { provider, message }
        | StreamBroken {
            provider, message, ..
        }
        | Model { provider, message }
        | Transport { provider, message }
        | Config { provider, message } => (provider, message),
    };
    let mut detail = serde_json::json!({"provider": provider, "message": message});
    match e {
        ModelNotFound { model, .. } | ModelNotEnabled { model, .. } => {
            detail["model"] = Value::String(model.clone());
        }
        NeedsInferenceProfile { model, profile, .. } => {
            detail["model"] = Value::String(model.clone());
            detail["profile"] = Value::String(profile.clone());
        }
        RateLimited {
            retry_after: Some(d),
            ..
        } => {
            detail["retry_after_ms"] = Value::from(d.as_millis() as u64);
        }
        _ => {}
    }
    detail
}

/// An append-only JSONL log.
pub struct InteractionLog {
    path: PathBuf,
    file: Mutex<BufWriter<File>>,
    secrets: Vec<String>,
    /// Written as `"athlete"` on every line, so one log serves a roster and `logs --athlete`
    /// can tell whose calls were whose.
    athlete: Option<String>,
}

impl InteractionLog {
    /// Open (create) `dir/interactions.jsonl` for appending.
    pub fn open(dir: &Path) -> Result<Self, LogError> {
        let path = dir.join("interactions.jsonl");
        std::fs::create_dir_all(dir).map_err(|source| LogError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| LogError::Io {
                path: path.clone(),
                source,
            })?;
        let secrets = crate::registry::secret_env_vars()
            .filter_map(|v| std::env::var(v).ok())
            .filter(|s| s.len() >= 8)
            .collect();
        Ok(Self {
            path,
            file: Mutex::new(BufWriter::new(file)),
            secrets,
            athlete: None,
        })
    }

    /// Name the athlete the following calls are for (written on each line).
    pub fn set_athlete(&mut self, name: &str) {
        self.athlete = Some(name.to_string());
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Also scrub this value (e.g. a key read from the config file).
    pub fn add_secret(&mut self, secret: &str) {
        if secret.len() >= 8 {
            self.secrets.push(secret.to_string());
        }
    }

    /// Append one entry (scrubbed) and flush, so a crash loses at most the current call.
    pub fn record(&self, entry: &LogEntry) -> Result<(), LogError> {
        self.append(entry)
    }

    /// Append an event that is not a model call (an MCP tool call, a refused HTTP request),
    /// scrubbed like every line. The event must carry a `kind` field: readers of the log
    /// ([`is_model_call`]) tell model calls from events by it.
    pub fn record_event<E: Serialize>(&self, event: &E) -> Result<(), LogError> {
        self.append(event)
    }

    fn append<E: Serialize>(&self, entry: &E) -> Result<(), LogError> {
        let as_io = |e: serde_json::Error| LogError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        };
        let line = match &self.athlete {
            None => serde_json::to_string(entry).map_err(as_io)?,
            Some(name) => {
                let mut v = serde_json::to_value(entry).map_err(as_io)?;
                v["athlete"] = Value::String(name.clone());
                serde_json::to_string(&v).map_err(as_io)?
            }
        };
        // The line and its newline in one write: several logs (a roster's reports) append to the
        // same file at once, and O_APPEND keeps one write's bytes together.
        let mut line = scrub(&line, &self.secrets);
        line.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let io = |source| LogError::Io {
            path: self.path.clone(),
            source,
        };
        f.write_all(line.as_bytes()).map_err(io)?;
        f.flush().map_err(io)
    }
}

/// Whether a parsed log line is a model call ([`LogEntry`]) rather than an event written by
/// [`InteractionLog::record_event`] (which carries a `kind`).
pub fn is_model_call(line: &Value) -> bool {
    line.get("kind").is_none()
}

/// Remove secrets from a log line: known values, AWS access key ids (`AKIA…`/`ASIA…` + 16
/// upper-case alphanumerics), `AWS4-HMAC-SHA256 …` / `Bearer …` authorization values,
/// `sk-…` API keys and Google `AIza…` keys.
pub fn scrub(line: &str, secrets: &[String]) -> String {
    let mut out = line.to_string();
    for s in secrets {
        out = out.replace(s.as_str(), REDACTED);
        // The secret may appear JSON-escaped (e.g. a `/` or `"` inside it).
        let escaped = serde_json::to_string(s).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        if escaped != s {
            out = out.replace(escaped, REDACTED);
        }
    }
    let chars: Vec<char> = out.chars().collect();
    let mut result = String::with_capacity(out.len());
    let mut i = 0;
    let token_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '+' | '=' | '.');
    'outer: while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 20)].iter().collect();
        // AWS access key id.
        if (rest.starts_with("AKIA") || rest.starts_with("ASIA"))
            && rest.len() == 20
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            result.push_str(REDACTED);
            i += 20;
            continue;
        }
        // Provider API keys (`sk-ant-…`, `sk-proj-…`, `sk-…`) of a plausible length.
        if rest.starts_with("sk-") {
            let len = chars[i..].iter().take_while(|c| token_char(**c)).count();
            if len >= 20 {
                result.push_str(REDACTED);
                i += len;
                continue;
            }
        }
        // Google API keys: `AIza` + 35 URL-safe characters.
        if rest.starts_with("AIza") {
            let len = chars[i..].iter().take_while(|c| token_char(**c)).count();
            if len >= 39 {
                result.push_str(REDACTED);
                i += len;
                continue;
            }
        }
        // Authorization values: everything up to the end of the JSON string.
        for scheme in ["AWS4-HMAC-SHA256 ", "Bearer "] {
            if rest.starts_with(scheme) {
                let len = chars[i..].iter().take_while(|c| **c != '"').count();
                result.push_str(scheme);
                result.push_str(REDACTED);
                i += len;
                continue 'outer;
            }
        }
        result.push(chars[i]);
        i += 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_keys_and_auth_values() {
        let line = r#"{"g":"AIzaSyFAKEfakeFAKEfake0123456789DoNotLog","a":"key AKIAFAKEFAKEFAKE7777 x","h":"Bearer abc.def-ghi","k":"sk-ant-api03-abcdefghijklmnopqrstuvwxyz","s":"my/secret\"value","ok":"AKIA is fine"}"#;
        let out = scrub(line, &["my/secret\"value".to_string()]);
        assert!(!out.contains("AKIAFAKEFAKEFAKE7777"), "{out}");
        assert!(!out.contains("AIzaSy"), "{out}");
        assert!(!out.contains("abc.def-ghi"), "{out}");
        assert!(!out.contains("sk-ant-api03"), "{out}");
        assert!(!out.contains("my/secret"), "{out}");
        assert!(out.contains("AKIA is fine"), "{out}");
        assert!(out.contains(r#""h":"Bearer [REDACTED]""#), "{out}");
        assert!(
            serde_json::from_str::<Value>(&out).is_ok(),
            "scrubbed line is still JSON: {out}"
        );
    }
}
