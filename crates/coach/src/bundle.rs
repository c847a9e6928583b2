//! The analysis bundle: every figure of a report, computed once by `metrics` from the athlete's
//! activity summaries (loading them from the store is the `agent` crate's job).

use jiff::ToSpan;
use jiff::civil::Date;
use metrics::cp::{Cp2Fit, Cp3Fit, FtpEstimate, StaleFtp};
use metrics::cross_training::CrossTraining;
use metrics::period::PeriodComparison;
use metrics::pmc::PmcDay;
use metrics::weekly::WeekSummary;
use metrics::zones::{Zone, ZoneTotals};
use metrics::{ActivitySummary, PowerCurve};
use ride::Sport;
use ride::profile::Profile;
use serde::{Deserialize, Serialize};

use crate::error::CoachError;

/// Who the report is for: the profile's facts the report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AthleteCard {
    pub name: String,
    pub age: Option<u32>,
    pub sex: Option<String>,
    pub weight_kg: Option<f64>,
    pub ftp_w: Option<f64>,
    pub w_per_kg: Option<f64>,
    pub lthr_bpm: Option<u32>,
    pub max_hr_bpm: Option<u32>,
    pub goals: Vec<String>,
    pub hours_per_week: Option<f64>,
    /// Lower-case English day names, Monday first.
    pub week_days: Vec<String>,
    pub event_date: Option<Date>,
}

/// Which activity a summary belongs to and what the athlete called it: what the bundle needs of
/// a stored activity besides its [`ActivitySummary`].
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRef {
    pub id: i64,
    /// User text (from Strava or the file name).
    pub name: Option<String>,
}

/// A ride worth naming in the report (longest, hardest, best efforts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotableRide {
    pub activity_id: i64,
    pub date: Date,
    /// User text (from Strava or the file name): escape before rendering.
    pub name: String,
    pub sport: ride::Sport,
    pub duration_s: f64,
    pub distance_km: Option<f64>,
    pub np_w: Option<f64>,
    pub tss: Option<f64>,
    /// Why it is notable, e.g. "longest ride", "highest TSS", "best 20 min (283 W)".
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisBundle {
    pub athlete: AthleteCard,
    /// The last day analysed (explicit, never "now").
    pub as_of: Date,
    /// Length of the recent period (and of the one compared with it), in weeks.
    pub period_weeks: u32,
    pub activity_count: u64,
    /// Rides only.
    pub comparison: PeriodComparison,
    /// All sports.
    pub comparison_all: PeriodComparison,
    /// Over the recent period.
    pub zones: ZoneTotals,
    pub power_zones: Option<Vec<Zone>>,
    pub hr_zones: Option<Vec<Zone>>,
    /// Daily fitness/fatigue/form over the chart window (≥ the two periods), oldest first.
    pub fitness: Vec<PmcDay>,
    pub fitness_now: Option<PmcDay>,
    /// Best power-duration curve over the recent period.
    pub power_curve: Option<PowerCurve>,
    pub cp2: Option<Cp2Fit>,
    pub cp3: Option<Cp3Fit>,
    pub eftp: Option<FtpEstimate>,
    pub stale_ftp: Option<StaleFtp>,
    /// Weeks of the chart window, oldest first.
    pub weekly: Vec<WeekSummary>,
    pub cross_training: CrossTraining,
    pub notable_rides: Vec<NotableRide>,
}

// ---------------------------------------------------------------------------------------------
// Building the bundle
// ---------------------------------------------------------------------------------------------

/// Longest period a bundle covers (ten years): beyond it the comparison means little and the
/// chart window would hold thousands of days.
pub const MAX_PERIOD_WEEKS: u32 = 520;
/// The fitness chart shows at least this many weeks, so a short period still shows a trend.
pub const MIN_CHART_WEEKS: u32 = 12;
/// At most this many notable rides.
pub const MAX_NOTABLE_RIDES: usize = 8;
/// A "long ride" lasts at least this long (and at least 1.5 × the period's median ride).
pub const LONG_RIDE_MIN_S: f64 = 90.0 * 60.0;

/// First day of the `weeks` weeks (7·N days) ending at `as_of`, the same convention as
/// `metrics::period::compare_periods`.
pub fn period_start(as_of: Date, weeks: u32) -> Date {
    as_of
        .checked_sub((i64::from(weeks.max(1)) * 7 - 1).days())
        .unwrap_or(Date::MIN)
}

/// First day of the fitness/weekly chart window: max(2 × period, [`MIN_CHART_WEEKS`]) weeks
/// ending at `as_of`, so the chart always covers both compared periods.
pub fn chart_window_start(as_of: Date, period_weeks: u32) -> Date {
    period_start(as_of, period_weeks.saturating_mul(2).max(MIN_CHART_WEEKS))
}

/// The athlete card: the profile's facts, FTP as in force on `as_of`.
pub fn athlete_card(profile: &Profile, as_of: Date) -> AthleteCard {
    let ftp_w = profile.ftp_on(as_of);
    let w_per_kg = match (ftp_w, profile.weight_kg) {
        (Some(ftp), Some(kg)) if kg > 0.0 => metrics::num::finite(ftp / kg),
        _ => None,
    };
    let availability = profile.training_availability.as_ref();
    AthleteCard {
        name: profile.name.clone(),
        age: profile.age,
        sex: profile.sex.map(|s| s.as_str().to_owned()),
        weight_kg: profile.weight_kg,
        ftp_w,
        w_per_kg,
        lthr_bpm: profile.lthr_bpm,
        max_hr_bpm: profile.max_hr_bpm,
        goals: profile.goals.clone(),
        hours_per_week: availability.and_then(|a| a.hours_per_week),
        week_days: availability.map_or_else(Vec::new, |a| {
            a.week_days
                .iter()
                .map(|d| ride::profile::weekday_name(*d).to_owned())
                .collect()
        }),
        event_date: profile.event_date,
    }
}

/// Time in zones over `from..=to` and the zone limits for the thresholds in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneSection {
    pub zones: ZoneTotals,
    pub power_zones: Option<Vec<Zone>>,
    pub hr_zones: Option<Vec<Zone>>,
}

pub fn zone_section(
    summaries: &[ActivitySummary],
    from: Date,
    to: Date,
    ftp_w: Option<f64>,
    lthr_bpm: Option<f64>,
) -> ZoneSection {
    ZoneSection {
        zones: metrics::zones::zone_totals(summaries, from, to),
        power_zones: ftp_w.filter(|f| *f > 0.0).map(metrics::zones::power_zones),
        hr_zones: lthr_bpm
            .filter(|l| *l > 0.0)
            .map(metrics::zones::hr_zones_coggan),
    }
}

/// Fitness/fatigue/form shown from `from` to `as_of`, computed from the first activity (CTL
/// needs months of history to settle, so starting the model at `from` would understate it).
#[derive(Debug, Clone, PartialEq)]
pub struct FitnessSection {
    pub days: Vec<PmcDay>,
    pub now: Option<PmcDay>,
}

pub fn fitness_section(summaries: &[ActivitySummary], from: Date, as_of: Date) -> FitnessSection {
    let all = metrics::pmc::pmc_from_summaries(summaries, as_of, metrics::pmc::PmcSeed::default());
    let days: Vec<PmcDay> = all.into_iter().filter(|d| d.date >= from).collect();
    FitnessSection {
        now: days.last().copied().filter(|d| d.date == as_of),
        days,
    }
}

/// Whether an activity's power curve says something about the rider's fitness: a ride (not an
/// e-bike, whose motor hides the rider's power) with measured (not estimated) power. Running
/// power is on another scale and would distort a cycling CP fit.
pub fn is_cycling_power(s: &ActivitySummary) -> bool {
    s.sport.sport == Sport::Ride && !s.sport.e_bike && !s.power_estimated
}

/// The best power-duration curve over a period and what it implies.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerSection {
    /// `None` when no ride in the period has a power curve.
    pub power_curve: Option<PowerCurve>,
    /// Rides whose curves were merged.
    pub rides_with_power: usize,
    pub cp2: Option<Cp2Fit>,
    pub cp3: Option<Cp3Fit>,
    pub eftp: Option<FtpEstimate>,
    pub stale_ftp: Option<StaleFtp>,
}

/// Power section from the curves of the cycling rides ([`is_cycling_power`]) dated `from..=to`;
/// the stale-FTP check compares `profile_ftp_w` (the FTP in force at the period's end) with the
/// eFTP of those bests.
pub fn power_section(
    summaries: &[ActivitySummary],
    from: Date,
    to: Date,
    profile_ftp_w: Option<f64>,
) -> PowerSection {
    let curves: Vec<&PowerCurve> = summaries
        .iter()
        .filter(|s| s.local_date >= from && s.local_date <= to && is_cycling_power(s))
        .filter_map(|s| s.power_curve.as_ref())
        .filter(|c| !c.durations_s.is_empty())
        .collect();
    if curves.is_empty() {
        return PowerSection {
            power_curve: None,
            rides_with_power: 0,
            cp2: None,
            cp3: None,
            eftp: None,
            stale_ftp: None,
        };
    }
    let best = metrics::curve::best_curve(&curves);
    PowerSection {
        cp2: metrics::cp::fit_cp2_curve(&best),
        cp3: metrics::cp::fit_cp3_curve(&best),
        eftp: metrics::cp::estimate_ftp(&best),
        stale_ftp: profile_ftp_w.and_then(|f| metrics::cp::stale_ftp(f, &best)),
        rides_with_power: curves.len(),
        power_curve: Some(best),
    }
}

/// Up to [`MAX_NOTABLE_RIDES`] rides dated `from..=to`, each named once with every reason it
/// qualifies for: longest, highest TSS, highest NP of rides ≥ 20 min, best 20 min, best 5 min,
/// most climbing, most recent long ride. `rows[i]` and `summaries[i]` are the same activity.
pub fn notable_rides(
    rows: &[ActivityRef],
    summaries: &[ActivitySummary],
    from: Date,
    to: Date,
) -> Vec<NotableRide> {
    let rides: Vec<usize> = (0..rows.len().min(summaries.len()))
        .filter(|&i| {
            let s = &summaries[i];
            s.sport.sport == Sport::Ride && s.local_date >= from && s.local_date <= to
        })
        .collect();
    if rides.is_empty() {
        return Vec::new();
    }
    let powered: Vec<usize> = rides
        .iter()
        .copied()
        .filter(|&i| is_cycling_power(&summaries[i]))
        .collect();
    // `max_by` keeps the last of equal maxima: with rides in start order, ties go to the most
    // recent ride, deterministically.
    let best_by = |set: &[usize], key: &dyn Fn(&ActivitySummary) -> Option<f64>| {
        set.iter()
            .filter_map(|&i| {
                key(&summaries[i])
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .map(|v| (i, v))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
    };

    let mut picks: Vec<(usize, Vec<String>)> = Vec::new();
    let mut add = |pick: Option<(usize, f64)>, reason: &dyn Fn(f64) -> String| {
        if let Some((i, v)) = pick {
            match picks.iter_mut().find(|(j, _)| *j == i) {
                Some((_, reasons)) => reasons.push(reason(v)),
                None => picks.push((i, vec![reason(v)])),
            }
        }
    };

    add(best_by(&rides, &|s| Some(s.duration_s())), &|v| {
        format!("longest ride ({})", fmt_duration(v))
    });
    add(best_by(&powered, &|s| s.tss), &|v| {
        format!("highest TSS ({v:.0})")
    });
    add(
        best_by(&powered, &|s| s.np_w.filter(|_| s.duration_s() >= 1200.0)),
        &|v| format!("highest NP of rides ≥ 20 min ({v:.0} W)"),
    );
    add(
        best_by(&powered, &|s| {
            s.power_curve.as_ref().and_then(|c| c.at_least(1200))
        }),
        &|v| format!("best 20 min ({v:.0} W)"),
    );
    add(
        best_by(&powered, &|s| {
            s.power_curve.as_ref().and_then(|c| c.at_least(300))
        }),
        &|v| format!("best 5 min ({v:.0} W)"),
    );
    add(best_by(&rides, &|s| s.elevation_gain_m), &|v| {
        format!("most climbing ({v:.0} m)")
    });
    let mut durations: Vec<f64> = rides.iter().map(|&i| summaries[i].duration_s()).collect();
    durations.sort_by(f64::total_cmp);
    let median = durations[durations.len() / 2];
    let long_s = LONG_RIDE_MIN_S.max(1.5 * median);
    let recent_long = rides
        .iter()
        .rev()
        .find(|&&i| summaries[i].duration_s() >= long_s)
        .map(|&i| (i, summaries[i].duration_s()));
    add(recent_long, &|v| {
        format!("most recent long ride ({})", fmt_duration(v))
    });

    picks
        .into_iter()
        .take(MAX_NOTABLE_RIDES)
        .map(|(i, reasons)| {
            let (row, s) = (&rows[i], &summaries[i]);
            let measured = !s.power_estimated;
            NotableRide {
                activity_id: row.id,
                date: s.local_date,
                name: row
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| format!("Ride on {}", s.local_date)),
                sport: s.sport.sport,
                duration_s: s.duration_s(),
                distance_km: s
                    .distance_m
                    .filter(|d| *d > 0.0)
                    .and_then(|d| metrics::num::finite(d / 1000.0)),
                np_w: s.np_w.filter(|_| measured),
                tss: s.tss.filter(|_| measured),
                reason: reasons.join("; "),
            }
        })
        .collect()
}

/// "4 h 05 min", "52 min".
pub(crate) fn fmt_duration(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round().max(0.0) as u64;
    if minutes < 60 {
        format!("{minutes} min")
    } else {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    }
}

/// The bundle from activities already loaded: `rows[i]`/`summaries[i]` are the athlete's
/// activities up to `as_of` (older ones are needed for the fitness model and the comparison),
/// in start order; `activity_count` is the athlete's total.
pub fn bundle_from_activities(
    rows: &[ActivityRef],
    summaries: &[ActivitySummary],
    activity_count: u64,
    profile: &Profile,
    as_of: Date,
    period_weeks: u32,
) -> Result<AnalysisBundle, CoachError> {
    if !(1..=MAX_PERIOD_WEEKS).contains(&period_weeks) {
        return Err(CoachError::InvalidPeriod {
            weeks: period_weeks,
            max: MAX_PERIOD_WEEKS,
        });
    }
    let recent_from = period_start(as_of, period_weeks);
    let chart_from = chart_window_start(as_of, period_weeks);
    let athlete = athlete_card(profile, as_of);
    let zones = zone_section(
        summaries,
        recent_from,
        as_of,
        athlete.ftp_w,
        profile.lthr_bpm.map(f64::from),
    );
    let fitness = fitness_section(summaries, chart_from, as_of);
    let power = power_section(summaries, recent_from, as_of, athlete.ftp_w);
    Ok(AnalysisBundle {
        as_of,
        period_weeks,
        activity_count,
        comparison: metrics::period::compare_periods(
            summaries,
            as_of,
            period_weeks,
            Some(Sport::Ride),
        ),
        comparison_all: metrics::period::compare_periods(summaries, as_of, period_weeks, None),
        zones: zones.zones,
        power_zones: zones.power_zones,
        hr_zones: zones.hr_zones,
        fitness: fitness.days,
        fitness_now: fitness.now,
        power_curve: power.power_curve,
        cp2: power.cp2,
        cp3: power.cp3,
        eftp: power.eftp,
        stale_ftp: power.stale_ftp,
        weekly: metrics::weekly::weekly(summaries, Some(chart_from), as_of),
        cross_training: metrics::cross_training::cross_training(summaries, as_of, period_weeks),
        notable_rides: notable_rides(rows, summaries, recent_from, as_of),
        athlete,
    })
}
