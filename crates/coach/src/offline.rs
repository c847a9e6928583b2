//! The rule-based coach: the performance-analysis narrative written from the bundle alone, with
//! no model. Used with `--provider offline` and whenever no provider is configured.
//!
//! Every number in the text is taken from the [`AnalysisBundle`] and only formatted here (the
//! same discipline the model is held to). Rules are written for sparse data too: a sentence is
//! only produced when the figures it quotes exist, so a history without power never reads
//! "0 W", and a single week never reads "NaN %". Output depends on the bundle alone: the same
//! bundle always gives the same narrative.

use jiff::civil::Date;
use metrics::cross_training::Category;
use metrics::pmc::{DEEP_FATIGUE_TSB, PmcDay, form_band};
use metrics::weekly::WeekSummary;
use ride::Sport;

use crate::bundle::AnalysisBundle;
use crate::narrative::{Narrative, Recommendations, Trend, capitalise};

/// The `author` of a rule-based narrative.
pub const AUTHOR: &str = "rule-based coach";

/// At most this many key trends and insights (the narrative schema asks for 3–5).
const MAX_ITEMS: usize = 5;

/// CTL gained per week above which the build is too steep for most riders to absorb.
pub const STEEP_RAMP_PER_WEEK: f64 = 8.0;
/// Writes the narrative for `bundle`.
pub fn narrative(bundle: &AnalysisBundle) -> Narrative {
    let f = Facts::new(bundle);
    Narrative {
        summary: summary(&f),
        key_trends: key_trends(&f),
        insights: insights(&f),
        recommendations: recommendations(&f),
        author: AUTHOR.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Facts derived once from the bundle
// ---------------------------------------------------------------------------------------------

/// Where the FTP the text reasons with comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FtpSource {
    /// The profile's FTP, consistent with recent bests (or not checkable).
    Profile,
    /// The eFTP implied by recent bests: the profile has none, or a stale one.
    Estimate,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Basis {
    Power,
    HeartRate,
}

/// Shape of the intensity distribution (easy = Z1–Z2, moderate = Z3, hard = Z4+).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Distribution {
    /// More than a quarter of the time hard.
    HardHeavy,
    /// Little above endurance: under 5 % hard and under 15 % moderate.
    TooEasy,
    /// The grey zone dominates the non-easy time: ≥ 25 % moderate, or moderate above hard
    /// with under 65 % easy.
    ModerateHeavy,
    /// ≥ 75 % easy, hard ≥ moderate, hard ≥ 10 %.
    Polarised,
    /// ≥ 70 % easy and moderate > hard.
    Pyramidal,
    Mixed,
}

#[derive(Debug, Clone, Copy)]
struct Intensity {
    easy: f64,
    moderate: f64,
    hard: f64,
    basis: Basis,
    shape: Distribution,
}

/// Weeks of the recent period as the weekly chart has them.
#[derive(Debug, Clone)]
struct Consistency {
    /// Calendar weeks considered (the last one may be partial).
    weeks: usize,
    /// Mondays of the weeks without a ride, oldest first.
    missed: Vec<Date>,
    min_ride_hours: f64,
    max_ride_hours: f64,
}

#[derive(Debug, Clone, Copy)]
struct PowerProfile {
    ftp_w: f64,
    p1_w: Option<f64>,
    p5_w: Option<f64>,
    p20_w: Option<f64>,
}

impl PowerProfile {
    fn ratio(&self, w: Option<f64>) -> Option<f64> {
        w.filter(|w| *w > 0.0)
            .and_then(|w| metrics::num::ratio(w, self.ftp_w))
    }
    /// 5-min power under 115 % of FTP (the low end of the typical range): a VO2max limiter, or
    /// no maximal 5-min effort in the period.
    fn vo2_limited(&self) -> bool {
        self.ratio(self.p5_w)
            .is_some_and(|r| (r * 100.0).round() < 115.0)
    }
    /// 1-min power under 150 % of FTP.
    fn anaerobic_limited(&self) -> bool {
        self.ratio(self.p1_w)
            .is_some_and(|r| (r * 100.0).round() < 150.0)
    }
}

struct Facts<'a> {
    b: &'a AnalysisBundle,
    /// The FTP the text reasons with and where it comes from.
    ftp: Option<(f64, FtpSource)>,
    intensity: Option<Intensity>,
    now: Option<PmcDay>,
    /// CTL on the first day of the recent period (or the first day the chart has).
    ctl_at_period_start: Option<f64>,
    consistency: Consistency,
    power: Option<PowerProfile>,
    /// Share of the period's load from non-cycling activities, with its categories.
    cross_share_pct: Option<f64>,
    goal_w_per_kg: Option<f64>,
    goal_km: Option<f64>,
    /// Whole weeks from `as_of` to a future event date.
    weeks_to_event: Option<i64>,
    /// Days of training history when all of it lies inside the chart window (the fitness model
    /// starts there from zero); `None` for a longer history.
    history_days: Option<usize>,
}

impl<'a> Facts<'a> {
    fn new(b: &'a AnalysisBundle) -> Facts<'a> {
        let ftp = match (b.athlete.ftp_w.filter(|f| *f > 0.0), b.stale_ftp, b.eftp) {
            (_, Some(s), _) => Some((s.implied_ftp_w, FtpSource::Estimate)),
            (Some(p), None, _) => Some((p, FtpSource::Profile)),
            (None, None, Some(e)) if e.ftp_w > 0.0 => Some((e.ftp_w, FtpSource::Estimate)),
            _ => None,
        };
        let now = b.fitness_now.or_else(|| b.fitness.last().copied());
        let recent_start = b.comparison.recent.start;
        let ctl_at_period_start = b
            .fitness
            .iter()
            .find(|d| d.date >= recent_start)
            .map(|d| d.ctl);
        let power = match (&b.power_curve, ftp) {
            (Some(c), Some((ftp_w, _))) => Some(PowerProfile {
                ftp_w,
                p1_w: c.at_least(60).filter(|w| *w > 0.0),
                p5_w: c.at_least(300).filter(|w| *w > 0.0),
                p20_w: c.at_least(1200).filter(|w| *w > 0.0),
            }),
            _ => None,
        };
        let non_cycling: f64 = b
            .cross_training
            .categories
            .iter()
            .filter(|c| c.category != Category::Cycling && c.count > 0)
            .filter_map(|c| c.load_share_pct)
            .sum();
        let has_other = b
            .cross_training
            .categories
            .iter()
            .any(|c| c.category != Category::Cycling && c.count > 0);
        let weeks_to_event = b
            .athlete
            .event_date
            .filter(|e| *e > b.as_of)
            .map(|e| (e - b.as_of).get_days() as i64 / 7);
        Facts {
            b,
            ftp,
            intensity: intensity(b),
            now,
            ctl_at_period_start,
            consistency: consistency(b),
            power,
            cross_share_pct: has_other.then_some(non_cycling),
            goal_w_per_kg: b
                .athlete
                .goals
                .iter()
                .find_map(|g| number_before(g, "w/kg"))
                .filter(|t| (1.0..=8.0).contains(t)),
            goal_km: b
                .athlete
                .goals
                .iter()
                .find_map(|g| number_before(g, "km"))
                .filter(|k| (10.0..=1500.0).contains(k)),
            weeks_to_event,
            history_days: history_days(b),
        }
    }

    /// The period's length as a noun phrase: "week" ("in the week to …") or "6 weeks".
    fn weeks(&self) -> String {
        match self.b.period_weeks {
            1 => "week".to_owned(),
            n => plural(u64::from(n), "week"),
        }
    }

    /// Whether the history is shorter than CTL's time constant, so CTL understates fitness.
    fn is_settling(&self) -> bool {
        self.history_days
            .is_some_and(|d| (d as f64) < metrics::pmc::CTL_DAYS)
    }

    /// "FTP" or "eFTP" with its value, for ratios in the text.
    fn ftp_label(&self) -> Option<String> {
        self.ftp.map(|(w, src)| match src {
            FtpSource::Profile => format!("FTP of {}", watts(w)),
            FtpSource::Estimate => format!("estimated FTP of {}", watts(w)),
        })
    }

    /// The longest ride (by time) of the period, with its distance.
    fn longest_ride_km(&self) -> Option<f64> {
        self.b
            .notable_rides
            .iter()
            .find(|r| r.reason.contains("longest ride"))
            .and_then(|r| r.distance_km)
            .filter(|d| *d > 0.0)
    }
}

/// The fitness model starts from zero on the first activity: when the chart's first day is
/// that start (no form carried in, CTL = that day's first step), the whole history is shown.
fn history_days(b: &AnalysisBundle) -> Option<usize> {
    let first = b.fitness.first()?;
    let a_ctl = 1.0 - (-1.0 / metrics::pmc::CTL_DAYS).exp();
    let from_zero = first.tsb == 0.0 && (first.ctl - first.load * a_ctl).abs() < 1e-9;
    (from_zero && first.load > 0.0).then_some(b.fitness.len())
}

fn intensity(b: &AnalysisBundle) -> Option<Intensity> {
    let (pct, basis) = if let Some(p) = b.zones.easy_moderate_hard_pct {
        (p, Basis::Power)
    } else {
        // Coggan HR zones: Z1–Z2 easy, Z3 tempo, Z4–Z5 threshold and above.
        let h = b.zones.hr_zones_pct?;
        ([h[0] + h[1], h[2], h[3] + h[4]], Basis::HeartRate)
    };
    let [easy, moderate, hard] = pct;
    if ![easy, moderate, hard].iter().all(|v| v.is_finite()) || easy + moderate + hard <= 0.0 {
        return None;
    }
    let shape = if hard > 25.0 {
        Distribution::HardHeavy
    } else if hard < 5.0 && moderate < 15.0 {
        Distribution::TooEasy
    } else if moderate >= 25.0 || (moderate > hard && easy < 65.0) {
        Distribution::ModerateHeavy
    } else if easy >= 75.0 && hard >= moderate && hard >= 10.0 {
        Distribution::Polarised
    } else if easy >= 70.0 && moderate > hard {
        Distribution::Pyramidal
    } else {
        Distribution::Mixed
    };
    Some(Intensity {
        easy,
        moderate,
        hard,
        basis,
        shape,
    })
}

fn ride_hours(w: &WeekSummary) -> f64 {
    w.by_sport
        .iter()
        .filter(|s| s.sport == Sport::Ride)
        .map(|s| s.hours)
        .sum()
}

fn ride_count(w: &WeekSummary) -> u32 {
    w.by_sport
        .iter()
        .filter(|s| s.sport == Sport::Ride)
        .map(|s| s.count)
        .sum()
}

fn consistency(b: &AnalysisBundle) -> Consistency {
    // The weekly chart ends with the week of `as_of`: its last N entries are the period's
    // calendar weeks.
    let n = (b.period_weeks as usize).min(b.weekly.len());
    let weeks = &b.weekly[b.weekly.len() - n..];
    let hours: Vec<f64> = weeks.iter().map(ride_hours).collect();
    Consistency {
        weeks: n,
        missed: weeks
            .iter()
            .filter(|w| ride_count(w) == 0)
            .map(|w| w.week_start)
            .collect(),
        min_ride_hours: hours.iter().copied().fold(f64::INFINITY, f64::min),
        max_ride_hours: hours.iter().copied().fold(0.0, f64::max),
    }
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

fn summary(f: &Facts) -> String {
    let mut out = vec![volume_sentence(f)];
    if let Some(s) = fitness_sentence(f) {
        out.push(s);
    }
    if let Some(s) = ftp_sentence(f) {
        out.push(s);
    }
    out.join(" ")
}

fn volume_sentence(f: &Facts) -> String {
    let b = f.b;
    let r = &b.comparison.recent;
    let p = &b.comparison.previous;
    let window = format!("In the {} to {}", f.weeks(), b.as_of);
    if r.count == 0 {
        let all = &b.comparison_all.recent;
        return if all.count > 0 {
            format!(
                "{window} you recorded no rides but {} ({}).",
                plural(u64::from(all.count), "other activity"),
                hours(all.hours)
            )
        } else {
            format!("{window} you recorded no activities.")
        };
    }
    let mut s = format!(
        "{window} you rode {} for {}",
        plural(u64::from(r.count), "time"),
        hours(r.hours)
    );
    let mut details = Vec::new();
    if b.period_weeks > 1 {
        details.push(format!("{} a week", hours(r.hours_per_week)));
    }
    if r.distance_km >= 1.0 {
        details.push(format!("{} km", int(r.distance_km)));
    }
    if r.load >= 1.0 {
        details.push(format!("{} TSS of load", int(r.load)));
    }
    if !details.is_empty() {
        s += &format!(" ({})", details.join(", "));
    }
    match b.comparison.change.hours_pct {
        Some(pct) if pct.abs() < 5.0 => {
            s += &format!(", about the same as the {} before", f.weeks())
        }
        Some(pct) => {
            s += &format!(
                ", {:.0} % {} time than the {} before ({})",
                pct.abs(),
                if pct > 0.0 { "more" } else { "less" },
                f.weeks(),
                hours(p.hours)
            )
        }
        None if p.count == 0 => {
            s += &format!(
                "; there were no rides in the {} before to compare with",
                f.weeks()
            )
        }
        None => {}
    }
    s.push('.');
    s
}

fn fitness_sentence(f: &Facts) -> Option<String> {
    let d = f.now?;
    if d.ctl < 0.5 && d.atl < 0.5 {
        return Some(
            "There is not yet enough training load on record to estimate fitness.".to_owned(),
        );
    }
    Some(format!(
        "Fitness (CTL) is {} and fatigue (ATL) {}; form going into the day (TSB) is {} ({}).{}",
        int(d.ctl),
        int(d.atl),
        signed(d.tsb),
        form_band(d.tsb),
        settling_note(f)
    ))
}

/// " CTL is still settling: …" when the history is shorter than the CTL time constant.
fn settling_note(f: &Facts) -> String {
    match f.history_days {
        Some(days) if f.is_settling() => format!(
            " With only {} of history, CTL is still settling and understates fitness.",
            plural(days as u64, "day")
        ),
        _ => String::new(),
    }
}

fn ftp_sentence(f: &Facts) -> Option<String> {
    let b = f.b;
    let profile = b.athlete.ftp_w.filter(|w| *w > 0.0);
    Some(match (profile, b.stale_ftp, b.eftp) {
        (_, Some(s), _) => format!(
            "Your profile FTP of {} looks stale: recent bests imply about {} ({} W, {} %).",
            watts(s.profile_ftp_w),
            watts(s.implied_ftp_w),
            signed(s.diff_w),
            signed(s.diff_pct)
        ),
        (Some(p), None, Some(e)) if eftp_gap(p, e.ftp_w).is_some_and(|g| g < -5.0) => format!(
            "Your profile FTP of {} is above the eFTP of {} from recent bests: no maximal \
             sustained effort in the period, or fitness has dropped.",
            watts(p),
            watts(e.ftp_w)
        ),
        (Some(p), None, Some(e)) => format!(
            "Your profile FTP of {} is consistent with the eFTP of {} from recent bests.",
            watts(p),
            watts(e.ftp_w)
        ),
        (Some(p), None, None) if b.power_curve.is_some() => format!(
            "Your profile FTP of {} could not be checked: no effort long enough for an eFTP in \
             the period.",
            watts(p)
        ),
        (Some(p), None, None) => format!(
            "Your profile FTP of {} could not be checked: no ride in the period had power.",
            watts(p)
        ),
        (None, _, Some(e)) => format!(
            "Your profile has no FTP; recent bests imply an eFTP of about {}.",
            watts(e.ftp_w)
        ),
        (None, _, None) if b.power_curve.is_some() => {
            "Your profile has no FTP, and no effort in the period was long enough to estimate \
             one."
                .to_owned()
        }
        (None, _, None) => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Key trends
// ---------------------------------------------------------------------------------------------

fn key_trends(f: &Facts) -> Vec<Trend> {
    let candidates = [
        Some(volume_trend(f)),
        intensity_trend(f),
        power_trend(f),
        ramp_trend(f),
        Some(consistency_trend(f)),
        cross_training_trend(f),
        Some(load_trend(f)),
    ];
    let mut out: Vec<Trend> = candidates.into_iter().flatten().collect();
    // The load trend is a fallback: it repeats part of the volume trend.
    if out.len() > 3 {
        out.retain(|t| !t.title.starts_with("Weekly load"));
    }
    out.truncate(MAX_ITEMS);
    out
}

fn volume_trend(f: &Facts) -> Trend {
    let c = &f.b.comparison;
    let (r, p) = (&c.recent, &c.previous);
    if r.count == 0 && p.count == 0 {
        return Trend {
            title: "Volume: no rides".to_owned(),
            description: format!(
                "No rides in the {} to {}, nor in the {} before.",
                f.weeks(),
                f.b.as_of,
                f.weeks()
            ),
        };
    }
    let title = match c.change.hours_pct {
        Some(pct) if pct.abs() < 5.0 => format!("Volume steady ({} %)", signed(pct)),
        Some(pct) if pct > 0.0 => format!("Volume up {} %", int(pct)),
        Some(pct) => format!("Volume down {} %", int(pct.abs())),
        None => "Volume: no earlier period to compare".to_owned(),
    };
    let has_load = r.load_per_week >= 1.0 || p.load_per_week >= 1.0;
    let d = if p.count == 0 {
        let mut d = if f.b.period_weeks == 1 {
            format!(
                "In the recent week: {} and {}",
                plural(u64::from(r.count), "ride"),
                hours(r.hours)
            )
        } else {
            format!(
                "Per week in the recent {}: {} rides and {}",
                f.weeks(),
                dec(r.count_per_week, 1),
                hours(r.hours_per_week)
            )
        };
        if has_load {
            d += &format!(", {} TSS of load", int(r.load_per_week));
        }
        d += &format!("; no rides in the {} before.", f.weeks());
        d
    } else {
        let mut d = format!(
            "Per week, previous {} → recent {}: rides {} → {}, hours {} → {}",
            f.weeks(),
            f.weeks(),
            dec(p.count_per_week, 1),
            dec(r.count_per_week, 1),
            dec(p.hours_per_week, 1),
            dec(r.hours_per_week, 1)
        );
        if has_load {
            d += &format!(
                ", load {} → {} TSS",
                int(p.load_per_week),
                int(r.load_per_week)
            );
            if let Some(pct) = c.change.load_pct {
                d += &format!(" ({} %)", signed(pct));
            }
        }
        if let (Some(a), Some(b), Some(pct)) = (p.avg_np_w, r.avg_np_w, c.change.avg_np_pct) {
            d += &format!(
                "; average NP {} → {} ({} %)",
                watts(a),
                watts(b),
                signed(pct)
            );
        }
        d.push('.');
        d
    };
    Trend {
        title,
        description: d,
    }
}

fn intensity_trend(f: &Facts) -> Option<Trend> {
    let i = f.intensity?;
    let (title, assessment) = match i.shape {
        Distribution::Polarised => (
            "Intensity: polarised",
            "close to a polarised pattern (about 80 % easy, little tempo, 15–20 % hard), which \
             suits a build toward an event",
        ),
        Distribution::Pyramidal => (
            "Intensity: pyramidal",
            "a pyramidal pattern (mostly easy, more tempo than hard work), the classic \
             base-phase distribution (about 75 / 20 / 5)",
        ),
        Distribution::ModerateHeavy => (
            "Intensity: heavy on the grey zone",
            "more moderate (Z3) time than either a polarised (about 80 / 5 / 15) or a pyramidal \
             (about 75 / 20 / 5) plan would have: tiring, but too easy to raise the ceiling",
        ),
        Distribution::TooEasy => (
            "Intensity: almost all easy",
            "under 5 % hard and little tempo: good for aerobic base, but there is little \
             stimulus at or above threshold (polarised plans keep 15–20 % hard)",
        ),
        Distribution::HardHeavy => (
            "Intensity: very hard-heavy",
            "more than a quarter of the time hard, above the 15–20 % a polarised plan uses; \
             recovery between sessions may be short-changed",
        ),
        Distribution::Mixed => (
            "Intensity: mixed",
            "between the polarised (about 80 / 5 / 15) and pyramidal (about 75 / 20 / 5) \
             targets",
        ),
    };
    let (basis, n) = match i.basis {
        Basis::Power => ("power", f.b.zones.activities_with_power_zones),
        Basis::HeartRate => ("heart rate", f.b.zones.activities_with_hr_zones),
    };
    Some(Trend {
        title: title.to_owned(),
        description: format!(
            "By {basis} over {}: {:.0} % easy (Z1–Z2), {:.0} % moderate (Z3), {:.0} % hard \
             (Z4 and above) — {assessment}.",
            plural(u64::from(n), "activity"),
            i.easy,
            i.moderate,
            i.hard
        ),
    })
}

fn power_trend(f: &Facts) -> Option<Trend> {
    let p = f.power?;
    let r5 = p.ratio(p.p5_w);
    let r1 = p.ratio(p.p1_w);
    if r5.is_none() && r1.is_none() {
        return None;
    }
    let label = f.ftp_label()?;
    let mut parts = Vec::new();
    if let (Some(w), Some(r)) = (p.p5_w, r5) {
        parts.push(format!(
            "best 5 min {} ({:.0} % of your {label})",
            watts(w),
            r * 100.0
        ));
    }
    if let (Some(w), Some(r)) = (p.p1_w, r1) {
        parts.push(format!("best 1 min {} ({:.0} %)", watts(w), r * 100.0));
    }
    let mut d = capitalise(&parts.join(", "));
    d += ". Well-rounded riders typically hold 115–125 % of FTP for 5 min and 150–180 % for 1 min";
    // Judged on the rounded percentages the text shows, so a quoted "125 %" is never called
    // out of range.
    let pct5 = r5.map(|r| (r * 100.0).round());
    let pct1 = r1.map(|r| (r * 100.0).round());
    let mut verdicts = Vec::new();
    match pct5 {
        Some(r) if r < 106.0 => verdicts.push(
            "5-min power barely above FTP means either no maximal 5-min effort in the period \
             or a VO2max limiter",
        ),
        Some(r) if r < 115.0 => verdicts.push(
            "5-min power below the typical range points to VO2max as a relative limiter (or \
             no all-out 5-min effort recently)",
        ),
        Some(r) if r > 130.0 => verdicts
            .push("5-min power far above FTP is a VO2max strength: threshold has room to catch up"),
        Some(r) if r > 125.0 => verdicts.push("5-min power above the typical range is a strength"),
        _ => {}
    }
    match pct1 {
        Some(r) if r < 150.0 => verdicts
            .push("1-min power is low against FTP: anaerobic capacity is a limiter or untested"),
        Some(r) if r > 200.0 => verdicts.push("1-min power is a clear anaerobic strength"),
        Some(r) if r > 180.0 => {
            verdicts.push("1-min power above the typical range is a punchy, anaerobic strength")
        }
        _ => {}
    }
    if verdicts.is_empty() {
        d += "; yours sit in those ranges, a balanced profile";
    } else {
        d += "; ";
        d += &verdicts.join("; ");
    }
    d.push('.');
    if let Some(cp) = f.b.cp2 {
        d += &format!(
            " The 2-parameter model fits CP {} and W′ {:.1} kJ.",
            watts(cp.cp_w),
            cp.w_prime_j / 1000.0
        );
    }
    let title = match (r5, r1) {
        (Some(a), Some(b)) => format!(
            "Power profile: 5 min {:.0} %, 1 min {:.0} % of FTP",
            a * 100.0,
            b * 100.0
        ),
        (Some(a), None) => format!("Power profile: 5 min {:.0} % of FTP", a * 100.0),
        (None, Some(b)) => format!("Power profile: 1 min {:.0} % of FTP", b * 100.0),
        (None, None) => unreachable!("checked above"),
    };
    Some(Trend {
        title,
        description: d,
    })
}

fn ramp_trend(f: &Facts) -> Option<Trend> {
    let now = f.now?;
    if now.ctl < 0.5 && now.atl < 0.5 {
        return None;
    }
    let r = now.ramp_rate;
    let (word, assessment) = if r > STEEP_RAMP_PER_WEEK {
        (
            "steep",
            "above the 5–8 a week most riders absorb; the risk of illness and overreaching rises",
        )
    } else if r >= 5.0 {
        (
            "solid",
            "a productive build that most riders can sustain for a few weeks",
        )
    } else if r >= 0.5 {
        ("gentle", "a gentle build, sustainable for a long time")
    } else if r > -0.5 {
        ("flat", "fitness is being maintained, not built")
    } else {
        (
            "falling",
            "fitness is slipping, as expected in a recovery week or taper; otherwise a sign of \
             missed or lighter training",
        )
    };
    let mut d = String::new();
    if let Some(start) = f.ctl_at_period_start
        && f.b.period_weeks > 1
    {
        d += &format!(
            "Over the {} CTL went from {} to {} ({} a week on average); ",
            f.weeks(),
            int(start),
            int(now.ctl),
            signed1((now.ctl - start) / f64::from(f.b.period_weeks))
        );
    }
    d += &format!(
        "in the last 7 days {} changed by {} (now {}): {assessment}{}.",
        if d.is_empty() { "CTL" } else { "it" },
        signed1(r),
        int(now.ctl),
        if f.is_settling() {
            ", although with this little history CTL is still settling"
        } else {
            ""
        }
    );
    Some(Trend {
        title: format!("Load ramp: {word} ({} CTL in the last 7 days)", signed1(r)),
        description: capitalise(&d),
    })
}

fn consistency_trend(f: &Facts) -> Trend {
    let c = &f.consistency;
    if c.weeks == 0 {
        return Trend {
            title: "Consistency: no weeks on record".to_owned(),
            description: format!("No rides in the {} to {}.", f.weeks(), f.b.as_of),
        };
    }
    let rode = c.weeks - c.missed.len();
    if c.weeks == 1 {
        return Trend {
            title: "Consistency: one calendar week analysed".to_owned(),
            description: if rode == 1 {
                format!(
                    "{} of riding in the calendar week from {} to {}; consistency shows over \
                     several weeks, so judge it again once more weeks are on record.",
                    hours(c.max_ride_hours),
                    metrics::weekly::week_start(f.b.as_of),
                    f.b.as_of
                )
            } else {
                format!("No ride in the calendar week of {}.", f.b.as_of)
            },
        };
    }
    let title = format!("Consistency: rides in {rode} of the last {} weeks", c.weeks);
    let description = if c.missed.is_empty() && dec(c.min_ride_hours, 1) == dec(c.max_ride_hours, 1)
    {
        format!(
            "You rode every calendar week of the period, {} each week.",
            hours(c.max_ride_hours)
        )
    } else if c.missed.is_empty() {
        format!(
            "You rode every calendar week of the period; weekly riding ranged from {} to {}.",
            hours(c.min_ride_hours),
            hours(c.max_ride_hours)
        )
    } else if rode == 0 {
        format!(
            "No rides in any of the last {}.",
            plural(c.weeks as u64, "calendar week")
        )
    } else {
        let shown: Vec<String> = c.missed.iter().take(4).map(|d| d.to_string()).collect();
        let more = c.missed.len().saturating_sub(shown.len());
        let mut list = shown.join(", ");
        if more > 0 {
            list += &format!(" and {more} more");
        }
        format!(
            "{} without a ride (weeks starting {list}); the busiest week had {} of riding. \
             Missed weeks cost more fitness than a lighter week would.",
            capitalise(&plural(c.missed.len() as u64, "week")),
            hours(c.max_ride_hours)
        )
    };
    Trend { title, description }
}

fn cross_training_trend(f: &Facts) -> Option<Trend> {
    let share = f.cross_share_pct?;
    let ct = &f.b.cross_training;
    let parts: Vec<String> = ct
        .categories
        .iter()
        .filter(|c| c.category != Category::Cycling && c.count > 0)
        .map(|c| {
            let mut s = format!(
                "{} {} ({})",
                c.category.label(),
                plural(u64::from(c.count), "session"),
                hours(c.hours)
            );
            if let Some(pct) = c.load_share_pct.filter(|p| *p >= 0.5) {
                s += &format!(", {pct:.0} % of load");
            }
            s
        })
        .collect();
    let assessment = if share > 30.0 {
        "a large share: it counts toward fatigue but builds less cycling-specific fitness"
    } else if share >= 5.0 {
        "useful support that also counts toward fatigue"
    } else {
        "a minor part of the load"
    };
    Some(Trend {
        title: format!("Cross-training: {share:.0} % of load"),
        description: format!("{} — {assessment}.", capitalise(&parts.join("; "))),
    })
}

fn load_trend(f: &Facts) -> Trend {
    let a = &f.b.comparison_all;
    let mut d = format!(
        "All sports: {} TSS a week in the recent {} against {} before",
        int(a.recent.load_per_week),
        f.weeks(),
        int(a.previous.load_per_week)
    );
    if let Some(pct) = a.change.load_pct {
        d += &format!(" ({} %)", signed(pct));
    }
    d.push('.');
    Trend {
        title: "Weekly load".to_owned(),
        description: d,
    }
}

// ---------------------------------------------------------------------------------------------
// Insights
// ---------------------------------------------------------------------------------------------

fn insights(f: &Facts) -> Vec<String> {
    let candidates = [
        ftp_insight(f),
        form_insight(f),
        w_per_kg_insight(f),
        availability_insight(f),
        efficiency_insight(f),
        distance_insight(f),
        event_insight(f),
        best_effort_insight(f),
        biggest_week_insight(f),
        Some(coverage_insight(f)),
    ];
    let mut out: Vec<String> = candidates.into_iter().flatten().collect();
    out.truncate(MAX_ITEMS);
    out
}

fn ftp_insight(f: &Facts) -> Option<String> {
    let b = f.b;
    if let Some(s) = b.stale_ftp {
        // TSS scales with IF², IF with 1/FTP: an FTP too low by a factor k inflates TSS by k².
        let k = s.implied_ftp_w / s.profile_ftp_w;
        let tss_over = (k * k - 1.0) * 100.0;
        return Some(format!(
            "Zones are anchored to {}, but recent bests imply {}: every power zone sits about \
             {} % too low, so intervals targeted from them are easier than intended, and the \
             TSS of recent rides (with CTL and form) is overstated by roughly {} %.",
            watts(s.profile_ftp_w),
            watts(s.implied_ftp_w),
            int(s.diff_pct),
            int(tss_over)
        ));
    }
    match (b.athlete.ftp_w.filter(|w| *w > 0.0), b.eftp) {
        (Some(p), Some(e)) => {
            let how = match e.method {
                metrics::cp::EftpMethod::Cp2 => "CP of the 2–20 min bests",
                metrics::cp::EftpMethod::TwentyMin95 => "95 % of the best 20 min",
            };
            Some(match eftp_gap(p, e.ftp_w) {
                Some(gap) if gap > 2.5 => format!(
                    "Profile FTP {} is {} % below the eFTP of {} ({how}): inside the margin \
                     of error, but a test would tell whether it is time to raise it.",
                    watts(p),
                    int(gap),
                    watts(e.ftp_w)
                ),
                Some(gap) if gap < -5.0 => format!(
                    "Recent bests imply an eFTP of {} ({how}), {} % below the profile FTP of \
                     {}: either the period had no hard sustained effort or FTP has dropped; \
                     zones set from {} may be too hard.",
                    watts(e.ftp_w),
                    int(-gap),
                    watts(p),
                    watts(p)
                ),
                _ => format!(
                    "Profile FTP {} and the eFTP of {} ({how}) agree, so power zones and TSS \
                     can be trusted.",
                    watts(p),
                    watts(e.ftp_w)
                ),
            })
        }
        (None, Some(e)) => Some(format!(
            "Without an FTP in the profile there are no power zones or power-based TSS; \
             setting ftp_w to about {} would enable both.",
            watts(e.ftp_w)
        )),
        _ => None,
    }
}

/// How far the eFTP is above (+) or below (−) the profile FTP, in percent of the profile FTP.
fn eftp_gap(profile_w: f64, eftp_w: f64) -> Option<f64> {
    metrics::num::ratio((eftp_w - profile_w) * 100.0, profile_w)
}

fn form_insight(f: &Facts) -> Option<String> {
    let d = f.now?;
    if d.ctl < 0.5 && d.atl < 0.5 {
        return None;
    }
    let meaning = if d.tsb < DEEP_FATIGUE_TSB {
        "fatigue is far above fitness; performance and health suffer if this continues"
    } else if d.tsb < -10.0 {
        "the productive range for building fitness, as long as recovery days stay easy"
    } else if d.tsb <= 5.0 {
        "neither building much nor fresh: hard sessions here maintain rather than build"
    } else if d.tsb <= 25.0 {
        "a good moment for a test, a key workout or an event"
    } else {
        "fitness fades after more than a week or two like this"
    };
    Some(format!(
        "Form going into {} is {} ({}). {}.",
        d.date,
        signed(d.tsb),
        form_band(d.tsb),
        capitalise(meaning)
    ))
}

fn w_per_kg_insight(f: &Facts) -> Option<String> {
    let kg = f.b.athlete.weight_kg.filter(|k| *k > 0.0)?;
    let (ftp, _) = f.ftp?;
    let now = ftp / kg;
    let label = f.ftp_label()?;
    Some(match f.goal_w_per_kg {
        Some(target) if now < target => {
            let need = target * kg;
            format!(
                "At {kg:.1} kg your {label} is {now:.2} W/kg; the {target:.1} W/kg goal needs \
                 {} ({} W more).",
                watts(need),
                int(need - ftp)
            )
        }
        Some(target) => format!(
            "At {kg:.1} kg your {label} is {now:.2} W/kg, already at the {target:.1} W/kg goal."
        ),
        None => format!("At {kg:.1} kg your {label} is {now:.2} W/kg."),
    })
}

fn availability_insight(f: &Facts) -> Option<String> {
    let avail = f.b.athlete.hours_per_week.filter(|h| *h > 0.0)?;
    let used = f.b.comparison_all.recent.hours_per_week;
    let pct = used / avail * 100.0;
    let verdict = if pct < 70.0 {
        "there is room for more riding without changing your week"
    } else if pct <= 110.0 {
        "you are using the time you have"
    } else {
        "more than you planned for: check that recovery keeps up"
    };
    Some(format!(
        "You trained {} a week (all sports) against {} available, {pct:.0} % of it: {verdict}.",
        hours(used),
        hours(avail)
    ))
}

fn efficiency_insight(f: &Facts) -> Option<String> {
    let c = &f.b.comparison;
    let (np0, np1) = (c.previous.avg_np_w?, c.recent.avg_np_w?);
    let (hr0, hr1) = (c.previous.avg_hr_bpm?, c.recent.avg_hr_bpm?);
    let np_pct = c.change.avg_np_pct?;
    let dhr = hr1 - hr0;
    let verdict = if np_pct >= 2.0 && dhr <= 1.0 {
        "more power for the same or less heart rate: aerobic efficiency is improving"
    } else if np_pct <= -2.0 && dhr >= 1.0 {
        "less power for more heart rate: a sign of fatigue or lost fitness"
    } else {
        return None;
    };
    Some(format!(
        "Average NP per ride went from {} to {} while average heart rate went from {} to {} \
         bpm — {verdict} (averages over all rides, so the workout mix matters too).",
        watts(np0),
        watts(np1),
        int(hr0),
        int(hr1)
    ))
}

fn distance_insight(f: &Facts) -> Option<String> {
    let goal = f.goal_km?;
    let longest = f.longest_ride_km()?;
    Some(if longest < goal * 0.75 {
        format!(
            "Your longest ride of the period covered {longest:.0} km, well short of the \
             {goal:.0} km in your goals: long-ride endurance is the gap to close."
        )
    } else {
        format!(
            "Your longest ride of the period covered {longest:.0} km against the {goal:.0} km \
             in your goals: the distance itself is within reach."
        )
    })
}

fn event_insight(f: &Facts) -> Option<String> {
    let weeks = f.weeks_to_event?;
    let date = f.b.athlete.event_date?;
    let phase = if weeks <= 2 {
        "taper time: keep some intensity, cut volume"
    } else if weeks <= 8 {
        "time for event-specific build work, then a taper"
    } else {
        "enough time for a base and build block before a taper"
    };
    Some(format!(
        "Your event on {date} is {} after {}: {phase}.",
        plural(weeks as u64, "week"),
        f.b.as_of
    ))
}

fn best_effort_insight(f: &Facts) -> Option<String> {
    let r =
        f.b.notable_rides
            .iter()
            .find(|r| r.reason.contains("best 20 min"))?;
    let p = f.power?;
    let w = p.p20_w?;
    Some(format!(
        "Your best 20 minutes of the period, {} on {}, is {:.0} % of your {}.",
        watts(w),
        r.date,
        w / p.ftp_w * 100.0,
        f.ftp_label()?
    ))
}

fn biggest_week_insight(f: &Facts) -> Option<String> {
    // With a single active week "the biggest week" says nothing new.
    if f.b.weekly.iter().filter(|w| w.count > 0).count() < 2 {
        return None;
    }
    let w =
        f.b.weekly
            .iter()
            .filter(|w| w.count > 0)
            .max_by(|a, b| a.hours.total_cmp(&b.hours))?;
    let mut s = format!(
        "The biggest week of the chart window started {}: {} over {}",
        w.week_start,
        hours(w.hours),
        plural(u64::from(w.count), "activity")
    );
    if w.load >= 1.0 {
        s += &format!(" and {:.0} TSS", w.load);
    }
    s.push('.');
    Some(s)
}

fn coverage_insight(f: &Facts) -> String {
    let z = &f.b.zones;
    let n = f.b.comparison_all.recent.count;
    if n == 0 {
        return format!(
            "No activities in the {} to {}: the figures above come from earlier training.",
            f.weeks(),
            f.b.as_of
        );
    }
    match (z.activities_with_power_zones, z.activities_with_hr_zones) {
        (0, 0) => format!(
            "The {} in the period had neither power nor heart-rate zones, so load comes from \
             duration alone; a heart-rate strap (with lthr_bpm in the profile) or a power meter \
             would make it far more accurate.",
            plural(u64::from(n), "activity")
        ),
        (0, h) => format!(
            "The {} in the period had no power; {h} had heart-rate zones, so intensity is \
             judged from heart rate.",
            plural(u64::from(n), "activity")
        ),
        (p, h) => format!(
            "{p} of the {} in the period had power zones and {h} had heart-rate zones.",
            plural(u64::from(n), "activity")
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Recommendations
// ---------------------------------------------------------------------------------------------

fn recommendations(f: &Facts) -> Recommendations {
    Recommendations {
        short_term: short_term(f),
        long_term: long_term(f),
        recovery: recovery(f),
    }
}

fn deep_fatigue(f: &Facts) -> bool {
    f.now.is_some_and(|d| d.tsb < DEEP_FATIGUE_TSB)
}

fn steep_ramp(f: &Facts) -> bool {
    f.now.is_some_and(|d| d.ramp_rate > STEEP_RAMP_PER_WEEK)
}

/// "(233–244 W)" for a %FTP range when an FTP is known.
fn watts_range(f: &Facts, lo_pct: f64, hi_pct: f64) -> String {
    match f.ftp {
        Some((ftp, _)) => format!(
            " ({}–{})",
            int(ftp * lo_pct / 100.0),
            watts(ftp * hi_pct / 100.0)
        ),
        None => String::new(),
    }
}

fn short_term(f: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = f.now.filter(|d| d.tsb < DEEP_FATIGUE_TSB) {
        out.push(format!(
            "Recover first: form is {}, in the high-risk band. Take 2–3 rest or very easy days \
             and hold back hard sessions until form is back above −20.",
            signed(d.tsb)
        ));
    }
    if let Some(s) = f.b.stale_ftp {
        out.push(format!(
            "Retest FTP within the next week (a 20-min test or a ramp test, rested) — or set \
             ftp_w to about {} now — so zones, TSS and the plan's targets match your fitness.",
            watts(s.implied_ftp_w)
        ));
    } else if let (Some(p), Some(e)) = (f.b.athlete.ftp_w, f.b.eftp)
        && eftp_gap(p, e.ftp_w).is_some_and(|g| g < -5.0)
    {
        out.push(format!(
            "Do one maximal sustained effort (a 20-min test, rested) so the power curve shows \
             whether the profile FTP of {} still holds: recent bests imply only {}.",
            watts(p),
            watts(e.ftp_w)
        ));
    } else if f.b.athlete.ftp_w.is_none()
        && let Some(e) = f.b.eftp
    {
        out.push(format!(
            "Set ftp_w to about {} in your profile (the eFTP of your recent bests) to get power \
             zones and power-based TSS.",
            watts(e.ftp_w)
        ));
    }
    if let Some(d) = f.now.filter(|d| d.ramp_rate > STEEP_RAMP_PER_WEEK) {
        out.push(format!(
            "Hold load near the current {} TSS a week for the next one or two weeks instead of \
             adding more: CTL is rising {} a week, above the 8 a week that is sustainable.",
            int(f.b.comparison_all.recent.load_per_week),
            signed1(d.ramp_rate)
        ));
    }
    if !deep_fatigue(f)
        && let Some(i) = f.intensity
    {
        let ss = metrics::zones::SWEET_SPOT_PCT;
        // Targets in watts when an FTP is known, else by heart rate (Coggan HR zones: Z2 tops
        // out at 83 % of LTHR; sweet spot sits around 90–94 % of LTHR).
        let lthr = f.b.athlete.lthr_bpm.map(f64::from);
        let sweet_spot = match (f.ftp, lthr) {
            (Some(_), _) => format!(
                "{}–{} % of FTP{}",
                int(ss.0),
                int(ss.1),
                watts_range(f, ss.0, ss.1)
            ),
            (None, Some(l)) => format!(
                "90–94 % of threshold heart rate ({}–{} bpm)",
                int(l * 0.90),
                int(l * 0.94)
            ),
            (None, None) => "a hard but sustainable effort (breathing deep, talking in short \
                             phrases)"
                .to_owned(),
        };
        let easy_cap = match (f.ftp, lthr) {
            (Some((w, _)), _) => format!("below 75 % of FTP, {}", watts(w * 0.75)),
            (None, Some(l)) => format!("below 83 % of threshold heart rate, {} bpm", int(l * 0.83)),
            (None, None) => "at a conversational pace".to_owned(),
        };
        match i.shape {
            Distribution::TooEasy => out.push(format!(
                "Add one sweet-spot session a week, e.g. 2 × 20 min at {sweet_spot}, keeping \
                 the other rides easy: only {} % of your time was hard.",
                int(i.hard)
            )),
            Distribution::ModerateHeavy => out.push(format!(
                "Make easy rides truly easy ({easy_cap}) and put the intensity into one or two \
                 focused interval sessions: {} % of your time was moderate.",
                int(i.moderate)
            )),
            Distribution::HardHeavy => out.push(format!(
                "Swap one hard session a week for a long endurance ride: {} % of your time was \
                 hard, more than recovery can usually support.",
                int(i.hard)
            )),
            _ => {}
        }
    }
    if let Some(d) = f.now
        && d.ramp_rate < -0.5
        && d.tsb > 5.0
        && f.weeks_to_event.is_none_or(|w| w > 2)
    {
        out.push(format!(
            "You are fresh (form {}) while fitness slips ({} CTL a week): use it for a test \
             or key workout, then rebuild load by 3–5 CTL a week.",
            signed(d.tsb),
            signed1(d.ramp_rate)
        ));
    }
    if out.is_empty() {
        out.push(match f.now {
            _ if f.is_settling() => "Ride regularly, three or more times a week, for the next \
                                     few weeks: the fitness figures need about six weeks of \
                                     history to guide the load."
                .to_owned(),
            Some(d) if d.ctl >= 0.5 => format!(
                "Keep this week's structure: form {} ({}) and a {} CTL a week ramp leave room \
                 to continue as you are.",
                signed(d.tsb),
                form_band(d.tsb),
                signed1(d.ramp_rate)
            ),
            _ => "Start with three easy rides a week to give the fitness model a baseline."
                .to_owned(),
        });
    }
    out
}

fn long_term(f: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(target), Some(kg), Some((ftp, _))) = (
        f.goal_w_per_kg,
        f.b.athlete.weight_kg.filter(|k| *k > 0.0),
        f.ftp,
    ) && ftp / kg < target
    {
        out.push(format!(
            "To reach {target:.1} W/kg at {kg:.1} kg, raise FTP to about {}: 8–12 weeks of \
             progressive sweet-spot and threshold work (two sessions a week) on a steadily \
             rising CTL.",
            watts(target * kg)
        ));
    }
    if let (Some(weeks), Some(date)) = (f.weeks_to_event, f.b.athlete.event_date) {
        out.push(format!(
            "With {} to your event on {date}, build in 3-week blocks and taper over the final \
             1–2 weeks (volume down about 40 %, some intensity kept).",
            plural(weeks as u64, "week")
        ));
    }
    if let (Some(goal), Some(longest)) = (f.goal_km, f.longest_ride_km())
        && longest < goal * 0.9
    {
        out.push(format!(
            "Extend the weekly long ride step by step from {} km toward {} km (90 % of the \
             {} km goal; about 10 % longer every other week), fuelling as you would on the day.",
            int(longest),
            int(goal * 0.9),
            int(goal)
        ));
    }
    if let Some(p) = f.power {
        if p.vo2_limited() {
            out.push(format!(
                "Run a 4–6-week VO2max block: 5 × 4 min at 106–120 % of FTP{} once a week.",
                watts_range(f, 106.0, 120.0)
            ));
        } else if p.anaerobic_limited() {
            out.push(
                "Add short anaerobic work once a week (8 × 30 s hard, 90 s easy) to lift 1-min \
                 power."
                    .to_owned(),
            );
        }
    }
    let missed = f.consistency.missed.len();
    if missed >= 2 {
        out.push(format!(
            "Protect consistency: {} of the last {} had no ride; three rides every week, even \
             short ones, build more than occasional big weeks.",
            plural(missed as u64, "week"),
            plural(f.consistency.weeks as u64, "week")
        ));
    }
    if let Some(avail) = f.b.athlete.hours_per_week.filter(|h| *h > 0.0) {
        let used = f.b.comparison_all.recent.hours_per_week;
        if used < avail * 0.7 {
            out.push(format!(
                "You have {} a week available and used {}: the extra {} as easy endurance is \
                 the cheapest fitness there is.",
                hours(avail),
                hours(used),
                hours(avail - used)
            ));
        }
    }
    if out.is_empty() {
        out.push(
            "Progress load by 3–5 CTL a week in 3-week blocks, each followed by a recovery week."
                .to_owned(),
        );
    }
    out.truncate(MAX_ITEMS);
    out
}

fn recovery(f: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    if deep_fatigue(f) {
        out.push(
            "This week: at least two full rest days, sleep and fuelling first; resume intervals \
             only when legs and resting heart rate are back to normal."
                .to_owned(),
        );
    }
    if steep_ramp(f) {
        out.push("After this build, take a recovery week before adding more load.".to_owned());
    }
    let load = f.b.comparison_all.recent.load_per_week;
    if load >= 1.0 {
        out.push(format!(
            "Plan a recovery week every 3–4 weeks at about 60 % of your usual load (around {:.0} \
             instead of {:.0} TSS a week).",
            load * 0.6,
            load
        ));
    } else {
        out.push(
            "Plan a lighter week every 3–4 weeks, at about 60 % of your usual hours.".to_owned(),
        );
    }
    if f.cross_share_pct.is_some_and(|s| s >= 15.0) {
        out.push(
            "Runs and strength sessions count as load: on a recovery week cut them back too."
                .to_owned(),
        );
    }
    out.push(
        "Keep at least one full rest day every week, and ride easy days truly easy.".to_owned(),
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/// `x` with `digits` decimals, never "-0" or "-0.0" (an empty sum of floats is −0.0).
fn dec(x: f64, digits: usize) -> String {
    // Round half away from zero first, as people do (`format!` alone rounds 232.5 to "232").
    let scale = 10f64.powi(digits as i32);
    let x = (x * scale).round() / scale;
    let s = format!("{x:.digits$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => s,
    }
}

/// A whole number, never "-0".
fn int(x: f64) -> String {
    dec(x, 0)
}

/// A signed whole number: "+5", "−12", "0".
fn signed(x: f64) -> String {
    let r = x.round();
    if r > 0.0 {
        format!("+{r}")
    } else if r < 0.0 {
        format!("−{}", -r)
    } else {
        "0".to_owned()
    }
}

/// A signed number with one decimal: "+4.2", "−0.8", "0.0".
fn signed1(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r > 0.0 {
        format!("+{r:.1}")
    } else if r < 0.0 {
        format!("−{:.1}", -r)
    } else {
        "0.0".to_owned()
    }
}

fn watts(w: f64) -> String {
    format!("{} W", int(w))
}

fn hours(h: f64) -> String {
    format!("{} h", dec(h, 1))
}

/// "1 week", "3 weeks", "1 activity", "2 activities".
fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// The number written just before `unit` in free text ("Raise FTP to 4 W/kg" → 4, "160 km" →
/// 160); case-insensitive, decimal point or comma.
fn number_before(text: &str, unit: &str) -> Option<f64> {
    let lower = text.to_lowercase();
    lower.match_indices(unit).find_map(|(at, _)| {
        // A unit glued to a following letter ("kmh") is another unit.
        let after = lower[at + unit.len()..].chars().next();
        if after.is_some_and(char::is_alphabetic) {
            return None;
        }
        let before = lower[..at].trim_end();
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_digit() || *c == '.' || *c == ',')
            .last()
            .map(|(i, _)| i)?;
        before[start..]
            .replace(',', ".")
            .trim_matches('.')
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_before_units() {
        assert_eq!(number_before("Raise FTP to 4 W/kg", "w/kg"), Some(4.0));
        assert_eq!(number_before("reach 3,8 w/kg by June", "w/kg"), Some(3.8));
        assert_eq!(
            number_before("Finish the Girona Gran Fondo (160 km) strongly", "km"),
            Some(160.0)
        );
        assert_eq!(number_before("ride 200km", "km"), Some(200.0));
        assert_eq!(number_before("average 30 kmh", "km"), None);
        assert_eq!(number_before("more W/kg", "w/kg"), None);
    }

    #[test]
    fn formatting_never_prints_negative_zero() {
        assert_eq!(int(-0.3), "0");
        assert_eq!(int(232.5), "233");
        assert_eq!(dec(-0.04, 1), "0.0");
        assert_eq!(signed(-0.4), "0");
        assert_eq!(signed(-12.6), "−13");
        assert_eq!(signed(4.5), "+5");
        assert_eq!(signed1(-0.04), "0.0");
        assert_eq!(signed1(8.25), "+8.3");
        assert_eq!(plural(1, "activity"), "1 activity");
        assert_eq!(plural(3, "activity"), "3 activities");
        assert_eq!(plural(0, "week"), "0 weeks");
        assert_eq!(plural(7, "day"), "7 days");
    }
}
