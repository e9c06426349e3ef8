//! # wechaty-client
//!
//! A Rust SDK for WeChat bots on a [Wechaty](https://wechaty.js.org) **puppet service**: the
//! remote `wechaty.Puppet` gRPC server that hosted providers run and that bots reach with a
//! token.
//!
//! - [`Wechaty`] is the bot: build it with [`WechatyBuilder`] (or from the
//!   `WECHATY_PUPPET_SERVICE_*` environment variables), [`start`](Wechaty::start) it, and read
//!   typed [`Event`]s from [`Wechaty::events`] — or write a [`Bot`] (one method per event, as
//!   python-wechaty's `class MyBot(Wechaty)`) and [`run`](WechatyBuilder::run) it; or register
//!   closures (`bot.on_message(..)`, `room.on_join(..)`, …).
//! - [`Room`] and [`Rooms`] (`bot.rooms()`) are python-wechaty's Room API, every method; rooms,
//!   contacts and members are cached and refreshed when the service says they changed.
//! - [`Contact`]s are found with [`Contacts`] (`bot.contacts()`), [`Friendship`]s come as
//!   events and are searched and sent with [`Friendships`] (`bot.friendships()`), [`Tag`]s
//!   label contacts; [`ContactSelf`] (`bot.current_user()`) is the logged-in account.
//! - [`Message`] handles read what arrives (talker, room, text, mentions, recalls, locations,
//!   files), [`Messages`] (`bot.messages()`) looks back at what came; `say` sends text,
//!   contact cards, [`FileBox`]es of any size, [`UrlLink`]s, [`MiniProgram`]s and
//!   [`Location`]s.
//! - `mock` (feature `mock`, for your tests) is a real gRPC puppet service in the crate;
//!   `testing` runs a scenario (a world, a timeline, expectations) against your bot. Turn it
//!   on under `[dev-dependencies]`:
//!   `wechaty-client = { version = "0.1", features = ["mock"] }`.
//! - `proto` (feature `proto`) is the generated gRPC client, for RPCs the SDK does not wrap.
//! - `relay` (feature `nats`) publishes the Event stream to NATS JetStream, so events survive
//!   a deploy and many processes can share one account (`wechaty relay`).
//! - Every failure is an [`Error`]; none of them ever shows the token, each names the setting
//!   to change.
//!
//! ```no_run
//! use wechaty_client::{Bot, HandlerResult, Message, RoomJoined, WechatyBuilder};
//!
//! struct MyBot;
//!
//! impl Bot for MyBot {
//!     async fn on_message(&self, message: Message) -> HandlerResult {
//!         if message.text().await? == "ding" && !message.is_self().await? {
//!             message.reply("dong").await?;
//!         }
//!         Ok(())
//!     }
//!
//!     async fn on_room_join(&self, join: RoomJoined) -> HandlerResult {
//!         join.room.say_with_mentions("welcome!", &join.invitees).await?;
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> wechaty_client::Result<()> {
//!     // WECHATY_PUPPET_SERVICE_TOKEN, _ENDPOINT, _NO_TLS_INSECURE_CLIENT=true
//!     WechatyBuilder::from_env().run(MyBot).await // until Ctrl-C or SIGTERM
//! }
//! ```
//!
//! See `ARCHITECTURE.md` for how the pieces fit together.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules, from the ground up: data and the wire, the connection, the caches and the
// Event stream, the bot, then the handles and what is built on them (ARCHITECTURE.md).
mod env;
mod error;
mod generated;
mod ids;

mod event;
mod file_box;
mod http;
mod location;
mod mini_program;
mod qr_code;
mod reconnect;
mod tls;
mod token;
mod url_link;

mod discovery;
mod transport;

mod cache;
mod dispatch;
mod listed;
mod payload_cache;

mod config;
mod statistics;
mod wechaty;

mod contact;
mod contact_events;
mod file_policy;
mod file_transfer;
mod friendship;
mod mention;
mod message;
mod room;
mod say;
mod send_limiter;
mod tag;

mod bot;
mod doctor;
mod handler;

#[cfg(any(test, feature = "fuzzing"))]
mod fuzzing;

#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
#[cfg(feature = "proto")]
#[cfg_attr(docsrs, doc(cfg(feature = "proto")))]
pub mod proto;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod relay;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod testing;

/// The entry points of the fuzz targets (`fuzz/`); not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz {
    pub use crate::fuzzing::*;
}

pub use bot::{Bot, DEFAULT_MAX_CONCURRENT_HANDLERS};
pub use config::{
    WechatyBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_INLINE_FILE_LIMIT,
    DEFAULT_KEEPALIVE_TIMEOUT, DEFAULT_MAX_CALLS_IN_FLIGHT, DEFAULT_MAX_CONCURRENT_LOOKUPS,
    DEFAULT_MAX_EVENT_PAYLOAD, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_WATCHDOG,
};
pub use contact::{
    Contact, ContactGender, ContactPayload, ContactQuery, ContactQueryFilter, ContactSelf,
    ContactType, Contacts,
};
pub use contact_events::{ContactEvent, ContactEvents};
pub use discovery::{DiscoveryRetry, DEFAULT_AUTHORITY};
pub use dispatch::{ConnectionState, Events};
pub use doctor::{Check, Outcome};
pub use env::{
    ENV_AUTHORITY, ENV_ENDPOINT, ENV_NO_TLS, ENV_TLS_CA_CERT, ENV_TLS_SERVER_NAME, ENV_TOKEN,
    ENV_TOKEN_FILE,
};
pub use error::{Cause, Error, Result};
pub use event::{
    timestamp_to_time, Event, PayloadType, RoomAnnounce, RoomJoin, RoomLeave, RoomTopic, Scan,
    ScanStatus, ServiceError,
};
pub use file_box::{FileBox, FileBoxSource, MAX_FILE_BOX_BYTES};
pub use file_policy::FileTransfers;
pub use friendship::{
    Friendship, FriendshipEvents, FriendshipKind, FriendshipPayload, FriendshipScene, Friendships,
};
pub use handler::{BoxError, Handler, HandlerResult};
pub use ids::{ContactId, MessageId, RoomId};
pub use location::Location;
pub use message::{
    ImageType, Message, MessagePayload, MessageQuery, MessageQueryFilter, MessageType, Messages,
};
pub use mini_program::MiniProgram;
pub use payload_cache::CacheLimits;
pub use qr_code::{qr_code_text, qr_code_url};
pub use reconnect::{ExponentialBackoff, ReconnectPolicy};
pub use room::{
    MemberQuery, Room, RoomAnnounceChanged, RoomEvent, RoomEvents, RoomInvitation,
    RoomInvitationPayload, RoomJoined, RoomLeft, RoomMember, RoomMemberPayload,
    RoomMemberQueryFilter, RoomPayload, RoomQuery, RoomQueryFilter, RoomTopicChanged, Rooms,
};
pub use say::{Conversation, Sayable};
pub use send_limiter::SendLimits;
pub use statistics::{CacheStatistics, CacheUse, RpcStatistics, SendStatistics, Statistics};
pub use tag::Tag;
pub use tls::WECHATY_ROOT_CA_PEM;
pub use url_link::UrlLink;
pub use wechaty::Wechaty;

/// The gRPC status code carried by [`Error::Rpc`].
pub use tonic::Code;

/// Regular expressions for [`RoomQuery::TopicRegex`].
pub use regex::Regex;

/// The README's examples, compiled and run as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
