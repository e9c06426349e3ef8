//! The gRPC glue: `wechaty.Puppet` handlers that read and change the [`MockWorld`].

use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use tonic::{Request, Response, Status};

use super::status::{no_payload, node_error};
use super::world::{
    MockAttachment, MockContact, MockInvitation, MockMessage, MockRoom, MockWorld, State,
};
use super::{friendships, messages, tags, wire};
use crate::file_box::FileBoxSource;
use crate::generated::wechaty::puppet as pb;
use crate::generated::wechaty::puppet::EventType;
use crate::generated::wechaty::puppet_server::Puppet;
use crate::ids::MessageId;
use crate::ids::{ContactId, RoomId};
use crate::message::MessageType;
use tokio::io::AsyncWriteExt;
use tokio_stream::StreamExt;

/// A boxed response stream, as the generated server traits take them.
pub(crate) type BoxStream<T> =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

type Reply<T> = Result<Response<T>, Status>;

/// Every mock room's avatar: a 1×1 transparent PNG.
pub(crate) const MOCK_AVATAR_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// The mock PNG as FileBox JSON, inline, so that saving an avatar works offline (real
/// services send URLs).
fn mock_png(name: &str) -> String {
    json!({
        "type": 1, "boxType": 1, "name": name, "size": MOCK_AVATAR_PNG.len(),
        "metadata": {}, "base64": base64::engine::general_purpose::STANDARD.encode(MOCK_AVATAR_PNG),
    })
    .to_string()
}

/// Pieces a stored file is downloaded in.
const DOWNLOAD_CHUNK: usize = 1024 * 1024;

/// `MessageSend*Response`s and `MessageForwardResponse` carry the id twice.
macro_rules! sent_response {
    ($response:ident, $id:expr) => {{
        #[allow(deprecated)]
        let response = pb::$response {
            id_string_value_deprecated: Some($id.to_string()),
            id: $id.to_string(),
        };
        response
    }};
}

/// The message type a file is sent as, by its extension.
fn file_kind(name: &str) -> MessageType {
    let extension = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "jpg" | "jpeg" | "png" | "gif" | "webp" => MessageType::Image,
        "mp4" | "mov" => MessageType::Video,
        "sil" | "silk" | "mp3" | "amr" => MessageType::Audio,
        _ => MessageType::Attachment,
    }
}

/// The official server sends `ready` this long after the replayed `login`.
const READY_REPLAY_DELAY: Duration = Duration::from_millis(100);

pub(crate) struct MockService {
    world: MockWorld,
}

impl MockService {
    pub(crate) fn new(world: MockWorld) -> Self {
        Self { world }
    }

    /// Counts the call and applies any injected fault.
    async fn enter(&self, rpc: &str) -> Result<(), Status> {
        self.world.count_call(rpc);
        self.world.faults().apply(rpc).await
    }
}

fn find_room<'a>(state: &'a State, id: &str) -> Result<&'a MockRoom, Status> {
    state
        .rooms
        .get(&RoomId::from(id))
        .ok_or_else(|| no_payload(id))
}

fn find_contact<'a>(state: &'a State, id: &str) -> Result<&'a MockContact, Status> {
    state
        .contacts
        .get(&ContactId::from(id))
        .ok_or_else(|| no_payload(id))
}

/// A string field, else the old wrapper beside it; `None` when both are empty.
fn non_empty_or(field: String, wrapper: Option<String>) -> Option<String> {
    Some(field)
        .filter(|value| !value.is_empty())
        .or(wrapper.filter(|value| !value.is_empty()))
}

fn id_strings<'a, T: ToString + 'a>(ids: impl IntoIterator<Item = &'a T>) -> Vec<String> {
    ids.into_iter().map(ToString::to_string).collect()
}

fn contact_payload(contact: &MockContact) -> pb::ContactPayloadResponse {
    pb::ContactPayloadResponse {
        id: contact.id.to_string(),
        r#type: pb::ContactType::Personal as i32,
        name: contact.name.clone(),
        avatar: contact.avatar.clone().unwrap_or_default(),
        alias: contact.alias.clone().unwrap_or_default(),
        friend: contact.friend,
        weixin: contact.handle.clone().unwrap_or_default(),
        phones: contact.phones.clone(),
        corporation: contact.corporation.clone().unwrap_or_default(),
        description: contact.description.clone().unwrap_or_default(),
        signature: contact.signature.clone().unwrap_or_default(),
        ..Default::default()
    }
}

fn room_payload(room: &MockRoom) -> pb::RoomPayloadResponse {
    pb::RoomPayloadResponse {
        id: room.id.to_string(),
        topic: room.topic.clone(),
        avatar: String::new(),
        owner_id: room
            .owner_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        admin_ids: id_strings(&room.admin_ids),
        member_ids: id_strings(&room.member_ids),
        handle: String::new(),
    }
}

#[allow(deprecated)] // the official server fills the deprecated timestamp too
fn message_payload(message: &MockMessage) -> pb::MessagePayloadResponse {
    let ms = message.timestamp_ms;
    let filename = match &message.attachment {
        Some(MockAttachment::File(file)) => file.name.clone(),
        _ => String::new(),
    };
    pb::MessagePayloadResponse {
        id: message.id.to_string(),
        filename,
        text: message.text.clone(),
        timestamp_deprecated: ms,
        r#type: message.kind.to_wire(),
        talker_id: message.talker_id.to_string(),
        room_id: message
            .room_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        listener_id: message
            .listener_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        mention_ids: message
            .mention_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
        receive_time: Some(prost_types::Timestamp {
            seconds: (ms / 1000) as i64,
            nanos: ((ms % 1000) * 1_000_000) as i32,
        }),
    }
}

#[tonic::async_trait]
impl Puppet for MockService {
    async fn start(&self, _: Request<pb::StartRequest>) -> Reply<pb::StartResponse> {
        self.enter("Start").await?;
        self.world.start_puppet();
        Ok(Response::new(pb::StartResponse {}))
    }

    /// Like upstream: ends the Event stream first (status OK, no `logout` event), then stops
    /// the puppet, which stays logged out until `Start`.
    async fn stop(&self, _: Request<pb::StopRequest>) -> Reply<pb::StopResponse> {
        self.enter("Stop").await?;
        self.world.end_event_stream();
        self.world.state().logged_in = false;
        Ok(Response::new(pb::StopResponse {}))
    }

    async fn logout(&self, _: Request<pb::LogoutRequest>) -> Reply<pb::LogoutResponse> {
        self.enter("Logout").await?;
        self.world.logout("logout()");
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn ding(&self, request: Request<pb::DingRequest>) -> Reply<pb::DingResponse> {
        self.enter("Ding").await?;
        let data = request.into_inner().data;
        self.world.emit(EventType::Dong, json!({ "data": data }));
        Ok(Response::new(pb::DingResponse {}))
    }

    async fn version(&self, _: Request<pb::VersionRequest>) -> Reply<pb::VersionResponse> {
        self.enter("Version").await?;
        Ok(Response::new(pb::VersionResponse {
            version: concat!("wechaty-client-mock/", env!("CARGO_PKG_VERSION")).to_owned(),
        }))
    }

    /// One stream at a time; on connect: heartbeat, then login and (shortly after) ready when
    /// the bot is logged in, and the pending scan if there is one (until the login).
    async fn event(&self, _: Request<pb::EventRequest>) -> Reply<BoxStream<pb::EventResponse>> {
        self.enter("Event").await?;
        let hub = self.world.hub().clone();
        let (id, stream) = hub.attach()?;
        let connected = json!({ "data": "Wechaty Puppet gRPC stream connect successfully" });
        hub.emit_to(id, EventType::Heartbeat as i32, connected.to_string());
        if let Some(self_id) = self.world.current_user() {
            let login = json!({ "contactId": self_id }).to_string();
            hub.emit_to(id, EventType::Login as i32, login);
            let hub = hub.clone();
            tokio::spawn(async move {
                tokio::time::sleep(READY_REPLAY_DELAY).await;
                let ready = json!({ "data": "ready" }).to_string();
                hub.emit_to(id, EventType::Ready as i32, ready);
            });
        }
        if let Some(scan) = self.world.scan_replay() {
            hub.emit_to(id, EventType::Scan as i32, scan);
        }
        Ok(Response::new(Box::pin(stream)))
    }

    async fn dirty_payload(
        &self,
        request: Request<pb::DirtyPayloadRequest>,
    ) -> Reply<pb::DirtyPayloadResponse> {
        self.enter("DirtyPayload").await?;
        let request = request.into_inner();
        self.world.record("DirtyPayload", &request);
        self.world.emit(
            EventType::Dirty,
            json!({ "payloadType": request.r#type, "payloadId": request.id }),
        );
        Ok(Response::new(pb::DirtyPayloadResponse {}))
    }

    async fn contact_list(
        &self,
        _: Request<pb::ContactListRequest>,
    ) -> Reply<pb::ContactListResponse> {
        self.enter("ContactList").await?;
        let ids = id_strings(self.world.state().contacts.keys());
        Ok(Response::new(pb::ContactListResponse { ids }))
    }

    async fn contact_payload(
        &self,
        request: Request<pb::ContactPayloadRequest>,
    ) -> Reply<pb::ContactPayloadResponse> {
        self.enter("ContactPayload").await?;
        let id = request.into_inner().id;
        let state = self.world.state();
        Ok(Response::new(contact_payload(find_contact(&state, &id)?)))
    }

    /// Get, or set iff the optional field (or, from old clients, the wrapper) is present: `""`
    /// clears the alias.
    #[allow(deprecated)]
    async fn contact_alias(
        &self,
        request: Request<pb::ContactAliasRequest>,
    ) -> Reply<pb::ContactAliasResponse> {
        self.enter("ContactAlias").await?;
        let request = request.into_inner();
        self.world.record("ContactAlias", &request);
        let current = find_contact(&self.world.state(), &request.id)?
            .alias
            .clone()
            .unwrap_or_default();
        match request.alias.or(request.alias_string_value_deprecated) {
            Some(alias) => {
                self.world
                    .state()
                    .aliases_set
                    .push((ContactId::from(request.id.as_str()), alias.clone()));
                self.world.set_alias(request.id.as_str(), Some(alias));
                Ok(Response::new(pb::ContactAliasResponse::default()))
            }
            None => Ok(Response::new(pb::ContactAliasResponse {
                alias_string_value_deprecated: Some(current.clone()),
                alias: current,
            })),
        }
    }

    async fn contact_phone(
        &self,
        request: Request<pb::ContactPhoneRequest>,
    ) -> Reply<pb::ContactPhoneResponse> {
        self.enter("ContactPhone").await?;
        let request = request.into_inner();
        self.world.record("ContactPhone", &request);
        let id = ContactId::from(request.contact_id.as_str());
        let phones = request.phones.clone();
        if !self
            .world
            .change_contact(&id, |entry| entry.phones = phones)
        {
            return Err(no_payload(&request.contact_id));
        }
        Ok(Response::new(pb::ContactPhoneResponse {
            phones: request.phones,
        }))
    }

    /// The field, or from old clients the wrapper; `""` clears.
    #[allow(deprecated)]
    async fn contact_corporation_remark(
        &self,
        request: Request<pb::ContactCorporationRemarkRequest>,
    ) -> Reply<pb::ContactCorporationRemarkResponse> {
        self.enter("ContactCorporationRemark").await?;
        let request = request.into_inner();
        self.world.record("ContactCorporationRemark", &request);
        let remark = non_empty_or(
            request.corporation_remark,
            request.corporation_remark_string_value_deprecated,
        );
        let id = ContactId::from(request.contact_id.as_str());
        if !self
            .world
            .change_contact(&id, |entry| entry.corporation = remark)
        {
            return Err(no_payload(&request.contact_id));
        }
        Ok(Response::new(pb::ContactCorporationRemarkResponse {}))
    }

    /// The field, or from old clients the wrapper; `""` clears.
    #[allow(deprecated)]
    async fn contact_description(
        &self,
        request: Request<pb::ContactDescriptionRequest>,
    ) -> Reply<pb::ContactDescriptionResponse> {
        self.enter("ContactDescription").await?;
        let request = request.into_inner();
        self.world.record("ContactDescription", &request);
        let description = non_empty_or(
            request.description,
            request.description_string_value_deprecated,
        );
        let id = ContactId::from(request.contact_id.as_str());
        if !self
            .world
            .change_contact(&id, |entry| entry.description = description)
        {
            return Err(no_payload(&request.contact_id));
        }
        Ok(Response::new(pb::ContactDescriptionResponse {}))
    }

    /// Get: the avatar the bot set, else the contact's avatar URL, else the mock PNG inline.
    /// Set (the box present, or from old clients the wrapper): kept for later gets.
    #[allow(deprecated)]
    async fn contact_avatar(
        &self,
        request: Request<pb::ContactAvatarRequest>,
    ) -> Reply<pb::ContactAvatarResponse> {
        self.enter("ContactAvatar").await?;
        let request = request.into_inner();
        self.world.record("ContactAvatar", &request);
        let id = ContactId::from(request.id.as_str());
        let avatar = find_contact(&self.world.state(), &request.id)?
            .avatar
            .clone();
        if let Some(json) = request.file_box.or(request.filebox_string_value_deprecated) {
            wire::file_box(&json).map_err(node_error)?;
            self.world.state().avatars.insert(id.clone(), json);
            self.world.change_contact(&id, |_| {});
            return Ok(Response::new(pb::ContactAvatarResponse::default()));
        }
        let set = self.world.state().avatars.get(&id).cloned();
        let file_box = match (set, avatar) {
            (Some(json), _) => json,
            (None, Some(url)) => json!({
                "type": 2, "boxType": 2, "name": format!("{id}.jpg"), "size": -1,
                "metadata": {}, "url": url, "headers": {},
            })
            .to_string(),
            (None, None) => mock_png(&format!("{id}.png")),
        };
        Ok(Response::new(pb::ContactAvatarResponse {
            file_box: file_box.clone(),
            filebox_string_value_deprecated: Some(file_box),
        }))
    }

    async fn contact_self_qr_code(
        &self,
        _: Request<pb::ContactSelfQrCodeRequest>,
    ) -> Reply<pb::ContactSelfQrCodeResponse> {
        self.enter("ContactSelfQRCode").await?;
        let me = self.world.state().self_id();
        Ok(Response::new(pb::ContactSelfQrCodeResponse {
            qrcode: format!("https://u.wechat.com/mock-{me}"),
        }))
    }

    async fn contact_self_name(
        &self,
        request: Request<pb::ContactSelfNameRequest>,
    ) -> Reply<pb::ContactSelfNameResponse> {
        self.enter("ContactSelfName").await?;
        let request = request.into_inner();
        self.world.record("ContactSelfName", &request);
        let me = self.world.state().self_id();
        self.world
            .change_contact(&me, |entry| entry.name = request.name);
        Ok(Response::new(pb::ContactSelfNameResponse {}))
    }

    async fn contact_self_signature(
        &self,
        request: Request<pb::ContactSelfSignatureRequest>,
    ) -> Reply<pb::ContactSelfSignatureResponse> {
        self.enter("ContactSelfSignature").await?;
        let request = request.into_inner();
        self.world.record("ContactSelfSignature", &request);
        let me = self.world.state().self_id();
        let signature = Some(request.signature).filter(|text| !text.is_empty());
        self.world
            .change_contact(&me, |entry| entry.signature = signature);
        Ok(Response::new(pb::ContactSelfSignatureResponse {}))
    }

    async fn friendship_payload(
        &self,
        request: Request<pb::FriendshipPayloadRequest>,
    ) -> Reply<pb::FriendshipPayloadResponse> {
        self.enter("FriendshipPayload").await?;
        friendships::payload(&self.world, request.into_inner()).map(Response::new)
    }

    async fn friendship_accept(
        &self,
        request: Request<pb::FriendshipAcceptRequest>,
    ) -> Reply<pb::FriendshipAcceptResponse> {
        self.enter("FriendshipAccept").await?;
        friendships::accept(&self.world, request.into_inner())?;
        Ok(Response::new(pb::FriendshipAcceptResponse {}))
    }

    async fn friendship_add(
        &self,
        request: Request<pb::FriendshipAddRequest>,
    ) -> Reply<pb::FriendshipAddResponse> {
        self.enter("FriendshipAdd").await?;
        friendships::add(&self.world, request.into_inner())?;
        Ok(Response::new(pb::FriendshipAddResponse {}))
    }

    #[allow(deprecated)]
    async fn friendship_search_phone(
        &self,
        request: Request<pb::FriendshipSearchPhoneRequest>,
    ) -> Reply<pb::FriendshipSearchPhoneResponse> {
        self.enter("FriendshipSearchPhone").await?;
        let found = friendships::search_phone(&self.world, &request.into_inner().phone);
        Ok(Response::new(pb::FriendshipSearchPhoneResponse {
            contact_id_string_value_deprecated: Some(found.clone()),
            contact_id: found,
        }))
    }

    #[allow(deprecated)]
    async fn friendship_search_handle(
        &self,
        request: Request<pb::FriendshipSearchHandleRequest>,
    ) -> Reply<pb::FriendshipSearchHandleResponse> {
        self.enter("FriendshipSearchHandle").await?;
        let found = friendships::search_handle(&self.world, &request.into_inner().weixin);
        Ok(Response::new(pb::FriendshipSearchHandleResponse {
            contact_id_string_value_deprecated: Some(found.clone()),
            contact_id: found,
        }))
    }

    async fn tag_contact_add(
        &self,
        request: Request<pb::TagContactAddRequest>,
    ) -> Reply<pb::TagContactAddResponse> {
        self.enter("TagContactAdd").await?;
        tags::add(&self.world, request.into_inner())?;
        Ok(Response::new(pb::TagContactAddResponse {}))
    }

    async fn tag_contact_remove(
        &self,
        request: Request<pb::TagContactRemoveRequest>,
    ) -> Reply<pb::TagContactRemoveResponse> {
        self.enter("TagContactRemove").await?;
        tags::remove(&self.world, request.into_inner())?;
        Ok(Response::new(pb::TagContactRemoveResponse {}))
    }

    async fn tag_contact_delete(
        &self,
        request: Request<pb::TagContactDeleteRequest>,
    ) -> Reply<pb::TagContactDeleteResponse> {
        self.enter("TagContactDelete").await?;
        tags::delete(&self.world, request.into_inner())?;
        Ok(Response::new(pb::TagContactDeleteResponse {}))
    }

    async fn tag_contact_list(
        &self,
        request: Request<pb::TagContactListRequest>,
    ) -> Reply<pb::TagContactListResponse> {
        self.enter("TagContactList").await?;
        tags::list(&self.world, request.into_inner()).map(Response::new)
    }

    async fn room_list(&self, _: Request<pb::RoomListRequest>) -> Reply<pb::RoomListResponse> {
        self.enter("RoomList").await?;
        let ids = id_strings(self.world.state().rooms.keys());
        Ok(Response::new(pb::RoomListResponse { ids }))
    }

    async fn room_payload(
        &self,
        request: Request<pb::RoomPayloadRequest>,
    ) -> Reply<pb::RoomPayloadResponse> {
        self.enter("RoomPayload").await?;
        let id = request.into_inner().id;
        let state = self.world.state();
        Ok(Response::new(room_payload(find_room(&state, &id)?)))
    }

    async fn room_member_list(
        &self,
        request: Request<pb::RoomMemberListRequest>,
    ) -> Reply<pb::RoomMemberListResponse> {
        self.enter("RoomMemberList").await?;
        let id = request.into_inner().id;
        let state = self.world.state();
        let member_ids = id_strings(&find_room(&state, &id)?.member_ids);
        Ok(Response::new(pb::RoomMemberListResponse { member_ids }))
    }

    async fn room_member_payload(
        &self,
        request: Request<pb::RoomMemberPayloadRequest>,
    ) -> Reply<pb::RoomMemberPayloadResponse> {
        self.enter("RoomMemberPayload").await?;
        let request = request.into_inner();
        let state = self.world.state();
        let room = find_room(&state, &request.id)?;
        let member = ContactId::from(request.member_id.as_str());
        if !room.member_ids.contains(&member) {
            return Err(node_error(format!(
                "contact({}) is not in the Room({})",
                request.member_id, request.id
            )));
        }
        let contact = find_contact(&state, &request.member_id)?;
        Ok(Response::new(pb::RoomMemberPayloadResponse {
            id: request.member_id,
            room_alias: room.room_aliases.get(&member).cloned().unwrap_or_default(),
            inviter_id: String::new(),
            avatar: contact.avatar.clone().unwrap_or_default(),
            name: contact.name.clone(),
        }))
    }

    async fn message_payload(
        &self,
        request: Request<pb::MessagePayloadRequest>,
    ) -> Reply<pb::MessagePayloadResponse> {
        self.enter("MessagePayload").await?;
        let id = request.into_inner().id;
        let message = self.world.message(&id).ok_or_else(|| no_payload(&id))?;
        Ok(Response::new(message_payload(&message)))
    }

    async fn room_create(
        &self,
        request: Request<pb::RoomCreateRequest>,
    ) -> Reply<pb::RoomCreateResponse> {
        self.enter("RoomCreate").await?;
        let request = request.into_inner();
        self.world.record("RoomCreate", &request);
        {
            let state = self.world.state();
            for id in &request.contact_ids {
                find_contact(&state, id)?;
            }
        }
        let members = request
            .contact_ids
            .into_iter()
            .map(ContactId::from)
            .collect();
        let id = self.world.create_room(members, request.topic);
        Ok(Response::new(pb::RoomCreateResponse { id: id.to_string() }))
    }

    #[allow(deprecated)] // reads the old single field too, as upstream
    async fn room_add(&self, request: Request<pb::RoomAddRequest>) -> Reply<pb::RoomAddResponse> {
        self.enter("RoomAdd").await?;
        let request = request.into_inner();
        self.world.record("RoomAdd", &request);
        let targets = Self::targets(request.contact_id, request.contact_ids)?;
        {
            let state = self.world.state();
            find_room(&state, &request.id)?;
            for id in &targets {
                find_contact(&state, id)?;
            }
        }
        let room = RoomId::from(request.id.as_str());
        let me = self.world.state().self_id();
        // One `room-join` per contact, as the official puppets report adds.
        for id in targets {
            self.world
                .add_members(&room, &[ContactId::from(id)], Some(me.clone()));
        }
        Ok(Response::new(pb::RoomAddResponse {}))
    }

    #[allow(deprecated)] // reads the old single field too, as upstream
    async fn room_del(&self, request: Request<pb::RoomDelRequest>) -> Reply<pb::RoomDelResponse> {
        self.enter("RoomDel").await?;
        let request = request.into_inner();
        self.world.record("RoomDel", &request);
        let targets = Self::targets(request.contact_id, request.contact_ids)?;
        let me = {
            let state = self.world.state();
            for id in &targets {
                Self::member_of(&state, &request.id, id)?;
            }
            state.self_id()
        };
        let room = RoomId::from(request.id.as_str());
        for id in targets {
            self.world
                .remove_members(&room, &[ContactId::from(id)], Some(me.clone()));
        }
        Ok(Response::new(pb::RoomDelResponse {}))
    }

    async fn room_quit(
        &self,
        request: Request<pb::RoomQuitRequest>,
    ) -> Reply<pb::RoomQuitResponse> {
        self.enter("RoomQuit").await?;
        let id = request.into_inner().id;
        let me = {
            let state = self.world.state();
            let me = state.self_id();
            Self::member_of(&state, &id, me.as_str())?;
            me
        };
        self.world.remove_members(
            &RoomId::from(id.as_str()),
            std::slice::from_ref(&me),
            Some(me.clone()),
        );
        Ok(Response::new(pb::RoomQuitResponse {}))
    }

    /// Set iff the optional field (or, from old clients, the wrapper) is present.
    #[allow(deprecated)]
    async fn room_topic(
        &self,
        request: Request<pb::RoomTopicRequest>,
    ) -> Reply<pb::RoomTopicResponse> {
        self.enter("RoomTopic").await?;
        let request = request.into_inner();
        self.world.record("RoomTopic", &request);
        let current = find_room(&self.world.state(), &request.id)?.topic.clone();
        let response = |topic: String| pb::RoomTopicResponse {
            topic_string_value_deprecated: Some(topic.clone()),
            topic,
        };
        match request.topic.or(request.topic_string_value_deprecated) {
            Some(topic) => {
                let me = self.world.state().self_id();
                self.world
                    .set_topic(&RoomId::from(request.id.as_str()), topic, Some(me));
                Ok(Response::new(response(String::new())))
            }
            None => Ok(Response::new(response(current))),
        }
    }

    /// Set iff the optional field (or, from old clients, the wrapper) is present.
    #[allow(deprecated)]
    async fn room_announce(
        &self,
        request: Request<pb::RoomAnnounceRequest>,
    ) -> Reply<pb::RoomAnnounceResponse> {
        self.enter("RoomAnnounce").await?;
        let request = request.into_inner();
        self.world.record("RoomAnnounce", &request);
        let mut state = self.world.state();
        find_room(&state, &request.id)?;
        let room = state
            .rooms
            .get_mut(&RoomId::from(request.id.as_str()))
            .ok_or_else(|| no_payload(&request.id))?;
        let text = match request.text.or(request.text_string_value_deprecated) {
            Some(text) => {
                room.announce = text;
                String::new()
            }
            None => room.announce.clone(),
        };
        Ok(Response::new(pb::RoomAnnounceResponse {
            text_string_value_deprecated: Some(text.clone()),
            text,
        }))
    }

    async fn room_qr_code(
        &self,
        request: Request<pb::RoomQrCodeRequest>,
    ) -> Reply<pb::RoomQrCodeResponse> {
        self.enter("RoomQRCode").await?;
        let id = request.into_inner().id;
        find_room(&self.world.state(), &id)?;
        Ok(Response::new(pb::RoomQrCodeResponse {
            qrcode: format!("https://weixin.qq.com/g/mock-{id}"),
        }))
    }

    async fn room_avatar(
        &self,
        request: Request<pb::RoomAvatarRequest>,
    ) -> Reply<pb::RoomAvatarResponse> {
        self.enter("RoomAvatar").await?;
        let id = request.into_inner().id;
        find_room(&self.world.state(), &id)?;
        Ok(Response::new(pb::RoomAvatarResponse {
            file_box: mock_png(&format!("{id}.png")),
        }))
    }

    /// Get, or — with a payload (JSON, camelCase) — set, as upstream.
    #[allow(deprecated)]
    async fn room_invitation_payload(
        &self,
        request: Request<pb::RoomInvitationPayloadRequest>,
    ) -> Reply<pb::RoomInvitationPayloadResponse> {
        self.enter("RoomInvitationPayload").await?;
        let request = request.into_inner();
        self.world.record("RoomInvitationPayload", &request);
        let saved = Some(request.payload)
            .filter(|payload| !payload.is_empty())
            .or(request
                .payload_string_value_deprecated
                .filter(|p| !p.is_empty()));
        if let Some(json) = saved {
            let value: serde_json::Value = serde_json::from_str(&json)
                .map_err(|error| node_error(format!("invalid invitation payload: {error}")))?;
            let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
            let mut state = self.world.state();
            let room = state
                .invitations
                .get(&request.id)
                .map(|known| known.room_id.clone())
                .unwrap_or_else(|| RoomId::from(format!("{}@chatroom", request.id)));
            let mut invitation =
                MockInvitation::new(request.id.clone(), text("inviterId"), room, text("topic"));
            invitation.member_ids = value["memberIdList"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| id.as_str())
                        .map(ContactId::from)
                        .collect()
                })
                .unwrap_or_default();
            invitation.member_count = value["memberCount"].as_u64().unwrap_or(0) as u32;
            invitation.timestamp = value["timestamp"].as_u64().unwrap_or(0);
            state.invitations.insert(request.id, invitation);
            return Ok(Response::new(pb::RoomInvitationPayloadResponse::default()));
        }
        let state = self.world.state();
        let invitation = state
            .invitations
            .get(&request.id)
            .ok_or_else(|| no_payload(&request.id))?;
        let ms = invitation.timestamp;
        Ok(Response::new(pb::RoomInvitationPayloadResponse {
            id: invitation.id.clone(),
            inviter_id: invitation.inviter_id.to_string(),
            topic: invitation.topic.clone(),
            member_count: invitation.member_count as i32,
            member_ids: id_strings(&invitation.member_ids),
            timestamp_uint64_deprecated: ms,
            avatar: String::new(),
            invitation: format!("mock-invitation:{}", invitation.id),
            receiver_id: state.self_id().to_string(),
            // Like upstream: computed as if the number were milliseconds.
            receive_time: Some(prost_types::Timestamp {
                seconds: (ms / 1000) as i64,
                nanos: ((ms % 1000) * 1_000_000) as i32,
            }),
        }))
    }

    async fn room_invitation_accept(
        &self,
        request: Request<pb::RoomInvitationAcceptRequest>,
    ) -> Reply<pb::RoomInvitationAcceptResponse> {
        self.enter("RoomInvitationAccept").await?;
        let id = request.into_inner().id;
        let invitation = self.world.invitation(&id).ok_or_else(|| no_payload(&id))?;
        self.world.accept_invitation(&invitation);
        Ok(Response::new(pb::RoomInvitationAcceptResponse {}))
    }

    async fn message_send_contact(
        &self,
        request: Request<pb::MessageSendContactRequest>,
    ) -> Reply<pb::MessageSendContactResponse> {
        self.enter("MessageSendContact").await?;
        let request = request.into_inner();
        self.world.record("MessageSendContact", &request);
        find_contact(&self.world.state(), &request.contact_id)?;
        let card = MockAttachment::Contact(ContactId::from(request.contact_id.as_str()));
        let id = self.sent(&request.conversation_id, MessageType::Contact, card)?;
        Ok(Response::new(sent_response!(
            MessageSendContactResponse,
            id
        )))
    }

    async fn message_send_file(
        &self,
        request: Request<pb::MessageSendFileRequest>,
    ) -> Reply<pb::MessageSendFileResponse> {
        self.enter("MessageSendFile").await?;
        let request = request.into_inner();
        self.world.record("MessageSendFile", &request);
        let file = wire::file_box(&request.file_box)
            .map_err(|why| node_error(format!("invalid file box: {why}")))?;
        if let FileBoxSource::Uuid(uuid) = &file.source {
            self.world
                .upload_path(uuid)
                .ok_or_else(|| node_error(format!("no uploaded file {uuid}")))?;
        }
        let kind = file_kind(&file.name);
        let id = self.sent(&request.conversation_id, kind, MockAttachment::File(file))?;
        Ok(Response::new(sent_response!(MessageSendFileResponse, id)))
    }

    #[allow(deprecated)] // old clients send JSON in the deprecated field
    async fn message_send_url(
        &self,
        request: Request<pb::MessageSendUrlRequest>,
    ) -> Reply<pb::MessageSendUrlResponse> {
        self.enter("MessageSendUrl").await?;
        let request = request.into_inner();
        self.world.record("MessageSendUrl", &request);
        let link =
            wire::url_link(request.url_link, &request.url_link_deprecated).map_err(node_error)?;
        let id = self.sent(
            &request.conversation_id,
            MessageType::Url,
            MockAttachment::UrlLink(link),
        )?;
        Ok(Response::new(sent_response!(MessageSendUrlResponse, id)))
    }

    #[allow(deprecated)] // old clients send JSON in the deprecated field
    async fn message_send_mini_program(
        &self,
        request: Request<pb::MessageSendMiniProgramRequest>,
    ) -> Reply<pb::MessageSendMiniProgramResponse> {
        self.enter("MessageSendMiniProgram").await?;
        let request = request.into_inner();
        self.world.record("MessageSendMiniProgram", &request);
        let card = wire::mini_program(request.mini_program, &request.mini_program_deprecated)
            .map_err(node_error)?;
        let id = self.sent(
            &request.conversation_id,
            MessageType::MiniProgram,
            MockAttachment::MiniProgram(card),
        )?;
        Ok(Response::new(sent_response!(
            MessageSendMiniProgramResponse,
            id
        )))
    }

    #[allow(deprecated)] // the official server fills both id fields
    async fn message_forward(
        &self,
        request: Request<pb::MessageForwardRequest>,
    ) -> Reply<pb::MessageForwardResponse> {
        self.enter("MessageForward").await?;
        let request = request.into_inner();
        self.world.record("MessageForward", &request);
        let original = self
            .world
            .message(&request.message_id)
            .ok_or_else(|| no_payload(&request.message_id))?;
        let id = self.world.record_sent(
            &request.conversation_id,
            original.kind,
            original.text,
            Vec::new(),
            original.attachment,
        );
        Ok(Response::new(sent_response!(MessageForwardResponse, id)))
    }

    async fn message_recall(
        &self,
        request: Request<pb::MessageRecallRequest>,
    ) -> Reply<pb::MessageRecallResponse> {
        self.enter("MessageRecall").await?;
        messages::recall(&self.world, request.into_inner()).map(Response::new)
    }

    async fn message_location(
        &self,
        request: Request<pb::MessageLocationRequest>,
    ) -> Reply<pb::MessageLocationResponse> {
        self.enter("MessageLocation").await?;
        messages::location(&self.world, request.into_inner()).map(Response::new)
    }

    async fn message_send_location(
        &self,
        request: Request<pb::MessageSendLocationRequest>,
    ) -> Reply<pb::MessageSendLocationResponse> {
        self.enter("MessageSendLocation").await?;
        let request = request.into_inner();
        self.conversation_exists(&request.conversation_id)?;
        let id = messages::send_location(&self.world, request)?;
        Ok(Response::new(pb::MessageSendLocationResponse {
            id: id.to_string(),
        }))
    }

    async fn message_file(
        &self,
        request: Request<pb::MessageFileRequest>,
    ) -> Reply<pb::MessageFileResponse> {
        self.enter("MessageFile").await?;
        let file_box = self.attached_file(&request.into_inner().id)?;
        Ok(Response::new(pb::MessageFileResponse { file_box }))
    }

    async fn message_image(
        &self,
        request: Request<pb::MessageImageRequest>,
    ) -> Reply<pb::MessageImageResponse> {
        self.enter("MessageImage").await?;
        let file_box = self.attached_file(&request.into_inner().id)?;
        Ok(Response::new(pb::MessageImageResponse { file_box }))
    }

    async fn message_contact(
        &self,
        request: Request<pb::MessageContactRequest>,
    ) -> Reply<pb::MessageContactResponse> {
        self.enter("MessageContact").await?;
        let id = request.into_inner().id;
        match self.attachment(&id)? {
            Some(MockAttachment::Contact(contact)) => {
                Ok(Response::new(pb::MessageContactResponse {
                    id: contact.to_string(),
                }))
            }
            _ => Err(node_error(format!("message {id} is not a contact card"))),
        }
    }

    #[allow(deprecated)] // the official server fills both fields
    async fn message_url(
        &self,
        request: Request<pb::MessageUrlRequest>,
    ) -> Reply<pb::MessageUrlResponse> {
        self.enter("MessageUrl").await?;
        let id = request.into_inner().id;
        match self.attachment(&id)? {
            Some(MockAttachment::UrlLink(link)) => Ok(Response::new(pb::MessageUrlResponse {
                url_link_deprecated: serde_json::to_string(&link).unwrap_or_default(),
                url_link: Some(link.to_wire()),
            })),
            _ => Err(node_error(format!("message {id} is not a url link"))),
        }
    }

    #[allow(deprecated)] // the official server fills both fields
    async fn message_mini_program(
        &self,
        request: Request<pb::MessageMiniProgramRequest>,
    ) -> Reply<pb::MessageMiniProgramResponse> {
        self.enter("MessageMiniProgram").await?;
        let id = request.into_inner().id;
        match self.attachment(&id)? {
            Some(MockAttachment::MiniProgram(card)) => {
                Ok(Response::new(pb::MessageMiniProgramResponse {
                    mini_program_deprecated: card.to_json(),
                    mini_program: Some(card.to_wire()),
                }))
            }
            _ => Err(node_error(format!("message {id} is not a mini program"))),
        }
    }

    /// Stores the chunks in a file as they come; answers the id to download them by.
    async fn upload(
        &self,
        request: Request<tonic::Streaming<pb::UploadRequest>>,
    ) -> Reply<pb::UploadResponse> {
        self.enter("Upload").await?;
        let mut chunks = request.into_inner();
        let (id, path) = self
            .world
            .new_upload()
            .map_err(|error| node_error(format!("cannot store the upload: {error}")))?;
        let mut file = tokio::fs::File::create(&path)
            .await
            .map_err(|error| node_error(format!("cannot store the upload: {error}")))?;
        while let Some(chunk) = chunks.message().await? {
            file.write_all(&chunk.chunk)
                .await
                .map_err(|error| node_error(format!("cannot store the upload: {error}")))?;
        }
        file.flush()
            .await
            .map_err(|error| node_error(format!("cannot store the upload: {error}")))?;
        Ok(Response::new(pb::UploadResponse { id }))
    }

    /// Streams a stored file back in chunks (it can be downloaded any number of times).
    async fn download(
        &self,
        request: Request<pb::DownloadRequest>,
    ) -> Reply<BoxStream<pb::DownloadResponse>> {
        self.enter("Download").await?;
        let id = request.into_inner().id;
        let path = self.world.upload_path(&id).ok_or_else(|| no_payload(&id))?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|error| node_error(format!("cannot read {id}: {error}")))?;
        let chunks =
            tokio_util::io::ReaderStream::with_capacity(file, DOWNLOAD_CHUNK).map(|chunk| {
                chunk
                    .map(|chunk| pb::DownloadResponse { chunk })
                    .map_err(|error| node_error(format!("cannot read the file: {error}")))
            });
        Ok(Response::new(Box::pin(chunks)))
    }

    #[allow(deprecated)] // the official server fills both id fields
    async fn message_send_text(
        &self,
        request: Request<pb::MessageSendTextRequest>,
    ) -> Reply<pb::MessageSendTextResponse> {
        self.enter("MessageSendText").await?;
        let request = request.into_inner();
        self.world.record("MessageSendText", &request);
        if request.conversation_id.is_empty() {
            return Err(node_error("conversation id is empty"));
        }
        let mentions = request
            .mentional_ids
            .into_iter()
            .map(ContactId::from)
            .collect();
        let id = self.world.record_sent(
            &request.conversation_id,
            MessageType::Text,
            request.text,
            mentions,
            None,
        );
        Ok(Response::new(pb::MessageSendTextResponse {
            id_string_value_deprecated: Some(id.to_string()),
            id: id.to_string(),
        }))
    }
}

/// Helpers the trait methods call.
impl MockService {
    /// Records a message the client sent (after checking its conversation exists).
    fn sent(
        &self,
        conversation: &str,
        kind: MessageType,
        attachment: MockAttachment,
    ) -> Result<MessageId, Status> {
        self.conversation_exists(conversation)?;
        Ok(self.world.record_sent(
            conversation,
            kind,
            String::new(),
            Vec::new(),
            Some(attachment),
        ))
    }

    /// A send's conversation: a room, else a contact, or the official "no payload" error.
    fn conversation_exists(&self, conversation: &str) -> Result<(), Status> {
        let state = self.world.state();
        if !state.rooms.contains_key(&RoomId::from(conversation)) {
            find_contact(&state, conversation)?;
        }
        Ok(())
    }

    /// What a stored message carries.
    fn attachment(&self, id: &str) -> Result<Option<MockAttachment>, Status> {
        Ok(self
            .world
            .message(id)
            .ok_or_else(|| no_payload(id))?
            .attachment)
    }

    /// The FileBox JSON of a message's file.
    fn attached_file(&self, id: &str) -> Result<String, Status> {
        match self.attachment(id)? {
            Some(MockAttachment::File(file)) => file
                .to_json()
                .map_err(|error| node_error(error.to_string())),
            _ => Err(node_error(format!("message {id} has no file"))),
        }
    }

    fn member_of(state: &State, room: &str, contact: &str) -> Result<(), Status> {
        let found = find_room(state, room)?;
        if found.member_ids.contains(&ContactId::from(contact)) {
            Ok(())
        } else {
            Err(node_error(format!(
                "contact({contact}) is not in the Room({room})"
            )))
        }
    }

    /// The contact ids of an add/del request: the newer repeated field, else the old single one.
    fn targets(single: String, many: Vec<String>) -> Result<Vec<String>, Status> {
        let ids: Vec<String> = if many.is_empty() { vec![single] } else { many };
        if ids.iter().any(String::is_empty) {
            return Err(node_error("contact id is empty"));
        }
        Ok(ids)
    }
}
