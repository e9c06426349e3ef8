//! What one event looks like in JetStream: its subject, its headers and its stable id. The
//! relay writes it; workers read it. Changing anything here changes the wire between them.
//!
//! Subject: `{STREAM}.{account}.{scope}.{type}.{room}.{partition}`
//!
//! - `account`: [`account_token`] of the service token (never the token itself), or a name set
//!   with `RelayOptions::account`.
//! - `scope`: `state` for the events that change what every worker knows (login, logout, ready,
//!   reset, dirty, room join / leave / topic / announce, friendship), `event` for the rest, so a
//!   worker can follow every `state` event while it handles only its share of the others.
//! - `type`: the event's wire name (`message`, `room-join`, …).
//! - `room`: the room's id as a [`subject_token`], `_` when the event is not in a room.
//! - `partition`: `p0` … `p15`, from the event's conversation (a room, a direct chat, the
//!   session), so one conversation's events share a partition and keep their order.
//!
//! The body is the event's payload exactly as the service sent it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::event::Event;

/// The stream's name when none is given.
pub const DEFAULT_STREAM: &str = "WECHATY";

/// The event's type, its number in the protocol (`EventType`), decimal.
pub const HEADER_TYPE: &str = "Wechaty-Event-Type";
/// The event's stable id, also sent as `Nats-Msg-Id` so JetStream drops a second copy.
pub const HEADER_EVENT_ID: &str = "Wechaty-Event-Id";
/// The room the event belongs to, when it does.
pub const HEADER_ROOM: &str = "Wechaty-Room";
/// Milliseconds since the Unix epoch when the relay received the event.
pub const HEADER_TIMESTAMP: &str = "Wechaty-Timestamp";
/// Set (to `true`) on a `login` or `ready` the service replayed to a relay that reconnected
/// or took over: the account did not log in again. Workers follow it and call no handler.
pub const HEADER_REPLAY: &str = "Wechaty-Replay";

/// The conversation of the events that are about the session (login, logout, ready, scan,
/// errors): one partition, so that they stay in order.
pub(crate) const SESSION: &str = "_session";

/// Partitions of one account's events. Part of the subject layout: relays and workers of one
/// stream must agree on it, so it is fixed.
pub const PARTITIONS: u32 = 16;

/// Ids and room tokens longer than this are replaced by a hash in subjects and event ids.
const MAX_ID_IN_NAME: usize = 128;

/// Whether `name` may be a stream, account, group or worker name: it goes into subjects,
/// consumer names and lease keys, so letters, digits, `-` and `_` only.
pub(crate) fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether an event is one every worker must see (it changes caches or the session).
pub(crate) fn is_state(event: &Event) -> bool {
    matches!(
        event,
        Event::Login { .. }
            | Event::Logout { .. }
            | Event::Ready { .. }
            | Event::Reset { .. }
            | Event::Dirty { .. }
            | Event::RoomJoin(_)
            | Event::RoomLeave(_)
            | Event::RoomTopic(_)
            | Event::RoomAnnounce(_)
            | Event::Friendship { .. }
    )
}

/// A short, stable name for an account: 16 hex digits of a hash of its token. The same token
/// gives the same name in every relay and worker; the name does not give the token back.
pub fn account_token(token: &str) -> String {
    format!("{:016x}", fnv1a(token.as_bytes()))
}

/// `id` as one subject token: NATS subjects split on `.` and treat `*`, `>` and whitespace
/// specially, and a hostile service may send any id. Letters, digits, `-`, `_`, `@` and `=`
/// pass; any other byte becomes `~XX` (hex); an id longer than 128 bytes becomes `#` and a
/// hash of it. Filter one room's events with `{STREAM}.{account}.*.*.{subject_token(room)}.*`.
pub fn subject_token(id: &str) -> String {
    if id.is_empty() {
        return "~".into();
    }
    if id.len() > MAX_ID_IN_NAME {
        return format!("#{:016x}", fnv1a(id.as_bytes()));
    }
    let mut token = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'@' | b'=') {
            token.push(byte as char);
        } else {
            token.push_str(&format!("~{byte:02X}"));
        }
    }
    token
}

/// The partition of a conversation key.
pub(crate) fn partition(conversation: &str) -> u32 {
    (fnv1a(conversation.as_bytes()) % u64::from(PARTITIONS)) as u32
}

/// Makes each event's stable id.
///
/// Events that carry their own identity keep it: a message, a friendship and a room
/// invitation by their id, room joins, leaves, topics and announcements by their room and a
/// hash of their payload (which holds their time). A service that sends one of those twice —
/// around a reconnect, or to two relays in turn — gives JetStream the same id twice, and it
/// keeps one. Every other event (heartbeats, dirty notices, logins, …) gets an id of its own:
/// two identical dirty notices are two invalidations, not one.
pub(crate) struct EventIds {
    /// This relay process, so its ids never meet another's.
    run: u64,
    next: AtomicU64,
}

impl EventIds {
    pub(crate) fn new() -> Self {
        // `RandomState` is seeded from the OS: different in every process.
        let run = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self {
            run,
            next: AtomicU64::new(0),
        }
    }

    /// The id of `event`, whose payload was `payload`.
    pub(crate) fn id(&self, event: &Event, payload: &str) -> String {
        let own = |kind: &str, id: &str| {
            if id.len() > MAX_ID_IN_NAME {
                format!("{kind}:#{:016x}", fnv1a(id.as_bytes()))
            } else {
                format!("{kind}:{id}")
            }
        };
        match event {
            Event::Message { message_id } => own("message", message_id.as_str()),
            Event::Friendship { friendship_id } => own("friendship", friendship_id),
            Event::RoomInvite { room_invitation_id } => own("room-invite", room_invitation_id),
            Event::RoomJoin(_)
            | Event::RoomLeave(_)
            | Event::RoomTopic(_)
            | Event::RoomAnnounce(_) => {
                format!("{}:{:016x}", event.name(), fnv1a(payload.as_bytes()))
            }
            _ => self.unique(event.name()),
        }
    }

    /// An id no other event of any relay has: `{name}:{this relay}-{sequence}`.
    pub(crate) fn unique(&self, name: &str) -> String {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{name}:{:016x}-{seq}", self.run)
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms (std's hashers are not), which names
/// and partitions shared between processes need. Not a defence against anyone.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// `url` without a password or token in it (`nats://user:secret@host` → `nats://user:***@host`).
pub(crate) fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|one| match (one.find("://"), one.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let credentials = &one[scheme + 3..at];
                let user = credentials.split(':').next().unwrap_or("");
                if credentials.contains(':') {
                    format!("{}{user}:***{}", &one[..scheme + 3], &one[at..])
                } else {
                    format!("{}***{}", &one[..scheme + 3], &one[at..])
                }
            }
            _ => one.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event;

    #[test]
    fn subject_tokens_are_safe_and_stable() {
        assert_eq!(subject_token("123@chatroom"), "123@chatroom");
        assert_eq!(subject_token("a.b*c >d"), "a~2Eb~2Ac~20~3Ed");
        assert_eq!(subject_token(""), "~");
        let long = "x".repeat(200);
        assert_eq!(subject_token(&long), subject_token(&long));
        assert!(subject_token(&long).starts_with('#'));
        assert_eq!(subject_token(&long).len(), 17);
        // Distinct ids stay distinct: `~` itself is escaped.
        assert_ne!(subject_token("~2E"), subject_token("."));
    }

    #[test]
    fn the_account_name_is_stable_and_hides_the_token() {
        let name = account_token("puppet_secret_0123");
        assert_eq!(name, account_token("puppet_secret_0123"));
        assert_ne!(name, account_token("puppet_secret_0124"));
        assert_eq!(name.len(), 16);
        assert!(!name.contains("secret"));
    }

    #[test]
    fn partitions_spread_and_repeat() {
        assert_eq!(partition("room-1"), partition("room-1"));
        let used: std::collections::HashSet<u32> =
            (0..200).map(|i| partition(&format!("room-{i}"))).collect();
        assert_eq!(used.len(), PARTITIONS as usize);
    }

    #[test]
    fn events_with_an_identity_keep_it_and_others_are_unique() {
        let ids = EventIds::new();
        let message = event::decode(2, r#"{"messageId":"m1"}"#).expect("a message");
        assert_eq!(ids.id(&message, ""), "message:m1");
        let join_json = r#"{"roomId":"r1","inviteeIdList":["c1"],"inviterId":"c2","timestamp":1}"#;
        let join = event::decode(19, join_json).expect("a join");
        assert_eq!(ids.id(&join, join_json), ids.id(&join, join_json));
        let dirty_json = r#"{"payloadType":2,"payloadId":"c1"}"#;
        let dirty = event::decode(27, dirty_json).expect("a dirty");
        assert_ne!(ids.id(&dirty, dirty_json), ids.id(&dirty, dirty_json));
        // Another relay process never makes the same unique id.
        assert_ne!(
            ids.id(&dirty, dirty_json),
            EventIds::new().id(&dirty, dirty_json)
        );
    }
}
