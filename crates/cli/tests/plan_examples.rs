//! Every command line of the original Bedrock integration plan
//! (`shared/seed/bedrock-integration-plan.md` §3 Phase 2, §4.4, §7.2, §8.1), run as written
//! against the fakes: the plan's invented model ids resolve to the real models with a notice,
//! base ids without on-demand throughput go through the region's inference profile, credentials
//! come from each of the plan's methods, and `--csv` with `--fit-dir` imports the files the CSV
//! names. Plus the plan's cost lever "intelligent prompt routing" (`--routing`, `routing:`) and
//! "did you mean" for unknown ids.
//!
//! The commands run in a directory holding the plan's `profile.json` and `activities.csv`; the
//! examples that name no data find it imported earlier (as an existing user's would be).

use std::path::Path;
use std::process::{Command, Output};

use llm::testing::fake_anthropic::{self, ANTHROPIC_TEST_KEY};
use llm::testing::fake_bedrock::{FAKE_ACCOUNT, TEST_ACCESS_KEY, TEST_SECRET_KEY};
use llm::testing::{FakeBedrock, ModelReply, Reply, SseReply};
use serde_json::Value;

mod common;
use common::{isolated, json_of, run_blocking};

/// The plan's default length when the profile sets none.
const WEEKS: u32 = 12;

/// A directory with the plan's `activities.csv` and `profile.json`, and AWS shared config and
/// credential files holding the plan's profiles (`default`, `production`, `cycling-ai`,
/// `cycling-prod`) with the fake's test keys.
fn plan_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, profile) = common::strava_athlete(tmp.path(), |i| format!("Plan Ride {i}"));
    assert!(csv.ends_with("activities.csv"));
    std::fs::rename(profile, tmp.path().join("profile.json")).unwrap();
    let aws = tmp.path().join("aws");
    std::fs::create_dir_all(&aws).unwrap();
    let profiles = ["default", "production", "cycling-ai", "cycling-prod"];
    let mut creds = String::new();
    let mut config = String::new();
    for p in profiles {
        creds.push_str(&format!(
            "[{p}]\naws_access_key_id = {TEST_ACCESS_KEY}\naws_secret_access_key = {TEST_SECRET_KEY}\n"
        ));
        let section = if p == "default" {
            "default".to_string()
        } else {
            format!("profile {p}")
        };
        config.push_str(&format!("[{section}]\nregion = us-east-1\n"));
    }
    std::fs::write(aws.join("credentials"), creds).unwrap();
    std::fs::write(aws.join("config"), config).unwrap();
    tmp
}

/// The binary in `dir` pointed at the fake (Bedrock runtime and STS) with the AWS files of
/// [`plan_dir`] and no credentials in the environment: each test adds the plan's own.
fn plan_cmd(dir: &Path, fake: &FakeBedrock) -> Command {
    let mut cmd = isolated(dir);
    cmd.env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint())
        .env("AWS_ENDPOINT_URL_STS", fake.endpoint())
        .env("AWS_CONFIG_FILE", dir.join("aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws/credentials"));
    cmd
}

/// A command line of the plan, as written (`cycling-ai` left out), with the `VAR=value`
/// assignments the plan exports before it.
fn plan_line(cmd: &mut Command, env: &str, line: &str) {
    for assignment in env.split_whitespace() {
        let (var, value) = assignment.split_once('=').unwrap();
        cmd.env(var, value);
    }
    cmd.args(line.split_whitespace());
}

/// The plan's "Method 2": keys and region in the environment.
fn env_keys(cmd: &mut Command, region: &str) {
    cmd.env("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
        .env("AWS_REGION", region);
}

/// A compliant model: the narrative, then the plan overview through the forced tool call.
fn script_report(fake: &FakeBedrock, marker: &str) {
    // Phases 2 and 3 ask at the same time: each reply goes to the request it answers.
    fake.push_for(
        agent::analysis_llm::REQUEST_MARK,
        Reply::Model(
            ModelReply::text(&common::narrative_json(marker)).with_usage(1500, 420, None, None),
        ),
    );
    fake.push_for(
        agent::plan_llm::TOOL_NAME,
        Reply::Model(
            ModelReply::tool_calls(&[(
                "tool-1",
                "create_plan_overview",
                &common::plan_overview(marker, WEEKS).to_string(),
            )])
            .with_usage(2100, 1700, None, None),
        ),
    );
}

/// Import the plan's CSV first, for the examples that name no data.
fn import_first(dir: &Path) {
    let out = isolated(dir)
        .args([
            "import",
            "--csv",
            "activities.csv",
            "--profile",
            "profile.json",
        ])
        .output()
        .unwrap();
    common::assert_success(&out);
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A finished report: exit 0, the model ids the fake received, and the run notes of
/// `report_data.json`.
fn report(out: &Output, dir: &Path) -> Vec<String> {
    assert!(out.status.success(), "{}", stderr(out));
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("reports/report_data.json")).unwrap(),
    )
    .unwrap();
    data["run"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn models_sent(fake: &FakeBedrock) -> Vec<String> {
    fake.requests().into_iter().map(|r| r.model_id).collect()
}

const SONNET_45_US: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/// §3 Phase 2 and §8.1 step 3: `generate --provider bedrock --model anthropic.claude-sonnet-4-5-v1
/// --profile profile.json` with the default credential chain (the plan's "Method 1": the
/// shared credentials file, no variables) and the region in the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phase_2_generate_with_the_plans_sonnet_id() {
    let fake = FakeBedrock::start().await;
    script_report(&fake, "PLAN-SONNET");
    let tmp = plan_dir();
    import_first(tmp.path());
    let mut cmd = plan_cmd(tmp.path(), &fake);
    plan_line(
        &mut cmd,
        "AWS_REGION=us-east-1",
        "generate --provider bedrock --model anthropic.claude-sonnet-4-5-v1 --profile profile.json",
    );
    let out = run_blocking(cmd).await;
    let notes = report(&out, tmp.path());
    assert_eq!(fake.rejections(), Vec::<String>::new());
    assert_eq!(models_sent(&fake), [SONNET_45_US, SONNET_45_US]);
    let err = stderr(&out);
    assert!(
        err.contains("note: `anthropic.claude-sonnet-4-5-v1` is not a real bedrock model id; using Claude Sonnet 4.5 `anthropic.claude-sonnet-4-5-20250929-v1:0`"),
        "{err}"
    );
    assert!(
        err.contains(&format!("inference profile `{SONNET_45_US}`")),
        "{err}"
    );
    assert!(
        notes[0].contains("is not a real bedrock model id") && notes[1].contains(SONNET_45_US),
        "the run records the resolution: {notes:?}"
    );
}

/// §3 Phase 2 and §4.4 Example 2: `chat` with `--aws-profile` and `--aws-region us-west-2` on
/// Claude 3.5 Sonnet v2, which has no on-demand throughput: sent through the `us.` profile,
/// signed for us-west-2 with the profile's keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_2_chat_with_an_aws_profile_and_region() {
    let fake = FakeBedrock::start().await;
    fake.push(Reply::Model(ModelReply::text("Ride easy tomorrow.")));
    fake.push(Reply::Model(ModelReply::text("Then two sweet-spot days.")));
    let tmp = plan_dir();
    import_first(tmp.path());
    for (profile_name, with_athlete) in [("production", false), ("cycling-prod", true)] {
        let mut cmd = plan_cmd(tmp.path(), &fake);
        let athlete = if with_athlete {
            "--profile profile.json"
        } else {
            ""
        };
        plan_line(
            &mut cmd,
            "",
            &format!(
                "chat --provider bedrock --model anthropic.claude-3-5-sonnet-20241022-v2:0 --aws-profile {profile_name} --aws-region us-west-2 {athlete}"
            ),
        );
        let out = common::run_with_stdin(cmd, "What should I ride tomorrow?\n/quit\n").await;
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out)
                .contains("inference profile `us.anthropic.claude-3-5-sonnet-20241022-v2:0`"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(fake.rejections(), Vec::<String>::new());
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.model_id, "us.anthropic.claude-3-5-sonnet-20241022-v2:0");
        let auth = r.header("authorization").unwrap();
        assert!(
            auth.contains(&format!("Credential={TEST_ACCESS_KEY}/"))
                && auth.contains("/us-west-2/bedrock/"),
            "{auth}"
        );
    }
}

/// §3 Phase 2 ("Using environment variables", the plan's "Method 3") and §4.4 Example 3: Nova
/// Pro runs on demand, so it is sent as written, without a notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nova_pro_with_an_aws_profile_from_the_environment_and_with_a_csv() {
    let fake = FakeBedrock::start().await;
    script_report(&fake, "PLAN-NOVA-ENV");
    script_report(&fake, "PLAN-NOVA-CSV");
    let tmp = plan_dir();
    import_first(tmp.path());
    let mut cmd = plan_cmd(tmp.path(), &fake);
    plan_line(
        &mut cmd,
        "AWS_REGION=us-east-1 AWS_PROFILE=cycling-ai",
        "generate --provider bedrock --model amazon.nova-pro-v1:0",
    );
    let out = run_blocking(cmd).await;
    report(&out, tmp.path());
    assert!(!stderr(&out).contains("note:"), "{}", stderr(&out));

    let mut cmd = plan_cmd(tmp.path(), &fake);
    env_keys(&mut cmd, "us-east-1");
    plan_line(
        &mut cmd,
        "",
        "generate --provider bedrock --model amazon.nova-pro-v1:0 --csv activities.csv --profile profile.json",
    );
    let out = run_blocking(cmd).await;
    report(&out, tmp.path());
    assert_eq!(fake.rejections(), Vec::<String>::new());
    assert_eq!(models_sent(&fake), ["amazon.nova-pro-v1:0"; 4]);
}

/// §4.4 Example 1: `--csv activities.csv --fit-dir ./fit/` — the CSV lists the activities, the
/// folder holds their files (without the export's `activities/` prefix the CSV names).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_1_csv_with_its_fit_folder() {
    let fake = FakeBedrock::start().await;
    script_report(&fake, "PLAN-CSV-FIT");
    let tmp = plan_dir();
    let demo = tmp.path().join("demo");
    common::assert_success(
        &isolated(tmp.path())
            .args([
                "demo",
                "--no-import",
                "--rides",
                "12",
                "--seed",
                "3",
                "--out",
            ])
            .arg(&demo)
            .output()
            .unwrap(),
    );
    let export = demo.join("export");
    std::fs::copy(
        export.join("activities.csv"),
        tmp.path().join("activities.csv"),
    )
    .unwrap();
    let fit = tmp.path().join("fit");
    std::fs::create_dir_all(&fit).unwrap();
    let mut files = 0;
    for e in std::fs::read_dir(export.join("activities")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, fit.join(p.file_name().unwrap())).unwrap();
        files += 1;
    }
    assert!(files >= 12, "{files}");
    let mut cmd = plan_cmd(tmp.path(), &fake);
    env_keys(&mut cmd, "us-east-1");
    plan_line(
        &mut cmd,
        "",
        "generate --provider bedrock --model anthropic.claude-sonnet-4-5-v1 --csv activities.csv --profile profile.json --fit-dir ./fit/",
    );
    let out = run_blocking(cmd).await;
    report(&out, tmp.path());
    assert_eq!(models_sent(&fake), [SONNET_45_US, SONNET_45_US]);
    // Every file the CSV names was decoded (not a summary-only row).
    let store = store::Store::open(&tmp.path().join("data")).unwrap();
    let decoded: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM activities WHERE source_kind = 'fit'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(decoded, files as i64);

    // `import` takes the same pair: into a fresh directory, every file decoded, none summary only.
    let fresh = tempfile::tempdir().unwrap();
    let out = isolated(fresh.path())
        .args(["--json", "import", "--csv"])
        .arg(tmp.path().join("activities.csv"))
        .arg("--fit-dir")
        .arg(&fit)
        .arg("--profile")
        .arg(tmp.path().join("profile.json"))
        .output()
        .unwrap();
    common::assert_success(&out);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["decoded_files"], files, "{j}");
    assert_eq!(j["summary_only"], 0, "{j}");
    // An export folder is complete in itself: pairing it with a CSV is refused by clap.
    let out = isolated(tmp.path())
        .args([
            "import",
            "--export",
            "demo/export",
            "--csv",
            "activities.csv",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
}

/// §4.4 Example 4 (`AWS_REGION=eu-west-1 AWS_PROFILE=default`, Llama 3.3 70B): Llama 3.3 has no
/// on-demand throughput and only a `us.` profile, so there is nothing the plan's region can
/// call. The notice says so before the call, the service's refusal is reported, and the
/// rule-based coach still writes the report (exit 0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_4_llama_in_eu_west_1_says_why_it_cannot_run() {
    let fake = FakeBedrock::start().await;
    let tmp = plan_dir();
    import_first(tmp.path());
    let mut cmd = plan_cmd(tmp.path(), &fake);
    plan_line(
        &mut cmd,
        "AWS_REGION=eu-west-1 AWS_PROFILE=default",
        "generate --provider bedrock --model meta.llama3-3-70b-instruct-v1:0",
    );
    let out = run_blocking(cmd).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("no inference profile for eu-west-1 (its profiles: us)"),
        "{err}"
    );
    assert!(err.contains("on-demand throughput"), "{err}");
    assert!(
        fake.rejections()
            .iter()
            .all(|r| r.contains("with on-demand throughput isn\u{2019}t supported")),
        "{:?}",
        fake.rejections()
    );
    assert!(!fake.rejections().is_empty());
}

/// §8.1 "Current setup": the direct Anthropic API with the plan's (retired) Claude 3.5 Sonnet
/// id: its successor is sent, with a notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_current_setup_on_the_anthropic_api() {
    let fake = fake_anthropic::start().await;
    fake.push_for(
        agent::analysis_llm::REQUEST_MARK,
        SseReply::Model(
            ModelReply::text(&common::narrative_json("PLAN-ANTHROPIC"))
                .with_usage(1500, 420, None, None),
        ),
    );
    fake.push_for(
        agent::plan_llm::TOOL_NAME,
        SseReply::Model(
            ModelReply::tool_calls(&[(
                "toolu_1",
                "create_plan_overview",
                &common::plan_overview("PLAN-ANTHROPIC", WEEKS).to_string(),
            )])
            .with_usage(2100, 1700, None, None),
        ),
    );
    let tmp = plan_dir();
    import_first(tmp.path());
    let mut cmd = isolated(tmp.path());
    cmd.env("ANTHROPIC_BASE_URL", fake.endpoint());
    plan_line(
        &mut cmd,
        &format!("ANTHROPIC_API_KEY={ANTHROPIC_TEST_KEY}"),
        "generate --provider anthropic --model claude-3-5-sonnet-20241022",
    );
    let out = run_blocking(cmd).await;
    report(&out, tmp.path());
    assert!(
        stderr(&out).contains("`claude-3-5-sonnet-20241022` is not a real anthropic model id; using Claude Sonnet 4.5 `claude-sonnet-4-5-20250929`"),
        "{}",
        stderr(&out)
    );
    let models: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.body["model"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(models, ["claude-sonnet-4-5-20250929"; 2]);
}

/// `--routing nova`: the region's default Nova router, its account from STS; the cost is the
/// routed model's. `routing: claude` with `aws_account_id` in the config file: no STS call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_uses_the_default_router_of_the_region_and_account() {
    let fake = FakeBedrock::start().await;
    script_report(&fake, "PLAN-ROUTED");
    let tmp = plan_dir();
    import_first(tmp.path());
    let mut cmd = plan_cmd(tmp.path(), &fake);
    env_keys(&mut cmd, "eu-west-1");
    cmd.args([
        "--json",
        "generate",
        "--provider",
        "bedrock",
        "--routing",
        "nova",
    ]);
    let out = run_blocking(cmd).await;
    let notes = report(&out, tmp.path());
    let router =
        format!("arn:aws:bedrock:eu-west-1:{FAKE_ACCOUNT}:default-prompt-router/amazon.nova:1");
    assert_eq!(fake.rejections(), Vec::<String>::new());
    assert_eq!(fake.sts_calls(), 1);
    assert_eq!(models_sent(&fake), [router.clone(), router.clone()]);
    assert!(
        notes[0].contains(&router) && notes[0].contains("STS"),
        "{notes:?}"
    );
    // Priced as the model the router invoked (Nova Lite through the eu. profile).
    let j = json_of(&out.stdout);
    let invoked = format!(
        "arn:aws:bedrock:eu-west-1:{FAKE_ACCOUNT}:inference-profile/eu.amazon.nova-lite-v1:0"
    );
    assert_eq!(j["model"], invoked.as_str());
    let cost: f64 = j["phases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["cost_usd"].as_f64())
        .sum();
    // Nova Lite: 0.06 / 0.24 per million tokens.
    let expected = (1500.0 + 2100.0) * 0.06 / 1e6 + (420.0 + 1700.0) * 0.24 / 1e6;
    assert!((cost - expected).abs() < 1e-9, "{cost} vs {expected}: {j}");

    // From the config file, with the account given: no STS call.
    script_report(&fake, "PLAN-ROUTED-FILE");
    std::fs::write(
        tmp.path().join(".cycling-ai.yaml"),
        "providers:\n  bedrock:\n    routing: claude\n    aws_account_id: \"123456789012\"\n",
    )
    .unwrap();
    let mut cmd = plan_cmd(tmp.path(), &fake);
    env_keys(&mut cmd, "us-east-1");
    cmd.args(["generate", "--provider", "bedrock"]);
    let out = run_blocking(cmd).await;
    report(&out, tmp.path());
    assert_eq!(fake.sts_calls(), 1);
    assert_eq!(
        models_sent(&fake)[2],
        format!(
            "arn:aws:bedrock:us-east-1:{FAKE_ACCOUNT}:default-prompt-router/anthropic.claude:1"
        )
    );
    // A router cannot be combined with --model, nor used with another provider.
    let out = isolated(tmp.path())
        .args([
            "generate",
            "--provider",
            "bedrock",
            "--routing",
            "nova",
            "--model",
            "x",
        ])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
}

/// An unknown id: the service's refusal plus the closest catalog ids, in `providers check` and
/// in `chat`, for Bedrock and for the Anthropic API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_get_did_you_mean() {
    let fake = FakeBedrock::start().await;
    let tmp = plan_dir();
    let out = run_blocking(common::bedrock_check(
        tmp.path(),
        &fake.endpoint(),
        "anthropic.claude-sonet-4-5-20250929-v1:0",
    ))
    .await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("did you mean `anthropic.claude-sonnet-4-5-20250929-v1:0`"),
        "{err}"
    );
    let v = json_of(&out.stdout);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("The provided model identifier is invalid. — did you mean"),
        "{v}"
    );

    let anthropic = fake_anthropic::start().await;
    import_first(tmp.path());
    let mut cmd = isolated(tmp.path());
    cmd.env("ANTHROPIC_API_KEY", ANTHROPIC_TEST_KEY)
        .env("ANTHROPIC_BASE_URL", anthropic.endpoint())
        .args([
            "chat",
            "--provider",
            "anthropic",
            "--model",
            "claude-haiku-4-5-2025",
        ]);
    let out = common::run_with_stdin(cmd, "Hello\n/quit\n").await;
    let text = format!("{}{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
    assert!(
        text.contains("did you mean `claude-haiku-4-5-20251001`"),
        "{text}"
    );

    // Ollama: the server's own tags count (a model pulled locally, unknown to the catalog).
    let ollama = llm::testing::fake_ollama::start().await;
    ollama.allow_model("qwen2.5:7b");
    let mut cmd = isolated(tmp.path());
    cmd.env("OLLAMA_HOST", ollama.endpoint()).args([
        "providers",
        "check",
        "--provider",
        "ollama",
        "--model",
        "qwen2.5:7b-instruct",
    ]);
    let out = run_blocking(cmd).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("did you mean `qwen2.5:7b`"),
        "{}",
        stderr(&out)
    );
    assert!(ollama.requests().iter().any(|r| r.path == "/api/tags"));
}
