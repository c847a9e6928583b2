//! The 1 Hz sample series every per-ride metric is computed from (reference/metrics.md §1).
//!
//! Convention (the project default):
//! * built from record timestamps, never from the record count (smart recording writes records
//!   at irregular Δt);
//! * only timer-on time: records inside a timer stop → start interval are dropped, and a gap
//!   during which the timer was stopped is never bridged;
//! * gaps shorter than [`GAP_THRESHOLD_S`] (GoldenCheetah's "Smart Recording Threshold",
//!   default 25 s) are filled by linear interpolation; longer gaps (pauses) start a new
//!   [`Segment`] and get no synthetic samples — the segments are concatenated for NP/xPower, and
//!   zero-filled only for mean-maximal power (see [`Series::mmp_power`]);
//! * a record without power is *missing* (`has_power = false`, power 0 for NP/xPower/MMP,
//!   excluded from the average); `Some(0)` is coasting;
//! * [`Series::from_activity`] first runs the sample-level quality pass ([`crate::quality`]):
//!   impossible power and heart rate become missing, repeated or out-of-order timestamps are
//!   dropped and device clock changes shifted, before any sample reaches a metric.

use ride::{Activity, Record, TimerEvent, TimerEventKind};

use crate::quality::{self, Cleaned};

/// Gaps (Δt between consecutive records) of this many seconds or more are pauses: not bridged.
pub const GAP_THRESHOLD_S: i64 = 25;

/// Speed above which a sample counts as moving (m/s); walking pace is ~1.4 m/s, GPS jitter
/// while standing still stays below this.
pub const MOVING_SPEED_MPS: f64 = 0.5;

/// A run of contiguous 1 Hz samples `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start: usize,
    pub end: usize,
    /// Unix time of the segment's first sample.
    pub t_start: i64,
    /// Seconds of real time missing before this segment (0 for the first): the Δt to the
    /// previous record minus the one second that record stands for.
    pub gap_before_s: i64,
}

/// The 1 Hz series of one activity. All vectors have the same length: one entry per second of
/// timer-on time (recorded or interpolated).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Watts; 0 where missing.
    pub power: Vec<f64>,
    pub has_power: Vec<bool>,
    /// Beats per minute; 0 where missing (a reading of 0 is a sensor dropout, not a heart rate).
    pub hr: Vec<f64>,
    /// rpm; 0 where missing or not pedalling.
    pub cadence: Vec<f64>,
    pub moving: Vec<bool>,
    pub segments: Vec<Segment>,
}

#[derive(Clone, Copy)]
struct Sample {
    power: Option<f64>,
    hr: Option<f64>,
    cadence: Option<f64>,
    speed: Option<f64>,
}

impl Sample {
    fn of(r: &Record) -> Self {
        Sample {
            power: r.power_w.map(f64::from),
            hr: r.heart_rate_bpm.filter(|&h| h > 0).map(f64::from),
            cadence: r.cadence_rpm.map(f64::from),
            speed: r.speed_mps.map(f64::from).filter(|s| s.is_finite()),
        }
    }

    fn lerp(a: Self, b: Self, f: f64) -> Self {
        // A channel is interpolated only when both ends carry it: a gap next to a missing
        // reading stays missing rather than inventing a value.
        let mix = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => Some(x + (y - x) * f),
            _ => None,
        };
        Sample {
            power: mix(a.power, b.power),
            hr: mix(a.hr, b.hr),
            cadence: mix(a.cadence, b.cadence),
            speed: mix(a.speed, b.speed),
        }
    }
}

/// Timer-off intervals `(stop, start)` from the activity's timer events, in time order. A stop
/// with no later start stays open (`i64::MAX`).
fn timer_off_intervals(timer_events: &[TimerEvent]) -> Vec<(i64, i64)> {
    let mut events = timer_events.to_vec();
    events.sort_by_key(|e| e.t);
    let mut out = Vec::new();
    let mut stopped_at: Option<i64> = None;
    for e in events {
        match e.kind {
            TimerEventKind::Stop | TimerEventKind::StopAll => {
                if stopped_at.is_none() {
                    stopped_at = Some(e.t);
                }
            }
            TimerEventKind::Start => {
                if let Some(s) = stopped_at.take() {
                    out.push((s, e.t));
                }
            }
        }
    }
    if let Some(s) = stopped_at {
        out.push((s, i64::MAX));
    }
    out
}

impl Series {
    /// Builds the series from an activity's records after the quality pass (see the module doc
    /// for the convention).
    pub fn from_activity(activity: &Activity) -> Series {
        Self::from_cleaned(&quality::clean(activity))
    }

    /// Builds the series from records and timer events that went through [`quality::clean`].
    pub fn from_cleaned(cleaned: &Cleaned<'_>) -> Series {
        let off = timer_off_intervals(&cleaned.timer_events);
        Self::build(&cleaned.records, &off)
    }

    /// Builds the series from records alone, as recorded (every record is timer-on time; no
    /// quality pass: for callers that built the records themselves).
    pub fn from_records(records: &[Record]) -> Series {
        Self::build(records, &[])
    }

    fn build(records: &[Record], off: &[(i64, i64)]) -> Series {
        let mut s = Series::default();
        let cap = match (records.first(), records.last()) {
            (Some(a), Some(b)) => usize::try_from(b.t - a.t + 1)
                .unwrap_or(0)
                .min(records.len() * 2 + 64),
            _ => 0,
        };
        s.reserve(cap);
        let any_motion_channel = records
            .iter()
            .any(|r| r.speed_mps.is_some() || r.power_w.is_some() || r.cadence_rpm.is_some());

        // Index into `off` of the first interval that may still matter: records are in time order.
        let mut oi = 0usize;
        let mut prev: Option<(i64, Sample)> = None;
        for r in records {
            while oi < off.len() && off[oi].1 <= r.t {
                oi += 1;
            }
            // Records written while the timer is stopped (stop < t < start) are not riding time.
            if oi < off.len() && off[oi].0 < r.t && r.t < off[oi].1 {
                continue;
            }
            let cur = Sample::of(r);
            match prev {
                None => {
                    s.segments.push(Segment {
                        start: 0,
                        end: 0,
                        t_start: r.t,
                        gap_before_s: 0,
                    });
                }
                Some((pt, ps)) => {
                    let dt = r.t - pt;
                    if dt <= 0 {
                        // Duplicate or out-of-order timestamp: the second already has a sample.
                        continue;
                    }
                    // Only a gap can hide a pause; Δt = 1 needs no fill either way.
                    let timer_stopped = dt > 1
                        && off
                            .iter()
                            .any(|&(stop, start)| pt <= stop && stop < r.t && start <= r.t);
                    if dt >= GAP_THRESHOLD_S || timer_stopped {
                        s.close_segment();
                        let start = s.len();
                        s.segments.push(Segment {
                            start,
                            end: start,
                            t_start: r.t,
                            gap_before_s: dt - 1,
                        });
                    } else {
                        for k in 1..dt {
                            s.push(
                                Sample::lerp(ps, cur, k as f64 / dt as f64),
                                any_motion_channel,
                            );
                        }
                    }
                }
            }
            s.push(cur, any_motion_channel);
            prev = Some((r.t, cur));
        }
        s.close_segment();
        s
    }

    fn reserve(&mut self, n: usize) {
        self.power.reserve(n);
        self.has_power.reserve(n);
        self.hr.reserve(n);
        self.cadence.reserve(n);
        self.moving.reserve(n);
    }

    fn close_segment(&mut self) {
        let n = self.len();
        if let Some(last) = self.segments.last_mut() {
            last.end = n;
        }
    }

    fn push(&mut self, x: Sample, any_motion_channel: bool) {
        let p = x.power.unwrap_or(0.0);
        let cad = x.cadence.unwrap_or(0.0);
        self.power.push(p);
        self.has_power.push(x.power.is_some());
        self.hr.push(x.hr.unwrap_or(0.0));
        self.cadence.push(cad);
        // Without any speed, power or cadence channel (e.g. an HR-only strength session) motion
        // cannot be told apart from rest: all timer-on time counts as moving.
        let moving = !any_motion_channel
            || x.speed.is_some_and(|v| v > MOVING_SPEED_MPS)
            || p > 0.0
            || cad > 0.0;
        self.moving.push(moving);
    }

    /// Number of 1 Hz samples (seconds of timer-on riding time in the series).
    pub fn len(&self) -> usize {
        self.power.len()
    }

    pub fn is_empty(&self) -> bool {
        self.power.is_empty()
    }

    /// Seconds that carry power (Strava's `Power Count`): the `s` of TSS.
    pub fn power_seconds(&self) -> usize {
        self.has_power.iter().filter(|&&b| b).count()
    }

    pub fn has_any_power(&self) -> bool {
        self.has_power.iter().any(|&b| b)
    }

    /// Mean cadence over the pedalling samples (zero cadence, i.e. coasting, left out); `None`
    /// without any.
    pub fn average_cadence(&self) -> Option<f64> {
        let (sum, n) = self
            .cadence
            .iter()
            .filter(|&&c| c > 0.0)
            .fold((0.0, 0usize), |(s, n), &c| (s + c, n + 1));
        crate::num::ratio(sum, n as f64)
    }

    pub fn moving_seconds(&self) -> usize {
        self.moving.iter().filter(|&&b| b).count()
    }

    /// The power series for mean-maximal power: segments joined by zeros for the real length of
    /// each pause, so no best effort ever bridges a pause. A pause is capped at the series length
    /// because a window can never be longer than that: a longer run of zeros would change nothing
    /// but the memory used.
    pub fn mmp_power(&self) -> Vec<f64> {
        if self.segments.len() <= 1 {
            return self.power.clone();
        }
        let cap = self.len() as i64;
        let zeros: i64 = self
            .segments
            .iter()
            .map(|g| g.gap_before_s.clamp(0, cap))
            .sum();
        let mut out = Vec::with_capacity(self.len() + zeros as usize);
        for g in &self.segments {
            out.extend(std::iter::repeat_n(
                0.0,
                g.gap_before_s.clamp(0, cap) as usize,
            ));
            out.extend_from_slice(&self.power[g.start..g.end]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ride::{TimerEvent, TimerEventKind};

    fn rec(t: i64, p: Option<u16>) -> Record {
        Record {
            t,
            power_w: p,
            heart_rate_bpm: Some(120),
            speed_mps: Some(8.0),
            ..Default::default()
        }
    }

    #[test]
    fn eight_second_gap_is_interpolated() {
        // Records at 0..=9 then 17..=26: an 8 s gap (Δt = 8) inside the threshold.
        let mut rs: Vec<_> = (0..10).map(|t| rec(t, Some(100))).collect();
        rs.extend((17..27).map(|t| rec(t, Some(180))));
        let s = Series::from_records(&rs);
        assert_eq!(s.len(), 27);
        assert_eq!(s.segments.len(), 1);
        // Linear fill between 100 W at t=9 and 180 W at t=17: 10 W per second.
        assert_eq!(
            &s.power[9..18],
            &[
                100.0, 110.0, 120.0, 130.0, 140.0, 150.0, 160.0, 170.0, 180.0
            ]
        );
        assert_eq!(s.power_seconds(), 27);
        assert_eq!(s.moving_seconds(), 27);
    }

    #[test]
    fn ten_minute_pause_is_not_riding_time() {
        let mut rs: Vec<_> = (0..300).map(|t| rec(t, Some(200))).collect();
        rs.extend((900..1200).map(|t| rec(t, Some(200))));
        let s = Series::from_records(&rs);
        assert_eq!(s.len(), 600);
        assert_eq!(s.segments.len(), 2);
        assert_eq!(
            s.segments[1],
            Segment {
                start: 300,
                end: 600,
                t_start: 900,
                gap_before_s: 600
            }
        );
        // MMP series: the 600 s pause is zero-filled (capped at the series length, 600).
        let m = s.mmp_power();
        assert_eq!(m.len(), 1200);
        assert!(m[300..900].iter().all(|&p| p == 0.0));
    }

    #[test]
    fn gap_at_threshold_is_a_pause() {
        let rs = vec![rec(0, Some(100)), rec(25, Some(100))];
        let s = Series::from_records(&rs);
        assert_eq!(s.len(), 2);
        assert_eq!(s.segments.len(), 2);
        let rs = vec![rec(0, Some(100)), rec(24, Some(100))];
        assert_eq!(Series::from_records(&rs).len(), 25);
    }

    #[test]
    fn missing_power_is_not_coasting() {
        let rs = vec![
            rec(0, Some(100)),
            rec(1, None),
            rec(2, Some(0)),
            rec(3, Some(100)),
        ];
        let s = Series::from_records(&rs);
        assert_eq!(s.power, vec![100.0, 0.0, 0.0, 100.0]);
        assert_eq!(s.has_power, vec![true, false, true, true]);
        assert_eq!(s.power_seconds(), 3);
        // Interpolation next to a missing reading stays missing.
        let rs = vec![rec(0, None), rec(3, Some(100))];
        let s = Series::from_records(&rs);
        assert_eq!(s.has_power, vec![false, false, false, true]);
    }

    #[test]
    fn duplicate_timestamps_keep_one_sample() {
        let rs = vec![rec(0, Some(100)), rec(0, Some(300)), rec(1, Some(100))];
        assert_eq!(Series::from_records(&rs).power, vec![100.0, 100.0]);
    }

    #[test]
    fn timer_stop_is_never_bridged_and_off_records_are_dropped() {
        let mut rs: Vec<_> = (0..10).map(|t| rec(t, Some(100))).collect();
        // A record written while paused (t = 12) and a resume at t = 18: gap < 25 s, but the
        // timer was off, so no interpolation and the paused record is dropped.
        rs.push(rec(12, Some(999)));
        rs.extend((18..20).map(|t| rec(t, Some(100))));
        let activity = Activity {
            records: rs,
            timer_events: vec![
                TimerEvent {
                    t: 0,
                    kind: TimerEventKind::Start,
                },
                TimerEvent {
                    t: 9,
                    kind: TimerEventKind::Stop,
                },
                TimerEvent {
                    t: 18,
                    kind: TimerEventKind::Start,
                },
            ],
            ..Default::default()
        };
        let s = Series::from_activity(&activity);
        assert_eq!(s.len(), 12);
        assert_eq!(s.segments.len(), 2);
        assert_eq!(s.segments[1].gap_before_s, 8);
        assert!(s.power.iter().all(|&p| p == 100.0));
    }

    #[test]
    fn moving_uses_speed_power_or_cadence() {
        let rs = vec![
            Record {
                t: 0,
                speed_mps: Some(0.2),
                ..Default::default()
            },
            Record {
                t: 1,
                speed_mps: Some(0.2),
                cadence_rpm: Some(60),
                ..Default::default()
            },
            Record {
                t: 2,
                speed_mps: Some(3.0),
                ..Default::default()
            },
            Record {
                t: 3,
                speed_mps: Some(0.0),
                power_w: Some(50),
                ..Default::default()
            },
        ];
        assert_eq!(
            Series::from_records(&rs).moving,
            vec![false, true, true, true]
        );
        // HR only: no way to tell rest from motion, so everything counts as moving.
        let rs = vec![
            Record {
                t: 0,
                heart_rate_bpm: Some(100),
                ..Default::default()
            },
            Record {
                t: 1,
                heart_rate_bpm: Some(100),
                ..Default::default()
            },
        ];
        assert_eq!(Series::from_records(&rs).moving_seconds(), 2);
    }
}
