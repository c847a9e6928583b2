//! Test support (feature `testing`): loopback fakes of the providers that speak the real wire
//! format and enforce the services' rules — Bedrock (JSON + event-stream frames, driven by the
//! real SDK client), Anthropic, OpenAI and Gemini (SSE), Ollama (NDJSON) — so every provider can be tested offline.

pub mod eventstream;
pub mod fake_anthropic;
pub mod fake_bedrock;
pub mod fake_gemini;
pub mod fake_ollama;
pub mod fake_openai;
pub mod sse_fake;

pub use fake_bedrock::{Block, FakeBedrock, Frame, ModelReply, Operation, RecordedRequest, Reply};
pub use sse_fake::{RecordedHttp, SseFake, SseReply, Wire};

use std::time::Duration;

use crate::http::{HttpSettings, RetryPolicy};

/// HTTP settings for tests against the fakes: `max_attempts` attempts with back-offs of a few
/// milliseconds (5 doubling up to 20) and a `retry-after` honoured up to 5 s, so retry tests
/// stay fast.
pub fn fast_http(max_attempts: u32) -> HttpSettings {
    HttpSettings {
        retry: RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(5),
        },
        ..HttpSettings::default()
    }
}

/// One logged call through [`crate::Meter`], for tests that look at the outcome and the log
/// line: the outcome, and whether the log line was written.
pub async fn complete_logged(
    provider: &dyn crate::Provider,
    request: &crate::Request,
    catalog: &crate::Catalog,
    log: &crate::log::InteractionLog,
) -> (Result<crate::Response, crate::LlmError>, Result<(), String>) {
    let mut meter = crate::Meter::new(provider, catalog, Some(log));
    let outcome = meter.complete(request).await;
    let written = match meter.stats.log_errors.pop() {
        Some(e) => Err(e),
        None => Ok(()),
    };
    (outcome, written)
}
