//! The athlete profile JSON.
//!
//! Two incompatible shapes exist in the wild (files written by an older tool, which could read
//! only one of them back): the legacy `generate` shape (`"weight": "70kg"`, `"FTP": "265w"`, `"critical_HR"`,
//! `"gender"`, weekdays as a comma-separated string, `goals` a string) and the onboarding shape
//! (`weight_kg`, `ftp`, `max_hr`, `goals` a list). Both are read; every command writes the one
//! canonical shape:
//!
//! ```json
//! {
//!   "name": "Ada",
//!   "age": 35,                          // int 10–100 or null
//!   "sex": "female",                    // "male" | "female" | null
//!   "weight_kg": 70.0,                  // 30–200 or null
//!   "ftp_w": 265.0,                     // current FTP, 50–600 W, or null
//!   "ftp_history": [                    // FTP in force from each date on, oldest first
//!     {"date": "2025-01-06", "ftp_w": 250.0}
//!   ],
//!   "lthr_bpm": 165,                    // threshold (not max) heart rate, 80–220, or null
//!   "max_hr_bpm": 185,                  // 100–230, above lthr_bpm, or null
//!   "resting_hr_bpm": 50,               // 25–100 or null
//!   "timezone": "Europe/Paris",         // IANA name, or null = UTC
//!   "goals": ["Ride a 200 km sportive"],
//!   "training_status": "…" | null,
//!   "experience_level": "…" | null,
//!   "training_availability": {"hours_per_week": 8.0, "week_days": ["monday", "saturday"]} | null,
//!   "training_plan_weeks": 12,          // 4–24 or null
//!   "event_date": "2026-06-14"          // or null
//! }
//! ```
//!
//! Legacy `critical_HR` is a **threshold** heart rate and maps to `lthr_bpm` (read as max HR, it
//! would skew every HR figure). Keys neither shape knows are kept out of the
//! profile and listed in [`Profile::warnings`].

use std::path::Path;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        source_name: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{source_name}: the profile must be a JSON object, found {found}")]
    NotAnObject {
        source_name: String,
        found: &'static str,
    },
    /// A field with a wrong type, an unparseable value or a value out of range. `field` is the
    /// key as written in the file (e.g. "FTP"), so the user can find it.
    #[error("{source_name}: field \"{field}\": {message}")]
    Field {
        source_name: String,
        field: String,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// An FTP value in force from `date` on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FtpEntry {
    pub date: Date,
    pub ftp_w: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingAvailability {
    pub hours_per_week: Option<f64>,
    /// Distinct days, Monday first.
    pub week_days: Vec<Weekday>,
}

/// The athlete profile, canonical field names (see the module docs for the JSON shape).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    pub name: String,
    pub age: Option<u32>,
    pub sex: Option<Sex>,
    pub weight_kg: Option<f64>,
    /// Current FTP; also the fallback for dates before every [`Profile::ftp_history`] entry.
    pub ftp_w: Option<f64>,
    /// Sorted by date, one entry per date.
    pub ftp_history: Vec<FtpEntry>,
    pub lthr_bpm: Option<u32>,
    pub max_hr_bpm: Option<u32>,
    pub resting_hr_bpm: Option<u32>,
    /// IANA time zone name; `None` means UTC.
    pub timezone: Option<String>,
    pub goals: Vec<String>,
    pub training_status: Option<String>,
    pub experience_level: Option<String>,
    pub training_availability: Option<TrainingAvailability>,
    pub training_plan_weeks: Option<u32>,
    pub event_date: Option<Date>,
    /// Non-fatal notes from reading (ignored keys, unrecognised `gender`); never serialised.
    pub warnings: Vec<String>,
}

// Accepted ranges, shared by parsing messages and validation.
const FTP_RANGE: (f64, f64) = (50.0, 600.0);
const WEIGHT_RANGE: (f64, f64) = (30.0, 200.0);
const AGE_RANGE: (f64, f64) = (10.0, 100.0);
const LTHR_RANGE: (f64, f64) = (80.0, 220.0);
const MAX_HR_RANGE: (f64, f64) = (100.0, 230.0);
const RESTING_HR_RANGE: (f64, f64) = (25.0, 100.0);
const HOURS_RANGE: (f64, f64) = (0.5, 40.0);
const PLAN_WEEKS_RANGE: (f64, f64) = (4.0, 24.0);

const KG_PER_LB: f64 = 0.453_592_37;

impl Profile {
    /// Reads, parses and validates a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Profile::from_json_str(&text, &path.display().to_string())
    }

    /// Parses and validates either accepted shape; `source_name` prefixes every message.
    pub fn from_json_str(text: &str, source_name: &str) -> Result<Profile, ProfileError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ProfileError::Json {
            source_name: source_name.to_owned(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        Profile::from_value(value, source_name)
    }

    /// Parses and validates an already-decoded JSON value.
    pub fn from_value(value: Value, source_name: &str) -> Result<Profile, ProfileError> {
        let Value::Object(map) = value else {
            return Err(ProfileError::NotAnObject {
                source_name: source_name.to_owned(),
                found: json_kind(&value),
            });
        };
        let mut reader = Reader {
            source_name,
            map,
            used: Vec::new(),
        };
        let profile = reader.read()?;
        profile.validate_with(source_name, &|canonical| reader.key_for(canonical))?;
        Ok(profile)
    }

    /// Checks every range and cross-field rule. Messages use canonical field names; profiles
    /// read from a file are checked by [`Profile::from_json_str`] with the file's own key names.
    pub fn validate(&self) -> Result<(), ProfileError> {
        self.validate_with("profile", &|canonical| canonical.to_owned())
    }

    fn validate_with(
        &self,
        source_name: &str,
        key: &dyn Fn(&str) -> String,
    ) -> Result<(), ProfileError> {
        let err = |field: &str, message: String| ProfileError::Field {
            source_name: source_name.to_owned(),
            field: key(field),
            message,
        };
        let check = |field: &str, v: Option<f64>, range: (f64, f64), unit: &str| match v {
            Some(v) if !v.is_finite() || v < range.0 || v > range.1 => Err(err(
                field,
                format!(
                    "{} {unit} is outside the accepted range {}",
                    fmt_num(v),
                    fmt_range(range, unit)
                ),
            )),
            _ => Ok(()),
        };
        check("age", self.age.map(f64::from), AGE_RANGE, "years")?;
        check("weight_kg", self.weight_kg, WEIGHT_RANGE, "kg")?;
        check("ftp_w", self.ftp_w, FTP_RANGE, "W")?;
        check("lthr_bpm", self.lthr_bpm.map(f64::from), LTHR_RANGE, "bpm")?;
        check(
            "max_hr_bpm",
            self.max_hr_bpm.map(f64::from),
            MAX_HR_RANGE,
            "bpm",
        )?;
        check(
            "resting_hr_bpm",
            self.resting_hr_bpm.map(f64::from),
            RESTING_HR_RANGE,
            "bpm",
        )?;
        check(
            "training_plan_weeks",
            self.training_plan_weeks.map(f64::from),
            PLAN_WEEKS_RANGE,
            "weeks",
        )?;
        if let (Some(lthr), Some(max)) = (self.lthr_bpm, self.max_hr_bpm)
            && max <= lthr
        {
            return Err(err(
                "max_hr_bpm",
                format!("{max} bpm must exceed the threshold heart rate ({lthr} bpm)"),
            ));
        }
        if let (Some(rest), Some(lthr)) = (self.resting_hr_bpm, self.lthr_bpm)
            && rest >= lthr
        {
            return Err(err(
                "resting_hr_bpm",
                format!("{rest} bpm must be below the threshold heart rate ({lthr} bpm)"),
            ));
        }
        if let Some(avail) = &self.training_availability {
            check("hours_per_week", avail.hours_per_week, HOURS_RANGE, "h")?;
        }
        for (i, e) in self.ftp_history.iter().enumerate() {
            check(
                &format!("ftp_history[{i}].ftp_w"),
                Some(e.ftp_w),
                FTP_RANGE,
                "W",
            )?;
            if i > 0 && self.ftp_history[i - 1].date >= e.date {
                return Err(err(
                    "ftp_history",
                    format!(
                        "entries must have distinct dates in ascending order ({} then {})",
                        self.ftp_history[i - 1].date,
                        e.date
                    ),
                ));
            }
        }
        if let Some(tz) = &self.timezone
            && TimeZone::get(tz).is_err()
        {
            return Err(err(
                "timezone",
                format!("\"{tz}\" is not an IANA time zone name (e.g. \"Europe/Paris\", \"UTC\")"),
            ));
        }
        Ok(())
    }

    /// FTP in force on `date`: the latest history entry on or before it, else [`Profile::ftp_w`].
    pub fn ftp_on(&self, date: Date) -> Option<f64> {
        self.ftp_history
            .iter()
            .rev()
            .find(|e| e.date <= date)
            .map(|e| e.ftp_w)
            .or(self.ftp_w)
    }

    /// The athlete's time zone (UTC when unset or, defensively, unknown).
    pub fn time_zone(&self) -> TimeZone {
        self.timezone
            .as_deref()
            .and_then(|name| TimeZone::get(name).ok())
            .unwrap_or(TimeZone::UTC)
    }

    /// Watts per kilogram at the current FTP.
    pub fn w_per_kg(&self) -> Option<f64> {
        match (self.ftp_w, self.weight_kg) {
            (Some(ftp), Some(kg)) if kg > 0.0 => Some(ftp / kg),
            _ => None,
        }
    }

    /// The canonical shape as a JSON value: every key present, `null` when unknown.
    pub fn to_canonical_value(&self) -> Value {
        let days = |a: &TrainingAvailability| -> Vec<&'static str> {
            a.week_days.iter().map(|d| weekday_name(*d)).collect()
        };
        json!({
            "name": self.name,
            "age": self.age,
            "sex": self.sex.map(Sex::as_str),
            "weight_kg": self.weight_kg,
            "ftp_w": self.ftp_w,
            "ftp_history": self.ftp_history.iter().map(|e| json!({
                "date": e.date.to_string(),
                "ftp_w": e.ftp_w,
            })).collect::<Vec<_>>(),
            "lthr_bpm": self.lthr_bpm,
            "max_hr_bpm": self.max_hr_bpm,
            "resting_hr_bpm": self.resting_hr_bpm,
            "timezone": self.timezone,
            "goals": self.goals,
            "training_status": self.training_status,
            "experience_level": self.experience_level,
            "training_availability": self.training_availability.as_ref().map(|a| json!({
                "hours_per_week": a.hours_per_week,
                "week_days": days(a),
            })),
            "training_plan_weeks": self.training_plan_weeks,
            "event_date": self.event_date.map(|d| d.to_string()),
        })
    }

    /// The canonical shape, pretty-printed (what every command writes).
    pub fn to_canonical_json(&self) -> String {
        // serde_json writes non-finite floats as null, and validation keeps them out anyway.
        serde_json::to_string_pretty(&self.to_canonical_value())
            .expect("a serde_json::Value always serialises")
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_canonical_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Profile::from_value(value, "profile").map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Reads fields from the JSON object under their canonical or legacy keys, remembering which key
/// supplied each canonical field so messages quote the file's own spelling.
struct Reader<'a> {
    source_name: &'a str,
    map: Map<String, Value>,
    /// (canonical field, key as written)
    used: Vec<(&'static str, String)>,
}

/// Keys accepted for each canonical field, canonical first.
const ALIASES: &[(&str, &[&str])] = &[
    ("name", &["name"]),
    ("age", &["age"]),
    ("sex", &["sex", "gender"]),
    ("weight_kg", &["weight_kg", "weight"]),
    ("ftp_w", &["ftp_w", "ftp", "FTP"]),
    ("ftp_history", &["ftp_history"]),
    (
        "lthr_bpm",
        &[
            "lthr_bpm",
            "lthr",
            "critical_HR",
            "critical_hr",
            "threshold_hr",
        ],
    ),
    ("max_hr_bpm", &["max_hr_bpm", "max_hr"]),
    ("resting_hr_bpm", &["resting_hr_bpm", "resting_hr"]),
    ("timezone", &["timezone", "time_zone", "tz"]),
    ("goals", &["goals"]),
    (
        "training_status",
        &["training_status", "current_training_status"],
    ),
    (
        "experience_level",
        &["experience_level", "training_experience"],
    ),
    ("training_availability", &["training_availability"]),
    ("hours_per_week", &["training_availability_hours_per_week"]),
    ("training_plan_weeks", &["training_plan_weeks"]),
    ("event_date", &["event_date"]),
];

impl Reader<'_> {
    fn key_for(&self, canonical: &str) -> String {
        // Nested / indexed names ("ftp_history[2].ftp_w") are reported as they are.
        self.used
            .iter()
            .find(|(c, _)| *c == canonical)
            .map(|(_, k)| k.clone())
            .unwrap_or_else(|| canonical.to_owned())
    }

    fn err(&self, field: &str, message: String) -> ProfileError {
        ProfileError::Field {
            source_name: self.source_name.to_owned(),
            field: field.to_owned(),
            message,
        }
    }

    /// Takes the value of a canonical field (first alias present wins; a second alias present
    /// too is an ambiguity we report rather than silently pick).
    fn take(&mut self, canonical: &'static str) -> Result<Option<(String, Value)>, ProfileError> {
        let aliases = ALIASES
            .iter()
            .find(|(c, _)| *c == canonical)
            .map(|(_, a)| *a)
            .unwrap_or(&[]);
        let present: Vec<&str> = aliases
            .iter()
            .copied()
            .filter(|k| self.map.contains_key(*k))
            .collect();
        match present.as_slice() {
            [] => Ok(None),
            [key] => {
                let key = (*key).to_owned();
                let value = self.map.remove(&key).unwrap_or(Value::Null);
                self.used.push((canonical, key.clone()));
                if value.is_null() {
                    Ok(None)
                } else {
                    Ok(Some((key, value)))
                }
            }
            [a, b, ..] => Err(self.err(
                a,
                format!("both \"{a}\" and \"{b}\" are present; keep only one"),
            )),
        }
    }

    fn read(&mut self) -> Result<Profile, ProfileError> {
        let mut p = Profile::default();
        if let Some((k, v)) = self.take("name")? {
            p.name = self.string(&k, &v)?;
        }
        if let Some((k, v)) = self.take("age")? {
            p.age = Some(self.integer(
                &k,
                &v,
                "an age",
                "years, e.g. 35",
                AGE_RANGE,
                &["years", "y"],
            )?);
        }
        if let Some((k, v)) = self.take("sex")? {
            let s = self.string(&k, &v)?;
            p.sex = match s.trim().to_lowercase().as_str() {
                "male" | "m" | "man" => Some(Sex::Male),
                "female" | "f" | "woman" => Some(Sex::Female),
                "" => None,
                other => {
                    // Only used to choose estimation formulas; not worth refusing the profile.
                    p.warnings.push(format!(
                        "{}: field \"{k}\": \"{other}\" is not \"male\" or \"female\"; left unset",
                        self.source_name
                    ));
                    None
                }
            };
        }
        if let Some((k, v)) = self.take("weight_kg")? {
            p.weight_kg = Some(self.weight(&k, &v)?);
        }
        if let Some((k, v)) = self.take("ftp_w")? {
            p.ftp_w = Some(self.power(&k, &v)?);
        }
        if let Some((k, v)) = self.take("ftp_history")? {
            p.ftp_history = self.ftp_history(&k, &v)?;
        }
        if let Some((k, v)) = self.take("lthr_bpm")? {
            p.lthr_bpm = Some(self.integer(
                &k,
                &v,
                "a heart rate",
                "bpm, e.g. 165",
                LTHR_RANGE,
                &["bpm"],
            )?);
        }
        if let Some((k, v)) = self.take("max_hr_bpm")? {
            p.max_hr_bpm = Some(self.integer(
                &k,
                &v,
                "a heart rate",
                "bpm, e.g. 185",
                MAX_HR_RANGE,
                &["bpm"],
            )?);
        }
        if let Some((k, v)) = self.take("resting_hr_bpm")? {
            p.resting_hr_bpm = Some(self.integer(
                &k,
                &v,
                "a heart rate",
                "bpm, e.g. 50",
                RESTING_HR_RANGE,
                &["bpm"],
            )?);
        }
        if let Some((k, v)) = self.take("timezone")? {
            let tz = self.string(&k, &v)?.trim().to_owned();
            p.timezone = (!tz.is_empty()).then_some(tz);
        }
        if let Some((k, v)) = self.take("goals")? {
            p.goals = match &v {
                Value::String(s) => vec![s.trim().to_owned()],
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| {
                        self.string(&format!("{k}[{i}]"), it)
                            .map(|s| s.trim().to_owned())
                    })
                    .collect::<Result<_, _>>()?,
                other => {
                    return Err(self.err(
                        &k,
                        format!(
                            "expected a string or a list of strings, found {}",
                            json_kind(other)
                        ),
                    ));
                }
            };
            p.goals.retain(|g| !g.is_empty());
        }
        if let Some((k, v)) = self.take("training_status")? {
            p.training_status = non_empty(self.string(&k, &v)?);
        }
        if let Some((k, v)) = self.take("experience_level")? {
            p.experience_level = non_empty(self.string(&k, &v)?);
        }
        if let Some((k, v)) = self.take("training_availability")? {
            let avail = self.availability(&k, &v, &mut p.warnings)?;
            if avail.hours_per_week.is_some() {
                self.used
                    .push(("hours_per_week", format!("{k}.hours_per_week")));
            }
            p.training_availability = Some(avail);
        }
        // Onboarding shape: hours at the top level.
        if let Some((k, v)) = self.take("hours_per_week")? {
            let hours = self.hours(&k, &v)?;
            p.training_availability
                .get_or_insert_with(TrainingAvailability::default)
                .hours_per_week
                .get_or_insert(hours);
        }
        if let Some((k, v)) = self.take("training_plan_weeks")? {
            p.training_plan_weeks = Some(self.integer(
                &k,
                &v,
                "a number of weeks",
                "e.g. 12",
                PLAN_WEEKS_RANGE,
                &["weeks", "w"],
            )?);
        }
        if let Some((k, v)) = self.take("event_date")? {
            p.event_date = Some(self.date(&k, &v)?);
        }
        let mut ignored: Vec<&String> = self.map.keys().collect();
        ignored.sort();
        for key in ignored {
            p.warnings.push(format!(
                "{}: field \"{key}\" is not part of the profile and is ignored",
                self.source_name
            ));
        }
        Ok(p)
    }

    fn string(&self, key: &str, v: &Value) -> Result<String, ProfileError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.err(
                key,
                format!("expected a string, found {}", json_kind(other)),
            )),
        }
    }

    /// A number, or a string holding a number followed by an optional unit.
    fn quantity(v: &Value) -> Option<(f64, &str)> {
        match v {
            Value::Number(n) => n.as_f64().map(|x| (x, "")),
            Value::String(s) => {
                let s = s.trim();
                let end = s
                    .char_indices()
                    .find(|&(i, c)| {
                        !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
                    })
                    .map(|(i, _)| i)
                    .unwrap_or(s.len());
                let x: f64 = s[..end].parse().ok()?;
                Some((x, s[end..].trim()))
            }
            _ => None,
        }
        .filter(|(x, _)| x.is_finite())
    }

    fn power(&self, key: &str, v: &Value) -> Result<f64, ProfileError> {
        let bad = || {
            self.err(
                key,
                format!(
                    "{} is not a power (expected watts, e.g. 265 or \"265w\", range {})",
                    show(v),
                    fmt_range(FTP_RANGE, "")
                ),
            )
        };
        let (x, unit) = Self::quantity(v).ok_or_else(bad)?;
        match unit.to_lowercase().as_str() {
            "" | "w" | "watt" | "watts" => Ok(x),
            _ => Err(bad()),
        }
    }

    fn weight(&self, key: &str, v: &Value) -> Result<f64, ProfileError> {
        let bad = || {
            self.err(
                key,
                format!(
                    "{} is not a weight (expected kilograms, e.g. 70, \"70kg\" or \"154 lb\", range {})",
                    show(v),
                    fmt_range(WEIGHT_RANGE, "")
                ),
            )
        };
        let (x, unit) = Self::quantity(v).ok_or_else(bad)?;
        match unit.to_lowercase().as_str() {
            "" | "kg" | "kgs" | "kilo" | "kilos" | "kilogram" | "kilograms" => Ok(x),
            "lb" | "lbs" | "pound" | "pounds" => Ok(x * KG_PER_LB),
            _ => Err(bad()),
        }
    }

    fn hours(&self, key: &str, v: &Value) -> Result<f64, ProfileError> {
        let bad = || {
            self.err(
                key,
                format!(
                    "{} is not a number of hours (e.g. 8 or \"8h\", range {})",
                    show(v),
                    fmt_range(HOURS_RANGE, "")
                ),
            )
        };
        let (x, unit) = Self::quantity(v).ok_or_else(bad)?;
        match unit.to_lowercase().as_str() {
            "" | "h" | "hr" | "hrs" | "hour" | "hours" => Ok(x),
            _ => Err(bad()),
        }
    }

    /// A whole number (accepts `35`, `35.0`, `"35"`, `"165 bpm"`).
    fn integer(
        &self,
        key: &str,
        v: &Value,
        what: &str,
        example: &str,
        range: (f64, f64),
        units: &[&str],
    ) -> Result<u32, ProfileError> {
        let bad = || {
            self.err(
                key,
                format!(
                    "{} is not {what} (expected a whole number, {example}, range {})",
                    show(v),
                    fmt_range(range, "")
                ),
            )
        };
        let (x, unit) = Self::quantity(v).ok_or_else(bad)?;
        let unit = unit.to_lowercase();
        let unit_ok = unit.is_empty() || units.contains(&unit.as_str());
        if !unit_ok || x.fract() != 0.0 {
            return Err(bad());
        }
        if x < 0.0 || x > f64::from(u32::MAX) {
            return Err(self.err(
                key,
                format!(
                    "{} is outside the accepted range {}",
                    fmt_num(x),
                    fmt_range(range, "")
                ),
            ));
        }
        Ok(x as u32)
    }

    fn date(&self, key: &str, v: &Value) -> Result<Date, ProfileError> {
        let s = self.string(key, v)?;
        s.trim().parse::<Date>().map_err(|_| {
            self.err(
                key,
                format!("\"{s}\" is not a date (expected \"YYYY-MM-DD\")"),
            )
        })
    }

    fn ftp_history(&self, key: &str, v: &Value) -> Result<Vec<FtpEntry>, ProfileError> {
        let Value::Array(items) = v else {
            return Err(self.err(
                key,
                format!(
                    "expected a list of {{\"date\", \"ftp_w\"}} entries, found {}",
                    json_kind(v)
                ),
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let here = format!("{key}[{i}]");
            let Value::Object(obj) = item else {
                return Err(self.err(
                    &here,
                    format!(
                        "expected {{\"date\": \"YYYY-MM-DD\", \"ftp_w\": 265}}, found {}",
                        json_kind(item)
                    ),
                ));
            };
            let date = obj
                .get("date")
                .ok_or_else(|| self.err(&here, "missing \"date\"".to_owned()))?;
            let date = self.date(&format!("{here}.date"), date)?;
            let (fkey, ftp) = ["ftp_w", "ftp", "FTP"]
                .iter()
                .find_map(|k| obj.get(*k).map(|v| (*k, v)))
                .ok_or_else(|| self.err(&here, "missing \"ftp_w\"".to_owned()))?;
            let ftp_w = self.power(&format!("{here}.{fkey}"), ftp)?;
            out.push(FtpEntry { date, ftp_w });
        }
        out.sort_by_key(|e| e.date);
        Ok(out)
    }

    fn availability(
        &self,
        key: &str,
        v: &Value,
        warnings: &mut Vec<String>,
    ) -> Result<TrainingAvailability, ProfileError> {
        let Value::Object(obj) = v else {
            return Err(self.err(
                key,
                format!(
                    "expected {{\"hours_per_week\": 8, \"week_days\": [\"monday\", …]}}, found {}",
                    json_kind(v)
                ),
            ));
        };
        let mut a = TrainingAvailability::default();
        if let Some(h) = obj.get("hours_per_week").filter(|h| !h.is_null()) {
            a.hours_per_week = Some(self.hours(&format!("{key}.hours_per_week"), h)?);
        }
        if let Some(days) = obj.get("week_days").filter(|d| !d.is_null()) {
            let dkey = format!("{key}.week_days");
            let names: Vec<String> = match days {
                // The legacy shape: "Monday, Wednesday, Saturday".
                Value::String(s) => s.split([',', ';', '/']).map(|d| d.to_owned()).collect(),
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| self.string(&format!("{dkey}[{i}]"), it))
                    .collect::<Result<_, _>>()?,
                other => {
                    return Err(self.err(
                        &dkey,
                        format!("expected a list of day names, found {}", json_kind(other)),
                    ));
                }
            };
            for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                let day = parse_weekday(name).ok_or_else(|| {
                    self.err(
                        &dkey,
                        format!("\"{name}\" is not a day of the week (expected e.g. \"monday\" or \"Mon\")"),
                    )
                })?;
                if !a.week_days.contains(&day) {
                    a.week_days.push(day);
                }
            }
            a.week_days.sort_by_key(|d| d.to_monday_zero_offset());
        }
        for extra in obj
            .keys()
            .filter(|k| *k != "hours_per_week" && *k != "week_days")
        {
            warnings.push(format!(
                "{}: field \"{key}.{extra}\" is not part of the profile and is ignored",
                self.source_name
            ));
        }
        Ok(a)
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// serde_json appends " at line L column C"; we report those as fields of our own message.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value as the user wrote it: strings quoted, numbers bare.
fn show(v: &Value) -> String {
    v.to_string()
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn fmt_range(range: (f64, f64), unit: &str) -> String {
    let r = format!("{}–{}", fmt_num(range.0), fmt_num(range.1));
    if unit.is_empty() {
        r
    } else {
        format!("{r} {unit}")
    }
}

fn parse_weekday(name: &str) -> Option<Weekday> {
    const DAYS: [(&str, Weekday); 7] = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];
    let n = name.trim().trim_end_matches('.').to_lowercase();
    if n.len() < 2 {
        return None;
    }
    let hits: Vec<Weekday> = DAYS
        .iter()
        .filter(|(full, _)| full.starts_with(&n))
        .map(|&(_, d)| d)
        .collect();
    // "t" or "s" alone would be ambiguous; require a unique prefix.
    (hits.len() == 1).then(|| hits[0])
}

/// Lower-case English day name, the canonical spelling.
pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_prefixes() {
        assert_eq!(parse_weekday("Mon"), Some(Weekday::Monday));
        assert_eq!(parse_weekday("thurs"), Some(Weekday::Thursday));
        assert_eq!(parse_weekday("SUNDAY"), Some(Weekday::Sunday));
        assert_eq!(parse_weekday("t"), None);
        assert_eq!(parse_weekday("s"), None);
        assert_eq!(parse_weekday("funday"), None);
    }

    #[test]
    fn quantities() {
        let q = |v: Value| Reader::quantity(&v).map(|(x, u)| (x, u.to_owned()));
        assert_eq!(q(json!("265w")), Some((265.0, "w".to_owned())));
        assert_eq!(q(json!("70.5 kg")), Some((70.5, "kg".to_owned())));
        assert_eq!(q(json!(265)), Some((265.0, String::new())));
        assert_eq!(q(json!("abc")), None);
        assert_eq!(q(json!(true)), None);
    }

    #[test]
    fn ranges_format() {
        assert_eq!(fmt_range(FTP_RANGE, ""), "50–600");
        assert_eq!(fmt_range(HOURS_RANGE, "h"), "0.5–40 h");
    }
}
