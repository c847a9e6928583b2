//! Stream decoding of (possibly chained, possibly truncated) FIT data into an [`Activity`].
//!
//! rustyfit does the framing (definitions, compressed timestamps, component expansion,
//! accumulated fields, developer fields); this module tracks byte offsets, checks CRCs, decides
//! what is truncation (keep the data, flag it) and what is corruption (reject with the offset),
//! and converts the messages we need into the typed model with scaling applied.

use std::cell::Cell;
use std::convert::Infallible;

use embedded_io::{ErrorType, Read, ReadExactError};
use jiff::Timestamp;
use rustyfit::profile::mesgdef;
use rustyfit::profile::typedef::{self, DateTime, MesgNum};
use rustyfit::proto::{Field, Message, Value};
use rustyfit::{Decoder, DecoderError, DecoderEvent, StreamingIterator};

use super::FitError;
use super::crc::crc16;
use super::sport::map_sport;
use crate::model::{
    Activity, DeviceInfo, FileId, Lap, Record, Session, SportSetting, TimerEvent, TimerEventKind,
};

/// Seconds between the Unix epoch and the FIT epoch (1989-12-31T00:00:00Z).
pub(crate) const FIT_EPOCH_OFFSET: i64 = 631_065_600;

/// Semicircles → degrees: 2^31 semicircles are 180°.
const DEG_PER_SEMICIRCLE: f64 = 180.0 / 2_147_483_648.0;

/// An `embedded_io` reader over a byte slice whose position is shared through a `Cell`, so the
/// decode loop can read the offset while rustyfit's stream holds the reader.
struct SliceReader<'a> {
    data: &'a [u8],
    pos: &'a Cell<usize>,
}

impl ErrorType for SliceReader<'_> {
    type Error = Infallible;
}

impl Read for SliceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let pos = self.pos.get();
        let n = buf.len().min(self.data.len() - pos);
        buf[..n].copy_from_slice(&self.data[pos..pos + n]);
        self.pos.set(pos + n);
        Ok(n)
    }

    /// One bounds check and one copy instead of the default read loop: this is the hot path.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadExactError<Infallible>> {
        let pos = self.pos.get();
        match self.data.get(pos..pos + buf.len()) {
            Some(src) => {
                buf.copy_from_slice(src);
                self.pos.set(pos + buf.len());
                Ok(())
            }
            None => {
                self.pos.set(self.data.len());
                Err(ReadExactError::UnexpectedEof)
            }
        }
    }
}

/// Where the decoder is inside the current FIT file of a (possibly chained) byte stream.
#[derive(Clone, Copy)]
struct FileFrame {
    /// 1-based index of the file in the chain.
    index: usize,
    start: usize,
    header_size: usize,
    /// End of the data section as declared by the header (the CRC follows).
    data_end: usize,
}

/// Decode FIT bytes (already gunzipped). `warnings` carries problems found before decoding
/// (e.g. a cut gzip stream).
pub(crate) fn decode_fit(bytes: &[u8], warnings: Vec<String>) -> Result<Activity, FitError> {
    let mut out = Collector::new(warnings);
    decode_stream(bytes, &mut out)?;
    Ok(out.finish())
}

/// What the framing loop hands the decoded messages to: the activity collector here, the
/// workout collector in `workout.rs`. Both get the same offsets, CRC checks and truncation rules.
pub(crate) trait Sink {
    /// A new FIT file of a chain starts.
    fn start_file(&mut self);
    fn message(&mut self, m: &Message);
    fn warn(&mut self, message: String);
    /// Data messages seen so far (all kinds).
    fn message_count(&self) -> usize;
    fn mark_truncated(&mut self);
    /// What was kept before a break, for the truncation warning, e.g. "the 12 records".
    fn kept(&self) -> String;
}

/// Frame, check and stream every message of (possibly chained) FIT data into `out`.
pub(crate) fn decode_stream<S: Sink>(bytes: &[u8], out: &mut S) -> Result<(), FitError> {
    check_first_header(bytes)?;

    let pos = Cell::new(0usize);
    let mut decoder = Decoder::builder().checksum(false).build();
    let mut stream = decoder.stream(SliceReader {
        data: bytes,
        pos: &pos,
    });
    let mut frame: Option<FileFrame> = None;
    let mut files = 0usize;

    loop {
        let event_start = pos.get();
        let Some(event) = stream.next() else { break };
        match event {
            Ok(DecoderEvent::FileHeader(header)) => {
                files += 1;
                out.start_file();
                let header_size = usize::from(header.size);
                let f = FileFrame {
                    index: files,
                    start: event_start,
                    header_size,
                    data_end: event_start + header_size + header.data_size as usize,
                };
                if header_size == 14 && header.crc != 0 {
                    let computed = crc16(&bytes[event_start..event_start + 12]);
                    if computed != header.crc {
                        out.warn(format!(
                            "The header CRC of FIT file {} (at byte {}) is {:#06x} but the header \
                             computes to {:#06x}; the data were decoded anyway.",
                            f.index, f.start, header.crc, computed
                        ));
                    }
                }
                frame = Some(f);
            }
            Ok(DecoderEvent::MessageDefinition(_)) => {
                check_inside_data(frame, pos.get())?;
            }
            Ok(DecoderEvent::Message(message)) => {
                check_inside_data(frame, pos.get())?;
                out.message(message);
            }
            Ok(DecoderEvent::Crc(found)) => {
                if let Some(f) = frame {
                    let end = pos.get();
                    let computed = crc16(&bytes[f.start..end - 2]);
                    if computed != found {
                        out.warn(format!(
                            "The CRC of FIT file {} (bytes {}..{}) is {:#06x} but the data compute \
                             to {:#06x}: the file may be damaged; its values were kept.",
                            f.index, f.start, end, found, computed
                        ));
                    }
                }
            }
            Err(err) => {
                handle_error(err, bytes, event_start, pos.get(), frame, out)?;
                break;
            }
        }
    }

    if out.message_count() == 0 {
        return Err(FitError::Corrupt {
            offset: bytes.len() as u64,
            reason: "the FIT data contain no data message".to_owned(),
        });
    }
    Ok(())
}

/// Reject non-FIT input with a precise reason before streaming (rustyfit only says "not a FIT
/// file").
fn check_first_header(bytes: &[u8]) -> Result<(), FitError> {
    let not_fit = |offset: u64, reason: String| Err(FitError::NotFit { offset, reason });
    let Some(&size) = bytes.first() else {
        return not_fit(0, "the data are empty".to_owned());
    };
    if size != 12 && size != 14 {
        return not_fit(
            0,
            format!("the header size byte is {size}, a FIT header is 12 or 14 bytes"),
        );
    }
    if bytes.len() < usize::from(size) {
        return not_fit(
            bytes.len() as u64,
            format!(
                "the data end inside the {size}-byte file header ({} bytes in all)",
                bytes.len()
            ),
        );
    }
    if &bytes[8..12] != b".FIT" {
        return not_fit(8, "bytes 8..12 are not the \".FIT\" signature".to_owned());
    }
    Ok(())
}

/// A message that runs past the data size its header declares means the header or the message
/// framing is wrong: the bytes after it cannot be trusted to be a CRC and a next file.
fn check_inside_data(frame: Option<FileFrame>, pos: usize) -> Result<(), FitError> {
    match frame {
        Some(f) if pos > f.data_end => Err(FitError::Corrupt {
            offset: f.data_end as u64,
            reason: format!(
                "FIT file {} (at byte {}) declares {} data bytes, but a message runs on to byte {}",
                f.index,
                f.start,
                f.data_end - f.start - f.header_size,
                pos
            ),
        }),
        _ => Ok(()),
    }
}

/// Truncation keeps what was read (and flags it); a missing definition is corruption (an error
/// with the offset of the offending message header); junk after a complete file is a warning.
fn handle_error(
    err: DecoderError<Infallible>,
    bytes: &[u8],
    event_start: usize,
    pos: usize,
    frame: Option<FileFrame>,
    out: &mut impl Sink,
) -> Result<(), FitError> {
    match err {
        DecoderError::MissingMessageDefinition { local_mesg_num } => Err(FitError::Corrupt {
            // The header byte has been consumed when rustyfit notices.
            offset: pos.saturating_sub(1) as u64,
            reason: format!("local message {local_mesg_num} not defined"),
        }),
        DecoderError::UnexpectedEof => {
            let kept = out.kept();
            let message = match frame {
                // Inside a chained file's header: the previous files are complete.
                Some(f) if event_start > f.data_end => format!(
                    "The FIT data end at byte {} inside the header of a chained FIT file starting \
                     at byte {}; that fragment was ignored.",
                    bytes.len(),
                    event_start
                ),
                Some(f) if event_start >= f.data_end => format!(
                    "The FIT data end at byte {} without the 2-byte CRC of FIT file {}: all its \
                     messages were read but their integrity could not be checked.",
                    bytes.len(),
                    f.index
                ),
                Some(f) => format!(
                    "The FIT data end at byte {} although FIT file {} declares data up to byte {}: \
                     kept {} read before the break.",
                    bytes.len(),
                    f.index,
                    f.data_end,
                    kept
                ),
                None => format!(
                    "The FIT data end at byte {} inside the file header.",
                    bytes.len()
                ),
            };
            out.mark_truncated();
            out.warn(message);
            Ok(())
        }
        DecoderError::NotFITFile => {
            // The first header was validated up front, so this is data after a complete file.
            let trailing = &bytes[event_start..];
            let what = if trailing.iter().all(|&b| b == 0) {
                "zero padding"
            } else {
                "not a FIT header"
            };
            out.warn(format!(
                "The {} bytes after the end of the FIT data (from byte {}) are {}; they were ignored.",
                trailing.len(),
                event_start,
                what
            ));
            Ok(())
        }
        DecoderError::ChecksumMismatch { found, calculated } => Err(FitError::Corrupt {
            offset: pos as u64,
            reason: format!("checksum {found:#06x} does not match the computed {calculated:#06x}"),
        }),
        DecoderError::Io { err } => match err {},
    }
}

impl Sink for Collector {
    fn start_file(&mut self) {
        Collector::start_file(self);
    }

    fn message(&mut self, m: &Message) {
        Collector::message(self, m);
    }

    fn warn(&mut self, message: String) {
        Collector::warn(self, message);
    }

    fn message_count(&self) -> usize {
        self.activity.message_count
    }

    fn mark_truncated(&mut self) {
        self.activity.truncated = true;
    }

    fn kept(&self) -> String {
        format!("the {} records", self.activity.records.len())
    }
}

/// Builds the [`Activity`] message by message.
struct Collector {
    activity: Activity,
    /// The last valid timestamp seen in any message (FIT time): records written without their
    /// own timestamp belong to it.
    last_time: Option<u32>,
    records_without_time: usize,
    zones_target_ftp: Option<u16>,
    compressed_distance: Accumulator12,
}

/// Running total of a 12-bit rolling counter (the `distance` component of
/// `compressed_speed_distance`, in 1/16 m), as the FIT accumulation rule defines it.
#[derive(Default)]
struct Accumulator12 {
    last: u16,
    total: u64,
}

impl Accumulator12 {
    fn add(&mut self, value: u16) -> u64 {
        self.total += u64::from(value.wrapping_sub(self.last) & 0x0FFF);
        self.last = value;
        self.total
    }
}

impl Collector {
    fn new(warnings: Vec<String>) -> Self {
        Collector {
            activity: Activity {
                warnings,
                ..Activity::default()
            },
            last_time: None,
            records_without_time: 0,
            zones_target_ftp: None,
            compressed_distance: Accumulator12::default(),
        }
    }

    /// A new FIT file in a chain starts its accumulated fields from zero (as rustyfit does).
    fn start_file(&mut self) {
        self.compressed_distance = Accumulator12::default();
    }

    fn warn(&mut self, message: String) {
        self.activity.warnings.push(message);
    }

    fn message(&mut self, m: &Message) {
        self.activity.message_count += 1;
        match m.num {
            MesgNum::RECORD => self.record(m),
            MesgNum::EVENT => {
                self.note_time(m);
                self.event(m);
            }
            MesgNum::LAP => {
                self.note_time(m);
                self.activity.laps.push(lap(m));
            }
            MesgNum::SESSION => {
                self.note_time(m);
                self.activity.sessions.push(session(m));
            }
            MesgNum::FILE_ID => {
                // A chained file repeats file_id: the first describes the recording.
                if self.activity.file_id.is_none() {
                    self.activity.file_id = Some(file_id(m));
                }
            }
            MesgNum::DEVICE_INFO => {
                self.note_time(m);
                self.activity.devices.push(device_info(m));
            }
            MesgNum::SPORT => self.activity.sport_settings.push(sport_setting(m)),
            MesgNum::ZONES_TARGET => {
                let ftp = u16_field(m, mesgdef::ZonesTarget::FUNCTIONAL_THRESHOLD_POWER);
                if self.zones_target_ftp.is_none() {
                    self.zones_target_ftp = ftp.filter(|&w| w > 0);
                }
            }
            _ => self.note_time(m),
        }
    }

    fn note_time(&mut self, m: &Message) {
        if let Some(t) = time_field(m) {
            self.last_time = Some(t);
        }
    }

    /// The hot path: fields are read straight off rustyfit's message, no intermediate struct.
    fn record(&mut self, m: &Message) {
        use mesgdef::Record as R;
        let mut r = Record::default();
        let mut time = None;
        // Base fields are exact; the enhanced ones win only when the device wrote them itself
        // (expanded copies of the base field went through a float round trip in rustyfit).
        let (mut speed, mut enhanced_speed) = (None, None);
        let (mut altitude, mut enhanced_altitude) = (None, None);
        let mut compressed = None;
        for f in &m.fields {
            match (f.num, &f.value) {
                (R::TIMESTAMP, &Value::Uint32(v)) if v != u32::MAX => time = Some(v),
                (R::POSITION_LAT, &Value::Int32(v)) if v != i32::MAX => {
                    r.lat_deg = Some(f64::from(v) * DEG_PER_SEMICIRCLE);
                }
                (R::POSITION_LONG, &Value::Int32(v)) if v != i32::MAX => {
                    r.lon_deg = Some(f64::from(v) * DEG_PER_SEMICIRCLE);
                }
                (R::ALTITUDE, &Value::Uint16(v)) if v != u16::MAX => {
                    altitude = Some(f64::from(v) / 5.0 - 500.0);
                }
                (R::HEART_RATE, &Value::Uint8(v)) if v != u8::MAX => r.heart_rate_bpm = Some(v),
                (R::CADENCE, &Value::Uint8(v)) if v != u8::MAX => r.cadence_rpm = Some(v),
                (R::DISTANCE, &Value::Uint32(v)) if v != u32::MAX => {
                    r.distance_m = Some(f64::from(v) / 100.0);
                }
                (R::SPEED, &Value::Uint16(v)) if v != u16::MAX => {
                    speed = Some(f64::from(v) / 1000.0);
                }
                (R::POWER, &Value::Uint16(v)) if v != u16::MAX => r.power_w = Some(v),
                (R::TEMPERATURE, &Value::Int8(v)) if v != i8::MAX => r.temperature_c = Some(v),
                (R::ENHANCED_SPEED, &Value::Uint32(v)) if v != u32::MAX => {
                    enhanced_speed = Some((f.is_expanded, f64::from(v) / 1000.0));
                }
                (R::ENHANCED_ALTITUDE, &Value::Uint32(v)) if v != u32::MAX => {
                    enhanced_altitude = Some((f.is_expanded, f64::from(v) / 5.0 - 500.0));
                }
                // rustyfit 0.11 treats every `byte` array as invalid and so never expands this
                // field (FR70-era devices): 3 bytes, little endian, speed in the low 12 bits
                // (cm/s), accumulated distance in the high 12 bits (1/16 m).
                (R::COMPRESSED_SPEED_DISTANCE, Value::ArrayUint8(b))
                    if b.len() >= 3 && b[..3] != [0xFF; 3] =>
                {
                    let packed = u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
                    compressed = Some(((packed & 0x0FFF) as u16, (packed >> 12) as u16));
                }
                _ => {}
            }
        }
        if let Some((speed_cm_s, distance_16th)) = compressed {
            let total = self.compressed_distance.add(distance_16th);
            speed = speed.or(Some(f64::from(speed_cm_s) / 100.0));
            if r.distance_m.is_none() {
                r.distance_m = Some(total as f64 / 16.0);
            }
        }
        r.speed_mps = prefer_written(enhanced_speed, speed).map(|v| v as f32);
        r.altitude_m = prefer_written(enhanced_altitude, altitude).map(|v| v as f32);
        match time.or(self.last_time) {
            Some(t) => {
                self.last_time = Some(t);
                r.t = i64::from(t) + FIT_EPOCH_OFFSET;
                self.activity.records.push(r);
            }
            None => self.records_without_time += 1,
        }
    }

    fn event(&mut self, m: &Message) {
        use mesgdef::Event as E;
        let (mut event, mut event_type) = (None, None);
        for f in &m.fields {
            match (f.num, &f.value) {
                (E::EVENT, &Value::Uint8(v)) => event = Some(typedef::Event(v)),
                (E::EVENT_TYPE, &Value::Uint8(v)) => event_type = Some(typedef::EventType(v)),
                _ => {}
            }
        }
        if event != Some(typedef::Event::TIMER) {
            return;
        }
        let kind = match event_type {
            Some(typedef::EventType::START) => TimerEventKind::Start,
            Some(typedef::EventType::STOP | typedef::EventType::STOP_DISABLE) => {
                TimerEventKind::Stop
            }
            Some(typedef::EventType::STOP_ALL | typedef::EventType::STOP_DISABLE_ALL) => {
                TimerEventKind::StopAll
            }
            _ => return,
        };
        if let Some(t) = self.last_time {
            self.activity.timer_events.push(TimerEvent {
                t: i64::from(t) + FIT_EPOCH_OFFSET,
                kind,
            });
        }
    }

    fn finish(mut self) -> Activity {
        if self.records_without_time > 0 {
            let n = self.records_without_time;
            self.warn(format!(
                "{n} record messages came before any timestamp in the file and were skipped."
            ));
        }
        let a = &mut self.activity;
        a.threshold_power_w = a
            .sessions
            .iter()
            .find_map(|s| s.threshold_power_w)
            .map(|w| w as u16)
            .or(self.zones_target_ftp);
        self.activity
    }
}

fn prefer_written(enhanced: Option<(bool, f64)>, base: Option<f64>) -> Option<f64> {
    match (enhanced, base) {
        (Some((false, v)), _) => Some(v),
        (_, Some(v)) => Some(v),
        (Some((true, v)), None) => Some(v),
        (None, None) => None,
    }
}

fn time_field(m: &Message) -> Option<u32> {
    m.fields.iter().find_map(|f| match (f.num, &f.value) {
        (253, &Value::Uint32(v)) if v != u32::MAX => Some(v),
        _ => None,
    })
}

fn field(m: &Message, num: u8) -> Option<&Field> {
    m.fields.iter().find(|f| f.num == num)
}

fn u16_field(m: &Message, num: u8) -> Option<u16> {
    match field(m, num)?.value {
        Value::Uint16(v) if v != u16::MAX => Some(v),
        _ => None,
    }
}

fn timestamp(t: DateTime) -> Option<Timestamp> {
    if t.0 == u32::MAX {
        return None;
    }
    Timestamp::from_second(i64::from(t.0) + FIT_EPOCH_OFFSET).ok()
}

fn opt_u8(v: u8) -> Option<f64> {
    (v != u8::MAX).then_some(f64::from(v))
}

fn opt_u16(v: u16) -> Option<f64> {
    (v != u16::MAX).then_some(f64::from(v))
}

fn opt_u32(v: u32) -> Option<f64> {
    (v != u32::MAX).then_some(f64::from(v))
}

/// A FIT enum's profile name, `None` for the invalid value 0xFF. Unknown values keep rustyfit's
/// `Type(n)` spelling so nothing is silently dropped.
pub(super) fn sport_names(
    sport: typedef::Sport,
    sub: typedef::SubSport,
) -> (Option<String>, Option<String>) {
    let sport = (sport.0 != u8::MAX).then(|| sport.to_string());
    let sub = (sub.0 != u8::MAX).then(|| sub.to_string());
    (sport, sub)
}

fn classify(sport: &Option<String>, sub: &Option<String>) -> Option<crate::model::SportKind> {
    sport.as_deref().map(|s| map_sport(s, sub.as_deref()))
}

fn session(m: &Message) -> Session {
    let s = mesgdef::Session::from(m);
    let (fit_sport, fit_sub_sport) = sport_names(s.sport, s.sub_sport);
    Session {
        start_time: timestamp(s.start_time),
        sport: classify(&fit_sport, &fit_sub_sport),
        fit_sport,
        fit_sub_sport,
        total_elapsed_time_s: s.total_elapsed_time_scaled(),
        total_timer_time_s: s.total_timer_time_scaled(),
        total_distance_m: s.total_distance_scaled(),
        total_ascent_m: opt_u16(s.total_ascent),
        total_work_j: opt_u32(s.total_work),
        total_calories_kcal: opt_u16(s.total_calories),
        avg_power_w: opt_u16(s.avg_power),
        max_power_w: opt_u16(s.max_power),
        normalized_power_w: opt_u16(s.normalized_power),
        training_stress_score: s.training_stress_score_scaled(),
        intensity_factor: s.intensity_factor_scaled(),
        threshold_power_w: opt_u16(s.threshold_power).filter(|&w| w > 0.0),
        avg_heart_rate_bpm: opt_u8(s.avg_heart_rate),
        max_heart_rate_bpm: opt_u8(s.max_heart_rate),
        avg_cadence_rpm: opt_u8(s.avg_cadence),
        avg_speed_mps: s
            .enhanced_avg_speed_scaled()
            .or_else(|| s.avg_speed_scaled()),
        max_speed_mps: s
            .enhanced_max_speed_scaled()
            .or_else(|| s.max_speed_scaled()),
        num_laps: (s.num_laps != u16::MAX).then_some(u32::from(s.num_laps)),
    }
}

fn lap(m: &Message) -> Lap {
    let l = mesgdef::Lap::from(m);
    Lap {
        start_time: timestamp(l.start_time),
        end_time: timestamp(l.timestamp),
        total_elapsed_time_s: l.total_elapsed_time_scaled(),
        total_timer_time_s: l.total_timer_time_scaled(),
        total_distance_m: l.total_distance_scaled(),
        avg_power_w: opt_u16(l.avg_power),
        max_power_w: opt_u16(l.max_power),
        normalized_power_w: opt_u16(l.normalized_power),
        avg_heart_rate_bpm: opt_u8(l.avg_heart_rate),
        max_heart_rate_bpm: opt_u8(l.max_heart_rate),
        avg_cadence_rpm: opt_u8(l.avg_cadence),
        avg_speed_mps: l
            .enhanced_avg_speed_scaled()
            .or_else(|| l.avg_speed_scaled()),
        total_ascent_m: opt_u16(l.total_ascent),
    }
}

fn sport_setting(m: &Message) -> SportSetting {
    let s = mesgdef::Sport::from(m);
    let (fit_sport, fit_sub_sport) = sport_names(s.sport, s.sub_sport);
    SportSetting {
        sport: classify(&fit_sport, &fit_sub_sport),
        fit_sport,
        fit_sub_sport,
        name: non_empty(&s.name),
    }
}

pub(super) fn non_empty(s: &str) -> Option<String> {
    let s = s.trim_end_matches('\0').trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn manufacturer_name(m: typedef::Manufacturer) -> Option<String> {
    (m.0 != u16::MAX && m.0 != 0).then(|| m.to_string())
}

/// Garmin-family manufacturers number their products in the `garmin_product` table.
fn product_name(
    written: &str,
    manufacturer: typedef::Manufacturer,
    product: u16,
) -> Option<String> {
    non_empty(written).or_else(|| {
        let garmin_family = [
            typedef::Manufacturer::GARMIN,
            typedef::Manufacturer::DYNASTREAM,
            typedef::Manufacturer::DYNASTREAM_OEM,
            typedef::Manufacturer::TACX,
        ];
        (product != u16::MAX && garmin_family.contains(&manufacturer))
            .then(|| typedef::GarminProduct(product).to_string())
            .filter(|name| !name.starts_with("GarminProduct("))
    })
}

pub(super) fn file_id(m: &Message) -> FileId {
    let f = mesgdef::FileId::from(m);
    FileId {
        file_type: (f.r#type.0 != u8::MAX).then(|| f.r#type.to_string()),
        manufacturer: manufacturer_name(f.manufacturer),
        product: (f.product != u16::MAX).then_some(f.product),
        product_name: product_name(&f.product_name, f.manufacturer, f.product),
        serial_number: (f.serial_number != 0 && f.serial_number != u32::MAX)
            .then_some(f.serial_number),
        time_created: timestamp(f.time_created),
    }
}

fn device_info(m: &Message) -> DeviceInfo {
    let d = mesgdef::DeviceInfo::from(m);
    DeviceInfo {
        device_index: (d.device_index.0 != u8::MAX).then_some(d.device_index.0),
        manufacturer: manufacturer_name(d.manufacturer),
        product: (d.product != u16::MAX).then_some(d.product),
        product_name: product_name(&d.product_name, d.manufacturer, d.product),
        serial_number: (d.serial_number != 0 && d.serial_number != u32::MAX)
            .then_some(d.serial_number),
        software_version: d.software_version_scaled(),
    }
}
