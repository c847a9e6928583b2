//! `list_activities` and `get_activity`.

use metrics::ActivitySummary;
use serde_json::{Map, Value, json};
use store::{ActivityRow, ActivitySearch, LapRow};

use super::{
    BEST_EFFORT_S, CoachTools, GetActivityArgs, ListActivitiesArgs, display_name, duration_label,
    failed, invalid, load_source_str, measured, num, opt_num, sport_of, store_err,
};
use crate::toolbox::ToolError;

pub(super) const LIST_DESCRIPTION: &str = "List or search the athlete's activities, newest \
first: one compact line each with id, date, name (user text), sport, duration_h, distance_km, \
avg_w, np_w (measured power only), tss (power TSS), load_tss (training load: TSS, else hrTSS, \
else a duration estimate), load_source and `quality` (only when the file had bad samples: the kinds, e.g. power_spike, power_above_ceiling, hr_locked_to_cadence, power_dropout; the metrics were computed without the impossible samples). Filter by date range (default: the last 8 weeks), \
sport and text in the name or description. Returns at most `limit` (≤ 20) with `total` matches \
and `truncated`. Use get_activity for one activity's detail.";

pub(super) const GET_DESCRIPTION: &str = "One activity in detail by id (from list_activities): \
date, name, sport, durations (h), distance_km, elevation_m, power (avg_w, np_w, max_w, \
intensity_factor, variability_index, tss, work_kj), heart rate (avg/max bpm), cadence, \
aerobic decoupling (Pw:HR, %; < 5 % = good aerobic endurance), best efforts (W over 5 s … 2 h), \
time in power zones and HR zones (minutes and %), and the laps as a table (`columns` names \
each value of a row: lap number, start minute from the activity start, timer and elapsed \
seconds, km, avg/NP/max W, avg/max HR, cadence; NP only for laps of 30 s or more; at most 30 \
rows, `count` gives the total). Activities imported before laps were stored say so in \
`laps.note`. `data_quality` (only when something was found) lists the sample-level problems \
of the file, one line each: what, how many samples, when in the ride, and whether the samples \
were left out of the metrics or only flagged.";

/// Most activities one call returns.
pub const MAX_LIST: u32 = 20;
const DEFAULT_LIST: u32 = 15;
const DEFAULT_LIST_WEEKS: u32 = 8;

/// Longest name in a list line (the detail shows up to 80 characters).
pub const LIST_NAME_CHARS: usize = 60;

fn clip_name(name: &str) -> String {
    if name.chars().count() > LIST_NAME_CHARS {
        let cut: String = name.chars().take(LIST_NAME_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        name.to_owned()
    }
}

fn activity_line(
    row: &ActivityRow,
    s: Option<&ActivitySummary>,
    quality: Option<&Vec<String>>,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(row.id));
    m.insert("date".into(), json!(row.local_date.to_string()));
    m.insert("name".into(), json!(clip_name(&display_name(row))));
    m.insert("sport".into(), json!(row.sport.sport.as_str()));
    let duration_s = s.map_or(row.moving_s, ActivitySummary::duration_s);
    m.insert("duration_h".into(), num(duration_s / 3600.0, 2));
    if let Some(d) = row.distance_m.filter(|d| *d > 0.0) {
        m.insert("distance_km".into(), num(d / 1000.0, 1));
    }
    if let Some(s) = s {
        // Absent rather than null: a ride without power just has fewer keys.
        for (key, v, dp) in [
            ("avg_w", measured(s, s.avg_power_w), 0),
            ("np_w", measured(s, s.np_w), 0),
            ("tss", measured(s, s.tss), 0),
            ("load_tss", s.load, 0),
        ] {
            if let Some(v) = v {
                m.insert(key.into(), num(v, dp));
            }
        }
        if s.load_source.is_some() {
            m.insert("load_source".into(), load_source_str(s));
        }
    }
    if let Some(kinds) = quality {
        m.insert("quality".into(), json!(kinds));
    }
    Value::Object(m)
}

pub(super) fn list_activities(
    tools: &CoachTools,
    a: ListActivitiesArgs,
) -> Result<Value, ToolError> {
    const TOOL: &str = "list_activities";
    let limit = a.limit.unwrap_or(DEFAULT_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(invalid(
            TOOL,
            format!("limit: {limit} is outside the accepted range 1 to {MAX_LIST}"),
        ));
    }
    let text = a.text.as_deref().map(str::trim);
    if let Some(t) = text
        && (t.is_empty() || t.chars().count() > 100)
    {
        return Err(invalid(TOOL, "text: expected 1–100 characters"));
    }
    let (from, to) = tools.range_arg(
        TOOL,
        a.from.as_deref(),
        a.to.as_deref(),
        None,
        DEFAULT_LIST_WEEKS,
        super::MAX_RANGE_DAYS as u32 / 7,
    )?;
    let store = tools.open(TOOL)?;
    let rows = store
        .search_activities(
            tools.athlete_id,
            &ActivitySearch {
                text,
                sport: a.sport.map(sport_of),
                from: Some(from),
                to: Some(to),
                limit: None,
                include_duplicates: false,
            },
        )
        .map_err(store_err(TOOL))?;
    let total = rows.len();
    let quality = store
        .quality_kinds(tools.athlete_id)
        .map_err(store_err(TOOL))?;
    let mut lines = Vec::with_capacity(total.min(limit as usize));
    for row in rows.iter().take(limit as usize) {
        let summary = store
            .activity(tools.athlete_id, row.id)
            .map_err(store_err(TOOL))?
            .map(|(_, s)| s);
        lines.push(activity_line(row, summary.as_ref(), quality.get(&row.id)));
    }
    let mut out = json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "total": total,
        "returned": lines.len(),
        "truncated": total > lines.len(),
        "activities": lines,
    });
    if total == 0 {
        let latest = store
            .latest_activity_date(tools.athlete_id)
            .map_err(store_err(TOOL))?;
        out["note"] = json!(match latest {
            Some(d) => format!("no activity matches; the latest activity is on {d}"),
            None => "the athlete has no activities imported".to_owned(),
        });
    }
    Ok(out)
}

/// `[f64; N]` seconds per zone → `{"Z1": {"min": 12, "pct": 10.5}, …}`.
fn zone_time(seconds: &[f64]) -> Value {
    let total: f64 = seconds.iter().sum();
    let mut m = Map::new();
    for (i, s) in seconds.iter().enumerate() {
        m.insert(
            format!("Z{}", i + 1),
            json!({
                "min": num(s / 60.0, 0),
                "pct": if total > 0.0 { num(s / total * 100.0, 1) } else { Value::Null },
            }),
        );
    }
    Value::Object(m)
}

/// Most lap rows one `get_activity` result holds (an auto-lap every km makes hundreds).
const MAX_LAPS: usize = 30;

/// What `laps.note` says when the activity predates lap storage.
const LAPS_NOT_RECORDED: &str =
    "laps not recorded (imported before this version; re-import the file to add them)";

/// The column names of a lap row, units in the names.
const LAP_COLUMNS: [&str; 11] = [
    "lap",
    "start_min",
    "timer_s",
    "elapsed_s",
    "distance_km",
    "avg_w",
    "np_w",
    "max_w",
    "avg_hr_bpm",
    "max_hr_bpm",
    "avg_cadence_rpm",
];

/// The `laps` object: a table (column names once, one array per lap) because a list of objects
/// repeats eleven key names per lap and would triple the size of a 30-lap interval session.
fn laps_value(row: &ActivityRow, laps: Option<&[LapRow]>) -> Value {
    let Some(laps) = laps else {
        let note = if row.summary_only {
            "no laps: a summary-only activity (imported from activities.csv without its file)"
        } else {
            LAPS_NOT_RECORDED
        };
        return json!({ "note": note });
    };
    let start = row.start_time.as_second();
    let rows: Vec<Value> = laps
        .iter()
        .take(MAX_LAPS)
        .map(|l| {
            json!([
                l.index + 1,
                opt_num(
                    l.start_time.map(|t| (t.as_second() - start) as f64 / 60.0),
                    1
                ),
                opt_num(l.timer_s, 0),
                opt_num(l.elapsed_s, 0),
                opt_num(l.distance_m.map(|d| d / 1000.0), 2),
                opt_num(l.avg_power_w, 0),
                opt_num(l.np_w, 0),
                opt_num(l.max_power_w, 0),
                opt_num(l.avg_hr_bpm, 0),
                opt_num(l.max_hr_bpm, 0),
                opt_num(l.avg_cadence_rpm, 0),
            ])
        })
        .collect();
    let mut m = Map::new();
    m.insert("count".into(), json!(laps.len()));
    if laps.is_empty() {
        m.insert("note".into(), json!("the device recorded no laps"));
        return Value::Object(m);
    }
    if laps.len() > MAX_LAPS {
        m.insert(
            "note".into(),
            json!(format!("the first {MAX_LAPS} of {} laps", laps.len())),
        );
    }
    m.insert("columns".into(), json!(LAP_COLUMNS));
    m.insert("rows".into(), Value::Array(rows));
    Value::Object(m)
}

pub(super) fn get_activity(tools: &CoachTools, a: GetActivityArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "get_activity";
    if a.activity_id <= 0 {
        return Err(invalid(
            TOOL,
            format!(
                "activity_id: {} is not an activity id; ids are positive integers from \
                 list_activities",
                a.activity_id
            ),
        ));
    }
    let store = tools.open(TOOL)?;
    let Some((row, s)) = store
        .activity(tools.athlete_id, a.activity_id)
        .map_err(store_err(TOOL))?
    else {
        return Err(failed(
            TOOL,
            format!(
                "no activity with id {} for this athlete; use list_activities to find ids",
                a.activity_id
            ),
        ));
    };
    let measured_power = !s.power_estimated;
    let best: Map<String, Value> = s
        .power_curve
        .as_ref()
        .filter(|_| measured_power)
        .map(|c| {
            BEST_EFFORT_S
                .iter()
                .filter(|d| **d <= c.max_duration_s())
                .filter_map(|d| c.at_least(*d).map(|w| (duration_label(*d), num(w, 0))))
                .collect()
        })
        .unwrap_or_default();
    let laps = store
        .activity_laps(tools.athlete_id, row.id)
        .map_err(store_err(TOOL))?;
    let quality = store
        .activity_quality(tools.athlete_id, row.id)
        .map_err(store_err(TOOL))?
        .filter(|q| !q.issues.is_empty());
    let ftp_for_zones = s.ftp_w;
    let mut out = json!({
        "id": row.id,
        "date": row.local_date.to_string(),
        "start_time_utc": row.start_time.to_string(),
        "name": display_name(&row),
        "sport": row.sport.sport.as_str(),
        "environment": match row.sport.environment {
            ride::Environment::Outdoor => "outdoor",
            ride::Environment::Indoor => "indoor",
            ride::Environment::Virtual => "virtual",
        },
        "e_bike": row.sport.e_bike,
        "summary_only": row.summary_only,
        "moving_h": num(s.moving_s / 3600.0, 2),
        "elapsed_h": num(s.elapsed_s / 3600.0, 2),
        "distance_km": opt_num(s.distance_m.map(|d| d / 1000.0), 1),
        "elevation_m": opt_num(s.elevation_gain_m, 0),
        "power_estimated": s.power_estimated,
        "avg_w": opt_num(s.avg_power_w, 0),
        "np_w": opt_num(measured(&s, s.np_w), 0),
        "max_w": opt_num(measured(&s, s.max_power_w), 0),
        "ftp_used_w": opt_num(ftp_for_zones, 0),
        "intensity_factor": opt_num(measured(&s, s.intensity_factor), 2),
        "variability_index": opt_num(measured(&s, s.variability_index), 2),
        "efficiency_factor": opt_num(s.efficiency_factor, 2),
        "tss": opt_num(measured(&s, s.tss), 0),
        "load_tss": opt_num(s.load, 0),
        "load_source": load_source_str(&s),
        "work_kj": opt_num(s.work_kj, 0),
        "avg_hr_bpm": opt_num(s.avg_hr_bpm, 0),
        "max_hr_bpm": opt_num(s.max_hr_bpm, 0),
        "avg_cadence_rpm": opt_num(s.avg_cadence_rpm, 0),
        "decoupling_pct": opt_num(s.decoupling_pct, 1),
        "trimp": opt_num(s.trimp, 0),
        "best_efforts_w": best,
        "power_zones_time": s.power_zones_s.filter(|_| measured_power).map(|z| zone_time(&z)),
        "hr_zones_time": s.hr_zones_s.map(|z| zone_time(&z)),
        "laps": laps_value(&row, laps.as_deref()),
    });
    if let Some(q) = quality {
        let lines: Vec<String> = q.issues.iter().map(ToString::to_string).collect();
        out["data_quality"] = json!(lines);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use ride::{Sport, SportKind};
    use store::SourceKind;

    fn row(summary_only: bool) -> ActivityRow {
        ActivityRow {
            id: 1,
            athlete_id: 1,
            source_kind: if summary_only {
                SourceKind::StravaCsvSummary
            } else {
                SourceKind::Fit
            },
            external_id: None,
            source_path: "a.fit".into(),
            content_hash: "h".into(),
            name: None,
            description: None,
            sport: SportKind::new(Sport::Ride),
            start_time: Timestamp::from_second(1_000_000).unwrap(),
            local_date: jiff::civil::date(1970, 1, 12),
            elapsed_s: 0.0,
            timer_s: 0.0,
            moving_s: 0.0,
            distance_m: None,
            elevation_gain_m: None,
            summary_only,
            truncated: false,
            warnings: vec![],
            imported_at: String::new(),
            duplicate_of: None,
            duplicate_source: None,
        }
    }

    fn lap(i: u32) -> LapRow {
        LapRow {
            index: i,
            start_time: Timestamp::from_second(1_000_000 + 60 * i64::from(i)).ok(),
            elapsed_s: Some(60.0),
            timer_s: Some(59.6),
            distance_m: Some(1234.5),
            avg_power_w: Some(201.4),
            max_power_w: Some(350.0),
            np_w: Some(210.6),
            avg_hr_bpm: Some(150.5),
            max_hr_bpm: Some(160.0),
            avg_cadence_rpm: None,
        }
    }

    #[test]
    fn laps_are_bounded_rounded_and_say_why_when_absent() {
        let many: Vec<LapRow> = (0..45).map(lap).collect();
        let v = laps_value(&row(false), Some(&many));
        assert_eq!(v["count"], 45);
        assert_eq!(v["note"], "the first 30 of 45 laps");
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), MAX_LAPS);
        assert_eq!(
            rows[2],
            json!([3, 2.0, 60, 60, 1.23, 201, 211, 350, 151, 160, null])
        );
        assert_eq!(
            v["columns"].as_array().unwrap().len(),
            rows[0].as_array().unwrap().len()
        );

        let none = laps_value(&row(false), Some(&[]));
        assert_eq!(
            none,
            json!({"count": 0, "note": "the device recorded no laps"})
        );
        assert_eq!(
            laps_value(&row(false), None),
            json!({"note": LAPS_NOT_RECORDED})
        );
        assert!(
            laps_value(&row(true), None)["note"]
                .as_str()
                .unwrap()
                .contains("summary-only")
        );
    }
}
