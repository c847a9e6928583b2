//! A fake Bedrock runtime for `bench/report_tokens.sh` and `bench/roster.sh`: the loopback fake
//! of the `llm` crate (real wire format, real service rules; the binary talks to it through the
//! real AWS SDK) scripted with realistic replies taken from a rule-based report of the same data
//! — its narrative as the analysis answer and its plan overview as the `create_plan_overview`
//! call.
//!
//! ```text
//! cargo run -p cycling-ai --example fake_model -- OFFLINE_REPORT_DIR
//!     [--repeat] [--first-token S] [--tokens-per-second N] [--throttle-over K]
//! ```
//!
//! `--repeat` answers every analysis and plan request (a roster asks many times; the demo
//! athletes share availability and plan dates, so one overview is valid for all) and reports each
//! answer's input tokens as its request's size at 4 characters a token; `--first-token` and
//! `--tokens-per-second` stream the answers at that pace (a realistic model: 0.8 and 60);
//! `--throttle-over K` throttles calls arriving while K are being answered.
//!
//! Prints `ENDPOINT http://127.0.0.1:PORT` on the first line, serves until stdin closes, then
//! prints one JSON line measuring what it received and answered. The fake reports fixed usage
//! (it cannot tokenise), so token counts are estimated here from the actual bytes at 4 characters
//! per token: input = each request body as sent (system prompt, messages, tool schemas, JSON
//! framing), output = each scripted answer.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use llm::testing::{FakeBedrock, ModelReply, Reply};
use serde_json::{Value, json};

fn read_json(path: &std::path::Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

/// The command line after the report folder.
#[derive(Default)]
struct Opts {
    repeat: bool,
    first_token: Option<f64>,
    tokens_per_second: Option<f64>,
    throttle_over: Option<usize>,
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts::default();
    let mut it = args.iter();
    let num = |flag: &str, v: Option<&String>| -> f64 {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--repeat" => o.repeat = true,
            "--first-token" => o.first_token = Some(num(a, it.next())),
            "--tokens-per-second" => o.tokens_per_second = Some(num(a, it.next())),
            "--throttle-over" => o.throttle_over = Some(num(a, it.next()) as usize),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .expect("usage: fake_model OFFLINE_REPORT_DIR [--repeat] [--first-token S] [--tokens-per-second N] [--throttle-over K]"),
    );
    let opts = parse_opts(&args[1..]);
    let data = read_json(&dir.join("report_data.json"));
    let plan = read_json(&dir.join("plan.json"));
    let mut narrative = data["narrative"].clone();
    if let Some(m) = narrative.as_object_mut() {
        m.remove("author");
    }
    let narrative = narrative.to_string();
    let overview: coach::plan::PlanOverview =
        serde_json::from_value(plan["overview"].clone()).expect("plan.json has an overview");
    let overview = serde_json::to_string(&agent::plan_llm::OverviewArgs::from_overview(&overview))
        .expect("serialising the overview");

    let fake = FakeBedrock::start().await;
    let mut replies = [
        ModelReply::text(&narrative).with_usage(0, tokens(narrative.chars().count()), None, None),
        ModelReply::tool_calls(&[("tooluse_bench_1", "create_plan_overview", &overview)])
            .with_usage(0, tokens(overview.chars().count()), None, None),
    ];
    // Models stream a few tokens per delta; the fake's default of 4 characters per event would
    // make the benchmark measure event-stream framing instead of the pipeline.
    let pace = opts.first_token.map(|s| llm::testing::Pace {
        first_token: std::time::Duration::from_secs_f64(s),
        tokens_per_second: opts.tokens_per_second.unwrap_or(0.0),
    });
    for r in &mut replies {
        r.chunk = 48;
        r.latency_ms = 0;
        r.pace = pace;
    }
    let output_chars: Vec<usize> = vec![narrative.chars().count(), overview.chars().count()];
    // Routed by phase: phases 2 and 3 send their requests at the same time.
    let marks = [
        agent::analysis_llm::REQUEST_MARK,
        agent::plan_llm::TOOL_NAME,
    ];
    for (r, mark) in replies.into_iter().zip(marks) {
        if opts.repeat {
            fake.answer_always(mark, Reply::Model(r));
        } else {
            fake.push_for(mark, Reply::Model(r));
        }
    }
    if opts.repeat {
        fake.count_input_tokens();
    }
    if let Some(k) = opts.throttle_over {
        fake.throttle_over(k);
    }
    println!("ENDPOINT {}", fake.endpoint());
    std::io::stdout().flush().expect("stdout");

    // Serve until the benchmark closes our stdin.
    tokio::task::spawn_blocking(|| for _ in std::io::stdin().lock().lines() {})
        .await
        .expect("stdin reader");

    let requests = fake.requests();
    let input_chars: Vec<usize> = requests
        .iter()
        .map(|r| r.body.to_string().chars().count())
        .collect();
    if opts.repeat {
        // Many reports: the load the service saw rather than each body.
        let report = json!({
            "requests": requests.len(),
            "throttled": fake.throttled(),
            "max_in_flight": fake.max_in_flight(),
            "rejections": fake.rejections(),
            "input_tokens_est": input_chars.iter().map(|c| tokens(*c)).sum::<u64>(),
        });
        println!("{report}");
        return;
    }
    let answered = requests.len().min(output_chars.len());
    let report = json!({
        "requests": requests.len(),
        "rejections": fake.rejections(),
        "input_chars": input_chars,
        "input_tokens_est": input_chars.iter().map(|c| tokens(*c)).sum::<u64>(),
        "output_chars": &output_chars[..answered],
        "output_tokens_est": output_chars[..answered].iter().map(|c| tokens(*c)).sum::<u64>(),
    });
    println!("{report}");
}
