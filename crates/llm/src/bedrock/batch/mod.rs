//! Bedrock batch inference (bedrock.md §8): many Converse requests as one job at half the
//! on-demand price, answered within hours instead of seconds.
//!
//! - [`records`]: the JSONL input — each `modelInput` the Converse body the on-demand call
//!   would send, written by the SDK's own serializer;
//! - [`storage`] and [`s3uri`]: the input uploaded to S3, the output read back;
//! - [`job`]: `CreateModelInvocationJob` and its Get / List / Stop;
//! - [`output`]: the output lines and `manifest.json.out` parsed, joined on `recordId`;
//! - [`answers`]: a provider that answers the pipeline's requests from the output, so the
//!   answers are validated and repaired by the same code as on-demand answers.
//!
//! The clients take the SDK's standard endpoint overrides (`AWS_ENDPOINT_URL_BEDROCK`,
//! `AWS_ENDPOINT_URL_S3`), or explicit ones; an S3 endpoint override uses path-style
//! addressing, which S3-compatible servers expect.

pub mod answers;
pub mod job;
pub mod output;
pub mod records;
pub mod s3uri;
pub mod storage;

use std::collections::BTreeMap;

pub use answers::{BatchAnswers, Prefilled, Use};
pub use job::{DEFAULT_MIN_RECORDS, JobInfo, JobSpec, TIMEOUT_HOURS};
pub use output::{Manifest, Outcome, OutputRecord};
pub use records::{BodyWriter, Record};
pub use s3uri::{S3Uri, S3UriError};

/// What can go wrong around a batch job.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Refused before asking the service.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Uri(#[from] S3UriError),
    /// The control plane refused or failed.
    #[error("bedrock {operation}: {code}: {message}")]
    Service {
        operation: String,
        code: String,
        message: String,
    },
    #[error("bedrock {operation}: {message}")]
    Transport { operation: String, message: String },
    #[error("s3 {operation} {uri}: {code}: {message}")]
    Storage {
        operation: String,
        uri: String,
        code: String,
        message: String,
    },
    /// The job's output could not be read.
    #[error("the job's output: {0}")]
    Output(String),
}

/// Endpoints to use instead of the SDK's own resolution (tests, S3-compatible stores).
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub bedrock: Option<String>,
    pub s3: Option<String>,
}

/// The control-plane and S3 clients of one region.
#[derive(Clone)]
pub struct BatchClients {
    pub control: aws_sdk_bedrock::Client,
    pub s3: aws_sdk_s3::Client,
    pub region: String,
}

impl BatchClients {
    /// Clients from a loaded SDK configuration (credentials, region, retry settings and the
    /// standard endpoint variables), with `endpoints` on top.
    pub fn from_sdk_config(
        sdk_config: &aws_config::SdkConfig,
        endpoints: &Endpoints,
    ) -> Result<Self, BatchError> {
        let region = sdk_config.region().map(|r| r.to_string()).ok_or_else(|| {
            BatchError::Invalid(
                "no AWS region configured: pass --aws-region, set AWS_REGION, or set `region` in the AWS profile"
                    .into(),
            )
        })?;
        let mut control = aws_sdk_bedrock::config::Builder::from(sdk_config);
        if let Some(url) = &endpoints.bedrock {
            control = control.endpoint_url(url);
        }
        let mut s3 = aws_sdk_s3::config::Builder::from(sdk_config);
        let s3_override = endpoints.s3.clone().or_else(|| {
            crate::registry::env_value("AWS_ENDPOINT_URL_S3")
                .or_else(|| crate::registry::env_value("AWS_ENDPOINT_URL"))
        });
        if let Some(url) = &s3_override {
            s3 = s3.endpoint_url(url).force_path_style(true);
        }
        Ok(BatchClients {
            control: aws_sdk_bedrock::Client::from_conf(control.build()),
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            region,
        })
    }
}

/// A finished job's output, joined on record id.
#[derive(Debug, Clone, Default)]
pub struct JobOutput {
    pub records: BTreeMap<String, OutputRecord>,
    pub manifest: Option<Manifest>,
    /// The output files read.
    pub files: Vec<String>,
    /// Output lines that could not be used (file and line named); their records count as
    /// missing from the output.
    pub problems: Vec<String>,
}

/// Read every `*.jsonl.out` file and `manifest.json.out` under `<output>/<job id>/`.
pub async fn download_output(
    s3: &aws_sdk_s3::Client,
    output: &S3Uri,
    job_id: &str,
) -> Result<JobOutput, BatchError> {
    let folder = output.join(job_id);
    let mut all = Vec::new();
    let mut result = JobOutput::default();
    for uri in storage::list(s3, &folder).await? {
        let name = uri.key.rsplit('/').next().unwrap_or_default().to_string();
        if name == "manifest.json.out" {
            let bytes = storage::get(s3, &uri).await?;
            let m = serde_json::from_slice(&bytes)
                .map_err(|e| BatchError::Output(format!("{uri}: not a manifest: {e}")))?;
            result.manifest = Some(m);
        } else if name.ends_with(".jsonl.out") {
            let bytes = storage::get(s3, &uri).await?;
            let text = String::from_utf8(bytes)
                .map_err(|_| BatchError::Output(format!("{uri}: not UTF-8 text")))?;
            let parsed = output::parse_output(&uri.to_string(), &text);
            all.extend(parsed.records);
            result.problems.extend(parsed.problems);
            result.files.push(uri.to_string());
        }
    }
    if result.files.is_empty() {
        return Err(BatchError::Output(format!(
            "no *.jsonl.out file under {folder}: the job has not written its output (yet)"
        )));
    }
    let (records, repeats) = output::by_record_id(all);
    result.records = records;
    result.problems.extend(repeats);
    Ok(result)
}
