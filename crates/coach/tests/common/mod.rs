//! A real plan (the offline planner filled from the library) and rides built from its own
//! workouts, second by second, for the follow-through tests.

#![allow(dead_code)]

use coach::follow::{ActualSession, SessionKind};
use coach::plan::{PlannedWorkout, TrainingPlan, WorkoutType};
use coach::planner::{FillInput, PlannerInput, fill_plan, offline_overview};
use coach::rules::PlanConstraints;
use jiff::civil::{Date, Weekday, date};

pub const FTP: f64 = 250.0;

pub fn start() -> Date {
    date(2026, 3, 2)
}

pub fn event() -> Date {
    date(2026, 5, 17)
}

pub fn constraints(weeks: u32) -> PlanConstraints {
    PlanConstraints {
        weeks,
        available_days: vec![
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Saturday,
            Weekday::Sunday,
        ],
        hours_per_week: 8.0,
        event_date: Some(event()),
        start_date: start(),
    }
}

/// An 11-week plan into an event on the Sunday of week 11.
pub fn plan() -> TrainingPlan {
    let c = constraints(11);
    let overview = offline_overview(&PlannerInput {
        constraints: c.clone(),
        goal: Some("Gran fondo".into()),
        ctl: Some(50.0),
        ftp_w: FTP,
        trains_strength: false,
        start_phase: None,
    });
    fill_plan(
        &overview,
        &FillInput {
            start_date: start(),
            ftp_w: FTP,
            seed: 7,
            event_date: c.event_date,
            goal: Some("Gran fondo".into()),
        },
    )
}

/// 1 Hz power of `p` ridden exactly as planned (ramps linear), then edited by `edit(second,
/// planned watts)`.
pub fn ride_power(p: &PlannedWorkout, edit: impl Fn(usize, f64) -> f64) -> Vec<f64> {
    let mut out = Vec::new();
    for seg in coach::plan::segments(&p.workout.steps) {
        let d = seg.duration_s as usize;
        for s in 0..d {
            let f = s as f64 / d.max(1) as f64;
            let pct = seg.from_pct + (seg.to_pct - seg.from_pct) * f;
            let t = out.len();
            out.push(edit(t, pct / 100.0 * FTP));
        }
    }
    out
}

/// The activity a head unit would record for `power` on `day`: TSS from its NP.
pub fn session(id: i64, day: Date, power: &[f64]) -> ActualSession {
    let np = metrics::power::normalized_power(power).unwrap_or(0.0);
    let secs = power.len() as f64;
    ActualSession {
        id,
        date: day,
        kind: SessionKind::Ride,
        name: format!("ride {id}"),
        duration_s: secs,
        load: metrics::power::tss(np, FTP, secs),
        intensity_factor: metrics::power::intensity_factor(np, FTP),
    }
}

/// The plan's workouts in a week, in date order (rest days left out).
pub fn week(plan: &TrainingPlan, n: u32) -> Vec<&PlannedWorkout> {
    plan.weeks[n as usize - 1]
        .workouts
        .iter()
        .filter(|p| p.workout.workout_type != WorkoutType::Rest)
        .collect()
}

pub fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap()
}
