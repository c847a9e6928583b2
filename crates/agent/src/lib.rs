//! The coach's model-facing side, over the domain in `coach`:
//!
//! - [`workflow`]: the report pipeline as a library — options in, four phases with checkpoints
//!   and `--resume`, artefacts and per-phase figures out, progress through an observer;
//! - [`bundle`], [`athlete`]: the analysis bundle and the athlete's profile from the store;
//!   [`plan_store`]: a designed plan filled from the workout library and stored;
//! - [`analysis_llm`], [`plan_llm`]: the report's model phases (narrative as checked JSON, plan
//!   overview as a forced, rule-checked tool call);
//! - [`coaching`]: the coach's instructions (chat's system prompt, shared with the MCP prompts);
//! - [`batch`]: every athlete's model requests as one Bedrock batch job, and the reports
//!   finished from its answers;
//! - [`tools`]: the coach's analysis tools over the store, behind the [`toolbox::ToolBox`] seam;
//! - [`turn`]: the agent loop that offers tools to a model and answers one question.

pub mod adapt_llm;
pub mod analysis_llm;
pub mod athlete;
pub mod batch;
pub mod bundle;
pub mod coaching;
pub mod follow;
pub mod plan_llm;
pub mod plan_store;
pub mod toolbox;
pub mod tools;
pub mod turn;
pub mod workflow;
