//! The replay provider: answers from a recorded interaction log ([`crate::log`]) instead of a
//! model, to reproduce a session without network access and to drive tests.
//!
//! Calls are answered in the order they were recorded. Each request is checked against its
//! recording — the same model requested, the same last user message — so a replay that drifts
//! (different question, different tool results) fails at once with the entry that differs
//! instead of answering the wrong question.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use futures::stream;
use serde::Deserialize;
use serde_json::Value;

use crate::error::LlmError;
use crate::log::scrub;
use crate::provider::{EventStream, Provider};
use crate::types::{
    MalformedToolCall, Message, Request, Role, StopReason, StreamEvent, ToolCall, Usage,
};

const PROVIDER: &str = "replay";
/// Text is given back in pieces of this many characters, so a replayed answer streams.
const DELTA_CHARS: usize = 24;

/// One line of the log, as far as replay needs it.
#[derive(Deserialize)]
struct LoggedCall {
    model_requested: String,
    model_used: Option<String>,
    request: LoggedRequest,
    response: Option<LoggedResponse>,
    usage: Option<Usage>,
    latency_ms: Option<u64>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct LoggedRequest {
    #[serde(default)]
    messages: Vec<Value>,
}

#[derive(Deserialize)]
struct LoggedResponse {
    #[serde(default)]
    text: String,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    #[serde(default)]
    malformed_tool_calls: Vec<MalformedToolCall>,
    stop_reason: StopReason,
    /// Ids of all calls in the order the model made them, when the writer recorded it (the
    /// agent loop does); otherwise valid calls are given back before malformed ones.
    #[serde(default)]
    call_order: Vec<String>,
}

/// A recorded call, ready to be given back.
#[derive(Debug, Clone)]
struct Recorded {
    /// 1-based line of the log.
    line: usize,
    model_requested: String,
    last_user: Option<Value>,
    answer: Result<RecordedAnswer, LlmError>,
}

#[derive(Debug, Clone)]
struct RecordedAnswer {
    text: String,
    tool_calls: Vec<ToolCall>,
    malformed: Vec<MalformedToolCall>,
    call_order: Vec<String>,
    stop_reason: StopReason,
    usage: Usage,
    latency: Option<Duration>,
    model_used: String,
}

/// A provider that answers from a recorded interaction log.
#[derive(Debug)]
pub struct ReplayProvider {
    path: PathBuf,
    calls: Vec<Recorded>,
    next: Mutex<usize>,
}

fn config_error(message: String) -> LlmError {
    LlmError::Config {
        provider: PROVIDER.into(),
        message,
    }
}

impl ReplayProvider {
    /// Read a log: the `interactions.jsonl` file itself, or the directory holding it. Every
    /// line must be a log entry; blank lines are skipped.
    pub fn from_log(path: &Path) -> Result<ReplayProvider, LlmError> {
        let path = if path.is_dir() {
            path.join("interactions.jsonl")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| config_error(format!("cannot read replay log {}: {e}", path.display())))?;
        let mut calls = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            // Events logged beside the model calls (MCP tool calls) are not replayed.
            if serde_json::from_str::<Value>(line).is_ok_and(|v| !crate::log::is_model_call(&v)) {
                continue;
            }
            let logged: LoggedCall = serde_json::from_str(line).map_err(|e| {
                config_error(format!(
                    "replay log {} line {}: not an interaction-log entry: {e}",
                    path.display(),
                    i + 1
                ))
            })?;
            calls.push(recorded(logged, i + 1).map_err(|m| {
                config_error(format!("replay log {} line {}: {m}", path.display(), i + 1))
            })?);
        }
        Ok(ReplayProvider {
            path,
            calls,
            next: Mutex::new(0),
        })
    }

    /// The log file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Recorded calls in all.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Recorded calls not given back yet.
    pub fn remaining(&self) -> usize {
        self.calls.len() - *self.next.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The model the first recorded call asked for (a default for `--model` when replaying).
    pub fn first_model(&self) -> Option<&str> {
        self.calls.first().map(|c| c.model_requested.as_str())
    }

    fn mismatch(&self, n: usize, rec: &Recorded, what: String) -> LlmError {
        LlmError::Validation {
            provider: PROVIDER.into(),
            message: format!(
                "replay log {} entry {n} (line {}): {what}",
                self.path.display(),
                rec.line
            ),
        }
    }
}

fn recorded(logged: LoggedCall, line: usize) -> Result<Recorded, String> {
    let last_user = logged
        .request
        .messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .cloned();
    let answer = match (logged.response, logged.error) {
        (Some(r), _) => Ok(RecordedAnswer {
            text: r.text,
            tool_calls: r.tool_calls,
            malformed: r.malformed_tool_calls,
            call_order: r.call_order,
            stop_reason: r.stop_reason,
            usage: logged.usage.unwrap_or_default(),
            latency: logged.latency_ms.map(Duration::from_millis),
            model_used: logged
                .model_used
                .unwrap_or_else(|| logged.model_requested.clone()),
        }),
        (None, Some(e)) => Err(error_from_log(&e)),
        (None, None) => return Err("the entry has neither a response nor an error".into()),
    };
    Ok(Recorded {
        line,
        model_requested: logged.model_requested,
        last_user,
        answer,
    })
}

/// Rebuild a logged error: exactly, from `detail` (written by [`crate::log::error_detail`]);
/// from older entries without it, the same class with the logged message.
fn error_from_log(e: &Value) -> LlmError {
    let kind = e["kind"].as_str().unwrap_or("");
    let detail = &e["detail"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    let provider = s(&detail["provider"]).unwrap_or_else(|| PROVIDER.to_string());
    let message = s(&detail["message"])
        .or_else(|| s(&e["message"]))
        .unwrap_or_default();
    let model = s(&detail["model"]).unwrap_or_default();
    match kind {
        "authentication" => LlmError::Authentication { provider, message },
        "permission_denied" => LlmError::PermissionDenied { provider, message },
        "model_not_found" => LlmError::ModelNotFound {
            provider,
            model,
            message,
        },
        "model_not_enabled" => LlmError::ModelNotEnabled {
            provider,
            model,
            message,
        },
        "needs_inference_profile" => LlmError::NeedsInferenceProfile {
            provider,
            model,
            profile: s(&detail["profile"]).unwrap_or_default(),
            message,
        },
        "validation" => LlmError::Validation { provider, message },
        "rate_limited" => LlmError::RateLimited {
            provider,
            retry_after: detail["retry_after_ms"].as_u64().map(Duration::from_millis),
            message,
        },
        "unavailable" => LlmError::Unavailable { provider, message },
        "timeout" => LlmError::Timeout { provider, message },
        "context_too_long" => LlmError::ContextTooLong { provider, message },
        "stream_broken" => LlmError::StreamBroken {
            provider,
            partial_text: s(&e["partial_text"]).unwrap_or_default(),
            message,
        },
        "transport" => LlmError::Transport { provider, message },
        "config" => LlmError::Config { provider, message },
        _ => LlmError::Model { provider, message },
    }
}

/// The last user message of a request as the log would hold it (scrubbed the same way, so a
/// message that contained something key-shaped still matches its recording).
fn logged_form(m: &Message) -> Value {
    let line = serde_json::to_string(m).unwrap_or_default();
    serde_json::from_str(&scrub(&line, &[])).unwrap_or(Value::Null)
}

/// A short, readable rendering of a message for a mismatch error.
fn brief(v: &Value) -> String {
    let s = v["content"].to_string();
    let mut out: String = s.chars().take(160).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn events(a: &RecordedAnswer) -> Vec<Result<StreamEvent, LlmError>> {
    let mut ev = Vec::new();
    let chars: Vec<char> = a.text.chars().collect();
    for piece in chars.chunks(DELTA_CHARS) {
        ev.push(Ok(StreamEvent::TextDelta(piece.iter().collect())));
    }
    // (id, events of the call), valid calls first, then ordered as recorded when known.
    let mut calls: Vec<(&str, Vec<StreamEvent>)> = Vec::new();
    for c in &a.tool_calls {
        calls.push((
            &c.id,
            vec![
                StreamEvent::ToolCallStart {
                    id: c.id.clone(),
                    name: c.name.clone(),
                },
                StreamEvent::ToolCallArgsDelta {
                    id: c.id.clone(),
                    json: c.arguments.to_string(),
                },
                StreamEvent::ToolCallEnd { id: c.id.clone() },
            ],
        ));
    }
    for m in &a.malformed {
        let mut e = vec![
            StreamEvent::ToolCallStart {
                id: m.id.clone(),
                name: m.name.clone(),
            },
            StreamEvent::ToolCallArgsDelta {
                id: m.id.clone(),
                json: m.raw_arguments.clone(),
            },
        ];
        // Arguments that parse were malformed only because the call never ended: replay that.
        if crate::provider::parse_arguments(&m.raw_arguments).is_err() {
            e.push(StreamEvent::ToolCallEnd { id: m.id.clone() });
        }
        calls.push((&m.id, e));
    }
    // Stable: calls missing from the recorded order keep their place after the listed ones.
    calls.sort_by_key(|(id, _)| {
        a.call_order
            .iter()
            .position(|o| o == id)
            .unwrap_or(usize::MAX)
    });
    ev.extend(calls.into_iter().flat_map(|(_, e)| e).map(Ok));
    ev.push(Ok(StreamEvent::Usage(a.usage)));
    ev.push(Ok(StreamEvent::Done {
        stop_reason: a.stop_reason.clone(),
        latency: a.latency,
        model_used: a.model_used.clone(),
    }));
    ev
}

#[async_trait::async_trait]
impl Provider for ReplayProvider {
    fn name(&self) -> &str {
        PROVIDER
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError> {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let n = *next + 1;
        let Some(rec) = self.calls.get(*next) else {
            return Err(LlmError::Validation {
                provider: PROVIDER.into(),
                message: format!(
                    "replay log {} has {} calls; call {n} was requested",
                    self.path.display(),
                    self.calls.len()
                ),
            });
        };
        if request.model != rec.model_requested {
            return Err(self.mismatch(
                n,
                rec,
                format!(
                    "the recording asked model `{}`, this request asks `{}`",
                    rec.model_requested, request.model
                ),
            ));
        }
        let last_user = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(logged_form);
        if last_user != rec.last_user {
            let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), brief);
            return Err(self.mismatch(
                n,
                rec,
                format!(
                    "the last user message differs from the recording: recorded {}, requested {}",
                    show(&rec.last_user),
                    show(&last_user)
                ),
            ));
        }
        *next += 1;
        match &rec.answer {
            Ok(a) => Ok(Box::pin(stream::iter(events(a)))),
            Err(e @ LlmError::StreamBroken { partial_text, .. }) => {
                // The recorded call failed after output: give the output back, then the failure.
                let mut ev = Vec::new();
                if !partial_text.is_empty() {
                    ev.push(Ok(StreamEvent::TextDelta(partial_text.clone())));
                }
                ev.push(Err(e.clone()));
                Ok(Box::pin(stream::iter(ev)))
            }
            Err(e) => Err(e.clone()),
        }
    }
}
