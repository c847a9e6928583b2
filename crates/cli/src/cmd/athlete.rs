//! The athlete a command works for (`agent::athlete`), with the profile's warnings shown. One
//! data directory holds one athlete's history (use one `--data-dir` per athlete); the profile is
//! the one given with `--profile`, else the one stored by an earlier `import --profile`.

use std::path::Path;

use agent::athlete::AthleteContext;
use anyhow::Result;
use store::Store;

use crate::term;

/// Resolve the athlete and profile; with `profile_path`, the profile is validated and stored.
pub fn resolve(store: &mut Store, profile_path: Option<&Path>) -> Result<AthleteContext> {
    let ctx = agent::athlete::resolve(store, profile_path)?;
    for w in &ctx.profile.warnings {
        eprintln!("{} {w}", term::warning_label());
    }
    Ok(ctx)
}
