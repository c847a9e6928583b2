//! The embedded SQLite store: athletes, activities with their per-ride summaries, power curves
//! and laps, import runs; and the incremental importer ([`import`]).
//!
//! One database file per data directory (`cycling-ai.db`), WAL mode so readers never block the
//! importer, foreign keys on. All SQL takes bound parameters: activity names and descriptions are
//! untrusted user text and never become part of a statement.

mod activities;
mod athletes;
mod batch_jobs;
pub mod duplicates;
mod error;
pub mod import;
mod laps;
pub mod migrations;
mod plans;
mod quality;
mod runs;
mod sessions;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub use activities::{
    ActivityCurve, ActivityRow, ActivitySearch, DuplicateSource, NewActivity, SourceKind,
    UpsertOutcome,
};
pub use athletes::{
    Athlete, AthleteCounts, DEFAULT_ATHLETE_NAME, MAX_ATHLETE_NAME_CHARS, validate_athlete_name,
};
pub use batch_jobs::{BatchJob, BatchRecord, NewBatchJob};
pub use duplicates::DuplicateFound;
pub use error::StoreError;
pub use import::{ImportProgress, ImportReport, ImportSource, import};
pub use laps::{LAP_NP_MIN_S, LapRow, compute_laps};

pub use plans::{PlanVersion, StoredPlan};
pub use quality::{QualityCount, QualityCounts};
pub use runs::{ImportRunRow, ImportWarningRow, WarningKind};
pub use sessions::{ChatSession, SessionWrite};

/// File name of the database inside the data directory.
pub const DB_FILE_NAME: &str = "cycling-ai.db";

/// How long a statement waits for another connection's write lock before failing with
/// "database is locked" (a `report` reading while an import writes, for instance).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open database. Not `Sync`: one `Store` per thread (the importer decodes in parallel but
/// writes from the calling thread).
pub struct Store {
    conn: Connection,
    /// The database file, or `None` in memory.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open (creating if needed) `data_dir/cycling-ai.db` and migrate it to the latest schema.
    /// A database written by a newer build is refused untouched ([`StoreError::SchemaTooNew`]).
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE_NAME);
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // journal_mode returns the resulting mode as a row, so it is read, not executed.
        let _mode: String =
            retry_while_busy(|| conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)))
                .map_err(open_err)?;
        Self::finish_open(conn, Some(path))
    }

    /// A private in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        Self::finish_open(conn, None)
    }

    fn finish_open(mut conn: Connection, path: Option<PathBuf>) -> Result<Store, StoreError> {
        let label = path
            .as_ref()
            .map_or_else(|| ":memory:".to_string(), |p| p.display().to_string());
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(|source| StoreError::Open {
                path: PathBuf::from(&label),
                source,
            })?;
        migrations::migrate(&mut conn, migrations::LATEST_VERSION, &label)?;
        Ok(Store { conn, path })
    }

    /// The database file (`None` for an in-memory store).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Schema version of the open database (always [`migrations::LATEST_VERSION`] after open).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::current_version(&self.conn)
    }

    /// A transaction that takes the write lock at `BEGIN` (waiting up to the busy timeout for
    /// another writer). A deferred one that reads first and writes later fails at once with
    /// "database is locked" when another process committed in between (SQLite cannot wait there:
    /// its snapshot is stale), which two imports running together would hit.
    pub(crate) fn write_transaction(&mut self) -> Result<rusqlite::Transaction<'_>, StoreError> {
        Ok(self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }

    /// The underlying connection, for crates that add their own tables through migrations
    /// registered here. Prefer the typed methods.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Run `op` again while SQLite answers "busy" or "locked", for at most [`BUSY_TIMEOUT`].
/// Switching a fresh file to WAL needs the exclusive lock, and SQLite reports that contention at
/// once instead of calling the busy handler (waiting could deadlock two connections that both
/// hold a shared lock); after a short pause one of them has switched and the other finds WAL set.
fn retry_while_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match op() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Now as RFC 3339 UTC text, the format every `*_at` column uses.
pub(crate) fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_creates_file_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let store = Store::open(&data).unwrap();
        assert!(data.join(DB_FILE_NAME).is_file());
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        assert_eq!(store.schema_version().unwrap(), migrations::LATEST_VERSION);
    }
}
