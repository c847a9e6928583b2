//! Analysis over a period: comparison, zones, fitness, power curve, cross-training, threshold
//! estimates and weekly volume. Every figure comes from `metrics` (through [`coach::bundle`]'s
//! sections where they exist) over the store's per-ride summaries.

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use metrics::ActivitySummary;
use ride::Sport;
use serde_json::{Map, Value, json};
use store::ActivityRow;

use super::{
    BEST_EFFORT_S, CoachTools, ComparePeriodsArgs, PeriodArgs, WeeklyVolumeArgs, WeeksArgs,
    display_name, duration_label, failed, invalid, measured, num, opt_num, sport_of, store_err,
    weeks_arg, weeks_back,
};
use crate::toolbox::ToolError;
use coach::bundle::{fitness_section, is_cycling_power, power_section, zone_section};

pub(super) const COMPARE_DESCRIPTION: &str = "Compare two periods: 'the last N weeks vs the N \
weeks before' (weeks, optional end date) or two explicit date ranges. For each period: \
activities, hours, distance_km, elevation_m, tss (power TSS), load_tss (all training load), \
hours_per_week, load_tss_per_week, avg_np_w, avg_hr_bpm and best efforts (W, 5 s … 1 h); then \
delta (recent − previous) and change_pct. Rides only by default; pass sport or all_sports.";

pub(super) const ZONES_DESCRIPTION: &str = "Time in power zones (Coggan Z1–Z7) and heart-rate \
zones (Coggan Z1–Z5) over a period (default: last 4 weeks, at most 52): hours and % per zone, \
zone limits for the current FTP/LTHR, the easy (Z1–Z2) / moderate (Z3) / hard (Z4+) split of \
power time and a label: polarised, pyramidal or threshold-heavy.";

pub(super) const FITNESS_DESCRIPTION: &str = "Fitness (CTL, 42-day), fatigue (ATL, 7-day) and \
form (TSB = yesterday's CTL − ATL) over a range (default: last 12 weeks, at most 104), in TSS \
units: current values with the form band, CTL ramp per week, peak CTL, and points sampled daily \
(ranges ≤ 4 weeks), else weekly or every few weeks (≤ 40 points).";

pub(super) const CURVE_DESCRIPTION: &str = "Power-duration curve over a period (default: last \
12 weeks, at most 104): best power (W and W/kg) at standard durations 1 s … 2 h with the \
activity and date that set it, critical power fits (2-parameter CP and W′ in kJ; 3-parameter \
CP, W′, Pmax), eFTP, and a check of the profile FTP against them (stale when the data imply a \
clearly higher FTP). Cycling rides with measured power only.";

pub(super) const CROSS_DESCRIPTION: &str = "Cross-training: activities, hours and training load \
(load_tss) per category (cycling, running, strength, rowing, swimming, other) over the last N \
weeks (1–52, default 12) ending at `to`, with each category's share of the load.";

pub(super) const THRESHOLDS_DESCRIPTION: &str = "Estimate FTP and maximum heart rate from the \
data over the last N weeks (1–104, default 52): best 20 min × 0.95, eFTP from the critical-power \
fit, FTP test rides (name contains 'test' or 'FTP'), and the highest heart rate recorded — each \
with the activity id, date and name it came from — next to the profile's values.";

pub(super) const WEEKLY_DESCRIPTION: &str = "Weekly volume for the last N weeks (Monday–Sunday, \
1–26, default 8; the week containing `to` is the last): hours, distance_km, load_tss, \
activities and rides per week, oldest first, plus the averages.";

/// Best-effort durations of the power-curve tool (s).
pub const CURVE_DURATIONS_S: [u32; 13] = [
    1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 5400, 7200,
];

/// The athlete's activities dated `from..=to` (`None`: open) with their summaries.
fn load(
    tools: &CoachTools,
    tool: &str,
    from: Option<Date>,
    to: Date,
) -> Result<(Vec<ActivityRow>, Vec<ActivitySummary>), ToolError> {
    let store = tools.open(tool)?;
    Ok(store
        .summaries(tools.athlete_id, from, Some(to))
        .map_err(store_err(tool))?
        .into_iter()
        .unzip())
}

// ---------------------------------------------------------------------------------------------
// compare_periods

/// Totals of the activities of `sel` (already filtered by sport) dated `from..=to`.
fn period_stats(
    summaries: &[&ActivitySummary],
    from: Date,
    to: Date,
) -> (Value, BTreeMap<String, f64>) {
    let sel: Vec<&ActivitySummary> = summaries
        .iter()
        .copied()
        .filter(|s| s.local_date >= from && s.local_date <= to)
        .collect();
    let days = (to - from).get_days() as f64 + 1.0;
    let weeks = days / 7.0;
    let sum = |f: &dyn Fn(&ActivitySummary) -> Option<f64>| -> f64 {
        sel.iter().filter_map(|s| f(s)).fold(0.0, |a, b| a + b)
    };
    let hours = sum(&|s| Some(s.duration_s() / 3600.0));
    let distance_km = sum(&|s| s.distance_m.map(|d| d / 1000.0));
    let elevation_m = sum(&|s| s.elevation_gain_m);
    let tss = sum(&|s| measured(s, s.tss));
    let load = sum(&|s| s.load);
    let nps: Vec<f64> = sel.iter().filter_map(|s| measured(s, s.np_w)).collect();
    let hrs: Vec<f64> = sel.iter().filter_map(|s| s.avg_hr_bpm).collect();
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let avg_np = mean(&nps);
    let curves: Vec<&metrics::PowerCurve> = sel
        .iter()
        .filter(|s| is_cycling_power(s))
        .filter_map(|s| s.power_curve.as_ref())
        .collect();
    let mut best = Map::new();
    let mut raw = BTreeMap::new();
    for d in BEST_EFFORT_S.iter().take(6) {
        let w = curves
            .iter()
            .filter_map(|c| c.at_least(*d))
            .fold(None, |m: Option<f64>, w| Some(m.map_or(w, |m| m.max(w))));
        if let Some(w) = w {
            best.insert(duration_label(*d), num(w, 0));
            raw.insert(format!("best_{}_w", duration_label(*d)), w);
        }
    }
    raw.insert("activities".into(), sel.len() as f64);
    raw.insert("hours".into(), hours);
    raw.insert("distance_km".into(), distance_km);
    raw.insert("tss".into(), tss);
    raw.insert("load_tss".into(), load);
    if let Some(np) = avg_np {
        raw.insert("avg_np_w".into(), np);
    }
    let v = json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "days": days as i64,
        "activities": sel.len(),
        "hours": num(hours, 1),
        "distance_km": num(distance_km, 0),
        "elevation_m": num(elevation_m, 0),
        "tss": num(tss, 0),
        "load_tss": num(load, 0),
        "hours_per_week": num(hours / weeks, 1),
        "load_tss_per_week": num(load / weeks, 0),
        "avg_np_w": opt_num(avg_np, 0),
        "avg_hr_bpm": opt_num(mean(&hrs), 0),
        "best_w": best,
    });
    (v, raw)
}

pub(super) fn compare_periods(
    tools: &CoachTools,
    a: ComparePeriodsArgs,
) -> Result<Value, ToolError> {
    const TOOL: &str = "compare_periods";
    let explicit = [
        &a.recent_from,
        &a.recent_to,
        &a.previous_from,
        &a.previous_to,
    ];
    let given = explicit.iter().filter(|x| x.is_some()).count();
    let (recent, previous) = if given == 0 {
        let weeks = weeks_arg(TOOL, a.weeks, 4, 52)?;
        let end = tools.date_or_today(TOOL, "end", a.end.as_deref())?;
        let recent_from = weeks_back(end, weeks);
        let prev_to = recent_from.checked_sub(1.day()).unwrap_or(recent_from);
        ((recent_from, end), (weeks_back(prev_to, weeks), prev_to))
    } else {
        if a.weeks.is_some() || a.end.is_some() {
            return Err(invalid(
                TOOL,
                "give either `weeks` (with optional `end`) or the four dates recent_from, \
                 recent_to, previous_from, previous_to — not both",
            ));
        }
        if given != 4 {
            return Err(invalid(
                TOOL,
                "explicit periods need all four dates: recent_from, recent_to, previous_from, \
                 previous_to (YYYY-MM-DD)",
            ));
        }
        let d = |field: &str, v: &Option<String>| {
            tools.date_arg(TOOL, field, v.as_deref().unwrap_or_default())
        };
        let r = (
            d("recent_from", &a.recent_from)?,
            d("recent_to", &a.recent_to)?,
        );
        let p = (
            d("previous_from", &a.previous_from)?,
            d("previous_to", &a.previous_to)?,
        );
        for (name, (f, t)) in [("recent", r), ("previous", p)] {
            if f > t {
                return Err(invalid(
                    TOOL,
                    format!("{name}_from: {f} is after {name}_to: {t}"),
                ));
            }
            if (t - f).get_days() >= 366 {
                return Err(invalid(
                    TOOL,
                    format!("{name}_from/{name}_to: a period may span at most 366 days"),
                ));
            }
        }
        (r, p)
    };
    if a.all_sports == Some(true) && a.sport.is_some() {
        return Err(invalid(
            TOOL,
            "give either `sport` or `all_sports: true`, not both",
        ));
    }
    let sport: Option<Sport> = if a.all_sports == Some(true) {
        None
    } else {
        Some(a.sport.map_or(Sport::Ride, sport_of))
    };
    let lo = recent.0.min(previous.0);
    let hi = recent.1.max(previous.1);
    let (_, summaries) = load(tools, TOOL, Some(lo), hi)?;
    let sel: Vec<&ActivitySummary> = summaries
        .iter()
        .filter(|s| sport.is_none_or(|sp| s.sport.sport == sp))
        .collect();
    let (rv, rr) = period_stats(&sel, recent.0, recent.1);
    let (pv, pr) = period_stats(&sel, previous.0, previous.1);
    let mut delta = Map::new();
    let mut change = Map::new();
    for (key, r) in &rr {
        let Some(p) = pr.get(key) else { continue };
        let dp = if key == "hours" { 1 } else { 0 };
        delta.insert(key.clone(), num(r - p, dp));
        if *p != 0.0 {
            change.insert(key.clone(), num((r - p) / p * 100.0, 0));
        }
    }
    Ok(json!({
        "sport": sport.map_or("all", Sport::as_str),
        "recent": rv,
        "previous": pv,
        "delta": delta,
        "change_pct": change,
    }))
}

// ---------------------------------------------------------------------------------------------
// time_in_zones

/// Label of an easy/moderate/hard split (percent of power time).
pub fn distribution_label(easy: f64, moderate: f64, hard: f64) -> &'static str {
    if easy >= 65.0 && hard > moderate {
        "polarised"
    } else if easy >= moderate && moderate >= hard {
        "pyramidal"
    } else {
        "threshold-heavy"
    }
}

fn zone_rows(
    seconds: &[f64],
    pct: Option<&[f64]>,
    limits: Option<&[metrics::zones::Zone]>,
    names: &[&str],
    unit: &str,
) -> Value {
    Value::Array(
        seconds
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut m = Map::new();
                m.insert("zone".into(), json!(format!("Z{}", i + 1)));
                m.insert("name".into(), json!(names[i]));
                if let Some(z) = limits.and_then(|l| l.get(i)) {
                    m.insert(format!("lo_{unit}"), num(z.lo, 0));
                    if let Some(hi) = z.hi {
                        m.insert(format!("hi_{unit}"), num(hi, 0));
                    }
                }
                m.insert("hours".into(), num(s / 3600.0, 2));
                m.insert("pct".into(), pct.map_or(Value::Null, |p| num(p[i], 1)));
                Value::Object(m)
            })
            .collect(),
    )
}

pub(super) fn time_in_zones(tools: &CoachTools, a: PeriodArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "time_in_zones";
    let (from, to) = tools.range_arg(TOOL, a.from.as_deref(), a.to.as_deref(), a.weeks, 4, 52)?;
    let (_, summaries) = load(tools, TOOL, Some(from), to)?;
    let profile = tools.profile();
    let ftp = profile.as_ref().and_then(|p| p.ftp_on(to));
    let lthr = profile.as_ref().and_then(|p| p.lthr_bpm).map(f64::from);
    let section = zone_section(&summaries, from, to, ftp, lthr);
    let z = &section.zones;
    let mut out = json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "ftp_w": opt_num(ftp, 0),
        "lthr_bpm": opt_num(lthr, 0),
        "activities_with_power": z.activities_with_power_zones,
        "power_hours": num(z.power_zones_s.iter().sum::<f64>() / 3600.0, 1),
        "power_zones": zone_rows(
            &z.power_zones_s,
            z.power_zones_pct.as_ref().map(|p| &p[..]),
            section.power_zones.as_deref(),
            &metrics::zones::COGGAN_POWER_NAMES,
            "w",
        ),
        "activities_with_hr": z.activities_with_hr_zones,
        "hr_hours": num(z.hr_zones_s.iter().sum::<f64>() / 3600.0, 1),
        "hr_zones": zone_rows(
            &z.hr_zones_s,
            z.hr_zones_pct.as_ref().map(|p| &p[..]),
            section.hr_zones.as_deref(),
            &metrics::zones::COGGAN_HR_NAMES,
            "bpm",
        ),
    });
    if let Some([e, m, h]) = z.easy_moderate_hard_pct {
        out["intensity_split_pct"] = json!({
            "easy_z1_z2": num(e, 1),
            "moderate_z3": num(m, 1),
            "hard_z4_plus": num(h, 1),
        });
        out["distribution"] = json!(distribution_label(e, m, h));
    }
    if ftp.is_none() {
        out["note"] = json!(
            "no FTP in the profile: zone limits unknown (rides were zoned with their own FTP)"
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// get_fitness_trend

/// Most points a fitness trend returns.
pub const MAX_TREND_POINTS: usize = 40;

pub(super) fn get_fitness_trend(tools: &CoachTools, a: PeriodArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "get_fitness_trend";
    let (from, to) = tools.range_arg(TOOL, a.from.as_deref(), a.to.as_deref(), a.weeks, 12, 104)?;
    // CTL needs the whole history to settle: load everything up to `to`.
    let (_, summaries) = load(tools, TOOL, None, to)?;
    if summaries.is_empty() {
        return Err(failed(
            TOOL,
            format!("no activities on or before {to}: nothing to compute fitness from"),
        ));
    }
    let section = fitness_section(&summaries, from, to);
    let days = &section.days;
    let Some(last) = days.last().copied() else {
        return Err(failed(
            TOOL,
            format!("the first activity is after {to}: no fitness values in the range"),
        ));
    };
    let n = days.len();
    let mut step = n.div_ceil(MAX_TREND_POINTS).max(1);
    if n > 28 {
        step = step.div_ceil(7).max(1) * 7;
    }
    // Points counted back from the last day, so the last point is always `to`.
    let mut idx: Vec<usize> = (0..n).rev().step_by(step).collect();
    idx.reverse();
    let points: Vec<Value> = idx
        .iter()
        .map(|&i| {
            let d = days[i];
            let lo = i.saturating_sub(step - 1);
            let load: f64 = days[lo..=i].iter().map(|x| x.load).sum();
            json!({
                "date": d.date.to_string(),
                "ctl": num(d.ctl, 1),
                "atl": num(d.atl, 1),
                "tsb": num(d.tsb, 1),
                "load_tss": num(load, 0),
            })
        })
        .collect();
    let peak = days
        .iter()
        .max_by(|a, b| a.ctl.total_cmp(&b.ctl))
        .copied()
        .unwrap_or(last);
    Ok(json!({
        "from": days[0].date.to_string(),
        "to": to.to_string(),
        "convention": "CTL/ATL: exponentially weighted daily load, 42 d / 7 d; TSB = yesterday's CTL − ATL; load = TSS, else hrTSS, else duration estimate",
        "current": {
            "date": last.date.to_string(),
            "ctl": num(last.ctl, 1),
            "atl": num(last.atl, 1),
            "tsb": num(last.tsb, 1),
            "form": metrics::pmc::form_band(last.tsb),
        },
        "ramp_ctl_per_week": num(last.ramp_rate, 1),
        "ctl_change_over_range": num(last.ctl - days[0].ctl, 1),
        "peak_ctl": {"date": peak.date.to_string(), "ctl": num(peak.ctl, 1)},
        "sampling_days": step,
        "points": points,
    }))
}

// ---------------------------------------------------------------------------------------------
// get_power_curve

pub(super) fn get_power_curve(tools: &CoachTools, a: PeriodArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "get_power_curve";
    let (from, to) = tools.range_arg(TOOL, a.from.as_deref(), a.to.as_deref(), a.weeks, 12, 104)?;
    let (rows, summaries) = load(tools, TOOL, Some(from), to)?;
    let profile = tools.profile();
    let profile_ftp = profile.as_ref().and_then(|p| p.ftp_on(to));
    let weight = profile
        .as_ref()
        .and_then(|p| p.weight_kg)
        .filter(|w| *w > 0.0);
    let section = power_section(&summaries, from, to, profile_ftp);
    let mut best = Vec::new();
    for d in CURVE_DURATIONS_S {
        // The ride that holds the best power for at least `d` seconds (latest on ties).
        let top = rows
            .iter()
            .zip(&summaries)
            .filter(|(_, s)| is_cycling_power(s))
            .filter_map(|(r, s)| {
                s.power_curve
                    .as_ref()
                    .filter(|c| c.max_duration_s() >= d)
                    .and_then(|c| c.at_least(d))
                    .map(|w| (r, w))
            })
            .max_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((r, w)) = top {
            let mut m = Map::new();
            m.insert("duration".into(), json!(duration_label(d)));
            m.insert("w".into(), num(w, 0));
            if let Some(kg) = weight {
                m.insert("w_per_kg".into(), num(w / kg, 2));
            }
            m.insert("activity_id".into(), json!(r.id));
            m.insert("date".into(), json!(r.local_date.to_string()));
            best.push(Value::Object(m));
        }
    }
    let eftp = section.eftp;
    let check = match (profile_ftp, eftp) {
        (None, _) => json!({"status": "no_profile_ftp"}),
        (Some(_), None) => json!({"status": "not_enough_data"}),
        (Some(f), Some(e)) => match section.stale_ftp {
            Some(s) => json!({
                "status": "stale",
                "message": format!(
                    "profile FTP {:.0} W looks stale: the bests imply {:.0} W (+{:.0} W, +{:.1} %)",
                    s.profile_ftp_w, s.implied_ftp_w, s.diff_w, s.diff_pct
                ),
            }),
            None if e.ftp_w < f * 0.9 => json!({
                "status": "bests_below_profile",
                "message": "the bests of this period imply a lower FTP; often only a lack of recent maximal efforts",
            }),
            None => json!({"status": "consistent"}),
        },
    };
    Ok(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "rides_with_power": section.rides_with_power,
        "best": best,
        "cp_2_parameter": section.cp2.map(|f| json!({
            "cp_w": num(f.cp_w, 0), "w_prime_kj": num(f.w_prime_j / 1000.0, 1), "r2": num(f.r2, 3),
        })),
        "cp_3_parameter": section.cp3.map(|f| json!({
            "cp_w": num(f.cp_w, 0), "w_prime_kj": num(f.w_prime_j / 1000.0, 1), "pmax_w": num(f.pmax_w, 0),
        })),
        "eftp": eftp.map(|e| json!({
            "ftp_w": num(e.ftp_w, 0),
            "method": match e.method {
                metrics::cp::EftpMethod::Cp2 => "cp_2_parameter",
                metrics::cp::EftpMethod::TwentyMin95 => "best_20min_x_0.95",
            },
        })),
        "profile_ftp_w": opt_num(profile_ftp, 0),
        "ftp_check": check,
    }))
}

// ---------------------------------------------------------------------------------------------
// get_cross_training

pub(super) fn get_cross_training(tools: &CoachTools, a: WeeksArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "get_cross_training";
    let weeks = weeks_arg(TOOL, a.weeks, 12, 52)?;
    let to = tools.date_or_today(TOOL, "to", a.to.as_deref())?;
    let from = weeks_back(to, weeks);
    let (_, summaries) = load(tools, TOOL, Some(from), to)?;
    let ct = metrics::cross_training::cross_training(&summaries, to, weeks);
    let cycling_load = ct
        .categories
        .iter()
        .find(|c| c.category == metrics::cross_training::Category::Cycling)
        .map_or(0.0, |c| c.load);
    let categories: Vec<Value> = ct
        .categories
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| {
            json!({
                "category": serde_json::to_value(c.category).unwrap_or(Value::Null),
                "activities": c.count,
                "hours": num(c.hours, 1),
                "hours_per_week": num(c.hours_per_week, 1),
                "load_tss": num(c.load, 0),
                "load_tss_per_week": num(c.load_per_week, 0),
                "load_share_pct": opt_num(c.load_share_pct, 1),
            })
        })
        .collect();
    Ok(json!({
        "from": ct.start.to_string(),
        "to": ct.end.to_string(),
        "weeks": ct.weeks,
        "activities": ct.total_count,
        "load_tss": num(ct.total_load, 0),
        "non_cycling_load_pct": if ct.total_load > 0.0 {
            num((ct.total_load - cycling_load) / ct.total_load * 100.0, 1)
        } else {
            Value::Null
        },
        "categories": categories,
    }))
}

// ---------------------------------------------------------------------------------------------
// estimate_thresholds

/// Most FTP test rides listed.
const MAX_TEST_RIDES: usize = 3;

fn is_test_ride(row: &ActivityRow) -> bool {
    let name = row.name.as_deref().unwrap_or("").to_ascii_lowercase();
    name.contains("test") || name.contains("ftp")
}

pub(super) fn estimate_thresholds(tools: &CoachTools, a: WeeksArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "estimate_thresholds";
    let weeks = weeks_arg(TOOL, a.weeks, 52, 104)?;
    let to = tools.date_or_today(TOOL, "to", a.to.as_deref())?;
    let from = weeks_back(to, weeks);
    let (rows, summaries) = load(tools, TOOL, Some(from), to)?;
    let profile = tools.profile();
    let source = |r: &ActivityRow| json!({"activity_id": r.id, "date": r.local_date.to_string(), "name": display_name(r)});
    let with_source = |mut v: Value, r: &ActivityRow| {
        if let (Value::Object(m), Value::Object(src)) = (&mut v, source(r)) {
            m.extend(src);
        }
        v
    };
    let mut estimates = Vec::new();
    // Best 20 min of the period and the ride it came from.
    let best20 = rows
        .iter()
        .zip(&summaries)
        .filter(|(_, s)| is_cycling_power(s))
        .filter_map(|(r, s)| {
            s.power_curve
                .as_ref()
                .filter(|c| c.max_duration_s() >= 1200)
                .and_then(|c| c.at_least(1200))
                .map(|w| (r, w))
        })
        .max_by(|x, y| x.1.total_cmp(&y.1));
    if let Some((r, w)) = best20 {
        estimates.push(with_source(
            json!({"method": "best_20min_x_0.95", "ftp_w": num(w * 0.95, 0), "best_20min_w": num(w, 0)}),
            r,
        ));
    }
    let section = power_section(&summaries, from, to, None);
    if let Some(fit) = section.cp2 {
        estimates.push(json!({
            "method": "cp_2_parameter",
            "ftp_w": num(fit.cp_w, 0),
            "w_prime_kj": num(fit.w_prime_j / 1000.0, 1),
            "r2": num(fit.r2, 3),
            "note": "CP from the best 2–20 min efforts of the whole period",
        }));
    }
    let mut tests: Vec<(&ActivityRow, f64)> = rows
        .iter()
        .zip(&summaries)
        .filter(|(r, s)| is_test_ride(r) && is_cycling_power(s))
        .filter_map(|(r, s)| {
            s.power_curve
                .as_ref()
                .filter(|c| c.max_duration_s() >= 1200)
                .and_then(|c| c.at_least(1200))
                .map(|w| (r, w))
        })
        .collect();
    let test_total = tests.len();
    tests.reverse(); // newest first
    for (r, w) in tests.iter().take(MAX_TEST_RIDES) {
        estimates.push(with_source(
            json!({"method": "test_ride_20min_x_0.95", "ftp_w": num(w * 0.95, 0), "best_20min_w": num(*w, 0)}),
            r,
        ));
    }
    let max_hr = rows
        .iter()
        .zip(&summaries)
        .filter_map(|(r, s)| s.max_hr_bpm.filter(|h| *h > 0.0).map(|h| (r, h)))
        .max_by(|x, y| x.1.total_cmp(&y.1));
    Ok(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "profile_ftp_w": opt_num(profile.as_ref().and_then(|p| p.ftp_on(to)), 0),
        "profile_max_hr_bpm": profile.as_ref().and_then(|p| p.max_hr_bpm),
        "ftp_estimates": estimates,
        "test_rides_found": test_total,
        "max_hr": max_hr.map(|(r, h)| with_source(json!({"highest_bpm": num(h, 0)}), r)),
        "note": "the highest recorded heart rate is a lower bound of the true maximum",
    }))
}

// ---------------------------------------------------------------------------------------------
// get_weekly_volume

pub(super) fn get_weekly_volume(
    tools: &CoachTools,
    a: WeeklyVolumeArgs,
) -> Result<Value, ToolError> {
    const TOOL: &str = "get_weekly_volume";
    let weeks = weeks_arg(TOOL, a.weeks, 8, 26)?;
    let to = tools.date_or_today(TOOL, "to", a.to.as_deref())?;
    let last_monday = metrics::weekly::week_start(to);
    let first_monday = last_monday
        .checked_sub((i64::from(weeks - 1) * 7).days())
        .unwrap_or(last_monday);
    let (_, summaries) = load(tools, TOOL, Some(first_monday), to)?;
    let rows = metrics::weekly::weekly(&summaries, Some(first_monday), to);
    let n = rows.len().max(1) as f64;
    let list: Vec<Value> = rows
        .iter()
        .map(|w| {
            let rides = w
                .by_sport
                .iter()
                .find(|s| s.sport == Sport::Ride)
                .map_or(0, |s| s.count);
            json!({
                "week_start": w.week_start.to_string(),
                "hours": num(w.hours, 1),
                "distance_km": num(w.distance_km, 0),
                "load_tss": num(w.load, 0),
                "activities": w.count,
                "rides": rides,
            })
        })
        .collect();
    Ok(json!({
        "from": first_monday.to_string(),
        "to": to.to_string(),
        "weeks": list,
        "avg_hours": num(rows.iter().map(|w| w.hours).sum::<f64>() / n, 1),
        "avg_load_tss": num(rows.iter().map(|w| w.load).sum::<f64>() / n, 0),
        "note": if to < tools.today { Value::Null } else { json!("the last week may still be in progress") },
    }))
}

#[cfg(test)]
mod tests {
    use super::distribution_label;

    #[test]
    fn distribution_labels() {
        // Seiler's polarised 80/5/15 and a pyramid 75/18/7; a tempo-heavy week is neither.
        assert_eq!(distribution_label(80.0, 5.0, 15.0), "polarised");
        assert_eq!(distribution_label(75.0, 18.0, 7.0), "pyramidal");
        assert_eq!(distribution_label(45.0, 35.0, 20.0), "pyramidal");
        assert_eq!(distribution_label(40.0, 45.0, 15.0), "threshold-heavy");
        assert_eq!(distribution_label(50.0, 10.0, 40.0), "threshold-heavy");
    }
}
