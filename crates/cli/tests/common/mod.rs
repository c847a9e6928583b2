//! Helpers shared by the process tests (`cli.rs`, `chat.rs`, `generate_providers.rs`): an
//! isolated environment for the binary, the Bedrock fake's settings, a small Strava export and
//! the way to run the binary while an in-process fake keeps serving. Each test binary uses only
//! part of this module, hence the `dead_code` allowances.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use agent::plan_llm::OverviewArgs;
use coach::planner::{PlannerInput, offline_overview};
use coach::rules::PlanConstraints;
use jiff::civil::{Weekday, date};
use llm::testing::fake_bedrock::{TEST_ACCESS_KEY, TEST_SECRET_KEY};
use serde_json::{Value, json};

/// cycling-ai's own variables, through which the developer's settings could reach a test run.
pub const APP_VARS: &[&str] = &[
    "CYCLING_AI_DATA_DIR",
    "CYCLING_AI_CONFIG",
    "CYCLING_AI_PROVIDER",
];

/// Every variable through which the developer's own settings, keys or endpoints could reach a
/// test run: [`APP_VARS`] and every variable a registered provider reads (credentials, endpoint,
/// region, profile …); `isolated` removes them all.
pub fn provider_vars() -> impl Iterator<Item = &'static str> {
    let providers = llm::registry::PROVIDERS.iter().flat_map(|p| {
        p.credential_vars
            .iter()
            .chain(p.all_settings().flat_map(|s| s.env))
            .copied()
    });
    APP_VARS.iter().copied().chain(providers)
}

/// The binary isolated from the developer's own settings: working directory `tmp`, its own HOME
/// and config dir under `tmp/home`, AWS files that do not exist, no instance metadata, none of
/// [`provider_vars`], no colour, and the data directory `tmp/data`.
pub fn isolated(tmp: &Path) -> Command {
    let home = tmp.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cycling-ai"));
    cmd.current_dir(tmp)
        .env("NO_COLOR", "1")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("AWS_CONFIG_FILE", home.join("aws-config-absent"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("aws-credentials-absent"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .arg("--data-dir")
        .arg(tmp.join("data"));
    for var in provider_vars() {
        cmd.env_remove(var);
    }
    cmd
}

/// The environment that points the real AWS SDK at the Bedrock fake listening on `endpoint`,
/// with the fake's test credentials (for `Command::envs`).
pub fn bedrock_fake_env(endpoint: &str) -> [(&'static str, String); 4] {
    [
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY.to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ]
}

/// `providers check` of `model` on the Bedrock fake listening on `endpoint`, JSON output.
pub fn bedrock_check(tmp: &Path, endpoint: &str, model: &str) -> Command {
    let mut cmd = isolated(tmp);
    cmd.envs(bedrock_fake_env(endpoint)).args([
        "--json",
        "providers",
        "check",
        "--provider",
        "bedrock",
        "--model",
        model,
    ]);
    cmd
}

/// Run the binary off the async runtime's threads so the in-process fakes keep serving.
pub async fn run_blocking(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// Fail the test, showing stderr, unless the command succeeded.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The real-device fixtures next to the checkout, or `None` (with a message) when absent.
pub fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: fixtures absent at {}", dir.display());
        None
    }
}

/// How many `.fit` files `dir` holds (not recursive).
pub fn fit_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "fit")
        })
        .count()
}

/// The JSON a command that must have succeeded printed on stdout.
pub fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out.stdout)
}

/// `out` parsed as JSON, or a panic that shows it.
pub fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(out)
        )
    })
}

/// A Strava CSV of 40 rides in September 2026 (summaries only, fast to import), activity `i`
/// named `name(i)`, and a profile: FTP 250 W, 7 h a week on Tue/Thu/Sat/Sun, an autumn century.
pub fn strava_athlete(dir: &Path, name: impl Fn(u32) -> String) -> (PathBuf, PathBuf) {
    let csv = dir.join("activities.csv");
    let mut text = String::from(
        "Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time,Moving Time,Distance,Distance\n",
    );
    for i in 0..40u32 {
        text.push_str(&format!(
            "{},\"Sep {}, 2026, 8:00:00 AM\",\"{}\",Ride,{},{},{},{}\n",
            1000 + i,
            1 + i % 28,
            name(i),
            3600 + i * 60,
            3500 + i * 60,
            30.0 + f64::from(i),
            30_000.0 + 1000.0 * f64::from(i)
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let profile = dir.join("athlete.json");
    std::fs::write(
        &profile,
        r#"{"name": "Test Rider", "ftp_w": 250, "weight_kg": 70, "lthr_bpm": 165,
            "training_availability": {"hours_per_week": 7, "week_days": ["tuesday", "thursday", "saturday", "sunday"]},
            "goals": ["Ride a strong autumn century"]}"#,
    )
    .unwrap();
    (csv, profile)
}

/// A loopback server that reads one request and never answers, so the call it serves stays in
/// flight. Returns its `http://` address and a receiver that fires once the request arrived.
pub async fn silent_server() -> (String, tokio::sync::oneshot::Receiver<()>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (got_request, request_seen) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let _ = got_request.send(());
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
        drop(sock);
    });
    (endpoint, request_seen)
}

/// Presses Ctrl-C on `child` once its request reached the [`silent_server`] (`request_seen`;
/// `what` names the request in the failure message) and returns its output.
pub async fn interrupt_when_requested(
    child: std::process::Child,
    request_seen: tokio::sync::oneshot::Receiver<()>,
    what: &str,
) -> Output {
    tokio::time::timeout(std::time::Duration::from_secs(60), request_seen)
        .await
        .unwrap_or_else(|_| panic!("{what} sent its request"))
        .unwrap();
    // The request is out and the Ctrl-C handler, polled alongside it, is armed; a moment's
    // grace covers the thread that sent the request being ahead of it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

/// A narrative that passes validation, with a marker the test looks for in the report.
pub fn narrative_json(marker: &str) -> String {
    json!({
        "summary": format!("{marker}: steady aerobic base with room to add intensity."),
        "key_trends": [
            {"title": "Volume holds", "description": "Weekly hours are steady across both periods."},
            {"title": "Little intensity", "description": "Almost all riding is easy."},
            {"title": "Fitness rising", "description": "CTL has climbed over the last weeks."}
        ],
        "insights": ["Consistency is the strength.", "Threshold work is missing.", "Recovery looks adequate."],
        "recommendations": {
            "short_term": ["Add one sweet-spot session a week."],
            "long_term": ["Build towards the autumn century with longer weekend rides."],
            "recovery": ["Keep one full rest day a week."]
        }
    })
    .to_string()
}

/// The plan rules of the [`strava_athlete`] profile for a plan of `weeks` weeks.
pub fn plan_constraints(weeks: u32) -> PlanConstraints {
    PlanConstraints {
        weeks,
        available_days: vec![
            Weekday::Tuesday,
            Weekday::Thursday,
            Weekday::Saturday,
            Weekday::Sunday,
        ],
        hours_per_week: 7.0,
        event_date: None,
        // Without an event date the rules do not depend on the start date.
        start_date: date(2026, 9, 28),
    }
}

/// A valid overview of `weeks` weeks for the [`strava_athlete`] profile (the rule-based
/// planner's) with a recognisable focus text in week 1.
pub fn plan_overview(marker: &str, weeks: u32) -> Value {
    overview_for(marker, plan_constraints(weeks))
}

/// The plan rules every `demo` profile has (one rider or a roster's: the same calendar, the
/// event 12 weeks after the season's end) for a plan of `weeks` weeks starting on the Monday
/// `start`.
pub fn demo_plan_constraints(weeks: u32, start: jiff::civil::Date) -> PlanConstraints {
    PlanConstraints {
        weeks,
        available_days: demo::TRAINING_DAYS.to_vec(),
        hours_per_week: demo::HOURS_PER_WEEK,
        event_date: demo::SEASON_END
            .checked_add(jiff::Span::new().weeks(demo::EVENT_WEEKS_AFTER_SEASON))
            .ok(),
        start_date: start,
    }
}

/// A valid overview under `constraints` (the rule-based planner's) with a recognisable focus
/// text in week 1 and in the coaching notes.
pub fn overview_for(marker: &str, constraints: PlanConstraints) -> Value {
    let o = offline_overview(&PlannerInput {
        constraints,
        goal: Some("Ride a strong autumn century".into()),
        ctl: Some(40.0),
        ftp_w: 250.0,
        trains_strength: false,
        start_phase: None,
    });
    let mut v = serde_json::to_value(OverviewArgs::from_overview(&o)).unwrap();
    v["weeks"][0]["focus"] = json!(marker);
    v["coaching_notes"] = json!(format!("{marker} coaching notes"));
    v
}

/// Run `cmd` with `stdin` piped in, off the runtime's threads (the fakes keep serving).
pub async fn run_with_stdin(mut cmd: Command, stdin: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let input = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        // A command that exits without reading its input (chat with no provider configured)
        // closes the pipe first: what it printed is the outcome to check, not the write.
        if let Err(e) = written
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            panic!("writing the command's input: {e}");
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}
