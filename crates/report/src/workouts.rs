//! Planned workouts as files for bike computers and trainers, and as text for the report.
//!
//! - FIT workout files (`ride::fit_encode::WorkoutWriter`): power targets in % of FTP (FIT
//!   workout power values 0–1000 mean percent), so the device applies the athlete's own FTP;
//!   repeat blocks stay repeat blocks; a ramp becomes one step whose target range spans the ramp
//!   (FIT has no ramp target).
//! - Zwift `.zwo` files: `Warmup` / `Cooldown` / `Ramp` for ramps, `SteadyState` for steady
//!   steps, `IntervalsT` for a block of two steady steps; any other block is unrolled, since
//!   `.zwo` has no general repeat. Powers are fractions of FTP.
//!
//! Both files, the text and the report's power profile count a repeat block
//! [`coach::plan::ridden_times`] times, as planned TSS does, so they describe the same workout.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use coach::plan::{
    Step, StepKind, TrainingPlan, Workout, WorkoutType, ridden_times, segments, weekday_name,
};
use coach::planned_tss::duration_s;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use ride::fit_encode::{
    FitEncodeError, FitSport, StepDuration, StepIntensity, StepTarget, WorkoutStep, WorkoutWriter,
};

use crate::text::{self, escape};
use crate::{ReportError, io_err, write_atomic};

/// A workout written to `OUT/workouts/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub week: u32,
    pub date: Date,
    pub weekday: Weekday,
    pub name: String,
    /// File names inside `OUT/workouts/`.
    pub fit_file: String,
    pub zwo_file: String,
}

/// Number of FIT `workout_step` messages the steps become: one per step, plus one
/// "repeat until steps complete" step closing each block.
pub fn fit_step_count(steps: &[Step]) -> usize {
    steps
        .iter()
        .map(|s| match s {
            Step::Repeat { steps, .. } => fit_step_count(steps) + 1,
            _ => 1,
        })
        .sum()
}

fn pct(v: f64) -> String {
    format!("{} %", text::num(Some(v), 0))
}

/// "105 %" or "88–93 %".
pub fn pct_range(low: f64, high: f64) -> String {
    if (low - high).abs() < 0.5 {
        pct(low)
    } else {
        format!("{}–{} %", text::num(Some(low), 0), text::num(Some(high), 0))
    }
}

/// The target of a step in % FTP: "88–93 %", "50 → 75 %", or the range over a block.
pub fn step_target(step: &Step) -> String {
    match step {
        Step::Steady {
            power_low_pct,
            power_high_pct,
            ..
        } => pct_range(*power_low_pct, *power_high_pct),
        Step::Ramp {
            from_pct, to_pct, ..
        } => format!(
            "{} → {} %",
            text::num(Some(*from_pct), 0),
            text::num(Some(*to_pct), 0)
        ),
        Step::Repeat { steps, .. } => {
            let (lo, hi) = pct_bounds(steps);
            pct_range(lo, hi)
        }
    }
}

/// The same in watts at `ftp_w`: "231–244 W".
pub fn step_watts(step: &Step, ftp_w: f64) -> String {
    let w = |p: f64| text::num(Some(p / 100.0 * ftp_w), 0);
    match step {
        Step::Steady {
            power_low_pct,
            power_high_pct,
            ..
        } => {
            if (power_low_pct - power_high_pct).abs() < 0.5 {
                format!("{} W", w(*power_low_pct))
            } else {
                format!("{}–{} W", w(*power_low_pct), w(*power_high_pct))
            }
        }
        Step::Ramp {
            from_pct, to_pct, ..
        } => format!("{} → {} W", w(*from_pct), w(*to_pct)),
        Step::Repeat { steps, .. } => {
            let (lo, hi) = pct_bounds(steps);
            format!("{}–{} W", w(lo), w(hi))
        }
    }
}

fn pct_bounds(steps: &[Step]) -> (f64, f64) {
    let segs = segments(steps);
    let lo = segs
        .iter()
        .flat_map(|s| [s.from_pct, s.to_pct])
        .fold(f64::INFINITY, f64::min);
    let hi = segs
        .iter()
        .flat_map(|s| [s.from_pct, s.to_pct])
        .fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() { (lo, hi) } else { (0.0, 0.0) }
}

/// One line for a step: "10 min 50 → 75 %", "20 min @ 88–93 %",
/// "3 × (8 min @ 105 % / 4 min @ 55 %)".
pub fn step_summary(step: &Step) -> String {
    match step {
        Step::Steady { duration_s, .. } => format!(
            "{} @ {}",
            text::duration(f64::from(*duration_s)),
            step_target(step)
        ),
        Step::Ramp { duration_s, .. } => format!(
            "{} {}",
            text::duration(f64::from(*duration_s)),
            step_target(step)
        ),
        Step::Repeat { times, steps } => {
            let inner: Vec<String> = steps.iter().map(step_summary).collect();
            format!("{} × ({})", ridden_times(*times), inner.join(" / "))
        }
    }
}

/// What a step is, in words.
pub fn kind_name(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Warmup => "Warm-up",
        StepKind::Work => "Work",
        StepKind::Recovery => "Recovery",
        StepKind::Cooldown => "Cool-down",
        StepKind::Steady => "Steady",
    }
}

/// Whether a planned workout is something to ride (and so to export).
pub fn is_rideable(w: &Workout) -> bool {
    w.workout_type != WorkoutType::Rest
        && w.workout_type != WorkoutType::Strength
        && duration_s(&w.steps) > 0
}

// ---------------------------------------------------------------------------------------------
// FIT

fn intensity(kind: StepKind) -> StepIntensity {
    match kind {
        StepKind::Warmup => StepIntensity::Warmup,
        StepKind::Cooldown => StepIntensity::Cooldown,
        StepKind::Recovery => StepIntensity::Recovery,
        // "active" rather than "interval": older devices do not know the newer value.
        StepKind::Work | StepKind::Steady => StepIntensity::Active,
    }
}

/// Whole percent for a FIT power target; an error for a value FIT cannot carry.
fn fit_pct(v: f64, index: usize) -> Result<u16, FitEncodeError> {
    let r = v.round();
    if r.is_finite() && (0.0..=1000.0).contains(&r) {
        Ok(r as u16)
    } else {
        Err(FitEncodeError::InvalidStep {
            index,
            reason: format!("power {v} % FTP is outside 0–1000 %"),
        })
    }
}

fn to_fit_steps(steps: &[Step], first_index: usize) -> Result<Vec<WorkoutStep>, FitEncodeError> {
    let mut out = Vec::with_capacity(steps.len());
    let mut index = first_index;
    for s in steps {
        match s {
            Step::Steady {
                kind,
                duration_s,
                power_low_pct,
                power_high_pct,
            } => {
                let (a, b) = (
                    fit_pct(*power_low_pct, index)?,
                    fit_pct(*power_high_pct, index)?,
                );
                out.push(WorkoutStep::Step {
                    name: Some(kind_name(*kind).to_owned()),
                    duration: StepDuration::Time(f64::from(*duration_s)),
                    target: StepTarget::PowerPercentFtp {
                        low: a.min(b),
                        high: a.max(b),
                    },
                    intensity: intensity(*kind),
                });
                index += 1;
            }
            Step::Ramp {
                kind,
                duration_s,
                from_pct,
                to_pct,
            } => {
                let (a, b) = (fit_pct(*from_pct, index)?, fit_pct(*to_pct, index)?);
                out.push(WorkoutStep::Step {
                    name: Some(format!("{} (ramp)", kind_name(*kind))),
                    duration: StepDuration::Time(f64::from(*duration_s)),
                    target: StepTarget::PowerPercentFtp {
                        low: a.min(b),
                        high: a.max(b),
                    },
                    intensity: intensity(*kind),
                });
                index += 1;
            }
            Step::Repeat { times, steps } => {
                let inner = to_fit_steps(steps, index)?;
                index += fit_step_count(steps) + 1;
                out.push(WorkoutStep::Repeat {
                    times: ridden_times(*times),
                    steps: inner,
                });
            }
        }
    }
    Ok(out)
}

/// A FIT workout file for `w`; `created` is its `time_created` (reproducible output).
pub fn fit_bytes(w: &Workout, created: Timestamp) -> Result<Vec<u8>, FitEncodeError> {
    // Cycling without a sub-sport: the same file serves road rides and trainers.
    let sport = FitSport {
        sport: 2,
        sub_sport: 0,
    };
    let mut writer = WorkoutWriter::new(&w.name, sport, created);
    for s in to_fit_steps(&w.steps, 0)? {
        writer = writer.step(s);
    }
    writer.finish()
}

// ---------------------------------------------------------------------------------------------
// Zwift

/// A fraction of FTP with up to three decimals: 105 % → "1.05".
fn frac(pct: f64) -> String {
    let v = if pct.is_finite() { pct / 100.0 } else { 0.0 };
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0');
    let s = s.strip_suffix('.').unwrap_or(s);
    if s == "-0" { "0".into() } else { s.to_owned() }
}

fn zwo_steps(steps: &[Step], out: &mut String) {
    for s in steps {
        match s {
            Step::Steady {
                duration_s,
                power_low_pct,
                power_high_pct,
                ..
            } => {
                let _ = writeln!(
                    out,
                    r#"    <SteadyState Duration="{duration_s}" Power="{}"/>"#,
                    frac((power_low_pct + power_high_pct) / 2.0)
                );
            }
            Step::Ramp {
                kind,
                duration_s,
                from_pct,
                to_pct,
            } => {
                // Zwift ramps run from PowerLow to PowerHigh (a cool-down has PowerLow > PowerHigh).
                let tag = match kind {
                    StepKind::Warmup => "Warmup",
                    StepKind::Cooldown => "Cooldown",
                    _ => "Ramp",
                };
                let _ = writeln!(
                    out,
                    r#"    <{tag} Duration="{duration_s}" PowerLow="{}" PowerHigh="{}"/>"#,
                    frac(*from_pct),
                    frac(*to_pct)
                );
            }
            Step::Repeat { times, steps } => match steps.as_slice() {
                [
                    Step::Steady {
                        duration_s: on_s,
                        power_low_pct: on_lo,
                        power_high_pct: on_hi,
                        ..
                    },
                    Step::Steady {
                        duration_s: off_s,
                        power_low_pct: off_lo,
                        power_high_pct: off_hi,
                        ..
                    },
                ] => {
                    let _ = writeln!(
                        out,
                        r#"    <IntervalsT Repeat="{}" OnDuration="{on_s}" OffDuration="{off_s}" OnPower="{}" OffPower="{}"/>"#,
                        ridden_times(*times),
                        frac((on_lo + on_hi) / 2.0),
                        frac((off_lo + off_hi) / 2.0)
                    );
                }
                _ => {
                    for _ in 0..ridden_times(*times) {
                        zwo_steps(steps, out);
                    }
                }
            },
        }
    }
}

/// A Zwift workout (`.zwo`) for `w`.
pub fn zwo(w: &Workout, author: &str) -> String {
    let mut out = String::new();
    out.push_str("<workout_file>\n");
    let _ = writeln!(out, "  <author>{}</author>", escape(author));
    let _ = writeln!(out, "  <name>{}</name>", escape(&w.name));
    let _ = writeln!(
        out,
        "  <description>{}</description>",
        escape(&w.description)
    );
    out.push_str("  <sportType>bike</sportType>\n  <workout>\n");
    zwo_steps(&w.steps, &mut out);
    out.push_str("  </workout>\n</workout_file>\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Files

/// `wNN-` followed by a weekday name: the names [`write_all`] gives its files.
fn is_ours(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 4
        && b[0] == b'w'
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b'-'
        && (name.ends_with(".fit") || name.ends_with(".zwo"))
}

/// Removes the workout files a previous report wrote into `dir` (nothing else).
pub fn remove_previous(dir: &Path) -> Result<(), ReportError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        if name.to_str().is_some_and(is_ours) {
            let p = entry.path();
            std::fs::remove_file(&p).map_err(io_err(&p))?;
        }
    }
    Ok(())
}

/// The file name (without extension) a plan's workout is written under:
/// `w03-tuesday-sweet-spot-4-x-10`. `today` finds the report's files by it.
pub fn file_stem(week: u32, weekday: jiff::civil::Weekday, name: &str) -> String {
    format!(
        "w{week:02}-{}-{}",
        weekday_name::name(weekday),
        text::slug(name, 40)
    )
}

/// Writes `w` as `DIR/STEM.fit` and `DIR/STEM.zwo` unless they exist (the same workout gives
/// the same bytes); returns both paths.
pub fn write_one(
    dir: &Path,
    stem: &str,
    w: &Workout,
    created: Timestamp,
) -> Result<(std::path::PathBuf, std::path::PathBuf), ReportError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let fit = dir.join(format!("{stem}.fit"));
    let zwo_path = dir.join(format!("{stem}.zwo"));
    if !fit.is_file() {
        let bytes = fit_bytes(w, created).map_err(|source| ReportError::Fit {
            file: format!("{stem}.fit"),
            source,
        })?;
        write_atomic(&fit, &bytes)?;
    }
    if !zwo_path.is_file() {
        write_atomic(&zwo_path, zwo(w, "cycling-ai").as_bytes())?;
    }
    Ok((fit, zwo_path))
}

/// Writes every rideable workout of `plan` into `dir` as `.fit` and `.zwo`.
pub fn write_all(
    dir: &Path,
    plan: &TrainingPlan,
    created: Timestamp,
) -> Result<Vec<Exported>, ReportError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut used = HashSet::new();
    let mut out = Vec::new();
    for week in &plan.weeks {
        for pw in &week.workouts {
            if !is_rideable(&pw.workout) {
                continue;
            }
            let base = file_stem(week.week, pw.weekday, &pw.workout.name);
            let mut stem = base.clone();
            let mut k = 2;
            while !used.insert(stem.clone()) {
                stem = format!("{base}-{k}");
                k += 1;
            }
            let fit_file = format!("{stem}.fit");
            let zwo_file = format!("{stem}.zwo");
            let bytes = fit_bytes(&pw.workout, created).map_err(|source| ReportError::Fit {
                file: fit_file.clone(),
                source,
            })?;
            write_atomic(&dir.join(&fit_file), &bytes)?;
            write_atomic(
                &dir.join(&zwo_file),
                zwo(&pw.workout, "cycling-ai").as_bytes(),
            )?;
            out.push(Exported {
                week: week.week,
                date: pw.date,
                weekday: pw.weekday,
                name: pw.workout.name.clone(),
                fit_file,
                zwo_file,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steady(kind: StepKind, s: u32, p: f64) -> Step {
        Step::Steady {
            kind,
            duration_s: s,
            power_low_pct: p,
            power_high_pct: p,
        }
    }

    fn vo2() -> Workout {
        Workout {
            id: "vo2-3x8".into(),
            name: "VO2 & <friends>".into(),
            workout_type: WorkoutType::Vo2max,
            description: "3 × 8 \"hard\"".into(),
            steps: vec![
                Step::Ramp {
                    kind: StepKind::Warmup,
                    duration_s: 600,
                    from_pct: 50.0,
                    to_pct: 75.0,
                },
                Step::Repeat {
                    times: 3,
                    steps: vec![
                        steady(StepKind::Work, 480, 105.0),
                        steady(StepKind::Recovery, 240, 55.0),
                    ],
                },
                Step::Ramp {
                    kind: StepKind::Cooldown,
                    duration_s: 300,
                    from_pct: 60.0,
                    to_pct: 40.0,
                },
            ],
        }
    }

    #[test]
    fn repeats_read_as_sets() {
        let w = vo2();
        assert_eq!(
            step_summary(&w.steps[1]),
            "3 × (8 min @ 105 % / 4 min @ 55 %)"
        );
        assert_eq!(step_summary(&w.steps[0]), "10 min 50 → 75 %");
        assert_eq!(step_watts(&w.steps[1], 250.0), "138–263 W");
        assert_eq!(duration_s(&w.steps), 600 + 3 * 720 + 300);
        assert_eq!(fit_step_count(&w.steps), 5);
        assert_eq!(segments(&w.steps).len(), 8);
    }

    #[test]
    fn zwo_uses_intervals_and_escapes() {
        let z = zwo(&vo2(), "coach & co");
        assert!(z.contains("<name>VO2 &amp; &lt;friends&gt;</name>"));
        assert!(z.contains("<author>coach &amp; co</author>"));
        assert!(z.contains(r#"<Warmup Duration="600" PowerLow="0.5" PowerHigh="0.75"/>"#));
        assert!(z.contains(
            r#"<IntervalsT Repeat="3" OnDuration="480" OffDuration="240" OnPower="1.05" OffPower="0.55"/>"#
        ));
        assert!(z.contains(r#"<Cooldown Duration="300" PowerLow="0.6" PowerHigh="0.4"/>"#));
    }

    #[test]
    fn other_blocks_are_unrolled_in_zwo() {
        let w = Workout {
            steps: vec![Step::Repeat {
                times: 2,
                steps: vec![
                    steady(StepKind::Work, 30, 150.0),
                    steady(StepKind::Recovery, 30, 50.0),
                    steady(StepKind::Recovery, 60, 60.0),
                ],
            }],
            ..vo2()
        };
        let z = zwo(&w, "a");
        assert_eq!(z.matches("<SteadyState").count(), 6);
        assert!(!z.contains("IntervalsT"));
    }

    #[test]
    fn fit_rejects_impossible_power() {
        let w = Workout {
            steps: vec![steady(StepKind::Work, 60, f64::NAN)],
            ..vo2()
        };
        let err = fit_bytes(
            &w,
            Timestamp::UNIX_EPOCH
                .checked_add(jiff::SignedDuration::from_hours(400_000))
                .unwrap(),
        )
        .unwrap_err();
        assert!(matches!(err, FitEncodeError::InvalidStep { index: 0, .. }));
    }

    #[test]
    fn only_our_files_are_removed() {
        assert!(is_ours("w01-monday-endurance.fit"));
        assert!(is_ours("w12-sunday-x.zwo"));
        assert!(!is_ours("notes.fit"));
        assert!(!is_ours("w01-monday-endurance.txt"));
    }

    // Every reading of a workout describes the same workout: the planned duration and TSS
    // (`coach::planned_tss`), the FIT file a bike computer rides, the Zwift `.zwo` and the
    // segments the report's power profile draws (`coach::plan::segments`) agree on the total
    // duration — for every workout of the library and for repeat counts far beyond any real
    // plan, which all of them cap the same way.

    use coach::plan::MAX_REPEATS;
    use coach::planned_tss::{planned_if, planned_tss};
    use fitparser::profile::MesgNum;
    use fitparser::{FitDataRecord, Value};

    fn field(m: &FitDataRecord, name: &str) -> Option<Value> {
        m.fields()
            .iter()
            .find(|f| f.name() == name)
            .map(|f| f.value().clone())
    }

    fn fnum(m: &FitDataRecord, name: &str) -> f64 {
        field(m, name)
            .and_then(|v| v.try_into().ok())
            .unwrap_or_else(|| panic!("workout_step without a numeric {name}: {m:?}"))
    }

    /// Seconds a device rides: the steps run in order, a "repeat until steps complete" step jumps
    /// back to its first step until the block has run `repeat_steps` times.
    fn fit_seconds(w: &Workout) -> f64 {
        // Any time FIT can carry (it counts from 1989-12-31).
        let created: Timestamp = "2025-06-29T18:00:00Z".parse().unwrap();
        let bytes = fit_bytes(w, created).expect("FIT workout");
        let records = fitparser::from_bytes(&bytes).expect("decodable FIT");
        let steps: Vec<&FitDataRecord> = records
            .iter()
            .filter(|m| m.kind() == MesgNum::WorkoutStep)
            .collect();
        let mut done = vec![0u32; steps.len()];
        let (mut pc, mut total) = (0, 0.0);
        while pc < steps.len() {
            let s = steps[pc];
            match field(s, "duration_type").map(|v| v.to_string()).as_deref() {
                Some("time") => {
                    total += fnum(s, "duration_time");
                    pc += 1;
                }
                Some("repeat_until_steps_cmplt") => {
                    done[pc] += 1;
                    if f64::from(done[pc]) < fnum(s, "repeat_steps") {
                        pc = fnum(s, "duration_step") as usize;
                    } else {
                        // Finished: an enclosing block starts this one afresh.
                        done[pc] = 0;
                        pc += 1;
                    }
                }
                other => panic!("unexpected duration type {other:?}"),
            }
        }
        total
    }

    /// Seconds of a `.zwo`: every element's `Duration`, an `IntervalsT` its repeats of on + off.
    fn zwo_seconds(w: &Workout) -> f64 {
        let text = zwo(w, "test");
        let doc = roxmltree::Document::parse(&text).expect("well-formed .zwo");
        let attr = |n: &roxmltree::Node, k: &str| -> f64 {
            n.attribute(k)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("<{}> without {k}", n.tag_name().name()))
        };
        let body = doc
            .descendants()
            .find(|n| n.has_tag_name("workout"))
            .expect("<workout>");
        body.children()
            .filter(|n| n.is_element())
            .map(|n| match n.tag_name().name() {
                "IntervalsT" => {
                    attr(&n, "Repeat") * (attr(&n, "OnDuration") + attr(&n, "OffDuration"))
                }
                _ => attr(&n, "Duration"),
            })
            .sum()
    }

    fn assert_same_duration(w: &Workout) {
        let planned = f64::from(duration_s(&w.steps));
        let profile: f64 = segments(&w.steps)
            .iter()
            .map(|s| f64::from(s.duration_s))
            .sum();
        let id = &w.id;
        assert!(planned > 0.0, "{id}: no duration");
        assert_eq!(profile, planned, "{id}: power profile vs planned duration");
        assert_eq!(fit_seconds(w), planned, "{id}: FIT vs planned duration");
        assert_eq!(zwo_seconds(w), planned, "{id}: .zwo vs planned duration");
        // TSS = hours · IF² · 100, so the hours planned TSS integrated over are TSS / (IF² · 100).
        let intensity = planned_if(&w.steps);
        if intensity > 0.0 {
            let tss_seconds = planned_tss(&w.steps) * 36.0 / (intensity * intensity);
            assert!(
                (tss_seconds - planned).abs() < 1e-6 * planned,
                "{id}: planned TSS integrates {tss_seconds} s, not {planned} s"
            );
        }
    }

    #[test]
    fn library_workouts_last_the_same_in_every_reading() {
        let lib = coach::library::library();
        assert!(!lib.workouts.is_empty());
        for lw in &lib.workouts {
            assert_same_duration(&lw.workout);
        }
    }

    #[test]
    fn huge_repeat_counts_are_capped_alike_everywhere() {
        let warmup = Step::Ramp {
            kind: StepKind::Warmup,
            duration_s: 600,
            from_pct: 50.0,
            to_pct: 75.0,
        };
        // Two steady steps become an `IntervalsT` in .zwo, three are unrolled; nested blocks too.
        let blocks = [
            vec![
                steady(StepKind::Work, 30, 150.0),
                steady(StepKind::Recovery, 30, 50.0),
            ],
            vec![
                steady(StepKind::Work, 30, 150.0),
                steady(StepKind::Recovery, 30, 50.0),
                steady(StepKind::Recovery, 60, 55.0),
            ],
            vec![
                Step::Repeat {
                    times: 3,
                    steps: vec![
                        steady(StepKind::Work, 10, 200.0),
                        steady(StepKind::Recovery, 20, 50.0),
                    ],
                },
                steady(StepKind::Recovery, 60, 55.0),
            ],
        ];
        for (k, block) in blocks.into_iter().enumerate() {
            let block_s = duration_s(&block);
            let w = Workout {
                id: format!("huge-{k}"),
                name: "Too many repeats".into(),
                workout_type: WorkoutType::Anaerobic,
                description: "a damaged plan".into(),
                steps: vec![
                    warmup.clone(),
                    Step::Repeat {
                        times: u32::MAX,
                        steps: block,
                    },
                ],
            };
            assert_eq!(duration_s(&w.steps), 600 + MAX_REPEATS * block_s);
            assert_same_duration(&w);
        }
    }
}
