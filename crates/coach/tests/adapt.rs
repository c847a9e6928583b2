//! `plan adapt`: re-planning the remaining weeks passes every plan rule, keeps the event and its
//! taper, keeps the weeks already ridden, and says what changed and why.

mod common;

use coach::adapt::{AdaptRequest, Fatigue, adapt, fatigue_signal};
use coach::follow::plan_status;
use coach::plan::{Phase, TrainingPlan, WorkoutType};
use coach::rules::{PlanConstraints, check_overview_with};
use common::*;
use jiff::civil::Date;

fn request(plan: &TrainingPlan, today: Date) -> AdaptRequest {
    let c = constraints(plan.weeks.len() as u32);
    AdaptRequest {
        today,
        reason: None,
        unavailable: Vec::new(),
        event_date: None,
        last_week: None,
        fatigue: None,
        available_days: c.available_days,
        hours_per_week: c.hours_per_week,
    }
}

fn hard_days(plan: &TrainingPlan, week: usize) -> usize {
    plan.overview.weeks[week - 1]
        .days
        .iter()
        .filter(|d| d.workout_type.is_hard())
        .count()
}

fn assert_passes_rules(plan: &TrainingPlan, c: &PlanConstraints) {
    let v = check_overview_with(&plan.overview, c, &plan.days_off);
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn after_a_missed_week_the_plan_passes_every_rule_and_keeps_the_event_and_taper() {
    let plan = plan();
    // Week 1 ridden as planned, week 2 not at all; today is the Monday of week 3.
    let sessions: Vec<_> = week(&plan, 1)
        .iter()
        .enumerate()
        .map(|(i, p)| session(i as i64 + 1, p.date, &ride_power(p, |_, w| w)))
        .collect();
    let today = add_days(start(), 14);
    let status = plan_status(&plan, &sessions, today, |_| None);
    let mut req = request(&plan, today);
    req.last_week = Some(status.weeks[1].clone());
    req.reason = Some("ill for a week".into());
    let out = adapt(&plan, &req).unwrap();
    let new = &out.plan;

    assert_passes_rules(new, &constraints(11));
    assert_eq!(out.from_week, 3);
    assert_eq!(new.event_date, Some(event()));
    assert_eq!(new.weeks.len(), 11);
    assert_eq!(new.weeks[9].phase, Phase::Taper);
    assert_eq!(new.weeks[10].phase, Phase::Taper);
    assert_eq!(new.end_date(), event());
    // The weeks already ridden are kept as they were.
    assert_eq!(new.weeks[..2], plan.weeks[..2]);
    // Week 3 is the week back: lower volume and one key session fewer.
    let (old3, new3) = (&plan.overview.weeks[2], &new.overview.weeks[2]);
    assert!(
        new3.target_hours < old3.target_hours,
        "{} vs {}",
        new3.target_hours,
        old3.target_hours
    );
    assert!(new3.target_hours >= 8.0 * 0.9 - 1e-9);
    assert_eq!(hard_days(new, 3), hard_days(&plan, 3) - 1);
    // Said what changed and why.
    let c3 = out
        .changes
        .iter()
        .find(|c| c.week == 3)
        .expect("week 3 changed");
    assert!(c3.why.iter().any(|w| w.contains("missed week 2")), "{c3:?}");
    assert!(
        out.signals[0].starts_with("week 2: 0 of 410 planned TSS done"),
        "{:?}",
        out.signals
    );
    assert!(new.overview.coaching_notes.contains("ill for a week"));
    // The weekly totals still agree with the workouts.
    for w in &new.weeks {
        let sum: f64 = w.workouts.iter().map(|p| p.tss).sum();
        assert!((sum - w.planned_tss).abs() < 0.5);
    }
}

#[test]
fn a_fatigue_signal_makes_the_next_week_a_recovery_week() {
    let plan = plan();
    assert_eq!(plan.overview.weeks[2].phase, Phase::Base);
    let mut req = request(&plan, add_days(start(), 14));
    req.fatigue = fatigue_signal(&[-12.0, -26.0, -29.5, -31.0, -27.0]);
    assert_eq!(
        req.fatigue,
        Some(Fatigue {
            days: 4,
            lowest_tsb: -31.0
        })
    );
    let out = adapt(&plan, &req).unwrap();
    assert_passes_rules(&out.plan, &constraints(11));
    assert_eq!(out.plan.overview.weeks[2].phase, Phase::Recovery);
    let c3 = out.changes.iter().find(|c| c.week == 3).unwrap();
    assert_eq!(
        c3.before,
        format!("Base {:.2} h", plan.overview.weeks[2].target_hours)
    );
    assert!(c3.after.starts_with("Recovery"), "{c3:?}");
    assert!(
        c3.why[0].contains("form below -25 for 4 days (lowest -31.0)"),
        "{c3:?}"
    );
    // Still tapers into the same event.
    assert_eq!(out.plan.overview.weeks[10].phase, Phase::Taper);
    // Two days above the threshold is no signal.
    assert_eq!(fatigue_signal(&[-30.0, -30.0, -20.0]), None);
}

#[test]
fn days_off_are_rest_and_shrink_their_week() {
    let plan = plan();
    let mut req = request(&plan, add_days(start(), 14));
    // Away from Tuesday to Thursday of week 6 (three of five training days).
    let tue = add_days(start(), 36);
    req.unavailable = vec![(tue, add_days(tue, 2))];
    let out = adapt(&plan, &req).unwrap();
    assert_passes_rules(&out.plan, &constraints(11));
    assert_eq!(out.plan.days_off.len(), 3);
    let w6 = &out.plan.weeks[5];
    for off in &out.plan.days_off {
        assert!(w6.workouts.iter().all(|p| p.date != *off), "{off}");
    }
    assert!(out.plan.overview.weeks[5].target_hours <= 8.0 * 2.0 / 5.0 * 1.1 + 1e-9);
    let c6 = out.changes.iter().find(|c| c.week == 6).unwrap();
    assert!(
        c6.why
            .iter()
            .any(|w| w.contains("unavailable") && w.contains("2 of 5")),
        "{c6:?}"
    );
    // A whole week away: all rest, and still within the rules.
    let mut req = request(&plan, add_days(start(), 14));
    req.unavailable = vec![(add_days(start(), 35), add_days(start(), 41))];
    let out = adapt(&plan, &req).unwrap();
    assert_passes_rules(&out.plan, &constraints(11));
    assert!(out.plan.weeks[5].workouts.is_empty());
}

#[test]
fn a_moved_event_moves_the_taper_and_lengthens_the_plan() {
    let plan = plan();
    let mut req = request(&plan, add_days(start(), 21));
    let later = add_days(event(), 14);
    req.event_date = Some(later);
    let out = adapt(&plan, &req).unwrap();
    let mut c = constraints(13);
    c.event_date = Some(later);
    assert_passes_rules(&out.plan, &c);
    assert_eq!(out.plan.weeks.len(), 13);
    assert_eq!(out.plan.event_date, Some(later));
    assert_eq!(out.plan.weeks[12].phase, Phase::Taper);
    assert_eq!(out.plan.weeks[11].phase, Phase::Taper);
    assert_ne!(out.plan.weeks[9].phase, Phase::Taper);
    assert!(
        out.signals
            .iter()
            .any(|s| s.contains(&format!("moved from {} to {later}", event())))
    );
    let c12 = out.changes.iter().find(|c| c.week == 12).unwrap();
    assert_eq!(c12.before, "—");
    assert!(
        c12.why[0].contains("the plan now runs to the event"),
        "{c12:?}"
    );
    // An event before the re-planned weeks cannot be planned for.
    req.event_date = Some(add_days(start(), 10));
    assert!(
        adapt(&plan, &req)
            .unwrap_err()
            .to_string()
            .contains("before the first re-planned week")
    );
    // Nor a plan that has ended.
    let req = request(&plan, add_days(event(), 1));
    assert!(
        adapt(&plan, &req)
            .unwrap_err()
            .to_string()
            .contains("no week left")
    );
}

#[test]
fn an_event_beyond_the_plan_does_not_lengthen_it_unasked() {
    let mut plan = plan();
    // The profile's event is months after this plan (a base block before the season).
    plan.event_date = Some(add_days(event(), 120));
    for w in &mut plan.overview.weeks {
        if w.phase == Phase::Taper {
            w.phase = Phase::Recovery;
        }
    }
    let out = adapt(&plan, &request(&plan, add_days(start(), 14))).unwrap();
    assert_eq!(out.plan.weeks.len(), 11);
    assert_eq!(out.plan.event_date, plan.event_date);
    assert!(out.plan.weeks.iter().all(|w| w.phase != Phase::Taper));
}

#[test]
fn without_a_signal_the_remaining_weeks_stay_as_planned() {
    let plan = plan();
    let out = adapt(&plan, &request(&plan, add_days(start(), 14))).unwrap();
    assert!(out.changes.is_empty(), "{:#?}", out.changes);
    assert_eq!(out.plan.overview.weeks, plan.overview.weeks);
    let types = |p: &TrainingPlan| -> Vec<WorkoutType> {
        p.weeks
            .iter()
            .flat_map(|w| &w.workouts)
            .map(|x| x.workout.workout_type)
            .collect()
    };
    assert_eq!(types(&out.plan), types(&plan));
}
