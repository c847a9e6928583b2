//! Test support (feature `testing`): loopback fakes of the providers that speak the real wire
//! format and enforce the services' rules — Bedrock (JSON + event-stream frames, driven by the
//! real SDK client), Anthropic, OpenAI and Gemini (SSE), Ollama (NDJSON) — so every provider can be tested offline.

pub mod eventstream;
pub mod fake_anthropic;
pub mod fake_bedrock;
pub mod fake_gemini;
pub mod fake_ollama;
pub mod fake_openai;
pub mod sse_fake;

pub use fake_bedrock::{Block, FakeBedrock, Frame, ModelReply, Operation, RecordedRequest, Reply};
pub use sse_fake::{RecordedHttp, SseFake, SseReply, Wire};
