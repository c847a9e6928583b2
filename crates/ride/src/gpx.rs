//! GPX 1.1 (and 1.0) → [`Activity`] (files and `.gpx.gz` through [`crate::activity_file`]).
//!
//! - every `trk` becomes a [`Session`] (sport from its `type`, start at its first point); its
//!   `trkpt`s become [`Record`]s; GPX has no laps;
//! - heart rate, cadence, temperature and speed come from Garmin's `TrackPointExtension`
//!   (`hr`, `cad`, `atemp`, `speed`), power from a `power` element (Strava's and others'
//!   exports) or Garmin's `PowerInWatts`; elements are matched by local name, so any namespace
//!   prefix works;
//! - GPX carries no distance: it is the cumulative haversine distance between positions, and
//!   speed (when no extension gives it) the distance over the time between points;
//! - each `trkseg` after the first starts after a timer stop, so segment boundaries become
//!   timer events;
//! - a point without `lat`/`lon` (which the schema requires, but indoor exports omit) is kept
//!   without a position; one without a readable `time` is left out (one warning counts them).

use jiff::Timestamp;
use roxmltree::Node;

use crate::model::{Activity, DeviceInfo, Environment, Record, Session, Sport, SportKind};
use crate::xml::{
    self, Skipped, XmlError, child, children, descendant_text, int, number, parse_time, text_at,
};

/// Decode a GPX document.
pub fn decode_text(text: &str) -> Result<Activity, XmlError> {
    let doc = xml::parse(text, "gpx", "GPX")?;
    let root = doc.root_element();
    let mut out = Activity::default();
    let mut segments = Vec::new();
    let mut skipped = Skipped::default();
    let metadata_time = text_at(root, &["metadata", "time"])
        .or(text_at(root, &["time"]))
        .and_then(parse_time);
    for track in children(root, "trk") {
        let first = out.records.len();
        for segment in children(track, "trkseg") {
            let start = out.records.len();
            for point in children(segment, "trkpt") {
                match trackpoint(point) {
                    Some(r) => out.records.push(r),
                    None => skipped.note(&doc, point),
                }
            }
            segments.push(start..out.records.len());
        }
        out.sessions.push(Session {
            start_time: out
                .records
                .get(first)
                .and_then(|r| Timestamp::from_second(r.t).ok())
                .or(metadata_time),
            sport: Some(text_at(track, &["type"]).map_or(
                SportKind::with_env(Sport::Other, Environment::Outdoor),
                sport_from_gpx_type,
            )),
            ..Session::default()
        });
    }
    if let Some(creator) = root.attribute("creator").filter(|c| !c.trim().is_empty()) {
        out.devices.push(DeviceInfo {
            product_name: Some(creator.trim().to_string()),
            ..DeviceInfo::default()
        });
    }
    out.timer_events = xml::pause_events(&segments, &out.records);
    xml::fill_distance_and_speed(&mut out.records, &segments);
    out.warnings.extend(skipped.warning("track points"));
    out.message_count = out.sessions.len() + out.records.len();
    Ok(out)
}

/// A GPX `<type>`: free text. Strava writes its activity types ("Ride", "VirtualRide") or
/// "cycling"; Garmin Connect writes FIT-like names ("cycling", "road_biking", "indoor_cycling").
/// Anything naming a bike is a ride; the rest follows Strava's then FIT's names.
pub fn sport_from_gpx_type(kind: &str) -> SportKind {
    let strava = crate::strava::sport_from_type(kind);
    if strava.sport != Sport::Other {
        return strava;
    }
    let lower = kind.trim().to_ascii_lowercase();
    let fit = crate::fit::map_sport(&lower, None);
    if fit.sport != Sport::Other {
        return fit;
    }
    if lower.contains("bik") || lower.contains("cycl") {
        let environment = if lower.contains("virtual") {
            Environment::Virtual
        } else if lower.contains("indoor") {
            Environment::Indoor
        } else {
            Environment::Outdoor
        };
        return SportKind::with_env(Sport::Ride, environment);
    }
    strava
}

/// One `trkpt`; `None` without a readable time.
fn trackpoint(point: Node<'_, '_>) -> Option<Record> {
    let t = parse_time(text_at(point, &["time"])?)?.as_second();
    let ext = child(point, "extensions");
    let ext_value = |name| ext.and_then(|e| descendant_text(e, name));
    Some(Record {
        t,
        power_w: int(ext_value("power").or(ext_value("PowerInWatts"))),
        heart_rate_bpm: int(ext_value("hr")),
        cadence_rpm: int(ext_value("cad")),
        speed_mps: number(ext_value("speed")).map(|v| v as f32),
        distance_m: None,
        altitude_m: number(text_at(point, &["ele"])).map(|v| v as f32),
        lat_deg: number(point.attribute("lat")),
        lon_deg: number(point.attribute("lon")),
        temperature_c: int(ext_value("atemp")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strava's shape: `power` directly under `extensions`, Garmin's TrackPointExtension for the
    /// rest, two segments (a pause).
    const STRAVA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx creator="StravaGPX" version="1.1" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
 <metadata><time>2020-05-01T08:00:00Z</time></metadata>
 <trk>
  <name>Morning Ride</name>
  <type>cycling</type>
  <trkseg>
   <trkpt lat="45.0000000" lon="7.0000000"><ele>250.0</ele><time>2020-05-01T08:00:00Z</time>
    <extensions><power>210</power><gpxtpx:TrackPointExtension><gpxtpx:atemp>21</gpxtpx:atemp>
     <gpxtpx:hr>120</gpxtpx:hr><gpxtpx:cad>87</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions>
   </trkpt>
   <trkpt lat="45.0001000" lon="7.0000000"><time>2020-05-01T08:00:02Z</time></trkpt>
  </trkseg>
  <trkseg>
   <trkpt lat="45.0002000" lon="7.0000000"><time>2020-05-01T08:00:40Z</time>
    <extensions><ns3:TrackPointExtension xmlns:ns3="urn:other"><ns3:hr>130</ns3:hr></ns3:TrackPointExtension>
     <pwr:PowerInWatts xmlns:pwr="http://www.garmin.com/xmlschemas/PowerExtension/v1">305</pwr:PowerInWatts></extensions>
   </trkpt>
  </trkseg>
 </trk>
</gpx>"#;

    #[test]
    fn strava_document_decodes_with_extensions_and_computed_distance() {
        let a = decode_text(STRAVA).unwrap();
        assert_eq!(a.sport(), SportKind::new(Sport::Ride));
        assert_eq!(a.start_time().unwrap().as_second(), 1_588_320_000);
        assert_eq!(a.records.len(), 3);
        let r = a.records[0];
        assert_eq!(
            (r.power_w, r.heart_rate_bpm, r.cadence_rpm, r.temperature_c),
            (Some(210), Some(120), Some(87), Some(21))
        );
        assert_eq!(r.altitude_m, Some(250.0));
        assert_eq!(r.distance_m, Some(0.0));
        let r1 = a.records[1];
        assert_eq!((r1.power_w, r1.heart_rate_bpm), (None, None));
        let d1 = r1.distance_m.unwrap();
        assert!((d1 - 11.12).abs() < 0.01, "{d1}");
        assert!((r1.speed_mps.unwrap() - 5.56).abs() < 0.01);
        let r2 = a.records[2];
        assert_eq!((r2.power_w, r2.heart_rate_bpm), (Some(305), Some(130)));
        // The way covered while the timer was stopped is not counted.
        assert_eq!(r2.distance_m, r1.distance_m);
        assert_eq!(r2.speed_mps, None);
        assert!(a.laps.is_empty());
        assert_eq!(a.devices[0].product_name.as_deref(), Some("StravaGPX"));
        use crate::model::TimerEventKind::*;
        let events = xml::event_offsets(&a, 1_588_320_000);
        assert_eq!(
            events,
            vec![(0, Start), (2, Stop), (40, Start), (40, StopAll)]
        );
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    }

    #[test]
    fn prefixed_gpx_10_without_positions_or_times() {
        let doc = r#"<g:gpx xmlns:g="http://www.topografix.com/GPX/1/0" version="1.0">
          <g:time>2019-03-03T10:00:00Z</g:time>
          <g:trk><g:type>VirtualRide</g:type><g:trkseg>
            <g:trkpt><g:time>2019-03-03T10:00:01Z</g:time><g:extensions><g:power>150</g:power></g:extensions></g:trkpt>
            <g:trkpt lat="1" lon="2"></g:trkpt>
          </g:trkseg></g:trk></g:gpx>"#;
        let a = decode_text(doc).unwrap();
        assert_eq!(a.sport().environment, Environment::Virtual);
        assert_eq!(a.records.len(), 1);
        assert_eq!(a.records[0].power_w, Some(150));
        assert_eq!(a.records[0].lat_deg, None);
        assert_eq!(a.records[0].distance_m, None);
        assert!(a.warnings[0].starts_with("1 track points without a readable time"));
        assert!(
            a.warnings[0].contains("line 5, column 13"),
            "{}",
            a.warnings[0]
        );
        // A track without points starts at the document's time.
        let empty = r#"<gpx><metadata><time>2019-03-03T10:00:00Z</time></metadata><trk/></gpx>"#;
        let a = decode_text(empty).unwrap();
        assert_eq!(a.start_time().unwrap().as_second(), 1_551_607_200);
        assert_eq!(a.sport().sport, Sport::Other);
    }

    #[test]
    fn gpx_types() {
        let k = sport_from_gpx_type;
        assert_eq!(k("Ride"), SportKind::new(Sport::Ride));
        assert_eq!(k("cycling"), SportKind::new(Sport::Ride));
        assert_eq!(k("road_biking"), SportKind::new(Sport::Ride));
        assert_eq!(k("indoor_cycling").environment, Environment::Indoor);
        assert_eq!(k("virtual_ride").environment, Environment::Virtual);
        assert_eq!(k("running").sport, Sport::Run);
        assert_eq!(k("Run").sport, Sport::Run);
        assert_eq!(k("sailing").sport, Sport::Other);
    }

    #[test]
    fn gzip_and_malformed_documents() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(STRAVA.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            crate::activity_file::decode_bytes(&gz).unwrap(),
            decode_text(STRAVA).unwrap()
        );

        let broken = STRAVA.replace("lat=\"45.0001000\"", "lat=45.0001000");
        let err = decode_text(&broken).unwrap_err();
        assert_eq!(err.position().map(|p| p.0), Some(13), "{err}");
        let cut = &STRAVA[..STRAVA.len() - 30];
        let err = decode_text(cut).unwrap_err();
        assert!(
            matches!(
                err,
                XmlError::Truncated {
                    line: 19,
                    column: 9
                }
            ),
            "{err}"
        );
        let err = xml::text_of(b"\xff\xfe<gpx/>").unwrap_err();
        assert!(matches!(err, XmlError::NotUtf8 { offset: 0 }), "{err}");
    }
}
