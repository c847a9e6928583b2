//! The OpenAI provider against OpenAI-compatible servers: the fake's `CompatServer` modes
//! reproduce what llama-cpp-python and llama.cpp's `llama-server` did to real requests, and
//! each test checks one degradation (or wire choice) on the requests the server saw.

use std::sync::Arc;
use std::time::Duration;

use llm::http::{HttpSettings, RetryPolicy};
use llm::openai::{self, OpenAiOptions, OpenAiProvider, ResponseFormatMode, ToolChoiceMode};
use llm::testing::fake_openai::{self, CompatServer, FakeOpenAi};
use llm::testing::{ModelReply, SseReply};
use llm::{
    Catalog, Message, Part, Provider, Request, StructuredOutput, ToolCall, ToolChoice, ToolDef,
    ToolResult,
};
use serde_json::json;

async fn server(kind: CompatServer) -> (FakeOpenAi, OpenAiProvider) {
    let fake = fake_openai::start_as(kind).await;
    let p = OpenAiProvider::new(
        None,
        format!("{}/v1", fake.endpoint()),
        OpenAiOptions {
            http: HttpSettings {
                retry: RetryPolicy {
                    max_attempts: 3,
                    initial_backoff: Duration::from_millis(5),
                    max_backoff: Duration::from_millis(20),
                    max_retry_after: Duration::from_secs(1),
                },
                ..HttpSettings::default()
            },
            ..OpenAiOptions::default()
        },
        Arc::new(Catalog::builtin()),
    )
    .unwrap();
    (fake, p)
}

fn structured() -> Request {
    let mut r = Request::new("qwen2.5-0.5b-instruct", vec![Message::user("rate it")], 64);
    r.system = Some("You are a coach.".into());
    r.structured_output = Some(StructuredOutput {
        name: "rating".into(),
        description: None,
        schema: json!({"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}),
    });
    r
}

fn forced_tool() -> Request {
    let mut r = Request::new("local", vec![Message::user("plan it")], 64);
    r.tools = vec![ToolDef {
        name: "submit_plan".into(),
        description: "the plan".into(),
        schema: json!({"type": "object"}),
    }];
    r.tool_choice = ToolChoice::Tool("submit_plan".into());
    r
}

#[tokio::test]
async fn a_refused_json_schema_falls_back_to_json_object_once_and_is_remembered() {
    let (fake, p) = server(CompatServer::LlamaCppPython).await;
    fake.push(SseReply::Model(ModelReply::text(r#"{"score": 4}"#)));
    fake.push(SseReply::Model(ModelReply::text(r#"{"score": 5}"#)));
    let r = p.complete(&structured()).await.unwrap();
    assert_eq!(r.text, r#"{"score": 4}"#);
    let reqs = fake.requests();
    // The 500 with a validation body is a request error: not retried as "overloaded".
    assert_eq!(reqs.len(), 2, "{:?}", fake.rejections());
    assert_eq!(reqs[0].body["response_format"]["type"], "json_schema");
    assert!(
        reqs[0]
            .rejected
            .as_deref()
            .unwrap()
            .contains("validation error")
    );
    assert_eq!(
        reqs[1].body["response_format"],
        json!({"type": "json_object"})
    );
    let system = reqs[1].body["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with("You are a coach."), "{system}");
    assert!(
        system.contains(r#""required":["score"]"#),
        "the schema moves into the instructions: {system}"
    );
    // Remembered for the endpoint: the next call goes straight to json_object.
    p.complete(&structured()).await.unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].body["response_format"]["type"], "json_object");
    assert_eq!(
        openai::endpoint_features(p.base_url()).response_format,
        ResponseFormatMode::JsonObject
    );
}

#[tokio::test]
async fn instructions_only_is_the_last_level_and_sends_no_response_format() {
    let (_fake, p) = server(CompatServer::LlamaCppPython).await;
    let features = openai::EndpointFeatures {
        response_format: ResponseFormatMode::Instructions,
        ..Default::default()
    };
    let body = p.request_body_with(&structured(), features);
    assert!(body.get("response_format").is_none(), "{body}");
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("JSON Schema"), "{system}");
}

#[tokio::test]
async fn a_server_without_stream_usage_gets_an_estimate_marked_estimated_never_zero() {
    let (fake, p) = server(CompatServer::LlamaCppPython).await;
    fake.push(SseReply::Model(ModelReply::text(&"word ".repeat(40))));
    let r = p
        .complete(&Request::new("m", vec![Message::user("x".repeat(400))], 64))
        .await
        .unwrap();
    assert!(fake.requests()[0].body["stream_options"]["include_usage"] == json!(true));
    assert!(r.usage.estimated, "{:?}", r.usage);
    // 200 characters received ≈ 50 tokens; the prompt holds the 400-character question.
    assert_eq!(r.usage.output, 50);
    assert!(r.usage.input >= 100, "{:?}", r.usage);
    let logged = serde_json::to_value(r.usage).unwrap();
    assert_eq!(logged["estimated"], true);
}

#[tokio::test]
async fn an_assistant_turn_with_only_tool_calls_leaves_content_out() {
    let (fake, p) = server(CompatServer::LlamaCppPython).await;
    let history = vec![
        Message::user("what is my ftp?"),
        Message {
            role: llm::Role::Assistant,
            content: vec![Part::ToolCall(ToolCall {
                id: "call_1".into(),
                name: "get_ftp".into(),
                arguments: json!({}),
            })],
        },
        Message::tool_results(vec![ToolResult::json("call_1", json!({"ftp": 250}))]),
    ];
    let mut req = Request::new("m", history, 64);
    req.tools = vec![ToolDef {
        name: "get_ftp".into(),
        description: "ftp".into(),
        schema: json!({"type": "object"}),
    }];
    p.complete(&req).await.unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1, "{:?}", fake.rejections());
    let assistant = &reqs[0].body["messages"][1];
    assert_eq!(assistant["role"], "assistant");
    assert!(assistant.get("content").is_none(), "{assistant}");
    assert_eq!(assistant["tool_calls"][0]["id"], "call_1");
}

#[tokio::test]
async fn a_refused_named_tool_choice_becomes_required_with_the_name_in_the_instructions() {
    let (fake, p) = server(CompatServer::LlamaServer).await;
    fake.push(SseReply::Model(ModelReply::tool_calls(&[(
        "call_1",
        "submit_plan",
        "{}",
    )])));
    let r = p.complete(&forced_tool()).await.unwrap();
    assert_eq!(r.tool_calls.len(), 1);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{:?}", fake.rejections());
    assert_eq!(
        reqs[0].body["tool_choice"]["function"]["name"],
        "submit_plan"
    );
    assert!(
        reqs[0]
            .rejected
            .as_deref()
            .unwrap()
            .contains("type must be string")
    );
    assert_eq!(reqs[1].body["tool_choice"], "required");
    let system = reqs[1].body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("`submit_plan`"), "{system}");
    assert_eq!(
        openai::endpoint_features(p.base_url()).tool_choice,
        ToolChoiceMode::Required
    );
    // The instructions-only level sends `auto` and still names the tool.
    let body = p.request_body_with(
        &forced_tool(),
        openai::EndpointFeatures {
            tool_choice: ToolChoiceMode::Instructions,
            ..Default::default()
        },
    );
    assert_eq!(body["tool_choice"], "auto");
    assert!(
        body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("submit_plan")
    );
}

#[tokio::test]
async fn compatible_servers_get_max_tokens_and_the_openai_api_max_completion_tokens() {
    let (fake, p) = server(CompatServer::LlamaServer).await;
    p.complete(&Request::new("m", vec![Message::user("q")], 7))
        .await
        .unwrap();
    let b = &fake.requests()[0].body;
    assert_eq!(b["max_tokens"], 7);
    assert!(b.get("max_completion_tokens").is_none());
    assert!(openai::is_openai_api("https://api.openai.com/v1"));
    assert!(!openai::is_openai_api("http://127.0.0.1:8080/v1"));
    assert!(!openai::is_openai_api(
        "https://api.openai.com.evil.test/v1"
    ));
}

#[tokio::test]
async fn a_call_cut_at_the_token_limit_is_asked_again_shorter_and_never_echoed() {
    let (fake, p) = server(CompatServer::LlamaServer).await;
    let mut cut =
        ModelReply::tool_calls(&[("call_1", "submit_plan", r#"{"weeks": [{"week": 1, "fo"#)]);
    cut.stop_reason = "max_tokens".into();
    fake.push(SseReply::Model(cut));
    fake.push(SseReply::Model(ModelReply::tool_calls(&[(
        "call_2",
        "submit_plan",
        r#"{"weeks": []}"#,
    )])));
    let catalog = Catalog::builtin();
    let mut meter = llm::Meter::new(&p, &catalog, None);
    let mut request = forced_tool();
    request.tool_choice = ToolChoice::Any;
    let got = llm::meter::forced_tool_loop(&mut meter, request, "submit_plan", 2, |args| {
        Ok::<_, Vec<String>>(args.clone())
    })
    .await
    .unwrap();
    assert_eq!(got, json!({"weeks": []}));
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    // The finish reason on the wire was `length`; the retry has the same history (nothing of
    // the cut answer), twice the budget and the request for a shorter answer.
    assert_eq!(reqs[1].body["messages"].as_array().unwrap().len(), 2);
    assert!(!reqs[1].body.to_string().contains(r#"\"fo"#));
    assert_eq!(reqs[0].body["max_tokens"], 64);
    assert_eq!(reqs[1].body["max_tokens"], 128);
    let system = reqs[1].body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains(llm::meter::SHORTER_ANSWER), "{system}");
}

#[test]
fn the_raised_budget_is_capped_and_the_note_added_once() {
    let mut r = Request::new("m", vec![Message::user("q")], 12_000);
    llm::meter::retry_after_truncation(&mut r);
    assert_eq!(r.max_tokens, llm::meter::TRUNCATION_MAX_TOKENS);
    llm::meter::retry_after_truncation(&mut r);
    assert_eq!(r.max_tokens, llm::meter::TRUNCATION_MAX_TOKENS);
    let system = r.system.unwrap();
    assert_eq!(system.matches(llm::meter::SHORTER_ANSWER).count(), 1);
}

/// A self-hosted server's own model is in no price list: the meter prices it at zero, naming
/// the server, instead of "price unknown" (which blinded costs and `/cost` on local servers).
#[tokio::test]
async fn a_local_servers_unlisted_model_costs_nothing_not_price_unknown() {
    let (fake, p) = server(CompatServer::LlamaCppPython).await;
    fake.push(SseReply::Model(ModelReply::text("fine")));
    let catalog = Catalog::builtin();
    assert!(
        catalog
            .cost("openai", "smollm2", &llm::Usage::default())
            .usd()
            .is_none(),
        "the catalog alone does not know it"
    );
    let mut meter = llm::meter::Meter::new(&p, &catalog, None);
    meter
        .complete(&Request::new("smollm2", vec![Message::user("hi")], 16))
        .await
        .unwrap();
    assert_eq!(meter.stats.cost_usd(), Some(0.0));
    assert_eq!(meter.stats.price_unknown, None);
    assert_eq!(p.local_endpoint(), Some(p.base_url()));
}

#[test]
fn local_urls_are_this_machine_or_a_private_network() {
    for url in [
        "http://localhost:8080/v1",
        "http://127.0.0.1:11434",
        "http://[::1]:8000/v1",
        "http://192.168.1.20:1234/v1",
        "http://10.0.0.5/v1",
        "http://172.16.3.4:8000",
        "http://gpu-box.local:8000/v1",
        "http://user:pw@0.0.0.0:9000/v1",
        "http://[fd00::1]:8000",
    ] {
        assert!(openai::is_local_url(url), "{url}");
    }
    for url in [
        "https://api.openai.com/v1",
        "https://openrouter.ai/api/v1",
        "http://172.32.0.1:8000",
        "https://8.8.8.8/v1",
        "https://localhost.example.com/v1",
    ] {
        assert!(!openai::is_local_url(url), "{url}");
    }
}

/// The interaction log keeps what was asked for (`json_schema`) and what the call's last
/// attempt sent after the server refused it (`json_object`, `max_tokens`).
#[tokio::test]
async fn the_log_records_the_format_actually_sent_after_a_step_down() {
    let (fake, p) = server(CompatServer::LlamaCppPython).await;
    fake.push(SseReply::Model(ModelReply::text(r#"{"score": 4}"#)));
    let dir = tempfile::tempdir().unwrap();
    let log = llm::log::InteractionLog::open(dir.path()).unwrap();
    let catalog = Catalog::builtin();
    let mut meter = llm::meter::Meter::new(&p, &catalog, Some(&log));
    meter.complete(&structured()).await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("interactions.jsonl")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let req = &entry["request"];
    assert_eq!(req["response_format"]["type"], "json_schema", "{req}");
    assert_eq!(req["sent"]["response_format"], "json_object", "{req}");
    assert_eq!(req["sent"]["max_tokens_field"], "max_tokens", "{req}");
    assert_eq!(
        req["sent"]["tool_choice"],
        serde_json::Value::Null,
        "no forced tool"
    );
    assert_eq!(fake.requests().len(), 2);
}
