//! The payloads a bot keeps — rooms, contacts, and per room its members (`room/listing.rs`) —
//! how many of each, and what each event makes them forget.
//!
//! The dispatch task runs [`PayloadCaches::invalidate`] on every event before subscribers see
//! it: `dirty` with protocol.md §11.3's id semantics (a room-member dirty carries the **room**
//! id and drops all of that room's members), join/leave/topic drop that room, and a reconnect
//! drops everything (events were missed); a friendship, login or logout drops the contact
//! listing. Each forget concerns one room or one contact: a fetch
//! in flight for another is never voided (see `cache.rs`).

use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::contact::directory::ContactDirectory;
use crate::contact::payload::ContactCache;
use crate::event::{Event, PayloadType};
use crate::ids::{ContactId, MessageId, RoomId};
use crate::message::payload::MessageCache;
use crate::room::listing::{MemberCache, MemberList};
use crate::room::payload::RoomCache;
use crate::statistics::CacheStatistics;

/// How many forgotten contact ids the contact cache remembers, so a room's listing can tell
/// whether one of its members was among them. Past that many forgets since a listing was last
/// checked, the listing is rebuilt (from the caches: cheap).
const FORGOTTEN_CONTACTS_LOG: usize = 1024;

/// How many entries each cache keeps, and how long the contact list is reused.
///
/// ```
/// use std::time::Duration;
/// use wechaty_client::CacheLimits;
/// let limits = CacheLimits { contacts: 10_000, ..CacheLimits::default() };
/// assert_eq!(limits.rooms, 10_000);
/// // Ask the service for the contact list on every find:
/// let always = CacheLimits { contact_list_ttl: Duration::ZERO, ..CacheLimits::default() };
/// # let _ = always;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Room payloads.
    pub rooms: usize,
    /// Contact payloads.
    pub contacts: usize,
    /// Rooms whose member lists (ids and member payloads) are kept.
    pub member_lists: usize,
    /// Message payloads (read once by a message's accessors; dropped on a message `dirty`).
    pub messages: usize,
    /// Most bytes the caches keep together (payloads as estimated from their text and ids): a
    /// quarter for rooms, 7/16 for contacts, a quarter for member lists, 1/16 for messages.
    /// Whichever bound is reached first, the least recently used entries go.
    pub bytes: usize,
    /// How long `bot.contacts()` reuses its last listing (`ContactList` and the payloads) while
    /// no event says contacts changed: a contact `dirty` or edit, a friendship, a login or
    /// logout, a reconnect each make the next find ask again. The protocol has no event for
    /// every change (someone deleting the bot), so this bounds how stale a listing can be.
    /// Default 30 s; zero asks the service every time.
    pub contact_list_ttl: Duration,
}

impl Default for CacheLimits {
    /// 10,000 rooms, 100,000 contacts, 1,000 member lists, 10,000 messages, 256 MiB; the
    /// contact list reused for 30 s.
    fn default() -> Self {
        Self {
            rooms: 10_000,
            contacts: 100_000,
            member_lists: 1_000,
            messages: 10_000,
            bytes: 256 * 1024 * 1024,
            contact_list_ttl: Duration::from_secs(30),
        }
    }
}

/// The caches of one bot.
pub(crate) struct PayloadCaches {
    pub(crate) rooms: RoomCache,
    pub(crate) contacts: ContactCache,
    pub(crate) members: MemberCache,
    pub(crate) messages: Arc<MessageCache>,
    /// The last contact listing (`contact/directory.rs`).
    pub(crate) contact_list: ContactDirectory,
}

impl PayloadCaches {
    pub(crate) fn new(limits: CacheLimits) -> Self {
        Self {
            rooms: Cache::new(limits.rooms).with_byte_limit(limits.bytes / 4, |room| room.weight()),
            contacts: Cache::with_forget_log(limits.contacts, FORGOTTEN_CONTACTS_LOG)
                .with_byte_limit(limits.bytes / 16 * 7, |contact| contact.weight()),
            members: Cache::new(limits.member_lists)
                .with_byte_limit(limits.bytes / 4, MemberList::weight),
            messages: Arc::new(
                Cache::new(limits.messages)
                    .with_byte_limit(limits.bytes / 16, |message| message.weight()),
            ),
            contact_list: ContactDirectory::new(limits.contact_list_ttl),
        }
    }

    /// Forgets a room: its payload and its members.
    pub(crate) fn forget_room(&self, room: &RoomId) {
        self.rooms.forget(room);
        self.members.forget(room);
    }

    /// Forgets a room's members (ids, member payloads, listing).
    pub(crate) fn forget_members(&self, room: &RoomId) {
        self.members.forget(room);
    }

    /// Forgets a contact's payload (and so every listing that shows it).
    pub(crate) fn forget_contact(&self, contact: &ContactId) {
        self.contacts.forget(contact);
    }

    /// How each cache was used.
    pub(crate) fn statistics(&self) -> CacheStatistics {
        CacheStatistics {
            rooms: self.rooms.usage(),
            contacts: self.contacts.usage(),
            member_lists: self.members.usage(),
            messages: self.messages.usage(),
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        self.rooms.clear();
        self.contacts.clear();
        self.members.clear();
        self.messages.clear();
        self.contact_list.invalidate();
    }

    /// The invalidation hook the dispatch task runs on every event.
    pub(crate) fn invalidate(&self, event: &Event) {
        match event {
            Event::Dirty {
                payload_type,
                payload_id,
            } => match payload_type {
                PayloadType::Room => self.forget_room(&RoomId::from(payload_id.as_str())),
                PayloadType::RoomMember => self.forget_members(&RoomId::from(payload_id.as_str())),
                PayloadType::Contact => self.forget_contact(&ContactId::from(payload_id.as_str())),
                PayloadType::Unspecified => {
                    tracing::warn!(%payload_id, "a dirty event without a payload type")
                }
                PayloadType::Message => self.messages.forget(&MessageId::from(payload_id.as_str())),
                // Friendships and posts are not cached.
                _ => {}
            },
            Event::RoomJoin(join) => self.forget_room(&join.room_id),
            Event::RoomLeave(leave) => self.forget_room(&leave.room_id),
            Event::RoomTopic(topic) => self.forget_room(&topic.room_id),
            Event::Reconnected => self.clear(),
            // Each may add or remove contacts, which no dirty tells.
            Event::Friendship { .. } | Event::Login { .. } | Event::Logout { .. } => {
                self.contact_list.invalidate()
            }
            _ => {}
        }
    }
}
