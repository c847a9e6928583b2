//! Live calls against the real services. Ignored by default; each needs credentials and costs
//! a fraction of a cent:
//!
//! ```text
//! ANTHROPIC_API_KEY=… cargo test -p llm --test live -- --ignored anthropic
//! OPENAI_API_KEY=…    cargo test -p llm --test live -- --ignored openai
//! AWS_PROFILE=… AWS_REGION=us-east-1 cargo test -p llm --test live -- --ignored bedrock
//! GEMINI_API_KEY=…    cargo test -p llm --test live -- --ignored gemini
//! OLLAMA_HOST=http://localhost:11434 cargo test -p llm --test live -- --ignored ollama
//! ```
//!
//! `LIVE_ANTHROPIC_MODEL`, `LIVE_OPENAI_MODEL`, `LIVE_BEDROCK_MODEL`, `LIVE_GEMINI_MODEL` and
//! `LIVE_OLLAMA_MODEL` choose the model (Ollama's must already be pulled, with tool support).
//! Without credentials a test prints why it skipped and passes.

use std::sync::Arc;

use llm::anthropic::AnthropicProvider;
use llm::bedrock::{BedrockOptions, BedrockProvider};
use llm::gemini::GeminiProvider;
use llm::http::HttpSettings;
use llm::ollama::{OllamaOptions, OllamaProvider};
use llm::openai::{OpenAiOptions, OpenAiProvider};
use llm::{Catalog, Message, Provider, Request, StopReason, ToolChoice, ToolDef};
use serde_json::json;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// One plain call and one forced tool call; checks what every provider must report.
async fn exercise(p: &dyn Provider, model: &str) {
    let catalog = Catalog::builtin();
    let r = p
        .complete(&Request::new(
            model,
            vec![Message::user("Reply with the single word: pong")],
            20,
        ))
        .await
        .unwrap();
    assert!(r.text.to_lowercase().contains("pong"), "{:?}", r.text);
    assert_eq!(r.stop_reason, StopReason::EndTurn);
    assert!(r.usage.input > 0 && r.usage.output > 0, "{:?}", r.usage);
    println!(
        "{}: {} answered; cost {}",
        p.name(),
        r.model_used,
        catalog.cost(p.name(), &r.model_used, &r.usage)
    );

    let mut req = Request::new(
        model,
        vec![Message::user("What is 2 + 3? Use the tool.")],
        200,
    );
    req.tools = vec![ToolDef {
        name: "add".into(),
        description: "Add two integers".into(),
        schema: json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}),
    }];
    req.tool_choice = ToolChoice::Tool("add".into());
    let r = p.complete(&req).await.unwrap();
    assert_eq!(r.tool_calls.len(), 1, "{r:?}");
    assert_eq!(r.tool_calls[0].arguments, json!({"a": 2, "b": 3}));
}

#[tokio::test]
#[ignore = "live: needs ANTHROPIC_API_KEY"]
async fn anthropic_live() {
    if env("ANTHROPIC_API_KEY").is_none() {
        eprintln!("skipping: ANTHROPIC_API_KEY is not set");
        return;
    }
    let p =
        AnthropicProvider::from_env(HttpSettings::default(), Arc::new(Catalog::builtin())).unwrap();
    let model = env("LIVE_ANTHROPIC_MODEL").unwrap_or_else(|| "claude-haiku-4.5".into());
    exercise(&p, &model).await;
}

#[tokio::test]
#[ignore = "live: needs OPENAI_API_KEY"]
async fn openai_live() {
    if env("OPENAI_API_KEY").is_none() {
        eprintln!("skipping: OPENAI_API_KEY is not set");
        return;
    }
    let p =
        OpenAiProvider::from_env(OpenAiOptions::default(), Arc::new(Catalog::builtin())).unwrap();
    let model = env("LIVE_OPENAI_MODEL").unwrap_or_else(|| "gpt-5.4-mini".into());
    exercise(&p, &model).await;
}

#[tokio::test]
#[ignore = "live: needs AWS credentials with Bedrock model access"]
async fn bedrock_live() {
    let has_credentials = [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|v| env(v).is_some());
    if !has_credentials {
        eprintln!("skipping: no AWS credentials in the environment (set AWS_PROFILE or keys)");
        return;
    }
    let p = BedrockProvider::from_env(BedrockOptions::default(), Arc::new(Catalog::builtin()))
        .await
        .unwrap();
    let model = env("LIVE_BEDROCK_MODEL").unwrap_or_else(|| "claude-haiku-4.5".into());
    exercise(&p, &model).await;
}

#[tokio::test]
#[ignore = "live: needs GEMINI_API_KEY or GOOGLE_API_KEY"]
async fn gemini_live() {
    if env("GEMINI_API_KEY").is_none() && env("GOOGLE_API_KEY").is_none() {
        eprintln!("skipping: neither GEMINI_API_KEY nor GOOGLE_API_KEY is set");
        return;
    }
    let p =
        GeminiProvider::from_env(HttpSettings::default(), Arc::new(Catalog::builtin())).unwrap();
    let model = env("LIVE_GEMINI_MODEL").unwrap_or_else(|| "gemini-2.5-flash".into());
    exercise(&p, &model).await;
}

#[tokio::test]
#[ignore = "live: needs a running Ollama server (OLLAMA_HOST) with a tool-capable model pulled"]
async fn ollama_live() {
    // The default host is only tried when asked for explicitly: a test that silently talks to
    // whatever listens on localhost:11434 would prove nothing about the user's setup.
    if env("OLLAMA_HOST").is_none() {
        eprintln!("skipping: OLLAMA_HOST is not set");
        return;
    }
    let p =
        OllamaProvider::from_env(OllamaOptions::default(), Arc::new(Catalog::builtin())).unwrap();
    let model = env("LIVE_OLLAMA_MODEL").unwrap_or_else(|| "qwen3:8b".into());
    exercise(&p, &model).await;
}
