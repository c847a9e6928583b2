//! The analysis bundle and the rule-based narrative over a real store: a small synthetic season
//! (the `demo` crate) imported with the real importer, then every figure of the bundle checked
//! against a direct `metrics` call on the same summaries.

use std::path::PathBuf;
use std::sync::OnceLock;

use agent::bundle::DataError;
use agent::bundle::build_bundle;
use coach::CoachError;
use coach::bundle::{AnalysisBundle, bundle_from_activities};
use coach::offline::{AUTHOR, narrative};
use jiff::civil::{Date, date};
use metrics::ActivitySummary;
use ride::Sport;
use ride::profile::Profile;
use store::{ActivityRow, ImportSource, Store};

const SEASON_END: Date = date(2025, 6, 29);
const PERIOD_WEEKS: u32 = 6;

struct Demo {
    data_dir: PathBuf,
    athlete_id: i64,
    profile: Profile,
    out: demo::DemoOutput,
}

/// One demo season per test process, generated and imported once; each test opens its own
/// `Store` (a `Store` is per thread). Lives under Cargo's per-target temporary directory and is
/// rebuilt on every run.
fn season() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("coach-bundle-demo");
        let _ = std::fs::remove_dir_all(&root);
        let mut opts = demo::DemoOptions::new(root.join("season"), SEASON_END);
        opts.rides = 60;
        opts.weeks = 16;
        let out = demo::generate(&opts).expect("demo season");
        let profile = Profile::load(&out.profile_path).expect("demo profile");
        let data_dir = root.join("data");
        let mut store = Store::open(&data_dir).unwrap();
        let athlete = store.default_athlete().unwrap();
        let report = store::import(
            &mut store,
            athlete.id,
            &ImportSource::Export(out.export_dir.clone()),
            &profile,
            &|_| {},
        )
        .expect("import");
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        Demo {
            data_dir,
            athlete_id: athlete.id,
            profile,
            out,
        }
    })
}

fn open(d: &Demo) -> Store {
    Store::open(&d.data_dir).unwrap()
}

fn all_activities(store: &Store, d: &Demo, to: Date) -> (Vec<ActivityRow>, Vec<ActivitySummary>) {
    store
        .summaries(d.athlete_id, None, Some(to))
        .unwrap()
        .into_iter()
        .unzip()
}

fn bundle() -> (&'static Demo, AnalysisBundle) {
    let d = season();
    let store = open(d);
    let b = build_bundle(&store, d.athlete_id, &d.profile, None, PERIOD_WEEKS).unwrap();
    (d, b)
}

fn narrative_text(n: &coach::narrative::Narrative) -> String {
    let mut parts = vec![n.summary.clone()];
    for t in &n.key_trends {
        parts.push(t.title.clone());
        parts.push(t.description.clone());
    }
    parts.extend(n.insights.iter().cloned());
    parts.extend(n.recommendations.short_term.iter().cloned());
    parts.extend(n.recommendations.long_term.iter().cloned());
    parts.extend(n.recommendations.recovery.iter().cloned());
    parts.join("\n")
}

/// What every narrative must satisfy, whatever the data.
fn assert_well_formed(n: &coach::narrative::Narrative) {
    assert_eq!(n.author, AUTHOR);
    assert!(
        (3..=5).contains(&n.key_trends.len()),
        "{} trends: {:#?}",
        n.key_trends.len(),
        n.key_trends
    );
    assert!(
        (3..=5).contains(&n.insights.len()),
        "{} insights: {:#?}",
        n.insights.len(),
        n.insights
    );
    let r = &n.recommendations;
    assert!(!r.short_term.is_empty() && !r.long_term.is_empty() && !r.recovery.is_empty());
    let text = narrative_text(n);
    for bad in [
        "Some(", " 0 W", "(0 W", " -0 ", "(-0", "−0 ", "−0.0", "..", " ,", "  ",
    ] {
        assert!(!text.contains(bad), "narrative contains {bad:?}:\n{text}");
    }
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        assert!(
            !["NaN", "inf", "None", "null", "undefined"].contains(&word),
            "narrative contains {word:?}:\n{text}"
        );
    }
    for line in text.lines() {
        assert!(line.trim().len() > 3, "empty or stub line in:\n{text}");
    }
}

/// Whether the text quotes a power figure ("250 W", "250 W/kg" excepted).
fn mentions_watts(text: &str) -> bool {
    text.match_indices(" W").any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + 2..].chars().next();
        before.is_some_and(|c| c.is_ascii_digit()) && after.is_none_or(|c| !c.is_alphabetic())
    })
}

#[test]
fn bundle_figures_equal_direct_metrics_calls() {
    let (d, b) = bundle();
    let store = open(d);
    let latest = store.latest_activity_date(d.athlete_id).unwrap().unwrap();
    assert_eq!(b.as_of, latest);
    assert!(
        b.as_of <= SEASON_END && b.as_of >= date(2025, 6, 20),
        "{}",
        b.as_of
    );
    assert_eq!(b.period_weeks, PERIOD_WEEKS);
    assert_eq!(b.activity_count, d.out.counts.total() as u64);

    let (_, all) = all_activities(&store, d, b.as_of);
    assert_eq!(
        b.comparison,
        metrics::period::compare_periods(&all, b.as_of, PERIOD_WEEKS, Some(Sport::Ride))
    );
    assert_eq!(
        b.comparison_all,
        metrics::period::compare_periods(&all, b.as_of, PERIOD_WEEKS, None)
    );
    assert!(b.comparison.recent.count > 10, "{:?}", b.comparison.recent);
    assert!(b.comparison_all.recent.count > b.comparison.recent.count);

    let from = b.comparison.recent.start;
    assert_eq!(
        from,
        b.as_of.checked_sub(jiff::Span::new().days(41)).unwrap()
    );
    assert_eq!(b.zones, metrics::zones::zone_totals(&all, from, b.as_of));
    let ftp = d.profile.ftp_on(b.as_of).unwrap();
    assert_eq!(b.athlete.ftp_w, Some(ftp));
    assert_eq!(b.power_zones, Some(metrics::zones::power_zones(ftp)));
    assert_eq!(
        b.hr_zones,
        Some(metrics::zones::hr_zones_coggan(f64::from(
            d.profile.lthr_bpm.unwrap()
        )))
    );
    let wkg = b.athlete.w_per_kg.unwrap();
    assert!((wkg - ftp / d.profile.weight_kg.unwrap()).abs() < 1e-9);
    assert_eq!(
        b.athlete.week_days.first().map(String::as_str),
        Some("tuesday")
    );

    assert_eq!(
        b.cross_training,
        metrics::cross_training::cross_training(&all, b.as_of, PERIOD_WEEKS)
    );

    // Fitness: computed from the first activity, shown over max(2 × 6, 12) = 12 weeks.
    let pmc = metrics::pmc::pmc_from_summaries(&all, b.as_of, Default::default());
    let chart_from = b.as_of.checked_sub(jiff::Span::new().days(83)).unwrap();
    let shown: Vec<_> = pmc
        .iter()
        .copied()
        .filter(|p| p.date >= chart_from)
        .collect();
    assert_eq!(b.fitness, shown);
    assert_eq!(b.fitness.len(), 84);
    assert_eq!(b.fitness_now, pmc.last().copied());
    assert!(b.fitness_now.unwrap().ctl > 20.0, "{:?}", b.fitness_now);
    assert_eq!(
        b.weekly,
        metrics::weekly::weekly(&all, Some(chart_from), b.as_of)
    );

    // Power: the best of the period's ride curves, read through the store's curve query.
    let curves = store
        .power_curves(d.athlete_id, Some(from), Some(b.as_of))
        .unwrap();
    let ride_curves: Vec<&metrics::PowerCurve> = curves
        .iter()
        .filter(|c| c.sport.sport == Sport::Ride)
        .map(|c| &c.curve)
        .collect();
    assert!(!ride_curves.is_empty());
    let best = metrics::curve::best_curve(&ride_curves);
    assert_eq!(b.power_curve.as_ref(), Some(&best));
    assert_eq!(b.cp2, metrics::cp::fit_cp2_curve(&best));
    assert_eq!(b.eftp, metrics::cp::estimate_ftp(&best));
    assert!(b.cp2.is_some() && b.eftp.is_some());

    // The demo's profile FTP is deliberately stale.
    let stale = b.stale_ftp.expect("demo profile FTP is stale");
    assert_eq!(stale, metrics::cp::stale_ftp(ftp, &best).unwrap());
    assert_eq!(stale.profile_ftp_w, ftp);
    assert!(stale.implied_ftp_w > ftp + 10.0, "{stale:?}");

    // The bundle survives a JSON round trip (the checkpoint format). serde_json parses floats
    // to within an ulp, not always bit-exactly, so figures are compared with a tolerance.
    let json = serde_json::to_string(&b).unwrap();
    assert!(
        !json.contains("NaN") && !json.contains("null,\"cp2\""),
        "{json}"
    );
    let back: AnalysisBundle = serde_json::from_str(&json).unwrap();
    assert_eq!(back.as_of, b.as_of);
    assert_eq!(back.notable_rides.len(), b.notable_rides.len());
    assert_eq!(back.fitness.len(), b.fitness.len());
    assert!((back.fitness_now.unwrap().ctl - b.fitness_now.unwrap().ctl).abs() < 1e-9);
    assert_eq!(back.power_curve, b.power_curve);
}

#[test]
fn notable_rides_are_distinct_rides_of_the_period_with_their_stored_names() {
    let (d, b) = bundle();
    let store = open(d);
    let n = &b.notable_rides;
    assert!((3..=8).contains(&n.len()), "{n:#?}");
    let mut ids: Vec<i64> = n.iter().map(|r| r.activity_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n.len(), "duplicates in {n:#?}");
    let reasons = n
        .iter()
        .map(|r| r.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    for want in ["longest ride", "highest TSS", "best 20 min", "best 5 min"] {
        assert!(reasons.contains(want), "{want:?} missing from {reasons}");
    }

    let (rows, all) = all_activities(&store, d, b.as_of);
    let rides: Vec<(&ActivityRow, &ActivitySummary)> = rows
        .iter()
        .zip(&all)
        .filter(|(_, s)| s.sport.sport == Sport::Ride && s.local_date >= b.comparison.recent.start)
        .collect();
    for r in n {
        let (row, s) = store
            .activity(d.athlete_id, r.activity_id)
            .unwrap()
            .unwrap();
        // The name is the stored user text, unescaped (the renderer escapes).
        assert_eq!(Some(&r.name), row.name.as_ref());
        assert_eq!(r.date, s.local_date);
        assert!(r.date >= b.comparison.recent.start && r.date <= b.as_of);
        assert_eq!(r.duration_s, s.duration_s());
        assert_eq!(r.tss, s.tss);
    }
    let longest = rides
        .iter()
        .map(|(_, s)| s.duration_s())
        .fold(0.0, f64::max);
    let l = n
        .iter()
        .find(|r| r.reason.contains("longest ride"))
        .unwrap();
    assert_eq!(l.duration_s, longest);
    let max_tss = rides.iter().filter_map(|(_, s)| s.tss).fold(0.0, f64::max);
    let t = n.iter().find(|r| r.reason.contains("highest TSS")).unwrap();
    assert_eq!(t.tss, Some(max_tss));
    assert!(
        t.reason.contains(&format!("highest TSS ({max_tss:.0})")),
        "{}",
        t.reason
    );
    // The best 20 min named is the period's best 20 min.
    let p20 = b.power_curve.as_ref().unwrap().at_least(1200).unwrap();
    let r20 = n.iter().find(|r| r.reason.contains("best 20 min")).unwrap();
    assert!(
        r20.reason.contains(&format!("best 20 min ({p20:.0} W)")),
        "{}",
        r20.reason
    );
}

#[test]
fn narrative_quotes_the_bundle_flags_the_stale_ftp_and_recommends_a_retest() {
    let (_, b) = bundle();
    let n = narrative(&b);
    assert_well_formed(&n);
    let text = narrative_text(&n);
    let now = b.fitness_now.unwrap();
    assert!(
        n.summary
            .contains(&format!("Fitness (CTL) is {}", now.ctl.round())),
        "{}",
        n.summary
    );
    let stale = b.stale_ftp.unwrap();
    assert!(n.summary.contains("looks stale"), "{}", n.summary);
    assert!(
        n.summary
            .contains(&format!("profile FTP of {} W", stale.profile_ftp_w.round()))
            && n.summary
                .contains(&format!("about {} W", stale.implied_ftp_w.round())),
        "{}",
        n.summary
    );
    assert!(
        n.recommendations
            .short_term
            .iter()
            .any(|r| r.starts_with("Retest FTP")),
        "{:#?}",
        n.recommendations
    );
    // Volume figures are the comparison's.
    let r = &b.comparison.recent;
    assert!(
        n.summary
            .contains(&format!("you rode {} times for {:.1} h", r.count, r.hours)),
        "{}",
        n.summary
    );
    // The goal of 4 W/kg in the demo profile is turned into watts.
    let kg = b.athlete.weight_kg.unwrap();
    assert!(
        text.contains(&format!("{} W", (4.0 * kg).round())),
        "{text}"
    );
    // Intensity and power-profile trends exist with power data.
    assert!(
        n.key_trends
            .iter()
            .any(|t| t.title.starts_with("Intensity"))
    );
    assert!(
        n.key_trends
            .iter()
            .any(|t| t.title.starts_with("Power profile"))
    );
    // Deterministic.
    assert_eq!(narrative(&b), n);
}

/// The demo's activities with power and its derived figures removed, and a profile without
/// FTP: a rider training by heart rate.
fn without_power(
    rows: Vec<ActivityRow>,
    mut all: Vec<ActivitySummary>,
    strip_hr: bool,
) -> (Vec<ActivityRow>, Vec<ActivitySummary>) {
    for s in &mut all {
        s.power_s = 0.0;
        s.avg_power_w = None;
        s.max_power_w = None;
        s.np_w = None;
        s.ftp_w = None;
        s.intensity_factor = None;
        s.tss = None;
        s.variability_index = None;
        s.efficiency_factor = None;
        s.work_kj = None;
        s.power_zones_s = None;
        s.power_curve = None;
        if strip_hr {
            s.avg_hr_bpm = None;
            s.max_hr_bpm = None;
            s.hr_zones_s = None;
            s.decoupling_pct = None;
            s.trimp = None;
            s.load = Some(s.duration_s() / 3600.0 * 50.0);
            s.load_source = Some(metrics::LoadSource::Duration);
        }
    }
    (rows, all)
}

#[test]
fn no_power_narrative_has_no_watts_and_no_nonsense() {
    let d = season();
    let store = open(d);
    let as_of = store.latest_activity_date(d.athlete_id).unwrap().unwrap();
    let (rows, all) = all_activities(&store, d, as_of);
    let (rows, all) = without_power(rows, all, false);
    let profile = Profile {
        ftp_w: None,
        ftp_history: Vec::new(),
        ..d.profile.clone()
    };
    let b = bundle_from_activities(
        &agent::bundle::activity_refs(&rows),
        &all,
        all.len() as u64,
        &profile,
        as_of,
        PERIOD_WEEKS,
    )
    .unwrap();
    assert!(b.power_curve.is_none() && b.eftp.is_none() && b.stale_ftp.is_none());
    assert!(b.zones.easy_moderate_hard_pct.is_none());
    assert!(b.notable_rides.iter().all(|r| r.np_w.is_none()));
    assert!(!b.notable_rides.is_empty());
    let n = narrative(&b);
    assert_well_formed(&n);
    let text = narrative_text(&n);
    assert!(!mentions_watts(&text) && !text.contains("FTP of"), "{text}");
    // Intensity falls back to heart rate.
    let t = n
        .key_trends
        .iter()
        .find(|t| t.title.starts_with("Intensity"))
        .expect("HR-based intensity trend");
    assert!(
        t.description.starts_with("By heart rate"),
        "{}",
        t.description
    );
}

#[test]
fn single_week_without_power_or_heart_rate_still_reads_sensibly() {
    let d = season();
    let store = open(d);
    let as_of = store.latest_activity_date(d.athlete_id).unwrap().unwrap();
    let (rows, all) = all_activities(&store, d, as_of);
    let first = as_of.checked_sub(jiff::Span::new().days(6)).unwrap();
    let (rows, all): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .zip(all)
        .filter(|(_, s)| s.local_date >= first)
        .unzip();
    let (rows, all) = without_power(rows, all, true);
    let profile = Profile {
        name: "Sparse".into(),
        ftp_w: None,
        ftp_history: Vec::new(),
        lthr_bpm: None,
        weight_kg: None,
        goals: Vec::new(),
        training_availability: None,
        event_date: None,
        ..Profile::default()
    };
    let b = bundle_from_activities(
        &agent::bundle::activity_refs(&rows),
        &all,
        all.len() as u64,
        &profile,
        as_of,
        1,
    )
    .unwrap();
    assert_eq!(b.comparison.previous.count, 0);
    assert_eq!(b.comparison.change.hours_pct, None);
    assert!(b.hr_zones.is_none() && b.zones.hr_zones_pct.is_none());
    let n = narrative(&b);
    assert_well_formed(&n);
    let text = narrative_text(&n);
    assert!(!mentions_watts(&text), "{text}");
    assert!(
        n.summary.contains("no rides in the week before"),
        "{}",
        n.summary
    );
    assert!(n.summary.contains("In the week to"), "{}", n.summary);
    // Seven days of history: the fitness figures are flagged as still settling.
    assert!(
        n.summary
            .contains("With only 7 days of history, CTL is still settling"),
        "{}",
        n.summary
    );
    // No FTP and no LTHR: targets are by feel, never in watts or bpm.
    assert!(!text.contains(" bpm"), "{text}");
}

#[test]
fn empty_store_and_bad_period_are_errors() {
    let mut store = Store::open_in_memory().unwrap();
    let athlete = store.default_athlete().unwrap();
    let err = build_bundle(&store, athlete.id, &Profile::default(), None, 6).unwrap_err();
    assert!(matches!(err, DataError::Coach(CoachError::NoActivities)));
    assert_eq!(
        err.to_string(),
        "no activities: run `cycling-ai import` first"
    );

    let d = season();
    let store = open(d);
    let err = build_bundle(&store, d.athlete_id, &d.profile, None, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "period of 0 weeks: expected 1 to 520 weeks"
    );
}

#[test]
fn explicit_as_of_limits_the_bundle_to_that_day() {
    let d = season();
    let store = open(d);
    let as_of = date(2025, 6, 14);
    let b = build_bundle(&store, d.athlete_id, &d.profile, Some(as_of), 4).unwrap();
    assert_eq!(b.as_of, as_of);
    assert_eq!(b.fitness.last().unwrap().date, as_of);
    assert!(b.weekly.last().unwrap().week_start <= as_of);
    assert!(b.notable_rides.iter().all(|r| r.date <= as_of));
    assert_eq!(b.comparison.recent.end, as_of);
    // The fitness chart still covers 12 weeks (max(2 × 4, 12)).
    assert_eq!(b.fitness.len(), 84);
}

/// Timing of `build_bundle` over a year of demo data (≈ 300 activities). Speed is measured, not
/// asserted: run with `cargo test -p coach --test bundle -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: generates a full demo year"]
fn build_bundle_timing_for_a_year() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo::generate(&demo::DemoOptions::new(
        dir.path().join("season"),
        SEASON_END,
    ))
    .unwrap();
    let profile = Profile::load(&out.profile_path).unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let athlete = store.default_athlete().unwrap();
    store::import(
        &mut store,
        athlete.id,
        &ImportSource::Export(out.export_dir.clone()),
        &profile,
        &|_| {},
    )
    .unwrap();
    for weeks in [6, 26] {
        let t = std::time::Instant::now();
        let b = build_bundle(&store, athlete.id, &profile, None, weeks).unwrap();
        let built = t.elapsed();
        let t = std::time::Instant::now();
        let n = narrative(&b);
        let written = t.elapsed();
        println!(
            "{} activities, period {weeks} weeks: build_bundle {built:?}, narrative {written:?}",
            b.activity_count
        );
        assert_well_formed(&n);
        if std::env::var_os("SHOW_NARRATIVE").is_some() {
            println!("{}", serde_json::to_string_pretty(&n).unwrap());
        }
    }
}

#[test]
fn recommendations_follow_the_rules_for_fatigue_ramp_and_intensity() {
    let (_, mut b) = bundle();
    let now = b.fitness_now.as_mut().unwrap();
    now.tsb = -34.6;
    now.ramp_rate = 9.46;
    b.zones.easy_moderate_hard_pct = Some([92.0, 5.0, 3.0]);
    b.stale_ftp = None;
    let n = narrative(&b);
    assert_well_formed(&n);
    let r = &n.recommendations;
    assert!(
        r.short_term[0].starts_with("Recover first: form is −35"),
        "{:#?}",
        r.short_term
    );
    assert!(
        r.short_term
            .iter()
            .any(|s| s.starts_with("Hold load") && s.contains("rising +9.5 a week")),
        "{:#?}",
        r.short_term
    );
    assert!(
        r.recovery
            .iter()
            .any(|s| s.starts_with("This week: at least two full rest days")),
        "{:#?}",
        r.recovery
    );
    // Deep fatigue first: no extra intensity is prescribed while recovering.
    assert!(!r.short_term.iter().any(|s| s.contains("sweet-spot")));
    assert!(
        n.summary.contains("(high risk: deep fatigue)"),
        "{}",
        n.summary
    );
    assert!(!r.short_term.iter().any(|s| s.starts_with("Retest FTP")));

    // Fresh again, little intensity: sweet spot in watts from the profile FTP.
    let now = b.fitness_now.as_mut().unwrap();
    now.tsb = -12.0;
    now.ramp_rate = 3.0;
    let n = narrative(&b);
    let ftp = b.athlete.ftp_w.unwrap();
    let want = format!(
        "2 × 20 min at 88–93 % of FTP ({}–{} W)",
        (ftp * 0.88).round(),
        (ftp * 0.93).round()
    );
    assert!(
        n.recommendations
            .short_term
            .iter()
            .any(|s| s.starts_with("Add one sweet-spot session") && s.contains(&want)),
        "{want}: {:#?}",
        n.recommendations.short_term
    );
    let t = n
        .key_trends
        .iter()
        .find(|t| t.title.starts_with("Intensity"))
        .unwrap();
    assert_eq!(t.title, "Intensity: almost all easy");
}
