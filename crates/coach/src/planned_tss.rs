//! Planned load of a structured workout: duration, NP of the plan and TSS.
//!
//! NP_plan = (Σ ∫ p(t)⁴ dt / T)^¼ over the workout's segments, with ramps integrated exactly
//! (not at their midpoint) and interval sets expanded as they are ridden
//! ([`crate::plan::segments`]) — never flattened to "sets × (work + recovery) at work power",
//! which overstates a 2 × 10 s sprint set with 3 min recoveries six-fold. TSS = hours · (NP_plan / FTP)² · 100. Powers are % of FTP, so the TSS does not
//! depend on the FTP itself; a steady step's target is the middle of its range (that is the
//! power the rider is asked to hold, not an approximation of a changing one).

use crate::plan::{Step, ridden_times, segments};

/// The workout's segments as `(seconds, start %FTP, end %FTP)`, the shape `metrics::power` takes.
fn profile(steps: &[Step]) -> Vec<(f64, f64, f64)> {
    segments(steps)
        .iter()
        .map(|s| (f64::from(s.duration_s), s.from_pct, s.to_pct))
        .collect()
}

/// Total duration in seconds, repeats expanded as [`segments`] expands them (saturating, so an
/// absurd plan cannot overflow).
pub fn duration_s(steps: &[Step]) -> u32 {
    steps
        .iter()
        .fold(0u32, |acc, s| acc.saturating_add(step_duration_s(s)))
}

/// Duration of one step, repeats expanded as [`segments`] expands them.
pub fn step_duration_s(step: &Step) -> u32 {
    match step {
        Step::Steady { duration_s, .. } | Step::Ramp { duration_s, .. } => *duration_s,
        Step::Repeat { times, steps } => ridden_times(*times).saturating_mul(duration_s(steps)),
    }
}

/// NP of the plan in % of FTP; `None` for an empty workout (no duration).
pub fn planned_np_pct(steps: &[Step]) -> Option<f64> {
    metrics::power::planned_np(&profile(steps))
}

/// Planned TSS; 0 for an empty workout or one without power (a gym session), never NaN.
pub fn planned_tss(steps: &[Step]) -> f64 {
    // Powers are %FTP, so "FTP" is 100 here: TSS is scale-free in FTP.
    metrics::power::planned_tss(&profile(steps), 100.0).unwrap_or(0.0)
}

/// Intensity factor of the plan (NP_plan / FTP), 0 for an empty workout.
pub fn planned_if(steps: &[Step]) -> f64 {
    planned_np_pct(steps).map_or(0.0, |np| np / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Step, StepKind};

    #[test]
    fn one_hour_at_ftp_is_100_tss() {
        let w = [Step::steady(StepKind::Steady, 3600, 100.0, 100.0)];
        assert!((planned_tss(&w) - 100.0).abs() < 1e-9);
        assert_eq!(duration_s(&w), 3600);
        // A range centred on FTP is the same target.
        let w = [Step::steady(StepKind::Work, 3600, 95.0, 105.0)];
        assert!((planned_tss(&w) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn ramps_are_integrated_not_taken_at_the_midpoint() {
        // 10 min ramp 50 → 100 %: ∫p⁴ = t·(a⁴+a³b+a²b²+ab³+b⁴)/5 with a = 0.5, b = 1.
        let w = [Step::Ramp {
            kind: StepKind::Warmup,
            duration_s: 600,
            from_pct: 50.0,
            to_pct: 100.0,
        }];
        let mean4: f64 = (0.0625 + 0.125 + 0.25 + 0.5 + 1.0) / 5.0;
        let expected = 600.0 / 3600.0 * mean4.sqrt() * 100.0;
        assert!((planned_tss(&w) - expected).abs() < 1e-9);
        // The midpoint (75 %) would give 9.375; the integral is higher (p⁴ is convex).
        let midpoint = 600.0 / 3600.0 * 0.75f64.powi(2) * 100.0;
        assert!(planned_tss(&w) > midpoint + 0.5, "{}", planned_tss(&w));
    }

    #[test]
    fn sprint_set_is_expanded_not_flattened_at_work_power() {
        // The set that flattening gets most wrong: 2 × (10 s @ 250–300 % + 3 min @ 50–60 %).
        let set = [Step::Repeat {
            times: 2,
            steps: vec![
                Step::steady(StepKind::Work, 10, 250.0, 300.0),
                Step::steady(StepKind::Recovery, 180, 50.0, 60.0),
            ],
        }];
        assert_eq!(duration_s(&set), 380);
        // By hand: Σ t·p⁴ = 2·(10·2.75⁴ + 180·0.55⁴) = 1176.77…; / 380 s = 3.0968;
        // NP = 132.66 %; TSS = 380/3600 · 1.3266² · 100 = 18.58.
        let np = planned_np_pct(&set).unwrap();
        assert!((np - 132.66).abs() < 0.01, "{np}");
        let tss = planned_tss(&set);
        assert!((tss - 18.576).abs() < 0.01, "{tss}");
        // Flattened into 6.34 min at 250–300 %, the set scores about 80 even at the 275 %
        // midpoint, and a planner that flattens sets has been seen scoring it 120.4 — either way
        // far from ours.
        let flattened = [Step::steady(StepKind::Work, 380, 250.0, 300.0)];
        assert!(planned_tss(&flattened) > 75.0);
        assert!((tss - 120.4).abs() > 50.0);
    }

    #[test]
    fn repeats_beyond_the_cap_count_as_the_cap() {
        let block = |times| {
            [Step::Repeat {
                times,
                steps: vec![
                    Step::steady(StepKind::Work, 30, 150.0, 150.0),
                    Step::steady(StepKind::Recovery, 30, 50.0, 50.0),
                ],
            }]
        };
        let (huge, capped) = (block(u32::MAX), block(crate::plan::MAX_REPEATS));
        assert_eq!(duration_s(&huge), crate::plan::MAX_REPEATS * 60);
        assert_eq!(duration_s(&huge), duration_s(&capped));
        assert_eq!(planned_tss(&huge), planned_tss(&capped));
        assert_eq!(
            crate::plan::segments(&huge).len(),
            2 * crate::plan::MAX_REPEATS as usize
        );
    }

    #[test]
    fn empty_and_zero_power_workouts_have_zero_tss() {
        assert_eq!(planned_tss(&[]), 0.0);
        assert_eq!(planned_np_pct(&[]), None);
        let gym = [Step::steady(StepKind::Work, 2700, 0.0, 0.0)];
        assert_eq!(planned_tss(&gym), 0.0);
        assert_eq!(duration_s(&gym), 2700);
    }
}
