//! The performance-analysis narrative: prose and structure only. Every number shown next to it in
//! the report comes from the bundle, never from this text's author (model or rules).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub title: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Recommendations {
    pub short_term: Vec<String>,
    pub long_term: Vec<String>,
    pub recovery: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Narrative {
    /// Two to four sentences: where the athlete stands.
    pub summary: String,
    /// 3–5 trends.
    pub key_trends: Vec<Trend>,
    /// 3–5 insights.
    pub insights: Vec<String>,
    pub recommendations: Recommendations,
    /// Who wrote it: "rule-based coach", or "<provider> <model>".
    pub author: String,
}

/// `s` with its first letter upper-case ("sweet spot" → "Sweet spot", "VO2max" unchanged): the
/// labels are written for running text, a sentence or a table cell starts with a capital.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
