//! Each decoded activity's data-quality record (`activity_quality`, migration 5): what the
//! sample-level pass of `metrics::quality` found and did before the metrics were computed.

use std::collections::HashMap;

use metrics::Quality;
use metrics::quality::{Action, IssueKind};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::activities::corrupt;
use crate::{Store, StoreError};

/// The issue kinds as stored in `kinds`: snake_case names joined by commas, in the record's
/// order ('' for a clean activity).
fn kinds_text(q: &Quality) -> String {
    q.issues
        .iter()
        .map(|i| kind_name(i.kind))
        .collect::<Vec<_>>()
        .join(",")
}

/// The snake_case name of a kind, as in JSON.
fn kind_name(kind: IssueKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Replaces the quality record of activity `id` inside the import's transaction.
pub(crate) fn write_quality(tx: &Transaction<'_>, id: i64, q: &Quality) -> Result<(), StoreError> {
    let json = serde_json::to_string(q).map_err(|source| StoreError::Json {
        what: "activity quality",
        source,
    })?;
    tx.execute(
        "INSERT OR REPLACE INTO activity_quality (activity_id, repaired, flagged, kinds, quality_json)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, q.repaired(), q.flagged(), kinds_text(q), json],
    )?;
    Ok(())
}

impl Store {
    /// The quality record of one of the athlete's activities; `None` for CSV summaries and
    /// activities decoded before quality checks existed.
    pub fn activity_quality(
        &self,
        athlete_id: i64,
        id: i64,
    ) -> Result<Option<Quality>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT q.quality_json FROM activity_quality q
                 JOIN activities a ON a.id = q.activity_id
                 WHERE a.athlete_id = ?1 AND q.activity_id = ?2",
                params![athlete_id, id],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| corrupt(id, "quality_json", e)))
            .transpose()
    }

    /// The issue kinds of every activity of the athlete that has any, by activity id: the compact
    /// form listings show.
    pub fn quality_kinds(&self, athlete_id: i64) -> Result<HashMap<i64, Vec<String>>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT q.activity_id, q.kinds FROM activity_quality q
             JOIN activities a ON a.id = q.activity_id
             WHERE a.athlete_id = ?1 AND q.kinds != ''",
        )?;
        let rows = stmt.query_map([athlete_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, kinds) = row?;
            out.insert(id, kinds.split(',').map(str::to_string).collect());
        }
        Ok(out)
    }
}

/// How many activities of one import run had one kind of issue, and the samples involved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityCount {
    pub kind: IssueKind,
    pub action: Action,
    pub activities: usize,
    pub samples: u64,
}

/// The data-quality totals of an import run, over the activities it decoded.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct QualityCounts {
    /// Activities whose samples were dropped, repaired or shifted before the metrics.
    pub repaired_activities: usize,
    /// Activities with something reported without changing the data.
    pub flagged_activities: usize,
    /// One entry per kind found, in kind order.
    pub kinds: Vec<QualityCount>,
}

impl QualityCounts {
    /// Counts one decoded activity's record.
    pub fn add(&mut self, q: &Quality) {
        self.repaired_activities += usize::from(q.repaired());
        self.flagged_activities += usize::from(q.flagged());
        for issue in &q.issues {
            let i = match self.kinds.binary_search_by_key(&issue.kind, |c| c.kind) {
                Ok(i) => i,
                Err(i) => {
                    self.kinds.insert(
                        i,
                        QualityCount {
                            kind: issue.kind,
                            action: issue.action,
                            activities: 0,
                            samples: 0,
                        },
                    );
                    i
                }
            };
            self.kinds[i].activities += 1;
            self.kinds[i].samples += u64::from(issue.samples);
        }
    }

    /// One line per nonempty group for people, e.g. "repaired 3 activities: power spikes
    /// (2 activities, 12 samples), heart rate out of range (1 activity, 4 samples)".
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (verb, n, changes) in [
            ("repaired", self.repaired_activities, true),
            ("flagged", self.flagged_activities, false),
        ] {
            if n == 0 {
                continue;
            }
            let parts: Vec<String> = self
                .kinds
                .iter()
                .filter(|c| c.action.changes_data() == changes)
                .map(|c| {
                    let acts = plural(c.activities, "activity", "activities");
                    if c.samples > 0 {
                        let samples = plural(c.samples as usize, "sample", "samples");
                        format!("{} ({acts}, {samples})", c.kind.label())
                    } else {
                        format!("{} ({acts})", c.kind.label())
                    }
                })
                .collect();
            out.push(format!(
                "{verb} {}: {}",
                plural(n, "activity", "activities"),
                parts.join(", ")
            ));
        }
        out
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::quality::Issue;

    fn issue(kind: IssueKind, action: Action, samples: u32) -> Issue {
        Issue {
            kind,
            action,
            samples,
            first_s: Some(0),
            last_s: Some(0),
            ours: None,
            device: None,
        }
    }

    #[test]
    fn counts_read_as_one_line_per_group() {
        let mut c = QualityCounts::default();
        c.add(&Quality {
            issues: vec![
                issue(IssueKind::PowerSpike, Action::Dropped, 4),
                issue(IssueKind::PowerDropout, Action::Flagged, 40),
            ],
            elevation_method: None,
        });
        c.add(&Quality {
            issues: vec![issue(IssueKind::PowerSpike, Action::Dropped, 8)],
            elevation_method: None,
        });
        c.add(&Quality::default());
        assert_eq!(
            c.lines(),
            vec![
                "repaired 2 activities: power spikes (2 activities, 12 samples)",
                "flagged 1 activity: power dropouts (1 activity, 40 samples)",
            ]
        );
        assert_eq!(kinds_text(&Quality::default()), "");
    }
}
