//! Gemini and Ollama specifics beyond the shared contract: calls without ids and their results,
//! the schema sanitiser against the fake's own schema rules, keys and hosts on the wire,
//! `num_ctx`, structured output, and the interaction log.

use std::sync::Arc;
use std::time::Duration;

use llm::gemini::GeminiProvider;
use llm::http::{HttpSettings, RetryPolicy};
use llm::log::InteractionLog;
use llm::ollama::{OllamaOptions, OllamaProvider};
use llm::testing::complete_logged;
use llm::testing::fake_gemini::{self, FakeGemini, GEMINI_TEST_KEY, check_schema};
use llm::testing::fake_ollama::{self, FakeOllama};
use llm::testing::{ModelReply, SseReply};
use llm::{Catalog, Message, Provider, Request, StructuredOutput, ToolDef, ToolResult};
use serde_json::{Value, json};

fn settings() -> HttpSettings {
    HttpSettings {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(3),
        },
        ..HttpSettings::default()
    }
}

async fn gemini(fake: &FakeGemini) -> GeminiProvider {
    GeminiProvider::new(
        GEMINI_TEST_KEY,
        fake.endpoint(),
        settings(),
        Arc::new(Catalog::builtin()),
    )
    .unwrap()
}

async fn ollama() -> (FakeOllama, OllamaProvider) {
    let fake = fake_ollama::start().await;
    let p = OllamaProvider::new(
        &fake.endpoint(),
        OllamaOptions {
            http: settings(),
            ..OllamaOptions::default()
        },
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    (fake, p)
}

/// A schema as `schemars` writes it: everything Gemini refuses.
fn messy_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "PlanWeek",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "start": {"type": "string", "format": "date"},
            "note": {"type": ["string", "null"]},
            "days": {"type": "array", "items": {"$ref": "#/$defs/Day"}},
            "tags": {"type": "array"},
            "empty": {"type": "object", "properties": {}},
        },
        "required": ["start", "days"],
        "$defs": {"Day": {"type": "object", "additionalProperties": false,
            "properties": {"tss": {"type": "integer", "format": "uint32", "minimum": 0},
                           "blocks": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}},
            "required": ["tss"]}}
    })
}

#[test]
fn the_fakes_schema_rules_reject_the_raw_schema_and_accept_the_sanitised_one() {
    let raw = check_schema(&messy_schema(), "parameters").unwrap_err();
    assert_eq!(raw.0, 400);
    assert!(raw.1.contains("Unknown name"), "{}", raw.1);
    for (bad, why) in [
        (json!({"type": ["string", "null"]}), "not repeating"),
        (json!({"type": "array"}), "items: missing field"),
        (
            json!({"type": "object", "properties": {}}),
            "non-empty for OBJECT",
        ),
        (json!({"type": "string", "format": "date"}), "date-time"),
        (
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}),
            "not defined",
        ),
    ] {
        let err = check_schema(&bad, "p").unwrap_err();
        assert!(err.1.contains(why), "{bad}: {}", err.1);
    }
    let clean = llm::gemini::sanitize_schema(&messy_schema());
    check_schema(&clean, "parameters").unwrap();
    assert_eq!(
        clean["properties"]["days"]["items"]["properties"]["blocks"]["items"]["items"],
        json!({"type": "number"})
    );
}

#[tokio::test]
async fn calls_without_ids_get_stable_ids_and_their_results_are_accepted() {
    let fake = fake_gemini::start_without_ids().await;
    let p = gemini(&fake).await;
    let tool = ToolDef {
        name: "plan_week".into(),
        description: "Plan a week".into(),
        schema: messy_schema(),
    };
    fake.push(SseReply::Model(ModelReply::tool_calls(&[
        (
            "ignored",
            "plan_week",
            r#"{"start": "2026-11-23", "days": []}"#,
        ),
        (
            "ignored",
            "plan_week",
            r#"{"start": "2026-11-30", "days": []}"#,
        ),
    ])));
    let mut req = Request::new("gemini-2.5-flash", vec![Message::user("plan")], 300);
    req.tools = vec![tool];
    let first = p.complete(&req).await.unwrap();
    let ids: Vec<&str> = first.tool_calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["gemini_call_fakeResp-01_0", "gemini_call_fakeResp-01_1"]
    );
    req.messages.push(first.to_message());
    // Answered in reverse order: the provider puts them back in call order.
    req.messages.push(Message::tool_results(vec![
        ToolResult::text(&first.tool_calls[1].id, "second week saved"),
        ToolResult::json(&first.tool_calls[0].id, json!({"saved": true})),
    ]));
    fake.push(SseReply::Model(ModelReply::text("Both weeks are planned.")));
    let second = p.complete(&req).await.unwrap();
    assert_eq!(second.text, "Both weeks are planned.");
    let reqs = fake.requests();
    assert!(
        reqs.iter().all(|r| r.rejected.is_none()),
        "{:?}",
        reqs.last().unwrap().rejected
    );
    let last = &reqs.last().unwrap().body;
    let model_turn = &last["contents"][1]["parts"];
    assert!(
        model_turn[0]["functionCall"].get("id").is_none(),
        "made-up ids are not sent"
    );
    let responses = &last["contents"][2]["parts"];
    assert_eq!(
        responses[0]["functionResponse"]["response"],
        json!({"saved": true})
    );
    assert_eq!(
        responses[1]["functionResponse"]["response"],
        json!({"output": "second week saved"})
    );
    // Keys go in the header, never in the URL.
    let r = &reqs[0];
    assert_eq!(r.header("x-goog-api-key"), Some(GEMINI_TEST_KEY));
    assert_eq!(
        r.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert!(!r.path.contains("key="));
}

#[tokio::test]
async fn a_wrong_gemini_key_is_an_authentication_error_from_the_fakes_own_check() {
    let fake = fake_gemini::start().await;
    let p = GeminiProvider::new(
        "AIzaSyWRONGwrongWRONGwrong0123456789Wrong",
        fake.endpoint(),
        settings(),
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    let err = p
        .complete(&Request::new(
            "gemini-2.5-flash",
            vec![Message::user("q")],
            10,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "authentication", "{err}");
    assert!(err.to_string().contains("API key not valid"));
    assert_eq!(fake.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn gemini_retry_delay_from_the_error_body_is_waited_for() {
    let fake = fake_gemini::start().await;
    let p = gemini(&fake).await;
    fake.push(fake_gemini::rate_limited("0.3s"));
    fake.push(SseReply::Model(ModelReply::text("later")));
    let started = std::time::Instant::now();
    let r = p
        .complete(&Request::new(
            "gemini-2.5-flash",
            vec![Message::user("q")],
            10,
        ))
        .await
        .unwrap();
    assert_eq!(r.text, "later");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn gemini_structured_output_sends_a_sanitised_response_schema() {
    let fake = fake_gemini::start().await;
    let p = gemini(&fake).await;
    fake.push(SseReply::Model(ModelReply::text(
        r#"{"start": "2026-11-23", "days": []}"#,
    )));
    let mut req = Request::new("gemini-2.5-pro", vec![Message::user("plan")], 100);
    req.structured_output = Some(StructuredOutput {
        name: "plan".into(),
        description: None,
        schema: messy_schema(),
    });
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.model_used, "gemini-2.5-pro");
    let body = &fake.requests()[0].body;
    assert!(
        fake.requests()[0].rejected.is_none(),
        "{:?}",
        fake.requests()[0].rejected
    );
    assert_eq!(
        body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert!(
        body["generationConfig"]["responseSchema"]
            .get("$schema")
            .is_none()
    );
}

#[tokio::test]
async fn ollama_sends_num_ctx_and_no_key_and_reports_duration() {
    let (fake, p) = ollama().await;
    fake.push(SseReply::Model(ModelReply::text("local answer")));
    let r = p
        .complete(&Request::new("qwen3:8b", vec![Message::user("q")], 50))
        .await
        .unwrap();
    assert_eq!(r.text, "local answer");
    assert_eq!(r.latency, Some(Duration::from_millis(321)));
    let req = &fake.requests()[0];
    assert_eq!(req.path, "/api/chat");
    assert_eq!(req.body["options"]["num_ctx"], 32768);
    assert_eq!(req.body["options"]["num_predict"], 50);
    assert!(req.header("authorization").is_none());
    let cost = Catalog::builtin().cost("ollama", &r.model_used, &r.usage);
    assert_eq!(cost.usd(), Some(0.0));
}

#[tokio::test]
async fn ollama_not_running_says_so() {
    // A port nothing listens on: bind, read the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = OllamaProvider::new(
        &format!("127.0.0.1:{port}"),
        OllamaOptions {
            http: settings(),
            ..OllamaOptions::default()
        },
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    let err = p
        .complete(&Request::new("llama3.1", vec![Message::user("q")], 5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "transport");
    assert!(err.to_string().contains("is Ollama running"), "{err}");
}

#[tokio::test]
async fn ollama_model_not_pulled_is_model_not_found() {
    let (fake, p) = ollama().await;
    let err = p
        .complete(&Request::new("mystery:3b", vec![Message::user("q")], 5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "model_not_found");
    assert!(err.to_string().contains("try pulling it first"), "{err}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn gemini_and_ollama_log_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let log = InteractionLog::open(dir.path()).unwrap();
    let catalog = Catalog::builtin();
    let gfake = fake_gemini::start().await;
    let g = gemini(&gfake).await;
    gfake.push(SseReply::Model(ModelReply::text("hi").with_usage(
        1000,
        500,
        Some(2000),
        None,
    )));
    let (r, w) = complete_logged(
        &g,
        &Request::new("gemini-2.5-flash", vec![Message::user("q")], 10),
        &catalog,
        &log,
    )
    .await;
    r.unwrap();
    w.unwrap();
    let (ofake, o) = ollama().await;
    ofake.push(SseReply::Model(ModelReply::text("local")));
    let (r, w) = complete_logged(
        &o,
        &Request::new("llama3.1", vec![Message::user("q")], 10),
        &catalog,
        &log,
    )
    .await;
    r.unwrap();
    w.unwrap();
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(!text.contains(GEMINI_TEST_KEY));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!((lines[0]["cost"]["usd"].as_f64().unwrap() - 0.00161).abs() < 1e-12);
    assert_eq!(lines[1]["cost"]["usd"], 0.0);
    assert_eq!(lines[1]["model_used"], "llama3.1:8b");
}
