//! [`Friendships`]: `bot.friendships()`: loading a friendship, searching by phone or handle,
//! sending a request, and the stream of ready friendships.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio_stream::{Stream, StreamExt};

use super::Friendship;
use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::generated::wechaty::puppet as pb;
use crate::ids::non_empty;
use crate::wechaty::Wechaty;

/// The bot's friendships: `bot.friendships()`.
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let friendships = bot.friendships();
/// if let Some(contact) = friendships.search_phone("13800000000").await? {
///     friendships.add(&contact, "Hi, I'm a bot").await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Friendships {
    bot: Wechaty,
}

impl Wechaty {
    /// Friend requests and friend search.
    pub fn friendships(&self) -> Friendships {
        Friendships { bot: self.clone() }
    }
}

impl Friendships {
    /// The friendship an [`Event::Friendship`] names, loaded (`FriendshipPayload`).
    pub async fn load(&self, id: &str) -> Result<Friendship> {
        Friendship::load(&self.bot, id).await
    }

    /// What every stream of friendships does with a `friendship` event: the friendship
    /// loaded, or `None` (with a warning) when its payload cannot be read.
    pub(crate) async fn load_or_skip(&self, id: &str) -> Option<Friendship> {
        match self.load(id).await {
            Ok(friendship) => Some(friendship),
            Err(error) => {
                tracing::warn!(friendship = %id, %error, "skipped a friendship whose payload could not be read");
                None
            }
        }
    }

    /// The contact with this phone number, if the service finds one (`FriendshipSearchPhone`).
    #[allow(deprecated)] // the wrapper, from servers before the plain field existed
    pub async fn search_phone(&self, phone: &str) -> Result<Option<Contact>> {
        if phone.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "give a phone number to search for".into(),
            ));
        }
        let request = pb::FriendshipSearchPhoneRequest {
            phone: phone.to_owned(),
        };
        let response = self
            .bot
            .transport()?
            .unary("FriendshipSearchPhone", request, |mut c, r| async move {
                c.friendship_search_phone(r).await
            })
            .await?;
        Ok(self.found(
            response.contact_id,
            response.contact_id_string_value_deprecated,
        ))
    }

    /// The contact with this WeChat handle, if the service finds one
    /// (`FriendshipSearchHandle`).
    #[allow(deprecated)] // the wrapper, from servers before the plain field existed
    pub async fn search_handle(&self, handle: &str) -> Result<Option<Contact>> {
        if handle.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "give a WeChat handle to search for".into(),
            ));
        }
        let request = pb::FriendshipSearchHandleRequest {
            weixin: handle.to_owned(),
        };
        let response = self
            .bot
            .transport()?
            .unary("FriendshipSearchHandle", request, |mut c, r| async move {
                c.friendship_search_handle(r).await
            })
            .await?;
        Ok(self.found(
            response.contact_id,
            response.contact_id_string_value_deprecated,
        ))
    }

    fn found(&self, id: String, wrapper: Option<String>) -> Option<Contact> {
        non_empty(id)
            .or_else(|| wrapper.and_then(non_empty))
            .map(|id| self.bot.contact(id))
    }

    /// Asks `contact` to become the bot's friend, with a greeting (`FriendshipAdd`). Their
    /// answer comes later as a `friendship` event of kind confirm (or never).
    pub async fn add(&self, contact: &Contact, hello: &str) -> Result<()> {
        let request = pb::FriendshipAddRequest {
            contact_id: contact.id().to_string(),
            hello: hello.to_owned(),
            ..Default::default()
        };
        self.bot
            .transport()?
            .unary("FriendshipAdd", request, |mut c, r| async move {
                c.friendship_add(r).await
            })
            .await
            .map(drop)
    }

    /// Every friendship from now on, loaded and ready. One whose payload cannot be read is
    /// skipped with a warning; the stream ends when the bot stops or is dropped.
    pub fn events(&self) -> FriendshipEvents {
        let weak = self.bot.downgrade();
        let ids = self.bot.events().filter_map(|event| match event {
            Event::Friendship { friendship_id } => Some(friendship_id),
            Event::Lagged { missed } => {
                tracing::warn!(
                    missed,
                    "the friendship stream fell behind and missed events"
                );
                None
            }
            _ => None,
        });
        let loaded = ids
            .then(move |id| {
                let bot = weak.upgrade();
                async move {
                    let bot = bot?;
                    Some(bot.friendships().load_or_skip(&id).await)
                }
            })
            .map_while(|bot_alive| bot_alive)
            .filter_map(|friendship| friendship);
        FriendshipEvents {
            inner: Box::pin(loaded),
        }
    }
}

/// The stream of [`Friendships::events`]: ready [`Friendship`]s.
pub struct FriendshipEvents {
    inner: Pin<Box<dyn Stream<Item = Friendship> + Send>>,
}

impl fmt::Debug for FriendshipEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FriendshipEvents")
    }
}

impl Stream for FriendshipEvents {
    type Item = Friendship;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Friendship>> {
        self.inner.as_mut().poll_next(cx)
    }
}
