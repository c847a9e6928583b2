//! Writes through MCP are confirmed: the first call of a writing tool returns a preview and a
//! preview token; a second call with `confirm: true` and that token applies the change that was
//! previewed — the same prepared profile or plan, not a recomputation — once.
//!
//! Pending previews are kept in memory, at most [`MAX_PENDING`] (the oldest is dropped) and for
//! [`PREVIEW_TTL`]; a token is random (128 bits), used once, and bound to its tool, its
//! athlete and its arguments.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use agent::tools::StagedWrite;
use serde_json::{Map, Value};

pub const MAX_PENDING: usize = 16;
pub const PREVIEW_TTL: Duration = Duration::from_secs(15 * 60);

/// A previewed change waiting for its confirmation.
#[derive(Debug)]
pub struct Pending {
    pub staged: StagedWrite,
    /// The arguments of the preview call (without `athlete`, `confirm`, `preview_token`).
    pub arguments: Map<String, Value>,
    pub athlete: String,
    made: Instant,
}

#[derive(Debug, Default)]
pub struct PendingWrites {
    entries: VecDeque<(String, Pending)>,
}

impl PendingWrites {
    /// Keep a preview under `token` (dropping expired ones, and the oldest beyond
    /// [`MAX_PENDING`]).
    pub fn insert(
        &mut self,
        token: String,
        staged: StagedWrite,
        arguments: Map<String, Value>,
        athlete: String,
    ) {
        self.expire();
        while self.entries.len() >= MAX_PENDING {
            self.entries.pop_front();
        }
        self.entries.push_back((
            token,
            Pending {
                staged,
                arguments,
                athlete,
                made: Instant::now(),
            },
        ));
    }

    /// Take the preview of `token` (a token works once), or say why there is none.
    pub fn take(&mut self, token: &str) -> Result<Pending, String> {
        self.expire();
        let Some(i) = self.entries.iter().position(|(t, _)| t == token) else {
            return Err(format!(
                "preview_token: no pending preview has this token (a token works once and for {} \
                 minutes, and only the last {MAX_PENDING} previews are kept); call the tool \
                 without `confirm` to preview the change again",
                PREVIEW_TTL.as_secs() / 60
            ));
        };
        Ok(self
            .entries
            .remove(i)
            .map(|(_, p)| p)
            .expect("index from position"))
    }

    fn expire(&mut self) {
        self.entries.retain(|(_, p)| p.made.elapsed() < PREVIEW_TTL);
    }
}
