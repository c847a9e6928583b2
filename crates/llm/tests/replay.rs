//! The replay provider: a session recorded through the interaction log against a fake service
//! is given back identically — answers, tool calls, malformed calls, usage, the model used and
//! the errors — and a replay that drifts from the recording or runs past it fails clearly.

use llm::anthropic::AnthropicProvider;
use llm::log::InteractionLog;
use llm::replay::ReplayProvider;
use llm::testing::complete_logged;
use llm::testing::fake_anthropic::{self, FakeAnthropic};
use llm::testing::{ModelReply, SseReply};
use llm::{Catalog, LlmError, Message, Provider, Request, Response, ToolCall, ToolDef, ToolResult};
use serde_json::json;

async fn anthropic() -> (FakeAnthropic, AnthropicProvider) {
    let fake = fake_anthropic::start().await;
    let provider = fake.provider(2);
    (fake, provider)
}

fn request(question: &str, extra: Vec<Message>) -> Request {
    let mut messages = vec![Message::user(question)];
    messages.extend(extra);
    let mut r = Request::new("claude-haiku-4.5", messages, 500);
    r.system = Some("You are a coach.".into());
    r.tools = vec![ToolDef {
        name: "weekly_volume".into(),
        description: "Hours per week.".into(),
        schema: json!({"type": "object", "properties": {"weeks": {"type": "integer"}}}),
    }];
    r
}

/// The four requests of the recorded session, in order.
fn session() -> Vec<Request> {
    let calls = Message {
        role: llm::Role::Assistant,
        content: vec![
            llm::Part::ToolCall(ToolCall {
                id: "t1".into(),
                name: "weekly_volume".into(),
                arguments: json!({"weeks": 4}),
            }),
            llm::Part::ToolCall(ToolCall {
                id: "t2".into(),
                name: "weekly_volume".into(),
                arguments: json!({}),
            }),
        ],
    };
    let results = Message::tool_results(vec![
        ToolResult::json("t1", json!({"hours": [9.5, 11.0]})),
        ToolResult::error("t2", "invalid arguments for `weekly_volume`: invalid JSON"),
    ]);
    vec![
        request("How was my week?", vec![]),
        request("How was my week?", vec![calls, results]),
        request("Plan my month", vec![]),
        request("Why am I tired?", vec![]),
    ]
}

fn script(fake: &FakeAnthropic) {
    fake.push(SseReply::Model(
        ModelReply::tool_calls(&[
            ("t1", "weekly_volume", r#"{"weeks": 4}"#),
            ("t2", "weekly_volume", r#"{"weeks": "#),
        ])
        .with_usage(1200, 40, Some(300), Some(0)),
    ));
    fake.push(SseReply::Model(
        ModelReply::text("You rode 9.5 and 11 hours.").with_usage(1500, 25, Some(300), None),
    ));
    fake.push(fake_anthropic::error(
        400,
        "invalid_request_error",
        "messages.0.content: text content blocks must be non-empty",
    ));
    // Three text deltas, then the connection drops mid-answer.
    fake.push(SseReply::CutAfter(
        ModelReply::text("Because your form is low after the block."),
        6,
    ));
}

async fn record(dir: &std::path::Path) -> Vec<Result<Response, LlmError>> {
    let (fake, provider) = anthropic().await;
    script(&fake);
    let log = InteractionLog::open(dir).unwrap();
    let catalog = Catalog::builtin();
    let mut outcomes = Vec::new();
    for r in session() {
        let (outcome, written) = complete_logged(&provider, &r, &catalog, &log).await;
        written.unwrap();
        outcomes.push(outcome);
    }
    outcomes
}

#[tokio::test]
async fn a_recorded_session_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let originals = record(dir.path()).await;
    // The recording holds what was scripted.
    let first = originals[0].as_ref().unwrap();
    assert_eq!(first.tool_calls.len(), 1);
    assert_eq!(first.malformed_tool_calls.len(), 1);
    assert!(matches!(originals[2], Err(LlmError::Validation { .. })));
    assert!(matches!(originals[3], Err(LlmError::StreamBroken { .. })));

    let replay = ReplayProvider::from_log(&dir.path().join("interactions.jsonl")).unwrap();
    assert_eq!(replay.name(), "replay");
    assert_eq!((replay.len(), replay.remaining()), (4, 4));
    assert_eq!(replay.first_model(), Some("claude-haiku-4.5"));
    for (n, (r, original)) in session().iter().zip(&originals).enumerate() {
        let again = replay.complete(r).await;
        match (original, again) {
            (Ok(o), Ok(a)) => {
                assert_eq!(a.text, o.text, "call {n}");
                assert_eq!(a.tool_calls, o.tool_calls, "call {n}");
                assert_eq!(a.malformed_tool_calls, o.malformed_tool_calls, "call {n}");
                assert_eq!(a.stop_reason, o.stop_reason, "call {n}");
                assert_eq!(a.usage, o.usage, "call {n}");
                assert_eq!(a.model_used, o.model_used, "call {n}");
                assert_eq!(
                    a.latency.map(|d| d.as_millis()),
                    o.latency.map(|d| d.as_millis()),
                    "call {n}"
                );
            }
            (Err(o), Err(a)) => assert_eq!(&a, o, "call {n}: the very same error"),
            (o, a) => panic!("call {n}: recorded {o:?}, replayed {a:?}"),
        }
    }
    assert_eq!(replay.remaining(), 0);
    // The partial text of the broken stream is streamed again before the failure.
    let Err(LlmError::StreamBroken { partial_text, .. }) = &originals[3] else {
        unreachable!()
    };
    assert_eq!(partial_text, "Because your");
    let usage = originals[0].as_ref().unwrap().usage;
    assert_eq!((usage.input, usage.cache_read), (1200, 300));
}

#[tokio::test]
async fn an_exhausted_log_says_how_many_calls_it_has() {
    let dir = tempfile::tempdir().unwrap();
    record(dir.path()).await;
    let replay = ReplayProvider::from_log(dir.path()).unwrap();
    for r in session() {
        let _ = replay.complete(&r).await;
    }
    let err = replay.complete(&session()[0]).await.unwrap_err();
    let path = dir.path().join("interactions.jsonl");
    assert_eq!(
        err,
        LlmError::Validation {
            provider: "replay".into(),
            message: format!(
                "replay log {} has 4 calls; call 5 was requested",
                path.display()
            ),
        }
    );
}

#[tokio::test]
async fn a_request_that_differs_from_the_recording_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    record(dir.path()).await;
    let replay = ReplayProvider::from_log(dir.path()).unwrap();
    let mut other_model = session()[0].clone();
    other_model.model = "claude-sonnet-4.5".into();
    let err = replay.complete(&other_model).await.unwrap_err().to_string();
    assert!(
        err.contains("entry 1 (line 1)")
            && err
                .contains("asked model `claude-haiku-4.5`, this request asks `claude-sonnet-4.5`"),
        "{err}"
    );
    let other_question = request("How was my year?", vec![]);
    let err = replay
        .complete(&other_question)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("entry 1 (line 1)")
            && err.contains("the last user message differs")
            && err.contains("How was my week?")
            && err.contains("How was my year?"),
        "{err}"
    );
    // A refused request does not use up the entry: the right one is still answered.
    assert_eq!(replay.remaining(), 4);
    let r = replay.complete(&session()[0]).await.unwrap();
    assert_eq!(r.tool_calls[0].arguments, json!({"weeks": 4}));
    // Entry 2 expects the tool results: a different result is a different request.
    let mut drifted = session()[1].clone();
    drifted.messages[2] = Message::tool_results(vec![
        ToolResult::json("t1", json!({"hours": [1.0]})),
        ToolResult::error("t2", "invalid arguments for `weekly_volume`: invalid JSON"),
    ]);
    let err = replay.complete(&drifted).await.unwrap_err().to_string();
    assert!(err.contains("entry 2 (line 2)"), "{err}");
}

#[test]
fn an_unreadable_log_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interactions.jsonl");
    std::fs::write(&path, "{\"not\": \"an entry\"}\n").unwrap();
    let err = ReplayProvider::from_log(&path).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "replay log {} line 1: not an interaction-log entry",
            path.display()
        )),
        "{err}"
    );
    let missing = dir.path().join("nope.jsonl");
    let err = ReplayProvider::from_log(&missing).unwrap_err().to_string();
    assert!(
        err.contains("cannot read replay log") && err.contains("nope.jsonl"),
        "{err}"
    );
}

#[tokio::test]
async fn events_logged_beside_the_calls_are_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    record(dir.path()).await;
    let log = InteractionLog::open(dir.path()).unwrap();
    let event = json!({"kind": "mcp_tool_call", "tool": "get_power_curve"});
    log.record_event(&event).unwrap();
    let text = std::fs::read_to_string(dir.path().join("interactions.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(!llm::log::is_model_call(&event));
    let replay = ReplayProvider::from_log(dir.path()).unwrap();
    assert_eq!(replay.len(), 4);
}
