//! The live progress of `generate --all`: one line per athlete (a spinner on a terminal) with the
//! phases running and the model calls so far; warnings are printed above the lines.

use std::sync::Mutex;

use agent::workflow::{Observer, PhaseStats};
use indicatif::{MultiProgress, ProgressBar};

use crate::term;

/// One athlete's live line: phases running, calls so far; warnings printed above the lines.
pub(super) struct AthleteProgress {
    /// `[ 3/120] Ann`: the line's label.
    pub(super) name: String,
    pub(super) bar: ProgressBar,
    multi: MultiProgress,
    state: Mutex<LineState>,
}

#[derive(Default)]
struct LineState {
    running: Vec<u32>,
    calls: u64,
}

impl AthleteProgress {
    pub(super) fn new(name: String, bar: ProgressBar, multi: MultiProgress) -> AthleteProgress {
        AthleteProgress {
            name,
            bar,
            multi,
            state: Mutex::new(LineState::default()),
        }
    }

    fn redraw(&self, s: &LineState) {
        let phases: Vec<String> = s.running.iter().map(|n| format!("{n}/4")).collect();
        let doing = if phases.is_empty() {
            "starting".to_string()
        } else {
            format!("phase {}", phases.join(" + "))
        };
        self.bar
            .set_message(format!("{} · {doing} · {} model calls", self.name, s.calls));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LineState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Observer for AthleteProgress {
    fn phase_started(&self, n: u32, _name: &str) {
        let mut s = self.lock();
        s.running.push(n);
        self.redraw(&s);
    }
    fn warning(&self, text: &str) {
        let line = format!("{} {}: {text}", term::warning_label(), self.name);
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }
    fn model_call(&self, _n: u32, _model: &str, _stats: &llm::CallStats) {
        let mut s = self.lock();
        s.calls += 1;
        self.redraw(&s);
    }
    fn phase_finished(&self, n: u32, _stats: &PhaseStats) {
        let mut s = self.lock();
        s.running.retain(|r| *r != n);
        self.redraw(&s);
    }
}
