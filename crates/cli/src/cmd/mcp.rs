//! `cycling-ai mcp [--http ADDR]` and `cycling-ai mcp token [--rotate]`. On stdio, stdout carries
//! the protocol: everything this command says goes to stderr.

use std::sync::Arc;

use anyhow::{Context, Result};

use super::Global;
use crate::args::{McpArgs, McpCommand};

/// Tool calls (blocking store reads) that run at the same time; more wait their turn.
const MAX_PARALLEL_CALLS: usize = 4;

pub fn run(global: &Global, args: McpArgs) -> Result<()> {
    if let Some(McpCommand::Token { rotate }) = args.command {
        return token(global, rotate);
    }
    // Few, long-lived threads: every thread that allocates gets its own malloc arena, so a
    // pool that keeps replacing idle threads makes a long session's memory climb in steps
    // (bench/mcp_memory.sh). Tool calls are short; four at a time is plenty for one user.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(MAX_PARALLEL_CALLS)
        .thread_keep_alive(std::time::Duration::from_secs(3600))
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let transport = if args.http.is_some() { "http" } else { "stdio" };
    let server = Arc::new(
        mcp::Server::new(global.data_dir.clone(), args.reports.clone(), transport)
            .with_default_athlete(global.athlete.clone()),
    );
    runtime.block_on(async move {
        let Some(addr) = args.http else {
            return mcp::serve_stdio(server)
                .await
                .context("serving MCP over stdio");
        };
        let token = mcp::token::load_or_create(&global.data_dir)?;
        let options = mcp::http::HttpOptions {
            addr,
            allow_remote: args.allow_remote,
            allowed_origins: args.allow_origin.clone(),
            token: token.value.clone(),
            token_file: Some(token.path.clone()),
        };
        let serve = mcp::http::serve_http(server, options, |bound| {
            eprintln!(
                "cycling-ai MCP server listening on http://{bound}{}",
                mcp::http::PATH
            );
            if token.created {
                // Shown once: afterwards it is only in the 0600 file.
                eprintln!("bearer token (new, shown once): {}", token.value);
            }
            eprintln!("token file: {}", token.path.display());
        });
        tokio::select! {
            served = serve => served.context("serving MCP over HTTP"),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

fn token(global: &Global, rotate: bool) -> Result<()> {
    if rotate {
        let token = mcp::token::rotate(&global.data_dir)?;
        println!("{}", token.value);
        eprintln!(
            "new bearer token written to {} (0600); a running server accepts only this one from now on",
            token.path.display()
        );
    } else {
        let path = mcp::token::token_path(&global.data_dir);
        if path.is_file() {
            println!("{}", path.display());
        } else {
            println!(
                "no token yet: `cycling-ai mcp --http 127.0.0.1:PORT` makes one ({})",
                path.display()
            );
        }
    }
    Ok(())
}
