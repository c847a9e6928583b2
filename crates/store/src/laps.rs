//! Laps: what the importer computes for each FIT `lap` message, how they are stored
//! (`activity_laps`, migration 4) and read back.
//!
//! Durations and distance are the device's own lap totals (its timer knows about auto-pause and
//! lap button presses better than a reconstruction from records could). Power, heart rate and
//! cadence are recomputed from the lap's records with the same 1 Hz series and the same `metrics`
//! functions as the ride summary, so a lap's NP and the ride's NP follow one convention and a
//! device that writes 0 W summaries (the COROS fixture) cannot poison them.

use jiff::Timestamp;
use metrics::series::Series;
use metrics::{hr, power};
use ride::{Activity, Record};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::{Store, StoreError};

/// A lap needs this many seconds of samples for an NP (one full 30 s rolling window).
pub const LAP_NP_MIN_S: usize = power::NP_WINDOW_S;

/// One lap of a stored activity. Every figure is `None` when the lap did not carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct LapRow {
    /// 0-based position in the file (lap messages in file order).
    pub index: u32,
    pub start_time: Option<Timestamp>,
    /// The device's lap totals.
    pub elapsed_s: Option<f64>,
    pub timer_s: Option<f64>,
    pub distance_m: Option<f64>,
    /// From the lap's records: average over samples carrying power, zeros (coasting) included.
    pub avg_power_w: Option<f64>,
    pub max_power_w: Option<f64>,
    /// Standard NP over the lap's 1 Hz series; `None` without power or under [`LAP_NP_MIN_S`].
    pub np_w: Option<f64>,
    pub avg_hr_bpm: Option<f64>,
    pub max_hr_bpm: Option<f64>,
    /// Average over samples with cadence > 0 (the ride summary's convention).
    pub avg_cadence_rpm: Option<f64>,
}

fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// The records of each lap. Lap `i` owns the records from its start up to (not including) the
/// next lap's start, and the last lap those up to its end timestamp: consecutive laps share a
/// boundary second in Garmin files (lap N's end = lap N+1's start), and that sample must be
/// counted once. A lap without a start time begins where the previous one ended.
fn lap_windows(activity: &Activity) -> Vec<(i64, i64)> {
    let laps = &activity.laps;
    let mut out = Vec::with_capacity(laps.len());
    let mut prev_end: Option<i64> = None;
    for (i, lap) in laps.iter().enumerate() {
        let start = lap
            .start_time
            .map(|t| t.as_second())
            .or(prev_end)
            .unwrap_or(i64::MIN);
        let end = lap.end_time.map(|t| t.as_second());
        let next_start = laps
            .get(i + 1)
            .and_then(|n| n.start_time)
            .map(|t| t.as_second());
        // Half-open [start, stop).
        let stop = match (next_start, end) {
            (Some(n), _) => n,
            (None, Some(e)) => e.saturating_add(1),
            (None, None) => i64::MAX,
        };
        out.push((start, stop.max(start)));
        prev_end = end.or(prev_end);
    }
    out
}

/// Compute the laps of a decoded activity (empty when the file has no `lap` message).
pub fn compute_laps(activity: &Activity) -> Vec<LapRow> {
    let windows = lap_windows(activity);
    activity
        .laps
        .iter()
        .zip(windows)
        .enumerate()
        .map(|(i, (lap, (from, to)))| {
            let records: Vec<Record> = activity
                .records
                .iter()
                .filter(|r| from <= r.t && r.t < to)
                .copied()
                .collect();
            // The same timer events as the whole ride, so a pause inside the lap is not bridged.
            let part = Activity {
                records,
                timer_events: activity.timer_events.clone(),
                ..Default::default()
            };
            let series = Series::from_activity(&part);
            let has_power = series.has_any_power();
            let np_w = if has_power && series.len() >= LAP_NP_MIN_S {
                power::normalized_power(&series.power)
            } else {
                None
            };
            LapRow {
                index: i as u32,
                start_time: lap.start_time.or_else(|| {
                    part.records
                        .first()
                        .and_then(|r| Timestamp::from_second(r.t).ok())
                }),
                elapsed_s: finite(lap.total_elapsed_time_s),
                timer_s: finite(lap.total_timer_time_s),
                distance_m: finite(lap.total_distance_m),
                avg_power_w: finite(has_power.then(|| power::average_power(&series)).flatten()),
                max_power_w: finite(has_power.then(|| power::max_power(&series)).flatten()),
                np_w: finite(np_w),
                avg_hr_bpm: finite(hr::average_hr(&series)),
                max_hr_bpm: finite(hr::max_hr(&series)),
                avg_cadence_rpm: series.average_cadence(),
            }
        })
        .collect()
}

/// Replace the laps of activity `id` with `laps` and mark them recorded (an empty slice records
/// that the file has no laps, which is not the same as laps never having been recorded).
pub(crate) fn write_laps(tx: &Transaction<'_>, id: i64, laps: &[LapRow]) -> Result<(), StoreError> {
    tx.execute("DELETE FROM activity_laps WHERE activity_id = ?1", [id])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO activity_laps (activity_id, lap_index, start_time, elapsed_s, timer_s,
            distance_m, avg_power_w, max_power_w, np_w, avg_hr_bpm, max_hr_bpm, avg_cadence_rpm)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for l in laps {
        stmt.execute(params![
            id,
            l.index,
            l.start_time.map(|t| t.as_second()),
            l.elapsed_s,
            l.timer_s,
            l.distance_m,
            l.avg_power_w,
            l.max_power_w,
            l.np_w,
            l.avg_hr_bpm,
            l.max_hr_bpm,
            l.avg_cadence_rpm,
        ])?;
    }
    let n = tx.execute(
        "UPDATE activity_metrics SET laps_recorded = 1 WHERE activity_id = ?1",
        [id],
    )?;
    if n != 1 {
        return Err(StoreError::CorruptRow {
            id,
            what: "activity_metrics",
            reason: "no metrics row to mark its laps recorded".into(),
        });
    }
    Ok(())
}

/// Forget the laps of activity `id` (it is being replaced by data that carries none).
pub(crate) fn clear_laps(tx: &Transaction<'_>, id: i64) -> Result<(), StoreError> {
    tx.execute("DELETE FROM activity_laps WHERE activity_id = ?1", [id])?;
    tx.execute(
        "UPDATE activity_metrics SET laps_recorded = 0 WHERE activity_id = ?1",
        [id],
    )?;
    Ok(())
}

impl Store {
    /// The laps of one of the athlete's activities, in file order.
    ///
    /// `Ok(None)` when laps were never recorded for it: the activity does not exist or belongs to
    /// another athlete, was imported before schema version 4, or came from a CSV summary without
    /// a file. `Ok(Some(vec![]))` when its file was decoded and has no lap message.
    pub fn activity_laps(
        &self,
        athlete_id: i64,
        activity_id: i64,
    ) -> Result<Option<Vec<LapRow>>, StoreError> {
        let recorded: Option<bool> = self
            .conn
            .query_row(
                "SELECT m.laps_recorded FROM activities a
                 JOIN activity_metrics m ON m.activity_id = a.id
                 WHERE a.athlete_id = ?1 AND a.id = ?2",
                params![athlete_id, activity_id],
                |r| r.get(0),
            )
            .optional()?;
        if recorded != Some(true) {
            return Ok(None);
        }
        let mut stmt = self.conn.prepare(
            "SELECT lap_index, start_time, elapsed_s, timer_s, distance_m, avg_power_w,
                max_power_w, np_w, avg_hr_bpm, max_hr_bpm, avg_cadence_rpm
             FROM activity_laps WHERE activity_id = ?1 ORDER BY lap_index",
        )?;
        let rows = stmt.query_map([activity_id], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, Option<i64>>(1)?,
                LapRow {
                    index: 0,
                    start_time: None,
                    elapsed_s: r.get(2)?,
                    timer_s: r.get(3)?,
                    distance_m: r.get(4)?,
                    avg_power_w: r.get(5)?,
                    max_power_w: r.get(6)?,
                    np_w: r.get(7)?,
                    avg_hr_bpm: r.get(8)?,
                    max_hr_bpm: r.get(9)?,
                    avg_cadence_rpm: r.get(10)?,
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (index, start, mut lap) = row?;
            lap.index = index;
            lap.start_time = start.map(Timestamp::from_second).transpose().map_err(|e| {
                StoreError::CorruptRow {
                    id: activity_id,
                    what: "lap start_time",
                    reason: format!("lap {index}: {e}"),
                }
            })?;
            out.push(lap);
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ride::Lap;

    fn ts(s: i64) -> Option<Timestamp> {
        Timestamp::from_second(s).ok()
    }

    fn rec(t: i64, p: u16, hr: u8) -> Record {
        Record {
            t,
            power_w: Some(p),
            heart_rate_bpm: Some(hr),
            cadence_rpm: Some(if p > 0 { 90 } else { 0 }),
            ..Default::default()
        }
    }

    #[test]
    fn shared_boundary_second_counts_once_and_short_lap_has_no_np() {
        // Lap 1: t 0..=59 at 200 W (its end = lap 2's start = 60); lap 2: t 60..=79 at 300 W,
        // 20 s: too short for an NP.
        let mut records: Vec<Record> = (0..60).map(|t| rec(t, 200, 140)).collect();
        records.extend((60..80).map(|t| rec(t, 300, 160)));
        let activity = Activity {
            laps: vec![
                Lap {
                    start_time: ts(0),
                    end_time: ts(60),
                    total_elapsed_time_s: Some(60.0),
                    total_timer_time_s: Some(60.0),
                    ..Default::default()
                },
                Lap {
                    start_time: ts(60),
                    end_time: ts(79),
                    total_elapsed_time_s: Some(20.0),
                    total_timer_time_s: Some(20.0),
                    ..Default::default()
                },
            ],
            records,
            ..Default::default()
        };
        let laps = compute_laps(&activity);
        assert_eq!(laps.len(), 2);
        assert_eq!(laps[0].avg_power_w, Some(200.0));
        assert_eq!(laps[0].max_power_w, Some(200.0));
        assert!((laps[0].np_w.unwrap() - 200.0).abs() < 1e-9);
        assert_eq!(laps[0].avg_hr_bpm, Some(140.0));
        assert_eq!(laps[1].index, 1);
        assert_eq!(laps[1].avg_power_w, Some(300.0));
        assert_eq!(laps[1].max_hr_bpm, Some(160.0));
        assert_eq!(laps[1].np_w, None, "20 s is under one NP window");
        assert_eq!(laps[1].timer_s, Some(20.0));
    }

    #[test]
    fn lap_without_power_has_no_power_figures() {
        let activity = Activity {
            laps: vec![Lap {
                start_time: ts(0),
                end_time: ts(99),
                ..Default::default()
            }],
            records: (0..100)
                .map(|t| Record {
                    t,
                    heart_rate_bpm: Some(130),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let laps = compute_laps(&activity);
        assert_eq!(laps[0].avg_power_w, None);
        assert_eq!(laps[0].np_w, None);
        assert_eq!(laps[0].avg_hr_bpm, Some(130.0));
        assert_eq!(laps[0].avg_cadence_rpm, None);
    }
}
