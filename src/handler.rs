//! Callback conveniences over the event streams: `bot.on_message(..)`, `room.on_join(..)`, ….
//!
//! Each handler runs in its own task and is called once per matching event, in order (the next
//! call waits for the previous one). A handler slower than the events falls behind, misses
//! some (logged) and continues; it never slows the bot or other handlers.

use std::future::Future;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_stream::{Stream, StreamExt};

use crate::event::{Event, RoomAnnounce, RoomJoin, RoomLeave, RoomTopic};
use crate::friendship::Friendship;
use crate::ids::ContactId;
use crate::message::Message;
use crate::room::{Room, RoomEvent, RoomInvitation};
use crate::wechaty::Wechaty;

/// A running handler. Dropping it leaves the handler running (until the bot stops, or the
/// last handle of the bot is dropped: handlers do not keep the bot alive);
/// [`cancel`](Self::cancel) ends it.
#[derive(Debug)]
#[must_use = "keep the handle to cancel the handler later, or call `detach()`"]
pub struct Handler {
    task: JoinHandle<()>,
}

impl Handler {
    /// Stops the handler.
    pub fn cancel(self) {
        self.task.abort();
    }

    /// Lets it run until the bot stops, without keeping a handle.
    pub fn detach(self) {}

    /// Whether it ended (the bot stopped, or it was cancelled).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

fn spawn<S, T, F, Fut>(stream: S, pick: fn(S::Item) -> Option<T>, handler: F) -> Handler
where
    S: Stream + Send + Unpin + 'static,
    S::Item: Send,
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let task = tokio::spawn(async move {
        let mut stream = stream;
        while let Some(item) = stream.next().await {
            if let Some(value) = pick(item) {
                handler(value).await;
            }
        }
    });
    Handler { task }
}

fn lagged(missed: u64) {
    tracing::warn!(missed, "a handler fell behind and missed events");
}

/// A handler over the bot's events: `pick` chooses the events (and what of them to pass);
/// lag is logged.
fn spawn_on_events<T, F, Fut>(bot: &Wechaty, pick: fn(Event) -> Option<T>, handler: F) -> Handler
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let picked = bot.events().filter_map(move |event| match event {
        Event::Lagged { missed } => {
            lagged(missed);
            None
        }
        other => pick(other),
    });
    spawn(Box::pin(picked), Some, handler)
}

/// A handler over the bot's events whose argument needs the bot (a `Message`, a
/// `RoomInvitation`): the bot is held weakly, so a handler never keeps it alive, and the
/// handler ends when the bot is gone.
fn spawn_with_bot<T, U, F, Fut>(
    bot: &Wechaty,
    pick: fn(Event) -> Option<T>,
    make: fn(&Wechaty, T) -> U,
    handler: F,
) -> Handler
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(U) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let weak = bot.downgrade();
    let picked = bot
        .events()
        .filter_map(move |event| match event {
            Event::Lagged { missed } => {
                lagged(missed);
                None
            }
            other => pick(other),
        })
        .map_while(move |value| weak.upgrade().map(|bot| make(&bot, value)));
    spawn(Box::pin(picked), Some, handler)
}

macro_rules! bot_handler {
    ($(#[$doc:meta])* $name:ident, $arg:ty, $pattern:pat => $value:expr) => {
        $(#[$doc])*
        pub fn $name<F, Fut>(&self, handler: F) -> Handler
        where
            F: Fn($arg) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
        {
            spawn_on_events(self, |event| match event {
                $pattern => Some($value),
                _ => None,
            }, handler)
        }
    };
}

impl Wechaty {
    /// Calls `handler` with every event (markers included).
    pub fn on_event<F, Fut>(&self, handler: F) -> Handler
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        spawn(self.events(), Some, handler)
    }

    /// Calls `handler` with every message (received or sent by the bot).
    ///
    /// ```no_run
    /// # fn demo(bot: wechaty_client::Wechaty) {
    /// bot.on_message(|message| async move {
    ///     if let Ok(payload) = message.payload().await {
    ///         if payload.text.as_deref() == Some("ding") {
    ///             let _ = message.reply("dong").await;
    ///         }
    ///     }
    /// })
    /// .detach();
    /// # }
    /// ```
    pub fn on_message<F, Fut>(&self, handler: F) -> Handler
    where
        F: Fn(Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        spawn_with_bot(
            self,
            |event| match event {
                Event::Message { message_id } => Some(message_id),
                _ => None,
            },
            |bot, id| bot.message(id),
            handler,
        )
    }

    bot_handler!(
        /// Calls `handler` with the bot's id on every (new) login.
        on_login, ContactId, Event::Login { contact_id } => contact_id
    );
    bot_handler!(
        /// Calls `handler` with the bot's id on logout.
        on_logout, ContactId, Event::Logout { contact_id, .. } => contact_id
    );
    bot_handler!(
        /// Calls `handler` when members join any room.
        on_room_join, Arc<RoomJoin>, Event::RoomJoin(join) => join
    );
    bot_handler!(
        /// Calls `handler` when members leave any room.
        on_room_leave, Arc<RoomLeave>, Event::RoomLeave(leave) => leave
    );
    bot_handler!(
        /// Calls `handler` when any room's topic changes.
        on_room_topic, Arc<RoomTopic>, Event::RoomTopic(topic) => topic
    );

    /// Calls `handler` with a ready-to-use invitation when the bot is invited into a room.
    pub fn on_room_invite<F, Fut>(&self, handler: F) -> Handler
    where
        F: Fn(RoomInvitation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        spawn_with_bot(
            self,
            |event| match event {
                Event::RoomInvite { room_invitation_id } => Some(room_invitation_id),
                _ => None,
            },
            |bot, id| bot.room_invitation(id),
            handler,
        )
    }

    /// Calls `handler` with every friendship (a request, a confirmation, a verification),
    /// its payload loaded; see [`Friendship`] for an example.
    pub fn on_friendship<F, Fut>(&self, handler: F) -> Handler
    where
        F: Fn(Friendship) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        spawn(self.friendships().events(), Some, handler)
    }
}

macro_rules! room_handler {
    ($(#[$doc:meta])* $name:ident, $arg:ty, $variant:ident) => {
        $(#[$doc])*
        pub fn $name<F, Fut>(&self, handler: F) -> Handler
        where
            F: Fn($arg) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
        {
            spawn(self.events(), |event| match event {
                RoomEvent::$variant(value) => Some(value),
                RoomEvent::Lagged { missed } => {
                    lagged(missed);
                    None
                }
                _ => None,
            }, handler)
        }
    };
}

impl Room {
    room_handler!(
        /// Calls `handler` when members join this room.
        ///
        /// ```no_run
        /// # fn demo(bot: wechaty_client::Wechaty) {
        /// bot.room("r1@chatroom")
        ///     .on_join(|join| async move { println!("welcome {:?}", join.invitee_ids) })
        ///     .detach();
        /// # }
        /// ```
        on_join, Arc<RoomJoin>, Join
    );
    room_handler!(
        /// Calls `handler` when members leave this room.
        on_leave, Arc<RoomLeave>, Leave
    );
    room_handler!(
        /// Calls `handler` when this room's topic changes.
        on_topic, Arc<RoomTopic>, Topic
    );
    room_handler!(
        /// Calls `handler` when this room's announcement changes.
        on_announce, Arc<RoomAnnounce>, Announce
    );
    room_handler!(
        /// Calls `handler` with each message in this room.
        on_message, Message, Message
    );
}
