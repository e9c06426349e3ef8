//! Typed events decoded from the `Event` stream.
//!
//! Each `EventResponse` carries an event type number and a JSON payload (camelCase keys,
//! protocol.md §7.2). Decoding is lenient: unknown keys are ignored, unknown types become
//! [`Event::Unknown`], and a payload that cannot be decoded is reported by [`decode`] as an
//! error for the caller to count and skip; it never ends the stream.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::ids::{ContactId, MessageId, RoomId};

/// One event from the puppet service (or from this client, for the markers).
///
/// ```
/// use wechaty_client::Event;
///
/// fn describe(event: &Event) -> String {
///     match event {
///         Event::Message { message_id } => format!("message {message_id}"),
///         Event::RoomJoin(join) => format!("{} joined {}", join.invitee_ids.len(), join.room_id),
///         Event::Dong { data } => format!("dong {}", data.as_deref().unwrap_or("")),
///         other => other.name().to_string(),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The service is alive (type 1). The first event of every stream.
    Heartbeat {
        /// Free text.
        data: Option<String>,
    },
    /// A message arrived or was sent (type 2); fetch it with its id.
    Message {
        /// The message id.
        message_id: MessageId,
    },
    /// The answer to a `ding` (type 3), echoing its data.
    Dong {
        /// The data sent with `ding`.
        data: Option<String>,
    },
    /// A post (moment) event (type 4).
    Post {
        /// The post id.
        post_id: String,
    },
    /// The puppet reported an error (type 16).
    Error(ServiceError),
    /// A friendship request or confirmation (type 17).
    Friendship {
        /// The friendship id.
        friendship_id: String,
    },
    /// The bot was invited into a room (type 18).
    RoomInvite {
        /// The invitation id.
        room_invitation_id: String,
    },
    /// Members joined a room (type 19). Shared: every subscriber gets the same one.
    RoomJoin(Arc<RoomJoin>),
    /// Members left or were removed from a room (type 20).
    RoomLeave(Arc<RoomLeave>),
    /// A room's topic changed (type 21).
    RoomTopic(Arc<RoomTopic>),
    /// A room's announcement changed (type 32; newer servers only).
    RoomAnnounce(Arc<RoomAnnounce>),
    /// Login QR code progress (type 22).
    Scan {
        /// Where the login stands.
        status: ScanStatus,
        /// The QR code content to show, when there is one.
        qrcode: Option<String>,
        /// Free text.
        data: Option<String>,
    },
    /// The puppet finished loading its data (type 23).
    Ready {
        /// Free text.
        data: Option<String>,
    },
    /// The puppet reset (type 24; the official server never forwards it).
    Reset {
        /// Free text.
        data: Option<String>,
    },
    /// The account logged in (type 25); replayed at the start of every stream.
    Login {
        /// The bot's own contact id.
        contact_id: ContactId,
    },
    /// The account logged out (type 26).
    Logout {
        /// The contact that logged out.
        contact_id: ContactId,
        /// The reason, when given.
        data: Option<String>,
    },
    /// A cached payload is stale (type 27).
    Dirty {
        /// What kind of payload.
        payload_type: PayloadType,
        /// Its id (for room members: the room id).
        payload_id: String,
    },
    /// An event type this client does not know; kept as it came.
    Unknown {
        /// The event type number.
        kind: i32,
        /// The raw JSON payload.
        payload: String,
    },
    /// Marker: this subscriber fell behind and `missed` events were dropped for it; it
    /// continues with the newest events.
    Lagged {
        /// How many events this subscriber missed.
        missed: u64,
    },
    /// Marker: the Event stream broke and was reopened. Events fired on the service in between
    /// were lost (the service does not queue them); caches were refreshed.
    Reconnected,
    /// Marker: the service sent an event this client could not decode (it was skipped and
    /// counted; see `Wechaty::malformed_events`).
    Malformed {
        /// The event type number.
        kind: i32,
        /// What was wrong with it.
        reason: String,
    },
}

impl Event {
    /// The wire name of the event (`"room-join"`, `"message"`, …), or a marker's name
    /// (`"lagged"`, `"reconnected"`, `"malformed"`).
    pub fn name(&self) -> &'static str {
        match self {
            Event::Heartbeat { .. } => "heartbeat",
            Event::Message { .. } => "message",
            Event::Dong { .. } => "dong",
            Event::Post { .. } => "post",
            Event::Error(_) => "error",
            Event::Friendship { .. } => "friendship",
            Event::RoomInvite { .. } => "room-invite",
            Event::RoomJoin(_) => "room-join",
            Event::RoomLeave(_) => "room-leave",
            Event::RoomTopic(_) => "room-topic",
            Event::RoomAnnounce(_) => "room-announce",
            Event::Scan { .. } => "scan",
            Event::Ready { .. } => "ready",
            Event::Reset { .. } => "reset",
            Event::Login { .. } => "login",
            Event::Logout { .. } => "logout",
            Event::Dirty { .. } => "dirty",
            Event::Unknown { .. } => "unknown",
            Event::Lagged { .. } => "lagged",
            Event::Reconnected => "reconnected",
            Event::Malformed { .. } => "malformed",
        }
    }
}

/// Members joined a room.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomJoin {
    /// The room.
    pub room_id: RoomId,
    /// Who joined.
    pub invitee_ids: Vec<ContactId>,
    /// Who invited them, when known.
    pub inviter_id: Option<ContactId>,
    /// When it happened.
    pub date: SystemTime,
}

/// Members left or were removed from a room.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomLeave {
    /// The room.
    pub room_id: RoomId,
    /// Who left.
    pub removee_ids: Vec<ContactId>,
    /// Who removed them (the leaver themself when they quit), when known.
    pub remover_id: Option<ContactId>,
    /// When it happened.
    pub date: SystemTime,
}

/// A room's topic changed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomTopic {
    /// The room.
    pub room_id: RoomId,
    /// The topic now.
    pub new_topic: String,
    /// The topic before.
    pub old_topic: String,
    /// Who changed it, when known.
    pub changer_id: Option<ContactId>,
    /// When it happened.
    pub date: SystemTime,
}

/// A room's announcement changed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomAnnounce {
    /// The room.
    pub room_id: RoomId,
    /// The announcement now.
    pub new_announce: String,
    /// The announcement before, when the service says.
    pub old_announce: Option<String>,
    /// Who changed it, when known.
    pub changer_id: Option<ContactId>,
    /// When it happened.
    pub date: SystemTime,
}

/// An error the puppet reported on the stream (the `gerror` JSON of the official server).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// The gRPC-style code, when given.
    pub code: Option<i64>,
    /// The error's first line.
    pub message: String,
}

/// Where a QR-code login stands (`scan` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScanStatus {
    /// 0
    Unknown,
    /// 1
    Cancel,
    /// 2: waiting for a scan.
    Waiting,
    /// 3: scanned, waiting for confirmation on the phone.
    Scanned,
    /// 4
    Confirmed,
    /// 5
    Timeout,
    /// A number this client does not know.
    Other(i64),
}

impl From<i64> for ScanStatus {
    fn from(value: i64) -> Self {
        match value {
            0 => Self::Unknown,
            1 => Self::Cancel,
            2 => Self::Waiting,
            3 => Self::Scanned,
            4 => Self::Confirmed,
            5 => Self::Timeout,
            other => Self::Other(other),
        }
    }
}

/// The kind of payload a `dirty` event invalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadType {
    /// 0
    Unspecified,
    /// 1
    Message,
    /// 2
    Contact,
    /// 3
    Room,
    /// 4: all members of the room whose id is the payload id.
    RoomMember,
    /// 5
    Friendship,
    /// 6 (event JSON only)
    Post,
    /// A number this client does not know.
    Other(i64),
}

impl From<i64> for PayloadType {
    fn from(value: i64) -> Self {
        match value {
            0 => Self::Unspecified,
            1 => Self::Message,
            2 => Self::Contact,
            3 => Self::Room,
            4 => Self::RoomMember,
            5 => Self::Friendship,
            6 => Self::Post,
            other => Self::Other(other),
        }
    }
}

impl PayloadType {
    /// The wire number.
    pub fn number(self) -> i64 {
        match self {
            Self::Unspecified => 0,
            Self::Message => 1,
            Self::Contact => 2,
            Self::Room => 3,
            Self::RoomMember => 4,
            Self::Friendship => 5,
            Self::Post => 6,
            Self::Other(other) => other,
        }
    }
}

/// Converts a service timestamp to a time: values below 1e11 are seconds, others milliseconds
/// (the rule of the official stack, since puppets report either). `None` for values that are
/// negative, not finite or out of range.
pub fn timestamp_to_time(value: f64) -> Option<SystemTime> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let millis = if value < 1e11 { value * 1000.0 } else { value };
    if millis >= u64::MAX as f64 {
        return None;
    }
    // Whole milliseconds exactly; f64 seconds would lose the last millisecond of today's dates.
    let whole = Duration::from_millis(millis.trunc() as u64);
    let fraction = Duration::from_nanos((millis.fract() * 1e6).round() as u64);
    UNIX_EPOCH.checked_add(whole + fraction)
}

/// Why an event payload was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    pub(crate) kind: i32,
    pub(crate) reason: String,
}

/// Decodes one event. Unknown types are not errors; malformed payloads are.
pub(crate) fn decode(kind: i32, payload: &str) -> Result<Event, DecodeError> {
    let fail = |reason: String| DecodeError { kind, reason };
    let f = || -> Result<Fields<'_>, DecodeError> {
        // Some servers send "" for events without a payload.
        if payload.trim().is_empty() {
            return Ok(Fields::default());
        }
        serde_json::from_str(payload).map_err(|error| fail(format!("invalid JSON: {error}")))
    };
    fn present<T: AsRef<str>>(value: Option<T>, key: &str, kind: i32) -> Result<T, DecodeError> {
        value
            .filter(|v| !v.as_ref().is_empty())
            .ok_or_else(|| DecodeError {
                kind,
                reason: format!("missing `{key}`"),
            })
    }
    let required = |value: Option<String>, key| present(value, key, kind);
    let event = match kind {
        1 => Event::Heartbeat { data: f()?.data },
        2 => Event::Message {
            message_id: MessageId::from(present(f()?.message_id, "messageId", kind)?.as_ref()),
        },
        3 => Event::Dong { data: f()?.data },
        4 => Event::Post {
            post_id: required(f()?.post_id, "postId")?,
        },
        16 => Event::Error(decode_error(f()?)),
        17 => Event::Friendship {
            friendship_id: required(f()?.friendship_id, "friendshipId")?,
        },
        18 => Event::RoomInvite {
            room_invitation_id: required(f()?.room_invitation_id, "roomInvitationId")?,
        },
        19 => {
            let f = f()?;
            Event::RoomJoin(Arc::new(RoomJoin {
                room_id: RoomId::from(present(f.room_id, "roomId", kind)?.as_ref()),
                invitee_ids: ids(f.invitee_id_list),
                inviter_id: some_id(f.inviter_id),
                date: date(f.timestamp),
            }))
        }
        20 => {
            let f = f()?;
            Event::RoomLeave(Arc::new(RoomLeave {
                room_id: RoomId::from(present(f.room_id, "roomId", kind)?.as_ref()),
                removee_ids: ids(f.removee_id_list),
                remover_id: some_id(f.remover_id),
                date: date(f.timestamp),
            }))
        }
        21 => {
            let f = f()?;
            Event::RoomTopic(Arc::new(RoomTopic {
                room_id: RoomId::from(present(f.room_id, "roomId", kind)?.as_ref()),
                new_topic: f.new_topic.map(Text::into_string).unwrap_or_default(),
                old_topic: f.old_topic.map(Text::into_string).unwrap_or_default(),
                changer_id: some_id(f.changer_id),
                date: date(f.timestamp),
            }))
        }
        32 => {
            let f = f()?;
            Event::RoomAnnounce(Arc::new(RoomAnnounce {
                room_id: RoomId::from(present(f.room_id, "roomId", kind)?.as_ref()),
                new_announce: f.new_announce.map(Text::into_string).unwrap_or_default(),
                old_announce: f.old_announce.map(Text::into_string),
                changer_id: some_id(f.changer_id),
                date: date(f.timestamp),
            }))
        }
        22 => {
            let f = f()?;
            Event::Scan {
                status: ScanStatus::from(f.status.unwrap_or(0)),
                qrcode: f.qrcode.filter(|v| !v.is_empty()),
                data: f.data,
            }
        }
        23 => Event::Ready { data: f()?.data },
        24 => Event::Reset { data: f()?.data },
        25 => Event::Login {
            contact_id: ContactId::from(required(f()?.contact_id, "contactId")?),
        },
        26 => {
            let f = f()?;
            Event::Logout {
                contact_id: ContactId::from(required(f.contact_id, "contactId")?),
                data: f.data,
            }
        }
        27 => {
            let f = f()?;
            Event::Dirty {
                payload_type: PayloadType::from(
                    f.payload_type
                        .ok_or_else(|| fail("missing `payloadType`".into()))?,
                ),
                payload_id: required(f.payload_id, "payloadId")?,
            }
        }
        other => Event::Unknown {
            kind: other,
            payload: payload.to_owned(),
        },
    };
    Ok(event)
}

/// Every key any event payload may carry. Unknown keys are ignored. The keys of busy events
/// (messages, room events) borrow from the payload: one allocation per id, not two.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Fields<'a> {
    data: Option<String>,
    #[serde(borrow)]
    message_id: Option<Text<'a>>,
    post_id: Option<String>,
    gerror: Option<String>,
    friendship_id: Option<String>,
    room_invitation_id: Option<String>,
    #[serde(borrow)]
    room_id: Option<Text<'a>>,
    #[serde(borrow)]
    invitee_id_list: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    inviter_id: Option<Text<'a>>,
    #[serde(borrow)]
    removee_id_list: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    remover_id: Option<Text<'a>>,
    #[serde(borrow)]
    changer_id: Option<Text<'a>>,
    #[serde(borrow)]
    new_topic: Option<Text<'a>>,
    #[serde(borrow)]
    old_topic: Option<Text<'a>>,
    #[serde(borrow)]
    new_announce: Option<Text<'a>>,
    #[serde(borrow)]
    old_announce: Option<Text<'a>>,
    timestamp: Option<f64>,
    status: Option<i64>,
    qrcode: Option<String>,
    contact_id: Option<String>,
    payload_type: Option<i64>,
    payload_id: Option<String>,
}

/// A JSON string: borrowed from the payload when it has no escapes (ids never do), else
/// owned. (serde's own `Cow` borrows only as a bare field, not inside `Option` or `Vec`.)
struct Text<'a>(Cow<'a, str>);

impl Text<'_> {
    fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(text))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(text.to_owned()))
            }
            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(text))
            }
        }
        deserializer.deserialize_str(Visitor).map(Text)
    }
}

fn ids(list: Option<Vec<Text<'_>>>) -> Vec<ContactId> {
    list.unwrap_or_default()
        .iter()
        .map(AsRef::as_ref)
        .filter(|id| !id.is_empty())
        .map(ContactId::from)
        .collect()
}

fn some_id(id: Option<Text<'_>>) -> Option<ContactId> {
    id.as_ref()
        .map(AsRef::as_ref)
        .filter(|id| !id.is_empty())
        .map(ContactId::from)
}

fn date(timestamp: Option<f64>) -> SystemTime {
    // A missing or nonsensical timestamp is not worth dropping the event for.
    timestamp
        .and_then(timestamp_to_time)
        .unwrap_or_else(SystemTime::now)
}

/// `gerror` is itself JSON text (`{code, details, message, name, stack}`); older servers sent
/// `{data}` instead.
fn decode_error(fields: Fields) -> ServiceError {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct GError {
        code: Option<i64>,
        message: Option<String>,
        details: Option<String>,
    }
    let first_line = |text: &str| text.lines().next().unwrap_or("").trim().to_owned();
    if let Some(gerror) = fields.gerror {
        if let Ok(parsed) = serde_json::from_str::<GError>(&gerror) {
            let text = parsed.message.or(parsed.details).unwrap_or_default();
            return ServiceError {
                code: parsed.code,
                message: first_line(&text),
            };
        }
        return ServiceError {
            code: None,
            message: first_line(&gerror),
        };
    }
    ServiceError {
        code: None,
        message: first_line(fields.data.as_deref().unwrap_or("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(value)
    }

    #[test]
    fn escaped_strings_decode_as_well_as_plain_ones() {
        let Event::RoomTopic(topic) = decode(
            21,
            r#"{"roomId":"r\u0040chatroom","newTopic":"say \"hi\"","oldTopic":"","changerId":"a","timestamp":1}"#,
        )
        .unwrap() else {
            panic!("not a topic event")
        };
        assert_eq!(topic.room_id.as_str(), "r@chatroom");
        assert_eq!(topic.new_topic, r#"say "hi""#);
        assert_eq!(topic.changer_id.as_ref().map(ContactId::as_str), Some("a"));
        let error = decode(19, r#"{"roomId":7}"#).unwrap_err();
        assert!(error.reason.contains("invalid JSON"), "{}", error.reason);
    }

    #[test]
    fn decodes_the_payloads_the_official_server_sends() {
        assert_eq!(
            decode(
                1,
                r#"{"data":"Wechaty Puppet gRPC stream connect successfully"}"#
            )
            .unwrap(),
            Event::Heartbeat {
                data: Some("Wechaty Puppet gRPC stream connect successfully".into())
            }
        );
        assert_eq!(
            decode(19, r#"{"inviteeIdList":["a","b"],"inviterId":"c","roomId":"r@chatroom","timestamp":1795626223867}"#).unwrap(),
            Event::RoomJoin(Arc::new(RoomJoin {
                room_id: "r@chatroom".into(),
                invitee_ids: vec!["a".into(), "b".into()],
                inviter_id: Some("c".into()),
                date: ms(1795626223867),
            }))
        );
        assert_eq!(
            decode(27, r#"{"payloadId":"r@chatroom","payloadType":4}"#).unwrap(),
            Event::Dirty {
                payload_type: PayloadType::RoomMember,
                payload_id: "r@chatroom".into()
            }
        );
        let error = r#"{"gerror":"{\"code\":2,\"details\":\"Error: boom\\n    at x\",\"message\":\"boom\",\"name\":\"Error\",\"stack\":\"s\"}"}"#;
        assert_eq!(
            decode(16, error).unwrap(),
            Event::Error(ServiceError {
                code: Some(2),
                message: "boom".into()
            })
        );
    }

    #[test]
    fn seconds_and_milliseconds() {
        assert_eq!(
            timestamp_to_time(1_795_626_223.0),
            Some(ms(1_795_626_223_000))
        );
        assert_eq!(
            timestamp_to_time(1_795_626_223_867.0),
            Some(ms(1_795_626_223_867))
        );
        assert_eq!(timestamp_to_time(-1.0), None);
        assert_eq!(timestamp_to_time(f64::NAN), None);
        assert_eq!(timestamp_to_time(f64::MAX), None);
    }

    #[test]
    fn lenient_but_not_blind() {
        // Extra keys are fine.
        assert!(decode(1, r#"{"data":"x","timeout":5}"#).is_ok());
        // Unknown types are kept.
        assert_eq!(
            decode(99, "{}").unwrap(),
            Event::Unknown {
                kind: 99,
                payload: "{}".into()
            }
        );
        // Broken JSON and missing ids are errors, not panics.
        assert!(decode(2, "{not json").is_err());
        assert!(decode(2, "{}").is_err());
        assert!(decode(2, r#"{"messageId":""}"#).is_err());
        assert!(decode(19, r#"{"roomId":5}"#).is_err());
    }
}
