//! A fake Bedrock control plane for batch inference on loopback, next to [`super::FakeBedrock`]
//! (the runtime). It speaks the real REST-JSON wire format of `CreateModelInvocationJob`,
//! `GetModelInvocationJob`, `ListModelInvocationJobs` and `StopModelInvocationJob`, so the real
//! `aws-sdk-bedrock` client talks to it through an endpoint override, and it enforces the
//! service model (bedrock.md §8): required members, the patterns of `jobName`, `roleArn`,
//! `clientRequestToken` and S3 URIs, `timeoutDurationInHours` 24–168, the invocation type,
//! known models, no prompt routers, the minimum record count, and idempotent tokens.
//!
//! A job moves one state per `GetModelInvocationJob` (deterministic for tests):
//! Submitted → Validating → Scheduled → InProgress → Completed or PartiallyCompleted (Failed
//! when the input cannot be read or has too few records; Stopping → Stopped after a stop). On
//! reaching its end it reads the input from S3 (moto), checks every record like the runtime
//! fake checks a Converse call, answers each from the script ([`ModelReply`] rendered as the
//! Converse output), fails the records chosen for errors, and writes
//! `<output>/<jobId>/<input file>.out` in shuffled order plus `manifest.json.out` — all through
//! the real S3 SDK.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::fake_bedrock::{
    FAKE_ACCOUNT, HttpRequest, ModelReply, Operation, Rejection, is_known_model, percent_decode,
    read_request, validate, write_error,
};
use crate::bedrock::batch::S3Uri;
use crate::bedrock::batch::job::is_prompt_router;

/// How the fake answers one record: a model reply, or a per-record error (code, message).
pub type Responder = dyn Fn(&str, &Value) -> Result<ModelReply, (u16, String)> + Send + Sync;

/// A job as the fake keeps it.
#[derive(Debug, Clone)]
pub struct FakeJob {
    pub arn: String,
    pub name: String,
    pub model_id: String,
    pub role_arn: String,
    pub input_uri: String,
    pub output_uri: String,
    pub client_request_token: Option<String>,
    pub timeout_hours: Option<i64>,
    pub invocation_type: String,
    pub status: String,
    pub message: Option<String>,
    pub submit_time: String,
    pub end_time: Option<String>,
    pub total: Option<u64>,
    pub processed: Option<u64>,
    pub success: Option<u64>,
    pub errors: Option<u64>,
}

impl FakeJob {
    fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or_default()
    }

    fn summary(&self) -> Value {
        let mut v = json!({
            "jobArn": self.arn,
            "jobName": self.name,
            "modelId": self.model_id,
            "roleArn": self.role_arn,
            "status": self.status,
            "submitTime": self.submit_time,
            "lastModifiedTime": self.submit_time,
            "modelInvocationType": self.invocation_type,
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": self.input_uri, "s3InputFormat": "JSONL"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": self.output_uri}},
        });
        let opt = |v: &mut Value, k: &str, x: Option<Value>| {
            if let Some(x) = x {
                v[k] = x;
            }
        };
        opt(
            &mut v,
            "clientRequestToken",
            self.client_request_token.clone().map(Value::from),
        );
        opt(&mut v, "message", self.message.clone().map(Value::from));
        opt(&mut v, "endTime", self.end_time.clone().map(Value::from));
        opt(
            &mut v,
            "timeoutDurationInHours",
            self.timeout_hours.map(Value::from),
        );
        opt(&mut v, "totalRecordCount", self.total.map(Value::from));
        opt(
            &mut v,
            "processedRecordCount",
            self.processed.map(Value::from),
        );
        opt(&mut v, "successRecordCount", self.success.map(Value::from));
        opt(&mut v, "errorRecordCount", self.errors.map(Value::from));
        v
    }
}

struct State {
    jobs: Vec<FakeJob>,
    min_records: usize,
    /// Every `n`-th record (1-based) fails with one of the service's per-record errors.
    error_every: Option<usize>,
    responder: Arc<Responder>,
    /// Seed of the output order.
    shuffle_seed: u64,
    /// (operation, the validation message) of every refused request.
    rejections: Vec<(String, String)>,
    /// Requests seen, as `METHOD path`.
    calls: Vec<String>,
}

/// The fake control plane. Dropping it stops accepting connections.
pub struct FakeBatch {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn default_responder(_: &str, _: &Value) -> Result<ModelReply, (u16, String)> {
    Ok(ModelReply::text("{}"))
}

impl FakeBatch {
    /// Start the fake; it reads inputs and writes outputs through `s3` (a moto server).
    pub async fn start(s3: aws_sdk_s3::Client) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            jobs: Vec::new(),
            min_records: crate::bedrock::batch::DEFAULT_MIN_RECORDS,
            error_every: None,
            responder: Arc::new(default_responder),
            shuffle_seed: 7,
            rejections: Vec::new(),
            calls: Vec::new(),
        }));
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, st.clone(), s3.clone()));
            }
        });
        FakeBatch { addr, state, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The model's minimum records per job (the quota; 100 by default).
    pub fn set_min_records(&self, n: usize) {
        self.lock().min_records = n;
    }

    /// Fail every `n`-th record of a job's input with a per-record error.
    pub fn fail_every(&self, n: usize) {
        self.lock().error_every = Some(n.max(1));
    }

    /// How each record is answered (by record id and model input).
    pub fn answer_with(
        &self,
        f: impl Fn(&str, &Value) -> Result<ModelReply, (u16, String)> + Send + Sync + 'static,
    ) {
        self.lock().responder = Arc::new(f);
    }

    pub fn jobs(&self) -> Vec<FakeJob> {
        self.lock().jobs.clone()
    }

    /// The validation messages of refused requests, as (operation, message).
    pub fn rejections(&self) -> Vec<(String, String)> {
        self.lock().rejections.clone()
    }

    /// Every request, as `METHOD path`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }
}

async fn serve(mut sock: TcpStream, state: Arc<Mutex<State>>, s3: aws_sdk_s3::Client) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut sock, &mut buf).await {
        if !handle(&mut sock, req, &state, &s3).await {
            return;
        }
    }
}

async fn write_json(sock: &mut TcpStream, status: u16, body: &Value) -> bool {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\nx-amzn-requestid: fake-batch\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await.is_ok() && sock.write_all(body.as_bytes()).await.is_ok()
}

fn lock(state: &Arc<Mutex<State>>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Returns whether the connection stays usable.
async fn handle(
    sock: &mut TcpStream,
    req: HttpRequest,
    state: &Arc<Mutex<State>>,
    s3: &aws_sdk_s3::Client,
) -> bool {
    lock(state)
        .calls
        .push(format!("{} {}", req.method, req.path));
    // SigV4 for the control plane signs with the service name `bedrock`.
    let scope_ok = req
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .is_some_and(|(_, v)| {
            v.starts_with("AWS4-HMAC-SHA256") && v.contains("/bedrock/aws4_request")
        });
    if !scope_ok {
        return write_error(
            sock,
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
        .await;
    }
    let (path, _query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (op, result) = match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["model-invocation-job"]) => {
            ("CreateModelInvocationJob", create(state, &req.body))
        }
        ("GET", ["model-invocation-jobs"]) => ("ListModelInvocationJobs", list(state, _query)),
        ("GET", ["model-invocation-job", id]) => {
            let id = percent_decode(id);
            ("GetModelInvocationJob", get(state, s3, &id).await)
        }
        ("POST", ["model-invocation-job", id, "stop"]) => {
            ("StopModelInvocationJob", stop(state, &percent_decode(id)))
        }
        _ => {
            return write_error(sock, 404, "UnknownOperationException", "unknown operation").await;
        }
    };
    match result {
        Ok(body) => write_json(sock, 200, &body).await,
        Err((status, kind, message)) => {
            lock(state)
                .rejections
                .push((op.to_string(), message.clone()));
            write_error(sock, status, kind, &message).await
        }
    }
}

fn validation(message: impl Into<String>) -> Rejection {
    (400, "ValidationException", message.into())
}

/// The service's message for a member that breaks its constraint.
fn constraint(member: &str, value: &str, rule: &str) -> Rejection {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

fn required<'a>(body: &'a Value, member: &str) -> Result<&'a Value, Rejection> {
    match body.pointer(&format!("/{}", member.replace('.', "/"))) {
        Some(v) if !v.is_null() => Ok(v),
        _ => Err(validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))),
    }
}

fn text<'a>(body: &'a Value, member: &str) -> Result<&'a str, Rejection> {
    required(body, member)?
        .as_str()
        .ok_or_else(|| validation(format!("'{member}' must be a string")))
}

/// `[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}`, at most 63 characters.
fn job_name_ok(s: &str) -> bool {
    let first = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    first
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// `arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+`
fn role_arn_ok(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:aws") else {
        return false;
    };
    let rest = match rest.strip_prefix('-') {
        Some(r) => match r.split_once(':') {
            Some((partition, r)) if !partition.is_empty() => r,
            _ => return false,
        },
        None => match rest.strip_prefix(':') {
            Some(r) => r,
            None => return false,
        },
    };
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, role)) = rest.split_once(':') else {
        return false;
    };
    (account.is_empty() || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
        && role.strip_prefix("role/").is_some_and(|r| !r.is_empty())
}

/// `[a-zA-Z0-9](-*[a-zA-Z0-9])*`, 1–256 characters.
fn token_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?`
fn s3_uri_ok(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("s3://") else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&bucket.len())
        && edge(bucket.chars().next())
        && edge(bucket.chars().last())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn create(state: &Arc<Mutex<State>>, body: &[u8]) -> Result<Value, Rejection> {
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        (
            400,
            "SerializationException",
            format!("the body is not JSON: {e}"),
        )
    })?;
    let name = text(&body, "jobName")?;
    let role = text(&body, "roleArn")?;
    let model = text(&body, "modelId")?;
    let input = text(&body, "inputDataConfig.s3InputDataConfig.s3Uri")?;
    let output = text(&body, "outputDataConfig.s3OutputDataConfig.s3Uri")?;
    if !job_name_ok(name) {
        return Err(constraint(
            "jobName",
            name,
            "Member must satisfy regular expression pattern: [a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}",
        ));
    }
    if role.len() > 2048 || !role_arn_ok(role) {
        return Err(constraint(
            "roleArn",
            role,
            "Member must satisfy regular expression pattern: arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+",
        ));
    }
    for (member, uri) in [
        ("inputDataConfig.s3InputDataConfig.s3Uri", input),
        ("outputDataConfig.s3OutputDataConfig.s3Uri", output),
    ] {
        if !s3_uri_ok(uri) {
            return Err(constraint(
                member,
                uri,
                "Member must satisfy regular expression pattern: s3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?",
            ));
        }
    }
    if let Some(f) = body.pointer("/inputDataConfig/s3InputDataConfig/s3InputFormat")
        && f != "JSONL"
    {
        return Err(constraint(
            "inputDataConfig.s3InputDataConfig.s3InputFormat",
            &f.to_string(),
            "Member must satisfy enum value set: [JSONL]",
        ));
    }
    let token = body.get("clientRequestToken").and_then(Value::as_str);
    if let Some(t) = token
        && !token_ok(t)
    {
        return Err(constraint(
            "clientRequestToken",
            t,
            "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9])*",
        ));
    }
    let timeout = body.get("timeoutDurationInHours").and_then(Value::as_i64);
    if let Some(h) = timeout {
        if h < 24 {
            return Err(constraint(
                "timeoutDurationInHours",
                &h.to_string(),
                "Member must have value greater than or equal to 24",
            ));
        }
        if h > 168 {
            return Err(constraint(
                "timeoutDurationInHours",
                &h.to_string(),
                "Member must have value less than or equal to 168",
            ));
        }
    }
    let invocation = body
        .get("modelInvocationType")
        .and_then(Value::as_str)
        .unwrap_or("InvokeModel");
    if !["InvokeModel", "Converse"].contains(&invocation) {
        return Err(constraint(
            "modelInvocationType",
            invocation,
            "Member must satisfy enum value set: [InvokeModel, Converse]",
        ));
    }
    if is_prompt_router(model) {
        return Err(validation(
            "Batch inference is not supported for prompt routers. Specify a foundation model or an inference profile.",
        ));
    }
    if !is_known_model(model, &[]) {
        return Err(validation("The provided model identifier is invalid."));
    }
    let mut st = lock(state);
    if let Some(t) = token
        && let Some(j) = st
            .jobs
            .iter()
            .find(|j| j.client_request_token.as_deref() == Some(t))
    {
        // The same token is the same request: the job already created answers.
        return Ok(json!({"jobArn": j.arn}));
    }
    if st.jobs.iter().any(|j| j.name == name) {
        return Err((
            400,
            "ConflictException",
            format!("A job with the name {name} already exists."),
        ));
    }
    let arn = format!(
        "arn:aws:bedrock:us-east-1:{FAKE_ACCOUNT}:model-invocation-job/fakejob{:05}",
        st.jobs.len() + 1
    );
    st.jobs.push(FakeJob {
        arn: arn.clone(),
        name: name.to_string(),
        model_id: model.to_string(),
        role_arn: role.to_string(),
        input_uri: input.to_string(),
        output_uri: output.to_string(),
        client_request_token: token.map(str::to_string),
        timeout_hours: timeout,
        invocation_type: invocation.to_string(),
        status: "Submitted".into(),
        message: None,
        submit_time: now(),
        end_time: None,
        total: None,
        processed: None,
        success: None,
        errors: None,
    });
    Ok(json!({"jobArn": arn}))
}

fn find<'a>(st: &'a mut State, id: &str) -> Result<&'a mut FakeJob, Rejection> {
    st.jobs
        .iter_mut()
        .find(|j| j.arn == id || j.id() == id || j.name == id)
        .ok_or_else(|| {
            (
                404,
                "ResourceNotFoundException",
                format!("The job {id} was not found."),
            )
        })
}

fn list(state: &Arc<Mutex<State>>, query: &str) -> Result<Value, Rejection> {
    let status = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("statusEquals="))
        .map(percent_decode);
    let st = lock(state);
    let mut jobs: Vec<Value> = st
        .jobs
        .iter()
        .rev()
        .filter(|j| status.as_deref().is_none_or(|s| j.status == s))
        .map(FakeJob::summary)
        .collect();
    if query.contains("sortOrder=Ascending") {
        jobs.reverse();
    }
    Ok(json!({"invocationJobSummaries": jobs}))
}

fn stop(state: &Arc<Mutex<State>>, id: &str) -> Result<Value, Rejection> {
    let mut st = lock(state);
    let job = find(&mut st, id)?;
    if crate::bedrock::batch::job::is_final_status(&job.status) || job.status == "Stopping" {
        return Err(validation(format!(
            "The job cannot be stopped: its status is {}.",
            job.status
        )));
    }
    job.status = "Stopping".into();
    Ok(json!({}))
}

/// What the next state change needs done outside the lock.
enum Step {
    Nothing,
    Validate(FakeJob, usize),
    Run(FakeJob, RunScript),
}

#[derive(Clone)]
struct RunScript {
    error_every: Option<usize>,
    responder: Arc<Responder>,
    seed: u64,
}

async fn get(
    state: &Arc<Mutex<State>>,
    s3: &aws_sdk_s3::Client,
    id: &str,
) -> Result<Value, Rejection> {
    let step = {
        let mut st = lock(state);
        let min = st.min_records;
        let script = RunScript {
            error_every: st.error_every,
            responder: st.responder.clone(),
            seed: st.shuffle_seed,
        };
        let job = find(&mut st, id)?;
        match job.status.as_str() {
            "Submitted" => {
                job.status = "Validating".into();
                Step::Nothing
            }
            "Validating" => Step::Validate(job.clone(), min),
            "Scheduled" => {
                job.status = "InProgress".into();
                Step::Nothing
            }
            "InProgress" => Step::Run(job.clone(), script),
            "Stopping" => {
                job.status = "Stopped".into();
                job.end_time = Some(now());
                Step::Nothing
            }
            _ => Step::Nothing,
        }
    };
    match step {
        Step::Nothing => {}
        Step::Validate(job, min) => {
            let verdict = match read_input(s3, &job.input_uri).await {
                Ok(lines) if lines.len() < min => Err(format!(
                    "The number of records in the input ({}) is less than the minimum of {min} records per batch inference job for model {}.",
                    lines.len(),
                    job.model_id
                )),
                Ok(lines) => Ok(lines.len()),
                Err(e) => Err(e),
            };
            let mut st = lock(state);
            let j = find(&mut st, id)?;
            match verdict {
                Ok(n) => {
                    j.status = "Scheduled".into();
                    j.total = Some(n as u64);
                }
                Err(message) => {
                    j.status = "Failed".into();
                    j.message = Some(message);
                    j.end_time = Some(now());
                }
            }
        }
        Step::Run(job, script) => {
            let outcome = run_job(s3, &job, &script).await;
            let mut st = lock(state);
            let j = find(&mut st, id)?;
            j.end_time = Some(now());
            match outcome {
                Ok((success, errors)) => {
                    j.processed = Some(success + errors);
                    j.success = Some(success);
                    j.errors = Some(errors);
                    j.status = if errors == 0 {
                        "Completed".into()
                    } else {
                        "PartiallyCompleted".into()
                    };
                }
                Err(message) => {
                    j.status = "Failed".into();
                    j.message = Some(message);
                }
            }
        }
    }
    let mut st = lock(state);
    Ok(find(&mut st, id)?.summary())
}

/// The lines of the input: one `.jsonl` object, or every `.jsonl` object under a prefix.
async fn read_input(s3: &aws_sdk_s3::Client, uri: &str) -> Result<Vec<(String, String)>, String> {
    let u = S3Uri::parse(uri).map_err(|e| e.to_string())?;
    let files = if u.key.ends_with(".jsonl") {
        vec![u]
    } else {
        crate::bedrock::batch::storage::list(s3, &u)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|f| f.key.ends_with(".jsonl"))
            .collect()
    };
    if files.is_empty() {
        return Err(format!("No .jsonl input file was found at {uri}."));
    }
    let mut lines = Vec::new();
    for f in files {
        let bytes = crate::bedrock::batch::storage::get(s3, &f)
            .await
            .map_err(|e| format!("Unable to read the input file {f}: {e}"))?;
        let name = f.key.rsplit('/').next().unwrap_or_default().to_string();
        let text = String::from_utf8(bytes).map_err(|_| format!("{f} is not UTF-8 text"))?;
        lines.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| (name.clone(), l.to_string())),
        );
    }
    Ok(lines)
}

/// The per-record errors the fake injects, in turn (codes and messages of the service).
const RECORD_ERRORS: [(u16, &str); 3] = [
    (500, "Internal server error. Please try again."),
    (429, "Too many tokens, please wait before trying again."),
    (424, "The model failed to process the input."),
];

fn record_error(code: u16, message: &str) -> Value {
    json!({"errorCode": code, "errorMessage": message})
}

/// Answer every record, write the shuffled output and the manifest; (successes, errors).
async fn run_job(
    s3: &aws_sdk_s3::Client,
    job: &FakeJob,
    script: &RunScript,
) -> Result<(u64, u64), String> {
    let lines = read_input(s3, &job.input_uri).await?;
    let mut outputs: Vec<(String, Value)> = Vec::new();
    let (mut ok, mut failed, mut input_tokens, mut output_tokens) = (0u64, 0u64, 0u64, 0u64);
    let mut injected = 0usize;
    for (i, (file, line)) in lines.iter().enumerate() {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        let (record_id, model_input, result) = match parsed {
            Ok(v) => {
                let id = v
                    .get("recordId")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{:011}", i + 1), str::to_string);
                let input = v.get("modelInput").cloned().unwrap_or(Value::Null);
                let result = answer(job, script, i, &id, &input, &mut injected);
                (id, input, result)
            }
            Err(e) => (
                format!("{:011}", i + 1),
                Value::Null,
                Err((400, format!("Malformed JSON line: {e}"))),
            ),
        };
        let mut out = json!({"recordId": record_id, "modelInput": model_input});
        match result {
            Ok(reply) => {
                ok += 1;
                input_tokens += reply.input_tokens;
                output_tokens += reply.output_tokens;
                out["modelOutput"] = reply.converse_body();
            }
            Err((code, message)) => {
                failed += 1;
                out["error"] = record_error(code, &message);
            }
        }
        outputs.push((file.clone(), out));
    }
    shuffle(&mut outputs, script.seed);
    let output = S3Uri::parse(&job.output_uri).map_err(|e| e.to_string())?;
    let folder = output.join(job.id());
    let mut files: Vec<String> = outputs.iter().map(|(f, _)| f.clone()).collect();
    files.sort();
    files.dedup();
    for f in files {
        let mut text = String::new();
        for (_, v) in outputs.iter().filter(|(g, _)| *g == f) {
            text.push_str(&v.to_string());
            text.push('\n');
        }
        crate::bedrock::batch::storage::put(
            s3,
            &folder.join(&format!("{f}.out")),
            text.into_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    let manifest = json!({
        "totalRecordCount": ok + failed,
        "processedRecordCount": ok + failed,
        "successRecordCount": ok,
        "errorRecordCount": failed,
        "inputTokenCount": input_tokens,
        "outputTokenCount": output_tokens,
    });
    crate::bedrock::batch::storage::put(
        s3,
        &folder.join("manifest.json.out"),
        manifest.to_string().into_bytes(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok((ok, failed))
}

/// One record's answer: the service's checks of the input, the injected error, or the script.
fn answer(
    job: &FakeJob,
    script: &RunScript,
    index: usize,
    record_id: &str,
    input: &Value,
    injected: &mut usize,
) -> Result<ModelReply, (u16, String)> {
    if !input.is_object() {
        return Err((400, "modelInput must be a JSON object".into()));
    }
    if input.get("modelId").is_some() {
        return Err((400, "Malformed input request: extraneous key [modelId] is not permitted (Extra inputs are not permitted)".into()));
    }
    if job.invocation_type == "Converse" {
        validate(&job.model_id, Operation::Converse, input, &[])
            .map_err(|(code, _, m)| (code, m))?;
    }
    if let Some(n) = script.error_every
        && (index + 1).is_multiple_of(n)
    {
        let (code, message) = RECORD_ERRORS[*injected % RECORD_ERRORS.len()];
        *injected += 1;
        return Err((code, message.into()));
    }
    (script.responder)(record_id, input)
}

/// Fisher–Yates with a small LCG: a fixed order that is not the input order.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for i in (1..v.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = ((x >> 33) as usize) % (i + 1);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_of_the_service_model() {
        assert!(job_name_ok("cycling-ai-20261203-0758"));
        assert!(!job_name_ok("-starts-with-hyphen"));
        assert!(!job_name_ok("has space"));
        assert!(!job_name_ok(&"a".repeat(64)));
        assert!(role_arn_ok("arn:aws:iam::123456789012:role/BedrockBatch"));
        assert!(role_arn_ok("arn:aws-us-gov:iam::123456789012:role/x"));
        assert!(!role_arn_ok("arn:aws:iam::1234:role/x"));
        assert!(!role_arn_ok("arn:aws:iam::123456789012:user/x"));
        assert!(token_ok("a1-b2") && !token_ok("-a") && !token_ok("a_b"));
        assert!(
            s3_uri_ok("s3://bkt/in/x.jsonl") && !s3_uri_ok("s3://B/x") && !s3_uri_ok("https://bkt")
        );
    }

    #[test]
    fn the_shuffle_moves_things_and_keeps_them_all() {
        let mut v: Vec<u32> = (0..50).collect();
        shuffle(&mut v, 7);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }
}
