//! The rules every plan overview must pass, whoever wrote it (a model or the offline planner).
//!
//! Violations are phrased so that a model can repair the overview from the message alone: they
//! name the week, the days and the numbers involved and say what is allowed.
//!
//! Hours are everything on the calendar, strength sessions included — one budget, checked one
//! way (checking cycling-only hours in one place and all hours in another lets a plan pass one
//! check and break the other).
//!
//! Rules (the `rule` field of a [`Violation`]):
//! - `constraints`: the request itself is unusable (no available day, no hours);
//! - `plan_length`: 4–24 weeks and exactly the requested number; `week_numbers`: 1, 2, 3, …;
//! - `weekdays`: each week lists every weekday exactly once;
//! - `day_hours`: rest days have 0 h, workout days more than 0 and at most 8 h;
//! - `target_hours`: a week's target equals the sum of its days (±0.1 h);
//! - `available_days`: workouts only on the athlete's available days;
//! - `rest_day`: at least one rest day a week;
//! - `hard_days`: at most three hard days ([`WorkoutType::is_hard`]) a week;
//! - `consecutive_hard_days`: no two hard days back to back, also across a week boundary
//!   (Sunday → Monday) — an addition to the brief: back-to-back intensity is the classic way a
//!   plan with a legal count of hard days still buries the athlete;
//! - `weekly_hours`: Base/Build/Peak weeks within ±10 % of the available hours; Recovery and
//!   Taper weeks 25–45 % below them;
//! - `load_ramp`: a load week at most 10 % above the previous load week (recovery and taper
//!   weeks in between are skipped, so the comparison is load week to load week);
//! - `recovery_week`: at most three load weeks in a row (a recovery week every 3–4 weeks);
//! - `taper`: when the event date falls within the plan, the event's week or the week before
//!   it is a Taper week.

use std::fmt;

use jiff::civil::{Date, Weekday};
use serde::Serialize;

use crate::plan::{Phase, PlanOverview, WeekOverview, WorkoutType, weekday_name};

pub const MIN_WEEKS: u32 = 4;
pub const MAX_WEEKS: u32 = 24;
pub const MAX_HARD_DAYS: usize = 3;
pub const MAX_DAY_HOURS: f64 = 8.0;
/// Load weeks: hours within ±10 % of availability.
pub const LOAD_TOLERANCE: f64 = 0.10;
/// Recovery and taper weeks: 25–45 % below availability.
pub const EASY_WEEK_MIN: f64 = 0.55;
pub const EASY_WEEK_MAX: f64 = 0.75;
/// Week-to-week increase allowed between load weeks.
pub const MAX_RAMP: f64 = 0.10;
/// Longest run of load weeks without a recovery (or taper) week.
pub const MAX_LOAD_RUN: u32 = 3;
/// Floating-point slack on the bounds above, hours or fractions.
const EPS: f64 = 1e-6;

/// What the athlete asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanConstraints {
    pub weeks: u32,
    pub available_days: Vec<Weekday>,
    pub hours_per_week: f64,
    pub event_date: Option<Date>,
    /// The Monday the plan starts.
    pub start_date: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub week: Option<u32>,
    pub rule: &'static str,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Recovery and taper weeks are the easy weeks; the others carry load.
pub fn is_easy_phase(p: Phase) -> bool {
    matches!(p, Phase::Recovery | Phase::Taper)
}

/// 1-based week of the plan that contains `date`, if it falls within `weeks` weeks from `start`.
pub fn week_of(start: Date, weeks: u32, date: Date) -> Option<u32> {
    let days = i64::from(start.until(date).ok()?.get_days());
    (days >= 0 && days < i64::from(weeks) * 7).then(|| (days / 7) as u32 + 1)
}

fn day_names(days: &[Weekday]) -> String {
    days.iter()
        .map(|d| weekday_name::name(*d))
        .collect::<Vec<_>>()
        .join(", ")
}

fn week_hours(w: &WeekOverview) -> f64 {
    w.days
        .iter()
        .map(|d| d.hours)
        .filter(|h| h.is_finite())
        .sum()
}

/// Checks an overview against the rules (module docs); empty when it passes.
pub fn check_overview(o: &PlanOverview, c: &PlanConstraints) -> Vec<Violation> {
    check_overview_with(o, c, &[])
}

/// [`check_overview`] for a plan with declared days off (`plan adapt --unavailable`): a day off
/// must be a rest day, and its week's budget shrinks with the training days it takes away (a week
/// with two of five training days off has 3/5 of the hours), so `weekly_hours` is checked against
/// the shrunk budget. Such a week is not the base of the next week's `load_ramp` either: coming
/// back from a short week to the usual volume is not a ramp.
pub fn check_overview_with(
    o: &PlanOverview,
    c: &PlanConstraints,
    days_off: &[Date],
) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut push = |week: Option<u32>, rule: &'static str, message: String| {
        let message = match week {
            Some(w) => format!("week {w}: {message}"),
            None => message,
        };
        v.push(Violation {
            week,
            rule,
            message,
        });
    };
    let budget = c.hours_per_week;
    let budget_ok = budget.is_finite() && budget > 0.0;
    if !budget_ok {
        push(
            None,
            "constraints",
            format!("available hours per week must be positive, got {budget}"),
        );
    }
    if c.available_days.is_empty() {
        push(
            None,
            "constraints",
            "the athlete has no available training day".into(),
        );
    }
    if !(MIN_WEEKS..=MAX_WEEKS).contains(&c.weeks) {
        push(
            None,
            "constraints",
            format!(
                "a plan has {MIN_WEEKS}–{MAX_WEEKS} weeks; {} were requested",
                c.weeks
            ),
        );
    }
    let n = o.weeks.len();
    if !(MIN_WEEKS as usize..=MAX_WEEKS as usize).contains(&n) || n != c.weeks as usize {
        push(
            None,
            "plan_length",
            format!(
                "the plan has {n} weeks; it must have exactly {} (allowed {MIN_WEEKS}–{MAX_WEEKS})",
                c.weeks
            ),
        );
    }

    let mut prev_load: Option<(u32, f64)> = None;
    let mut load_run = 0u32;
    let mut prev_sunday_hard = false;
    for (i, w) in o.weeks.iter().enumerate() {
        let expected = i as u32 + 1;
        let wk = Some(expected);
        if w.week != expected {
            push(
                wk,
                "week_numbers",
                format!(
                    "is numbered {}; weeks are numbered 1, 2, 3, … in order",
                    w.week
                ),
            );
        }

        // Every weekday exactly once.
        let mut missing = Vec::new();
        let mut doubled = Vec::new();
        for (d, _) in weekday_name::ALL {
            match w.days.iter().filter(|x| x.weekday == d).count() {
                0 => missing.push(d),
                1 => {}
                _ => doubled.push(d),
            }
        }
        if !missing.is_empty() {
            push(
                wk,
                "weekdays",
                format!(
                    "missing {}; list all seven days, monday to sunday",
                    day_names(&missing)
                ),
            );
        }
        if !doubled.is_empty() {
            push(
                wk,
                "weekdays",
                format!(
                    "{} listed more than once; one entry per day",
                    day_names(&doubled)
                ),
            );
        }

        let week_start = c
            .start_date
            .checked_add(jiff::Span::new().days(7 * i as i64))
            .unwrap_or(c.start_date);
        let off: Vec<(Weekday, Date)> = days_off
            .iter()
            .filter_map(|d| {
                let k = i64::from(week_start.until(*d).ok()?.get_days());
                (0..7).contains(&k).then_some((d.weekday(), *d))
            })
            .collect();
        let trains = sorted(&c.available_days);
        let left = trains
            .iter()
            .filter(|d| !off.iter().any(|(w, _)| w == *d))
            .count();
        let share = if trains.is_empty() {
            1.0
        } else {
            left as f64 / trains.len() as f64
        };
        let budget = c.hours_per_week * share;

        for d in &w.days {
            let name = weekday_name::name(d.weekday);
            if d.workout_type != WorkoutType::Rest
                && let Some((_, date)) = off.iter().find(|(w, _)| *w == d.weekday)
            {
                push(
                    wk,
                    "available_days",
                    format!(
                        "{name} ({date}) is a day off the athlete cannot train; make {name} a rest day"
                    ),
                );
            }
            if d.workout_type == WorkoutType::Rest {
                if d.hours != 0.0 {
                    push(
                        wk,
                        "day_hours",
                        format!(
                            "{name} is a rest day with {} h; rest days have 0 h",
                            d.hours
                        ),
                    );
                }
            } else {
                if !(d.hours.is_finite() && d.hours > 0.0 && d.hours <= MAX_DAY_HOURS + EPS) {
                    push(
                        wk,
                        "day_hours",
                        format!(
                            "{name} has {} h of {}; a workout day needs more than 0 and at most {MAX_DAY_HOURS} h",
                            d.hours,
                            d.workout_type.label()
                        ),
                    );
                }
                if !c.available_days.contains(&d.weekday) {
                    push(
                        wk,
                        "available_days",
                        format!(
                            "{name} has a workout but the athlete trains only on {}; make {name} a rest day",
                            day_names(&sorted(&c.available_days))
                        ),
                    );
                }
            }
        }

        let total = week_hours(w);
        if !w.target_hours.is_finite() || (w.target_hours - total).abs() > 0.1 + EPS {
            push(
                wk,
                "target_hours",
                format!(
                    "target_hours is {} but the days add up to {:.2} h; they must agree",
                    w.target_hours, total
                ),
            );
        }

        if !w.days.iter().any(|d| d.workout_type == WorkoutType::Rest) {
            push(
                wk,
                "rest_day",
                "has no rest day; at least one day a week must be rest".into(),
            );
        }

        // Hard days, in weekday order.
        let mut hard: Vec<Weekday> = w
            .days
            .iter()
            .filter(|d| d.workout_type.is_hard())
            .map(|d| d.weekday)
            .collect();
        hard.sort_by_key(|d| d.to_monday_zero_offset());
        hard.dedup();
        if hard.len() > MAX_HARD_DAYS {
            push(
                wk,
                "hard_days",
                format!(
                    "{} hard days ({}); at most {MAX_HARD_DAYS}",
                    hard.len(),
                    day_names(&hard)
                ),
            );
        }
        for pair in hard.windows(2) {
            if pair[0].to_monday_zero_offset() + 1 == pair[1].to_monday_zero_offset() {
                push(
                    wk,
                    "consecutive_hard_days",
                    format!(
                        "hard days on {} and {} back to back; put an easier day or rest between them",
                        weekday_name::name(pair[0]),
                        weekday_name::name(pair[1])
                    ),
                );
            }
        }
        if prev_sunday_hard && hard.first() == Some(&Weekday::Monday) {
            push(
                wk,
                "consecutive_hard_days",
                "hard day on monday right after the previous week's hard sunday; make one of them easier".into(),
            );
        }
        prev_sunday_hard = hard.last() == Some(&Weekday::Sunday);

        if budget_ok && budget <= EPS {
            if total > EPS {
                push(
                    wk,
                    "weekly_hours",
                    format!(
                        "has {total:.2} h but every training day of the week is a day off; it must be all rest"
                    ),
                );
            }
        } else if budget_ok {
            let frac = total / budget;
            if is_easy_phase(w.phase) {
                if !(EASY_WEEK_MIN - EPS..=EASY_WEEK_MAX + EPS).contains(&frac) {
                    push(
                        wk,
                        "weekly_hours",
                        format!(
                            "{} week has {:.2} h ({:.0} % of {budget} h available); recovery and taper weeks need {:.2}–{:.2} h (25–45 % less)",
                            w.phase.label(),
                            total,
                            frac * 100.0,
                            budget * EASY_WEEK_MIN,
                            budget * EASY_WEEK_MAX
                        ),
                    );
                }
            } else {
                if (frac - 1.0).abs() > LOAD_TOLERANCE + EPS {
                    push(
                        wk,
                        "weekly_hours",
                        format!(
                            "has {:.2} h; {} weeks need {:.2}–{:.2} h (within 10 % of {budget} h available)",
                            total,
                            w.phase.label(),
                            budget * (1.0 - LOAD_TOLERANCE),
                            budget * (1.0 + LOAD_TOLERANCE)
                        ),
                    );
                }
                if let Some((pw, ph)) = prev_load
                    && ph > 0.0
                    && total > ph * (1.0 + MAX_RAMP) + EPS
                {
                    push(
                        wk,
                        "load_ramp",
                        format!(
                            "{:.2} h is {:.0} % more than load week {pw} ({:.2} h); at most +10 %, i.e. {:.2} h",
                            total,
                            (total / ph - 1.0) * 100.0,
                            ph,
                            ph * (1.0 + MAX_RAMP)
                        ),
                    );
                }
            }
        }

        if is_easy_phase(w.phase) {
            load_run = 0;
        } else {
            if off.is_empty() {
                prev_load = Some((expected, total));
            }
            load_run += 1;
            if load_run == MAX_LOAD_RUN + 1 {
                push(
                    wk,
                    "recovery_week",
                    format!(
                        "is the {}th load week in a row (weeks {}–{expected}); make week {expected} (or an earlier one) a Recovery week — one every 3–4 weeks",
                        load_run,
                        expected + 1 - load_run
                    ),
                );
            }
        }
    }

    if let Some(event) = c.event_date
        && let Some(ew) = week_of(c.start_date, c.weeks.min(n as u32), event)
    {
        let is_taper = |k: u32| {
            k >= 1
                && o.weeks
                    .get(k as usize - 1)
                    .is_some_and(|w| w.phase == Phase::Taper)
        };
        if !is_taper(ew) && !is_taper(ew.saturating_sub(1)) {
            let prev = if ew > 1 {
                format!(" or week {}", ew - 1)
            } else {
                String::new()
            };
            push(
                Some(ew),
                "taper",
                format!(
                    "holds the event on {event}; make this week{prev} a Taper week (lower volume, short sharp efforts)"
                ),
            );
        }
    }
    v
}

fn sorted(days: &[Weekday]) -> Vec<Weekday> {
    let mut d = days.to_vec();
    d.sort_by_key(|x| x.to_monday_zero_offset());
    d.dedup();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::DayPlan;
    use crate::planner::{ALL_DAYS, PlannerInput, offline_overview};
    use jiff::civil::date;

    fn constraints() -> PlanConstraints {
        PlanConstraints {
            weeks: 12,
            available_days: ALL_DAYS.to_vec(),
            hours_per_week: 8.0,
            event_date: Some(date(2025, 5, 24)),
            start_date: date(2025, 3, 3),
        }
    }

    fn valid() -> (PlanOverview, PlanConstraints) {
        let c = constraints();
        let o = offline_overview(&PlannerInput {
            constraints: c.clone(),
            goal: Some("gran fondo".into()),
            ctl: Some(45.0),
            ftp_w: 250.0,
            trains_strength: false,
            start_phase: None,
        });
        assert_eq!(check_overview(&o, &c), vec![]);
        (o, c)
    }

    fn set(o: &mut PlanOverview, week: usize, day: Weekday, t: WorkoutType, hours: f64) {
        let w = &mut o.weeks[week - 1];
        let d = w.days.iter_mut().find(|d| d.weekday == day).unwrap();
        d.workout_type = t;
        d.hours = hours;
        w.target_hours = w.days.iter().map(|d| d.hours).sum();
    }

    fn rules(v: &[Violation]) -> Vec<&'static str> {
        v.iter().map(|x| x.rule).collect()
    }

    /// Scales a week's day hours so the week totals `hours`.
    fn scale(o: &mut PlanOverview, week: usize, hours: f64) {
        let w = &mut o.weeks[week - 1];
        let f = hours / w.target_hours;
        for d in &mut w.days {
            d.hours *= f;
        }
        w.target_hours = hours;
    }

    #[test]
    fn four_hard_days_named_precisely() {
        let (mut o, c) = valid();
        // Keep the week's hours and break only the hard-day count (and adjacency).
        for d in [
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Saturday,
        ] {
            let h = o.weeks[2]
                .days
                .iter()
                .find(|x| x.weekday == d)
                .unwrap()
                .hours
                .max(1.0);
            set(&mut o, 3, d, WorkoutType::Threshold, h);
        }
        let v = check_overview(&o, &c);
        let hard: Vec<&Violation> = v.iter().filter(|x| x.rule == "hard_days").collect();
        assert_eq!(hard.len(), 1, "{v:?}");
        assert_eq!(hard[0].week, Some(3));
        assert_eq!(
            hard[0].message,
            "week 3: 4 hard days (tuesday, wednesday, thursday, saturday); at most 3"
        );
        assert!(v.iter().any(|x| x.rule == "consecutive_hard_days"
            && x.message == "week 3: hard days on tuesday and wednesday back to back; put an easier day or rest between them"));
    }

    #[test]
    fn length_numbering_and_weekdays() {
        let (o, c) = valid();
        let mut short = o.clone();
        short.weeks.pop();
        assert!(rules(&check_overview(&short, &c)).contains(&"plan_length"));
        let mut c3 = c.clone();
        c3.weeks = 3;
        let mut tiny = o.clone();
        tiny.weeks.truncate(3);
        let v = check_overview(&tiny, &c3);
        assert!(
            rules(&v).contains(&"constraints") && rules(&v).contains(&"plan_length"),
            "{v:?}"
        );

        let mut renum = o.clone();
        renum.weeks[4].week = 7;
        assert_eq!(rules(&check_overview(&renum, &c)), vec!["week_numbers"]);

        let mut missing = o.clone();
        missing.weeks[1]
            .days
            .retain(|d| d.weekday != Weekday::Monday);
        let v = check_overview(&missing, &c);
        assert!(
            v.iter()
                .any(|x| x.rule == "weekdays" && x.message.contains("missing monday")),
            "{v:?}"
        );

        let mut doubled = o.clone();
        let d = doubled.weeks[1].days[1].clone();
        doubled.weeks[1].days[0] = DayPlan { ..d };
        let v = check_overview(&doubled, &c);
        assert!(
            v.iter().any(
                |x| x.rule == "weekdays" && x.message.contains("tuesday listed more than once")
            ),
            "{v:?}"
        );
    }

    #[test]
    fn day_hours_target_rest_and_availability() {
        let (o, c) = valid();
        let mut rest_hours = o.clone();
        rest_hours.weeks[0].days[0].hours = 1.0; // Monday is the rest day
        let v = check_overview(&rest_hours, &c);
        assert!(
            rules(&v).contains(&"day_hours") && rules(&v).contains(&"target_hours"),
            "{v:?}"
        );

        let mut no_rest = o.clone();
        set(
            &mut no_rest,
            2,
            Weekday::Monday,
            WorkoutType::Endurance,
            0.0,
        );
        let v = check_overview(&no_rest, &c);
        assert!(
            rules(&v).contains(&"rest_day") && rules(&v).contains(&"day_hours"),
            "{v:?}"
        );

        let mut c2 = c.clone();
        c2.available_days.retain(|d| *d != Weekday::Saturday);
        let v = check_overview(&o, &c2);
        let a: Vec<&Violation> = v.iter().filter(|x| x.rule == "available_days").collect();
        assert!(!a.is_empty());
        assert!(a[0].message.contains("saturday has a workout but the athlete trains only on monday, tuesday, wednesday, thursday, friday, sunday"), "{}", a[0].message);
    }

    #[test]
    fn weekly_hours_ramp_recovery_and_taper() {
        let (o, c) = valid();
        let mut too_much = o.clone();
        scale(&mut too_much, 1, 9.5);
        let v = check_overview(&too_much, &c);
        assert!(
            v.iter().any(|x| x.rule == "weekly_hours"
                && x.week == Some(1)
                && x.message.contains("7.20–8.80 h")),
            "{v:?}"
        );

        // 7.25 h then 8.5 h: both within ±10 % of 8 h, but +17 %.
        let mut ramp = o.clone();
        scale(&mut ramp, 1, 7.25);
        scale(&mut ramp, 2, 8.5);
        scale(&mut ramp, 3, 8.5);
        let v = check_overview(&ramp, &c);
        assert_eq!(rules(&v), vec!["load_ramp"], "{v:?}");
        assert!(
            v[0].message
                .starts_with("week 2: 8.50 h is 17 % more than load week 1 (7.25 h)"),
            "{}",
            v[0].message
        );

        let rec = o
            .weeks
            .iter()
            .position(|w| w.phase == Phase::Recovery)
            .unwrap();
        let mut no_rec = o.clone();
        no_rec.weeks[rec].phase = Phase::Build;
        let v = check_overview(&no_rec, &c);
        assert!(rules(&v).contains(&"recovery_week"), "{v:?}");
        assert!(rules(&v).contains(&"weekly_hours"), "{v:?}");

        let mut rec_too_hard = o.clone();
        scale(&mut rec_too_hard, rec + 1, 7.0);
        let v = check_overview(&rec_too_hard, &c);
        assert!(v.iter().any(|x| x.rule == "weekly_hours" && x.message.contains("Recovery week has 7.00 h")), "{v:?}");

        let mut no_taper = o.clone();
        for w in &mut no_taper.weeks {
            if w.phase == Phase::Taper {
                w.phase = Phase::Recovery;
            }
        }
        let v = check_overview(&no_taper, &c);
        assert!(
            v.iter().any(|x| x.rule == "taper"
                && x.week == Some(12)
                && x.message.contains("week 12: holds the event on 2025-05-24")),
            "{v:?}"
        );
        // No event in the plan: no taper needed.
        let mut c2 = c.clone();
        c2.event_date = Some(date(2026, 1, 1));
        assert!(!rules(&check_overview(&no_taper, &c2)).contains(&"taper"));
    }

    #[test]
    fn hard_sunday_then_hard_monday_across_weeks() {
        let (mut o, c) = valid();
        set(&mut o, 5, Weekday::Sunday, WorkoutType::Vo2max, 1.0);
        set(&mut o, 6, Weekday::Monday, WorkoutType::Threshold, 1.0);
        let v = check_overview(&o, &c);
        assert!(
            v.iter()
                .any(|x| x.rule == "consecutive_hard_days" && x.week == Some(6)),
            "{v:?}"
        );
    }

    #[test]
    fn week_of_counts_from_the_start_monday() {
        let s = date(2025, 3, 3);
        assert_eq!(week_of(s, 4, s), Some(1));
        assert_eq!(week_of(s, 4, date(2025, 3, 9)), Some(1));
        assert_eq!(week_of(s, 4, date(2025, 3, 10)), Some(2));
        assert_eq!(week_of(s, 4, date(2025, 3, 30)), Some(4));
        assert_eq!(week_of(s, 4, date(2025, 3, 31)), None);
        assert_eq!(week_of(s, 4, date(2025, 3, 2)), None);
    }
}
