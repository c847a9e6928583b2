//! Ollama's native chat API: `POST {host}/api/chat`, streamed as newline-delimited JSON.
//!
//! Each line is `{model, message: {role, content, tool_calls?}, done}`; the last one has
//! `done: true`, `done_reason`, the token counts (`prompt_eval_count`, `eval_count`) and
//! `total_duration` in nanoseconds. Tool calls arrive whole in one line, arguments as an object
//! and without ids: ids are synthesised, and results go back as `tool` messages naming the tool
//! (`tool_name`), which is how Ollama ties them to calls.
//!
//! `options.num_ctx` is always sent: the server's default context is small and a longer prompt
//! is silently truncated from the front (the system prompt goes first), so the window comes
//! from the configuration, else the catalog, capped at [`DEFAULT_NUM_CTX`] because the KV cache
//! grows with it. There is no API key and no price: local models cost $0 ([`SPEC`] is `local`). Ollama cannot be forced to call a tool; a named tool
//! choice declares only that tool, `none` declares none.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::error::LlmError;
use crate::http::sse::SseEvent;
use crate::http::{
    AttemptCounter, Framing, HttpFailure, HttpSettings, JsonPost, SseDecoder, build_client,
    closing_events, stream_json_post,
};
use crate::provider::{EventStream, Provider};
use crate::registry::{
    self, Described, Diagnosis, FromSettings, KeyUse, Kind, ProviderSpec, SettingSpec, Settings,
};
use crate::types::{Part, Request, Role, StopReason, StreamEvent, ToolChoice, ToolOutput, Usage};

pub const DEFAULT_HOST: &str = "http://localhost:11434";
/// The context window asked for when neither the configuration nor the catalog gives one, and
/// the cap on the catalog's figure.
pub const DEFAULT_NUM_CTX: u32 = 32768;
const PROVIDER: &str = "ollama";
/// Prefix of the ids made up for tool calls (Ollama sends none).
pub const SYNTHETIC_ID_PREFIX: &str = "ollama_call_";

/// Ollama in the provider registry.
pub static SPEC: ProviderSpec = ProviderSpec {
    name: PROVIDER,
    local: true,
    credential_vars: &[],
    key: KeyUse::None,
    endpoint: SettingSpec::file("host", Kind::Text(Some(check_host)))
        .env(&["OLLAMA_HOST"])
        .default(DEFAULT_HOST),
    settings: &[SettingSpec::file(
        "num_ctx",
        Kind::Count { min: 1, max: None },
    )],
    setup_hint: "a running Ollama server (OLLAMA_HOST, default http://localhost:11434)",
    example: "    model: llama3.1:8b
    # host: http://localhost:11434             # OLLAMA_HOST wins over this
    num_ctx: 16384
",
    // A local server has no credentials of its own; one behind an authenticating proxy may
    // still refuse a call.
    diagnosis: Diagnosis {
        authentication: "the server rejected the credentials",
        specific: None,
    },
    construct: registry::construct::<OllamaProvider>,
};

fn check_host(host: &str) -> Result<(), String> {
    normalize_host(host).map(drop).map_err(|e| e.to_string())
}

/// Options of the Ollama provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OllamaOptions {
    pub http: HttpSettings,
    /// Context window to ask for; `None`: the catalog's window for the model, capped at
    /// [`DEFAULT_NUM_CTX`] (or [`DEFAULT_NUM_CTX`] for models the catalog does not list).
    pub num_ctx: Option<u32>,
}

/// The Ollama provider.
#[derive(Debug, Clone)]
pub struct OllamaProvider {
    client: reqwest::Client,
    host: String,
    options: OllamaOptions,
    catalog: Arc<Catalog>,
}

/// Turn an `OLLAMA_HOST`-style value into a base URL the way Ollama's own client does: the
/// scheme defaults to `http`; a missing port is 11434 without a scheme, else the scheme's own
/// (80 / 443). `host:port`, `0.0.0.0`, `https://box.example` all work; a trailing `/` is dropped.
pub fn normalize_host(value: &str) -> Result<String, LlmError> {
    let value = value.trim();
    let (scheme, rest, default_port) = match value.split_once("://") {
        None => ("http", value, "11434"),
        Some(("http", rest)) => ("http", rest, "80"),
        Some(("https", rest)) => ("https", rest, "443"),
        Some((other, _)) => {
            return Err(LlmError::Config {
                provider: PROVIDER.into(),
                message: format!(
                    "OLLAMA_HOST `{value}`: unsupported scheme `{other}` (use http or https)"
                ),
            });
        }
    };
    let rest = rest.trim_end_matches('/');
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return Err(LlmError::Config {
            provider: PROVIDER.into(),
            message: format!("OLLAMA_HOST `{value}` has no host name"),
        });
    }
    // `[::1]:11434` and `[::1]` carry the port after the bracket; `host:port` after the colon.
    let has_port = match authority.rfind(']') {
        Some(close) => authority[close..].contains(':'),
        None => authority.contains(':'),
    };
    let authority = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:{default_port}")
    };
    Ok(format!("{scheme}://{authority}{path}"))
}

impl OllamaProvider {
    /// A provider for the server at `host` (see [`normalize_host`] for the accepted forms).
    pub fn new(
        host: &str,
        options: OllamaOptions,
        catalog: Arc<Catalog>,
    ) -> Result<Self, LlmError> {
        Ok(Self {
            client: build_client(PROVIDER, &options.http)?,
            host: normalize_host(host)?,
            options,
            catalog,
        })
    }

    /// Host from `OLLAMA_HOST` (default [`DEFAULT_HOST`]).
    pub fn from_env(options: OllamaOptions, catalog: Arc<Catalog>) -> Result<Self, LlmError> {
        SPEC.env_provider(options, catalog)
    }

    /// The normalised base URL.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Catalog aliases resolve to the model's tag; anything else is sent as given.
    pub fn resolve_model(&self, model: &str) -> String {
        self.catalog.resolve(PROVIDER, model)
    }

    /// The context window asked for on `model`.
    pub fn num_ctx(&self, model: &str) -> u32 {
        if let Some(n) = self.options.num_ctx {
            return n;
        }
        self.catalog
            .find(PROVIDER, model)
            .and_then(|e| e.context_window)
            .map(|w| w.min(u64::from(DEFAULT_NUM_CTX)) as u32)
            .unwrap_or(DEFAULT_NUM_CTX)
    }

    /// The JSON body exactly as it will be sent.
    pub fn request_body(&self, request: &Request) -> Value {
        let model = self.resolve_model(&request.model);
        let mut options = json!({
            "num_ctx": self.num_ctx(&model),
            "num_predict": request.max_tokens,
        });
        if let Some(t) = request.temperature {
            options["temperature"] = json!(t);
        }
        if let Some(p) = request.top_p {
            options["top_p"] = json!(p);
        }
        let mut body = json!({
            "model": model,
            "messages": messages(request),
            "stream": true,
            "options": options,
        });
        let tools: Vec<Value> = request
            .tools
            .iter()
            .filter(|t| match &request.tool_choice {
                ToolChoice::None => false,
                ToolChoice::Tool(name) => &t.name == name,
                ToolChoice::Auto | ToolChoice::Any => true,
            })
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.schema}})
            })
            .collect();
        if !tools.is_empty() {
            body["tools"] = Value::Array(tools);
        }
        if let Some(so) = &request.structured_output {
            body["format"] = so.schema.clone();
        }
        body
    }
}

/// The history as Ollama messages: `system` first; assistant turns with their text and
/// `tool_calls` (arguments as an object); each tool result as a `tool` message naming its tool,
/// before any user text of the same turn.
fn messages(request: &Request) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(s) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        out.push(json!({"role": "system", "content": s}));
    }
    // Call id → tool name, for the results (Ollama ties a result to its call by name).
    let mut names: Vec<(String, String)> = Vec::new();
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
                        Part::ToolCall(c) => {
                            names.push((c.id.clone(), c.name.clone()));
                            let args = match &c.arguments {
                                v @ Value::Object(_) => v.clone(),
                                Value::Null => json!({}),
                                other => json!({"value": other}),
                            };
                            Some(json!({"function": {"name": c.name, "arguments": args}}))
                        }
                        _ => None,
                    })
                    .collect();
                if text.is_empty() && calls.is_empty() {
                    continue;
                }
                let mut msg = json!({"role": "assistant", "content": text});
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
                        let content = if r.is_error {
                            format!("Error: {content}")
                        } else {
                            content
                        };
                        let mut msg = json!({"role": "tool", "content": content});
                        if let Some((_, name)) = names.iter().rev().find(|(id, _)| *id == r.call_id)
                        {
                            msg["tool_name"] = json!(name);
                        }
                        out.push(msg);
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

/// Map an error answer (`{"error": "…"}`) to a typed error.
pub fn error_from_status(model: &str, f: HttpFailure) -> LlmError {
    let parsed: Value = serde_json::from_str(&f.body).unwrap_or(Value::Null);
    let message = parsed["error"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {}: {}", f.status, f.body.trim()));
    classify(f.status, message, model, f.retry_after)
}

fn classify(status: u16, message: String, model: &str, retry_after: Option<Duration>) -> LlmError {
    let provider = PROVIDER.to_string();
    let lower = message.to_ascii_lowercase();
    if lower.contains("not found") && (status == 404 || lower.contains("model")) {
        return LlmError::ModelNotFound {
            provider,
            model: model.to_string(),
            message,
        };
    }
    // Not enough memory to load the model: waiting does not help.
    if lower.contains("more system memory") || lower.contains("out of memory") {
        return LlmError::Model { provider, message };
    }
    match status {
        401 => LlmError::Authentication { provider, message },
        403 => LlmError::PermissionDenied { provider, message },
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

/// Decodes `/api/chat` lines.
struct Decoder {
    requested_model: String,
    model: Option<String>,
    calls: usize,
    done: Option<Value>,
}

fn bad_line(event: &SseEvent, why: &str) -> LlmError {
    LlmError::Model {
        provider: PROVIDER.into(),
        message: format!(
            "malformed stream line ({why}): {}",
            event.data.chars().take(200).collect::<String>()
        ),
    }
}

impl SseDecoder for Decoder {
    fn on_event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, LlmError> {
        let v: Value =
            serde_json::from_str(&event.data).map_err(|e| bad_line(event, &e.to_string()))?;
        if let Some(e) = v["error"].as_str() {
            // An error after the 200 (e.g. the runner crashed): a server-side failure.
            return Err(classify(500, e.to_string(), &self.requested_model, None));
        }
        if let Some(m) = v["model"].as_str().filter(|m| !m.is_empty()) {
            self.model = Some(m.to_string());
        }
        let mut out = Vec::new();
        let msg = &v["message"];
        if let Some(t) = msg["content"].as_str().filter(|t| !t.is_empty()) {
            out.push(StreamEvent::TextDelta(t.to_string()));
        }
        for call in msg["tool_calls"].as_array().into_iter().flatten() {
            let f = &call["function"];
            let name = f["name"]
                .as_str()
                .ok_or_else(|| bad_line(event, "tool call without a name"))?;
            let id = call["id"]
                .as_str()
                .filter(|i| !i.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("{SYNTHETIC_ID_PREFIX}{}", self.calls));
            self.calls += 1;
            out.push(StreamEvent::ToolCallStart {
                id: id.clone(),
                name: name.to_string(),
            });
            // An object on the wire; anything else is passed on raw for the fold to report.
            let raw = match &f["arguments"] {
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
        if v["done"] == json!(true) {
            self.done = Some(v);
        }
        Ok(out)
    }

    fn finished(&self) -> bool {
        self.done.is_some()
    }

    fn finish(&mut self) -> Result<Vec<StreamEvent>, String> {
        let Some(done) = &self.done else {
            return Err("the stream ended before the model finished (no `done: true` line)".into());
        };
        let stop_reason = match done["done_reason"].as_str() {
            Some("stop") | None if self.calls > 0 => StopReason::ToolUse,
            Some("stop") | None => StopReason::EndTurn,
            Some("length") => StopReason::MaxTokens,
            Some(other) => StopReason::Other(other.to_string()),
        };
        let usage = Usage {
            input: done["prompt_eval_count"].as_u64().unwrap_or(0),
            output: done["eval_count"].as_u64().unwrap_or(0),
            cache_read: 0,
            cache_write: 0,
            estimated: false,
        };
        Ok(closing_events(
            Some(usage),
            stop_reason,
            done["total_duration"].as_u64().map(Duration::from_nanos),
            self.model.as_deref(),
            &self.requested_model,
        ))
    }
}

impl FromSettings for OllamaProvider {
    type Options = OllamaOptions;

    /// From resolved settings (`host`, `num_ctx` over `options.num_ctx`), describing the
    /// normalised host into `described`.
    fn from_settings(
        settings: &Settings,
        options: Self::Options,
        catalog: Arc<Catalog>,
        described: &mut Described,
    ) -> Result<Self, LlmError> {
        described.credentials = vec!["none needed (local server)".into()];
        let host = settings.str(SPEC.endpoint.key).unwrap_or(DEFAULT_HOST);
        let options = OllamaOptions {
            num_ctx: settings.u32("num_ctx").or(options.num_ctx),
            ..options
        };
        let o = Self::new(host, options, catalog)?;
        described.endpoint = o.host().to_string();
        Ok(o)
    }
}

#[async_trait::async_trait]
impl Provider for OllamaProvider {
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
            url: format!("{}/api/chat", self.host),
            body: body.to_string().into_bytes(),
            headers: vec![("accept", "application/x-ndjson".into())],
            secret: None,
        };
        let m = model.clone();
        let (stream, attempts) = stream_json_post(
            PROVIDER,
            Framing::Ndjson,
            self.options.http.retry,
            post,
            move |f: HttpFailure| error_from_status(&m, f),
            move || Decoder {
                requested_model: model.clone(),
                model: None,
                calls: 0,
                done: None,
            },
        )
        .await;
        // The usual cause of a refused connection is a server that is not running.
        let stream = stream.map_err(|e| match e {
            LlmError::Transport { provider, message } => LlmError::Transport {
                provider,
                message: format!(
                    "{message} (is Ollama running at {}? start it with `ollama serve`, or set OLLAMA_HOST)",
                    self.host
                ),
            },
            other => other,
        });
        (stream, attempts)
    }

    /// The local tags (`GET /api/tags`): what `ollama pull` has fetched.
    async fn model_names(&self) -> Vec<String> {
        let Ok(resp) = self
            .client
            .get(format!("{}/api/tags", self.host))
            .send()
            .await
        else {
            return Vec::new();
        };
        let Ok(v) = resp.json::<Value>().await else {
            return Vec::new();
        };
        v["models"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["name"].as_str().map(str::to_string))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, ToolCall, ToolDef, ToolResult};

    #[test]
    fn hosts_are_normalised_like_ollamas_own_client() {
        for (given, expected) in [
            ("localhost:11434", "http://localhost:11434"),
            ("0.0.0.0", "http://0.0.0.0:11434"),
            ("box.lan:9000/", "http://box.lan:9000"),
            ("http://box.lan", "http://box.lan:80"),
            (
                "https://ollama.example/prefix",
                "https://ollama.example:443/prefix",
            ),
            ("[::1]", "http://[::1]:11434"),
            ("[::1]:8080", "http://[::1]:8080"),
            (DEFAULT_HOST, DEFAULT_HOST),
        ] {
            assert_eq!(normalize_host(given).unwrap(), expected, "{given}");
        }
        assert!(
            normalize_host("ftp://x")
                .unwrap_err()
                .to_string()
                .contains("ftp")
        );
        assert!(normalize_host("http://").is_err());
    }

    #[test]
    fn settings_give_the_host_and_window_and_describe_the_server() {
        let settings: Settings = [
            ("host".to_string(), Value::from("box.lan:9000")),
            ("num_ctx".to_string(), Value::from(4096u32)),
        ]
        .into_iter()
        .collect();
        let mut described = Described::default();
        let p = OllamaProvider::from_settings(
            &settings,
            OllamaOptions::default(),
            Arc::new(Catalog::builtin()),
            &mut described,
        )
        .unwrap();
        assert_eq!(p.num_ctx("qwen3:8b"), 4096);
        assert_eq!(described.endpoint, "http://box.lan:9000");
        assert_eq!(described.credentials, ["none needed (local server)"]);
        // What chat tells a user without a provider names the default it would use.
        assert!(SPEC.setup_hint.contains(DEFAULT_HOST));
        assert_eq!(SPEC.endpoint.default, Some(DEFAULT_HOST));
    }

    #[test]
    fn body_sets_num_ctx_tools_and_history() {
        let cat = Arc::new(Catalog::builtin());
        let p =
            OllamaProvider::new("localhost:11434", OllamaOptions::default(), cat.clone()).unwrap();
        // qwen3's 40960 window is capped; unknown models get the default.
        assert_eq!(p.num_ctx("qwen3:8b"), DEFAULT_NUM_CTX);
        assert_eq!(p.num_ctx("tinyllama"), DEFAULT_NUM_CTX);
        let small = OllamaProvider::new(
            "localhost",
            OllamaOptions {
                num_ctx: Some(8192),
                ..OllamaOptions::default()
            },
            cat,
        )
        .unwrap();
        assert_eq!(small.num_ctx("qwen3:8b"), 8192);

        let mut req = Request::new(
            "llama3.1",
            vec![
                Message::user("q"),
                Message {
                    role: Role::Assistant,
                    content: vec![Part::ToolCall(ToolCall {
                        id: "ollama_call_0".into(),
                        name: "w".into(),
                        arguments: json!({"c": "Paris"}),
                    })],
                },
                Message {
                    role: Role::User,
                    content: vec![
                        Part::ToolResult(ToolResult::error("ollama_call_0", "offline")),
                        Part::Text("then?".into()),
                    ],
                },
            ],
            64,
        );
        req.system = Some("sys".into());
        req.temperature = Some(0.2);
        req.tools = vec![
            ToolDef {
                name: "w".into(),
                description: "d".into(),
                schema: json!({"type": "object"}),
            },
            ToolDef {
                name: "x".into(),
                description: "d".into(),
                schema: json!({"type": "object"}),
            },
        ];
        req.tool_choice = ToolChoice::Tool("x".into());
        let b = p.request_body(&req);
        assert_eq!(b["model"], "llama3.1:8b");
        assert_eq!(
            b["options"],
            json!({"num_ctx": 32768, "num_predict": 64, "temperature": 0.2f32})
        );
        assert_eq!(b["tools"].as_array().unwrap().len(), 1);
        assert_eq!(b["tools"][0]["function"]["name"], "x");
        let m = b["messages"].as_array().unwrap();
        assert_eq!(m[0], json!({"role": "system", "content": "sys"}));
        assert_eq!(
            m[2]["tool_calls"][0],
            json!({"function": {"name": "w", "arguments": {"c": "Paris"}}})
        );
        assert_eq!(
            m[3],
            json!({"role": "tool", "content": "Error: offline", "tool_name": "w"})
        );
        assert_eq!(m[4], json!({"role": "user", "content": "then?"}));
        req.tool_choice = ToolChoice::None;
        assert!(p.request_body(&req).get("tools").is_none());
    }

    #[test]
    fn decoder_reads_calls_counts_and_duration() {
        let ev = |v: Value| SseEvent {
            event: None,
            data: v.to_string(),
            id: None,
        };
        let mut d = Decoder {
            requested_model: "m".into(),
            model: None,
            calls: 0,
            done: None,
        };
        let mut out = Vec::new();
        out.extend(d.on_event(&ev(json!({"model": "qwen3:8b", "message": {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "a", "arguments": {"x": 1}}},
            {"function": {"name": "b", "arguments": {}}}
        ]}, "done": false}))).unwrap());
        assert!(!d.finished());
        out.extend(d.on_event(&ev(json!({"model": "qwen3:8b", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "total_duration": 1_500_000_000u64, "prompt_eval_count": 30, "eval_count": 9}))).unwrap());
        assert!(d.finished());
        out.extend(d.finish().unwrap());
        assert_eq!(
            out[0],
            StreamEvent::ToolCallStart {
                id: "ollama_call_0".into(),
                name: "a".into()
            }
        );
        assert_eq!(
            out[1],
            StreamEvent::ToolCallArgsDelta {
                id: "ollama_call_0".into(),
                json: "{\"x\":1}".into()
            }
        );
        assert_eq!(
            out[3],
            StreamEvent::ToolCallStart {
                id: "ollama_call_1".into(),
                name: "b".into()
            }
        );
        assert_eq!(
            out[4],
            StreamEvent::ToolCallArgsDelta {
                id: "ollama_call_1".into(),
                json: "{}".into()
            }
        );
        assert_eq!(
            out[6],
            StreamEvent::Usage(Usage {
                input: 30,
                output: 9,
                cache_read: 0,
                cache_write: 0,
                estimated: false
            })
        );
        assert_eq!(
            out[7],
            StreamEvent::Done {
                stop_reason: StopReason::ToolUse,
                latency: Some(Duration::from_millis(1500)),
                model_used: "qwen3:8b".into()
            }
        );
    }

    #[test]
    fn errors() {
        let f = |status, body: &str| HttpFailure {
            status,
            retry_after: None,
            body: body.into(),
        };
        let e = error_from_status(
            "llama9",
            f(
                404,
                r#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
            ),
        );
        assert_eq!(e.kind(), "model_not_found");
        assert!(e.to_string().contains("try pulling it first"), "{e}");
        let e = error_from_status(
            "m",
            f(
                500,
                r#"{"error":"model requires more system memory (40.0 GiB) than is available (8.0 GiB)"}"#,
            ),
        );
        assert_eq!(e.kind(), "model_error");
        assert!(!e.is_transient());
        assert_eq!(error_from_status("m", f(503, r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#)).kind(), "unavailable");
        assert_eq!(
            error_from_status("m", f(400, r#"{"error":"invalid options"}"#)).kind(),
            "validation"
        );
    }
}
