//! `cycling-ai ride FILE`: the per-ride metrics of one FIT, TCX or GPX file (each also `.gz`),
//! without touching the store.
//!
//! The JSON keys are a contract other programs rely on (issue 2): keep them stable.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use metrics::{ActivitySummary, Thresholds};
use serde::Serialize;

use super::{Global, print_json};
use crate::args::RideArgs;
use crate::term;

/// Durations (s) reported in `mmp_w`: the standard best-effort ladder.
pub const MMP_DURATIONS_S: [u32; 11] = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/// The figures of one ride: `ride`'s JSON contract, and what `activities show` prints for a
/// stored activity.
#[derive(Serialize)]
pub struct RideJson {
    sport: Option<String>,
    sub_sport: Option<String>,
    category: ride::Sport,
    environment: ride::Environment,
    start_time: Option<String>,
    elapsed_s: f64,
    timer_s: f64,
    moving_s: f64,
    distance_m: Option<f64>,
    elevation_gain_m: Option<f64>,
    /// `None` for a stored activity: the store keeps summaries, not records.
    records: Option<usize>,
    avg_power_w: Option<f64>,
    max_power_w: Option<f64>,
    np_w: Option<f64>,
    #[serde(rename = "if")]
    intensity_factor: Option<f64>,
    tss: Option<f64>,
    ftp_w: Option<f64>,
    vi: Option<f64>,
    ef: Option<f64>,
    avg_hr_bpm: Option<f64>,
    max_hr_bpm: Option<f64>,
    work_kj: Option<f64>,
    power_zones_s: Option<[f64; 7]>,
    hr_zones_s: Option<[f64; 5]>,
    pub mmp_w: BTreeMap<String, f64>,
    decoupling_pct: Option<f64>,
    /// Training load: TSS from power, else hrTSS (needs --lthr), else duration × sport rate.
    load: Option<f64>,
    load_source: Option<metrics::LoadSource>,
    trimp: Option<f64>,
    pub truncated: bool,
    pub warnings: Vec<String>,
    /// Always present for a decoded file; for a stored activity, absent when it has no quality
    /// record (a CSV summary, or decoded before the checks existed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<QualityJson>,
}

/// The `quality` key: what the sample-level pass found and did (README "What the numbers mean").
#[derive(Serialize)]
pub struct QualityJson {
    /// Some samples were dropped, repaired or shifted before the metrics were computed.
    repaired: bool,
    /// Something was reported without changing the data (dropouts, GPS jumps, device totals).
    flagged: bool,
    elevation_method: Option<metrics::quality::ElevationMethod>,
    issues: Vec<metrics::quality::Issue>,
}

impl From<metrics::Quality> for QualityJson {
    fn from(q: metrics::Quality) -> Self {
        QualityJson {
            repaired: q.repaired(),
            flagged: q.flagged(),
            elevation_method: q.elevation_method,
            issues: q.issues,
        }
    }
}

pub fn run(global: &Global, args: RideArgs) -> Result<()> {
    let activity = ride::activity_file::decode_file(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    if let Some(ftp) = args.ftp {
        anyhow::ensure!(
            (1.0..=2000.0).contains(&ftp),
            "--ftp {ftp}: expected watts between 1 and 2000"
        );
    }
    if let Some(lthr) = args.lthr {
        anyhow::ensure!(
            (60.0..=230.0).contains(&lthr),
            "--lthr {lthr}: expected beats per minute between 60 and 230"
        );
    }
    // The FTP used: --ftp, else what the device had configured, else none (and no TSS).
    let ftp_w = args.ftp.or(activity.threshold_power_w.map(f64::from));
    let thresholds = Thresholds {
        ftp_w,
        lthr_bpm: args.lthr,
        ..Thresholds::default()
    };
    let (summary, quality) =
        metrics::summarize_with_quality(&activity, &thresholds, &jiff::tz::TimeZone::UTC);
    let session = activity.sessions.first();
    let out = RideJson {
        sport: session.and_then(|s| s.fit_sport.clone()),
        sub_sport: session.and_then(|s| s.fit_sub_sport.clone()),
        start_time: activity.start_time().map(|t| t.to_string()),
        records: Some(activity.records.len()),
        mmp_w: mmp_ladder(&activity, &summary),
        truncated: activity.truncated,
        warnings: activity.warnings.clone(),
        quality: Some(quality.into()),
        ..RideJson::from_summary(&summary)
    };
    if global.json {
        return print_json(&out);
    }
    print_human(&args.file.display().to_string(), &out);
    Ok(())
}

impl RideJson {
    /// Every figure the summary holds; the sport names, record count, best efforts, truncation
    /// and warnings are the caller's (a file and a stored activity know them differently).
    pub fn from_summary(summary: &ActivitySummary) -> RideJson {
        RideJson {
            sport: Some(summary.sport.sport.as_str().to_string()),
            sub_sport: None,
            category: summary.sport.sport,
            environment: summary.sport.environment,
            start_time: Some(summary.start_time.to_string()),
            elapsed_s: summary.elapsed_s,
            timer_s: summary.timer_s,
            moving_s: summary.moving_s,
            distance_m: summary.distance_m,
            elevation_gain_m: summary.elevation_gain_m,
            records: None,
            avg_power_w: summary.avg_power_w,
            max_power_w: summary.max_power_w,
            np_w: summary.np_w,
            intensity_factor: summary.intensity_factor,
            tss: summary.tss,
            ftp_w: summary.ftp_w,
            vi: summary.variability_index,
            ef: summary.efficiency_factor,
            avg_hr_bpm: summary.avg_hr_bpm,
            max_hr_bpm: summary.max_hr_bpm,
            work_kj: summary.work_kj,
            power_zones_s: summary.power_zones_s,
            hr_zones_s: summary.hr_zones_s,
            mmp_w: BTreeMap::new(),
            decoupling_pct: summary.decoupling_pct,
            load: summary.load,
            load_source: summary.load_source,
            trimp: summary.trimp,
            truncated: false,
            warnings: Vec::new(),
            quality: None,
        }
    }
}

/// Best efforts at the standard ladder read from a stored power curve (its non-increasing
/// envelope, at the ladder durations it holds).
pub fn stored_ladder(curve: &metrics::PowerCurve) -> BTreeMap<String, f64> {
    curve
        .durations_s
        .iter()
        .zip(&curve.watts)
        .filter(|(d, _)| MMP_DURATIONS_S.contains(d))
        .map(|(d, w)| (d.to_string(), round1(f64::from(*w))))
        .collect()
}

/// Best efforts at the standard ladder: the plain mean-maximal power at exactly each duration
/// (the device-comparable figure; the stored curve is its non-increasing envelope). Durations
/// longer than the ride are absent.
fn mmp_ladder(activity: &ride::Activity, summary: &ActivitySummary) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    if summary.power_curve.is_none() {
        return out;
    }
    let power = metrics::series::Series::from_activity(activity).mmp_power();
    let bests = metrics::curve::mean_max(&power, &MMP_DURATIONS_S);
    for (d, best) in MMP_DURATIONS_S.iter().zip(bests) {
        if let Some(w) = best {
            out.insert(d.to_string(), round1(w));
        }
    }
    out
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn fmt_opt(v: Option<f64>, digits: usize, unit: &str) -> String {
    match v {
        Some(v) => format!("{v:.digits$}{unit}"),
        None => "–".to_string(),
    }
}

pub fn hms(seconds: f64) -> String {
    let s = seconds.round() as i64;
    format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

/// The table `ride` prints, under `title`.
pub fn print_human(title: &str, r: &RideJson) {
    println!("{}", term::heading(title));
    let sport = match (&r.sport, &r.sub_sport) {
        (Some(s), Some(sub)) => format!("{s} / {sub}"),
        (Some(s), None) => s.clone(),
        _ => "unknown".to_string(),
    };
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    let rows: Vec<(&str, String)> = vec![
        ("sport", sport),
        ("start", r.start_time.clone().unwrap_or_else(|| "–".into())),
        (
            "elapsed / timer / moving",
            format!(
                "{} / {} / {}",
                hms(r.elapsed_s),
                hms(r.timer_s),
                hms(r.moving_s)
            ),
        ),
        (
            "distance",
            fmt_opt(r.distance_m.map(|m| m / 1000.0), 2, " km"),
        ),
        ("elevation gain", fmt_opt(r.elevation_gain_m, 0, " m")),
        (
            "records",
            r.records.map_or_else(|| "–".to_string(), |n| n.to_string()),
        ),
        (
            "avg / max power",
            format!(
                "{} / {}",
                fmt_opt(r.avg_power_w, 0, " W"),
                fmt_opt(r.max_power_w, 0, " W")
            ),
        ),
        (
            "NP / IF / TSS",
            format!(
                "{} / {} / {}",
                fmt_opt(r.np_w, 1, " W"),
                fmt_opt(r.intensity_factor, 3, ""),
                fmt_opt(r.tss, 1, "")
            ),
        ),
        ("FTP used", fmt_opt(r.ftp_w, 0, " W")),
        (
            "VI / EF",
            format!("{} / {}", fmt_opt(r.vi, 2, ""), fmt_opt(r.ef, 2, "")),
        ),
        (
            "avg / max HR",
            format!(
                "{} / {}",
                fmt_opt(r.avg_hr_bpm, 0, " bpm"),
                fmt_opt(r.max_hr_bpm, 0, " bpm")
            ),
        ),
        ("work", fmt_opt(r.work_kj, 0, " kJ")),
        ("decoupling", fmt_opt(r.decoupling_pct, 1, " %")),
        (
            "load",
            match (r.load, r.load_source) {
                (Some(l), Some(src)) => format!("{l:.1} ({})", load_label(src)),
                (Some(l), None) => format!("{l:.1}"),
                _ => "–".to_string(),
            },
        ),
        ("TRIMP", fmt_opt(r.trimp, 0, "")),
    ];
    for (k, v) in rows {
        table.add_row(vec![k.to_string(), v]);
    }
    println!("{table}");
    if let Some(z) = r.power_zones_s {
        let cells: Vec<String> = z
            .iter()
            .enumerate()
            .map(|(i, s)| format!("Z{} {}", i + 1, hms(*s)))
            .collect();
        println!("power zones: {}", cells.join("  "));
    }
    if let Some(z) = r.hr_zones_s {
        let cells: Vec<String> = z
            .iter()
            .enumerate()
            .map(|(i, s)| format!("Z{} {}", i + 1, hms(*s)))
            .collect();
        println!("HR zones:    {}", cells.join("  "));
    }
    if !r.mmp_w.is_empty() {
        let mut pairs: Vec<(u32, f64)> = r
            .mmp_w
            .iter()
            .map(|(k, v)| (k.parse().unwrap_or(0), *v))
            .collect();
        pairs.sort_by_key(|p| p.0);
        let cells: Vec<String> = pairs
            .iter()
            .map(|(d, w)| format!("{}: {w:.0} W", label_duration(*d)))
            .collect();
        println!("best power:  {}", cells.join("  "));
    }
    if let Some(q) = r.quality.as_ref().filter(|q| !q.issues.is_empty()) {
        println!("data quality:");
        for issue in &q.issues {
            println!("  {issue}");
        }
    }
    if r.truncated {
        eprintln!(
            "{} file is truncated: metrics cover what was recorded before the break",
            term::warning_label()
        );
    }
    for w in &r.warnings {
        eprintln!("{} {w}", term::warning_label());
    }
}

pub fn load_label(src: metrics::LoadSource) -> &'static str {
    match src {
        metrics::LoadSource::Power => "TSS from power",
        metrics::LoadSource::HeartRate => "hrTSS",
        metrics::LoadSource::Duration => "estimated from duration",
        metrics::LoadSource::Strava => "Strava training load",
    }
}

/// "5 s", "1 min", "1 h" labels for durations.
pub fn label_duration(d: u32) -> String {
    if d < 60 {
        format!("{d} s")
    } else if d < 3600 || !d.is_multiple_of(3600) {
        format!("{} min", d / 60)
    } else {
        format!("{} h", d / 3600)
    }
}
