//! Command bodies. Each takes its parsed arguments and the global options and prints its result.

mod activities;
mod analyze;
mod athlete;
mod athletes;
mod batch;
mod bench;
mod chat;
mod check;
mod config;
mod demo;
mod demo_roster;
mod generate;
mod generate_all;
mod import;
mod logs;
mod mcp;
mod phase_table;
mod plan;
mod providers;
mod ride;
mod roster;
mod roster_progress;
mod roster_summary;
mod run_progress;
mod today;

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::args::{Cli, Command};

/// Options every command sees.
pub struct Global {
    pub data_dir: PathBuf,
    /// Whether the data directory came from `--data-dir` / `CYCLING_AI_DATA_DIR` (the demo keeps
    /// its synthetic rides out of the real database unless told otherwise).
    pub data_dir_explicit: bool,
    pub json: bool,
    /// `--athlete NAME`: the athlete every command works for (default: the one in use, else the
    /// only one in the store).
    pub athlete: Option<String>,
}

pub fn run(cli: Cli) -> Result<()> {
    let data_dir_explicit = cli.data_dir.is_some();
    let global = Global {
        data_dir: resolve_data_dir(cli.data_dir)?,
        data_dir_explicit,
        json: cli.json,
        athlete: cli.athlete,
    };
    match cli.command {
        Command::Import(args) => import::run(&global, args),
        Command::Ride(args) => ride::run(&global, args),
        Command::Analyze(args) => analyze::run(&global, args),
        Command::Activities(args) => activities::run(&global, args),
        Command::Generate(args) => generate::run(&global, args),
        Command::Demo(args) => demo::run(&global, args),
        Command::Providers(cmd) => providers::run(&global, cmd),
        Command::Logs(args) => logs::run(&global, args),
        Command::Config(cmd) => config::run(&global, cmd),
        Command::Chat(args) => chat::run(&global, args),
        Command::Mcp(args) => mcp::run(&global, args),
        Command::Athlete(cmd) => athletes::run(&global, cmd),
        Command::Plan(cmd) => plan::run(&global, cmd),
        Command::Today(args) => today::run(&global, args, today::Span::Day),
        Command::Week(args) => today::run(&global, args, today::Span::Week),
        Command::Batch(cmd) => batch::run(&global, cmd),
    }
}

/// `--data-dir`, else `CYCLING_AI_DATA_DIR` (both via clap), else the platform data directory
/// (`~/.local/share/cycling-ai` on Linux).
fn resolve_data_dir(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir);
    }
    let dirs = directories::ProjectDirs::from("", "", "cycling-ai")
        .context("no home directory to put the data in; pass --data-dir DIR")?;
    Ok(dirs.data_dir().to_path_buf())
}

/// An error and its causes on one line, each cause only when the text before does not already
/// say it (a profile error names its file and carries the I/O error it wraps).
pub fn error_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line.replace('\n', " ")
}

/// Ok when no athlete of a roster command failed; else an error naming them:
/// "N of M athletes {verb} (names){tail}".
pub(super) fn roster_failures<'a>(
    athletes: impl Iterator<Item = (&'a str, bool)>,
    verb: &str,
    tail: &str,
) -> Result<()> {
    let (mut total, mut failed) = (0, Vec::new());
    for (name, is_failed) in athletes {
        total += 1;
        if is_failed {
            failed.push(name);
        }
    }
    anyhow::ensure!(
        failed.is_empty(),
        "{} of {total} athletes {verb} ({}){tail}",
        failed.len(),
        failed.join(", ")
    );
    Ok(())
}

/// Serialise `value` as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("serialising the output as JSON")?;
    println!("{text}");
    Ok(())
}
