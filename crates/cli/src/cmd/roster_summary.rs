//! The roster summary of `generate --all`: a row per athlete (status, calls, tokens, cost, time,
//! report path), the totals and what the shared limiter saw, as a table or as JSON.

use agent::workflow::{self, Outcome};
use comfy_table::{Cell, CellAlignment, Table, presets};
use llm::limiter::LimiterStats;
use serde::Serialize;

use crate::term;

/// Per athlete: what the summary table and `--json` show.
#[derive(Debug, Clone, Serialize)]
pub(super) struct AthleteRow {
    pub(super) athlete: String,
    /// `ok`, `ok (rule-based coach stood in)` or `failed`.
    pub(super) status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
    /// Parts the rule-based coach wrote although a model was asked, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) fallbacks: Vec<String>,
    pub(super) model_calls: u64,
    pub(super) input_tokens: u64,
    pub(super) output_tokens: u64,
    pub(super) cost_usd: Option<f64>,
    pub(super) wall_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) report: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Totals {
    pub(super) athletes: usize,
    pub(super) ok: usize,
    pub(super) failed: usize,
    pub(super) model_calls: u64,
    pub(super) input_tokens: u64,
    pub(super) output_tokens: u64,
    /// Sum over the athletes whose cost is known.
    pub(super) cost_usd: f64,
    /// The whole roster's wall time.
    pub(super) wall_s: f64,
}

#[derive(Debug, Serialize)]
pub(super) struct RosterJson {
    pub(super) provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) model: Option<String>,
    pub(super) concurrency: u32,
    pub(super) athletes: Vec<AthleteRow>,
    pub(super) totals: Totals,
    /// The shared limiter: calls made (re-issues included), throttles, the most in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) limiter: Option<LimiterJson>,
}

#[derive(Debug, Serialize)]
pub(super) struct LimiterJson {
    pub(super) calls: u64,
    pub(super) throttles: u64,
    pub(super) max_in_flight: usize,
    pub(super) min_limit: usize,
}

impl From<LimiterStats> for LimiterJson {
    fn from(s: LimiterStats) -> Self {
        LimiterJson {
            calls: s.calls,
            throttles: s.throttles,
            max_in_flight: s.max_in_flight,
            min_limit: s.min_limit,
        }
    }
}

pub(super) fn row_of(
    name: &str,
    result: Result<Outcome, workflow::WorkflowError>,
    wall_s: f64,
) -> AthleteRow {
    match result {
        Ok(o) => {
            let fallbacks: Vec<String> = o
                .phases
                .iter()
                .filter_map(|p| {
                    p.fallback
                        .as_ref()
                        .map(|f| format!("{}: {f}", p.cost.phase))
                })
                .collect();
            let mut row = AthleteRow {
                athlete: name.to_string(),
                status: if fallbacks.is_empty() {
                    "ok".into()
                } else {
                    "ok (rule-based coach stood in)".into()
                },
                error: None,
                fallbacks,
                model_calls: 0,
                input_tokens: 0,
                output_tokens: 0,
                cost_usd: Some(0.0),
                wall_s: o.wall_s,
                report: Some(o.files.index_html.display().to_string()),
            };
            for p in &o.phases {
                row.model_calls += u64::from(p.cost.model_calls);
                row.input_tokens += p.cost.input_tokens;
                row.output_tokens += p.cost.output_tokens;
                row.cost_usd = row.cost_usd.zip(p.cost.cost_usd).map(|(a, b)| a + b);
            }
            row
        }
        Err(e) => AthleteRow {
            athlete: name.to_string(),
            status: "failed".into(),
            error: Some(e.to_string()),
            fallbacks: Vec::new(),
            model_calls: 0,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: None,
            wall_s,
            report: None,
        },
    }
}

/// The line an athlete's progress ends with, after its `label`.
pub(super) fn final_line(label: &str, r: &AthleteRow) -> String {
    match &r.error {
        Some(e) => format!("{label} · failed: {e}"),
        None => format!(
            "{label} · {} · {} model calls · {} in / {} out tokens · {} · {:.1} s",
            r.status,
            r.model_calls,
            r.input_tokens,
            r.output_tokens,
            usd(r.cost_usd),
            r.wall_s
        ),
    }
}

pub(super) fn usd(c: Option<f64>) -> String {
    c.map_or_else(|| "price unknown".into(), |c| format!("${c:.4}"))
}

/// The totals over `rows`; `wall_s` is the whole roster's wall time.
pub(super) fn totals(rows: &[AthleteRow], wall_s: f64) -> Totals {
    Totals {
        athletes: rows.len(),
        ok: rows.iter().filter(|r| r.error.is_none()).count(),
        failed: rows.iter().filter(|r| r.error.is_some()).count(),
        model_calls: rows.iter().map(|r| r.model_calls).sum(),
        input_tokens: rows.iter().map(|r| r.input_tokens).sum(),
        output_tokens: rows.iter().map(|r| r.output_tokens).sum(),
        cost_usd: rows.iter().filter_map(|r| r.cost_usd).sum(),
        wall_s,
    }
}

pub(super) fn print_table(rows: &[AthleteRow], totals: &Totals, limiter: Option<&LimiterJson>) {
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "athlete",
        "status",
        "model calls",
        "input tok",
        "output tok",
        "cost",
        "time",
        "report",
    ]);
    let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
    for r in rows {
        let status = match &r.error {
            Some(e) => format!("failed: {e}"),
            None => r.status.clone(),
        };
        t.add_row(vec![
            Cell::new(&r.athlete),
            Cell::new(status),
            right(r.model_calls.to_string()),
            right(r.input_tokens.to_string()),
            right(r.output_tokens.to_string()),
            right(usd(r.cost_usd)),
            right(format!("{:.1} s", r.wall_s)),
            Cell::new(r.report.as_deref().unwrap_or("–")),
        ]);
    }
    t.add_row(vec![
        Cell::new(format!("total ({} athletes)", totals.athletes)),
        Cell::new(format!("{} ok, {} failed", totals.ok, totals.failed)),
        right(totals.model_calls.to_string()),
        right(totals.input_tokens.to_string()),
        right(totals.output_tokens.to_string()),
        right(format!("${:.4}", totals.cost_usd)),
        right(format!("{:.1} s (wall)", totals.wall_s)),
        Cell::new(""),
    ]);
    println!("{}", term::heading("Roster"));
    println!("{t}");
    if let Some(l) = limiter {
        println!(
            "model calls in flight: at most {}; throttled {} times{}",
            l.max_in_flight,
            l.throttles,
            if l.throttles > 0 {
                format!(
                    " (the roster slowed to {} at a time, then recovered)",
                    l.min_limit
                )
            } else {
                String::new()
            }
        );
    }
}
