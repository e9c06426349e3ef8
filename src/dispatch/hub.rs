//! The channels the dispatch task feeds, and the state it keeps: the global `broadcast` of
//! numbered event batches, one `broadcast` per subscribed room (created by its first
//! subscriber, removed after its last), the connection state and the logged-in account.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{broadcast, watch};

use super::state::ConnectionState;
use crate::error::Error;
use crate::event::{Event, RoomAnnounce, RoomJoin, RoomLeave, RoomTopic};
use crate::ids::{ContactId, RoomId};
use crate::message::payload::MessagePayload;

/// Batches buffered per global subscriber before a slow one starts missing them: 1,024 events
/// when events trickle in one at a time, up to 64 times more under load. (A broadcast drops
/// a value once every receiver has seen it: memory is held only for what slow subscribers
/// have yet to read.)
const GLOBAL_BUFFER: usize = 1024;
/// The same per room subscriber.
const ROOM_BUFFER: usize = 256;

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
    /// The logged-in account, as the events tell.
    pub(super) user: watch::Sender<Option<ContactId>>,
    /// Whether a `ready` came since the last login.
    pub(super) ready: AtomicBool,
    malformed: AtomicU64,
    /// Run on every event before subscribers see it.
    pub(super) invalidate: Invalidator,
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

    /// Counts a malformed event.
    pub(super) fn count_malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the hub was closed for good (stopped, dropped, or refused).
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.global).is_none()
    }

    /// Closes for good: every subscriber's stream ends after what it has buffered.
    pub(crate) fn close(&self, error: Option<Error>) {
        lock(&self.global).take();
        lock(&self.rooms).clear();
        self.set_state(ConnectionState::Closed {
            error: error.map(Arc::new),
        });
    }

    fn publish(&self, event: Event) {
        self.publish_batch(&mut vec![event]);
    }

    /// Publishes (and empties) `events`, which the caller reuses: the batch is moved into
    /// its shared slice in one allocation.
    pub(super) fn publish_batch(&self, events: &mut Vec<Event>) {
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

    pub(super) fn publish_room(&self, room: &RoomId, signal: RoomSignal) {
        let mut rooms = lock(&self.rooms);
        if let Some(sender) = rooms.get(room) {
            if sender.send(signal).is_err() {
                rooms.remove(room);
            }
        }
    }

    pub(super) fn publish_reconnected(&self) {
        // Events fired while disconnected are lost: nothing cached can be trusted.
        (self.invalidate)(&Event::Reconnected);
        self.publish(Event::Reconnected);
        for sender in lock(&self.rooms).values() {
            let _ = sender.send(RoomSignal::Reconnected);
        }
    }
}
