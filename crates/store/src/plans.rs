//! Training plans made by `generate`, kept so `chat` can compare what was planned with what was
//! ridden. The plan is stored as the coach's JSON; the store only indexes its date range.

use rusqlite::{OptionalExtension, Row, params};

use crate::{Store, StoreError, now_rfc3339};

/// A stored plan.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPlan {
    pub id: i64,
    pub athlete_id: i64,
    pub created_at: String,
    /// First day (YYYY-MM-DD).
    pub start_date: String,
    /// Last day (YYYY-MM-DD).
    pub end_date: String,
    /// Who designed it: `offline` or `<provider> <model>`.
    pub source: String,
    pub plan_json: String,
    /// The version this one replaces (`plan adapt`); `None` for a plan made from scratch.
    pub parent_id: Option<i64>,
    /// 1 for a new plan, one more than its parent's for an adapted one.
    pub version: i64,
    /// What changed and why (adapted versions).
    pub change_note: Option<String>,
}

impl StoredPlan {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredPlan> {
        Ok(StoredPlan {
            id: r.get(0)?,
            athlete_id: r.get(1)?,
            created_at: r.get(2)?,
            start_date: r.get(3)?,
            end_date: r.get(4)?,
            source: r.get(5)?,
            plan_json: r.get(6)?,
            parent_id: r.get(7)?,
            version: r.get(8)?,
            change_note: r.get(9)?,
        })
    }
}

const COLUMNS: &str = "id, athlete_id, created_at, start_date, end_date, source, plan_json, \
                       parent_id, version, change_note";

/// A new version of a stored plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanVersion<'a> {
    /// The version it replaces (the athlete's own plan).
    pub parent_id: i64,
    pub start_date: &'a str,
    pub end_date: &'a str,
    pub source: &'a str,
    pub plan_json: &'a str,
    pub change_note: &'a str,
}

impl Store {
    /// Keep a plan; returns its id. Dates are `YYYY-MM-DD`.
    pub fn save_plan(
        &mut self,
        athlete_id: i64,
        start_date: &str,
        end_date: &str,
        source: &str,
        plan_json: &str,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO plans (athlete_id, created_at, start_date, end_date, source, plan_json) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                athlete_id,
                now_rfc3339(),
                start_date,
                end_date,
                source,
                plan_json
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Keep an adapted plan as the next version of `v.parent_id` (which stays stored); returns
    /// its id. The parent must be one of the athlete's plans.
    pub fn save_plan_version(
        &mut self,
        athlete_id: i64,
        v: &PlanVersion<'_>,
    ) -> Result<i64, StoreError> {
        let parent = self
            .plan(athlete_id, v.parent_id)?
            .ok_or(StoreError::PlanNotFound(v.parent_id))?;
        self.conn.execute(
            "INSERT INTO plans (athlete_id, created_at, start_date, end_date, source, plan_json, \
             parent_id, version, change_note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                athlete_id,
                now_rfc3339(),
                v.start_date,
                v.end_date,
                v.source,
                v.plan_json,
                parent.id,
                parent.version + 1,
                v.change_note
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// One of the athlete's plans by id (`None` for another athlete's).
    pub fn plan(&self, athlete_id: i64, id: i64) -> Result<Option<StoredPlan>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM plans WHERE athlete_id = ?1 AND id = ?2"),
                params![athlete_id, id],
                StoredPlan::from_row,
            )
            .optional()?)
    }

    /// The versions of the plan `id`, oldest first, ending with `id` itself: its parent, the
    /// parent's parent, … back to the plan made from scratch.
    pub fn plan_versions(&self, athlete_id: i64, id: i64) -> Result<Vec<StoredPlan>, StoreError> {
        let mut out = Vec::new();
        let mut next = Some(id);
        while let Some(i) = next {
            // A damaged chain (a cycle) cannot loop forever.
            if out.iter().any(|p: &StoredPlan| p.id == i) {
                break;
            }
            let Some(p) = self.plan(athlete_id, i)? else {
                break;
            };
            next = p.parent_id;
            out.push(p);
        }
        out.reverse();
        Ok(out)
    }

    /// The most recently made plan of an athlete.
    pub fn latest_plan(&self, athlete_id: i64) -> Result<Option<StoredPlan>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM plans WHERE athlete_id = ?1 ORDER BY id DESC LIMIT 1"
                ),
                [athlete_id],
                StoredPlan::from_row,
            )
            .optional()?)
    }

    /// The newest plan covering `date` (YYYY-MM-DD), if any.
    pub fn plan_covering(
        &self,
        athlete_id: i64,
        date: &str,
    ) -> Result<Option<StoredPlan>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM plans WHERE athlete_id = ?1 AND start_date <= ?2 \
                     AND end_date >= ?2 ORDER BY id DESC LIMIT 1"
                ),
                params![athlete_id, date],
                StoredPlan::from_row,
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_and_covering_plans() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let a = store.upsert_athlete("a", None).unwrap().id;
        let b = store.upsert_athlete("b", None).unwrap().id;
        assert!(store.latest_plan(a).unwrap().is_none());
        let first = store
            .save_plan(a, "2026-01-05", "2026-03-29", "offline", "{\"n\":1}")
            .unwrap();
        let second = store
            .save_plan(a, "2026-03-30", "2026-05-24", "bedrock m", "{\"n\":2}")
            .unwrap();
        store
            .save_plan(b, "2026-01-05", "2026-12-27", "offline", "{\"n\":3}")
            .unwrap();
        assert_eq!(store.latest_plan(a).unwrap().unwrap().id, second);
        assert_eq!(
            store.plan_covering(a, "2026-02-01").unwrap().unwrap().id,
            first
        );
        assert_eq!(
            store
                .plan_covering(a, "2026-05-24")
                .unwrap()
                .unwrap()
                .source,
            "bedrock m"
        );
        assert!(store.plan_covering(a, "2026-06-01").unwrap().is_none());
    }

    #[test]
    fn an_adapted_plan_is_a_new_version_and_the_old_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let a = store.upsert_athlete("a", None).unwrap().id;
        let b = store.upsert_athlete("b", None).unwrap().id;
        let v1 = store
            .save_plan(a, "2026-01-05", "2026-03-29", "offline", "{\"n\":1}")
            .unwrap();
        let version = |parent_id, note| PlanVersion {
            parent_id,
            start_date: "2026-01-05",
            end_date: "2026-04-12",
            source: "offline (adapted)",
            plan_json: "{\"n\":2}",
            change_note: note,
        };
        let v2 = store
            .save_plan_version(a, &version(v1, "week 3: missed"))
            .unwrap();
        let v3 = store
            .save_plan_version(a, &version(v2, "event moved"))
            .unwrap();
        assert_eq!(store.latest_plan(a).unwrap().unwrap().id, v3);
        let line = store.plan_versions(a, v3).unwrap();
        assert_eq!(line.iter().map(|p| p.id).collect::<Vec<_>>(), [v1, v2, v3]);
        assert_eq!(
            line.iter().map(|p| p.version).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(line[0].parent_id, None);
        assert_eq!(line[2].change_note.as_deref(), Some("event moved"));
        assert_eq!(line[0].plan_json, "{\"n\":1}");
        // Another athlete's plan is neither a parent nor listed.
        assert!(store.save_plan_version(b, &version(v1, "x")).is_err());
        assert!(store.plan_versions(b, v3).unwrap().is_empty());
    }
}
