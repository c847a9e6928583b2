//! `report.md`: the report as Markdown — tables, the narrative and the plan week by week — for
//! reading in a terminal, a repository or a notes app.

use std::fmt::Write as _;

use coach::narrative::capitalise;
use coach::plan::weekday_name;

use crate::ReportInput;
use crate::html::{comparison_rows, provider_line};
use crate::text::{self, hours, md, num, num_unit, pct_change};
use crate::workouts::{self, Exported};

/// The headline comparison rows; elevation, load per week and heart rate stay in the HTML report.
const SUMMARY_ROWS: [&str; 6] = [
    "Activities",
    "Hours",
    "Distance (km)",
    "Load (TSS)",
    "Hours / week",
    "Average NP (W)",
];

fn bullets(out: &mut String, items: &[String]) {
    if items.is_empty() {
        out.push_str("- none\n");
    }
    for i in items {
        let _ = writeln!(out, "- {}", md(i));
    }
}

/// Renders the Markdown report.
pub fn render(input: &ReportInput, exported: &[Exported]) -> String {
    let b = input.bundle;
    let a = &b.athlete;
    let mut o = String::new();
    let _ = writeln!(o, "# Cycling report — {}\n", md(&a.name));
    let _ = writeln!(
        o,
        "Data up to {} · recent {} weeks vs the {} before · {} activities · generated {} · {}\n",
        b.as_of,
        b.period_weeks,
        b.period_weeks,
        b.activity_count,
        input.run.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        md(&provider_line(input.run))
    );

    o.push_str("## Athlete\n\n| | |\n|---|---|\n");
    let _ = writeln!(o, "| FTP | {} |", num_unit(a.ftp_w, 0, "W"));
    let _ = writeln!(o, "| W/kg | {} |", num(a.w_per_kg, 2));
    let _ = writeln!(o, "| Weight | {} |", num_unit(a.weight_kg, 1, "kg"));
    let _ = writeln!(
        o,
        "| LTHR | {} |",
        num_unit(a.lthr_bpm.map(f64::from), 0, "bpm")
    );
    let _ = writeln!(
        o,
        "| Available | {} |",
        num_unit(a.hours_per_week, 1, "h / week")
    );
    let _ = writeln!(o, "| Training days | {} |", md(&a.week_days.join(", ")));
    let goals: Vec<String> = a.goals.iter().map(|g| md(g)).collect();
    let _ = writeln!(
        o,
        "| Goals | {} |\n",
        if goals.is_empty() {
            "none given".into()
        } else {
            goals.join("; ")
        }
    );

    o.push_str("## Period comparison\n\n");
    for (title, c) in [("Rides", &b.comparison), ("All sports", &b.comparison_all)] {
        let (r, p) = (&c.recent, &c.previous);
        let _ = writeln!(
            o,
            "### {title}\n\n| | Previous ({} – {}) | Recent ({} – {}) | Change |\n|---|---:|---:|---:|",
            p.start, p.end, r.start, r.end
        );
        let rows = comparison_rows(c)
            .into_iter()
            .filter(|row| SUMMARY_ROWS.contains(&row.0));
        for (label, pv, rv, d, ch) in rows {
            let _ = writeln!(
                o,
                "| {label} | {} | {} | {} |",
                num(pv, d),
                num(rv, d),
                pct_change(ch)
            );
        }
        o.push('\n');
    }

    o.push_str("## Fitness, fatigue and form\n\n");
    match &b.fitness_now {
        Some(f) => {
            let _ = writeln!(
                o,
                "CTL {} · ATL {} · TSB {} · ramp {} / 7 d\n",
                num(Some(f.ctl), 1),
                num(Some(f.atl), 1),
                num(Some(f.tsb), 1),
                num(Some(f.ramp_rate), 1)
            );
        }
        None => o.push_str("No fitness data.\n\n"),
    }

    o.push_str("## Power-duration curve\n\n");
    if let Some(st) = &b.stale_ftp {
        let _ = writeln!(
            o,
            "> **FTP looks stale:** recent bests imply {} W, {} W above the profile's {} W.\n",
            num(Some(st.implied_ftp_w), 0),
            num(Some(st.diff_w), 0),
            num(Some(st.profile_ftp_w), 0)
        );
    }
    match &b.power_curve {
        Some(c) if !c.durations_s.is_empty() => {
            o.push_str("| 5 s | 1 min | 5 min | 20 min | 60 min |\n|---:|---:|---:|---:|---:|\n|");
            for k in [5u32, 60, 300, 1200, 3600] {
                let v = (k <= c.max_duration_s()).then(|| c.at_least(k)).flatten();
                let _ = write!(o, " {} |", num_unit(v, 0, "W"));
            }
            o.push_str("\n\n");
            if let Some(cp) = &b.cp2 {
                let _ = writeln!(
                    o,
                    "CP {} W · W′ {} kJ (2-parameter fit, 2–20 min).",
                    num(Some(cp.cp_w), 0),
                    num(Some(cp.w_prime_j / 1000.0), 1)
                );
            }
            if let Some(e) = &b.eftp {
                let _ = writeln!(o, "eFTP {} W.", num(Some(e.ftp_w), 0));
            }
            o.push('\n');
        }
        _ => o.push_str("No power data.\n\n"),
    }

    o.push_str("## Time in zones\n\n");
    match &b.zones.power_zones_pct {
        Some(p) if b.zones.activities_with_power_zones > 0 => {
            o.push_str("| Zone | Hours | Share |\n|---|---:|---:|\n");
            for (i, name) in metrics::zones::COGGAN_POWER_NAMES.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "| Z{} {name} | {} | {} % |",
                    i + 1,
                    num(Some(b.zones.power_zones_s[i] / 3600.0), 1),
                    num(Some(p[i]), 1)
                );
            }
            o.push('\n');
        }
        _ => o.push_str("No power data.\n\n"),
    }

    o.push_str("## Weekly volume\n\n");
    if b.weekly.is_empty() {
        o.push_str("No activities.\n\n");
    } else {
        o.push_str("| Week | Activities | Hours | Distance | Load |\n|---|---:|---:|---:|---:|\n");
        for w in &b.weekly {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                w.week_start,
                w.count,
                num(Some(w.hours), 1),
                num_unit(Some(w.distance_km), 0, "km"),
                num(Some(w.load), 0)
            );
        }
        o.push('\n');
    }

    let nv = input.narrative;
    let _ = writeln!(
        o,
        "## Analysis\n\n*Written by {}.*\n\n{}\n\n### Key trends\n",
        md(&nv.author),
        md(&nv.summary)
    );
    for t in &nv.key_trends {
        let _ = writeln!(o, "- **{}** — {}", md(&t.title), md(&t.description));
    }
    o.push_str("\n### Insights\n\n");
    bullets(&mut o, &nv.insights);
    o.push_str("\n### Recommendations\n\n**Short term**\n\n");
    bullets(&mut o, &nv.recommendations.short_term);
    o.push_str("\n**Long term**\n\n");
    bullets(&mut o, &nv.recommendations.long_term);
    o.push_str("\n**Recovery**\n\n");
    bullets(&mut o, &nv.recommendations.recovery);

    o.push_str("\n## Notable rides\n\n");
    if b.notable_rides.is_empty() {
        o.push_str("None.\n\n");
    } else {
        o.push_str(
            "| Date | Activity | Duration | NP | TSS | Why |\n|---|---|---:|---:|---:|---|\n",
        );
        for r in &b.notable_rides {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                r.date,
                md(&r.name),
                text::duration(r.duration_s),
                num_unit(r.np_w, 0, "W"),
                num(r.tss, 0),
                md(&r.reason)
            );
        }
        o.push('\n');
    }

    o.push_str("## Cross-training\n\n| Category | Activities | Hours | Load | Share of load |\n|---|---:|---:|---:|---:|\n");
    for c in b.cross_training.categories.iter().filter(|c| c.count > 0) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            capitalise(c.category.label()),
            c.count,
            num(Some(c.hours), 1),
            num(Some(c.load), 0),
            num_unit(c.load_share_pct, 0, "%")
        );
    }
    o.push('\n');

    o.push_str("## Training plan\n\n");
    match input.plan {
        None => o.push_str("No training plan in this report.\n\n"),
        Some(plan) => {
            let _ = writeln!(
                o,
                "Starts {} · {} weeks · plan FTP {} W{}{}\n",
                plan.start_date,
                plan.weeks.len(),
                num(Some(plan.ftp_w), 0),
                plan.event_date
                    .map(|d| format!(" · event {d}"))
                    .unwrap_or_default(),
                plan.goal
                    .as_ref()
                    .map(|g| format!(" · goal: {}", md(g)))
                    .unwrap_or_default()
            );
            if !plan.overview.coaching_notes.is_empty() {
                let _ = writeln!(o, "{}\n", md(&plan.overview.coaching_notes));
            }
            for week in &plan.weeks {
                let _ = writeln!(
                    o,
                    "### Week {} — {} ({}) · from {} · {} · TSS {}\n",
                    week.week,
                    week.phase.label(),
                    md(&week.focus),
                    week.start_date,
                    hours(week.planned_hours),
                    num(Some(week.planned_tss), 0)
                );
                if week.workouts.is_empty() {
                    o.push_str("Rest week.\n\n");
                    continue;
                }
                o.push_str("| Day | Workout | Duration | TSS | Steps | Files |\n|---|---|---:|---:|---|---|\n");
                for pw in &week.workouts {
                    let steps: Vec<String> = pw
                        .workout
                        .steps
                        .iter()
                        .map(workouts::step_summary)
                        .collect();
                    let files = exported
                        .iter()
                        .find(|e| {
                            e.week == week.week && e.date == pw.date && e.name == pw.workout.name
                        })
                        .map(|e| format!("workouts/{} · workouts/{}", e.fit_file, e.zwo_file))
                        .unwrap_or_default();
                    let _ = writeln!(
                        o,
                        "| {} {} | {} | {} | {} | {} | {} |",
                        &weekday_name::name(pw.weekday)[..3],
                        pw.date,
                        md(&pw.workout.name),
                        text::duration(f64::from(pw.duration_s)),
                        num(Some(pw.tss), 0),
                        md(&steps.join("; ")),
                        files
                    );
                }
                o.push('\n');
            }
        }
    }

    let run = input.run;
    o.push_str("## Run costs\n\n");
    if run.is_offline() {
        o.push_str("Offline: no model used.\n\n");
    }
    o.push_str("| Phase | Duration | Model calls | Input tokens | Output tokens | Cached tokens | Cost |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for p in &run.phases {
        let cost = p
            .cost_usd
            .filter(|c| c.is_finite())
            .map(|c| format!("${c:.4}"))
            .unwrap_or_else(|| text::NONE.into());
        let _ = writeln!(
            o,
            "| {} | {} s | {} | {} | {} | {} | {} |",
            md(&p.phase),
            num(Some(p.seconds), 2),
            p.model_calls,
            p.input_tokens,
            p.output_tokens,
            p.cached_tokens,
            cost
        );
    }
    for n in &run.notes {
        let _ = writeln!(o, "\n- {}", md(n));
    }
    o
}
