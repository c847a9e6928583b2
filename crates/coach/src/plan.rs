//! The training plan: an overview (phases, per-day workout types, target hours) that the rules
//! check, and weeks filled with concrete workouts whose steps keep interval sets as sets.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Base,
    Build,
    Recovery,
    Peak,
    Taper,
}

impl Phase {
    /// The phase's name as plans and reports show it: "Base", "Build", … (capitalised, as a name).
    pub fn label(self) -> &'static str {
        match self {
            Phase::Base => "Base",
            Phase::Build => "Build",
            Phase::Recovery => "Recovery",
            Phase::Peak => "Peak",
            Phase::Taper => "Taper",
        }
    }
}

/// What a day holds. `Rest` stands alone; at most three hard days ([`WorkoutType::is_hard`]) a
/// week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum WorkoutType {
    Rest,
    Recovery,
    Endurance,
    LongRide,
    Tempo,
    SweetSpot,
    Threshold,
    Vo2max,
    Anaerobic,
    Sprint,
    Strength,
}

impl WorkoutType {
    /// The type as it reads in running text: "sweet spot", "long ride", "VO2max". A table cell or
    /// a line starting with it capitalises it ([`crate::narrative::capitalise`]).
    pub fn label(self) -> &'static str {
        match self {
            WorkoutType::Rest => "rest",
            WorkoutType::Recovery => "recovery",
            WorkoutType::Endurance => "endurance",
            WorkoutType::LongRide => "long ride",
            WorkoutType::Tempo => "tempo",
            WorkoutType::SweetSpot => "sweet spot",
            WorkoutType::Threshold => "threshold",
            WorkoutType::Vo2max => "VO2max",
            WorkoutType::Anaerobic => "anaerobic",
            WorkoutType::Sprint => "sprint",
            WorkoutType::Strength => "strength",
        }
    }

    pub fn is_hard(self) -> bool {
        matches!(
            self,
            WorkoutType::SweetSpot
                | WorkoutType::Threshold
                | WorkoutType::Vo2max
                | WorkoutType::Anaerobic
                | WorkoutType::Sprint
        )
    }
}

/// One day of the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayPlan {
    #[serde(with = "weekday_name")]
    pub weekday: Weekday,
    pub workout_type: WorkoutType,
    /// Planned duration in hours (0 on rest days).
    pub hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekOverview {
    /// 1-based.
    pub week: u32,
    pub phase: Phase,
    pub focus: String,
    /// Monday first, all seven days.
    pub days: Vec<DayPlan>,
    pub target_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOverview {
    pub weeks: Vec<WeekOverview>,
    pub coaching_notes: String,
    pub monitoring: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Warmup,
    Work,
    Recovery,
    Cooldown,
    Steady,
}

/// A workout step. Power as % of FTP. Interval sets stay sets (`Repeat`), never flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    Steady {
        kind: StepKind,
        duration_s: u32,
        power_low_pct: f64,
        power_high_pct: f64,
    },
    /// A linear ramp (warm-ups, cool-downs): planned TSS integrates it.
    Ramp {
        kind: StepKind,
        duration_s: u32,
        from_pct: f64,
        to_pct: f64,
    },
    Repeat {
        times: u32,
        steps: Vec<Step>,
    },
}

impl Step {
    /// A steady step (tests build workouts step by step).
    #[cfg(test)]
    pub(crate) fn steady(kind: StepKind, duration_s: u32, lo: f64, hi: f64) -> Step {
        Step::Steady {
            kind,
            duration_s,
            power_low_pct: lo,
            power_high_pct: hi,
        }
    }

    /// A steady step's or a ramp's kind, duration and power range (low, high % FTP, in order);
    /// `None` for a repeat block.
    pub fn target(&self) -> Option<(StepKind, u32, f64, f64)> {
        match self {
            Step::Steady {
                kind,
                duration_s,
                power_low_pct: a,
                power_high_pct: b,
            }
            | Step::Ramp {
                kind,
                duration_s,
                from_pct: a,
                to_pct: b,
            } => Some((*kind, *duration_s, a.min(*b), a.max(*b))),
            Step::Repeat { .. } => None,
        }
    }
}

/// The most times a repeat block is ridden. A plan's workouts last hours, so a larger count is a
/// mistake in the plan (a hand-edited or damaged file), and expanding it as written would take
/// time and memory without bound.
pub const MAX_REPEATS: u32 = 1000;

/// How many times a repeat block written `times` times is ridden: `times`, at most
/// [`MAX_REPEATS`]. Every reading of a workout counts its repeats through this one function —
/// durations and planned TSS ([`crate::planned_tss`]), [`segments`] (the report's power profile)
/// and the FIT and Zwift exports — so none of them can describe a different workout.
pub fn ridden_times(times: u32) -> u32 {
    times.min(MAX_REPEATS)
}

/// A piece of a workout's power profile: `duration_s` seconds going linearly from `from_pct` to
/// `to_pct` % FTP.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub duration_s: u32,
    pub from_pct: f64,
    pub to_pct: f64,
}

/// The workout as it is ridden: its steps in order, each repeat block expanded
/// [`ridden_times`] over. A steady step is flat at the middle of its range (the power the rider
/// is asked to hold); a ramp runs from its start to its end power.
pub fn segments(steps: &[Step]) -> Vec<Segment> {
    fn push(steps: &[Step], out: &mut Vec<Segment>) {
        for step in steps {
            match step {
                Step::Steady {
                    duration_s,
                    power_low_pct,
                    power_high_pct,
                    ..
                } => {
                    let mid = (power_low_pct + power_high_pct) / 2.0;
                    out.push(Segment {
                        duration_s: *duration_s,
                        from_pct: mid,
                        to_pct: mid,
                    });
                }
                Step::Ramp {
                    duration_s,
                    from_pct,
                    to_pct,
                    ..
                } => out.push(Segment {
                    duration_s: *duration_s,
                    from_pct: *from_pct,
                    to_pct: *to_pct,
                }),
                Step::Repeat { times, steps } => {
                    for _ in 0..ridden_times(*times) {
                        push(steps, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    push(steps, &mut out);
    out
}

/// A concrete workout (from the library or written by a model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workout {
    pub id: String,
    pub name: String,
    pub workout_type: WorkoutType,
    pub description: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedWorkout {
    pub date: Date,
    #[serde(with = "weekday_name")]
    pub weekday: Weekday,
    pub workout: Workout,
    pub duration_s: u32,
    /// Planned TSS against the plan's FTP (NP-of-the-plan definition).
    pub tss: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanWeek {
    pub week: u32,
    pub start_date: Date,
    pub phase: Phase,
    pub focus: String,
    pub workouts: Vec<PlannedWorkout>,
    pub planned_hours: f64,
    pub planned_tss: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingPlan {
    /// A Monday.
    pub start_date: Date,
    pub ftp_w: f64,
    pub event_date: Option<Date>,
    pub goal: Option<String>,
    pub seed: u64,
    pub overview: PlanOverview,
    pub weeks: Vec<PlanWeek>,
    /// Dates the athlete said they cannot train (`plan adapt --unavailable`): rest days that
    /// shrink their week's budget for the rules ([`crate::rules::check_overview_with`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_off: Vec<Date>,
}

impl PlanWeek {
    /// The week's last day, six days after its start (the last day of the calendar if that is
    /// sooner).
    pub fn end_date(&self) -> Date {
        self.start_date.checked_add(6.days()).unwrap_or(Date::MAX)
    }
}

impl TrainingPlan {
    /// The plan's last day: the last day of its last week (its start date if it has no weeks).
    pub fn end_date(&self) -> Date {
        self.weeks
            .last()
            .map_or(self.start_date, PlanWeek::end_date)
    }
}

/// Weekdays as lower-case English names ("monday"), the profile's spelling.
pub mod weekday_name {
    use jiff::civil::Weekday;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub const ALL: [(Weekday, &str); 7] = [
        (Weekday::Monday, "monday"),
        (Weekday::Tuesday, "tuesday"),
        (Weekday::Wednesday, "wednesday"),
        (Weekday::Thursday, "thursday"),
        (Weekday::Friday, "friday"),
        (Weekday::Saturday, "saturday"),
        (Weekday::Sunday, "sunday"),
    ];

    pub fn name(d: Weekday) -> &'static str {
        ALL.iter()
            .find(|(w, _)| *w == d)
            .map(|(_, n)| *n)
            .unwrap_or("monday")
    }

    pub fn parse(s: &str) -> Option<Weekday> {
        let s = s.trim().to_ascii_lowercase();
        ALL.iter().find(|(_, n)| *n == s).map(|(w, _)| *w)
    }

    pub fn serialize<S: Serializer>(d: &Weekday, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(name(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Weekday, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text)
            .ok_or_else(|| D::Error::custom(format!("{text:?} is not a weekday (monday … sunday)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn plan(start: Date, weeks: u32) -> TrainingPlan {
        TrainingPlan {
            start_date: start,
            ftp_w: 250.0,
            event_date: None,
            goal: None,
            seed: 1,
            overview: PlanOverview {
                weeks: Vec::new(),
                coaching_notes: String::new(),
                monitoring: String::new(),
            },
            weeks: (0..weeks)
                .map(|k| PlanWeek {
                    week: k + 1,
                    start_date: start.checked_add((7 * i64::from(k)).days()).unwrap(),
                    phase: Phase::Base,
                    focus: String::new(),
                    workouts: Vec::new(),
                    planned_hours: 0.0,
                    planned_tss: 0.0,
                })
                .collect(),
            days_off: Vec::new(),
        }
    }

    #[test]
    fn a_plan_ends_on_the_sunday_of_its_last_week() {
        let monday = date(2025, 6, 30);
        assert_eq!(plan(monday, 1).end_date(), date(2025, 7, 6));
        assert_eq!(plan(monday, 12).end_date(), date(2025, 9, 21));
        assert_eq!(plan(monday, 0).end_date(), monday);
        assert_eq!(
            plan(Date::MAX.checked_sub(2.days()).unwrap(), 1).end_date(),
            Date::MAX
        );
    }
}
