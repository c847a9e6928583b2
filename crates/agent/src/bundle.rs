//! The analysis bundle from the store: one query loads the athlete's activities with their
//! summaries and power curves, [`coach::bundle::bundle_from_activities`] computes the rest in
//! memory.

use coach::CoachError;
use coach::bundle::{ActivityRef, AnalysisBundle, bundle_from_activities};
use jiff::civil::Date;
use metrics::ActivitySummary;
use ride::profile::Profile;
use store::{ActivityRow, Store, StoreError};

/// Why the data for an analysis could not be had.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Coach(#[from] CoachError),
    #[error("reading the store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Profile(#[from] ride::profile::ProfileError),
    #[error("serialising: {0}")]
    Serialise(serde_json::Error),
    #[error("no athlete called `{0}` in this data directory")]
    UnknownAthlete(String),
}

/// What the bundle needs of each stored activity besides its summary, in the same order.
pub fn activity_refs(rows: &[ActivityRow]) -> Vec<ActivityRef> {
    rows.iter()
        .map(|r| ActivityRef {
            id: r.id,
            name: r.name.clone(),
        })
        .collect()
}

/// Every figure of a report for `athlete_id`, over the `period_weeks` weeks ending at `as_of`
/// (default: the date of the last activity, never "now", so a re-run gives the same bundle).
pub fn build_bundle(
    store: &Store,
    athlete_id: i64,
    profile: &Profile,
    as_of: Option<Date>,
    period_weeks: u32,
) -> Result<AnalysisBundle, DataError> {
    let Some(latest) = store.latest_activity_date(athlete_id)? else {
        return Err(CoachError::NoActivities.into());
    };
    let as_of = as_of.unwrap_or(latest);
    let activity_count = store.activity_count(athlete_id)?;
    let (rows, summaries): (Vec<ActivityRow>, Vec<ActivitySummary>) = store
        .summaries(athlete_id, None, Some(as_of))?
        .into_iter()
        .unzip();
    Ok(bundle_from_activities(
        &activity_refs(&rows),
        &summaries,
        activity_count,
        profile,
        as_of,
        period_weeks,
    )?)
}
