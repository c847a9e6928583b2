//! `cycling-ai logs [--last N]`: what the model calls in the interaction log did and cost.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use comfy_table::{Cell, CellAlignment, Table, presets};
use serde::Serialize;
use serde_json::Value;

use super::{Global, print_json};
use crate::args::LogsArgs;
use crate::term;

/// The log file `llm::log::InteractionLog::open(data_dir)` appends to.
pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("interactions.jsonl")
}

/// One call as read back.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub line: usize,
    pub time: String,
    pub provider: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// `None`: price unknown (or the call failed before any usage).
    pub cost_usd: Option<f64>,
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
    /// The athlete the call was for (`generate`, `chat`); `None` for calls of no athlete
    /// (`providers check`) and lines written before the log named athletes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub athlete: Option<String>,
}

/// Totals for one provider + model.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Group {
    pub provider: String,
    pub model: String,
    pub calls: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Sum over the calls whose price is known.
    pub cost_usd: f64,
    /// Successful calls whose cost is unknown (not included in `cost_usd`).
    pub unpriced_calls: u64,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub path: PathBuf,
    /// `--athlete NAME`: only that athlete's calls are counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub athlete: Option<String>,
    pub calls: u64,
    pub cost_usd: f64,
    pub unpriced_calls: u64,
    /// Line numbers that could not be read (a truncated final write, a crash mid-line).
    pub skipped_lines: Vec<usize>,
    pub by_model: Vec<Group>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Vec<Call>>,
}

/// Parse the log text. Unreadable lines are returned by number, not fatal: the log is
/// append-only, so one interrupted write must not hide every call after it.
pub fn parse(text: &str) -> (Vec<Call>, Vec<(usize, String)>) {
    let mut calls = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            // Events (MCP tool calls, refused requests) are not model calls: no tokens, no cost.
            Ok(v) if v.is_object() && !llm::log::is_model_call(&v) => {}
            Ok(v) if v.is_object() => calls.push(call_of(n, &v)),
            Ok(_) => bad.push((n, "not a JSON object".to_string())),
            Err(e) => bad.push((n, e.to_string())),
        }
    }
    (calls, bad)
}

fn call_of(line: usize, v: &Value) -> Call {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let u = |k: &str| {
        v.get("usage")
            .and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let cost_usd = v
        .get("cost")
        .filter(|c| c.get("status").and_then(Value::as_str) == Some("known"))
        .and_then(|c| c.get("usd"))
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite());
    let error = v.get("error").filter(|e| !e.is_null()).map(|e| {
        e.get("kind")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string())
    });
    Call {
        line,
        time: s("time").unwrap_or_default(),
        provider: s("provider").unwrap_or_else(|| "?".into()),
        model: s("model_used")
            .or_else(|| s("model_requested"))
            .unwrap_or_else(|| "?".into()),
        input_tokens: u("input"),
        output_tokens: u("output"),
        cache_read_tokens: u("cache_read"),
        cache_write_tokens: u("cache_write"),
        cost_usd,
        latency_ms: v.get("latency_ms").and_then(Value::as_u64),
        error,
        athlete: s("athlete"),
    }
}

pub fn summarise(
    path: PathBuf,
    calls: &[Call],
    skipped: Vec<usize>,
    last: Option<usize>,
) -> Summary {
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for c in calls {
        let g = groups
            .entry((c.provider.clone(), c.model.clone()))
            .or_insert_with(|| Group {
                provider: c.provider.clone(),
                model: c.model.clone(),
                ..Group::default()
            });
        g.calls += 1;
        g.input_tokens += c.input_tokens;
        g.output_tokens += c.output_tokens;
        g.cache_read_tokens += c.cache_read_tokens;
        g.cache_write_tokens += c.cache_write_tokens;
        if c.error.is_some() {
            g.errors += 1;
        } else {
            match c.cost_usd {
                Some(x) => g.cost_usd += x,
                None => g.unpriced_calls += 1,
            }
        }
    }
    let by_model: Vec<Group> = groups.into_values().collect();
    Summary {
        path,
        athlete: None,
        calls: calls.len() as u64,
        cost_usd: by_model.iter().map(|g| g.cost_usd).sum(),
        unpriced_calls: by_model.iter().map(|g| g.unpriced_calls).sum(),
        skipped_lines: skipped,
        by_model,
        last: last.map(|n| calls[calls.len().saturating_sub(n)..].to_vec()),
    }
}

pub fn run(global: &Global, args: LogsArgs) -> Result<()> {
    let path = log_path(&global.data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let (mut calls, bad) = parse(&text);
    // One log serves every athlete of the store; `--athlete NAME` narrows it to theirs.
    if let Some(name) = &global.athlete {
        calls.retain(|c| c.athlete.as_deref() == Some(name.as_str()));
    }
    let total_lines = text.lines().count();
    for (n, why) in &bad {
        let what = if *n == total_lines && !text.ends_with('\n') {
            "truncated last line"
        } else {
            "unreadable line"
        };
        eprintln!(
            "{} {}: line {n}: {what}, skipped ({why})",
            term::warning_label(),
            path.display()
        );
    }
    let mut summary = summarise(
        path.clone(),
        &calls,
        bad.iter().map(|(n, _)| *n).collect(),
        args.last,
    );
    summary.athlete = global.athlete.clone();
    if global.json {
        return print_json(&summary);
    }
    if calls.is_empty() {
        println!("No model calls logged yet ({}).", path.display());
        return Ok(());
    }
    println!(
        "{}",
        term::heading(&match &summary.athlete {
            Some(a) => format!("Model calls for {a} ({})", path.display()),
            None => format!("Model calls ({})", path.display()),
        })
    );
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "provider",
        "model",
        "calls",
        "errors",
        "input",
        "output",
        "cache read",
        "cache write",
        "cost",
    ]);
    let num = |n: u64| Cell::new(n).set_alignment(CellAlignment::Right);
    for g in &summary.by_model {
        t.add_row(vec![
            Cell::new(&g.provider),
            Cell::new(&g.model),
            num(g.calls),
            num(g.errors),
            num(g.input_tokens),
            num(g.output_tokens),
            num(g.cache_read_tokens),
            num(g.cache_write_tokens),
            Cell::new(cost_text(g.cost_usd, g.unpriced_calls, g.calls - g.errors))
                .set_alignment(CellAlignment::Right),
        ]);
    }
    println!("{t}");
    println!(
        "Total: {} calls, {}",
        summary.calls,
        cost_text(
            summary.cost_usd,
            summary.unpriced_calls,
            summary.by_model.iter().map(|g| g.calls - g.errors).sum()
        )
    );
    if let Some(last) = &summary.last {
        println!("{}", term::heading(&format!("Last {} calls", last.len())));
        for c in last {
            let cost = c
                .cost_usd
                .map_or_else(|| "price unknown".to_string(), |x| format!("${x:.4}"));
            let outcome = match &c.error {
                Some(kind) => format!("error: {kind}"),
                None => format!(
                    "in {} out {} cache {}/{} {cost}",
                    c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_tokens
                ),
            };
            let latency = c
                .latency_ms
                .map_or_else(String::new, |ms| format!(" {ms} ms"));
            println!("{} {} {} {outcome}{latency}", c.time, c.provider, c.model);
        }
    }
    Ok(())
}

/// "$0.0123", "price unknown", or "$0.0123 + 2 calls price unknown".
fn cost_text(usd: f64, unpriced: u64, successful: u64) -> String {
    if successful == 0 {
        "–".into()
    } else if unpriced == successful {
        "price unknown".into()
    } else if unpriced > 0 {
        format!("${usd:.4} + {unpriced} calls price unknown")
    } else {
        format!("${usd:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_sum_tokens_and_costs_and_skip_a_cut_line() {
        let text = concat!(
            r#"{"time":"t1","provider":"bedrock","model_requested":"a","model_used":"m1","usage":{"input":10,"output":5,"cache_read":2,"cache_write":0},"cost":{"status":"known","usd":0.5},"error":null}"#,
            "\n",
            r#"{"time":"t2","provider":"bedrock","model_requested":"a","model_used":"m1","usage":{"input":1,"output":1,"cache_read":0,"cache_write":3},"cost":{"status":"known","usd":0.25},"error":null}"#,
            "\n",
            r#"{"time":"t3","provider":"ollama","model_requested":"x","model_used":null,"usage":null,"cost":null,"error":{"kind":"transport"}}"#,
            "\n",
            r#"{"time":"t4","provider":"bed"#
        );
        let (calls, bad) = parse(text);
        assert_eq!(calls.len(), 3);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].0, 4);
        let s = summarise(PathBuf::from("x"), &calls, vec![4], Some(2));
        assert_eq!(s.by_model.len(), 2);
        let b = &s.by_model[0];
        assert_eq!((b.calls, b.input_tokens, b.output_tokens), (2, 11, 6));
        assert_eq!((b.cache_read_tokens, b.cache_write_tokens), (2, 3));
        assert!((b.cost_usd - 0.75).abs() < 1e-12);
        let o = &s.by_model[1];
        assert_eq!((o.model.as_str(), o.errors, o.unpriced_calls), ("x", 1, 0));
        assert_eq!(s.last.as_ref().unwrap()[0].time, "t2");
    }

    #[test]
    fn mcp_events_are_not_model_calls() {
        let text = concat!(
            r#"{"kind":"mcp_tool_call","time":"t0","transport":"stdio","client":"claude-ai","tool":"get_power_curve","outcome":"ok","result_bytes":812}"#,
            "\n",
            r#"{"time":"t1","provider":"bedrock","model_requested":"a","model_used":"m1","usage":{"input":10,"output":5,"cache_read":0,"cache_write":0},"cost":{"status":"known","usd":0.5},"error":null}"#,
            "\n",
            r#"{"kind":"mcp_http_refused","time":"t2","status":401,"reason":"missing bearer token"}"#,
        );
        let (calls, bad) = parse(text);
        assert!(bad.is_empty());
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].provider, "bedrock");
    }

    #[test]
    fn cost_text_says_price_unknown() {
        assert_eq!(cost_text(0.0, 2, 2), "price unknown");
        assert_eq!(cost_text(0.5, 1, 3), "$0.5000 + 1 calls price unknown");
        assert_eq!(cost_text(0.0, 0, 0), "–");
    }
}
