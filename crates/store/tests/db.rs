//! Database layer: migrations, activity round trips, queries, search with hostile text.

use jiff::{Timestamp, civil::Date};
use metrics::{ActivitySummary, LoadSource, PowerCurve};
use ride::{Environment, Sport, SportKind};
use rusqlite::Connection;
use store::migrations::{LATEST_VERSION, current_version, migrate};
use store::{ActivitySearch, NewActivity, SourceKind, Store, StoreError, UpsertOutcome};

fn summary(start: &str, sport: SportKind) -> ActivitySummary {
    let start_time: Timestamp = start.parse().unwrap();
    ActivitySummary {
        start_time,
        local_date: jiff::tz::TimeZone::UTC.to_datetime(start_time).date(),
        sport,
        elapsed_s: 3700.0,
        timer_s: 3600.0,
        moving_s: 3550.0,
        distance_m: Some(30_000.0),
        elevation_gain_m: Some(250.0),
        power_s: 3600.0,
        avg_power_w: Some(200.0),
        max_power_w: Some(650.0),
        power_estimated: false,
        np_w: Some(215.0),
        ftp_w: Some(250.0),
        intensity_factor: Some(0.86),
        tss: Some(74.0),
        load: Some(74.0),
        load_source: Some(LoadSource::Power),
        variability_index: Some(1.075),
        efficiency_factor: Some(1.5),
        work_kj: Some(720.0),
        avg_hr_bpm: Some(143.0),
        max_hr_bpm: Some(171.0),
        avg_cadence_rpm: Some(88.0),
        power_zones_s: Some([600.0, 900.0, 1200.0, 600.0, 240.0, 60.0, 0.0]),
        hr_zones_s: Some([600.0, 1800.0, 900.0, 300.0, 0.0]),
        decoupling_pct: Some(3.2),
        trimp: Some(80.0),
        power_curve: Some(PowerCurve {
            durations_s: vec![1, 5, 60, 300, 1200, 3600],
            watts: vec![650.0, 600.0, 380.0, 290.0, 250.0, 200.0],
        }),
    }
}

fn new_activity(path: &str, name: &str, start: &str) -> NewActivity {
    NewActivity {
        source_kind: SourceKind::Fit,
        external_id: None,
        source_path: path.to_string(),
        content_hash: format!("hash-of-{path}"),
        csv_row_hash: None,
        name: Some(name.to_string()),
        description: Some(format!("description of {name}")),
        summary: summary(start, SportKind::new(Sport::Ride)),
        truncated: false,
        warnings: vec![],
    }
}

#[test]
fn fresh_database_is_at_latest_version_and_reopen_is_a_noop() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let applied: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(applied, i64::from(LATEST_VERSION));
    drop(store);

    let mut conn = Connection::open(dir.path().join(store::DB_FILE_NAME)).unwrap();
    assert_eq!(
        migrate(&mut conn, LATEST_VERSION, "db").unwrap(),
        Vec::<u32>::new()
    );
    drop(conn);
    let store = Store::open(dir.path()).unwrap();
    let applied: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        applied,
        i64::from(LATEST_VERSION),
        "re-open applied nothing twice"
    );
}

#[test]
fn a_version_1_database_migrates_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(store::DB_FILE_NAME);
    {
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&mut conn, 1, "db").unwrap(), vec![1]);
        conn.execute(
            "INSERT INTO athletes (name, created_at, updated_at) VALUES ('v1 rider', 'x', 'x')",
            [],
        )
        .unwrap();
        assert_eq!(current_version(&conn).unwrap(), 1);
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(store.athlete_by_name("v1 rider").unwrap().unwrap().id, 1);
    // The version-2 table exists now.
    let n: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM import_failures", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn a_newer_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let path = dir.path().join(store::DB_FILE_NAME);
    let future = LATEST_VERSION + 5;
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {future}"))
        .unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported, .. }
            if found == future && supported == LATEST_VERSION),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("cycling-ai.db") && msg.contains("upgrade"),
        "{msg}"
    );
    let v: u32 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, future);
}

#[test]
fn activity_round_trips_with_summary_and_curve() {
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let mut a = new_activity("rides/a.fit", "Morning ride", "2024-05-01T06:30:00Z");
    a.summary.sport = SportKind::with_env(Sport::Ride, Environment::Virtual);
    a.truncated = true;
    a.warnings = vec!["file ends early".into()];
    let id = match s.upsert_activity(ath, &a).unwrap() {
        UpsertOutcome::Inserted(id) => id,
        other => panic!("{other:?}"),
    };
    let (row, sum) = s.activity(ath, id).unwrap().unwrap();
    assert_eq!(row.source_path, "rides/a.fit");
    assert_eq!(row.name.as_deref(), Some("Morning ride"));
    assert_eq!(
        row.sport,
        SportKind::with_env(Sport::Ride, Environment::Virtual)
    );
    assert_eq!(row.local_date, Date::constant(2024, 5, 1));
    assert!(row.truncated && !row.summary_only);
    assert_eq!(row.warnings, vec!["file ends early".to_string()]);
    assert_eq!(
        sum, a.summary,
        "summary incl. power curve survives the round trip"
    );
    // Another athlete cannot see it.
    let other = s.upsert_athlete("other", None).unwrap().id;
    assert!(s.activity(other, id).unwrap().is_none());

    // Same path again: updated in place, same id.
    let mut b = a.clone();
    b.content_hash = "changed".into();
    b.summary.tss = Some(80.0);
    b.summary.power_curve = None;
    assert_eq!(
        s.upsert_activity(ath, &b).unwrap(),
        UpsertOutcome::Updated(id)
    );
    let (_, sum) = s.activity(ath, id).unwrap().unwrap();
    assert_eq!(sum.tss, Some(80.0));
    assert_eq!(sum.power_curve, None, "a stale curve is removed");
    assert_eq!(s.activity_count(ath).unwrap(), 1);
}

#[test]
fn non_finite_summary_values_never_reach_storage() {
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let mut a = new_activity("nan.fit", "nan", "2024-05-01T06:30:00Z");
    a.summary.np_w = Some(f64::NAN);
    a.summary.elapsed_s = f64::INFINITY;
    let id = s.upsert_activity(ath, &a).unwrap().id();
    let (row, sum) = s.activity(ath, id).unwrap().unwrap();
    assert_eq!(sum.np_w, None);
    assert_eq!(sum.elapsed_s, 0.0);
    assert_eq!(row.warnings.len(), 2, "{:?}", row.warnings);
    assert!(row.warnings[0].contains("elapsed_s"));
}

#[test]
fn summaries_curves_and_latest_date_filter_by_local_date_in_start_order() {
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    for (p, start) in [
        ("c.fit", "2024-03-03T10:00:00Z"),
        ("a.fit", "2024-03-01T10:00:00Z"),
        ("b.fit", "2024-03-02T10:00:00Z"),
    ] {
        s.upsert_activity(ath, &new_activity(p, p, start)).unwrap();
    }
    let all = s.summaries(ath, None, None).unwrap();
    let paths: Vec<_> = all.iter().map(|(r, _)| r.source_path.as_str()).collect();
    assert_eq!(paths, ["a.fit", "b.fit", "c.fit"]);
    let mid = s
        .summaries(
            ath,
            Some(Date::constant(2024, 3, 2)),
            Some(Date::constant(2024, 3, 2)),
        )
        .unwrap();
    assert_eq!(mid.len(), 1);
    assert_eq!(mid[0].0.source_path, "b.fit");
    let curves = s
        .power_curves(ath, Some(Date::constant(2024, 3, 2)), None)
        .unwrap();
    assert_eq!(curves.len(), 2);
    assert_eq!(curves[0].curve.watts[3], 290.0);
    assert_eq!(
        s.latest_activity_date(ath).unwrap(),
        Some(Date::constant(2024, 3, 3))
    );
    let empty = s.upsert_athlete("nobody", None).unwrap().id;
    assert_eq!(s.latest_activity_date(empty).unwrap(), None);
}

#[test]
fn search_treats_sql_and_wildcards_as_plain_text() {
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let hostile = "'; DROP TABLE activities; --";
    s.upsert_activity(ath, &new_activity("1.fit", hostile, "2024-01-01T08:00:00Z"))
        .unwrap();
    s.upsert_activity(
        ath,
        &new_activity("2.fit", "100% effort", "2024-01-02T08:00:00Z"),
    )
    .unwrap();
    s.upsert_activity(
        ath,
        &new_activity("3.fit", "Easy spin", "2024-01-03T08:00:00Z"),
    )
    .unwrap();
    let mut run = new_activity("4.fit", "Easy run", "2024-01-04T08:00:00Z");
    run.summary.sport = SportKind::new(Sport::Run);
    s.upsert_activity(ath, &run).unwrap();

    let q = |text: &str| {
        s.search_activities(
            ath,
            &ActivitySearch {
                text: Some(text),
                ..Default::default()
            },
        )
        .unwrap()
        .into_iter()
        .map(|r| r.source_path)
        .collect::<Vec<_>>()
    };
    assert_eq!(q(hostile), ["1.fit"]);
    assert_eq!(q("%"), ["2.fit"], "% is a literal percent sign");
    assert_eq!(q("_"), Vec::<String>::new(), "_ is not a wildcard");
    assert_eq!(
        q("EASY"),
        ["4.fit", "3.fit"],
        "case-insensitive, newest first"
    );
    assert_eq!(
        s.activity_count(ath).unwrap(),
        4,
        "the table is still there"
    );

    let rides = s
        .search_activities(
            ath,
            &ActivitySearch {
                text: Some("easy"),
                sport: Some(Sport::Ride),
                limit: Some(5),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(rides.len(), 1);
    assert_eq!(rides[0].source_path, "3.fit");
    let limited = s
        .search_activities(
            ath,
            &ActivitySearch {
                limit: Some(2),
                from: Some(Date::constant(2024, 1, 2)),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        limited
            .iter()
            .map(|r| r.source_path.as_str())
            .collect::<Vec<_>>(),
        ["4.fit", "3.fit"]
    );
}

#[test]
fn content_hash_is_unique_per_athlete() {
    let mut s = Store::open_in_memory().unwrap();
    let ath = s.default_athlete().unwrap().id;
    let a = new_activity("x.fit", "x", "2024-01-01T08:00:00Z");
    let id = s.upsert_activity(ath, &a).unwrap().id();
    // Same content under another path (x.fit.gz next to x.fit): the same activity.
    let mut b = a.clone();
    b.source_path = "x.fit.gz".into();
    assert_eq!(
        s.upsert_activity(ath, &b).unwrap(),
        UpsertOutcome::Updated(id)
    );
    assert_eq!(s.activity_count(ath).unwrap(), 1);
    assert!(matches!(
        s.upsert_activity(999, &a),
        Err(StoreError::AthleteNotFound(999))
    ));
}

#[test]
fn a_version_3_database_migrates_to_4_with_rows_intact_and_laps_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(store::DB_FILE_NAME);
    let sum = summary("2025-05-01T07:00:00Z", SportKind::new(Sport::Ride));
    {
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&mut conn, 3, "db").unwrap(), vec![1, 2, 3]);
        // Rows as a schema-3 build wrote them (its column lists, no laps anywhere).
        conn.execute_batch(
            "INSERT INTO athletes (id, name, created_at, updated_at) VALUES (1, 'v3 rider', 'x', 'x');
             INSERT INTO activities (id, athlete_id, source_kind, source_path, content_hash, name,
                sport, environment, e_bike, start_time, local_date, elapsed_s, timer_s, moving_s,
                distance_m, summary_only, truncated, imported_at)
             VALUES (7, 1, 'fit', 'old.fit', 'h-old', 'Old ride', 'ride', 'outdoor', 0,
                1746082800, '2025-05-01', 3700, 3600, 3500, 30000, 0, 0, 'x');",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO activity_metrics (activity_id, np_w, power_estimated, power_s,
                summary_json)
             VALUES (7, 250, 0, 3600, ?1)",
            [serde_json::to_string(&sum).unwrap()],
        )
        .unwrap();
        assert_eq!(current_version(&conn).unwrap(), 3);
    }
    let mut store = Store::open(dir.path()).unwrap();
    // Migrated through 4 to the latest schema (5: quality records, 6: duplicates).
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let ath = store.athlete_by_name("v3 rider").unwrap().unwrap().id;
    let (row, s) = store.activity(ath, 7).unwrap().expect("row kept");
    assert_eq!(row.name.as_deref(), Some("Old ride"));
    assert_eq!(row.distance_m, Some(30000.0));
    assert_eq!(s.np_w, sum.np_w);
    // Imported before laps existed: "not recorded", not "no laps".
    assert_eq!(store.activity_laps(ath, 7).unwrap(), None);
    // Nor was it checked for data quality (migration 5): no record, nothing listed.
    assert_eq!(store.activity_quality(ath, 7).unwrap(), None);
    assert!(store.quality_kinds(ath).unwrap().is_empty());
    let name: String = store
        .connection()
        .query_row(
            "SELECT name FROM schema_migrations WHERE version = 4",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(name.contains("laps"), "{name}");
    // A later upsert of summary data (no file decoded) still records no laps.
    let new = new_activity("old.fit", "Old ride, renamed", "2025-05-01T07:00:00Z");
    assert_eq!(
        store.upsert_activity(ath, &new).unwrap(),
        UpsertOutcome::Updated(7)
    );
    assert_eq!(store.activity_laps(ath, 7).unwrap(), None);
    // Deleting the activity takes its laps along (no orphan rows).
    store
        .connection()
        .execute_batch(
            "INSERT INTO activity_laps (activity_id, lap_index) VALUES (7, 0);
             DELETE FROM activities WHERE id = 7;",
        )
        .unwrap();
    let orphans: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM activity_laps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0);
}
