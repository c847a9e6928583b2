//! Anthropic and OpenAI specifics beyond the shared contract: the request on the wire, retries
//! and `retry-after`, faults inside the stream, structured output, and the interaction log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use llm::anthropic::{API_VERSION, AnthropicProvider};
use llm::http::{HttpSettings, RetryPolicy};
use llm::log::InteractionLog;
use llm::openai::{MaxTokensField, OpenAiOptions, OpenAiProvider};
use llm::testing::complete_logged;
use llm::testing::fake_anthropic::{self, ANTHROPIC_TEST_KEY, FakeAnthropic, frame};
use llm::testing::fake_openai::{self, FakeOpenAi, OPENAI_TEST_KEY, data};
use llm::testing::{ModelReply, SseReply};
use llm::{
    CacheHints, Catalog, LlmError, Message, Provider, Request, StructuredOutput, ToolChoice,
    ToolDef,
};
use serde_json::{Value, json};

fn settings(max_attempts: u32) -> HttpSettings {
    HttpSettings {
        retry: RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(3),
        },
        ..HttpSettings::default()
    }
}

async fn anthropic() -> (FakeAnthropic, AnthropicProvider) {
    let fake = fake_anthropic::start().await;
    let p = AnthropicProvider::new(
        ANTHROPIC_TEST_KEY,
        fake.endpoint(),
        settings(3),
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    (fake, p)
}

async fn openai_with(options: OpenAiOptions) -> (FakeOpenAi, OpenAiProvider) {
    let fake = fake_openai::start().await;
    let p = OpenAiProvider::new(
        Some(OPENAI_TEST_KEY.into()),
        format!("{}/v1", fake.endpoint()),
        options,
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    (fake, p)
}

async fn openai() -> (FakeOpenAi, OpenAiProvider) {
    // The fake speaks for api.openai.com from a loopback address, so say what that endpoint
    // would choose on its own.
    openai_with(OpenAiOptions {
        http: settings(3),
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        ..OpenAiOptions::default()
    })
    .await
}

fn tool(name: &str) -> ToolDef {
    ToolDef {
        name: name.into(),
        description: format!("the {name} tool"),
        schema: json!({"type": "object", "properties": {"x": {"type": "integer"}}}),
    }
}

/// The smallest call: one user message "q", at most five output tokens.
fn one_question(model: &str) -> Request {
    Request::new(model, vec![Message::user("q")], 5)
}

#[tokio::test]
async fn anthropic_request_on_the_wire() {
    let (fake, p) = anthropic().await;
    let mut req = Request::new("claude-sonnet-4.5", vec![Message::user("q")], 321);
    req.system = Some("Stable coaching prompt.".into());
    req.tools = vec![tool("a"), tool("b")];
    req.tool_choice = ToolChoice::Tool("b".into());
    req.cache = CacheHints {
        system: true,
        tools: true,
    };
    p.complete(&req).await.unwrap();
    let r = &fake.requests()[0];
    assert_eq!(r.header("x-api-key"), Some(ANTHROPIC_TEST_KEY));
    assert_eq!(r.header("anthropic-version"), Some(API_VERSION));
    assert_eq!(r.header("authorization"), None);
    let b = &r.body;
    assert_eq!(b["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(b["max_tokens"], 321);
    assert_eq!(b["stream"], true);
    assert_eq!(
        b["system"],
        json!([{"type": "text", "text": "Stable coaching prompt.", "cache_control": {"type": "ephemeral"}}])
    );
    assert!(b["tools"][0].get("cache_control").is_none());
    assert_eq!(b["tools"][1]["cache_control"], json!({"type": "ephemeral"}));
    assert_eq!(b["tool_choice"], json!({"type": "tool", "name": "b"}));
}

#[tokio::test]
async fn openai_request_on_the_wire_and_the_max_tokens_option() {
    let (fake, p) = openai().await;
    let mut req = Request::new("gpt-5.1", vec![Message::user("q")], 99);
    req.tools = vec![tool("a")];
    req.tool_choice = ToolChoice::Any;
    p.complete(&req).await.unwrap();
    let r = &fake.requests()[0];
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {OPENAI_TEST_KEY}").as_str())
    );
    assert_eq!(r.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(r.body["max_completion_tokens"], 99);
    assert_eq!(r.body["tool_choice"], "required");
    assert_eq!(r.body["tools"][0]["type"], "function");

    // `max_tokens` is an option for servers that need it; the fake enforces OpenAI's rule that
    // older models accept it and reasoning models refuse it. The refusal ("Use
    // 'max_completion_tokens' instead") switches the endpoint to the other field, once.
    let (fake, p) = openai_with(OpenAiOptions {
        http: settings(1),
        max_tokens_field: MaxTokensField::MaxTokens,
        stream_usage: true,
    })
    .await;
    let ok = p.complete(&one_question("gpt-4.1")).await.unwrap();
    assert_eq!(ok.text, "ok");
    assert_eq!(fake.requests()[0].body["max_tokens"], 5);
    let ok = p.complete(&one_question("gpt-5.1")).await.unwrap();
    assert_eq!(ok.text, "ok");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    assert!(
        reqs[1]
            .rejected
            .as_deref()
            .unwrap()
            .contains("Use 'max_completion_tokens' instead")
    );
    assert_eq!(reqs[2].body["max_completion_tokens"], 5);
    assert!(reqs[2].body.get("max_tokens").is_none());
}

#[tokio::test]
async fn a_wrong_key_is_rejected_by_the_fakes_own_check() {
    let fake = fake_anthropic::start().await;
    let p = AnthropicProvider::new(
        "sk-ant-wrong-key-000000000000",
        fake.endpoint(),
        settings(3),
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    let err = p
        .complete(&one_question("claude-haiku-4.5"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "authentication");
    assert!(err.to_string().contains("invalid x-api-key"));
    assert_eq!(
        fake.requests().len(),
        1,
        "authentication errors are not retried"
    );

    let fake = fake_openai::start().await;
    let p = OpenAiProvider::new(
        Some("sk-proj-wrongwrongwrongwrong1234".into()),
        format!("{}/v1", fake.endpoint()),
        OpenAiOptions::default(),
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    let err = p.complete(&one_question("gpt-5.1")).await.unwrap_err();
    assert_eq!(err.kind(), "authentication");
    assert!(err.to_string().contains("sk-proj-****1234"), "{err}");
}

#[tokio::test]
async fn retry_after_is_honoured_and_counted() {
    let (fake, p) = anthropic().await;
    fake.push(fake_anthropic::rate_limited("1"));
    fake.push(SseReply::Model(ModelReply::text("patience")));
    let dir = tempfile::tempdir().unwrap();
    let log = InteractionLog::open(dir.path()).unwrap();
    let started = Instant::now();
    let (r, written) =
        complete_logged(&p, &one_question("claude-haiku-4.5"), p.catalog(), &log).await;
    written.unwrap();
    assert_eq!(r.unwrap().text, "patience");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests().len(), 2);
    let line: Value =
        serde_json::from_str(std::fs::read_to_string(log.path()).unwrap().trim()).unwrap();
    assert_eq!(line["attempts"], 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_is_not_waited_for() {
    let (fake, p) = openai().await;
    fake.push(fake_openai::rate_limited("60000"));
    let err = p.complete(&one_question("gpt-5.1")).await.unwrap_err();
    match err {
        LlmError::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(60)))
        }
        other => panic!("{other}"),
    }
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn connect_errors_are_retried_then_reported() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = AnthropicProvider::new(
        ANTHROPIC_TEST_KEY,
        format!("http://127.0.0.1:{port}"),
        settings(3),
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    let (stream, attempts) = p.stream_counted(&one_question("claude-haiku-4.5")).await;
    let err = stream.err().unwrap();
    assert_eq!(err.kind(), "transport", "{err}");
    assert_eq!(attempts.unwrap().get(), 3);
}

fn overloaded_event() -> String {
    frame(
        "error",
        &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    )
}

#[tokio::test]
async fn an_overloaded_event_before_output_reissues_the_call() {
    let (fake, p) = anthropic().await;
    let start = frame(
        "message_start",
        &json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001", "content": [], "usage": {"input_tokens": 5, "output_tokens": 1}}}),
    );
    fake.push(SseReply::Raw(vec![start, overloaded_event()]));
    fake.push(SseReply::Model(ModelReply::text("second try")));
    let r = p.complete(&one_question("claude-haiku-4.5")).await.unwrap();
    assert_eq!(r.text, "second try");
    assert_eq!(r.usage.input, 12, "usage of the answered attempt only");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn an_overloaded_event_after_output_is_a_broken_stream() {
    let (fake, p) = anthropic().await;
    let mut frames = llm::testing::fake_anthropic::AnthropicWire.frames_for(
        &ModelReply::text("Partial answer here"),
        "claude-haiku-4-5-20251001",
    );
    frames.truncate(5); // start, ping, block start, "Part", "ial "
    frames.push(overloaded_event());
    fake.push(SseReply::Raw(frames));
    let err = p
        .complete(&one_question("claude-haiku-4.5"))
        .await
        .unwrap_err();
    match &err {
        LlmError::StreamBroken {
            partial_text,
            message,
            ..
        } => {
            assert_eq!(partial_text, "Partial ");
            assert!(message.contains("Overloaded"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn an_openai_error_chunk_and_a_malformed_chunk() {
    let (fake, p) = openai().await;
    fake.push(SseReply::Raw(vec![
        data(&json!({"id": "c", "object": "chat.completion.chunk", "model": "gpt-5.1", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]})),
        data(&json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}})),
    ]));
    let err = p.complete(&one_question("gpt-5.1")).await.unwrap_err();
    match &err {
        LlmError::StreamBroken { partial_text, .. } => assert_eq!(partial_text, "Hi"),
        other => panic!("{other}"),
    }
    fake.push(SseReply::Raw(vec!["data: {\"choices\": [\n\n".into()]));
    let err = p.complete(&one_question("gpt-5.1")).await.unwrap_err();
    assert_eq!(err.kind(), "model_error", "{err}");
    assert!(err.to_string().contains("malformed stream chunk"), "{err}");
}

#[tokio::test]
async fn a_stream_without_done_is_incomplete() {
    let (fake, p) = openai().await;
    // Finished by finish_reason but the connection closed before `data: [DONE]` — and no text
    // was shown, so the call is re-issued (and succeeds).
    fake.push(SseReply::Raw(vec![data(
        &json!({"id": "c", "object": "chat.completion.chunk", "model": "gpt-5.1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    )]));
    fake.push(SseReply::Model(ModelReply::text("whole")));
    let r = p.complete(&one_question("gpt-5.1")).await.unwrap();
    assert_eq!(r.text, "whole");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn structured_output_on_both_apis() {
    let schema =
        json!({"type": "object", "properties": {"tss": {"type": "number"}}, "required": ["tss"]});
    let so = StructuredOutput {
        name: "ride_summary".into(),
        description: Some("A ride summary".into()),
        schema: schema.clone(),
    };
    // Anthropic: a forced tool whose streamed input is the answer text.
    let (fake, p) = anthropic().await;
    fake.push(SseReply::Model(ModelReply::tool_calls(&[(
        "toolu_1",
        "ride_summary",
        r#"{"tss": 87.5}"#,
    )])));
    let mut req = Request::new("claude-haiku-4.5", vec![Message::user("summarise")], 50);
    req.structured_output = Some(so.clone());
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.text, r#"{"tss": 87.5}"#);
    assert!(r.tool_calls.is_empty());
    assert_eq!(r.stop_reason, llm::StopReason::EndTurn);
    let b = &fake.requests()[0].body;
    assert_eq!(
        b["tool_choice"],
        json!({"type": "tool", "name": "ride_summary"})
    );
    assert_eq!(b["tools"][0]["input_schema"], schema);

    // OpenAI: response_format json_schema.
    let (fake, p) = openai().await;
    fake.push(SseReply::Model(ModelReply::text(r#"{"tss": 87.5}"#)));
    let mut req = Request::new("gpt-5.1", vec![Message::user("summarise")], 50);
    req.structured_output = Some(so);
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.text, r#"{"tss": 87.5}"#);
    let b = &fake.requests()[0].body;
    assert_eq!(b["response_format"]["type"], "json_schema");
    assert_eq!(b["response_format"]["json_schema"]["name"], "ride_summary");
    assert_eq!(b["response_format"]["json_schema"]["schema"], schema);
}

#[tokio::test]
async fn both_providers_log_through_the_same_path_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let log = InteractionLog::open(dir.path()).unwrap();
    let (afake, ap) = anthropic().await;
    let (ofake, op) = openai().await;
    // Users paste keys into chats; the log must still not contain them (pattern scrubbing, no
    // `add_secret` needed for keys of the providers' shapes).
    let leaky = |model: &str| {
        Request::new(
            model,
            vec![Message::user(format!(
                "my keys: {ANTHROPIC_TEST_KEY} and {OPENAI_TEST_KEY}"
            ))],
            20,
        )
    };
    afake.push(SseReply::Model(ModelReply::text("noted").with_usage(
        100,
        10,
        Some(50),
        Some(20),
    )));
    let (r, w) = complete_logged(&ap, &leaky("claude-haiku-4.5"), ap.catalog(), &log).await;
    r.unwrap();
    w.unwrap();
    ofake.push(fake_openai::rate_limited("1"));
    ofake.push(SseReply::Model(ModelReply::text("noted too")));
    let (r, w) = complete_logged(&op, &leaky("gpt-5.1"), op.catalog(), &log).await;
    r.unwrap();
    w.unwrap();
    afake.push(fake_anthropic::error(403, "permission_error", "no access"));
    let (r, w) = complete_logged(&ap, &leaky("claude-haiku-4.5"), ap.catalog(), &log).await;
    assert_eq!(r.unwrap_err().kind(), "permission_denied");
    w.unwrap();

    let text = std::fs::read_to_string(log.path()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["provider"], "anthropic");
    assert_eq!(lines[0]["model_used"], "claude-haiku-4-5-20251001");
    assert_eq!(lines[0]["usage"]["cache_write"], 20);
    assert_eq!(lines[0]["cost"]["status"], "known");
    assert_eq!(lines[0]["attempts"], 1);
    assert!(lines[0]["latency_ms"].is_u64());
    assert_eq!(lines[1]["provider"], "openai");
    assert_eq!(lines[1]["attempts"], 2);
    assert_eq!(lines[1]["response"]["text"], "noted too");
    assert_eq!(lines[2]["error"]["kind"], "permission_denied");
    for needle in [ANTHROPIC_TEST_KEY, OPENAI_TEST_KEY, "FAKEfakeFAKEfake"] {
        assert!(!text.contains(needle), "the log contains `{needle}`");
    }
    assert!(text.contains("[REDACTED]"));
}

#[tokio::test]
async fn a_server_that_ignores_stream_true_is_reported_clearly() {
    let (fake, p) = openai().await;
    fake.push(SseReply::Error {
        status: 200,
        body: r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[]}"#.into(),
        headers: Vec::new(),
    });
    let err = p.complete(&one_question("gpt-5.1")).await.unwrap_err();
    assert_eq!(err.kind(), "model_error");
    assert!(
        err.to_string().contains(
            "expected an event stream (text/event-stream) but the server sent application/json"
        ),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 1);
}
