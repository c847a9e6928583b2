//! The coach's error type. Messages say what to do next where the user can act on them.

#[derive(Debug, thiserror::Error)]
pub enum CoachError {
    /// The athlete has no activity at all: there is nothing to analyse.
    #[error("no activities: run `cycling-ai import` first")]
    NoActivities,

    /// A period length outside what the analysis supports.
    #[error("period of {weeks} weeks: expected 1 to {max} weeks")]
    InvalidPeriod { weeks: u32, max: u32 },
}
