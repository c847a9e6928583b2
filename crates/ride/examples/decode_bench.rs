//! Decode FIT files repeatedly and report throughput, for `bench/fit_decode.sh`.
//!
//! Usage: `decode_bench [-n RUNS] FILE...`
//!
//! Each run decodes every file once from memory (files are read before timing, as the Python
//! side does) and materialises every record into the typed model. Prints one line per file
//! (records, messages) and then the median run's records/s.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut runs = 10usize;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-n" {
            match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => runs = n,
                _ => {
                    eprintln!("-n needs a positive number of runs");
                    return ExitCode::FAILURE;
                }
            }
        } else {
            files.push(PathBuf::from(arg));
        }
    }
    if files.is_empty() {
        eprintln!("usage: decode_bench [-n RUNS] FILE...");
        return ExitCode::FAILURE;
    }

    let mut inputs = Vec::new();
    for path in &files {
        match std::fs::read(path) {
            Ok(bytes) => inputs.push((path, bytes)),
            Err(e) => {
                eprintln!("cannot read {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }

    let mut total_records = 0usize;
    for (path, bytes) in &inputs {
        match ride::fit::decode_bytes(bytes) {
            Ok(a) => {
                println!(
                    "{}: {} records, {} messages{}",
                    path.display(),
                    a.records.len(),
                    a.message_count,
                    if a.truncated { " (truncated)" } else { "" }
                );
                total_records += a.records.len();
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }

    let mut seconds = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let mut records = 0usize;
        for (_, bytes) in &inputs {
            // Errors were ruled out above; a failing decode here would be a nondeterminism bug.
            let activity =
                ride::fit::decode_bytes(std::hint::black_box(bytes)).expect("decoded once already");
            records += activity.records.len();
        }
        seconds.push(start.elapsed().as_secs_f64());
        assert_eq!(records, total_records, "record count changed between runs");
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    println!(
        "runs: {runs}, records per run: {total_records}, median run: {:.2} ms",
        median * 1e3
    );
    println!("records/s: {:.0}", total_records as f64 / median);
    ExitCode::SUCCESS
}
