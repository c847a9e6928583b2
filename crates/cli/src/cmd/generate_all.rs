//! `generate --all`: the report pipeline for every athlete of the store, with at most
//! `--concurrency N` model calls in flight across the roster. Every athlete's provider goes
//! through one shared [`llm::limiter::Limiter`]: a throttled call halves the roster's permitted
//! concurrency and pauses every athlete's next call, then the limit grows back — no athlete fails
//! for a 429. Each athlete writes to `OUTPUT_DIR/<athlete>/` with its own checkpoints, so
//! `--all --resume` finishes only what is unfinished, and one athlete's failure is reported
//! without stopping the others. One progress line per athlete, then a roster summary table.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agent::workflow::{self, ModelChoice, Options};
use anyhow::{Context, Result, bail};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use llm::limiter::{Limited, Limiter, LimiterSettings};
use store::Store;

use super::generate::{DEFAULT_OUTPUT_DIR, model_choice, plan_options, selection};
use super::roster_progress::AthleteProgress;
use super::roster_summary::{
    AthleteRow, LimiterJson, RosterJson, final_line, print_table, row_of, totals,
};
use super::{Global, print_json};
use crate::args::GenerateArgs;
use crate::term;

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

/// What the shared limiter is doing, twice a second: a line above the athletes' on a terminal;
/// elsewhere one line when the provider starts throttling (at most every 5 s), so a log shows
/// why the roster slowed down.
fn watch_limiter(
    runtime: &tokio::runtime::Runtime,
    limiter: Arc<Limiter>,
    multi: &MultiProgress,
    quiet: bool,
) -> (tokio::task::JoinHandle<()>, ProgressBar) {
    let line = multi.insert(
        0,
        ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("  {msg}").expect("static template")),
    );
    let shown = line.clone();
    let task = runtime.spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(500));
        let mut told = (0u64, None::<tokio::time::Instant>);
        loop {
            every.tick().await;
            let st = limiter.stats();
            shown.set_message(format!(
                "model calls in flight: {} of {} allowed · throttled {}×",
                st.in_flight, st.limit, st.throttles
            ));
            let due = told.1.is_none_or(|t| t.elapsed() >= Duration::from_secs(5));
            if shown.is_hidden() && !quiet && st.throttles > told.0 && due {
                eprintln!(
                    "{} the provider is throttling ({} so far): at most {} calls at a time for now",
                    term::note_label(),
                    st.throttles,
                    st.limit
                );
                told = (st.throttles, Some(tokio::time::Instant::now()));
            }
        }
    });
    (task, line)
}

pub fn run(global: &Global, args: &GenerateArgs) -> Result<()> {
    let roster = execute(global, args, None)?;
    if global.json {
        print_json(&roster)?;
    } else {
        print_table(&roster.athletes, &roster.totals, roster.limiter.as_ref());
    }
    failures(&roster)
}

/// An error naming the athletes whose report failed, if any.
pub(super) fn failures(roster: &RosterJson) -> Result<()> {
    super::roster_failures(
        roster
            .athletes
            .iter()
            .map(|r| (r.athlete.as_str(), r.error.is_some())),
        "failed",
        "; the others' reports are written — rerun with --all --resume to finish them",
    )
}

/// Every athlete's report (or only those of `only`), with progress on stderr; the roster's
/// rows and totals for the caller to print.
pub(super) fn execute(
    global: &Global,
    args: &GenerateArgs,
    only: Option<&[String]>,
) -> Result<RosterJson> {
    if let Some(name) = &global.athlete {
        bail!("--all makes a report for every athlete; drop --athlete {name} (or drop --all)");
    }
    let started = std::time::Instant::now();
    let athletes: Vec<String> = {
        let store = Store::open(&global.data_dir)
            .with_context(|| format!("opening the database in {}", global.data_dir.display()))?;
        let mut names = store.athlete_names()?;
        if let Some(only) = only {
            names.retain(|n| only.contains(n));
        }
        names
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
            "{} athletes · {} · reports in {}/<athlete>",
            athletes.len(),
            match &model_name {
                Some(m) =>
                    format!("{provider_name} {m} · at most {concurrency} model calls in flight"),
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
    let done_style = ProgressStyle::with_template("  {msg}").expect("static template");
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
            let label = format!(
                "[{:>w$}/{total}] {name}",
                i + 1,
                w = total.to_string().len()
            );
            let progress = Arc::new(AthleteProgress::new(label, bar, multi.clone()));
            let quiet = global.json || show;
            let done_style = done_style.clone();
            async move {
                let t = std::time::Instant::now();
                let observer = progress.clone();
                let result = tokio::spawn(async move { workflow::run(options, &*observer).await })
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                let row = row_of(&name, result, t.elapsed().as_secs_f64());
                let line = final_line(&progress.name, &row);
                // The finished line carries its own time: no spinner, no elapsed counter.
                progress.bar.set_style(done_style.clone());
                progress.bar.finish_with_message(line.clone());
                if !quiet {
                    eprintln!("{line}");
                }
                row
            }
        })
        .buffer_unordered(active)
        .collect::<Vec<AthleteRow>>();
    let watch = shared
        .as_ref()
        .map(|s| watch_limiter(&runtime, s.limiter.clone(), &multi, global.json));
    let rows = runtime.block_on(async {
        tokio::select! {
            rows = work => Ok(rows),
            _ = tokio::signal::ctrl_c() => Err(()),
        }
    });
    if let Some((task, line)) = watch {
        task.abort();
        line.finish_and_clear();
    }
    let Ok(mut rows) = rows else {
        bail!(
            "interrupted; every finished phase is kept — rerun with --all --resume to finish the rest"
        );
    };
    rows.sort_by(|a, b| a.athlete.cmp(&b.athlete));
    let limiter = shared
        .as_ref()
        .map(|s| LimiterJson::from(s.limiter.stats()));
    let totals = totals(&rows, started.elapsed().as_secs_f64());
    Ok(RosterJson {
        provider: provider_name,
        model: model_name,
        concurrency,
        athletes: rows,
        totals,
        limiter,
    })
}
