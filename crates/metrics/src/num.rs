//! Numeric guards: nothing non-finite may reach a serialised figure.

/// `Some(x)` when `x` is finite, else `None`.
///
/// Every derived ratio (IF, VI, EF, % change…) passes through here so that a zero denominator or
/// an overflow becomes "not available" instead of NaN/inf in JSON or SQLite.
#[inline]
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// [`finite`] over an optional value.
#[inline]
pub fn finite_opt(x: Option<f64>) -> Option<f64> {
    x.and_then(finite)
}

/// `num / den` when both are finite and `den != 0`, else `None`.
#[inline]
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    if den == 0.0 { None } else { finite(num / den) }
}

/// Percentage change from `previous` to `recent`; `None` when `previous` is zero (no baseline)
/// or either side is non-finite.
/// Note: totals in this crate fold from `0.0` rather than `Iterator::sum`, whose empty `f64` sum is
/// `-0.0` and would print as "-0" in reports.
pub fn pct_change(recent: f64, previous: f64) -> Option<f64> {
    ratio((recent - previous) * 100.0, previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_maps_non_finite_to_none() {
        assert_eq!(finite(1.5), Some(1.5));
        assert_eq!(finite(0.0), Some(0.0));
        assert_eq!(finite(f64::NAN), None);
        assert_eq!(finite(f64::INFINITY), None);
        assert_eq!(finite(f64::NEG_INFINITY), None);
        assert_eq!(finite_opt(Some(f64::NAN)), None);
        assert_eq!(finite_opt(None), None);
        assert_eq!(finite_opt(Some(-2.0)), Some(-2.0));
    }

    #[test]
    fn ratio_and_pct_change_refuse_zero_denominators() {
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(0.0, 0.0), None);
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(pct_change(150.0, 100.0), Some(50.0));
        assert_eq!(pct_change(50.0, 0.0), None);
        assert_eq!(pct_change(0.0, 0.0), None);
        assert_eq!(pct_change(0.0, 10.0), Some(-100.0));
    }
}
