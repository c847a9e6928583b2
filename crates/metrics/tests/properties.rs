//! Property tests of the metric invariants.

use metrics::{Thresholds, curve, power, series::Series, summarize, zones};
use proptest::prelude::*;
use ride::{Activity, Record};

/// Records with random power (some missing), HR, speed and random Δt (1 s mostly, some short
/// gaps, some pauses).
fn records() -> impl Strategy<Value = Vec<Record>> {
    prop::collection::vec(
        (
            prop_oneof![8 => Just(1i64), 2 => 2i64..25, 1 => 25i64..2000, 1 => 0i64..1],
            prop::option::weighted(0.9, 0u16..2000),
            prop::option::weighted(0.8, 0u8..220),
            prop::option::of(0.0f32..20.0),
            prop::option::of(-50.0f32..3000.0),
        ),
        0..400,
    )
    .prop_map(|v| {
        let mut t = 1_600_000_000i64;
        v.into_iter()
            .map(|(dt, p, hr, sp, alt)| {
                t += dt;
                Record {
                    t,
                    power_w: p,
                    heart_rate_bpm: hr,
                    speed_mps: sp,
                    altitude_m: alt,
                    ..Default::default()
                }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn np_is_at_least_the_average_it_is_computed_over(p in prop::collection::vec(0.0f64..2500.0, 30..600)) {
        // NP⁴ is the mean of the 30 s rolling averages to the 4th power, so by the power-mean
        // inequality NP ≥ the mean of those rolling averages. (NP ≥ the plain average does NOT
        // hold for every series under the standard warm-up: the first 29 samples are left out,
        // see `np_can_fall_below_average_when_the_warm_up_holds_the_effort`.)
        let np = power::normalized_power(&p).unwrap();
        let rolling: Vec<f64> = p.windows(30).map(|w| w.iter().sum::<f64>() / 30.0).collect();
        let rolling_avg = rolling.iter().sum::<f64>() / rolling.len() as f64;
        prop_assert!(np >= rolling_avg - 1e-9, "np {np} rolling avg {rolling_avg}");
    }

    #[test]
    fn np_is_at_least_average_power_once_warmed_up(base in 0.0f64..2500.0,
                                                  p in prop::collection::vec(0.0f64..2500.0, 0..600)) {
        // A cyclic series (the warm-up repeats the ride's last 29 s): every sample of the ride
        // sits in exactly 30 windows, so the rolling mean equals the plain average and NP ≥ it.
        let mut q: Vec<f64> = p.clone();
        q.push(base);
        let n = q.len();
        let mut cyc: Vec<f64> = (0..29).map(|i| q[(n * 29 - 29 + i) % n]).collect();
        cyc.extend_from_slice(&q);
        let np = power::normalized_power(&cyc).unwrap();
        let avg = q.iter().sum::<f64>() / n as f64;
        prop_assert!(np >= avg - 1e-6, "np {np} avg {avg}");
    }

    #[test]
    fn power_curve_is_non_increasing_and_bounded(p in prop::collection::vec(0.0f64..2000.0, 1..900)) {
        let c = curve::power_curve(&p, p.len());
        prop_assert_eq!(c.max_duration_s() as usize, p.len());
        for w in c.watts.windows(2) {
            prop_assert!(w[1] <= w[0]);
        }
        let max = p.iter().cloned().fold(0.0, f64::max);
        prop_assert!((f64::from(c.watts[0]) - max).abs() < 1e-3);
        // Never below the raw mean-max at the same duration.
        let raw = curve::mean_max(&p, &c.durations_s);
        for (w, r) in c.watts.iter().zip(raw) {
            prop_assert!(f64::from(*w) >= r.unwrap() - 1e-3);
        }
    }

    #[test]
    fn zone_times_sum_to_counted_riding_time(rs in records(), ftp in 50.0f64..500.0, lthr in 100.0f64..200.0) {
        let s = Series::from_records(&rs);
        let pz = zones::time_in_power_zones(&s, ftp);
        prop_assert_eq!(pz.iter().sum::<f64>(), s.power_seconds() as f64);
        let hz = zones::time_in_hr_zones(&s, lthr);
        prop_assert_eq!(hz.iter().sum::<f64>(), metrics::hr::hr_seconds(&s) as f64);
        // Riding time never includes a pause: the series is at most the records' span.
        if let (Some(a), Some(b)) = (rs.first(), rs.last()) {
            prop_assert!(s.len() as i64 <= b.t - a.t + 1);
        }
    }

    #[test]
    fn serialised_summary_has_no_non_finite(rs in records(), ftp in prop::option::of(0.0f64..400.0),
                                           lthr in prop::option::of(0.0f64..200.0)) {
        let a = Activity { records: rs, ..Default::default() };
        let th = Thresholds { ftp_w: ftp, lthr_bpm: lthr, max_hr_bpm: Some(190.0), resting_hr_bpm: Some(50.0), sex: None };
        let s = summarize(&a, &th, &jiff::tz::TimeZone::UTC);
        prop_assert!(s.all_finite());
        // serde_json writes NaN/inf as null: a non-Option float would then fail to parse back,
        // and a Some(NaN) would come back as None. Compare the null/number shape both ways.
        let json = serde_json::to_value(&s).unwrap();
        let back: metrics::ActivitySummary = serde_json::from_value(json.clone()).unwrap();
        prop_assert!(back.all_finite());
        prop_assert_eq!(shape(&serde_json::to_value(&back).unwrap()), shape(&json));
    }
}

/// The JSON with every number replaced by a marker: equal shapes mean the same fields are null.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(_) => Value::String("#".into()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        other => other.clone(),
    }
}

#[test]
fn np_can_fall_below_average_when_the_warm_up_holds_the_effort() {
    // A 5 s sprint at 1500 W, then 100 s at 200 W: average 261.9 W, but the standard warm-up
    // (no value for the first 29 samples) weights the sprint down, so NP is 222.2 W. Pins why the
    // property above is stated over the rolling averages.
    let mut p = vec![1500.0; 5];
    p.extend(vec![200.0; 100]);
    let avg = p.iter().sum::<f64>() / p.len() as f64;
    let np = power::normalized_power(&p).unwrap();
    assert!(
        (avg - 261.9).abs() < 0.05 && (np - 222.2).abs() < 0.05,
        "np {np} avg {avg}"
    );
}
