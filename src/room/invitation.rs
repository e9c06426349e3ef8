//! [`RoomInvitation`]: an invitation of the bot into a room, as the `room-invite` event
//! brings it, and its [`RoomInvitationPayload`].

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::event::{age_of, timestamp_to_time};
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId};
use crate::wechaty::Wechaty;

/// An invitation into a room. Creating the handle does no I/O.
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// bot.on_room_invite(|invitation| async move {
///     println!("invited to {}", invitation.topic().await?);
///     invitation.accept().await?;
///     Ok(())
/// })
/// .detach();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RoomInvitation {
    id: String,
    bot: Wechaty,
}

impl fmt::Debug for RoomInvitation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RoomInvitation").field(&self.id).finish()
    }
}

/// The data of an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomInvitationPayload {
    /// The invitation id.
    pub id: String,
    /// Who invited the bot.
    pub inviter_id: Option<ContactId>,
    /// The room's topic.
    pub topic: Option<String>,
    /// How many members the room has.
    pub member_count: u32,
    /// Some of its members.
    #[serde(rename = "memberIdList")]
    pub member_ids: Vec<ContactId>,
    /// The room's avatar URL.
    pub avatar: Option<String>,
    /// The raw invitation (provider specific, often a URL).
    pub invitation: Option<String>,
    /// Who received it.
    pub receiver_id: Option<ContactId>,
    /// When it was sent, in Unix milliseconds.
    pub timestamp: Option<u64>,
}

impl RoomInvitationPayload {
    #[allow(deprecated)] // the raw number is the puppet's own, seconds or milliseconds
    pub(crate) fn from_wire(response: pb::RoomInvitationPayloadResponse) -> Result<Self> {
        let id = non_empty(response.id).ok_or_else(|| {
            Error::invalid_data("room invitation payload", "the invitation id is empty")
        })?;
        // Field 6 is what the puppet said; field 10 was computed assuming milliseconds.
        let raw = if response.timestamp_uint64_deprecated > 0 {
            response.timestamp_uint64_deprecated as f64
        } else {
            response.receive_time.map_or(0.0, |t| {
                t.seconds as f64 * 1000.0 + f64::from(t.nanos) / 1e6
            })
        };
        let timestamp = (raw > 0.0)
            .then(|| timestamp_to_time(raw))
            .flatten()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map(|elapsed| elapsed.as_millis() as u64);
        Ok(Self {
            id,
            inviter_id: non_empty(response.inviter_id).map(ContactId::from),
            topic: non_empty(response.topic),
            member_count: u32::try_from(response.member_count).unwrap_or(0),
            member_ids: response
                .member_ids
                .into_iter()
                .filter(|id| !id.is_empty())
                .map(ContactId::from)
                .collect(),
            avatar: non_empty(response.avatar),
            invitation: non_empty(response.invitation),
            receiver_id: non_empty(response.receiver_id).map(ContactId::from),
            timestamp,
        })
    }
}

impl Wechaty {
    /// A handle to a room invitation (the id a `room-invite` event carries).
    pub fn room_invitation(&self, id: impl Into<String>) -> RoomInvitation {
        RoomInvitation {
            id: id.into(),
            bot: self.clone(),
        }
    }
}

impl RoomInvitation {
    /// The invitation id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The payload (`RoomInvitationPayload`).
    pub async fn payload(&self) -> Result<RoomInvitationPayload> {
        let request = pb::RoomInvitationPayloadRequest {
            id: self.id.clone(),
            ..Default::default()
        };
        let response = self
            .bot
            .transport()?
            .unary("RoomInvitationPayload", request, |mut c, r| async move {
                c.room_invitation_payload(r).await
            })
            .await?;
        RoomInvitationPayload::from_wire(response)
    }

    /// Accepts: the bot joins the room.
    pub async fn accept(&self) -> Result<()> {
        let request = pb::RoomInvitationAcceptRequest {
            id: self.id.clone(),
        };
        self.bot
            .transport()?
            .unary("RoomInvitationAccept", request, |mut c, r| async move {
                c.room_invitation_accept(r).await
            })
            .await
            .map(drop)
    }

    /// Who invited the bot.
    pub async fn inviter(&self) -> Result<Option<Contact>> {
        Ok(self
            .payload()
            .await?
            .inviter_id
            .map(|id| self.bot.contact(id)))
    }

    /// The room's topic (`""` when the service does not say).
    pub async fn topic(&self) -> Result<String> {
        Ok(self.payload().await?.topic.unwrap_or_default())
    }

    /// How many members the room has.
    pub async fn member_count(&self) -> Result<u32> {
        Ok(self.payload().await?.member_count)
    }

    /// The members the invitation names.
    pub async fn members(&self) -> Result<Vec<Contact>> {
        let payload = self.payload().await?;
        Ok(payload
            .member_ids
            .into_iter()
            .map(|id| self.bot.contact(id))
            .collect())
    }

    /// When it was sent, when the service says.
    pub async fn date(&self) -> Result<Option<SystemTime>> {
        Ok(self
            .payload()
            .await?
            .timestamp
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)))
    }

    /// How long ago it was sent (zero when unknown or in the future).
    pub async fn age(&self) -> Result<Duration> {
        Ok(age_of(self.date().await?))
    }

    /// The payload as JSON (wechaty-puppet's camelCase keys), to keep an invitation and accept
    /// it later, e.g. after a restart.
    pub async fn to_json(&self) -> Result<String> {
        let payload = self.payload().await?;
        serde_json::to_string(&payload)
            .map_err(|error| Error::invalid_data_caused("room invitation payload", error))
    }

    /// An invitation from [`to_json`](Self::to_json) output: pushed back to the service
    /// (`RoomInvitationPayload` with the payload set), so that `accept()` works again.
    #[allow(deprecated)] // the wrapper too, for old servers
    pub async fn from_json(bot: &Wechaty, json: &str) -> Result<Self> {
        let payload: RoomInvitationPayload = serde_json::from_str(json).map_err(|error| {
            Error::InvalidArgument(format!("not a saved room invitation: {error}"))
        })?;
        if payload.id.is_empty() {
            return Err(Error::InvalidArgument(
                "the saved invitation has no id".into(),
            ));
        }
        let request = pb::RoomInvitationPayloadRequest {
            id: payload.id.clone(),
            payload_string_value_deprecated: Some(json.to_owned()),
            payload: json.to_owned(),
        };
        bot.transport()?
            .unary("RoomInvitationPayload", request, |mut c, r| async move {
                c.room_invitation_payload(r).await
            })
            .await?;
        Ok(bot.room_invitation(payload.id))
    }
}
