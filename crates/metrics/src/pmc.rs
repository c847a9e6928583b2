//! Performance management: CTL / ATL / TSB from daily load (reference/metrics.md §2).
//!
//! Convention: **exponential α = 1 − e^(−1/τ)** (GoldenCheetah, intervals.icu; not
//! TrainingPeaks' 1/τ), τ = 42 d (CTL) and 7 d (ATL); daily load summed per calendar date in the
//! athlete's time zone (`local_date`), 0 on rest days; **TSB of day t = CTLₜ₋₁ − ATLₜ₋₁**
//! (TrainingPeaks, GoldenCheetah default); start at 0 unless seeded; computed up to an explicit
//! `as_of` date, never "now".

use std::collections::BTreeMap;

use jiff::{ToSpan, civil::Date};
use serde::{Deserialize, Serialize};

use crate::summary::ActivitySummary;

pub const CTL_DAYS: f64 = 42.0;
pub const ATL_DAYS: f64 = 7.0;
/// Ramp rate = CTL change over this many days (the ATL window, as GoldenCheetah).
pub const RAMP_DAYS: usize = 7;

/// Fitness and fatigue before the first day.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PmcSeed {
    pub ctl: f64,
    pub atl: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PmcDay {
    pub date: Date,
    pub load: f64,
    pub ctl: f64,
    pub atl: f64,
    /// Form = yesterday's CTL − yesterday's ATL.
    pub tsb: f64,
    /// CTL today − CTL seven days earlier (the seed before the first day).
    pub ramp_rate: f64,
}

/// Daily load per `local_date`, only dates ≤ `as_of`; activities without load add 0.
pub fn daily_load(summaries: &[ActivitySummary], as_of: Date) -> BTreeMap<Date, f64> {
    let mut out = BTreeMap::new();
    for s in summaries.iter().filter(|s| s.local_date <= as_of) {
        *out.entry(s.local_date).or_insert(0.0) +=
            s.load.filter(|l| l.is_finite() && *l > 0.0).unwrap_or(0.0);
    }
    out
}

/// The PMC for every day from `start` to `as_of` inclusive. Loads outside the range are ignored.
/// Empty when `start > as_of`.
pub fn pmc(daily: &BTreeMap<Date, f64>, start: Date, as_of: Date, seed: PmcSeed) -> Vec<PmcDay> {
    let a_ctl = 1.0 - (-1.0 / CTL_DAYS).exp();
    let a_atl = 1.0 - (-1.0 / ATL_DAYS).exp();
    let (mut ctl, mut atl) = (seed.ctl, seed.atl);
    let mut out: Vec<PmcDay> = Vec::new();
    let mut day = start;
    while day <= as_of {
        let load = daily.get(&day).copied().unwrap_or(0.0);
        let tsb = ctl - atl;
        ctl += (load - ctl) * a_ctl;
        atl += (load - atl) * a_atl;
        let past = if out.len() >= RAMP_DAYS {
            out[out.len() - RAMP_DAYS].ctl
        } else {
            seed.ctl
        };
        out.push(PmcDay {
            date: day,
            load,
            ctl,
            atl,
            tsb,
            ramp_rate: ctl - past,
        });
        day = match day.checked_add(1.day()) {
            Ok(d) => d,
            Err(_) => break,
        };
    }
    out
}

/// [`pmc`] over summaries, starting at the first activity date (or `as_of` when there is none).
pub fn pmc_from_summaries(
    summaries: &[ActivitySummary],
    as_of: Date,
    seed: PmcSeed,
) -> Vec<PmcDay> {
    let daily = daily_load(summaries, as_of);
    let start = daily.keys().next().copied().unwrap_or(as_of);
    pmc(&daily, start, as_of, seed)
}

/// Form (TSB) below which the rider is in the high-risk band and needs recovery first.
pub const DEEP_FATIGUE_TSB: f64 = -30.0;

/// Form bands as intervals.icu names them (TSB = yesterday's CTL − ATL).
pub fn form_band(tsb: f64) -> &'static str {
    if tsb < DEEP_FATIGUE_TSB {
        "high risk: deep fatigue"
    } else if tsb < -10.0 {
        "optimal training zone"
    } else if tsb <= 5.0 {
        "grey zone: maintaining"
    } else if tsb <= 25.0 {
        "fresh"
    } else {
        "transition: losing fitness"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn constant_100_for_42_days_gives_ctl_63_2() {
        let start = date(2024, 1, 1);
        let daily: BTreeMap<Date, f64> = (0..42)
            .map(|i| (start.checked_add(i.days()).unwrap(), 100.0))
            .collect();
        let days = pmc(&daily, start, date(2024, 2, 11), PmcSeed::default());
        assert_eq!(days.len(), 42);
        let last = days.last().unwrap();
        assert!(
            (last.ctl - 100.0 * (1.0 - (-1.0f64).exp())).abs() < 1e-9,
            "{}",
            last.ctl
        );
        assert!((last.ctl - 63.21).abs() < 0.01);
        assert!((last.atl - 100.0 * (1.0 - (-6.0f64).exp())).abs() < 1e-9);
    }

    #[test]
    fn tsb_uses_previous_day_and_rest_days_are_zero() {
        let d0 = date(2024, 3, 1);
        let daily = BTreeMap::from([(d0, 100.0)]);
        let days = pmc(&daily, d0, date(2024, 3, 10), PmcSeed::default());
        assert_eq!(days.len(), 10);
        // Day 0: TSB from the (zero) day before, although today's load moved CTL/ATL.
        assert_eq!(days[0].tsb, 0.0);
        assert!(days[0].atl > days[0].ctl);
        assert_eq!(days[1].tsb, days[0].ctl - days[0].atl);
        assert_eq!(days[1].load, 0.0);
        assert!(days[1].ctl < days[0].ctl);
        // Ramp rate: CTL change over 7 days.
        assert_eq!(days[8].ramp_rate, days[8].ctl - days[1].ctl);
        assert_eq!(days[0].ramp_rate, days[0].ctl);
    }

    #[test]
    fn seed_and_as_of_are_respected() {
        let d0 = date(2024, 3, 1);
        let daily = BTreeMap::from([(date(2024, 3, 5), 500.0)]);
        let days = pmc(
            &daily,
            d0,
            date(2024, 3, 4),
            PmcSeed {
                ctl: 50.0,
                atl: 60.0,
            },
        );
        assert_eq!(days.len(), 4);
        assert_eq!(days[0].tsb, -10.0);
        assert!(days.iter().all(|d| d.load == 0.0));
        assert!(pmc(&daily, d0, date(2024, 2, 1), PmcSeed::default()).is_empty());
    }
    #[test]
    fn form_bands() {
        assert_eq!(form_band(-31.0), "high risk: deep fatigue");
        assert_eq!(form_band(-30.0), "optimal training zone");
        assert_eq!(form_band(0.0), "grey zone: maintaining");
        assert_eq!(form_band(10.0), "fresh");
        assert_eq!(form_band(26.0), "transition: losing fitness");
    }
}
