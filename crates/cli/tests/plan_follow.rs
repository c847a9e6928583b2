//! The follow-through commands on a synthesised season: a plan made by `generate`, rides written
//! as 1 Hz FIT files from the plan's own workouts and imported, followed partly — intervals hit
//! and faded, sessions missed and moved, a whole week missed. Then `plan status`, `plan adapt`,
//! `plan versions`, `analyze fitness --projection`, `today` and `week` on it, as a user runs them.

use std::path::{Path, PathBuf};
use std::process::Command;

use coach::plan::{PlannedWorkout, TrainingPlan, WorkoutType};
use jiff::civil::{Date, date};
use serde_json::Value;

mod common;
use common::isolated;

fn ok_json(cmd: &mut Command) -> Value {
    common::ok_json(&cmd.output().unwrap())
}

const FTP: f64 = 250.0;

fn plan_start() -> Date {
    date(2026, 3, 2)
}

fn add(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap()
}

fn profile(dir: &Path) -> PathBuf {
    let p = dir.join("athlete.json");
    std::fs::write(
        &p,
        r#"{"name": "Test Rider", "ftp_w": 250, "lthr_bpm": 170, "weight_kg": 70,
            "timezone": "UTC",
            "training_availability": {"hours_per_week": 8,
              "week_days": ["tuesday", "wednesday", "thursday", "saturday", "sunday"]}}"#,
    )
    .unwrap();
    p
}

/// A 1 Hz ride of `power` starting 07:00 UTC on `day`, as a FIT file in `dir`.
fn write_ride(dir: &Path, day: Date, power: &[f64]) {
    std::fs::create_dir_all(dir).unwrap();
    let bytes = demo::follow::ride_fit(day, power).unwrap();
    std::fs::write(dir.join(format!("{day}.fit")), bytes).unwrap();
}

/// The workout ridden second by second as planned, `edit(second, watts)` applied.
fn ridden(p: &PlannedWorkout, edit: impl Fn(usize, f64) -> f64) -> Vec<f64> {
    demo::follow::workout_power(&p.workout.steps, FTP, edit)
}

fn run(tmp: &Path, args: &[&str]) -> Command {
    let mut cmd = isolated(tmp);
    cmd.args(args);
    cmd
}

fn ok_text(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The season: four weeks of easy riding before the plan, a plan for an event on 17 May, week 1
/// followed partly and week 2 missed. Returns the plan as `generate` wrote it.
fn season(tmp: &Path) -> TrainingPlan {
    let prof = profile(tmp);
    let before = tmp.join("before");
    for k in 0..28 {
        if k % 2 == 0 {
            write_ride(&before, add(plan_start(), -28 + k), &vec![0.65 * FTP; 5400]);
        }
    }
    ok_text(
        run(tmp, &["import", "--fit-dir"])
            .arg(&before)
            .arg("--profile")
            .arg(&prof),
    );
    ok_text(&mut run(
        tmp,
        &[
            "generate",
            "--provider",
            "offline",
            "--output-dir",
            "report",
            "--plan-start",
            "2026-03-02",
            "--event-date",
            "2026-05-17",
            "--training-plan-weeks",
            "11",
        ],
    ));
    let plan: TrainingPlan =
        serde_json::from_str(&std::fs::read_to_string(tmp.join("report/plan.json")).unwrap())
            .unwrap();
    let w1: Vec<&PlannedWorkout> = plan.weeks[0]
        .workouts
        .iter()
        .filter(|p| p.workout.workout_type != WorkoutType::Rest)
        .collect();
    let rides = tmp.join("plan-rides");
    // Tuesday: the first interval session, its last interval fading after 6½ minutes.
    let tue = w1.iter().find(|p| p.date == add(plan_start(), 1)).unwrap();
    assert!(
        tue.workout.workout_type.is_hard(),
        "{:?}",
        tue.workout.workout_type
    );
    let last = *coach::intervals::work_intervals(&tue.workout.steps)
        .last()
        .unwrap();
    let fade =
        (last.planned_start_s + 390) as usize..(last.planned_start_s + last.duration_s) as usize;
    write_ride(
        &rides,
        tue.date,
        &ridden(tue, |t, w| if fade.contains(&t) { 0.6 * FTP } else { w }),
    );
    // Saturday's long ride ridden on Sunday.
    let sat = w1.iter().find(|p| p.date == add(plan_start(), 5)).unwrap();
    write_ride(&rides, add(sat.date, 1), &ridden(sat, |_, w| w));
    // Wednesday ridden as planned when it is a ride.
    if let Some(wed) = w1
        .iter()
        .find(|p| p.date == add(plan_start(), 2) && p.workout.workout_type != WorkoutType::Strength)
    {
        write_ride(&rides, wed.date, &ridden(wed, |_, w| w));
    }
    ok_text(run(tmp, &["import", "--fit-dir"]).arg(&rides));
    plan
}

#[test]
fn follow_through_on_a_season_that_follows_the_plan_partly() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let plan = season(tmp);
    let as_of = "2026-03-16"; // Monday of week 3: weeks 1 and 2 are done.

    // plan status: each case.
    let st = ok_json(&mut run(
        tmp,
        &["--json", "plan", "status", "--date", as_of],
    ));
    let workouts = st["workouts"].as_array().unwrap();
    let on = |d: Date| {
        workouts
            .iter()
            .find(|w| w["date"] == d.to_string())
            .unwrap()
    };
    let tue = on(add(plan_start(), 1));
    assert_eq!(tue["status"], "partial", "{tue:#}");
    let summary = tue["intervals"]["summary"].as_str().unwrap();
    assert!(summary.ends_with("faded at minute 7"), "{summary}");
    assert_eq!(
        tue["intervals"]["hit"],
        tue["intervals"]["total"].as_u64().unwrap() - 1
    );
    let sat = on(add(plan_start(), 5));
    assert_eq!(
        (sat["status"].as_str(), sat["moved_days"].as_i64()),
        (Some("completed"), Some(1))
    );
    let thu = on(add(plan_start(), 3));
    assert_eq!(thu["status"], "missed");
    // Week 2 missed completely.
    let weeks = st["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 3);
    assert_eq!(weeks[1]["compliance_pct"], 0.0);
    assert_eq!(weeks[1]["completed"], 0);
    let c1 = weeks[0]["compliance_pct"].as_f64().unwrap();
    assert!(c1 > 20.0 && c1 < 90.0, "{c1}");
    // The human table says the same.
    let text = ok_text(&mut run(
        tmp,
        &["plan", "status", "--date", as_of, "--week", "1"],
    ));
    assert!(text.contains("faded at minute 7"), "{text}");
    assert!(text.contains("moved +1 d"), "{text}");

    // The projection agrees with the plan's own load, from the day looked from.
    let f = ok_json(&mut run(
        tmp,
        &[
            "--json",
            "analyze",
            "fitness",
            "--projection",
            "--to",
            as_of,
        ],
    ));
    let proj = &f["projection"];
    let planned_after: f64 = plan
        .weeks
        .iter()
        .flat_map(|w| &w.workouts)
        .filter(|p| p.date.to_string().as_str() > as_of)
        .map(|p| p.tss)
        .sum();
    assert!((proj["planned_tss"].as_f64().unwrap() - planned_after).abs() < 0.5);
    assert_eq!(proj["event"]["date"], "2026-05-17");
    let first = &proj["days"][0];
    let seed_ctl = f["current"]["ctl"].as_f64().unwrap();
    assert!((proj["seed"]["ctl"].as_f64().unwrap() - seed_ctl).abs() < 1e-9);
    assert_eq!(first["date"], "2026-03-17");

    // plan adapt after the missed week: a new version, the old one kept.
    let a = ok_json(&mut run(
        tmp,
        &[
            "--json",
            "plan",
            "adapt",
            "--date",
            as_of,
            "--reason",
            "ill in week 2",
        ],
    ));
    assert_eq!(a["stored"], true, "{a:#}");
    assert_eq!(a["version"], 2);
    assert_eq!(a["event_date"], "2026-05-17");
    assert_eq!(a["from_week"], 3);
    assert!(
        a["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["week"] == 3)
    );
    let v = ok_json(&mut run(
        tmp,
        &["--json", "plan", "versions", "--date", as_of],
    ));
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(
        (v[0]["version"].as_i64(), v[0]["current"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(
        (v[1]["version"].as_i64(), v[1]["current"].as_bool()),
        (Some(2), Some(true))
    );
    assert!(
        v[1]["change_note"]
            .as_str()
            .unwrap()
            .contains("reason: ill in week 2")
    );
    // The stored new version passes every plan rule and keeps the taper.
    let mut store = store::Store::open(&tmp.join("data")).unwrap();
    let athlete = store.default_athlete().unwrap().id;
    let stored = store.latest_plan(athlete).unwrap().unwrap();
    let new: TrainingPlan = serde_json::from_str(&stored.plan_json).unwrap();
    let c = coach::rules::PlanConstraints {
        weeks: 11,
        available_days: [
            jiff::civil::Weekday::Tuesday,
            jiff::civil::Weekday::Wednesday,
            jiff::civil::Weekday::Thursday,
            jiff::civil::Weekday::Saturday,
            jiff::civil::Weekday::Sunday,
        ]
        .to_vec(),
        hours_per_week: 8.0,
        event_date: Some(date(2026, 5, 17)),
        start_date: plan_start(),
    };
    let broken = coach::rules::check_overview_with(&new.overview, &c, &new.days_off);
    assert!(broken.is_empty(), "{broken:#?}");
    assert_eq!(new.weeks[10].phase, coach::plan::Phase::Taper);
    assert_eq!(new.weeks[..2], plan.weeks[..2]);

    // today on a planned day of the new version: workout, adjustments or checks, a file.
    let day = new.weeks[2]
        .workouts
        .iter()
        .find(|p| p.workout.workout_type.is_hard())
        .unwrap();
    let text = ok_text(&mut run(tmp, &["today", "--date", &day.date.to_string()]));
    assert!(text.contains(&day.workout.name), "{text}");
    assert!(text.contains("Form: TSB"), "{text}");
    assert!(
        text.contains("checked:") || text.contains("Adjustments:\n  ["),
        "{text}"
    );
    let fit = text
        .lines()
        .find_map(|l| l.strip_prefix("Head unit (FIT): "))
        .expect("a FIT path");
    assert!(Path::new(fit).is_file(), "{fit}");
    let week = ok_text(&mut run(tmp, &["week", "--date", &day.date.to_string()]));
    assert!(week.contains("Week 3"), "{week}");
    assert!(week.contains('▶'));

    // A new report carries plan vs actual for the plan covering its last ride.
    ok_text(&mut run(
        tmp,
        &[
            "generate",
            "--provider",
            "offline",
            "--output-dir",
            "report2",
            "--skip-training-plan",
        ],
    ));
    let html = std::fs::read_to_string(tmp.join("report2/index.html")).unwrap();
    assert!(html.contains("<h2>Plan vs actual</h2>"));
    assert!(
        html.contains("faded at minute 7"),
        "no interval summary in the report"
    );
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.join("report2/report_data.json")).unwrap(),
    )
    .unwrap();
    let tue = data["plan_status"]["workouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["date"] == add(plan_start(), 1).to_string())
        .unwrap();
    assert_eq!(tue["status"], "partial");
}

fn value_str(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

#[test]
fn today_on_the_demo_data_prints_the_workout_its_adjustments_and_an_existing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    // Without --data-dir the demo keeps its database in demo/data.
    let mut demo = Command::new(env!("CARGO_BIN_EXE_cycling-ai"));
    demo.current_dir(tmp).env("NO_COLOR", "1");
    for var in common::provider_vars() {
        demo.env_remove(var);
    }
    ok_text(demo.args(["demo", "--rides", "30", "--out", "demo"]));
    let plan: TrainingPlan =
        serde_json::from_str(&std::fs::read_to_string(tmp.join("demo/report/plan.json")).unwrap())
            .unwrap();
    let first = plan.weeks[0]
        .workouts
        .iter()
        .find(|p| p.workout.workout_type.is_hard())
        .unwrap();
    let data = tmp.join("demo/data");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cycling-ai"));
    cmd.current_dir(tmp)
        .env("NO_COLOR", "1")
        .env_remove("CYCLING_AI_DATA_DIR")
        .arg("--data-dir")
        .arg(&data)
        .args(["--json", "today", "--date", &first.date.to_string()]);
    let j = ok_json(&mut cmd);
    assert_eq!(
        value_str(&j["workout"]["planned"]["workout"]["name"]),
        first.workout.name
    );
    let fit = PathBuf::from(value_str(&j["fit_file"]));
    let zwo = PathBuf::from(value_str(&j["zwo_file"]));
    assert!(fit.is_file() && zwo.is_file(), "{fit:?} {zwo:?}");
    // Form is known on demo data (a season of load), and every rule either fired with a reason
    // or was checked.
    let tsb = j["form"]["tsb"].as_f64().expect("form known");
    let adjustments = j["workout"]["adjustments"].as_array().unwrap();
    let checks = j["workout"]["checks"].as_array().unwrap();
    assert!(!adjustments.is_empty() || !checks.is_empty());
    for a in adjustments {
        assert!(!value_str(&a["rule"]).is_empty() && !value_str(&a["why"]).is_empty());
    }
    if tsb < -30.0 {
        assert_eq!(adjustments[0]["rule"], "deep-fatigue-swap");
    }
    // The human view prints the same workout, its targets and the file.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cycling-ai"));
    cmd.current_dir(tmp)
        .env("NO_COLOR", "1")
        .arg("--data-dir")
        .arg(&data)
        .args(["today", "--date", &first.date.to_string()]);
    let text = ok_text(&mut cmd);
    assert!(
        text.contains(&format!("Planned: {}", first.workout.name)),
        "{text}"
    );
    assert!(text.contains(" W "), "{text}");
    assert!(
        text.contains(&format!("Head unit (FIT): {}", fit.display())),
        "{text}"
    );
}
