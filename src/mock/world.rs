//! The mock's state: who the bot is, contacts, rooms with members and room aliases, messages,
//! and a count of the RPCs clients made. Plain data behind one mutex (never held across an
//! await), apart from the gRPC glue.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::path::PathBuf;

use serde_json::json;

use super::faults::Faults;
use super::hub::EventHub;
use crate::event::ScanStatus;
use crate::file_box::{FileBox, FileBoxSource};
use crate::friendship::{FriendshipKind, FriendshipScene};
use crate::generated::wechaty::puppet::EventType;
use crate::ids::{ContactId, MessageId, RoomId};
use crate::location::Location;
use crate::message::MessageType;
use crate::mini_program::MiniProgram;
use crate::url_link::UrlLink;

/// A contact in the mock world.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockContact {
    /// Its id.
    pub id: ContactId,
    /// Its WeChat name.
    pub name: String,
    /// The alias the bot gave it (`None`: no alias).
    pub alias: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// Whether it is the bot's friend.
    pub friend: bool,
    /// Its WeChat handle (the wire field `weixin`).
    pub handle: Option<String>,
    /// The phone numbers the bot noted.
    pub phones: Vec<String>,
    /// The corporation remark the bot noted (WeCom).
    pub corporation: Option<String>,
    /// The description the bot noted.
    pub description: Option<String>,
    /// The signature line it shows.
    pub signature: Option<String>,
}

impl MockContact {
    /// A friend named `name`, without alias or avatar.
    pub fn new(id: impl Into<ContactId>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            alias: None,
            avatar: None,
            friend: true,
            handle: None,
            phones: Vec::new(),
            corporation: None,
            description: None,
            signature: None,
        }
    }

    /// Not (yet) the bot's friend: someone who may send a friend request.
    pub fn stranger(mut self) -> Self {
        self.friend = false;
        self
    }

    /// With a phone number the bot noted (a phone search finds the contact by it).
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phones.push(phone.into());
        self
    }

    /// With the alias the bot gave this contact.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// With a WeChat handle.
    pub fn handle(mut self, handle: impl Into<String>) -> Self {
        self.handle = Some(handle.into());
        self
    }
}

/// A room in the mock world.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockRoom {
    /// Its id.
    pub id: RoomId,
    /// Its topic (`""`: an unnamed room).
    pub topic: String,
    /// The owner.
    pub owner_id: Option<ContactId>,
    /// The admins.
    pub admin_ids: Vec<ContactId>,
    /// The members, in order.
    pub member_ids: Vec<ContactId>,
    /// Room aliases (group nicknames) by member.
    pub room_aliases: HashMap<ContactId, String>,
    /// The announcement.
    pub announce: String,
}

impl MockRoom {
    /// A room with a topic and no members.
    pub fn new(id: impl Into<RoomId>, topic: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            topic: topic.into(),
            owner_id: None,
            admin_ids: Vec::new(),
            member_ids: Vec::new(),
            room_aliases: HashMap::new(),
            announce: String::new(),
        }
    }

    /// With these members.
    pub fn members<I, C>(mut self, members: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<ContactId>,
    {
        self.member_ids = members.into_iter().map(Into::into).collect();
        self
    }

    /// With this owner.
    pub fn owner(mut self, owner: impl Into<ContactId>) -> Self {
        self.owner_id = Some(owner.into());
        self
    }

    /// With a room alias (group nickname) for a member.
    pub fn room_alias(mut self, member: impl Into<ContactId>, alias: impl Into<String>) -> Self {
        self.room_aliases.insert(member.into(), alias.into());
        self
    }
}

/// What a non-text message carries.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MockAttachment {
    /// A file (image, video, audio, attachment…): served by `MessageFile`/`MessageImage`.
    File(FileBox),
    /// A contact card: served by `MessageContact`.
    Contact(ContactId),
    /// A link card: served by `MessageUrl`.
    UrlLink(UrlLink),
    /// A mini program card: served by `MessageMiniProgram`.
    MiniProgram(MiniProgram),
    /// A place: served by `MessageLocation`.
    Location(Location),
}

/// A message stored in the mock world: received by the bot or sent by it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MockMessage {
    /// Its id.
    pub id: MessageId,
    /// Its type.
    pub kind: MessageType,
    /// Its text.
    pub text: String,
    /// Who sent it.
    pub talker_id: ContactId,
    /// Who got it, for direct messages.
    pub listener_id: Option<ContactId>,
    /// The room, for room messages.
    pub room_id: Option<RoomId>,
    /// Mentioned contacts.
    pub mention_ids: Vec<ContactId>,
    /// Unix milliseconds.
    pub timestamp_ms: u64,
    /// What a non-text message carries.
    pub attachment: Option<MockAttachment>,
}

/// An invitation of the bot into a room, in the mock world.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockInvitation {
    /// Its id.
    pub id: String,
    /// Who invites.
    pub inviter_id: ContactId,
    /// The room (created on accept if it does not exist).
    pub room_id: RoomId,
    /// The room's topic.
    pub topic: String,
    /// Members the invitation names.
    pub member_ids: Vec<ContactId>,
    /// How many members the room has.
    pub member_count: u32,
    /// When it was sent: Unix milliseconds (or seconds, as some puppets send).
    pub timestamp: u64,
}

impl MockInvitation {
    /// An invitation from `inviter` into `room` ("topic" `topic`), sent now.
    pub fn new(
        id: impl Into<String>,
        inviter: impl Into<ContactId>,
        room: impl Into<RoomId>,
        topic: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            inviter_id: inviter.into(),
            room_id: room.into(),
            topic: topic.into(),
            member_ids: Vec::new(),
            member_count: 0,
            timestamp: now_ms(),
        }
    }
}

/// A friendship in the mock world.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockFriendship {
    /// Its id (what the `friendship` event carries).
    pub id: String,
    /// The other side (add it to the world, usually as a [`stranger`](super::MockContact::stranger)).
    pub contact_id: ContactId,
    /// The greeting.
    pub hello: String,
    /// Request, confirmation or verification.
    pub kind: FriendshipKind,
    /// How the other side found the bot.
    pub scene: FriendshipScene,
}

impl MockFriendship {
    /// A friend request from `contact`, saying `hello`, found by phone.
    pub fn request(
        id: impl Into<String>,
        contact: impl Into<ContactId>,
        hello: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            contact_id: contact.into(),
            hello: hello.into(),
            kind: FriendshipKind::Receive,
            scene: FriendshipScene::Phone,
        }
    }
}

/// The last `scan` the world emitted since the last login: what a newly opened Event stream
/// gets replayed (`login.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockScan {
    /// Where the login stands.
    pub status: ScanStatus,
    /// The QR code content (`""`: none).
    pub qrcode: String,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) self_id: Option<ContactId>,
    pub(super) logged_in: bool,
    /// The last `scan` since the last login (`login.rs`), replayed to new Event streams.
    pub(super) pending_scan: Option<MockScan>,
    /// Set by `require_scan`: what `Start` on a logged-out world shows instead of logging in.
    pub(super) login_qrcode: Option<String>,
    pub(super) contacts: BTreeMap<ContactId, MockContact>,
    pub(super) rooms: BTreeMap<RoomId, MockRoom>,
    pub(super) messages: HashMap<MessageId, MockMessage>,
    /// Ids of the messages clients sent, in order.
    pub(super) sent: Vec<MessageId>,
    pub(super) calls: HashMap<String, u64>,
    pub(super) last_heartbeat: Option<SystemTime>,
    pub(super) invitations: HashMap<String, MockInvitation>,
    /// Uploaded files: id → where the mock keeps the bytes.
    pub(super) uploads: HashMap<String, PathBuf>,
    /// Requests of the RPCs whose fields tests check, as `Debug` text.
    pub(super) requests: HashMap<String, Vec<String>>,
    /// Friendships by id (`friendships.rs`), and what the bot did with them.
    pub(super) friendships: HashMap<String, MockFriendship>,
    pub(super) accepted_friendship_ids: Vec<String>,
    pub(super) sent_friend_requests: Vec<(ContactId, String)>,
    /// Aliases the bot set with `ContactAlias` (`""`: cleared), in order.
    pub(super) aliases_set: Vec<(ContactId, String)>,
    /// Tags (`tags.rs`): name → the contacts that have it.
    pub(super) tags: BTreeMap<String, BTreeSet<ContactId>>,
    /// Avatars the bot set (FileBox JSON), by contact.
    pub(super) avatars: HashMap<ContactId, String>,
    /// Messages the bot recalled with `MessageRecall`, in order (`messages.rs`).
    pub(super) recalled: Vec<MessageId>,
    next_id: u64,
}

impl State {
    pub(super) fn self_id(&self) -> ContactId {
        self.self_id
            .clone()
            .unwrap_or_else(|| ContactId::from("self"))
    }

    pub(super) fn next_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }
}

struct Shared {
    state: Mutex<State>,
    hub: EventHub,
    faults: Faults,
    /// Uploaded files live here, removed with the world.
    uploads_dir: PathBuf,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.uploads_dir);
    }
}

/// The mock's world. Cheap to clone: clones share the state, so a test keeps a handle while the
/// server serves it.
#[derive(Clone)]
pub struct MockWorld {
    shared: Arc<Shared>,
}

impl fmt::Debug for MockWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("MockWorld")
            .field("self_id", &state.self_id)
            .field("logged_in", &state.logged_in)
            .field("contacts", &state.contacts.len())
            .field("rooms", &state.rooms.len())
            .field("messages", &state.messages.len())
            .finish()
    }
}

impl Default for MockWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl MockWorld {
    /// An empty world: nobody logged in.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                hub: EventHub::default(),
                faults: Faults::default(),
                uploads_dir: std::env::temp_dir().join(format!(
                    "wechaty-mock-{}-{}",
                    std::process::id(),
                    WORLDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                )),
            }),
        }
    }

    /// A small world for demos, examples and tests, with the bot logged in:
    ///
    /// | contact | name | the bot's alias for them |
    /// |---|---|---|
    /// | `bot` (the bot) | Wechaty Bot | – |
    /// | `ann` | Ann | Ann (alias) |
    /// | `ben` | Ben | – |
    /// | `cora` | Cora | – |
    /// | `dan` | Dan | – |
    ///
    /// | room | topic | members | owner | room aliases |
    /// |---|---|---|---|---|
    /// | `r1@chatroom` | Team Room | bot, ann, ben, cora | ann | ann: "Ali (room nick)" |
    /// | `r2@chatroom` | Weekend | bot, ben, dan | bot | – |
    ///
    /// Every contact is the bot's friend; no room has an announcement yet.
    ///
    /// ```
    /// use wechaty_client::mock::MockWorld;
    /// let world = MockWorld::demo();
    /// assert_eq!(world.room("r1@chatroom").unwrap().topic, "Team Room");
    /// assert_eq!(world.current_user().unwrap().as_str(), "bot");
    /// ```
    pub fn demo() -> Self {
        let world = Self::new();
        world.add_contact(MockContact::new("bot", "Wechaty Bot"));
        world.add_contact(MockContact::new("ann", "Ann").alias("Ann (alias)"));
        world.add_contact(MockContact::new("ben", "Ben"));
        world.add_contact(MockContact::new("cora", "Cora"));
        world.add_contact(MockContact::new("dan", "Dan"));
        world.add_room(
            MockRoom::new("r1@chatroom", "Team Room")
                .members(["bot", "ann", "ben", "cora"])
                .owner("ann")
                .room_alias("ann", "Ali (room nick)"),
        );
        world.add_room(
            MockRoom::new("r2@chatroom", "Weekend")
                .members(["bot", "ben", "dan"])
                .owner("bot"),
        );
        world.login("bot");
        world
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn hub(&self) -> &EventHub {
        &self.shared.hub
    }

    pub(super) fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Adds (or replaces) a contact.
    pub fn add_contact(&self, contact: MockContact) {
        self.state().contacts.insert(contact.id.clone(), contact);
    }

    /// A contact, as the world has it now.
    pub fn contact(&self, id: &str) -> Option<MockContact> {
        self.state().contacts.get(&ContactId::from(id)).cloned()
    }

    /// Adds (or replaces) a room. Its members must be contacts for their payloads to resolve.
    pub fn add_room(&self, room: MockRoom) {
        self.state().rooms.insert(room.id.clone(), room);
    }

    /// A copy of a room as it is now.
    pub fn room(&self, id: &str) -> Option<MockRoom> {
        self.state().rooms.get(&RoomId::from(id)).cloned()
    }

    /// Logs the bot in as `contact_id` (the contact should exist) and emits `login`, then
    /// `ready`. A pending scan is over.
    pub fn login(&self, contact_id: impl Into<ContactId>) {
        let contact_id = contact_id.into();
        {
            let mut state = self.state();
            state.self_id = Some(contact_id.clone());
            state.logged_in = true;
            state.pending_scan = None;
        }
        self.emit(EventType::Login, json!({ "contactId": contact_id }));
        self.emit(EventType::Ready, json!({ "data": "ready" }));
    }

    /// Logs the bot out and emits `logout`.
    pub fn logout(&self, reason: &str) {
        let contact_id = {
            let mut state = self.state();
            state.logged_in = false;
            state.self_id.clone()
        };
        if let Some(contact_id) = contact_id {
            self.emit(
                EventType::Logout,
                json!({ "contactId": contact_id, "data": reason }),
            );
        }
    }

    /// The logged-in bot, if any.
    pub fn current_user(&self) -> Option<ContactId> {
        let state = self.state();
        state.logged_in.then(|| state.self_id.clone()).flatten()
    }

    /// Someone sends the bot a text: in `room` when given, else directly. Stores the message
    /// and emits its `message` event. Returns the message id.
    pub fn receive_text(
        &self,
        talker: impl Into<ContactId>,
        room: Option<&str>,
        text: impl Into<String>,
    ) -> MessageId {
        self.receive(talker, room, MessageType::Text, text, None)
    }

    /// Someone sends the bot a message of any type: in `room` when given, else directly. A
    /// file attachment given as bytes or a local file is stored like an upload and served as a
    /// UUID box. Emits the `message` event; returns the message id.
    pub fn receive(
        &self,
        talker: impl Into<ContactId>,
        room: Option<&str>,
        kind: MessageType,
        text: impl Into<String>,
        attachment: Option<MockAttachment>,
    ) -> MessageId {
        let attachment = attachment.map(|attachment| self.stored(attachment));
        let talker = talker.into();
        let listener = if room.is_none() {
            Some(self.state().self_id())
        } else {
            None
        };
        self.add_message(
            talker,
            listener,
            room.map(RoomId::from),
            kind,
            text.into(),
            Vec::new(),
            attachment,
            false,
        )
    }

    /// Bytes and local files in a file attachment become stored uploads.
    fn stored(&self, attachment: MockAttachment) -> MockAttachment {
        let MockAttachment::File(file) = &attachment else {
            return attachment;
        };
        let bytes = match &file.source {
            FileBoxSource::Bytes(bytes) => bytes.to_vec(),
            FileBoxSource::File(path) => std::fs::read(path).unwrap_or_default(),
            _ => return attachment,
        };
        match self.store_upload(&bytes) {
            Ok(uuid) => {
                let mut stored = FileBox::from_uuid(uuid, file.name.clone());
                stored.size = Some(bytes.len() as u64);
                MockAttachment::File(stored)
            }
            Err(error) => {
                tracing::warn!(%error, "the mock cannot store an attachment");
                attachment
            }
        }
    }

    /// Stores a message and emits its `message` event.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_message(
        &self,
        talker_id: ContactId,
        listener_id: Option<ContactId>,
        room_id: Option<RoomId>,
        kind: MessageType,
        text: String,
        mention_ids: Vec<ContactId>,
        attachment: Option<MockAttachment>,
        sent: bool,
    ) -> MessageId {
        let mut state = self.state();
        let id = MessageId::from(state.next_id("msg"));
        let message = MockMessage {
            id: id.clone(),
            kind,
            text,
            talker_id,
            listener_id,
            room_id,
            mention_ids,
            timestamp_ms: now_ms(),
            attachment,
        };
        state.messages.insert(id.clone(), message);
        if sent {
            state.sent.push(id.clone());
        }
        drop(state);
        self.emit(EventType::Message, json!({ "messageId": id }));
        id
    }

    /// Stores a message a client sent into `conversation_id` (a room or a contact) and emits
    /// its `message` event, as the official server does for the bot's own messages.
    pub(super) fn record_sent(
        &self,
        conversation_id: &str,
        kind: MessageType,
        text: String,
        mention_ids: Vec<ContactId>,
        attachment: Option<MockAttachment>,
    ) -> MessageId {
        let (talker, room_id, listener_id) = {
            let state = self.state();
            let room = RoomId::from(conversation_id);
            if state.rooms.contains_key(&room) {
                (state.self_id(), Some(room), None)
            } else {
                (
                    state.self_id(),
                    None,
                    Some(ContactId::from(conversation_id)),
                )
            }
        };
        self.add_message(
            talker,
            listener_id,
            room_id,
            kind,
            text,
            mention_ids,
            attachment,
            true,
        )
    }

    /// Keeps `bytes` as an uploaded file; returns its id.
    pub(super) fn store_upload(&self, bytes: &[u8]) -> std::io::Result<String> {
        let (id, path) = self.new_upload()?;
        std::fs::write(&path, bytes)?;
        Ok(id)
    }

    /// A fresh upload id and the file that will hold it.
    pub(super) fn new_upload(&self) -> std::io::Result<(String, PathBuf)> {
        std::fs::create_dir_all(&self.shared.uploads_dir)?;
        let mut state = self.state();
        let id = format!(
            "{:08x}-mock-{}",
            std::process::id(),
            state.next_id("upload")
        );
        let path = self.shared.uploads_dir.join(&id);
        state.uploads.insert(id.clone(), path.clone());
        Ok((id, path))
    }

    /// Where an uploaded file is kept.
    pub(super) fn upload_path(&self, id: &str) -> Option<PathBuf> {
        self.state().uploads.get(id).cloned()
    }

    /// The bytes of an uploaded file (for tests; the service streams them with `Download`).
    pub fn uploaded(&self, id: &str) -> Option<Vec<u8>> {
        std::fs::read(self.upload_path(id)?).ok()
    }

    /// Someone invites the bot into a room: stores the invitation, emits `room-invite`.
    pub fn invite(&self, invitation: MockInvitation) {
        let id = invitation.id.clone();
        self.state().invitations.insert(id.clone(), invitation);
        self.emit(EventType::RoomInvite, json!({ "roomInvitationId": id }));
    }

    /// A stored invitation.
    pub fn invitation(&self, id: &str) -> Option<MockInvitation> {
        self.state().invitations.get(id).cloned()
    }

    /// Creates a room of the bot and `members`; returns its id.
    pub(super) fn create_room(&self, members: Vec<ContactId>, topic: String) -> RoomId {
        let mut state = self.state();
        let id = RoomId::from(format!("{}@chatroom", state.next_id("room")));
        let me = state.self_id();
        let mut room = MockRoom::new(id.clone(), topic).owner(me.clone());
        room.member_ids = std::iter::once(me).chain(members).collect();
        state.rooms.insert(id.clone(), room);
        id
    }

    /// `invitees` join `room` (they should be contacts of the world), as a real puppet
    /// reports it: they become members, in order, and a `room-join` names `inviter` when
    /// known. Nothing happens for a room the world does not have.
    ///
    /// ```
    /// # use wechaty_client::mock::MockWorld;
    /// let world = MockWorld::demo();
    /// world.join("r1@chatroom", &["dan"], Some("ann"));
    /// let members = world.room("r1@chatroom").unwrap().member_ids;
    /// assert!(members.iter().any(|id| id.as_str() == "dan"));
    /// ```
    pub fn join(&self, room: &str, invitees: &[&str], inviter: Option<&str>) {
        let invitees: Vec<ContactId> = invitees.iter().map(|id| ContactId::from(*id)).collect();
        self.add_members(&RoomId::from(room), &invitees, inviter.map(ContactId::from));
    }

    /// `leavers` leave `room`, or are removed by `remover` (the leaver themself when they
    /// quit): they stop being members, lose their room alias, and a `room-leave` names them.
    pub fn leave(&self, room: &str, leavers: &[&str], remover: Option<&str>) {
        let leavers: Vec<ContactId> = leavers.iter().map(|id| ContactId::from(*id)).collect();
        self.remove_members(&RoomId::from(room), &leavers, remover.map(ContactId::from));
    }

    /// `changer` renames `room` to `topic`, as a real puppet reports it: `room-topic` with the
    /// old and new topic, then `dirty` for the room's payload.
    pub fn change_topic(&self, room: &str, topic: &str, changer: Option<&str>) {
        self.set_topic(
            &RoomId::from(room),
            topic.to_owned(),
            changer.map(ContactId::from),
        );
    }

    /// Adds members to `room`: `room-join` with `inviter`.
    pub(super) fn add_members(
        &self,
        room: &RoomId,
        invitees: &[ContactId],
        inviter: Option<ContactId>,
    ) {
        {
            let mut state = self.state();
            let Some(room) = state.rooms.get_mut(room) else {
                return;
            };
            for contact in invitees {
                if !room.member_ids.contains(contact) {
                    room.member_ids.push(contact.clone());
                }
            }
        }
        self.emit(
            EventType::RoomJoin,
            json!({ "roomId": room, "inviteeIdList": invitees, "inviterId": inviter, "timestamp": now_ms() }),
        );
    }

    /// Removes members from `room`: `room-leave` with `remover`.
    pub(super) fn remove_members(
        &self,
        room: &RoomId,
        leavers: &[ContactId],
        remover: Option<ContactId>,
    ) {
        {
            let mut state = self.state();
            let Some(room) = state.rooms.get_mut(room) else {
                return;
            };
            room.member_ids.retain(|member| !leavers.contains(member));
            for leaver in leavers {
                room.room_aliases.remove(leaver);
            }
        }
        self.emit(
            EventType::RoomLeave,
            json!({ "roomId": room, "removeeIdList": leavers, "removerId": remover, "timestamp": now_ms() }),
        );
    }

    /// Sets the topic as a real puppet does: `room-topic`, then `dirty` for the room.
    pub(super) fn set_topic(&self, room: &RoomId, topic: String, changer: Option<ContactId>) {
        let old = {
            let mut state = self.state();
            let Some(entry) = state.rooms.get_mut(room) else {
                return;
            };
            std::mem::replace(&mut entry.topic, topic.clone())
        };
        self.emit(
            EventType::RoomTopic,
            json!({ "roomId": room, "newTopic": topic, "oldTopic": old, "changerId": changer, "timestamp": now_ms() }),
        );
        self.emit(
            EventType::Dirty,
            json!({ "payloadType": 3, "payloadId": room }),
        );
    }

    /// Sets (`Some`) or clears (`None`) the alias the bot gives `contact`, as the bot's own
    /// `ContactAlias` does: followed by a contact `dirty`. Unknown contacts are left alone.
    pub fn set_alias(&self, contact: impl Into<ContactId>, alias: Option<String>) {
        self.change_contact(&contact.into(), |entry| {
            entry.alias = alias.filter(|alias| !alias.is_empty());
        });
    }

    /// The aliases the bot set (`ContactAlias`), in order: (contact, alias; `""` cleared it).
    pub fn aliases_set(&self) -> Vec<(ContactId, String)> {
        self.state().aliases_set.clone()
    }

    /// Changes a contact as a puppet does when the bot edits it: the change, then a contact
    /// `dirty`. Whether the contact exists.
    pub(super) fn change_contact(
        &self,
        contact: &ContactId,
        change: impl FnOnce(&mut MockContact),
    ) -> bool {
        {
            let mut state = self.state();
            let Some(entry) = state.contacts.get_mut(contact) else {
                return false;
            };
            change(entry);
        }
        self.emit(
            EventType::Dirty,
            json!({ "payloadType": 2, "payloadId": contact }),
        );
        true
    }

    /// Accepting an invitation: the bot joins the room (created when new): `room-join` with
    /// the bot as invitee.
    pub(super) fn accept_invitation(&self, invitation: &MockInvitation) {
        let me = {
            let mut state = self.state();
            let me = state.self_id();
            let room = state
                .rooms
                .entry(invitation.room_id.clone())
                .or_insert_with(|| {
                    let mut room =
                        MockRoom::new(invitation.room_id.clone(), invitation.topic.clone());
                    room.member_ids = invitation.member_ids.clone();
                    room
                });
            if !room.member_ids.contains(&me) {
                room.member_ids.push(me.clone());
            }
            me
        };
        self.emit(
            EventType::RoomJoin,
            json!({ "roomId": invitation.room_id, "inviteeIdList": [me], "inviterId": invitation.inviter_id, "timestamp": now_ms() }),
        );
    }

    /// The messages clients sent, oldest first.
    pub fn sent_messages(&self) -> Vec<MockMessage> {
        let state = self.state();
        state
            .sent
            .iter()
            .filter_map(|id| state.messages.get(id).cloned())
            .collect()
    }

    /// A stored message.
    pub fn message(&self, id: &str) -> Option<MockMessage> {
        self.state().messages.get(&MessageId::from(id)).cloned()
    }

    /// The requests clients sent to `rpc` (for the RPCs that change things, and
    /// `MessageSendText`), oldest first, in `Debug` form: tests check which fields were set.
    pub fn requests(&self, rpc: &str) -> Vec<String> {
        self.state().requests.get(rpc).cloned().unwrap_or_default()
    }

    pub(super) fn record(&self, rpc: &str, request: &impl fmt::Debug) {
        self.state()
            .requests
            .entry(rpc.to_owned())
            .or_default()
            .push(format!("{request:?}"));
    }

    /// How many times clients called `rpc` (by its method name, e.g. `"RoomPayload"`).
    pub fn calls(&self, rpc: &str) -> u64 {
        self.state().calls.get(rpc).copied().unwrap_or(0)
    }

    /// Sends an event with any type number and payload text, even malformed ones, to the open
    /// Event stream (dropped when none is open, as the official server does).
    pub fn emit_raw(&self, kind: i32, payload: impl Into<String>) {
        self.hub().emit(kind, payload.into());
    }

    /// Events emitted but not yet taken by the client's Event stream (what a feed that must not
    /// outrun the client waits on).
    pub fn pending_events(&self) -> usize {
        self.hub().queued()
    }

    /// Whether a client holds the Event stream.
    pub fn has_event_stream(&self) -> bool {
        self.hub().is_attached()
    }

    /// Ends the open Event stream with status OK, as the official `Stop` does.
    pub fn end_event_stream(&self) {
        self.hub().detach_all();
    }

    /// A silent service keeps the Event stream open but sends nothing on it, not even
    /// heartbeats (a hung puppet); client watchdogs should notice.
    pub fn set_silent(&self, silent: bool) {
        self.hub().set_silent(silent);
    }

    /// Sends an event with a JSON payload to the open Event stream, e.g.
    /// `emit_json(19, json!({"roomId": …, "inviteeIdList": […], …}))` for a `room-join`.
    pub fn emit_json(&self, kind: i32, payload: serde_json::Value) {
        self.hub().emit(kind, payload.to_string());
    }

    /// Ends the open Event stream with an error status, as a failing server would.
    pub fn fail_event_stream(&self, code: tonic::Code, message: &str) {
        self.hub().fail(tonic::Status::new(code, message));
    }

    pub(crate) fn emit(&self, kind: EventType, payload: serde_json::Value) {
        if kind == EventType::Heartbeat {
            self.state().last_heartbeat = Some(SystemTime::now());
        }
        self.hub().emit(kind as i32, payload.to_string());
    }

    pub(super) fn count_call(&self, rpc: &str) {
        *self.state().calls.entry(rpc.to_owned()).or_default() += 1;
    }

    /// The puppet's heartbeat: what keeps the health service `SERVING` and client watchdogs
    /// quiet.
    pub(super) async fn heartbeat_every(self, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            self.emit(EventType::Heartbeat, json!({ "data": "heartbeat" }));
        }
    }
}

/// Numbers the worlds of this process, for their upload folders.
static WORLDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}
