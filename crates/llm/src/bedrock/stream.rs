//! ConverseStream events → [`StreamEvent`]s (a pure state machine, testable with SDK builders),
//! and a Converse response → the same events (for the non-streaming fallback).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput as ConverseResponse;
use aws_sdk_bedrockruntime::types as sdk;

use super::wire::from_document;
use crate::types::{StopReason, StreamEvent, Usage};

fn usage_of(u: &sdk::TokenUsage) -> Usage {
    let n = |v: i32| u64::try_from(v).unwrap_or(0);
    Usage {
        input: n(u.input_tokens()),
        output: n(u.output_tokens()),
        cache_read: u.cache_read_input_tokens().map_or(0, n),
        cache_write: u.cache_write_input_tokens().map_or(0, n),
        estimated: false,
    }
}

fn latency_of(ms: i64) -> Option<Duration> {
    u64::try_from(ms)
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

/// Per-stream state. Blocks are keyed by `contentBlockIndex` (text blocks have no start event).
#[derive(Debug, Default)]
pub struct StreamState {
    tool_ids: HashMap<i32, String>,
    /// All text emitted so far (kept for `StreamBroken`).
    pub text: String,
    /// Whether any output event (text or tool call) has been emitted.
    pub emitted_output: bool,
    pub stop_reason: Option<StopReason>,
    pub usage: Option<Usage>,
    pub latency: Option<Duration>,
    /// A prompt router's choice, from `metadata.trace.promptRouter.invokedModelId`.
    pub invoked_model: Option<String>,
}

impl StreamState {
    pub fn on_event(&mut self, event: sdk::ConverseStreamOutput) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        match event {
            sdk::ConverseStreamOutput::ContentBlockStart(s) => {
                if let Some(sdk::ContentBlockStart::ToolUse(t)) = s.start() {
                    self.tool_ids
                        .insert(s.content_block_index(), t.tool_use_id().to_string());
                    out.push(StreamEvent::ToolCallStart {
                        id: t.tool_use_id().to_string(),
                        name: t.name().to_string(),
                    });
                }
            }
            sdk::ConverseStreamOutput::ContentBlockDelta(d) => match d.delta() {
                // Models may send an empty delta (e.g. before a tool call): it is not output.
                Some(sdk::ContentBlockDelta::Text(t)) if !t.is_empty() => {
                    self.text.push_str(t);
                    out.push(StreamEvent::TextDelta(t.clone()));
                }
                Some(sdk::ContentBlockDelta::ToolUse(u)) if !u.input().is_empty() => {
                    if let Some(id) = self.tool_ids.get(&d.content_block_index()) {
                        out.push(StreamEvent::ToolCallArgsDelta {
                            id: id.clone(),
                            json: u.input().to_string(),
                        });
                    }
                }
                _ => {}
            },
            sdk::ConverseStreamOutput::ContentBlockStop(s) => {
                if let Some(id) = self.tool_ids.remove(&s.content_block_index()) {
                    out.push(StreamEvent::ToolCallEnd { id });
                }
            }
            sdk::ConverseStreamOutput::MessageStop(m) => {
                self.stop_reason = Some(StopReason::from_wire(m.stop_reason().as_str()));
            }
            sdk::ConverseStreamOutput::Metadata(m) => {
                if let Some(u) = m.usage() {
                    let u = usage_of(u);
                    self.usage = Some(u);
                    out.push(StreamEvent::Usage(u));
                }
                self.latency = m.metrics().and_then(|x| latency_of(x.latency_ms()));
                self.invoked_model = m
                    .trace()
                    .and_then(|t| t.prompt_router())
                    .and_then(|r| r.invoked_model_id())
                    .map(str::to_string);
            }
            _ => {}
        }
        if out.iter().any(|e| {
            matches!(
                e,
                StreamEvent::TextDelta(_) | StreamEvent::ToolCallStart { .. }
            )
        }) {
            self.emitted_output = true;
        }
        out
    }

    /// The closing event, once the stream has ended; `None` if the model never said why it
    /// stopped (the stream was cut).
    pub fn finish(&self, model_sent: &str) -> Option<StreamEvent> {
        let stop_reason = self.stop_reason.clone()?;
        Some(StreamEvent::Done {
            stop_reason,
            latency: self.latency,
            model_used: self
                .invoked_model
                .clone()
                .unwrap_or_else(|| model_sent.to_string()),
        })
    }
}

/// A Converse response as the events a stream would have produced.
pub fn events_of_response(resp: &ConverseResponse, model_sent: &str) -> Vec<StreamEvent> {
    let mut out = Vec::new();
    if let Some(sdk::ConverseOutput::Message(m)) = resp.output() {
        for block in m.content() {
            match block {
                sdk::ContentBlock::Text(t) if !t.is_empty() => {
                    out.push(StreamEvent::TextDelta(t.clone()))
                }
                sdk::ContentBlock::ToolUse(u) => {
                    let id = u.tool_use_id().to_string();
                    out.push(StreamEvent::ToolCallStart {
                        id: id.clone(),
                        name: u.name().to_string(),
                    });
                    out.push(StreamEvent::ToolCallArgsDelta {
                        id: id.clone(),
                        json: from_document(u.input()).to_string(),
                    });
                    out.push(StreamEvent::ToolCallEnd { id });
                }
                _ => {}
            }
        }
    }
    if let Some(u) = resp.usage() {
        out.push(StreamEvent::Usage(usage_of(u)));
    }
    out.push(StreamEvent::Done {
        stop_reason: StopReason::from_wire(resp.stop_reason().as_str()),
        latency: resp.metrics().and_then(|m| latency_of(m.latency_ms())),
        model_used: resp
            .trace()
            .and_then(|t| t.prompt_router())
            .and_then(|r| r.invoked_model_id())
            .map_or_else(|| model_sent.to_string(), str::to_string),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta_text(i: i32, t: &str) -> sdk::ConverseStreamOutput {
        sdk::ConverseStreamOutput::ContentBlockDelta(
            sdk::ContentBlockDeltaEvent::builder()
                .content_block_index(i)
                .delta(sdk::ContentBlockDelta::Text(t.into()))
                .build()
                .unwrap(),
        )
    }

    fn delta_tool(i: i32, json: &str) -> sdk::ConverseStreamOutput {
        sdk::ConverseStreamOutput::ContentBlockDelta(
            sdk::ContentBlockDeltaEvent::builder()
                .content_block_index(i)
                .delta(sdk::ContentBlockDelta::ToolUse(
                    sdk::ToolUseBlockDelta::builder()
                        .input(json)
                        .build()
                        .unwrap(),
                ))
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn blocks_are_keyed_by_index_and_empty_deltas_are_not_output() {
        let mut s = StreamState::default();
        assert!(s.on_event(delta_text(0, "")).is_empty());
        assert!(!s.emitted_output);
        let start = sdk::ConverseStreamOutput::ContentBlockStart(
            sdk::ContentBlockStartEvent::builder()
                .content_block_index(1)
                .start(sdk::ContentBlockStart::ToolUse(
                    sdk::ToolUseBlockStart::builder()
                        .tool_use_id("tooluse_x")
                        .name("get_weather")
                        .build()
                        .unwrap(),
                ))
                .build()
                .unwrap(),
        );
        assert_eq!(
            s.on_event(start),
            vec![StreamEvent::ToolCallStart {
                id: "tooluse_x".into(),
                name: "get_weather".into()
            }]
        );
        assert!(s.emitted_output);
        // A text delta for block 0 interleaved with the tool's deltas for block 1.
        assert_eq!(
            s.on_event(delta_text(0, "Hi")),
            vec![StreamEvent::TextDelta("Hi".into())]
        );
        assert_eq!(
            s.on_event(delta_tool(1, "{\"city\": \"Pa")),
            vec![StreamEvent::ToolCallArgsDelta {
                id: "tooluse_x".into(),
                json: "{\"city\": \"Pa".into()
            }]
        );
        let stop0 = sdk::ConverseStreamOutput::ContentBlockStop(
            sdk::ContentBlockStopEvent::builder()
                .content_block_index(0)
                .build()
                .unwrap(),
        );
        assert!(
            s.on_event(stop0).is_empty(),
            "stopping a text block ends no tool call"
        );
        let stop1 = sdk::ConverseStreamOutput::ContentBlockStop(
            sdk::ContentBlockStopEvent::builder()
                .content_block_index(1)
                .build()
                .unwrap(),
        );
        assert_eq!(
            s.on_event(stop1),
            vec![StreamEvent::ToolCallEnd {
                id: "tooluse_x".into()
            }]
        );
        assert!(
            s.finish("m").is_none(),
            "no messageStop yet: the stream is incomplete"
        );
        let stop = sdk::ConverseStreamOutput::MessageStop(
            sdk::MessageStopEvent::builder()
                .stop_reason(sdk::StopReason::ToolUse)
                .build()
                .unwrap(),
        );
        s.on_event(stop);
        let meta = sdk::ConverseStreamOutput::Metadata(
            sdk::ConverseStreamMetadataEvent::builder()
                .usage(
                    sdk::TokenUsage::builder()
                        .input_tokens(10)
                        .output_tokens(4)
                        .total_tokens(14)
                        .cache_read_input_tokens(3)
                        .build()
                        .unwrap(),
                )
                .metrics(
                    sdk::ConverseStreamMetrics::builder()
                        .latency_ms(250)
                        .build()
                        .unwrap(),
                )
                .trace(
                    sdk::ConverseStreamTrace::builder()
                        .prompt_router(
                            sdk::PromptRouterTrace::builder()
                                .invoked_model_id("arn:x/us.amazon.nova-lite-v1:0")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
        assert_eq!(
            s.on_event(meta),
            vec![StreamEvent::Usage(Usage {
                input: 10,
                output: 4,
                cache_read: 3,
                cache_write: 0,
                estimated: false
            })]
        );
        assert_eq!(
            s.finish("router"),
            Some(StreamEvent::Done {
                stop_reason: StopReason::ToolUse,
                latency: Some(Duration::from_millis(250)),
                model_used: "arn:x/us.amazon.nova-lite-v1:0".into()
            })
        );
        assert_eq!(s.text, "Hi");
    }
}
