//! Rides that follow a training plan: a planned workout ridden second by second as written
//! (ramps linear, steady steps at the middle of their range, interval sets expanded as they are
//! ridden), with any deviation the caller wants (a fading interval, a short ride), written as a
//! 1 Hz FIT activity. What the plan follow-through is checked against, without a device.

use jiff::civil::Date;
use ride::fit_encode::{ActivityWriter, FitEncodeError, FitSport};
use ride::{Record, Sport, SportKind};

/// The 1 Hz power of `steps` at `ftp_w`, each second passed through `edit(second, planned
/// watts)` (return the planned watts to ride it as written).
pub fn workout_power(
    steps: &[coach::plan::Step],
    ftp_w: f64,
    edit: impl Fn(usize, f64) -> f64,
) -> Vec<f64> {
    let mut out = Vec::new();
    for seg in coach::plan::segments(steps) {
        let d = seg.duration_s as usize;
        for s in 0..d {
            let pct = seg.from_pct + (seg.to_pct - seg.from_pct) * s as f64 / d.max(1) as f64;
            let t = out.len();
            out.push(edit(t, pct / 100.0 * ftp_w));
        }
    }
    out
}

/// A FIT activity of an outdoor ride starting 07:00 UTC on `day` with `power` (one record a
/// second, a steady 130 bpm and 8 m/s so speed and distance are plausible).
pub fn ride_fit(day: Date, power: &[f64]) -> Result<Vec<u8>, FitEncodeError> {
    let start = day
        .to_datetime(jiff::civil::time(7, 0, 0, 0))
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let mut w = ActivityWriter::new(start, FitSport::from_kind(SportKind::new(Sport::Ride)))?;
    let t0 = start.as_second();
    for (i, p) in power.iter().enumerate() {
        w.record(&Record {
            t: t0 + i as i64,
            power_w: Some(p.clamp(0.0, 2000.0).round() as u16),
            heart_rate_bpm: Some(130),
            cadence_rpm: Some(88),
            speed_mps: Some(8.0),
            distance_m: Some(8.0 * (i + 1) as f64),
            ..Record::default()
        })?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coach::plan::{Step, StepKind};

    #[test]
    fn a_workout_ridden_as_written_and_back_from_its_fit_file() {
        let steps = vec![
            Step::Ramp {
                kind: StepKind::Warmup,
                duration_s: 60,
                from_pct: 50.0,
                to_pct: 70.0,
            },
            Step::Repeat {
                times: 2,
                steps: vec![Step::Steady {
                    kind: StepKind::Work,
                    duration_s: 30,
                    power_low_pct: 100.0,
                    power_high_pct: 110.0,
                }],
            },
        ];
        let p = workout_power(&steps, 200.0, |_, w| w);
        assert_eq!(p.len(), 120);
        assert_eq!((p[0], p[30]), (100.0, 120.0));
        assert!(p[60..].iter().all(|w| (*w - 210.0).abs() < 1e-9));
        let faded = workout_power(&steps, 200.0, |t, w| if t >= 100 { 0.0 } else { w });
        assert_eq!(faded[99..101], [210.0, 0.0]);
        let bytes = ride_fit(jiff::civil::date(2026, 3, 3), &p).unwrap();
        let a = ride::activity_file::decode_bytes(&bytes).unwrap();
        assert_eq!(a.records.len(), 120);
        assert_eq!(a.records[60].power_w, Some(210));
    }
}
