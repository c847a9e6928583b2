//! Command-line grammar (clap derive). Kept apart from the command bodies so `--help` text and
//! flag names, which users and scripts rely on, are reviewed in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cycling-ai",
    version,
    about = "An AI cycling coach that runs on your own machine",
    long_about = "Imports Strava exports and FIT files into a local database, computes training \
                  metrics (NP, TSS, zones, power curve, CP/eFTP, fitness/fatigue/form) and \
                  coaches from them.",
    propagate_version = true
)]
pub struct Cli {
    /// Directory holding the database and logs [default: the platform data directory]
    #[arg(long, global = true, env = "CYCLING_AI_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Print machine-readable JSON instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a Strava bulk export, a folder of FIT files or a Strava activities.csv
    Import(ImportArgs),
    /// Metrics of one FIT / .fit.gz file, without touching the database
    Ride(RideArgs),
    /// Analyses over the imported history
    Analyze(AnalyzeArgs),
    /// Synthesise a season of rides, import it and analyse it (no network, no model)
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["export", "fit_dir", "csv"])))]
pub struct ImportArgs {
    /// A Strava bulk export folder (activities.csv + activities/)
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// A folder of .fit / .fit.gz files (searched recursively)
    #[arg(long, value_name = "DIR")]
    pub fit_dir: Option<PathBuf>,
    /// A Strava activities.csv on its own (summaries only)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Athlete profile JSON; stored as the athlete's profile
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RideArgs {
    /// The .fit or .fit.gz file
    pub file: PathBuf,
    /// FTP in watts [default: the file's threshold power]
    #[arg(long, value_name = "W")]
    pub ftp: Option<f64>,
    /// Lactate-threshold heart rate, for HR zones and hrTSS
    #[arg(long, value_name = "BPM")]
    pub lthr: Option<f64>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[arg(value_enum)]
    pub what: Analysis,
    /// Length of the recent period in weeks (compared with the same length before it)
    #[arg(long, value_name = "N")]
    pub weeks: Option<u32>,
    /// First day (YYYY-MM-DD) of the range
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD) of the range [default: the last imported activity's date]
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Athlete profile JSON [default: the profile stored by `import --profile`]
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Analysis {
    /// Recent period vs the one before it
    Performance,
    /// Time in power and heart-rate zones
    Zones,
    /// Fitness (CTL), fatigue (ATL) and form (TSB)
    Fitness,
    /// Best power-duration curve, CP / W′ and eFTP
    PowerCurve,
    /// Rides vs runs, strength, rowing, swims
    CrossTraining,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the synthetic export and profile (and, without --data-dir, the demo's
    /// own database in DIR/data)
    #[arg(long, value_name = "DIR", default_value = "cycling-ai-demo")]
    pub out: PathBuf,
    /// Random seed: the same seed gives the same season
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of rides to synthesise (runs and strength sessions come on top)
    #[arg(long)]
    pub rides: Option<usize>,
    /// Only write the export and profile; do not import or analyse them
    #[arg(long)]
    pub no_import: bool,
}
