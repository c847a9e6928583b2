//! A fake Bedrock runtime for `bench/report_tokens.sh`: the loopback fake of the `llm` crate (real
//! wire format, real service rules; the binary talks to it through the real AWS SDK) scripted with
//! realistic replies taken from a rule-based report of the same data — its narrative as the
//! analysis answer and its plan overview as the `create_plan_overview` call.
//!
//! ```text
//! cargo run -p cycling-ai --example fake_model -- OFFLINE_REPORT_DIR
//! ```
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: fake_model OFFLINE_REPORT_DIR"),
    );
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
    for r in &mut replies {
        r.chunk = 48;
        r.latency_ms = 0;
    }
    let output_chars: Vec<usize> = vec![narrative.chars().count(), overview.chars().count()];
    // Routed by phase: phases 2 and 3 send their requests at the same time.
    let marks = [
        agent::analysis_llm::REQUEST_MARK,
        agent::plan_llm::TOOL_NAME,
    ];
    for (r, mark) in replies.into_iter().zip(marks) {
        fake.push_for(mark, Reply::Model(r));
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
