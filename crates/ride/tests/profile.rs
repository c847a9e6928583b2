//! Athlete profile: both legacy shapes, the canonical shape, validation messages, FTP history.

use jiff::civil::{Weekday, date};
use ride::profile::{FtpEntry, Profile, ProfileError, Sex, TrainingAvailability};

const SHAPE_A: &str = r#"{
  "name": "Ada",
  "age": 35,
  "weight": "70kg",
  "FTP": "265w",
  "critical_HR": 165,
  "gender": "Female",
  "training_availability": {
    "hours_per_week": 8,
    "week_days": "Monday, Wednesday, Saturday, Sunday"
  },
  "goals": "Ride a 200 km sportive",
  "current_training_status": "Base building",
  "training_plan_weeks": 12,
  "raw_training_data_path": "/data/ada/fit"
}"#;

const SHAPE_B: &str = r#"{
  "name": "Ada",
  "age": "35",
  "sex": "female",
  "weight_kg": 70,
  "ftp": 265,
  "lthr": 165,
  "goals": ["Ride a 200 km sportive"],
  "training_status": "Base building",
  "training_availability": {"hours_per_week": "8h", "week_days": ["sun", "Sat", "wednesday", "Mon"]},
  "training_plan_weeks": 12
}"#;

fn parse(text: &str) -> Result<Profile, ProfileError> {
    Profile::from_json_str(text, "profile.json")
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn both_shapes_give_the_same_canonical_profile() {
    let mut a = parse(SHAPE_A).unwrap();
    let b = parse(SHAPE_B).unwrap();
    assert_eq!(
        a.warnings,
        [
            "profile.json: field \"raw_training_data_path\" is not part of the profile and is ignored"
        ]
    );
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
    a.warnings.clear();
    assert_eq!(a, b);
    assert_eq!(a.to_canonical_json(), b.to_canonical_json());

    assert_eq!(a.name, "Ada");
    assert_eq!(a.age, Some(35));
    assert_eq!(a.sex, Some(Sex::Female));
    assert_eq!(a.weight_kg, Some(70.0));
    assert_eq!(a.ftp_w, Some(265.0));
    // critical_HR is a threshold heart rate, not a maximum.
    assert_eq!(a.lthr_bpm, Some(165));
    assert_eq!(a.max_hr_bpm, None);
    assert_eq!(a.goals, ["Ride a 200 km sportive"]);
    assert_eq!(a.training_status.as_deref(), Some("Base building"));
    assert_eq!(a.training_plan_weeks, Some(12));
    assert_eq!(
        a.training_availability,
        Some(TrainingAvailability {
            hours_per_week: Some(8.0),
            week_days: vec![
                Weekday::Monday,
                Weekday::Wednesday,
                Weekday::Saturday,
                Weekday::Sunday
            ],
        })
    );
    assert!((a.w_per_kg().unwrap() - 265.0 / 70.0).abs() < 1e-12);
}

#[test]
fn units_in_strings() {
    let p = parse(r#"{"name": "x", "weight": "70.5 kg", "FTP": "265 W"}"#).unwrap();
    assert_eq!(p.weight_kg, Some(70.5));
    assert_eq!(p.ftp_w, Some(265.0));
    let p = parse(r#"{"name": "x", "weight": "154 lb"}"#).unwrap();
    assert!((p.weight_kg.unwrap() - 69.853_225).abs() < 1e-5);
}

#[test]
fn onboarding_shape_flat_hours() {
    let p = parse(
        r#"{"name": "Bo", "weight_kg": 80, "ftp": 240, "max_hr": 190,
            "training_availability_hours_per_week": 6, "goals": ["a", "b"],
            "training_experience": "intermediate", "target_event": "Etape"}"#,
    )
    .unwrap();
    assert_eq!(p.max_hr_bpm, Some(190));
    assert_eq!(p.experience_level.as_deref(), Some("intermediate"));
    assert_eq!(
        p.training_availability.as_ref().unwrap().hours_per_week,
        Some(6.0)
    );
    assert!(
        p.training_availability
            .as_ref()
            .unwrap()
            .week_days
            .is_empty()
    );
    assert_eq!(p.goals, ["a", "b"]);
    assert_eq!(
        p.warnings,
        ["profile.json: field \"target_event\" is not part of the profile and is ignored"]
    );
}

#[test]
fn canonical_round_trip() {
    let full = r#"{
      "name": "Cy",
      "age": 41,
      "sex": "male",
      "weight_kg": 72.5,
      "ftp_w": 280,
      "ftp_history": [{"date": "2025-06-01", "ftp_w": 270}, {"date": "2025-01-06", "ftp_w": 250}],
      "lthr_bpm": 168,
      "max_hr_bpm": 186,
      "resting_hr_bpm": 48,
      "timezone": "Europe/Paris",
      "goals": ["Climb faster", "Stay healthy"],
      "training_status": "Build",
      "experience_level": "advanced",
      "training_availability": {"hours_per_week": 9.5, "week_days": ["tuesday", "thursday", "saturday"]},
      "training_plan_weeks": 16,
      "event_date": "2026-06-14"
    }"#;
    let p = parse(full).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // History is sorted on load.
    assert_eq!(
        p.ftp_history[0],
        FtpEntry {
            date: date(2025, 1, 6),
            ftp_w: 250.0
        }
    );
    let json = p.to_canonical_json();
    let again = parse(&json).unwrap();
    assert_eq!(again, p);
    assert_eq!(again.to_canonical_json(), json);
    assert!(json.contains(
        "\"week_days\": [\n      \"tuesday\",\n      \"thursday\",\n      \"saturday\"\n    ]"
    ));
    assert!(json.contains("\"event_date\": \"2026-06-14\""));

    // Serde goes through the same canonical shape.
    let via_serde: Profile = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(via_serde, p);

    // Every canonical key is always written, null when unknown.
    let minimal = parse(r#"{"name": "Min"}"#).unwrap().to_canonical_json();
    let v: serde_json::Value = serde_json::from_str(&minimal).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 16);
    assert!(v["ftp_w"].is_null());
    assert!(v["timezone"].is_null());
    assert_eq!(v["goals"], serde_json::json!([]));
}

#[test]
fn ftp_history_lookup() {
    let p = parse(
        r#"{"name": "x", "ftp_w": 300, "ftp_history": [
            {"date": "2025-01-06", "ftp_w": 250},
            {"date": "2025-06-01", "ftp": "270w"},
            {"date": "2025-09-01", "ftp_w": 285}]}"#,
    )
    .unwrap();
    assert_eq!(
        p.ftp_on(date(2024, 12, 31)),
        Some(300.0),
        "before history: ftp_w"
    );
    assert_eq!(
        p.ftp_on(date(2025, 1, 6)),
        Some(250.0),
        "on the day it starts"
    );
    assert_eq!(p.ftp_on(date(2025, 5, 31)), Some(250.0));
    assert_eq!(p.ftp_on(date(2025, 6, 1)), Some(270.0));
    assert_eq!(p.ftp_on(date(2026, 1, 1)), Some(285.0));
    let none = parse(r#"{"name": "x"}"#).unwrap();
    assert_eq!(none.ftp_on(date(2025, 1, 1)), None);
}

#[test]
fn time_zone_defaults_to_utc() {
    let p = parse(r#"{"name": "x"}"#).unwrap();
    assert_eq!(p.time_zone(), jiff::tz::TimeZone::UTC);
    let p = parse(r#"{"name": "x", "timezone": "America/Denver"}"#).unwrap();
    assert_eq!(p.time_zone().iana_name(), Some("America/Denver"));
}

#[test]
fn validation_messages_name_field_and_range() {
    assert_eq!(
        err(r#"{"FTP": "abc"}"#),
        r#"profile.json: field "FTP": "abc" is not a power (expected watts, e.g. 265 or "265w", range 50–600)"#
    );
    assert_eq!(
        err(r#"{"FTP": "265 kg"}"#),
        r#"profile.json: field "FTP": "265 kg" is not a power (expected watts, e.g. 265 or "265w", range 50–600)"#
    );
    assert_eq!(
        err(r#"{"ftp": 700}"#),
        r#"profile.json: field "ftp": 700 W is outside the accepted range 50–600 W"#
    );
    assert_eq!(
        err(r#"{"weight": "20kg"}"#),
        r#"profile.json: field "weight": 20 kg is outside the accepted range 30–200 kg"#
    );
    assert_eq!(
        err(r#"{"weight_kg": "heavy"}"#),
        r#"profile.json: field "weight_kg": "heavy" is not a weight (expected kilograms, e.g. 70, "70kg" or "154 lb", range 30–200)"#
    );
    assert_eq!(
        err(r#"{"age": 5}"#),
        r#"profile.json: field "age": 5 years is outside the accepted range 10–100 years"#
    );
    assert_eq!(
        err(r#"{"age": 35.5}"#),
        r#"profile.json: field "age": 35.5 is not an age (expected a whole number, years, e.g. 35, range 10–100)"#
    );
    assert_eq!(
        err(r#"{"critical_HR": 250}"#),
        r#"profile.json: field "critical_HR": 250 bpm is outside the accepted range 80–220 bpm"#
    );
    assert_eq!(
        err(r#"{"max_hr": 95}"#),
        r#"profile.json: field "max_hr": 95 bpm is outside the accepted range 100–230 bpm"#
    );
    assert_eq!(
        err(r#"{"critical_HR": 170, "max_hr": 165}"#),
        r#"profile.json: field "max_hr": 165 bpm must exceed the threshold heart rate (170 bpm)"#
    );
    assert_eq!(
        err(r#"{"resting_hr_bpm": 20}"#),
        r#"profile.json: field "resting_hr_bpm": 20 bpm is outside the accepted range 25–100 bpm"#
    );
    assert_eq!(
        err(r#"{"training_availability": {"hours_per_week": 50}}"#),
        r#"profile.json: field "training_availability.hours_per_week": 50 h is outside the accepted range 0.5–40 h"#
    );
    assert_eq!(
        err(r#"{"training_availability_hours_per_week": 0.2}"#),
        r#"profile.json: field "training_availability_hours_per_week": 0.2 h is outside the accepted range 0.5–40 h"#
    );
    assert_eq!(
        err(r#"{"training_plan_weeks": 52}"#),
        r#"profile.json: field "training_plan_weeks": 52 weeks is outside the accepted range 4–24 weeks"#
    );
    assert_eq!(
        err(r#"{"training_availability": {"week_days": "Monday, Funday"}}"#),
        r#"profile.json: field "training_availability.week_days": "Funday" is not a day of the week (expected e.g. "monday" or "Mon")"#
    );
    assert_eq!(
        err(r#"{"timezone": "Mars/Olympus"}"#),
        r#"profile.json: field "timezone": "Mars/Olympus" is not an IANA time zone name (e.g. "Europe/Paris", "UTC")"#
    );
    assert_eq!(
        err(r#"{"ftp_history": [{"date": "2025-13-01", "ftp_w": 250}]}"#),
        r#"profile.json: field "ftp_history[0].date": "2025-13-01" is not a date (expected "YYYY-MM-DD")"#
    );
    assert_eq!(
        err(r#"{"ftp_history": [{"date": "2025-01-01", "ftp_w": 20}]}"#),
        r#"profile.json: field "ftp_history[0].ftp_w": 20 W is outside the accepted range 50–600 W"#
    );
    assert_eq!(
        err(r#"{"ftp": 250, "FTP": 260}"#),
        r#"profile.json: field "ftp": both "ftp" and "FTP" are present; keep only one"#
    );
    assert_eq!(
        err(r#"{"goals": 3}"#),
        r#"profile.json: field "goals": expected a string or a list of strings, found a number"#
    );
    assert_eq!(
        err(r#"{"event_date": "next summer"}"#),
        r#"profile.json: field "event_date": "next summer" is not a date (expected "YYYY-MM-DD")"#
    );
}

#[test]
fn broken_json_reports_line_and_column() {
    let e = parse("{\n  \"name\": \"x\",\n  \"age\": ,\n}").unwrap_err();
    match &e {
        ProfileError::Json { line, column, .. } => {
            assert_eq!((*line, *column), (3, 10));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with("profile.json: invalid JSON at line 3, column 10: "),
        "{e}"
    );
    assert_eq!(
        err("[1, 2]"),
        "profile.json: the profile must be a JSON object, found a list"
    );
}

#[test]
fn unknown_gender_warns_and_validate_on_built_profile() {
    let p = parse(r#"{"name": "x", "gender": "prefer not to say"}"#).unwrap();
    assert_eq!(p.sex, None);
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].contains("\"gender\""));

    let built = Profile {
        name: "Built".into(),
        ftp_w: Some(10.0),
        ..Profile::default()
    };
    assert_eq!(
        built.validate().unwrap_err().to_string(),
        r#"profile: field "ftp_w": 10 W is outside the accepted range 50–600 W"#
    );
}

#[test]
fn load_from_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("athlete_profile.json");
    std::fs::write(&path, SHAPE_A).unwrap();
    let p = Profile::load(&path).unwrap();
    assert_eq!(p.ftp_w, Some(265.0));
    assert!(p.warnings[0].starts_with(&path.display().to_string()));
    let missing = Profile::load(&dir.path().join("nope.json")).unwrap_err();
    assert!(matches!(missing, ProfileError::Io { .. }));
    assert!(missing.to_string().contains("nope.json: cannot read"));
}
