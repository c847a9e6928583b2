//! The incremental importer: a Strava bulk export, a folder of FIT files, or a bare
//! `activities.csv` → activities, summaries and power curves in the store.
//!
//! **Incremental.** Every FIT file is hashed (SHA-256 of its *decompressed* bytes, so `x.fit` and
//! `x.fit.gz` of the same ride are one activity) and a file whose hash is already stored is not
//! decoded again; a re-run over an unchanged export decodes nothing
//! ([`ImportReport::decoded_files`] is 0). Files that failed are remembered by hash (with the
//! decoder version) so they are not retried until they change or the decoder does.
//!
//! **Parallel.** Files are read, hashed, decoded and summarised on rayon's pool in batches; each
//! batch is then written in one transaction on the calling thread (SQLite has one writer).
//!
//! **Never aborts on a bad file.** A corrupt file is counted as failed with the decoder's reason
//! (which names the byte offset); a truncated one is imported with what it holds and a warning.
//!
//! Every input item (CSV row or FIT file) lands in exactly one of four buckets: `imported` (written
//! from a decoded FIT file), `summary_only` (written from a CSV row), `skipped_unchanged`, or
//! `failed`.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use metrics::ActivitySummary;
use rayon::prelude::*;
use ride::profile::Profile;
use ride::strava::{StravaActivity, StravaExport};
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::activities::{NewActivity, SourceKind, UpsertOutcome, upsert_activity};
use crate::runs::{RunCounts, WarningKind, add_warning, finish_run, start_run};
use crate::{Store, StoreError, now_rfc3339};

/// Name of the CSV inside a Strava bulk export.
pub const EXPORT_CSV: &str = "activities.csv";

/// FIT files decoded (in parallel) before their results are written in one transaction: big
/// enough to amortise the commit, small enough that summaries in flight stay a few MB.
const BATCH: usize = 64;

/// CSV rows written per transaction.
const ROW_BATCH: usize = 500;

/// A decompressed FIT file larger than this is refused (a gzip bomb, not a ride: the largest
/// real rides are a few MB).
const MAX_FIT_BYTES: u64 = 256 * 1024 * 1024;

/// A FIT start and a CSV `Activity Date` this close (seconds) are the same instant, and a FIT
/// file and a CSV row starting this close are the same activity when no Filename links them.
const SAME_START_S: i64 = 120;

/// Identifies the decoder in `import_failures`: a new build retries files an old one rejected.
const DECODER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSource {
    /// A Strava bulk export directory: `activities.csv` plus the `activities/` files it names.
    Export(PathBuf),
    /// Every `*.fit` and `*.fit.gz` under a directory, recursively.
    FitDir(PathBuf),
    /// A Strava `activities.csv` alone: summary rows only.
    Csv(PathBuf),
}

impl ImportSource {
    /// A file is a CSV; a directory holding `activities.csv` is an export; any other directory a
    /// FIT folder.
    pub fn detect(path: &Path) -> ImportSource {
        if path.is_file() {
            ImportSource::Csv(path.to_path_buf())
        } else if path.join(EXPORT_CSV).is_file() {
            ImportSource::Export(path.to_path_buf())
        } else {
            ImportSource::FitDir(path.to_path_buf())
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            ImportSource::Export(p) | ImportSource::FitDir(p) | ImportSource::Csv(p) => p,
        }
    }

    /// The `import_runs.source_kind` value.
    pub fn kind(&self) -> &'static str {
        match self {
            ImportSource::Export(_) => "export",
            ImportSource::FitDir(_) => "fit_dir",
            ImportSource::Csv(_) => "csv",
        }
    }
}

/// Progress of a run, sent after every item (from worker threads: the callback must be `Sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// Items (FIT files and CSV rows) finished.
    pub done: usize,
    pub total: usize,
    /// FIT files actually decoded so far (unchanged files are skipped without decoding).
    pub decoded_files: usize,
    /// Decompressed bytes fed to the decoder so far: with the elapsed time, MB/s.
    pub decoded_bytes: u64,
}

/// The outcome of a run. Every item is counted in exactly one of `imported`, `summary_only`,
/// `skipped_unchanged` and `failed`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub run_id: i64,
    pub source: ImportSource,
    /// Activities written from a decoded FIT file (new or changed).
    pub imported: usize,
    /// Activities written from a CSV row alone (no FIT file: GPX/TCX, manual entry, file
    /// missing, or a bare CSV import).
    pub summary_only: usize,
    /// Items already stored with the same content (not decoded), or duplicates within the run.
    pub skipped_unchanged: usize,
    /// `(file or row, reason)` for every item not imported.
    pub failed: Vec<(String, String)>,
    /// Of the written and skipped activities, those that replaced or refreshed a stored one
    /// (changed file, edited name in the CSV, CSV row linked to an earlier FIT import).
    pub updated: usize,
    /// Non-fatal notes, each naming its file or row.
    pub warnings: Vec<String>,
    pub decoded_files: usize,
    pub decoded_bytes: u64,
    pub duration: Duration,
    /// How the CSV's `Activity Date` compares with the linked FIT files' start times, when any
    /// were linked.
    pub utc_check: Option<String>,
}

impl ImportReport {
    /// Items seen in total.
    pub fn total(&self) -> usize {
        self.imported + self.summary_only + self.skipped_unchanged + self.failed.len()
    }
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The content hash of a summary-only CSV row: the parsed row without its position in the file
/// (adding activities above it must not make it look changed).
pub fn csv_row_hash(a: &StravaActivity) -> String {
    let mut canonical = a.clone();
    canonical.row = 0;
    canonical.line = 0;
    // StravaActivity holds only strings, numbers, bools and enums: serialisation cannot fail,
    // and serde_json writes non-finite floats as null rather than erroring.
    let json = serde_json::to_string(&canonical).unwrap_or_else(|_| format!("{canonical:?}"));
    sha256_hex(format!("strava-csv-row\n{json}").as_bytes())
}

/// Read a FIT file, gunzipping `.gz` (detected by the gzip magic bytes, not the name).
pub fn read_fit_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(MAX_FIT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("not a valid gzip stream: {e}"))?;
        if out.len() as u64 > MAX_FIT_BYTES {
            return Err(format!(
                "decompresses to more than {} MB: refused",
                MAX_FIT_BYTES / (1024 * 1024)
            ));
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// One FIT file to process.
#[derive(Debug)]
struct FitItem {
    /// Relative to the import root, '/'-separated.
    rel: String,
    abs: PathBuf,
    /// Index into the CSV activities when an export row links this file.
    row: Option<usize>,
}

/// What a stored activity looks like to the importer.
#[derive(Debug, Clone)]
struct Known {
    id: i64,
    start_time: i64,
    source_kind: String,
    csv_row_hash: Option<String>,
    external_id: Option<String>,
}

/// The result of the parallel stage for one file.
enum FitOutcome {
    /// Content already stored: not decoded.
    Unchanged { hash: String },
    /// Failed before (same content, same decoder): not decoded again.
    KnownFailure { reason: String },
    Decoded {
        hash: String,
        summary: Box<ActivitySummary>,
        truncated: bool,
        warnings: Vec<String>,
    },
    Failed {
        /// Present when the bytes were read, so the failure can be remembered.
        hash: Option<String>,
        reason: String,
    },
}

/// Running totals of one import.
#[derive(Default)]
struct Tally {
    imported: usize,
    summary_only: usize,
    skipped_unchanged: usize,
    updated: usize,
    failed: Vec<(String, String)>,
    warnings: Vec<String>,
}

/// Import `source` for `athlete_id`, computing each activity's summary against `profile` (FTP on
/// the activity's date, heart-rate thresholds, time zone for the local date).
///
/// Errors only when the source as a whole is unusable (no rides, unreadable or empty CSV) or the
/// database fails; a bad file or row is reported in [`ImportReport::failed`] and the run goes on.
pub fn import(
    store: &mut Store,
    athlete_id: i64,
    source: &ImportSource,
    profile: &Profile,
    progress: &(dyn Fn(ImportProgress) + Sync),
) -> Result<ImportReport, StoreError> {
    let started = Instant::now();
    store.require_athlete(athlete_id)?;
    let tz = profile.time_zone();
    let root = source.path();

    // Plan before touching the database, so an unusable source leaves no run row behind.
    let mut tally = Tally::default();
    let (csv, fit_items, summary_rows): (Option<StravaExport>, Vec<FitItem>, Vec<usize>) =
        match source {
            ImportSource::Export(dir) => {
                let export = ride::strava::read_activities_csv(&dir.join(EXPORT_CSV))?;
                let (fits, rows) = plan_export(dir, &export, &mut tally.warnings);
                (Some(export), fits, rows)
            }
            ImportSource::Csv(file) => {
                let export = ride::strava::read_activities_csv(file)?;
                let rows = (0..export.activities.len()).collect();
                (Some(export), Vec::new(), rows)
            }
            ImportSource::FitDir(dir) => {
                let fits = scan_fit_dir(dir)?;
                if fits.is_empty() {
                    return Err(StoreError::NoActivities(dir.clone()));
                }
                (None, fits, Vec::new())
            }
        };
    if let Some(export) = &csv {
        tally.warnings.extend(export.warnings.iter().cloned());
    }
    let rows: &[StravaActivity] = csv.as_ref().map_or(&[], |e| &e.activities);

    let run_id = start_run(
        &store.conn,
        athlete_id,
        source.kind(),
        &root.display().to_string(),
    )?;
    for w in &tally.warnings {
        add_warning(&store.conn, run_id, WarningKind::Warning, None, w)?;
    }

    let (by_hash, by_ext) = load_known(store, athlete_id)?;
    let failures = load_failures(store, athlete_id)?;

    let total = fit_items.len() + summary_rows.len();
    let done = AtomicUsize::new(0);
    let decoded_files = AtomicUsize::new(0);
    let decoded_bytes = AtomicU64::new(0);
    let tick = || {
        progress(ImportProgress {
            done: done.fetch_add(1, Ordering::Relaxed) + 1,
            total,
            decoded_files: decoded_files.load(Ordering::Relaxed),
            decoded_bytes: decoded_bytes.load(Ordering::Relaxed),
        })
    };

    // CSV rows without a usable FIT file: cheap, on this thread.
    for chunk in summary_rows.chunks(ROW_BATCH) {
        let tx = store.conn.transaction()?;
        for &i in chunk {
            write_summary_row(
                &tx,
                athlete_id,
                run_id,
                &rows[i],
                profile,
                &tz,
                &by_ext,
                &mut tally,
            )?;
            tick();
        }
        tx.commit()?;
    }

    // FIT files: decode in parallel, write per batch.
    let mut seen_this_run: HashMap<String, String> = HashMap::new();
    let mut offsets: Vec<i64> = Vec::new();
    for chunk in fit_items.chunks(BATCH) {
        let outcomes: Vec<FitOutcome> = chunk
            .par_iter()
            .map(|item| {
                let out = process_fit(
                    item,
                    profile,
                    &tz,
                    &by_hash,
                    &failures,
                    &decoded_files,
                    &decoded_bytes,
                );
                tick();
                out
            })
            .collect();
        let tx = store.conn.transaction()?;
        for (item, outcome) in chunk.iter().zip(outcomes) {
            let row = item.row.map(|i| &rows[i]);
            write_fit_outcome(
                &tx,
                athlete_id,
                run_id,
                item,
                row,
                outcome,
                &by_hash,
                &mut seen_this_run,
                &mut offsets,
                &mut tally,
            )?;
        }
        tx.commit()?;
    }

    let utc_check = utc_check_message(&offsets);
    if let Some((_, Some(warning))) = &utc_check {
        tally.warnings.push(warning.clone());
        add_warning(&store.conn, run_id, WarningKind::Warning, None, warning)?;
    }
    let utc_check = utc_check.map(|(summary, _)| summary);

    let duration = started.elapsed();
    let decoded_files = decoded_files.into_inner();
    let decoded_bytes = decoded_bytes.into_inner();
    finish_run(
        &store.conn,
        run_id,
        &RunCounts {
            imported: tally.imported as u64,
            updated: tally.updated as u64,
            skipped_unchanged: tally.skipped_unchanged as u64,
            summary_only: tally.summary_only as u64,
            failed: tally.failed.len() as u64,
            decoded_files: decoded_files as u64,
            decoded_bytes,
            duration_ms: duration.as_millis() as u64,
            utc_check: utc_check.clone(),
        },
    )?;
    Ok(ImportReport {
        run_id,
        source: source.clone(),
        imported: tally.imported,
        summary_only: tally.summary_only,
        skipped_unchanged: tally.skipped_unchanged,
        failed: tally.failed,
        updated: tally.updated,
        warnings: tally.warnings,
        decoded_files,
        decoded_bytes,
        duration,
        utc_check,
    })
}

/// Split an export's rows into linked FIT files and summary-only rows.
fn plan_export(
    dir: &Path,
    export: &StravaExport,
    warnings: &mut Vec<String>,
) -> (Vec<FitItem>, Vec<usize>) {
    let mut fits = Vec::new();
    let mut rows = Vec::new();
    for (i, a) in export.activities.iter().enumerate() {
        let Some(name) = a.filename.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            rows.push(i);
            continue;
        };
        if !a.file_kind.is_fit() {
            rows.push(i);
            continue;
        }
        // The Filename is data from the CSV: only plain relative paths inside the export are
        // followed (no absolute paths, no `..`).
        let rel = Path::new(name);
        let inside = rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        let abs = dir.join(rel);
        if inside && abs.is_file() {
            fits.push(FitItem {
                rel: name.replace('\\', "/"),
                abs,
                row: Some(i),
            });
        } else {
            warnings.push(format!(
                "{EXPORT_CSV} row {} (activity {}): linked file {name} {}; imported from the CSV \
                 summary",
                a.row,
                a.id,
                if inside {
                    "is missing"
                } else {
                    "is not a path inside the export"
                }
            ));
            rows.push(i);
        }
    }
    (fits, rows)
}

/// Every `*.fit` / `*.fit.gz` under `dir`, sorted by relative path.
fn scan_fit_dir(dir: &Path) -> Result<Vec<FitItem>, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = entry.map_err(|e| StoreError::Io {
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let lower = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if !(lower.ends_with(".fit") || lower.ends_with(".fit.gz")) {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        out.push(FitItem {
            rel,
            abs: entry.path().to_path_buf(),
            row: None,
        });
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

type KnownMaps = (HashMap<String, Known>, HashMap<String, Known>);

fn load_known(store: &Store, athlete_id: i64) -> Result<KnownMaps, StoreError> {
    let mut stmt = store.conn.prepare(
        "SELECT id, content_hash, start_time, source_kind, csv_row_hash, external_id
         FROM activities WHERE athlete_id = ?1",
    )?;
    let rows = stmt.query_map([athlete_id], |r| {
        Ok((
            r.get::<_, String>(1)?,
            Known {
                id: r.get(0)?,
                start_time: r.get(2)?,
                source_kind: r.get(3)?,
                csv_row_hash: r.get(4)?,
                external_id: r.get(5)?,
            },
        ))
    })?;
    let mut by_hash = HashMap::new();
    let mut by_ext = HashMap::new();
    for row in rows {
        let (hash, known) = row?;
        if let Some(ext) = &known.external_id {
            by_ext.insert(ext.clone(), known.clone());
        }
        by_hash.insert(hash, known);
    }
    Ok((by_hash, by_ext))
}

fn load_failures(store: &Store, athlete_id: i64) -> Result<HashMap<String, String>, StoreError> {
    let mut stmt = store.conn.prepare(
        "SELECT content_hash, reason FROM import_failures
         WHERE athlete_id = ?1 AND decoder_version = ?2",
    )?;
    let rows = stmt.query_map(params![athlete_id, DECODER_VERSION], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Read, hash and (when new) decode and summarise one FIT file. Runs on the rayon pool.
fn process_fit(
    item: &FitItem,
    profile: &Profile,
    tz: &TimeZone,
    by_hash: &HashMap<String, Known>,
    failures: &HashMap<String, String>,
    decoded_files: &AtomicUsize,
    decoded_bytes: &AtomicU64,
) -> FitOutcome {
    let bytes = match read_fit_bytes(&item.abs) {
        Ok(b) => b,
        Err(reason) => return FitOutcome::Failed { hash: None, reason },
    };
    let hash = sha256_hex(&bytes);
    if by_hash.contains_key(&hash) {
        return FitOutcome::Unchanged { hash };
    }
    if let Some(reason) = failures.get(&hash) {
        return FitOutcome::KnownFailure {
            reason: reason.clone(),
        };
    }
    decoded_files.fetch_add(1, Ordering::Relaxed);
    decoded_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let activity = match ride::fit::decode_bytes(&bytes) {
        Ok(a) => a,
        Err(e) => {
            return FitOutcome::Failed {
                hash: Some(hash),
                reason: e.to_string(),
            };
        }
    };
    drop(bytes);
    if let Some(kind) = activity
        .file_id
        .as_ref()
        .and_then(|f| f.file_type.as_deref())
        .filter(|t| *t != "activity")
    {
        return FitOutcome::Failed {
            hash: Some(hash),
            reason: format!("a FIT {kind} file, not an activity"),
        };
    }
    let Some(start) = activity.start_time() else {
        return FitOutcome::Failed {
            hash: Some(hash),
            reason: "no session, record or file-creation timestamp: nothing to import".into(),
        };
    };
    let thresholds = crate::thresholds::for_date(profile, start.to_zoned(tz.clone()).date());
    let summary = metrics::summarize(&activity, &thresholds, tz);
    let mut warnings = activity.warnings.clone();
    if activity.truncated && !warnings.iter().any(|w| w.contains("truncat")) {
        warnings.push(format!(
            "file ends early (truncated): imported the {} records read before the break",
            activity.records.len()
        ));
    }
    FitOutcome::Decoded {
        hash,
        summary: Box::new(summary),
        truncated: activity.truncated,
        warnings,
    }
}

