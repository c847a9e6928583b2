//! What the TCX and GPX decoders share: the text of the bytes, parsing the document with positions in errors, element
//! lookup by local name (files use any namespace prefix, or none), timestamps and numbers, the
//! cumulative distance and speed a track without them implies, and the error type.

use std::ops::Range;

use jiff::Timestamp;
use roxmltree::{Document, Node, ParsingOptions};

use crate::model::{Record, TimerEvent, TimerEventKind};

/// Why a TCX or GPX document could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("not UTF-8 text (byte {offset})")]
    NotUtf8 { offset: usize },
    #[error("malformed XML at line {line}, column {column}: {reason}")]
    Malformed {
        line: u32,
        column: u32,
        reason: String,
    },
    /// The text ends inside the document: a cut download or a disk that filled up.
    #[error(
        "the XML ends at line {line}, column {column} before the document is complete: the file \
         is truncated"
    )]
    Truncated { line: u32, column: u32 },
    #[error("not a {expected} document: the root element is <{found}>")]
    WrongRoot {
        expected: &'static str,
        found: String,
    },
}

impl XmlError {
    /// `(line, column)` of the problem in the document, when it has one.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            XmlError::Malformed { line, column, .. } | XmlError::Truncated { line, column } => {
                Some((*line, *column))
            }
            _ => None,
        }
    }
}

/// The document's text: UTF-8 checked, byte-order mark dropped.
pub fn text_of(bytes: &[u8]) -> Result<&str, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| XmlError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Parse `text`, checking the root element's local name.
pub(crate) fn parse<'a>(
    text: &'a str,
    root: &'static str,
    expected: &'static str,
) -> Result<Document<'a>, XmlError> {
    let options = ParsingOptions {
        // Some exporters still write a DOCTYPE; entity expansion stays bounded by roxmltree.
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        // roxmltree reports these at 1:1; where the text stops is the useful position.
        roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode => {
            let (line, column) = end_position(text);
            XmlError::Truncated { line, column }
        }
        other => {
            let pos = other.pos();
            let text = other.to_string();
            // roxmltree ends its messages with " at line:column", which ours already says.
            let reason = text
                .strip_suffix(&format!(" at {pos}"))
                .unwrap_or(&text)
                .to_string();
            XmlError::Malformed {
                line: pos.row,
                column: pos.col,
                reason,
            }
        }
    })?;
    let found = doc.root_element().tag_name().name();
    if found != root {
        return Err(XmlError::WrongRoot {
            expected,
            found: found.to_string(),
        });
    }
    Ok(doc)
}

/// Line and column (1-based, in characters) just past the last character of `text`.
fn end_position(text: &str) -> (u32, u32) {
    let line = text.matches('\n').count() + 1;
    let last = text.rsplit('\n').next().unwrap_or("");
    let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (to_u32(line), to_u32(last.chars().count() + 1))
}

/// Child elements named `name` (local name: any namespace, any prefix).
pub(crate) fn children<'a, 'i>(
    node: Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The first child element named `name`.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> Option<Node<'a, 'i>> {
    children(node, name).next()
}

/// The trimmed text of the element at `path` (local names, one per level).
pub(crate) fn text_at<'a>(node: Node<'a, '_>, path: &[&'static str]) -> Option<&'a str> {
    let mut cur = node;
    for name in path {
        cur = child(cur, name)?;
    }
    cur.text().map(str::trim).filter(|t| !t.is_empty())
}

/// The first descendant element named `name`, at any depth: extension blocks nest their values
/// under vendor elements whose names vary (`TPX`, `TrackPointExtension`, `PowerExtension`…).
pub(crate) fn descendant_text<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.descendants()
        .find(|d| d.is_element() && d.tag_name().name() == name)
        .and_then(|d| d.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// An ISO 8601 instant. Text without an offset is taken as UTC (what GPX requires and what
/// exporters that drop the `Z` mean).
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        text.parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| jiff::tz::TimeZone::UTC.to_timestamp(dt).ok())
    })
}

/// A finite number; anything else is treated as not recorded.
pub(crate) fn number(text: Option<&str>) -> Option<f64> {
    text?.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A number rounded into the model's integer channel; out of range is not recorded.
pub(crate) fn int<T: TryFrom<i64>>(text: Option<&str>) -> Option<T> {
    let v = number(text)?.round();
    T::try_from(v as i64).ok()
}

/// Tallies trackpoints dropped for want of a readable time, reported as one warning.
#[derive(Default)]
pub(crate) struct Skipped {
    count: usize,
    first: Option<(u32, u32)>,
}

impl Skipped {
    pub(crate) fn note(&mut self, doc: &Document<'_>, node: Node<'_, '_>) {
        self.count += 1;
        if self.first.is_none() {
            let pos = doc.text_pos_at(node.range().start);
            self.first = Some((pos.row, pos.col));
        }
    }

    pub(crate) fn warning(&self, what: &str) -> Option<String> {
        let (line, column) = self.first?;
        Some(format!(
            "{} {what} without a readable time were left out (the first at line {line}, column \
             {column}).",
            self.count
        ))
    }
}

/// One contiguous run of recording: a TCX `Track` or a GPX `trkseg`. Exporters start a new one
/// when the timer was stopped, so the boundaries become timer stop/start events and the pause is
/// never bridged, as with a FIT file's timer events.
pub(crate) fn pause_events(
    segments: &[std::ops::Range<usize>],
    records: &[Record],
) -> Vec<TimerEvent> {
    let mut events = Vec::new();
    let non_empty: Vec<_> = segments.iter().filter(|s| !s.is_empty()).collect();
    for pair in non_empty.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        events.push(TimerEvent {
            t: records[a.end - 1].t,
            kind: TimerEventKind::Stop,
        });
        events.push(TimerEvent {
            t: records[b.start].t,
            kind: TimerEventKind::Start,
        });
    }
    if let (false, Some(first), Some(last)) =
        (events.is_empty(), non_empty.first(), non_empty.last())
    {
        events.insert(
            0,
            TimerEvent {
                t: records[first.start].t,
                kind: TimerEventKind::Start,
            },
        );
        events.push(TimerEvent {
            t: records[last.end - 1].t,
            kind: TimerEventKind::StopAll,
        });
    }
    events
}

/// Mean Earth radius (m), the IUGG value most GPS tools use for haversine distances.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance (m) between two positions in degrees.
pub(crate) fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Fill what a track that carries positions but not distance or speed implies: the cumulative
/// haversine distance (when no record has a distance) and the speed over the preceding interval
/// (when no record has a speed), so moving time and distance work as for a FIT file. The way
/// from one segment to the next is not counted: the timer was stopped, and a head unit does not
/// count distance then either.
pub(crate) fn fill_distance_and_speed(records: &mut [Record], segments: &[Range<usize>]) {
    if records.iter().all(|r| r.distance_m.is_none()) {
        let mut total = 0.0;
        let mut last: Option<(f64, f64)> = None;
        for segment in segments {
            for r in &mut records[segment.clone()] {
                if let (Some(lat), Some(lon)) = (r.lat_deg, r.lon_deg) {
                    if let Some((plat, plon)) = last {
                        total += haversine_m(plat, plon, lat, lon);
                    }
                    last = Some((lat, lon));
                    r.distance_m = Some(total);
                }
            }
            last = None;
        }
    }
    if records.iter().all(|r| r.speed_mps.is_none()) {
        for segment in segments {
            let mut prev: Option<(i64, f64)> = None;
            for r in &mut records[segment.clone()] {
                let Some(d) = r.distance_m else { continue };
                if let Some((pt, pd)) = prev
                    && r.t > pt
                {
                    r.speed_mps = Some(((d - pd).max(0.0) / (r.t - pt) as f64) as f32);
                }
                prev = Some((r.t, d));
            }
        }
    }
}

/// Timer events as (seconds after `t0`, kind): what the decoders' tests compare.
#[cfg(test)]
pub(crate) fn event_offsets(a: &crate::model::Activity, t0: i64) -> Vec<(i64, TimerEventKind)> {
    a.timer_events.iter().map(|e| (e.t - t0, e.kind)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_of_one_degree_of_latitude() {
        let d = haversine_m(45.0, 7.0, 46.0, 7.0);
        assert!((d - 111_195.0).abs() < 5.0, "{d}");
        assert_eq!(haversine_m(45.0, 7.0, 45.0, 7.0), 0.0);
    }

    #[test]
    fn times_with_offsets_fractions_or_no_zone() {
        let t = |s| parse_time(s).map(|t| t.as_second());
        assert_eq!(t("2020-01-01T00:00:00Z"), Some(1_577_836_800));
        assert_eq!(t("2020-01-01T00:00:00.000Z"), Some(1_577_836_800));
        assert_eq!(t("2020-01-01T01:00:00+01:00"), Some(1_577_836_800));
        assert_eq!(t("2020-01-01T00:00:00"), Some(1_577_836_800));
        assert_eq!(t("yesterday"), None);
    }

    #[test]
    fn numbers_out_of_range_or_unreadable_are_not_recorded() {
        assert_eq!(int::<u8>(Some("300")), None);
        assert_eq!(int::<u8>(Some("151.6")), Some(152));
        assert_eq!(int::<u16>(Some("-5")), None);
        assert_eq!(number(Some("NaN")), None);
        assert_eq!(number(Some("abc")), None);
    }

    #[test]
    fn truncation_is_reported_where_the_text_stops() {
        let err = parse("<a>\n  <b>1</b>\n  <b>", "a", "test").unwrap_err();
        assert!(
            matches!(err, XmlError::Truncated { line: 3, column: 6 }),
            "{err}"
        );
        let err = parse("<a>\n<b></c></a>", "a", "test").unwrap_err();
        assert_eq!(err.position(), Some((2, 4)), "{err}");
        let err = parse("<b/>", "a", "TEST").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a TEST document: the root element is <b>"
        );
    }

    #[test]
    fn distance_and_speed_from_positions() {
        let mut recs: Vec<Record> = (0..3)
            .map(|i| Record {
                t: i,
                lat_deg: Some(45.0 + i as f64 * 0.0001),
                lon_deg: Some(7.0),
                ..Record::default()
            })
            .collect();
        fill_distance_and_speed(&mut recs, std::slice::from_ref(&(0..3)));
        assert_eq!(recs[0].distance_m, Some(0.0));
        let d2 = recs[2].distance_m.unwrap();
        assert!((d2 - 22.24).abs() < 0.01, "{d2}");
        assert_eq!(recs[0].speed_mps, None);
        assert!((recs[1].speed_mps.unwrap() - 11.12).abs() < 0.01);
    }
}
