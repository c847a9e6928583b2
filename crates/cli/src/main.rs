//! `cycling-ai`: the binary. Parses the command line, runs one command, and turns any error into
//! one line on stderr with a non-zero exit code.

mod args;
mod cmd;
mod config;
mod diagnostics;
mod providers_setup;
mod term;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Behave like other Unix tools when the reader goes away (`cycling-ai … | head`): end quietly
    // on SIGPIPE instead of panicking in `println!`.
    #[cfg(unix)]
    // SAFETY: called first thing, before any other thread exists; restores the default handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = args::Cli::parse();
    diagnostics::init(cli.verbose);
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
