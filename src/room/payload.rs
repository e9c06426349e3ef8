//! What the service says of a room ([`RoomPayload`]) and of one of its members
//! ([`RoomMemberPayload`]), from their wire form, and how a room's payload is read: from the
//! cache, else with `RoomPayload`.

use std::sync::Arc;

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, weight_of_ids, weight_of_text, ContactId, RoomId, MAX_MEMBER_IDS};
use crate::transport::Transport;

/// The room payloads a bot keeps.
pub(crate) type RoomCache = Cache<RoomId, Arc<RoomPayload>>;

/// The payload of room `id`: cached, else `RoomPayload` (and cached unless the room was
/// invalidated meanwhile). `transport` is asked for only on a miss: a warm read is one lookup.
pub(crate) async fn load_room(
    cache: &RoomCache,
    transport: impl FnOnce() -> Result<Transport>,
    id: &RoomId,
) -> Result<Arc<RoomPayload>> {
    cache
        .read_through(id, || async {
            let request = pb::RoomPayloadRequest { id: id.to_string() };
            let response = transport()?
                .unary("RoomPayload", request, |mut c, r| async move {
                    c.room_payload(r).await
                })
                .await?;
            let mut payload = RoomPayload::from_wire(response)?;
            // One copy of the id: the cache's key and the payload's id share it.
            if payload.id == *id {
                payload.id = id.clone();
            }
            Ok(Arc::new(payload))
        })
        .await
}

/// The data of a room. `None` where the service sent `""`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomPayload {
    /// The id.
    pub id: RoomId,
    /// The topic as the service has it (`None` for an unnamed room; see
    /// [`Room::topic`](crate::Room::topic)).
    pub topic: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// The owner.
    pub owner_id: Option<ContactId>,
    /// The admins.
    pub admin_ids: Vec<ContactId>,
    /// The members.
    pub member_ids: Vec<ContactId>,
    /// The room's handle, when it has one.
    pub handle: Option<String>,
}

fn contact_ids(ids: Vec<String>) -> Vec<ContactId> {
    ids.into_iter()
        .filter(|id| !id.is_empty())
        .map(ContactId::from)
        .collect()
}

impl RoomPayload {
    pub(crate) fn from_wire(response: pb::RoomPayloadResponse) -> Result<Self> {
        let id = non_empty(response.id)
            .ok_or_else(|| Error::invalid_data("room payload", "the room id is empty"))?;
        check_member_count("room payload", response.member_ids.len())?;
        Ok(Self {
            id: RoomId::from(id),
            topic: non_empty(response.topic),
            avatar: non_empty(response.avatar),
            owner_id: non_empty(response.owner_id).map(ContactId::from),
            admin_ids: contact_ids(response.admin_ids),
            member_ids: contact_ids(response.member_ids),
            handle: non_empty(response.handle),
        })
    }
}

impl RoomPayload {
    /// About how many bytes the payload holds (for the cache's byte bound).
    pub(crate) fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.id.weight()
            + weight_of_text(&self.topic)
            + weight_of_text(&self.avatar)
            + weight_of_text(&self.handle)
            + self.owner_id.as_ref().map_or(0, ContactId::weight)
            + weight_of_ids(&self.admin_ids)
            + weight_of_ids(&self.member_ids)
    }
}

/// Refuses a member list longer than any room has ([`MAX_MEMBER_IDS`]).
pub(crate) fn check_member_count(what: &'static str, count: usize) -> Result<()> {
    if count > MAX_MEMBER_IDS {
        return Err(Error::invalid_data(
            what,
            format!(
                "it lists {count} members for one room; more than {MAX_MEMBER_IDS} is no \
                 WeChat room, so the answer is refused"
            ),
        ));
    }
    Ok(())
}

/// What a room knows of one member. `None` where the service sent `""`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomMemberPayload {
    /// The member's contact id.
    pub id: ContactId,
    /// The member's room alias (group nickname).
    pub room_alias: Option<String>,
    /// Who invited them.
    pub inviter_id: Option<ContactId>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// Their name.
    pub name: Option<String>,
}

impl RoomMemberPayload {
    pub(crate) fn from_wire(
        response: pb::RoomMemberPayloadResponse,
        asked: &ContactId,
    ) -> Result<Self> {
        // Some servers leave the id out; the one asked for is the one answered.
        let id = non_empty(response.id).map_or_else(|| asked.clone(), ContactId::from);
        Ok(Self {
            id,
            room_alias: non_empty(response.room_alias),
            inviter_id: non_empty(response.inviter_id).map(ContactId::from),
            avatar: non_empty(response.avatar),
            name: non_empty(response.name),
        })
    }

    /// About how many bytes the payload holds.
    pub(crate) fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.id.weight()
            + weight_of_text(&self.room_alias)
            + self.inviter_id.as_ref().map_or(0, ContactId::weight)
            + weight_of_text(&self.avatar)
            + weight_of_text(&self.name)
    }
}
