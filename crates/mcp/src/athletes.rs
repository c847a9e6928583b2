//! Which athlete a call works for, and the coach's tools over that athlete.
//!
//! Every tool, resource and prompt takes an optional athlete name; without one it is the athlete
//! in use. [`athlete_for`] is the one place that decides this.

use std::path::Path;

use agent::tools::CoachTools;
use jiff::civil::Date;
use ride::profile::Profile;
use serde_json::{Value, json};
use store::{Athlete, Store};

/// Most athletes `list_athletes` and the resource list name.
pub const MAX_ATHLETES: usize = 100;

/// The athlete `name` names, or the athlete in use when it is `None`.
pub fn athlete_for(store: &mut Store, name: Option<&str>) -> Result<Athlete, String> {
    match name.map(str::trim) {
        None => store
            .default_athlete()
            .map_err(|e| format!("reading the athletes: {e}")),
        Some(n) => match store.athlete_by_name(n) {
            Ok(Some(a)) => Ok(a),
            Ok(None) => {
                let known = store
                    .athletes()
                    .map_err(|e| format!("reading the athletes: {e}"))?;
                let names: Vec<&str> = known
                    .iter()
                    .take(MAX_ATHLETES)
                    .map(|a| a.name.as_str())
                    .collect();
                Err(format!(
                    "`athlete`: no athlete is called {n:?}; the athletes are: {}",
                    names.join(", ")
                ))
            }
            Err(e) => Err(format!("reading the athletes: {e}")),
        },
    }
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
pub fn list_athletes(store: &mut Store) -> Result<Value, String> {
    let in_use = athlete_for(store, None)?;
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
                "in_use": a.id == in_use.id,
            })
        })
        .collect();
    Ok(json!({
        "athletes": listed,
        "total": all.len(),
        "truncated": all.len() > MAX_ATHLETES,
        "in_use": in_use.name,
    }))
}
