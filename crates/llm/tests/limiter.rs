//! `llm::limiter::Limited` over the real Bedrock provider (AWS SDK, one attempt per call) against
//! the loopback fake: many callers share a budget of calls in flight, throttles — as an HTTP 429
//! or as the event stream's first exception — are ridden out, and the fake never sees more calls
//! at once than the budget.

use std::sync::Arc;
use std::time::Duration;

use llm::bedrock::{BedrockOptions, RetryMode, RetrySettings};
use llm::limiter::{Limited, Limiter, LimiterSettings};
use llm::testing::{FakeBedrock, Frame, ModelReply, Pace, Reply};
use llm::{Message, Provider, Request};

const MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

async fn one_attempt_provider(fake: &FakeBedrock) -> Arc<dyn Provider> {
    Arc::new(
        fake.provider(BedrockOptions {
            retry: Some(RetrySettings {
                mode: RetryMode::Standard,
                max_attempts: Some(1),
            }),
            ..BedrockOptions::default()
        })
        .await,
    )
}

fn settings(max: usize) -> LimiterSettings {
    LimiterSettings {
        max_in_flight: max,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_throttles_per_call: 20,
    }
}

fn request(i: usize) -> Request {
    Request::new(MODEL, vec![Message::user(format!("question {i}"))], 64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_callers_never_exceed_the_budget_and_ride_out_throttling() {
    let fake = FakeBedrock::start().await;
    fake.answer_always(
        "question",
        Reply::Model(ModelReply::text("fine").with_pace(Pace {
            first_token: Duration::from_millis(60),
            tokens_per_second: 0.0,
        })),
    );
    fake.throttle_next(2);
    fake.throttle_over(2);
    let limiter = Arc::new(Limiter::new(settings(3)));
    let inner = one_attempt_provider(&fake).await;
    let calls = (0..12).map(|i| {
        let p = Limited {
            inner: inner.clone(),
            limiter: limiter.clone(),
        };
        async move { p.complete(&request(i)).await }
    });
    let answers = futures::future::join_all(calls).await;
    for a in &answers {
        assert_eq!(
            a.as_ref().expect("no call fails for a throttle").text,
            "fine"
        );
    }
    assert_eq!(fake.rejections(), Vec::<String>::new());
    let st = limiter.stats();
    assert!(fake.max_in_flight() <= 3, "{}", fake.max_in_flight());
    assert!(st.max_in_flight <= 3);
    assert!(fake.throttled() >= 2, "{}", fake.throttled());
    assert_eq!(st.throttles as usize, fake.throttled());
    assert!(st.min_limit < 3, "{st:?}");
    // Every throttled call was made again: 12 answered.
    assert_eq!(fake.requests().len() - fake.throttled(), 12);
    assert_eq!(st.calls as usize, fake.requests().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_in_the_event_stream_is_ridden_out_too() {
    let fake = FakeBedrock::start().await;
    let throttled = || {
        Reply::Frames(vec![Frame::Exception(
            "throttlingException".into(),
            "Too many tokens, please wait before trying again.".into(),
        )])
    };
    // The provider re-issues a stream refused before any output once on its own; the second
    // refusal reaches the limiter, which waits and calls again.
    fake.push(throttled());
    fake.push(throttled());
    fake.push(Reply::Model(ModelReply::text("after the wait")));
    let limiter = Arc::new(Limiter::new(settings(2)));
    let p = Limited {
        inner: one_attempt_provider(&fake).await,
        limiter: limiter.clone(),
    };
    let r = p.complete(&request(0)).await.unwrap();
    assert_eq!(r.text, "after the wait");
    assert_eq!(fake.requests().len(), 3);
    // Halved to 1 by the throttle, back to 2 after one answered call at that limit.
    let st = limiter.stats();
    assert_eq!((st.throttles, st.min_limit, st.limit), (1, 1, 2));

    // A call that stays throttled past its allowance gives the throttle back to the caller.
    let stingy = Arc::new(Limiter::new(LimiterSettings {
        max_throttles_per_call: 1,
        ..settings(1)
    }));
    fake.throttle_next(3);
    let p = Limited {
        inner: one_attempt_provider(&fake).await,
        limiter: stingy,
    };
    let err = p.complete(&request(1)).await.unwrap_err();
    assert_eq!(err.kind(), "rate_limited", "{err}");
}
