//! Athletes: who the activities belong to, and their profile as canonical JSON. One store can
//! hold several (a coach's roster); commands work for the one named with `--athlete`, else the
//! one in use ([`Store::use_athlete`]), else the only one ([`Store::resolve_athlete`]).

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

/// Longest athlete name accepted.
pub const MAX_ATHLETE_NAME_CHARS: usize = 64;

/// What is stored for one athlete: the counts `athlete list` shows and `athlete remove` deletes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AthleteCounts {
    pub activities: u64,
    pub plans: u64,
    pub chat_sessions: u64,
    pub import_runs: u64,
}

/// Check a name for use as an athlete's name: it also names the athlete's report folder
/// (`reports/<name>/`) and appears in tables, so path separators, control characters, a leading
/// dot and surrounding spaces are refused.
pub fn validate_athlete_name(name: &str) -> Result<(), StoreError> {
    let invalid = |reason| {
        Err(StoreError::InvalidAthleteName {
            name: name.to_string(),
            reason,
        })
    };
    if name.trim().is_empty() {
        return invalid("empty");
    }
    if name.trim() != name {
        return invalid("leading or trailing spaces");
    }
    if name.chars().count() > MAX_ATHLETE_NAME_CHARS {
        return invalid("longer than 64 characters");
    }
    if name.starts_with('.') {
        return invalid("starts with a dot");
    }
    if name.chars().any(|c| {
        c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
    }) {
        return invalid("contains a control character or one of / \\ : * ? \" < > |");
    }
    Ok(())
}

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

    /// Create the athlete `name`; an error when one of that name exists.
    pub fn create_athlete(
        &mut self,
        name: &str,
        profile: Option<&serde_json::Value>,
    ) -> Result<Athlete, StoreError> {
        validate_athlete_name(name)?;
        if self.athlete_by_name(name)?.is_some() {
            return Err(StoreError::AthleteExists(name.to_string()));
        }
        self.upsert_athlete(name, profile)
    }

    /// Create the athlete `name`, or update its profile when it exists. `profile` of `None`
    /// leaves a stored profile as it is. Any serialisable value works; pass the
    /// `ride::profile::Profile` through [`serde_json::to_value`].
    pub fn upsert_athlete(
        &mut self,
        name: &str,
        profile: Option<&serde_json::Value>,
    ) -> Result<Athlete, StoreError> {
        validate_athlete_name(name)?;
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

    /// The athlete in use (`athlete use`), else the first one created, else a new athlete called
    /// [`DEFAULT_ATHLETE_NAME`] in an empty database. Commands resolve through
    /// [`Store::resolve_athlete`], which refuses to guess among several.
    pub fn default_athlete(&mut self) -> Result<Athlete, StoreError> {
        if let Some(a) = self.athlete_in_use()? {
            return Ok(a);
        }
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

    /// The athlete a command works for: `name` when given (it must exist), else the one in use,
    /// else the only one; an empty store gets an athlete called [`DEFAULT_ATHLETE_NAME`]. With
    /// several athletes and none in use, an error lists them.
    pub fn resolve_athlete(&mut self, name: Option<&str>) -> Result<Athlete, StoreError> {
        if let Some(name) = name {
            return self
                .athlete_by_name(name)?
                .ok_or_else(|| StoreError::UnknownAthlete {
                    name: name.to_string(),
                    known: self.athlete_names().unwrap_or_default(),
                });
        }
        if let Some(a) = self.athlete_in_use()? {
            return Ok(a);
        }
        let mut all = self.athletes()?;
        match all.len() {
            0 => self.upsert_athlete(DEFAULT_ATHLETE_NAME, None),
            1 => Ok(all.remove(0)),
            _ => Err(StoreError::AthleteNotChosen {
                names: all.into_iter().map(|a| a.name).collect(),
            }),
        }
    }

    /// Every athlete's name, by id.
    pub fn athlete_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.athletes()?.into_iter().map(|a| a.name).collect())
    }

    /// The athlete chosen with [`Store::use_athlete`], if any.
    pub fn athlete_in_use(&self) -> Result<Option<Athlete>, StoreError> {
        let cols = COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {cols} FROM athlete_in_use u JOIN athletes a ON a.id = u.athlete_id"
                ),
                [],
                Athlete::from_row,
            )
            .optional()?)
    }

    /// Make `name` the athlete commands work for when none is named.
    pub fn use_athlete(&mut self, name: &str) -> Result<Athlete, StoreError> {
        let athlete = self.resolve_athlete(Some(name))?;
        self.conn.execute(
            "INSERT INTO athlete_in_use (singleton, athlete_id, chosen_at) VALUES (1, ?1, ?2)
             ON CONFLICT(singleton) DO UPDATE SET athlete_id = excluded.athlete_id,
                                                  chosen_at = excluded.chosen_at",
            params![athlete.id, now_rfc3339()],
        )?;
        Ok(athlete)
    }

    /// What is stored for athlete `id`.
    pub fn athlete_counts(&self, id: i64) -> Result<AthleteCounts, StoreError> {
        // Table names are our own constants; the id is bound.
        let count = |table: &str| -> Result<u64, StoreError> {
            let n: i64 = self.conn.query_row(
                &format!("SELECT count(*) FROM {table} WHERE athlete_id = ?1"),
                [id],
                |r| r.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok(AthleteCounts {
            activities: count("activities")?,
            plans: count("plans")?,
            chat_sessions: count("chat_sessions")?,
            import_runs: count("import_runs")?,
        })
    }

    /// Delete the athlete `name` and everything stored for them (activities with their metrics,
    /// laps and curves, plans, chat sessions, import runs: the schema cascades), in one
    /// transaction. Returns what was deleted.
    pub fn remove_athlete(&mut self, name: &str) -> Result<(Athlete, AthleteCounts), StoreError> {
        let athlete = self.resolve_athlete(Some(name))?;
        let counts = self.athlete_counts(athlete.id)?;
        let tx = self.write_transaction()?;
        tx.execute("DELETE FROM athletes WHERE id = ?1", [athlete.id])?;
        tx.commit()?;
        Ok((athlete, counts))
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
    fn resolution_names_uses_or_refuses_to_guess() {
        let mut s = Store::open_in_memory().unwrap();
        // An empty store gets the default athlete, as before.
        let d = s.resolve_athlete(None).unwrap();
        assert_eq!(d.name, DEFAULT_ATHLETE_NAME);
        let ann = s.create_athlete("ann", None).unwrap();
        let err = s.resolve_athlete(None).unwrap_err().to_string();
        assert!(err.contains("2 athletes (default, ann)"), "{err}");
        assert_eq!(s.resolve_athlete(Some("ann")).unwrap().id, ann.id);
        let err = s.resolve_athlete(Some("bob")).unwrap_err().to_string();
        assert!(err.contains("no athlete named `bob`"), "{err}");
        assert!(err.contains("athletes: default, ann"), "{err}");
        s.use_athlete("ann").unwrap();
        assert_eq!(s.resolve_athlete(None).unwrap().id, ann.id);
        assert_eq!(s.default_athlete().unwrap().id, ann.id);
        // Removing the athlete in use leaves none in use; the only one left is then the default.
        let (removed, _) = s.remove_athlete("ann").unwrap();
        assert_eq!(removed.id, ann.id);
        assert!(s.athlete_in_use().unwrap().is_none());
        assert_eq!(s.resolve_athlete(None).unwrap().id, d.id);
        assert!(matches!(
            s.create_athlete("default", None),
            Err(StoreError::AthleteExists(_))
        ));
    }

    #[test]
    fn removing_an_athlete_deletes_their_plans_and_sessions_and_nobody_elses() {
        let mut s = Store::open_in_memory().unwrap();
        let ann = s.create_athlete("ann", None).unwrap();
        let bob = s.create_athlete("bob", None).unwrap();
        for a in [&ann, &bob] {
            s.save_plan(a.id, "2026-01-05", "2026-03-29", "offline", "{}")
                .unwrap();
            s.save_session(&crate::SessionWrite {
                id: &format!("session-{}", a.name),
                athlete_id: a.id,
                provider: "replay",
                model: "m",
                title: None,
                turns: 1,
                messages_json: "[]",
                usage_json: "{}",
            })
            .unwrap();
        }
        let (_, deleted) = s.remove_athlete("ann").unwrap();
        assert_eq!((deleted.plans, deleted.chat_sessions), (1, 1));
        assert_eq!(s.athlete_counts(ann.id).unwrap(), AthleteCounts::default());
        let left = s.athlete_counts(bob.id).unwrap();
        assert_eq!((left.plans, left.chat_sessions), (1, 1));
        assert!(matches!(
            s.remove_athlete("ann"),
            Err(StoreError::UnknownAthlete { .. })
        ));
    }

    #[test]
    fn names_that_cannot_name_a_folder_are_refused() {
        for bad in [
            "",
            " ann",
            "a/b",
            "..",
            ".hidden",
            "tab\there",
            &"x".repeat(65),
        ] {
            assert!(
                matches!(
                    validate_athlete_name(bad),
                    Err(StoreError::InvalidAthleteName { .. })
                ),
                "{bad:?}"
            );
        }
        for good in ["ann", "Ann Smith", "rider-07", "Zoë_2"] {
            validate_athlete_name(good).unwrap();
        }
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
