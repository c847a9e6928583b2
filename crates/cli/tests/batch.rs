//! `cycling-ai batch` end to end, without AWS: a roster of 120 demo athletes (`demo --athletes`:
//! each a different rider with a small season of 1 Hz FIT rides) imported with
//! `import --roster`, the binary submitting their requests as one job to the fake Bedrock control plane
//! (`AWS_ENDPOINT_URL_BEDROCK`), the job's files on moto (`AWS_ENDPOINT_URL_S3`), the fake
//! answering every record and failing some, `batch collect` finishing 120 reports, and
//! `batch retry-failed` asking the Bedrock runtime fake (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`) on
//! demand for what failed. Skipped with a message without a Python peer (moto), unless
//! CYCLING_AI_REQUIRE_PYTHON=1.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use common::{isolated, json_of, ok_json, run_blocking};
use llm::testing::{FakeBatch, FakeBedrock, ModelReply, Moto, Reply};
use serde_json::Value;

const ATHLETES: usize = 120;
const PLAN_WEEKS: u32 = 4;
const BUCKET: &str = "coach-batch";
const ROLE: &str = "arn:aws:iam::123456789012:role/BedrockBatchRole";
/// An on-demand model with batch prices in the catalog.
const MODEL: &str = "nova-pro";
/// Every 37th record fails in the job (6 of 240).
const FAIL_EVERY: usize = 37;
/// This athlete's batch analysis does not validate: collect repairs it on demand.
const REPAIRED: usize = 5;

/// Small seasons: a few rides (runs and strength sessions come on top) over four weeks.
const RIDES: &str = "3";
/// Every plan starts on this Monday, two days after the demo seasons end.
const PLAN_START: jiff::civil::Date = jiff::civil::date(2026, 11, 2);

/// The `i`-th athlete (from 0) of the demo roster.
fn name(i: usize) -> String {
    format!("rider-{:03}", i + 1)
}

/// The name in the profile of the roster athlete `athlete` (`rider-019` → `Demo Rider 019`):
/// the analysis request made for that athlete carries it (the plan request carries only the
/// athlete's numbers).
fn profile_name(athlete: &str) -> String {
    format!("Demo Rider {}", athlete.trim_start_matches("rider-"))
}

/// 120 demo athletes as a coach would make them: `demo --athletes 120` writes every rider's
/// season and profile and a roster file, `import --roster` imports them all.
fn roster(tmp: &Path) {
    let out = tmp.join("demo-roster");
    let mut demo = isolated(tmp);
    demo.args(["--json", "demo", "--athletes", &ATHLETES.to_string()])
        .args(["--rides", RIDES, "--weeks", "4", "--no-import", "--out"])
        .arg(&out);
    let written = ok_json(&demo.output().unwrap());
    assert_eq!(written["athletes"], ATHLETES);
    let mut import = isolated(tmp);
    import
        .args(["--json", "import", "--roster"])
        .arg(out.join("roster.toml"));
    let imported = ok_json(&import.output().unwrap());
    let imported = imported.as_array().unwrap();
    assert_eq!(imported.len(), ATHLETES);
    for a in imported {
        assert!(a["import"]["imported"].as_u64().unwrap() >= 3, "{a}");
        assert_eq!(a["import"]["failed"], Value::Array(Vec::new()), "{a}");
    }
}

fn batch_cmd(tmp: &Path, runtime: &FakeBedrock, control: &FakeBatch, moto: &Moto) -> Command {
    let mut cmd = isolated(tmp);
    cmd.envs(common::bedrock_fake_env(&runtime.endpoint()))
        .env("AWS_ENDPOINT_URL_BEDROCK", control.endpoint())
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint())
        .arg("--json")
        .arg("batch");
    cmd
}

fn tool_reply(name: &str, args: &str) -> ModelReply {
    ModelReply::tool_calls(&[("tooluse_batch", name, args)]).with_usage(1_800, 450, None, None)
}

/// The model's answer to one record: a valid narrative or overview, by the record's part (the
/// analysis of athlete [`REPAIRED`] breaks the contract: two insights only).
fn answer(record_id: &str) -> Result<ModelReply, (u16, String)> {
    let (athlete, part) = record_id.rsplit_once('.').unwrap();
    match part {
        "analysis" => {
            let mut n: Value =
                serde_json::from_str(&common::narrative_json(&format!("BATCH {athlete}"))).unwrap();
            if athlete == name(REPAIRED) {
                n["insights"].as_array_mut().unwrap().truncate(2);
            }
            Ok(tool_reply(agent::analysis_llm::OUTPUT_NAME, &n.to_string()))
        }
        "plan" => Ok(tool_reply(
            agent::plan_llm::TOOL_NAME,
            &plan_overview(&format!("BATCH {athlete}")).to_string(),
        )),
        other => Err((400, format!("unexpected part {other}"))),
    }
}

/// A valid plan overview for every demo rider (they share the calendar and the event).
fn plan_overview(marker: &str) -> Value {
    common::overview_for(
        marker,
        common::demo_plan_constraints(PLAN_WEEKS, PLAN_START),
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roster_of_120_goes_through_one_batch_job_and_failed_records_are_retried_on_demand() {
    let started = Instant::now();
    let Some(moto) = Moto::start("batch end to end") else {
        return;
    };
    moto.create_bucket(BUCKET).await;
    let control = FakeBatch::start(moto.s3_client()).await;
    control.fail_every(FAIL_EVERY);
    control.answer_with(|id, _| answer(id));
    let runtime = FakeBedrock::start().await;
    let tmp = tempfile::tempdir().unwrap();
    roster(tmp.path());
    let setup_s = started.elapsed().as_secs_f64();
    let s3 = format!("s3://{BUCKET}/runs");
    let submit_for = |who: &[&str], extra: &[&str]| {
        let mut cmd = batch_cmd(tmp.path(), &runtime, &control, &moto);
        cmd.arg("submit")
            .args(who)
            .args([
                "--s3-uri",
                &s3,
                "--role-arn",
                ROLE,
                "--model",
                MODEL,
                "--training-plan-weeks",
                &PLAN_WEEKS.to_string(),
                "--plan-start",
                &PLAN_START.to_string(),
                "--output-dir",
                "reports",
            ])
            .args(extra);
        cmd
    };
    let submit_args = |extra: &[&str]| submit_for(&["--all"], extra);

    // Below the model's minimum the job is refused with the numbers, and nothing is created.
    let refused = run_blocking(submit_args(&["--min-records", "500"])).await;
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("240 requests from 120 athletes are below the minimum of 500")
            && err.contains("on demand"),
        "{err}"
    );
    assert!(control.jobs().is_empty());
    // A subset: only the athletes named (a name twice counts once); an unknown one is named.
    let some = run_blocking(submit_for(
        &["--athletes", "rider-002,rider-117,rider-002"],
        &["--min-records", "500"],
    ))
    .await;
    let err = stderr(&some);
    assert!(
        err.contains("4 requests from 2 athletes are below the minimum of 500"),
        "{err}"
    );
    let ghost = run_blocking(submit_for(&["--athletes", "rider-002,ghost"], &[])).await;
    assert!(!ghost.status.success());
    assert!(stderr(&ghost).contains("ghost"), "{}", stderr(&ghost));
    let neither = run_blocking(submit_for(&[], &[])).await;
    assert!(!neither.status.success());
    assert!(stderr(&neither).contains("--all"), "{}", stderr(&neither));
    assert!(control.jobs().is_empty());

    let t = Instant::now();
    let submitted = ok_json(&run_blocking(submit_args(&["--timeout-hours", "48"])).await);
    let submit_s = t.elapsed().as_secs_f64();
    assert_eq!(submitted["records"], 240);
    assert_eq!(submitted["athletes"], 120);
    assert_eq!(submitted["model_id"], "amazon.nova-pro-v1:0");
    assert_eq!(submitted["on_demand"], Value::Array(Vec::new()));
    let jobs = control.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].invocation_type, "Converse");
    assert_eq!(jobs[0].timeout_hours, Some(48));
    assert_eq!(jobs[0].role_arn, ROLE);
    assert!(
        jobs[0].input_uri.ends_with("/input/records.jsonl"),
        "{}",
        jobs[0].input_uri
    );
    assert_eq!(control.rejections(), Vec::<(String, String)>::new());
    // The input holds one Converse body per record, a forced tool each, no model id.
    let input = llm::bedrock::batch::S3Uri::parse(&jobs[0].input_uri).unwrap();
    let text = String::from_utf8(
        llm::bedrock::batch::storage::get(&moto.s3_client(), &input)
            .await
            .unwrap(),
    )
    .unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 240);
    assert_eq!(lines[0]["recordId"], "rider-001.analysis");
    assert_eq!(lines[1]["recordId"], "rider-001.plan");
    for l in &lines {
        let body = &l["modelInput"];
        let (athlete, part) = l["recordId"].as_str().unwrap().rsplit_once('.').unwrap();
        if part == "analysis" {
            assert!(
                body.to_string().contains(&profile_name(athlete)),
                "{athlete}"
            );
        }
        assert!(body.get("modelId").is_none());
        assert!(
            body["toolConfig"]["toolChoice"]["tool"]["name"].is_string(),
            "{body}"
        );
        assert!(!body.to_string().contains("cachePoint"));
    }

    // The job moves on each look; status says where it is.
    let mut states = Vec::new();
    for _ in 0..4 {
        let mut cmd = batch_cmd(tmp.path(), &runtime, &control, &moto);
        cmd.args(["status", "1"]);
        let s = ok_json(&run_blocking(cmd).await);
        states.push(s["status"].as_str().unwrap().to_string());
    }
    assert_eq!(
        states,
        [
            "Validating",
            "Scheduled",
            "InProgress",
            "PartiallyCompleted"
        ]
    );
    let mut list = batch_cmd(tmp.path(), &runtime, &control, &moto);
    list.arg("list");
    let listed = ok_json(&run_blocking(list).await);
    assert_eq!(
        listed[0]["error_records"],
        Value::Null,
        "a finished job is not asked again"
    );
    assert_eq!(listed[0]["status"], "PartiallyCompleted");

    // Collect: the repair of the broken analysis goes on demand, to the runtime fake.
    runtime.push_for(
        agent::analysis_llm::REQUEST_MARK,
        Reply::Model(
            ModelReply::text(&common::narrative_json("REPAIRED ON DEMAND"))
                .with_usage(2_500, 400, None, None),
        ),
    );
    let t = Instant::now();
    let mut collect = batch_cmd(tmp.path(), &runtime, &control, &moto);
    collect.args(["collect", "1", "--concurrency", "4"]);
    let out = run_blocking(collect).await;
    let collect_s = t.elapsed().as_secs_f64();
    let c = ok_json(&out);
    let reports = c["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 120);
    for r in reports {
        let path = r["report"].as_str().unwrap_or_else(|| panic!("{r}"));
        assert!(Path::new(path).is_file(), "{path}");
    }
    let failed = c["failed"].as_array().unwrap();
    let failed_ids: Vec<&str> = failed
        .iter()
        .map(|f| f["record_id"].as_str().unwrap())
        .collect();
    // Records 37, 74, … of the input, whatever order the output came in.
    let expected: Vec<String> = (1..=240 / FAIL_EVERY)
        .map(|k| {
            lines[k * FAIL_EVERY - 1]["recordId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(failed_ids, expected_sorted);
    assert!(failed.iter().all(|f| {
        let e = f["error"].as_str().unwrap();
        e.starts_with("500: ") || e.starts_with("429: ") || e.starts_with("424: ")
    }));
    let batch = &c["batch"];
    assert_eq!(batch["answers"], 234);
    assert_eq!(batch["input_tokens"], 234 * 1_800);
    assert_eq!(batch["output_tokens"], 234 * 450);
    let batch_cost = batch["cost_usd"].as_f64().unwrap();
    let on_demand_equivalent = batch["on_demand_equivalent_usd"].as_f64().unwrap();
    assert!(
        (on_demand_equivalent - 2.0 * batch_cost).abs() < 1e-9,
        "{batch}"
    );
    // Nova Pro: $0.80 / $3.20 per million on demand, half in batch.
    let expected_batch = 234.0 * (1_800.0 * 0.4 + 450.0 * 1.6) / 1e6;
    assert!(
        (batch_cost - expected_batch).abs() < 1e-9,
        "{batch_cost} vs {expected_batch}"
    );
    assert_eq!(c["on_demand"]["calls"], 1, "{c}");
    assert_eq!(c["manifest"]["errorRecordCount"], 6);
    assert_eq!(runtime.requests().len(), 1);
    let repaired = reports
        .iter()
        .find(|r| r["athlete"] == name(REPAIRED))
        .unwrap();
    assert_eq!(repaired["on_demand_calls"], 1);
    assert_eq!(repaired["answered_from_batch"], 2);
    let repaired_report = std::fs::read_to_string(repaired["report"].as_str().unwrap()).unwrap();
    assert!(repaired_report.contains("REPAIRED ON DEMAND"));
    // A clean athlete's report carries the batch's words; a failed record's part was written
    // by the rule-based coach, and the report says why.
    let clean =
        std::fs::read_to_string(tmp.path().join("reports").join(name(0)).join("index.html"))
            .unwrap();
    assert!(clean.contains("BATCH rider-001"));
    let (failed_athlete, failed_part) = failed_ids[0].rsplit_once('.').unwrap();
    let with_fallback = reports
        .iter()
        .find(|r| {
            r["report"]
                .as_str()
                .unwrap()
                .contains(&format!("/{failed_athlete}/"))
        })
        .unwrap();
    let reason = with_fallback["fallbacks"].to_string();
    assert!(
        reason.contains(failed_ids[0]) && reason.contains("retry-failed"),
        "{reason}"
    );

    // Retry the failed records on demand. They are of different athletes and asked
    // concurrently, so a reply cannot be matched by arrival order: an analysis is routed by its
    // athlete's name (and names them), and every retried plan gets the same overview.
    let retried_text = |athlete: &str, part: &str| match part {
        "analysis" => format!("RETRIED {athlete}"),
        _ => "RETRIED plan".to_string(),
    };
    for id in &failed_ids {
        let (athlete, part) = id.rsplit_once('.').unwrap();
        let marker = retried_text(athlete, part);
        let (route, reply) = match part {
            "analysis" => (
                profile_name(athlete),
                ModelReply::text(&common::narrative_json(&marker)),
            ),
            _ => (
                agent::plan_llm::TOOL_NAME.to_string(),
                tool_reply(
                    agent::plan_llm::TOOL_NAME,
                    &plan_overview(&marker).to_string(),
                ),
            ),
        };
        runtime.push_for(
            &route,
            Reply::Model(reply.with_usage(1_800, 450, None, None)),
        );
    }
    let mut retry = batch_cmd(tmp.path(), &runtime, &control, &moto);
    retry.args(["retry-failed", "1"]);
    let retried = ok_json(&run_blocking(retry).await);
    let retried = retried.as_array().unwrap();
    let athletes_failed: std::collections::BTreeSet<&str> = failed_ids
        .iter()
        .map(|id| id.rsplit_once('.').unwrap().0)
        .collect();
    assert_eq!(retried.len(), athletes_failed.len());
    for r in retried {
        assert_eq!(r["fallbacks"], Value::Array(Vec::new()), "{r}");
        assert!(r["cost_usd"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(runtime.requests().len(), 1 + failed_ids.len());
    assert_eq!(runtime.rejections(), Vec::<String>::new());
    let report = std::fs::read_to_string(
        tmp.path()
            .join("reports")
            .join(failed_athlete)
            .join("index.html"),
    )
    .unwrap();
    let marker = retried_text(failed_athlete, failed_part);
    assert!(report.contains(&marker), "{failed_part}: {marker} missing");
    // Nothing is left to retry.
    let store = store::Store::open(&tmp.path().join("data")).unwrap();
    let states: Vec<String> = store
        .batch_records(1)
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(
        states.iter().filter(|s| *s == "retried").count(),
        failed_ids.len()
    );
    assert_eq!(states.iter().filter(|s| *s == "answered").count(), 234);
    let mut again = batch_cmd(tmp.path(), &runtime, &control, &moto);
    again.args(["retry-failed", "1"]);
    assert_eq!(
        json_of(&run_blocking(again).await.stdout),
        Value::Array(Vec::new())
    );
    eprintln!(
        "batch end to end: setup {setup_s:.1} s, submit {submit_s:.1} s, collect {collect_s:.1} s, total {:.1} s; batch ${batch_cost:.4} vs on demand ${on_demand_equivalent:.4}",
        started.elapsed().as_secs_f64()
    );
}
