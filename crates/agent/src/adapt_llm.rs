//! `plan adapt` with a model: the remaining weeks re-designed through the same forced
//! `create_plan_overview` call as `generate`'s plan phase, checked against the same rules.
//!
//! The model sees the plan as it stands (every week's phase, days and hours), which weeks are
//! done and must come back unchanged, what happened (the signals: the last week as done, a
//! fatigue signal, a moved event), the days off and the athlete's reason, and returns the whole
//! plan. The weeks already started are then put back exactly as they were (history cannot be
//! rewritten, whatever the model returned for them); the new weeks must pass every rule within
//! the whole plan ([`coach::adapt::check_new_weeks`]) or go back to the model as the tool's
//! error for at most [`crate::plan_llm::MAX_REPAIRS`] repairs. The caller falls back to the
//! rule-based re-plan when the model still fails.

use std::fmt::Write as _;

use coach::adapt::{AdaptRequest, Adapted, Frame, check_new_weeks, finish, frame};
use coach::plan::{TrainingPlan, WeekOverview};
use llm::meter::forced_tool_loop;
use llm::{CacheHints, Message, Meter, Request, ToolChoice};

use crate::analysis_llm::ModelSettings;
use crate::plan_llm::{MAX_REPAIRS, OverviewArgs, PlanLlmError, TOOL_NAME, tool_def_for};

pub const SYSTEM_PROMPT: &str = "You are an experienced cycling coach adapting an athlete's \
periodised training plan to what happened. Call create_plan_overview with the whole plan: the \
weeks marked DONE exactly as given, and the remaining weeks re-designed. Keep the plan rules: \
workouts only on the athlete's available days and never on a day off; at least one rest day a \
week; at most three hard days (sweet_spot, threshold, vo2max, anaerobic, sprint) and never two \
in a row, also across weeks; Base/Build/Peak weeks within 10 % of the available hours and \
Recovery/Taper weeks 25-45 % below them (a week with days off has that share of its training \
days' hours less); a load week at most 10 % above the previous full load week; a recovery week \
after at most three load weeks in a row, counting the DONE weeks; a Taper week in or just before \
the event week. After a missed week, do not make up the lost load: resume at the low end of the \
band. After a fatigue signal, recover first. Say in each week's focus what changed and why.";

/// The request text: the plan as it stands, what is kept, what happened.
pub fn user_message(plan: &TrainingPlan, req: &AdaptRequest, f: &Frame) -> String {
    let c = &f.constraints;
    let mut s = String::new();
    let days: Vec<&str> = c
        .available_days
        .iter()
        .map(|d| coach::plan::weekday_name::name(*d))
        .collect();
    let _ = writeln!(
        s,
        "Re-plan this {}-week plan starting Monday {} (today is {}).",
        f.weeks, c.start_date, req.today
    );
    let _ = writeln!(
        s,
        "Weeks 1 to {} are DONE and must be returned unchanged; re-design weeks {} to {}.",
        f.from,
        f.from + 1,
        f.weeks
    );
    let _ = writeln!(s, "Available days: {}.", days.join(", "));
    let _ = writeln!(s, "Available hours per week: {:.1}.", c.hours_per_week);
    match f.event {
        Some(e) => {
            let _ = writeln!(s, "Event date: {e}.");
        }
        None => s.push_str("No event date.\n"),
    }
    if !f.days_off.is_empty() {
        let list: Vec<String> = f.days_off.iter().map(|d| d.to_string()).collect();
        let _ = writeln!(
            s,
            "Days off (rest, the athlete cannot train): {}.",
            list.join(", ")
        );
    }
    for signal in &f.signals {
        let _ = writeln!(s, "What happened: {signal}.");
    }
    if let Some(r) = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let _ = writeln!(
            s,
            "The athlete says: {}",
            serde_json::to_string(r).unwrap_or_default()
        );
    }
    s.push_str("\nThe plan as it stands (create_plan_overview arguments):\n");
    let current = OverviewArgs::from_overview(&plan.overview);
    s.push_str(&serde_json::to_string(&current).unwrap_or_default());
    s
}

/// The model's re-plan, or why there is none after its repairs.
pub async fn adapt_with_model(
    meter: &mut Meter<'_>,
    settings: &ModelSettings,
    plan: &TrainingPlan,
    req: &AdaptRequest,
) -> Result<Adapted, PlanLlmError> {
    let f = frame(plan, req).map_err(|e| PlanLlmError::Invalid {
        attempts: 0,
        errors: vec![e.to_string()],
    })?;
    let mut request = Request::new(
        settings.model.clone(),
        vec![Message::user(user_message(plan, req, &f))],
        settings.max_tokens,
    );
    request.system = Some(SYSTEM_PROMPT.into());
    request.tools = vec![tool_def_for(f.weeks)];
    request.tool_choice = ToolChoice::Tool(TOOL_NAME.into());
    request.temperature = Some(
        settings
            .temperature
            .unwrap_or(crate::analysis_llm::STRUCTURED_TEMPERATURE),
    );
    request.cache = CacheHints {
        system: true,
        tools: true,
    };
    let new_weeks: Vec<WeekOverview> =
        forced_tool_loop(meter, request, TOOL_NAME, MAX_REPAIRS, |args| {
            new_weeks_of(plan, &f, args)
        })
        .await?;
    let whys: Vec<Vec<String>> = new_weeks
        .iter()
        .map(|w| vec![format!("the model's re-plan: {}", w.focus)])
        .collect();
    finish(plan, req, &f, new_weeks, &whys).map_err(|e| PlanLlmError::Invalid {
        attempts: MAX_REPAIRS + 1,
        errors: vec![e.to_string()],
    })
}

/// The re-designed weeks of the model's arguments, checked within the whole plan; errors are
/// written for the model.
pub fn new_weeks_of(
    plan: &TrainingPlan,
    f: &Frame,
    args: &serde_json::Value,
) -> Result<Vec<WeekOverview>, Vec<String>> {
    let parsed: OverviewArgs = serde_json::from_value(args.clone()).map_err(|e| {
        vec![format!(
            "the arguments do not match the create_plan_overview schema: {e}"
        )]
    })?;
    let overview = parsed.into_overview()?;
    if overview.weeks.len() != f.weeks {
        return Err(vec![format!(
            "the plan has {} weeks; return all {} (weeks 1 to {} unchanged)",
            overview.weeks.len(),
            f.weeks,
            f.from
        )]);
    }
    let new_weeks: Vec<WeekOverview> = overview.weeks[f.from..].to_vec();
    let broken = check_new_weeks(plan, f, &new_weeks);
    if broken.is_empty() {
        Ok(new_weeks)
    } else {
        Err(broken.into_iter().map(|v| v.message).collect())
    }
}
