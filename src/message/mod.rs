//! [`Message`]: a handle to one message, and what it carries (files, cards, links). Its data
//! is [`MessagePayload`] (`payload.rs`); looking back at the messages seen is [`Messages`]
//! (`messages.rs`); sending, replying and forwarding are in `say.rs`.

mod messages;
pub(crate) mod payload;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tonic::Code;

use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::event::age_of;
use crate::file_box::FileBox;
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId, MessageId, RoomId};
use crate::location::Location;
use crate::mini_program::MiniProgram;
use crate::url_link::UrlLink;
use crate::wechaty::Wechaty;

pub use messages::{MessageQuery, MessageQueryFilter, Messages};
pub use payload::{ImageType, MessagePayload, MessageType};

/// A message. Creating the handle does no I/O; the first accessor reads the payload (once:
/// it is cached, bounded, and dropped on a message `dirty`).
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let message = bot.message("m-1");
/// if message.text().await? == "ding" && !message.is_self().await? {
///     let talker = message.talker().await?;
///     match message.room().await? {
///         Some(room) => println!("{} said ding in {}", talker.name().await?, room.topic().await?),
///         None => println!("{} said ding to the bot", talker.name().await?),
///     }
///     message.reply("dong").await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Message {
    id: MessageId,
    bot: Wechaty,
    /// A payload fetched already (room events look it up to route the message).
    known: Option<Arc<MessagePayload>>,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Message").field(&self.id).finish()
    }
}

impl Wechaty {
    /// A handle to a message. No I/O until you use it.
    pub fn message(&self, id: impl Into<MessageId>) -> Message {
        Message {
            id: id.into(),
            bot: self.clone(),
            known: None,
        }
    }
}

impl Message {
    /// A message whose payload was fetched already (room events look it up to route it).
    pub(crate) fn with_payload(payload: Arc<MessagePayload>, bot: Wechaty) -> Self {
        Self {
            id: payload.id.clone(),
            bot,
            known: Some(payload),
        }
    }

    /// The message id.
    pub fn id(&self) -> &MessageId {
        &self.id
    }

    /// The bot this handle belongs to.
    pub fn bot(&self) -> &Wechaty {
        &self.bot
    }

    /// The message's payload: from the message cache (or the event that brought it), else
    /// the `MessagePayload` RPC. The accessors below read it once, for all of them.
    pub async fn payload(&self) -> Result<MessagePayload> {
        Ok(MessagePayload::clone(&*self.loaded().await?))
    }

    pub(crate) async fn loaded(&self) -> Result<Arc<MessagePayload>> {
        if let Some(known) = &self.known {
            return Ok(Arc::clone(known));
        }
        payload::load_cached_message(
            &self.bot.caches().messages,
            || self.bot.transport(),
            &self.id,
        )
        .await
    }

    /// Who sent it. A payload without a talker is refused as invalid data.
    pub async fn talker(&self) -> Result<Contact> {
        let payload = self.loaded().await?;
        let talker = payload.talker_id.clone().ok_or_else(|| {
            Error::invalid_data(
                "message payload",
                format!("message {} has no talker", self.id),
            )
        })?;
        Ok(self.bot.contact(talker))
    }

    /// Who received it, for a direct message (`None` in a room).
    pub async fn listener(&self) -> Result<Option<Contact>> {
        let payload = self.loaded().await?;
        Ok(payload.listener_id.clone().map(|id| self.bot.contact(id)))
    }

    /// The text (`""` when there is none).
    pub async fn text(&self) -> Result<String> {
        Ok(self.loaded().await?.text.clone().unwrap_or_default())
    }

    /// What kind of message it is.
    pub async fn kind(&self) -> Result<MessageType> {
        Ok(self.loaded().await?.kind)
    }

    /// When it was sent, when the service says.
    pub async fn date(&self) -> Result<Option<SystemTime>> {
        Ok(self.loaded().await?.date)
    }

    /// How long ago it was sent (zero when unknown or in the future).
    pub async fn age(&self) -> Result<Duration> {
        Ok(age_of(self.date().await?))
    }

    /// Whether the logged-in account sent it.
    pub async fn is_self(&self) -> Result<bool> {
        let me = self.bot.current_user_id();
        Ok(me.is_some() && self.loaded().await?.talker_id == me)
    }

    /// The contacts @-mentioned in it, in order.
    pub async fn mention_list(&self) -> Result<Vec<Contact>> {
        let payload = self.loaded().await?;
        Ok(payload
            .mention_ids
            .iter()
            .map(|id| self.bot.contact(id.clone()))
            .collect())
    }

    /// The conversation this message belongs to: its room, else the other side of the direct
    /// chat (the talker, or the listener for the bot's own messages).
    pub async fn conversation_id(&self) -> Result<String> {
        let payload = self.loaded().await?;
        let me = self.bot.current_user_id();
        let other = match (&payload.talker_id, &payload.listener_id) {
            (Some(talker), Some(listener)) if Some(talker) == me.as_ref() => Some(listener),
            (Some(talker), _) => Some(talker),
            (None, listener) => listener.as_ref(),
        };
        payload
            .room_id
            .as_ref()
            .map(RoomId::to_string)
            .or_else(|| other.map(ContactId::to_string))
            .ok_or_else(|| {
                Error::invalid_data(
                    "message payload",
                    format!("message {} has neither a room nor a talker", self.id),
                )
            })
    }

    /// Whether the bot is @-mentioned.
    pub async fn mention_self(&self) -> Result<bool> {
        let Some(me) = self.bot.current_user_id() else {
            return Ok(false);
        };
        Ok(self.loaded().await?.mention_ids.contains(&me))
    }

    /// Takes the message back (`MessageRecall`), as WeChat allows for the bot's own recent
    /// messages. Returns whether the service says it was recalled (`false`: too old, or not
    /// the bot's).
    pub async fn recall(&self) -> Result<bool> {
        let request = pb::MessageRecallRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("MessageRecall", request, |mut c, r| async move {
                c.message_recall(r).await
            })
            .await?;
        // A recalled message reads differently from now on.
        self.bot.caches().messages.forget(&self.id);
        Ok(response.success)
    }

    /// The message a recall notice ([`MessageType::Recalled`]) takes back: its text is the
    /// original's id, as the official framework reads it. `None` when the service no longer
    /// knows the original. Fails on any other kind of message.
    pub async fn to_recalled(&self) -> Result<Option<Message>> {
        let payload = self.loaded().await?;
        if payload.kind != MessageType::Recalled {
            return Err(Error::InvalidArgument(format!(
                "message {} is a {:?} message, not a recall notice: check `kind()` first",
                self.id, payload.kind
            )));
        }
        let original = payload
            .text
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                Error::invalid_data(
                    "recall notice",
                    format!("message {} names no recalled message", self.id),
                )
            })?;
        let original = self.bot.message(original);
        match original.loaded().await {
            Ok(_) => Ok(Some(original)),
            // The service's "no payload" answers (unknown, not found): it is gone.
            Err(error) if matches!(error.code(), Some(Code::Unknown | Code::NotFound)) => {
                tracing::debug!(id = %original.id, %error, "the recalled message is gone");
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// The place of a location message (`MessageLocation`).
    pub async fn to_location(&self) -> Result<Location> {
        let request = pb::MessageLocationRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("MessageLocation", request, |mut c, r| async move {
                c.message_location(r).await
            })
            .await?;
        Location::from_wire(response.location, self.id.as_str())
    }

    /// The file of a file, image, video, audio or emoticon message (`MessageFile`; images
    /// fall back to `MessageImage` when the service has no file for them).
    pub async fn to_file_box(&self) -> Result<FileBox> {
        let request = pb::MessageFileRequest {
            id: self.id.to_string(),
        };
        let transport = self.bot.transport()?;
        let file = transport
            .unary("MessageFile", request, |mut c, r| async move {
                c.message_file(r).await
            })
            .await;
        match file {
            Ok(response) if !response.file_box.is_empty() => {
                FileBox::from_service_json(&response.file_box)
            }
            other => {
                if self.loaded().await?.kind == MessageType::Image {
                    return self.to_image(ImageType::Hd).await;
                }
                let response = other?;
                FileBox::from_service_json(&response.file_box)
            }
        }
    }

    /// The image of an image message, in the size asked (`MessageImage`).
    pub async fn to_image(&self, size: ImageType) -> Result<FileBox> {
        let request = pb::MessageImageRequest {
            id: self.id.to_string(),
            r#type: size as i32,
        };
        let response = self
            .bot
            .transport()?
            .unary("MessageImage", request, |mut c, r| async move {
                c.message_image(r).await
            })
            .await?;
        FileBox::from_service_json(&response.file_box)
    }

    /// The contact of a contact-card message (`MessageContact`).
    pub async fn to_contact(&self) -> Result<Contact> {
        let request = pb::MessageContactRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("MessageContact", request, |mut c, r| async move {
                c.message_contact(r).await
            })
            .await?;
        let id = non_empty(response.id).ok_or_else(|| {
            Error::invalid_data(
                "contact card",
                format!("message {} carries no contact", self.id),
            )
        })?;
        Ok(self.bot.contact(id))
    }

    /// The link of a URL message (`MessageUrl`).
    pub async fn to_url_link(&self) -> Result<UrlLink> {
        let request = pb::MessageUrlRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("MessageUrl", request, |mut c, r| async move {
                c.message_url(r).await
            })
            .await?;
        UrlLink::from_response(response)
    }

    /// The card of a mini program message (`MessageMiniProgram`).
    pub async fn to_mini_program(&self) -> Result<MiniProgram> {
        let request = pb::MessageMiniProgramRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("MessageMiniProgram", request, |mut c, r| async move {
                c.message_mini_program(r).await
            })
            .await?;
        MiniProgram::from_response(response).map_err(|error| {
            Error::invalid_data("mini program", format!("message {}: {error}", self.id))
        })
    }
}
