//! Our FIT writer checked against an independent decoder (`fitparser`) and an independent CRC.

use std::collections::HashMap;

use fitparser::profile::MesgNum;
use fitparser::{FitDataRecord, Value};
use jiff::Timestamp;
use ride::fit_encode::{
    ActivityWriter, DeviceIdent, FitSport, StepDuration, StepIntensity, StepTarget, WorkoutStep,
    WorkoutWriter, Zones,
};
use ride::model::{Lap, Record, Session, TimerEvent, TimerEventKind};

/// CRC-16/ARC computed bit by bit: a different algorithm from the writer's nibble table.
fn crc_bitwise(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn fields(msg: &FitDataRecord) -> HashMap<String, Value> {
    let mut m = HashMap::new();
    for f in msg.fields() {
        m.entry(f.name().to_owned())
            .or_insert_with(|| f.value().clone());
    }
    m
}

fn num(m: &HashMap<String, Value>, name: &str) -> f64 {
    let v = m
        .get(name)
        .unwrap_or_else(|| panic!("field {name} missing in {m:?}"));
    TryInto::<f64>::try_into(v.clone()).unwrap_or_else(|e| panic!("field {name}: {e}"))
}

fn text(m: &HashMap<String, Value>, name: &str) -> String {
    match m.get(name) {
        Some(Value::String(s)) => s.clone(),
        other => panic!("field {name} is not a string: {other:?}"),
    }
}

const T0: i64 = 1_715_594_082; // 2024-05-13T09:54:42Z

fn sample_records() -> Vec<Record> {
    let mut out = Vec::new();
    let mut dist = 0.0;
    for i in 0..600i64 {
        // A 60 s pause between 300 and 360: no records, as auto-pause leaves it.
        if (300..360).contains(&i) {
            continue;
        }
        let speed = 8.0 + (i as f32 * 0.05).sin() * 2.0;
        dist += f64::from(speed);
        out.push(Record {
            t: T0 + i,
            power_w: if i % 97 == 0 {
                None
            } else {
                Some((180 + (i * 7) % 150) as u16)
            },
            heart_rate_bpm: Some((110 + i / 10) as u8),
            cadence_rpm: if i % 50 == 0 { Some(0) } else { Some(88) },
            speed_mps: Some(speed),
            distance_m: Some(dist),
            altitude_m: Some(120.0 + (i as f32) * 0.37),
            lat_deg: Some(41.98 + i as f64 * 1e-5),
            lon_deg: Some(2.82 - i as f64 * 2e-5),
            temperature_c: Some(if i < 100 { -3 } else { 18 }),
        });
    }
    out
}

fn sample_session() -> Session {
    Session {
        start_time: Some(Timestamp::from_second(T0).unwrap()),
        fit_sport: Some("cycling".into()),
        fit_sub_sport: Some("road".into()),
        total_elapsed_time_s: Some(600.0),
        total_timer_time_s: Some(540.0),
        total_distance_m: Some(4321.57),
        total_ascent_m: Some(222.0),
        total_work_j: Some(123_456.0),
        avg_power_w: Some(251.0),
        max_power_w: Some(329.0),
        normalized_power_w: Some(262.0),
        training_stress_score: Some(17.3),
        intensity_factor: Some(1.048),
        threshold_power_w: Some(250.0),
        avg_heart_rate_bpm: Some(137.0),
        max_heart_rate_bpm: Some(169.0),
        avg_cadence_rpm: Some(87.0),
        avg_speed_mps: Some(7.998),
        max_speed_mps: Some(10.0),
        total_calories_kcal: Some(130.0),
        ..Default::default()
    }
}

fn write_sample() -> (Vec<u8>, Vec<Record>) {
    let records = sample_records();
    let ident = DeviceIdent {
        serial_number: 1234567,
        software_version: Some(2.5),
        ..Default::default()
    };
    let zones = Zones {
        ftp_w: Some(250),
        max_hr_bpm: Some(186),
        threshold_hr_bpm: Some(168),
    };
    let mut w = ActivityWriter::with_device(
        Timestamp::from_second(T0).unwrap(),
        FitSport::ROAD_CYCLING,
        &ident,
        zones,
    )
    .unwrap();
    for r in &records {
        if r.t == T0 + 360 {
            w.timer_event(&TimerEvent {
                t: T0 + 300,
                kind: TimerEventKind::Stop,
            })
            .unwrap();
            w.timer_event(&TimerEvent {
                t: T0 + 360,
                kind: TimerEventKind::Start,
            })
            .unwrap();
        }
        w.record(r).unwrap();
    }
    w.lap(&Lap {
        start_time: Some(Timestamp::from_second(T0).unwrap()),
        end_time: Some(Timestamp::from_second(T0 + 599).unwrap()),
        total_elapsed_time_s: Some(600.0),
        total_timer_time_s: Some(540.0),
        total_distance_m: Some(4321.57),
        avg_power_w: Some(251.0),
        normalized_power_w: Some(262.0),
        avg_heart_rate_bpm: Some(137.0),
        ..Default::default()
    })
    .unwrap();
    w.session(&sample_session()).unwrap();
    assert_eq!(w.record_count(), 540);
    (w.finish().unwrap(), records)
}

#[test]
fn header_and_file_crc_verify_independently() {
    let (bytes, _) = write_sample();
    assert_eq!(bytes[0], 14);
    assert_eq!(bytes[1], 0x20);
    assert_eq!(u16::from_le_bytes([bytes[2], bytes[3]]), 2132);
    let data_size = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(data_size, bytes.len() - 14 - 2);
    assert_eq!(&bytes[8..12], b".FIT");
    assert_eq!(
        u16::from_le_bytes([bytes[12], bytes[13]]),
        crc_bitwise(&bytes[..12])
    );
    let n = bytes.len();
    assert_eq!(
        u16::from_le_bytes([bytes[n - 2], bytes[n - 1]]),
        crc_bitwise(&bytes[..n - 2])
    );
    // A CRC over the whole file including its trailing CRC is 0 for a valid file.
    assert_eq!(crc_bitwise(&bytes), 0);
}

#[test]
fn activity_decodes_with_fitparser_to_the_same_values() {
    let (bytes, records) = write_sample();
    let msgs = fitparser::from_bytes(&bytes).expect("fitparser decodes (and checks the CRCs)");

    let decoded: Vec<_> = msgs
        .iter()
        .filter(|m| m.kind() == MesgNum::Record)
        .map(fields)
        .collect();
    assert_eq!(decoded.len(), records.len());
    for (d, r) in decoded.iter().zip(&records) {
        let ts: i64 = d["timestamp"].clone().try_into().unwrap();
        assert_eq!(ts, r.t);
        match r.power_w {
            Some(p) => assert_eq!(num(d, "power"), f64::from(p)),
            None => assert!(
                !d.contains_key("power"),
                "record {} has power but none was written",
                r.t
            ),
        }
        assert_eq!(num(d, "heart_rate"), f64::from(r.heart_rate_bpm.unwrap()));
        assert_eq!(num(d, "cadence"), f64::from(r.cadence_rpm.unwrap()));
        // The writer uses only the 32-bit enhanced fields for speed and altitude.
        assert!(!d.contains_key("speed") && !d.contains_key("altitude"));
        assert!(
            (num(d, "enhanced_speed") - f64::from(r.speed_mps.unwrap())).abs() <= 0.0005 + 1e-9
        );
        assert!((num(d, "distance") - r.distance_m.unwrap()).abs() <= 0.005 + 1e-9);
        assert!(
            (num(d, "enhanced_altitude") - f64::from(r.altitude_m.unwrap())).abs() <= 0.1 + 1e-6
        );
        assert_eq!(num(d, "temperature"), f64::from(r.temperature_c.unwrap()));
        let lat = num(d, "position_lat") * 180.0 / 2f64.powi(31);
        let lon = num(d, "position_long") * 180.0 / 2f64.powi(31);
        assert!((lat - r.lat_deg.unwrap()).abs() < 1e-7);
        assert!((lon - r.lon_deg.unwrap()).abs() < 1e-7);
    }

    let sessions: Vec<_> = msgs
        .iter()
        .filter(|m| m.kind() == MesgNum::Session)
        .map(fields)
        .collect();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!(text(s, "sport"), "cycling");
    assert_eq!(text(s, "sub_sport"), "road");
    let start: i64 = s["start_time"].clone().try_into().unwrap();
    assert_eq!(start, T0);
    assert_eq!(num(s, "total_elapsed_time"), 600.0);
    assert_eq!(num(s, "total_timer_time"), 540.0);
    assert!((num(s, "total_distance") - 4321.57).abs() < 1e-9);
    assert_eq!(num(s, "avg_power"), 251.0);
    assert_eq!(num(s, "max_power"), 329.0);
    assert_eq!(num(s, "normalized_power"), 262.0);
    assert!((num(s, "training_stress_score") - 17.3).abs() < 1e-9);
    assert!((num(s, "intensity_factor") - 1.048).abs() < 1e-9);
    assert_eq!(num(s, "threshold_power"), 250.0);
    assert_eq!(num(s, "avg_heart_rate"), 137.0);
    assert_eq!(num(s, "max_heart_rate"), 169.0);
    assert_eq!(num(s, "total_ascent"), 222.0);
    assert_eq!(num(s, "total_work"), 123_456.0);
    assert_eq!(num(s, "num_laps"), 1.0);

    let laps: Vec<_> = msgs
        .iter()
        .filter(|m| m.kind() == MesgNum::Lap)
        .map(fields)
        .collect();
    assert_eq!(laps.len(), 1);
    assert_eq!(num(&laps[0], "normalized_power"), 262.0);
    assert_eq!(num(&laps[0], "avg_heart_rate"), 137.0);
    let lap_end: i64 = laps[0]["timestamp"].clone().try_into().unwrap();
    assert_eq!(lap_end, T0 + 599);

    let file_id = fields(msgs.iter().find(|m| m.kind() == MesgNum::FileId).unwrap());
    assert_eq!(text(&file_id, "type"), "activity");
    assert_eq!(num(&file_id, "serial_number"), 1_234_567.0);
    let zones = fields(
        msgs.iter()
            .find(|m| m.kind() == MesgNum::ZonesTarget)
            .unwrap(),
    );
    assert_eq!(num(&zones, "functional_threshold_power"), 250.0);
    assert_eq!(num(&zones, "threshold_heart_rate"), 168.0);

    // Timer events: start, stop (pause), start (resume), stop_all before the session.
    let events: Vec<(String, i64)> = msgs
        .iter()
        .filter(|m| m.kind() == MesgNum::Event)
        .map(fields)
        .map(|e| {
            (
                text(&e, "event_type"),
                e["timestamp"].clone().try_into().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            ("start".to_owned(), T0),
            ("stop".to_owned(), T0 + 300),
            ("start".to_owned(), T0 + 360),
            ("stop_all".to_owned(), T0 + 600),
        ]
    );
    let activity = fields(msgs.iter().find(|m| m.kind() == MesgNum::Activity).unwrap());
    assert_eq!(num(&activity, "num_sessions"), 1.0);
    assert_eq!(num(&activity, "total_timer_time"), 540.0);
}

#[test]
fn writing_is_deterministic() {
    assert_eq!(write_sample().0, write_sample().0);
}

#[test]
fn many_layouts_reuse_local_numbers_without_confusing_the_decoder() {
    // 20 distinct record layouts force local message numbers to be rebound.
    let mut w = ActivityWriter::new(
        Timestamp::from_second(T0).unwrap(),
        FitSport::INDOOR_CYCLING,
    )
    .unwrap();
    let mut expect = Vec::new();
    for i in 0..200i64 {
        let k = i % 20;
        let r = Record {
            t: T0 + i,
            power_w: (k & 1 != 0).then_some(100 + i as u16),
            heart_rate_bpm: (k & 2 != 0).then_some(100),
            cadence_rpm: (k & 4 != 0).then_some(90),
            temperature_c: (k & 8 != 0).then_some(20),
            distance_m: (k & 16 != 0).then_some(i as f64),
            ..Default::default()
        };
        expect.push(r.power_w);
        w.record(&r).unwrap();
    }
    let bytes = w.finish().unwrap();
    let msgs = fitparser::from_bytes(&bytes).unwrap();
    let got: Vec<Option<u16>> = msgs
        .iter()
        .filter(|m| m.kind() == MesgNum::Record)
        .map(fields)
        .map(|f| {
            f.get("power")
                .map(|v| TryInto::<f64>::try_into(v.clone()).unwrap() as u16)
        })
        .collect();
    assert_eq!(got, expect);
}

#[test]
fn workout_decodes_to_the_same_steps() {
    let created = Timestamp::from_second(T0).unwrap();
    let bytes = WorkoutWriter::new("Sweet spot 3x15", FitSport::ROAD_CYCLING, created)
        .power_step(Some("Warm up"), 600.0, 50, 65, StepIntensity::Warmup)
        .repeat(
            3,
            vec![
                WorkoutStep::Step {
                    name: Some("Sweet spot".into()),
                    duration: StepDuration::Time(900.0),
                    target: StepTarget::PowerPercentFtp { low: 88, high: 94 },
                    intensity: StepIntensity::Interval,
                },
                WorkoutStep::Step {
                    name: None,
                    duration: StepDuration::Time(300.0),
                    target: StepTarget::PowerWatts {
                        low: 120,
                        high: 150,
                    },
                    intensity: StepIntensity::Recovery,
                },
            ],
        )
        .step(WorkoutStep::Step {
            name: Some("Cool down".into()),
            duration: StepDuration::Open,
            target: StepTarget::Open,
            intensity: StepIntensity::Cooldown,
        })
        .finish()
        .unwrap();
    let n = bytes.len();
    assert_eq!(
        u16::from_le_bytes([bytes[n - 2], bytes[n - 1]]),
        crc_bitwise(&bytes[..n - 2])
    );

    let msgs = fitparser::from_bytes(&bytes).unwrap();
    let file_id = fields(msgs.iter().find(|m| m.kind() == MesgNum::FileId).unwrap());
    assert_eq!(text(&file_id, "type"), "workout");
    let wk = fields(msgs.iter().find(|m| m.kind() == MesgNum::Workout).unwrap());
    assert_eq!(text(&wk, "wkt_name"), "Sweet spot 3x15");
    assert_eq!(text(&wk, "sport"), "cycling");
    assert_eq!(num(&wk, "num_valid_steps"), 5.0);

    let steps: Vec<_> = msgs
        .iter()
        .filter(|m| m.kind() == MesgNum::WorkoutStep)
        .map(fields)
        .collect();
    assert_eq!(steps.len(), 5);
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(num(s, "message_index"), i as f64);
    }
    // fitparser names sub-fields by the reference field: duration_time (s), custom_target_power_*.
    assert_eq!(text(&steps[0], "wkt_step_name"), "Warm up");
    assert_eq!(text(&steps[0], "duration_type"), "time");
    assert_eq!(num(&steps[0], "duration_time"), 600.0);
    assert_eq!(text(&steps[0], "target_type"), "power");
    assert_eq!(num(&steps[0], "custom_target_power_low"), 50.0);
    assert_eq!(num(&steps[0], "custom_target_power_high"), 65.0);
    assert_eq!(text(&steps[0], "intensity"), "warmup");
    assert_eq!(num(&steps[1], "duration_time"), 900.0);
    assert_eq!(num(&steps[1], "custom_target_power_low"), 88.0);
    assert_eq!(num(&steps[1], "custom_target_power_high"), 94.0);
    assert_eq!(text(&steps[1], "intensity"), "interval");
    assert_eq!(num(&steps[2], "custom_target_power_low"), 1120.0);
    assert_eq!(num(&steps[2], "custom_target_power_high"), 1150.0);
    assert_eq!(text(&steps[3], "duration_type"), "repeat_until_steps_cmplt");
    assert_eq!(num(&steps[3], "duration_step"), 1.0);
    assert_eq!(num(&steps[3], "repeat_steps"), 3.0);
    assert_eq!(text(&steps[4], "duration_type"), "open");
    assert_eq!(text(&steps[4], "target_type"), "open");
    assert_eq!(text(&steps[4], "intensity"), "cooldown");
}

#[test]
fn activity_round_trips_through_our_decoder() {
    let (bytes, records) = write_sample();
    let act = ride::fit::decode_bytes(&bytes).expect("ride::fit decodes what fit_encode writes");
    assert!(
        act.warnings.is_empty(),
        "unexpected warnings: {:?}",
        act.warnings
    );
    assert!(!act.truncated);
    assert_eq!(act.records.len(), records.len());
    for (d, r) in act.records.iter().zip(&records) {
        assert_eq!(d.t, r.t);
        assert_eq!(d.power_w, r.power_w);
        assert_eq!(d.heart_rate_bpm, r.heart_rate_bpm);
        assert_eq!(d.cadence_rpm, r.cadence_rpm);
        assert_eq!(d.temperature_c, r.temperature_c);
        assert!(
            (d.speed_mps.unwrap() - r.speed_mps.unwrap()).abs() <= 0.0005 + 1e-6,
            "t {}: speed {:?} vs {:?}",
            r.t,
            d.speed_mps,
            r.speed_mps
        );
        assert!((d.distance_m.unwrap() - r.distance_m.unwrap()).abs() <= 0.005 + 1e-9);
        assert!((d.altitude_m.unwrap() - r.altitude_m.unwrap()).abs() <= 0.1 + 1e-4);
        assert!((d.lat_deg.unwrap() - r.lat_deg.unwrap()).abs() < 1e-7);
        assert!((d.lon_deg.unwrap() - r.lon_deg.unwrap()).abs() < 1e-7);
    }
    assert_eq!(act.sessions.len(), 1);
    let s = &act.sessions[0];
    let want = sample_session();
    assert_eq!(s.start_time, want.start_time);
    assert_eq!(s.fit_sport.as_deref(), Some("cycling"));
    assert_eq!(s.fit_sub_sport.as_deref(), Some("road"));
    assert_eq!(s.total_timer_time_s, Some(540.0));
    assert_eq!(s.avg_power_w, Some(251.0));
    assert_eq!(s.normalized_power_w, Some(262.0));
    assert!((s.training_stress_score.unwrap() - 17.3).abs() < 1e-9);
    assert!((s.intensity_factor.unwrap() - 1.048).abs() < 1e-9);
    assert_eq!(s.threshold_power_w, Some(250.0));
    assert_eq!(s.total_work_j, Some(123_456.0));
    assert_eq!(act.threshold_power_w, Some(250));
    assert_eq!(act.laps.len(), 1);
    assert_eq!(
        act.timer_events
            .iter()
            .map(|e| (e.kind, e.t))
            .collect::<Vec<_>>(),
        vec![
            (TimerEventKind::Start, T0),
            (TimerEventKind::Stop, T0 + 300),
            (TimerEventKind::Start, T0 + 360),
            (TimerEventKind::StopAll, T0 + 600),
        ]
    );
}
