//! `import --roster roster.toml`: several athletes into one store. The roster file names each
//! athlete with their profile and their rides — a Strava export folder, an activities.csv (with
//! the folder holding its files, or alone), or a folder of ride files — paths relative to the
//! roster file:
//!
//! ```toml
//! [[athlete]]
//! name = "Ann"
//! profile = "ann/profile.json"
//! export = "ann/export"
//!
//! [[athlete]]
//! name = "Bob"
//! profile = "bob.json"
//! csv = "bob/activities.csv"
//! fit_dir = "bob/fit"
//! ```
//!
//! Each athlete is added if new and imported incrementally; one athlete's bad profile or folder
//! is reported with their name and the file and the others are imported all the same.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use comfy_table::{Cell, CellAlignment, Table, presets};
use ride::profile::Profile;
use serde::{Deserialize, Serialize};
use store::{ImportReport, ImportSource, Store};

use super::import::{ImportSummaryJson, run_import};
use super::{Global, print_json};
use crate::term;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    #[serde(default)]
    athlete: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    profile: Option<PathBuf>,
    export: Option<PathBuf>,
    csv: Option<PathBuf>,
    fit_dir: Option<PathBuf>,
}

/// One athlete of a roster, paths resolved against the roster file's folder.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterAthlete {
    pub name: String,
    pub profile: Option<PathBuf>,
    pub source: ImportSource,
}

/// Read and check a roster file: every entry named (validly, once) with one source of rides.
pub fn load(path: &Path) -> Result<Vec<RosterAthlete>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the roster {}", path.display()))?;
    parse(&text, path)
}

fn parse(text: &str, path: &Path) -> Result<Vec<RosterAthlete>> {
    let file: RosterFile = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
    if file.athlete.is_empty() {
        bail!(
            "{}: no athletes (expected [[athlete]] tables with name, profile and export, csv or fit_dir)",
            path.display()
        );
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(file.athlete.len());
    for (i, e) in file.athlete.into_iter().enumerate() {
        let at = format!("{}: athlete {} ({:?})", path.display(), i + 1, e.name);
        store::validate_athlete_name(&e.name).with_context(|| at.clone())?;
        if !seen.insert(e.name.clone()) {
            bail!("{at}: the name is used twice in the roster");
        }
        let rel = |p: PathBuf| base.join(p);
        let source = match (e.export, e.csv, e.fit_dir) {
            (Some(d), None, None) => ImportSource::Export(rel(d)),
            (None, Some(csv), Some(files)) => ImportSource::CsvWithFiles {
                csv: rel(csv),
                files: rel(files),
            },
            (None, Some(csv), None) => ImportSource::Csv(rel(csv)),
            (None, None, Some(d)) => ImportSource::FitDir(rel(d)),
            (None, None, None) => bail!("{at}: no rides: give export, csv or fit_dir"),
            _ => bail!("{at}: export cannot be combined with csv or fit_dir"),
        };
        out.push(RosterAthlete {
            name: e.name,
            profile: e.profile.map(rel),
            source,
        });
    }
    Ok(out)
}

/// What happened to one athlete of the roster.
#[derive(Serialize)]
pub(super) struct AthleteResult {
    pub(super) athlete: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) import: Option<ImportSummaryJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}

/// The source's folder or file must exist; the message names the athlete and the path.
fn check_source(source: &ImportSource) -> Result<()> {
    let (dirs, files): (Vec<&Path>, Vec<&Path>) = match source {
        ImportSource::Export(d) | ImportSource::FitDir(d) => (vec![d], vec![]),
        ImportSource::Csv(f) => (vec![], vec![f]),
        ImportSource::CsvWithFiles { csv, files } => (vec![files], vec![csv]),
    };
    for d in dirs {
        anyhow::ensure!(d.is_dir(), "{}: not a directory", d.display());
    }
    for f in files {
        anyhow::ensure!(f.is_file(), "{}: not a file", f.display());
    }
    Ok(())
}

fn import_one(store: &mut Store, a: &RosterAthlete) -> Result<ImportReport> {
    let profile = a
        .profile
        .as_deref()
        .map(|p| Profile::load(p).with_context(|| format!("profile {}", p.display())))
        .transpose()?;
    check_source(&a.source)?;
    let stored = store.upsert_athlete(&a.name, profile.map(|p| p.to_canonical_value()).as_ref())?;
    let ctx = agent::athlete::resolve(store, Some(&stored.name), None)?;
    for w in &ctx.profile.warnings {
        eprintln!("{} {}: {w}", term::warning_label(), a.name);
    }
    run_import(store, ctx.athlete.id, &a.source, &ctx.profile, false)
}

pub fn run(global: &Global, roster_path: &Path) -> Result<()> {
    if let Some(name) = &global.athlete {
        bail!("--roster names its own athletes; drop --athlete {name}");
    }
    let results = import_all(global, roster_path)?;
    if global.json {
        print_json(&results)?;
    } else {
        print_table(roster_path, &results);
    }
    failures(&results)
}

/// An error naming the athletes that were not imported, if any.
pub(super) fn failures(results: &[AthleteResult]) -> Result<()> {
    super::roster_failures(
        results
            .iter()
            .map(|r| (r.athlete.as_str(), r.error.is_some())),
        "were not imported",
        "; the others were",
    )
}

/// Import every athlete of the roster file, a progress line each on stderr (unless --json);
/// one athlete's failure is in its result, not an error.
pub(super) fn import_all(global: &Global, roster_path: &Path) -> Result<Vec<AthleteResult>> {
    let roster = load(roster_path)?;
    let mut store = Store::open(&global.data_dir)
        .with_context(|| format!("opening the database in {}", global.data_dir.display()))?;
    let n = roster.len();
    let mut results = Vec::with_capacity(n);
    for (i, a) in roster.iter().enumerate() {
        let outcome = import_one(&mut store, a);
        let prefix = format!("[{}/{n}] {}", i + 1, a.name);
        let result = match outcome {
            Ok(r) => {
                if !global.json {
                    eprintln!(
                        "{prefix}: imported {} (+{} summary only, {} unchanged, {} failed)",
                        r.imported,
                        r.summary_only,
                        r.skipped_unchanged,
                        r.failed.len()
                    );
                }
                for (item, reason) in &r.failed {
                    eprintln!("{} {}: {item}: {reason}", term::warning_label(), a.name);
                }
                AthleteResult {
                    athlete: a.name.clone(),
                    import: Some(ImportSummaryJson::from(&r)),
                    error: None,
                }
            }
            Err(e) => {
                let msg = super::error_line(&e);
                eprintln!("{} {}: {msg}", term::error_label(), a.name);
                AthleteResult {
                    athlete: a.name.clone(),
                    import: None,
                    error: Some(msg),
                }
            }
        };
        results.push(result);
    }
    Ok(results)
}

pub(super) fn print_table(path: &Path, results: &[AthleteResult]) {
    println!(
        "{}",
        term::heading(&format!("Imported the roster {}", path.display()))
    );
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "athlete",
        "imported",
        "summary only",
        "unchanged",
        "failed files",
        "status",
    ]);
    let right = |n: usize| Cell::new(n).set_alignment(CellAlignment::Right);
    for r in results {
        match (&r.import, &r.error) {
            (Some(i), _) => t.add_row(vec![
                Cell::new(&r.athlete),
                right(i.imported),
                right(i.summary_only),
                right(i.skipped_unchanged),
                right(i.failed.len()),
                Cell::new("ok"),
            ]),
            (None, e) => t.add_row(vec![
                Cell::new(&r.athlete),
                Cell::new("–"),
                Cell::new("–"),
                Cell::new("–"),
                Cell::new("–"),
                Cell::new(if e.is_some() {
                    "failed (see above)"
                } else {
                    "failed"
                }),
            ]),
        };
    }
    println!("{t}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_roster_and_each_source_form_is_read() {
        let text = r#"
[[athlete]]
name = "Ann"
profile = "ann/profile.json"
export = "ann/export"

[[athlete]]
name = "Bob"
csv = "bob/activities.csv"
fit_dir = "bob/fit"

[[athlete]]
name = "Cy"
fit_dir = "/abs/fit"
"#;
        let r = parse(text, Path::new("/coach/roster.toml")).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0].profile.as_deref(),
            Some(Path::new("/coach/ann/profile.json"))
        );
        assert_eq!(
            r[0].source,
            ImportSource::Export(PathBuf::from("/coach/ann/export"))
        );
        assert_eq!(
            r[1].source,
            ImportSource::CsvWithFiles {
                csv: PathBuf::from("/coach/bob/activities.csv"),
                files: PathBuf::from("/coach/bob/fit"),
            }
        );
        assert_eq!(r[1].profile, None);
        // An absolute path stays as written.
        assert_eq!(r[2].source, ImportSource::FitDir(PathBuf::from("/abs/fit")));
    }

    #[test]
    fn mistakes_name_the_file_and_the_athlete() {
        let p = Path::new("r.toml");
        let err = |t: &str| format!("{:#}", parse(t, p).unwrap_err());
        let e = err("[[athlete]]\nname = \"Ann\"\n");
        assert!(e.contains("r.toml: athlete 1 (\"Ann\"): no rides"), "{e}");
        let e = err("[[athlete]]\nname = \"Ann\"\nexport = \"a\"\ncsv = \"b.csv\"\n");
        assert!(e.contains("export cannot be combined"), "{e}");
        let e = err(
            "[[athlete]]\nname = \"A\"\nfit_dir = \"a\"\n[[athlete]]\nname = \"A\"\nfit_dir = \"b\"\n",
        );
        assert!(
            e.contains("athlete 2 (\"A\"): the name is used twice"),
            "{e}"
        );
        let e = err("[[athlete]]\nname = \"a/b\"\nfit_dir = \"a\"\n");
        assert!(
            e.contains("athlete 1 (\"a/b\")") && e.contains("athlete name"),
            "{e}"
        );
        let e = err("[[athlete]]\nname = \"A\"\nfitdir = \"a\"\n");
        assert!(e.starts_with("r.toml: ") && e.contains("fitdir"), "{e}");
        let e = err("");
        assert!(e.contains("no athletes"), "{e}");
    }
}
