//! FIT writing: activity files (for the demo season and tests) and workout files (for plan
//! exports to bike computers).
//!
//! Our own small encoder, independent of the decoder we use, so a round trip through both is a
//! real test of each. Layout (FIT protocol 2.0, little-endian throughout):
//!
//! ```text
//! header (14 bytes) | definition + data messages | CRC-16 of everything before it
//! ```
//!
//! Each distinct field layout gets a *definition message* bound to one of 16 local message
//! numbers; data messages then carry only the values. A field whose value is absent (or cannot be
//! represented in its FIT type after scaling) is left out of the layout rather than written as the
//! type's "invalid" sentinel, so every value a decoder sees is one we meant to write.
//!
//! Field numbers, base types, scales and offsets follow the FIT global profile (checked against
//! the generated profile of the `rustyfit` crate, version 0.11).

use jiff::Timestamp;
use thiserror::Error;

use crate::model::{
    Activity, Environment, Lap, Record, Session, Sport, SportKind, TimerEvent, TimerEventKind,
};

/// Seconds between the Unix epoch and the FIT epoch (1989-12-31 00:00:00 UTC).
pub const FIT_EPOCH_UNIX_OFFSET: i64 = 631_065_600;
/// FIT protocol version 2.0 (major in the high nibble).
pub const PROTOCOL_VERSION: u8 = 0x20;
/// Profile version 21.32, written as major × 100 + minor.
pub const PROFILE_VERSION: u16 = 2132;
/// `manufacturer = development`: what a non-registered producer writes.
pub const MANUFACTURER_DEVELOPMENT: u16 = 255;

const HEADER_SIZE: u8 = 14;

/// Errors writing a FIT file. Each names the message index or value at fault.
#[derive(Debug, Error, PartialEq)]
pub enum FitEncodeError {
    #[error(
        "record #{index}: timestamp {t} (Unix s) is before the FIT epoch 1989-12-31T00:00:00Z or beyond 2106"
    )]
    TimestampOutOfRange { index: usize, t: i64 },
    #[error("record #{index}: timestamp {t} goes back in time (previous record at {previous})")]
    TimestampOutOfOrder { index: usize, t: i64, previous: i64 },
    #[error("{what}: instant {t} is before the FIT epoch 1989-12-31T00:00:00Z or beyond 2106")]
    InstantOutOfRange { what: &'static str, t: Timestamp },
    #[error("the data section reached {size} bytes: more than a FIT header can declare (4 GiB)")]
    TooLarge { size: usize },
    #[error("workout step #{index}: {reason}")]
    InvalidStep { index: usize, reason: String },
    #[error("workout has no steps")]
    EmptyWorkout,
}

// ---------------------------------------------------------------------------------------------
// CRC

/// The FIT CRC-16 (polynomial 0xA001, reflected — CRC-16/ARC), fed one nibble at a time as the
/// FIT protocol document describes. `crc` is the running value (0 to start).
pub fn crc16(mut crc: u16, bytes: &[u8]) -> u16 {
    const TABLE: [u16; 16] = [
        0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401, 0xA001, 0x6C00, 0x7800,
        0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
    ];
    for &b in bytes {
        let tmp = TABLE[usize::from(crc & 0xF)];
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ TABLE[usize::from(b & 0xF)];
        let tmp = TABLE[usize::from(crc & 0xF)];
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ TABLE[usize::from(b >> 4)];
    }
    crc
}

// ---------------------------------------------------------------------------------------------
// Base types and value conversion

/// FIT base type bytes (bit 7 set = multi-byte, endianness matters).
#[allow(dead_code)]
mod base {
    pub const ENUM: u8 = 0x00;
    pub const SINT8: u8 = 0x01;
    pub const UINT8: u8 = 0x02;
    pub const SINT16: u8 = 0x83;
    pub const UINT16: u8 = 0x84;
    pub const SINT32: u8 = 0x85;
    pub const UINT32: u8 = 0x86;
    pub const STRING: u8 = 0x07;
    pub const UINT8Z: u8 = 0x0A;
    pub const UINT16Z: u8 = 0x8B;
    pub const UINT32Z: u8 = 0x8C;
    pub const BYTE: u8 = 0x0D;
}

/// `value × scale − … + offset` rounded into an unsigned field of `max_valid` (the type's
/// invalid sentinel − 1). None when non-finite or out of range: the field is then omitted.
fn scaled_unsigned(value: f64, scale: f64, offset: f64, max_valid: u64) -> Option<u64> {
    let raw = ((value + offset) * scale).round();
    (raw.is_finite() && raw >= 0.0 && raw <= max_valid as f64).then_some(raw as u64)
}

fn su8(value: f64, scale: f64, offset: f64) -> Option<u8> {
    scaled_unsigned(value, scale, offset, 0xFE).map(|v| v as u8)
}
fn su16(value: f64, scale: f64, offset: f64) -> Option<u16> {
    scaled_unsigned(value, scale, offset, 0xFFFE).map(|v| v as u16)
}
fn su32(value: f64, scale: f64, offset: f64) -> Option<u32> {
    scaled_unsigned(value, scale, offset, 0xFFFF_FFFE).map(|v| v as u32)
}

/// Degrees → semicircles (2³¹ semicircles = 180°). None outside ±180° or when not finite.
pub fn degrees_to_semicircles(deg: f64) -> Option<i32> {
    let raw = (deg * (2f64.powi(31) / 180.0)).round();
    // i32::MAX is the invalid sentinel, so the valid range stops one short of it.
    (raw.is_finite() && raw >= f64::from(i32::MIN + 1) && raw < f64::from(i32::MAX))
        .then_some(raw as i32)
}

/// Semicircles → degrees.
pub fn semicircles_to_degrees(sc: i32) -> f64 {
    f64::from(sc) * (180.0 / 2f64.powi(31))
}

/// Unix seconds → FIT `date_time` (seconds since the FIT epoch). None outside the u32 range.
pub fn unix_to_fit_time(t: i64) -> Option<u32> {
    let v = t.checked_sub(FIT_EPOCH_UNIX_OFFSET)?;
    // 0xFFFFFFFF is invalid; values below 0x10000000 are legal (times since the epoch).
    u32::try_from(v).ok().filter(|&v| v != u32::MAX)
}

fn fit_time(what: &'static str, t: Timestamp) -> Result<u32, FitEncodeError> {
    unix_to_fit_time(t.as_second()).ok_or(FitEncodeError::InstantOutOfRange { what, t })
}

// ---------------------------------------------------------------------------------------------
// Sport codes

/// A FIT `sport` / `sub_sport` pair (enum values of the global profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FitSport {
    pub sport: u8,
    pub sub_sport: u8,
}

/// FIT `sport` and `sub_sport` values with their profile names: the subset we write.
const SPORT_NAMES: &[(u8, &str)] = &[
    (0, "generic"),
    (1, "running"),
    (2, "cycling"),
    (4, "fitness_equipment"),
    (5, "swimming"),
    (10, "training"),
    (11, "walking"),
    (13, "alpine_skiing"),
    (15, "rowing"),
    (17, "hiking"),
    (21, "e_biking"),
];
const SUB_SPORT_NAMES: &[(u8, &str)] = &[
    (0, "generic"),
    (1, "treadmill"),
    (2, "street"),
    (3, "trail"),
    (6, "indoor_cycling"),
    (7, "road"),
    (8, "mountain"),
    (14, "indoor_rowing"),
    (17, "lap_swimming"),
    (18, "open_water"),
    (20, "strength_training"),
    (28, "e_bike_fitness"),
    (45, "indoor_running"),
    (46, "gravel_cycling"),
    (58, "virtual_activity"),
];

impl FitSport {
    pub const ROAD_CYCLING: FitSport = FitSport {
        sport: 2,
        sub_sport: 7,
    };
    pub const INDOOR_CYCLING: FitSport = FitSport {
        sport: 2,
        sub_sport: 6,
    };
    pub const VIRTUAL_CYCLING: FitSport = FitSport {
        sport: 2,
        sub_sport: 58,
    };
    pub const RUNNING: FitSport = FitSport {
        sport: 1,
        sub_sport: 0,
    };
    pub const TREADMILL: FitSport = FitSport {
        sport: 1,
        sub_sport: 1,
    };
    pub const STRENGTH: FitSport = FitSport {
        sport: 10,
        sub_sport: 20,
    };
    pub const GENERIC: FitSport = FitSport {
        sport: 0,
        sub_sport: 0,
    };

    /// From FIT profile names ("cycling", "virtual_activity"); None for a name outside the subset
    /// in this module.
    pub fn from_names(sport: &str, sub_sport: Option<&str>) -> Option<FitSport> {
        let sport = SPORT_NAMES.iter().find(|(_, n)| *n == sport)?.0;
        let sub_sport = match sub_sport {
            Some(s) => SUB_SPORT_NAMES.iter().find(|(_, n)| *n == s)?.0,
            None => 0,
        };
        Some(FitSport { sport, sub_sport })
    }

    /// The FIT profile names of this pair, when in the subset known here.
    pub fn names(self) -> (Option<&'static str>, Option<&'static str>) {
        let s = SPORT_NAMES
            .iter()
            .find(|(v, _)| *v == self.sport)
            .map(|(_, n)| *n);
        let ss = SUB_SPORT_NAMES
            .iter()
            .find(|(v, _)| *v == self.sub_sport)
            .map(|(_, n)| *n);
        (s, ss)
    }

    /// The FIT encoding of our sport classification.
    pub fn from_kind(kind: SportKind) -> FitSport {
        let env = kind.environment;
        match kind.sport {
            Sport::Ride if kind.e_bike => FitSport {
                sport: 21,
                sub_sport: 0,
            },
            Sport::Ride => match env {
                Environment::Outdoor => FitSport::ROAD_CYCLING,
                Environment::Indoor => FitSport::INDOOR_CYCLING,
                Environment::Virtual => FitSport::VIRTUAL_CYCLING,
            },
            Sport::Run => match env {
                Environment::Outdoor => FitSport::RUNNING,
                Environment::Indoor => FitSport::TREADMILL,
                Environment::Virtual => FitSport {
                    sport: 1,
                    sub_sport: 58,
                },
            },
            Sport::Swim => match env {
                Environment::Outdoor => FitSport {
                    sport: 5,
                    sub_sport: 18,
                },
                _ => FitSport {
                    sport: 5,
                    sub_sport: 17,
                },
            },
            Sport::Strength => FitSport::STRENGTH,
            Sport::Rowing => match env {
                Environment::Outdoor => FitSport {
                    sport: 15,
                    sub_sport: 0,
                },
                _ => FitSport {
                    sport: 4,
                    sub_sport: 14,
                },
            },
            Sport::Walk => FitSport {
                sport: 11,
                sub_sport: 0,
            },
            Sport::Hike => FitSport {
                sport: 17,
                sub_sport: 0,
            },
            Sport::Ski => FitSport {
                sport: 13,
                sub_sport: 0,
            },
            Sport::Other => FitSport::GENERIC,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Low-level message encoder

/// (field number, size in bytes, base type).
type FieldDef = (u8, u8, u8);

/// One message under construction: its field definitions and the matching value bytes.
struct Msg {
    global: u16,
    defs: Vec<FieldDef>,
    data: Vec<u8>,
}

impl Msg {
    fn new(global: u16) -> Self {
        Msg {
            global,
            defs: Vec::with_capacity(16),
            data: Vec::with_capacity(64),
        }
    }
    fn raw(&mut self, num: u8, base_type: u8, bytes: &[u8]) -> &mut Self {
        self.defs.push((num, bytes.len() as u8, base_type));
        self.data.extend_from_slice(bytes);
        self
    }
    fn enum_(&mut self, num: u8, v: Option<u8>) -> &mut Self {
        match v.filter(|&v| v != 0xFF) {
            Some(v) => self.raw(num, base::ENUM, &[v]),
            None => self,
        }
    }
    fn u8(&mut self, num: u8, v: Option<u8>) -> &mut Self {
        match v.filter(|&v| v != 0xFF) {
            Some(v) => self.raw(num, base::UINT8, &[v]),
            None => self,
        }
    }
    fn s8(&mut self, num: u8, v: Option<i8>) -> &mut Self {
        match v.filter(|&v| v != i8::MAX) {
            Some(v) => self.raw(num, base::SINT8, &v.to_le_bytes()),
            None => self,
        }
    }
    fn u16(&mut self, num: u8, v: Option<u16>) -> &mut Self {
        match v.filter(|&v| v != u16::MAX) {
            Some(v) => self.raw(num, base::UINT16, &v.to_le_bytes()),
            None => self,
        }
    }
    fn u32(&mut self, num: u8, v: Option<u32>) -> &mut Self {
        match v.filter(|&v| v != u32::MAX) {
            Some(v) => self.raw(num, base::UINT32, &v.to_le_bytes()),
            None => self,
        }
    }
    fn u32z(&mut self, num: u8, v: Option<u32>) -> &mut Self {
        match v.filter(|&v| v != 0) {
            Some(v) => self.raw(num, base::UINT32Z, &v.to_le_bytes()),
            None => self,
        }
    }
    fn s32(&mut self, num: u8, v: Option<i32>) -> &mut Self {
        match v.filter(|&v| v != i32::MAX) {
            Some(v) => self.raw(num, base::SINT32, &v.to_le_bytes()),
            None => self,
        }
    }
    /// Null-terminated UTF-8, cut at a character boundary to fit the 255-byte field limit.
    fn string(&mut self, num: u8, s: Option<&str>) -> &mut Self {
        let Some(s) = s.filter(|s| !s.is_empty()) else {
            return self;
        };
        let mut end = s.len().min(254);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = Vec::with_capacity(end + 1);
        bytes.extend_from_slice(&s.as_bytes()[..end]);
        bytes.push(0);
        self.raw(num, base::STRING, &bytes)
    }
}

/// The message stream: binds field layouts to local message numbers and appends bytes.
struct Encoder {
    buf: Vec<u8>,
    /// Layout currently bound to each local message number (global number + field defs).
    locals: Vec<(u16, Vec<FieldDef>)>,
    /// Next local number to rebind when all 16 are in use (round robin: deterministic).
    next_evict: usize,
}

impl Encoder {
    fn new() -> Self {
        let mut buf = Vec::with_capacity(64 * 1024);
        buf.resize(usize::from(HEADER_SIZE), 0);
        Encoder {
            buf,
            locals: Vec::new(),
            next_evict: 0,
        }
    }

    fn write(&mut self, msg: &Msg) {
        let local = match self
            .locals
            .iter()
            .position(|(g, d)| *g == msg.global && *d == msg.defs)
        {
            Some(i) => i,
            None => {
                let i = if self.locals.len() < 16 {
                    self.locals.push((msg.global, msg.defs.clone()));
                    self.locals.len() - 1
                } else {
                    let i = self.next_evict;
                    self.next_evict = (self.next_evict + 1) % 16;
                    self.locals[i] = (msg.global, msg.defs.clone());
                    i
                };
                // Definition message: header, reserved, architecture (0 = little-endian),
                // global number, field count, then (number, size, base type) per field.
                self.buf.push(0x40 | i as u8);
                self.buf.push(0);
                self.buf.push(0);
                self.buf.extend_from_slice(&msg.global.to_le_bytes());
                self.buf.push(msg.defs.len() as u8);
                for &(num, size, bt) in &msg.defs {
                    self.buf.extend_from_slice(&[num, size, bt]);
                }
                i
            }
        };
        self.buf.push(local as u8);
        self.buf.extend_from_slice(&msg.data);
    }

    /// Header with the data size and its own CRC, then the file CRC over header + data.
    fn finish(mut self) -> Result<Vec<u8>, FitEncodeError> {
        let data_size = self.buf.len() - usize::from(HEADER_SIZE);
        let size32 =
            u32::try_from(data_size).map_err(|_| FitEncodeError::TooLarge { size: data_size })?;
        let mut header = [0u8; 14];
        header[0] = HEADER_SIZE;
        header[1] = PROTOCOL_VERSION;
        header[2..4].copy_from_slice(&PROFILE_VERSION.to_le_bytes());
        header[4..8].copy_from_slice(&size32.to_le_bytes());
        header[8..12].copy_from_slice(b".FIT");
        let hcrc = crc16(0, &header[..12]);
        header[12..14].copy_from_slice(&hcrc.to_le_bytes());
        self.buf[..14].copy_from_slice(&header);
        let crc = crc16(0, &self.buf);
        self.buf.extend_from_slice(&crc.to_le_bytes());
        Ok(self.buf)
    }
}

// Global message numbers.
const MESG_FILE_ID: u16 = 0;
const MESG_ZONES_TARGET: u16 = 7;
const MESG_SPORT: u16 = 12;
const MESG_SESSION: u16 = 18;
const MESG_LAP: u16 = 19;
const MESG_RECORD: u16 = 20;
const MESG_EVENT: u16 = 21;
const MESG_DEVICE_INFO: u16 = 23;
const MESG_WORKOUT: u16 = 26;
const MESG_WORKOUT_STEP: u16 = 27;
const MESG_ACTIVITY: u16 = 34;

const FIELD_TIMESTAMP: u8 = 253;
const FIELD_MESSAGE_INDEX: u8 = 254;

const FILE_ACTIVITY: u8 = 4;
const FILE_WORKOUT: u8 = 5;
const EVENT_TIMER: u8 = 0;
const EVENT_LAP: u8 = 9;
const EVENT_SESSION: u8 = 8;
const EVENT_ACTIVITY: u8 = 26;
const EVENT_TYPE_START: u8 = 0;
const EVENT_TYPE_STOP: u8 = 1;
const EVENT_TYPE_STOP_ALL: u8 = 4;

/// Who wrote the file: `file_id` and the creator's `device_info`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceIdent {
    pub manufacturer: u16,
    pub product: u16,
    /// 0 means "no serial" (uint32z) and is then left out.
    pub serial_number: u32,
    pub product_name: Option<String>,
    /// Firmware version, e.g. 1.23 (written ×100).
    pub software_version: Option<f64>,
}

impl Default for DeviceIdent {
    fn default() -> Self {
        DeviceIdent {
            manufacturer: MANUFACTURER_DEVELOPMENT,
            product: 1,
            serial_number: 0,
            product_name: Some("cycling-ai".to_owned()),
            software_version: None,
        }
    }
}

fn file_id_msg(file_type: u8, ident: &DeviceIdent, created: u32) -> Msg {
    let mut m = Msg::new(MESG_FILE_ID);
    m.enum_(0, Some(file_type))
        .u16(1, Some(ident.manufacturer))
        .u16(2, Some(ident.product))
        .u32z(3, Some(ident.serial_number))
        .u32(4, Some(created))
        .string(8, ident.product_name.as_deref());
    m
}

// ---------------------------------------------------------------------------------------------
// Activity files

/// Athlete thresholds the device had configured: written as `zones_target`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Zones {
    pub ftp_w: Option<u16>,
    pub max_hr_bpm: Option<u8>,
    pub threshold_hr_bpm: Option<u8>,
}

/// Builds a FIT activity file in the order a head unit writes one:
/// `file_id, device_info, sport, zones_target, event(timer start), record…, [event/lap]…,
/// event(timer stop_all), session, activity`.
///
/// Record values carry the scaling the FIT profile defines, so a decoder sees them rounded to
/// 1 cm (distance), 1 mm/s (speed), 0.2 m (altitude) and ~8.4 nm (position).
pub struct ActivityWriter {
    enc: Encoder,
    sport: FitSport,
    start: u32,
    /// Last timestamp written (FIT time), to order records and close the file.
    last_time: u32,
    last_unix: Option<i64>,
    records: usize,
    laps: u16,
    sessions: u16,
    timer_running: bool,
    /// Timer time from the last session, for the `activity` message.
    total_timer_s: f64,
}

impl ActivityWriter {
    /// A file from the development manufacturer; see [`ActivityWriter::with_device`].
    pub fn new(start: Timestamp, sport: FitSport) -> Result<Self, FitEncodeError> {
        Self::with_device(start, sport, &DeviceIdent::default(), Zones::default())
    }

    /// Starts the file: header placeholder, `file_id` (created = `start`), creator
    /// `device_info`, `sport`, `zones_target` (when any threshold is given) and a timer start.
    pub fn with_device(
        start: Timestamp,
        sport: FitSport,
        ident: &DeviceIdent,
        zones: Zones,
    ) -> Result<Self, FitEncodeError> {
        let t = fit_time("activity start", start)?;
        let mut enc = Encoder::new();
        enc.write(&file_id_msg(FILE_ACTIVITY, ident, t));

        let mut dev = Msg::new(MESG_DEVICE_INFO);
        dev.u32(FIELD_TIMESTAMP, Some(t))
            .u8(0, Some(0)) // device_index 0 = the creator
            .u16(2, Some(ident.manufacturer))
            .u32z(3, Some(ident.serial_number))
            .u16(4, Some(ident.product))
            .u16(5, ident.software_version.and_then(|v| su16(v, 100.0, 0.0)))
            .string(27, ident.product_name.as_deref());
        enc.write(&dev);

        let mut sp = Msg::new(MESG_SPORT);
        sp.enum_(0, Some(sport.sport))
            .enum_(1, Some(sport.sub_sport));
        enc.write(&sp);

        if zones != Zones::default() {
            let mut z = Msg::new(MESG_ZONES_TARGET);
            z.u8(1, zones.max_hr_bpm)
                .u8(2, zones.threshold_hr_bpm)
                .u16(3, zones.ftp_w);
            enc.write(&z);
        }

        let mut w = ActivityWriter {
            enc,
            sport,
            start: t,
            last_time: t,
            last_unix: None,
            records: 0,
            laps: 0,
            sessions: 0,
            timer_running: false,
            total_timer_s: 0.0,
        };
        w.timer(t, EVENT_TYPE_START);
        Ok(w)
    }

    fn timer(&mut self, t: u32, event_type: u8) {
        let mut m = Msg::new(MESG_EVENT);
        m.u32(FIELD_TIMESTAMP, Some(t))
            .enum_(0, Some(EVENT_TIMER))
            .enum_(1, Some(event_type))
            .u8(4, Some(0)); // event_group
        self.enc.write(&m);
        self.timer_running = event_type == EVENT_TYPE_START;
        self.last_time = self.last_time.max(t);
    }

    /// Number of records written so far.
    pub fn record_count(&self) -> usize {
        self.records
    }

    /// Appends one `record`. Timestamps must not go backwards. Values a FIT field cannot hold
    /// (NaN, negative speed, altitude below −500 m) are left out.
    pub fn record(&mut self, r: &Record) -> Result<&mut Self, FitEncodeError> {
        let index = self.records;
        let t =
            unix_to_fit_time(r.t).ok_or(FitEncodeError::TimestampOutOfRange { index, t: r.t })?;
        if let Some(previous) = self.last_unix.filter(|&p| r.t < p) {
            return Err(FitEncodeError::TimestampOutOfOrder {
                index,
                t: r.t,
                previous,
            });
        }
        let mut m = Msg::new(MESG_RECORD);
        m.u32(FIELD_TIMESTAMP, Some(t));
        if let (Some(lat), Some(lon)) = (
            r.lat_deg.and_then(degrees_to_semicircles),
            r.lon_deg.and_then(degrees_to_semicircles),
        ) {
            m.s32(0, Some(lat)).s32(1, Some(lon));
        }
        // Speed and altitude go only into `enhanced_speed` / `enhanced_altitude` (u32), as current
        // head units write them: writing the 16-bit `speed` / `altitude` too would make decoders
        // that expand those into their enhanced components hold two copies of one value (and
        // rustyfit's float expansion can come out 1 mm/s low).
        m.u8(3, r.heart_rate_bpm)
            .u8(4, r.cadence_rpm)
            .u32(5, r.distance_m.and_then(|d| su32(d, 100.0, 0.0)))
            .u16(7, r.power_w)
            .s8(13, r.temperature_c)
            .u32(
                73,
                r.speed_mps.and_then(|s| su32(f64::from(s), 1000.0, 0.0)),
            )
            .u32(
                78,
                r.altitude_m.and_then(|a| su32(f64::from(a), 5.0, 500.0)),
            );
        self.enc.write(&m);
        self.records += 1;
        self.last_unix = Some(r.t);
        self.last_time = self.last_time.max(t);
        Ok(self)
    }

    /// A timer start/stop event (auto-pause and resume).
    pub fn timer_event(&mut self, e: &TimerEvent) -> Result<&mut Self, FitEncodeError> {
        let t = unix_to_fit_time(e.t).ok_or(FitEncodeError::TimestampOutOfRange {
            index: self.records,
            t: e.t,
        })?;
        let kind = match e.kind {
            TimerEventKind::Start => EVENT_TYPE_START,
            TimerEventKind::Stop => EVENT_TYPE_STOP,
            TimerEventKind::StopAll => EVENT_TYPE_STOP_ALL,
        };
        self.timer(t, kind);
        Ok(self)
    }

    /// A `lap` message (timestamp = `end_time`, else the last record's time).
    pub fn lap(&mut self, lap: &Lap) -> Result<&mut Self, FitEncodeError> {
        let end = match lap.end_time {
            Some(t) => fit_time("lap end", t)?,
            None => self.last_time,
        };
        let start = match lap.start_time {
            Some(t) => fit_time("lap start", t)?,
            None => self.start,
        };
        let mut m = Msg::new(MESG_LAP);
        m.u16(FIELD_MESSAGE_INDEX, Some(self.laps))
            .u32(FIELD_TIMESTAMP, Some(end))
            .enum_(0, Some(EVENT_LAP))
            .enum_(1, Some(EVENT_TYPE_STOP))
            .u32(2, Some(start))
            .u32(
                7,
                lap.total_elapsed_time_s.and_then(|v| su32(v, 1000.0, 0.0)),
            )
            .u32(8, lap.total_timer_time_s.and_then(|v| su32(v, 1000.0, 0.0)))
            .u32(9, lap.total_distance_m.and_then(|v| su32(v, 100.0, 0.0)))
            .u16(13, lap.avg_speed_mps.and_then(|v| su16(v, 1000.0, 0.0)))
            .u8(15, lap.avg_heart_rate_bpm.and_then(|v| su8(v, 1.0, 0.0)))
            .u8(16, lap.max_heart_rate_bpm.and_then(|v| su8(v, 1.0, 0.0)))
            .u8(17, lap.avg_cadence_rpm.and_then(|v| su8(v, 1.0, 0.0)))
            .u16(19, lap.avg_power_w.and_then(|v| su16(v, 1.0, 0.0)))
            .u16(20, lap.max_power_w.and_then(|v| su16(v, 1.0, 0.0)))
            .u16(21, lap.total_ascent_m.and_then(|v| su16(v, 1.0, 0.0)))
            .enum_(25, Some(self.sport.sport))
            .u16(33, lap.normalized_power_w.and_then(|v| su16(v, 1.0, 0.0)))
            .enum_(39, Some(self.sport.sub_sport));
        self.enc.write(&m);
        self.laps += 1;
        self.last_time = self.last_time.max(end);
        Ok(self)
    }

    /// A `session` message. Stops the timer first when it is running (as devices do). The sport
    /// is the session's own `fit_sport`/`fit_sub_sport` names when known, else the writer's.
    /// The message timestamp is start + elapsed time, else the last record's time.
    pub fn session(&mut self, s: &Session) -> Result<&mut Self, FitEncodeError> {
        let start = match s.start_time {
            Some(t) => fit_time("session start", t)?,
            None => self.start,
        };
        let end = match s.total_elapsed_time_s {
            Some(e) if e.is_finite() && e >= 0.0 => {
                start.saturating_add(e.round() as u32).max(self.last_time)
            }
            _ => self.last_time,
        };
        if self.timer_running {
            self.timer(end, EVENT_TYPE_STOP_ALL);
        }
        let sport = s
            .fit_sport
            .as_deref()
            .and_then(|sp| FitSport::from_names(sp, s.fit_sub_sport.as_deref()))
            .or_else(|| s.sport.map(FitSport::from_kind))
            .unwrap_or(self.sport);
        let num_laps = s
            .num_laps
            .and_then(|n| u16::try_from(n).ok())
            .or((self.laps > 0).then_some(self.laps));
        let mut m = Msg::new(MESG_SESSION);
        m.u16(FIELD_MESSAGE_INDEX, Some(self.sessions))
            .u32(FIELD_TIMESTAMP, Some(end))
            .enum_(0, Some(EVENT_SESSION))
            .enum_(1, Some(EVENT_TYPE_STOP))
            .u32(2, Some(start))
            .enum_(5, Some(sport.sport))
            .enum_(6, Some(sport.sub_sport))
            .u32(7, s.total_elapsed_time_s.and_then(|v| su32(v, 1000.0, 0.0)))
            .u32(8, s.total_timer_time_s.and_then(|v| su32(v, 1000.0, 0.0)))
            .u32(9, s.total_distance_m.and_then(|v| su32(v, 100.0, 0.0)))
            .u16(11, s.total_calories_kcal.and_then(|v| su16(v, 1.0, 0.0)))
            .u16(14, s.avg_speed_mps.and_then(|v| su16(v, 1000.0, 0.0)))
            .u16(15, s.max_speed_mps.and_then(|v| su16(v, 1000.0, 0.0)))
            .u8(16, s.avg_heart_rate_bpm.and_then(|v| su8(v, 1.0, 0.0)))
            .u8(17, s.max_heart_rate_bpm.and_then(|v| su8(v, 1.0, 0.0)))
            .u8(18, s.avg_cadence_rpm.and_then(|v| su8(v, 1.0, 0.0)))
            .u16(20, s.avg_power_w.and_then(|v| su16(v, 1.0, 0.0)))
            .u16(21, s.max_power_w.and_then(|v| su16(v, 1.0, 0.0)))
            .u16(22, s.total_ascent_m.and_then(|v| su16(v, 1.0, 0.0)))
            .u16(25, Some(0)) // first_lap_index
            .u16(26, num_laps)
            .enum_(28, Some(0)) // trigger = activity_end
            .u16(34, s.normalized_power_w.and_then(|v| su16(v, 1.0, 0.0)))
            .u16(35, s.training_stress_score.and_then(|v| su16(v, 10.0, 0.0)))
            .u16(36, s.intensity_factor.and_then(|v| su16(v, 1000.0, 0.0)))
            .u16(45, s.threshold_power_w.and_then(|v| su16(v, 1.0, 0.0)))
            .u32(48, s.total_work_j.and_then(|v| su32(v, 1.0, 0.0)));
        self.enc.write(&m);
        self.sessions += 1;
        self.total_timer_s += s
            .total_timer_time_s
            .filter(|v| v.is_finite())
            .unwrap_or(0.0);
        self.last_time = self.last_time.max(end);
        Ok(self)
    }

    /// Closes the file: a timer stop (if still running), the `activity` message, header and CRC.
    pub fn finish(mut self) -> Result<Vec<u8>, FitEncodeError> {
        if self.timer_running {
            let t = self.last_time;
            self.timer(t, EVENT_TYPE_STOP_ALL);
        }
        let mut m = Msg::new(MESG_ACTIVITY);
        m.u32(FIELD_TIMESTAMP, Some(self.last_time))
            .u32(0, su32(self.total_timer_s, 1000.0, 0.0))
            .u16(1, Some(self.sessions))
            .enum_(2, Some(0)) // type = manual
            .enum_(3, Some(EVENT_ACTIVITY))
            .enum_(4, Some(EVENT_TYPE_STOP));
        self.enc.write(&m);
        self.enc.finish()
    }
}

/// Writes a decoded activity back as a FIT activity file: its records with the timer events
/// interleaved in time order, then its sessions (laps are left out). Tests use it to turn an
/// edited real ride (injected faults, say) into a file the whole pipeline reads.
pub fn encode_activity(a: &Activity, zones: Zones) -> Result<Vec<u8>, FitEncodeError> {
    let start = a.start_time().unwrap_or(Timestamp::UNIX_EPOCH);
    let mut w = ActivityWriter::with_device(
        start,
        FitSport::from_kind(a.sport()),
        &DeviceIdent::default(),
        zones,
    )?;
    let mut events = a.timer_events.clone();
    events.sort_by_key(|e| e.t);
    let mut events = events.iter().peekable();
    for r in &a.records {
        while let Some(e) = events.next_if(|e| e.t <= r.t) {
            w.timer_event(e)?;
        }
        w.record(r)?;
    }
    for e in events {
        w.timer_event(e)?;
    }
    for s in &a.sessions {
        w.session(s)?;
    }
    w.finish()
}

// ---------------------------------------------------------------------------------------------
// Workout files

/// How long a workout step lasts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepDuration {
    /// Seconds (written in ms, as the profile's `duration_time` scale 1000 says).
    Time(f64),
    /// Until the lap button.
    Open,
}

/// What a workout step aims at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepTarget {
    Open,
    /// A power range in whole percent of FTP (FIT workout power values 0–1000 are %FTP).
    PowerPercentFtp {
        low: u16,
        high: u16,
    },
    /// A power range in watts (written as W + 1000, the FIT convention for absolute power).
    PowerWatts {
        low: u16,
        high: u16,
    },
}

/// FIT `intensity` of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepIntensity {
    Active = 0,
    Rest = 1,
    Warmup = 2,
    Cooldown = 3,
    Recovery = 4,
    Interval = 5,
}

/// One step of a structured workout, or a block repeated `times` times.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkoutStep {
    Step {
        name: Option<String>,
        duration: StepDuration,
        target: StepTarget,
        intensity: StepIntensity,
    },
    Repeat {
        times: u32,
        steps: Vec<WorkoutStep>,
    },
}

/// Builds a FIT workout file: `file_id(type=workout), workout, workout_step…`.
///
/// Repeat blocks become their child steps followed by a step with
/// `duration_type = repeat_until_steps_cmplt`, `duration_value` = the index of the block's first
/// step and `target_value` = the number of repetitions.
#[derive(Debug, Clone)]
pub struct WorkoutWriter {
    name: String,
    sport: FitSport,
    created: Timestamp,
    ident: DeviceIdent,
    steps: Vec<WorkoutStep>,
}

const DUR_TIME: u8 = 0;
const DUR_OPEN: u8 = 5;
const DUR_REPEAT_STEPS: u8 = 6;
const TARGET_OPEN: u8 = 2;
const TARGET_POWER: u8 = 4;

impl WorkoutWriter {
    /// `created` is the file's `time_created` (passed in so output is reproducible).
    pub fn new(name: &str, sport: FitSport, created: Timestamp) -> Self {
        WorkoutWriter {
            name: name.to_owned(),
            sport,
            created,
            ident: DeviceIdent::default(),
            steps: Vec::new(),
        }
    }

    pub fn device(mut self, ident: DeviceIdent) -> Self {
        self.ident = ident;
        self
    }

    pub fn step(mut self, step: WorkoutStep) -> Self {
        self.steps.push(step);
        self
    }

    /// A simple step: `seconds` at `low`–`high` % FTP.
    pub fn power_step(
        self,
        name: Option<&str>,
        seconds: f64,
        low_pct: u16,
        high_pct: u16,
        intensity: StepIntensity,
    ) -> Self {
        self.step(WorkoutStep::Step {
            name: name.map(str::to_owned),
            duration: StepDuration::Time(seconds),
            target: StepTarget::PowerPercentFtp {
                low: low_pct,
                high: high_pct,
            },
            intensity,
        })
    }

    pub fn repeat(self, times: u32, steps: Vec<WorkoutStep>) -> Self {
        self.step(WorkoutStep::Repeat { times, steps })
    }

    pub fn finish(self) -> Result<Vec<u8>, FitEncodeError> {
        if self.steps.is_empty() {
            return Err(FitEncodeError::EmptyWorkout);
        }
        let mut flat = Vec::new();
        flatten(&self.steps, &mut flat)?;
        let n = u16::try_from(flat.len())
            .ok()
            .filter(|&n| n < u16::MAX)
            .ok_or_else(|| FitEncodeError::InvalidStep {
                index: flat.len(),
                reason: "more than 65534 steps".into(),
            })?;

        let mut enc = Encoder::new();
        enc.write(&file_id_msg(
            FILE_WORKOUT,
            &self.ident,
            fit_time("workout creation", self.created)?,
        ));
        let mut w = Msg::new(MESG_WORKOUT);
        w.enum_(4, Some(self.sport.sport))
            .u16(6, Some(n))
            .string(8, Some(&self.name))
            .enum_(11, Some(self.sport.sub_sport));
        enc.write(&w);
        for (i, s) in flat.iter().enumerate() {
            let mut m = Msg::new(MESG_WORKOUT_STEP);
            m.u16(FIELD_MESSAGE_INDEX, Some(i as u16))
                .string(0, s.name.as_deref())
                .enum_(1, Some(s.duration_type))
                .u32(2, s.duration_value)
                .enum_(3, s.target_type)
                .u32(4, s.target_value)
                .u32(5, s.low)
                .u32(6, s.high)
                .enum_(7, s.intensity);
            enc.write(&m);
        }
        enc.finish()
    }
}

/// A step as written: raw FIT values.
struct FlatStep {
    name: Option<String>,
    duration_type: u8,
    duration_value: Option<u32>,
    target_type: Option<u8>,
    target_value: Option<u32>,
    low: Option<u32>,
    high: Option<u32>,
    intensity: Option<u8>,
}

fn flatten(steps: &[WorkoutStep], out: &mut Vec<FlatStep>) -> Result<(), FitEncodeError> {
    for step in steps {
        let index = out.len();
        let bad = |reason: String| FitEncodeError::InvalidStep { index, reason };
        match step {
            WorkoutStep::Step {
                name,
                duration,
                target,
                intensity,
            } => {
                let (duration_type, duration_value) = match *duration {
                    StepDuration::Time(s) => {
                        let ms = su32(s, 1000.0, 0.0).filter(|&ms| ms > 0).ok_or_else(|| {
                            bad(format!(
                                "duration {s} s is not a positive number of seconds"
                            ))
                        })?;
                        (DUR_TIME, Some(ms))
                    }
                    StepDuration::Open => (DUR_OPEN, None),
                };
                let (target_type, low, high) = match *target {
                    StepTarget::Open => (TARGET_OPEN, None, None),
                    StepTarget::PowerPercentFtp { low, high } => {
                        if low > high || high > 1000 {
                            return Err(bad(format!(
                                "power range {low}–{high} %FTP is not within 0–1000 %, low ≤ high"
                            )));
                        }
                        (TARGET_POWER, Some(u32::from(low)), Some(u32::from(high)))
                    }
                    StepTarget::PowerWatts { low, high } => {
                        if low > high {
                            return Err(bad(format!("power range {low}–{high} W has low > high")));
                        }
                        // W + 1000 per the spec, except 0 W: 1000 would read back as 1000 % FTP,
                        // so it is written as 0 % FTP, the same power.
                        let raw = |w: u16| if w == 0 { 0 } else { u32::from(w) + 1000 };
                        (TARGET_POWER, Some(raw(low)), Some(raw(high)))
                    }
                };
                out.push(FlatStep {
                    name: name.clone(),
                    duration_type,
                    duration_value,
                    target_type: Some(target_type),
                    // 0 = "custom range" when a power target is given (the low/high fields hold it).
                    target_value: (target_type == TARGET_POWER).then_some(0),
                    low,
                    high,
                    intensity: Some(*intensity as u8),
                });
            }
            WorkoutStep::Repeat { times, steps } => {
                if steps.is_empty() {
                    return Err(bad("repeat block has no steps".into()));
                }
                if *times == 0 {
                    return Err(bad("repeat block repeats 0 times".into()));
                }
                flatten(steps, out)?;
                out.push(FlatStep {
                    name: None,
                    duration_type: DUR_REPEAT_STEPS,
                    duration_value: Some(index as u32),
                    target_type: None,
                    target_value: Some(*times),
                    low: None,
                    high: None,
                    intensity: None,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_known_check_value() {
        // CRC-16/ARC check value for "123456789" is 0xBB3D.
        assert_eq!(crc16(0, b"123456789"), 0xBB3D);
        // Incremental use equals one pass.
        assert_eq!(crc16(crc16(0, b"1234"), b"56789"), 0xBB3D);
    }

    #[test]
    fn scaling_rejects_out_of_range_and_nan() {
        assert_eq!(su16(f64::NAN, 1000.0, 0.0), None);
        assert_eq!(su16(-0.1, 1000.0, 0.0), None);
        assert_eq!(su16(65.534, 1000.0, 0.0), Some(65534));
        assert_eq!(su16(65.535, 1000.0, 0.0), None);
        assert_eq!(su16(-500.0, 5.0, 500.0), Some(0));
        assert_eq!(su16(100.0, 5.0, 500.0), Some(3000));
    }

    #[test]
    fn semicircles_round_trip() {
        let sc = degrees_to_semicircles(41.3851).unwrap();
        assert!((semicircles_to_degrees(sc) - 41.3851).abs() < 1e-7);
        assert_eq!(degrees_to_semicircles(180.0), None);
        assert_eq!(degrees_to_semicircles(-90.0), Some(-(1 << 30)));
    }

    #[test]
    fn sport_names_and_kinds() {
        assert_eq!(
            FitSport::from_names("cycling", Some("virtual_activity")),
            Some(FitSport::VIRTUAL_CYCLING)
        );
        assert_eq!(
            FitSport::STRENGTH.names(),
            (Some("training"), Some("strength_training"))
        );
        assert_eq!(
            FitSport::from_kind(SportKind::with_env(Sport::Ride, Environment::Indoor)),
            FitSport::INDOOR_CYCLING
        );
        assert_eq!(FitSport::from_names("quidditch", None), None);
    }

    #[test]
    fn out_of_order_record_is_an_error_naming_the_index() {
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        let mut w = ActivityWriter::new(start, FitSport::ROAD_CYCLING).unwrap();
        w.record(&Record {
            t: 1_700_000_010,
            ..Default::default()
        })
        .unwrap();
        let err = w
            .record(&Record {
                t: 1_700_000_005,
                ..Default::default()
            })
            .err()
            .unwrap();
        assert_eq!(
            err,
            FitEncodeError::TimestampOutOfOrder {
                index: 1,
                t: 1_700_000_005,
                previous: 1_700_000_010
            }
        );
        assert!(err.to_string().contains("record #1"));
    }

    #[test]
    fn layouts_share_one_definition() {
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        let mut w = ActivityWriter::new(start, FitSport::ROAD_CYCLING).unwrap();
        let before = w.enc.buf.len();
        let r = Record {
            t: 1_700_000_000,
            power_w: Some(200),
            heart_rate_bpm: Some(120),
            ..Default::default()
        };
        w.record(&r).unwrap();
        let first = w.enc.buf.len() - before;
        w.record(&Record {
            t: 1_700_000_001,
            ..r
        })
        .unwrap();
        let second = w.enc.buf.len() - before - first;
        // Data message: header + timestamp (4) + power (2) + HR (1).
        assert_eq!(second, 1 + 4 + 2 + 1);
        // Definition: header, reserved, arch, global (2), count, 3 fields × 3 bytes.
        assert_eq!(first, second + 6 + 9);
    }

    #[test]
    fn workout_rejects_bad_ranges() {
        let t = Timestamp::from_second(1_700_000_000).unwrap();
        let err = WorkoutWriter::new("x", FitSport::ROAD_CYCLING, t)
            .power_step(None, 60.0, 120, 100, StepIntensity::Active)
            .finish()
            .unwrap_err();
        assert!(matches!(err, FitEncodeError::InvalidStep { index: 0, .. }));
        assert_eq!(
            WorkoutWriter::new("x", FitSport::ROAD_CYCLING, t)
                .finish()
                .unwrap_err(),
            FitEncodeError::EmptyWorkout
        );
    }
}
