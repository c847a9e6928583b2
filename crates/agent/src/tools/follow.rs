//! The follow-through tools: `plan_status` (plan vs actual per workout, down to the intervals),
//! `fitness_projection` (CTL / ATL / TSB carried through the plan to its end and event) and
//! `adapt_plan` (re-plan the remaining weeks — a preview first, stored as a new version only
//! with the preview's token). All read the current athlete's data only; outputs are bounded.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Value, json};

use super::plan::clip;
use super::{AdaptPlanArgs, CoachTools, PlanStatusArgs, ProjectionArgs, failed, invalid, num};
use crate::follow::{AdaptAsk, CurrentPlan};
use crate::toolbox::ToolError;

pub(super) const STATUS_DESCRIPTION: &str = "Plan vs actual per planned workout, computed from \
the rides: which activity fulfilled it (same day or moved a day, same sport, closest in \
intensity and load), status completed / partial / missed / upcoming, completion % (duration), \
load ratio (actual load / planned TSS), and for structured workouts each work interval found \
in the ride's 1 Hz power and judged against its target (e.g. \"4 × 10 min sweet spot: 3 hit, 1 \
faded at minute 7\"); activities no workout planned; and each week's compliance score (0-100, \
planned-TSS weighted). `week` (1-based) for one week; default the current week and the one \
before.";

pub(super) const PROJECTION_DESCRIPTION: &str = "Fitness (CTL), fatigue (ATL) and form (TSB) \
projected from today's actual values through the stored plan's planned daily TSS to the plan's \
end and the event: week-ending values, the planned TSS total (the workouts' own TSS, so it \
agrees with the plan) and how the athlete arrives at the event (CTL, TSB).";

pub(super) const ADAPT_DESCRIPTION: &str = "Re-plan the remaining weeks of the stored plan \
(weeks already started are kept) after missed or extra sessions, a fatigue signal (form below \
-25 for 3+ days), days off (`unavailable`) or a moved event (`event_date`), under the same plan \
rules and keeping the taper before the event. With apply=false (default) it only previews: the \
signals read and every week that would change, with why, plus a preview_token. Show the preview \
to the athlete; only when they agree, call again with the same arguments, apply=true and that \
preview_token: the new plan is stored as a new version and the old one kept.";

const MAX_REASON: usize = 200;
const MAX_RANGES: usize = 10;
/// Most workouts listed (two weeks of a six-day plan, with room).
const MAX_WORKOUTS: usize = 16;
const MAX_CHANGES: usize = 26;

fn current(tools: &CoachTools, tool: &str) -> Result<CurrentPlan, ToolError> {
    let store = tools.open(tool)?;
    crate::follow::current_plan(&store, tools.athlete_id, tools.today)
        .map_err(|e| failed(tool, e.to_string()))?
        .ok_or_else(|| {
            failed(
                tool,
                "no training plan yet: `create_plan_overview` or `cycling-ai generate` makes one",
            )
        })
}

pub(super) fn plan_status(tools: &CoachTools, a: PlanStatusArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "plan_status";
    let cur = current(tools, TOOL)?;
    let plan = &cur.plan;
    let weeks: Vec<u32> = match a.week {
        Some(n) if n == 0 || n as usize > plan.weeks.len() => {
            return Err(invalid(
                TOOL,
                format!(
                    "week: {n} is outside this plan's weeks 1 to {}",
                    plan.weeks.len()
                ),
            ));
        }
        Some(n) => vec![n],
        None => {
            let now = plan
                .weeks
                .iter()
                .rev()
                .find(|w| w.start_date <= tools.today)
                .map_or(1, |w| w.week);
            (now.saturating_sub(1).max(1)..=now).collect()
        }
    };
    let store = tools.open(TOOL)?;
    let st = crate::follow::status(&store, tools.athlete_id, plan, tools.today, &[])
        .map_err(|e| failed(TOOL, e.to_string()))?;
    let workouts: Vec<Value> = st
        .workouts
        .iter()
        .filter(|w| weeks.contains(&w.week))
        .take(MAX_WORKOUTS)
        .map(|w| {
            json!({
                "date": w.date.to_string(),
                "week": w.week,
                "type": w.workout_type.label(),
                "name": clip(&w.name, 60),
                "planned_duration_min": w.planned_duration_s / 60,
                "planned_tss": num(w.planned_tss, 0),
                "status": w.status.label(),
                "activity": w.actual.as_ref().map(|a| json!({
                    "id": a.id,
                    "date": a.date.to_string(),
                    "name": clip(&a.name, 60),
                    "load": a.load.map_or(Value::Null, |l| num(l, 0)),
                })),
                "moved_days": w.moved_days,
                "completion_pct": w.completion_pct.map_or(Value::Null, |c| num(c, 0)),
                "load_ratio": w.load_ratio.map_or(Value::Null, |r| num(r, 2)),
                "intervals": w.intervals.as_ref().map(|r| json!({
                    "hit": r.hit,
                    "total": r.total,
                    "summary": r.summary,
                })),
                "intervals_note": w.intervals_note,
            })
        })
        .collect();
    let week_rows: Vec<Value> = st
        .weeks
        .iter()
        .filter(|w| weeks.contains(&w.week))
        .map(|w| {
            json!({
                "week": w.week,
                "start": w.start_date.to_string(),
                "compliance_pct": w.compliance_pct.map_or(Value::Null, |c| num(c, 0)),
                "completed": w.completed,
                "partial": w.partial,
                "missed": w.missed,
                "upcoming": w.upcoming,
                "moved": w.moved,
                "unplanned": w.unplanned,
                "planned_tss": num(w.planned_tss, 0),
                "actual_tss": num(w.actual_tss, 0),
            })
        })
        .collect();
    let in_weeks = |d: jiff::civil::Date| {
        st.weeks
            .iter()
            .filter(|w| weeks.contains(&w.week))
            .any(|w| {
                d >= w.start_date
                    && d <= w
                        .start_date
                        .checked_add(jiff::Span::new().days(6))
                        .unwrap_or(w.start_date)
            })
    };
    let unplanned: Vec<Value> = st
        .unplanned
        .iter()
        .filter(|a| in_weeks(a.date))
        .take(7)
        .map(|a| {
            json!({
                "id": a.id,
                "date": a.date.to_string(),
                "name": clip(&a.name, 60),
                "duration_min": (a.duration_s / 60.0).round(),
                "load": a.load.map_or(Value::Null, |l| num(l, 0)),
            })
        })
        .collect();
    Ok(json!({
        "plan_id": cur.stored.id,
        "plan_version": cur.stored.version,
        "as_of": tools.today.to_string(),
        "weeks": week_rows,
        "workouts": workouts,
        "unplanned": unplanned,
    }))
}

pub(super) fn fitness_projection(
    tools: &CoachTools,
    _a: ProjectionArgs,
) -> Result<Value, ToolError> {
    const TOOL: &str = "fitness_projection";
    let cur = current(tools, TOOL)?;
    let store = tools.open(TOOL)?;
    let (_, p) = crate::follow::projection(&store, tools.athlete_id, &cur.plan, tools.today)
        .map_err(|e| failed(TOOL, e.to_string()))?;
    let weeks: Vec<Value> = p
        .days
        .chunks(7)
        .map(|b| {
            let last = b[b.len() - 1];
            json!({
                "week_ending": last.date.to_string(),
                "planned_tss": num(b.iter().map(|d| d.load).sum(), 0),
                "ctl": num(last.ctl, 1),
                "atl": num(last.atl, 1),
                "tsb": num(last.tsb, 1),
            })
        })
        .collect();
    Ok(json!({
        "plan_id": cur.stored.id,
        "from": p.from.to_string(),
        "today": {"ctl": num(p.seed.ctl, 1), "atl": num(p.seed.atl, 1)},
        "planned_tss_total": num(p.days.iter().map(|d| d.load).sum(), 0),
        "plan_end": p.plan_end.to_string(),
        "weeks": weeks,
        "event": p.event.map(|a| json!({
            "date": a.date.to_string(),
            "ctl": num(a.ctl, 0),
            "tsb": num(a.tsb, 0),
            "sentence": a.sentence(),
        })),
        "end": p.days.last().map(|d| json!({
            "date": d.date.to_string(),
            "ctl": num(d.ctl, 1),
            "tsb": num(d.tsb, 1),
        })),
    }))
}

/// A token binding a preview to its exact result: the same plan, arguments and outcome give the
/// same token, so an apply stores what the athlete saw or nothing.
fn preview_token(plan_id: i64, plan_json: &str) -> String {
    let mut h = DefaultHasher::new();
    plan_id.hash(&mut h);
    plan_json.hash(&mut h);
    format!("{:016x}", h.finish())
}

pub(super) fn adapt_plan(tools: &CoachTools, a: AdaptPlanArgs) -> Result<Value, ToolError> {
    const TOOL: &str = "adapt_plan";
    let reason = match a.reason.as_deref().map(str::trim) {
        Some(r) if r.is_empty() || r.chars().count() > MAX_REASON => {
            return Err(invalid(
                TOOL,
                format!("reason: give 1 to {MAX_REASON} characters"),
            ));
        }
        r => r.map(str::to_owned),
    };
    let ranges = a.unavailable.unwrap_or_default();
    if ranges.len() > MAX_RANGES {
        return Err(invalid(
            TOOL,
            format!(
                "unavailable: at most {MAX_RANGES} ranges, got {}",
                ranges.len()
            ),
        ));
    }
    let mut unavailable = Vec::with_capacity(ranges.len());
    for (i, r) in ranges.iter().enumerate() {
        let from = tools.date_arg(TOOL, &format!("unavailable[{i}].from"), &r.from)?;
        let to = tools.date_arg(TOOL, &format!("unavailable[{i}].to"), &r.to)?;
        if from > to {
            return Err(invalid(
                TOOL,
                format!("unavailable[{i}]: from {from} is after to {to}"),
            ));
        }
        unavailable.push((from, to));
    }
    let event_date = tools.opt_date_arg(TOOL, "event_date", a.event_date.as_deref())?;
    let Some(profile) = tools.profile() else {
        return Err(failed(
            TOOL,
            "there is no athlete profile: save training_availability first",
        ));
    };
    let cur = current(tools, TOOL)?;
    let mut store = tools.open(TOOL)?;
    let req = crate::follow::adapt_request(
        &store,
        tools.athlete_id,
        &profile,
        &cur.plan,
        AdaptAsk {
            today: tools.today,
            reason: reason.clone(),
            unavailable,
            event_date,
        },
        &[],
    )
    .map_err(|e| failed(TOOL, e.to_string()))?;
    let adapted = coach::adapt::adapt(&cur.plan, &req).map_err(|e| failed(TOOL, e.to_string()))?;
    let json_plan = serde_json::to_string(&adapted.plan)
        .map_err(|e| failed(TOOL, format!("serialising the plan: {e}")))?;
    let token = preview_token(cur.stored.id, &json_plan);
    let changed = !adapted.changes.is_empty()
        || adapted.plan.days_off != cur.plan.days_off
        || adapted.plan.event_date != cur.plan.event_date;
    let changes: Vec<String> = adapted
        .changes
        .iter()
        .take(MAX_CHANGES)
        .map(crate::follow::change_line)
        .collect();
    let mut out = json!({
        "plan_id": cur.stored.id,
        "plan_version": cur.stored.version,
        "from_week": adapted.from_week,
        "signals": adapted.signals,
        "changes": changes,
        "event_date": adapted.plan.event_date.map(|d| d.to_string()),
        "end_date": adapted.plan.end_date().to_string(),
        "rules": "every plan rule passes",
    });
    if !a.apply {
        out["preview"] = json!(true);
        out["changed"] = json!(changed);
        out["preview_token"] = json!(token);
        out["note"] = json!(if changed {
            "nothing stored yet: show these changes to the athlete; apply=true with this preview_token stores them as a new version"
        } else {
            "the remaining weeks need no change; nothing to store"
        });
        return Ok(out);
    }
    match a.preview_token.as_deref() {
        None => {
            return Err(invalid(
                TOOL,
                "apply=true needs the preview_token of the preview the athlete agreed to; call with apply=false first",
            ));
        }
        Some(t) if t != token => {
            return Err(failed(
                TOOL,
                "the plan or the data changed since that preview (its token no longer matches); preview again and show the athlete the new changes",
            ));
        }
        Some(_) => {}
    }
    if !changed {
        out["stored"] = json!(false);
        out["note"] = json!("the remaining weeks need no change; nothing stored");
        return Ok(out);
    }
    let note = crate::follow::change_note(&adapted, reason.as_deref());
    let id = crate::follow::save_adapted(
        &mut store,
        tools.athlete_id,
        &cur.stored,
        &adapted,
        &note,
        "chat (rule-based planner)",
    )
    .map_err(|e| failed(TOOL, format!("storing the plan: {e}")))?;
    out["stored"] = json!(true);
    out["new_plan_id"] = json!(id);
    out["new_version"] = json!(cur.stored.version + 1);
    out["note"] = json!("stored as a new version; the previous version is kept");
    Ok(out)
}
