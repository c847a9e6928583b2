//! Imports as real processes racing each other and dying mid-way: the database stays whole.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{isolated, ok_json};

/// Two imports started together on a fresh data directory, several times: both succeed, and the
/// database holds every activity once.
#[test]
fn two_imports_started_together_on_a_fresh_directory_both_succeed() {
    for round in 0..5 {
        let tmp = tempfile::tempdir().unwrap();
        let (csv, profile) = common::strava_athlete(tmp.path(), |i| format!("Ride {i}"));
        let children: Vec<_> = (0..2)
            .map(|_| {
                isolated(tmp.path())
                    .args(["--json", "import", "--csv"])
                    .arg(&csv)
                    .arg("--profile")
                    .arg(&profile)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(
            activity_count(&tmp.path().join("data")),
            40,
            "round {round}"
        );
    }
}

/// `kill -9` of an import at several moments: every time the database passes SQLite's integrity
/// check, and the next import completes it to what an uninterrupted import stores.
#[test]
fn an_import_killed_mid_way_leaves_a_whole_database_the_next_import_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = tmp.path().join("demo");
    let j = ok_json(
        &isolated(tmp.path())
            .args([
                "--json",
                "demo",
                "--no-import",
                "--rides",
                "80",
                "--seed",
                "5",
                "--out",
            ])
            .arg(&demo)
            .output()
            .unwrap(),
    );
    let export = j["export_dir"].as_str().unwrap().to_string();
    let expected = j["rides"].as_u64().unwrap()
        + j["runs"].as_u64().unwrap()
        + j["strength"].as_u64().unwrap();
    let import = |data: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cycling-ai"));
        cmd.env("NO_COLOR", "1")
            .arg("--data-dir")
            .arg(data)
            .args(["--json", "import", "--export", &export])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let data = tmp.path().join("killed");
    // The whole import takes a few seconds in a debug build: these land before, during and
    // between its batches.
    for delay_ms in [100, 400, 900, 1600, 2500] {
        let mut child = import(&data).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // Child::kill is SIGKILL on Unix: no destructor, no rollback by the process itself.
        let _ = child.kill();
        child.wait().unwrap();
        if data.join(store::DB_FILE_NAME).exists() {
            assert_intact(&data);
        }
    }
    assert!(import(&data).status().unwrap().success());
    assert_intact(&data);
    assert_eq!(activity_count(&data), expected);
}

/// Stored activity rows, duplicate recordings included (the test CSV has rides starting
/// together, which count once in analyses but are each stored).
fn activity_count(data: &Path) -> u64 {
    let store = store::Store::open(data).unwrap();
    let n: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM activities", [], |r| r.get(0))
        .unwrap();
    n as u64
}

fn assert_intact(data: &Path) {
    let store = store::Store::open(data).unwrap();
    let check: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
