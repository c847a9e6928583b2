//! A small hand-written SVG toolkit: scales (linear, logarithmic), "nice" ticks, axes, lines,
//! areas and bars. Every coordinate goes through [`n`], which writes one decimal and turns a
//! non-finite value into 0, so no "NaN" can reach the document whatever the data.

use std::fmt::Write as _;

use crate::text::escape;

/// A coordinate or length with one decimal; non-finite values become 0.
pub fn n(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Maps a data domain linearly onto a pixel range (the range may run backwards, as y axes do).
#[derive(Debug, Clone, Copy)]
pub struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    /// A degenerate domain (d0 == d1) is widened by one unit so nothing divides by zero.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Self {
        let (d0, d1) = if (d1 - d0).abs() < 1e-12 || !d0.is_finite() || !d1.is_finite() {
            let c = if d0.is_finite() { d0 } else { 0.0 };
            (c - 0.5, c + 0.5)
        } else {
            (d0, d1)
        };
        Linear { d0, d1, r0, r1 }
    }

    pub fn map(&self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// "Nice" ticks (1, 2 or 5 × 10ᵏ steps) inside the domain, about `count` of them.
    pub fn ticks(&self, count: usize) -> Vec<f64> {
        nice_ticks(self.d0.min(self.d1), self.d0.max(self.d1), count)
    }
}

/// The step of about `count` nice ticks over `lo..=hi`.
pub fn nice_step(lo: f64, hi: f64, count: usize) -> f64 {
    let span = (hi - lo).abs().max(1e-9);
    let raw = span / count.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    // Round the raw step to the nearest of 1, 2, 5, 10 on a log scale (thresholds √2, √10, √50).
    let nice = if f >= 50f64.sqrt() {
        10.0
    } else if f >= 10f64.sqrt() {
        5.0
    } else if f >= 2f64.sqrt() {
        2.0
    } else {
        1.0
    };
    nice * mag
}

/// Multiples of the nice step within `lo..=hi`.
pub fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() {
        return Vec::new();
    }
    let step = nice_step(lo, hi, count);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 100 {
        // Snap -0 and float dust (0.30000000000000004) to clean values.
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// Rounds `hi` up to the next nice step, so the top tick sits at the top of the plot.
pub fn nice_max(hi: f64, count: usize) -> f64 {
    if !hi.is_finite() || hi <= 0.0 {
        return 1.0;
    }
    let step = nice_step(0.0, hi, count);
    (hi / step).ceil() * step
}

/// Maps a positive domain logarithmically onto a pixel range (power-duration curves).
#[derive(Debug, Clone, Copy)]
pub struct Log {
    lin: Linear,
}

impl Log {
    /// Non-positive bounds are clamped to 1 (one second): the log of 0 does not exist.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Self {
        let l0 = d0.max(1.0).ln();
        let l1 = d1.max(1.0).ln();
        Log {
            lin: Linear::new(l0, l1, r0, r1),
        }
    }

    pub fn map(&self, v: f64) -> f64 {
        self.lin.map(v.max(1e-9).ln())
    }

    pub fn contains(&self, v: f64) -> bool {
        let l = v.max(1e-9).ln();
        l >= self.lin.d0 - 1e-9 && l <= self.lin.d1 + 1e-9
    }
}

/// The plot area inside an SVG of `width` × `height` with margins for the axes.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    pub fn chart(width: f64, height: f64) -> Self {
        Frame {
            width,
            height,
            left: 52.0,
            right: 16.0,
            top: 14.0,
            bottom: 34.0,
        }
    }
    pub fn x0(&self) -> f64 {
        self.left
    }
    pub fn x1(&self) -> f64 {
        self.width - self.right
    }
    pub fn y0(&self) -> f64 {
        self.height - self.bottom
    }
    pub fn y1(&self) -> f64 {
        self.top
    }
}

/// Opens a chart: a responsive `<svg>` with an accessible title. Inline SVG in HTML needs no
/// namespace declaration, and writing none keeps the document free of any URL.
pub fn open(out: &mut String, class: &str, width: f64, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="{class}" viewBox="0 0 {} {}" role="img" aria-label="{t}"><title>{t}</title>"#,
        n(width),
        n(height),
        t = escape(title)
    );
}

pub fn close(out: &mut String) {
    out.push_str("</svg>");
}

/// Horizontal grid lines and labels for a y scale.
pub fn y_axis(
    out: &mut String,
    f: &Frame,
    y: &Linear,
    ticks: &[f64],
    label: impl Fn(f64) -> String,
) {
    for &t in ticks {
        let py = y.map(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{}" y1="{py}" x2="{}" y2="{py}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(f.x0()),
            n(f.x1()),
            n(f.x0() - 6.0),
            n(y.map(t) + 4.0),
            escape(&label(t)),
            py = n(py),
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{x}" y1="{}" x2="{x}" y2="{}"/>"#,
        n(f.y0()),
        n(f.y1()),
        x = n(f.x0())
    );
}

/// The x axis line with ticks at the given pixel positions and their labels.
pub fn x_axis(out: &mut String, f: &Frame, ticks: &[(f64, String)]) {
    let _ = write!(
        out,
        r#"<line class="axis" x1="{}" y1="{y}" x2="{}" y2="{y}"/>"#,
        n(f.x0()),
        n(f.x1()),
        y = n(f.y0())
    );
    for (px, label) in ticks {
        let _ = write!(
            out,
            r#"<line class="axis" x1="{x}" y1="{}" x2="{x}" y2="{}"/><text class="tick" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            n(f.y0()),
            n(f.y0() + 4.0),
            n(f.y0() + 16.0),
            escape(label),
            x = n(*px),
        );
    }
}

/// An axis title under the x axis or beside the y axis.
pub fn axis_titles(out: &mut String, f: &Frame, x_title: &str, y_title: &str) {
    if !x_title.is_empty() {
        let _ = write!(
            out,
            r#"<text class="axis-title" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n((f.x0() + f.x1()) / 2.0),
            n(f.height - 4.0),
            escape(x_title)
        );
    }
    if !y_title.is_empty() {
        let _ = write!(
            out,
            r#"<text class="axis-title" x="12" y="{y}" text-anchor="middle" transform="rotate(-90 12 {y})">{}</text>"#,
            escape(y_title),
            y = n((f.y0() + f.y1()) / 2.0),
        );
    }
}

/// A polyline through the finite points (non-finite points are skipped, never drawn at 0).
pub fn line(out: &mut String, class: &str, points: &[(f64, f64)]) {
    let pts: Vec<String> = points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
        .collect();
    if pts.len() < 2 {
        return;
    }
    let _ = write!(
        out,
        r#"<polyline class="{class}" fill="none" points="{}"/>"#,
        pts.join(" ")
    );
}

/// A filled area between the points and a horizontal baseline at pixel `base_y`.
pub fn area(out: &mut String, class: &str, points: &[(f64, f64)], base_y: f64) {
    let pts: Vec<&(f64, f64)> = points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
        return;
    };
    let mut d = format!("M{},{}", n(first.0), n(base_y));
    for (x, y) in &pts {
        let _ = write!(d, " L{},{}", n(*x), n(*y));
    }
    let _ = write!(d, " L{},{} Z", n(last.0), n(base_y));
    let _ = write!(out, r#"<path class="{class}" d="{d}"/>"#);
}

/// A rectangle given two opposite corners in any order (so bars may grow up or down), with an
/// optional tooltip.
pub fn rect(out: &mut String, class: &str, x0: f64, y0: f64, x1: f64, y1: f64, tip: Option<&str>) {
    let (x, w) = (x0.min(x1), (x1 - x0).abs());
    let (y, h) = (y0.min(y1), (y1 - y0).abs());
    match tip {
        Some(t) => {
            let _ = write!(
                out,
                r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>"#,
                n(x),
                n(y),
                n(w),
                n(h),
                escape(t)
            );
        }
        None => {
            let _ = write!(
                out,
                r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}"/>"#,
                n(x),
                n(y),
                n(w),
                n(h)
            );
        }
    }
}

/// A vertical line at pixel `x` from `y0` to `y1` (a marker: today, an event).
pub fn vline(out: &mut String, class: &str, x: f64, y0: f64, y1: f64) {
    if !x.is_finite() {
        return;
    }
    let _ = write!(
        out,
        r#"<line class="{class}" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
        n(x),
        n(y0),
        n(x),
        n(y1)
    );
}

/// Text at a point.
pub fn label(out: &mut String, class: &str, x: f64, y: f64, anchor: &str, text: &str) {
    let _ = write!(
        out,
        r#"<text class="{class}" x="{}" y="{}" text-anchor="{anchor}">{}</text>"#,
        n(x),
        n(y),
        escape(text)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_finite_and_short() {
        assert_eq!(n(f64::NAN), "0");
        assert_eq!(n(f64::NEG_INFINITY), "0");
        assert_eq!(n(12.0), "12");
        assert_eq!(n(12.345), "12.3");
        assert_eq!(n(-0.04), "0");
    }

    #[test]
    fn scales_map_ends_to_ends() {
        let y = Linear::new(0.0, 100.0, 200.0, 10.0);
        assert_eq!(y.map(0.0), 200.0);
        assert_eq!(y.map(100.0), 10.0);
        assert_eq!(y.map(50.0), 105.0);
        // A flat domain does not divide by zero.
        let flat = Linear::new(5.0, 5.0, 0.0, 100.0);
        assert_eq!(flat.map(5.0), 50.0);
        let lx = Log::new(1.0, 3600.0, 0.0, 100.0);
        assert!((lx.map(60.0) - 50.0).abs() < 1e-9);
        assert!(lx.contains(3600.0) && !lx.contains(7200.0));
    }

    #[test]
    fn ticks_are_nice() {
        assert_eq!(
            nice_ticks(0.0, 100.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(
            nice_ticks(-35.0, 80.0, 5),
            vec![-20.0, 0.0, 20.0, 40.0, 60.0, 80.0]
        );
        assert_eq!(nice_max(83.0, 5), 100.0);
        assert_eq!(nice_max(0.0, 5), 1.0);
        assert_eq!(nice_ticks(0.0, 1.0, 4).len(), 6);
    }

    #[test]
    fn shapes_skip_non_finite_points() {
        let mut s = String::new();
        line(&mut s, "l", &[(0.0, 1.0), (f64::NAN, 2.0), (2.0, 3.0)]);
        assert_eq!(s, r#"<polyline class="l" fill="none" points="0,1 2,3"/>"#);
        let mut s = String::new();
        rect(&mut s, "b", 10.0, 50.0, 20.0, 30.0, Some("<x>"));
        assert_eq!(
            s,
            r#"<rect class="b" x="10" y="30" width="10" height="20"><title>&lt;x&gt;</title></rect>"#
        );
    }
}
