//! `get_training_plan` and `plan_compliance`: the plan `generate` stored, and what was ridden;
//! `create_plan_overview`: a new plan from the chat, designed through the same tool (schema and
//! rule check) as `generate`'s plan phase.

use jiff::ToSpan;
use jiff::civil::Date;
use metrics::ActivitySummary;
use ride::Sport;
use serde_json::{Value, json};
use store::{ActivityRow, StoredPlan};

use super::staged::{Change, StagedWrite};
use super::{
    CoachTools, ComplianceArgs, CreatePlanParams, TrainingPlanArgs, display_name, failed, invalid,
    num, schema_for, store_err, tidy_schema,
};
use crate::toolbox::ToolError;
use coach::plan::{PlanWeek, PlannedWorkout, TrainingPlan, WorkoutType, weekday_name};

pub(super) const PLAN_DESCRIPTION: &str = "The athlete's stored training plan (made by \
`generate` or `create_plan_overview`): start/end dates, FTP it was built for, goal, every week \
(phase, focus, planned hours and TSS) and, for one week (by `week` number or a `date` in it; default the current \
week), its focus and planned workouts (date, type, name, duration_h, tss). Returns has_plan=false when no \
plan exists.";

pub(super) const COMPLIANCE_DESCRIPTION: &str = "Plan vs actual for one day (`date`) or one plan \
week (`week`; default the current week): each planned workout with the activities done that day \
(rides for bike workouts, strength sessions for strength), status completed / missed / upcoming, \
planned vs actual duration_h and TSS (actual = load_tss), duration_band (on_target 80–120 %, \
partly 50–150 %, off_target), activities on days without a planned workout as extra, and week \
totals with completion_pct (completed / (completed + missed)).";

const MAX_TEXT: usize = 120;

pub(super) fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

fn phase_str(w: &PlanWeek) -> Value {
    serde_json::to_value(w.phase).unwrap_or(Value::Null)
}

fn type_str(t: WorkoutType) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

fn parse_plan(tool: &str, stored: &StoredPlan) -> Result<TrainingPlan, ToolError> {
    serde_json::from_str(&stored.plan_json).map_err(|e| {
        failed(
            tool,
            format!(
                "stored plan {} cannot be read ({e}); regenerate it with `cycling-ai generate`",
                stored.id
            ),
        )
    })
}

/// The plan covering `date` (default today), else the newest plan.
fn find_plan(
    tools: &CoachTools,
    tool: &str,
    date: Option<Date>,
) -> Result<Option<(StoredPlan, TrainingPlan)>, ToolError> {
    let store = tools.open(tool)?;
    let day = date.unwrap_or(tools.today).to_string();
    let stored = match store
        .plan_covering(tools.athlete_id, &day)
        .map_err(store_err(tool))?
    {
        Some(p) => Some(p),
        None if date.is_none() => store
            .latest_plan(tools.athlete_id)
            .map_err(store_err(tool))?,
        None => None,
    };
    stored
        .map(|s| parse_plan(tool, &s).map(|p| (s, p)))
        .transpose()
}

fn week_containing(plan: &TrainingPlan, d: Date) -> Option<&PlanWeek> {
    plan.weeks
        .iter()
        .find(|w| w.start_date <= d && d <= w.end_date())
}

fn workout_json(p: &PlannedWorkout) -> Value {
    json!({
        "date": p.date.to_string(),
        "weekday": weekday_name::name(p.weekday),
        "type": type_str(p.workout.workout_type),
        "name": clip(&p.workout.name, 60),
        "duration_h": num(f64::from(p.duration_s) / 3600.0, 2),
        "tss": num(p.tss, 0),
        "description": clip(&p.workout.description, MAX_TEXT),
    })
}

fn resolve_week<'p>(
    tools: &CoachTools,
    tool: &str,
    plan: &'p TrainingPlan,
    week: Option<u32>,
    date: Option<Date>,
) -> Result<Option<&'p PlanWeek>, ToolError> {
    match (week, date) {
        (Some(_), Some(_)) => Err(invalid(tool, "give either `week` or `date`, not both")),
        (Some(n), None) => {
            let total = plan.weeks.len();
            if n == 0 || n as usize > total {
                return Err(invalid(
                    tool,
                    format!("week: {n} is outside this plan's weeks 1 to {total}"),
                ));
            }
            Ok(plan.weeks.iter().find(|w| w.week == n))
        }
        (None, Some(d)) => Ok(week_containing(plan, d)),
        (None, None) => Ok(week_containing(plan, tools.today)),
    }
}

pub(super) fn get_training_plan(
    tools: &CoachTools,
    a: TrainingPlanArgs,
) -> Result<Value, ToolError> {
    const TOOL: &str = "get_training_plan";
    let date = tools.opt_date_arg(TOOL, "date", a.date.as_deref())?;
    let Some((stored, plan)) = find_plan(tools, TOOL, date)? else {
        return Ok(json!({
            "has_plan": false,
            "note": match date {
                Some(d) => format!("no stored plan covers {d}"),
                None => "no training plan yet: `create_plan_overview` or `cycling-ai generate` \
                         makes one"
                    .to_owned(),
            },
        }));
    };
    let selected = resolve_week(tools, TOOL, &plan, a.week, date)?;
    let current = week_containing(&plan, tools.today).map(|w| w.week);
    let weeks: Vec<Value> = plan.weeks.iter().map(week_line).collect();
    Ok(json!({
        "has_plan": true,
        "plan_id": stored.id,
        "source": stored.source,
        "start_date": stored.start_date,
        "end_date": stored.end_date,
        "ftp_w": num(plan.ftp_w, 0),
        "goal": plan.goal.as_deref().map(|g| clip(g, MAX_TEXT)),
        "event_date": plan.event_date.map(|d| d.to_string()),
        "current_week": current,
        "weeks": weeks,
        "coaching_notes": clip(&plan.overview.coaching_notes, 400),
        "selected_week": selected.map(|w| json!({
            "week": w.week,
            "start": w.start_date.to_string(),
            "phase": phase_str(w),
            "focus": clip(&w.focus, MAX_TEXT),
            "planned_hours": num(w.planned_hours, 1),
            "planned_tss": num(w.planned_tss, 0),
            "workouts": w.workouts.iter().map(workout_json).collect::<Vec<_>>(),
        })),
    }))
}

pub(super) const CREATE_DESCRIPTION: &str = "Create and store a new training plan (it replaces \
the current one for `get_training_plan` and `plan_compliance`). Design every week: phase (base, \
build, recovery, peak, taper), a focus, and Monday-to-Sunday `workout_types` and `hours` (rest \
and 0 on days the athlete does not train). The plan has as many weeks as `weeks` lists (4 to \
24). The rules `generate` uses are checked: workouts only on the profile's training days, at \
least one rest day, at most three hard days a week and none back to back, load weeks within \
10 % of training_availability.hours_per_week and recovery/taper weeks 25-45 % below, load ramps \
of at most 10 %, a recovery week after at most three load weeks, a taper in or before the event \
week. Every broken rule is returned (week and day named) to fix and call again. Needs FTP, \
hours_per_week and week_days in the profile. The days are then filled with workouts from the \
library; returns the stored plan's weeks (phase, focus, planned hours and TSS).";

/// Longest `goal` accepted.
const MAX_GOAL_CHARS: usize = 200;

/// `create_plan_overview`'s schema: `generate`'s overview schema plus [`CreatePlanParams`].
pub(super) fn create_schema() -> Value {
    let mut schema = crate::plan_llm::tool_def().schema;
    let params = schema_for::<CreatePlanParams>();
    if let (Some(props), Some(extra)) = (
        schema["properties"].as_object_mut(),
        params["properties"].as_object(),
    ) {
        for (k, v) in extra {
            props.insert(k.clone(), v.clone());
        }
    }
    tidy_schema(&mut schema);
    schema
}

/// `create_plan_overview` up to the filled plan, not stored; the preview is the stored plan's
/// summary with `created: false`.
pub(super) fn stage_plan_overview(
    tools: &CoachTools,
    raw: &Value,
) -> Result<StagedWrite, ToolError> {
    use coach::planner::{FillInput, constraints_for, fill_plan, monday_of};
    const TOOL: &str = crate::plan_llm::TOOL_NAME;
    // The runner has checked that `raw` is an object with known, well-typed arguments; split
    // the plan parameters from the overview, which goes to `generate`'s own parser and check.
    let mut overview = raw.as_object().cloned().unwrap_or_default();
    let mut params = serde_json::Map::new();
    for key in ["start_date", "event_date", "goal"] {
        if let Some(v) = overview.remove(key).filter(|v| !v.is_null()) {
            params.insert(key.to_owned(), v);
        }
    }
    let params: CreatePlanParams = serde_json::from_value(Value::Object(params))
        .map_err(|e| invalid(TOOL, super::clean_serde_message(&e.to_string())))?;
    let this_monday = monday_of(tools.today);
    let start = match tools.opt_date_arg(TOOL, "start_date", params.start_date.as_deref())? {
        Some(d) if monday_of(d) < this_monday => {
            return Err(invalid(
                TOOL,
                format!(
                    "start_date: {d} is before this week (Monday {this_monday}); a plan starts \
                     this week or later"
                ),
            ));
        }
        Some(d) => monday_of(d),
        None => this_monday.checked_add(7.days()).unwrap_or(this_monday),
    };
    let event_date = tools.opt_date_arg(TOOL, "event_date", params.event_date.as_deref())?;
    let goal = match params.goal.as_deref().map(str::trim) {
        Some(g) if g.is_empty() || g.chars().count() > MAX_GOAL_CHARS => {
            return Err(invalid(
                TOOL,
                format!("goal: give 1 to {MAX_GOAL_CHARS} characters"),
            ));
        }
        g => g.map(str::to_owned),
    };
    let Some(profile) = tools.profile() else {
        return Err(failed(
            TOOL,
            "there is no athlete profile yet: ask the athlete for FTP, weekly training hours and \
             training days, save them with save_athlete_profile, then create the plan",
        ));
    };
    let weeks = overview
        .get("weeks")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let basis = constraints_for(
        &profile,
        tools.today,
        u32::try_from(weeks).unwrap_or(u32::MAX),
        start,
        event_date,
        goal,
    )
    .map_err(|e| {
        failed(
            TOOL,
            format!("{e}; ask the athlete and save it with save_athlete_profile first"),
        )
    })?;
    let checked = crate::plan_llm::check_arguments(&Value::Object(overview), &basis.constraints)
        .map_err(|errors| {
            invalid(
                TOOL,
                format!(
                    "the plan breaks {} rule(s); fix every one and call again: {}",
                    errors.len(),
                    errors.join("; ")
                ),
            )
        })?;
    let fill = FillInput {
        start_date: basis.constraints.start_date,
        ftp_w: basis.ftp_w,
        seed: 1,
        event_date: basis.constraints.event_date,
        goal: basis.goal,
    };
    let plan = fill_plan(&checked, &fill);
    let mut preview = plan_summary(&plan);
    preview["created"] = json!(false);
    Ok(StagedWrite::new(
        tools,
        TOOL,
        Change::Plan(Box::new(plan)),
        preview,
    ))
}

/// Store the prepared plan; it becomes the athlete's current plan.
pub(super) fn apply_plan(tools: &CoachTools, plan: &TrainingPlan) -> Result<Value, ToolError> {
    const TOOL: &str = crate::plan_llm::TOOL_NAME;
    let mut store = tools.open(TOOL)?;
    let plan_id =
        crate::plan_store::save_plan(&mut store, tools.athlete_id, plan, tools.plan_source)
            .map_err(|e| failed(TOOL, format!("storing the plan: {e}")))?;
    let mut out = plan_summary(plan);
    out["created"] = json!(true);
    out["plan_id"] = json!(plan_id);
    out["note"] = json!(
        "stored; get_training_plan shows a week's workouts, plan_compliance compares them with what was ridden"
    );
    Ok(out)
}

/// A plan's dates, goal and week lines (phase, focus, hours, TSS, number of workouts).
fn plan_summary(plan: &TrainingPlan) -> Value {
    let end = plan.end_date();
    let weeks: Vec<Value> = plan
        .weeks
        .iter()
        .map(|w| {
            let mut line = week_line(w);
            line["focus"] = json!(clip(&w.focus, 100));
            line["workouts"] = json!(
                w.workouts
                    .iter()
                    .filter(|p| p.workout.workout_type != WorkoutType::Rest)
                    .count()
            );
            line
        })
        .collect();
    json!({
        "start_date": plan.start_date.to_string(),
        "end_date": end.to_string(),
        "ftp_w": num(plan.ftp_w, 0),
        "goal": plan.goal.as_deref().map(|g| clip(g, MAX_TEXT)),
        "event_date": plan.event_date.map(|d| d.to_string()),
        "total_hours": num(plan.weeks.iter().map(|w| w.planned_hours).sum(), 1),
        "weeks": weeks,
    })
}

/// Whether an activity counts for a planned workout: strength sessions for strength workouts,
/// rides (any environment) for everything else.
fn matches(t: WorkoutType, s: &ActivitySummary) -> bool {
    match t {
        WorkoutType::Strength => s.sport.sport == Sport::Strength,
        WorkoutType::Rest => false,
        _ => s.sport.sport == Sport::Ride,
    }
}

/// TrainingPeaks-style compliance bands on actual/planned duration: on target 80–120 %, partly
/// 50–79 % or 121–150 %, off target beyond.
pub fn duration_band(pct: f64) -> &'static str {
    if (80.0..=120.0).contains(&pct) {
        "on_target"
    } else if (50.0..=150.0).contains(&pct) {
        "partly"
    } else {
        "off_target"
    }
}

/// Most activities listed for one day.
const MAX_DAY_ACTIVITIES: usize = 3;

fn actual_json(r: &ActivityRow, s: &ActivitySummary) -> Value {
    json!({
        "id": r.id,
        "name": display_name(r),
        "sport": s.sport.sport.as_str(),
        "duration_h": num(s.duration_s() / 3600.0, 2),
        "load_tss": num(s.load.unwrap_or(0.0), 0),
    })
}

pub(super) fn plan_compliance(tools: &CoachTools, a: ComplianceArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "plan_compliance";
    let date = tools.opt_date_arg(TOOL, "date", a.date.as_deref())?;
    let Some((stored, plan)) = find_plan(tools, TOOL, date)? else {
        return Err(failed(
            TOOL,
            match date {
                Some(d) => format!("no stored training plan covers {d}"),
                None => "no training plan yet: `create_plan_overview` or `cycling-ai generate` \
                         makes one"
                    .to_owned(),
            },
        ));
    };
    let week = resolve_week(tools, TOOL, &plan, a.week, date)?;
    let (from, to, week_no) = match (date, week) {
        (Some(d), w) => (d, d, w.map(|w| w.week)),
        (None, Some(w)) => (w.start_date, w.end_date(), Some(w.week)),
        (None, None) => {
            return Err(failed(
                TOOL,
                format!(
                    "today ({}) is outside the plan ({} to {}); give `week` (1 to {})",
                    tools.today,
                    stored.start_date,
                    stored.end_date,
                    plan.weeks.len()
                ),
            ));
        }
    };
    let store = tools.open(TOOL)?;
    let (rows, summaries): (Vec<ActivityRow>, Vec<ActivitySummary>) = store
        .summaries(tools.athlete_id, Some(from), Some(to))
        .map_err(store_err(TOOL))?
        .into_iter()
        .unzip();
    let planned: Vec<&PlannedWorkout> = plan
        .weeks
        .iter()
        .flat_map(|w| &w.workouts)
        .filter(|p| p.date >= from && p.date <= to && p.workout.workout_type != WorkoutType::Rest)
        .collect();
    let mut used = vec![false; rows.len()];
    let mut items = Vec::new();
    let (mut planned_h, mut actual_h, mut planned_tss, mut actual_tss) = (0.0, 0.0, 0.0, 0.0);
    let (mut completed, mut missed, mut upcoming) = (0u32, 0u32, 0u32);
    for p in &planned {
        let mine: Vec<usize> = (0..rows.len())
            .filter(|&i| {
                !used[i]
                    && summaries[i].local_date == p.date
                    && matches(p.workout.workout_type, &summaries[i])
            })
            .collect();
        for &i in &mine {
            used[i] = true;
        }
        let dur_h: f64 = mine
            .iter()
            .map(|&i| summaries[i].duration_s() / 3600.0)
            .sum();
        let tss: f64 = mine.iter().map(|&i| summaries[i].load.unwrap_or(0.0)).sum();
        let p_h = f64::from(p.duration_s) / 3600.0;
        planned_h += p_h;
        planned_tss += p.tss;
        actual_h += dur_h;
        actual_tss += tss;
        // Today counts as still to come until something is recorded.
        let status = if !mine.is_empty() {
            completed += 1;
            "completed"
        } else if p.date >= tools.today {
            upcoming += 1;
            "upcoming"
        } else {
            missed += 1;
            "missed"
        };
        items.push(json!({
            "date": p.date.to_string(),
            "planned": {
                "type": type_str(p.workout.workout_type),
                "name": clip(&p.workout.name, 60),
                "duration_h": num(p_h, 2),
                "tss": num(p.tss, 0),
            },
            "actual": mine.iter().take(MAX_DAY_ACTIVITIES).map(|&i| actual_json(&rows[i], &summaries[i])).collect::<Vec<_>>(),
            "status": status,
            "actual_duration_h": num(dur_h, 2),
            "actual_tss": num(tss, 0),
            "duration_pct": if p_h > 0.0 && !mine.is_empty() { num(dur_h / p_h * 100.0, 0) } else { Value::Null },
            "duration_band": (p_h > 0.0 && !mine.is_empty()).then(|| duration_band(dur_h / p_h * 100.0)),
            "tss_pct": if p.tss > 0.0 && !mine.is_empty() { num(tss / p.tss * 100.0, 0) } else { Value::Null },
        }));
    }
    let extra: Vec<usize> = (0..rows.len()).filter(|&i| !used[i]).collect();
    for &i in &extra {
        actual_h += summaries[i].duration_s() / 3600.0;
        actual_tss += summaries[i].load.unwrap_or(0.0);
    }
    let due = completed + missed;
    Ok(json!({
        "plan_id": stored.id,
        "week": week_no,
        "from": from.to_string(),
        "to": to.to_string(),
        "workouts": items,
        "extra": extra.iter().take(7).map(|&i| {
            let mut v = actual_json(&rows[i], &summaries[i]);
            v["date"] = json!(summaries[i].local_date.to_string());
            v
        }).collect::<Vec<_>>(),
        "totals": {
            "planned_workouts": planned.len(),
            "completed": completed,
            "missed": missed,
            "upcoming": upcoming,
            "extra": extra.len(),
            "completion_pct": if due > 0 { num(f64::from(completed) / f64::from(due) * 100.0, 0) } else { Value::Null },
            "planned_hours": num(planned_h, 1),
            "actual_hours": num(actual_h, 1),
            "planned_tss": num(planned_tss, 0),
            "actual_tss": num(actual_tss, 0),
        },
    }))
}

/// One plan week in a line: number, start, phase, planned hours and TSS.
fn week_line(w: &PlanWeek) -> Value {
    json!({
        "week": w.week,
        "start": w.start_date.to_string(),
        "phase": phase_str(w),
        "hours": num(w.planned_hours, 1),
        "tss": num(w.planned_tss, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::duration_band;

    #[test]
    fn duration_bands_edges() {
        assert_eq!(duration_band(80.0), "on_target");
        assert_eq!(duration_band(120.0), "on_target");
        assert_eq!(duration_band(79.9), "partly");
        assert_eq!(duration_band(150.0), "partly");
        assert_eq!(duration_band(49.0), "off_target");
        assert_eq!(duration_band(151.0), "off_target");
    }
}
