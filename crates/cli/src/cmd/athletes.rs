//! `cycling-ai athlete add|list|show|remove|use`: the athletes of one store (a coach's roster).
//! Every other command works for `--athlete NAME`, else the athlete chosen here with `use`, else
//! the only one.

use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use comfy_table::{Cell, CellAlignment, Table, presets};
use ride::profile::Profile;
use serde::Serialize;
use store::{Athlete, AthleteCounts, Store};

use super::{Global, print_json};
use crate::args::AthleteCommand;
use crate::term;

/// One athlete as `list` and `show` give it.
#[derive(Serialize)]
struct AthleteJson {
    name: String,
    id: i64,
    in_use: bool,
    #[serde(flatten)]
    counts: AthleteCounts,
    last_activity: Option<String>,
    ftp_w: Option<f64>,
    created_at: String,
    /// The stored profile (`show` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<serde_json::Value>,
}

fn describe(store: &Store, a: &Athlete, in_use: Option<i64>, full: bool) -> Result<AthleteJson> {
    let profile = a
        .profile_json
        .as_deref()
        .map(|j| Profile::from_json_str(j, &format!("athlete {}'s stored profile", a.name)))
        .transpose()?;
    Ok(AthleteJson {
        name: a.name.clone(),
        id: a.id,
        in_use: in_use == Some(a.id),
        counts: store.athlete_counts(a.id)?,
        last_activity: store.latest_activity_date(a.id)?.map(|d| d.to_string()),
        ftp_w: profile.as_ref().and_then(|p| p.ftp_w),
        created_at: a.created_at.clone(),
        profile: if full {
            a.profile_json
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .context("reading the stored profile")?
        } else {
            None
        },
    })
}

pub fn run(global: &Global, cmd: AthleteCommand) -> Result<()> {
    let mut store = Store::open(&global.data_dir)
        .with_context(|| format!("opening the database in {}", global.data_dir.display()))?;
    match cmd {
        AthleteCommand::Add { name, profile } => add(global, &mut store, &name, profile),
        AthleteCommand::List => list(global, &store),
        AthleteCommand::Show { name } => {
            let name = name.or_else(|| global.athlete.clone());
            let a = store.resolve_athlete(name.as_deref())?;
            let in_use = store.athlete_in_use()?.map(|u| u.id);
            let j = describe(&store, &a, in_use, true)?;
            if global.json {
                return print_json(&j);
            }
            print_one(&j);
            Ok(())
        }
        AthleteCommand::Remove { name, yes } => remove(global, &mut store, &name, yes),
        AthleteCommand::Use { name } => {
            let a = store.use_athlete(&name)?;
            if global.json {
                return print_json(&serde_json::json!({ "in_use": a.name }));
            }
            println!("commands now work for {} unless given --athlete", a.name);
            Ok(())
        }
    }
}

fn add(
    global: &Global,
    store: &mut Store,
    name: &str,
    profile: Option<std::path::PathBuf>,
) -> Result<()> {
    let profile = profile
        .map(|p| Profile::load(&p).with_context(|| format!("athlete {name}")))
        .transpose()?;
    if let Some(p) = &profile {
        for w in &p.warnings {
            eprintln!("{} {w}", term::warning_label());
        }
    }
    let a = store.create_athlete(name, profile.map(|p| p.to_canonical_value()).as_ref())?;
    if global.json {
        let j = describe(store, &a, store.athlete_in_use()?.map(|u| u.id), false)?;
        return print_json(&j);
    }
    println!(
        "added athlete {}{}; import their rides with `cycling-ai --athlete {:?} import …`",
        a.name,
        if a.profile_json.is_some() {
            " with their profile"
        } else {
            ""
        },
        a.name
    );
    Ok(())
}

fn list(global: &Global, store: &Store) -> Result<()> {
    let in_use = store.athlete_in_use()?.map(|u| u.id);
    let rows = store
        .athletes()?
        .iter()
        .map(|a| describe(store, a, in_use, false))
        .collect::<Result<Vec<_>>>()?;
    if global.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!("No athletes yet: `cycling-ai athlete add NAME --profile FILE`, or import rides.");
        return Ok(());
    }
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "athlete",
        "activities",
        "last activity",
        "FTP",
        "plans",
        "chat sessions",
    ]);
    for r in &rows {
        let name = if r.in_use {
            format!("{} (in use)", r.name)
        } else {
            r.name.clone()
        };
        t.add_row(vec![
            Cell::new(name),
            Cell::new(r.counts.activities).set_alignment(CellAlignment::Right),
            Cell::new(r.last_activity.as_deref().unwrap_or("–")),
            Cell::new(r.ftp_w.map_or_else(|| "–".into(), |f| format!("{f:.0} W")))
                .set_alignment(CellAlignment::Right),
            Cell::new(r.counts.plans).set_alignment(CellAlignment::Right),
            Cell::new(r.counts.chat_sessions).set_alignment(CellAlignment::Right),
        ]);
    }
    println!("{t}");
    if rows.len() > 1 && in_use.is_none() {
        println!("none in use: pass --athlete NAME, or `cycling-ai athlete use NAME`");
    }
    Ok(())
}

fn print_one(j: &AthleteJson) {
    println!("{}", term::heading(&format!("Athlete {}", j.name)));
    println!("  in use:          {}", if j.in_use { "yes" } else { "no" });
    println!("  activities:      {}", j.counts.activities);
    println!(
        "  last activity:   {}",
        j.last_activity.as_deref().unwrap_or("–")
    );
    println!("  plans:           {}", j.counts.plans);
    println!("  chat sessions:   {}", j.counts.chat_sessions);
    println!("  import runs:     {}", j.counts.import_runs);
    println!("  added:           {}", j.created_at);
    match &j.profile {
        Some(p) => println!(
            "  profile:         {}",
            serde_json::to_string_pretty(p).unwrap_or_default()
        ),
        None => println!("  profile:         none (pass --profile to import or generate)"),
    }
}

fn remove(global: &Global, store: &mut Store, name: &str, yes: bool) -> Result<()> {
    let a = store.resolve_athlete(Some(name))?;
    let c = store.athlete_counts(a.id)?;
    let n = |count: u64, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let what = format!(
        "athlete {} with {}, {}, {} and {}",
        a.name,
        n(c.activities, "activity", "activities"),
        n(c.plans, "plan", "plans"),
        n(c.chat_sessions, "chat session", "chat sessions"),
        n(c.import_runs, "import run", "import runs")
    );
    if !yes && !confirm(&format!("Remove {what}? This cannot be undone. [y/N] "))? {
        bail!("not removed: {what} kept (pass --yes to remove without asking)");
    }
    let (removed, counts) = store.remove_athlete(name)?;
    if global.json {
        return print_json(&serde_json::json!({ "removed": removed.name, "deleted": counts }));
    }
    println!("removed {what}");
    // Reports are the user's files, written wherever --output-dir said: the store does not
    // track them, so they are left alone.
    println!(
        "their report files are left in place (by default in {}/{})",
        super::generate::DEFAULT_OUTPUT_DIR,
        removed.name
    );
    Ok(())
}

/// Ask on stderr and read one line from stdin: "y" or "yes" confirms; anything else, or no
/// answer at all (stdin closed), does not.
fn confirm(question: &str) -> Result<bool> {
    eprint!("{question}");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the confirmation")?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
