//! What a run produced: the report's files and each phase's figures.

use std::time::Instant;

use llm::CallStats;
use serde::Serialize;
use store::ImportReport;

/// One phase of a run: what the report shows, plus whether an earlier run did the work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseStats {
    #[serde(flatten)]
    pub cost: report::PhaseCost,
    /// Finished in an earlier run (`--resume`): nothing was spent on it in this one.
    pub resumed: bool,
    /// Seconds of `seconds` spent waiting on the model provider (the rest is our own work).
    pub model_wait_s: f64,
    /// Why the rule-based coach wrote (part of) this phase although a model was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Seconds to the first token of each answered model call, in call order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_tokens_s: Vec<f64>,
}

impl PhaseStats {
    /// A phase run by the rule-based coach or by our own code: no model calls, nothing spent.
    pub fn offline(name: &str, seconds: f64) -> PhaseStats {
        PhaseStats {
            cost: report::PhaseCost {
                phase: name.to_string(),
                seconds,
                model_calls: 0,
                input_tokens: 0,
                output_tokens: 0,
                cached_tokens: 0,
                cost_usd: Some(0.0),
            },
            resumed: false,
            model_wait_s: 0.0,
            fallback: None,
            first_tokens_s: Vec::new(),
        }
    }

    pub(super) fn since(name: &str, started: Instant) -> PhaseStats {
        PhaseStats::offline(name, started.elapsed().as_secs_f64())
    }

    pub(super) fn resumed(name: &str) -> PhaseStats {
        PhaseStats {
            resumed: true,
            ..PhaseStats::offline(name, 0.0)
        }
    }

    /// A phase that called a model. `input_tokens` counts every prompt token, cached ones
    /// included (the report's convention: `cached_tokens` is a part of it).
    pub(super) fn model(name: &str, started: Instant, stats: &CallStats) -> PhaseStats {
        let u = stats.usage();
        PhaseStats {
            cost: report::PhaseCost {
                phase: name.to_string(),
                seconds: started.elapsed().as_secs_f64(),
                model_calls: stats.calls,
                input_tokens: u.prompt_tokens(),
                output_tokens: u.output,
                cached_tokens: u.cache_read,
                cost_usd: stats.cost_usd(),
            },
            resumed: false,
            model_wait_s: stats.waiting.as_secs_f64(),
            fallback: None,
            first_tokens_s: stats.first_tokens.iter().map(|d| d.as_secs_f64()).collect(),
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    pub files: report::ReportFiles,
    /// Wall-clock seconds of the whole run. Phases 2 and 3 may overlap, so this can be less
    /// than the sum of the phases' seconds.
    pub wall_s: f64,
    /// The four phases (the plan's marked skipped when it was).
    pub phases: Vec<PhaseStats>,
    /// [`OFFLINE`] or the provider's name.
    pub provider: String,
    /// The model that answered (or was asked for, when no call was needed), with a provider.
    pub model: Option<String>,
    /// What phase 1 imported, when asked to.
    pub import: Option<ImportReport>,
}

impl Outcome {
    /// "Generated with bedrock us.anthropic…", or the rule-based coach.
    pub fn heading(&self) -> String {
        match &self.model {
            Some(m) => format!("Generated with {} {m}", self.provider),
            None => "Generated with the rule-based coach (no model configured)".into(),
        }
    }
}
