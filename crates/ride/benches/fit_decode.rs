//! FIT decoding throughput on real device files (run: `cargo bench -p ride --bench fit_decode`).
//! Files are read once; each iteration decodes from memory, so this measures the decoder only.
//! Skips (with a message) when the shared fixtures are absent.

use std::path::PathBuf;

use divan::Bencher;

const FILES: &[&str] = &[
    "python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit",
    "python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit",
    "python-fitparse/activity-large-fenxi2-multisport.fit",
    "python-fitparse/compressed-speed-distance.fit",
];

fn fixture(name: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/fit"
    ))
    .join(name);
    std::fs::read(path).ok()
}

fn main() {
    if fixture(FILES[0]).is_none() {
        eprintln!("skipping fit_decode bench: fixtures absent (../shared/fixtures/fit)");
        return;
    }
    divan::main();
}

#[divan::bench(args = FILES)]
fn decode(bencher: Bencher, name: &str) {
    let bytes = fixture(name).expect("fixture present (checked in main)");
    let records = ride::fit::decode_bytes(&bytes)
        .expect("fixture decodes")
        .records
        .len();
    bencher
        .counter(divan::counter::ItemsCount::new(records))
        .bench(|| ride::fit::decode_bytes(divan::black_box(&bytes)).expect("fixture decodes"));
}

#[divan::bench]
fn decode_gzip(bencher: Bencher) {
    use std::io::Write as _;
    let bytes = fixture(FILES[1]).expect("fixture present (checked in main)");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).expect("in-memory write");
    let gz = gz.finish().expect("in-memory gzip");
    bencher.bench(|| ride::fit::decode_bytes(divan::black_box(&gz)).expect("fixture decodes"));
}
