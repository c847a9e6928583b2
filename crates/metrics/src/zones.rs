//! Power and heart-rate zones and time in zone (reference/metrics.md §2).
//!
//! Convention: **float `[lo, hi)` intervals from exact percentages** of the threshold, contiguous
//! (each zone's upper bound is the next zone's lower bound, so every value lands in exactly one
//! zone), the top zone open-ended, values below the first bound (never, for non-negative input)
//! in zone 1. Time in zone is counted on the §1 series, so each interpolated second counts and a
//! pause (gap ≥ 25 s) counts nowhere: the zone times sum to the counted riding time of that
//! channel.

use serde::{Deserialize, Serialize};

use crate::series::Series;

/// Coggan power zone lower bounds, % of FTP: Z1 Active Recovery, Z2 Endurance, Z3 Tempo,
/// Z4 Threshold, Z5 VO2Max, Z6 Anaerobic, Z7 Neuromuscular.
pub const COGGAN_POWER_PCT: [f64; 7] = [0.0, 55.0, 75.0, 90.0, 105.0, 120.0, 150.0];
pub const COGGAN_POWER_NAMES: [&str; 7] = [
    "Active Recovery",
    "Endurance",
    "Tempo",
    "Threshold",
    "VO2Max",
    "Anaerobic",
    "Neuromuscular",
];

/// Sweet spot band, % of FTP (not a Coggan zone).
pub const SWEET_SPOT_PCT: (f64, f64) = (88.0, 93.0);

/// Coggan heart-rate zone lower bounds, % of LTHR (GoldenCheetah's and sweatpy's defaults).
pub const COGGAN_HR_PCT: [f64; 5] = [0.0, 68.0, 83.0, 94.0, 105.0];
pub const COGGAN_HR_NAMES: [&str; 5] = [
    "Active Recovery",
    "Endurance",
    "Tempo",
    "Threshold",
    "VO2Max",
];

/// Friel cycling heart-rate zone lower bounds, % of LTHR. Friel publishes integer ranges
/// (Z1 < 81, Z2 81–89, Z3 90–93, Z4 94–99, Z5a 100–102, Z5b 103–106, Z5c > 106); read as
/// contiguous `[lo, hi)` intervals each zone starts one percent above the previous one's
/// published top, so Z5c starts at 107 %.
pub const FRIEL_HR_PCT: [f64; 7] = [0.0, 81.0, 90.0, 94.0, 100.0, 103.0, 107.0];
pub const FRIEL_HR_NAMES: [&str; 7] = [
    "Recovery",
    "Aerobic",
    "Tempo",
    "SubThreshold",
    "SuperThreshold",
    "Aerobic Capacity",
    "Anaerobic Capacity",
];

/// One zone in absolute units: `[lo, hi)`, `hi = None` for the open top zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    /// "Z1" … "Z7" (Friel: "Z5a" …).
    pub id: String,
    pub name: String,
    pub lo: f64,
    pub hi: Option<f64>,
}

fn build(threshold: f64, pct: &[f64], names: &[&str], ids: &[&str]) -> Vec<Zone> {
    (0..pct.len())
        .map(|i| Zone {
            id: ids[i].to_string(),
            name: names[i].to_string(),
            lo: threshold * pct[i] / 100.0,
            hi: pct.get(i + 1).map(|p| threshold * p / 100.0),
        })
        .collect()
}

/// Coggan 7 power zones for an FTP (W).
pub fn power_zones(ftp_w: f64) -> Vec<Zone> {
    build(
        ftp_w,
        &COGGAN_POWER_PCT,
        &COGGAN_POWER_NAMES,
        &["Z1", "Z2", "Z3", "Z4", "Z5", "Z6", "Z7"],
    )
}

/// Coggan 5 heart-rate zones on LTHR (bpm) — the default HR zone model.
pub fn hr_zones_coggan(lthr_bpm: f64) -> Vec<Zone> {
    build(
        lthr_bpm,
        &COGGAN_HR_PCT,
        &COGGAN_HR_NAMES,
        &["Z1", "Z2", "Z3", "Z4", "Z5"],
    )
}

/// Friel 7 cycling heart-rate zones on LTHR (bpm), selectable instead of Coggan's 5.
pub fn hr_zones_friel(lthr_bpm: f64) -> Vec<Zone> {
    build(
        lthr_bpm,
        &FRIEL_HR_PCT,
        &FRIEL_HR_NAMES,
        &["Z1", "Z2", "Z3", "Z4", "Z5a", "Z5b", "Z5c"],
    )
}

/// Index of the `[lo, hi)` zone holding `value`, given the zones' lower bounds in ascending
/// order: the last bound ≤ value (zone 0 for anything below the first bound).
#[inline]
pub fn zone_index(lower_bounds: &[f64], value: f64) -> usize {
    lower_bounds
        .iter()
        .rposition(|&lo| lo <= value)
        .unwrap_or(0)
}

fn time_in<const N: usize>(
    values: &[f64],
    counted: impl Fn(usize) -> bool,
    threshold: f64,
    pct: &[f64; N],
) -> [f64; N] {
    let mut lo = [0.0; N];
    for (l, p) in lo.iter_mut().zip(pct) {
        *l = threshold * p / 100.0;
    }
    let mut out = [0.0; N];
    for (i, &v) in values.iter().enumerate() {
        if counted(i) {
            out[zone_index(&lo, v)] += 1.0;
        }
    }
    out
}

/// Seconds in each Coggan power zone over the samples that carry power (zeros in Z1, missing
/// readings nowhere). Sums to [`Series::power_seconds`].
pub fn time_in_power_zones(series: &Series, ftp_w: f64) -> [f64; 7] {
    time_in(
        &series.power,
        |i| series.has_power[i],
        ftp_w,
        &COGGAN_POWER_PCT,
    )
}

/// Seconds in each Coggan HR zone over the samples with a heart rate. Sums to the seconds with
/// HR.
pub fn time_in_hr_zones(series: &Series, lthr_bpm: f64) -> [f64; 5] {
    time_in(&series.hr, |i| series.hr[i] > 0.0, lthr_bpm, &COGGAN_HR_PCT)
}

/// Seconds in each Friel HR zone over the samples with a heart rate.
pub fn time_in_friel_hr_zones(series: &Series, lthr_bpm: f64) -> [f64; 7] {
    time_in(&series.hr, |i| series.hr[i] > 0.0, lthr_bpm, &FRIEL_HR_PCT)
}

/// Time in zones summed over the activities dated `from..=to`: power zones over activities that
/// carry them (rides with power and an FTP), HR zones over those with HR and an LTHR.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ZoneTotals {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub activities_with_power_zones: u32,
    pub power_zones_s: [f64; 7],
    /// Share of each power zone in the summed power-zone time; `None` with no such time.
    pub power_zones_pct: Option<[f64; 7]>,
    /// Intensity distribution on power: easy = Z1–Z2, moderate = Z3, hard = Z4 and above
    /// (percent of power-zone time).
    pub easy_moderate_hard_pct: Option<[f64; 3]>,
    pub activities_with_hr_zones: u32,
    pub hr_zones_s: [f64; 5],
    pub hr_zones_pct: Option<[f64; 5]>,
}

pub fn zone_totals(
    summaries: &[crate::ActivitySummary],
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> ZoneTotals {
    let mut power = [0.0; 7];
    let mut hr = [0.0; 5];
    let (mut n_power, mut n_hr) = (0, 0);
    for s in summaries
        .iter()
        .filter(|s| s.local_date >= from && s.local_date <= to)
    {
        if let Some(z) = s.power_zones_s {
            n_power += 1;
            power.iter_mut().zip(z).for_each(|(acc, v)| *acc += v);
        }
        if let Some(z) = s.hr_zones_s {
            n_hr += 1;
            hr.iter_mut().zip(z).for_each(|(acc, v)| *acc += v);
        }
    }
    let power_total: f64 = power.iter().sum();
    let hr_total: f64 = hr.iter().sum();
    let pct = |v: f64, total: f64| (v / total * 1000.0).round() / 10.0;
    let power_zones_pct = (power_total > 0.0).then(|| power.map(|v| pct(v, power_total)));
    let easy_moderate_hard_pct = (power_total > 0.0).then(|| {
        [
            pct(power[0] + power[1], power_total),
            pct(power[2], power_total),
            pct(power[3..].iter().sum(), power_total),
        ]
    });
    ZoneTotals {
        from,
        to,
        activities_with_power_zones: n_power,
        power_zones_s: power,
        power_zones_pct,
        easy_moderate_hard_pct,
        activities_with_hr_zones: n_hr,
        hr_zones_s: hr,
        hr_zones_pct: (hr_total > 0.0).then(|| hr.map(|v| pct(v, hr_total))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftp_260_power_zones_have_no_holes() {
        let z = power_zones(260.0);
        assert_eq!(z.len(), 7);
        // 55 % of 260 = 143.0 W is the Z2 lower bound (inclusive); just below is Z1.
        assert_eq!(z[1].lo, 143.0);
        assert_eq!(z[2].lo, 195.0);
        assert_eq!(z[3].lo, 234.0);
        assert_eq!(z[4].lo, 273.0);
        assert_eq!(z[5].lo, 312.0);
        assert_eq!(z[6].lo, 390.0);
        assert_eq!(z[6].hi, None);
        let lo: Vec<f64> = z.iter().map(|z| z.lo).collect();
        assert_eq!(zone_index(&lo, 143.0), 1);
        assert_eq!(zone_index(&lo, 142.999), 0);
        assert_eq!(zone_index(&lo, 390.0), 6);
        // Every watt (and every tenth of a watt) 0..2000 lands in exactly one zone.
        for tenth in 0..=20_000 {
            let w = tenth as f64 / 10.0;
            let hits = z
                .iter()
                .filter(|z| z.lo <= w && z.hi.is_none_or(|hi| w < hi))
                .count();
            assert_eq!(hits, 1, "{w} W in {hits} zones");
            let i = zone_index(&lo, w);
            assert!(z[i].lo <= w && z[i].hi.is_none_or(|hi| w < hi));
        }
        // Contiguous: each upper bound is the next lower bound.
        for w in z.windows(2) {
            assert_eq!(w[0].hi, Some(w[1].lo));
        }
    }

    #[test]
    fn hr_zone_bounds() {
        let z = hr_zones_coggan(170.0);
        let lo: Vec<f64> = z.iter().map(|z| z.lo).collect();
        assert_eq!(lo, vec![0.0, 115.6, 141.1, 159.8, 178.5]);
        let f = hr_zones_friel(100.0);
        assert_eq!(
            f.iter().map(|z| z.lo).collect::<Vec<_>>(),
            vec![0.0, 81.0, 90.0, 94.0, 100.0, 103.0, 107.0]
        );
        assert_eq!(f[6].id, "Z5c");
        let flo: Vec<f64> = f.iter().map(|z| z.lo).collect();
        assert_eq!(zone_index(&flo, 106.9), 5);
    }

    #[test]
    fn time_in_zone_counts_power_seconds_only() {
        let s = Series {
            power: vec![0.0, 0.0, 150.0, 250.0, 500.0],
            has_power: vec![true, false, true, true, true],
            hr: vec![0.0, 100.0, 120.0, 150.0, 190.0],
            cadence: vec![0.0; 5],
            moving: vec![true; 5],
            segments: vec![],
        };
        let t = time_in_power_zones(&s, 260.0);
        assert_eq!(t, [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        assert_eq!(t.iter().sum::<f64>(), s.power_seconds() as f64);
        let h = time_in_hr_zones(&s, 170.0);
        assert_eq!(h, [1.0, 1.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn zone_totals_sum_only_the_range_and_split_easy_moderate_hard() {
        use crate::test_util::summary;
        use jiff::civil::date;
        let mut a = summary(date(2024, 5, 1), ride::Sport::Ride, 1.0, 50.0);
        a.power_zones_s = Some([600.0, 1800.0, 600.0, 300.0, 200.0, 60.0, 40.0]);
        let mut b = summary(date(2024, 5, 2), ride::Sport::Ride, 1.0, 50.0);
        b.power_zones_s = Some([0.0, 600.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        b.hr_zones_s = Some([100.0, 100.0, 0.0, 0.0, 0.0]);
        let mut outside = summary(date(2024, 6, 1), ride::Sport::Ride, 1.0, 50.0);
        outside.power_zones_s = Some([1e6; 7]);
        let t = zone_totals(&[a, b, outside], date(2024, 5, 1), date(2024, 5, 31));
        assert_eq!(t.activities_with_power_zones, 2);
        assert_eq!(t.power_zones_s[1], 2400.0);
        // 4200 s in all: easy 600 + 2400, moderate 600, hard 300 + 200 + 60 + 40.
        assert_eq!(t.easy_moderate_hard_pct, Some([71.4, 14.3, 14.3]));
        assert_eq!(t.hr_zones_pct, Some([50.0, 50.0, 0.0, 0.0, 0.0]));
        let empty = zone_totals(&[], date(2024, 5, 1), date(2024, 5, 31));
        assert_eq!(empty.power_zones_pct, None);
    }
}
