//! The JSON of what the service sends (`shared/cli.md`): events with their wire name in
//! `type` and the decoded fields in snake_case, messages, contacts, and the human forms of
//! each. Names come from the SDK's types (`Event::name`, `MessageType::name`, …).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use wechaty_client::{
    qr_code_text, qr_code_url, ContactGender, ContactPayload, ContactType, Event, MessagePayload,
    RoomAnnounce, RoomEvent, RoomJoin, RoomLeave, RoomTopic,
};

/// An event as cli.md specifies: the wire name in `type`, decoded fields in snake_case,
/// `timestamp_ms` in Unix milliseconds, absent values `null`.
pub fn event_json(event: &Event) -> Value {
    let mut value = match event {
        Event::Heartbeat { data }
        | Event::Dong { data }
        | Event::Ready { data }
        | Event::Reset { data } => json!({ "data": data }),
        Event::Message { message_id } => json!({ "message_id": message_id }),
        Event::Post { post_id } => json!({ "post_id": post_id }),
        Event::Error(error) => json!({ "code": error.code, "message": error.message }),
        Event::Friendship { friendship_id } => json!({ "friendship_id": friendship_id }),
        Event::RoomInvite { room_invitation_id } => {
            json!({ "room_invitation_id": room_invitation_id })
        }
        Event::RoomJoin(join) => join_json(join),
        Event::RoomLeave(leave) => leave_json(leave),
        Event::RoomTopic(topic) => topic_json(topic),
        Event::RoomAnnounce(announce) => announce_json(announce),
        Event::Scan {
            status,
            qrcode,
            data,
        } => json!({
            "status": status.name(),
            "status_code": status.number(),
            "qrcode": qrcode,
            "url": qrcode.as_deref().map(qr_code_url),
            "data": data,
        }),
        Event::Login { contact_id } => json!({ "contact_id": contact_id }),
        Event::Logout { contact_id, data } => json!({ "contact_id": contact_id, "data": data }),
        Event::Dirty {
            payload_type,
            payload_id,
        } => json!({ "payload_type": payload_type.number(), "payload_id": payload_id }),
        Event::Unknown { kind, payload } => json!({ "kind": kind, "payload": payload }),
        Event::Lagged { missed } => json!({ "missed": missed }),
        Event::Malformed { kind, reason } => json!({ "kind": kind, "reason": reason }),
        _ => json!({}),
    };
    value["type"] = json!(event.name());
    value
}

/// A room's event, with the same keys as the same event from the global stream.
pub fn room_event_json(event: &RoomEvent) -> Value {
    let mut value = match event {
        RoomEvent::Join(join) => join_json(join),
        RoomEvent::Leave(leave) => leave_json(leave),
        RoomEvent::Topic(topic) => topic_json(topic),
        RoomEvent::Announce(announce) => announce_json(announce),
        RoomEvent::Message(message) => json!({ "message_id": message.id() }),
        RoomEvent::Lagged { missed } => json!({ "missed": missed }),
        _ => json!({}),
    };
    value["type"] = json!(event.name());
    value
}

/// A message's payload as `message ID` prints it: exactly cli.md's keys, `type` in
/// kebab-case (`MessageType::name`), absent values `null`, the time in Unix milliseconds.
pub fn message_json(payload: &MessagePayload) -> Value {
    json!({
        "id": payload.id,
        "type": payload.kind.name(),
        "talker_id": payload.talker_id,
        "listener_id": payload.listener_id,
        "room_id": payload.room_id,
        "text": payload.text,
        "mention_ids": payload.mention_ids,
        "timestamp_ms": payload.date.map(millis),
    })
}

/// A few lines for people (escaped by `Output`): type, id, who to whom or where, and how
/// long ago; then the text (or the file name) and the mentions, when there are any.
pub fn human_message(payload: &MessagePayload, now: SystemTime) -> Vec<String> {
    let mut head = format!(
        "[{}] {} from {}",
        payload.kind.name(),
        payload.id,
        payload
            .talker_id
            .as_ref()
            .map_or("(unknown)", |id| id.as_str())
    );
    match (&payload.room_id, &payload.listener_id) {
        (Some(room), _) => head.push_str(&format!(" in {room}")),
        (None, Some(listener)) => head.push_str(&format!(" to {listener}")),
        (None, None) => {}
    }
    if let Some(date) = payload.date {
        head.push_str(&format!(", {}", ago(now, date)));
    }
    let mut lines = vec![head];
    match (&payload.text, &payload.filename) {
        (Some(text), _) => lines.push(text.clone()),
        (None, Some(name)) => lines.push(format!("file: {name}")),
        (None, None) => {}
    }
    if !payload.mention_ids.is_empty() {
        let ids: Vec<&str> = payload.mention_ids.iter().map(|id| id.as_str()).collect();
        lines.push(format!("mentions: {}", ids.join(", ")));
    }
    lines
}

/// `just now`, `42 s ago`, `5 min ago`, `3 h ago`, `12 d ago`; a time ahead of this clock
/// (another machine's clock) is `just now` too.
fn ago(now: SystemTime, then: SystemTime) -> String {
    let seconds = now.duration_since(then).map_or(0, |age| age.as_secs());
    match seconds {
        0 => "just now".to_owned(),
        1..=99 => format!("{seconds} s ago"),
        100..=5_999 => format!("{} min ago", seconds / 60),
        6_000..=172_799 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// A contact as `contacts` lists it (and `friendship search` prints it).
pub fn contact_json(payload: &ContactPayload) -> Value {
    json!({
        "id": payload.id,
        "name": payload.name,
        "alias": payload.alias,
        "friend": payload.friend,
        "type": contact_type_name(payload.kind),
    })
}

/// One line for people: id, name, (alias), type and whether the contact is a friend.
pub fn human_contact(payload: &ContactPayload) -> String {
    format!(
        "{}  {}{}  {}, {}",
        payload.id,
        payload.name.as_deref().unwrap_or("(no name)"),
        payload
            .alias
            .as_deref()
            .map(|alias| format!(" ({alias})"))
            .unwrap_or_default(),
        contact_type_name(payload.kind),
        if payload.friend {
            "friend"
        } else {
            "not a friend"
        }
    )
}

/// The whole payload, as `contact QUERY info` prints it: the payload's fields in snake_case,
/// in this order (people read them one per line).
pub fn contact_info_fields(payload: &ContactPayload) -> Vec<(&'static str, Value)> {
    vec![
        ("id", json!(payload.id)),
        ("name", json!(payload.name)),
        ("alias", json!(payload.alias)),
        ("type", json!(contact_type_name(payload.kind))),
        ("friend", json!(payload.friend)),
        ("gender", json!(gender_name(payload.gender))),
        ("handle", json!(payload.handle)),
        ("phones", json!(payload.phones)),
        ("star", json!(payload.star)),
        ("province", json!(payload.province)),
        ("city", json!(payload.city)),
        ("address", json!(payload.address)),
        ("signature", json!(payload.signature)),
        ("avatar", json!(payload.avatar)),
        ("corporation", json!(payload.corporation)),
        ("title", json!(payload.title)),
        ("description", json!(payload.description)),
        ("coworker", json!(payload.coworker)),
    ]
}

/// `key: value` lines of `fields` for people; absent values and empty lists are left out.
pub fn human_fields(fields: &[(&'static str, Value)]) -> Vec<String> {
    fields
        .iter()
        .filter_map(|(key, value)| {
            let shown = match value {
                Value::Null => return None,
                Value::Array(items) if items.is_empty() => return None,
                Value::String(text) => text.clone(),
                Value::Bool(yes) => (if *yes { "yes" } else { "no" }).to_owned(),
                Value::Array(items) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_owned)
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            Some(format!("{key}: {shown}"))
        })
        .collect()
}

/// `personal`, `official`, `corporation` or `unknown` (`shared/cli.md`).
pub fn contact_type_name(kind: ContactType) -> &'static str {
    match kind {
        ContactType::Individual => "personal",
        ContactType::Official => "official",
        ContactType::Corporation => "corporation",
        _ => "unknown",
    }
}

/// `male`, `female` or `unknown`.
fn gender_name(gender: ContactGender) -> &'static str {
    match gender {
        ContactGender::Male => "male",
        ContactGender::Female => "female",
        _ => "unknown",
    }
}

fn millis(date: SystemTime) -> u64 {
    date.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

fn join_json(join: &RoomJoin) -> Value {
    json!({
        "room_id": join.room_id,
        "invitee_ids": join.invitee_ids,
        "inviter_id": join.inviter_id,
        "timestamp_ms": millis(join.date),
    })
}

fn leave_json(leave: &RoomLeave) -> Value {
    json!({
        "room_id": leave.room_id,
        "removee_ids": leave.removee_ids,
        "remover_id": leave.remover_id,
        "timestamp_ms": millis(leave.date),
    })
}

fn topic_json(topic: &RoomTopic) -> Value {
    json!({
        "room_id": topic.room_id,
        "new_topic": topic.new_topic,
        "old_topic": topic.old_topic,
        "changer_id": topic.changer_id,
        "timestamp_ms": millis(topic.date),
    })
}

fn announce_json(announce: &RoomAnnounce) -> Value {
    json!({
        "room_id": announce.room_id,
        "new_announce": announce.new_announce,
        "old_announce": announce.old_announce,
        "changer_id": announce.changer_id,
        "timestamp_ms": millis(announce.date),
    })
}

/// One line for people: the type, then the fields as `key=value`.
pub fn human_event(event: &Value) -> String {
    let mut line = event["type"].as_str().unwrap_or("event").to_owned();
    if let Some(fields) = event.as_object() {
        for (key, value) in fields.iter().filter(|(key, _)| *key != "type") {
            let shown = match value {
                Value::String(text) => text.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            line.push_str(&format!(" {key}={shown}"));
        }
    }
    line
}

/// An event for people: [`human_event`]'s line, below the QR code drawn when the event is a
/// scan asking for one to be scanned.
pub fn human_event_lines(event: &Value) -> Vec<String> {
    let mut lines = match (event["type"].as_str(), event["qrcode"].as_str()) {
        (Some("scan"), Some(qrcode)) if wants_a_scan(&event["status"]) => qr_code_lines(qrcode),
        _ => Vec::new(),
    };
    lines.push(human_event(event));
    lines
}

/// Whether a scan's status (its name, as in the JSON) asks for the QR code to be scanned:
/// waiting, or a status the puppet did not say. Scanned and confirmed carry the same code
/// again, which is not drawn twice.
pub fn wants_a_scan(status: &Value) -> bool {
    matches!(status.as_str(), Some("waiting" | "unknown"))
}

/// The QR code of `content` drawn, one line per row; none when it is too long to draw (the
/// URL still shows it).
pub fn qr_code_lines(content: &str) -> Vec<String> {
    qr_code_text(content)
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use wechaty_client::mock::MockWorld;
    use wechaty_client::{MessageType, ScanStatus};

    #[test]
    fn every_message_type_is_named_in_kebab_case() {
        let names: Vec<&str> = (0..=19)
            .map(|wire| MessageType::from_wire(wire).name())
            .collect();
        assert_eq!(
            names,
            [
                "unknown",
                "attachment",
                "audio",
                "contact",
                "chat-history",
                "emoticon",
                "image",
                "text",
                "location",
                "mini-program",
                "group-note",
                "transfer",
                "red-envelope",
                "recalled",
                "url",
                "video",
                "post",
                "unknown",
                "system",
                "unknown",
            ]
        );
    }

    #[test]
    fn ages_for_people() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ago_by = |seconds| ago(now, now - Duration::from_secs(seconds));
        assert_eq!(ago_by(0), "just now");
        assert_eq!(ago_by(42), "42 s ago");
        assert_eq!(ago_by(300), "5 min ago");
        assert_eq!(ago_by(3 * 3600), "3 h ago");
        assert_eq!(ago_by(12 * 86_400), "12 d ago");
        assert_eq!(ago(now, now + Duration::from_secs(5)), "just now");
    }

    #[test]
    fn a_message_prints_cli_md_keys_and_a_short_block() {
        // The mock's payload is what `MessagePayload` reads off the wire; read it through a
        // bot to stay on the public API.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let world = MockWorld::demo();
            let id = world.receive_mentioning("ann", "r1@chatroom", &["bot"], "standup?");
            let mock = wechaty_client::mock::MockPuppetService::builder()
                .world(world)
                .serve()
                .await
                .unwrap();
            let bot = mock.bot_builder().build().await.unwrap();
            let payload = bot.message(id.as_str()).payload().await.unwrap();
            let value = message_json(&payload);
            let mut keys: Vec<&str> = value
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            let mut expected = [
                "id",
                "type",
                "talker_id",
                "listener_id",
                "room_id",
                "text",
                "mention_ids",
                "timestamp_ms",
            ];
            expected.sort_unstable();
            assert_eq!(keys, expected);
            assert_eq!(value["listener_id"], Value::Null);
            let date = payload.date.unwrap();
            let lines = human_message(&payload, date + Duration::from_secs(2));
            assert_eq!(
                lines,
                [
                    format!("[text] {id} from ann in r1@chatroom, 2 s ago"),
                    "@Wechaty Bot standup?".to_owned(),
                    "mentions: bot".to_owned(),
                ]
            );
            mock.shutdown().await;
        });
    }

    #[test]
    fn names_come_from_the_types_not_from_debug_text() {
        let scan = |status| {
            event_json(&Event::Scan {
                status: ScanStatus::from(status),
                qrcode: None,
                data: None,
            })
        };
        assert_eq!(scan(2)["status"], "waiting");
        // A number this client does not know: named `unknown`, the number kept beside it.
        assert_eq!(scan(7)["status"], "unknown");
        assert_eq!(scan(7)["status_code"], 7);
        assert_eq!(scan(7)["type"], "scan");
        assert_eq!(scan(2)["url"], Value::Null);
        assert_eq!(
            room_event_json(&RoomEvent::Reconnected)["type"],
            "reconnected"
        );
    }

    #[test]
    fn a_scan_shows_its_qr_code_and_page_while_it_waits_for_a_scan() {
        let scan = |status| {
            event_json(&Event::Scan {
                status,
                qrcode: Some("https://login.weixin.qq.com/l/abc==".into()),
                data: None,
            })
        };
        let waiting = scan(ScanStatus::Waiting);
        let url = "https://wechaty.js.org/qrcode/https%3A%2F%2Flogin.weixin.qq.com%2Fl%2Fabc%3D%3D";
        assert_eq!(waiting["url"], url);
        let lines = human_event_lines(&waiting);
        assert!(lines.len() > 10, "{lines:?}");
        assert!(lines[0].chars().all(|c| c == '█'), "{}", lines[0]);
        let last = lines.last().unwrap();
        assert!(
            last.starts_with("scan ") && last.contains(" status=waiting"),
            "{last}"
        );
        assert!(last.contains(&format!("url={url}")), "{last}");
        // Scanned: the same code, not drawn again.
        assert_eq!(human_event_lines(&scan(ScanStatus::Scanned)).len(), 1);
        // Not a scan: one line as before.
        let login = event_json(&Event::Login {
            contact_id: "bot".into(),
        });
        assert_eq!(human_event_lines(&login), ["login contact_id=bot"]);
    }
}
