//! Chat sessions. A session is stored whole (messages and usage as JSON the chat owns) and
//! rewritten in one statement after every turn, so a crash never leaves half a turn.

use rusqlite::{OptionalExtension, Row, params};

use crate::{Store, StoreError, now_rfc3339};

/// A stored chat session.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatSession {
    pub id: String,
    pub athlete_id: i64,
    pub created_at: String,
    pub updated_at: String,
    pub provider: String,
    pub model: String,
    pub title: Option<String>,
    pub turns: u32,
    pub messages_json: String,
    pub usage_json: String,
}

impl ChatSession {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<ChatSession> {
        Ok(ChatSession {
            id: r.get(0)?,
            athlete_id: r.get(1)?,
            created_at: r.get(2)?,
            updated_at: r.get(3)?,
            provider: r.get(4)?,
            model: r.get(5)?,
            title: r.get(6)?,
            turns: r.get(7)?,
            messages_json: r.get(8)?,
            usage_json: r.get(9)?,
        })
    }
}

const COLUMNS: &str = "id, athlete_id, created_at, updated_at, provider, model, title, turns, \
                       messages_json, usage_json";

/// What the chat writes after a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionWrite<'a> {
    pub id: &'a str,
    pub athlete_id: i64,
    pub provider: &'a str,
    pub model: &'a str,
    pub title: Option<&'a str>,
    pub turns: u32,
    pub messages_json: &'a str,
    pub usage_json: &'a str,
}

impl Store {
    /// Create or replace a session (one atomic statement; `created_at` is kept on replace).
    pub fn save_session(&mut self, s: &SessionWrite<'_>) -> Result<(), StoreError> {
        let now = now_rfc3339();
        self.conn.execute(
            "INSERT INTO chat_sessions (id, athlete_id, created_at, updated_at, provider, model, \
             title, turns, messages_json, usage_json) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, \
             provider = excluded.provider, model = excluded.model, title = excluded.title, \
             turns = excluded.turns, messages_json = excluded.messages_json, \
             usage_json = excluded.usage_json",
            params![
                s.id,
                s.athlete_id,
                now,
                s.provider,
                s.model,
                s.title,
                s.turns,
                s.messages_json,
                s.usage_json
            ],
        )?;
        Ok(())
    }

    /// One session of an athlete by id.
    pub fn session(&self, athlete_id: i64, id: &str) -> Result<Option<ChatSession>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM chat_sessions WHERE athlete_id = ?1 AND id = ?2"),
                params![athlete_id, id],
                ChatSession::from_row,
            )
            .optional()?)
    }

    /// The athlete's sessions, most recently updated first.
    pub fn sessions(&self, athlete_id: i64, limit: usize) -> Result<Vec<ChatSession>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM chat_sessions WHERE athlete_id = ?1 \
             ORDER BY updated_at DESC, rowid DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![athlete_id, i64::try_from(limit).unwrap_or(i64::MAX)],
            ChatSession::from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The most recently updated session (`chat --continue`).
    pub fn latest_session(&self, athlete_id: i64) -> Result<Option<ChatSession>, StoreError> {
        Ok(self.sessions(athlete_id, 1)?.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write<'a>(id: &'a str, athlete_id: i64, turns: u32, messages: &'a str) -> SessionWrite<'a> {
        SessionWrite {
            id,
            athlete_id,
            provider: "bedrock",
            model: "m",
            title: Some("t"),
            turns,
            messages_json: messages,
            usage_json: "{}",
        }
    }

    #[test]
    fn save_replace_and_list_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let a = store.upsert_athlete("a", None).unwrap().id;
        let b = store.upsert_athlete("b", None).unwrap().id;
        store.save_session(&write("s1", a, 1, "[1]")).unwrap();
        store.save_session(&write("s2", a, 1, "[2]")).unwrap();
        store.save_session(&write("s1", a, 2, "[1,2]")).unwrap();
        store.save_session(&write("s3", b, 1, "[3]")).unwrap();
        let s1 = store.session(a, "s1").unwrap().unwrap();
        assert_eq!((s1.turns, s1.messages_json.as_str()), (2, "[1,2]"));
        // Another athlete's session is not visible.
        assert!(store.session(a, "s3").unwrap().is_none());
        let list = store.sessions(a, 10).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(store.latest_session(a).unwrap().unwrap().id, list[0].id);
    }
}
