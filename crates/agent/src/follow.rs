//! The plan follow-through over the store: the current plan, the athlete's sessions and ride
//! power, plan vs actual, the fitness projection, today's form and the adaptation request. One
//! place for the CLI commands (`plan status|adapt|versions`, `today`, `week`, `analyze fitness
//! --projection`), the coach tools and the report, all scoped to one athlete id.

use std::path::{Path, PathBuf};

use coach::adapt::{AdaptRequest, Fatigue, fatigue_signal};
use coach::follow::{ActualSession, PlanStatus, SessionKind, plan_status};
use coach::plan::TrainingPlan;
use coach::projection::{Projection, project};
use coach::today::Form;
use jiff::civil::Date;
use metrics::pmc::{PmcDay, PmcSeed, pmc_from_summaries};
use ride::Sport;
use ride::profile::Profile;
use store::{Store, StoredPlan};

use crate::bundle::DataError;

/// A stored plan, read.
#[derive(Debug, Clone)]
pub struct CurrentPlan {
    pub stored: StoredPlan,
    pub plan: TrainingPlan,
}

/// Why a stored plan cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(
        "stored plan {id} cannot be read ({reason}); make a new one with `cycling-ai generate`"
    )]
    Unreadable { id: i64, reason: String },
}

impl From<store::StoreError> for PlanError {
    fn from(e: store::StoreError) -> Self {
        PlanError::Data(DataError::Store(e))
    }
}

fn read(stored: StoredPlan) -> Result<CurrentPlan, PlanError> {
    let plan = serde_json::from_str(&stored.plan_json).map_err(|e| PlanError::Unreadable {
        id: stored.id,
        reason: e.to_string(),
    })?;
    Ok(CurrentPlan { stored, plan })
}

/// The newest plan covering `on`, else the newest plan.
pub fn current_plan(
    store: &Store,
    athlete_id: i64,
    on: Date,
) -> Result<Option<CurrentPlan>, PlanError> {
    let stored = match store.plan_covering(athlete_id, &on.to_string())? {
        Some(p) => Some(p),
        None => store.latest_plan(athlete_id)?,
    };
    stored.map(read).transpose()
}

/// One stored plan by id (the athlete's own).
pub fn plan_by_id(
    store: &Store,
    athlete_id: i64,
    id: i64,
) -> Result<Option<CurrentPlan>, PlanError> {
    store.plan(athlete_id, id)?.map(read).transpose()
}

/// The athlete's activities dated `from..=to` as plan vs actual reads them.
pub fn sessions(
    store: &Store,
    athlete_id: i64,
    from: Date,
    to: Date,
) -> Result<Vec<ActualSession>, DataError> {
    Ok(store
        .summaries(athlete_id, Some(from), Some(to))?
        .into_iter()
        .map(|(row, s)| ActualSession {
            id: row.id,
            date: s.local_date,
            kind: match s.sport.sport {
                Sport::Ride => SessionKind::Ride,
                Sport::Strength => SessionKind::Strength,
                _ => SessionKind::Other,
            },
            name: row
                .name
                .clone()
                .unwrap_or_else(|| format!("{} {}", s.sport.sport.as_str(), s.local_date)),
            duration_s: s.duration_s(),
            load: s.load,
            intensity_factor: s.intensity_factor,
        })
        .collect())
}

/// Where an activity file may be: under its import root as recorded (relative roots are
/// relative to where the import ran), that root's folder (a CSV-with-files run records the CSV),
/// a folder of the root's name next to the data directory (the demo's `out/data` and
/// `out/export`, from any working directory), and each of `extra_roots`.
fn file_candidates(
    source: &str,
    root: &str,
    db_file: Option<&Path>,
    extra: &[PathBuf],
) -> Vec<PathBuf> {
    let root = PathBuf::from(root);
    let mut out = Vec::new();
    let mut roots = vec![root.clone()];
    if let Some(parent) = root.parent() {
        roots.push(parent.to_path_buf());
    }
    if let (Some(base), Some(name)) = (
        db_file.and_then(Path::parent).and_then(Path::parent),
        root.file_name(),
    ) {
        roots.push(base.join(name));
    }
    roots.extend(extra.iter().cloned());
    for r in roots {
        out.push(r.join(source));
    }
    out
}

/// A ride's 1 Hz power (timer-on time, 0 where missing), read again from its file; `None` when
/// the file cannot be found or read, or has no power.
pub fn ride_power(
    store: &Store,
    athlete_id: i64,
    id: i64,
    extra_roots: &[PathBuf],
) -> Option<Vec<f64>> {
    let (source, root) = store.activity_file(athlete_id, id).ok()??;
    let path = file_candidates(&source, &root, store.path(), extra_roots)
        .into_iter()
        .find(|p| p.is_file())?;
    let activity = ride::activity_file::decode_file(&path).ok()?;
    let series = metrics::series::Series::from_activity(&activity);
    series.has_any_power().then_some(series.power)
}

/// Plan vs actual for `plan` as of `as_of`, rides' intervals judged from their files.
pub fn status(
    store: &Store,
    athlete_id: i64,
    plan: &TrainingPlan,
    as_of: Date,
    extra_roots: &[PathBuf],
) -> Result<PlanStatus, DataError> {
    let from = plan.start_date.yesterday().unwrap_or(plan.start_date);
    let to = plan
        .end_date()
        .tomorrow()
        .unwrap_or(plan.end_date())
        .min(as_of);
    let actual = if from <= to {
        sessions(store, athlete_id, from, to)?
    } else {
        Vec::new()
    };
    Ok(plan_status(plan, &actual, as_of, |id| {
        ride_power(store, athlete_id, id, extra_roots)
    }))
}

/// The actual PMC from the first activity to `as_of` (empty without activities).
pub fn pmc_days(store: &Store, athlete_id: i64, as_of: Date) -> Result<Vec<PmcDay>, DataError> {
    let all: Vec<_> = store
        .summaries(athlete_id, None, Some(as_of))?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    if all.is_empty() {
        return Ok(Vec::new());
    }
    Ok(pmc_from_summaries(&all, as_of, PmcSeed::default()))
}

/// The projection of `plan` from `today`'s actual fitness.
pub fn projection(
    store: &Store,
    athlete_id: i64,
    plan: &TrainingPlan,
    today: Date,
) -> Result<(Vec<PmcDay>, Projection), DataError> {
    let days = pmc_days(store, athlete_id, today)?;
    let seed = days.last().map_or(PmcSeed::default(), |d| PmcSeed {
        ctl: d.ctl,
        atl: d.atl,
    });
    Ok((days.clone(), project(plan, today, seed)))
}

/// Today's form (yesterday's CTL − ATL) and yesterday's hardest ride.
pub fn form_on(store: &Store, athlete_id: i64, day: Date) -> Result<Form, DataError> {
    let days = pmc_days(store, athlete_id, day)?;
    let today = days.iter().find(|d| d.date == day);
    let yesterday = day.yesterday().ok();
    let yesterday_if = match yesterday {
        Some(y) => sessions(store, athlete_id, y, y)?
            .iter()
            .filter(|s| s.kind == SessionKind::Ride)
            .filter_map(|s| s.intensity_factor)
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x)))),
        None => None,
    };
    Ok(Form {
        tsb: today.map(|d| d.tsb),
        ctl: today.map(|d| d.ctl),
        yesterday_if,
    })
}

/// The fatigue signal over the last weeks of form up to `day`.
pub fn fatigue_on(store: &Store, athlete_id: i64, day: Date) -> Result<Option<Fatigue>, DataError> {
    let days = pmc_days(store, athlete_id, day)?;
    let tsb: Vec<f64> = days.iter().rev().take(28).rev().map(|d| d.tsb).collect();
    Ok(fatigue_signal(&tsb))
}

/// What `plan adapt` (and the chat tool) asks of [`coach::adapt::adapt`]: the signals read from
/// the store on `today` plus what the athlete said.
pub struct AdaptAsk {
    pub today: Date,
    pub reason: Option<String>,
    pub unavailable: Vec<(Date, Date)>,
    pub event_date: Option<Date>,
}

/// Why a plan cannot be adapted for this athlete.
#[derive(Debug, thiserror::Error)]
pub enum AdaptSetupError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("the profile has no {0}: plan adapt needs the weekly hours and training days")]
    Profile(&'static str),
}

pub fn adapt_request(
    store: &Store,
    athlete_id: i64,
    profile: &Profile,
    plan: &TrainingPlan,
    ask: AdaptAsk,
    extra_roots: &[PathBuf],
) -> Result<AdaptRequest, AdaptSetupError> {
    let availability = profile.training_availability.as_ref();
    let hours = availability
        .and_then(|a| a.hours_per_week)
        .ok_or(AdaptSetupError::Profile(
            "training_availability.hours_per_week",
        ))?;
    let days = availability
        .map(|a| a.week_days.clone())
        .filter(|d| !d.is_empty())
        .ok_or(AdaptSetupError::Profile("training_availability.week_days"))?;
    let st = status(store, athlete_id, plan, ask.today, extra_roots)?;
    // The last whole week before today.
    let last_week = st
        .weeks
        .iter()
        .rev()
        .find(|w| {
            w.start_date
                .checked_add(jiff::Span::new().days(6))
                .is_ok_and(|end| end < ask.today)
        })
        .cloned();
    let fatigue = fatigue_on(store, athlete_id, ask.today)?;
    Ok(AdaptRequest {
        today: ask.today,
        reason: ask.reason,
        unavailable: ask.unavailable,
        event_date: ask.event_date,
        last_week,
        fatigue,
        available_days: days,
        hours_per_week: hours,
    })
}

/// Text kept with an adapted version: the reason, the signals and each change.
pub fn change_note(adapted: &coach::adapt::Adapted, reason: Option<&str>) -> String {
    let mut lines = Vec::new();
    if let Some(r) = reason.map(str::trim).filter(|r| !r.is_empty()) {
        lines.push(format!("reason: {r}"));
    }
    for s in &adapted.signals {
        lines.push(format!("signal: {s}"));
    }
    for c in &adapted.changes {
        lines.push(change_line(c));
    }
    if adapted.changes.is_empty() {
        lines.push("no week changed".into());
    }
    lines.join("\n")
}

/// "week 6 (2026-04-06): Build 8.00 h → Recovery 5.25 h; tuesday threshold → rest — why".
pub fn change_line(c: &coach::adapt::Change) -> String {
    let mut s = format!(
        "week {} ({}): {} → {}",
        c.week, c.start_date, c.before, c.after
    );
    if !c.days.is_empty() {
        s.push_str(&format!("; {}", c.days.join(", ")));
    }
    if !c.why.is_empty() {
        s.push_str(&format!(" — {}", c.why.join("; ")));
    }
    s
}

/// Stores `adapted` as the next version of `parent`, re-planned by `author` ("rule-based
/// planner", "chat", "<provider> <model>"); returns the new id.
pub fn save_adapted(
    store: &mut Store,
    athlete_id: i64,
    parent: &StoredPlan,
    adapted: &coach::adapt::Adapted,
    note: &str,
    author: &str,
) -> Result<i64, DataError> {
    let json = serde_json::to_string(&adapted.plan).map_err(DataError::Serialise)?;
    let source = format!("{author} (adapted)");
    Ok(store.save_plan_version(
        athlete_id,
        &store::PlanVersion {
            parent_id: parent.id,
            start_date: &adapted.plan.start_date.to_string(),
            end_date: &adapted.plan.end_date().to_string(),
            source: &source,
            plan_json: &json,
            change_note: note,
        },
    )?)
}

/// Plan vs actual for the report: the stored plan covering `as_of` (the last analysed day),
/// judged through `as_of` included; `None` when no plan covers it, nothing is due yet, or the
/// store cannot be read (the report goes on without the section).
pub fn report_status(data_dir: &Path, athlete_id: i64, as_of: Date) -> Option<PlanStatus> {
    let store = Store::open(data_dir).ok()?;
    let stored = store.plan_covering(athlete_id, &as_of.to_string()).ok()??;
    let current = read(stored).ok()?;
    let judged_on = as_of.tomorrow().unwrap_or(as_of);
    let st = status(&store, athlete_id, &current.plan, judged_on, &[]).ok()?;
    st.weeks
        .iter()
        .any(|w| w.compliance_pct.is_some())
        .then_some(st)
}
