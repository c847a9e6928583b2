//! Strava `activities.csv` reading: the real export in the shared fixtures plus synthetic files
//! for the header variants and broken rows.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ride::strava::{
    FileKind, StravaActivity, StravaError, StravaExport, parse_activities_csv, read_activities_csv,
};
use ride::{Environment, Sport};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");

/// The current 103-column header (fixtures/README.md).
const HEADER_103: &str = "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,Athlete Weight,Bike Weight,Elapsed Time,Moving Time,Distance,Max Speed,Average Speed,Elevation Gain,Elevation Loss,Elevation Low,Elevation High,Max Grade,Average Grade,Average Positive Grade,Average Negative Grade,Max Cadence,Average Cadence,Max Heart Rate,Average Heart Rate,Max Watts,Average Watts,Calories,Max Temperature,Average Temperature,Relative Effort,Total Work,Number of Runs,Uphill Time,Downhill Time,Other Time,Perceived Exertion,Type,Start Time,Weighted Average Power,Power Count,Prefer Perceived Exertion,Perceived Relative Effort,Commute,Total Weight Lifted,From Upload,Grade Adjusted Distance,Weather Observation Time,Weather Condition,Weather Temperature,Apparent Temperature,Dewpoint,Humidity,Weather Pressure,Wind Speed,Wind Gust,Wind Bearing,Precipitation Intensity,Sunrise Time,Sunset Time,Moon Phase,Bike,Gear,Precipitation Probability,Precipitation Type,Cloud Cover,Weather Visibility,UV Index,Weather Ozone,Jump Count,Total Grit,Average Flow,Flagged,Average Elapsed Speed,Dirt Distance,Newly Explored Distance,Newly Explored Dirt Distance,Activity Count,Total Steps,Carbon Saved,Pool Length,Training Load,Intensity,Average Grade Adjusted Pace,Timer Time,Total Cycles,Recovery,With Pet,Competition,Long Run,For a Cause,With Kid,Downhill Distance,Total Sets,Total Reps,Media";

fn fixture_csv() -> Option<PathBuf> {
    let p = PathBuf::from(FIXTURES).join("strava/joboso/activities.csv");
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: fixtures absent ({})", p.display());
        None
    }
}

fn by_id<'a>(export: &'a StravaExport, id: &str) -> &'a StravaActivity {
    export
        .activities
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("activity {id} not found"))
}

fn assert_close(actual: Option<f64>, expected: f64) {
    let a = actual.unwrap_or_else(|| panic!("expected {expected}, got None"));
    assert!((a - expected).abs() < 1e-6, "expected {expected}, got {a}");
}

/// Builds one data row for a header: `values` maps (column name, occurrence) to text.
fn row_for(header: &str, values: &[(&str, usize, &str)]) -> String {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    header
        .split(',')
        .map(|name| {
            let occ = seen.entry(name).or_insert(0);
            *occ += 1;
            values
                .iter()
                .find(|(n, o, _)| *n == name && *o == *occ)
                .map(|(_, _, v)| csv_quote(v))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_quote(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

fn parse(text: &str) -> StravaExport {
    parse_activities_csv(text.as_bytes(), "activities.csv").expect("parses")
}

// ------------------------------------------------------------------------------------------
// The real export

#[test]
fn real_export_all_rows_parse() {
    let Some(path) = fixture_csv() else { return };
    let export = read_activities_csv(&path).unwrap();
    assert_eq!(export.header_columns, 99);
    assert_eq!(export.activities.len(), 1845);
    // The only imperfection in this export: 20 rows leave the base-block `Elapsed Time` empty,
    // which falls back silently to the display block (same unit), so no warnings at all.
    assert!(export.warnings.is_empty(), "{:#?}", export.warnings);

    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &export.activities {
        *by_type.entry(a.activity_type.as_str()).or_default() += 1;
    }
    assert_eq!(by_type["Ride"], 947);
    assert_eq!(by_type["Run"], 643);
    assert_eq!(by_type["Hike"], 110);
    assert_eq!(by_type["Nordic Ski"], 58);
    assert_eq!(by_type["Alpine Ski"], 57);
    assert_eq!(by_type["Sail"], 20);
    assert_eq!(by_type["Velomobile"], 1);

    let mut by_sport: BTreeMap<Sport, usize> = BTreeMap::new();
    for a in &export.activities {
        *by_sport.entry(a.sport.sport).or_default() += 1;
    }
    assert_eq!(by_sport[&Sport::Ride], 948, "947 Ride + 1 Velomobile");
    assert_eq!(by_sport[&Sport::Run], 643);
    assert_eq!(by_sport[&Sport::Ski], 115);
    assert_eq!(by_sport[&Sport::Hike], 110);
    assert_eq!(by_sport[&Sport::Walk], 3);
    assert_eq!(by_sport[&Sport::Other], 26, "Sail 20, Snowshoe 5, Canoe 1");

    // Rows are numbered like a spreadsheet: header row 1, first activity row 2.
    assert_eq!(export.activities[0].row, 2);
    assert_eq!(export.activities[1844].row, 1846);
}

#[test]
fn real_export_first_row_values() {
    let Some(path) = fixture_csv() else { return };
    let export = read_activities_csv(&path).unwrap();
    let a = &export.activities[0];
    assert_eq!(a.id, "203707851");
    assert_eq!(a.start_time.to_string(), "2014-10-05T16:15:21Z");
    assert_eq!(a.name, "Lunch Ride");
    assert_eq!(a.sport.sport, Sport::Ride);
    assert_eq!(a.sport.environment, Environment::Outdoor);
    // Metres from the second `Distance` column, not the display 13.61 km.
    assert_close(a.distance_m, 13609.2001953125);
    assert_close(a.elapsed_s, 2833.0);
    assert_close(a.moving_s, 2499.0);
    assert_close(a.max_speed_mps, 11.0);
    assert_eq!(a.avg_speed_mps, None);
    assert_close(a.elevation_gain_m, 73.52400207519531);
    assert_close(a.athlete_weight_kg, 62.0);
    assert_eq!(a.filename.as_deref(), Some("activities/203707851.gpx"));
    assert_eq!(a.file_kind, FileKind::Gpx);
    assert_eq!(a.avg_watts, None);
    assert!(!a.power_estimated);
    assert!(!a.commute);
    assert_eq!(a.description, None);
    assert_eq!(a.gear, None);
}

#[test]
fn real_export_power_is_estimated_never_measured() {
    let Some(path) = fixture_csv() else { return };
    let export = read_activities_csv(&path).unwrap();
    assert!(
        export
            .activities
            .iter()
            .all(|a| a.weighted_avg_power_w.is_none()),
        "this export has no power meter data"
    );
    let estimated = export
        .activities
        .iter()
        .filter(|a| a.power_estimated)
        .count();
    assert_eq!(estimated, 918);
    assert!(
        export
            .activities
            .iter()
            .all(|a| a.measured_avg_watts().is_none())
    );

    let a = by_id(&export, "208479490");
    assert_close(a.avg_watts, 83.4446029663086);
    assert!(a.power_estimated);
    assert_close(a.calories, 218.36659240722656);
}

#[test]
fn real_export_specific_rows() {
    let Some(path) = fixture_csv() else { return };
    let export = read_activities_csv(&path).unwrap();

    // Base-block Elapsed Time is empty here: falls back to the display block (seconds too).
    let a = by_id(&export, "2337394731");
    assert_close(a.elapsed_s, 7283.0);
    assert_close(a.moving_s, 6789.0);
    assert_eq!(a.gear.as_deref(), Some("CAAD8"));

    let v = by_id(&export, "14142078574");
    assert_eq!(v.activity_type, "Velomobile");
    assert!(v.sport.is_ride());
    assert_close(v.distance_m, 233339.703125);
    assert_eq!(v.start_time.to_string(), "2025-04-10T15:44:31Z");

    // The file name need not carry the activity id.
    let g = by_id(&export, "7796555307");
    assert_eq!(g.filename.as_deref(), Some("activities/8328132174.gpx.gz"));
    assert_eq!(g.file_kind, FileKind::GpxGz);

    assert_eq!(by_id(&export, "7763616047").name, "Course à pied matinale");
    assert_eq!(
        by_id(&export, "3019598408").description.as_deref(),
        Some("Md day")
    );

    let last = export.activities.last().unwrap();
    assert_eq!(last.id, "15586400430");
    assert_eq!(last.start_time.to_string(), "2025-08-25T21:59:25Z");
    assert_close(last.distance_m, 20458.19921875);
    assert_close(last.avg_speed_mps, 4.164943218231201);
    assert_eq!(last.gear.as_deref(), Some("Kona Rove ST"));
}

// ------------------------------------------------------------------------------------------
// Synthetic files

#[test]
fn header_103_reads_both_blocks_by_occurrence() {
    let row = row_for(
        HEADER_103,
        &[
            ("Activity ID", 1, "17000000001"),
            ("Activity Date", 1, "May 13, 2026, 9:54:42 AM"),
            ("Activity Name", 1, "Morning Ride"),
            ("Activity Type", 1, "Virtual Ride"),
            ("Elapsed Time", 1, "3631"),
            ("Distance", 1, "32.85"),
            ("Max Heart Rate", 1, "171"),
            ("Relative Effort", 1, "88"),
            ("Commute", 1, "false"),
            ("Filename", 1, "activities/17000000001.fit.gz"),
            ("Elapsed Time", 2, "3631.0"),
            ("Moving Time", 1, "3600.0"),
            ("Distance", 2, "32851.9"),
            ("Max Heart Rate", 2, "172.0"),
            ("Average Heart Rate", 1, "141.5"),
            ("Average Watts", 1, "231.0"),
            ("Max Watts", 1, "612.0"),
            ("Weighted Average Power", 1, "248.0"),
            ("Power Count", 1, "3600.0"),
            ("Relative Effort", 2, "89.0"),
            ("Commute", 2, "1.0"),
            ("Total Work", 1, "831600.0"),
            ("Training Load", 1, "88.0"),
            ("Intensity", 1, "93.6"),
            ("Timer Time", 1, "3600.0"),
            ("Average Cadence", 1, "88.0"),
        ],
    );
    let export = parse(&format!("{HEADER_103}\n{row}\n"));
    assert_eq!(export.header_columns, 103);
    assert!(export.warnings.is_empty(), "{:?}", export.warnings);
    let a = &export.activities[0];
    assert_eq!(a.start_time.to_string(), "2026-05-13T09:54:42Z");
    assert_eq!(a.sport.environment, Environment::Virtual);
    assert_close(a.distance_m, 32851.9);
    assert_close(a.elapsed_s, 3631.0);
    assert_close(a.moving_s, 3600.0);
    assert_close(a.max_hr_bpm, 172.0);
    assert_close(a.avg_hr_bpm, 141.5);
    assert_close(a.relative_effort, 89.0);
    assert!(a.commute, "second Commute column says 1.0");
    assert_close(a.weighted_avg_power_w, 248.0);
    assert!(!a.power_estimated);
    assert_eq!(a.measured_avg_watts(), Some(231.0));
    assert_close(a.max_watts, 612.0);
    assert_close(a.power_count, 3600.0);
    assert_close(a.total_work_j, 831600.0);
    assert_close(a.training_load, 88.0);
    assert_close(a.intensity, 93.6);
    assert_close(a.timer_s, 3600.0);
    assert_close(a.avg_cadence, 88.0);
    assert_eq!(a.file_kind, FileKind::FitGz);
}

#[test]
fn html_garbage_header() {
    let span = |key: &str, text: &str| {
        format!(
            "\"<span class=\"\"translation_missing\"\" title=\"\"translation missing: \
             en-US.lib.export.portability_exporter.activities.horton_values.{key}\"\">{text}</span>\""
        )
    };
    let header = [
        "Activity ID".to_owned(),
        "Activity Date".to_owned(),
        "Activity Name".to_owned(),
        span("activity_type", "Activity Type"),
        "Filename".to_owned(),
        span("elapsed_time", ""),
        span("moving_time", "Moving Time"),
        "Distance".to_owned(),
        span("distance", "Distance"),
        span("type", "Type"),
    ]
    .join(",");
    let text = format!(
        "{header}\n42,\"Jun 1, 2021, 6:00:00 AM\",Spin,Ride,activities/42.fit,3700.0,3600.0,30.1,30100.5,x\n"
    );
    let export = parse(&text);
    assert_eq!(export.header_columns, 10);
    let a = &export.activities[0];
    assert_eq!(a.activity_type, "Ride");
    assert_close(a.elapsed_s, 3700.0);
    assert_close(a.moving_s, 3600.0);
    assert_close(a.distance_m, 30100.5);
    assert_eq!(a.file_kind, FileKind::Fit);
    assert!(export.warnings.is_empty(), "{:?}", export.warnings);
}

#[test]
fn older_79_column_header_without_power_columns() {
    // The first 79 columns of the current header: no Weighted Average Power, Training Load,
    // Intensity or Timer Time.
    let header: Vec<&str> = HEADER_103.split(',').take(79).collect();
    let header79: String = header
        .iter()
        .copied()
        .filter(|h| !["Weighted Average Power", "Power Count"].contains(h))
        .chain(["Extra One", "Extra Two"])
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(header79.split(',').count(), 79);
    let row = row_for(
        &header79,
        &[
            ("Activity ID", 1, "9"),
            ("Activity Date", 1, "Oct 5, 2014, 4:15:21 PM"),
            ("Activity Type", 1, "Ride"),
            ("Distance", 1, "10.00"),
            ("Distance", 2, "10000.0"),
            ("Average Watts", 1, "150.0"),
            ("Extra One", 1, "whatever"),
        ],
    );
    let export = parse(&format!("{header79}\n{row}\n"));
    assert_eq!(export.header_columns, 79);
    let a = &export.activities[0];
    assert_close(a.distance_m, 10000.0);
    // No Weighted Average Power column at all: the watts cannot be shown to be measured.
    assert!(a.power_estimated);
    assert_eq!(a.training_load, None);
    assert_eq!(a.timer_s, None);
}

#[test]
fn single_display_distance_column_is_converted_from_km() {
    let text = "Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time,Distance,Filename\n\
        1,\"Oct 5, 2014, 4:15:21 PM\",A,Ride,3600,30.5,activities/1.gpx\n\
        2,\"Oct 6, 2014, 4:15:21 PM\",B,Run,1800,5.2,\n";
    let export = parse(text);
    assert_close(export.activities[0].distance_m, 30500.0);
    assert_close(export.activities[1].distance_m, 5200.0);
    assert_eq!(export.activities[1].file_kind, FileKind::None);
    assert_eq!(export.warnings.len(), 1, "{:?}", export.warnings);
    assert!(export.warnings[0].contains("single `Distance` column"));
    assert!(export.warnings[0].contains("kilometres"));
}

#[test]
fn single_base_distance_column_is_metres() {
    let text = "Activity ID,Activity Date,Activity Type,Filename,Moving Time,Distance\n\
        1,\"Oct 5, 2014, 4:15:21 PM\",Ride,,3600,30500.0\n";
    let export = parse(text);
    assert_close(export.activities[0].distance_m, 30500.0);
    assert!(
        export.warnings[0].contains("metres"),
        "{:?}",
        export.warnings
    );
}

#[test]
fn empty_base_distance_uses_display_unit_inferred_from_other_rows() {
    // Miles: the ratio base/display over complete rows is 1609.344.
    let header = "Activity ID,Activity Date,Activity Type,Distance,Filename,Distance";
    let text = format!(
        "{header}\n\
         1,2024-05-01 10:00:00,Ride,10.00,,16093.44\n\
         2,2024-05-02 10:00:00,Ride,20.00,,32186.88\n\
         3,2024-05-03 10:00:00,Ride,5.00,,\n"
    );
    let export = parse(&text);
    assert_close(export.activities[2].distance_m, 8046.72);
    assert_eq!(export.warnings.len(), 1);
    assert!(
        export.warnings[0].starts_with("activities.csv row 4: column `Distance` (#2) is empty")
    );
    assert!(
        export.warnings[0].contains("5 mi"),
        "{}",
        export.warnings[0]
    );
}

#[test]
fn short_row_and_bad_values_warn_with_row_and_column() {
    let header = "Activity ID,Activity Date,Activity Name,Activity Type,Distance,Filename,Distance,Moving Time,Average Watts";
    let text = format!(
        "{header}\n\
         1,\"Oct 5, 2014, 4:15:21 PM\",Good,Ride,10.0,,10000.0,1800,150\n\
         2,\"Oct 6, 2014, 4:15:21 PM\",Bad number,Ride,10.0,,abc,1800,150\n\
         3,\"Oct 7, 2014, 4:15:21 PM\",Short,Ride,10.0\n\
         4,not a date,Bad date,Ride,10.0,,10000.0,1800,150\n\
         ,\"Oct 9, 2014, 4:15:21 PM\",No id,Ride,10.0,,10000.0,1800,150\n\
         1,\"Oct 10, 2014, 4:15:21 PM\",Duplicate,Ride,10.0,,10000.0,1800,150\n\
         7,\"Oct 11, 2014, 4:15:21 PM\",Negative,Ride,10.0,,10000.0,-5,150\n"
    );
    let export = parse(&text);
    let ids: Vec<&str> = export.activities.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "7"]);
    let w = &export.warnings;
    assert!(
        w.contains(
            &"activities.csv row 3: column `Distance` (#2): 'abc' is not a number".to_owned()
        ),
        "{w:#?}"
    );
    // Row 3's base distance is None, so it falls back to the display value, whose unit (km)
    // comes from the ratio base/display = 1000 on the complete rows.
    assert_close(export.activities[1].distance_m, 10000.0);
    assert!(
        w.iter()
            .any(|m| m.starts_with("activities.csv row 4: 5 fields but the header has 9"))
    );
    let short = &export.activities[2];
    assert_eq!(short.name, "Short");
    assert_eq!(short.moving_s, None);
    assert!(w.iter().any(|m| {
        m.starts_with("activities.csv row 5: column `Activity Date`: 'not a date'")
            && m.ends_with("row skipped")
    }));
    assert!(
        w.iter()
            .any(|m| m == "activities.csv row 6: column `Activity ID` is empty; row skipped")
    );
    assert!(
        w.iter()
            .any(|m| m.starts_with("activities.csv row 7: activity 1 appears again"))
    );
    assert!(
        w.iter()
            .any(|m| m == "activities.csv row 8: column `Moving Time`: -5 is negative; ignored")
    );
    assert_eq!(export.activities[3].moving_s, None);
}

#[test]
fn emoji_comma_and_multiline_description() {
    let row = row_for(
        HEADER_103,
        &[
            ("Activity ID", 1, "555"),
            ("Activity Date", 1, "Dec 31, 2023, 11:59:59 PM"),
            ("Activity Name", 1, "🚴 Hills, wind & \"fun\" 💨"),
            ("Activity Type", 1, "Gravel Ride"),
            (
                "Activity Description",
                1,
                "Line one,\nline two\r\n\"quoted\"",
            ),
            ("Distance", 2, "1000.0"),
        ],
    );
    let row2 = row_for(
        HEADER_103,
        &[
            ("Activity ID", 1, "556"),
            ("Activity Date", 1, "Jan 1, 2024, 12:00:01 AM"),
            ("Activity Type", 1, "Weight Training"),
        ],
    );
    let export = parse(&format!("{HEADER_103}\n{row}\n{row2}\n"));
    assert_eq!(export.activities.len(), 2);
    let a = &export.activities[0];
    assert_eq!(a.name, "🚴 Hills, wind & \"fun\" 💨");
    assert_eq!(
        a.description.as_deref(),
        Some("Line one,\nline two\r\n\"quoted\"")
    );
    assert_eq!(a.sport.sport, Sport::Ride);
    assert_eq!(a.start_time.to_string(), "2023-12-31T23:59:59Z");
    let b = &export.activities[1];
    assert_eq!(b.row, 3, "record number, not text line");
    assert_eq!(b.line, 5, "the description spans three lines");
    assert_eq!(b.sport.sport, Sport::Strength);
    assert_eq!(b.start_time.to_string(), "2024-01-01T00:00:01Z");
}

#[test]
fn empty_file_is_an_error() {
    let err = parse_activities_csv(&b""[..], "activities.csv").unwrap_err();
    assert!(matches!(err, StravaError::Empty { .. }));
    assert_eq!(err.to_string(), "activities.csv: empty file, no header");
    let err = parse_activities_csv(&b"\xef\xbb\xbf\n"[..], "activities.csv").unwrap_err();
    assert_eq!(err.to_string(), "activities.csv: empty file, no header");
}

#[test]
fn header_without_rows_is_ok_and_empty() {
    let export = parse(&format!("{HEADER_103}\n"));
    assert_eq!(export.header_columns, 103);
    assert!(export.activities.is_empty());
    assert!(export.warnings.is_empty());
}

#[test]
fn missing_required_column_names_it() {
    let err = parse_activities_csv(
        &b"Activity ID,Activity Name,Activity Type\n1,x,Ride\n"[..],
        "export/activities.csv",
    )
    .unwrap_err();
    match &err {
        StravaError::MissingColumn { column, found, .. } => {
            assert_eq!(*column, "Activity Date");
            assert_eq!(*found, 3);
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.starts_with("export/activities.csv: required column `Activity Date` is missing"),
        "{msg}"
    );
}

#[test]
fn bom_and_missing_file() {
    let text = "\u{feff}Activity ID,Activity Date,Activity Type\n1,2024-01-02 03:04:05,Run\n";
    let export = parse(text);
    assert_eq!(
        export.activities[0].start_time.to_string(),
        "2024-01-02T03:04:05Z"
    );
    let err = read_activities_csv(std::path::Path::new("/nonexistent/activities.csv")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/nonexistent/activities.csv: cannot read:")
    );
}

#[test]
fn read_from_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("activities.csv");
    std::fs::write(
        &path,
        "Activity ID,Activity Date,Activity Type,Moving Time\n1,2024-01-02 03:04:05,Run,x\n",
    )
    .unwrap();
    let export = read_activities_csv(&path).unwrap();
    assert_eq!(
        export.warnings,
        [format!(
            "{} row 2: column `Moving Time`: 'x' is not a number",
            path.display()
        )]
    );
}
