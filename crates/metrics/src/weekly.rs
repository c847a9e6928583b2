//! ISO-week volume: hours, distance, load and count per week and per sport, by `local_date`.

use std::collections::BTreeMap;

use jiff::{ToSpan, civil::Date};
use ride::Sport;
use serde::{Deserialize, Serialize};

use crate::summary::ActivitySummary;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SportWeek {
    pub sport: Sport,
    pub count: u32,
    pub hours: f64,
    pub distance_km: f64,
    pub load: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekSummary {
    /// Monday of the ISO week.
    pub week_start: Date,
    pub iso_year: i16,
    pub iso_week: i8,
    pub count: u32,
    pub hours: f64,
    pub distance_km: f64,
    pub load: f64,
    /// Sports present that week, in [`Sport`] order.
    pub by_sport: Vec<SportWeek>,
}

/// Monday of `d`'s ISO week.
pub fn week_start(d: Date) -> Date {
    let back = i64::from(d.weekday().to_monday_zero_offset());
    d.checked_sub(back.days()).unwrap_or(d)
}

/// Weekly totals for every ISO week (Monday start) from the week of `from` (default: the first
/// activity) through the week of `as_of`, empty weeks included so charts have no holes.
/// Activities after `as_of` are ignored. Hours use [`ActivitySummary::duration_s`] (moving time).
pub fn weekly(summaries: &[ActivitySummary], from: Option<Date>, as_of: Date) -> Vec<WeekSummary> {
    let in_range: Vec<&ActivitySummary> = summaries
        .iter()
        .filter(|s| s.local_date <= as_of && from.is_none_or(|f| s.local_date >= f))
        .collect();
    let first = from
        .or_else(|| in_range.iter().map(|s| s.local_date).min())
        .unwrap_or(as_of);
    let mut weeks: BTreeMap<Date, BTreeMap<Sport, SportWeek>> = BTreeMap::new();
    let mut w = week_start(first);
    let last = week_start(as_of);
    while w <= last {
        weeks.insert(w, BTreeMap::new());
        w = match w.checked_add(7.days()) {
            Ok(n) => n,
            Err(_) => break,
        };
    }
    for s in in_range {
        let sw = weeks
            .entry(week_start(s.local_date))
            .or_default()
            .entry(s.sport.sport)
            .or_insert(SportWeek {
                sport: s.sport.sport,
                count: 0,
                hours: 0.0,
                distance_km: 0.0,
                load: 0.0,
            });
        sw.count += 1;
        sw.hours += s.duration_s() / 3600.0;
        sw.distance_km += s.distance_m.unwrap_or(0.0) / 1000.0;
        sw.load += s.load.unwrap_or(0.0);
    }
    weeks
        .into_iter()
        .map(|(week_start, sports)| {
            let iso = week_start.iso_week_date();
            let by_sport: Vec<SportWeek> = sports.into_values().collect();
            WeekSummary {
                week_start,
                iso_year: iso.year(),
                iso_week: iso.week(),
                count: by_sport.iter().map(|s| s.count).sum(),
                hours: by_sport.iter().map(|s| s.hours).fold(0.0, |a, b| a + b),
                distance_km: by_sport
                    .iter()
                    .map(|s| s.distance_km)
                    .fold(0.0, |a, b| a + b),
                load: by_sport.iter().map(|s| s.load).fold(0.0, |a, b| a + b),
                by_sport,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::summary;
    use jiff::civil::date;

    #[test]
    fn iso_weeks_start_monday_and_include_empty_weeks() {
        let s = vec![
            summary(date(2024, 6, 30), Sport::Ride, 2.0, 100.0), // Sunday, week 26
            summary(date(2024, 7, 1), Sport::Ride, 1.0, 40.0),   // Monday, week 27
            summary(date(2024, 7, 2), Sport::Run, 0.5, 30.0),
            summary(date(2024, 7, 20), Sport::Ride, 3.0, 150.0), // week 29
            summary(date(2024, 7, 29), Sport::Ride, 3.0, 150.0), // after as_of
        ];
        let w = weekly(&s, None, date(2024, 7, 21));
        assert_eq!(
            w.iter().map(|w| w.week_start).collect::<Vec<_>>(),
            vec![
                date(2024, 6, 24),
                date(2024, 7, 1),
                date(2024, 7, 8),
                date(2024, 7, 15)
            ]
        );
        assert_eq!(
            (
                w[0].iso_year,
                w[0].iso_week,
                w[0].count,
                w[0].hours,
                w[0].load
            ),
            (2024, 26, 1, 2.0, 100.0)
        );
        assert_eq!((w[1].count, w[1].hours, w[1].load), (2, 1.5, 70.0));
        assert_eq!(w[1].by_sport.len(), 2);
        assert_eq!(
            (w[1].by_sport[1].sport, w[1].by_sport[1].load),
            (Sport::Run, 30.0)
        );
        assert_eq!((w[2].count, w[2].hours), (0, 0.0));
        assert_eq!(w[3].load, 150.0);
        assert_eq!(week_start(date(2024, 12, 31)), date(2024, 12, 30));
        assert_eq!(date(2024, 12, 30).iso_week_date().week(), 1);
    }
}
