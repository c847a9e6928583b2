//! The four phases of a run, one method each on the run's state.

use std::time::Instant;

use coach::bundle::AnalysisBundle;
use coach::narrative::Narrative;
use coach::plan::TrainingPlan;
use llm::log::InteractionLog;
use llm::{CallStats, Meter};
use store::{ImportReport, Store};

use super::checkpoints::{self, Checkpoints, RunKey};
use super::plan_inputs;
use super::{
    ModelChoice, OFFLINE, Observer, Options, PHASES, PhaseStats, WorkflowError, WorkoutSource,
};
use crate::analysis_llm;
use crate::bundle::DataError;
use crate::plan_llm::{self, PlanPrompt};
use crate::plan_store;
use report::PartAuthor;

/// What phase 1 leaves for the others.
pub(super) struct Prepared {
    pub(super) athlete_id: i64,
    pub(super) profile: ride::profile::Profile,
    pub(super) bundle: AnalysisBundle,
    pub(super) import: Option<ImportReport>,
}

/// The state of one run between phases.
pub(super) struct Run<'o> {
    pub(super) observer: &'o dyn Observer,
    pub(super) phases: Vec<PhaseStats>,
    /// The model that answered the last call (a router's choice, or the resolved id).
    pub(super) model_used: Option<String>,
    pub(super) log: Option<InteractionLog>,
    /// Who wrote each part a model was asked for (the report shows it).
    pub(super) authors: Vec<PartAuthor>,
}

/// What a model phase (2 or 3) leaves for the run, merged by [`Run::merge`] in phase order, so
/// that the phases can run at the same time and the outcome is the same whichever ends first.
pub(super) struct Done<T> {
    pub(super) value: T,
    pub(super) phase: PhaseStats,
    /// The model that answered this phase's last call.
    pub(super) model_used: Option<String>,
    pub(super) authors: Authors,
}

/// Who wrote the parts of a phase a model was asked for.
pub(super) enum Authors {
    /// No model asked (or the plan skipped): nothing to say.
    None,
    Known(Vec<PartAuthor>),
    /// The plan's authors: named with the run's model once the phases before are merged (a
    /// resumed plan made no call of its own to learn it).
    Plan {
        overview_fallback: Option<String>,
        weeks_fallback: Option<String>,
    },
}

impl Run<'_> {
    fn start(&self, n: u32) {
        self.observer.phase_started(n, PHASES[n as usize - 1]);
    }

    fn finish(&mut self, n: u32, stats: PhaseStats) {
        self.announce(n, &stats);
        self.phases.push(stats);
    }

    /// Take a finished model phase into the run (in phase order).
    pub(super) fn merge<T>(&mut self, options: &Options, done: Done<T>) -> T {
        if let Some(used) = done.model_used {
            self.model_used = Some(used);
        }
        match done.authors {
            Authors::None => {}
            Authors::Known(a) => self.authors.extend(a),
            Authors::Plan {
                overview_fallback,
                weeks_fallback,
            } => {
                if let Some(m) = &options.model {
                    let label = self.label(m);
                    self.plan_authors(options, &label, overview_fallback, weeks_fallback);
                }
            }
        }
        self.phases.push(done.phase);
        done.value
    }

    /// Log and show a finished phase.
    fn announce(&self, n: u32, stats: &PhaseStats) {
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
        self.observer.phase_finished(n, stats);
    }

    pub(super) fn prepare(
        &mut self,
        options: &Options,
        checkpoints: &Checkpoints,
    ) -> Result<Prepared, WorkflowError> {
        self.start(1);
        let t = Instant::now();
        let mut store = Store::open(&options.data_dir).map_err(DataError::from)?;
        let ctx = crate::athlete::resolve_named(
            &mut store,
            options.athlete.as_deref(),
            options.profile.as_deref(),
        )?;
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
                self.observer.note(
                    1,
                    &format!(
                        "imported {} (+{} summary only, {} unchanged, {} failed)",
                        report.imported,
                        report.summary_only,
                        report.skipped_unchanged,
                        report.failed.len()
                    ),
                );
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
                self.finish(1, PhaseStats::resumed(PHASES[0]));
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
                self.finish(1, PhaseStats::since(PHASES[0], t));
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

    /// Phase 2. Takes the run by shared reference so that it can run beside phase 3; what it
    /// leaves is merged afterwards ([`Run::merge`]).
    pub(super) async fn analyse(
        &self,
        options: &Options,
        checkpoints: &Checkpoints,
        bundle: &AnalysisBundle,
    ) -> Result<Done<Narrative>, WorkflowError> {
        self.start(2);
        let t = Instant::now();
        let done = |value: Narrative, phase: PhaseStats, model_used, authors| {
            self.announce(2, &phase);
            Ok(Done {
                value,
                phase,
                model_used,
                authors,
            })
        };
        if let Some(n) = checkpoints.load::<Narrative>(checkpoints::ANALYSIS)? {
            // A resumed run makes no call of its own to learn the model that answered; the
            // narrative's author ("<provider> <model used>") recorded it.
            let (used, authors) = match &options.model {
                Some(m) => {
                    let prefix = format!("{} ", m.provider.name());
                    let used = n.author.strip_prefix(&prefix).map(str::to_string);
                    let author = PartAuthor {
                        part: PHASES[1].into(),
                        author: n.author.clone(),
                        fallback: None,
                        fixes: Vec::new(),
                    };
                    (used, Authors::Known(vec![author]))
                }
                None => (None, Authors::None),
            };
            return done(n, PhaseStats::resumed(PHASES[1]), used, authors);
        }
        let Some(m) = &options.model else {
            let n = coach::offline::narrative(bundle);
            checkpoints.save(checkpoints::ANALYSIS, &n)?;
            return done(n, PhaseStats::since(PHASES[1], t), None, Authors::None);
        };
        let settings = m.settings(analysis_llm::DEFAULT_MAX_TOKENS);
        let observer = self.observer;
        let show = |s: &CallStats| observer.model_call(2, &m.model, s);
        let live = |r: llm::Receiving| observer.receiving(2, r);
        let mut meter = Meter::new(m.provider.as_ref(), &m.catalog, self.log.as_ref())
            .with_progress(&show)
            .with_live(&live);
        observer.note(2, &format!("asking {} {} …", m.provider.name(), m.model));
        let result = analysis_llm::analyse(&mut meter, &settings, bundle).await;
        let stats = meter.stats;
        self.warn_log_errors(&stats);
        let label = label(m, stats.model_used.as_deref());
        let mut phase = PhaseStats::model(PHASES[1], t, &stats);
        let (n, author) = match result {
            Ok(a) => {
                checkpoints.save(checkpoints::ANALYSIS, &a.narrative)?;
                let author = PartAuthor {
                    part: PHASES[1].into(),
                    author: a.narrative.author.clone(),
                    fallback: None,
                    fixes: a.fixes,
                };
                (a.narrative, author)
            }
            Err(e) => {
                let reason = self.fall_back(options, 2, &label, &e.to_string())?;
                // No checkpoint: `--resume` asks the model again for this part.
                phase.fallback = Some(reason.clone());
                let n = coach::offline::narrative(bundle);
                let author = PartAuthor {
                    part: PHASES[1].into(),
                    author: n.author.clone(),
                    fallback: Some(reason),
                    fixes: Vec::new(),
                };
                (n, author)
            }
        };
        done(n, phase, stats.model_used, Authors::Known(vec![author]))
    }

    /// Phase 3 (not when the plan is skipped). Needs nothing of phase 2: it runs beside it.
    pub(super) async fn plan(
        &self,
        options: &Options,
        checkpoints: &Checkpoints,
        prepared: &Prepared,
    ) -> Result<Done<TrainingPlan>, WorkflowError> {
        self.start(3);
        let t = Instant::now();
        if let Some(p) = checkpoints.load(checkpoints::PLAN)? {
            let phase = PhaseStats::resumed(PHASES[2]);
            self.announce(3, &phase);
            // Only a plan the model designed is checkpointed when a model is asked.
            let authors = match &options.model {
                Some(_) => Authors::Plan {
                    overview_fallback: None,
                    weeks_fallback: None,
                },
                None => Authors::None,
            };
            return Ok(Done {
                value: p,
                phase,
                model_used: None,
                authors,
            });
        }
        let bundle = &prepared.bundle;
        let inputs = plan_inputs::inputs(&prepared.profile, bundle, &options.plan)?;
        let (plan, stats, source, fallback, authors) = match &options.model {
            None => {
                let overview = plan_inputs::offline_overview(&inputs)?;
                (
                    coach::planner::fill_plan(&overview, &inputs.fill),
                    None,
                    OFFLINE.to_string(),
                    None,
                    Authors::None,
                )
            }
            Some(m) => {
                let settings = m.settings(plan_llm::DEFAULT_MAX_TOKENS);
                let week_settings = m.settings(plan_llm::WEEK_MAX_TOKENS);
                let observer = self.observer;
                let show = |s: &CallStats| observer.model_call(3, &m.model, s);
                let live = |r: llm::Receiving| observer.receiving(3, r);
                let mut meter = Meter::new(m.provider.as_ref(), &m.catalog, self.log.as_ref())
                    .with_progress(&show)
                    .with_live(&live);
                observer.note(
                    3,
                    &format!(
                        "asking {} {} for the plan overview …",
                        m.provider.name(),
                        m.model
                    ),
                );
                let prompt = PlanPrompt {
                    constraints: &inputs.planner.constraints,
                    goal: inputs.planner.goal.as_deref(),
                    ctl: inputs.planner.ctl,
                    ftp_w: inputs.planner.ftp_w,
                    bundle,
                };
                let designed = plan_llm::design_overview(&mut meter, &settings, &prompt).await;
                let (overview, overview_fallback) = match designed {
                    Ok(o) => (o, None),
                    Err(e) => {
                        let label = label(m, meter.stats.model_used.as_deref());
                        let reason = self.fall_back(options, 3, &label, &e.to_string())?;
                        (plan_inputs::offline_overview(&inputs)?, Some(reason))
                    }
                };
                // The library fills every day first; with model-written workouts the model then
                // rewrites the rides week by week (not after the overview failed: the same model
                // would most likely fail again, at a cost).
                let mut p = coach::planner::fill_plan(&overview, &inputs.fill);
                let mut weeks_fallback = None;
                if options.plan.workouts == WorkoutSource::Model && overview_fallback.is_none() {
                    let library = p.clone();
                    if let Err(e) = plan_llm::write_weeks(&mut meter, &week_settings, &mut p).await
                    {
                        let label = label(m, meter.stats.model_used.as_deref());
                        let reason = self.fall_back(options, 3, &label, &e.to_string())?;
                        // Weeks written before the failure go too: one author for all weeks.
                        p = library;
                        weeks_fallback = Some(reason);
                    }
                }
                let stats = meter.stats;
                self.warn_log_errors(&stats);
                let source = if overview_fallback.is_some() {
                    OFFLINE.to_string()
                } else {
                    label(m, stats.model_used.as_deref())
                };
                let fallback = overview_fallback.clone().or(weeks_fallback.clone());
                let authors = Authors::Plan {
                    overview_fallback,
                    weeks_fallback,
                };
                (p, Some(stats), source, fallback, authors)
            }
        };
        // Kept in the store first, so `chat` can compare plan and actual; then the checkpoint
        // (a resumed run does not store the same plan twice).
        let mut store = Store::open(&options.data_dir).map_err(DataError::from)?;
        plan_store::save_plan(&mut store, prepared.athlete_id, &plan, &source)?;
        let mut phase = match &stats {
            Some(s) => PhaseStats::model(PHASES[2], t, s),
            None => PhaseStats::since(PHASES[2], t),
        };
        // A part the rule-based coach stood in for is not checkpointed: `--resume` asks the
        // model again.
        if fallback.is_none() {
            checkpoints.save(checkpoints::PLAN, &plan)?;
        }
        phase.fallback = fallback;
        self.announce(3, &phase);
        Ok(Done {
            value: plan,
            phase,
            model_used: stats.and_then(|s| s.model_used),
            authors,
        })
    }

    /// "<provider> <model that answered>" (the model as asked for until one has answered).
    fn label(&self, m: &ModelChoice) -> String {
        label(m, self.model_used.as_deref())
    }

    /// A model part failed: with `strict` the run stops as it always did; otherwise the
    /// rule-based coach stands in, and the reason is warned about and returned for the report.
    fn fall_back(
        &self,
        options: &Options,
        n: u32,
        label: &str,
        error: &str,
    ) -> Result<String, WorkflowError> {
        if options.strict {
            return Err(WorkflowError::PhaseFailed {
                n,
                message: error.to_string(),
            });
        }
        self.observer.warning(&format!(
            "phase {n} ({}): {label} failed: {error}; the rule-based coach wrote this part instead (pass --strict to stop instead)",
            PHASES[n as usize - 1]
        ));
        Ok(format!("{label} failed: {error}"))
    }

    /// Who designed the plan overview and wrote the weeks' rides.
    fn plan_authors(
        &mut self,
        options: &Options,
        label: &str,
        overview_fallback: Option<String>,
        weeks_fallback: Option<String>,
    ) {
        let author = |fallback: &Option<String>| match fallback {
            Some(_) => coach::offline::AUTHOR.to_string(),
            None => label.to_string(),
        };
        let weeks = (options.plan.workouts == WorkoutSource::Model).then(|| {
            let fallback = weeks_fallback.or_else(|| {
                overview_fallback
                    .as_ref()
                    .map(|_| "the plan overview came from the rule-based coach".into())
            });
            PartAuthor {
                part: "weekly workouts".into(),
                author: author(&fallback),
                fallback,
                fixes: Vec::new(),
            }
        });
        self.authors.push(PartAuthor {
            part: "plan overview".into(),
            author: author(&overview_fallback),
            fallback: overview_fallback,
            fixes: Vec::new(),
        });
        self.authors.extend(weeks);
    }

    /// After a model phase's calls, whatever their outcome: the calls that could not be logged.
    fn warn_log_errors(&self, stats: &CallStats) {
        for e in &stats.log_errors {
            self.observer.warning(e);
        }
    }

    pub(super) fn render(
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
                    m.notices
                        .iter()
                        .cloned()
                        .chain(self.model_notes(options, narrative, &used))
                        .collect(),
                )
            }
        };
        let run = report::RunInfo {
            generated_at: jiff::Timestamp::now(),
            provider,
            model,
            phases,
            notes,
            authors: self.authors.clone(),
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
        self.finish(4, PhaseStats::since(PHASES[3], t));
        Ok(files)
    }

    /// The report's notes on who wrote what when a model took part.
    fn model_notes(&self, options: &Options, narrative: &Narrative, used: &str) -> Vec<String> {
        let provider = options.model.as_ref().map_or("", |m| m.provider.name());
        let model_weeks = options.plan.workouts == WorkoutSource::Model;
        let mut notes = Vec::new();
        if self.authors.iter().all(|a| a.fallback.is_none()) {
            notes.push(format!(
                "The narrative was written by {} and the plan overview designed by {provider} {used}, both checked by code (schema, plan rules); every number comes from your data, not from the model.",
                narrative.author
            ));
            if model_weeks {
                notes.push(format!(
                    "The rides of every week were written by {provider} {used} and checked (types, durations within ±15 %, power 30–200 % of FTP); strength sessions come from the built-in library."
                ));
            }
        } else {
            for a in &self.authors {
                notes.push(match &a.fallback {
                    None => format!("The {} was written by {} and checked by code.", a.part, a.author),
                    Some(why) => format!(
                        "The {} was written by the rule-based coach because {why}. Rerun with --resume to ask the model again for the parts the rule-based coach wrote.",
                        a.part
                    ),
                });
            }
            notes.push("Every number comes from your data, not from the model.".into());
        }
        if !model_weeks {
            notes.push(
                "The workouts come from the built-in workout library, fitted to each day's planned hours."
                    .into(),
            );
        }
        for a in self.authors.iter().filter(|a| !a.fixes.is_empty()) {
            notes.push(format!(
                "Fixed by code in the model's {}: {}.",
                a.part,
                a.fixes.join("; ")
            ));
        }
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

/// "<provider> <model>": the model that answered, else the one asked for.
fn label(m: &ModelChoice, used: Option<&str>) -> String {
    format!("{} {}", m.provider.name(), used.unwrap_or(&m.model))
}
