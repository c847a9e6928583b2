//! Diagnostics on stderr through `tracing`: a span per report phase and per model call, with each
//! call's model, tokens, cost and time. Off unless asked for, so normal output stays clean.

use tracing_subscriber::EnvFilter;

/// `RUST_LOG` wins when set; else `-v` shows our crates at info level and `-vv` at debug.
pub fn init(verbose: u8) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => match verbose {
            0 => return,
            1 => EnvFilter::new("agent=info,llm=info,store=info"),
            _ => EnvFilter::new("agent=debug,llm=debug,store=debug,coach=debug"),
        },
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(crate::term::color_stderr())
        .init();
}
