//! The athlete a command works for. One data directory holds one athlete's history; the profile
//! is the one given as a file, else the one stored by an earlier command.

use std::path::Path;

use ride::profile::Profile;
use store::{Athlete, Store};

use crate::bundle::DataError;

pub struct AthleteContext {
    pub athlete: Athlete,
    pub profile: Profile,
    /// False when neither a profile file nor a stored profile exists (then no FTP, no HR zones).
    pub has_profile: bool,
}

/// Resolve the athlete and profile; with `profile_path`, the profile is validated and stored.
/// The profile's warnings (values accepted with a caveat) are in `profile.warnings`.
pub fn resolve(
    store: &mut Store,
    profile_path: Option<&Path>,
) -> Result<AthleteContext, DataError> {
    resolve_named(store, None, profile_path)
}

/// [`resolve`] for the athlete called `name` (it must exist), or the default one.
pub fn resolve_named(
    store: &mut Store,
    name: Option<&str>,
    profile_path: Option<&Path>,
) -> Result<AthleteContext, DataError> {
    let athlete = match name {
        Some(n) => store
            .athlete_by_name(n)?
            .ok_or_else(|| DataError::UnknownAthlete(n.to_string()))?,
        None => store.default_athlete()?,
    };
    if let Some(path) = profile_path {
        let profile = Profile::load(path)?;
        let athlete = store.upsert_athlete(&athlete.name, Some(&profile.to_canonical_value()))?;
        return Ok(AthleteContext {
            athlete,
            profile,
            has_profile: true,
        });
    }
    let (profile, has_profile) = match &athlete.profile_json {
        Some(json) => (
            Profile::from_json_str(json, "stored athlete profile")?,
            true,
        ),
        None => (Profile::default(), false),
    };
    Ok(AthleteContext {
        athlete,
        profile,
        has_profile,
    })
}
