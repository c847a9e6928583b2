//! Per-ride summary speed: a 6 h ride must summarise in a few ms.
//! Run: `cargo bench -p metrics --bench summarize`.

use metrics::{Thresholds, summarize};
use ride::{Activity, Record, Session, Sport, SportKind};

fn main() {
    divan::main();
}

/// 6 h at 1 Hz with varying power/HR/speed, a few auto-pauses and smart-recording gaps.
fn six_hour_ride() -> Activity {
    let mut records = Vec::with_capacity(21_600);
    let mut t = 1_700_000_000i64;
    for i in 0..21_600u32 {
        t += match i % 5000 {
            0 if i > 0 => 300, // pause
            _ if i % 97 == 0 => 4,
            _ => 1,
        };
        let p = 180 + ((i * 7919) % 260) as u16;
        records.push(Record {
            t,
            power_w: (i % 1000 != 0).then_some(p),
            heart_rate_bpm: Some(120 + (i % 50) as u8),
            cadence_rpm: Some(85),
            speed_mps: Some(8.0 + (i % 9) as f32 * 0.3),
            distance_m: Some(f64::from(i) * 8.0),
            altitude_m: Some(200.0 + ((i / 60) % 200) as f32),
            ..Default::default()
        });
    }
    Activity {
        records,
        sessions: vec![Session {
            sport: Some(SportKind::new(Sport::Ride)),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[divan::bench]
fn summarize_6h(bencher: divan::Bencher) {
    let a = six_hour_ride();
    let th = Thresholds {
        ftp_w: Some(260.0),
        lthr_bpm: Some(165.0),
        max_hr_bpm: Some(190.0),
        resting_hr_bpm: Some(50.0),
        sex: None,
    };
    let tz = jiff::tz::TimeZone::UTC;
    bencher.bench_local(|| summarize(divan::black_box(&a), &th, &tz));
}
