//! Decode and route: each `EventResponse` becomes an [`Event`] (`event/payload.rs`), then, in
//! order, a message seen already is dropped (`seen.rs`), the caches forget what it invalidates, the login state follows it, and a room event
//! goes to that room's channel. A room message needs its payload to know its room: a side task
//! looks it up, a bounded number at a time, so the dispatch loop never waits on an RPC.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use super::hub::{Batch, Hub, RoomSignal, EVENT_OVERHEAD};
use crate::event::{self, Event, MALFORMED_ORDINAL};
use crate::generated::wechaty::puppet::EventResponse;
use crate::ids::MessageId;
use crate::message::payload as message_payload;
use crate::transport::Transport;

/// Room messages waiting for their payload (to learn their room); more are dropped for rooms.
const ROOM_MESSAGE_QUEUE: usize = 4096;
/// Payload lookups for room messages in flight at once.
const ROOM_MESSAGE_LOOKUPS: usize = 16;

/// Decodes each event and routes it: caches, login state, the room's channel. Global
/// publishing is batched by the caller.
pub(super) struct Dispatcher<'a> {
    pub(super) hub: &'a Hub,
    pub(super) rooms: &'a RoomMessages,
    /// After a reconnect, until the first event that is not part of the server's replay.
    pub(super) replaying: bool,
    /// Larger payloads are skipped as malformed.
    pub(super) max_payload: usize,
    /// In a worker: the login state and the `dirty` events come from the state events every
    /// worker follows ([`follow`](Self::follow)), not from the events this worker handles.
    pub(super) follows_session: bool,
}

impl Dispatcher<'_> {
    /// Decodes one event and does everything but the global publishing, which is batched:
    /// what global subscribers should see goes into `batch`.
    pub(super) fn dispatch(&mut self, response: EventResponse, batch: &mut Batch) {
        let size = response.payload.len();
        if size > self.max_payload {
            self.hub.counts.count(MALFORMED_ORDINAL);
            let reason = format!(
                "a payload of {size} bytes, over the cap of {} (`WechatyBuilder::max_event_payload`)",
                self.max_payload
            );
            tracing::warn!(kind = response.r#type, %reason, "skipped an oversized event from the puppet service");
            let event = Event::Malformed {
                kind: response.r#type,
                reason,
            };
            return batch.push(event, EVENT_OVERHEAD);
        }
        let event = match event::decode(response.r#type, &response.payload) {
            Ok(event) => event,
            Err(error) => {
                self.hub.counts.count(MALFORMED_ORDINAL);
                tracing::warn!(
                    kind = error.kind,
                    reason = %error.reason,
                    "skipped a malformed event from the puppet service"
                );
                let event = Event::Malformed {
                    kind: error.kind,
                    reason: error.reason,
                };
                return batch.push(event, EVENT_OVERHEAD);
            }
        };
        self.hub.counts.count(event.ordinal());
        if let Event::Message { message_id } = &event {
            if !lock(&self.hub.seen).first_sighting(message_id) {
                self.hub.counts.count_duplicate();
                tracing::debug!(%message_id, "dropped a message delivered twice");
                return;
            }
        }
        // Caches first, so a subscriber reacting to the event reads fresh data.
        (self.hub.invalidate)(&event);
        if self.follows_session {
            // Every worker publishes the `dirty`s it follows; handled here, it would be twice.
            if matches!(event, Event::Dirty { .. }) {
                return;
            }
        } else if !self.track_session(&event) {
            return;
        }
        self.route_to_room(&event, size, batch);
        batch.push(event, size + EVENT_OVERHEAD);
    }

    /// An event every worker follows (feature `nats`): the caches forget what it invalidates,
    /// the login state follows it, and a `dirty` is published (a `sync()` waits for its
    /// echo). Nothing else is published: one worker of the group handles the event.
    /// `catch_up`: stored before this worker started, so only the login state cares.
    #[cfg(feature = "nats")]
    pub(super) fn follow(&mut self, response: &EventResponse, catch_up: bool, batch: &mut Batch) {
        if response.payload.len() > self.max_payload {
            return;
        }
        let Ok(event) = event::decode(response.r#type, &response.payload) else {
            // The worker that handles it says so.
            return;
        };
        if !catch_up {
            (self.hub.invalidate)(&event);
        }
        self.track_session(&event);
        if !catch_up && matches!(event, Event::Dirty { .. }) {
            batch.push(event, response.payload.len() + EVENT_OVERHEAD);
        }
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

    fn route_to_room(&self, event: &Event, payload: usize, batch: &mut Batch) {
        let signal = match event {
            Event::RoomJoin(join) => RoomSignal::Join(join.clone()),
            Event::RoomLeave(leave) => RoomSignal::Leave(leave.clone()),
            Event::RoomTopic(topic) => RoomSignal::Topic(topic.clone()),
            Event::RoomAnnounce(announce) => RoomSignal::Announce(announce.clone()),
            Event::Message { message_id } => {
                // Only the payload says which room: look it up off this task, if anyone listens.
                if self.hub.room_channels() > 0 {
                    self.rooms.resolve(message_id.clone());
                }
                return;
            }
            _ => return,
        };
        let bytes = signal.weight(payload);
        batch.push_room(signal, bytes);
    }
}

/// Finds the room of each message (one payload lookup, a bounded number in flight) and
/// publishes it there. Runs beside the dispatch task so lookups never delay other events.
pub(super) struct RoomMessages {
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
    pub(super) fn spawn(transport: Transport, hub: Arc<Hub>) -> Self {
        let cache = Arc::clone(&hub.messages);
        let (queue, mut pending) = mpsc::channel::<MessageId>(ROOM_MESSAGE_QUEUE);
        let task = tokio::spawn(async move {
            let mut lookups = JoinSet::new();
            loop {
                tokio::select! {
                    Some(id) = pending.recv(), if lookups.len() < ROOM_MESSAGE_LOOKUPS => {
                        let transport = transport.clone();
                        let cache = Arc::clone(&cache);
                        lookups.spawn(async move {
                            let payload = message_payload::load_cached_message(&cache, || Ok(transport), &id).await;
                            (id, payload)
                        });
                    }
                    Some(done) = lookups.join_next(), if !lookups.is_empty() => {
                        match done {
                            Ok((_, Ok(payload))) => {
                                if payload.room_id.is_some() {
                                    let signal = RoomSignal::Message(payload);
                                    let bytes = signal.weight(0);
                                    hub.publish_room(signal, bytes);
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
