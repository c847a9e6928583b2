//! The per-activity summary: what the store persists for each activity and what every
//! across-history figure (PMC, power curve, periods, cross-training) is computed from.

use jiff::{Timestamp, civil::Date};
use ride::SportKind;
use serde::{Deserialize, Serialize};

/// Where an activity's training load came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadSource {
    /// TSS from measured power against the FTP in force that day.
    Power,
    /// hrTSS from heart rate against LTHR.
    HeartRate,
    /// Duration × a per-sport rate (no power, no HR).
    Duration,
    /// Strava's `Training Load` from the CSV (summary-only rows).
    Strava,
}

/// Mean-maximal power curve of one activity (or the best over many): `watts[i]` is the best
/// mean power held for at least `durations_s[i]` seconds (see `curve::power_curve`). Durations
/// ascending; watts non-increasing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PowerCurve {
    pub durations_s: Vec<u32>,
    pub watts: Vec<f32>,
}

/// One activity's figures. `None` where the input did not allow the figure (no power, no HR,
/// no FTP), never a made-up zero. All floats finite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivitySummary {
    pub start_time: Timestamp,
    /// Calendar date in the athlete's time zone: what daily and weekly figures group by.
    pub local_date: Date,
    pub sport: SportKind,
    pub elapsed_s: f64,
    pub timer_s: f64,
    pub moving_s: f64,
    pub distance_m: Option<f64>,
    pub elevation_gain_m: Option<f64>,
    /// Seconds of the 1 Hz series carrying power (Strava's `Power Count`); 0 without power.
    pub power_s: f64,
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<f64>,
    /// True when the power figures are Strava's estimate, not a power meter.
    pub power_estimated: bool,
    pub np_w: Option<f64>,
    pub ftp_w: Option<f64>,
    pub intensity_factor: Option<f64>,
    pub tss: Option<f64>,
    pub load: Option<f64>,
    pub load_source: Option<LoadSource>,
    pub variability_index: Option<f64>,
    pub efficiency_factor: Option<f64>,
    pub work_kj: Option<f64>,
    pub avg_hr_bpm: Option<f64>,
    pub max_hr_bpm: Option<f64>,
    pub avg_cadence_rpm: Option<f64>,
    pub power_zones_s: Option<[f64; 7]>,
    pub hr_zones_s: Option<[f64; 5]>,
    pub decoupling_pct: Option<f64>,
    pub trimp: Option<f64>,
    pub power_curve: Option<PowerCurve>,
}
