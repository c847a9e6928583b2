//! `generate --all`: the report pipeline for every athlete of the store, with at most
//! `--concurrency N` model calls in flight across the roster. Every athlete's provider goes
//! through one shared [`llm::limiter::Limiter`]: a throttled call halves the roster's permitted
//! concurrency and pauses every athlete's next call, then the limit grows back — no athlete fails
//! for a 429. Each athlete writes to `OUTPUT_DIR/<athlete>/` with its own checkpoints, so
//! `--all --resume` finishes only what is unfinished, and one athlete's failure is reported
//! without stopping the others. One progress line per athlete, then a roster summary table.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use agent::workflow::{self, ModelChoice, Observer, Options, Outcome, PhaseStats};
use anyhow::{Context, Result, bail};
use comfy_table::{Cell, CellAlignment, Table, presets};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use llm::limiter::{Limited, Limiter, LimiterSettings, LimiterStats};
use serde::Serialize;
use store::Store;

use super::generate::{DEFAULT_OUTPUT_DIR, model_choice, plan_options, selection};
use super::{Global, print_json};
use crate::args::GenerateArgs;
use crate::term;

/// Per athlete: what the summary table and `--json` show.
#[derive(Debug, Clone, Serialize)]
struct AthleteRow {
    athlete: String,
    /// `ok`, `ok (rule-based coach stood in)` or `failed`.
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Parts the rule-based coach wrote although a model was asked, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fallbacks: Vec<String>,
    model_calls: u64,
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: Option<f64>,
    wall_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<String>,
}

#[derive(Debug, Serialize)]
struct Totals {
    athletes: usize,
    ok: usize,
    failed: usize,
    model_calls: u64,
    input_tokens: u64,
    output_tokens: u64,
    /// Sum over the athletes whose cost is known.
    cost_usd: f64,
    /// The whole roster's wall time.
    wall_s: f64,
}

#[derive(Debug, Serialize)]
struct RosterJson {
    provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    concurrency: u32,
    athletes: Vec<AthleteRow>,
    totals: Totals,
    /// The shared limiter: calls made (re-issues included), throttles, the most in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    limiter: Option<LimiterJson>,
}

#[derive(Debug, Serialize)]
struct LimiterJson {
    calls: u64,
    throttles: u64,
    max_in_flight: usize,
    min_limit: usize,
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

/// One athlete's live line: phases running, calls so far; warnings printed above the lines.
struct AthleteProgress {
    name: String,
    bar: ProgressBar,
    multi: MultiProgress,
    state: Mutex<LineState>,
}

#[derive(Default)]
struct LineState {
    running: Vec<u32>,
    calls: u64,
}

impl AthleteProgress {
    fn redraw(&self, s: &LineState) {
        let phases: Vec<String> = s.running.iter().map(|n| format!("{n}/4")).collect();
        let doing = if phases.is_empty() {
            "starting".to_string()
        } else {
            format!("phase {}", phases.join(" + "))
        };
        self.bar
            .set_message(format!("{} · {doing} · {} model calls", self.name, s.calls));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LineState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Observer for AthleteProgress {
    fn phase_started(&self, n: u32, _name: &str) {
        let mut s = self.lock();
        s.running.push(n);
        self.redraw(&s);
    }
    fn warning(&self, text: &str) {
        let line = format!("{} {}: {text}", term::warning_label(), self.name);
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }
    fn model_call(&self, _n: u32, _model: &str, _stats: &llm::CallStats) {
        let mut s = self.lock();
        s.calls += 1;
        self.redraw(&s);
    }
    fn phase_finished(&self, n: u32, _stats: &PhaseStats) {
        let mut s = self.lock();
        s.running.retain(|r| *r != n);
        self.redraw(&s);
    }
}

fn row_of(name: &str, result: Result<Outcome, workflow::WorkflowError>, wall_s: f64) -> AthleteRow {
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
fn final_line(label: &str, r: &AthleteRow) -> String {
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

fn usd(c: Option<f64>) -> String {
    c.map_or_else(|| "price unknown".into(), |c| format!("${c:.4}"))
}

/// The model side, shared: one provider (one SDK client) behind one limiter.
struct Shared {
    provider: Arc<dyn llm::Provider>,
    limiter: Arc<Limiter>,
    model: String,
    catalog: Arc<llm::Catalog>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    notices: Vec<String>,
}

impl Shared {
    fn choice(&self) -> ModelChoice {
        ModelChoice {
            provider: Box::new(Limited {
                inner: self.provider.clone(),
                limiter: self.limiter.clone(),
            }),
            model: self.model.clone(),
            catalog: self.catalog.clone(),
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            notices: self.notices.clone(),
        }
    }
}

/// The selection, with Bedrock's own SDK retries reduced to one attempt unless `--max-attempts`
/// says otherwise: every throttle then reaches the shared limiter, which slows the whole roster
/// down, instead of each call retrying on its own.
fn roster_selection(args: &GenerateArgs) -> Result<Option<crate::providers_setup::Selection>> {
    let sel = selection(args)?;
    match &sel {
        Some(s)
            if s.provider == llm::bedrock::SPEC.name && args.aws.bedrock.max_attempts.is_none() =>
        {
            let mut one = args.clone();
            one.aws.bedrock.max_attempts = Some(1);
            selection(&one)
        }
        _ => Ok(sel),
    }
}

pub fn run(global: &Global, args: &GenerateArgs) -> Result<()> {
    if let Some(name) = &global.athlete {
        bail!("--all makes a report for every athlete; drop --athlete {name} (or drop --all)");
    }
    let started = std::time::Instant::now();
    let athletes: Vec<String> = {
        let store = Store::open(&global.data_dir)
            .with_context(|| format!("opening the database in {}", global.data_dir.display()))?;
        store.athlete_names()?
    };
    if athletes.is_empty() {
        bail!(
            "no athletes in {}: add them with `cycling-ai import --roster FILE` or `cycling-ai athlete add NAME`",
            global.data_dir.display()
        );
    }
    let sel = roster_selection(args)?;
    let plan = plan_options(args, sel.is_some())?;
    let base = args
        .output_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT_DIR));
    let concurrency = args.concurrency;
    let show = !global.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let multi = MultiProgress::with_draw_target(if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let (provider_name, model_name) = match &sel {
        Some(s) => (s.provider.clone(), Some(s.model.clone())),
        None => (workflow::OFFLINE.to_string(), None),
    };
    if !global.json {
        eprintln!(
            "{} athletes · {} · at most {concurrency} model calls in flight · reports in {}/<athlete>",
            athletes.len(),
            match &model_name {
                Some(m) => format!("{provider_name} {m}"),
                None => "rule-based coach".into(),
            },
            base.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let shared = match sel {
        Some(s) => {
            let c = runtime.block_on(model_choice(s))?;
            Some(Arc::new(Shared {
                provider: Arc::from(c.provider),
                limiter: Arc::new(Limiter::new(LimiterSettings::new(concurrency as usize))),
                model: c.model,
                catalog: c.catalog,
                max_tokens: c.max_tokens,
                temperature: c.temperature,
                notices: c.notices,
            }))
        }
        None => None,
    };
    // Athletes under way at once: enough to keep every permitted call busy (each report makes
    // two calls side by side) without building every bundle up front.
    let active = (concurrency as usize * 2).max(2);
    let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("static template");
    let total = athletes.len();
    let work = futures::stream::iter(athletes.into_iter().enumerate())
        .map(|(i, name)| {
            let options = Options {
                data_dir: global.data_dir.clone(),
                athlete: Some(name.clone()),
                profile: None,
                import: None,
                output_dir: base.join(&name),
                period_weeks: workflow::weeks_in_months(args.period_months),
                plan: plan.clone(),
                resume: args.resume,
                strict: args.strict,
                model: shared.as_ref().map(|s| s.choice()),
                sequential: false,
            };
            let bar = multi.add(ProgressBar::new_spinner().with_style(style.clone()));
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            let progress = Arc::new(AthleteProgress {
                name: format!(
                    "[{:>w$}/{total}] {name}",
                    i + 1,
                    w = total.to_string().len()
                ),
                bar,
                multi: multi.clone(),
                state: Mutex::new(LineState::default()),
            });
            let quiet = global.json || show;
            async move {
                let t = std::time::Instant::now();
                let observer = progress.clone();
                let result = tokio::spawn(async move { workflow::run(options, &*observer).await })
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                let row = row_of(&name, result, t.elapsed().as_secs_f64());
                let line = final_line(&progress.name, &row);
                progress.bar.finish_with_message(line.clone());
                if !quiet {
                    eprintln!("{line}");
                }
                row
            }
        })
        .buffer_unordered(active)
        .collect::<Vec<AthleteRow>>();
    let rows = runtime.block_on(async {
        tokio::select! {
            rows = work => Ok(rows),
            _ = tokio::signal::ctrl_c() => Err(()),
        }
    });
    let Ok(mut rows) = rows else {
        bail!(
            "interrupted; every finished phase is kept — rerun with --all --resume to finish the rest"
        );
    };
    rows.sort_by(|a, b| a.athlete.cmp(&b.athlete));
    let limiter = shared.as_ref().map(|s| s.limiter.stats());
    let totals = Totals {
        athletes: rows.len(),
        ok: rows.iter().filter(|r| r.error.is_none()).count(),
        failed: rows.iter().filter(|r| r.error.is_some()).count(),
        model_calls: rows.iter().map(|r| r.model_calls).sum(),
        input_tokens: rows.iter().map(|r| r.input_tokens).sum(),
        output_tokens: rows.iter().map(|r| r.output_tokens).sum(),
        cost_usd: rows.iter().filter_map(|r| r.cost_usd).sum(),
        wall_s: started.elapsed().as_secs_f64(),
    };
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| r.athlete.clone())
        .collect();
    if global.json {
        print_json(&RosterJson {
            provider: provider_name,
            model: model_name,
            concurrency,
            athletes: rows,
            totals,
            limiter: limiter.map(LimiterJson::from),
        })?;
    } else {
        print_table(&rows, &totals, limiter);
    }
    if !failed.is_empty() {
        bail!(
            "{} of {total} athletes failed ({}); the others' reports are written — rerun with --all --resume to finish them",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

fn print_table(rows: &[AthleteRow], totals: &Totals, limiter: Option<LimiterStats>) {
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
