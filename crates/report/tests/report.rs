//! The whole report written to a temporary directory from a hand-built bundle, narrative and
//! plan, then read back: HTML structure and safety, JSON round trip, FIT workouts through an
//! independent decoder (`fitparser`) and our own (`ride::fit::decode_workout_file`), `.zwo` through an independent XML parser (`roxmltree`).

use std::collections::HashMap;
use std::path::Path;

use coach::bundle::{AnalysisBundle, AthleteCard, NotableRide};
use coach::narrative::{Narrative, Recommendations, Trend};
use coach::plan::{
    DayPlan, Phase, PlanOverview, PlanWeek, PlannedWorkout, Step, StepKind, TrainingPlan,
    WeekOverview, Workout, WorkoutType,
};
use fitparser::profile::MesgNum;
use fitparser::{FitDataRecord, Value};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday, date};
use metrics::cross_training::{Category, CategoryStats, CrossTraining};
use metrics::period::{PeriodChange, PeriodComparison, PeriodTotals};
use metrics::pmc::{PmcSeed, pmc};
use metrics::weekly::{SportWeek, WeekSummary};
use metrics::zones::ZoneTotals;
use report::{PhaseCost, ReportData, ReportError, ReportInput, RunInfo, write_report};
use ride::Sport;

const XSS: &str = "<script>alert(1)</script>";
const AS_OF: Date = date(2025, 6, 29);

fn totals(
    start: Date,
    end: Date,
    count: u32,
    hours: f64,
    load: f64,
    np: Option<f64>,
) -> PeriodTotals {
    PeriodTotals {
        start,
        end,
        weeks: 6,
        count,
        hours,
        distance_km: hours * 29.0,
        elevation_m: hours * 310.0,
        load,
        hours_per_week: hours / 6.0,
        distance_km_per_week: hours * 29.0 / 6.0,
        load_per_week: load / 6.0,
        count_per_week: f64::from(count) / 6.0,
        avg_np_w: np,
        avg_hr_bpm: Some(141.0),
    }
}

fn comparison() -> PeriodComparison {
    PeriodComparison {
        recent: totals(date(2025, 5, 19), AS_OF, 24, 48.5, 2650.0, Some(212.0)),
        previous: totals(
            date(2025, 4, 7),
            date(2025, 5, 18),
            20,
            40.0,
            2200.0,
            Some(204.0),
        ),
        change: PeriodChange {
            count_pct: Some(20.0),
            hours_pct: Some(21.25),
            distance_pct: Some(21.25),
            load_pct: Some(20.45),
            avg_np_pct: Some(3.92),
        },
    }
}

/// A ride's power series with maximal efforts of several lengths over an endurance base.
fn power_series() -> Vec<f64> {
    let mut p = vec![175.0; 3 * 3600];
    let mut put = |start: usize, secs: usize, w: f64| p[start..start + secs].fill(w);
    put(600, 5, 950.0);
    put(1200, 60, 470.0);
    put(2000, 180, 370.0);
    put(3000, 300, 335.0);
    put(4000, 600, 305.0);
    put(5400, 1200, 288.0);
    p
}

fn bundle() -> AnalysisBundle {
    let series = power_series();
    let curve = metrics::curve::power_curve(&series, series.len());
    let cp2 = metrics::cp::fit_cp2_curve(&curve);
    let cp3 = metrics::cp::fit_cp3_curve(&curve);
    let eftp = metrics::cp::estimate_ftp(&curve);
    let stale = metrics::cp::stale_ftp(250.0, &curve);
    assert!(
        cp2.is_some() && stale.is_some(),
        "the synthetic curve supports a CP fit"
    );

    let start = date(2025, 1, 6);
    let mut daily = std::collections::BTreeMap::new();
    let mut d = start;
    let mut i = 0;
    while d <= AS_OF {
        if i % 7 != 0 {
            daily.insert(d, 40.0 + f64::from(i % 5) * 25.0);
        }
        d = d.tomorrow().unwrap();
        i += 1;
    }
    let fitness = pmc(
        &daily,
        start,
        AS_OF,
        PmcSeed {
            ctl: 30.0,
            atl: 35.0,
        },
    );
    let weekly: Vec<WeekSummary> = (0..25)
        .map(|k| {
            let ws = start.checked_add((7 * k).days()).unwrap();
            let ride_h = 5.0 + f64::from(k % 4);
            let run_h = if k % 3 == 0 { 1.5 } else { 0.0 };
            let mut by_sport = vec![SportWeek {
                sport: Sport::Ride,
                count: 4,
                hours: ride_h,
                distance_km: ride_h * 29.0,
                load: ride_h * 60.0,
            }];
            if run_h > 0.0 {
                by_sport.push(SportWeek {
                    sport: Sport::Run,
                    count: 2,
                    hours: run_h,
                    distance_km: run_h * 10.0,
                    load: run_h * 55.0,
                });
            }
            let iso = ws.iso_week_date();
            WeekSummary {
                week_start: ws,
                iso_year: iso.year(),
                iso_week: iso.week(),
                count: by_sport.iter().map(|s| s.count).sum(),
                hours: ride_h + run_h,
                distance_km: by_sport.iter().map(|s| s.distance_km).sum(),
                load: by_sport.iter().map(|s| s.load).sum(),
                by_sport,
            }
        })
        .collect();
    let zone_s = [36000.0, 61000.0, 28000.0, 14000.0, 5000.0, 2200.0, 800.0];
    let total: f64 = zone_s.iter().sum();
    let pct = zone_s.map(|s| s / total * 100.0);
    let hr_s = [20000.0, 70000.0, 30000.0, 20000.0, 4000.0];
    let hr_total: f64 = hr_s.iter().sum();
    let cats: Vec<CategoryStats> = Category::ALL
        .iter()
        .map(|&c| {
            let (count, hours, load) = match c {
                Category::Cycling => (24, 48.5, 2650.0),
                Category::Running => (5, 4.0, 210.0),
                _ => (0, 0.0, 0.0),
            };
            CategoryStats {
                category: c,
                count,
                hours,
                load,
                hours_per_week: hours / 6.0,
                load_per_week: load / 6.0,
                load_share_pct: Some(load / 2860.0 * 100.0),
                count_share_pct: Some(f64::from(count) / 29.0 * 100.0),
            }
        })
        .collect();
    AnalysisBundle {
        athlete: AthleteCard {
            name: "Ana \"The Climber\" O'Neil & co".into(),
            age: Some(38),
            sex: Some("female".into()),
            weight_kg: Some(61.0),
            ftp_w: Some(250.0),
            w_per_kg: Some(250.0 / 61.0),
            lthr_bpm: Some(168),
            max_hr_bpm: Some(186),
            goals: vec!["Finish the Marmotte < 8 h".into(), XSS.into()],
            hours_per_week: Some(9.0),
            week_days: vec![
                "tuesday".into(),
                "thursday".into(),
                "saturday".into(),
                "sunday".into(),
            ],
            event_date: Some(date(2025, 8, 30)),
        },
        as_of: AS_OF,
        period_weeks: 6,
        activity_count: 29,
        comparison: comparison(),
        comparison_all: comparison(),
        zones: ZoneTotals {
            from: date(2025, 5, 19),
            to: AS_OF,
            activities_with_power_zones: 22,
            power_zones_s: zone_s,
            power_zones_pct: Some(pct),
            easy_moderate_hard_pct: Some([pct[0] + pct[1], pct[2], pct[3..].iter().sum()]),
            activities_with_hr_zones: 26,
            hr_zones_s: hr_s,
            hr_zones_pct: Some(hr_s.map(|s| s / hr_total * 100.0)),
        },
        power_zones: Some(metrics::zones::power_zones(250.0)),
        hr_zones: Some(metrics::zones::hr_zones_coggan(168.0)),
        fitness_now: fitness.last().copied(),
        fitness,
        power_curve: Some(curve),
        cp2,
        cp3,
        eftp,
        stale_ftp: stale,
        weekly,
        cross_training: CrossTraining {
            start: date(2025, 5, 19),
            end: AS_OF,
            weeks: 6,
            total_count: 29,
            total_load: 2860.0,
            categories: cats,
        },
        notable_rides: vec![
            NotableRide {
                activity_id: 7,
                date: date(2025, 6, 21),
                name: XSS.into(),
                sport: Sport::Ride,
                duration_s: 5.5 * 3600.0,
                distance_km: Some(162.3),
                np_w: Some(208.0),
                tss: Some(301.0),
                reason: "longest ride".into(),
            },
            NotableRide {
                activity_id: 9,
                date: date(2025, 6, 11),
                name: "Tempo & hills".into(),
                sport: Sport::Ride,
                duration_s: 7200.0,
                distance_km: None,
                np_w: None,
                tss: None,
                reason: "best 20 min (288 W)".into(),
            },
        ],
    }
}

fn narrative() -> Narrative {
    Narrative {
        summary: "Volume is up 21 % & form is slightly negative.".into(),
        key_trends: vec![
            Trend {
                title: "Volume up".into(),
                description: "48.5 h vs 40 h".into(),
            },
            Trend {
                title: "FTP stale".into(),
                description: format!("Bests imply more {XSS}"),
            },
            Trend {
                title: "Polarised".into(),
                description: "Mostly Z2".into(),
            },
        ],
        insights: vec![
            "Endurance base is solid.".into(),
            "Short efforts lag.".into(),
            "Sleep 'matters'.".into(),
        ],
        recommendations: Recommendations {
            short_term: vec!["Retest FTP".into()],
            long_term: vec!["Add VO2max blocks".into()],
            recovery: vec!["One easy week in four".into()],
        },
        author: "rule-based coach".into(),
    }
}

fn steady(kind: StepKind, s: u32, lo: f64, hi: f64) -> Step {
    Step::Steady {
        kind,
        duration_s: s,
        power_low_pct: lo,
        power_high_pct: hi,
    }
}

fn warmup() -> Step {
    Step::Ramp {
        kind: StepKind::Warmup,
        duration_s: 600,
        from_pct: 50.0,
        to_pct: 75.0,
    }
}

fn cooldown() -> Step {
    Step::Ramp {
        kind: StepKind::Cooldown,
        duration_s: 300,
        from_pct: 65.0,
        to_pct: 45.0,
    }
}

fn workout(id: &str, name: &str, t: WorkoutType, steps: Vec<Step>) -> Workout {
    Workout {
        id: id.into(),
        name: name.into(),
        workout_type: t,
        description: format!("{name} — \"quoted\" & <tagged>"),
        steps,
    }
}

/// Warm-up, `times` × `steps`, cool-down: the shape of every interval session in the library.
fn interval_set(times: u32, steps: Vec<Step>) -> Vec<Step> {
    vec![warmup(), Step::Repeat { times, steps }, cooldown()]
}

fn library() -> Vec<Workout> {
    vec![
        workout(
            "vo2-3x8",
            "VO2max 3×8",
            WorkoutType::Vo2max,
            interval_set(
                3,
                vec![
                    steady(StepKind::Work, 480, 105.0, 105.0),
                    steady(StepKind::Recovery, 240, 55.0, 55.0),
                ],
            ),
        ),
        workout(
            "ss-2x20",
            "Sweet spot 2×20",
            WorkoutType::SweetSpot,
            interval_set(
                2,
                vec![
                    steady(StepKind::Work, 1200, 88.0, 93.0),
                    steady(StepKind::Recovery, 300, 50.0, 60.0),
                ],
            ),
        ),
        workout(
            "end-2h",
            "Endurance 2 h",
            WorkoutType::Endurance,
            vec![steady(StepKind::Steady, 7200, 60.0, 70.0)],
        ),
        // A block of three steps: unrolled in .zwo, kept as a set in FIT.
        workout(
            "anaer-30-30",
            XSS,
            WorkoutType::Anaerobic,
            interval_set(
                4,
                vec![
                    steady(StepKind::Work, 30, 150.0, 150.0),
                    steady(StepKind::Recovery, 30, 50.0, 50.0),
                    steady(StepKind::Recovery, 120, 55.0, 55.0),
                ],
            ),
        ),
    ]
}

fn plan() -> TrainingPlan {
    let lib = library();
    let start = date(2025, 6, 30);
    let phases = [Phase::Base, Phase::Build, Phase::Recovery];
    let mut weeks = Vec::new();
    let mut overview = Vec::new();
    for (k, phase) in phases.iter().enumerate() {
        let ws = start.checked_add((7 * k as i64).days()).unwrap();
        let picks: Vec<(Weekday, &Workout)> = vec![
            (Weekday::Tuesday, &lib[0]),
            (Weekday::Thursday, if k == 1 { &lib[3] } else { &lib[1] }),
            (Weekday::Saturday, &lib[2]),
        ];
        let workouts: Vec<PlannedWorkout> = picks
            .iter()
            .map(|(wd, w)| {
                let date = ws
                    .checked_add(i64::from(wd.to_monday_zero_offset()).days())
                    .unwrap();
                let secs = coach::planned_tss::duration_s(&w.steps);
                PlannedWorkout {
                    date,
                    weekday: *wd,
                    workout: (*w).clone(),
                    duration_s: secs,
                    tss: f64::from(secs) / 36.0 * 0.8,
                }
            })
            .collect();
        overview.push(WeekOverview {
            week: k as u32 + 1,
            phase: *phase,
            focus: "aerobic & threshold".into(),
            days: coach::plan::weekday_name::ALL
                .iter()
                .map(|(wd, _)| DayPlan {
                    weekday: *wd,
                    workout_type: if *wd == Weekday::Sunday {
                        WorkoutType::Strength
                    } else {
                        WorkoutType::Rest
                    },
                    hours: 0.0,
                })
                .collect(),
            target_hours: 6.0,
        });
        weeks.push(PlanWeek {
            week: k as u32 + 1,
            start_date: ws,
            phase: *phase,
            focus: "aerobic & threshold".into(),
            planned_hours: workouts
                .iter()
                .map(|w| f64::from(w.duration_s))
                .sum::<f64>()
                / 3600.0,
            planned_tss: workouts.iter().map(|w| w.tss).sum(),
            workouts,
        });
    }
    TrainingPlan {
        start_date: start,
        ftp_w: 250.0,
        event_date: Some(date(2025, 8, 30)),
        goal: Some(format!("Marmotte {XSS}")),
        seed: 42,
        overview: PlanOverview {
            weeks: overview,
            coaching_notes: "Keep easy days easy.".into(),
            monitoring: "Watch TSB < -30.".into(),
        },
        weeks,
        days_off: Vec::new(),
    }
}

fn run() -> RunInfo {
    RunInfo {
        generated_at: "2025-06-29T18:00:00Z".parse().unwrap(),
        provider: "offline (rule-based coach)".into(),
        model: None,
        phases: vec![
            PhaseCost {
                phase: "data preparation".into(),
                seconds: 0.41,
                model_calls: 0,
                input_tokens: 0,
                output_tokens: 0,
                cached_tokens: 0,
                cost_usd: None,
            },
            PhaseCost {
                phase: "performance analysis".into(),
                seconds: 0.01,
                model_calls: 0,
                input_tokens: 0,
                output_tokens: 0,
                cached_tokens: 0,
                cost_usd: None,
            },
            PhaseCost {
                phase: "training plan".into(),
                seconds: 0.02,
                model_calls: 0,
                input_tokens: 0,
                output_tokens: 0,
                cached_tokens: 0,
                cost_usd: None,
            },
        ],
        notes: vec!["deterministic: seed 42".into()],
        authors: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Checkers

/// Checks that every non-void element is closed in order; returns the number of elements.
fn check_tag_balance(html: &str) -> Result<usize, String> {
    const VOID: [&str; 13] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr",
    ];
    let mut stack: Vec<String> = Vec::new();
    let mut count = 0;
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if rest.starts_with("<!--") {
            let end = rest.find("-->").ok_or("unclosed comment")?;
            rest = &rest[end + 3..];
            continue;
        }
        let end = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("bad tag <{tag}>"));
        }
        count += 1;
        if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        }
        if name == "style" || name == "script" {
            let close = format!("</{name}>");
            let e = rest.find(&close).ok_or("unclosed raw-text element")?;
            rest = &rest[e + close.len()..];
            continue;
        }
        stack.push(name);
    }
    if stack.is_empty() {
        Ok(count)
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

fn fields(msg: &FitDataRecord) -> HashMap<String, Value> {
    msg.fields()
        .iter()
        .map(|f| (f.name().to_owned(), f.value().clone()))
        .collect()
}

fn fnum(m: &HashMap<String, Value>, k: &str) -> f64 {
    m.get(k)
        .cloned()
        .and_then(|v| v.try_into().ok())
        .unwrap_or_else(|| panic!("field {k} missing in {m:?}"))
}

fn ftext(m: &HashMap<String, Value>, k: &str) -> String {
    m.get(k).map(|v| v.to_string()).unwrap_or_default()
}

/// What the plan's steps should become in FIT: Step(seconds, low, high) or Repeat(first, times).
#[derive(Debug, PartialEq)]
enum Expect {
    Step(f64, f64, f64),
    Repeat(f64, f64),
}

fn expect_fit(steps: &[Step], out: &mut Vec<Expect>) {
    for s in steps {
        match s {
            Step::Steady {
                duration_s,
                power_low_pct,
                power_high_pct,
                ..
            } => out.push(Expect::Step(
                f64::from(*duration_s),
                power_low_pct.round(),
                power_high_pct.round(),
            )),
            Step::Ramp {
                duration_s,
                from_pct,
                to_pct,
                ..
            } => out.push(Expect::Step(
                f64::from(*duration_s),
                from_pct.min(*to_pct).round(),
                from_pct.max(*to_pct).round(),
            )),
            Step::Repeat { times, steps } => {
                let first = out.len();
                expect_fit(steps, out);
                out.push(Expect::Repeat(first as f64, f64::from(*times)));
            }
        }
    }
}

/// The (tag, attributes) the plan's steps should become in a .zwo.
fn expect_zwo(steps: &[Step], out: &mut Vec<(String, Vec<(String, f64)>)>) {
    let a = |k: &str, v: f64| (k.to_owned(), v);
    for s in steps {
        match s {
            Step::Steady {
                duration_s,
                power_low_pct,
                power_high_pct,
                ..
            } => out.push((
                "SteadyState".into(),
                vec![
                    a("Duration", f64::from(*duration_s)),
                    a("Power", (power_low_pct + power_high_pct) / 200.0),
                ],
            )),
            Step::Ramp {
                kind,
                duration_s,
                from_pct,
                to_pct,
            } => {
                let tag = match kind {
                    StepKind::Warmup => "Warmup",
                    StepKind::Cooldown => "Cooldown",
                    _ => "Ramp",
                };
                out.push((
                    tag.into(),
                    vec![
                        a("Duration", f64::from(*duration_s)),
                        a("PowerLow", from_pct / 100.0),
                        a("PowerHigh", to_pct / 100.0),
                    ],
                ));
            }
            Step::Repeat { times, steps } => match steps.as_slice() {
                [
                    Step::Steady {
                        duration_s: on,
                        power_low_pct: a1,
                        power_high_pct: b1,
                        ..
                    },
                    Step::Steady {
                        duration_s: off,
                        power_low_pct: a2,
                        power_high_pct: b2,
                        ..
                    },
                ] => out.push((
                    "IntervalsT".into(),
                    vec![
                        a("Repeat", f64::from(*times)),
                        a("OnDuration", f64::from(*on)),
                        a("OffDuration", f64::from(*off)),
                        a("OnPower", (a1 + b1) / 200.0),
                        a("OffPower", (a2 + b2) / 200.0),
                    ],
                )),
                _ => {
                    for _ in 0..*times {
                        expect_zwo(steps, out);
                    }
                }
            },
        }
    }
}

fn write(
    dir: &Path,
    b: &AnalysisBundle,
    nv: &Narrative,
    plan: Option<&TrainingPlan>,
    r: &RunInfo,
) -> report::ReportFiles {
    write_report(
        dir,
        &ReportInput {
            follow: None,
            bundle: b,
            narrative: nv,
            plan,
            run: r,
        },
    )
    .expect("report writes")
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn full_report_is_complete_safe_and_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let (b, nv, p, r) = (bundle(), narrative(), plan(), run());
    let files = write(dir.path(), &b, &nv, Some(&p), &r);
    // A copy for eyes and for the headless-browser check, when asked for.
    if let Ok(keep) = std::env::var("REPORT_SAMPLE_DIR") {
        write(Path::new(&keep), &b, &nv, Some(&p), &r);
    }
    for f in [
        &files.index_html,
        &files.report_data_json,
        &files.report_md,
        files.plan_json.as_ref().unwrap(),
    ] {
        assert!(f.is_file(), "{} exists", f.display());
    }
    // 9 rideable workouts (3 weeks × 3), each as .fit and .zwo.
    assert_eq!(files.fit_files.len(), 9);
    assert_eq!(files.zwo_files.len(), 9);
    assert!(
        files
            .fit_files
            .iter()
            .chain(&files.zwo_files)
            .all(|f| f.is_file())
    );
    let names: Vec<String> = files
        .fit_files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"w01-tuesday-vo2max-3-8.fit".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"w02-thursday-script-alert-1-script.fit".to_owned()),
        "{names:?}"
    );
    assert!(names.iter().all(|n| n.is_ascii() && !n.contains(' ')));

    let html = std::fs::read_to_string(&files.index_html).unwrap();
    for bad in ["http://", "https://", "src=", "url(", "<script", "@import"] {
        assert!(
            !html.to_ascii_lowercase().contains(bad),
            "index.html contains {bad}"
        );
    }
    for (id, title) in report::html::SECTIONS {
        assert!(
            html.contains(&format!("<section id=\"{id}\"")),
            "section {id}"
        );
        assert!(
            html.contains(&format!("<h2>{title}</h2>")),
            "heading {title}"
        );
    }
    // Charts: fitness, power curve, power zones, HR zones, weekly volume; one mini profile per
    // planned workout.
    assert_eq!(html.matches("<svg class=\"chart").count(), 5);
    // The plan runs past the last analysed day: the fitness chart projects through it, joined
    // to the actual lines, and says where the plan ends up.
    assert!(html.contains("<svg class=\"chart fitness\""));
    assert!(html.contains("<polyline class=\"ctl\""));
    assert!(html.contains("<polyline class=\"ctl-proj\""));
    assert!(html.contains("with the plan's own planned TSS"));
    assert_eq!(html.matches("<svg class=\"mini\"").count(), 9);
    assert_eq!(html.matches("<details").count(), 9);
    assert!(
        !html.contains("NaN") && !html.contains("inf\""),
        "non-finite number in the page"
    );
    // The activity name, goal, workout name and trend text appear escaped, never raw.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Ana &quot;The Climber&quot; O&#39;Neil &amp; co"));
    assert!(html.contains("Finish the Marmotte &lt; 8 h"));
    // Content that could fail: stale FTP box, CP label, repeat text, watts at the plan FTP,
    // offline note, phase classes.
    assert!(html.contains("FTP looks stale"));
    let cp = b.cp2.unwrap();
    assert!(html.contains(&format!("CP {:.0} W", cp.cp_w)), "CP label");
    assert!(html.contains("3 × (8 min @ 105 % / 4 min @ 55 %)"));
    assert!(html.contains("2 × (20 min @ 88–93 % / 5 min @ 50–60 %)"));
    assert!(html.contains("Watts at 250 W"));
    assert!(
        html.contains("<td class=\"num\">263 W</td>"),
        "105 % of 250 W"
    );
    assert!(html.contains("Offline: no model used"));
    assert!(html.contains("class=\"ph-recovery\""));
    // Days without a workout show the overview's type.
    assert!(html.contains("<span class=\"rest\">Strength</span>"));
    // SVG numeric attributes are all finite numbers.
    for attr in [
        " x=\"",
        " y=\"",
        " width=\"",
        " height=\"",
        " x1=\"",
        " y2=\"",
    ] {
        for part in html.split(attr).skip(1) {
            let v = &part[..part.find('"').unwrap()];
            assert!(v.parse::<f64>().is_ok_and(f64::is_finite), "{attr}{v}");
        }
    }
    let elements = check_tag_balance(&html).unwrap_or_else(|e| panic!("unbalanced HTML: {e}"));
    assert!(elements > 1000, "{elements} elements");

    let md = std::fs::read_to_string(&files.report_md).unwrap();
    assert!(md.contains("## Training plan") && md.contains("### Week 3 — Recovery"));
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !md.contains(XSS));
    assert!(md.contains("| Z2 Endurance |"));
}

#[test]
fn report_data_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (b, nv, p, r) = (bundle(), narrative(), plan(), run());
    let files = write(dir.path(), &b, &nv, Some(&p), &r);
    let text = std::fs::read_to_string(&files.report_data_json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema_version"], report::SCHEMA_VERSION);
    assert_eq!(v["generated_at"], "2025-06-29T18:00:00Z");
    for k in ["bundle", "narrative", "plan", "run"] {
        assert!(v.get(k).is_some(), "{k}");
    }
    let back: ReportData = serde_json::from_str(&text).unwrap();
    assert_eq!(back.bundle, b);
    assert_eq!(back.narrative, nv);
    assert_eq!(back.plan.as_ref(), Some(&p));
    assert_eq!(back.run, r);
    let plan_back: TrainingPlan =
        serde_json::from_str(&std::fs::read_to_string(files.plan_json.unwrap()).unwrap()).unwrap();
    assert_eq!(plan_back, p);
}

#[test]
fn fit_workouts_decode_to_the_plans_steps() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan();
    let files = write(dir.path(), &bundle(), &narrative(), Some(&p), &run());
    let planned: Vec<&PlannedWorkout> = p.weeks.iter().flat_map(|w| &w.workouts).collect();
    assert_eq!(files.fit_files.len(), planned.len());
    for (path, pw) in files.fit_files.iter().zip(&planned) {
        let bytes = std::fs::read(path).unwrap();
        let msgs =
            fitparser::from_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file_id = fields(msgs.iter().find(|m| m.kind() == MesgNum::FileId).unwrap());
        assert_eq!(ftext(&file_id, "type"), "workout");
        let wk = fields(msgs.iter().find(|m| m.kind() == MesgNum::Workout).unwrap());
        assert_eq!(ftext(&wk, "wkt_name"), pw.workout.name);
        assert_eq!(ftext(&wk, "sport"), "cycling");
        let steps: Vec<HashMap<String, Value>> = msgs
            .iter()
            .filter(|m| m.kind() == MesgNum::WorkoutStep)
            .map(fields)
            .collect();
        let mut want = Vec::new();
        expect_fit(&pw.workout.steps, &mut want);
        assert_eq!(fnum(&wk, "num_valid_steps") as usize, want.len());
        assert_eq!(steps.len(), want.len(), "{}", path.display());
        let got: Vec<Expect> = steps
            .iter()
            .map(|s| match ftext(s, "duration_type").as_str() {
                "time" => {
                    assert_eq!(ftext(s, "target_type"), "power");
                    Expect::Step(
                        fnum(s, "duration_time"),
                        fnum(s, "custom_target_power_low"),
                        fnum(s, "custom_target_power_high"),
                    )
                }
                "repeat_until_steps_cmplt" => {
                    Expect::Repeat(fnum(s, "duration_step"), fnum(s, "repeat_steps"))
                }
                other => panic!("unexpected duration type {other}"),
            })
            .collect();
        assert_eq!(got, want, "{}", path.display());

        // Our own decoder: same steps as the plan and as fitparser, % FTP read as % FTP.
        let ours = ride::fit::decode_workout_file(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            ours.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            ours.warnings
        );
        assert!(!ours.truncated);
        assert_eq!(ours.name.as_deref(), Some(pw.workout.name.as_str()));
        assert_eq!(ours.sport.as_deref(), Some("cycling"));
        assert_eq!(
            ours.num_valid_steps.map(usize::from),
            Some(want.len()),
            "{}",
            path.display()
        );
        let pct = |t: Option<ride::PowerTarget>| match t {
            Some(ride::PowerTarget::PercentFtp(p)) => p,
            other => panic!("{}: expected a % FTP target, got {other:?}", path.display()),
        };
        let ours_got: Vec<Expect> = ours
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                assert_eq!(s.message_index, Some(i as u16), "{}", path.display());
                match s.duration_type.as_deref() {
                    Some("time") => {
                        assert_eq!(s.target_type.as_deref(), Some("power"));
                        Expect::Step(
                            s.duration_s.expect("timed step has a duration"),
                            pct(s.power_low),
                            pct(s.power_high),
                        )
                    }
                    Some("repeat_until_steps_cmplt") => Expect::Repeat(
                        f64::from(s.repeat_from_step.expect("repeat names its first step")),
                        f64::from(s.repeat_count.expect("repeat has a count")),
                    ),
                    other => panic!("{}: unexpected duration type {other:?}", path.display()),
                }
            })
            .collect();
        assert_eq!(ours_got, want, "{}", path.display());
        assert_eq!(ours_got, got, "{}", path.display());

        let total: f64 = got
            .iter()
            .map(|e| if let Expect::Step(d, ..) = e { *d } else { 0.0 })
            .sum();
        assert!(total > 0.0);
    }
}

#[test]
fn zwo_files_are_well_formed_with_the_plans_durations_and_powers() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan();
    let files = write(dir.path(), &bundle(), &narrative(), Some(&p), &run());
    let planned: Vec<&PlannedWorkout> = p.weeks.iter().flat_map(|w| &w.workouts).collect();
    for (path, pw) in files.zwo_files.iter().zip(&planned) {
        let text = std::fs::read_to_string(path).unwrap();
        let doc =
            roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "workout_file");
        let child = |name: &str| {
            root.children()
                .find(|c| c.tag_name().name() == name)
                .unwrap_or_else(|| panic!("<{name}>"))
        };
        assert_eq!(child("name").text(), Some(pw.workout.name.as_str()));
        assert_eq!(child("sportType").text(), Some("bike"));
        assert_eq!(
            child("description").text(),
            Some(pw.workout.description.as_str())
        );
        let got: Vec<(String, Vec<(String, f64)>)> = child("workout")
            .children()
            .filter(|c| c.is_element())
            .map(|c| {
                (
                    c.tag_name().name().to_owned(),
                    c.attributes()
                        .map(|a| (a.name().to_owned(), a.value().parse::<f64>().unwrap()))
                        .collect(),
                )
            })
            .collect();
        let mut want = Vec::new();
        expect_zwo(&pw.workout.steps, &mut want);
        assert_eq!(got.len(), want.len(), "{}", path.display());
        for ((gt, ga), (wt, wa)) in got.iter().zip(&want) {
            assert_eq!(gt, wt);
            assert_eq!(ga.len(), wa.len(), "{gt}");
            for ((gk, gv), (wk, wv)) in ga.iter().zip(wa) {
                assert_eq!(gk, wk);
                assert!((gv - wv).abs() < 1e-9, "{gt} {gk}: {gv} vs {wv}");
            }
        }
        let secs: f64 = got
            .iter()
            .map(|(_, a)| {
                let g = |k: &str| {
                    a.iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| *v)
                        .unwrap_or(0.0)
                };
                if a.iter().any(|(n, _)| n == "Repeat") {
                    g("Repeat") * (g("OnDuration") + g("OffDuration"))
                } else {
                    g("Duration")
                }
            })
            .sum();
        assert_eq!(secs, f64::from(pw.duration_s), "{}", path.display());
    }
}

#[test]
fn empty_data_and_no_plan_say_so() {
    let dir = tempfile::tempdir().unwrap();
    // A first report with a plan, then one without: the old plan's files must go.
    write(dir.path(), &bundle(), &narrative(), Some(&plan()), &run());
    assert!(
        dir.path()
            .join("workouts/w01-tuesday-vo2max-3-8.zwo")
            .is_file()
    );
    std::fs::write(dir.path().join("workouts/my-notes.txt"), "keep me").unwrap();

    let mut b = bundle();
    b.power_curve = None;
    b.cp2 = None;
    b.cp3 = None;
    b.eftp = None;
    b.stale_ftp = None;
    b.zones.activities_with_power_zones = 0;
    b.zones.power_zones_pct = None;
    b.zones.activities_with_hr_zones = 0;
    b.zones.hr_zones_pct = None;
    b.fitness.clear();
    b.fitness_now = None;
    b.weekly.clear();
    b.notable_rides.clear();
    let mut r = run();
    r.provider = "anthropic".into();
    r.model = Some("claude-x".into());
    r.phases[1].model_calls = 1;
    r.phases[1].input_tokens = 3100;
    r.phases[1].output_tokens = 900;
    r.phases[1].cached_tokens = 1200;
    r.phases[1].cost_usd = Some(0.0228);
    let files = write(dir.path(), &b, &narrative(), None, &r);
    assert_eq!(files.plan_json, None);
    assert!(!dir.path().join("plan.json").exists());
    assert!(files.fit_files.is_empty() && files.workouts_dir.is_none());
    assert!(
        !dir.path()
            .join("workouts/w01-tuesday-vo2max-3-8.zwo")
            .exists()
    );
    assert!(
        dir.path().join("workouts/my-notes.txt").is_file(),
        "other files are left alone"
    );

    let html = std::fs::read_to_string(&files.index_html).unwrap();
    assert_eq!(html.matches("<svg").count(), 0);
    assert!(html.contains("No power data in the recent period"));
    assert!(html.contains("No power data: no time in power zones"));
    assert!(html.contains("No fitness data"));
    assert!(html.contains("No training plan in this report"));
    assert!(!html.contains("Offline: no model used"));
    assert!(html.contains("anthropic · claude-x"));
    assert!(html.contains("<th class=\"num\">3100</th>") && html.contains("$0.0228"));
    check_tag_balance(&html).unwrap();
    let data: ReportData =
        serde_json::from_str(&std::fs::read_to_string(&files.report_data_json).unwrap()).unwrap();
    assert_eq!(data.plan, None);
    assert_eq!(data.run.phases[1].input_tokens, 3100);
}

#[test]
fn non_finite_numbers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bundle();
    b.comparison.recent.hours = f64::NAN;
    let err = write_report(
        dir.path(),
        &ReportInput {
            follow: None,
            bundle: &b,
            narrative: &narrative(),
            plan: None,
            run: &run(),
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ReportError::NonFinite {
                what: "the analysis bundle"
            }
        ),
        "{err}"
    );
    assert!(!dir.path().join("index.html").exists());
}

#[test]
fn tag_balance_checker_catches_mistakes() {
    assert!(check_tag_balance("<p><b>x</p></b>").is_err());
    assert!(check_tag_balance("<div><br><svg><rect/></svg></div>").is_ok());
    assert!(check_tag_balance("<ul><li>a</ul>").is_err());
}
