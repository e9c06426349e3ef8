//! The entry points of the fuzz targets in `fuzz/` (cargo-fuzz), one per target: each takes
//! the fuzzer's bytes, runs them through the code that reads untrusted input, and panics only
//! when an invariant breaks (a round trip that does not return what it read, an accepted
//! value that should have been refused).
//!
//! Published as `wechaty_client::fuzz` with the `fuzzing` feature; `cargo test` replays the
//! committed corpora (`fuzz/corpus/<target>/`) through the same functions, without a fuzzer.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use prost::Message as _;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::event::{self, Event};
use crate::generated::wechaty::puppet as pb;
use crate::ids::ContactId;
use crate::tls::x509::{format_time, Certificate};
use crate::{
    ContactPayload, FileBox, FriendshipPayload, Location, MessagePayload, MiniProgram,
    RoomInvitationPayload, RoomMemberPayload, RoomPayload, UrlLink,
};

/// Event types the stream knows (`EventType`); any other number decodes as `Event::Unknown`.
const KNOWN_EVENT_TYPES: &[i32] = &[
    1, 2, 3, 4, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 32,
];

/// Event payload decoding, every type: the first byte picks the type (-4 to 35: the known
/// ones, 0, negatives and gaps), the rest is the JSON payload.
pub fn event_payload(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let kind = i32::from(first % 40) - 4;
    let json = String::from_utf8_lossy(rest);
    check_event(kind, &json);
}

/// Decodes one event and checks what any decoded event must be.
fn check_event(kind: i32, json: &str) {
    match event::decode(kind, json) {
        Ok(Event::Unknown {
            kind: unknown,
            payload,
        }) => {
            assert!(
                !KNOWN_EVENT_TYPES.contains(&kind),
                "type {kind} decoded as unknown"
            );
            assert_eq!((unknown, payload.as_str()), (kind, json));
        }
        Ok(decoded) => {
            assert!(
                KNOWN_EVENT_TYPES.contains(&kind),
                "type {kind} decoded as {decoded:?}"
            );
            let empty_id = match &decoded {
                Event::Message { message_id } => message_id.as_str().is_empty(),
                Event::Login { contact_id } | Event::Logout { contact_id, .. } => {
                    contact_id.as_str().is_empty()
                }
                Event::RoomJoin(join) => {
                    join.room_id.as_str().is_empty() || join.invitee_ids.iter().any(is_empty)
                }
                Event::RoomLeave(leave) => {
                    leave.room_id.as_str().is_empty() || leave.removee_ids.iter().any(is_empty)
                }
                Event::RoomTopic(topic) => topic.room_id.as_str().is_empty(),
                Event::RoomAnnounce(announce) => announce.room_id.as_str().is_empty(),
                _ => false,
            };
            assert!(!empty_id, "an empty id in {decoded:?}");
        }
        Err(error) => assert_eq!(error.kind, kind),
    }
}

fn is_empty(id: &ContactId) -> bool {
    id.as_str().is_empty()
}

/// FileBox JSON: whatever parses serializes, and reads back as the same box.
pub fn file_box_json(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file_box) = FileBox::from_json(json) else {
        return;
    };
    let written = file_box
        .to_json()
        .expect("a box read from JSON can be written as JSON");
    let again = FileBox::from_json(&written).expect("the JSON a box writes reads back");
    assert_eq!(again, file_box, "{json} became {written}");
}

/// The server names the X.509 target checks certificates for.
const SERVER_NAMES: [&str; 4] = ["insecure", "puppet.example", "127.0.0.1", "wechaty-root-ca"];

/// The X.509 reader and the server certificate verifier. The first byte says what follows:
/// bit 0 set, a second certificate after the first (whose length is the next two bytes,
/// big-endian); bit 1 set, that second certificate is the trusted root (else it is sent as an
/// intermediate and the Wechaty root CA is trusted); bits 2–3 pick the expected server name.
pub fn x509(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let name = SERVER_NAMES[usize::from(flags >> 2) & 3];
    let (leaf, second) = if flags & 1 == 0 {
        (rest, None)
    } else {
        let Some((length, rest)) = rest.split_first_chunk::<2>() else {
            return;
        };
        let (leaf, second) =
            rest.split_at(usize::from(u16::from_be_bytes(*length)).min(rest.len()));
        (leaf, Some(second))
    };
    for der in std::iter::once(leaf).chain(second) {
        if let Ok(certificate) = Certificate::parse(der) {
            for time in [certificate.not_before, certificate.not_after] {
                assert!(format_time(time).ends_with(" UTC"));
            }
        }
    }

    let as_root = flags & 2 != 0;
    let verifier = match (second, as_root) {
        (Some(root), true) => {
            match crate::tls::server_verifier(Some(vec![CertificateDer::from(root.to_vec())]), name)
            {
                Ok(verifier) => verifier,
                Err(_) => return,
            }
        }
        _ => default_verifier(name),
    };
    let intermediates: Vec<CertificateDer<'_>> = match (second, as_root) {
        (Some(intermediate), false) => vec![CertificateDer::from(intermediate)],
        _ => Vec::new(),
    };
    let server_name = ServerName::try_from(name).expect("the target's names are valid");
    // A fixed time: within the validity of the stock and test certificates.
    let now = UnixTime::since_unix_epoch(Duration::from_secs(1_798_761_600)); // 2027-01-01
    let verified = verifier.verify_server_cert(
        &CertificateDer::from(leaf),
        &intermediates,
        &server_name,
        &[],
        now,
    );
    // A leaf accepted by the legacy check (v1, or no subjectAltName) meets what Node and webpki
    // ask of any leaf.
    if let (Ok(_), Ok(parsed)) = (verified, Certificate::parse(leaf)) {
        if parsed.version == 1 || !parsed.has_subject_alt_name {
            let at = |time: std::time::SystemTime| time.duration_since(UNIX_EPOCH).ok();
            let now = Some(Duration::from_secs(now.as_secs()));
            assert!(!parsed.is_ca, "a CA certificate accepted as a server's");
            assert_ne!(parsed.allows_server_auth, Some(false));
            assert!(!parsed.unknown_critical_extension);
            assert!(at(parsed.not_before) <= now && now <= at(parsed.not_after));
            assert!(
                parsed
                    .common_names
                    .iter()
                    .any(|cn| cn.eq_ignore_ascii_case(name)),
                "accepted for {name} with the names {:?}",
                parsed.common_names
            );
        }
    }
}

/// The verifier trusting the Wechaty root CA, for each server name, made once.
fn default_verifier(name: &str) -> Arc<dyn ServerCertVerifier> {
    static VERIFIERS: OnceLock<Vec<Arc<dyn ServerCertVerifier>>> = OnceLock::new();
    let verifiers = VERIFIERS.get_or_init(|| {
        SERVER_NAMES
            .iter()
            .map(|name| {
                crate::tls::server_verifier(None, name).expect("the Wechaty root CA is usable")
            })
            .collect()
    });
    let index = SERVER_NAMES
        .iter()
        .position(|known| *known == name)
        .expect("one of the target's names");
    Arc::clone(&verifiers[index])
}

/// The discovery service's answer: an endpoint it yields is one to dial, `HOST:PORT` that a
/// URI reads back with that authority and a port that is not 0.
pub fn discovery_answer(data: &[u8]) {
    let Ok(endpoint) = crate::discovery::read_answer(data) else {
        return;
    };
    let uri: http::Uri = format!("http://{endpoint}/")
        .parse()
        .unwrap_or_else(|error| panic!("{endpoint:?} is not an authority: {error}"));
    assert_eq!(
        uri.authority().map(|authority| authority.as_str()),
        Some(endpoint.as_str())
    );
    assert!(
        matches!(uri.port_u16(), Some(port) if port != 0),
        "{endpoint:?}"
    );
}

/// Scenario files: what parses builds its world and plays its timeline (without the waits),
/// and every event the mock emits for it goes through the SDK's event decoding.
#[cfg(feature = "mock")]
pub fn scenario(data: &[u8]) {
    use futures_util::FutureExt as _;
    use tokio_stream::StreamExt as _;

    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scenario) = crate::mock::Scenario::from_json(json) else {
        return;
    };
    let world = scenario.world();
    let Ok((_, mut stream)) = world.hub().attach() else {
        return;
    };
    for step in &scenario.timeline {
        step.apply(&world);
    }
    while let Some(Some(Ok(response))) = stream.next().now_or_never() {
        check_event(response.r#type, &response.payload);
    }
}

/// The wire-to-payload mappings: the first byte picks a response type, the rest is decoded as
/// that protobuf message and mapped as the SDK maps an answer of the service.
pub fn wire_payloads(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let no_empty = |ids: &[ContactId]| assert!(!ids.iter().any(is_empty), "an empty id");
    match which % 10 {
        0 => {
            let Ok(response) = pb::RoomPayloadResponse::decode(bytes) else {
                return;
            };
            if let Ok(room) = RoomPayload::from_wire(response) {
                assert!(!room.id.as_str().is_empty());
                no_empty(&room.member_ids);
                no_empty(&room.admin_ids);
            }
        }
        1 => {
            let Ok(response) = pb::RoomMemberPayloadResponse::decode(bytes) else {
                return;
            };
            if let Ok(member) = RoomMemberPayload::from_wire(response, &ContactId::from("asked")) {
                assert!(!member.id.as_str().is_empty());
            }
        }
        2 => {
            let Ok(response) = pb::RoomInvitationPayloadResponse::decode(bytes) else {
                return;
            };
            if let Ok(invitation) = RoomInvitationPayload::from_wire(response) {
                assert!(!invitation.id.is_empty());
                no_empty(&invitation.member_ids);
            }
        }
        3 => {
            let Ok(response) = pb::ContactPayloadResponse::decode(bytes) else {
                return;
            };
            if let Ok(contact) = ContactPayload::from_wire(response) {
                assert!(!contact.id.as_str().is_empty());
                assert!(!contact.phones.iter().any(String::is_empty));
            }
        }
        4 => {
            let Ok(response) = pb::MessagePayloadResponse::decode(bytes) else {
                return;
            };
            if let Ok(message) = MessagePayload::from_wire(response) {
                assert!(!message.id.as_str().is_empty());
                no_empty(&message.mention_ids);
                assert_eq!(
                    crate::MessageType::from_wire(message.kind.to_wire()),
                    message.kind
                );
            }
        }
        5 => {
            let Ok(response) = pb::MessageUrlResponse::decode(bytes) else {
                return;
            };
            if let Ok(link) = UrlLink::from_response(response) {
                let wire = link.to_wire();
                assert_eq!(UrlLink::from_wire(wire.clone()).to_wire(), wire);
                let json = link.to_legacy_json();
                let again: UrlLink = serde_json::from_str(&json).expect("a link's JSON reads back");
                assert_eq!(again, link, "{json}");
            }
        }
        6 => {
            let Ok(response) = pb::MessageMiniProgramResponse::decode(bytes) else {
                return;
            };
            if let Ok(card) = MiniProgram::from_response(response) {
                let wire = card.to_wire();
                assert_eq!(MiniProgram::from_wire(wire.clone()).to_wire(), wire);
                let json = card.to_json();
                let again = MiniProgram::from_json(&json).expect("a card's JSON reads back");
                assert_eq!(again, card, "{json}");
            }
        }
        7 => {
            let Ok(response) = pb::EventResponse::decode(bytes) else {
                return;
            };
            check_event(response.r#type, &response.payload);
        }
        8 => {
            let Ok(response) = pb::MessageLocationResponse::decode(bytes) else {
                return;
            };
            if let Ok(place) = Location::from_wire(response.location, "fuzzed") {
                // A place read from the service is one the SDK would send on as it is.
                assert!(place.problem().is_none(), "{place:?}");
                assert_eq!(
                    Location::from_wire(Some(place.to_wire()), "fuzzed").ok(),
                    Some(place)
                );
            }
        }
        _ => {
            let Ok(response) = pb::FriendshipPayloadResponse::decode(bytes) else {
                return;
            };
            if let Ok(friendship) = FriendshipPayload::from_wire(response) {
                assert!(!friendship.id.is_empty());
                assert!(!friendship.contact_id.as_str().is_empty());
                let json = serde_json::to_string(&friendship).expect("a friendship has JSON");
                let again: FriendshipPayload =
                    serde_json::from_str(&json).expect("a friendship's JSON reads back");
                assert_eq!(again, friendship, "{json}");
            }
        }
    }
}

/// The committed corpora, replayed: every input the fuzzers kept (`fuzz/corpus/<target>/`) and
/// every input that once crashed a target (`fuzz/regressions/<target>/`), through the target's
/// entry point. CI runs them with the other tests, without a fuzzer.
#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Runs every file of the target's corpus (which must have some) and regressions.
    fn replay(target: &str, entry: fn(&[u8])) {
        let fuzz = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz"));
        let corpus = inputs(&fuzz.join("corpus").join(target));
        assert!(
            !corpus.is_empty(),
            "the corpus of {target} is missing or empty"
        );
        let regressions = fuzz.join("regressions").join(target);
        let regressions = if regressions.exists() {
            inputs(&regressions)
        } else {
            Vec::new()
        };
        for (path, data) in corpus.iter().chain(&regressions) {
            // A panic names the input, for `cargo fuzz run <target> <file>`.
            eprintln!("{}", path.display());
            entry(data);
        }
    }

    fn inputs(folder: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return Vec::new();
        };
        let mut inputs: Vec<_> = entries
            .map(|entry| entry.expect("a readable corpus folder").path())
            .filter(|path| path.is_file())
            .map(|path| {
                let data = std::fs::read(&path).expect("a readable corpus file");
                (path, data)
            })
            .collect();
        inputs.sort();
        inputs
    }

    #[test]
    fn event_payload_corpus() {
        replay("event_payload", super::event_payload);
    }

    #[test]
    fn file_box_json_corpus() {
        replay("file_box_json", super::file_box_json);
    }

    #[test]
    fn x509_corpus() {
        replay("x509", super::x509);
    }

    #[test]
    fn discovery_answer_corpus() {
        replay("discovery_answer", super::discovery_answer);
    }

    #[test]
    fn scenario_corpus() {
        replay("scenario", super::scenario);
    }

    #[test]
    fn wire_payloads_corpus() {
        replay("wire_payloads", super::wire_payloads);
    }
}
