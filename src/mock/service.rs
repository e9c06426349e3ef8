//! The gRPC glue: `wechaty.Puppet` handlers that read and change the [`MockWorld`].

use std::pin::Pin;
use std::time::Duration;

use serde_json::json;
use tonic::{Request, Response, Status};

use super::world::{MockContact, MockMessage, MockRoom, MockWorld, State};
use crate::ids::{ContactId, RoomId};
use crate::proto::wechaty::puppet as pb;
use crate::proto::wechaty::puppet::EventType;
use crate::proto::wechaty::puppet_server::Puppet;

/// A boxed response stream, as the generated server traits take them.
pub(crate) type BoxStream<T> =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

type Reply<T> = Result<Response<T>, Status>;

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

/// Errors come back as the official server sends them: `UNKNOWN` with a Node-style message
/// and a stack trace below it.
fn node_error(message: impl std::fmt::Display) -> Status {
    Status::unknown(format!(
        "Error: {message}\n    at MockPuppet (wechaty-client/src/mock/service.rs)"
    ))
}

fn no_payload(id: &str) -> Status {
    node_error(format!("no payload found for id {id}"))
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
    pb::MessagePayloadResponse {
        id: message.id.to_string(),
        filename: String::new(),
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
        let login = {
            let state = self.world.state();
            (!state.logged_in).then(|| state.self_id.clone()).flatten()
        };
        if let Some(self_id) = login {
            self.world.login(self_id);
        }
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
    /// the bot is logged in.
    async fn event(&self, _: Request<pb::EventRequest>) -> Reply<BoxStream<pb::EventResponse>> {
        self.enter("Event").await?;
        let hub = self.world.hub().clone();
        let (id, stream) = hub.attach()?;
        let connected = json!({ "data": "Wechaty Puppet gRPC stream connect successfully" });
        hub.emit_to(id, EventType::Heartbeat as i32, connected.to_string());
        if let Some(self_id) = self.world.current_user() {
            let login = json!({ "contactId": self_id }).to_string();
            hub.emit_to(id, EventType::Login as i32, login);
            tokio::spawn(async move {
                tokio::time::sleep(READY_REPLAY_DELAY).await;
                let ready = json!({ "data": "ready" }).to_string();
                hub.emit_to(id, EventType::Ready as i32, ready);
            });
        }
        Ok(Response::new(Box::pin(stream)))
    }

    async fn dirty_payload(
        &self,
        request: Request<pb::DirtyPayloadRequest>,
    ) -> Reply<pb::DirtyPayloadResponse> {
        self.enter("DirtyPayload").await?;
        let request = request.into_inner();
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

    #[allow(deprecated)] // the official server fills both id fields
    async fn message_send_text(
        &self,
        request: Request<pb::MessageSendTextRequest>,
    ) -> Reply<pb::MessageSendTextResponse> {
        self.enter("MessageSendText").await?;
        let request = request.into_inner();
        if request.conversation_id.is_empty() {
            return Err(node_error("conversation id is empty"));
        }
        let mentions = request
            .mentional_ids
            .into_iter()
            .map(ContactId::from)
            .collect();
        let id = self
            .world
            .record_sent_text(&request.conversation_id, request.text, mentions);
        Ok(Response::new(pb::MessageSendTextResponse {
            id_string_value_deprecated: Some(id.to_string()),
            id: id.to_string(),
        }))
    }
}
