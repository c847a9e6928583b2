//! OpenAI Chat Completions (`POST {base}/chat/completions`, streamed as SSE), which also serves
//! OpenAI-compatible servers through a base-URL override.
//!
//! Streamed tool calls arrive as `delta.tool_calls[i]` fragments keyed by `index`; only the first
//! fragment of a call carries its id and name. Usage comes in a last chunk with empty `choices`
//! when `stream_options.include_usage` is set; `prompt_tokens` there *includes* cached tokens, so
//! they are split out to match [`Usage`]'s convention (input excludes cache reads).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::error::LlmError;
use crate::http::sse::SseEvent;
use crate::http::{
    AttemptCounter, Framing, HttpFailure, HttpSettings, JsonPost, SseDecoder, build_client,
    closing_events, stream_json_post,
};
use crate::provider::{EventStream, Provider};
use crate::registry::{self, Described, Diagnosis, FromSettings, KeyUse, ProviderSpec, Settings};
use crate::types::{Part, Request, Role, StopReason, StreamEvent, ToolChoice, ToolOutput, Usage};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const PROVIDER: &str = "openai";

/// OpenAI (and OpenAI-compatible servers) in the provider registry.
pub static SPEC: ProviderSpec = ProviderSpec {
    name: PROVIDER,
    local: false,
    credential_vars: &["OPENAI_API_KEY"],
    // A compatible server at another base URL may need no key; the API itself does.
    key: KeyUse::Optional,
    endpoint: registry::base_url(&["OPENAI_BASE_URL"], DEFAULT_BASE_URL),
    settings: &[registry::MAX_TOKENS, registry::temperature(2.0)],
    setup_hint: "OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible local server)",
    example: "    model: gpt-4.1
    # base_url: http://localhost:8000/v1       # any OpenAI-compatible server; OPENAI_BASE_URL wins
",
    diagnosis: Diagnosis {
        authentication: "no valid API key: set OPENAI_API_KEY (or point OPENAI_BASE_URL at a server that needs none)",
        specific: None,
    },
    construct: registry::construct::<OpenAiProvider>,
};

/// Which field carries the token budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxTokensField {
    /// `max_completion_tokens`: required by OpenAI's reasoning models, accepted by all current
    /// OpenAI models.
    #[default]
    MaxCompletionTokens,
    /// `max_tokens`: for OpenAI-compatible servers that only know the older field.
    MaxTokens,
}

/// Options of the OpenAI provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAiOptions {
    pub http: HttpSettings,
    pub max_tokens_field: MaxTokensField,
    /// Send `stream_options: {include_usage: true}` (some compatible servers reject it).
    pub stream_usage: bool,
}

impl Default for OpenAiOptions {
    fn default() -> Self {
        Self {
            http: HttpSettings::default(),
            max_tokens_field: MaxTokensField::MaxCompletionTokens,
            stream_usage: true,
        }
    }
}

/// The OpenAI provider. `Debug` never shows the key.
#[derive(Clone)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    api_key: Option<String>,
    base_url: String,
    options: OpenAiOptions,
    catalog: Arc<Catalog>,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl OpenAiProvider {
    /// A provider with an explicit base URL (e.g. `https://api.openai.com/v1`, or a compatible
    /// server's `…/v1`). The key may be `None` for local servers that need none; it is required
    /// for the OpenAI API itself.
    pub fn new(
        api_key: Option<String>,
        base_url: impl Into<String>,
        options: OpenAiOptions,
        catalog: Arc<Catalog>,
    ) -> Result<Self, LlmError> {
        let base_url = base_url.into().trim_end_matches('/').to_string();
        let api_key = api_key.filter(|k| !k.trim().is_empty());
        if api_key.is_none() && base_url == DEFAULT_BASE_URL {
            return Err(SPEC.missing_key());
        }
        Ok(Self {
            client: build_client(PROVIDER, &options.http)?,
            api_key,
            base_url,
            options,
            catalog,
        })
    }

    /// Key from `OPENAI_API_KEY`, base URL from `OPENAI_BASE_URL` (default [`DEFAULT_BASE_URL`]).
    pub fn from_env(options: OpenAiOptions, catalog: Arc<Catalog>) -> Result<Self, LlmError> {
        SPEC.env_provider(options, catalog)
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Catalog aliases resolve to the API's model id; anything else is sent as given.
    pub fn resolve_model(&self, model: &str) -> String {
        self.catalog.resolve(PROVIDER, model)
    }

    /// The JSON body exactly as it will be sent.
    pub fn request_body(&self, request: &Request) -> Value {
        let mut body = json!({
            "model": self.resolve_model(&request.model),
            "messages": messages(request),
            "stream": true,
        });
        if self.options.stream_usage {
            body["stream_options"] = json!({"include_usage": true});
        }
        let budget = match self.options.max_tokens_field {
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
            MaxTokensField::MaxTokens => "max_tokens",
        };
        body[budget] = json!(request.max_tokens);
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.schema}})
                })
                .collect();
            body["tool_choice"] = match &request.tool_choice {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::Any => json!("required"),
                ToolChoice::None => json!("none"),
                ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
            };
        }
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(p) = request.top_p {
            body["top_p"] = json!(p);
        }
        if let Some(so) = &request.structured_output {
            let mut schema = json!({"name": so.name, "schema": so.schema});
            if let Some(d) = &so.description {
                schema["description"] = json!(d);
            }
            body["response_format"] = json!({"type": "json_schema", "json_schema": schema});
        }
        body
    }
}

/// The history as Chat Completions messages: a `system` message first; each assistant turn
/// with its text and `tool_calls` (arguments as a JSON string); each tool result as a `tool`
/// message right after the assistant turn, before any user text of the same turn (the API
/// requires every call to be answered by the messages that immediately follow it).
fn messages(request: &Request) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(s) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        out.push(json!({"role": "system", "content": s}));
    }
    for m in &request.messages {
        let text: Vec<&str> = m
            .content
            .iter()
            .filter_map(|p| match p {
                Part::Text(t) if !t.trim().is_empty() => Some(t.as_str()),
                _ => None,
            })
            .collect();
        let text = text.join("\n\n");
        match m.role {
            Role::Assistant => {
                let calls: Vec<Value> = m
                    .content
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolCall(c) => Some(json!({
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments.to_string()},
                        })),
                        _ => None,
                    })
                    .collect();
                if text.is_empty() && calls.is_empty() {
                    continue;
                }
                let mut msg = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
                if !calls.is_empty() {
                    msg["tool_calls"] = Value::Array(calls);
                }
                out.push(msg);
            }
            Role::User => {
                for p in &m.content {
                    if let Part::ToolResult(r) = p {
                        let content = match &r.output {
                            ToolOutput::Text(t) => t.clone(),
                            ToolOutput::Json(v) => v.to_string(),
                        };
                        // The API has no error flag on tool messages: say it in the content.
                        let content = if r.is_error {
                            format!("Error: {content}")
                        } else {
                            content
                        };
                        out.push(
                            json!({"role": "tool", "tool_call_id": r.call_id, "content": content}),
                        );
                    }
                }
                if !text.is_empty() {
                    out.push(json!({"role": "user", "content": text}));
                }
            }
        }
    }
    out
}

/// Map an error answer (`{"error": {"message", "type", "code"}}`) to a typed error.
pub fn error_from_status(model: &str, f: HttpFailure) -> LlmError {
    let parsed: Value = serde_json::from_str(&f.body).unwrap_or(Value::Null);
    let e = &parsed["error"];
    let message = e["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {}: {}", f.status, f.body.trim()));
    classify(
        f.status,
        e["type"].as_str().unwrap_or(""),
        e["code"].as_str().unwrap_or(""),
        message,
        model,
        f.retry_after,
    )
}

fn classify(
    status: u16,
    kind: &str,
    code: &str,
    message: String,
    model: &str,
    retry_after: Option<std::time::Duration>,
) -> LlmError {
    let provider = PROVIDER.to_string();
    if code == "context_length_exceeded" || message.contains("maximum context length") {
        return LlmError::ContextTooLong { provider, message };
    }
    match status {
        401 => LlmError::Authentication { provider, message },
        403 => LlmError::PermissionDenied { provider, message },
        404 => LlmError::ModelNotFound {
            provider,
            model: model.to_string(),
            message,
        },
        // An exhausted quota is a billing state, not a rate: waiting does not help.
        429 if code == "insufficient_quota" || kind == "insufficient_quota" => {
            LlmError::PermissionDenied { provider, message }
        }
        429 => LlmError::RateLimited {
            provider,
            retry_after,
            message,
        },
        408 | 504 => LlmError::Timeout { provider, message },
        500..=599 => LlmError::Unavailable { provider, message },
        _ => LlmError::Validation { provider, message },
    }
}

struct OpenCall {
    id: String,
    started: bool,
    name: String,
    /// Argument fragments that arrived before the name (some compatible servers).
    buffered: String,
}

/// Decodes Chat Completions chunks.
struct Decoder {
    requested_model: String,
    model: Option<String>,
    calls: BTreeMap<u64, OpenCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    done: bool,
}

fn bad_chunk(event: &SseEvent, why: &str) -> LlmError {
    LlmError::Model {
        provider: PROVIDER.into(),
        message: format!(
            "malformed stream chunk ({why}): {}",
            event.data.chars().take(200).collect::<String>()
        ),
    }
}

impl Decoder {
    fn end_calls(&mut self, out: &mut Vec<StreamEvent>) {
        for (_, call) in std::mem::take(&mut self.calls) {
            if !call.started {
                // A call whose name never arrived cannot be run; report it as a call with an
                // empty name so the fold marks it malformed instead of dropping it silently.
                out.push(StreamEvent::ToolCallStart {
                    id: call.id.clone(),
                    name: String::new(),
                });
                if !call.buffered.is_empty() {
                    out.push(StreamEvent::ToolCallArgsDelta {
                        id: call.id.clone(),
                        json: call.buffered,
                    });
                }
            }
            out.push(StreamEvent::ToolCallEnd { id: call.id });
        }
    }
}

impl SseDecoder for Decoder {
    fn on_event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, LlmError> {
        let mut out = Vec::new();
        if event.data.trim() == "[DONE]" {
            self.done = true;
            self.end_calls(&mut out);
            return Ok(out);
        }
        let v: Value =
            serde_json::from_str(&event.data).map_err(|e| bad_chunk(event, &e.to_string()))?;
        if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
            let kind = e["type"].as_str().unwrap_or("");
            let status = match kind {
                "server_error" => 500,
                "rate_limit_error" | "tokens" | "requests" => 429,
                _ => 400,
            };
            return Err(classify(
                status,
                kind,
                e["code"].as_str().unwrap_or(""),
                e["message"]
                    .as_str()
                    .unwrap_or("error chunk without a message")
                    .to_string(),
                &self.requested_model,
                None,
            ));
        }
        if let Some(m) = v["model"].as_str().filter(|m| !m.is_empty()) {
            self.model = Some(m.to_string());
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            let prompt = u["prompt_tokens"].as_u64().unwrap_or(0);
            let cached = u["prompt_tokens_details"]["cached_tokens"]
                .as_u64()
                .unwrap_or(0);
            self.usage = Some(Usage {
                input: prompt.saturating_sub(cached),
                output: u["completion_tokens"].as_u64().unwrap_or(0),
                cache_read: cached,
                cache_write: 0,
            });
        }
        let Some(choice) = v["choices"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["index"].as_u64().unwrap_or(0) == 0))
        else {
            return Ok(out);
        };
        let delta = &choice["delta"];
        for key in ["content", "refusal"] {
            if let Some(t) = delta[key].as_str().filter(|t| !t.is_empty()) {
                out.push(StreamEvent::TextDelta(t.to_string()));
            }
        }
        if let Some(calls) = delta["tool_calls"].as_array() {
            for c in calls {
                let index = c["index"]
                    .as_u64()
                    .ok_or_else(|| bad_chunk(event, "tool call without index"))?;
                let call = self.calls.entry(index).or_insert_with(|| OpenCall {
                    // Compatible servers may omit ids; make one that is unique in the answer.
                    id: c["id"]
                        .as_str()
                        .filter(|i| !i.is_empty())
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("call_{index}")),
                    started: false,
                    name: String::new(),
                    buffered: String::new(),
                });
                if let Some(n) = c["function"]["name"].as_str() {
                    call.name.push_str(n);
                }
                let args = c["function"]["arguments"].as_str().unwrap_or("");
                if !call.started && !call.name.is_empty() {
                    call.started = true;
                    out.push(StreamEvent::ToolCallStart {
                        id: call.id.clone(),
                        name: call.name.clone(),
                    });
                    if !call.buffered.is_empty() {
                        out.push(StreamEvent::ToolCallArgsDelta {
                            id: call.id.clone(),
                            json: std::mem::take(&mut call.buffered),
                        });
                    }
                }
                if !args.is_empty() {
                    if call.started {
                        out.push(StreamEvent::ToolCallArgsDelta {
                            id: call.id.clone(),
                            json: args.to_string(),
                        });
                    } else {
                        call.buffered.push_str(args);
                    }
                }
            }
        }
        if let Some(r) = choice["finish_reason"].as_str() {
            self.finish_reason = Some(r.to_string());
            self.end_calls(&mut out);
        }
        Ok(out)
    }

    fn finished(&self) -> bool {
        self.done
    }

    fn finish(&mut self) -> Result<Vec<StreamEvent>, String> {
        if !self.done {
            return Err("the stream ended before the model finished (no `data: [DONE]`)".into());
        }
        let stop_reason = match self.finish_reason.as_deref() {
            Some("stop") => StopReason::EndTurn,
            Some("tool_calls") | Some("function_call") => StopReason::ToolUse,
            Some("length") => StopReason::MaxTokens,
            Some("content_filter") => StopReason::ContentFiltered,
            Some(other) => StopReason::Other(other.to_string()),
            None => StopReason::Other("missing".into()),
        };
        Ok(closing_events(
            self.usage,
            stop_reason,
            None,
            self.model.as_deref(),
            &self.requested_model,
        ))
    }
}

impl FromSettings for OpenAiProvider {
    type Options = OpenAiOptions;

    /// From resolved settings (`base_url`) and the key in `OPENAI_API_KEY` (if set), describing
    /// the endpoint and the key found into `described`.
    fn from_settings(
        settings: &Settings,
        options: Self::Options,
        catalog: Arc<Catalog>,
        described: &mut Described,
    ) -> Result<Self, LlmError> {
        let base = SPEC.endpoint_of(settings, described);
        // No key is fine for OpenAI-compatible local servers; `new` refuses none for the API.
        let key = SPEC.optional_key(described);
        Self::new(key, base, options, catalog)
    }
}

#[async_trait::async_trait]
impl Provider for OpenAiProvider {
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
            client: self.client.clone(),
            url: format!("{}/chat/completions", self.base_url),
            body: body.to_string().into_bytes(),
            headers: vec![("accept", "text/event-stream".into())],
            secret: self
                .api_key
                .as_ref()
                .map(|k| ("authorization", format!("Bearer {k}"))),
        };
        let m = model.clone();
        stream_json_post(
            PROVIDER,
            Framing::Sse,
            self.options.http.retry,
            post,
            move |f: HttpFailure| error_from_status(&m, f),
            move || Decoder {
                requested_model: model.clone(),
                model: None,
                calls: BTreeMap::new(),
                finish_reason: None,
                usage: None,
                done: false,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, ToolCall, ToolDef, ToolResult};

    #[test]
    fn body_maps_tools_choice_history_and_budget_field() {
        let mut opts = OpenAiOptions::default();
        let cat = Arc::new(Catalog::builtin());
        let p = OpenAiProvider::new(
            Some("sk-test".into()),
            DEFAULT_BASE_URL,
            opts.clone(),
            cat.clone(),
        )
        .unwrap();
        let mut req = Request::new(
            "gpt-4o",
            vec![
                Message::user("q"),
                Message {
                    role: Role::Assistant,
                    content: vec![Part::ToolCall(ToolCall {
                        id: "call_1".into(),
                        name: "w".into(),
                        arguments: json!({"c": "Paris"}),
                    })],
                },
                Message {
                    role: Role::User,
                    content: vec![
                        Part::Text("and then?".into()),
                        Part::ToolResult(ToolResult::error("call_1", "offline")),
                    ],
                },
            ],
            64,
        );
        req.system = Some("sys".into());
        req.tools = vec![ToolDef {
            name: "w".into(),
            description: "d".into(),
            schema: json!({"type": "object"}),
        }];
        req.tool_choice = ToolChoice::Tool("w".into());
        let b = p.request_body(&req);
        assert_eq!(b["model"], "gpt-4o-2024-11-20");
        assert_eq!(b["max_completion_tokens"], 64);
        assert_eq!(b["stream_options"]["include_usage"], true);
        assert_eq!(
            b["tool_choice"],
            json!({"type": "function", "function": {"name": "w"}})
        );
        assert_eq!(
            b["tools"][0]["function"]["parameters"],
            json!({"type": "object"})
        );
        let m = b["messages"].as_array().unwrap();
        assert_eq!(m[0], json!({"role": "system", "content": "sys"}));
        assert_eq!(
            m[2]["tool_calls"][0]["function"]["arguments"],
            "{\"c\":\"Paris\"}"
        );
        assert_eq!(m[2]["content"], Value::Null);
        assert_eq!(
            m[3],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "Error: offline"})
        );
        assert_eq!(m[4], json!({"role": "user", "content": "and then?"}));

        opts.max_tokens_field = MaxTokensField::MaxTokens;
        let p = OpenAiProvider::new(None, "http://localhost:8000/v1/", opts, cat.clone()).unwrap();
        let b = p.request_body(&req);
        assert_eq!(b["max_tokens"], 64);
        assert!(b.get("max_completion_tokens").is_none());
        assert_eq!(
            OpenAiProvider::new(None, DEFAULT_BASE_URL, OpenAiOptions::default(), cat)
                .unwrap_err()
                .kind(),
            "authentication"
        );
    }

    #[test]
    fn decoder_handles_missing_ids_late_names_and_cached_usage() {
        let mut d = Decoder {
            requested_model: "local-model".into(),
            model: None,
            calls: BTreeMap::new(),
            finish_reason: None,
            usage: None,
            done: false,
        };
        let ev = |v: Value| SseEvent {
            event: None,
            data: v.to_string(),
            id: None,
        };
        let mut out = Vec::new();
        for v in [
            // A compatible server: no id, arguments before the name.
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\""}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ":1}"}}]}}]}),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            json!({"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 60}}}),
        ] {
            out.extend(d.on_event(&ev(v)).unwrap());
        }
        out.extend(
            d.on_event(&SseEvent {
                event: None,
                data: "[DONE]".into(),
                id: None,
            })
            .unwrap(),
        );
        out.extend(d.finish().unwrap());
        assert_eq!(
            out,
            vec![
                StreamEvent::ToolCallStart {
                    id: "call_0".into(),
                    name: "f".into()
                },
                StreamEvent::ToolCallArgsDelta {
                    id: "call_0".into(),
                    json: "{\"a\"".into()
                },
                StreamEvent::ToolCallArgsDelta {
                    id: "call_0".into(),
                    json: ":1}".into()
                },
                StreamEvent::ToolCallEnd {
                    id: "call_0".into()
                },
                StreamEvent::Usage(Usage {
                    input: 40,
                    output: 5,
                    cache_read: 60,
                    cache_write: 0
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::ToolUse,
                    latency: None,
                    model_used: "local-model".into()
                },
            ]
        );
    }

    #[test]
    fn errors_by_status_and_code() {
        let f = |status, body: &str| HttpFailure {
            status,
            retry_after: None,
            body: body.into(),
        };
        let e = error_from_status(
            "m",
            f(
                400,
                r#"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            ),
        );
        assert_eq!(e.kind(), "context_too_long");
        let e = error_from_status(
            "m",
            f(
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
            ),
        );
        assert_eq!(e.kind(), "permission_denied");
        assert_eq!(error_from_status("m", f(429, "{}")).kind(), "rate_limited");
        assert_eq!(error_from_status("m", f(503, "")).kind(), "unavailable");
    }
}
