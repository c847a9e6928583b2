//! What a run is asked to do, already parsed and resolved.

use std::path::PathBuf;
use std::sync::Arc;

use jiff::civil::Date;
use llm::{Catalog, Provider};
use store::ImportSource;

use crate::analysis_llm::ModelSettings;

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
    pub(super) fn key(self) -> &'static str {
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
    /// Plan length; default the profile's, else [`DEFAULT_PLAN_WEEKS`](super::DEFAULT_PLAN_WEEKS).
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
    /// How the model the user typed was resolved (an alias, an inference profile, a router),
    /// one line each: the report's run notes record them.
    pub notices: Vec<String>,
}

impl ModelChoice {
    pub(super) fn settings(&self, default_max_tokens: u32) -> ModelSettings {
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
    /// The athlete of the run, by name; `None`: the default athlete (the first created).
    pub athlete: Option<String>,
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
    /// A model phase that fails (still invalid after its repairs, or the provider unreachable
    /// after its retries) fails the run. Without it the rule-based coach writes that part, the
    /// report says so and why, and the run goes on.
    pub strict: bool,
    /// `None`: the rule-based coach writes the narrative and designs the plan.
    pub model: Option<ModelChoice>,
    /// Run phase 3 after phase 2 instead of beside it: for providers that serve one request at
    /// a time (a local server with one slot gains nothing from two requests), and to measure
    /// what the overlap saves.
    pub sequential: bool,
}

/// Weeks in `months` months of the calendar (3 → 13).
pub fn weeks_in_months(months: u32) -> u32 {
    (f64::from(months) * 52.0 / 12.0).round() as u32
}
