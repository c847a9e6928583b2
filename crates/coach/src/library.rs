//! Our workout library, kept as data (`data/workouts.json`, compiled in) and parsed once.
//!
//! Each library workout is a warm-up block + a main set + a cool-down block (blocks are shared
//! and named in the file), with selection metadata: the phases it suits, the duration range it
//! can be fitted to, and how it is fitted:
//!
//! - [`Fit::Stretch`] (endurance, long rides, recovery, strength): the longest top-level steady
//!   step of the main set grows or shrinks so the workout lasts the day's duration, within
//!   `[min_minutes, max_minutes]`;
//! - [`Fit::Extend`] (interval sessions): the intervals stay exactly as written — a 5 × 3 min
//!   VO2max set is never "scaled" into something else — and zone 2 riding is inserted before the
//!   cool-down to fill a longer day, up to `max_minutes`; `min_minutes` is the written duration.
//!
//! Strength workouts are gym sessions, represented as one `Work` step at 0 % FTP for their
//! duration: they occupy the day and count toward weekly hours, but carry no planned power load
//! (TSS 0) and are not meant for export to a bike computer.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;
use thiserror::Error;

use crate::plan::{Phase, Step, StepKind, Workout, WorkoutType};
use crate::planned_tss::{duration_s, step_duration_s};

/// The library file, compiled into the binary.
pub const WORKOUTS_JSON: &str = include_str!("../data/workouts.json");

/// Shortest a stretched step may become, seconds.
const MIN_STRETCH_STEP_S: u32 = 300;
/// Power of the zone 2 riding added to extended workouts, %FTP.
const FILL_LOW_PCT: f64 = 65.0;
const FILL_HIGH_PCT: f64 = 72.0;

#[derive(Debug, Error)]
pub enum LibraryError {
    #[error("workout library: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("workout library: workout {id:?}: {message}")]
    Workout { id: String, message: String },
    #[error("workout library: {0}")]
    Library(String),
}

/// How a workout is fitted to a day's duration (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    Stretch,
    Extend,
}

/// A workout of the library with its selection metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryWorkout {
    /// Steps = warm-up block + main set + cool-down block, as written.
    pub workout: Workout,
    pub phases: Vec<Phase>,
    pub fit: Fit,
    pub min_minutes: u32,
    pub max_minutes: u32,
    /// Number of leading steps that belong to the warm-up block.
    warmup_len: usize,
    /// Number of trailing steps that belong to the cool-down block.
    cooldown_len: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    pub workouts: Vec<LibraryWorkout>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "_comment")]
    _comment: Option<String>,
    warmups: BTreeMap<String, Block>,
    cooldowns: BTreeMap<String, Block>,
    workouts: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Block {
    #[allow(dead_code)] // documentation in the data file
    name: String,
    #[allow(dead_code)]
    description: String,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    name: String,
    workout_type: WorkoutType,
    description: String,
    phases: Vec<Phase>,
    fit: Fit,
    min_minutes: u32,
    max_minutes: u32,
    warmup: Option<String>,
    main: Vec<Step>,
    cooldown: Option<String>,
}

/// The compiled-in library, parsed on first use. The file is validated by this module's tests,
/// so a failure here is a build defect, not a user error.
pub fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| match Library::parse(WORKOUTS_JSON) {
        Ok(lib) => lib,
        Err(e) => panic!("compiled-in {e}"),
    })
}

impl Library {
    /// Parses and validates a library file.
    pub fn parse(text: &str) -> Result<Library, LibraryError> {
        let file: File = serde_json::from_str(text).map_err(|e| LibraryError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        for (name, block) in file.warmups.iter().chain(file.cooldowns.iter()) {
            check_steps(&block.steps, 0)
                .map_err(|m| LibraryError::Library(format!("block {name:?}: {m}")))?;
        }
        let mut seen = HashSet::new();
        let mut workouts = Vec::with_capacity(file.workouts.len());
        for e in file.workouts {
            let err = |message: String| LibraryError::Workout {
                id: e.id.clone(),
                message,
            };
            if !seen.insert(e.id.clone()) {
                return Err(err("duplicate id".into()));
            }
            if e.workout_type == WorkoutType::Rest {
                return Err(err("a rest day is not a workout".into()));
            }
            if e.name.trim().is_empty() || e.description.trim().is_empty() {
                return Err(err("name and description must not be empty".into()));
            }
            if e.phases.is_empty() {
                return Err(err("no suitable phases".into()));
            }
            let block = |map: &BTreeMap<String, Block>, key: &Option<String>, what: &str| match key
            {
                None => Ok(Vec::new()),
                Some(k) => map
                    .get(k)
                    .map(|b| b.steps.clone())
                    .ok_or_else(|| err(format!("unknown {what} block {k:?}"))),
            };
            let warm = block(&file.warmups, &e.warmup, "warm-up")?;
            let cool = block(&file.cooldowns, &e.cooldown, "cool-down")?;
            check_steps(&e.main, 0).map_err(|m| err(format!("main set: {m}")))?;
            let (warmup_len, cooldown_len) = (warm.len(), cool.len());
            let mut steps = warm;
            steps.extend(e.main);
            steps.extend(cool);
            let written_s = duration_s(&steps);
            let (lo_s, hi_s) = (e.min_minutes * 60, e.max_minutes * 60);
            if lo_s == 0 || lo_s > hi_s {
                return Err(err(format!(
                    "min_minutes {} / max_minutes {} is not a range",
                    e.min_minutes, e.max_minutes
                )));
            }
            if written_s < lo_s || written_s > hi_s {
                return Err(err(format!(
                    "written duration {} s is outside {}–{} min",
                    written_s, e.min_minutes, e.max_minutes
                )));
            }
            let lw = LibraryWorkout {
                workout: Workout {
                    id: e.id.clone(),
                    name: e.name,
                    workout_type: e.workout_type,
                    description: e.description,
                    steps,
                },
                phases: e.phases,
                fit: e.fit,
                min_minutes: e.min_minutes,
                max_minutes: e.max_minutes,
                warmup_len,
                cooldown_len,
            };
            match lw.fit {
                Fit::Extend if written_s != lo_s => {
                    return Err(err(format!(
                        "an extend-fit workout's min_minutes must be its written duration ({written_s} s)"
                    )));
                }
                Fit::Stretch => {
                    let Some(i) = lw.stretch_index() else {
                        return Err(err(
                            "a stretch-fit workout needs a top-level steady step in its main set"
                                .into(),
                        ));
                    };
                    let shrink = written_s - lo_s;
                    if step_duration_s(&lw.workout.steps[i]) < shrink + MIN_STRETCH_STEP_S {
                        return Err(err(format!(
                            "cannot shrink to {} min: its stretch step would drop below {} s",
                            e.min_minutes, MIN_STRETCH_STEP_S
                        )));
                    }
                }
                Fit::Extend => {}
            }
            workouts.push(lw);
        }
        let lib = Library { workouts };
        for t in ALL_TYPES {
            if lib.of_type(t).next().is_none() {
                return Err(LibraryError::Library(format!("no workout of type {t:?}")));
            }
        }
        Ok(lib)
    }

    pub fn get(&self, id: &str) -> Option<&LibraryWorkout> {
        self.workouts.iter().find(|w| w.workout.id == id)
    }

    pub fn of_type(&self, t: WorkoutType) -> impl Iterator<Item = &LibraryWorkout> {
        self.workouts
            .iter()
            .filter(move |w| w.workout.workout_type == t)
    }
}

/// Every workout type the library must cover (all but `Rest`).
pub const ALL_TYPES: [WorkoutType; 10] = [
    WorkoutType::Recovery,
    WorkoutType::Endurance,
    WorkoutType::LongRide,
    WorkoutType::Tempo,
    WorkoutType::SweetSpot,
    WorkoutType::Threshold,
    WorkoutType::Vo2max,
    WorkoutType::Anaerobic,
    WorkoutType::Sprint,
    WorkoutType::Strength,
];

fn check_steps(steps: &[Step], depth: u32) -> Result<(), String> {
    if steps.is_empty() {
        return Err("empty step list".into());
    }
    if depth > 2 {
        return Err("repeats nested more than two deep".into());
    }
    let pct = |p: f64| p.is_finite() && (0.0..=400.0).contains(&p);
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Steady {
                duration_s,
                power_low_pct,
                power_high_pct,
                ..
            } => {
                if *duration_s == 0
                    || !pct(*power_low_pct)
                    || !pct(*power_high_pct)
                    || power_low_pct > power_high_pct
                {
                    return Err(format!(
                        "step {i}: needs a duration and 0 ≤ low ≤ high ≤ 400 %"
                    ));
                }
            }
            Step::Ramp {
                duration_s,
                from_pct,
                to_pct,
                ..
            } => {
                if *duration_s == 0 || !pct(*from_pct) || !pct(*to_pct) {
                    return Err(format!(
                        "step {i}: ramp needs a duration and powers in 0–400 %"
                    ));
                }
            }
            Step::Repeat { times, steps } => {
                if *times == 0 {
                    return Err(format!("step {i}: repeat 0 times"));
                }
                check_steps(steps, depth + 1).map_err(|m| format!("step {i}: {m}"))?;
            }
        }
    }
    Ok(())
}

impl LibraryWorkout {
    /// Written duration, seconds.
    pub fn written_s(&self) -> u32 {
        duration_s(&self.workout.steps)
    }

    pub fn suits(&self, phase: Phase) -> bool {
        self.phases.contains(&phase)
    }

    /// The duration (seconds) this workout would have when fitted to `target_s`.
    pub fn fitted_s(&self, target_s: u32) -> u32 {
        let lo = match self.fit {
            Fit::Stretch => self.min_minutes * 60,
            Fit::Extend => self.written_s(),
        };
        // Whole minutes: plans are read by people.
        let t = (target_s + 30) / 60 * 60;
        t.clamp(lo, self.max_minutes * 60)
    }

    /// Index (in the composed steps) of the step a stretch-fit workout stretches: the longest
    /// top-level steady step of the main set, the first of equals.
    fn stretch_index(&self) -> Option<usize> {
        let main = self.warmup_len..self.workout.steps.len() - self.cooldown_len;
        let mut best: Option<(usize, u32)> = None;
        for i in main {
            if let Step::Steady { duration_s, .. } = self.workout.steps[i]
                && best.is_none_or(|(_, d)| duration_s > d)
            {
                best = Some((i, duration_s));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The workout fitted to a day of `target_s` seconds (see [`LibraryWorkout::fitted_s`]).
    pub fn fitted(&self, target_s: u32) -> Workout {
        let want = self.fitted_s(target_s);
        let written = self.written_s();
        let mut w = self.workout.clone();
        if want == written {
            return w;
        }
        match self.fit {
            Fit::Stretch => {
                if let Some(i) = self.stretch_index()
                    && let Step::Steady { duration_s, .. } = &mut w.steps[i]
                {
                    // `want ≥ min`, and parsing checked that shrinking to min keeps this step
                    // at least MIN_STRETCH_STEP_S long, so this cannot underflow.
                    *duration_s = *duration_s + want - written;
                }
            }
            Fit::Extend => {
                let extra = want - written;
                let at = w.steps.len() - self.cooldown_len;
                w.steps.insert(
                    at,
                    Step::Steady {
                        kind: StepKind::Steady,
                        duration_s: extra,
                        power_low_pct: FILL_LOW_PCT,
                        power_high_pct: FILL_HIGH_PCT,
                    },
                );
                w.description = format!(
                    "{} Then {} min of zone 2 riding before the cool-down to fill the day.",
                    w.description,
                    extra / 60
                );
            }
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planned_tss::planned_tss;

    #[test]
    fn compiled_in_library_is_valid_and_covers_every_type() {
        let lib = Library::parse(WORKOUTS_JSON).unwrap();
        assert!(
            (50..=70).contains(&lib.workouts.len()),
            "{}",
            lib.workouts.len()
        );
        for t in ALL_TYPES {
            let n = lib.of_type(t).count();
            assert!(n >= 4, "{t:?}: {n}");
        }
        // Every type but the long ride (1.5 h and up by definition) can fill a 45-minute
        // weekday slot within 10 minutes, and the steady types a five-hour day.
        assert!(
            lib.of_type(WorkoutType::LongRide)
                .any(|w| w.fitted_s(5400) == 5400)
        );
        for t in ALL_TYPES
            .into_iter()
            .filter(|t| *t != WorkoutType::LongRide)
        {
            let best = lib.of_type(t).map(|w| w.fitted_s(2700)).min().unwrap();
            assert!(best <= 2700 + 600, "{t:?}: shortest fit {best} s");
        }
        for t in [WorkoutType::Endurance, WorkoutType::LongRide] {
            assert!(
                lib.of_type(t).any(|w| w.fitted_s(5 * 3600) == 5 * 3600),
                "{t:?}"
            );
        }
    }

    #[test]
    fn interval_sets_stay_sets() {
        let lib = library();
        let w = lib.get("spr_8x10s").unwrap();
        let reps: Vec<u32> = w
            .workout
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Repeat { times, .. } => Some(*times),
                _ => None,
            })
            .collect();
        // The spin-up set of the warm-up, then the eight sprints.
        assert_eq!(reps, vec![3, 8]);
    }

    #[test]
    fn stretch_fit_changes_only_the_main_steady_step() {
        let lib = library();
        let w = lib.get("end_z2_steady").unwrap();
        assert_eq!(w.written_s(), 70 * 60);
        let f = w.fitted(2 * 3600);
        assert_eq!(duration_s(&f.steps), 7200);
        assert_eq!(f.steps.len(), w.workout.steps.len());
        let f = w.fitted(45 * 60);
        assert_eq!(duration_s(&f.steps), 45 * 60);
        // Clamped to the range.
        assert_eq!(duration_s(&w.fitted(60).steps), 40 * 60);
        assert_eq!(duration_s(&w.fitted(10 * 3600).steps), 480 * 60);
        // One hour of it is a normal endurance TSS.
        let tss = planned_tss(&w.fitted(3600).steps);
        assert!((40.0..=55.0).contains(&tss), "{tss}");
    }

    #[test]
    fn extend_fit_keeps_the_intervals_and_adds_zone_2() {
        let lib = library();
        let w = lib.get("vo2_5x3").unwrap();
        assert_eq!(w.written_s(), 60 * 60);
        // Never shorter than written.
        assert_eq!(duration_s(&w.fitted(45 * 60).steps), 3600);
        let f = w.fitted(90 * 60);
        assert_eq!(duration_s(&f.steps), 5400);
        assert_eq!(f.steps.len(), w.workout.steps.len() + 1);
        let last = &f.steps[f.steps.len() - 1];
        assert!(matches!(
            last,
            Step::Ramp {
                kind: StepKind::Cooldown,
                ..
            }
        ));
        match &f.steps[f.steps.len() - 2] {
            Step::Steady {
                duration_s,
                power_low_pct,
                ..
            } => {
                assert_eq!(*duration_s, 1800);
                assert_eq!(*power_low_pct, FILL_LOW_PCT);
            }
            other => panic!("{other:?}"),
        }
        assert!(f.description.contains("30 min of zone 2"));
    }

    #[test]
    fn strength_is_a_gym_session_without_power_load() {
        for w in library().of_type(WorkoutType::Strength) {
            assert_eq!(planned_tss(&w.workout.steps), 0.0, "{}", w.workout.id);
        }
    }

    #[test]
    fn invalid_files_are_rejected_with_the_workout_named() {
        let bad = WORKOUTS_JSON.replacen("\"min_minutes\": 20", "\"min_minutes\": 500", 1);
        let e = Library::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("rec_easy_spin"), "{e}");
        let dup = WORKOUTS_JSON.replacen(
            "\"id\": \"rec_cadence_spin\"",
            "\"id\": \"rec_easy_spin\"",
            1,
        );
        let e = Library::parse(&dup).unwrap_err().to_string();
        assert!(e.contains("duplicate id"), "{e}");
        let e = Library::parse("{").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
