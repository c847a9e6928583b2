//! The importer against real device files and a real Strava export (read from
//! `../shared/fixtures`, copied into temporary directories where a layout is needed).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ride::Sport;
use ride::profile::Profile;
use store::{ImportSource, Store, StoreError, import};

fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: fixtures absent ({})", dir.display());
        None
    }
}

fn fit(fx: &Path, name: &str) -> PathBuf {
    let p = fx.join("fit").join(name);
    assert!(p.is_file(), "{}", p.display());
    p
}

fn profile() -> Profile {
    Profile {
        name: "test".into(),
        ftp_w: Some(300.0),
        lthr_bpm: Some(165),
        max_hr_bpm: Some(190),
        ..Default::default()
    }
}

fn gzip_to(src: &Path, dst: &Path) {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&std::fs::read(src).unwrap()).unwrap();
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::write(dst, enc.finish().unwrap()).unwrap();
}

fn no_progress(_: store::ImportProgress) {}

const EDGE810: &str = "python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit";
const TRAINER: &str = "python-fitparse/sample-activity-indoor-trainer.fit";
const EDGE1000: &str = "sweatpy/2020-06-01-16-52-40.fit";
const CORRUPT: &str = "python-fitparse/strava-android-app-201.10-b1218918.fit";
const NICK: &str = "python-fitparse/nick.fit";
const FENIX_BIKE: &str = "python-fitparse/garmin-fenix-5-bike.fit";

#[test]
fn fit_dir_imports_once_dedupes_gz_twins_and_rerun_decodes_nothing() {
    let Some(fx) = fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rides = dir.path().join("rides");
    std::fs::create_dir_all(rides.join("2020")).unwrap();
    std::fs::copy(fit(&fx, EDGE810), rides.join("edge810.fit")).unwrap();
    // The same ride compressed: one activity, not two.
    gzip_to(&fit(&fx, EDGE810), &rides.join("edge810-copy.FIT.gz"));
    std::fs::copy(fit(&fx, TRAINER), rides.join("trainer.fit")).unwrap();
    std::fs::copy(fit(&fx, EDGE1000), rides.join("2020/edge1000.fit")).unwrap();
    std::fs::write(rides.join("notes.txt"), "not a ride").unwrap();

    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let last = AtomicUsize::new(0);
    let progress = |p: store::ImportProgress| {
        assert!(p.done <= p.total);
        last.fetch_max(p.done, Ordering::Relaxed);
    };
    let src = ImportSource::detect(&rides);
    assert_eq!(src, ImportSource::FitDir(rides.clone()));
    let r = import(&mut s, ath, &src, &profile(), &progress).unwrap();
    assert_eq!(r.imported, 3, "{r:#?}");
    assert_eq!(r.skipped_unchanged, 1, "the .fit.gz twin");
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(r.summary_only, 0);
    assert_eq!(r.decoded_files, 4);
    assert_eq!(
        last.load(Ordering::Relaxed),
        4,
        "progress reached the total"
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("same ride as")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.decoded_bytes > 148_037 * 2,
        "decompressed bytes are counted"
    );
    assert_eq!(r.utc_check, None, "no CSV, nothing to compare");

    let all = s.summaries(ath, None, None).unwrap();
    assert_eq!(all.len(), 3);
    let (row, sum) = all
        .iter()
        .find(|(r, _)| r.source_path.starts_with("edge810"))
        .unwrap();
    assert_eq!(row.sport.sport, Sport::Ride);
    assert_eq!(row.local_date.to_string(), "2013-08-16");
    // Device NP 301 W over a gap-free 1 Hz ride (fixtures/README.md).
    let np = sum.np_w.unwrap();
    assert!((np - 301.0).abs() < 3.0, "NP {np}");
    assert!(sum.power_curve.is_some());
    let paths: Vec<_> = all.iter().map(|(r, _)| r.source_path.as_str()).collect();
    assert!(paths.contains(&"2020/edge1000.fit"), "{paths:?}");

    let again = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(again.decoded_files, 0, "{again:#?}");
    assert_eq!(
        again.hashed_files, 0,
        "unchanged size and mtime: not even read"
    );
    assert_eq!(again.skipped_unchanged, 4);
    assert_eq!(again.imported + again.summary_only + again.failed.len(), 0);
    assert_eq!(s.activity_count(ath).unwrap(), 3);

    // Rewritten with the same bytes (new mtime): hashed again, recognised, not decoded.
    let trainer = rides.join("trainer.fit");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&trainer)
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    let touched = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(
        (touched.hashed_files, touched.decoded_files),
        (1, 0),
        "{touched:#?}"
    );
    assert_eq!(touched.skipped_unchanged, 4);

    let runs = s.import_runs(10).unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[1].id, again.run_id);
    assert_eq!((runs[1].skipped_unchanged, runs[1].decoded_files), (4, 0));
    assert_eq!((runs[2].imported, runs[2].decoded_files), (3, 4));
    assert!(runs[2].finished_at.is_some());
}

#[test]
fn corrupt_file_fails_with_its_offset_truncated_file_imports_flagged() {
    let Some(fx) = fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    for name in [CORRUPT, NICK, FENIX_BIKE] {
        let file = Path::new(name).file_name().unwrap();
        std::fs::copy(fit(&fx, name), dir.path().join(file)).unwrap();
    }
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let src = ImportSource::FitDir(dir.path().to_path_buf());
    let r = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(r.imported, 2, "{r:#?}");
    assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
    let (file, reason) = &r.failed[0];
    assert_eq!(file, "strava-android-app-201.10-b1218918.fit");
    assert!(
        reason.contains("7471"),
        "the byte offset is named: {reason}"
    );

    let all = s.summaries(ath, None, None).unwrap();
    let nick = all
        .iter()
        .find(|(r, _)| r.source_path == "nick.fit")
        .map(|(r, _)| r)
        .unwrap();
    assert!(nick.truncated);
    assert!(!nick.warnings.is_empty());
    assert!(
        r.warnings.iter().any(|w| w.starts_with("nick.fit: ")),
        "{:?}",
        r.warnings
    );
    let fenix = all
        .iter()
        .find(|(r, _)| r.source_path == "garmin-fenix-5-bike.fit");
    assert!(!fenix.unwrap().0.truncated);

    let stored = s.import_warnings(r.run_id).unwrap();
    assert!(stored.iter().any(|w| w.kind == store::WarningKind::Failed
        && w.location.as_deref() == Some("strava-android-app-201.10-b1218918.fit")
        && w.message.contains("7471")));

    // Unchanged corrupt file: still reported, not decoded again.
    let again = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!((again.decoded_files, again.hashed_files), (0, 0));
    assert_eq!(again.skipped_unchanged, 2);
    assert_eq!(again.failed.len(), 1);
    assert!(again.failed[0].1.contains("7471"), "{:?}", again.failed);
}

#[test]
fn joboso_csv_imports_every_row_as_summary_then_skips_them_all() {
    let Some(fx) = fixtures() else { return };
    let csv = fx.join("strava/joboso/activities.csv");
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let src = ImportSource::detect(&csv);
    assert_eq!(src, ImportSource::Csv(csv.clone()));
    let r = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(r.summary_only, 1845, "{:?}", r.failed);
    assert_eq!((r.imported, r.skipped_unchanged, r.failed.len()), (0, 0, 0));
    assert_eq!(r.decoded_files, 0);
    assert_eq!(s.activity_count(ath).unwrap(), 1845);

    let all = s.summaries(ath, None, None).unwrap();
    assert!(all.iter().all(|(r, _)| r.summary_only));
    // First row: "Lunch Ride", Oct 5 2014, Distance 13.61 (km) / 13609.2 (m).
    let (first, sum) = &all[0];
    assert_eq!(first.external_id.as_deref(), Some("203707851"));
    assert_eq!(first.name.as_deref(), Some("Lunch Ride"));
    assert_eq!(first.source_path, "activities/203707851.gpx");
    let d = sum.distance_m.unwrap();
    assert!((d - 13609.2).abs() < 0.5, "distance in metres, got {d}");
    assert_eq!(first.distance_m, sum.distance_m);
    let rides = all
        .iter()
        .filter(|(r, _)| r.sport.sport == Sport::Ride)
        .count();
    assert!(rides >= 900, "{rides} rides");

    let again = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(again.skipped_unchanged, 1845);
    assert_eq!(
        (again.summary_only, again.imported, again.updated),
        (0, 0, 0)
    );
    assert_eq!(s.activity_count(ath).unwrap(), 1845);
}

/// A 103-column header is not needed: the reader tolerates missing columns.
const HEADER: &str = "Activity ID,Activity Date,Activity Name,Activity Type,\
Activity Description,Elapsed Time,Distance,Filename,Elapsed Time,Moving Time,Distance";

fn csv_date(t: jiff::Timestamp) -> String {
    jiff::tz::TimeZone::UTC
        .to_datetime(t)
        .strftime("%b %-d, %Y, %-I:%M:%S %p")
        .to_string()
}

#[test]
fn export_links_fit_files_by_filename_checks_utc_and_refreshes_edits() {
    let Some(fx) = fixtures() else { return };
    let edge = ride::fit::decode_file(&fit(&fx, EDGE810)).unwrap();
    let start = edge.start_time().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path();
    gzip_to(&fit(&fx, EDGE810), &export.join("activities/111.fit.gz"));
    let write_csv = |name: &str| {
        let rows = [
            format!(
                "111,\"{}\",{name},Ride,\"Hard, \"\"fast\"\"\",4700,50.1,activities/111.fit.gz,4700,4700,50100",
                csv_date(start)
            ),
            "222,\"Oct 5, 2014, 4:15:21 PM\",Lunch Ride,Ride,,3600,13.61,activities/222.gpx,3600,3500,13609.2".to_string(),
            "333,\"Oct 6, 2014, 4:15:21 PM\",Lost file,Ride,,3600,20.0,activities/333.fit.gz,3600,3500,20000".to_string(),
        ];
        std::fs::write(
            export.join("activities.csv"),
            format!("{HEADER}\n{}\n", rows.join("\n")),
        )
        .unwrap();
    };
    write_csv("Vector test");

    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let src = ImportSource::detect(export);
    assert_eq!(src, ImportSource::Export(export.to_path_buf()));
    let r = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(
        (r.imported, r.summary_only, r.failed.len()),
        (1, 2, 0),
        "{r:#?}"
    );
    assert_eq!(r.decoded_files, 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("row 4") && w.contains("activities/333.fit.gz is missing")),
        "{:?}",
        r.warnings
    );
    assert_eq!(
        r.utc_check.as_deref(),
        Some("Activity Date matches FIT start time (UTC) on 1/1 linked files, median offset 0 s")
    );

    let all = s.summaries(ath, None, None).unwrap();
    assert_eq!(
        all.len(),
        3,
        "one activity per CSV row: FIT and CSV are linked, not doubled"
    );
    let linked = all
        .iter()
        .find(|(r, _)| r.external_id.as_deref() == Some("111"))
        .unwrap();
    assert_eq!(linked.0.source_kind, store::SourceKind::Fit);
    assert_eq!(
        linked.0.name.as_deref(),
        Some("Vector test"),
        "name from the CSV"
    );
    assert_eq!(linked.0.description.as_deref(), Some("Hard, \"fast\""));
    assert!(linked.1.np_w.is_some(), "samples from the FIT file");

    // Unchanged: nothing decoded.
    let again = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(
        (again.decoded_files, again.skipped_unchanged, again.updated),
        (0, 3, 0)
    );
    assert_eq!(
        again.utc_check, r.utc_check,
        "the check also covers skipped files"
    );

    // Renamed in Strava: the text is refreshed, the file is not decoded again.
    write_csv("Renamed ride");
    let renamed = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(
        (renamed.decoded_files, renamed.updated),
        (0, 1),
        "{renamed:#?}"
    );
    let (row, _) = s.activity(ath, linked.0.id).unwrap().unwrap();
    assert_eq!(row.name.as_deref(), Some("Renamed ride"));
    assert_eq!(s.activity_count(ath).unwrap(), 3);

    // A bare CSV import afterwards never downgrades the FIT activity to its summary.
    let csv_only = ImportSource::Csv(export.join("activities.csv"));
    let r = import(&mut s, ath, &csv_only, &profile(), &no_progress).unwrap();
    assert_eq!(r.skipped_unchanged, 3, "{r:#?}");
    let (row, _) = s.activity(ath, linked.0.id).unwrap().unwrap();
    assert_eq!(row.source_kind, store::SourceKind::Fit);
}

#[test]
fn csv_dates_in_local_time_are_flagged() {
    let Some(fx) = fixtures() else { return };
    let edge = ride::fit::decode_file(&fit(&fx, EDGE810)).unwrap();
    // Written two hours ahead of the FIT start, as a local-time export would be.
    let local = edge.start_time().unwrap() + jiff::SignedDuration::from_hours(2);
    let dir = tempfile::tempdir().unwrap();
    gzip_to(&fit(&fx, EDGE810), &dir.path().join("activities/1.fit.gz"));
    std::fs::write(
        dir.path().join("activities.csv"),
        format!(
            "{HEADER}\n1,\"{}\",Ride,Ride,,4700,50.1,activities/1.fit.gz,4700,4700,50100\n",
            csv_date(local)
        ),
    )
    .unwrap();
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let src = ImportSource::Export(dir.path().to_path_buf());
    let r = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(
        r.utc_check.as_deref(),
        Some(
            "Activity Date matches FIT start time (UTC) on 0/1 linked files, median offset -7200 s"
        )
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("look like local time")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn unusable_sources_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    std::fs::write(dir.path().join("readme.txt"), "no rides here").unwrap();
    let src = ImportSource::detect(dir.path());
    let err = import(&mut s, ath, &src, &profile(), &no_progress).unwrap_err();
    assert!(matches!(err, StoreError::NoActivities(_)));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: no activities.csv and no .fit/.fit.gz files found",
            dir.path().display()
        )
    );

    let empty = dir.path().join("activities.csv");
    std::fs::write(&empty, "").unwrap();
    let err = import(
        &mut s,
        ath,
        &ImportSource::detect(dir.path()),
        &profile(),
        &no_progress,
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Strava(_)), "{err}");
    assert!(err.to_string().contains("activities.csv"), "{err}");
    assert!(
        s.import_runs(5).unwrap().is_empty(),
        "an unusable source leaves no run behind"
    );

    let err = import(
        &mut s,
        42,
        &ImportSource::Csv(empty),
        &profile(),
        &no_progress,
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::AthleteNotFound(42)));
}

#[test]
fn fit_folder_and_csv_imported_separately_make_one_activity() {
    let Some(fx) = fixtures() else { return };
    let edge = ride::fit::decode_file(&fit(&fx, EDGE810)).unwrap();
    let start = edge.start_time().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rides = dir.path().join("device");
    std::fs::create_dir_all(&rides).unwrap();
    std::fs::copy(fit(&fx, EDGE810), rides.join("ride.fit")).unwrap();
    // The Strava CSV alone (no files), 30 s off the device start as uploads can be.
    let csv = dir.path().join("activities.csv");
    std::fs::write(
        &csv,
        format!(
            "{HEADER}\n9,\"{}\",Club ride,E-Bike Ride,,4700,50.1,,4700,4700,50100\n",
            csv_date(start + jiff::SignedDuration::from_secs(30))
        ),
    )
    .unwrap();

    // FIT folder first, then the CSV: the row links to the FIT activity.
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    import(
        &mut s,
        ath,
        &ImportSource::FitDir(rides.clone()),
        &profile(),
        &no_progress,
    )
    .unwrap();
    let r = import(
        &mut s,
        ath,
        &ImportSource::Csv(csv.clone()),
        &profile(),
        &no_progress,
    )
    .unwrap();
    assert_eq!(
        (r.summary_only, r.skipped_unchanged, r.updated),
        (0, 1, 1),
        "{r:#?}"
    );
    let all = s.summaries(ath, None, None).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0.name.as_deref(), Some("Club ride"));
    assert_eq!(all[0].0.external_id.as_deref(), Some("9"));
    assert!(all[0].0.sport.e_bike, "Strava's type wins");

    // CSV first, then the FIT folder: the summary row is upgraded in place.
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    import(
        &mut s,
        ath,
        &ImportSource::Csv(csv),
        &profile(),
        &no_progress,
    )
    .unwrap();
    let before = s.summaries(ath, None, None).unwrap();
    assert!(before[0].0.summary_only);
    let r = import(
        &mut s,
        ath,
        &ImportSource::FitDir(rides),
        &profile(),
        &no_progress,
    )
    .unwrap();
    assert_eq!((r.imported, r.updated), (1, 1), "{r:#?}");
    let after = s.summaries(ath, None, None).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0.id, before[0].0.id, "same activity id");
    assert!(!after[0].0.summary_only);
    assert_eq!(after[0].0.name.as_deref(), Some("Club ride"));
    assert!(after[0].1.np_w.is_some());
}

const HRV: &str = "fitparse-rs/hrv-activity.fit";

/// Laps of the real device files against the lap messages the head units wrote: the lap count
/// (fixtures/README.md: 8, 5 and 15), the device's own durations, and our power recomputed from
/// the lap's records against the device's lap averages.
#[test]
fn fixture_laps_match_the_device_lap_messages() {
    let Some(fx) = fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rides = dir.path().join("rides");
    std::fs::create_dir_all(&rides).unwrap();
    // Symlinks: the fixtures are read in place.
    let files = [(EDGE810, 8usize), (TRAINER, 5), (HRV, 15)];
    for (i, (f, _)) in files.iter().enumerate() {
        std::os::unix::fs::symlink(fit(&fx, f), rides.join(format!("{i}.fit"))).unwrap();
    }
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let r = import(
        &mut s,
        ath,
        &ImportSource::FitDir(rides.clone()),
        &profile(),
        &no_progress,
    )
    .unwrap();
    assert_eq!(r.imported, 3, "{r:#?}");
    let all = s.summaries(ath, None, None).unwrap();
    let mut np_compared_total = 0;
    for (i, (f, expected_laps)) in files.iter().enumerate() {
        let device = ride::fit::decode_file(&fit(&fx, f)).unwrap();
        let (row, _) = all
            .iter()
            .find(|(r, _)| r.source_path == format!("{i}.fit"))
            .unwrap();
        let laps = s
            .activity_laps(ath, row.id)
            .unwrap()
            .expect("laps recorded at import");
        assert_eq!(laps.len(), *expected_laps, "{f}");
        assert_eq!(device.laps.len(), *expected_laps, "{f}");
        let mut worst_avg = 0.0f64;
        let mut worst_np = 0.0f64;
        let mut np_compared = 0usize;
        for (ours, dev) in laps.iter().zip(&device.laps) {
            assert_eq!(
                ours.timer_s, dev.total_timer_time_s,
                "{f} lap {}",
                ours.index
            );
            assert_eq!(ours.elapsed_s, dev.total_elapsed_time_s);
            assert_eq!(ours.start_time, dev.start_time);
            let timer = dev.total_timer_time_s.unwrap();
            if let (Some(a), Some(d)) = (ours.avg_power_w, dev.avg_power_w)
                && timer >= 30.0
            {
                // Devices round to whole watts and count the boundary second their own way.
                let tol = 2.0 + 0.02 * d;
                assert!(
                    (a - d).abs() <= tol,
                    "{f} lap {}: avg {a:.1} W vs device {d} W over {timer} s",
                    ours.index
                );
                worst_avg = worst_avg.max((a - d).abs());
            }
            if let (Some(a), Some(d)) = (ours.avg_hr_bpm, dev.avg_heart_rate_bpm)
                && timer >= 30.0
            {
                assert!(
                    (a - d).abs() <= 1.5,
                    "{f} lap {}: HR {a:.1} vs {d}",
                    ours.index
                );
            }
            // NP only on long laps: the head units keep their 30 s rolling window running across
            // lap boundaries, so a short lap's device NP carries the previous lap's power (a
            // 30 s sprint at 482 W avg gets a device NP of 362 W); ours is the lap's own.
            if let (Some(n), Some(d)) = (ours.np_w, dev.normalized_power_w)
                && timer >= 600.0
            {
                assert!(
                    (n - d).abs() <= 3.0,
                    "{f} lap {}: NP {n:.1} W vs device {d} W over {timer} s",
                    ours.index
                );
                worst_np = worst_np.max((n - d).abs());
                np_compared += 1;
            }
            if timer < 30.0 {
                assert_eq!(
                    ours.np_w, None,
                    "{f} lap {}: under one NP window",
                    ours.index
                );
            }
        }
        eprintln!(
            "{f}: {} laps; worst |avg W − device| {worst_avg:.1} W; worst |NP − device| \
             {worst_np:.1} W over {np_compared} laps of 10 min or more",
            laps.len()
        );
        np_compared_total += np_compared;
    }
    // Edge 810: laps 0, 4 and 6 (20 min each); trainer: its two 10 min intervals.
    assert_eq!(np_compared_total, 5);
    // The Edge 810 laps carry power and NP on every lap of a minute or more.
    let (edge, _) = all.iter().find(|(r, _)| r.source_path == "0.fit").unwrap();
    let laps = s.activity_laps(ath, edge.id).unwrap().unwrap();
    assert!(
        laps.iter()
            .filter(|l| l.timer_s.unwrap() >= 60.0)
            .all(|l| l.np_w.is_some() && l.avg_hr_bpm.is_some())
    );
    // Another athlete cannot read them.
    let other = s.upsert_athlete("other", None).unwrap().id;
    assert_eq!(s.activity_laps(other, edge.id).unwrap(), None);
}

/// An activity whose laps were never recorded (as after the upgrade from schema 3) reads as
/// "not recorded", and the next import run decodes its file again and adds them in place.
#[test]
fn laps_missing_from_an_older_import_are_added_by_the_next_run() {
    let Some(fx) = fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rides = dir.path().join("rides");
    std::fs::create_dir_all(&rides).unwrap();
    std::os::unix::fs::symlink(fit(&fx, TRAINER), rides.join("trainer.fit")).unwrap();
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let src = ImportSource::FitDir(rides.clone());
    import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    let id = s.summaries(ath, None, None).unwrap()[0].0.id;
    assert_eq!(s.activity_laps(ath, id).unwrap().unwrap().len(), 5);
    // What a row imported by a schema-3 build looks like after migration 4.
    s.connection()
        .execute_batch("DELETE FROM activity_laps; UPDATE activity_metrics SET laps_recorded = 0;")
        .unwrap();
    assert_eq!(s.activity_laps(ath, id).unwrap(), None);
    let again = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!((again.decoded_files, again.updated), (1, 1), "{again:#?}");
    assert_eq!(s.activity_count(ath).unwrap(), 1);
    assert_eq!(s.activity_laps(ath, id).unwrap().unwrap().len(), 5);
    // Now recorded: a further run decodes nothing.
    let third = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(third.decoded_files, 0);
}

/// A Strava export whose rows link `.tcx.gz`, `.gpx.gz` and a broken `.tcx` (the first two
/// written from real FIT series): the rows an older build imported as summary only are upgraded
/// in place to full stream metrics, the broken file fails naming its line and column, and the
/// rest of the import goes on.
#[test]
fn export_rows_with_tcx_and_gpx_files_get_stream_metrics() {
    let Some(fx) = fixtures() else { return };
    let edge = ride::fit::decode_file(&fit(&fx, EDGE810)).unwrap();
    let trainer = ride::fit::decode_file(&fit(&fx, TRAINER)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path();
    let write_gz = |rel: &str, text: String| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::create_dir_all(export.join("activities")).unwrap();
        std::fs::write(export.join(rel), enc.finish().unwrap()).unwrap();
    };
    write_gz("activities/1.tcx.gz", ride::track_write::write_tcx(&edge));
    write_gz(
        "activities/2.gpx.gz",
        ride::track_write::write_gpx(&trainer),
    );
    let broken = ride::track_write::write_tcx(&edge).replacen("</Time>", "</Tim>", 1);
    std::fs::write(export.join("activities/3.tcx"), broken).unwrap();
    let rows = [
        format!(
            "1,\"{}\",Vector ride,Ride,,4700,41.3,activities/1.tcx.gz,4700,4700,41339",
            csv_date(edge.start_time().unwrap())
        ),
        format!(
            "2,\"{}\",Trainer,Virtual Ride,,2262,0,activities/2.gpx.gz,2262,2262,0",
            csv_date(trainer.start_time().unwrap())
        ),
        "3,\"Oct 6, 2014, 4:15:21 PM\",Broken,Ride,,3600,20.0,activities/3.tcx,3600,3500,20000"
            .to_string(),
    ];
    std::fs::write(
        export.join("activities.csv"),
        format!("{HEADER}\n{}\n", rows.join("\n")),
    )
    .unwrap();

    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let run = |s: &mut Store, src: &ImportSource| {
        let ath = s.default_athlete().unwrap().id;
        import(s, ath, src, &profile(), &no_progress).unwrap()
    };
    let full = ImportSource::Export(export.to_path_buf());
    // What a build without the TCX/GPX decoders stored: the CSV summaries.
    let csv = ImportSource::Csv(export.join("activities.csv"));
    let old = run(&mut s, &csv);
    assert_eq!(old.summary_only, 3, "{old:#?}");
    let ids: Vec<i64> = s
        .summaries(ath, None, None)
        .unwrap()
        .iter()
        .map(|(r, _)| r.id)
        .collect();

    let r = run(&mut s, &full);
    assert_eq!((r.imported, r.updated, r.failed.len()), (2, 2, 1), "{r:#?}");
    assert_eq!(r.decoded_files, 3);
    let (location, reason) = &r.failed[0];
    assert_eq!(location, "activities/3.tcx");
    assert!(
        reason.ends_with("malformed XML at line 13, column 39: expected 'Time' tag, not 'Tim'"),
        "{reason}"
    );
    assert_eq!(
        r.utc_check.as_deref(),
        Some("Activity Date matches FIT start time (UTC) on 2/2 linked files, median offset 0 s")
    );

    let all = s.summaries(ath, None, None).unwrap();
    assert_eq!(all.len(), 3);
    let by_ext = |id: &str| {
        all.iter()
            .find(|(r, _)| r.external_id.as_deref() == Some(id))
            .unwrap()
    };
    let (row, sum) = by_ext("1");
    assert!(ids.contains(&row.id), "upgraded in place");
    assert!(!row.summary_only);
    assert_eq!(row.source_path, "activities/1.tcx.gz");
    assert_eq!(row.name.as_deref(), Some("Vector ride"));
    assert!((sum.np_w.unwrap() - 301.05).abs() < 0.1, "{:?}", sum.np_w);
    assert!(sum.power_zones_s.is_some() && sum.hr_zones_s.is_some());
    assert!(sum.power_curve.is_some() && sum.decoupling_pct.is_some());
    assert_eq!(s.activity_laps(ath, row.id).unwrap().unwrap().len(), 8);
    let (row, sum) = by_ext("2");
    assert!(!row.summary_only);
    // The CSV's type wins over the file's ("cycling" in the GPX): a virtual ride.
    assert_eq!(row.sport.environment, ride::Environment::Virtual);
    assert!((sum.np_w.unwrap() - 227.31).abs() < 0.1, "{:?}", sum.np_w);
    let (row, _) = by_ext("3");
    assert!(row.summary_only, "the broken file keeps its CSV summary");

    // Unchanged files are not decoded again; the failure is remembered.
    let again = run(&mut s, &full);
    assert_eq!((again.decoded_files, again.imported), (0, 0), "{again:#?}");

    // A folder of ride files picks up TCX and GPX too.
    let mut fresh = Store::open_in_memory().unwrap();
    let r = run(&mut fresh, &ImportSource::FitDir(export.join("activities")));
    assert_eq!((r.imported, r.failed.len()), (2, 1), "{r:#?}");
}

/// Issue 10: a ride with power spikes is repaired before its metrics are stored, the run says
/// how many activities were repaired and how, each activity keeps its quality record, and a row
/// imported before quality checks existed (no record) is decoded again by the next run.
#[test]
fn spiked_ride_is_repaired_recorded_and_reported() {
    let Some(fx) = fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rides = dir.path().join("rides");
    std::fs::create_dir_all(&rides).unwrap();
    std::os::unix::fs::symlink(fit(&fx, TRAINER), rides.join("trainer.fit")).unwrap();
    let mut a = ride::fit::decode_file(&fit(&fx, EDGE810)).unwrap();
    for i in [100, 1500, 1501, 1502] {
        a.records[i].power_w = Some(21_733);
    }
    let zones = ride::fit_encode::Zones::default();
    let bytes = ride::fit_encode::encode_activity(&a, zones).unwrap();
    std::fs::write(rides.join("spiked.fit"), bytes).unwrap();

    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let src = ImportSource::FitDir(rides.clone());
    let r = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(r.imported, 2);
    assert_eq!(r.quality.repaired_activities, 1, "{:#?}", r.quality);
    assert_eq!(
        r.quality.lines(),
        vec!["repaired 1 activity: power above the ceiling (1 activity, 4 samples)"]
    );

    let rows = s.summaries(ath, None, None).unwrap();
    let spiked = rows
        .iter()
        .find(|(row, _)| row.source_path == "spiked.fit")
        .unwrap();
    assert!(
        spiked.1.max_power_w.unwrap() < 1000.0,
        "{:?}",
        spiked.1.max_power_w
    );
    let q = s.activity_quality(ath, spiked.0.id).unwrap().unwrap();
    assert_eq!(
        q.kinds(),
        vec![metrics::quality::IssueKind::PowerAboveCeiling]
    );
    let kinds = s.quality_kinds(ath).unwrap();
    assert_eq!(kinds.len(), 1);
    assert_eq!(kinds[&spiked.0.id], vec!["power_above_ceiling".to_string()]);
    let trainer = rows
        .iter()
        .find(|(row, _)| row.source_path == "trainer.fit")
        .unwrap();
    assert!(
        s.activity_quality(ath, trainer.0.id)
            .unwrap()
            .unwrap()
            .issues
            .is_empty()
    );

    // A row from before migration 5 has no record: decoded again, in place.
    s.connection()
        .execute_batch("DELETE FROM activity_quality")
        .unwrap();
    let again = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!((again.decoded_files, again.updated), (2, 2), "{again:#?}");
    assert_eq!(s.activity_count(ath).unwrap(), 2);
    let third = import(&mut s, ath, &src, &profile(), &no_progress).unwrap();
    assert_eq!(third.decoded_files, 0);
}
