//! Cross-training: activities by category over a period, their hours, load and share of load.

use jiff::{ToSpan, civil::Date};
use ride::Sport;
use serde::{Deserialize, Serialize};

use crate::num::ratio;
use crate::summary::ActivitySummary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Cycling,
    Running,
    Strength,
    Rowing,
    Swimming,
    Other,
}

impl Category {
    /// The category as it reads in running text: "cycling", "running", …, "other sports".
    pub fn label(self) -> &'static str {
        match self {
            Category::Cycling => "cycling",
            Category::Running => "running",
            Category::Strength => "strength",
            Category::Rowing => "rowing",
            Category::Swimming => "swimming",
            Category::Other => "other sports",
        }
    }

    pub const ALL: [Category; 6] = [
        Category::Cycling,
        Category::Running,
        Category::Strength,
        Category::Rowing,
        Category::Swimming,
        Category::Other,
    ];
}

/// Category of a sport. Walks, hikes and skiing are Other: they load the legs but are not
/// structured training in any of the five named categories.
pub fn category(sport: Sport) -> Category {
    match sport {
        Sport::Ride => Category::Cycling,
        Sport::Run => Category::Running,
        Sport::Strength => Category::Strength,
        Sport::Rowing => Category::Rowing,
        Sport::Swim => Category::Swimming,
        Sport::Walk | Sport::Hike | Sport::Ski | Sport::Other => Category::Other,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryStats {
    pub category: Category,
    pub count: u32,
    pub hours: f64,
    pub load: f64,
    pub hours_per_week: f64,
    pub load_per_week: f64,
    /// Share of the period's total load, %; `None` when the total is 0.
    pub load_share_pct: Option<f64>,
    /// Share of the activity count, %; `None` without activities.
    pub count_share_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossTraining {
    pub start: Date,
    pub end: Date,
    pub weeks: u32,
    pub total_count: u32,
    pub total_load: f64,
    /// Every category, in [`Category::ALL`] order (zeros included).
    pub categories: Vec<CategoryStats>,
}

/// Cross-training figures for the `weeks` weeks (7·N days) ending at `as_of`; per-week figures
/// divide by N. `weeks` of 0 is treated as 1.
pub fn cross_training(summaries: &[ActivitySummary], as_of: Date, weeks: u32) -> CrossTraining {
    let weeks = weeks.max(1);
    let start = as_of
        .checked_sub((i64::from(weeks) * 7 - 1).days())
        .unwrap_or(Date::MIN);
    let sel: Vec<&ActivitySummary> = summaries
        .iter()
        .filter(|s| s.local_date >= start && s.local_date <= as_of)
        .collect();
    let total_load: f64 = sel
        .iter()
        .map(|s| s.load.unwrap_or(0.0))
        .fold(0.0, |a, b| a + b);
    let total_count = sel.len() as u32;
    let w = f64::from(weeks);
    let categories = Category::ALL
        .iter()
        .map(|&c| {
            let items: Vec<&&ActivitySummary> = sel
                .iter()
                .filter(|s| category(s.sport.sport) == c)
                .collect();
            let hours: f64 = items
                .iter()
                .map(|s| s.duration_s() / 3600.0)
                .fold(0.0, |a, b| a + b);
            let load: f64 = items
                .iter()
                .map(|s| s.load.unwrap_or(0.0))
                .fold(0.0, |a, b| a + b);
            let count = items.len() as u32;
            CategoryStats {
                category: c,
                count,
                hours,
                load,
                hours_per_week: hours / w,
                load_per_week: load / w,
                load_share_pct: ratio(load * 100.0, total_load),
                count_share_pct: ratio(f64::from(count) * 100.0, f64::from(total_count)),
            }
        })
        .collect();
    CrossTraining {
        start,
        end: as_of,
        weeks,
        total_count,
        total_load,
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::summary;
    use jiff::civil::date;

    #[test]
    fn shares_and_per_week() {
        let as_of = date(2024, 6, 30);
        let s = vec![
            summary(date(2024, 6, 29), Sport::Ride, 3.0, 150.0),
            summary(date(2024, 6, 20), Sport::Run, 1.0, 30.0),
            summary(date(2024, 6, 21), Sport::Strength, 1.0, 20.0),
            summary(date(2024, 6, 22), Sport::Hike, 2.0, 0.0),
            summary(date(2024, 1, 1), Sport::Ride, 9.0, 900.0),
        ];
        let x = cross_training(&s, as_of, 2);
        assert_eq!(x.start, date(2024, 6, 17));
        assert_eq!(x.total_count, 4);
        assert_eq!(x.total_load, 200.0);
        let c = &x.categories[0];
        assert_eq!(
            (c.category, c.count, c.hours_per_week, c.load_share_pct),
            (Category::Cycling, 1, 1.5, Some(75.0))
        );
        assert_eq!(x.categories[2].load_share_pct, Some(10.0));
        assert_eq!(x.categories[5].count, 1);
        assert_eq!(x.categories[4].count_share_pct, Some(0.0));
        let empty = cross_training(&[], as_of, 4);
        assert!(
            empty
                .categories
                .iter()
                .all(|c| c.load_share_pct.is_none() && c.count_share_pct.is_none())
        );
    }
}
