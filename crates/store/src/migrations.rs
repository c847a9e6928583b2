//! Versioned schema migrations.
//!
//! The schema version lives in SQLite's `PRAGMA user_version` (one integer in the file header,
//! readable without any table), and each applied step is also recorded in `schema_migrations`
//! with its name and time so a human can see the history. Migrations are append-only: a new
//! feature (chat sessions, the LLM usage ledger, …) adds an entry at the end of [`MIGRATIONS`];
//! existing entries are never edited, because databases in the field already ran them.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// One schema step: applied in its own transaction together with the version bump.
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. `version` is 1-based and dense.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core tables: athletes, activities, metrics, power curves, import runs",
        sql: r#"
CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL
);

CREATE TABLE athletes (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    -- The athlete profile as canonical JSON (sorted keys, no whitespace), NULL until known.
    profile_json  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE import_runs (
    id                 INTEGER PRIMARY KEY,
    athlete_id         INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    source_kind        TEXT NOT NULL CHECK (source_kind IN ('export', 'fit_dir', 'csv')),
    source_path        TEXT NOT NULL,
    started_at         TEXT NOT NULL,
    finished_at        TEXT,
    imported           INTEGER NOT NULL DEFAULT 0,
    updated            INTEGER NOT NULL DEFAULT 0,
    skipped_unchanged  INTEGER NOT NULL DEFAULT 0,
    summary_only       INTEGER NOT NULL DEFAULT 0,
    failed             INTEGER NOT NULL DEFAULT 0,
    decoded_files      INTEGER NOT NULL DEFAULT 0,
    decoded_bytes      INTEGER NOT NULL DEFAULT 0,
    duration_ms        INTEGER,
    utc_check          TEXT
);

CREATE TABLE import_warnings (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES import_runs(id) ON DELETE CASCADE,
    -- 'failed' (the file or row was not imported) or 'warning' (imported, with a caveat).
    kind     TEXT NOT NULL CHECK (kind IN ('failed', 'warning')),
    -- File path relative to the import root, or "activities.csv row N"; NULL for run-wide notes.
    location TEXT,
    message  TEXT NOT NULL
);
CREATE INDEX import_warnings_run ON import_warnings(run_id);

CREATE TABLE activities (
    id                INTEGER PRIMARY KEY,
    athlete_id        INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    source_kind       TEXT NOT NULL CHECK (source_kind IN ('fit', 'strava_csv_summary')),
    -- Strava's Activity ID when the activity came from (or was linked through) activities.csv.
    external_id       TEXT,
    -- Relative to the import root, '/'-separated; for CSV rows without a file "activities.csv#<id>".
    source_path       TEXT NOT NULL,
    -- SHA-256 hex of the decompressed FIT bytes, or of the CSV row for summary-only activities.
    content_hash      TEXT NOT NULL,
    -- SHA-256 hex of the linked CSV row, so an edited name or description is picked up cheaply.
    csv_row_hash      TEXT,
    name              TEXT,
    description       TEXT,
    sport             TEXT NOT NULL,
    environment       TEXT NOT NULL,
    e_bike            INTEGER NOT NULL,
    start_time        INTEGER NOT NULL,  -- Unix seconds, UTC
    local_date        TEXT NOT NULL,     -- YYYY-MM-DD in the athlete's time zone
    elapsed_s         REAL NOT NULL,
    timer_s           REAL NOT NULL,
    moving_s          REAL NOT NULL,
    distance_m        REAL,
    elevation_gain_m  REAL,
    summary_only      INTEGER NOT NULL,
    truncated         INTEGER NOT NULL,
    warnings_json     TEXT NOT NULL DEFAULT '[]',
    import_run_id     INTEGER REFERENCES import_runs(id) ON DELETE SET NULL,
    imported_at       TEXT NOT NULL,
    UNIQUE (athlete_id, source_path),
    UNIQUE (athlete_id, content_hash)
);
CREATE UNIQUE INDEX activities_external_id
    ON activities(athlete_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX activities_date ON activities(athlete_id, local_date, start_time);

CREATE TABLE activity_metrics (
    activity_id        INTEGER PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
    tss                REAL,
    load               REAL,
    load_source        TEXT,
    np_w               REAL,
    intensity_factor   REAL,
    ftp_w              REAL,
    avg_power_w        REAL,
    max_power_w        REAL,
    power_estimated    INTEGER NOT NULL,
    power_s            REAL NOT NULL,
    work_kj            REAL,
    avg_hr_bpm         REAL,
    max_hr_bpm         REAL,
    -- The whole metrics::ActivitySummary minus its power curve (that lives in power_curves).
    summary_json       TEXT NOT NULL
);

CREATE TABLE power_curves (
    activity_id  INTEGER PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
    points       INTEGER NOT NULL,
    -- (u32 duration_s, f32 watts) little-endian pairs, ascending duration: 8 bytes a point.
    curve        BLOB NOT NULL
);
"#,
    },
    Migration {
        version: 2,
        name: "import bookkeeping: failed files and file stats, so unchanged re-runs skip them",
        sql: r#"
CREATE TABLE import_failures (
    athlete_id      INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    content_hash    TEXT NOT NULL,
    source_path     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    -- The build that failed: a newer decoder gets to try the file again.
    decoder_version TEXT NOT NULL,
    failed_at       TEXT NOT NULL,
    PRIMARY KEY (athlete_id, content_hash)
);

-- Size and modification time of every FIT file hashed, so a re-run skips unchanged files
-- without even reading them (the make/rsync heuristic; the content hash stays the identity).
CREATE TABLE file_stats (
    athlete_id    INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    path          TEXT NOT NULL,  -- as the import saw it (import root joined with the file)
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER NOT NULL,
    content_hash  TEXT NOT NULL,
    PRIMARY KEY (athlete_id, path)
);
"#,
    },
    Migration {
        version: 3,
        name: "training plans and chat sessions",
        sql: r#"
-- A plan made by `generate`, kept so `chat` can compare plan and actual later. The plan itself is
-- the coach's TrainingPlan as JSON: the store does not interpret it.
CREATE TABLE plans (
    id          INTEGER PRIMARY KEY,
    athlete_id  INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    start_date  TEXT NOT NULL,  -- first day of the plan (a Monday), YYYY-MM-DD
    end_date    TEXT NOT NULL,  -- last day of the plan, YYYY-MM-DD
    -- Who designed it: 'offline' or '<provider> <model>'.
    source      TEXT NOT NULL,
    plan_json   TEXT NOT NULL
);
CREATE INDEX plans_athlete ON plans(athlete_id, created_at);

-- A chat session. The whole conversation is one JSON document rewritten in a transaction after
-- every turn: a crash leaves the previous turn's state or the new one, never half of one.
CREATE TABLE chat_sessions (
    id             TEXT PRIMARY KEY,
    athlete_id     INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    provider       TEXT NOT NULL,
    model          TEXT NOT NULL,
    title          TEXT,
    turns          INTEGER NOT NULL DEFAULT 0,
    messages_json  TEXT NOT NULL,
    usage_json     TEXT NOT NULL
);
CREATE INDEX chat_sessions_athlete ON chat_sessions(athlete_id, updated_at);
"#,
    },
    Migration {
        version: 4,
        name: "laps of FIT activities",
        sql: r#"
-- One row per FIT lap message. A table rather than a laps_json column on activity_metrics: laps
-- are an unbounded list (an auto-lap every km makes 200 on a long ride) with the same typed
-- figures on every row, so columns keep them queryable across activities ("every lap over
-- 300 W this month") without parsing JSON, and ON DELETE CASCADE keeps them with their activity.
CREATE TABLE activity_laps (
    activity_id      INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    lap_index        INTEGER NOT NULL,  -- 0-based, file order
    start_time       INTEGER,           -- Unix seconds, UTC
    -- The device's lap totals.
    elapsed_s        REAL,
    timer_s          REAL,
    distance_m       REAL,
    -- Recomputed from the lap's records with the ride summary's 1 Hz series and metrics; np_w
    -- only for laps with power and at least 30 s of samples.
    avg_power_w      REAL,
    max_power_w      REAL,
    np_w             REAL,
    avg_hr_bpm       REAL,
    max_hr_bpm       REAL,
    avg_cadence_rpm  REAL,
    PRIMARY KEY (activity_id, lap_index)
) WITHOUT ROWID;

-- 1 once the importer has written this activity's laps (zero rows then means the file has no
-- laps); 0 for activities imported before this migration and CSV summaries, whose laps were
-- never recorded: "no rows" must not read as "the ride had no laps".
ALTER TABLE activity_metrics ADD COLUMN laps_recorded INTEGER NOT NULL DEFAULT 0;
"#,
    },
    Migration {
        version: 5,
        name: "sample-level data quality of FIT activities",
        sql: r#"
-- One row per decoded activity: what the quality pass (metrics::quality) found and did before
-- the metrics were computed. A row exists for every activity decoded since this migration, clean
-- ones included, so "no row" means "decoded before quality checks existed": the importer decodes
-- such files again (in place) and their stored metrics lose any spikes they were built on.
CREATE TABLE activity_quality (
    activity_id   INTEGER PRIMARY KEY REFERENCES activities(id) ON DELETE CASCADE,
    -- 1 when samples were dropped, repaired or shifted before the metrics.
    repaired      INTEGER NOT NULL,
    -- 1 when something was reported without changing the data.
    flagged       INTEGER NOT NULL,
    -- The issue kinds, comma-separated in a fixed order ('' when clean): cheap to list and filter.
    kinds         TEXT NOT NULL,
    -- metrics::quality::Quality as JSON: every issue with its samples, offsets and action.
    quality_json  TEXT NOT NULL
);
"#,
    },
    Migration {
        version: 6,
        name: "duplicate recordings of one ride",
        sql: r#"
-- The same ride recorded twice (a head unit and a watch, or a file whose copy differs by a byte)
-- is one ride: the richest recording stays primary and every other points at it here. A
-- duplicate stays stored (nothing is lost, the user can undo) but every query that feeds
-- metrics leaves it out. ON DELETE SET NULL: deleting the primary brings its copies back.
ALTER TABLE activities ADD COLUMN duplicate_of INTEGER REFERENCES activities(id) ON DELETE SET NULL;
-- Who decided this activity's duplicate status: 'auto' (the importer's overlap check) or 'user'
-- (`activities merge` / `unmerge`). A 'user' row is never changed by the importer again, so an
-- unmerged activity (duplicate_of NULL, 'user') is never auto-merged again.
ALTER TABLE activities ADD COLUMN duplicate_source TEXT
    CHECK (duplicate_source IN ('auto', 'user'));
-- The importer compares each new activity with its time neighbours only.
CREATE INDEX activities_start ON activities(athlete_id, start_time);
"#,
    },
    Migration {
        version: 7,
        name: "the athlete in use, for stores holding several athletes",
        sql: r#"
-- At most one row: the athlete `athlete use NAME` chose, which every command works for unless
-- it is given `--athlete NAME`. ON DELETE CASCADE: removing that athlete leaves none in use.
CREATE TABLE athlete_in_use (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    athlete_id  INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    chosen_at   TEXT NOT NULL
);
"#,
    },
    Migration {
        version: 8,
        name: "plan versions: an adapted plan points at the plan it replaces",
        sql: r#"
-- `plan adapt` stores the re-planned plan as a new row and keeps the old one: parent_id points
-- at the version it replaces (NULL for a plan made from scratch), version counts 1, 2, … along
-- that line, and change_note says what changed and why. The newest row stays "the plan".
ALTER TABLE plans ADD COLUMN parent_id INTEGER REFERENCES plans(id) ON DELETE SET NULL;
ALTER TABLE plans ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE plans ADD COLUMN change_note TEXT;
"#,
    },
    Migration {
        version: 9,
        name: "Bedrock batch inference jobs and their records",
        sql: r#"
-- One row per batch job submitted (`cycling-ai batch submit`): what the service needs to find it
-- again and what `batch collect` needs to finish the reports the way they were asked for.
CREATE TABLE batch_jobs (
    id             INTEGER PRIMARY KEY,
    job_arn        TEXT NOT NULL UNIQUE,
    job_name       TEXT NOT NULL,
    -- The model as the user typed it, and the id sent to the service.
    model          TEXT NOT NULL,
    model_id       TEXT NOT NULL,
    region         TEXT NOT NULL,
    role_arn       TEXT NOT NULL,
    input_uri      TEXT NOT NULL,
    output_uri     TEXT NOT NULL,
    -- The report options of the run (plan weeks, period, output directory …) as JSON.
    options_json   TEXT NOT NULL,
    -- The last state the service reported (Submitted … Completed, Failed, Stopped …).
    status         TEXT NOT NULL,
    message        TEXT,
    submitted_at   TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    collected_at   TEXT
);

-- One row per JSONL record: whose request it is and what became of it. `state` moves from
-- 'submitted' to 'answered' or 'failed' at collect, and a failed one to 'retried' once
-- `batch retry-failed` has asked for it on demand.
CREATE TABLE batch_records (
    job_id      INTEGER NOT NULL REFERENCES batch_jobs(id) ON DELETE CASCADE,
    record_id   TEXT NOT NULL,
    athlete_id  INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
    phase       TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'submitted'
        CHECK (state IN ('submitted', 'answered', 'failed', 'retried')),
    error       TEXT,
    PRIMARY KEY (job_id, record_id)
);
CREATE INDEX batch_records_athlete ON batch_records(athlete_id);
"#,
    },
];

/// The schema version this build creates and understands.
pub const LATEST_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Current schema version of an open database (0 for a brand-new file).
pub fn current_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(u32::try_from(v).unwrap_or(0))
}

/// Bring the schema up to `target` (normally [`LATEST_VERSION`]). Each step runs in its own
/// `BEGIN EXCLUSIVE` transaction that re-reads the version once it holds the lock: two processes
/// opening a fresh database at the same moment queue on the lock (the connection's busy timeout)
/// and the second finds the step already applied instead of failing on "table already exists".
/// A failure leaves the database at the last good version. Returns the versions this call
/// applied. `label` names the database in errors (its path, or ":memory:").
pub fn migrate(conn: &mut Connection, target: u32, label: &str) -> Result<Vec<u32>, StoreError> {
    let mut applied = Vec::new();
    // The common case — an up-to-date database — is decided without taking the write lock, so
    // opening never queues behind a running import.
    let mut found = check_supported(current_version(conn)?, label)?;
    while let Some(m) = next_step(found, target) {
        let err = |source| StoreError::Migration {
            path: label.to_string(),
            version: m.version,
            name: m.name,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(err)?;
        found = check_supported(current_version(&tx)?, label)?;
        if found >= m.version {
            // Another connection applied it while this one waited for the lock.
            tx.commit().map_err(err)?;
            continue;
        }
        tx.execute_batch(m.sql).map_err(err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.name, crate::now_rfc3339()],
        )
        .map_err(err)?;
        // PRAGMA does not take bound parameters; the value is our own integer constant.
        tx.execute_batch(&format!("PRAGMA user_version = {}", m.version))
            .map_err(err)?;
        tx.commit().map_err(err)?;
        applied.push(m.version);
        found = m.version;
    }
    Ok(applied)
}

/// The first migration after `found`, if it is still at or below `target`.
fn next_step(found: u32, target: u32) -> Option<&'static Migration> {
    MIGRATIONS
        .iter()
        .find(|m| m.version > found && m.version <= target)
}

/// `found` when this build understands it; a newer database is refused untouched.
fn check_supported(found: u32, label: &str) -> Result<u32, StoreError> {
    if found > LATEST_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: label.to_string(),
            found,
            supported: LATEST_VERSION,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_dense_and_ascending() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version as usize,
                i + 1,
                "migration {} out of order",
                m.name
            );
        }
    }

    #[test]
    fn failed_migration_leaves_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 1, ":memory:").unwrap();
        // Pre-create the table migration 2 creates, so its CREATE fails.
        conn.execute_batch("CREATE TABLE import_failures (x INTEGER)")
            .unwrap();
        let err = migrate(&mut conn, LATEST_VERSION, ":memory:").unwrap_err();
        assert!(err.to_string().contains("migration 2"), "{err}");
        assert_eq!(current_version(&conn).unwrap(), 1);
    }
}
