//! `cycling-ai mcp`: the coach's tools, resources and prompts for any MCP client, on the
//! official Rust SDK (`rmcp`), over stdio or streamable HTTP.
//!
//! - [`tools`]: the coach's tools (`agent::tools`) as MCP tools — same schemas, bounds, messages
//!   and athlete scoping — with annotations, an `athlete` argument, `list_athletes`, and
//!   preview → confirm for writes ([`preview`]);
//! - [`resources`], [`prompts`]: per-athlete resources with stable URIs; the coaching prompts;
//! - [`http`]: the streamable HTTP transport behind a bearer token ([`token`]) and an Origin
//!   check; stdio is [`serve_stdio`];
//! - [`calllog`]: every tool call and every refused request in the interaction log, never on
//!   stdout.

pub mod athletes;
pub mod calllog;
mod guard;
mod handler;
pub mod http;
pub mod preview;
pub mod prompts;
mod render;
pub mod resources;
pub mod token;
pub mod tools;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::civil::Date;
use llm::log::InteractionLog;
use rmcp::ServiceExt;
use store::Store;

pub use handler::Handler;

/// What every session of the server shares: where the data is, the log, pending previews.
pub struct Server {
    data_dir: PathBuf,
    reports_dir: PathBuf,
    /// "stdio" or "http", for the log.
    transport: &'static str,
    /// The athlete a call without an `athlete` argument works for (`--athlete`); `None`: the
    /// athlete in use, else the only one.
    default_athlete: Option<String>,
    log: Option<InteractionLog>,
    pending: Mutex<preview::PendingWrites>,
}

/// Who made a call: the client's name and version from `initialize`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub version: Option<String>,
}

impl Server {
    /// A server over `data_dir`'s store; reports are looked up in `reports_dir` (where
    /// `generate` writes them). The interaction log is opened in `data_dir`.
    pub fn new(data_dir: PathBuf, reports_dir: PathBuf, transport: &'static str) -> Server {
        Server {
            log: calllog::open(&data_dir),
            data_dir,
            reports_dir,
            transport,
            default_athlete: None,
            pending: Mutex::new(preview::PendingWrites::default()),
        }
    }

    /// Calls without an `athlete` argument work for `name` (the command's `--athlete`).
    pub fn with_default_athlete(mut self, name: Option<String>) -> Server {
        self.default_athlete = name;
        self
    }

    pub(crate) fn default_athlete(&self) -> Option<&str> {
        self.default_athlete.as_deref()
    }

    pub(crate) fn open_store(&self) -> Result<Store, String> {
        Store::open(&self.data_dir)
            .map_err(|e| format!("opening the store in {}: {e}", self.data_dir.display()))
    }

    /// The date defaults count back from: today, local time.
    pub(crate) fn today(&self) -> Date {
        jiff::ZonedDateTime::now().date()
    }

    pub(crate) fn pending(&self) -> MutexGuard<'_, preview::PendingWrites> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn log(&self) -> Option<&InteractionLog> {
        self.log.as_ref()
    }
}

/// Why the server stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("MCP session: {0}")]
    Session(String),
    #[error("{0}")]
    Http(String),
}

/// Serve one client over stdin/stdout until it disconnects. Nothing else may write to stdout.
pub async fn serve_stdio(server: Arc<Server>) -> Result<(), ServeError> {
    let running = Handler::new(server)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| ServeError::Session(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| ServeError::Session(e.to_string()))?;
    Ok(())
}
