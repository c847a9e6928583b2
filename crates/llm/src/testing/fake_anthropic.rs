//! The Anthropic Messages API on loopback: `POST /v1/messages` with `x-api-key` and
//! `anthropic-version`, the documented request rules answered with the API's status codes and
//! `{"type":"error","error":{…}}` bodies, and answers streamed as the API's SSE events
//! (`message_start`, `content_block_*`, `ping`, `message_delta`, `message_stop`).

use serde_json::{Value, json};

use super::fake_bedrock::{Block, ModelReply};
use super::sse_fake::{RecordedHttp, Rejection, SseFake, SseReply, Wire, pieces, simple_name};
use crate::catalog::Catalog;

/// An obviously fake key in the shape of a real one (so the log's pattern scrubber is tested).
pub const ANTHROPIC_TEST_KEY: &str = "sk-ant-api03-FAKEfakeFAKEfake-0123456789-DoNotLog-AA";

/// The Anthropic wire format.
#[derive(Debug, Clone, Default)]
pub struct AnthropicWire;

pub type FakeAnthropic = SseFake<AnthropicWire>;

impl AnthropicWire {
    /// The frames that stream `reply` for `model` (to build truncated or spliced streams).
    pub fn frames_for(&self, reply: &ModelReply, model: &str) -> Vec<String> {
        self.frames(reply, &json!({"model": model}))
    }
}

impl FakeAnthropic {
    /// An Anthropic provider on this fake: the test key, [`super::fast_http`]`(max_attempts)`
    /// and the built-in catalog.
    pub fn provider(&self, max_attempts: u32) -> crate::anthropic::AnthropicProvider {
        crate::anthropic::AnthropicProvider::new(
            ANTHROPIC_TEST_KEY,
            self.endpoint(),
            super::fast_http(max_attempts),
            std::sync::Arc::new(Catalog::builtin()),
        )
        .expect("a provider on the fake's endpoint")
    }
}

/// Start a fake that accepts [`ANTHROPIC_TEST_KEY`].
pub async fn start() -> FakeAnthropic {
    SseFake::start(AnthropicWire, ANTHROPIC_TEST_KEY).await
}

/// The API's error body.
pub fn error_body(error_type: &str, message: &str) -> String {
    json!({"type": "error", "error": {"type": error_type, "message": message}}).to_string()
}

/// An error reply with the API's body.
pub fn error(status: u16, error_type: &str, message: &str) -> SseReply {
    SseReply::Error {
        status,
        body: error_body(error_type, message),
        headers: vec![("request-id".into(), "req_fake".into())],
    }
}

pub fn rate_limited(retry_after_secs: &str) -> SseReply {
    error(
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
    )
    .with_header("retry-after", retry_after_secs)
}

pub fn overloaded() -> SseReply {
    error(529, "overloaded_error", "Overloaded")
}

/// An SSE frame as the API writes it.
pub fn frame(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

fn invalid(message: impl Into<String>) -> Rejection {
    (400, error_body("invalid_request_error", &message.into()))
}

fn known_model(model: &str, extra: &[String]) -> bool {
    extra.iter().any(|m| m == model) || Catalog::builtin().find("anthropic", model).is_some()
}

impl Wire for AnthropicWire {
    fn check(&self, req: &RecordedHttp, api_key: &str, extra: &[String]) -> Result<(), Rejection> {
        if req.path != "/v1/messages" {
            return Err((404, error_body("not_found_error", "Not Found")));
        }
        match req.header("x-api-key") {
            Some(k) if k == api_key => {}
            Some(_) => return Err((401, error_body("authentication_error", "invalid x-api-key"))),
            None => {
                return Err((
                    401,
                    error_body("authentication_error", "x-api-key header is required"),
                ));
            }
        }
        if req.header("anthropic-version").is_none() {
            return Err(invalid("anthropic-version: header is required"));
        }
        let b = &req.body;
        if !b.is_object() {
            return Err(invalid(
                "There was an error parsing the body of your request",
            ));
        }
        let Some(model) = b["model"].as_str() else {
            return Err(invalid("model: Field required"));
        };
        if !b["max_tokens"].is_u64() {
            return Err(invalid("max_tokens: Field required"));
        }
        if b["stream"] != json!(true) {
            return Err(invalid(
                "fake Anthropic: only streaming requests (`stream: true`) are scripted",
            ));
        }
        if !known_model(model, extra) {
            return Err((
                404,
                error_body("not_found_error", &format!("model: {model}")),
            ));
        }
        let xor = Catalog::builtin()
            .find("anthropic", model)
            .is_some_and(|e| e.capabilities.temperature_xor_top_p);
        if xor && b.get("temperature").is_some() && b.get("top_p").is_some() {
            return Err(invalid(
                "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
            ));
        }
        check_tools(b)?;
        check_messages(b)?;
        let marks = count_cache_marks(b);
        if marks > 4 {
            return Err(invalid(format!(
                "A maximum of 4 blocks with cache_control may be provided. Found {marks}."
            )));
        }
        Ok(())
    }

    fn frames(&self, reply: &ModelReply, request: &Value) -> Vec<String> {
        let model = reply.model_or(request["model"].as_str().unwrap_or(""));
        let mut f = vec![frame(
            "message_start",
            &json!({"type": "message_start", "message": {
            "id": "msg_fake01", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {
                "input_tokens": reply.input_tokens,
                "cache_creation_input_tokens": reply.cache_write.unwrap_or(0),
                "cache_read_input_tokens": reply.cache_read.unwrap_or(0),
                "output_tokens": 1,
            }}}),
        )];
        f.push(frame("ping", &json!({"type": "ping"})));
        let mut index = 0;
        for block in &reply.blocks {
            match block {
                Block::Text(t) => {
                    f.push(frame("content_block_start", &json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})));
                    for p in pieces(t, reply.chunk) {
                        f.push(frame("content_block_delta", &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}})));
                    }
                    f.push(frame(
                        "content_block_stop",
                        &json!({"type": "content_block_stop", "index": index}),
                    ));
                }
                Block::ToolUse {
                    id,
                    name,
                    raw_input,
                } => {
                    if reply.empty_text_delta_before_tools && index == 0 {
                        f.push(frame("content_block_start", &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})));
                        f.push(frame("content_block_delta", &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ""}})));
                        f.push(frame(
                            "content_block_stop",
                            &json!({"type": "content_block_stop", "index": 0}),
                        ));
                        index += 1;
                    }
                    f.push(frame("content_block_start", &json!({"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}})));
                    // A tool without arguments streams one empty fragment, as the API does.
                    let parts = if raw_input.is_empty() {
                        vec![String::new()]
                    } else {
                        pieces(raw_input, reply.chunk)
                    };
                    for p in parts {
                        f.push(frame("content_block_delta", &json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": p}})));
                    }
                    f.push(frame(
                        "content_block_stop",
                        &json!({"type": "content_block_stop", "index": index}),
                    ));
                }
            }
            index += 1;
        }
        let stop = match reply.stop_reason.as_str() {
            "content_filtered" => "refusal",
            other => other,
        };
        f.push(frame(
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
                    "usage": {"output_tokens": reply.output_tokens}}),
        ));
        f.push(frame("message_stop", &json!({"type": "message_stop"})));
        f
    }
}

fn check_tools(b: &Value) -> Result<(), Rejection> {
    let tools = b.get("tools").and_then(Value::as_array);
    for (i, t) in tools.into_iter().flatten().enumerate() {
        let name = t["name"].as_str().unwrap_or("");
        if !simple_name(name) {
            return Err(invalid(format!(
                "tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            )));
        }
        if !t["input_schema"].is_object() {
            return Err(invalid(format!(
                "tools.{i}.custom.input_schema: Field required"
            )));
        }
    }
    if let Some(tc) = b.get("tool_choice") {
        match tc["type"].as_str() {
            Some("auto" | "any" | "none") => {}
            Some("tool") => {
                let name = tc["name"].as_str().unwrap_or("");
                if !tools.into_iter().flatten().any(|t| t["name"] == name) {
                    return Err(invalid(format!(
                        "tool_choice.tool.name: Tool '{name}' not found in provided tools"
                    )));
                }
            }
            _ => {
                return Err(invalid(
                    "tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
                ));
            }
        }
    }
    Ok(())
}

fn block_ids<'a>(content: &'a [Value], kind: &str, field: &str) -> Vec<&'a str> {
    content
        .iter()
        .filter(|c| c["type"] == kind)
        .filter_map(|c| c[field].as_str())
        .collect()
}

fn check_messages(b: &Value) -> Result<(), Rejection> {
    let empty = Vec::new();
    let msgs = b["messages"].as_array().unwrap_or(&empty);
    if msgs.is_empty() {
        return Err(invalid("messages: at least one message is required"));
    }
    let mut prev: Option<&str> = None;
    for (n, m) in msgs.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or("");
        if role != "user" && role != "assistant" {
            return Err(invalid(format!(
                "messages.{n}.role: Input should be 'user' or 'assistant'"
            )));
        }
        if n == 0 && role != "user" {
            return Err(invalid(
                "messages: first message must use the \"user\" role",
            ));
        }
        if prev == Some(role) {
            return Err(invalid(format!(
                "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"{role}\" roles in a row"
            )));
        }
        prev = Some(role);
        let content: Vec<Value> = match &m["content"] {
            Value::String(s) => vec![json!({"type": "text", "text": s})],
            Value::Array(a) => a.clone(),
            _ => return Err(invalid(format!("messages.{n}.content: Field required"))),
        };
        if content.is_empty() {
            return Err(invalid(format!(
                "messages.{n}: all messages must have non-empty content except for the optional final assistant message"
            )));
        }
        let mut seen_other = false;
        for (k, c) in content.iter().enumerate() {
            match c["type"].as_str() {
                Some("text") => {
                    let t = c["text"].as_str().unwrap_or("");
                    if t.is_empty() {
                        return Err(invalid("messages: text content blocks must be non-empty"));
                    }
                    if t.trim().is_empty() {
                        return Err(invalid(
                            "messages: text content blocks must contain non-whitespace text",
                        ));
                    }
                    seen_other = true;
                }
                Some("tool_use") => {
                    if role != "assistant" {
                        return Err(invalid(format!(
                            "messages.{n}.content.{k}: tool_use blocks can only be in assistant messages"
                        )));
                    }
                    if !simple_name(c["id"].as_str().unwrap_or("")) {
                        return Err(invalid(format!(
                            "messages.{n}.content.{k}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
                        )));
                    }
                    if !c["input"].is_object() {
                        return Err(invalid(format!(
                            "messages.{n}.content.{k}.tool_use.input: Input should be a valid dictionary"
                        )));
                    }
                    seen_other = true;
                }
                Some("tool_result") => {
                    if seen_other {
                        return Err(invalid(format!(
                            "messages.{n}: tool_result blocks must come first in the user message content"
                        )));
                    }
                }
                other => {
                    return Err(invalid(format!(
                        "messages.{n}.content.{k}: unknown content block type {other:?}"
                    )));
                }
            }
        }
        // Every tool_use is answered in the next message, and every tool_result answers one.
        if role == "assistant" {
            let uses = block_ids(&content, "tool_use", "id");
            if !uses.is_empty() {
                let next: Vec<Value> = msgs
                    .get(n + 1)
                    .and_then(|m| m["content"].as_array().cloned())
                    .unwrap_or_default();
                let results = block_ids(&next, "tool_result", "tool_use_id");
                let missing: Vec<&str> = uses
                    .iter()
                    .copied()
                    .filter(|u| !results.contains(u))
                    .collect();
                if !missing.is_empty() {
                    return Err(invalid(format!(
                        "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                        n + 1,
                        missing.join(", ")
                    )));
                }
            }
        } else {
            let results = block_ids(&content, "tool_result", "tool_use_id");
            if !results.is_empty() {
                let prev_uses: Vec<Value> = n
                    .checked_sub(1)
                    .and_then(|p| msgs[p]["content"].as_array().cloned())
                    .unwrap_or_default();
                let uses = block_ids(&prev_uses, "tool_use", "id");
                let stray: Vec<&str> = results
                    .iter()
                    .copied()
                    .filter(|r| !uses.contains(r))
                    .collect();
                if !stray.is_empty() {
                    return Err(invalid(format!(
                        "messages.{n}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: {}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
                        stray.join(", ")
                    )));
                }
            }
        }
    }
    Ok(())
}

fn count_cache_marks(v: &Value) -> usize {
    match v {
        Value::Object(o) => {
            usize::from(o.contains_key("cache_control"))
                + o.values().map(count_cache_marks).sum::<usize>()
        }
        Value::Array(a) => a.iter().map(count_cache_marks).sum(),
        _ => 0,
    }
}
