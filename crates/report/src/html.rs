//! `index.html`: one self-contained page. Inline CSS and inline SVG only — no script, no font,
//! no image, no URL — so it opens offline, prints (light background, page breaks between major
//! sections) and cannot leak a request.

use std::fmt::Write as _;

use coach::bundle::AnalysisBundle;
use coach::narrative::capitalise;
use coach::plan::{Phase, Step, TrainingPlan, WorkoutType, weekday_name};
use coach::projection::Projection;
use jiff::civil::Date;
use metrics::cp::EftpMethod;
use metrics::period::PeriodComparison;
use metrics::zones::{COGGAN_HR_NAMES, COGGAN_POWER_NAMES};
use ride::Sport;

use crate::svg::{self, Frame, Linear, Log, n};
use crate::text::{self, escape, hours, num, num_unit, pct_change};
use crate::workouts::{self, Exported};
use crate::{ReportInput, RunInfo};

const CSS: &str = r#"
:root{--fg:#1d2430;--muted:#5b6575;--line:#d5dae1;--bg:#ffffff;--card:#f6f8fa;--accent:#1f6feb;
--ctl:#1f6feb;--atl:#d9480f;--pos:#2f9e44;--neg:#e03131;--cp:#7048e8;--warn:#fff3bf;--warnb:#f08c00}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:32px 0 12px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:16px 0 8px}
.meta{color:var(--muted);font-size:13px}
nav ul{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px}
nav a{color:var(--accent);text-decoration:none}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--card);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.card{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px;margin:8px 0}
.card div{background:var(--card);border-radius:6px;padding:8px 10px}
.card b{display:block;font-size:12px;color:var(--muted);font-weight:500}
.card span{font-size:18px;font-weight:600}
.warn{background:var(--warn);border-left:4px solid var(--warnb);padding:8px 12px;margin:8px 0;border-radius:4px}
.empty{color:var(--muted);font-style:italic;background:var(--card);padding:12px;border-radius:6px}
svg.chart{width:100%;height:auto;display:block;margin:8px 0}
svg text{font-size:11px;fill:var(--muted)}
svg .axis{stroke:#8a94a3;stroke-width:1}
svg .grid{stroke:#e9ecef;stroke-width:1}
svg .axis-title{font-size:12px;fill:var(--fg)}
svg .ctl{stroke:var(--ctl);stroke-width:2}
svg .atl{stroke:var(--atl);stroke-width:1.5}
svg .ctl-proj{stroke:var(--ctl);stroke-width:2;stroke-dasharray:6 4}
svg .atl-proj{stroke:var(--atl);stroke-width:1.5;stroke-dasharray:6 4}
svg .tsb-pos.proj,svg .tsb-neg.proj{opacity:.2}
svg .today{stroke:#8a94a3;stroke-width:1;stroke-dasharray:2 3}
svg .event{stroke:var(--fg);stroke-width:1.5}
svg .tsb-pos{fill:var(--pos);opacity:.45}
svg .tsb-neg{fill:var(--neg);opacity:.45}
svg .curve{stroke:var(--accent);stroke-width:2}
svg .curve-area{fill:var(--accent);opacity:.08}
svg .cp{stroke:var(--cp);stroke-width:2;stroke-dasharray:6 4}
svg .cp-line{stroke:var(--cp);stroke-width:1;stroke-dasharray:2 3}
svg .lbl{fill:var(--fg);font-size:12px}
svg .zbar{fill:var(--accent)}
svg .z1{fill:#adb5bd}svg .z2{fill:#4dabf7}svg .z3{fill:#51cf66}svg .z4{fill:#fcc419}
svg .z5{fill:#ff922b}svg .z6{fill:#f03e3e}svg .z7{fill:#ae3ec9}
svg .s-ride{fill:#1f6feb}svg .s-run{fill:#2f9e44}svg .s-swim{fill:#15aabf}svg .s-strength{fill:#862e9c}
svg .s-rowing{fill:#e8590c}svg .s-walk{fill:#94d82d}svg .s-hike{fill:#5c940d}svg .s-ski{fill:#748ffc}svg .s-other{fill:#adb5bd}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px;color:var(--muted)}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.k-proj{background:repeating-linear-gradient(90deg,#1f6feb 0 4px,transparent 4px 7px)}
.k-ctl{background:#1f6feb}.k-atl{background:#d9480f}.k-tsbp{background:#2f9e44}.k-tsbn{background:#e03131}
.k-curve{background:#1f6feb}.k-cp{background:#7048e8}
.k-ride{background:#1f6feb}.k-run{background:#2f9e44}.k-swim{background:#15aabf}.k-strength{background:#862e9c}
.k-rowing{background:#e8590c}.k-walk{background:#94d82d}.k-hike{background:#5c940d}.k-ski{background:#748ffc}.k-other{background:#adb5bd}
.trend{margin:6px 0}
table.cal{table-layout:fixed;font-size:12px}
table.cal td,table.cal th{border:1px solid var(--line);padding:4px}
table.cal th.wk{width:15%}
.cal .wo{margin-bottom:4px}
.cal .wo b{display:block;font-size:12px;line-height:1.25}
.cal .rest{color:var(--muted)}
svg.mini{width:100%;height:26px;display:block}
svg.mini rect,svg.mini path{fill:var(--accent);opacity:.8}
.ph-base{background:#e7f5ff}.ph-build{background:#fff4e6}.ph-recovery{background:#ebfbee}
.ph-peak{background:#fff0f6}.ph-taper{background:#f3f0ff}
.phase{display:inline-block;font-size:11px;padding:0 6px;border-radius:8px;border:1px solid var(--line);background:var(--bg)}
details{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:6px 10px}
details summary{cursor:pointer;font-weight:600}
td.sub{padding-left:24px;color:var(--muted)}
footer{margin-top:40px;color:var(--muted);font-size:12px}
@media print{
 body{font-size:11pt;background:#fff;color:#000}
 main{max-width:none;padding:0}
 nav{display:none}
 h2{break-after:avoid}
 section.major{break-before:page}
 table,svg.chart,.card,details,tr{break-inside:avoid}
 details::details-content{content-visibility:visible;display:block}
 .ph-base,.ph-build,.ph-recovery,.ph-peak,.ph-taper{print-color-adjust:exact;-webkit-print-color-adjust:exact}
 a{color:inherit;text-decoration:none}
}
"#;

/// The sections, in page order: (id, heading).
pub const SECTIONS: [(&str, &str); 13] = [
    ("athlete", "Athlete"),
    ("comparison", "Period comparison"),
    ("fitness", "Fitness, fatigue and form"),
    ("power-curve", "Power-duration curve"),
    ("zones", "Time in zones"),
    ("weekly", "Weekly volume"),
    ("analysis", "Analysis"),
    ("notable", "Notable rides"),
    ("cross-training", "Cross-training"),
    ("plan", "Training plan"),
    ("workouts", "Workout details"),
    ("follow", "Plan vs actual"),
    ("costs", "Run costs"),
];

fn heading(out: &mut String, idx: usize, major: bool) {
    let (id, title) = SECTIONS[idx];
    let class = if major { " class=\"major\"" } else { "" };
    let _ = write!(out, "<section id=\"{id}\"{class}><h2>{title}</h2>");
}

fn empty(out: &mut String, msg: &str) {
    let _ = write!(out, "<p class=\"empty\">{}</p>", escape(msg));
}

/// Renders the whole page.
pub fn render(input: &ReportInput, exported: &[Exported]) -> String {
    let b = input.bundle;
    let mut out = String::with_capacity(256 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = write!(
        out,
        "<title>Cycling report — {}</title><style>{CSS}</style></head><body><main>",
        escape(&b.athlete.name)
    );
    let _ = write!(
        out,
        "<header><h1>Cycling report — {}</h1><p class=\"meta\">Data up to {} · recent {} weeks vs the {} before · {} activities · generated {} · {}</p>",
        escape(&b.athlete.name),
        b.as_of,
        b.period_weeks,
        b.period_weeks,
        b.activity_count,
        input.run.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        escape(&provider_line(input.run)),
    );
    out.push_str("<nav><ul>");
    for (id, title) in SECTIONS {
        let _ = write!(out, "<li><a href=\"#{id}\">{title}</a></li>");
    }
    out.push_str("</ul></nav></header>\n");

    athlete(&mut out, b);
    comparison(&mut out, b);
    fitness(&mut out, b, input.plan);
    power_curve(&mut out, b);
    zones(&mut out, b);
    weekly(&mut out, b);
    analysis(&mut out, input);
    notable(&mut out, b);
    cross_training(&mut out, b);
    plan_calendar(&mut out, input.plan);
    plan_details(&mut out, input.plan, exported);
    follow(&mut out, input.follow);
    costs(&mut out, input.run);

    out.push_str("<footer>Every figure comes from the recorded data (computed by the metrics library); the analysis text only interprets them.</footer>");
    out.push_str("</main></body></html>\n");
    out
}

pub(crate) fn provider_line(run: &RunInfo) -> String {
    match &run.model {
        Some(m) => format!("{} · {}", run.provider, m),
        None => run.provider.clone(),
    }
}

fn card_item(out: &mut String, label: &str, value: &str) {
    let _ = write!(
        out,
        "<div><b>{}</b><span>{}</span></div>",
        escape(label),
        escape(value)
    );
}

fn athlete(out: &mut String, b: &AnalysisBundle) {
    let a = &b.athlete;
    heading(out, 0, false);
    out.push_str("<div class=\"card\">");
    card_item(out, "Name", &a.name);
    card_item(out, "FTP", &num_unit(a.ftp_w, 0, "W"));
    card_item(out, "W/kg", &num(a.w_per_kg, 2));
    card_item(out, "Weight", &num_unit(a.weight_kg, 1, "kg"));
    card_item(out, "LTHR", &num_unit(a.lthr_bpm.map(f64::from), 0, "bpm"));
    card_item(
        out,
        "Max HR",
        &num_unit(a.max_hr_bpm.map(f64::from), 0, "bpm"),
    );
    if let Some(age) = a.age {
        card_item(out, "Age", &age.to_string());
    }
    card_item(out, "Available", &num_unit(a.hours_per_week, 1, "h / week"));
    if let Some(d) = a.event_date {
        card_item(out, "Event", &d.to_string());
    }
    if let Some(e) = &b.eftp {
        card_item(out, "eFTP (recent bests)", &num_unit(Some(e.ftp_w), 0, "W"));
    }
    out.push_str("</div>");
    let days: Vec<&str> = a.week_days.iter().map(String::as_str).collect();
    let _ = write!(
        out,
        "<p><b>Training days:</b> {}</p>",
        if days.is_empty() {
            text::NONE.to_owned()
        } else {
            escape(&days.join(", "))
        }
    );
    if a.goals.is_empty() {
        out.push_str("<p><b>Goals:</b> none given</p>");
    } else {
        out.push_str("<p><b>Goals:</b></p><ul>");
        for g in &a.goals {
            let _ = write!(out, "<li>{}</li>", escape(g));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>\n");
}

/// (label, previous, recent, decimals, change %).
pub(crate) type CompareRow = (&'static str, Option<f64>, Option<f64>, usize, Option<f64>);

/// Every row of a period comparison, in report order; the Markdown summary shows a subset.
pub(crate) fn comparison_rows(c: &PeriodComparison) -> [CompareRow; 9] {
    let (r, p) = (&c.recent, &c.previous);
    [
        (
            "Activities",
            Some(f64::from(p.count)),
            Some(f64::from(r.count)),
            0,
            c.change.count_pct,
        ),
        ("Hours", Some(p.hours), Some(r.hours), 1, c.change.hours_pct),
        (
            "Distance (km)",
            Some(p.distance_km),
            Some(r.distance_km),
            0,
            c.change.distance_pct,
        ),
        (
            "Elevation (m)",
            Some(p.elevation_m),
            Some(r.elevation_m),
            0,
            text::change(Some(r.elevation_m), Some(p.elevation_m)),
        ),
        (
            "Load (TSS)",
            Some(p.load),
            Some(r.load),
            0,
            c.change.load_pct,
        ),
        (
            "Hours / week",
            Some(p.hours_per_week),
            Some(r.hours_per_week),
            1,
            c.change.hours_pct,
        ),
        (
            "Load / week",
            Some(p.load_per_week),
            Some(r.load_per_week),
            0,
            c.change.load_pct,
        ),
        (
            "Average NP (W)",
            p.avg_np_w,
            r.avg_np_w,
            0,
            c.change.avg_np_pct,
        ),
        (
            "Average HR (bpm)",
            p.avg_hr_bpm,
            r.avg_hr_bpm,
            0,
            text::change(r.avg_hr_bpm, p.avg_hr_bpm),
        ),
    ]
}

fn comparison_table(out: &mut String, title: &str, c: &PeriodComparison) {
    let (r, p) = (&c.recent, &c.previous);
    let _ = write!(
        out,
        "<h3>{}</h3><table><thead><tr><th></th><th class=\"num\">Previous<br><span class=\"meta\">{} – {}</span></th><th class=\"num\">Recent<br><span class=\"meta\">{} – {}</span></th><th class=\"num\">Change</th></tr></thead><tbody>",
        escape(title),
        p.start,
        p.end,
        r.start,
        r.end
    );
    let rows = comparison_rows(c);
    for (label, prev, rec, d, ch) in rows {
        let _ = write!(
            out,
            "<tr><td>{label}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            num(prev, d),
            num(rec, d),
            pct_change(ch)
        );
    }
    out.push_str("</tbody></table>");
}

fn comparison(out: &mut String, b: &AnalysisBundle) {
    heading(out, 1, false);
    comparison_table(out, "Rides", &b.comparison);
    comparison_table(out, "All sports", &b.comparison_all);
    out.push_str("</section>\n");
}

fn days_between(a: Date, b: Date) -> f64 {
    a.until(b).map(|s| f64::from(s.get_days())).unwrap_or(0.0)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Date ticks: the first of each month (thinned to at most ~12), or each Monday on short spans.
fn date_ticks(first: Date, last: Date, x: &Linear) -> Vec<(f64, String)> {
    let span = days_between(first, last);
    let mut ticks = Vec::new();
    if span > 70.0 {
        let months = (span / 30.0).ceil() as usize;
        let every = months.div_ceil(12).max(1);
        let mut d = first.first_of_month();
        let mut i = 0usize;
        while d <= last {
            if d >= first && i.is_multiple_of(every) {
                let label = if d.month() == 1 || ticks.is_empty() {
                    format!("{} {}", MONTHS[(d.month() - 1) as usize], d.year())
                } else {
                    MONTHS[(d.month() - 1) as usize].to_owned()
                };
                ticks.push((x.map(days_between(first, d)), label));
            }
            if d >= first {
                i += 1;
            }
            d = match d.checked_add(jiff::Span::new().months(1)) {
                Ok(d) => d,
                Err(_) => break,
            };
        }
    } else {
        let every = ((span / 7.0 / 8.0).ceil() as i64).max(1);
        let mut d = first;
        let mut k = 0i64;
        while d <= last {
            if d.weekday() == jiff::civil::Weekday::Monday {
                if k % every == 0 {
                    ticks.push((
                        x.map(days_between(first, d)),
                        format!("{:02}-{:02}", d.month(), d.day()),
                    ));
                }
                k += 1;
            }
            d = match d.tomorrow() {
                Ok(d) => d,
                Err(_) => break,
            };
        }
    }
    ticks
}

/// The plan's projection from the last day of the chart (its actual CTL / ATL), when a plan
/// continues past it.
pub fn projection_for(b: &AnalysisBundle, plan: Option<&TrainingPlan>) -> Option<Projection> {
    let plan = plan?;
    let last = b.fitness.last()?;
    let p = coach::projection::project(
        plan,
        last.date,
        metrics::pmc::PmcSeed {
            ctl: last.ctl,
            atl: last.atl,
        },
    );
    (!p.days.is_empty()).then_some(p)
}

fn fitness(out: &mut String, b: &AnalysisBundle, plan: Option<&TrainingPlan>) {
    heading(out, 2, true);
    let actual = &b.fitness;
    let (Some(first), Some(last_actual)) = (actual.first(), actual.last()) else {
        empty(
            out,
            "No fitness data: no activities with a training load in the chart window.",
        );
        out.push_str("</section>\n");
        return;
    };
    if let Some(now) = &b.fitness_now {
        out.push_str("<div class=\"card\">");
        card_item(out, "Fitness (CTL)", &num(Some(now.ctl), 1));
        card_item(out, "Fatigue (ATL)", &num(Some(now.atl), 1));
        card_item(out, "Form (TSB)", &num(Some(now.tsb), 1));
        card_item(out, "Ramp (CTL / 7 d)", &num(Some(now.ramp_rate), 1));
        out.push_str("</div>");
    }
    let projection = projection_for(b, plan);
    let projected: &[metrics::pmc::PmcDay] = projection.as_ref().map_or(&[], |p| &p.days);
    let last = projected.last().unwrap_or(last_actual);
    let all = || actual.iter().chain(projected.iter());
    let f = Frame::chart(1000.0, 320.0);
    let fin = |v: f64| if v.is_finite() { v } else { 0.0 };
    let hi = all()
        .map(|d| fin(d.ctl).max(fin(d.atl)).max(fin(d.tsb)))
        .fold(10.0, f64::max);
    let lo = all().map(|d| fin(d.tsb)).fold(0.0, f64::min);
    let lo = if lo < 0.0 {
        -svg::nice_max(-lo, 3)
    } else {
        0.0
    };
    let hi = svg::nice_max(hi, 5);
    let span = days_between(first.date, last.date).max(1.0);
    let x = Linear::new(0.0, span, f.x0(), f.x1());
    let y = Linear::new(lo, hi, f.y0(), f.y1());
    svg::open(
        out,
        "chart fitness",
        f.width,
        f.height,
        if projection.is_some() {
            "Fitness (CTL), fatigue (ATL) and form (TSB) by day, actual and projected through the plan"
        } else {
            "Fitness (CTL), fatigue (ATL) and form (TSB) by day"
        },
    );
    svg::y_axis(out, &f, &y, &y.ticks(6), |v| num(Some(v), 0));
    // TSB as one thin bar per day around the zero line: green fresh, red fatigued (projected
    // days paler).
    let bar_w = ((f.x1() - f.x0()) / (span + 1.0)).max(0.6);
    let zero = y.map(0.0);
    for (days, suffix) in [(&actual[..], ""), (projected, " proj")] {
        for d in days.iter().filter(|d| d.tsb.is_finite()) {
            let px = x.map(days_between(first.date, d.date));
            let class = if d.tsb >= 0.0 { "tsb-pos" } else { "tsb-neg" };
            svg::rect(
                out,
                &format!("{class}{suffix}"),
                px - bar_w / 2.0,
                zero,
                px + bar_w / 2.0,
                y.map(d.tsb),
                None,
            );
        }
    }
    let pts =
        |days: &[metrics::pmc::PmcDay], g: fn(&metrics::pmc::PmcDay) -> f64| -> Vec<(f64, f64)> {
            days.iter()
                .map(|d| (x.map(days_between(first.date, d.date)), y.map(g(d))))
                .collect()
        };
    svg::line(out, "atl", &pts(actual, |d| d.atl));
    svg::line(out, "ctl", &pts(actual, |d| d.ctl));
    if let Some(p) = &projection {
        // The projected lines start at the last actual day, so the two join.
        let joined: Vec<metrics::pmc::PmcDay> = std::iter::once(*last_actual)
            .chain(p.days.iter().copied())
            .collect();
        svg::line(out, "atl-proj", &pts(&joined, |d| d.atl));
        svg::line(out, "ctl-proj", &pts(&joined, |d| d.ctl));
        let today = x.map(days_between(first.date, last_actual.date));
        svg::vline(out, "today", today, f.y0(), f.y1());
        svg::label(out, "lbl", today - 4.0, f.y1() + 12.0, "end", "today");
        if let Some(a) = &p.event {
            let ex = x.map(days_between(first.date, a.date));
            svg::vline(out, "event", ex, f.y0(), f.y1());
            svg::label(
                out,
                "lbl event-label",
                ex - 4.0,
                f.y1() + 26.0,
                "end",
                &format!(
                    "event {}: arrives with CTL {:.0}, TSB {:+.0}",
                    a.date, a.ctl, a.tsb
                ),
            );
        }
    }
    svg::x_axis(out, &f, &date_ticks(first.date, last.date, &x));
    svg::axis_titles(out, &f, "", "TSS / day");
    svg::close(out);
    out.push_str("<div class=\"legend\"><span><i class=\"k-ctl\"></i>Fitness (CTL, 42 d)</span><span><i class=\"k-atl\"></i>Fatigue (ATL, 7 d)</span><span><i class=\"k-tsbp\"></i>Form (TSB) fresh</span><span><i class=\"k-tsbn\"></i>Form (TSB) fatigued</span>");
    if projection.is_some() {
        out.push_str("<span><i class=\"k-proj\"></i>Projected through the plan (dashed)</span>");
    }
    out.push_str("</div>");
    if let Some(p) = &projection {
        let end = p.days.last().map_or(p.from, |d| d.date);
        let _ = write!(
            out,
            "<p class=\"projection\">Projected from {} with the plan's own planned TSS ({:.0} TSS to {}).",
            p.from,
            p.days.iter().map(|d| d.load).sum::<f64>(),
            end
        );
        match (&p.event, p.days.last()) {
            (Some(a), _) => {
                let _ = write!(out, " The plan {}.", escape(&a.sentence()));
            }
            (None, Some(l)) => {
                let _ = write!(
                    out,
                    " At the plan's end: CTL {:.0}, TSB {:+.0}.",
                    l.ctl, l.tsb
                );
            }
            _ => {}
        }
        out.push_str("</p>");
    }
    out.push_str("</section>\n");
}

/// Plan vs actual: each week's compliance, then each due workout with what was ridden and the
/// intervals as judged from the ride's power.
fn follow(out: &mut String, status: Option<&coach::follow::PlanStatus>) {
    heading(out, 11, false);
    let Some(st) = status.filter(|s| s.weeks.iter().any(|w| w.compliance_pct.is_some())) else {
        empty(
            out,
            "No stored plan covered the analysed period, so there is nothing to compare yet: `cycling-ai plan status` follows this plan as you ride it.",
        );
        out.push_str("</section>\n");
        return;
    };
    let due: Vec<&coach::follow::WeekCompliance> = st
        .weeks
        .iter()
        .filter(|w| w.compliance_pct.is_some())
        .collect();
    let _ = write!(
        out,
        "<p>The stored plan as ridden up to {}: compliance weights each workout by its planned TSS (missed 0, load agreement × intervals hit).</p>",
        st.as_of
    );
    out.push_str("<table><thead><tr><th>Week</th><th>From</th><th>Compliance</th><th>Completed</th><th>Partial</th><th>Missed</th><th>Moved</th><th>Unplanned</th><th>Load (TSS)</th></tr></thead><tbody>");
    for w in &due {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0} of {:.0}</td></tr>",
            w.week,
            w.start_date,
            w.compliance_pct
                .map_or_else(|| "—".into(), |c| format!("{c:.0} %")),
            w.completed,
            w.partial,
            w.missed,
            w.moved,
            w.unplanned,
            w.actual_tss,
            w.planned_tss
        );
    }
    out.push_str("</tbody></table>");
    out.push_str("<table class=\"follow\"><thead><tr><th>Date</th><th>Planned</th><th>Status</th><th>Ridden</th><th>Duration</th><th>Load</th><th>Intervals</th></tr></thead><tbody>");
    for o in st.workouts.iter().filter(|o| o.score.is_some()) {
        let ridden = match &o.actual {
            Some(a) if o.moved_days != 0 => {
                format!("{} (moved {:+} d)", escape(&a.name), o.moved_days)
            }
            Some(a) => escape(&a.name),
            None => "—".into(),
        };
        let intervals = o
            .intervals
            .as_ref()
            .map(|r| r.summary.clone())
            .or_else(|| o.intervals_note.clone())
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} · {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            o.date,
            escape(capitalise(o.workout_type.label()).as_str()),
            escape(&o.name),
            o.status.label(),
            ridden,
            o.completion_pct
                .map_or_else(|| "—".into(), |c| format!("{c:.0} %")),
            o.load_ratio
                .map_or_else(|| "—".into(), |r| format!("{:.0} %", r * 100.0)),
            escape(&intervals)
        );
    }
    out.push_str("</tbody></table>");
    if !st.unplanned.is_empty() {
        let list: Vec<String> = st
            .unplanned
            .iter()
            .take(20)
            .map(|a| format!("{} {}", a.date, escape(&a.name)))
            .collect();
        let _ = write!(out, "<p><b>Unplanned:</b> {}</p>", list.join("; "));
    }
    out.push_str("</section>\n");
}

fn dur_label(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.0}s")
    } else if s < 3600.0 {
        format!("{:.0}m", s / 60.0)
    } else {
        format!("{:.0}h", s / 3600.0)
    }
}

fn power_curve(out: &mut String, b: &AnalysisBundle) {
    heading(out, 3, true);
    if let Some(st) = &b.stale_ftp {
        let method = match st.method {
            EftpMethod::Cp2 => "critical power of the 2–20 min bests",
            EftpMethod::TwentyMin95 => "95 % of the best 20 min",
        };
        let _ = write!(
            out,
            "<div class=\"warn\"><b>FTP looks stale.</b> Recent bests imply an FTP of {} W ({}), {} W ({}) above the profile's {} W. Zones, TSS and the plan's targets use the profile FTP: consider a test or updating it.</div>",
            num(Some(st.implied_ftp_w), 0),
            method,
            num(Some(st.diff_w), 0),
            pct_change(Some(st.diff_pct)),
            num(Some(st.profile_ftp_w), 0)
        );
    }
    let curve = b
        .power_curve
        .as_ref()
        .filter(|c| !c.durations_s.is_empty() && c.watts.iter().any(|w| w.is_finite() && *w > 0.0));
    let Some(curve) = curve else {
        empty(
            out,
            "No power data in the recent period: no power-duration curve.",
        );
        out.push_str("</section>\n");
        return;
    };
    let f = Frame::chart(1000.0, 340.0);
    let max_t = f64::from(curve.max_duration_s().max(2));
    let max_w = curve
        .watts
        .iter()
        .map(|&w| f64::from(w))
        .filter(|w| w.is_finite())
        .fold(0.0, f64::max);
    let x = Log::new(1.0, max_t, f.x0(), f.x1());
    let y = Linear::new(0.0, svg::nice_max(max_w * 1.05, 6), f.y0(), f.y1());
    svg::open(
        out,
        "chart",
        f.width,
        f.height,
        "Best power for each duration (log time axis) with the critical-power model",
    );
    svg::y_axis(out, &f, &y, &y.ticks(6), |v| num(Some(v), 0));
    let pts: Vec<(f64, f64)> = curve
        .durations_s
        .iter()
        .zip(&curve.watts)
        .filter(|(d, w)| **d >= 1 && w.is_finite())
        .map(|(&d, &w)| (x.map(f64::from(d)), y.map(f64::from(w))))
        .collect();
    svg::area(out, "curve-area", &pts, f.y0());
    svg::line(out, "curve", &pts);
    if let Some(cp) = &b.cp2 {
        let (t0, t1) = (120f64, 1200f64.min(max_t.max(120.0)));
        let model: Vec<(f64, f64)> = (0..=40)
            .map(|i| t0 * (t1 / t0).powf(f64::from(i) / 40.0))
            .map(|t| (x.map(t), y.map(cp.w_prime_j / t + cp.cp_w)))
            .collect();
        svg::line(out, "cp", &model);
        let cy = y.map(cp.cp_w);
        let _ = write!(
            out,
            r#"<line class="cp-line" x1="{}" y1="{cy}" x2="{}" y2="{cy}"/>"#,
            n(f.x0()),
            n(f.x1()),
            cy = n(cy)
        );
    }
    let ticks: Vec<(f64, String)> = [
        1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0, 7200.0, 14400.0, 21600.0,
    ]
    .into_iter()
    .filter(|t| x.contains(*t))
    .map(|t| (x.map(t), dur_label(t)))
    .collect();
    svg::x_axis(out, &f, &ticks);
    svg::axis_titles(out, &f, "duration (log scale)", "watts");
    // Model labels in the upper right, where the curve is low.
    let mut ly = f.y1() + 16.0;
    let lx = f.x1() - 8.0;
    if let Some(cp) = &b.cp2 {
        svg::label(
            out,
            "lbl",
            lx,
            ly,
            "end",
            &format!(
                "CP {} W · W′ {} kJ (2-parameter, 2–20 min, R² {})",
                num(Some(cp.cp_w), 0),
                num(Some(cp.w_prime_j / 1000.0), 1),
                num(Some(cp.r2), 3)
            ),
        );
        ly += 16.0;
    }
    if let Some(e) = &b.eftp {
        let m = match e.method {
            EftpMethod::Cp2 => "CP",
            EftpMethod::TwentyMin95 => "95 % of 20 min",
        };
        svg::label(
            out,
            "lbl",
            lx,
            ly,
            "end",
            &format!("eFTP {} W ({m})", num(Some(e.ftp_w), 0)),
        );
        ly += 16.0;
    }
    if let Some(ftp) = b.athlete.ftp_w {
        svg::label(
            out,
            "lbl",
            lx,
            ly,
            "end",
            &format!("profile FTP {} W", num(Some(ftp), 0)),
        );
    }
    svg::close(out);
    out.push_str(
        "<div class=\"legend\"><span><i class=\"k-curve\"></i>Best power, recent period</span>",
    );
    if b.cp2.is_some() {
        out.push_str("<span><i class=\"k-cp\"></i>CP model P = W′/t + CP (2–20 min)</span>");
    }
    out.push_str("</div>");
    // Key durations as a table: what the chart shows, readable in print.
    out.push_str("<table><thead><tr>");
    let keys = [5u32, 60, 300, 1200, 3600];
    for k in keys {
        let _ = write!(out, "<th class=\"num\">{}</th>", dur_label(f64::from(k)));
    }
    out.push_str("</tr></thead><tbody><tr>");
    for k in keys {
        let v = (k <= curve.max_duration_s())
            .then(|| curve.at_least(k))
            .flatten();
        let _ = write!(out, "<td class=\"num\">{}</td>", num_unit(v, 0, "W"));
    }
    out.push_str("</tr></tbody></table></section>\n");
}

fn zone_chart(out: &mut String, title: &str, names: &[&str], secs: &[f64], pcts: &[f64]) {
    let row = 30.0;
    let f = Frame {
        width: 1000.0,
        height: row * names.len() as f64 + 10.0,
        left: 190.0,
        right: 150.0,
        top: 5.0,
        bottom: 5.0,
    };
    let max_pct = pcts
        .iter()
        .copied()
        .filter(|p| p.is_finite())
        .fold(1.0, f64::max);
    let x = Linear::new(0.0, max_pct, f.x0(), f.x1());
    svg::open(out, "chart", f.width, f.height, title);
    for (i, name) in names.iter().enumerate() {
        let y0 = f.top + row * i as f64 + 4.0;
        let (s, p) = (
            secs.get(i).copied().unwrap_or(0.0),
            pcts.get(i).copied().unwrap_or(0.0),
        );
        svg::label(
            out,
            "lbl",
            f.x0() - 8.0,
            y0 + 16.0,
            "end",
            &format!("Z{} {name}", i + 1),
        );
        let class = format!("z{}", (i + 1).min(7));
        let tip = format!(
            "Z{} {name}: {} · {} %",
            i + 1,
            hours(s / 3600.0),
            num(Some(p), 1)
        );
        svg::rect(
            out,
            &class,
            f.x0(),
            y0,
            x.map(p.max(0.0)),
            y0 + row - 8.0,
            Some(&tip),
        );
        svg::label(
            out,
            "lbl",
            x.map(p.max(0.0)) + 6.0,
            y0 + 16.0,
            "start",
            &format!("{} · {} %", hours(s / 3600.0), num(Some(p), 1)),
        );
    }
    svg::close(out);
}

fn zones(out: &mut String, b: &AnalysisBundle) {
    heading(out, 4, false);
    let z = &b.zones;
    let _ = write!(out, "<p class=\"meta\">{} – {}</p>", z.from, z.to);
    out.push_str("<h3>Power zones</h3>");
    match (&z.power_zones_pct, z.activities_with_power_zones) {
        (Some(p), k) if k > 0 => {
            let _ = write!(out, "<p class=\"meta\">Over {k} rides with power.</p>");
            zone_chart(
                out,
                "Time in power zones",
                &COGGAN_POWER_NAMES,
                &z.power_zones_s,
                p,
            );
            if let Some([e, m, h]) = z.easy_moderate_hard_pct {
                let _ = write!(
                    out,
                    "<p>Intensity distribution: easy (Z1–Z2) {} %, moderate (Z3) {} %, hard (Z4+) {} %.</p>",
                    num(Some(e), 0),
                    num(Some(m), 0),
                    num(Some(h), 0)
                );
            }
        }
        _ => empty(out, "No power data: no time in power zones."),
    }
    if let (Some(p), k) = (&z.hr_zones_pct, z.activities_with_hr_zones)
        && k > 0
    {
        out.push_str("<h3>Heart-rate zones</h3>");
        let _ = write!(
            out,
            "<p class=\"meta\">Over {k} activities with heart rate.</p>"
        );
        zone_chart(
            out,
            "Time in heart-rate zones",
            &COGGAN_HR_NAMES,
            &z.hr_zones_s,
            p,
        );
    }
    out.push_str("</section>\n");
}

fn sport_class(s: Sport) -> &'static str {
    s.as_str()
}

fn weekly(out: &mut String, b: &AnalysisBundle) {
    heading(out, 5, false);
    let weeks = &b.weekly;
    if weeks.is_empty() || weeks.iter().all(|w| w.hours <= 0.0) {
        empty(out, "No activities in the chart window.");
        out.push_str("</section>\n");
        return;
    }
    let f = Frame::chart(1000.0, 300.0);
    let max_h = weeks
        .iter()
        .map(|w| w.hours)
        .filter(|h| h.is_finite())
        .fold(0.0, f64::max);
    let y = Linear::new(0.0, svg::nice_max(max_h, 5), f.y0(), f.y1());
    let slot = (f.x1() - f.x0()) / weeks.len() as f64;
    let bar = (slot * 0.75).max(1.0);
    svg::open(
        out,
        "chart",
        f.width,
        f.height,
        "Hours per week, stacked by sport",
    );
    svg::y_axis(out, &f, &y, &y.ticks(5), |v| num(Some(v), 0));
    let mut sports: Vec<Sport> = Vec::new();
    for (i, w) in weeks.iter().enumerate() {
        let x0 = f.x0() + slot * i as f64 + (slot - bar) / 2.0;
        let mut acc = 0.0;
        for s in &w.by_sport {
            if !(s.hours.is_finite() && s.hours > 0.0) {
                continue;
            }
            if !sports.contains(&s.sport) {
                sports.push(s.sport);
            }
            let tip = format!(
                "week of {}: {} {} · {} · load {}",
                w.week_start,
                hours(s.hours),
                s.sport.as_str(),
                num_unit(Some(s.distance_km), 0, "km"),
                num(Some(s.load), 0)
            );
            svg::rect(
                out,
                &format!("s-{}", sport_class(s.sport)),
                x0,
                y.map(acc),
                x0 + bar,
                y.map(acc + s.hours),
                Some(&tip),
            );
            acc += s.hours;
        }
    }
    let every = weeks.len().div_ceil(13).max(1);
    let ticks: Vec<(f64, String)> = weeks
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, w)| {
            (
                f.x0() + slot * (i as f64 + 0.5),
                format!("{:02}-{:02}", w.week_start.month(), w.week_start.day()),
            )
        })
        .collect();
    svg::x_axis(out, &f, &ticks);
    svg::axis_titles(out, &f, "week starting (Monday)", "hours");
    svg::close(out);
    sports.sort();
    out.push_str("<div class=\"legend\">");
    for s in sports {
        let _ = write!(
            out,
            "<span><i class=\"k-{}\"></i>{}</span>",
            sport_class(s),
            s.as_str()
        );
    }
    out.push_str("</div>");
    let total: f64 = weeks.iter().map(|w| w.hours).sum();
    let load: f64 = weeks.iter().map(|w| w.load).sum();
    let _ = write!(
        out,
        "<p class=\"meta\">{} weeks · {} · load {} · average {} / week.</p>",
        weeks.len(),
        hours(total),
        num(Some(load), 0),
        hours(total / weeks.len() as f64)
    );
    out.push_str("</section>\n");
}

fn list(out: &mut String, items: &[String]) {
    if items.is_empty() {
        out.push_str("<p class=\"meta\">None.</p>");
        return;
    }
    out.push_str("<ul>");
    for i in items {
        let _ = write!(out, "<li>{}</li>", escape(i));
    }
    out.push_str("</ul>");
}

fn analysis(out: &mut String, input: &ReportInput) {
    let nv = input.narrative;
    heading(out, 6, true);
    let _ = write!(
        out,
        "<p class=\"meta\">Written by {}.</p>",
        escape(&nv.author)
    );
    let _ = write!(out, "<h3>Summary</h3><p>{}</p>", escape(&nv.summary));
    out.push_str("<h3>Key trends</h3>");
    if nv.key_trends.is_empty() {
        out.push_str("<p class=\"meta\">None.</p>");
    }
    for t in &nv.key_trends {
        let _ = write!(
            out,
            "<p class=\"trend\"><b>{}</b> — {}</p>",
            escape(&t.title),
            escape(&t.description)
        );
    }
    out.push_str("<h3>Insights</h3>");
    list(out, &nv.insights);
    out.push_str("<h3>Recommendations</h3><h3>Short term</h3>");
    list(out, &nv.recommendations.short_term);
    out.push_str("<h3>Long term</h3>");
    list(out, &nv.recommendations.long_term);
    out.push_str("<h3>Recovery</h3>");
    list(out, &nv.recommendations.recovery);
    out.push_str("</section>\n");
}

fn notable(out: &mut String, b: &AnalysisBundle) {
    heading(out, 7, false);
    if b.notable_rides.is_empty() {
        empty(out, "No notable rides in the recent period.");
    } else {
        out.push_str("<table><thead><tr><th>Date</th><th>Activity</th><th>Sport</th><th class=\"num\">Duration</th><th class=\"num\">Distance</th><th class=\"num\">NP</th><th class=\"num\">TSS</th><th>Why</th></tr></thead><tbody>");
        for r in &b.notable_rides {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                r.date,
                escape(&r.name),
                r.sport.as_str(),
                text::duration(r.duration_s),
                num_unit(r.distance_km, 1, "km"),
                num_unit(r.np_w, 0, "W"),
                num(r.tss, 0),
                escape(&r.reason)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}

fn cross_training(out: &mut String, b: &AnalysisBundle) {
    heading(out, 8, false);
    let ct = &b.cross_training;
    let _ = write!(
        out,
        "<p class=\"meta\">{} – {} ({} weeks), {} activities.</p>",
        ct.start, ct.end, ct.weeks, ct.total_count
    );
    if ct.total_count == 0 {
        empty(out, "No activities in the period.");
    } else {
        out.push_str("<table><thead><tr><th>Category</th><th class=\"num\">Activities</th><th class=\"num\">Hours</th><th class=\"num\">Hours / week</th><th class=\"num\">Load</th><th class=\"num\">Load / week</th><th class=\"num\">Share of load</th></tr></thead><tbody>");
        for c in ct.categories.iter().filter(|c| c.count > 0) {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                capitalise(c.category.label()),
                c.count,
                num(Some(c.hours), 1),
                num(Some(c.hours_per_week), 1),
                num(Some(c.load), 0),
                num(Some(c.load_per_week), 0),
                num_unit(c.load_share_pct, 0, "%")
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}

fn phase_class(p: Phase) -> &'static str {
    match p {
        Phase::Base => "ph-base",
        Phase::Build => "ph-build",
        Phase::Recovery => "ph-recovery",
        Phase::Peak => "ph-peak",
        Phase::Taper => "ph-taper",
    }
}

/// A small power profile of a workout's steps: time on x, % FTP on y (0–150 %, or the peak).
pub fn mini_profile(out: &mut String, steps: &[Step], title: &str) {
    let segs = coach::plan::segments(steps);
    let total: f64 = segs.iter().map(|s| f64::from(s.duration_s)).sum();
    let (w, h) = (200.0, 40.0);
    let peak = segs
        .iter()
        .flat_map(|s| [s.from_pct, s.to_pct])
        .filter(|v| v.is_finite())
        .fold(150.0, f64::max);
    let x = Linear::new(0.0, total.max(1.0), 0.0, w);
    let y = Linear::new(0.0, peak, h, 0.0);
    let _ = write!(
        out,
        r#"<svg class="mini" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" aria-label="{t}"><title>{t}</title>"#,
        n(w),
        n(h),
        t = escape(title)
    );
    let mut t = 0.0;
    for seg in segs {
        let (d, a, b) = (f64::from(seg.duration_s), seg.from_pct, seg.to_pct);
        let (x0, x1) = (x.map(t), x.map(t + d));
        if (a - b).abs() < 1e-9 {
            svg::rect(out, "", x0, h, x1, y.map(a), None);
        } else {
            let _ = write!(
                out,
                r#"<path d="M{},{} L{},{} L{},{} L{},{} Z"/>"#,
                n(x0),
                n(h),
                n(x0),
                n(y.map(a)),
                n(x1),
                n(y.map(b)),
                n(x1),
                n(h)
            );
        }
        t += d;
    }
    svg::close(out);
}

fn plan_calendar(out: &mut String, plan: Option<&TrainingPlan>) {
    heading(out, 9, true);
    let Some(plan) = plan else {
        empty(
            out,
            "No training plan in this report (skipped or not requested).",
        );
        out.push_str("</section>\n");
        return;
    };
    let total_h: f64 = plan.weeks.iter().map(|w| w.planned_hours).sum();
    let total_tss: f64 = plan.weeks.iter().map(|w| w.planned_tss).sum();
    out.push_str("<div class=\"card\">");
    card_item(out, "Starts", &plan.start_date.to_string());
    card_item(out, "Weeks", &plan.weeks.len().to_string());
    card_item(out, "Plan FTP", &num_unit(Some(plan.ftp_w), 0, "W"));
    card_item(out, "Planned hours", &hours(total_h));
    card_item(out, "Planned TSS", &num(Some(total_tss), 0));
    if let Some(d) = plan.event_date {
        card_item(out, "Event", &d.to_string());
    }
    out.push_str("</div>");
    if let Some(g) = &plan.goal {
        let _ = write!(out, "<p><b>Goal:</b> {}</p>", escape(g));
    }
    if !plan.overview.coaching_notes.is_empty() {
        let _ = write!(
            out,
            "<p><b>Coaching notes:</b> {}</p>",
            escape(&plan.overview.coaching_notes)
        );
    }
    if !plan.overview.monitoring.is_empty() {
        let _ = write!(
            out,
            "<p><b>Monitoring:</b> {}</p>",
            escape(&plan.overview.monitoring)
        );
    }
    out.push_str("<div class=\"legend\">");
    for p in [
        Phase::Base,
        Phase::Build,
        Phase::Recovery,
        Phase::Peak,
        Phase::Taper,
    ] {
        let _ = write!(
            out,
            "<span class=\"phase {}\">{}</span>",
            phase_class(p),
            p.label()
        );
    }
    out.push_str("</div>");
    out.push_str("<table class=\"cal\"><thead><tr><th class=\"wk\">Week</th>");
    for d in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] {
        let _ = write!(out, "<th>{d}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for week in &plan.weeks {
        let _ = write!(
            out,
            "<tr class=\"{}\"><th class=\"wk\">W{} <span class=\"phase\">{}</span><br>{}<br>{}<br>{} · TSS {}</th>",
            phase_class(week.phase),
            week.week,
            week.phase.label(),
            week.start_date,
            escape(&week.focus),
            hours(week.planned_hours),
            num(Some(week.planned_tss), 0)
        );
        let overview = plan.overview.weeks.iter().find(|o| o.week == week.week);
        for (wd, _) in weekday_name::ALL {
            out.push_str("<td>");
            let mut any = false;
            for pw in week.workouts.iter().filter(|p| p.weekday == wd) {
                any = true;
                let anchor = workout_anchor(week.week, wd, &pw.workout.id);
                let _ = write!(
                    out,
                    "<div class=\"wo\"><a href=\"#{anchor}\"><b>{}</b></a>{} · TSS {}",
                    escape(&pw.workout.name),
                    text::duration(f64::from(pw.duration_s)),
                    num(Some(pw.tss), 0)
                );
                if !pw.workout.steps.is_empty() {
                    mini_profile(
                        out,
                        &pw.workout.steps,
                        &format!("Power profile of {}", pw.workout.name),
                    );
                }
                out.push_str("</div>");
            }
            if !any {
                let t = overview
                    .and_then(|o| o.days.iter().find(|d| d.weekday == wd))
                    .map_or(WorkoutType::Rest, |d| d.workout_type);
                let _ = write!(out, "<span class=\"rest\">{}</span>", capitalise(t.label()));
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>\n");
}

fn workout_anchor(week: u32, wd: jiff::civil::Weekday, id: &str) -> String {
    format!(
        "w{week:02}-{}-{}",
        weekday_name::name(wd),
        text::slug(id, 40)
    )
}

fn step_rows(out: &mut String, steps: &[Step], ftp: f64, sub: bool) {
    for s in steps {
        let cls = if sub { " class=\"sub\"" } else { "" };
        let (what, dur) = match s {
            Step::Steady {
                kind, duration_s, ..
            }
            | Step::Ramp {
                kind, duration_s, ..
            } => {
                let ramp = if matches!(s, Step::Ramp { .. }) {
                    " (ramp)"
                } else {
                    ""
                };
                (
                    format!("{}{ramp}", workouts::kind_name(*kind)),
                    f64::from(*duration_s),
                )
            }
            Step::Repeat { .. } => (
                workouts::step_summary(s),
                f64::from(coach::planned_tss::step_duration_s(s)),
            ),
        };
        let _ = write!(
            out,
            "<tr><td{cls}>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&what),
            text::duration(dur),
            escape(&workouts::step_target(s)),
            escape(&workouts::step_watts(s, ftp))
        );
        if let Step::Repeat { steps, .. } = s {
            step_rows(out, steps, ftp, true);
        }
    }
}

fn plan_details(out: &mut String, plan: Option<&TrainingPlan>, exported: &[Exported]) {
    heading(out, 10, false);
    let Some(plan) = plan else {
        empty(out, "No training plan: no workouts.");
        out.push_str("</section>\n");
        return;
    };
    let mut count = 0;
    for week in &plan.weeks {
        for pw in &week.workouts {
            count += 1;
            let w = &pw.workout;
            let _ = write!(
                out,
                "<details id=\"{}\"><summary>W{} {} {} — {} · {} · TSS {}</summary>",
                workout_anchor(week.week, pw.weekday, &w.id),
                week.week,
                &weekday_name::name(pw.weekday)[..3],
                pw.date,
                escape(&w.name),
                text::duration(f64::from(pw.duration_s)),
                num(Some(pw.tss), 0)
            );
            let _ = write!(
                out,
                "<p>{} · {}</p>",
                capitalise(w.workout_type.label()),
                escape(&w.description)
            );
            if w.steps.is_empty() {
                out.push_str("<p class=\"meta\">No structured steps.</p>");
            } else {
                let _ = write!(
                    out,
                    "<table><thead><tr><th>Step</th><th class=\"num\">Duration</th><th class=\"num\">% FTP</th><th class=\"num\">Watts at {} W</th></tr></thead><tbody>",
                    num(Some(plan.ftp_w), 0)
                );
                step_rows(out, &w.steps, plan.ftp_w, false);
                out.push_str("</tbody></table>");
            }
            if let Some(e) = exported
                .iter()
                .find(|e| e.week == week.week && e.date == pw.date && e.name == w.name)
            {
                let _ = write!(
                    out,
                    "<p class=\"meta\">Files: <a href=\"workouts/{f}\">{f}</a> (Garmin, Wahoo) · <a href=\"workouts/{z}\">{z}</a> (Zwift)</p>",
                    f = escape(&e.fit_file),
                    z = escape(&e.zwo_file)
                );
            }
            out.push_str("</details>");
        }
    }
    if count == 0 {
        empty(out, "The plan has no workouts.");
    }
    out.push_str("</section>\n");
}

fn costs(out: &mut String, run: &RunInfo) {
    heading(out, 12, false);
    let _ = write!(
        out,
        "<p>Provider: <b>{}</b></p>",
        escape(&provider_line(run))
    );
    if run.is_offline() {
        out.push_str("<p class=\"warn\">Offline: no model used. The analysis and the plan were written by the rule-based coach from the same figures.</p>");
    }
    out.push_str("<table><thead><tr><th>Phase</th><th class=\"num\">Duration</th><th class=\"num\">Model calls</th><th class=\"num\">Input tokens</th><th class=\"num\">Output tokens</th><th class=\"num\">Cached tokens</th><th class=\"num\">Cost</th></tr></thead><tbody>");
    let cost = |c: Option<f64>| match c.filter(|c| c.is_finite()) {
        Some(c) => format!("${c:.4}"),
        None => text::NONE.to_owned(),
    };
    for p in &run.phases {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{} s</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&p.phase),
            num(Some(p.seconds), 2),
            p.model_calls,
            p.input_tokens,
            p.output_tokens,
            p.cached_tokens,
            cost(p.cost_usd)
        );
    }
    let sum_s: f64 = run.phases.iter().map(|p| p.seconds).sum();
    let total_cost = if run.phases.iter().any(|p| p.cost_usd.is_some()) {
        Some(run.phases.iter().filter_map(|p| p.cost_usd).sum())
    } else {
        None
    };
    let _ = write!(
        out,
        "<tr><th>Total</th><th class=\"num\">{} s</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr>",
        num(Some(sum_s), 2),
        run.phases.iter().map(|p| p.model_calls).sum::<u32>(),
        run.phases.iter().map(|p| p.input_tokens).sum::<u64>(),
        run.phases.iter().map(|p| p.output_tokens).sum::<u64>(),
        run.phases.iter().map(|p| p.cached_tokens).sum::<u64>(),
        cost(total_cost)
    );
    out.push_str("</tbody></table>");
    if !run.notes.is_empty() {
        list(out, &run.notes);
    }
    out.push_str("</section>\n");
}
