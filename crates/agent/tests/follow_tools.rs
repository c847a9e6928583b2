//! The follow-through tools over a real store: `plan_status` judges intervals from the imported
//! ride files, `fitness_projection` carries the plan's own TSS forward, `adapt_plan` previews
//! and stores only with the preview's token — each for the tools' own athlete only.

use std::path::Path;

use agent::toolbox::{ToolBox, ToolError};
use agent::tools::CoachTools;
use coach::plan::{PlannedWorkout, TrainingPlan};
use coach::planner::{FillInput, PlannerInput, fill_plan, offline_overview};
use coach::rules::PlanConstraints;
use jiff::civil::{Date, Weekday, date};
use ride::profile::Profile;
use serde_json::{Value, json};
use store::{ImportSource, Store};

const FTP: f64 = 250.0;

fn start() -> Date {
    date(2026, 3, 2)
}

fn add(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap()
}

fn profile() -> Profile {
    Profile::from_json_str(
        r#"{"name": "A", "ftp_w": 250, "lthr_bpm": 170, "timezone": "UTC",
            "training_availability": {"hours_per_week": 8,
              "week_days": ["tuesday", "wednesday", "thursday", "saturday", "sunday"]}}"#,
        "test profile",
    )
    .unwrap()
}

fn plan() -> TrainingPlan {
    let c = PlanConstraints {
        weeks: 11,
        available_days: vec![
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Saturday,
            Weekday::Sunday,
        ],
        hours_per_week: 8.0,
        event_date: Some(date(2026, 5, 17)),
        start_date: start(),
    };
    let o = offline_overview(&PlannerInput {
        constraints: c.clone(),
        goal: None,
        ctl: None,
        ftp_w: FTP,
        trains_strength: false,
        start_phase: None,
    });
    fill_plan(
        &o,
        &FillInput {
            start_date: start(),
            ftp_w: FTP,
            seed: 3,
            event_date: c.event_date,
            goal: None,
        },
    )
}

fn write_ride(dir: &Path, day: Date, power: &[f64]) {
    std::fs::create_dir_all(dir).unwrap();
    let bytes = demo::follow::ride_fit(day, power).unwrap();
    std::fs::write(dir.join(format!("{day}.fit")), bytes).unwrap();
}

fn ridden(p: &PlannedWorkout, edit: impl Fn(usize, f64) -> f64) -> Vec<f64> {
    demo::follow::workout_power(&p.workout.steps, FTP, edit)
}

struct World {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    a: i64,
    b: i64,
    plan: TrainingPlan,
}

/// Athlete A: the plan, its first interval session ridden with the last interval fading, the
/// rest of weeks 1–2 missed. Athlete B: the same rides ridden perfectly, and its own plan.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut store = Store::open(&data).unwrap();
    let prof = profile();
    let a = store
        .upsert_athlete("a", Some(&prof.to_canonical_value()))
        .unwrap()
        .id;
    let b = store
        .upsert_athlete("b", Some(&prof.to_canonical_value()))
        .unwrap()
        .id;
    let plan = plan();
    let tue = plan.weeks[0]
        .workouts
        .iter()
        .find(|p| p.date == add(start(), 1))
        .unwrap();
    assert!(tue.workout.workout_type.is_hard());
    let last = *coach::intervals::work_intervals(&tue.workout.steps)
        .last()
        .unwrap();
    let fade =
        (last.planned_start_s + 390) as usize..(last.planned_start_s + last.duration_s) as usize;
    let rides_a = dir.path().join("rides-a");
    write_ride(
        &rides_a,
        tue.date,
        &ridden(tue, |t, w| if fade.contains(&t) { 0.6 * FTP } else { w }),
    );
    let rides_b = dir.path().join("rides-b");
    write_ride(&rides_b, tue.date, &ridden(tue, |_, w| w));
    for (id, rides) in [(a, &rides_a), (b, &rides_b)] {
        store::import(
            &mut store,
            id,
            &ImportSource::FitDir(rides.clone()),
            &prof,
            &|_| {},
        )
        .unwrap();
        store
            .save_plan(
                id,
                &plan.start_date.to_string(),
                &plan.end_date().to_string(),
                "offline",
                &serde_json::to_string(&plan).unwrap(),
            )
            .unwrap();
    }
    World {
        _dir: dir,
        data,
        a,
        b,
        plan,
    }
}

fn tools(w: &World, athlete: i64, today: Date) -> CoachTools {
    CoachTools::new(w.data.clone(), athlete, Some(profile()), today)
}

fn call(t: &CoachTools, name: &str, args: Value) -> Value {
    match t.call(name, &args) {
        Ok(s) => s.output,
        Err(e) => panic!("{name}({args}): {e}"),
    }
}

#[test]
fn plan_status_judges_the_intervals_of_the_athletes_own_ride() {
    let w = world();
    let today = add(start(), 7);
    let out = call(&tools(&w, w.a, today), "plan_status", json!({"week": 1}));
    let tue = &out["workouts"][0];
    assert_eq!(tue["date"], add(start(), 1).to_string());
    assert_eq!(tue["status"], "partial");
    let summary = tue["intervals"]["summary"].as_str().unwrap();
    assert!(summary.ends_with("faded at minute 7"), "{summary}");
    assert_eq!(out["workouts"][1]["status"], "missed");
    assert!(out["weeks"][0]["compliance_pct"].as_f64().unwrap() < 40.0);
    // Athlete B rode the same session cleanly: its own status, not A's.
    let out_b = call(&tools(&w, w.b, today), "plan_status", json!({"week": 1}));
    assert_eq!(out_b["workouts"][0]["status"], "completed");
    assert!(
        out_b["workouts"][0]["intervals"]["summary"]
            .as_str()
            .unwrap()
            .ends_with(" hit")
    );
    // Default: the current week and the one before; a week outside the plan is refused.
    let out = call(&tools(&w, w.a, add(start(), 8)), "plan_status", json!({}));
    let weeks: Vec<i64> = out["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["week"].as_i64().unwrap())
        .collect();
    assert_eq!(weeks, [1, 2]);
    match tools(&w, w.a, today).call("plan_status", &json!({"week": 12})) {
        Err(ToolError::InvalidArguments { message, .. }) => {
            assert!(message.contains("1 to 11"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fitness_projection_carries_the_plans_own_tss_to_the_event() {
    let w = world();
    let today = add(start(), 7);
    let out = call(&tools(&w, w.a, today), "fitness_projection", json!({}));
    let after: f64 = w
        .plan
        .weeks
        .iter()
        .flat_map(|x| &x.workouts)
        .filter(|p| p.date > today)
        .map(|p| p.tss)
        .sum();
    assert!((out["planned_tss_total"].as_f64().unwrap() - after).abs() <= 0.5);
    assert_eq!(out["event"]["date"], "2026-05-17");
    assert!(
        out["event"]["sentence"]
            .as_str()
            .unwrap()
            .starts_with("arrives on 2026-05-17 with CTL")
    );
    assert!(out["weeks"].as_array().unwrap().len() <= 11);
}

#[test]
fn adapt_plan_previews_then_stores_a_new_version_only_with_the_preview_token() {
    let w = world();
    let today = add(start(), 14); // Monday of week 3: week 2 missed entirely.
    let t = tools(&w, w.a, today);
    let latest = |id| {
        Store::open(&w.data)
            .unwrap()
            .latest_plan(id)
            .unwrap()
            .unwrap()
            .id
    };
    let before = latest(w.a);
    let args = json!({"reason": "ill in week 2"});
    let preview = call(&t, "adapt_plan", args.clone());
    assert_eq!(preview["preview"], true);
    assert_eq!(preview["changed"], true);
    assert!(
        preview["signals"][0]
            .as_str()
            .unwrap()
            .starts_with("week 2:"),
        "{preview:#}"
    );
    assert!(
        preview["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("week 3 "))
    );
    assert_eq!(latest(w.a), before, "a preview stores nothing");
    // Apply needs the token, and the right one.
    let mut apply = args.clone();
    apply["apply"] = json!(true);
    match t.call("adapt_plan", &apply) {
        Err(ToolError::InvalidArguments { message, .. }) => {
            assert!(message.contains("preview_token"))
        }
        other => panic!("{other:?}"),
    }
    apply["preview_token"] = json!("0000000000000000");
    assert!(matches!(
        t.call("adapt_plan", &apply),
        Err(ToolError::Failed { .. })
    ));
    assert_eq!(latest(w.a), before);
    apply["preview_token"] = preview["preview_token"].clone();
    let stored = call(&t, "adapt_plan", apply);
    assert_eq!(stored["stored"], true);
    assert_eq!(stored["new_version"], 2);
    let new_id = stored["new_plan_id"].as_i64().unwrap();
    assert_eq!(latest(w.a), new_id);
    let store = Store::open(&w.data).unwrap();
    let line = store.plan_versions(w.a, new_id).unwrap();
    assert_eq!(
        line.iter().map(|p| p.id).collect::<Vec<_>>(),
        [before, new_id]
    );
    // B's plan is untouched.
    assert_eq!(store.plan_versions(w.b, latest(w.b)).unwrap().len(), 1);
    // Bad arguments are named.
    let msg = |args: Value| match t.call("adapt_plan", &args) {
        Err(ToolError::InvalidArguments { message, .. }) => message,
        other => panic!("{other:?}"),
    };
    assert!(msg(json!({"reason": "x".repeat(201)})).contains("reason"));
    assert!(
        msg(json!({"unavailable": [{"from": "2026-04-10", "to": "2026-04-01"}]}))
            .contains("unavailable[0]")
    );
    let many: Vec<Value> = (0..11)
        .map(|_| json!({"from": "2026-04-01", "to": "2026-04-01"}))
        .collect();
    assert!(msg(json!({"unavailable": many})).contains("at most 10"));
}

/// Each follow-through tool's answer stays small enough for a chat turn (the same 6,000
/// character bound as the other tools), at its widest: two weeks of workouts, a 24-week
/// projection, a preview re-planning most of an 11-week plan.
#[test]
fn answers_are_bounded() {
    let w = world();
    let today = add(start(), 14);
    let t = tools(&w, w.a, today);
    for (name, args) in [
        ("plan_status", json!({})),
        ("fitness_projection", json!({})),
        (
            "adapt_plan",
            json!({"reason": "ill", "unavailable": [{"from": "2026-04-07", "to": "2026-04-12"}]}),
        ),
    ] {
        let text = call(&t, name, args).to_string();
        println!("{name}: {} chars", text.chars().count());
        assert!(
            text.chars().count() <= 6_000,
            "{name}: {} chars",
            text.chars().count()
        );
    }
    // What the three tools add to chat's stable prefix (name, description and schema).
    let defs: usize = t
        .definitions()
        .iter()
        .filter(|d| ["plan_status", "fitness_projection", "adapt_plan"].contains(&d.name.as_str()))
        .map(|d| d.name.len() + d.description.len() + d.schema.to_string().len())
        .sum();
    println!("definitions: {defs} chars");
    assert!(defs < 6_000, "{defs}");
}
