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
    settings: &[
        registry::MAX_TOKENS,
        registry::temperature(2.0),
        MAX_TOKENS_FIELD,
        STREAM_USAGE,
    ],
    setup_hint: "OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible local server)",
    example: "    model: gpt-4.1
    # base_url: http://localhost:8000/v1       # any OpenAI-compatible server; OPENAI_BASE_URL wins
    # max_tokens_field: auto                   # or max_tokens / max_completion_tokens
    # stream_usage: \"true\"                     # \"false\" for servers that refuse stream_options
",
    diagnosis: Diagnosis {
        authentication: "no valid API key: set OPENAI_API_KEY (or point OPENAI_BASE_URL at a server that needs none)",
        specific: None,
    },
    construct: registry::construct::<OpenAiProvider>,
};

/// `providers.openai.max_tokens_field`: which field carries the token budget.
pub const MAX_TOKENS_FIELD: registry::SettingSpec = registry::SettingSpec::file(
    "max_tokens_field",
    registry::Kind::Text(Some(|t| MaxTokensField::parse(t).map(|_| ()))),
)
.env(&["OPENAI_MAX_TOKENS_FIELD"]);

/// `providers.openai.stream_usage`: ask for the usage chunk (`stream_options.include_usage`).
pub const STREAM_USAGE: registry::SettingSpec = registry::SettingSpec::file(
    "stream_usage",
    registry::Kind::Text(Some(|t| parse_switch(t).map(|_| ()))),
)
.env(&["OPENAI_STREAM_USAGE"]);

fn parse_switch(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" | "yes" | "on" => Ok(true),
        "false" | "no" | "off" => Ok(false),
        other => Err(format!("`{other}` is not true or false")),
    }
}

/// Which field carries the token budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxTokensField {
    /// Chosen by endpoint: `max_completion_tokens` for api.openai.com, `max_tokens` for every
    /// other (OpenAI-compatible) server — llama-cpp-python ignores `max_completion_tokens`
    /// (5 asked, 149 sent). A server that refuses the field it got switches to the other.
    #[default]
    Auto,
    /// `max_completion_tokens`: required by OpenAI's reasoning models, accepted by all current
    /// OpenAI models.
    MaxCompletionTokens,
    /// `max_tokens`: for OpenAI-compatible servers that only know the older field.
    MaxTokens,
}

impl MaxTokensField {
    /// The config value (`auto`, `max_tokens`, `max_completion_tokens`).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "auto" => Ok(Self::Auto),
            "max_tokens" => Ok(Self::MaxTokens),
            "max_completion_tokens" => Ok(Self::MaxCompletionTokens),
            other => Err(format!(
                "`{other}` is not one of auto, max_tokens, max_completion_tokens"
            )),
        }
    }
}

/// Options of the OpenAI provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAiOptions {
    pub http: HttpSettings,
    pub max_tokens_field: MaxTokensField,
    /// Send `stream_options: {include_usage: true}` (some compatible servers reject it; others,
    /// like llama-cpp-python, ignore it — then usage is estimated, see [`Usage::estimated`]).
    pub stream_usage: bool,
}

impl Default for OpenAiOptions {
    fn default() -> Self {
        Self {
            http: HttpSettings::default(),
            max_tokens_field: MaxTokensField::Auto,
            stream_usage: true,
        }
    }
}

/// How a structured answer is asked for, from best to weakest. A server that refuses one level
/// (llama-cpp-python answers `json_schema` with HTTP 500 and a validation error) gets the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormatMode {
    /// `response_format: {type: json_schema, json_schema: {…}}`.
    #[default]
    JsonSchema,
    /// `response_format: {type: json_object}`, the schema in the instructions.
    JsonObject,
    /// No `response_format`; the schema in the instructions only.
    Instructions,
}

/// How a forced tool call is asked for, from best to weakest (`llama-server` refuses an object
/// `tool_choice`: "type must be string").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoiceMode {
    /// `tool_choice: {type: function, function: {name}}`.
    #[default]
    Named,
    /// `tool_choice: "required"` (plus the tool's name in the instructions).
    Required,
    /// `tool_choice: "auto"`, the tool's name in the instructions only.
    Instructions,
}

/// What one endpoint accepts, learned from its refusals and kept for the process so later
/// calls (and phases) do not pay for the same refusal again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct EndpointFeatures {
    pub response_format: ResponseFormatMode,
    pub tool_choice: ToolChoiceMode,
    /// `Some(true)`: `max_completion_tokens`; `Some(false)`: `max_tokens`; `None`: by option.
    pub max_completion_tokens: Option<bool>,
}

fn learned() -> &'static std::sync::Mutex<std::collections::HashMap<String, EndpointFeatures>> {
    static LEARNED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, EndpointFeatures>>,
    > = std::sync::OnceLock::new();
    LEARNED.get_or_init(Default::default)
}

/// What the process has learned about `base_url` so far (the default when nothing).
pub fn endpoint_features(base_url: &str) -> EndpointFeatures {
    learned()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(base_url.trim_end_matches('/'))
        .copied()
        .unwrap_or_default()
}

fn remember(base_url: &str, f: EndpointFeatures) {
    learned()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(base_url.to_string(), f);
}

/// Whether `base_url` is OpenAI's own API (whose rules differ from compatible servers').
pub fn is_openai_api(base_url: &str) -> bool {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host == "api.openai.com"
}

/// Whether `base_url` points at this machine or a private network (loopback, RFC 1918 and
/// unique-local addresses, `localhost`, `*.local` mDNS names): a self-hosted server whose
/// models have no per-token price.
pub fn is_local_url(base_url: &str) -> bool {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // `[::1]:8080` → `::1`; `host:8080` → `host`.
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    }
    .to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_unspecified(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xfe00) == 0xfc00
        }
        Err(_) => false,
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

    /// The JSON body exactly as it will be sent, with what this endpoint is known to accept.
    pub fn request_body(&self, request: &Request) -> Value {
        self.request_body_with(request, endpoint_features(&self.base_url))
    }

    /// Whether the budget goes in `max_completion_tokens` (else `max_tokens`).
    fn uses_max_completion_tokens(&self, features: EndpointFeatures) -> bool {
        features
            .max_completion_tokens
            .unwrap_or(match self.options.max_tokens_field {
                MaxTokensField::MaxCompletionTokens => true,
                MaxTokensField::MaxTokens => false,
                MaxTokensField::Auto => is_openai_api(&self.base_url),
            })
    }

    /// The body for an endpoint with `features`.
    pub fn request_body_with(&self, request: &Request, features: EndpointFeatures) -> Value {
        // What the weaker modes move into the instructions.
        let mut extra = Vec::new();
        let mut body = json!({
            "model": self.resolve_model(&request.model),
            "stream": true,
        });
        if self.options.stream_usage {
            body["stream_options"] = json!({"include_usage": true});
        }
        let budget = if self.uses_max_completion_tokens(features) {
            "max_completion_tokens"
        } else {
            "max_tokens"
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
                ToolChoice::Tool(name) => match features.tool_choice {
                    ToolChoiceMode::Named => {
                        json!({"type": "function", "function": {"name": name}})
                    }
                    ToolChoiceMode::Required => {
                        extra.push(format!("Answer by calling the tool `{name}`."));
                        json!("required")
                    }
                    ToolChoiceMode::Instructions => {
                        extra.push(format!(
                            "Answer by calling the tool `{name}` (a tool call, not text)."
                        ));
                        json!("auto")
                    }
                },
            };
        }
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(p) = request.top_p {
            body["top_p"] = json!(p);
        }
        if let Some(so) = &request.structured_output {
            let in_instructions = || {
                format!(
                    "Answer with one JSON object only (no prose, no code fence) that matches this JSON Schema:\n{}",
                    so.schema
                )
            };
            match features.response_format {
                ResponseFormatMode::JsonSchema => {
                    let mut schema = json!({"name": so.name, "schema": so.schema});
                    if let Some(d) = &so.description {
                        schema["description"] = json!(d);
                    }
                    body["response_format"] = json!({"type": "json_schema", "json_schema": schema});
                }
                ResponseFormatMode::JsonObject => {
                    extra.push(in_instructions());
                    body["response_format"] = json!({"type": "json_object"});
                }
                ResponseFormatMode::Instructions => extra.push(in_instructions()),
            }
        }
        body["messages"] = Value::Array(messages(request, &extra));
        body
    }

    /// The next weaker request for a refusal `error` of a request made with `features`, or
    /// `None` when the refusal is not about a feature that has a weaker form.
    fn degrade(
        &self,
        error: &LlmError,
        request: &Request,
        features: EndpointFeatures,
    ) -> Option<(EndpointFeatures, String)> {
        let LlmError::Validation { message, .. } = error else {
            return None;
        };
        let m = message.to_ascii_lowercase();
        let mut next = features;
        if request.structured_output.is_some()
            && (m.contains("response_format") || m.contains("json_schema"))
        {
            next.response_format = match features.response_format {
                ResponseFormatMode::JsonSchema => ResponseFormatMode::JsonObject,
                _ => ResponseFormatMode::Instructions,
            };
            if next.response_format != features.response_format {
                return Some((
                    next,
                    format!(
                        "response_format {:?} refused, using {:?}",
                        features.response_format, next.response_format
                    ),
                ));
            }
        }
        if matches!(request.tool_choice, ToolChoice::Tool(_))
            && (m.contains("tool_choice") || m.contains("must be string"))
        {
            next.tool_choice = match features.tool_choice {
                ToolChoiceMode::Named => ToolChoiceMode::Required,
                _ => ToolChoiceMode::Instructions,
            };
            if next.tool_choice != features.tool_choice {
                return Some((
                    next,
                    format!(
                        "tool_choice {:?} refused, using {:?}",
                        features.tool_choice, next.tool_choice
                    ),
                ));
            }
        }
        let completion = self.uses_max_completion_tokens(features);
        // OpenAI's "Use 'max_completion_tokens' instead", or a server that does not know it.
        let switch = if completion {
            m.contains("max_completion_tokens") && !m.contains("instead")
        } else {
            m.contains("max_completion_tokens")
        };
        if switch {
            next.max_completion_tokens = Some(!completion);
            return Some((
                next,
                format!(
                    "{} refused, using {}",
                    if completion {
                        "max_completion_tokens"
                    } else {
                        "max_tokens"
                    },
                    if completion {
                        "max_tokens"
                    } else {
                        "max_completion_tokens"
                    }
                ),
            ));
        }
        None
    }
}

/// The history as Chat Completions messages: a `system` message first; each assistant turn
/// with its text and `tool_calls` (arguments as a JSON string); each tool result as a `tool`
/// message right after the assistant turn, before any user text of the same turn (the API
/// requires every call to be answered by the messages that immediately follow it).
fn messages(request: &Request, extra_instructions: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut system: Vec<&str> = request
        .system
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .into_iter()
        .collect();
    system.extend(extra_instructions.iter().map(String::as_str));
    if !system.is_empty() {
        out.push(json!({"role": "system", "content": system.join("\n\n")}));
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
                // No text beside tool calls: leave `content` out. The API allows `null` there,
                // but llama-cpp-python refuses it, and an absent key is valid everywhere.
                let mut msg = json!({"role": "assistant"});
                if !text.is_empty() {
                    msg["content"] = json!(text);
                }
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
        // Some compatible servers answer a request they cannot accept with a 5xx carrying a
        // validation error (llama-cpp-python's pydantic errors on `response_format`); retrying
        // the same body cannot help, so it is a request error, not "overloaded".
        500..=599 if is_validation_message(&message) => LlmError::Validation { provider, message },
        500..=599 => LlmError::Unavailable { provider, message },
        _ => LlmError::Validation { provider, message },
    }
}

/// A server's message that refuses the request's content rather than reporting a fault.
fn is_validation_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "validation error",
        "input should be",
        "must be string",
        "unsupported parameter",
        "unrecognized request argument",
        "extra inputs are not permitted",
        "is not supported",
    ]
    .iter()
    .any(|p| m.contains(p))
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
    /// Characters of the messages and tools sent, for the estimate when no usage arrives.
    prompt_chars: usize,
    /// Characters of text and tool arguments received.
    output_chars: usize,
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
                estimated: false,
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
                self.output_chars += t.chars().count();
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
                self.output_chars += args.chars().count();
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
        // A server that streams no usage (llama-cpp-python ignores `include_usage`) would
        // otherwise count as 0 tokens, blinding costs, logs and token bounds.
        let usage = self
            .usage
            .or_else(|| Some(Usage::estimate(self.prompt_chars, self.output_chars)));
        Ok(closing_events(
            usage,
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
        let mut options = options;
        let invalid = |key: &str, message: String| LlmError::Config {
            provider: PROVIDER.into(),
            message: format!("providers.openai.{key}: {message}"),
        };
        if let Some(t) = settings.str(MAX_TOKENS_FIELD.key) {
            options.max_tokens_field =
                MaxTokensField::parse(t).map_err(|m| invalid(MAX_TOKENS_FIELD.key, m))?;
        }
        if let Some(t) = settings.str(STREAM_USAGE.key) {
            options.stream_usage = parse_switch(t).map_err(|m| invalid(STREAM_USAGE.key, m))?;
        }
        Self::new(key, base, options, catalog)
    }
}

#[async_trait::async_trait]
impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        PROVIDER
    }

    fn local_endpoint(&self) -> Option<&str> {
        is_local_url(&self.base_url).then_some(self.base_url.as_str())
    }

    fn sent_as(&self, request: &Request) -> Option<Value> {
        // From the endpoint's learned features, not a rebuilt body: serialising the whole
        // history again for three fields would double the work of every call.
        let f = endpoint_features(&self.base_url);
        let forced =
            matches!(request.tool_choice, ToolChoice::Tool(_)) && !request.tools.is_empty();
        Some(json!({
            "response_format": match request.structured_output {
                Some(_) => json!(f.response_format),
                None => json!("text"),
            },
            "tool_choice": forced.then(|| json!(f.tool_choice)),
            "max_tokens_field": if self.uses_max_completion_tokens(f) {
                "max_completion_tokens"
            } else {
                "max_tokens"
            },
        }))
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError> {
        self.stream_counted(request).await.0
    }

    async fn stream_counted(
        &self,
        request: &Request,
    ) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
        let mut features = endpoint_features(&self.base_url);
        // Each refusal steps one feature down one level; a handful of steps covers them all.
        for _ in 0..5 {
            let body = self.request_body_with(request, features);
            let (result, counter) = self.send(body).await;
            if let Err(e) = &result
                && let Some((next, why)) = self.degrade(e, request, features)
            {
                tracing::warn!(endpoint = %self.base_url, "{why} (the server refused it: {e})");
                remember(&self.base_url, next);
                features = next;
                continue;
            }
            return (result, counter);
        }
        let body = self.request_body_with(request, features);
        self.send(body).await
    }
}

impl OpenAiProvider {
    async fn send(&self, body: Value) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
        let model = body["model"].as_str().unwrap_or_default().to_string();
        let prompt_chars = body["messages"].to_string().chars().count()
            + body
                .get("tools")
                .map_or(0, |t| t.to_string().chars().count());
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
                prompt_chars,
                output_chars: 0,
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
        // No text beside the calls: the key is left out (llama-cpp-python refuses `null`).
        assert!(m[2].get("content").is_none(), "{}", m[2]);
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
    fn a_5xx_carrying_a_validation_error_is_a_request_error_not_overloaded() {
        let f = |status: u16, message: &str| HttpFailure {
            status,
            body: json!({"error": {"message": message, "type": "internal_server_error"}})
                .to_string(),
            retry_after: None,
        };
        let e = error_from_status(
            "m",
            f(
                500,
                "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should be 'text' or 'json_object'",
            ),
        );
        assert_eq!(e.kind(), "validation", "{e}");
        assert!(e.to_string().contains("response_format"), "{e}");
        let e = error_from_status("m", f(503, "The server is overloaded or not ready yet."));
        assert_eq!(e.kind(), "unavailable", "{e}");
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
            prompt_chars: 0,
            output_chars: 0,
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
                    cache_write: 0,
                    estimated: false
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
