//! Which athlete a call works for, and the coach's tools over that athlete.
//!
//! Every tool, resource and prompt takes an optional athlete name; without one it is the athlete
//! in use. [`athlete_for`] is the one place that decides this.

use std::path::Path;

use agent::tools::CoachTools;
use jiff::civil::Date;
use ride::profile::Profile;
use serde_json::{Value, json};
use store::{Athlete, Store, StoreError};

/// Most athletes `list_athletes` and the resource list name.
pub const MAX_ATHLETES: usize = 100;

/// The athlete `name` names; without one, the server's default (`--athlete`), else the athlete
/// in use (`athlete use`), else the only one — the same rule as every command
/// ([`Store::resolve_athlete`]).
pub fn athlete_for(
    store: &mut Store,
    name: Option<&str>,
    default: Option<&str>,
) -> Result<Athlete, String> {
    let name = name.map(str::trim).or(default);
    store.resolve_athlete(name).map_err(|e| match e {
        StoreError::UnknownAthlete { .. } | StoreError::AthleteNotChosen { .. } => {
            format!("`athlete`: {e}")
        }
        other => format!("reading the athletes: {other}"),
    })
}

/// The coach's tools for `athlete`, with its stored profile.
pub fn tools_for(data_dir: &Path, athlete: &Athlete, today: Date) -> Result<CoachTools, String> {
    let profile = athlete
        .profile_json
        .as_deref()
        .map(|json| Profile::from_json_str(json, "stored athlete profile"))
        .transpose()
        .map_err(|e| format!("athlete {:?}: {e}", athlete.name))?;
    Ok(CoachTools::new(data_dir.to_path_buf(), athlete.id, profile, today).with_plan_source("mcp"))
}

/// `list_athletes`: every athlete (bounded) with whether it has a profile, and which is in use.
pub fn list_athletes(store: &mut Store, default: Option<&str>) -> Result<Value, String> {
    // With several athletes and none chosen there is no default: list them all the same.
    let in_use = athlete_for(store, None, default).ok();
    let all = store
        .athletes()
        .map_err(|e| format!("reading the athletes: {e}"))?;
    let listed: Vec<Value> = all
        .iter()
        .take(MAX_ATHLETES)
        .map(|a| {
            json!({
                "name": a.name,
                "has_profile": a.profile_json.is_some(),
                "in_use": in_use.as_ref().is_some_and(|u| u.id == a.id),
            })
        })
        .collect();
    Ok(json!({
        "athletes": listed,
        "total": all.len(),
        "truncated": all.len() > MAX_ATHLETES,
        "in_use": in_use.map(|u| u.name),
    }))
}
