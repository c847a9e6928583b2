//! Phase checkpoints: `OUT/checkpoints/<phase>.json`, written atomically, plus `run.json`
//! naming the inputs they were made from, so `--resume` continues only a run of the same inputs.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::WorkflowError;

/// What a run was asked to do: a resumed run must match it. The field names are the file
/// format of `run.json`; checkpoints written by earlier versions resume as long as they match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunKey {
    pub profile: String,
    pub provider: String,
    pub model: Option<String>,
    pub period_weeks: u32,
    pub plan_weeks: Option<u32>,
    pub goal: Option<String>,
    pub event_date: Option<Date>,
    pub plan_start: Option<Date>,
    pub seed: u64,
    pub skip_training_plan: bool,
    /// `library` or `llm` (empty in checkpoints written before the option existed).
    #[serde(default)]
    pub workout_source: String,
    /// Activities and the last date in the store when the run started.
    pub activities: u64,
    pub as_of: Date,
}

/// The phases that leave a checkpoint (the report is always rendered anew).
pub const DATA: &str = "1-data";
pub const ANALYSIS: &str = "2-analysis";
pub const PLAN: &str = "3-plan";

pub struct Checkpoints {
    dir: PathBuf,
}

impl Checkpoints {
    pub fn new(out: &Path) -> Result<Checkpoints, WorkflowError> {
        let dir = out.join("checkpoints");
        std::fs::create_dir_all(&dir).map_err(|source| WorkflowError::Io {
            what: "creating",
            path: dir.clone(),
            source,
        })?;
        Ok(Checkpoints { dir })
    }

    /// Start a run: with `resume`, the stored inputs must match; without, old checkpoints go.
    pub fn begin(&self, key: &RunKey, resume: bool) -> Result<(), WorkflowError> {
        let path = self.dir.join("run.json");
        if resume {
            match read_json::<RunKey>(&path)? {
                Some(stored) if &stored == key => return Ok(()),
                Some(_) => {
                    return Err(WorkflowError::ResumeMismatch {
                        dir: self.dir.clone(),
                    });
                }
                None => {}
            }
        }
        for phase in [DATA, ANALYSIS, PLAN] {
            let p = self.path(phase);
            if p.exists() {
                std::fs::remove_file(&p).map_err(|source| WorkflowError::Io {
                    what: "removing",
                    path: p.clone(),
                    source,
                })?;
            }
        }
        write_json_atomic(&path, key)
    }

    pub fn load<T: DeserializeOwned>(&self, phase: &str) -> Result<Option<T>, WorkflowError> {
        read_json(&self.path(phase))
    }

    pub fn save<T: Serialize>(&self, phase: &str, value: &T) -> Result<(), WorkflowError> {
        write_json_atomic(&self.path(phase), value)
    }

    fn path(&self, phase: &str) -> PathBuf {
        self.dir.join(format!("{phase}.json"))
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, WorkflowError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            serde_json::from_str(&text)
                .map(Some)
                .map_err(|source| WorkflowError::BadCheckpoint {
                    path: path.to_path_buf(),
                    source,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(WorkflowError::Io {
            what: "reading",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Atomically: a crash leaves the old checkpoint or the new one, never half of one.
fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), WorkflowError> {
    let text = serde_json::to_string_pretty(value).map_err(WorkflowError::Serialise)?;
    ride::fs::write_atomic(path, text.as_bytes()).map_err(|source| WorkflowError::Io {
        what: "writing",
        path: path.to_path_buf(),
        source,
    })
}
