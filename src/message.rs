//! [`Message`]: a handle to one message, and its [`MessagePayload`].

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::event::timestamp_to_time;
use crate::file_box::FileBox;
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId, MessageId, RoomId};
use crate::mini_program::MiniProgram;
use crate::say::{Conversation, Sayable};
use crate::transport::Transport;
use crate::url_link::UrlLink;
use crate::wechaty::Wechaty;

/// A message. Creating the handle does no I/O; its methods call the service.
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let message = bot.message("m-1");
/// let payload = message.payload().await?;
/// if payload.text.as_deref() == Some("ding") {
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

impl Message {
    pub(crate) fn new(id: MessageId, bot: Wechaty) -> Self {
        Self {
            id,
            bot,
            known: None,
        }
    }

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

    /// The message's payload (`MessagePayload` RPC, unless it came with the event).
    pub async fn payload(&self) -> Result<MessagePayload> {
        if let Some(known) = &self.known {
            return Ok(MessagePayload::clone(known));
        }
        fetch_payload(&self.bot.transport()?, &self.id).await
    }

    /// The conversation this message belongs to: its room, else the other side of the direct
    /// chat (the talker, or the listener for the bot's own messages).
    pub async fn conversation_id(&self) -> Result<String> {
        let payload = self.payload().await?;
        let me = self.bot.current_user();
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
            .ok_or_else(|| Error::InvalidData {
                what: "message payload",
                message: format!("message {} has neither a room nor a talker", self.id),
            })
    }

    /// Sends `something` (text, a card, a file, a link…) into this message's conversation.
    /// Returns the sent message when the service reports its id.
    pub async fn say(&self, something: impl Into<Sayable>) -> Result<Option<Message>> {
        let conversation = self.conversation_id().await?;
        self.bot.send(&conversation, something.into()).await
    }

    /// The same as [`say`](Self::say): answers in the same conversation.
    pub async fn reply(&self, something: impl Into<Sayable>) -> Result<Option<Message>> {
        self.say(something).await
    }

    /// Forwards this message to a room or contact (`MessageForward`).
    #[allow(deprecated)] // old servers answer in the wrapper
    pub async fn forward(&self, to: &impl Conversation) -> Result<Option<Message>> {
        let request = pb::MessageForwardRequest {
            message_id: self.id.to_string(),
            conversation_id: to.conversation_id().to_owned(),
        };
        let response = self
            .bot
            .transport()?
            .unary("MessageForward", request, |mut c, r| async move {
                c.message_forward(r).await
            })
            .await?;
        Ok(
            sent_id(response.id, response.id_string_value_deprecated)
                .map(|id| self.bot.message(id)),
        )
    }

    /// Whether the bot is @-mentioned.
    pub async fn mention_self(&self) -> Result<bool> {
        let Some(me) = self.bot.current_user() else {
            return Ok(false);
        };
        Ok(self.payload().await?.mention_ids.contains(&me))
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
            Ok(response) if !response.file_box.is_empty() => FileBox::from_json(&response.file_box),
            other => {
                if self.payload().await?.kind == MessageType::Image {
                    return self.to_image(ImageType::Hd).await;
                }
                let response = other?;
                FileBox::from_json(&response.file_box)
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
        FileBox::from_json(&response.file_box)
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
        let id = non_empty(response.id).ok_or_else(|| Error::InvalidData {
            what: "contact card",
            message: format!("message {} carries no contact", self.id),
        })?;
        Ok(self.bot.contact(id))
    }

    /// The link of a URL message (`MessageUrl`).
    #[allow(deprecated)] // old servers answer with JSON in the deprecated field
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
        match response.url_link {
            Some(link) if !link.url.is_empty() => Ok(UrlLink::from_wire(link)),
            _ => serde_json::from_str(&response.url_link_deprecated).map_err(|error| {
                Error::InvalidData {
                    what: "URL link",
                    message: format!("message {}: {error}", self.id),
                }
            }),
        }
    }

    /// The card of a mini program message (`MessageMiniProgram`).
    #[allow(deprecated)] // old servers answer with JSON in the deprecated field
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
        match response.mini_program {
            Some(card) if card != pb::MiniProgramPayload::default() => {
                Ok(MiniProgram::from_wire(card))
            }
            _ => MiniProgram::from_json(&response.mini_program_deprecated).map_err(|error| {
                Error::InvalidData {
                    what: "mini program",
                    message: format!("message {}: {error}", self.id),
                }
            }),
        }
    }
}

/// Sizes of an image message's picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageType {
    /// A small preview.
    Thumbnail = 1,
    /// The picture as shown.
    Hd = 2,
    /// The original file.
    Artwork = 3,
}

/// New servers put a sent message's id in `id`, old ones only in the deprecated wrapper.
fn sent_id(id: String, wrapper: Option<String>) -> Option<String> {
    non_empty(id).or_else(|| wrapper.and_then(non_empty))
}

/// `MessagePayload` for `id`.
pub(crate) async fn fetch_payload(transport: &Transport, id: &MessageId) -> Result<MessagePayload> {
    let request = pb::MessagePayloadRequest { id: id.to_string() };
    let response = transport
        .unary("MessagePayload", request, |mut c, r| async move {
            c.message_payload(r).await
        })
        .await?;
    MessagePayload::from_wire(response)
}

impl Wechaty {
    /// Sends `something` to a room or contact id, each kind through its RPC.
    #[allow(deprecated)] // the JSON fields too, for servers before the typed ones
    pub(crate) async fn send(
        &self,
        conversation_id: &str,
        something: Sayable,
    ) -> Result<Option<Message>> {
        let conversation_id = conversation_id.to_owned();
        let transport = self.transport()?;
        let id = match something {
            Sayable::Text(text) => return self.send_text(conversation_id, text, Vec::new()).await,
            Sayable::Contact(contact) => {
                let request = pb::MessageSendContactRequest {
                    conversation_id,
                    contact_id: contact.to_string(),
                };
                let response = transport
                    .unary("MessageSendContact", request, |mut c, r| async move {
                        c.message_send_contact(r).await
                    })
                    .await?;
                sent_id(response.id, response.id_string_value_deprecated)
            }
            Sayable::File(file) => {
                let ready = file.prepare(self, self.inline_file_limit()).await?;
                let request = pb::MessageSendFileRequest {
                    conversation_id,
                    file_box: ready.to_json()?,
                };
                let response = transport
                    .unary("MessageSendFile", request, |mut c, r| async move {
                        c.message_send_file(r).await
                    })
                    .await?;
                sent_id(response.id, response.id_string_value_deprecated)
            }
            Sayable::UrlLink(link) => {
                let request = pb::MessageSendUrlRequest {
                    conversation_id,
                    url_link_deprecated: link.to_legacy_json(),
                    url_link: Some(link.to_wire()),
                };
                let response = transport
                    .unary("MessageSendUrl", request, |mut c, r| async move {
                        c.message_send_url(r).await
                    })
                    .await?;
                sent_id(response.id, response.id_string_value_deprecated)
            }
            Sayable::MiniProgram(card) => {
                let request = pb::MessageSendMiniProgramRequest {
                    conversation_id,
                    mini_program_deprecated: card.to_json(),
                    mini_program: Some(card.to_wire()),
                };
                let response = transport
                    .unary("MessageSendMiniProgram", request, |mut c, r| async move {
                        c.message_send_mini_program(r).await
                    })
                    .await?;
                sent_id(response.id, response.id_string_value_deprecated)
            }
        };
        Ok(id.map(|id| self.message(id)))
    }

    /// `MessageSendText` into a room or direct chat; `mentions` go in `mentional_ids`.
    #[allow(deprecated)] // old servers answer in the wrapper
    pub(crate) async fn send_text(
        &self,
        conversation_id: String,
        text: String,
        mentions: Vec<String>,
    ) -> Result<Option<Message>> {
        let request = pb::MessageSendTextRequest {
            conversation_id,
            text,
            mentional_ids: mentions,
        };
        let response = self
            .transport()?
            .unary("MessageSendText", request, |mut c, r| async move {
                c.message_send_text(r).await
            })
            .await?;
        Ok(sent_id(response.id, response.id_string_value_deprecated).map(|id| self.message(id)))
    }
}

/// What a message is, in the wechaty-puppet numbering the service uses on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// 0
    Unknown,
    /// 1: a file.
    Attachment,
    /// 2
    Audio,
    /// 3: a contact card.
    Contact,
    /// 4
    ChatHistory,
    /// 5
    Emoticon,
    /// 6
    Image,
    /// 7
    Text,
    /// 8
    Location,
    /// 9
    MiniProgram,
    /// 10
    GroupNote,
    /// 11
    Transfer,
    /// 12
    RedEnvelope,
    /// 13
    Recalled,
    /// 14: a URL link card.
    Url,
    /// 15
    Video,
    /// 16
    Post,
    /// 18
    System,
    /// A number this client does not know, kept as it came.
    Other(i32),
}

impl MessageType {
    /// Maps a wire number (wechaty-puppet numbering: Text = 7).
    pub fn from_wire(value: i32) -> Self {
        match value {
            0 => Self::Unknown,
            1 => Self::Attachment,
            2 => Self::Audio,
            3 => Self::Contact,
            4 => Self::ChatHistory,
            5 => Self::Emoticon,
            6 => Self::Image,
            7 => Self::Text,
            8 => Self::Location,
            9 => Self::MiniProgram,
            10 => Self::GroupNote,
            11 => Self::Transfer,
            12 => Self::RedEnvelope,
            13 => Self::Recalled,
            14 => Self::Url,
            15 => Self::Video,
            16 => Self::Post,
            18 => Self::System,
            other => Self::Other(other),
        }
    }

    /// The wire number.
    pub fn to_wire(self) -> i32 {
        match self {
            Self::Unknown => 0,
            Self::Attachment => 1,
            Self::Audio => 2,
            Self::Contact => 3,
            Self::ChatHistory => 4,
            Self::Emoticon => 5,
            Self::Image => 6,
            Self::Text => 7,
            Self::Location => 8,
            Self::MiniProgram => 9,
            Self::GroupNote => 10,
            Self::Transfer => 11,
            Self::RedEnvelope => 12,
            Self::Recalled => 13,
            Self::Url => 14,
            Self::Video => 15,
            Self::Post => 16,
            Self::System => 18,
            Self::Other(other) => other,
        }
    }
}

/// The data of a message. `None` where the service sent `""`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MessagePayload {
    /// The message id.
    pub id: MessageId,
    /// What kind of message.
    pub kind: MessageType,
    /// The text (for text messages; a description for others).
    pub text: Option<String>,
    /// The file name, for file-like messages.
    pub filename: Option<String>,
    /// Who sent it.
    pub talker_id: Option<ContactId>,
    /// Who received it, for direct messages.
    pub listener_id: Option<ContactId>,
    /// The room, for room messages.
    pub room_id: Option<RoomId>,
    /// Contacts @-mentioned in a room message.
    pub mention_ids: Vec<ContactId>,
    /// When it was sent, when the service says.
    pub date: Option<SystemTime>,
}

impl MessagePayload {
    pub(crate) fn from_wire(response: pb::MessagePayloadResponse) -> Result<Self> {
        let id = non_empty(response.id).ok_or_else(|| Error::InvalidData {
            what: "message payload",
            message: "the message id is empty".into(),
        })?;
        // `receive_time` first, then the deprecated number; either may be seconds or millis.
        #[allow(deprecated)]
        let raw = match response.receive_time {
            Some(time) => time.seconds as f64 * 1000.0 + f64::from(time.nanos) / 1e6,
            None => response.timestamp_deprecated as f64,
        };
        Ok(Self {
            id: MessageId::from(id),
            kind: MessageType::from_wire(response.r#type),
            text: non_empty(response.text),
            filename: non_empty(response.filename),
            talker_id: non_empty(response.talker_id).map(ContactId::from),
            listener_id: non_empty(response.listener_id).map(ContactId::from),
            room_id: non_empty(response.room_id).map(RoomId::from),
            mention_ids: response
                .mention_ids
                .into_iter()
                .filter(|id| !id.is_empty())
                .map(ContactId::from)
                .collect(),
            date: (raw > 0.0).then(|| timestamp_to_time(raw)).flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wire_number_round_trips() {
        for value in -1..=20 {
            assert_eq!(MessageType::from_wire(value).to_wire(), value);
        }
        assert_eq!(MessageType::from_wire(7), MessageType::Text);
        assert_eq!(MessageType::from_wire(15), MessageType::Video);
        assert_eq!(MessageType::from_wire(17), MessageType::Other(17));
    }

    #[test]
    #[allow(deprecated)]
    fn payload_from_the_official_servers_shape() {
        let response = pb::MessagePayloadResponse {
            id: "msg-1".into(),
            text: "hello".into(),
            timestamp_deprecated: 1_795_626_434_892,
            r#type: 7,
            talker_id: "self".into(),
            room_id: "r1@chatroom".into(),
            mention_ids: vec!["ann".into()],
            receive_time: Some(prost_types::Timestamp {
                seconds: 1_795_626_434,
                nanos: 892_000_000,
            }),
            ..Default::default()
        };
        let payload = MessagePayload::from_wire(response).unwrap();
        assert_eq!(payload.kind, MessageType::Text);
        assert_eq!(payload.listener_id, None);
        assert_eq!(payload.room_id, Some(RoomId::from("r1@chatroom")));
        let millis = payload
            .date
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert_eq!(millis, 1_795_626_434_892);
    }
}
