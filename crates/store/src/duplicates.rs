//! One ride, one activity: the same ride recorded twice (a head unit and a watch, or a copy of a
//! file that differs by a byte, so its content hash differs) is detected by time overlap and all
//! but the richest recording are marked as duplicates of it; every query feeding metrics leaves
//! the duplicates out. The user can override either way (`merge` / `unmerge`), and the importer
//! never touches a decision the user made.
//!
//! **Same ride**: same athlete, same sport, the two overlap in time for at least
//! [`MIN_OVERLAP`] of the shorter one's elapsed time, and the shorter lasts at least
//! [`MIN_LENGTH_RATIO`] of the longer. The second condition keeps one long recording (a
//! multi-day tour uploaded as one activity, a watch left running) from swallowing the separate
//! rides inside it: a real Strava export holds such activities.
//!
//! **Richest**: measured power > heart rate > distance (GPS or a speed sensor) > a file with
//! none of those > a CSV summary row; ties go to the longer recording, then the earlier import
//! (lower id).

use rusqlite::{OptionalExtension, Transaction, params};

use crate::{Store, StoreError};

/// The share of the shorter activity's elapsed time two recordings must overlap to be one ride.
pub const MIN_OVERLAP: f64 = 0.8;

/// The shortest recording of one ride, as a share of the longest: a watch started late or
/// stopped early still counts, a different ride inside a long recording does not.
pub const MIN_LENGTH_RATIO: f64 = 0.5;

/// Neighbours are searched among activities starting at most this long before a new one: longer
/// than any single recording, and it keeps the search on the start-time index.
const MAX_ACTIVITY_S: i64 = 48 * 3600;

/// A duplicate marked by the importer in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateFound {
    pub duplicate_id: i64,
    pub duplicate_path: String,
    pub kept_id: i64,
    pub kept_path: String,
}

/// What detection needs to know about one activity.
#[derive(Debug, Clone)]
struct Recording {
    id: i64,
    source_path: String,
    sport: String,
    start: i64,
    elapsed_s: f64,
    richness: u8,
    duplicate_of: Option<i64>,
    user_decided: bool,
}

impl Recording {
    fn end(&self) -> f64 {
        self.start as f64 + self.elapsed_s
    }

    /// Whether `self` and `other` are one ride (see the module docs).
    fn same_ride(&self, other: &Recording) -> bool {
        let shorter = self.elapsed_s.min(other.elapsed_s);
        let longer = self.elapsed_s.max(other.elapsed_s);
        let overlap = self.end().min(other.end()) - (self.start.max(other.start) as f64);
        self.sport == other.sport
            && shorter > 0.0
            && shorter >= MIN_LENGTH_RATIO * longer
            && overlap >= MIN_OVERLAP * shorter
    }

    /// Ordering key: the greatest is kept.
    fn rank(&self) -> (u8, u64, std::cmp::Reverse<i64>) {
        (
            self.richness,
            self.elapsed_s.max(0.0) as u64,
            std::cmp::Reverse(self.id),
        )
    }
}

const RECORDING_COLUMNS: &str = "a.id, a.source_path, a.sport, a.start_time, a.elapsed_s,
    CASE WHEN a.source_kind = 'strava_csv_summary' THEN 0
         WHEN m.power_s > 0 AND m.power_estimated = 0 THEN 4
         WHEN m.avg_hr_bpm IS NOT NULL THEN 3
         WHEN a.distance_m > 0 THEN 2
         ELSE 1 END,
    a.duplicate_of, a.duplicate_source = 'user'";

fn read_recording(r: &rusqlite::Row<'_>) -> rusqlite::Result<Recording> {
    Ok(Recording {
        id: r.get(0)?,
        source_path: r.get(1)?,
        sport: r.get(2)?,
        start: r.get(3)?,
        elapsed_s: r.get(4)?,
        richness: r.get(5)?,
        duplicate_of: r.get(6)?,
        user_decided: r.get::<_, Option<bool>>(7)?.unwrap_or(false),
    })
}

/// Compare each of `ids` (activities just written) with its time neighbours and mark every
/// recording of the same ride but the richest as its duplicate. Returns the changes made.
pub(crate) fn detect(
    tx: &Transaction<'_>,
    athlete_id: i64,
    ids: &[i64],
) -> Result<Vec<DuplicateFound>, StoreError> {
    let mut found = Vec::new();
    let one_sql = format!(
        "SELECT {RECORDING_COLUMNS} FROM activities a
         LEFT JOIN activity_metrics m ON m.activity_id = a.id
         WHERE a.athlete_id = ?1 AND a.id = ?2"
    );
    let neighbours_sql = format!(
        "SELECT {RECORDING_COLUMNS} FROM activities a
         LEFT JOIN activity_metrics m ON m.activity_id = a.id
         WHERE a.athlete_id = ?1 AND a.id <> ?2
           AND a.start_time BETWEEN ?3 - {MAX_ACTIVITY_S} AND ?4
           AND a.duplicate_source IS NOT 'user'
         ORDER BY a.id"
    );
    for &id in ids {
        let Some(new) = tx
            .query_row(&one_sql, params![athlete_id, id], read_recording)
            .optional()?
        else {
            continue;
        };
        if new.user_decided {
            continue;
        }
        let mut stmt = tx.prepare_cached(&neighbours_sql)?;
        let mut cluster = vec![new.clone()];
        for n in stmt.query_map(
            params![athlete_id, id, new.start, new.end().ceil() as i64],
            read_recording,
        )? {
            let n = n?;
            if new.same_ride(&n) {
                cluster.push(n);
            }
        }
        if cluster.len() == 1 {
            // A changed file may no longer overlap what it was merged with.
            if new.duplicate_of.is_some() {
                set_duplicate(tx, new.id, None)?;
            }
            continue;
        }
        let kept = cluster
            .iter()
            .max_by_key(|r| r.rank())
            .cloned()
            .expect("cluster is not empty");
        if kept.duplicate_of.is_some() {
            set_duplicate(tx, kept.id, None)?;
        }
        for r in cluster.iter().filter(|r| r.id != kept.id) {
            // Copies the importer had pointed at this one follow it to the kept recording.
            tx.execute(
                "UPDATE activities SET duplicate_of = ?2
                 WHERE duplicate_of = ?1 AND duplicate_source = 'auto'",
                params![r.id, kept.id],
            )?;
            if r.duplicate_of != Some(kept.id) {
                set_duplicate(tx, r.id, Some(kept.id))?;
                found.push(DuplicateFound {
                    duplicate_id: r.id,
                    duplicate_path: r.source_path.clone(),
                    kept_id: kept.id,
                    kept_path: kept.source_path.clone(),
                });
            }
        }
    }
    Ok(found)
}

/// Mark `id` as the importer's duplicate of `of`, or clear the mark (`None`).
fn set_duplicate(tx: &Transaction<'_>, id: i64, of: Option<i64>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE activities SET duplicate_of = ?2,
            duplicate_source = CASE WHEN ?2 IS NULL THEN NULL ELSE 'auto' END
         WHERE id = ?1",
        params![id, of],
    )?;
    Ok(())
}

impl Store {
    /// The user's decision: `duplicate` is a recording of the same ride as `keep`. Whatever was
    /// a duplicate of `duplicate` now points at `keep`, and `keep` counts. Neither is changed by
    /// the importer afterwards.
    pub fn merge_activities(
        &mut self,
        athlete_id: i64,
        keep: i64,
        duplicate: i64,
    ) -> Result<(), StoreError> {
        if keep == duplicate {
            return Err(StoreError::MergeWithItself(keep));
        }
        let tx = self.write_transaction()?;
        for id in [keep, duplicate] {
            require_activity(&tx, athlete_id, id)?;
        }
        tx.execute(
            "UPDATE activities SET duplicate_of = ?2 WHERE duplicate_of = ?1",
            params![duplicate, keep],
        )?;
        tx.execute(
            "UPDATE activities SET duplicate_of = ?2, duplicate_source = 'user' WHERE id = ?1",
            params![duplicate, keep],
        )?;
        tx.execute(
            "UPDATE activities SET duplicate_of = NULL, duplicate_source = 'user' WHERE id = ?1",
            [keep],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The user's decision: `id` is a ride of its own. When it is a duplicate it is split off;
    /// when it is the kept recording, its duplicates are. Every activity split off is marked as
    /// decided by the user, so no later import merges it again. Returns the ids split off.
    pub fn unmerge_activity(&mut self, athlete_id: i64, id: i64) -> Result<Vec<i64>, StoreError> {
        let tx = self.write_transaction()?;
        let duplicate_of = require_activity(&tx, athlete_id, id)?;
        let split: Vec<i64> = if duplicate_of.is_some() {
            vec![id]
        } else {
            let mut stmt = tx.prepare("SELECT id FROM activities WHERE duplicate_of = ?1")?;
            stmt.query_map([id], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        if split.is_empty() {
            return Err(StoreError::NotMerged(id));
        }
        for s in &split {
            tx.execute(
                "UPDATE activities SET duplicate_of = NULL, duplicate_source = 'user'
                 WHERE id = ?1",
                [s],
            )?;
        }
        tx.commit()?;
        Ok(split)
    }
}

/// The activity's `duplicate_of`, or an error when the athlete has no activity `id`.
fn require_activity(
    tx: &Transaction<'_>,
    athlete_id: i64,
    id: i64,
) -> Result<Option<i64>, StoreError> {
    tx.query_row(
        "SELECT duplicate_of FROM activities WHERE athlete_id = ?1 AND id = ?2",
        params![athlete_id, id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::ActivityNotFound(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: i64, start: i64, elapsed_s: f64, richness: u8) -> Recording {
        Recording {
            id,
            source_path: format!("{id}.fit"),
            sport: "ride".into(),
            start,
            elapsed_s,
            richness,
            duplicate_of: None,
            user_decided: false,
        }
    }

    #[test]
    fn same_ride_needs_most_of_the_shorter_recording_to_overlap() {
        let head_unit = rec(1, 0, 3600.0, 4);
        // A watch started 5 min late and stopped 5 min early: all of it overlaps.
        assert!(head_unit.same_ride(&rec(2, 300, 3000.0, 3)));
        // Exactly 80 % of the shorter one overlaps; 79 % does not.
        assert!(head_unit.same_ride(&rec(3, 3600 - 1600, 2000.0, 3)));
        assert!(!head_unit.same_ride(&rec(4, 3600 - 1580, 2000.0, 3)));
        // A short ride inside a long recording is a ride of its own.
        assert!(!head_unit.same_ride(&rec(7, 600, 1700.0, 3)));
        // A run at the same time is another activity.
        let mut run = rec(5, 0, 3600.0, 3);
        run.sport = "run".into();
        assert!(!head_unit.same_ride(&run));
        // Zero-length recordings overlap nothing.
        assert!(!head_unit.same_ride(&rec(6, 10, 0.0, 3)));
    }

    #[test]
    fn richest_then_longest_then_first_imported_is_kept() {
        let best = |rs: &[Recording]| rs.iter().max_by_key(|r| r.rank()).unwrap().id;
        assert_eq!(best(&[rec(1, 0, 3600.0, 3), rec(2, 0, 3000.0, 4)]), 2);
        assert_eq!(best(&[rec(1, 0, 3000.0, 4), rec(2, 0, 3600.0, 4)]), 2);
        assert_eq!(best(&[rec(1, 0, 3600.0, 4), rec(2, 0, 3600.0, 4)]), 1);
        assert_eq!(best(&[rec(1, 0, 3600.0, 0), rec(2, 0, 60.0, 1)]), 2);
    }
}
