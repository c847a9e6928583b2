//! Report rendering: the analysis bundle, the narrative and the training plan become
//!
//! - `OUT/index.html`: one self-contained page (inline CSS and hand-written inline SVG charts, no
//!   URL of any kind), readable offline and printable — see [`html`];
//! - `OUT/report_data.json`: everything the page shows, as data — see [`ReportData`];
//! - `OUT/report.md`: the same in Markdown — see [`markdown`];
//! - `OUT/plan.json`: the plan alone (when there is one);
//! - `OUT/workouts/`: each planned workout as a FIT workout file and a Zwift `.zwo` — see
//!   [`workouts`].
//!
//! Numbers come from the bundle and the plan only; the narrative supplies prose. All user text
//! goes through [`text::escape`].

pub mod html;
pub mod markdown;
pub mod svg;
pub mod text;
pub mod workouts;

use std::path::{Path, PathBuf};

use coach::bundle::AnalysisBundle;
use coach::narrative::Narrative;
use coach::plan::TrainingPlan;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Version of the `report_data.json` layout; raised on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Time, model calls, tokens and cost of one pipeline phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseCost {
    /// "data preparation", "performance analysis", "training plan", "report".
    pub phase: String,
    pub seconds: f64,
    pub model_calls: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Input tokens served from the provider's prompt cache (a part of `input_tokens`).
    pub cached_tokens: u64,
    /// `None` when the price is unknown (or no model was used).
    pub cost_usd: Option<f64>,
}

/// Facts about the run that produced the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub generated_at: jiff::Timestamp,
    /// e.g. "offline (rule-based coach)", "anthropic".
    pub provider: String,
    pub model: Option<String>,
    pub phases: Vec<PhaseCost>,
    /// Free notes shown under the cost table (e.g. "resumed after the analysis phase").
    pub notes: Vec<String>,
    /// Who wrote each part a model was asked for; empty for an offline run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<PartAuthor>,
}

/// Who wrote one part of the report that a model was asked for, and why the rule-based coach
/// stood in when it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartAuthor {
    /// "performance analysis", "plan overview", "weekly workouts".
    pub part: String,
    /// "<provider> <model>", or "rule-based coach".
    pub author: String,
    /// Why the rule-based coach wrote it although a model was asked: the model's last
    /// validation errors, or the provider's failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Slips in the model's answer that code fixed (a headline cut, surplus items dropped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<String>,
}

impl RunInfo {
    /// True when no phase called a model: the report says "offline: no model used".
    pub fn is_offline(&self) -> bool {
        self.phases.iter().all(|p| p.model_calls == 0)
    }
}

/// What a report is made from.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub bundle: &'a AnalysisBundle,
    pub narrative: &'a Narrative,
    pub plan: Option<&'a TrainingPlan>,
    pub run: &'a RunInfo,
    /// Plan vs actual for the stored plan covering the analysed period, when there is one.
    pub follow: Option<&'a coach::follow::PlanStatus>,
}

/// `report_data.json`: the whole report as data.
///
/// Top-level schema (JSON object):
///
/// | key              | type            | content                                                  |
/// |------------------|-----------------|----------------------------------------------------------|
/// | `schema_version` | integer         | [`SCHEMA_VERSION`]                                       |
/// | `generated_at`   | string          | RFC 3339 UTC instant the report was generated            |
/// | `bundle`         | object          | [`AnalysisBundle`]: athlete card, period comparisons, zones, daily fitness (CTL/ATL/TSB), power curve with CP fits and eFTP, stale-FTP check, weekly volume, cross-training, notable rides. Dates are `YYYY-MM-DD`, durations seconds, power watts, energy joules |
/// | `narrative`      | object          | [`Narrative`]: summary, key trends, insights, recommendations, author |
/// | `plan`           | object or null  | [`TrainingPlan`]: overview and weeks of workouts with steps (power in % of `ftp_w`); null when no plan was made |
/// | `run`            | object          | [`RunInfo`]: provider, model, per-phase seconds / model calls / tokens / cost (USD or null), notes |
/// | `plan_status`    | object or null  | [`coach::follow::PlanStatus`]: plan vs actual per workout (status, completion, load ratio, intervals) and compliance per week for the stored plan covering the analysed period; null when none covers it |
///
/// Absent figures are `null`, never 0; every number is finite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub schema_version: u32,
    pub generated_at: jiff::Timestamp,
    pub bundle: AnalysisBundle,
    pub narrative: Narrative,
    pub plan: Option<TrainingPlan>,
    pub run: RunInfo,
    #[serde(default)]
    pub plan_status: Option<coach::follow::PlanStatus>,
}

impl ReportData {
    pub fn new(input: &ReportInput) -> Self {
        ReportData {
            schema_version: SCHEMA_VERSION,
            generated_at: input.run.generated_at,
            bundle: input.bundle.clone(),
            narrative: input.narrative.clone(),
            plan: input.plan.cloned(),
            run: input.run.clone(),
            plan_status: input.follow.cloned(),
        }
    }
}

/// The files written.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    pub index_html: PathBuf,
    pub report_data_json: PathBuf,
    pub report_md: PathBuf,
    /// `None` without a plan.
    pub plan_json: Option<PathBuf>,
    /// `OUT/workouts` (created only with a plan that has workouts).
    pub workouts_dir: Option<PathBuf>,
    pub fit_files: Vec<PathBuf>,
    pub zwo_files: Vec<PathBuf>,
}

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("serialising {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error(
        "{what} holds a non-finite number (NaN or infinity), which JSON cannot carry; the figure that produced it is a bug upstream"
    )]
    NonFinite { what: &'static str },
    #[error("workout {file}: {source}")]
    Fit {
        file: String,
        source: ride::fit_encode::FitEncodeError,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `bytes` to `path` atomically ([`ride::fs::write_atomic`]), so an interrupted run never
/// leaves a half-written report behind; the error names the file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    ride::fs::write_atomic(path, bytes).map_err(io_err(path))
}

/// Serialises `value` to pretty JSON after checking that it holds no non-finite number:
/// `serde_json` would silently write NaN as `null`, so the value must survive a round trip
/// through `serde_json::Value` unchanged (exact with `float_roundtrip`).
fn to_json_checked<T>(what: &'static str, value: &T) -> Result<String, ReportError>
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq,
{
    let v = serde_json::to_value(value).map_err(|source| ReportError::Json { what, source })?;
    let back: Option<T> = serde_json::from_value(v.clone()).ok();
    if back.as_ref() != Some(value) {
        return Err(ReportError::NonFinite { what });
    }
    serde_json::to_string_pretty(&v).map_err(|source| ReportError::Json { what, source })
}

/// Writes the report into `out_dir` (created if needed); see the crate docs for the files.
///
/// Workout files this function wrote before (named `wNN-…`) are removed from `OUT/workouts`
/// first, and `plan.json` when there is no plan any more, so a rerun never leaves files of an
/// older plan beside the new one. Other files in `out_dir` are left alone.
pub fn write_report(out_dir: &Path, input: &ReportInput) -> Result<ReportFiles, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;

    // Check every part separately so a non-finite number is traced to its part.
    to_json_checked("the analysis bundle", input.bundle)?;
    to_json_checked("the narrative", input.narrative)?;
    to_json_checked("the run info", input.run)?;
    let data = ReportData::new(input);
    let data_json = to_json_checked("report data", &data)?;

    let data_path = out_dir.join("report_data.json");
    write_atomic(&data_path, data_json.as_bytes())?;

    let plan_path = out_dir.join("plan.json");
    let plan_json = match input.plan {
        Some(plan) => {
            let json = to_json_checked("the training plan", plan)?;
            write_atomic(&plan_path, json.as_bytes())?;
            Some(plan_path)
        }
        None => {
            if plan_path.exists() {
                std::fs::remove_file(&plan_path).map_err(io_err(&plan_path))?;
            }
            None
        }
    };

    let workouts_dir = out_dir.join("workouts");
    workouts::remove_previous(&workouts_dir)?;
    let exported = match input.plan {
        Some(plan) if plan.weeks.iter().any(|w| !w.workouts.is_empty()) => {
            workouts::write_all(&workouts_dir, plan, input.run.generated_at)?
        }
        _ => Vec::new(),
    };

    let html = html::render(input, &exported);
    let index_html = out_dir.join("index.html");
    write_atomic(&index_html, html.as_bytes())?;

    let md = markdown::render(input, &exported);
    let report_md = out_dir.join("report.md");
    write_atomic(&report_md, md.as_bytes())?;

    let has_workouts = !exported.is_empty();
    Ok(ReportFiles {
        index_html,
        report_data_json: data_path,
        report_md,
        plan_json,
        workouts_dir: has_workouts.then_some(workouts_dir.clone()),
        fit_files: exported
            .iter()
            .map(|e| workouts_dir.join(&e.fit_file))
            .collect(),
        zwo_files: exported
            .iter()
            .map(|e| workouts_dir.join(&e.zwo_file))
            .collect(),
    })
}
