//! Resources with stable URIs, per athlete (the name percent-encoded):
//!
//! - `cycling-ai://athlete/{name}/profile` — the profile with zones (`get_athlete_profile`);
//! - `cycling-ai://athlete/{name}/plan` — the current plan (`get_training_plan`);
//! - `cycling-ai://athlete/{name}/activities/recent` — the newest activities of the last 8 weeks,
//!   at most `agent::tools::MAX_LIST` (`list_activities`);
//! - `cycling-ai://athlete/{name}/report/latest.md` — the latest report `generate` wrote.
//!
//! The JSON ones are the tools' own results, so a resource and a tool never disagree.

use std::path::{Path, PathBuf};

use agent::toolbox::ToolBox;
use rmcp::model::{Resource, ResourceTemplate};
use serde_json::{Value, json};

use crate::Server;
use crate::athletes::{MAX_ATHLETES, athlete_for, tools_for};

const SCHEME: &str = "cycling-ai://athlete/";
/// Largest report served (a report is a few tens of kilobytes).
pub const MAX_REPORT_BYTES: usize = 512 * 1024;

/// The kinds of resource each athlete has: path after the name, title, description, MIME type.
const KINDS: [(&str, &str, &str, &str); 4] = [
    (
        "profile",
        "profile",
        "The athlete's profile with power and heart-rate zones (JSON).",
        "application/json",
    ),
    (
        "plan",
        "training plan",
        "The current training plan: weeks, phases, planned hours and TSS, this week's workouts (JSON).",
        "application/json",
    ),
    (
        "activities/recent",
        "recent activities",
        "The newest activities of the last 8 weeks, at most 20 (JSON).",
        "application/json",
    ),
    (
        "report/latest.md",
        "latest report",
        "The latest report written by `cycling-ai generate` (Markdown).",
        "text/markdown",
    ),
];

pub fn uri(athlete: &str, kind: &str) -> String {
    format!("{SCHEME}{}/{kind}", encode(athlete))
}

/// Every athlete's resources (at most [`MAX_ATHLETES`] athletes).
pub fn list(server: &Server) -> Result<Vec<Resource>, String> {
    let store = server.open_store()?;
    let athletes = store
        .athletes()
        .map_err(|e| format!("reading the athletes: {e}"))?;
    let mut out = Vec::new();
    for a in athletes.iter().take(MAX_ATHLETES) {
        for (kind, title, description, mime) in KINDS {
            if kind == "report/latest.md" && report_path(server, &a.name, a.id).is_none() {
                continue;
            }
            out.push(
                Resource::new(uri(&a.name, kind), format!("{} {title}", a.name))
                    .with_description(description)
                    .with_mime_type(mime),
            );
        }
    }
    Ok(out)
}

pub fn templates() -> Vec<ResourceTemplate> {
    KINDS
        .iter()
        .map(|(kind, title, description, mime)| {
            ResourceTemplate::new(
                format!("{SCHEME}{{name}}/{kind}"),
                format!("athlete {title}"),
            )
            .with_description(*description)
            .with_mime_type(*mime)
        })
        .collect()
}

/// A resource's text and MIME type; `Err(NotFound)` for an unknown URI or athlete.
pub fn read(server: &Server, uri: &str) -> Result<(String, &'static str), ReadError> {
    let not_found = || ReadError::NotFound(format!("no resource {uri:?}; see resources/list"));
    let rest = uri.strip_prefix(SCHEME).ok_or_else(not_found)?;
    let (encoded, kind) = rest.split_once('/').ok_or_else(not_found)?;
    let name = decode(encoded).ok_or_else(not_found)?;
    let (_, _, _, mime) = KINDS
        .iter()
        .find(|(k, ..)| *k == kind)
        .ok_or_else(not_found)?;
    let mut store = server.open_store().map_err(ReadError::Failed)?;
    let athlete = athlete_for(&mut store, Some(&name), None).map_err(ReadError::NotFound)?;
    drop(store);
    if kind == "report/latest.md" {
        let path = report_path(server, &athlete.name, athlete.id).ok_or_else(|| {
            ReadError::NotFound(format!(
                "no report for {:?} in {}; run `cycling-ai generate` first",
                athlete.name,
                server.reports_dir.display()
            ))
        })?;
        return read_report(&path).map(|t| (t, *mime));
    }
    let tools = tools_for(&server.data_dir, &athlete, server.today()).map_err(ReadError::Failed)?;
    let (tool, args): (&str, Value) = match kind {
        "profile" => ("get_athlete_profile", json!({})),
        "plan" => ("get_training_plan", json!({})),
        _ => ("list_activities", json!({"limit": agent::tools::MAX_LIST})),
    };
    let value = tools
        .call(tool, &args)
        .map_err(|e| ReadError::Failed(e.to_string()))?
        .output;
    Ok((value.to_string(), *mime))
}

#[derive(Debug)]
pub enum ReadError {
    NotFound(String),
    Failed(String),
}

/// Where the athlete's latest report is: `REPORTS/<name>/report.md`, else `REPORTS/report.md`
/// for the athlete in use (where `generate` writes by default).
fn report_path(server: &Server, name: &str, athlete_id: i64) -> Option<PathBuf> {
    let own = server.reports_dir.join(name).join("report.md");
    if own.is_file() {
        return Some(own);
    }
    let shared = server.reports_dir.join("report.md");
    let in_use = server
        .open_store()
        .ok()
        .and_then(|mut s| athlete_for(&mut s, None, server.default_athlete()).ok())
        .is_some_and(|a| a.id == athlete_id);
    (in_use && shared.is_file()).then_some(shared)
}

fn read_report(path: &Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ReadError::Failed(format!("reading {}: {e}", path.display())))?;
    if bytes.len() > MAX_REPORT_BYTES {
        let cut = String::from_utf8_lossy(&bytes[..MAX_REPORT_BYTES]);
        return Ok(format!(
            "{cut}\n\n[report cut at {MAX_REPORT_BYTES} bytes of {}; the whole file is {}]\n",
            bytes.len(),
            path.display()
        ));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_uris() {
        for name in ["Demo Rider", "Zoë/ä", "a%b", "plain"] {
            let u = uri(name, "profile");
            let rest = u.strip_prefix(SCHEME).unwrap();
            let (enc, kind) = rest.split_once('/').unwrap();
            assert_eq!(kind, "profile");
            assert!(!enc.contains('/') && !enc.contains(' '), "{u}");
            assert_eq!(decode(enc).as_deref(), Some(name));
        }
        assert_eq!(
            uri("Demo Rider", "plan"),
            "cycling-ai://athlete/Demo%20Rider/plan"
        );
        assert_eq!(decode("%zz"), None);
    }
}
