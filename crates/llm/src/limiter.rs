//! One budget of model calls shared by many callers (`generate --all`: every athlete's report),
//! with additive-increase / multiplicative-decrease back-off when the provider throttles.
//!
//! [`Limiter`] lets at most `limit` calls be in flight, `limit` starting at the configured
//! maximum. A throttled call (`LlmError::RateLimited`) halves `limit` (at least 1) and pauses
//! *every* caller — the whole roster slows down, not just the athlete whose call was refused —
//! for the service's `retry-after`, else a back-off that doubles while throttles continue; then
//! the call is made again. Each run of `limit` unthrottled calls raises `limit` by one, back up
//! to the maximum. Several calls throttled together (they were all sent under the old limit)
//! halve it once, not once each.
//!
//! [`Limited`] wraps a provider with a limiter: a call holds its slot from the request until its
//! stream has ended or been dropped, so "in flight" means what the service sees.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::error::LlmError;
use crate::http::AttemptCounter;
use crate::provider::{EventStream, Provider};
use crate::types::Request;

/// How a [`Limiter`] behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterSettings {
    /// Calls in flight at most (`--concurrency`).
    pub max_in_flight: usize,
    /// The pause after the first throttle when the service does not say how long to wait.
    pub initial_backoff: Duration,
    /// The longest pause.
    pub max_backoff: Duration,
    /// Throttles one call may take before its error is returned to the caller.
    pub max_throttles_per_call: u32,
}

impl LimiterSettings {
    pub fn new(max_in_flight: usize) -> LimiterSettings {
        LimiterSettings {
            max_in_flight: max_in_flight.max(1),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_throttles_per_call: 30,
        }
    }
}

/// What the limiter saw, for the roster summary and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimiterStats {
    /// Calls started (each re-issue after a throttle counts again).
    pub calls: u64,
    pub throttles: u64,
    /// The most calls that were in flight at once.
    pub max_in_flight: usize,
    /// The lowest the limit went.
    pub min_limit: usize,
    /// The limit now.
    pub limit: usize,
    /// Calls in flight now.
    pub in_flight: usize,
}

struct State {
    limit: usize,
    /// Permits to retire as they come back: the limit went below the permits handed out.
    debt: usize,
    /// Bumped at each decrease: a throttle of a call sent before it does not decrease again.
    epoch: u64,
    /// No call starts before this.
    resume_at: Option<Instant>,
    backoff: Duration,
    /// Unthrottled calls since the limit last changed.
    successes: usize,
    in_flight: usize,
    stats: LimiterStats,
}

/// The shared budget. Cheap to share: wrap it in an `Arc`.
pub struct Limiter {
    settings: LimiterSettings,
    permits: Arc<Semaphore>,
    state: Mutex<State>,
}

/// A call's place in the budget, given back through [`Limiter::finish`].
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    epoch: u64,
}

/// How a call ended, for the limiter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Finish {
    /// Answered (or failed for a reason other than throttling).
    Done,
    /// Throttled; `retry_after` when the service said how long to wait.
    Throttled { retry_after: Option<Duration> },
}

impl Limiter {
    pub fn new(settings: LimiterSettings) -> Limiter {
        let max = settings.max_in_flight.max(1);
        Limiter {
            settings,
            permits: Arc::new(Semaphore::new(max)),
            state: Mutex::new(State {
                limit: max,
                debt: 0,
                epoch: 0,
                resume_at: None,
                backoff: settings.initial_backoff,
                successes: 0,
                in_flight: 0,
                stats: LimiterStats {
                    min_limit: max,
                    limit: max,
                    ..LimiterStats::default()
                },
            }),
        }
    }

    pub fn settings(&self) -> LimiterSettings {
        self.settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> LimiterStats {
        let s = self.lock();
        LimiterStats {
            limit: s.limit,
            in_flight: s.in_flight,
            ..s.stats
        }
    }

    /// Wait for a slot: a permit under the current limit, and the end of any pause.
    pub async fn acquire(&self) -> Slot {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the limiter's semaphore is never closed");
        loop {
            let resume_at = self.lock().resume_at;
            match resume_at {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        let mut s = self.lock();
        s.in_flight += 1;
        s.stats.calls += 1;
        s.stats.max_in_flight = s.stats.max_in_flight.max(s.in_flight);
        Slot {
            permit: Some(permit),
            epoch: s.epoch,
        }
    }

    /// Give a slot back and learn from how its call ended.
    pub fn finish(&self, mut slot: Slot, how: Finish) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        match how {
            // Only calls sent under the current limit say whether it can grow.
            Finish::Done if slot.epoch == s.epoch => {
                s.backoff = self.settings.initial_backoff;
                s.successes += 1;
                if s.successes >= s.limit && s.limit < self.settings.max_in_flight {
                    s.limit += 1;
                    s.successes = 0;
                    if s.debt > 0 {
                        s.debt -= 1;
                    } else {
                        self.permits.add_permits(1);
                    }
                }
            }
            Finish::Done => {}
            Finish::Throttled { retry_after } => {
                s.stats.throttles += 1;
                let now = Instant::now();
                if slot.epoch == s.epoch {
                    s.epoch += 1;
                    let lower = (s.limit / 2).max(1);
                    let cut = s.limit - lower;
                    s.limit = lower;
                    s.stats.min_limit = s.stats.min_limit.min(lower);
                    s.successes = 0;
                    // Permits nobody holds are retired at once, the others as they come back.
                    let taken = self.permits.forget_permits(cut);
                    s.debt += cut - taken;
                    let pause = retry_after
                        .unwrap_or(s.backoff)
                        .min(self.settings.max_backoff);
                    s.backoff = (s.backoff * 2).min(self.settings.max_backoff);
                    s.resume_at = Some(s.resume_at.map_or(now + pause, |t| t.max(now + pause)));
                } else if let Some(after) = retry_after {
                    // Already slowed down for this wave, but the service asks for a longer wait.
                    let until = now + after.min(self.settings.max_backoff);
                    s.resume_at = Some(s.resume_at.map_or(until, |t| t.max(until)));
                }
            }
        }
        if let Some(permit) = slot.permit.take() {
            if s.debt > 0 {
                s.debt -= 1;
                permit.forget();
            } else {
                drop(permit);
            }
        }
    }
}

/// A provider whose calls go through a shared [`Limiter`]; throttled calls wait and are made
/// again (at most [`LimiterSettings::max_throttles_per_call`] times), so a throttle slows the
/// roster down instead of failing a report.
pub struct Limited {
    pub inner: Arc<dyn Provider>,
    pub limiter: Arc<Limiter>,
}

fn retry_after_of(e: &LlmError) -> Option<Option<Duration>> {
    match e {
        LlmError::RateLimited { retry_after, .. } => Some(*retry_after),
        _ => None,
    }
}

/// Gives the slot back when the stream it belongs to ends or is dropped.
struct SlotGuard {
    limiter: Arc<Limiter>,
    slot: Option<Slot>,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.limiter.finish(slot, Finish::Done);
        }
    }
}

#[async_trait::async_trait]
impl Provider for Limited {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError> {
        self.stream_counted(request).await.0
    }

    async fn stream_counted(
        &self,
        request: &Request,
    ) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
        let mut throttles = 0u32;
        loop {
            let slot = self.limiter.acquire().await;
            let (result, attempts) = self.inner.stream_counted(request).await;
            // A refused call may come as the stream's first item (Bedrock's event stream).
            let opened = match result {
                Err(e) => Err(e),
                Ok(mut stream) => match stream.next().await {
                    Some(Err(e)) if retry_after_of(&e).is_some() => Err(e),
                    first => Ok((first, stream)),
                },
            };
            match opened {
                Err(e) => match retry_after_of(&e) {
                    Some(retry_after)
                        if throttles < self.limiter.settings.max_throttles_per_call =>
                    {
                        throttles += 1;
                        tracing::debug!(
                            throttles,
                            "throttled; the roster slows down and the call is made again"
                        );
                        self.limiter.finish(slot, Finish::Throttled { retry_after });
                    }
                    _ => {
                        self.limiter.finish(slot, Finish::Done);
                        return (Err(e), attempts);
                    }
                },
                Ok((first, rest)) => {
                    let guard = SlotGuard {
                        limiter: self.limiter.clone(),
                        slot: Some(slot),
                    };
                    let head = futures::stream::iter(first);
                    let stream = head.chain(rest).map(move |item| {
                        let _holds_the_slot = &guard;
                        item
                    });
                    return (Ok(Box::pin(stream)), attempts);
                }
            }
        }
    }

    async fn model_names(&self) -> Vec<String> {
        self.inner.model_names().await
    }

    fn local_endpoint(&self) -> Option<&str> {
        self.inner.local_endpoint()
    }

    fn sent_as(&self, request: &Request) -> Option<serde_json::Value> {
        self.inner.sent_as(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max: usize) -> LimiterSettings {
        LimiterSettings {
            max_in_flight: max,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            max_throttles_per_call: 5,
        }
    }

    #[tokio::test]
    async fn a_throttle_halves_the_limit_once_per_wave_and_successes_restore_it() {
        let l = Limiter::new(settings(4));
        let slots: Vec<Slot> = futures::future::join_all((0..4).map(|_| l.acquire())).await;
        assert_eq!(l.stats().max_in_flight, 4);
        // All four were sent under the old limit and are throttled: one halving, not four.
        for s in slots {
            l.finish(s, Finish::Throttled { retry_after: None });
        }
        let st = l.stats();
        assert_eq!((st.limit, st.throttles, st.min_limit), (2, 4, 2));
        assert_eq!(l.permits.available_permits(), 2);
        // Two at once now; a third waits.
        let a = l.acquire().await;
        let b = l.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(20), l.acquire()).await;
        assert!(third.is_err(), "a third call must wait under a limit of 2");
        l.finish(a, Finish::Done);
        l.finish(b, Finish::Done);
        // Two successes at a limit of 2 raise it to 3, then three more to 4.
        assert_eq!(l.stats().limit, 3);
        for _ in 0..3 {
            let s = l.acquire().await;
            l.finish(s, Finish::Done);
        }
        assert_eq!(l.stats().limit, 4);
        assert_eq!(l.permits.available_permits(), 4);
    }

    #[tokio::test]
    async fn the_limit_never_goes_below_one_and_permits_held_are_retired_on_return() {
        let l = Limiter::new(settings(2));
        let a = l.acquire().await;
        let b = l.acquire().await;
        l.finish(
            a,
            Finish::Throttled {
                retry_after: Some(Duration::from_millis(2)),
            },
        );
        // Limit 1: b's permit is retired when it comes back.
        l.finish(b, Finish::Done);
        assert_eq!(l.stats().limit, 1);
        assert_eq!(l.permits.available_permits(), 1);
        let c = l.acquire().await;
        l.finish(c, Finish::Throttled { retry_after: None });
        assert_eq!(l.stats().limit, 1);
        assert_eq!(l.permits.available_permits(), 1);
    }
}
