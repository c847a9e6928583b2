//! OpenAI Chat Completions on loopback: `POST /v1/chat/completions` with `Authorization: Bearer`,
//! the documented request rules answered with the API's status codes and
//! `{"error": {"message", "type", "param", "code"}}` bodies, and answers streamed as
//! `chat.completion.chunk` SSE data lines ending in `data: [DONE]` (with the usage chunk when
//! `stream_options.include_usage` was asked for).

use serde_json::{Value, json};

use super::fake_bedrock::{Block, ModelReply};
use super::sse_fake::{RecordedHttp, Rejection, SseFake, SseReply, Wire, pieces, simple_name};
use crate::catalog::Catalog;

/// An obviously fake key in the shape of a real project key.
pub const OPENAI_TEST_KEY: &str = "sk-proj-FAKEfakeFAKEfake0123456789DoNotLogBB";

/// The OpenAI wire format, as OpenAI's API speaks it or as a compatible server does.
#[derive(Debug, Clone, Default)]
pub struct OpenAiWire {
    pub compat: Option<CompatServer>,
}

/// OpenAI-compatible servers whose differences from the API were seen on real servers (a 0.5B
/// GGUF behind each). Both serve any model name and need no key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompatServer {
    /// llama-cpp-python 0.3.x: refuses `response_format: json_schema` with HTTP 500 carrying a
    /// pydantic validation error, refuses an assistant message whose `content` is `null`
    /// (leaving the key out is accepted), and streams no usage even when asked.
    LlamaCppPython,
    /// llama.cpp's `llama-server`: `tool_choice` must be a string ("auto", "required",
    /// "none"); an object is refused with "type must be string".
    LlamaServer,
}

pub type FakeOpenAi = SseFake<OpenAiWire>;

/// Start a fake that accepts [`OPENAI_TEST_KEY`]. Point the provider at `endpoint() + "/v1"`.
pub async fn start() -> FakeOpenAi {
    SseFake::start(OpenAiWire::default(), OPENAI_TEST_KEY).await
}

/// Start a fake that behaves like the compatible `server`.
pub async fn start_as(server: CompatServer) -> FakeOpenAi {
    SseFake::start(
        OpenAiWire {
            compat: Some(server),
        },
        OPENAI_TEST_KEY,
    )
    .await
}

/// The compatible servers' own refusals, checked before the API's rules.
fn check_compat(server: CompatServer, b: &Value) -> Result<(), Rejection> {
    match server {
        CompatServer::LlamaCppPython => {
            if b["response_format"]["type"] == "json_schema" {
                // What llama-cpp-python 0.3.x answers: its pydantic model knows only
                // `text` and `json_object`, and the error surfaces as a 500.
                return Err((
                    500,
                    error_body(
                        // Verbatim from llama-cpp-python 0.3.36 (tests/openai_compatible/run.sh).
                        "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"llama_cpp/server/app.py\", line 376, in create_chat_completion\n    POST /v1/chat/completions",
                        "internal_server_error",
                        None,
                        None,
                    ),
                ));
            }
            let msgs = b["messages"].as_array().cloned().unwrap_or_default();
            for (n, m) in msgs.iter().enumerate() {
                if m["role"] == "assistant" && m.get("content").is_some_and(Value::is_null) {
                    return Err((
                        500,
                        error_body(
                            &format!(
                                "7 validation errors:\n  {{'type': 'string_type', 'loc': ('body', 'messages', {n}, 'ChatCompletionRequestAssistantMessage', 'content'), 'msg': 'Input should be a valid string', 'input': None}}"
                            ),
                            "internal_server_error",
                            None,
                            None,
                        ),
                    ));
                }
            }
        }
        CompatServer::LlamaServer => {
            if let Some(tc) = b.get("tool_choice")
                && !tc.is_string()
            {
                return Err((
                    400,
                    json!({"error": {"code": 400, "message": "[json.exception.type_error.302] type must be string, but is object", "type": "invalid_request_error"}}).to_string(),
                ));
            }
        }
    }
    Ok(())
}

pub fn error_body(
    message: &str,
    error_type: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> String {
    json!({"error": {"message": message, "type": error_type, "param": param, "code": code}})
        .to_string()
}

pub fn error(status: u16, message: &str, error_type: &str, code: Option<&str>) -> SseReply {
    SseReply::Error {
        status,
        body: error_body(message, error_type, None, code),
        headers: vec![("x-request-id".into(), "req_fake".into())],
    }
}

pub fn rate_limited(retry_after_ms: &str) -> SseReply {
    error(
        429,
        "Rate limit reached for gpt-4o in organization org-fake on tokens per min (TPM): Limit 30000, Used 30000, Requested 10.",
        "tokens",
        Some("rate_limit_exceeded"),
    )
    .with_header("retry-after-ms", retry_after_ms)
}

pub fn unavailable() -> SseReply {
    error(
        503,
        "The server is overloaded or not ready yet.",
        "server_error",
        None,
    )
}

/// A `data:` line as the API writes it.
pub fn data(v: &Value) -> String {
    format!("data: {v}\n\n")
}

/// The API's refusal of tool calls left without a `tool` message (checked both when the next
/// non-tool message arrives and at the end of the history).
fn unanswered_calls(pending: &[String]) -> Rejection {
    invalid(
        format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            pending.join(", ")
        ),
        Some("messages"),
        None,
    )
}

fn invalid(message: impl Into<String>, param: Option<&str>, code: Option<&str>) -> Rejection {
    (
        400,
        error_body(&message.into(), "invalid_request_error", param, code),
    )
}

/// Models that only take `max_completion_tokens` (reasoning models).
fn needs_max_completion_tokens(model: &str) -> bool {
    model.starts_with("gpt-5") || model.starts_with('o')
}

/// `sk-proj-****abcd`, the way the API echoes a wrong key.
fn masked(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let head: String = key.chars().take(8).collect();
    format!("{head}****{tail}")
}

impl Wire for OpenAiWire {
    fn check(&self, req: &RecordedHttp, api_key: &str, extra: &[String]) -> Result<(), Rejection> {
        if let Some(server) = self.compat
            && req.path == "/v1/chat/completions"
        {
            check_compat(server, &req.body)?;
            return check_tools(&req.body).and_then(|()| check_messages(&req.body));
        }
        if req.path != "/v1/chat/completions" {
            return Err((
                404,
                error_body(
                    &format!("Invalid URL (POST {})", req.path),
                    "invalid_request_error",
                    None,
                    None,
                ),
            ));
        }
        match req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
        {
            Some(k) if k == api_key => {}
            Some(k) => {
                return Err((
                    401,
                    error_body(
                        &format!(
                            "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
                            masked(k)
                        ),
                        "invalid_request_error",
                        None,
                        Some("invalid_api_key"),
                    ),
                ));
            }
            None => {
                return Err((
                    401,
                    error_body(
                        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                        "invalid_request_error",
                        None,
                        None,
                    ),
                ));
            }
        }
        let b = &req.body;
        if !b.is_object() {
            return Err(invalid(
                "We could not parse the JSON body of your request.",
                None,
                None,
            ));
        }
        let Some(model) = b["model"].as_str() else {
            return Err(invalid("you must provide a model parameter", None, None));
        };
        let known =
            extra.iter().any(|m| m == model) || Catalog::builtin().find("openai", model).is_some();
        if !known {
            return Err((
                404,
                error_body(
                    &format!("The model `{model}` does not exist or you do not have access to it."),
                    "invalid_request_error",
                    None,
                    Some("model_not_found"),
                ),
            ));
        }
        if b["stream"] != json!(true) {
            if b.get("stream_options").is_some() {
                return Err(invalid(
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                    Some("stream_options"),
                    None,
                ));
            }
            return Err(invalid(
                "fake OpenAI: only streaming requests (`stream: true`) are scripted",
                Some("stream"),
                None,
            ));
        }
        if b.get("max_tokens").is_some() && needs_max_completion_tokens(model) {
            return Err(invalid(
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                Some("max_tokens"),
                Some("unsupported_parameter"),
            ));
        }
        check_tools(b)?;
        check_messages(b)
    }

    fn frames(&self, reply: &ModelReply, request: &Value) -> Vec<String> {
        let requested = request["model"].as_str().unwrap_or("");
        // The API answers with the dated snapshot behind an alias.
        let model = reply.invoked_model.clone().unwrap_or_else(|| {
            Catalog::builtin()
                .find("openai", requested)
                .map(|e| e.id.clone())
                .unwrap_or_else(|| requested.to_string())
        });
        let usage_requested = request["stream_options"]["include_usage"] == json!(true)
            && self.compat != Some(CompatServer::LlamaCppPython);
        let chunk = |delta: Value, finish: Value| {
            let mut c = json!({
                "id": "chatcmpl-fake01", "object": "chat.completion.chunk", "created": 1_764_000_000,
                "model": model, "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
            });
            if usage_requested {
                c["usage"] = Value::Null;
            }
            data(&c)
        };
        let has_text = reply
            .blocks
            .iter()
            .any(|b| matches!(b, Block::Text(t) if !t.is_empty()));
        let first_content = if has_text || reply.empty_text_delta_before_tools {
            json!("")
        } else {
            Value::Null
        };
        let mut f = vec![chunk(
            json!({"role": "assistant", "content": first_content, "refusal": null}),
            Value::Null,
        )];
        let mut call_index = 0;
        for block in &reply.blocks {
            match block {
                Block::Text(t) => {
                    for p in pieces(t, reply.chunk) {
                        f.push(chunk(json!({"content": p}), Value::Null));
                    }
                }
                Block::ToolUse {
                    id,
                    name,
                    raw_input,
                } => {
                    f.push(chunk(
                        json!({"tool_calls": [{"index": call_index, "id": id, "type": "function",
                               "function": {"name": name, "arguments": ""}}]}),
                        Value::Null,
                    ));
                    for p in pieces(raw_input, reply.chunk) {
                        f.push(chunk(
                            json!({"tool_calls": [{"index": call_index, "function": {"arguments": p}}]}),
                            Value::Null,
                        ));
                    }
                    call_index += 1;
                }
            }
        }
        let finish = match reply.stop_reason.as_str() {
            "end_turn" | "stop_sequence" => "stop",
            "tool_use" => "tool_calls",
            "max_tokens" => "length",
            "content_filtered" | "guardrail_intervened" => "content_filter",
            other => other,
        };
        f.push(chunk(json!({}), json!(finish)));
        if usage_requested {
            let cached = reply.cache_read.unwrap_or(0);
            let prompt = reply.input_tokens + cached;
            f.push(data(&json!({
                "id": "chatcmpl-fake01", "object": "chat.completion.chunk", "created": 1_764_000_000,
                "model": model, "system_fingerprint": "fp_fake", "choices": [],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": reply.output_tokens,
                    "total_tokens": prompt + reply.output_tokens,
                    "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
                },
            })));
        }
        f.push("data: [DONE]\n\n".to_string());
        f
    }
}

fn check_tools(b: &Value) -> Result<(), Rejection> {
    let tools = b.get("tools").and_then(Value::as_array);
    for (i, t) in tools.into_iter().flatten().enumerate() {
        if t["type"] != "function" {
            return Err(invalid(
                format!(
                    "Invalid value: '{}'. Supported values are: 'function' and 'custom'.",
                    t["type"]
                ),
                Some(&format!("tools[{i}].type")),
                Some("invalid_value"),
            ));
        }
        if !simple_name(t["function"]["name"].as_str().unwrap_or("")) {
            return Err(invalid(
                format!(
                    "Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."
                ),
                Some(&format!("tools[{i}].function.name")),
                Some("invalid_value"),
            ));
        }
    }
    if let Some(tc) = b.get("tool_choice") {
        if tools.is_none_or(|t| t.is_empty()) {
            return Err(invalid(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                Some("tool_choice"),
                None,
            ));
        }
        let ok = matches!(tc.as_str(), Some("auto" | "required" | "none"))
            || (tc["type"] == "function" && tc["function"]["name"].is_string());
        if !ok {
            return Err(invalid(
                "Invalid value for 'tool_choice'.",
                Some("tool_choice"),
                Some("invalid_value"),
            ));
        }
    }
    Ok(())
}

fn check_messages(b: &Value) -> Result<(), Rejection> {
    let empty = Vec::new();
    let msgs = b["messages"].as_array().unwrap_or(&empty);
    if msgs.is_empty() {
        return Err(invalid(
            "[] is too short - 'messages'",
            Some("messages"),
            None,
        ));
    }
    // Tool-call ids still waiting for their `tool` message.
    let mut pending: Vec<String> = Vec::new();
    for (n, m) in msgs.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or("");
        if role != "tool" && !pending.is_empty() {
            return Err(unanswered_calls(&pending));
        }
        match role {
            "system" | "developer" | "user" => {
                if !m["content"].is_string() && !m["content"].is_array() {
                    return Err(invalid(
                        format!(
                            "Invalid value for 'content': expected a string, got {}.",
                            m["content"]
                        ),
                        Some(&format!("messages.[{n}].content")),
                        None,
                    ));
                }
            }
            "assistant" => {
                let calls = m["tool_calls"].as_array();
                if m["content"].is_null() && calls.is_none_or(|c| c.is_empty()) {
                    return Err(invalid(
                        "Invalid value for 'content': expected a string, got null.",
                        Some(&format!("messages.[{n}].content")),
                        None,
                    ));
                }
                for (k, c) in calls.into_iter().flatten().enumerate() {
                    if !c["function"]["arguments"].is_string() {
                        return Err(invalid(
                            format!(
                                "Invalid type for 'messages[{n}].tool_calls[{k}].function.arguments': expected a string, but got an object instead."
                            ),
                            Some(&format!(
                                "messages.[{n}].tool_calls.[{k}].function.arguments"
                            )),
                            Some("invalid_type"),
                        ));
                    }
                    pending.push(c["id"].as_str().unwrap_or("").to_string());
                }
            }
            "tool" => {
                let id = m["tool_call_id"].as_str().unwrap_or("");
                match pending.iter().position(|p| p == id) {
                    Some(i) => {
                        pending.remove(i);
                    }
                    None => {
                        return Err(invalid(
                            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                            Some(&format!("messages.[{n}].role")),
                            None,
                        ));
                    }
                }
            }
            other => {
                return Err(invalid(
                    format!(
                        "Invalid value: '{other}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."
                    ),
                    Some(&format!("messages[{n}].role")),
                    Some("invalid_value"),
                ));
            }
        }
    }
    if !pending.is_empty() {
        return Err(unanswered_calls(&pending));
    }
    Ok(())
}
