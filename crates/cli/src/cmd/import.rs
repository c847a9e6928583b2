//! `cycling-ai import`: a Strava export, a FIT folder or a bare activities.csv into the store,
//! with a progress bar (files/s, decoded MB) and a summary.

use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use store::{ImportProgress, ImportReport, ImportSource, Store};

use super::{Global, athlete, print_json};
use crate::args::ImportArgs;
use crate::term;

#[derive(Serialize)]
pub struct ImportSummaryJson {
    pub run_id: i64,
    pub source: String,
    pub imported: usize,
    pub summary_only: usize,
    pub skipped_unchanged: usize,
    pub updated: usize,
    pub failed: Vec<FailedJson>,
    pub warnings: Vec<String>,
    pub decoded_files: usize,
    pub decoded_mb: f64,
    pub seconds: f64,
    pub utc_check: Option<String>,
    /// What the sample-level quality pass repaired and flagged in the activities written.
    pub quality: store::QualityCounts,
    /// Activities found to be another recording of a stored ride (counted once, the kept one).
    pub duplicates: Vec<DuplicateJson>,
}

#[derive(Serialize)]
pub struct DuplicateJson {
    pub duplicate_id: i64,
    pub duplicate: String,
    pub kept_id: i64,
    pub kept: String,
}

#[derive(Serialize)]
pub struct FailedJson {
    pub item: String,
    pub reason: String,
}

impl From<&ImportReport> for ImportSummaryJson {
    fn from(r: &ImportReport) -> Self {
        ImportSummaryJson {
            run_id: r.run_id,
            source: r.source.path().display().to_string(),
            imported: r.imported,
            summary_only: r.summary_only,
            skipped_unchanged: r.skipped_unchanged,
            updated: r.updated,
            failed: r
                .failed
                .iter()
                .map(|(item, reason)| FailedJson {
                    item: item.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            warnings: r.warnings.clone(),
            decoded_files: r.decoded_files,
            decoded_mb: (r.decoded_bytes as f64 / 1e6 * 100.0).round() / 100.0,
            seconds: (r.duration.as_secs_f64() * 1000.0).round() / 1000.0,
            utc_check: r.utc_check.clone(),
            quality: r.quality.clone(),
            duplicates: r
                .duplicates
                .iter()
                .map(|d| DuplicateJson {
                    duplicate_id: d.duplicate_id,
                    duplicate: d.duplicate_path.clone(),
                    kept_id: d.kept_id,
                    kept: d.kept_path.clone(),
                })
                .collect(),
        }
    }
}

pub fn run(global: &Global, args: ImportArgs) -> Result<()> {
    if let Some(roster) = &args.roster {
        return super::roster::run(global, roster);
    }
    let source = if let Some(dir) = args.export {
        anyhow::ensure!(dir.is_dir(), "--export {}: not a directory", dir.display());
        ImportSource::Export(dir)
    } else {
        if let Some(dir) = &args.fit_dir {
            anyhow::ensure!(dir.is_dir(), "--fit-dir {}: not a directory", dir.display());
        }
        if let Some(file) = &args.csv {
            anyhow::ensure!(file.is_file(), "--csv {}: not a file", file.display());
        }
        match (args.csv, args.fit_dir) {
            (Some(csv), Some(files)) => ImportSource::CsvWithFiles { csv, files },
            (Some(csv), None) => ImportSource::Csv(csv),
            (None, Some(dir)) => ImportSource::FitDir(dir),
            (None, None) => unreachable!("clap requires one source"),
        }
    };
    let mut store = Store::open(&global.data_dir)?;
    let ctx = athlete::resolve(global, &mut store, args.profile.as_deref())?;
    let report = run_import(
        &mut store,
        ctx.athlete.id,
        &source,
        &ctx.profile,
        !global.json,
    )?;
    if !ctx.has_profile {
        eprintln!(
            "{} no athlete profile: rides are scored with the FTP their file records (if any); \
             pass --profile FILE for FTP, heart-rate zones and your time zone",
            term::warning_label()
        );
    }
    if global.json {
        return print_json(&ImportSummaryJson::from(&report));
    }
    print_report(&report);
    Ok(())
}

/// Run an import with a progress bar on stderr (only on a terminal).
pub fn run_import(
    store: &mut Store,
    athlete_id: i64,
    source: &ImportSource,
    profile: &ride::profile::Profile,
    show_progress: bool,
) -> Result<ImportReport> {
    let bar = if show_progress {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} importing [{bar:30}] {pos}/{len} items  {msg}  {elapsed}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let last = Mutex::new(0usize);
    let on_progress = |p: ImportProgress| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        // Re-format the rate line at most every 16 items: cheap, and readable.
        if p.done >= *last + 16 || p.done == p.total {
            *last = p.done;
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{:.0} files/s, {:.1} MB decoded ({:.1} MB/s)",
                p.decoded_files as f64 / secs,
                p.decoded_bytes as f64 / 1e6,
                p.decoded_bytes as f64 / 1e6 / secs
            ));
        }
    };
    let report = store::import::import(store, athlete_id, source, profile, &on_progress)
        .context("import failed")?;
    bar.finish_and_clear();
    Ok(report)
}

pub fn print_report(r: &ImportReport) {
    println!(
        "{}",
        term::heading(&format!("Imported {}", r.source.path().display()))
    );
    println!("  imported (decoded FIT):   {}", r.imported);
    println!("  summary only (CSV row):   {}", r.summary_only);
    println!("  skipped as unchanged:     {}", r.skipped_unchanged);
    if r.updated > 0 {
        println!("  updated:                  {}", r.updated);
    }
    println!("  failed:                   {}", r.failed.len());
    let secs = r.duration.as_secs_f64();
    println!(
        "  decoded {} files, {:.1} MB in {:.2} s",
        r.decoded_files,
        r.decoded_bytes as f64 / 1e6,
        secs
    );
    if let Some(check) = &r.utc_check {
        println!("  time check: {check}");
    }
    for line in r.quality.lines() {
        println!("  data quality: {line}");
    }
    if !r.duplicates.is_empty() {
        println!(
            "  {} duplicate{} (same ride recorded twice; counted once):",
            r.duplicates.len(),
            if r.duplicates.len() == 1 { "" } else { "s" }
        );
        for d in &r.duplicates {
            println!(
                "    #{} {} → kept #{} {}",
                d.duplicate_id, d.duplicate_path, d.kept_id, d.kept_path
            );
        }
        println!("    (`cycling-ai activities unmerge ID` if they are different rides)");
    }
    for (item, reason) in &r.failed {
        eprintln!("{} {item}: {reason}", term::warning_label());
    }
    const SHOWN: usize = 20;
    for w in r.warnings.iter().take(SHOWN) {
        eprintln!("{} {w}", term::warning_label());
    }
    if r.warnings.len() > SHOWN {
        eprintln!(
            "{} … and {} more warnings (see `--json`)",
            term::warning_label(),
            r.warnings.len() - SHOWN
        );
    }
}
