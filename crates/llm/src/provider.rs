//! The provider trait and the fold of a stream into a [`Response`].

use std::pin::Pin;

use futures::{Stream, StreamExt};

use crate::error::LlmError;
use crate::http::AttemptCounter;
use crate::types::{
    MalformedToolCall, Request, Response, StopReason, StreamEvent, ToolCall, Usage,
};

/// A streamed response. It ends with `Done` or with an error.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

/// One model provider (Bedrock, Anthropic, …). Object safe, so the CLI can hold a
/// `Box<dyn Provider>` chosen at run time.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Short provider name as used on the command line and in the catalog (`bedrock`, …).
    fn name(&self) -> &str;

    /// Start a call and stream its events.
    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError>;

    /// A non-streaming call: the fold of [`Provider::stream`].
    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        collect(self.stream(request).await?).await
    }

    /// Like [`Provider::stream`], plus a counter of the HTTP attempts the call takes (retries
    /// and stream re-issues included; read it after the stream has ended). The default, for
    /// providers that cannot count, gives `None`. The interaction log records this.
    async fn stream_counted(
        &self,
        request: &Request,
    ) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
        (self.stream(request).await, None)
    }

    /// Whether `request` will be answered from a finished Bedrock batch job (then it is priced
    /// at batch prices). Asked before the call; only the batch-answering provider says yes.
    async fn answers_from_batch(&self, _request: &Request) -> bool {
        false
    }

    /// The models the provider says it serves, for "did you mean …" when a model is not found
    /// (Ollama's local tags). Empty when the provider cannot list them cheaply.
    async fn model_names(&self) -> Vec<String> {
        Vec::new()
    }

    /// The server's address when this provider talks to a server on this machine or the local
    /// network (an OpenAI-compatible llama.cpp, vLLM, LM Studio …): its models are not in any
    /// price list and cost nothing per token, so they are priced at zero instead of "unknown".
    fn local_endpoint(&self) -> Option<&str> {
        None
    }

    /// How this provider encodes `request`'s answer format and tool choice *now*, when that
    /// depends on what the endpoint accepted (an OpenAI-compatible server that refused
    /// `json_schema` gets `json_object`). Read after a call, it is what that call's last attempt
    /// sent; the interaction log records it beside what was asked for. `None`: as asked.
    fn sent_as(&self, _request: &Request) -> Option<serde_json::Value> {
        None
    }
}

/// A provider whose "model not found" errors name the closest catalog ids and aliases (and the
/// provider's own [`Provider::model_names`]): `… — did you mean `a`, `b`?`. Every command that
/// calls a model goes through it, so the hint is the same in `generate`, `chat` and `providers
/// check`.
pub struct Suggesting {
    pub inner: Box<dyn Provider>,
    pub catalog: std::sync::Arc<crate::catalog::Catalog>,
}

impl Suggesting {
    async fn explain(&self, e: LlmError) -> LlmError {
        if !matches!(e, LlmError::ModelNotFound { .. }) {
            return e;
        }
        let names = self.inner.model_names().await;
        with_suggestions(e, &self.catalog, self.inner.name(), &names)
    }

    /// Errors inside the stream (Bedrock reports a refused call as the stream's first item):
    /// suggestions from the catalog alone, the stream cannot wait on the provider.
    fn explain_stream(&self, stream: EventStream) -> EventStream {
        let catalog = self.catalog.clone();
        let provider = self.inner.name().to_string();
        Box::pin(
            stream.map(move |item| item.map_err(|e| with_suggestions(e, &catalog, &provider, &[]))),
        )
    }
}

/// `e` with "— did you mean `a`, `b`?" appended when it is "model not found" and the catalog
/// (or `names`) has close names.
fn with_suggestions(
    e: LlmError,
    catalog: &crate::catalog::Catalog,
    provider_name: &str,
    names: &[String],
) -> LlmError {
    let LlmError::ModelNotFound {
        provider,
        model,
        message,
    } = e
    else {
        return e;
    };
    let close = catalog.suggest(provider_name, &model, names);
    let message = if close.is_empty() || message.contains("did you mean") {
        message
    } else {
        let quoted: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
        format!("{message} — did you mean {}?", quoted.join(", "))
    };
    LlmError::ModelNotFound {
        provider,
        model,
        message,
    }
}

#[async_trait::async_trait]
impl Provider for Suggesting {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError> {
        match self.inner.stream(request).await {
            Ok(s) => Ok(self.explain_stream(s)),
            Err(e) => Err(self.explain(e).await),
        }
    }

    async fn stream_counted(
        &self,
        request: &Request,
    ) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
        match self.inner.stream_counted(request).await {
            (Err(e), attempts) => (Err(self.explain(e).await), attempts),
            (Ok(s), attempts) => (Ok(self.explain_stream(s)), attempts),
        }
    }

    async fn model_names(&self) -> Vec<String> {
        self.inner.model_names().await
    }

    async fn answers_from_batch(&self, request: &Request) -> bool {
        self.inner.answers_from_batch(request).await
    }

    fn local_endpoint(&self) -> Option<&str> {
        self.inner.local_endpoint()
    }

    fn sent_as(&self, request: &Request) -> Option<serde_json::Value> {
        self.inner.sent_as(request)
    }
}

/// One tool call of a response, valid or not.
#[derive(Debug, Clone, PartialEq)]
pub enum FoldedCall {
    Valid(ToolCall),
    Malformed(MalformedToolCall),
}

impl FoldedCall {
    pub fn id(&self) -> &str {
        match self {
            FoldedCall::Valid(c) => &c.id,
            FoldedCall::Malformed(m) => &m.id,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            FoldedCall::Valid(c) => &c.name,
            FoldedCall::Malformed(m) => &m.name,
        }
    }
}

/// A finished stream: the text, every tool call in the order the model started them, and the
/// final event's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    pub text: String,
    pub calls: Vec<FoldedCall>,
    pub stop_reason: StopReason,
    pub usage: Usage,
    pub latency: Option<std::time::Duration>,
    pub model_used: String,
}

impl Folded {
    /// The [`Response`]: valid calls in `tool_calls`, the others in `malformed_tool_calls`,
    /// each in start order.
    pub fn to_response(&self) -> Response {
        let mut tool_calls = Vec::new();
        let mut malformed = Vec::new();
        for c in &self.calls {
            match c {
                FoldedCall::Valid(c) => tool_calls.push(c.clone()),
                FoldedCall::Malformed(m) => malformed.push(m.clone()),
            }
        }
        Response {
            text: self.text.clone(),
            tool_calls,
            malformed_tool_calls: malformed,
            stop_reason: self.stop_reason.clone(),
            usage: self.usage,
            latency: self.latency,
            model_used: self.model_used.clone(),
        }
    }
}

struct PendingCall {
    id: String,
    name: String,
    args: String,
    done: Option<FoldedCall>,
}

/// The incremental fold of a stream's events, for callers that act on events as they arrive
/// (the coach's agent forwards text) as well as for [`collect`]. Tool-call argument fragments
/// are concatenated and parsed once, at `ToolCallEnd`; an empty argument string means a call
/// without arguments (`{}`). Arguments that are not a JSON object make a
/// [`FoldedCall::Malformed`] instead of failing the whole call, so the caller can tell the
/// model; so does a call started but never ended. A repeated call id keeps the first call (two
/// calls with one id would get two results for one id).
#[derive(Default)]
pub struct Folder {
    text: String,
    usage: Usage,
    calls: Vec<PendingCall>,
}

impl Folder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Take one event; at `Done`, the whole response.
    pub fn push(&mut self, event: StreamEvent) -> Option<Folded> {
        match event {
            StreamEvent::TextDelta(t) => self.text.push_str(&t),
            StreamEvent::ToolCallStart { id, name } => {
                if !self.calls.iter().any(|c| c.id == id) {
                    self.calls.push(PendingCall {
                        id,
                        name,
                        args: String::new(),
                        done: None,
                    });
                }
            }
            StreamEvent::ToolCallArgsDelta { id, json } => {
                if let Some(c) = self.open_call(&id) {
                    c.args.push_str(&json);
                }
            }
            StreamEvent::ToolCallEnd { id } => {
                if let Some(c) = self.open_call(&id) {
                    c.done = Some(match parse_arguments(&c.args) {
                        Ok(arguments) => FoldedCall::Valid(ToolCall {
                            id: c.id.clone(),
                            name: c.name.clone(),
                            arguments,
                        }),
                        Err(error) => FoldedCall::Malformed(MalformedToolCall {
                            id: c.id.clone(),
                            name: c.name.clone(),
                            raw_arguments: c.args.clone(),
                            error,
                        }),
                    });
                }
            }
            StreamEvent::Usage(u) => self.usage.add(&u),
            StreamEvent::Done {
                stop_reason,
                latency,
                model_used,
            } => {
                let calls = std::mem::take(&mut self.calls)
                    .into_iter()
                    .map(|c| {
                        c.done.unwrap_or_else(|| {
                            FoldedCall::Malformed(MalformedToolCall {
                                id: c.id,
                                name: c.name,
                                raw_arguments: c.args,
                                error: "the tool call was never completed (the answer was cut off)"
                                    .into(),
                            })
                        })
                    })
                    .collect();
                return Some(Folded {
                    text: std::mem::take(&mut self.text),
                    calls,
                    stop_reason,
                    usage: self.usage,
                    latency,
                    model_used,
                });
            }
        }
        None
    }

    /// The text so far (what a broken stream leaves).
    pub fn into_text(self) -> String {
        self.text
    }

    fn open_call(&mut self, id: &str) -> Option<&mut PendingCall> {
        self.calls
            .iter_mut()
            .find(|c| c.id == id && c.done.is_none())
    }
}

/// Fold a stream into a [`Response`] (see [`Folder`]). An error from the stream is returned as
/// is (providers already turn a failure after output into `StreamBroken` with the partial text).
pub async fn collect(mut stream: EventStream) -> Result<Response, LlmError> {
    let mut folder = Folder::new();
    while let Some(event) = stream.next().await {
        if let Some(folded) = folder.push(event?) {
            return Ok(folded.to_response());
        }
    }
    Err(LlmError::StreamBroken {
        provider: "stream".into(),
        partial_text: folder.into_text(),
        message: "the stream ended without a final event".into(),
    })
}

/// Parse a tool call's concatenated argument JSON. Empty means "no arguments".
pub fn parse_arguments(raw: &str) -> Result<serde_json::Value, String> {
    if raw.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(other) => Err(format!(
            "arguments must be a JSON object, got {}",
            json_kind(&other)
        )),
        Err(e) => Err(format!(
            "invalid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        )),
    }
}

/// The kind of a JSON value with its article ("an array", "null"), for messages that say what
/// was given instead of what was expected.
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl StopReason {
    /// Map the provider-neutral snake_case names used by Bedrock and Anthropic.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "end_turn" => Self::EndTurn,
            "tool_use" => Self::ToolUse,
            "max_tokens" => Self::MaxTokens,
            "stop_sequence" => Self::StopSequence,
            "content_filtered" => Self::ContentFiltered,
            "guardrail_intervened" => Self::GuardrailIntervened,
            "model_context_window_exceeded" => Self::ContextWindowExceeded,
            "malformed_model_output" | "malformed_tool_use" => Self::MalformedOutput,
            other => Self::Other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn boxed(events: Vec<Result<StreamEvent, LlmError>>) -> EventStream {
        Box::pin(stream::iter(events))
    }

    fn done() -> StreamEvent {
        StreamEvent::Done {
            stop_reason: StopReason::ToolUse,
            latency: None,
            model_used: "m".into(),
        }
    }

    #[tokio::test]
    async fn fold_joins_text_and_split_tool_arguments() {
        let r = collect(boxed(vec![
            Ok(StreamEvent::TextDelta("Hel".into())),
            Ok(StreamEvent::TextDelta("lo".into())),
            Ok(StreamEvent::ToolCallStart {
                id: "t1".into(),
                name: "weather".into(),
            }),
            Ok(StreamEvent::ToolCallArgsDelta {
                id: "t1".into(),
                json: "{\"city\": \"Pa".into(),
            }),
            Ok(StreamEvent::ToolCallArgsDelta {
                id: "t1".into(),
                json: "ris\"}".into(),
            }),
            Ok(StreamEvent::ToolCallEnd { id: "t1".into() }),
            Ok(StreamEvent::Usage(Usage {
                input: 10,
                output: 5,
                cache_read: 2,
                cache_write: 0,
                estimated: false,
            })),
            Ok(done()),
        ]))
        .await
        .unwrap();
        assert_eq!(r.text, "Hello");
        assert_eq!(r.tool_calls.len(), 1);
        assert_eq!(
            r.tool_calls[0].arguments,
            serde_json::json!({"city": "Paris"})
        );
        assert_eq!(r.usage.input, 10);
        assert_eq!(r.usage.cache_read, 2);
        assert_eq!(r.stop_reason, StopReason::ToolUse);
    }

    #[tokio::test]
    async fn fold_treats_empty_arguments_as_empty_object_and_keeps_malformed() {
        let r = collect(boxed(vec![
            Ok(StreamEvent::ToolCallStart {
                id: "a".into(),
                name: "now".into(),
            }),
            Ok(StreamEvent::ToolCallEnd { id: "a".into() }),
            Ok(StreamEvent::ToolCallStart {
                id: "b".into(),
                name: "bad".into(),
            }),
            Ok(StreamEvent::ToolCallArgsDelta {
                id: "b".into(),
                json: "{\"x\": ".into(),
            }),
            Ok(StreamEvent::ToolCallEnd { id: "b".into() }),
            Ok(done()),
        ]))
        .await
        .unwrap();
        assert_eq!(
            r.tool_calls,
            vec![ToolCall {
                id: "a".into(),
                name: "now".into(),
                arguments: serde_json::json!({})
            }]
        );
        assert_eq!(r.malformed_tool_calls.len(), 1);
        assert_eq!(r.malformed_tool_calls[0].raw_arguments, "{\"x\": ");
        assert!(
            r.malformed_tool_calls[0].error.contains("invalid JSON"),
            "{}",
            r.malformed_tool_calls[0].error
        );
    }

    #[test]
    fn folder_keeps_start_order_the_first_of_a_repeated_id_and_reports_unended_calls() {
        let start = |id: &str, name: &str| StreamEvent::ToolCallStart {
            id: id.into(),
            name: name.into(),
        };
        let args = |id: &str, json: &str| StreamEvent::ToolCallArgsDelta {
            id: id.into(),
            json: json.into(),
        };
        let end = |id: &str| StreamEvent::ToolCallEnd { id: id.into() };
        let mut folder = Folder::new();
        for event in [
            start("a", "first"),
            start("b", "second"),
            args("b", r#"{"x":1}"#),
            end("b"),
            args("a", r#"{"y":2}"#),
            end("a"),
            // A repeated id after the call ended: ignored, the first call stands.
            start("a", "again"),
            args("a", r#"{"z":3}"#),
            end("a"),
            start("c", "cut"),
            args("c", r#"{"w":"#),
        ] {
            assert!(folder.push(event).is_none());
        }
        let folded = folder.push(done()).expect("Done finishes the fold");
        let ids: Vec<&str> = folded.calls.iter().map(FoldedCall::id).collect();
        assert_eq!(ids, ["a", "b", "c"], "start order");
        assert_eq!(folded.calls[0].name(), "first");
        let FoldedCall::Valid(a) = &folded.calls[0] else {
            panic!("{:?}", folded.calls[0])
        };
        assert_eq!(a.arguments, serde_json::json!({"y": 2}));
        let FoldedCall::Malformed(c) = &folded.calls[2] else {
            panic!("{:?}", folded.calls[2])
        };
        assert_eq!(c.raw_arguments, r#"{"w":"#);
        assert!(c.error.contains("never completed"), "{}", c.error);
        let r = folded.to_response();
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.malformed_tool_calls.len(), 1);
    }

    #[tokio::test]
    async fn fold_without_done_is_a_broken_stream_with_partial_text() {
        let err = collect(boxed(vec![Ok(StreamEvent::TextDelta("part".into()))]))
            .await
            .unwrap_err();
        match err {
            LlmError::StreamBroken { partial_text, .. } => assert_eq!(partial_text, "part"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn non_object_arguments_are_rejected() {
        assert!(parse_arguments("[1,2]").unwrap_err().contains("an array"));
        assert_eq!(parse_arguments("  ").unwrap(), serde_json::json!({}));
    }
}
