//! Ollama on loopback: `POST /api/chat`, the server's request rules answered with its status
//! codes and `{"error": "…"}` bodies, and answers streamed as `application/x-ndjson` lines
//! (tool calls whole in one line, the counts and durations in the final `done: true` line).
//!
//! Fault injection: arguments are an object on the wire, so a scripted malformed argument
//! string is sent as a JSON string in `arguments`; an empty one is sent as `{}`.

use serde_json::{Value, json};

use super::fake_bedrock::{Block, ModelReply};
use super::sse_fake::{RecordedHttp, Rejection, SseFake, SseReply, Wire, pieces};
use crate::catalog::Catalog;

/// The Ollama wire format.
#[derive(Debug, Clone, Default)]
pub struct OllamaWire;

pub type FakeOllama = SseFake<OllamaWire>;

/// Start a fake Ollama (no key: the server has none).
pub async fn start() -> FakeOllama {
    SseFake::start(OllamaWire, "").await
}

pub fn error_body(message: &str) -> String {
    json!({ "error": message }).to_string()
}

pub fn error(status: u16, message: &str) -> SseReply {
    SseReply::Error {
        status,
        body: error_body(message),
        headers: Vec::new(),
    }
}

/// The queue-full answer (`OLLAMA_MAX_QUEUE` exceeded).
pub fn busy() -> SseReply {
    error(
        503,
        "server busy, please try again.  maximum pending requests exceeded",
    )
}

/// One NDJSON line.
pub fn line(v: &Value) -> String {
    format!("{v}\n")
}

fn bad(message: impl Into<String>) -> Rejection {
    (400, error_body(&message.into()))
}

impl Wire for OllamaWire {
    /// `GET /api/tags`: the local models, here the catalog's Ollama ids and the allowed extras.
    fn fixed_answer(&self, req: &RecordedHttp, extra: &[String]) -> Option<(u16, String)> {
        (req.path == "/api/tags").then(|| {
            let names = Catalog::builtin()
                .models
                .into_iter()
                .filter(|m| m.provider == "ollama")
                .map(|m| m.id)
                .chain(extra.iter().cloned());
            let models: Vec<Value> = names.map(|n| json!({"name": n, "model": n})).collect();
            (200, json!({ "models": models }).to_string())
        })
    }

    fn check(&self, req: &RecordedHttp, _api_key: &str, extra: &[String]) -> Result<(), Rejection> {
        if req.path != "/api/chat" {
            return Err((404, error_body("404 page not found")));
        }
        let b = &req.body;
        if !b.is_object() {
            return Err(bad("invalid character 'x' looking for beginning of value"));
        }
        let Some(model) = b["model"].as_str().filter(|m| !m.is_empty()) else {
            return Err(bad("model is required"));
        };
        let known =
            extra.iter().any(|m| m == model) || Catalog::builtin().find("ollama", model).is_some();
        if !known {
            return Err((
                404,
                error_body(&format!(
                    "model \"{model}\" not found, try pulling it first"
                )),
            ));
        }
        if b["stream"] != json!(true) {
            return Err(bad(
                "fake Ollama: only streaming requests (`stream: true`) are scripted",
            ));
        }
        if let Some(o) = b.get("options")
            && !o.is_object()
        {
            return Err(bad(
                "json: cannot unmarshal array into Go struct field ChatRequest.options of type map[string]interface {}",
            ));
        }
        if let Some(f) = b.get("format")
            && !(f == "json" || f.is_object())
        {
            return Err(bad(format!("invalid format: {f}")));
        }
        for (i, t) in b["tools"].as_array().into_iter().flatten().enumerate() {
            if t["type"] != "function" || !t["function"]["name"].is_string() {
                return Err(bad(format!(
                    "invalid tool at index {i}: a tool needs `type: function` and a function name"
                )));
            }
        }
        let empty = Vec::new();
        let msgs = b["messages"].as_array().unwrap_or(&empty);
        for (n, m) in msgs.iter().enumerate() {
            let role = m["role"].as_str().unwrap_or("");
            if !["system", "user", "assistant", "tool"].contains(&role) {
                return Err(bad(format!(
                    "invalid role `{role}` in message {n}: must be system, user, assistant or tool"
                )));
            }
            if m.get("content").is_some_and(|c| !c.is_string()) {
                return Err(bad(
                    "json: cannot unmarshal array into Go struct field Message.messages.content of type string",
                ));
            }
            for c in m["tool_calls"].as_array().into_iter().flatten() {
                if !c["function"]["arguments"].is_object() {
                    return Err(bad(
                        "json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments",
                    ));
                }
            }
        }
        Ok(())
    }

    fn frames(&self, reply: &ModelReply, request: &Value) -> Vec<String> {
        let model = reply.model_or(request["model"].as_str().unwrap_or(""));
        let at = "2026-11-20T10:00:00.000000Z";
        let chunk = |message: Value| {
            line(&json!({"model": model, "created_at": at, "message": message, "done": false}))
        };
        let mut f = Vec::new();
        let mut calls = Vec::new();
        for block in &reply.blocks {
            match block {
                Block::Text(t) => {
                    for p in pieces(t, reply.chunk) {
                        f.push(chunk(json!({"role": "assistant", "content": p})));
                    }
                }
                Block::ToolUse {
                    name, raw_input, ..
                } => {
                    let arguments = match serde_json::from_str::<Value>(raw_input) {
                        Ok(v @ Value::Object(_)) => v,
                        _ if raw_input.is_empty() => json!({}),
                        _ => json!(raw_input),
                    };
                    calls.push(json!({"function": {"name": name, "arguments": arguments}}));
                }
            }
        }
        if !calls.is_empty() {
            if reply.empty_text_delta_before_tools {
                f.push(chunk(json!({"role": "assistant", "content": ""})));
            }
            f.push(chunk(
                json!({"role": "assistant", "content": "", "tool_calls": calls}),
            ));
        }
        let reason = match reply.stop_reason.as_str() {
            "max_tokens" => "length",
            _ => "stop",
        };
        f.push(line(&json!({
            "model": model, "created_at": at,
            "message": {"role": "assistant", "content": ""},
            "done": true, "done_reason": reason,
            "total_duration": reply.latency_ms * 1_000_000,
            "load_duration": 12_000_000u64,
            "prompt_eval_count": reply.input_tokens,
            "prompt_eval_duration": 50_000_000u64,
            "eval_count": reply.output_tokens,
            "eval_duration": 200_000_000u64,
        })));
        f
    }

    fn content_type(&self) -> &'static str {
        "application/x-ndjson"
    }
}
