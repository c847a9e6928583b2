//! Strava bulk export `activities.csv` → typed activity summaries.
//!
//! The format (see `fixtures/README.md`) has traps this reader is built around:
//!
//! - **Header names repeat.** Current exports carry `Elapsed Time`, `Distance`, `Max Heart Rate`,
//!   `Relative Effort` and `Commute` twice: the first block holds *display* values (`Distance` in
//!   km or miles, as the athlete chose), the second block *base* units (`Distance` in metres). A
//!   map keyed by name silently keeps one of the two (and then reads km as metres, 1000× too
//!   small), so columns are addressed by `(name, occurrence)` through [`HeaderIndex`].
//! - **The column set changes with the export date** (79, 94, 99, 103 columns seen), some exports
//!   have HTML `<span class="translation_missing" …>` headers, so every column except
//!   `Activity ID`, `Activity Date` and `Activity Type` is optional.
//! - **`Average Watts` is usually Strava's estimate**, not a power meter: power is measured only
//!   when `Weighted Average Power` is filled ([`StravaActivity::power_estimated`]).
//! - **`Activity Date` is UTC** written as en-US text (`Oct 5, 2014, 4:15:21 PM`), not local time.
//!
//! Bad values never abort the file: an unusable required field (id, date) skips its row, an
//! unusable optional field becomes `None`; both leave a warning naming the row and the column.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;
use serde::{Deserialize, Serialize};

use crate::model::{Environment, Sport, SportKind};

/// Individual warnings kept per file; beyond this a single summary line counts the rest, so a
/// file with a systematic problem does not produce thousands of lines.
const MAX_WARNINGS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum StravaError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: empty file, no header")]
    Empty { source_name: String },
    #[error(
        "{source_name}: required column `{column}` is missing from the header \
         ({found} columns: {preview}); is this a Strava activities.csv exported in English?"
    )]
    MissingColumn {
        source_name: String,
        column: &'static str,
        found: usize,
        preview: String,
    },
    #[error("{source_name}: line {line}: malformed CSV: {message}")]
    Csv {
        source_name: String,
        line: u64,
        message: String,
    },
}

/// What kind of activity file the `Filename` column points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    FitGz,
    Fit,
    Gpx,
    GpxGz,
    Tcx,
    TcxGz,
    /// A file with another extension.
    Other,
    /// No file: a manual entry.
    None,
}

impl FileKind {
    /// Classifies a `Filename` value such as `activities/123.fit.gz` (case-insensitive).
    pub fn from_filename(name: Option<&str>) -> FileKind {
        let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return FileKind::None;
        };
        let lower = name.to_ascii_lowercase();
        let kinds = [
            (".fit.gz", FileKind::FitGz),
            (".fit", FileKind::Fit),
            (".gpx.gz", FileKind::GpxGz),
            (".gpx", FileKind::Gpx),
            (".tcx.gz", FileKind::TcxGz),
            (".tcx", FileKind::Tcx),
        ];
        kinds
            .iter()
            .find(|(ext, _)| lower.ends_with(ext))
            .map(|&(_, kind)| kind)
            .unwrap_or(FileKind::Other)
    }

    pub fn is_fit(self) -> bool {
        matches!(self, FileKind::Fit | FileKind::FitGz)
    }

    /// A file with per-second samples the decoders read: FIT, TCX or GPX, plain or gzipped.
    pub fn has_samples(self) -> bool {
        !matches!(self, FileKind::Other | FileKind::None)
    }
}

/// One row of `activities.csv`. Units are SI (seconds, metres, m/s, watts, bpm, joules, kg); a
/// field the export left empty (or that did not parse) is `None`, never 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StravaActivity {
    /// `Activity ID`, kept as text (ids exceed 2^53 in some tools; we never do arithmetic on them).
    pub id: String,
    /// Spreadsheet row number: the header is row 1, the first activity row 2. Multi-line
    /// descriptions make this differ from the text line, see [`StravaActivity::line`].
    pub row: usize,
    /// 1-based text line on which the record starts.
    pub line: u64,
    /// `Activity Date`, which Strava writes in UTC.
    pub start_time: Timestamp,
    pub name: String,
    /// `Activity Type` as written, e.g. "Virtual Ride".
    pub activity_type: String,
    /// Classification of `activity_type`, see [`sport_from_type`].
    pub sport: SportKind,
    pub description: Option<String>,
    /// Elapsed time: base block `Elapsed Time` (#2), else the display one (#1); both are seconds.
    pub elapsed_s: Option<f64>,
    pub moving_s: Option<f64>,
    /// Distance in metres: base block `Distance` (#2); see [`parse_activities_csv`] for the
    /// fallbacks when that column is absent or empty.
    pub distance_m: Option<f64>,
    pub elevation_gain_m: Option<f64>,
    pub max_speed_mps: Option<f64>,
    pub avg_speed_mps: Option<f64>,
    pub avg_hr_bpm: Option<f64>,
    /// `Max Heart Rate` #2, else #1 (both bpm).
    pub max_hr_bpm: Option<f64>,
    pub avg_cadence: Option<f64>,
    /// `Average Watts`: measured only when [`Self::power_estimated`] is false.
    pub avg_watts: Option<f64>,
    pub max_watts: Option<f64>,
    /// `Weighted Average Power`: Strava's normalized-power-like figure, filled only with a power
    /// meter.
    pub weighted_avg_power_w: Option<f64>,
    /// `Average Watts` is present but `Weighted Average Power` is empty (or the export has no
    /// such column): the watts are Strava's estimate from speed and weight, not a measurement,
    /// and must not feed power metrics.
    pub power_estimated: bool,
    /// `Power Count`: seconds with power samples.
    pub power_count: Option<f64>,
    pub total_work_j: Option<f64>,
    pub calories: Option<f64>,
    pub training_load: Option<f64>,
    /// `Intensity`: 100 × weighted average power / FTP.
    pub intensity: Option<f64>,
    /// Either `Commute` column says so (`true` in the display block, `1.0` in the base block).
    pub commute: bool,
    /// `Activity Gear`, else `Gear`.
    pub gear: Option<String>,
    /// `Filename`, e.g. "activities/123.fit.gz"; `None` for manual entries.
    pub filename: Option<String>,
    pub file_kind: FileKind,
    /// `Relative Effort` #2, else #1.
    pub relative_effort: Option<f64>,
    pub athlete_weight_kg: Option<f64>,
    pub timer_s: Option<f64>,
}

impl StravaActivity {
    /// Power that came from a power meter: `avg_watts` unless it is Strava's estimate.
    pub fn measured_avg_watts(&self) -> Option<f64> {
        if self.power_estimated {
            None
        } else {
            self.avg_watts
        }
    }
}

/// The result of reading one export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StravaExport {
    /// In file order.
    pub activities: Vec<StravaActivity>,
    /// Non-fatal problems, each a full sentence naming the file, row and column.
    pub warnings: Vec<String>,
    /// Number of columns in the header.
    pub header_columns: usize,
}

/// Maps a Strava `Activity Type` to our sport classification.
///
/// Both the export's spaced names ("Virtual Ride") and the API's camel-case names
/// ("VirtualRide") are accepted. Decisions worth knowing:
/// - every kind of bike (gravel, MTB, velomobile, handcycle, e-bikes) is a ride; e-bikes carry
///   `e_bike = true` so fitness figures can leave them out;
/// - `Weight Training` and `Crossfit` are strength; `Workout` is **Other**, because Strava uses it
///   as a catch-all (HIIT, classes, mobility) and calling it strength would invent a training
///   stimulus;
/// - virtual rides, runs and rows are `Environment::Virtual`; weight training is indoor;
/// - unknown types (Sail, Canoe, Snowshoe, Yoga…) are Other.
pub fn sport_from_type(activity_type: &str) -> SportKind {
    let key: String = activity_type
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let ride = SportKind::new(Sport::Ride);
    let e_bike = SportKind {
        e_bike: true,
        ..ride
    };
    match key.as_str() {
        "ride" | "mountainbikeride" | "gravelride" | "velomobile" | "handcycle" | "cycling" => ride,
        "virtualride" => SportKind::with_env(Sport::Ride, Environment::Virtual),
        "ebikeride" | "emountainbikeride" => e_bike,
        "run" | "trailrun" => SportKind::new(Sport::Run),
        "virtualrun" => SportKind::with_env(Sport::Run, Environment::Virtual),
        "swim" => SportKind::new(Sport::Swim),
        "weighttraining" | "crossfit" => SportKind::with_env(Sport::Strength, Environment::Indoor),
        "rowing" => SportKind::new(Sport::Rowing),
        "virtualrow" => SportKind::with_env(Sport::Rowing, Environment::Virtual),
        "walk" => SportKind::new(Sport::Walk),
        "hike" => SportKind::new(Sport::Hike),
        "alpineski" | "nordicski" | "backcountryski" => SportKind::new(Sport::Ski),
        _ => SportKind::new(Sport::Other),
    }
}

/// Reads an `activities.csv` file. Errors name the path; warnings name the file name.
pub fn read_activities_csv(path: &Path) -> Result<StravaExport, StravaError> {
    let file = std::fs::File::open(path).map_err(|source| StravaError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let name = path.display().to_string();
    parse_activities_csv(std::io::BufReader::new(file), &name)
}

/// Parses an `activities.csv` stream; `source_name` prefixes every message.
///
/// Distance: the base-block `Distance` (#2) is metres. When a row has it empty but has the
/// display one (#1), the display unit (km or miles) is inferred from the ratio #2/#1 over the
/// rows that have both, and the row is converted with a warning. When the header has a single
/// `Distance` column, its meaning is decided by position (after `Moving Time`/`Athlete Weight`
/// it belongs to the base block: metres) or, when that is unclear, by magnitude (the median
/// speed it implies), with a warning saying which unit was assumed.
pub fn parse_activities_csv<R: Read>(
    reader: R,
    source_name: &str,
) -> Result<StravaExport, StravaError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut records = rdr.byte_records();
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        StravaError::Csv {
            source_name: source_name.to_owned(),
            line,
            message: e.to_string(),
        }
    };
    let header_record = match records.next() {
        None => {
            return Err(StravaError::Empty {
                source_name: source_name.to_owned(),
            });
        }
        Some(r) => r.map_err(csv_err)?,
    };
    let header_fields: Vec<String> = header_record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if header_fields.iter().all(|f| clean_header(f).is_empty()) {
        return Err(StravaError::Empty {
            source_name: source_name.to_owned(),
        });
    }
    let header = HeaderIndex::new(&header_fields);
    let cols = Columns::resolve(&header, source_name)?;

    let mut warn = Warnings::new(source_name);
    let mut activities = Vec::new();
    let mut display_distance: Vec<Option<f64>> = Vec::new();
    let mut seen_ids: HashSet<String> = HashSet::new();

    for (i, rec) in records.enumerate() {
        let rec = rec.map_err(csv_err)?;
        let row = i + 2;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let fields: Vec<String> = rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if fields.len() < header.len() {
            let first_missing = header.display(fields.len());
            warn.push(format!(
                "row {row}: {} fields but the header has {}; columns from #{} ({first_missing}) on \
                 are treated as empty",
                fields.len(),
                header.len(),
                fields.len() + 1
            ));
        } else if fields.len() > header.len() {
            warn.push(format!(
                "row {row}: {} fields but the header has {}; the extra fields are ignored",
                fields.len(),
                header.len()
            ));
        }
        let mut ctx = RowCtx {
            fields: &fields,
            header: &header,
            row,
            warn: &mut warn,
        };
        if let Some((act, display_km_or_mi)) = parse_row(&mut ctx, &cols, line) {
            if !seen_ids.insert(act.id.clone()) {
                warn.push(format!(
                    "row {row}: activity {} appears again; the later row is skipped",
                    act.id
                ));
                continue;
            }
            activities.push(act);
            display_distance.push(display_km_or_mi);
        }
    }

    resolve_distances(
        &cols,
        &header,
        &mut activities,
        &display_distance,
        &mut warn,
    );

    Ok(StravaExport {
        activities,
        warnings: warn.finish(),
        header_columns: header.len(),
    })
}

// ---------------------------------------------------------------------------------------------
// Header

/// Header cleaned of HTML and indexed by `(name, occurrence)`.
struct HeaderIndex {
    /// Cleaned display name per column.
    names: Vec<String>,
    /// Lower-cased, whitespace-collapsed names used for matching.
    keys: Vec<String>,
}

impl HeaderIndex {
    fn new(raw: &[String]) -> Self {
        let names: Vec<String> = raw.iter().map(|r| clean_header(r)).collect();
        let keys = names.iter().map(|n| n.to_lowercase()).collect();
        HeaderIndex { names, keys }
    }

    fn len(&self) -> usize {
        self.names.len()
    }

    /// Column index of the `occurrence`-th (1-based) column called `name`.
    fn find(&self, name: &str, occurrence: usize) -> Option<usize> {
        let key = name.to_lowercase();
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, k)| **k == key)
            .nth(occurrence.saturating_sub(1))
            .map(|(i, _)| i)
    }

    fn count(&self, name: &str) -> usize {
        let key = name.to_lowercase();
        self.keys.iter().filter(|k| **k == key).count()
    }

    /// "`Distance` (#2)" for repeated names, "`Distance`" for unique ones.
    fn display(&self, col: usize) -> String {
        let Some(name) = self.names.get(col) else {
            return format!("column #{}", col + 1);
        };
        let key = &self.keys[col];
        if self.keys.iter().filter(|k| *k == key).count() > 1 {
            let occ = self.keys[..=col].iter().filter(|k| *k == key).count();
            format!("`{name}` (#{occ})")
        } else {
            format!("`{name}`")
        }
    }
}

/// Strips a BOM, HTML tags and surrounding space from a header cell. When the text inside the
/// tags is empty or is itself a "translation missing" notice, the name is rebuilt from the last
/// segment of the `title="translation missing: …horton_values.elapsed_time"` attribute.
fn clean_header(raw: &str) -> String {
    let raw = raw.trim_start_matches('\u{feff}');
    let mut text = String::new();
    let mut in_tag = false;
    for c in raw.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = collapse_ws(&decode_entities(&text));
    if !text.is_empty() && !text.to_lowercase().contains("translation missing") {
        return text;
    }
    title_fallback(raw).unwrap_or(text)
}

fn title_fallback(raw: &str) -> Option<String> {
    let start = raw.find("title=\"")? + "title=\"".len();
    let title = &raw[start..];
    let title = &title[..title.find('"')?];
    let segment = title.rsplit(['.', ':']).next()?.trim();
    if segment.is_empty() {
        return None;
    }
    let words: Vec<String> = segment
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_uppercase().chain(cs).collect(),
                None => String::new(),
            }
        })
        .collect();
    Some(words.join(" "))
}

fn decode_entities(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Column positions for every field we read; resolved once per file.
struct Columns {
    id: usize,
    date: usize,
    activity_type: usize,
    name: Option<usize>,
    description: Option<usize>,
    elapsed: [Option<usize>; 2],
    /// `[display block, base block]`; with a single `Distance` column see `single_distance`.
    distance: [Option<usize>; 2],
    /// The header has exactly one `Distance` column (stored in `distance[0]`).
    single_distance: bool,
    max_hr: [Option<usize>; 2],
    relative_effort: [Option<usize>; 2],
    commute: [Option<usize>; 2],
    moving: Option<usize>,
    elevation_gain: Option<usize>,
    max_speed: Option<usize>,
    avg_speed: Option<usize>,
    avg_hr: Option<usize>,
    avg_cadence: Option<usize>,
    avg_watts: Option<usize>,
    max_watts: Option<usize>,
    weighted_power: Option<usize>,
    power_count: Option<usize>,
    total_work: Option<usize>,
    calories: Option<usize>,
    training_load: Option<usize>,
    intensity: Option<usize>,
    gear: [Option<usize>; 2],
    filename: Option<usize>,
    athlete_weight: Option<usize>,
    timer: Option<usize>,
}

impl Columns {
    fn resolve(h: &HeaderIndex, source_name: &str) -> Result<Columns, StravaError> {
        let required = |name: &'static str| {
            h.find(name, 1).ok_or_else(|| StravaError::MissingColumn {
                source_name: source_name.to_owned(),
                column: name,
                found: h.len(),
                preview: preview(&h.names),
            })
        };
        let id = required("Activity ID")?;
        let date = required("Activity Date")?;
        let activity_type = required("Activity Type")?;
        let one = |name: &str| h.find(name, 1);
        // A repeated name: occurrence 1 is the display block, 2 the base block. A name present
        // once lands in the slot its position implies (before `Filename`: display block).
        let filename = one("Filename");
        let pair = |name: &str| -> [Option<usize>; 2] {
            match h.count(name) {
                0 => [None, None],
                1 => {
                    let c = h.find(name, 1);
                    match (c, filename) {
                        (Some(c), Some(f)) if c > f => [None, Some(c)],
                        _ => [c, None],
                    }
                }
                _ => [h.find(name, 1), h.find(name, 2)],
            }
        };
        let distance_count = h.count("Distance");
        let distance = if distance_count >= 2 {
            [h.find("Distance", 1), h.find("Distance", 2)]
        } else {
            [h.find("Distance", 1), None]
        };
        Ok(Columns {
            id,
            date,
            activity_type,
            name: one("Activity Name"),
            description: one("Activity Description"),
            elapsed: pair("Elapsed Time"),
            distance,
            single_distance: distance_count == 1,
            max_hr: pair("Max Heart Rate"),
            relative_effort: pair("Relative Effort"),
            commute: pair("Commute"),
            moving: one("Moving Time"),
            elevation_gain: one("Elevation Gain"),
            max_speed: one("Max Speed"),
            avg_speed: one("Average Speed"),
            avg_hr: one("Average Heart Rate"),
            avg_cadence: one("Average Cadence"),
            avg_watts: one("Average Watts"),
            max_watts: one("Max Watts"),
            weighted_power: one("Weighted Average Power"),
            power_count: one("Power Count"),
            total_work: one("Total Work"),
            calories: one("Calories"),
            training_load: one("Training Load"),
            intensity: one("Intensity"),
            gear: [one("Activity Gear"), one("Gear")],
            filename,
            athlete_weight: one("Athlete Weight"),
            timer: one("Timer Time"),
        })
    }
}

fn preview(names: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(", …");
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Rows

struct Warnings {
    source_name: String,
    list: Vec<String>,
    dropped: usize,
}

impl Warnings {
    fn new(source_name: &str) -> Self {
        Warnings {
            source_name: source_name.to_owned(),
            list: Vec::new(),
            dropped: 0,
        }
    }
    fn push(&mut self, msg: String) {
        if self.list.len() < MAX_WARNINGS {
            // Row messages start with "row N:", file messages with ":".
            let sep = if msg.starts_with(':') { "" } else { " " };
            self.list.push(format!("{}{sep}{msg}", self.source_name));
        } else {
            self.dropped += 1;
        }
    }
    /// A message about the whole file rather than one row.
    fn push_file(&mut self, msg: String) {
        self.push(format!(": {msg}"));
    }
    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list.push(format!(
                "{}: {} more warnings not shown",
                self.source_name, self.dropped
            ));
        }
        self.list
    }
}

struct RowCtx<'a> {
    fields: &'a [String],
    header: &'a HeaderIndex,
    row: usize,
    warn: &'a mut Warnings,
}

impl RowCtx<'_> {
    /// Trimmed non-empty text of a column.
    fn text(&self, col: Option<usize>) -> Option<&str> {
        let s = self.fields.get(col?)?.trim();
        (!s.is_empty()).then_some(s)
    }

    fn raw_text(&self, col: Option<usize>) -> Option<String> {
        let s = self.fields.get(col?)?;
        (!s.trim().is_empty()).then(|| s.clone())
    }

    fn num(&mut self, col: Option<usize>) -> Option<f64> {
        let text = self.text(col)?;
        match parse_number(text) {
            Some(v) => Some(v),
            None => {
                let msg = format!(
                    "row {}: column {}: '{}' is not a number",
                    self.row,
                    self.header.display(col.unwrap_or(0)),
                    text
                );
                self.warn.push(msg);
                None
            }
        }
    }

    /// A value that must not be negative (times, distances, power…): negative → None + warning.
    fn non_negative(&mut self, col: Option<usize>) -> Option<f64> {
        let v = self.num(col)?;
        if v < 0.0 {
            let msg = format!(
                "row {}: column {}: {v} is negative; ignored",
                self.row,
                self.header.display(col.unwrap_or(0))
            );
            self.warn.push(msg);
            return None;
        }
        Some(v)
    }

    /// Base-block value, else display-block value (same unit in both).
    fn pair_num(&mut self, cols: [Option<usize>; 2]) -> Option<f64> {
        self.non_negative(cols[1])
            .or_else(|| self.non_negative(cols[0]))
    }

    fn bool(&mut self, col: Option<usize>) -> Option<bool> {
        let text = self.text(col)?;
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            other => match parse_number(other) {
                Some(v) => Some(v != 0.0),
                None => {
                    let msg = format!(
                        "row {}: column {}: '{}' is not true/false",
                        self.row,
                        self.header.display(col.unwrap_or(0)),
                        text
                    );
                    self.warn.push(msg);
                    None
                }
            },
        }
    }
}

/// Parses one data row; `None` (with a warning) when a required field is unusable. Also returns
/// the display-block distance for the file-level unit resolution.
fn parse_row(
    ctx: &mut RowCtx<'_>,
    cols: &Columns,
    line: u64,
) -> Option<(StravaActivity, Option<f64>)> {
    let row = ctx.row;
    let Some(id) = ctx.text(Some(cols.id)).map(str::to_owned) else {
        ctx.warn.push(format!(
            "row {row}: column `Activity ID` is empty; row skipped"
        ));
        return None;
    };
    let start_time = match ctx.text(Some(cols.date)) {
        None => {
            ctx.warn.push(format!(
                "row {row}: column `Activity Date` is empty (activity {id}); row skipped"
            ));
            return None;
        }
        Some(text) => match parse_activity_date(text) {
            Some(ts) => ts,
            None => {
                ctx.warn.push(format!(
                    "row {row}: column `Activity Date`: '{text}' is not a date like \
                     'Oct 5, 2014, 4:15:21 PM' (activity {id}); row skipped"
                ));
                return None;
            }
        },
    };
    let activity_type = ctx
        .text(Some(cols.activity_type))
        .unwrap_or_default()
        .to_owned();
    if activity_type.is_empty() {
        ctx.warn.push(format!(
            "row {row}: column `Activity Type` is empty (activity {id}); classified as other"
        ));
    }
    let sport = sport_from_type(&activity_type);

    let display_distance = if cols.single_distance {
        None
    } else {
        ctx.non_negative(cols.distance[0])
    };
    // With one Distance column the unit is decided file-wide later; keep its raw value here.
    let distance_m = if cols.single_distance {
        ctx.non_negative(cols.distance[0])
    } else {
        ctx.non_negative(cols.distance[1])
    };

    let avg_watts = ctx.non_negative(cols.avg_watts);
    let weighted_avg_power_w = ctx.non_negative(cols.weighted_power);
    let power_estimated = avg_watts.is_some() && weighted_avg_power_w.is_none();
    let filename = ctx.text(cols.filename).map(str::to_owned);
    let file_kind = FileKind::from_filename(filename.as_deref());
    let commute =
        ctx.bool(cols.commute[0]).unwrap_or(false) | ctx.bool(cols.commute[1]).unwrap_or(false);

    let act = StravaActivity {
        row,
        line,
        start_time,
        name: ctx
            .raw_text(cols.name)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
        activity_type,
        sport,
        description: ctx.raw_text(cols.description),
        elapsed_s: ctx.pair_num(cols.elapsed),
        moving_s: ctx.non_negative(cols.moving),
        distance_m,
        elevation_gain_m: ctx.non_negative(cols.elevation_gain),
        max_speed_mps: ctx.non_negative(cols.max_speed),
        avg_speed_mps: ctx.non_negative(cols.avg_speed),
        avg_hr_bpm: ctx.non_negative(cols.avg_hr),
        max_hr_bpm: ctx.pair_num(cols.max_hr),
        avg_cadence: ctx.non_negative(cols.avg_cadence),
        avg_watts,
        max_watts: ctx.non_negative(cols.max_watts),
        weighted_avg_power_w,
        power_estimated,
        power_count: ctx.non_negative(cols.power_count),
        total_work_j: ctx.non_negative(cols.total_work),
        calories: ctx.non_negative(cols.calories),
        training_load: ctx.non_negative(cols.training_load),
        intensity: ctx.non_negative(cols.intensity),
        commute,
        gear: ctx
            .text(cols.gear[0])
            .or_else(|| ctx.text(cols.gear[1]))
            .map(str::to_owned),
        filename,
        file_kind,
        relative_effort: ctx.pair_num(cols.relative_effort),
        athlete_weight_kg: ctx.non_negative(cols.athlete_weight),
        timer_s: ctx.non_negative(cols.timer),
        id,
    };
    Some((act, display_distance))
}

const METRES_PER_MILE: f64 = 1609.344;

/// File-level distance decisions that need more than one row (see [`parse_activities_csv`]).
fn resolve_distances(
    cols: &Columns,
    header: &HeaderIndex,
    activities: &mut [StravaActivity],
    display: &[Option<f64>],
    warn: &mut Warnings,
) {
    if cols.single_distance {
        resolve_single_distance(cols, header, activities, warn);
        return;
    }
    // Rows missing the base value but holding the display one: find the display unit from rows
    // that have both (ratio ≈ 1000 for km, ≈ 1609 for miles).
    let missing: Vec<usize> = (0..activities.len())
        .filter(|&i| activities[i].distance_m.is_none() && display[i].is_some_and(|d| d > 0.0))
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut ratios: Vec<f64> = activities
        .iter()
        .zip(display)
        .filter_map(|(a, d)| match (a.distance_m, *d) {
            (Some(m), Some(d)) if d >= 1.0 && m > 0.0 => Some(m / d),
            _ => None,
        })
        .collect();
    let unit = median(&mut ratios).and_then(|r| {
        if (r / 1000.0 - 1.0).abs() < 0.02 {
            Some((1000.0, "km"))
        } else if (r / METRES_PER_MILE - 1.0).abs() < 0.02 {
            Some((METRES_PER_MILE, "mi"))
        } else {
            None
        }
    });
    for i in missing {
        let row = activities[i].row;
        let d = display[i].unwrap_or_default();
        match unit {
            Some((factor, name)) => {
                activities[i].distance_m = Some(d * factor);
                warn.push(format!(
                    "row {row}: column `Distance` (#2) is empty; used `Distance` (#1) = {d} {name}"
                ));
            }
            None => warn.push(format!(
                "row {row}: column `Distance` (#2) is empty and the unit of `Distance` (#1) \
                 ({d}) cannot be told from the other rows; distance left empty"
            )),
        }
    }
}

/// One `Distance` column: metres when it sits in the base block (after `Filename`); otherwise decide by the speed it implies — the display block in km
/// gives speeds of a few mm/s if read as metres.
fn resolve_single_distance(
    cols: &Columns,
    header: &HeaderIndex,
    activities: &mut [StravaActivity],
    warn: &mut Warnings,
) {
    let Some(col) = cols.distance[0] else { return };
    let in_base_block = cols.filename.is_some_and(|f| col > f);
    let factor = if in_base_block {
        1.0
    } else {
        let mut speeds: Vec<f64> = activities
            .iter()
            .filter_map(|a| {
                let t = a.moving_s.or(a.elapsed_s)?;
                let d = a.distance_m?;
                (t > 0.0 && d > 0.0).then_some(d / t)
            })
            .collect();
        match median(&mut speeds) {
            // Taken as metres this is under 0.2 m/s (a slow walk is ~1.2 m/s): the values are
            // kilometres (or miles; the export does not say which, km is Strava's default).
            Some(v) if v < 0.2 => 1000.0,
            Some(_) => 1.0,
            None => 1000.0,
        }
    };
    let unit = if factor == 1.0 {
        "metres"
    } else {
        "kilometres"
    };
    warn.push_file(format!(
        "the header has a single `Distance` column ({}); its values are read as {unit}",
        header.display(col)
    ));
    if factor != 1.0 {
        for a in activities.iter_mut() {
            a.distance_m = a.distance_m.map(|d| d * factor);
        }
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

// ---------------------------------------------------------------------------------------------
// Values

/// A finite number; accepts en-US thousands grouping ("1,234.5"). NaN/inf are rejected so they
/// never reach serialised output.
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let v = match t.parse::<f64>() {
        Ok(v) => v,
        Err(_) if is_grouped(t) => t.replace(',', "").parse::<f64>().ok()?,
        Err(_) => return None,
    };
    v.is_finite().then_some(v)
}

/// `1,234` / `12,345,678.9`: comma-grouped thousands, nothing else.
fn is_grouped(t: &str) -> bool {
    let t = t.strip_prefix('-').unwrap_or(t);
    let int = t.split('.').next().unwrap_or("");
    if t.matches('.').count() > 1
        || !t
            .split('.')
            .nth(1)
            .unwrap_or("0")
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let groups: Vec<&str> = int.split(',').collect();
    groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3)
}

/// Parses `Activity Date` as UTC: en-US `Oct 5, 2014, 4:15:21 PM` (full month names, day-first
/// order, 24-hour time and a missing seconds field also accepted), or ISO `2024-05-13 09:54:42` /
/// `2024-05-13T09:54:42Z`.
pub fn parse_activity_date(text: &str) -> Option<Timestamp> {
    // Newer CLDR data puts U+202F (narrow no-break space) before AM/PM.
    let norm: String = text
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '\u{202f}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let norm = norm.trim();
    if let Ok(ts) = norm.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = norm.replacen(' ', "T", 1).parse::<DateTime>() {
        return Offset::UTC.to_timestamp(dt).ok();
    }
    parse_en_us_date(norm)
}

fn parse_en_us_date(s: &str) -> Option<Timestamp> {
    let tokens: Vec<&str> = s.split([',', ' ']).filter(|t| !t.is_empty()).collect();
    // [month, day, year, time, (AM|PM)?]
    if !(4..=5).contains(&tokens.len()) {
        return None;
    }
    // en-US puts the month first; en-GB style exports write "5 Oct 2014, 16:15:21".
    let (month, day) = match month_number(tokens[0]) {
        Some(m) => (m, tokens[1].parse::<i8>().ok()?),
        None => (month_number(tokens[1])?, tokens[0].parse::<i8>().ok()?),
    };
    let year: i16 = tokens[2].parse().ok()?;
    let mut hms = tokens[3].split(':');
    let mut hour: i8 = hms.next()?.parse().ok()?;
    let minute: i8 = hms.next()?.parse().ok()?;
    let second: i8 = match hms.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    if hms.next().is_some() {
        return None;
    }
    if let Some(ampm) = tokens.get(4) {
        let pm = match ampm.to_ascii_uppercase().replace('.', "").as_str() {
            "AM" => false,
            "PM" => true,
            _ => return None,
        };
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = match (pm, hour) {
            (false, 12) => 0,
            (false, h) => h,
            (true, 12) => 12,
            (true, h) => h + 12,
        };
    }
    let dt = DateTime::new(year, month, day, hour, minute, second, 0).ok()?;
    Offset::UTC.to_timestamp(dt).ok()
}

fn month_number(name: &str) -> Option<i8> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let n = name.trim_end_matches('.').to_lowercase();
    if n.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&n) || (n == "sept" && *m == "september"))
        .map(|i| i as i8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let ts = |s: &str| parse_activity_date(s).map(|t| t.to_string());
        assert_eq!(
            ts("Oct 5, 2014, 4:15:21 PM").as_deref(),
            Some("2014-10-05T16:15:21Z")
        );
        assert_eq!(
            ts("May 13, 2026, 9:54:42 AM").as_deref(),
            Some("2026-05-13T09:54:42Z")
        );
        assert_eq!(
            ts("Jan 1, 2020, 12:05:00 AM").as_deref(),
            Some("2020-01-01T00:05:00Z")
        );
        assert_eq!(
            ts("Jan 1, 2020, 12:05:00 PM").as_deref(),
            Some("2020-01-01T12:05:00Z")
        );
        assert_eq!(
            ts("Sept 9, 2023, 5:16:24\u{202f}PM").as_deref(),
            Some("2023-09-09T17:16:24Z")
        );
        assert_eq!(
            ts("September 9, 2023, 17:16:24").as_deref(),
            Some("2023-09-09T17:16:24Z")
        );
        assert_eq!(
            ts("2024-05-13 09:54:42").as_deref(),
            Some("2024-05-13T09:54:42Z")
        );
        assert_eq!(
            ts("2024-05-13T09:54:42Z").as_deref(),
            Some("2024-05-13T09:54:42Z")
        );
        assert_eq!(ts("Feb 30, 2024, 1:00:00 PM"), None);
        assert_eq!(ts("Oct 5, 2014, 13:15:21 PM"), None);
        assert_eq!(ts("yesterday"), None);
        assert_eq!(ts(""), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("13609.2001953125"), Some(13609.2001953125));
        assert_eq!(parse_number(" 42 "), Some(42.0));
        assert_eq!(parse_number("1,234.5"), Some(1234.5));
        assert_eq!(parse_number("12,345,678"), Some(12345678.0));
        assert_eq!(parse_number("1,23"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
    }

    #[test]
    fn headers() {
        assert_eq!(clean_header("\u{feff}Activity ID"), "Activity ID");
        assert_eq!(
            clean_header(
                r#"<span class="translation_missing" title="translation missing: en-US.lib.export.portability_exporter.activities.horton_values.type">Type</span>"#
            ),
            "Type"
        );
        assert_eq!(
            clean_header(
                r#"<span class="translation_missing" title="translation missing: en-US.lib.export.portability_exporter.activities.horton_values.elapsed_time"></span>"#
            ),
            "Elapsed Time"
        );
        assert_eq!(clean_header("  Max   Speed "), "Max Speed");
        let h = HeaderIndex::new(&["A".into(), "Distance".into(), "distance".into()]);
        assert_eq!(h.find("Distance", 2), Some(2));
        assert_eq!(h.display(2), "`distance` (#2)");
        assert_eq!(h.display(0), "`A`");
    }

    #[test]
    fn sports() {
        let k = sport_from_type;
        assert_eq!(k("Virtual Ride").environment, Environment::Virtual);
        assert_eq!(k("VirtualRide").sport, Sport::Ride);
        assert!(k("E-Mountain Bike Ride").e_bike);
        assert!(k("E-Bike Ride").is_ride());
        assert_eq!(k("Velomobile").sport, Sport::Ride);
        assert_eq!(k("Handcycle").sport, Sport::Ride);
        assert_eq!(k("Gravel Ride").sport, Sport::Ride);
        assert_eq!(k("Trail Run").sport, Sport::Run);
        assert_eq!(
            k("Virtual Run"),
            SportKind::with_env(Sport::Run, Environment::Virtual)
        );
        assert_eq!(k("Weight Training").sport, Sport::Strength);
        assert_eq!(k("Crossfit").sport, Sport::Strength);
        assert_eq!(k("Workout").sport, Sport::Other);
        assert_eq!(k("Virtual Row").sport, Sport::Rowing);
        assert_eq!(k("Nordic Ski").sport, Sport::Ski);
        assert_eq!(k("Backcountry Ski").sport, Sport::Ski);
        assert_eq!(k("Sail").sport, Sport::Other);
        assert_eq!(k("").sport, Sport::Other);
    }

    #[test]
    fn file_kinds() {
        assert_eq!(
            FileKind::from_filename(Some("activities/1.fit.gz")),
            FileKind::FitGz
        );
        assert_eq!(
            FileKind::from_filename(Some("activities/1.FIT")),
            FileKind::Fit
        );
        assert_eq!(
            FileKind::from_filename(Some("activities/1.gpx.gz")),
            FileKind::GpxGz
        );
        assert_eq!(
            FileKind::from_filename(Some("activities/1.tcx.gz")),
            FileKind::TcxGz
        );
        assert_eq!(
            FileKind::from_filename(Some("activities/1.tcx")),
            FileKind::Tcx
        );
        assert_eq!(
            FileKind::from_filename(Some("activities/1.kml")),
            FileKind::Other
        );
        assert_eq!(FileKind::from_filename(Some("  ")), FileKind::None);
        assert_eq!(FileKind::from_filename(None), FileKind::None);
    }
}
