//! [`Contact::events`]: one contact's direct chat (its messages to the bot and the bot's to it)
//! and its friendship events, as a stream. Apart from `contact/` because it is built on
//! messages and friendships, which themselves point at contacts.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::StreamExt as _;
use tokio_stream::Stream;

use crate::contact::Contact;
use crate::event::Event;
use crate::friendship::Friendship;
use crate::ids::ContactId;
use crate::message::Message;
use crate::wechaty::WeakWechaty;

/// Payload lookups in flight at once for one contact's stream (in order all the same).
const LOOKUPS: usize = 16;

/// An event of one contact.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ContactEvent {
    /// A direct message from the contact, or from the bot to it (its payload is loaded).
    Message(Message),
    /// A friend request from the contact, or its confirmation (payload loaded).
    Friendship(Friendship),
    /// Marker: this subscriber fell behind and missed `missed` events of the bot.
    Lagged {
        /// How many it missed.
        missed: u64,
    },
    /// Marker: the Event stream was reopened; events in between were lost.
    Reconnected,
}

/// The stream of [`Contact::events`].
pub struct ContactEvents {
    inner: Pin<Box<dyn Stream<Item = ContactEvent> + Send>>,
    contact: ContactId,
}

impl fmt::Debug for ContactEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ContactEvents").field(&self.contact).finish()
    }
}

impl Stream for ContactEvents {
    type Item = ContactEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ContactEvent>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Contact {
    /// This contact's events from now on: direct messages between it and the bot (not its
    /// messages in rooms) and its friendship events. Each message's payload is read (from
    /// the message cache when it is there) to tell whom it is between. The stream ends when
    /// the bot stops for good.
    ///
    /// ```no_run
    /// use tokio_stream::StreamExt;
    /// use wechaty_client::ContactEvent;
    /// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
    /// let mut ann = bot.contact("ann").events();
    /// while let Some(event) = ann.next().await {
    ///     if let ContactEvent::Message(message) = event {
    ///         println!("ann's chat: {}", message.text().await?);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> ContactEvents {
        let weak = self.bot().downgrade();
        let id = self.id().clone();
        let wanted = id.clone();
        let events = self
            .bot()
            .events()
            .map(move |event| of_contact(weak.clone(), wanted.clone(), event))
            .buffered(LOOKUPS)
            .take_while(|event| std::future::ready(event.is_some()))
            .filter_map(|event| std::future::ready(event.flatten()));
        ContactEvents {
            inner: Box::pin(events),
            contact: id,
        }
    }
}

/// What `event` is for `contact`: `Some(None)` when it is not for it, `None` once the bot is
/// gone (the stream ends).
async fn of_contact(
    bot: WeakWechaty,
    contact: ContactId,
    event: Event,
) -> Option<Option<ContactEvent>> {
    let bot = bot.upgrade()?;
    Some(match event {
        Event::Message { message_id } => {
            let message = bot.message(message_id);
            match message.loaded().await {
                Ok(payload) => {
                    let direct = payload.room_id.is_none()
                        && (payload.talker_id.as_ref() == Some(&contact)
                            || payload.listener_id.as_ref() == Some(&contact));
                    direct.then(|| ContactEvent::Message(Message::with_payload(payload, bot)))
                }
                Err(error) => {
                    tracing::warn!(id = %message.id(), %error, "cannot tell whom a message is between");
                    None
                }
            }
        }
        Event::Friendship { friendship_id } => bot
            .friendships()
            .load_or_skip(&friendship_id)
            .await
            .filter(|friendship| friendship.contact().id() == &contact)
            .map(ContactEvent::Friendship),
        Event::Lagged { missed } => Some(ContactEvent::Lagged { missed }),
        Event::Reconnected => Some(ContactEvent::Reconnected),
        _ => None,
    })
}
