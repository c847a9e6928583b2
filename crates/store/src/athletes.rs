//! Athletes: who the activities belong to, and their profile as canonical JSON.

use rusqlite::{OptionalExtension, Row, params};

use crate::{Store, StoreError, now_rfc3339};

/// Name given to the athlete created when none exists yet.
pub const DEFAULT_ATHLETE_NAME: &str = "default";

#[derive(Debug, Clone, PartialEq)]
pub struct Athlete {
    pub id: i64,
    pub name: String,
    /// The profile as stored (canonical JSON), if one was saved.
    pub profile_json: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Athlete {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Athlete> {
        Ok(Athlete {
            id: r.get(0)?,
            name: r.get(1)?,
            profile_json: r.get(2)?,
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
        })
    }
}

const COLUMNS: &str = "id, name, profile_json, created_at, updated_at";

/// Canonical JSON: `serde_json::Value` keeps object keys sorted (no `preserve_order`), and the
/// compact writer adds no whitespace, so equal profiles give byte-equal text.
fn canonical_json(value: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Json {
        what: "athlete profile",
        source,
    })
}

impl Store {
    pub fn athlete(&self, id: i64) -> Result<Option<Athlete>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM athletes WHERE id = ?1"),
                [id],
                Athlete::from_row,
            )
            .optional()?)
    }

    pub fn athlete_by_name(&self, name: &str) -> Result<Option<Athlete>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM athletes WHERE name = ?1"),
                [name],
                Athlete::from_row,
            )
            .optional()?)
    }

    /// All athletes, by id.
    pub fn athletes(&self) -> Result<Vec<Athlete>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM athletes ORDER BY id"))?;
        let rows = stmt.query_map([], Athlete::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Create the athlete `name`, or update its profile when it exists. `profile` of `None`
    /// leaves a stored profile as it is. Any serialisable value works; pass the
    /// `ride::profile::Profile` through [`serde_json::to_value`].
    pub fn upsert_athlete(
        &mut self,
        name: &str,
        profile: Option<&serde_json::Value>,
    ) -> Result<Athlete, StoreError> {
        let json = profile.map(canonical_json).transpose()?;
        let now = now_rfc3339();
        self.conn.execute(
            "INSERT INTO athletes (name, profile_json, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(name) DO UPDATE SET
                profile_json = coalesce(excluded.profile_json, athletes.profile_json),
                updated_at = CASE WHEN excluded.profile_json IS NULL
                                    OR excluded.profile_json IS athletes.profile_json
                                  THEN athletes.updated_at ELSE excluded.updated_at END",
            params![name, json, now],
        )?;
        self.athlete_by_name(name)?
            .ok_or_else(|| StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    /// The athlete commands use when none is named: the first one created, or a new athlete
    /// called [`DEFAULT_ATHLETE_NAME`] in an empty database.
    pub fn default_athlete(&mut self) -> Result<Athlete, StoreError> {
        let first = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM athletes ORDER BY id LIMIT 1"),
                [],
                Athlete::from_row,
            )
            .optional()?;
        match first {
            Some(a) => Ok(a),
            None => self.upsert_athlete(DEFAULT_ATHLETE_NAME, None),
        }
    }

    /// Error unless the athlete exists: the importer and queries check this up front so a wrong
    /// id is reported as such rather than as a foreign-key failure.
    pub(crate) fn require_athlete(&self, id: i64) -> Result<(), StoreError> {
        match self.athlete(id)? {
            Some(_) => Ok(()),
            None => Err(StoreError::AthleteNotFound(id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_keeps_one_row_and_canonicalises_profile() {
        let mut s = Store::open_in_memory().unwrap();
        let a = s.upsert_athlete("ann", None).unwrap();
        assert_eq!(a.profile_json, None);
        let p = serde_json::json!({"ftp": 250, "age": 40});
        let b = s.upsert_athlete("ann", Some(&p)).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(b.profile_json.as_deref(), Some(r#"{"age":40,"ftp":250}"#));
        // None keeps the stored profile.
        let c = s.upsert_athlete("ann", None).unwrap();
        assert_eq!(c.profile_json, b.profile_json);
        assert_eq!(s.athletes().unwrap().len(), 1);
    }

    #[test]
    fn default_athlete_is_created_once_then_first() {
        let mut s = Store::open_in_memory().unwrap();
        let d = s.default_athlete().unwrap();
        assert_eq!(d.name, DEFAULT_ATHLETE_NAME);
        s.upsert_athlete("bob", None).unwrap();
        assert_eq!(s.default_athlete().unwrap().id, d.id);
        assert!(matches!(
            s.require_athlete(999),
            Err(StoreError::AthleteNotFound(999))
        ));
    }
}
