//! One activity → [`ActivitySummary`]: the per-ride figures the store persists.

use jiff::{Timestamp, tz::TimeZone};
use ride::{Activity, Sport, strava::StravaActivity};

use crate::curve::power_curve;
use crate::hr::{self, Sex};
use crate::num::{finite, finite_opt};
use crate::power;
use crate::quality::{self, ElevationMethod, Quality};
use crate::series::Series;
use crate::summary::{ActivitySummary, LoadSource};
use crate::zones;

/// The athlete's thresholds in force on the activity date.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Thresholds {
    pub ftp_w: Option<f64>,
    pub lthr_bpm: Option<f64>,
    pub max_hr_bpm: Option<f64>,
    pub resting_hr_bpm: Option<f64>,
    pub sex: Option<Sex>,
}

/// Elevation changes smaller than this (m) are treated as barometer/GPS noise.
pub const ELEVATION_HYSTERESIS_M: f64 = 2.0;

/// Load per hour (TSS-equivalent) for activities with neither power+FTP nor HR+LTHR, by sport:
/// roughly an endurance-intensity hour of each (a Z2 ride ≈ 50/h), so volume without sensors
/// still enters the PMC instead of counting as rest.
pub fn duration_load_rate(sport: Sport) -> f64 {
    match sport {
        Sport::Ride => 50.0,
        Sport::Run => 60.0,
        Sport::Swim => 45.0,
        Sport::Rowing => 55.0,
        Sport::Strength => 35.0,
        Sport::Ski => 50.0,
        Sport::Hike => 35.0,
        Sport::Walk => 20.0,
        Sport::Other => 30.0,
    }
}

/// Elevation gain with hysteresis: climbing is counted only once altitude has risen more than
/// [`ELEVATION_HYSTERESIS_M`] above the last reference point, so noise of ±1 m does not add up.
pub fn elevation_gain(altitudes: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut it = altitudes.into_iter().filter(|a| a.is_finite());
    let mut reference = it.next()?;
    let mut gain = 0.0;
    for a in it {
        if a - reference > ELEVATION_HYSTERESIS_M {
            gain += a - reference;
            reference = a;
        } else if reference - a > ELEVATION_HYSTERESIS_M {
            reference = a;
        }
    }
    Some(gain)
}

fn sum_sessions(activity: &Activity, f: impl Fn(&ride::Session) -> Option<f64>) -> Option<f64> {
    let vals: Vec<f64> = activity
        .sessions
        .iter()
        .filter_map(&f)
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    (!vals.is_empty()).then(|| vals.iter().sum())
}

/// Timer-on seconds from the timer events: Σ (stop − start) over start→stop pairs.
fn timer_from_events(activity: &Activity) -> Option<f64> {
    let mut ev = activity.timer_events.clone();
    ev.sort_by_key(|e| e.t);
    let mut started: Option<i64> = None;
    let mut total = 0i64;
    for e in ev {
        match e.kind {
            ride::TimerEventKind::Start => {
                started.get_or_insert(e.t);
            }
            ride::TimerEventKind::Stop | ride::TimerEventKind::StopAll => {
                if let Some(s) = started.take() {
                    total += e.t - s;
                }
            }
        }
    }
    (total > 0).then_some(total as f64)
}

/// Summarises a decoded activity (see [`summarize_with_quality`]).
pub fn summarize(activity: &Activity, th: &Thresholds, tz: &TimeZone) -> ActivitySummary {
    summarize_with_quality(activity, th, tz).0
}

/// Summarises a decoded activity after the sample-level quality pass ([`quality::clean`]), and
/// returns the quality record with it (device disagreements included).
///
/// * every figure below is computed from the cleaned records;
/// * elapsed: Σ session `total_elapsed_time`, else first → last record + 1 s (each record stands
///   for one second, as devices count);
/// * timer: Σ session `total_timer_time`, else the timer events, else the series length;
/// * moving: series seconds with speed > 0.5 m/s or power/cadence > 0;
/// * distance: Σ session distance, else last − first record distance;
/// * elevation gain: Σ session `total_ascent` (the device's barometric figure), else the records'
///   altitude with a 2 m hysteresis;
/// * power figures from the §1 series (see [`crate::power`]); TSS with s = power-bearing seconds;
/// * load: power TSS when there is power and an FTP, else hrTSS over seconds with HR when there
///   is HR and an LTHR, else moving (else timer) hours × [`duration_load_rate`].
pub fn summarize_with_quality(
    activity: &Activity,
    th: &Thresholds,
    tz: &TimeZone,
) -> (ActivitySummary, Quality) {
    let cleaned = quality::clean(activity);
    let series = Series::from_cleaned(&cleaned);
    let records = &*cleaned.records;
    let start_time = activity.start_time().unwrap_or(Timestamp::UNIX_EPOCH);
    let local_date = tz.to_datetime(start_time).date();
    let sport = activity.sport();

    let rec_span = match (records.first(), records.last()) {
        (Some(a), Some(b)) if b.t >= a.t => Some((b.t - a.t + 1) as f64),
        _ => None,
    };
    let elapsed_s = sum_sessions(activity, |s| s.total_elapsed_time_s)
        .or(rec_span)
        .unwrap_or(0.0);
    let timer_s = sum_sessions(activity, |s| s.total_timer_time_s)
        .or_else(|| timer_from_events(activity))
        .unwrap_or(series.len() as f64);
    let moving_s = series.moving_seconds() as f64;

    let distance_m = sum_sessions(activity, |s| s.total_distance_m).or_else(|| {
        let first = records.iter().find_map(|r| r.distance_m)?;
        let last = records.iter().rev().find_map(|r| r.distance_m)?;
        finite(last - first).filter(|d| *d >= 0.0)
    });
    let elevation_gain_m = match cleaned.quality.elevation_method {
        Some(ElevationMethod::DeviceTotalAscent) => Some(
            activity
                .sessions
                .iter()
                .filter_map(|s| s.total_ascent_m)
                .sum::<f64>(),
        ),
        Some(ElevationMethod::RecordsHysteresis) => {
            elevation_gain(records.iter().filter_map(|r| r.altitude_m.map(f64::from)))
        }
        None => None,
    };

    let ftp = th.ftp_w.filter(|f| f.is_finite() && *f > 0.0);
    let lthr = th.lthr_bpm.filter(|f| f.is_finite() && *f > 0.0);
    let has_power = series.has_any_power();
    let power_s = series.power_seconds() as f64;
    let avg_power_w = if has_power {
        power::average_power(&series)
    } else {
        None
    };
    let max_power_w = if has_power {
        power::max_power(&series)
    } else {
        None
    };
    let np_w = if has_power {
        power::normalized_power(&series.power)
    } else {
        None
    };
    let intensity_factor = np_w
        .zip(ftp)
        .and_then(|(np, f)| power::intensity_factor(np, f));
    let tss = np_w.zip(ftp).and_then(|(np, f)| power::tss(np, f, power_s));
    let avg_hr_bpm = hr::average_hr(&series);
    let max_hr_bpm = hr::max_hr(&series);
    let hr_s = hr::hr_seconds(&series) as f64;

    let (load, load_source) = if let Some(t) = tss {
        (Some(t), Some(LoadSource::Power))
    } else if let (Some(avg), Some(l)) = (avg_hr_bpm, lthr) {
        (hr::hr_tss(hr_s, avg, l), Some(LoadSource::HeartRate))
    } else {
        let secs = if moving_s > 0.0 { moving_s } else { timer_s };
        (
            finite(secs / 3600.0 * duration_load_rate(sport.sport)),
            Some(LoadSource::Duration),
        )
    };

    let trimp = match (
        hr::average_hr_moving(&series),
        th.max_hr_bpm,
        th.resting_hr_bpm,
    ) {
        (Some(avg), Some(max), Some(rest)) => {
            let moving_hr_s = series
                .hr
                .iter()
                .zip(&series.moving)
                .filter(|(h, m)| **h > 0.0 && **m)
                .count();
            hr::trimp(moving_hr_s as f64 / 60.0, avg, rest, max, th.sex)
        }
        _ => None,
    };

    let summary = ActivitySummary {
        start_time,
        local_date,
        sport,
        elapsed_s,
        timer_s,
        moving_s,
        distance_m,
        elevation_gain_m: finite_opt(elevation_gain_m),
        power_s,
        avg_power_w,
        max_power_w,
        power_estimated: false,
        np_w,
        ftp_w: ftp,
        intensity_factor,
        tss,
        load: finite_opt(load),
        load_source: load.and(load_source),
        variability_index: np_w
            .zip(avg_power_w)
            .and_then(|(np, a)| power::variability_index(np, a)),
        efficiency_factor: np_w
            .zip(avg_hr_bpm)
            .and_then(|(np, h)| power::efficiency_factor(np, h)),
        work_kj: has_power.then(|| power::work_kj(&series.power)),
        avg_hr_bpm,
        max_hr_bpm,
        avg_cadence_rpm: series.average_cadence(),
        power_zones_s: ftp
            .filter(|_| has_power)
            .map(|f| zones::time_in_power_zones(&series, f)),
        hr_zones_s: lthr
            .filter(|_| hr_s > 0.0)
            .map(|l| zones::time_in_hr_zones(&series, l)),
        decoupling_pct: if has_power {
            hr::aerobic_decoupling(&series)
        } else {
            None
        },
        trimp,
        power_curve: has_power.then(|| power_curve(&series.mmp_power(), series.len())),
    };
    let mut quality = cleaned.quality;
    quality::device_checks(activity, &summary, &mut quality);
    (summary, quality)
}

/// Summarises a Strava CSV row (no samples).
///
/// * `Weighted Average Power` is used as NP only when power was measured (`power_estimated` is
///   false); estimated `Average Watts` are kept with `power_estimated = true` but give no NP, IF,
///   TSS, VI nor EF;
/// * TSS = Power Count/3600 · (NP/FTP)² · 100 (Power Count = power-bearing seconds; moving time
///   when the export lacks the column);
/// * load: Strava's `Training Load` when present, else our TSS, else hrTSS over moving time, else
///   the duration rate.
pub fn summarize_strava(row: &StravaActivity, th: &Thresholds, tz: &TimeZone) -> ActivitySummary {
    let start_time = row.start_time;
    let local_date = tz.to_datetime(start_time).date();
    let elapsed_s = finite_opt(row.elapsed_s).unwrap_or(0.0);
    let moving_s = finite_opt(row.moving_s).unwrap_or(elapsed_s);
    let timer_s = finite_opt(row.timer_s).unwrap_or(moving_s);
    let measured = !row.power_estimated;
    let ftp = th.ftp_w.filter(|f| f.is_finite() && *f > 0.0);
    let lthr = th.lthr_bpm.filter(|f| f.is_finite() && *f > 0.0);
    let np_w = if measured {
        finite_opt(row.weighted_avg_power_w).filter(|p| *p > 0.0)
    } else {
        None
    };
    let avg_power_w = finite_opt(row.avg_watts);
    let power_s = if np_w.is_some() {
        finite_opt(row.power_count).unwrap_or(moving_s)
    } else {
        0.0
    };
    let intensity_factor = np_w
        .zip(ftp)
        .and_then(|(np, f)| power::intensity_factor(np, f));
    let tss = np_w.zip(ftp).and_then(|(np, f)| power::tss(np, f, power_s));
    let avg_hr_bpm = finite_opt(row.avg_hr_bpm).filter(|h| *h > 0.0);

    let (load, load_source) = if let Some(l) = finite_opt(row.training_load).filter(|l| *l >= 0.0) {
        (Some(l), Some(LoadSource::Strava))
    } else if let Some(t) = tss {
        (Some(t), Some(LoadSource::Power))
    } else if let (Some(avg), Some(l)) = (avg_hr_bpm, lthr) {
        (hr::hr_tss(moving_s, avg, l), Some(LoadSource::HeartRate))
    } else {
        (
            finite(moving_s / 3600.0 * duration_load_rate(row.sport.sport)),
            Some(LoadSource::Duration),
        )
    };
    let trimp = match (avg_hr_bpm, th.max_hr_bpm, th.resting_hr_bpm) {
        (Some(avg), Some(max), Some(rest)) => hr::trimp(moving_s / 60.0, avg, rest, max, th.sex),
        _ => None,
    };

    ActivitySummary {
        start_time,
        local_date,
        sport: row.sport,
        elapsed_s,
        timer_s,
        moving_s,
        distance_m: finite_opt(row.distance_m),
        elevation_gain_m: finite_opt(row.elevation_gain_m),
        power_s,
        avg_power_w,
        max_power_w: finite_opt(row.max_watts),
        power_estimated: row.power_estimated && avg_power_w.is_some(),
        np_w,
        ftp_w: ftp,
        intensity_factor,
        tss,
        load: finite_opt(load),
        load_source: load.and(load_source),
        variability_index: np_w
            .zip(avg_power_w.filter(|_| measured))
            .and_then(|(np, a)| power::variability_index(np, a)),
        efficiency_factor: np_w
            .zip(avg_hr_bpm)
            .and_then(|(np, h)| power::efficiency_factor(np, h)),
        work_kj: if measured {
            finite_opt(row.total_work_j).map(|j| j / 1000.0)
        } else {
            None
        },
        avg_hr_bpm,
        max_hr_bpm: finite_opt(row.max_hr_bpm).filter(|h| *h > 0.0),
        avg_cadence_rpm: finite_opt(row.avg_cadence).filter(|c| *c > 0.0),
        power_zones_s: None,
        hr_zones_s: None,
        decoupling_pct: None,
        trimp,
        power_curve: None,
    }
}

impl ActivitySummary {
    /// True when every float in the summary is finite (the invariant of this crate).
    pub fn all_finite(&self) -> bool {
        let opts = [
            self.distance_m,
            self.elevation_gain_m,
            self.avg_power_w,
            self.max_power_w,
            self.np_w,
            self.ftp_w,
            self.intensity_factor,
            self.tss,
            self.load,
            self.variability_index,
            self.efficiency_factor,
            self.work_kj,
            self.avg_hr_bpm,
            self.max_hr_bpm,
            self.avg_cadence_rpm,
            self.decoupling_pct,
            self.trimp,
        ];
        [self.elapsed_s, self.timer_s, self.moving_s, self.power_s]
            .iter()
            .all(|v| v.is_finite())
            && opts.iter().flatten().all(|v| v.is_finite())
            && self.power_zones_s.iter().flatten().all(|v| v.is_finite())
            && self.hr_zones_s.iter().flatten().all(|v| v.is_finite())
            && self
                .power_curve
                .iter()
                .flat_map(|c| &c.watts)
                .all(|v| v.is_finite())
    }

    /// Duration used for volume (hours per week): moving time, else timer, else elapsed.
    pub fn duration_s(&self) -> f64 {
        [self.moving_s, self.timer_s, self.elapsed_s]
            .into_iter()
            .find(|s| *s > 0.0)
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ride::{Record, Session, SportKind};

    fn ride_records(from: i64, secs: i64, power: Option<u16>, hr: Option<u8>) -> Vec<Record> {
        (0..secs)
            .map(|i| Record {
                t: from + i,
                power_w: power,
                heart_rate_bpm: hr,
                speed_mps: Some(9.0),
                ..Default::default()
            })
            .collect()
    }

    fn activity(records: Vec<Record>) -> Activity {
        Activity {
            records,
            sessions: vec![Session {
                sport: Some(SportKind::new(Sport::Ride)),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn ten_minute_pause_is_not_riding_time_and_load_is_power_tss() {
        let t0 = 1_700_000_000;
        let mut rs = ride_records(t0, 1800, Some(250), Some(150));
        rs.extend(ride_records(t0 + 1800 + 600, 1800, Some(250), Some(150)));
        let th = Thresholds {
            ftp_w: Some(250.0),
            lthr_bpm: Some(160.0),
            ..Default::default()
        };
        let s = summarize(&activity(rs), &th, &TimeZone::UTC);
        assert_eq!(s.elapsed_s, 4200.0);
        assert_eq!(s.timer_s, 3600.0);
        assert_eq!(s.moving_s, 3600.0);
        assert_eq!(s.power_s, 3600.0);
        // Constant 250 W at FTP 250 for 1 h of power-bearing seconds: NP 250, TSS 100.
        assert!((s.np_w.unwrap() - 250.0).abs() < 1e-9);
        assert!((s.tss.unwrap() - 100.0).abs() < 1e-9);
        assert_eq!(s.load_source, Some(LoadSource::Power));
        assert_eq!(s.load, s.tss);
        assert_eq!(s.power_zones_s.unwrap()[3], 3600.0);
        assert_eq!(s.hr_zones_s.unwrap().iter().sum::<f64>(), 3600.0);
        assert!((s.work_kj.unwrap() - 900.0).abs() < 1e-9);
        assert_eq!(s.variability_index, Some(1.0));
        assert_eq!(s.decoupling_pct, Some(0.0));
        // Bests do not bridge the pause: the best 40 min (and the best held ≥ 40 min) is the
        // 60 min window holding 50 min of 250 W and the 10 min pause as zeros = 208.3 W, not 250.
        let c = s.power_curve.clone().unwrap();
        assert_eq!(c.max_duration_s(), 3600);
        assert_eq!(c.at(1800), Some(250.0));
        assert!((c.at(2400).unwrap() - 250.0 * 3000.0 / 3600.0).abs() < 1e-3);
        assert!((c.at(3600).unwrap() - 250.0 * 3000.0 / 3600.0).abs() < 1e-3);
        assert!(s.all_finite());
    }

    #[test]
    fn local_date_follows_the_time_zone() {
        // 2024-01-01 23:30 UTC is already 2024-01-02 in Berlin.
        let t = 1_704_151_800;
        let a = activity(ride_records(t, 60, None, None));
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(
            summarize(&a, &Thresholds::default(), &TimeZone::UTC).local_date,
            jiff::civil::date(2024, 1, 1)
        );
        assert_eq!(
            summarize(&a, &Thresholds::default(), &berlin).local_date,
            jiff::civil::date(2024, 1, 2)
        );
    }

    #[test]
    fn load_falls_back_to_hr_then_duration() {
        let rs = ride_records(1_700_000_000, 3600, None, Some(160));
        let th = Thresholds {
            ftp_w: Some(250.0),
            lthr_bpm: Some(160.0),
            ..Default::default()
        };
        let s = summarize(&activity(rs.clone()), &th, &TimeZone::UTC);
        assert_eq!(s.np_w, None);
        assert_eq!(s.load_source, Some(LoadSource::HeartRate));
        assert!((s.load.unwrap() - 100.0).abs() < 1e-9);
        let s = summarize(&activity(rs), &Thresholds::default(), &TimeZone::UTC);
        assert_eq!(s.load_source, Some(LoadSource::Duration));
        assert!((s.load.unwrap() - 50.0).abs() < 1e-9);
        assert_eq!(s.hr_zones_s, None);
        assert_eq!(s.power_curve, None);
    }

    #[test]
    fn sessions_win_for_elapsed_timer_distance_ascent() {
        let mut a = activity(ride_records(1_700_000_000, 100, Some(200), None));
        a.sessions[0].total_elapsed_time_s = Some(140.0);
        a.sessions[0].total_timer_time_s = Some(132.0);
        a.sessions[0].total_distance_m = Some(900.0);
        a.sessions[0].total_ascent_m = Some(12.0);
        let s = summarize(&a, &Thresholds::default(), &TimeZone::UTC);
        assert_eq!(
            (s.elapsed_s, s.timer_s, s.distance_m, s.elevation_gain_m),
            (140.0, 132.0, Some(900.0), Some(12.0))
        );
    }

    #[test]
    fn elevation_gain_ignores_noise_below_the_hysteresis() {
        // ±1 m jitter around 100 m adds nothing; a 10 m climb with jitter adds 10.
        let jitter = [100.0, 101.0, 100.0, 101.0, 99.5, 100.5];
        assert_eq!(elevation_gain(jitter), Some(0.0));
        let climb = [
            100.0, 101.0, 100.0, 103.0, 102.0, 106.0, 105.5, 110.0, 109.0,
        ];
        assert_eq!(elevation_gain(climb), Some(10.0));
        assert_eq!(elevation_gain([]), None);
    }

    fn strava_row(extra: serde_json::Value) -> StravaActivity {
        let mut v = serde_json::json!({
            "id": "1", "row": 2, "line": 2, "start_time": "2024-05-01T08:00:00Z", "name": "Ride",
            "activity_type": "Ride", "sport": SportKind::new(Sport::Ride), "power_estimated": false,
            "commute": false, "file_kind": "fit_gz",
            "elapsed_s": 4000.0, "moving_s": 3600.0, "distance_m": 30000.0
        });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn strava_measured_power_gives_tss_estimated_does_not() {
        let th = Thresholds {
            ftp_w: Some(250.0),
            ..Default::default()
        };
        let row = strava_row(serde_json::json!({
            "avg_watts": 180.0, "weighted_avg_power_w": 200.0, "power_count": 3500.0
        }));
        let s = summarize_strava(&row, &th, &TimeZone::UTC);
        assert_eq!(s.np_w, Some(200.0));
        assert!(!s.power_estimated);
        // 3500/3600 · 0.8² · 100 = 62.22.
        assert!((s.tss.unwrap() - 3500.0 / 3600.0 * 64.0).abs() < 1e-9);
        assert_eq!(s.load_source, Some(LoadSource::Power));

        let row = strava_row(serde_json::json!({ "avg_watts": 150.0, "power_estimated": true }));
        let s = summarize_strava(&row, &th, &TimeZone::UTC);
        assert_eq!((s.np_w, s.tss, s.intensity_factor), (None, None, None));
        assert!(s.power_estimated);
        assert_eq!(s.avg_power_w, Some(150.0));
        assert_eq!(s.load_source, Some(LoadSource::Duration));
        assert!((s.load.unwrap() - 50.0).abs() < 1e-9);

        let row = strava_row(serde_json::json!({
            "weighted_avg_power_w": 200.0, "power_count": 3500.0, "training_load": 61.0
        }));
        let s = summarize_strava(&row, &th, &TimeZone::UTC);
        assert_eq!(
            (s.load, s.load_source),
            (Some(61.0), Some(LoadSource::Strava))
        );
        assert!(s.all_finite());
    }
}
