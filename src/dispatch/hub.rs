//! The channels the dispatch task feeds, and the state it keeps: the global `broadcast` of
//! numbered event batches, one `broadcast` per subscribed room (created by its first
//! subscriber, removed after its last), the connection state and the logged-in account.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{broadcast, watch};

use super::budget::{Budget, Held};
use super::seen::{SeenMessages, SEEN_MESSAGES};
use super::state::ConnectionState;
use crate::error::Error;
use crate::event::{Event, RoomAnnounce, RoomJoin, RoomLeave, RoomTopic, MALFORMED_ORDINAL};
use crate::ids::{ContactId, RoomId};
use crate::message::payload::{MessageCache, MessagePayload};
use crate::statistics::EventCounts;

/// Batches buffered per global subscriber before a slow one starts missing them: 1,024 events
/// when events trickle in one at a time, up to 64 times more under load. (A broadcast drops
/// a value once every receiver has seen it: memory is held only for what slow subscribers
/// have yet to read.)
const GLOBAL_BUFFER: usize = 1024;
/// The same per room subscriber.
const ROOM_BUFFER: usize = 256;
/// Most bytes of events (estimated from their payloads) the global buffer holds for slow
/// subscribers; past it they miss the oldest.
pub(crate) const GLOBAL_BUFFER_BYTES: usize = 16 * 1024 * 1024;
/// The same for all room buffers together.
pub(crate) const ROOM_BUFFER_BYTES: usize = 16 * 1024 * 1024;
/// What an event costs besides its payload's bytes: its own size and an allocation or two.
pub(crate) const EVENT_OVERHEAD: usize = std::mem::size_of::<Event>() + 64;

/// What says that an event was handled, by being dropped: in a worker (feature `nats`), the
/// JetStream acknowledgement of the event. Events from the service's own stream have none.
/// Each subscriber holds its event's until it reads past it, the `Bot` runner until the
/// handler call returns, so the last of them to let go acknowledges.
pub(crate) type Handled = Arc<dyn Acknowledgement>;

/// The [`Handled`]s of a batch's events, one for one.
pub(crate) type HandledBatch = Arc<[Option<Handled>]>;

/// The other side of [`Handled`]: told when an event will not be handled after all.
pub(crate) trait Acknowledgement: Send + Sync {
    /// The bot stopped before the event's handler ran: once let go of, the event goes back
    /// (to another worker) instead of being acknowledged.
    fn abandon(&self);
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

impl RoomSignal {
    /// About how many bytes the signal holds, `payload` being its event's payload size.
    pub(crate) fn weight(&self, payload: usize) -> usize {
        match self {
            Self::Message(message) => message.weight(),
            _ => payload + EVENT_OVERHEAD,
        }
    }

    /// The room it is for (`Reconnected` is for every room).
    fn room(&self) -> Option<&RoomId> {
        match self {
            Self::Join(join) => Some(&join.room_id),
            Self::Leave(leave) => Some(&leave.room_id),
            Self::Topic(topic) => Some(&topic.room_id),
            Self::Announce(announce) => Some(&announce.room_id),
            Self::Message(message) => message.room_id.as_ref(),
            Self::Reconnected => None,
        }
    }
}

/// Events published to global subscribers together, numbered so that a subscriber that
/// missed batches knows exactly how many events it missed. The events themselves may be
/// taken back by the byte budget before a slow subscriber reads them.
#[derive(Clone)]
pub(crate) struct EventBatch {
    /// The number of the first event (numbers run on across batches).
    pub(crate) first: u64,
    /// How many events the batch has.
    pub(crate) len: u64,
    pub(crate) events: Arc<Held<Arc<[Event]>>>,
    /// Each event's [`Handled`], in a worker.
    pub(crate) handled: Option<HandledBatch>,
}

/// Events being gathered into a batch, with their estimated size, and the signals for room
/// subscribers that came with them.
pub(crate) struct Batch {
    pub(crate) events: Vec<Event>,
    pub(crate) bytes: usize,
    /// Each with its estimated size.
    rooms: Vec<(RoomSignal, usize)>,
    /// Each event's [`Handled`]; empty while no event has one.
    handled: Vec<Option<Handled>>,
    /// The [`Handled`] of the next event pushed (set by a worker's feed before dispatching;
    /// an event that is not pushed lets go of it at once).
    pub(crate) next_handled: Option<Handled>,
}

impl Batch {
    pub(crate) fn with_capacity(events: usize) -> Self {
        Self {
            events: Vec::with_capacity(events),
            bytes: 0,
            rooms: Vec::new(),
            handled: Vec::new(),
            next_handled: None,
        }
    }

    pub(crate) fn push(&mut self, event: Event, bytes: usize) {
        let handled = self.next_handled.take();
        if handled.is_some() || !self.handled.is_empty() {
            // Kept beside `events`, one for one.
            self.handled.resize(self.events.len(), None);
            self.handled.push(handled);
        }
        self.events.push(event);
        self.bytes += bytes;
    }

    /// Adds a signal for its room's subscribers, published with the batch.
    pub(crate) fn push_room(&mut self, signal: RoomSignal, bytes: usize) {
        self.rooms.push((signal, bytes));
    }
}

struct Global {
    sender: broadcast::Sender<EventBatch>,
    /// The number the next event gets.
    next: u64,
    budget: Budget<Arc<[Event]>>,
}

/// A room's signal as its buffer holds it: its place among the signals published together
/// (for every room), which the byte budget holds and takes back as one. One allocation per
/// batch rather than per signal: the fan-out of room events is the hot path.
#[derive(Clone)]
pub(crate) struct HeldSignal {
    signals: Arc<Held<Vec<RoomSignal>>>,
    index: usize,
}

impl HeldSignal {
    /// The signal, unless the budget took it back.
    pub(crate) fn get(&self) -> Option<RoomSignal> {
        self.signals
            .with(|signals| signals.get(self.index).cloned())
            .flatten()
    }
}

struct Rooms {
    channels: HashMap<RoomId, broadcast::Sender<HeldSignal>>,
    /// One budget for every room's buffer.
    budget: Budget<Vec<RoomSignal>>,
}

/// A hook run on every event before subscribers see it (cache invalidation).
pub(crate) type Invalidator = Arc<dyn Fn(&Event) + Send + Sync>;

/// The channels and state the task feeds; shared with the bot handle.
pub(crate) struct Hub {
    global: Mutex<Option<Global>>,
    rooms: Mutex<Rooms>,
    state: watch::Sender<ConnectionState>,
    /// The logged-in account, as the events tell.
    pub(super) user: watch::Sender<Option<ContactId>>,
    /// Whether a `ready` came since the last login.
    pub(super) ready: AtomicBool,
    /// Events by kind, lagged and reconnects, for the statistics.
    pub(crate) counts: EventCounts,
    /// Run on every event before subscribers see it.
    pub(super) invalidate: Invalidator,
    /// The message ids seen lately (duplicates are dropped; `bot.messages()` looks back).
    pub(crate) seen: Mutex<SeenMessages>,
    /// The bot's message payloads: a room message's lookup (to learn its room) fills it, so
    /// that a handler reading the same message does not ask again.
    pub(super) messages: Arc<MessageCache>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    /// A hub that runs `invalidate` on every event before publishing it, and reads message
    /// payloads through `messages`.
    pub(crate) fn new(invalidate: Invalidator, messages: Arc<MessageCache>) -> Self {
        Self {
            global: Mutex::new(Some(Global {
                sender: broadcast::channel(GLOBAL_BUFFER).0,
                next: 0,
                budget: Budget::new(GLOBAL_BUFFER_BYTES),
            })),
            rooms: Mutex::new(Rooms {
                channels: HashMap::new(),
                budget: Budget::new(ROOM_BUFFER_BYTES),
            }),
            state: watch::channel(ConnectionState::Idle).0,
            user: watch::channel(None).0,
            ready: AtomicBool::new(false),
            counts: EventCounts::default(),
            invalidate,
            seen: Mutex::new(SeenMessages::new(SEEN_MESSAGES)),
            messages,
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
    pub(crate) fn subscribe_room(&self, room: &RoomId) -> Option<broadcast::Receiver<HeldSignal>> {
        if lock(&self.global).is_none() {
            return None;
        }
        let mut rooms = lock(&self.rooms);
        let sender = rooms
            .channels
            .entry(room.clone())
            .or_insert_with(|| broadcast::channel(ROOM_BUFFER).0);
        Some(sender.subscribe())
    }

    /// Called after a room receiver was dropped: without receivers left, the room's channel
    /// goes (checked under the lock subscribers take, so a new one cannot slip in between).
    pub(crate) fn unsubscribe_room(&self, room: &RoomId) {
        let mut rooms = lock(&self.rooms);
        if rooms
            .channels
            .get(room)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            rooms.channels.remove(room);
        }
    }

    pub(crate) fn room_channels(&self) -> usize {
        lock(&self.rooms).channels.len()
    }

    /// Bytes held for slow subscribers now: (global, rooms).
    pub(crate) fn buffered_bytes(&self) -> (usize, usize) {
        let global = lock(&self.global)
            .as_ref()
            .map_or(0, |global| global.budget.held());
        (global, lock(&self.rooms).budget.held())
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

    /// The message ids seen lately, oldest first.
    pub(crate) fn seen_messages(&self) -> Vec<crate::ids::MessageId> {
        lock(&self.seen).ids()
    }

    pub(crate) fn malformed(&self) -> u64 {
        self.counts.of(MALFORMED_ORDINAL)
    }

    /// Whether the hub was closed for good (stopped, dropped, or refused).
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.global).is_none()
    }

    /// Closes for good: every subscriber's stream ends after what it has buffered.
    pub(crate) fn close(&self, error: Option<Error>) {
        lock(&self.global).take();
        lock(&self.rooms).channels.clear();
        self.set_state(ConnectionState::Closed {
            error: error.map(Arc::new),
        });
    }

    fn publish(&self, event: Event) {
        let mut batch = Batch::with_capacity(1);
        batch.push(event, EVENT_OVERHEAD);
        self.publish_batch(&mut batch);
    }

    /// Publishes (and empties) `batch`, which the caller reuses: room signals first (as each
    /// event's room sees it before the global stream does), then the events, moved into their
    /// shared slice in one allocation.
    pub(super) fn publish_batch(&self, batch: &mut Batch) {
        if !batch.rooms.is_empty() {
            self.publish_rooms(&mut batch.rooms);
        }
        let bytes = std::mem::take(&mut batch.bytes);
        // Without a subscriber, dropped here: handled, as far as anyone will know.
        let handled = (!batch.handled.is_empty())
            .then(|| HandledBatch::from(std::mem::take(&mut batch.handled)));
        if batch.events.is_empty() {
            return;
        }
        if let Some(global) = lock(&self.global).as_mut() {
            let first = global.next;
            let len = batch.events.len() as u64;
            global.next += len;
            // No subscriber is not an error: the events are dropped like the server drops them.
            if global.sender.receiver_count() > 0 {
                let events = global.budget.hold(batch.events.drain(..).collect(), bytes);
                let _ = global.sender.send(EventBatch {
                    first,
                    len,
                    events,
                    handled,
                });
            }
        }
        batch.events.clear();
    }

    /// Sends one signal to its room's subscribers, if it has any; `bytes` is its estimated size.
    pub(super) fn publish_room(&self, signal: RoomSignal, bytes: usize) {
        self.publish_rooms(&mut vec![(signal, bytes)]);
    }

    /// Sends (and empties) `signals`, each to its room's subscribers: those for rooms without
    /// any are dropped, the others held together under the budget.
    fn publish_rooms(&self, signals: &mut Vec<(RoomSignal, usize)>) {
        let mut rooms = lock(&self.rooms);
        let Rooms { channels, budget } = &mut *rooms;
        let mut bytes = 0;
        let mut kept = Vec::with_capacity(signals.len());
        let mut senders = Vec::with_capacity(signals.len());
        for (signal, weight) in signals.drain(..) {
            if let Some(sender) = signal.room().and_then(|room| channels.get(room)) {
                bytes += weight;
                kept.push(signal);
                senders.push(sender);
            }
        }
        if kept.is_empty() {
            return;
        }
        let held = budget.hold(kept, bytes);
        let mut closed = false;
        for (index, sender) in senders.into_iter().enumerate() {
            let signals = Arc::clone(&held);
            closed |= sender.send(HeldSignal { signals, index }).is_err();
        }
        if closed {
            channels.retain(|_, sender| sender.receiver_count() > 0);
        }
    }

    pub(super) fn publish_reconnected(&self) {
        // Events fired while disconnected are lost: nothing cached can be trusted.
        (self.invalidate)(&Event::Reconnected);
        self.counts.count_reconnect();
        self.publish(Event::Reconnected);
        let mut rooms = lock(&self.rooms);
        let Rooms { channels, budget } = &mut *rooms;
        if channels.is_empty() {
            return;
        }
        let signals = budget.hold(vec![RoomSignal::Reconnected], EVENT_OVERHEAD);
        for sender in channels.values() {
            let signals = Arc::clone(&signals);
            let _ = sender.send(HeldSignal { signals, index: 0 });
        }
    }
}
