//! An [`Activity`]'s records written as TCX or GPX: what a head unit's companion app exports,
//! for tools that read only these formats and for round-trip tests of the decoders against the
//! FIT series they came from.
//!
//! A timer stop (a `Stop`/`StopAll` event between two records) starts a new `Track` / `trkseg`,
//! as Garmin writes pauses; FIT laps become TCX laps (records before the first lap join it).
//! GPX points without a position are written without `lat`/`lon` (not schema-valid, but it keeps
//! indoor rides' power and heart rate; our decoder reads them).

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::model::{Activity, Lap, Record, Sport, TimerEventKind};

/// The activity as a TCX document (ActivityExtension v2 under the `ns3` prefix, as Garmin
/// Connect writes it).
pub fn write_tcx(activity: &Activity) -> String {
    let sport = match activity.sport().sport {
        Sport::Ride => "Biking",
        Sport::Run => "Running",
        _ => "Other",
    };
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<TrainingCenterDatabase \
         xmlns=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\" \
         xmlns:ns3=\"http://www.garmin.com/xmlschemas/ActivityExtension/v2\">\n<Activities>\n",
    );
    let start = activity
        .start_time()
        .map_or_else(String::new, |t| t.to_string());
    let _ = writeln!(out, "<Activity Sport=\"{sport}\">\n<Id>{start}</Id>");
    for (lap, records) in lap_parts(activity) {
        let lap_start = lap
            .start_time
            .or_else(|| {
                records
                    .first()
                    .and_then(|r| Timestamp::from_second(r.t).ok())
            })
            .map_or_else(String::new, |t| t.to_string());
        let span = match (records.first(), records.last()) {
            (Some(a), Some(b)) => (b.t - a.t + 1) as f64,
            _ => 0.0,
        };
        let timer = lap.total_timer_time_s.unwrap_or(span);
        let _ = writeln!(
            out,
            "<Lap StartTime=\"{lap_start}\">\n<TotalTimeSeconds>{timer:.3}</TotalTimeSeconds>"
        );
        let distance = lap.total_distance_m.or_else(|| distance_span(records));
        if let Some(d) = distance {
            let _ = writeln!(out, "<DistanceMeters>{d:.2}</DistanceMeters>");
        }
        out.push_str("<Calories>0</Calories>\n<Intensity>Active</Intensity>\n");
        out.push_str("<TriggerMethod>Manual</TriggerMethod>\n");
        for track in split_at_pauses(activity, records) {
            out.push_str("<Track>\n");
            for r in track {
                tcx_point(&mut out, r);
            }
            out.push_str("</Track>\n");
        }
        out.push_str("</Lap>\n");
    }
    out.push_str("</Activity>\n</Activities>\n</TrainingCenterDatabase>\n");
    out
}

/// The activity as a GPX 1.1 document (Garmin's TrackPointExtension v1 for heart rate, cadence,
/// temperature and speed; a `power` element for power, as Strava writes it).
pub fn write_gpx(activity: &Activity) -> String {
    let kind = activity.sport().sport.as_str();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"cycling-ai\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\" \
         xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\">\n",
    );
    if let Some(t) = activity.start_time() {
        let _ = writeln!(out, "<metadata><time>{t}</time></metadata>");
    }
    let _ = writeln!(out, "<trk>\n<type>{kind}</type>");
    for segment in split_at_pauses(activity, &activity.records) {
        out.push_str("<trkseg>\n");
        for r in segment {
            gpx_point(&mut out, r);
        }
        out.push_str("</trkseg>\n");
    }
    out.push_str("</trk>\n</gpx>\n");
    out
}

fn tcx_point(out: &mut String, r: &Record) {
    let _ = write!(out, "<Trackpoint><Time>{}</Time>", time(r.t));
    if let (Some(lat), Some(lon)) = (r.lat_deg, r.lon_deg) {
        let _ = write!(
            out,
            "<Position><LatitudeDegrees>{lat:.7}</LatitudeDegrees>\
             <LongitudeDegrees>{lon:.7}</LongitudeDegrees></Position>"
        );
    }
    if let Some(a) = r.altitude_m {
        let _ = write!(out, "<AltitudeMeters>{a:.1}</AltitudeMeters>");
    }
    if let Some(d) = r.distance_m {
        let _ = write!(out, "<DistanceMeters>{d:.2}</DistanceMeters>");
    }
    if let Some(hr) = r.heart_rate_bpm {
        let _ = write!(out, "<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>");
    }
    if let Some(c) = r.cadence_rpm {
        let _ = write!(out, "<Cadence>{c}</Cadence>");
    }
    if r.speed_mps.is_some() || r.power_w.is_some() {
        out.push_str("<Extensions><ns3:TPX>");
        if let Some(s) = r.speed_mps {
            let _ = write!(out, "<ns3:Speed>{s:.3}</ns3:Speed>");
        }
        if let Some(p) = r.power_w {
            let _ = write!(out, "<ns3:Watts>{p}</ns3:Watts>");
        }
        out.push_str("</ns3:TPX></Extensions>");
    }
    out.push_str("</Trackpoint>\n");
}

fn gpx_point(out: &mut String, r: &Record) {
    out.push_str("<trkpt");
    if let (Some(lat), Some(lon)) = (r.lat_deg, r.lon_deg) {
        let _ = write!(out, " lat=\"{lat:.7}\" lon=\"{lon:.7}\"");
    }
    out.push('>');
    if let Some(a) = r.altitude_m {
        let _ = write!(out, "<ele>{a:.1}</ele>");
    }
    let _ = write!(out, "<time>{}</time>", time(r.t));
    let tpx = r.heart_rate_bpm.is_some()
        || r.cadence_rpm.is_some()
        || r.temperature_c.is_some()
        || r.speed_mps.is_some();
    if tpx || r.power_w.is_some() {
        out.push_str("<extensions>");
        if let Some(p) = r.power_w {
            let _ = write!(out, "<power>{p}</power>");
        }
        if tpx {
            out.push_str("<gpxtpx:TrackPointExtension>");
            if let Some(t) = r.temperature_c {
                let _ = write!(out, "<gpxtpx:atemp>{t}</gpxtpx:atemp>");
            }
            if let Some(hr) = r.heart_rate_bpm {
                let _ = write!(out, "<gpxtpx:hr>{hr}</gpxtpx:hr>");
            }
            if let Some(c) = r.cadence_rpm {
                let _ = write!(out, "<gpxtpx:cad>{c}</gpxtpx:cad>");
            }
            if let Some(s) = r.speed_mps {
                let _ = write!(out, "<gpxtpx:speed>{s:.3}</gpxtpx:speed>");
            }
            out.push_str("</gpxtpx:TrackPointExtension>");
        }
        out.push_str("</extensions>");
    }
    out.push_str("</trkpt>\n");
}

fn time(t: i64) -> String {
    Timestamp::from_second(t).map_or_else(|_| t.to_string(), |ts| ts.to_string())
}

fn distance_span(records: &[Record]) -> Option<f64> {
    let first = records.iter().find_map(|r| r.distance_m)?;
    let last = records.iter().rev().find_map(|r| r.distance_m)?;
    Some(last - first)
}

/// Each lap with its records: lap `i` holds the records from its start up to the next lap's
/// start. An activity without laps is one lap with the session's timer time and distance.
fn lap_parts(activity: &Activity) -> Vec<(Lap, &[Record])> {
    let records = &activity.records;
    if activity.laps.is_empty() {
        let lap = Lap {
            total_timer_time_s: activity
                .sessions
                .iter()
                .filter_map(|s| s.total_timer_time_s)
                .reduce(|a, b| a + b),
            total_distance_m: activity
                .sessions
                .iter()
                .filter_map(|s| s.total_distance_m)
                .reduce(|a, b| a + b),
            ..Lap::default()
        };
        return vec![(lap, records.as_slice())];
    }
    let mut parts = Vec::with_capacity(activity.laps.len());
    let mut from = 0;
    for (i, lap) in activity.laps.iter().enumerate() {
        let to = match activity.laps.get(i + 1).and_then(|n| n.start_time) {
            Some(next) => from + records[from..].partition_point(|r| r.t < next.as_second()),
            None if i + 1 == activity.laps.len() => records.len(),
            None => from,
        };
        parts.push((lap.clone(), &records[from..to]));
        from = to;
    }
    parts
}

/// `records` split where a timer stop falls between two of them.
fn split_at_pauses<'a>(activity: &Activity, records: &'a [Record]) -> Vec<&'a [Record]> {
    let stops: Vec<i64> = activity
        .timer_events
        .iter()
        .filter(|e| matches!(e.kind, TimerEventKind::Stop | TimerEventKind::StopAll))
        .map(|e| e.t)
        .collect();
    let mut out = Vec::new();
    let mut from = 0;
    for i in 1..records.len() {
        let (prev, next) = (records[i - 1].t, records[i].t);
        if stops.iter().any(|&s| prev <= s && s < next) {
            out.push(&records[from..i]);
            from = i;
        }
    }
    if from < records.len() {
        out.push(&records[from..]);
    }
    out
}
