//! A room's own events: [`RoomEvent`]s from [`Room::events`](crate::Room::events), never
//! another room's.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::Stream;

use super::handle::Room;
use crate::dispatch::hub::{HeldSignal, Hub, RoomSignal};
use crate::event::{RoomAnnounce, RoomJoin, RoomLeave, RoomTopic};
use crate::ids::RoomId;
use crate::message::Message;
use crate::wechaty::WeakWechaty;

impl Room {
    /// This room's events from now on: joins, leaves, topic and announcement changes, and
    /// messages — never another room's. The stream ends when the bot stops for good.
    pub fn events(&self) -> RoomEvents {
        let hub = self.bot.hub();
        let receiver = hub.subscribe_room(&self.id);
        RoomEvents {
            inner: receiver.map(BroadcastStream::new),
            missed: 0,
            after_missed: None,
            hub,
            room: self.id.clone(),
            bot: self.bot.downgrade(),
        }
    }
}

/// An event of one room.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RoomEvent {
    /// Members joined.
    Join(Arc<RoomJoin>),
    /// Members left or were removed.
    Leave(Arc<RoomLeave>),
    /// The topic changed.
    Topic(Arc<RoomTopic>),
    /// The announcement changed.
    Announce(Arc<RoomAnnounce>),
    /// A message in this room (its payload is already loaded).
    Message(Message),
    /// Marker: the Event stream was reopened; events in between were lost.
    Reconnected,
    /// Marker: this subscriber fell behind and missed `missed` events.
    Lagged {
        /// How many it missed.
        missed: u64,
    },
}

impl RoomEvent {
    /// The wire name of the event (`"room-join"`, `"message"`, …), or a marker's name
    /// (`"lagged"`, `"reconnected"`), as [`Event::name`](crate::Event::name) says it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Join(_) => "room-join",
            Self::Leave(_) => "room-leave",
            Self::Topic(_) => "room-topic",
            Self::Announce(_) => "room-announce",
            Self::Message(_) => "message",
            Self::Reconnected => "reconnected",
            Self::Lagged { .. } => "lagged",
        }
    }
}

/// The stream returned by [`Room::events`]. Dropping the last one of a room removes the room's
/// channel.
pub struct RoomEvents {
    inner: Option<BroadcastStream<HeldSignal>>,
    /// Signals the byte budget took back before this subscriber read them, not yet reported.
    missed: u64,
    /// The signal that came after them, handed out after the `Lagged` that reports them.
    after_missed: Option<RoomSignal>,
    hub: Arc<Hub>,
    room: RoomId,
    /// Weak: a room's stream (or a handler over it) does not keep the bot alive.
    bot: WeakWechaty,
}

impl fmt::Debug for RoomEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RoomEvents").field(&self.room).finish()
    }
}

impl Stream for RoomEvents {
    type Item = RoomEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RoomEvent>> {
        let this = &mut *self;
        let signal = loop {
            if let Some(signal) = this.after_missed.take() {
                break signal;
            }
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(None);
            };
            let item = match Pin::new(inner).poll_next(cx) {
                Poll::Ready(item) => item,
                // Report what was missed now rather than with the next signal.
                Poll::Pending if this.missed > 0 => {
                    let missed = std::mem::take(&mut this.missed);
                    this.hub.counts.count_lagged(missed);
                    return Poll::Ready(Some(RoomEvent::Lagged { missed }));
                }
                Poll::Pending => return Poll::Pending,
            };
            match item {
                None => return Poll::Ready(None),
                Some(Err(BroadcastStreamRecvError::Lagged(missed))) => this.missed += missed,
                Some(Ok(held)) => match held.get() {
                    None => this.missed += 1,
                    Some(signal) if this.missed > 0 => {
                        this.after_missed = Some(signal);
                        let missed = std::mem::take(&mut this.missed);
                        this.hub.counts.count_lagged(missed);
                        return Poll::Ready(Some(RoomEvent::Lagged { missed }));
                    }
                    Some(signal) => break signal,
                },
            }
        };
        Poll::Ready(Some(match signal {
            RoomSignal::Join(join) => RoomEvent::Join(join),
            RoomSignal::Leave(leave) => RoomEvent::Leave(leave),
            RoomSignal::Topic(topic) => RoomEvent::Topic(topic),
            RoomSignal::Announce(announce) => RoomEvent::Announce(announce),
            RoomSignal::Message(payload) => match this.bot.upgrade() {
                Some(bot) => RoomEvent::Message(Message::with_payload(payload, bot)),
                // The bot is gone: so is its room's stream.
                None => return Poll::Ready(None),
            },
            RoomSignal::Reconnected => RoomEvent::Reconnected,
        }))
    }
}

impl Drop for RoomEvents {
    fn drop(&mut self) {
        if let Some(receiver) = self.inner.take() {
            drop(receiver);
            self.hub.unsubscribe_room(&self.room);
        }
    }
}
