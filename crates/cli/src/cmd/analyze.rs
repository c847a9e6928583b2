//! `cycling-ai analyze …`: figures over the imported history, as tables or JSON.
//!
//! Every window ends on an explicit date — `--to`, else the date of the last imported activity —
//! never on "now": re-running an analysis of old data gives the same answer.

use anyhow::{Context, Result, bail};
use comfy_table::{Cell, CellAlignment, Table, presets};
use jiff::ToSpan;
use jiff::civil::Date;
use metrics::ActivitySummary;
use serde::Serialize;
use store::Store;

use super::{Global, athlete, print_json};
use crate::args::{Analysis, AnalyzeArgs};
use crate::cmd::ride::{MMP_DURATIONS_S, label_duration};
use crate::term;

/// Default window lengths, in weeks.
const DEFAULT_PERFORMANCE_WEEKS: u32 = 6;
const DEFAULT_WINDOW_WEEKS: u32 = 12;

pub fn run(global: &Global, args: AnalyzeArgs) -> Result<()> {
    let mut store = Store::open(&global.data_dir)?;
    let ctx = athlete::resolve(global, &mut store, args.profile.as_deref())?;
    let athlete_id = ctx.athlete.id;
    let Some(latest) = store.latest_activity_date(athlete_id)? else {
        bail!(
            "no activities in {}: run `cycling-ai import` first (or `cycling-ai demo`)",
            global.data_dir.display()
        );
    };
    let to = match &args.to {
        Some(text) => parse_date("--to", text)?,
        None => latest,
    };
    let default_weeks = match args.what {
        Analysis::Performance => DEFAULT_PERFORMANCE_WEEKS,
        _ => DEFAULT_WINDOW_WEEKS,
    };
    let weeks = args.weeks.unwrap_or(default_weeks);
    anyhow::ensure!(
        (1..=520).contains(&weeks),
        "--weeks {weeks}: expected 1 to 520"
    );
    let from = match &args.from {
        Some(text) => parse_date("--from", text)?,
        None => to
            .checked_sub((i64::from(weeks) * 7 - 1).days())
            .context("--weeks too large")?,
    };
    anyhow::ensure!(from <= to, "--from {from} is after --to {to}");

    match args.what {
        Analysis::Performance => {
            // The comparison needs both periods: load everything up to `to`.
            let all = summaries(&store, athlete_id, None, Some(to))?;
            let weeks = match (&args.from, args.weeks) {
                // An explicit --from sets the period length (whole weeks, at least one).
                (Some(_), None) => (((to - from).get_days() + 1) as u32).div_ceil(7).max(1),
                _ => weeks,
            };
            let rides = metrics::period::compare_periods(&all, to, weeks, Some(ride::Sport::Ride));
            let everything = metrics::period::compare_periods(&all, to, weeks, None);
            let out = PerformanceJson {
                as_of: to,
                weeks,
                rides,
                all_sports: everything,
            };
            if global.json {
                return print_json(&out);
            }
            print_performance(&out);
        }
        Analysis::Zones => {
            let all = summaries(&store, athlete_id, Some(from), Some(to))?;
            let ftp_w = ctx.profile.ftp_on(to);
            let lthr = ctx.profile.lthr_bpm.map(f64::from);
            let section = coach::bundle::zone_section(&all, from, to, ftp_w, lthr);
            let out = ZonesJson {
                totals: section.zones,
                ftp_w,
                lthr_bpm: lthr,
                power_zones: section.power_zones,
                hr_zones: section.hr_zones,
            };
            if global.json {
                return print_json(&out);
            }
            print_zones(&out);
        }
        Analysis::Fitness => {
            // CTL needs months of history to settle: computed from the first activity, shown
            // over the range.
            let all = summaries(&store, athlete_id, None, Some(to))?;
            let section = coach::bundle::fitness_section(&all, from, to);
            let projection = if args.projection {
                let Some(current) = agent::follow::current_plan(&store, athlete_id, to)? else {
                    bail!(
                        "--projection: no training plan stored; make one with `cycling-ai generate`"
                    );
                };
                let (_, p) = agent::follow::projection(&store, athlete_id, &current.plan, to)?;
                Some(ProjectionJson {
                    plan_id: current.stored.id,
                    planned_tss: p.days.iter().map(|d| d.load).sum(),
                    projection: p,
                })
            } else {
                None
            };
            let out = FitnessJson {
                convention: "CTL/ATL: exponentially weighted daily load, time constants 42 d / 7 d, \
                             alpha = 1 - exp(-1/tau); TSB of a day = previous day's CTL - ATL; \
                             load = TSS from power, else hrTSS, else duration x sport rate",
                from,
                to,
                current: section.days.last().copied(),
                days: section.days,
                projection,
            };
            if global.json {
                return print_json(&out);
            }
            print_fitness(&out);
        }
        Analysis::PowerCurve => {
            let all = summaries(&store, athlete_id, Some(from), Some(to))?;
            let profile_ftp = ctx.profile.ftp_on(to);
            let section = coach::bundle::power_section(&all, from, to, profile_ftp);
            let best_w = section
                .power_curve
                .as_ref()
                .map_or_else(Default::default, |best| {
                    MMP_DURATIONS_S
                        .iter()
                        .filter_map(|d| best.at(*d).map(|w| (d.to_string(), round1(w))))
                        .collect()
                });
            let out = PowerCurveJson {
                from,
                to,
                rides_with_power: section.rides_with_power,
                best_w,
                cp2: section.cp2,
                cp3: section.cp3,
                eftp: section.eftp,
                profile_ftp_w: profile_ftp,
                stale_ftp: section.stale_ftp,
            };
            if global.json {
                return print_json(&out);
            }
            print_power_curve(&out);
        }
        Analysis::CrossTraining => {
            let all = summaries(&store, athlete_id, Some(from), Some(to))?;
            let weeks = (((to - from).get_days() + 1) as u32).div_ceil(7).max(1);
            let out = metrics::cross_training::cross_training(&all, to, weeks);
            if global.json {
                return print_json(&out);
            }
            print_cross_training(&out);
        }
    }
    Ok(())
}

fn summaries(
    store: &Store,
    athlete_id: i64,
    from: Option<Date>,
    to: Option<Date>,
) -> Result<Vec<ActivitySummary>> {
    Ok(store
        .summaries(athlete_id, from, to)?
        .into_iter()
        .map(|(_, s)| s)
        .collect())
}

pub fn parse_date(flag: &str, text: &str) -> Result<Date> {
    text.parse::<Date>()
        .with_context(|| format!("{flag} {text:?}: expected a date like 2025-06-30"))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    t
}

fn num(v: f64, digits: usize) -> Cell {
    // `+ 0.0` turns a negative zero into a positive one, so empty rows never print "-0".
    Cell::new(format!("{:.digits$}", v + 0.0)).set_alignment(CellAlignment::Right)
}

fn opt(v: Option<f64>, digits: usize, suffix: &str) -> Cell {
    let text = v.map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}{suffix}"));
    Cell::new(text).set_alignment(CellAlignment::Right)
}

fn pct(v: Option<f64>) -> Cell {
    let text = v.map_or_else(|| "–".to_string(), |v| format!("{v:+.0} %"));
    Cell::new(text).set_alignment(CellAlignment::Right)
}

#[derive(Serialize)]
struct PerformanceJson {
    as_of: Date,
    weeks: u32,
    rides: metrics::period::PeriodComparison,
    all_sports: metrics::period::PeriodComparison,
}

fn print_performance(p: &PerformanceJson) {
    let r = &p.rides;
    println!(
        "{}",
        term::heading(&format!(
            "Rides: {} – {} vs {} – {} ({} weeks each)",
            r.recent.start, r.recent.end, r.previous.start, r.previous.end, p.weeks
        ))
    );
    let mut t = table();
    t.set_header(vec!["", "previous", "recent", "change"]);
    let rows: Vec<(&str, Cell, Cell, Cell)> = vec![
        (
            "rides",
            num(f64::from(r.previous.count), 0),
            num(f64::from(r.recent.count), 0),
            pct(r.change.count_pct),
        ),
        (
            "hours",
            num(r.previous.hours, 1),
            num(r.recent.hours, 1),
            pct(r.change.hours_pct),
        ),
        (
            "distance (km)",
            num(r.previous.distance_km, 0),
            num(r.recent.distance_km, 0),
            pct(r.change.distance_pct),
        ),
        (
            "elevation (m)",
            num(r.previous.elevation_m, 0),
            num(r.recent.elevation_m, 0),
            Cell::new(""),
        ),
        (
            "load (TSS)",
            num(r.previous.load, 0),
            num(r.recent.load, 0),
            pct(r.change.load_pct),
        ),
        (
            "hours / week",
            num(r.previous.hours_per_week, 1),
            num(r.recent.hours_per_week, 1),
            Cell::new(""),
        ),
        (
            "km / week",
            num(r.previous.distance_km_per_week, 0),
            num(r.recent.distance_km_per_week, 0),
            Cell::new(""),
        ),
        (
            "load / week",
            num(r.previous.load_per_week, 0),
            num(r.recent.load_per_week, 0),
            Cell::new(""),
        ),
        (
            "avg NP (W)",
            opt(r.previous.avg_np_w, 0, ""),
            opt(r.recent.avg_np_w, 0, ""),
            pct(r.change.avg_np_pct),
        ),
        (
            "avg HR (bpm)",
            opt(r.previous.avg_hr_bpm, 0, ""),
            opt(r.recent.avg_hr_bpm, 0, ""),
            Cell::new(""),
        ),
    ];
    for (k, a, b, c) in rows {
        t.add_row(vec![Cell::new(k), a, b, c]);
    }
    println!("{t}");
    let a = &p.all_sports;
    println!(
        "All sports: {} activities, {:.1} h, load {:.0} (previous: {}, {:.1} h, load {:.0})",
        a.recent.count,
        a.recent.hours,
        a.recent.load,
        a.previous.count,
        a.previous.hours,
        a.previous.load
    );
}

#[derive(Serialize)]
struct ZonesJson {
    totals: metrics::zones::ZoneTotals,
    ftp_w: Option<f64>,
    lthr_bpm: Option<f64>,
    power_zones: Option<Vec<metrics::zones::Zone>>,
    hr_zones: Option<Vec<metrics::zones::Zone>>,
}

fn hours(seconds: f64) -> Cell {
    num(seconds / 3600.0, 1)
}

fn print_zones(z: &ZonesJson) {
    let t = &z.totals;
    println!(
        "{}",
        term::heading(&format!("Time in zones, {} – {}", t.from, t.to))
    );
    const POWER_NAMES: [&str; 7] = [
        "Z1 active recovery",
        "Z2 endurance",
        "Z3 tempo",
        "Z4 threshold",
        "Z5 VO2max",
        "Z6 anaerobic",
        "Z7 neuromuscular",
    ];
    print_zone_table(
        ["power zone", "watts"],
        &POWER_NAMES,
        z.power_zones.as_deref(),
        "W",
        &t.power_zones_s,
        t.power_zones_pct.as_ref().map(|p| &p[..]),
    );
    println!(
        "{} activities with power zones",
        t.activities_with_power_zones
    );
    if let Some([e, m, h]) = t.easy_moderate_hard_pct {
        println!("intensity distribution: easy {e:.0} % / moderate {m:.0} % / hard {h:.0} %");
    }
    if z.ftp_w.is_none() {
        println!(
            "(no FTP in the profile: zone limits unknown; rides were zoned with their files' FTP)"
        );
    }
    const HR_NAMES: [&str; 5] = [
        "Z1 recovery",
        "Z2 aerobic",
        "Z3 tempo",
        "Z4 threshold",
        "Z5 VO2max",
    ];
    print_zone_table(
        ["HR zone", "bpm"],
        &HR_NAMES,
        z.hr_zones.as_deref(),
        "bpm",
        &t.hr_zones_s,
        t.hr_zones_pct.as_ref().map(|p| &p[..]),
    );
    println!(
        "{} activities with heart-rate zones",
        t.activities_with_hr_zones
    );
    if z.lthr_bpm.is_none() {
        println!("(no lthr_bpm in the profile: heart-rate zones need a threshold heart rate)");
    }
}

/// One zone table: name, limits (when the threshold is known), hours and share per zone.
fn print_zone_table(
    header: [&str; 2],
    names: &[&str],
    zones: Option<&[metrics::zones::Zone]>,
    unit: &str,
    seconds: &[f64],
    pct: Option<&[f64]>,
) {
    let mut table = table();
    table.set_header(vec![header[0], header[1], "hours", "share"]);
    for (i, name) in names.iter().enumerate() {
        let range = zones.map_or_else(String::new, |zs| zone_range(&zs[i], unit));
        table.add_row(vec![
            Cell::new(*name),
            Cell::new(range),
            hours(seconds[i]),
            opt(pct.map(|p| p[i]), 1, " %"),
        ]);
    }
    println!("{table}");
}

fn zone_range(z: &metrics::zones::Zone, unit: &str) -> String {
    match z.hi {
        Some(hi) => format!("{:.0}–{:.0} {unit}", z.lo, hi),
        None => format!("≥ {:.0} {unit}", z.lo),
    }
}

#[derive(Serialize)]
struct FitnessJson {
    convention: &'static str,
    from: Date,
    to: Date,
    current: Option<metrics::pmc::PmcDay>,
    days: Vec<metrics::pmc::PmcDay>,
    /// With `--projection`: the plan's planned daily TSS carried forward from `to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    projection: Option<ProjectionJson>,
}

#[derive(Serialize)]
struct ProjectionJson {
    plan_id: i64,
    /// The projected days' planned load, summed (the plan's own TSS).
    planned_tss: f64,
    #[serde(flatten)]
    projection: coach::projection::Projection,
}

fn print_fitness(f: &FitnessJson) {
    println!(
        "{}",
        term::heading(&format!("Fitness, fatigue and form, {} – {}", f.from, f.to))
    );
    let mut t = table();
    t.set_header(vec![
        "week ending",
        "load (7 d)",
        "fitness CTL",
        "fatigue ATL",
        "form TSB",
        "ramp /wk",
    ]);
    // One row per week (the last day of each 7-day block counted back from `to`), oldest first.
    let n = f.days.len();
    let mut rows = Vec::new();
    let mut end = n;
    while end > 0 {
        let start = end.saturating_sub(7);
        let block = &f.days[start..end];
        let last = block[block.len() - 1];
        let load: f64 = block.iter().map(|d| d.load).sum();
        rows.push((last, load));
        end = start;
    }
    for (d, load) in rows.into_iter().rev() {
        t.add_row(vec![
            Cell::new(d.date.to_string()),
            num(load, 0),
            num(d.ctl, 1),
            num(d.atl, 1),
            num(d.tsb, 1),
            Cell::new(format!("{:+.1}", d.ramp_rate)).set_alignment(CellAlignment::Right),
        ]);
    }
    println!("{t}");
    if let Some(c) = f.current {
        println!(
            "On {}: fitness {:.1}, fatigue {:.1}, form {:+.1} ({})",
            c.date,
            c.ctl,
            c.atl,
            c.tsb,
            metrics::pmc::form_band(c.tsb)
        );
    }
    if let Some(p) = &f.projection {
        print_projection(p);
    }
    println!("Convention: {}", f.convention);
}

fn print_projection(p: &ProjectionJson) {
    let proj = &p.projection;
    println!(
        "{}",
        term::heading(&format!(
            "Projected through plan {} from {} (CTL {:.1}, ATL {:.1}) to {}",
            p.plan_id,
            proj.from,
            proj.seed.ctl,
            proj.seed.atl,
            proj.days.last().map_or(proj.from, |d| d.date)
        ))
    );
    let mut t = table();
    t.set_header(vec![
        "week ending",
        "planned TSS",
        "fitness CTL",
        "fatigue ATL",
        "form TSB",
    ]);
    for block in proj.days.chunks(7) {
        let last = block[block.len() - 1];
        t.add_row(vec![
            Cell::new(last.date.to_string()),
            num(block.iter().map(|d| d.load).sum(), 0),
            num(last.ctl, 1),
            num(last.atl, 1),
            num(last.tsb, 1),
        ]);
    }
    println!("{t}");
    println!(
        "Planned load {:.0} TSS to the plan's end on {} (the workouts' own planned TSS).",
        p.planned_tss, proj.plan_end
    );
    match &proj.event {
        Some(a) => println!("Event: the plan {}.", a.sentence()),
        None => {
            if let Some(last) = proj.days.last() {
                println!(
                    "At the plan's end: CTL {:.0}, TSB {:+.0}.",
                    last.ctl, last.tsb
                );
            }
        }
    }
}

#[derive(Serialize)]
struct PowerCurveJson {
    from: Date,
    to: Date,
    rides_with_power: usize,
    best_w: std::collections::BTreeMap<String, f64>,
    cp2: Option<metrics::cp::Cp2Fit>,
    cp3: Option<metrics::cp::Cp3Fit>,
    eftp: Option<metrics::cp::FtpEstimate>,
    profile_ftp_w: Option<f64>,
    stale_ftp: Option<metrics::cp::StaleFtp>,
}

fn print_power_curve(p: &PowerCurveJson) {
    println!(
        "{}",
        term::heading(&format!(
            "Power-duration curve, {} – {} ({} rides with power)",
            p.from, p.to, p.rides_with_power
        ))
    );
    let mut t = table();
    t.set_header(vec!["duration", "best (W)", "2-p model (W)"]);
    let mut pairs: Vec<(u32, f64)> = p
        .best_w
        .iter()
        .map(|(k, v)| (k.parse().unwrap_or(0), *v))
        .collect();
    pairs.sort_by_key(|x| x.0);
    for (d, w) in pairs {
        // P(t) = W′/t + CP, shown over the range it was fitted on.
        let model = p
            .cp2
            .filter(|_| (120..=1200).contains(&d))
            .map(|f| f.w_prime_j / f64::from(d) + f.cp_w);
        t.add_row(vec![
            Cell::new(label_duration(d)),
            num(w, 0),
            opt(model, 0, ""),
        ]);
    }
    println!("{t}");
    if let Some(f) = p.cp2 {
        println!(
            "CP (2-parameter, 2–20 min bests): {:.0} W, W′ {:.1} kJ (R² {:.3})",
            f.cp_w,
            f.w_prime_j / 1000.0,
            f.r2
        );
    }
    if let Some(f) = p.cp3 {
        println!(
            "CP (Morton 3-parameter): {:.0} W, W′ {:.1} kJ, Pmax {:.0} W",
            f.cp_w,
            f.w_prime_j / 1000.0,
            f.pmax_w
        );
    }
    if let Some(e) = p.eftp {
        let how = match e.method {
            metrics::cp::EftpMethod::Cp2 => "CP of the 2-parameter fit",
            metrics::cp::EftpMethod::TwentyMin95 => "0.95 × best 20 min",
        };
        println!("eFTP: {:.0} W ({how})", e.ftp_w);
    }
    match (p.profile_ftp_w, p.stale_ftp) {
        (_, Some(s)) => eprintln!(
            "{} profile FTP {:.0} W looks stale: recent bests imply {:.0} W (+{:.0} W, +{:.1} %); update ftp_w in your profile",
            term::warning_label(),
            s.profile_ftp_w,
            s.implied_ftp_w,
            s.diff_w,
            s.diff_pct
        ),
        (Some(f), None) => println!("Profile FTP {f:.0} W is consistent with these bests."),
        (None, None) => println!("No FTP in the profile to check."),
    }
}

fn print_cross_training(c: &metrics::cross_training::CrossTraining) {
    println!(
        "{}",
        term::heading(&format!(
            "Cross-training, {} – {} ({} weeks)",
            c.start, c.end, c.weeks
        ))
    );
    let mut t = table();
    t.set_header(vec![
        "category",
        "sessions",
        "hours",
        "h / week",
        "load",
        "load / week",
        "load share",
    ]);
    for s in c.categories.iter().filter(|s| s.count > 0) {
        t.add_row(vec![
            Cell::new(s.category.label()),
            num(f64::from(s.count), 0),
            num(s.hours, 1),
            num(s.hours_per_week, 1),
            num(s.load, 0),
            num(s.load_per_week, 0),
            opt(s.load_share_pct, 0, " %"),
        ]);
    }
    println!("{t}");
    println!(
        "{} activities, total load {:.0}",
        c.total_count, c.total_load
    );
}
