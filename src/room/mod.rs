//! Rooms. [`Room`] is a handle to one room (`handle.rs`); its verbs are here (payload, topic,
//! announcement, adding and removing members, QR code, owner, avatar, sync). Members are in
//! `members.rs` (with the caches behind them in `listing.rs`), payloads in `payload.rs`, the
//! room's event stream in `events.rs`, finding and creating rooms in `rooms.rs`, invitations in
//! `invitation.rs`; `say` is in `say.rs` with every other way of sending.

mod changes;
mod events;
mod handle;
pub(crate) mod invitation;
pub(crate) mod listing;
mod members;
pub(crate) mod payload;
mod rooms;

use std::sync::Arc;

use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::event::PayloadType;
use crate::file_box::FileBox;
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId};

pub use changes::{RoomAnnounceChanged, RoomJoined, RoomLeft, RoomTopicChanged};
pub use events::{RoomEvent, RoomEvents};
pub use handle::Room;
pub use invitation::{RoomInvitation, RoomInvitationPayload};
pub use members::{MemberQuery, RoomMember, RoomMemberQueryFilter};
pub use payload::{RoomMemberPayload, RoomPayload};
pub use rooms::{RoomQuery, RoomQueryFilter, Rooms};

/// The largest QR code content (numeric mode of a version-40 QR code).
const MAX_QR_CODE_CHARS: usize = 7089;

impl Room {
    /// The payload: from the cache, else `RoomPayload`.
    pub async fn payload(&self) -> Result<Arc<RoomPayload>> {
        payload::load_room(&self.bot.caches().rooms, || self.bot.transport(), &self.id).await
    }

    /// Makes sure the payload is loaded (python-wechaty's `ready()`).
    pub async fn ready(&self) -> Result<()> {
        self.payload().await.map(drop)
    }

    /// Really refreshes the room: asks the service to drop its caches of the room and its
    /// members (`DirtyPayload`), waits (up to 5 s, when the Event stream is open) for the
    /// `dirty` echoes, drops ours, and fetches the payload and member list again.
    pub async fn sync(&self) -> Result<()> {
        self.bot
            .dirty_and_await_echo(
                &[PayloadType::Room, PayloadType::RoomMember],
                self.id.as_str(),
            )
            .await?;
        self.bot.caches().forget_room(&self.id);
        self.payload().await?;
        self.members_of()?.ids().await.map(drop)
    }

    /// Adds a contact to the room.
    #[allow(deprecated)] // contact_id for servers before contact_ids existed
    pub async fn add(&self, contact: &Contact) -> Result<()> {
        let request = pb::RoomAddRequest {
            id: self.id.to_string(),
            contact_id: contact.id().to_string(),
            invite_only: false,
            contact_ids: vec![contact.id().to_string()],
        };
        self.bot
            .transport()?
            .unary(
                "RoomAdd",
                request,
                |mut c, r| async move { c.room_add(r).await },
            )
            .await?;
        self.bot.caches().forget_room(&self.id);
        Ok(())
    }

    /// Removes a contact from the room.
    #[allow(deprecated)] // contact_id for servers before contact_ids existed
    pub async fn remove(&self, contact: &Contact) -> Result<()> {
        let request = pb::RoomDelRequest {
            id: self.id.to_string(),
            contact_id: contact.id().to_string(),
            contact_ids: vec![contact.id().to_string()],
        };
        self.bot
            .transport()?
            .unary(
                "RoomDel",
                request,
                |mut c, r| async move { c.room_del(r).await },
            )
            .await?;
        self.bot.caches().forget_room(&self.id);
        Ok(())
    }

    /// The same as [`remove`](Self::remove) (python-wechaty's name).
    pub async fn delete(&self, contact: &Contact) -> Result<()> {
        self.remove(contact).await
    }

    /// The bot leaves the room.
    pub async fn quit(&self) -> Result<()> {
        let request = pb::RoomQuitRequest {
            id: self.id.to_string(),
        };
        self.bot
            .transport()?
            .unary("RoomQuit", request, |mut c, r| async move {
                c.room_quit(r).await
            })
            .await?;
        self.bot.caches().forget_room(&self.id);
        Ok(())
    }

    /// The topic; for a room without one, the names of its first three other members joined by
    /// `,` (the raw payload keeps `topic: None`). Served from the cache when the room is loaded.
    pub async fn topic(&self) -> Result<String> {
        let payload = self.payload().await?;
        if let Some(topic) = &payload.topic {
            return Ok(topic.clone());
        }
        let me = self.bot.current_user_id();
        let others: Vec<ContactId> = payload
            .member_ids
            .iter()
            .filter(|id| Some(*id) != me.as_ref())
            .take(3)
            .cloned()
            .collect();
        let mut names = Vec::with_capacity(others.len());
        for id in others {
            names.push(self.bot.contact(id).name().await?);
        }
        Ok(names.join(","))
    }

    /// Sets the topic (`RoomTopic` with its field set, even to `""`).
    #[allow(deprecated)] // the wrapper too, for servers before Oct 2021
    pub async fn set_topic(&self, topic: &str) -> Result<()> {
        let request = pb::RoomTopicRequest {
            id: self.id.to_string(),
            topic_string_value_deprecated: Some(topic.to_owned()),
            topic: Some(topic.to_owned()),
        };
        self.bot
            .transport()?
            .unary("RoomTopic", request, |mut c, r| async move {
                c.room_topic(r).await
            })
            .await?;
        self.bot.caches().forget_room(&self.id);
        Ok(())
    }

    /// The announcement (`RoomAnnounce` without its field), `None` when there is none.
    #[allow(deprecated)] // old servers answer in the wrapper
    pub async fn announce(&self) -> Result<Option<String>> {
        let request = pb::RoomAnnounceRequest {
            id: self.id.to_string(),
            ..Default::default()
        };
        let response = self
            .bot
            .transport()?
            .unary("RoomAnnounce", request, |mut c, r| async move {
                c.room_announce(r).await
            })
            .await?;
        Ok(non_empty(response.text)
            .or_else(|| response.text_string_value_deprecated.and_then(non_empty)))
    }

    /// Sets the announcement (`RoomAnnounce` with its field set, even to `""`).
    #[allow(deprecated)] // the wrapper too, for servers before Oct 2021
    pub async fn set_announce(&self, text: &str) -> Result<()> {
        let request = pb::RoomAnnounceRequest {
            id: self.id.to_string(),
            text_string_value_deprecated: Some(text.to_owned()),
            text: Some(text.to_owned()),
        };
        self.bot
            .transport()?
            .unary("RoomAnnounce", request, |mut c, r| async move {
                c.room_announce(r).await
            })
            .await
            .map(drop)
    }

    /// The content of the room's QR code (a string to render, not an image).
    pub async fn qr_code(&self) -> Result<String> {
        let request = pb::RoomQrCodeRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("RoomQRCode", request, |mut c, r| async move {
                c.room_qr_code(r).await
            })
            .await?;
        let code = response.qrcode;
        if code.is_empty() {
            return Err(Error::invalid_data(
                "room QR code",
                format!("the service returned no QR code for {}", self.id),
            ));
        }
        if code.chars().count() > MAX_QR_CODE_CHARS {
            return Err(Error::invalid_data(
                "room QR code",
                format!(
                    "{} characters is more than a QR code holds ({MAX_QR_CODE_CHARS})",
                    code.chars().count()
                ),
            ));
        }
        Ok(code)
    }

    /// The owner, when the service says.
    pub async fn owner(&self) -> Result<Option<Contact>> {
        let payload = self.payload().await?;
        Ok(payload.owner_id.clone().map(|id| self.bot.contact(id)))
    }

    /// The room's avatar (`RoomAvatar`).
    pub async fn avatar(&self) -> Result<FileBox> {
        let request = pb::RoomAvatarRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("RoomAvatar", request, |mut c, r| async move {
                c.room_avatar(r).await
            })
            .await?;
        FileBox::from_service_json(&response.file_box)
    }
}
