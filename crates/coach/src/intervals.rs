//! The work intervals of a structured workout, found in a ride's 1 Hz power and judged against
//! their targets: "4 × 10 min sweet spot: 3 hit, 1 faded at minute 7" is computed here.
//!
//! **Finding.** Riders never start an interval on the planned second: warm-ups run long, a
//! recovery is stretched at a traffic light. Each work interval is therefore searched after the
//! previous one was found, around where the planned gap puts it, as the window of the planned
//! length with the highest average power (work is the hardest part of a structured ride, so the
//! best window is the effort itself, not the recovery around it).
//!
//! **Judging.** Against the step's target range in watts (% FTP × the plan's FTP):
//! - *hit*: the interval's average is at least the low bound less [`TOLERANCE`] and no fade;
//!   *above target* when it beats the high bound by more than [`OVER`] (held, but too hard);
//! - *faded at minute m*: it started on target, then the rolling average dropped below the low
//!   bound less [`FADE`] at minute m and the rest of the interval stayed below target;
//! - *below target*: ridden, but below the range from the start;
//! - *not ridden*: no window near the planned place reaches [`RIDDEN`] of the low bound.

use serde::{Deserialize, Serialize};

use crate::plan::{Step, StepKind, ridden_times};

/// Power this far (fraction) below the low bound still counts as on target: power meters differ
/// by 1–2 % and a rider aims at the middle of the range.
pub const TOLERANCE: f64 = 0.03;
/// Above the high bound by more than this fraction: held, but above target.
pub const OVER: f64 = 0.05;
/// A rolling average this far below the low bound is a fade (clearly not the target any more).
pub const FADE: f64 = 0.10;
/// Below this fraction of the low bound the interval was not ridden at all.
pub const RIDDEN: f64 = 0.80;
/// A drop only in the last 5 % of an interval is the rider easing off at its end, not a fade.
const HELD_ENOUGH: f64 = 0.95;

/// One work interval of the plan, in the workout's own timeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlannedInterval {
    /// 1-based, in riding order.
    pub index: u32,
    /// Planned start, seconds from the workout's start.
    pub planned_start_s: u32,
    pub duration_s: u32,
    pub low_pct: f64,
    pub high_pct: f64,
}

/// The work intervals of a workout (steps of kind `work`, repeats expanded as they are ridden).
pub fn work_intervals(steps: &[Step]) -> Vec<PlannedInterval> {
    fn walk(steps: &[Step], t: &mut u32, out: &mut Vec<PlannedInterval>) {
        for step in steps {
            let Some((kind, duration_s, low_pct, high_pct)) = step.target() else {
                if let Step::Repeat { times, steps } = step {
                    for _ in 0..ridden_times(*times) {
                        walk(steps, t, out);
                    }
                }
                continue;
            };
            if kind == StepKind::Work && duration_s > 0 {
                out.push(PlannedInterval {
                    index: out.len() as u32 + 1,
                    planned_start_s: *t,
                    duration_s,
                    low_pct,
                    high_pct,
                });
            }
            *t = t.saturating_add(duration_s);
        }
    }
    let mut out = Vec::new();
    walk(steps, &mut 0, &mut out);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Hit,
    AboveTarget,
    /// Held on target for `held_s` seconds, then dropped and stayed below.
    Faded {
        held_s: u32,
    },
    BelowTarget,
    NotRidden,
}

impl Verdict {
    /// Held on (or above) target for the whole interval.
    pub fn is_hit(self) -> bool {
        matches!(self, Verdict::Hit | Verdict::AboveTarget)
    }
}

/// One interval as it was ridden.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntervalResult {
    pub planned: PlannedInterval,
    pub target_low_w: f64,
    pub target_high_w: f64,
    /// Where the interval was found, seconds from the ride's start (timer-on time); `None` when
    /// the ride ends before it.
    pub found_start_s: Option<u32>,
    pub avg_power_w: Option<f64>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Finds and judges every interval of `intervals` in `power` (1 Hz watts, timer-on time, 0 where
/// missing) against `ftp_w`. Results come in the intervals' order.
pub fn judge(intervals: &[PlannedInterval], power: &[f64], ftp_w: f64) -> Vec<IntervalResult> {
    let prefix = prefix_sums(power);
    let mean = |a: usize, b: usize| (prefix[b] - prefix[a]) / (b - a).max(1) as f64;
    let mut out = Vec::with_capacity(intervals.len());
    // Where the previous interval ended in the ride, and in the plan.
    let (mut ride_t, mut plan_t) = (0usize, 0u32);
    for (k, iv) in intervals.iter().enumerate() {
        let d = iv.duration_s as usize;
        let low_w = iv.low_pct / 100.0 * ftp_w;
        let high_w = iv.high_pct / 100.0 * ftp_w;
        let gap = iv.planned_start_s.saturating_sub(plan_t) as usize;
        // A stretched recovery or a long warm-up: look from half the planned gap on, and later
        // by up to the gap again (3–20 min) — but never so late that the window would reach
        // into the next interval, whose higher power would pull a weak interval onto it.
        let recovery_after = intervals
            .get(k + 1)
            .map(|next| {
                next.planned_start_s
                    .saturating_sub(iv.planned_start_s.saturating_add(iv.duration_s))
                    as usize
            })
            .unwrap_or(usize::MAX);
        let earliest = ride_t + gap / 2;
        let latest = ride_t + gap + gap.clamp(180, 1200).min(recovery_after.max(60));
        let mut best: Option<(usize, f64)> = None;
        if d > 0 && earliest + d <= power.len() {
            for s in earliest..=latest.min(power.len() - d) {
                let m = mean(s, s + d);
                if best.is_none_or(|(_, b)| m > b + 1e-9) {
                    best = Some((s, m));
                }
            }
        }
        let result = match best {
            None => IntervalResult {
                planned: *iv,
                target_low_w: low_w,
                target_high_w: high_w,
                found_start_s: None,
                avg_power_w: None,
                verdict: Verdict::NotRidden,
            },
            Some((s, avg)) => {
                let verdict = verdict_for(&power[s..s + d], avg, low_w, high_w);
                if verdict != Verdict::NotRidden {
                    ride_t = s + d;
                    plan_t = iv.planned_start_s.saturating_add(iv.duration_s);
                }
                IntervalResult {
                    planned: *iv,
                    target_low_w: low_w,
                    target_high_w: high_w,
                    found_start_s: Some(s as u32),
                    avg_power_w: Some(avg),
                    verdict,
                }
            }
        };
        out.push(result);
    }
    out
}

fn prefix_sums(power: &[f64]) -> Vec<f64> {
    let mut p = Vec::with_capacity(power.len() + 1);
    p.push(0.0);
    let mut acc = 0.0;
    for w in power {
        acc += if w.is_finite() { *w } else { 0.0 };
        p.push(acc);
    }
    p
}

/// The verdict on one found window.
fn verdict_for(window: &[f64], avg: f64, low_w: f64, high_w: f64) -> Verdict {
    let d = window.len();
    let on_target = low_w * (1.0 - TOLERANCE);
    // The rolling window: a tenth of the interval, 5–60 s (a minute for long intervals, a few
    // seconds for sprints).
    let w = (d / 10).clamp(5, 60).min(d);
    let prefix = prefix_sums(window);
    let mean = |a: usize, b: usize| (prefix[b] - prefix[a]) / (b - a).max(1) as f64;
    let started_on_target = mean(0, w) >= on_target;
    // A long interval that started on target and faded early can average little: it was still
    // ridden (and faded), so only an interval that never reached the target is "not ridden".
    if avg < low_w * RIDDEN && !started_on_target {
        return Verdict::NotRidden;
    }
    if started_on_target {
        let fade_at = (w..=d)
            .find(|&t| mean(t - w, t) < low_w * (1.0 - FADE) && mean(t - w, d) < on_target)
            // The rolling mean lags a drop: the middle of the first low window is where it
            // happened (exact for a sudden drop in power).
            .map(|t| t - w / 2);
        if let Some(f) = fade_at
            && (f as f64) < d as f64 * HELD_ENOUGH
        {
            return Verdict::Faded { held_s: f as u32 };
        }
    }
    if avg >= on_target {
        if avg > high_w * (1.0 + OVER) {
            Verdict::AboveTarget
        } else {
            Verdict::Hit
        }
    } else {
        Verdict::BelowTarget
    }
}

/// Minutes as a rider counts them: "faded at minute 7" means during the 7th minute.
fn minute_of(held_s: u32) -> u32 {
    held_s / 60 + 1
}

/// Duration as the plan names it: "10 min", "30 s", "1 min 30 s".
pub fn duration_label(s: u32) -> String {
    match (s / 60, s % 60) {
        (0, sec) => format!("{sec} s"),
        (m, 0) => format!("{m} min"),
        (m, sec) => format!("{m} min {sec} s"),
    }
}

/// The results in one line: "4 × 10 min sweet spot: 3 hit, 1 faded at minute 7".
pub fn summary_line(results: &[IntervalResult], type_label: &str) -> String {
    let n = results.len();
    let head = match results.first() {
        None => return format!("{type_label}: no work intervals"),
        Some(first)
            if results
                .iter()
                .all(|r| r.planned.duration_s == first.planned.duration_s) =>
        {
            format!(
                "{n} × {} {type_label}",
                duration_label(first.planned.duration_s)
            )
        }
        Some(_) => format!("{n} work intervals ({type_label})"),
    };
    let count = |f: fn(&Verdict) -> bool| results.iter().filter(|r| f(&r.verdict)).count();
    let mut parts = Vec::new();
    let hit = count(|v| *v == Verdict::Hit);
    if hit > 0 {
        parts.push(format!("{hit} hit"));
    }
    let over = count(|v| *v == Verdict::AboveTarget);
    if over > 0 {
        parts.push(format!("{over} above target"));
    }
    let mut fades: Vec<u32> = results
        .iter()
        .filter_map(|r| match r.verdict {
            Verdict::Faded { held_s } => Some(minute_of(held_s)),
            _ => None,
        })
        .collect();
    if !fades.is_empty() {
        fades.sort_unstable();
        let minutes = fades
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        parts.push(format!(
            "{} faded at minute{} {minutes}",
            fades.len(),
            if fades.len() > 1 { "s" } else { "" }
        ));
    }
    let below = count(|v| *v == Verdict::BelowTarget);
    if below > 0 {
        parts.push(format!("{below} below target"));
    }
    let missed = count(|v| *v == Verdict::NotRidden);
    if missed > 0 {
        parts.push(format!("{missed} not ridden"));
    }
    format!("{head}: {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Step;

    /// 10 min warm-up, 4 × (10 min 88–93 % + 5 min 55 %), 10 min cool-down.
    fn sweet_spot() -> Vec<Step> {
        vec![
            Step::steady(StepKind::Warmup, 600, 55.0, 65.0),
            Step::Repeat {
                times: 4,
                steps: vec![
                    Step::steady(StepKind::Work, 600, 88.0, 93.0),
                    Step::steady(StepKind::Recovery, 300, 50.0, 60.0),
                ],
            },
            Step::steady(StepKind::Cooldown, 600, 50.0, 60.0),
        ]
    }

    /// Rides `steps` at the middle of each range (FTP 250 W), `extra_warmup_s` late, with
    /// `edit` applied to the 1 Hz power of work interval k (0-based) second by second.
    fn ride(
        steps: &[Step],
        extra_warmup_s: usize,
        edit: impl Fn(usize, usize, f64) -> f64,
    ) -> Vec<f64> {
        let mut out = vec![150.0; extra_warmup_s];
        let mut work = 0usize;
        for seg in crate::plan::segments(steps) {
            let w = seg.from_pct / 100.0 * 250.0;
            let is_work = seg.from_pct >= 80.0;
            for s in 0..seg.duration_s as usize {
                out.push(if is_work { edit(work, s, w) } else { w });
            }
            if is_work {
                work += 1;
            }
        }
        out
    }

    #[test]
    fn finds_the_four_intervals_of_a_sweet_spot_session() {
        let iv = work_intervals(&sweet_spot());
        assert_eq!(iv.len(), 4);
        assert_eq!(
            iv.iter().map(|i| i.planned_start_s).collect::<Vec<_>>(),
            [600, 1500, 2400, 3300]
        );
        assert!(iv.iter().all(|i| i.duration_s == 600 && i.low_pct == 88.0));
    }

    #[test]
    fn three_hit_and_one_faded_at_minute_seven() {
        let steps = sweet_spot();
        // The fourth interval: on target for 6 min 30 s, then 70 % FTP.
        let power = ride(
            &steps,
            240,
            |k, s, w| {
                if k == 3 && s >= 390 { 175.0 } else { w }
            },
        );
        let results = judge(&work_intervals(&steps), &power, 250.0);
        let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
        assert_eq!(verdicts[..3], [Verdict::Hit, Verdict::Hit, Verdict::Hit]);
        let Verdict::Faded { held_s } = verdicts[3] else {
            panic!("{verdicts:?}");
        };
        assert!((380..=400).contains(&held_s), "{held_s}");
        // Found where they were ridden: four minutes later than planned.
        assert_eq!(results[0].found_start_s, Some(840));
        assert_eq!(
            summary_line(&results, "sweet spot"),
            "4 × 10 min sweet spot: 3 hit, 1 faded at minute 7"
        );
    }

    #[test]
    fn below_target_above_target_and_not_ridden() {
        let steps = sweet_spot();
        // 1: 80 % FTP throughout (below 88 %); 2: 110 % (above 93 % + 5 %); 3 and 4 as planned.
        let power = ride(&steps, 0, |k, _, w| match k {
            0 => 200.0,
            1 => 275.0,
            _ => w,
        });
        let results = judge(&work_intervals(&steps), &power, 250.0);
        let v: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
        assert_eq!(
            v,
            [
                Verdict::BelowTarget,
                Verdict::AboveTarget,
                Verdict::Hit,
                Verdict::Hit
            ]
        );
        // An endurance ride at 60 % where the intervals were planned: none ridden.
        let easy = vec![150.0; 5000];
        let results = judge(&work_intervals(&steps), &easy, 250.0);
        assert!(results.iter().all(|r| r.verdict == Verdict::NotRidden));
        assert_eq!(
            summary_line(&results, "sweet spot"),
            "4 × 10 min sweet spot: 4 not ridden"
        );
        // A ride that stops after the first interval: the rest cannot be found.
        let short = &ride(&steps, 0, |_, _, w| w)[..1300];
        let results = judge(&work_intervals(&steps), short, 250.0);
        assert_eq!(results[0].verdict, Verdict::Hit);
        assert!(results[1..].iter().all(|r| r.found_start_s.is_none()));
    }

    #[test]
    fn a_long_interval_fading_early_is_faded_not_unridden() {
        // 2 × 20 min at 88–93 %: the second held 6½ min, then 60 % FTP for the rest.
        let steps = vec![
            Step::steady(StepKind::Warmup, 600, 55.0, 65.0),
            Step::Repeat {
                times: 2,
                steps: vec![
                    Step::steady(StepKind::Work, 1200, 88.0, 93.0),
                    Step::steady(StepKind::Recovery, 300, 50.0, 60.0),
                ],
            },
        ];
        let power = ride(
            &steps,
            0,
            |k, s, w| if k == 1 && s >= 390 { 150.0 } else { w },
        );
        let results = judge(&work_intervals(&steps), &power, 250.0);
        assert_eq!(results[0].verdict, Verdict::Hit);
        assert!(
            matches!(results[1].verdict, Verdict::Faded { held_s } if (375..=395).contains(&held_s)),
            "{results:?}"
        );
        assert_eq!(
            summary_line(&results, "sweet spot"),
            "2 × 20 min sweet spot: 1 hit, 1 faded at minute 7"
        );
    }

    #[test]
    fn easing_off_in_the_last_seconds_is_not_a_fade() {
        let steps = sweet_spot();
        let power = ride(&steps, 0, |_, s, w| if s >= 590 { 120.0 } else { w });
        let results = judge(&work_intervals(&steps), &power, 250.0);
        assert!(
            results.iter().all(|r| r.verdict == Verdict::Hit),
            "{results:?}"
        );
    }

    #[test]
    fn labels() {
        assert_eq!(duration_label(600), "10 min");
        assert_eq!(duration_label(30), "30 s");
        assert_eq!(duration_label(90), "1 min 30 s");
    }
}
