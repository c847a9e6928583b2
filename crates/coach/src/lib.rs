//! The coach's domain: everything between the numbers and the words that needs no model and no
//! database. The model-facing side (model phases, tools, the agent loop, the report workflow) is
//! the `agent` crate; `report` renders these types and compiles nothing of the model stack.
//!
//! - [`bundle`]: the analysis bundle — every figure the report and the model see, computed by
//!   `metrics` from the athlete's activity summaries (the model never computes numbers);
//! - [`narrative`]: the performance-analysis narrative (written by a model or by the rule-based
//!   coach in [`offline`]);
//! - [`plan`]: the training plan (overview, weeks, workouts with steps), its rules and planned
//!   TSS; [`library`]: our workout library (data), filled into weeks deterministically.

pub mod adapt;
pub mod bundle;
pub mod error;
pub mod follow;
pub mod intervals;
pub mod library;
pub mod narrative;
pub mod offline;
pub mod plan;
pub mod planned_tss;
pub mod planner;
pub mod projection;
pub mod rules;
pub mod today;

pub use error::CoachError;
