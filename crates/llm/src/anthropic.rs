//! The Anthropic Messages API (`POST {base}/v1/messages`, streamed as SSE).
//!
//! The request follows the API's documented shape: a top-level `system`, `tools` with
//! `input_schema`, `tool_choice` `{type: auto|any|tool|none}`, tool results as `tool_result`
//! blocks in a user turn. Prompt caching puts `cache_control: {type: "ephemeral"}` on the system
//! prompt and on the last tool when the request's cache hints ask for it. Structured output is
//! obtained the documented way for this API: a forced tool whose input schema is the output
//! schema; its streamed input is reported as text.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::error::LlmError;
use crate::http::sse::SseEvent;
use crate::http::{
    AttemptCounter, Framing, HttpFailure, HttpSettings, JsonPost, KeyedEndpoint, SseDecoder,
    closing_events, stream_json_post,
};
use crate::provider::{EventStream, Provider};
use crate::registry::{self, Described, Diagnosis, FromSettings, KeyUse, ProviderSpec, Settings};
use crate::types::{Part, Request, Role, StopReason, StreamEvent, ToolChoice, ToolOutput, Usage};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The `anthropic-version` header value this client speaks.
pub const API_VERSION: &str = "2023-06-01";
const PROVIDER: &str = "anthropic";

/// Anthropic in the provider registry.
pub static SPEC: ProviderSpec = ProviderSpec {
    name: PROVIDER,
    local: false,
    credential_vars: &["ANTHROPIC_API_KEY"],
    key: KeyUse::Required,
    endpoint: registry::base_url(&["ANTHROPIC_BASE_URL"], DEFAULT_BASE_URL),
    // The Messages API takes temperatures from 0 to 1.
    settings: &[registry::MAX_TOKENS, registry::temperature(1.0)],
    setup_hint: "ANTHROPIC_API_KEY",
    example: "    model: claude-sonnet-4.5
    # base_url: https://api.anthropic.com      # ANTHROPIC_BASE_URL wins over this
    max_tokens: 4096
",
    diagnosis: Diagnosis {
        authentication: "no valid API key: set ANTHROPIC_API_KEY to a key from console.anthropic.com",
        specific: None,
    },
    construct: registry::construct::<AnthropicProvider>,
};

/// The Anthropic provider. `Debug` never shows the key.
#[derive(Clone)]
pub struct AnthropicProvider {
    endpoint: KeyedEndpoint,
    catalog: Arc<Catalog>,
}

impl std::fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl AnthropicProvider {
    /// A provider with an explicit key and base URL (e.g. `https://api.anthropic.com`, or a
    /// proxy; a trailing `/` is ignored).
    pub fn new(
        api_key: impl Into<String>,
        base_url: impl Into<String>,
        settings: HttpSettings,
        catalog: Arc<Catalog>,
    ) -> Result<Self, LlmError> {
        Ok(Self {
            endpoint: KeyedEndpoint::new(PROVIDER, api_key.into(), base_url.into(), settings)?,
            catalog,
        })
    }

    /// Key from `ANTHROPIC_API_KEY`, base URL from `ANTHROPIC_BASE_URL` (default
    /// [`DEFAULT_BASE_URL`]).
    pub fn from_env(settings: HttpSettings, catalog: Arc<Catalog>) -> Result<Self, LlmError> {
        SPEC.env_provider(settings, catalog)
    }

    pub fn base_url(&self) -> &str {
        &self.endpoint.base_url
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Catalog aliases (`claude-sonnet-4.5`) resolve to the API's model id; anything else is
    /// sent as given.
    pub fn resolve_model(&self, model: &str) -> String {
        self.catalog.resolve(PROVIDER, model)
    }

    /// The JSON body exactly as it will be sent.
    pub fn request_body(&self, request: &Request) -> Value {
        let model = self.resolve_model(&request.model);
        let entry = self.catalog.find(PROVIDER, &model);
        // Unknown models: assume the current Claude capabilities (caching, xor sampling).
        let caching = entry.is_none_or(|e| e.capabilities.prompt_cache);
        let xor = entry.is_none_or(|e| e.capabilities.temperature_xor_top_p);
        let mut body = json!({
            "model": model,
            "max_tokens": request.max_tokens,
            "stream": true,
            "messages": messages(request),
        });
        if let Some(system) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
            body["system"] = if caching && request.cache.system {
                json!([{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}])
            } else {
                json!(system)
            };
        }
        let mut tools: Vec<Value> = request
            .tools
            .iter()
            .map(
                |t| json!({"name": t.name, "description": t.description, "input_schema": t.schema}),
            )
            .collect();
        let mut choice = request.tool_choice.clone();
        if let Some(so) = &request.structured_output {
            tools.push(json!({
                "name": so.name,
                "description": so.description.clone().unwrap_or_else(|| "Return the answer as this tool's input.".into()),
                "input_schema": so.schema,
            }));
            choice = ToolChoice::Tool(so.name.clone());
        }
        if !tools.is_empty() {
            if caching
                && request.cache.tools
                && let Some(last) = tools.last_mut()
            {
                last["cache_control"] = json!({"type": "ephemeral"});
            }
            body["tools"] = Value::Array(tools);
            body["tool_choice"] = match choice {
                ToolChoice::Auto => json!({"type": "auto"}),
                ToolChoice::Any => json!({"type": "any"}),
                ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
                ToolChoice::None => json!({"type": "none"}),
            };
        }
        match (request.temperature, request.top_p) {
            (Some(t), Some(_)) if xor => body["temperature"] = json!(t),
            (t, p) => {
                if let Some(t) = t {
                    body["temperature"] = json!(t);
                }
                if let Some(p) = p {
                    body["top_p"] = json!(p);
                }
            }
        }
        body
    }
}

/// Tool-use ids must match `^[a-zA-Z0-9_-]+$`; ids made by other providers (Bedrock allows
/// `.` and `:`) are mapped deterministically so calls and results still pair up.
pub fn wire_tool_id(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "_".into() } else { s }
}

/// The history in the API's shape: consecutive turns of one role merged, blank text dropped
/// (the API rejects empty text blocks), and tool results placed first in their user turn (the
/// API requires `tool_result` blocks to lead the content).
fn messages(request: &Request) -> Vec<Value> {
    let mut out: Vec<(Role, Vec<Value>)> = Vec::new();
    for m in &request.messages {
        let mut blocks = Vec::new();
        for part in &m.content {
            match part {
                Part::Text(t) if t.trim().is_empty() => {}
                Part::Text(t) => blocks.push(json!({"type": "text", "text": t})),
                Part::ToolCall(c) => blocks.push(json!({
                    "type": "tool_use",
                    "id": wire_tool_id(&c.id),
                    "name": c.name,
                    "input": if c.arguments.is_object() { c.arguments.clone() } else { json!({}) },
                })),
                Part::ToolResult(r) => {
                    let content = match &r.output {
                        ToolOutput::Text(t) => t.clone(),
                        ToolOutput::Json(v) => v.to_string(),
                    };
                    let mut b = json!({
                        "type": "tool_result",
                        "tool_use_id": wire_tool_id(&r.call_id),
                        "content": content,
                    });
                    if r.is_error {
                        b["is_error"] = json!(true);
                    }
                    blocks.push(b);
                }
            }
        }
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((role, existing)) if *role == m.role => existing.extend(blocks),
            _ => out.push((m.role, blocks)),
        }
    }
    out.into_iter()
        .map(|(role, mut blocks)| {
            if role == Role::User {
                // Stable sort: results first, in call order, then the rest.
                blocks.sort_by_key(|b| b["type"] != "tool_result");
            }
            json!({"role": if role == Role::User { "user" } else { "assistant" }, "content": blocks})
        })
        .collect()
}

/// Map an error answer (`{"type":"error","error":{"type":…,"message":…}}`) to a typed error.
pub fn error_from_status(model: &str, f: HttpFailure) -> LlmError {
    let parsed: Value = serde_json::from_str(&f.body).unwrap_or(Value::Null);
    let kind = parsed["error"]["type"].as_str().unwrap_or("").to_string();
    let message = parsed["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {}: {}", f.status, f.body.trim()));
    classify(f.status, &kind, message, model, f.retry_after)
}

fn classify(
    status: u16,
    kind: &str,
    message: String,
    model: &str,
    retry_after: Option<std::time::Duration>,
) -> LlmError {
    let provider = PROVIDER.to_string();
    match (status, kind) {
        (_, "authentication_error") | (401, _) => LlmError::Authentication { provider, message },
        (_, "permission_error") | (403, _) => LlmError::PermissionDenied { provider, message },
        (_, "not_found_error") | (404, _) => LlmError::ModelNotFound {
            provider,
            model: model.to_string(),
            message,
        },
        (_, "rate_limit_error") | (429, _) => LlmError::RateLimited {
            provider,
            retry_after,
            message,
        },
        (_, "overloaded_error") | (_, "api_error") | (500..=599, _) => {
            if status == 504 {
                LlmError::Timeout { provider, message }
            } else {
                LlmError::Unavailable { provider, message }
            }
        }
        (408, _) | (_, "timeout_error") => LlmError::Timeout { provider, message },
        _ if message.contains("prompt is too long") => {
            LlmError::ContextTooLong { provider, message }
        }
        _ => LlmError::Validation { provider, message },
    }
}

enum Block {
    Text,
    Tool(String),
    /// The forced structured-output tool: its input is the answer text.
    Structured,
    Other,
}

/// Decodes the Messages API's stream events.
struct Decoder {
    requested_model: String,
    structured_tool: Option<String>,
    blocks: HashMap<u64, Block>,
    model: Option<String>,
    usage: Usage,
    stop_reason: Option<String>,
    stopped: bool,
}

impl Decoder {
    fn set_usage(&mut self, u: &Value) {
        let get = |k: &str| u.get(k).and_then(Value::as_u64);
        // message_delta carries cumulative counts; a field it lacks keeps message_start's value.
        if let Some(n) = get("input_tokens") {
            self.usage.input = n;
        }
        if let Some(n) = get("output_tokens") {
            self.usage.output = n;
        }
        if let Some(n) = get("cache_read_input_tokens") {
            self.usage.cache_read = n;
        }
        if let Some(n) = get("cache_creation_input_tokens") {
            self.usage.cache_write = n;
        }
    }
}

fn bad_event(event: &SseEvent, why: &str) -> LlmError {
    LlmError::Model {
        provider: PROVIDER.into(),
        message: format!(
            "malformed `{}` event ({why}): {}",
            event.event.as_deref().unwrap_or("message"),
            event.data.chars().take(200).collect::<String>()
        ),
    }
}

impl SseDecoder for Decoder {
    fn on_event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, LlmError> {
        let v: Value =
            serde_json::from_str(&event.data).map_err(|e| bad_event(event, &e.to_string()))?;
        // The `type` field repeats the event name; trust it when the name is missing.
        let kind = v["type"]
            .as_str()
            .or(event.event.as_deref())
            .unwrap_or("")
            .to_string();
        let index = v["index"].as_u64().unwrap_or(0);
        let mut out = Vec::new();
        match kind.as_str() {
            "message_start" => {
                self.model = v["message"]["model"].as_str().map(str::to_string);
                self.set_usage(&v["message"]["usage"]);
            }
            "content_block_start" => {
                let b = &v["content_block"];
                match b["type"].as_str() {
                    Some("text") => {
                        if let Some(t) = b["text"].as_str().filter(|t| !t.is_empty()) {
                            out.push(StreamEvent::TextDelta(t.to_string()));
                        }
                        self.blocks.insert(index, Block::Text);
                    }
                    Some("tool_use") => {
                        let name = b["name"].as_str().unwrap_or("").to_string();
                        if self.structured_tool.as_deref() == Some(name.as_str()) {
                            self.blocks.insert(index, Block::Structured);
                        } else {
                            let id = b["id"]
                                .as_str()
                                .ok_or_else(|| bad_event(event, "tool_use without id"))?
                                .to_string();
                            out.push(StreamEvent::ToolCallStart {
                                id: id.clone(),
                                name,
                            });
                            self.blocks.insert(index, Block::Tool(id));
                        }
                    }
                    // Thinking and server-tool blocks are not part of the answer.
                    _ => {
                        self.blocks.insert(index, Block::Other);
                    }
                }
            }
            "content_block_delta" => {
                let d = &v["delta"];
                match (self.blocks.get(&index), d["type"].as_str()) {
                    (Some(Block::Text), Some("text_delta")) => {
                        if let Some(t) = d["text"].as_str().filter(|t| !t.is_empty()) {
                            out.push(StreamEvent::TextDelta(t.to_string()));
                        }
                    }
                    (Some(Block::Tool(id)), Some("input_json_delta")) => {
                        if let Some(j) = d["partial_json"].as_str().filter(|j| !j.is_empty()) {
                            out.push(StreamEvent::ToolCallArgsDelta {
                                id: id.clone(),
                                json: j.to_string(),
                            });
                        }
                    }
                    (Some(Block::Structured), Some("input_json_delta")) => {
                        if let Some(j) = d["partial_json"].as_str().filter(|j| !j.is_empty()) {
                            out.push(StreamEvent::TextDelta(j.to_string()));
                        }
                    }
                    (None, _) => return Err(bad_event(event, "delta for a block never started")),
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(Block::Tool(id)) = self.blocks.remove(&index) {
                    out.push(StreamEvent::ToolCallEnd { id });
                }
            }
            "message_delta" => {
                if let Some(r) = v["delta"]["stop_reason"].as_str() {
                    self.stop_reason = Some(r.to_string());
                }
                self.set_usage(&v["usage"]);
            }
            "message_stop" => self.stopped = true,
            "error" => {
                let kind = v["error"]["type"].as_str().unwrap_or("");
                let message = v["error"]["message"]
                    .as_str()
                    .unwrap_or("error event without a message")
                    .to_string();
                let status = match kind {
                    "overloaded_error" => 529,
                    "api_error" => 500,
                    "rate_limit_error" => 429,
                    _ => 400,
                };
                return Err(classify(status, kind, message, &self.requested_model, None));
            }
            // `ping` and event types added after this client was written are ignored, as the
            // API's versioning policy asks.
            _ => {}
        }
        Ok(out)
    }

    fn finished(&self) -> bool {
        self.stopped
    }

    fn finish(&mut self) -> Result<Vec<StreamEvent>, String> {
        if !self.stopped {
            return Err(
                "the stream ended before the model finished (no message_stop event)".into(),
            );
        }
        let stop_reason = match self.stop_reason.as_deref() {
            // The forced structured-output tool ends the turn with `tool_use`.
            Some("tool_use") if self.structured_tool.is_some() => StopReason::EndTurn,
            Some("refusal") => StopReason::ContentFiltered,
            Some(r) => StopReason::from_wire(r),
            None => StopReason::Other("missing".into()),
        };
        Ok(closing_events(
            Some(self.usage),
            stop_reason,
            None,
            self.model.as_deref(),
            &self.requested_model,
        ))
    }
}

impl FromSettings for AnthropicProvider {
    type Options = HttpSettings;

    /// From resolved settings (`base_url`) and the key in `ANTHROPIC_API_KEY`, describing the
    /// endpoint and the key found into `described`.
    fn from_settings(
        settings: &Settings,
        options: Self::Options,
        catalog: Arc<Catalog>,
        described: &mut Described,
    ) -> Result<Self, LlmError> {
        let base = SPEC.endpoint_of(settings, described);
        let key = SPEC.required_key(described)?;
        Self::new(key, base, options, catalog)
    }
}

#[async_trait::async_trait]
impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        PROVIDER
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError> {
        self.stream_counted(request).await.0
    }

    async fn stream_counted(
        &self,
        request: &Request,
    ) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
        let body = self.request_body(request);
        let model = body["model"].as_str().unwrap_or_default().to_string();
        let post = JsonPost {
            client: self.endpoint.client.clone(),
            url: format!("{}/v1/messages", self.endpoint.base_url),
            body: body.to_string().into_bytes(),
            headers: vec![
                ("anthropic-version", API_VERSION.into()),
                ("accept", "text/event-stream".into()),
            ],
            secret: Some(("x-api-key", self.endpoint.api_key.clone())),
        };
        let m = model.clone();
        let structured_tool = request.structured_output.as_ref().map(|s| s.name.clone());
        stream_json_post(
            PROVIDER,
            Framing::Sse,
            self.endpoint.settings.retry,
            post,
            move |f: HttpFailure| error_from_status(&m, f),
            move || Decoder {
                requested_model: model.clone(),
                structured_tool: structured_tool.clone(),
                blocks: HashMap::new(),
                model: None,
                usage: Usage::default(),
                stop_reason: None,
                stopped: false,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{CacheHints, Message, ToolCall, ToolDef, ToolResult};

    fn provider() -> AnthropicProvider {
        AnthropicProvider::new(
            "sk-ant-test",
            "http://127.0.0.1:9/",
            HttpSettings::default(),
            Arc::new(Catalog::builtin()),
        )
        .unwrap()
    }

    #[test]
    fn body_has_system_tools_cache_marks_and_tool_results_first() {
        let p = provider();
        assert_eq!(p.base_url(), "http://127.0.0.1:9");
        let mut req = Request::new(
            "claude-sonnet-4.5",
            vec![
                Message::user("weather?"),
                Message {
                    role: Role::Assistant,
                    content: vec![
                        Part::Text("  ".into()),
                        Part::ToolCall(ToolCall {
                            id: "tooluse.a:1".into(),
                            name: "w".into(),
                            arguments: json!({"c": 1}),
                        }),
                    ],
                },
                Message::user("also this"),
                Message::tool_results(vec![ToolResult::error("tooluse.a:1", "no network")]),
            ],
            100,
        );
        req.system = Some("You are terse.".into());
        req.tools = vec![ToolDef {
            name: "w".into(),
            description: "weather".into(),
            schema: json!({"type": "object"}),
        }];
        req.tool_choice = ToolChoice::Any;
        req.temperature = Some(0.2);
        req.top_p = Some(0.9);
        req.cache = CacheHints {
            system: true,
            tools: true,
        };
        let b = p.request_body(&req);
        assert_eq!(b["model"], "claude-sonnet-4-5-20250929");
        assert_eq!(b["stream"], true);
        assert_eq!(b["system"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(b["tools"][0]["input_schema"], json!({"type": "object"}));
        assert_eq!(b["tools"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(b["tool_choice"], json!({"type": "any"}));
        assert_eq!(b["temperature"], json!(0.2f32));
        assert!(b.get("top_p").is_none(), "Sonnet 4.5 takes one of the two");
        let msgs = b["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 3, "the two user turns are merged: {b:#}");
        assert_eq!(
            msgs[1]["content"].as_array().unwrap().len(),
            1,
            "blank text dropped"
        );
        assert_eq!(msgs[1]["content"][0]["id"], "tooluse_a_1");
        assert_eq!(msgs[2]["content"][0]["type"], "tool_result");
        assert_eq!(msgs[2]["content"][0]["tool_use_id"], "tooluse_a_1");
        assert_eq!(msgs[2]["content"][0]["is_error"], true);
        assert_eq!(msgs[2]["content"][1]["text"], "also this");
    }

    fn sse(data: Value) -> SseEvent {
        SseEvent {
            event: data["type"].as_str().map(str::to_string),
            data: data.to_string(),
            id: None,
        }
    }

    #[test]
    fn decoder_skips_thinking_and_unknown_events_and_keeps_cumulative_usage() {
        let mut d = Decoder {
            requested_model: "claude-x".into(),
            structured_tool: None,
            blocks: HashMap::new(),
            model: None,
            usage: Usage::default(),
            stop_reason: None,
            stopped: false,
        };
        let mut out = Vec::new();
        for v in [
            json!({"type": "message_start", "message": {"model": "claude-x-1", "usage": {"input_tokens": 0, "cache_read_input_tokens": 40, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "brand_new_event", "whatever": 1}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": "Hi"}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": " there"}}),
            json!({"type": "content_block_stop", "index": 1}),
            // Gateways report input on message_delta; counts there are cumulative.
            json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"input_tokens": 9, "output_tokens": 3}}),
        ] {
            out.extend(d.on_event(&sse(v)).unwrap());
        }
        assert!(!d.finished());
        assert!(d.finish().unwrap_err().contains("no message_stop"));
        d.on_event(&sse(json!({"type": "message_stop"}))).unwrap();
        out.extend(d.finish().unwrap());
        assert_eq!(
            out,
            vec![
                StreamEvent::TextDelta("Hi".into()),
                StreamEvent::TextDelta(" there".into()),
                StreamEvent::Usage(Usage {
                    input: 9,
                    output: 3,
                    cache_read: 40,
                    cache_write: 0,
                    estimated: false
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::MaxTokens,
                    latency: None,
                    model_used: "claude-x-1".into()
                },
            ]
        );
        let err = d
            .on_event(&sse(json!({"type": "content_block_delta", "index": 7, "delta": {"type": "text_delta", "text": "x"}})))
            .unwrap_err();
        assert!(err.to_string().contains("never started"), "{err}");
    }

    #[test]
    fn errors_by_status_and_type() {
        let f = |status, body: &str| HttpFailure {
            status,
            retry_after: None,
            body: body.into(),
        };
        let e = error_from_status(
            "m",
            f(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
            ),
        );
        assert_eq!(e.kind(), "context_too_long");
        let e = error_from_status(
            "m",
            f(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
        );
        assert_eq!(e.kind(), "unavailable");
        assert_eq!(
            error_from_status("m", f(404, "not json")).kind(),
            "model_not_found"
        );
        assert!(
            error_from_status("m", f(418, "teapot"))
                .to_string()
                .contains("HTTP 418: teapot")
        );
        assert!(!format!("{:?}", provider()).contains("sk-ant-test"));
    }
}
