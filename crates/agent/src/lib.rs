//! The coach's model-facing side, over the domain in `coach`:
//!
//! - [`bundle`]: the analysis bundle loaded from the store;
//! - [`analysis_llm`], [`plan_llm`]: the report's model phases (narrative as checked JSON, plan
//!   overview as a forced, rule-checked tool call);
//! - [`tools`]: the coach's analysis tools over the store, behind the [`toolbox::ToolBox`] seam;
//! - [`turn`]: the agent loop that offers tools to a model and answers one question.

pub mod analysis_llm;
pub mod bundle;
pub mod plan_llm;
pub mod toolbox;
pub mod tools;
pub mod turn;
