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
            eprintln!("{} {}", term::error_label(), cmd::error_line(&err));
            ExitCode::FAILURE
        }
    }
}
