//! The analysis bundle: every figure of a report, computed once from the store by `metrics`.

use jiff::civil::Date;
use metrics::PowerCurve;
use metrics::cp::{Cp2Fit, Cp3Fit, FtpEstimate, StaleFtp};
use metrics::cross_training::CrossTraining;
use metrics::period::PeriodComparison;
use metrics::pmc::PmcDay;
use metrics::weekly::WeekSummary;
use metrics::zones::{Zone, ZoneTotals};
use serde::{Deserialize, Serialize};

/// Who the report is for: the profile's facts the report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AthleteCard {
    pub name: String,
    pub age: Option<u32>,
    pub sex: Option<String>,
    pub weight_kg: Option<f64>,
    pub ftp_w: Option<f64>,
    pub w_per_kg: Option<f64>,
    pub lthr_bpm: Option<u32>,
    pub max_hr_bpm: Option<u32>,
    pub goals: Vec<String>,
    pub hours_per_week: Option<f64>,
    /// Lower-case English day names, Monday first.
    pub week_days: Vec<String>,
    pub event_date: Option<Date>,
}

/// A ride worth naming in the report (longest, hardest, best efforts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotableRide {
    pub activity_id: i64,
    pub date: Date,
    /// User text (from Strava or the file name): escape before rendering.
    pub name: String,
    pub sport: ride::Sport,
    pub duration_s: f64,
    pub distance_km: Option<f64>,
    pub np_w: Option<f64>,
    pub tss: Option<f64>,
    /// Why it is notable, e.g. "longest ride", "highest TSS", "best 20 min (283 W)".
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisBundle {
    pub athlete: AthleteCard,
    /// The last day analysed (explicit, never "now").
    pub as_of: Date,
    /// Length of the recent period (and of the one compared with it), in weeks.
    pub period_weeks: u32,
    pub activity_count: u64,
    /// Rides only.
    pub comparison: PeriodComparison,
    /// All sports.
    pub comparison_all: PeriodComparison,
    /// Over the recent period.
    pub zones: ZoneTotals,
    pub power_zones: Option<Vec<Zone>>,
    pub hr_zones: Option<Vec<Zone>>,
    /// Daily fitness/fatigue/form over the chart window (≥ the two periods), oldest first.
    pub fitness: Vec<PmcDay>,
    pub fitness_now: Option<PmcDay>,
    /// Best power-duration curve over the recent period.
    pub power_curve: Option<PowerCurve>,
    pub cp2: Option<Cp2Fit>,
    pub cp3: Option<Cp3Fit>,
    pub eftp: Option<FtpEstimate>,
    pub stale_ftp: Option<StaleFtp>,
    /// Weeks of the chart window, oldest first.
    pub weekly: Vec<WeekSummary>,
    pub cross_training: CrossTraining,
    pub notable_rides: Vec<NotableRide>,
}
