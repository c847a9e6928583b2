//! The provider contract: the same scenarios run against every provider, each talking to its
//! loopback fake over the real wire format (Bedrock through the real AWS SDK client).
//!
//! Adding a provider = implementing [`Harness`] for its fake and adding one line to the
//! `contract!` invocation at the bottom. Where a service genuinely lacks something (streamed
//! argument fragments, a content filter, cache-read counts, ids on tool results, a
//! context-too-long error) its harness says so and the scenario checks the service's own
//! behaviour instead.

use std::sync::Arc;

use futures::StreamExt;
use llm::anthropic::AnthropicProvider;
use llm::bedrock::{BedrockOptions, BedrockProvider};
use llm::gemini::GeminiProvider;
use llm::ollama::{OllamaOptions, OllamaProvider};
use llm::openai::{OpenAiOptions, OpenAiProvider};
use llm::testing::fake_anthropic::{self, FakeAnthropic};
use llm::testing::fake_gemini::{self, FakeGemini, GEMINI_TEST_KEY};
use llm::testing::fake_ollama::{self, FakeOllama};
use llm::testing::fake_openai::{self, FakeOpenAi, OPENAI_TEST_KEY};
use llm::testing::{FakeBedrock, Frame, ModelReply, Reply, SseReply, fast_http};
use llm::{
    Catalog, Cost, LlmError, Message, Part, Provider, Request, Role, StopReason, StreamEvent,
    ToolCall, ToolDef, ToolResult,
};
use serde_json::{Value, json};

/// The error classes every provider must report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorClass {
    Authentication,
    PermissionDenied,
    ModelNotFound,
    Validation,
    ContextTooLong,
    RateLimited,
    Unavailable,
}

impl ErrorClass {
    const ALL: [ErrorClass; 7] = [
        Self::Authentication,
        Self::PermissionDenied,
        Self::ModelNotFound,
        Self::Validation,
        Self::ContextTooLong,
        Self::RateLimited,
        Self::Unavailable,
    ];

    fn kind(self) -> &'static str {
        match self {
            Self::Authentication => "authentication",
            Self::PermissionDenied => "permission_denied",
            Self::ModelNotFound => "model_not_found",
            Self::Validation => "validation",
            Self::ContextTooLong => "context_too_long",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
        }
    }

    /// Transient classes are retried: three attempts in all (the HTTP providers' policy below
    /// and the AWS SDK's standard mode both make three).
    fn attempts(self) -> usize {
        match self {
            Self::RateLimited | Self::Unavailable => 3,
            _ => 1,
        }
    }
}

/// One provider and its fake.
trait Harness: Sized {
    const NAME: &'static str;
    /// Tool-call arguments are streamed in fragments (Gemini and Ollama send each call whole).
    const STREAMS_TOOL_ARGUMENTS: bool = true;
    /// The service has a content filter that can stop an answer (Ollama has none).
    const HAS_CONTENT_FILTER: bool = true;
    /// The service reports cache-read tokens (Ollama reuses its KV cache but does not say).
    const REPORTS_CACHE_READS: bool = true;
    /// Tool results name their call's id on the wire. Ollama's name the tool instead, so its
    /// [`Harness::last_tool_result_ids`] gives tool names (still in call order).
    const TOOL_RESULTS_CARRY_IDS: bool = true;
    /// The id the provider reports for the `index`-th call of an answer whose scripted id is
    /// `scripted` (services that send no ids get synthesised ones).
    fn call_id(scripted: &str, index: usize) -> String {
        let _ = index;
        scripted.to_string()
    }
    /// The error classes the service can produce. Ollama never rejects a long prompt: it
    /// truncates it to `num_ctx`, which is why the provider sets `num_ctx`.
    fn error_classes() -> &'static [ErrorClass] {
        &ErrorClass::ALL
    }
    async fn start() -> Self;
    fn provider(&self) -> &dyn Provider;
    /// A catalog model with prices, as a user would type it.
    fn model(&self) -> &'static str;
    /// The id the provider reports back for [`Harness::model`].
    fn model_used(&self) -> &'static str;
    /// Cost of 1000 input, 500 output and 2000 cache-read tokens of [`Harness::model`].
    fn expected_cost(&self) -> f64;
    fn push(&self, reply: ModelReply);
    /// Script the provider's error reply for `class` (the service's status, type and message),
    /// `times` times in a row.
    fn push_error(&self, class: ErrorClass, times: usize);
    /// Stream `reply`'s first three text deltas, then drop the connection mid-frame.
    fn push_cut_after_three_deltas(&self, reply: ModelReply);
    fn request_count(&self) -> usize;
    /// Whether the fake rejected a request as breaking the service's rules (with its message).
    fn rejections(&self) -> Vec<String>;
    /// The tool-result ids of the last request, in the order they were sent.
    fn last_tool_result_ids(&self) -> Vec<String>;
    /// The tool names declared in the last request.
    fn last_tool_names(&self) -> Vec<String>;
}

/// The accessors every harness implements the same way: each has a `fake` whose `push` takes
/// the given reply type (wrapping a model reply in `Model`) and a `provider` built against it.
macro_rules! fake_accessors {
    ($reply:ident) => {
        fn provider(&self) -> &dyn Provider {
            &self.provider
        }
        fn push(&self, reply: ModelReply) {
            self.fake.push($reply::Model(reply));
        }
        fn request_count(&self) -> usize {
            self.fake.requests().len()
        }
        fn rejections(&self) -> Vec<String> {
            self.fake.rejections()
        }
    };
}

// ---- Bedrock ----

struct BedrockHarness {
    fake: FakeBedrock,
    provider: BedrockProvider,
}

impl Harness for BedrockHarness {
    const NAME: &'static str = "bedrock";
    async fn start() -> Self {
        let fake = FakeBedrock::start().await;
        let provider = fake.provider(BedrockOptions::default()).await;
        Self { fake, provider }
    }
    fake_accessors!(Reply);
    fn model(&self) -> &'static str {
        "claude-haiku-4.5"
    }
    fn model_used(&self) -> &'static str {
        "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    }
    fn expected_cost(&self) -> f64 {
        // (1000 × 1.0 + 500 × 5.0 + 2000 × 0.1) / 1e6, +10 % for the `us.` geographic profile.
        0.0037 * 1.1
    }
    fn push_error(&self, class: ErrorClass, times: usize) {
        let reply = match class {
            ErrorClass::Authentication => Reply::error(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            ErrorClass::PermissionDenied => Reply::error(
                403,
                "AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/coach is not authorized to perform: bedrock:InvokeModelWithResponseStream",
            ),
            ErrorClass::ModelNotFound => Reply::error(
                404,
                "ResourceNotFoundException",
                "Legacy model is not available.",
            ),
            ErrorClass::Validation => {
                Reply::error(400, "ValidationException", "Malformed input request.")
            }
            ErrorClass::ContextTooLong => Reply::error(
                400,
                "ValidationException",
                "Input is too long for requested model.",
            ),
            ErrorClass::RateLimited => Reply::throttled(),
            ErrorClass::Unavailable => Reply::unavailable(),
        };
        for _ in 0..times {
            self.fake.push(reply.clone());
        }
    }
    fn push_cut_after_three_deltas(&self, reply: ModelReply) {
        let mut frames = reply.frames();
        frames.truncate(4); // messageStart + three deltas
        frames.push(Frame::Cut);
        self.fake.push(Reply::Frames(frames));
    }
    fn last_tool_result_ids(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        ids(&body["messages"], |b| {
            b["toolResult"]["toolUseId"].as_str().map(str::to_string)
        })
    }
    fn last_tool_names(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        names(&body["toolConfig"]["tools"], |t| &t["toolSpec"]["name"])
    }
}

fn ids(messages: &Value, pick: impl Fn(&Value) -> Option<String>) -> Vec<String> {
    messages
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| {
            let content = m["content"].as_array().cloned().unwrap_or_default();
            // OpenAI: tool results are whole messages.
            let own = pick(m);
            own.into_iter()
                .chain(content.iter().filter_map(&pick).collect::<Vec<_>>())
        })
        .collect()
}

fn names(tools: &Value, pick: impl Fn(&Value) -> &Value) -> Vec<String> {
    tools
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| pick(t).as_str().map(str::to_string))
        .collect()
}

// ---- Anthropic ----

struct AnthropicHarness {
    fake: FakeAnthropic,
    provider: AnthropicProvider,
}

impl Harness for AnthropicHarness {
    const NAME: &'static str = "anthropic";
    async fn start() -> Self {
        let fake = fake_anthropic::start().await;
        let provider = fake.provider(3);
        Self { fake, provider }
    }
    fake_accessors!(SseReply);
    fn model(&self) -> &'static str {
        "claude-haiku-4.5"
    }
    fn model_used(&self) -> &'static str {
        "claude-haiku-4-5-20251001"
    }
    fn expected_cost(&self) -> f64 {
        0.0037
    }
    fn push_error(&self, class: ErrorClass, times: usize) {
        use fake_anthropic::error;
        let reply = match class {
            ErrorClass::Authentication => error(401, "authentication_error", "invalid x-api-key"),
            ErrorClass::PermissionDenied => error(
                403,
                "permission_error",
                "Your API key does not have permission to use the specified resource.",
            ),
            ErrorClass::ModelNotFound => {
                error(404, "not_found_error", "model: claude-haiku-4-5-20251001")
            }
            ErrorClass::Validation => error(
                400,
                "invalid_request_error",
                "max_tokens: Input should be greater than or equal to 1",
            ),
            ErrorClass::ContextTooLong => error(
                400,
                "invalid_request_error",
                "prompt is too long: 215000 tokens > 200000 maximum",
            ),
            ErrorClass::RateLimited => fake_anthropic::rate_limited("0"),
            ErrorClass::Unavailable => fake_anthropic::overloaded(),
        };
        for _ in 0..times {
            self.fake.push(reply.clone());
        }
    }
    fn push_cut_after_three_deltas(&self, reply: ModelReply) {
        // message_start, ping, content_block_start, then three text deltas.
        self.fake.push(SseReply::CutAfter(reply, 6));
    }
    fn last_tool_result_ids(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        ids(&body["messages"], |b| {
            (b["type"] == "tool_result")
                .then(|| b["tool_use_id"].as_str().map(str::to_string))
                .flatten()
        })
    }
    fn last_tool_names(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        names(&body["tools"], |t| &t["name"])
    }
}

// ---- OpenAI ----

struct OpenAiHarness {
    fake: FakeOpenAi,
    provider: OpenAiProvider,
}

impl Harness for OpenAiHarness {
    const NAME: &'static str = "openai";
    async fn start() -> Self {
        let fake = fake_openai::start().await;
        let provider = OpenAiProvider::new(
            Some(OPENAI_TEST_KEY.into()),
            format!("{}/v1", fake.endpoint()),
            OpenAiOptions {
                http: fast_http(3),
                // The fake stands for api.openai.com on loopback: use that endpoint's field.
                max_tokens_field: llm::openai::MaxTokensField::MaxCompletionTokens,
                ..OpenAiOptions::default()
            },
            Arc::new(Catalog::builtin()),
        )
        .unwrap();
        Self { fake, provider }
    }
    fake_accessors!(SseReply);
    fn model(&self) -> &'static str {
        "gpt-5.1"
    }
    fn model_used(&self) -> &'static str {
        "gpt-5.1"
    }
    fn expected_cost(&self) -> f64 {
        // (1000 × 1.25 + 500 × 10 + 2000 × 0.125) / 1e6
        0.0065
    }
    fn push_error(&self, class: ErrorClass, times: usize) {
        use fake_openai::error;
        let reply = match class {
            ErrorClass::Authentication => error(
                401,
                "Incorrect API key provided: sk-proj-****ngBB. You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
            ErrorClass::PermissionDenied => error(
                403,
                "Project `proj_fake` does not have access to model `gpt-5.1`",
                "invalid_request_error",
                Some("model_not_found"),
            ),
            ErrorClass::ModelNotFound => error(
                404,
                "The model `gpt-5.1` does not exist or you do not have access to it.",
                "invalid_request_error",
                Some("model_not_found"),
            ),
            ErrorClass::Validation => error(
                400,
                "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.",
                "invalid_request_error",
                Some("integer_below_min_value"),
            ),
            ErrorClass::ContextTooLong => error(
                400,
                "This model's maximum context length is 400000 tokens. However, your messages resulted in 410000 tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                Some("context_length_exceeded"),
            ),
            ErrorClass::RateLimited => fake_openai::rate_limited("1"),
            ErrorClass::Unavailable => fake_openai::unavailable(),
        };
        for _ in 0..times {
            self.fake.push(reply.clone());
        }
    }
    fn push_cut_after_three_deltas(&self, reply: ModelReply) {
        // The role chunk, then three content chunks.
        self.fake.push(SseReply::CutAfter(reply, 4));
    }
    fn last_tool_result_ids(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        ids(&body["messages"], |m| {
            (m["role"] == "tool")
                .then(|| m["tool_call_id"].as_str().map(str::to_string))
                .flatten()
        })
    }
    fn last_tool_names(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        names(&body["tools"], |t| &t["function"]["name"])
    }
}

// ---- Gemini ----

struct GeminiHarness {
    fake: FakeGemini,
    provider: GeminiProvider,
}

impl GeminiHarness {
    fn last_parts(&self, key: &str) -> Vec<Value> {
        let body = self.fake.requests().last().unwrap().body.clone();
        body["contents"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p.get(key).cloned())
            .collect()
    }
}

impl Harness for GeminiHarness {
    const NAME: &'static str = "gemini";
    const STREAMS_TOOL_ARGUMENTS: bool = false;
    async fn start() -> Self {
        let fake = fake_gemini::start().await;
        let provider = GeminiProvider::new(
            GEMINI_TEST_KEY,
            fake.endpoint(),
            fast_http(3),
            Arc::new(Catalog::builtin()),
        )
        .unwrap();
        Self { fake, provider }
    }
    fake_accessors!(SseReply);
    fn model(&self) -> &'static str {
        "gemini-2.5-flash"
    }
    fn model_used(&self) -> &'static str {
        "gemini-2.5-flash"
    }
    fn expected_cost(&self) -> f64 {
        // (1000 × 0.30 + 500 × 2.50 + 2000 × 0.03) / 1e6
        0.00161
    }
    fn push_error(&self, class: ErrorClass, times: usize) {
        use fake_gemini::error;
        let reply = match class {
            ErrorClass::Authentication => error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
            ),
            ErrorClass::PermissionDenied => error(
                403,
                "PERMISSION_DENIED",
                "Permission denied: Consumer 'api_key:fake' has been suspended.",
            ),
            ErrorClass::ModelNotFound => error(
                404,
                "NOT_FOUND",
                "models/gemini-2.5-flash is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
            ),
            ErrorClass::Validation => error(
                400,
                "INVALID_ARGUMENT",
                "* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.",
            ),
            ErrorClass::ContextTooLong => error(
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ),
            ErrorClass::RateLimited => fake_gemini::rate_limited("0s"),
            ErrorClass::Unavailable => fake_gemini::unavailable(),
        };
        for _ in 0..times {
            self.fake.push(reply.clone());
        }
    }
    fn push_cut_after_three_deltas(&self, reply: ModelReply) {
        // Every event is a chunk with one text piece.
        self.fake.push(SseReply::CutAfter(reply, 3));
    }
    fn last_tool_result_ids(&self) -> Vec<String> {
        self.last_parts("functionResponse")
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect()
    }
    fn last_tool_names(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        names(&body["tools"][0]["functionDeclarations"], |t| &t["name"])
    }
}

// ---- Ollama ----

struct OllamaHarness {
    fake: FakeOllama,
    provider: OllamaProvider,
}

impl Harness for OllamaHarness {
    const NAME: &'static str = "ollama";
    const STREAMS_TOOL_ARGUMENTS: bool = false;
    const HAS_CONTENT_FILTER: bool = false;
    const REPORTS_CACHE_READS: bool = false;
    const TOOL_RESULTS_CARRY_IDS: bool = false;
    fn call_id(_scripted: &str, index: usize) -> String {
        format!("{}{index}", llm::ollama::SYNTHETIC_ID_PREFIX)
    }
    fn error_classes() -> &'static [ErrorClass] {
        &[
            ErrorClass::Authentication,
            ErrorClass::PermissionDenied,
            ErrorClass::ModelNotFound,
            ErrorClass::Validation,
            ErrorClass::RateLimited,
            ErrorClass::Unavailable,
        ]
    }
    async fn start() -> Self {
        let fake = fake_ollama::start().await;
        // `host:port` without a scheme, as OLLAMA_HOST is often written.
        let host = fake.endpoint().trim_start_matches("http://").to_string();
        let provider = OllamaProvider::new(
            &host,
            OllamaOptions {
                http: fast_http(3),
                ..OllamaOptions::default()
            },
            Arc::new(Catalog::builtin()),
        )
        .unwrap();
        Self { fake, provider }
    }
    fake_accessors!(SseReply);
    fn model(&self) -> &'static str {
        "llama3.1"
    }
    fn model_used(&self) -> &'static str {
        "llama3.1:8b"
    }
    fn expected_cost(&self) -> f64 {
        0.0
    }
    fn push_error(&self, class: ErrorClass, times: usize) {
        use fake_ollama::error;
        let reply = match class {
            // Ollama itself has no keys; these come from ollama.com or an authenticating proxy.
            ErrorClass::Authentication => error(401, "unauthorized"),
            ErrorClass::PermissionDenied => error(403, "forbidden"),
            ErrorClass::ModelNotFound => {
                error(404, "model \"llama3.1:8b\" not found, try pulling it first")
            }
            ErrorClass::Validation => error(400, "invalid options: num_ctx"),
            ErrorClass::ContextTooLong => unreachable!("Ollama truncates instead"),
            ErrorClass::RateLimited => {
                error(429, "too many requests").with_header("retry-after", "0")
            }
            ErrorClass::Unavailable => fake_ollama::busy(),
        };
        for _ in 0..times {
            self.fake.push(reply.clone());
        }
    }
    fn push_cut_after_three_deltas(&self, reply: ModelReply) {
        self.fake.push(SseReply::CutAfter(reply, 3));
    }
    fn last_tool_result_ids(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        ids(&body["messages"], |m| {
            (m["role"] == "tool")
                .then(|| m["tool_name"].as_str().map(str::to_string))
                .flatten()
        })
    }
    fn last_tool_names(&self) -> Vec<String> {
        let body = self.fake.requests().last().unwrap().body.clone();
        names(&body["tools"], |t| &t["function"]["name"])
    }
}

// ---- the scenarios ----

fn weather_tool() -> ToolDef {
    ToolDef {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        schema: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }
}

fn now_tool() -> ToolDef {
    ToolDef {
        name: "current_time".into(),
        description: "The current time".into(),
        schema: json!({"type": "object", "properties": {}}),
    }
}

fn request<H: Harness>(h: &H, messages: Vec<Message>) -> Request {
    let mut r = Request::new(h.model(), messages, 200);
    r.system = Some("You are a terse assistant.".into());
    r
}

async fn plain_text<H: Harness>() {
    let h = H::start().await;
    h.push(ModelReply::text("Hello from the fake, in small pieces."));
    let r = h
        .provider()
        .complete(&request(&h, vec![Message::user("hi")]))
        .await
        .unwrap();
    assert_eq!(
        r.text,
        "Hello from the fake, in small pieces.",
        "{}",
        H::NAME
    );
    assert_eq!(r.stop_reason, StopReason::EndTurn);
    assert!(r.tool_calls.is_empty());
    assert_eq!((r.usage.input, r.usage.output), (12, 7), "{}", H::NAME);
    assert_eq!(r.model_used, h.model_used());
    assert_eq!(h.request_count(), 1);
    assert!(h.rejections().is_empty(), "{:?}", h.rejections());
}

async fn one_tool_call<H: Harness>() {
    let h = H::start().await;
    h.push(ModelReply::tool_calls(&[(
        "call_1",
        "get_weather",
        r#"{"city": "Paris"}"#,
    )]));
    let mut req = request(&h, vec![Message::user("Weather in Paris?")]);
    req.tools = vec![weather_tool()];
    let r = h.provider().complete(&req).await.unwrap();
    assert_eq!(
        r.tool_calls,
        vec![ToolCall {
            id: H::call_id("call_1", 0),
            name: "get_weather".into(),
            arguments: json!({"city": "Paris"})
        }],
        "{}",
        H::NAME
    );
    assert_eq!(r.stop_reason, StopReason::ToolUse);
    assert_eq!(h.last_tool_names(), vec!["get_weather".to_string()]);
}

async fn two_parallel_tool_calls_and_their_results<H: Harness>() {
    let h = H::start().await;
    h.push(ModelReply::tool_calls(&[
        ("call_a", "get_weather", r#"{"city": "Paris"}"#),
        ("call_b", "get_weather", r#"{"city": "Lyon"}"#),
    ]));
    let mut req = request(&h, vec![Message::user("Paris and Lyon?")]);
    req.tools = vec![weather_tool()];
    let first = h.provider().complete(&req).await.unwrap();
    let got: Vec<(String, &Value)> = first
        .tool_calls
        .iter()
        .map(|c| (c.id.clone(), &c.arguments))
        .collect();
    assert_eq!(
        got,
        vec![
            (H::call_id("call_a", 0), &json!({"city": "Paris"})),
            (H::call_id("call_b", 1), &json!({"city": "Lyon"}))
        ],
        "{}",
        H::NAME
    );
    // The next turn answers both calls (in call order) and gets the final answer.
    req.messages.push(first.to_message());
    req.messages.push(Message::tool_results(vec![
        ToolResult::json(&first.tool_calls[0].id, json!({"temp_c": 18})),
        ToolResult::text(&first.tool_calls[1].id, "21 °C, sunny"),
    ]));
    h.push(ModelReply::text("Paris 18 °C, Lyon 21 °C."));
    let second = h.provider().complete(&req).await.unwrap();
    assert_eq!(second.text, "Paris 18 °C, Lyon 21 °C.");
    let expected = if H::TOOL_RESULTS_CARRY_IDS {
        vec!["call_a", "call_b"]
    } else {
        vec!["get_weather", "get_weather"]
    };
    assert_eq!(h.last_tool_result_ids(), expected, "{}", H::NAME);
    assert!(h.rejections().is_empty(), "{:?}", h.rejections());
}

async fn streamed_tool_call_split_across_many_deltas<H: Harness>() {
    let h = H::start().await;
    let args = r#"{"city": "Saint-Étienne", "units": "metric", "days": [1, 2, 3], "detail": {"wind": true}}"#;
    let mut reply = ModelReply::tool_calls(&[("call_long", "get_weather", args)]);
    reply.chunk = 1; // one character per delta
    h.push(reply);
    let mut req = request(&h, vec![Message::user("forecast")]);
    req.tools = vec![weather_tool()];
    let mut stream = h.provider().stream(&req).await.unwrap();
    let mut fragments = 0;
    let mut events = Vec::new();
    while let Some(e) = stream.next().await {
        let e = e.unwrap();
        if matches!(e, StreamEvent::ToolCallArgsDelta { .. }) {
            fragments += 1;
        }
        events.push(e);
    }
    let expected = if H::STREAMS_TOOL_ARGUMENTS {
        args.chars().count()
    } else {
        1
    };
    assert_eq!(fragments, expected, "{}", H::NAME);
    assert!(
        matches!(events.first(), Some(StreamEvent::ToolCallStart { name, .. }) if name == "get_weather")
    );
    let r = llm::collect(Box::pin(futures::stream::iter(events.into_iter().map(Ok))))
        .await
        .unwrap();
    assert_eq!(
        r.tool_calls[0].arguments,
        serde_json::from_str::<Value>(args).unwrap()
    );
}

async fn multi_turn_history_replayed<H: Harness>() {
    let h = H::start().await;
    let history = vec![
        Message::user("I rode 80 km today."),
        Message::assistant("Nice ride. How did it feel?"),
        Message::user("Tired. What's the weather tomorrow?"),
        Message {
            role: Role::Assistant,
            content: vec![
                Part::Text("Let me check.".into()),
                Part::ToolCall(ToolCall {
                    id: "call_w".into(),
                    name: "get_weather".into(),
                    arguments: json!({"city": "Grenoble"}),
                }),
                Part::ToolCall(ToolCall {
                    id: "call_t".into(),
                    name: "current_time".into(),
                    arguments: json!({}),
                }),
            ],
        },
        Message::tool_results(vec![
            ToolResult::json("call_w", json!({"rain": true})),
            ToolResult::error("call_t", "clock unavailable"),
        ]),
        Message::assistant("Rain is expected; rest tomorrow."),
        // Two user turns in a row: every provider must send an acceptable history.
        Message::user("OK."),
        Message::user("And the day after?"),
    ];
    h.push(ModelReply::text("Dry and mild."));
    let mut req = request(&h, history);
    req.tools = vec![weather_tool(), now_tool()];
    let r = h.provider().complete(&req).await.unwrap();
    assert_eq!(r.text, "Dry and mild.", "{}", H::NAME);
    assert!(h.rejections().is_empty(), "{:?}", h.rejections());
    let expected = if H::TOOL_RESULTS_CARRY_IDS {
        vec!["call_w", "call_t"]
    } else {
        vec!["get_weather", "current_time"]
    };
    assert_eq!(h.last_tool_result_ids(), expected, "{}", H::NAME);
}

async fn usage_and_cost<H: Harness>() {
    let h = H::start().await;
    h.push(ModelReply::text("priced").with_usage(1000, 500, Some(2000), None));
    let r = h
        .provider()
        .complete(&request(&h, vec![Message::user("q")]))
        .await
        .unwrap();
    let cache_read = if H::REPORTS_CACHE_READS { 2000 } else { 0 };
    assert_eq!(
        (
            r.usage.input,
            r.usage.output,
            r.usage.cache_read,
            r.usage.cache_write
        ),
        (1000, 500, cache_read, 0),
        "{}",
        H::NAME
    );
    let cost = Catalog::builtin().cost(H::NAME, &r.model_used, &r.usage);
    match cost {
        Cost::Known {
            usd,
            prices_checked,
            ..
        } => {
            assert!(
                (usd - h.expected_cost()).abs() < 1e-12,
                "{}: {usd} != {}",
                H::NAME,
                h.expected_cost()
            );
            assert!(!prices_checked.is_empty());
        }
        other => panic!("{}: {other}", H::NAME),
    }
}

async fn each_error_class<H: Harness>() {
    for &class in H::error_classes() {
        let h = H::start().await;
        h.push_error(class, class.attempts());
        let err = h
            .provider()
            .complete(&request(&h, vec![Message::user("q")]))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            class.kind(),
            "{}: {class:?} gave {err}",
            H::NAME
        );
        assert_eq!(
            h.request_count(),
            class.attempts(),
            "{}: {class:?}: attempts",
            H::NAME
        );
    }
}

async fn unknown_model_is_model_not_found<H: Harness>() {
    let h = H::start().await;
    let req = Request::new("no-such-model-v9", vec![Message::user("q")], 10);
    let err = h.provider().complete(&req).await.unwrap_err();
    assert_eq!(err.kind(), "model_not_found", "{}: {err}", H::NAME);
    assert_eq!(h.rejections().len(), 1, "the fake's own rule rejected it");
}

async fn throttled_first_call_succeeds_on_retry<H: Harness>() {
    let h = H::start().await;
    h.push_error(ErrorClass::RateLimited, 1);
    h.push(ModelReply::text("after retry"));
    let r = h
        .provider()
        .complete(&request(&h, vec![Message::user("q")]))
        .await
        .unwrap();
    assert_eq!(r.text, "after retry", "{}", H::NAME);
    assert_eq!(h.request_count(), 2, "{}", H::NAME);
}

async fn stop_reasons_are_mapped<H: Harness>() {
    for (wire, expected) in [
        ("max_tokens", StopReason::MaxTokens),
        ("content_filtered", StopReason::ContentFiltered),
    ] {
        if expected == StopReason::ContentFiltered && !H::HAS_CONTENT_FILTER {
            continue;
        }
        let h = H::start().await;
        let mut reply = ModelReply::text("cut sh");
        reply.stop_reason = wire.into();
        h.push(reply);
        let r = h
            .provider()
            .complete(&request(&h, vec![Message::user("q")]))
            .await
            .unwrap();
        assert_eq!(r.stop_reason, expected, "{}", H::NAME);
        assert_eq!(r.text, "cut sh");
    }
}

async fn attempts_are_counted<H: Harness>() {
    let h = H::start().await;
    h.push_error(ErrorClass::Unavailable, 1);
    h.push(ModelReply::text("counted"));
    let (stream, attempts) = h
        .provider()
        .stream_counted(&request(&h, vec![Message::user("q")]))
        .await;
    let r = llm::collect(stream.unwrap()).await.unwrap();
    assert_eq!(r.text, "counted");
    assert_eq!(
        attempts.expect("every provider counts").get(),
        2,
        "{}",
        H::NAME
    );
    assert_eq!(h.request_count(), 2);
}

async fn stream_cut_after_output_keeps_partial_text<H: Harness>() {
    let h = H::start().await;
    h.push_cut_after_three_deltas(ModelReply::text("Hello world, this is long"));
    let err = h
        .provider()
        .complete(&request(&h, vec![Message::user("q")]))
        .await
        .unwrap_err();
    match &err {
        LlmError::StreamBroken { partial_text, .. } => {
            assert_eq!(partial_text, "Hello world,", "{}", H::NAME)
        }
        other => panic!("{}: {other}", H::NAME),
    }
    assert!(
        err.to_string()
            .contains("stream broken after 12 characters")
    );
    assert_eq!(h.request_count(), 1, "no re-issue after output");
}

async fn malformed_zero_argument_and_empty_delta_tool_calls<H: Harness>() {
    let h = H::start().await;
    let mut reply = ModelReply::tool_calls(&[
        ("t_now", "current_time", ""),
        ("t_bad", "get_weather", r#"{"city": "Pa"#),
    ]);
    reply.empty_text_delta_before_tools = true;
    h.push(reply);
    let mut req = request(&h, vec![Message::user("q")]);
    req.tools = vec![weather_tool(), now_tool()];
    let r = h.provider().complete(&req).await.unwrap();
    assert_eq!(r.text, "", "{}", H::NAME);
    assert_eq!(
        r.tool_calls,
        vec![ToolCall {
            id: H::call_id("t_now", 0),
            name: "current_time".into(),
            arguments: json!({})
        }],
        "{}",
        H::NAME
    );
    assert_eq!(r.malformed_tool_calls.len(), 1);
    assert_eq!(r.malformed_tool_calls[0].id, H::call_id("t_bad", 1));
    assert_eq!(r.malformed_tool_calls[0].raw_arguments, r#"{"city": "Pa"#);
    assert_eq!(r.stop_reason, StopReason::ToolUse);
}

macro_rules! contract {
    ($($module:ident => $harness:ty),* $(,)?) => {$(
        mod $module {
            use super::*;
            #[tokio::test] async fn plain_text() { super::plain_text::<$harness>().await }
            #[tokio::test] async fn one_tool_call() { super::one_tool_call::<$harness>().await }
            #[tokio::test] async fn two_parallel_tool_calls_and_their_results() { super::two_parallel_tool_calls_and_their_results::<$harness>().await }
            #[tokio::test] async fn streamed_tool_call_split_across_many_deltas() { super::streamed_tool_call_split_across_many_deltas::<$harness>().await }
            #[tokio::test] async fn multi_turn_history_replayed() { super::multi_turn_history_replayed::<$harness>().await }
            #[tokio::test] async fn usage_and_cost() { super::usage_and_cost::<$harness>().await }
            #[tokio::test] async fn each_error_class() { super::each_error_class::<$harness>().await }
            #[tokio::test] async fn unknown_model_is_model_not_found() { super::unknown_model_is_model_not_found::<$harness>().await }
            #[tokio::test] async fn throttled_first_call_succeeds_on_retry() { super::throttled_first_call_succeeds_on_retry::<$harness>().await }
            #[tokio::test] async fn stop_reasons_are_mapped() { super::stop_reasons_are_mapped::<$harness>().await }
            #[tokio::test] async fn attempts_are_counted() { super::attempts_are_counted::<$harness>().await }
            #[tokio::test] async fn stream_cut_after_output_keeps_partial_text() { super::stream_cut_after_output_keeps_partial_text::<$harness>().await }
            #[tokio::test] async fn malformed_zero_argument_and_empty_delta_tool_calls() { super::malformed_zero_argument_and_empty_delta_tool_calls::<$harness>().await }
        }
    )*};
}

contract! {
    bedrock => BedrockHarness,
    anthropic => AnthropicHarness,
    openai => OpenAiHarness,
    gemini => GeminiHarness,
    ollama => OllamaHarness,
}
