//! The relay: the service's one Event stream, published to NATS JetStream so that many
//! workers can share one account and nothing is lost while none of them runs.
//!
//! [`Relay::start`] owns the bot's Event stream (the bot itself is not started: its events go
//! nowhere else) and publishes each event, as received, to a JetStream stream with file
//! storage: subject, headers and id as `envelope.rs` lays them out. Two tasks share the work:
//!
//! - the **Event side** (this file) reads the stream, decodes just enough of each event to
//!   name it (a message's conversation needs its payload: looked up, 64 ahead, in order), and
//!   puts it in a buffer bounded in events and bytes. When the buffer is full it stops reading,
//!   so HTTP/2 flow control makes the service hold the rest: nothing is dropped, and the state
//!   says [`RelayState::BackPressure`].
//! - the **JetStream side** (`publisher.rs`) publishes the buffer in order with a bounded number
//!   of acknowledgements pending, and publishes again what was not acknowledged.
//!
//! # On the wire
//!
//! Subject: `{STREAM}.{account}.{scope}.{type}.{room}.{partition}`:
//!
//! - `account`: [`account_token`] of the service token (never the token itself), or the name
//!   set with [`RelayOptions::account`].
//! - `scope`: `state` for the events that change what every worker knows (login, logout,
//!   ready, reset, dirty, room join / leave / topic / announce, friendship), `event` for the rest.
//! - `type`: the event's wire name (`message`, `room-join`, …).
//! - `room`: the room's id as a [`subject_token`], `_` when the event is not in a room.
//! - `partition`: `p0` … `p15` ([`PARTITIONS`]), from the event's conversation (the room, the
//!   two parties of a direct chat, or the session), so one conversation stays in one partition.
//!
//! Headers: `Nats-Msg-Id` and [`HEADER_EVENT_ID`] (the stable event id), [`HEADER_TYPE`] (the
//! protocol's `EventType` number), [`HEADER_ROOM`] (when in a room), [`HEADER_TIMESTAMP`]
//! (milliseconds since the Unix epoch when the relay received it). The body is the payload as
//! the service sent it. One room's events: `WECHATY.{account}.*.*.{subject_token(room)}.*`.
//!
//! A second relay for the same token is refused the stream (`ALREADY_EXISTS`): it waits as a
//! [`RelayState::Standby`], trying again every second, and takes over when the first one's
//! connection ends. Events the service sends twice around the switch carry the same id, and
//! JetStream keeps one.

mod connection;
mod envelope;
mod lease;
mod publisher;
mod session;
/// The integration tests' nats-server helper, for the unit tests that need a server.
#[cfg(test)]
#[path = "../../tests/common/nats.rs"]
#[allow(dead_code)]
mod test_nats;
pub(crate) mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt};
use futures_util::stream::FuturesOrdered;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;

use crate::error::{Cause, Error, Result};
use crate::event::{self, Event};
use crate::generated::wechaty::puppet::EventResponse;
use crate::message::payload as message_payload;
use crate::transport::Transport;
use crate::wechaty::Wechaty;
use envelope::EventIds;
use publisher::Outgoing;

pub(crate) use envelope::redact_url;
pub use envelope::{
    account_token, subject_token, DEFAULT_STREAM, HEADER_EVENT_ID, HEADER_REPLAY, HEADER_ROOM,
    HEADER_TIMESTAMP, HEADER_TYPE, PARTITIONS,
};
pub use worker::{WorkerOptions, DEFAULT_ACK_WAIT, DEFAULT_LEASE, DEFAULT_MAX_ACK_PENDING};

/// Events the relay holds for NATS at most, by default.
pub const DEFAULT_BUFFER_EVENTS: usize = 100_000;
/// Bytes of payload the relay holds for NATS at most, by default.
pub const DEFAULT_BUFFER_BYTES: usize = 64 * 1024 * 1024;
/// Publishes waiting for JetStream's acknowledgement at once, by default.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// Events read ahead of the one being buffered: a message waits for its payload (to learn its
/// conversation) while those behind it are read and decoded.
const LOOKAHEAD: usize = 64;
/// What one buffered event costs beside its payload and id: its subject, its header fields,
/// the buffer's bookkeeping and the allocator's share. Set from the bench's outage figure
/// (`wechaty bench --only relay`): with 512 a full 64 MiB buffer grew the relay process by
/// 62-67 MiB, so the bound was not quite a bound.
const EVENT_OVERHEAD: usize = 640;
/// How long a stopping relay may take to hand what it holds to JetStream, by default.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);
/// How often a standby asks for the Event stream again.
const STANDBY_RETRY: Duration = Duration::from_secs(1);

/// How to reach NATS and what to publish into.
///
/// ```
/// use wechaty_client::relay::RelayOptions;
///
/// let options = RelayOptions::new("nats://127.0.0.1:4222")
///     .stream("WECHATY")
///     .buffer(10_000, 16 * 1024 * 1024);
/// ```
#[derive(Clone)]
pub struct RelayOptions {
    url: String,
    stream: String,
    account: Option<String>,
    buffer_events: usize,
    buffer_bytes: usize,
    max_in_flight: usize,
    max_age: Duration,
    stop_grace: Duration,
}

impl std::fmt::Debug for RelayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayOptions")
            .field("url", &redact_url(&self.url))
            .field("stream", &self.stream)
            .field("account", &self.account)
            .field("buffer_events", &self.buffer_events)
            .field("buffer_bytes", &self.buffer_bytes)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_age", &self.max_age)
            .field("stop_grace", &self.stop_grace)
            .finish()
    }
}

impl RelayOptions {
    /// Publish to the NATS server(s) at `url` (`nats://host:4222`, several separated by commas),
    /// into the stream [`DEFAULT_STREAM`].
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: DEFAULT_STREAM.into(),
            account: None,
            buffer_events: DEFAULT_BUFFER_EVENTS,
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_age: Duration::from_secs(7 * 24 * 3600),
            stop_grace: DEFAULT_STOP_GRACE,
        }
    }

    /// The JetStream stream (created if missing); its subjects start with this name.
    pub fn stream(mut self, name: impl Into<String>) -> Self {
        self.stream = name.into();
        self
    }

    /// The account's name in subjects, instead of a hash of the token.
    pub fn account(mut self, name: impl Into<String>) -> Self {
        self.account = Some(name.into());
        self
    }

    /// What the relay holds while NATS is slow or away, in events and bytes (each event's
    /// payload plus about 640 bytes for its subject, headers and bookkeeping); past either it
    /// stops reading the service's stream.
    pub fn buffer(mut self, events: usize, bytes: usize) -> Self {
        self.buffer_events = events;
        self.buffer_bytes = bytes;
        self
    }

    /// Publishes waiting for their acknowledgement at once.
    pub fn max_in_flight(mut self, publishes: usize) -> Self {
        self.max_in_flight = publishes;
        self
    }

    /// How long the stream keeps an event when it creates the stream (default 7 days).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }

    /// How long a stopping relay waits for JetStream to take what it holds (default 10 s);
    /// past it, what is left is logged as lost and the relay ends.
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    fn validate(&self) -> Result<()> {
        if !envelope::is_name(&self.stream) {
            return Err(Error::InvalidArgument(format!(
                "the JetStream stream name {:?} must be letters, digits, `-` or `_` \
                 (`RelayOptions::stream`, `--stream`)",
                self.stream
            )));
        }
        if let Some(account) = &self.account {
            if !envelope::is_name(account) {
                return Err(Error::InvalidArgument(format!(
                    "the account name {account:?} must be letters, digits, `-` or `_` \
                     (`RelayOptions::account`)"
                )));
            }
        }
        if self.buffer_events == 0 || self.buffer_bytes < 1024 * 1024 || self.max_in_flight == 0 {
            return Err(Error::InvalidArgument(
                "the relay needs a buffer of at least one event and 1 MiB, and at least one \
                 publish in flight (`RelayOptions::buffer`, `RelayOptions::max_in_flight`)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// What the relay is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayState {
    /// Connecting to NATS and making sure the stream exists.
    Starting,
    /// Another relay (or bot) holds the service's Event stream; this one takes over when it
    /// lets go.
    Standby,
    /// Reading the Event stream and publishing it.
    Relaying,
    /// The buffer is full because NATS does not acknowledge fast enough (or is away): the relay
    /// stopped reading the Event stream until it has room again.
    BackPressure,
    /// The Event stream broke; reopening it.
    Reconnecting {
        /// Attempts since the last stream that stayed up.
        attempt: u32,
    },
    /// Stopped, or the service refused the token.
    Stopped,
}

/// The relay's counters, as [`Relay::statistics`] reads them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RelayStatistics {
    /// Events JetStream stored.
    pub relayed: u64,
    /// Events JetStream already had (the same id within its duplicate window).
    pub duplicates: u64,
    /// Publishes sent again after a failure.
    pub retries: u64,
    /// Events not published: over the payload cap.
    pub skipped: u64,
    /// Events in the buffer (received, not yet acknowledged).
    pub buffered_events: u64,
    /// Their bytes, as the buffer's bound counts them (payload, id and a fixed overhead each).
    pub buffered_bytes: u64,
    /// Times the NATS connection came back after it was lost.
    pub nats_reconnects: u64,
    /// Publish latency (received from the service → acknowledged by JetStream): counts per
    /// bucket, each bucket's upper bound in [`LATENCY_BUCKETS_MS`], the last one unbounded.
    pub latency_buckets: Vec<u64>,
    /// Sum of all publish latencies, in microseconds.
    pub latency_sum_micros: u64,
}

/// Upper bounds of the publish-latency buckets of [`RelayStatistics`], in milliseconds.
pub const LATENCY_BUCKETS_MS: [u64; 12] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

#[derive(Default)]
struct Latency {
    buckets: [AtomicU64; LATENCY_BUCKETS_MS.len() + 1],
    sum_micros: AtomicU64,
}

impl Latency {
    fn record(&self, elapsed: Duration) {
        let micros = elapsed.as_micros() as u64;
        let bucket = LATENCY_BUCKETS_MS
            .iter()
            .position(|&bound| micros <= bound * 1000)
            .unwrap_or(LATENCY_BUCKETS_MS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Counters {
    relayed: AtomicU64,
    duplicates: AtomicU64,
    retries: AtomicU64,
    skipped: AtomicU64,
    buffered_events: AtomicU64,
    buffered_bytes: AtomicU64,
    nats_connects: AtomicU64,
    latency: Latency,
}

/// What the relay's two tasks and its handle share.
struct Shared {
    stream: String,
    /// The NATS URL without credentials, for messages.
    url: String,
    account: String,
    counters: Counters,
    state: watch::Sender<RelayState>,
    /// Whether JetStream acknowledged an event yet.
    published: watch::Sender<bool>,
    stopped: watch::Sender<bool>,
}

impl Shared {
    fn is_stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    fn set_state(&self, state: RelayState) {
        self.state.send_if_modified(|current| {
            let changed = *current != state && *current != RelayState::Stopped;
            if changed {
                *current = state;
            }
            changed
        });
    }

    fn nats_error(&self, what: &str, error: impl Into<Cause>) -> Error {
        connection::nats_error(self.url.clone(), what, error)
    }
}

/// A running relay. Dropping it stops it (after publishing what it holds).
///
/// ```no_run
/// use wechaty_client::relay::{Relay, RelayOptions};
/// use wechaty_client::WechatyBuilder;
///
/// # async fn demo() -> wechaty_client::Result<()> {
/// let bot = WechatyBuilder::from_env().build().await?;
/// let relay = Relay::start(&bot, RelayOptions::new("nats://127.0.0.1:4222")).await?;
/// relay.published().await; // JetStream stored the first event
/// relay.wait().await // until stopped or the token is refused
/// # }
/// ```
pub struct Relay {
    shared: Arc<Shared>,
    task: Option<JoinHandle<Result<()>>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("nats", &self.shared.url)
            .field("stream", &self.shared.stream)
            .field("state", &*self.shared.state.borrow())
            .finish()
    }
}

impl Relay {
    /// Connects to NATS, makes sure the stream exists, then owns `bot`'s Event stream and
    /// publishes it, until [`stop`](Self::stop) or until the service refuses the token.
    ///
    /// Returns once NATS answered and the stream exists; NATS unreachable is retried (with a
    /// warning each time) rather than an error, since a relay usually starts beside its NATS
    /// server. Do not also `start()` the bot: the service gives a token one Event stream.
    pub async fn start(bot: &Wechaty, options: RelayOptions) -> Result<Relay> {
        options.validate()?;
        let transport = bot.transport()?;
        let account = options
            .account
            .clone()
            .unwrap_or_else(|| account_token(transport.token().expose()));
        let shared = Arc::new(Shared {
            stream: options.stream.clone(),
            url: redact_url(&options.url),
            account,
            counters: Counters::default(),
            state: watch::channel(RelayState::Starting).0,
            published: watch::channel(false).0,
            stopped: watch::channel(false).0,
        });
        let client = connect_nats(&options.url, &shared).await?;
        let context = async_nats::jetstream::new(client);
        publisher::ensure_stream(&context, &shared, options.max_age).await?;
        let session =
            session::Session::from_stream(&context, &shared.stream, &shared.account).await;
        tracing::info!(nats = %shared.url, stream = %shared.stream, account = %shared.account, "the JetStream stream is ready");

        let (buffer, pending) = mpsc::channel(options.buffer_events);
        let budget = Arc::new(Semaphore::new(options.buffer_bytes));
        let publishing = tokio::spawn(publisher::publish_all(
            context,
            pending,
            Arc::clone(&shared),
            options.max_in_flight,
        ));
        let events = EventSide {
            transport,
            shared: Arc::clone(&shared),
            settings: bot.stream_settings(),
            ids: EventIds::new(),
            buffer,
            stop_grace: options.stop_grace,
            events_budget: Arc::new(Semaphore::new(options.buffer_events)),
            budget,
            buffer_bytes: options.buffer_bytes,
            session: std::sync::Mutex::new(session),
        };
        let relay_shared = Arc::clone(&shared);
        let stop_grace = options.stop_grace;
        let task = tokio::spawn(async move {
            let result = events.run().await;
            // The buffer's sender is gone: the publisher empties it, then ends — unless NATS
            // stays away, which must not keep a stopping relay alive.
            let publishing_abort = publishing.abort_handle();
            if tokio::time::timeout(stop_grace, publishing).await.is_err() {
                publishing_abort.abort();
                tracing::error!(
                    events = relay_shared.counters.buffered_events.load(Ordering::Relaxed),
                    grace = ?stop_grace,
                    "the relay stopped with events JetStream never acknowledged: they are lost"
                );
            }
            relay_shared.set_state(RelayState::Stopped);
            result
        });
        Ok(Relay {
            shared,
            task: Some(task),
        })
    }

    /// The relay's state, as it changes.
    pub fn state(&self) -> watch::Receiver<RelayState> {
        self.shared.state.subscribe()
    }

    /// The NATS URL, without credentials.
    pub fn nats_url(&self) -> &str {
        &self.shared.url
    }

    /// The account's name in this relay's subjects.
    pub fn account(&self) -> &str {
        &self.shared.account
    }

    /// The subject prefix of this account's events: `{STREAM}.{account}`.
    pub fn subject_prefix(&self) -> String {
        format!("{}.{}", self.shared.stream, self.shared.account)
    }

    /// Waits until JetStream acknowledged the first event.
    pub async fn published(&self) {
        let mut published = self.shared.published.subscribe();
        let _ = published.wait_for(|published| *published).await;
    }

    /// The relay's counters now.
    pub fn statistics(&self) -> RelayStatistics {
        let counters = &self.shared.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        RelayStatistics {
            relayed: load(&counters.relayed),
            duplicates: load(&counters.duplicates),
            retries: load(&counters.retries),
            skipped: load(&counters.skipped),
            buffered_events: load(&counters.buffered_events),
            buffered_bytes: load(&counters.buffered_bytes),
            nats_reconnects: load(&counters.nats_connects).saturating_sub(1),
            latency_buckets: counters.latency.buckets.iter().map(load).collect(),
            latency_sum_micros: load(&counters.latency.sum_micros),
        }
    }

    /// The relay's counters and state in the Prometheus text format (version 0.0.4), for a
    /// `/metrics` endpoint (`wechaty relay --metrics ADDR` serves it).
    pub fn prometheus(&self) -> String {
        let stats = self.statistics();
        let state = self.shared.state.borrow().clone();
        let mut text = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            text.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        };
        metric(
            "wechaty_relay_events_relayed_total",
            "counter",
            "Events JetStream stored.",
            stats.relayed,
        );
        metric(
            "wechaty_relay_events_duplicate_total",
            "counter",
            "Events JetStream already had (same event id).",
            stats.duplicates,
        );
        metric(
            "wechaty_relay_publish_retries_total",
            "counter",
            "Publishes sent again after a failure.",
            stats.retries,
        );
        metric(
            "wechaty_relay_events_skipped_total",
            "counter",
            "Events not relayed: over the payload cap.",
            stats.skipped,
        );
        metric(
            "wechaty_relay_buffer_events",
            "gauge",
            "Events received and not yet acknowledged by JetStream.",
            stats.buffered_events,
        );
        metric(
            "wechaty_relay_buffer_bytes",
            "gauge",
            "Bytes those events hold (payload, id and a fixed overhead each).",
            stats.buffered_bytes,
        );
        metric(
            "wechaty_relay_nats_reconnects_total",
            "counter",
            "Times the NATS connection came back.",
            stats.nats_reconnects,
        );
        metric(
            "wechaty_relay_active",
            "gauge",
            "1 while this relay holds the Event stream, 0 while it stands by.",
            u64::from(matches!(
                state,
                RelayState::Relaying | RelayState::BackPressure
            )),
        );
        metric(
            "wechaty_relay_back_pressure",
            "gauge",
            "1 while the buffer is full and the Event stream is not read.",
            u64::from(state == RelayState::BackPressure),
        );
        let name = "wechaty_relay_publish_latency_seconds";
        text.push_str(&format!(
            "# HELP {name} From receiving an event to JetStream's acknowledgement.\n# TYPE {name} histogram\n"
        ));
        let mut cumulative = 0;
        for (bucket, count) in stats.latency_buckets.iter().enumerate() {
            cumulative += count;
            let bound = LATENCY_BUCKETS_MS.get(bucket).map_or_else(
                || "+Inf".to_string(),
                |ms| format!("{}", *ms as f64 / 1000.0),
            );
            text.push_str(&format!("{name}_bucket{{le=\"{bound}\"}} {cumulative}\n"));
        }
        text.push_str(&format!(
            "{name}_sum {}\n{name}_count {cumulative}\n",
            stats.latency_sum_micros as f64 / 1e6
        ));
        text
    }

    /// Stops reading the Event stream (the service's slot frees for a standby) and publishes
    /// what is buffered; [`wait`](Self::wait) returns when that is done. NATS away, it waits
    /// [`RelayOptions::stop_grace`] for it, then logs how many events are lost.
    pub fn stop(&self) {
        self.shared.stopped.send_replace(true);
    }

    /// Runs until stopped (then `Ok`) or until the service refuses the token.
    pub async fn wait(mut self) -> Result<()> {
        let task = self
            .task
            .take()
            .expect("waited once: `wait` takes the relay");
        match task.await {
            Ok(result) => result,
            Err(panic) => Err(Error::InvalidArgument(format!(
                "the relay task panicked (a bug in wechaty-client, please report it): {panic}"
            ))),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Connects to NATS, counting reconnects; retries the first connection in the background.
async fn connect_nats(url: &str, shared: &Arc<Shared>) -> Result<async_nats::Client> {
    let events = Arc::downgrade(shared);
    let options = async_nats::ConnectOptions::new()
        .name("wechaty-relay")
        .retry_on_initial_connect()
        .event_callback(move |event| {
            let shared = events.upgrade();
            async move {
                connection::log_event(&event);
                if let (async_nats::Event::Connected, Some(shared)) = (&event, shared) {
                    // The first connection is not a reconnect.
                    shared
                        .counters
                        .nats_connects
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    async_nats::connect_with_options(url, options)
        .await
        .map_err(|error| shared.nats_error("connecting", error))
}

/// Reads the Event stream into the buffer.
struct EventSide {
    transport: Transport,
    shared: Arc<Shared>,
    settings: crate::dispatch::StreamSettings,
    ids: EventIds,
    buffer: mpsc::Sender<Outgoing>,
    stop_grace: Duration,
    /// The buffer's room: one permit per event, one per payload byte.
    events_budget: Arc<Semaphore>,
    budget: Arc<Semaphore>,
    buffer_bytes: usize,
    /// Who is logged in, to mark the service's replays (in arrival order: `name` runs in it).
    session: std::sync::Mutex<session::Session>,
}

/// How one stream ended.
enum Ended {
    Broken(Error),
    Stopped,
}

impl EventSide {
    async fn run(self) -> Result<()> {
        let mut stopped = self.shared.stopped.subscribe();
        let mut attempt = 0;
        let mut started = false;
        let mut standing_by = false;
        loop {
            let opened = tokio::select! {
                opened = crate::dispatch::open_stream(&self.transport, self.settings.watchdog) => opened,
                _ = stop_requested(&mut stopped) => return Ok(()),
            };
            let failure = match opened {
                Ok(mut stream) => {
                    if standing_by {
                        tracing::info!(
                            "the Event stream is free: this relay is the active one now"
                        );
                        standing_by = false;
                    }
                    if !started {
                        // As `Wechaty::start`: the stream first, so no event is dropped. A
                        // failure is tried again with the next stream (the puppet may run
                        // already: events then flow all the same).
                        match crate::wechaty::call_start(&self.transport).await {
                            Ok(_) => started = true,
                            Err(Error::Unauthenticated) => return Err(Error::Unauthenticated),
                            Err(error) => {
                                tracing::warn!(%error, "the puppet service's Start failed: relaying, and trying again with the next stream")
                            }
                        }
                    }
                    self.session().new_stream();
                    self.shared.set_state(RelayState::Relaying);
                    let since = Instant::now();
                    let ended = self.pump(&mut stream, &mut stopped).await;
                    drop(stream);
                    if since.elapsed() >= Duration::from_secs(30) {
                        attempt = 0;
                    }
                    match ended {
                        Ended::Stopped => return Ok(()),
                        Ended::Broken(error) => error,
                    }
                }
                Err(error) => error,
            };
            if matches!(failure, Error::Unauthenticated) {
                tracing::error!(error = %failure, "the puppet service refused the token: the relay stops");
                return Err(failure);
            }
            let delay = if matches!(failure, Error::EventStreamTaken) {
                if !standing_by {
                    tracing::warn!(
                        "another relay or bot holds the Event stream: standing by to take over"
                    );
                    standing_by = true;
                }
                self.shared.set_state(RelayState::Standby);
                STANDBY_RETRY
            } else {
                attempt += 1;
                let Some(delay) = self.settings.policy.delay(attempt) else {
                    tracing::error!(error = %failure, "giving up reconnecting the Event stream");
                    return Err(failure);
                };
                tracing::warn!(attempt, ?delay, error = %failure, "reopening the Event stream");
                self.shared.set_state(RelayState::Reconnecting { attempt });
                delay
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop_requested(&mut stopped) => return Ok(()),
            }
            self.transport.renew();
        }
    }

    /// Reads one stream until it ends, fails, stays silent past the watchdog, or the relay
    /// stops. Events are named in order; a message waits for its payload while up to
    /// [`LOOKAHEAD`] events behind it are read.
    async fn pump(
        &self,
        stream: &mut tonic::codec::Streaming<EventResponse>,
        stopped: &mut watch::Receiver<bool>,
    ) -> Ended {
        let mut named: FuturesOrdered<BoxFuture<'static, Option<Named>>> = FuturesOrdered::new();
        loop {
            tokio::select! {
                biased;
                _ = stop_requested(stopped) => {
                    // What was read is buffered before leaving (the publisher then has the
                    // stop's grace to publish it).
                    let drained = tokio::time::timeout(self.stop_grace, async {
                        while let Some(next) = named.next().await {
                            if let Some(next) = next {
                                self.push(next).await;
                            }
                        }
                    });
                    if drained.await.is_err() {
                        tracing::error!(events = named.len(), "the relay stopped before it could buffer events it had read: they are lost");
                    }
                    return Ended::Stopped;
                }
                Some(next) = named.next(), if !named.is_empty() => {
                    if let Some(next) = next {
                        self.push(next).await;
                    }
                }
                next = tokio::time::timeout(self.settings.watchdog, stream.next()), if named.len() < LOOKAHEAD => {
                    match next {
                        Ok(Some(Ok(response))) => named.push_back(self.name(response)),
                        Ok(Some(Err(status))) => {
                            let error = self.transport.error("Event", status).await;
                            tracing::warn!(%error, "the Event stream failed");
                            return Ended::Broken(error);
                        }
                        Ok(None) => {
                            tracing::warn!("the puppet service ended the Event stream");
                            return Ended::Broken(Error::NotConnected);
                        }
                        Err(_silent) => {
                            tracing::warn!(watchdog = ?self.settings.watchdog, "no event (not even a heartbeat) within the watchdog period: reconnecting");
                            return Ended::Broken(Error::Timeout {
                                what: "a heartbeat on the Event stream".into(),
                                timeout: self.settings.watchdog,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Names one event: its subject and headers. A message's conversation needs its payload,
    /// looked up here; every other event is named at once. `None`: skipped (too big).
    fn name(&self, response: EventResponse) -> BoxFuture<'static, Option<Named>> {
        let received_at = SystemTime::now();
        let received = Instant::now();
        if response.payload.len() > self.settings.max_event_payload {
            self.shared.counters.skipped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                kind = response.r#type,
                bytes = response.payload.len(),
                cap = self.settings.max_event_payload,
                "not relaying an event over the payload cap (`WechatyBuilder::max_event_payload`)"
            );
            return futures_util::future::ready(None).boxed();
        }
        let decoded = event::decode(response.r#type, &response.payload);
        let replay = decoded
            .as_ref()
            .is_ok_and(|event| self.session().is_replay(event));
        let (name, id, room, conversation) = match &decoded {
            Ok(event) => {
                let room = event.room_id().map(ToString::to_string);
                let conversation = match (&room, event) {
                    (Some(room), _) => room.clone(),
                    (None, Event::Friendship { friendship_id }) => {
                        format!("friendship:{friendship_id}")
                    }
                    (None, Event::RoomInvite { room_invitation_id }) => {
                        format!("room-invite:{room_invitation_id}")
                    }
                    _ => envelope::SESSION.into(),
                };
                (
                    event.name(),
                    self.ids.id(event, &response.payload),
                    room,
                    conversation,
                )
            }
            Err(error) => {
                // Relayed all the same: each worker decodes it, and skips it with a warning.
                tracing::warn!(kind = error.kind, reason = %error.reason, "relaying a malformed event");
                let id = self.ids.unique("malformed");
                ("malformed", id, None, envelope::SESSION.into())
            }
        };
        let state = decoded.as_ref().is_ok_and(envelope::is_state);
        let named = Named {
            kind: response.r#type,
            name,
            id,
            room,
            conversation,
            state,
            replay,
            payload: Bytes::from(response.payload.into_bytes()),
            received,
            received_at,
        };
        match decoded {
            Ok(Event::Message { message_id }) => {
                let transport = self.transport.clone();
                async move {
                    let mut named = named;
                    match message_payload::load_message(&transport, &message_id).await {
                        Ok(payload) => {
                            if let Some(room) = payload.room_id {
                                named.conversation = room.to_string();
                                named.room = Some(room.to_string());
                            } else {
                                // Both directions of a direct chat are one conversation.
                                let mut parties = [
                                    payload.talker_id.map(|id| id.to_string()).unwrap_or_default(),
                                    payload.listener_id.map(|id| id.to_string()).unwrap_or_default(),
                                ];
                                parties.sort();
                                named.conversation = parties.join("|");
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%message_id, %error, "cannot tell a message's conversation: relayed with the session's events");
                        }
                    }
                    Some(named)
                }
                .boxed()
            }
            _ => futures_util::future::ready(Some(named)).boxed(),
        }
    }

    fn session(&self) -> std::sync::MutexGuard<'_, session::Session> {
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Puts one named event into the buffer, waiting for room: while it waits, nothing more is
    /// read from the service.
    async fn push(&self, named: Named) {
        // The payload, and what the subject, headers and bookkeeping of one event take beside
        // it, so that the byte bound is a bound on memory, not only on payloads.
        let bytes = (named.payload.len() + named.id.len() + EVENT_OVERHEAD)
            .clamp(1, self.buffer_bytes) as u32;
        let room = |budget: &Arc<Semaphore>, permits: u32| {
            Arc::clone(budget).try_acquire_many_owned(permits).ok()
        };
        let permits = match (room(&self.events_budget, 1), room(&self.budget, bytes)) {
            (Some(event), Some(bytes)) => (event, bytes),
            (event, bytes_held) => {
                let counters = &self.shared.counters;
                tracing::warn!(
                    buffered_events = counters.buffered_events.load(Ordering::Relaxed),
                    buffered_bytes = counters.buffered_bytes.load(Ordering::Relaxed),
                    "the relay's buffer is full (NATS is slow or away): not reading the Event \
                     stream until JetStream acknowledges more"
                );
                self.shared.set_state(RelayState::BackPressure);
                let event = match event {
                    Some(event) => event,
                    None => match Arc::clone(&self.events_budget).acquire_owned().await {
                        Ok(event) => event,
                        Err(_) => return,
                    },
                };
                let bytes = match bytes_held {
                    Some(bytes) => bytes,
                    None => match Arc::clone(&self.budget).acquire_many_owned(bytes).await {
                        Ok(bytes) => bytes,
                        Err(_) => return,
                    },
                };
                tracing::info!("the relay's buffer has room again: reading the Event stream");
                self.shared.set_state(RelayState::Relaying);
                (event, bytes)
            }
        };
        let subject = format!(
            "{}.{}.{}.{}.{}.p{}",
            self.shared.stream,
            self.shared.account,
            if named.state { "state" } else { "event" },
            named.name,
            named
                .room
                .as_deref()
                .map_or_else(|| "_".to_string(), subject_token),
            envelope::partition(&named.conversation),
        );
        let millis = named
            .received_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        let headers = publisher::EventHeaders {
            id: named.id,
            kind: named.kind,
            room: named.room,
            millis,
            replay: named.replay,
        };
        let counters = &self.shared.counters;
        counters.buffered_events.fetch_add(1, Ordering::Relaxed);
        counters
            .buffered_bytes
            .fetch_add(u64::from(bytes), Ordering::Relaxed);
        let outgoing = Outgoing {
            subject,
            headers,
            payload: named.payload,
            received: named.received,
            _permits: permits,
        };
        if self.buffer.send(outgoing).await.is_err() {
            tracing::error!("the relay's publisher is gone: an event was not published");
        }
    }
}

/// An event with everything its subject and headers need.
struct Named {
    kind: i32,
    name: &'static str,
    id: String,
    room: Option<String>,
    conversation: String,
    state: bool,
    /// A login or ready the service replayed.
    replay: bool,
    payload: Bytes,
    received: Instant,
    received_at: SystemTime,
}

/// Returns once the relay is asked to stop (no guard held, so the future stays `Send`).
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stopped| *stopped).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(
            redact_url("nats://bob:secret@host:4222"),
            "nats://bob:***@host:4222"
        );
        assert_eq!(redact_url("nats://tok3n@host"), "nats://***@host");
        assert_eq!(
            redact_url("nats://a:b@h1,nats://h2"),
            "nats://a:***@h1,nats://h2"
        );
        let options = RelayOptions::new("nats://bob:secret@host");
        assert!(!format!("{options:?}").contains("secret"));
    }

    #[test]
    fn options_are_checked() {
        assert!(RelayOptions::new("nats://h").validate().is_ok());
        assert!(RelayOptions::new("nats://h")
            .stream("a.b")
            .validate()
            .is_err());
        assert!(RelayOptions::new("nats://h")
            .account("x y")
            .validate()
            .is_err());
        assert!(RelayOptions::new("nats://h")
            .buffer(0, 1 << 20)
            .validate()
            .is_err());
    }

    #[test]
    fn latency_lands_in_its_bucket() {
        let latency = Latency::default();
        latency.record(Duration::from_micros(500));
        latency.record(Duration::from_millis(30));
        latency.record(Duration::from_secs(60));
        let counts: Vec<u64> = latency
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts[0], 1);
        assert_eq!(counts[5], 1); // < 50 ms
        assert_eq!(counts[LATENCY_BUCKETS_MS.len()], 1);
    }
}
