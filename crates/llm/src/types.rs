//! Provider-neutral request, stream-event and response types.
//!
//! Every provider translates a [`Request`] into its own wire format and reports back a stream of
//! [`StreamEvent`]s; a non-streaming call is the fold of that stream ([`crate::collect`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who wrote a message. System prompts are not messages: they live in [`Request::system`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One conversation turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Part>,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: vec![Part::Text(text.into())],
        }
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: vec![Part::Text(text.into())],
        }
    }

    /// A user turn carrying tool results (the answer to an assistant turn's tool calls).
    pub fn tool_results(results: Vec<ToolResult>) -> Self {
        Self {
            role: Role::User,
            content: results.into_iter().map(Part::ToolResult).collect(),
        }
    }
}

/// A piece of a message. Serialised externally tagged: `{"text": "…"}`, `{"tool_call": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Text(String),
    /// A tool call made by the assistant.
    ToolCall(ToolCall),
    /// The result of a tool call, sent back in a user turn and tied to the call by `call_id`.
    ToolResult(ToolResult),
}

/// A tool call requested by the model. `arguments` is the parsed JSON of the call's arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: Value,
}

/// The outcome of running a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    pub call_id: String,
    pub output: ToolOutput,
    /// The tool failed; `output` describes the failure.
    #[serde(default)]
    pub is_error: bool,
}

impl ToolResult {
    pub fn json(call_id: impl Into<String>, value: Value) -> Self {
        Self {
            call_id: call_id.into(),
            output: ToolOutput::Json(value),
            is_error: false,
        }
    }

    pub fn text(call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            call_id: call_id.into(),
            output: ToolOutput::Text(text.into()),
            is_error: false,
        }
    }

    pub fn error(call_id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            call_id: call_id.into(),
            output: ToolOutput::Text(message.into()),
            is_error: true,
        }
    }
}

/// What a tool returned. Any JSON value is accepted here; providers that restrict the shape
/// (Bedrock accepts only objects) adapt it on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ToolOutput {
    Json(Value),
    Text(String),
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    /// `[a-zA-Z0-9_-]{1,64}` is accepted by every provider.
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments object.
    pub schema: Value,
}

/// Whether and how the model must call tools.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "name")]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must call this tool.
    Tool(String),
    /// The model must not call tools.
    None,
}

/// Ask for the answer as JSON matching a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructuredOutput {
    pub name: String,
    pub description: Option<String>,
    pub schema: Value,
}

/// Which stable prefixes of the request are worth caching. Providers place their cache markers
/// after the marked parts only where the model supports prompt caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CacheHints {
    /// Cache the system prompt.
    pub system: bool,
    /// Cache the tool definitions.
    pub tools: bool,
}

/// One model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Model id, inference profile, ARN or catalog alias, as the user gave it.
    pub model: String,
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDef>,
    pub tool_choice: ToolChoice,
    pub max_tokens: u32,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub structured_output: Option<StructuredOutput>,
    pub cache: CacheHints,
}

impl Request {
    /// A request with no tools, default sampling and the given token budget.
    pub fn new(model: impl Into<String>, messages: Vec<Message>, max_tokens: u32) -> Self {
        Self {
            model: model.into(),
            system: None,
            messages,
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            max_tokens,
            temperature: None,
            top_p: None,
            structured_output: None,
            cache: CacheHints::default(),
        }
    }
}

/// Token counts for one call. `input` excludes cached tokens (as Bedrock and Anthropic report it);
/// cache reads and writes are billed separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    /// The server reported no usage, so the counts are estimated from the characters sent and
    /// received (about four per token). Costs, logs and token bounds built on them say so,
    /// instead of counting the call as 0 tokens.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

impl Usage {
    /// Add another call's usage (tool loops sum the usage of every call).
    pub fn add(&mut self, other: &Usage) {
        self.input += other.input;
        self.output += other.output;
        self.cache_read += other.cache_read;
        self.cache_write += other.cache_write;
        self.estimated |= other.estimated;
    }

    /// Every prompt token of the call: fresh input plus cache reads and writes (each provider
    /// reports `input` without the cached part).
    pub fn prompt_tokens(&self) -> u64 {
        self.input + self.cache_read + self.cache_write
    }

    /// An estimate for a call whose server reported no usage: ~4 characters a token, at
    /// least 1 token each way when anything was sent or received.
    pub fn estimate(prompt_chars: usize, output_chars: usize) -> Self {
        let tokens = |chars: usize| (chars as u64).div_ceil(4);
        Self {
            input: tokens(prompt_chars),
            output: tokens(output_chars),
            cache_read: 0,
            cache_write: 0,
            estimated: true,
        }
    }

    /// Prompt and output tokens.
    pub fn total(&self) -> u64 {
        self.prompt_tokens() + self.output
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum StopReason {
    EndTurn,
    ToolUse,
    MaxTokens,
    StopSequence,
    ContentFiltered,
    GuardrailIntervened,
    ContextWindowExceeded,
    MalformedOutput,
    /// A reason this crate does not know, kept verbatim.
    Other(String),
}

/// One event of a streamed response.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    TextDelta(String),
    ToolCallStart {
        id: String,
        name: String,
    },
    /// A fragment of the call's argument JSON; fragments are concatenated and parsed at the end.
    ToolCallArgsDelta {
        id: String,
        json: String,
    },
    ToolCallEnd {
        id: String,
    },
    Usage(Usage),
    Done {
        stop_reason: StopReason,
        /// Latency reported by the provider, when it reports one.
        latency: Option<Duration>,
        /// The model that actually answered (a prompt router's choice, or the resolved id).
        model_used: String,
    },
}

/// A tool call whose arguments were not valid JSON. Kept so the caller can tell the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MalformedToolCall {
    pub id: String,
    pub name: String,
    pub raw_arguments: String,
    pub error: String,
}

/// The folded result of a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub malformed_tool_calls: Vec<MalformedToolCall>,
    pub stop_reason: StopReason,
    pub usage: Usage,
    pub latency: Option<Duration>,
    pub model_used: String,
}

impl Response {
    /// The assistant turn to append to the history: the text (if any) then the valid tool calls.
    pub fn to_message(&self) -> Message {
        let mut content = Vec::new();
        if !self.text.is_empty() {
            content.push(Part::Text(self.text.clone()));
        }
        content.extend(self.tool_calls.iter().cloned().map(Part::ToolCall));
        Message {
            role: Role::Assistant,
            content,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_json() {
        let m = Message {
            role: Role::Assistant,
            content: vec![
                Part::Text("hi".into()),
                Part::ToolCall(ToolCall {
                    id: "t".into(),
                    name: "n".into(),
                    arguments: serde_json::json!({"a": 1}),
                }),
                Part::ToolResult(ToolResult::error("t", "boom")),
            ],
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["content"][0], serde_json::json!({"text": "hi"}));
        assert_eq!(
            v["content"][2]["tool_result"]["output"],
            serde_json::json!({"kind": "text", "value": "boom"})
        );
        assert_eq!(serde_json::from_value::<Message>(v).unwrap(), m);
        let choice = serde_json::to_value(ToolChoice::Tool("x".into())).unwrap();
        assert_eq!(choice, serde_json::json!({"mode": "tool", "name": "x"}));
    }
}
