//! The model requests of a run, made without calling the model: what `batch submit` puts in a
//! batch job. Phase 1 runs for real (and leaves its checkpoint, which the run that collects
//! the answers resumes from); phases 2 and 3 are asked for their first request only — the
//! exact request the on-demand run sends first, so the batch's answers can stand in for it.

use llm::Request;

use super::checkpoints;
use super::plan_inputs;
use super::{Observer, Options, WorkflowError, WorkoutSource};
use crate::analysis_llm;
use crate::plan_llm::{self, PlanPrompt};

/// Which model call of a run a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelPart {
    /// Phase 2: the performance-analysis narrative.
    Analysis,
    /// Phase 3: the plan overview (a forced tool call).
    PlanOverview,
}

impl ModelPart {
    /// The name in record ids and in the store.
    pub fn key(self) -> &'static str {
        match self {
            ModelPart::Analysis => "analysis",
            ModelPart::PlanOverview => "plan",
        }
    }

    pub fn from_key(key: &str) -> Option<ModelPart> {
        match key {
            "analysis" => Some(ModelPart::Analysis),
            "plan" => Some(ModelPart::PlanOverview),
            _ => None,
        }
    }
}

/// The first requests of a run's model phases, and the calls that cannot be made ahead.
#[derive(Debug, Clone)]
pub struct ModelRequests {
    pub athlete_id: i64,
    pub athlete: String,
    pub requests: Vec<(ModelPart, Request)>,
    /// Model calls the run will make that depend on an earlier answer (so no batch can
    /// carry them): they stay on demand.
    pub on_demand: Vec<String>,
    /// Phases already finished in the output directory (checkpointed): nothing to ask.
    pub already_done: Vec<&'static str>,
}

/// Run phase 1 of `options` and build the first request of phases 2 and 3. `options.model`
/// supplies the model settings; nothing is sent.
pub fn model_requests(
    options: &Options,
    observer: &dyn Observer,
) -> Result<ModelRequests, WorkflowError> {
    let Some(m) = &options.model else {
        return Err(WorkflowError::PlanInputs(
            "a batch needs a model: pass --model".into(),
        ));
    };
    let (checkpoints, mut run) = super::begin(options, observer)?;
    let prepared = run.prepare(options, &checkpoints)?;
    let athlete = store::Store::open(&options.data_dir)
        .ok()
        .and_then(|s| s.athlete(prepared.athlete_id).ok().flatten())
        .map_or_else(String::new, |a| a.name);
    let mut out = ModelRequests {
        athlete_id: prepared.athlete_id,
        athlete,
        requests: Vec::new(),
        on_demand: Vec::new(),
        already_done: Vec::new(),
    };
    if checkpoints
        .load::<coach::narrative::Narrative>(checkpoints::ANALYSIS)?
        .is_some()
    {
        out.already_done.push(super::PHASES[1]);
    } else {
        let settings = m.settings(analysis_llm::DEFAULT_MAX_TOKENS);
        out.requests.push((
            ModelPart::Analysis,
            analysis_llm::initial_request(&settings, &prepared.bundle),
        ));
    }
    if options.plan.skip {
        return Ok(out);
    }
    if checkpoints
        .load::<coach::plan::TrainingPlan>(checkpoints::PLAN)?
        .is_some()
    {
        out.already_done.push(super::PHASES[2]);
        return Ok(out);
    }
    let inputs = plan_inputs::inputs(&prepared.profile, &prepared.bundle, &options.plan)?;
    let prompt = PlanPrompt {
        constraints: &inputs.planner.constraints,
        goal: inputs.planner.goal.as_deref(),
        ctl: inputs.planner.ctl,
        ftp_w: inputs.planner.ftp_w,
        bundle: &prepared.bundle,
    };
    let settings = m.settings(plan_llm::DEFAULT_MAX_TOKENS);
    out.requests.push((
        ModelPart::PlanOverview,
        plan_llm::initial_request(&settings, &prompt),
    ));
    if options.plan.workouts == WorkoutSource::Model {
        out.on_demand.push(format!(
            "{} weekly-workout calls (one per week, each written from the overview the batch designs)",
            inputs.planner.constraints.weeks
        ));
    }
    Ok(out)
}
