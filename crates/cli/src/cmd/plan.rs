//! `cycling-ai plan status|adapt|versions`: the stored plan followed through — plan vs actual per
//! workout down to the intervals, re-planning the remaining weeks as a new version, and the
//! versions kept.

use anyhow::{Context, Result, bail};
use comfy_table::{Cell, CellAlignment, Table, presets};
use jiff::civil::Date;
use serde::Serialize;
use store::Store;

use agent::follow::{AdaptAsk, CurrentPlan};
use coach::follow::{PlanStatus, Status, WeekCompliance, WorkoutOutcome};

use super::analyze::parse_date;
use super::{Global, athlete, print_json};
use crate::args::{PlanAdaptArgs, PlanCommand, PlanCommonArgs, PlanStatusArgs};
use crate::term;

pub fn run(global: &Global, cmd: PlanCommand) -> Result<()> {
    match cmd {
        PlanCommand::Status(args) => status(global, args),
        PlanCommand::Adapt(args) => adapt(global, *args),
        PlanCommand::Versions(args) => versions(global, args),
    }
}

/// The store, the athlete, the day looked from and the plan for it.
pub struct Opened {
    pub store: Store,
    pub ctx: agent::athlete::AthleteContext,
    pub day: Date,
    pub current: CurrentPlan,
}

/// The local date in the athlete's time zone.
pub fn today_for(profile: &ride::profile::Profile) -> Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(profile.time_zone())
        .date()
}

pub fn open(
    global: &Global,
    date: Option<&str>,
    profile: Option<&std::path::Path>,
) -> Result<Opened> {
    let mut store = Store::open(&global.data_dir)?;
    let ctx = athlete::resolve(global, &mut store, profile)?;
    let day = match date {
        Some(text) => parse_date("--date", text)?,
        None => today_for(&ctx.profile),
    };
    let Some(current) = agent::follow::current_plan(&store, ctx.athlete.id, day)? else {
        bail!(
            "no training plan in {}: make one with `cycling-ai generate` (or `cycling-ai demo`)",
            global.data_dir.display()
        );
    };
    Ok(Opened {
        store,
        ctx,
        day,
        current,
    })
}

#[derive(Serialize)]
struct StatusJson<'a> {
    plan_id: i64,
    version: i64,
    source: &'a str,
    start_date: Date,
    end_date: Date,
    event_date: Option<Date>,
    as_of: Date,
    weeks: Vec<&'a WeekCompliance>,
    workouts: Vec<&'a WorkoutOutcome>,
    unplanned: Vec<&'a coach::follow::ActualSession>,
}

fn status(global: &Global, args: PlanStatusArgs) -> Result<()> {
    let o = open(
        global,
        args.common.date.as_deref(),
        args.common.profile.as_deref(),
    )?;
    let plan = &o.current.plan;
    if let Some(n) = args.week
        && (n == 0 || n as usize > plan.weeks.len())
    {
        bail!("--week {n}: this plan has weeks 1 to {}", plan.weeks.len());
    }
    let st = agent::follow::status(&o.store, o.ctx.athlete.id, plan, o.day, &args.common.files)?;
    // One week, or every week that has started.
    let shown: Vec<u32> = match args.week {
        Some(n) => vec![n],
        None => plan
            .weeks
            .iter()
            .filter(|w| w.start_date <= o.day)
            .map(|w| w.week)
            .collect(),
    };
    let out = StatusJson {
        plan_id: o.current.stored.id,
        version: o.current.stored.version,
        source: &o.current.stored.source,
        start_date: plan.start_date,
        end_date: plan.end_date(),
        event_date: plan.event_date,
        as_of: o.day,
        weeks: st
            .weeks
            .iter()
            .filter(|w| shown.contains(&w.week))
            .collect(),
        workouts: st
            .workouts
            .iter()
            .filter(|w| shown.contains(&w.week))
            .collect(),
        unplanned: st
            .unplanned
            .iter()
            .filter(|a| {
                st.weeks
                    .iter()
                    .filter(|w| shown.contains(&w.week))
                    .any(|w| a.date >= w.start_date && a.date <= end_of(w.start_date))
            })
            .collect(),
    };
    if global.json {
        return print_json(&out);
    }
    print_status(&out, &st);
    Ok(())
}

fn end_of(start: Date) -> Date {
    start
        .checked_add(jiff::Span::new().days(6))
        .unwrap_or(start)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |x| format!("{x:.0}"))
}

fn print_status(out: &StatusJson<'_>, st: &PlanStatus) {
    println!(
        "{}",
        term::heading(&format!(
            "Plan {} (version {}, {}), {} – {}, as of {}",
            out.plan_id, out.version, out.source, out.start_date, out.end_date, out.as_of
        ))
    );
    if out.weeks.is_empty() {
        println!(
            "The plan starts on {}: nothing is due yet (`--week N` shows a week's workouts).",
            out.start_date
        );
    }
    for w in &out.weeks {
        println!();
        println!(
            "Week {} (from {}): compliance {} — {} completed, {} partial, {} missed, {} upcoming, {} moved, {} unplanned; load {:.0} of {:.0} TSS",
            w.week,
            w.start_date,
            w.compliance_pct
                .map_or_else(|| "— (nothing due yet)".to_owned(), |c| format!("{c:.0} %")),
            w.completed,
            w.partial,
            w.missed,
            w.upcoming,
            w.moved,
            w.unplanned,
            w.actual_tss,
            w.planned_tss
        );
        let mut t = Table::new();
        t.load_style(presets::UTF8_BORDERS_ONLY);
        t.set_header(vec![
            "date",
            "planned",
            "status",
            "ridden",
            "duration %",
            "load %",
            "intervals",
        ]);
        for o in out.workouts.iter().filter(|o| o.week == w.week) {
            let ridden = match &o.actual {
                Some(a) if o.moved_days != 0 => format!(
                    "{} (moved {:+} d to {})",
                    clip(&a.name, 28),
                    o.moved_days,
                    a.date
                ),
                Some(a) => clip(&a.name, 28),
                None => "—".to_owned(),
            };
            let intervals = match (&o.intervals, &o.intervals_note) {
                (Some(r), _) => r.summary.clone(),
                (None, Some(note)) => note.clone(),
                (None, None) => String::new(),
            };
            t.add_row(vec![
                Cell::new(o.date.to_string()),
                Cell::new(format!(
                    "{} · {} · {} min · {:.0} TSS",
                    o.workout_type.label(),
                    clip(&o.name, 32),
                    o.planned_duration_s / 60,
                    o.planned_tss
                )),
                Cell::new(o.status.label()),
                Cell::new(ridden),
                Cell::new(pct(o.completion_pct)).set_alignment(CellAlignment::Right),
                Cell::new(pct(o.load_ratio.map(|r| r * 100.0))).set_alignment(CellAlignment::Right),
                Cell::new(intervals),
            ]);
        }
        println!("{t}");
    }
    for a in &out.unplanned {
        println!(
            "Unplanned: {} {} ({} min{})",
            a.date,
            clip(&a.name, 40),
            (a.duration_s / 60.0).round(),
            a.load.map_or(String::new(), |l| format!(", {l:.0} TSS"))
        );
    }
    let missed = st
        .workouts
        .iter()
        .filter(|w| w.status == Status::Missed)
        .count();
    if missed > 0 && !out.weeks.is_empty() {
        println!(
            "{missed} planned session(s) missed so far: `cycling-ai plan adapt` re-plans the remaining weeks."
        );
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// `FROM..TO` or one date.
pub fn parse_range(text: &str) -> Result<(Date, Date)> {
    let (a, b) = match text.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (text.trim(), text.trim()),
    };
    let from = parse_date("--unavailable", a)?;
    let to = parse_date("--unavailable", b)?;
    anyhow::ensure!(
        from <= to,
        "--unavailable {text}: the first date is after the second"
    );
    Ok((from, to))
}

#[derive(Serialize)]
struct AdaptJson<'a> {
    /// Who re-planned: "rule-based planner" or "<provider> <model>".
    author: &'a str,
    stored: bool,
    plan_id: Option<i64>,
    version: Option<i64>,
    replaces: i64,
    from_week: u32,
    signals: &'a [String],
    changes: &'a [coach::adapt::Change],
    event_date: Option<Date>,
    end_date: Date,
}

fn adapt(global: &Global, args: PlanAdaptArgs) -> Result<()> {
    let mut o = open(
        global,
        args.common.date.as_deref(),
        args.common.profile.as_deref(),
    )?;
    let unavailable = args
        .unavailable
        .iter()
        .map(|t| parse_range(t))
        .collect::<Result<Vec<_>>>()?;
    let event_date = args
        .event_date
        .as_deref()
        .map(|t| parse_date("--event-date", t))
        .transpose()?;
    let plan = &o.current.plan;
    let req = agent::follow::adapt_request(
        &o.store,
        o.ctx.athlete.id,
        &o.ctx.profile,
        plan,
        AdaptAsk {
            today: o.day,
            reason: args.reason.clone(),
            unavailable,
            event_date,
        },
        &args.common.files,
    )?;
    let (adapted, author) = replan(global, &args, plan, &req)?;
    // A version is worth keeping when a week changed, or when what the plan knows changed
    // (days off on rest days, a moved event whose weeks stay the same).
    let changed = !adapted.changes.is_empty()
        || adapted.plan.days_off != plan.days_off
        || adapted.plan.event_date != plan.event_date;
    let note = agent::follow::change_note(&adapted, args.reason.as_deref());
    let parent = o.current.stored.clone();
    let new_id = if changed && !args.dry_run {
        Some(agent::follow::save_adapted(
            &mut o.store,
            o.ctx.athlete.id,
            &parent,
            &adapted,
            &note,
            &author,
        )?)
    } else {
        None
    };
    if global.json {
        return print_json(&AdaptJson {
            author: &author,
            stored: new_id.is_some(),
            plan_id: new_id,
            version: new_id.map(|_| parent.version + 1),
            replaces: parent.id,
            from_week: adapted.from_week,
            signals: &adapted.signals,
            changes: &adapted.changes,
            event_date: adapted.plan.event_date,
            end_date: adapted.plan.end_date(),
        });
    }
    println!(
        "{}",
        term::heading(&format!(
            "Re-planning plan {} (version {}) from week {} ({})",
            parent.id,
            parent.version,
            adapted.from_week,
            adapted
                .plan
                .weeks
                .get(adapted.from_week as usize - 1)
                .map_or(String::new(), |w| w.start_date.to_string())
        ))
    );
    println!("Re-planned by: {author}");
    if let Some(r) = args.reason.as_deref() {
        println!("Reason: {r}");
    }
    if adapted.signals.is_empty() {
        println!("Signals: none (no whole week done yet, no fatigue signal)");
    }
    for s in &adapted.signals {
        println!("Signal: {s}");
    }
    if adapted.changes.is_empty() {
        println!("No week changes: the remaining weeks still fit.");
    } else {
        println!("What changed and why:");
        for c in &adapted.changes {
            println!("  {}", agent::follow::change_line(c));
        }
    }
    if let Some(e) = adapted.plan.event_date {
        let taper: Vec<String> = adapted
            .plan
            .weeks
            .iter()
            .filter(|w| w.phase == coach::plan::Phase::Taper)
            .map(|w| w.week.to_string())
            .collect();
        println!(
            "Event {e}: taper in week(s) {}; the plan ends {}. Every plan rule checked.",
            taper.join(", "),
            adapted.plan.end_date()
        );
    }
    match new_id {
        Some(id) => println!(
            "Stored as plan {id}, version {} — version {} (plan {}) is kept: `cycling-ai plan versions` lists them.",
            parent.version + 1,
            parent.version,
            parent.id
        ),
        None if args.dry_run => println!("Dry run: nothing stored."),
        None => println!("Nothing stored: the plan is unchanged."),
    }
    Ok(())
}

/// The re-plan: by the model when one is selected (`--provider`, else the configured default),
/// falling back to the rule-based planner when the model's plan still breaks a rule after its
/// repairs or the provider fails; else by the rule-based planner. Returns it with its author.
fn replan(
    global: &Global,
    args: &PlanAdaptArgs,
    plan: &coach::plan::TrainingPlan,
    req: &coach::adapt::AdaptRequest,
) -> Result<(coach::adapt::Adapted, String)> {
    const RULES: &str = "rule-based planner";
    let flags = args.aws.flags(args.provider.clone(), args.model.clone());
    let selection = if args.provider.as_deref() == Some(agent::workflow::OFFLINE) {
        None
    } else {
        crate::providers_setup::select(&flags, &args.aws.bedrock)?
    };
    let Some(sel) = selection else {
        if let Some(m) = &args.model {
            bail!("--model {m}: no model provider is selected; pass --provider NAME");
        }
        let a = coach::adapt::adapt(plan, req).context("adapting the plan")?;
        return Ok((a, RULES.to_owned()));
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let m = runtime.block_on(super::generate::model_choice(sel))?;
    let settings = agent::analysis_llm::ModelSettings {
        model: m.model.clone(),
        max_tokens: m.max_tokens.unwrap_or(agent::plan_llm::DEFAULT_MAX_TOKENS),
        temperature: m.temperature,
    };
    let log = llm::log::InteractionLog::open(&global.data_dir).ok();
    let mut meter = llm::Meter::new(m.provider.as_ref(), &m.catalog, log.as_ref());
    let author = format!("{} {}", m.provider.name(), m.model);
    match runtime.block_on(agent::adapt_llm::adapt_with_model(
        &mut meter, &settings, plan, req,
    )) {
        Ok(a) => Ok((a, author)),
        Err(e) => {
            eprintln!(
                "{} {author}: {e}; the rule-based planner re-plans instead",
                term::warning_label()
            );
            let a = coach::adapt::adapt(plan, req).context("adapting the plan")?;
            Ok((a, format!("{RULES} (standing in for {author})")))
        }
    }
}

#[derive(Serialize)]
struct VersionJson {
    plan_id: i64,
    version: i64,
    created_at: String,
    source: String,
    start_date: String,
    end_date: String,
    current: bool,
    change_note: Option<String>,
}

fn versions(global: &Global, args: PlanCommonArgs) -> Result<()> {
    let o = open(global, args.date.as_deref(), args.profile.as_deref())?;
    let line = o
        .store
        .plan_versions(o.ctx.athlete.id, o.current.stored.id)?;
    let out: Vec<VersionJson> = line
        .into_iter()
        .map(|p| VersionJson {
            current: p.id == o.current.stored.id,
            plan_id: p.id,
            version: p.version,
            created_at: p.created_at,
            source: p.source,
            start_date: p.start_date,
            end_date: p.end_date,
            change_note: p.change_note,
        })
        .collect();
    if global.json {
        return print_json(&out);
    }
    println!(
        "{}",
        term::heading("Versions of the current plan, oldest first")
    );
    for v in &out {
        println!(
            "version {} · plan {} · {} · {} · {} – {}{}",
            v.version,
            v.plan_id,
            v.created_at,
            v.source,
            v.start_date,
            v.end_date,
            if v.current { " (current)" } else { "" }
        );
        if let Some(note) = &v.change_note {
            for l in note.lines() {
                println!("    {l}");
            }
        }
    }
    Ok(())
}
