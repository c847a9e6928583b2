//! Phase 3's inputs from the profile, the bundle and the plan options, and the rule-based
//! overview.

use coach::bundle::AnalysisBundle;
use coach::plan::PlanOverview;
use coach::planner::{FillInput, PlanBasis, PlannerInput, constraints_for};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use metrics::cross_training::Category;
use ride::profile::Profile;

use super::{PlanOptions, WorkflowError};

/// Plan length when neither the options nor the profile give one.
pub const DEFAULT_PLAN_WEEKS: u32 = 12;

/// What both planners (rule-based or model) and the library fill need.
pub struct PlanInputs {
    pub planner: PlannerInput,
    pub fill: FillInput,
}

/// The Monday on or after `d`.
pub fn next_monday(d: Date) -> Date {
    let mut d = d;
    while d.weekday() != Weekday::Monday {
        d = d.checked_add(1.day()).unwrap_or(d);
    }
    d
}

pub fn inputs(
    profile: &Profile,
    bundle: &AnalysisBundle,
    options: &PlanOptions,
) -> Result<PlanInputs, WorkflowError> {
    let weeks = options
        .weeks
        .or(profile.training_plan_weeks)
        .unwrap_or(DEFAULT_PLAN_WEEKS);
    // By default the plan starts the Monday after the last activity analysed.
    let start_date = next_monday(
        options
            .start
            .unwrap_or_else(|| bundle.as_of.checked_add(1.day()).unwrap_or(bundle.as_of)),
    );
    let PlanBasis {
        constraints,
        ftp_w,
        goal,
    } = constraints_for(
        profile,
        bundle.as_of,
        weeks,
        start_date,
        options.event_date,
        options.goal.clone(),
    )
    .map_err(|e| WorkflowError::PlanInputs(e.to_string()))?;
    let event_date = constraints.event_date;
    let trains_strength = bundle
        .cross_training
        .categories
        .iter()
        .any(|c| c.category == Category::Strength && c.count > 0);
    Ok(PlanInputs {
        planner: PlannerInput {
            constraints,
            goal: goal.clone(),
            ctl: bundle.fitness_now.map(|d| d.ctl),
            ftp_w,
            trains_strength,
            start_phase: None,
        },
        fill: FillInput {
            start_date,
            ftp_w,
            seed: options.seed,
            event_date,
            goal,
        },
    })
}

/// The rule-based overview, checked like a model's would be.
pub fn offline_overview(inputs: &PlanInputs) -> Result<PlanOverview, WorkflowError> {
    let overview = coach::planner::offline_overview(&inputs.planner);
    // The rule-based planner is built to satisfy the rules; check anyway, as for a model's plan.
    let violations = coach::rules::check_overview(&overview, &inputs.planner.constraints);
    if violations.is_empty() {
        Ok(overview)
    } else {
        Err(WorkflowError::RuleBreak(
            violations.iter().map(|v| v.to_string()).collect(),
        ))
    }
}
