//! The store's error type. Every message names what it is about: the database file, the
//! activity id, the import directory or the CSV file.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: cannot create the data directory: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: cannot open the database: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "{path}: the database has schema version {found}, newer than the {supported} this build of \
         cycling-ai understands; upgrade cycling-ai (the database was not modified)"
    )]
    SchemaTooNew {
        path: String,
        found: u32,
        supported: u32,
    },

    #[error("{path}: applying schema migration {version} ({name}) failed: {source}")]
    Migration {
        path: String,
        version: u32,
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },

    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("activity {id}: stored {what} is unreadable: {reason}")]
    CorruptRow {
        id: i64,
        what: &'static str,
        reason: String,
    },

    #[error("activity {0} does not exist")]
    ActivityNotFound(i64),

    #[error("activity {0} cannot be merged with itself")]
    MergeWithItself(i64),

    #[error("activity {0} is not merged with any other activity")]
    NotMerged(i64),

    #[error("athlete id {0} does not exist")]
    AthleteNotFound(i64),

    #[error(
        "no athlete named `{name}` in this store ({}); add one with `cycling-ai athlete add NAME`",
        known_list(.known)
    )]
    UnknownAthlete { name: String, known: Vec<String> },

    #[error(
        "this store holds {} athletes ({}) and none is in use: pass --athlete NAME, or choose one \
         with `cycling-ai athlete use NAME`",
        .names.len(),
        .names.join(", ")
    )]
    AthleteNotChosen { names: Vec<String> },

    #[error("athlete name {name:?}: {reason}")]
    InvalidAthleteName { name: String, reason: &'static str },

    #[error("an athlete named `{0}` already exists")]
    AthleteExists(String),
    #[error("plan {0} does not exist")]
    PlanNotFound(i64),

    #[error("cannot serialise {what} to JSON: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: no activities.csv and no .fit/.fit.gz files found", .0.display())]
    NoActivities(PathBuf),

    #[error(transparent)]
    Strava(#[from] ride::strava::StravaError),
}

/// "athletes: a, b" or "it holds no athlete yet".
fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "it holds no athlete yet".to_string()
    } else {
        format!("athletes: {}", known.join(", "))
    }
}
