//! Heart-rate metrics: averages, aerobic decoupling, TRIMP, hrTSS (reference/metrics.md §2).

use crate::num::{finite, ratio};
use crate::series::Series;

/// Athlete sex, for TRIMP's coefficients (the profile's type).
pub use ride::profile::Sex;

/// Minimum moving seconds for aerobic decoupling: over shorter rides drift is noise.
pub const DECOUPLING_MIN_S: usize = 600;

/// Average heart rate over the series seconds with a reading (time-weighted; 0 = dropout).
pub fn average_hr(series: &Series) -> Option<f64> {
    let (sum, n) = series
        .hr
        .iter()
        .filter(|&&h| h > 0.0)
        .fold((0.0, 0usize), |(s, n), h| (s + h, n + 1));
    ratio(sum, n as f64)
}

/// Average heart rate over moving seconds with a reading (TRIMP's input).
pub fn average_hr_moving(series: &Series) -> Option<f64> {
    let (sum, n) = series
        .hr
        .iter()
        .zip(&series.moving)
        .filter(|(h, m)| **h > 0.0 && **m)
        .fold((0.0, 0usize), |(s, n), (h, _)| (s + h, n + 1));
    ratio(sum, n as f64)
}

/// Highest heart rate in the series.
pub fn max_hr(series: &Series) -> Option<f64> {
    series
        .hr
        .iter()
        .copied()
        .filter(|&h| h > 0.0)
        .reduce(f64::max)
}

/// Seconds of the series with a heart-rate reading.
pub fn hr_seconds(series: &Series) -> usize {
    series.hr.iter().filter(|&&h| h > 0.0).count()
}

/// Aerobic decoupling (Pw:HR), % = ((P/HR)₁ − (P/HR)₂) / (P/HR)₁ × 100, where (P/HR)ᵢ is mean
/// power / mean HR over half i. Variant: the series is **split by moving time** (the first half
/// of the moving seconds vs the second), **average power** (not NP) per half, only samples with
/// HR > 0 and a power reading. Positive = HR drifted up relative to power. `None` under
/// [`DECOUPLING_MIN_S`] moving seconds or when a half has no usable sample.
pub fn aerobic_decoupling(series: &Series) -> Option<f64> {
    let moving = series.moving_seconds();
    if moving < DECOUPLING_MIN_S {
        return None;
    }
    let half = moving / 2;
    // [power sum, hr sum, count] per half.
    let mut acc = [[0.0f64; 3]; 2];
    let mut seen = 0usize;
    for i in 0..series.len() {
        if !series.moving[i] {
            continue;
        }
        let h = usize::from(seen >= half);
        seen += 1;
        if series.hr[i] > 0.0 && series.has_power[i] {
            acc[h][0] += series.power[i];
            acc[h][1] += series.hr[i];
            acc[h][2] += 1.0;
        }
    }
    // mean P / mean HR = ΣP / ΣHR (same count).
    let r1 = ratio(acc[0][0], acc[0][1])?;
    let r2 = ratio(acc[1][0], acc[1][1])?;
    ratio((r1 - r2) * 100.0, r1)
}

/// Banister TRIMP, **average-HR form**: minutes × HRr × a·e^(k·HRr), HRr = (HRavg − HRrest) /
/// (HRmax − HRrest). Coefficients: men a = 0.64, k = 1.92; women a = 0.86, k = 1.67 (the
/// literature's; GoldenCheetah uses 0.64 for women too). Unknown sex uses the men's coefficients
/// (GoldenCheetah's default). HRr is clamped to [0, 1]. `None` when HRmax ≤ HRrest.
pub fn trimp(
    minutes: f64,
    avg_hr: f64,
    rest_hr: f64,
    max_hr: f64,
    sex: Option<Sex>,
) -> Option<f64> {
    if max_hr <= rest_hr || minutes < 0.0 {
        return None;
    }
    let hrr = ((avg_hr - rest_hr) / (max_hr - rest_hr)).clamp(0.0, 1.0);
    let (a, k) = match sex {
        Some(Sex::Female) => (0.86, 1.67),
        Some(Sex::Male) | None => (0.64, 1.92),
    };
    finite(minutes * hrr * a * (k * hrr).exp())
}

/// hrTSS (TrainingPeaks-style approximation): hours · (avgHR / LTHR)² · 100.
pub fn hr_tss(seconds: f64, avg_hr: f64, lthr: f64) -> Option<f64> {
    if lthr <= 0.0 || seconds < 0.0 {
        return None;
    }
    let f = avg_hr / lthr;
    finite(seconds / 3600.0 * f * f * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(power: Vec<f64>, hr: Vec<f64>) -> Series {
        let n = power.len();
        Series {
            power,
            has_power: vec![true; n],
            hr,
            cadence: vec![80.0; n],
            moving: vec![true; n],
            segments: vec![],
        }
    }

    #[test]
    fn decoupling_split_by_moving_time() {
        // 20 min at 200 W, HR 130 in the first half and 143 in the second:
        // (200/130 − 200/143)/(200/130) = 1 − 130/143 = 9.0909 %.
        let mut hr = vec![130.0; 600];
        hr.extend(vec![143.0; 600]);
        let s = series(vec![200.0; 1200], hr);
        let d = aerobic_decoupling(&s).unwrap();
        assert!((d - (1.0 - 130.0 / 143.0) * 100.0).abs() < 1e-9, "{d}");
        // Stopped seconds in the middle do not shift the split.
        let mut s2 = s.clone();
        for _ in 0..300 {
            s2.power.insert(600, 0.0);
            s2.has_power.insert(600, true);
            s2.hr.insert(600, 150.0);
            s2.cadence.insert(600, 0.0);
            s2.moving.insert(600, false);
        }
        assert!((aerobic_decoupling(&s2).unwrap() - d).abs() < 1e-9);
        // Too short.
        assert_eq!(
            aerobic_decoupling(&series(vec![200.0; 500], vec![130.0; 500])),
            None
        );
    }

    #[test]
    fn trimp_coefficients() {
        // HRr = 0.5: men 60 · 0.5 · 0.64 · e^0.96, women 60 · 0.5 · 0.86 · e^0.835.
        let m = trimp(60.0, 125.0, 50.0, 200.0, Some(Sex::Male)).unwrap();
        assert!((m - 30.0 * 0.64 * 0.96f64.exp()).abs() < 1e-9);
        assert!((m - 50.15).abs() < 0.01, "{m}");
        let f = trimp(60.0, 125.0, 50.0, 200.0, Some(Sex::Female)).unwrap();
        assert!((f - 30.0 * 0.86 * 0.835f64.exp()).abs() < 1e-9);
        assert_eq!(trimp(60.0, 125.0, 50.0, 200.0, None), Some(m));
        assert_eq!(trimp(60.0, 125.0, 200.0, 200.0, None), None);
    }

    #[test]
    fn hr_tss_at_lthr_for_an_hour_is_100() {
        assert!((hr_tss(3600.0, 165.0, 165.0).unwrap() - 100.0).abs() < 1e-12);
        assert!((hr_tss(1800.0, 132.0, 165.0).unwrap() - 32.0).abs() < 1e-9);
        assert_eq!(hr_tss(3600.0, 150.0, 0.0), None);
    }

    #[test]
    fn averages_skip_dropouts() {
        let mut s = series(vec![100.0; 4], vec![0.0, 100.0, 120.0, 140.0]);
        s.moving[3] = false;
        assert_eq!(average_hr(&s), Some(120.0));
        assert_eq!(average_hr_moving(&s), Some(110.0));
        assert_eq!(max_hr(&s), Some(140.0));
        assert_eq!(hr_seconds(&s), 3);
        assert_eq!(average_hr(&series(vec![0.0; 3], vec![0.0; 3])), None);
    }
}
