//! One metered model call: every call the product makes — a report phase's, a chat turn's, a
//! `providers check` — goes through [`Meter`], so each is streamed and folded the same way,
//! written to the interaction log, priced by the model that actually answered (a router's
//! choice, an inference profile's target) and added to one tally.
//!
//! [`forced_tool_loop`] builds on it: a call that must end in one tool call whose arguments the
//! caller checks, with the errors fed back for a bounded number of repairs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::catalog::{Catalog, Cost};
use crate::error::LlmError;
use crate::log::{InteractionLog, LogEntry};
use crate::provider::{Folded, FoldedCall, Folder, Provider};
use crate::types::{Message, Part, Request, Response, Role, StreamEvent, ToolResult, Usage};

/// Calls, tokens and cost of one model (or of any set of calls).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelUsage {
    pub calls: u32,
    pub usage: Usage,
    /// `None`: the price of at least one call is unknown.
    pub cost_usd: Option<f64>,
}

impl ModelUsage {
    /// Add another tally (a turn's to a session's). An unknown price stays unknown.
    pub fn merge(&mut self, other: &ModelUsage) {
        // An empty tally has no unknown price: start from the other's.
        self.cost_usd = if self.calls == 0 {
            other.cost_usd
        } else {
            match (self.cost_usd, other.cost_usd) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            }
        };
        self.calls += other.calls;
        self.usage.add(&other.usage);
    }

    /// Add one answered call.
    pub fn add_call(&mut self, usage: &Usage, cost: Option<f64>) {
        self.merge(&ModelUsage {
            calls: 1,
            usage: *usage,
            cost_usd: cost,
        });
    }
}

/// Add one tally to another, model by model.
pub fn merge_usage(into: &mut BTreeMap<String, ModelUsage>, from: &BTreeMap<String, ModelUsage>) {
    for (model, u) in from {
        into.entry(model.clone()).or_default().merge(u);
    }
}

/// What the calls made through one [`Meter`] have cost so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallStats {
    /// Requests sent (failed ones included: the service received them).
    pub calls: u32,
    /// The answered calls, keyed by the model that answered.
    pub by_model: BTreeMap<String, ModelUsage>,
    /// The model that answered the last successful call.
    pub model_used: Option<String>,
    /// Why a cost is unknown (the catalog's reason), when one is.
    pub price_unknown: Option<String>,
    /// Wall-clock time spent waiting on the provider.
    pub waiting: Duration,
    /// Time to the first token (text or tool call) of each answered call, in call order.
    pub first_tokens: Vec<Duration>,
    /// Failures to write the interaction log (the calls themselves went on).
    pub log_errors: Vec<String>,
}

impl CallStats {
    /// Tokens of every answered call.
    pub fn usage(&self) -> Usage {
        let mut total = Usage::default();
        for u in self.by_model.values() {
            total.add(&u.usage);
        }
        total
    }

    /// Cost of every answered call; `None` as soon as one call's price is unknown, `Some(0.0)`
    /// before any answer.
    pub fn cost_usd(&self) -> Option<f64> {
        self.by_model.values().map(|u| u.cost_usd).sum()
    }
}

/// Makes model calls through one provider: each call is logged (when a log is given), priced
/// and counted in [`Meter::stats`].
pub struct Meter<'a> {
    provider: &'a dyn Provider,
    catalog: &'a Catalog,
    log: Option<&'a InteractionLog>,
    progress: Option<&'a (dyn Fn(&CallStats) + Sync)>,
    live: Option<&'a (dyn Fn(Receiving) + Sync)>,
    live_every: Duration,
    pub stats: CallStats,
}

/// How far the answer of the call in flight has come: reported while it streams, so a long
/// generation is never a silent screen (a local server once streamed 5,491 tokens for 818 s
/// with nothing shown).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Receiving {
    /// Characters of text and tool-call arguments received so far.
    pub chars: usize,
    /// Since the request was sent.
    pub elapsed: Duration,
}

impl Receiving {
    /// Output tokens so far, estimated from the characters (≈ 4 a token): the service reports
    /// its count only at the end.
    pub fn estimated_tokens(&self) -> u64 {
        self.chars.div_ceil(4) as u64
    }
}

/// How often [`Receiving`] is reported while an answer streams.
pub const LIVE_INTERVAL: Duration = Duration::from_secs(5);

impl<'a> Meter<'a> {
    pub fn new(
        provider: &'a dyn Provider,
        catalog: &'a Catalog,
        log: Option<&'a InteractionLog>,
    ) -> Self {
        Meter {
            provider,
            catalog,
            log,
            progress: None,
            live: None,
            live_every: LIVE_INTERVAL,
            stats: CallStats::default(),
        }
    }

    /// Called after every call with the figures so far (live progress).
    pub fn with_progress(mut self, progress: &'a (dyn Fn(&CallStats) + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Called every [`LIVE_INTERVAL`] while an answer streams in, and not at all for answers
    /// that finish sooner.
    pub fn with_live(mut self, live: &'a (dyn Fn(Receiving) + Sync)) -> Self {
        self.live = Some(live);
        self
    }

    /// Report [`Receiving`] this often instead of every [`LIVE_INTERVAL`].
    pub fn live_every(mut self, every: Duration) -> Self {
        self.live_every = every.max(Duration::from_millis(10));
        self
    }

    pub fn provider_name(&self) -> &str {
        self.provider.name()
    }

    /// The catalog's price; a model the catalog does not list, served by a self-hosted server
    /// ([`Provider::local_endpoint`]), costs nothing per token rather than "price unknown".
    fn price(&self, name: &str, model_used: &str, usage: &Usage, batch: bool) -> Cost {
        let cost = if batch {
            self.catalog.batch_cost(name, model_used, usage)
        } else {
            self.catalog.cost(name, model_used, usage)
        };
        match (cost, self.provider.local_endpoint()) {
            (Cost::Unknown { .. }, Some(url)) => Cost::Known {
                usd: 0.0,
                input_usd: 0.0,
                output_usd: 0.0,
                cache_read_usd: 0.0,
                cache_write_usd: 0.0,
                priced_as: format!("local server at {url} (no per-token price)"),
                prices_checked: String::new(),
            },
            (cost, _) => cost,
        }
    }

    pub fn catalog(&self) -> &Catalog {
        self.catalog
    }

    /// One call, folded into a [`Response`].
    pub async fn complete(&mut self, request: &Request) -> Result<Response, LlmError> {
        self.stream(request, &mut |_| {})
            .await
            .map(|f| f.to_response())
    }

    /// One call, streamed: each piece of text goes to `on_text` as it arrives; the whole
    /// answer is folded (valid and malformed tool calls in the order the model made them).
    pub async fn stream(
        &mut self,
        request: &Request,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Folded, LlmError> {
        let name = self.provider.name();
        let span = tracing::info_span!("model_call", provider = name, model = %request.model);
        let _entered = span.enter();
        let batch = self.provider.answers_from_batch(request).await;
        let started = Instant::now();
        let (stream, attempts) = self.provider.stream_counted(request).await;
        let mut first_token = None;
        let mut outcome = match stream {
            Ok(s) => {
                let watch = Watch {
                    started,
                    live: self.live,
                    every: self.live_every,
                };
                fold(name, s, on_text, watch, &mut first_token).await
            }
            Err(e) => Err(e),
        };
        let waited = started.elapsed();
        if let Ok(f) = &mut outcome
            && f.latency.is_none()
        {
            f.latency = Some(waited);
        }
        let cost = outcome
            .as_ref()
            .ok()
            .map(|f| self.price(name, &f.model_used, &f.usage, batch));
        if let Some(log) = self.log {
            let response = outcome
                .as_ref()
                .map(Folded::to_response)
                .map_err(Clone::clone);
            let mut entry = LogEntry::new(
                name,
                request,
                &response,
                cost.clone(),
                attempts.map(|a| a.get()),
            );
            // The log keeps valid and malformed calls apart; their interleaving is the order
            // the results were sent in, which a replay must reproduce.
            // What the provider actually put on the wire when it differs by endpoint (a
            // refused `json_schema` stepped down to `json_object`, a named tool choice to
            // "required"): the log keeps both the request as asked and as sent.
            // Answered from a batch job's output (priced at batch prices), not sent now.
            if batch {
                entry.request["batch"] = json!(true);
            }
            if let Some(sent) = self.provider.sent_as(request) {
                entry.request["sent"] = sent;
            }
            if let (Ok(f), Some(r)) = (&outcome, entry.response.as_mut()) {
                r["call_order"] = json!(f.calls.iter().map(FoldedCall::id).collect::<Vec<_>>());
            }
            if let Err(e) = log.record(&entry) {
                tracing::warn!(error = %e, "the call was not logged");
                self.stats.log_errors.push(e.to_string());
            }
        }
        self.stats.calls += 1;
        self.stats.waiting += waited;
        match (&outcome, cost) {
            (Ok(f), Some(cost)) => {
                tracing::info!(
                    model_used = %f.model_used,
                    input = f.usage.input,
                    output = f.usage.output,
                    cache_read = f.usage.cache_read,
                    cache_write = f.usage.cache_write,
                    cost_usd = cost.usd(),
                    seconds = waited.as_secs_f64(),
                    "answered"
                );
                if let Cost::Unknown { model, reason } = &cost {
                    self.stats.price_unknown = Some(format!("`{model}`: {reason}"));
                }
                self.stats
                    .by_model
                    .entry(f.model_used.clone())
                    .or_default()
                    .add_call(&f.usage, cost.usd());
                self.stats.model_used = Some(f.model_used.clone());
                // An answer without content (only usage) has its first token at its end.
                self.stats.first_tokens.push(first_token.unwrap_or(waited));
            }
            (Err(e), _) => {
                // Service messages can echo what was sent: scrub them like the call log.
                tracing::warn!(error = %crate::log::scrub(&e.to_string(), &[]), "failed");
            }
            (Ok(_), None) => {}
        }
        if let Some(p) = self.progress {
            p(&self.stats);
        }
        outcome
    }
}

/// Fold a stream (see [`Folder`]), forwarding text as it arrives and noting when the first
/// token (text or tool call) came, counted from `started`.
/// The clock of one call and who wants to hear how it is going.
struct Watch<'a> {
    started: Instant,
    live: Option<&'a (dyn Fn(Receiving) + Sync)>,
    every: Duration,
}

async fn fold(
    provider: &str,
    mut stream: crate::provider::EventStream,
    on_text: &mut (dyn FnMut(&str) + Send),
    watch: Watch<'_>,
    first_token: &mut Option<Duration>,
) -> Result<Folded, LlmError> {
    let started = watch.started;
    let mut folder = Folder::new();
    let mut chars = 0usize;
    let mut next_report = watch.every;
    while let Some(event) = stream.next().await {
        let event = event?;
        let (n, content) = answer_chars(&event);
        chars += n;
        if content && first_token.is_none() {
            *first_token = Some(started.elapsed());
        }
        if let Some(live) = watch.live {
            let elapsed = started.elapsed();
            if elapsed >= next_report {
                live(Receiving { chars, elapsed });
                next_report = elapsed + watch.every;
            }
        }
        if let StreamEvent::TextDelta(t) = &event
            && !t.is_empty()
        {
            on_text(t);
        }
        if let Some(folded) = folder.push(event) {
            return Ok(folded);
        }
    }
    Err(LlmError::StreamBroken {
        provider: provider.to_string(),
        partial_text: folder.into_text(),
        message: "the stream ended without a final event".into(),
    })
}

/// Characters an event adds to the answer (text, a tool's name, argument text), and whether it
/// is answer content at all (the first such event is the first token).
fn answer_chars(event: &StreamEvent) -> (usize, bool) {
    match event {
        StreamEvent::TextDelta(t) => (t.chars().count(), !t.is_empty()),
        StreamEvent::ToolCallStart { name, .. } => (name.chars().count(), true),
        StreamEvent::ToolCallArgsDelta { json, .. } => (json.chars().count(), true),
        _ => (0, false),
    }
}

/// The output budget a truncated structured answer may be raised to (every catalog model
/// writes at least this much in one answer).
pub const TRUNCATION_MAX_TOKENS: u32 = 16_384;

/// What the next attempt says after an answer was cut at the output limit.
pub const SHORTER_ANSWER: &str = "Your previous answer was cut off at the output token limit \
and could not be used. Answer again, complete, and keep every text field short.";

/// Prepare the next attempt after an answer stopped at the output limit (`finish_reason:
/// length`, `max_tokens`): raise the budget (doubled, up to [`TRUNCATION_MAX_TOKENS`]) and ask
/// for a shorter answer, once, in the system prompt. The cut answer itself is never sent back:
/// echoing it as a "repair" only grows the prompt (issue 11: 12.7k characters sent back three
/// times as "EOF while parsing").
pub fn retry_after_truncation(request: &mut Request) {
    request.max_tokens = request.max_tokens.max(
        request
            .max_tokens
            .saturating_mul(2)
            .min(TRUNCATION_MAX_TOKENS),
    );
    let system = request.system.get_or_insert_with(String::new);
    if !system.contains(SHORTER_ANSWER) {
        if !system.is_empty() {
            system.push_str("\n\n");
        }
        system.push_str(SHORTER_ANSWER);
    }
}

/// Why a forced tool call gave nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum ForcedToolError {
    #[error("the model call failed: {0}")]
    Model(#[from] LlmError),
    /// Every attempt was rejected; `errors` are the last attempt's.
    #[error("rejected after {attempts} attempts: {}", errors.join("; "))]
    Invalid { attempts: u32, errors: Vec<String> },
}

/// One forced tool call (the request's `tool_choice` names `tool`), checked by `check`; what
/// `check` rejects goes back as the call's error result (with the forced choice kept) for at
/// most `max_repairs` repairs. A text answer, or arguments that are not JSON, count as failed
/// attempts too.
pub async fn forced_tool_loop<T>(
    meter: &mut Meter<'_>,
    mut request: Request,
    tool: &str,
    max_repairs: u32,
    check: impl Fn(&Value) -> Result<T, Vec<String>>,
) -> Result<T, ForcedToolError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let response = meter.complete(&request).await?;
        let call = response.tool_calls.iter().find(|c| c.name == tool);
        if response.stop_reason == crate::types::StopReason::MaxTokens {
            // A cut answer is its own case: a valid call is still taken, anything else is
            // asked for again, shorter and with more room, without echoing the cut text.
            if let Some(Ok(value)) = call.map(|c| check(&c.arguments)) {
                return Ok(value);
            }
            let errors = vec![format!(
                "the answer was cut at the {}-token output limit",
                request.max_tokens
            )];
            if attempts > max_repairs {
                return Err(ForcedToolError::Invalid { attempts, errors });
            }
            retry_after_truncation(&mut request);
            continue;
        }
        let malformed = response
            .malformed_tool_calls
            .iter()
            .find(|c| c.name == tool);
        let unknown = |name: &str| format!("unknown tool `{name}`: only {tool} exists");
        let (errors, next): (Vec<String>, Vec<Message>) = match (call, malformed) {
            (Some(call), _) => match check(&call.arguments) {
                Ok(value) => return Ok(value),
                Err(errors) => {
                    // Every call of the turn needs its result: answer other calls too.
                    let mut results = vec![ToolResult::error(
                        call.id.clone(),
                        rejection_text(tool, &errors),
                    )];
                    for other in response.tool_calls.iter().filter(|c| c.id != call.id) {
                        results.push(ToolResult::error(other.id.clone(), unknown(&other.name)));
                    }
                    (
                        errors,
                        vec![response.to_message(), Message::tool_results(results)],
                    )
                }
            },
            (None, Some(bad)) => {
                let errors = vec![format!(
                    "the {tool} arguments were not valid JSON: {}",
                    bad.error
                )];
                // The malformed call cannot be replayed: answer as text.
                (
                    errors.clone(),
                    vec![
                        Message::assistant(non_blank(&response.text, "(invalid tool call)")),
                        Message::user(rejection_text(tool, &errors)),
                    ],
                )
            }
            (None, None) => {
                let errors = vec![format!("the model did not call {tool}")];
                let mut assistant = response.to_message();
                if assistant.content.is_empty() {
                    assistant = Message::assistant("(no answer)");
                }
                // Calls to other tools (none are offered) still need results.
                let mut user: Vec<Part> = response
                    .tool_calls
                    .iter()
                    .map(|c| Part::ToolResult(ToolResult::error(c.id.clone(), unknown(&c.name))))
                    .collect();
                user.push(Part::Text(format!(
                    "You must call the {tool} tool; a text answer is not accepted."
                )));
                (
                    errors,
                    vec![
                        assistant,
                        Message {
                            role: Role::User,
                            content: user,
                        },
                    ],
                )
            }
        };
        if attempts > max_repairs {
            return Err(ForcedToolError::Invalid { attempts, errors });
        }
        request.messages.extend(next);
    }
}

fn rejection_text(tool: &str, errors: &[String]) -> String {
    let mut m = String::from("Rejected:\n");
    for e in errors {
        let _ = writeln!(m, "- {e}");
    }
    let _ = write!(m, "Call {tool} again with the whole corrected answer.");
    m
}

fn non_blank(text: &str, fallback: &str) -> String {
    if text.trim().is_empty() {
        fallback.into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64) -> Usage {
        Usage {
            input,
            output,
            cache_read: 0,
            cache_write: 0,
            estimated: false,
        }
    }

    #[test]
    fn model_usage_merge_keeps_unknown_prices_unknown() {
        let mut m = ModelUsage::default();
        m.add_call(
            &Usage {
                input: 10,
                output: 2,
                cache_read: 0,
                cache_write: 0,
                estimated: false,
            },
            Some(0.5),
        );
        m.add_call(&Usage::default(), Some(0.25));
        assert_eq!(m.calls, 2);
        assert_eq!(m.cost_usd, Some(0.75));
        m.add_call(&Usage::default(), None);
        assert_eq!(m.cost_usd, None);
        assert_eq!(m.usage.input, 10);
    }

    #[test]
    fn an_empty_tally_takes_the_others_price() {
        let mut empty = ModelUsage::default();
        empty.merge(&ModelUsage {
            calls: 1,
            usage: usage(1, 1),
            cost_usd: None,
        });
        assert_eq!(empty.cost_usd, None);
        let mut empty = ModelUsage::default();
        empty.merge(&ModelUsage {
            calls: 2,
            usage: usage(1, 1),
            cost_usd: Some(0.5),
        });
        assert_eq!((empty.calls, empty.cost_usd), (2, Some(0.5)));
    }

    #[test]
    fn call_stats_sum_models_and_know_when_a_price_is_missing() {
        let mut s = CallStats::default();
        assert_eq!(s.cost_usd(), Some(0.0), "nothing answered costs nothing");
        s.by_model
            .entry("a".into())
            .or_default()
            .add_call(&usage(100, 10), Some(1.0));
        s.by_model
            .entry("b".into())
            .or_default()
            .add_call(&usage(50, 5), Some(0.5));
        assert_eq!(s.usage(), usage(150, 15));
        assert_eq!(s.cost_usd(), Some(1.5));
        s.by_model
            .entry("c".into())
            .or_default()
            .add_call(&usage(1, 1), None);
        assert_eq!(s.cost_usd(), None);
    }
}
