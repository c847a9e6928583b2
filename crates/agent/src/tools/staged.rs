//! Writes in two steps: a tool that changes state prepares its change first ([`StagedWrite`]:
//! what it will store, and a preview of it), then applies exactly that change. `chat` does both
//! at once; an MCP client is shown the preview and confirms it before it is applied.

use coach::plan::TrainingPlan;
use ride::profile::Profile;
use serde_json::Value;

use super::{CoachTools, failed, invalid, specs};
use crate::toolbox::ToolError;

/// A change prepared by a tool that writes, not yet applied.
#[derive(Debug, Clone)]
pub struct StagedWrite {
    tool: &'static str,
    athlete_id: i64,
    /// The athlete's profile (canonical JSON) the change was prepared from: a change prepared
    /// on another profile (saved in between) is refused rather than applied on stale ground.
    base: Option<Value>,
    change: Change,
    preview: Value,
}

#[derive(Debug, Clone)]
pub(super) enum Change {
    Profile(Box<Profile>),
    Plan(Box<TrainingPlan>),
}

impl StagedWrite {
    pub(super) fn new(
        tools: &CoachTools,
        tool: &'static str,
        change: Change,
        preview: Value,
    ) -> Self {
        StagedWrite {
            tool,
            athlete_id: tools.athlete_id,
            base: tools.profile().map(|p| p.to_canonical_value()),
            change,
            preview,
        }
    }

    /// The tool that prepared the change.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    /// The athlete the change is for.
    pub fn athlete_id(&self) -> i64 {
        self.athlete_id
    }

    /// What the change will store, as the tool's JSON (`saved` / `created` false).
    pub fn preview(&self) -> &Value {
        &self.preview
    }
}

/// Whether `name` writes through [`CoachTools::stage`] and [`CoachTools::apply`] (a client that
/// previews before it applies, like the MCP server, runs it in two calls). `adapt_plan` writes
/// too but carries its own preview token in its arguments.
pub fn is_staged(name: &str) -> bool {
    specs().iter().any(|s| s.name == name && s.stage.is_some())
}

impl CoachTools {
    /// Prepare the change a writing tool (`MUTATING_TOOLS`) would make with `arguments`,
    /// validated exactly as a call is, without applying it.
    pub fn stage(&self, name: &str, arguments: &Value) -> Result<StagedWrite, ToolError> {
        let Some(spec) = specs().iter().find(|s| s.name == name) else {
            return Err(ToolError::UnknownTool {
                name: name.to_owned(),
                offered: super::TOOL_NAMES.join(", "),
            });
        };
        let Some(stage) = &spec.stage else {
            return Err(invalid(
                name,
                "this tool only reads; it has nothing to prepare",
            ));
        };
        stage(self, arguments)
    }

    /// Apply a prepared change as it was prepared. Refused when it was prepared for another
    /// athlete or on a profile that has changed since.
    pub fn apply(&self, staged: &StagedWrite) -> Result<Value, ToolError> {
        if staged.athlete_id != self.athlete_id {
            return Err(failed(
                staged.tool,
                format!(
                    "the change was prepared for athlete {}, not athlete {}",
                    staged.athlete_id, self.athlete_id
                ),
            ));
        }
        if staged.base != self.profile().map(|p| p.to_canonical_value()) {
            return Err(failed(
                staged.tool,
                "the athlete's profile changed after this change was prepared; prepare it again",
            ));
        }
        match &staged.change {
            Change::Profile(p) => super::profile::apply_athlete_profile(self, p),
            Change::Plan(plan) => super::plan::apply_plan(self, plan),
        }
    }
}
