//! [`Bot`]: a bot written as python-wechaty's `class MyBot(Wechaty)`, one method per event,
//! run by [`Wechaty::run`](crate::Wechaty::run) (`runner.rs`) with its calls ordered per
//! conversation (`lanes.rs`).

mod lanes;
mod runner;

use std::future::Future;

use crate::contact::{Contact, ContactSelf};
use crate::event::{Scan, ServiceError};
use crate::friendship::Friendship;
use crate::handler::HandlerResult;
use crate::message::Message;
use crate::room::{RoomAnnounceChanged, RoomInvitation, RoomJoined, RoomLeft, RoomTopicChanged};
use crate::wechaty::Wechaty;

/// Handler calls of one bot that may run at once, unless the bot says otherwise
/// ([`Bot::MAX_CONCURRENT_HANDLERS`]).
pub const DEFAULT_MAX_CONCURRENT_HANDLERS: usize = 16;

/// A bot: implement the events it cares about (every method has a default that does nothing)
/// and run it with [`WechatyBuilder::run`](crate::WechatyBuilder::run).
///
/// Each method gets handles ready to use — they carry the bot, so nothing needs cloning in —
/// and returns a [`HandlerResult`], so `?` works. The runner calls the methods concurrently
/// (at most [`MAX_CONCURRENT_HANDLERS`](Self::MAX_CONCURRENT_HANDLERS) at once) but one at a
/// time and in order within one conversation: a room, a direct chat (its messages and the
/// contact's friendship events), the session (login, logout, scan, ready, errors). An error
/// or a panic is logged and the bot goes on.
///
/// A method's code up to its first `.await` that waits runs on the runner's own task (most
/// quick calls end there, which is what makes them cheap), so long CPU work in a method
/// belongs in [`tokio::task::spawn_blocking`], as anywhere in async code.
///
/// ```no_run
/// use wechaty_client::{Bot, HandlerResult, Message, RoomJoined, WechatyBuilder};
///
/// struct DingDong;
///
/// impl Bot for DingDong {
///     async fn on_message(&self, message: Message) -> HandlerResult {
///         if message.text().await? == "ding" && !message.is_self().await? {
///             message.reply("dong").await?;
///         }
///         Ok(())
///     }
///
///     async fn on_room_join(&self, join: RoomJoined) -> HandlerResult {
///         for contact in &join.invitees {
///             join.room.say(format!("welcome, {}", contact.name().await?)).await?;
///         }
///         Ok(())
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> wechaty_client::Result<()> {
///     // Connects, starts, runs until Ctrl-C or SIGTERM.
///     WechatyBuilder::from_env().run(DingDong).await
/// }
/// ```
pub trait Bot: Send + Sync + 'static {
    /// Handler calls that may run at once (over every conversation).
    const MAX_CONCURRENT_HANDLERS: usize = DEFAULT_MAX_CONCURRENT_HANDLERS;

    /// The account logged in (also called at start when it is logged in already).
    fn on_login(&self, user: ContactSelf) -> impl Future<Output = HandlerResult> + Send {
        let _ = user;
        async { Ok(()) }
    }

    /// The account logged out, with the reason when the service gives one.
    fn on_logout(
        &self,
        user: Contact,
        reason: Option<String>,
    ) -> impl Future<Output = HandlerResult> + Send {
        let _ = (user, reason);
        async { Ok(()) }
    }

    /// Login QR code progress: show [`Scan::qr_code`] to a person (see `qr_code_text`).
    fn on_scan(&self, scan: Scan) -> impl Future<Output = HandlerResult> + Send {
        let _ = scan;
        async { Ok(()) }
    }

    /// The puppet finished loading its data (contacts and rooms can be listed).
    fn on_ready(&self, bot: Wechaty) -> impl Future<Output = HandlerResult> + Send {
        let _ = bot;
        async { Ok(()) }
    }

    /// A message arrived, or the bot sent one (check [`Message::is_self`]).
    fn on_message(&self, message: Message) -> impl Future<Output = HandlerResult> + Send {
        let _ = message;
        async { Ok(()) }
    }

    /// Members joined a room (their names loaded).
    fn on_room_join(&self, join: RoomJoined) -> impl Future<Output = HandlerResult> + Send {
        let _ = join;
        async { Ok(()) }
    }

    /// Members left or were removed from a room.
    fn on_room_leave(&self, leave: RoomLeft) -> impl Future<Output = HandlerResult> + Send {
        let _ = leave;
        async { Ok(()) }
    }

    /// A room's topic changed.
    fn on_room_topic(&self, topic: RoomTopicChanged) -> impl Future<Output = HandlerResult> + Send {
        let _ = topic;
        async { Ok(()) }
    }

    /// A room's announcement changed.
    fn on_room_announce(
        &self,
        announce: RoomAnnounceChanged,
    ) -> impl Future<Output = HandlerResult> + Send {
        let _ = announce;
        async { Ok(()) }
    }

    /// The bot was invited into a room.
    fn on_room_invite(
        &self,
        invitation: RoomInvitation,
    ) -> impl Future<Output = HandlerResult> + Send {
        let _ = invitation;
        async { Ok(()) }
    }

    /// A friend request, confirmation or verification (its payload loaded).
    fn on_friendship(&self, friendship: Friendship) -> impl Future<Output = HandlerResult> + Send {
        let _ = friendship;
        async { Ok(()) }
    }

    /// The puppet reported an error on the stream.
    fn on_error(&self, error: ServiceError) -> impl Future<Output = HandlerResult> + Send {
        let _ = error;
        async { Ok(()) }
    }
}
