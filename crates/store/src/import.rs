//! The incremental importer: a Strava bulk export, a folder of FIT files, or a bare
//! `activities.csv` → activities, summaries, power curves and laps in the store.
//!
//! "FIT file" below stands for any activity file with samples: FIT, TCX or GPX, each plain or
//! gzipped (`ride::activity_file` recognises the format by content). All three take the same
//! path and are stored as `source_kind = 'fit'` (a decoded file; its `source_path` tells the
//! format). A row an older build stored from the CSV alone because its file was TCX or GPX is
//! upgraded by the next run: the file's content hash is not stored yet, so it is decoded, and
//! the activity with the row's Strava id is replaced in place (same id).
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

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use metrics::ActivitySummary;
use rayon::prelude::*;
use ride::SportKind;
use ride::profile::Profile;
use ride::strava::{StravaActivity, StravaExport};
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::activities::{NewActivity, SourceKind, UpsertOutcome, upsert_activity};
use crate::duplicates::DuplicateFound;
use crate::laps::{LapRow, compute_laps, write_laps};
use crate::quality::{QualityCounts, write_quality};
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
    /// Every `*.fit`, `*.tcx`, `*.gpx` (each also `.gz`) under a directory, recursively.
    FitDir(PathBuf),
    /// A Strava `activities.csv` alone: summary rows only.
    Csv(PathBuf),
    /// A Strava `activities.csv` with the folder holding its activity files (the original
    /// tool's `--csv … --fit-dir …` pair): each row's `Filename` is looked up in `files` (as
    /// written, else by its file name), and files no row names are imported too — matched to
    /// their CSV row by start time like a FIT folder imported after a CSV.
    CsvWithFiles { csv: PathBuf, files: PathBuf },
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
            ImportSource::Export(p)
            | ImportSource::FitDir(p)
            | ImportSource::Csv(p)
            | ImportSource::CsvWithFiles { csv: p, .. } => p,
        }
    }

    /// The `import_runs.source_kind` value.
    pub fn kind(&self) -> &'static str {
        match self {
            // A CSV with its files is an export laid out differently (the run table's kinds
            // are fixed by its CHECK constraint).
            ImportSource::Export(_) | ImportSource::CsvWithFiles { .. } => "export",
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
    /// FIT files read and hashed; files whose size and modification time are unchanged since a
    /// previous run are skipped without being read.
    pub hashed_files: usize,
    pub decoded_files: usize,
    pub decoded_bytes: u64,
    pub duration: Duration,
    /// How the CSV's `Activity Date` compares with the linked FIT files' start times, when any
    /// were linked.
    pub utc_check: Option<String>,
    /// What the sample-level quality pass repaired and flagged in the activities written.
    pub quality: QualityCounts,
    /// Activities found in this run to be another recording of a stored ride: kept in the store,
    /// left out of every metric.
    pub duplicates: Vec<DuplicateFound>,
}

impl ImportReport {
    /// Items seen in total.
    pub fn total(&self) -> usize {
        self.imported + self.summary_only + self.skipped_unchanged + self.failed.len()
    }
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The content hash of a CSV row: the parsed row without its position in the file (activities
/// added above it must not make it look changed).
pub fn csv_row_hash(a: &StravaActivity) -> String {
    let mut canonical = a.clone();
    canonical.row = 0;
    canonical.line = 0;
    // Strings, numbers, bools and enums only: serialisation cannot fail (serde_json writes a
    // non-finite float as null); the Debug text is an equally stable stand-in if it ever did.
    let json = serde_json::to_string(&canonical).unwrap_or_else(|_| format!("{canonical:?}"));
    sha256_hex(format!("strava-csv-row\n{json}").as_bytes())
}

/// The FIT bytes of a file, gunzipped when they start with the gzip magic (whatever the name).
/// A gzip stream damaged part-way keeps what came out before the damage (the decoder then
/// reports a truncated file) and says so in the second value.
pub fn read_fit_bytes(path: &Path) -> Result<(Vec<u8>, Option<String>), String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok((raw, None));
    }
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4));
    let result = flate2::read::MultiGzDecoder::new(&raw[..])
        .take(MAX_FIT_BYTES + 1)
        .read_to_end(&mut out);
    if out.len() as u64 > MAX_FIT_BYTES {
        return Err(format!(
            "decompresses to more than {} MB: refused as not a ride",
            MAX_FIT_BYTES / (1024 * 1024)
        ));
    }
    match result {
        Ok(_) => Ok((out, None)),
        Err(e) if out.is_empty() => Err(format!("not a valid gzip stream: {e}")),
        Err(e) => {
            let note = format!(
                "the gzip stream is damaged after {} decompressed bytes ({e}); the data before \
                 that point were imported",
                out.len()
            );
            Ok((out, Some(note)))
        }
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
        /// Every lap of the file (empty when it has none), written with the activity.
        laps: Vec<LapRow>,
        /// The sample-level quality record, written with the activity.
        quality: metrics::Quality,
        truncated: bool,
        warnings: Vec<String>,
    },
    Failed {
        /// Present when the bytes were read, so the failure can be remembered.
        hash: Option<String>,
        reason: String,
    },
}

/// A file's size and modification time with the content hash they were seen with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStat {
    size: u64,
    mtime_ns: i64,
    hash: String,
}

/// Size and modification time (ns since the epoch) of a file, when the platform reports them.
fn stat(path: &Path) -> Option<(u64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?;
    let ns = mtime
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())?;
    Some((meta.len(), ns))
}

/// What every stage of one run shares.
struct Ctx<'a> {
    athlete_id: i64,
    run_id: i64,
    profile: &'a Profile,
    tz: &'a TimeZone,
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
    /// FIT start − CSV `Activity Date`, seconds, over linked files.
    utc_offsets: Vec<i64>,
    quality: QualityCounts,
    /// Activities written in the current transaction, compared with their time neighbours
    /// before it commits (a run killed mid-way leaves no written-but-unchecked activity).
    written: Vec<i64>,
    duplicates: Vec<DuplicateFound>,
}

impl Tally {
    /// Mark the duplicates among the activities written in `tx` since the last check.
    fn check_duplicates(
        &mut self,
        tx: &Transaction<'_>,
        athlete_id: i64,
    ) -> Result<(), StoreError> {
        let written = std::mem::take(&mut self.written);
        self.duplicates
            .extend(crate::duplicates::detect(tx, athlete_id, &written)?);
        Ok(())
    }
}

/// The thresholds in force on `date`: FTP from the profile's history (so a ride from two
/// seasons ago is scored against the FTP of its day), heart-rate figures from the profile.
pub fn thresholds_on(profile: &Profile, date: jiff::civil::Date) -> metrics::Thresholds {
    metrics::Thresholds {
        ftp_w: profile.ftp_on(date),
        lthr_bpm: profile.lthr_bpm.map(f64::from),
        max_hr_bpm: profile.max_hr_bpm.map(f64::from),
        resting_hr_bpm: profile.resting_hr_bpm.map(f64::from),
        sex: profile.sex,
    }
}

/// Import `source` for `athlete_id`, computing each activity's summary against `profile` (FTP in
/// force on the activity's date, heart-rate thresholds, time zone for the local date).
///
/// Errors only when the source as a whole is unusable (no rides, unreadable or empty CSV) or the
/// database fails; a bad file or row lands in [`ImportReport::failed`] and the run goes on.
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
                let (fits, rows) = plan_export(dir, &export, false, &mut tally.warnings);
                (Some(export), fits, rows)
            }
            ImportSource::CsvWithFiles { csv, files } => {
                let export = ride::strava::read_activities_csv(csv)?;
                let (mut fits, rows) = plan_export(files, &export, true, &mut tally.warnings);
                for f in scan_fit_dir(files)? {
                    if !fits.iter().any(|linked| linked.abs == f.abs) {
                        fits.push(f);
                    }
                }
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
    let rows: &[StravaActivity] = csv.as_ref().map_or(&[], |e| &e.activities);
    if let Some(export) = &csv {
        tally.warnings.extend(export.warnings.iter().cloned());
    }

    let run_id = start_run(
        &store.conn,
        athlete_id,
        source.kind(),
        &root.display().to_string(),
    )?;
    for w in &tally.warnings {
        add_warning(&store.conn, run_id, WarningKind::Warning, None, w)?;
    }
    let ctx = Ctx {
        athlete_id,
        run_id,
        profile,
        tz: &tz,
    };

    let (by_hash, by_ext) = load_known(store, athlete_id)?;
    let failures = load_failures(store, athlete_id)?;
    let stats = load_stats(store, athlete_id)?;

    let total = fit_items.len() + summary_rows.len();
    let done = AtomicUsize::new(0);
    let hashed_files = AtomicUsize::new(0);
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
        let tx = store.write_transaction()?;
        for &i in chunk {
            write_summary_row(&tx, &ctx, &rows[i], &by_ext, &mut tally)?;
            tick();
        }
        tally.check_duplicates(&tx, athlete_id)?;
        tx.commit()?;
    }

    // FIT files: read, hash, decode and summarise in parallel; write each batch at once.
    let mut seen_this_run: HashMap<String, String> = HashMap::new();
    for chunk in fit_items.chunks(BATCH) {
        let outcomes: Vec<(FitOutcome, Option<FileStat>)> = chunk
            .par_iter()
            .map(|item| {
                let out = process_fit(
                    item,
                    &ctx,
                    &Seen {
                        by_hash: &by_hash,
                        failures: &failures,
                        stats: &stats,
                    },
                    &Counters {
                        hashed_files: &hashed_files,
                        decoded_files: &decoded_files,
                        decoded_bytes: &decoded_bytes,
                    },
                );
                tick();
                out
            })
            .collect();
        let tx = store.write_transaction()?;
        for (item, (outcome, fresh_stat)) in chunk.iter().zip(outcomes) {
            if let Some(st) = fresh_stat {
                tx.execute(
                    "INSERT OR REPLACE INTO file_stats (athlete_id, path, size, mtime_ns,
                        content_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        athlete_id,
                        item.abs.to_string_lossy(),
                        st.size as i64,
                        st.mtime_ns,
                        st.hash
                    ],
                )?;
            }
            let row = item.row.map(|i| &rows[i]);
            write_fit_outcome(
                &tx,
                &ctx,
                item,
                row,
                outcome,
                &by_hash,
                &mut seen_this_run,
                &mut tally,
            )?;
        }
        tally.check_duplicates(&tx, athlete_id)?;
        tx.commit()?;
    }

    let utc_check = utc_check_message(&tally.utc_offsets);
    if let Some((_, Some(warning))) = &utc_check {
        tally.warnings.push(warning.clone());
        add_warning(&store.conn, run_id, WarningKind::Warning, None, warning)?;
    }
    let utc_check = utc_check.map(|(summary, _)| summary);

    let duration = started.elapsed();
    let hashed_files = hashed_files.into_inner();
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
        hashed_files,
        decoded_files,
        decoded_bytes,
        duration,
        utc_check,
        quality: tally.quality,
        duplicates: tally.duplicates,
    })
}

/// Split an export's rows into linked FIT files and summary-only rows.
fn plan_export(
    dir: &Path,
    export: &StravaExport,
    by_file_name: bool,
    warnings: &mut Vec<String>,
) -> (Vec<FitItem>, Vec<usize>) {
    let mut fits = Vec::new();
    let mut rows = Vec::new();
    for (i, a) in export.activities.iter().enumerate() {
        let name = a
            .filename
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let Some(name) = name.filter(|_| a.file_kind.has_samples()) else {
            rows.push(i);
            continue;
        };
        // The Filename is data from the CSV: only plain relative paths inside the export are
        // followed (no absolute paths, no `..`).
        let rel = Path::new(name);
        let inside = rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        let mut abs = dir.join(rel);
        // A folder of activity files usually holds them without the export's `activities/`.
        if by_file_name
            && !abs.is_file()
            && let Some(file) = rel.file_name()
        {
            abs = dir.join(file);
        }
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

/// Every FIT, TCX and GPX file (plain or `.gz`) under `dir`, sorted by relative path.
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
        if !ride::activity_file::is_activity_file_name(&entry.file_name().to_string_lossy()) {
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

/// Stored activities of the athlete by content hash and by Strava id.
type KnownMaps = (HashMap<String, Known>, HashMap<String, Known>);

/// A FIT activity whose laps or quality record were never recorded (imported before schema
/// version 4 or 5) is left out of the by-hash map, so the next run decodes its file again and
/// adds them, in place (same id): "re-import to add laps" then works without deleting anything,
/// and metrics built on spikes before the quality checks existed are recomputed.
fn load_known(store: &Store, athlete_id: i64) -> Result<KnownMaps, StoreError> {
    let mut stmt = store.conn.prepare(
        "SELECT a.id, a.content_hash, a.start_time, a.source_kind, a.csv_row_hash, a.external_id,
            a.source_kind = 'fit' AND (coalesce(m.laps_recorded, 0) = 0 OR q.activity_id IS NULL)
         FROM activities a LEFT JOIN activity_metrics m ON m.activity_id = a.id
         LEFT JOIN activity_quality q ON q.activity_id = a.id
         WHERE a.athlete_id = ?1",
    )?;
    let rows = stmt.query_map([athlete_id], |r| {
        Ok((
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, bool>(6)?,
            Known {
                id: r.get(0)?,
                start_time: r.get(2)?,
                source_kind: r.get(3)?,
                csv_row_hash: r.get(4)?,
            },
        ))
    })?;
    let mut by_hash = HashMap::new();
    let mut by_ext = HashMap::new();
    for row in rows {
        let (hash, ext, needs_decode, known) = row?;
        if let Some(ext) = ext {
            by_ext.insert(ext, known.clone());
        }
        if !needs_decode {
            by_hash.insert(hash, known);
        }
    }
    Ok((by_hash, by_ext))
}

/// Content hashes this decoder version already failed on, with the reason.
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

/// Size/mtime records of the athlete's files, by path.
fn load_stats(store: &Store, athlete_id: i64) -> Result<HashMap<String, FileStat>, StoreError> {
    let mut stmt = store.conn.prepare(
        "SELECT path, size, mtime_ns, content_hash FROM file_stats WHERE athlete_id = ?1",
    )?;
    let rows = stmt.query_map([athlete_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            FileStat {
                size: r.get::<_, i64>(1)?.max(0) as u64,
                mtime_ns: r.get(2)?,
                hash: r.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What the store already knows, read once before the parallel stage.
struct Seen<'a> {
    by_hash: &'a HashMap<String, Known>,
    failures: &'a HashMap<String, String>,
    stats: &'a HashMap<String, FileStat>,
}

impl Seen<'_> {
    /// The verdict for content already seen: stored, or failed with this decoder.
    fn verdict(&self, hash: &str) -> Option<FitOutcome> {
        if self.by_hash.contains_key(hash) {
            return Some(FitOutcome::Unchanged {
                hash: hash.to_string(),
            });
        }
        self.failures
            .get(hash)
            .map(|reason| FitOutcome::KnownFailure {
                reason: reason.clone(),
            })
    }
}

/// Work counters shared by the workers (they feed the progress callback).
struct Counters<'a> {
    hashed_files: &'a AtomicUsize,
    decoded_files: &'a AtomicUsize,
    decoded_bytes: &'a AtomicU64,
}

/// Stat, read, hash and (when new) decode and summarise one FIT file. Runs on the rayon pool.
/// The second value is the file's fresh size/mtime/hash record, when it needs (re)writing.
fn process_fit(
    item: &FitItem,
    ctx: &Ctx<'_>,
    seen: &Seen<'_>,
    counters: &Counters<'_>,
) -> (FitOutcome, Option<FileStat>) {
    let path_key = item.abs.to_string_lossy();
    let st = stat(&item.abs);
    // Same size and mtime as when it was hashed: trust the recorded hash without reading.
    if let (Some((size, mtime_ns)), Some(known)) = (st, seen.stats.get(path_key.as_ref()))
        && known.size == size
        && known.mtime_ns == mtime_ns
        && let Some(verdict) = seen.verdict(&known.hash)
    {
        return (verdict, None);
    }
    let (bytes, gzip_note) = match read_fit_bytes(&item.abs) {
        Ok(b) => b,
        Err(reason) => return (FitOutcome::Failed { hash: None, reason }, None),
    };
    counters.hashed_files.fetch_add(1, Ordering::Relaxed);
    let hash = sha256_hex(&bytes);
    let fresh = st.map(|(size, mtime_ns)| FileStat {
        size,
        mtime_ns,
        hash: hash.clone(),
    });
    if let Some(verdict) = seen.verdict(&hash) {
        return (verdict, fresh);
    }
    counters.decoded_files.fetch_add(1, Ordering::Relaxed);
    counters
        .decoded_bytes
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    (decode_and_summarise(ctx, bytes, gzip_note, hash), fresh)
}

/// Decode FIT bytes and compute the summary against the thresholds of the ride's date.
fn decode_and_summarise(
    ctx: &Ctx<'_>,
    bytes: Vec<u8>,
    gzip_note: Option<String>,
    hash: String,
) -> FitOutcome {
    let decoded = ride::activity_file::decode_bytes(&bytes);
    drop(bytes);
    let activity = match decoded {
        Ok(a) => a,
        Err(e) => {
            return FitOutcome::Failed {
                hash: Some(hash),
                reason: e.to_string(),
            };
        }
    };
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
    let date = ctx.tz.to_datetime(start).date();
    let (summary, quality) =
        metrics::summarize_with_quality(&activity, &thresholds_on(ctx.profile, date), ctx.tz);
    let mut warnings: Vec<String> = gzip_note.into_iter().collect();
    warnings.extend(activity.warnings.iter().cloned());
    if activity.truncated
        && !warnings
            .iter()
            .any(|w| w.to_lowercase().contains("truncat"))
    {
        warnings.push(format!(
            "the file is truncated: imported the {} records read before the break",
            activity.records.len()
        ));
    }
    FitOutcome::Decoded {
        hash,
        summary: Box::new(summary),
        laps: compute_laps(&activity),
        quality,
        truncated: activity.truncated,
        warnings,
    }
}

fn record_failure(
    tx: &Transaction<'_>,
    ctx: &Ctx<'_>,
    location: &str,
    reason: &str,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    add_warning(tx, ctx.run_id, WarningKind::Failed, Some(location), reason)?;
    tally
        .failed
        .push((location.to_string(), reason.to_string()));
    Ok(())
}

fn record_warning(
    tx: &Transaction<'_>,
    ctx: &Ctx<'_>,
    location: &str,
    message: &str,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    add_warning(
        tx,
        ctx.run_id,
        WarningKind::Warning,
        Some(location),
        message,
    )?;
    tally.warnings.push(format!("{location}: {message}"));
    Ok(())
}

/// How a CSV row is named in messages.
fn row_location(a: &StravaActivity) -> String {
    format!("{EXPORT_CSV} row {} (activity {})", a.row, a.id)
}

/// Where a summary-only row "lives": its (unread) file when it has one, else a pseudo-path that
/// is unique per Strava id.
fn summary_source_path(a: &StravaActivity) -> String {
    match a
        .filename
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(name) => name.replace('\\', "/"),
        None => format!("{EXPORT_CSV}#{}", a.id),
    }
}

/// The activity written for a CSV row alone.
fn summary_activity(ctx: &Ctx<'_>, a: &StravaActivity, hash: String) -> NewActivity {
    let date = ctx.tz.to_datetime(a.start_time).date();
    let summary = metrics::summarize_strava(a, &thresholds_on(ctx.profile, date), ctx.tz);
    NewActivity {
        source_kind: SourceKind::StravaCsvSummary,
        external_id: Some(a.id.clone()),
        source_path: summary_source_path(a),
        content_hash: hash.clone(),
        csv_row_hash: Some(hash),
        name: Some(a.name.clone()),
        description: a.description.clone(),
        summary,
        truncated: false,
        warnings: Vec::new(),
    }
}

/// Refresh the text of a stored activity from its (edited) CSV row.
fn refresh_text(
    tx: &Transaction<'_>,
    id: i64,
    a: &StravaActivity,
    row_hash: &str,
) -> Result<(), StoreError> {
    let kind = a.sport;
    tx.execute(
        "UPDATE activities SET name = ?2, description = ?3, external_id = ?4, csv_row_hash = ?5,
            sport = ?6, environment = ?7, e_bike = ?8
         WHERE id = ?1",
        params![
            id,
            a.name,
            a.description,
            a.id,
            row_hash,
            kind.sport.as_str(),
            crate::activities::env_str(kind.environment),
            kind.e_bike
        ],
    )?;
    Ok(())
}

/// Write one CSV row that has no FIT file to decode.
fn write_summary_row(
    tx: &Transaction<'_>,
    ctx: &Ctx<'_>,
    a: &StravaActivity,
    by_ext: &HashMap<String, Known>,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    let hash = csv_row_hash(a);
    let location = row_location(a);
    if let Some(known) = by_ext.get(&a.id) {
        if known.source_kind == SourceKind::Fit.as_str() {
            // Already imported with its FIT file (e.g. from the full export): the CSV row can only
            // refresh the text, never replace the samples with a summary.
            if known.csv_row_hash.as_deref() != Some(hash.as_str()) {
                refresh_text(tx, known.id, a, &hash)?;
                tally.updated += 1;
            }
            tally.skipped_unchanged += 1;
            return Ok(());
        }
        if known.csv_row_hash.as_deref() == Some(hash.as_str()) {
            tally.skipped_unchanged += 1;
            return Ok(());
        }
    } else if let Some(id) = fit_twin(tx, ctx.athlete_id, a.start_time)? {
        // A FIT file imported on its own (from a device folder) is this row's ride: link them.
        refresh_text(tx, id, a, &hash)?;
        tally.skipped_unchanged += 1;
        tally.updated += 1;
        return record_warning(
            tx,
            ctx,
            &location,
            &format!("linked to activity {id}, imported earlier from its FIT file"),
            tally,
        );
    }
    let new = summary_activity(ctx, a, hash);
    match upsert_activity(tx, ctx.athlete_id, Some(ctx.run_id), &new) {
        Ok(outcome) => {
            tally.written.push(outcome.id());
            tally.summary_only += 1;
            if matches!(outcome, UpsertOutcome::Updated(_)) {
                tally.updated += 1;
            }
        }
        Err(e) => record_failure(tx, ctx, &location, &e.to_string(), tally)?,
    }
    Ok(())
}

/// A FIT activity without a Strava id starting within [`SAME_START_S`] of `start`.
fn fit_twin(
    tx: &Transaction<'_>,
    athlete_id: i64,
    start: Timestamp,
) -> Result<Option<i64>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT id FROM activities
             WHERE athlete_id = ?1 AND source_kind = 'fit' AND external_id IS NULL
               AND start_time BETWEEN ?2 - ?3 AND ?2 + ?3
             ORDER BY abs(start_time - ?2) LIMIT 1",
            params![athlete_id, start.as_second(), SAME_START_S],
            |r| r.get(0),
        )
        .optional()?)
}

/// What a summary-only row imported earlier tells about a FIT file now decoded without a CSV:
/// its Strava id, text and classification.
struct CsvTwin {
    external_id: String,
    name: Option<String>,
    description: Option<String>,
    csv_row_hash: Option<String>,
    sport: SportKind,
}

fn csv_twin(
    tx: &Transaction<'_>,
    athlete_id: i64,
    start: Timestamp,
) -> Result<Option<CsvTwin>, StoreError> {
    let row = tx
        .query_row(
            "SELECT external_id, name, description, csv_row_hash, sport, environment, e_bike
             FROM activities
             WHERE athlete_id = ?1 AND source_kind = 'strava_csv_summary'
               AND external_id IS NOT NULL
               AND start_time BETWEEN ?2 - ?3 AND ?2 + ?3
             ORDER BY abs(start_time - ?2) LIMIT 1",
            params![athlete_id, start.as_second(), SAME_START_S],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, bool>(6)?,
                ))
            },
        )
        .optional()?;
    Ok(row.and_then(
        |(external_id, name, description, csv_row_hash, sport, env, e_bike)| {
            Some(CsvTwin {
                external_id,
                name,
                description,
                csv_row_hash,
                sport: SportKind {
                    sport: ride::Sport::parse(&sport)?,
                    environment: crate::activities::env_parse(&env)?,
                    e_bike,
                },
            })
        },
    ))
}

/// Write the result of [`process_fit`] for one file.
#[allow(clippy::too_many_arguments)]
fn write_fit_outcome(
    tx: &Transaction<'_>,
    ctx: &Ctx<'_>,
    item: &FitItem,
    row: Option<&StravaActivity>,
    outcome: FitOutcome,
    by_hash: &HashMap<String, Known>,
    seen_this_run: &mut HashMap<String, String>,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    match outcome {
        FitOutcome::Failed { hash, reason } => {
            if let Some(hash) = hash {
                tx.execute(
                    "INSERT OR REPLACE INTO import_failures (athlete_id, content_hash,
                        source_path, reason, decoder_version, failed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        ctx.athlete_id,
                        hash,
                        item.rel,
                        reason,
                        DECODER_VERSION,
                        now_rfc3339()
                    ],
                )?;
            }
            record_failure(tx, ctx, &item.rel, &reason, tally)?;
            if let Some(a) = row {
                write_row_fallback(tx, ctx, item, a, tally)?;
            }
        }
        FitOutcome::KnownFailure { reason } => {
            let reason = format!("{reason} (unchanged since it last failed; not decoded again)");
            record_failure(tx, ctx, &item.rel, &reason, tally)?;
            if let Some(a) = row {
                write_row_fallback(tx, ctx, item, a, tally)?;
            }
        }
        FitOutcome::Unchanged { hash } => {
            tally.skipped_unchanged += 1;
            let known = &by_hash[&hash];
            if let Some(a) = row {
                tally
                    .utc_offsets
                    .push(known.start_time - a.start_time.as_second());
                let row_hash = csv_row_hash(a);
                if known.csv_row_hash.as_deref() != Some(row_hash.as_str()) {
                    // Same ride, edited in Strava: refresh the text without decoding again. A
                    // conflict (the Strava id now on another activity) is worth a warning, not
                    // the run.
                    match refresh_text(tx, known.id, a, &row_hash) {
                        Ok(()) => tally.updated += 1,
                        Err(e) => record_warning(
                            tx,
                            ctx,
                            &item.rel,
                            &format!("could not refresh the name from {}: {e}", row_location(a)),
                            tally,
                        )?,
                    }
                }
            }
        }
        FitOutcome::Decoded {
            hash,
            summary,
            laps,
            quality,
            truncated,
            warnings,
        } => {
            if let Some(first) = seen_this_run.get(&hash) {
                tally.skipped_unchanged += 1;
                let note = format!("same ride as {first} (identical content); imported once");
                return record_warning(tx, ctx, &item.rel, &note, tally);
            }
            seen_this_run.insert(hash.clone(), item.rel.clone());
            let mut summary = *summary;
            let (external_id, name, description, csv_hash) = match row {
                Some(a) => {
                    tally
                        .utc_offsets
                        .push(summary.start_time.as_second() - a.start_time.as_second());
                    // Strava's type is the athlete's own classification (an e-bike ride, a
                    // virtual ride recorded as plain cycling): it wins over the device's sport.
                    summary.sport = a.sport;
                    (
                        Some(a.id.clone()),
                        Some(a.name.clone()),
                        a.description.clone(),
                        Some(csv_row_hash(a)),
                    )
                }
                None => match csv_twin(tx, ctx.athlete_id, summary.start_time)? {
                    Some(twin) => {
                        summary.sport = twin.sport;
                        (
                            Some(twin.external_id),
                            twin.name,
                            twin.description,
                            twin.csv_row_hash,
                        )
                    }
                    None => (None, None, None, None),
                },
            };
            let new = NewActivity {
                source_kind: SourceKind::Fit,
                external_id,
                source_path: item.rel.clone(),
                content_hash: hash.clone(),
                csv_row_hash: csv_hash,
                name,
                description,
                summary,
                truncated,
                warnings: warnings.clone(),
            };
            match upsert_activity(tx, ctx.athlete_id, Some(ctx.run_id), &new) {
                Ok(outcome) => {
                    // Same transaction as the activity: a ride is never stored without its laps.
                    write_laps(tx, outcome.id(), &laps)?;
                    write_quality(tx, outcome.id(), &quality)?;
                    tally.quality.add(&quality);
                    tally.written.push(outcome.id());
                    tally.imported += 1;
                    if matches!(outcome, UpsertOutcome::Updated(_)) {
                        tally.updated += 1;
                    }
                    tx.execute(
                        "DELETE FROM import_failures WHERE athlete_id = ?1 AND content_hash = ?2",
                        params![ctx.athlete_id, hash],
                    )?;
                    for w in &warnings {
                        record_warning(tx, ctx, &item.rel, w, tally)?;
                    }
                }
                Err(e) => record_failure(tx, ctx, &item.rel, &e.to_string(), tally)?,
            }
        }
    }
    Ok(())
}

/// The linked FIT file of an export row could not be imported: keep the row's summary so the
/// activity still counts in the history, unless the Strava id is already stored. The item is
/// already counted as failed; this adds no second count.
fn write_row_fallback(
    tx: &Transaction<'_>,
    ctx: &Ctx<'_>,
    item: &FitItem,
    a: &StravaActivity,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    let exists: Option<i64> = tx
        .query_row(
            "SELECT id FROM activities WHERE athlete_id = ?1 AND external_id = ?2",
            params![ctx.athlete_id, a.id],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_some() {
        return Ok(());
    }
    let new = summary_activity(ctx, a, csv_row_hash(a));
    let outcome = upsert_activity(tx, ctx.athlete_id, Some(ctx.run_id), &new)?;
    tally.written.push(outcome.id());
    let note = format!(
        "{} kept from its CSV summary because its file could not be imported",
        row_location(a)
    );
    record_warning(tx, ctx, &item.rel, &note, tally)
}

/// Seconds as "±Hh MMmin".
fn hm(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "+" };
    let s = seconds.unsigned_abs();
    format!("{sign}{}h{:02}", s / 3600, (s % 3600) / 60)
}

/// Summarise FIT start − CSV date offsets: `(summary line, warning when the dates look local)`.
fn utc_check_message(offsets: &[i64]) -> Option<(String, Option<String>)> {
    if offsets.is_empty() {
        return None;
    }
    let mut sorted = offsets.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    };
    let matches = sorted.iter().filter(|o| o.abs() <= SAME_START_S).count();
    let summary = format!(
        "Activity Date matches FIT start time (UTC) on {matches}/{n} linked files, median offset \
         {median} s"
    );
    let warning = (median.abs() > SAME_START_S).then(|| {
        format!(
            "{EXPORT_CSV}: Activity Date differs from the linked FIT start times by a median of \
             {} ({median} s) over {n} files: this export's dates look like local time, not UTC, \
             so summary-only activities may sit on the wrong day",
            hm(median)
        )
    });
    Some((summary, warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_check_reports_matches_and_flags_local_time() {
        let (s, w) = utc_check_message(&[0, 1, -1, 0, 3600]).unwrap();
        assert_eq!(
            s,
            "Activity Date matches FIT start time (UTC) on 4/5 linked files, median offset 0 s"
        );
        assert!(w.is_none());
        let (s, w) = utc_check_message(&[-7200, -7200, -7199]).unwrap();
        assert!(
            s.contains("on 0/3 linked files, median offset -7200 s"),
            "{s}"
        );
        assert!(w.unwrap().contains("-2h00"));
        assert!(utc_check_message(&[]).is_none());
    }

    #[test]
    fn sha256_is_lowercase_hex_of_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn gz_and_plain_read_to_the_same_bytes() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.fit");
        std::fs::write(&plain, b"\x0e\x10not really fit").unwrap();
        let gz = dir.path().join("a.fit.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"\x0e\x10not really fit").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let (a, na) = read_fit_bytes(&plain).unwrap();
        let (b, nb) = read_fit_bytes(&gz).unwrap();
        assert_eq!(a, b);
        assert!(na.is_none() && nb.is_none());
        // A cut gzip stream keeps what it had, with a note.
        let full = std::fs::read(&gz).unwrap();
        std::fs::write(&gz, &full[..full.len() - 6]).unwrap();
        match read_fit_bytes(&gz) {
            Ok((_, note)) => assert!(note.unwrap().contains("gzip stream is damaged")),
            Err(e) => assert!(e.contains("gzip"), "{e}"),
        }
    }
}
