//! Critical power models fitted to mean-maximal powers, eFTP and the stale-FTP check
//! (reference/metrics.md §2 "Critical power models", "FTP estimates").

use serde::{Deserialize, Serialize};

use crate::num::finite;
use crate::summary::PowerCurve;

/// Durations (s) the 2-parameter fit uses: the 2–20 min bests.
pub const CP2_RANGE_S: (u32, u32) = (120, 1200);
/// The 2-parameter fit needs bests out to at least this duration (s): a fit over 2–3 min only
/// extrapolates wildly.
pub const CP2_MIN_SPAN_END_S: u32 = 300;
/// Durations (s) the 3-parameter fit uses: short enough to see Pmax, long enough to see CP.
pub const CP3_RANGE_S: (u32, u32) = (5, 1200);

/// Smallest W′ a fit may return (J). Real W′ is 5–40 kJ; a near-zero intercept means the
/// bests were not maximal efforts (flat curve), and the "CP" would just be their average.
pub const MIN_W_PRIME_J: f64 = 1000.0;

/// 2-parameter (Monod) critical power: P(t) = W′/t + CP.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cp2Fit {
    pub cp_w: f64,
    pub w_prime_j: f64,
    /// Coefficient of determination of the work–time regression.
    pub r2: f64,
    pub points: usize,
}

/// 3-parameter (Morton) critical power: P(t) = CP + W′/(t + W′/(Pmax − CP)), so P(0) = Pmax.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cp3Fit {
    pub cp_w: f64,
    pub w_prime_j: f64,
    pub pmax_w: f64,
    /// Root-mean-square power residual of the fit, W.
    pub rmse_w: f64,
    pub points: usize,
}

impl Cp3Fit {
    /// Modelled power for a duration.
    pub fn power_at(&self, t_s: f64) -> f64 {
        self.cp_w + self.w_prime_j / (t_s + self.w_prime_j / (self.pmax_w - self.cp_w))
    }
}

/// Ordinary least squares y = a + b·x → (a, b, r²). `None` when x has no spread.
fn linear_fit(xs: &[f64], ys: &[f64]) -> Option<(f64, f64, f64)> {
    let n = xs.len() as f64;
    if xs.len() < 2 {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let a = my - b * mx;
    let r2 = if syy > 0.0 {
        (sxy * sxy) / (sxx * syy)
    } else {
        1.0
    };
    Some((finite(a)?, finite(b)?, finite(r2)?))
}

fn points_in(curve: &PowerCurve, range: (u32, u32)) -> Vec<(f64, f64)> {
    curve
        .durations_s
        .iter()
        .zip(&curve.watts)
        .filter(|(d, w)| (range.0..=range.1).contains(*d) && **w > 0.0)
        .map(|(&d, &w)| (f64::from(d), f64::from(w)))
        .collect()
}

/// 2-parameter fit as the **linear work–time regression** work = CP·t + W′ over `(t_s, watts)`
/// points. `None` with fewer than two distinct durations or a non-physical result (CP ≤ 0 or
/// W′ below [`MIN_W_PRIME_J`]).
pub fn fit_cp2(points: &[(f64, f64)]) -> Option<Cp2Fit> {
    let ts: Vec<f64> = points.iter().map(|p| p.0).collect();
    let work: Vec<f64> = points.iter().map(|p| p.0 * p.1).collect();
    let (w_prime, cp, r2) = linear_fit(&ts, &work)?;
    (cp > 0.0 && w_prime >= MIN_W_PRIME_J).then_some(Cp2Fit {
        cp_w: cp,
        w_prime_j: w_prime,
        r2,
        points: points.len(),
    })
}

/// [`fit_cp2`] on a curve's 2–20 min bests ([`CP2_RANGE_S`]); needs bests reaching
/// [`CP2_MIN_SPAN_END_S`].
pub fn fit_cp2_curve(curve: &PowerCurve) -> Option<Cp2Fit> {
    let pts = points_in(curve, CP2_RANGE_S);
    if pts
        .last()
        .is_none_or(|p| p.0 < f64::from(CP2_MIN_SPAN_END_S))
    {
        return None;
    }
    fit_cp2(&pts)
}

/// For a fixed time constant k, P = CP + W′·x with x = 1/(t + k) is linear: solve it and return
/// (CP, W′, sum of squared residuals).
fn cp3_inner(points: &[(f64, f64)], k: f64) -> Option<(f64, f64, f64)> {
    let xs: Vec<f64> = points.iter().map(|p| 1.0 / (p.0 + k)).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let (cp, wp, _) = linear_fit(&xs, &ys)?;
    let sse = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| (y - cp - wp * x).powi(2))
        .sum();
    Some((cp, wp, sse))
}

/// 3-parameter (Morton) fit by nonlinear least squares on power, solved by **variable
/// projection**: for a fixed k = W′/(Pmax − CP) the model is linear in (CP, W′), so only k is
/// searched — a log-spaced scan over 0.1–1000 s, then golden-section refinement of the best
/// bracket. Robust without starting values. `None` with fewer than three distinct durations or a
/// non-physical result.
pub fn fit_cp3(points: &[(f64, f64)]) -> Option<Cp3Fit> {
    let mut ts: Vec<f64> = points.iter().map(|p| p.0).collect();
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    if ts.len() < 3 {
        return None;
    }
    let sse = |ln_k: f64| cp3_inner(points, ln_k.exp()).map_or(f64::INFINITY, |r| r.2);
    const STEPS: usize = 120;
    let (lo, hi) = (0.1f64.ln(), 1000f64.ln());
    let step = (hi - lo) / STEPS as f64;
    let grid: Vec<f64> = (0..=STEPS).map(|i| sse(lo + step * i as f64)).collect();
    let best = grid.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1))?.0;
    let (mut a, mut b) = (
        lo + step * best.saturating_sub(1) as f64,
        lo + step * (best + 1).min(STEPS) as f64,
    );
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (sse(c), sse(d));
    for _ in 0..100 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = sse(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = sse(d);
        }
        if (b - a).abs() < 1e-12 {
            break;
        }
    }
    let k = ((a + b) / 2.0).exp();
    let (cp, wp, sse_min) = cp3_inner(points, k)?;
    if !(cp > 0.0 && wp > 0.0) {
        return None;
    }
    let pmax = cp + wp / k;
    Some(Cp3Fit {
        cp_w: cp,
        w_prime_j: wp,
        pmax_w: finite(pmax)?,
        rmse_w: finite((sse_min / points.len() as f64).sqrt())?,
        points: points.len(),
    })
}

/// [`fit_cp3`] on a curve's 5 s–20 min bests ([`CP3_RANGE_S`]).
pub fn fit_cp3_curve(curve: &PowerCurve) -> Option<Cp3Fit> {
    fit_cp3(&points_in(curve, CP3_RANGE_S))
}

/// How an eFTP was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EftpMethod {
    /// CP of the 2-parameter fit on the 2–20 min bests.
    Cp2,
    /// 0.95 × the best 20 min power.
    TwentyMin95,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FtpEstimate {
    pub ftp_w: f64,
    pub method: EftpMethod,
}

/// eFTP from a (best) power curve: **CP of the 2-parameter fit** when the curve supports one
/// ([`fit_cp2_curve`]), else **0.95 × the 20 min best**, else `None` (no effort of 20 min).
pub fn estimate_ftp(curve: &PowerCurve) -> Option<FtpEstimate> {
    if let Some(fit) = fit_cp2_curve(curve) {
        return Some(FtpEstimate {
            ftp_w: fit.cp_w,
            method: EftpMethod::Cp2,
        });
    }
    let p20 = curve.at_least(1200)?;
    (p20 > 0.0).then_some(FtpEstimate {
        ftp_w: 0.95 * p20,
        method: EftpMethod::TwentyMin95,
    })
}

/// An FTP in the profile that recent bests say is too low.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StaleFtp {
    pub profile_ftp_w: f64,
    pub implied_ftp_w: f64,
    pub method: EftpMethod,
    pub diff_w: f64,
    pub diff_pct: f64,
}

/// Relative and absolute margins an implied FTP must exceed the profile's by before flagging:
/// smaller differences are within model and day-to-day noise.
pub const STALE_FTP_MARGIN_PCT: f64 = 5.0;
pub const STALE_FTP_MARGIN_W: f64 = 10.0;

/// Stale-FTP check: a warning when the eFTP from recent bests exceeds the profile FTP by more
/// than [`STALE_FTP_MARGIN_PCT`] **and** more than [`STALE_FTP_MARGIN_W`].
pub fn stale_ftp(profile_ftp_w: f64, recent: &PowerCurve) -> Option<StaleFtp> {
    let est = estimate_ftp(recent)?;
    if profile_ftp_w <= 0.0 {
        return None;
    }
    let diff = est.ftp_w - profile_ftp_w;
    let pct = diff / profile_ftp_w * 100.0;
    (diff > STALE_FTP_MARGIN_W && pct > STALE_FTP_MARGIN_PCT).then_some(StaleFtp {
        profile_ftp_w,
        implied_ftp_w: est.ftp_w,
        method: est.method,
        diff_w: diff,
        diff_pct: pct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve_from(f: impl Fn(f64) -> f64, max_s: u32) -> PowerCurve {
        let durations_s = crate::curve::curve_durations(max_s);
        let watts = durations_s
            .iter()
            .map(|&d| f(f64::from(d)) as f32)
            .collect();
        PowerCurve { durations_s, watts }
    }

    #[test]
    fn cp2_recovers_synthetic_parameters_exactly() {
        let pts: Vec<(f64, f64)> = (2..=20)
            .map(|m| {
                let t = f64::from(m) * 60.0;
                (t, 20_000.0 / t + 250.0)
            })
            .collect();
        let fit = fit_cp2(&pts).unwrap();
        assert!((fit.cp_w - 250.0).abs() < 1e-9, "{fit:?}");
        assert!((fit.w_prime_j - 20_000.0).abs() < 1e-6, "{fit:?}");
        assert!((fit.r2 - 1.0).abs() < 1e-12);
        assert_eq!(fit_cp2(&pts[..1]), None);
    }

    #[test]
    fn cp3_recovers_synthetic_parameters() {
        let (cp, wp, pmax) = (260.0, 18_000.0, 1100.0);
        let model = |t: f64| cp + wp / (t + wp / (pmax - cp));
        let pts: Vec<(f64, f64)> = crate::curve::curve_durations(1200)
            .into_iter()
            .filter(|&d| d >= 5)
            .map(|d| (f64::from(d), model(f64::from(d))))
            .collect();
        let fit = fit_cp3(&pts).unwrap();
        assert!((fit.cp_w - cp).abs() < 0.01, "{fit:?}");
        assert!((fit.w_prime_j - wp).abs() < 5.0, "{fit:?}");
        assert!((fit.pmax_w - pmax).abs() < 1.0, "{fit:?}");
        assert!(fit.rmse_w < 1e-3);
        assert!((fit.power_at(300.0) - model(300.0)).abs() < 0.01);
        // Through a curve (f32 watts) it still lands close.
        let fit = fit_cp3_curve(&curve_from(model, 3600)).unwrap();
        assert!(
            (fit.cp_w - cp).abs() < 0.5 && (fit.pmax_w - pmax).abs() < 10.0,
            "{fit:?}"
        );
    }

    #[test]
    fn eftp_prefers_cp2_then_twenty_minutes() {
        let c = curve_from(|t| 20_000.0 / t + 250.0, 3600);
        let e = estimate_ftp(&c).unwrap();
        assert_eq!(e.method, EftpMethod::Cp2);
        assert!((e.ftp_w - 250.0).abs() < 0.1, "{e:?}");
        // Only a 20 min all-out effort (no 2–5 min span): a flat curve has no positive W′.
        let flat = curve_from(|_| 300.0, 1500);
        let e = estimate_ftp(&flat).unwrap();
        assert_eq!(e.method, EftpMethod::TwentyMin95);
        assert!((e.ftp_w - 285.0).abs() < 1e-9);
        // A 4 min ride supports neither.
        assert_eq!(
            estimate_ftp(&curve_from(|t| 20_000.0 / t + 250.0, 240)),
            None
        );
    }

    #[test]
    fn stale_ftp_needs_both_margins() {
        // sweatpy's coaching case: FTP 200 with a 20 min best of 306.8 W.
        let c = curve_from(|_| 306.8, 1500);
        let w = stale_ftp(200.0, &c).unwrap();
        assert!((w.implied_ftp_w - 291.46).abs() < 0.01, "{w:?}");
        assert!(w.diff_pct > 45.0);
        // 5 % and 10 W: an FTP of 280 vs eFTP 291.5 is +11.5 W but only +4.1 % → no warning.
        assert_eq!(stale_ftp(280.0, &c), None);
        // Small FTP: +8 W is > 5 % of 150 but not > 10 W.
        let c = curve_from(|_| 166.3, 1500);
        assert_eq!(stale_ftp(150.0, &c), None);
        assert_eq!(stale_ftp(0.0, &c), None);
    }
}
