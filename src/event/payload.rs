//! The JSON payloads of the `Event` stream, decoded into [`Event`]s.
//!
//! One small struct per event type: a single struct with every key of every type made serde
//! compare each key against all of them and move hundreds of bytes per event (a fifth more
//! instructions; decoding is most of the dispatch task's work under load). Ids of the busy
//! types (messages, room events) are borrowed from the payload and become typed ids directly:
//! one allocation per id.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::{
    timestamp_to_time, Event, PayloadType, RoomAnnounce, RoomJoin, RoomLeave, RoomTopic,
    ScanStatus, ServiceError,
};
use crate::ids::{ContactId, MessageId, RoomId};

/// Why an event payload was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    pub(crate) kind: i32,
    pub(crate) reason: String,
}

/// Decodes one event. Unknown types are not errors; malformed payloads are.
pub(crate) fn decode(kind: i32, json: &str) -> Result<Event, DecodeError> {
    let payload = Payload { kind, json };
    let event = match kind {
        1 => Event::Heartbeat {
            data: payload.parse::<Data>()?.data,
        },
        2 => Event::Message {
            message_id: MessageId::new(
                payload.present(payload.parse::<Message>()?.message_id, "messageId")?,
            ),
        },
        3 => Event::Dong {
            data: payload.parse::<Data>()?.data,
        },
        4 => Event::Post {
            post_id: payload.present_owned(payload.parse::<Post>()?.post_id, "postId")?,
        },
        16 => Event::Error(payload.parse::<Failure>()?.into_error()),
        17 => Event::Friendship {
            friendship_id: payload
                .present_owned(payload.parse::<Friendship>()?.friendship_id, "friendshipId")?,
        },
        18 => Event::RoomInvite {
            room_invitation_id: payload.present_owned(
                payload.parse::<RoomInvite>()?.room_invitation_id,
                "roomInvitationId",
            )?,
        },
        19 => {
            let join = payload.parse::<Join>()?;
            Event::RoomJoin(Arc::new(RoomJoin {
                room_id: payload.room(join.room_id)?,
                invitee_ids: join.invitee_id_list.unwrap_or_default().0,
                inviter_id: some_id(join.inviter_id),
                date: date(join.timestamp),
            }))
        }
        20 => {
            let leave = payload.parse::<Leave>()?;
            Event::RoomLeave(Arc::new(RoomLeave {
                room_id: payload.room(leave.room_id)?,
                removee_ids: leave.removee_id_list.unwrap_or_default().0,
                remover_id: some_id(leave.remover_id),
                date: date(leave.timestamp),
            }))
        }
        21 => {
            let topic = payload.parse::<Topic>()?;
            Event::RoomTopic(Arc::new(RoomTopic {
                room_id: payload.room(topic.room_id)?,
                new_topic: topic.new_topic.map(Text::into_string).unwrap_or_default(),
                old_topic: topic.old_topic.map(Text::into_string).unwrap_or_default(),
                changer_id: some_id(topic.changer_id),
                date: date(topic.timestamp),
            }))
        }
        32 => {
            let announce = payload.parse::<Announce>()?;
            Event::RoomAnnounce(Arc::new(RoomAnnounce {
                room_id: payload.room(announce.room_id)?,
                new_announce: announce
                    .new_announce
                    .map(Text::into_string)
                    .unwrap_or_default(),
                old_announce: announce.old_announce.map(Text::into_string),
                changer_id: some_id(announce.changer_id),
                date: date(announce.timestamp),
            }))
        }
        22 => {
            let scan = payload.parse::<Scan>()?;
            Event::Scan {
                status: ScanStatus::from(scan.status.unwrap_or(0)),
                qrcode: scan.qrcode.filter(|v| !v.is_empty()),
                data: scan.data,
            }
        }
        23 => Event::Ready {
            data: payload.parse::<Data>()?.data,
        },
        24 => Event::Reset {
            data: payload.parse::<Data>()?.data,
        },
        25 => Event::Login {
            contact_id: ContactId::from(
                payload.present_owned(payload.parse::<Login>()?.contact_id, "contactId")?,
            ),
        },
        26 => {
            let logout = payload.parse::<Logout>()?;
            Event::Logout {
                contact_id: ContactId::from(payload.present_owned(logout.contact_id, "contactId")?),
                data: logout.data,
            }
        }
        27 => {
            let dirty = payload.parse::<Dirty>()?;
            Event::Dirty {
                payload_type: PayloadType::from(
                    dirty
                        .payload_type
                        .ok_or_else(|| payload.fail("missing `payloadType`".into()))?,
                ),
                payload_id: payload.present_owned(dirty.payload_id, "payloadId")?,
            }
        }
        other => Event::Unknown {
            kind: other,
            payload: json.to_owned(),
        },
    };
    Ok(event)
}

/// One payload being decoded, for parsing and for errors that say which type failed.
#[derive(Clone, Copy)]
struct Payload<'a> {
    kind: i32,
    json: &'a str,
}

impl<'a> Payload<'a> {
    fn fail(self, reason: String) -> DecodeError {
        DecodeError {
            kind: self.kind,
            reason,
        }
    }

    fn parse<T: Deserialize<'a> + Default>(self) -> Result<T, DecodeError> {
        // Some servers send "" for events without a payload.
        if self.json.trim().is_empty() {
            return Ok(T::default());
        }
        serde_json::from_str(self.json).map_err(|error| self.fail(format!("invalid JSON: {error}")))
    }

    /// A key the event is useless without, as text (empty counts as missing).
    fn present<'t>(self, value: Option<Text<'t>>, key: &str) -> Result<Cow<'t, str>, DecodeError> {
        match value {
            Some(Text(text)) if !text.is_empty() => Ok(text),
            _ => Err(self.fail(format!("missing `{key}`"))),
        }
    }

    fn present_owned(self, value: Option<String>, key: &str) -> Result<String, DecodeError> {
        self.present(value.map(|text| Text(Cow::Owned(text))), key)
            .map(Cow::into_owned)
    }

    fn room(self, id: Option<Text<'_>>) -> Result<RoomId, DecodeError> {
        self.present(id, "roomId").map(RoomId::new)
    }
}

/// `{data}`: heartbeat, dong, ready, reset.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Data {
    data: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Message<'a> {
    #[serde(borrow)]
    message_id: Option<Text<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Post {
    post_id: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Friendship {
    friendship_id: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RoomInvite {
    room_invitation_id: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Join<'a> {
    #[serde(borrow)]
    room_id: Option<Text<'a>>,
    invitee_id_list: Option<Ids>,
    #[serde(borrow)]
    inviter_id: Option<Text<'a>>,
    timestamp: Option<f64>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Leave<'a> {
    #[serde(borrow)]
    room_id: Option<Text<'a>>,
    removee_id_list: Option<Ids>,
    #[serde(borrow)]
    remover_id: Option<Text<'a>>,
    timestamp: Option<f64>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Topic<'a> {
    #[serde(borrow)]
    room_id: Option<Text<'a>>,
    #[serde(borrow)]
    new_topic: Option<Text<'a>>,
    #[serde(borrow)]
    old_topic: Option<Text<'a>>,
    #[serde(borrow)]
    changer_id: Option<Text<'a>>,
    timestamp: Option<f64>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Announce<'a> {
    #[serde(borrow)]
    room_id: Option<Text<'a>>,
    #[serde(borrow)]
    new_announce: Option<Text<'a>>,
    #[serde(borrow)]
    old_announce: Option<Text<'a>>,
    #[serde(borrow)]
    changer_id: Option<Text<'a>>,
    timestamp: Option<f64>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Scan {
    status: Option<i64>,
    qrcode: Option<String>,
    data: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Login {
    contact_id: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Logout {
    contact_id: Option<String>,
    data: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Dirty {
    payload_type: Option<i64>,
    payload_id: Option<String>,
}

/// `{gerror}`, itself JSON text (`{code, details, message, name, stack}`); older servers sent
/// `{data}` instead.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Failure {
    gerror: Option<String>,
    data: Option<String>,
}

impl Failure {
    fn into_error(self) -> ServiceError {
        #[derive(Default, Deserialize)]
        #[serde(default)]
        struct GError {
            code: Option<i64>,
            message: Option<String>,
            details: Option<String>,
        }
        let first_line = |text: &str| text.lines().next().unwrap_or("").trim().to_owned();
        if let Some(gerror) = self.gerror {
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
            message: first_line(self.data.as_deref().unwrap_or("")),
        }
    }
}

/// A JSON string: borrowed from the payload when it has no escapes (ids never do), else
/// owned. (serde's own `Cow` borrows only as a bare field, not inside `Option` or `Vec`.)
struct Text<'a>(Cow<'a, str>);

impl Text<'_> {
    fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
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
        deserializer.deserialize_str(TextVisitor).map(Text)
    }
}

/// A list of contact ids, made into ids as it is read (no list of strings in between); empty
/// ids are left out.
#[derive(Default)]
struct Ids(Vec<ContactId>);

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdsVisitor;
        impl<'de> Visitor<'de> for IdsVisitor {
            type Value = Ids;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of ids")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut list: A) -> Result<Ids, A::Error> {
                // The hint comes from the payload: trust it only so far.
                let mut ids = Vec::with_capacity(list.size_hint().unwrap_or(0).min(64));
                while let Some(Text(id)) = list.next_element::<Text<'de>>()? {
                    if !id.is_empty() {
                        ids.push(ContactId::from(id.as_ref()));
                    }
                }
                Ok(Ids(ids))
            }
        }
        deserializer.deserialize_seq(IdsVisitor)
    }
}

fn some_id(id: Option<Text<'_>>) -> Option<ContactId> {
    id.filter(|Text(id)| !id.is_empty())
        .map(|Text(id)| ContactId::from(id.as_ref()))
}

fn date(timestamp: Option<f64>) -> SystemTime {
    // A missing or nonsensical timestamp is not worth dropping the event for.
    timestamp
        .and_then(timestamp_to_time)
        .unwrap_or_else(SystemTime::now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::ms;

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

    #[test]
    fn id_lists_skip_empty_ids_and_accept_null() {
        let Event::RoomLeave(leave) = decode(
            20,
            r#"{"roomId":"r","removeeIdList":["a","","b\u0021"],"removerId":"","timestamp":1}"#,
        )
        .unwrap() else {
            panic!("not a leave event")
        };
        let ids: Vec<&str> = leave.removee_ids.iter().map(ContactId::as_str).collect();
        assert_eq!(ids, ["a", "b!"]);
        assert_eq!(leave.remover_id, None);
        let Event::RoomJoin(join) = decode(19, r#"{"roomId":"r","inviteeIdList":null}"#).unwrap()
        else {
            panic!("not a join event")
        };
        assert!(join.invitee_ids.is_empty());
        let error = decode(19, r#"{"roomId":"r","inviteeIdList":"a"}"#).unwrap_err();
        assert!(error.reason.contains("a list of ids"), "{}", error.reason);
        assert!(decode(19, r#"{"roomId":"r","inviteeIdList":[1]}"#).is_err());
        // A room event without its room is useless.
        assert_eq!(
            decode(21, r#"{"roomId":"","newTopic":"t"}"#)
                .unwrap_err()
                .reason,
            "missing `roomId`"
        );
    }
}
