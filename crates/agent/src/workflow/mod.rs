//! The report pipeline as a library: typed [`Options`] in, four phases, a typed [`Outcome`] out.
//!
//! 1. data preparation (no model): import, profile, the analysis bundle;
//! 2. performance analysis: the narrative (the rule-based coach without a model; a model's
//!    checked JSON otherwise);
//! 3. training plan: overview → rule check → weeks filled from the workout library (or written
//!    by the model), kept in the store;
//! 4. report: index.html, report_data.json, report.md, plan.json, workouts/.
//!
//! Each of the first three phases writes a checkpoint (`OUT/checkpoints/`) atomically once it has
//! finished; with [`Options::resume`] a run continues after the last finished phase of a run
//! with the same inputs, so an interrupted or failed run loses no finished phase. Dropping the
//! future (Ctrl-C) is safe at any point for the same reason.
//!
//! Nothing here prints: progress goes to an [`Observer`], whose methods do nothing by default.

mod checkpoints;
mod plan_inputs;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use coach::bundle::AnalysisBundle;
use coach::narrative::Narrative;
use coach::plan::TrainingPlan;
use jiff::civil::Date;
use llm::log::InteractionLog;
use llm::{CallStats, Catalog, Meter, Provider};
use serde::Serialize;
use store::{ImportReport, ImportSource, Store, StoreError};
use tracing::Instrument;

use crate::analysis_llm::{self, ModelSettings};
use crate::bundle::DataError;
use crate::plan_llm::{self, PlanPrompt};
use crate::plan_store;
use checkpoints::{Checkpoints, RunKey};
pub use plan_inputs::{DEFAULT_PLAN_WEEKS, PlanInputs, next_monday};

/// The name that means "no model: the rule-based coach".
pub const OFFLINE: &str = "offline";

/// The phases, in order (the report and the progress lines name them so).
pub const PHASES: [&str; 4] = [
    "data preparation",
    "performance analysis",
    "training plan",
    "report",
];

/// Who writes each week's workouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkoutSource {
    /// The built-in workout library, fitted to each day's planned hours.
    #[default]
    Library,
    /// The model, week by week, checked; strength sessions stay the library's.
    Model,
}

impl WorkoutSource {
    /// The name in the checkpoint key (and on the command line).
    fn key(self) -> &'static str {
        match self {
            WorkoutSource::Library => "library",
            WorkoutSource::Model => "llm",
        }
    }
}

/// What the plan phase is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// Analysis and report only.
    pub skip: bool,
    /// Plan length; default the profile's, else [`DEFAULT_PLAN_WEEKS`].
    pub weeks: Option<u32>,
    /// Default: the profile's goals.
    pub goal: Option<String>,
    /// The plan tapers into it; default the profile's.
    pub event_date: Option<Date>,
    /// First day (moved to its Monday); default the Monday after the last activity.
    pub start: Option<Date>,
    pub workouts: WorkoutSource,
    /// Seed of the workout choice: the same seed gives the same plan.
    pub seed: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            skip: false,
            weeks: None,
            goal: None,
            event_date: None,
            start: None,
            workouts: WorkoutSource::Library,
            seed: 1,
        }
    }
}

/// The model side of a run: a provider already built, and how to call it.
pub struct ModelChoice {
    pub provider: Box<dyn Provider>,
    /// The model as the user gave it (id, alias, inference profile, ARN).
    pub model: String,
    pub catalog: Arc<Catalog>,
    /// The configured output budget; each phase has its own default.
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

impl ModelChoice {
    fn settings(&self, default_max_tokens: u32) -> ModelSettings {
        ModelSettings {
            model: self.model.clone(),
            max_tokens: self.max_tokens.unwrap_or(default_max_tokens),
            temperature: self.temperature,
        }
    }
}

/// Everything a run needs, already parsed and resolved.
pub struct Options {
    /// Holds the database and the interaction log.
    pub data_dir: PathBuf,
    /// A profile file to validate and store first; default the stored profile.
    pub profile: Option<PathBuf>,
    /// Imported first (incrementally).
    pub import: Option<ImportSource>,
    pub output_dir: PathBuf,
    /// The recent analysis period (compared with as many weeks before it).
    pub period_weeks: u32,
    pub plan: PlanOptions,
    /// Continue after the last finished phase of a run with the same inputs.
    pub resume: bool,
    /// `None`: the rule-based coach writes the narrative and designs the plan.
    pub model: Option<ModelChoice>,
}

/// Weeks in `months` months of the calendar (3 → 13).
pub fn weeks_in_months(months: u32) -> u32 {
    (f64::from(months) * 52.0 / 12.0).round() as u32
}

/// Progress of a run. Every method does nothing by default: implement what you show.
pub trait Observer: Sync {
    /// Phase `n` (1–4, named in [`PHASES`]) begins.
    fn phase_started(&self, n: u32, name: &str) {
        let _ = (n, name);
    }
    /// Something worth a line: what was imported, which model is being asked.
    fn note(&self, text: &str) {
        let _ = text;
    }
    /// A problem that did not stop the run (a profile caveat, an unwritable call log).
    fn warning(&self, text: &str) {
        let _ = text;
    }
    /// After each model call: the phase's calls, tokens and cost so far.
    fn model_call(&self, model: &str, stats: &CallStats) {
        let _ = (model, stats);
    }
    fn phase_finished(&self, stats: &PhaseStats) {
        let _ = stats;
    }
}

/// An observer that shows nothing.
pub struct Silent;

impl Observer for Silent {}

/// One phase of a run: what the report shows, plus whether an earlier run did the work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseStats {
    #[serde(flatten)]
    pub cost: report::PhaseCost,
    /// Finished in an earlier run (`--resume`): nothing was spent on it in this one.
    pub resumed: bool,
    /// Seconds of `seconds` spent waiting on the model provider (the rest is our own work).
    pub model_wait_s: f64,
}

impl PhaseStats {
    /// A phase run by the rule-based coach or by our own code: no model calls, nothing spent.
    pub fn offline(name: &str, seconds: f64) -> PhaseStats {
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
            resumed: false,
            model_wait_s: 0.0,
        }
    }

    fn since(name: &str, started: Instant) -> PhaseStats {
        PhaseStats::offline(name, started.elapsed().as_secs_f64())
    }

    fn resumed(name: &str) -> PhaseStats {
        PhaseStats {
            resumed: true,
            ..PhaseStats::offline(name, 0.0)
        }
    }

    /// A phase that called a model. `input_tokens` counts every prompt token, cached ones
    /// included (the report's convention: `cached_tokens` is a part of it).
    fn model(name: &str, started: Instant, stats: &CallStats) -> PhaseStats {
        let u = stats.usage();
        PhaseStats {
            cost: report::PhaseCost {
                phase: name.to_string(),
                seconds: started.elapsed().as_secs_f64(),
                model_calls: stats.calls,
                input_tokens: u.prompt_tokens(),
                output_tokens: u.output,
                cached_tokens: u.cache_read,
                cost_usd: stats.cost_usd(),
            },
            resumed: false,
            model_wait_s: stats.waiting.as_secs_f64(),
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    pub files: report::ReportFiles,
    /// The four phases (the plan's marked skipped when it was).
    pub phases: Vec<PhaseStats>,
    /// [`OFFLINE`] or the provider's name.
    pub provider: String,
    /// The model that answered (or was asked for, when no call was needed), with a provider.
    pub model: Option<String>,
    /// What phase 1 imported, when asked to.
    pub import: Option<ImportReport>,
}

impl Outcome {
    /// "Generated with bedrock us.anthropic…", or the rule-based coach.
    pub fn heading(&self) -> String {
        match &self.model {
            Some(m) => format!("Generated with {} {m}", self.provider),
            None => "Generated with the rule-based coach (no model configured)".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("import failed: {0}")]
    Import(StoreError),
    #[error(
        "no athlete profile: pass --profile FILE (the report needs FTP, availability and goals)"
    )]
    NoProfile,
    #[error("no activities in the database: pass --export, --csv or --fit-dir")]
    NoActivities,
    #[error(
        "--resume: the checkpoints in {} were made with other inputs (profile, flags or data changed); run without --resume to start over",
        dir.display()
    )]
    ResumeMismatch { dir: PathBuf },
    #[error("{}: not a valid checkpoint; run without --resume: {source}", path.display())]
    BadCheckpoint {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("serialising a checkpoint: {0}")]
    Serialise(serde_json::Error),
    #[error("{0}")]
    PlanInputs(String),
    #[error("the plan overview breaks the plan rules: {}", .0.join("; "))]
    RuleBreak(Vec<String>),
    #[error("--workout-source llm needs a model provider")]
    ModelWorkoutsWithoutModel,
    /// A model phase failed; the phases before it are kept.
    #[error(
        "phase {n} ({}) failed: {message}; finished phases are kept — rerun with --resume",
        PHASES[(*n as usize).saturating_sub(1).min(3)]
    )]
    PhaseFailed { n: u32, message: String },
    #[error(transparent)]
    Report(#[from] report::ReportError),
}

/// Run the pipeline.
pub async fn run(options: Options, observer: &dyn Observer) -> Result<Outcome, WorkflowError> {
    if options.plan.workouts == WorkoutSource::Model && options.model.is_none() {
        return Err(WorkflowError::ModelWorkoutsWithoutModel);
    }
    std::fs::create_dir_all(&options.output_dir).map_err(|source| WorkflowError::Io {
        what: "creating the output directory",
        path: options.output_dir.clone(),
        source,
    })?;
    let checkpoints = Checkpoints::new(&options.output_dir)?;
    let mut run = Run {
        observer,
        phases: Vec::new(),
        model_used: None,
        log: None,
    };
    if options.model.is_some() {
        run.log = InteractionLog::open(&options.data_dir)
            .inspect_err(|e| observer.warning(&format!("{e}; model calls are not logged")))
            .ok();
    }

    // Phase 1: data preparation.
    let span = tracing::info_span!("phase", n = 1, name = PHASES[0]);
    let prepared = span.in_scope(|| run.prepare(&options, &checkpoints))?;

    // Phase 2: performance analysis.
    let narrative = run
        .analyse(&options, &checkpoints, &prepared.bundle)
        .instrument(tracing::info_span!("phase", n = 2, name = PHASES[1]))
        .await?;

    // Phase 3: training plan.
    let plan = run
        .plan(&options, &checkpoints, &prepared, &narrative)
        .instrument(tracing::info_span!("phase", n = 3, name = PHASES[2]))
        .await?;

    // Phase 4: report (always re-rendered: cheap, and it shows the costs of this run).
    let span = tracing::info_span!("phase", n = 4, name = PHASES[3]);
    let files =
        span.in_scope(|| run.render(&options, &prepared.bundle, &narrative, plan.as_ref()))?;
    let provider = options
        .model
        .as_ref()
        .map_or_else(|| OFFLINE.to_string(), |m| m.provider.name().to_string());
    let model = options
        .model
        .as_ref()
        .map(|m| run.model_used.clone().unwrap_or_else(|| m.model.clone()));
    Ok(Outcome {
        files,
        phases: run.phases,
        provider,
        model,
        import: prepared.import,
    })
}

/// What phase 1 leaves for the others.
struct Prepared {
    athlete_id: i64,
    profile: ride::profile::Profile,
    bundle: AnalysisBundle,
    import: Option<ImportReport>,
}

/// The state of one run between phases.
struct Run<'o> {
    observer: &'o dyn Observer,
    phases: Vec<PhaseStats>,
    /// The model that answered the last call (a router's choice, or the resolved id).
    model_used: Option<String>,
    log: Option<InteractionLog>,
}

impl Run<'_> {
    fn start(&self, n: u32) {
        self.observer.phase_started(n, PHASES[n as usize - 1]);
    }

    fn finish(&mut self, stats: PhaseStats) {
        let c = &stats.cost;
        tracing::info!(
            seconds = c.seconds,
            model_calls = c.model_calls,
            input_tokens = c.input_tokens,
            output_tokens = c.output_tokens,
            cost_usd = c.cost_usd,
            resumed = stats.resumed,
            "phase finished"
        );
        self.observer.phase_finished(&stats);
        self.phases.push(stats);
    }

    fn prepare(
        &mut self,
        options: &Options,
        checkpoints: &Checkpoints,
    ) -> Result<Prepared, WorkflowError> {
        self.start(1);
        let t = Instant::now();
        let mut store = Store::open(&options.data_dir).map_err(DataError::from)?;
        let ctx = crate::athlete::resolve(&mut store, options.profile.as_deref())?;
        for w in &ctx.profile.warnings {
            self.observer.warning(w);
        }
        let import = match &options.import {
            Some(source) => {
                let report = store::import::import(
                    &mut store,
                    ctx.athlete.id,
                    source,
                    &ctx.profile,
                    &|_| {},
                )
                .map_err(WorkflowError::Import)?;
                self.observer.note(&format!(
                    "imported {} (+{} summary only, {} unchanged, {} failed)",
                    report.imported,
                    report.summary_only,
                    report.skipped_unchanged,
                    report.failed.len()
                ));
                Some(report)
            }
            None => None,
        };
        if !ctx.has_profile {
            return Err(WorkflowError::NoProfile);
        }
        let as_of = store
            .latest_activity_date(ctx.athlete.id)
            .map_err(DataError::from)?
            .ok_or(WorkflowError::NoActivities)?;
        let key = RunKey {
            profile: ctx.profile.to_canonical_json(),
            provider: options
                .model
                .as_ref()
                .map_or_else(|| OFFLINE.to_string(), |m| m.provider.name().to_string()),
            model: options.model.as_ref().map(|m| m.model.clone()),
            period_weeks: options.period_weeks,
            plan_weeks: options.plan.weeks,
            goal: options.plan.goal.clone(),
            event_date: options.plan.event_date,
            plan_start: options.plan.start,
            seed: options.plan.seed,
            skip_training_plan: options.plan.skip,
            workout_source: options.plan.workouts.key().to_string(),
            activities: store
                .activity_count(ctx.athlete.id)
                .map_err(DataError::from)?,
            as_of,
        };
        checkpoints.begin(&key, options.resume)?;
        let bundle = match checkpoints.load(checkpoints::DATA)? {
            Some(b) => {
                self.finish(PhaseStats::resumed(PHASES[0]));
                b
            }
            None => {
                let b = crate::bundle::build_bundle(
                    &store,
                    ctx.athlete.id,
                    &ctx.profile,
                    Some(as_of),
                    options.period_weeks,
                )?;
                checkpoints.save(checkpoints::DATA, &b)?;
                self.finish(PhaseStats::since(PHASES[0], t));
                b
            }
        };
        Ok(Prepared {
            athlete_id: ctx.athlete.id,
            profile: ctx.profile,
            bundle,
            import,
        })
    }

    async fn analyse(
        &mut self,
        options: &Options,
        checkpoints: &Checkpoints,
        bundle: &AnalysisBundle,
    ) -> Result<Narrative, WorkflowError> {
        self.start(2);
        let t = Instant::now();
        if let Some(n) = checkpoints.load::<Narrative>(checkpoints::ANALYSIS)? {
            self.finish(PhaseStats::resumed(PHASES[1]));
            // A resumed run makes no call of its own to learn the model that answered; the
            // narrative's author ("<provider> <model used>") recorded it.
            if let Some(m) = &options.model {
                let prefix = format!("{} ", m.provider.name());
                if let Some(used) = n.author.strip_prefix(&prefix) {
                    self.model_used.get_or_insert_with(|| used.to_string());
                }
            }
            return Ok(n);
        }
        let Some(m) = &options.model else {
            let n = coach::offline::narrative(bundle);
            checkpoints.save(checkpoints::ANALYSIS, &n)?;
            self.finish(PhaseStats::since(PHASES[1], t));
            return Ok(n);
        };
        let settings = m.settings(analysis_llm::DEFAULT_MAX_TOKENS);
        let observer = self.observer;
        let show = |s: &CallStats| observer.model_call(&m.model, s);
        let mut meter =
            Meter::new(m.provider.as_ref(), &m.catalog, self.log.as_ref()).with_progress(&show);
        observer.note(&format!("asking {} {} …", m.provider.name(), m.model));
        let result = analysis_llm::analyse(&mut meter, &settings, bundle).await;
        let stats = meter.stats;
        self.after_calls(&stats);
        let n = result.map_err(|e| WorkflowError::PhaseFailed {
            n: 2,
            message: e.to_string(),
        })?;
        checkpoints.save(checkpoints::ANALYSIS, &n)?;
        self.finish(PhaseStats::model(PHASES[1], t, &stats));
        Ok(n)
    }

    async fn plan(
        &mut self,
        options: &Options,
        checkpoints: &Checkpoints,
        prepared: &Prepared,
        narrative: &Narrative,
    ) -> Result<Option<TrainingPlan>, WorkflowError> {
        if options.plan.skip {
            self.phases
                .push(PhaseStats::offline("training plan (skipped)", 0.0));
            return Ok(None);
        }
        self.start(3);
        let t = Instant::now();
        if let Some(p) = checkpoints.load(checkpoints::PLAN)? {
            self.finish(PhaseStats::resumed(PHASES[2]));
            return Ok(Some(p));
        }
        let bundle = &prepared.bundle;
        let inputs = plan_inputs::inputs(&prepared.profile, bundle, &options.plan)?;
        let (plan, stats, source) = match &options.model {
            None => {
                let overview = plan_inputs::offline_overview(&inputs)?;
                (
                    coach::planner::fill_plan(&overview, &inputs.fill),
                    None,
                    OFFLINE.to_string(),
                )
            }
            Some(m) => {
                let settings = m.settings(plan_llm::DEFAULT_MAX_TOKENS);
                let week_settings = m.settings(plan_llm::WEEK_MAX_TOKENS);
                let observer = self.observer;
                let show = |s: &CallStats| observer.model_call(&m.model, s);
                let mut meter = Meter::new(m.provider.as_ref(), &m.catalog, self.log.as_ref())
                    .with_progress(&show);
                observer.note(&format!(
                    "asking {} {} for the plan overview …",
                    m.provider.name(),
                    m.model
                ));
                let prompt = PlanPrompt {
                    constraints: &inputs.planner.constraints,
                    goal: inputs.planner.goal.as_deref(),
                    ctl: inputs.planner.ctl,
                    ftp_w: inputs.planner.ftp_w,
                    narrative,
                    bundle,
                };
                let model_weeks = options.plan.workouts == WorkoutSource::Model;
                let work = async {
                    let o = plan_llm::design_overview(&mut meter, &settings, &prompt).await?;
                    // The library fills every day first; with model-written workouts the
                    // model then rewrites the rides week by week.
                    let mut p = coach::planner::fill_plan(&o, &inputs.fill);
                    if model_weeks {
                        plan_llm::write_weeks(&mut meter, &week_settings, &mut p).await?;
                    }
                    Ok::<_, plan_llm::PlanLlmError>(p)
                };
                let result = work.await;
                let stats = meter.stats;
                self.after_calls(&stats);
                let p = result.map_err(|e| WorkflowError::PhaseFailed {
                    n: 3,
                    message: e.to_string(),
                })?;
                let source = format!(
                    "{} {}",
                    m.provider.name(),
                    self.model_used.as_deref().unwrap_or(&m.model)
                );
                (p, Some(stats), source)
            }
        };
        // Kept in the store first, so `chat` can compare plan and actual; then the checkpoint
        // (a resumed run does not store the same plan twice).
        let mut store = Store::open(&options.data_dir).map_err(DataError::from)?;
        plan_store::save_plan(&mut store, prepared.athlete_id, &plan, &source)?;
        checkpoints.save(checkpoints::PLAN, &plan)?;
        self.finish(match &stats {
            Some(s) => PhaseStats::model(PHASES[2], t, s),
            None => PhaseStats::since(PHASES[2], t),
        });
        Ok(Some(plan))
    }

    /// After a model phase's calls, whatever their outcome: the model that answered, and the
    /// calls that could not be logged.
    fn after_calls(&mut self, stats: &CallStats) {
        for e in &stats.log_errors {
            self.observer.warning(e);
        }
        if let Some(used) = &stats.model_used {
            self.model_used = Some(used.clone());
        }
    }

    fn render(
        &mut self,
        options: &Options,
        bundle: &AnalysisBundle,
        narrative: &Narrative,
        plan: Option<&TrainingPlan>,
    ) -> Result<report::ReportFiles, WorkflowError> {
        self.start(4);
        let t = Instant::now();
        let mut phases: Vec<report::PhaseCost> =
            self.phases.iter().map(|p| p.cost.clone()).collect();
        phases.push(PhaseStats::offline(PHASES[3], 0.0).cost);
        let (provider, model, notes) = match &options.model {
            None => (
                "offline (rule-based coach, no model used)".to_string(),
                None,
                vec![
                    "No language model was configured: the narrative and the plan come from the rule-based coach; every number comes from your data."
                        .to_string(),
                ],
            ),
            Some(m) => {
                let used = self.model_used.clone().unwrap_or_else(|| m.model.clone());
                (
                    m.provider.name().to_string(),
                    Some(used.clone()),
                    self.model_notes(options, narrative, &used),
                )
            }
        };
        let run = report::RunInfo {
            generated_at: jiff::Timestamp::now(),
            provider,
            model,
            phases,
            notes,
        };
        let files = report::write_report(
            &options.output_dir,
            &report::ReportInput {
                bundle,
                narrative,
                plan,
                run: &run,
            },
        )?;
        self.finish(PhaseStats::since(PHASES[3], t));
        Ok(files)
    }

    /// The report's notes on who wrote what when a model took part.
    fn model_notes(&self, options: &Options, narrative: &Narrative, used: &str) -> Vec<String> {
        let provider = options.model.as_ref().map_or("", |m| m.provider.name());
        let mut notes = vec![format!(
            "The narrative was written by {} and the plan overview designed by {provider} {used}, both checked by code (schema, plan rules); every number comes from your data, not from the model.",
            narrative.author
        )];
        notes.push(if options.plan.workouts == WorkoutSource::Model {
            format!(
                "The rides of every week were written by {provider} {used} and checked (types, durations within ±15 %, power 30–200 % of FTP); strength sessions come from the built-in library."
            )
        } else {
            "The workouts come from the built-in workout library, fitted to each day's planned hours.".to_string()
        });
        if self.phases.iter().any(|p| p.resumed) {
            notes.push(
                "Resumed run: phases marked as resumed were done, and paid for, in an earlier run."
                    .into(),
            );
        }
        if self.phases.iter().any(|p| p.cost.cost_usd.is_none()) {
            notes.push(format!(
                "The price of {used} is not in the model catalog: its cost is shown as unknown."
            ));
        }
        notes
    }
}
