//! Tags in the mock world: a tag is a name and the contacts that have it; it exists while one
//! does, as on a puppet. The Tag RPCs read and change it.

use tonic::Status;

use super::status::no_payload;
use super::world::MockWorld;
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId};

impl MockWorld {
    /// Puts tag `tag` on `contact`, as the bot's `TagContactAdd` does.
    ///
    /// ```
    /// use wechaty_client::mock::MockWorld;
    /// let world = MockWorld::demo();
    /// world.tag_contact("vip", "ann");
    /// assert_eq!(world.tags_of("ann"), ["vip"]);
    /// assert_eq!(world.tags(), ["vip"]);
    /// ```
    pub fn tag_contact(&self, tag: &str, contact: impl Into<ContactId>) {
        self.state()
            .tags
            .entry(tag.to_owned())
            .or_default()
            .insert(contact.into());
    }

    /// Every tag of the account, by name.
    pub fn tags(&self) -> Vec<String> {
        self.state().tags.keys().cloned().collect()
    }

    /// The tags of `contact`, by name.
    pub fn tags_of(&self, contact: impl Into<ContactId>) -> Vec<String> {
        let contact = contact.into();
        self.state()
            .tags
            .iter()
            .filter(|(_, contacts)| contacts.contains(&contact))
            .map(|(tag, _)| tag.clone())
            .collect()
    }
}

fn known_contact(world: &MockWorld, id: &str) -> Result<ContactId, Status> {
    let contact = ContactId::from(id);
    if world.state().contacts.contains_key(&contact) {
        Ok(contact)
    } else {
        Err(no_payload(id))
    }
}

pub(super) fn add(world: &MockWorld, request: pb::TagContactAddRequest) -> Result<(), Status> {
    world.record("TagContactAdd", &request);
    let contact = known_contact(world, &request.contact_id)?;
    world.tag_contact(&request.id, contact);
    Ok(())
}

pub(super) fn remove(
    world: &MockWorld,
    request: pb::TagContactRemoveRequest,
) -> Result<(), Status> {
    world.record("TagContactRemove", &request);
    let contact = known_contact(world, &request.contact_id)?;
    let mut state = world.state();
    let Some(contacts) = state.tags.get_mut(&request.id) else {
        return Err(no_payload(&request.id));
    };
    contacts.remove(&contact);
    if contacts.is_empty() {
        state.tags.remove(&request.id);
    }
    Ok(())
}

pub(super) fn delete(
    world: &MockWorld,
    request: pb::TagContactDeleteRequest,
) -> Result<(), Status> {
    world.record("TagContactDelete", &request);
    match world.state().tags.remove(&request.id) {
        Some(_) => Ok(()),
        None => Err(no_payload(&request.id)),
    }
}

/// Every tag, or (with a contact id, in the field or the old wrapper) that contact's.
#[allow(deprecated)]
pub(super) fn list(
    world: &MockWorld,
    request: pb::TagContactListRequest,
) -> Result<pb::TagContactListResponse, Status> {
    world.record("TagContactList", &request);
    let contact = non_empty(request.contact_id).or_else(|| {
        request
            .contact_id_string_value_deprecated
            .and_then(non_empty)
    });
    let ids = match contact {
        None => world.tags(),
        Some(id) => world.tags_of(known_contact(world, &id)?),
    };
    Ok(pb::TagContactListResponse { ids })
}
