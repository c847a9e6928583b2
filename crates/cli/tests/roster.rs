//! Several athletes in one store, through the binary: `athlete add|list|show|remove|use`,
//! `--athlete` resolution, `import --roster` (one athlete's bad file does not stop the others),
//! and `generate --all` against the Bedrock fake (real AWS SDK) with throttling injected: every
//! athlete's report is written by the model, the fake never sees more calls in flight than
//! `--concurrency`, and `--resume` makes no call for what is finished.

use std::path::Path;
use std::process::{Command, Output};

use llm::testing::{FakeBedrock, ModelReply, Pace, Reply};
use serde_json::{Value, json};

mod common;
use common::{isolated, json_of, ok_json, run_blocking, run_with_stdin};

const PLAN_WEEKS: u32 = 8;
const ANALYSIS: &str = agent::analysis_llm::REQUEST_MARK;
const PLAN: &str = agent::plan_llm::TOOL_NAME;

fn run(tmp: &Path, args: &[&str]) -> Output {
    let mut cmd = isolated(tmp);
    cmd.args(args);
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A roster of `names`, each with the shared small Strava CSV and profile, written to
/// `tmp/roster.toml` with paths relative to it.
fn roster(tmp: &Path, names: &[&str]) -> std::path::PathBuf {
    let rides = tmp.join("rides");
    std::fs::create_dir_all(&rides).unwrap();
    common::strava_athlete(&rides, |i| format!("Ride {i}"));
    let mut text = String::new();
    for n in names {
        text.push_str(&format!(
            "[[athlete]]\nname = \"{n}\"\nprofile = \"rides/athlete.json\"\ncsv = \"rides/activities.csv\"\n\n"
        ));
    }
    let path = tmp.join("roster.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn names_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn athletes_are_added_chosen_shown_and_removed_with_everything_they_own() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let roster = roster(t, &["Ann", "Bob"]);
    ok_json(&run(
        t,
        &["--json", "import", "--roster", roster.to_str().unwrap()],
    ));
    let (_, profile) = common::strava_athlete(&t.join("rides"), |i| format!("Ride {i}"));
    let added = ok_json(&run(
        t,
        &[
            "--json",
            "athlete",
            "add",
            "Cy",
            "--profile",
            profile.to_str().unwrap(),
        ],
    ));
    assert_eq!(added["name"], "Cy");
    assert_eq!(added["ftp_w"], 250.0);
    let again = run(t, &["athlete", "add", "Cy"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("an athlete named `Cy` already exists"));
    let bad = run(t, &["athlete", "add", "a/b"]);
    assert!(
        stderr(&bad).contains("athlete name \"a/b\""),
        "{}",
        stderr(&bad)
    );

    let list = ok_json(&run(t, &["--json", "athlete", "list"]));
    assert_eq!(names_of(&list), ["Ann", "Bob", "Cy"]);
    assert_eq!(list[0]["activities"], 40);
    assert_eq!(list[2]["activities"], 0);

    // Several athletes, none in use: a command that needs one says so and lists them.
    let which = run(t, &["activities"]);
    assert!(!which.status.success());
    let e = stderr(&which);
    assert!(
        e.contains("3 athletes (Ann, Bob, Cy) and none is in use") && e.contains("--athlete"),
        "{e}"
    );
    let unknown = run(t, &["--athlete", "Zed", "activities"]);
    assert!(
        stderr(&unknown).contains("no athlete named `Zed`"),
        "{}",
        stderr(&unknown)
    );
    // --athlete picks one; `athlete use` makes it the default.
    let bob = ok_json(&run(
        t,
        &["--json", "--athlete", "Bob", "activities", "--limit", "3"],
    ));
    assert_eq!(bob.as_array().unwrap().len(), 3);
    ok_json(&run(t, &["--json", "athlete", "use", "Cy"]));
    let cy = ok_json(&run(t, &["--json", "activities"]));
    assert_eq!(cy.as_array().unwrap().len(), 0, "Cy has no rides: {cy}");
    let shown = ok_json(&run(t, &["--json", "athlete", "show"]));
    assert_eq!(
        (shown["name"].as_str(), shown["in_use"].as_bool()),
        (Some("Cy"), Some(true))
    );
    assert_eq!(shown["profile"]["ftp_w"], 250.0);

    // Removing asks first: anything but "y" keeps the athlete.
    let mut cmd = isolated(t);
    cmd.args(["athlete", "remove", "Ann"]);
    let kept = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(run_with_stdin(cmd, "n\n"));
    assert!(!kept.status.success());
    assert!(
        stderr(&kept).contains("Remove athlete Ann with 40 activities"),
        "{}",
        stderr(&kept)
    );
    assert_eq!(
        names_of(&ok_json(&run(t, &["--json", "athlete", "list"]))).len(),
        3
    );
    let removed = ok_json(&run(t, &["--json", "athlete", "remove", "Ann", "--yes"]));
    assert_eq!(removed["deleted"]["activities"], 40);
    assert_eq!(removed["deleted"]["import_runs"], 1);
    assert_eq!(
        names_of(&ok_json(&run(t, &["--json", "athlete", "list"]))),
        ["Bob", "Cy"]
    );
    // Bob's rides are untouched.
    let bob = ok_json(&run(t, &["--json", "--athlete", "Bob", "activities"]));
    assert_eq!(bob.as_array().unwrap().len(), 40);
}

#[test]
fn one_athletes_bad_files_do_not_stop_the_roster() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    roster(t, &["Ann"]);
    std::fs::write(t.join("broken.json"), "{\"ftp_w\": ").unwrap();
    let text = std::fs::read_to_string(t.join("roster.toml")).unwrap()
        + "[[athlete]]\nname = \"Bob\"\nprofile = \"broken.json\"\ncsv = \"rides/activities.csv\"\n\n"
        + "[[athlete]]\nname = \"Cy\"\nprofile = \"rides/athlete.json\"\nfit_dir = \"nowhere\"\n\n"
        + "[[athlete]]\nname = \"Dee\"\nprofile = \"rides/athlete.json\"\ncsv = \"rides/activities.csv\"\n";
    std::fs::write(t.join("roster.toml"), text).unwrap();
    let out = run(t, &["--json", "import", "--roster", "roster.toml"]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(
        e.contains("2 of 4 athletes were not imported (Bob, Cy)"),
        "{e}"
    );
    assert!(
        e.contains("Bob: profile ") && e.contains("broken.json"),
        "{e}"
    );
    assert!(
        e.contains("Cy: ") && e.contains("nowhere: not a directory"),
        "{e}"
    );
    let j = json_of(&out.stdout);
    let rows = j.as_array().unwrap();
    assert_eq!(rows[0]["import"]["summary_only"], 40);
    assert_eq!(rows[3]["athlete"], "Dee");
    assert_eq!(rows[3]["import"]["summary_only"], 40);
    assert!(rows[1]["error"].as_str().unwrap().contains("broken.json"));
    // Bob was never created: his profile was refused before anything was stored.
    let list = ok_json(&run(t, &["--json", "athlete", "list"]));
    assert_eq!(names_of(&list), ["Ann", "Dee"]);
    // The roster file's own mistakes name the file and the entry.
    std::fs::write(t.join("bad.toml"), "[[athlete]]\nname = \"Eve\"\n").unwrap();
    let bad = run(t, &["import", "--roster", "bad.toml"]);
    assert!(
        stderr(&bad).contains("bad.toml: athlete 1 (\"Eve\"): no rides"),
        "{}",
        stderr(&bad)
    );
}

/// The fake answers every analysis and every plan request validly, a little slowly so that calls
/// overlap, and throttles: the next two calls, and any call arriving while two are answered.
async fn throttling_fake() -> FakeBedrock {
    let fake = FakeBedrock::start().await;
    let pace = Pace {
        first_token: std::time::Duration::from_millis(150),
        tokens_per_second: 4000.0,
    };
    fake.answer_always(
        ANALYSIS,
        Reply::Model(
            ModelReply::text(&common::narrative_json("ROSTER-NARRATIVE"))
                .with_usage(1500, 400, None, None)
                .with_pace(pace),
        ),
    );
    fake.answer_always(
        PLAN,
        Reply::Model(
            ModelReply::tool_calls(&[(
                "tooluse_roster_1",
                PLAN,
                &common::plan_overview("ROSTER-FOCUS", PLAN_WEEKS).to_string(),
            )])
            .with_usage(2000, 900, None, None)
            .with_pace(pace),
        ),
    );
    fake.throttle_next(2);
    fake.throttle_over(2);
    fake
}

fn generate_all(tmp: &Path, fake: &FakeBedrock, extra: &[&str]) -> Command {
    let mut cmd = isolated(tmp);
    cmd.envs(common::bedrock_fake_env(&fake.endpoint()))
        .args([
            "--json",
            "generate",
            "--all",
            "--concurrency",
            "4",
            "--provider",
            "bedrock",
            "--model",
            "claude-haiku-4.5",
            "--training-plan-weeks",
            &PLAN_WEEKS.to_string(),
            "--output-dir",
        ])
        .arg(tmp.join("reports"))
        .args(extra);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_all_shares_four_calls_in_flight_and_rides_out_throttling() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let names = ["Ann", "Bob", "Cy", "Dee", "Eve", "Fay"];
    let roster = roster(t, &names);
    ok_json(&run(
        t,
        &["--json", "import", "--roster", roster.to_str().unwrap()],
    ));
    // An athlete without rides fails their report; the others are not held up.
    let (_, profile) = common::strava_athlete(&t.join("rides"), |i| format!("Ride {i}"));
    ok_json(&run(
        t,
        &[
            "--json",
            "athlete",
            "add",
            "Gus",
            "--profile",
            profile.to_str().unwrap(),
        ],
    ));

    let fake = throttling_fake().await;
    let out = run_blocking(generate_all(t, &fake, &[])).await;
    assert!(!out.status.success(), "Gus has no rides");
    let e = stderr(&out);
    assert!(e.contains("1 of 7 athletes failed (Gus)"), "{e}");
    let j = json_of(&out.stdout);
    assert_eq!(fake.rejections(), Vec::<String>::new());

    // Never more than --concurrency calls at the service, and throttling really happened: the
    // limiter saw every throttle the fake sent (the SDK's own retries are off under --all).
    let max = fake.max_in_flight();
    assert!((2..=4).contains(&max), "max in flight {max}");
    assert!(fake.throttled() >= 2, "throttled {}", fake.throttled());
    assert_eq!(j["limiter"]["throttles"], fake.throttled() as u64);
    assert!(j["limiter"]["max_in_flight"].as_u64().unwrap() <= 4);
    assert!(j["limiter"]["min_limit"].as_u64().unwrap() < 4);

    let rows = j["athletes"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    for row in rows {
        let name = row["athlete"].as_str().unwrap();
        if name == "Gus" {
            assert_eq!(row["status"], "failed");
            assert!(
                row["error"].as_str().unwrap().contains("no activities"),
                "{row}"
            );
            continue;
        }
        // No athlete failed for a 429, and the model — not the rule-based coach — wrote each.
        assert_eq!(row["status"], "ok", "{row}");
        assert_eq!(row["model_calls"], 2, "{row}");
        assert_eq!(row["input_tokens"], 3500, "{row}");
        assert_eq!(row["output_tokens"], 1300, "{row}");
        let dir = t.join("reports").join(name);
        assert_eq!(row["report"], dir.join("index.html").display().to_string());
        let data = std::fs::read_to_string(dir.join("report_data.json")).unwrap();
        assert!(data.contains("ROSTER-NARRATIVE"), "{name}'s narrative");
        let plan: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
        assert_eq!(plan["overview"]["weeks"][0]["focus"], "ROSTER-FOCUS");
    }
    assert_eq!(j["totals"]["ok"], 6);
    assert_eq!(j["totals"]["failed"], 1);
    assert_eq!(j["totals"]["model_calls"], 12);
    // 12 answered calls at the service, plus the throttled ones.
    let answered = fake.requests().len() - fake.throttled();
    assert_eq!(answered, 12);

    // Each athlete's plan is theirs, and the call log names whose calls were whose.
    let list = ok_json(&run(t, &["--json", "athlete", "list"]));
    for a in list.as_array().unwrap() {
        let plans = if a["name"] == "Gus" { 0 } else { 1 };
        assert_eq!(a["plans"], plans, "{a}");
    }
    let logs = ok_json(&run(
        t,
        &["--json", "--athlete", "Bob", "logs", "--last", "5"],
    ));
    assert_eq!(logs["athlete"], "Bob");
    assert_eq!(logs["calls"], 2, "{logs}");
    assert!(
        logs["last"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["athlete"] == "Bob")
    );

    // --resume finishes only what is unfinished: nothing is asked again for the six done.
    let before = fake.requests().len();
    let again = run_blocking(generate_all(t, &fake, &["--resume"])).await;
    let j = json_of(&again.stdout);
    assert_eq!(j["totals"]["model_calls"], 0, "{j}");
    assert_eq!(fake.requests().len(), before);
    assert_eq!(j["totals"]["ok"], 6);
    assert!(
        json!(j["athletes"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["athlete"] != "Gus")
            .all(|r| t
                .join("reports")
                .join(r["athlete"].as_str().unwrap())
                .join("index.html")
                .is_file())
    );
}

#[test]
fn with_several_athletes_the_default_report_folder_is_per_athlete() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let roster = roster(t, &["Ann", "Bob"]);
    ok_json(&run(
        t,
        &["--json", "import", "--roster", roster.to_str().unwrap()],
    ));
    let j = ok_json(&run(
        t,
        &[
            "--json",
            "--athlete",
            "Bob",
            "generate",
            "--provider",
            "offline",
            "--training-plan-weeks",
            "8",
        ],
    ));
    assert_eq!(j["output_dir"], "reports/Bob");
    assert!(t.join("reports/Bob/index.html").is_file());
    assert!(!t.join("reports/index.html").exists());
}

#[test]
fn demo_weeks_makes_the_small_seasons_a_roster_benchmark_uses() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let j = ok_json(&run(
        t,
        &[
            "--json",
            "demo",
            "--rides",
            "12",
            "--weeks",
            "6",
            "--seed",
            "3",
            "--out",
            "d",
            "--no-import",
        ],
    ));
    let start: jiff::civil::Date = j["season_start"].as_str().unwrap().parse().unwrap();
    let end: jiff::civil::Date = j["season_end"].as_str().unwrap().parse().unwrap();
    let days = (end - start).get_days();
    assert!((35..=42).contains(&days), "{start}..{end}: {days} days");
    assert_eq!(j["rides"], 12);
    let bad = run(t, &["demo", "--weeks", "2", "--no-import"]);
    assert!(!bad.status.success());
}

/// `demo --athletes N`: N different riders, a season each, a roster file; imported and
/// reported on offline in one command, and incrementally on a second run.
#[test]
fn demo_athletes_makes_imports_and_reports_a_roster_of_different_riders() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let args = [
        "--json",
        "demo",
        "--athletes",
        "3",
        "--rides",
        "3",
        "--weeks",
        "4",
        "--out",
        "squad",
    ];
    // An athlete of the user's own in the same store is neither imported nor reported on.
    assert!(run(t, &["athlete", "add", "Own"]).status.success());
    let j = ok_json(&run(t, &args));
    assert_eq!(j["athletes"], 3);
    assert_eq!(j["rides_per_athlete"], 3);
    let roster = std::fs::read_to_string(t.join("squad/roster.toml")).unwrap();
    assert_eq!(roster.matches("[[athlete]]").count(), 3);
    assert!(roster.contains("name = \"rider-003\""), "{roster}");
    let imported = j["import"].as_array().unwrap();
    assert_eq!(imported.len(), 3);
    for a in imported {
        assert!(a["import"]["imported"].as_u64().unwrap() >= 3, "{a}");
    }
    let reports = &j["reports"];
    assert_eq!(reports["provider"], "offline");
    assert_eq!(reports["totals"]["ok"], 3);
    assert_eq!(reports["totals"]["model_calls"], 0);
    for r in reports["athletes"].as_array().unwrap() {
        let path = r["report"].as_str().unwrap();
        assert!(
            path.ends_with(&format!(
                "squad/reports/{}/index.html",
                r["athlete"].as_str().unwrap()
            )),
            "{path}"
        );
        // Relative to the working directory `t`, or absolute (join keeps an absolute path).
        assert!(t.join(path).is_file(), "{path}");
    }
    // Three different riders, each profile their own, stored as three athletes.
    let ftps: std::collections::BTreeSet<u64> = (1..=3)
        .map(|i| {
            let p: Value = serde_json::from_str(
                &std::fs::read_to_string(
                    t.join(format!("squad/athletes/rider-00{i}/profile.json")),
                )
                .unwrap(),
            )
            .unwrap();
            assert_eq!(p["name"], format!("Demo Rider 00{i}"));
            p["ftp_w"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(ftps.len(), 3, "{ftps:?}");
    let list = ok_json(&run(t, &["--json", "athlete", "list"]));
    assert_eq!(
        names_of(&list),
        ["Own", "rider-001", "rider-002", "rider-003"]
    );
    // The same seed writes the same files: the second run imports nothing new.
    let again = ok_json(&run(t, &args));
    for a in again["import"].as_array().unwrap() {
        assert_eq!(a["import"]["imported"], 0, "{a}");
        assert!(
            a["import"]["skipped_unchanged"].as_u64().unwrap() >= 3,
            "{a}"
        );
    }
    let refused = run(t, &["--athlete", "x", "demo", "--athletes", "2"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--athletes makes its own athletes"));
}
