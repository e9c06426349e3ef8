//! One room's members as the caches hold them — their ids, their room-member payloads and the
//! room's last *listing* — and how a listing is read: the last one while it still holds, else
//! built from the cached payloads and completed with concurrent RPCs for what is missing.
//!
//! A listing holds while nothing in it was forgotten: the room's own invalidations (join,
//! leave, topic, room-member dirty) forget the room's whole entry, listing included; a contact
//! dirty forgets one contact, and a listing that shows that contact's payload is then stale
//! (told by the contact cache's log of forgotten ids, so events about other contacts and other
//! rooms leave it alone).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};

use super::payload::{check_member_count, RoomMemberPayload};
use crate::cache::{Cache, Forgotten};
use crate::contact::payload::{self as contact_payload, ContactCache, ContactPayload};
use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;
use crate::ids::{weight_of_ids, ContactId, RoomId};
use crate::transport::Transport;

/// The member lists a bot keeps, by room.
pub(crate) type MemberCache = Cache<RoomId, MemberList>;

/// What is known of one room's members.
#[derive(Default)]
pub(crate) struct MemberList {
    ids: Option<Arc<[ContactId]>>,
    payloads: HashMap<ContactId, Arc<RoomMemberPayload>>,
    /// The last complete listing; replaced when the ids are stored anew.
    listed: Option<Listed>,
}

impl MemberList {
    /// About how many bytes the list holds (for the cache's byte bound). The contact payloads
    /// of a listing count in full although the contact cache may share them: once it has let
    /// them go, the listing alone holds them.
    pub(crate) fn weight(&self) -> usize {
        let pointer = std::mem::size_of::<usize>();
        let ids = self.ids.as_deref().map_or(0, weight_of_ids);
        let payloads: usize = self
            .payloads
            .iter()
            .map(|(id, payload)| id.weight() + 4 * pointer + payload.weight())
            .sum();
        let listed = self.listed.as_ref().map_or(0, |listed| {
            listed
                .members
                .iter()
                .map(|(id, payloads)| {
                    std::mem::size_of::<(ContactId, MemberPayloads)>()
                        + id.weight()
                        + payloads
                            .contact
                            .as_ref()
                            .map_or(0, |contact| contact.weight())
                })
                .sum()
        });
        std::mem::size_of::<Self>() + ids + payloads + listed
    }
}

struct Listed {
    kinds: PayloadKinds,
    /// The contact cache's epoch up to which no contact of this listing was forgotten.
    contacts_epoch: u64,
    members: MemberListing,
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
    /// Contact payloads only.
    pub(crate) const CONTACT: Self = Self {
        member: false,
        contact: true,
    };
    /// Both kinds.
    pub(crate) const BOTH: Self = Self {
        member: true,
        contact: true,
    };

    /// Whether what was loaded for `self` serves a query that needs `wanted`.
    pub(crate) fn covers(self, wanted: Self) -> bool {
        (self.member || !wanted.member) && (self.contact || !wanted.contact)
    }
}

/// The payloads loaded for one member: shared by the kept listing and every `RoomMember` made
/// from it (cloning copies no text).
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

    /// The contact's name, else the one the room knows.
    pub(crate) fn name(&self) -> Option<&str> {
        self.contact
            .as_ref()
            .and_then(|payload| payload.name.as_deref())
            .or_else(|| {
                self.member
                    .as_ref()
                    .and_then(|member| member.name.as_deref())
            })
    }

    pub(crate) fn room_alias(&self) -> Option<&str> {
        self.member.as_ref()?.room_alias.as_deref()
    }

    pub(crate) fn contact_alias(&self) -> Option<&str> {
        self.contact.as_ref()?.alias.as_deref()
    }
}

/// A room's members with their payloads, in member order, as a list call returns them.
pub(crate) type MemberListing = Arc<[(ContactId, MemberPayloads)]>;

/// Everything listing one room's members reads and calls.
pub(crate) struct RoomMembers<'a> {
    pub(crate) room: &'a RoomId,
    pub(crate) members: &'a MemberCache,
    pub(crate) contacts: &'a ContactCache,
    pub(crate) transport: Transport,
    /// Payload lookups in flight at once.
    pub(crate) lookup_limit: usize,
}

impl RoomMembers<'_> {
    /// The member ids: cached, else `RoomMemberList`.
    pub(crate) async fn ids(&self) -> Result<Arc<[ContactId]>> {
        self.members
            .read_through_part(
                self.room,
                |list| list.ids.clone(),
                || async {
                    let request = pb::RoomMemberListRequest {
                        id: self.room.to_string(),
                    };
                    let response = self
                        .transport
                        .unary("RoomMemberList", request, |mut c, r| async move {
                            c.room_member_list(r).await
                        })
                        .await?;
                    check_member_count("member list", response.member_ids.len())?;
                    Ok(response
                        .member_ids
                        .into_iter()
                        .filter(|id| !id.is_empty())
                        .map(ContactId::from)
                        .collect())
                },
                |list, ids| {
                    list.ids = Some(Arc::clone(ids));
                    list.listed = None;
                },
            )
            .await
    }

    /// One member's payload in this room: cached, else `RoomMemberPayload`.
    pub(crate) async fn payload(&self, member: &ContactId) -> Result<Arc<RoomMemberPayload>> {
        self.members
            .read_through_part(
                self.room,
                |list| list.payloads.get(member).cloned(),
                || async {
                    let request = pb::RoomMemberPayloadRequest {
                        id: self.room.to_string(),
                        member_id: member.to_string(),
                    };
                    let response = self
                        .transport
                        .unary("RoomMemberPayload", request, |mut c, r| async move {
                            c.room_member_payload(r).await
                        })
                        .await?;
                    RoomMemberPayload::from_wire(response, member).map(Arc::new)
                },
                |list, payload| {
                    list.payloads
                        .insert(payload.id.clone(), Arc::clone(payload));
                },
            )
            .await
    }

    /// Every member with the payload `kinds` loaded, in member order: the kept listing while
    /// it holds, else built from the payload caches and fetches of what they miss (and kept
    /// in turn). A repeated list so costs no lookup per member.
    pub(crate) async fn listing(&self, kinds: PayloadKinds) -> Result<MemberListing> {
        if let Some(listing) = self.kept_listing(kinds) {
            return Ok(listing);
        }
        // Taken before anything is read: an invalidation of this room meanwhile voids it.
        let ticket = self.members.ticket(self.room);
        let contacts_epoch = self.contacts.epoch();
        let ids = self.ids().await?;
        // Cached members first, under one lock per cache: a warm list costs no task, no
        // future and no lock per member.
        let mut slots = self.cached(&ids, kinds);
        let missing: Vec<usize> = (0..slots.len()).filter(|&at| slots[at].is_none()).collect();
        if !missing.is_empty() {
            let ids = &ids;
            let loaded: Vec<(usize, Result<Option<MemberPayloads>>)> = stream::iter(missing)
                .map(|at| async move { (at, self.load_member(&ids[at], kinds).await) })
                .buffered(self.lookup_limit)
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
            // A contact read from the cache may have been forgotten since.
            let (epoch, forgotten) = self.contacts.forgotten_since(contacts_epoch);
            if still_true(&listing, &forgotten) {
                ticket.update(|list| {
                    list.listed = Some(Listed {
                        kinds,
                        contacts_epoch: epoch,
                        members: Arc::clone(&listing),
                    });
                });
            }
        }
        Ok(listing)
    }

    /// The room's last listing, if it has the payload `kinds` and still holds.
    fn kept_listing(&self, kinds: PayloadKinds) -> Option<MemberListing> {
        // Read the epoch first: a forget that slips in after it is seen next time.
        let now = self.contacts.epoch();
        let (listing, stamped) = self
            .members
            .read(self.room, |list| {
                let listed = list.listed.as_ref()?;
                listed
                    .kinds
                    .covers(kinds)
                    .then(|| (Arc::clone(&listed.members), listed.contacts_epoch))
            })
            .flatten()?;
        if stamped == now {
            return Some(listing);
        }
        // Contacts were forgotten since: the listing holds unless one of them is in it.
        let (epoch, forgotten) = self.contacts.forgotten_since(stamped);
        if !still_true(&listing, &forgotten) {
            return None;
        }
        self.members.modify(self.room, |list| {
            if let Some(listed) = &mut list.listed {
                if Arc::ptr_eq(&listed.members, &listing) {
                    listed.contacts_epoch = epoch;
                }
            }
        });
        Some(listing)
    }

    /// The members whose needed payloads are all cached, in member order; `None` where
    /// something must be fetched.
    fn cached(&self, ids: &[ContactId], kinds: PayloadKinds) -> Vec<Option<MemberPayloads>> {
        let members: Vec<Option<Arc<RoomMemberPayload>>> = match kinds.member {
            true => self
                .members
                .read(self.room, |list| {
                    ids.iter()
                        .map(|id| list.payloads.get(id).cloned())
                        .collect()
                })
                .unwrap_or_else(|| vec![None; ids.len()]),
            false => vec![None; ids.len()],
        };
        let contacts = match kinds.contact {
            true => self.contacts.read_many(ids, Arc::clone),
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
                    true => self.payload(id).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match kinds.contact {
                    true => contact_payload::load_contact(
                        self.contacts,
                        || Ok(self.transport.clone()),
                        id,
                    )
                    .await
                    .map(Some),
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

/// Whether a listing holds after `forgotten` contacts were forgotten.
fn still_true(listing: &MemberListing, forgotten: &Forgotten<ContactId>) -> bool {
    match forgotten {
        Forgotten::All => false,
        Forgotten::Keys(gone) if gone.is_empty() => true,
        Forgotten::Keys(gone) => {
            let gone: HashSet<&ContactId> = gone.iter().collect();
            !listing
                .iter()
                .any(|(id, payloads)| payloads.contact.is_some() && gone.contains(id))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn listing_of(ids: &[&str], with_contacts: bool) -> MemberListing {
        ids.iter()
            .map(|id| {
                let contact = with_contacts.then(|| {
                    Arc::new(
                        ContactPayload::from_wire(pb::ContactPayloadResponse {
                            id: (*id).into(),
                            ..Default::default()
                        })
                        .unwrap(),
                    )
                });
                (
                    ContactId::from(*id),
                    MemberPayloads {
                        member: None,
                        contact,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_listing_holds_unless_one_of_its_contacts_was_forgotten() {
        let listing = listing_of(&["a", "b"], true);
        let keys =
            |ids: &[&str]| Forgotten::Keys(ids.iter().map(|id| ContactId::from(*id)).collect());
        assert!(still_true(&listing, &keys(&[])));
        assert!(still_true(&listing, &keys(&["c", "d"])));
        assert!(!still_true(&listing, &keys(&["c", "b"])));
        assert!(!still_true(&listing, &Forgotten::All));
        // Without contact payloads, contact forgets do not matter.
        assert!(still_true(&listing_of(&["a"], false), &keys(&["a"])));
    }

    #[test]
    fn kinds_cover_poorer_queries() {
        assert!(PayloadKinds::BOTH.covers(PayloadKinds::CONTACT));
        assert!(!PayloadKinds::CONTACT.covers(PayloadKinds::BOTH));
    }
}
