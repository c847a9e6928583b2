//! The LLM provider layer of cycling-ai: one streaming [`Provider`] trait, the AWS Bedrock
//! provider on the official SDK, the Anthropic Messages, OpenAI Chat Completions and Gemini
//! providers over HTTPS + SSE, Ollama over NDJSON, the registry that describes each provider once
//! (settings, credentials, help texts, constructor), the model catalog with prices, the
//! interaction log, and (feature `testing`) fakes of every service speaking its real wire format.
//! Knows nothing about cycling.

pub mod anthropic;
pub mod bedrock;
pub mod catalog;
pub mod error;
pub mod gemini;
pub mod http;
pub mod limiter;
pub mod log;
pub mod meter;
pub mod ollama;
pub mod openai;
pub mod provider;
pub mod registry;
pub mod replay;
#[cfg(feature = "testing")]
pub mod testing;
pub mod types;

pub use catalog::{Catalog, Cost};
pub use error::LlmError;
pub use meter::{CallStats, Meter, ModelUsage, Receiving};
pub use provider::{EventStream, Folded, FoldedCall, Folder, Provider, collect};
pub use types::*;
