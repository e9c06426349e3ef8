//! The last contact listing (`ContactList` and every payload), reused while nothing says it
//! changed: finding a contact by name among 50,000 is then a scan of memory, not an RPC that
//! moves every id (20–70 ms on loopback, BENCHMARKS.md).
//!
//! The protocol has no event for "the contact list changed", so a listing is reused only while
//! all of these hold: it is younger than [`CacheLimits::contact_list_ttl`]; no contact was
//! forgotten since it was taken (a contact `dirty`, an edit by the bot, a `sync`: the contact
//! cache's epoch is unchanged); and no event that may add or remove contacts came (a
//! friendship, a login or logout, a reconnect). The age bound covers what no event tells, such
//! as someone deleting the bot.
//!
//! [`CacheLimits::contact_list_ttl`]: crate::CacheLimits::contact_list_ttl

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use super::payload::ContactPayload;

/// A shared listing.
pub(crate) type Listing = Arc<ContactListing>;

/// Every contact's payload, in the service's order, and (built on the first search by text)
/// an index of their ids, names and aliases: a warm `find("Ann")` over 50,000 contacts is a
/// binary search, not 50,000 payloads read from all over the heap (~7 ms, cache misses).
pub(crate) struct ContactListing {
    payloads: Vec<Arc<ContactPayload>>,
    texts: OnceLock<TextIndex>,
}

/// The hash of every id, name and alias with the position of its contact, sorted by hash
/// (16 bytes per text; a random hasher per listing, so names chosen to collide cannot be
/// planned: a collision only costs a comparison).
struct TextIndex {
    hasher: RandomState,
    entries: Vec<(u64, u32)>,
}

impl ContactListing {
    pub(crate) fn new(payloads: Vec<Arc<ContactPayload>>) -> Self {
        Self {
            payloads,
            texts: OnceLock::new(),
        }
    }

    /// The payloads, in the service's order.
    pub(crate) fn payloads(&self) -> &[Arc<ContactPayload>] {
        &self.payloads
    }

    /// The contacts whose id, name or alias may be exactly `text` (a superset: check each),
    /// in the service's order.
    pub(crate) fn with_text(&self, text: &str) -> impl Iterator<Item = &Arc<ContactPayload>> {
        let index = self.texts.get_or_init(|| self.index());
        let hash = index.hasher.hash_one(text);
        let start = index.entries.partition_point(|(entry, _)| *entry < hash);
        let mut positions: Vec<u32> = index.entries[start..]
            .iter()
            .take_while(|(entry, _)| *entry == hash)
            .map(|(_, position)| *position)
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .filter_map(|position| self.payloads.get(position as usize))
    }

    fn index(&self) -> TextIndex {
        let hasher = RandomState::new();
        let mut entries = Vec::with_capacity(self.payloads.len() * 2);
        for (position, payload) in self.payloads.iter().enumerate() {
            let Ok(position) = u32::try_from(position) else {
                break; // more contacts than any account has: the rest are scanned by `matches`
            };
            let texts = [
                Some(payload.id.as_str()),
                payload.name.as_deref(),
                payload.alias.as_deref(),
            ];
            for text in texts.into_iter().flatten() {
                entries.push((hasher.hash_one(text), position));
            }
        }
        entries.sort_unstable();
        TextIndex { hasher, entries }
    }
}

/// The last listing and what it is valid for.
pub(crate) struct ContactDirectory {
    ttl: Duration,
    /// Bumped by events that may change the list itself.
    generation: AtomicU64,
    last: Mutex<Option<Snapshot>>,
}

struct Snapshot {
    taken: Instant,
    /// The contact cache's epoch before the listing was asked for.
    contacts_epoch: u64,
    generation: u64,
    listing: Listing,
}

/// What a listing about to be taken is checked against when it is stored.
#[derive(Clone, Copy)]
pub(crate) struct Stamp {
    taken: Instant,
    contacts_epoch: u64,
    generation: u64,
}

impl ContactDirectory {
    /// `ttl` zero: never reused.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            last: Mutex::new(None),
        }
    }

    /// The last listing, if it still holds (`contacts_epoch`: the contact cache's now).
    pub(crate) fn current(&self, contacts_epoch: u64) -> Option<Listing> {
        let last = self.lock();
        let snapshot = last.as_ref()?;
        let fresh = snapshot.taken.elapsed() < self.ttl
            && snapshot.contacts_epoch == contacts_epoch
            && snapshot.generation == self.generation.load(Ordering::Acquire);
        fresh.then(|| Arc::clone(&snapshot.listing))
    }

    /// Taken before asking the service, so that a change during the listing voids it.
    pub(crate) fn stamp(&self, contacts_epoch: u64) -> Stamp {
        Stamp {
            taken: Instant::now(),
            contacts_epoch,
            generation: self.generation.load(Ordering::Acquire),
        }
    }

    /// Keeps `listing` for reuse (a listing that was voided while it was taken is kept too:
    /// `current` refuses it).
    pub(crate) fn store(&self, stamp: Stamp, listing: Listing) {
        if self.ttl.is_zero() {
            return;
        }
        *self.lock() = Some(Snapshot {
            taken: stamp.taken,
            contacts_epoch: stamp.contacts_epoch,
            generation: stamp.generation,
            listing,
        });
    }

    /// The list itself may have changed (a friendship, a login, a reconnect).
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Snapshot>> {
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ContactId;

    fn listing() -> Listing {
        let payload =
            ContactPayload::from_wire(crate::generated::wechaty::puppet::ContactPayloadResponse {
                id: "ann".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(payload.id, ContactId::from("ann"));
        Arc::new(ContactListing::new(vec![Arc::new(payload)]))
    }

    #[test]
    fn the_text_index_finds_ids_names_and_aliases_in_order() {
        let payload = |id: &str, name: &str, alias: &str| {
            Arc::new(
                ContactPayload::from_wire(
                    crate::generated::wechaty::puppet::ContactPayloadResponse {
                        id: id.into(),
                        name: name.into(),
                        alias: alias.into(),
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        };
        let listing = ContactListing::new(vec![
            payload("a", "Ann", ""),
            payload("b", "Ben", "Ann"),
            payload("c", "c", "c"),
            payload("d", "Dan", ""),
        ]);
        let ids = |text: &str| -> Vec<String> {
            listing.with_text(text).map(|p| p.id.to_string()).collect()
        };
        assert_eq!(ids("Ann"), ["a", "b"], "by name and by alias, in order");
        assert_eq!(ids("c"), ["c"], "once, though id, name and alias all match");
        assert_eq!(ids("d"), ["d"]);
        assert!(ids("nobody").is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn reused_until_it_is_old_a_contact_was_forgotten_or_the_list_may_have_changed() {
        let directory = ContactDirectory::new(Duration::from_secs(30));
        let stamp = directory.stamp(7);
        directory.store(stamp, listing());
        assert!(directory.current(7).is_some());
        assert!(
            directory.current(8).is_none(),
            "a contact was forgotten since"
        );

        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(directory.current(7).is_some());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(directory.current(7).is_none(), "too old");

        directory.store(directory.stamp(7), listing());
        directory.invalidate();
        assert!(directory.current(7).is_none(), "a friendship, a login, …");
    }

    #[tokio::test(start_paused = true)]
    async fn a_listing_voided_while_it_was_taken_is_not_reused() {
        let directory = ContactDirectory::new(Duration::from_secs(30));
        let stamp = directory.stamp(7);
        directory.invalidate(); // a friendship arrives while ContactList is on its way
        directory.store(stamp, listing());
        assert!(directory.current(7).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_ttl_never_reuses() {
        let directory = ContactDirectory::new(Duration::ZERO);
        directory.store(directory.stamp(0), listing());
        assert!(directory.current(0).is_none());
    }
}
