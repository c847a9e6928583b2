//! TCX and GPX files written from real FIT series decode back to the same ride: for each power
//! fixture, the FIT decoder's records are written as `.tcx`, `.tcx.gz`, `.gpx` and `.gpx.gz` in a
//! temporary directory (`ride::track_write`), decoded again, and summarised. Acceptance (issue 10):
//! NP within 1.5 W of the FIT path on the same series; timer time and distance within a small
//! tolerance. GPX distance is the haversine sum of positions, hence its looser bound.
//!
//! Lives in `metrics` because it needs both the decoders and the summary. Skips with a message
//! when `../shared/fixtures` is absent (a fresh clone).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use metrics::{ActivitySummary, Thresholds, summarize};
use ride::Activity;

fn fixtures() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/fit"
    ));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        eprintln!("skipping: fixtures absent ({})", dir.display());
        None
    }
}

const FILES: &[&str] = &[
    "python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit",
    "python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit",
    "python-fitparse/sample-activity-indoor-trainer.fit",
    "fitparse-rs/hrv-activity.fit",
    "sweatpy/6449921903_ACTIVITY.fit",
    "sweatpy/2020-06-01-16-52-40.fit",
];

fn summary(a: &Activity) -> ActivitySummary {
    let th = Thresholds {
        ftp_w: Some(250.0),
        lthr_bpm: Some(160.0),
        ..Thresholds::default()
    };
    summarize(a, &th, &jiff::tz::TimeZone::UTC)
}

fn gz(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

#[test]
fn tcx_and_gpx_written_from_fit_series_give_the_fit_numbers() {
    let Some(dir) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for file in FILES {
        let fit = ride::fit::decode_file(&dir.join(file)).unwrap();
        let want = summary(&fit);
        let tcx = ride::track_write::write_tcx(&fit);
        let gpx = ride::track_write::write_gpx(&fit);
        let stem = file.replace('/', "_");
        let written = [
            (format!("{stem}.tcx"), tcx.clone().into_bytes()),
            (format!("{stem}.tcx.gz"), gz(&tcx)),
            (format!("{stem}.gpx"), gpx.clone().into_bytes()),
            (format!("{stem}.gpx.gz"), gz(&gpx)),
        ];
        for (name, bytes) in written {
            let path = tmp.path().join(&name);
            std::fs::write(&path, bytes).unwrap();
            let back =
                ride::activity_file::decode_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            let got = summary(&back);
            assert_eq!(back.records.len(), fit.records.len(), "{name}");
            assert_eq!(got.start_time, want.start_time, "{name}");
            assert_eq!(got.sport.sport, want.sport.sport, "{name}");
            let (np_fit, np) = (want.np_w.unwrap(), got.np_w.unwrap());
            eprintln!(
                "{name}: NP FIT {np_fit:.2} W, here {np:.2} W; timer {:.0} / {:.0} s; distance \
                 {:?} / {:?} m",
                want.timer_s, got.timer_s, want.distance_m, got.distance_m
            );
            assert!(
                (np - np_fit).abs() <= 1.5,
                "{name}: NP {np} vs FIT {np_fit}"
            );
            assert_eq!(
                got.power_zones_s.is_some(),
                want.power_zones_s.is_some(),
                "{name}"
            );
            assert_eq!(
                got.power_curve.is_some(),
                want.power_curve.is_some(),
                "{name}"
            );
            let is_gpx = name.contains(".gpx");
            if !is_gpx {
                assert_eq!(back.laps.len(), fit.laps.len().max(1), "{name}: laps");
            }
            // TCX carries the laps' timer time; GPX only the points (timer = series length).
            let timer_tol = if is_gpx {
                0.02 * want.timer_s + 2.0
            } else {
                1.0
            };
            assert!(
                (got.timer_s - want.timer_s).abs() <= timer_tol,
                "{name}: timer {} vs {}",
                got.timer_s,
                want.timer_s
            );
            let has_positions = fit.records.iter().any(|r| r.lat_deg.is_some());
            match (want.distance_m, got.distance_m) {
                (Some(w), Some(g)) if !is_gpx => {
                    assert!((g - w).abs() <= 0.001 * w + 1.0, "{name}: {g} vs {w} m")
                }
                (Some(w), Some(g)) => {
                    assert!((g - w).abs() <= 0.02 * w + 10.0, "{name}: {g} vs {w} m")
                }
                (Some(_), None) => assert!(is_gpx && !has_positions, "{name}: distance lost"),
                (None, _) => {}
            }
        }
    }
}
