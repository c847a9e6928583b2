//! Test support (feature `testing`): a loopback fake of the Bedrock runtime that speaks the real
//! wire format and enforces the service's rules, so the real SDK client can be tested offline.

pub mod eventstream;
pub mod fake_bedrock;

pub use fake_bedrock::{Block, FakeBedrock, Frame, ModelReply, Operation, RecordedRequest, Reply};
