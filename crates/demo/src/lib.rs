//! A deterministic synthetic season, written as a Strava bulk export plus an athlete profile:
//!
//! ```text
//! out_dir/export/activities.csv            103-column Strava header
//! out_dir/export/activities/<id>.fit.gz    1 Hz FIT activity files (our own writer)
//! out_dir/profile.json                     canonical profile, FTP deliberately a bit stale
//! ```
//!
//! The same [`DemoOptions`] always produce the same bytes, whatever the number of threads: the
//! season is planned sequentially from the seed, each activity is simulated from its own derived
//! seed, and nothing reads the clock.

mod athlete;
pub mod follow;
mod plan;
mod rng;
mod sim;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rayon::prelude::*;
use ride::fit_encode::{ActivityWriter, DeviceIdent, FitEncodeError, FitSport, Zones};

pub use athlete::Athlete;
pub use plan::{Kind, Workout};
pub use sim::normalized_power;

/// The Strava export header (current, 103 columns), a format fact from real exports.
pub const STRAVA_HEADER: &str = "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,Athlete Weight,Bike Weight,Elapsed Time,Moving Time,Distance,Max Speed,Average Speed,Elevation Gain,Elevation Loss,Elevation Low,Elevation High,Max Grade,Average Grade,Average Positive Grade,Average Negative Grade,Max Cadence,Average Cadence,Max Heart Rate,Average Heart Rate,Max Watts,Average Watts,Calories,Max Temperature,Average Temperature,Relative Effort,Total Work,Number of Runs,Uphill Time,Downhill Time,Other Time,Perceived Exertion,Type,Start Time,Weighted Average Power,Power Count,Prefer Perceived Exertion,Perceived Relative Effort,Commute,Total Weight Lifted,From Upload,Grade Adjusted Distance,Weather Observation Time,Weather Condition,Weather Temperature,Apparent Temperature,Dewpoint,Humidity,Weather Pressure,Wind Speed,Wind Gust,Wind Bearing,Precipitation Intensity,Sunrise Time,Sunset Time,Moon Phase,Bike,Gear,Precipitation Probability,Precipitation Type,Cloud Cover,Weather Visibility,UV Index,Weather Ozone,Jump Count,Total Grit,Average Flow,Flagged,Average Elapsed Speed,Dirt Distance,Newly Explored Distance,Newly Explored Dirt Distance,Activity Count,Total Steps,Carbon Saved,Pool Length,Training Load,Intensity,Average Grade Adjusted Pace,Timer Time,Total Cycles,Recovery,With Pet,Competition,Long Run,For a Cause,With Kid,Downhill Distance,Total Sets,Total Reps,Media";

/// The last day of the demo seasons the CLI writes (`demo`, `demo --athletes`, `providers
/// bench`): fixed, so a seed always gives the same files and figures.
pub const SEASON_END: Date = jiff::civil::date(2026, 10, 31);

/// The days every demo rider (the default one and each roster member) can train, and their
/// weekly hours: a coach's roster trains on one calendar, so one plan fits them all.
pub const TRAINING_DAYS: [jiff::civil::Weekday; 5] = [
    jiff::civil::Weekday::Tuesday,
    jiff::civil::Weekday::Wednesday,
    jiff::civil::Weekday::Thursday,
    jiff::civil::Weekday::Saturday,
    jiff::civil::Weekday::Sunday,
];
pub const HOURS_PER_WEEK: f64 = 9.0;
/// The profile's target event is this many weeks after the season's last day.
pub const EVENT_WEEKS_AFTER_SEASON: i64 = 12;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    pub out_dir: PathBuf,
    pub seed: u64,
    /// Number of rides (runs and strength sessions come on top).
    pub rides: usize,
    /// Last day of the season; the caller decides it (the crate never reads the clock).
    pub end_date: Date,
    /// Season length in weeks; lengthened when `rides` do not fit (at most 10 a week), and
    /// derived from `rides` alone when 0.
    pub weeks: usize,
    /// Who rides the season: the default demo rider, or a roster member
    /// ([`Athlete::roster_member`]).
    pub athlete: Athlete,
}

impl DemoOptions {
    /// A year's worth: 220 rides over 52 weeks.
    pub fn new(out_dir: impl Into<PathBuf>, end_date: Date) -> DemoOptions {
        DemoOptions {
            out_dir: out_dir.into(),
            seed: 42,
            rides: 220,
            end_date,
            weeks: 52,
            athlete: Athlete::default(),
        }
    }
}

/// Count of generated activities per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityCounts {
    /// Outdoor rides.
    pub rides: usize,
    pub virtual_rides: usize,
    /// Trainer rides without a virtual course (Strava type "Ride", FIT indoor_cycling).
    pub indoor_rides: usize,
    pub runs: usize,
    pub strength: usize,
}

impl ActivityCounts {
    pub fn total_rides(&self) -> usize {
        self.rides + self.virtual_rides + self.indoor_rides
    }
    pub fn total(&self) -> usize {
        self.total_rides() + self.runs + self.strength
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOutput {
    pub export_dir: PathBuf,
    pub csv_path: PathBuf,
    pub profile_path: PathBuf,
    /// Every FIT file, in activity (date) order.
    pub fit_files: Vec<PathBuf>,
    pub counts: ActivityCounts,
    pub start_date: Date,
    pub end_date: Date,
    pub weeks: usize,
    /// FTP written to the profile (stale on purpose).
    pub profile_ftp_w: u16,
    /// The athlete's real FTP at the end of the season.
    pub true_ftp_end_w: f64,
    /// 1 Hz records over all files.
    pub records: usize,
    /// Every FTP test ride: activity id, date and the athlete's real FTP that day (the 20-min
    /// effort targets 105 % of it).
    pub ftp_tests: Vec<FtpTest>,
}

/// An FTP test in the season.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FtpTest {
    pub activity_id: u64,
    pub date: Date,
    pub true_ftp_w: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("activity {id} ({date}): FIT encoding failed: {source}")]
    Fit {
        id: u64,
        date: Date,
        source: FitEncodeError,
    },
    #[error("writing {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_owned(),
        source,
    }
}

/// FIT sport/sub-sport of a kind of activity.
pub(crate) fn fit_sport(kind: Kind) -> FitSport {
    match kind {
        Kind::OutdoorRide => FitSport::ROAD_CYCLING,
        Kind::VirtualRide => FitSport::VIRTUAL_CYCLING,
        Kind::IndoorRide => FitSport::INDOOR_CYCLING,
        Kind::Run => FitSport::RUNNING,
        Kind::Strength => FitSport::STRENGTH,
    }
}

fn strava_type(kind: Kind) -> &'static str {
    match kind {
        Kind::OutdoorRide | Kind::IndoorRide => "Ride",
        Kind::VirtualRide => "Virtual Ride",
        Kind::Run => "Run",
        Kind::Strength => "Weight Training",
    }
}

/// One activity written: its CSV row, FIT path and record count.
type Written = (Vec<String>, PathBuf, usize);

/// Generates the season into `opts.out_dir`.
pub fn generate(opts: &DemoOptions) -> Result<DemoOutput, DemoError> {
    let athlete = &opts.athlete;
    let season = plan::plan(athlete, opts.seed, opts.rides, opts.weeks, opts.end_date);
    let export_dir = opts.out_dir.join("export");
    let act_dir = export_dir.join("activities");
    fs::create_dir_all(&act_dir).map_err(io_err(&act_dir))?;

    let results: Vec<Result<Written, DemoError>> = season
        .activities
        .par_iter()
        .map(|p| {
            let simulated = sim::simulate(p, athlete);
            let fit = encode_fit(p, athlete, &simulated).map_err(|source| DemoError::Fit {
                id: p.id,
                date: p.date,
                source,
            })?;
            let path = act_dir.join(format!("{}.fit.gz", p.id));
            // Fast compression: the export is rewritten often in benchmarks, and the ratio
            // gained by higher levels is small on FIT data.
            let mut gz = GzEncoder::new(Vec::with_capacity(fit.len() / 3), Compression::fast());
            gz.write_all(&fit).map_err(io_err(&path))?;
            let bytes = gz.finish().map_err(io_err(&path))?;
            fs::write(&path, bytes).map_err(io_err(&path))?;
            Ok((
                csv_row(p, athlete, &simulated),
                path,
                simulated.records.len(),
            ))
        })
        .collect();

    let csv_path = export_dir.join("activities.csv");
    let csv_err = |source| DemoError::Csv {
        path: csv_path.clone(),
        source,
    };
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(STRAVA_HEADER.split(',')).map_err(csv_err)?;
    let mut fit_files = Vec::with_capacity(results.len());
    let mut records = 0;
    for r in results {
        let (row, path, n) = r?;
        w.write_record(&row).map_err(csv_err)?;
        fit_files.push(path);
        records += n;
    }
    let data = w.into_inner().map_err(|e| DemoError::Io {
        path: csv_path.clone(),
        source: e.into_error(),
    })?;
    fs::write(&csv_path, data).map_err(io_err(&csv_path))?;

    let profile_ftp_w = season
        .ftp_history
        .last()
        .map_or(athlete.ftp_initial_w, |e| e.1);
    let profile_path = opts.out_dir.join("profile.json");
    let profile = profile_json(athlete, &season);
    let text = serde_json::to_string_pretty(&profile).expect("a JSON value always serialises");
    fs::write(&profile_path, text + "\n").map_err(io_err(&profile_path))?;

    let mut counts = ActivityCounts::default();
    for p in &season.activities {
        match p.kind {
            Kind::OutdoorRide => counts.rides += 1,
            Kind::VirtualRide => counts.virtual_rides += 1,
            Kind::IndoorRide => counts.indoor_rides += 1,
            Kind::Run => counts.runs += 1,
            Kind::Strength => counts.strength += 1,
        }
    }
    Ok(DemoOutput {
        export_dir,
        csv_path,
        profile_path,
        fit_files,
        counts,
        start_date: season.start_date,
        end_date: season.end_date,
        weeks: season.weeks,
        profile_ftp_w,
        true_ftp_end_w: athlete.ftp_end_w,
        records,
        ftp_tests: season
            .activities
            .iter()
            .filter(|p| p.workout == Some(Workout::FtpTest))
            .map(|p| FtpTest {
                activity_id: p.id,
                date: p.date,
                true_ftp_w: p.ftp_true_w,
            })
            .collect(),
    })
}

fn encode_fit(
    p: &plan::Planned,
    a: &Athlete,
    s: &sim::Simulated,
) -> Result<Vec<u8>, FitEncodeError> {
    let ident = match p.kind {
        Kind::VirtualRide => DeviceIdent {
            product: 2,
            serial_number: 0,
            product_name: Some("Demo Virtual Trainer".into()),
            software_version: Some(1.0),
            ..Default::default()
        },
        _ => DeviceIdent {
            product: 1,
            serial_number: 3_912_345_678,
            product_name: Some("Demo Head Unit".into()),
            software_version: Some(9.75),
            ..Default::default()
        },
    };
    let zones = Zones {
        ftp_w: Some(p.ftp_device_w),
        max_hr_bpm: Some(a.max_hr_bpm),
        threshold_hr_bpm: Some(a.lthr_bpm),
    };
    let mut w = ActivityWriter::with_device(p.start, fit_sport(p.kind), &ident, zones)?;
    let mut events = s.timer_events.iter().peekable();
    let mut laps = s.laps.iter().peekable();
    for (i, r) in s.records.iter().enumerate() {
        while let Some(&&(at, ref lap)) = laps.peek() {
            if at > i {
                break;
            }
            w.lap(lap)?;
            laps.next();
        }
        while let Some(e) = events.peek() {
            if e.t > r.t {
                break;
            }
            w.timer_event(e)?;
            events.next();
        }
        w.record(r)?;
    }
    for (_, lap) in laps {
        w.lap(lap)?;
    }
    w.session(&sim::session(p, s))?;
    w.finish()
}

/// Formats a float for the CSV: finite values only (never NaN/inf), `digits` decimals, with
/// Strava's habit of a trailing `.0` on whole numbers.
fn num(v: Option<f64>, digits: usize) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) => {
            let s = format!("{v:.digits$}");
            if digits == 0 { format!("{s}.0") } else { s }
        }
        None => String::new(),
    }
}

/// The export header's column names, in order.
fn header() -> &'static [&'static str] {
    static H: OnceLock<Vec<&'static str>> = OnceLock::new();
    H.get_or_init(|| STRAVA_HEADER.split(',').collect())
}

/// Index of the `occurrence`-th (0-based) column called `name`: names repeat in the export
/// (display block, then base-unit block), so columns are addressed by name *and* occurrence.
fn col(name: &str, occurrence: usize) -> usize {
    header()
        .iter()
        .enumerate()
        .filter(|(_, h)| **h == name)
        .nth(occurrence)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("column {name:?} #{occurrence} is not in the Strava header"))
}

fn csv_row(p: &plan::Planned, a: &Athlete, s: &sim::Simulated) -> Vec<String> {
    let m = &s.summary;
    let mut row = vec![String::new(); header().len()];
    let utc = p.start.to_zoned_datetime(TimeZone::UTC);
    let ride = p.kind.is_ride();
    let np = m.np_w.map(f64::round);
    let ftp = f64::from(p.ftp_device_w);
    let intensity = np.map(|np| 100.0 * np / ftp);
    let load = intensity.map(|i| m.power_count as f64 / 3600.0 * (i / 100.0).powi(2) * 100.0);
    let gear = match p.kind {
        Kind::OutdoorRide => "Canyon Ultimate CF SL",
        Kind::VirtualRide | Kind::IndoorRide => "Trainer bike",
        Kind::Run => "Pegasus 40",
        Kind::Strength => "",
    };
    let distance = if p.kind == Kind::Strength {
        None
    } else {
        Some(m.distance_m.unwrap_or(0.0))
    };
    row[col("Activity ID", 0)] = p.id.to_string();
    row[col("Activity Date", 0)] = utc.strftime("%b %-d, %Y, %-I:%M:%S %p").to_string();
    row[col("Activity Name", 0)] = p.name.clone();
    row[col("Activity Type", 0)] = strava_type(p.kind).to_owned();
    row[col("Activity Description", 0)] = p.description.clone();
    row[col("Elapsed Time", 0)] = format!("{}", m.elapsed_s as i64);
    row[col("Distance", 0)] = num(distance.map(|d| d / 1000.0), 2);
    row[col("Max Heart Rate", 0)] = num(m.max_hr, 0);
    row[col("Relative Effort", 0)] = num(m.relative_effort.map(f64::round), 0);
    row[col("Commute", 0)] = "false".into();
    row[col("Activity Gear", 0)] = gear.into();
    row[col("Filename", 0)] = format!("activities/{}.fit.gz", p.id);
    row[col("Athlete Weight", 0)] = num(Some(a.weight_kg), 1);
    row[col("Bike Weight", 0)] = if ride {
        num(Some(a.bike_kg), 1)
    } else {
        String::new()
    };
    row[col("Elapsed Time", 1)] = num(Some(m.elapsed_s), 0);
    row[col("Moving Time", 0)] = num(Some(m.timer_s), 0);
    row[col("Distance", 1)] = num(distance, 1);
    row[col("Max Speed", 0)] = num(m.max_speed_mps, 3);
    row[col("Average Speed", 0)] = num(m.avg_speed_mps, 3);
    row[col("Elevation Gain", 0)] = num(m.ascent_m, 1);
    row[col("Elevation Loss", 0)] = num(m.descent_m, 1);
    row[col("Elevation Low", 0)] = num(m.alt_low_m, 1);
    row[col("Elevation High", 0)] = num(m.alt_high_m, 1);
    row[col("Max Grade", 0)] = num(m.max_grade_pct, 1);
    row[col("Average Grade", 0)] = match (m.alt_high_m, distance) {
        // Loops end where they start: net grade ≈ 0, written like Strava does.
        (Some(_), Some(d)) if d > 0.0 => {
            let first = s
                .records
                .iter()
                .find_map(|r| r.altitude_m)
                .map_or(0.0, f64::from);
            let last = s
                .records
                .iter()
                .rev()
                .find_map(|r| r.altitude_m)
                .map_or(0.0, f64::from);
            num(Some((last - first) / d * 100.0), 4)
        }
        _ => String::new(),
    };
    row[col("Max Cadence", 0)] = num(m.max_cadence, 0);
    row[col("Average Cadence", 0)] = num(m.avg_cadence, 1);
    row[col("Max Heart Rate", 1)] = num(m.max_hr, 0);
    row[col("Average Heart Rate", 0)] = num(m.avg_hr, 1);
    row[col("Max Watts", 0)] = num(m.max_power_w, 0);
    row[col("Average Watts", 0)] = num(m.avg_power_w, 1);
    row[col("Calories", 0)] = num(Some(m.calories.round()), 0);
    row[col("Max Temperature", 0)] = num(m.max_temp, 0);
    row[col("Average Temperature", 0)] = num(m.avg_temp, 1);
    row[col("Relative Effort", 1)] = row[col("Relative Effort", 0)].clone();
    row[col("Total Work", 0)] = num(m.work_j, 0);
    // Measured power: Weighted Average Power present (Strava's estimate leaves it empty).
    row[col("Weighted Average Power", 0)] = num(np, 0);
    row[col("Power Count", 0)] = if m.power_count > 0 {
        num(Some(m.power_count as f64), 0)
    } else {
        String::new()
    };
    row[col("Commute", 1)] = "0.0".into();
    row[col("From Upload", 0)] = "1.0".into();
    row[col("Flagged", 0)] = "0.0".into();
    row[col("Average Elapsed Speed", 0)] = num(distance.map(|d| d / m.elapsed_s.max(1.0)), 3);
    row[col("Activity Count", 0)] = "1.0".into();
    row[col("Total Steps", 0)] = num(m.steps.map(f64::round), 0);
    row[col("Training Load", 0)] = num(load.map(f64::round), 0);
    row[col("Intensity", 0)] = num(intensity, 1);
    row[col("Timer Time", 0)] = num(Some(m.timer_s), 0);
    row
}

fn profile_json(a: &Athlete, season: &plan::Season) -> serde_json::Value {
    let ftp = season.ftp_history.last().map_or(a.ftp_initial_w, |e| e.1);
    let history: Vec<serde_json::Value> = season
        .ftp_history
        .iter()
        .map(|(d, w)| serde_json::json!({ "date": d.to_string(), "ftp_w": w }))
        .collect();
    serde_json::json!({
        "name": a.name,
        "age": a.age,
        "sex": a.sex,
        "weight_kg": a.weight_kg,
        "ftp_w": ftp,
        "ftp_history": history,
        "lthr_bpm": a.lthr_bpm,
        "max_hr_bpm": a.max_hr_bpm,
        "resting_hr_bpm": a.resting_hr_bpm,
        "timezone": a.timezone,
        "goals": [
            "Raise FTP to 4 W/kg",
            "Finish the Girona Gran Fondo (160 km) strongly"
        ],
        "training_status": "building",
        "experience_level": "intermediate",
        "training_availability": {
            "hours_per_week": HOURS_PER_WEEK,
            "week_days": TRAINING_DAYS.map(|d| format!("{d:?}").to_lowercase()),
        },
        "training_plan_weeks": 12,
        "event_date": season.end_date.checked_add(jiff::ToSpan::weeks(EVENT_WEEKS_AFTER_SEASON)).map(|d| d.to_string()).ok(),
    })
}
