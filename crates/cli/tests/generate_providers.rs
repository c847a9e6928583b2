//! `cycling-ai generate` on real model providers: the binary runs as a process against the
//! loopback fake of each provider family (Bedrock through the real AWS SDK), producing the full
//! report. The fakes enforce each service's wire rules and report the token usage scripted here,
//! so the tests can assert calls, tokens, the narrative and the overview end to end, and the
//! repair loops (invalid analysis JSON, a rule-breaking overview, a tool call that never comes).

use std::path::{Path, PathBuf};
use std::process::Command;

use llm::testing::fake_anthropic::{self, ANTHROPIC_TEST_KEY};
use llm::testing::fake_bedrock::TEST_SECRET_KEY;
use llm::testing::fake_gemini::{self, GEMINI_TEST_KEY};
use llm::testing::fake_ollama;
use llm::testing::fake_openai::{self, OPENAI_TEST_KEY};
use llm::testing::{FakeBedrock, ModelReply, RecordedHttp, Reply, SseFake, SseReply, Wire};
use serde_json::{Value, json};

mod common;
use common::{interrupt_when_requested, isolated, ok_json, run_blocking, silent_server};

const PLAN_WEEKS: u32 = 8;
/// What routes a scripted answer to phase 2's requests, phase 3's and the week writer's: phases
/// 2 and 3 run at the same time, so their requests reach a fake in either order.
const ANALYSIS: &str = agent::analysis_llm::REQUEST_MARK;
const PLAN: &str = agent::plan_llm::TOOL_NAME;
const WEEKS: &str = agent::plan_llm::WEEK_TOOL;

/// The bodies of the recorded requests that mention `mark`, in the order they came.
fn bodies<'a>(bodies: impl IntoIterator<Item = &'a Value>, mark: &str) -> Vec<&'a Value> {
    bodies
        .into_iter()
        .filter(|b| b.to_string().contains(mark))
        .collect()
}

/// The shared Strava export and profile, rides named "Morning Ride {i}".
fn athlete(dir: &Path) -> (PathBuf, PathBuf) {
    common::strava_athlete(dir, |i| format!("Morning Ride {i}"))
}

fn narrative_json(marker: &str) -> String {
    common::narrative_json(marker)
}

fn constraints() -> coach::rules::PlanConstraints {
    common::plan_constraints(PLAN_WEEKS)
}

fn overview(marker: &str) -> Value {
    common::plan_overview(marker, PLAN_WEEKS)
}

/// The same overview with a workout on Monday, which the athlete cannot ride.
fn overview_on_monday(marker: &str) -> Value {
    let mut v = overview(marker);
    v["weeks"][0]["workout_types"][0] = json!("endurance");
    v["weeks"][0]["hours"][0] = json!(1.0);
    v
}

fn generate(cmd: &mut Command, dir: &Path, out: &Path, provider: &str, model: &str) {
    let (csv, profile) = athlete(dir);
    cmd.args([
        "--json",
        "generate",
        "--provider",
        provider,
        "--model",
        model,
    ])
    .arg("--csv")
    .arg(csv)
    .arg("--profile")
    .arg(profile)
    .args(["--training-plan-weeks", &PLAN_WEEKS.to_string()])
    .arg("--output-dir")
    .arg(out);
}

/// What every end-to-end run must show: 2 calls, the fake's token counts per phase, the model's
/// narrative and author in the report, its overview in plan.json, the plan in the store.
fn assert_full_report(
    j: &Value,
    out: &Path,
    provider: &str,
    marker: &str,
    usage: [(u64, u64); 2],
    model_used: &str,
) {
    assert_eq!(j["provider"], provider);
    let phases = j["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 4);
    let calls: u64 = phases
        .iter()
        .map(|p| p["model_calls"].as_u64().unwrap())
        .sum();
    assert_eq!(calls, 2, "{phases:?}");
    for (phase, (input, output)) in [&phases[1], &phases[2]].into_iter().zip(usage) {
        assert_eq!(phase["model_calls"], 1, "{phase}");
        assert_eq!(phase["input_tokens"], input, "{phase}");
        assert_eq!(phase["output_tokens"], output, "{phase}");
    }
    let author = format!("{provider} {model_used}");
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report_data.json")).unwrap())
            .unwrap();
    let data_text = data.to_string();
    assert!(data_text.contains(marker), "narrative in report_data.json");
    assert!(
        data_text.contains(&author),
        "author {author} in report_data.json"
    );
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains(marker), "narrative in index.html");
    assert!(html.contains(&author), "author {author} in index.html");
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    // The tests name the overview's focus after the narrative's marker.
    assert_eq!(
        plan["overview"]["weeks"][0]["focus"],
        marker.replace("NARRATIVE", "FOCUS")
    );
    assert_eq!(
        plan["overview"]["weeks"].as_array().unwrap().len(),
        PLAN_WEEKS as usize
    );
    assert_eq!(plan["weeks"].as_array().unwrap().len(), PLAN_WEEKS as usize);
    assert!(
        plan["weeks"][0]["workouts"].as_array().unwrap().len() >= 3,
        "weeks filled from the library"
    );
}

// ---- Bedrock (real SDK) ----

fn bedrock_cmd(tmp: &Path, fake: &FakeBedrock) -> Command {
    let mut cmd = isolated(tmp);
    cmd.envs(common::bedrock_fake_env(&fake.endpoint()));
    cmd
}

const BEDROCK_MODEL: &str = "claude-haiku-4.5";
const BEDROCK_USED: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

fn tool_reply(id: &str, args: &Value) -> ModelReply {
    ModelReply::tool_calls(&[(id, "create_plan_overview", &args.to_string())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_end_to_end_report() {
    let fake = FakeBedrock::start().await;
    fake.push_for(
        ANALYSIS,
        Reply::Model(
            ModelReply::text(&narrative_json("BEDROCK-NARRATIVE"))
                .with_usage(1500, 420, None, None),
        ),
    );
    fake.push_for(
        PLAN,
        Reply::Model(
            tool_reply("tool-1", &overview("BEDROCK-FOCUS")).with_usage(2100, 1700, None, None),
        ),
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    let j = ok_json(&run_blocking(cmd).await);
    assert_eq!(fake.rejections(), Vec::<String>::new());
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_full_report(
        &j,
        &out,
        "bedrock",
        "BEDROCK-NARRATIVE",
        [(1500, 420), (2100, 1700)],
        BEDROCK_USED,
    );
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(
        plan["overview"]["coaching_notes"],
        "BEDROCK-FOCUS coaching notes"
    );
    // The forced tool call and a cache point after the stable system prompt.
    let plan_req = bodies(requests.iter().map(|r| &r.body), PLAN)[0];
    assert_eq!(
        plan_req["toolConfig"]["toolChoice"]["tool"]["name"],
        "create_plan_overview"
    );
    assert!(
        plan_req["system"].to_string().contains("cachePoint"),
        "{}",
        plan_req["system"]
    );
    // The planner sees the analysis figures, not the narrative written beside it.
    let prompt = plan_req["messages"][0].to_string();
    assert!(
        prompt.contains("The analysis in figures") && !prompt.contains("BEDROCK-NARRATIVE"),
        "{prompt}"
    );
    // Both calls are in the interaction log, with the model used.
    let log = std::fs::read_to_string(tmp.path().join("data/interactions.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["model_used"] == BEDROCK_USED));
    assert!(!log.contains(TEST_SECRET_KEY));
}

// ---- The HTTP + SSE providers ----

/// One end-to-end `generate` on an HTTP + SSE fake: `replies` (the narrative, then the overview
/// tool call) are scripted with `usage`, `env` points the provider at the fake, and the run must
/// produce the full report with the narrative marked `{PROVIDER}-NARRATIVE`, written by
/// `model_used`. Returns the run's JSON and the requests the fake recorded.
async fn sse_end_to_end<W: Wire>(
    fake: &SseFake<W>,
    replies: [ModelReply; 2],
    usage: [(u64, u64); 2],
    env: &[(&str, String)],
    provider: &str,
    model: &str,
    model_used: &str,
) -> (Value, Vec<RecordedHttp>) {
    for ((reply, (input, output)), mark) in replies.into_iter().zip(usage).zip([ANALYSIS, PLAN]) {
        fake.push_for(
            mark,
            SseReply::Model(reply.with_usage(input, output, None, None)),
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = isolated(tmp.path());
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    generate(&mut cmd, tmp.path(), &out, provider, model);
    let j = ok_json(&run_blocking(cmd).await);
    assert_eq!(fake.rejections(), Vec::<String>::new());
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let marker = format!("{}-NARRATIVE", provider.to_uppercase());
    assert_full_report(&j, &out, provider, &marker, usage, model_used);
    // Phase 2's request first (the phases send theirs at the same time).
    let (mut first, second): (Vec<_>, Vec<_>) = requests
        .into_iter()
        .partition(|r| r.body.to_string().contains(ANALYSIS));
    first.extend(second);
    (j, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_end_to_end_report() {
    let fake = fake_anthropic::start().await;
    // Anthropic has no JSON mode: structured output travels as a forced tool whose input the
    // provider returns as the text.
    let narrative = ModelReply::tool_calls(&[(
        "toolu_1",
        "performance_analysis",
        &narrative_json("ANTHROPIC-NARRATIVE"),
    )]);
    sse_end_to_end(
        &fake,
        [
            narrative,
            tool_reply("toolu_2", &overview("ANTHROPIC-FOCUS")),
        ],
        [(1400, 380), (2000, 1600)],
        &[
            ("ANTHROPIC_BASE_URL", fake.endpoint()),
            ("ANTHROPIC_API_KEY", ANTHROPIC_TEST_KEY.to_string()),
        ],
        "anthropic",
        "claude-haiku-4.5",
        "claude-haiku-4-5-20251001",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_end_to_end_report() {
    let fake = fake_openai::start().await;
    let (_, requests) = sse_end_to_end(
        &fake,
        [
            ModelReply::text(&narrative_json("OPENAI-NARRATIVE")),
            tool_reply("call_1", &overview("OPENAI-FOCUS")),
        ],
        [(1300, 350), (1900, 1500)],
        &[
            ("OPENAI_BASE_URL", format!("{}/v1", fake.endpoint())),
            ("OPENAI_API_KEY", OPENAI_TEST_KEY.to_string()),
            // The fake stands for api.openai.com on loopback, where the provider would pick
            // `max_tokens`: the setting reaches the provider and keeps the wire as the API's.
            (
                "OPENAI_MAX_TOKENS_FIELD",
                "max_completion_tokens".to_string(),
            ),
        ],
        "openai",
        "gpt-5.1",
        "gpt-5.1",
    )
    .await;
    assert_eq!(
        requests[0].body["response_format"]["type"], "json_schema",
        "the narrative is asked for as structured output"
    );
    assert!(requests[0].body["max_completion_tokens"].is_u64());
    assert!(requests[0].body.get("max_tokens").is_none());
    // Structured phases ask for a low temperature instead of the server's default.
    assert_eq!(requests[0].body["temperature"], json!(0.2_f32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_end_to_end_report() {
    let fake = fake_gemini::start().await;
    // The fake rejects `$ref` and every keyword Gemini does not know: no rejection means the
    // schemas passed.
    sse_end_to_end(
        &fake,
        [
            ModelReply::text(&narrative_json("GEMINI-NARRATIVE")),
            tool_reply("fc-1", &overview("GEMINI-FOCUS")),
        ],
        [(1200, 330), (1800, 1400)],
        &[
            ("GEMINI_BASE_URL", fake.endpoint()),
            ("GEMINI_API_KEY", GEMINI_TEST_KEY.to_string()),
        ],
        "gemini",
        "gemini-2.5-flash",
        "gemini-2.5-flash",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ollama_end_to_end_report() {
    let fake = fake_ollama::start().await;
    let (j, requests) = sse_end_to_end(
        &fake,
        [
            ModelReply::text(&narrative_json("OLLAMA-NARRATIVE")),
            tool_reply("call_0", &overview("OLLAMA-FOCUS")),
        ],
        [(1100, 300), (1700, 1300)],
        &[("OLLAMA_HOST", fake.endpoint())],
        "ollama",
        "llama3.1",
        "llama3.1:8b",
    )
    .await;
    assert_eq!(
        requests[0].body["format"]["type"], "object",
        "the narrative schema goes in `format`"
    );
    // Local models have no price: zero, not unknown.
    assert_eq!(j["phases"][1]["cost_usd"], 0.0);
}

// ---- Repair loops (Bedrock, the focus provider) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_analysis_json_is_repaired_with_the_validation_errors() {
    let fake = FakeBedrock::start().await;
    // Two insights only: the schema asks for 3–5.
    let mut bad: Value = serde_json::from_str(&narrative_json("FIRST")).unwrap();
    bad["insights"] = json!(["one", "two"]);
    fake.push_for(
        ANALYSIS,
        Reply::Model(ModelReply::text(&bad.to_string()).with_usage(1000, 300, None, None)),
    );
    fake.push_for(
        ANALYSIS,
        Reply::Model(
            ModelReply::text(&narrative_json("REPAIRED-NARRATIVE"))
                .with_usage(1400, 320, None, None),
        ),
    );
    fake.push_for(
        PLAN,
        Reply::Model(tool_reply("tool-1", &overview("FOCUS")).with_usage(2000, 1500, None, None)),
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    let j = ok_json(&run_blocking(cmd).await);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(fake.rejections(), Vec::<String>::new());
    // The repair request: the bad answer as the assistant turn, then the error.
    let msgs = bodies(requests.iter().map(|r| &r.body), ANALYSIS)[1]["messages"]
        .as_array()
        .unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[1]["role"], "assistant");
    let repair = msgs[2].to_string();
    assert!(
        repair.contains("insights has 2 items; 3 to 5 are required"),
        "{repair}"
    );
    let analysis = &j["phases"][1];
    assert_eq!(analysis["model_calls"], 2);
    assert_eq!(analysis["input_tokens"], 2400);
    assert_eq!(analysis["output_tokens"], 620);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("REPAIRED-NARRATIVE") && !html.contains("FIRST:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysis_that_never_validates_fails_the_phase_with_the_errors() {
    let fake = FakeBedrock::start().await;
    for _ in 0..3 {
        fake.push_for(
            ANALYSIS,
            Reply::Model(ModelReply::text("I think you ride well.")),
        );
    }
    // Phase 3 runs beside phase 2 and finishes.
    fake.push_for(
        PLAN,
        Reply::Model(tool_reply("tool-1", &overview("KEPT-FOCUS"))),
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    cmd.arg("--strict");
    let o = run_blocking(cmd).await;
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("phase 2 (performance analysis) failed")
            && err.contains("did not validate after 3 attempts")
            && err.contains("not the required JSON object")
            && err.contains("rerun with --resume"),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 4);
    assert!(out.join("checkpoints/1-data.json").is_file());
    assert!(!out.join("checkpoints/2-analysis.json").exists());
    // Paid for, so kept for --resume.
    assert!(out.join("checkpoints/3-plan.json").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_strict_an_analysis_that_never_validates_is_written_by_the_rule_based_coach() {
    let fake = FakeBedrock::start().await;
    for _ in 0..3 {
        fake.push_for(
            ANALYSIS,
            Reply::Model(ModelReply::text("I think you ride well.")),
        );
    }
    fake.push_for(
        PLAN,
        Reply::Model(tool_reply("tool-1", &overview("MODEL-FOCUS"))),
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    let o = run_blocking(cmd).await;
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let j = ok_json(&o);
    assert!(
        err.contains("warning:")
            && err.contains("phase 2 (performance analysis)")
            && err.contains("the rule-based coach wrote this part instead"),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 4);
    assert!(
        j["phases"][1]["fallback"]
            .as_str()
            .unwrap()
            .contains("did not validate after 3 attempts"),
        "{j}"
    );
    assert!(j["phases"][2].get("fallback").is_none(), "{j}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("The performance analysis was written by the rule-based coach because"),
        "the report says which part and why"
    );
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["overview"]["weeks"][0]["focus"], "MODEL-FOCUS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_breaking_overview_gets_its_violations_back() {
    let fake = FakeBedrock::start().await;
    fake.push_for(
        ANALYSIS,
        Reply::Model(
            ModelReply::text(&narrative_json("NARRATIVE")).with_usage(1000, 300, None, None),
        ),
    );
    fake.push_for(
        PLAN,
        Reply::Model(
            tool_reply("tool-1", &overview_on_monday("BAD")).with_usage(2000, 1500, None, None),
        ),
    );
    fake.push_for(
        PLAN,
        Reply::Model(
            tool_reply("tool-2", &overview("GOOD-FOCUS")).with_usage(3600, 1500, None, None),
        ),
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    let j = ok_json(&run_blocking(cmd).await);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(fake.rejections(), Vec::<String>::new());
    // The violation went back as an error result of the call, the choice still forced.
    let repair = bodies(requests.iter().map(|r| &r.body), PLAN)[1];
    let msgs = repair["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    let result = &msgs[2]["content"][0]["toolResult"];
    assert_eq!(result["toolUseId"], "tool-1");
    assert_eq!(result["status"], "error");
    let text = result.to_string();
    assert!(
        text.contains("week 1:") && text.contains("monday"),
        "the violation names the week and the day: {text}"
    );
    assert_eq!(
        repair["toolConfig"]["toolChoice"]["tool"]["name"],
        "create_plan_overview"
    );
    assert_eq!(j["phases"][2]["model_calls"], 2);
    assert_eq!(j["phases"][2]["input_tokens"], 5600);
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["overview"]["weeks"][0]["focus"], "GOOD-FOCUS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_that_never_comes_fails_phase_3_and_resume_finishes_it() {
    let fake = FakeBedrock::start().await;
    fake.push_for(
        ANALYSIS,
        Reply::Model(
            ModelReply::text(&narrative_json("KEPT-NARRATIVE")).with_usage(1000, 300, None, None),
        ),
    );
    for _ in 0..3 {
        fake.push_for(
            PLAN,
            Reply::Model(ModelReply::text(
                "Here is your plan: ride a lot, then rest.",
            )),
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    cmd.arg("--strict");
    let o = run_blocking(cmd).await;
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("phase 3 (training plan) failed")
            && err.contains("did not call create_plan_overview")
            && err.contains("rerun with --resume"),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 4);
    assert_eq!(fake.rejections(), Vec::<String>::new());
    // Each retry told the model it must call the tool, with the forced choice kept.
    let requests = fake.requests();
    let last = bodies(requests.iter().map(|r| &r.body), PLAN)[2];
    assert!(
        last["messages"]
            .to_string()
            .contains("You must call the create_plan_overview tool")
    );
    assert_eq!(
        last["toolConfig"]["toolChoice"]["tool"]["name"],
        "create_plan_overview"
    );
    assert!(out.join("checkpoints/2-analysis.json").is_file());
    assert!(!out.join("checkpoints/3-plan.json").exists());

    // Resume: only phase 3 runs, with one good call.
    fake.push(Reply::Model(
        tool_reply("tool-9", &overview("RESUMED-FOCUS")).with_usage(2000, 1500, None, None),
    ));
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    cmd.arg("--resume");
    let j = ok_json(&run_blocking(cmd).await);
    assert_eq!(fake.requests().len(), 5, "phase 2 is not run again");
    let resumed: Vec<bool> = j["phases"].as_array().unwrap()[..3]
        .iter()
        .map(|p| p["resumed"].as_bool().unwrap())
        .collect();
    assert_eq!(resumed, vec![true, true, false]);
    assert_eq!(j["phases"][2]["model_calls"], 1);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("KEPT-NARRATIVE"));
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["overview"]["weeks"][0]["focus"], "RESUMED-FOCUS");

    // Resuming a finished run calls no model and still names the model that answered, not the
    // alias typed on the command line.
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    cmd.arg("--resume");
    let j = ok_json(&run_blocking(cmd).await);
    assert_eq!(fake.requests().len(), 5);
    assert_eq!(j["model"], BEDROCK_USED, "{j}");
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report_data.json")).unwrap())
            .unwrap();
    assert_eq!(data["run"]["model"], BEDROCK_USED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_the_finished_phases_and_resume_finishes_the_report() {
    // A server that takes the analysis request and never answers: phase 2 waits on the model
    // when the user presses Ctrl-C.
    let (silent, request_seen) = silent_server().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = isolated(tmp.path());
    cmd.env("ANTHROPIC_BASE_URL", &silent)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_TEST_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    generate(&mut cmd, tmp.path(), &out, "anthropic", "claude-haiku-4.5");
    let child = cmd.spawn().unwrap();
    let o = interrupt_when_requested(child, request_seen, "phase 2").await;
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("interrupted in phases 2 (performance analysis) and 3 (training plan)")
            && err.contains("finished phases are kept")
            && err.contains("rerun with --resume"),
        "{err}"
    );
    assert!(out.join("checkpoints/1-data.json").is_file());
    assert!(!out.join("checkpoints/2-analysis.json").exists());
    assert!(!out.join("checkpoints/3-plan.json").exists());
    assert!(!out.join("index.html").exists());

    // Resume against a provider that answers: phase 1 is not redone, phases 2 and 3 take one
    // call each.
    let fake = fake_anthropic::start().await;
    fake.push_for(
        ANALYSIS,
        SseReply::Model(
            ModelReply::tool_calls(&[(
                "toolu_1",
                "performance_analysis",
                &narrative_json("AFTER-CTRL-C"),
            )])
            .with_usage(1400, 380, None, None),
        ),
    );
    fake.push_for(
        PLAN,
        SseReply::Model(
            tool_reply("toolu_2", &overview("AFTER-CTRL-C-FOCUS"))
                .with_usage(2000, 1600, None, None),
        ),
    );
    let mut cmd = isolated(tmp.path());
    cmd.env("ANTHROPIC_BASE_URL", fake.endpoint())
        .env("ANTHROPIC_API_KEY", ANTHROPIC_TEST_KEY);
    generate(&mut cmd, tmp.path(), &out, "anthropic", "claude-haiku-4.5");
    cmd.arg("--resume");
    let j = ok_json(&run_blocking(cmd).await);
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.rejections(), Vec::<String>::new());
    let resumed: Vec<bool> = j["phases"].as_array().unwrap()[..3]
        .iter()
        .map(|p| p["resumed"].as_bool().unwrap())
        .collect();
    assert_eq!(resumed, vec![true, false, false]);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("AFTER-CTRL-C"));
}

// ---- --workout-source llm ----

/// Valid `write_week_workouts` arguments for one overview week: a warm-up ramp and a set of two
/// steady blocks per ride day, lasting the day's planned hours.
fn week_workouts(week: &coach::plan::WeekOverview, work_pct: f64) -> Value {
    let workouts: Vec<Value> = agent::plan_llm::writable_days(week)
        .iter()
        .map(|d| {
            json!({
                "weekday": coach::plan::weekday_name::name(d.weekday),
                "workout_type": d.workout_type,
                "name": format!("MODEL-WORKOUT week {}", week.week),
                "description": "Written by the model.",
                "sets": [
                    {"repeat": 1, "steps": [{"kind": "warmup", "minutes": 10.0, "from_pct": 50.0, "to_pct": 70.0}]},
                    {"repeat": 2, "steps": [{"kind": "work", "minutes": (d.hours * 60.0 - 10.0) / 2.0, "from_pct": work_pct, "to_pct": work_pct}]}
                ]
            })
        })
        .collect();
    json!({ "workouts": workouts })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_writes_each_week_through_a_validated_tool() {
    let fake = FakeBedrock::start().await;
    fake.push_for(
        ANALYSIS,
        Reply::Model(
            ModelReply::text(&narrative_json("NARRATIVE")).with_usage(1000, 300, None, None),
        ),
    );
    let args = overview("LLM-WEEKS");
    fake.push_for(
        PLAN,
        Reply::Model(tool_reply("tool-o", &args).with_usage(2000, 800, None, None)),
    );
    let weeks = agent::plan_llm::check_arguments(&args, &constraints())
        .unwrap()
        .weeks;
    for (i, w) in weeks.iter().enumerate() {
        if i == 1 {
            // Week 2 first comes back with an impossible power target.
            fake.push_for(
                WEEKS,
                Reply::Model(ModelReply::tool_calls(&[(
                    "tool-bad",
                    "write_week_workouts",
                    &week_workouts(w, 250.0).to_string(),
                )])),
            );
        }
        fake.push_for(
            WEEKS,
            Reply::Model(ModelReply::tool_calls(&[(
                &format!("tool-w{i}"),
                "write_week_workouts",
                &week_workouts(w, 70.0).to_string(),
            )])),
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let mut cmd = bedrock_cmd(tmp.path(), &fake);
    generate(&mut cmd, tmp.path(), &out, "bedrock", BEDROCK_MODEL);
    cmd.args(["--workout-source", "llm"]);
    let j = ok_json(&run_blocking(cmd).await);
    assert_eq!(fake.rejections(), Vec::<String>::new());
    let requests = fake.requests();
    let expected = 2 + PLAN_WEEKS as usize + 1;
    assert_eq!(requests.len(), expected);
    assert_eq!(j["phases"][2]["model_calls"], expected as u64 - 1);
    // The repair of week 2 names the set, the step and the limit.
    let week_requests = bodies(requests.iter().map(|r| &r.body), WEEKS);
    let repair = week_requests[2]["messages"].to_string();
    assert!(
        repair.contains("set 2 step 1: from_pct 250 % of FTP is outside 30–200 %"),
        "{repair}"
    );
    assert_eq!(
        week_requests[0]["toolConfig"]["toolChoice"]["tool"]["name"],
        "write_week_workouts"
    );
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    for week in plan["weeks"].as_array().unwrap() {
        for pw in week["workouts"].as_array().unwrap() {
            let w = &pw["workout"];
            if w["workout_type"] == "strength" {
                continue;
            }
            assert!(w["id"].as_str().unwrap().starts_with("llm-w"), "{w}");
            assert_eq!(w["steps"][1]["type"], "repeat", "the set stays a set: {w}");
            assert_eq!(w["steps"][1]["times"], 2);
        }
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("MODEL-WORKOUT week 1"));
    let fits = common::fit_files(&out.join("workouts"));
    assert!(fits >= 3 * PLAN_WEEKS as usize, "{fits} workout files");
}

// ---- Selection ----

#[test]
fn a_provider_without_a_model_names_the_flag_and_the_config_key() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let (csv, profile) = athlete(tmp.path());
    let o = isolated(tmp.path())
        .args(["generate", "--provider", "bedrock", "--csv"])
        .arg(csv)
        .arg("--profile")
        .arg(profile)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("--model") && lines[0].contains("providers.bedrock.model"),
        "{err}"
    );
}

#[test]
fn the_configured_default_provider_is_used_and_offline_is_said_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, profile) = athlete(tmp.path());
    // No provider anywhere: the rule-based coach, said in the report.
    let out = tmp.path().join("offline");
    let o = isolated(tmp.path())
        .args(["--json", "generate", "--skip-training-plan", "--csv"])
        .arg(&csv)
        .arg("--profile")
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let j = ok_json(&o);
    assert_eq!(j["provider"], "offline");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("No language model was configured"),
        "said in the report"
    );
    // CYCLING_AI_PROVIDER picks a provider; its model is still required.
    let o = isolated(tmp.path())
        .env("CYCLING_AI_PROVIDER", "openai")
        .args(["generate", "--out"])
        .arg(tmp.path().join("x"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no model for openai") && err.contains("providers.openai.model"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_options_reach_the_service_from_check_and_are_refused_elsewhere() {
    let fake = FakeBedrock::start().await;
    fake.push(Reply::Model(ModelReply::text("OK")));
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = common::bedrock_check(tmp.path(), &fake.endpoint(), "nova-micro");
    cmd.args([
        "--guardrail-id",
        "gr-abc",
        "--guardrail-version",
        "3",
        "--latency",
        "optimized",
        "--retry-mode",
        "adaptive",
        "--max-attempts",
        "2",
    ]);
    let out = run_blocking(cmd).await;
    common::assert_success(&out);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    assert_eq!(body["guardrailConfig"]["guardrailIdentifier"], "gr-abc");
    assert_eq!(body["guardrailConfig"]["guardrailVersion"], "3");
    assert_eq!(body["performanceConfig"]["latency"], "optimized");

    // Bedrock-only options with another provider: one clear line, no call.
    let tmp2 = tempfile::tempdir().unwrap();
    let o = isolated(tmp2.path())
        .args([
            "generate",
            "--provider",
            "openai",
            "--model",
            "gpt-5.1",
            "--guardrail-id",
            "gr-abc",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("--guardrail-id") && err.contains("bedrock only"),
        "{err}"
    );
}

// ---- providers bench ----

#[test]
fn providers_bench_compares_three_targets_on_the_fakes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench");
    let targets = [
        "bedrock:claude-sonnet-4.5",
        "anthropic:claude-sonnet-4.5",
        "bedrock:nova-pro",
    ];
    let o = isolated(tmp.path())
        .args([
            "--json",
            "providers",
            "bench",
            "--offline-fakes",
            "--target",
        ])
        .args(targets)
        .args(["--runs", "2", "--rides", "40", "--training-plan-weeks", "8"])
        .args([
            "--fake-first-token",
            "0.02",
            "--fake-tokens-per-second",
            "50000",
        ])
        .args(["--reports-per-month", "20", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let j = ok_json(&o);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(file, j, "bench.json holds what --json printed");
    let scripted = |phase: &str, what: &str| j["scripted"][phase][what].as_u64().unwrap();
    let input = scripted("analysis", "input_tokens") + scripted("plan", "input_tokens");
    let output = scripted("analysis", "output_tokens") + scripted("plan", "output_tokens");
    assert_eq!(input, 3000, "the fakes' fixed prompt sizes");
    assert!(
        output > 500,
        "the scripted answers are a real narrative and overview"
    );

    let catalog = llm::Catalog::builtin();
    let rows = j["targets"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let mut costs = Vec::new();
    for (row, target) in rows.iter().zip(targets) {
        assert_eq!(row["target"], target);
        // Every report written by the model, two calls each.
        assert_eq!(
            (row["reports"].as_u64(), row["model_written"].as_u64()),
            (Some(2), Some(2))
        );
        let totals = &row["totals"];
        assert_eq!(totals["model_calls"], 4, "{row}");
        assert_eq!(totals["input_tokens"], 2 * input, "{row}");
        assert_eq!(totals["output_tokens"], 2 * output, "{row}");
        assert_eq!(totals["cached_tokens"], 0, "{row}");
        assert_eq!(row["model_calls"], 2.0);
        // Cost = tokens × the catalog's price of the model that answered (+10 % through a
        // geographic `us.` profile on Bedrock).
        let used = row["model_used"].as_str().unwrap();
        let provider = target.split(':').next().unwrap();
        let r = llm::catalog::split_model_ref(used);
        let prices = catalog
            .find(provider, r.base_id)
            .and_then(|e| e.prices.clone())
            .unwrap_or_else(|| panic!("{used} priced"));
        let markup = match r.profile_prefix {
            Some(_) => 1.0 + prices.geographic_markup.unwrap_or(0.0),
            None => 1.0,
        };
        let per_report =
            (input as f64 * prices.input + output as f64 * prices.output) / 1e6 * markup;
        let cost = row["cost_per_report_usd"].as_f64().unwrap();
        assert!(
            (cost - per_report).abs() < 1e-9,
            "{target}: {cost} vs {per_report}"
        );
        let month = row["cost_per_month_usd"].as_f64().unwrap();
        assert!((month - 20.0 * per_report).abs() < 1e-9, "{month}");
        let (median, p90) = (
            row["wall_s_median"].as_f64().unwrap(),
            row["wall_s_p90"].as_f64().unwrap(),
        );
        assert!(median > 0.0 && p90 >= median, "{row}");
        assert!(row["first_token_s"].as_f64().unwrap() >= 0.02, "{row}");
        costs.push(cost);
    }
    assert!(rows[0].get("vs_first").is_none());
    for (row, cost) in rows.iter().zip(&costs).skip(1) {
        let ratio = row["vs_first"]["cost_ratio"].as_f64().unwrap();
        assert!((ratio - cost / costs[0]).abs() < 1e-9, "{row}");
    }
    // Nova Pro is priced well below Sonnet.
    assert!(costs[2] < costs[0] / 2.0, "{costs:?}");
    let md = std::fs::read_to_string(out.join("bench.md")).unwrap();
    assert!(md.contains("| target | model that answered |"), "{md}");
    for t in targets {
        assert!(md.contains(&format!("| {t} |")), "{md}");
    }
}
