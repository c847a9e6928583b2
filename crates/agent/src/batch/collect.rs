//! `batch collect` and `batch retry-failed`: the reports finished from a job's answers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt;
use llm::bedrock::batch::{
    BatchAnswers, Manifest, Outcome, Prefilled, Use, download_output, job, output, s3uri::S3Uri,
};
use llm::{EventStream, LlmError, Provider, Request, Usage};

use super::{BatchContext, BatchFlowError, BatchSettings, find_job, open_store, settings_of};
use crate::workflow::{self, ModelPart, PHASES, Silent, WorkflowError};

/// A record the job could not answer.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedRecord {
    pub record_id: String,
    pub athlete: String,
    pub part: String,
    pub error: String,
}

/// One athlete's report after collect (or retry).
#[derive(Debug, Clone)]
pub struct AthleteResult {
    pub athlete: String,
    pub report: Option<PathBuf>,
    /// Why the report could not be written at all.
    pub error: Option<String>,
    /// Records of the job that answered this athlete's calls.
    pub answered: usize,
    /// Parts the rule-based coach wrote, with why.
    pub fallbacks: Vec<String>,
    /// Model calls made on demand for this athlete (repairs, retries, changed requests).
    pub on_demand_calls: u32,
    /// The whole report's model cost (batch answers at batch prices, the rest on demand).
    pub cost_usd: Option<f64>,
}

/// What `collect` did.
#[derive(Debug, Clone)]
pub struct Collected {
    pub job: store::BatchJob,
    pub info: llm::bedrock::batch::JobInfo,
    pub manifest: Option<Manifest>,
    pub athletes: Vec<AthleteResult>,
    pub failed: Vec<FailedRecord>,
    /// Records no request asked for (the athlete's data changed since submission, so the
    /// request did too: it was asked on demand instead).
    pub unused: Vec<String>,
    /// Tokens of the answered records.
    pub batch_usage: Usage,
    pub batch_answers: usize,
    /// The answered records at batch prices, and what the same calls cost on demand.
    pub batch_cost_usd: Option<f64>,
    pub on_demand_equivalent_usd: Option<f64>,
    /// Calls made on demand during collect, and their cost.
    pub on_demand_calls: u32,
    pub on_demand_cost_usd: Option<f64>,
    /// Output lines that could not be used, by file and line (their records are in `failed`).
    pub output_problems: Vec<String>,
}

/// An `Arc`-held provider as the box a run takes.
struct Shared(Arc<dyn Provider>);

#[async_trait::async_trait]
impl Provider for Shared {
    fn name(&self) -> &str {
        self.0.name()
    }
    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError> {
        self.0.stream(request).await
    }
    async fn stream_counted(
        &self,
        request: &Request,
    ) -> (
        Result<EventStream, LlmError>,
        Option<llm::http::AttemptCounter>,
    ) {
        self.0.stream_counted(request).await
    }
    async fn answers_from_batch(&self, request: &Request) -> bool {
        self.0.answers_from_batch(request).await
    }
    async fn model_names(&self) -> Vec<String> {
        self.0.model_names().await
    }
    fn local_endpoint(&self) -> Option<&str> {
        self.0.local_endpoint()
    }
    fn sent_as(&self, request: &Request) -> Option<serde_json::Value> {
        self.0.sent_as(request)
    }
}

fn add_cost(total: &mut Option<f64>, c: Option<f64>) {
    *total = match (*total, c) {
        (Some(a), Some(b)) => Some(a + b),
        _ => None,
    };
}

/// What a record asked for, in words.
fn part_name(r: &store::BatchRecord) -> String {
    match ModelPart::from_key(&r.phase) {
        Some(ModelPart::Analysis) => PHASES[1].to_string(),
        Some(ModelPart::PlanOverview) => "plan overview".to_string(),
        None => r.phase.clone(),
    }
}

/// The athlete's records' folder key: the record id without its part (`anna-berg`).
fn prefix_of(record_id: &str) -> &str {
    record_id.rsplit_once('.').map_or(record_id, |(p, _)| p)
}

/// The athlete's name for a store id.
fn athlete_names(store: &store::Store) -> Result<BTreeMap<i64, String>, BatchFlowError> {
    Ok(store
        .athletes()?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

/// One athlete's report run with `provider`; resumes the run `submit` began, or starts afresh
/// when the athlete's data changed since (the checkpoints no longer match).
async fn run_report(
    ctx: &BatchContext<'_>,
    settings: &BatchSettings,
    athlete: &str,
    prefix: &str,
    provider: Arc<dyn Provider>,
) -> Result<workflow::Outcome, WorkflowError> {
    let options = settings.options(
        ctx.data_dir,
        athlete,
        prefix,
        Box::new(Shared(provider.clone())),
        &ctx.catalog,
        true,
    );
    match workflow::run(options, &Silent).await {
        Err(WorkflowError::ResumeMismatch { .. }) => {
            let options = settings.options(
                ctx.data_dir,
                athlete,
                prefix,
                Box::new(Shared(provider)),
                &ctx.catalog,
                false,
            );
            workflow::run(options, &Silent).await
        }
        other => other,
    }
}

fn totals(o: &workflow::Outcome) -> (u32, Option<f64>) {
    o.phases
        .iter()
        .fold((0, Some(0.0)), |(calls, mut cost), p| {
            add_cost(&mut cost, p.cost.cost_usd);
            (calls + p.cost.model_calls, cost)
        })
}

/// Download the job's output, join it on record id, and finish every athlete's report.
pub async fn collect(
    ctx: &BatchContext<'_>,
    key: &str,
    concurrency: usize,
) -> Result<Collected, BatchFlowError> {
    let (job_row, info) = super::refresh(ctx, key).await?;
    if !info.has_output() {
        return Err(BatchFlowError::NotReady {
            job: job_row.job_name.clone(),
            status: info.status.clone(),
            message: info.message.clone(),
        });
    }
    let settings = settings_of(&job_row)?;
    let output_uri =
        S3Uri::parse(&job_row.output_uri).map_err(llm::bedrock::batch::BatchError::from)?;
    let out = download_output(&ctx.clients.s3, &output_uri, job::job_id(&job_row.job_arn)).await?;
    for p in &out.problems {
        (ctx.progress)(&format!("job {}: output skipped: {p}", job_row.job_name));
    }
    let missing = if out.problems.is_empty() {
        "no line for this record in the job's output"
    } else {
        "no usable line for this record in the job's output (some lines were unreadable)"
    };
    let (records, names) = {
        let store = open_store(ctx.data_dir)?;
        (store.batch_records(job_row.id)?, athlete_names(&store)?)
    };
    // Join on record id: the output's order means nothing.
    let mut by_athlete: BTreeMap<i64, Vec<Prefilled>> = BTreeMap::new();
    let mut failed = Vec::new();
    let mut batch_usage = Usage::default();
    let mut batch_answers = 0;
    let (mut batch_cost, mut equivalent) = (Some(0.0), Some(0.0));
    for r in &records {
        let athlete = names.get(&r.athlete_id).cloned().unwrap_or_default();
        let Some(line) = out.records.get(&r.record_id) else {
            failed.push(FailedRecord {
                record_id: r.record_id.clone(),
                athlete,
                part: part_name(r),
                error: missing.into(),
            });
            continue;
        };
        if let Outcome::Answer(o) = &line.outcome {
            let usage = output::usage_of_output(o);
            let model = o
                .pointer("/trace/promptRouter/invokedModelId")
                .and_then(|v| v.as_str())
                .unwrap_or(&job_row.model_id);
            add_cost(
                &mut batch_cost,
                ctx.catalog.batch_cost("bedrock", model, &usage).usd(),
            );
            add_cost(
                &mut equivalent,
                ctx.catalog.cost("bedrock", model, &usage).usd(),
            );
            batch_usage.add(&usage);
            batch_answers += 1;
        }
        by_athlete.entry(r.athlete_id).or_default().push(Prefilled {
            record_id: r.record_id.clone(),
            model_input: line.model_input.clone(),
            outcome: line.outcome.clone(),
        });
    }
    (ctx.progress)(&format!(
        "job {}: {} output lines, {} answers, {} errors; finishing {} reports",
        job_row.job_name,
        out.records.len(),
        batch_answers,
        out.records.len() - batch_answers,
        by_athlete.len()
    ));
    let runs = futures::stream::iter(by_athlete.into_iter().map(|(athlete_id, prefilled)| {
        let athlete = names.get(&athlete_id).cloned().unwrap_or_default();
        let settings = &settings;
        let model_id = job_row.model_id.clone();
        async move {
            let prefix = prefilled
                .first()
                .map(|p| prefix_of(&p.record_id).to_string())
                .unwrap_or_default();
            let answers = Arc::new(BatchAnswers::new(
                ctx.on_demand.clone(),
                ctx.bedrock.clone(),
                &model_id,
                prefilled,
            ));
            let outcome = run_report(ctx, settings, &athlete, &prefix, answers.clone()).await;
            (athlete, outcome, answers.uses(), answers.unused())
        }
    }))
    .buffer_unordered(concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut store = open_store(ctx.data_dir)?;
    let mut athletes = Vec::new();
    let mut unused = Vec::new();
    let (mut od_calls, mut od_cost) = (0u32, Some(0.0));
    for (athlete, outcome, uses, not_used) in runs {
        let mut answered = 0;
        let mut failed_uses = 0;
        for u in &uses {
            match u {
                Use::Answered { record_id } => {
                    answered += 1;
                    store.set_batch_record_state(job_row.id, record_id, "answered", None)?;
                }
                Use::Failed { record_id, error } => {
                    failed_uses += 1;
                    store.set_batch_record_state(job_row.id, record_id, "failed", Some(error))?;
                    let part = records
                        .iter()
                        .find(|r| &r.record_id == record_id)
                        .map(part_name)
                        .unwrap_or_default();
                    failed.push(FailedRecord {
                        record_id: record_id.clone(),
                        athlete: athlete.clone(),
                        part,
                        error: error.clone(),
                    });
                }
            }
        }
        unused.extend(not_used);
        let result = match outcome {
            Ok(o) => {
                let (calls, cost) = totals(&o);
                let mine = answered as u32 + failed_uses;
                let on_demand = calls.saturating_sub(mine);
                od_calls += on_demand;
                AthleteResult {
                    athlete: athlete.clone(),
                    report: Some(o.files.index_html.clone()),
                    error: None,
                    answered,
                    fallbacks: o.phases.iter().filter_map(|p| p.fallback.clone()).collect(),
                    on_demand_calls: on_demand,
                    cost_usd: cost,
                }
            }
            Err(e) => AthleteResult {
                athlete: athlete.clone(),
                report: None,
                error: Some(e.to_string()),
                answered,
                fallbacks: Vec::new(),
                on_demand_calls: 0,
                cost_usd: Some(0.0),
            },
        };
        add_cost(&mut od_cost, result.cost_usd);
        (ctx.progress)(&athlete_line(&result));
        athletes.push(result);
    }
    // What the reports cost beyond the batch answers is what was asked on demand.
    let od_cost = match (od_cost, batch_cost) {
        (Some(all), Some(b)) => Some((all - b).max(0.0)),
        _ => None,
    };
    athletes.sort_by(|a, b| a.athlete.cmp(&b.athlete));
    failed.sort_by(|a, b| a.record_id.cmp(&b.record_id));
    failed.dedup_by(|a, b| a.record_id == b.record_id);
    store.mark_batch_job_collected(job_row.id)?;
    let job_row = find_job(&store, &job_row.id.to_string())?;
    Ok(Collected {
        job: job_row,
        info,
        manifest: out.manifest,
        athletes,
        failed,
        unused,
        batch_usage,
        batch_answers,
        batch_cost_usd: batch_cost,
        on_demand_equivalent_usd: equivalent,
        on_demand_calls: od_calls,
        on_demand_cost_usd: od_cost,
        output_problems: out.problems,
    })
}

/// "anna-berg: report …/index.html (2 answers from the batch, 1 call on demand, $0.0123)".
pub fn athlete_line(r: &AthleteResult) -> String {
    let cost = r
        .cost_usd
        .map_or_else(|| "cost unknown".into(), |c| format!("${c:.4}"));
    match (&r.report, &r.error) {
        (Some(p), _) => {
            let mut line = format!(
                "{}: {} ({} from the batch, {} on demand, {cost})",
                r.athlete,
                p.display(),
                r.answered,
                r.on_demand_calls
            );
            for f in &r.fallbacks {
                line.push_str(&format!("; rule-based coach stood in: {f}"));
            }
            line
        }
        (None, Some(e)) => format!("{}: FAILED: {e}", r.athlete),
        (None, None) => format!("{}: nothing done", r.athlete),
    }
}

/// Ask on demand for every record of the job that failed, and finish those athletes'
/// reports (the parts the job answered are kept from `collect`).
pub async fn retry_failed(
    ctx: &BatchContext<'_>,
    key: &str,
    concurrency: usize,
) -> Result<Vec<AthleteResult>, BatchFlowError> {
    let (job_row, records, names) = {
        let store = open_store(ctx.data_dir)?;
        let job_row = find_job(&store, key)?;
        let records = store.batch_records(job_row.id)?;
        (job_row, records, athlete_names(&store)?)
    };
    let settings = settings_of(&job_row)?;
    let mut by_athlete: BTreeMap<i64, Vec<&store::BatchRecord>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.state == "failed") {
        by_athlete.entry(r.athlete_id).or_default().push(r);
    }
    let runs = futures::stream::iter(by_athlete.into_iter().map(|(athlete_id, recs)| {
        let athlete = names.get(&athlete_id).cloned().unwrap_or_default();
        let settings = &settings;
        async move {
            let prefix = prefix_of(&recs[0].record_id).to_string();
            let outcome = run_report(ctx, settings, &athlete, &prefix, ctx.on_demand.clone()).await;
            (athlete, recs, outcome)
        }
    }))
    .buffer_unordered(concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut store = open_store(ctx.data_dir)?;
    let mut results = Vec::new();
    for (athlete, recs, outcome) in runs {
        let result = match outcome {
            Ok(o) => {
                for r in &recs {
                    let phase = ModelPart::from_key(&r.phase).map(|p| match p {
                        ModelPart::Analysis => PHASES[1],
                        ModelPart::PlanOverview => PHASES[2],
                    });
                    let fallback = o
                        .phases
                        .iter()
                        .find(|p| Some(p.cost.phase.as_str()) == phase)
                        .and_then(|p| p.fallback.clone());
                    match fallback {
                        None => store.set_batch_record_state(
                            job_row.id,
                            &r.record_id,
                            "retried",
                            None,
                        )?,
                        Some(why) => store.set_batch_record_state(
                            job_row.id,
                            &r.record_id,
                            "failed",
                            Some(&format!("on demand too: {why}")),
                        )?,
                    }
                }
                let (calls, cost) = totals(&o);
                AthleteResult {
                    athlete,
                    report: Some(o.files.index_html.clone()),
                    error: None,
                    answered: 0,
                    fallbacks: o.phases.iter().filter_map(|p| p.fallback.clone()).collect(),
                    on_demand_calls: calls,
                    cost_usd: cost,
                }
            }
            Err(e) => AthleteResult {
                athlete,
                report: None,
                error: Some(e.to_string()),
                answered: 0,
                fallbacks: Vec::new(),
                on_demand_calls: 0,
                cost_usd: Some(0.0),
            },
        };
        (ctx.progress)(&athlete_line(&result));
        results.push(result);
    }
    results.sort_by(|a, b| a.athlete.cmp(&b.athlete));
    Ok(results)
}
