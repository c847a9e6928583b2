//! Activities, their summaries (`activity_metrics`) and power curves: writing and the queries
//! analysis and the CLI need.

use jiff::{Timestamp, civil::Date};
use metrics::{ActivitySummary, LoadSource, PowerCurve};
use ride::{Environment, Sport, SportKind};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::{Store, StoreError, now_rfc3339};

/// Where an activity's data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A decoded activity file: FIT, TCX or GPX (possibly linked to a Strava CSV row for its name
    /// and type). One kind for the three, because they take the same path and give the same
    /// figures; `source_path` tells the format.
    Fit,
    /// Only the Strava `activities.csv` row: totals, no samples.
    StravaCsvSummary,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Fit => "fit",
            SourceKind::StravaCsvSummary => "strava_csv_summary",
        }
    }
    fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "fit" => Some(SourceKind::Fit),
            "strava_csv_summary" => Some(SourceKind::StravaCsvSummary),
            _ => None,
        }
    }
}

/// One stored activity, without its metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    pub id: i64,
    pub athlete_id: i64,
    pub source_kind: SourceKind,
    /// Strava Activity ID, when known.
    pub external_id: Option<String>,
    /// Relative to the import root.
    pub source_path: String,
    pub content_hash: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub sport: SportKind,
    pub start_time: Timestamp,
    pub local_date: Date,
    pub elapsed_s: f64,
    pub timer_s: f64,
    pub moving_s: f64,
    pub distance_m: Option<f64>,
    pub elevation_gain_m: Option<f64>,
    pub summary_only: bool,
    pub truncated: bool,
    pub warnings: Vec<String>,
    pub imported_at: String,
    /// The activity this one is a duplicate recording of: left out of every metric.
    pub duplicate_of: Option<i64>,
    /// Who decided the duplicate status (`None`: nobody yet; `User` with no `duplicate_of`: the
    /// user split it off, and the importer never merges it again).
    pub duplicate_source: Option<DuplicateSource>,
}

/// Who marked an activity as a duplicate, or as not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateSource {
    /// The importer's overlap check.
    Auto,
    /// `activities merge` / `activities unmerge`.
    User,
}

impl DuplicateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateSource::Auto => "auto",
            DuplicateSource::User => "user",
        }
    }
    fn parse(s: &str) -> Option<DuplicateSource> {
        match s {
            "auto" => Some(DuplicateSource::Auto),
            "user" => Some(DuplicateSource::User),
            _ => None,
        }
    }
}

/// What the importer writes for one activity. Sport, start, date and totals come from
/// `summary`, so the row and its metrics cannot disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    pub source_kind: SourceKind,
    pub external_id: Option<String>,
    pub source_path: String,
    pub content_hash: String,
    pub csv_row_hash: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub summary: ActivitySummary,
    pub truncated: bool,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Inserted(i64),
    /// An existing activity (same Strava id, same content or same path) was replaced in place,
    /// keeping its id.
    Updated(i64),
}

impl UpsertOutcome {
    pub fn id(self) -> i64 {
        match self {
            UpsertOutcome::Inserted(id) | UpsertOutcome::Updated(id) => id,
        }
    }
}

/// One activity's power curve with what analysis groups it by.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityCurve {
    pub activity_id: i64,
    pub start_time: Timestamp,
    pub local_date: Date,
    pub sport: SportKind,
    pub curve: PowerCurve,
}

/// Filters for [`Store::search_activities`]. Every field is optional; `text` matches the name or
/// description case-insensitively (ASCII) and literally: `%`, `_` and quotes are plain characters.
#[derive(Debug, Clone, Default)]
pub struct ActivitySearch<'a> {
    pub text: Option<&'a str>,
    pub sport: Option<Sport>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// At most this many rows, newest first (`None`: all).
    pub limit: Option<u32>,
    /// Also list duplicate recordings (the activity list shows them; analysis never does).
    pub include_duplicates: bool,
}

const ROW_COLUMNS: &str = "a.id, a.athlete_id, a.source_kind, a.external_id, a.source_path, \
     a.content_hash, a.name, a.description, a.sport, a.environment, a.e_bike, a.start_time, \
     a.local_date, a.elapsed_s, a.timer_s, a.moving_s, a.distance_m, a.elevation_gain_m, \
     a.summary_only, a.truncated, a.warnings_json, a.imported_at, a.duplicate_of, \
     a.duplicate_source";
const ROW_COLUMN_COUNT: usize = 24;

/// The condition every query feeding metrics adds: one ride counts once.
const NOT_DUPLICATE: &str = "a.duplicate_of IS NULL";

pub(crate) fn env_str(e: Environment) -> &'static str {
    match e {
        Environment::Outdoor => "outdoor",
        Environment::Indoor => "indoor",
        Environment::Virtual => "virtual",
    }
}

pub(crate) fn env_parse(s: &str) -> Option<Environment> {
    match s {
        "outdoor" => Some(Environment::Outdoor),
        "indoor" => Some(Environment::Indoor),
        "virtual" => Some(Environment::Virtual),
        _ => None,
    }
}

fn load_source_str(l: LoadSource) -> &'static str {
    match l {
        LoadSource::Power => "power",
        LoadSource::HeartRate => "heart_rate",
        LoadSource::Duration => "duration",
        LoadSource::Strava => "strava",
    }
}

/// A conversion failure inside a row mapper, reported against the activity id.
pub(crate) fn corrupt(id: i64, what: &'static str, reason: impl ToString) -> StoreError {
    StoreError::CorruptRow {
        id,
        what,
        reason: reason.to_string(),
    }
}

/// Raw column values; converted to [`ActivityRow`] outside the rusqlite closure so conversion
/// errors can be [`StoreError::CorruptRow`] naming the activity.
struct RawRow {
    id: i64,
    athlete_id: i64,
    source_kind: String,
    external_id: Option<String>,
    source_path: String,
    content_hash: String,
    name: Option<String>,
    description: Option<String>,
    sport: String,
    environment: String,
    e_bike: bool,
    start_time: i64,
    local_date: String,
    elapsed_s: f64,
    timer_s: f64,
    moving_s: f64,
    distance_m: Option<f64>,
    elevation_gain_m: Option<f64>,
    summary_only: bool,
    truncated: bool,
    warnings_json: String,
    imported_at: String,
    duplicate_of: Option<i64>,
    duplicate_source: Option<String>,
}

impl RawRow {
    /// Reads [`ROW_COLUMNS`] starting at column 0.
    fn read(r: &Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            id: r.get(0)?,
            athlete_id: r.get(1)?,
            source_kind: r.get(2)?,
            external_id: r.get(3)?,
            source_path: r.get(4)?,
            content_hash: r.get(5)?,
            name: r.get(6)?,
            description: r.get(7)?,
            sport: r.get(8)?,
            environment: r.get(9)?,
            e_bike: r.get(10)?,
            start_time: r.get(11)?,
            local_date: r.get(12)?,
            elapsed_s: r.get(13)?,
            timer_s: r.get(14)?,
            moving_s: r.get(15)?,
            distance_m: r.get(16)?,
            elevation_gain_m: r.get(17)?,
            summary_only: r.get(18)?,
            truncated: r.get(19)?,
            warnings_json: r.get(20)?,
            imported_at: r.get(21)?,
            duplicate_of: r.get(22)?,
            duplicate_source: r.get(23)?,
        })
    }

    fn into_row(self) -> Result<ActivityRow, StoreError> {
        let id = self.id;
        let source_kind = SourceKind::parse(&self.source_kind)
            .ok_or_else(|| corrupt(id, "source_kind", format!("unknown {:?}", self.source_kind)))?;
        let sport = Sport::parse(&self.sport)
            .ok_or_else(|| corrupt(id, "sport", format!("unknown {:?}", self.sport)))?;
        let environment = env_parse(&self.environment)
            .ok_or_else(|| corrupt(id, "environment", format!("unknown {:?}", self.environment)))?;
        let start_time =
            Timestamp::from_second(self.start_time).map_err(|e| corrupt(id, "start_time", e))?;
        let local_date: Date = self
            .local_date
            .parse()
            .map_err(|e| corrupt(id, "local_date", e))?;
        let warnings: Vec<String> = serde_json::from_str(&self.warnings_json)
            .map_err(|e| corrupt(id, "warnings_json", e))?;
        let duplicate_source = self
            .duplicate_source
            .map(|s| {
                DuplicateSource::parse(&s)
                    .ok_or_else(|| corrupt(id, "duplicate_source", format!("unknown {s:?}")))
            })
            .transpose()?;
        Ok(ActivityRow {
            id,
            athlete_id: self.athlete_id,
            source_kind,
            external_id: self.external_id,
            source_path: self.source_path,
            content_hash: self.content_hash,
            name: self.name,
            description: self.description,
            sport: SportKind {
                sport,
                environment,
                e_bike: self.e_bike,
            },
            start_time,
            local_date,
            elapsed_s: self.elapsed_s,
            timer_s: self.timer_s,
            moving_s: self.moving_s,
            distance_m: self.distance_m,
            elevation_gain_m: self.elevation_gain_m,
            summary_only: self.summary_only,
            truncated: self.truncated,
            warnings,
            imported_at: self.imported_at,
            duplicate_of: self.duplicate_of,
            duplicate_source,
        })
    }
}

/// Power curve blob: (u32 duration, f32 watts) little-endian pairs.
pub(crate) fn encode_curve(c: &PowerCurve) -> Vec<u8> {
    let mut out = Vec::with_capacity(c.durations_s.len() * 8);
    for (d, w) in c.durations_s.iter().zip(&c.watts) {
        out.extend_from_slice(&d.to_le_bytes());
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

pub(crate) fn decode_curve(id: i64, blob: &[u8]) -> Result<PowerCurve, StoreError> {
    if !blob.len().is_multiple_of(8) {
        return Err(corrupt(
            id,
            "power curve",
            format!(
                "{} bytes is not a whole number of 8-byte points",
                blob.len()
            ),
        ));
    }
    let mut c = PowerCurve {
        durations_s: Vec::with_capacity(blob.len() / 8),
        watts: Vec::with_capacity(blob.len() / 8),
    };
    for p in blob.chunks_exact(8) {
        let d = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
        let w = f32::from_le_bytes([p[4], p[5], p[6], p[7]]);
        if !w.is_finite() {
            return Err(corrupt(
                id,
                "power curve",
                format!("non-finite watts at {d} s"),
            ));
        }
        c.durations_s.push(d);
        c.watts.push(w);
    }
    Ok(c)
}

/// Replace every non-finite float of a summary (the contract says there are none, but a NaN
/// written to JSON becomes `null` and would make the row unreadable) and name what was fixed.
pub(crate) fn sanitize_summary(s: &mut ActivitySummary) -> Vec<String> {
    let mut fixed = Vec::new();
    for (name, v) in [
        ("elapsed_s", &mut s.elapsed_s),
        ("timer_s", &mut s.timer_s),
        ("moving_s", &mut s.moving_s),
        ("power_s", &mut s.power_s),
    ] {
        if !v.is_finite() {
            *v = 0.0;
            fixed.push(name);
        }
    }
    for (name, v) in [
        ("distance_m", &mut s.distance_m),
        ("elevation_gain_m", &mut s.elevation_gain_m),
        ("avg_power_w", &mut s.avg_power_w),
        ("max_power_w", &mut s.max_power_w),
        ("np_w", &mut s.np_w),
        ("ftp_w", &mut s.ftp_w),
        ("intensity_factor", &mut s.intensity_factor),
        ("tss", &mut s.tss),
        ("load", &mut s.load),
        ("variability_index", &mut s.variability_index),
        ("efficiency_factor", &mut s.efficiency_factor),
        ("work_kj", &mut s.work_kj),
        ("avg_hr_bpm", &mut s.avg_hr_bpm),
        ("max_hr_bpm", &mut s.max_hr_bpm),
        ("avg_cadence_rpm", &mut s.avg_cadence_rpm),
        ("decoupling_pct", &mut s.decoupling_pct),
        ("trimp", &mut s.trimp),
    ] {
        if v.is_some_and(|x| !x.is_finite()) {
            *v = None;
            fixed.push(name);
        }
    }
    if s.power_zones_s
        .is_some_and(|z| z.iter().any(|x| !x.is_finite()))
    {
        s.power_zones_s = None;
        fixed.push("power_zones_s");
    }
    if s.hr_zones_s
        .is_some_and(|z| z.iter().any(|x| !x.is_finite()))
    {
        s.hr_zones_s = None;
        fixed.push("hr_zones_s");
    }
    if s.power_curve.as_ref().is_some_and(|c| {
        c.watts.iter().any(|w| !w.is_finite()) || c.watts.len() != c.durations_s.len()
    }) {
        s.power_curve = None;
        fixed.push("power_curve");
    }
    fixed
        .into_iter()
        .map(|f| format!("summary field {f} was not a finite number and was dropped"))
        .collect()
}

/// Insert or replace one activity with its metrics and curve inside `tx`. An existing activity is
/// found by Strava id, then content hash, then source path (in that order: a CSV row that gained
/// its FIT file keeps its id) and updated in place.
pub(crate) fn upsert_activity(
    tx: &Transaction<'_>,
    athlete_id: i64,
    run_id: Option<i64>,
    a: &NewActivity,
) -> Result<UpsertOutcome, StoreError> {
    let mut summary = a.summary.clone();
    let mut warnings = a.warnings.clone();
    warnings.extend(sanitize_summary(&mut summary));
    let curve = summary.power_curve.take();

    let mut existing: Option<i64> = None;
    if let Some(ext) = &a.external_id {
        existing = tx
            .query_row(
                "SELECT id FROM activities WHERE athlete_id = ?1 AND external_id = ?2",
                params![athlete_id, ext],
                |r| r.get(0),
            )
            .optional()?;
    }
    if existing.is_none() {
        existing = tx
            .query_row(
                "SELECT id FROM activities WHERE athlete_id = ?1
                   AND (content_hash = ?2 OR source_path = ?3)
                 ORDER BY content_hash = ?2 DESC LIMIT 1",
                params![athlete_id, a.content_hash, a.source_path],
                |r| r.get(0),
            )
            .optional()?;
    }

    let warnings_json = serde_json::to_string(&warnings).map_err(|source| StoreError::Json {
        what: "activity warnings",
        source,
    })?;
    let summary_json = serde_json::to_string(&summary).map_err(|source| StoreError::Json {
        what: "activity summary",
        source,
    })?;
    let s = &summary;
    let summary_only = a.source_kind == SourceKind::StravaCsvSummary;
    let values = params![
        athlete_id,
        a.source_kind.as_str(),
        a.external_id,
        a.source_path,
        a.content_hash,
        a.csv_row_hash,
        a.name,
        a.description,
        s.sport.sport.as_str(),
        env_str(s.sport.environment),
        s.sport.e_bike,
        s.start_time.as_second(),
        s.local_date.to_string(),
        s.elapsed_s,
        s.timer_s,
        s.moving_s,
        s.distance_m,
        s.elevation_gain_m,
        summary_only,
        a.truncated,
        warnings_json,
        run_id,
        now_rfc3339(),
    ];
    let outcome = match existing {
        Some(id) => {
            tx.execute(
                "UPDATE activities SET athlete_id = ?1, source_kind = ?2, external_id = ?3,
                    source_path = ?4, content_hash = ?5, csv_row_hash = ?6, name = ?7,
                    description = ?8, sport = ?9, environment = ?10, e_bike = ?11,
                    start_time = ?12, local_date = ?13, elapsed_s = ?14, timer_s = ?15,
                    moving_s = ?16, distance_m = ?17, elevation_gain_m = ?18,
                    summary_only = ?19, truncated = ?20, warnings_json = ?21,
                    import_run_id = ?22, imported_at = ?23
                 WHERE id = ?24",
                rusqlite::params_from_iter(values.iter().copied().chain([&id as _])),
            )?;
            UpsertOutcome::Updated(id)
        }
        None => {
            tx.execute(
                "INSERT INTO activities (athlete_id, source_kind, external_id, source_path,
                    content_hash, csv_row_hash, name, description, sport, environment, e_bike,
                    start_time, local_date, elapsed_s, timer_s, moving_s, distance_m,
                    elevation_gain_m, summary_only, truncated, warnings_json, import_run_id,
                    imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
                values,
            )?;
            UpsertOutcome::Inserted(tx.last_insert_rowid())
        }
    };
    let id = outcome.id();

    tx.execute(
        "INSERT OR REPLACE INTO activity_metrics (activity_id, tss, load, load_source, np_w,
            intensity_factor, ftp_w, avg_power_w, max_power_w, power_estimated, power_s,
            work_kj, avg_hr_bpm, max_hr_bpm, summary_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            id,
            s.tss,
            s.load,
            s.load_source.map(load_source_str),
            s.np_w,
            s.intensity_factor,
            s.ftp_w,
            s.avg_power_w,
            s.max_power_w,
            s.power_estimated,
            s.power_s,
            s.work_kj,
            s.avg_hr_bpm,
            s.max_hr_bpm,
            summary_json,
        ],
    )?;
    // The replaced data's laps are stale; the importer writes the new ones right after.
    crate::laps::clear_laps(tx, id)?;
    match curve.filter(|c| !c.durations_s.is_empty()) {
        Some(c) => {
            tx.execute(
                "INSERT OR REPLACE INTO power_curves (activity_id, points, curve)
                 VALUES (?1, ?2, ?3)",
                params![id, c.durations_s.len() as i64, encode_curve(&c)],
            )?;
        }
        None => {
            tx.execute("DELETE FROM power_curves WHERE activity_id = ?1", [id])?;
        }
    }
    Ok(outcome)
}

/// `(from, to)` as inclusive local-date bounds; open ends become the extreme dates so one SQL
/// text serves every combination (dates compare correctly as ISO text).
fn date_bounds(from: Option<Date>, to: Option<Date>) -> (String, String) {
    (
        from.map_or_else(|| "0000-01-01".to_string(), |d| d.to_string()),
        to.map_or_else(|| "9999-12-31".to_string(), |d| d.to_string()),
    )
}

fn summary_from_json(
    id: i64,
    json: &str,
    curve: Option<Vec<u8>>,
) -> Result<ActivitySummary, StoreError> {
    let mut s: ActivitySummary =
        serde_json::from_str(json).map_err(|e| corrupt(id, "summary_json", e))?;
    s.power_curve = curve.map(|b| decode_curve(id, &b)).transpose()?;
    Ok(s)
}

impl Store {
    /// Insert or replace one activity in its own transaction (the importer batches instead).
    pub fn upsert_activity(
        &mut self,
        athlete_id: i64,
        activity: &NewActivity,
    ) -> Result<UpsertOutcome, StoreError> {
        self.require_athlete(athlete_id)?;
        let tx = self.write_transaction()?;
        let out = upsert_activity(&tx, athlete_id, None, activity)?;
        tx.commit()?;
        Ok(out)
    }

    /// One of the athlete's activities with its summary (curve included). `None` when the id does
    /// not exist or belongs to another athlete.
    pub fn activity(
        &self,
        athlete_id: i64,
        id: i64,
    ) -> Result<Option<(ActivityRow, ActivitySummary)>, StoreError> {
        let sql = format!(
            "SELECT {ROW_COLUMNS}, m.summary_json, c.curve FROM activities a
             JOIN activity_metrics m ON m.activity_id = a.id
             LEFT JOIN power_curves c ON c.activity_id = a.id
             WHERE a.athlete_id = ?1 AND a.id = ?2"
        );
        let raw = self
            .conn
            .query_row(&sql, params![athlete_id, id], |r| {
                Ok((
                    RawRow::read(r)?,
                    r.get::<_, String>(ROW_COLUMN_COUNT)?,
                    r.get::<_, Option<Vec<u8>>>(ROW_COLUMN_COUNT + 1)?,
                ))
            })
            .optional()?;
        raw.map(|(row, json, curve)| {
            let id = row.id;
            Ok((row.into_row()?, summary_from_json(id, &json, curve)?))
        })
        .transpose()
    }

    /// Where an activity's file was imported from: its path relative to the import root and
    /// that root as the import run recorded it (`None` for a CSV summary, which has no file, or
    /// when the run is gone). The file is read again for per-second analyses (plan vs actual
    /// intervals); the store keeps summaries, not samples.
    pub fn activity_file(
        &self,
        athlete_id: i64,
        id: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT a.source_path, r.source_path FROM activities a
                 JOIN import_runs r ON r.id = a.import_run_id
                 WHERE a.athlete_id = ?1 AND a.id = ?2 AND a.source_kind = 'fit'",
                params![athlete_id, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Every activity of the athlete with `from <= local_date <= to` (open ends allowed), with its
    /// summary including the power curve, ordered by start time. Duplicate recordings are left
    /// out: this feeds loads, totals and curves.
    pub fn summaries(
        &self,
        athlete_id: i64,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<(ActivityRow, ActivitySummary)>, StoreError> {
        let (lo, hi) = date_bounds(from, to);
        let sql = format!(
            "SELECT {ROW_COLUMNS}, m.summary_json, c.curve FROM activities a
             JOIN activity_metrics m ON m.activity_id = a.id
             LEFT JOIN power_curves c ON c.activity_id = a.id
             WHERE a.athlete_id = ?1 AND a.local_date BETWEEN ?2 AND ?3 AND {NOT_DUPLICATE}
             ORDER BY a.start_time, a.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![athlete_id, lo, hi], |r| {
            Ok((
                RawRow::read(r)?,
                r.get::<_, String>(ROW_COLUMN_COUNT)?,
                r.get::<_, Option<Vec<u8>>>(ROW_COLUMN_COUNT + 1)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (raw, json, curve) = row?;
            let id = raw.id;
            out.push((raw.into_row()?, summary_from_json(id, &json, curve)?));
        }
        Ok(out)
    }

    /// Power curves of the athlete's activities in the date range, ordered by start time
    /// (duplicate recordings left out).
    pub fn power_curves(
        &self,
        athlete_id: i64,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<ActivityCurve>, StoreError> {
        let (lo, hi) = date_bounds(from, to);
        let mut stmt = self.conn.prepare(&format!(
            "SELECT a.id, a.start_time, a.local_date, a.sport, a.environment, a.e_bike, c.curve
             FROM activities a JOIN power_curves c ON c.activity_id = a.id
             WHERE a.athlete_id = ?1 AND a.local_date BETWEEN ?2 AND ?3 AND {NOT_DUPLICATE}
             ORDER BY a.start_time, a.id"
        ))?;
        let rows = stmt.query_map(params![athlete_id, lo, hi], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Vec<u8>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, start, date, sport, env, e_bike, blob) = row?;
            out.push(ActivityCurve {
                activity_id: id,
                start_time: Timestamp::from_second(start)
                    .map_err(|e| corrupt(id, "start_time", e))?,
                local_date: date.parse().map_err(|e| corrupt(id, "local_date", e))?,
                sport: SportKind {
                    sport: Sport::parse(&sport)
                        .ok_or_else(|| corrupt(id, "sport", format!("unknown {sport:?}")))?,
                    environment: env_parse(&env)
                        .ok_or_else(|| corrupt(id, "environment", format!("unknown {env:?}")))?,
                    e_bike,
                },
                curve: decode_curve(id, &blob)?,
            });
        }
        Ok(out)
    }

    /// Search the athlete's activities, newest first. The text is bound as a parameter and
    /// matched with `instr`, so it is never SQL and has no wildcards.
    pub fn search_activities(
        &self,
        athlete_id: i64,
        q: &ActivitySearch<'_>,
    ) -> Result<Vec<ActivityRow>, StoreError> {
        let (lo, hi) = date_bounds(q.from, q.to);
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM activities a
             WHERE a.athlete_id = ?1
               AND a.local_date BETWEEN ?2 AND ?3
               AND (?4 IS NULL
                    OR instr(lower(coalesce(a.name, '')), lower(?4)) > 0
                    OR instr(lower(coalesce(a.description, '')), lower(?4)) > 0)
               AND (?5 IS NULL OR a.sport = ?5)
               AND (?7 OR {NOT_DUPLICATE})
             ORDER BY a.start_time DESC, a.id DESC
             LIMIT ?6"
        );
        let limit: i64 = q.limit.map_or(-1, i64::from);
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![
                athlete_id,
                lo,
                hi,
                q.text,
                q.sport.map(Sport::as_str),
                limit,
                q.include_duplicates
            ],
            RawRow::read,
        )?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r?.into_row()?);
        }
        Ok(out)
    }

    /// The local date of the athlete's most recent activity (duplicates left out).
    pub fn latest_activity_date(&self, athlete_id: i64) -> Result<Option<Date>, StoreError> {
        let d: Option<String> = self.conn.query_row(
            &format!(
                "SELECT max(a.local_date) FROM activities a
                 WHERE a.athlete_id = ?1 AND {NOT_DUPLICATE}"
            ),
            [athlete_id],
            |r| r.get(0),
        )?;
        d.map(|s| {
            s.parse()
                .map_err(|e| corrupt(0, "latest local_date", format!("{s:?}: {e}")))
        })
        .transpose()
    }

    /// How many activities the athlete has, each ride once (duplicates left out).
    pub fn activity_count(&self, athlete_id: i64) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            &format!(
                "SELECT count(*) FROM activities a WHERE a.athlete_id = ?1 AND {NOT_DUPLICATE}"
            ),
            [athlete_id],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}
