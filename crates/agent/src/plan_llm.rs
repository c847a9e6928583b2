//! Phase 3 of `generate` with a model: the plan overview through one forced tool call.
//!
//! The model must call `create_plan_overview` ([`llm::ToolChoice::Tool`]); its arguments are
//! parsed into a [`PlanOverview`] and checked by [`coach::rules::check_overview`]. Violations go
//! back as the tool's result with `is_error: true` (the assistant turn with the call, then a user
//! turn with the result) for at most [`MAX_REPAIRS`] repairs, with the forced choice kept. A text
//! answer instead of the call is a failed attempt too. The weeks are then filled by the caller
//! from the workout library ([`coach::planner::fill_plan`]).
//!
//! The planner sees the analysis, not only the constraints: the prompt carries a digest of the
//! figures the analysis is written from ([`digest`]: volume trend, intensity distribution,
//! fitness and form, power bests, cross-training). It does not wait for the phase-2 narrative:
//! the narrative is prose written from the same figures, so the plan loses nothing the model
//! could act on, and both phases run at the same time.

use std::fmt::Write as _;

use jiff::civil::Weekday;
use llm::meter::{ForcedToolError, forced_tool_loop};
use llm::{CacheHints, LlmError, Message, Meter, Request, ToolChoice, ToolDef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis_llm::{ModelSettings, enum_name, inline_schema, pct, r0, r1};
use coach::bundle::AnalysisBundle;
use coach::plan::{
    DayPlan, Phase, PlanOverview, PlannedWorkout, Step, StepKind, TrainingPlan, WeekOverview,
    Workout, WorkoutType, weekday_name,
};
use coach::rules::{PlanConstraints, check_overview};

pub const TOOL_NAME: &str = "create_plan_overview";
pub const MAX_REPAIRS: u32 = 2;
/// Output budget of the overview call: a 24-week overview is about 3,500 tokens of JSON.
pub const DEFAULT_MAX_TOKENS: u32 = 8_000;

fn phase_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ["base", "build", "recovery", "peak", "taper"]
    })
}

fn workout_types_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "minItems": 7,
        "maxItems": 7,
        "items": {
            "type": "string",
            "enum": ["rest", "recovery", "endurance", "long_ride", "tempo", "sweet_spot",
                     "threshold", "vo2max", "anaerobic", "sprint", "strength"]
        }
    })
}

fn hours_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "minItems": 7,
        "maxItems": 7,
        "items": {"type": "number", "minimum": 0, "maximum": 8}
    })
}

/// One week, as the model writes it: the seven days as two Monday-first arrays rather than seven
/// objects, which keeps a 12-week overview under 1,000 output tokens. The week's target hours
/// are the sum of the days, computed here rather than asked for (one less way to be wrong).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeekArgs {
    /// 1, 2, 3, …
    pub week: u32,
    #[schemars(schema_with = "phase_schema")]
    pub phase: Phase,
    /// The week's training focus in a few words.
    pub focus: String,
    /// Monday to Sunday: the workout type of each day (`rest` on days off).
    #[schemars(schema_with = "workout_types_schema")]
    pub workout_types: Vec<WorkoutType>,
    /// Monday to Sunday: planned hours of each day (0 on rest days, in quarter hours).
    #[schemars(schema_with = "hours_schema")]
    pub hours: Vec<f64>,
}

/// The arguments of `create_plan_overview`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverviewArgs {
    /// Every week of the plan, in order.
    pub weeks: Vec<WeekArgs>,
    /// Two to four sentences on how the plan works towards the goal.
    pub coaching_notes: String,
    /// What to watch (form, fatigue signs, FTP retests).
    pub monitoring: String,
}

impl OverviewArgs {
    /// The overview, or what is wrong with the shape of the arguments (per week).
    pub fn into_overview(self) -> Result<PlanOverview, Vec<String>> {
        let mut errors = Vec::new();
        let mut weeks = Vec::with_capacity(self.weeks.len());
        for w in self.weeks {
            if w.workout_types.len() != 7 || w.hours.len() != 7 {
                errors.push(format!(
                    "week {}: workout_types and hours must each list the 7 days Monday to Sunday; got {} and {}",
                    w.week,
                    w.workout_types.len(),
                    w.hours.len()
                ));
                continue;
            }
            let days: Vec<DayPlan> = weekday_name::ALL
                .iter()
                .zip(w.workout_types.iter().zip(&w.hours))
                .map(|((weekday, _), (t, h))| DayPlan {
                    weekday: *weekday,
                    workout_type: *t,
                    hours: *h,
                })
                .collect();
            let target_hours = days.iter().map(|d| d.hours).sum();
            weeks.push(WeekOverview {
                week: w.week,
                phase: w.phase,
                focus: w.focus,
                days,
                target_hours,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PlanOverview {
            weeks,
            coaching_notes: self.coaching_notes,
            monitoring: self.monitoring,
        })
    }

    /// The arguments that describe `o` (tests, benchmarks, and a model's example answer).
    /// Days are put in Monday-first order whatever their order in `o`.
    pub fn from_overview(o: &PlanOverview) -> OverviewArgs {
        OverviewArgs {
            weeks: o
                .weeks
                .iter()
                .map(|w| {
                    let day = |d: Weekday| w.days.iter().find(|x| x.weekday == d);
                    WeekArgs {
                        week: w.week,
                        phase: w.phase,
                        focus: w.focus.clone(),
                        workout_types: weekday_name::ALL
                            .iter()
                            .map(|(d, _)| day(*d).map_or(WorkoutType::Rest, |x| x.workout_type))
                            .collect(),
                        hours: weekday_name::ALL
                            .iter()
                            .map(|(d, _)| day(*d).map_or(0.0, |x| x.hours))
                            .collect(),
                    }
                })
                .collect(),
            coaching_notes: o.coaching_notes.clone(),
            monitoring: o.monitoring.clone(),
        }
    }
}

/// The tool definition (stable bytes, cacheable).
pub fn tool_def() -> ToolDef {
    ToolDef {
        name: TOOL_NAME.into(),
        description: "Submit the periodised training-plan overview: every week with its phase, \
                      focus, all seven days (workout type and hours) and target hours."
            .into(),
        schema: inline_schema::<OverviewArgs>(),
    }
}

/// [`tool_def`] for a plan of `weeks` weeks: the week count as `minItems`/`maxItems` and the
/// texts' lengths as `maxLength`, so a server that constrains decoding to the schema cannot
/// emit an empty plan or a runaway string.
pub fn tool_def_for(weeks: usize) -> ToolDef {
    let mut def = tool_def();
    let props = &mut def.schema["properties"];
    props["weeks"]["minItems"] = weeks.into();
    props["weeks"]["maxItems"] = weeks.into();
    let limit = |node: &mut serde_json::Value, max: u32| {
        if node["type"] == "string" {
            node["maxLength"] = max.into();
        }
    };
    limit(&mut props["weeks"]["items"]["properties"]["focus"], 80);
    limit(&mut props["coaching_notes"], 1_000);
    limit(&mut props["monitoring"], 600);
    def
}

/// The stable system prompt: the role and every rule the code checks.
pub const SYSTEM_PROMPT: &str = "You are an experienced cycling coach designing a periodised training plan overview. \
Call create_plan_overview exactly once with the whole plan. The code checks these rules and returns violations to fix:\n\
- exactly the requested number of weeks, numbered 1, 2, 3, …; workout_types and hours list the 7 days Monday to Sunday;\n\
- workouts only on the athlete's available days; every other day is rest with 0 hours; at least one rest day a week;\n\
- workout days have more than 0 and at most 8 hours, in quarter hours; a week's hours are the sum of its days;\n\
- at most three hard days a week (sweet_spot, threshold, vo2max, anaerobic, sprint) and never two hard days in a row, also Sunday to Monday;\n\
- base/build/peak weeks total within ±10 % of the available hours; recovery and taper weeks 25–45 % below them;\n\
- a load week at most 10 % above the previous load week; at most three load weeks in a row (then a recovery week);\n\
- with an event date inside the plan, the event's week or the week before is a taper week.\n\
Use the analysis to choose the emphasis (what is lacking, fatigue, a stale FTP).";

/// What the planner is told.
#[derive(Debug, Clone)]
pub struct PlanPrompt<'a> {
    pub constraints: &'a PlanConstraints,
    pub goal: Option<&'a str>,
    pub ctl: Option<f64>,
    pub ftp_w: f64,
    pub bundle: &'a AnalysisBundle,
}

/// The figures of the bundle a planner acts on, a few lines (about 120 tokens): the volume
/// trend, the intensity distribution, fitness and ramp, power bests, cross-training. The
/// athlete's constraints, FTP and form are in the message already.
pub fn digest(b: &AnalysisBundle) -> String {
    let mut s = String::new();
    let c = &b.comparison;
    let _ = writeln!(
        s,
        "- Rides, last {w} weeks vs the {w} before: {} vs {} h/week ({} hours), load {} vs {} a week ({}), {} vs {} rides.",
        r1(c.recent.hours_per_week),
        r1(c.previous.hours_per_week),
        pct(c.change.hours_pct),
        r0(c.recent.load_per_week),
        r0(c.previous.load_per_week),
        pct(c.change.load_pct),
        c.recent.count,
        c.previous.count,
        w = b.period_weeks,
    );
    if let Some([easy, moderate, hard]) = b.zones.easy_moderate_hard_pct {
        let _ = writeln!(
            s,
            "- Intensity, last {} weeks: easy/moderate/hard {}/{}/{} % of the time with power.",
            b.period_weeks,
            r0(easy),
            r0(moderate),
            r0(hard)
        );
    }
    if let Some(now) = &b.fitness_now {
        let _ = writeln!(
            s,
            "- Fitness: CTL {}, ATL {}, ramp {} CTL/week.",
            r0(now.ctl),
            r0(now.atl),
            r1(now.ramp_rate)
        );
    }
    let mut power = Vec::new();
    if let Some(curve) = &b.power_curve {
        for (d, label) in [(300, "5 min"), (1200, "20 min")] {
            if d <= curve.max_duration_s()
                && let Some(w) = curve.at_least(d)
            {
                power.push(format!("{label} {} W", r0(w)));
            }
        }
    }
    if let Some(e) = &b.eftp {
        power.push(format!("eFTP {} W", r0(e.ftp_w)));
    }
    if !power.is_empty() {
        let _ = writeln!(
            s,
            "- Power bests, last {} weeks: {}.",
            b.period_weeks,
            power.join(", ")
        );
    }
    let other: Vec<String> = b
        .cross_training
        .categories
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| format!("{} {}x {} h", enum_name(&c.category), c.count, r1(c.hours)))
        .collect();
    if !other.is_empty() {
        let _ = writeln!(s, "- Activities by kind: {}.", other.join(", "));
    }
    s
}

/// The user message: constraints, current state and the digest of the analysis figures.
pub fn user_message(p: &PlanPrompt<'_>) -> String {
    let c = p.constraints;
    let mut s = String::new();
    let days: Vec<&str> = c
        .available_days
        .iter()
        .map(|d| weekday_name::name(*d))
        .collect();
    let _ = writeln!(
        s,
        "Design a {}-week plan starting Monday {}.",
        c.weeks, c.start_date
    );
    let _ = writeln!(s, "Available days: {}.", days.join(", "));
    let _ = writeln!(s, "Available hours per week: {:.1}.", c.hours_per_week);
    match c.event_date {
        Some(e) => {
            let _ = writeln!(s, "Event date: {e}.");
        }
        None => s.push_str("No event date.\n"),
    }
    if let Some(g) = p.goal {
        let _ = writeln!(
            s,
            "Goal (athlete's words): {}",
            serde_json::to_string(g).unwrap_or_default()
        );
    }
    let _ = write!(s, "FTP {:.0} W", p.ftp_w);
    if let Some(ctl) = p.ctl {
        let _ = write!(s, "; current fitness CTL {ctl:.0}");
    }
    if let Some(now) = &p.bundle.fitness_now {
        let _ = write!(s, ", form TSB {:.0}", now.tsb);
    }
    if let Some(st) = &p.bundle.stale_ftp {
        let _ = write!(
            s,
            "; recent bests imply FTP {:.0} W (profile stale)",
            st.implied_ftp_w
        );
    }
    s.push_str(".\n\nThe analysis in figures:\n");
    s.push_str(&digest(p.bundle));
    s
}

#[derive(Debug, thiserror::Error)]
pub enum PlanLlmError {
    #[error("the model call failed: {0}")]
    Model(#[from] LlmError),
    #[error(
        "the model's plan overview was not accepted after {attempts} attempts: {}",
        errors.join("; ")
    )]
    Invalid { attempts: u32, errors: Vec<String> },
}

impl From<ForcedToolError> for PlanLlmError {
    fn from(e: ForcedToolError) -> Self {
        match e {
            ForcedToolError::Model(e) => PlanLlmError::Model(e),
            ForcedToolError::Invalid { attempts, errors } => {
                PlanLlmError::Invalid { attempts, errors }
            }
        }
    }
}

/// The first request of the phase.
pub fn initial_request(settings: &ModelSettings, prompt: &PlanPrompt<'_>) -> Request {
    let mut r = Request::new(
        settings.model.clone(),
        vec![Message::user(user_message(prompt))],
        settings.max_tokens,
    );
    r.system = Some(SYSTEM_PROMPT.into());
    r.tools = vec![tool_def_for(prompt.constraints.weeks as usize)];
    r.tool_choice = ToolChoice::Tool(TOOL_NAME.into());
    r.temperature = Some(
        settings
            .temperature
            .unwrap_or(crate::analysis_llm::STRUCTURED_TEMPERATURE),
    );
    r.cache = CacheHints {
        system: true,
        tools: true,
    };
    r
}

/// Parse and rule-check a call's arguments; errors are written for the model.
pub fn check_arguments(
    arguments: &serde_json::Value,
    constraints: &PlanConstraints,
) -> Result<PlanOverview, Vec<String>> {
    let args: OverviewArgs = serde_json::from_value(arguments.clone()).map_err(|e| {
        vec![format!(
            "the arguments do not match the create_plan_overview schema: {e}"
        )]
    })?;
    let overview = args.into_overview()?;
    let violations = check_overview(&overview, constraints);
    if violations.is_empty() {
        Ok(overview)
    } else {
        Err(violations.into_iter().map(|v| v.message).collect())
    }
}

/// Run phase 3's design step: the overview, with at most [`MAX_REPAIRS`] repairs.
pub async fn design_overview(
    meter: &mut Meter<'_>,
    settings: &ModelSettings,
    prompt: &PlanPrompt<'_>,
) -> Result<PlanOverview, PlanLlmError> {
    let request = initial_request(settings, prompt);
    Ok(
        forced_tool_loop(meter, request, TOOL_NAME, MAX_REPAIRS, |args| {
            check_arguments(args, prompt.constraints)
        })
        .await?,
    )
}

// ---------------------------------------------------------------------------------------------
// `--workout-source llm`: the model writes each week's workouts
// ---------------------------------------------------------------------------------------------

pub const WEEK_TOOL: &str = "write_week_workouts";
/// Output budget of one week's workouts (four to six sessions of a few sets each).
pub const WEEK_MAX_TOKENS: u32 = 4_000;
/// A workout's steps may last this much more or less than the day's planned hours.
pub const DURATION_TOLERANCE: f64 = 0.15;
/// Power targets outside this range (% of FTP) are typos, not training.
pub const MIN_PCT: f64 = 30.0;
pub const MAX_PCT: f64 = 200.0;
pub const MAX_REPEAT: u32 = 30;

fn step_kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ["warmup", "work", "recovery", "cooldown", "steady"]
    })
}

fn weekday_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    })
}

fn workout_type_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ["recovery", "endurance", "long_ride", "tempo", "sweet_spot",
                 "threshold", "vo2max", "anaerobic", "sprint"]
    })
}

/// One step: steady when `from_pct` equals `to_pct`, else a linear ramp.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepArgs {
    #[schemars(schema_with = "step_kind_schema")]
    pub kind: StepKind,
    pub minutes: f64,
    /// Power at the start, % of FTP (30–200).
    pub from_pct: f64,
    /// Power at the end, % of FTP (30–200); equal to from_pct for a steady step.
    pub to_pct: f64,
}

/// A set: its steps done `repeat` times (1 for a single pass), kept as a set in the plan.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetArgs {
    pub repeat: u32,
    pub steps: Vec<StepArgs>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkoutArgs {
    #[serde(with = "weekday_name")]
    #[schemars(schema_with = "weekday_schema")]
    pub weekday: Weekday,
    /// Must be the type the overview plans for that day.
    #[schemars(schema_with = "workout_type_schema")]
    pub workout_type: WorkoutType,
    pub name: String,
    /// One or two sentences: purpose and how to ride it.
    pub description: String,
    /// Warm-up, main sets, cool-down, in order.
    pub sets: Vec<SetArgs>,
}

/// The arguments of `write_week_workouts`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeekWorkoutsArgs {
    pub workouts: Vec<WorkoutArgs>,
}

pub fn week_tool_def() -> ToolDef {
    ToolDef {
        name: WEEK_TOOL.into(),
        description: "Submit the workouts of one plan week: one per listed day, with power \
                      targets as % of FTP and interval sets as sets."
            .into(),
        schema: week_schema(),
    }
}

/// The week tool's schema with the bounds the code checks written into it (one to seven
/// workouts, repeats 1–[`MAX_REPEAT`], targets [`MIN_PCT`]–[`MAX_PCT`] % of FTP) and lengths on
/// the texts, so a server that constrains decoding to the schema cannot emit an empty week, a
/// runaway name or an endless list of sets.
fn week_schema() -> serde_json::Value {
    let mut schema = inline_schema::<WeekWorkoutsArgs>();
    let workouts = &mut schema["properties"]["workouts"];
    workouts["minItems"] = 1.into();
    workouts["maxItems"] = 7.into();
    let workout = &mut workouts["items"]["properties"];
    workout["name"]["maxLength"] = 80.into();
    workout["description"]["maxLength"] = 400.into();
    let sets = &mut workout["sets"];
    sets["minItems"] = 1.into();
    sets["maxItems"] = 12.into();
    let set = &mut sets["items"]["properties"];
    set["repeat"]["minimum"] = 1.into();
    set["repeat"]["maximum"] = MAX_REPEAT.into();
    set["steps"]["minItems"] = 1.into();
    set["steps"]["maxItems"] = 10.into();
    let step = &mut set["steps"]["items"]["properties"];
    for pct in ["from_pct", "to_pct"] {
        step[pct]["minimum"] = MIN_PCT.into();
        step[pct]["maximum"] = MAX_PCT.into();
    }
    step["minutes"]["exclusiveMinimum"] = 0.into();
    schema
}

pub const WEEK_SYSTEM_PROMPT: &str = "You are an experienced cycling coach writing the workouts of one week of a training plan. \
Call write_week_workouts once with one workout for every day listed, and no other day. Rules the code checks:\n\
- workout_type is the type listed for that day;\n\
- the steps last the day's hours within ±15 % (repeats count: a set of 5 × (4 min + 3 min) lasts 35 min);\n\
- power targets are % of FTP between 30 and 200; steady steps have from_pct = to_pct, ramps (warm-ups, cool-downs) differ;\n\
- intervals are a set with repeat > 1 (at most 30), never written out one by one; steps last more than 0 minutes.\n\
Match the intensity to the type (recovery < 55 %, endurance 56–75 %, tempo 76–90 %, sweet spot 88–94 %, threshold 95–105 %, VO2max 106–120 %, anaerobic 121–150 %, sprint > 150 %), with a warm-up and a cool-down.";

/// The days of a week the model writes: every workout day except strength (gym sessions come
/// from the library: power targets mean nothing there).
pub fn writable_days(week: &WeekOverview) -> Vec<&DayPlan> {
    week.days
        .iter()
        .filter(|d| !matches!(d.workout_type, WorkoutType::Rest | WorkoutType::Strength))
        .collect()
}

fn hours_text(h: f64) -> String {
    let m = (h * 60.0).round() as i64;
    format!("{} h {:02} min", m / 60, m % 60)
}

/// The request for one week.
pub fn week_request(
    settings: &ModelSettings,
    week: &WeekOverview,
    weeks: usize,
    ftp_w: f64,
) -> Request {
    let mut m = format!(
        "Week {} of {weeks} ({}): focus {}. FTP {ftp_w:.0} W. Days to write:\n",
        week.week,
        serde_json::to_value(week.phase)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        serde_json::to_string(&week.focus).unwrap_or_default()
    );
    for d in writable_days(week) {
        let _ = writeln!(
            m,
            "- {}: {}, {}",
            weekday_name::name(d.weekday),
            serde_json::to_value(d.workout_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            hours_text(d.hours)
        );
    }
    let mut r = Request::new(
        settings.model.clone(),
        vec![Message::user(m)],
        settings.max_tokens,
    );
    r.system = Some(WEEK_SYSTEM_PROMPT.into());
    r.tools = vec![week_tool_def()];
    r.tool_choice = ToolChoice::Tool(WEEK_TOOL.into());
    r.temperature = Some(
        settings
            .temperature
            .unwrap_or(crate::analysis_llm::STRUCTURED_TEMPERATURE),
    );
    r.cache = CacheHints {
        system: true,
        tools: true,
    };
    r
}

fn steps_of(sets: &[SetArgs]) -> Vec<Step> {
    let one = |s: &StepArgs| {
        let duration_s = (s.minutes * 60.0).round() as u32;
        if (s.from_pct - s.to_pct).abs() < 1e-9 {
            Step::Steady {
                kind: s.kind,
                duration_s,
                power_low_pct: s.from_pct,
                power_high_pct: s.to_pct,
            }
        } else {
            Step::Ramp {
                kind: s.kind,
                duration_s,
                from_pct: s.from_pct,
                to_pct: s.to_pct,
            }
        }
    };
    let mut out = Vec::new();
    for set in sets {
        let steps: Vec<Step> = set.steps.iter().map(one).collect();
        if set.repeat == 1 {
            out.extend(steps);
        } else {
            out.push(Step::Repeat {
                times: set.repeat,
                steps,
            });
        }
    }
    out
}

/// Parse and check one week's workouts against the overview's week. Messages name the week, the
/// day, the set and the step.
pub fn check_week(
    arguments: &serde_json::Value,
    week: &WeekOverview,
) -> Result<Vec<(Weekday, Workout)>, Vec<String>> {
    let w = week.week;
    let args: WeekWorkoutsArgs = serde_json::from_value(arguments.clone()).map_err(|e| {
        vec![format!(
            "week {w}: the arguments do not match the {WEEK_TOOL} schema: {e}"
        )]
    })?;
    let days = writable_days(week);
    let mut errors = Vec::new();
    let mut seen: Vec<Weekday> = Vec::new();
    let mut out = Vec::new();
    for a in args.workouts {
        let day_name = weekday_name::name(a.weekday);
        let Some(day) = days.iter().find(|d| d.weekday == a.weekday) else {
            let listed: Vec<&str> = days.iter().map(|d| weekday_name::name(d.weekday)).collect();
            errors.push(format!(
                "week {w}: {day_name} is not a day to write (write only {})",
                listed.join(", ")
            ));
            continue;
        };
        if seen.contains(&a.weekday) {
            errors.push(format!("week {w}: {day_name} has more than one workout"));
            continue;
        }
        seen.push(a.weekday);
        if a.workout_type != day.workout_type {
            errors.push(format!(
                "week {w} {day_name}: workout_type is {} but the overview plans {}",
                serde_json::to_value(a.workout_type).unwrap_or_default(),
                serde_json::to_value(day.workout_type).unwrap_or_default()
            ));
        }
        if a.sets.is_empty() {
            errors.push(format!("week {w} {day_name}: the workout has no sets"));
        }
        let mut bad_step = false;
        for (si, set) in a.sets.iter().enumerate() {
            let at = format!("week {w} {day_name} set {}", si + 1);
            if !(1..=MAX_REPEAT).contains(&set.repeat) {
                errors.push(format!(
                    "{at}: repeat {} is outside 1–{MAX_REPEAT}",
                    set.repeat
                ));
                bad_step = true;
            }
            if set.steps.is_empty() {
                errors.push(format!("{at}: the set has no steps"));
                bad_step = true;
            }
            for (ti, st) in set.steps.iter().enumerate() {
                let at = format!("{at} step {}", ti + 1);
                if !(st.minutes.is_finite() && st.minutes > 0.0 && st.minutes <= 480.0) {
                    errors.push(format!(
                        "{at}: {} minutes; a step lasts more than 0 and at most 480 minutes",
                        st.minutes
                    ));
                    bad_step = true;
                }
                for (field, pct) in [("from_pct", st.from_pct), ("to_pct", st.to_pct)] {
                    if !(pct.is_finite() && (MIN_PCT..=MAX_PCT).contains(&pct)) {
                        errors.push(format!(
                            "{at}: {field} {pct} % of FTP is outside {MIN_PCT:.0}–{MAX_PCT:.0} %"
                        ));
                        bad_step = true;
                    }
                }
            }
        }
        if bad_step {
            continue;
        }
        let steps = steps_of(&a.sets);
        let secs = f64::from(coach::planned_tss::duration_s(&steps));
        let target = day.hours * 3600.0;
        if (secs - target).abs() > DURATION_TOLERANCE * target {
            errors.push(format!(
                "week {w} {day_name}: the steps last {} but the day plans {} (±15 %)",
                hours_text(secs / 3600.0),
                hours_text(day.hours)
            ));
            continue;
        }
        out.push((
            a.weekday,
            Workout {
                id: format!("llm-w{w}-{day_name}"),
                name: a.name.trim().to_string(),
                workout_type: a.workout_type,
                description: a.description.trim().to_string(),
                steps,
            },
        ));
    }
    for d in &days {
        if !seen.contains(&d.weekday) {
            errors.push(format!(
                "week {w}: no workout for {} ({}, {})",
                weekday_name::name(d.weekday),
                serde_json::to_value(d.workout_type).unwrap_or_default(),
                hours_text(d.hours)
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn round_to(x: f64, step: f64) -> f64 {
    (x / step).round() * step
}

/// Replace the library's rides of every week with workouts the model writes (one forced call per
/// week, each with its own repairs). Strength days keep their library session.
pub async fn write_weeks(
    meter: &mut Meter<'_>,
    settings: &ModelSettings,
    plan: &mut TrainingPlan,
) -> Result<(), PlanLlmError> {
    let weeks = plan.overview.weeks.len();
    for (wi, ow) in plan.overview.weeks.clone().iter().enumerate() {
        if writable_days(ow).is_empty() {
            continue;
        }
        let request = week_request(settings, ow, weeks, plan.ftp_w);
        let written = forced_tool_loop(meter, request, WEEK_TOOL, MAX_REPAIRS, |a| {
            check_week(a, ow)
        })
        .await?;
        let week = &mut plan.weeks[wi];
        for (weekday, workout) in written {
            let duration_s = coach::planned_tss::duration_s(&workout.steps);
            let tss = round_to(coach::planned_tss::planned_tss(&workout.steps), 0.1);
            match week.workouts.iter_mut().find(|p| p.weekday == weekday) {
                Some(p) => {
                    p.workout = workout;
                    p.duration_s = duration_s;
                    p.tss = tss;
                }
                None => {
                    let offset = i64::from(weekday.to_monday_zero_offset());
                    let date = week
                        .start_date
                        .checked_add(jiff::Span::new().days(offset))
                        .unwrap_or(week.start_date);
                    week.workouts.push(PlannedWorkout {
                        date,
                        weekday,
                        workout,
                        duration_s,
                        tss,
                    });
                }
            }
        }
        week.workouts.sort_by_key(|p| p.date);
        week.planned_hours = round_to(
            week.workouts
                .iter()
                .map(|p| f64::from(p.duration_s))
                .sum::<f64>()
                / 3600.0,
            0.01,
        );
        week.planned_tss = round_to(week.workouts.iter().map(|p| p.tss).sum(), 0.1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overview_schema_carries_the_week_count_and_string_limits() {
        let def = tool_def_for(8);
        let p = &def.schema["properties"];
        assert_eq!(p["weeks"]["minItems"], 8);
        assert_eq!(p["weeks"]["maxItems"], 8);
        assert_eq!(p["weeks"]["items"]["properties"]["focus"]["maxLength"], 80);
        assert_eq!(p["coaching_notes"]["maxLength"], 1_000);
        assert_eq!(p["monitoring"]["maxLength"], 600);
    }
    use coach::planner::{PlannerInput, offline_overview};
    use jiff::civil::date;

    fn constraints() -> PlanConstraints {
        PlanConstraints {
            weeks: 8,
            available_days: vec![
                Weekday::Tuesday,
                Weekday::Thursday,
                Weekday::Saturday,
                Weekday::Sunday,
            ],
            hours_per_week: 7.0,
            event_date: None,
            start_date: date(2026, 3, 2),
        }
    }

    fn overview_json() -> serde_json::Value {
        let o = offline_overview(&PlannerInput {
            constraints: constraints(),
            goal: None,
            ctl: Some(50.0),
            ftp_w: 250.0,
            trains_strength: false,
            start_phase: None,
        });
        serde_json::to_value(OverviewArgs::from_overview(&o)).unwrap()
    }

    #[test]
    fn a_valid_overview_round_trips_through_the_tool_arguments() {
        let v = overview_json();
        let o = check_arguments(&v, &constraints()).unwrap();
        assert_eq!(o.weeks.len(), 8);
        assert_eq!(
            serde_json::to_value(OverviewArgs::from_overview(&o)).unwrap(),
            v
        );
        // Target hours are the sum of the days, Monday first.
        let w = &o.weeks[0];
        assert_eq!(w.days[0].weekday, Weekday::Monday);
        assert!((w.target_hours - w.days.iter().map(|d| d.hours).sum::<f64>()).abs() < 1e-9);
        assert!((w.target_hours - 7.0).abs() <= 0.7, "{}", w.target_hours);
    }

    #[test]
    fn rule_breaks_and_schema_breaks_are_reported_for_the_model() {
        let mut v = overview_json();
        // A workout on Monday, which is not an available day.
        v["weeks"][0]["workout_types"][0] = "endurance".into();
        v["weeks"][0]["hours"][0] = 1.0.into();
        let e = check_arguments(&v, &constraints()).unwrap_err();
        assert!(
            e.iter()
                .any(|m| m.starts_with("week 1:") && m.contains("monday")),
            "{e:?}"
        );
        let mut v = overview_json();
        v["weeks"][0]["phase"] = "bulk".into();
        let e = check_arguments(&v, &constraints()).unwrap_err();
        assert!(e[0].contains("schema") && e[0].contains("bulk"), "{e:?}");
        let mut v = overview_json();
        v["weeks"][2]["hours"] = serde_json::json!([1.0, 2.0]);
        let e = check_arguments(&v, &constraints()).unwrap_err();
        assert_eq!(
            e,
            vec!["week 3: workout_types and hours must each list the 7 days Monday to Sunday; got 7 and 2".to_string()]
        );
    }

    #[test]
    fn the_tool_schema_is_inline_with_enums() {
        let s = tool_def().schema;
        let text = s.to_string();
        assert!(!text.contains("$ref"), "{text}");
        let week = &s["properties"]["weeks"]["items"]["properties"];
        assert_eq!(week["workout_types"]["items"]["enum"][3], "long_ride");
        assert_eq!(week["workout_types"]["minItems"], 7);
        assert_eq!(week["hours"]["maxItems"], 7);
        assert_eq!(week["phase"]["enum"][0], "base");
    }

    #[test]
    fn the_week_schema_carries_the_checked_bounds() {
        let s = week_tool_def().schema;
        let w = &s["properties"]["workouts"];
        assert_eq!(
            (w["minItems"].clone(), w["maxItems"].clone()),
            (1.into(), 7.into())
        );
        let workout = &w["items"]["properties"];
        assert_eq!(workout["name"]["type"], "string");
        assert_eq!(workout["name"]["maxLength"], 80);
        let set = &workout["sets"]["items"]["properties"];
        assert_eq!(set["repeat"]["maximum"], MAX_REPEAT);
        let step = &set["steps"]["items"]["properties"];
        assert_eq!(step["from_pct"]["minimum"], MIN_PCT);
        assert_eq!(step["to_pct"]["maximum"], MAX_PCT);
        assert_eq!(step["kind"]["enum"][1], "work");
        assert!(!s.to_string().contains("$ref"));
    }
    /// Valid arguments for `write_week_workouts`: one steady ride per writable day at its
    /// planned length, optionally with a set of intervals.
    fn week_args(week: &WeekOverview) -> serde_json::Value {
        let workouts: Vec<serde_json::Value> = writable_days(week)
            .iter()
            .map(|d| {
                serde_json::json!({
                    "weekday": weekday_name::name(d.weekday),
                    "workout_type": d.workout_type,
                    "name": "Ride",
                    "description": "Steady.",
                    "sets": [
                        {"repeat": 1, "steps": [{"kind": "warmup", "minutes": 10.0, "from_pct": 50.0, "to_pct": 70.0}]},
                        {"repeat": 2, "steps": [{"kind": "work", "minutes": (d.hours * 60.0 - 10.0) / 2.0, "from_pct": 70.0, "to_pct": 70.0}]}
                    ]
                })
            })
            .collect();
        serde_json::json!({ "workouts": workouts })
    }

    fn first_week() -> WeekOverview {
        let v = overview_json();
        check_arguments(&v, &constraints()).unwrap().weeks[0].clone()
    }

    #[test]
    fn week_workouts_keep_sets_and_fit_the_day() {
        let week = first_week();
        let out = check_week(&week_args(&week), &week).unwrap();
        assert_eq!(out.len(), writable_days(&week).len());
        let (day, w) = &out[0];
        let planned = week.days.iter().find(|d| d.weekday == *day).unwrap();
        assert_eq!(
            f64::from(coach::planned_tss::duration_s(&w.steps)),
            (planned.hours * 3600.0).round()
        );
        assert!(
            matches!(w.steps[1], Step::Repeat { times: 2, .. }),
            "{:?}",
            w.steps
        );
        assert!(matches!(w.steps[0], Step::Ramp { .. }));
    }

    #[test]
    fn week_workouts_errors_name_week_day_set_and_step() {
        let week = first_week();
        let mut v = week_args(&week);
        v["workouts"][0]["sets"][1]["steps"][0]["from_pct"] = 250.0.into();
        v["workouts"][0]["sets"][1]["steps"][0]["to_pct"] = 250.0.into();
        let day0 = v["workouts"][0]["weekday"].as_str().unwrap().to_string();
        v["workouts"][1]["workout_type"] = "sprint".into();
        v["workouts"][2]["sets"][1]["repeat"] = 1.into();
        let removed = v["workouts"].as_array_mut().unwrap().pop().unwrap();
        let e = check_week(&v, &week).unwrap_err();
        assert!(
            e.contains(&format!(
                "week 1 {day0} set 2 step 1: from_pct 250 % of FTP is outside 30–200 %"
            )),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m.contains("workout_type is \"sprint\"")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("the steps last") && m.contains("(±15 %)")),
            "{e:?}"
        );
        let missing = removed["weekday"].as_str().unwrap();
        assert!(
            e.iter()
                .any(|m| m.starts_with(&format!("week 1: no workout for {missing}"))),
            "{e:?}"
        );
    }
}
