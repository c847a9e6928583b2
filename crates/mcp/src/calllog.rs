//! What the server writes to the interaction log (`interactions.jsonl` in the data directory,
//! beside the model calls): one line per tool call (which client, which tool and athlete, when,
//! how long, how large the result) and one per refused HTTP request. Never stdout: on the stdio
//! transport stdout carries the protocol.

use std::path::Path;

use llm::log::InteractionLog;
use serde::Serialize;
use serde_json::Value;

pub const TOOL_CALL_KIND: &str = "mcp_tool_call";
pub const REFUSAL_KIND: &str = "mcp_http_refused";

/// One tool call made through MCP.
#[derive(Debug, Serialize)]
pub struct ToolCall<'a> {
    pub kind: &'static str,
    /// RFC 3339 UTC time the call finished.
    pub time: String,
    pub transport: &'a str,
    /// The client's name and version from `initialize` ("unknown" when it gave none).
    pub client: &'a str,
    pub client_version: Option<&'a str>,
    pub tool: &'a str,
    pub athlete: Option<&'a str>,
    pub arguments: &'a Value,
    /// "ok", "preview", "applied" or "error".
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    /// Bytes of the result's JSON (structured content, or the error text).
    pub result_bytes: usize,
    pub duration_ms: u64,
}

/// A request the HTTP transport refused before it reached the server.
#[derive(Debug, Serialize)]
pub struct Refusal<'a> {
    pub kind: &'static str,
    pub time: String,
    pub status: u16,
    pub reason: &'a str,
    pub peer: String,
    pub method: &'a str,
    pub path: &'a str,
    pub origin: Option<&'a str>,
}

pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// The interaction log of `data_dir`; `None` (with a warning on stderr) when it cannot be
/// opened: the server still serves, it just cannot log.
pub fn open(data_dir: &Path) -> Option<InteractionLog> {
    match InteractionLog::open(data_dir) {
        Ok(log) => Some(log),
        Err(e) => {
            eprintln!("warning: {e}; MCP tool calls are not logged");
            None
        }
    }
}

pub fn write<E: Serialize>(log: Option<&InteractionLog>, event: &E) {
    if let Some(log) = log
        && let Err(e) = log.record_event(event)
    {
        eprintln!("warning: {e}");
    }
}
