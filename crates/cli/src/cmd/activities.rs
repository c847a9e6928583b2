//! `cycling-ai activities`: the imported activities as a table, one in full (`show`), and the
//! user's override of duplicate detection (`merge`, `unmerge`).

use anyhow::{Context, Result};
use comfy_table::{Cell, CellAlignment, Table, presets};
use serde::Serialize;
use store::{ActivityRow, ActivitySearch, LapRow, Store};

use super::analyze::parse_date;
use super::ride::{RideJson, fmt_opt, hms, load_label, print_human, stored_ladder};
use super::{Global, athlete, print_json};
use crate::args::{ActivitiesArgs, ActivitiesCommand, ActivityListArgs};

/// Names longer than this are cut in the table (the full name is in `show` and `--json`).
const NAME_WIDTH: usize = 40;

#[derive(Serialize)]
struct ListedJson {
    id: i64,
    date: String,
    start_time: String,
    name: Option<String>,
    sport: &'static str,
    environment: ride::Environment,
    elapsed_s: f64,
    timer_s: f64,
    distance_m: Option<f64>,
    np_w: Option<f64>,
    load: Option<f64>,
    load_source: Option<metrics::LoadSource>,
    source_kind: &'static str,
    source_path: String,
    duplicate_of: Option<i64>,
    duplicate_source: Option<&'static str>,
    truncated: bool,
    summary_only: bool,
    /// The data-quality issue kinds found in the samples (empty when clean or not decoded);
    /// `show` has the details.
    quality: Vec<String>,
}

#[derive(Serialize)]
struct ShownJson {
    id: i64,
    name: Option<String>,
    description: Option<String>,
    source_kind: &'static str,
    source_path: String,
    duplicate_of: Option<i64>,
    duplicate_source: Option<&'static str>,
    summary_only: bool,
    #[serde(flatten)]
    ride: RideJson,
    /// `None` when the laps were never recorded (CSV summaries, imports before laps existed).
    laps: Option<Vec<LapJson>>,
}

#[derive(Serialize)]
struct LapJson {
    index: u32,
    start_time: Option<String>,
    elapsed_s: Option<f64>,
    timer_s: Option<f64>,
    distance_m: Option<f64>,
    avg_power_w: Option<f64>,
    max_power_w: Option<f64>,
    np_w: Option<f64>,
    avg_hr_bpm: Option<f64>,
    max_hr_bpm: Option<f64>,
    avg_cadence_rpm: Option<f64>,
}

impl From<&LapRow> for LapJson {
    fn from(l: &LapRow) -> Self {
        LapJson {
            index: l.index,
            start_time: l.start_time.map(|t| t.to_string()),
            elapsed_s: l.elapsed_s,
            timer_s: l.timer_s,
            distance_m: l.distance_m,
            avg_power_w: l.avg_power_w,
            max_power_w: l.max_power_w,
            np_w: l.np_w,
            avg_hr_bpm: l.avg_hr_bpm,
            max_hr_bpm: l.max_hr_bpm,
            avg_cadence_rpm: l.avg_cadence_rpm,
        }
    }
}

pub fn run(global: &Global, args: ActivitiesArgs) -> Result<()> {
    let mut store = Store::open(&global.data_dir)?;
    let athlete_id = athlete::resolve(global, &mut store, None)?.athlete.id;
    match args.command {
        None => list(global, &store, athlete_id, &args.list),
        Some(ActivitiesCommand::Show { id }) => show(global, &store, athlete_id, id),
        Some(ActivitiesCommand::Merge { keep, duplicate }) => {
            store.merge_activities(athlete_id, keep, duplicate)?;
            if global.json {
                return print_json(&serde_json::json!({ "kept": keep, "duplicate": duplicate }));
            }
            println!("activity {duplicate} is now a duplicate of {keep}: it counts nowhere");
            Ok(())
        }
        Some(ActivitiesCommand::Unmerge { id }) => {
            let split = store.unmerge_activity(athlete_id, id)?;
            if global.json {
                return print_json(&serde_json::json!({ "unmerged": split }));
            }
            for s in split {
                println!("activity {s} is a ride of its own again (never merged automatically)");
            }
            Ok(())
        }
    }
}

fn list(global: &Global, store: &Store, athlete_id: i64, a: &ActivityListArgs) -> Result<()> {
    let sport = a
        .sport
        .as_deref()
        .map(|s| {
            ride::Sport::parse(&s.to_ascii_lowercase())
                .with_context(|| format!("--sport {s:?}: not a sport cycling-ai knows"))
        })
        .transpose()?;
    let query = ActivitySearch {
        text: a.search.as_deref(),
        sport,
        from: a
            .from
            .as_deref()
            .map(|t| parse_date("--from", t))
            .transpose()?,
        to: a.to.as_deref().map(|t| parse_date("--to", t)).transpose()?,
        limit: a.limit,
        include_duplicates: true,
    };
    let mut kinds = store.quality_kinds(athlete_id)?;
    let mut listed = Vec::new();
    for row in store.search_activities(athlete_id, &query)? {
        let summary = store.activity(athlete_id, row.id)?.map(|(_, s)| s);
        let quality = kinds.remove(&row.id).unwrap_or_default();
        listed.push(listed_json(row, summary.as_ref(), quality));
    }
    if global.json {
        return print_json(&listed);
    }
    if listed.is_empty() {
        println!("no activities match");
        return Ok(());
    }
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header([
        "id", "date", "name", "sport", "duration", "km", "NP", "load", "flags",
    ]);
    for l in &listed {
        table.add_row(vec![
            Cell::new(l.id).set_alignment(CellAlignment::Right),
            Cell::new(&l.date),
            Cell::new(table_text(l.name.as_deref().unwrap_or("–"))),
            Cell::new(l.sport),
            Cell::new(hms(l.timer_s)).set_alignment(CellAlignment::Right),
            Cell::new(fmt_opt(l.distance_m.map(|m| m / 1000.0), 1, ""))
                .set_alignment(CellAlignment::Right),
            Cell::new(fmt_opt(l.np_w, 0, "")).set_alignment(CellAlignment::Right),
            Cell::new(match (l.load, l.load_source) {
                (Some(v), Some(src)) => format!("{v:.0} ({})", load_label(src)),
                (v, _) => fmt_opt(v, 0, ""),
            }),
            Cell::new(flags(l)),
        ]);
    }
    println!("{table}");
    Ok(())
}

fn listed_json(
    row: ActivityRow,
    s: Option<&metrics::ActivitySummary>,
    quality: Vec<String>,
) -> ListedJson {
    ListedJson {
        id: row.id,
        date: row.local_date.to_string(),
        start_time: row.start_time.to_string(),
        name: row.name,
        sport: row.sport.sport.as_str(),
        environment: row.sport.environment,
        elapsed_s: row.elapsed_s,
        timer_s: row.timer_s,
        distance_m: row.distance_m,
        np_w: s.and_then(|s| s.np_w),
        load: s.and_then(|s| s.load),
        load_source: s.and_then(|s| s.load_source),
        source_kind: row.source_kind.as_str(),
        source_path: row.source_path,
        duplicate_of: row.duplicate_of,
        duplicate_source: row.duplicate_source.map(|d| d.as_str()),
        truncated: row.truncated,
        summary_only: row.summary_only,
        quality,
    }
}

fn flags(l: &ListedJson) -> String {
    let mut out = Vec::new();
    if let Some(of) = l.duplicate_of {
        out.push(format!("duplicate of #{of}"));
    }
    if l.truncated {
        out.push("truncated".to_string());
    }
    if l.summary_only {
        out.push("summary only".to_string());
    }
    if !l.quality.is_empty() {
        let kinds: Vec<String> = l.quality.iter().map(|k| k.replace('_', " ")).collect();
        out.push(format!("data: {}", kinds.join(", ")));
    }
    out.join(", ")
}

/// User text made safe for one table cell: control characters (newlines, tabs, escape
/// sequences) become spaces, and long names are cut with an ellipsis.
fn table_text(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > NAME_WIDTH {
        let cut: String = clean.chars().take(NAME_WIDTH - 1).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

fn show(global: &Global, store: &Store, athlete_id: i64, id: i64) -> Result<()> {
    let (row, summary) = store
        .activity(athlete_id, id)?
        .with_context(|| format!("no activity {id}: `cycling-ai activities` lists the ids"))?;
    let laps = store.activity_laps(athlete_id, id)?;
    let mut ride = RideJson::from_summary(&summary);
    ride.mmp_w = summary
        .power_curve
        .as_ref()
        .map(stored_ladder)
        .unwrap_or_default();
    ride.truncated = row.truncated;
    ride.warnings = row.warnings.clone();
    ride.quality = store.activity_quality(athlete_id, id)?.map(Into::into);
    let shown = ShownJson {
        id: row.id,
        name: row.name.clone(),
        description: row.description.clone(),
        source_kind: row.source_kind.as_str(),
        source_path: row.source_path.clone(),
        duplicate_of: row.duplicate_of,
        duplicate_source: row.duplicate_source.map(|d| d.as_str()),
        summary_only: row.summary_only,
        ride,
        laps: laps.as_ref().map(|l| l.iter().map(LapJson::from).collect()),
    };
    if global.json {
        return print_json(&shown);
    }
    let title = format!(
        "#{} {} ({})",
        row.id,
        table_text(row.name.as_deref().unwrap_or("unnamed")),
        row.source_path
    );
    print_human(&title, &shown.ride);
    if let Some(of) = row.duplicate_of {
        println!("duplicate of #{of}: left out of every analysis (`activities unmerge {id}`)");
    }
    if row.summary_only {
        println!("summary only: imported from a CSV row, no samples");
    }
    if let Some(laps) = laps.filter(|l| !l.is_empty()) {
        let mut table = Table::new();
        table.load_style(presets::NOTHING);
        table.set_header(["lap", "time", "km", "avg W", "NP", "avg HR", "cad"]);
        for l in &laps {
            table.add_row(vec![
                (l.index + 1).to_string(),
                l.timer_s.map_or_else(|| "–".to_string(), hms),
                fmt_opt(l.distance_m.map(|m| m / 1000.0), 2, ""),
                fmt_opt(l.avg_power_w, 0, ""),
                fmt_opt(l.np_w, 0, ""),
                fmt_opt(l.avg_hr_bpm, 0, ""),
                fmt_opt(l.avg_cadence_rpm, 0, ""),
            ]);
        }
        println!("{table}");
    }
    Ok(())
}
