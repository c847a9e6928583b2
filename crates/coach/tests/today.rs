//! `today`'s form rules: each fires on its condition, says why, and changes the workout as named.

mod common;

use coach::plan::{Step, WorkoutType};
use coach::today::{Form, adjust};
use common::*;

fn form(tsb: f64) -> Form {
    Form {
        tsb: Some(tsb),
        ctl: Some(60.0),
        yesterday_if: None,
    }
}

#[test]
fn deep_fatigue_swaps_a_hard_session_for_endurance() {
    let plan = plan();
    let ss = week(&plan, 1)[0];
    assert_eq!(ss.workout.workout_type, WorkoutType::SweetSpot);
    let d = adjust(ss, 1, form(-34.2), FTP, Some(170.0));
    assert_eq!(d.workout.workout_type, WorkoutType::Endurance);
    assert_eq!(d.adjustments.len(), 1);
    assert_eq!(d.adjustments[0].rule, "deep-fatigue-swap");
    assert!(
        d.adjustments[0].why.contains("form is -34.2"),
        "{:?}",
        d.adjustments
    );
    assert!(d.duration_s <= 90 * 60 + 300, "{}", d.duration_s);
    assert!(d.tss < ss.tss);
}

#[test]
fn moderate_fatigue_trims_one_repeat_from_each_set() {
    let plan = plan();
    let ss = week(&plan, 1)[0];
    let sets = |steps: &[Step]| -> Vec<u32> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Repeat { times, .. } => Some(*times),
                _ => None,
            })
            .collect()
    };
    let before = sets(&ss.workout.steps);
    let d = adjust(ss, 1, form(-24.0), FTP, None);
    assert_eq!(d.adjustments[0].rule, "fatigue-trim");
    let after = sets(&d.workout.steps);
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(*a, if *b >= 2 { b - 1 } else { *b });
    }
    assert!(d.duration_s < ss.duration_s);
    assert_eq!(d.workout.workout_type, WorkoutType::SweetSpot);
}

#[test]
fn a_hard_ride_yesterday_swaps_todays_hard_session() {
    let plan = plan();
    let ss = week(&plan, 1)[0];
    let f = Form {
        yesterday_if: Some(0.91),
        ..form(-5.0)
    };
    let d = adjust(ss, 1, f, FTP, None);
    assert_eq!(d.adjustments[0].rule, "no-back-to-back");
    assert!(d.adjustments[0].why.contains("0.91"));
    assert_eq!(d.workout.workout_type, WorkoutType::Endurance);
    // An easy yesterday: nothing changes, and the check is said.
    let d = adjust(
        ss,
        1,
        Form {
            yesterday_if: Some(0.6),
            ..form(-5.0)
        },
        FTP,
        None,
    );
    assert!(d.adjustments.is_empty());
    assert_eq!(d.workout, ss.workout);
    assert!(
        d.checks.iter().any(|c| c.starts_with("no-back-to-back")),
        "{:?}",
        d.checks
    );
}

#[test]
fn fresh_form_keeps_the_workout_and_says_so() {
    let plan = plan();
    let ss = week(&plan, 1)[0];
    let d = adjust(ss, 1, form(18.0), FTP, None);
    assert_eq!(d.workout, ss.workout);
    assert_eq!(d.adjustments[0].rule, "fresh");
    assert_eq!((d.duration_s, d.tss), (ss.duration_s, ss.tss));
}

#[test]
fn deep_fatigue_shortens_a_long_ride_by_a_quarter() {
    let plan = plan();
    let long = week(&plan, 1)[3];
    assert_eq!(long.workout.workout_type, WorkoutType::LongRide);
    let d = adjust(long, 1, form(-31.0), FTP, None);
    assert_eq!(d.adjustments[0].rule, "deep-fatigue-shorten");
    let ratio = f64::from(d.duration_s) / f64::from(long.duration_s);
    assert!((0.7..=0.8).contains(&ratio), "{ratio}");
}

#[test]
fn targets_in_watts_and_heart_rate() {
    let plan = plan();
    let ss = week(&plan, 1)[0];
    let d = adjust(ss, 1, form(0.0), FTP, Some(170.0));
    let work = d.steps.iter().find(|s| s.label == "work").unwrap();
    // 88–93 % of 250 W; sweet spot is in Coggan power Z4 (90–105 % by its middle), heart rate
    // Z4 = 94–105 % of LTHR 170.
    let (lo, hi) = match ss.workout.steps.iter().find_map(|s| match s {
        Step::Repeat { steps, .. } => steps.iter().find_map(|x| match x {
            Step::Steady {
                power_low_pct,
                power_high_pct,
                kind: coach::plan::StepKind::Work,
                ..
            } => Some((*power_low_pct, *power_high_pct)),
            _ => None,
        }),
        _ => None,
    }) {
        Some(x) => x,
        None => panic!("no work step"),
    };
    assert_eq!(work.power_low_w, Some((lo * 2.5).round()));
    assert_eq!(work.power_high_w, Some((hi * 2.5).round()));
    if (lo + hi) / 2.0 >= 90.0 {
        assert_eq!(
            (work.hr_low_bpm, work.hr_high_bpm),
            (Some(160.0), Some(178.0))
        );
    } else {
        assert_eq!(
            (work.hr_low_bpm, work.hr_high_bpm),
            (Some(141.0), Some(159.0))
        );
    }
    assert!(!work.hr_lags);
    assert!(d.steps.iter().any(|s| s.label.ends_with(" ×")));
}
