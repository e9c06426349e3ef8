//! A worker: a bot whose events come from the relay's JetStream stream instead of the
//! service's Event stream, shared with the other workers of its group
//! ([`WechatyBuilder::events_from_nats`](crate::WechatyBuilder::events_from_nats)).
//!
//! - **Partitions.** Each of the [`PARTITIONS`] has a durable pull consumer per group,
//!   `{group}_p{n}` (explicit acknowledgement), and a lease (`lease.rs`): only its holder pulls
//!   from it, so a conversation's events are handled by one worker at a time, in order. What
//!   a partition delivers goes to the bot's subscribers and handlers; each event is
//!   acknowledged once they are done with it ([`Handled`]), and its acknowledgement deadline is
//!   pushed back every third of it while they work (progress), so only a dead worker's events
//!   are delivered again. A worker that takes over a partition that still has events out
//!   (its last holder died) waits one acknowledgement deadline first, so that those come back
//!   before anything newer. A partition over the fair share is handed back once its events
//!   are acknowledged; a stopping worker hands its unhandled events back at once (`NAK`).
//! - **State.** Every worker also reads the `state` subjects (an ordered consumer, from the
//!   last of each subject on): its caches forget what they invalidate and it knows who is
//!   logged in, whichever worker handles them.
//! - Unary RPCs still go to the service: a worker needs its token, not its Event stream.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, AckKind};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::envelope::{
    account_token, redact_url, DEFAULT_STREAM, HEADER_EVENT_ID, HEADER_REPLAY, HEADER_TYPE,
};
use super::lease::Leases;

use crate::dispatch::feed::{self, Fed};
use crate::dispatch::hub::{Acknowledgement, Handled, Hub};
use crate::dispatch::{ConnectionState, StreamSettings};
use crate::error::{Error, Result};
use crate::generated::wechaty::puppet::EventResponse;
use crate::transport::Transport;

/// How long a partition's lease lives without renewal (renewed every third of it).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(6);
/// How long JetStream waits for an event's acknowledgement before it delivers it again (to
/// the partition's next holder: this worker pushes it back while its handlers work).
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(10);
/// Events of one partition delivered and not yet acknowledged, at most.
pub const DEFAULT_MAX_ACK_PENDING: usize = 256;
/// How long `start()` waits for NATS and the stream before it returns, the worker then
/// going on trying in the background (as the service's stream does).
const OPEN_GRACE: Duration = Duration::from_secs(5);
/// Events pulled at once from a partition.
const PULL_BATCH: usize = 128;
/// How long one pull waits for its batch to fill (its events come as they arrive); a
/// stopping partition finishes the pull first.
const PULL_WAIT: Duration = Duration::from_secs(1);
/// How long past its expiry a pull is read before it is taken as ended.
const PULL_GRACE: Duration = Duration::from_millis(100);
/// Lease rounds while partitions change hands come this often.
const HANDOVER_ROUND: Duration = Duration::from_millis(100);
/// How long a stopping worker has to acknowledge, hand back and leave.
const LEAVE_GRACE: Duration = Duration::from_secs(5);
/// Events unhandled this long are worth a warning.
const STALL_WARNING: Duration = Duration::from_secs(60);

/// Where a worker's events come from: the NATS server(s), the stream, and its group.
///
/// ```
/// use std::time::Duration;
/// use wechaty_client::relay::WorkerOptions;
///
/// let options = WorkerOptions::new("nats://127.0.0.1:4222", "room-bots")
///     .stream("WECHATY")
///     .ack_wait(Duration::from_secs(30));
/// ```
#[derive(Clone)]
pub struct WorkerOptions {
    url: String,
    /// `None`: alone, on an ephemeral consumer of every event ([`WorkerOptions::alone`]).
    group: Option<String>,
    stream: String,
    account: Option<String>,
    name: Option<String>,
    lease: Duration,
    ack_wait: Duration,
    max_ack_pending: usize,
}

impl std::fmt::Debug for WorkerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerOptions")
            .field("url", &redact_url(&self.url))
            .field("group", &self.group)
            .field("stream", &self.stream)
            .field("account", &self.account)
            .field("name", &self.name)
            .field("lease", &self.lease)
            .field("ack_wait", &self.ack_wait)
            .field("max_ack_pending", &self.max_ack_pending)
            .finish()
    }
}

impl WorkerOptions {
    /// Events from the NATS server(s) at `url` (several separated by commas), stream
    /// [`DEFAULT_STREAM`], shared by the workers of `group` (each event reaches one of them;
    /// another group gets every event too).
    pub fn new(url: impl Into<String>, group: impl Into<String>) -> Self {
        Self {
            group: Some(group.into()),
            ..Self::alone(url)
        }
    }

    /// Events from `url` for this process alone: every event from now on, on a consumer that
    /// JetStream forgets once the process is gone (what `wechaty events --nats` does without
    /// `--consumer`). Nothing is kept for it while it does not run.
    pub fn alone(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            group: None,
            stream: DEFAULT_STREAM.into(),
            account: None,
            name: None,
            lease: DEFAULT_LEASE,
            ack_wait: DEFAULT_ACK_WAIT,
            max_ack_pending: DEFAULT_MAX_ACK_PENDING,
        }
    }

    /// The relay's stream (`RelayOptions::stream`, `--stream`).
    pub fn stream(mut self, name: impl Into<String>) -> Self {
        self.stream = name.into();
        self
    }

    /// The account's name in subjects, when the relay was given one (`RelayOptions::account`);
    /// by default a hash of the token, as the relay's.
    pub fn account(mut self, name: impl Into<String>) -> Self {
        self.account = Some(name.into());
        self
    }

    /// This worker's name in its group (default: host name, process id and a random part).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How long a dead worker's partitions stay its own (default [`DEFAULT_LEASE`]).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long JetStream waits for an acknowledgement before it delivers an event again
    /// (default [`DEFAULT_ACK_WAIT`]); a dead worker's events come back after the lease and
    /// this. Set when the group's consumers are created; later changes are not applied.
    pub fn ack_wait(mut self, wait: Duration) -> Self {
        self.ack_wait = wait;
        self
    }

    /// Events of one partition out at once, unacknowledged (default
    /// [`DEFAULT_MAX_ACK_PENDING`]).
    pub fn max_ack_pending(mut self, events: usize) -> Self {
        self.max_ack_pending = events;
        self
    }

    /// The group's name (`None`: [`alone`](Self::alone)).
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        for (what, value, setting) in [
            (
                "group",
                self.group.as_ref(),
                "`events_from_nats`, `--consumer`",
            ),
            (
                "stream",
                Some(&self.stream),
                "`WorkerOptions::stream`, `--stream`",
            ),
            ("account", self.account.as_ref(), "`WorkerOptions::account`"),
            ("worker name", self.name.as_ref(), "`WorkerOptions::name`"),
        ] {
            if let Some(value) = value {
                if !super::envelope::is_name(value) {
                    return Err(Error::InvalidArgument(format!(
                        "the {what} {value:?} must be letters, digits, `-` or `_` ({setting})"
                    )));
                }
            }
        }
        if self.lease < Duration::from_millis(300)
            || self.ack_wait < Duration::from_secs(1)
            || self.max_ack_pending == 0
        {
            return Err(Error::InvalidArgument(
                "a worker needs a lease of at least 300 ms, an acknowledgement wait of at least \
                 1 s and at least one event pending (`WorkerOptions`)"
                    .into(),
            ));
        }
        Ok(())
    }

    fn nats_error(&self, what: &str, error: impl Into<crate::error::Cause>) -> Error {
        super::connection::nats_error(redact_url(&self.url), what, error)
    }
}

/// Starts the worker for `hub`: returns once it is reading its partitions, or after a grace
/// period (NATS or the stream not there yet: it goes on trying, and says so), or with the
/// error that makes trying pointless (a malformed URL, invalid options). The returned task
/// ends when the hub closes and the worker has left its group.
pub(crate) async fn start(
    transport: Transport,
    hub: Arc<Hub>,
    settings: StreamSettings,
    options: WorkerOptions,
) -> Result<JoinHandle<()>> {
    options.validate()?;
    hub.set_state(ConnectionState::Connecting);
    let (opened_tx, opened_rx) = oneshot::channel();
    let task = tokio::spawn(run(transport, hub, settings, options, opened_tx));
    match tokio::time::timeout(OPEN_GRACE, opened_rx).await {
        Ok(Ok(Ok(()))) | Err(_) => Ok(task),
        Ok(Ok(Err(error))) => Err(error),
        Ok(Err(_task_gone)) => Err(Error::NotConnected),
    }
}

/// The worker's life: NATS, the stream, the feed, the acknowledgements, the state, then one
/// lease round every third of the lease until the hub closes; then it leaves.
async fn run(
    transport: Transport,
    hub: Arc<Hub>,
    settings: StreamSettings,
    options: WorkerOptions,
    opened: oneshot::Sender<Result<()>>,
) {
    let mut closed = hub.state();
    let account = options
        .account
        .clone()
        .unwrap_or_else(|| account_token(transport.token().expose()));
    let worker = options.name.clone().unwrap_or_else(default_name);
    let connect = async_nats::ConnectOptions::new()
        .name(format!("wechaty-worker-{worker}"))
        .retry_on_initial_connect()
        .event_callback(|event| async move { super::connection::log_event(&event) });
    let client = match async_nats::connect_with_options(&options.url, connect).await {
        Ok(client) => client,
        Err(error) => {
            let error = options.nats_error("connecting", error);
            tracing::error!(%error, "the worker cannot start");
            let _ = opened.send(Err(error));
            hub.close(None);
            return;
        }
    };
    let context = jetstream::new(client);
    let Some(stream) = find_stream(&context, &options, &mut closed).await else {
        return;
    };
    let (feed, feed_task) = feed::spawn(
        transport.clone(),
        Arc::clone(&hub),
        settings.max_event_payload,
    );
    let pending = Pending::new();
    let (stop_tx, stop) = watch::channel(false);
    let acks = tokio::spawn(acknowledge(
        Arc::clone(&pending),
        options.ack_wait,
        stop.clone(),
    ));
    let prefix = format!("{}.{account}", options.stream);
    let following = tokio::spawn(follow(
        stream.clone(),
        format!("{prefix}.state.>"),
        feed.clone(),
        stop.clone(),
    ));
    let partitions = Partitions {
        stream,
        options: options.clone(),
        prefix,
        feed,
        pending: Arc::clone(&pending),
    };
    let Some(group) = options.group.clone() else {
        // Alone: one consumer of every event, no leases.
        let _ = opened.send(Ok(()));
        hub.set_state(ConnectionState::Connected);
        tracing::info!(stream = options.stream, "reading every event from now on");
        let pump = partitions.pump_alone();
        closed_for_good(&mut closed).await;
        let leaving = async {
            let _ = pump.stop.send(true);
            let _ = pump.task.await;
            let _ = stop_tx.send(true);
            let _ = acks.await;
            pending.hand_back().await;
        };
        let _ = tokio::time::timeout(LEAVE_GRACE, leaving).await;
        following.abort();
        feed_task.abort();
        return;
    };
    let mut leases = loop {
        match Leases::open(&context, &options.stream, &group, &worker, options.lease).await {
            Ok(leases) => break leases,
            Err(error) => {
                tracing::warn!(error = %options.nats_error("opening the partition leases", error), "retrying in 1 s");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = closed_for_good(&mut closed) => return,
                }
            }
        }
    };
    let _ = opened.send(Ok(()));
    hub.set_state(ConnectionState::Connected);
    tracing::info!(
        group,
        worker,
        stream = options.stream,
        "a worker of its group: taking its share of the partitions"
    );
    let mut pumps: BTreeMap<u32, Pump> = BTreeMap::new();
    loop {
        // A round every third of the lease; sooner while partitions change hands.
        let mut next_round = options.lease / 3;
        match leases.round().await {
            Ok(round) => {
                if round.short || !round.surplus.is_empty() {
                    next_round = next_round.min(HANDOVER_ROUND);
                }
                if !round.acquired.is_empty() {
                    tracing::info!(partitions = ?round.acquired, "took partitions of the group");
                }
                for partition in &round.lost {
                    if let Some(pump) = pumps.remove(partition) {
                        pump.task.abort();
                    }
                }
                let held: Vec<u32> = leases.held().collect();
                for partition in held {
                    if round.surplus.contains(&partition) {
                        // Stop pulling, then hand it back once its events are acknowledged.
                        if let Some(pump) = pumps.get(&partition) {
                            let _ = pump.stop.send(true);
                        }
                        let drained = pumps
                            .get(&partition)
                            .is_none_or(|pump| pump.task.is_finished());
                        if drained && pending.out(partition) == 0 {
                            pumps.remove(&partition);
                            match leases.release(partition).await {
                                Ok(()) => tracing::info!(
                                    partition,
                                    "handed a partition back to the group"
                                ),
                                Err(error) => {
                                    tracing::warn!(partition, %error, "cannot hand a partition back: it lapses by itself")
                                }
                            }
                        }
                    } else if pumps
                        .get(&partition)
                        .is_none_or(|pump| *pump.stop.borrow() || pump.task.is_finished())
                    {
                        pumps.insert(partition, partitions.pump(partition));
                    }
                }
            }
            Err(error) => {
                tracing::warn!(error = %options.nats_error("renewing the partition leases", error), "trying again shortly");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(next_round) => {}
            () = closed_for_good(&mut closed) => break,
        }
    }
    // The bot stopped: stop pulling, acknowledge what was handled, hand back the rest at once
    // (NAK: another worker gets it now), and leave the group.
    let leaving = async {
        for pump in pumps.values() {
            let _ = pump.stop.send(true);
        }
        for (_, pump) in pumps {
            let _ = pump.task.await;
        }
        let _ = stop_tx.send(true);
        let _ = acks.await;
        pending.hand_back().await;
        if let Err(error) = leases.leave().await {
            tracing::warn!(%error, "cannot leave the worker group: its partitions lapse by themselves");
        }
    };
    if tokio::time::timeout(LEAVE_GRACE, leaving).await.is_err() {
        tracing::warn!(
            "the worker could not leave its group in time: its partitions lapse by themselves"
        );
    }
    following.abort();
    feed_task.abort();
}

/// Waits for the relay's stream, saying every 10 s that it is not there; `None`: the bot
/// stopped first.
async fn find_stream(
    context: &jetstream::Context,
    options: &WorkerOptions,
    closed: &mut watch::Receiver<ConnectionState>,
) -> Option<jetstream::stream::Stream> {
    let mut said = None::<Instant>;
    loop {
        match context.get_stream(&options.stream).await {
            Ok(stream) => return Some(stream),
            Err(error) => {
                if said.is_none_or(|said| said.elapsed() >= Duration::from_secs(10)) {
                    tracing::warn!(
                        stream = options.stream,
                        error = %options.nats_error("finding the relay's stream", error),
                        "waiting for the stream: is `wechaty relay` running with this stream (`--stream`)?"
                    );
                    said = Some(Instant::now());
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = closed_for_good(closed) => return None,
        }
    }
}

async fn closed_for_good(state: &mut watch::Receiver<ConnectionState>) {
    let _ = state
        .wait_for(|state| matches!(state, ConnectionState::Closed { .. }))
        .await;
}

fn default_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    let random = {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos()),
        );
        hasher.finish() as u32
    };
    format!("{host}-{}-{random:08x}", std::process::id())
}

/// A partition being pulled.
struct Pump {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// What every partition's pump needs.
struct Partitions {
    stream: jetstream::stream::Stream,
    options: WorkerOptions,
    /// `{STREAM}.{account}`.
    prefix: String,
    feed: mpsc::Sender<Fed>,
    pending: Arc<Pending>,
}

impl Partitions {
    /// Pulls `partition` from the group's durable consumer of it.
    fn pump(&self, partition: u32) -> Pump {
        let group = self.options.group.as_deref().unwrap_or_default();
        let config = consumer::pull::Config {
            durable_name: Some(format!("{group}_p{partition}")),
            description: Some(format!("wechaty workers of {group}: partition {partition}")),
            filter_subject: format!("{}.*.*.*.p{partition}", self.prefix),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: self.options.ack_wait,
            max_ack_pending: self.options.max_ack_pending as i64,
            deliver_policy: consumer::DeliverPolicy::All,
            ..Default::default()
        };
        self.spawn(partition, config)
    }

    /// Pulls every partition from an ephemeral consumer, from now on.
    fn pump_alone(&self) -> Pump {
        let config = consumer::pull::Config {
            description: Some("wechaty: a worker alone".into()),
            filter_subject: format!("{}.>", self.prefix),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: self.options.ack_wait,
            max_ack_pending: self.options.max_ack_pending as i64,
            deliver_policy: consumer::DeliverPolicy::New,
            // JetStream forgets it this long after the process is gone.
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        };
        self.spawn(ALL_PARTITIONS, config)
    }

    fn spawn(&self, partition: u32, config: consumer::pull::Config) -> Pump {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(pull(
            self.stream.clone(),
            config,
            partition,
            self.options.ack_wait,
            self.feed.clone(),
            Arc::clone(&self.pending),
            stopped,
        ));
        Pump { stop, task }
    }
}

/// The "partition" of a worker alone: all of them.
const ALL_PARTITIONS: u32 = u32::MAX;

/// Pulls one partition into the feed until told to stop. Without a durable name, the consumer
/// is ephemeral: made again after a failure, from the event after the last one pulled.
async fn pull(
    stream: jetstream::stream::Stream,
    config: consumer::pull::Config,
    partition: u32,
    ack_wait: Duration,
    feed: mpsc::Sender<Fed>,
    pending: Arc<Pending>,
    mut stop: watch::Receiver<bool>,
) {
    let durable = config.durable_name.clone();
    let mut config = config;
    let mut last_pulled = None::<u64>;
    let mut waited = false;
    loop {
        let made = match &durable {
            Some(name) => stream.get_or_create_consumer(name, config.clone()).await,
            None => {
                if let Some(last) = last_pulled {
                    config.deliver_policy = consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: last + 1,
                    };
                }
                stream.create_consumer(config.clone()).await
            }
        };
        let consumer = match made {
            Ok(consumer) => consumer,
            Err(error) => {
                tracing::warn!(partition, %error, "cannot open the partition's consumer: retrying in 1 s");
                if sleep_or_stop(Duration::from_secs(1), &mut stop).await {
                    return;
                }
                continue;
            }
        };
        if !waited {
            waited = true;
            let mut consumer = consumer.clone();
            let out = consumer.info().await.map_or(0, |info| info.num_ack_pending);
            if out > 0 {
                // Its last holder died with these: they come back after their deadline, and
                // must be handled before anything newer of the same conversations.
                tracing::info!(
                    partition,
                    unacknowledged = out,
                    ?ack_wait,
                    "taking over a partition with events out: waiting for them to come back first"
                );
                if sleep_or_stop(ack_wait + Duration::from_millis(200), &mut stop).await {
                    return;
                }
            }
        }
        // One batch at a time, each read to its end: a partition handed back has no event
        // left in a pull's buffer, unacknowledged, for its next holder to wait for.
        loop {
            if *stop.borrow() {
                return;
            }
            let batch = consumer
                .batch()
                .max_messages(PULL_BATCH)
                .expires(PULL_WAIT)
                .messages()
                .await;
            let mut batch = match batch {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(partition, %error, "cannot pull from the partition: retrying in 1 s");
                    break;
                }
            };
            let mut failed = false;
            // The server ends a pull at its expiry; when that word goes missing (nats-server
            // 2.9 does not always send it for a part-filled pull) the client would wait 5 s
            // more, and the partition with it. So the pull ends here, after what arrived.
            let ends = tokio::time::sleep(PULL_WAIT + PULL_GRACE);
            tokio::pin!(ends);
            loop {
                let next = tokio::select! {
                    biased;
                    next = batch.next() => next,
                    () = &mut ends => batch.next().now_or_never().flatten(),
                };
                let Some(next) = next else { break };
                match next {
                    Ok(message) => {
                        if let Ok(info) = message.info() {
                            last_pulled = Some(info.stream_sequence);
                        }
                        let Some(fed) = pending.deliver(partition, message).await else {
                            continue;
                        };
                        if feed.send(fed).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(partition, %error, "pulling from the partition failed: pulling again");
                        failed = true;
                        break;
                    }
                }
            }
            if failed {
                break;
            }
        }
        if sleep_or_stop(Duration::from_secs(1), &mut stop).await {
            return;
        }
    }
}

/// Sleeps; `true` if told to stop meanwhile.
async fn sleep_or_stop(duration: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(duration) => {}
        () = told_to_stop(stop) => {}
    }
    *stop.borrow()
}

/// Returns once told to stop (no guard held, so the future stays `Send`).
async fn told_to_stop(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Reads the `state` subjects for the feed, from the last event of each on: who is logged
/// in, what the caches must forget.
async fn follow(
    stream: jetstream::stream::Stream,
    filter: String,
    feed: mpsc::Sender<Fed>,
    mut stop: watch::Receiver<bool>,
) {
    let mut stream = stream;
    // Events up to here were stored before this worker started.
    let started_at = stream
        .info()
        .await
        .map_or(0, |info| info.state.last_sequence);
    // After a failure the consumer starts over from the last of each subject: what was
    // followed already is skipped.
    let mut followed = 0u64;
    loop {
        let config = consumer::pull::OrderedConfig {
            filter_subject: filter.clone(),
            deliver_policy: consumer::DeliverPolicy::LastPerSubject,
            ..Default::default()
        };
        let messages = match stream.create_consumer(config).await {
            Ok(consumer) => consumer.messages().await.map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match messages {
            Ok(mut messages) => loop {
                let next = tokio::select! {
                    () = told_to_stop(&mut stop) => return,
                    next = messages.next() => next,
                };
                match next {
                    Some(Ok(message)) => {
                        let sequence = message.info().map_or(0, |info| info.stream_sequence);
                        if sequence != 0 && sequence <= followed {
                            continue;
                        }
                        followed = followed.max(sequence);
                        let Some((response, _, _)) = decode(&message.message) else {
                            continue;
                        };
                        let catch_up = sequence <= started_at;
                        if feed.send(Fed::Follow { response, catch_up }).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(error)) => {
                        tracing::warn!(%error, "following the state events failed: following again");
                        break;
                    }
                    None => break,
                }
            },
            Err(error) => {
                tracing::warn!(%error, "cannot follow the state events: retrying in 1 s");
            }
        }
        if sleep_or_stop(Duration::from_secs(1), &mut stop).await {
            return;
        }
    }
}

/// A relayed event: its `EventResponse`, its id and whether it is a replay; `None` (with a
/// warning) for a message that is not one.
fn decode(message: &async_nats::Message) -> Option<(EventResponse, String, bool)> {
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(name))
            .map(|value| value.as_str().to_owned())
    };
    let kind = header(HEADER_TYPE).and_then(|kind| kind.parse::<i32>().ok());
    let id = header(HEADER_EVENT_ID);
    let payload = String::from_utf8(message.payload.to_vec()).ok();
    match (kind, id, payload) {
        (Some(kind), Some(id), Some(payload)) => Some((
            EventResponse {
                r#type: kind,
                payload,
            },
            id,
            header(HEADER_REPLAY).is_some(),
        )),
        _ => {
            tracing::warn!(
                subject = %message.subject,
                "skipped a message on the relay's stream that is not a relayed event (no event type or id header, or a payload that is not UTF-8)"
            );
            None
        }
    }
}

/// The events this worker was delivered and has not acknowledged yet.
struct Pending {
    inner: Mutex<Outstanding>,
    done: mpsc::UnboundedSender<Done>,
    /// Taken by the acknowledging task.
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Done>>>,
}

#[derive(Default)]
struct Outstanding {
    next: u64,
    events: HashMap<u64, Delivered>,
}

struct Delivered {
    partition: u32,
    acker: Arc<jetstream::message::Acker>,
    since: Instant,
}

/// Dropped once the event was handled (or abandoned): tells the acknowledging task.
struct Acknowledge {
    key: u64,
    abandoned: AtomicBool,
    done: mpsc::UnboundedSender<Done>,
}

/// What became of a delivered event.
struct Done {
    key: u64,
    handled: bool,
}

impl Acknowledgement for Acknowledge {
    fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }
}

impl Drop for Acknowledge {
    fn drop(&mut self) {
        let handled = !self.abandoned.load(Ordering::Relaxed);
        let _ = self.done.send(Done {
            key: self.key,
            handled,
        });
    }
}

impl Pending {
    fn new() -> Arc<Self> {
        let (done, receiver) = mpsc::unbounded_channel();
        Arc::new(Self {
            inner: Mutex::new(Outstanding::default()),
            done,
            receiver: Mutex::new(Some(receiver)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Outstanding> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a delivered message in: what to feed, with the [`Handled`] that acknowledges it.
    /// A message that is not a relayed event is terminated (never delivered again).
    async fn deliver(&self, partition: u32, message: jetstream::Message) -> Option<Fed> {
        let decoded = decode(&message.message);
        let (_, acker) = message.split();
        let Some((response, id, replay)) = decoded else {
            if let Err(error) = acker.ack_with(AckKind::Term).await {
                tracing::warn!(%error, "cannot drop a malformed message from the stream");
            }
            return None;
        };
        let key = {
            let mut outstanding = self.lock();
            let key = outstanding.next;
            outstanding.next += 1;
            outstanding.events.insert(
                key,
                Delivered {
                    partition,
                    acker: Arc::new(acker),
                    since: Instant::now(),
                },
            );
            key
        };
        let handled: Handled = Arc::new(Acknowledge {
            key,
            abandoned: AtomicBool::new(false),
            done: self.done.clone(),
        });
        Some(Fed::Deliver {
            response,
            id,
            replay,
            handled,
        })
    }

    /// Acknowledges a handled event, or hands an abandoned one back.
    async fn settle(&self, done: Done) {
        let Some(delivered) = self.lock().events.remove(&done.key) else {
            return;
        };
        let settled = if done.handled {
            delivered.acker.ack().await
        } else {
            delivered.acker.ack_with(AckKind::Nak(None)).await
        };
        if let Err(error) = settled {
            tracing::warn!(%error, "cannot acknowledge an event: it will be delivered again");
        }
    }

    /// Events of `partition` not yet acknowledged.
    fn out(&self, partition: u32) -> usize {
        self.lock()
            .events
            .values()
            .filter(|delivered| delivered.partition == partition)
            .count()
    }

    /// Hands back every event not handled yet: JetStream delivers them again at once.
    async fn hand_back(&self) {
        let ackers: Vec<_> = self
            .lock()
            .events
            .drain()
            .map(|(_, delivered)| delivered.acker)
            .collect();
        if !ackers.is_empty() {
            tracing::info!(
                events = ackers.len(),
                "handing unhandled events back to the group"
            );
        }
        for acker in ackers {
            let _ = acker.ack_with(AckKind::Nak(None)).await;
        }
    }
}

/// Acknowledges each handled event, and pushes back the deadline of those still being
/// handled every third of it, until told to stop (then acknowledges what was handled).
async fn acknowledge(pending: Arc<Pending>, ack_wait: Duration, mut stop: watch::Receiver<bool>) {
    let Some(mut done) = pending
        .receiver
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take()
    else {
        return;
    };
    let mut progress = tokio::time::interval(ack_wait / 3);
    progress.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut warned = None::<Instant>;
    loop {
        tokio::select! {
            biased;
            Some(done) = done.recv() => pending.settle(done).await,
            _ = progress.tick() => {
                let (ackers, oldest): (Vec<_>, Option<Instant>) = {
                    let outstanding = pending.lock();
                    (
                        outstanding.events.values().map(|delivered| Arc::clone(&delivered.acker)).collect(),
                        outstanding.events.values().map(|delivered| delivered.since).min(),
                    )
                };
                for acker in &ackers {
                    let _ = acker.ack_with(AckKind::Progress).await;
                }
                if let Some(oldest) = oldest {
                    let stalled = oldest.elapsed();
                    if stalled >= STALL_WARNING && warned.is_none_or(|warned: Instant| warned.elapsed() >= STALL_WARNING) {
                        tracing::warn!(
                            events = ackers.len(),
                            oldest = ?stalled,
                            "events delivered to this worker are not handled yet: a handler is slow or stuck, or an `events()` stream is not read (read it, or drop it)"
                        );
                        warned = Some(Instant::now());
                    }
                }
            }
            () = told_to_stop(&mut stop) => {
                // What was handled until now is acknowledged; the rest is handed back.
                while let Ok(done) = done.try_recv() {
                    pending.settle(done).await;
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_fit_subjects_and_consumer_names() {
        assert!(WorkerOptions::new("nats://x", "bots").validate().is_ok());
        for bad in ["", "a.b", "a b", "a*", "a>"] {
            let error = WorkerOptions::new("nats://x", bad).validate().unwrap_err();
            assert!(error.to_string().contains("events_from_nats"), "{error}");
        }
        let error = WorkerOptions::new("nats://x", "bots")
            .stream("A.B")
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("--stream"), "{error}");
        assert!(WorkerOptions::new("nats://x", "bots")
            .ack_wait(Duration::from_millis(10))
            .validate()
            .is_err());
    }

    #[test]
    fn the_default_name_fits_a_lease_key() {
        let name = default_name();
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{name}"
        );
        assert_ne!(name, default_name(), "two workers of one host differ");
    }

    #[test]
    fn credentials_stay_out_of_debug() {
        let options = WorkerOptions::new("nats://bob:secret@host:4222", "bots");
        assert!(!format!("{options:?}").contains("secret"));
    }
}
