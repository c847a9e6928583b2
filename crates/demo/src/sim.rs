//! 1 Hz simulation of one planned activity, and the summary a head unit would compute from it.
//!
//! Physiology (simple on purpose, but with the shapes real files have):
//! - power = target × (1 + AR(1) drift + white noise); on the road the target follows the
//!   gradient, and descents bring coasting (0 W) spells;
//! - heart rate approaches a power-dependent steady state with a first-order lag (τ 30 s rising,
//!   50 s falling), drifts upwards over long efforts (more in the heat) and sits lower when the
//!   athlete is fatigued;
//! - speed integrates the forces on rider + bike (drive, rolling resistance, gravity, drag) over
//!   a synthetic elevation profile; distance and altitude integrate speed;
//! - outdoor activities stop now and then (lights, a café on long rides): the device auto-pauses,
//!   so there are no records in the gap and timer stop/start events around it.

use jiff::Timestamp;
use ride::model::{Lap, Record, Session, TimerEvent, TimerEventKind};

use crate::athlete::Athlete;
use crate::plan::{Kind, Planned, SegKind};
use crate::rng::Rng;

const G: f64 = 9.81;
const RHO: f64 = 1.2;
const DRIVETRAIN_EFFICIENCY: f64 = 0.976;
/// Riders brake for corners: cap the descending speed.
const MAX_SPEED_MPS: f64 = 20.0;
const SOFT_MAX_SPEED_MPS: f64 = 14.5;

/// One simulated activity.
#[derive(Debug, Clone)]
pub struct Simulated {
    pub records: Vec<Record>,
    pub timer_events: Vec<TimerEvent>,
    /// Laps with the index of the first record after each (laps are written after their records).
    pub laps: Vec<(usize, Lap)>,
    pub summary: Summary,
}

/// The device-side summary (also the source of the CSV columns).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub elapsed_s: f64,
    pub timer_s: f64,
    pub distance_m: Option<f64>,
    pub avg_speed_mps: Option<f64>,
    pub max_speed_mps: Option<f64>,
    pub ascent_m: Option<f64>,
    pub descent_m: Option<f64>,
    pub alt_low_m: Option<f64>,
    pub alt_high_m: Option<f64>,
    pub max_grade_pct: Option<f64>,
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<f64>,
    pub np_w: Option<f64>,
    pub power_count: usize,
    pub work_j: Option<f64>,
    pub avg_hr: Option<f64>,
    pub max_hr: Option<f64>,
    pub avg_cadence: Option<f64>,
    pub max_cadence: Option<f64>,
    pub avg_temp: Option<f64>,
    pub max_temp: Option<f64>,
    pub calories: f64,
    pub relative_effort: Option<f64>,
    pub steps: Option<f64>,
}

/// A synthetic terrain: altitude as a sum of sinusoids along the route distance.
struct Terrain {
    base: f64,
    waves: Vec<(f64, f64, f64)>, // (wavelength m, amplitude m, phase)
}

impl Terrain {
    fn new(rng: &mut Rng, hilliness: f64, base: f64) -> Terrain {
        let waves = vec![
            (
                rng.range(6000.0, 10000.0),
                35.0 * hilliness,
                rng.range(0.0, std::f64::consts::TAU),
            ),
            (
                rng.range(2500.0, 4000.0),
                12.0 * hilliness,
                rng.range(0.0, std::f64::consts::TAU),
            ),
            (
                rng.range(900.0, 1400.0),
                3.0 * hilliness,
                rng.range(0.0, std::f64::consts::TAU),
            ),
        ];
        Terrain { base, waves }
    }
    fn altitude(&self, x: f64) -> f64 {
        self.base
            + self
                .waves
                .iter()
                .map(|&(l, a, p)| a * ((std::f64::consts::TAU * x / l + p).sin() - p.sin()))
                .sum::<f64>()
    }
    /// dz/dx (rise over run).
    fn grade(&self, x: f64) -> f64 {
        self.waves
            .iter()
            .map(|&(l, a, p)| {
                a * std::f64::consts::TAU / l * (std::f64::consts::TAU * x / l + p).cos()
            })
            .sum()
    }
}

/// A closed loop around home whose length matches the expected distance, so the track returns.
struct Route {
    lat0: f64,
    lon0: f64,
    radius: f64,
    rot: f64,
    wobble: f64,
    wobble_phase: f64,
}

impl Route {
    fn new(a: &Athlete, rng: &mut Rng, expected_m: f64) -> Route {
        Route {
            lat0: a.home_lat,
            lon0: a.home_lon,
            radius: expected_m.max(2000.0) / std::f64::consts::TAU,
            rot: rng.range(0.0, std::f64::consts::TAU),
            wobble: rng.range(0.05, 0.2),
            wobble_phase: rng.range(0.0, std::f64::consts::TAU),
        }
    }
    fn position(&self, dist: f64) -> (f64, f64) {
        let theta = dist / self.radius;
        let r = self.radius * (1.0 + self.wobble * (3.0 * theta + self.wobble_phase).sin());
        let r0 = self.radius * (1.0 + self.wobble * self.wobble_phase.sin());
        // Centre offset so that theta = 0 is home.
        let (x, y) = (
            r * (theta + self.rot).cos() - r0 * self.rot.cos(),
            r * (theta + self.rot).sin() - r0 * self.rot.sin(),
        );
        let lat = self.lat0 + y / 111_320.0;
        let lon = self.lon0 + x / (111_320.0 * self.lat0.to_radians().cos());
        (lat, lon)
    }
}

/// Planned stops in moving-time seconds: (offset, pause seconds).
fn plan_stops(p: &Planned, total: u32, rng: &mut Rng) -> Vec<(u32, u32)> {
    let mut stops = Vec::new();
    if !matches!(p.kind, Kind::OutdoorRide | Kind::Run) || total < 1800 {
        return stops;
    }
    let n = rng.int(0, if p.kind == Kind::Run { 1 } else { 3 });
    for _ in 0..n {
        stops.push((
            rng.int(600, u64::from(total) - 600) as u32,
            rng.int(12, 150) as u32,
        ));
    }
    if p.kind == Kind::OutdoorRide && total > 9000 {
        stops.push((
            (f64::from(total) * rng.range(0.5, 0.6)) as u32,
            rng.int(600, 1200) as u32,
        ));
    }
    stops.sort_unstable();
    stops.dedup_by_key(|s| s.0);
    stops
}

pub fn simulate(p: &Planned, a: &Athlete) -> Simulated {
    let mut rng = Rng::new(p.seed);
    let total: u32 = p.segments.iter().map(|s| s.dur_s).sum();
    let stops = plan_stops(p, total, &mut rng);
    let outdoor = matches!(p.kind, Kind::OutdoorRide | Kind::Run);
    let has_distance = p.kind != Kind::IndoorRide && p.kind != Kind::Strength;
    let hilliness = match p.kind {
        Kind::OutdoorRide => {
            rng.range(0.5, 1.2)
                * if p.workout == Some(crate::plan::Workout::Long) {
                    1.2
                } else {
                    1.0
                }
        }
        Kind::Run => rng.range(0.3, 0.7),
        _ => rng.range(0.3, 0.6),
    };
    let base_alt = if outdoor {
        rng.range(80.0, 180.0)
    } else {
        20.0
    };
    let terrain = Terrain::new(&mut rng, hilliness, base_alt);
    let expected_speed = if p.kind == Kind::Run { 3.0 } else { 7.8 };
    let route = Route::new(a, &mut rng, f64::from(total) * expected_speed);

    let start = p.start.as_second();
    let mut records = Vec::with_capacity(total as usize);
    let mut timer_events = vec![];
    let mut laps = vec![];
    let (mut elapsed_off, mut dist, mut v) = (0i64, 0.0f64, 0.0f64);
    let mut hr = f64::from(a.resting_hr_bpm) + 22.0;
    let mut drift = 0.0f64;
    let (mut ar, mut coasting) = (0.0f64, false);
    let heat = 1.0 + (p.temperature_c - 20.0).max(0.0) / 15.0;
    let mass = a.weight_kg + a.bike_kg;
    let hr_floor = f64::from(a.resting_hr_bpm) + 20.0;
    let lthr = f64::from(a.lthr_bpm);
    let max_hr = f64::from(a.max_hr_bpm);
    let mut stop_iter = stops.iter().peekable();

    let mut k: u32 = 0;
    for s in &p.segments {
        let lap_first = records.len();
        let lap_start_t = start + elapsed_off + i64::from(k);
        // Nobody holds more than their power-duration capacity for the interval's length:
        // over-ambitious targets become maximal efforts.
        let seg_cap = a.capacity_w(p.ftp_true_w, f64::from(s.dur_s));
        for j in 0..s.dur_s {
            if let Some(&&(at, pause)) = stop_iter.peek()
                && at == k
            {
                stop_iter.next();
                let t_stop = start + elapsed_off + i64::from(k);
                timer_events.push(TimerEvent {
                    t: t_stop,
                    kind: TimerEventKind::Stop,
                });
                elapsed_off += i64::from(pause);
                timer_events.push(TimerEvent {
                    t: start + elapsed_off + i64::from(k),
                    kind: TimerEventKind::Start,
                });
                v = 0.0;
                hr = hr_floor + (hr - hr_floor) * (-f64::from(pause) / 60.0).exp();
            }
            let t = start + elapsed_off + i64::from(k);
            let rec = match p.kind {
                Kind::Run => {
                    let grade = terrain.grade(dist);
                    let target_v = s.frac * a.run_threshold_mps * p.performance;
                    v +=
                        ((target_v * (1.0 - 3.0 * grade)).max(1.5) - v) * 0.2 + 0.03 * rng.normal();
                    v = v.clamp(1.0, 7.0);
                    dist += v;
                    let effort = v * (1.0 + 4.0 * grade) / a.run_threshold_mps;
                    let ss = 72.0 + (lthr + 4.0 - 72.0) * effort + drift - p.fatigue_bpm;
                    drift += 0.0008 * effort * heat;
                    hr_step(&mut hr, ss.min(max_hr - 1.0));
                    let (lat, lon) = route.position(dist);
                    Record {
                        t,
                        heart_rate_bpm: Some(hr_out(hr, &mut rng, max_hr)),
                        cadence_rpm: Some(
                            (84.0 + 6.0 * (v - 3.0) + rng.normal())
                                .clamp(70.0, 100.0)
                                .round() as u8,
                        ),
                        speed_mps: Some(v as f32),
                        distance_m: Some(dist),
                        altitude_m: Some(terrain.altitude(dist) as f32),
                        lat_deg: Some(lat),
                        lon_deg: Some(lon),
                        temperature_c: Some(p.temperature_c.round() as i8),
                        power_w: None,
                    }
                }
                Kind::Strength => {
                    let ss = match s.kind {
                        SegKind::Interval => 128.0 + 12.0 * (f64::from(j) / f64::from(s.dur_s)),
                        SegKind::Steady => 95.0,
                        _ => 98.0,
                    };
                    hr_step(&mut hr, ss - p.fatigue_bpm);
                    Record {
                        t,
                        heart_rate_bpm: Some(hr_out(hr, &mut rng, max_hr)),
                        ..Default::default()
                    }
                }
                _ => {
                    let grade = if has_distance {
                        terrain.grade(dist)
                    } else {
                        0.0
                    };
                    let ftp = p.ftp_true_w;
                    let (target, noise_scale) = match s.kind {
                        SegKind::Steady if has_distance => {
                            // Coasting spells: common on descents, rare on the flat.
                            let (p_start, p_stop) = if grade < -0.03 {
                                (0.15, 0.08)
                            } else {
                                (0.002, 0.35)
                            };
                            coasting = if coasting {
                                !rng.chance(p_stop)
                            } else {
                                rng.chance(p_start)
                            };
                            let mult = (1.0 + 3.0 * grade).clamp(0.5, 1.35);
                            (s.frac * ftp * mult, 1.0)
                        }
                        SegKind::Steady | SegKind::Rest => {
                            coasting = false;
                            (s.frac * ftp, 0.8)
                        }
                        SegKind::Interval => {
                            coasting = false;
                            // Indoors the trainer holds the target (ERG); outdoors the terrain nudges it.
                            // Efforts at or above FTP are paced evenly (tests, VO2max).
                            let mult = if outdoor && s.frac < 1.0 {
                                (1.0 + 1.5 * grade).clamp(0.9, 1.1)
                            } else {
                                1.0
                            };
                            ((s.frac * ftp).min(seg_cap) * mult * p.performance, 0.5)
                        }
                        SegKind::AllOut => {
                            coasting = false;
                            // The first pedal strokes from a rolling start build up to the peak.
                            let jump = if j == 0 { 0.85 } else { 1.0 };
                            let w = a.all_out_w(ftp, f64::from(j) + 0.5);
                            (s.frac * w * jump * p.performance, 0.6)
                        }
                    };
                    ar = 0.92 * ar + 0.035 * noise_scale * rng.normal();
                    let watts = if coasting {
                        0.0
                    } else {
                        target * (1.0 + ar + 0.03 * noise_scale * rng.normal())
                    };
                    // Noise must not lift an all-out effort above what the legs can do.
                    let ceiling = if s.kind == SegKind::AllOut {
                        1.02 * a.all_out_w(ftp, f64::from(j) + 0.5)
                    } else {
                        1800.0
                    };
                    let watts = watts.clamp(0.0, ceiling).round();
                    let cadence = if watts == 0.0 {
                        0.0
                    } else if s.kind == SegKind::AllOut && j < 20 {
                        108.0 + 3.0 * rng.normal()
                    } else {
                        (84.0 + 12.0 * (watts / ftp - 0.7) - 25.0 * grade.max(0.0)
                            + 3.0 * rng.normal())
                        .clamp(55.0, 125.0)
                    };
                    // Heart rate from power: linear in P/FTP up to LTHR at FTP.
                    let x = watts / ftp;
                    drift += 0.0007 * x.min(1.2) * heat;
                    let ss = hr_floor + (lthr - hr_floor) * x + drift - p.fatigue_bpm;
                    hr_step(&mut hr, ss.min(max_hr - 1.0));
                    let mut rec = Record {
                        t,
                        power_w: Some(watts as u16),
                        heart_rate_bpm: Some(hr_out(hr, &mut rng, max_hr)),
                        cadence_rpm: Some(cadence.round() as u8),
                        temperature_c: Some(p.temperature_c.round() as i8),
                        ..Default::default()
                    };
                    if has_distance {
                        let theta = grade.atan();
                        let drive = DRIVETRAIN_EFFICIENCY * watts / v.max(2.0);
                        let resist = mass * G * (a.crr * theta.cos() + theta.sin())
                            + 0.5 * RHO * a.cda_m2 * v * v;
                        v = (v + (drive - resist) / mass).max(0.0);
                        // Braking for corners: bleed off speed above a comfortable limit.
                        if v > SOFT_MAX_SPEED_MPS {
                            v -= (v - SOFT_MAX_SPEED_MPS) * 0.3;
                        }
                        v = v.min(MAX_SPEED_MPS);
                        dist += v;
                        rec.speed_mps = Some(v as f32);
                        rec.distance_m = Some(dist);
                        rec.altitude_m = Some(terrain.altitude(dist) as f32);
                        if outdoor {
                            let (lat, lon) = route.position(dist);
                            rec.lat_deg = Some(lat);
                            rec.lon_deg = Some(lon);
                        }
                    }
                    rec
                }
            };
            records.push(rec);
            k += 1;
        }
        if records.len() > lap_first {
            let end_t = records.last().map_or(lap_start_t, |r| r.t);
            let lap = lap_from(&records[lap_first..], lap_start_t, end_t + 1);
            laps.push((records.len(), lap));
        }
    }
    let summary = summarize(p, a, &records);
    Simulated {
        records,
        timer_events,
        laps,
        summary,
    }
}

fn hr_step(hr: &mut f64, ss: f64) {
    let tau = if ss > *hr { 30.0 } else { 50.0 };
    *hr += (ss - *hr) / tau;
}

fn hr_out(hr: f64, rng: &mut Rng, max_hr: f64) -> u8 {
    (hr + 0.7 * rng.normal()).clamp(40.0, max_hr).round() as u8
}

/// Standard NP: 30-sample trailing mean from the 30th sample, 4th-power mean, 4th root.
pub fn normalized_power(power: &[f64]) -> Option<f64> {
    if power.len() < 30 {
        return None;
    }
    let mut sum: f64 = power[..30].iter().sum();
    let mut acc = (sum / 30.0).powi(4);
    for i in 30..power.len() {
        sum += power[i] - power[i - 30];
        acc += (sum / 30.0).max(0.0).powi(4);
    }
    Some((acc / (power.len() - 29) as f64).powf(0.25))
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

fn max(xs: impl Iterator<Item = f64>) -> Option<f64> {
    xs.fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
}

fn lap_from(recs: &[Record], start_t: i64, end_t: i64) -> Lap {
    let power: Vec<f64> = recs
        .iter()
        .filter_map(|r| r.power_w.map(f64::from))
        .collect();
    let d0 = recs.first().and_then(|r| r.distance_m);
    let d1 = recs.last().and_then(|r| r.distance_m);
    let timer = recs.len() as f64;
    let dist = d0
        .zip(d1)
        .map(|(a, b)| b - a + f64::from(recs[0].speed_mps.unwrap_or(0.0)));
    Lap {
        start_time: Timestamp::from_second(start_t).ok(),
        end_time: Timestamp::from_second(end_t).ok(),
        total_elapsed_time_s: Some((end_t - start_t) as f64),
        total_timer_time_s: Some(timer),
        total_distance_m: dist,
        avg_power_w: mean(power.iter().copied()).map(f64::round),
        max_power_w: max(power.iter().copied()),
        normalized_power_w: normalized_power(&power).map(f64::round),
        avg_heart_rate_bpm: mean(recs.iter().filter_map(|r| r.heart_rate_bpm.map(f64::from)))
            .map(f64::round),
        max_heart_rate_bpm: max(recs.iter().filter_map(|r| r.heart_rate_bpm.map(f64::from))),
        avg_cadence_rpm: mean(
            recs.iter()
                .filter_map(|r| r.cadence_rpm.filter(|&c| c > 0).map(f64::from)),
        )
        .map(f64::round),
        avg_speed_mps: dist.map(|d| d / timer.max(1.0)),
        total_ascent_m: ascent(recs).map(|(up, _)| up.round()),
    }
}

/// Total ascent and descent from the altitude series.
fn ascent(recs: &[Record]) -> Option<(f64, f64)> {
    let alts: Vec<f64> = recs
        .iter()
        .filter_map(|r| r.altitude_m.map(f64::from))
        .collect();
    if alts.is_empty() {
        return None;
    }
    let (mut up, mut down) = (0.0, 0.0);
    for w in alts.windows(2) {
        let d = w[1] - w[0];
        if d > 0.0 { up += d } else { down -= d }
    }
    Some((up, down))
}

fn summarize(p: &Planned, a: &Athlete, recs: &[Record]) -> Summary {
    let first = recs.first().map_or(p.start.as_second(), |r| r.t);
    let last = recs.last().map_or(first, |r| r.t);
    let timer_s = recs.len() as f64;
    let power: Vec<f64> = recs
        .iter()
        .filter_map(|r| r.power_w.map(f64::from))
        .collect();
    let distance_m = recs.last().and_then(|r| r.distance_m);
    let hr = || recs.iter().filter_map(|r| r.heart_rate_bpm.map(f64::from));
    let avg_hr = mean(hr());
    let work_j = (!power.is_empty()).then(|| power.iter().sum::<f64>());
    let (ascent_m, descent_m) = match ascent(recs) {
        Some((u, d)) => (Some(u), Some(d)),
        None => (None, None),
    };
    let alts = || recs.iter().filter_map(|r| r.altitude_m.map(f64::from));
    // Grade over 100 m stretches, as displayed by Strava (avoids 1 s noise).
    let max_grade_pct = {
        let pts: Vec<(f64, f64)> = recs
            .iter()
            .filter_map(|r| r.distance_m.zip(r.altitude_m.map(f64::from)))
            .collect();
        let mut best: Option<f64> = None;
        let mut j = 0;
        for i in 0..pts.len() {
            while j < pts.len() && pts[j].0 - pts[i].0 < 100.0 {
                j += 1;
            }
            if j < pts.len() {
                let g = (pts[j].1 - pts[i].1) / (pts[j].0 - pts[i].0) * 100.0;
                best = Some(best.map_or(g, |b: f64| b.max(g)));
            }
        }
        best
    };
    let hr_rest = f64::from(a.resting_hr_bpm);
    let hr_max = f64::from(a.max_hr_bpm);
    // Relative effort: Banister TRIMP (male weighting) scaled to Strava-like numbers.
    let relative_effort = avg_hr.map(|_| {
        hr().map(|h| {
            let x = ((h - hr_rest) / (hr_max - hr_rest)).clamp(0.0, 1.0);
            x * 0.64 * (1.92 * x).exp() / 60.0
        })
        .sum::<f64>()
            * 0.6
    });
    let calories = match p.kind {
        Kind::Run => distance_m.unwrap_or(0.0) / 1000.0 * a.weight_kg * 1.0,
        Kind::Strength => timer_s / 60.0 * 6.0,
        // ~24 % gross efficiency: kcal ≈ kJ of work.
        _ => work_j.unwrap_or(0.0) / 1000.0 * 1.0,
    };
    Summary {
        elapsed_s: (last - first + 1) as f64,
        timer_s,
        distance_m,
        avg_speed_mps: distance_m.map(|d| d / timer_s.max(1.0)),
        max_speed_mps: max(recs.iter().filter_map(|r| r.speed_mps.map(f64::from))),
        ascent_m,
        descent_m,
        alt_low_m: alts().reduce(f64::min),
        alt_high_m: alts().reduce(f64::max),
        max_grade_pct,
        avg_power_w: mean(power.iter().copied()),
        max_power_w: max(power.iter().copied()),
        np_w: normalized_power(&power),
        power_count: power.len(),
        work_j,
        avg_hr,
        max_hr: max(hr()),
        avg_cadence: mean(
            recs.iter()
                .filter_map(|r| r.cadence_rpm.filter(|&c| c > 0).map(f64::from)),
        ),
        max_cadence: max(recs.iter().filter_map(|r| r.cadence_rpm.map(f64::from))),
        avg_temp: mean(recs.iter().filter_map(|r| r.temperature_c.map(f64::from))),
        max_temp: max(recs.iter().filter_map(|r| r.temperature_c.map(f64::from))),
        calories,
        relative_effort,
        steps: (p.kind == Kind::Run).then(|| timer_s / 60.0 * 2.0 * 85.0),
    }
}

/// The FIT `session` for a simulated activity, with device-style rounding: NP to the watt,
/// IF from the rounded NP, TSS = timer h × IF² × 100.
pub fn session(p: &Planned, sim: &Simulated) -> Session {
    let s = &sim.summary;
    let ftp = f64::from(p.ftp_device_w);
    let np = s.np_w.map(f64::round);
    // Devices store IF to 3 decimals and derive TSS from the stored value.
    let intensity = np.map(|np| (np / ftp * 1000.0).round() / 1000.0);
    let tss = intensity.map(|i| s.timer_s / 3600.0 * i * i * 100.0);
    let (fit_sport, fit_sub_sport) = crate::fit_sport(p.kind).names();
    Session {
        start_time: Some(p.start),
        fit_sport: fit_sport.map(str::to_owned),
        fit_sub_sport: fit_sub_sport.map(str::to_owned),
        sport: None,
        total_elapsed_time_s: Some(s.elapsed_s),
        total_timer_time_s: Some(s.timer_s),
        total_distance_m: s.distance_m,
        total_ascent_m: s.ascent_m.map(f64::round),
        total_work_j: s.work_j,
        total_calories_kcal: Some(s.calories.round()),
        avg_power_w: s.avg_power_w.map(f64::round),
        max_power_w: s.max_power_w,
        normalized_power_w: np,
        training_stress_score: tss,
        intensity_factor: intensity,
        threshold_power_w: p.kind.is_ride().then_some(ftp),
        avg_heart_rate_bpm: s.avg_hr.map(f64::round),
        max_heart_rate_bpm: s.max_hr,
        avg_cadence_rpm: s.avg_cadence.map(f64::round),
        avg_speed_mps: s.avg_speed_mps,
        max_speed_mps: s.max_speed_mps,
        num_laps: Some(sim.laps.len() as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn np_of_constant_power_is_that_power_and_intervals_raise_it() {
        assert_eq!(normalized_power(&[200.0; 29]), None);
        assert!((normalized_power(&[200.0; 600]).unwrap() - 200.0).abs() < 1e-9);
        let mut v = vec![100.0; 300];
        v.extend(vec![300.0; 300]);
        let np = normalized_power(&v).unwrap();
        assert!(np > 200.0 && np < 300.0, "{np}");
    }

    #[test]
    fn terrain_grade_is_the_derivative_of_altitude() {
        let mut rng = Rng::new(3);
        let t = Terrain::new(&mut rng, 1.0, 100.0);
        assert_eq!(t.altitude(0.0), 100.0);
        for x in [10.0, 1234.0, 9876.0] {
            let numeric = (t.altitude(x + 0.5) - t.altitude(x - 0.5)) / 1.0;
            assert!((numeric - t.grade(x)).abs() < 1e-4);
        }
    }
}
