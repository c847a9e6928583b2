//! The seam between the agent loop and the tools it offers a model.
//!
//! The agent loop ([`crate::turn`]) knows nothing about cycling: it sends the definitions, runs
//! the calls the model makes through [`ToolBox::call`] (independent calls in parallel, hence
//! `Send + Sync`), and returns each result or error to the model. The coach's tools
//! ([`crate::tools`]) implement it over the store; tests implement it with scripted tools.

use serde_json::Value;

/// Why a tool call failed, written for the model: it reads the message and can correct itself.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    /// No tool of that name is offered.
    #[error("unknown tool `{name}`; the tools offered are: {offered}")]
    UnknownTool { name: String, offered: String },
    /// The arguments do not match the tool's schema or its rules (names the argument).
    #[error("invalid arguments for `{tool}`: {message}")]
    InvalidArguments { tool: String, message: String },
    /// The tool ran and failed (no data for the range, no plan yet, …).
    #[error("{tool} failed: {message}")]
    Failed { tool: String, message: String },
}

/// What a successful call gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSuccess {
    /// Compact JSON for the model (bounded lists, rounded numbers, units in key names).
    pub output: Value,
    /// A terminal tool ends the agent loop after this call (e.g. the plan overview is done).
    pub terminal: bool,
}

/// A set of tools offered to a model.
pub trait ToolBox: Send + Sync {
    /// The definitions sent with every request, in a stable order (byte-identical across turns so
    /// providers can cache them).
    fn definitions(&self) -> Vec<llm::ToolDef>;

    /// Run one call. Arguments are the model's parsed JSON object, untrusted: validate them.
    fn call(&self, name: &str, arguments: &Value) -> Result<ToolSuccess, ToolError>;

    /// Whether the tool changes state (writes the profile, saves a plan, …). The agent loop
    /// answers a repeated identical call from its first result; after a call to a tool that
    /// mutates, earlier results may be stale, so they are no longer reused, and the calls of a
    /// round that contains one run one after the other, in call order. Read-only by default.
    fn mutates(&self, name: &str) -> bool {
        let _ = name;
        false
    }
}
