//! The one background task that owns the `Event` stream, and the channels it feeds.
//!
//! For each event, in order: cache invalidation, login state, then the global
//! `broadcast` and the room's own `broadcast` (created on its first subscriber, removed with its
//! last). Subscribers never block the task: a slow one sees `Lagged` and continues.
//!
//! When the stream ends, fails or stays silent past the watchdog, the task drops it (which
//! cancels it: the server allows one stream) and reopens it after the reconnect policy's delay.
//! `Unauthenticated` is final. Subscribers keep their receivers across reconnects and get a
//! `Reconnected` marker; the `login`/`ready` the server replays on every new stream are
//! recognised and not published again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tonic::codec::Streaming;

use crate::error::{Error, Result};
use crate::event::{self, Event, RoomAnnounce, RoomJoin, RoomLeave, RoomTopic};
use crate::generated::wechaty::puppet::{EventRequest, EventResponse};
use crate::ids::{ContactId, MessageId, RoomId};
use crate::message::{fetch_payload, MessagePayload};
use crate::reconnect::ReconnectPolicy;
use crate::transport::Transport;

/// How long `open` waits for the stream to be accepted. The official client waits as long for
/// the first event: some servers send nothing until something happens, and that is fine.
const OPEN_GRACE: Duration = Duration::from_secs(5);
/// Batches buffered per global subscriber before a slow one starts missing them: 1,024 events
/// when events trickle in one at a time, up to 64 times more under load. (A broadcast drops
/// a value once every receiver has seen it: memory is held only for what slow subscribers
/// have yet to read.)
const GLOBAL_BUFFER: usize = 1024;
/// Events the task takes from the stream at once, when that many are already there. One
/// batch is one send and one wake-up per global subscriber instead of one per event, so a
/// global subscriber keeps up even among a thousand busy room subscribers.
const MAX_BATCH: usize = 64;
/// The same per room subscriber.
const ROOM_BUFFER: usize = 256;
/// Room messages waiting for their payload (to learn their room); more are dropped for rooms.
const ROOM_MESSAGE_QUEUE: usize = 4096;
/// Payload lookups for room messages in flight at once.
const ROOM_MESSAGE_LOOKUPS: usize = 16;

/// Where the connection to the service stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Not connected yet: `connect()`/`start()` has not been called or has not succeeded.
    Idle,
    /// Opening the Event stream for the first time.
    Connecting,
    /// The Event stream is open.
    Connected,
    /// The stream broke; waiting before attempt `attempt` to reopen it.
    Reconnecting {
        /// 1 for the first retry.
        attempt: u32,
    },
    /// Closed for good: by `stop()` (`error` is `None`), or because of `error` (a rejected
    /// token, or the reconnect policy gave up).
    Closed {
        /// Why, unless stopped on purpose.
        error: Option<Error>,
    },
}

/// What room subscribers receive, as data (the room's stream turns it into handles; keeping
/// handles out of the buffers keeps them from holding the bot alive).
#[derive(Debug, Clone)]
pub(crate) enum RoomSignal {
    Join(Arc<RoomJoin>),
    Leave(Arc<RoomLeave>),
    Topic(Arc<RoomTopic>),
    Announce(Arc<RoomAnnounce>),
    Message(Arc<MessagePayload>),
    Reconnected,
}

/// Events published to global subscribers together, numbered so that a subscriber that
/// missed batches knows exactly how many events it missed.
#[derive(Clone)]
pub(crate) struct EventBatch {
    /// The number of the first event (numbers run on across batches).
    pub(crate) first: u64,
    pub(crate) events: Arc<[Event]>,
}

struct Global {
    sender: broadcast::Sender<EventBatch>,
    /// The number the next event gets.
    next: u64,
}

/// A hook run on every event before subscribers see it (cache invalidation).
pub(crate) type Invalidator = Arc<dyn Fn(&Event) + Send + Sync>;

/// The channels and state the task feeds; shared with the bot handle.
pub(crate) struct Hub {
    global: Mutex<Option<Global>>,
    rooms: Mutex<HashMap<RoomId, broadcast::Sender<RoomSignal>>>,
    state: watch::Sender<ConnectionState>,
    user: watch::Sender<Option<ContactId>>,
    ready: AtomicBool,
    malformed: AtomicU64,
    invalidate: Invalidator,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    /// A hub that runs `invalidate` on every event before publishing it.
    pub(crate) fn new(invalidate: Invalidator) -> Self {
        Self {
            global: Mutex::new(Some(Global {
                sender: broadcast::channel(GLOBAL_BUFFER).0,
                next: 0,
            })),
            rooms: Mutex::default(),
            state: watch::channel(ConnectionState::Idle).0,
            user: watch::channel(None).0,
            ready: AtomicBool::new(false),
            malformed: AtomicU64::new(0),
            invalidate,
        }
    }

    /// A receiver of every event from now on, with the number of the next event, or `None`
    /// once closed for good.
    pub(crate) fn subscribe(&self) -> Option<(broadcast::Receiver<EventBatch>, u64)> {
        lock(&self.global)
            .as_ref()
            .map(|global| (global.sender.subscribe(), global.next))
    }

    /// A receiver of one room's events (the channel is created on the first subscriber).
    pub(crate) fn subscribe_room(&self, room: &RoomId) -> Option<broadcast::Receiver<RoomSignal>> {
        if lock(&self.global).is_none() {
            return None;
        }
        let mut rooms = lock(&self.rooms);
        let sender = rooms
            .entry(room.clone())
            .or_insert_with(|| broadcast::channel(ROOM_BUFFER).0);
        Some(sender.subscribe())
    }

    /// Called after a room receiver was dropped: without receivers left, the room's channel
    /// goes (checked under the lock subscribers take, so a new one cannot slip in between).
    pub(crate) fn unsubscribe_room(&self, room: &RoomId) {
        let mut rooms = lock(&self.rooms);
        if rooms
            .get(room)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            rooms.remove(room);
        }
    }

    pub(crate) fn room_channels(&self) -> usize {
        lock(&self.rooms).len()
    }

    pub(crate) fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.subscribe()
    }

    pub(crate) fn set_state(&self, state: ConnectionState) {
        self.state.send_replace(state);
    }

    pub(crate) fn user(&self) -> watch::Receiver<Option<ContactId>> {
        self.user.subscribe()
    }

    pub(crate) fn malformed(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// Closes for good: every subscriber's stream ends after what it has buffered.
    pub(crate) fn close(&self, error: Option<Error>) {
        lock(&self.global).take();
        lock(&self.rooms).clear();
        self.set_state(ConnectionState::Closed { error });
    }

    fn publish(&self, event: Event) {
        self.publish_batch(&mut vec![event]);
    }

    /// Publishes (and empties) `events`, which the caller reuses: the batch is moved into
    /// its shared slice in one allocation.
    fn publish_batch(&self, events: &mut Vec<Event>) {
        if events.is_empty() {
            return;
        }
        if let Some(global) = lock(&self.global).as_mut() {
            let first = global.next;
            global.next += events.len() as u64;
            // No subscriber is not an error: the events are dropped like the server drops them.
            if global.sender.receiver_count() > 0 {
                let _ = global.sender.send(EventBatch {
                    first,
                    events: events.drain(..).collect(),
                });
            }
        }
        events.clear();
    }

    fn publish_room(&self, room: &RoomId, signal: RoomSignal) {
        let mut rooms = lock(&self.rooms);
        if let Some(sender) = rooms.get(room) {
            if sender.send(signal).is_err() {
                rooms.remove(room);
            }
        }
    }

    fn publish_reconnected(&self) {
        // Events fired while disconnected are lost: nothing cached can be trusted.
        (self.invalidate)(&Event::Reconnected);
        self.publish(Event::Reconnected);
        for sender in lock(&self.rooms).values() {
            let _ = sender.send(RoomSignal::Reconnected);
        }
    }
}

/// Settings of the task.
#[derive(Clone)]
pub(crate) struct StreamSettings {
    pub(crate) watchdog: Duration,
    pub(crate) policy: Arc<dyn ReconnectPolicy>,
}

/// Opens the Event stream and spawns the task that owns it from then on.
///
/// Returns once the service accepted the stream (or after the grace period); a refusal (wrong
/// token, another client holding the stream, an unreachable service) is returned as an error
/// and no task is left running.
pub(crate) async fn start(
    transport: Transport,
    hub: Arc<Hub>,
    settings: StreamSettings,
) -> Result<JoinHandle<()>> {
    hub.set_state(ConnectionState::Connecting);
    let (opened_tx, opened_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let first = match open_stream(&transport).await {
            Ok(stream) => {
                let _ = opened_tx.send(Ok(()));
                stream
            }
            Err(error) => {
                let _ = opened_tx.send(Err(error));
                return;
            }
        };
        run(first, transport, hub, settings).await;
    });
    match tokio::time::timeout(OPEN_GRACE, opened_rx).await {
        Ok(Ok(Ok(()))) | Err(_) => Ok(task),
        Ok(Ok(Err(error))) => Err(error),
        Ok(Err(_task_gone)) => Err(Error::NotConnected),
    }
}

async fn open_stream(transport: &Transport) -> Result<Streaming<EventResponse>> {
    transport
        .puppet()
        .event(EventRequest {})
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| transport.error("Event", &status))
}

/// How one stream ended.
enum Ended {
    /// The server closed it, it failed, or it went silent: reopen.
    Broken(Error),
    /// The token was rejected: stop.
    Unauthenticated,
}

async fn run(
    first: Streaming<EventResponse>,
    transport: Transport,
    hub: Arc<Hub>,
    settings: StreamSettings,
) {
    let rooms = RoomMessages::spawn(transport.clone(), Arc::clone(&hub));
    let mut stream = first;
    let mut reconnected = false;
    loop {
        hub.set_state(ConnectionState::Connected);
        let mut dispatcher = Dispatcher {
            hub: &hub,
            rooms: &rooms,
            replaying: reconnected,
        };
        let mut last_error = match pump(&mut stream, &transport, &settings, &mut dispatcher).await {
            Ended::Unauthenticated => {
                hub.close(Some(Error::Unauthenticated));
                return;
            }
            Ended::Broken(error) => error,
        };
        // Dropping the stream cancels it, so the server frees its single slot.
        drop(stream);
        let mut attempt = 0;
        stream = loop {
            attempt += 1;
            let Some(delay) = settings.policy.delay(attempt) else {
                tracing::error!(error = %last_error, "giving up reconnecting the Event stream");
                hub.close(Some(last_error));
                return;
            };
            hub.set_state(ConnectionState::Reconnecting { attempt });
            tracing::info!(attempt, ?delay, "reconnecting the Event stream");
            tokio::time::sleep(delay).await;
            match open_stream(&transport).await {
                Ok(stream) => break stream,
                Err(Error::Unauthenticated) => {
                    hub.close(Some(Error::Unauthenticated));
                    return;
                }
                Err(error) => {
                    tracing::warn!(attempt, %error, "reopening the Event stream failed");
                    last_error = error;
                }
            }
        };
        reconnected = true;
        hub.publish_reconnected();
    }
}

/// Reads one stream until it ends, fails or stays silent longer than the watchdog allows.
/// Events already waiting are taken together (up to [`MAX_BATCH`]) and published as one batch.
async fn pump(
    stream: &mut Streaming<EventResponse>,
    transport: &Transport,
    settings: &StreamSettings,
    dispatcher: &mut Dispatcher<'_>,
) -> Ended {
    // Reused for every batch: a fresh buffer per batch is a large allocation, which costs
    // glibc's allocator a sweep of its small free lists each time.
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let mut next = match tokio::time::timeout(settings.watchdog, stream.next()).await {
            Err(_silent) => {
                tracing::warn!(
                    watchdog = ?settings.watchdog,
                    "no event (not even a heartbeat) within the watchdog period: reconnecting"
                );
                return Ended::Broken(Error::Timeout {
                    what: "a heartbeat on the Event stream".into(),
                    timeout: settings.watchdog,
                });
            }
            Ok(next) => next,
        };
        let mut taken = 0;
        let ended = loop {
            match next {
                Some(Ok(response)) => batch.extend(dispatcher.dispatch(response)),
                Some(Err(status)) => break Some(failed(transport, &status)),
                None => {
                    tracing::warn!(
                        endpoint = transport.endpoint(),
                        "the puppet service ended the Event stream"
                    );
                    break Some(Ended::Broken(Error::NotConnected));
                }
            }
            taken += 1;
            if taken == MAX_BATCH {
                break None;
            }
            // What is already there, without waiting.
            match stream.next().now_or_never() {
                Some(item) => next = item,
                None => break None,
            }
        };
        dispatcher.hub.publish_batch(&mut batch);
        if let Some(ended) = ended {
            return ended;
        }
        // A stream that always has data would keep this task running while the subscribers
        // it woke wait in the queue; counting each batch against tokio's cooperative budget
        // makes it yield now and then, so they keep up instead of lagging.
        tokio::task::consume_budget().await;
    }
}

fn failed(transport: &Transport, status: &tonic::Status) -> Ended {
    let error = transport.error("Event", status);
    if error == Error::Unauthenticated {
        tracing::error!(%error, "the Event stream was refused");
        return Ended::Unauthenticated;
    }
    tracing::warn!(%error, "the Event stream failed");
    Ended::Broken(error)
}

struct Dispatcher<'a> {
    hub: &'a Hub,
    rooms: &'a RoomMessages,
    /// After a reconnect, until the first event that is not part of the server's replay.
    replaying: bool,
}

impl Dispatcher<'_> {
    /// Decodes one event and does everything but the global publishing, which is batched;
    /// returns what global subscribers should see.
    fn dispatch(&mut self, response: EventResponse) -> Option<Event> {
        let event = match event::decode(response.r#type, &response.payload) {
            Ok(event) => event,
            Err(error) => {
                self.hub.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    kind = error.kind,
                    reason = %error.reason,
                    "skipped a malformed event from the puppet service"
                );
                return Some(Event::Malformed {
                    kind: error.kind,
                    reason: error.reason,
                });
            }
        };
        // Caches first, so a subscriber reacting to the event reads fresh data.
        (self.hub.invalidate)(&event);
        if !self.track_session(&event) {
            return None;
        }
        self.route_to_room(&event);
        Some(event)
    }

    /// Follows login state; returns `false` for a replayed login/ready that changes nothing.
    fn track_session(&mut self, event: &Event) -> bool {
        let replaying = self.replaying;
        match event {
            Event::Heartbeat { .. } | Event::Scan { .. } => {}
            Event::Login { contact_id } => {
                let same = self.hub.user.borrow().as_ref() == Some(contact_id);
                self.hub.user.send_replace(Some(contact_id.clone()));
                if replaying && same {
                    tracing::debug!(%contact_id, "replayed login after reconnect");
                    return false;
                }
            }
            Event::Ready { .. } => {
                let was_ready = self.hub.ready.swap(true, Ordering::Relaxed);
                if replaying && was_ready {
                    return false;
                }
            }
            Event::Logout { .. } => {
                self.replaying = false;
                self.hub.user.send_replace(None);
                self.hub.ready.store(false, Ordering::Relaxed);
            }
            _ => self.replaying = false,
        }
        true
    }

    fn route_to_room(&self, event: &Event) {
        let (room, signal) = match event {
            Event::RoomJoin(join) => (&join.room_id, RoomSignal::Join(join.clone())),
            Event::RoomLeave(leave) => (&leave.room_id, RoomSignal::Leave(leave.clone())),
            Event::RoomTopic(topic) => (&topic.room_id, RoomSignal::Topic(topic.clone())),
            Event::RoomAnnounce(announce) => {
                (&announce.room_id, RoomSignal::Announce(announce.clone()))
            }
            Event::Message { message_id } => {
                // Only the payload says which room: look it up off this task, if anyone listens.
                if self.hub.room_channels() > 0 {
                    self.rooms.resolve(message_id.clone());
                }
                return;
            }
            _ => return,
        };
        self.hub.publish_room(room, signal);
    }
}

/// Finds the room of each message (one payload lookup, a bounded number in flight) and
/// publishes it there. Runs beside the dispatch task so lookups never delay other events.
struct RoomMessages {
    queue: mpsc::Sender<MessageId>,
    _task: AbortOnDrop,
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl RoomMessages {
    fn spawn(transport: Transport, hub: Arc<Hub>) -> Self {
        let (queue, mut pending) = mpsc::channel::<MessageId>(ROOM_MESSAGE_QUEUE);
        let task = tokio::spawn(async move {
            let mut lookups = JoinSet::new();
            loop {
                tokio::select! {
                    Some(id) = pending.recv(), if lookups.len() < ROOM_MESSAGE_LOOKUPS => {
                        let transport = transport.clone();
                        lookups.spawn(async move { (id.clone(), fetch_payload(&transport, &id).await) });
                    }
                    Some(done) = lookups.join_next(), if !lookups.is_empty() => {
                        match done {
                            Ok((_, Ok(payload))) => {
                                if let Some(room) = payload.room_id.clone() {
                                    hub.publish_room(&room, RoomSignal::Message(Arc::new(payload)));
                                }
                            }
                            Ok((id, Err(error))) => {
                                tracing::warn!(%id, %error, "cannot tell which room a message belongs to");
                            }
                            Err(panic) => tracing::error!(%panic, "a message lookup panicked"),
                        }
                    }
                    else => break,
                }
            }
        });
        Self {
            queue,
            _task: AbortOnDrop(task),
        }
    }

    fn resolve(&self, id: MessageId) {
        if self.queue.try_send(id).is_err() {
            tracing::warn!("too many room messages waiting for their payload: one skipped for room subscribers");
        }
    }
}
