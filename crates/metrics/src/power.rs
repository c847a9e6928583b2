//! Power metrics over the 1 Hz series (reference/metrics.md §2): NP, IF, TSS, VI, EF, work,
//! xPower. Inputs are plain slices so the functions serve rides, intervals and planned workouts.

use crate::num::{finite, ratio};
use crate::series::Series;

/// Window of the NP moving average, seconds.
pub const NP_WINDOW_S: usize = 30;
/// xPower's EWMA time constant, seconds.
pub const XPOWER_TAU_S: f64 = 25.0;

/// Normalized Power, **standard (TrainingPeaks) warm-up**: a 30 s trailing simple moving average
/// whose first value is emitted at the 30th sample (the first 29 samples produce no value); each
/// average raised to the 4th power, averaged, 4th root.
///
/// `power` is the §1 series (missing → 0, pauses not bridged, segments concatenated), so zeros
/// count. `None` for fewer than 30 samples (no full window). Not GoldenCheetah's variant, which
/// zero-initialises the window and so counts 29 ramped partial averages.
pub fn normalized_power(power: &[f64]) -> Option<f64> {
    if power.len() < NP_WINDOW_S {
        return None;
    }
    let w = NP_WINDOW_S as f64;
    let mut sum: f64 = power[..NP_WINDOW_S - 1].iter().sum();
    let mut acc = 0.0;
    for i in (NP_WINDOW_S - 1)..power.len() {
        sum += power[i];
        // Rounding drift could leave a tiny negative sum on an all-zero stretch.
        let avg = (sum / w).max(0.0);
        let sq = avg * avg;
        acc += sq * sq;
        sum -= power[i + 1 - NP_WINDOW_S];
    }
    let n = (power.len() + 1 - NP_WINDOW_S) as f64;
    finite((acc / n).powf(0.25))
}

/// Average power over the samples that carry power, **zeros included** (coasting counts,
/// missing readings do not) — Garmin's session `avg_power` convention and the VI denominator.
pub fn average_power(series: &Series) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for (p, &has) in series.power.iter().zip(&series.has_power) {
        if has {
            sum += p;
            n += 1;
        }
    }
    ratio(sum, n as f64)
}

/// Highest power of any sample that carries power.
pub fn max_power(series: &Series) -> Option<f64> {
    series
        .power
        .iter()
        .zip(&series.has_power)
        .filter(|(_, h)| **h)
        .map(|(p, _)| *p)
        .fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))))
}

/// Intensity Factor = NP / FTP, **FTP** in force on the activity date (not GoldenCheetah's CP
/// default). `None` without a positive FTP.
pub fn intensity_factor(np_w: f64, ftp_w: f64) -> Option<f64> {
    if ftp_w <= 0.0 {
        None
    } else {
        ratio(np_w, ftp_w)
    }
}

/// Training Stress Score = s/3600 · IF² · 100 with **s = power-bearing seconds** (Strava's
/// Training Load convention; devices use timer time, GoldenCheetah the sample count). One hour at
/// NP = FTP gives 100.
pub fn tss(np_w: f64, ftp_w: f64, seconds: f64) -> Option<f64> {
    let f = intensity_factor(np_w, ftp_w)?;
    if seconds < 0.0 {
        return None;
    }
    finite(seconds / 3600.0 * f * f * 100.0)
}

/// Variability Index = NP / average power, average **including zeros**.
pub fn variability_index(np_w: f64, avg_power_w: f64) -> Option<f64> {
    if avg_power_w <= 0.0 {
        None
    } else {
        ratio(np_w, avg_power_w)
    }
}

/// Efficiency Factor = NP / average HR (cycling; intervals.icu `icu_efficiency`).
pub fn efficiency_factor(np_w: f64, avg_hr_bpm: f64) -> Option<f64> {
    if avg_hr_bpm <= 0.0 {
        None
    } else {
        ratio(np_w, avg_hr_bpm)
    }
}

/// Work in kJ: Σ P·Δt / 1000 over the 1 Hz series (Δt = 1 s; interpolated seconds count,
/// pauses do not).
pub fn work_kj(power: &[f64]) -> f64 {
    power.iter().sum::<f64>() / 1000.0
}

/// xPower (Skiba): 25 s exponentially weighted moving average with new-sample weight 1/26 on
/// the 1 Hz series (GoldenCheetah's Δt/(25/Δt + Δt) at Δt = 1), started at 0; then
/// (mean EWMA⁴)^¼ over every sample. Pauses are not bridged (segments concatenated), so the
/// average does not decay through them as GoldenCheetah's does. `None` for an empty series.
pub fn xpower(power: &[f64]) -> Option<f64> {
    if power.is_empty() {
        return None;
    }
    let k = 1.0 / (XPOWER_TAU_S + 1.0);
    let (mut e, mut acc) = (0.0f64, 0.0f64);
    for &p in power {
        e += (p - e) * k;
        let sq = e * e;
        acc += sq * sq;
    }
    finite((acc / power.len() as f64).powf(0.25))
}

/// NP of a planned workout from its segments `(seconds, watts at start, watts at end)`:
/// (Σ ∫p⁴ dt / T)^¼, ramps integrated exactly (∫ of a linear ramp's 4th power), never the
/// midpoint, Σ segment IF² nor (mean IF)². Constant segments have equal start and end watts.
pub fn planned_np(segments: &[(f64, f64, f64)]) -> Option<f64> {
    let (mut total_t, mut acc) = (0.0, 0.0);
    for &(t, a, b) in segments {
        if !t.is_finite() || t <= 0.0 {
            continue;
        }
        // ∫₀ᵗ (a + (b−a)u/t)⁴ du = t·(a⁴ + a³b + a²b² + ab³ + b⁴)/5.
        acc += t * (a.powi(4) + a.powi(3) * b + a * a * b * b + a * b.powi(3) + b.powi(4)) / 5.0;
        total_t += t;
    }
    if total_t <= 0.0 {
        return None;
    }
    finite((acc / total_t).powf(0.25))
}

/// Planned-workout TSS = hours · (NP_plan / FTP)² · 100 (see [`planned_np`]).
pub fn planned_tss(segments: &[(f64, f64, f64)], ftp_w: f64) -> Option<f64> {
    let np = planned_np(segments)?;
    let secs: f64 = segments
        .iter()
        .map(|s| s.0)
        .filter(|t| t.is_finite() && *t > 0.0)
        .sum();
    tss(np, ftp_w, secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn np_of_constant_power_is_that_power() {
        let p = vec![250.0; 3600];
        assert!(close(normalized_power(&p).unwrap(), 250.0, 1e-9));
    }

    #[test]
    fn np_standard_warm_up_on_a_60_s_file() {
        // 30 s at 100 W then 30 s at 300 W. Standard warm-up: the first rolling average is at
        // sample 30 (index 29); 31 averages in total: 100, then (100·(30−k) + 300·k)/30 for
        // k = 1..=30, i.e. 100 + 20k/3.
        let mut p = vec![100.0; 30];
        p.extend(vec![300.0; 30]);
        let mut acc = 100f64.powi(4);
        for k in 1..=30 {
            acc += (100.0 + 20.0 * k as f64 / 3.0).powi(4);
        }
        let expected = (acc / 31.0).powf(0.25);
        let np = normalized_power(&p).unwrap();
        assert!(close(np, expected, 1e-9), "np {np} expected {expected}");
        // Pinned number: GoldenCheetah's zero-initialised window would count 29 ramped partial
        // averages as well and give a much lower value.
        assert!(close(np, 223.07, 0.01), "np {np}");
        assert_eq!(normalized_power(&p[..29]), None);
        assert!(close(normalized_power(&p[..30]).unwrap(), 100.0, 1e-9));
    }

    #[test]
    fn tss_identities() {
        // 1 h at NP = FTP = 250 → 100; sweatpy stress_score(300, 300, 3600) == 100.
        assert!(close(tss(250.0, 250.0, 3600.0).unwrap(), 100.0, 1e-9));
        assert!(close(tss(300.0, 300.0, 3600.0).unwrap(), 100.0, 1e-9));
        // Half an hour at IF 0.8: 0.5 · 0.64 · 100 = 32.
        assert!(close(tss(200.0, 250.0, 1800.0).unwrap(), 32.0, 1e-9));
        assert_eq!(tss(200.0, 0.0, 1800.0), None);
        assert!(close(
            intensity_factor(301.0, 315.0).unwrap(),
            0.955_555,
            1e-5
        ));
    }

    #[test]
    fn ratios_and_work() {
        assert!(close(variability_index(220.0, 200.0).unwrap(), 1.1, 1e-12));
        assert_eq!(variability_index(220.0, 0.0), None);
        assert!(close(efficiency_factor(210.0, 140.0).unwrap(), 1.5, 1e-12));
        assert_eq!(efficiency_factor(210.0, 0.0), None);
        assert!(close(work_kj(&vec![276.0; 4700]), 1297.2, 1e-9));
    }

    #[test]
    fn xpower_ewma_weight_is_one_over_26() {
        // A single 260 W sample after zeros: EWMA = 10 W at that sample.
        let p = [260.0];
        assert!(close(xpower(&p).unwrap(), 10.0, 1e-12));
        // Long constant power converges to that power.
        assert!(close(xpower(&vec![200.0; 20_000]).unwrap(), 200.0, 0.5));
    }

    #[test]
    fn average_and_max_skip_missing_but_keep_zeros() {
        let s = Series {
            power: vec![100.0, 0.0, 0.0, 200.0],
            has_power: vec![true, false, true, true],
            hr: vec![0.0; 4],
            cadence: vec![0.0; 4],
            moving: vec![true; 4],
            segments: vec![],
        };
        assert!(close(average_power(&s).unwrap(), 100.0, 1e-12));
        assert_eq!(max_power(&s), Some(200.0));
        assert_eq!(average_power(&Series::default()), None);
        assert_eq!(max_power(&Series::default()), None);
    }

    #[test]
    fn planned_np_integrates_ramps() {
        // Constant segments: 30 min at 200 W + 30 min at 300 W.
        let np = planned_np(&[(1800.0, 200.0, 200.0), (1800.0, 300.0, 300.0)]).unwrap();
        let expected = ((200f64.powi(4) + 300f64.powi(4)) / 2.0).powf(0.25);
        assert!(close(np, expected, 1e-9));
        // Ramp 0 → 300 W over 10 min: ∫p⁴ / T = 300⁴/5 exactly, not the midpoint's 150⁴.
        let np = planned_np(&[(600.0, 0.0, 300.0)]).unwrap();
        assert!(close(np, 300.0 * 0.2f64.powf(0.25), 1e-9));
        assert!(close(
            planned_tss(&[(3600.0, 250.0, 250.0)], 250.0).unwrap(),
            100.0,
            1e-9
        ));
        assert_eq!(planned_np(&[]), None);
    }
}
