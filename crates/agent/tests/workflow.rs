//! The report pipeline as a library, without a process: a small synthetic season (the `demo`
//! crate) imported by the workflow's first phase, then all four phases — once with the
//! rule-based coach, once against the Bedrock fake through the real AWS SDK — checking the
//! checkpoints, `--resume` and the per-phase figures.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use agent::plan_llm::OverviewArgs;
use agent::workflow::{
    self, ModelChoice, Observer, Options, Outcome, PHASES, PhaseStats, PlanOptions, Silent,
    WorkflowError,
};
use coach::bundle::AnalysisBundle;
use coach::narrative::Narrative;
use coach::plan::TrainingPlan;
use jiff::civil::{Date, date};
use llm::bedrock::BedrockOptions;
use llm::testing::{FakeBedrock, ModelReply, Reply};
use llm::{CallStats, Catalog};
use serde_json::{Value, json};
use store::{ImportSource, Store};

const SEASON_END: Date = date(2025, 6, 29);
const BEDROCK_MODEL: &str = "claude-haiku-4.5";
const BEDROCK_USED: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
/// What routes a scripted answer to phase 2's requests and to phase 3's: the phases run at the
/// same time, so their requests reach the fake in either order.
const ANALYSIS: &str = agent::analysis_llm::REQUEST_MARK;
const PLAN: &str = agent::plan_llm::TOOL_NAME;

/// One synthetic season per test process, generated once; each test imports it into its own
/// data directory.
fn season() -> &'static demo::DemoOutput {
    static DEMO: OnceLock<demo::DemoOutput> = OnceLock::new();
    DEMO.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("agent-workflow-demo");
        let _ = std::fs::remove_dir_all(&root);
        let mut opts = demo::DemoOptions::new(root.join("season"), SEASON_END);
        opts.rides = 40;
        opts.weeks = 10;
        demo::generate(&opts).expect("demo season")
    })
}

fn options(data: &Path, out: &Path) -> Options {
    let s = season();
    Options {
        data_dir: data.to_path_buf(),
        athlete: None,
        profile: Some(s.profile_path.clone()),
        import: Some(ImportSource::Export(s.export_dir.clone())),
        output_dir: out.to_path_buf(),
        period_weeks: 4,
        plan: PlanOptions {
            weeks: Some(8),
            ..PlanOptions::default()
        },
        resume: false,
        strict: false,
        model: None,
        sequential: false,
    }
}

/// What the observer was told, in order.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl Recorder {
    fn push(&self, e: String) {
        self.events.lock().unwrap().push(e);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.events.lock().unwrap())
    }
}

impl Observer for Recorder {
    fn phase_started(&self, n: u32, name: &str) {
        self.push(format!("start {n} {name}"));
    }
    fn model_call(&self, n: u32, _model: &str, s: &CallStats) {
        self.push(format!("call {} of phase {n}", s.calls));
    }
    fn phase_finished(&self, _n: u32, p: &PhaseStats) {
        let how = if p.resumed { "resumed" } else { "done" };
        self.push(format!("{how} {}", p.cost.phase));
    }
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn checkpoint(out: &Path, name: &str) -> PathBuf {
    out.join("checkpoints").join(format!("{name}.json"))
}

fn phase_names(o: &Outcome) -> Vec<&str> {
    o.phases.iter().map(|p| p.cost.phase.as_str()).collect()
}

fn resumed(o: &Outcome) -> Vec<bool> {
    o.phases.iter().map(|p| p.resumed).collect()
}

#[tokio::test]
async fn offline_run_checkpoints_every_phase_and_resume_redoes_none() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("report"));
    let seen = Recorder::default();

    let first = workflow::run(options(&data, &out), &seen).await.unwrap();
    assert_eq!(phase_names(&first), PHASES);
    assert_eq!(resumed(&first), [false; 4]);
    for p in &first.phases {
        assert_eq!(p.cost.model_calls, 0, "{p:?}");
        assert_eq!(p.cost.cost_usd, Some(0.0), "{p:?}");
        assert_eq!(p.model_wait_s, 0.0, "{p:?}");
    }
    assert_eq!(
        (first.provider.as_str(), first.model.as_deref()),
        ("offline", None)
    );
    let import = first.import.as_ref().expect("phase 1 imported");
    assert!(
        import.imported >= 40 && import.failed.is_empty(),
        "{import:?}"
    );
    assert_eq!(
        seen.take(),
        [
            "start 1 data preparation",
            "done data preparation",
            "start 2 performance analysis",
            "done performance analysis",
            "start 3 training plan",
            "done training plan",
            "start 4 report",
            "done report"
        ]
    );

    // The checkpoints hold what the report shows, and the plan is in the store.
    let bundle: AnalysisBundle = read(&checkpoint(&out, "1-data"));
    let mut store = Store::open(&data).unwrap();
    let athlete = store.default_athlete().unwrap();
    assert_eq!(
        bundle.activity_count,
        store.activity_count(athlete.id).unwrap()
    );
    assert_eq!(bundle.period_weeks, 4);
    let narrative: Narrative = read(&checkpoint(&out, "2-analysis"));
    assert_eq!(narrative.author, coach::offline::AUTHOR);
    let plan: TrainingPlan = read(&checkpoint(&out, "3-plan"));
    assert_eq!(plan.weeks.len(), 8);
    assert!(
        plan.start_date > bundle.as_of,
        "the plan starts after the last ride"
    );
    let stored = store.latest_plan(athlete.id).unwrap().expect("plan stored");
    assert_eq!(stored.source, "offline");
    assert_eq!(
        serde_json::from_str::<TrainingPlan>(&stored.plan_json).unwrap(),
        plan
    );
    let report_plan: Value = read(&out.join("plan.json"));
    assert_eq!(report_plan["weeks"].as_array().unwrap().len(), 8);
    assert!(first.files.index_html.is_file());
    drop(store);

    // --resume: every checkpointed phase is taken as it is; only the report is rendered again.
    std::fs::remove_file(&first.files.index_html).unwrap();
    let mut again = options(&data, &out);
    again.resume = true;
    let second = workflow::run(again, &seen).await.unwrap();
    assert_eq!(resumed(&second), [true, true, true, false]);
    assert!(second.files.index_html.is_file());
    assert_eq!(read::<TrainingPlan>(&checkpoint(&out, "3-plan")), plan);
    assert_eq!(
        seen.take(),
        [
            "start 1 data preparation",
            "resumed data preparation",
            "start 2 performance analysis",
            "resumed performance analysis",
            "start 3 training plan",
            "resumed training plan",
            "start 4 report",
            "done report"
        ]
    );
    let store = Store::open(&data).unwrap();
    assert_eq!(
        store.latest_plan(athlete.id).unwrap().unwrap().id,
        stored.id,
        "a resumed plan is not stored twice"
    );
    drop(store);

    // Other inputs: --resume refuses; without it the run starts over.
    let mut other = options(&data, &out);
    other.resume = true;
    other.plan.seed = 7;
    let err = workflow::run(other, &Silent).await.unwrap_err();
    assert!(matches!(err, WorkflowError::ResumeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("other inputs"), "{err}");
    let mut fresh = options(&data, &out);
    fresh.plan.seed = 7;
    let third = workflow::run(fresh, &Silent).await.unwrap();
    assert_eq!(resumed(&third), [false; 4]);
}

#[tokio::test]
async fn skipping_the_plan_leaves_no_plan_and_a_skipped_phase() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("report"));
    let mut o = options(&data, &out);
    o.plan.skip = true;
    let outcome = workflow::run(o, &Silent).await.unwrap();
    assert_eq!(
        phase_names(&outcome),
        [
            "data preparation",
            "performance analysis",
            "training plan (skipped)",
            "report"
        ]
    );
    assert!(outcome.files.plan_json.is_none());
    assert!(!checkpoint(&out, "3-plan").exists());
}

#[tokio::test]
async fn a_missing_profile_or_model_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("report"));
    let mut o = options(&data, &out);
    o.profile = None;
    let err = workflow::run(o, &Silent).await.unwrap_err();
    assert!(matches!(err, WorkflowError::NoProfile), "{err}");

    let mut o = options(&data, &out);
    o.plan.workouts = workflow::WorkoutSource::Model;
    let err = workflow::run(o, &Silent).await.unwrap_err();
    assert!(
        matches!(err, WorkflowError::ModelWorkoutsWithoutModel),
        "{err}"
    );
}

/// The model's analysis: the rule-based coach's narrative of the same bundle, in the output
/// contract's shape (no `author`), with a marker in the summary.
fn narrative_json(bundle: &AnalysisBundle, marker: &str) -> String {
    let mut answer = serde_json::to_value(coach::offline::narrative(bundle)).unwrap();
    answer.as_object_mut().unwrap().remove("author");
    answer["summary"] = json!(format!("{marker}: where the athlete stands."));
    answer.to_string()
}

async fn bedrock(fake: &FakeBedrock) -> ModelChoice {
    bedrock_with(fake, BedrockOptions::default()).await
}

async fn bedrock_with(fake: &FakeBedrock, options: BedrockOptions) -> ModelChoice {
    ModelChoice {
        provider: Box::new(fake.provider(options).await),
        model: BEDROCK_MODEL.into(),
        catalog: std::sync::Arc::new(Catalog::builtin()),
        max_tokens: None,
        temperature: None,
        notices: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_run_counts_each_phase_and_resumes_after_a_failed_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // A plan overview that keeps this athlete's rules: the rule-based coach's, from an offline
    // run on the same data, with a marker in week 1.
    let offline_out = tmp.path().join("offline");
    let offline = workflow::run(options(&data, &offline_out), &Silent)
        .await
        .unwrap();
    let bundle: AnalysisBundle = read(&checkpoint(&offline_out, "1-data"));
    let offline_plan: TrainingPlan = read(offline.files.plan_json.as_ref().unwrap());
    let mut overview =
        serde_json::to_value(OverviewArgs::from_overview(&offline_plan.overview)).unwrap();
    overview["weeks"][0]["focus"] = json!("BEDROCK-FOCUS");

    let fake = FakeBedrock::start().await;
    fake.push_for(
        ANALYSIS,
        Reply::Model(
            ModelReply::text(&narrative_json(&bundle, "BEDROCK-NARRATIVE"))
                .with_usage(1500, 420, None, None),
        ),
    );
    // Phase 3: three answers without the forced tool call: the phase fails after its repairs.
    for _ in 0..3 {
        fake.push_for(
            PLAN,
            Reply::Model(ModelReply::text("I would rather chat.").with_usage(900, 10, None, None)),
        );
    }
    let out = tmp.path().join("report");
    let seen = Recorder::default();
    let err = strict_failure(&data, &out, &fake, &seen, 3).await;
    let text = err.to_string();
    assert!(
        text.contains("phase 3 (training plan) failed")
            && text.contains("did not call create_plan_overview")
            && text.contains("rerun with --resume"),
        "{text}"
    );
    assert!(checkpoint(&out, "1-data").is_file() && checkpoint(&out, "2-analysis").is_file());
    assert!(!checkpoint(&out, "3-plan").exists());
    assert_eq!(fake.requests().len(), 4);
    let events = seen.take();
    assert!(
        events.contains(&"call 1 of phase 2".to_string())
            && events.contains(&"call 3 of phase 3".to_string()),
        "{events:?}"
    );
    let narrative: Narrative = read(&checkpoint(&out, "2-analysis"));
    assert_eq!(narrative.author, format!("bedrock {BEDROCK_USED}"));

    // --resume: phases 1 and 2 are taken from their checkpoints; phase 3 makes one call.
    fake.push(Reply::Model(
        ModelReply::tool_calls(&[("tool-1", "create_plan_overview", &overview.to_string())])
            .with_usage(2100, 1700, None, None),
    ));
    let mut o = options(&data, &out);
    o.resume = true;
    o.model = Some(bedrock(&fake).await);
    let outcome = workflow::run(o, &seen).await.unwrap();
    assert_eq!(fake.rejections(), Vec::<String>::new());
    assert_eq!(fake.requests().len(), 5, "one more call");
    assert_eq!(resumed(&outcome), [true, true, false, false]);
    let plan_phase = &outcome.phases[2].cost;
    assert_eq!(
        (
            plan_phase.model_calls,
            plan_phase.input_tokens,
            plan_phase.output_tokens
        ),
        (1, 2100, 1700)
    );
    // Haiku 4.5 is $1 / $5 per million tokens, +10 % through a geographic (`us.`) profile.
    let usd = plan_phase.cost_usd.expect("priced");
    assert!(
        (usd - (2100.0 * 1.0 + 1700.0 * 5.0) / 1e6 * 1.1).abs() < 1e-9,
        "{usd}"
    );
    assert_eq!(
        outcome.phases[1].cost.model_calls, 0,
        "resumed: nothing spent"
    );
    assert_eq!(outcome.provider, "bedrock");
    assert_eq!(outcome.model.as_deref(), Some(BEDROCK_USED));
    let plan: TrainingPlan = read(&checkpoint(&out, "3-plan"));
    assert_eq!(plan.overview.weeks[0].focus, "BEDROCK-FOCUS");
    let mut store = Store::open(&data).unwrap();
    let athlete = store.default_athlete().unwrap();
    let stored = store.latest_plan(athlete.id).unwrap().unwrap();
    assert_eq!(stored.source, format!("bedrock {BEDROCK_USED}"));
    // Every call, the failed attempts included, is in the interaction log.
    let log = std::fs::read_to_string(data.join("interactions.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 5);
    let html = std::fs::read_to_string(&outcome.files.index_html).unwrap();
    assert!(html.contains("BEDROCK-NARRATIVE") && html.contains("Resumed run"));
}

/// One answer for phase 2 (`narrative` as text) and one for phase 3 (`overview` as the plan
/// tool's call), each routed to its phase.
fn script_answers(fake: &FakeBedrock, narrative: &str, overview: &Value) {
    fake.push_for(ANALYSIS, Reply::Model(ModelReply::text(narrative)));
    fake.push_for(
        PLAN,
        Reply::Model(ModelReply::tool_calls(&[(
            "tool-1",
            PLAN,
            &overview.to_string(),
        )])),
    );
}

/// A `--strict` run on `fake` that must fail in phase `n`; its error.
async fn strict_failure(
    data: &Path,
    out: &Path,
    fake: &FakeBedrock,
    observer: &dyn Observer,
    n: u32,
) -> WorkflowError {
    let mut o = options(data, out);
    o.model = Some(bedrock(fake).await);
    o.strict = true;
    let err = workflow::run(o, observer).await.unwrap_err();
    assert!(
        matches!(&err, WorkflowError::PhaseFailed { n: failed, .. } if *failed == n),
        "{err}"
    );
    err
}

/// The offline run's bundle and plan overview on `data` (a valid answer for this athlete).
async fn valid_answers(data: &Path, out: &Path) -> (AnalysisBundle, Value) {
    let offline = workflow::run(options(data, out), &Silent).await.unwrap();
    let bundle: AnalysisBundle = read(&checkpoint(out, "1-data"));
    let plan: TrainingPlan = read(offline.files.plan_json.as_ref().unwrap());
    let overview = serde_json::to_value(OverviewArgs::from_overview(&plan.overview)).unwrap();
    (bundle, overview)
}

fn run_info(out: &Path) -> Value {
    read::<Value>(&out.join("report_data.json"))["run"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_model_never_costs_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (bundle, overview) = valid_answers(&data, &tmp.path().join("offline")).await;
    let fake = FakeBedrock::start().await;
    // Phase 2: one trend with a 150-character title, every time (code cuts the title, but only
    // the model can write the missing trends). Phase 3: never the plan tool.
    let mut weak: Value = serde_json::from_str(&narrative_json(&bundle, "WEAK")).unwrap();
    weak["key_trends"] = json!([{"title": "t".repeat(150), "description": "Steady."}]);
    for _ in 0..3 {
        fake.push_for(ANALYSIS, Reply::Model(ModelReply::text(&weak.to_string())));
    }
    for _ in 0..3 {
        fake.push_for(
            PLAN,
            Reply::Model(ModelReply::text("Ride more, rest sometimes.")),
        );
    }
    let out = tmp.path().join("report");
    let warnings = Warnings::default();
    let mut o = options(&data, &out);
    o.model = Some(bedrock(&fake).await);
    let outcome = workflow::run(o, &warnings)
        .await
        .expect("a report all the same");
    assert_eq!(fake.requests().len(), 6);
    let analysis = outcome.phases[1]
        .fallback
        .as_deref()
        .expect("phase 2 fell back");
    assert!(
        analysis.contains("did not validate after 3 attempts")
            && analysis.contains("key_trends has 1 items"),
        "{analysis}"
    );
    let plan = outcome.phases[2]
        .fallback
        .as_deref()
        .expect("phase 3 fell back");
    assert!(plan.contains("did not call create_plan_overview"), "{plan}");
    assert_eq!(
        outcome.phases[1].cost.model_calls, 3,
        "the calls are still counted"
    );
    assert_eq!(warnings.0.lock().unwrap().len(), 2, "one warning per part");

    // The report says who wrote what, and why.
    let run = run_info(&out);
    let authors = run["authors"].as_array().unwrap();
    assert_eq!(authors.len(), 2, "{authors:?}");
    for a in authors {
        assert_eq!(a["author"], coach::offline::AUTHOR, "{a}");
        assert!(a["fallback"].as_str().unwrap().contains("failed"), "{a}");
    }
    let notes = run["notes"].to_string();
    assert!(
        notes.contains("The performance analysis was written by the rule-based coach because")
            && notes.contains("The plan overview was written by the rule-based coach because"),
        "{notes}"
    );
    let data_json: Value = read(&out.join("report_data.json"));
    assert_eq!(data_json["narrative"]["author"], coach::offline::AUTHOR);
    // Nothing the rule-based coach stood in for is checkpointed; the plan is stored.
    assert!(!checkpoint(&out, "2-analysis").exists() && !checkpoint(&out, "3-plan").exists());
    let mut store = Store::open(&data).unwrap();
    let athlete = store.default_athlete().unwrap();
    assert_eq!(
        store.latest_plan(athlete.id).unwrap().unwrap().source,
        "offline"
    );
    drop(store);

    // --resume asks the model again for exactly those parts.
    script_answers(&fake, &narrative_json(&bundle, "SECOND-TRY"), &overview);
    let mut o = options(&data, &out);
    o.resume = true;
    o.model = Some(bedrock(&fake).await);
    let again = workflow::run(o, &Silent).await.unwrap();
    assert_eq!(fake.requests().len(), 8);
    assert_eq!(resumed(&again), [true, false, false, false]);
    assert!(again.phases.iter().all(|p| p.fallback.is_none()));
    let run = run_info(&out);
    assert!(
        run["authors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["author"] == format!("bedrock {BEDROCK_USED}"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_provider_never_costs_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fake = FakeBedrock::start().await;
    // More than every attempt of both phases can use (the provider re-issues a failed stream).
    for _ in 0..20 {
        fake.push(Reply::unavailable());
    }
    let out = tmp.path().join("report");
    let mut o = options(&data, &out);
    let no_retries = BedrockOptions {
        retry: Some(llm::bedrock::RetrySettings {
            mode: llm::bedrock::RetryMode::Standard,
            max_attempts: Some(1),
        }),
        ..BedrockOptions::default()
    };
    o.model = Some(bedrock_with(&fake, no_retries).await);
    let outcome = workflow::run(o, &Silent).await.unwrap();
    for p in &outcome.phases[1..3] {
        let why = p.fallback.as_deref().expect("fell back");
        assert!(why.contains("service unavailable"), "{why}");
    }
    assert!(outcome.files.index_html.is_file() && outcome.files.plan_json.is_some());
    let html = std::fs::read_to_string(&outcome.files.index_html).unwrap();
    assert!(
        html.contains("written by the rule-based coach because"),
        "the report says so"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_times_out_never_costs_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fake = FakeBedrock::start().await;
    for _ in 0..4 {
        fake.push(Reply::Silent);
    }
    let out = tmp.path().join("report");
    let mut o = options(&data, &out);
    let impatient = BedrockOptions {
        operation_timeout: Some(std::time::Duration::from_millis(300)),
        retry: Some(llm::bedrock::RetrySettings {
            mode: llm::bedrock::RetryMode::Standard,
            max_attempts: Some(1),
        }),
        ..BedrockOptions::default()
    };
    o.model = Some(bedrock_with(&fake, impatient).await);
    let outcome = workflow::run(o, &Silent).await.unwrap();
    for p in &outcome.phases[1..3] {
        let why = p.fallback.as_deref().expect("fell back");
        assert!(why.contains("timed out"), "{why}");
    }
    let run = run_info(&out);
    assert_eq!(run["authors"][0]["author"], coach::offline::AUTHOR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slips_in_the_analysis_are_fixed_by_code_without_a_repair_call() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (bundle, overview) = valid_answers(&data, &tmp.path().join("offline")).await;
    let fake = FakeBedrock::start().await;
    let mut slipped: Value = serde_json::from_str(&narrative_json(&bundle, "SLIPPED")).unwrap();
    slipped["key_trends"][0]["title"] = json!(
        "Threshold work has been missing for weeks while the endurance volume kept growing steadily"
    );
    script_answers(&fake, &slipped.to_string(), &overview);
    let out = tmp.path().join("report");
    let mut o = options(&data, &out);
    o.model = Some(bedrock(&fake).await);
    let outcome = workflow::run(o, &Silent).await.unwrap();
    assert_eq!(fake.requests().len(), 2, "no repair call");
    assert!(outcome.phases.iter().all(|p| p.fallback.is_none()));
    let narrative: Narrative = read(&checkpoint(&out, "2-analysis"));
    let title = &narrative.key_trends[0].title;
    assert!(
        title.chars().count() <= 80 && title.ends_with('…'),
        "{title}"
    );
    let run = run_info(&out);
    let fixes = run["authors"][0]["fixes"].to_string();
    assert!(fixes.contains("key_trends[0].title cut from"), "{fixes}");
    assert!(run["notes"].to_string().contains("Fixed by code"), "{run}");
}

/// Counts the warnings a run gives.
#[derive(Default)]
struct Warnings(Mutex<Vec<String>>);

impl Observer for Warnings {
    fn warning(&self, text: &str) {
        self.0.lock().unwrap().push(text.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phases_2_and_3_run_at_the_same_time_and_merge_in_phase_order() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (bundle, overview) = valid_answers(&data, &tmp.path().join("offline")).await;
    let script = |fake: &FakeBedrock| {
        // The narrative comes slowly (as a real model's would), the overview at once.
        let slow = llm::testing::Pace {
            first_token: std::time::Duration::from_millis(400),
            tokens_per_second: 4000.0,
        };
        fake.push_for(
            ANALYSIS,
            Reply::Model(
                ModelReply::text(&narrative_json(&bundle, "CONCURRENT"))
                    .with_usage(1500, 420, None, None)
                    .with_pace(slow),
            ),
        );
        fake.push_for(
            PLAN,
            Reply::Model(
                ModelReply::tool_calls(&[("tool-1", PLAN, &overview.to_string())])
                    .with_usage(2100, 1700, None, None),
            ),
        );
    };
    let fake = FakeBedrock::start().await;
    script(&fake);
    let out = tmp.path().join("concurrent");
    let seen = Recorder::default();
    let mut o = options(&data, &out);
    o.model = Some(bedrock(&fake).await);
    let outcome = workflow::run(o, &seen).await.unwrap();
    let events = seen.take();
    let at = |e: &str| events.iter().position(|x| x == e).expect(e);
    assert!(
        at("start 3 training plan") < at("done performance analysis"),
        "phase 3 starts before phase 2 ends: {events:?}"
    );
    // Merged in phase order whichever ended first.
    assert_eq!(phase_names(&outcome), PHASES);
    let calls: Vec<(u32, u64)> = outcome.phases[1..3]
        .iter()
        .map(|p| (p.cost.model_calls, p.cost.output_tokens))
        .collect();
    assert_eq!(calls, [(1, 420), (1, 1700)]);
    assert!(outcome.wall_s > 0.0);
    // The planner got the figures, not the narrative it did not wait for.
    let requests = fake.requests();
    let plan_request = requests
        .iter()
        .find(|r| r.body.to_string().contains(PLAN))
        .expect("a plan request")
        .body["messages"][0]
        .to_string();
    assert!(
        plan_request.contains("The analysis in figures")
            && plan_request.contains("h/week")
            && !plan_request.contains("CONCURRENT"),
        "{plan_request}"
    );

    // The same answers one phase after the other give the same report.
    let fake = FakeBedrock::start().await;
    script(&fake);
    let seq_out = tmp.path().join("sequential");
    let mut o = options(&data, &seq_out);
    o.model = Some(bedrock(&fake).await);
    o.sequential = true;
    let sequential = workflow::run(o, &seen).await.unwrap();
    let events = seen.take();
    let at = |e: &str| events.iter().position(|x| x == e).expect(e);
    assert!(at("done performance analysis") < at("start 3 training plan"));
    assert_eq!(phase_names(&sequential), PHASES);
    let report = |dir: &Path| {
        let mut v: Value = read(&dir.join("report_data.json"));
        // Only the run's times and date differ.
        v["run"]["phases"] = Value::Null;
        v["run"]["generated_at"] = Value::Null;
        v["generated_at"] = Value::Null;
        v
    };
    assert_eq!(first_difference(&report(&out), &report(&seq_out)), None);
    assert_eq!(
        std::fs::read_to_string(out.join("plan.json")).unwrap(),
        std::fs::read_to_string(seq_out.join("plan.json")).unwrap()
    );
    let authors = run_info(&out)["authors"].to_string();
    assert!(
        authors.find("performance analysis") < authors.find("plan overview"),
        "{authors}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_failure_in_phase_2_keeps_the_plan_phase_3_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (bundle, overview) = valid_answers(&data, &tmp.path().join("offline")).await;
    let fake = FakeBedrock::start().await;
    script_answers(&fake, "not JSON", &overview);
    for _ in 0..2 {
        fake.push_for(ANALYSIS, Reply::Model(ModelReply::text("not JSON")));
    }
    let out = tmp.path().join("report");
    strict_failure(&data, &out, &fake, &Silent, 2).await;
    assert_eq!(fake.requests().len(), 4);
    // Paid for, so kept: --resume asks for the analysis only.
    assert!(checkpoint(&out, "3-plan").is_file() && !checkpoint(&out, "2-analysis").exists());
    fake.push_for(
        ANALYSIS,
        Reply::Model(ModelReply::text(&narrative_json(&bundle, "RESUMED"))),
    );
    let mut o = options(&data, &out);
    o.model = Some(bedrock(&fake).await);
    o.resume = true;
    o.strict = true;
    let outcome = workflow::run(o, &Silent).await.unwrap();
    assert_eq!(fake.requests().len(), 5);
    assert_eq!(resumed(&outcome), [true, false, true, false]);
    let authors = run_info(&out)["authors"].to_string();
    assert_eq!(
        authors.matches(&format!("bedrock {BEDROCK_USED}")).count(),
        2,
        "{authors}"
    );
}

/// The path of the first value where `a` and `b` differ, with both values.
fn first_difference(a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (va, vb) = (&x.get(k), &y.get(k));
                match (va, vb) {
                    (Some(va), Some(vb)) => {
                        if let Some(d) = first_difference(va, vb) {
                            return Some(format!("{k}.{d}"));
                        }
                    }
                    _ => return Some(format!("{k}: {va:?} vs {vb:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb).map(|d| format!("{i}.{d}"))),
        _ => (a != b).then(|| format!(": {a} vs {b}")),
    }
}

/// Tokens of a scripted answer: about four characters a token, as for English prose and JSON.
fn tokens_of(text: &str) -> u64 {
    text.len().div_ceil(4) as u64
}

/// The phase-overlap benchmark (ignored; `bench/phase_overlap.sh` runs it): the same report
/// against a Bedrock fake streaming at [`llm::testing::Pace::REALISTIC`] (0.8 s to the first
/// token, 60 output tokens a second), `BENCH_RUNS` times (default 5) with phases 2 and 3 one
/// after the other and at the same time. Prints each run and the medians; no timer is asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: about a minute a run; bench/phase_overlap.sh"]
async fn bench_phase_overlap() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (bundle, overview) = valid_answers(&data, &tmp.path().join("offline")).await;
    let narrative = narrative_json(&bundle, "BENCH");
    let overview = overview.to_string();
    let pace = llm::testing::Pace::REALISTIC;
    // A line of its own: libtest has just printed the test's name without a newline.
    println!();
    println!(
        "scripted answers: narrative {} output tokens, plan overview {} output tokens; pace {:.1} s to the first token, {} tokens/s",
        tokens_of(&narrative),
        tokens_of(&overview),
        pace.first_token.as_secs_f64(),
        pace.tokens_per_second
    );
    println!("run  mode        wall s  phase 2 s  phase 3 s  wall / slower phase");
    let mut walls = [Vec::new(), Vec::new()];
    let mut ratios = Vec::new();
    for run in 1..=runs {
        for (mode, sequential) in [(0, true), (1, false)] {
            let fake = FakeBedrock::start().await;
            // Models stream a few tokens per event, not the fake's default 4 characters.
            let mut answers = [
                (
                    ANALYSIS,
                    ModelReply::text(&narrative).with_usage(
                        1500,
                        tokens_of(&narrative),
                        None,
                        None,
                    ),
                ),
                (
                    PLAN,
                    ModelReply::tool_calls(&[("tool-1", PLAN, &overview)]).with_usage(
                        2000,
                        tokens_of(&overview),
                        None,
                        None,
                    ),
                ),
            ];
            for (mark, answer) in &mut answers {
                answer.chunk = 24;
                fake.push_for(mark, Reply::Model(answer.clone().with_pace(pace)));
            }
            let mut o = options(&data, &tmp.path().join("report"));
            o.import = None;
            o.model = Some(bedrock(&fake).await);
            o.sequential = sequential;
            let outcome = workflow::run(o, &Silent).await.unwrap();
            assert!(outcome.phases.iter().all(|p| p.fallback.is_none()));
            let (p2, p3) = (
                outcome.phases[1].cost.seconds,
                outcome.phases[2].cost.seconds,
            );
            let ratio = outcome.wall_s / p2.max(p3);
            let name = if sequential {
                "sequential"
            } else {
                "concurrent"
            };
            println!(
                "{run:>3}  {name:<10} {:>7.2} {p2:>10.2} {p3:>10.2} {ratio:>20.3}",
                outcome.wall_s
            );
            walls[mode].push(outcome.wall_s);
            if !sequential {
                ratios.push(ratio);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (seq, conc) = (median(&mut walls[0]), median(&mut walls[1]));
    println!(
        "median of {runs}: sequential {seq:.2} s, concurrent {conc:.2} s ({:.0} % less); concurrent wall / slower phase {:.3}",
        (1.0 - conc / seq) * 100.0,
        median(&mut ratios)
    );
}
