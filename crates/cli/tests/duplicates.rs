//! One ride recorded twice counts once: the Edge 810 fixture ride imported in place, then a copy
//! whose bytes differ (a valid FIT file: header CRC filled in, file CRC recomputed) and a Strava
//! CSV summary of the same ride starting five minutes later.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{fixtures, isolated, ok_json};

const RIDE: &str = "python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit";

/// FIT CRC-16, bit by bit (the protocol's polynomial, reflected, initial value 0).
fn fit_crc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// The same FIT file with other bytes: the optional header CRC filled in, the file CRC redone.
fn rewritten_copy(original: &Path, to: &Path) {
    let mut bytes = std::fs::read(original).unwrap();
    assert_eq!(bytes[0], 14, "a 14-byte header with a CRC slot");
    let header_crc = fit_crc(&bytes[..12]);
    bytes[12..14].copy_from_slice(&header_crc.to_le_bytes());
    let n = bytes.len();
    let file_crc = fit_crc(&bytes[..n - 2]);
    bytes[n - 2..].copy_from_slice(&file_crc.to_le_bytes());
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, bytes).unwrap();
}

fn json(tmp: &Path, args: &[&str]) -> Value {
    ok_json(&isolated(tmp).arg("--json").args(args).output().unwrap())
}

fn recent_rides(tmp: &Path) -> Value {
    json(
        tmp,
        &[
            "analyze",
            "performance",
            "--to",
            "2013-08-16",
            "--weeks",
            "1",
        ],
    )["rides"]["recent"]
        .clone()
}

fn listed(tmp: &Path) -> Vec<Value> {
    json(tmp, &["activities"]).as_array().unwrap().clone()
}

#[test]
fn the_same_ride_twice_counts_once_and_the_override_survives_reimport() {
    let Some(fx) = fixtures().map(|f| f.join("fit")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // The original in place (its folder holds other fixture rides, none that week).
    let original = fx.join(RIDE);
    let only = original.parent().unwrap();
    let first = json(t, &["import", "--fit-dir", only.to_str().unwrap()]);
    assert!(first["duplicates"].as_array().unwrap().is_empty());
    let before = recent_rides(t);
    assert_eq!(before["count"], 1);
    let kept_id = listed(t)
        .iter()
        .find(|a| a["source_path"] == "Edge810-Vector-2013-08-16-15-35-10.fit")
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    let copies = t.join("watch");
    rewritten_copy(&original, &copies.join("copy.fit"));
    let second = json(t, &["import", "--fit-dir", copies.to_str().unwrap()]);
    assert_eq!(second["imported"], 1, "different bytes: a new activity");
    let dups = second["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{second}");
    assert_eq!(
        dups[0]["kept_id"], kept_id,
        "equal richness: the earlier import"
    );
    let copy_id = dups[0]["duplicate_id"].as_i64().unwrap();
    assert_eq!(
        recent_rides(t),
        before,
        "counted once: same count, hours and load"
    );
    let copy = listed(t).into_iter().find(|a| a["id"] == copy_id).unwrap();
    assert_eq!(copy["duplicate_of"], kept_id);
    assert_eq!(copy["duplicate_source"], "auto");

    // A CSV summary of the same ride five minutes later is poorer: the FIT file stays kept.
    let csv = t.join("activities.csv");
    std::fs::write(
        &csv,
        "Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time,Moving Time,Distance,Distance\n\
         77,\"Aug 16, 2013, 6:10:10 PM\",\"Vector ride\nfrom the phone\",Ride,4500,4400,41.3,41300\n",
    )
    .unwrap();
    let third = json(t, &["import", "--csv", csv.to_str().unwrap()]);
    let dups = third["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{third}");
    assert_eq!(dups[0]["kept_id"], kept_id);
    let csv_id = dups[0]["duplicate_id"].as_i64().unwrap();
    assert_eq!(recent_rides(t), before);

    // The table shows the flags, and a name with a newline stays on one line.
    let out = isolated(t)
        .args(["activities", "--from", "2013-08-16", "--to", "2013-08-16"])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(table.lines().count(), 4, "header and three rows:\n{table}");
    assert!(
        table.contains(&format!("duplicate of #{kept_id}")),
        "{table}"
    );
    assert!(table.contains("summary only"), "{table}");
    assert!(table.contains("Vector ride from the phone"), "{table}");

    // The user's word: the copy is its own ride (counted), and stays so after a re-import.
    assert_eq!(
        json(t, &["activities", "unmerge", &copy_id.to_string()])["unmerged"][0],
        copy_id
    );
    assert_eq!(recent_rides(t)["count"], 2);
    rewritten_copy(&original, &copies.join("copy-again.fit"));
    let again = json(t, &["import", "--fit-dir", copies.to_str().unwrap()]);
    assert!(
        again["duplicates"].as_array().unwrap().is_empty(),
        "{again}"
    );
    assert_eq!(recent_rides(t)["count"], 2);

    // Merged back by hand, the CSV row as the kept one: the user decides, the importer obeys.
    json(
        t,
        &[
            "activities",
            "merge",
            &csv_id.to_string(),
            &copy_id.to_string(),
        ],
    );
    json(
        t,
        &[
            "activities",
            "merge",
            &kept_id.to_string(),
            &csv_id.to_string(),
        ],
    );
    json(t, &["import", "--fit-dir", only.to_str().unwrap()]);
    json(t, &["import", "--csv", csv.to_str().unwrap()]);
    assert_eq!(recent_rides(t), before);
    let rows = listed(t);
    let by_id = |id: i64| rows.iter().find(|a| a["id"] == id).unwrap().clone();
    assert_eq!(by_id(copy_id)["duplicate_of"], kept_id);
    assert_eq!(by_id(csv_id)["duplicate_source"], "user");

    // `show` prints the stored figures and the laps of the kept ride.
    let shown = json(t, &["activities", "show", &kept_id.to_string()]);
    assert_eq!(shown["laps"].as_array().unwrap().len(), 8);
    assert!((shown["np_w"].as_f64().unwrap() - 301.0).abs() < 1.5);
    let out = isolated(t)
        .args(["activities", "show", &kept_id.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("NP / IF / TSS"), "{text}");
}
