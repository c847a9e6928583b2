//! FIT workout files (`file_id.type = workout`: `workout` + `workout_step` messages) → [`FitWorkout`].
//!
//! Framing, CRCs, truncation and corruption go through the same stream loop as activities
//! (`decode::decode_stream`); this module only resolves the workout messages. rustyfit gives
//! the raw `duration_value` / `target_value` / `custom_target_value_*` integers; their meaning
//! depends on the step's duration and target types (the profile's sub-fields), resolved here:
//! - `duration_value` is milliseconds for `time` and `repetition_time`, and the index of the
//!   block's first step for every `repeat_until_*` type;
//! - `target_value` is the repetition count for `repeat_until_steps_cmplt`;
//! - `custom_target_value_low/high` of a `power` target are 0–1000 % FTP or watts + 1000.

use rustyfit::profile::mesgdef;
use rustyfit::profile::typedef::{MesgNum, WktStepDuration, WktStepTarget};
use rustyfit::proto::Message;

use super::FitError;
use super::decode::{Sink, decode_stream, file_id, non_empty, sport_names};
use crate::model::{FitWorkout, FitWorkoutStep, PowerTarget};

/// Decode FIT bytes (already gunzipped) holding a workout.
pub(crate) fn decode_workout(bytes: &[u8], warnings: Vec<String>) -> Result<FitWorkout, FitError> {
    let mut out = WorkoutCollector {
        workout: FitWorkout {
            warnings,
            ..FitWorkout::default()
        },
        messages: 0,
        workouts: 0,
    };
    decode_stream(bytes, &mut out)?;
    if out.workouts == 0 && out.workout.steps.is_empty() {
        let what = match out
            .workout
            .file_id
            .as_ref()
            .and_then(|f| f.file_type.as_deref())
        {
            Some(t) => format!("a FIT `{t}` file"),
            None => "FIT data without a file_id".to_owned(),
        };
        return Err(FitError::Corrupt {
            offset: bytes.len() as u64,
            reason: format!("{what} with no workout or workout_step message: not a workout"),
        });
    }
    Ok(out.finish())
}

struct WorkoutCollector {
    workout: FitWorkout,
    messages: usize,
    /// `workout` messages seen: a second one (a chained file) is reported, not merged.
    workouts: usize,
}

impl Sink for WorkoutCollector {
    fn start_file(&mut self) {}

    fn message(&mut self, m: &Message) {
        self.messages += 1;
        match m.num {
            // A chained file repeats file_id: the first describes the workout.
            MesgNum::FILE_ID if self.workout.file_id.is_none() => {
                self.workout.file_id = Some(file_id(m));
            }
            MesgNum::WORKOUT if self.workouts > 0 => self.workouts += 1,
            MesgNum::WORKOUT => {
                self.workouts = 1;
                let w = mesgdef::Workout::from(m);
                let (sport, sub_sport) = sport_names(w.sport, w.sub_sport);
                self.workout.name = non_empty(&w.wkt_name);
                self.workout.sport = sport;
                self.workout.sub_sport = sub_sport;
                self.workout.num_valid_steps =
                    (w.num_valid_steps != u16::MAX).then_some(w.num_valid_steps);
            }
            MesgNum::WORKOUT_STEP => self.workout.steps.push(step(m)),
            _ => {}
        }
    }

    fn warn(&mut self, message: String) {
        self.workout.warnings.push(message);
    }

    fn message_count(&self) -> usize {
        self.messages
    }

    fn mark_truncated(&mut self) {
        self.workout.truncated = true;
    }

    fn kept(&self) -> String {
        format!("the {} workout steps", self.workout.steps.len())
    }
}

impl WorkoutCollector {
    fn finish(mut self) -> FitWorkout {
        let w = &mut self.workout;
        if self.workouts > 1 {
            w.warnings.push(format!(
                "The data hold {} workout messages; the first names the workout and the steps \
                 of all were kept in file order.",
                self.workouts
            ));
        }
        if let Some(n) = w.num_valid_steps
            && usize::from(n) != w.steps.len()
            && !w.truncated
        {
            w.warnings.push(format!(
                "The workout message declares {n} valid steps but {} workout_step messages were \
                 read.",
                w.steps.len()
            ));
        }
        // A repeat step must point back into the steps before it, or a player would loop
        // forever or on nothing.
        let bad: Vec<String> = w
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let from = s.repeat_from_step?;
                let here = s.message_index.map_or(i, usize::from);
                (usize::from(from) >= here).then(|| format!("step {here} repeats from step {from}"))
            })
            .collect();
        if !bad.is_empty() {
            w.warnings.push(format!(
                "Repeat steps that do not point back to an earlier step: {}.",
                bad.join(", ")
            ));
        }
        self.workout
    }
}

fn opt_u32(v: u32) -> Option<u32> {
    (v != u32::MAX).then_some(v)
}

fn is_repeat(d: WktStepDuration) -> bool {
    // repeat_until_steps_cmplt … repeat_until_power_greater_than share the `duration_step`
    // sub-field; the two later repeat types (power last lap, TSS) are not given one by the
    // profile, but hold the same step index in practice.
    matches!(d.0, 6..=13 | 17 | 18 | 27)
}

fn step(m: &Message) -> FitWorkoutStep {
    let s = mesgdef::WorkoutStep::from(m);
    let d = s.duration_type;
    let duration_value = opt_u32(s.duration_value);
    let target_value = opt_u32(s.target_value);
    let is_power = s.target_type == WktStepTarget::POWER;
    let (low, high) = (
        opt_u32(s.custom_target_value_low),
        opt_u32(s.custom_target_value_high),
    );
    FitWorkoutStep {
        message_index: (s.message_index.0 != u16::MAX).then_some(s.message_index.0),
        name: non_empty(&s.wkt_step_name),
        duration_type: (d.0 != u8::MAX).then(|| d.to_string()),
        duration_s: if d == WktStepDuration::TIME || d == WktStepDuration::REPETITION_TIME {
            duration_value.map(|ms| f64::from(ms) / 1000.0)
        } else {
            None
        },
        repeat_from_step: if is_repeat(d) {
            duration_value.and_then(|v| u16::try_from(v).ok())
        } else {
            None
        },
        repeat_count: if d == WktStepDuration::REPEAT_UNTIL_STEPS_CMPLT {
            target_value
        } else {
            None
        },
        target_type: (s.target_type.0 != u8::MAX).then(|| s.target_type.to_string()),
        power_low: low.filter(|_| is_power).and_then(PowerTarget::from_fit),
        power_high: high.filter(|_| is_power).and_then(PowerTarget::from_fit),
        custom_target_low: low,
        custom_target_high: high,
        intensity: (s.intensity.0 != u8::MAX).then(|| s.intensity.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_target_splits_at_1000() {
        assert_eq!(PowerTarget::from_fit(0), Some(PowerTarget::PercentFtp(0.0)));
        assert_eq!(
            PowerTarget::from_fit(999),
            Some(PowerTarget::PercentFtp(999.0))
        );
        assert_eq!(
            PowerTarget::from_fit(1000),
            Some(PowerTarget::PercentFtp(1000.0))
        );
        assert_eq!(PowerTarget::from_fit(1001), Some(PowerTarget::Watts(1.0)));
        assert_eq!(PowerTarget::from_fit(1250), Some(PowerTarget::Watts(250.0)));
        assert_eq!(PowerTarget::from_fit(u32::MAX), None);
        assert_eq!(PowerTarget::PercentFtp(90.0).watts(250.0), 225.0);
        assert_eq!(PowerTarget::Watts(180.0).watts(250.0), 180.0);
    }

    #[test]
    fn repeat_types_are_recognised() {
        assert!(is_repeat(WktStepDuration::REPEAT_UNTIL_STEPS_CMPLT));
        assert!(is_repeat(WktStepDuration::REPEAT_UNTIL_TIME));
        assert!(!is_repeat(WktStepDuration::TIME));
        assert!(!is_repeat(WktStepDuration::OPEN));
        assert!(!is_repeat(WktStepDuration::POWER_LESS_THAN));
    }
}
