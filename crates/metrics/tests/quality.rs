//! The sample-level quality pass on real device files (shared/fixtures/README.md): clean rides
//! come through untouched, and spikes injected into their decoded records are found and removed
//! so NP and the best efforts are the clean ride's again.

mod common;

use common::fixtures;
use metrics::quality::{Action, IssueKind};
use metrics::{Thresholds, summarize_with_quality};

/// The power rides of the device-oracle table (README "How well it matches the devices") and the
/// gappy ones: real sprints (the Edge 530's 951 W, the Edge 810's 619 W) must stay.
const POWER_RIDES: &[&str] = &[
    "fit/python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit",
    "fit/fitparse-rs/hrv-activity.fit",
    "fit/python-fitparse/sample-activity-indoor-trainer.fit",
    "fit/python-fitparse/elemnt-bolt-no-application-id-inside-developer-data-id.fit",
    "fit/python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit",
    "fit/sweatpy/6449921903_ACTIVITY.fit",
    "fit/sweatpy/2020-06-01-16-52-40.fit",
];

fn thresholds(a: &ride::Activity) -> Thresholds {
    Thresholds {
        ftp_w: a.threshold_power_w.map(f64::from),
        lthr_bpm: Some(165.0),
        ..Default::default()
    }
}

#[test]
fn clean_fixtures_pass_unchanged() {
    let Some(dir) = fixtures() else { return };
    let tz = jiff::tz::TimeZone::UTC;
    for file in POWER_RIDES {
        let a = ride::fit::decode_file(&dir.join(file)).unwrap();
        let (_, q) = summarize_with_quality(&a, &thresholds(&a), &tz);
        eprintln!("{file}: {q:?}");
        // Nothing repaired, nothing flagged: the devices agree with us within the tolerances.
        assert!(q.issues.is_empty(), "{file}: {q:#?}");
    }
}

/// Replaces power at `at` (indices into the records) with `watts`.
fn inject(a: &mut ride::Activity, at: &[usize], watts: u16) {
    for &i in at {
        a.records[i].power_w = Some(watts);
    }
}

#[test]
fn injected_spikes_are_dropped_and_np_is_the_clean_rides() {
    let Some(dir) = fixtures() else { return };
    let tz = jiff::tz::TimeZone::UTC;
    for file in &POWER_RIDES[..3] {
        let clean = ride::fit::decode_file(&dir.join(file)).unwrap();
        let th = thresholds(&clean);
        let (c, _) = summarize_with_quality(&clean, &th, &tz);
        let n = clean.records.len();
        let mut spiked = clean.clone();
        // Single samples and short bursts, 5,000–30,000 W, spread over the ride.
        inject(&mut spiked, &[n / 7], 21_733);
        inject(
            &mut spiked,
            &[n / 3, n / 3 + 1, n / 3 + 2, n / 3 + 3],
            5_000,
        );
        inject(&mut spiked, &[n / 2, n / 2 + 1], 30_000);
        inject(&mut spiked, &[4 * n / 5], 12_500);
        let (s, q) = summarize_with_quality(&spiked, &th, &tz);
        let (c_np, s_np) = (c.np_w.unwrap(), s.np_w.unwrap());
        eprintln!(
            "{file}: NP clean {c_np:.2}, repaired {s_np:.2}; max {:?} → {:?}; {q:?}",
            c.max_power_w, s.max_power_w
        );
        assert!((c_np - s_np).abs() <= 1.0, "{file}: {c_np} vs {s_np}");
        let best_1s = |x: &metrics::ActivitySummary| x.power_curve.as_ref().unwrap().at(1).unwrap();
        assert!(best_1s(&s) <= c.max_power_w.unwrap());
        assert!(s.max_power_w <= c.max_power_w);
        let issue = q.get(IssueKind::PowerAboveCeiling).expect("ceiling issue");
        assert_eq!(issue.samples, 8);
        assert_eq!(issue.action, Action::Dropped);
        let t0 = clean.records[0].t;
        assert_eq!(issue.first_s, Some(clean.records[n / 7].t - t0));
        assert_eq!(issue.last_s, Some(clean.records[4 * n / 5].t - t0));
        assert!(q.repaired());
    }
}

#[test]
fn spikes_below_the_ceiling_go_and_the_real_sprint_stays() {
    let Some(dir) = fixtures() else { return };
    let tz = jiff::tz::TimeZone::UTC;
    let file = POWER_RIDES[0];
    let clean = ride::fit::decode_file(&dir.join(file)).unwrap();
    let th = thresholds(&clean);
    let (c, _) = summarize_with_quality(&clean, &th, &tz);
    let mut spiked = clean.clone();
    // A 2,400 W single sample and a 3-sample 2,000 W burst: below the ceiling, far above the
    // rider's 200–400 W around them.
    inject(&mut spiked, &[1000], 2_400);
    inject(&mut spiked, &[2500, 2501, 2502], 2_000);
    let (s, q) = summarize_with_quality(&spiked, &th, &tz);
    let issue = q.get(IssueKind::PowerSpike).expect("spike issue");
    assert_eq!(issue.samples, 4, "{q:#?}");
    assert!((c.np_w.unwrap() - s.np_w.unwrap()).abs() <= 1.0);
    assert_eq!(s.max_power_w, c.max_power_w);

    // A real 10 s 1,400 W sprint from 250 W, with its ramp, stays.
    let mut sprint = clean.clone();
    let ramp = [
        250, 600, 1100, 1400, 1400, 1400, 1400, 1400, 1400, 1400, 1300, 900, 400, 250,
    ];
    for (k, w) in ramp.into_iter().enumerate() {
        sprint.records[3000 + k].power_w = Some(w);
    }
    let (s, q) = summarize_with_quality(&sprint, &th, &tz);
    assert!(q.get(IssueKind::PowerSpike).is_none(), "{q:#?}");
    assert_eq!(s.max_power_w, Some(1400.0));
}
