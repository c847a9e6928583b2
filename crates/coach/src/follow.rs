//! Plan vs actual, per workout: which activity fulfilled which planned workout, how much of it was
//! done, how its load compares, which intervals were hit, and a compliance score per week.
//!
//! **Matching.** A planned workout is fulfilled by an activity of the right sport (a ride for a
//! bike workout, a strength session for a strength workout) on its day or a day either side. All
//! candidate pairs are ranked by a cost — half a point per day moved, the difference in intensity
//! factor (×5), and the log ratio of load to planned TSS — and taken cheapest first, so a session
//! swapped with its neighbour (Tuesday's sweet spot ridden on Wednesday and Wednesday's endurance
//! on Tuesday) is read as two moved sessions, not as two failed ones. Whatever is left is listed:
//! planned workouts as missed (or upcoming), activities as unplanned.
//!
//! **Scores.** A matched workout is *completed* when duration and load both reach 80 % of the
//! plan and every work interval was hit, else *partial*. Its score is the load agreement
//! (1 − |1 − load/planned|, 0–1) times the share of intervals hit; a week's compliance is the
//! planned-TSS-weighted mean over its workouts that are due (missed ones score 0), so missing the
//! key session costs more than missing a recovery spin. Extra sessions never raise the score.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::intervals::{self, IntervalResult};
use crate::plan::{PlannedWorkout, TrainingPlan, WorkoutType};
use crate::planned_tss::planned_if;

/// What kind of session an activity is, as far as the plan cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Ride,
    Strength,
    Other,
}

/// A recorded activity, as the comparison needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActualSession {
    pub id: i64,
    pub date: Date,
    pub kind: SessionKind,
    pub name: String,
    pub duration_s: f64,
    /// Training load (TSS, else hrTSS, else estimated).
    pub load: Option<f64>,
    pub intensity_factor: Option<f64>,
}

/// Duration and load both at least this share of the plan: completed.
pub const COMPLETE_SHARE: f64 = 0.8;
/// Matching cost of moving a session by one day.
const DAY_COST: f64 = 0.5;
/// Matching cost of one unit of intensity-factor difference.
const IF_COST: f64 = 5.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Completed,
    Partial,
    Missed,
    /// Today or later, nothing recorded yet.
    Upcoming,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Partial => "partial",
            Status::Missed => "missed",
            Status::Upcoming => "upcoming",
        }
    }
}

/// The intervals of one structured workout as ridden.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalReport {
    pub total: usize,
    pub hit: usize,
    /// "4 × 10 min sweet spot: 3 hit, 1 faded at minute 7".
    pub summary: String,
    pub results: Vec<IntervalResult>,
}

/// One planned workout and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkoutOutcome {
    pub week: u32,
    pub date: Date,
    pub workout_type: WorkoutType,
    pub name: String,
    pub planned_duration_s: u32,
    pub planned_tss: f64,
    pub status: Status,
    pub actual: Option<ActualSession>,
    /// Days the session was moved (actual date − planned date): −1, 0 or +1.
    pub moved_days: i64,
    /// Actual / planned duration, %.
    pub completion_pct: Option<f64>,
    /// Actual load / planned TSS.
    pub load_ratio: Option<f64>,
    /// `None` for unstructured workouts, or when the ride has no power to judge them by.
    pub intervals: Option<IntervalReport>,
    /// Why the intervals were not judged, when the workout has some.
    pub intervals_note: Option<String>,
    /// 0–1; `None` while upcoming.
    pub score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekCompliance {
    pub week: u32,
    pub start_date: Date,
    pub planned_workouts: usize,
    pub completed: usize,
    pub partial: usize,
    pub missed: usize,
    pub upcoming: usize,
    pub moved: usize,
    pub unplanned: usize,
    pub planned_tss: f64,
    pub actual_tss: f64,
    /// Planned-TSS-weighted score of the due workouts, 0–100; `None` before anything is due.
    pub compliance_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStatus {
    pub as_of: Date,
    pub workouts: Vec<WorkoutOutcome>,
    /// Activities in the plan's dates that fulfil no planned workout.
    pub unplanned: Vec<ActualSession>,
    pub weeks: Vec<WeekCompliance>,
}

fn fits_sport(t: WorkoutType, kind: SessionKind) -> bool {
    match t {
        WorkoutType::Rest => false,
        WorkoutType::Strength => kind == SessionKind::Strength,
        _ => kind == SessionKind::Ride,
    }
}

fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map_or(i64::MAX, |s| i64::from(s.get_days()))
}

fn match_cost(p: &PlannedWorkout, a: &ActualSession) -> Option<f64> {
    if !fits_sport(p.workout.workout_type, a.kind) {
        return None;
    }
    let moved = days_between(p.date, a.date);
    if moved.abs() > 1 {
        return None;
    }
    let intensity = match (a.intensity_factor, planned_if(&p.workout.steps)) {
        (Some(actual), planned) if planned > 0.0 && actual.is_finite() => {
            (actual - planned).abs() * IF_COST
        }
        _ => 0.0,
    };
    let load = match a.load {
        Some(l) if l.is_finite() && p.tss > 0.0 => ((l.max(0.0) + 1.0) / (p.tss + 1.0)).ln().abs(),
        _ => 0.0,
    };
    Some(moved.abs() as f64 * DAY_COST + intensity + load)
}

/// Pairs (planned index, actual index), cheapest first, each used once.
fn match_all(planned: &[&PlannedWorkout], actual: &[ActualSession]) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        for (j, a) in actual.iter().enumerate() {
            if let Some(c) = match_cost(p, a) {
                pairs.push((c, i, j));
            }
        }
    }
    // Ties go to the earlier planned workout and activity: deterministic.
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let (mut p_used, mut a_used) = (vec![false; planned.len()], vec![false; actual.len()]);
    let mut out = Vec::new();
    for (_, i, j) in pairs {
        if !p_used[i] && !a_used[j] {
            p_used[i] = true;
            a_used[j] = true;
            out.push((i, j));
        }
    }
    out
}

/// Compares `plan` with `actual` (activities of any dates; those outside the plan ±1 day are
/// ignored) as of `as_of` (workouts after it are upcoming unless already done). `power` returns
/// a ride's 1 Hz power (timer-on, 0 where missing) by activity id, `None` when it has none;
/// it is asked only for rides matched to structured workouts.
pub fn plan_status(
    plan: &TrainingPlan,
    actual: &[ActualSession],
    as_of: Date,
    mut power: impl FnMut(i64) -> Option<Vec<f64>>,
) -> PlanStatus {
    let planned: Vec<(&PlannedWorkout, u32)> = plan
        .weeks
        .iter()
        .flat_map(|w| w.workouts.iter().map(move |p| (p, w.week)))
        .filter(|(p, _)| p.workout.workout_type != WorkoutType::Rest)
        .collect();
    let first = plan.start_date.yesterday().unwrap_or(plan.start_date);
    let last = plan.end_date().tomorrow().unwrap_or(Date::MAX).min(as_of);
    let actual: Vec<ActualSession> = actual
        .iter()
        .filter(|a| a.date >= first && a.date <= last)
        .cloned()
        .collect();
    let refs: Vec<&PlannedWorkout> = planned.iter().map(|(p, _)| *p).collect();
    let pairs = match_all(&refs, &actual);
    let by_planned: BTreeMap<usize, usize> = pairs.iter().copied().collect();

    let mut workouts = Vec::with_capacity(planned.len());
    for (i, (p, week)) in planned.iter().enumerate() {
        let a = by_planned.get(&i).map(|&j| actual[j].clone());
        workouts.push(outcome(plan, p, *week, a, as_of, &mut power));
    }
    let matched: Vec<usize> = pairs.iter().map(|&(_, j)| j).collect();
    let unplanned: Vec<ActualSession> = actual
        .iter()
        .enumerate()
        .filter(|(j, a)| !matched.contains(j) && a.date >= plan.start_date)
        .map(|(_, a)| a.clone())
        .collect();
    let weeks = plan
        .weeks
        .iter()
        .map(|w| week_compliance(w.week, w.start_date, w.end_date(), &workouts, &unplanned))
        .collect();
    PlanStatus {
        as_of,
        workouts,
        unplanned,
        weeks,
    }
}

fn outcome(
    plan: &TrainingPlan,
    p: &PlannedWorkout,
    week: u32,
    actual: Option<ActualSession>,
    as_of: Date,
    power: &mut impl FnMut(i64) -> Option<Vec<f64>>,
) -> WorkoutOutcome {
    let mut o = WorkoutOutcome {
        week,
        date: p.date,
        workout_type: p.workout.workout_type,
        name: p.workout.name.clone(),
        planned_duration_s: p.duration_s,
        planned_tss: p.tss,
        status: if p.date >= as_of {
            Status::Upcoming
        } else {
            Status::Missed
        },
        actual: None,
        moved_days: 0,
        completion_pct: None,
        load_ratio: None,
        intervals: None,
        intervals_note: None,
        score: (p.date < as_of).then_some(0.0),
    };
    let Some(a) = actual else {
        return o;
    };
    o.moved_days = days_between(p.date, a.date);
    o.completion_pct = (p.duration_s > 0).then(|| a.duration_s / f64::from(p.duration_s) * 100.0);
    o.load_ratio = match a.load {
        Some(l) if p.tss > 0.0 && l.is_finite() => Some(l / p.tss),
        _ => None,
    };
    let planned_iv = intervals::work_intervals(&p.workout.steps);
    if !planned_iv.is_empty() {
        match power(a.id) {
            Some(series) if series.iter().any(|w| *w > 0.0) => {
                let results = intervals::judge(&planned_iv, &series, plan.ftp_w);
                o.intervals = Some(IntervalReport {
                    total: results.len(),
                    hit: results.iter().filter(|r| r.verdict.is_hit()).count(),
                    summary: intervals::summary_line(&results, p.workout.workout_type.label()),
                    results,
                });
            }
            _ => {
                o.intervals_note =
                    Some("not judged: no power recorded for this activity".to_owned())
            }
        }
    }
    let enough = |x: Option<f64>, full: f64| x.is_none_or(|v| v >= full);
    let intervals_ok = o.intervals.as_ref().is_none_or(|r| r.hit == r.total);
    o.status = if enough(o.completion_pct, COMPLETE_SHARE * 100.0)
        && enough(o.load_ratio, COMPLETE_SHARE)
        && intervals_ok
    {
        Status::Completed
    } else {
        Status::Partial
    };
    let load_score = o
        .load_ratio
        .or(o.completion_pct.map(|c| c / 100.0))
        .map_or(1.0, |r| (1.0 - (1.0 - r).abs()).clamp(0.0, 1.0));
    let interval_share = o
        .intervals
        .as_ref()
        .map_or(1.0, |r| r.hit as f64 / r.total.max(1) as f64);
    o.score = Some(load_score * interval_share);
    o.actual = Some(a);
    o
}

fn week_compliance(
    week: u32,
    start: Date,
    end: Date,
    workouts: &[WorkoutOutcome],
    unplanned: &[ActualSession],
) -> WeekCompliance {
    let mine: Vec<&WorkoutOutcome> = workouts.iter().filter(|w| w.week == week).collect();
    let count = |s: Status| mine.iter().filter(|w| w.status == s).count();
    let extra: Vec<&ActualSession> = unplanned
        .iter()
        .filter(|a| a.date >= start && a.date <= end)
        .collect();
    let due: Vec<&&WorkoutOutcome> = mine.iter().filter(|w| w.score.is_some()).collect();
    let weight: f64 = due.iter().map(|w| w.planned_tss.max(1.0)).sum();
    let compliance_pct = (!due.is_empty()).then(|| {
        due.iter()
            .map(|w| w.planned_tss.max(1.0) * w.score.unwrap_or(0.0))
            .sum::<f64>()
            / weight
            * 100.0
    });
    let load = |a: &ActualSession| a.load.filter(|l| l.is_finite()).unwrap_or(0.0);
    WeekCompliance {
        week,
        start_date: start,
        planned_workouts: mine.len(),
        completed: count(Status::Completed),
        partial: count(Status::Partial),
        missed: count(Status::Missed),
        upcoming: count(Status::Upcoming),
        moved: mine.iter().filter(|w| w.moved_days != 0).count(),
        unplanned: extra.len(),
        planned_tss: mine.iter().map(|w| w.planned_tss).sum::<f64>() + 0.0,
        actual_tss: mine
            .iter()
            .filter_map(|w| w.actual.as_ref())
            .map(load)
            .sum::<f64>()
            + extra.iter().map(|a| load(a)).sum::<f64>()
            // An empty float sum is −0.0, which prints as "-0".
            + 0.0,
        compliance_pct,
    }
}
