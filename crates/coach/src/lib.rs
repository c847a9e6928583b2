//! The coach: everything between the numbers and the words.
//!
//! - [`bundle`]: the analysis bundle — every figure the report and the model see, computed from
//!   the store by `metrics` (the model never computes numbers);
//! - [`narrative`]: the performance-analysis narrative (written by a model or by the rule-based
//!   coach in [`offline`]);
//! - [`plan`]: the training plan (overview, weeks, workouts with steps), its rules and planned
//!   TSS; [`library`]: our workout library (data), filled into weeks deterministically.

pub mod agent;
pub mod analysis_llm;
pub mod bundle;
pub mod error;
pub mod library;
pub mod narrative;
pub mod offline;
pub mod plan;
pub mod plan_llm;
pub mod planned_tss;
pub mod planner;
pub mod rules;
pub mod toolbox;
pub mod tools;

pub use error::CoachError;
