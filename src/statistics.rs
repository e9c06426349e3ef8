//! [`Statistics`]: what a bot did since it was built — events by type, what was skipped or
//! missed, reconnects, RPCs with their errors and latency, the caches' hits, the send
//! limiter's waits — and the counters behind it, cheap enough to be always on (atomics on the
//! event path; one short lock per RPC).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::event::EVENT_NAMES;

/// A snapshot of what a bot did since it was built, from
/// [`Wechaty::statistics`](crate::Wechaty::statistics).
///
/// ```
/// # async fn demo(bot: wechaty_client::Wechaty) {
/// let stats = bot.statistics();
/// println!(
///     "{} messages, {} reconnects, {} sends delayed",
///     stats.events.get("message").unwrap_or(&0),
///     stats.reconnects,
///     stats.sends.delayed
/// );
/// for (method, rpc) in &stats.rpcs {
///     println!("{method}: {} calls, mean {:?}", rpc.calls, rpc.mean_latency());
/// }
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statistics {
    /// Events received from the service, by name (`"message"`, `"room-join"`, …, and
    /// `"malformed"` for those skipped).
    pub events: BTreeMap<&'static str, u64>,
    /// Events skipped as malformed or oversized.
    pub malformed_events: u64,
    /// Events that slow subscribers missed: the sum of the `Lagged` markers they got.
    pub lagged_events: u64,
    /// Times the Event stream was reopened after it broke.
    pub reconnects: u64,
    /// `message` events dropped because the same message id came lately (a service resends
    /// some around a reconnect); they count in `events` too.
    pub duplicate_messages: u64,
    /// Calls by RPC method (`"RoomPayload"`, `"MessageSendText"`, …).
    pub rpcs: BTreeMap<&'static str, RpcStatistics>,
    /// The payload caches.
    pub caches: CacheStatistics,
    /// The send limiter (all zero when it is off).
    pub sends: SendStatistics,
    /// Bytes of events held now for subscribers that have not read them yet.
    pub buffered_event_bytes: usize,
}

/// Calls of one RPC method.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RpcStatistics {
    /// Calls answered or failed.
    pub calls: u64,
    /// Failed calls by gRPC status code (a deadline the client enforced counts as
    /// `DeadlineExceeded`, a broken connection as `Unavailable`), in code order.
    pub errors: Vec<(tonic::Code, u64)>,
    /// Time from the call to its answer or failure, summed over the calls.
    pub total_latency: Duration,
    /// The longest of those times.
    pub max_latency: Duration,
}

impl RpcStatistics {
    /// The mean time to an answer (zero before the first call).
    pub fn mean_latency(&self) -> Duration {
        match u32::try_from(self.calls) {
            Ok(0) => Duration::ZERO,
            Ok(calls) => self.total_latency / calls,
            Err(_) => Duration::from_secs_f64(self.total_latency.as_secs_f64() / self.calls as f64),
        }
    }

    /// Failed calls, whatever the code.
    pub fn failed(&self) -> u64 {
        self.errors.iter().map(|(_, count)| count).sum()
    }

    fn record(&mut self, latency: Duration, error: Option<tonic::Code>) {
        self.calls += 1;
        self.total_latency += latency;
        self.max_latency = self.max_latency.max(latency);
        if let Some(code) = error {
            match self.errors.iter_mut().find(|(known, _)| *known == code) {
                Some((_, count)) => *count += 1,
                None => {
                    self.errors.push((code, 1));
                    self.errors.sort_by_key(|(code, _)| *code as i32);
                }
            }
        }
    }
}

/// The payload caches' use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStatistics {
    /// Room payloads.
    pub rooms: CacheUse,
    /// Contact payloads.
    pub contacts: CacheUse,
    /// Member lists (ids and member payloads, per room).
    pub member_lists: CacheUse,
    /// Message payloads.
    pub messages: CacheUse,
}

/// One cache's use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheUse {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to ask the service.
    pub misses: u64,
    /// Entries kept now.
    pub entries: usize,
    /// Their estimated bytes.
    pub bytes: usize,
}

/// The send limiter's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendStatistics {
    /// Sends waiting for their turn now.
    pub waiting: usize,
    /// Sends that had to wait.
    pub delayed: u64,
    /// How long they waited, summed.
    pub total_delay: Duration,
    /// Sends refused because too many were waiting.
    pub refused: u64,
}

/// Counts of the Event stream, kept by the hub.
#[derive(Default)]
pub(crate) struct EventCounts {
    by_kind: [AtomicU64; EVENT_NAMES.len()],
    lagged: AtomicU64,
    reconnects: AtomicU64,
    duplicates: AtomicU64,
}

impl EventCounts {
    /// One more event of the kind with this ordinal (`Event::ordinal`).
    pub(crate) fn count(&self, ordinal: usize) {
        if let Some(counter) = self.by_kind.get(ordinal) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_lagged(&self, missed: u64) {
        self.lagged.fetch_add(missed, Ordering::Relaxed);
    }

    pub(crate) fn count_duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_reconnect(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    /// Events of the kind with this ordinal so far.
    pub(crate) fn of(&self, ordinal: usize) -> u64 {
        self.by_kind
            .get(ordinal)
            .map_or(0, |counter| counter.load(Ordering::Relaxed))
    }

    /// Fills the event part of `statistics`.
    pub(crate) fn fill(&self, statistics: &mut Statistics, malformed: usize) {
        for (name, counter) in EVENT_NAMES.iter().zip(&self.by_kind) {
            let count = counter.load(Ordering::Relaxed);
            if count > 0 {
                statistics.events.insert(name, count);
            }
        }
        statistics.malformed_events = self.of(malformed);
        statistics.lagged_events = self.lagged.load(Ordering::Relaxed);
        statistics.reconnects = self.reconnects.load(Ordering::Relaxed);
        statistics.duplicate_messages = self.duplicates.load(Ordering::Relaxed);
    }
}

/// Calls by RPC method, kept by the transport.
#[derive(Default)]
pub(crate) struct RpcLog(Mutex<HashMap<&'static str, RpcStatistics>>);

impl RpcLog {
    /// One call of `rpc` that took `latency` and failed with `error` unless `None`.
    pub(crate) fn record(&self, rpc: &'static str, latency: Duration, error: Option<tonic::Code>) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(rpc)
            .or_default()
            .record(latency, error);
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<&'static str, RpcStatistics> {
        let log = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.iter()
            .map(|(rpc, stats)| (*rpc, stats.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_calls_errors_and_latency() {
        let log = RpcLog::default();
        log.record("Ding", Duration::from_millis(10), None);
        log.record(
            "Ding",
            Duration::from_millis(30),
            Some(tonic::Code::Unavailable),
        );
        log.record(
            "Ding",
            Duration::from_millis(20),
            Some(tonic::Code::NotFound),
        );
        log.record(
            "Ding",
            Duration::from_millis(20),
            Some(tonic::Code::Unavailable),
        );
        let ding = &log.snapshot()["Ding"];
        assert_eq!(ding.calls, 4);
        assert_eq!(ding.failed(), 3);
        assert_eq!(
            ding.errors,
            vec![(tonic::Code::NotFound, 1), (tonic::Code::Unavailable, 2)]
        );
        assert_eq!(ding.mean_latency(), Duration::from_millis(20));
        assert_eq!(ding.max_latency, Duration::from_millis(30));
        assert_eq!(RpcStatistics::default().mean_latency(), Duration::ZERO);
    }
}
