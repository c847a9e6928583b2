//! Ride file formats → typed activities.
//!
//! - [`model`]: the typed activity every format decodes into.
//! - `fit`: FIT / `.fit.gz` stream decoding (behind our own module) and FIT writing.
//! - `strava`: Strava bulk export `activities.csv`.
//! - `profile`: the athlete profile JSON.
//! - [`fs::write_atomic`]: files written through a temporary file and a rename.

pub mod fit;
pub mod fit_encode;
pub mod fs;
pub mod model;
pub mod profile;
pub mod strava;

pub use model::*;
