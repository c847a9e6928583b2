//! A designed plan becomes a stored plan: the overview's days filled from the workout library,
//! the plan kept in the store (where `chat` compares it with what was ridden). One path for the
//! report pipeline and chat's `create_plan_overview`.

use coach::plan::TrainingPlan;
use store::Store;

use crate::bundle::DataError;

/// Keep `plan` in the store for `athlete_id`; `source` says who designed it ("chat", "offline",
/// "<provider> <model>"). Returns the stored plan's id.
pub fn save_plan(
    store: &mut Store,
    athlete_id: i64,
    plan: &TrainingPlan,
    source: &str,
) -> Result<i64, DataError> {
    let json = serde_json::to_string(plan).map_err(DataError::Serialise)?;
    Ok(store.save_plan(
        athlete_id,
        &plan.start_date.to_string(),
        &plan.end_date().to_string(),
        source,
        &json,
    )?)
}
