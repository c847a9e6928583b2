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

mod batch_requests;
mod checkpoints;
mod error;
mod observer;
mod options;
mod outcome;
mod phases;
mod plan_inputs;

use llm::log::InteractionLog;
use tracing::Instrument;

pub use batch_requests::{ModelPart, ModelRequests, model_requests};
use checkpoints::Checkpoints;
pub use error::WorkflowError;
pub use observer::{Observer, Silent};
pub use options::{ModelChoice, Options, PlanOptions, WorkoutSource, weeks_in_months};
pub use outcome::{Outcome, PhaseStats};
use phases::Run;
pub use plan_inputs::DEFAULT_PLAN_WEEKS;

/// The name that means "no model: the rule-based coach".
pub const OFFLINE: &str = "offline";

/// The phases, in order (the report and the progress lines name them so).
pub const PHASES: [&str; 4] = [
    "data preparation",
    "performance analysis",
    "training plan",
    "report",
];

/// The output directory and its checkpoints, and a run that has done nothing yet.
fn begin<'o>(
    options: &Options,
    observer: &'o dyn Observer,
) -> Result<(Checkpoints, Run<'o>), WorkflowError> {
    std::fs::create_dir_all(&options.output_dir).map_err(|source| WorkflowError::Io {
        what: "creating the output directory",
        path: options.output_dir.clone(),
        source,
    })?;
    let checkpoints = Checkpoints::new(&options.output_dir)?;
    let run = Run {
        observer,
        phases: Vec::new(),
        model_used: None,
        log: None,
        authors: Vec::new(),
    };
    Ok((checkpoints, run))
}

/// Run the pipeline.
pub async fn run(options: Options, observer: &dyn Observer) -> Result<Outcome, WorkflowError> {
    if options.plan.workouts == WorkoutSource::Model && options.model.is_none() {
        return Err(WorkflowError::ModelWorkoutsWithoutModel);
    }
    let (checkpoints, mut run) = begin(&options, observer)?;
    let started = std::time::Instant::now();
    if options.model.is_some() {
        run.log = InteractionLog::open(&options.data_dir)
            .inspect_err(|e| observer.warning(&format!("{e}; model calls are not logged")))
            .ok();
    }

    // Phase 1: data preparation.
    let span = tracing::info_span!("phase", n = 1, name = PHASES[0]);
    let prepared = span.in_scope(|| run.prepare(&options, &checkpoints))?;
    if let Some(log) = &mut run.log {
        log.set_athlete(&prepared.athlete_name);
    }

    // Phases 2 and 3. The planner needs the bundle, not the narrative (see `plan_llm`), so with
    // a model, whose phases are mostly waiting for output tokens, both run at the same time: the
    // report takes as long as the slower of the two, not their sum. Their results are merged in
    // phase order, so the outcome does not depend on which ends first.
    let analysis = run
        .analyse(&options, &checkpoints, &prepared.bundle)
        .instrument(tracing::info_span!("phase", n = 2, name = PHASES[1]));
    let planning = async {
        if options.plan.skip {
            return Ok(None);
        }
        run.plan(&options, &checkpoints, &prepared).await.map(Some)
    }
    .instrument(tracing::info_span!("phase", n = 3, name = PHASES[2]));
    let (analysed, planned) = if options.model.is_some() && !options.sequential {
        tokio::join!(analysis, planning)
    } else {
        let analysed = analysis.await;
        // Sequential runs stop at the first failure, as a concurrent one cannot.
        match analysed {
            Ok(a) => (Ok(a), planning.await),
            Err(e) => return Err(e),
        }
    };
    // With both run, a failure of phase 2 is reported first; whatever phase 3 finished is
    // checkpointed all the same, so `--resume` does not pay for it twice.
    let narrative = run.merge(&options, analysed?);
    let plan = match planned? {
        Some(done) => Some(run.merge(&options, done)),
        None => {
            run.phases
                .push(PhaseStats::offline("training plan (skipped)", 0.0));
            None
        }
    };

    // Phase 4: report (always re-rendered: cheap, and it shows the costs of this run).
    let span = tracing::info_span!("phase", n = 4, name = PHASES[3]);
    // Plan vs actual for the stored plan covering the analysed period (an earlier plan, or this
    // one when it starts before the last ride); no section when there is none. Its own failure
    // (an unreadable old plan) never costs the report.
    let follow = crate::follow::report_status(
        &options.data_dir,
        prepared.athlete_id,
        prepared.bundle.as_of,
    );
    let files = span.in_scope(|| {
        run.render(
            &options,
            &prepared.bundle,
            &narrative,
            plan.as_ref(),
            follow.as_ref(),
        )
    })?;
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
        wall_s: started.elapsed().as_secs_f64(),
        phases: run.phases,
        provider,
        model,
        import: prepared.import,
    })
}
