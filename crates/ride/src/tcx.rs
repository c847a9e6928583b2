//! TCX (Garmin Training Center Database v2) → [`Activity`] (files and `.tcx.gz` through
//! [`crate::activity_file`]).
//!
//! - every `Activity` of the document becomes a [`Session`] (sport from its `Sport` attribute,
//!   start from its `Id`, timer time, distance and calories summed over its laps);
//! - every `Lap` becomes a [`Lap`] as a FIT lap is modelled (the `LX` extension's average speed
//!   and power included); its `Trackpoint`s become [`Record`]s;
//! - power comes from the `TPX` extension's `Watts` (ActivityExtension v2), speed from its
//!   `Speed`; elements are matched by local name, so any namespace prefix (`ns3:`, `tpx:`, none)
//!   works;
//! - each `Track` after the first starts after a timer stop (that is how Garmin writes a pause),
//!   so track boundaries become timer events;
//! - a trackpoint without a readable `Time` is left out (one warning counts them); an
//!   unreadable number is treated as not recorded; malformed or truncated XML is an error
//!   naming the line and column.

use jiff::Timestamp;
use roxmltree::{Document, Node};

use crate::model::{Activity, DeviceInfo, Environment, Lap, Record, Session, Sport, SportKind};
use crate::xml::{
    self, Skipped, XmlError, child, children, descendant_text, int, number, parse_time, text_at,
};

/// Decode a TCX document.
pub fn decode_text(text: &str) -> Result<Activity, XmlError> {
    let doc = xml::parse(text, "TrainingCenterDatabase", "TCX")?;
    let mut out = Activity::default();
    let mut tracks = Vec::new();
    let mut skipped = Skipped::default();
    for activities in children(doc.root_element(), "Activities") {
        for activity in children(activities, "Activity") {
            decode_activity(&doc, activity, &mut out, &mut tracks, &mut skipped);
        }
    }
    out.timer_events = xml::pause_events(&tracks, &out.records);
    xml::fill_distance_and_speed(&mut out.records, &tracks);
    out.warnings.extend(skipped.warning("trackpoints"));
    out.message_count = out.sessions.len() + out.laps.len() + out.records.len();
    Ok(out)
}

/// The TCX `Sport` attribute: the schema knows only these three.
pub fn sport_from_tcx(sport: &str) -> SportKind {
    match sport.trim().to_ascii_lowercase().as_str() {
        "biking" => SportKind::new(Sport::Ride),
        "running" => SportKind::new(Sport::Run),
        _ => SportKind::with_env(Sport::Other, Environment::Outdoor),
    }
}

fn decode_activity(
    doc: &Document<'_>,
    activity: Node<'_, '_>,
    out: &mut Activity,
    tracks: &mut Vec<std::ops::Range<usize>>,
    skipped: &mut Skipped,
) {
    let first_record = out.records.len();
    let first_lap = out.laps.len();
    for lap in children(activity, "Lap") {
        let lap_first = out.records.len();
        for track in children(lap, "Track") {
            let start = out.records.len();
            for point in children(track, "Trackpoint") {
                match trackpoint(point) {
                    Some(r) => out.records.push(r),
                    None => skipped.note(doc, point),
                }
            }
            tracks.push(start..out.records.len());
        }
        out.laps.push(lap_of(lap, &out.records[lap_first..]));
    }
    let laps = &out.laps[first_lap..];
    out.sessions.push(Session {
        start_time: text_at(activity, &["Id"])
            .and_then(parse_time)
            .or_else(|| laps.first().and_then(|l| l.start_time))
            .or_else(|| {
                out.records
                    .get(first_record)
                    .and_then(|r| Timestamp::from_second(r.t).ok())
            }),
        sport: Some(activity.attribute("Sport").map_or(
            SportKind::with_env(Sport::Other, Environment::Outdoor),
            sport_from_tcx,
        )),
        total_timer_time_s: sum_present(laps.iter().map(|l| l.total_timer_time_s)),
        total_distance_m: sum_present(laps.iter().map(|l| l.total_distance_m)),
        total_calories_kcal: sum_present(
            children(activity, "Lap").map(|l| number(text_at(l, &["Calories"]))),
        ),
        num_laps: u32::try_from(laps.len()).ok(),
        ..Session::default()
    });
    if let Some(name) = text_at(activity, &["Creator", "Name"]) {
        out.devices.push(DeviceInfo {
            product_name: Some(name.to_string()),
            ..DeviceInfo::default()
        });
    }
}

/// The sum of the values present; `None` when no lap has one.
fn sum_present(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values
        .flatten()
        .fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v))
}

/// One `Trackpoint`; `None` without a readable time.
fn trackpoint(point: Node<'_, '_>) -> Option<Record> {
    let t = parse_time(text_at(point, &["Time"])?)?.as_second();
    let ext = child(point, "Extensions");
    let ext_value = |name| ext.and_then(|e| descendant_text(e, name));
    Some(Record {
        t,
        power_w: int(ext_value("Watts")),
        heart_rate_bpm: int(
            text_at(point, &["HeartRateBpm", "Value"]).or(text_at(point, &["HeartRateBpm"]))
        ),
        cadence_rpm: int(text_at(point, &["Cadence"]).or(ext_value("RunCadence"))),
        speed_mps: number(ext_value("Speed")).map(|v| v as f32),
        distance_m: number(text_at(point, &["DistanceMeters"])),
        altitude_m: number(text_at(point, &["AltitudeMeters"])).map(|v| v as f32),
        lat_deg: number(text_at(point, &["Position", "LatitudeDegrees"])),
        lon_deg: number(text_at(point, &["Position", "LongitudeDegrees"])),
        temperature_c: None,
    })
}

/// One `Lap`: its totals as written, its end at its last trackpoint (else start + timer time).
fn lap_of(lap: Node<'_, '_>, records: &[Record]) -> Lap {
    let start_time = lap.attribute("StartTime").and_then(parse_time).or_else(|| {
        records
            .first()
            .and_then(|r| Timestamp::from_second(r.t).ok())
    });
    let timer_s = number(text_at(lap, &["TotalTimeSeconds"]));
    let end_time = records
        .last()
        .and_then(|r| Timestamp::from_second(r.t).ok())
        .or_else(|| {
            let end = start_time?.as_second() + timer_s?.round() as i64;
            Timestamp::from_second(end).ok()
        });
    let ext = child(lap, "Extensions");
    let ext_value = |name| number(ext.and_then(|e| descendant_text(e, name)));
    Lap {
        start_time,
        end_time,
        total_elapsed_time_s: match (start_time, end_time) {
            (Some(s), Some(e)) if e >= s => Some((e.as_second() - s.as_second()) as f64),
            _ => None,
        },
        total_timer_time_s: timer_s,
        total_distance_m: number(text_at(lap, &["DistanceMeters"])),
        avg_power_w: ext_value("AvgWatts"),
        max_power_w: ext_value("MaxWatts"),
        normalized_power_w: None,
        avg_heart_rate_bpm: number(text_at(lap, &["AverageHeartRateBpm", "Value"])),
        max_heart_rate_bpm: number(text_at(lap, &["MaximumHeartRateBpm", "Value"])),
        avg_cadence_rpm: number(text_at(lap, &["Cadence"])),
        avg_speed_mps: ext_value("AvgSpeed"),
        total_ascent_m: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Garmin Connect's shape: default namespace, `ns3` for the extensions, two tracks (a pause).
    const GARMIN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
    xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
 <Activities>
  <Activity Sport="Biking">
   <Id>2020-05-01T08:00:00.000Z</Id>
   <Lap StartTime="2020-05-01T08:00:00.000Z">
    <TotalTimeSeconds>3.0</TotalTimeSeconds>
    <DistanceMeters>20.5</DistanceMeters>
    <Calories>1</Calories>
    <AverageHeartRateBpm><Value>121</Value></AverageHeartRateBpm>
    <MaximumHeartRateBpm><Value>123</Value></MaximumHeartRateBpm>
    <Intensity>Active</Intensity>
    <Cadence>88</Cadence>
    <TriggerMethod>Manual</TriggerMethod>
    <Track>
     <Trackpoint>
      <Time>2020-05-01T08:00:00.000Z</Time>
      <Position><LatitudeDegrees>45.1</LatitudeDegrees><LongitudeDegrees>7.2</LongitudeDegrees></Position>
      <AltitudeMeters>250.4</AltitudeMeters>
      <DistanceMeters>0.0</DistanceMeters>
      <HeartRateBpm><Value>120</Value></HeartRateBpm>
      <Cadence>87</Cadence>
      <Extensions><ns3:TPX><ns3:Speed>6.5</ns3:Speed><ns3:Watts>210</ns3:Watts></ns3:TPX></Extensions>
     </Trackpoint>
     <Trackpoint>
      <Time>2020-05-01T08:00:01.000Z</Time>
      <DistanceMeters>6.5</DistanceMeters>
      <HeartRateBpm><Value>121</Value></HeartRateBpm>
      <Extensions><ns3:TPX><ns3:Watts>220</ns3:Watts></ns3:TPX></Extensions>
     </Trackpoint>
    </Track>
    <Track>
     <Trackpoint>
      <Time>2020-05-01T08:00:10Z</Time>
      <DistanceMeters>20.5</DistanceMeters>
      <HeartRateBpm><Value>123</Value></HeartRateBpm>
     </Trackpoint>
    </Track>
    <Extensions><ns3:LX><ns3:AvgSpeed>6.8</ns3:AvgSpeed><ns3:AvgWatts>215</ns3:AvgWatts><ns3:MaxWatts>220</ns3:MaxWatts></ns3:LX></Extensions>
   </Lap>
   <Creator><Name>Edge 530</Name></Creator>
  </Activity>
 </Activities>
</TrainingCenterDatabase>"#;

    #[test]
    fn garmin_document_decodes_records_laps_and_extensions() {
        let a = decode_text(GARMIN).unwrap();
        assert_eq!(a.sport(), SportKind::new(Sport::Ride));
        assert_eq!(a.start_time().unwrap().as_second(), 1_588_320_000);
        assert_eq!(a.records.len(), 3);
        let r = a.records[0];
        assert_eq!(r.t, 1_588_320_000);
        assert_eq!(r.power_w, Some(210));
        assert_eq!(r.heart_rate_bpm, Some(120));
        assert_eq!(r.cadence_rpm, Some(87));
        assert_eq!(r.speed_mps, Some(6.5));
        assert_eq!(r.altitude_m, Some(250.4));
        assert_eq!((r.lat_deg, r.lon_deg), (Some(45.1), Some(7.2)));
        assert_eq!(a.records[1].power_w, Some(220));
        assert_eq!(a.records[1].cadence_rpm, None);
        // Speed is the extension's only: records without it stay without.
        assert_eq!(a.records[1].speed_mps, None);
        assert_eq!(a.records[2].power_w, None);
        assert_eq!(a.records[2].t, 1_588_320_010);

        assert_eq!(a.laps.len(), 1);
        let lap = &a.laps[0];
        assert_eq!(lap.total_timer_time_s, Some(3.0));
        assert_eq!(lap.total_distance_m, Some(20.5));
        assert_eq!(lap.avg_power_w, Some(215.0));
        assert_eq!(lap.max_power_w, Some(220.0));
        assert_eq!(lap.avg_speed_mps, Some(6.8));
        assert_eq!(lap.avg_heart_rate_bpm, Some(121.0));
        assert_eq!(lap.max_heart_rate_bpm, Some(123.0));
        assert_eq!(lap.avg_cadence_rpm, Some(88.0));
        assert_eq!(lap.end_time.unwrap().as_second(), 1_588_320_010);

        let s = &a.sessions[0];
        assert_eq!(s.total_timer_time_s, Some(3.0));
        assert_eq!(s.total_distance_m, Some(20.5));
        assert_eq!(s.total_calories_kcal, Some(1.0));
        assert_eq!(a.devices[0].product_name.as_deref(), Some("Edge 530"));

        // The second track is a pause: stop at 08:00:01, start at 08:00:10.
        let events = xml::event_offsets(&a, 1_588_320_000);
        use crate::model::TimerEventKind::*;
        assert_eq!(
            events,
            vec![(0, Start), (1, Stop), (10, Start), (10, StopAll)]
        );
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    }

    #[test]
    fn any_prefix_or_none_and_missing_fields() {
        let doc = r#"<tcd:TrainingCenterDatabase xmlns:tcd="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
            xmlns:tpx="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
          <tcd:Activities><tcd:Activity Sport="Running"><tcd:Id>2021-01-01T10:00:00+01:00</tcd:Id>
            <tcd:Lap StartTime="2021-01-01T09:00:00Z"><tcd:Track>
              <tcd:Trackpoint><tcd:Time>2021-01-01T09:00:00Z</tcd:Time>
                <tcd:Extensions><tpx:TPX><tpx:Watts>300</tpx:Watts><tpx:RunCadence>85</tpx:RunCadence></tpx:TPX></tcd:Extensions>
              </tcd:Trackpoint>
              <tcd:Trackpoint><tcd:HeartRateBpm><tcd:Value>150</tcd:Value></tcd:HeartRateBpm></tcd:Trackpoint>
              <tcd:Trackpoint><tcd:Time>2021-01-01T09:00:02Z</tcd:Time><tcd:Cadence>abc</tcd:Cadence></tcd:Trackpoint>
            </tcd:Track></tcd:Lap></tcd:Activity></tcd:Activities>
        </tcd:TrainingCenterDatabase>"#;
        let a = decode_text(doc).unwrap();
        assert_eq!(a.sport().sport, Sport::Run);
        assert_eq!(a.start_time().unwrap().as_second(), 1_609_491_600);
        assert_eq!(a.records.len(), 2);
        assert_eq!(a.records[0].power_w, Some(300));
        assert_eq!(a.records[0].cadence_rpm, Some(85));
        assert_eq!(a.records[1].cadence_rpm, None);
        assert_eq!(a.records[0].distance_m, None);
        assert!(a.timer_events.is_empty());
        assert_eq!(a.sessions[0].total_timer_time_s, None);
        assert_eq!(a.warnings.len(), 1);
        assert!(
            a.warnings[0].contains("1 trackpoints without a readable time"),
            "{}",
            a.warnings[0]
        );
        assert!(
            a.warnings[0].contains("line 8, column 15"),
            "{}",
            a.warnings[0]
        );
        // A plain namespace-less document and a bare Activity without laps decode too.
        let bare = "<TrainingCenterDatabase><Activities><Activity Sport=\"Other\"><Id>2021-01-01T00:00:00Z</Id></Activity></Activities></TrainingCenterDatabase>";
        let a = decode_text(bare).unwrap();
        assert_eq!(a.sport().sport, Sport::Other);
        assert!(a.records.is_empty() && a.laps.is_empty());
        assert_eq!(a.start_time().unwrap().as_second(), 1_609_459_200);
    }

    #[test]
    fn gzip_and_errors_with_positions() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(GARMIN.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            crate::activity_file::decode_bytes(&gz).unwrap(),
            decode_text(GARMIN).unwrap()
        );

        let broken = GARMIN.replace("</AltitudeMeters>", "</Altitude>");
        let err = decode_text(&broken).unwrap_err();
        assert_eq!(err.position(), Some((20, 28)), "{err}");
        assert!(
            err.to_string()
                .starts_with("malformed XML at line 20, column 28"),
            "{err}"
        );

        let cut = &GARMIN[..GARMIN.find("<Track>").unwrap() + 20];
        let err = decode_text(cut).unwrap_err();
        assert!(
            matches!(
                err,
                XmlError::Truncated {
                    line: 17,
                    column: 13
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("truncated"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ride.tcx.gz");
        std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
        let err = crate::activity_file::decode_file(&path).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");

        let err = decode_text("<gpx></gpx>").unwrap_err();
        assert!(matches!(err, XmlError::WrongRoot { .. }), "{err}");
    }
}
