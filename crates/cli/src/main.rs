//! `cycling-ai`: the binary. Parses the command line, runs one command, and turns any error into
//! one line on stderr with a non-zero exit code.

mod args;
mod cmd;
mod term;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the chain of causes joined, so scripts can grep it and people can read it.
            let mut line = err.to_string();
            for cause in err.chain().skip(1) {
                let cause = cause.to_string();
                if !line.contains(&cause) {
                    line.push_str(": ");
                    line.push_str(&cause);
                }
            }
            let line = line.replace('\n', " ");
            eprintln!("{} {line}", term::error_label());
            ExitCode::FAILURE
        }
    }
}
