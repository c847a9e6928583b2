//! `cycling-ai generate`: the 4-phase report pipeline.
//!
//! 1. data preparation (no model): import, profile, the analysis bundle;
//! 2. performance analysis: the narrative (rule-based coach offline; a model otherwise);
//! 3. training plan: overview → rule check → weeks filled from the workout library;
//! 4. report: index.html, report_data.json, report.md, plan.json, workouts/.
//!
//! Each phase writes a checkpoint in `OUT/checkpoints/` atomically; `--resume` continues after the
//! last finished phase with the same inputs, so an interrupted run loses no finished phase.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use coach::bundle::AnalysisBundle;
use coach::narrative::Narrative;
use coach::plan::TrainingPlan;
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use store::{ImportSource, Store};

use agent::analysis_llm::{CallStats, Caller, ModelSettings};
use llm::log::InteractionLog;

use super::{Global, athlete, import, print_json};
use crate::args::{GenerateArgs, WorkoutSource};
use crate::providers_setup::{self, Selection};
use crate::term;

/// The provider that needs no network and no key: the rule-based coach.
pub const OFFLINE: &str = providers_setup::OFFLINE;

/// What a run was asked to do: a resumed run must match it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RunKey {
    profile: String,
    provider: String,
    model: Option<String>,
    period_weeks: u32,
    plan_weeks: Option<u32>,
    goal: Option<String>,
    event_date: Option<Date>,
    plan_start: Option<Date>,
    seed: u64,
    skip_training_plan: bool,
    /// `library` or `llm` (empty in checkpoints written before the option existed).
    #[serde(default)]
    workout_source: String,
    /// Activities and the last date in the store when the run started.
    activities: u64,
    as_of: Date,
}

/// One phase of this run: what the report shows, plus whether an earlier run did the work.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseStats {
    #[serde(flatten)]
    pub cost: report::PhaseCost,
    /// Finished in an earlier run (`--resume`): nothing was spent on it in this one.
    pub resumed: bool,
    /// Seconds of `seconds` spent waiting on the model provider (the rest is our own work).
    pub model_wait_s: f64,
}

#[derive(Serialize)]
struct GenerateJson<'a> {
    report: String,
    output_dir: String,
    provider: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    phases: &'a [PhaseStats],
    files: Vec<String>,
}

pub fn run(global: &Global, args: GenerateArgs) -> Result<()> {
    let report = generate(global, &args)?;
    if global.json {
        let files = list_files(&args.output_dir);
        return print_json(&GenerateJson {
            report: report.index.display().to_string(),
            output_dir: args.output_dir.display().to_string(),
            provider: &report.provider,
            model: report.model.as_deref(),
            phases: &report.phases,
            files,
        });
    }
    print_summary_for(&report.heading(), &report.phases);
    println!("\nReport: {}", report.index.display());
    Ok(())
}

pub struct Generated {
    pub index: PathBuf,
    pub phases: Vec<PhaseStats>,
    /// `offline` or the provider's name.
    pub provider: String,
    /// The model that answered (or was asked for), with a provider.
    pub model: Option<String>,
}

impl Generated {
    fn heading(&self) -> String {
        match &self.model {
            Some(m) => format!("Generated with {} {m}", self.provider),
            None => "Generated with the rule-based coach (no model configured)".into(),
        }
    }
}

/// The model side of a run: the chosen provider, built once the first model phase needs it.
struct ModelRun {
    sel: Selection,
    runtime: tokio::runtime::Runtime,
    provider: Option<Box<dyn llm::Provider>>,
    log: Option<InteractionLog>,
    /// The model that answered the last call (a router's choice, or the resolved id).
    model_used: Option<String>,
}

impl ModelRun {
    fn new(sel: Selection, global: &Global, progress: &Progress) -> Result<ModelRun> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let log = match InteractionLog::open(&global.data_dir) {
            Ok(l) => Some(l),
            Err(e) => {
                progress.warn(&format!("{e}; model calls are not logged"));
                None
            }
        };
        Ok(ModelRun {
            sel,
            runtime,
            provider: None,
            log,
            model_used: None,
        })
    }

    /// Build the provider on first use (a fully resumed run never needs it).
    fn ensure_provider(&mut self) -> Result<()> {
        if self.provider.is_none() {
            let sel = &self.sel;
            let built = self
                .runtime
                .block_on(providers_setup::build_provider(
                    &sel.provider,
                    &sel.settings,
                    sel.catalog.clone(),
                ))
                .with_context(|| format!("setting up {} (model {})", sel.provider, sel.model))?;
            self.provider = Some(built);
        }
        Ok(())
    }

    fn settings(&self, default_max_tokens: u32) -> ModelSettings {
        ModelSettings {
            model: self.sel.model.clone(),
            max_tokens: self.sel.max_tokens(default_max_tokens),
            temperature: self.sel.temperature(),
        }
    }

    fn label(&self) -> String {
        format!(
            "{} {}",
            self.sel.provider,
            self.model_used.as_deref().unwrap_or(&self.sel.model)
        )
    }
}

/// Why a model phase stopped.
enum PhaseFailure<E> {
    Interrupted,
    Failed(E),
}

/// Run one model phase, raced with Ctrl-C. Either way the finished phases' checkpoints stay as
/// they are (a phase's checkpoint is written only once it has finished).
fn run_phase<T, E: std::fmt::Display>(
    runtime: &tokio::runtime::Runtime,
    n: u32,
    name: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T> {
    let outcome = runtime.block_on(async {
        tokio::select! {
            r = fut => r.map_err(PhaseFailure::Failed),
            _ = tokio::signal::ctrl_c() => Err(PhaseFailure::Interrupted),
        }
    });
    match outcome {
        Ok(v) => Ok(v),
        Err(PhaseFailure::Interrupted) => bail!(
            "interrupted in phase {n} ({name}); finished phases are kept — rerun with --resume"
        ),
        Err(PhaseFailure::Failed(e)) => {
            bail!("phase {n} ({name}) failed: {e}; finished phases are kept — rerun with --resume")
        }
    }
}

pub fn generate(global: &Global, args: &GenerateArgs) -> Result<Generated> {
    let flags = args.aws.flags(args.provider.clone(), args.model.clone());
    // An explicit `--provider offline` (the demo's) needs nothing from the config file, so a
    // broken file cannot stop an offline report.
    let selection = if args.provider.as_deref() == Some(OFFLINE) {
        None
    } else {
        providers_setup::select(&flags, &args.aws.bedrock)?
    };
    if selection.is_none() {
        if let Some(m) = &args.model {
            bail!(
                "--model {m}: no model provider is selected; pass --provider NAME (bedrock, anthropic, openai, gemini, ollama) or set default_provider in the config file"
            );
        }
        if args.aws.bedrock.is_set() {
            bail!(
                "--guardrail-id, --latency, --retry-mode and --max-attempts need --provider bedrock"
            );
        }
    }
    if args.workout_source == WorkoutSource::Llm && selection.is_none() {
        bail!(
            "--workout-source llm needs a model provider; use --workout-source library with --provider offline"
        );
    }
    let event_date = args
        .event_date
        .as_deref()
        .map(|t| parse_date("--event-date", t))
        .transpose()?;
    let plan_start = args
        .plan_start
        .as_deref()
        .map(|t| parse_date("--plan-start", t))
        .transpose()?;
    std::fs::create_dir_all(&args.output_dir).with_context(|| {
        format!(
            "creating the output directory {}",
            args.output_dir.display()
        )
    })?;
    let checkpoints = Checkpoints::new(&args.output_dir)?;
    // Live progress is for people: on a terminal only, like the import progress bar.
    let progress =
        Progress::new(!global.json && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match &selection {
        Some(sel) => progress.note_top(&format!(
            "coach: {} {} ({})",
            sel.provider, sel.model, sel.provider_source
        )),
        None => progress.note_top(
            "no model configured: rule-based coach (pass --provider, or set default_provider in the config file)",
        ),
    }
    let provider_name = selection
        .as_ref()
        .map_or_else(|| OFFLINE.to_string(), |s| s.provider.clone());
    let model_name = selection.as_ref().map(|s| s.model.clone());
    let mut phases = Vec::new();

    // Phase 1: data preparation.
    progress.start(1, "data preparation");
    let t = Instant::now();
    let mut store = Store::open(&global.data_dir)?;
    let ctx = athlete::resolve(&mut store, args.profile.as_deref())?;
    if let Some(source) = import_source(args) {
        let report = import::run_import(&mut store, ctx.athlete.id, &source, &ctx.profile, false)?;
        progress.note(&format!(
            "imported {} (+{} summary only, {} unchanged, {} failed)",
            report.imported,
            report.summary_only,
            report.skipped_unchanged,
            report.failed.len()
        ));
    }
    if !ctx.has_profile {
        bail!(
            "no athlete profile: pass --profile FILE (the report needs FTP, availability and goals)"
        );
    }
    let period_weeks = (f64::from(args.period_months) * 52.0 / 12.0).round() as u32;
    let as_of = store
        .latest_activity_date(ctx.athlete.id)?
        .context("no activities in the database: pass --export, --csv or --fit-dir")?;
    let key = RunKey {
        profile: ctx.profile.to_canonical_json(),
        provider: provider_name.clone(),
        model: model_name.clone(),
        period_weeks,
        plan_weeks: args.training_plan_weeks,
        goal: args.goal.clone(),
        event_date,
        plan_start,
        seed: args.seed,
        skip_training_plan: args.skip_training_plan,
        workout_source: match args.workout_source {
            WorkoutSource::Library => "library",
            WorkoutSource::Llm => "llm",
        }
        .to_string(),
        activities: store.activity_count(ctx.athlete.id)?,
        as_of,
    };
    checkpoints.begin(&key, args.resume)?;
    let bundle: AnalysisBundle = match checkpoints.load(PHASE_DATA)? {
        Some(b) => {
            phases.push(resumed("data preparation"));
            b
        }
        None => {
            let b = agent::bundle::build_bundle(
                &store,
                ctx.athlete.id,
                &ctx.profile,
                Some(as_of),
                period_weeks,
            )?;
            checkpoints.save(PHASE_DATA, &b)?;
            phases.push(offline_phase("data preparation", t));
            b
        }
    };
    drop(store);
    progress.done(&phases[0]);

    let mut model = match selection {
        Some(sel) => Some(ModelRun::new(sel, global, &progress)?),
        None => None,
    };

    // Phase 2: performance analysis.
    progress.start(2, "performance analysis");
    let t = Instant::now();
    let narrative: Narrative = match checkpoints.load::<Narrative>(PHASE_ANALYSIS)? {
        Some(n) => {
            phases.push(resumed("performance analysis"));
            // A resumed run makes no call of its own to learn the model that answered; the
            // narrative's author ("<provider> <model used>") recorded it.
            if let Some(m) = model.as_mut() {
                let prefix = format!("{} ", m.sel.provider);
                if let Some(used) = n.author.strip_prefix(&prefix) {
                    m.model_used.get_or_insert_with(|| used.to_string());
                }
            }
            n
        }
        None => match model.as_mut() {
            None => {
                let n = coach::offline::narrative(&bundle);
                checkpoints.save(PHASE_ANALYSIS, &n)?;
                phases.push(offline_phase("performance analysis", t));
                n
            }
            Some(m) => {
                let settings = m.settings(agent::analysis_llm::DEFAULT_MAX_TOKENS);
                m.ensure_provider()?;
                let show = |s: &CallStats| progress.calls(&m.sel.model, s);
                let provider = m.provider.as_deref().expect("built above");
                let mut caller =
                    Caller::new(provider, &m.sel.catalog, m.log.as_ref()).with_progress(&show);
                progress.note(&format!("asking {} {} …", m.sel.provider, m.sel.model));
                let n = run_phase(
                    &m.runtime,
                    2,
                    "performance analysis",
                    agent::analysis_llm::analyse(&mut caller, &settings, &bundle),
                );
                report_log_errors(&progress, &caller.stats);
                let n = n?;
                let stats = caller.stats;
                m.model_used = stats.model_used.clone().or(m.model_used.take());
                checkpoints.save(PHASE_ANALYSIS, &n)?;
                phases.push(model_phase("performance analysis", t, &stats));
                n
            }
        },
    };
    progress.done(&phases[1]);

    // Phase 3: training plan.
    let plan: Option<TrainingPlan> = if args.skip_training_plan {
        phases.push(phase_stats("training plan (skipped)", 0.0, false));
        None
    } else {
        progress.start(3, "training plan");
        let t = Instant::now();
        let plan = match checkpoints.load(PHASE_PLAN)? {
            Some(p) => {
                phases.push(resumed("training plan"));
                p
            }
            None => {
                let inputs = plan::inputs(&ctx.profile, &bundle, args, event_date, plan_start)?;
                let (p, stats, source) = match model.as_mut() {
                    None => (
                        coach::planner::fill_plan(&plan::offline_overview(&inputs)?, &inputs.fill),
                        None,
                        OFFLINE.to_string(),
                    ),
                    Some(m) => {
                        let settings = m.settings(agent::plan_llm::DEFAULT_MAX_TOKENS);
                        m.ensure_provider()?;
                        let show = |s: &CallStats| progress.calls(&m.sel.model, s);
                        let provider = m.provider.as_deref().expect("built above");
                        let mut caller = Caller::new(provider, &m.sel.catalog, m.log.as_ref())
                            .with_progress(&show);
                        progress.note(&format!(
                            "asking {} {} for the plan overview …",
                            m.sel.provider, m.sel.model
                        ));
                        let prompt = agent::plan_llm::PlanPrompt {
                            constraints: &inputs.planner.constraints,
                            goal: inputs.planner.goal.as_deref(),
                            ctl: inputs.planner.ctl,
                            ftp_w: inputs.planner.ftp_w,
                            narrative: &narrative,
                            bundle: &bundle,
                        };
                        let llm_weeks = args.workout_source == WorkoutSource::Llm;
                        let week_settings = m.settings(agent::plan_llm::WEEK_MAX_TOKENS);
                        let caller_ref = &mut caller;
                        let work = async {
                            let o =
                                agent::plan_llm::design_overview(caller_ref, &settings, &prompt)
                                    .await?;
                            // The library fills every day first; with `--workout-source llm`
                            // the model then rewrites the rides week by week.
                            let mut p = coach::planner::fill_plan(&o, &inputs.fill);
                            if llm_weeks {
                                agent::plan_llm::write_weeks(caller_ref, &week_settings, &mut p)
                                    .await?;
                            }
                            Ok::<_, agent::plan_llm::PlanLlmError>(p)
                        };
                        let p = run_phase(&m.runtime, 3, "training plan", work);
                        report_log_errors(&progress, &caller.stats);
                        let p = p?;
                        let stats = caller.stats;
                        m.model_used = stats.model_used.clone().or(m.model_used.take());
                        (p, Some(stats), m.label())
                    }
                };
                // Kept in the store first, so `chat` can compare plan and actual; then the
                // checkpoint (a resumed run does not store the same plan twice).
                store_plan(global, ctx.athlete.id, &p, &source)?;
                checkpoints.save(PHASE_PLAN, &p)?;
                phases.push(match &stats {
                    Some(s) => model_phase("training plan", t, s),
                    None => offline_phase("training plan", t),
                });
                p
            }
        };
        progress.done(&phases[2]);
        Some(plan)
    };

    // Phase 4: report (always re-rendered: cheap, and it shows the costs of this run).
    progress.start(4, "report");
    let t = Instant::now();
    let mut run_phases: Vec<report::PhaseCost> = phases.iter().map(|p| p.cost.clone()).collect();
    run_phases.push(phase_stats("report", 0.0, false).cost);
    let (provider_label, model_label, notes) = match &model {
        None => (
            "offline (rule-based coach, no model used)".to_string(),
            None,
            vec![
                "No language model was configured: the narrative and the plan come from the rule-based coach; every number comes from your data."
                    .to_string(),
            ],
        ),
        Some(m) => {
            let used = m.model_used.clone().unwrap_or_else(|| m.sel.model.clone());
            let mut notes = vec![format!(
                "The narrative was written by {} and the plan overview designed by {} {used}, both checked by code (schema, plan rules); every number comes from your data, not from the model.",
                narrative.author, m.sel.provider
            )];
            notes.push(if args.workout_source == WorkoutSource::Llm {
                format!("The rides of every week were written by {} {used} and checked (types, durations within ±15 %, power 30–200 % of FTP); strength sessions come from the built-in library.", m.sel.provider)
            } else {
                "The workouts come from the built-in workout library, fitted to each day's planned hours.".to_string()
            });
            if phases.iter().any(|p| p.resumed) {
                notes.push(
                    "Resumed run: phases marked as resumed were done, and paid for, in an earlier run."
                        .into(),
                );
            }
            if phases.iter().any(|p| p.cost.cost_usd.is_none()) {
                notes.push(format!(
                    "The price of {used} is not in the model catalog: its cost is shown as unknown."
                ));
            }
            (m.sel.provider.clone(), Some(used), notes)
        }
    };
    let run = report::RunInfo {
        generated_at: jiff::Timestamp::now(),
        provider: provider_label,
        model: model_label.clone(),
        phases: run_phases,
        notes,
    };
    let files = report::write_report(
        &args.output_dir,
        &report::ReportInput {
            bundle: &bundle,
            narrative: &narrative,
            plan: plan.as_ref(),
            run: &run,
        },
    )?;
    phases.push(offline_phase("report", t));
    progress.done(&phases[3]);
    Ok(Generated {
        index: files.index_html,
        phases,
        provider: provider_name,
        model: model_label,
    })
}

fn report_log_errors(progress: &Progress, stats: &CallStats) {
    for e in &stats.log_errors {
        progress.warn(e);
    }
}

/// Keep the plan in the store (`chat` compares it with what was ridden).
fn store_plan(global: &Global, athlete_id: i64, plan: &TrainingPlan, source: &str) -> Result<()> {
    let end = plan
        .start_date
        .checked_add((i64::try_from(plan.weeks.len()).unwrap_or(0) * 7 - 1).days())
        .unwrap_or(plan.start_date);
    let json = serde_json::to_string(plan).context("serialising the plan")?;
    let mut store = Store::open(&global.data_dir)?;
    store
        .save_plan(
            athlete_id,
            &plan.start_date.to_string(),
            &end.to_string(),
            source,
            &json,
        )
        .context("storing the plan")?;
    Ok(())
}

/// A phase run by the rule-based coach: no model calls, nothing spent.
fn phase_stats(name: &str, seconds: f64, resumed: bool) -> PhaseStats {
    PhaseStats {
        cost: report::PhaseCost {
            phase: name.to_string(),
            seconds,
            model_calls: 0,
            input_tokens: 0,
            output_tokens: 0,
            cached_tokens: 0,
            cost_usd: Some(0.0),
        },
        resumed,
        model_wait_s: 0.0,
    }
}

fn offline_phase(name: &str, started: Instant) -> PhaseStats {
    phase_stats(name, started.elapsed().as_secs_f64(), false)
}

/// A phase that called a model. `input_tokens` counts every prompt token, cached ones included
/// (the report's convention: `cached_tokens` is a part of it); `llm::Usage::input` excludes
/// cache reads and writes, so they are added back here.
fn model_phase(name: &str, started: Instant, stats: &CallStats) -> PhaseStats {
    let u = &stats.usage;
    PhaseStats {
        cost: report::PhaseCost {
            phase: name.to_string(),
            seconds: started.elapsed().as_secs_f64(),
            model_calls: stats.calls,
            input_tokens: u.input + u.cache_read + u.cache_write,
            output_tokens: u.output,
            cached_tokens: u.cache_read,
            cost_usd: stats.cost_usd,
        },
        resumed: false,
        model_wait_s: stats.waiting.as_secs_f64(),
    }
}

fn resumed(name: &str) -> PhaseStats {
    phase_stats(name, 0.0, true)
}

fn import_source(args: &GenerateArgs) -> Option<ImportSource> {
    if let Some(d) = &args.export {
        Some(ImportSource::Export(d.clone()))
    } else if let Some(f) = &args.csv {
        Some(ImportSource::Csv(f.clone()))
    } else {
        args.fit_dir
            .as_ref()
            .map(|d| ImportSource::FitDir(d.clone()))
    }
}

fn parse_date(flag: &str, text: &str) -> Result<Date> {
    text.parse::<Date>()
        .with_context(|| format!("{flag} {text:?}: expected a date like 2026-06-30"))
}

/// The Monday on or after `d`.
pub fn next_monday(d: Date) -> Date {
    let mut d = d;
    while d.weekday() != Weekday::Monday {
        d = d.checked_add(1.day()).unwrap_or(d);
    }
    d
}

mod plan {
    //! Phase 3's inputs from the profile and flags, and the rule-based overview.
    use super::*;

    /// What both planners (rule-based or model) and the library fill need.
    pub struct PlanInputs {
        pub planner: coach::planner::PlannerInput,
        pub fill: coach::planner::FillInput,
    }

    pub fn inputs(
        profile: &ride::profile::Profile,
        bundle: &AnalysisBundle,
        args: &GenerateArgs,
        event_date: Option<Date>,
        plan_start: Option<Date>,
    ) -> Result<PlanInputs> {
        let weeks = args
            .training_plan_weeks
            .or(profile.training_plan_weeks)
            .unwrap_or(12);
        let start_date = next_monday(
            plan_start.unwrap_or_else(|| bundle.as_of.checked_add(1.day()).unwrap_or(bundle.as_of)),
        );
        let coach::planner::PlanBasis {
            constraints,
            ftp_w,
            goal,
        } = coach::planner::constraints_for(
            profile,
            bundle.as_of,
            weeks,
            start_date,
            event_date,
            args.goal.clone(),
        )?;
        let event_date = constraints.event_date;
        let trains_strength = bundle
            .cross_training
            .categories
            .iter()
            .any(|c| c.category == metrics::cross_training::Category::Strength && c.count > 0);
        Ok(PlanInputs {
            planner: coach::planner::PlannerInput {
                constraints,
                goal: goal.clone(),
                ctl: bundle.fitness_now.map(|d| d.ctl),
                ftp_w,
                trains_strength,
                start_phase: None,
            },
            fill: coach::planner::FillInput {
                start_date,
                ftp_w,
                seed: args.seed,
                event_date,
                goal,
            },
        })
    }

    /// The rule-based overview, checked like a model's would be.
    pub fn offline_overview(inputs: &PlanInputs) -> Result<coach::plan::PlanOverview> {
        let overview = coach::planner::offline_overview(&inputs.planner);
        // The rule-based planner is built to satisfy the rules; check anyway, as for a model's plan.
        let violations = coach::rules::check_overview(&overview, &inputs.planner.constraints);
        if !violations.is_empty() {
            let list: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
            bail!(
                "the plan overview breaks the plan rules: {}",
                list.join("; ")
            );
        }
        Ok(overview)
    }
}

const PHASE_DATA: &str = "1-data";
const PHASE_ANALYSIS: &str = "2-analysis";
const PHASE_PLAN: &str = "3-plan";

/// Phase checkpoints: `OUT/checkpoints/<phase>.json`, written atomically (temp file + rename),
/// plus `run.json` naming the inputs they were made from.
struct Checkpoints {
    dir: PathBuf,
}

impl Checkpoints {
    fn new(out: &Path) -> Result<Checkpoints> {
        let dir = out.join("checkpoints");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Checkpoints { dir })
    }

    /// Start a run: with `resume`, the stored inputs must match; without, old checkpoints go.
    fn begin(&self, key: &RunKey, resume: bool) -> Result<()> {
        let path = self.dir.join("run.json");
        if resume {
            match read_json::<RunKey>(&path)? {
                Some(stored) if &stored == key => return Ok(()),
                Some(_) => bail!(
                    "--resume: the checkpoints in {} were made with other inputs (profile, flags or \
                     data changed); run without --resume to start over",
                    self.dir.display()
                ),
                None => {}
            }
        }
        for phase in [PHASE_DATA, PHASE_ANALYSIS, PHASE_PLAN] {
            let p = self.dir.join(format!("{phase}.json"));
            if p.exists() {
                std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
        write_json_atomic(&path, key)
    }

    fn load<T: DeserializeOwned>(&self, phase: &str) -> Result<Option<T>> {
        read_json(&self.dir.join(format!("{phase}.json")))
    }

    fn save<T: Serialize>(&self, phase: &str, value: &T) -> Result<()> {
        write_json_atomic(&self.dir.join(format!("{phase}.json")), value)
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map(Some).with_context(|| {
            format!(
                "{}: not a valid checkpoint; run without --resume",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Write via a temporary file in the same directory and rename: a crash leaves the old file or
/// the new one, never half of one.
fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(value).context("serialising a checkpoint")?;
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

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

/// Live per-phase progress on stderr.
struct Progress {
    show: bool,
}

impl Progress {
    fn new(show: bool) -> Progress {
        Progress { show }
    }
    fn start(&self, n: u32, name: &str) {
        if self.show {
            eprintln!("[{n}/4] {name} …");
        }
    }
    fn note(&self, text: &str) {
        if self.show {
            eprintln!("      {text}");
        }
    }
    /// A line before the phases (which coach runs).
    fn note_top(&self, text: &str) {
        if self.show {
            eprintln!("{text}");
        }
    }
    /// Shown whatever the terminal: a warning matters in logs too.
    fn warn(&self, text: &str) {
        eprintln!("{} {text}", term::warning_label());
    }
    /// After each model call: the model and the phase's calls and tokens so far.
    fn calls(&self, model: &str, s: &CallStats) {
        if self.show {
            eprintln!(
                "      {} · call {} · {} in / {} out tokens",
                s.model_used.as_deref().unwrap_or(model),
                s.calls,
                s.usage.input + s.usage.cache_read + s.usage.cache_write,
                s.usage.output
            );
        }
    }
    fn done(&self, p: &PhaseStats) {
        if self.show {
            if p.resumed {
                eprintln!("      done in an earlier run (resumed)");
            } else {
                eprintln!("      done in {:.2} s", p.cost.seconds);
            }
        }
    }
}

/// The summary table after a rule-based run (`demo`).
pub fn print_summary(phases: &[PhaseStats]) {
    print_summary_for(
        "Generated with the rule-based coach (no model configured)",
        phases,
    );
}

/// The summary table: phase, time, model calls, tokens, cost; then a total row.
pub fn print_summary_for(heading: &str, phases: &[PhaseStats]) {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "phase",
        "time",
        "model calls",
        "input tok",
        "output tok",
        "cached tok",
        "cost",
    ]);
    let mut total = phase_stats("total", 0.0, false).cost;
    for p in phases {
        let time = if p.resumed {
            "resumed".to_string()
        } else {
            format!("{:.2} s", p.cost.seconds)
        };
        t.add_row(summary_row(&p.cost, time));
        total.seconds += p.cost.seconds;
        total.model_calls += p.cost.model_calls;
        total.input_tokens += p.cost.input_tokens;
        total.output_tokens += p.cost.output_tokens;
        total.cached_tokens += p.cost.cached_tokens;
        total.cost_usd = total.cost_usd.zip(p.cost.cost_usd).map(|(a, b)| a + b);
    }
    let time = format!("{:.2} s", total.seconds);
    t.add_row(summary_row(&total, time));
    println!("{}", term::heading(heading));
    println!("{t}");
}

fn summary_row(c: &report::PhaseCost, time: String) -> Vec<String> {
    vec![
        c.phase.clone(),
        time,
        c.model_calls.to_string(),
        c.input_tokens.to_string(),
        c.output_tokens.to_string(),
        c.cached_tokens.to_string(),
        c.cost_usd
            .map_or_else(|| "price unknown".into(), |c| format!("${c:.4}")),
    ]
}
