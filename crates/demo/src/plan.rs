//! The season plan: which activity happens on which day, with which workout, under which FTP and
//! fatigue. Planned sequentially (fatigue and FTP tests depend on the past); every activity then
//! carries its own seed so the 1 Hz simulation can run in parallel.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::athlete::Athlete;
use crate::rng::{Rng, derive_seed};

/// What kind of activity, as the export and the FIT file classify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    OutdoorRide,
    VirtualRide,
    IndoorRide,
    Run,
    Strength,
}

impl Kind {
    pub fn is_ride(self) -> bool {
        matches!(
            self,
            Kind::OutdoorRide | Kind::VirtualRide | Kind::IndoorRide
        )
    }
}

/// The training purpose of a ride (runs and strength sessions have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workout {
    Recovery,
    Endurance,
    Long,
    SweetSpot,
    Threshold,
    Vo2max,
    Sprints,
    /// Anaerobic-capacity repeats: 30 s – 2 min well above VO2max power.
    Anaerobic,
    /// A fast group ride: endurance pace punctuated by surges, a hard sustained section and a
    /// sprint at the end.
    GroupRide,
    /// A race-pace hour (time trial or hill climb), ridden fresh at the end of a recovery week.
    Event,
    FtpTest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegKind {
    /// Free riding: power follows the terrain.
    Steady,
    /// A structured effort held at target.
    Interval,
    /// Easy spinning between efforts.
    Rest,
    /// All-out from the start: power follows the athlete's capacity model
    /// ([`crate::Athlete::all_out_w`]) scaled by `frac` (how hard the rider goes, ≤ 1).
    AllOut,
}

/// One part of a workout: `dur_s` seconds of moving time at `frac` × the athlete's true FTP
/// (for runs: × threshold running speed; for strength: work/rest blocks; for
/// [`SegKind::AllOut`]: × the capacity model). Interval targets above what the athlete can hold
/// for the segment's length are capped by the simulation at the capacity model.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub dur_s: u32,
    pub frac: f64,
    pub kind: SegKind,
}

/// One planned activity with everything the simulation needs.
#[derive(Debug, Clone)]
pub struct Planned {
    pub id: u64,
    pub date: Date,
    pub start: Timestamp,
    pub kind: Kind,
    pub workout: Option<Workout>,
    pub segments: Vec<Segment>,
    pub name: String,
    pub description: String,
    /// The athlete's real FTP on the day (drives the physiology).
    pub ftp_true_w: f64,
    /// The FTP configured on the device and in Strava that day (possibly stale).
    pub ftp_device_w: u16,
    /// HR suppression from accumulated fatigue, bpm.
    pub fatigue_bpm: f64,
    /// Fraction of target power the athlete can hold, from fatigue (≤ 1).
    pub performance: f64,
    pub temperature_c: f64,
    pub seed: u64,
}

/// The whole season.
#[derive(Debug, Clone)]
pub struct Season {
    pub start_date: Date,
    pub end_date: Date,
    pub weeks: usize,
    pub activities: Vec<Planned>,
    /// FTP settings the athlete applied (date from which each holds), oldest first.
    pub ftp_history: Vec<(Date, u16)>,
}

/// Dated points of the athlete's real FTP over the season (fraction of season, W): a build, a
/// mid-season plateau, a second build. Scaled by the athlete's start/end FTP.
fn true_ftp(a: &Athlete, f: f64) -> f64 {
    let pts = [
        (0.0, 0.0),
        (0.4, 0.55),
        (0.6, 0.58),
        (0.92, 1.0),
        (1.0, 1.0),
    ];
    let f = f.clamp(0.0, 1.0);
    let w = pts.windows(2).find(|w| f <= w[1].0).unwrap_or(&pts[3..5]);
    let (x0, y0) = w[0];
    let (x1, y1) = w[1];
    let y = y0 + (y1 - y0) * (f - x0) / (x1 - x0);
    a.ftp_start_w + (a.ftp_end_w - a.ftp_start_w) * y
}

/// Tests done after this fraction of the season are not applied to the profile: the athlete
/// "forgot", which is what makes the profile FTP stale by the end.
const FTP_UPDATES_STOP_AT: f64 = 0.45;

/// Mean daily temperature per month at the home location (°C).
const MONTH_TEMP_C: [f64; 12] = [
    8.0, 9.0, 12.0, 14.0, 18.0, 22.0, 25.0, 25.0, 21.0, 17.0, 12.0, 9.0,
];

fn is_winter(d: Date) -> bool {
    matches!(d.month(), 11 | 12 | 1 | 2)
}

/// Relative load of each week of a 3:1 block.
fn week_load(week: usize) -> f64 {
    [1.0, 1.1, 1.2, 0.6][week % 4]
}

/// Distributes `rides` over `weeks` in proportion to the weekly load (largest remainder), at most
/// `cap` a week. None when it cannot fit.
fn allocate(rides: usize, weeks: usize, cap: usize) -> Option<Vec<usize>> {
    let total: f64 = (0..weeks).map(week_load).sum();
    let exact: Vec<f64> = (0..weeks)
        .map(|w| rides as f64 * week_load(w) / total)
        .collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut left = rides - counts.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..weeks).collect();
    // Largest fractional part first; ties to the earlier week (stable sort), for determinism.
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for &w in order.iter().cycle().take(weeks * 2) {
        if left == 0 {
            break;
        }
        if counts[w] < cap {
            counts[w] += 1;
            left -= 1;
        }
    }
    (left == 0 && counts.iter().all(|&c| c <= cap)).then_some(counts)
}

/// Most rides in one week (doubles on the busiest days).
const MAX_RIDES_PER_WEEK: usize = 10;

/// Number of weeks needed for `rides` when `requested` is too few (or 0).
pub fn season_weeks(rides: usize, requested: usize) -> usize {
    let mut weeks = requested.max(1);
    while allocate(rides, weeks, MAX_RIDES_PER_WEEK).is_none() {
        weeks += 1;
    }
    weeks
}

/// Plans the season ending on `end_date`.
pub fn plan(a: &Athlete, seed: u64, rides: usize, weeks: usize, end_date: Date) -> Season {
    let weeks = season_weeks(rides, weeks);
    let counts = allocate(rides, weeks, MAX_RIDES_PER_WEEK).expect("season_weeks guarantees a fit");
    let days = (weeks * 7) as i64;
    let start_date = end_date
        .checked_sub((days - 1).days())
        .expect("season start within jiff's date range");
    let tz = TimeZone::get(a.timezone).expect("bundled tz database has the athlete's zone");
    let mut rng = Rng::new(derive_seed(seed, 0x5EA5_0000));

    let mut device_ftp = a.ftp_initial_w;
    let mut ftp_history = vec![(start_date, device_ftp)];
    let mut pending_ftp: Option<(Date, u16)> = None;
    let (mut atl, mut ctl) = (40.0f64, 45.0f64);
    let mut activities = Vec::new();
    let mut next_id: u64 = 10_400_000_000 + (seed % 1000) * 1_000_000;
    let mut recovery_weeks_seen = 0usize;

    for (week, &n_rides) in counts.iter().enumerate() {
        let recovery = week % 4 == 3;
        if recovery {
            recovery_weeks_seen += 1;
        }
        let load = week_load(week);
        // Ride slots by priority: (weekday offset from the week's first day, role).
        let week_start = start_date
            .checked_add(((week * 7) as i64).days())
            .expect("date in range");
        let mut slots: Vec<(usize, Workout)> =
            plan_ride_slots(week, recovery, recovery_weeks_seen, &mut rng);
        slots.truncate(n_rides);
        slots.sort_by_key(|s| s.0);

        for day_off in 0..7usize {
            let date = week_start
                .checked_add((day_off as i64).days())
                .expect("date in range");
            if let Some((d, v)) = pending_ftp
                && date >= d
            {
                device_ftp = v;
                ftp_history.push((d, v));
                pending_ftp = None;
            }
            let f = (date - start_date).get_days() as f64 / days.max(1) as f64;
            let ftp = true_ftp(a, f);
            let fatigue_tsb = (atl - ctl).max(0.0);
            let fatigue_bpm = (fatigue_tsb * 0.12).min(6.0);
            let performance = (1.0 - 0.002 * fatigue_tsb).max(0.94);
            let mut day_tss = 0.0;

            let mut todays: Vec<(Kind, Option<Workout>, i8, i8)> = Vec::new();
            let rides_today: Vec<Workout> = slots
                .iter()
                .filter(|s| s.0 == day_off)
                .map(|s| s.1)
                .collect();
            for (i, w) in rides_today.iter().enumerate() {
                let kind = ride_kind(date, *w, &mut rng);
                let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
                let (h, m) = if i > 0 {
                    (18, rng.int(0, 40) as i8)
                } else if weekend {
                    (8 + rng.int(0, 1) as i8, rng.int(0, 59) as i8)
                } else if kind == Kind::OutdoorRide && rng.chance(0.5) {
                    (7, rng.int(0, 30) as i8)
                } else if rng.chance(0.15) {
                    (12, rng.int(10, 40) as i8)
                } else {
                    (18, rng.int(15, 59) as i8)
                };
                todays.push((kind, Some(*w), h, m));
            }
            // Runs: weekly in winter, fortnightly otherwise, on a day without a key ride.
            let run_day = if is_winter(date) || week % 2 == 0 {
                0
            } else {
                99
            };
            if day_off == run_day || (day_off == 4 && is_winter(date) && !recovery) {
                todays.push((Kind::Run, None, 7, rng.int(0, 45) as i8));
            }
            // Strength: weekly from October to March, fortnightly otherwise.
            let strength_season = matches!(date.month(), 10 | 11 | 12 | 1 | 2 | 3);
            if day_off == 2 && (strength_season || week % 2 == 1) && !recovery {
                todays.push((Kind::Strength, None, 20, rng.int(0, 30) as i8));
            }
            todays.sort_by_key(|t| (t.2, t.3));

            for (kind, workout, h, m) in todays {
                let segments = build_segments(kind, workout, load, &mut rng);
                let local = date.at(h, m, rng.int(0, 59) as i8, 0);
                let start = local
                    .to_zoned_datetime(tz.clone())
                    .expect("local time resolves")
                    .timestamp();
                let tss = planned_tss(kind, &segments);
                day_tss += tss;
                let month_temp = MONTH_TEMP_C[(date.month() - 1) as usize];
                let temperature_c = match kind {
                    Kind::OutdoorRide | Kind::Run => {
                        month_temp + 3.0 * rng.normal() + if h >= 12 { 3.0 } else { -1.0 }
                    }
                    _ => 20.0 + rng.range(0.0, 3.0),
                };
                if workout == Some(Workout::FtpTest) && f < FTP_UPDATES_STOP_AT {
                    // Applied from the next day, rounded as people do.
                    let next = date.checked_add(1.day()).expect("date in range");
                    pending_ftp = Some((next, ((ftp / 5.0).round() * 5.0) as u16));
                }
                next_id += rng.int(20_000, 90_000);
                let (name, description) = naming(kind, workout, h, &segments, &mut rng);
                activities.push(Planned {
                    id: next_id,
                    date,
                    start,
                    kind,
                    workout,
                    segments,
                    name,
                    description,
                    ftp_true_w: ftp,
                    ftp_device_w: device_ftp,
                    fatigue_bpm,
                    performance,
                    temperature_c,
                    seed: derive_seed(seed, next_id),
                });
            }
            atl += (day_tss - atl) * (1.0 - (-1.0f64 / 7.0).exp());
            ctl += (day_tss - ctl) * (1.0 - (-1.0f64 / 42.0).exp());
        }
    }
    Season {
        start_date,
        end_date,
        weeks,
        activities,
        ftp_history,
    }
}

/// Ride slots of one week in priority order; the first `n` are used.
fn plan_ride_slots(
    week: usize,
    recovery: bool,
    recovery_weeks_seen: usize,
    rng: &mut Rng,
) -> Vec<(usize, Workout)> {
    // Day offsets: 0 Mon … 6 Sun (the season may start on any weekday; roles follow the offset).
    let rotation_a = [Workout::SweetSpot, Workout::Threshold, Workout::Vo2max];
    let rotation_b = [
        Workout::Sprints,
        Workout::Anaerobic,
        Workout::Vo2max,
        Workout::Threshold,
        Workout::Anaerobic,
        Workout::SweetSpot,
    ];
    // Every other build block's middle weekend is a group ride instead of a solo long ride.
    let weekend = if week % 8 == 5 || week % 8 == 2 {
        Workout::GroupRide
    } else {
        Workout::Long
    };
    let mut slots = if recovery {
        vec![
            (
                5,
                // Alternately a test and a race: both ridden fresh, after the easy days.
                if recovery_weeks_seen % 2 == 1 {
                    Workout::FtpTest
                } else {
                    Workout::Event
                },
            ),
            (1, Workout::Endurance),
            (3, Workout::Recovery),
            (6, Workout::Endurance),
            (2, Workout::Recovery),
            (4, Workout::Recovery),
            (0, Workout::Recovery),
        ]
    } else {
        vec![
            (5, weekend),
            (1, rotation_a[(week / 4 + week) % 3]),
            (3, rotation_b[(week / 4 + week) % 6]),
            (6, Workout::Endurance),
            (2, Workout::Endurance),
            (4, Workout::Recovery),
            (0, Workout::Recovery),
        ]
    };
    // Doubles (evening spins) for very dense seasons.
    for d in [2, 6, 1, 3] {
        slots.push((d, Workout::Recovery));
    }
    // Occasionally swap the two mid-week days so the pattern is not perfectly rigid.
    if rng.chance(0.2) {
        for s in slots.iter_mut().take(3) {
            s.0 = match s.0 {
                1 => 2,
                2 => 1,
                o => o,
            };
        }
    }
    slots
}

fn ride_kind(date: Date, w: Workout, rng: &mut Rng) -> Kind {
    let structured = !matches!(w, Workout::Endurance | Workout::Long | Workout::Recovery);
    if matches!(w, Workout::Long | Workout::GroupRide | Workout::Event) {
        return Kind::OutdoorRide;
    }
    let p_indoor = match (is_winter(date), structured) {
        (true, true) => 0.95,
        (true, false) => 0.35,
        (false, true) => 0.15,
        (false, false) => 0.05,
    };
    if rng.chance(p_indoor) {
        if rng.chance(0.6) {
            Kind::VirtualRide
        } else {
            Kind::IndoorRide
        }
    } else {
        Kind::OutdoorRide
    }
}

fn seg(min: f64, frac: f64, kind: SegKind) -> Segment {
    Segment {
        dur_s: (min * 60.0).round() as u32,
        frac,
        kind,
    }
}

fn build_segments(kind: Kind, w: Option<Workout>, load: f64, rng: &mut Rng) -> Vec<Segment> {
    use SegKind::*;
    match kind {
        Kind::Run => {
            let body = rng.range(25.0, 45.0) * load.min(1.1);
            let mut v = vec![
                seg(8.0, 0.66, Steady),
                seg(body, rng.range(0.72, 0.78), Steady),
            ];
            if rng.chance(0.3) {
                for _ in 0..4 {
                    v.push(seg(0.33, 0.98, Interval));
                    v.push(seg(1.5, 0.66, Rest));
                }
            }
            v.push(seg(5.0, 0.62, Steady));
            v
        }
        Kind::Strength => {
            let sets = rng.int(12, 18);
            let mut v = vec![seg(8.0, 0.0, Steady)];
            for _ in 0..sets {
                v.push(Segment {
                    dur_s: rng.int(35, 60) as u32,
                    frac: 1.0,
                    kind: Interval,
                });
                v.push(Segment {
                    dur_s: rng.int(80, 150) as u32,
                    frac: 0.0,
                    kind: Rest,
                });
            }
            v
        }
        _ => {
            let w = w.unwrap_or(Workout::Endurance);
            let outdoor = kind == Kind::OutdoorRide;
            let wu = seg(10.0 + rng.range(0.0, 5.0), 0.55, Steady);
            let cd = seg(8.0 + rng.range(0.0, 4.0), 0.5, Steady);
            let mut v = vec![wu];
            match w {
                Workout::Recovery => v.push(seg(rng.range(25.0, 45.0), 0.5, Steady)),
                Workout::Endurance => {
                    let minutes = rng.range(60.0, 120.0) * load;
                    let frac = rng.range(0.63, 0.7);
                    // Outdoors a rider rarely stays in zone 2: a climb pushed a bit, a sprint
                    // for a town sign.
                    let mut efforts = Vec::new();
                    if outdoor && rng.chance(0.5) {
                        efforts.push(seg(rng.range(5.0, 12.0), rng.range(0.82, 0.95), Interval));
                    }
                    if outdoor && rng.chance(0.35) {
                        for _ in 0..rng.int(1, 3) {
                            efforts.push(all_out(rng.int(6, 12), rng.range(0.85, 0.97)));
                        }
                    }
                    steady_with_efforts(&mut v, minutes, frac, efforts);
                }
                Workout::Long => {
                    let hours = (3.0 + 2.0 * rng.f64() * load / 1.2).clamp(3.0, 5.0);
                    let frac = rng.range(0.62, 0.68);
                    // Girona's climbs: a few sustained efforts, the odd one near threshold.
                    let mut efforts: Vec<Segment> = (0..rng.int(2, 4))
                        .map(|_| seg(rng.range(6.0, 20.0), rng.range(0.85, 1.02), Interval))
                        .collect();
                    if rng.chance(0.4) {
                        efforts.push(all_out(rng.int(8, 15), rng.range(0.88, 0.98)));
                    }
                    steady_with_efforts(&mut v, hours * 60.0 - 20.0, frac, efforts);
                }
                Workout::GroupRide => group_ride(&mut v, load, rng),
                Workout::Event => {
                    // Mostly maximal: targets above the hour capacity are capped by the
                    // simulation, so the result is the athlete's hour power of the day.
                    v.push(seg(10.0, 0.7, Steady));
                    v.push(all_out(10, 0.6));
                    v.push(seg(5.0, 0.6, Steady));
                    v.push(seg(rng.range(52.0, 64.0), 1.05, Interval));
                }
                Workout::SweetSpot => {
                    let (reps, len) =
                        *rng.pick(&[(3u32, 15.0), (2, 20.0), (4, 12.0), (2, 30.0), (3, 20.0)]);
                    intervals(&mut v, reps, len, rng.range(0.88, 0.93), 5.0);
                }
                Workout::Threshold => {
                    let (reps, len) = *rng.pick(&[(4u32, 8.0), (3, 10.0), (2, 15.0), (2, 20.0)]);
                    intervals(&mut v, reps, len, rng.range(0.97, 1.02), len / 2.0);
                }
                Workout::Vo2max => {
                    let (reps, len) = *rng.pick(&[(5u32, 4.0), (6, 3.0), (4, 5.0), (5, 5.0)]);
                    intervals(&mut v, reps, len, rng.range(1.1, 1.2), len);
                }
                Workout::Anaerobic => {
                    // (reps, seconds, × FTP): 30 s, 1 min and 2 min repeats, 4–5 min easy
                    // between so each one is near-maximal.
                    let (reps, secs, lo, hi) = *rng.pick(&[
                        (8u32, 30u32, 1.9, 2.2),
                        (6, 60, 1.6, 1.8),
                        (5, 120, 1.3, 1.45),
                    ]);
                    let frac = rng.range(lo, hi);
                    v.push(seg(10.0, 0.65, Steady));
                    for i in 0..reps {
                        v.push(Segment {
                            dur_s: secs,
                            frac,
                            kind: Interval,
                        });
                        if i + 1 < reps {
                            v.push(seg(if secs > 60 { 5.0 } else { 4.0 }, 0.5, Rest));
                        }
                    }
                }
                Workout::Sprints => {
                    v.push(seg(20.0, 0.65, Steady));
                    for _ in 0..8 {
                        v.push(all_out(rng.int(8, 15), rng.range(0.88, 1.0)));
                        v.push(Segment {
                            dur_s: 285,
                            frac: 0.55,
                            kind: Rest,
                        });
                    }
                    v.push(seg(15.0, 0.65, Steady));
                }
                Workout::FtpTest => {
                    v.push(seg(5.0, 1.1, Interval));
                    v.push(seg(10.0, 0.5, Rest));
                    v.push(seg(20.0, 1.05, Interval));
                }
            }
            v.push(cd);
            v
        }
    }
}

fn all_out(secs: u64, frac: f64) -> Segment {
    Segment {
        dur_s: secs as u32,
        frac,
        kind: SegKind::AllOut,
    }
}

/// `minutes` of riding at `frac` with `efforts` spread evenly through it (their time counts
/// towards the total, so the ride's length does not change).
fn steady_with_efforts(v: &mut Vec<Segment>, minutes: f64, frac: f64, efforts: Vec<Segment>) {
    let effort_s: u32 = efforts.iter().map(|e| e.dur_s).sum();
    let total_s = (minutes * 60.0).round() as u32;
    let steady_s = total_s.saturating_sub(effort_s).max(60);
    let pieces = efforts.len() as u32 + 1;
    for e in efforts {
        v.push(Segment {
            dur_s: steady_s / pieces,
            frac,
            kind: SegKind::Steady,
        });
        v.push(e);
    }
    v.push(Segment {
        dur_s: steady_s - steady_s / pieces * (pieces - 1),
        frac,
        kind: SegKind::Steady,
    });
}

/// A group ride: rolling out steady, then surges (attacks, short climbs), one sustained hard
/// section on the main climb, and a sprint for the town sign at the end.
fn group_ride(v: &mut Vec<Segment>, load: f64, rng: &mut Rng) {
    use SegKind::*;
    let frac = rng.range(0.68, 0.75);
    v.push(seg(rng.range(25.0, 40.0), frac, Steady));
    for _ in 0..rng.int(3, 5) {
        if rng.chance(0.5) {
            v.push(all_out(rng.int(20, 70), rng.range(0.88, 0.97)));
        } else {
            v.push(Segment {
                dur_s: rng.int(90, 300) as u32,
                frac: rng.range(1.2, 1.45),
                kind: Interval,
            });
        }
        v.push(seg(rng.range(8.0, 15.0), frac, Steady));
    }
    if rng.chance(0.5) {
        // The main climb raced flat out: capped at the athlete's capacity for its length.
        v.push(seg(rng.range(8.0, 15.0), 1.2, Interval));
    } else {
        v.push(seg(
            rng.range(20.0, 40.0) * load.min(1.1),
            rng.range(0.88, 0.95),
            Interval,
        ));
    }
    v.push(seg(rng.range(20.0, 40.0), frac, Steady));
    v.push(all_out(rng.int(10, 15), rng.range(0.9, 1.0)));
    v.push(seg(rng.range(15.0, 30.0), 0.6, Steady));
}

fn intervals(v: &mut Vec<Segment>, reps: u32, len_min: f64, frac: f64, rest_min: f64) {
    for i in 0..reps {
        v.push(seg(len_min, frac, SegKind::Interval));
        if i + 1 < reps {
            v.push(seg(rest_min, 0.5, SegKind::Rest));
        }
    }
}

/// Planned TSS: hours × intensity² × 100 per segment (runs and strength by a flat hourly rate).
fn planned_tss(kind: Kind, segments: &[Segment]) -> f64 {
    let hours: f64 = segments.iter().map(|s| f64::from(s.dur_s) / 3600.0).sum();
    match kind {
        Kind::Run => hours * 55.0,
        Kind::Strength => hours * 30.0,
        _ => segments
            .iter()
            .map(|s| {
                // All-out efforts are far above FTP whatever their `frac`; 1.5 is the cap.
                let x = if s.kind == SegKind::AllOut {
                    1.5
                } else {
                    s.frac.min(1.5)
                };
                f64::from(s.dur_s) / 3600.0 * x * x * 100.0
            })
            .sum(),
    }
}

fn time_of_day(h: i8) -> &'static str {
    match h {
        5..=10 => "Morning",
        11..=13 => "Lunch",
        14..=17 => "Afternoon",
        18..=20 => "Evening",
        _ => "Night",
    }
}

const DESCRIPTIONS: &[&str] = &[
    "Windy on the coast road, legs OK.",
    "Coffee stop in Banyoles ☕\nBack via Els Àngels.",
    "Felt \"flat\" today, cut the last effort short.",
    "Group ride, fast finish, sprint for the town sign!",
    "Rolled out easy\nthen tempo on the climbs\nthen home.",
    "New chain, shifting is perfect, finally.",
    "Hot, 2 bottles weren't enough; refill at the fountain in Amer.",
    "Rain for the last hour, 🌧️ still smiling.",
];

fn naming(
    kind: Kind,
    w: Option<Workout>,
    h: i8,
    segs: &[Segment],
    rng: &mut Rng,
) -> (String, String) {
    let tod = time_of_day(h);
    let interval_desc = || {
        let reps = segs.iter().filter(|s| s.kind == SegKind::Interval).count();
        let len = segs
            .iter()
            .find(|s| s.kind == SegKind::Interval)
            .map_or(0, |s| s.dur_s / 60);
        (reps, len)
    };
    let base = match (kind, w) {
        (Kind::Run, _) => format!("{tod} Run"),
        (Kind::Strength, _) => format!("{tod} Weight Training"),
        (_, Some(Workout::SweetSpot)) => {
            let (r, l) = interval_desc();
            format!("Sweet spot {r}x{l}")
        }
        (_, Some(Workout::Threshold)) => {
            let (r, l) = interval_desc();
            format!("Threshold {r}x{l}")
        }
        (_, Some(Workout::Vo2max)) => {
            let (r, l) = interval_desc();
            format!("VO2max {r}x{l}")
        }
        (_, Some(Workout::Sprints)) => "Sprints 8x10s".to_owned(),
        (_, Some(Workout::Anaerobic)) => {
            let reps = segs.iter().filter(|s| s.kind == SegKind::Interval).count();
            match segs.iter().find(|s| s.kind == SegKind::Interval) {
                Some(s) if s.dur_s < 60 => format!("Anaerobic {reps}x{}s", s.dur_s),
                Some(s) => format!("Anaerobic {reps}x{}min", s.dur_s / 60),
                None => "Anaerobic repeats".to_owned(),
            }
        }
        (_, Some(Workout::GroupRide)) => (*rng.pick(&[
            "Group ride",
            "Club ride, fast finish",
            "Saturday bunch ride",
        ]))
        .to_owned(),
        (_, Some(Workout::Event)) => (*rng.pick(&[
            "Club 40 km TT",
            "Rocacorba hill climb (race)",
            "Hill climb TT",
            "Time trial, Girona circuit",
        ]))
        .to_owned(),
        (_, Some(Workout::FtpTest)) => "FTP test 20 min".to_owned(),
        (_, Some(Workout::Long)) if rng.chance(0.3) => "Long ride, Girona loop".to_owned(),
        _ => format!("{tod} Ride"),
    };
    let name = match kind {
        Kind::VirtualRide => format!(
            "Zwift - {base} in {}",
            rng.pick(&["Watopia", "Makuri Islands", "France", "London"])
        ),
        _ => base,
    };
    let description = if matches!(kind, Kind::OutdoorRide | Kind::Run) && rng.chance(0.3) {
        (*rng.pick(DESCRIPTIONS)).to_owned()
    } else {
        String::new()
    };
    (name, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_recovery_weeks_are_lighter() {
        let c = allocate(220, 52, MAX_RIDES_PER_WEEK).unwrap();
        assert_eq!(c.iter().sum::<usize>(), 220);
        assert!(c[3] < c[2], "{c:?}");
        assert_eq!(season_weeks(1000, 52), season_weeks(1000, 0).max(52));
        assert!(season_weeks(1000, 52) > 52);
        assert_eq!(allocate(0, 4, 10).unwrap(), vec![0, 0, 0, 0]);
    }

    #[test]
    fn true_ftp_builds_plateaus_and_builds() {
        let a = Athlete::default();
        assert_eq!(true_ftp(&a, 0.0), a.ftp_start_w);
        assert_eq!(true_ftp(&a, 1.0), a.ftp_end_w);
        let plateau = true_ftp(&a, 0.6) - true_ftp(&a, 0.4);
        assert!(plateau.abs() < 1.0);
        assert!(true_ftp(&a, 0.8) > true_ftp(&a, 0.6));
    }
}
