//! The provider trait and the fold of a stream into a [`Response`].

use std::collections::HashMap;
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
}

struct PendingCall {
    name: String,
    args: String,
}

/// Fold a stream into a [`Response`]. Tool-call argument fragments are concatenated and parsed
/// once, at `ToolCallEnd`; an empty argument string means a call without arguments (`{}`).
/// Arguments that are not a JSON object end up in `malformed_tool_calls` instead of failing the
/// whole call, so the caller can tell the model. An error from the stream is returned as is
/// (providers already turn a failure after output into `StreamBroken` with the partial text).
pub async fn collect(mut stream: EventStream) -> Result<Response, LlmError> {
    let mut text = String::new();
    let mut usage = Usage::default();
    let mut pending: HashMap<String, PendingCall> = HashMap::new();
    let mut tool_calls = Vec::new();
    let mut malformed = Vec::new();
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::TextDelta(t) => text.push_str(&t),
            StreamEvent::ToolCallStart { id, name } => {
                pending.insert(
                    id,
                    PendingCall {
                        name,
                        args: String::new(),
                    },
                );
            }
            StreamEvent::ToolCallArgsDelta { id, json } => {
                if let Some(call) = pending.get_mut(&id) {
                    call.args.push_str(&json);
                }
            }
            StreamEvent::ToolCallEnd { id } => {
                if let Some(call) = pending.remove(&id) {
                    match parse_arguments(&call.args) {
                        Ok(arguments) => tool_calls.push(ToolCall {
                            id,
                            name: call.name,
                            arguments,
                        }),
                        Err(error) => malformed.push(MalformedToolCall {
                            id,
                            name: call.name,
                            raw_arguments: call.args,
                            error,
                        }),
                    }
                }
            }
            StreamEvent::Usage(u) => usage.add(&u),
            StreamEvent::Done {
                stop_reason,
                latency,
                model_used,
            } => {
                // Calls started but never ended are incomplete: report them as malformed rather
                // than silently dropping them.
                for (id, call) in pending.drain() {
                    malformed.push(MalformedToolCall {
                        id,
                        name: call.name,
                        raw_arguments: call.args,
                        error: "the tool call was never completed".into(),
                    });
                }
                return Ok(Response {
                    text,
                    tool_calls,
                    malformed_tool_calls: malformed,
                    stop_reason,
                    usage,
                    latency,
                    model_used,
                });
            }
        }
    }
    Err(LlmError::StreamBroken {
        provider: "stream".into(),
        partial_text: text,
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

fn json_kind(v: &serde_json::Value) -> &'static str {
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
