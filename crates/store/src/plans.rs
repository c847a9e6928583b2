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
        })
    }
}

const COLUMNS: &str = "id, athlete_id, created_at, start_date, end_date, source, plan_json";

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
}
