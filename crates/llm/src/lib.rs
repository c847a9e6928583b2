//! The LLM provider layer of cycling-ai: one streaming [`Provider`] trait, the AWS Bedrock
//! provider on the official SDK, the Anthropic Messages and OpenAI Chat Completions providers over
//! HTTPS + SSE, the model catalog with prices, and (feature `testing`) a fake
//! Bedrock server speaking the real wire format. Knows nothing about cycling.

pub mod anthropic;
pub mod bedrock;
pub mod catalog;
pub mod error;
pub mod http;
pub mod log;
pub mod openai;
pub mod provider;
#[cfg(feature = "testing")]
pub mod testing;
pub mod types;

pub use catalog::{Catalog, Cost};
pub use error::LlmError;
pub use provider::{EventStream, Provider, collect};
pub use types::*;
