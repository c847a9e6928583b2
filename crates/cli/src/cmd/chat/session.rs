//! A chat session in memory and in the store: the conversation (`Vec<llm::Message>` as JSON),
//! the provider and model it uses, and its usage by model actually used (calls, tokens, cost).
//! The whole session is rewritten in one statement after every turn (`Store::save_session`),
//! so a crash or Ctrl-C never leaves half a turn behind.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use llm::ModelUsage;
use llm::{Message, Part, Role, ToolOutput};
use store::{SessionWrite, Store};

/// Longest title kept (the start of the first question).
const TITLE_CHARS: usize = 60;

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub athlete_id: i64,
    pub provider: String,
    pub model: String,
    pub title: Option<String>,
    /// Completed user turns.
    pub turns: u32,
    pub messages: Vec<Message>,
    /// Keyed by the model that actually answered (a router's choice, a resolved profile).
    pub usage: BTreeMap<String, ModelUsage>,
    pub created_at: Option<String>,
}

impl Session {
    pub fn new(athlete_id: i64, provider: &str, model: &str) -> Self {
        Self {
            id: new_id(),
            athlete_id,
            provider: provider.into(),
            model: model.into(),
            title: None,
            turns: 0,
            messages: Vec::new(),
            usage: BTreeMap::new(),
            created_at: None,
        }
    }

    /// A stored session, with its messages and usage parsed (errors name the session).
    pub fn from_stored(s: &store::ChatSession) -> Result<Self> {
        let messages: Vec<Message> = serde_json::from_str(&s.messages_json)
            .with_context(|| format!("session {}: reading its stored messages", s.id))?;
        let usage: BTreeMap<String, ModelUsage> = if s.usage_json.trim().is_empty() {
            BTreeMap::new()
        } else {
            serde_json::from_str(&s.usage_json)
                .with_context(|| format!("session {}: reading its stored usage", s.id))?
        };
        Ok(Self {
            id: s.id.clone(),
            athlete_id: s.athlete_id,
            provider: s.provider.clone(),
            model: s.model.clone(),
            title: s.title.clone(),
            turns: s.turns,
            messages,
            usage,
            created_at: Some(s.created_at.clone()),
        })
    }

    /// Write the whole session (one statement).
    pub fn save(&self, store: &mut Store) -> Result<()> {
        let messages_json =
            serde_json::to_string(&self.messages).context("serialising the chat messages")?;
        let usage_json = serde_json::to_string(&self.usage).context("serialising the usage")?;
        store
            .save_session(&SessionWrite {
                id: &self.id,
                athlete_id: self.athlete_id,
                provider: &self.provider,
                model: &self.model,
                title: self.title.as_deref(),
                turns: self.turns,
                messages_json: &messages_json,
                usage_json: &usage_json,
            })
            .with_context(|| format!("saving chat session {}", self.id))
    }

    /// Count one finished model call (also those of a turn that later failed or was
    /// cancelled: they were made and billed).
    pub fn record_call(&mut self, model_used: &str, usage: &llm::Usage, cost_usd: Option<f64>) {
        self.usage
            .entry(model_used.to_string())
            .or_default()
            .merge(&ModelUsage {
                calls: 1,
                usage: *usage,
                cost_usd,
            });
    }

    /// A turn finished: the title is the start of the first question.
    pub fn turn_done(&mut self, question: &str) {
        self.turns += 1;
        if self.title.is_none() {
            self.title = Some(title_of(question));
        }
    }

    /// The `/cost` table.
    pub fn cost_report(&self) -> String {
        if self.usage.is_empty() {
            return "  no model calls yet in this session\n".into();
        }
        let mut rows = vec![[
            "model".to_string(),
            "calls".into(),
            "input".into(),
            "output".into(),
            "cached".into(),
            "cost".into(),
        ]];
        let mut total = ModelUsage::default();
        for (model, u) in &self.usage {
            rows.push(usage_row(model, u));
            total.merge(u);
        }
        if self.usage.len() > 1 {
            rows.push(usage_row("total", &total));
        }
        let widths: Vec<usize> = (0..6)
            .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let mut line = String::from(" ");
            for (j, cell) in row.iter().enumerate() {
                line.push(' ');
                if j == 0 {
                    line.push_str(&format!("{cell:<w$}", w = widths[j]));
                } else {
                    line.push_str(&format!(" {cell:>w$}", w = widths[j]));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str("  (input excludes cached tokens; cached = cache reads + cache writes)\n");
        out
    }

    /// The `/history` listing: questions, answers (first lines) and the tools each turn used.
    pub fn history_report(&self) -> String {
        if self.messages.is_empty() {
            return "  the conversation is empty\n".into();
        }
        let mut out = String::new();
        for m in &self.messages {
            for part in &m.content {
                match (m.role, part) {
                    (Role::User, Part::Text(t)) => {
                        out.push_str(&format!("you   › {}\n", one_line(t, 200)));
                    }
                    (Role::Assistant, Part::Text(t)) => {
                        out.push_str(&format!("coach › {}\n", one_line(t, 200)));
                    }
                    (Role::Assistant, Part::ToolCall(c)) => {
                        out.push_str(&format!(
                            "        · {} {}\n",
                            c.name,
                            one_line(&c.arguments.to_string(), 80)
                        ));
                    }
                    (Role::User, Part::ToolResult(r)) if r.is_error => {
                        let text = match &r.output {
                            ToolOutput::Text(t) => t.clone(),
                            ToolOutput::Json(v) => v.to_string(),
                        };
                        out.push_str(&format!("          failed: {}\n", one_line(&text, 80)));
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

fn usage_row(model: &str, u: &ModelUsage) -> [String; 6] {
    [
        model.to_string(),
        u.calls.to_string(),
        u.usage.input.to_string(),
        u.usage.output.to_string(),
        (u.usage.cache_read + u.usage.cache_write).to_string(),
        u.cost_usd
            .map_or_else(|| "price unknown".to_string(), |c| format!("${c:.4}")),
    ]
}

/// The first line of `text`, cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let first = text.trim().lines().next().unwrap_or("");
    let more = text.trim().lines().nth(1).is_some();
    let mut s: String = first.chars().take(max).collect();
    if first.chars().count() > max || more {
        s.push('…');
    }
    s
}

fn title_of(question: &str) -> String {
    let t = one_line(question, TITLE_CHARS);
    t.trim_end_matches('…').to_string()
}

/// A session id: the UTC time it started plus 6 hex digits, sortable and easy to type
/// (`20261125-081502-3fa9c1`).
pub fn new_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = jiff::Timestamp::now();
    // Sub-second time, the process id and a per-process counter mixed: sessions started in the
    // same second by different processes, or by `/clear` in one process, still differ.
    let nanos = u64::from(now.subsec_nanosecond().unsigned_abs());
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mix = (nanos ^ u64::from(std::process::id()).rotate_left(32) ^ n.rotate_left(48))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{}-{:06x}", now.strftime("%Y%m%d-%H%M%S"), mix >> 40)
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm::{ToolCall, ToolResult, Usage};

    fn sample() -> Session {
        let mut s = Session::new(1, "bedrock", "claude-sonnet-4.5");
        s.messages = vec![
            Message::user("How was my week?\nDetails please"),
            Message {
                role: Role::Assistant,
                content: vec![Part::ToolCall(ToolCall {
                    id: "t1".into(),
                    name: "get_weekly_volume".into(),
                    arguments: serde_json::json!({"weeks": 1}),
                })],
            },
            Message::tool_results(vec![ToolResult::error("t1", "no rides in range")]),
            Message::assistant("A quiet week: 3 rides."),
        ];
        s.turn_done("How was my week?\nDetails please");
        s.record_call(
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            &Usage {
                input: 100,
                output: 20,
                cache_read: 50,
                cache_write: 5,
                estimated: false,
            },
            Some(0.0012),
        );
        s.record_call(
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            &Usage {
                input: 10,
                output: 2,
                cache_read: 0,
                cache_write: 0,
                estimated: false,
            },
            Some(0.0003),
        );
        s
    }

    #[test]
    fn stored_session_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let athlete = store.default_athlete().unwrap().id;
        let mut s = sample();
        s.athlete_id = athlete;
        s.save(&mut store).unwrap();
        let stored = store.session(athlete, &s.id).unwrap().unwrap();
        assert_eq!(stored.turns, 1);
        assert_eq!(stored.title.as_deref(), Some("How was my week?"));
        let back = Session::from_stored(&stored).unwrap();
        assert_eq!(back.messages, s.messages);
        assert_eq!(back.usage, s.usage);
        let u = &back.usage["us.anthropic.claude-sonnet-4-5-20250929-v1:0"];
        assert_eq!((u.calls, u.usage.input, u.usage.cache_read), (2, 110, 50));
        assert!((u.cost_usd.unwrap() - 0.0015).abs() < 1e-12);
    }

    #[test]
    fn corrupt_stored_messages_name_the_session() {
        let stored = store::ChatSession {
            id: "s-1".into(),
            athlete_id: 1,
            created_at: "x".into(),
            updated_at: "x".into(),
            provider: "openai".into(),
            model: "gpt-4.1".into(),
            title: None,
            turns: 1,
            messages_json: "[{\"role\": \"robot\"}]".into(),
            usage_json: "{}".into(),
        };
        let e = format!("{:#}", Session::from_stored(&stored).unwrap_err());
        assert!(e.contains("session s-1") && e.contains("messages"), "{e}");
    }

    #[test]
    fn cost_report_by_model_with_unknown_price() {
        let mut s = sample();
        s.record_call(
            "llama3.1:8b",
            &Usage {
                input: 7,
                output: 3,
                cache_read: 0,
                cache_write: 0,
                estimated: false,
            },
            None,
        );
        let r = s.cost_report();
        let lines: Vec<&str> = r.lines().collect();
        assert!(
            lines[0].contains("model") && lines[0].contains("cached"),
            "{r}"
        );
        let llama = lines.iter().find(|l| l.contains("llama3.1:8b")).unwrap();
        assert!(llama.ends_with("price unknown"), "{r}");
        let sonnet = lines.iter().find(|l| l.contains("sonnet")).unwrap();
        let cells: Vec<&str> = sonnet.split_whitespace().collect();
        assert_eq!(&cells[1..], &["2", "110", "22", "55", "$0.0015"], "{r}");
        // A total with an unknown part is unknown.
        let total = lines
            .iter()
            .find(|l| l.trim_start().starts_with("total"))
            .unwrap();
        assert!(total.ends_with("price unknown"), "{r}");
    }

    #[test]
    fn history_shows_questions_answers_and_tools() {
        let h = sample().history_report();
        assert_eq!(
            h,
            "you   › How was my week?…\n        · get_weekly_volume {\"weeks\":1}\n          failed: no rides in range\ncoach › A quiet week: 3 rides.\n"
        );
    }

    #[test]
    fn ids_look_like_times_and_differ() {
        let a = new_id();
        assert_eq!(a.len(), "20261125-081502-3fa9c1".len(), "{a}");
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() || c == '-'), "{a}");
        let ids: std::collections::BTreeSet<String> = (0..20).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 20, "ids made in one process in a burst differ");
    }
}
