//! Progress of a run, reported to whoever shows it.

use llm::{CallStats, Receiving};

use super::PhaseStats;

/// Progress of a run. Every method does nothing by default: implement what you show.
///
/// With a model, phases 2 and 3 run at the same time: their events interleave, so the events
/// of a phase carry its number `n`.
pub trait Observer: Sync {
    /// Phase `n` (1–4, named in [`PHASES`]) begins.
    fn phase_started(&self, n: u32, name: &str) {
        let _ = (n, name);
    }
    /// Something worth a line in phase `n`: what was imported, which model is being asked.
    fn note(&self, n: u32, text: &str) {
        let _ = (n, text);
    }
    /// A problem that did not stop the run (a profile caveat, an unwritable call log).
    fn warning(&self, text: &str) {
        let _ = text;
    }
    /// After each model call of phase `n`: the phase's calls, tokens and cost so far.
    fn model_call(&self, n: u32, model: &str, stats: &CallStats) {
        let _ = (n, model, stats);
    }
    /// While a model call of phase `n` streams its answer (every few seconds of a long one):
    /// how much has arrived, so a slow generation shows that it is moving.
    fn receiving(&self, n: u32, progress: Receiving) {
        let _ = (n, progress);
    }
    fn phase_finished(&self, n: u32, stats: &PhaseStats) {
        let _ = (n, stats);
    }
}

/// An observer that shows nothing.
pub struct Silent;

impl Observer for Silent {}
