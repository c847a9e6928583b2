//! Progress of a run, reported to whoever shows it.

use llm::CallStats;

use super::PhaseStats;

/// Progress of a run. Every method does nothing by default: implement what you show.
pub trait Observer: Sync {
    /// Phase `n` (1–4, named in [`PHASES`]) begins.
    fn phase_started(&self, n: u32, name: &str) {
        let _ = (n, name);
    }
    /// Something worth a line: what was imported, which model is being asked.
    fn note(&self, text: &str) {
        let _ = text;
    }
    /// A problem that did not stop the run (a profile caveat, an unwritable call log).
    fn warning(&self, text: &str) {
        let _ = text;
    }
    /// After each model call: the phase's calls, tokens and cost so far.
    fn model_call(&self, model: &str, stats: &CallStats) {
        let _ = (model, stats);
    }
    fn phase_finished(&self, stats: &PhaseStats) {
        let _ = stats;
    }
}

/// An observer that shows nothing.
pub struct Silent;

impl Observer for Silent {}
