//! Why a run stopped. Messages say what to do next where the user can act on them.

use std::path::PathBuf;

use store::StoreError;

use super::PHASES;
use crate::bundle::DataError;

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
