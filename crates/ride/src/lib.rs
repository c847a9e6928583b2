//! Ride file formats → typed activities.
//!
//! - [`model`]: the typed activity every format decodes into.
//! - `fit`: FIT / `.fit.gz` stream decoding (behind our own module) and FIT writing.
//! - `strava`: Strava bulk export `activities.csv`.
//! - `profile`: the athlete profile JSON.

pub mod fit;
pub mod fit_encode;
pub mod model;
pub mod profile;
pub mod strava;

pub use model::*;
