//! The agent loop against the real providers and their loopback fakes: Bedrock through the real
//! AWS SDK client and Anthropic over HTTP + SSE. Every scenario runs against both; the tools are
//! scripted (the coach's own tools are tested on their own).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use agent::toolbox::{ToolBox, ToolError, ToolSuccess};
use agent::turn::{Agent, AgentConfig, AgentError, AgentEvent, TurnOutcome, TurnStop};
use futures::StreamExt;
use llm::bedrock::BedrockOptions;
use llm::log::InteractionLog;
use llm::replay::ReplayProvider;
use llm::testing::fake_anthropic::{self, FakeAnthropic};
use llm::testing::{FakeBedrock, Frame, ModelReply, Reply, SseReply};
use llm::{
    Catalog, LlmError, Message, Part, Provider, Role, ToolChoice, ToolDef, ToolOutput, ToolResult,
    Usage,
};
use serde_json::{Value, json};

// ---- scripted tools ----

/// Tools with fixed answers. `rendezvous` calls must be running at the same time before any of
/// them returns (waiting at most two seconds), which proves they run in parallel.
struct Scripted {
    rendezvous: usize,
    arrived: Mutex<usize>,
    all_arrived: Condvar,
    running: AtomicUsize,
    max_running: AtomicUsize,
    calls: Mutex<Vec<(String, Value)>>,
    /// State changed by `set_ftp` (a tool that mutates) and read by `get_zones`.
    ftp_w: Mutex<u32>,
}

impl Scripted {
    fn new(rendezvous: usize) -> Self {
        Self {
            rendezvous,
            arrived: Mutex::new(0),
            all_arrived: Condvar::new(),
            running: AtomicUsize::new(0),
            max_running: AtomicUsize::new(0),
            calls: Mutex::new(Vec::new()),
            ftp_w: Mutex::new(250),
        }
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }

    fn count(&self, name: &str) -> usize {
        self.calls().iter().filter(|(n, _)| n == name).count()
    }
}

fn def(name: &str, description: &str, schema: Value) -> ToolDef {
    ToolDef {
        name: name.into(),
        description: description.into(),
        schema,
    }
}

impl ToolBox for Scripted {
    fn definitions(&self) -> Vec<ToolDef> {
        vec![
            def(
                "weekly_volume",
                "Hours and distance per week.",
                json!({"type": "object", "properties": {"weeks": {"type": "integer"}, "sport": {"type": "string"}, "pad": {"type": "integer"}}}),
            ),
            def(
                "fitness_trend",
                "CTL/ATL/TSB over a range.",
                json!({"type": "object", "properties": {"days": {"type": "integer"}, "pad": {"type": "integer"}}}),
            ),
            def(
                "get_activity",
                "One activity in detail.",
                json!({"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}),
            ),
            def(
                "finish_plan",
                "Finish the plan overview (ends the turn).",
                json!({"type": "object", "properties": {"weeks": {"type": "integer"}}}),
            ),
            def(
                "get_zones",
                "Power zones for the current FTP.",
                json!({"type": "object", "properties": {}}),
            ),
            def(
                "set_ftp",
                "Change the athlete's FTP.",
                json!({"type": "object", "properties": {"ftp_w": {"type": "integer"}}, "required": ["ftp_w"]}),
            ),
        ]
    }

    fn mutates(&self, name: &str) -> bool {
        name == "set_ftp"
    }

    fn call(&self, name: &str, arguments: &Value) -> Result<ToolSuccess, ToolError> {
        self.calls
            .lock()
            .unwrap()
            .push((name.to_string(), arguments.clone()));
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        if self.rendezvous > 1 {
            let mut arrived = self.arrived.lock().unwrap();
            *arrived += 1;
            self.all_arrived.notify_all();
            let (_guard, _timeout) = self
                .all_arrived
                .wait_timeout_while(arrived, Duration::from_secs(2), |n| *n < self.rendezvous)
                .unwrap();
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        // `pad` makes a large result (for the compaction scenario).
        let pad = "x".repeat(arguments["pad"].as_u64().unwrap_or(0) as usize);
        match name {
            "weekly_volume" => Ok(ToolSuccess {
                output: json!({"weeks": arguments["weeks"], "hours_per_week": [9.5, 11.0, 12.5], "pad": pad}),
                terminal: false,
            }),
            "fitness_trend" => Ok(ToolSuccess {
                output: json!({"ctl": 61.2, "atl": 70.4, "tsb": -9.2, "pad": pad}),
                terminal: false,
            }),
            "get_activity" => match arguments["id"].as_i64() {
                Some(id) if id > 0 => Ok(ToolSuccess {
                    output: json!({"id": id, "name": "Tempo", "duration_min": 75}),
                    terminal: false,
                }),
                _ => Err(ToolError::InvalidArguments {
                    tool: name.into(),
                    message: "`id` must be a positive integer".into(),
                }),
            },
            "finish_plan" => Ok(ToolSuccess {
                output: json!({"saved": true, "weeks": arguments["weeks"]}),
                terminal: true,
            }),
            "get_zones" => {
                let ftp = *self.ftp_w.lock().unwrap();
                Ok(ToolSuccess {
                    output: json!({"ftp_w": ftp, "z2_w": [ftp * 56 / 100, ftp * 75 / 100]}),
                    terminal: false,
                })
            }
            "set_ftp" => {
                let ftp = arguments["ftp_w"].as_u64().unwrap() as u32;
                *self.ftp_w.lock().unwrap() = ftp;
                Ok(ToolSuccess {
                    output: json!({"ftp_w": ftp, "saved": true}),
                    terminal: false,
                })
            }
            other => panic!("the agent must not call unknown tool {other}"),
        }
    }
}

// ---- providers and fakes ----

enum Fake {
    Bedrock(FakeBedrock),
    Anthropic(FakeAnthropic),
}

struct H {
    fake: Fake,
    provider: Box<dyn Provider>,
    model: &'static str,
    model_used: &'static str,
    catalog: Catalog,
}

impl H {
    async fn bedrock() -> H {
        let fake = FakeBedrock::start().await;
        let provider = fake.provider(BedrockOptions::default()).await;
        H {
            fake: Fake::Bedrock(fake),
            provider: Box::new(provider),
            model: "claude-haiku-4.5",
            model_used: "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            catalog: Catalog::builtin(),
        }
    }

    async fn anthropic() -> H {
        let fake = fake_anthropic::start().await;
        let provider = fake.provider(3);
        H {
            fake: Fake::Anthropic(fake),
            provider: Box::new(provider),
            model: "claude-haiku-4.5",
            model_used: "claude-haiku-4-5-20251001",
            catalog: Catalog::builtin(),
        }
    }

    fn push(&self, reply: ModelReply) {
        match &self.fake {
            Fake::Bedrock(f) => f.push(Reply::Model(reply)),
            Fake::Anthropic(f) => f.push(SseReply::Model(reply)),
        }
    }

    /// Stream the reply's first three text deltas, then drop the connection mid-answer.
    fn push_cut(&self, reply: ModelReply) {
        match &self.fake {
            Fake::Bedrock(f) => {
                let mut frames = reply.frames();
                frames.truncate(4);
                frames.push(Frame::Cut);
                f.push(Reply::Frames(frames));
            }
            // message_start, ping, content_block_start, then three deltas.
            Fake::Anthropic(f) => f.push(SseReply::CutAfter(reply, 6)),
        }
    }

    fn bodies(&self) -> Vec<Value> {
        match &self.fake {
            Fake::Bedrock(f) => f.requests().into_iter().map(|r| r.body).collect(),
            Fake::Anthropic(f) => f.requests().into_iter().map(|r| r.body).collect(),
        }
    }

    fn rejections(&self) -> Vec<String> {
        match &self.fake {
            Fake::Bedrock(f) => f.rejections(),
            Fake::Anthropic(f) => f.rejections(),
        }
    }

    /// The tool choice a request body carries, provider-neutral: `auto` when none is sent.
    fn tool_choice(&self, body: &Value) -> String {
        match &self.fake {
            Fake::Bedrock(_) => {
                let c = &body["toolConfig"]["toolChoice"];
                if let Some(name) = c["tool"]["name"].as_str() {
                    format!("tool:{name}")
                } else if c.get("any").is_some() {
                    "any".into()
                } else {
                    "auto".into()
                }
            }
            Fake::Anthropic(_) => {
                let c = &body["tool_choice"];
                match c["type"].as_str() {
                    Some("tool") => format!("tool:{}", c["name"].as_str().unwrap_or("")),
                    Some(t) => t.to_string(),
                    None => "auto".into(),
                }
            }
        }
    }

    /// The system prompt and the tool definitions carry cache markers.
    fn caches_system_and_tools(&self, body: &Value) -> bool {
        match &self.fake {
            Fake::Bedrock(_) => {
                let system = body["system"].as_array().unwrap();
                let tools = body["toolConfig"]["tools"].as_array().unwrap();
                system[0]["text"] == "You are a cycling coach. Use the tools for numbers."
                    && system.last().unwrap().get("cachePoint").is_some()
                    && tools.last().unwrap().get("cachePoint").is_some()
            }
            Fake::Anthropic(_) => {
                let tools = body["tools"].as_array().unwrap();
                body["system"][0]["text"] == "You are a cycling coach. Use the tools for numbers."
                    && body["system"][0].get("cache_control").is_some()
                    && tools.last().unwrap().get("cache_control").is_some()
            }
        }
    }

    /// The tool results of a request's last message: (id, is_error, content as text).
    fn last_results(&self, body: &Value) -> Vec<(String, bool, String)> {
        let last = body["messages"].as_array().unwrap().last().unwrap();
        let content = last["content"].as_array().unwrap();
        match &self.fake {
            Fake::Bedrock(_) => content
                .iter()
                .filter_map(|b| b.get("toolResult"))
                .map(|r| {
                    (
                        r["toolUseId"].as_str().unwrap().to_string(),
                        r["status"] == "error",
                        r["content"][0].to_string(),
                    )
                })
                .collect(),
            Fake::Anthropic(_) => content
                .iter()
                .filter(|b| b["type"] == "tool_result")
                .map(|r| {
                    (
                        r["tool_use_id"].as_str().unwrap().to_string(),
                        r["is_error"] == true,
                        r["content"].to_string(),
                    )
                })
                .collect(),
        }
    }

    fn agent<'a>(&'a self, tools: &'a dyn ToolBox, config: AgentConfig) -> Agent<'a> {
        Agent {
            provider: &*self.provider,
            tools,
            catalog: &self.catalog,
            log: None,
            model: self.model.to_string(),
            system: "You are a cycling coach. Use the tools for numbers.".into(),
            config,
        }
    }
}

async fn turn(
    agent: &Agent<'_>,
    history: &mut Vec<Message>,
    question: &str,
    choice: ToolChoice,
) -> (Result<TurnOutcome, AgentError>, Vec<AgentEvent>) {
    let mut events = Vec::new();
    let r = agent
        .run_turn(history, Message::user(question), choice, &mut |e| {
            events.push(e)
        })
        .await;
    (r, events)
}

fn results_of(m: &Message) -> Vec<&ToolResult> {
    m.content
        .iter()
        .filter_map(|p| match p {
            Part::ToolResult(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn streamed_text(events: &[AgentEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

// ---- scenarios ----

async fn parallel_calls(h: H) {
    let tools = Scripted::new(2);
    let agent = h.agent(&tools, AgentConfig::default());
    h.push(ModelReply::tool_calls(&[
        ("t1", "weekly_volume", r#"{"weeks": 4}"#),
        ("t2", "fitness_trend", r#"{"days": 42}"#),
    ]));
    h.push(ModelReply::text("You rode 12.5 h last week; form is -9."));
    let mut history = Vec::new();
    let (r, events) = turn(&agent, &mut history, "How was my week?", ToolChoice::Auto).await;
    let out = r.unwrap();
    assert_eq!(h.rejections(), Vec::<String>::new());
    assert_eq!(out.stop, TurnStop::FinalAnswer);
    assert_eq!(out.text, "You rode 12.5 h last week; form is -9.");
    assert_eq!(
        streamed_text(&events),
        out.text,
        "text is streamed as it arrives"
    );
    assert_eq!((out.model_calls, out.tool_calls), (2, 2));
    assert_eq!(
        tools.max_running.load(Ordering::SeqCst),
        2,
        "both calls ran at the same time"
    );
    // History: question, the calls, ONE message with both results in call order, the answer.
    assert_eq!(history.len(), 4);
    assert_eq!(history[0], Message::user("How was my week?"));
    let results = results_of(&history[2]);
    assert_eq!(history[2].role, Role::User);
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].call_id, "t1");
    assert_eq!(results[1].call_id, "t2");
    assert_eq!(
        results[1].output,
        ToolOutput::Json(json!({"ctl": 61.2, "atl": 70.4, "tsb": -9.2, "pad": ""}))
    );
    assert_eq!(history[3], Message::assistant(out.text.clone()));
    // On the wire: the second request answers both calls in one user turn, in order.
    let bodies = h.bodies();
    assert_eq!(bodies.len(), 2);
    for b in &bodies {
        assert!(
            h.caches_system_and_tools(b),
            "cache markers: {}",
            b["system"]
        );
    }
    let wire: Vec<(String, bool)> = h
        .last_results(&bodies[1])
        .into_iter()
        .map(|(id, err, _)| (id, err))
        .collect();
    assert_eq!(wire, vec![("t1".into(), false), ("t2".into(), false)]);
    // Events: both started before either finished, none reused.
    let started: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolStarted { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(started, vec!["weekly_volume", "fitness_trend"]);
    let finished = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                AgentEvent::ToolFinished {
                    ok: true,
                    reused: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(finished, 2);
}

async fn malformed_and_unknown(h: H) {
    let tools = Scripted::new(1);
    let agent = h.agent(&tools, AgentConfig::default());
    h.push(ModelReply::tool_calls(&[
        ("m1", "weekly_volume", r#"{"weeks": 4"#),
        ("u1", "read_file", r#"{"path": "/etc/passwd"}"#),
        ("g1", "get_activity", r#"{"id": -3}"#),
        ("k1", "fitness_trend", r#"{"days": 7}"#),
    ]));
    h.push(ModelReply::text("Sorry, let me answer with what I have."));
    let mut history = Vec::new();
    let (r, events) = turn(&agent, &mut history, "Read my files", ToolChoice::Auto).await;
    let out = r.unwrap();
    assert_eq!(
        h.rejections(),
        Vec::<String>::new(),
        "ids pair up on the wire"
    );
    assert_eq!(out.stop, TurnStop::FinalAnswer);
    assert_eq!(out.tool_calls, 4);
    // Only the valid calls of known tools ran.
    let mut ran: Vec<String> = tools.calls().into_iter().map(|(n, _)| n).collect();
    ran.sort();
    assert_eq!(ran, vec!["fitness_trend", "get_activity"]);
    // The assistant turn keeps the malformed call (with empty arguments) so its result pairs.
    let call_ids: Vec<&str> = history[1]
        .content
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall(c) => Some(c.id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(call_ids, vec!["m1", "u1", "g1", "k1"]);
    let results = results_of(&history[2]);
    let flags: Vec<(&str, bool)> = results
        .iter()
        .map(|r| (r.call_id.as_str(), r.is_error))
        .collect();
    assert_eq!(
        flags,
        vec![("m1", true), ("u1", true), ("g1", true), ("k1", false)]
    );
    let text = |r: &ToolResult| match &r.output {
        ToolOutput::Text(t) => t.clone(),
        ToolOutput::Json(v) => v.to_string(),
    };
    let m1 = text(results[0]);
    assert!(
        m1.contains("invalid arguments for `weekly_volume`") && m1.contains("invalid JSON"),
        "{m1}"
    );
    assert!(
        m1.contains(r#"{\"weeks\": 4"#),
        "the raw arguments are quoted: {m1}"
    );
    let u1 = text(results[1]);
    assert!(u1.starts_with("unknown tool `read_file`"), "{u1}");
    assert!(
        u1.contains("weekly_volume, fitness_trend, get_activity, finish_plan"),
        "{u1}"
    );
    assert_eq!(
        text(results[2]),
        "invalid arguments for `get_activity`: `id` must be a positive integer"
    );
    // The model saw the three errors as errors.
    let wire = h.last_results(&h.bodies()[1]);
    let wire_flags: Vec<bool> = wire.iter().map(|(_, e, _)| *e).collect();
    assert_eq!(wire_flags, vec![true, true, true, false]);
    assert!(wire[1].2.contains("unknown tool"), "{:?}", wire[1]);
    let malformed_event = events.iter().find_map(|e| match e {
        AgentEvent::ToolStarted { id, arguments, .. } if id == "m1" => Some(arguments.clone()),
        _ => None,
    });
    assert_eq!(malformed_event, Some(json!(r#"{"weeks": 4"#)));
}

async fn repeated_call_runs_once(h: H) {
    let tools = Scripted::new(1);
    let agent = h.agent(&tools, AgentConfig::default());
    // Five identical calls (keys in another order once), one per response.
    for i in 0..5 {
        let args = if i == 2 {
            r#"{"sport": "ride", "weeks": 4}"#
        } else {
            r#"{"weeks": 4, "sport": "ride"}"#
        };
        let id = format!("r{i}");
        h.push(ModelReply::tool_calls(&[(&id, "weekly_volume", args)]));
    }
    h.push(ModelReply::text("Same numbers every time."));
    let mut history = Vec::new();
    let (r, events) = turn(&agent, &mut history, "Volume?", ToolChoice::Auto).await;
    let out = r.unwrap();
    assert_eq!(out.stop, TurnStop::FinalAnswer);
    assert_eq!((out.model_calls, out.tool_calls), (6, 5));
    assert_eq!(tools.count("weekly_volume"), 1, "run once");
    let reused = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                AgentEvent::ToolFinished {
                    reused: true,
                    ok: true,
                    ..
                }
            )
        })
        .count();
    assert_eq!(reused, 4);
    let outputs: Vec<ToolOutput> = history
        .iter()
        .flat_map(|m| results_of(m).into_iter().map(|r| r.output.clone()))
        .collect();
    assert_eq!(outputs.len(), 5);
    assert!(outputs.iter().all(|o| *o == outputs[0]));
    // Across turns too: the session's history answers it.
    h.push(ModelReply::tool_calls(&[(
        "r9",
        "weekly_volume",
        r#"{"weeks": 4, "sport": "ride"}"#,
    )]));
    h.push(ModelReply::text("Still the same."));
    let (r, _) = turn(&agent, &mut history, "And now?", ToolChoice::Auto).await;
    assert_eq!(r.unwrap().text, "Still the same.");
    assert_eq!(tools.count("weekly_volume"), 1);
    assert_eq!(h.rejections(), Vec::<String>::new());
}

async fn never_stops_is_bounded(h: H) {
    let tools = Scripted::new(1);
    let config = AgentConfig {
        max_rounds: 4,
        ..AgentConfig::default()
    };
    let agent = h.agent(&tools, config);
    // Exactly the four answers the bound lets through: a fifth call would get the text below.
    for i in 0..4 {
        let id = format!("a{i}");
        let args = format!(r#"{{"id": {}}}"#, i + 1);
        h.push(ModelReply::tool_calls(&[(&id, "get_activity", &args)]));
    }
    let mut history = Vec::new();
    let (r, _) = turn(&agent, &mut history, "Look at everything", ToolChoice::Auto).await;
    let out = r.unwrap();
    assert_eq!(out.stop, TurnStop::RoundLimit);
    assert_eq!(
        out.message.as_deref(),
        Some(
            "stopped after 4 model calls without a final answer: the model kept calling tools (last: get_activity ×4)"
        )
    );
    assert_eq!(h.bodies().len(), 4, "no fifth model call");
    assert_eq!(tools.count("get_activity"), 4);
    // The history is whole (every call answered) and the conversation goes on.
    assert_eq!(history.len(), 9);
    h.push(ModelReply::text("Here is what I found."));
    let (r, _) = turn(&agent, &mut history, "Summarise", ToolChoice::None).await;
    assert_eq!(r.unwrap().text, "Here is what I found.");
    assert_eq!(h.rejections(), Vec::<String>::new());
}

async fn token_budget_is_bounded(h: H) {
    let tools = Scripted::new(1);
    let config = AgentConfig {
        max_turn_tokens: 2_500,
        ..AgentConfig::default()
    };
    let agent = h.agent(&tools, config);
    for i in 0..6 {
        let id = format!("b{i}");
        let args = format!(r#"{{"days": {}}}"#, i + 1);
        h.push(
            ModelReply::tool_calls(&[(&id, "fitness_trend", &args)])
                .with_usage(900, 50, None, None),
        );
    }
    let mut history = Vec::new();
    let (r, _) = turn(&agent, &mut history, "Trend?", ToolChoice::Auto).await;
    let out = r.unwrap();
    assert_eq!(out.stop, TurnStop::TokenLimit);
    assert_eq!(out.model_calls, 3, "950 + 950 < 2500 <= 3 × 950");
    assert_eq!(
        out.message.as_deref(),
        Some(
            "stopped after 3 model calls without a final answer: this turn used 2850 tokens, the budget is 2500 (max_turn_tokens); the model was still calling tools (last: fitness_trend ×3)"
        )
    );
}

async fn broken_stream_keeps_history(h: H) {
    let tools = Scripted::new(1);
    let agent = h.agent(&tools, AgentConfig::default());
    h.push(ModelReply::text("Hello, ready when you are."));
    let mut history = Vec::new();
    let (r, _) = turn(&agent, &mut history, "Hi", ToolChoice::Auto).await;
    r.unwrap();
    let before = history.clone();
    h.push(ModelReply::tool_calls(&[("c1", "fitness_trend", "{}")]));
    h.push_cut(ModelReply::text(
        "Your form is negative because the last block was hard and long.",
    ));
    let (r, events) = turn(&agent, &mut history, "Why am I tired?", ToolChoice::Auto).await;
    match r {
        Err(AgentError::Llm(LlmError::StreamBroken { partial_text, .. })) => {
            assert_eq!(partial_text, "Your form is");
            assert_eq!(
                streamed_text(&events),
                partial_text,
                "the partial text was shown"
            );
        }
        other => panic!("expected a broken stream, got {other:?}"),
    }
    assert_eq!(
        history, before,
        "the failed turn left the history untouched"
    );
    // The session goes on from the earlier turns.
    h.push(ModelReply::text("Rest a day."));
    let (r, _) = turn(&agent, &mut history, "Why am I tired?", ToolChoice::Auto).await;
    assert_eq!(r.unwrap().text, "Rest a day.");
    assert_eq!(history.len(), 4);
}

async fn forced_choice_is_released(h: H) {
    let tools = Scripted::new(1);
    let agent = h.agent(&tools, AgentConfig::default());
    h.push(ModelReply::tool_calls(&[(
        "f1",
        "weekly_volume",
        r#"{"weeks": 2}"#,
    )]));
    h.push(ModelReply::text("Two weeks: 9.5 and 11 h."));
    let mut history = Vec::new();
    let (r, _) = turn(
        &agent,
        &mut history,
        "Volume?",
        ToolChoice::Tool("weekly_volume".into()),
    )
    .await;
    assert_eq!(r.unwrap().stop, TurnStop::FinalAnswer);
    let bodies = h.bodies();
    assert_eq!(h.tool_choice(&bodies[0]), "tool:weekly_volume");
    assert_eq!(
        h.tool_choice(&bodies[1]),
        "auto",
        "released after it was satisfied"
    );
    // `Any` likewise.
    h.push(ModelReply::tool_calls(&[("f2", "fitness_trend", "{}")]));
    h.push(ModelReply::text("Form -9."));
    let (r, _) = turn(&agent, &mut history, "Form?", ToolChoice::Any).await;
    r.unwrap();
    let bodies = h.bodies();
    assert_eq!(h.tool_choice(&bodies[2]), "any");
    assert_eq!(h.tool_choice(&bodies[3]), "auto");
    // A forced tool that is not offered fails before any call, history untouched.
    let before = history.clone();
    let (r, _) = turn(&agent, &mut history, "x", ToolChoice::Tool("nope".into())).await;
    assert!(
        matches!(r, Err(AgentError::UnknownForcedTool { ref name, .. }) if name == "nope"),
        "{r:?}"
    );
    assert_eq!(history, before);
    assert_eq!(h.bodies().len(), 4);
}

async fn usage_is_summed(h: H) {
    let tools = Scripted::new(1);
    let agent = h.agent(&tools, AgentConfig::default());
    let u1 = Usage {
        input: 1000,
        output: 200,
        cache_read: 3000,
        cache_write: 500,
        estimated: false,
    };
    let u2 = Usage {
        input: 1500,
        output: 120,
        cache_read: 3500,
        cache_write: 0,
        estimated: false,
    };
    h.push(
        ModelReply::tool_calls(&[("s1", "fitness_trend", "{}")]).with_usage(
            u1.input,
            u1.output,
            Some(u1.cache_read),
            Some(u1.cache_write),
        ),
    );
    h.push(ModelReply::text("Done.").with_usage(u2.input, u2.output, Some(u2.cache_read), Some(0)));
    let mut history = Vec::new();
    let (r, events) = turn(&agent, &mut history, "Trend?", ToolChoice::Auto).await;
    let out = r.unwrap();
    let reported: Vec<(String, Usage)> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::CallFinished { model_used, usage } => Some((model_used.clone(), *usage)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reported,
        vec![
            (h.model_used.to_string(), u1),
            (h.model_used.to_string(), u2)
        ]
    );
    assert_eq!(
        out.usage_by_model.keys().collect::<Vec<_>>(),
        vec![h.model_used]
    );
    let m = &out.usage_by_model[h.model_used];
    assert_eq!(m.calls, 2);
    assert_eq!(
        m.usage,
        Usage {
            input: 2500,
            output: 320,
            cache_read: 6500,
            cache_write: 500,
            estimated: false
        }
    );
    let name = h.provider.name();
    let expected = h.catalog.cost(name, h.model_used, &u1).usd().unwrap()
        + h.catalog.cost(name, h.model_used, &u2).usd().unwrap();
    let got = m.cost_usd.expect("the model has prices");
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    assert!(got > 0.003, "a real price was applied: {got}");
    assert_eq!(out.cost_usd(), Some(got));
    // Per session: a second turn merged in.
    let mut session = BTreeMap::new();
    llm::meter::merge_usage(&mut session, &out.usage_by_model);
    llm::meter::merge_usage(&mut session, &out.usage_by_model);
    assert_eq!(session[h.model_used].calls, 4);
    assert_eq!(session[h.model_used].usage.input, 5000);
}

async fn terminal_tool_ends_turn(h: H) {
    let tools = Scripted::new(1);
    let agent = h.agent(&tools, AgentConfig::default());
    h.push(ModelReply::tool_calls(&[(
        "p1",
        "finish_plan",
        r#"{"weeks": 12}"#,
    )]));
    let mut history = Vec::new();
    let (r, _) = turn(&agent, &mut history, "Plan it", ToolChoice::Any).await;
    let out = r.unwrap();
    assert_eq!(
        out.stop,
        TurnStop::TerminalTool {
            name: "finish_plan".into(),
            output: json!({"saved": true, "weeks": 12})
        }
    );
    assert_eq!(out.model_calls, 1);
    assert_eq!(h.bodies().len(), 1);
    assert_eq!(history.len(), 3, "question, call, result");
}

async fn old_results_are_compacted(h: H) {
    let tools = Scripted::new(1);
    let config = AgentConfig {
        context_window: Some(4_000),
        max_output_tokens: 300,
        ..AgentConfig::default()
    };
    let agent = h.agent(&tools, config);
    // Two turns, each with a ~1500-token result: two fit in 70 % of 4000 tokens, three do not.
    h.push(ModelReply::tool_calls(&[(
        "o1",
        "weekly_volume",
        r#"{"pad": 6000}"#,
    )]));
    h.push(ModelReply::text("Volume is fine."));
    h.push(ModelReply::tool_calls(&[(
        "o2",
        "fitness_trend",
        r#"{"pad": 6000}"#,
    )]));
    h.push(ModelReply::text("Trend is fine."));
    h.push(ModelReply::text("All good."));
    let mut history = Vec::new();
    for q in ["Volume?", "Trend?", "Overall?"] {
        let (r, _) = turn(&agent, &mut history, q, ToolChoice::Auto).await;
        r.unwrap();
    }
    assert_eq!(h.rejections(), Vec::<String>::new());
    let bodies = h.bodies();
    assert_eq!(bodies.len(), 5);
    let pad = "x".repeat(6000);
    let dump = |b: &Value| b["messages"].to_string();
    let count = |b: &Value| {
        (
            dump(b).matches("compacted").count(),
            dump(b).matches(&pad).count(),
        )
    };
    // Turn 2's first request holds one big result: it fits.
    assert_eq!(count(&bodies[2]), (0, 1));
    // Turn 2's second request would hold two: the older is compacted, the last round's kept.
    assert_eq!(count(&bodies[3]), (1, 1));
    let d = dump(&bodies[3]);
    assert!(
        d.find("compacted").unwrap() < d.find(&pad).unwrap(),
        "oldest first"
    );
    // The history keeps the compacted form: turn 3 sends it as is.
    assert_eq!(count(&bodies[4]), (1, 1));
    let first = results_of(&history[2])[0];
    let ToolOutput::Json(v) = &first.output else {
        panic!("not compacted: {:?}", first.call_id)
    };
    assert_eq!(v["compacted"], true);
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(r#"{"hours_per_week":[9.5,11.0,12.5],"pad":"xxx"#),
        "{summary}"
    );
    assert_eq!(
        summary.chars().count(),
        201,
        "200 characters and an ellipsis"
    );
    let second = results_of(&history[6])[0];
    assert_eq!(
        second.output,
        ToolOutput::Json(json!({"ctl": 61.2, "atl": 70.4, "tsb": -9.2, "pad": pad}))
    );
}

async fn mutating_tool_invalidates_reuse(h: H) {
    let tools = Scripted::new(1);
    let agent = h.agent(&tools, AgentConfig::default());
    // One round: read, write, read again (must see the write), then a repeat in the next round.
    h.push(ModelReply::tool_calls(&[
        ("z1", "get_zones", "{}"),
        ("w1", "set_ftp", r#"{"ftp_w": 270}"#),
        ("z2", "get_zones", "{}"),
    ]));
    h.push(ModelReply::tool_calls(&[("z3", "get_zones", "{}")]));
    h.push(ModelReply::text("Your FTP is now 270 W."));
    let mut history = Vec::new();
    let (r, events) = turn(&agent, &mut history, "Set my FTP to 270", ToolChoice::Auto).await;
    assert_eq!(r.unwrap().text, "Your FTP is now 270 W.");
    let order: Vec<String> = tools.calls().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        order,
        vec!["get_zones", "set_ftp", "get_zones"],
        "in call order, the read after the write re-run"
    );
    let ftp = |m: &Message, k: usize| match &results_of(m)[k].output {
        ToolOutput::Json(v) => v["ftp_w"].as_u64().unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!((ftp(&history[2], 0), ftp(&history[2], 2)), (250, 270));
    assert_eq!(
        ftp(&history[4], 0),
        270,
        "the repeat reuses the fresh result"
    );
    let reused: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolFinished {
                id, reused: true, ..
            } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reused, vec!["z3"]);
}

/// A session recorded through the interaction log replays identically without the service.
async fn logged_session_replays(h: H) {
    let dir = tempfile::tempdir().unwrap();
    let log = InteractionLog::open(dir.path()).unwrap();
    let tools = Scripted::new(2);
    let mut agent = h.agent(&tools, AgentConfig::default());
    agent.log = Some(&log);
    h.push(ModelReply::tool_calls(&[
        ("t1", "weekly_volume", r#"{"weeks": 4}"#),
        ("t2", "fitness_trend", r#"{"days": 42}"#),
    ]));
    h.push(ModelReply::text("Good week."));
    // A malformed call before a valid one: the replay must keep that order.
    h.push(ModelReply::tool_calls(&[
        ("t3", "weekly_volume", r#"{"weeks": 4"#),
        ("t4", "get_activity", r#"{"id": 7}"#),
    ]));
    h.push(ModelReply::text("Bad arguments, sorry."));
    let mut recorded = Vec::new();
    let mut outcomes = Vec::new();
    for q in ["How was my week?", "Again?"] {
        let (r, _) = turn(&agent, &mut recorded, q, ToolChoice::Auto).await;
        outcomes.push(r.unwrap());
    }
    drop(agent);
    let replay = ReplayProvider::from_log(dir.path()).unwrap();
    assert_eq!(replay.len(), 4);
    let tools2 = Scripted::new(2);
    let agent = Agent {
        provider: &replay,
        tools: &tools2,
        catalog: &h.catalog,
        log: None,
        model: h.model.to_string(),
        system: "You are a cycling coach. Use the tools for numbers.".into(),
        config: AgentConfig::default(),
    };
    let mut replayed = Vec::new();
    for (q, original) in ["How was my week?", "Again?"].into_iter().zip(&outcomes) {
        let (r, _) = turn(&agent, &mut replayed, q, ToolChoice::Auto).await;
        let out = r.unwrap();
        assert_eq!(out.text, original.text);
        assert_eq!(out.stop, original.stop);
        assert_eq!(out.tool_calls, original.tool_calls);
        // Replayed usage is the recorded usage (priced as "replay": unknown).
        assert_eq!(out.usage(), original.usage());
    }
    assert_eq!(replayed, recorded);
    assert_eq!(replay.remaining(), 0);
    let (r, _) = turn(&agent, &mut replayed, "More?", ToolChoice::Auto).await;
    let err = r.unwrap_err().to_string();
    assert!(err.contains("has 4 calls; call 5 was requested"), "{err}");
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod bedrock {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::H::bedrock().await).await;
                }
            )*
        }
        mod anthropic {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::H::anthropic().await).await;
                }
            )*
        }
    };
}

scenarios!(
    parallel_calls,
    malformed_and_unknown,
    repeated_call_runs_once,
    never_stops_is_bounded,
    token_budget_is_bounded,
    broken_stream_keeps_history,
    forced_choice_is_released,
    usage_is_summed,
    terminal_tool_ends_turn,
    old_results_are_compacted,
    logged_session_replays,
    mutating_tool_invalidates_reuse,
);

/// A provider whose answer starts and then never finishes (a slow model the user gives up on).
struct Stalling;

#[async_trait::async_trait]
impl Provider for Stalling {
    fn name(&self) -> &str {
        "stalling"
    }
    async fn stream(&self, _request: &llm::Request) -> Result<llm::EventStream, LlmError> {
        let start = futures::stream::iter(vec![Ok(llm::StreamEvent::TextDelta("Thinking".into()))]);
        Ok(Box::pin(start.chain(futures::stream::pending())))
    }
}

/// Dropping the turn (what Ctrl-C does) leaves the history as it was.
#[tokio::test]
async fn a_cancelled_turn_leaves_the_history_untouched() {
    let catalog = Catalog::builtin();
    let tools = Scripted::new(1);
    let agent = Agent {
        provider: &Stalling,
        tools: &tools,
        catalog: &catalog,
        log: None,
        model: "m".into(),
        system: "s".into(),
        config: AgentConfig::default(),
    };
    let mut history = vec![Message::user("Hi"), Message::assistant("Hello.")];
    let before = history.clone();
    let mut streamed = String::new();
    let mut sink = |e: AgentEvent| {
        if let AgentEvent::TextDelta(t) = e {
            streamed.push_str(&t);
        }
    };
    let turn = agent.run_turn(
        &mut history,
        Message::user("Plan?"),
        ToolChoice::Auto,
        &mut sink,
    );
    let r = tokio::time::timeout(Duration::from_millis(100), turn).await;
    assert!(r.is_err(), "the turn was still running");
    assert_eq!(streamed, "Thinking");
    assert_eq!(history, before);
}

/// The turn future can be spawned (the chat runs it next to a Ctrl-C listener).
#[test]
fn run_turn_future_is_send() {
    fn is_send<T: Send>(_: &T) {}
    let catalog = Catalog::builtin();
    let replay_dir = tempfile::tempdir().unwrap();
    std::fs::write(replay_dir.path().join("interactions.jsonl"), "").unwrap();
    let provider = ReplayProvider::from_log(replay_dir.path()).unwrap();
    let tools = Scripted::new(1);
    let agent = Agent {
        provider: &provider,
        tools: &tools,
        catalog: &catalog,
        log: None,
        model: "m".into(),
        system: String::new(),
        config: AgentConfig::default(),
    };
    let mut history = Vec::new();
    let mut sink = |_e: AgentEvent| {};
    let fut = agent.run_turn(
        &mut history,
        Message::user("q"),
        ToolChoice::Auto,
        &mut sink,
    );
    is_send(&fut);
}
