//! Workouts written by `WorkoutWriter` decode to the steps that were written, with our decoder
//! (`ride::fit::decode_workout_bytes`) and with an independent one (`fitparser`), and the two
//! decoders agree field by field.

use std::collections::HashMap;

use fitparser::profile::MesgNum;
use fitparser::{FitDataRecord, Value};
use jiff::Timestamp;
use ride::fit::{FitError, decode_workout_bytes, decode_workout_file};
use ride::fit_encode::{
    FitSport, StepDuration, StepIntensity, StepTarget, WorkoutStep, WorkoutWriter,
};
use ride::{FitWorkoutStep, PowerTarget};

fn created() -> Timestamp {
    Timestamp::from_second(1_750_000_000).unwrap()
}

fn step(
    name: Option<&str>,
    duration: StepDuration,
    target: StepTarget,
    intensity: StepIntensity,
) -> WorkoutStep {
    WorkoutStep::Step {
        name: name.map(str::to_owned),
        duration,
        target,
        intensity,
    }
}

/// Warm-up ramp (% FTP range), steady block in watts (both sides of the 1000 boundary), a
/// repeat block, an open-ended cool-down without target.
fn sample_bytes() -> Vec<u8> {
    WorkoutWriter::new("Over-unders", FitSport::INDOOR_CYCLING, created())
        .power_step(Some("Warm up"), 600.0, 50, 75, StepIntensity::Warmup)
        .step(step(
            Some("Tempo"),
            StepDuration::Time(300.5),
            StepTarget::PowerWatts { low: 0, high: 250 },
            StepIntensity::Active,
        ))
        .repeat(
            4,
            vec![
                step(
                    Some("Over"),
                    StepDuration::Time(120.0),
                    StepTarget::PowerPercentFtp {
                        low: 105,
                        high: 1000,
                    },
                    StepIntensity::Interval,
                ),
                step(
                    None,
                    StepDuration::Time(60.0),
                    StepTarget::PowerWatts { low: 1, high: 150 },
                    StepIntensity::Recovery,
                ),
            ],
        )
        .step(step(
            Some("Cool down"),
            StepDuration::Open,
            StepTarget::Open,
            StepIntensity::Cooldown,
        ))
        .finish()
        .unwrap()
}

fn pct(v: f64) -> Option<PowerTarget> {
    Some(PowerTarget::PercentFtp(v))
}

fn watts(v: f64) -> Option<PowerTarget> {
    Some(PowerTarget::Watts(v))
}

/// What `sample_bytes` should decode to, written out by hand.
fn expected_steps() -> Vec<FitWorkoutStep> {
    let timed =
        |i: u16, name: Option<&str>, s: f64, lo, hi, raw: (u32, u32), int: &str| FitWorkoutStep {
            message_index: Some(i),
            name: name.map(str::to_owned),
            duration_type: Some("time".into()),
            duration_s: Some(s),
            target_type: Some("power".into()),
            power_low: lo,
            power_high: hi,
            custom_target_low: Some(raw.0),
            custom_target_high: Some(raw.1),
            intensity: Some(int.into()),
            ..FitWorkoutStep::default()
        };
    vec![
        timed(
            0,
            Some("Warm up"),
            600.0,
            pct(50.0),
            pct(75.0),
            (50, 75),
            "warmup",
        ),
        // 0 W cannot be written as W + 1000 (1000 reads as 1000 % FTP): it is written as 0 % FTP.
        timed(
            1,
            Some("Tempo"),
            300.5,
            pct(0.0),
            watts(250.0),
            (0, 1250),
            "active",
        ),
        timed(
            2,
            Some("Over"),
            120.0,
            pct(105.0),
            pct(1000.0),
            (105, 1000),
            "interval",
        ),
        timed(
            3,
            None,
            60.0,
            watts(1.0),
            watts(150.0),
            (1001, 1150),
            "recovery",
        ),
        FitWorkoutStep {
            message_index: Some(4),
            duration_type: Some("repeat_until_steps_cmplt".into()),
            repeat_from_step: Some(2),
            repeat_count: Some(4),
            ..FitWorkoutStep::default()
        },
        FitWorkoutStep {
            message_index: Some(5),
            name: Some("Cool down".into()),
            duration_type: Some("open".into()),
            target_type: Some("open".into()),
            intensity: Some("cooldown".into()),
            ..FitWorkoutStep::default()
        },
    ]
}

fn fields(msg: &FitDataRecord) -> HashMap<String, Value> {
    msg.fields()
        .iter()
        .map(|f| (f.name().to_owned(), f.value().clone()))
        .collect()
}

fn num(m: &HashMap<String, Value>, k: &str) -> Option<f64> {
    m.get(k).cloned().map(|v| {
        v.try_into()
            .unwrap_or_else(|e| panic!("field {k} is not numeric: {e:?}"))
    })
}

fn text(m: &HashMap<String, Value>, k: &str) -> Option<String> {
    m.get(k).map(|v| v.to_string())
}

/// The FIT power encoding, applied to fitparser's raw sub-field value.
fn power(raw: Option<f64>) -> Option<PowerTarget> {
    raw.map(|r| {
        if r > 1000.0 {
            PowerTarget::Watts(r - 1000.0)
        } else {
            PowerTarget::PercentFtp(r)
        }
    })
}

/// fitparser types these sub-fields as the profile's `workout_power`, whose one named value,
/// 1000, it returns by name.
fn power_raw(m: &HashMap<String, Value>, k: &str) -> Option<f64> {
    match m.get(k) {
        Some(Value::String(s)) if s == "watts_offset" => Some(1000.0),
        _ => num(m, k),
    }
}

/// A workout_step as fitparser names it (it resolves the profile's sub-fields itself).
fn fitparser_step(m: &HashMap<String, Value>) -> FitWorkoutStep {
    let power_target = text(m, "target_type").as_deref() == Some("power");
    let low = power_raw(m, "custom_target_power_low").or(num(m, "custom_target_value_low"));
    let high = power_raw(m, "custom_target_power_high").or(num(m, "custom_target_value_high"));
    FitWorkoutStep {
        message_index: num(m, "message_index").map(|v| v as u16),
        name: text(m, "wkt_step_name"),
        duration_type: text(m, "duration_type"),
        duration_s: num(m, "duration_time"),
        repeat_from_step: num(m, "duration_step").map(|v| v as u16),
        repeat_count: num(m, "repeat_steps").map(|v| v as u32),
        target_type: text(m, "target_type"),
        power_low: power(low.filter(|_| power_target)),
        power_high: power(high.filter(|_| power_target)),
        custom_target_low: low.map(|v| v as u32),
        custom_target_high: high.map(|v| v as u32),
        intensity: text(m, "intensity"),
    }
}

#[test]
fn our_decoder_reads_back_every_step() {
    let w = decode_workout_bytes(&sample_bytes()).unwrap();
    assert!(w.warnings.is_empty(), "{:?}", w.warnings);
    assert!(!w.truncated);
    assert_eq!(w.name.as_deref(), Some("Over-unders"));
    assert_eq!(w.sport.as_deref(), Some("cycling"));
    assert_eq!(w.sub_sport.as_deref(), Some("indoor_cycling"));
    assert_eq!(w.num_valid_steps, Some(6));
    let id = w.file_id.as_ref().unwrap();
    assert_eq!(id.file_type.as_deref(), Some("workout"));
    assert_eq!(id.time_created, Some(created()));
    assert_eq!(w.steps, expected_steps());
}

#[test]
fn fitparser_agrees_field_by_field() {
    let bytes = sample_bytes();
    let ours = decode_workout_bytes(&bytes).unwrap();
    let msgs = fitparser::from_bytes(&bytes).unwrap();
    let wk = fields(msgs.iter().find(|m| m.kind() == MesgNum::Workout).unwrap());
    assert_eq!(text(&wk, "wkt_name"), ours.name);
    assert_eq!(text(&wk, "sport"), ours.sport);
    assert_eq!(text(&wk, "sub_sport"), ours.sub_sport);
    assert_eq!(
        num(&wk, "num_valid_steps").map(|v| v as u16),
        ours.num_valid_steps
    );
    let theirs: Vec<FitWorkoutStep> = msgs
        .iter()
        .filter(|m| m.kind() == MesgNum::WorkoutStep)
        .map(|m| fitparser_step(&fields(m)))
        .collect();
    assert_eq!(theirs.len(), ours.steps.len());
    for (i, (a, b)) in ours.steps.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "step {i}");
    }
    assert_eq!(theirs, expected_steps());
}

#[test]
fn single_steady_step_in_watts() {
    let bytes = WorkoutWriter::new("Steady", FitSport::ROAD_CYCLING, created())
        .step(step(
            None,
            StepDuration::Time(3600.0),
            StepTarget::PowerWatts {
                low: 200,
                high: 210,
            },
            StepIntensity::Active,
        ))
        .finish()
        .unwrap();
    let w = decode_workout_bytes(&bytes).unwrap();
    assert_eq!(w.sub_sport.as_deref(), Some("road"));
    assert_eq!(w.steps.len(), 1);
    let s = &w.steps[0];
    assert_eq!(s.duration_s, Some(3600.0));
    assert_eq!(s.power_low, watts(200.0));
    assert_eq!(s.power_high, watts(210.0));
    assert_eq!(s.power_low.unwrap().watts(300.0), 200.0);
    let msgs = fitparser::from_bytes(&bytes).unwrap();
    let theirs: Vec<FitWorkoutStep> = msgs
        .iter()
        .filter(|m| m.kind() == MesgNum::WorkoutStep)
        .map(|m| fitparser_step(&fields(m)))
        .collect();
    assert_eq!(theirs, w.steps);
}

#[test]
fn gzip_and_file_paths_decode_the_same() {
    use std::io::Write as _;
    let plain = sample_bytes();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workout.fit.gz");
    std::fs::write(&path, &gz).unwrap();
    assert_eq!(
        decode_workout_file(&path).unwrap(),
        decode_workout_bytes(&plain).unwrap()
    );
}

#[test]
fn crc_damage_is_a_warning_and_values_are_kept() {
    let mut bytes = sample_bytes();
    let n = bytes.len();
    bytes[n - 1] ^= 0xFF; // the file CRC itself
    let w = decode_workout_bytes(&bytes).unwrap();
    assert_eq!(w.steps, expected_steps());
    assert_eq!(w.warnings.len(), 1, "{:?}", w.warnings);
    assert!(
        w.warnings[0].contains("CRC of FIT file 1"),
        "{:?}",
        w.warnings
    );
}

#[test]
fn truncation_keeps_the_steps_read_and_says_so() {
    let bytes = sample_bytes();
    // Cut inside the last step message (the CRC is 2 bytes, the last step a few more).
    let cut = &bytes[..bytes.len() - 5];
    let w = decode_workout_bytes(cut).unwrap();
    assert!(w.truncated);
    assert_eq!(w.steps, expected_steps()[..5]);
    assert!(
        w.warnings
            .iter()
            .any(|m| m.contains("kept the 5 workout steps read before the break")),
        "{:?}",
        w.warnings
    );
}

#[test]
fn corrupt_and_non_workout_data_are_errors() {
    let mut bytes = sample_bytes();
    // The first message after the 14-byte header is a definition; make it a data message for
    // an undefined local type.
    bytes[14] = 0x05;
    let err = decode_workout_bytes(&bytes).unwrap_err();
    assert!(matches!(err, FitError::Corrupt { offset: 14, .. }), "{err}");

    // An activity file is not a workout.
    let activity = ride::fit_encode::ActivityWriter::new(created(), FitSport::ROAD_CYCLING)
        .unwrap()
        .finish()
        .unwrap();
    let err = decode_workout_bytes(&activity).unwrap_err();
    assert!(err.to_string().contains("not a workout"), "{err}");
    assert!(err.to_string().contains("`activity`"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.fit");
    std::fs::write(&path, b"nope").unwrap();
    let msg = decode_workout_file(&path).unwrap_err().to_string();
    assert!(
        msg.contains("broken.fit") && msg.contains("byte 0"),
        "{msg}"
    );
}
