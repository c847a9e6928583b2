//! Mean-maximal power (the power-duration curve) of one ride and the best over many.
//!
//! Convention: for each duration d, the best mean of P over `[t, t+d)` on the 1 Hz series with
//! pauses (gaps ≥ 25 s) **zero-filled**, so no best effort bridges a pause (GoldenCheetah's
//! behaviour, reference/metrics.md §2). Computed with prefix sums: O(n) per duration.

use crate::summary::PowerCurve;

/// The durations the curve is sampled at, up to `max_s`: every second to 60 s, every 5 s to
/// 10 min, every 30 s to 1 h, every 60 s beyond, plus `max_s` itself (the whole ride) so the
/// curve always reaches the ride's full length.
pub fn curve_durations(max_s: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut d = 1u32;
    while d <= max_s {
        out.push(d);
        d += match d {
            0..60 => 1,
            60..600 => 5,
            600..3600 => 30,
            _ => 60,
        };
    }
    if max_s > 0 && out.last() != Some(&max_s) {
        out.push(max_s);
    }
    out
}

/// Best mean power for each duration in `durations` (seconds, any order) over `power`; `None`
/// for a duration longer than the series or zero.
pub fn mean_max(power: &[f64], durations: &[u32]) -> Vec<Option<f64>> {
    let mut prefix = Vec::with_capacity(power.len() + 1);
    prefix.push(0.0f64);
    let mut acc = 0.0;
    for &p in power {
        acc += p;
        prefix.push(acc);
    }
    durations
        .iter()
        .map(|&d| best_window(&prefix, d as usize))
        .collect()
}

fn best_window(prefix: &[f64], d: usize) -> Option<f64> {
    let n = prefix.len() - 1;
    if d == 0 || d > n {
        return None;
    }
    // Max of prefix[i + d] − prefix[i]. Eight independent select-based lanes (instead of one
    // `f64::max` chain, whose NaN rules block SIMD) let the compiler vectorise this loop: it is
    // the hot spot of a ride summary (≈ 600 durations × n samples).
    let hi = &prefix[d..];
    let lo = &prefix[..=n - d];
    let mut lanes = [f64::NEG_INFINITY; 8];
    let mut hi_chunks = hi.chunks_exact(8);
    let mut lo_chunks = lo.chunks_exact(8);
    for (h, l) in (&mut hi_chunks).zip(&mut lo_chunks) {
        for k in 0..8 {
            let x = h[k] - l[k];
            lanes[k] = if x > lanes[k] { x } else { lanes[k] };
        }
    }
    let mut best = lanes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (h, l) in hi_chunks.remainder().iter().zip(lo_chunks.remainder()) {
        best = best.max(h - l);
    }
    Some(best / d as f64)
}

/// The mean-maximal power curve of one ride.
///
/// `mmp_power` is [`crate::series::Series::mmp_power`] (pauses zero-filled); `ride_s` is the
/// ride's length in series seconds (timer-on samples): durations run up to it, never into the
/// zero-filled pause time alone.
///
/// Raw mean-maximal power is *not* always non-increasing (on [10, 0, 10] the 3 s best, 6.7,
/// beats the 2 s best, 5; the Edge 810 fixture's 300 s best, 340.6 W, beats its 295 s best,
/// 340.0 W). The curve reports, at each duration, the best power held for **at least** that long:
/// a backward running maximum over longer durations. That never lowers a raw value (so raw
/// regression values still hold wherever no longer effort is stronger) and makes the curve
/// non-increasing, as charts and CP fits need.
pub fn power_curve(mmp_power: &[f64], ride_s: usize) -> PowerCurve {
    let max_s = ride_s.min(mmp_power.len()) as u32;
    let durations = curve_durations(max_s);
    let best = mean_max(mmp_power, &durations);
    let mut watts = vec![0.0f32; durations.len()];
    let mut ceiling = 0.0f64;
    for (w, b) in watts.iter_mut().zip(best).rev() {
        // Every duration ≤ the series length has a value.
        ceiling = ceiling.max(b.unwrap_or(0.0));
        *w = ceiling as f32;
    }
    PowerCurve {
        durations_s: durations,
        watts,
    }
}

impl PowerCurve {
    /// Watts at exactly `duration_s`, if the curve has that duration.
    pub fn at(&self, duration_s: u32) -> Option<f64> {
        self.durations_s
            .binary_search(&duration_s)
            .ok()
            .map(|i| f64::from(self.watts[i]))
    }

    /// Best power held for *at least* `duration_s`: the value at the smallest sampled duration
    /// ≥ `duration_s` (the curve is non-increasing, so this is the best over all longer efforts).
    pub fn at_least(&self, duration_s: u32) -> Option<f64> {
        let i = self.durations_s.partition_point(|&d| d < duration_s);
        self.watts.get(i).map(|&w| f64::from(w))
    }

    /// Longest duration on the curve (0 for an empty curve).
    pub fn max_duration_s(&self) -> u32 {
        self.durations_s.last().copied().unwrap_or(0)
    }
}

/// The best curve across rides: at each duration in the union of the curves' durations, the
/// maximum over the curves of [`PowerCurve::at_least`]. Using "at least" (not only curves that
/// sampled that exact duration) keeps the result non-increasing and never overstates a best.
pub fn best_curve(curves: &[&PowerCurve]) -> PowerCurve {
    let mut durations: Vec<u32> = curves
        .iter()
        .flat_map(|c| c.durations_s.iter().copied())
        .collect();
    durations.sort_unstable();
    durations.dedup();
    let mut watts = Vec::with_capacity(durations.len());
    let mut floor = f32::INFINITY;
    for &d in &durations {
        let w = curves
            .iter()
            .filter_map(|c| c.at_least(d))
            .fold(0.0f64, f64::max) as f32;
        let w = w.min(floor);
        floor = w;
        watts.push(w);
    }
    PowerCurve {
        durations_s: durations,
        watts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweatpy_mean_max_identity() {
        // sweatpy mean_max(arange(101)): [0] = 100, [49] = 75.5, [-1] = 50.5. Its array holds
        // durations 1..=100 s, so [-1] is the 100 s best (1..=100 W); the whole 101 s (0..=100)
        // averages 50.
        let p: Vec<f64> = (0..=100).map(f64::from).collect();
        let c = power_curve(&p, p.len());
        assert_eq!(c.at(1), Some(100.0));
        assert_eq!(c.at(50), Some(75.5));
        assert_eq!(c.at(100), Some(50.5));
        assert_eq!(c.at(101), Some(50.0));
        assert_eq!(c.max_duration_s(), 101);
    }

    #[test]
    fn durations_grid() {
        let d = curve_durations(7200);
        assert_eq!(&d[..3], &[1, 2, 3]);
        assert!(d.contains(&60) && d.contains(&65) && !d.contains(&61));
        assert!(d.contains(&600) && d.contains(&630) && !d.contains(&605));
        assert!(d.contains(&3600) && d.contains(&3660) && !d.contains(&3630));
        assert_eq!(*d.last().unwrap(), 7200);
        assert_eq!(curve_durations(0), Vec::<u32>::new());
        assert_eq!(curve_durations(61), {
            let mut v: Vec<u32> = (1..=60).collect();
            v.push(61);
            v
        });
    }

    #[test]
    fn curve_is_best_held_for_at_least_the_duration() {
        // [10, 0, 10]: raw 2 s best 5, 3 s best 6.67; the curve reports 6.67 at 2 s.
        let c = power_curve(&[10.0, 0.0, 10.0], 3);
        assert_eq!(c.durations_s, vec![1, 2, 3]);
        assert_eq!(
            c.watts,
            vec![10.0, (20.0f64 / 3.0) as f32, (20.0f64 / 3.0) as f32]
        );
        assert_eq!(mean_max(&[10.0, 0.0, 10.0], &[2]), vec![Some(5.0)]);
    }

    #[test]
    fn bests_never_bridge_a_zero_filled_pause() {
        // 60 s at 300 W, a pause zero-filled for 60 s, 60 s at 300 W: the best 120 s is 150 W
        // (one effort plus zeros), not 300 W.
        let mut p = vec![300.0; 60];
        p.extend(vec![0.0; 60]);
        p.extend(vec![300.0; 60]);
        let c = power_curve(&p, 120);
        assert_eq!(c.at(60), Some(300.0));
        assert_eq!(c.at(120), Some(150.0));
        assert_eq!(c.max_duration_s(), 120);
    }

    #[test]
    fn best_curve_takes_the_max_and_stays_non_increasing() {
        let a = PowerCurve {
            durations_s: vec![1, 2, 3, 101],
            watts: vec![500.0, 400.0, 300.0, 50.0],
        };
        let b = PowerCurve {
            durations_s: vec![1, 2, 100, 105],
            watts: vec![450.0, 420.0, 320.0, 310.0],
        };
        let best = best_curve(&[&a, &b]);
        assert_eq!(best.durations_s, vec![1, 2, 3, 100, 101, 105]);
        // 3 s: a has 300, b's best sustained ≥ 3 s is its 100 s value, 320.
        assert_eq!(best.watts, vec![500.0, 420.0, 320.0, 320.0, 310.0, 310.0]);
        assert_eq!(best_curve(&[]), PowerCurve::default());
    }
}
