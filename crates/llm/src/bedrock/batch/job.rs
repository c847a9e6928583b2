//! The control plane's batch operations (`CreateModelInvocationJob`, `Get…`, `List…`,
//! `Stop…`) through `aws-sdk-bedrock`, with what we can check before asking the service
//! checked here, so a bad flag fails before anything is uploaded.

use aws_sdk_bedrock::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_bedrock::types as sdk;

use super::BatchError;
use super::s3uri::S3Uri;

/// `timeoutDurationInHours` bounds of the service model.
pub const TIMEOUT_HOURS: std::ops::RangeInclusive<i32> = 24..=168;

/// The service's default minimum of records per job (a per-model quota, adjustable).
pub const DEFAULT_MIN_RECORDS: usize = 100;

/// What a job is created with.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    pub job_name: String,
    pub role_arn: String,
    /// The model id sent (already resolved: a base id or an inference profile).
    pub model_id: String,
    /// The JSONL input file (or a prefix of them).
    pub input: S3Uri,
    /// The folder the service writes `<jobId>/…` into.
    pub output: S3Uri,
    pub timeout_hours: Option<i32>,
    /// Makes a retried submission return the job already created instead of a second one.
    pub client_request_token: String,
}

/// A job as the service describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    pub job_arn: String,
    pub job_name: Option<String>,
    pub model_id: String,
    pub status: String,
    pub message: Option<String>,
    pub submit_time: Option<jiff::Timestamp>,
    pub end_time: Option<jiff::Timestamp>,
    pub expiration_time: Option<jiff::Timestamp>,
    pub output_uri: Option<String>,
    pub total_records: Option<i64>,
    pub processed_records: Option<i64>,
    pub success_records: Option<i64>,
    pub error_records: Option<i64>,
}

impl JobInfo {
    /// The job id: the last segment of the ARN (the folder its output is written to).
    pub fn job_id(&self) -> &str {
        job_id(&self.job_arn)
    }

    /// No further state change will happen by itself.
    pub fn is_finished(&self) -> bool {
        is_final_status(&self.status)
    }

    /// Finished with output to collect (all records, or some of them).
    pub fn has_output(&self) -> bool {
        matches!(self.status.as_str(), "Completed" | "PartiallyCompleted")
    }
}

/// The id at the end of a job ARN (`…:model-invocation-job/<id>`).
pub fn job_id(job_arn: &str) -> &str {
    job_arn.rsplit('/').next().unwrap_or(job_arn)
}

/// States a job does not leave.
pub fn is_final_status(status: &str) -> bool {
    matches!(
        status,
        "Completed" | "PartiallyCompleted" | "Failed" | "Stopped" | "Expired"
    )
}

/// Prompt routers cannot run batch jobs (bedrock.md §8): refuse them before submitting.
pub fn is_prompt_router(model_id: &str) -> bool {
    model_id.contains(":default-prompt-router/") || model_id.contains(":prompt-router/")
}

/// The checks we can make without the service.
pub fn check_spec(spec: &JobSpec) -> Result<(), BatchError> {
    let bad = |message: String| Err(BatchError::Invalid(message));
    if is_prompt_router(&spec.model_id) {
        return bad(format!(
            "`{}` is a prompt router, and a prompt router cannot be a batch model: pass a model id or an inference profile with --model",
            spec.model_id
        ));
    }
    if let Some(h) = spec.timeout_hours
        && !TIMEOUT_HOURS.contains(&h)
    {
        return bad(format!(
            "--timeout-hours {h}: a batch job's timeout is {} to {} hours",
            TIMEOUT_HOURS.start(),
            TIMEOUT_HOURS.end()
        ));
    }
    if !spec.role_arn.starts_with("arn:") || !spec.role_arn.contains(":role/") {
        return bad(format!(
            "--role-arn `{}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
            spec.role_arn
        ));
    }
    if !spec.input.key.ends_with(".jsonl") {
        return bad(format!("the input {} must be a .jsonl file", spec.input));
    }
    Ok(())
}

fn service_error<E>(operation: &str, e: SdkError<E>) -> BatchError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match e.as_service_error() {
        Some(se) => BatchError::Service {
            operation: operation.to_string(),
            code: se.code().unwrap_or("Unknown").to_string(),
            message: se.message().unwrap_or("(no message)").to_string(),
        },
        None => BatchError::Transport {
            operation: operation.to_string(),
            message: DisplayErrorContext(e).to_string(),
        },
    }
}

fn timestamp(t: Option<&aws_smithy_types::DateTime>) -> Option<jiff::Timestamp> {
    t.and_then(|t| jiff::Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok())
}

fn build_error(what: &str, e: impl std::fmt::Display) -> BatchError {
    BatchError::Invalid(format!("cannot build {what}: {e}"))
}

/// `CreateModelInvocationJob` with `modelInvocationType: Converse`; returns the job ARN.
pub async fn create(
    client: &aws_sdk_bedrock::Client,
    spec: &JobSpec,
) -> Result<String, BatchError> {
    check_spec(spec)?;
    let input = sdk::ModelInvocationJobS3InputDataConfig::builder()
        .s3_uri(spec.input.to_string())
        .s3_input_format(sdk::S3InputFormat::Jsonl)
        .build()
        .map_err(|e| build_error("inputDataConfig", e))?;
    let output = sdk::ModelInvocationJobS3OutputDataConfig::builder()
        .s3_uri(spec.output.as_folder().to_string())
        .build()
        .map_err(|e| build_error("outputDataConfig", e))?;
    let out = client
        .create_model_invocation_job()
        .job_name(&spec.job_name)
        .role_arn(&spec.role_arn)
        .model_id(&spec.model_id)
        .client_request_token(&spec.client_request_token)
        .model_invocation_type(sdk::ModelInvocationType::Converse)
        .input_data_config(sdk::ModelInvocationJobInputDataConfig::S3InputDataConfig(
            input,
        ))
        .output_data_config(sdk::ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
            output,
        ))
        .set_timeout_duration_in_hours(spec.timeout_hours)
        .send()
        .await
        .map_err(|e| service_error("CreateModelInvocationJob", e))?;
    Ok(out.job_arn().to_string())
}

fn output_uri(c: Option<&sdk::ModelInvocationJobOutputDataConfig>) -> Option<String> {
    match c {
        Some(sdk::ModelInvocationJobOutputDataConfig::S3OutputDataConfig(s)) => {
            Some(s.s3_uri().to_string())
        }
        _ => None,
    }
}

/// `GetModelInvocationJob`.
pub async fn get(client: &aws_sdk_bedrock::Client, job_arn: &str) -> Result<JobInfo, BatchError> {
    let o = client
        .get_model_invocation_job()
        .job_identifier(job_arn)
        .send()
        .await
        .map_err(|e| service_error("GetModelInvocationJob", e))?;
    Ok(JobInfo {
        job_arn: o.job_arn().to_string(),
        job_name: o.job_name().map(str::to_string),
        model_id: o.model_id().to_string(),
        status: o
            .status()
            .map_or_else(|| "Unknown".into(), |s| s.as_str().to_string()),
        message: o.message().map(str::to_string),
        submit_time: timestamp(Some(o.submit_time())),
        end_time: timestamp(o.end_time()),
        expiration_time: timestamp(o.job_expiration_time()),
        output_uri: output_uri(o.output_data_config()),
        total_records: o.total_record_count(),
        processed_records: o.processed_record_count(),
        success_records: o.success_record_count(),
        error_records: o.error_record_count(),
    })
}

/// `ListModelInvocationJobs`, every page, newest first as the service sorts them.
pub async fn list(client: &aws_sdk_bedrock::Client) -> Result<Vec<JobInfo>, BatchError> {
    let mut jobs = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_model_invocation_jobs()
            .set_next_token(token.clone())
            .sort_by(sdk::SortJobsBy::CreationTime)
            .sort_order(sdk::SortOrder::Descending)
            .send()
            .await
            .map_err(|e| service_error("ListModelInvocationJobs", e))?;
        for s in page.invocation_job_summaries() {
            jobs.push(JobInfo {
                job_arn: s.job_arn().to_string(),
                job_name: Some(s.job_name().to_string()),
                model_id: s.model_id().to_string(),
                status: s
                    .status()
                    .map_or_else(|| "Unknown".into(), |s| s.as_str().to_string()),
                message: s.message().map(str::to_string),
                submit_time: timestamp(Some(s.submit_time())),
                end_time: timestamp(s.end_time()),
                expiration_time: timestamp(s.job_expiration_time()),
                output_uri: output_uri(s.output_data_config()),
                total_records: s.total_record_count(),
                processed_records: s.processed_record_count(),
                success_records: s.success_record_count(),
                error_records: s.error_record_count(),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(jobs);
        }
    }
}

/// `StopModelInvocationJob`.
pub async fn stop(client: &aws_sdk_bedrock::Client, job_arn: &str) -> Result<(), BatchError> {
    client
        .stop_model_invocation_job()
        .job_identifier(job_arn)
        .send()
        .await
        .map_err(|e| service_error("StopModelInvocationJob", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> JobSpec {
        JobSpec {
            job_name: "cycling-ai-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/BedrockBatch".into(),
            model_id: "us.amazon.nova-pro-v1:0".into(),
            input: S3Uri::parse("s3://bkt/in/records.jsonl").unwrap(),
            output: S3Uri::parse("s3://bkt/out").unwrap(),
            timeout_hours: Some(24),
            client_request_token: "t".into(),
        }
    }

    #[test]
    fn local_checks_name_the_flag_at_fault() {
        assert!(check_spec(&spec()).is_ok());
        let mut s = spec();
        s.timeout_hours = Some(12);
        assert!(
            check_spec(&s)
                .unwrap_err()
                .to_string()
                .contains("24 to 168")
        );
        let mut s = spec();
        s.model_id =
            "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1"
                .into();
        assert!(
            check_spec(&s)
                .unwrap_err()
                .to_string()
                .contains("prompt router")
        );
        let mut s = spec();
        s.role_arn = "BedrockBatch".into();
        assert!(
            check_spec(&s)
                .unwrap_err()
                .to_string()
                .contains("--role-arn")
        );
        let mut s = spec();
        s.input = S3Uri::parse("s3://bkt/in/records.json").unwrap();
        assert!(check_spec(&s).unwrap_err().to_string().contains(".jsonl"));
    }

    #[test]
    fn job_ids_and_final_states() {
        assert_eq!(
            job_id("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/ab12cd34ef56"),
            "ab12cd34ef56"
        );
        assert!(is_final_status("PartiallyCompleted") && !is_final_status("Stopping"));
    }
}
