//! The `cycling-ai` binary driven as a process: argument handling, the `ride --json` contract on
//! real device files, imports, analyses and the one-line errors on bad input.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{fixtures, json_of};

fn bin(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("cycling-ai").unwrap();
    cmd.env_remove("CYCLING_AI_DATA_DIR")
        .env("NO_COLOR", "1")
        .arg("--data-dir")
        .arg(data);
    cmd
}

/// Run a command that must succeed and print JSON.
fn ok_json(cmd: &mut Command) -> Value {
    common::ok_json(&cmd.output().unwrap())
}

/// The sum of a JSON array of numbers.
fn sum(v: &Value) -> f64 {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .sum()
}

/// Run a command that must fail, and return its single stderr line.
fn fail_line(cmd: &mut Command) -> String {
    error_line(&cmd.output().unwrap())
}

/// The single stderr line of a failed command.
fn error_line(out: &std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    lines[0].to_string()
}

#[test]
fn version_and_help_on_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    bin(tmp.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    for cmd in [&["import"][..], &["ride"], &["analyze"], &["demo"]] {
        bin(tmp.path())
            .args(cmd)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage:"));
    }
}

#[test]
fn ride_json_contract_on_the_edge810_vector_ride() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = fx.join("fit/python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit");
    let j = ok_json(bin(tmp.path()).arg("ride").arg(&file).arg("--json"));
    assert_eq!(j["sport"], "cycling");
    assert_eq!(j["records"], 4700);
    assert_eq!(j["truncated"], false);
    // The device wrote NP 301, TSS 118.7 against its threshold power of 315 W.
    assert_eq!(j["ftp_w"], 315.0);
    let np = j["np_w"].as_f64().unwrap();
    assert!((np - 301.0).abs() <= 1.5, "NP {np}");
    let tss = j["tss"].as_f64().unwrap();
    assert!((tss - 118.7).abs() / 118.7 <= 0.03, "TSS {tss}");
    let iff = j["if"].as_f64().unwrap();
    assert!((iff - np / 315.0).abs() < 1e-9);
    assert!(
        (j["timer_s"].as_f64().unwrap() - 4700.0).abs() < 1.0,
        "{}",
        j["timer_s"]
    );
    assert!(j["start_time"].as_str().unwrap().ends_with('Z'));
    // Seven power zones summing to the counted riding time; no LTHR → HR zones null.
    let zones = sum(&j["power_zones_s"]);
    assert_eq!(j["power_zones_s"].as_array().unwrap().len(), 7);
    assert!((zones - 4700.0).abs() <= 2.0, "zones sum {zones}");
    assert!(j["hr_zones_s"].is_null());
    // Best efforts against the regression values (metrics.md §3).
    let mmp = &j["mmp_w"];
    for (k, want) in [
        ("5", 591.2),
        ("60", 416.6),
        ("300", 340.6),
        ("1200", 312.2),
        ("3600", 288.7),
    ] {
        let got = mmp[k]
            .as_f64()
            .unwrap_or_else(|| panic!("mmp_w[{k}] missing: {mmp}"));
        assert!((got - want).abs() <= 0.6, "mmp {k}: {got} vs {want}");
    }
    assert!(
        mmp.get("7200").is_none(),
        "a duration longer than the ride must be absent"
    );
}

#[test]
fn ride_flags_override_the_file_and_add_hr_zones() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = fx.join("fit/python-fitparse/sample-activity-indoor-trainer.fit");
    let j = ok_json(
        bin(tmp.path())
            .args(["ride", "--ftp", "200", "--lthr", "160", "--json"])
            .arg(&file),
    );
    assert_eq!(j["ftp_w"], 200.0);
    let np = j["np_w"].as_f64().unwrap();
    assert!((np - 228.0).abs() <= 1.5);
    assert!((j["if"].as_f64().unwrap() - np / 200.0).abs() < 1e-9);
    let hr = sum(&j["hr_zones_s"]);
    assert!(hr > 2000.0, "HR zone time {hr}");
}

#[test]
fn ride_without_power_has_null_power_figures() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = fx.join("fit/sweatpy/4801048867.fit");
    let j = ok_json(bin(tmp.path()).args(["ride", "--json"]).arg(&file));
    assert_eq!(j["records"], 5159);
    assert!(j["np_w"].is_null() && j["tss"].is_null() && j["avg_power_w"].is_null());
    assert!(j["avg_hr_bpm"].as_f64().unwrap() > 60.0);
    // With an LTHR the load is hrTSS: hours × (avg HR / LTHR)² × 100 over moving time.
    let j = ok_json(
        bin(tmp.path())
            .args(["ride", "--json", "--lthr", "165"])
            .arg(&file),
    );
    assert_eq!(j["load_source"], "heart_rate");
    let hours = j["moving_s"].as_f64().unwrap() / 3600.0;
    let want = hours * (j["avg_hr_bpm"].as_f64().unwrap() / 165.0).powi(2) * 100.0;
    let got = j["load"].as_f64().unwrap();
    assert!((got - want).abs() / want < 0.03, "hrTSS {got} vs {want}");
}

#[test]
fn truncated_file_is_flagged_and_corrupt_file_names_its_offset() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let nick = fx.join("fit/python-fitparse/nick.fit");
    let j = ok_json(bin(tmp.path()).args(["ride", "--json"]).arg(&nick));
    assert_eq!(j["records"], 14391);
    assert_eq!(j["truncated"], true);
    assert!(!j["warnings"].as_array().unwrap().is_empty());

    let bad = fx.join("fit/python-fitparse/strava-android-app-201.10-b1218918.fit");
    let line = fail_line(bin(tmp.path()).args(["ride", "--json"]).arg(&bad));
    assert!(
        line.contains("strava-android-app-201.10-b1218918.fit"),
        "{line}"
    );
    assert!(line.contains("7471"), "{line}");
}

#[test]
fn ride_reads_tcx_and_gpx_files_and_names_the_position_of_bad_xml() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let fit = fx.join("fit/python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit");
    let want = ok_json(
        bin(tmp.path())
            .args(["ride", "--json", "--ftp", "315"])
            .arg(&fit),
    );
    let activity = ride::fit::decode_file(&fit).unwrap();
    let tcx = ride::track_write::write_tcx(&activity);
    let files = [
        ("ride.tcx", tcx.clone()),
        ("ride.gpx", ride::track_write::write_gpx(&activity)),
    ];
    for (name, text) in files {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let j = ok_json(
            bin(tmp.path())
                .args(["ride", "--json", "--ftp", "315"])
                .arg(&path),
        );
        assert_eq!(j["category"], "ride", "{name}");
        assert_eq!(j["records"], 4700, "{name}");
        assert_eq!(j["np_w"], want["np_w"], "{name}");
        assert_eq!(j["mmp_w"], want["mmp_w"], "{name}");
    }
    let bad = tmp.path().join("bad.tcx");
    std::fs::write(&bad, tcx.replacen("<Track>", "<Track", 1)).unwrap();
    let line = fail_line(bin(tmp.path()).args(["ride", "--json"]).arg(&bad));
    assert!(
        line.contains("bad.tcx") && line.contains("malformed XML at line"),
        "{line}"
    );
}

#[test]
fn importing_the_fit_fixtures_never_aborts() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let j = ok_json(
        bin(tmp.path())
            .args(["--json", "import", "--fit-dir"])
            .arg(fx.join("fit")),
    );
    let failed = j["failed"].as_array().unwrap();
    assert_eq!(
        failed.len(),
        1,
        "only the corrupt Strava-app file fails: {failed:?}"
    );
    assert!(failed[0]["reason"].as_str().unwrap().contains("7471"));
    // The real files have no impossible samples: what the quality pass reports is only the
    // repeated and out-of-order timestamps the series always dropped.
    for k in j["quality"]["kinds"].as_array().unwrap() {
        assert!(
            ["duplicate_timestamp", "timestamp_backwards"].contains(&k["kind"].as_str().unwrap()),
            "{}",
            j["quality"]
        );
    }
    let fit_files = walk_count(&fx.join("fit"));
    assert_eq!(j["imported"].as_u64().unwrap() + 1, fit_files as u64);
    // A second run decodes nothing.
    let out = bin(tmp.path())
        .args(["--json", "import", "--fit-dir"])
        .arg(fx.join("fit"))
        .output()
        .unwrap();
    let j = json_of(&out.stdout);
    assert_eq!(j["decoded_files"], 0);
    assert_eq!(j["imported"], 0);
}

fn walk_count(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += walk_count(&p);
        } else if p.extension().is_some_and(|x| x == "fit") {
            n += 1;
        }
    }
    n
}

#[test]
fn strava_csv_imports_every_activity_once() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let csv = fx.join("strava/joboso/activities.csv");
    let j = ok_json(
        bin(tmp.path())
            .args(["--json", "import", "--csv"])
            .arg(&csv),
    );
    assert_eq!(j["summary_only"], 1845);
    assert_eq!(j["failed"].as_array().unwrap().len(), 0);
    let out = bin(tmp.path())
        .args(["--json", "import", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    let j = json_of(&out.stdout);
    assert_eq!(j["skipped_unchanged"], 1845);
    assert_eq!(j["summary_only"], 0);

    // Analyses run on summary-only history: the export ends in August 2025.
    let j = ok_json(bin(tmp.path()).args(["--json", "analyze", "cross-training", "--weeks", "52"]));
    assert!(j["total_count"].as_u64().unwrap() > 50);
    let out = bin(tmp.path())
        .args([
            "--json",
            "analyze",
            "performance",
            "--to",
            "2025-08-01",
            "--weeks",
            "8",
        ])
        .output()
        .unwrap();
    let j = json_of(&out.stdout);
    assert_eq!(j["as_of"], "2025-08-01");
    assert_eq!(j["rides"]["recent"]["weeks"], 8);
}

#[test]
fn bad_profile_ftp_is_one_line_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("athlete.json");
    std::fs::write(&profile, r#"{"name": "A", "FTP": "abc", "weight": "70kg"}"#).unwrap();
    let csv = tmp.path().join("activities.csv");
    std::fs::write(
        &csv,
        "Activity ID,Activity Date,Activity Type\n1,\"May 13, 2026, 9:54:42 AM\",Ride\n",
    )
    .unwrap();
    let line = fail_line(
        bin(&tmp.path().join("data"))
            .args(["import", "--csv"])
            .arg(&csv)
            .arg("--profile")
            .arg(&profile),
    );
    assert!(
        line.contains("athlete.json") && line.contains("\"FTP\"") && line.contains("abc"),
        "{line}"
    );
    assert!(
        line.contains("50") && line.contains("600"),
        "names the range: {line}"
    );
}

#[test]
fn short_csv_row_is_reported_by_row_and_the_rest_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("activities.csv");
    std::fs::write(
        &csv,
        "Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time,Distance\n\
         1,\"May 13, 2026, 9:54:42 AM\",Morning Ride,Ride,3600,30.5\n\
         2\n\
         3,\"May 14, 2026, 9:54:42 AM\",Evening Run,Run,1800,5.1\n",
    )
    .unwrap();
    let out = bin(&tmp.path().join("data"))
        .args(["import", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    common::assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.lines().any(|l| l.contains("row 3")),
        "the short row is named: {stderr}"
    );
    assert!(stdout.contains("summary only (CSV row):   2"), "{stdout}");
}

#[test]
fn empty_csv_and_empty_directory_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("empty.csv");
    std::fs::write(&csv, "").unwrap();
    let line = fail_line(
        bin(&tmp.path().join("data"))
            .args(["import", "--csv"])
            .arg(&csv),
    );
    assert!(
        line.contains("empty.csv") && line.contains("empty"),
        "{line}"
    );

    let dir = tmp.path().join("nothing-here");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "no rides").unwrap();
    let line = fail_line(
        bin(&tmp.path().join("data"))
            .args(["import", "--fit-dir"])
            .arg(&dir),
    );
    assert!(
        line.contains("nothing-here")
            && line.contains("no activities.csv and no .fit/.fit.gz files"),
        "{line}"
    );

    let line = fail_line(
        bin(&tmp.path().join("data"))
            .args(["ride"])
            .arg(tmp.path().join("missing.fit")),
    );
    assert!(line.contains("missing.fit"), "{line}");
}

#[test]
fn analyze_before_import_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let line = fail_line(bin(tmp.path()).args(["analyze", "fitness"]));
    assert!(line.contains("cycling-ai import"), "{line}");
    let out = bin(tmp.path())
        .args(["analyze", "zones", "--to", "yesterday"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn demo_season_imports_and_every_analysis_answers_in_json() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let j = ok_json(
        bin(&data)
            .args(["--json", "demo", "--rides", "40", "--seed", "7", "--out"])
            .arg(tmp.path().join("demo")),
    );
    assert_eq!(j["rides"], 40);
    let fit_files = j["rides"].as_u64().unwrap()
        + j["runs"].as_u64().unwrap()
        + j["strength"].as_u64().unwrap();
    assert_eq!(j["import"]["imported"].as_u64().unwrap(), fit_files);
    assert_eq!(j["import"]["failed"].as_array().unwrap().len(), 0);
    assert!(
        j["import"]["utc_check"]
            .as_str()
            .unwrap()
            .contains("median offset 0 s")
    );

    // Re-importing the unchanged export decodes nothing.
    let export = j["export_dir"].as_str().unwrap().to_string();
    let out = bin(&data)
        .args(["--json", "import", "--export", &export])
        .output()
        .unwrap();
    let again = json_of(&out.stdout);
    assert_eq!(again["decoded_files"], 0);
    assert_eq!(again["skipped_unchanged"].as_u64().unwrap(), fit_files);

    for what in [
        "performance",
        "zones",
        "fitness",
        "power-curve",
        "cross-training",
    ] {
        let out = bin(&data)
            .args(["--json", "analyze", what])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("NaN") && !text.contains("inf"),
            "{what}: {text}"
        );
        json_of(&out.stdout);
    }
    let out = bin(&data)
        .args(["--json", "analyze", "fitness"])
        .output()
        .unwrap();
    let f = json_of(&out.stdout);
    let ctl = f["current"]["ctl"].as_f64().unwrap();
    assert!(ctl > 5.0, "a season of riding builds fitness: CTL {ctl}");
    // Form is yesterday's fitness minus yesterday's fatigue.
    let days = f["days"].as_array().unwrap();
    let (a, b) = (&days[days.len() - 2], &days[days.len() - 1]);
    let tsb = a["ctl"].as_f64().unwrap() - a["atl"].as_f64().unwrap();
    assert!((b["tsb"].as_f64().unwrap() - tsb).abs() < 1e-9);

    let out = bin(&data)
        .args(["--json", "analyze", "power-curve", "--weeks", "52"])
        .output()
        .unwrap();
    let p = json_of(&out.stdout);
    let best = p["best_w"].as_object().unwrap();
    let mut pairs: Vec<(u32, f64)> = best
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), v.as_f64().unwrap()))
        .collect();
    pairs.sort_by_key(|x| x.0);
    assert!(
        pairs.windows(2).all(|w| w[0].1 >= w[1].1),
        "curve non-increasing: {pairs:?}"
    );
    assert!(p["cp2"]["cp_w"].as_f64().unwrap() > 150.0);
}

#[test]
fn human_output_has_no_colour_codes_with_no_color() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = fx.join("fit/fitparse-rs/hrv-activity.fit");
    let out = bin(tmp.path()).arg("ride").arg(&file).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NP / IF / TSS"), "{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI escapes");
}

#[test]
fn demo_without_data_dir_keeps_its_database_next_to_the_export() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("demo");
    let mut cmd = Command::cargo_bin("cycling-ai").unwrap();
    cmd.env_remove("CYCLING_AI_DATA_DIR")
        .env("HOME", tmp.path().join("home"))
        .env("XDG_DATA_HOME", tmp.path().join("xdg"))
        .args(["demo", "--rides", "5", "--out"])
        .arg(&out_dir);
    let out = cmd.output().unwrap();
    common::assert_success(&out);
    assert!(out_dir.join("data/cycling-ai.db").is_file());
    assert!(
        !tmp.path().join("xdg/cycling-ai").exists(),
        "the real data directory is untouched"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let index = out_dir.join("report/index.html");
    assert!(
        stdout.contains(&format!("Report: {}", index.display())),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(
        html.contains("Training plan") && html.contains("<svg"),
        "a full report"
    );
}

/// A small Strava CSV (summaries only) and a profile, for pipeline tests that need no FIT files.
/// The longest ride (a notable ride the report names) carries a script tag as its name.
fn csv_athlete(dir: &Path) -> (PathBuf, PathBuf) {
    common::strava_athlete(dir, |i| {
        if i == 39 {
            "<script>alert(1)</script>".into()
        } else {
            "Morning Ride".into()
        }
    })
}

#[test]
fn generate_escapes_user_text_and_resumes_only_with_the_same_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, profile) = csv_athlete(tmp.path());
    let data = tmp.path().join("data");
    let out = tmp.path().join("report");
    let j = ok_json(
        bin(&data)
            .args(["--json", "generate", "--csv"])
            .arg(&csv)
            .arg("--profile")
            .arg(&profile)
            .arg("--output-dir")
            .arg(&out),
    );
    let phases = j["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 4);
    assert!(
        phases
            .iter()
            .all(|p| p["model_calls"] == 0 && p["cost_usd"] == 0.0)
    );
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "user text must be escaped"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "and still shown"
    );
    for f in ["report_data.json", "report.md", "plan.json"] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["weeks"].as_array().unwrap().len(), 12);
    let fits = common::fit_files(&out.join("workouts"));
    assert!(fits > 12, "a workout file per planned ride: {fits}");

    // Resuming the same run reuses every finished phase.
    let j = ok_json(
        bin(&data)
            .args(["--json", "generate", "--resume", "--output-dir"])
            .arg(&out),
    );
    let resumed: Vec<bool> = j["phases"].as_array().unwrap()[..3]
        .iter()
        .map(|p| p["resumed"].as_bool().unwrap())
        .collect();
    assert_eq!(resumed, vec![true, true, true]);
    // Nothing was spent on resumed phases in this run: the total stays priced.
    assert!(
        j["phases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["cost_usd"] == 0.0)
    );
    // Resuming with other inputs is refused rather than mixing two runs.
    let line = fail_line(
        bin(&data)
            .args(["generate", "--resume", "--seed", "9", "--output-dir"])
            .arg(&out),
    );
    assert!(
        line.contains("--resume") && line.contains("other inputs"),
        "{line}"
    );
}

#[test]
fn generate_without_a_plan_and_with_a_provider_but_no_model() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, profile) = csv_athlete(tmp.path());
    let data = tmp.path().join("data");
    let out = tmp.path().join("report");
    ok_json(
        bin(&data)
            .args(["--json", "generate", "--skip-training-plan", "--csv"])
            .arg(&csv)
            .arg("--profile")
            .arg(&profile)
            .arg("--out")
            .arg(&out),
    );
    assert!(out.join("index.html").is_file());
    assert!(!out.join("plan.json").exists());
    // A model provider without a model: one line naming the flag and the config key.
    let line = fail_line(
        isolated(tmp.path())
            .args(["generate", "--provider", "bedrock", "--out"])
            .arg(&out),
    );
    assert!(
        line.contains("no model for bedrock")
            && line.contains("--model")
            && line.contains("providers.bedrock.model"),
        "{line}"
    );
}

#[test]
fn providers_list_prices_every_model_with_its_date() {
    let tmp = tempfile::tempdir().unwrap();
    let j = ok_json(bin(tmp.path()).args(["--json", "providers", "list"]));
    let models = j["models"].as_array().unwrap();
    assert!(models.len() >= 15);
    assert!(j["prices_checked"].as_str().unwrap().starts_with("20"));
    for m in models {
        let p = &m["prices"];
        assert!(
            p["input"].as_f64().is_some(),
            "{} {} is priced",
            m["provider"],
            m["id"]
        );
        assert!(
            !p["checked"].as_str().unwrap_or("").is_empty(),
            "{} has a date",
            m["id"]
        );
    }
    for id in [
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "amazon.nova-pro-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
    ] {
        let m = models
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed"));
        assert!(m["prices"]["input"].as_f64().unwrap() > 0.0, "{id} priced");
    }
    let o = bin(tmp.path())
        .args(["providers", "list", "--provider", "nope"])
        .output()
        .unwrap();
    assert!(error_line(&o).contains("bedrock, anthropic"));
}

// ---- configuration, interaction log and provider checks (issue 3) ----

/// A command isolated from the developer's own settings: its own HOME / config dir / working
/// directory, and none of the provider variables of the calling environment.
fn isolated(tmp: &Path) -> Command {
    Command::from_std(common::isolated(tmp))
}

#[test]
fn config_init_writes_once_and_show_names_every_source() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("conf/c.yaml");
    isolated(tmp.path())
        .args(["config", "init", "--path"])
        .arg(&file)
        .assert()
        .success();
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("default_provider: bedrock"), "{written}");
    // A second init refuses to overwrite.
    let out = isolated(tmp.path())
        .args(["config", "init", "--path"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(error_line(&out).contains("--force"));
    isolated(tmp.path())
        .args(["config", "init", "--force", "--path"])
        .arg(&file)
        .assert()
        .success();

    let secret = "sk-ant-api03-THIS-MUST-NOT-BE-PRINTED-000000";
    let v = ok_json(
        isolated(tmp.path())
            .env("CYCLING_AI_CONFIG", &file)
            .env("AWS_REGION", "eu-west-1")
            .env("ANTHROPIC_API_KEY", secret)
            .args(["--json", "config", "show"]),
    );
    assert_eq!(v["config_file"], file.to_str().unwrap());
    assert_eq!(v["default_provider"]["value"], "bedrock");
    assert_eq!(v["default_provider"]["source"]["kind"], "file");
    let bedrock = &v["providers"]["bedrock"]["settings"];
    // Environment beats the file's us-east-1.
    assert_eq!(bedrock["region"]["value"], "eu-west-1");
    assert_eq!(bedrock["region"]["source"]["var"], "AWS_REGION");
    assert_eq!(bedrock["model"]["value"], "claude-sonnet-4.5");
    assert_eq!(bedrock["max_tokens"]["value"], 4096);
    let anthropic = &v["providers"]["anthropic"];
    assert_eq!(
        anthropic["settings"]["base_url"]["source"]["kind"],
        "default"
    );
    assert_eq!(anthropic["credentials"]["ANTHROPIC_API_KEY"], true);
    assert_eq!(
        v["providers"]["openai"]["credentials"]["OPENAI_API_KEY"],
        false
    );

    // The human form says the same, and neither form prints the key.
    let out = isolated(tmp.path())
        .env("CYCLING_AI_CONFIG", &file)
        .env("ANTHROPIC_API_KEY", secret)
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains(secret) && !text.contains("PRINTED"),
        "{text}"
    );
    assert!(text.contains("ANTHROPIC_API_KEY is set"), "{text}");
    assert!(text.contains(&format!("file {}", file.display())), "{text}");
}

#[test]
fn config_errors_name_the_key_and_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    // ./.cycling-ai.yaml is found without CYCLING_AI_CONFIG.
    let local = tmp.path().join(".cycling-ai.yaml");
    std::fs::write(&local, "providers:\n  openai:\n    temperature: 3\n").unwrap();
    let out = isolated(tmp.path())
        .args(["config", "show"])
        .output()
        .unwrap();
    let line = error_line(&out);
    assert!(line.contains("providers.openai.temperature"), "{line}");
    assert!(line.contains(".cycling-ai.yaml"), "{line}");

    std::fs::write(&local, "providers:\n  bedrock:\n    regin: eu-west-1\n").unwrap();
    let out = isolated(tmp.path())
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(error_line(&out).contains("regin"));

    let out = isolated(tmp.path())
        .env("CYCLING_AI_CONFIG", tmp.path().join("nope.yaml"))
        .args(["config", "show"])
        .output()
        .unwrap();
    assert!(error_line(&out).contains("nope.yaml"));
}

#[test]
fn logs_sum_calls_per_model_and_warn_on_a_cut_last_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let line = |time: &str,
                provider: &str,
                model: &str,
                input: u64,
                output: u64,
                cost: Option<f64>| {
        serde_json::json!({
            "time": time, "provider": provider, "model_requested": model, "model_used": model,
            "usage": {"input": input, "output": output, "cache_read": 0, "cache_write": 0},
            "cost": match cost {
                Some(usd) => serde_json::json!({"status": "known", "usd": usd}),
                None => serde_json::json!({"status": "unknown", "model": model, "reason": "not in the catalog"}),
            },
            "latency_ms": 120, "attempts": 1, "error": null,
        })
        .to_string()
    };
    let failed = serde_json::json!({
        "time": "2026-01-01T00:00:04Z", "provider": "bedrock", "model_requested": "nova-micro",
        "model_used": null, "usage": null, "cost": null, "error": {"kind": "rate_limited", "message": "x"},
    });
    let text = [
        line(
            "2026-01-01T00:00:01Z",
            "bedrock",
            "nova-micro",
            1000,
            200,
            Some(0.01),
        ),
        line(
            "2026-01-01T00:00:02Z",
            "bedrock",
            "nova-micro",
            3000,
            100,
            Some(0.02),
        ),
        line("2026-01-01T00:00:03Z", "ollama", "mystery:7b", 50, 5, None),
        failed.to_string(),
    ]
    .join("\n")
        + "\n{\"time\":\"2026-01-01T00:00:05Z\",\"provi";
    std::fs::write(data.join("interactions.jsonl"), text).unwrap();

    let out = isolated(tmp.path())
        .args(["--json", "logs", "--last", "2"])
        .output()
        .unwrap();
    common::assert_success(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 5: truncated last line"), "{err}");
    let v = json_of(&out.stdout);
    assert_eq!(v["calls"], 4);
    assert_eq!(v["skipped_lines"], serde_json::json!([5]));
    assert!((v["cost_usd"].as_f64().unwrap() - 0.03).abs() < 1e-9);
    assert_eq!(v["unpriced_calls"], 1);
    let bedrock = &v["by_model"][0];
    assert_eq!(bedrock["model"], "nova-micro");
    assert_eq!(bedrock["calls"], 3);
    assert_eq!(bedrock["errors"], 1);
    assert_eq!(bedrock["input_tokens"], 4000);
    assert_eq!(bedrock["output_tokens"], 300);
    assert_eq!(v["last"].as_array().unwrap().len(), 2);
    assert_eq!(v["last"][1]["error"], "rate_limited");

    let out = isolated(tmp.path())
        .args(["logs", "--last", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("price unknown"), "{text}");
    assert!(text.contains("$0.0300"), "{text}");
    assert!(text.contains("error: rate_limited"), "{text}");
}

/// Run the binary off the async runtime's threads so the in-process fakes keep serving.
async fn run_blocking(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_check_succeeds_against_the_anthropic_fake_and_diagnoses_a_bad_key() {
    use llm::testing::fake_anthropic::{self, ANTHROPIC_TEST_KEY};
    let fake = fake_anthropic::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = isolated(tmp.path());
    cmd.env("ANTHROPIC_BASE_URL", fake.endpoint())
        .env("ANTHROPIC_API_KEY", ANTHROPIC_TEST_KEY)
        .args([
            "--json",
            "providers",
            "check",
            "--provider",
            "anthropic",
            "--model",
            "claude-haiku-4.5",
        ]);
    let out = run_blocking(cmd).await;
    common::assert_success(&out);
    let v = json_of(&out.stdout);
    assert_eq!(v["ok"], true);
    assert_eq!(v["reply"], "ok");
    assert_eq!(v["model_used"], "claude-haiku-4-5-20251001");
    assert_eq!(v["credentials"][0], "ANTHROPIC_API_KEY is set");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(ANTHROPIC_TEST_KEY));
    // The one call went to the fake with the check's small budget and was logged, key-free.
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body["max_tokens"], 16);
    let log = std::fs::read_to_string(tmp.path().join("data/interactions.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1);
    assert!(!log.contains("FAKEfakeFAKE"), "{log}");

    let mut cmd = isolated(tmp.path());
    cmd.env("ANTHROPIC_BASE_URL", fake.endpoint())
        .env(
            "ANTHROPIC_API_KEY",
            "sk-ant-api03-wrong-key-0000000000000000",
        )
        .args([
            "providers",
            "check",
            "--provider",
            "anthropic",
            "--model",
            "claude-haiku-4.5",
        ]);
    let out = run_blocking(cmd).await;
    let line = error_line(&out);
    assert!(line.contains("(authentication)"), "{line}");
    assert!(line.contains("ANTHROPIC_API_KEY"), "{line}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("invalid x-api-key"), "{text}");

    // No key at all: diagnosed before any call.
    let mut cmd = isolated(tmp.path());
    cmd.env("ANTHROPIC_BASE_URL", fake.endpoint()).args([
        "providers",
        "check",
        "--provider",
        "anthropic",
        "--model",
        "claude-haiku-4.5",
    ]);
    let out = run_blocking(cmd).await;
    assert!(error_line(&out).contains("no valid API key"));
    assert_eq!(fake.requests().len(), 2);
}

fn bedrock_cmd(tmp: &Path, endpoint: &str, model: &str) -> Command {
    Command::from_std(common::bedrock_check(tmp, endpoint, model))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_check_on_bedrock_succeeds_and_names_the_inference_profile() {
    use llm::testing::FakeBedrock;
    let fake = FakeBedrock::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = run_blocking(bedrock_cmd(tmp.path(), &fake.endpoint(), "nova-micro")).await;
    common::assert_success(&out);
    let v = json_of(&out.stdout);
    assert_eq!(v["ok"], true);
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["endpoint"], fake.endpoint());
    let creds = v["credentials"].to_string();
    assert!(
        creds.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set"),
        "{creds}"
    );
    assert!(creds.contains("long-term"), "{creds}");
    assert!(
        !out.stdout.windows(4).any(|w| w == b"AKIA"),
        "key id printed"
    );

    // A base id of a model that has no on-demand throughput is sent through the region's
    // geographic profile, with a notice (the fake refuses the bare base id like the service).
    let base = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    let out = run_blocking(bedrock_cmd(tmp.path(), &fake.endpoint(), base)).await;
    common::assert_success(&out);
    let v = json_of(&out.stdout);
    assert_eq!(v["ok"], true);
    assert_eq!(v["model"], format!("{base} (sent as us.{base})"));
    assert!(
        v["notices"][0]
            .as_str()
            .unwrap()
            .contains(&format!("inference profile `us.{base}`")),
        "{v}"
    );
    assert_eq!(
        fake.requests().last().unwrap().model_id,
        format!("us.{base}")
    );

    // No credentials anywhere: diagnosed from the credential chain, without a call.
    let calls = fake.requests().len();
    let mut cmd = bedrock_cmd(tmp.path(), &fake.endpoint(), "nova-micro");
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let out = run_blocking(cmd).await;
    let line = error_line(&out);
    assert!(
        line.contains("(authentication)") && line.contains("AWS_PROFILE"),
        "{line}"
    );
    assert_eq!(fake.requests().len(), calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_check_reads_the_openai_base_url_from_the_config_file() {
    use llm::testing::fake_openai::{self, OPENAI_TEST_KEY};
    let fake = fake_openai::start().await;
    let tmp = tempfile::tempdir().unwrap();
    // Provider, model and base URL all from the file; the key from the environment.
    std::fs::write(
        tmp.path().join(".cycling-ai.yaml"),
        format!(
            "default_provider: openai\nproviders:\n  openai:\n    model: gpt-4.1\n    base_url: {}/v1\n",
            fake.endpoint()
        ),
    )
    .unwrap();
    let mut cmd = isolated(tmp.path());
    cmd.env("OPENAI_API_KEY", OPENAI_TEST_KEY)
        .args(["--json", "providers", "check"]);
    let out = run_blocking(cmd).await;
    common::assert_success(&out);
    let v = json_of(&out.stdout);
    assert_eq!(v["ok"], true);
    assert_eq!(v["provider"], "openai");
    assert_eq!(v["endpoint"], format!("{}/v1", fake.endpoint()));
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(fake.requests()[0].body["model"], "gpt-4.1");
}

/// Issue 10: a real ride whose power meter wrote a few impossible samples (injected into the
/// decoded records and written back as FIT with our writer) is repaired before any metric: NP
/// stays the clean ride's, the best second is no higher than the clean maximum, and `quality`
/// lists what was done.
#[test]
fn ride_json_repairs_power_spikes_and_lists_them_under_quality() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = fx.join("fit/python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit");
    let clean = ok_json(bin(tmp.path()).arg("ride").arg(&file).arg("--json"));
    assert_eq!(clean["quality"]["repaired"], false);
    assert_eq!(clean["quality"]["issues"], serde_json::json!([]));
    assert_eq!(clean["quality"]["elevation_method"], "device_total_ascent");

    let mut a = ride::fit::decode_file(&file).unwrap();
    for i in [600, 601, 602, 603] {
        a.records[i].power_w = Some(21_733);
    }
    a.records[2000].power_w = Some(5_000);
    let zones = ride::fit_encode::Zones {
        ftp_w: Some(315),
        ..Default::default()
    };
    let spiked = tmp.path().join("spiked.fit");
    std::fs::write(
        &spiked,
        ride::fit_encode::encode_activity(&a, zones).unwrap(),
    )
    .unwrap();

    let j = ok_json(bin(tmp.path()).arg("ride").arg(&spiked).arg("--json"));
    let (np, clean_np) = (j["np_w"].as_f64().unwrap(), clean["np_w"].as_f64().unwrap());
    assert!((np - clean_np).abs() <= 1.0, "NP {np} vs clean {clean_np}");
    assert!(j["mmp_w"]["1"].as_f64().unwrap() <= clean["max_power_w"].as_f64().unwrap());
    let q = &j["quality"];
    assert_eq!(q["repaired"], true);
    let issue = &q["issues"][0];
    assert_eq!(issue["kind"], "power_above_ceiling");
    assert_eq!(issue["action"], "dropped");
    assert_eq!(issue["samples"], 5);
    assert_eq!(issue["first_s"], 600);
    assert_eq!(issue["last_s"], 2000);

    let out = bin(tmp.path()).arg("ride").arg(&spiked).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("data quality:")
            && text.contains("power above the ceiling: 5 samples at 0:10:00–0:33:20"),
        "{text}"
    );

    // `import` says how many activities were repaired and how, in text and JSON.
    let rides = tmp.path().join("rides");
    std::fs::create_dir_all(&rides).unwrap();
    std::fs::rename(&spiked, rides.join("spiked.fit")).unwrap();
    let data = tmp.path().join("data");
    let j = ok_json(
        bin(&data)
            .args(["--json", "import", "--fit-dir"])
            .arg(&rides),
    );
    assert_eq!(j["quality"]["repaired_activities"], 1, "{j}");
    assert_eq!(j["quality"]["kinds"][0]["kind"], "power_above_ceiling");
    assert_eq!(j["quality"]["kinds"][0]["samples"], 5);
    std::fs::remove_dir_all(&data).unwrap();
    let out = bin(&data)
        .args(["import", "--fit-dir"])
        .arg(&rides)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "data quality: repaired 1 activity: power above the ceiling (1 activity, 5 samples)"
        ),
        "{text}"
    );

    // `activities` flags the repaired ride; `activities show` carries its quality record.
    let listed = ok_json(bin(&data).args(["--json", "activities"]));
    assert_eq!(
        listed[0]["quality"],
        serde_json::json!(["power_above_ceiling"])
    );
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    let out = bin(&data).arg("activities").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("data: power above ceiling"), "{text}");
    let shown = ok_json(bin(&data).args(["--json", "activities", "show", &id]));
    assert_eq!(shown["quality"]["repaired"], true, "{shown}");
    assert_eq!(shown["quality"]["issues"][0]["samples"], 5);
}
