//! Command-line grammar (clap derive). Kept apart from the command bodies so `--help` text and
//! flag names, which users and scripts rely on, are reviewed in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Flags;

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

    /// The athlete to work for, in a store holding several [default: the one chosen with
    /// `athlete use`, else the only one]
    #[arg(long, global = true, env = "CYCLING_AI_ATHLETE", value_name = "NAME")]
    pub athlete: Option<String>,

    /// Diagnostics on stderr: -v the report's phases and every model call (tokens, cost,
    /// time), -vv more detail. RUST_LOG (e.g. `llm=debug`) overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a Strava bulk export, a folder of FIT/TCX/GPX files or a Strava activities.csv
    Import(ImportArgs),
    /// Metrics of one FIT, TCX or GPX file (also .gz), without touching the database
    Ride(RideArgs),
    /// Analyses over the imported history
    Analyze(AnalyzeArgs),
    /// The imported activities: a table, one activity in full, or merging duplicate recordings
    Activities(ActivitiesArgs),
    /// The full report: analysis, a periodised training plan, HTML report and workout files
    Generate(GenerateArgs),
    /// Synthesise a season of rides and produce the full report from it (no network, no model)
    Demo(DemoArgs),
    /// Model providers: the catalog of models, capabilities and prices
    #[command(subcommand)]
    Providers(ProvidersCommand),
    /// Summary of the model calls in the interaction log: calls, tokens, cost, errors
    Logs(LogsArgs),
    /// The configuration file: effective settings and a commented example
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Talk with the coach: a streaming chat that answers from your data through analysis tools
    Chat(ChatArgs),
    /// Serve the coach's tools, resources and prompts to an MCP client (Claude Desktop, Claude
    /// Code, IDEs) over stdio, or streamable HTTP with --http
    Mcp(McpArgs),
    /// The athletes in this store: add, list, show, remove, and choose the one commands work for
    #[command(subcommand)]
    Athlete(AthleteCommand),
    /// The stored training plan: plan vs actual, adapting the remaining weeks, its versions
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Today's planned workout, adjusted for current form, with targets and its workout files
    Today(TodayArgs),
    /// This week's planned workouts (today's adjusted for current form)
    Week(TodayArgs),
    /// Every athlete's report through one AWS Bedrock batch inference job (half the on-demand
    /// price, answered within hours)
    #[command(subcommand)]
    Batch(BatchCommand),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Over stdio (default) the client starts the server itself: give it the command \
                  `cycling-ai mcp`. With --http the server listens on ADDR (loopback only unless \
                  --allow-remote) at /mcp and needs the bearer token printed on first start \
                  (`cycling-ai mcp token` shows where it is kept)."
)]
pub struct McpArgs {
    #[command(subcommand)]
    pub command: Option<McpCommand>,
    /// Serve streamable HTTP on this address, e.g. 127.0.0.1:8765, instead of stdio
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// Let --http listen on an address other machines can reach (the token is then their only
    /// barrier)
    #[arg(long, requires = "http")]
    pub allow_remote: bool,
    /// A browser origin allowed to call the HTTP endpoint besides localhost ones, e.g.
    /// https://app.example.org (repeatable)
    #[arg(long, value_name = "ORIGIN", requires = "http")]
    pub allow_origin: Vec<String>,
    /// Where `generate` wrote the reports the report resource serves
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// The HTTP transport's bearer token: where it is kept; --rotate replaces it
    Token {
        /// Make a new token (clients holding the old one are refused from now on) and print it
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AthleteCommand {
    /// Add an athlete (import their rides with `import --athlete NAME`, or `import --roster`)
    Add {
        /// The athlete's name; it also names their report folder, so no slash, backslash or
        /// : * ? " < > |
        name: String,
        /// Their profile JSON (validated and stored)
        #[arg(long, value_name = "FILE")]
        profile: Option<PathBuf>,
    },
    /// Every athlete: activities, last activity, plans, chat sessions, which one is in use
    List,
    /// One athlete in full [default: the one in use, else the only one]
    Show { name: Option<String> },
    /// Remove an athlete with their activities, plans, chat sessions and import runs
    Remove {
        name: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
    /// Work for this athlete when a command is not given --athlete
    Use { name: String },
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Plan vs actual per workout (intervals hit, load, completion) and compliance per week
    Status(PlanStatusArgs),
    /// Re-plan the remaining weeks (missed or extra sessions, fatigue, days off, a moved event);
    /// the new plan is stored as a new version and the old one kept
    Adapt(Box<PlanAdaptArgs>),
    /// The versions of the current plan, oldest first, with what changed and why
    Versions(PlanCommonArgs),
}

#[derive(Debug, Args)]
pub struct PlanCommonArgs {
    /// The day to look from (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Athlete profile JSON [default: the profile stored earlier]
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Another folder to look for ride files in (when the import's folder has moved); repeatable
    #[arg(long = "files", value_name = "DIR")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanStatusArgs {
    /// One plan week (1-based) [default: every week up to the current one]
    #[arg(long, value_name = "N")]
    pub week: Option<u32>,
    #[command(flatten)]
    pub common: PlanCommonArgs,
}

#[derive(Debug, Args)]
pub struct PlanAdaptArgs {
    /// Why, in your words (kept with the new version)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Days you cannot train: FROM..TO (YYYY-MM-DD..YYYY-MM-DD, inclusive) or one date; repeatable
    #[arg(long, value_name = "FROM..TO")]
    pub unavailable: Vec<String>,
    /// The event's new date (YYYY-MM-DD): the taper moves with it
    #[arg(long, value_name = "DATE")]
    pub event_date: Option<String>,
    /// Show what would change without storing a new version
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_name = "NAME", help = format!(
        "offline (the rule-based planner), {} [default: the configured default provider, else offline]",
        provider_names_or()
    ))]
    pub provider: Option<String>,
    /// Model id or alias [default: providers.<provider>.model in the config file]
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: PlanCommonArgs,
}

#[derive(Debug, Args)]
pub struct TodayArgs {
    /// Tomorrow's workout instead of today's
    #[arg(long, conflicts_with = "date")]
    pub tomorrow: bool,
    /// The day (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Where the workout files are [default: DATA_DIR/workouts]; missing ones are written there
    #[arg(long, value_name = "DIR")]
    pub workouts_dir: Option<PathBuf>,
    /// Athlete profile JSON [default: the profile stored earlier]
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

/// `cycling-ai batch …`
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Prepare every athlete's data, write one JSONL record per model request, upload it and
    /// create the batch job
    Submit(BatchSubmitArgs),
    /// A job's state, record counts and age [default: the newest job]
    Status(BatchJobArgs),
    /// The jobs submitted from this data directory, newest first
    List(BatchConnectArgs),
    /// Ask the service to stop a job
    Stop(BatchJobArgs),
    /// Download a finished job's answers and finish every athlete's report from them
    Collect(BatchCollectArgs),
    /// Ask on demand for the records that failed in the job, and finish those reports
    RetryFailed(BatchCollectArgs),
}

/// How to reach Bedrock for the batch commands.
#[derive(Debug, Args)]
pub struct BatchConnectArgs {
    /// Model id, inference profile or alias (not a prompt router) [default:
    /// providers.bedrock.model in the config file]
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    /// AWS region (over AWS_REGION and the config file)
    #[arg(long, value_name = "REGION")]
    pub aws_region: Option<String>,
    /// AWS profile (over AWS_PROFILE and the config file)
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["all", "athletes"])))]
pub struct BatchSubmitArgs {
    /// Every athlete of the data directory
    #[arg(long)]
    pub all: bool,
    /// Only these athletes (comma-separated names)
    #[arg(
        long,
        value_name = "NAME,…",
        value_delimiter = ',',
        conflicts_with = "all"
    )]
    pub athletes: Option<Vec<String>>,
    /// S3 folder for the job's input and output (s3://bucket/prefix)
    #[arg(long, value_name = "URI")]
    pub s3_uri: String,
    /// The service role Bedrock assumes to read and write the S3 folder (docs/bedrock.md)
    #[arg(long, value_name = "ARN")]
    pub role_arn: String,
    #[command(flatten)]
    pub connect: BatchConnectArgs,
    /// Refuse a job with fewer records (the model's quota)
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub min_records: usize,
    /// Hours the service may take before the job expires
    #[arg(long, value_name = "H", value_parser = clap::value_parser!(i32).range(24..=168))]
    pub timeout_hours: Option<i32>,
    /// Name of the job [default: cycling-ai-<UTC date-time>]
    #[arg(long, value_name = "NAME")]
    pub job_name: Option<String>,
    /// Where the reports go (one folder per athlete)
    #[arg(
        long,
        visible_alias = "out",
        value_name = "DIR",
        default_value = "reports"
    )]
    pub output_dir: PathBuf,
    /// Months of history in the recent analysis period
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=24))]
    pub period_months: u32,
    #[command(flatten)]
    pub plan: PlanShapeArgs,
    /// Seed for the workout choice
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Analysis and report only, no training plans
    #[arg(long)]
    pub skip_training_plan: bool,
}

#[derive(Debug, Args)]
pub struct BatchJobArgs {
    /// The job: its number in `batch list`, its name, its id or its ARN
    #[arg(value_name = "JOB")]
    pub job: Option<String>,
    #[command(flatten)]
    pub connect: BatchConnectArgs,
}

#[derive(Debug, Args)]
pub struct BatchCollectArgs {
    /// The job: its number in `batch list`, its name, its id or its ARN
    #[arg(value_name = "JOB")]
    pub job: String,
    #[command(flatten)]
    pub connect: BatchConnectArgs,
    /// Reports finished at the same time (each may make on-demand calls)
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Wait for the job to finish, checking every --poll-seconds
    #[arg(long)]
    pub wait: bool,
    /// Seconds between checks with --wait
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub poll_seconds: u64,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Type a question and press Enter; /help lists the slash commands. \
                        Ctrl-C cancels the answer being written, Ctrl-D (or /quit) leaves. \
                        With stdin not a terminal, each line is one message (scripted use)."
)]
pub struct ChatArgs {
    #[arg(long, value_name = "NAME", help = format!(
        "{}, or replay (with --from) [default: the resumed session's, else the configured default provider]",
        llm::registry::name_list()
    ))]
    pub provider: Option<String>,
    /// Model id or alias [default: the resumed session's, else providers.<provider>.model]
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Athlete profile JSON [default: the profile stored earlier; without one the coach starts
    /// by building it with you]
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Resume this session (ids are listed by /sessions)
    #[arg(long, value_name = "ID", conflicts_with = "continue_")]
    pub session: Option<String>,
    /// Resume the most recent session
    #[arg(long = "continue")]
    pub continue_: bool,
    /// The interaction log a `--provider replay` answers from
    #[arg(long, value_name = "LOG")]
    pub from: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Also list the last N calls, one per line
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// The effective settings and where each came from (flag / env / file / default)
    Show,
    /// Write a commented example configuration file
    Init {
        /// Where to write it [default: the platform config file, e.g.
        /// ~/.config/cycling-ai/config.yaml]
        #[arg(long, value_name = "FILE")]
        path: Option<PathBuf>,
        /// Replace an existing file
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("source")
        .required(true)
        .multiple(true)
        .args(["export", "fit_dir", "csv", "roster"])
))]
pub struct ImportArgs {
    /// A roster file (TOML): several athletes, each with a profile and an export, a CSV with
    /// its files, or a folder of ride files; each is added if new and imported
    #[arg(long, value_name = "FILE", conflicts_with_all = ["export", "csv", "fit_dir", "profile"])]
    pub roster: Option<PathBuf>,
    /// A Strava bulk export folder (activities.csv + activities/)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["csv", "fit_dir"])]
    pub export: Option<PathBuf>,
    /// A folder of FIT / TCX / GPX files, each also .gz (searched recursively)
    #[arg(long, value_name = "DIR")]
    pub fit_dir: Option<PathBuf>,
    /// A Strava activities.csv (summaries only; with --fit-dir, the folder holds the files its
    /// rows name, as in the plan's `--csv activities.csv --fit-dir ./fit/`)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Athlete profile JSON; stored as the athlete's profile
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RideArgs {
    /// The .fit, .tcx or .gpx file (each also .gz)
    pub file: PathBuf,
    /// FTP in watts [default: the file's threshold power]
    #[arg(long, value_name = "W")]
    pub ftp: Option<f64>,
    /// Lactate-threshold heart rate, for HR zones and hrTSS
    #[arg(long, value_name = "BPM")]
    pub lthr: Option<f64>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ActivitiesArgs {
    #[command(subcommand)]
    pub command: Option<ActivitiesCommand>,
    #[command(flatten)]
    pub list: ActivityListArgs,
}

/// Filters of the activity table.
#[derive(Debug, Args)]
pub struct ActivityListArgs {
    /// First day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only this sport (ride, run, swim, strength, rowing, walk, hike, ski, other)
    #[arg(long, value_name = "SPORT")]
    pub sport: Option<String>,
    /// Only activities whose name or description contains TEXT (case-insensitive)
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// At most N activities, newest first
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum ActivitiesCommand {
    /// One stored activity: what `ride` prints for a file, from the stored summary, and its laps
    Show {
        /// Activity id (the first column of `activities`)
        id: i64,
    },
    /// Mark DUPLICATE as another recording of the same ride as KEEP (your decision: imports
    /// never change it); DUPLICATE then counts nowhere
    Merge {
        /// The recording that counts
        keep: i64,
        /// The recording left out of every analysis
        duplicate: i64,
    },
    /// Make a merged activity a ride of its own again (given the kept one, its duplicates are
    /// split off); imports never merge it automatically again
    Unmerge {
        /// Activity id
        id: i64,
    },
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
    /// With `fitness`: project CTL / ATL / TSB through the stored plan to its end and event
    #[arg(long)]
    pub projection: bool,
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
    /// Number of rides to synthesise (runs and strength sessions come on top) [default: 220;
    /// 24 per athlete with --athletes]
    #[arg(long)]
    pub rides: Option<usize>,
    /// A coach's roster instead of one rider: N athletes, each a different rider (FTP, weight,
    /// age, heart rates) with a season of their own, and DIR/roster.toml naming them all;
    /// imported with `import --roster` and reported on with `generate --all`
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub athletes: Option<u32>,
    /// Season length in weeks [default: 52, 8 with --athletes; longer when the rides do not fit]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(4..=520))]
    pub weeks: Option<u32>,
    /// Only write the export and profile; do not import or analyse them
    #[arg(long)]
    pub no_import: bool,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// A report for every athlete in the store, model calls shared under --concurrency
    #[arg(long, conflicts_with_all = ["export", "csv", "fit_dir", "profile"])]
    pub all: bool,
    /// With --all: at most N model calls in flight across the roster (fewer while the provider
    /// throttles)
    #[arg(long, value_name = "N", default_value_t = 4, requires = "all",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// A Strava bulk export folder to import first
    #[arg(long, value_name = "DIR", conflicts_with_all = ["csv", "fit_dir"])]
    pub export: Option<PathBuf>,
    /// A Strava activities.csv to import first (summaries only; with --fit-dir, the folder
    /// holds the files its rows name)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// A folder of .fit / .tcx / .gpx files (each also .gz) to import first
    #[arg(long, value_name = "DIR")]
    pub fit_dir: Option<PathBuf>,
    /// Athlete profile JSON [default: the profile stored by an earlier import]
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    #[arg(long, value_name = "NAME", help = format!(
        "offline (the rule-based coach, no network), {} [default: the configured default provider (CYCLING_AI_PROVIDER, then default_provider in the config file), else offline]",
        provider_names_or()
    ))]
    pub provider: Option<String>,
    /// Model id or alias [default: providers.<provider>.model in the config file]
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Months of history in the recent analysis period (compared with as many before it)
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=24))]
    pub period_months: u32,
    #[command(flatten)]
    pub plan: PlanShapeArgs,
    /// Where to write the report [default: reports, or reports/<athlete> when the store holds
    /// several athletes; with --all always DIR/<athlete>]
    #[arg(long, visible_alias = "out", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Who writes each week's workouts: the built-in library or the model
    #[arg(long, value_enum, default_value = "library")]
    pub workout_source: WorkoutSource,
    /// Seed for the workout choice (the same seed gives the same plan)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Continue after the last phase that finished (checkpoints in OUTPUT_DIR/checkpoints)
    #[arg(long)]
    pub resume: bool,
    /// Analysis and report only, no training plan
    #[arg(long)]
    pub skip_training_plan: bool,
    /// Fail when a model phase fails (still invalid after its repairs, or the provider
    /// unreachable after its retries) instead of letting the rule-based coach write that part
    #[arg(long)]
    pub strict: bool,
}

/// The shape of a training plan, as `generate` and `batch submit` take it (with several
/// athletes, for each of them).
#[derive(Debug, Clone, Args)]
pub struct PlanShapeArgs {
    /// Length of the training plan in weeks [default: the profile's, else 12]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(4..=24))]
    pub training_plan_weeks: Option<u32>,
    /// The goal the plan works towards [default: the profile's goals]
    #[arg(long, value_name = "TEXT")]
    pub goal: Option<String>,
    /// Date of the target event (YYYY-MM-DD): the plan tapers into it [default: the profile's]
    #[arg(long, value_name = "DATE")]
    pub event_date: Option<String>,
    /// First day of the plan (YYYY-MM-DD, moved to its Monday) [default: the Monday after the
    /// last activity]
    #[arg(long, value_name = "DATE")]
    pub plan_start: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WorkoutSource {
    Library,
    Llm,
}

#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// Every known model: provider, id and aliases, context window, capabilities, prices
    List {
        #[arg(long, value_name = "NAME", help = format!("Only this provider ({})", llm::registry::name_list()))]
        provider: Option<String>,
    },
    /// Check a provider: credentials found, one minimal call, a diagnosis on failure
    Check(CheckArgs),
    /// Run the same report several times on each target (provider:model) and compare calls,
    /// tokens, latency and cost side by side
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "The report is the demo season's (synthetic, the same for everyone), written to a scratch \
                  directory: your database is not touched. Without --offline-fakes the targets are \
                  called for real (credentials as for `generate`) and each run is paid for."
)]
pub struct BenchArgs {
    /// A provider and model to compare, e.g. bedrock:claude-sonnet-4.5 (repeat, or list several);
    /// differences are shown against the first
    #[arg(long = "target", value_name = "PROVIDER:MODEL", num_args = 1.., required = true)]
    pub targets: Vec<String>,
    /// Reports per target
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
    /// Reports a month, for the monthly cost
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub reports_per_month: u32,
    /// Write bench.json and bench.md here
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Answer from in-process fakes of the providers (real wire formats, scripted valid answers
    /// streamed at a realistic pace) instead of the real services: nothing is paid
    #[arg(long)]
    pub offline_fakes: bool,
    /// With --offline-fakes: seconds to the first token
    #[arg(
        long,
        value_name = "S",
        default_value_t = 0.8,
        requires = "offline_fakes"
    )]
    pub fake_first_token: f64,
    /// With --offline-fakes: output tokens a second
    #[arg(
        long,
        value_name = "N",
        default_value_t = 60.0,
        requires = "offline_fakes"
    )]
    pub fake_tokens_per_second: f64,
    /// Rides in the demo season the report is made from
    #[arg(long, value_name = "N", default_value_t = 220, value_parser = clap::value_parser!(u64).range(1..=2000))]
    pub rides: u64,
    /// Weeks of the training plan
    #[arg(long, value_name = "N", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=52))]
    pub training_plan_weeks: u32,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, value_name = "NAME", help = format!(
        "{} [default: the configured default provider]",
        provider_names_or()
    ))]
    pub provider: Option<String>,
    /// Model id or alias [default: the provider's model in the config file]
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The registry's provider names as a help text lists them: `a, b, c or d`.
fn provider_names_or() -> String {
    let names: Vec<&str> = llm::registry::names().collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The AWS settings and Bedrock call options of every command that calls a model (chat,
/// generate, providers check).
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// AWS region for Bedrock (over AWS_REGION and the config file)
    #[arg(long, value_name = "REGION")]
    pub aws_region: Option<String>,
    /// AWS profile for Bedrock (over AWS_PROFILE and the config file)
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,
    /// Bedrock intelligent prompt routing: the region's default prompt router of this model
    /// family chooses the model for each call (instead of --model; over `routing` in the
    /// config file)
    #[arg(long, value_enum, value_name = "FAMILY", conflicts_with = "model")]
    pub routing: Option<Routing>,
    #[command(flatten)]
    pub bedrock: BedrockArgs,
}

impl AwsArgs {
    /// The command-line values for the config merge: this command's `provider` and `model`
    /// with the AWS region and profile given here.
    pub fn flags(&self, provider: Option<String>, model: Option<String>) -> Flags {
        Flags {
            provider,
            model,
            aws_region: self.aws_region.clone(),
            aws_profile: self.aws_profile.clone(),
            routing: self.routing.map(|r| r.name().to_string()),
        }
    }
}

/// Bedrock-only call options (flags only: they describe one run, not a standing setting).
/// Shared by every command that calls a model.
#[derive(Debug, Clone, Default, Args)]
pub struct BedrockArgs {
    /// Bedrock guardrail id (or ARN) applied to every call
    #[arg(long, value_name = "ID")]
    pub guardrail_id: Option<String>,
    /// Version of the guardrail [default: DRAFT]
    #[arg(long, value_name = "VERSION", requires = "guardrail_id")]
    pub guardrail_version: Option<String>,
    /// Bedrock latency mode (optimized is a preview on a few models)
    #[arg(long, value_enum, value_name = "MODE")]
    pub latency: Option<Latency>,
    /// The AWS SDK's retry mode [default: AWS_RETRY_MODE, the AWS profile, else standard]
    #[arg(long, value_enum, value_name = "MODE")]
    pub retry_mode: Option<RetryModeArg>,
    /// Attempts per call including the first, made by the AWS SDK [default: AWS_MAX_ATTEMPTS,
    /// else 3]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10))]
    pub max_attempts: Option<u32>,
}

impl BedrockArgs {
    /// Whether any Bedrock-only option was given.
    pub fn is_set(&self) -> bool {
        self.guardrail_id.is_some()
            || self.guardrail_version.is_some()
            || self.latency.is_some()
            || self.retry_mode.is_some()
            || self.max_attempts.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Latency {
    Optimized,
    Standard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RetryModeArg {
    Standard,
    Adaptive,
}

/// The model families with a default prompt router on Bedrock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Routing {
    Claude,
    Llama,
    Nova,
}

impl Routing {
    pub fn name(self) -> &'static str {
        match self {
            Routing::Claude => "claude",
            Routing::Llama => "llama",
            Routing::Nova => "nova",
        }
    }
}
