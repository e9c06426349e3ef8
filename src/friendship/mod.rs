//! [`Friendship`]: a friend request, a confirmation or a verification, as the `friendship`
//! event brings it, loaded and ready; its data is [`FriendshipPayload`] (`payload.rs`).
//! Searching, adding and the stream of friendships are [`Friendships`] (`friendships.rs`).

mod friendships;
mod payload;

use std::fmt;
use std::sync::Arc;

use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;
use crate::wechaty::Wechaty;

pub use friendships::{FriendshipEvents, Friendships};
pub use payload::{FriendshipKind, FriendshipPayload, FriendshipScene};

/// A friendship, its payload loaded: [`kind`](Self::kind), [`contact`](Self::contact) and
/// [`hello`](Self::hello) need no I/O. Get one from `bot.on_friendship(..)`,
/// `bot.friendships().events()`, or `bot.friendships().load(id)` with the id of an
/// [`Event::Friendship`](crate::Event::Friendship).
///
/// ```no_run
/// use wechaty_client::FriendshipKind;
/// # fn demo(bot: wechaty_client::Wechaty) {
/// bot.on_friendship(|friendship| async move {
///     if friendship.kind() == FriendshipKind::Receive && friendship.hello() == "ding" {
///         friendship.accept().await?; // an error is logged with the handler's name
///     }
///     Ok(())
/// })
/// .detach();
/// # }
/// ```
#[derive(Clone)]
pub struct Friendship {
    payload: Arc<FriendshipPayload>,
    bot: Wechaty,
}

impl fmt::Debug for Friendship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Friendship")
            .field("id", &self.payload.id)
            .field("kind", &self.payload.kind)
            .field("contact", &self.payload.contact_id)
            .finish()
    }
}

impl Friendship {
    /// Loads friendship `id` (`FriendshipPayload`); friendships are not cached: each event is
    /// read once.
    pub(crate) async fn load(bot: &Wechaty, id: &str) -> Result<Self> {
        if id.is_empty() {
            return Err(Error::InvalidArgument(
                "a friendship id cannot be empty".into(),
            ));
        }
        let request = pb::FriendshipPayloadRequest {
            id: id.to_owned(),
            ..Default::default()
        };
        let response = bot
            .transport()?
            .unary("FriendshipPayload", request, |mut c, r| async move {
                c.friendship_payload(r).await
            })
            .await?;
        Ok(Self {
            payload: Arc::new(FriendshipPayload::from_wire(response)?),
            bot: bot.clone(),
        })
    }

    /// The friendship id.
    pub fn id(&self) -> &str {
        &self.payload.id
    }

    /// What it is about: a request received, a confirmation, a verification.
    pub fn kind(&self) -> FriendshipKind {
        self.payload.kind
    }

    /// The other side.
    pub fn contact(&self) -> Contact {
        self.bot.contact(self.payload.contact_id.clone())
    }

    /// The greeting sent with a request (`""` when none).
    pub fn hello(&self) -> &str {
        self.payload.hello.as_deref().unwrap_or_default()
    }

    /// How the other side found the bot.
    pub fn scene(&self) -> FriendshipScene {
        self.payload.scene
    }

    /// Everything the service said.
    pub fn payload(&self) -> &FriendshipPayload {
        &self.payload
    }

    /// Accepts a received request (`FriendshipAccept`): the other side becomes a friend. The
    /// contact's cached payload is dropped, so the next read sees the friend (the service
    /// confirms with a `friendship` of kind confirm and a `dirty`).
    pub async fn accept(&self) -> Result<()> {
        if self.payload.kind != FriendshipKind::Receive {
            return Err(Error::InvalidArgument(format!(
                "friendship {} is a {}, not a received request: only those can be accepted",
                self.payload.id, self.payload.kind
            )));
        }
        let request = pb::FriendshipAcceptRequest {
            id: self.payload.id.clone(),
        };
        self.bot
            .transport()?
            .unary("FriendshipAccept", request, |mut c, r| async move {
                c.friendship_accept(r).await
            })
            .await?;
        self.bot.caches().forget_contact(&self.payload.contact_id);
        Ok(())
    }

    /// The payload as JSON (wechaty-puppet's keys), to keep a request and accept it later,
    /// e.g. after a restart, with [`from_json`](Self::from_json).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(&*self.payload)
            .map_err(|error| Error::invalid_data_caused("friendship payload", error))
    }

    /// A friendship from [`to_json`](Self::to_json) output: pushed back to the service
    /// (`FriendshipPayload` with the payload set), so that `accept()` works again.
    ///
    /// The official TypeScript server (ps@1.19.9) ignores a pushed payload and answers as for
    /// a read: a friendship it still knows comes back, one it has forgotten (a restarted
    /// service) is an error, as with the official clients.
    #[allow(deprecated)] // the wrapper too, for old servers
    pub async fn from_json(bot: &Wechaty, json: &str) -> Result<Self> {
        let payload: FriendshipPayload = serde_json::from_str(json)
            .map_err(|error| Error::InvalidArgument(format!("not a saved friendship: {error}")))?;
        if payload.id.is_empty() || payload.contact_id.as_str().is_empty() {
            return Err(Error::InvalidArgument(
                "the saved friendship has no id or no contact".into(),
            ));
        }
        let request = pb::FriendshipPayloadRequest {
            id: payload.id.clone(),
            payload_string_value_deprecated: Some(json.to_owned()),
            payload: json.to_owned(),
        };
        bot.transport()?
            .unary("FriendshipPayload", request, |mut c, r| async move {
                c.friendship_payload(r).await
            })
            .await?;
        Ok(Self {
            payload: Arc::new(payload),
            bot: bot.clone(),
        })
    }
}
