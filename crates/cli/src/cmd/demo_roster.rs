//! `demo --athletes N`: a coach's roster, synthesised — N different riders
//! ([`demo::Athlete::roster_member`]), a season each and a `roster.toml` naming them — then
//! imported as `import --roster` does and reported on by the rule-based coach as
//! `generate --all --provider offline` does, all offline. The same seed gives the same riders.
//!
//! ```text
//! DIR/roster.toml
//! DIR/athletes/rider-001/{profile.json, export/}
//! DIR/reports/rider-001/index.html
//! DIR/data/                    the roster's database (without --data-dir)
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde::Serialize;

use super::demo::checked_rides;
use super::roster::{self, AthleteResult};
use super::roster_summary::{RosterJson, print_table};
use super::{Global, generate_all, print_json};
use crate::args::{DemoArgs, GenerateArgs};

/// A roster's seasons are short by default: a coach tries the roster commands on it, and 100
/// athletes × a year of 1 Hz rides would take minutes to write and import.
const DEFAULT_RIDES: usize = 24;
const DEFAULT_WEEKS: usize = 8;

#[derive(Serialize)]
struct RosterDemoJson {
    roster: String,
    athletes: usize,
    rides_per_athlete: usize,
    weeks: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import: Option<Vec<AthleteResult>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reports: Option<RosterJson>,
}

/// `generate --all` as a user would type it, so the demo takes exactly the command's path.
#[derive(Parser)]
struct GenerateAll {
    #[command(flatten)]
    args: GenerateArgs,
}

/// The roster's athlete names: `rider-001` … (wider for 1,000).
fn names(n: usize) -> Vec<String> {
    let width = n.to_string().len().max(3);
    (1..=n).map(|i| format!("rider-{i:0width$}")).collect()
}

/// Writes every athlete's season and the roster file; returns the roster file's path.
fn synthesise(
    args: &DemoArgs,
    names: &[String],
    rides: usize,
    weeks: usize,
    quiet: bool,
) -> Result<PathBuf> {
    let n = names.len();
    if !quiet {
        eprintln!(
            "synthesising {n} athletes ({rides} rides over {weeks} weeks each, seed {}) into {} …",
            args.seed,
            args.out.display()
        );
    }
    let mut toml = format!(
        "# A demo roster of {n} athletes (seed {}): `cycling-ai import --roster {}`\n",
        args.seed,
        args.out.join("roster.toml").display()
    );
    for (i, name) in names.iter().enumerate() {
        let number = i + 1;
        let dir = args.out.join("athletes").join(name);
        let mut opts = demo::DemoOptions::new(&dir, demo::SEASON_END);
        opts.seed = args.seed.wrapping_add(number as u64);
        opts.rides = rides;
        opts.weeks = weeks;
        opts.athlete = demo::Athlete::roster_member(number, args.seed);
        demo::generate(&opts)
            .with_context(|| format!("writing {name}'s demo season to {}", dir.display()))?;
        toml.push_str(&format!(
            "\n[[athlete]]\nname = \"{name}\"\nprofile = \"athletes/{name}/profile.json\"\nexport = \"athletes/{name}/export\"\n"
        ));
        if !quiet && (number % 10 == 0 || number == n) {
            eprintln!("  {number}/{n} athletes written");
        }
    }
    let path = args.out.join("roster.toml");
    std::fs::write(&path, toml).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The rule-based coach's reports for the roster's athletes (not others an explicit
/// --data-dir may hold), into `out`.
fn reports(global: &Global, out: &Path, seed: u64, athletes: &[String]) -> Result<RosterJson> {
    let argv: Vec<OsString> = vec![
        "generate".into(),
        "--all".into(),
        "--provider".into(),
        "offline".into(),
        "--output-dir".into(),
        out.into(),
        "--seed".into(),
        seed.to_string().into(),
    ];
    let all = GenerateAll::try_parse_from(argv).context("the roster's generate --all")?;
    generate_all::execute(global, &all.args, Some(athletes))
}

pub fn run(global: &Global, args: &DemoArgs, n: usize) -> Result<()> {
    if let Some(name) = &global.athlete {
        bail!("--athletes makes its own athletes; drop --athlete {name}");
    }
    let rides = args
        .rides
        .map(checked_rides)
        .transpose()?
        .unwrap_or(DEFAULT_RIDES);
    let weeks = args.weeks.map_or(DEFAULT_WEEKS, |w| w as usize);
    let athletes = names(n);
    let roster_path = synthesise(args, &athletes, rides, weeks, global.json)?;
    let mut summary = RosterDemoJson {
        roster: roster_path.display().to_string(),
        athletes: n,
        rides_per_athlete: rides,
        weeks,
        data_dir: None,
        import: None,
        reports: None,
    };
    if args.no_import {
        if global.json {
            return print_json(&summary);
        }
        println!(
            "wrote {n} athletes and {}: import them with `cycling-ai import --roster {}`",
            summary.roster, summary.roster
        );
        return Ok(());
    }
    summary.data_dir = Some(global.data_dir.display().to_string());
    let imported = roster::import_all(global, &roster_path)?;
    if !global.json {
        roster::print_table(&roster_path, &imported);
        println!();
    }
    roster::failures(&imported)?;
    summary.import = Some(imported);
    let generated = reports(global, &args.out.join("reports"), args.seed, &athletes)?;
    let outcome = generate_all::failures(&generated);
    if global.json {
        summary.reports = Some(generated);
        print_json(&summary)?;
        return outcome;
    }
    print_table(
        &generated.athletes,
        &generated.totals,
        generated.limiter.as_ref(),
    );
    outcome?;
    println!(
        "\nReports: {}/<athlete>/index.html\nNext: cycling-ai --data-dir {} athlete list | --athlete {} analyze fitness | generate --all --provider …",
        args.out.join("reports").display(),
        global.data_dir.display(),
        athletes[0]
    );
    Ok(())
}
