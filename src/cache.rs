//! In-memory payload caches: rooms, contacts, and per room its member ids, member payloads and
//! last member listing (see [`Caches::listing`]).
//!
//! Bounded (the least recently used entries go first), invalidated by the dispatch task before
//! subscribers see the event: `dirty` with protocol.md §11.3's id semantics (a room-member dirty
//! carries the **room** id and drops all of that room's members), join/leave/topic drop the
//! room, and a reconnect drops everything (events were missed). A fetch that raced with an
//! invalidation does not store its (possibly stale) answer.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::contact::ContactPayload;
use crate::event::{Event, PayloadType};
use crate::ids::{ContactId, RoomId};
use crate::room::{MemberListing, PayloadKinds, RoomMemberPayload, RoomPayload};

/// How many entries each cache keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Room payloads.
    pub rooms: usize,
    /// Contact payloads.
    pub contacts: usize,
    /// Rooms whose member lists (ids and member payloads) are kept.
    pub member_lists: usize,
}

impl Default for CacheLimits {
    /// 10,000 rooms, 100,000 contacts, 1,000 member lists.
    fn default() -> Self {
        Self {
            rooms: 10_000,
            contacts: 100_000,
            member_lists: 1_000,
        }
    }
}

/// A map that forgets its least recently used entries beyond `capacity` (an eighth at a time,
/// so eviction stays cheap on average).
struct Bounded<K, V> {
    map: HashMap<K, (V, u64)>,
    clock: u64,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::new(),
            clock: 0,
            capacity: capacity.max(1),
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn get(&mut self, key: &K) -> Option<&V> {
        let now = self.tick();
        self.map.get_mut(key).map(|(value, used)| {
            *used = now;
            &*value
        })
    }

    fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let now = self.tick();
        if !self.map.contains_key(&key) {
            self.make_room();
        }
        let entry = self.map.entry(key).or_insert_with(|| (make(), now));
        entry.1 = now;
        &mut entry.0
    }

    fn insert(&mut self, key: K, value: V) {
        let now = self.tick();
        if !self.map.contains_key(&key) {
            self.make_room();
        }
        self.map.insert(key, (value, now));
    }

    fn remove(&mut self, key: &K) {
        self.map.remove(key);
    }

    fn clear(&mut self) {
        self.map.clear();
    }

    fn make_room(&mut self) {
        if self.map.len() < self.capacity {
            return;
        }
        let evict = (self.capacity / 8).max(1);
        let mut stamps: Vec<u64> = self.map.values().map(|(_, used)| *used).collect();
        let (_, threshold, _) = stamps.select_nth_unstable(evict - 1);
        let threshold = *threshold;
        self.map.retain(|_, (_, used)| *used > threshold);
    }
}

/// What is known of one room's members.
#[derive(Default)]
pub(crate) struct MemberList {
    pub(crate) ids: Option<Arc<[ContactId]>>,
    pub(crate) payloads: HashMap<ContactId, Arc<RoomMemberPayload>>,
    /// The last full listing, while it holds: dropped with the list (join, leave, topic,
    /// room-member dirty) or when the ids are stored anew; stale once any contact payload was
    /// forgotten since (`contacts_generation`).
    listed: Option<Listed>,
}

struct Listed {
    kinds: PayloadKinds,
    contacts_generation: u64,
    members: MemberListing,
}

pub(crate) struct Caches {
    rooms: Mutex<Bounded<RoomId, Arc<RoomPayload>>>,
    contacts: Mutex<Bounded<ContactId, Arc<ContactPayload>>>,
    members: Mutex<Bounded<RoomId, MemberList>>,
    /// Bumped by every invalidation; fetches store only if it did not move meanwhile.
    generation: AtomicU64,
    /// Bumped when contact payloads are forgotten: listings made before are stale.
    contacts_generation: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Caches {
    pub(crate) fn new(limits: CacheLimits) -> Self {
        Self {
            rooms: Mutex::new(Bounded::new(limits.rooms)),
            contacts: Mutex::new(Bounded::new(limits.contacts)),
            members: Mutex::new(Bounded::new(limits.member_lists)),
            generation: AtomicU64::new(0),
            contacts_generation: AtomicU64::new(0),
        }
    }

    /// Take before a fetch; pass to the `store_*` call after it.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn fresh(&self, generation: u64) -> bool {
        self.generation() == generation
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn room(&self, id: &RoomId) -> Option<Arc<RoomPayload>> {
        lock(&self.rooms).get(id).cloned()
    }

    pub(crate) fn store_room(&self, payload: Arc<RoomPayload>, generation: u64) {
        let mut rooms = lock(&self.rooms);
        if self.fresh(generation) {
            rooms.insert(payload.id.clone(), payload);
        }
    }

    pub(crate) fn contact(&self, id: &ContactId) -> Option<Arc<ContactPayload>> {
        lock(&self.contacts).get(id).cloned()
    }

    pub(crate) fn store_contact(&self, payload: Arc<ContactPayload>, generation: u64) {
        let mut contacts = lock(&self.contacts);
        if self.fresh(generation) {
            contacts.insert(payload.id.clone(), payload);
        }
    }

    /// The cached payloads of `ids`, in order, under one lock.
    pub(crate) fn contacts(&self, ids: &[ContactId]) -> Vec<Option<Arc<ContactPayload>>> {
        let mut contacts = lock(&self.contacts);
        ids.iter().map(|id| contacts.get(id).cloned()).collect()
    }

    /// The cached member payloads of `ids` in `room`, in order, under one lock.
    pub(crate) fn members_of(
        &self,
        room: &RoomId,
        ids: &[ContactId],
    ) -> Vec<Option<Arc<RoomMemberPayload>>> {
        let mut members = lock(&self.members);
        match members.get(room) {
            Some(list) => ids
                .iter()
                .map(|id| list.payloads.get(id).cloned())
                .collect(),
            None => vec![None; ids.len()],
        }
    }

    pub(crate) fn member_ids(&self, room: &RoomId) -> Option<Arc<[ContactId]>> {
        lock(&self.members)
            .get(room)
            .and_then(|list| list.ids.clone())
    }

    pub(crate) fn store_member_ids(&self, room: &RoomId, ids: Arc<[ContactId]>, generation: u64) {
        let mut members = lock(&self.members);
        if self.fresh(generation) {
            let list = members.get_or_insert_with(room.clone(), MemberList::default);
            list.ids = Some(ids);
            list.listed = None;
        }
    }

    /// The room's last listing, if it is still true and has the payload `kinds`.
    pub(crate) fn listing(&self, room: &RoomId, kinds: PayloadKinds) -> Option<MemberListing> {
        let contacts_generation = self.contacts_generation.load(Ordering::Acquire);
        let mut members = lock(&self.members);
        let listed = members.get(room)?.listed.as_ref()?;
        (listed.kinds.covers(kinds) && listed.contacts_generation == contacts_generation)
            .then(|| Arc::clone(&listed.members))
    }

    /// Keeps a listing made from what the caches held at `generation`.
    pub(crate) fn store_listing(
        &self,
        room: &RoomId,
        kinds: PayloadKinds,
        listing: MemberListing,
        generation: u64,
    ) {
        // Read before the freshness check: `forget_contact` bumps `generation` first, so a
        // forget that slips in after the check leaves this listing with an old number.
        let contacts_generation = self.contacts_generation.load(Ordering::Acquire);
        let mut members = lock(&self.members);
        if self.fresh(generation) {
            members
                .get_or_insert_with(room.clone(), MemberList::default)
                .listed = Some(Listed {
                kinds,
                contacts_generation,
                members: listing,
            });
        }
    }

    pub(crate) fn member(
        &self,
        room: &RoomId,
        member: &ContactId,
    ) -> Option<Arc<RoomMemberPayload>> {
        lock(&self.members)
            .get(room)
            .and_then(|list| list.payloads.get(member).cloned())
    }

    pub(crate) fn store_member(
        &self,
        room: &RoomId,
        payload: Arc<RoomMemberPayload>,
        generation: u64,
    ) {
        let mut members = lock(&self.members);
        if self.fresh(generation) {
            members
                .get_or_insert_with(room.clone(), MemberList::default)
                .payloads
                .insert(payload.id.clone(), payload);
        }
    }

    pub(crate) fn forget_room(&self, room: &RoomId) {
        self.bump();
        lock(&self.rooms).remove(room);
        lock(&self.members).remove(room);
    }

    pub(crate) fn forget_members(&self, room: &RoomId) {
        self.bump();
        lock(&self.members).remove(room);
    }

    pub(crate) fn forget_contact(&self, contact: &ContactId) {
        self.bump();
        self.contacts_generation.fetch_add(1, Ordering::AcqRel);
        lock(&self.contacts).remove(contact);
    }

    pub(crate) fn clear(&self) {
        self.bump();
        lock(&self.rooms).clear();
        lock(&self.contacts).clear();
        lock(&self.members).clear();
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
                // Messages, friendships and posts are not cached.
                _ => {}
            },
            Event::RoomJoin(join) => self.forget_room(&join.room_id),
            Event::RoomLeave(leave) => self.forget_room(&leave.room_id),
            Event::RoomTopic(topic) => self.forget_room(&topic.room_id),
            Event::Reconnected => self.clear(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_keeps_the_recently_used() {
        let mut map = Bounded::new(8);
        for i in 0..8 {
            map.insert(i, i);
        }
        // Touch 0 so it counts as recent; inserting 8 evicts one eighth: the oldest, 1.
        assert_eq!(map.get(&0), Some(&0));
        map.insert(8, 8);
        assert!(map.get(&1).is_none());
        assert_eq!(map.get(&0), Some(&0));
        assert_eq!(map.map.len(), 8);
        for i in 9..100 {
            map.insert(i, i);
            assert!(map.map.len() <= 8);
        }
    }

    #[test]
    fn a_fetch_that_raced_an_invalidation_is_not_stored() {
        let caches = Caches::new(CacheLimits::default());
        let room = RoomId::from("r");
        let before = caches.generation();
        caches.forget_room(&room);
        caches.store_member_ids(&room, Arc::from(vec![ContactId::from("a")]), before);
        assert!(caches.member_ids(&room).is_none());
        caches.store_member_ids(
            &room,
            Arc::from(vec![ContactId::from("a")]),
            caches.generation(),
        );
        assert_eq!(caches.member_ids(&room).unwrap().len(), 1);
    }

    #[test]
    fn a_listing_lasts_until_a_contact_is_forgotten_and_serves_poorer_queries() {
        let caches = Caches::new(CacheLimits::default());
        let room = RoomId::from("r");
        let both = PayloadKinds {
            member: true,
            contact: true,
        };
        let contacts = PayloadKinds {
            member: false,
            contact: true,
        };
        let before = caches.generation();
        caches.forget_contact(&ContactId::from("a"));
        caches.store_listing(&room, both, Arc::from(Vec::new()), before);
        assert!(
            caches.listing(&room, both).is_none(),
            "made before the forget"
        );

        caches.store_listing(&room, contacts, Arc::from(Vec::new()), caches.generation());
        assert!(caches.listing(&room, contacts).is_some());
        assert!(
            caches.listing(&room, both).is_none(),
            "lacks member payloads"
        );
        caches.store_listing(&room, both, Arc::from(Vec::new()), caches.generation());
        assert!(caches.listing(&room, contacts).is_some());
        caches.forget_contact(&ContactId::from("b"));
        assert!(caches.listing(&room, both).is_none());
    }
}
