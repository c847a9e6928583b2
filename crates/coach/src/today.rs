//! "What do I ride today": the day's planned workout, adjusted for current form by explicit,
//! named rules, with its targets in watts and heart rate.
//!
//! The rules (applied in this order; each says why when it fires):
//! - `deep-fatigue-swap`: form below −30 (the high-risk band) turns a hard session into endurance
//!   of the same length, at most 90 min — intervals on deep fatigue dig the hole deeper;
//! - `deep-fatigue-shorten`: form below −30 cuts an easy or long ride by a quarter;
//! - `no-back-to-back`: a hard session the day after a hard ride (intensity factor ≥ 0.85, e.g. a
//!   moved key session) becomes endurance — the plan's own rule that hard days never touch;
//! - `fatigue-trim`: form from −30 to −20 keeps a hard session but rides each interval set one
//!   repeat shorter (at least one left) — the quality stays, the dose drops;
//! - `fresh`: form above +15 changes nothing but says the day suits a hard session.
//!
//! Heart-rate targets come from the power target's Coggan zone mapped to the matching Coggan
//! heart-rate zone on LTHR; for efforts under three minutes heart rate lags, so power leads.

use jiff::civil::Date;
use serde::Serialize;

use crate::library::library;
use crate::plan::{PlannedWorkout, Step, StepKind, Workout, WorkoutType};
use crate::planned_tss::{duration_s, planned_tss};

pub const DEEP_FATIGUE_TSB: f64 = metrics::pmc::DEEP_FATIGUE_TSB;
pub const FATIGUE_TSB: f64 = -20.0;
pub const FRESH_TSB: f64 = 15.0;
/// A ride at or above this intensity factor was hard.
pub const HARD_IF: f64 = 0.85;
/// The longest endurance ride a swapped hard session becomes.
const SWAP_MAX_S: u32 = 90 * 60;

/// What is known about the rider today.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Form {
    /// Today's form: yesterday's CTL − ATL.
    pub tsb: Option<f64>,
    pub ctl: Option<f64>,
    /// Intensity factor of yesterday's hardest ride.
    pub yesterday_if: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adjustment {
    /// The rule's name, e.g. `deep-fatigue-swap`.
    pub rule: &'static str,
    pub what: String,
    pub why: String,
}

/// One step with its targets in watts and beats per minute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTarget {
    /// Nesting depth: 0 for top-level steps, 1 inside a repeat.
    pub depth: u32,
    /// "warm-up", "work", … or "4 ×" for a repeat block.
    pub label: String,
    pub duration_s: u32,
    pub power_low_w: Option<f64>,
    pub power_high_w: Option<f64>,
    pub hr_low_bpm: Option<f64>,
    /// `None` for the open top zone.
    pub hr_high_bpm: Option<f64>,
    /// Heart rate lags short efforts: ride these by power.
    pub hr_lags: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayWorkout {
    pub date: Date,
    pub week: u32,
    pub planned: PlannedWorkout,
    /// The workout to ride (the planned one when no rule fired).
    pub workout: Workout,
    pub duration_s: u32,
    pub tss: f64,
    pub adjustments: Vec<Adjustment>,
    /// Rules that looked and found nothing to change, with the reason (so the rider sees the
    /// check happened).
    pub checks: Vec<String>,
    pub steps: Vec<StepTarget>,
}

/// Coggan power zone lower bounds (% FTP) mapped to Coggan heart-rate bounds (% LTHR).
fn hr_pct_for_power(pct: f64) -> (f64, Option<f64>) {
    let p = &metrics::zones::COGGAN_POWER_PCT;
    let h = &metrics::zones::COGGAN_HR_PCT;
    let zone = p
        .iter()
        .rposition(|lo| pct >= *lo)
        .unwrap_or(0)
        .min(h.len() - 1);
    (h[zone], h.get(zone + 1).copied())
}

fn kind_label(k: StepKind) -> &'static str {
    match k {
        StepKind::Warmup => "warm-up",
        StepKind::Work => "work",
        StepKind::Recovery => "recovery",
        StepKind::Cooldown => "cool-down",
        StepKind::Steady => "steady",
    }
}

/// Every step of `steps` with its targets (`ftp_w`, `lthr_bpm`).
pub fn step_targets(steps: &[Step], ftp_w: f64, lthr_bpm: Option<f64>) -> Vec<StepTarget> {
    fn walk(steps: &[Step], depth: u32, ftp: f64, lthr: Option<f64>, out: &mut Vec<StepTarget>) {
        for s in steps {
            let Some((kind, dur, lo, hi)) = s.target() else {
                if let Step::Repeat { times, steps } = s {
                    out.push(StepTarget {
                        depth,
                        label: format!("{} ×", crate::plan::ridden_times(*times)),
                        duration_s: crate::planned_tss::step_duration_s(s),
                        power_low_w: None,
                        power_high_w: None,
                        hr_low_bpm: None,
                        hr_high_bpm: None,
                        hr_lags: false,
                    });
                    walk(steps, depth + 1, ftp, lthr, out);
                }
                continue;
            };
            let mid = (lo + hi) / 2.0;
            let (hr_lo, hr_hi) = hr_pct_for_power(mid);
            out.push(StepTarget {
                depth,
                label: kind_label(kind).to_owned(),
                duration_s: dur,
                power_low_w: Some((lo / 100.0 * ftp).round()),
                power_high_w: Some((hi / 100.0 * ftp).round()),
                hr_low_bpm: lthr.map(|l| (hr_lo / 100.0 * l).round()),
                hr_high_bpm: lthr.and_then(|l| hr_hi.map(|h| (h / 100.0 * l).round() - 1.0)),
                hr_lags: dur < 180 && mid >= metrics::zones::COGGAN_POWER_PCT[3],
            });
        }
    }
    let mut out = Vec::new();
    walk(steps, 0, ftp_w, lthr_bpm, &mut out);
    out
}

/// The library's endurance ride nearest `target_s`, fitted to it.
fn endurance_of(target_s: u32) -> Option<Workout> {
    library()
        .of_type(WorkoutType::Endurance)
        .min_by_key(|w| {
            (
                w.fitted_s(target_s).abs_diff(target_s),
                w.workout.id.clone(),
            )
        })
        .map(|w| w.fitted(target_s))
}

fn trim_repeats(steps: &mut [Step]) -> bool {
    let mut changed = false;
    for s in steps {
        if let Step::Repeat { times, .. } = s
            && *times >= 2
        {
            *times -= 1;
            changed = true;
        }
    }
    changed
}

fn shorten(steps: &mut [Step], factor: f64) {
    // A quarter of the whole ride comes off its longest steady part: warm-up, cool-down and any
    // interval set stay whole (at most half of that part goes).
    let cut = f64::from(duration_s(steps)) * (1.0 - factor);
    if let Some(Step::Steady { duration_s, .. } | Step::Ramp { duration_s, .. }) = steps
        .iter_mut()
        .filter(|s| !matches!(s, Step::Repeat { .. }))
        .max_by_key(|s| crate::planned_tss::step_duration_s(s))
    {
        let d = f64::from(*duration_s);
        let kept = (d - cut).max(d / 2.0);
        *duration_s = ((kept / 60.0).round() * 60.0) as u32;
    }
}

/// The day's workout after the form rules (module docs).
pub fn adjust(
    planned: &PlannedWorkout,
    week: u32,
    form: Form,
    ftp_w: f64,
    lthr: Option<f64>,
) -> DayWorkout {
    let mut w = planned.workout.clone();
    let mut adjustments = Vec::new();
    let mut checks = Vec::new();
    let t = planned.workout.workout_type;
    let tsb = form.tsb.filter(|x| x.is_finite());
    let hard = t.is_hard();
    match tsb {
        Some(f) if f < DEEP_FATIGUE_TSB && hard => {
            let target = planned.duration_s.min(SWAP_MAX_S);
            if let Some(e) = endurance_of(target) {
                adjustments.push(Adjustment {
                    rule: "deep-fatigue-swap",
                    what: format!(
                        "{} ({}) swapped for {} ({} min)",
                        planned.workout.name,
                        t.label(),
                        e.name,
                        duration_s(&e.steps) / 60
                    ),
                    why: format!(
                        "form is {f:.1}, below {DEEP_FATIGUE_TSB:.0}: intervals on deep fatigue dig the hole deeper; ride easy and let form come back"
                    ),
                });
                w = e;
            }
        }
        Some(f) if f < DEEP_FATIGUE_TSB && t != WorkoutType::Rest => {
            shorten(&mut w.steps, 0.75);
            adjustments.push(Adjustment {
                rule: "deep-fatigue-shorten",
                what: format!(
                    "{} shortened from {} to {} min",
                    planned.workout.name,
                    planned.duration_s / 60,
                    duration_s(&w.steps) / 60
                ),
                why: format!("form is {f:.1}, below {DEEP_FATIGUE_TSB:.0}: less volume today"),
            });
        }
        _ => {}
    }
    let swapped = adjustments.iter().any(|a| a.rule == "deep-fatigue-swap");
    if hard && !swapped {
        match form.yesterday_if {
            Some(y) if y >= HARD_IF => {
                let target = planned.duration_s.min(SWAP_MAX_S);
                if let Some(e) = endurance_of(target) {
                    adjustments.push(Adjustment {
                        rule: "no-back-to-back",
                        what: format!("{} swapped for {}", planned.workout.name, e.name),
                        why: format!(
                            "yesterday's ride was hard (intensity factor {y:.2}); hard days never fall back to back"
                        ),
                    });
                    w = e;
                }
            }
            _ => checks.push("no-back-to-back: yesterday was not a hard ride".to_owned()),
        }
    }
    let swapped = w.workout_type != t;
    if hard && !swapped {
        match tsb {
            Some(f) if (DEEP_FATIGUE_TSB..FATIGUE_TSB).contains(&f) => {
                if trim_repeats(&mut w.steps) {
                    adjustments.push(Adjustment {
                        rule: "fatigue-trim",
                        what: format!(
                            "{}: each interval set one repeat shorter ({} → {} min)",
                            planned.workout.name,
                            planned.duration_s / 60,
                            duration_s(&w.steps) / 60
                        ),
                        why: format!(
                            "form is {f:.1} (between {DEEP_FATIGUE_TSB:.0} and {FATIGUE_TSB:.0}): keep the quality, drop the dose"
                        ),
                    });
                }
            }
            Some(f) if f > FRESH_TSB => adjustments.push(Adjustment {
                rule: "fresh",
                what: "no change".into(),
                why: format!("form is {f:+.1}: fresh — a good day to hit the targets"),
            }),
            Some(f) => checks.push(format!(
                "form {f:+.1}: no fatigue rule applies (hard sessions change below {FATIGUE_TSB:.0})"
            )),
            None => checks.push("form unknown (no load history): the plan stands".to_owned()),
        }
    } else if adjustments.is_empty() {
        match tsb {
            Some(f) => checks.push(format!(
                "form {f:+.1}: no rule changes an easy day above {DEEP_FATIGUE_TSB:.0}"
            )),
            None => checks.push("form unknown (no load history): the plan stands".to_owned()),
        }
    }
    let dur = duration_s(&w.steps);
    let tss = (planned_tss(&w.steps) * 10.0).round() / 10.0;
    let steps = step_targets(&w.steps, ftp_w, lthr);
    DayWorkout {
        date: planned.date,
        week,
        planned: planned.clone(),
        workout: w,
        duration_s: dur,
        tss,
        adjustments,
        checks,
        steps,
    }
}
