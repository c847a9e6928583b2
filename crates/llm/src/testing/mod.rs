//! Test support (feature `testing`): loopback fakes of the providers that speak the real wire
//! format and enforce the services' rules — Bedrock (JSON + event-stream frames, driven by the
//! real SDK client), Anthropic, OpenAI and Gemini (SSE), Ollama (NDJSON) — so every provider can be tested offline.

pub mod eventstream;
pub mod fake_anthropic;
pub mod fake_bedrock;
pub mod fake_bedrock_batch;
pub mod fake_gemini;
pub mod fake_ollama;
pub mod fake_openai;
pub mod moto;
pub mod sse_fake;

pub use fake_bedrock::{Block, FakeBedrock, Frame, ModelReply, Operation, RecordedRequest, Reply};
pub use fake_bedrock_batch::FakeBatch;
pub use moto::Moto;
pub use sse_fake::{RecordedHttp, SseFake, SseReply, Wire};

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;

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

/// How fast a scripted answer arrives: the time to the first token, then the answer's output
/// tokens at a steady rate. Real models stream at roughly [`Pace::REALISTIC`]; the benchmarks
/// use it so that wall times mean something.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub first_token: Duration,
    pub tokens_per_second: f64,
}

impl Pace {
    /// About what Claude Sonnet or Nova Pro show on Bedrock: 0.8 s to the first token, then 60
    /// output tokens a second.
    pub const REALISTIC: Pace = Pace {
        first_token: Duration::from_millis(800),
        tokens_per_second: 60.0,
    };

    /// The time to generate `output_tokens` tokens after the first token.
    pub fn generation(&self, output_tokens: u64) -> Duration {
        if self.tokens_per_second > 0.0 {
            Duration::from_secs_f64(output_tokens as f64 / self.tokens_per_second)
        } else {
            Duration::ZERO
        }
    }

    /// The whole answer: first token plus generation.
    pub fn duration(&self, output_tokens: u64) -> Duration {
        self.first_token + self.generation(output_tokens)
    }

    /// A schedule that starts now (when the request has been read).
    pub fn schedule(&self, output_tokens: u64) -> Schedule {
        Schedule {
            start: tokio::time::Instant::now(),
            first_token: self.first_token,
            generation: self.generation(output_tokens),
        }
    }
}

/// When each frame of a paced stream goes out: the first at the first-token time, the rest
/// evenly over the generation time. Deadlines are absolute, so slow writes do not add up.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    start: tokio::time::Instant,
    first_token: Duration,
    generation: Duration,
}

impl Schedule {
    /// Wait until frame `i` of `n` is due.
    pub async fn wait(&self, i: usize, n: usize) {
        let share = if n > 1 {
            self.generation.mul_f64(i as f64 / (n - 1) as f64)
        } else {
            Duration::ZERO
        };
        tokio::time::sleep_until(self.start + self.first_token + share).await;
    }
}

/// Which requests a scripted reply is for.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    /// The next request, whatever it is.
    Any,
    /// The next request whose JSON body contains the text.
    Mentions(String),
}

impl Route {
    fn takes(&self, body_text: &str) -> bool {
        match self {
            Route::Any => true,
            Route::Mentions(needle) => body_text.contains(needle.as_str()),
        }
    }
}

/// The first scripted reply whose route takes a request with this body.
pub(crate) fn take_routed<R>(script: &mut VecDeque<(Route, R)>, body: &Value) -> Option<R> {
    let text = body.to_string();
    let i = script.iter().position(|(route, _)| route.takes(&text))?;
    script.remove(i).map(|(_, r)| r)
}

/// The first standing reply (answered any number of times) whose route takes this body.
pub(crate) fn find_routed<'a, R>(routes: &'a [(Route, R)], body: &Value) -> Option<&'a R> {
    let text = body.to_string();
    routes
        .iter()
        .find(|(route, _)| route.takes(&text))
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_routed_reply_waits_for_a_request_that_mentions_its_text() {
        let mut script: VecDeque<(Route, &str)> = VecDeque::from([
            (Route::Mentions("create_plan_overview".into()), "plan"),
            (
                Route::Mentions("performance-analysis section".into()),
                "analysis",
            ),
            (Route::Any, "any"),
        ]);
        let analysis = json!({"system": "… the performance-analysis section …"});
        let plan = json!({"tools": [{"name": "create_plan_overview"}]});
        assert_eq!(take_routed(&mut script, &analysis), Some("analysis"));
        // Nothing routed to the analysis is left: the next such request takes the catch-all.
        assert_eq!(take_routed(&mut script, &analysis), Some("any"));
        assert_eq!(take_routed(&mut script, &plan), Some("plan"));
        assert_eq!(take_routed(&mut script, &plan), None);
    }

    #[test]
    fn a_pace_spreads_the_output_tokens_after_the_first_token() {
        let p = Pace::REALISTIC;
        assert_eq!(p.generation(600), Duration::from_secs(10));
        assert_eq!(p.duration(600), Duration::from_millis(10_800));
        let still = Pace {
            first_token: Duration::ZERO,
            tokens_per_second: 0.0,
        };
        assert_eq!(still.generation(600), Duration::ZERO);
    }
}
