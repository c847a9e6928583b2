//! The bounded agent loop: one user turn = model calls and tool calls until the model gives a
//! final answer, a terminal tool has run, or a bound is hit.
//!
//! Knows nothing about cycling: it sends the system prompt (cacheable), the history and the
//! [`ToolBox`]'s definitions through any [`llm::Provider`], streams the text to the caller as it
//! arrives, runs the calls of a response (independent calls in parallel), and answers every call
//! — including malformed arguments, unknown tools and failing tools — with a result the model can
//! act on. The caller's history is only changed when the turn succeeds, so an error or a
//! cancelled turn (the future dropped, e.g. on Ctrl-C) leaves every earlier turn intact.
//!
//! A call repeated with the same tool and the same arguments (compared as canonical JSON) —
//! within the turn or anywhere in the session's history — is answered from the first result
//! instead of running again; a call to a tool that [`ToolBox::mutates`] makes earlier results
//! stale, so they are not reused after it.
//!
//! Context: the request size is estimated at one token per four bytes of its JSON (a deliberately
//! rough, provider-neutral figure that over- rather than under-estimates for English and JSON);
//! when it would pass [`COMPACT_AT`] of the model's context window, the oldest tool results are
//! replaced by a short summary, never those of the last round.

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use llm::log::InteractionLog;
use llm::{
    CacheHints, Catalog, Folded, FoldedCall, LlmError, MalformedToolCall, Message, Meter, Part,
    Provider, Request, Role, StopReason, ToolCall, ToolChoice, ToolDef, ToolOutput, ToolResult,
    Usage,
};
use serde_json::{Value, json};

use crate::toolbox::{ToolBox, ToolError, ToolSuccess};

/// Share of the context window the estimated request (plus the output budget) may fill before
/// older tool results are compacted.
pub const COMPACT_AT: f64 = 0.70;
/// Context window assumed for a model the catalog does not know (and no configured window):
/// small enough to be safe for local models.
pub const FALLBACK_CONTEXT_WINDOW: u64 = 32_000;
/// How many characters of a compacted tool result are kept as its summary.
pub const COMPACT_SUMMARY_CHARS: usize = 200;

/// Bounds and sampling of a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    /// Model calls per user turn.
    pub max_rounds: u32,
    /// Tokens per user turn, summed over its model calls: input + output + cache reads + cache
    /// writes (everything the provider processed).
    pub max_turn_tokens: u64,
    /// Output tokens per model call.
    pub max_output_tokens: u32,
    pub temperature: Option<f32>,
    /// The model's context window in tokens; `None`: the catalog's figure for the model, else
    /// [`FALLBACK_CONTEXT_WINDOW`].
    pub context_window: Option<u64>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            max_rounds: 8,
            max_turn_tokens: 60_000,
            max_output_tokens: 2_000,
            temperature: None,
            context_window: None,
        }
    }
}

/// The agent: a provider, the tools and the fixed parts of every request.
pub struct Agent<'a> {
    pub provider: &'a dyn Provider,
    pub tools: &'a dyn ToolBox,
    pub catalog: &'a Catalog,
    /// Every model call is logged here when set.
    pub log: Option<&'a InteractionLog>,
    pub model: String,
    /// Byte-identical across turns so providers can cache it.
    pub system: String,
    pub config: AgentConfig,
}

/// What happens while a turn runs, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// Answer text, as it arrives.
    TextDelta(String),
    /// A tool call of the model's response is about to be answered. `arguments` is the parsed
    /// JSON, or the raw text as a JSON string when it was not valid JSON.
    ToolStarted {
        id: String,
        name: String,
        arguments: Value,
    },
    /// A call has been answered: `ok` false for an error result (the model is told), `reused`
    /// when the answer is the result of an identical earlier call.
    ToolFinished {
        id: String,
        name: String,
        elapsed: Duration,
        ok: bool,
        reused: bool,
    },
    /// A model call has finished.
    CallFinished { model_used: String, usage: Usage },
}

/// Why a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnStop {
    /// The model answered without calling tools.
    FinalAnswer,
    /// A terminal tool ran; its output ends the turn.
    TerminalTool { name: String, output: Value },
    /// `max_rounds` model calls were made and the model still called tools.
    RoundLimit,
    /// `max_turn_tokens` were used and the model still called tools.
    TokenLimit,
}

/// What a turn did.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    /// The final assistant text of the turn (the last model call's text).
    pub text: String,
    pub stop: TurnStop,
    /// Keyed by the model that actually answered.
    pub usage_by_model: BTreeMap<String, llm::ModelUsage>,
    pub model_calls: u32,
    /// Tool calls answered (malformed, unknown and reused ones included).
    pub tool_calls: u32,
    /// A clear explanation when the turn was stopped by a bound or the answer was cut short.
    pub message: Option<String>,
    /// Problems that did not fail the turn (e.g. the interaction log could not be written).
    pub warnings: Vec<String>,
}

impl TurnOutcome {
    /// Total cost of the turn; `None` when any model's price is unknown.
    pub fn cost_usd(&self) -> Option<f64> {
        self.usage_by_model
            .values()
            .map(|u| u.cost_usd)
            .sum::<Option<f64>>()
    }

    /// Total usage of the turn over all models.
    pub fn usage(&self) -> Usage {
        let mut total = Usage::default();
        for u in self.usage_by_model.values() {
            total.add(&u.usage);
        }
        total
    }
}

/// Why a turn failed. The caller's history is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// `ToolChoice::Tool(name)` names a tool that is not offered.
    #[error("forced tool choice `{name}` is not one of the tools offered ({offered})")]
    UnknownForcedTool { name: String, offered: String },
}

/// Estimated tokens of a request: its system prompt, tool definitions and messages serialised
/// as JSON, at four bytes per token.
pub fn estimate_tokens(system: &str, tools: &[ToolDef], messages: &[Message]) -> u64 {
    let bytes = system.len()
        + serde_json::to_string(tools).map_or(0, |s| s.len())
        + serde_json::to_string(messages).map_or(0, |s| s.len());
    bytes.div_ceil(4) as u64
}

/// Replace the oldest tool results by `{"compacted": true, "summary": …}` until the estimated
/// request (`fixed_tokens` for the system prompt, tools and output budget, plus the messages)
/// fits in `limit_tokens`. The results of the last message that holds any are never touched.
/// Returns how many results were compacted.
pub fn compact_tool_results(
    messages: &mut [Message],
    fixed_tokens: u64,
    limit_tokens: u64,
) -> usize {
    let mut bytes = serde_json::to_string(&*messages).map_or(0, |s| s.len()) as u64;
    let over = |bytes: u64| fixed_tokens + bytes.div_ceil(4) > limit_tokens;
    if !over(bytes) {
        return 0;
    }
    let last_round = messages
        .iter()
        .rposition(|m| m.content.iter().any(|p| matches!(p, Part::ToolResult(_))));
    let mut compacted = 0;
    for (i, m) in messages.iter_mut().enumerate() {
        if Some(i) == last_round {
            break;
        }
        for part in &mut m.content {
            let Part::ToolResult(r) = part else { continue };
            if is_compacted(&r.output) {
                continue;
            }
            let before = output_len(&r.output);
            r.output = ToolOutput::Json(json!({
                "compacted": true,
                "summary": summary_of(&r.output),
            }));
            bytes = bytes
                .saturating_sub(before)
                .saturating_add(output_len(&r.output));
            compacted += 1;
            if !over(bytes) {
                return compacted;
            }
        }
    }
    compacted
}

fn output_text(output: &ToolOutput) -> String {
    match output {
        ToolOutput::Json(v) => v.to_string(),
        ToolOutput::Text(t) => t.clone(),
    }
}

fn output_len(output: &ToolOutput) -> u64 {
    serde_json::to_string(output).map_or(0, |s| s.len()) as u64
}

fn summary_of(output: &ToolOutput) -> String {
    let text = output_text(output);
    let mut summary: String = text.chars().take(COMPACT_SUMMARY_CHARS).collect();
    if summary.len() < text.len() {
        summary.push('…');
    }
    summary
}

fn is_compacted(output: &ToolOutput) -> bool {
    matches!(output, ToolOutput::Json(v) if v.get("compacted") == Some(&Value::Bool(true)))
}

/// JSON with object keys sorted at every level, so two calls with the same arguments in a
/// different key order are recognised as identical (independent of serde_json's map features).
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&map[k], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The assistant turn of a folded response: the text, then every call in order. A malformed
/// call is kept with empty arguments so its error result pairs up with it (providers require
/// every result to answer a call of the preceding turn, and an object as the call's input).
fn assistant_message(folded: &Folded) -> Message {
    let mut content = Vec::new();
    if !folded.text.trim().is_empty() {
        content.push(Part::Text(folded.text.clone()));
    }
    for c in &folded.calls {
        content.push(Part::ToolCall(match c {
            FoldedCall::Valid(c) => c.clone(),
            FoldedCall::Malformed(m) => ToolCall {
                id: m.id.clone(),
                name: m.name.clone(),
                arguments: json!({}),
            },
        }));
    }
    Message {
        role: Role::Assistant,
        content,
    }
}

/// A cached answer to a call.
#[derive(Clone)]
struct Cached {
    output: ToolOutput,
    is_error: bool,
}

type CallKey = (String, String);

fn call_key(name: &str, arguments: &Value) -> CallKey {
    (name.to_string(), canonical_json(arguments))
}

/// Earlier results by (tool, canonical arguments). Cleared after a call to a tool that mutates.
#[derive(Default)]
struct ReuseCache {
    entries: HashMap<CallKey, Cached>,
}

impl ReuseCache {
    /// The successful, uncompacted results of the session's history, in order; a successful
    /// call to a mutating tool invalidates what came before it.
    fn from_history(history: &[Message], tools: &dyn ToolBox) -> Self {
        let mut cache = Self::default();
        let mut calls: HashMap<&str, &ToolCall> = HashMap::new();
        for m in history {
            for p in &m.content {
                match p {
                    Part::ToolCall(c) => {
                        calls.insert(c.id.as_str(), c);
                    }
                    Part::ToolResult(r) => {
                        let Some(c) = calls.remove(r.call_id.as_str()) else {
                            continue;
                        };
                        if r.is_error || is_compacted(&r.output) {
                            continue;
                        }
                        if tools.mutates(&c.name) {
                            cache.entries.clear();
                        }
                        cache.entries.insert(
                            call_key(&c.name, &c.arguments),
                            Cached {
                                output: r.output.clone(),
                                is_error: false,
                            },
                        );
                    }
                    Part::Text(_) => {}
                }
            }
        }
        cache
    }
}

/// The answer to one call of a round.
struct Answer {
    result: ToolResult,
    /// The output of a terminal tool.
    terminal: Option<Value>,
}

impl Agent<'_> {
    /// Run one user turn. `history` is the conversation so far (without the system prompt); on
    /// success the user message, every assistant/tool-result message of the turn and the final
    /// answer are appended to it (older tool results may have been compacted); on error (or if
    /// the future is dropped, e.g. Ctrl-C) `history` is left exactly as it was.
    pub async fn run_turn(
        &self,
        history: &mut Vec<Message>,
        user: Message,
        tool_choice: ToolChoice,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Result<TurnOutcome, AgentError> {
        let defs = self.tools.definitions();
        let offered: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        if let ToolChoice::Tool(name) = &tool_choice
            && !offered.contains(&name.as_str())
        {
            return Err(AgentError::UnknownForcedTool {
                name: name.clone(),
                offered: offered.join(", "),
            });
        }
        let mut work = history.clone();
        work.push(user);
        let mut cache = ReuseCache::from_history(history, self.tools);
        let mut choice = tool_choice;
        let mut outcome = TurnOutcome {
            text: String::new(),
            stop: TurnStop::FinalAnswer,
            usage_by_model: BTreeMap::new(),
            model_calls: 0,
            tool_calls: 0,
            message: None,
            warnings: Vec::new(),
        };
        let mut meter = Meter::new(self.provider, self.catalog, self.log);
        let mut turn_tokens: u64 = 0;
        let mut calls_by_tool: BTreeMap<String, u32> = BTreeMap::new();
        let mut last_round: Vec<String> = Vec::new();
        let window = self.context_window();
        let limit = (window as f64 * COMPACT_AT) as u64;
        let fixed =
            estimate_tokens(&self.system, &defs, &[]) + u64::from(self.config.max_output_tokens);

        loop {
            if outcome.model_calls > 0 {
                // Only reached when the previous response called tools.
                if outcome.model_calls >= self.config.max_rounds {
                    outcome.stop = TurnStop::RoundLimit;
                    outcome.message = Some(format!(
                        "stopped after {} model calls without a final answer: the model kept calling tools (last: {})",
                        outcome.model_calls,
                        describe_last(&last_round, &calls_by_tool)
                    ));
                    break;
                }
                if turn_tokens >= self.config.max_turn_tokens {
                    outcome.stop = TurnStop::TokenLimit;
                    outcome.message = Some(format!(
                        "stopped after {} model calls without a final answer: this turn used {turn_tokens} tokens, the budget is {} (max_turn_tokens); the model was still calling tools (last: {})",
                        outcome.model_calls,
                        self.config.max_turn_tokens,
                        describe_last(&last_round, &calls_by_tool)
                    ));
                    break;
                }
            }
            compact_tool_results(&mut work, fixed, limit);
            let request = Request {
                model: self.model.clone(),
                system: Some(self.system.clone()).filter(|s| !s.is_empty()),
                messages: work.clone(),
                tools: defs.clone(),
                tool_choice: if defs.is_empty() {
                    ToolChoice::Auto
                } else {
                    choice.clone()
                },
                max_tokens: self.config.max_output_tokens,
                temperature: self.config.temperature,
                top_p: None,
                structured_output: None,
                cache: CacheHints {
                    system: true,
                    tools: true,
                },
            };
            let folded = meter
                .stream(&request, &mut |t| {
                    on_event(AgentEvent::TextDelta(t.to_string()))
                })
                .await?;
            outcome.model_calls += 1;
            turn_tokens += folded.usage.total();
            on_event(AgentEvent::CallFinished {
                model_used: folded.model_used.clone(),
                usage: folded.usage,
            });
            let assistant = assistant_message(&folded);
            if !assistant.content.is_empty() {
                work.push(assistant);
            }
            outcome.text = folded.text.clone();
            if folded.calls.is_empty() {
                outcome.stop = TurnStop::FinalAnswer;
                outcome.message =
                    cut_short_message(&folded.stop_reason, self.config.max_output_tokens);
                break;
            }
            // A forced choice has done its job once the model called what it was forced to.
            let satisfied = match &choice {
                ToolChoice::Any => true,
                ToolChoice::Tool(name) => folded.calls.iter().any(|c| c.name() == name),
                ToolChoice::Auto | ToolChoice::None => false,
            };
            if satisfied {
                choice = ToolChoice::Auto;
            }
            last_round = folded.calls.iter().map(|c| c.name().to_string()).collect();
            for name in &last_round {
                *calls_by_tool.entry(name.clone()).or_default() += 1;
            }
            outcome.tool_calls += folded.calls.len() as u32;
            let answers = self.answer_calls(&folded.calls, &offered, &mut cache, on_event);
            let terminal = folded
                .calls
                .iter()
                .zip(&answers)
                .find_map(|(c, a)| a.terminal.clone().map(|o| (c.name().to_string(), o)));
            work.push(Message::tool_results(
                answers.into_iter().map(|a| a.result).collect(),
            ));
            if let Some((name, output)) = terminal {
                outcome.stop = TurnStop::TerminalTool { name, output };
                break;
            }
        }
        outcome.usage_by_model = meter.stats.by_model;
        outcome.warnings.extend(
            meter
                .stats
                .log_errors
                .into_iter()
                .map(|e| format!("the call was not logged: {e}")),
        );
        *history = work;
        Ok(outcome)
    }

    /// The context window used for compaction: the configured one, else the catalog's for this
    /// provider and model, else the same model's under another provider (a replay asks for
    /// the model it recorded), else [`FALLBACK_CONTEXT_WINDOW`].
    pub fn context_window(&self) -> u64 {
        let model = self.model.as_str();
        let base = llm::catalog::split_model_ref(model).base_id;
        self.config
            .context_window
            .or_else(|| {
                self.catalog
                    .price_entry(self.provider.name(), model)
                    .and_then(|(e, _)| e.context_window)
            })
            .or_else(|| {
                self.catalog
                    .models
                    .iter()
                    .filter(|m| {
                        m.id == model || m.id == base || m.aliases.iter().any(|a| a == model)
                    })
                    .find_map(|m| m.context_window)
            })
            .unwrap_or(FALLBACK_CONTEXT_WINDOW)
    }

    /// Answer every call of a response, in call order: malformed and unknown calls get an error
    /// result, repeated calls the first result, and the others run — in parallel, unless a
    /// tool that mutates is among them (then one after the other, in order).
    fn answer_calls(
        &self,
        calls: &[FoldedCall],
        offered: &[&str],
        cache: &mut ReuseCache,
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Vec<Answer> {
        for c in calls {
            on_event(AgentEvent::ToolStarted {
                id: c.id().to_string(),
                name: c.name().to_string(),
                arguments: match c {
                    FoldedCall::Valid(c) => c.arguments.clone(),
                    FoldedCall::Malformed(m) => Value::String(m.raw_arguments.clone()),
                },
            });
        }
        let mut answers: Vec<Option<Answer>> = (0..calls.len()).map(|_| None).collect();
        // Rejections first: they need nothing to run.
        let mut runnable: Vec<(usize, &ToolCall)> = Vec::new();
        for (i, c) in calls.iter().enumerate() {
            let rejected = match c {
                FoldedCall::Malformed(m) => Some(malformed_message(m)),
                FoldedCall::Valid(c) if !offered.contains(&c.name.as_str()) => Some(
                    ToolError::UnknownTool {
                        name: c.name.clone(),
                        offered: offered.join(", "),
                    }
                    .to_string(),
                ),
                FoldedCall::Valid(c) => {
                    runnable.push((i, c));
                    None
                }
            };
            if let Some(message) = rejected {
                on_event(AgentEvent::ToolFinished {
                    id: c.id().to_string(),
                    name: c.name().to_string(),
                    elapsed: Duration::ZERO,
                    ok: false,
                    reused: false,
                });
                answers[i] = Some(Answer {
                    result: ToolResult::error(c.id(), message),
                    terminal: None,
                });
            }
        }
        // Batches that may run together: a mutating call runs alone, after what precedes it.
        let sequential = runnable.iter().any(|(_, c)| self.tools.mutates(&c.name));
        let batches: Vec<Vec<(usize, &ToolCall)>> = if sequential {
            runnable.into_iter().map(|r| vec![r]).collect()
        } else {
            vec![runnable]
        };
        for batch in batches {
            // Answer repeats from the cache or from the first identical call of the batch.
            let mut to_run: Vec<(usize, &ToolCall)> = Vec::new();
            let mut same_as: Vec<(usize, usize)> = Vec::new();
            let mut first_in_batch: HashMap<CallKey, usize> = HashMap::new();
            for (i, c) in batch {
                let key = call_key(&c.name, &c.arguments);
                if let Some(hit) = cache.entries.get(&key) {
                    answers[i] = Some(reused_answer(c, hit, on_event));
                } else if let Some(&first) = first_in_batch.get(&key) {
                    same_as.push((i, first));
                } else {
                    first_in_batch.insert(key, i);
                    to_run.push((i, c));
                }
            }
            let ran = self.run_parallel(&to_run, on_event);
            for ((i, c), (success, result)) in to_run.iter().zip(ran) {
                let key = call_key(&c.name, &c.arguments);
                let terminal = success
                    .as_ref()
                    .filter(|s| s.terminal)
                    .map(|s| s.output.clone());
                if self.tools.mutates(&c.name) && !result.is_error {
                    cache.entries.clear();
                }
                // A terminal call ends the turn; it is not an answer to reuse.
                if terminal.is_none() {
                    cache.entries.insert(
                        key,
                        Cached {
                            output: result.output.clone(),
                            is_error: result.is_error,
                        },
                    );
                }
                answers[*i] = Some(Answer { result, terminal });
            }
            for (i, first) in same_as {
                let FoldedCall::Valid(c) = &calls[i] else {
                    continue;
                };
                let Some(first) = answers[first].as_ref() else {
                    continue;
                };
                let hit = Cached {
                    output: first.result.output.clone(),
                    is_error: first.result.is_error,
                };
                answers[i] = Some(reused_answer(c, &hit, on_event));
            }
        }
        answers
            .into_iter()
            .zip(calls)
            .map(|(a, c)| {
                // Every slot was filled above; a gap would be a bug here, so answer it rather
                // than leave the call without a result (the providers reject that).
                a.unwrap_or_else(|| Answer {
                    result: ToolResult::error(c.id(), "internal error: the call was not answered"),
                    terminal: None,
                })
            })
            .collect()
    }

    /// Run calls (each on its own thread when there are several) and report each as it ends.
    /// `ToolBox::call` is blocking: on a multi-threaded runtime this runs in `block_in_place`
    /// so the runtime's other tasks keep going.
    fn run_parallel(
        &self,
        calls: &[(usize, &ToolCall)],
        on_event: &mut (dyn FnMut(AgentEvent) + Send),
    ) -> Vec<(Option<ToolSuccess>, ToolResult)> {
        if calls.is_empty() {
            return Vec::new();
        }
        let tools = self.tools;
        let mut work = move || {
            let mut out: Vec<Option<(Option<ToolSuccess>, ToolResult)>> =
                (0..calls.len()).map(|_| None).collect();
            let mut finish = |k: usize, r: Result<ToolSuccess, String>, elapsed: Duration| {
                let c = calls[k].1;
                on_event(AgentEvent::ToolFinished {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    elapsed,
                    ok: r.is_ok(),
                    reused: false,
                });
                out[k] = Some(match r {
                    Ok(s) => {
                        let result = ToolResult::json(c.id.clone(), s.output.clone());
                        (Some(s), result)
                    }
                    Err(message) => (None, ToolResult::error(c.id.clone(), message)),
                });
            };
            if calls.len() == 1 {
                let started = Instant::now();
                let r = run_one(tools, calls[0].1);
                finish(0, r, started.elapsed());
            } else {
                std::thread::scope(|s| {
                    let (tx, rx) = mpsc::channel();
                    for (k, (_, c)) in calls.iter().enumerate() {
                        let tx = tx.clone();
                        s.spawn(move || {
                            let started = Instant::now();
                            let r = run_one(tools, c);
                            // The receiver outlives every sender inside the scope.
                            let _ = tx.send((k, r, started.elapsed()));
                        });
                    }
                    drop(tx);
                    for (k, r, elapsed) in rx {
                        finish(k, r, elapsed);
                    }
                });
            }
            out.into_iter()
                .zip(calls)
                .map(|(o, (_, c))| {
                    o.unwrap_or_else(|| {
                        (
                            None,
                            ToolResult::error(c.id.clone(), format!("{} did not finish", c.name)),
                        )
                    })
                })
                .collect::<Vec<_>>()
        };
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            tokio::task::block_in_place(work)
        } else {
            work()
        }
    }
}

/// Run one call; a tool that panics becomes an error result instead of taking the turn down.
fn run_one(tools: &dyn ToolBox, c: &ToolCall) -> Result<ToolSuccess, String> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| tools.call(&c.name, &c.arguments))) {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("{} failed: internal error ({what})", c.name))
        }
    }
}

fn reused_answer(
    c: &ToolCall,
    hit: &Cached,
    on_event: &mut (dyn FnMut(AgentEvent) + Send),
) -> Answer {
    on_event(AgentEvent::ToolFinished {
        id: c.id.clone(),
        name: c.name.clone(),
        elapsed: Duration::ZERO,
        ok: !hit.is_error,
        reused: true,
    });
    Answer {
        result: ToolResult {
            call_id: c.id.clone(),
            output: hit.output.clone(),
            is_error: hit.is_error,
        },
        terminal: None,
    }
}

fn malformed_message(m: &MalformedToolCall) -> String {
    let mut raw: String = m.raw_arguments.chars().take(200).collect();
    if raw.len() < m.raw_arguments.len() {
        raw.push('…');
    }
    format!(
        "invalid arguments for `{}`: {}; the call was not run. Arguments received: {raw:?}. Call the tool again with its arguments as one JSON object matching its schema.",
        m.name, m.error
    )
}

/// "get_activity ×5, get_zones ×1": the last round's tools with their counts in the turn.
fn describe_last(last_round: &[String], counts: &BTreeMap<String, u32>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for n in last_round {
        if !seen.contains(&n.as_str()) {
            seen.push(n);
        }
    }
    seen.iter()
        .map(|n| format!("{n} ×{}", counts.get(*n).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cut_short_message(stop: &StopReason, max_output_tokens: u32) -> Option<String> {
    match stop {
        StopReason::MaxTokens => Some(format!(
            "the answer was cut off at the output limit of {max_output_tokens} tokens"
        )),
        StopReason::ContentFiltered => {
            Some("the answer was stopped by the provider's content filter".into())
        }
        StopReason::GuardrailIntervened => Some("the answer was stopped by a guardrail".into()),
        StopReason::ContextWindowExceeded => {
            Some("the answer was cut off: the model's context window is full".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result_msg(id: &str, output: Value) -> Message {
        Message::tool_results(vec![ToolResult::json(id, output)])
    }

    fn call_msg(id: &str) -> Message {
        Message {
            role: Role::Assistant,
            content: vec![Part::ToolCall(ToolCall {
                id: id.into(),
                name: "t".into(),
                arguments: json!({}),
            })],
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": "s"}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn compaction_replaces_oldest_results_first_and_never_the_last_round() {
        let big = json!({"rows": "x".repeat(4000)});
        let mut ms = vec![
            Message::user("q"),
            call_msg("a"),
            result_msg("a", big.clone()),
            call_msg("b"),
            result_msg("b", big.clone()),
            call_msg("c"),
            result_msg("c", big.clone()),
        ];
        let total = estimate_tokens("", &[], &ms);
        // Room for the messages minus 800 tokens: compacting one ~1000-token result suffices.
        let n = compact_tool_results(&mut ms, 0, total - 800);
        assert_eq!(n, 1);
        let out = |m: &Message| match &m.content[0] {
            Part::ToolResult(r) => r.output.clone(),
            _ => panic!(),
        };
        let first = out(&ms[2]);
        assert!(is_compacted(&first), "{first:?}");
        let ToolOutput::Json(v) = first else { panic!() };
        assert_eq!(
            v["summary"].as_str().unwrap().chars().count(),
            COMPACT_SUMMARY_CHARS + 1
        );
        assert!(
            v["summary"]
                .as_str()
                .unwrap()
                .starts_with("{\"rows\":\"xxx")
        );
        assert_eq!(out(&ms[4]), ToolOutput::Json(big.clone()));
        // Impossible budget: everything but the last round is compacted.
        let n = compact_tool_results(&mut ms, 0, 1);
        assert_eq!(n, 1, "only b was left to compact");
        assert!(is_compacted(&out(&ms[4])));
        assert_eq!(out(&ms[6]), ToolOutput::Json(big));
        assert!(estimate_tokens("", &[], &ms) < total / 2);
    }

    #[test]
    fn describe_last_counts_the_whole_turn() {
        let mut counts = BTreeMap::new();
        counts.insert("get_activity".to_string(), 5);
        counts.insert("zones".to_string(), 1);
        assert_eq!(
            describe_last(
                &["get_activity".into(), "zones".into(), "get_activity".into()],
                &counts
            ),
            "get_activity ×5, zones ×1"
        );
    }
}
