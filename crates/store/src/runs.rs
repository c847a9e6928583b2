//! Import-run bookkeeping: one row per run with its counts, and its warnings and failures.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{Store, StoreError, now_rfc3339};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// The file or row was not imported.
    Failed,
    /// Imported, with a caveat (truncated file, missing linked file, …).
    Warning,
}

impl WarningKind {
    fn as_str(self) -> &'static str {
        match self {
            WarningKind::Failed => "failed",
            WarningKind::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportRunRow {
    pub id: i64,
    pub athlete_id: i64,
    /// `export`, `fit_dir` or `csv`.
    pub source_kind: String,
    pub source_path: String,
    pub started_at: String,
    /// `None` while running, or when the run died before finishing.
    pub finished_at: Option<String>,
    pub imported: u64,
    pub updated: u64,
    pub skipped_unchanged: u64,
    pub summary_only: u64,
    pub failed: u64,
    pub decoded_files: u64,
    pub decoded_bytes: u64,
    pub duration_ms: Option<u64>,
    pub utc_check: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportWarningRow {
    pub kind: WarningKind,
    pub location: Option<String>,
    pub message: String,
}

/// Final counts of a run, written by [`finish_run`].
pub(crate) struct RunCounts {
    pub imported: u64,
    pub updated: u64,
    pub skipped_unchanged: u64,
    pub summary_only: u64,
    pub failed: u64,
    pub decoded_files: u64,
    pub decoded_bytes: u64,
    pub duration_ms: u64,
    pub utc_check: Option<String>,
}

pub(crate) fn start_run(
    conn: &Connection,
    athlete_id: i64,
    source_kind: &str,
    source_path: &str,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO import_runs (athlete_id, source_kind, source_path, started_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![athlete_id, source_kind, source_path, now_rfc3339()],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn add_warning(
    conn: &Connection,
    run_id: i64,
    kind: WarningKind,
    location: Option<&str>,
    message: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO import_warnings (run_id, kind, location, message) VALUES (?1, ?2, ?3, ?4)",
        params![run_id, kind.as_str(), location, message],
    )?;
    Ok(())
}

pub(crate) fn finish_run(conn: &Connection, run_id: i64, c: &RunCounts) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE import_runs SET finished_at = ?2, imported = ?3, updated = ?4,
            skipped_unchanged = ?5, summary_only = ?6, failed = ?7, decoded_files = ?8,
            decoded_bytes = ?9, duration_ms = ?10, utc_check = ?11
         WHERE id = ?1",
        params![
            run_id,
            now_rfc3339(),
            c.imported as i64,
            c.updated as i64,
            c.skipped_unchanged as i64,
            c.summary_only as i64,
            c.failed as i64,
            c.decoded_files as i64,
            c.decoded_bytes as i64,
            c.duration_ms as i64,
            c.utc_check,
        ],
    )?;
    Ok(())
}

const RUN_COLUMNS: &str = "id, athlete_id, source_kind, source_path, started_at, finished_at, \
     imported, updated, skipped_unchanged, summary_only, failed, decoded_files, decoded_bytes, \
     duration_ms, utc_check";

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImportRunRow> {
    let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
    Ok(ImportRunRow {
        id: r.get(0)?,
        athlete_id: r.get(1)?,
        source_kind: r.get(2)?,
        source_path: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
        imported: n(6)?,
        updated: n(7)?,
        skipped_unchanged: n(8)?,
        summary_only: n(9)?,
        failed: n(10)?,
        decoded_files: n(11)?,
        decoded_bytes: n(12)?,
        duration_ms: r.get::<_, Option<i64>>(13)?.map(|v| v.max(0) as u64),
        utc_check: r.get(14)?,
    })
}

impl Store {
    /// The most recent import runs (all athletes), newest first.
    pub fn import_runs(&self, limit: u32) -> Result<Vec<ImportRunRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM import_runs ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([i64::from(limit)], run_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn import_run(&self, run_id: i64) -> Result<Option<ImportRunRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM import_runs WHERE id = ?1"),
                [run_id],
                run_from_row,
            )
            .optional()?)
    }

    /// A run's failures and warnings, in the order they were recorded.
    pub fn import_warnings(&self, run_id: i64) -> Result<Vec<ImportWarningRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT kind, location, message FROM import_warnings WHERE run_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([run_id], |r| {
            let kind: String = r.get(0)?;
            Ok(ImportWarningRow {
                kind: if kind == "failed" {
                    WarningKind::Failed
                } else {
                    WarningKind::Warning
                },
                location: r.get(1)?,
                message: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
