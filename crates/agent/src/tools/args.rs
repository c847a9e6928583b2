//! Typed arguments of every tool. Field doc comments become the argument descriptions of the JSON
//! Schema the model sees; unknown fields are refused (`deny_unknown_fields`), so a model cannot
//! smuggle in a `path` or an athlete id.

use schemars::JsonSchema;
use serde::Deserialize;

/// A sport, as the store records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SportArg {
    Ride,
    Run,
    Swim,
    Strength,
    Rowing,
    Walk,
    Hike,
    Ski,
    Other,
}

/// A heart-rate zone model: coggan (5 zones on LTHR) or friel (7 zones on LTHR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HrModel {
    // Coggan, 5 zones on LTHR (default). Plain comments: a doc comment per variant would make
    // schemars describe the enum as a `oneOf` of constants instead of a string `enum`.
    #[default]
    Coggan,
    // Friel cycling, 7 zones on LTHR.
    Friel,
}

/// No arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListActivitiesArgs {
    /// First day, YYYY-MM-DD (default: 8 weeks before `to`).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today).
    pub to: Option<String>,
    /// Only this sport (default: all sports).
    pub sport: Option<SportArg>,
    /// Only activities whose name or description contains this text (case-insensitive, literal;
    /// 1–100 characters).
    pub text: Option<String>,
    /// At most this many activities, newest first (1–20, default 15).
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetActivityArgs {
    /// The activity id, as `list_activities` returns it.
    #[serde(deserialize_with = "whole::i64")]
    pub activity_id: i64,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComparePeriodsArgs {
    /// "Last N weeks vs the N weeks before": N (1–52). Use either this or the four explicit
    /// dates. Default 4 when nothing is given.
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub weeks: Option<u32>,
    /// With `weeks`: the last day of the recent period, YYYY-MM-DD (default: today).
    pub end: Option<String>,
    /// Explicit recent period: first day, YYYY-MM-DD.
    pub recent_from: Option<String>,
    /// Explicit recent period: last day, YYYY-MM-DD.
    pub recent_to: Option<String>,
    /// Explicit earlier period: first day, YYYY-MM-DD.
    pub previous_from: Option<String>,
    /// Explicit earlier period: last day, YYYY-MM-DD.
    pub previous_to: Option<String>,
    /// Only this sport (default: ride). Use `all_sports: true` to include every sport.
    pub sport: Option<SportArg>,
    /// Count every sport (default false).
    pub all_sports: Option<bool>,
}

/// A period: `from`/`to` dates, or the `weeks` weeks ending at `to`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodArgs {
    /// First day, YYYY-MM-DD (or give `weeks` instead).
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today).
    pub to: Option<String>,
    /// Number of weeks ending at `to` (instead of `from`).
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub weeks: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalculateZonesArgs {
    /// Functional threshold power, W (50–600): gives the 7 Coggan power zones and sweet spot.
    pub ftp_w: Option<f64>,
    /// Lactate-threshold heart rate, bpm (80–220): gives the heart-rate zones.
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub lthr_bpm: Option<u32>,
    /// Maximum heart rate, bpm (100–230), optional: checked against LTHR and reported as % of
    /// max for each HR zone. Max HR alone does not define zones.
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub max_hr_bpm: Option<u32>,
    /// Heart-rate zone model: coggan (5 zones on LTHR, default) or friel (7 zones on LTHR).
    pub hr_model: Option<HrModel>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyVolumeArgs {
    /// Number of weeks (Monday–Sunday), the current one included (1–26, default 8).
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub weeks: Option<u32>,
    /// A day in the last week, YYYY-MM-DD (default: today).
    pub to: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingPlanArgs {
    /// Show the planned workouts of the plan week containing this day, YYYY-MM-DD.
    pub date: Option<String>,
    /// Show the planned workouts of this plan week (1-based).
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub week: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplianceArgs {
    /// A day, YYYY-MM-DD: compare that day only.
    pub date: Option<String>,
    /// A plan week (1-based): compare the whole week. With neither, the current week.
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub week: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanStatusArgs {
    /// A plan week (1-based). Default: the current week and the one before it.
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub week: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectionArgs {}

/// Days the athlete cannot train, inclusive.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    /// First day off, YYYY-MM-DD.
    pub from: String,
    /// Last day off, YYYY-MM-DD (the same as `from` for one day).
    pub to: String,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdaptPlanArgs {
    /// Why, in the athlete's words (at most 200 characters); kept with the new version.
    pub reason: Option<String>,
    /// Days the athlete cannot train (at most 10 ranges).
    pub unavailable: Option<Vec<DateRange>>,
    /// The event's new date, YYYY-MM-DD, when it moved.
    pub event_date: Option<String>,
    /// false (default): preview the changes only. true: store the new version — only after the
    /// athlete agreed to the preview, with its `preview_token`.
    #[serde(default)]
    pub apply: bool,
    /// The `preview_token` of the preview the athlete agreed to (required with apply=true).
    pub preview_token: Option<String>,
}

/// The plan parameters `create_plan_overview` takes besides the overview itself (whose
/// arguments are `plan_llm::OverviewArgs`, the schema `generate` uses).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlanParams {
    /// First day of the plan, YYYY-MM-DD, moved back to its Monday (not before this week's
    /// Monday); default: the Monday after today.
    pub start_date: Option<String>,
    /// The target event's date, YYYY-MM-DD (default: the profile's event_date).
    pub event_date: Option<String>,
    /// The plan's goal in the athlete's words, 1–200 characters (default: the profile's goals).
    pub goal: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveProfileArgs {
    /// The athlete's name or nickname (1–60 characters); default: keep the current one.
    pub name: Option<String>,
    /// Age in years (10–100).
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub age: Option<u32>,
    /// "male" or "female" (only used for heart-rate load formulas).
    pub sex: Option<String>,
    /// Body weight, kg (30–200).
    pub weight_kg: Option<f64>,
    /// Functional threshold power, W (50–600).
    pub ftp_w: Option<f64>,
    /// Lactate-threshold heart rate, bpm (80–220). Not max HR.
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub lthr_bpm: Option<u32>,
    /// Maximum heart rate, bpm (100–230, above LTHR).
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub max_hr_bpm: Option<u32>,
    /// Resting heart rate, bpm (25–100).
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub resting_hr_bpm: Option<u32>,
    /// Days the athlete can train: lower-case English day names, e.g. ["tuesday", "saturday"].
    pub training_days: Option<Vec<String>>,
    /// Hours available for training per week (0.5–40).
    pub hours_per_week: Option<f64>,
    /// Goals in the athlete's words (at most 5, each at most 200 characters).
    pub goals: Option<Vec<String>>,
    /// Date of the target event, YYYY-MM-DD, if any.
    pub event_date: Option<String>,
    /// Experience, e.g. "3 years of structured training" (at most 200 characters).
    pub experience_level: Option<String>,
    /// IANA time zone, e.g. "Europe/Paris".
    pub timezone: Option<String>,
}

/// The `weeks` weeks ending at `to`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeksArgs {
    /// Number of weeks ending at `to` (see the tool description for the range and default).
    #[serde(default, deserialize_with = "whole::opt_u32")]
    pub weeks: Option<u32>,
    /// Last day, YYYY-MM-DD (default: today).
    pub to: Option<String>,
}

/// Integer arguments that also accept a whole number written as a float (`170.0`): some
/// providers (Gemini's protobuf `Struct`) carry every number as a double. `170.5` is still
/// refused, naming the value.
mod whole {
    use serde::Deserialize;
    use serde::de::{Deserializer, Error};

    fn to_whole<E: Error>(v: serde_json::Number, min: f64, max: f64) -> Result<f64, E> {
        let x = v
            .as_f64()
            .ok_or_else(|| E::custom(format!("{v} is not a number")))?;
        if x.fract() != 0.0 || x < min || x > max {
            return Err(E::custom(format!("expected a whole number, got {v}")));
        }
        Ok(x)
    }

    pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| to_whole(n, 0.0, f64::from(u32::MAX)).map(|x| x as u32))
            .transpose()
    }

    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        // ±2^53: every integer a double represents exactly.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        to_whole(serde_json::Number::deserialize(d)?, -EXACT, EXACT).map(|x| x as i64)
    }
}
