//! The athlete a command works for. One data directory holds one athlete's history (use one
//! `--data-dir` per athlete); the profile is the one given with `--profile`, else the one stored by
//! an earlier `import --profile`.

use std::path::Path;

use anyhow::{Context, Result};
use ride::profile::Profile;
use store::{Athlete, Store};

use crate::term;

pub struct AthleteContext {
    pub athlete: Athlete,
    pub profile: Profile,
    /// False when neither `--profile` nor a stored profile exists (then no FTP, no HR zones).
    pub has_profile: bool,
}

/// Resolve the athlete and profile; with `profile_path`, the profile is validated and stored.
pub fn resolve(store: &mut Store, profile_path: Option<&Path>) -> Result<AthleteContext> {
    let athlete = store
        .default_athlete()
        .context("opening the athlete record")?;
    if let Some(path) = profile_path {
        let profile = Profile::load(path)?;
        for w in &profile.warnings {
            eprintln!("{} {w}", term::warning_label());
        }
        let athlete = store
            .upsert_athlete(&athlete.name, Some(&profile.to_canonical_value()))
            .context("storing the athlete profile")?;
        return Ok(AthleteContext {
            athlete,
            profile,
            has_profile: true,
        });
    }
    match &athlete.profile_json {
        Some(json) => {
            let profile = Profile::from_json_str(json, "stored athlete profile")?;
            Ok(AthleteContext {
                athlete,
                profile,
                has_profile: true,
            })
        }
        None => Ok(AthleteContext {
            athlete,
            profile: Profile::default(),
            has_profile: false,
        }),
    }
}
