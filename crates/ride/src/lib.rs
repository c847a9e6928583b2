//! Ride file formats → typed activities.
//!
//! - [`model`]: the typed activity every format decodes into.
//! - `fit`: FIT / `.fit.gz` stream decoding (behind our own module) and FIT writing.
//! - `tcx`, `gpx`: TCX and GPX (+ `.gz`) decoding into the same activity, on `xml`'s shared
//!   helpers; `track_write` writes an activity back as TCX or GPX.
//! - `activity_file`: any of the three formats, recognised by content.
//! - `strava`: Strava bulk export `activities.csv`.
//! - `profile`: the athlete profile JSON.
//! - [`fs::write_atomic`]: files written through a temporary file and a rename.

pub mod activity_file;
pub mod fit;
pub mod fit_encode;
pub mod fs;
pub mod gpx;
mod gz;
pub mod model;
pub mod profile;
pub mod strava;
pub mod tcx;
pub mod track_write;
pub mod xml;

pub use model::*;
