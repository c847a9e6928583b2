//! The coach's analysis tools: what a model may call in `chat` (and the report pipeline), over
//! one athlete's data in the store.
//!
//! Safety: a tool never takes a path or an athlete id from the model. [`CoachTools`] is built by
//! the caller for one athlete and one data directory; every query is scoped to that athlete id;
//! the only file a tool writes (the profile file of `save_athlete_profile`) is chosen by the user
//! through [`CoachTools::with_profile_file`]. Arguments are typed structs that reject unknown
//! fields; names and descriptions of activities are user text and travel only as JSON string
//! values.
//!
//! Results are compact JSON for a context window: lists are bounded (with `total` and
//! `truncated`), numbers rounded, units in key names (`np_w`, `duration_h`, `distance_km`,
//! `load_tss`). Every number comes from `metrics` over the store's per-ride summaries.

mod activities;
mod analysis;
mod args;
mod follow;
mod plan;
mod profile;
mod snapshot;
mod staged;

use std::path::PathBuf;
use std::sync::{OnceLock, RwLock};

use jiff::ToSpan;
use jiff::civil::Date;
use llm::provider::json_kind;
use metrics::ActivitySummary;
use ride::profile::Profile;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use store::{ActivityRow, Store};

use crate::toolbox::{ToolBox, ToolError, ToolSuccess};

pub use activities::{LIST_NAME_CHARS, MAX_LIST};
pub use analysis::distribution_label;
pub use args::*;
pub use plan::duration_band;
pub use snapshot::athlete_snapshot;
pub use staged::{StagedWrite, is_staged};

/// Name of every tool, in the stable order [`ToolBox::definitions`] offers them.
pub const TOOL_NAMES: [&str; 18] = [
    "get_athlete_profile",
    "list_activities",
    "get_activity",
    "compare_periods",
    "time_in_zones",
    "get_fitness_trend",
    "get_power_curve",
    "get_cross_training",
    "calculate_zones",
    "estimate_thresholds",
    "get_weekly_volume",
    "get_training_plan",
    "plan_compliance",
    "plan_status",
    "fitness_projection",
    "save_athlete_profile",
    "create_plan_overview",
    "adapt_plan",
];

/// The tools that change state (the agent loop must not reuse earlier results after them).
pub const MUTATING_TOOLS: [&str; 3] =
    ["save_athlete_profile", "create_plan_overview", "adapt_plan"];

/// Earliest date a tool accepts: older dates are typos, not training history.
pub const EARLIEST_DATE: Date = jiff::civil::date(1980, 1, 1);
/// How far past "today" a date may lie (plans and events are in the future).
pub const MAX_DAYS_AHEAD: i64 = 730;
/// Longest date range a tool analyses (ten years).
pub const MAX_RANGE_DAYS: i64 = 3660;

/// The coach's tools for one athlete.
///
/// Built by the caller (the chat command, the report pipeline) with everything a model must not
/// choose: the data directory, the athlete, the profile and the date that counts as today.
/// Each call opens its own [`Store`] (a `Store` is not `Sync`; SQLite in WAL mode lets parallel
/// calls read at the same time), so `CoachTools` is `Send + Sync`.
#[derive(Debug)]
pub struct CoachTools {
    data_dir: PathBuf,
    athlete_id: i64,
    today: Date,
    /// The profile in force; `save_athlete_profile` replaces it for later calls.
    profile: RwLock<Option<Profile>>,
    /// Where `save_athlete_profile` also writes the canonical profile file (chosen by the user).
    profile_file: Option<PathBuf>,
    /// Who designed a plan `create_plan_overview` stores (the store's `source` column).
    plan_source: &'static str,
}

impl CoachTools {
    /// Tools over `data_dir`'s store for `athlete_id`. `profile` is the athlete's profile (`None`
    /// before onboarding); `today` is the date defaults count back from (the caller passes the
    /// current local date, tests a fixed one).
    pub fn new(
        data_dir: PathBuf,
        athlete_id: i64,
        profile: Option<Profile>,
        today: Date,
    ) -> CoachTools {
        CoachTools {
            data_dir,
            athlete_id,
            today,
            profile: RwLock::new(profile),
            profile_file: None,
            plan_source: "chat",
        }
    }

    /// Record plans stored by `create_plan_overview` as designed by `source` (default "chat").
    pub fn with_plan_source(mut self, source: &'static str) -> CoachTools {
        self.plan_source = source;
        self
    }

    /// Also write the profile saved by `save_athlete_profile` to `path` (canonical JSON), the
    /// file the user named with `--profile`. The model never chooses this path.
    pub fn with_profile_file(mut self, path: PathBuf) -> CoachTools {
        self.profile_file = Some(path);
        self
    }

    pub fn athlete_id(&self) -> i64 {
        self.athlete_id
    }

    pub fn today(&self) -> Date {
        self.today
    }

    /// The profile in force (after any `save_athlete_profile`).
    pub fn profile(&self) -> Option<Profile> {
        self.profile
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_profile(&self, p: Profile) {
        *self
            .profile
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(p);
    }

    /// The compact athlete snapshot for the system prompt (see [`athlete_snapshot`]).
    pub fn snapshot(&self) -> Result<String, crate::bundle::DataError> {
        let store = Store::open(&self.data_dir)?;
        athlete_snapshot(&store, self.athlete_id, self.profile().as_ref(), self.today)
    }

    fn open(&self, tool: &str) -> Result<Store, ToolError> {
        Store::open(&self.data_dir).map_err(|e| failed(tool, format!("opening the store: {e}")))
    }
}

/// One tool: its definition and how it runs.
struct Spec {
    name: &'static str,
    description: &'static str,
    schema: Value,
    run: Runner,
    /// For a tool that writes: how its change is prepared without being applied
    /// ([`CoachTools::stage`]); `run` is then stage + apply.
    stage: Option<Stager>,
}

type Runner = Box<dyn Fn(&CoachTools, &Value) -> Result<Value, ToolError> + Send + Sync>;
type Stager =
    std::sync::Arc<dyn Fn(&CoachTools, &Value) -> Result<StagedWrite, ToolError> + Send + Sync>;

/// A spec for a tool that writes: `f` prepares the change from the parsed arguments, the
/// runner applies it at once (chat), [`CoachTools::stage`] stops before applying (previews).
fn staged_spec<A>(
    name: &'static str,
    description: &'static str,
    f: fn(&CoachTools, A) -> Result<StagedWrite, ToolError>,
) -> Spec
where
    A: DeserializeOwned + JsonSchema + 'static,
{
    let schema = schema_for::<A>();
    let checked = schema.clone();
    let stage: Stager =
        std::sync::Arc::new(move |tools, raw| f(tools, parse_args::<A>(name, &checked, raw)?));
    staged_runner(name, description, schema, stage)
}

fn staged_runner(
    name: &'static str,
    description: &'static str,
    schema: Value,
    stage: Stager,
) -> Spec {
    let run_stage = stage.clone();
    Spec {
        name,
        description,
        schema,
        run: Box::new(move |tools, raw| tools.apply(&run_stage(tools, raw)?)),
        stage: Some(stage),
    }
}

/// A spec whose runner parses the arguments into `A` first.
fn spec<A>(
    name: &'static str,
    description: &'static str,
    f: fn(&CoachTools, A) -> Result<Value, ToolError>,
) -> Spec
where
    A: DeserializeOwned + JsonSchema + 'static,
{
    let schema = schema_for::<A>();
    let checked = schema.clone();
    Spec {
        name,
        description,
        schema,
        run: Box::new(move |tools, raw| f(tools, parse_args::<A>(name, &checked, raw)?)),
        stage: None,
    }
}

/// A staged spec whose schema is given (not derived from one type) and whose stager gets the
/// argument object after [`check_args`] has passed it: `create_plan_overview` reuses
/// `generate`'s overview schema and parser and adds its own plan parameters.
fn raw_staged_spec(
    name: &'static str,
    description: &'static str,
    schema: Value,
    f: fn(&CoachTools, &Value) -> Result<StagedWrite, ToolError>,
) -> Spec {
    let checked = schema.clone();
    let stage: Stager = std::sync::Arc::new(move |tools, raw| {
        // A missing argument object counts as `{}`, as in `parse_args`.
        let empty = Map::new();
        let map = match raw {
            Value::Null => &empty,
            Value::Object(map) => map,
            other => {
                return Err(invalid(
                    name,
                    format!(
                        "the arguments must be a JSON object, got {}",
                        json_kind(other)
                    ),
                ));
            }
        };
        check_args(name, &checked, map)?;
        f(tools, &Value::Object(map.clone()))
    });
    staged_runner(name, description, schema, stage)
}

/// Checks the model's arguments against the tool's schema before serde sees them, so every
/// message names the argument (serde's own messages do not say which field failed): unknown
/// arguments (with the list of known ones), missing required ones, wrong JSON types and values
/// outside an enum. `null` counts as "not given".
fn check_args(tool: &str, schema: &Value, args: &Map<String, Value>) -> Result<(), ToolError> {
    let empty = Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    for (name, value) in args {
        let Some(p) = props.get(name) else {
            let known: Vec<&str> = props.keys().map(String::as_str).collect();
            return Err(invalid(
                tool,
                format!(
                    "unknown argument `{name}`; {}",
                    if known.is_empty() {
                        "this tool takes no arguments".to_owned()
                    } else {
                        format!("the arguments are: {}", known.join(", "))
                    }
                ),
            ));
        };
        if !value.is_null() {
            check_value(tool, name, p, value)?;
        }
    }
    if let Some(required) = schema["required"].as_array() {
        for r in required.iter().filter_map(Value::as_str) {
            if args.get(r).is_none_or(Value::is_null) {
                return Err(invalid(tool, format!("`{r}` is required")));
            }
        }
    }
    Ok(())
}

fn check_value(tool: &str, name: &str, p: &Value, v: &Value) -> Result<(), ToolError> {
    let wrong = |expected: &str| {
        let shown = v.to_string();
        let shown = if shown.chars().count() > 40 {
            format!("{}…", shown.chars().take(39).collect::<String>())
        } else {
            shown
        };
        Err(invalid(
            tool,
            format!(
                "`{name}`: expected {expected}, got {} {shown}",
                json_kind(v)
            ),
        ))
    };
    match p["type"].as_str() {
        Some("integer") => match v.as_f64() {
            Some(x) if x.fract() == 0.0 => {}
            _ => return wrong("a whole number"),
        },
        Some("number") if !v.is_number() => return wrong("a number"),
        Some("boolean") if !v.is_boolean() => return wrong("true or false"),
        Some("string") => {
            let Some(text) = v.as_str() else {
                return wrong("a string");
            };
            if let Some(options) = p["enum"].as_array()
                && !options.iter().any(|o| o.as_str() == Some(text))
            {
                let list: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
                return Err(invalid(
                    tool,
                    format!("`{name}`: {text:?} is not one of {}", list.join(", ")),
                ));
            }
        }
        Some("array") => {
            let Some(items) = v.as_array() else {
                return wrong("a list");
            };
            for (i, item) in items.iter().enumerate() {
                check_value(tool, &format!("{name}[{i}]"), &p["items"], item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn specs() -> &'static [Spec] {
    static SPECS: OnceLock<Vec<Spec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        vec![
            spec(
                "get_athlete_profile",
                profile::PROFILE_DESCRIPTION,
                profile::get_athlete_profile,
            ),
            spec(
                "list_activities",
                activities::LIST_DESCRIPTION,
                activities::list_activities,
            ),
            spec(
                "get_activity",
                activities::GET_DESCRIPTION,
                activities::get_activity,
            ),
            spec(
                "compare_periods",
                analysis::COMPARE_DESCRIPTION,
                analysis::compare_periods,
            ),
            spec(
                "time_in_zones",
                analysis::ZONES_DESCRIPTION,
                analysis::time_in_zones,
            ),
            spec(
                "get_fitness_trend",
                analysis::FITNESS_DESCRIPTION,
                analysis::get_fitness_trend,
            ),
            spec(
                "get_power_curve",
                analysis::CURVE_DESCRIPTION,
                analysis::get_power_curve,
            ),
            spec(
                "get_cross_training",
                analysis::CROSS_DESCRIPTION,
                analysis::get_cross_training,
            ),
            spec(
                "calculate_zones",
                profile::CALC_ZONES_DESCRIPTION,
                profile::calculate_zones,
            ),
            spec(
                "estimate_thresholds",
                analysis::THRESHOLDS_DESCRIPTION,
                analysis::estimate_thresholds,
            ),
            spec(
                "get_weekly_volume",
                analysis::WEEKLY_DESCRIPTION,
                analysis::get_weekly_volume,
            ),
            spec(
                "get_training_plan",
                plan::PLAN_DESCRIPTION,
                plan::get_training_plan,
            ),
            spec(
                "plan_compliance",
                plan::COMPLIANCE_DESCRIPTION,
                plan::plan_compliance,
            ),
            spec(
                "plan_status",
                follow::STATUS_DESCRIPTION,
                follow::plan_status,
            ),
            spec(
                "fitness_projection",
                follow::PROJECTION_DESCRIPTION,
                follow::fitness_projection,
            ),
            staged_spec(
                "save_athlete_profile",
                profile::SAVE_DESCRIPTION,
                profile::stage_athlete_profile,
            ),
            raw_staged_spec(
                crate::plan_llm::TOOL_NAME,
                plan::CREATE_DESCRIPTION,
                plan::create_schema(),
                plan::stage_plan_overview,
            ),
            spec("adapt_plan", follow::ADAPT_DESCRIPTION, follow::adapt_plan),
        ]
    })
}

impl ToolBox for CoachTools {
    fn definitions(&self) -> Vec<llm::ToolDef> {
        specs()
            .iter()
            .map(|s| llm::ToolDef {
                name: s.name.to_owned(),
                description: s.description.to_owned(),
                schema: s.schema.clone(),
            })
            .collect()
    }

    fn call(&self, name: &str, arguments: &Value) -> Result<ToolSuccess, ToolError> {
        let Some(spec) = specs().iter().find(|s| s.name == name) else {
            return Err(ToolError::UnknownTool {
                name: name.to_owned(),
                offered: TOOL_NAMES.join(", "),
            });
        };
        (spec.run)(self, arguments).map(|output| ToolSuccess {
            output,
            terminal: false,
        })
    }

    fn mutates(&self, name: &str) -> bool {
        MUTATING_TOOLS.contains(&name)
    }
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// The JSON Schema of an argument type, in the subset every provider accepts: subschemas
/// inlined (no `$ref` / `$defs`, which Gemini rejects), no `$schema` / `title`, no
/// non-standard `format`s (`uint32`, `double`), and optional fields as their plain type (they are
/// simply not `required`) instead of `["integer", "null"]` unions.
pub fn schema_for<A: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let mut value = generator.into_root_schema_for::<A>().to_value();
    if let Value::Object(map) = &mut value {
        map.remove("title");
        map.remove("$schema");
        // An argument-less tool still takes an (empty) object.
        map.entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    tidy_schema(&mut value);
    value
}

pub(crate) fn tidy_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            // anyOf [X, {"type":"null"}] (an optional struct or enum) → X, keeping this node's
            // own keywords (its description); done first so X's keywords are tidied below.
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(members)) = map.get(key) {
                    let non_null: Vec<Value> = members
                        .iter()
                        .filter(|m| m.get("type").and_then(Value::as_str) != Some("null"))
                        .cloned()
                        .collect();
                    if non_null.len() == 1 && members.len() == 2 {
                        map.remove(key);
                        if let Value::Object(inner) = &non_null[0] {
                            for (k, val) in inner {
                                map.entry(k.clone()).or_insert_with(|| val.clone());
                            }
                        }
                    }
                }
            }
            map.remove("format");
            // Wrapped doc comments keep their line breaks; a description is one paragraph.
            if let Some(Value::String(d)) = map.get_mut("description") {
                *d = d.split_whitespace().collect::<Vec<_>>().join(" ");
            }
            if map.get("default").is_some_and(Value::is_null) {
                map.remove("default");
            }
            // ["integer", "null"] → "integer".
            if let Some(Value::Array(types)) = map.get("type") {
                let kept: Vec<Value> = types
                    .iter()
                    .filter(|t| t.as_str() != Some("null"))
                    .cloned()
                    .collect();
                let t = if kept.len() == 1 {
                    kept[0].clone()
                } else {
                    Value::Array(kept)
                };
                map.insert("type".into(), t);
            }
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.retain(|x| !x.is_null());
            }
            // oneOf of string constants (an enum whose variants have doc comments) → enum.
            if let Some(Value::Array(members)) = map.get("oneOf")
                && !members.is_empty()
                && members
                    .iter()
                    .all(|m| m.get("const").is_some_and(Value::is_string))
            {
                let values: Vec<Value> = members.iter().map(|m| m["const"].clone()).collect();
                map.remove("oneOf");
                map.insert("type".into(), Value::from("string"));
                map.insert("enum".into(), Value::Array(values));
            }
            for child in map.values_mut() {
                tidy_schema(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_schema),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments, errors, dates and numbers shared by the tools

pub(crate) fn invalid(tool: &str, message: impl Into<String>) -> ToolError {
    ToolError::InvalidArguments {
        tool: tool.to_owned(),
        message: message.into(),
    }
}

pub(crate) fn failed(tool: &str, message: impl Into<String>) -> ToolError {
    ToolError::Failed {
        tool: tool.to_owned(),
        message: message.into(),
    }
}

/// The model's arguments as `A`. A missing or `null` argument object counts as `{}` (some
/// models send nothing for tools without parameters); anything but an object is refused.
fn parse_args<A: DeserializeOwned>(
    tool: &str,
    schema: &Value,
    raw: &Value,
) -> Result<A, ToolError> {
    let object = match raw {
        Value::Null => Value::Object(Map::new()),
        Value::Object(map) => {
            check_args(tool, schema, map)?;
            raw.clone()
        }
        other => {
            return Err(invalid(
                tool,
                format!(
                    "the arguments must be a JSON object, got {}",
                    json_kind(other)
                ),
            ));
        }
    };
    serde_json::from_value(object).map_err(|e| invalid(tool, clean_serde_message(&e.to_string())))
}

/// serde's messages name the field (`unknown field `path`, expected one of …`, `invalid type:
/// string "x", expected u32`) but end with a meaningless "at line 0 column 0" for a `Value`.
fn clean_serde_message(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

impl CoachTools {
    /// A `YYYY-MM-DD` argument, between [`EARLIEST_DATE`] and [`MAX_DAYS_AHEAD`] days after
    /// today.
    /// The optional date argument `field` (see `date_arg`).
    pub(crate) fn opt_date_arg(
        &self,
        tool: &str,
        field: &str,
        text: Option<&str>,
    ) -> Result<Option<Date>, ToolError> {
        text.map(|t| self.date_arg(tool, field, t)).transpose()
    }

    /// The date argument `field` (see `date_arg`), or today when it was left out.
    pub(crate) fn date_or_today(
        &self,
        tool: &str,
        field: &str,
        text: Option<&str>,
    ) -> Result<Date, ToolError> {
        match text {
            Some(t) => self.date_arg(tool, field, t),
            None => Ok(self.today),
        }
    }

    pub(crate) fn date_arg(&self, tool: &str, field: &str, text: &str) -> Result<Date, ToolError> {
        let t = text.trim();
        let shape_ok = t.len() == 10
            && t.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        let date = shape_ok.then(|| t.parse::<Date>().ok()).flatten();
        let Some(date) = date else {
            return Err(invalid(
                tool,
                format!(
                    "{field}: {text:?} is not a date; use YYYY-MM-DD, e.g. {}",
                    self.today
                ),
            ));
        };
        let latest = self.latest_allowed();
        if date < EARLIEST_DATE || date > latest {
            return Err(invalid(
                tool,
                format!(
                    "{field}: {date} is outside the accepted range {EARLIEST_DATE} to {latest}"
                ),
            ));
        }
        Ok(date)
    }

    fn latest_allowed(&self) -> Date {
        self.today
            .checked_add(MAX_DAYS_AHEAD.days())
            .unwrap_or(self.today)
    }

    /// The range `from..=to` of a period argument: `to` defaults to today; `from` to the
    /// `weeks` weeks (default `default_weeks`) ending at `to`. `weeks` and `from` exclude each
    /// other.
    pub(crate) fn range_arg(
        &self,
        tool: &str,
        from: Option<&str>,
        to: Option<&str>,
        weeks: Option<u32>,
        default_weeks: u32,
        max_weeks: u32,
    ) -> Result<(Date, Date), ToolError> {
        let to = self.date_or_today(tool, "to", to)?;
        if weeks.is_some() {
            weeks_arg(tool, weeks, default_weeks, max_weeks)?;
        }
        let from = match (from, weeks) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    tool,
                    "give either `from` or `weeks`, not both (`weeks` counts back from `to`)",
                ));
            }
            (Some(f), None) => self.date_arg(tool, "from", f)?,
            (None, w) => weeks_back(to, w.unwrap_or(default_weeks)),
        };
        if from > to {
            return Err(invalid(
                tool,
                format!("from: {from} is after to: {to}; `from` must be on or before `to`"),
            ));
        }
        let days = (to - from).get_days() as i64 + 1;
        let max_days = i64::from(max_weeks) * 7;
        if days > max_days {
            return Err(invalid(
                tool,
                format!(
                    "from/to: the range {from} to {to} spans {days} days; at most {max_days} days \
                     ({max_weeks} weeks) are accepted"
                ),
            ));
        }
        Ok((from, to))
    }
}

/// `weeks`, or `default` when it was left out; refused outside 1 to `max`.
pub(crate) fn weeks_arg(
    tool: &str,
    weeks: Option<u32>,
    default: u32,
    max: u32,
) -> Result<u32, ToolError> {
    let w = weeks.unwrap_or(default);
    if (1..=max).contains(&w) {
        Ok(w)
    } else {
        Err(invalid(
            tool,
            format!("weeks: {w} is outside the accepted range 1 to {max}"),
        ))
    }
}

/// First day of the `weeks` weeks (7·N days) ending at `to`.
pub(crate) fn weeks_back(to: Date, weeks: u32) -> Date {
    coach::bundle::period_start(to, weeks)
}

pub(crate) fn sport_of(s: SportArg) -> ride::Sport {
    match s {
        SportArg::Ride => ride::Sport::Ride,
        SportArg::Run => ride::Sport::Run,
        SportArg::Swim => ride::Sport::Swim,
        SportArg::Strength => ride::Sport::Strength,
        SportArg::Rowing => ride::Sport::Rowing,
        SportArg::Walk => ride::Sport::Walk,
        SportArg::Hike => ride::Sport::Hike,
        SportArg::Ski => ride::Sport::Ski,
        SportArg::Other => ride::Sport::Other,
    }
}

/// `x` rounded to `dp` decimals as a JSON number (an integer for 0 dp, so `250` not `250.0`);
/// `null` for non-finite values.
pub(crate) fn num(x: f64, dp: u32) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    if dp == 0 {
        // `+ 0.0` turns -0 into 0.
        return Value::from((x.round() + 0.0) as i64);
    }
    let f = 10f64.powi(dp as i32);
    Value::from((x * f).round() / f + 0.0)
}

pub(crate) fn opt_num(x: Option<f64>, dp: u32) -> Value {
    x.map_or(Value::Null, |x| num(x, dp))
}

/// Activity names are user text: kept as a JSON string, bounded in length.
pub(crate) fn display_name(row: &ActivityRow) -> String {
    const MAX_CHARS: usize = 80;
    let name = row
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or_else(
            || format!("{} on {}", row.sport.sport.as_str(), row.local_date),
            str::to_owned,
        );
    if name.chars().count() > MAX_CHARS {
        let cut: String = name.chars().take(MAX_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        name
    }
}

/// Power figures count only when measured (Strava's estimates are not a power meter).
pub(crate) fn measured(s: &ActivitySummary, v: Option<f64>) -> Option<f64> {
    v.filter(|_| !s.power_estimated)
}

pub(crate) fn load_source_str(s: &ActivitySummary) -> Value {
    s.load_source.map_or(Value::Null, |l| {
        Value::from(match l {
            metrics::LoadSource::Power => "power",
            metrics::LoadSource::HeartRate => "heart_rate",
            metrics::LoadSource::Duration => "duration",
            metrics::LoadSource::Strava => "strava",
        })
    })
}

/// Durations (s) of the best efforts reported by the tools.
pub const BEST_EFFORT_S: [u32; 7] = [5, 60, 300, 600, 1200, 3600, 7200];

/// "5s", "1min", "20min", "1h", "2h".
pub(crate) fn duration_label(s: u32) -> String {
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 || !s.is_multiple_of(3600) {
        format!("{}min", s / 60)
    } else {
        format!("{}h", s / 3600)
    }
}

/// Wraps a store error for the model (the store's message names the row).
pub(crate) fn store_err(tool: &str) -> impl Fn(store::StoreError) -> ToolError + '_ {
    move |e| failed(tool, format!("reading the store: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_and_stay_finite() {
        assert_eq!(num(249.6, 0), Value::from(250));
        assert_eq!(num(-0.2, 0), Value::from(0));
        assert_eq!(num(1.234, 1), Value::from(1.2));
        assert_eq!(num(f64::NAN, 1), Value::Null);
        assert_eq!(duration_label(5), "5s");
        assert_eq!(duration_label(300), "5min");
        assert_eq!(duration_label(3600), "1h");
        assert_eq!(duration_label(5400), "90min");
    }

    /// Shapes schemars produces that some providers reject, and what they become.
    #[derive(serde::Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Awkward {
        /// Optional nested enum.
        pick: Option<Documented>,
        /// Optional number.
        n: Option<u32>,
        /// Nested struct.
        inner: Option<Inner>,
        /// A list.
        days: Vec<String>,
    }
    #[derive(serde::Deserialize, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Documented {
        /// First.
        One,
        /// Second.
        Two,
    }
    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        x: f64,
    }

    #[test]
    fn schemas_are_inlined_and_free_of_nullable_unions() {
        let s = schema_for::<Awkward>();
        let text = s.to_string();
        for banned in [
            "$ref", "$defs", "$schema", "anyOf", "oneOf", "null", "format", "title",
        ] {
            assert!(!text.contains(banned), "{banned} in {text}");
        }
        let p = &s["properties"];
        assert_eq!(p["pick"]["type"], "string");
        assert_eq!(p["pick"]["enum"], serde_json::json!(["one", "two"]));
        assert_eq!(p["pick"]["description"], "Optional nested enum.");
        assert_eq!(p["n"]["type"], "integer");
        assert_eq!(p["inner"]["type"], "object");
        assert_eq!(p["inner"]["properties"]["x"]["type"], "number");
        assert_eq!(p["days"]["items"]["type"], "string");
        assert_eq!(s["required"], serde_json::json!(["days"]));
        assert_eq!(s["additionalProperties"], false);
    }

    #[test]
    fn serde_position_suffix_is_removed() {
        assert_eq!(
            clean_serde_message("unknown field `path` at line 0 column 0"),
            "unknown field `path`"
        );
    }
}
