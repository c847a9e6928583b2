//! The typed activity every format decodes into, and the sport classification.
//!
//! Values carry SI units with scaling already applied (watts, bpm, rpm, m/s, metres, degrees,
//! °C). Instants are UTC (`jiff::Timestamp`, or Unix seconds inside the record series so metric
//! loops stay on plain integers). A field a device did not record is `None`, never 0: a record
//! without power is *missing*, `Some(0)` is coasting (see reference/metrics.md §1).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Broad sport category: what the training-load and cross-training figures group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Sport {
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

impl Sport {
    pub fn as_str(self) -> &'static str {
        match self {
            Sport::Ride => "ride",
            Sport::Run => "run",
            Sport::Swim => "swim",
            Sport::Strength => "strength",
            Sport::Rowing => "rowing",
            Sport::Walk => "walk",
            Sport::Hike => "hike",
            Sport::Ski => "ski",
            Sport::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Sport> {
        Some(match s {
            "ride" => Sport::Ride,
            "run" => Sport::Run,
            "swim" => Sport::Swim,
            "strength" => Sport::Strength,
            "rowing" => Sport::Rowing,
            "walk" => Sport::Walk,
            "hike" => Sport::Hike,
            "ski" => Sport::Ski,
            "other" => Sport::Other,
            _ => return None,
        })
    }
}

/// Where an activity happened: matters for rides (trainer vs road) and runs (treadmill).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    #[default]
    Outdoor,
    /// Trainer, treadmill, pool, rowing machine.
    Indoor,
    /// Zwift and friends: indoor, on a virtual course.
    Virtual,
}

/// The classification of one activity, derived from FIT `sport`/`sub_sport` or Strava's
/// `Activity Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SportKind {
    pub sport: Sport,
    pub environment: Environment,
    /// Pedal-assisted: counted as a ride for volume, but its power/HR say little about fitness.
    pub e_bike: bool,
}

impl SportKind {
    pub const fn new(sport: Sport) -> Self {
        SportKind {
            sport,
            environment: Environment::Outdoor,
            e_bike: false,
        }
    }
    pub const fn with_env(sport: Sport, environment: Environment) -> Self {
        SportKind {
            sport,
            environment,
            e_bike: false,
        }
    }
    pub fn is_ride(&self) -> bool {
        self.sport == Sport::Ride
    }
}

/// One `record` message, scaled. `t` is Unix seconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Record {
    pub t: i64,
    pub power_w: Option<u16>,
    pub heart_rate_bpm: Option<u8>,
    pub cadence_rpm: Option<u8>,
    /// `enhanced_speed` when present, else `speed`.
    pub speed_mps: Option<f32>,
    pub distance_m: Option<f64>,
    /// `enhanced_altitude` when present, else `altitude`.
    pub altitude_m: Option<f32>,
    pub lat_deg: Option<f64>,
    pub lon_deg: Option<f64>,
    pub temperature_c: Option<i8>,
}

/// A FIT `sport` message: the sport profile the device recorded with. Files without a `session`
/// message (a truncated ride) still carry it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SportSetting {
    /// FIT profile names, e.g. "cycling" / "indoor_cycling".
    pub fit_sport: Option<String>,
    pub fit_sub_sport: Option<String>,
    pub sport: Option<SportKind>,
    /// The name the rider gave the profile on the device, e.g. "Road".
    pub name: Option<String>,
}

/// A FIT `session` message (one per sport in a multisport file). All values as the device wrote
/// them: an independent oracle, never trusted blindly (a COROS file writes 0 W summaries).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Session {
    pub start_time: Option<Timestamp>,
    /// FIT profile names, e.g. "cycling" / "virtual_activity".
    pub fit_sport: Option<String>,
    pub fit_sub_sport: Option<String>,
    pub sport: Option<SportKind>,
    pub total_elapsed_time_s: Option<f64>,
    pub total_timer_time_s: Option<f64>,
    pub total_distance_m: Option<f64>,
    pub total_ascent_m: Option<f64>,
    pub total_work_j: Option<f64>,
    pub total_calories_kcal: Option<f64>,
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<f64>,
    pub normalized_power_w: Option<f64>,
    pub training_stress_score: Option<f64>,
    pub intensity_factor: Option<f64>,
    pub threshold_power_w: Option<f64>,
    pub avg_heart_rate_bpm: Option<f64>,
    pub max_heart_rate_bpm: Option<f64>,
    pub avg_cadence_rpm: Option<f64>,
    pub avg_speed_mps: Option<f64>,
    pub max_speed_mps: Option<f64>,
    pub num_laps: Option<u32>,
}

/// A FIT `lap` message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Lap {
    pub start_time: Option<Timestamp>,
    /// Lap end (the message timestamp).
    pub end_time: Option<Timestamp>,
    pub total_elapsed_time_s: Option<f64>,
    pub total_timer_time_s: Option<f64>,
    pub total_distance_m: Option<f64>,
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<f64>,
    pub normalized_power_w: Option<f64>,
    pub avg_heart_rate_bpm: Option<f64>,
    pub max_heart_rate_bpm: Option<f64>,
    pub avg_cadence_rpm: Option<f64>,
    pub avg_speed_mps: Option<f64>,
    pub total_ascent_m: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerEventKind {
    Start,
    Stop,
    /// `stop_all` / `stop_disable_all`: the recording ended (or paused for good).
    StopAll,
}

/// A FIT `event` message with `event = timer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerEvent {
    pub t: i64,
    pub kind: TimerEventKind,
}

/// A FIT `file_id` message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FileId {
    /// FIT `file` type name, e.g. "activity", "workout".
    pub file_type: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<u16>,
    pub product_name: Option<String>,
    pub serial_number: Option<u32>,
    pub time_created: Option<Timestamp>,
}

/// A FIT `device_info` message (head unit, sensors).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_index: Option<u8>,
    pub manufacturer: Option<String>,
    pub product: Option<u16>,
    pub product_name: Option<String>,
    pub serial_number: Option<u32>,
    pub software_version: Option<f64>,
}

/// A decoded activity file (FIT). Formats without samples (Strava summaries) do not produce this.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Activity {
    pub file_id: Option<FileId>,
    /// Every `session` message, in file order (several in a multisport file).
    pub sessions: Vec<Session>,
    pub laps: Vec<Lap>,
    pub timer_events: Vec<TimerEvent>,
    /// Every `record`, in file order, timestamps resolved (compressed timestamps expanded).
    pub records: Vec<Record>,
    pub devices: Vec<DeviceInfo>,
    /// Every FIT `sport` message, in file order.
    #[serde(default)]
    pub sport_settings: Vec<SportSetting>,
    /// FTP the device had configured: `session.threshold_power`, else `zones_target.functional_threshold_power`.
    pub threshold_power_w: Option<u16>,
    /// The file ended before its declared size / CRC: `records` hold what was read before the break.
    pub truncated: bool,
    /// Number of data messages decoded (all kinds, all chained files).
    pub message_count: usize,
    /// Non-fatal problems (CRC mismatch, truncation, odd fields), each a full sentence.
    pub warnings: Vec<String>,
}

impl Activity {
    /// The activity's sport: the first session's, else the `sport` message's, else Other.
    pub fn sport(&self) -> SportKind {
        self.sessions
            .iter()
            .find_map(|s| s.sport)
            .or_else(|| self.sport_settings.iter().find_map(|s| s.sport))
            .unwrap_or(SportKind::new(Sport::Other))
    }

    /// Start instant: first session start, else first record, else file creation time.
    pub fn start_time(&self) -> Option<Timestamp> {
        self.sessions
            .iter()
            .filter_map(|s| s.start_time)
            .min()
            .or_else(|| {
                self.records
                    .first()
                    .and_then(|r| Timestamp::from_second(r.t).ok())
            })
            .or_else(|| self.file_id.as_ref().and_then(|f| f.time_created))
    }
}

// ---------------------------------------------------------------------------------------------
// Structured workouts (FIT workout files)

/// A power target bound of a workout step. FIT stores both kinds in one integer: 0–1000 is
/// percent of FTP, above 1000 is watts + 1000 (`custom_target_power_low/high`, and the
/// `power_*` duration values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "value")]
pub enum PowerTarget {
    PercentFtp(f64),
    Watts(f64),
}

impl PowerTarget {
    /// Decode the FIT integer encoding; `None` for the invalid value.
    pub fn from_fit(raw: u32) -> Option<PowerTarget> {
        match raw {
            u32::MAX => None,
            0..=1000 => Some(PowerTarget::PercentFtp(f64::from(raw))),
            w => Some(PowerTarget::Watts(f64::from(w - 1000))),
        }
    }

    /// Watts for an athlete with the given FTP.
    pub fn watts(self, ftp_w: f64) -> f64 {
        match self {
            PowerTarget::PercentFtp(pct) => pct / 100.0 * ftp_w,
            PowerTarget::Watts(w) => w,
        }
    }
}

/// One `workout_step` message, with the sub-fields the FIT profile selects by duration and
/// target type already resolved.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FitWorkoutStep {
    /// The step's `message_index` (what repeat steps point back to); `None` when not written.
    pub message_index: Option<u16>,
    pub name: Option<String>,
    /// FIT `wkt_step_duration` name: "time", "open", "repeat_until_steps_cmplt", …
    /// (`WktStepDuration(n)` for a value the profile does not name).
    pub duration_type: Option<String>,
    /// Seconds, for the `time` and `repetition_time` duration types (written in ms).
    pub duration_s: Option<f64>,
    /// The first step of the block a `repeat_until_*` step repeats.
    pub repeat_from_step: Option<u16>,
    /// How many times a `repeat_until_steps_cmplt` block runs.
    pub repeat_count: Option<u32>,
    /// FIT `wkt_step_target` name: "power", "heart_rate", "open", …
    pub target_type: Option<String>,
    /// Lower bound of a custom `power` target.
    pub power_low: Option<PowerTarget>,
    /// Upper bound of a custom `power` target.
    pub power_high: Option<PowerTarget>,
    /// Raw `custom_target_value_low/high` whatever the target type (heart rate, cadence, …).
    pub custom_target_low: Option<u32>,
    pub custom_target_high: Option<u32>,
    /// FIT `intensity` name: "active", "rest", "warmup", "cooldown", "recovery", "interval".
    pub intensity: Option<String>,
}

/// A decoded FIT workout file: the `workout` message and its steps in file order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FitWorkout {
    pub file_id: Option<FileId>,
    pub name: Option<String>,
    /// FIT sport / sub-sport names ("cycling", "indoor_cycling", …).
    pub sport: Option<String>,
    pub sub_sport: Option<String>,
    /// `num_valid_steps` as written in the `workout` message.
    pub num_valid_steps: Option<u16>,
    pub steps: Vec<FitWorkoutStep>,
    /// The file ended before its declared size / CRC: `steps` hold what was read before the break.
    pub truncated: bool,
    /// Non-fatal problems (CRC mismatch, truncation, step count mismatch), each a full sentence.
    pub warnings: Vec<String>,
}
