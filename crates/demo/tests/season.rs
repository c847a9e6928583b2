//! The demo season: deterministic bytes, a well-formed export, and physiologically sane data.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::sync::OnceLock;

use demo::{DemoOptions, DemoOutput, STRAVA_HEADER, generate};
use jiff::civil::{Date, date};
use ride::model::Activity;

const END: Date = date(2026, 5, 10);

fn read_gz(path: &Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// One full default season shared by the tests of this binary.
fn season() -> &'static (tempfile::TempDir, DemoOutput) {
    static S: OnceLock<(tempfile::TempDir, DemoOutput)> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = generate(&DemoOptions::new(dir.path(), END)).unwrap();
        (dir, out)
    })
}

fn csv_rows(path: &Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .unwrap();
    let header = r.headers().unwrap().clone();
    let rows = r.records().map(|r| r.unwrap()).collect();
    (header, rows)
}

fn small(dir: &Path, seed: u64) -> DemoOutput {
    generate(&DemoOptions {
        out_dir: dir.to_owned(),
        seed,
        rides: 10,
        end_date: END,
        weeks: 3,
        athlete: demo::Athlete::default(),
    })
    .unwrap()
}

#[test]
fn same_seed_same_bytes_whatever_the_thread_count() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let oa = small(a.path(), 7);
    let ob = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| small(b.path(), 7));
    assert_eq!(
        std::fs::read(&oa.csv_path).unwrap(),
        std::fs::read(&ob.csv_path).unwrap()
    );
    assert_eq!(
        std::fs::read(&oa.profile_path).unwrap(),
        std::fs::read(&ob.profile_path).unwrap()
    );
    assert_eq!(oa.fit_files.len(), ob.fit_files.len());
    for (fa, fb) in oa.fit_files.iter().zip(&ob.fit_files) {
        assert_eq!(
            std::fs::read(fa).unwrap(),
            std::fs::read(fb).unwrap(),
            "{}",
            fa.display()
        );
    }
    let oc = small(c.path(), 8);
    assert_ne!(
        std::fs::read(&oa.csv_path).unwrap(),
        std::fs::read(&oc.csv_path).unwrap()
    );
    assert_ne!(read_gz(&oa.fit_files[0]), read_gz(&oc.fit_files[0]));
    assert_eq!(oa.counts.total_rides(), 10);
}

#[test]
fn csv_has_the_strava_shape() {
    let (_, out) = season();
    let (header, rows) = csv_rows(&out.csv_path);
    assert_eq!(header.len(), 103);
    assert_eq!(header.iter().collect::<Vec<_>>().join(","), STRAVA_HEADER);
    assert_eq!(rows.len(), out.counts.total());
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut with_newline = 0;
    let mut with_comma = 0;
    for row in &rows {
        assert_eq!(row.len(), 103);
        *types.entry(row[3].to_owned()).or_default() += 1;
        // Activity Date is en-US, UTC: "May 13, 2026, 9:54:42 AM".
        let d = jiff::fmt::strtime::parse("%b %d, %Y, %I:%M:%S %p", &row[1])
            .unwrap()
            .to_datetime()
            .unwrap();
        assert!(
            d.date() <= END
                && d.date() >= out.start_date.checked_sub(jiff::ToSpan::days(1)).unwrap()
        );
        assert_eq!(&row[12], format!("activities/{}.fit.gz", &row[0]).as_str());
        assert!(out.export_dir.join(&row[12]).exists());
        let elapsed: f64 = row[15].parse().unwrap();
        let moving: f64 = row[16].parse().unwrap();
        assert_eq!(row[5].parse::<f64>().unwrap(), elapsed);
        assert!(moving <= elapsed);
        if !row[6].is_empty() {
            let km: f64 = row[6].parse().unwrap();
            let m: f64 = row[17].parse().unwrap();
            assert!((km * 1000.0 - m).abs() < 6.0, "{km} km vs {m} m");
        }
        with_newline += usize::from(row[4].contains('\n'));
        with_comma += usize::from(row[4].contains(','));
        if row[3].contains("Ride") {
            // Measured power: Weighted Average Power filled; Strava's self-check holds.
            let wap: f64 = row[46].parse().unwrap();
            let count: f64 = row[47].parse().unwrap();
            let intensity: f64 = row[89].parse().unwrap();
            let load: f64 = row[88].parse().unwrap();
            assert_eq!(row[91].parse::<f64>().unwrap(), moving, "Timer Time");
            assert!(wap > 50.0 && wap < 400.0);
            assert_eq!(count, moving);
            let expect = count / 3600.0 * (intensity / 100.0).powi(2) * 100.0;
            assert!(
                (load - expect).abs() <= 0.6 + expect * 0.002,
                "load {load} vs {expect}"
            );
        } else {
            assert!(row[46].is_empty() && row[47].is_empty());
        }
    }
    assert_eq!(types["Ride"], out.counts.rides + out.counts.indoor_rides);
    assert_eq!(types["Virtual Ride"], out.counts.virtual_rides);
    assert_eq!(types["Run"], out.counts.runs);
    assert_eq!(types["Weight Training"], out.counts.strength);
    assert!(
        with_newline > 0 && with_comma > 0,
        "descriptions exercise quoting"
    );
}

#[test]
fn activity_counts_per_type_are_a_plausible_year() {
    let (_, out) = season();
    let c = out.counts;
    assert_eq!(c.total_rides(), 220);
    assert!(c.rides > 150, "{c:?}");
    assert!(c.virtual_rides >= 10 && c.indoor_rides >= 5, "{c:?}");
    assert!((25..=60).contains(&c.runs), "{c:?}");
    assert!((15..=45).contains(&c.strength), "{c:?}");
    assert_eq!(out.weeks, 52);
    assert_eq!((out.end_date - out.start_date).get_days(), 52 * 7 - 1);
    assert!(out.ftp_tests.len() >= 5, "{:?}", out.ftp_tests);
    // Rest days exist: days with no activity at all.
    let (_, rows) = csv_rows(&out.csv_path);
    let tz = jiff::tz::TimeZone::get("Europe/Madrid").unwrap();
    let active: std::collections::BTreeSet<Date> = rows
        .iter()
        .map(|r| {
            let dt = jiff::fmt::strtime::parse("%b %d, %Y, %I:%M:%S %p", &r[1])
                .unwrap()
                .to_datetime()
                .unwrap();
            dt.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .unwrap()
                .timestamp()
                .to_zoned_datetime(tz.clone())
                .date()
        })
        .collect();
    let rest = 52 * 7 - active.len();
    assert!(rest >= 40, "{rest} rest days");
}

#[test]
fn every_fit_file_decodes_with_fitparser_and_matches_our_decoder() {
    let (_, out) = season();
    let mut total_records = 0;
    for (i, path) in out.fit_files.iter().enumerate() {
        let bytes = read_gz(path);
        // Every 10th file through fitparser too (it is slow in debug builds); all through ours.
        if i % 10 == 0 {
            let msgs =
                fitparser::from_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                msgs.iter()
                    .any(|m| m.kind() == fitparser::profile::MesgNum::Session)
            );
        }
        let act: Activity = ride::fit::decode_file(path).unwrap();
        assert!(
            act.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            act.warnings
        );
        assert_eq!(act.sessions.len(), 1);
        total_records += act.records.len();
        let s = &act.sessions[0];
        if act.sport().is_ride() {
            // Device NP vs our own standard NP over the decoded records: same definition.
            let p: Vec<f64> = act
                .records
                .iter()
                .map(|r| f64::from(r.power_w.unwrap()))
                .collect();
            let np = demo::normalized_power(&p).unwrap();
            assert!((s.normalized_power_w.unwrap() - np).abs() <= 0.5 + 1e-9);
            assert!(s.threshold_power_w.is_some());
            let tss = s.training_stress_score.unwrap();
            let if_ = s.intensity_factor.unwrap();
            assert!(
                (tss - s.total_timer_time_s.unwrap() / 3600.0 * if_ * if_ * 100.0).abs()
                    <= 0.05 + 1e-9
            );
        }
    }
    assert_eq!(total_records, out.records);
}

fn records(out: &DemoOutput, id: u64) -> Activity {
    ride::fit::decode_file(&out.export_dir.join(format!("activities/{id}.fit.gz"))).unwrap()
}

#[test]
fn ftp_tests_hit_105_percent_and_the_profile_ftp_is_stale() {
    let (_, out) = season();
    let mut last_best = 0.0;
    for t in &out.ftp_tests {
        let act = records(out, t.activity_id);
        let p: Vec<f64> = act
            .records
            .iter()
            .map(|r| f64::from(r.power_w.unwrap_or(0)))
            .collect();
        let best = p
            .windows(1200)
            .map(|w| w.iter().sum::<f64>() / 1200.0)
            .fold(0.0, f64::max);
        let ratio = best / t.true_ftp_w;
        assert!(
            (1.0..=1.09).contains(&ratio),
            "test {} on {}: 20-min {best:.1} W / FTP {:.1}",
            t.activity_id,
            t.date,
            t.true_ftp_w
        );
        last_best = best;
    }
    let implied = 0.95 * last_best;
    let profile: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out.profile_path).unwrap()).unwrap();
    let ftp = profile["ftp_w"].as_f64().unwrap();
    assert_eq!(ftp, f64::from(out.profile_ftp_w));
    assert!(
        ftp < 0.96 * implied,
        "profile FTP {ftp} is not stale against {implied:.1}"
    );
    assert!(ftp > 0.85 * implied);
    // The profile loads with the project's profile reader.
    let text = std::fs::read_to_string(&out.profile_path).unwrap();
    let p = ride::profile::Profile::from_json_str(&text, "profile.json").unwrap();
    assert_eq!(p.ftp_w, Some(ftp));
    assert_eq!(p.timezone.as_deref(), Some("Europe/Madrid"));
    assert!(p.ftp_history.len() >= 2);
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn heart_rate_lags_power() {
    let (_, out) = season();
    let (_, rows) = csv_rows(&out.csv_path);
    let mut checked = 0;
    for row in rows
        .iter()
        .filter(|r| r[2].starts_with("VO2max") || r[2].starts_with("Threshold"))
        .take(5)
    {
        let act = records(out, row[0].parse().unwrap());
        // Power vs HR shifted by `lag` seconds.
        let p: Vec<f64> = act
            .records
            .iter()
            .map(|r| f64::from(r.power_w.unwrap()))
            .collect();
        let hr: Vec<f64> = act
            .records
            .iter()
            .map(|r| f64::from(r.heart_rate_bpm.unwrap()))
            .collect();
        let corr_at = |lag: usize| correlation(&p[..p.len() - lag], &hr[lag..]);
        let best = (0..=120)
            .step_by(5)
            .max_by(|&a, &b| corr_at(a).total_cmp(&corr_at(b)))
            .unwrap();
        assert!((10..=90).contains(&best), "{}: best lag {best} s", &row[2]);
        assert!(
            corr_at(best) > corr_at(0) + 0.02,
            "{}: r(0) {:.3} r({best}) {:.3}",
            &row[2],
            corr_at(0),
            corr_at(best)
        );
        checked += 1;
    }
    assert!(checked >= 3);
}

#[test]
fn recovery_weeks_are_lighter_and_long_rides_drift() {
    let (_, out) = season();
    let (_, rows) = csv_rows(&out.csv_path);
    let mut hours = vec![0.0; out.weeks];
    for r in &rows {
        let ts = jiff::fmt::strtime::parse("%b %d, %Y, %I:%M:%S %p", &r[1])
            .unwrap()
            .to_datetime()
            .unwrap();
        let local = ts
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp();
        let d = local
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Madrid").unwrap())
            .date();
        let week = ((d - out.start_date).get_days() / 7) as usize;
        hours[week] += r[16].parse::<f64>().unwrap() / 3600.0;
    }
    let rec: Vec<f64> = hours
        .iter()
        .enumerate()
        .filter(|(w, _)| w % 4 == 3)
        .map(|(_, h)| *h)
        .collect();
    let build: Vec<f64> = hours
        .iter()
        .enumerate()
        .filter(|(w, _)| w % 4 != 3)
        .map(|(_, h)| *h)
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&rec) < 0.8 * mean(&build),
        "recovery {:.1} h vs build {:.1} h",
        mean(&rec),
        mean(&build)
    );
    let spread = build.iter().cloned().fold(f64::MIN, f64::max)
        - build.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 2.0, "weekly hours vary");

    // Cardiac drift: on long rides, HR per watt is higher in the second half.
    let mut drifts = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r[3] == *"Ride" && r[16].parse::<f64>().unwrap() > 3.0 * 3600.0)
        .take(4)
    {
        let act = records(out, r[0].parse().unwrap());
        let half = act.records.len() / 2;
        let ratio = |rs: &[ride::model::Record]| {
            let p: f64 = rs.iter().map(|r| f64::from(r.power_w.unwrap())).sum();
            let h: f64 = rs
                .iter()
                .map(|r| f64::from(r.heart_rate_bpm.unwrap()))
                .sum();
            p / h
        };
        drifts.push(
            (ratio(&act.records[..half]) - ratio(&act.records[half..]))
                / ratio(&act.records[..half]),
        );
    }
    assert!(!drifts.is_empty());
    assert!(
        drifts.iter().all(|&d| d > 0.0),
        "Pw:HR decoupling {drifts:?}"
    );
}

#[test]
fn season_power_curve_has_a_trained_riders_shape() {
    let (_, out) = season();
    let curves: Vec<metrics::PowerCurve> = out
        .fit_files
        .iter()
        .map(|path| ride::fit::decode_file(path).unwrap())
        .filter(|act| act.sport().is_ride())
        .map(|act| {
            let s = metrics::series::Series::from_activity(&act);
            metrics::curve::power_curve(&s.mmp_power(), s.len())
        })
        .collect();
    let refs: Vec<&metrics::PowerCurve> = curves.iter().collect();
    let best = metrics::curve::best_curve(&refs);
    let ftp = out.true_ftp_end_w;
    let ratio = |d: u32| best.at_least(d).unwrap() / ftp;
    let shape: Vec<String> = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 3600]
        .iter()
        .map(|&d| format!("{d} s {:.0} W ({:.2})", ratio(d) * ftp, ratio(d)))
        .collect();
    println!("season best curve: {}", shape.join(", "));
    // A trained rider's profile: sprint ≥ 3 × FTP, anaerobic and VO2max ranges well above it,
    // 20 min just above (FTP tests), the hour at or a little below.
    assert!(ratio(5) >= 3.0, "{shape:?}");
    assert!(ratio(1) <= 4.3, "{shape:?}");
    assert!((1.5..=1.9).contains(&ratio(60)), "{shape:?}");
    assert!((1.12..=1.25).contains(&ratio(300)), "{shape:?}");
    assert!((1.02..=1.08).contains(&ratio(1200)), "{shape:?}");
    assert!((0.93..=1.0).contains(&ratio(3600)), "{shape:?}");
    // The curve falls steeply through the anaerobic range, not in a single step.
    assert!(ratio(30) > 1.9 && ratio(30) < 2.5, "{shape:?}");
    assert!(ratio(120) > 1.3 && ratio(120) < 1.5, "{shape:?}");
}

#[test]
fn roster_members_are_distinct_plausible_riders() {
    let members: Vec<demo::Athlete> = (1..=200)
        .map(|n| demo::Athlete::roster_member(n, 9))
        .collect();
    assert_eq!(demo::Athlete::roster_member(17, 9), members[16]);
    assert_ne!(demo::Athlete::roster_member(17, 10), members[16]);
    let ftps: std::collections::BTreeSet<u64> =
        members.iter().map(|a| a.ftp_end_w as u64).collect();
    assert!(ftps.len() > 100, "{} distinct FTPs", ftps.len());
    for a in &members {
        assert!((194.0..=346.0).contains(&a.ftp_end_w), "{a:?}");
        assert!(a.ftp_start_w < a.ftp_end_w && a.ftp_start_w > 0.85 * a.ftp_end_w);
        assert!(f64::from(a.ftp_initial_w) <= a.ftp_start_w);
        assert!((54.0..=88.0).contains(&a.weight_kg) && (22..=64).contains(&a.age));
        assert!(a.lthr_bpm < a.max_hr_bpm && a.resting_hr_bpm < 62);
        assert!(a.pmax_w > 3.0 * a.ftp_end_w, "{a:?}");
        assert!(a.name.starts_with("Demo Rider "));
    }
    assert!(members.iter().any(|a| a.sex == "female") && members.iter().any(|a| a.sex == "male"));
}

/// The season follows its rider: the profile is theirs and a stronger rider's best efforts are
/// higher in proportion.
#[test]
fn a_roster_members_season_is_ridden_at_their_power() {
    let (weak, strong) = {
        let mut m: Vec<demo::Athlete> = (1..=40)
            .map(|n| demo::Athlete::roster_member(n, 3))
            .collect();
        m.sort_by(|a, b| a.ftp_end_w.total_cmp(&b.ftp_end_w));
        (m[0].clone(), m[39].clone())
    };
    let best_20min = |a: &demo::Athlete| {
        let dir = tempfile::tempdir().unwrap();
        let out = generate(&DemoOptions {
            out_dir: dir.path().to_owned(),
            seed: 5,
            rides: 12,
            end_date: END,
            weeks: 4,
            athlete: a.clone(),
        })
        .unwrap();
        let profile: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out.profile_path).unwrap()).unwrap();
        assert_eq!(profile["name"], a.name.as_str());
        assert_eq!(profile["weight_kg"], a.weight_kg);
        assert_eq!(profile["max_hr_bpm"], a.max_hr_bpm);
        assert_eq!(out.true_ftp_end_w, a.ftp_end_w);
        out.fit_files
            .iter()
            .map(|path| ride::fit::decode_file(path).unwrap())
            .filter(|act| act.sport().is_ride())
            .map(|act| {
                let p: Vec<f64> = act
                    .records
                    .iter()
                    .map(|r| f64::from(r.power_w.unwrap_or(0)))
                    .collect();
                p.windows(1200)
                    .map(|w| w.iter().sum::<f64>() / 1200.0)
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max)
    };
    let (w, s) = (best_20min(&weak), best_20min(&strong));
    // Same seed, same sessions: the efforts scale with FTP (within the day-to-day noise).
    let expected = strong.ftp_end_w / weak.ftp_end_w;
    assert!(expected > 1.4, "{} vs {}", strong.ftp_end_w, weak.ftp_end_w);
    assert!(
        ((s / w) / expected - 1.0).abs() < 0.12,
        "{s:.0} / {w:.0} vs {expected:.2}"
    );
    assert!(s <= 1.09 * strong.ftp_end_w && w <= 1.09 * weak.ftp_end_w);
}
