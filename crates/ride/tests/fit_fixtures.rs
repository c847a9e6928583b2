//! The FIT decoder against real device files (`../shared/fixtures/fit`, see its README): counts
//! and device-written values from the fixture table, field-by-field CSV oracles, a differential
//! test against `fitparser`, and damage (CRC flips, cuts, gzip).
//!
//! Every test skips with a message when the fixtures are absent (a fresh clone).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use ride::fit::{self, FIT_EPOCH_OFFSET, FitError};
use ride::{Activity, Environment, Sport, SportKind, TimerEventKind};

fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/fit"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: fixtures absent ({} not found)", dir.display());
        None
    }
}

fn decode(dir: &Path, name: &str) -> Activity {
    fit::decode_file(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// One row of the fixture README's table.
struct Expect {
    file: &'static str,
    records: usize,
    /// Records carrying power / heart rate, when the table gives them.
    power_hr: Option<(usize, usize)>,
    messages: Option<usize>,
    sport: Option<SportKind>,
}

const fn row(file: &'static str, records: usize) -> Expect {
    Expect {
        file,
        records,
        power_hr: None,
        messages: None,
        sport: None,
    }
}

const fn ride(env: Environment) -> SportKind {
    SportKind::with_env(Sport::Ride, env)
}

fn table() -> Vec<Expect> {
    use Environment::{Indoor, Outdoor, Virtual};
    vec![
        Expect {
            power_hr: Some((4700, 4671)),
            sport: Some(ride(Outdoor)),
            ..row(
                "python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit",
                4700,
            )
        },
        Expect {
            power_hr: Some((13346, 13402)),
            ..row(
                "python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit",
                13471,
            )
        },
        Expect {
            power_hr: Some((2222, 2263)),
            ..row("python-fitparse/sample-activity-indoor-trainer.fit", 2263)
        },
        Expect {
            power_hr: Some((115, 0)),
            ..row(
                "python-fitparse/elemnt-bolt-no-application-id-inside-developer-data-id.fit",
                132,
            )
        },
        Expect {
            power_hr: Some((1808, 1808)),
            sport: Some(ride(Virtual)),
            ..row("python-fitparse/null_compressed_speed_dist.fit", 1808)
        },
        Expect {
            power_hr: Some((1071, 1072)),
            messages: Some(2260),
            sport: Some(ride(Indoor)),
            ..row("fitparse-rs/hrv-activity.fit", 1072)
        },
        Expect {
            power_hr: Some((192, 199)),
            ..row("sweatpy/6449921903_ACTIVITY.fit", 199)
        },
        Expect {
            power_hr: Some((95, 96)),
            ..row("sweatpy/2020-06-01-16-52-40.fit", 96)
        },
        Expect {
            power_hr: Some((0, 5159)),
            ..row("sweatpy/4801048867.fit", 5159)
        },
        Expect {
            power_hr: Some((0, 10686)),
            ..row("python-fitparse/garmin-edge-500-activity.fit", 10686)
        },
        Expect {
            power_hr: Some((0, 3098)),
            ..row("python-fitparse/sample-activity.fit", 3098)
        },
        Expect {
            power_hr: Some((0, 0)),
            ..row("python-fitparse/2015-10-13-08-43-15.fit", 221)
        },
        Expect {
            power_hr: Some((0, 19)),
            messages: Some(143),
            ..row("python-fitparse/garmin-fenix-5-bike.fit", 19)
        },
        Expect {
            power_hr: Some((0, 24227)),
            ..row(
                "python-fitparse/activity-large-fenxi2-multisport.fit",
                24239,
            )
        },
        Expect {
            sport: Some(SportKind::new(Sport::Run)),
            ..row("python-fitparse/activity-small-fenix2-run.fit", 2809)
        },
        Expect {
            sport: Some(SportKind::new(Sport::Run)),
            ..row("python-fitparse/2013-02-06-12-11-14.fit", 590)
        },
        row("python-fitparse/garmin-fenix-5-run.fit", 21),
        Expect {
            messages: Some(3023),
            ..row("python-fitparse/sample_mulitple_header.fit", 1773)
        },
        row("python-fitparse/compressed-speed-distance.fit", 755),
        Expect {
            power_hr: Some((0, 1641)),
            sport: Some(SportKind::with_env(Sport::Rowing, Indoor)),
            ..row("python-fitparse/20170518-191602-1740899583.fit", 1641)
        },
        Expect {
            sport: Some(SportKind::with_env(Sport::Swim, Indoor)),
            ..row("python-fitparse/event_timestamp.fit", 4376)
        },
        Expect {
            power_hr: Some((0, 8946)),
            messages: Some(11293),
            ..row(
                "python-fitparse/coros-pace-2-cycling-misaligned-fields.fit",
                11272,
            )
        },
    ]
}

#[test]
fn fixture_table_counts_and_sports() {
    let Some(dir) = fixtures() else { return };
    for e in table() {
        let a = decode(&dir, e.file);
        assert_eq!(a.records.len(), e.records, "{}: records", e.file);
        assert!(
            !a.truncated,
            "{}: not truncated; warnings {:?}",
            e.file, a.warnings
        );
        if let Some((p, hr)) = e.power_hr {
            let with_p = a.records.iter().filter(|r| r.power_w.is_some()).count();
            let with_hr = a
                .records
                .iter()
                .filter(|r| r.heart_rate_bpm.is_some())
                .count();
            assert_eq!(
                (with_p, with_hr),
                (p, hr),
                "{}: records with power / HR",
                e.file
            );
        }
        if let Some(m) = e.messages {
            assert_eq!(a.message_count, m, "{}: messages", e.file);
        }
        if let Some(s) = e.sport {
            assert_eq!(a.sport(), s, "{}: sport", e.file);
        }
        // Timestamps never run backwards by more than a clock correction, and are real dates.
        let first = a.records.first().unwrap().t;
        assert!(first > 0, "{}: first record time {first}", e.file);
        // No NaN or infinity can leave the decoder.
        for r in &a.records {
            assert!(r.speed_mps.is_none_or(f32::is_finite), "{}", e.file);
            assert!(r.altitude_m.is_none_or(f32::is_finite), "{}", e.file);
            assert!(
                r.lat_deg.is_none_or(|v| (-90.0..=90.0).contains(&v)),
                "{}",
                e.file
            );
            assert!(
                r.lon_deg.is_none_or(|v| (-180.0..=180.0).contains(&v)),
                "{}",
                e.file
            );
        }
    }
}

#[test]
fn edge810_session_holds_the_device_values() {
    let Some(dir) = fixtures() else { return };
    let a = decode(
        &dir,
        "python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit",
    );
    assert!(
        a.warnings.is_empty(),
        "header CRC 0 is valid, got {:?}",
        a.warnings
    );
    assert_eq!(a.sessions.len(), 1);
    let s = &a.sessions[0];
    assert_eq!(s.fit_sport.as_deref(), Some("cycling"));
    assert_eq!(s.avg_power_w, Some(276.0));
    assert_eq!(s.normalized_power_w, Some(301.0));
    assert_eq!(s.training_stress_score, Some(118.7));
    assert_eq!(s.intensity_factor, Some(0.956));
    assert_eq!(s.threshold_power_w, Some(315.0));
    // The README's "4700 / 4700" are rounded; the device wrote milliseconds.
    assert!(
        s.total_timer_time_s
            .is_some_and(|v| (v - 4700.0).abs() < 1.0),
        "{s:?}"
    );
    assert!(
        s.total_elapsed_time_s
            .is_some_and(|v| (v - 4700.0).abs() < 1.0),
        "{s:?}"
    );
    assert_eq!(a.threshold_power_w, Some(315));
    assert_eq!(a.laps.len(), 8);
    assert!(
        a.laps.iter().all(|l| l.normalized_power_w.is_some()),
        "per-lap NP"
    );
    let id = a.file_id.as_ref().unwrap();
    assert_eq!(id.manufacturer.as_deref(), Some("garmin"));
    assert_eq!(id.file_type.as_deref(), Some("activity"));
    // 2013-08-16 15:35:10 local time: the start must be on that day (UTC within ±14 h).
    let start = a.start_time().unwrap();
    assert!(start.to_string().starts_with("2013-08-16"), "{start}");
    assert!(
        a.timer_events
            .iter()
            .any(|e| e.kind == TimerEventKind::Start)
    );
    assert!(!a.devices.is_empty());
}

#[test]
fn elemnt_and_trainer_sessions() {
    let Some(dir) = fixtures() else { return };
    let a = decode(
        &dir,
        "python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit",
    );
    let s = &a.sessions[0];
    assert_eq!(
        (
            s.avg_power_w,
            s.normalized_power_w,
            s.training_stress_score,
            s.intensity_factor
        ),
        (Some(102.0), Some(157.0), Some(190.0), Some(0.713))
    );
    assert_eq!(a.threshold_power_w, Some(220));
    assert_eq!(s.avg_speed_mps, Some(5.86));
    // Many auto-pauses: stops and starts alternate.
    let stops = a
        .timer_events
        .iter()
        .filter(|e| e.kind == TimerEventKind::Stop)
        .count();
    assert!(stops > 10, "{stops} timer stops");

    let a = decode(&dir, "python-fitparse/sample-activity-indoor-trainer.fit");
    assert_eq!(a.threshold_power_w, Some(250));
    assert_eq!(a.sessions[0].normalized_power_w, Some(228.0));
    assert_eq!(a.laps.len(), 5);

    let a = decode(&dir, "fitparse-rs/hrv-activity.fit");
    assert_eq!(a.sessions[0].normalized_power_w, Some(250.0));
    assert_eq!(a.threshold_power_w, Some(248));
    assert_eq!(a.laps.len(), 15);
}

#[test]
fn multisport_file_keeps_every_session() {
    let Some(dir) = fixtures() else { return };
    let a = decode(&dir, "python-fitparse/activity-large-fenxi2-multisport.fit");
    assert!(a.sessions.len() >= 2, "{} sessions", a.sessions.len());
    assert!(
        a.sessions
            .iter()
            .all(|s| s.fit_sport.is_some() && s.sport.is_some())
    );
    let starts: Vec<_> = a.sessions.iter().map(|s| s.start_time.unwrap()).collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "sessions in file order: {starts:?}"
    );
}

#[test]
fn coros_device_summary_is_read_as_written() {
    let Some(dir) = fixtures() else { return };
    let a = decode(
        &dir,
        "python-fitparse/coros-pace-2-cycling-misaligned-fields.fit",
    );
    assert_eq!(
        a.sessions[0].avg_power_w,
        Some(0.0),
        "the device wrote 0 W; we report it as is"
    );
    assert_eq!(a.sport().sport, Sport::Ride);
}

#[test]
fn truncated_nick_keeps_what_was_recorded() {
    let Some(dir) = fixtures() else { return };
    let a = decode(&dir, "python-fitparse/nick.fit");
    assert!(a.truncated);
    assert_eq!(a.records.len(), 14_391);
    assert!(a.sessions.is_empty());
    // No session: the sport comes from the `sport` message.
    assert_eq!(a.sport_settings.len(), 1);
    assert_eq!(a.sport_settings[0].fit_sport.as_deref(), Some("cycling"));
    assert_eq!(a.sport(), SportKind::new(Sport::Ride));
    assert_eq!(
        a.file_id.as_ref().unwrap().manufacturer.as_deref(),
        Some("sigmasport")
    );
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("kept the 14391 records")),
        "{:?}",
        a.warnings
    );
}

#[test]
fn strava_app_file_is_rejected_with_offset() {
    let Some(dir) = fixtures() else { return };
    let path = dir.join("python-fitparse/strava-android-app-201.10-b1218918.fit");
    let err = fit::decode_file(&path).unwrap_err();
    assert_eq!(err.offset(), Some(7471));
    let msg = err.to_string();
    assert!(
        msg.contains("strava-android-app-201.10-b1218918.fit"),
        "{msg}"
    );
    assert!(
        msg.ends_with("corrupt FIT data at byte 7471: local message 11 not defined"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// CSV oracles

fn semicircles(deg: f64) -> i64 {
    (deg * 2_147_483_648.0 / 180.0).round() as i64
}

/// "Sun Sep 25 06:00:22 PDT 2011" → instant (the dumps use US Pacific abbreviations).
fn parse_dump_time(s: &str) -> Timestamp {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, mon, day, hms, tz, year] = parts[..] else {
        panic!("timestamp {s:?}")
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == mon)
    .unwrap_or_else(|| panic!("month in {s:?}")) as i8
        + 1;
    let hms: Vec<i8> = hms.split(':').map(|v| v.parse().unwrap()).collect();
    let offset = match tz {
        "PDT" => -7,
        "PST" => -8,
        other => panic!("time zone {other} in {s:?}"),
    };
    let dt = jiff::civil::date(year.parse().unwrap(), month, day.parse().unwrap())
        .at(hms[0], hms[1], hms[2], 0);
    jiff::tz::Offset::constant(offset).to_timestamp(dt).unwrap()
}

fn opt<T: std::str::FromStr>(s: &str) -> Option<T>
where
    T::Err: std::fmt::Debug,
{
    let s = s.trim();
    (!s.is_empty() && s != "null").then(|| s.parse().unwrap())
}

fn close(a: Option<f64>, b: Option<f64>, tol: f64) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= tol,
        (None, None) => true,
        _ => false,
    }
}

/// Compare against a full-record dump with columns
/// timestamp,heart_rate,cadence,speed,distance,position_lat,position_long,altitude,temperature.
///
/// The dumps carry the last valid value forward where a record holds the invalid value (e.g. a
/// GPS dropout keeps the previous position, a silent cadence sensor the previous cadence); we
/// keep those fields missing. So a row must equal our value, or — where ours is missing — the
/// last value we decoded for that column. Returns how many cells were such carried values.
fn check_record_dump(dir: &Path, fit_name: &str, csv_name: &str) -> usize {
    let a = decode(dir, fit_name);
    let mut rdr = csv::Reader::from_path(dir.join(csv_name)).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        a.records.len(),
        "{csv_name}: one row per record"
    );
    const COLUMNS: [&str; 8] = [
        "heart_rate",
        "cadence",
        "speed",
        "distance",
        "position_lat",
        "position_long",
        "altitude",
        "temperature",
    ];
    // Tolerances: the dump prints the stored integers scaled (speed mm/s, distance cm,
    // altitude 0.2 m with float noise); positions are compared in integer semicircles.
    const TOLERANCE: [f64; 8] = [0.0, 0.0, 1e-3, 1e-6, 0.0, 0.0, 1e-3, 0.0];
    let mut last: [Option<f64>; 8] = [None; 8];
    let mut carried = 0;
    for (i, (row, r)) in rows.iter().zip(&a.records).enumerate() {
        let at = format!("{csv_name} row {}", i + 2);
        assert_eq!(r.t, parse_dump_time(&row[0]).as_second(), "{at}: timestamp");
        let ours: [Option<f64>; 8] = [
            r.heart_rate_bpm.map(f64::from),
            r.cadence_rpm.map(f64::from),
            r.speed_mps.map(f64::from),
            r.distance_m,
            r.lat_deg.map(semicircles).map(|v| v as f64),
            r.lon_deg.map(semicircles).map(|v| v as f64),
            r.altitude_m.map(f64::from),
            r.temperature_c.map(f64::from),
        ];
        for c in 0..8 {
            let theirs: Option<f64> = opt(&row[c + 1]);
            let expected = match ours[c] {
                Some(v) => Some(v),
                None => {
                    if theirs.is_some() {
                        carried += 1;
                    }
                    last[c]
                }
            };
            assert!(
                close(expected, theirs, TOLERANCE[c]),
                "{at}: {} ours {:?} (last {:?}) vs dump {:?}",
                COLUMNS[c],
                ours[c],
                last[c],
                theirs
            );
            if ours[c].is_some() {
                last[c] = ours[c];
            }
        }
    }
    eprintln!("{csv_name}: {carried} cells carried forward by the dump");
    carried
}

#[test]
fn edge500_matches_official_dump() {
    let Some(dir) = fixtures() else { return };
    let carried = check_record_dump(
        &dir,
        "python-fitparse/garmin-edge-500-activity.fit",
        "python-fitparse/garmin-edge-500-activity-records.csv",
    );
    // Invalid values are rare: most of the 10,686 × 8 cells are compared directly.
    assert!(carried < 2_000, "{carried} carried cells");
}

#[test]
fn fenix5_files_match_their_dumps() {
    let Some(dir) = fixtures() else { return };
    check_record_dump(
        &dir,
        "python-fitparse/garmin-fenix-5-bike.fit",
        "python-fitparse/garmin-fenix-5-bike-records.csv",
    );
    check_record_dump(
        &dir,
        "python-fitparse/garmin-fenix-5-run.fit",
        "python-fitparse/garmin-fenix-5-run-records.csv",
    );
}

/// Compressed timestamps and the accumulated 12-bit distance of `compressed_speed_distance`.
/// The CSV holds raw FIT timestamps (this FR70's clock was never set) and distance in 1/16 m;
/// rustyfit stores the expanded distance in the profile's centimetres, so 1/16-m fractions lose
/// up to 1 cm.
#[test]
fn compressed_speed_distance_matches_dump() {
    let Some(dir) = fixtures() else { return };
    let a = decode(&dir, "python-fitparse/compressed-speed-distance.fit");
    let by_time: std::collections::HashMap<i64, &ride::Record> = a
        .records
        .iter()
        .map(|r| (r.t - FIT_EPOCH_OFFSET, r))
        .collect();
    let mut rdr =
        csv::Reader::from_path(dir.join("python-fitparse/compressed-speed-distance-records.csv"))
            .unwrap();
    let mut rows = 0;
    for (i, row) in rdr.records().enumerate() {
        let row = row.unwrap();
        let at = format!("compressed-speed-distance-records.csv row {}", i + 2);
        let t: i64 = row[0].trim().parse().unwrap();
        let r = by_time
            .get(&t)
            .unwrap_or_else(|| panic!("{at}: no record at FIT time {t}"));
        assert_eq!(r.heart_rate_bpm, opt(&row[1]), "{at}: heart rate");
        let speed = r.speed_mps.map(f64::from);
        assert!(
            close(speed, opt(&row[2]), 1e-3),
            "{at}: speed {speed:?} vs {}",
            &row[2]
        );
        assert!(
            close(r.distance_m, opt(&row[3]), 0.01),
            "{at}: distance {:?} vs {}",
            r.distance_m,
            &row[3]
        );
        assert_eq!(r.cadence_rpm, opt(&row[4]), "{at}: cadence");
        rows += 1;
    }
    assert_eq!(rows, 754);
    // Distance accumulates across the 4096/16 = 256 m rollover of the compressed field.
    let last = a.records.iter().rev().find_map(|r| r.distance_m).unwrap();
    assert!(last > 10_000.0, "final distance {last}");
}

// ---------------------------------------------------------------------------------------------
// Differential test against fitparser

fn fp_number(v: &fitparser::Value) -> Option<f64> {
    use fitparser::Value as V;
    Some(match *v {
        V::UInt8(x) | V::Byte(x) | V::Enum(x) | V::UInt8z(x) => f64::from(x),
        V::UInt16(x) | V::UInt16z(x) => f64::from(x),
        V::UInt32(x) | V::UInt32z(x) => f64::from(x),
        V::SInt8(x) => f64::from(x),
        V::SInt16(x) => f64::from(x),
        V::SInt32(x) => f64::from(x),
        V::Float32(x) => f64::from(x),
        V::Float64(x) => x,
        _ => return None,
    })
}

#[test]
fn agrees_with_fitparser() {
    let Some(dir) = fixtures() else { return };
    for e in table() {
        let bytes = std::fs::read(dir.join(e.file)).unwrap();
        let ours = fit::decode_bytes(&bytes).unwrap();
        let theirs = fitparser::from_bytes(&bytes)
            .unwrap_or_else(|err| panic!("{}: fitparser: {err}", e.file));
        let records: Vec<_> = theirs
            .iter()
            .filter(|m| m.kind() == fitparser::profile::MesgNum::Record)
            .collect();
        assert_eq!(ours.records.len(), records.len(), "{}: records", e.file);
        let sum = |name: &str| -> f64 {
            records
                .iter()
                .flat_map(|m| m.fields())
                .filter(|f| f.name() == name)
                .filter_map(|f| fp_number(f.value()))
                .sum()
        };
        let our_power: f64 = ours
            .records
            .iter()
            .filter_map(|r| r.power_w)
            .map(f64::from)
            .sum();
        let our_hr: f64 = ours
            .records
            .iter()
            .filter_map(|r| r.heart_rate_bpm)
            .map(f64::from)
            .sum();
        assert_eq!(our_power, sum("power"), "{}: power sum", e.file);
        assert_eq!(our_hr, sum("heart_rate"), "{}: heart-rate sum", e.file);
    }
}

// ---------------------------------------------------------------------------------------------
// Damage

const SMALL: &str = "python-fitparse/garmin-fenix-5-bike.fit";

#[test]
fn flipped_crc_is_a_warning_not_an_error() {
    let Some(dir) = fixtures() else { return };
    let clean = std::fs::read(dir.join(SMALL)).unwrap();
    let reference = fit::decode_bytes(&clean).unwrap();
    assert!(reference.warnings.is_empty(), "{:?}", reference.warnings);

    let mut damaged = clean.clone();
    let n = damaged.len();
    damaged[n - 1] ^= 0xFF; // the stored file CRC
    let a = fit::decode_bytes(&damaged).unwrap();
    assert_eq!(a.records, reference.records);
    assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    assert!(
        a.warnings[0].starts_with("The CRC of FIT file 1"),
        "{}",
        a.warnings[0]
    );
    assert!(!a.truncated);
}

#[test]
fn gzip_round_trip_by_magic_not_name() {
    let Some(dir) = fixtures() else { return };
    let name = "python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit";
    let plain = decode(&dir, name);
    let bytes = std::fs::read(dir.join(name)).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();

    let tmp = tempfile::tempdir().unwrap();
    for file in ["ride.fit.gz", "misnamed.fit"] {
        let path = tmp.path().join(file);
        std::fs::write(&path, &gz).unwrap();
        assert_eq!(fit::decode_file(&path).unwrap(), plain, "{file}");
    }

    // A .fit.gz cut in the middle still gives the records before the cut.
    let cut = fit::decode_bytes(&gz[..gz.len() / 2]).unwrap();
    assert!(cut.truncated);
    assert!(cut.records.len() > 1000 && cut.records.len() < plain.records.len());
    assert_eq!(cut.records[..], plain.records[..cut.records.len()]);
    assert!(
        cut.warnings.iter().any(|w| w.contains("gzip")),
        "{:?}",
        cut.warnings
    );
}

/// Every prefix of a small file: no panic; either an error with an offset inside the data, or
/// the records read so far (a prefix of the full list), flagged truncated.
#[test]
fn every_cut_point_is_handled() {
    let Some(dir) = fixtures() else { return };
    let bytes = std::fs::read(dir.join(SMALL)).unwrap();
    let full = fit::decode_bytes(&bytes).unwrap();
    let mut errors = 0;
    for cut in 0..bytes.len() {
        match fit::decode_bytes(&bytes[..cut]) {
            Ok(a) => {
                assert!(a.truncated, "cut at {cut}: must be flagged");
                assert_eq!(
                    a.records[..],
                    full.records[..a.records.len()],
                    "cut at {cut}"
                );
            }
            Err(FitError::NotFit { offset, .. } | FitError::Corrupt { offset, .. }) => {
                assert!(offset as usize <= cut, "cut at {cut}: offset {offset}");
                errors += 1;
            }
            Err(other) => panic!("cut at {cut}: unexpected {other}"),
        }
    }
    // Only cuts before the first data message are errors.
    assert!(errors < 200, "{errors} of {} cuts were errors", bytes.len());
}

/// Every single-byte corruption of a small file (each byte inverted, then zeroed): no panic, and
/// any error points inside the data.
#[test]
fn every_single_byte_corruption_is_handled() {
    let Some(dir) = fixtures() else { return };
    let clean = std::fs::read(dir.join(SMALL)).unwrap();
    let (mut ok, mut err) = (0, 0);
    for at in 0..clean.len() {
        for value in [!clean[at], 0] {
            let mut bytes = clean.clone();
            bytes[at] = value;
            match fit::decode_bytes(&bytes) {
                Ok(_) => ok += 1,
                Err(e) => {
                    let offset = e
                        .offset()
                        .unwrap_or_else(|| panic!("byte {at}: {e} has no offset"));
                    assert!(offset as usize <= bytes.len(), "byte {at}: {e}");
                    err += 1;
                }
            }
        }
    }
    // Most damage lands in values (kept, with a CRC warning); some breaks the framing.
    assert!(ok > err, "{ok} decoded, {err} rejected");
}

mod random_damage {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Overwriting bytes anywhere never panics; errors carry an offset within the data.
        #[test]
        fn damaged_bytes_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let Some(dir) = fixtures() else { return Ok(()) };
            let mut bytes = std::fs::read(dir.join(SMALL)).unwrap();
            for (i, v) in edits {
                let at = i.index(bytes.len());
                bytes[at] = v;
            }
            match fit::decode_bytes(&bytes) {
                Ok(a) => prop_assert!(a.records.len() <= 1000),
                Err(e) => prop_assert!(e.offset().is_some_and(|o| o as usize <= bytes.len()), "{}", e),
            }
        }
    }
}
