//! `get_athlete_profile`, `calculate_zones` and `save_athlete_profile` (onboarding).

use metrics::zones::Zone;
use ride::profile::Profile;
use serde_json::{Map, Value, json};

use super::staged::{Change, StagedWrite};
use super::{
    CalculateZonesArgs, CoachTools, HrModel, NoArgs, SaveProfileArgs, failed, invalid, num,
    opt_num, store_err,
};

const TOOL: &str = "save_athlete_profile";
use crate::toolbox::ToolError;

pub(super) const PROFILE_DESCRIPTION: &str = "The athlete's profile: name, age, weight_kg, FTP \
(ftp_w, in force today, with recent ftp_history), w_per_kg, heart rates (lthr_bpm, max_hr_bpm, \
resting_hr_bpm), availability (hours_per_week, training_days), goals, event_date, and the power \
zones (W, Coggan 7 zones on FTP) and heart-rate zones (bpm, Coggan 5 zones on LTHR). Use it before \
advice that depends on thresholds or availability. Returns has_profile=false when no profile \
exists yet (then ask the athlete and call save_athlete_profile).";

pub(super) const CALC_ZONES_DESCRIPTION: &str = "Power zones for a given FTP (W, Coggan 7 zones \
plus sweet spot 88–93 %) and/or heart-rate zones for a given LTHR (bpm, Coggan 5 or Friel 7). \
Pure calculation, reads no data: use it for 'what would my zones be at 270 W'. Give ftp_w \
and/or lthr_bpm; max_hr_bpm is optional context.";

pub(super) const SAVE_DESCRIPTION: &str = "Save the athlete's profile (onboarding, or to update \
FTP, weight, heart rates, availability, goals). Only the fields given change; the others keep \
their current values. Validated (FTP 50–600 W, weight 30–200 kg, LTHR 80–220 bpm, max HR \
100–230 bpm and above LTHR, hours 0.5–40 a week); an invalid field is refused with the reason. \
Confirm the values with the athlete before saving. Returns the saved profile.";

const FTP_RANGE: (f64, f64) = (50.0, 600.0);
const LTHR_RANGE: (u32, u32) = (80, 220);
const MAX_HR_RANGE: (u32, u32) = (100, 230);

/// Zones as compact JSON: `[{"zone":"Z2","name":"Endurance","lo_w":138,"hi_w":188}]`;
/// `hi` is absent for the open top zone.
pub(crate) fn zones_json(zones: &[Zone], unit: &str) -> Value {
    Value::Array(
        zones
            .iter()
            .map(|z| {
                let mut m = Map::new();
                m.insert("zone".into(), json!(z.id));
                m.insert("name".into(), json!(z.name));
                m.insert(format!("lo_{unit}"), num(z.lo, 0));
                if let Some(hi) = z.hi {
                    m.insert(format!("hi_{unit}"), num(hi, 0));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// The profile's facts for the model, with zones, as of `today`.
pub(crate) fn profile_json(p: &Profile, today: jiff::civil::Date) -> Value {
    let ftp = p.ftp_on(today);
    let w_per_kg = match (ftp, p.weight_kg) {
        (Some(f), Some(kg)) if kg > 0.0 => Some(f / kg),
        _ => None,
    };
    let avail = p.training_availability.as_ref();
    let history: Vec<Value> = p
        .ftp_history
        .iter()
        .rev()
        .take(5)
        .map(|e| json!({"date": e.date.to_string(), "ftp_w": num(e.ftp_w, 0)}))
        .collect();
    json!({
        "has_profile": true,
        "name": p.name,
        "age": p.age,
        "sex": p.sex.map(|s| s.as_str()),
        "weight_kg": opt_num(p.weight_kg, 1),
        "ftp_w": opt_num(ftp, 0),
        "ftp_history_recent_first": history,
        "w_per_kg": opt_num(w_per_kg, 2),
        "lthr_bpm": p.lthr_bpm,
        "max_hr_bpm": p.max_hr_bpm,
        "resting_hr_bpm": p.resting_hr_bpm,
        "hours_per_week": opt_num(avail.and_then(|a| a.hours_per_week), 1),
        "training_days": avail.map_or_else(Vec::new, |a| a
            .week_days
            .iter()
            .map(|d| ride::profile::weekday_name(*d))
            .collect()),
        "goals": p.goals,
        "event_date": p.event_date.map(|d| d.to_string()),
        "experience_level": p.experience_level,
        "timezone": p.timezone,
        "power_zones": ftp.filter(|f| *f > 0.0).map(|f| zones_json(&metrics::zones::power_zones(f), "w")),
        "hr_zones": p.lthr_bpm.map(|l| zones_json(&metrics::zones::hr_zones_coggan(f64::from(l)), "bpm")),
    })
}

pub(super) fn get_athlete_profile(tools: &CoachTools, _: NoArgs) -> Result<Value, ToolError> {
    Ok(match tools.profile() {
        Some(p) => profile_json(&p, tools.today),
        None => json!({
            "has_profile": false,
            "note": "No profile yet. Ask the athlete for FTP (W), weight (kg), threshold and max \
                     heart rate (bpm), training days, hours per week and goals, then call \
                     save_athlete_profile.",
        }),
    })
}

pub(super) fn calculate_zones(_: &CoachTools, a: CalculateZonesArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "calculate_zones";
    if a.ftp_w.is_none() && a.lthr_bpm.is_none() {
        return Err(invalid(
            TOOL,
            "give ftp_w (50–600 W) and/or lthr_bpm (80–220 bpm); max_hr_bpm alone does not \
             define zones (heart-rate zones are set on the threshold heart rate)",
        ));
    }
    let mut out = Map::new();
    if let Some(ftp) = a.ftp_w {
        if !ftp.is_finite() || ftp < FTP_RANGE.0 || ftp > FTP_RANGE.1 {
            return Err(invalid(
                TOOL,
                format!("ftp_w: {ftp} W is outside the accepted range 50–600 W"),
            ));
        }
        let (lo, hi) = metrics::zones::SWEET_SPOT_PCT;
        out.insert("ftp_w".into(), num(ftp, 0));
        out.insert(
            "power_zones".into(),
            zones_json(&metrics::zones::power_zones(ftp), "w"),
        );
        out.insert(
            "sweet_spot".into(),
            json!({"lo_w": num(ftp * lo / 100.0, 0), "hi_w": num(ftp * hi / 100.0, 0)}),
        );
    }
    if let Some(max) = a.max_hr_bpm
        && !(MAX_HR_RANGE.0..=MAX_HR_RANGE.1).contains(&max)
    {
        return Err(invalid(
            TOOL,
            format!("max_hr_bpm: {max} bpm is outside the accepted range 100–230 bpm"),
        ));
    }
    if let Some(lthr) = a.lthr_bpm {
        if !(LTHR_RANGE.0..=LTHR_RANGE.1).contains(&lthr) {
            return Err(invalid(
                TOOL,
                format!("lthr_bpm: {lthr} bpm is outside the accepted range 80–220 bpm"),
            ));
        }
        if let Some(max) = a.max_hr_bpm
            && max <= lthr
        {
            return Err(invalid(
                TOOL,
                format!(
                    "max_hr_bpm: {max} bpm must exceed lthr_bpm ({lthr} bpm); lthr_bpm is the \
                     threshold heart rate, not the maximum"
                ),
            ));
        }
        let model = a.hr_model.unwrap_or_default();
        let zones = match model {
            HrModel::Coggan => metrics::zones::hr_zones_coggan(f64::from(lthr)),
            HrModel::Friel => metrics::zones::hr_zones_friel(f64::from(lthr)),
        };
        let mut zj = zones_json(&zones, "bpm");
        if let (Some(max), Value::Array(items)) = (a.max_hr_bpm, &mut zj) {
            for (item, z) in items.iter_mut().zip(&zones) {
                item["lo_pct_max_hr"] = num(z.lo / f64::from(max) * 100.0, 0);
            }
        }
        out.insert("lthr_bpm".into(), json!(lthr));
        out.insert(
            "hr_model".into(),
            json!(match model {
                HrModel::Coggan => "coggan_5",
                HrModel::Friel => "friel_7",
            }),
        );
        out.insert("hr_zones".into(), zj);
    }
    if let Some(max) = a.max_hr_bpm {
        out.insert("max_hr_bpm".into(), json!(max));
    }
    Ok(Value::Object(out))
}

/// `save_athlete_profile` up to the validated new profile; the preview lists the fields that
/// change.
pub(super) fn stage_athlete_profile(
    tools: &CoachTools,
    a: SaveProfileArgs,
) -> Result<StagedWrite, ToolError> {
    let current = tools.profile().unwrap_or_default();
    // Start from the canonical JSON of the current profile and overwrite what was given, then
    // read it back through `Profile::from_value`: the same parsing and validation as every
    // profile file, with the canonical field names in its messages.
    let mut v = current.to_canonical_value();
    let set = |v: &mut Value, key: &str, value: Value| {
        v[key] = value;
    };
    if let Some(name) = &a.name {
        let n = name.trim();
        if n.is_empty() || n.chars().count() > 60 {
            return Err(invalid(TOOL, "name: expected 1–60 characters"));
        }
        set(&mut v, "name", json!(n));
    }
    if let Some(x) = a.age {
        set(&mut v, "age", json!(x));
    }
    if let Some(s) = &a.sex {
        let s = s.trim().to_ascii_lowercase();
        if s != "male" && s != "female" {
            return Err(invalid(
                TOOL,
                format!("sex: {s:?} is not \"male\" or \"female\""),
            ));
        }
        set(&mut v, "sex", json!(s));
    }
    if let Some(x) = a.weight_kg {
        set(&mut v, "weight_kg", json!(x));
    }
    if let Some(x) = a.ftp_w {
        set(&mut v, "ftp_w", json!(x));
    }
    if let Some(x) = a.lthr_bpm {
        set(&mut v, "lthr_bpm", json!(x));
    }
    if let Some(x) = a.max_hr_bpm {
        set(&mut v, "max_hr_bpm", json!(x));
    }
    if let Some(x) = a.resting_hr_bpm {
        set(&mut v, "resting_hr_bpm", json!(x));
    }
    if a.training_days.is_some() || a.hours_per_week.is_some() {
        let mut avail = match v.get("training_availability") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        if let Some(days) = &a.training_days {
            let mut parsed = Vec::new();
            for d in days {
                let Some(w) = coach::plan::weekday_name::parse(d) else {
                    return Err(invalid(
                        TOOL,
                        format!(
                            "training_days: {d:?} is not a day name; use monday, tuesday, \
                             wednesday, thursday, friday, saturday, sunday"
                        ),
                    ));
                };
                parsed.push(w);
            }
            parsed.sort_by_key(|d| d.to_monday_zero_offset());
            parsed.dedup();
            let names: Vec<&str> = parsed
                .iter()
                .map(|d| ride::profile::weekday_name(*d))
                .collect();
            avail.insert("week_days".into(), json!(names));
        }
        if let Some(h) = a.hours_per_week {
            avail.insert("hours_per_week".into(), json!(h));
        }
        set(&mut v, "training_availability", Value::Object(avail));
    }
    if let Some(goals) = &a.goals {
        if goals.len() > 5 || goals.iter().any(|g| g.chars().count() > 200) {
            return Err(invalid(
                TOOL,
                "goals: at most 5 goals of at most 200 characters each",
            ));
        }
        set(&mut v, "goals", json!(goals));
    }
    if let Some(d) = &a.event_date {
        let date = tools.date_arg(TOOL, "event_date", d)?;
        set(&mut v, "event_date", json!(date.to_string()));
    }
    if let Some(e) = &a.experience_level {
        if e.chars().count() > 200 {
            return Err(invalid(TOOL, "experience_level: at most 200 characters"));
        }
        set(&mut v, "experience_level", json!(e.trim()));
    }
    if let Some(tz) = &a.timezone {
        set(&mut v, "timezone", json!(tz.trim()));
    }
    // A new current FTP must not be shadowed by an older history entry dated after it: the
    // history says which FTP was in force when; today's value starts today.
    if let (Some(ftp), Value::Array(hist)) = (a.ftp_w, &mut v["ftp_history"]) {
        let today = tools.today.to_string();
        hist.retain(|e| e["date"].as_str().is_some_and(|d| d < today.as_str()));
        if !hist.is_empty() {
            hist.push(json!({"date": today, "ftp_w": ftp}));
        }
    }
    let profile = Profile::from_value(v, "save_athlete_profile").map_err(|e| {
        // "save_athlete_profile: field "ftp_w": 700 W is outside …" → keep the field part.
        let msg = e.to_string();
        let msg = msg
            .strip_prefix("save_athlete_profile: ")
            .unwrap_or(&msg)
            .to_owned();
        invalid(TOOL, msg)
    })?;
    let mut preview = profile_json(&profile, tools.today);
    preview["saved"] = json!(false);
    preview["changes"] = changes(&current.to_canonical_value(), &profile.to_canonical_value());
    Ok(StagedWrite::new(
        tools,
        TOOL,
        Change::Profile(Box::new(profile)),
        preview,
    ))
}

/// The top-level profile fields whose value differs: `[{"field", "from", "to"}]`.
fn changes(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    Value::Array(
        keys.into_iter()
            .filter(|k| b.get(*k) != a.get(*k))
            .map(|k| json!({"field": k, "from": b.get(k), "to": a.get(k)}))
            .collect(),
    )
}

/// Store the prepared profile (and write the profile file the user named).
pub(super) fn apply_athlete_profile(
    tools: &CoachTools,
    profile: &Profile,
) -> Result<Value, ToolError> {
    let mut store = tools.open(TOOL)?;
    let athlete = store
        .athlete(tools.athlete_id)
        .map_err(store_err(TOOL))?
        .ok_or_else(|| failed(TOOL, format!("athlete {} not found", tools.athlete_id)))?;
    store
        .upsert_athlete(&athlete.name, Some(&profile.to_canonical_value()))
        .map_err(store_err(TOOL))?;
    let mut written_file = Value::Null;
    if let Some(path) = &tools.profile_file {
        write_profile_file(path, &profile.to_canonical_json()).map_err(|e| {
            failed(
                TOOL,
                format!("the profile was stored, but writing the profile file failed: {e}"),
            )
        })?;
        written_file = json!(true);
    }
    tools.set_profile(profile.clone());
    let mut out = profile_json(profile, tools.today);
    out["saved"] = json!(true);
    out["profile_file_written"] = written_file;
    Ok(out)
}

/// Writes `text` to `path` atomically ([`ride::fs::write_atomic`]), so a crash never leaves a
/// half-written profile; the profile's directory is created first (a first save may be the
/// first file in it).
fn write_profile_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    ride::fs::write_atomic(path, text.as_bytes())
}
