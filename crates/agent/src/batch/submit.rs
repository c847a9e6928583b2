//! `batch submit`: every athlete's first model requests as one batch job.

use std::collections::BTreeSet;

use llm::bedrock::batch::records::{self, BodyWriter, Record};
use llm::bedrock::batch::{JobSpec, S3Uri, job, storage};
use sha2::{Digest, Sha256};

use super::{BatchContext, BatchFlowError, BatchSettings, open_store};
use crate::workflow::{self, Silent, WorkflowError};

/// What `submit` is asked for besides the report settings.
#[derive(Debug, Clone)]
pub struct SubmitArgs {
    /// Where the input goes (`<prefix>/<job name>/input/records.jsonl`) and the output comes
    /// (`<prefix>/<job name>/output/`).
    pub s3: S3Uri,
    pub role_arn: String,
    pub timeout_hours: Option<i32>,
    /// Below this many records the job is refused (the model's quota; 100 by default).
    pub min_records: usize,
    /// Default `cycling-ai-<UTC time>`.
    pub job_name: Option<String>,
    /// Only these athletes (each must exist); `None`: every athlete of the store.
    pub athletes: Option<Vec<String>>,
}

/// What was submitted.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job: store::BatchJob,
    pub records: usize,
    pub athletes: usize,
    /// Athletes left out, and why.
    pub skipped: Vec<(String, String)>,
    /// Per athlete, the model calls that stay on demand (they need an earlier answer).
    pub on_demand: Vec<(String, String)>,
    /// Athletes whose model phases had already finished (checkpointed reports).
    pub already_done: Vec<String>,
    pub input: S3Uri,
}

/// A record id for `name`'s `part`, unique among `taken`: `anna.analysis`, then
/// `anna-2.analysis` for a second athlete whose name makes the same id.
fn unique_prefix(name: &str, taken: &mut BTreeSet<String>) -> String {
    let base = records::slug(name);
    let base: String = base.chars().take(48).collect();
    let mut prefix = base.clone();
    let mut n = 1;
    while taken.contains(&prefix) {
        n += 1;
        prefix = format!("{base}-{n}");
    }
    taken.insert(prefix.clone());
    prefix
}

fn default_job_name() -> String {
    format!(
        "cycling-ai-{}",
        jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S")
    )
}

/// Run phase 1 for every athlete, write the records, upload them, create the job and record
/// it in the store.
pub async fn submit(
    ctx: &BatchContext<'_>,
    settings: &BatchSettings,
    args: &SubmitArgs,
) -> Result<Submitted, BatchFlowError> {
    let athletes = {
        let mut store = open_store(ctx.data_dir)?;
        match &args.athletes {
            None => store.athletes()?,
            Some(names) => {
                let mut chosen: Vec<store::Athlete> = Vec::with_capacity(names.len());
                for name in names {
                    let a = store.resolve_athlete(Some(name))?;
                    if !chosen.iter().any(|c| c.id == a.id) {
                        chosen.push(a);
                    }
                }
                chosen
            }
        }
    };
    let writer = BodyWriter::new();
    let mut lines: Vec<Record> = Vec::new();
    let mut mapping: Vec<(String, i64, String)> = Vec::new();
    let mut taken = BTreeSet::new();
    let mut skipped = Vec::new();
    let mut on_demand = Vec::new();
    let mut already_done = Vec::new();
    let mut model_id = None;
    let mut with_records = 0;
    for a in &athletes {
        let prefix = unique_prefix(&a.name, &mut taken);
        let requests = {
            let build = |resume| {
                let options = settings.options(
                    ctx.data_dir,
                    &a.name,
                    &prefix,
                    Box::new(ctx.bedrock.clone()),
                    &ctx.catalog,
                    resume,
                );
                workflow::model_requests(&options, &Silent)
            };
            // Checkpoints of another run in the athlete's folder: start it afresh.
            match build(true) {
                Err(WorkflowError::ResumeMismatch { .. }) => build(false),
                other => other,
            }
        };
        let requests = match requests {
            Ok(r) => r,
            Err(e @ (WorkflowError::NoActivities | WorkflowError::NoProfile)) => {
                (ctx.progress)(&format!("{}: skipped: {e}", a.name));
                skipped.push((a.name.clone(), e.to_string()));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if requests.requests.is_empty() {
            already_done.push(a.name.clone());
        } else {
            with_records += 1;
        }
        for note in &requests.on_demand {
            on_demand.push((a.name.clone(), note.clone()));
        }
        for (part, request) in &requests.requests {
            let (id, body) = writer.body(ctx.bedrock, request).await?;
            model_id.get_or_insert(id);
            let record_id = format!("{prefix}.{}", part.key());
            mapping.push((record_id.clone(), a.id, part.key().to_string()));
            lines.push(Record {
                record_id,
                model_input: body,
            });
        }
        (ctx.progress)(&format!(
            "{}: {} request(s) for the batch",
            a.name,
            requests.requests.len()
        ));
    }
    if lines.is_empty() {
        return Err(BatchFlowError::NothingToSubmit);
    }
    if lines.len() < args.min_records {
        return Err(BatchFlowError::TooFewRecords {
            records: lines.len(),
            athletes: with_records,
            min: args.min_records,
        });
    }
    let model_id = model_id.unwrap_or_else(|| ctx.bedrock.resolve_model(&settings.model));
    let job_name = args.job_name.clone().unwrap_or_else(default_job_name);
    let folder = args.s3.join(&job_name);
    let input = folder.join("input/records.jsonl");
    let output = folder.join("output/");
    let text = records::jsonl(&lines);
    // The same records, model, role and place make the same token: submitting again after a
    // lost answer finds the job already created instead of paying twice.
    let mut h = Sha256::new();
    for part in [
        text.as_str(),
        &model_id,
        &args.role_arn,
        &output.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let token: String = h
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let spec = JobSpec {
        job_name: job_name.clone(),
        role_arn: args.role_arn.clone(),
        model_id: model_id.clone(),
        input: input.clone(),
        output: output.clone(),
        timeout_hours: args.timeout_hours,
        client_request_token: token,
    };
    // Refused flags fail before anything is uploaded.
    job::check_spec(&spec)?;
    (ctx.progress)(&format!(
        "uploading {} records ({} bytes) to {input}",
        lines.len(),
        text.len()
    ));
    storage::put(&ctx.clients.s3, &input, text.into_bytes()).await?;
    let arn = job::create(&ctx.clients.control, &spec).await?;
    let options_json =
        serde_json::to_string(settings).map_err(|e| BatchFlowError::BadSettings {
            job: job_name.clone(),
            message: e.to_string(),
        })?;
    let mut store = open_store(ctx.data_dir)?;
    let stored = match store.batch_job(&arn)? {
        // The token found a job submitted before: it is recorded already.
        Some(j) => j,
        None => store.insert_batch_job(
            &store::NewBatchJob {
                job_arn: &arn,
                job_name: &job_name,
                model: &settings.model,
                model_id: &model_id,
                region: &ctx.clients.region,
                role_arn: &args.role_arn,
                input_uri: &input.to_string(),
                output_uri: &output.to_string(),
                options_json: &options_json,
                status: "Submitted",
            },
            &mapping,
        )?,
    };
    Ok(Submitted {
        job: stored,
        records: lines.len(),
        athletes: with_records,
        skipped,
        on_demand,
        already_done,
        input,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn athletes_whose_names_make_the_same_id_are_told_apart() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique_prefix("Anna Berg", &mut taken), "anna-berg");
        assert_eq!(unique_prefix("anna  berg!", &mut taken), "anna-berg-2");
        assert_eq!(unique_prefix("ANNA-BERG", &mut taken), "anna-berg-3");
        assert_eq!(unique_prefix("Bob", &mut taken), "bob");
    }
}
