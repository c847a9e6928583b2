//! Sample-level data quality: the checks and repairs every decoded activity passes through
//! before any metric is computed.
//!
//! Real files are dirty: a power meter writes 21,733 W for four samples, an optical sensor locks
//! onto the cadence, a head unit's clock steps back an hour. One bad second would otherwise own
//! NP, TSS, the power curve, CP and every plan built on them. [`clean`] runs on the decoded
//! records of any format (it is called by [`crate::series::Series::from_activity`] and
//! [`crate::summarize`], the only ways into the 1 Hz series) and returns the repaired records
//! plus a [`Quality`] record of what was found, how many samples, where in the ride and what was
//! done. Clean files are borrowed untouched: the pass changes nothing on them.
//!
//! Each rule and its threshold is a named constant below; README "What the numbers mean" lists
//! them for users.

use std::borrow::Cow;

use ride::{Activity, Record, TimerEvent};
use serde::{Deserialize, Serialize};

use crate::series::{GAP_THRESHOLD_S, MOVING_SPEED_MPS};

/// Power above this is no human output (the highest measured sprint peaks are ≈ 2,500 W): the
/// sample is treated as missing.
pub const POWER_CEILING_W: u16 = 3_000;
/// A sample below this is never a spike, whatever its surroundings (a track stand into a
/// sprint goes from 0 to 1,000 W legitimately).
pub const SPIKE_FLOOR_W: f64 = 1_000.0;
/// A spike is above this multiple of the median power of its neighbourhood …
pub const SPIKE_RATIO: f64 = 4.0;
/// … in a burst of at most this many consecutive records (a real sprint is held longer, and
/// ramps up and down through intermediate values) …
pub const SPIKE_MAX_RUN: usize = 5;
/// … whose flanking records are back at ordinary power: at most this multiple of the median.
pub const SPIKE_FLANK_RATIO: f64 = 1.5;
/// Records on each side of a sample forming its neighbourhood for the median.
pub const SPIKE_WINDOW: usize = 15;
/// Heart rates outside `[HR_MIN_BPM, HR_MAX_BPM]` are no physiology: treated as missing. A
/// reading of 0 is a sensor dropout already treated as missing, and not reported.
pub const HR_MIN_BPM: u8 = 25;
pub const HR_MAX_BPM: u8 = 230;
/// Heart rate equal to cadence ±[`HR_CADENCE_TOLERANCE`] for at least this long is cross-talk
/// (a chest strap or optical sensor reading the pedalling rhythm): that HR is treated as missing.
pub const HR_CADENCE_LOCK_S: i64 = 60;
pub const HR_CADENCE_TOLERANCE: i16 = 1;
/// Positions implying a faster speed between consecutive records are a GPS jump (flagged only:
/// distance comes from the distance channel, not from positions).
pub const POSITION_MAX_SPEED_MPS: f64 = 50.0;
/// A step back of at least this many seconds that the following record confirms is a device
/// clock change (the later records are shifted to continue the ride); shorter steps back are
/// out-of-order records and dropped.
pub const CLOCK_STEP_BACK_S: i64 = 60;
/// A forward jump of at least this long with no timer event inside it is a device clock change:
/// the later records are shifted so the jump becomes an ordinary pause of [`GAP_THRESHOLD_S`]
/// (never bridged, and hours of elapsed time are not invented).
pub const CLOCK_JUMP_S: i64 = 3_600;
/// Zero power while moving and pedalling for at least this long is a power dropout (flagged
/// only: the rider may really be soft-pedalling with no chain tension).
pub const DROPOUT_MIN_S: i64 = 30;
/// Our average power and NP disagree with the device's own session value when they differ by
/// more than this many watts *and* this fraction (devices compute over their own timer segments:
/// long auto-pauses alone make 2.5–4 W, see README "How well it matches the devices").
pub const DEVICE_POWER_TOLERANCE_W: f64 = 5.0;
pub const DEVICE_POWER_TOLERANCE_FRAC: f64 = 0.05;
/// TSS disagrees when it differs by more than this many points *and* this fraction; compared
/// only when our FTP is the one the device used.
pub const DEVICE_TSS_TOLERANCE: f64 = 5.0;
pub const DEVICE_TSS_TOLERANCE_FRAC: f64 = 0.10;
/// Rides with fewer power-bearing seconds are not compared with the device: on a 2-minute file
/// a handful of seconds counted differently moves the average by tens of watts.
pub const DEVICE_MIN_POWER_S: f64 = 600.0;

/// What a quality rule found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// Records sharing a timestamp with the previous one (the later is dropped).
    DuplicateTimestamp,
    /// Out-of-order records, earlier than the previous one (dropped).
    TimestampBackwards,
    /// The device clock stepped back (later records shifted to continue).
    ClockStepBack,
    /// The device clock jumped forward by hours (later records shifted back).
    ClockJump,
    /// Power above [`POWER_CEILING_W`] (treated as missing).
    PowerAboveCeiling,
    /// Isolated spikes or short bursts far above their surroundings (treated as missing).
    PowerSpike,
    /// Long runs of zero power while moving and pedalling (flagged).
    PowerDropout,
    /// Heart rate outside the physiological range (treated as missing).
    HrOutOfRange,
    /// Heart rate locked to cadence (treated as missing).
    HrLockedToCadence,
    /// Consecutive positions implying an impossible speed (flagged).
    PositionJump,
    /// The distance channel running backwards (repaired to monotonic).
    DistanceBackwards,
    /// Our average power disagrees with the device's session value (flagged).
    DeviceAvgPower,
    /// Our NP disagrees with the device's session value (flagged).
    DeviceNp,
    /// Our TSS disagrees with the device's session value at the same FTP (flagged).
    DeviceTss,
}

impl IssueKind {
    /// A short plural noun phrase for text output, e.g. "power spikes".
    pub fn label(self) -> &'static str {
        match self {
            IssueKind::DuplicateTimestamp => "repeated timestamps",
            IssueKind::TimestampBackwards => "timestamps going backwards",
            IssueKind::ClockStepBack => "clock stepped back",
            IssueKind::ClockJump => "clock jumped forward",
            IssueKind::PowerAboveCeiling => "power above the ceiling",
            IssueKind::PowerSpike => "power spikes",
            IssueKind::PowerDropout => "power dropouts",
            IssueKind::HrOutOfRange => "heart rate out of range",
            IssueKind::HrLockedToCadence => "heart rate locked to cadence",
            IssueKind::PositionJump => "GPS position jumps",
            IssueKind::DistanceBackwards => "distance running backwards",
            IssueKind::DeviceAvgPower => "average power differs from the device",
            IssueKind::DeviceNp => "NP differs from the device",
            IssueKind::DeviceTss => "TSS differs from the device",
        }
    }
}

/// What was done about an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The values (or whole records) are treated as missing: no metric uses them.
    Dropped,
    /// The values were corrected (distance made monotonic).
    Repaired,
    /// Timestamps were shifted (device clock changes).
    Shifted,
    /// Reported only; the data is used as recorded.
    Flagged,
}

impl Action {
    /// True when the issue changed the data the metrics see.
    pub fn changes_data(self) -> bool {
        self != Action::Flagged
    }
}

/// One finding: a kind of problem, how many samples, where in the ride (seconds from the first
/// record; `None` for whole-ride comparisons) and what was done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    pub kind: IssueKind,
    pub action: Action,
    pub samples: u32,
    pub first_s: Option<i64>,
    pub last_s: Option<i64>,
    /// Device comparisons: our figure and the device's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ours: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<f64>,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Dropped => "treated as missing",
            Action::Repaired => "repaired",
            Action::Shifted => "timestamps shifted",
            Action::Flagged => "flagged only",
        })
    }
}

/// One line for people: "power spikes: 4 samples at 0:16:40–0:41:42, treated as missing", or
/// for a device comparison "NP differs from the device: ours 300.4, device 320.0, flagged only".
impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clock = |s: i64| format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60);
        write!(f, "{}: ", self.kind.label())?;
        if let (Some(o), Some(d)) = (self.ours, self.device) {
            write!(f, "ours {o:.1}, device {d:.1}")?;
        } else {
            let plural = if self.samples == 1 { "" } else { "s" };
            write!(f, "{} sample{plural}", self.samples)?;
            match (self.first_s, self.last_s) {
                (Some(a), Some(b)) if a != b => write!(f, " at {}–{}", clock(a), clock(b))?,
                (Some(a), _) => write!(f, " at {}", clock(a))?,
                _ => {}
            }
        }
        write!(f, ", {}", self.action)
    }
}

/// Where the elevation gain comes from (README "What the numbers mean").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElevationMethod {
    /// The device's session `total_ascent` (barometric on most head units).
    DeviceTotalAscent,
    /// The records' altitude with a 2 m hysteresis
    /// ([`crate::ride_summary::ELEVATION_HYSTERESIS_M`]).
    RecordsHysteresis,
}

/// The quality record of one activity. `issues` is ordered by kind; empty for a clean file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Quality {
    pub issues: Vec<Issue>,
    /// `None` when the activity has no elevation at all.
    pub elevation_method: Option<ElevationMethod>,
}

impl Quality {
    /// True when some issue changed the data the metrics were computed from.
    pub fn repaired(&self) -> bool {
        self.issues.iter().any(|i| i.action.changes_data())
    }

    /// True when some issue was reported without changing the data.
    pub fn flagged(&self) -> bool {
        self.issues.iter().any(|i| !i.action.changes_data())
    }

    /// The issue of one kind, if found.
    pub fn get(&self, kind: IssueKind) -> Option<&Issue> {
        self.issues.iter().find(|i| i.kind == kind)
    }

    /// The kinds found, in order: a compact form for tools and listings.
    pub fn kinds(&self) -> Vec<IssueKind> {
        self.issues.iter().map(|i| i.kind).collect()
    }

    fn push(&mut self, kind: IssueKind, action: Action, span: Span) {
        if span.samples > 0 {
            self.issues.push(Issue {
                kind,
                action,
                samples: span.samples,
                first_s: Some(span.first_s),
                last_s: Some(span.last_s),
                ours: None,
                device: None,
            });
        }
    }
}

/// Count and extent of the samples one rule hit.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    samples: u32,
    first_s: i64,
    last_s: i64,
}

impl Span {
    fn add(&mut self, offset_s: i64) {
        self.add_run(offset_s, offset_s, 1);
    }

    fn add_run(&mut self, first_s: i64, last_s: i64, samples: usize) {
        if self.samples == 0 {
            self.first_s = first_s;
        }
        self.first_s = self.first_s.min(first_s);
        self.last_s = self.last_s.max(last_s);
        self.samples = self
            .samples
            .saturating_add(u32::try_from(samples).unwrap_or(u32::MAX));
    }
}

/// An activity's records and timer events after the quality pass, with what it found.
#[derive(Debug, Clone)]
pub struct Cleaned<'a> {
    pub records: Cow<'a, [Record]>,
    pub timer_events: Cow<'a, [TimerEvent]>,
    pub quality: Quality,
}

/// Runs every sample-level rule on an activity and repairs what can be repaired (see the module
/// doc and the constants for the rules). Borrows the activity when nothing changes.
pub fn clean(activity: &Activity) -> Cleaned<'_> {
    let mut quality = Quality::default();
    let (mut records, timer_events) = timestamps(activity, &mut quality);
    let t0 = records.first().map_or(0, |r| r.t);

    let power = power_checks(&records, t0, &mut quality);
    let hr = hr_checks(&records, t0, &mut quality);
    // Start times of the sessions after the first, where the distance channel starts again.
    let mut sessions: Vec<i64> = activity
        .sessions
        .iter()
        .filter_map(|s| s.start_time.map(|t| t.as_second()))
        .collect();
    sessions.sort_unstable();
    let later_sessions = sessions.get(1..).unwrap_or_default();
    let distance = distance_check(&records, later_sessions, t0, &mut quality);
    position_check(&records, t0, &mut quality);
    dropout_check(&records, &power, t0, &mut quality);

    if !power.is_empty() || !hr.is_empty() || distance.is_some() {
        let rs = records.to_mut();
        for &i in &power {
            rs[i].power_w = None;
        }
        for &i in &hr {
            rs[i].heart_rate_bpm = None;
        }
        if let Some(d) = distance {
            for (r, d) in rs.iter_mut().zip(d) {
                r.distance_m = d;
            }
        }
    }
    quality.elevation_method = elevation_method(activity, &records);
    quality.issues.sort_by_key(|i| i.kind);
    Cleaned {
        records,
        timer_events,
        quality,
    }
}

/// Where [`crate::summarize`] takes the elevation gain from.
pub fn elevation_method(activity: &Activity, records: &[Record]) -> Option<ElevationMethod> {
    if activity.sessions.iter().any(|s| s.total_ascent_m.is_some()) {
        Some(ElevationMethod::DeviceTotalAscent)
    } else if records
        .iter()
        .any(|r| r.altitude_m.is_some_and(f32::is_finite))
    {
        Some(ElevationMethod::RecordsHysteresis)
    } else {
        None
    }
}

/// Repeated, backwards and jumping timestamps. Without any, the records are borrowed.
///
/// The series already keeps one sample per second; this pass makes the handling explicit and
/// recorded, and repairs device clock changes that would otherwise drop the rest of the ride
/// (a step back) or invent hours of elapsed time (a jump forward). Timer events from the change
/// on are shifted with the records so pauses stay where they were.
fn timestamps<'a>(
    activity: &'a Activity,
    q: &mut Quality,
) -> (Cow<'a, [Record]>, Cow<'a, [TimerEvent]>) {
    let rs = &activity.records;
    let ordered = rs.windows(2).all(|w| {
        let dt = w[1].t - w[0].t;
        dt > 0 && (dt < CLOCK_JUMP_S || timer_event_within(activity, w[0].t, w[1].t))
    });
    if ordered {
        return (
            Cow::Borrowed(rs.as_slice()),
            Cow::Borrowed(activity.timer_events.as_slice()),
        );
    }
    let t0 = rs.first().map_or(0, |r| r.t);
    let (mut dup, mut back, mut step, mut jump) = Default::default();
    let mut shifts: Vec<(i64, i64)> = Vec::new();
    let mut offset = 0i64;
    let mut out: Vec<Record> = Vec::with_capacity(rs.len());
    for (i, r) in rs.iter().enumerate() {
        let t = r.t + offset;
        if let Some(prev) = out.last() {
            let p = prev.t;
            let span_of = |p: i64| p - t0;
            if t == p {
                Span::add(&mut dup, span_of(p));
                continue;
            }
            if t < p {
                let confirmed = rs.get(i + 1).is_some_and(|n| n.t + offset < p);
                if p - t >= CLOCK_STEP_BACK_S && confirmed {
                    let delta = p + 1 - t;
                    Span::add(&mut step, span_of(p));
                    shifts.push((r.t, delta));
                    offset += delta;
                } else {
                    Span::add(&mut back, span_of(p));
                    continue;
                }
            } else if t - p >= CLOCK_JUMP_S && !timer_event_within(activity, prev.t, t) {
                let delta = GAP_THRESHOLD_S - (t - p);
                Span::add(&mut jump, span_of(p));
                shifts.push((r.t, delta));
                offset += delta;
            }
        }
        out.push(Record {
            t: r.t + offset,
            ..*r
        });
    }
    q.push(IssueKind::DuplicateTimestamp, Action::Dropped, dup);
    q.push(IssueKind::TimestampBackwards, Action::Dropped, back);
    q.push(IssueKind::ClockStepBack, Action::Shifted, step);
    q.push(IssueKind::ClockJump, Action::Shifted, jump);
    let events = if shifts.is_empty() {
        Cow::Borrowed(activity.timer_events.as_slice())
    } else {
        Cow::Owned(
            activity
                .timer_events
                .iter()
                .map(|e| {
                    let d: i64 = shifts
                        .iter()
                        .filter(|(at, _)| e.t >= *at)
                        .map(|s| s.1)
                        .sum();
                    TimerEvent { t: e.t + d, ..*e }
                })
                .collect(),
        )
    };
    (Cow::Owned(out), events)
}

/// True when a timer event lies in `(from, to]`: a long gap around a pause is no clock change.
fn timer_event_within(activity: &Activity, from: i64, to: i64) -> bool {
    activity
        .timer_events
        .iter()
        .any(|e| from < e.t && e.t <= to)
}

/// Power above the ceiling and spikes; returns the indices to treat as missing.
fn power_checks(rs: &[Record], t0: i64, q: &mut Quality) -> Vec<usize> {
    let mut ceiling = Span::default();
    let mut spike = Span::default();
    let mut out = Vec::new();
    let over = |r: &Record| r.power_w.is_some_and(|p| p > POWER_CEILING_W);
    for r in rs.iter().filter(|r| over(r)) {
        ceiling.add(r.t - t0);
    }
    out.extend((0..rs.len()).filter(|&i| over(&rs[i])));

    // Spikes: only samples above the floor are candidates, so the medians (the only costly part)
    // are computed for a handful of records per ride.
    let mut buf = Vec::with_capacity(2 * SPIKE_WINDOW + 1);
    let mut median_at = |i: usize| {
        buf.clear();
        let lo = i.saturating_sub(SPIKE_WINDOW);
        let hi = (i + SPIKE_WINDOW + 1).min(rs.len());
        buf.extend(
            rs[lo..hi]
                .iter()
                .filter_map(|r| r.power_w)
                .filter(|&p| p <= POWER_CEILING_W),
        );
        if buf.is_empty() {
            return 0.0;
        }
        let mid = buf.len() / 2;
        f64::from(*buf.select_nth_unstable(mid).1)
    };
    let mut i = 0;
    while i < rs.len() {
        let high = |r: &Record, median: f64| {
            over(r)
                || r.power_w.is_some_and(|p| {
                    let p = f64::from(p);
                    p > SPIKE_FLOOR_W && p > SPIKE_RATIO * median
                })
        };
        if !rs[i].power_w.is_some_and(|p| f64::from(p) > SPIKE_FLOOR_W) || over(&rs[i]) {
            i += 1;
            continue;
        }
        let median = median_at(i);
        if !high(&rs[i], median) {
            i += 1;
            continue;
        }
        // The burst: the maximal run of high samples around i (ceiling samples belong to it).
        let mut start = i;
        while start > 0 && high(&rs[start - 1], median) {
            start -= 1;
        }
        let mut end = i + 1;
        while end < rs.len() && high(&rs[end], median) {
            end += 1;
        }
        let flank_ok = |r: Option<&Record>| {
            r.and_then(|r| r.power_w)
                .is_none_or(|p| f64::from(p) <= SPIKE_FLANK_RATIO * median.max(1.0))
        };
        let isolated = end - start <= SPIKE_MAX_RUN
            && flank_ok(start.checked_sub(1).map(|s| &rs[s]))
            && flank_ok(rs.get(end));
        if isolated {
            for (k, r) in rs.iter().enumerate().take(end).skip(start) {
                if !over(r) {
                    spike.add(r.t - t0);
                    out.push(k);
                }
            }
        }
        i = end;
    }
    q.push(IssueKind::PowerAboveCeiling, Action::Dropped, ceiling);
    q.push(IssueKind::PowerSpike, Action::Dropped, spike);
    out
}

/// Heart rate out of range and locked to cadence; returns the indices to treat as missing.
fn hr_checks(rs: &[Record], t0: i64, q: &mut Quality) -> Vec<usize> {
    let mut range = Span::default();
    let mut lock = Span::default();
    let mut out = Vec::new();
    for (i, r) in rs.iter().enumerate() {
        if let Some(h) = r.heart_rate_bpm.filter(|&h| h > 0)
            && !(HR_MIN_BPM..=HR_MAX_BPM).contains(&h)
        {
            range.add(r.t - t0);
            out.push(i);
        }
    }
    let locked = |r: &Record| match (r.heart_rate_bpm, r.cadence_rpm) {
        (Some(h), Some(c)) if h > 0 && c > 0 => {
            (i16::from(h) - i16::from(c)).abs() <= HR_CADENCE_TOLERANCE
        }
        _ => false,
    };
    for (a, b) in runs(rs, locked) {
        if rs[b - 1].t - rs[a].t + 1 >= HR_CADENCE_LOCK_S {
            lock.add_run(rs[a].t - t0, rs[b - 1].t - t0, b - a);
            out.extend(a..b);
        }
    }
    q.push(IssueKind::HrOutOfRange, Action::Dropped, range);
    q.push(IssueKind::HrLockedToCadence, Action::Dropped, lock);
    out
}

/// Maximal runs `[a, b)` of consecutive records satisfying `f`.
fn runs(rs: &[Record], f: impl Fn(&Record) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, r) in rs.iter().enumerate() {
        match (f(r), start) {
            (true, None) => start = Some(i),
            (false, Some(a)) => {
                out.push((a, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        out.push((a, rs.len()));
    }
    out
}

/// Distance running backwards; returns the repaired (running maximum) distance channel when
/// something had to change. The running maximum keeps a single backwards glitch from eating the
/// distance ridden before it. FIT distance accumulates per session, so the maximum starts again
/// at each later session's start (a multisport file's run after its ride).
fn distance_check(
    rs: &[Record],
    sessions: &[i64],
    t0: i64,
    q: &mut Quality,
) -> Option<Vec<Option<f64>>> {
    let session_of = |t: i64| sessions.partition_point(|&s| s <= t);
    let mut span = Span::default();
    let mut max = f64::NEG_INFINITY;
    let mut session = 0;
    for r in rs {
        if session_of(r.t) != session {
            session = session_of(r.t);
            max = f64::NEG_INFINITY;
        }
        if let Some(d) = r.distance_m.filter(|d| d.is_finite()) {
            if d < max {
                span.add(r.t - t0);
            } else {
                max = d;
            }
        }
    }
    if span.samples == 0 {
        return None;
    }
    q.push(IssueKind::DistanceBackwards, Action::Repaired, span);
    let mut max = f64::NEG_INFINITY;
    let mut session = 0;
    Some(
        rs.iter()
            .map(|r| {
                if session_of(r.t) != session {
                    session = session_of(r.t);
                    max = f64::NEG_INFINITY;
                }
                r.distance_m.map(|d| {
                    if d.is_finite() {
                        max = max.max(d);
                        max
                    } else {
                        d
                    }
                })
            })
            .collect(),
    )
}

/// Positions implying an impossible speed (equirectangular distance: exact enough at the
/// hundreds of metres a jump spans, and no trigonometry per record but one cosine).
fn position_check(rs: &[Record], t0: i64, q: &mut Quality) {
    const EARTH_RADIUS_M: f64 = 6_371_000.0;
    let mut span = Span::default();
    let mut prev: Option<(i64, f64, f64)> = None;
    for r in rs {
        let (Some(lat), Some(lon)) = (r.lat_deg, r.lon_deg) else {
            continue;
        };
        if let Some((pt, plat, plon)) = prev {
            let k = ((lat + plat) / 2.0).to_radians().cos();
            let dx = (lon - plon).to_radians() * k;
            let dy = (lat - plat).to_radians();
            let dist = EARTH_RADIUS_M * dx.hypot(dy);
            if dist / (r.t - pt).max(1) as f64 > POSITION_MAX_SPEED_MPS {
                span.add(r.t - t0);
            }
        }
        prev = Some((r.t, lat, lon));
    }
    q.push(IssueKind::PositionJump, Action::Flagged, span);
}

/// Long runs of zero power while moving and pedalling (indices in `dropped` are already
/// missing power and do not count as zeros).
fn dropout_check(rs: &[Record], dropped: &[usize], t0: i64, q: &mut Quality) {
    let mut span = Span::default();
    let zero_pedalling = |r: &Record| {
        r.power_w == Some(0)
            && r.cadence_rpm.is_some_and(|c| c > 0)
            && r.speed_mps.is_none_or(|v| f64::from(v) > MOVING_SPEED_MPS)
    };
    for (a, b) in runs(rs, zero_pedalling) {
        if dropped.iter().any(|&i| a <= i && i < b) {
            continue;
        }
        if rs[b - 1].t - rs[a].t + 1 >= DROPOUT_MIN_S {
            span.add_run(rs[a].t - t0, rs[b - 1].t - t0, b - a);
        }
    }
    q.push(IssueKind::PowerDropout, Action::Flagged, span);
}

/// Compares our average power, NP and TSS with the device's own session values and records a
/// disagreement beyond the documented tolerances. Only single-session files are compared (a
/// multisport file's sessions cover different sports), and a device value of 0 is no value (a
/// COROS file writes 0 W summaries).
pub fn device_checks(activity: &Activity, ours: &crate::ActivitySummary, quality: &mut Quality) {
    let [session] = activity.sessions.as_slice() else {
        return;
    };
    if ours.power_s < DEVICE_MIN_POWER_S {
        return;
    }
    let device = |v: Option<f64>| v.filter(|v| v.is_finite() && *v > 0.0);
    let power_off = |a: f64, b: f64| {
        (a - b).abs() > DEVICE_POWER_TOLERANCE_W && (a - b).abs() > DEVICE_POWER_TOLERANCE_FRAC * b
    };
    let tss_off = |a: f64, b: f64| {
        (a - b).abs() > DEVICE_TSS_TOLERANCE && (a - b).abs() > DEVICE_TSS_TOLERANCE_FRAC * b
    };
    let same_ftp = ours
        .ftp_w
        .zip(device(session.threshold_power_w))
        .is_some_and(|(a, b)| (a - b).abs() < 0.5);
    let checks = [
        (
            IssueKind::DeviceAvgPower,
            ours.avg_power_w,
            device(session.avg_power_w),
            power_off as fn(f64, f64) -> bool,
        ),
        (
            IssueKind::DeviceNp,
            ours.np_w,
            device(session.normalized_power_w),
            power_off,
        ),
        (
            IssueKind::DeviceTss,
            ours.tss.filter(|_| same_ftp),
            device(session.training_stress_score),
            tss_off,
        ),
    ];
    for (kind, ours, device, off) in checks {
        if let (Some(o), Some(d)) = (ours, device)
            && off(o, d)
        {
            quality.issues.push(Issue {
                kind,
                action: Action::Flagged,
                samples: 0,
                first_s: None,
                last_s: None,
                ours: Some(o),
                device: Some(d),
            });
        }
    }
    quality.issues.sort_by_key(|i| i.kind);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ride::{Session, TimerEventKind};

    /// `n` records at 1 Hz from t = 1000 riding steadily: 200 W, 140 bpm, 90 rpm, 8 m/s.
    fn ride(n: i64) -> Activity {
        Activity {
            records: (0..n)
                .map(|i| Record {
                    t: 1000 + i,
                    power_w: Some(200),
                    heart_rate_bpm: Some(140),
                    cadence_rpm: Some(90),
                    speed_mps: Some(8.0),
                    distance_m: Some(8.0 * i as f64),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn issues_read_as_one_line() {
        let mut a = ride(4000);
        a.records[3700].power_w = Some(5000);
        a.records[3725].power_w = Some(5000);
        let q = clean(&a).quality;
        assert_eq!(
            q.issues[0].to_string(),
            "power above the ceiling: 2 samples at 1:01:40–1:02:05, treated as missing"
        );
    }

    fn only(q: &Quality) -> &Issue {
        assert_eq!(q.issues.len(), 1, "{q:#?}");
        &q.issues[0]
    }

    /// The single issue found, as (kind, action, samples, first_s, last_s).
    fn found(c: &Cleaned<'_>) -> (IssueKind, Action, u32, Option<i64>, Option<i64>) {
        let i = only(&c.quality);
        (i.kind, i.action, i.samples, i.first_s, i.last_s)
    }

    #[test]
    fn clean_ride_is_borrowed_and_unreported() {
        let a = ride(600);
        let c = clean(&a);
        assert!(matches!(c.records, Cow::Borrowed(_)));
        assert!(matches!(c.timer_events, Cow::Borrowed(_)));
        assert_eq!(c.quality, Quality::default());
    }

    #[test]
    fn power_above_the_ceiling_is_missing() {
        let mut a = ride(600);
        a.records[100].power_w = Some(21_733);
        a.records[101].power_w = Some(3_001);
        // Exactly the ceiling, held 10 s (too long for a spike): kept.
        for r in &mut a.records[300..310] {
            r.power_w = Some(POWER_CEILING_W);
        }
        let c = clean(&a);
        assert_eq!(
            found(&c),
            (
                IssueKind::PowerAboveCeiling,
                Action::Dropped,
                2,
                Some(100),
                Some(101)
            )
        );
        assert_eq!(c.records[100].power_w, None);
        assert_eq!(c.records[101].power_w, None);
        assert_eq!(c.records[300].power_w, Some(POWER_CEILING_W));
    }

    #[test]
    fn spike_rule_needs_a_short_burst_with_ordinary_flanks() {
        let mut a = ride(600);
        a.records[100].power_w = Some(1_500);
        for r in &mut a.records[200..203] {
            r.power_w = Some(2_000);
        }
        // Six samples: too long for a spike.
        for r in &mut a.records[300..306] {
            r.power_w = Some(2_000);
        }
        // A ramp on one side: a real effort.
        a.records[400].power_w = Some(700);
        a.records[401].power_w = Some(1_500);
        // Below the floor: never a spike.
        a.records[500].power_w = Some(990);
        let c = clean(&a);
        let i = only(&c.quality);
        assert_eq!(
            (i.kind, i.samples, i.first_s, i.last_s),
            (IssueKind::PowerSpike, 4, Some(100), Some(202))
        );
        assert_eq!(c.records[401].power_w, Some(1_500));
        assert_eq!(c.records[305].power_w, Some(2_000));
    }

    #[test]
    fn heart_rate_out_of_range_is_missing_and_zero_is_not_reported() {
        let mut a = ride(600);
        a.records[10].heart_rate_bpm = Some(24);
        a.records[20].heart_rate_bpm = Some(231);
        a.records[30].heart_rate_bpm = Some(0);
        a.records[40].heart_rate_bpm = Some(HR_MAX_BPM);
        let c = clean(&a);
        let i = only(&c.quality);
        assert_eq!(
            (i.kind, i.samples, i.first_s, i.last_s),
            (IssueKind::HrOutOfRange, 2, Some(10), Some(20))
        );
        assert_eq!(c.records[10].heart_rate_bpm, None);
        assert_eq!(c.records[40].heart_rate_bpm, Some(HR_MAX_BPM));
    }

    #[test]
    fn heart_rate_locked_to_cadence_for_a_minute_is_missing() {
        let mut a = ride(600);
        // 60 s equal to cadence ±1 from t = 100; 59 s from t = 300 is left alone.
        for (k, r) in a.records[100..160].iter_mut().enumerate() {
            r.cadence_rpm = Some(88 + (k % 3) as u8);
            r.heart_rate_bpm = Some(89);
        }
        for r in &mut a.records[300..359] {
            r.heart_rate_bpm = Some(90);
        }
        let c = clean(&a);
        assert_eq!(
            found(&c),
            (
                IssueKind::HrLockedToCadence,
                Action::Dropped,
                60,
                Some(100),
                Some(159)
            )
        );
        assert!(
            c.records[100..160]
                .iter()
                .all(|r| r.heart_rate_bpm.is_none())
        );
        assert_eq!(c.records[300].heart_rate_bpm, Some(90));
    }

    #[test]
    fn backwards_distance_is_repaired_to_monotonic() {
        let mut a = ride(100);
        a.records[50].distance_m = Some(10.0);
        a.records[51].distance_m = Some(12.0);
        let c = clean(&a);
        assert_eq!(
            found(&c),
            (
                IssueKind::DistanceBackwards,
                Action::Repaired,
                2,
                Some(50),
                Some(51)
            )
        );
        assert_eq!(c.records[50].distance_m, Some(8.0 * 49.0));
        assert_eq!(c.records[99].distance_m, Some(8.0 * 99.0));
        assert!(
            c.records
                .windows(2)
                .all(|w| w[1].distance_m >= w[0].distance_m)
        );
    }

    #[test]
    fn distance_starts_again_with_each_session() {
        let mut a = ride(100);
        for r in &mut a.records[50..] {
            r.distance_m = r.distance_m.map(|d| d - 400.0);
        }
        let start = |t| Some(jiff::Timestamp::from_second(t).unwrap());
        a.sessions = vec![
            Session {
                start_time: start(1000),
                ..Default::default()
            },
            Session {
                start_time: start(1050),
                ..Default::default()
            },
        ];
        assert_eq!(clean(&a).quality, Quality::default());
    }

    #[test]
    fn position_jumps_are_flagged() {
        let mut a = ride(10);
        for (k, r) in a.records.iter_mut().enumerate() {
            r.lat_deg = Some(45.0 + k as f64 * 0.000_07);
            r.lon_deg = Some(6.0);
        }
        // One fix 1° east (≈ 79 km) for one second, then back.
        a.records[5].lon_deg = Some(7.0);
        let c = clean(&a);
        assert_eq!(
            found(&c),
            (
                IssueKind::PositionJump,
                Action::Flagged,
                2,
                Some(5),
                Some(6)
            )
        );
    }

    #[test]
    fn repeated_and_out_of_order_timestamps_are_dropped() {
        let mut a = ride(10);
        a.records[3].t = a.records[2].t;
        a.records[6].t = a.records[4].t - 1;
        let c = clean(&a);
        let kinds = c.quality.kinds();
        assert_eq!(
            kinds,
            vec![IssueKind::DuplicateTimestamp, IssueKind::TimestampBackwards]
        );
        assert_eq!(c.records.len(), 8);
        assert!(c.records.windows(2).all(|w| w[1].t > w[0].t));
    }

    #[test]
    fn a_clock_step_back_keeps_the_rest_of_the_ride() {
        // 100 s, then the clock goes back an hour for the remaining 200 s, with a pause in it.
        let mut a = ride(300);
        for r in &mut a.records[100..] {
            r.t -= 3_600;
        }
        let pause = a.records[200].t;
        a.timer_events = vec![
            TimerEvent {
                t: pause,
                kind: TimerEventKind::Stop,
            },
            TimerEvent {
                t: pause + 1,
                kind: TimerEventKind::Start,
            },
        ];
        let c = clean(&a);
        let i = only(&c.quality);
        assert_eq!(
            (i.kind, i.action, i.samples, i.first_s),
            (IssueKind::ClockStepBack, Action::Shifted, 1, Some(99))
        );
        assert_eq!(c.records.len(), 300);
        assert_eq!(c.records[299].t, 1299);
        assert_eq!(c.timer_events[0].t, 1200);
    }

    #[test]
    fn a_clock_jump_forward_becomes_an_ordinary_pause() {
        let mut a = ride(200);
        for r in &mut a.records[100..] {
            r.t += 5 * 3_600;
        }
        let c = clean(&a);
        assert_eq!(only(&c.quality).kind, IssueKind::ClockJump);
        assert_eq!(c.records[100].t - c.records[99].t, GAP_THRESHOLD_S);
        // A long gap around a real timer stop is a pause, not a clock change.
        a.timer_events = vec![TimerEvent {
            t: a.records[99].t + 10,
            kind: TimerEventKind::Stop,
        }];
        assert_eq!(clean(&a).quality, Quality::default());
    }

    #[test]
    fn long_zero_power_while_pedalling_is_a_flagged_dropout() {
        let mut a = ride(600);
        for r in &mut a.records[100..130] {
            r.power_w = Some(0);
        }
        // 29 s is short enough to be soft pedalling; coasting (no cadence) is never a dropout.
        for r in &mut a.records[200..229] {
            r.power_w = Some(0);
        }
        for r in &mut a.records[300..400] {
            r.power_w = Some(0);
            r.cadence_rpm = Some(0);
        }
        let c = clean(&a);
        assert_eq!(
            found(&c),
            (
                IssueKind::PowerDropout,
                Action::Flagged,
                30,
                Some(100),
                Some(129)
            )
        );
        assert_eq!(c.records[100].power_w, Some(0));
    }

    #[test]
    fn device_disagreement_beyond_the_tolerance_is_flagged() {
        let mut a = ride(3_600);
        a.sessions = vec![Session {
            avg_power_w: Some(203.0),
            normalized_power_w: Some(230.0),
            training_stress_score: Some(120.0),
            threshold_power_w: Some(250.0),
            ..Default::default()
        }];
        let th = crate::Thresholds {
            ftp_w: Some(250.0),
            ..Default::default()
        };
        let (s, q) = crate::summarize_with_quality(&a, &th, &jiff::tz::TimeZone::UTC);
        assert_eq!(s.np_w, Some(200.0));
        // Average 200 vs 203: inside 5 W. NP 200 vs 230 and TSS 64 vs 120: outside.
        assert_eq!(q.kinds(), vec![IssueKind::DeviceNp, IssueKind::DeviceTss]);
        assert_eq!(q.get(IssueKind::DeviceNp).unwrap().device, Some(230.0));
        assert!(q.flagged() && !q.repaired());
        // Another FTP on the device: TSS is not comparable.
        a.sessions[0].threshold_power_w = Some(300.0);
        let (_, q) = crate::summarize_with_quality(&a, &th, &jiff::tz::TimeZone::UTC);
        assert_eq!(q.kinds(), vec![IssueKind::DeviceNp]);
    }
}
