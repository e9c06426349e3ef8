//! What the service says of a message ([`MessagePayload`], [`MessageType`]), from its wire
//! form, and how it is read: from the bounded message cache, else `MessagePayload`.

use std::sync::Arc;
use std::time::SystemTime;

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::event::timestamp_to_time;
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId, MessageId, RoomId};
use crate::transport::Transport;

/// The message payloads a bot keeps (bounded; dropped on a message `dirty`).
pub(crate) type MessageCache = Cache<MessageId, Arc<MessagePayload>>;

/// The payload of `id`: cached, else `MessagePayload` (and cached unless the message was
/// invalidated meanwhile).
pub(crate) async fn load_cached_message(
    cache: &MessageCache,
    transport: impl FnOnce() -> Result<Transport>,
    id: &MessageId,
) -> Result<Arc<MessagePayload>> {
    cache
        .read_through(id, || async {
            Ok(Arc::new(load_message(&transport()?, id).await?))
        })
        .await
}

/// `MessagePayload` for `id`.
pub(crate) async fn load_message(transport: &Transport, id: &MessageId) -> Result<MessagePayload> {
    let request = pb::MessagePayloadRequest { id: id.to_string() };
    let response = transport
        .unary("MessagePayload", request, |mut c, r| async move {
            c.message_payload(r).await
        })
        .await?;
    MessagePayload::from_wire(response)
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

    /// Its name in kebab-case, as the CLI prints it: `"text"`, `"image"`, `"mini-program"`,
    /// `"red-envelope"`, …; `"unknown"` for 0 and for numbers this client does not know.
    ///
    /// ```
    /// use wechaty_client::MessageType;
    /// assert_eq!(MessageType::MiniProgram.name(), "mini-program");
    /// assert_eq!(MessageType::from_wire(17).name(), "unknown");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Unknown | Self::Other(_) => "unknown",
            Self::Attachment => "attachment",
            Self::Audio => "audio",
            Self::Contact => "contact",
            Self::ChatHistory => "chat-history",
            Self::Emoticon => "emoticon",
            Self::Image => "image",
            Self::Text => "text",
            Self::Location => "location",
            Self::MiniProgram => "mini-program",
            Self::GroupNote => "group-note",
            Self::Transfer => "transfer",
            Self::RedEnvelope => "red-envelope",
            Self::Recalled => "recalled",
            Self::Url => "url",
            Self::Video => "video",
            Self::Post => "post",
            Self::System => "system",
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
        let id = non_empty(response.id)
            .ok_or_else(|| Error::invalid_data("message payload", "the message id is empty"))?;
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

    /// About how many bytes the payload holds (for the buffers' byte budget and the cache's).
    pub(crate) fn weight(&self) -> usize {
        // Each id is an `Arc<str>`: its text and two counters.
        let id = |id: &str| id.len() + 16;
        std::mem::size_of::<Self>()
            + id(self.id.as_str())
            + self.text.as_ref().map_or(0, String::len)
            + self.filename.as_ref().map_or(0, String::len)
            + [&self.talker_id, &self.listener_id]
                .into_iter()
                .flatten()
                .map(|contact| id(contact.as_str()))
                .sum::<usize>()
            + self.room_id.as_ref().map_or(0, |room| id(room.as_str()))
            + self
                .mention_ids
                .iter()
                .map(|contact| id(contact.as_str()) + 8)
                .sum::<usize>()
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
