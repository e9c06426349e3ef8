//! The send limiter: WeChat restricts accounts that send too fast ("risk control"), so every
//! send waits for its turn. Two rules: a least gap between sends into one conversation, and a
//! budget per minute for the whole account, with a burst after a quiet spell. Sends are
//! served in the order they came (each reserves its slot on arrival, so none can starve), at
//! most [`SendLimits::max_waiting`] wait at once, and one more is refused with
//! [`Error::SendQueueFull`]: never dropped silently. No lock is held while a send waits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

/// How fast a bot may send. The defaults follow what bot projects found safe for a personal
/// account (see ARCHITECTURE.md): a second between sends into one conversation, 40 sends a
/// minute for the account, a burst of 5.
///
/// ```
/// use std::time::Duration;
/// use wechaty_client::SendLimits;
/// let careful = SendLimits { per_minute: 20, ..SendLimits::default() };
/// assert_eq!(careful.conversation_gap, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    /// Least time between two sends into the same room or to the same contact.
    pub conversation_gap: Duration,
    /// Sends a minute for the whole account, sustained (at least 1).
    pub per_minute: u32,
    /// Sends that may go at once after a quiet spell, before the per-minute pace applies
    /// (at least 1).
    pub burst: u32,
    /// Most sends waiting for their turn at once; one more is refused with
    /// [`Error::SendQueueFull`].
    pub max_waiting: usize,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self {
            conversation_gap: Duration::from_secs(1),
            per_minute: 40,
            burst: 5,
            max_waiting: 1000,
        }
    }
}

/// What the limiter did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LimiterCounts {
    pub(crate) waiting: usize,
    pub(crate) delayed: u64,
    pub(crate) delay: Duration,
    pub(crate) refused: u64,
}

/// The limiter of one bot.
pub(crate) struct SendLimiter {
    limits: SendLimits,
    /// Time between two sends at the sustained pace.
    interval: Duration,
    schedule: Mutex<Schedule>,
    waiting: AtomicUsize,
    delayed: AtomicU64,
    delay_micros: AtomicU64,
    refused: AtomicU64,
}

/// The slots handed out so far.
struct Schedule {
    /// The last slot given (sends are served in order: the next is not earlier).
    last: Instant,
    /// Account budget left at `last`.
    budget: f64,
    /// When each recent conversation may be sent to next.
    conversations: HashMap<String, Instant>,
}

/// Past this many conversations remembered, the ones whose gap is over are forgotten.
const CONVERSATIONS_KEPT: usize = 4096;

impl SendLimiter {
    pub(crate) fn new(limits: SendLimits) -> Self {
        let per_minute = limits.per_minute.max(1);
        Self {
            limits: SendLimits {
                per_minute,
                burst: limits.burst.max(1),
                ..limits
            },
            interval: Duration::from_secs(60) / per_minute,
            schedule: Mutex::new(Schedule {
                last: Instant::now(),
                budget: f64::from(limits.burst.max(1)),
                conversations: HashMap::new(),
            }),
            waiting: AtomicUsize::new(0),
            delayed: AtomicU64::new(0),
            delay_micros: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Waits until a send into `conversation` may go. Cancelling the wait gives up the slot
    /// (the budget it took is not returned).
    pub(crate) async fn admit(&self, conversation: &str) -> Result<()> {
        let waiting = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _leaving = Leaving(&self.waiting);
        if waiting >= self.limits.max_waiting {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Error::SendQueueFull { waiting });
        }
        let now = Instant::now();
        let slot = self.reserve(now, conversation);
        if slot > now {
            self.delayed.fetch_add(1, Ordering::Relaxed);
            let delay = u64::try_from((slot - now).as_micros()).unwrap_or(u64::MAX);
            self.delay_micros.fetch_add(delay, Ordering::Relaxed);
            tracing::debug!(delay = ?(slot - now), "send delayed by the send limiter");
            tokio::time::sleep_until(slot).await;
        }
        Ok(())
    }

    /// The slot of a send into `conversation` asked for at `now`.
    fn reserve(&self, now: Instant, conversation: &str) -> Instant {
        let mut schedule = self
            .schedule
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let burst = f64::from(self.limits.burst);
        let interval = self.interval.as_secs_f64();
        let ready = schedule.conversations.get(conversation).copied();
        let earliest = ready.map_or(now, |ready| ready.max(now)).max(schedule.last);
        // The budget refills from the last slot on, up to the burst.
        let refilled = (earliest - schedule.last).as_secs_f64() / interval;
        let budget = (schedule.budget + refilled).min(burst);
        let (slot, budget) = if budget >= 1.0 {
            (earliest, budget - 1.0)
        } else {
            let wait = Duration::from_secs_f64((1.0 - budget) * interval);
            (earliest + wait, 0.0)
        };
        schedule.last = slot;
        schedule.budget = budget;
        if schedule.conversations.len() >= CONVERSATIONS_KEPT {
            schedule.conversations.retain(|_, ready| *ready > now);
        }
        schedule
            .conversations
            .insert(conversation.to_owned(), slot + self.limits.conversation_gap);
        slot
    }

    pub(crate) fn counts(&self) -> LimiterCounts {
        LimiterCounts {
            waiting: self.waiting.load(Ordering::Acquire),
            delayed: self.delayed.load(Ordering::Relaxed),
            delay: Duration::from_micros(self.delay_micros.load(Ordering::Relaxed)),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}

/// Counts a send out of the queue however its wait ends (done, refused, cancelled).
struct Leaving<'a>(&'a AtomicUsize);

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn limiter(gap_ms: u64, per_minute: u32, burst: u32, max_waiting: usize) -> Arc<SendLimiter> {
        Arc::new(SendLimiter::new(SendLimits {
            conversation_gap: Duration::from_millis(gap_ms),
            per_minute,
            burst,
            max_waiting,
        }))
    }

    /// Sends into `conversations` in this order, all asked for at once; when each went,
    /// in milliseconds after the start.
    async fn send_times(limiter: &Arc<SendLimiter>, conversations: &[&str]) -> Vec<u64> {
        let start = Instant::now();
        let mut sends = Vec::new();
        for conversation in conversations {
            let (limiter, conversation) = (Arc::clone(limiter), conversation.to_string());
            sends.push(tokio::spawn(async move {
                limiter.admit(&conversation).await.unwrap();
                (Instant::now() - start).as_millis() as u64
            }));
            // Asked in this order.
            tokio::task::yield_now().await;
        }
        let mut times = Vec::new();
        for send in sends {
            times.push(send.await.unwrap());
        }
        times
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_the_pace_applies() {
        let limiter = limiter(0, 40, 5, 100);
        let rooms: Vec<String> = (0..8).map(|i| format!("r{i}")).collect();
        let rooms: Vec<&str> = rooms.iter().map(String::as_str).collect();
        // 40 a minute: one every 1.5 s once the burst of 5 is spent.
        assert_eq!(
            send_times(&limiter, &rooms).await,
            vec![0, 0, 0, 0, 0, 1500, 3000, 4500]
        );
        let counts = limiter.counts();
        assert_eq!((counts.delayed, counts.waiting), (3, 0));
        assert_eq!(counts.delay, Duration::from_millis(1500 + 3000 + 4500));
    }

    #[tokio::test(start_paused = true)]
    async fn one_conversation_gets_a_gap_between_sends() {
        let limiter = limiter(1000, 600, 10, 100);
        assert_eq!(
            send_times(&limiter, &["a", "a", "a"]).await,
            vec![0, 1000, 2000]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn sends_are_served_in_the_order_they_came() {
        let limiter = limiter(1000, 600, 10, 100);
        // b came after the second a: it waits its turn, then goes at once.
        assert_eq!(
            send_times(&limiter, &["a", "a", "b", "a"]).await,
            vec![0, 1000, 1000, 2000]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_refills_while_quiet() {
        let limiter = limiter(0, 60, 2, 100);
        assert_eq!(
            send_times(&limiter, &["a", "b", "c"]).await,
            vec![0, 0, 1000]
        );
        tokio::time::sleep(Duration::from_secs(10)).await;
        // Refilled to the burst (2), not to 10.
        assert_eq!(
            send_times(&limiter, &["d", "e", "f"]).await,
            vec![0, 0, 1000]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_refuses_and_drops_nothing() {
        let limiter = limiter(0, 60, 1, 3);
        let mut waiting = Vec::new();
        // The first goes at once; three wait.
        for i in 0..4 {
            let limiter = Arc::clone(&limiter);
            waiting.push(tokio::spawn(async move {
                limiter.admit(&format!("c{i}")).await
            }));
            tokio::task::yield_now().await;
        }
        let refused = limiter.admit("one more").await.unwrap_err();
        assert!(
            matches!(refused, Error::SendQueueFull { waiting: 3 }),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("max_waiting"), "{refused}");
        for send in waiting {
            send.await.unwrap().unwrap();
        }
        let counts = limiter.counts();
        assert_eq!((counts.refused, counts.waiting), (1, 0));
        limiter.admit("now there is room").await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_wait_leaves_the_queue() {
        let limiter = limiter(0, 60, 1, 10);
        limiter.admit("a").await.unwrap();
        let wait = limiter.admit("b");
        assert!(tokio::time::timeout(Duration::from_millis(10), wait)
            .await
            .is_err());
        assert_eq!(limiter.counts().waiting, 0);
    }
}
