//! `cycling-ai today` (`--tomorrow`, `--date D`) and `cycling-ai week`: the day's planned
//! workout adjusted for current form by named rules (`coach::today`), its targets in watts and
//! heart rate, and its FIT / Zwift files (the report's naming; written when missing).

use std::path::PathBuf;

use anyhow::{Context, Result};
use jiff::civil::Date;
use serde::Serialize;

use coach::plan::{PlanWeek, PlannedWorkout, TrainingPlan, WorkoutType, weekday_name};
use coach::today::{DayWorkout, adjust};

use super::plan::open;
use super::{Global, print_json};
use crate::args::TodayArgs;
use crate::term;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Day,
    Week,
}

#[derive(Serialize)]
struct DayJson {
    date: Date,
    weekday: &'static str,
    plan_id: i64,
    week: Option<u32>,
    phase: Option<coach::plan::Phase>,
    /// `None` on a rest day or outside the plan.
    workout: Option<DayWorkout>,
    fit_file: Option<PathBuf>,
    zwo_file: Option<PathBuf>,
    form: coach::today::Form,
    note: Option<String>,
}

#[derive(Serialize)]
struct WeekDayJson {
    date: Date,
    weekday: &'static str,
    workout_type: WorkoutType,
    name: Option<String>,
    duration_s: u32,
    tss: f64,
    status: Option<coach::follow::Status>,
}

#[derive(Serialize)]
struct WeekJson {
    plan_id: i64,
    week: u32,
    phase: coach::plan::Phase,
    start_date: Date,
    planned_hours: f64,
    planned_tss: f64,
    days: Vec<WeekDayJson>,
    today: DayJson,
}

fn week_of(plan: &TrainingPlan, d: Date) -> Option<&PlanWeek> {
    plan.weeks
        .iter()
        .find(|w| w.start_date <= d && d <= w.end_date())
}

fn planned_on(plan: &TrainingPlan, d: Date) -> Option<&PlannedWorkout> {
    week_of(plan, d)?
        .workouts
        .iter()
        .find(|p| p.date == d && p.workout.workout_type != WorkoutType::Rest)
}

pub fn run(global: &Global, args: TodayArgs, span: Span) -> Result<()> {
    let mut o = open(global, args.date.as_deref(), args.profile.as_deref())?;
    if args.tomorrow {
        o.day = o.day.tomorrow().context("no day after this one")?;
        // The plan covering tomorrow may be a newer one.
        if let Some(p) = agent::follow::current_plan(&o.store, o.ctx.athlete.id, o.day)? {
            o.current = p;
        }
    }
    let plan = &o.current.plan;
    let athlete_id = o.ctx.athlete.id;
    let form = agent::follow::form_on(&o.store, athlete_id, o.day)?;
    let dir = args
        .workouts_dir
        .clone()
        .unwrap_or_else(|| global.data_dir.join("workouts"));
    let week = week_of(plan, o.day);
    let mut day = DayJson {
        date: o.day,
        weekday: weekday_name::name(o.day.weekday()),
        plan_id: o.current.stored.id,
        week: week.map(|w| w.week),
        phase: week.map(|w| w.phase),
        workout: None,
        fit_file: None,
        zwo_file: None,
        form,
        note: None,
    };
    match (week, planned_on(plan, o.day)) {
        (Some(w), Some(p)) => {
            let lthr = o.ctx.profile.lthr_bpm.map(f64::from);
            let d = adjust(p, w.week, form, plan.ftp_w, lthr);
            if report::workouts::is_rideable(&d.workout) {
                let mut stem = report::workouts::file_stem(w.week, p.weekday, &p.workout.name);
                if let Some(a) = d.adjustments.iter().find(|a| a.rule != "fresh") {
                    stem = format!("{stem}-{}", a.rule);
                }
                // The file's creation time is the workout's morning: the same workout gives
                // the same bytes, whenever it is written.
                let created = o
                    .day
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .map(|z| z.timestamp())
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                let (fit, zwo) = report::workouts::write_one(&dir, &stem, &d.workout, created)
                    .with_context(|| format!("writing the workout files in {}", dir.display()))?;
                day.fit_file = Some(std::path::absolute(&fit).unwrap_or(fit));
                day.zwo_file = Some(std::path::absolute(&zwo).unwrap_or(zwo));
            }
            day.workout = Some(d);
        }
        (Some(_), None) => {
            let next = plan
                .weeks
                .iter()
                .flat_map(|w| &w.workouts)
                .find(|p| p.date > o.day && p.workout.workout_type != WorkoutType::Rest);
            day.note = Some(match next {
                Some(n) => format!(
                    "rest day; next: {} {} ({})",
                    n.date,
                    n.workout.name,
                    n.workout.workout_type.label()
                ),
                None => "rest day; the plan has no workout after it".to_owned(),
            });
        }
        (None, _) if o.day < plan.start_date => {
            day.note = Some(format!(
                "the plan starts on {}; nothing planned before it",
                plan.start_date
            ));
        }
        (None, _) => {
            day.note = Some(format!(
                "the plan ended on {}: make a new one with `cycling-ai generate`",
                plan.end_date()
            ));
        }
    }
    if span == Span::Day {
        if global.json {
            return print_json(&day);
        }
        print_day(&day);
        return Ok(());
    }
    let Some(w) = week else {
        if global.json {
            return print_json(&day);
        }
        print_day(&day);
        return Ok(());
    };
    let st = agent::follow::status(&o.store, athlete_id, plan, o.day, &[])?;
    let days = (0..7)
        .filter_map(|k| w.start_date.checked_add(jiff::Span::new().days(k)).ok())
        .map(|d| {
            let p = w
                .workouts
                .iter()
                .find(|p| p.date == d && p.workout.workout_type != WorkoutType::Rest);
            WeekDayJson {
                date: d,
                weekday: weekday_name::name(d.weekday()),
                workout_type: p.map_or(WorkoutType::Rest, |p| p.workout.workout_type),
                name: p.map(|p| p.workout.name.clone()),
                duration_s: p.map_or(0, |p| p.duration_s),
                tss: p.map_or(0.0, |p| p.tss),
                status: st
                    .workouts
                    .iter()
                    .find(|x| x.date == d && p.is_some())
                    .map(|x| x.status),
            }
        })
        .collect();
    let out = WeekJson {
        plan_id: o.current.stored.id,
        week: w.week,
        phase: w.phase,
        start_date: w.start_date,
        planned_hours: w.planned_hours,
        planned_tss: w.planned_tss,
        days,
        today: day,
    };
    if global.json {
        return print_json(&out);
    }
    println!(
        "{}",
        term::heading(&format!(
            "Week {} ({}), from {}: {:.1} h, {:.0} TSS — {}",
            out.week,
            out.phase.label(),
            out.start_date,
            out.planned_hours,
            out.planned_tss,
            w.focus
        ))
    );
    for d in &out.days {
        let mark = if d.date == out.today.date { "▶" } else { " " };
        match &d.name {
            Some(n) => println!(
                "{mark} {} {:<9} {:<10} {} · {} min · {:.0} TSS{}",
                d.date,
                d.weekday,
                d.workout_type.label(),
                n,
                d.duration_s / 60,
                d.tss,
                d.status
                    .map_or(String::new(), |s| format!(" · {}", s.label()))
            ),
            None => println!("{mark} {} {:<9} rest", d.date, d.weekday),
        }
    }
    println!();
    print_day(&out.today);
    Ok(())
}

fn watts(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(a), Some(b)) if (a - b).abs() < 0.5 => format!("{a:.0} W"),
        (Some(a), Some(b)) => format!("{a:.0}–{b:.0} W"),
        _ => String::new(),
    }
}

fn print_day(d: &DayJson) {
    let head = match d.week {
        Some(w) => format!(
            "{} {} — week {w}{}",
            capital(d.weekday),
            d.date,
            d.phase
                .map_or(String::new(), |p| format!(" ({})", p.label()))
        ),
        None => format!("{} {}", capital(d.weekday), d.date),
    };
    println!("{}", term::heading(&head));
    match d.form.tsb {
        Some(tsb) => println!(
            "Form: TSB {tsb:+.1} ({}){}",
            metrics::pmc::form_band(tsb),
            d.form
                .ctl
                .map_or(String::new(), |c| format!(", fitness CTL {c:.1}"))
        ),
        None => println!("Form: unknown (no training load recorded before this day)"),
    }
    if let Some(n) = &d.note {
        println!("{}", capital(n));
    }
    let Some(w) = &d.workout else {
        return;
    };
    println!(
        "Planned: {} ({}, {} min, {:.0} TSS)",
        w.planned.workout.name,
        w.planned.workout.workout_type.label(),
        w.planned.duration_s / 60,
        w.planned.tss
    );
    if w.adjustments.is_empty() {
        println!("Adjustments: none");
    } else {
        println!("Adjustments:");
        for a in &w.adjustments {
            println!("  [{}] {} — {}", a.rule, a.what, a.why);
        }
    }
    for c in &w.checks {
        println!("  checked: {c}");
    }
    println!(
        "Ride: {} ({}, {} min, {:.0} TSS)",
        w.workout.name,
        w.workout.workout_type.label(),
        w.duration_s / 60,
        w.tss
    );
    if !w.workout.description.trim().is_empty() {
        println!("  {}", w.workout.description.trim());
    }
    for s in &w.steps {
        let indent = "  ".repeat(s.depth as usize + 1);
        if s.power_low_w.is_none() {
            println!("{indent}{}", s.label);
            continue;
        }
        let hr = match (s.hr_low_bpm, s.hr_high_bpm) {
            // The first zone starts at 0: "up to" reads better than "0–113".
            (Some(a), Some(b)) if a <= 0.0 => format!("HR ≤ {b:.0} bpm"),
            (Some(a), Some(b)) => format!("HR {a:.0}–{b:.0} bpm"),
            (Some(a), None) => format!("HR ≥ {a:.0} bpm"),
            _ => String::new(),
        };
        println!(
            "{indent}{:<10} {:>9}  {:<11} {}{}",
            s.label,
            coach::intervals::duration_label(s.duration_s),
            watts(s.power_low_w, s.power_high_w),
            hr,
            if s.hr_lags {
                " (HR lags: ride by power)"
            } else {
                ""
            }
        );
    }
    if let (Some(f), Some(z)) = (&d.fit_file, &d.zwo_file) {
        println!("Head unit (FIT): {}", f.display());
        println!("Trainer (Zwift): {}", z.display());
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
