//! The Bedrock provider end to end: the real AWS SDK client against the loopback fake, which
//! speaks the real wire format and enforces the service's rules.

use std::sync::Arc;
use std::time::Duration;

use llm::bedrock::{BedrockOptions, BedrockProvider, Guardrail};
use llm::testing::fake_bedrock::{TEST_ACCESS_KEY, TEST_SECRET_KEY, validate};
use llm::testing::{FakeBedrock, Frame, ModelReply, Operation, Reply};
use llm::{
    Catalog, LlmError, Message, Part, Provider, Request, Role, StopReason, ToolCall, ToolChoice,
    ToolDef, ToolOutput, ToolResult, Usage,
};
use serde_json::{Value, json};

const SONNET_45_US: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

async fn setup_with(options: BedrockOptions) -> (FakeBedrock, BedrockProvider) {
    let fake = FakeBedrock::start().await;
    let p = fake.provider(options).await;
    (fake, p)
}

async fn setup() -> (FakeBedrock, BedrockProvider) {
    setup_with(BedrockOptions::default()).await
}

fn weather_tool() -> ToolDef {
    ToolDef {
        name: "get_weather".into(),
        description: "Weather for a city".into(),
        schema: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }
}

fn call(id: &str, name: &str, args: Value) -> Part {
    Part::ToolCall(ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args,
    })
}

/// The body a naive client would send for `messages` (no normalisation): used to show that a
/// history really breaks a rule before showing that the normalised request is accepted.
fn naive_body(messages: &[Message], tools: bool) -> Value {
    let msgs: Vec<Value> = messages
        .iter()
        .map(|m| {
            let content: Vec<Value> = m
                .content
                .iter()
                .map(|p| match p {
                    Part::Text(t) => json!({"text": t}),
                    Part::ToolCall(c) => json!({"toolUse": {"toolUseId": c.id, "name": c.name, "input": c.arguments}}),
                    Part::ToolResult(r) => {
                        let c = match &r.output {
                            ToolOutput::Json(v) => json!({"json": v}),
                            ToolOutput::Text(t) => json!({"text": t}),
                        };
                        json!({"toolResult": {"toolUseId": r.call_id, "content": [c]}})
                    }
                })
                .collect();
            json!({"role": if m.role == Role::User { "user" } else { "assistant" }, "content": content})
        })
        .collect();
    let mut body = json!({"messages": msgs});
    if tools {
        body["toolConfig"] = json!({"tools": [{"toolSpec": {"name": "get_weather", "description": "w", "inputSchema": {"json": {"type": "object"}}}}]});
    }
    body
}

/// Assert that the naive body breaks a rule with `expected` in the service's message, then that
/// the provider's normalised request is accepted by the fake.
async fn assert_rule_fixed(model: &str, history: Vec<Message>, tools: bool, expected: &str) {
    let (fake, p) = setup().await;
    let sent_model = p.resolve_model(model);
    let rejection = validate(
        &sent_model,
        Operation::ConverseStream,
        &naive_body(&history, tools),
        &[],
    )
    .unwrap_err();
    assert!(
        rejection.2.contains(expected),
        "naive body rejected with `{}`, expected `{expected}`",
        rejection.2
    );
    let mut req = Request::new(model, history, 200);
    if tools {
        req.tools = vec![weather_tool()];
    }
    let r = p
        .complete(&req)
        .await
        .unwrap_or_else(|e| panic!("normalised request failed: {e}"));
    assert_eq!(r.text, "ok");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].rejected, None);
}

#[tokio::test]
async fn plain_text_streams_through_the_real_sdk() {
    let (fake, p) = setup().await;
    fake.push(Reply::Model(ModelReply::text("Hello there, rider!")));
    let mut req = Request::new("claude-sonnet-4.5", vec![Message::user("hi")], 100);
    req.system = Some("You are terse.".into());
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.text, "Hello there, rider!");
    assert_eq!(r.stop_reason, StopReason::EndTurn);
    assert_eq!(
        r.usage,
        Usage {
            input: 12,
            output: 7,
            cache_read: 0,
            cache_write: 0,
            estimated: false
        }
    );
    assert_eq!(r.latency, Some(Duration::from_millis(321)));
    assert_eq!(r.model_used, SONNET_45_US);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let rq = &reqs[0];
    assert_eq!(rq.operation, Operation::ConverseStream);
    // The alias resolved to the us. profile; the id is percent-encoded as one path segment.
    assert_eq!(
        rq.path,
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream"
    );
    let auth = rq.header("authorization").unwrap();
    assert!(
        auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={TEST_ACCESS_KEY}/"))
            && auth.contains("/us-east-1/bedrock/aws4_request"),
        "{auth}"
    );
    assert!(!auth.contains(TEST_SECRET_KEY));
    assert_eq!(rq.body["system"], json!([{"text": "You are terse."}]));
    assert_eq!(rq.body["inferenceConfig"]["maxTokens"], json!(100));
}

#[tokio::test]
async fn a_streamed_tool_call_split_across_many_deltas_is_reassembled() {
    let (fake, p) = setup().await;
    let mut reply = ModelReply::tool_calls(&[(
        "tooluse_1",
        "get_weather",
        r#"{"city": "Paris", "days": 3, "units": "metric"}"#,
    )]);
    reply.chunk = 2;
    fake.push(Reply::Model(reply));
    let mut req = Request::new(
        "claude-sonnet-4.5",
        vec![Message::user("weather in Paris?")],
        100,
    );
    req.tools = vec![weather_tool()];
    req.tool_choice = ToolChoice::Tool("get_weather".into());
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.stop_reason, StopReason::ToolUse);
    assert_eq!(
        r.tool_calls,
        vec![ToolCall {
            id: "tooluse_1".into(),
            name: "get_weather".into(),
            arguments: json!({"city": "Paris", "days": 3, "units": "metric"})
        }]
    );
    let body = &fake.requests()[0].body;
    // toolChoice inside toolConfig, never top-level.
    assert_eq!(
        body["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "get_weather"}})
    );
    assert!(body.get("toolChoice").is_none());
}

#[tokio::test]
async fn two_parallel_tool_calls_and_their_results_round_trip() {
    let (fake, p) = setup().await;
    fake.push(Reply::Model(ModelReply::tool_calls(&[
        ("tooluse_a", "get_weather", r#"{"city":"Paris"}"#),
        ("tooluse_b", "get_weather", r#"{"city":"Lyon"}"#),
    ])));
    fake.push(Reply::Model(ModelReply::text("Paris 18C, Lyon 21C.")));
    let mut req = Request::new(
        "claude-sonnet-4.5",
        vec![Message::user("weather in Paris and Lyon?")],
        100,
    );
    req.tools = vec![weather_tool()];
    let first = p.complete(&req).await.unwrap();
    assert_eq!(first.tool_calls.len(), 2);
    req.messages.push(first.to_message());
    // Results given in reverse order and in two separate messages, as a careless caller would.
    req.messages
        .push(Message::tool_results(vec![ToolResult::json(
            "tooluse_b",
            json!({"temp_c": 21}),
        )]));
    req.messages
        .push(Message::tool_results(vec![ToolResult::json(
            "tooluse_a",
            json!({"temp_c": 18}),
        )]));
    let second = p.complete(&req).await.unwrap();
    assert_eq!(second.text, "Paris 18C, Lyon 21C.");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.rejected.is_none()));
    let msgs = reqs[1].body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    let ids: Vec<&str> = msgs[2]["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["toolResult"]["toolUseId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec!["tooluse_a", "tooluse_b"],
        "all results in one user turn, in call order"
    );
}

#[tokio::test]
async fn usage_with_cache_tokens_and_cost_of_the_model_used() {
    let (fake, p) = setup().await;
    fake.push(Reply::Model(ModelReply::text("cached").with_usage(
        1000,
        200,
        Some(3000),
        Some(500),
    )));
    let mut req = Request::new("claude-sonnet-4.5", vec![Message::user("q")], 100);
    req.system = Some("a long stable system prompt".into());
    req.tools = vec![weather_tool()];
    req.cache.system = true;
    req.cache.tools = true;
    let r = p.complete(&req).await.unwrap();
    assert_eq!(
        r.usage,
        Usage {
            input: 1000,
            output: 200,
            cache_read: 3000,
            cache_write: 500,
            estimated: false
        }
    );
    let cost = p.catalog().cost("bedrock", &r.model_used, &r.usage);
    // us. profile of Sonnet 4.5: (1000*3 + 200*15 + 3000*0.30 + 500*3.75) / 1e6 * 1.10
    let expected = (1000.0 * 3.0 + 200.0 * 15.0 + 3000.0 * 0.30 + 500.0 * 3.75) / 1e6 * 1.10;
    assert!((cost.usd().unwrap() - expected).abs() < 1e-12, "{cost:?}");
    let body = &fake.requests()[0].body;
    assert_eq!(
        body["system"][1],
        json!({"cachePoint": {"type": "default"}})
    );
    assert_eq!(
        body["toolConfig"]["tools"][1],
        json!({"cachePoint": {"type": "default"}})
    );
}

#[tokio::test]
async fn prompt_router_cost_comes_from_the_invoked_model() {
    let (fake, p) = setup().await;
    let router = "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/amazon.nova:1";
    let mut reply = ModelReply::text("routed").with_usage(1_000_000, 1_000_000, None, None);
    reply.invoked_model = Some(
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0".into(),
    );
    fake.push(Reply::Model(reply));
    let r = p
        .complete(&Request::new(router, vec![Message::user("q")], 100))
        .await
        .unwrap();
    assert!(r.model_used.ends_with("us.amazon.nova-lite-v1:0"));
    assert!(
        fake.requests()[0]
            .path
            .contains("default-prompt-router%2Famazon.nova%3A1"),
        "{}",
        fake.requests()[0].path
    );
    let cost = p
        .catalog()
        .cost("bedrock", &r.model_used, &r.usage)
        .usd()
        .unwrap();
    assert!((cost - (0.06 + 0.24)).abs() < 1e-12, "{cost}");
}

#[tokio::test]
async fn guardrail_latency_and_structured_output_are_sent() {
    let opts = BedrockOptions {
        guardrail: Some(Guardrail {
            id: "gr-123".into(),
            version: "DRAFT".into(),
            trace: true,
        }),
        latency_optimized: true,
        ..Default::default()
    };
    let (fake, p) = setup_with(opts).await;
    let mut req = Request::new("nova-pro", vec![Message::user("q")], 50);
    req.tools = vec![weather_tool()];
    req.structured_output = Some(llm::StructuredOutput {
        name: "answer".into(),
        description: None,
        schema: json!({"type": "object"}),
    });
    p.complete(&req).await.unwrap();
    let body = &fake.requests()[0].body;
    assert_eq!(
        body["guardrailConfig"]["guardrailIdentifier"],
        json!("gr-123")
    );
    assert_eq!(body["guardrailConfig"]["guardrailVersion"], json!("DRAFT"));
    assert!(
        body["toolConfig"].is_object(),
        "guardrails work together with tools"
    );
    assert_eq!(body["performanceConfig"], json!({"latency": "optimized"}));
    assert_eq!(
        body["outputConfig"]["textFormat"]["type"],
        json!("json_schema")
    );
    assert_eq!(
        body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"],
        json!("{\"type\":\"object\"}")
    );
}

// ---- each service rule: a history that breaks it is normalised and accepted ----

#[tokio::test]
async fn rule_first_message_must_be_user() {
    assert_rule_fixed(
        "claude-sonnet-4.5",
        vec![
            Message::assistant("Hi, I'm your coach."),
            Message::user("hi"),
        ],
        false,
        "must alternate",
    )
    .await;
}

#[tokio::test]
async fn rule_roles_must_alternate() {
    let h = vec![
        Message::user("one"),
        Message::user("two"),
        Message::assistant("a"),
        Message::assistant("b"),
        Message::user("three"),
    ];
    assert_rule_fixed("nova-pro", h, false, "must alternate").await;
}

#[tokio::test]
async fn rule_text_must_not_be_blank() {
    let h = vec![
        Message::user("q"),
        Message {
            role: Role::Assistant,
            content: vec![Part::Text("".into()), Part::Text("a".into())],
        },
        Message::user("q2"),
    ];
    assert_rule_fixed("nova-pro", h, false, "messages.1.content.0 is blank").await;
}

#[tokio::test]
async fn rule_claude_rejects_whitespace_only_text() {
    let h = vec![
        Message::user("q"),
        Message::assistant("a"),
        Message::user("  \n "),
    ];
    // The whitespace-only turn disappears; the history then ends with the assistant, so a user
    // turn is appended.
    assert_rule_fixed("claude-sonnet-4.5", h, false, "non-whitespace text").await;
}

#[tokio::test]
async fn rule_content_must_not_be_empty() {
    let h = vec![
        Message::user("q"),
        Message {
            role: Role::Assistant,
            content: vec![],
        },
        Message::user("q2"),
    ];
    assert_rule_fixed("nova-pro", h, false, "messages.1 is empty").await;
}

fn parallel_history(split: bool) -> Vec<Message> {
    let mut h = vec![
        Message::user("weather?"),
        Message {
            role: Role::Assistant,
            content: vec![
                call("t1", "get_weather", json!({"city": "Paris"})),
                call("t2", "get_weather", json!({"city": "Lyon"})),
            ],
        },
    ];
    if split {
        h.push(Message::tool_results(vec![ToolResult::json(
            "t1",
            json!({"c": 18}),
        )]));
        h.push(Message::tool_results(vec![ToolResult::json(
            "t2",
            json!({"c": 21}),
        )]));
    } else {
        h.push(Message::tool_results(vec![ToolResult::json(
            "t2",
            json!({"c": 21}),
        )]));
    }
    h
}

#[tokio::test]
async fn rule_all_tool_results_in_one_user_message() {
    // One user message per tool result is rejected: the first user turn lacks t2's result and
    // the second breaks alternation; the service reports the first problem it finds.
    assert_rule_fixed(
        "claude-sonnet-4.5",
        parallel_history(true),
        true,
        "Expected toolResult blocks at messages.2.content for the following Ids: t2",
    )
    .await;
}

#[tokio::test]
async fn rule_every_tool_use_answered_in_the_next_turn() {
    assert_rule_fixed(
        "claude-sonnet-4.5",
        parallel_history(false),
        true,
        "Expected toolResult blocks at messages.2.content for the following Ids: t1",
    )
    .await;
}

#[tokio::test]
async fn rule_tool_result_json_must_be_an_object() {
    let h = vec![
        Message::user("list rides"),
        Message {
            role: Role::Assistant,
            content: vec![call("t1", "get_weather", json!({}))],
        },
        Message::tool_results(vec![ToolResult::json("t1", json!([1, 2, 3]))]),
    ];
    assert_rule_fixed(
        "nova-pro",
        h,
        true,
        "messages.2.content.0.toolResult.content.0.json is invalid",
    )
    .await;
}

#[tokio::test]
async fn rule_tool_config_required_when_history_has_tool_blocks() {
    let h = vec![
        Message::user("weather?"),
        Message {
            role: Role::Assistant,
            content: vec![call("t1", "get_weather", json!({"city": "Paris"}))],
        },
        Message::tool_results(vec![ToolResult::text("t1", "18C")]),
        Message::assistant("It is 18C."),
        Message::user("thanks, summarise"),
    ];
    // No tools on this call (tools disabled), yet the history holds tool blocks.
    assert_rule_fixed(
        "claude-sonnet-4.5",
        h,
        false,
        "toolConfig field must be defined",
    )
    .await;
}

#[tokio::test]
async fn rule_tool_use_ids_from_other_providers_fit_the_pattern() {
    let h = vec![
        Message::user("weather?"),
        Message {
            role: Role::Assistant,
            content: vec![call("call abc/123", "get_weather", json!({}))],
        },
        Message::tool_results(vec![ToolResult::text("call abc/123", "18C")]),
    ];
    assert_rule_fixed("claude-sonnet-4.5", h, true, "failed to satisfy constraint").await;
}

#[tokio::test]
async fn rule_claude_4_5_rejects_temperature_with_top_p() {
    let (fake, p) = setup().await;
    let naive = json!({"messages": [{"role": "user", "content": [{"text": "q"}]}], "inferenceConfig": {"maxTokens": 10, "temperature": 0.5, "topP": 0.9}});
    assert!(
        validate(SONNET_45_US, Operation::ConverseStream, &naive, &[])
            .unwrap_err()
            .2
            .contains("`temperature` and `top_p` cannot both")
    );
    let mut req = Request::new("claude-sonnet-4.5", vec![Message::user("q")], 10);
    req.temperature = Some(0.5);
    req.top_p = Some(0.9);
    p.complete(&req).await.unwrap();
    let inf = &fake.requests()[0].body["inferenceConfig"];
    assert!(
        inf.get("topP").is_none() && inf.get("temperature").is_some(),
        "{inf}"
    );
    // Nova accepts both and gets both.
    let mut req = Request::new("nova-pro", vec![Message::user("q")], 10);
    req.temperature = Some(0.5);
    req.top_p = Some(0.9);
    p.complete(&req).await.unwrap();
    let inf = &fake.requests()[1].body["inferenceConfig"];
    assert!(
        inf.get("topP").is_some() && inf.get("temperature").is_some(),
        "{inf}"
    );
}

#[tokio::test]
async fn rule_llama_gets_no_tool_choice_any_and_falls_back_to_converse_with_tools() {
    let (fake, p) = setup().await;
    let llama = "us.meta.llama3-3-70b-instruct-v1:0";
    let naive = json!({"messages": [{"role": "user", "content": [{"text": "q"}]}],
        "toolConfig": {"tools": [{"toolSpec": {"name": "a", "description": "d", "inputSchema": {"json": {"type": "object"}}}}], "toolChoice": {"any": {}}}});
    assert!(
        validate(llama, Operation::Converse, &naive, &[])
            .unwrap_err()
            .2
            .contains("toolChoice.any")
    );
    let mut no_choice = naive.clone();
    no_choice["toolConfig"]
        .as_object_mut()
        .unwrap()
        .remove("toolChoice");
    assert!(
        validate(llama, Operation::ConverseStream, &no_choice, &[])
            .unwrap_err()
            .2
            .contains("tool use in streaming mode")
    );

    fake.push(Reply::Model(ModelReply::tool_calls(&[(
        "tooluse_l",
        "get_weather",
        r#"{"city":"Oslo"}"#,
    )])));
    let mut req = Request::new(
        "llama-3.3-70b",
        vec![Message::user("weather in Oslo?")],
        100,
    );
    req.tools = vec![weather_tool()];
    req.tool_choice = ToolChoice::Any;
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.tool_calls[0].arguments, json!({"city": "Oslo"}));
    let reqs = fake.requests();
    assert_eq!(
        reqs[0].operation,
        Operation::Converse,
        "no streaming with tools on Llama"
    );
    assert_eq!(reqs[0].model_id, llama);
    assert!(reqs[0].body["toolConfig"].get("toolChoice").is_none());
    assert_eq!(reqs[0].rejected, None);
    // Without tools, Llama still streams.
    p.complete(&Request::new(
        "llama-3.3-70b",
        vec![Message::user("hi")],
        10,
    ))
    .await
    .unwrap();
    assert_eq!(fake.requests()[1].operation, Operation::ConverseStream);
}

#[tokio::test]
async fn rule_tool_result_status_only_where_supported() {
    let (fake, p) = setup().await;
    let h = |id: &str| {
        vec![
            Message::user("q"),
            Message {
                role: Role::Assistant,
                content: vec![call(id, "get_weather", json!({}))],
            },
            Message::tool_results(vec![ToolResult::error(id, "city not found")]),
        ]
    };
    let mut req = Request::new("nova-pro", h("t1"), 10);
    req.tools = vec![weather_tool()];
    p.complete(&req).await.unwrap();
    let mut req = Request::new("mistral-large-2", h("t2"), 10);
    req.tools = vec![weather_tool()];
    p.complete(&req).await.unwrap();
    let reqs = fake.requests();
    let tr = |i: usize| reqs[i].body["messages"][2]["content"][0]["toolResult"].clone();
    assert_eq!(tr(0)["status"], json!("error"));
    assert_eq!(tr(0)["content"][0]["text"], json!("city not found"));
    assert!(tr(1).get("status").is_none());
    assert_eq!(tr(1)["content"][0]["text"], json!("Error: city not found"));
    assert_eq!(
        reqs[1].operation,
        Operation::Converse,
        "Mistral Large cannot stream tools"
    );
}

// ---- error classes ----

async fn error_of(reply: Reply, model: &str) -> (LlmError, usize) {
    let (fake, p) = setup().await;
    for _ in 0..3 {
        fake.push(reply.clone());
    }
    let err = p
        .complete(&Request::new(model, vec![Message::user("q")], 10))
        .await
        .unwrap_err();
    (err, fake.requests().len())
}

#[tokio::test]
async fn each_error_class_is_mapped() {
    let cases: Vec<(Reply, &str, usize)> = vec![
        (
            Reply::error(
                403,
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID.",
            ),
            "model_not_enabled",
            1,
        ),
        (
            Reply::error(
                403,
                "AccessDeniedException",
                "User: arn:aws:iam::1:user/x is not authorized to perform: bedrock:InvokeModelWithResponseStream",
            ),
            "permission_denied",
            1,
        ),
        (
            Reply::error(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            "authentication",
            1,
        ),
        (
            Reply::error(
                404,
                "ResourceNotFoundException",
                "Legacy model is not available.",
            ),
            "model_not_found",
            1,
        ),
        (
            Reply::error(
                400,
                "ValidationException",
                "Input is too long for requested model.",
            ),
            "context_too_long",
            1,
        ),
        (
            Reply::error(400, "ValidationException", "Malformed input request."),
            "validation",
            1,
        ),
        (
            Reply::error(
                408,
                "ModelTimeoutException",
                "Model has timed out in processing the request.",
            ),
            "timeout",
            1,
        ),
        (
            Reply::error(424, "ModelErrorException", "The model failed."),
            "model_error",
            1,
        ),
        (
            Reply::error(
                400,
                "ServiceQuotaExceededException",
                "Too many tokens per day.",
            ),
            "rate_limited",
            1,
        ),
        // Retried by the SDK: exactly its 3 attempts, nothing layered on top.
        (Reply::throttled(), "rate_limited", 3),
        (Reply::unavailable(), "unavailable", 3),
        (
            Reply::error(500, "InternalServerException", "Internal error."),
            "unavailable",
            3,
        ),
    ];
    for (reply, kind, attempts) in cases {
        let (err, n) = error_of(reply.clone(), "nova-pro").await;
        assert_eq!(err.kind(), kind, "{reply:?} gave {err}");
        assert_eq!(n, attempts, "{reply:?}: {n} requests");
    }
}

#[tokio::test]
async fn base_id_that_needs_a_profile_is_called_through_the_regions_profile() {
    // The service's refusal is the rule (the catalog may not know the model): one retry
    // through the profile of the region's geography, which the call then reports as used.
    let (fake, p) = setup().await;
    let r = p
        .complete(&Request::new(
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            vec![Message::user("q")],
            10,
        ))
        .await
        .unwrap();
    assert_eq!(r.model_used, SONNET_45_US);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[0]
            .rejected
            .as_deref()
            .unwrap()
            .contains("on-demand throughput")
    );
    assert_eq!(requests[1].model_id, SONNET_45_US);
    assert!(requests[1].rejected.is_none());
}

#[tokio::test]
async fn an_invalid_model_id_is_model_not_found() {
    let (err, n) = error_of(
        Reply::Model(ModelReply::text("x")),
        "anthropic.claude-sonnet-9-v1",
    )
    .await;
    assert_eq!(err.kind(), "model_not_found", "{err}");
    assert!(
        err.to_string()
            .contains("The provided model identifier is invalid.")
    );
    assert_eq!(n, 1);
    // The service knows no catalog aliases: the plan's invented id sent raw is refused; the
    // provider resolves it first (to the region's profile of Sonnet 4.5).
    let rejected = llm::testing::fake_bedrock::validate(
        "anthropic.claude-sonnet-4-5-v1",
        Operation::Converse,
        &json!({"messages": [{"role": "user", "content": [{"text": "q"}]}]}),
        &[],
    )
    .unwrap_err();
    assert_eq!(rejected.2, "The provided model identifier is invalid.");
    let (fake, p) = setup().await;
    let r = p
        .complete(&Request::new(
            "anthropic.claude-sonnet-4-5-v1",
            vec![Message::user("q")],
            10,
        ))
        .await
        .unwrap();
    assert_eq!(r.model_used, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(fake.rejections(), Vec::<String>::new());
}

#[tokio::test]
async fn a_router_arn_needs_the_callers_region_and_account_and_reports_the_routed_model() {
    use llm::testing::fake_bedrock::FAKE_ACCOUNT;
    let (fake, p) = setup().await;
    let router = format!(
        "arn:aws:bedrock:us-east-1:{FAKE_ACCOUNT}:default-prompt-router/anthropic.claude:1"
    );
    let r = p
        .complete(&Request::new(&router, vec![Message::user("q")], 10))
        .await
        .unwrap();
    assert_eq!(
        r.model_used,
        format!(
            "arn:aws:bedrock:us-east-1:{FAKE_ACCOUNT}:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
        )
    );
    // Priced as Claude 3.5 Haiku (0.80 / 4 per million), not as the router.
    let cost = llm::Catalog::builtin().cost("bedrock", &r.model_used, &r.usage);
    let expected = (12.0 * 0.8 + 7.0 * 4.0) / 1e6;
    assert!((cost.usd().unwrap() - expected).abs() < 1e-12, "{cost:?}");
    for (bad, kind) in [
        (router.replace("us-east-1", "eu-west-1"), "model_not_found"),
        (
            router.replace(FAKE_ACCOUNT, "999999999999"),
            "model_not_enabled",
        ),
        (
            router.replace("anthropic.claude:1", "mistral.mistral:1"),
            "model_not_found",
        ),
    ] {
        let err = p
            .complete(&Request::new(&bad, vec![Message::user("q")], 10))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{bad}: {err}");
    }
    assert_eq!(fake.rejections().len(), 3);
}

// ---- retries and stream faults ----

#[tokio::test]
async fn a_throttled_first_call_succeeds_on_the_sdks_retry() {
    let (fake, p) = setup().await;
    fake.push(Reply::throttled());
    fake.push(Reply::Model(ModelReply::text("after retry")));
    let r = p
        .complete(&Request::new("nova-lite", vec![Message::user("q")], 10))
        .await
        .unwrap();
    assert_eq!(r.text, "after retry");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "one throttled attempt + one SDK retry");
    assert_eq!(reqs[0].header("amz-sdk-request"), Some("attempt=1; max=3"));
    assert_eq!(reqs[1].header("amz-sdk-request"), Some("attempt=2; max=3"));
}

fn throttled_stream() -> Reply {
    Reply::Frames(vec![
        Frame::Event("messageStart".into(), json!({"role": "assistant"})),
        Frame::Event(
            "contentBlockDelta".into(),
            json!({"contentBlockIndex": 0, "delta": {"text": ""}}),
        ),
        Frame::Exception(
            "throttlingException".into(),
            "Too many tokens, please wait before trying again.".into(),
        ),
    ])
}

#[tokio::test]
async fn a_stream_throttled_before_output_is_reissued_once() {
    let (fake, p) = setup().await;
    fake.push(throttled_stream());
    fake.push(Reply::Model(ModelReply::text("second time lucky")));
    let r = p
        .complete(&Request::new("nova-lite", vec![Message::user("q")], 10))
        .await
        .unwrap();
    assert_eq!(r.text, "second time lucky");
    assert_eq!(fake.requests().len(), 2);

    // Only once: a second throttled stream is reported.
    let (fake, p) = setup().await;
    fake.push(throttled_stream());
    fake.push(throttled_stream());
    fake.push(Reply::Model(ModelReply::text("never reached")));
    let err = p
        .complete(&Request::new("nova-lite", vec![Message::user("q")], 10))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "rate_limited", "{err}");
    assert!(err.to_string().contains("Too many tokens"));
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_stream_throttled_after_output_is_broken_and_not_reissued() {
    let (fake, p) = setup().await;
    let mut frames = ModelReply::text("Hello world, this is long").frames();
    frames.truncate(3); // messageStart + 2 deltas: "Hell" "o wo"
    frames.push(Frame::Exception(
        "throttlingException".into(),
        "Too many tokens, please wait before trying again.".into(),
    ));
    fake.push(Reply::Frames(frames));
    let err = p
        .complete(&Request::new("nova-lite", vec![Message::user("q")], 10))
        .await
        .unwrap_err();
    match &err {
        LlmError::StreamBroken { partial_text, .. } => assert_eq!(partial_text, "Hello wo"),
        other => panic!("{other}"),
    }
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_stream_cut_after_output_keeps_the_partial_text() {
    let (fake, p) = setup().await;
    let mut frames = ModelReply::text("Hello world, this is long").frames();
    frames.truncate(4); // messageStart + "Hell" "o wo" "rld,"
    frames.push(Frame::Cut);
    fake.push(Reply::Frames(frames));
    let err = p
        .complete(&Request::new("nova-lite", vec![Message::user("q")], 10))
        .await
        .unwrap_err();
    match &err {
        LlmError::StreamBroken { partial_text, .. } => assert_eq!(partial_text, "Hello world,"),
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains("stream broken after 12 characters"),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn malformed_zero_argument_and_empty_delta_tool_calls() {
    let (fake, p) = setup().await;
    let mut reply = ModelReply::tool_calls(&[
        ("t_now", "current_time", ""),
        ("t_bad", "get_weather", r#"{"city": "Pa"#),
    ]);
    reply.empty_text_delta_before_tools = true;
    fake.push(Reply::Model(reply));
    let mut req = Request::new("claude-sonnet-4.5", vec![Message::user("q")], 10);
    req.tools = vec![weather_tool()];
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.text, "");
    assert_eq!(
        r.tool_calls,
        vec![ToolCall {
            id: "t_now".into(),
            name: "current_time".into(),
            arguments: json!({})
        }]
    );
    assert_eq!(r.malformed_tool_calls.len(), 1);
    assert_eq!(r.malformed_tool_calls[0].raw_arguments, r#"{"city": "Pa"#);
    assert_eq!(r.stop_reason, StopReason::ToolUse);
}

#[tokio::test]
async fn missing_region_is_a_config_error() {
    let cfg = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let err = BedrockProvider::from_sdk_config(
        &cfg,
        BedrockOptions::default(),
        Arc::new(Catalog::builtin()),
    )
    .err()
    .unwrap();
    assert_eq!(err.kind(), "config");
    assert!(err.to_string().contains("--aws-region"));
}

#[tokio::test]
async fn the_interaction_log_records_calls_without_credentials() {
    use llm::log::{InteractionLog, LogEntry};
    let dir = tempfile::tempdir().unwrap();
    let mut log = InteractionLog::open(dir.path()).unwrap();
    log.add_secret(TEST_SECRET_KEY);
    let (fake, p) = setup().await;
    fake.push(Reply::Model(
        ModelReply::text("logged answer").with_usage(100, 20, None, None),
    ));
    // A user who pasted their keys into the chat: the log must still not contain them.
    let req = Request::new(
        "claude-sonnet-4.5",
        vec![Message::user(format!(
            "my keys are {TEST_ACCESS_KEY} / {TEST_SECRET_KEY}"
        ))],
        50,
    );
    let outcome = p.complete(&req).await;
    let r = outcome.as_ref().unwrap();
    let cost = p.catalog().cost("bedrock", &r.model_used, &r.usage);
    log.record(&LogEntry::new(
        "bedrock",
        &req,
        &outcome,
        Some(cost),
        Some(1),
    ))
    .unwrap();
    fake.push(Reply::error(
        403,
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
    ));
    let failed = p.complete(&req).await;
    log.record(&LogEntry::new("bedrock", &req, &failed, None, Some(1)))
        .unwrap();

    let text = std::fs::read_to_string(log.path()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["model_used"], json!(SONNET_45_US));
    assert_eq!(lines[0]["response"]["text"], json!("logged answer"));
    assert_eq!(lines[0]["usage"]["input"], json!(100));
    assert_eq!(lines[0]["cost"]["status"], json!("known"));
    assert_eq!(lines[1]["error"]["kind"], json!("model_not_enabled"));
    for needle in [
        TEST_ACCESS_KEY,
        TEST_SECRET_KEY,
        "AWS4-HMAC-SHA256 Credential",
    ] {
        assert!(!text.contains(needle), "log contains `{needle}`");
    }
}
