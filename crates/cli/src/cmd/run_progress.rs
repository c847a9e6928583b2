//! What `generate` and `demo` show while the report pipeline runs: one line per phase start,
//! model call, live receiving update and phase end, on stderr.

use std::sync::atomic::{AtomicU32, Ordering};

use agent::workflow::{Observer, PhaseStats};
use llm::CallStats;

use crate::term;

/// Live per-phase progress on stderr (warnings always: they matter in logs too).
///
/// Phases 2 and 3 run at the same time with a model: the lines of phases that overlap name their
/// phase (`[3/4]`) instead of being indented under the last heading.
pub struct Progress {
    show: bool,
    /// The phases running (bit n for phase n), for the line prefixes and for the message when
    /// Ctrl-C stops the run.
    pub(super) running: AtomicU32,
    /// The phases that have run beside another (bit n for phase n): their lines are tagged.
    overlapped: AtomicU32,
    /// Set when the first model phase starts: from then on Ctrl-C stops the run cleanly.
    pub(super) armed: tokio::sync::Notify,
}

impl Progress {
    pub fn new(show: bool) -> Progress {
        Progress {
            show,
            running: AtomicU32::new(0),
            overlapped: AtomicU32::new(0),
            armed: tokio::sync::Notify::new(),
        }
    }

    /// A line before the phases (which coach runs).
    pub(super) fn line(&self, text: &str) {
        if self.show {
            eprintln!("{text}");
        }
    }

    /// A line of phase `n`: indented under its heading while it runs alone, tagged with its
    /// number once another phase has run beside it (its heading is no longer the last one).
    fn phase_line(&self, n: u32, text: &str) {
        if self.overlapped.load(Ordering::Relaxed) & (1 << n) != 0 {
            self.line(&format!("[{n}/4] {text}"));
        } else {
            self.line(&format!("      {text}"));
        }
    }
}

impl Observer for Progress {
    fn phase_started(&self, n: u32, name: &str) {
        let before = self.running.fetch_or(1 << n, Ordering::Relaxed);
        if before != 0 {
            self.overlapped
                .fetch_or(before | (1 << n), Ordering::Relaxed);
        }
        if n == 2 {
            self.armed.notify_one();
        }
        self.line(&format!("[{n}/4] {name} …"));
    }
    fn note(&self, n: u32, text: &str) {
        self.phase_line(n, text);
    }
    fn warning(&self, text: &str) {
        eprintln!("{} {text}", term::warning_label());
    }
    fn model_call(&self, n: u32, model: &str, s: &CallStats) {
        let u = s.usage();
        self.phase_line(
            n,
            &format!(
                "{} · call {} · {} in / {} out tokens",
                s.model_used.as_deref().unwrap_or(model),
                s.calls,
                u.prompt_tokens(),
                u.output
            ),
        );
    }
    fn receiving(&self, n: u32, r: llm::Receiving) {
        self.phase_line(
            n,
            &format!(
                "receiving · ~{} tokens so far · {:.0} s",
                r.estimated_tokens(),
                r.elapsed.as_secs_f64()
            ),
        );
    }
    fn phase_finished(&self, n: u32, p: &PhaseStats) {
        if p.resumed {
            self.phase_line(n, "done in an earlier run (resumed)");
        } else {
            self.phase_line(n, &format!("done in {:.2} s", p.cost.seconds));
        }
        self.running.fetch_and(!(1 << n), Ordering::Relaxed);
        self.overlapped.fetch_and(!(1 << n), Ordering::Relaxed);
    }
}
