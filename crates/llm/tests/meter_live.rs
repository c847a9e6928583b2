//! Live progress of a streaming answer: a long generation reports how much has arrived while it
//! streams; a quick one reports nothing.

use std::sync::Mutex;
use std::time::Duration;

use llm::bedrock::BedrockOptions;
use llm::testing::{FakeBedrock, ModelReply, Pace, Reply};
use llm::{Catalog, Message, Meter, Receiving, Request};

const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_answer_reports_its_progress_while_it_streams() {
    let fake = FakeBedrock::start().await;
    let text = "steady endurance riding builds the base. ".repeat(20); // 820 characters
    // 200 output tokens at 100 a second after 100 ms: about 2.1 s of streaming.
    fake.push(Reply::Model(
        ModelReply::text(&text)
            .with_usage(50, 200, None, None)
            .with_pace(Pace {
                first_token: Duration::from_millis(100),
                tokens_per_second: 100.0,
            }),
    ));
    fake.push(Reply::Model(ModelReply::text("quick")));
    let provider = fake.provider(BedrockOptions::default()).await;
    let catalog = Catalog::builtin();
    let seen: Mutex<Vec<Receiving>> = Mutex::new(Vec::new());
    let live = |r: Receiving| seen.lock().unwrap().push(r);
    let mut meter = Meter::new(&provider, &catalog, None)
        .with_live(&live)
        .live_every(Duration::from_millis(300));
    let request = Request::new(MODEL, vec![Message::user("advice?")], 400);
    let answer = meter.complete(&request).await.unwrap();
    assert_eq!(answer.text, text);

    let reports = seen.lock().unwrap().clone();
    assert!(reports.len() >= 3, "{reports:?}");
    for pair in reports.windows(2) {
        assert!(pair[1].chars >= pair[0].chars, "{reports:?}");
        assert!(pair[1].elapsed >= pair[0].elapsed + Duration::from_millis(300));
    }
    let last = reports.last().unwrap();
    assert!(last.chars > 0 && last.chars <= text.len(), "{last:?}");
    assert_eq!(last.estimated_tokens(), last.chars.div_ceil(4) as u64);
    assert!(reports[0].elapsed >= Duration::from_millis(300));

    // An answer faster than the interval is never reported.
    seen.lock().unwrap().clear();
    meter.complete(&request).await.unwrap();
    assert!(seen.lock().unwrap().is_empty());
}
