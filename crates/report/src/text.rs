//! Escaping and number formatting shared by the HTML, Markdown and Zwift writers.

/// Escapes text for HTML and XML, in element content and in quoted attribute values alike: the
/// five markup characters become entities, and control characters that XML 1.0 forbids even as
/// references (everything below U+0020 except tab, newline and carriage return) are dropped, so
/// one function serves `index.html` and the `.zwo` files.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Markdown table cell or list item: the pipe would split a cell, a newline
/// would end the row, and `<` would start raw HTML in most renderers.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// The placeholder for a figure the data does not allow.
pub const NONE: &str = "–";

/// `v` with `decimals` decimals; the placeholder for `None` or a non-finite value, so a NaN never
/// reaches the page.
pub fn num(v: Option<f64>, decimals: usize) -> String {
    match v.filter(|v| v.is_finite()) {
        // Avoid "-0" for tiny negative values rounded away.
        Some(v) => {
            // Half away from zero (262.5 W → 263 W), as people round; `format!` alone rounds
            // half to even.
            let m = 10f64.powi(decimals.min(15) as i32);
            let r = (v * m).round() / m;
            let s = format!("{r:.decimals$}");
            if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
                s[1..].to_owned()
            } else {
                s
            }
        }
        None => NONE.to_owned(),
    }
}

/// `v` with a unit, or the placeholder alone.
pub fn num_unit(v: Option<f64>, decimals: usize, unit: &str) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(_) => format!("{} {unit}", num(v, decimals)),
        None => NONE.to_owned(),
    }
}

/// A signed percentage change, "+12.5 %"; the placeholder when there is none (zero previous).
pub fn pct_change(v: Option<f64>) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) if v > 0.0 => format!("+{} %", num(Some(v), 1)),
        Some(v) => format!("{} %", num(Some(v), 1)),
        None => NONE.to_owned(),
    }
}

/// Percentage change from `prev` to `cur`; `None` when `prev` is zero or either is missing.
pub fn change(cur: Option<f64>, prev: Option<f64>) -> Option<f64> {
    let (c, p) = (cur?, prev?);
    (p != 0.0 && c.is_finite() && p.is_finite()).then(|| (c - p) / p * 100.0)
}

/// A workout or ride duration: "45 s", "8 min", "1 min 30 s", "1 h 05 min".
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return NONE.to_owned();
    }
    let s = seconds.round() as u64;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m, sec) {
        (0, 0, sec) => format!("{sec} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, sec) => format!("{m} min {sec} s"),
        (h, 0, 0) => format!("{h} h"),
        // Seconds are dropped past an hour: a ride of 2 h 13 min 07 s reads as 2 h 13 min.
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// Hours as "7.5 h".
pub fn hours(h: f64) -> String {
    num_unit(Some(h), 1, "h")
}

/// An ASCII file-name slug: lower-case letters and digits, runs of anything else as one `-`,
/// at most `max` bytes, never empty.
pub fn slug(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars() {
        let c = c.to_lowercase().next().unwrap_or(c);
        let c = match c {
            // Common accented letters keep their base letter rather than becoming a dash.
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            if out.len() >= max {
                break;
            }
            out.push(c);
        } else {
            dash = true;
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "workout".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape(r#"Tom & "Jerry's" <b>"#),
            "Tom &amp; &quot;Jerry&#39;s&quot; &lt;b&gt;"
        );
        // Already-escaped text is escaped again (it is data, not markup).
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("a\u{1}b\tc\u{1F6B4}"), "ab\tc\u{1F6B4}");
    }

    #[test]
    fn markdown_cells_stay_cells() {
        assert_eq!(md("a|b\n<script>"), "a\\|b &lt;script&gt;");
    }

    #[test]
    fn numbers_never_show_nan() {
        assert_eq!(num(Some(f64::NAN), 1), NONE);
        assert_eq!(num(Some(f64::INFINITY), 0), NONE);
        assert_eq!(num(None, 0), NONE);
        assert_eq!(num(Some(-0.04), 1), "0.0");
        assert_eq!(num(Some(262.46), 0), "262");
        assert_eq!(pct_change(Some(12.34)), "+12.3 %");
        assert_eq!(pct_change(Some(-5.0)), "-5.0 %");
        assert!((change(Some(110.0), Some(100.0)).unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(change(Some(1.0), Some(0.0)), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(45.0), "45 s");
        assert_eq!(duration(480.0), "8 min");
        assert_eq!(duration(90.0), "1 min 30 s");
        assert_eq!(duration(3900.0), "1 h 05 min");
        assert_eq!(duration(7200.0), "2 h");
        assert_eq!(duration(f64::NAN), NONE);
    }

    #[test]
    fn slugs_are_ascii_and_bounded() {
        assert_eq!(slug("Sweet spot 3×15 min", 40), "sweet-spot-3-15-min");
        assert_eq!(slug("  Über-Schwelle!! ", 40), "uber-schwelle");
        assert_eq!(slug("<script>", 40), "script");
        assert_eq!(slug("***", 40), "workout");
        assert_eq!(slug("abcdefghij klm", 10), "abcdefghij");
        assert!(slug("a b c d e f g h", 5).len() <= 5);
    }
}
