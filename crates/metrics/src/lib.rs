//! Pure training metrics over typed rides. Every variant choice is named in the function docs
//! and pinned by a unit test (see reference/metrics.md). No I/O, no clocks: callers pass `as_of`.
//!
//! - [`quality`]: sample-level checks and repairs every activity passes through first;
//! - [`series`]: the 1 Hz series (gaps, pauses, missing power);
//! - [`power`]: NP, IF, TSS, VI, EF, work, xPower; [`zones`]; [`curve`] (mean-maximal power);
//!   [`cp`] (CP/W′ models, eFTP, stale FTP); [`hr`] (decoupling, TRIMP, hrTSS);
//! - [`ride_summary`]: one activity (or Strava row) → [`ActivitySummary`];
//! - across history: [`pmc`], [`weekly`], [`period`], [`cross_training`].

pub mod cp;
pub mod cross_training;
pub mod curve;
pub mod hr;
pub mod num;
pub mod period;
pub mod pmc;
pub mod power;
pub mod quality;
pub mod ride_summary;
pub mod series;
pub mod summary;
pub mod weekly;
pub mod zones;

pub use quality::Quality;
pub use ride_summary::{Thresholds, summarize, summarize_strava, summarize_with_quality};
pub use summary::*;

#[cfg(test)]
pub(crate) mod test_util {
    use crate::summary::ActivitySummary;
    use jiff::civil::Date;
    use ride::{Sport, SportKind};

    /// A summary with only what the across-history figures read.
    pub fn summary(date: Date, sport: Sport, hours: f64, load: f64) -> ActivitySummary {
        ActivitySummary {
            start_time: jiff::tz::TimeZone::UTC
                .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
                .unwrap(),
            local_date: date,
            sport: SportKind::new(sport),
            elapsed_s: hours * 3600.0,
            timer_s: hours * 3600.0,
            moving_s: hours * 3600.0,
            distance_m: Some(hours * 30_000.0),
            elevation_gain_m: None,
            power_s: 0.0,
            avg_power_w: None,
            max_power_w: None,
            power_estimated: false,
            np_w: None,
            ftp_w: None,
            intensity_factor: None,
            tss: None,
            load: Some(load),
            load_source: None,
            variability_index: None,
            efficiency_factor: None,
            work_kj: None,
            avg_hr_bpm: None,
            max_hr_bpm: None,
            avg_cadence_rpm: None,
            power_zones_s: None,
            hr_zones_s: None,
            decoupling_pct: None,
            trimp: None,
            power_curve: None,
        }
    }
}
