//! HTTP plumbing shared by the providers that speak plain HTTPS + SSE (Anthropic, OpenAI, …):
//! one `reqwest` client on rustls, retries with exponential backoff that honour `retry-after`,
//! and a driver that turns an SSE body into [`StreamEvent`]s.
//!
//! Retry rule: a call is re-issued only while nothing has been streamed to the caller — after a
//! connect error, a timeout before the response, a 408/429/5xx status, or a transient error event
//! that arrives before the first output. Once output was emitted, a failure is a
//! [`LlmError::StreamBroken`] carrying the partial text, never a silent re-issue.

pub mod ndjson;
pub mod sse;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::StreamExt;
use reqwest::header::HeaderMap;
use tokio::sync::mpsc;

use crate::error::LlmError;
use crate::provider::EventStream;
use crate::types::{StopReason, StreamEvent, Usage};
use ndjson::NdjsonParser;
use sse::{SseEvent, SseParser};

/// Bounded retries with exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A `retry-after` longer than this is not waited for: the call fails with `RateLimited`
    /// carrying the server's delay, and the caller decides.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, 0.5 s then 1 s (the official Anthropic and OpenAI SDKs also make three).
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `next_attempt` (2, 3, …): the server's `retry-after` when it gave
    /// one, else exponential backoff with jitter in [50 %, 100 %] so parallel clients spread out.
    fn delay(&self, next_attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(d) = retry_after {
            return d;
        }
        let exp = next_attempt.saturating_sub(2).min(16);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let fraction = 0.5 + (nanos % 1000) as f64 / 2000.0;
        base.mul_f64(fraction)
    }
}

/// Settings of the HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Longest silence allowed while reading the response (headers or body). Long generations
    /// are fine as long as bytes keep coming; `None` disables it.
    pub read_timeout: Option<Duration>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(300)),
        }
    }
}

/// Build the shared client.
pub fn build_client(provider: &str, settings: &HttpSettings) -> Result<reqwest::Client, LlmError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .user_agent(concat!("cycling-ai-llm/", env!("CARGO_PKG_VERSION")));
    if let Some(t) = settings.read_timeout {
        b = b.read_timeout(t);
    }
    b.build().map_err(|e| LlmError::Config {
        provider: provider.to_string(),
        message: format!("cannot build the HTTP client: {e}"),
    })
}

/// What every provider with an API key holds: the HTTP client, the key (never shown by `Debug`),
/// the base URL without a trailing `/`, and the settings. One constructor, so an empty key is
/// refused the same way everywhere.
#[derive(Clone)]
pub struct KeyedEndpoint {
    pub client: reqwest::Client,
    pub api_key: String,
    pub base_url: String,
    pub settings: HttpSettings,
}

impl std::fmt::Debug for KeyedEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedEndpoint")
            .field("base_url", &self.base_url)
            .field("api_key", &"[REDACTED]")
            .finish()
    }
}

impl KeyedEndpoint {
    pub fn new(
        provider: &str,
        api_key: String,
        base_url: String,
        settings: HttpSettings,
    ) -> Result<Self, LlmError> {
        if api_key.trim().is_empty() {
            return Err(LlmError::Authentication {
                provider: provider.into(),
                message: "the API key is empty".into(),
            });
        }
        Ok(Self {
            client: build_client(provider, &settings)?,
            api_key,
            base_url: base_url.trim_end_matches('/').to_string(),
            settings,
        })
    }
}

/// How many HTTP attempts a call took. Shared with the stream driver, which may re-issue the
/// call after a transient error event before any output, so read it once the stream has ended.
#[derive(Debug, Clone, Default)]
pub struct AttemptCounter(Arc<AtomicU32>);

impl AttemptCounter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn bump(&self) -> u32 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// A non-success HTTP answer, handed to the provider's error mapping.
#[derive(Debug, Clone)]
pub struct HttpFailure {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

/// The server's requested delay: `retry-after-ms` (OpenAI), else `retry-after` in seconds
/// (fractions accepted). HTTP-date values are ignored (backoff applies instead).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// A transport failure (no HTTP answer) as a typed error.
pub fn transport_error(provider: &str, e: &reqwest::Error) -> LlmError {
    // reqwest's Display omits the cause chain ("error sending request"); add it.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        LlmError::Timeout {
            provider: provider.to_string(),
            message,
        }
    } else {
        LlmError::Transport {
            provider: provider.to_string(),
            message,
        }
    }
}

/// Whether an error may go away when the same call is made again.
fn retryable(e: &LlmError) -> bool {
    matches!(
        e,
        LlmError::RateLimited { .. }
            | LlmError::Unavailable { .. }
            | LlmError::Timeout { .. }
            | LlmError::Transport { .. }
    )
}

/// Send a request built by `make` until it gets a 2xx answer, retrying transient failures
/// within `policy`. `classify` maps a non-success answer to the provider's typed error; only
/// the transient classes (rate limited, unavailable, timeout, transport) are retried.
pub async fn send_with_retries(
    provider: &str,
    policy: &RetryPolicy,
    attempts: &AttemptCounter,
    make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    classify: &(dyn Fn(HttpFailure) -> LlmError + Send + Sync),
) -> Result<reqwest::Response, LlmError> {
    loop {
        let attempt = attempts.bump();
        let (err, server_delay) = match make().send().await {
            Ok(resp) if resp.status().is_success() => return Ok(resp),
            Ok(resp) => {
                let status = resp.status().as_u16();
                let after = retry_after(resp.headers());
                let body = resp.text().await.unwrap_or_default();
                (
                    classify(HttpFailure {
                        status,
                        retry_after: after,
                        body,
                    }),
                    after,
                )
            }
            Err(e) => (transport_error(provider, &e), None),
        };
        // Some services put the delay in the error body rather than a header (Gemini's
        // `RetryInfo.retryDelay`); the provider's mapping has read it into the error.
        let server_delay = server_delay.or(match &err {
            LlmError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        });
        if !retryable(&err) || attempt >= policy.max_attempts.max(1) {
            return Err(err);
        }
        if server_delay.is_some_and(|d| d > policy.max_retry_after) {
            return Err(err);
        }
        tokio::time::sleep(policy.delay(attempt + 1, server_delay)).await;
    }
}

/// How a streamed body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-Sent Events (`text/event-stream`).
    Sse,
    /// One JSON document per line (`application/x-ndjson`, Ollama). Each line is handed to the
    /// decoder as an [`SseEvent`] without a name whose `data` is the line.
    Ndjson,
}

impl Framing {
    fn description(self) -> &'static str {
        match self {
            Framing::Sse => "an event stream",
            Framing::Ndjson => "a JSON-lines stream",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::Ndjson => "application/x-ndjson",
        }
    }
}

/// The body parser of one attempt.
enum BodyParser {
    Sse(SseParser),
    Ndjson(NdjsonParser),
}

impl BodyParser {
    fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Self::Sse(SseParser::new()),
            Framing::Ndjson => Self::Ndjson(NdjsonParser::new()),
        }
    }

    fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        match self {
            Self::Sse(p) => p.push(chunk),
            Self::Ndjson(p) => p.push(chunk),
        }
    }

    fn offset(&self) -> u64 {
        match self {
            Self::Sse(p) => p.offset(),
            Self::Ndjson(p) => p.offset(),
        }
    }

    fn has_partial_event(&self) -> bool {
        match self {
            Self::Sse(p) => p.has_partial_event(),
            Self::Ndjson(p) => p.has_partial_line(),
        }
    }
}

/// A provider's stream decoder: turns wire events (SSE events, or NDJSON lines wrapped as
/// events) into [`StreamEvent`]s.
pub trait SseDecoder: Send + 'static {
    /// Handle one SSE event. An `Err` ends the stream (e.g. an `error` event).
    fn on_event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, LlmError>;
    /// Whether the terminal event has been seen (the body may still hold trailing bytes).
    fn finished(&self) -> bool;
    /// The stream ended: the final events (usage, `Done`), or why the answer is incomplete.
    fn finish(&mut self) -> Result<Vec<StreamEvent>, String>;
}

/// The events that close a decoded stream: the usage, when the body reported it, then `Done`
/// naming the model that answered (the one the body named, else the one asked for).
pub fn closing_events(
    usage: Option<Usage>,
    stop_reason: StopReason,
    latency: Option<Duration>,
    answered: Option<&str>,
    requested: &str,
) -> Vec<StreamEvent> {
    let mut out = Vec::with_capacity(2);
    if let Some(u) = usage {
        out.push(StreamEvent::Usage(u));
    }
    out.push(StreamEvent::Done {
        stop_reason,
        latency,
        model_used: answered.unwrap_or(requested).to_string(),
    });
    out
}

/// Whether an event shows output to the caller (after which nothing may be re-issued).
fn is_output(e: &StreamEvent) -> bool {
    matches!(
        e,
        StreamEvent::TextDelta(_)
            | StreamEvent::ToolCallStart { .. }
            | StreamEvent::ToolCallArgsDelta { .. }
    )
}

/// The per-provider pieces of one streamed JSON POST: everything that differs between the
/// HTTP providers, so the request building and attempt counting live once, here.
pub struct JsonPost {
    pub client: reqwest::Client,
    pub url: String,
    /// The serialized request body, re-sent unchanged on every attempt.
    pub body: Vec<u8>,
    /// Plain headers besides `content-type: application/json` (e.g. `accept`, API version).
    pub headers: Vec<(&'static str, String)>,
    /// The credential header, if any; marked sensitive so it never shows in debug output.
    pub secret: Option<(&'static str, String)>,
}

impl JsonPost {
    fn request(&self) -> reqwest::RequestBuilder {
        let mut b = self
            .client
            .post(&self.url)
            .header("content-type", "application/json");
        for (name, value) in &self.headers {
            b = b.header(*name, value);
        }
        if let Some((name, value)) = &self.secret {
            match reqwest::header::HeaderValue::from_str(value) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    b = b.header(*name, v);
                }
                // Let reqwest report the malformed value when the request is built.
                Err(_) => b = b.header(*name, value),
            }
        }
        b.body(self.body.clone())
    }
}

/// Start a streamed call: send `post` (with retries), then decode the body (framed as
/// `framing`) in a task. `new_decoder` gives a fresh decoder for each attempt. A transient
/// error event or a body failure before any output re-issues the call while attempts remain.
/// Returns the counter of attempts made, for the interaction log.
pub async fn stream_json_post<D: SseDecoder>(
    provider: &'static str,
    framing: Framing,
    policy: RetryPolicy,
    post: JsonPost,
    classify: impl Fn(HttpFailure) -> LlmError + Send + Sync + 'static,
    new_decoder: impl Fn() -> D + Send + Sync + 'static,
) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
    let attempts = AttemptCounter::new();
    let stream = start_stream(
        framing,
        provider,
        policy,
        attempts.clone(),
        Arc::new(move || post.request()),
        Arc::new(classify),
        Arc::new(new_decoder),
    )
    .await;
    (stream, Some(attempts))
}

async fn start_stream<D: SseDecoder>(
    framing: Framing,
    provider: &'static str,
    policy: RetryPolicy,
    attempts: AttemptCounter,
    make: Arc<dyn Fn() -> reqwest::RequestBuilder + Send + Sync>,
    classify: Arc<dyn Fn(HttpFailure) -> LlmError + Send + Sync>,
    new_decoder: Arc<dyn Fn() -> D + Send + Sync>,
) -> Result<EventStream, LlmError> {
    let first = send_with_retries(provider, &policy, &attempts, &*make, &*classify).await?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut response = first;
        loop {
            match drive(framing, provider, response, new_decoder(), &tx).await {
                Drive::Done => return,
                Drive::Retry(err) => {
                    if attempts.get() >= policy.max_attempts.max(1) {
                        let _ = tx.send(Err(err)).await;
                        return;
                    }
                    tokio::time::sleep(policy.delay(attempts.get() + 1, None)).await;
                    match send_with_retries(provider, &policy, &attempts, &*make, &*classify).await
                    {
                        Ok(r) => response = r,
                        Err(e) => {
                            let _ = tx.send(Err(e)).await;
                            return;
                        }
                    }
                }
            }
        }
    });
    Ok(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed())
}

enum Drive {
    Done,
    /// Failed transiently before any output: the call may be re-issued.
    Retry(LlmError),
}

async fn drive<D: SseDecoder>(
    framing: Framing,
    provider: &str,
    response: reqwest::Response,
    mut decoder: D,
    tx: &mpsc::Sender<Result<StreamEvent, LlmError>>,
) -> Drive {
    // A server that ignored `stream: true` (some compatible servers) answers with one JSON
    // document: say so instead of reporting an empty stream.
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !content_type.is_empty() && !content_type.starts_with(framing.content_type()) {
        let body = response.text().await.unwrap_or_default();
        let _ = tx
            .send(Err(LlmError::Model {
                provider: provider.to_string(),
                message: format!(
                    "expected {} ({}) but the server sent {content_type}: {}",
                    framing.description(),
                    framing.content_type(),
                    body.chars().take(300).collect::<String>()
                ),
            }))
            .await;
        return Drive::Done;
    }
    let mut body = response.bytes_stream();
    let mut parser = BodyParser::new(framing);
    let mut partial = String::new();
    let mut output = false;
    // Fail the stream: re-issue when nothing was shown and the error is transient.
    let fail = |err: LlmError, output: bool, partial: &str| {
        if !output && retryable(&err) {
            return Err(Drive::Retry(err));
        }
        if output && !matches!(err, LlmError::StreamBroken { .. }) {
            return Ok(LlmError::StreamBroken {
                provider: provider.to_string(),
                partial_text: partial.to_string(),
                message: err.to_string(),
            });
        }
        Ok(err)
    };
    while !decoder.finished() {
        let chunk = match body.next().await {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                let err = transport_error(provider, &e);
                let err = LlmError::Transport {
                    provider: provider.to_string(),
                    message: format!(
                        "the response body failed after {} bytes: {err}",
                        parser.offset()
                    ),
                };
                return match fail(err, output, &partial) {
                    Err(retry) => retry,
                    Ok(e) => {
                        let _ = tx.send(Err(e)).await;
                        Drive::Done
                    }
                };
            }
            None => break,
        };
        for sse in parser.push(&chunk) {
            match decoder.on_event(&sse) {
                Ok(events) => {
                    for e in events {
                        if let StreamEvent::TextDelta(t) = &e {
                            partial.push_str(t);
                        }
                        output |= is_output(&e);
                        if tx.send(Ok(e)).await.is_err() {
                            return Drive::Done; // the consumer went away
                        }
                    }
                }
                Err(err) => {
                    return match fail(err, output, &partial) {
                        Err(retry) => retry,
                        Ok(e) => {
                            let _ = tx.send(Err(e)).await;
                            Drive::Done
                        }
                    };
                }
            }
            if decoder.finished() {
                break;
            }
        }
    }
    match decoder.finish() {
        Ok(events) => {
            for e in events {
                if tx.send(Ok(e)).await.is_err() {
                    return Drive::Done;
                }
            }
        }
        Err(why) => {
            let message = format!(
                "{why} (connection closed after {} bytes{})",
                parser.offset(),
                if parser.has_partial_event() {
                    ", mid-event"
                } else {
                    ""
                }
            );
            let err = if output {
                LlmError::StreamBroken {
                    provider: provider.to_string(),
                    partial_text: partial,
                    message,
                }
            } else {
                LlmError::Transport {
                    provider: provider.to_string(),
                    message,
                }
            };
            match fail(err, output, "") {
                Err(retry) => return retry,
                Ok(e) => {
                    let _ = tx.send(Err(e)).await;
                }
            }
        }
    }
    Drive::Done
}

#[cfg(test)]
mod tests {

    #[test]
    fn json_post_sends_the_body_and_headers_and_marks_the_credential_sensitive() {
        let post = JsonPost {
            client: reqwest::Client::new(),
            url: "http://127.0.0.1:9/v1/messages".into(),
            body: br#"{"model":"m"}"#.to_vec(),
            headers: vec![("accept", "text/event-stream".into())],
            secret: Some(("x-api-key", "sk-secret-42".into())),
        };
        // Built twice: every retry must send the same request.
        for _ in 0..2 {
            let req = post.request().build().unwrap();
            assert_eq!(req.method(), reqwest::Method::POST);
            assert_eq!(req.url().as_str(), "http://127.0.0.1:9/v1/messages");
            let h = req.headers();
            assert_eq!(h["content-type"], "application/json");
            assert_eq!(h["accept"], "text/event-stream");
            assert_eq!(h["x-api-key"], "sk-secret-42");
            assert!(h["x-api-key"].is_sensitive());
            assert!(!h["accept"].is_sensitive());
            assert_eq!(
                req.body().and_then(|b| b.as_bytes()),
                Some(&br#"{"model":"m"}"#[..])
            );
        }
    }

    #[test]
    fn closing_events_report_usage_when_known_and_the_answering_model() {
        let usage = Usage {
            input: 3,
            output: 4,
            cache_read: 0,
            cache_write: 0,
            estimated: false,
        };
        let with = closing_events(
            Some(usage),
            StopReason::EndTurn,
            Some(Duration::from_millis(5)),
            Some("m-2025"),
            "m",
        );
        assert_eq!(with.len(), 2);
        assert!(matches!(&with[0], StreamEvent::Usage(u) if u.input == 3 && u.output == 4));
        assert!(
            matches!(&with[1], StreamEvent::Done { stop_reason: StopReason::EndTurn, latency: Some(l), model_used }
            if *l == Duration::from_millis(5) && model_used == "m-2025")
        );
        let without = closing_events(None, StopReason::MaxTokens, None, None, "m");
        assert_eq!(without.len(), 1);
        assert!(
            matches!(&without[0], StreamEvent::Done { stop_reason: StopReason::MaxTokens, latency: None, model_used }
            if model_used == "m")
        );
    }

    #[test]
    fn keyed_endpoint_hides_the_key_refuses_an_empty_one_and_trims_the_url() {
        let e = KeyedEndpoint::new(
            "anthropic",
            "sk-ant-secret-123".into(),
            "http://127.0.0.1:9/".into(),
            HttpSettings::default(),
        )
        .unwrap();
        assert_eq!(e.base_url, "http://127.0.0.1:9");
        let shown = format!("{e:?}");
        assert!(
            !shown.contains("sk-ant-secret-123") && shown.contains("[REDACTED]"),
            "{shown}"
        );
        let err = KeyedEndpoint::new("gemini", "  ".into(), "x".into(), HttpSettings::default());
        assert!(matches!(err, Err(LlmError::Authentication { .. })));
    }
    use super::*;

    #[test]
    fn retry_after_headers_are_read_in_ms_and_seconds() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_retry_after: Duration::from_secs(1),
        };
        let d2 = p.delay(2, None);
        assert!(
            d2 >= Duration::from_millis(50) && d2 <= Duration::from_millis(100),
            "{d2:?}"
        );
        let d3 = p.delay(3, None);
        assert!(
            d3 >= Duration::from_millis(100) && d3 <= Duration::from_millis(200),
            "{d3:?}"
        );
        let d9 = p.delay(9, None);
        assert!(d9 <= Duration::from_millis(300), "{d9:?}");
        assert_eq!(
            p.delay(2, Some(Duration::from_millis(7))),
            Duration::from_millis(7)
        );
    }
}
