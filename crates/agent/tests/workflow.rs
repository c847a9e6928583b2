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
    fn model_call(&self, _model: &str, s: &CallStats) {
        self.push(format!("call {}", s.calls));
    }
    fn phase_finished(&self, p: &PhaseStats) {
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
    fake.push(Reply::Model(
        ModelReply::text(&narrative_json(&bundle, "BEDROCK-NARRATIVE"))
            .with_usage(1500, 420, None, None),
    ));
    // Phase 3: three answers without the forced tool call: the phase fails after its repairs.
    for _ in 0..3 {
        fake.push(Reply::Model(
            ModelReply::text("I would rather chat.").with_usage(900, 10, None, None),
        ));
    }
    let out = tmp.path().join("report");
    let seen = Recorder::default();
    let mut o = options(&data, &out);
    o.model = Some(bedrock(&fake).await);
    o.strict = true;
    let err = workflow::run(o, &seen).await.unwrap_err();
    assert!(
        matches!(err, WorkflowError::PhaseFailed { n: 3, .. }),
        "{err}"
    );
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
    assert!(events.contains(&"call 1".to_string()) && events.contains(&"call 3".to_string()));
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
        fake.push(Reply::Model(ModelReply::text(&weak.to_string())));
    }
    for _ in 0..3 {
        fake.push(Reply::Model(ModelReply::text("Ride more, rest sometimes.")));
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
    fake.push(Reply::Model(ModelReply::text(&narrative_json(
        &bundle,
        "SECOND-TRY",
    ))));
    fake.push(Reply::Model(ModelReply::tool_calls(&[(
        "tool-1",
        "create_plan_overview",
        &overview.to_string(),
    )])));
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
    fake.push(Reply::Model(ModelReply::text(&slipped.to_string())));
    fake.push(Reply::Model(ModelReply::tool_calls(&[(
        "tool-1",
        "create_plan_overview",
        &overview.to_string(),
    )])));
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
