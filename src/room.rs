//! [`Room`]: a handle to one room — its payload, members, RPCs — and its own event stream.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{self as futures_stream, StreamExt};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::Stream;

use crate::contact::{Contact, ContactPayload};
use crate::dispatch::{Hub, RoomSignal};
use crate::error::{Error, Result};
use crate::event::{Event, PayloadType, RoomAnnounce, RoomJoin, RoomLeave, RoomTopic};
use crate::file_box::FileBox;
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId, RoomId};
use crate::message::Message;
use crate::say::Sayable;
use crate::wechaty::Wechaty;

/// The largest QR code content (numeric mode of a version-40 QR code).
const MAX_QR_CODE_CHARS: usize = 7089;
/// How long `sync()` waits for the service to echo its `dirty` events.
const SYNC_ECHO_WAIT: Duration = Duration::from_secs(5);
/// Separates mentions in a message text, as the official clients write it.
const MENTION_SEPARATOR: char = '\u{2005}';

/// A room (group chat). Creating the handle does no I/O; payloads are fetched on demand and
/// cached until the service says they changed.
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let room = bot.rooms().find("Team Room").await?.expect("the room exists");
/// println!("{} has {} members", room.topic().await?, room.members().await?.len());
/// let ann = bot.contact("ann");
/// room.say_with_mentions("welcome!", &[ann]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Room {
    id: RoomId,
    bot: Wechaty,
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Room").field(&self.id).finish()
    }
}

impl PartialEq for Room {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Room {}

impl Room {
    pub(crate) fn new(id: RoomId, bot: Wechaty) -> Self {
        Self { id, bot }
    }

    /// The room id.
    pub fn id(&self) -> &RoomId {
        &self.id
    }

    /// The bot this handle belongs to.
    pub fn bot(&self) -> &Wechaty {
        &self.bot
    }

    /// This room's events from now on: joins, leaves, topic and announcement changes, and
    /// messages — never another room's. The stream ends when the bot stops for good.
    pub fn events(&self) -> RoomEvents {
        let hub = self.bot.hub();
        let receiver = hub.subscribe_room(&self.id);
        RoomEvents {
            inner: receiver.map(BroadcastStream::new),
            hub,
            room: self.id.clone(),
            bot: self.bot.clone(),
        }
    }

    /// The payload: from the cache, else `RoomPayload`.
    pub async fn payload(&self) -> Result<Arc<RoomPayload>> {
        fetch_room(&self.bot, &self.id).await
    }

    /// Makes sure the payload is loaded (python-wechaty's `ready()`).
    pub async fn ready(&self) -> Result<()> {
        self.payload().await.map(drop)
    }

    /// Really refreshes the room: asks the service to drop its caches of the room and its
    /// members (`DirtyPayload`), waits (up to 5 s, when the Event stream is open) for the
    /// `dirty` echoes, drops ours, and fetches the payload and member list again.
    pub async fn sync(&self) -> Result<()> {
        let transport = self.bot.transport()?;
        let events = self.bot.is_connected().then(|| self.bot.events());
        for kind in [PayloadType::Room, PayloadType::RoomMember] {
            let request = pb::DirtyPayloadRequest {
                r#type: kind.number() as i32,
                id: self.id.to_string(),
            };
            transport
                .unary("DirtyPayload", request, |mut c, r| async move {
                    c.dirty_payload(r).await
                })
                .await?;
        }
        if let Some(mut events) = events {
            let room = self.id.as_str();
            let (mut room_seen, mut members_seen) = (false, false);
            let echoes = async {
                while let Some(event) = events.next().await {
                    if let Event::Dirty {
                        payload_type,
                        payload_id,
                    } = &event
                    {
                        if payload_id == room {
                            room_seen |= *payload_type == PayloadType::Room;
                            members_seen |= *payload_type == PayloadType::RoomMember;
                        }
                    }
                    if room_seen && members_seen {
                        break;
                    }
                }
            };
            if tokio::time::timeout(SYNC_ECHO_WAIT, echoes).await.is_err() {
                tracing::debug!(room = %self.id, "no dirty echo from the service; refreshing anyway");
            }
        }
        self.bot.caches().forget_room(&self.id);
        self.payload().await?;
        self.member_ids().await.map(drop)
    }

    /// Sends a message into the room. Returns the sent message when the service reports its id.
    ///
    /// Takes text now; contact cards, files, links and mini programs slot into [`Sayable`].
    pub async fn say(&self, something: impl Into<Sayable>) -> Result<Option<Message>> {
        self.bot.send(self.id.as_str(), something.into()).await
    }

    /// Sends `text` mentioning `contacts`: the text starts with `@` + (room alias, else name)
    /// of each, separated by U+2005, then a space; their ids travel in `mentional_ids`.
    pub async fn say_with_mentions(
        &self,
        text: &str,
        contacts: &[Contact],
    ) -> Result<Option<Message>> {
        if contacts.is_empty() {
            return self.say(text).await;
        }
        let mut mentions = Vec::with_capacity(contacts.len());
        for contact in contacts {
            let room_alias = self
                .member_payload(contact.id())
                .await
                .ok()
                .and_then(|m| m.room_alias.clone());
            let shown = match room_alias {
                Some(alias) => alias,
                None => contact.name().await?,
            };
            mentions.push(format!("@{shown}"));
        }
        let text = format!("{} {text}", mentions.join(&MENTION_SEPARATOR.to_string()));
        let ids = contacts.iter().map(|c| c.id().to_string()).collect();
        self.bot.send_text(self.id.to_string(), text, ids).await
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
        let me = self.bot.current_user();
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
            return Err(Error::InvalidData {
                what: "room QR code",
                message: format!("the service returned no QR code for {}", self.id),
            });
        }
        if code.chars().count() > MAX_QR_CODE_CHARS {
            return Err(Error::InvalidData {
                what: "room QR code",
                message: format!(
                    "{} characters is more than a QR code holds ({MAX_QR_CODE_CHARS})",
                    code.chars().count()
                ),
            });
        }
        Ok(code)
    }

    /// The member's room alias (group nickname), if they set one.
    pub async fn alias(&self, member: &Contact) -> Result<Option<String>> {
        Ok(self.member_payload(member.id()).await?.room_alias.clone())
    }

    /// Whether `contact` is a member.
    pub async fn has(&self, contact: &Contact) -> Result<bool> {
        Ok(self.member_ids().await?.contains(contact.id()))
    }

    /// All members (one `RoomMemberList`, cached; no payloads are loaded).
    pub async fn members(&self) -> Result<Vec<Contact>> {
        let ids = self.member_ids().await?;
        Ok(ids.iter().map(|id| self.bot.contact(id.clone())).collect())
    }

    /// Members matching `query`: a string matches exactly the name, room alias or contact alias
    /// (the union, in member order); a [`RoomMemberQueryFilter`] needs every given field to
    /// match.
    ///
    /// [`MemberQuery::All`] loads the contact payloads only (as python-wechaty's `member_list()`
    /// readies each contact): afterwards `contact.name()` of every member answers from the
    /// cache.
    pub async fn member_list(&self, query: impl Into<MemberQuery>) -> Result<Vec<Contact>> {
        let query = query.into();
        let kinds = match query {
            MemberQuery::All => PayloadKinds::CONTACT,
            _ => query.needs(),
        };
        let listing = self.listing(kinds).await?;
        Ok(listing
            .iter()
            .filter(|(_, payloads)| query.matches(payloads))
            .map(|(id, _)| self.bot.contact(id.clone()))
            .collect())
    }

    /// The first member matching `query`.
    pub async fn member(&self, query: impl Into<MemberQuery>) -> Result<Option<Contact>> {
        Ok(self.member_list(query).await?.into_iter().next())
    }

    /// Members matching `query`, with what was loaded to match them. [`MemberQuery::All`]
    /// loads names, room aliases and contact aliases of everyone (both payload kinds,
    /// concurrently with a bound, cached).
    pub async fn member_details(&self, query: impl Into<MemberQuery>) -> Result<Vec<RoomMember>> {
        let query = query.into();
        let listing = self.listing(query.needs()).await?;
        Ok(listing
            .iter()
            .filter(|(_, payloads)| query.matches(payloads))
            .map(|(id, payloads)| RoomMember {
                contact: self.bot.contact(id.clone()),
                payloads: payloads.clone(),
            })
            .collect())
    }

    /// Every member with the payload `kinds` loaded, in member order: the cached listing
    /// when nothing in it changed since, else built from the payload caches and fetches of
    /// what they miss (and cached in turn). A repeated list so costs no lookup per member.
    async fn listing(&self, kinds: PayloadKinds) -> Result<MemberListing> {
        let caches = self.bot.caches();
        if let Some(listing) = caches.listing(&self.id, kinds) {
            return Ok(listing);
        }
        let generation = caches.generation();
        let ids = self.member_ids().await?;
        // Cached members first, under one lock per cache: a warm list costs no task, no
        // future and no lock per member.
        let mut slots = self.cached_members(&ids, kinds);
        let missing: Vec<usize> = (0..slots.len()).filter(|&at| slots[at].is_none()).collect();
        if !missing.is_empty() {
            let limit = self.bot.lookup_limit();
            let ids = &ids;
            let loaded: Vec<(usize, Result<Option<MemberPayloads>>)> =
                futures_stream::iter(missing)
                    .map(|at| async move { (at, self.load_member(&ids[at], kinds).await) })
                    .buffered(limit)
                    .collect()
                    .await;
            for (at, member) in loaded {
                // A member the service cannot describe stays `None` and is left out.
                slots[at] = member?;
            }
        }
        let complete = slots.iter().all(Option::is_some);
        let listing: MemberListing = ids
            .iter()
            .zip(slots)
            .filter_map(|(id, payloads)| Some((id.clone(), payloads?)))
            .collect();
        // A member left out may have failed for a passing reason: ask again next time.
        if complete {
            caches.store_listing(&self.id, kinds, Arc::clone(&listing), generation);
        }
        Ok(listing)
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
        FileBox::from_json(&response.file_box)
    }

    /// Member ids: cached, else `RoomMemberList`.
    async fn member_ids(&self) -> Result<Arc<[ContactId]>> {
        let caches = self.bot.caches();
        if let Some(ids) = caches.member_ids(&self.id) {
            return Ok(ids);
        }
        let generation = caches.generation();
        let request = pb::RoomMemberListRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("RoomMemberList", request, |mut c, r| async move {
                c.room_member_list(r).await
            })
            .await?;
        let ids: Arc<[ContactId]> = response
            .member_ids
            .into_iter()
            .filter(|id| !id.is_empty())
            .map(ContactId::from)
            .collect();
        caches.store_member_ids(&self.id, Arc::clone(&ids), generation);
        Ok(ids)
    }

    /// One member's payload in this room: cached, else `RoomMemberPayload`.
    async fn member_payload(&self, member: &ContactId) -> Result<Arc<RoomMemberPayload>> {
        let caches = self.bot.caches();
        if let Some(payload) = caches.member(&self.id, member) {
            return Ok(payload);
        }
        let generation = caches.generation();
        let request = pb::RoomMemberPayloadRequest {
            id: self.id.to_string(),
            member_id: member.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("RoomMemberPayload", request, |mut c, r| async move {
                c.room_member_payload(r).await
            })
            .await?;
        let payload = Arc::new(RoomMemberPayload::from_wire(response, member)?);
        caches.store_member(&self.id, Arc::clone(&payload), generation);
        Ok(payload)
    }

    /// The members whose needed payloads are all cached, in member order; `None` where
    /// something must be fetched.
    fn cached_members(
        &self,
        ids: &[ContactId],
        kinds: PayloadKinds,
    ) -> Vec<Option<MemberPayloads>> {
        let caches = self.bot.caches();
        let members = match kinds.member {
            true => caches.members_of(&self.id, ids),
            false => vec![None; ids.len()],
        };
        let contacts = match kinds.contact {
            true => caches.contacts(ids),
            false => vec![None; ids.len()],
        };
        members
            .into_iter()
            .zip(contacts)
            .map(|(member, contact)| {
                let payloads = MemberPayloads { member, contact };
                payloads.holds(kinds).then_some(payloads)
            })
            .collect()
    }

    /// What `kinds` needs of one member. A member the service no longer knows is skipped
    /// (with a warning) rather than failing the whole list.
    async fn load_member(
        &self,
        id: &ContactId,
        kinds: PayloadKinds,
    ) -> Result<Option<MemberPayloads>> {
        // Both kinds at once: a member costs one round trip, not two.
        let (member, contact) = tokio::join!(
            async {
                match kinds.member {
                    true => self.member_payload(id).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match kinds.contact {
                    true => self.bot.contact(id.clone()).payload().await.map(Some),
                    false => Ok(None),
                }
            }
        );
        let (Some(member), Some(contact)) = (skip_gone(member, id)?, skip_gone(contact, id)?)
        else {
            return Ok(None);
        };
        Ok(Some(MemberPayloads { member, contact }))
    }
}

/// Errors that mean "this one is gone" become `None`; others (transport, auth) stay errors.
fn skip_gone<T>(result: Result<T>, id: &ContactId) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error @ (Error::NotFound { .. } | Error::Rpc { .. } | Error::InvalidData { .. })) => {
            tracing::warn!(%id, %error, "skipping a member the service cannot describe");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Fetches (or reads from the cache) a room payload.
pub(crate) async fn fetch_room(bot: &Wechaty, id: &RoomId) -> Result<Arc<RoomPayload>> {
    let caches = bot.caches();
    if let Some(payload) = caches.room(id) {
        return Ok(payload);
    }
    let generation = caches.generation();
    let request = pb::RoomPayloadRequest { id: id.to_string() };
    let response = bot
        .transport()?
        .unary("RoomPayload", request, |mut c, r| async move {
            c.room_payload(r).await
        })
        .await?;
    let payload = Arc::new(RoomPayload::from_wire(response)?);
    caches.store_room(Arc::clone(&payload), generation);
    Ok(payload)
}

/// The data of a room. `None` where the service sent `""`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomPayload {
    /// The id.
    pub id: RoomId,
    /// The topic as the service has it (`None` for an unnamed room; see [`Room::topic`]).
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
        let id = non_empty(response.id).ok_or_else(|| Error::InvalidData {
            what: "room payload",
            message: "the room id is empty".into(),
        })?;
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
}

/// A member as [`Room::member_details`] found them. It shares the cached payloads (cloning
/// one copies no text).
///
/// ```no_run
/// # async fn demo(room: wechaty_client::Room) -> wechaty_client::Result<()> {
/// for member in room.member_details(wechaty_client::MemberQuery::All).await? {
///     let shown = member.room_alias().or(member.name()).unwrap_or("?");
///     println!("{} {shown}", member.contact.id());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomMember {
    /// The contact.
    pub contact: Contact,
    /// What the query needed of them.
    payloads: MemberPayloads,
}

impl RoomMember {
    /// Their name (when it was needed and known): the contact's, else the one the room knows.
    pub fn name(&self) -> Option<&str> {
        self.payloads.name()
    }

    /// Their room alias (when it was needed and set).
    pub fn room_alias(&self) -> Option<&str> {
        self.payloads.room_alias()
    }

    /// The alias the bot gave them (when it was needed and set).
    pub fn contact_alias(&self) -> Option<&str> {
        self.payloads.contact_alias()
    }
}

/// Which payload kinds a member query needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PayloadKinds {
    /// Room-member payloads (room alias, the room's name for them).
    pub(crate) member: bool,
    /// Contact payloads (name, the bot's alias for them).
    pub(crate) contact: bool,
}

impl PayloadKinds {
    const CONTACT: Self = Self {
        member: false,
        contact: true,
    };

    /// Whether what was loaded for `self` serves a query that needs `wanted`.
    pub(crate) fn covers(self, wanted: Self) -> bool {
        (self.member || !wanted.member) && (self.contact || !wanted.contact)
    }
}

/// The payloads loaded for one member: shared by the cached listing and every
/// [`RoomMember`] made from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberPayloads {
    member: Option<Arc<RoomMemberPayload>>,
    contact: Option<Arc<ContactPayload>>,
}

impl MemberPayloads {
    fn holds(&self, kinds: PayloadKinds) -> bool {
        let held = PayloadKinds {
            member: self.member.is_some(),
            contact: self.contact.is_some(),
        };
        held.covers(kinds)
    }

    fn name(&self) -> Option<&str> {
        self.contact
            .as_ref()
            .and_then(|payload| payload.name.as_deref())
            .or_else(|| {
                self.member
                    .as_ref()
                    .and_then(|member| member.name.as_deref())
            })
    }

    fn room_alias(&self) -> Option<&str> {
        self.member.as_ref()?.room_alias.as_deref()
    }

    fn contact_alias(&self) -> Option<&str> {
        self.contact.as_ref()?.alias.as_deref()
    }
}

/// A room's members with their payloads, in member order, as a list call returns them.
pub(crate) type MemberListing = Arc<[(ContactId, MemberPayloads)]>;

/// Fields a member must match; every given one must match exactly.
///
/// ```
/// use wechaty_client::RoomMemberQueryFilter;
/// let filter = RoomMemberQueryFilter::default().room_alias("Ali (room nick)");
/// assert_eq!(filter.room_alias.as_deref(), Some("Ali (room nick)"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomMemberQueryFilter {
    /// The member's own name.
    pub name: Option<String>,
    /// Their room alias.
    pub room_alias: Option<String>,
    /// The alias the bot gave them.
    pub contact_alias: Option<String>,
}

impl RoomMemberQueryFilter {
    /// With a name to match.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With a room alias to match.
    pub fn room_alias(mut self, alias: impl Into<String>) -> Self {
        self.room_alias = Some(alias.into());
        self
    }

    /// With a contact alias to match.
    pub fn contact_alias(mut self, alias: impl Into<String>) -> Self {
        self.contact_alias = Some(alias.into());
        self
    }
}

/// Which members [`Room::member_list`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemberQuery {
    /// Everyone.
    All,
    /// Exactly this name, room alias or contact alias (any of them).
    Text(String),
    /// Every given field matches.
    Filter(RoomMemberQueryFilter),
}

impl From<&str> for MemberQuery {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for MemberQuery {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<RoomMemberQueryFilter> for MemberQuery {
    fn from(filter: RoomMemberQueryFilter) -> Self {
        Self::Filter(filter)
    }
}

impl MemberQuery {
    /// Which payload kinds matching needs.
    fn needs(&self) -> PayloadKinds {
        match self {
            Self::All | Self::Text(_) => PayloadKinds {
                member: true,
                contact: true,
            },
            Self::Filter(filter) => PayloadKinds {
                member: filter.name.is_some() || filter.room_alias.is_some(),
                contact: filter.contact_alias.is_some(),
            },
        }
    }

    fn matches(&self, member: &MemberPayloads) -> bool {
        let is = |field: Option<&str>, wanted: &str| field == Some(wanted);
        match self {
            Self::All => true,
            Self::Text(text) => {
                is(member.name(), text)
                    || is(member.room_alias(), text)
                    || is(member.contact_alias(), text)
            }
            Self::Filter(filter) => {
                filter
                    .name
                    .as_deref()
                    .is_none_or(|name| is(member.name(), name))
                    && filter
                        .room_alias
                        .as_deref()
                        .is_none_or(|alias| is(member.room_alias(), alias))
                    && filter
                        .contact_alias
                        .as_deref()
                        .is_none_or(|alias| is(member.contact_alias(), alias))
            }
        }
    }
}

/// An event of one room.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RoomEvent {
    /// Members joined.
    Join(Arc<RoomJoin>),
    /// Members left or were removed.
    Leave(Arc<RoomLeave>),
    /// The topic changed.
    Topic(Arc<RoomTopic>),
    /// The announcement changed.
    Announce(Arc<RoomAnnounce>),
    /// A message in this room (its payload is already loaded).
    Message(Message),
    /// Marker: the Event stream was reopened; events in between were lost.
    Reconnected,
    /// Marker: this subscriber fell behind and missed `missed` events.
    Lagged {
        /// How many it missed.
        missed: u64,
    },
}

/// The stream returned by [`Room::events`]. Dropping the last one of a room removes the room's
/// channel.
pub struct RoomEvents {
    inner: Option<BroadcastStream<RoomSignal>>,
    hub: Arc<Hub>,
    room: RoomId,
    bot: Wechaty,
}

impl fmt::Debug for RoomEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RoomEvents").field(&self.room).finish()
    }
}

impl Stream for RoomEvents {
    type Item = RoomEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RoomEvent>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        Pin::new(inner).poll_next(cx).map(|item| {
            item.map(|result| match result {
                Ok(RoomSignal::Join(join)) => RoomEvent::Join(join),
                Ok(RoomSignal::Leave(leave)) => RoomEvent::Leave(leave),
                Ok(RoomSignal::Topic(topic)) => RoomEvent::Topic(topic),
                Ok(RoomSignal::Announce(announce)) => RoomEvent::Announce(announce),
                Ok(RoomSignal::Message(payload)) => {
                    RoomEvent::Message(Message::with_payload(payload, this.bot.clone()))
                }
                Ok(RoomSignal::Reconnected) => RoomEvent::Reconnected,
                Err(BroadcastStreamRecvError::Lagged(missed)) => RoomEvent::Lagged { missed },
            })
        })
    }
}

impl Drop for RoomEvents {
    fn drop(&mut self) {
        if let Some(receiver) = self.inner.take() {
            drop(receiver);
            self.hub.unsubscribe_room(&self.room);
        }
    }
}
