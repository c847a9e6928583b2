//! Every athlete's report through one Bedrock batch job, at batch prices.
//!
//! - [`submit`]: phase 1 for every athlete, the first request of phases 2 and 3 as JSONL
//!   records (`<athlete>.analysis`, `<athlete>.plan`), uploaded, the job created and recorded;
//! - [`collect`]: the job's output joined on record id, every athlete's report finished by the
//!   ordinary pipeline with the job's answers standing in for the first calls (validated,
//!   fixed and repaired exactly as on demand; repairs and fallbacks on demand);
//!   [`retry_failed`]: the records that failed in the job, asked on demand.

mod collect;
mod submit;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;
use llm::Catalog;
use llm::bedrock::BedrockProvider;
use llm::bedrock::batch::{BatchClients, BatchError};
use serde::{Deserialize, Serialize};

pub use collect::{AthleteResult, Collected, FailedRecord, collect, retry_failed};
pub use submit::{SubmitArgs, Submitted, submit};

use crate::workflow::{ModelChoice, Options, PlanOptions, WorkflowError, WorkoutSource};

/// The report settings of a batch, stored with the job so that `collect` finishes the reports
/// the way `submit` asked for them (the requests must come out the same to be answered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSettings {
    /// Each athlete's report goes to `<output_dir>/<athlete>/`.
    pub output_dir: PathBuf,
    /// The model as the user typed it.
    pub model: String,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub period_weeks: u32,
    pub plan_weeks: Option<u32>,
    pub goal: Option<String>,
    pub event_date: Option<Date>,
    pub plan_start: Option<Date>,
    pub seed: u64,
    pub skip_plan: bool,
}

impl BatchSettings {
    /// The report folder of the athlete whose records start with `prefix` (`anna-berg`).
    pub fn athlete_dir(&self, prefix: &str) -> PathBuf {
        self.output_dir.join(prefix)
    }

    fn plan(&self) -> PlanOptions {
        PlanOptions {
            skip: self.skip_plan,
            weeks: self.plan_weeks,
            goal: self.goal.clone(),
            event_date: self.event_date,
            start: self.plan_start,
            workouts: WorkoutSource::Library,
            seed: self.seed,
        }
    }

    /// The run options of one athlete's report with `provider` answering.
    fn options(
        &self,
        data_dir: &Path,
        athlete: &str,
        prefix: &str,
        provider: Box<dyn llm::Provider>,
        catalog: &Arc<Catalog>,
        resume: bool,
    ) -> Options {
        Options {
            data_dir: data_dir.to_path_buf(),
            athlete: Some(athlete.to_string()),
            profile: None,
            import: None,
            output_dir: self.athlete_dir(prefix),
            period_weeks: self.period_weeks,
            plan: self.plan(),
            resume,
            strict: false,
            model: Some(ModelChoice {
                provider,
                model: self.model.clone(),
                catalog: catalog.clone(),
                max_tokens: self.max_tokens,
                temperature: self.temperature,
                notices: Vec::new(),
            }),
            sequential: false,
        }
    }
}

/// What the batch commands need: the store, the clients, the provider that writes the bodies
/// (and answers on demand).
pub struct BatchContext<'a> {
    pub data_dir: &'a Path,
    pub clients: &'a BatchClients,
    /// Resolves the model and writes request bodies exactly as the on-demand calls would.
    pub bedrock: &'a BedrockProvider,
    /// Takes every call the job does not answer (repairs, retries).
    pub on_demand: Arc<dyn llm::Provider>,
    pub catalog: Arc<Catalog>,
    /// One line per athlete (and per notable event) as the work goes.
    pub progress: &'a (dyn Fn(&str) + Sync),
}

/// Why a batch command stopped.
#[derive(Debug, thiserror::Error)]
pub enum BatchFlowError {
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Model(#[from] llm::LlmError),
    #[error(
        "{records} requests from {athletes} athletes are below the minimum of {min} records per batch job for this model: run `cycling-ai generate` per athlete on demand instead, or pass --min-records if your account's quota is lower"
    )]
    TooFewRecords {
        records: usize,
        athletes: usize,
        min: usize,
    },
    #[error("no athlete has activities to report on: import rides first")]
    NothingToSubmit,
    #[error("no batch job `{0}` in this data directory (see `cycling-ai batch list`)")]
    UnknownJob(String),
    #[error("job {job} is {status}{}: nothing to collect yet", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    NotReady {
        job: String,
        status: String,
        message: Option<String>,
    },
    #[error("the stored settings of job {job} cannot be read: {message}")]
    BadSettings { job: String, message: String },
}

/// Open the store of `data_dir`.
fn open_store(data_dir: &Path) -> Result<store::Store, BatchFlowError> {
    Ok(store::Store::open(data_dir)?)
}

/// The job named by `key` (row id, ARN, name, job id).
fn find_job(store: &store::Store, key: &str) -> Result<store::BatchJob, BatchFlowError> {
    store
        .batch_job(key)?
        .ok_or_else(|| BatchFlowError::UnknownJob(key.to_string()))
}

fn settings_of(job: &store::BatchJob) -> Result<BatchSettings, BatchFlowError> {
    serde_json::from_str(&job.options_json).map_err(|e| BatchFlowError::BadSettings {
        job: job.job_name.clone(),
        message: e.to_string(),
    })
}

/// Refresh a job's state from the service into the store.
pub async fn refresh(
    ctx: &BatchContext<'_>,
    key: &str,
) -> Result<(store::BatchJob, llm::bedrock::batch::JobInfo), BatchFlowError> {
    let mut store = open_store(ctx.data_dir)?;
    let job = find_job(&store, key)?;
    let info = llm::bedrock::batch::job::get(&ctx.clients.control, &job.job_arn).await?;
    store.set_batch_job_status(job.id, &info.status, info.message.as_deref())?;
    let job = find_job(&store, &job.id.to_string())?;
    Ok((job, info))
}

/// Every job of this store, each refreshed from the service when `refresh` (a job the
/// service no longer knows keeps its last state).
pub async fn list(
    ctx: &BatchContext<'_>,
) -> Result<Vec<(store::BatchJob, Option<llm::bedrock::batch::JobInfo>)>, BatchFlowError> {
    let store = open_store(ctx.data_dir)?;
    let jobs = store.batch_jobs()?;
    drop(store);
    let mut out = Vec::new();
    for j in jobs {
        let info = if llm::bedrock::batch::job::is_final_status(&j.status) {
            None
        } else {
            Some(refresh(ctx, &j.id.to_string()).await?)
        };
        match info {
            Some((job, info)) => out.push((job, Some(info))),
            None => out.push((j, None)),
        }
    }
    Ok(out)
}

/// Ask the service to stop a job.
pub async fn stop(ctx: &BatchContext<'_>, key: &str) -> Result<store::BatchJob, BatchFlowError> {
    let store = open_store(ctx.data_dir)?;
    let job = find_job(&store, key)?;
    drop(store);
    llm::bedrock::batch::job::stop(&ctx.clients.control, &job.job_arn).await?;
    Ok(refresh(ctx, &job.id.to_string()).await?.0)
}
