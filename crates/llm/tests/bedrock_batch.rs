//! Bedrock batch inference through the real SDK clients: `aws-sdk-bedrock` against the fake
//! control plane (`testing::fake_bedrock_batch`) and `aws-sdk-s3` against moto (an independent
//! S3 implementation, started per test; skipped with a message when no Python peer is
//! installed, unless CYCLING_AI_REQUIRE_PYTHON=1).

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_sdk_bedrockruntime::config::{Credentials, Region};
use llm::bedrock::BedrockProvider;
use llm::bedrock::batch::{
    BatchAnswers, BatchClients, BodyWriter, Endpoints, JobSpec, Outcome, Prefilled, Record, S3Uri,
    Use, download_output, job, records, storage,
};
use llm::testing::fake_bedrock::{TEST_ACCESS_KEY, TEST_SECRET_KEY};
use llm::testing::{FakeBatch, FakeBedrock, ModelReply, Moto, Reply};
use llm::{Catalog, Message, Meter, Provider, Request, StructuredOutput};
use serde_json::{Value, json};

const MODEL: &str = "amazon.nova-pro-v1:0";
const BUCKET: &str = "cycling-ai-batch-test";
const ROLE: &str = "arn:aws:iam::123456789012:role/BedrockBatchRole";

async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            TEST_ACCESS_KEY,
            TEST_SECRET_KEY,
            None,
            None,
            "batch-test",
        ))
        .load()
        .await
}

fn catalog() -> Arc<Catalog> {
    Arc::new(Catalog::builtin())
}

/// The request of record `i`: a structured answer, as phase 2 asks for it.
fn request(i: usize) -> Request {
    let mut r = Request::new(
        MODEL,
        vec![Message::user(format!(
            "athlete number {i}: write the analysis"
        ))],
        500,
    );
    r.system = Some("You are a coach.".into());
    r.structured_output = Some(StructuredOutput {
        name: "answer".into(),
        description: Some("The answer.".into()),
        schema: json!({"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}),
    });
    r
}

fn spec(input: &S3Uri, output: &S3Uri, name: &str, token: &str) -> JobSpec {
    JobSpec {
        job_name: name.into(),
        role_arn: ROLE.into(),
        model_id: MODEL.into(),
        input: input.clone(),
        output: output.clone(),
        timeout_hours: Some(24),
        client_request_token: token.into(),
    }
}

struct World {
    _moto: Moto,
    fake: FakeBatch,
    clients: BatchClients,
    provider: BedrockProvider,
}

async fn world(test: &str) -> Option<World> {
    let moto = Moto::start(test)?;
    moto.create_bucket(BUCKET).await;
    let fake = FakeBatch::start(moto.s3_client()).await;
    let sdk = sdk_config().await;
    let clients = BatchClients::from_sdk_config(
        &sdk,
        &Endpoints {
            bedrock: Some(fake.endpoint()),
            s3: Some(moto.endpoint()),
        },
    )
    .unwrap();
    let provider = BedrockProvider::from_sdk_config(&sdk, Default::default(), catalog()).unwrap();
    Some(World {
        _moto: moto,
        fake,
        clients,
        provider,
    })
}

async fn upload(w: &World, n: usize, key: &str) -> (S3Uri, Vec<Record>) {
    let writer = BodyWriter::new();
    let mut recs = Vec::new();
    for i in 0..n {
        let (_, body) = writer.body(&w.provider, &request(i)).await.unwrap();
        recs.push(Record {
            record_id: format!("athlete-{i:02}.analysis"),
            model_input: body,
        });
    }
    let input = S3Uri::parse(&format!("s3://{BUCKET}/{key}/input/records.jsonl")).unwrap();
    storage::put(&w.clients.s3, &input, records::jsonl(&recs).into_bytes())
        .await
        .unwrap();
    (input, recs)
}

/// Poll until the job ends; the states it went through.
async fn run_to_end(w: &World, arn: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..20 {
        let info = job::get(&w.clients.control, arn).await.unwrap();
        seen.push(info.status.clone());
        if info.is_finished() {
            return seen;
        }
    }
    panic!("the job did not finish: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_through_its_states_and_its_shuffled_output_joins_on_record_id() {
    let Some(w) = world("a_job_runs_through_its_states").await else {
        return;
    };
    w.fake.set_min_records(10);
    w.fake.fail_every(4);
    w.fake.answer_with(|id, input| {
        // The model echoes which record it answered, from the record's own input.
        let text = input["messages"][0]["content"][0]["text"]
            .as_str()
            .unwrap_or("");
        let args = json!({"id": format!("{id}|{text}")}).to_string();
        Ok(ModelReply::tool_calls(&[("tu1", "answer", &args)]).with_usage(1_000, 200, None, None))
    });
    let (input, recs) = upload(&w, 12, "run1").await;
    let output = S3Uri::parse(&format!("s3://{BUCKET}/run1/output/")).unwrap();
    let arn = job::create(
        &w.clients.control,
        &spec(&input, &output, "cycling-ai-run1", "tok1"),
    )
    .await
    .unwrap();
    // The same token is the same request: no second job.
    let again = job::create(
        &w.clients.control,
        &spec(&input, &output, "cycling-ai-run1", "tok1"),
    )
    .await
    .unwrap();
    assert_eq!(arn, again);
    assert_eq!(w.fake.jobs().len(), 1);
    assert_eq!(
        run_to_end(&w, &arn).await,
        [
            "Validating",
            "Scheduled",
            "InProgress",
            "PartiallyCompleted"
        ]
    );
    let info = job::get(&w.clients.control, &arn).await.unwrap();
    assert_eq!(
        (info.total_records, info.success_records, info.error_records),
        (Some(12), Some(9), Some(3))
    );
    assert!(info.submit_time.is_some() && info.end_time.is_some());

    let out = download_output(&w.clients.s3, &output, job::job_id(&arn))
        .await
        .unwrap();
    assert_eq!(out.records.len(), 12);
    let m = out.manifest.clone().unwrap();
    assert_eq!(
        (
            m.total_record_count,
            m.success_record_count,
            m.error_record_count
        ),
        (12, 9, 3)
    );
    assert_eq!((m.input_token_count, m.output_token_count), (9_000, 1_800));
    // Written in another order than submitted.
    let raw = storage::get(
        &w.clients.s3,
        &output.join(&format!("{}/records.jsonl.out", job::job_id(&arn))),
    )
    .await
    .unwrap();
    let order: Vec<String> = String::from_utf8(raw)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["recordId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let submitted: Vec<String> = recs.iter().map(|r| r.record_id.clone()).collect();
    assert_ne!(order, submitted);
    // The injected errors are records 4, 8 and 12, with the service's codes.
    let failed: Vec<&str> = out
        .records
        .values()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .map(|r| r.record_id.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "athlete-03.analysis",
            "athlete-07.analysis",
            "athlete-11.analysis"
        ]
    );

    // The answers stand in for the same requests: structured text as on demand, batch priced.
    let runtime = FakeBedrock::start().await;
    runtime.push(Reply::Model(ModelReply::text("{\"id\": \"on demand\"}")));
    let on_demand: Arc<dyn Provider> = Arc::new(runtime.provider(Default::default()).await);
    let prefilled: Vec<Prefilled> = out
        .records
        .values()
        .map(|r| Prefilled {
            record_id: r.record_id.clone(),
            model_input: r.model_input.clone(),
            outcome: r.outcome.clone(),
        })
        .collect();
    let answers = BatchAnswers::new(on_demand, w.provider.clone(), MODEL, prefilled);
    let cat = catalog();
    let mut meter = Meter::new(&answers, &cat, None);
    let r5 = meter.complete(&request(5)).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&r5.text).unwrap()["id"],
        "athlete-05.analysis|athlete number 5: write the analysis"
    );
    let batch_cost = cat.batch_cost("bedrock", MODEL, &r5.usage).usd().unwrap();
    assert!((meter.stats.cost_usd().unwrap() - batch_cost).abs() < 1e-12);
    assert!(batch_cost > 0.0);
    let err = meter.complete(&request(3)).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("athlete-03.analysis failed in the job"),
        "{err}"
    );
    // A request no record carries goes on demand.
    let other = meter.complete(&request(99)).await.unwrap();
    assert_eq!(other.text, "{\"id\": \"on demand\"}");
    assert_eq!(runtime.requests().len(), 1);
    // Each record answers once: the same request again is on demand.
    runtime.push(Reply::Model(ModelReply::text("{\"id\": \"again\"}")));
    assert_eq!(
        meter.complete(&request(5)).await.unwrap().text,
        "{\"id\": \"again\"}"
    );
    assert_eq!(runtime.requests().len(), 2);
    assert_eq!(
        answers.uses(),
        [
            Use::Answered {
                record_id: "athlete-05.analysis".into()
            },
            Use::Failed {
                record_id: "athlete-03.analysis".into(),
                error: "500: Internal server error. Please try again.".into()
            }
        ]
    );
    assert_eq!(answers.unused().len(), 10);

    let listed = job::list(&w.clients.control).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "PartiallyCompleted");
    let stop = job::stop(&w.clients.control, &arn).await.unwrap_err();
    assert!(stop.to_string().contains("cannot be stopped"), "{stop}");

    // A damaged output — a line cut short, a record repeated — costs only those lines: they are
    // named by file and line, and every other record still joins.
    let key = output.join(&format!("{}/records.jsonl.out", job::job_id(&arn)));
    let text = String::from_utf8(storage::get(&w.clients.s3, &key).await.unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Cut mid-line, at a character boundary (the text may hold non-ASCII).
    let half = (0..=lines[0].len() / 2)
        .rev()
        .find(|&i| lines[0].is_char_boundary(i))
        .unwrap();
    let cut = &lines[0][..half];
    let cut_id = serde_json::from_str::<Value>(lines[0]).unwrap()["recordId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut damaged = vec![cut];
    damaged.extend(&lines[1..]);
    damaged.push(lines[1]);
    storage::put(&w.clients.s3, &key, damaged.join("\n").into_bytes())
        .await
        .unwrap();
    let out = download_output(&w.clients.s3, &output, job::job_id(&arn))
        .await
        .unwrap();
    assert_eq!(out.records.len(), 11);
    assert!(!out.records.contains_key(&cut_id));
    assert_eq!(out.problems.len(), 2, "{:?}", out.problems);
    assert!(
        out.problems[0].contains("records.jsonl.out line 1: not JSON"),
        "{:?}",
        out.problems
    );
    assert!(
        out.problems[1].contains("appears twice"),
        "{:?}",
        out.problems
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_records_fail_the_job_and_a_running_job_can_be_stopped() {
    let Some(w) = world("too_few_records_fail_the_job").await else {
        return;
    };
    let (input, _) = upload(&w, 3, "small").await;
    let output = S3Uri::parse(&format!("s3://{BUCKET}/small/output")).unwrap();
    let arn = job::create(
        &w.clients.control,
        &spec(&input, &output, "small-job", "tok2"),
    )
    .await
    .unwrap();
    assert_eq!(run_to_end(&w, &arn).await, ["Validating", "Failed"]);
    let info = job::get(&w.clients.control, &arn).await.unwrap();
    let message = info.message.unwrap();
    assert!(
        message.contains("(3)") && message.contains("minimum of 100"),
        "{message}"
    );
    assert!(
        download_output(&w.clients.s3, &output, job::job_id(&arn))
            .await
            .is_err()
    );

    let arn = job::create(
        &w.clients.control,
        &spec(&input, &output, "stopped-job", "tok3"),
    )
    .await
    .unwrap();
    job::stop(&w.clients.control, &arn).await.unwrap();
    assert_eq!(run_to_end(&w, &arn).await, ["Stopped"]);
    // A missing input file fails the job at validation.
    let missing = S3Uri::parse(&format!("s3://{BUCKET}/nothing/here.jsonl")).unwrap();
    let arn = job::create(
        &w.clients.control,
        &spec(&missing, &output, "missing-job", "tok4"),
    )
    .await
    .unwrap();
    assert_eq!(run_to_end(&w, &arn).await, ["Validating", "Failed"]);
    let message = job::get(&w.clients.control, &arn)
        .await
        .unwrap()
        .message
        .unwrap();
    assert!(message.contains("here.jsonl"), "{message}");
}

/// The service model, enforced by the fake: requests the SDK sends as built (bypassing our own
/// local checks) are refused with the service's messages. No S3 needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_control_plane_enforces_the_service_model() {
    let unused_s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(Credentials::new("a", "b", None, None, "t"))
            .build(),
    );
    let fake = FakeBatch::start(unused_s3).await;
    let sdk = sdk_config().await;
    let clients = BatchClients::from_sdk_config(
        &sdk,
        &Endpoints {
            bedrock: Some(fake.endpoint()),
            s3: None,
        },
    )
    .unwrap();
    let c = &clients.control;
    use aws_sdk_bedrock::types as t;
    let input = t::ModelInvocationJobInputDataConfig::S3InputDataConfig(
        t::ModelInvocationJobS3InputDataConfig::builder()
            .s3_uri("s3://bkt/in/records.jsonl")
            .build()
            .unwrap(),
    );
    let output = t::ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
        t::ModelInvocationJobS3OutputDataConfig::builder()
            .s3_uri("s3://bkt/out/")
            .build()
            .unwrap(),
    );
    let base = || {
        c.create_model_invocation_job()
            .job_name("good-name")
            .role_arn(ROLE)
            .model_id(MODEL)
            .input_data_config(input.clone())
            .output_data_config(output.clone())
    };
    let refused = |e: aws_sdk_bedrock::error::SdkError<_>| -> String {
        use aws_sdk_bedrock::error::ProvideErrorMetadata;
        let e: aws_sdk_bedrock::operation::create_model_invocation_job::CreateModelInvocationJobError =
            e.into_service_error();
        format!(
            "{}: {}",
            e.code().unwrap_or("?"),
            e.message().unwrap_or("?")
        )
    };
    let cases = [
        (
            base().timeout_duration_in_hours(12),
            "greater than or equal to 24",
        ),
        (
            base().timeout_duration_in_hours(169),
            "less than or equal to 168",
        ),
        (base().job_name("-bad name"), "at 'jobName'"),
        (base().role_arn("arn:aws:iam::123:user/me"), "at 'roleArn'"),
        (
            base().model_id(
                "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1",
            ),
            "not supported for prompt routers",
        ),
        (
            base().model_id("no.such-model-v9"),
            "model identifier is invalid",
        ),
        (
            base().client_request_token("bad_token"),
            "at 'clientRequestToken'",
        ),
        (
            base().output_data_config(t::ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
                t::ModelInvocationJobS3OutputDataConfig::builder()
                    .s3_uri("https://bkt/out")
                    .build()
                    .unwrap(),
            )),
            "outputDataConfig.s3OutputDataConfig.s3Uri",
        ),
        (
            c.create_model_invocation_job()
                .job_name("no-role")
                .model_id(MODEL)
                .input_data_config(input.clone())
                .output_data_config(output.clone()),
            "Value null at 'roleArn'",
        ),
    ];
    for (request, expected) in cases {
        let message = refused(request.send().await.unwrap_err());
        assert!(message.starts_with("ValidationException: "), "{message}");
        assert!(message.contains(expected), "{expected}: {message}");
    }
    assert_eq!(fake.rejections().len(), 9);
    assert!(fake.jobs().is_empty());
    // A good one passes, and the name is then taken.
    base().client_request_token("t-1").send().await.unwrap();
    let dup = refused(base().client_request_token("t-2").send().await.unwrap_err());
    assert!(dup.starts_with("ConflictException"), "{dup}");
    // The control plane signs as `bedrock` and the fake checks it: every call was signed so.
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.starts_with("POST /model-invocation-job"))
    );
    let missing = job::get(
        c,
        "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/nope00000000",
    )
    .await
    .unwrap_err();
    assert!(
        missing.to_string().contains("ResourceNotFoundException"),
        "{missing}"
    );
}
