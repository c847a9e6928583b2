//! `cycling-ai demo`: synthesise a season (1 Hz FIT files + a Strava-style activities.csv + a
//! profile), import it into the data directory and show the analyses — all offline.

use anyhow::{Context, Result};
use serde::Serialize;
use store::{ImportSource, Store};

use super::{Global, athlete, demo_roster, generate, import, print_json};
use agent::workflow;

use crate::args::DemoArgs;
use crate::term;

#[derive(Serialize)]
struct DemoJson {
    export_dir: String,
    profile: String,
    rides: usize,
    runs: usize,
    strength: usize,
    records: usize,
    season_start: String,
    season_end: String,
    import: Option<import::ImportSummaryJson>,
    report: Option<String>,
}

pub(super) fn checked_rides(rides: usize) -> Result<usize> {
    anyhow::ensure!(
        (1..=20_000).contains(&rides),
        "--rides {rides}: expected 1 to 20000"
    );
    Ok(rides)
}

pub fn run(global: &Global, args: DemoArgs) -> Result<()> {
    // Synthetic rides never land in the real database by accident: without an explicit data
    // directory the demo keeps its own next to the export.
    let demo_global;
    let global = if global.data_dir_explicit {
        global
    } else {
        demo_global = Global {
            data_dir: args.out.join("data"),
            data_dir_explicit: true,
            athlete: global.athlete.clone(),
            json: global.json,
        };
        &demo_global
    };
    if let Some(n) = args.athletes {
        return demo_roster::run(global, &args, n as usize);
    }
    let mut opts = demo::DemoOptions::new(&args.out, demo::SEASON_END);
    opts.seed = args.seed;
    if let Some(weeks) = args.weeks {
        opts.weeks = weeks as usize;
    }
    if let Some(rides) = args.rides {
        // More rides than fit a year (10 a week at most) lengthen the season.
        opts.rides = checked_rides(rides)?;
    }
    if !global.json {
        eprintln!(
            "synthesising {} rides (seed {}) into {} …",
            opts.rides,
            opts.seed,
            args.out.display()
        );
    }
    let out = demo::generate(&opts)
        .with_context(|| format!("writing the demo season to {}", args.out.display()))?;
    let mut summary = DemoJson {
        export_dir: out.export_dir.display().to_string(),
        profile: out.profile_path.display().to_string(),
        rides: out.counts.total_rides(),
        runs: out.counts.runs,
        strength: out.counts.strength,
        records: out.records,
        season_start: out.start_date.to_string(),
        season_end: out.end_date.to_string(),
        import: None,
        report: None,
    };
    if args.no_import {
        if global.json {
            return print_json(&summary);
        }
        println!(
            "wrote {} ({} rides, {} runs, {} strength sessions) and {}",
            summary.export_dir, summary.rides, summary.runs, summary.strength, summary.profile
        );
        return Ok(());
    }

    let mut store = Store::open(&global.data_dir)?;
    let ctx = athlete::resolve(global, &mut store, Some(&out.profile_path))?;
    let source = ImportSource::Export(out.export_dir.clone());
    let report = import::run_import(
        &mut store,
        ctx.athlete.id,
        &source,
        &ctx.profile,
        !global.json,
    )?;
    drop(store);
    if !global.json {
        println!(
            "{}",
            term::heading(&format!(
                "Demo season {} – {}: {} rides, {} runs, {} strength sessions ({} samples at 1 Hz)",
                summary.season_start,
                summary.season_end,
                summary.rides,
                summary.runs,
                summary.strength,
                summary.records
            ))
        );
        println!(
            "export: {}\nprofile: {}\ndatabase: {}\n",
            summary.export_dir,
            summary.profile,
            global.data_dir.display()
        );
        import::print_report(&report);
        println!();
    }
    summary.import = Some(import::ImportSummaryJson::from(&report));

    // The main job: the whole report, offline, with the rule-based coach.
    let options = workflow::Options {
        data_dir: global.data_dir.clone(),
        athlete: Some(ctx.athlete.name.clone()),
        profile: None,
        import: None,
        output_dir: args.out.join("report"),
        period_weeks: workflow::weeks_in_months(3),
        plan: workflow::PlanOptions {
            seed: args.seed,
            ..Default::default()
        },
        resume: false,
        strict: false,
        model: None,
        sequential: false,
    };
    let progress = generate::Progress::new(
        !global.json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let generated = runtime.block_on(workflow::run(options, &progress))?;
    summary.report = Some(generated.files.index_html.display().to_string());
    if global.json {
        return print_json(&summary);
    }
    super::phase_table::print_summary(&generated.heading(), &generated.phases, generated.wall_s);
    println!("\nReport: {}", generated.files.index_html.display());
    println!(
        "Explore the numbers: cycling-ai --data-dir {} analyze performance|zones|fitness|power-curve|cross-training",
        global.data_dir.display()
    );
    Ok(())
}
