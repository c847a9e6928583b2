//! Pure training metrics over typed rides. Every variant choice is named in the function docs
//! and pinned by a unit test (see reference/metrics.md). No I/O, no clocks: callers pass `as_of`.

pub mod summary;

pub use summary::*;
