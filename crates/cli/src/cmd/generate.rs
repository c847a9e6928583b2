//! `cycling-ai generate`: the 4-phase report pipeline (`agent::workflow`) from the command line.
//! This file turns arguments into workflow options, builds the provider, shows progress on a
//! terminal and prints the summary table; the pipeline itself is the library's.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use agent::workflow::{
    self, ModelChoice, Options, Outcome, PhaseStats, PlanOptions, WorkoutSource,
};
use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use serde::Serialize;
use store::ImportSource;

pub use super::run_progress::Progress;
use super::{Global, print_json};
use crate::args::{self, GenerateArgs};
use crate::config::Setting;
use crate::providers_setup::{self, Selection};

#[derive(Serialize)]
struct GenerateJson<'a> {
    report: String,
    output_dir: String,
    provider: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    phases: &'a [PhaseStats],
    /// The run's wall time (phases 2 and 3 overlap with a model).
    wall_s: f64,
    files: Vec<String>,
}

pub fn run(global: &Global, args: GenerateArgs) -> Result<()> {
    if args.all {
        return super::generate_all::run(global, &args);
    }
    let output_dir = output_dir(global, &args)?;
    let outcome = generate(global, &args, &output_dir)?;
    if global.json {
        return print_json(&GenerateJson {
            report: outcome.files.index_html.display().to_string(),
            output_dir: output_dir.display().to_string(),
            provider: &outcome.provider,
            model: outcome.model.as_deref(),
            phases: &outcome.phases,
            wall_s: outcome.wall_s,
            files: list_files(&output_dir),
        });
    }
    super::phase_table::print_summary(&outcome.heading(), &outcome.phases, outcome.wall_s);
    println!("\nReport: {}", outcome.files.index_html.display());
    Ok(())
}

/// Where the reports go when `--output-dir` is not given.
pub(super) const DEFAULT_OUTPUT_DIR: &str = "reports";

/// `--output-dir`, else `reports`, or `reports/<athlete>` when the store holds several athletes
/// (so one athlete's report never overwrites another's).
fn output_dir(global: &Global, args: &GenerateArgs) -> Result<PathBuf> {
    if let Some(dir) = &args.output_dir {
        return Ok(dir.clone());
    }
    let base = PathBuf::from(DEFAULT_OUTPUT_DIR);
    if !global.data_dir.join(store::DB_FILE_NAME).is_file() {
        return Ok(base);
    }
    let mut store = store::Store::open(&global.data_dir)?;
    if store.athletes()?.len() <= 1 {
        return Ok(base);
    }
    let athlete = store.resolve_athlete(global.athlete.as_deref())?;
    Ok(base.join(&athlete.name))
}

/// The model provider `generate` uses, if any (`None`: the rule-based coach), with the flags
/// that only make sense with a model checked.
pub(super) fn selection(args: &GenerateArgs) -> Result<Option<Selection>> {
    let flags = args.aws.flags(args.provider.clone(), args.model.clone());
    // An explicit `--provider offline` needs nothing from the config file, so a broken file
    // cannot stop an offline report.
    let selection = if args.provider.as_deref() == Some(workflow::OFFLINE) {
        None
    } else {
        providers_setup::select(&flags, &args.aws.bedrock)?
    };
    if selection.is_none() {
        if let Some(m) = &args.model {
            bail!(
                "--model {m}: no model provider is selected; pass --provider NAME ({}) or set default_provider in the config file",
                llm::registry::name_list()
            );
        }
        if args.aws.bedrock.is_set() {
            bail!(
                "--guardrail-id, --latency, --retry-mode and --max-attempts need --provider bedrock"
            );
        }
    }
    Ok(selection)
}

/// The plan the arguments ask for; `with_model`: a provider is selected.
pub(super) fn plan_options(args: &GenerateArgs, with_model: bool) -> Result<PlanOptions> {
    let workouts = match args.workout_source {
        args::WorkoutSource::Library => WorkoutSource::Library,
        args::WorkoutSource::Llm => WorkoutSource::Model,
    };
    if workouts == WorkoutSource::Model && !with_model {
        bail!(
            "--workout-source llm needs a model provider; use --workout-source library with --provider offline"
        );
    }
    Ok(PlanOptions {
        skip: args.skip_training_plan,
        weeks: args.plan.training_plan_weeks,
        goal: args.plan.goal.clone(),
        event_date: parse_date("--event-date", args.plan.event_date.as_deref())?,
        start: parse_date("--plan-start", args.plan.plan_start.as_deref())?,
        workouts,
        seed: args.seed,
    })
}

fn generate(global: &Global, args: &GenerateArgs, output_dir: &Path) -> Result<Outcome> {
    let selection = selection(args)?;
    let plan = plan_options(args, selection.is_some())?;
    // Live progress is for people: on a terminal only, like the import progress bar.
    let progress =
        Progress::new(!global.json && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match &selection {
        Some(sel) => progress.line(&format!(
            "coach: {} {} ({})",
            sel.provider, sel.model, sel.provider_source
        )),
        None => progress.line(
            "no model configured: rule-based coach (pass --provider, or set default_provider in the config file)",
        ),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let model = match selection {
        Some(sel) => Some(runtime.block_on(model_choice(sel))?),
        None => None,
    };
    let options = Options {
        data_dir: global.data_dir.clone(),
        athlete: global.athlete.clone(),
        profile: args.profile.clone(),
        import: import_source(args),
        output_dir: output_dir.to_path_buf(),
        period_weeks: workflow::weeks_in_months(args.period_months),
        plan,
        resume: args.resume,
        strict: args.strict,
        model,
        sequential: false,
    };
    run_interruptible(&runtime, options, &progress)
}

/// Run the workflow; Ctrl-C during a model phase stops it with what to do next. Before the
/// first model phase Ctrl-C keeps its default meaning (the import is one transaction).
pub fn run_interruptible(
    runtime: &tokio::runtime::Runtime,
    options: Options,
    progress: &Progress,
) -> Result<Outcome> {
    let interrupted = runtime.block_on(async {
        let armed = async {
            progress.armed.notified().await;
            tokio::signal::ctrl_c().await
        };
        tokio::select! {
            r = workflow::run(options, progress) => Ok(r),
            _ = armed => Err(()),
        }
    });
    match interrupted {
        Ok(outcome) => Ok(outcome?),
        Err(()) => {
            let running = progress.running.load(Ordering::Relaxed);
            let names: Vec<String> = (1..=4u32)
                .filter(|n| running & (1 << n) != 0)
                .map(|n| format!("{n} ({})", workflow::PHASES[n as usize - 1]))
                .collect();
            let during = match names.as_slice() {
                [] => "interrupted".to_string(),
                [one] => format!("interrupted in phase {one}"),
                many => format!("interrupted in phases {}", many.join(" and ")),
            };
            bail!("{during}; finished phases are kept — rerun with --resume")
        }
    }
}

/// The provider built from the selection, with the configured output budget and temperature.
pub(crate) async fn model_choice(sel: Selection) -> Result<ModelChoice> {
    let doing = format!("setting up {} (model {})", sel.provider, sel.model);
    let c = providers_setup::connect_selection(&sel, doing).await?;
    Ok(ModelChoice {
        provider: c.provider,
        max_tokens: sel.settings.get("max_tokens").and_then(Setting::as_u32),
        temperature: sel.temperature(),
        model: c.model,
        catalog: sel.catalog,
        notices: c.notices,
    })
}

fn import_source(args: &GenerateArgs) -> Option<ImportSource> {
    if let Some(d) = &args.export {
        Some(ImportSource::Export(d.clone()))
    } else if let (Some(csv), Some(files)) = (&args.csv, &args.fit_dir) {
        Some(ImportSource::CsvWithFiles {
            csv: csv.clone(),
            files: files.clone(),
        })
    } else if let Some(f) = &args.csv {
        Some(ImportSource::Csv(f.clone()))
    } else {
        args.fit_dir
            .as_ref()
            .map(|d| ImportSource::FitDir(d.clone()))
    }
}

pub(super) fn parse_date(flag: &str, text: Option<&str>) -> Result<Option<Date>> {
    text.map(|t| {
        t.parse::<Date>()
            .with_context(|| format!("{flag} {t:?}: expected a date like 2026-06-30"))
    })
    .transpose()
}

/// Every file under `dir` but the checkpoints, relative and sorted.
fn list_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "checkpoints") {
                    stack.push(p);
                }
            } else {
                out.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
            }
        }
    }
    out.sort();
    out
}
