//! Re-planning the remaining weeks of a plan after what happened: missed or extra sessions, a
//! fatigue signal, days off, a moved event. The rule-based planner does it here; whatever writes
//! the new weeks, the result is checked against the same plan rules as a new plan
//! ([`crate::rules::check_overview_with`]).
//!
//! What is kept: every week that has started (history is not rewritten — today's week included
//! unless today is its Monday). What is decided again, week by week from the first week not
//! started:
//! - **taper**: in the week(s) before and of the event (two weeks for an event in week 10 or
//!   later, as a new plan), wherever the event now is;
//! - **recovery**: after at most three load weeks counted across the kept weeks, and at once when
//!   form has been below [`FATIGUE_TSB`] for [`FATIGUE_DAYS`] days or more;
//! - **a week back**: after a week with less than half of its planned load done (missed
//!   sessions), the first load week starts at the bottom of the volume band and holds one key
//!   session fewer; after a week well over plan (extra sessions), it does not ramp;
//! - **days off**: rest, and their week's hours shrink with the training days they take;
//! - phases and volume otherwise follow the plan as it was (the last load weeks before the taper
//!   are Peak as many as the old plan had).

use std::collections::BTreeSet;

use jiff::civil::{Date, Weekday};
use serde::Serialize;

use crate::follow::WeekCompliance;
use crate::plan::{DayPlan, Phase, PlanOverview, TrainingPlan, WeekOverview, WorkoutType};
use crate::planner::{
    FillInput, PlannerInput, UNIT_H, add_days, fill_plan, is_crit_goal, lay_out_week,
    quantise_week, week_focus,
};
use crate::rules::{
    LOAD_TOLERANCE, MAX_LOAD_RUN, MAX_WEEKS, PlanConstraints, Violation, check_overview_with,
    is_easy_phase, week_of,
};

/// Form below this for [`FATIGUE_DAYS`] days in a row is a fatigue signal.
pub const FATIGUE_TSB: f64 = -25.0;
pub const FATIGUE_DAYS: u32 = 3;
/// A week with less than this share of its planned load done counts as missed.
pub const MISSED_SHARE: f64 = 0.5;
/// A week with more than this share of its planned load done counts as overreached.
pub const EXTRA_SHARE: f64 = 1.2;
/// The first load week after a missed week: this share of the weekly hours.
const RESUME_FACTOR: f64 = 1.0 - LOAD_TOLERANCE;

/// Form below [`FATIGUE_TSB`] for several days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fatigue {
    /// Days in a row, ending on the last day looked at.
    pub days: u32,
    pub lowest_tsb: f64,
}

/// The fatigue signal in a run of daily form values (oldest first), if the last
/// [`FATIGUE_DAYS`] or more are below [`FATIGUE_TSB`].
pub fn fatigue_signal(tsb_by_day: &[f64]) -> Option<Fatigue> {
    let run: Vec<f64> = tsb_by_day
        .iter()
        .rev()
        .take_while(|t| **t < FATIGUE_TSB)
        .copied()
        .collect();
    (run.len() as u32 >= FATIGUE_DAYS).then(|| Fatigue {
        days: run.len() as u32,
        lowest_tsb: run.iter().copied().fold(f64::INFINITY, f64::min),
    })
}

/// What the athlete asked for and what the data say.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptRequest {
    pub today: Date,
    /// The athlete's words, kept with the new version.
    pub reason: Option<String>,
    /// Inclusive date ranges the athlete cannot train.
    pub unavailable: Vec<(Date, Date)>,
    /// The event's new date, when it moved.
    pub event_date: Option<Date>,
    /// The last week before the re-planned ones, as it was done.
    pub last_week: Option<WeekCompliance>,
    pub fatigue: Option<Fatigue>,
    /// Current training days and weekly hours (the profile's).
    pub available_days: Vec<Weekday>,
    pub hours_per_week: f64,
}

/// One re-planned week compared with the old plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub week: u32,
    pub start_date: Date,
    /// "Build 8.00 h" (or "—" for a week the old plan did not have).
    pub before: String,
    pub after: String,
    /// Days whose workout type changed: "tuesday threshold → rest".
    pub days: Vec<String>,
    pub why: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adapted {
    pub plan: TrainingPlan,
    /// First re-planned week (1-based).
    pub from_week: u32,
    pub changes: Vec<Change>,
    /// The signals read, in words (also when they changed nothing).
    pub signals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AdaptError {
    #[error("the plan ended on {end}: there is no week left to re-plan; make a new plan")]
    Finished { end: Date },
    #[error(
        "the event on {event} is more than {MAX_WEEKS} weeks after the plan's start ({start}); make a new plan for it"
    )]
    EventTooFar { event: Date, start: Date },
    #[error("the event on {event} is before the first re-planned week ({from}); give a later date")]
    EventPassed { event: Date, from: Date },
    #[error("unavailable {from}..{to}: the start is after the end")]
    BadRange { from: Date, to: Date },
    #[error("the re-planned weeks break the plan rules: {}", .0.iter().map(|v| v.message.clone()).collect::<Vec<_>>().join("; "))]
    Rules(Vec<Violation>),
}

#[derive(Debug, Clone)]
struct Spec {
    phase: Phase,
    factor: f64,
    /// One key session fewer (the first week back).
    ease: bool,
    why: Vec<String>,
}

/// Where a re-plan starts and what it must keep: the part shared by the rule-based planner and
/// a model's re-plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// First re-planned week, 0-based (weeks before it are kept).
    pub from: usize,
    /// Weeks of the new plan (more than the old when the event moved later).
    pub weeks: usize,
    pub event: Option<Date>,
    /// 1-based week of the event, when it falls in the plan.
    pub event_week: Option<usize>,
    /// Every day off, old and new.
    pub days_off: Vec<Date>,
    /// The rules' view of the whole new plan.
    pub constraints: PlanConstraints,
    /// The signals read, in words.
    pub signals: Vec<String>,
}

/// The frame of a re-plan of `plan` from the first week that has not started on `req.today`.
pub fn frame(plan: &TrainingPlan, req: &AdaptRequest) -> Result<Frame, AdaptError> {
    for (a, b) in &req.unavailable {
        if a > b {
            return Err(AdaptError::BadRange { from: *a, to: *b });
        }
    }
    let k0 = plan
        .weeks
        .iter()
        .position(|w| w.start_date >= req.today)
        .ok_or(AdaptError::Finished {
            end: plan.end_date(),
        })?;
    let from = plan.weeks[k0].start_date;
    let event = req.event_date.or(plan.event_date);
    let mut n = plan.weeks.len();
    let mut event_week: Option<usize> = None;
    if let Some(e) = event {
        if req.event_date.is_some() {
            // A moved event: the plan runs to it (up to the longest plan).
            if e < from {
                return Err(AdaptError::EventPassed { event: e, from });
            }
            let ew = week_of(plan.start_date, MAX_WEEKS, e).ok_or(AdaptError::EventTooFar {
                event: e,
                start: plan.start_date,
            })? as usize;
            n = n.max(ew);
            event_week = Some(ew);
        } else {
            // The plan's own event: tapered into when it falls in the plan; one beyond the plan
            // (a base block before a later season) does not lengthen it unasked.
            event_week = week_of(plan.start_date, n as u32, e).map(|w| w as usize);
        }
    }
    let mut days_off: BTreeSet<Date> = plan.days_off.iter().copied().collect();
    for (a, b) in &req.unavailable {
        let mut d = *a;
        while d <= *b {
            days_off.insert(d);
            d = match d.tomorrow() {
                Ok(x) => x,
                Err(_) => break,
            };
        }
    }
    Ok(Frame {
        from: k0,
        weeks: n,
        event,
        event_week,
        days_off: days_off.into_iter().collect(),
        constraints: PlanConstraints {
            weeks: n as u32,
            available_days: req.available_days.clone(),
            hours_per_week: req.hours_per_week,
            event_date: event,
            start_date: plan.start_date,
        },
        signals: signals(plan, req),
    })
}

/// Re-plans `plan` from the first week that has not started on `req.today`, by the rules
/// (module docs).
pub fn adapt(plan: &TrainingPlan, req: &AdaptRequest) -> Result<Adapted, AdaptError> {
    let f = frame(plan, req)?;
    let (k0, n) = (f.from, f.weeks);
    let days_off = &f.days_off;
    let budget = req.hours_per_week;
    let specs = week_specs(plan, req, k0, n, f.event_week, budget);

    // Lay the weeks out as the offline planner does, on each week's own training days.
    let mut input = PlannerInput {
        constraints: f.constraints.clone(),
        goal: plan.goal.clone(),
        ctl: None,
        ftp_w: plan.ftp_w,
        trains_strength: plan
            .weeks
            .iter()
            .flat_map(|w| &w.workouts)
            .any(|p| p.workout.workout_type == WorkoutType::Strength),
        start_phase: None,
    };
    let crit = is_crit_goal(plan.goal.as_deref());
    let kept = &plan.overview.weeks[..k0.min(plan.overview.weeks.len())];
    let mut prev_load = kept
        .iter()
        .rev()
        .find(|w| !is_easy_phase(w.phase))
        .map(|w| w.target_hours);
    let mut prev_sunday_hard = kept.last().is_some_and(|w| {
        w.days
            .iter()
            .any(|d| d.weekday == Weekday::Sunday && d.workout_type.is_hard())
    });
    let mut new_weeks: Vec<WeekOverview> = Vec::new();
    let mut whys: Vec<Vec<String>> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let week_no = (k0 + i) as u32 + 1;
        let start = add_days(plan.start_date, 7 * (k0 + i) as i64);
        let off: Vec<Date> = days_off
            .iter()
            .copied()
            .filter(|d| *d >= start && *d <= add_days(start, 6))
            .collect();
        let mut trains: Vec<Weekday> = req.available_days.clone();
        trains.sort_by_key(|d| d.to_monday_zero_offset());
        trains.dedup();
        let total_days = trains.len().max(1);
        trains.retain(|d| !off.iter().any(|o| o.weekday() == *d));
        let share = trains.len() as f64 / total_days as f64;
        let week_budget = budget * share;
        let mut phase = spec.phase;
        let mut why = spec.why.clone();
        if !off.is_empty() {
            why.push(format!(
                "unavailable {}: {} of {} training days left",
                ranges_text(&off),
                trains.len(),
                total_days
            ));
        }
        if trains.is_empty() && !is_easy_phase(phase) {
            phase = Phase::Recovery;
        }
        let easy = is_easy_phase(phase);
        let total = if week_budget > 0.0 {
            quantise_week(
                spec.factor * week_budget,
                week_budget,
                easy,
                if off.is_empty() { prev_load } else { None },
            )
        } else {
            0.0
        };
        let units = (total / UNIT_H).round() as u32;
        input.constraints.available_days = trains.clone();
        let mut days = if trains.is_empty() {
            all_rest()
        } else {
            lay_out_week(units, phase, &input, prev_sunday_hard, crit)
        };
        if spec.ease {
            ease_one_key_session(&mut days);
        }
        prev_sunday_hard = days[6].workout_type.is_hard();
        let target_hours: f64 = days.iter().map(|d| d.hours).sum();
        if !easy && off.is_empty() {
            prev_load = Some(target_hours);
        }
        new_weeks.push(WeekOverview {
            week: week_no,
            phase,
            focus: week_focus(phase, &days, crit),
            days,
            target_hours,
        });
        whys.push(why);
    }
    finish(plan, req, &f, new_weeks, &whys)
}

/// The rules the re-planned weeks `new_weeks` (weeks `frame.from + 1 ..`) break within the
/// whole new plan; empty when they pass. The kept weeks were checked when they were planned
/// (under the availability of that time) and cannot change, so only the new weeks — and the
/// plan-wide rules such as the taper — are held against them.
pub fn check_new_weeks(
    plan: &TrainingPlan,
    f: &Frame,
    new_weeks: &[WeekOverview],
) -> Vec<Violation> {
    let kept = &plan.overview.weeks[..f.from.min(plan.overview.weeks.len())];
    let overview = PlanOverview {
        weeks: kept.iter().chain(new_weeks).cloned().collect(),
        coaching_notes: String::new(),
        monitoring: String::new(),
    };
    check_overview_with(&overview, &f.constraints, &f.days_off)
        .into_iter()
        .filter(|v| v.week.is_none_or(|w| w as usize > f.from) && v.rule != "constraints")
        .collect()
}

/// The new plan from the kept weeks and `new_weeks` (checked here again), filled from the
/// library, with the changes against the old plan; `whys[i]` says why week `from + i` is as
/// it is.
pub fn finish(
    plan: &TrainingPlan,
    req: &AdaptRequest,
    f: &Frame,
    new_weeks: Vec<WeekOverview>,
    whys: &[Vec<String>],
) -> Result<Adapted, AdaptError> {
    let k0 = f.from;
    let broken = check_new_weeks(plan, f, &new_weeks);
    if !broken.is_empty() {
        return Err(AdaptError::Rules(broken));
    }
    let kept = &plan.overview.weeks[..k0.min(plan.overview.weeks.len())];
    let mut overview_weeks: Vec<WeekOverview> = kept.to_vec();
    overview_weeks.extend(new_weeks.iter().cloned());
    let mut notes = plan.overview.coaching_notes.clone();
    notes.push_str(&format!(
        " Adapted on {} from week {}{}.",
        req.today,
        k0 + 1,
        req.reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    ));
    let overview = PlanOverview {
        weeks: overview_weeks,
        coaching_notes: notes,
        monitoring: plan.overview.monitoring.clone(),
    };
    // Fill only the new weeks; the kept weeks keep their workouts as they were.
    let tail = PlanOverview {
        weeks: new_weeks,
        coaching_notes: String::new(),
        monitoring: String::new(),
    };
    let filled = fill_plan(
        &tail,
        &FillInput {
            start_date: add_days(plan.start_date, 7 * k0 as i64),
            ftp_w: plan.ftp_w,
            seed: plan.seed,
            event_date: f.event,
            goal: plan.goal.clone(),
        },
    );
    let mut weeks = plan.weeks[..k0].to_vec();
    weeks.extend(filled.weeks);
    let new_plan = TrainingPlan {
        start_date: plan.start_date,
        ftp_w: plan.ftp_w,
        event_date: f.event,
        goal: plan.goal.clone(),
        seed: plan.seed,
        overview,
        weeks,
        days_off: f.days_off.clone(),
    };
    let changes = changes(plan, &new_plan, k0, whys);
    Ok(Adapted {
        plan: new_plan,
        from_week: k0 as u32 + 1,
        changes,
        signals: f.signals.clone(),
    })
}

fn all_rest() -> Vec<DayPlan> {
    crate::plan::weekday_name::ALL
        .iter()
        .map(|(d, _)| DayPlan {
            weekday: *d,
            workout_type: WorkoutType::Rest,
            hours: 0.0,
        })
        .collect()
}

/// The last hard day of the week becomes endurance of the same length.
fn ease_one_key_session(days: &mut [DayPlan]) {
    let hard = days.iter().filter(|d| d.workout_type.is_hard()).count();
    if hard >= 2
        && let Some(d) = days.iter_mut().rev().find(|d| d.workout_type.is_hard())
    {
        d.workout_type = WorkoutType::Endurance;
    }
}

fn ranges_text(days: &[Date]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let mut j = i;
        while j + 1 < days.len() && days[j].tomorrow().ok() == Some(days[j + 1]) {
            j += 1;
        }
        out.push(if i == j {
            days[i].to_string()
        } else {
            format!("{}..{}", days[i], days[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

/// Phase, volume and reasons for every re-planned week (`k0..n`, 0-based).
fn week_specs(
    plan: &TrainingPlan,
    req: &AdaptRequest,
    k0: usize,
    n: usize,
    event_week: Option<usize>,
    budget: f64,
) -> Vec<Spec> {
    let old = &plan.overview.weeks;
    let old_factor = |i: usize| {
        old.get(i)
            .filter(|w| !is_easy_phase(w.phase) && budget > 0.0)
            .map_or(1.0, |w| (w.target_hours / budget).clamp(0.9, 1.1))
    };
    let old_taper_len = old.iter().filter(|w| w.phase == Phase::Taper).count();
    let old_peaks = old[k0.min(old.len())..]
        .iter()
        .filter(|w| w.phase == Phase::Peak)
        .count();
    // Taper weeks: the event's week and (for an event in week 10 or later) the one before, as
    // a new plan would have — or as many as the old plan had, when it had a taper.
    let (taper_start, post_event) = match event_week {
        Some(ew) => {
            let len = if old_taper_len > 0 {
                old_taper_len.min(2)
            } else if ew >= 10 {
                2
            } else {
                1
            };
            (ew.saturating_sub(len), ew)
        }
        None => (n, n),
    };
    let mut run = old[..k0.min(old.len())]
        .iter()
        .rev()
        .take_while(|w| !is_easy_phase(w.phase))
        .count() as u32;

    let share = req
        .last_week
        .as_ref()
        .filter(|w| w.planned_tss > 0.0)
        .map(|w| w.actual_tss / w.planned_tss);
    let resume = share.is_some_and(|s| s < MISSED_SHARE);
    let no_ramp = share.is_some_and(|s| s > EXTRA_SHARE);
    let fatigue = req.fatigue;

    // Load weeks before the taper: the last `old_peaks` are Peak.
    let mut specs: Vec<Spec> = Vec::with_capacity(n - k0);
    let mut first_load = true;
    for i in k0..n {
        let mut why = Vec::new();
        if i >= old.len()
            && let Some(e) = req.event_date
        {
            why.push(format!("added: the plan now runs to the event on {e}"));
        }
        if i >= taper_start && i < post_event {
            if old.get(i).map(|w| w.phase) != Some(Phase::Taper) {
                why.push(format!(
                    "taper into the event on {}",
                    req.event_date
                        .or(plan.event_date)
                        .map_or(String::new(), |d| d.to_string())
                ));
            }
            let factor = old
                .get(i)
                .filter(|w| w.phase == Phase::Taper && budget > 0.0)
                .map_or(if i + 1 == post_event { 0.62 } else { 0.72 }, |w| {
                    w.target_hours / budget
                });
            specs.push(Spec {
                phase: Phase::Taper,
                factor,
                ease: false,
                why,
            });
            run = 0;
            continue;
        }
        if i >= post_event {
            // After the event: a recovery week, then base.
            let phase = if i == post_event || run >= MAX_LOAD_RUN {
                run = 0;
                Phase::Recovery
            } else {
                run += 1;
                Phase::Base
            };
            specs.push(Spec {
                phase,
                factor: if phase == Phase::Recovery { 0.6 } else { 0.95 },
                ease: false,
                why,
            });
            continue;
        }
        let recovery = if i == k0 && fatigue.is_some() {
            let f = fatigue.unwrap_or(Fatigue {
                days: 0,
                lowest_tsb: 0.0,
            });
            why.push(format!(
                "recovery first: form below {FATIGUE_TSB:.0} for {} days (lowest {:.1})",
                f.days, f.lowest_tsb
            ));
            true
        } else if run >= MAX_LOAD_RUN {
            if old.get(i).map(|w| w.phase) != Some(Phase::Recovery) {
                why.push(format!("a recovery week after {run} load weeks in a row"));
            }
            true
        } else {
            false
        };
        if recovery {
            run = 0;
            specs.push(Spec {
                phase: Phase::Recovery,
                factor: 0.65,
                ease: false,
                why,
            });
            continue;
        }
        run += 1;
        let mut factor = old_factor(i);
        let mut ease = false;
        if first_load && resume {
            factor = factor.min(RESUME_FACTOR);
            ease = true;
            if let Some(w) = &req.last_week {
                why.push(format!(
                    "back after a missed week {}: the lowest volume of the band and one key session fewer",
                    w.week
                ));
            }
        } else if first_load && no_ramp {
            factor = factor.min(1.0);
            if let Some(w) = &req.last_week {
                why.push(format!("week {} went over plan: no ramp this week", w.week));
            }
        }
        if old.get(i).is_some_and(|w| is_easy_phase(w.phase)) && why.is_empty() {
            why.push("a load week now: the recovery week moved".into());
        }
        first_load = false;
        specs.push(Spec {
            phase: Phase::Build,
            factor,
            ease,
            why,
        });
    }
    // Phases of the load weeks: the old phase where it was a load phase, the last `old_peaks`
    // load weeks before the taper Peak.
    let load_idx: Vec<usize> = (0..specs.len())
        .filter(|&j| k0 + j < taper_start && !is_easy_phase(specs[j].phase))
        .collect();
    for (pos, &j) in load_idx.iter().enumerate() {
        let i = k0 + j;
        let from_end = load_idx.len() - pos;
        specs[j].phase = if event_week.is_some() && from_end <= old_peaks {
            Phase::Peak
        } else {
            match old.get(i).map(|w| w.phase) {
                Some(p @ (Phase::Base | Phase::Build)) => p,
                _ => (i..old.len())
                    .chain((0..i).rev())
                    .filter_map(|x| old.get(x).map(|w| w.phase))
                    .find(|p| matches!(p, Phase::Base | Phase::Build))
                    .unwrap_or(Phase::Build),
            }
        };
    }
    specs
}

/// The signals of a request in words: the last whole week as done, the fatigue signal, a
/// moved event.
fn signals(plan: &TrainingPlan, req: &AdaptRequest) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(w) = req.last_week.as_ref().filter(|w| w.planned_tss > 0.0) {
        out.push(format!(
            "week {}: {:.0} of {:.0} planned TSS done ({} of {} sessions completed, {} missed, {} unplanned)",
            w.week,
            w.actual_tss,
            w.planned_tss,
            w.completed,
            w.planned_workouts,
            w.missed,
            w.unplanned
        ));
    }
    if let Some(f) = req.fatigue {
        out.push(format!(
            "form below {FATIGUE_TSB:.0} for {} days (lowest {:.1})",
            f.days, f.lowest_tsb
        ));
    }
    if let Some(e) = req.event_date
        && plan.event_date != Some(e)
    {
        out.push(match plan.event_date {
            Some(old) => format!("the event moved from {old} to {e}"),
            None => format!("an event on {e}"),
        });
    }
    out
}

fn week_line(w: Option<&WeekOverview>) -> String {
    w.map_or_else(
        || "—".to_owned(),
        |w| format!("{} {:.2} h", w.phase.label(), w.target_hours),
    )
}

fn changes(old: &TrainingPlan, new: &TrainingPlan, k0: usize, whys: &[Vec<String>]) -> Vec<Change> {
    let n = old.overview.weeks.len().max(new.overview.weeks.len());
    let mut out = Vec::new();
    for i in k0..n {
        let (a, b) = (old.overview.weeks.get(i), new.overview.weeks.get(i));
        let mut days = Vec::new();
        if let (Some(a), Some(b)) = (a, b) {
            for (d, name) in crate::plan::weekday_name::ALL {
                let ta = a
                    .days
                    .iter()
                    .find(|x| x.weekday == d)
                    .map(|x| x.workout_type);
                let tb = b
                    .days
                    .iter()
                    .find(|x| x.weekday == d)
                    .map(|x| x.workout_type);
                if ta != tb {
                    days.push(format!(
                        "{name} {} → {}",
                        ta.map_or("—", WorkoutType::label),
                        tb.map_or("—", WorkoutType::label)
                    ));
                }
            }
        }
        let before = week_line(a);
        let after = week_line(b);
        let why = whys.get(i - k0).cloned().unwrap_or_default();
        if before != after || !days.is_empty() {
            let start = add_days(old.start_date, 7 * i as i64);
            out.push(Change {
                week: i as u32 + 1,
                start_date: start,
                before,
                after,
                days,
                why,
            });
        }
    }
    out
}
