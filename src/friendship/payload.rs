//! What the service says of a friendship ([`FriendshipPayload`]), from its wire form, and
//! its JSON form (wechaty-puppet's keys, for keeping a request and accepting it later).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId};

/// What a friendship event is about. The numbers are the wire's (`FriendshipType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i32", into = "i32")]
#[non_exhaustive]
pub enum FriendshipKind {
    /// 0: the service did not say.
    Unknown,
    /// 1: someone accepted the bot's request, or the bot theirs: you are friends now.
    Confirm,
    /// 2: someone asks to become the bot's friend; [`accept`](crate::Friendship::accept) it.
    Receive,
    /// 3: the other side wants the bot to verify itself (the bot's request was not enough).
    Verify,
}

impl From<i32> for FriendshipKind {
    fn from(number: i32) -> Self {
        match number {
            1 => Self::Confirm,
            2 => Self::Receive,
            3 => Self::Verify,
            _ => Self::Unknown,
        }
    }
}

impl From<FriendshipKind> for i32 {
    fn from(kind: FriendshipKind) -> Self {
        match kind {
            FriendshipKind::Unknown => 0,
            FriendshipKind::Confirm => 1,
            FriendshipKind::Receive => 2,
            FriendshipKind::Verify => 3,
        }
    }
}

impl fmt::Display for FriendshipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unknown => "unknown",
            Self::Confirm => "confirm",
            Self::Receive => "receive",
            Self::Verify => "verify",
        })
    }
}

/// How the other side found the bot. The numbers are the wire's (`FriendshipSceneType`);
/// one this SDK does not know keeps its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i32", into = "i32")]
#[non_exhaustive]
pub enum FriendshipScene {
    /// 0: the service did not say.
    Unknown,
    /// 1: by QQ.
    Qq,
    /// 2: by e-mail.
    Email,
    /// 3: by WeChat id.
    Weixin,
    /// 12: a QQ friend.
    QqTbd,
    /// 14: in a room.
    Room,
    /// 15: by phone number.
    Phone,
    /// 17: from a contact card.
    Card,
    /// 18: nearby.
    Location,
    /// 25: the drift bottle.
    Bottle,
    /// 29: shaking the phone.
    Shaking,
    /// 30: a QR code.
    QrCode,
    /// A number this SDK does not know.
    Other(i32),
}

impl From<i32> for FriendshipScene {
    fn from(number: i32) -> Self {
        match number {
            0 => Self::Unknown,
            1 => Self::Qq,
            2 => Self::Email,
            3 => Self::Weixin,
            12 => Self::QqTbd,
            14 => Self::Room,
            15 => Self::Phone,
            17 => Self::Card,
            18 => Self::Location,
            25 => Self::Bottle,
            29 => Self::Shaking,
            30 => Self::QrCode,
            other => Self::Other(other),
        }
    }
}

impl From<FriendshipScene> for i32 {
    fn from(scene: FriendshipScene) -> Self {
        match scene {
            FriendshipScene::Unknown => 0,
            FriendshipScene::Qq => 1,
            FriendshipScene::Email => 2,
            FriendshipScene::Weixin => 3,
            FriendshipScene::QqTbd => 12,
            FriendshipScene::Room => 14,
            FriendshipScene::Phone => 15,
            FriendshipScene::Card => 17,
            FriendshipScene::Location => 18,
            FriendshipScene::Bottle => 25,
            FriendshipScene::Shaking => 29,
            FriendshipScene::QrCode => 30,
            FriendshipScene::Other(number) => number,
        }
    }
}

/// The data of a friendship. Its JSON form has wechaty-puppet's keys (`contactId`, `type`
/// and `scene` as numbers), so a TypeScript puppet reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FriendshipPayload {
    /// The friendship id (what the `friendship` event carries).
    pub id: String,
    /// The other side.
    pub contact_id: ContactId,
    /// The greeting they sent with a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hello: Option<String>,
    /// What the event is about.
    #[serde(rename = "type")]
    pub kind: FriendshipKind,
    /// The puppet's handle of a stranger (provider specific).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stranger: Option<String>,
    /// The puppet's ticket for accepting (provider specific).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// How they found the bot.
    #[serde(default = "unknown_scene")]
    pub scene: FriendshipScene,
}

fn unknown_scene() -> FriendshipScene {
    FriendshipScene::Unknown
}

impl FriendshipPayload {
    pub(crate) fn from_wire(response: pb::FriendshipPayloadResponse) -> Result<Self> {
        let id = non_empty(response.id).ok_or_else(|| {
            Error::invalid_data("friendship payload", "the friendship id is empty")
        })?;
        let contact_id = non_empty(response.contact_id).ok_or_else(|| {
            Error::invalid_data(
                "friendship payload",
                format!("friendship {id} names no contact"),
            )
        })?;
        Ok(Self {
            id,
            contact_id: ContactId::from(contact_id),
            hello: non_empty(response.hello),
            kind: FriendshipKind::from(response.r#type),
            stranger: non_empty(response.stranger),
            ticket: non_empty(response.ticket),
            scene: FriendshipScene::from(response.scene),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wire_number_maps_back_to_itself() {
        for number in -1..40 {
            let scene = FriendshipScene::from(number);
            assert_eq!(i32::from(scene), number);
        }
        for number in 0..4 {
            assert_eq!(i32::from(FriendshipKind::from(number)), number);
        }
        assert_eq!(FriendshipKind::from(9), FriendshipKind::Unknown);
    }

    #[test]
    fn the_json_has_the_keys_wechaty_puppet_uses() {
        let payload = FriendshipPayload {
            id: "f1".into(),
            contact_id: "erin".into(),
            hello: Some("hi".into()),
            kind: FriendshipKind::Receive,
            stranger: None,
            ticket: Some("t".into()),
            scene: FriendshipScene::Phone,
        };
        let json = serde_json::to_string(&payload).unwrap();
        assert_eq!(
            json,
            r#"{"id":"f1","contactId":"erin","hello":"hi","type":2,"ticket":"t","scene":15}"#
        );
        assert_eq!(
            serde_json::from_str::<FriendshipPayload>(&json).unwrap(),
            payload
        );
    }

    #[test]
    fn a_payload_without_contact_is_refused() {
        let response = pb::FriendshipPayloadResponse {
            id: "f1".into(),
            ..Default::default()
        };
        let error = FriendshipPayload::from_wire(response).unwrap_err();
        assert!(error.to_string().contains("names no contact"), "{error}");
    }
}
