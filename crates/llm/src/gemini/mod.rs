//! Google Gemini (Generative Language API): `POST {base}/v1beta/models/{model}:
//! streamGenerateContent?alt=sse` with the key in `x-goog-api-key`, streamed as SSE where every
//! event is a whole `GenerateContentResponse`.
//!
//! Function calls arrive whole in one chunk (arguments as a JSON object) and usually without an
//! id: ids are synthesised (`gemini_call_…`, stable for a given response) and, on the way back,
//! results are matched to the calls of the preceding model turn by id, else by position, and
//! sent as `functionResponse` parts carrying the call's *name* (which is what Gemini matches
//! on). Usage comes in `usageMetadata`, cumulative in every chunk; `promptTokenCount` includes
//! the cached tokens, which are split out to match [`Usage`]'s convention. There is no terminal
//! event: the answer is complete when a candidate carried a `finishReason` and the body ended.
//!
//! Prompt caching is implicit on Gemini 2.5 (reported as `cachedContentTokenCount`); explicit
//! caches are separate resources and not used, so [`crate::CacheHints`] have no effect here.

pub mod schema;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

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
pub use schema::sanitize_schema;

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
const PROVIDER: &str = "gemini";

/// Gemini in the provider registry.
pub static SPEC: ProviderSpec = ProviderSpec {
    name: PROVIDER,
    local: false,
    // Google's own clients read GEMINI_API_KEY first, then GOOGLE_API_KEY.
    credential_vars: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    key: KeyUse::Required,
    endpoint: registry::base_url(&["GEMINI_BASE_URL"], DEFAULT_BASE_URL),
    settings: &[registry::MAX_TOKENS, registry::temperature(2.0)],
    setup_hint: "GEMINI_API_KEY (or GOOGLE_API_KEY)",
    example: "    model: gemini-2.5-flash
",
    diagnosis: Diagnosis {
        authentication: "no valid API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)",
        specific: None,
    },
    construct: registry::construct::<GeminiProvider>,
};
/// Prefix of the ids this crate makes up for calls that came without one. Such ids are not
/// sent back to the API (it never saw them).
pub const SYNTHETIC_ID_PREFIX: &str = "gemini_call_";

/// The Gemini provider. `Debug` never shows the key.
#[derive(Clone)]
pub struct GeminiProvider {
    endpoint: KeyedEndpoint,
    catalog: Arc<Catalog>,
}

impl std::fmt::Debug for GeminiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiProvider")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl GeminiProvider {
    /// A provider with an explicit key and base URL (e.g. [`DEFAULT_BASE_URL`]; a trailing `/`
    /// is ignored).
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

    /// Key from `GEMINI_API_KEY`, else `GOOGLE_API_KEY`; base URL from `GEMINI_BASE_URL`
    /// (default [`DEFAULT_BASE_URL`]).
    pub fn from_env(settings: HttpSettings, catalog: Arc<Catalog>) -> Result<Self, LlmError> {
        SPEC.env_provider(settings, catalog)
    }

    pub fn base_url(&self) -> &str {
        &self.endpoint.base_url
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Catalog aliases resolve to the API's model id; a `models/` prefix is dropped; anything
    /// else is sent as given.
    pub fn resolve_model(&self, model: &str) -> String {
        let model = model.strip_prefix("models/").unwrap_or(model);
        self.catalog.resolve(PROVIDER, model)
    }

    /// The URL of a streamed call to `model` (tuned models keep their own collection).
    pub fn stream_url(&self, model: &str) -> String {
        let resource = if model.starts_with("tunedModels/") {
            model.to_string()
        } else {
            format!("models/{model}")
        };
        format!(
            "{}/v1beta/{resource}:streamGenerateContent?alt=sse",
            self.endpoint.base_url
        )
    }

    /// The JSON body exactly as it will be sent.
    pub fn request_body(&self, request: &Request) -> Value {
        let mut body = json!({"contents": contents(request)});
        if let Some(s) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
            body["systemInstruction"] = json!({"parts": [{"text": s}]});
        }
        if !request.tools.is_empty() {
            let declarations: Vec<Value> = request
                .tools
                .iter()
                .map(|t| {
                    let mut d = json!({"name": t.name, "description": t.description});
                    let params = sanitize_schema(&t.schema);
                    // An object without properties is rejected: a tool without arguments is
                    // declared without `parameters`.
                    if !schema::is_empty_object(&params) {
                        d["parameters"] = params;
                    }
                    d
                })
                .collect();
            body["tools"] = json!([{"functionDeclarations": declarations}]);
            let config = match &request.tool_choice {
                ToolChoice::Auto => json!({"mode": "AUTO"}),
                ToolChoice::Any => json!({"mode": "ANY"}),
                ToolChoice::None => json!({"mode": "NONE"}),
                ToolChoice::Tool(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
            };
            body["toolConfig"] = json!({"functionCallingConfig": config});
        }
        let mut generation = json!({"maxOutputTokens": request.max_tokens});
        if let Some(t) = request.temperature {
            generation["temperature"] = json!(t);
        }
        if let Some(p) = request.top_p {
            generation["topP"] = json!(p);
        }
        if let Some(so) = &request.structured_output {
            generation["responseMimeType"] = json!("application/json");
            generation["responseSchema"] = sanitize_schema(&so.schema);
        }
        body["generationConfig"] = generation;
        body
    }
}

/// A `functionResponse.response` must be an object: Gemini reads `output` as the result and
/// `error` as a failure; a JSON object result is sent as it is.
fn response_object(output: &ToolOutput, is_error: bool) -> Value {
    let value = match output {
        ToolOutput::Json(v) => v.clone(),
        ToolOutput::Text(t) => json!(t),
    };
    if is_error {
        return json!({"error": value});
    }
    match value {
        Value::Object(_) => value,
        other => json!({"output": other}),
    }
}

struct Content {
    role: &'static str,
    parts: Vec<Value>,
    /// Calls made in this (model) content: id and name, in order.
    calls: Vec<(String, String)>,
}

/// The history as Gemini `contents`: roles `user` / `model`, blank text and empty turns
/// dropped, consecutive turns of one role merged. Tool results become `functionResponse` parts
/// right after the model turn that made the calls, in call order, one per call (a call left
/// without a result is answered with an error, since Gemini requires as many responses as
/// calls); a result that answers no call of that turn is sent as text instead.
fn contents(request: &Request) -> Vec<Value> {
    let mut out: Vec<Content> = Vec::new();
    for m in &request.messages {
        let texts: Vec<Value> = m
            .content
            .iter()
            .filter_map(|p| match p {
                Part::Text(t) if !t.trim().is_empty() => Some(json!({"text": t})),
                _ => None,
            })
            .collect();
        match m.role {
            Role::Assistant => {
                let mut parts = texts;
                let mut calls = Vec::new();
                for p in &m.content {
                    if let Part::ToolCall(c) = p {
                        let args = match &c.arguments {
                            v @ Value::Object(_) => v.clone(),
                            Value::Null => json!({}),
                            other => json!({"value": other}),
                        };
                        let mut call = json!({"name": c.name, "args": args});
                        if !c.id.starts_with(SYNTHETIC_ID_PREFIX) {
                            call["id"] = json!(c.id);
                        }
                        parts.push(json!({"functionCall": call}));
                        calls.push((c.id.clone(), c.name.clone()));
                    }
                }
                push(&mut out, "model", parts, calls);
            }
            Role::User => {
                let previous_calls: Vec<(String, String)> = match out.last() {
                    Some(c) if c.role == "model" => c.calls.clone(),
                    _ => Vec::new(),
                };
                let mut answered: HashMap<usize, Value> = HashMap::new();
                let mut loose: Vec<Value> = Vec::new();
                let results: Vec<_> = m
                    .content
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolResult(r) => Some(r),
                        _ => None,
                    })
                    .collect();
                for (position, r) in results.iter().enumerate() {
                    let slot = previous_calls
                        .iter()
                        .position(|(id, _)| *id == r.call_id)
                        .or_else(|| {
                            // Ids lost (e.g. a history edited by hand): match by position.
                            (position < previous_calls.len()
                                && !previous_calls.iter().any(|(id, _)| {
                                    results.iter().any(|other| other.call_id == *id)
                                }))
                            .then_some(position)
                        })
                        .filter(|slot| !answered.contains_key(slot));
                    match slot {
                        Some(slot) => {
                            let (id, name) = &previous_calls[slot];
                            let mut fr = json!({
                                "name": name,
                                "response": response_object(&r.output, r.is_error),
                            });
                            if !id.starts_with(SYNTHETIC_ID_PREFIX) {
                                fr["id"] = json!(id);
                            }
                            answered.insert(slot, json!({"functionResponse": fr}));
                        }
                        None => {
                            let body = match &r.output {
                                ToolOutput::Text(t) => t.clone(),
                                ToolOutput::Json(v) => v.to_string(),
                            };
                            let label = if r.is_error { "failed" } else { "returned" };
                            loose.push(
                                json!({"text": format!("Tool call {} {label}: {body}", r.call_id)}),
                            );
                        }
                    }
                }
                let mut parts = Vec::new();
                if !previous_calls.is_empty() {
                    for (slot, (id, name)) in previous_calls.iter().enumerate() {
                        let part = answered.remove(&slot).unwrap_or_else(|| {
                            let mut fr = json!({
                                "name": name,
                                "response": {"error": "the tool call was not answered"},
                            });
                            if !id.starts_with(SYNTHETIC_ID_PREFIX) {
                                fr["id"] = json!(id);
                            }
                            json!({"functionResponse": fr})
                        });
                        parts.push(part);
                    }
                }
                parts.extend(loose);
                parts.extend(texts);
                push(&mut out, "user", parts, Vec::new());
            }
        }
    }
    out.into_iter()
        .map(|c| json!({"role": c.role, "parts": c.parts}))
        .collect()
}

fn push(
    out: &mut Vec<Content>,
    role: &'static str,
    parts: Vec<Value>,
    calls: Vec<(String, String)>,
) {
    if parts.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.role == role => {
            last.parts.extend(parts);
            last.calls.extend(calls);
        }
        _ => out.push(Content { role, parts, calls }),
    }
}

/// Google's `retryDelay` (`"13s"`, `"0.5s"`) from a `RetryInfo` error detail.
fn retry_delay(error: &Value) -> Option<Duration> {
    error["details"]
        .as_array()?
        .iter()
        .filter_map(|d| d["retryDelay"].as_str())
        .filter_map(|s| s.trim().strip_suffix('s')?.parse::<f64>().ok())
        .find(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Map an error answer (`{"error": {"code", "message", "status", "details"}}`) to a typed error.
pub fn error_from_status(model: &str, f: HttpFailure) -> LlmError {
    let parsed: Value = serde_json::from_str(&f.body).unwrap_or(Value::Null);
    // Some proxies answer with a one-element array of errors.
    let e = parsed
        .get("error")
        .or_else(|| parsed.get(0).and_then(|p| p.get("error")))
        .cloned()
        .unwrap_or(Value::Null);
    let message = e["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {}: {}", f.status, f.body.trim()));
    let retry_after = f.retry_after.or_else(|| retry_delay(&e));
    classify(
        f.status,
        e["status"].as_str().unwrap_or(""),
        message,
        model,
        retry_after,
    )
}

fn classify(
    status: u16,
    code: &str,
    message: String,
    model: &str,
    retry_after: Option<Duration>,
) -> LlmError {
    let provider = PROVIDER.to_string();
    let lower = message.to_ascii_lowercase();
    // A bad key is a 400 INVALID_ARGUMENT ("API key not valid"); a missing one is a 403
    // ("unregistered callers"). Both are authentication problems, whatever the status says.
    if lower.contains("api key not valid")
        || lower.contains("api key expired")
        || lower.contains("unregistered callers")
        || code == "UNAUTHENTICATED"
    {
        return LlmError::Authentication { provider, message };
    }
    if lower.contains("exceeds the maximum number of tokens") {
        return LlmError::ContextTooLong { provider, message };
    }
    match (status, code) {
        (401, _) => LlmError::Authentication { provider, message },
        (403, _) | (_, "PERMISSION_DENIED") => LlmError::PermissionDenied { provider, message },
        (404, _) | (_, "NOT_FOUND") => LlmError::ModelNotFound {
            provider,
            model: model.to_string(),
            message,
        },
        (429, _) | (_, "RESOURCE_EXHAUSTED") => LlmError::RateLimited {
            provider,
            retry_after,
            message,
        },
        (504, _) | (_, "DEADLINE_EXCEEDED") => LlmError::Timeout { provider, message },
        (500..=599, _) | (_, "UNAVAILABLE" | "INTERNAL") => {
            LlmError::Unavailable { provider, message }
        }
        _ => LlmError::Validation { provider, message },
    }
}

/// Map a `finishReason`. `STOP` after function calls is a tool-use stop (Gemini has no
/// separate reason for it).
pub fn stop_reason(finish: &str, called_tools: bool) -> StopReason {
    match finish {
        "STOP" if called_tools => StopReason::ToolUse,
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            StopReason::ContentFiltered
        }
        "MALFORMED_FUNCTION_CALL" | "UNEXPECTED_TOOL_CALL" => StopReason::MalformedOutput,
        other => StopReason::Other(other.to_string()),
    }
}

/// Decodes `GenerateContentResponse` chunks.
struct Decoder {
    requested_model: String,
    model: Option<String>,
    response_id: Option<String>,
    calls: usize,
    finish: Option<String>,
    usage: Option<Usage>,
}

impl Decoder {
    fn new(requested_model: String) -> Self {
        Self {
            requested_model,
            model: None,
            response_id: None,
            calls: 0,
            finish: None,
            usage: None,
        }
    }

    /// A made-up id for the `n`-th call of this response: stable for a given response (its
    /// `responseId` is part of it) and unique within it.
    fn synthetic_id(&self, n: usize) -> String {
        match &self.response_id {
            Some(r) => {
                let r: String = r
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .take(40)
                    .collect();
                format!("{SYNTHETIC_ID_PREFIX}{r}_{n}")
            }
            None => format!("{SYNTHETIC_ID_PREFIX}{n}"),
        }
    }
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

impl SseDecoder for Decoder {
    fn on_event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, LlmError> {
        let v: Value =
            serde_json::from_str(&event.data).map_err(|e| bad_chunk(event, &e.to_string()))?;
        if let Some(e) = v.get("error").filter(|e| e.is_object()) {
            return Err(classify(
                e["code"].as_u64().unwrap_or(500) as u16,
                e["status"].as_str().unwrap_or(""),
                e["message"]
                    .as_str()
                    .unwrap_or("error chunk without a message")
                    .to_string(),
                &self.requested_model,
                retry_delay(e),
            ));
        }
        if let Some(m) = v["modelVersion"].as_str().filter(|m| !m.is_empty()) {
            self.model = Some(m.to_string());
        }
        if let Some(r) = v["responseId"].as_str().filter(|r| !r.is_empty()) {
            self.response_id = Some(r.to_string());
        }
        if let Some(u) = v.get("usageMetadata").filter(|u| u.is_object()) {
            let count = |k: &str| u[k].as_u64().unwrap_or(0);
            let cached = count("cachedContentTokenCount");
            self.usage = Some(Usage {
                input: (count("promptTokenCount") + count("toolUsePromptTokenCount"))
                    .saturating_sub(cached),
                // Thinking tokens are billed as output.
                output: count("candidatesTokenCount") + count("thoughtsTokenCount"),
                cache_read: cached,
                cache_write: 0,
                estimated: false,
            });
        }
        if let Some(reason) = v["promptFeedback"]["blockReason"].as_str() {
            // The prompt itself was blocked: no candidates will come.
            self.finish = Some(match reason {
                "OTHER" => "OTHER".into(),
                _ => "SAFETY".into(),
            });
        }
        let mut out = Vec::new();
        let Some(candidate) = v["candidates"].as_array().and_then(|c| c.first()) else {
            return Ok(out);
        };
        for part in candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if part["thought"] == json!(true) {
                continue; // thought summaries are not part of the answer
            }
            if let Some(t) = part["text"].as_str() {
                if !t.is_empty() {
                    out.push(StreamEvent::TextDelta(t.to_string()));
                }
            } else if let Some(fc) = part.get("functionCall") {
                let name = fc["name"]
                    .as_str()
                    .ok_or_else(|| bad_chunk(event, "functionCall without a name"))?;
                let id = fc["id"]
                    .as_str()
                    .filter(|i| !i.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| self.synthetic_id(self.calls));
                self.calls += 1;
                out.push(StreamEvent::ToolCallStart {
                    id: id.clone(),
                    name: name.to_string(),
                });
                // Arguments are an object on the wire. Anything else (a string from a proxy, a
                // model's broken output) is passed on raw so the fold reports it as malformed.
                let raw = match &fc["args"] {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if !raw.is_empty() {
                    out.push(StreamEvent::ToolCallArgsDelta {
                        id: id.clone(),
                        json: raw,
                    });
                }
                out.push(StreamEvent::ToolCallEnd { id });
            }
        }
        if let Some(f) = candidate["finishReason"].as_str() {
            self.finish = Some(f.to_string());
        }
        Ok(out)
    }

    fn finished(&self) -> bool {
        // No terminal event: read the body to its end.
        false
    }

    fn finish(&mut self) -> Result<Vec<StreamEvent>, String> {
        let Some(finish) = &self.finish else {
            return Err("the stream ended before the model finished (no finishReason)".into());
        };
        Ok(closing_events(
            self.usage,
            stop_reason(finish, self.calls > 0),
            None,
            self.model.as_deref(),
            &self.requested_model,
        ))
    }
}

impl FromSettings for GeminiProvider {
    type Options = HttpSettings;

    /// From resolved settings (`base_url`) and the key in `GEMINI_API_KEY`, else
    /// `GOOGLE_API_KEY`, describing the endpoint and the keys found into `described`.
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
impl Provider for GeminiProvider {
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
        let model = self.resolve_model(&request.model);
        let post = JsonPost {
            client: self.endpoint.client.clone(),
            url: self.stream_url(&model),
            body: self.request_body(request).to_string().into_bytes(),
            headers: Vec::new(),
            secret: Some(("x-goog-api-key", self.endpoint.api_key.clone())),
        };
        let m = model.clone();
        stream_json_post(
            PROVIDER,
            Framing::Sse,
            self.endpoint.settings.retry,
            post,
            move |f: HttpFailure| error_from_status(&m, f),
            move || Decoder::new(model.clone()),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, ToolCall, ToolDef, ToolResult};

    fn provider() -> GeminiProvider {
        GeminiProvider::new(
            "AIzaTEST",
            DEFAULT_BASE_URL,
            HttpSettings::default(),
            Arc::new(Catalog::builtin()),
        )
        .unwrap()
    }

    fn call(id: &str, name: &str) -> Part {
        Part::ToolCall(ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: json!({"x": 1}),
        })
    }

    #[test]
    fn body_has_system_tools_choice_and_generation_config() {
        let mut req = Request::new("gemini-2.5-flash", vec![Message::user("q")], 99);
        req.system = Some("be brief".into());
        req.temperature = Some(0.5);
        req.tools = vec![
            ToolDef {
                name: "get_weather".into(),
                description: "w".into(),
                schema: json!({"type": "object", "additionalProperties": false,
                    "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            },
            ToolDef {
                name: "now".into(),
                description: "t".into(),
                schema: json!({"type": "object", "properties": {}}),
            },
        ];
        req.tool_choice = ToolChoice::Tool("now".into());
        let p = provider();
        let b = p.request_body(&req);
        assert_eq!(
            b["systemInstruction"],
            json!({"parts": [{"text": "be brief"}]})
        );
        let decl = &b["tools"][0]["functionDeclarations"];
        assert_eq!(
            decl[0]["parameters"],
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
        );
        assert!(decl[1].get("parameters").is_none(), "{}", decl[1]);
        assert_eq!(
            b["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["now"]}})
        );
        assert_eq!(
            b["generationConfig"],
            json!({"maxOutputTokens": 99, "temperature": 0.5})
        );
        assert_eq!(
            p.stream_url("gemini-2.5-flash"),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            p.resolve_model("models/gemini-2.5-flash"),
            "gemini-2.5-flash"
        );
    }

    #[test]
    fn results_follow_their_calls_in_call_order_by_id_then_position() {
        let req = Request::new(
            "gemini-2.5-flash",
            vec![
                Message::user("q"),
                Message {
                    role: Role::Assistant,
                    content: vec![
                        call("gemini_call_0", "a"),
                        call("server-id-7", "b"),
                        call("gemini_call_2", "c"),
                    ],
                },
                // Out of order, one missing, plus an orphan and user text.
                Message {
                    role: Role::User,
                    content: vec![
                        Part::ToolResult(ToolResult::text("server-id-7", "B")),
                        Part::ToolResult(ToolResult::json("gemini_call_0", json!([1, 2]))),
                        Part::ToolResult(ToolResult::error("elsewhere", "lost")),
                        Part::Text("go on".into()),
                    ],
                },
                Message::user("and more"),
            ],
            10,
        );
        let c = contents(&req);
        assert_eq!(c.len(), 3);
        assert_eq!(c[1]["role"], "model");
        assert_eq!(
            c[1]["parts"][0],
            json!({"functionCall": {"name": "a", "args": {"x": 1}}})
        );
        assert_eq!(c[1]["parts"][1]["functionCall"]["id"], "server-id-7");
        let parts = c[2]["parts"].as_array().unwrap();
        assert_eq!(
            parts[0],
            json!({"functionResponse": {"name": "a", "response": {"output": [1, 2]}}})
        );
        assert_eq!(
            parts[1],
            json!({"functionResponse": {"name": "b", "id": "server-id-7", "response": {"output": "B"}}})
        );
        assert_eq!(
            parts[2]["functionResponse"]["response"],
            json!({"error": "the tool call was not answered"})
        );
        assert_eq!(
            parts[3],
            json!({"text": "Tool call elsewhere failed: lost"})
        );
        assert_eq!(parts[4], json!({"text": "go on"}));
        assert_eq!(parts[5], json!({"text": "and more"}), "merged user turns");

        // Ids lost entirely: matched by position.
        let req = Request::new(
            "m",
            vec![
                Message {
                    role: Role::Assistant,
                    content: vec![call("x1", "first"), call("x2", "second")],
                },
                Message::tool_results(vec![
                    ToolResult::text("y1", "one"),
                    ToolResult::text("y2", "two"),
                ]),
            ],
            10,
        );
        let c = contents(&req);
        assert_eq!(c[1]["parts"][0]["functionResponse"]["name"], "first");
        assert_eq!(
            c[1]["parts"][1]["functionResponse"]["response"]["output"],
            "two"
        );
    }

    #[test]
    fn decoder_synthesises_stable_ids_and_maps_usage_and_stop() {
        let ev = |v: Value| SseEvent {
            event: None,
            data: v.to_string(),
            id: None,
        };
        let mut d = Decoder::new("gemini-2.5-flash".into());
        let mut out = Vec::new();
        out.extend(
            d.on_event(&ev(json!({
                "candidates": [{"content": {"role": "model", "parts": [
                    {"text": "thinking…", "thought": true},
                    {"text": "Let me look."},
                    {"functionCall": {"name": "f", "args": {"a": 1}}},
                    {"functionCall": {"name": "g"}}
                ]}, "index": 0}],
                "responseId": "r/Id+9",
                "modelVersion": "gemini-2.5-flash"
            })))
            .unwrap(),
        );
        out.extend(d.on_event(&ev(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 20, "thoughtsTokenCount": 5, "cachedContentTokenCount": 60, "totalTokenCount": 125}
        }))).unwrap());
        out.extend(d.finish().unwrap());
        assert_eq!(
            out,
            vec![
                StreamEvent::TextDelta("Let me look.".into()),
                StreamEvent::ToolCallStart {
                    id: "gemini_call_rId9_0".into(),
                    name: "f".into()
                },
                StreamEvent::ToolCallArgsDelta {
                    id: "gemini_call_rId9_0".into(),
                    json: "{\"a\":1}".into()
                },
                StreamEvent::ToolCallEnd {
                    id: "gemini_call_rId9_0".into()
                },
                StreamEvent::ToolCallStart {
                    id: "gemini_call_rId9_1".into(),
                    name: "g".into()
                },
                StreamEvent::ToolCallEnd {
                    id: "gemini_call_rId9_1".into()
                },
                StreamEvent::Usage(Usage {
                    input: 40,
                    output: 25,
                    cache_read: 60,
                    cache_write: 0,
                    estimated: false
                }),
                StreamEvent::Done {
                    stop_reason: StopReason::ToolUse,
                    latency: None,
                    model_used: "gemini-2.5-flash".into()
                },
            ]
        );
        let mut d = Decoder::new("m".into());
        assert!(d.finish().unwrap_err().contains("no finishReason"));
        d.on_event(&ev(
            json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}),
        ))
        .unwrap();
        assert!(matches!(
            d.finish().unwrap().last(),
            Some(StreamEvent::Done {
                stop_reason: StopReason::ContentFiltered,
                ..
            })
        ));
    }

    #[test]
    fn errors_by_status_message_and_retry_info() {
        let f = |status, body: &str| HttpFailure {
            status,
            retry_after: None,
            body: body.into(),
        };
        let e = error_from_status(
            "m",
            f(
                400,
                r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}"#,
            ),
        );
        assert_eq!(e.kind(), "authentication");
        let e = error_from_status(
            "m",
            f(
                400,
                r#"{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#,
            ),
        );
        assert_eq!(e.kind(), "context_too_long");
        let e = error_from_status(
            "m",
            f(
                429,
                r#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13s"}]}}"#,
            ),
        );
        match e {
            LlmError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(13)))
            }
            other => panic!("{other}"),
        }
        assert_eq!(
            error_from_status("m", f(404, "{}")).kind(),
            "model_not_found"
        );
        assert_eq!(error_from_status("m", f(503, "")).kind(), "unavailable");
        assert_eq!(error_from_status("m", f(504, "")).kind(), "timeout");
    }
}
