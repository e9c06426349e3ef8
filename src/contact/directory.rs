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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::payload::ContactPayload;

/// Every contact's payload, in the service's order.
pub(crate) type Listing = Arc<[Arc<ContactPayload>]>;

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
        Arc::from(vec![Arc::new(payload)])
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
