//! Friendships in the mock world: friend requests that arrive, what accepting one does (as a
//! real puppet: the contact becomes a friend, a `friendship` of kind confirm and a contact
//! `dirty` follow), requests the bot sends, searches by phone and handle; and the RPCs.

use serde_json::json;
use tonic::Status;

use super::status::{no_payload, node_error};
use super::world::{MockFriendship, MockWorld};
use crate::friendship::{FriendshipKind, FriendshipPayload};
use crate::generated::wechaty::puppet as pb;
use crate::generated::wechaty::puppet::EventType;
use crate::ids::ContactId;

impl MockWorld {
    /// A friendship event happens (usually a request: [`MockFriendship::request`]): stored,
    /// then `friendship` is emitted.
    ///
    /// ```
    /// use wechaty_client::mock::{MockContact, MockFriendship, MockWorld};
    /// let world = MockWorld::demo();
    /// world.add_contact(MockContact::new("erin", "Erin").stranger());
    /// world.friend_request(MockFriendship::request("f1", "erin", "hi, it's Erin"));
    /// assert_eq!(world.friendship("f1").unwrap().hello, "hi, it's Erin");
    /// ```
    pub fn friend_request(&self, friendship: MockFriendship) {
        let id = friendship.id.clone();
        self.state().friendships.insert(id.clone(), friendship);
        self.emit(EventType::Friendship, json!({ "friendshipId": id }));
    }

    /// A stored friendship.
    pub fn friendship(&self, id: &str) -> Option<MockFriendship> {
        self.state().friendships.get(id).cloned()
    }

    /// The ids of the friendships the bot accepted, in order.
    pub fn accepted_friendships(&self) -> Vec<String> {
        self.state().accepted_friendship_ids.clone()
    }

    /// The friend requests the bot sent: (contact, greeting), in order.
    pub fn friend_requests_sent(&self) -> Vec<(ContactId, String)> {
        self.state().sent_friend_requests.clone()
    }

    /// Accepting, as a real puppet does it: the contact becomes a friend; a `friendship` of
    /// kind confirm (id `ID-confirm`) and a contact `dirty` follow.
    fn accept_friendship(&self, id: &str) -> Result<(), Status> {
        let (contact, confirm) = {
            let mut state = self.state();
            let friendship = state.friendships.get(id).ok_or_else(|| no_payload(id))?;
            if friendship.kind != FriendshipKind::Receive {
                return Err(node_error(format!(
                    "friendship {id} is not a received request"
                )));
            }
            let contact = friendship.contact_id.clone();
            let confirm = MockFriendship {
                id: format!("{id}-confirm"),
                kind: FriendshipKind::Confirm,
                hello: String::new(),
                ..friendship.clone()
            };
            state.accepted_friendship_ids.push(id.to_owned());
            state
                .friendships
                .insert(confirm.id.clone(), confirm.clone());
            (contact, confirm)
        };
        self.change_contact(&contact, |entry| entry.friend = true);
        self.emit(EventType::Friendship, json!({ "friendshipId": confirm.id }));
        Ok(())
    }
}

/// `FriendshipPayload`: get, or — with a payload (wechaty-puppet JSON) — store, as upstream.
#[allow(deprecated)] // reads the wrapper too, as upstream
pub(super) fn payload(
    world: &MockWorld,
    request: pb::FriendshipPayloadRequest,
) -> Result<pb::FriendshipPayloadResponse, Status> {
    world.record("FriendshipPayload", &request);
    let saved = Some(request.payload)
        .filter(|payload| !payload.is_empty())
        .or(request
            .payload_string_value_deprecated
            .filter(|payload| !payload.is_empty()));
    if let Some(json) = saved {
        let saved: FriendshipPayload = serde_json::from_str(&json)
            .map_err(|error| node_error(format!("invalid friendship payload: {error}")))?;
        let friendship = MockFriendship {
            id: request.id.clone(),
            contact_id: saved.contact_id,
            hello: saved.hello.unwrap_or_default(),
            kind: saved.kind,
            scene: saved.scene,
        };
        world.state().friendships.insert(request.id, friendship);
        return Ok(pb::FriendshipPayloadResponse::default());
    }
    world
        .friendship(&request.id)
        .map(|friendship| to_wire(&friendship))
        .ok_or_else(|| no_payload(&request.id))
}

pub(super) fn accept(
    world: &MockWorld,
    request: pb::FriendshipAcceptRequest,
) -> Result<(), Status> {
    world.record("FriendshipAccept", &request);
    world.accept_friendship(&request.id)
}

/// `FriendshipAdd`: recorded; the other side does not answer (a test makes them, with
/// [`MockWorld::friend_request`] of kind confirm).
pub(super) fn add(world: &MockWorld, request: pb::FriendshipAddRequest) -> Result<(), Status> {
    world.record("FriendshipAdd", &request);
    let contact = ContactId::from(request.contact_id.as_str());
    let mut state = world.state();
    if !state.contacts.contains_key(&contact) {
        return Err(no_payload(&request.contact_id));
    }
    state.sent_friend_requests.push((contact, request.hello));
    Ok(())
}

/// The first contact whose noted phone numbers include `phone` (`""`: none).
pub(super) fn search_phone(world: &MockWorld, phone: &str) -> String {
    let state = world.state();
    state
        .contacts
        .values()
        .find(|contact| contact.phones.iter().any(|known| known == phone))
        .map(|contact| contact.id.to_string())
        .unwrap_or_default()
}

/// The contact with this WeChat handle (`""`: none).
pub(super) fn search_handle(world: &MockWorld, handle: &str) -> String {
    let state = world.state();
    state
        .contacts
        .values()
        .find(|contact| contact.handle.as_deref() == Some(handle))
        .map(|contact| contact.id.to_string())
        .unwrap_or_default()
}

fn to_wire(friendship: &MockFriendship) -> pb::FriendshipPayloadResponse {
    pb::FriendshipPayloadResponse {
        id: friendship.id.clone(),
        contact_id: friendship.contact_id.to_string(),
        hello: friendship.hello.clone(),
        r#type: i32::from(friendship.kind),
        stranger: String::new(),
        ticket: format!("mock-ticket:{}", friendship.id),
        scene: i32::from(friendship.scene),
    }
}
