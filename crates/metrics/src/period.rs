//! Recent N weeks vs the N weeks before, ending at `as_of`.
//!
//! Convention: recent = the 7·N days ending at `as_of` (inclusive), previous = the 7·N days
//! before that; per-week figures = totals / N (**the period length**, not the span between the
//! first and last activity, which is shorter and so inflates weekly figures); % change with a
//! zero previous value → `None`.

use jiff::{ToSpan, civil::Date};
use ride::Sport;
use serde::{Deserialize, Serialize};

use crate::num::{finite, pct_change, ratio};
use crate::summary::ActivitySummary;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodTotals {
    /// First day (inclusive).
    pub start: Date,
    /// Last day (inclusive).
    pub end: Date,
    pub weeks: u32,
    pub count: u32,
    pub hours: f64,
    pub distance_km: f64,
    pub elevation_m: f64,
    pub load: f64,
    pub hours_per_week: f64,
    pub distance_km_per_week: f64,
    pub load_per_week: f64,
    pub count_per_week: f64,
    /// Mean NP over activities with measured power.
    pub avg_np_w: Option<f64>,
    /// Mean of the activities' average HR.
    pub avg_hr_bpm: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodChange {
    pub count_pct: Option<f64>,
    pub hours_pct: Option<f64>,
    pub distance_pct: Option<f64>,
    pub load_pct: Option<f64>,
    pub avg_np_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodComparison {
    pub recent: PeriodTotals,
    pub previous: PeriodTotals,
    pub change: PeriodChange,
}

fn totals(items: &[&ActivitySummary], start: Date, end: Date, weeks: u32) -> PeriodTotals {
    let sel: Vec<&&ActivitySummary> = items
        .iter()
        .filter(|s| s.local_date >= start && s.local_date <= end)
        .collect();
    let hours: f64 = sel
        .iter()
        .map(|s| s.duration_s() / 3600.0)
        .fold(0.0, |a, b| a + b);
    let distance_km: f64 = sel
        .iter()
        .map(|s| s.distance_m.unwrap_or(0.0) / 1000.0)
        .fold(0.0, |a, b| a + b);
    let load: f64 = sel
        .iter()
        .map(|s| s.load.unwrap_or(0.0))
        .fold(0.0, |a, b| a + b);
    let nps: Vec<f64> = sel
        .iter()
        .filter(|s| !s.power_estimated)
        .filter_map(|s| s.np_w)
        .collect();
    let hrs: Vec<f64> = sel.iter().filter_map(|s| s.avg_hr_bpm).collect();
    let w = f64::from(weeks.max(1));
    let count = sel.len() as u32;
    PeriodTotals {
        start,
        end,
        weeks,
        count,
        hours,
        distance_km,
        elevation_m: sel
            .iter()
            .map(|s| s.elevation_gain_m.unwrap_or(0.0))
            .fold(0.0, |a, b| a + b),
        load,
        hours_per_week: finite(hours / w).unwrap_or(0.0),
        distance_km_per_week: finite(distance_km / w).unwrap_or(0.0),
        load_per_week: finite(load / w).unwrap_or(0.0),
        count_per_week: f64::from(count) / w,
        avg_np_w: ratio(nps.iter().sum(), nps.len() as f64),
        avg_hr_bpm: ratio(hrs.iter().sum(), hrs.len() as f64),
    }
}

/// Compares the recent `weeks` weeks ending at `as_of` with the `weeks` before; `sport` limits
/// it to one sport (e.g. rides). `weeks` of 0 is treated as 1.
pub fn compare_periods(
    summaries: &[ActivitySummary],
    as_of: Date,
    weeks: u32,
    sport: Option<Sport>,
) -> PeriodComparison {
    let weeks = weeks.max(1);
    let days = i64::from(weeks) * 7;
    let items: Vec<&ActivitySummary> = summaries
        .iter()
        .filter(|s| sport.is_none_or(|sp| s.sport.sport == sp))
        .collect();
    let recent_start = as_of.checked_sub((days - 1).days()).unwrap_or(Date::MIN);
    let prev_end = recent_start.checked_sub(1.day()).unwrap_or(Date::MIN);
    let prev_start = prev_end.checked_sub((days - 1).days()).unwrap_or(Date::MIN);
    let recent = totals(&items, recent_start, as_of, weeks);
    let previous = totals(&items, prev_start, prev_end, weeks);
    let change = PeriodChange {
        count_pct: pct_change(f64::from(recent.count), f64::from(previous.count)),
        hours_pct: pct_change(recent.hours, previous.hours),
        distance_pct: pct_change(recent.distance_km, previous.distance_km),
        load_pct: pct_change(recent.load, previous.load),
        avg_np_pct: recent
            .avg_np_w
            .zip(previous.avg_np_w)
            .and_then(|(r, p)| pct_change(r, p)),
    };
    PeriodComparison {
        recent,
        previous,
        change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::summary;
    use jiff::civil::date;

    #[test]
    fn empty_previous_period_gives_none_not_nan() {
        let as_of = date(2024, 6, 30);
        let s = vec![
            summary(date(2024, 6, 20), Sport::Ride, 2.0, 100.0),
            summary(date(2024, 6, 30), Sport::Ride, 1.0, 50.0),
        ];
        let c = compare_periods(&s, as_of, 4, None);
        assert_eq!(c.recent.count, 2);
        assert_eq!(c.recent.start, date(2024, 6, 3));
        assert_eq!(c.previous.end, date(2024, 6, 2));
        assert_eq!(c.previous.start, date(2024, 5, 6));
        // Per week = total / 4 weeks (the period), although both rides fall in 11 days.
        assert_eq!(c.recent.hours_per_week, 0.75);
        assert_eq!(c.recent.load_per_week, 37.5);
        assert_eq!(c.previous.count, 0);
        assert_eq!(c.change.hours_pct, None);
        assert_eq!(c.change.load_pct, None);
        assert_eq!(c.change.count_pct, None);
        assert_eq!(c.previous.avg_np_w, None);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
    }

    #[test]
    fn change_and_sport_filter() {
        let as_of = date(2024, 6, 30);
        let s = vec![
            summary(date(2024, 6, 29), Sport::Ride, 3.0, 150.0),
            summary(date(2024, 6, 1), Sport::Ride, 2.0, 100.0),
            summary(date(2024, 6, 29), Sport::Run, 1.0, 60.0),
        ];
        let c = compare_periods(&s, as_of, 4, Some(Sport::Ride));
        assert_eq!(c.recent.count, 1);
        assert_eq!(c.previous.count, 1);
        assert_eq!(c.change.hours_pct, Some(50.0));
        assert_eq!(c.change.load_pct, Some(50.0));
    }
}
