//! Callback conveniences over the event streams: `bot.on_message(..)`, `room.on_join(..)`, ….
//!
//! Each handler runs in its own task and is called once per matching event, in order (the next
//! call waits for the previous one), with handles ready to use: a [`Message`], a
//! [`ContactSelf`], a [`RoomJoined`] whose people's names are loaded. A handler returns a
//! [`HandlerResult`], so `?` works; an error is logged with the handler's name, a panic too,
//! and the handler goes on with the next event. A handler slower than the events falls behind,
//! misses some (logged) and continues; it never slows the bot or other handlers.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio::task::JoinHandle;
use tokio_stream::{Stream, StreamExt};

use crate::contact::{Contact, ContactSelf};
use crate::event::{Event, Scan, ServiceError};
use crate::friendship::Friendship;
use crate::ids::ContactId;
use crate::message::Message;
use crate::room::{
    Room, RoomAnnounceChanged, RoomEvent, RoomInvitation, RoomJoined, RoomLeft, RoomTopicChanged,
};
use crate::wechaty::{WeakWechaty, Wechaty};

/// Any error a handler may return: `?` converts the SDK's [`Error`](crate::Error), `anyhow`'s,
/// `std::io`'s and every other `std::error::Error` into it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a handler returns. An `Err` is logged (with its causes and the handler's name); it
/// never stops the bot.
pub type HandlerResult = std::result::Result<(), BoxError>;

/// How long a handler waits for its first event before it says that the bot was never
/// started (a registered handler on a bot nobody starts would otherwise stay silent).
const NOT_STARTED_HINT: Duration = Duration::from_secs(10);

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

/// Awaits one call of a handler: an error is logged with its causes, a panic with its
/// message; either way the caller goes on.
pub(crate) async fn call_guarded(handler: &'static str, call: impl Future<Output = HandlerResult>) {
    match AssertUnwindSafe(call).catch_unwind().await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::error!(handler, error = %chain(&*error), "a handler failed");
        }
        Err(panic) => {
            tracing::error!(
                handler,
                panic = %panic_message(&*panic),
                "a handler panicked; it goes on with the next event"
            );
        }
    }
}

/// An error and its causes: `outer: inner: innermost`.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors repeat their cause in their own message.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What a panic said, when it said it with a string.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

/// Says, once per handler, that the bot it waits on was never started.
fn hint_if_not_started(bot: &WeakWechaty, handler: &'static str) {
    if bot.upgrade().is_some_and(|bot| !bot.is_connected()) {
        tracing::warn!(
            handler,
            "a handler is registered but the bot was not started after 10 s, so it hears \
             nothing: call `bot.start().await` (or run a `Bot` with `WechatyBuilder::run`)"
        );
    }
}

/// The handler task: reads `stream`, turns each item into the handler's argument with `make`
/// (which may load payloads; `None` skips the item), and calls `handler` with it, one call at
/// a time. The bot is held weakly between events, so a handler never keeps it alive.
fn spawn<S, T, M, MakeFut, F, Fut>(
    bot: &Wechaty,
    name: &'static str,
    stream: S,
    make: M,
    handler: F,
) -> Handler
where
    S: Stream + Send + Unpin + 'static,
    S::Item: Send,
    T: Send + 'static,
    M: Fn(Wechaty, S::Item) -> MakeFut + Send + 'static,
    MakeFut: Future<Output = Option<T>> + Send,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    let weak = bot.downgrade();
    let task = tokio::spawn(async move {
        let mut stream = stream;
        let first = match tokio::time::timeout(NOT_STARTED_HINT, stream.next()).await {
            Ok(first) => first,
            Err(_) => {
                hint_if_not_started(&weak, name);
                stream.next().await
            }
        };
        let mut next = first;
        while let Some(item) = next {
            let Some(bot) = weak.upgrade() else { break };
            if let Some(value) = make(bot, item).await {
                call_guarded(name, handler(value)).await;
            }
            next = stream.next().await;
        }
    });
    Handler { task }
}

pub(crate) fn lagged(missed: u64) {
    tracing::warn!(missed, "a handler fell behind and missed events");
}

/// `events` with the login `current` (read after subscribing to them) told first, and the
/// stream's own copy of it (the service's replay) skipped: how a handler that came after the
/// login still hears of it, once.
pub(crate) fn current_login_first<S, T>(
    events: S,
    current: Option<ContactId>,
) -> impl Stream<Item = T> + Send + Unpin + 'static
where
    S: Stream<Item = T> + Send + Unpin + 'static,
    T: CarriesEvent,
{
    let mut told = current.clone();
    let now =
        tokio_stream::iter(current.map(|contact_id| T::from_event(Event::Login { contact_id })));
    let later = events.filter(move |item| {
        let event = item.event();
        let repeat =
            matches!(event, Event::Login { contact_id } if told.as_ref() == Some(contact_id));
        if repeat || matches!(event, Event::Logout { .. }) {
            told = None;
        }
        !repeat
    });
    now.chain(later)
}

/// A stream item that is an event, or carries one.
pub(crate) trait CarriesEvent: Send + 'static {
    fn event(&self) -> &Event;
    /// An item for an event the SDK makes up (the current login).
    fn from_event(event: Event) -> Self;
}

impl CarriesEvent for Event {
    fn event(&self) -> &Event {
        self
    }

    fn from_event(event: Event) -> Self {
        event
    }
}

/// An event with what says it was handled (in a worker), as the `Bot` runner reads them.
impl CarriesEvent for (Event, Option<crate::dispatch::hub::Handled>) {
    fn event(&self) -> &Event {
        &self.0
    }

    fn from_event(event: Event) -> Self {
        (event, None)
    }
}

/// The bot's events, lag logged and left out.
fn bot_events(bot: &Wechaty) -> impl Stream<Item = Event> + Send + Unpin + 'static {
    bot.events().filter(|event| match event {
        Event::Lagged { missed } => {
            lagged(*missed);
            false
        }
        _ => true,
    })
}

macro_rules! bot_handler {
    ($(#[$doc:meta])* $name:ident, $arg:ty, |$bot:ident, $event:ident| $make:expr) => {
        $(#[$doc])*
        pub fn $name<F, Fut>(&self, handler: F) -> Handler
        where
            F: Fn($arg) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = HandlerResult> + Send + 'static,
        {
            spawn(self, stringify!($name), bot_events(self), |$bot: Wechaty, $event: Event| async move { $make }, handler)
        }
    };
}

impl Wechaty {
    /// Calls `handler` with every event (markers included).
    pub fn on_event<F, Fut>(&self, handler: F) -> Handler
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        spawn(
            self,
            "on_event",
            self.events(),
            |_, event| async move { Some(event) },
            handler,
        )
    }

    bot_handler!(
        /// Calls `handler` with every message (received or sent by the bot). The handle
        /// carries the bot: no clone to take along.
        ///
        /// ```no_run
        /// # fn demo(bot: wechaty_client::Wechaty) {
        /// bot.on_message(|message| async move {
        ///     if message.text().await? == "ding" {
        ///         message.reply("dong").await?;
        ///     }
        ///     Ok(())
        /// })
        /// .detach();
        /// # }
        /// ```
        on_message, Message, |bot, event| match event {
            Event::Message { message_id } => Some(bot.message(message_id)),
            _ => None,
        }
    );

    /// Calls `handler` with the logged-in account on every (new) login. Registered while the
    /// account is logged in already, it is called at once with the current login.
    ///
    /// ```no_run
    /// # fn demo(bot: wechaty_client::Wechaty) {
    /// bot.on_login(|user| async move {
    ///     println!("logged in as {}", user.name().await?);
    ///     Ok(())
    /// })
    /// .detach();
    /// # }
    /// ```
    pub fn on_login<F, Fut>(&self, handler: F) -> Handler
    where
        F: Fn(ContactSelf) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        // Subscribed before the current login is read: a login in between is not missed.
        let events = bot_events(self);
        let current = self.current_user_id();
        let events = current_login_first(events, current);
        spawn(
            self,
            "on_login",
            events,
            |bot, event| async move {
                match event {
                    Event::Login { contact_id } => Some(ContactSelf::of(bot.contact(contact_id))),
                    _ => None,
                }
            },
            handler,
        )
    }

    bot_handler!(
        /// Calls `handler` with the account and the reason, when given, on logout.
        on_logout, (Contact, Option<String>), |bot, event| match event {
            Event::Logout { contact_id, data } => Some((bot.contact(contact_id), data)),
            _ => None,
        }
    );
    bot_handler!(
        /// Calls `handler` on every login QR code progress (`scan`): print
        /// [`Scan::qr_code`] for a person to scan.
        on_scan, Scan, |_bot, event| Scan::from_event(&event)
    );
    bot_handler!(
        /// Calls `handler` with every error the puppet reports on the stream.
        on_error, ServiceError, |_bot, event| match event {
            Event::Error(error) => Some(error),
            _ => None,
        }
    );
    bot_handler!(
        /// Calls `handler` when members join any room; their names are loaded
        /// ([`Contact::cached_name`]).
        on_room_join, RoomJoined, |bot, event| match event {
            Event::RoomJoin(join) => Some(RoomJoined::load(&bot, &join).await),
            _ => None,
        }
    );
    bot_handler!(
        /// Calls `handler` when members leave any room.
        on_room_leave, RoomLeft, |bot, event| match event {
            Event::RoomLeave(leave) => Some(RoomLeft::load(&bot, &leave).await),
            _ => None,
        }
    );
    bot_handler!(
        /// Calls `handler` when any room's topic changes.
        on_room_topic, RoomTopicChanged, |bot, event| match event {
            Event::RoomTopic(topic) => Some(RoomTopicChanged::load(&bot, &topic).await),
            _ => None,
        }
    );
    bot_handler!(
        /// Calls `handler` when any room's announcement changes.
        on_room_announce, RoomAnnounceChanged, |bot, event| match event {
            Event::RoomAnnounce(announce) => Some(RoomAnnounceChanged::load(&bot, &announce).await),
            _ => None,
        }
    );
    bot_handler!(
        /// Calls `handler` with a ready-to-use invitation when the bot is invited into a room.
        on_room_invite, RoomInvitation, |bot, event| match event {
            Event::RoomInvite { room_invitation_id } => Some(bot.room_invitation(room_invitation_id)),
            _ => None,
        }
    );

    /// Calls `handler` with every friendship (a request, a confirmation, a verification),
    /// its payload loaded; see [`Friendship`] for an example.
    pub fn on_friendship<F, Fut>(&self, handler: F) -> Handler
    where
        F: Fn(Friendship) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        spawn(
            self,
            "on_friendship",
            self.friendships().events(),
            |_, friendship| async move { Some(friendship) },
            handler,
        )
    }
}

macro_rules! room_handler {
    ($(#[$doc:meta])* $name:ident, $arg:ty, |$bot:ident, $event:ident| $make:expr) => {
        $(#[$doc])*
        pub fn $name<F, Fut>(&self, handler: F) -> Handler
        where
            F: Fn($arg) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = HandlerResult> + Send + 'static,
        {
            spawn(self.bot(), concat!("room.", stringify!($name)), self.events(), |$bot: Wechaty, $event: RoomEvent| async move {
                match $event {
                    RoomEvent::Lagged { missed } => {
                        lagged(missed);
                        None
                    }
                    $event => $make,
                }
            }, handler)
        }
    };
}

impl Room {
    room_handler!(
        /// Calls `handler` when members join this room, their names loaded.
        ///
        /// ```no_run
        /// # fn demo(bot: wechaty_client::Wechaty) {
        /// bot.room("r1@chatroom")
        ///     .on_join(|join| async move {
        ///         for contact in &join.invitees {
        ///             join.room.say(format!("welcome {}", contact.name().await?)).await?;
        ///         }
        ///         Ok(())
        ///     })
        ///     .detach();
        /// # }
        /// ```
        on_join, RoomJoined, |bot, event| match event {
            RoomEvent::Join(join) => Some(RoomJoined::load(&bot, &join).await),
            _ => None,
        }
    );
    room_handler!(
        /// Calls `handler` when members leave this room.
        on_leave, RoomLeft, |bot, event| match event {
            RoomEvent::Leave(leave) => Some(RoomLeft::load(&bot, &leave).await),
            _ => None,
        }
    );
    room_handler!(
        /// Calls `handler` when this room's topic changes.
        on_topic, RoomTopicChanged, |bot, event| match event {
            RoomEvent::Topic(topic) => Some(RoomTopicChanged::load(&bot, &topic).await),
            _ => None,
        }
    );
    room_handler!(
        /// Calls `handler` when this room's announcement changes.
        on_announce, RoomAnnounceChanged, |bot, event| match event {
            RoomEvent::Announce(announce) => Some(RoomAnnounceChanged::load(&bot, &announce).await),
            _ => None,
        }
    );
    room_handler!(
        /// Calls `handler` with each message in this room.
        on_message, Message, |_bot, event| match event {
            RoomEvent::Message(message) => Some(message),
            _ => None,
        }
    );
}
