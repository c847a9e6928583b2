//! The athlete a command works for (`agent::athlete`), with the profile's warnings shown: the one
//! named with `--athlete`, else the one chosen with `athlete use`, else the only one in the
//! store. The profile is the one given with `--profile`, else the one stored by an earlier
//! `import --profile` or `athlete add --profile`.

use std::path::Path;

use agent::athlete::AthleteContext;
use anyhow::Result;
use store::Store;

use super::Global;
use crate::term;

/// Resolve the athlete and profile; with `profile_path`, the profile is validated and stored.
pub fn resolve(
    global: &Global,
    store: &mut Store,
    profile_path: Option<&Path>,
) -> Result<AthleteContext> {
    let ctx = agent::athlete::resolve(store, global.athlete.as_deref(), profile_path)?;
    for w in &ctx.profile.warnings {
        eprintln!("{} {w}", term::warning_label());
    }
    Ok(ctx)
}
