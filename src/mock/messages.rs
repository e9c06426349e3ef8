//! Messages in the mock world beyond plain text: mentions written as a WeChat client writes
//! them, locations, recalls (by a contact, and by the bot with `MessageRecall`), and the same
//! message delivered twice, as a service does around a reconnect; and their RPCs.

use serde_json::json;
use tonic::Status;

use super::status::{no_payload, node_error};
use super::world::{MockAttachment, MockWorld};
use crate::generated::wechaty::puppet as pb;
use crate::generated::wechaty::puppet::EventType;
use crate::ids::{ContactId, MessageId, RoomId};
use crate::location::Location;
use crate::mention::with_mentions;
use crate::message::MessageType;

impl MockWorld {
    /// `talker` says `text` in `room`, @-mentioning `mentioned`: the text starts with
    /// `@` + room alias (else name) of each, as WeChat writes it, and their ids go in the
    /// payload's `mention_ids`. Returns the message id.
    ///
    /// ```
    /// use wechaty_client::mock::MockWorld;
    /// let world = MockWorld::demo();
    /// let id = world.receive_mentioning("ann", "r1@chatroom", &["bot"], "standup?");
    /// assert_eq!(world.message(id.as_str()).unwrap().mention_ids.len(), 1);
    /// ```
    pub fn receive_mentioning(
        &self,
        talker: impl Into<ContactId>,
        room: &str,
        mentioned: &[&str],
        text: &str,
    ) -> MessageId {
        let (names, ids): (Vec<String>, Vec<ContactId>) = {
            let state = self.state();
            let room = state.rooms.get(&RoomId::from(room));
            mentioned
                .iter()
                .map(|id| {
                    let id = ContactId::from(*id);
                    let alias = room.and_then(|room| room.room_aliases.get(&id)).cloned();
                    let name = state.contacts.get(&id).map(|contact| contact.name.clone());
                    (alias.or(name).unwrap_or_else(|| id.to_string()), id)
                })
                .unzip()
        };
        let text = with_mentions(&names, text);
        self.add_message(
            talker.into(),
            None,
            Some(RoomId::from(room)),
            MessageType::Text,
            text,
            ids,
            None,
            false,
        )
    }

    /// `talker` shares a place: in `room` when given, else directly with the bot.
    pub fn receive_location(
        &self,
        talker: impl Into<ContactId>,
        room: Option<&str>,
        place: Location,
    ) -> MessageId {
        let text = format!("{}\n{}", place.name, place.address);
        self.receive(
            talker,
            room,
            MessageType::Location,
            text,
            Some(MockAttachment::Location(place)),
        )
    }

    /// The talker of `message` takes it back: a recall notice follows in the same
    /// conversation, a [`MessageType::Recalled`] message whose text is the original's id (as
    /// WeChat puppets report it). Returns the notice's id, or `None` for an unknown message.
    pub fn recall_by_talker(&self, message: &str) -> Option<MessageId> {
        let original = self.message(message)?;
        Some(self.add_message(
            original.talker_id,
            original.listener_id,
            original.room_id,
            MessageType::Recalled,
            original.id.to_string(),
            Vec::new(),
            None,
            false,
        ))
    }

    /// Emits the `message` event of a stored message again: the duplicate delivery a service
    /// makes around a reconnect. Returns whether the message exists.
    pub fn redeliver(&self, message: &str) -> bool {
        if self.message(message).is_none() {
            return false;
        }
        self.emit(EventType::Message, json!({ "messageId": message }));
        true
    }

    /// The id of the last message `talker` sent (recall notices aside), if any.
    pub fn last_message_from(&self, talker: &str) -> Option<MessageId> {
        let state = self.state();
        state
            .messages
            .values()
            .filter(|message| {
                message.talker_id.as_str() == talker && message.kind != MessageType::Recalled
            })
            // Ids count up ("msg-7"); the number orders messages of the same millisecond.
            .max_by_key(|message| {
                let number = message
                    .id
                    .as_str()
                    .rsplit('-')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok());
                (message.timestamp_ms, number)
            })
            .map(|message| message.id.clone())
    }

    /// The messages the bot recalled with `MessageRecall`, in order.
    pub fn recalled(&self) -> Vec<MessageId> {
        self.state().recalled.clone()
    }
}

/// `MessageRecall`: the bot may take back its own messages (`success: false` for others').
pub(super) fn recall(
    world: &MockWorld,
    request: pb::MessageRecallRequest,
) -> Result<pb::MessageRecallResponse, Status> {
    world.record("MessageRecall", &request);
    let message = world
        .message(&request.id)
        .ok_or_else(|| no_payload(&request.id))?;
    let mut state = world.state();
    let own = message.talker_id == state.self_id();
    if own {
        state.recalled.push(message.id);
    }
    Ok(pb::MessageRecallResponse { success: own })
}

/// `MessageLocation`: the place of a location message.
pub(super) fn location(
    world: &MockWorld,
    request: pb::MessageLocationRequest,
) -> Result<pb::MessageLocationResponse, Status> {
    let message = world
        .message(&request.id)
        .ok_or_else(|| no_payload(&request.id))?;
    match message.attachment {
        Some(MockAttachment::Location(place)) => Ok(pb::MessageLocationResponse {
            location: Some(place.to_wire()),
        }),
        _ => Err(node_error(format!(
            "message {} is not a location",
            request.id
        ))),
    }
}

/// `MessageSendLocation`: stored as the bot's own location message.
pub(super) fn send_location(
    world: &MockWorld,
    request: pb::MessageSendLocationRequest,
) -> Result<MessageId, Status> {
    world.record("MessageSendLocation", &request);
    let wire = request
        .location
        .ok_or_else(|| node_error("location is required"))?;
    let place = Location::new(wire.name, wire.address, wire.latitude, wire.longitude)
        .accuracy(wire.accuracy);
    let text = format!("{}\n{}", place.name, place.address);
    Ok(world.record_sent(
        &request.conversation_id,
        MessageType::Location,
        text,
        Vec::new(),
        Some(MockAttachment::Location(place)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mention::MENTION_SEPARATOR;
    use crate::mock::MockWorld;

    #[test]
    fn a_mention_is_written_with_the_room_alias_else_the_name() {
        let world = MockWorld::demo();
        let id = world.receive_mentioning("cora", "r1@chatroom", &["ann", "ben"], "hi");
        let message = world.message(id.as_str()).unwrap();
        assert_eq!(
            message.text,
            format!("@Ali (room nick){MENTION_SEPARATOR}@Ben hi")
        );
        assert_eq!(
            message.mention_ids,
            vec![ContactId::from("ann"), ContactId::from("ben")]
        );
    }
}
