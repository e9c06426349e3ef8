//! The SDK against the **official** TypeScript puppet service (wechaty-puppet-service's
//! PuppetServer serving wechaty-puppet-mock, `tests/interop/server.mjs`).
//!
//! Our mock is ours and can share our mistakes; this server cannot. Needs Node.js and
//! `npm ci` in `tests/interop`, so it runs only with the `interop` feature:
//!
//! ```sh
//! (cd tests/interop && npm ci) && cargo test --features interop --test interop
//! ```
#![cfg(feature = "interop")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::{ContactId, Error, Event, Events, MessageType, Wechaty, WechatyBuilder};

const TOKEN: &str = "insecure_00000000-0000-0000-0000-000000000000";
const WAIT: Duration = Duration::from_secs(15);

/// One official server process, killed when dropped.
struct Official {
    child: Child,
    endpoint: String,
    control: String,
}

impl Official {
    fn start(tls: bool, token: &str) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(dir)
            .env("TOKEN", token)
            .env("TLS", if tls { "1" } else { "0" })
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs (install Node.js, then `npm ci` in tests/interop)");
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let next = |prefix: &str| {
            let line = lines_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the official server starts (did `npm ci` run in tests/interop?)");
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("unexpected line {line:?}"))
                .to_owned()
        };
        let endpoint = next("listening on ");
        let control = next("control on ");
        Self {
            child,
            endpoint,
            control,
        }
    }

    fn plaintext() -> Self {
        Self::start(false, TOKEN)
    }

    /// A request to the control port (plain HTTP/1.1, one per connection).
    fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let body = body.to_string();
        let mut stream = TcpStream::connect(&self.control).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
        serde_json::from_str(body).unwrap()
    }

    fn calls(&self, method: &str) -> Vec<Value> {
        let calls = self.control("GET", "/calls", Value::Null);
        calls
            .as_array()
            .unwrap()
            .iter()
            .filter(|call| call["method"] == method)
            .map(|call| call["args"].clone())
            .collect()
    }

    fn builder(&self) -> WechatyBuilder {
        WechatyBuilder::new()
            .endpoint(self.endpoint.clone())
            .token(TOKEN)
            .no_tls(true)
    }

    async fn bot(&self) -> Wechaty {
        self.builder().build().await.unwrap()
    }
}

impl Drop for Official {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn next_matching(events: &mut Events, wanted: impl Fn(&Event) -> bool) -> Event {
    timeout(WAIT, async {
        loop {
            let event = events.next().await.expect("the event stream goes on");
            if wanted(&event) {
                return event;
            }
        }
    })
    .await
    .expect("the event arrives in time")
}

#[tokio::test]
async fn version_and_token_auth() {
    let official = Official::plaintext();
    let version = official.bot().await.version().await.unwrap();
    // The puppet's version with wechaty-puppet's in angle brackets, e.g. "1.19.4<1.21.3>".
    assert!(version.contains('<'), "{version}");

    let secret = "insecure_wrong-s3cret";
    let wrong = official.builder().token(secret).build().await.unwrap();
    let error = wrong.version().await.unwrap_err();
    assert_eq!(error, Error::Unauthenticated);
    assert!(!format!("{error} {error:?}").contains("s3cret"));
    // On the Event stream too.
    assert_eq!(wrong.connect().await.unwrap_err(), Error::Unauthenticated);
}

#[tokio::test]
async fn tls_with_the_builtin_v1_certificate() {
    // Two underscores: the derived server name is `insecure_team`, the certificate says
    // `insecure`.
    let token = "insecure_team_interop";
    let official = Official::start(true, token);
    let builder = || {
        WechatyBuilder::new()
            .endpoint(official.endpoint.clone())
            .token(token)
    };
    let error = builder()
        .build()
        .await
        .unwrap()
        .version()
        .await
        .unwrap_err();
    assert_eq!(
        error,
        Error::TlsNameMismatch {
            endpoint: official.endpoint.clone(),
            expected: "insecure_team".into(),
            presented: vec!["insecure".into()],
        }
    );
    // Default CA (the public Wechaty root), server name `insecure`.
    let bot = builder().tls_server_name("insecure").build().await.unwrap();
    assert!(bot.version().await.unwrap().contains('<'));
    bot.connect().await.unwrap();
    bot.ding_dong("over tls", WAIT).await.unwrap();

    // Plaintext against it.
    let plaintext = builder().no_tls(true).build().await.unwrap();
    assert!(matches!(
        plaintext.version().await.unwrap_err(),
        Error::Transport { .. }
    ));
}

#[tokio::test]
async fn a_tls_client_against_the_plaintext_server() {
    let official = Official::plaintext();
    let bot = official.builder().no_tls(false).build().await.unwrap();
    assert_eq!(
        bot.version().await.unwrap_err(),
        Error::NotTls {
            endpoint: official.endpoint.clone()
        }
    );
}

#[tokio::test]
async fn the_event_stream_replays_and_answers_ding() {
    let official = Official::plaintext();
    let bot = official.bot().await;
    let mut events = bot.events();
    bot.connect().await.unwrap();
    let first = timeout(WAIT, events.next()).await.unwrap().unwrap();
    assert_eq!(
        first,
        Event::Heartbeat {
            data: Some("Wechaty Puppet gRPC stream connect successfully".into())
        }
    );
    assert_eq!(
        next_matching(&mut events, |e| matches!(e, Event::Login { .. })).await,
        Event::Login {
            contact_id: ContactId::from("self")
        }
    );
    next_matching(&mut events, |e| matches!(e, Event::Ready { .. })).await;

    bot.ding_dong("interop", WAIT).await.unwrap();
    assert_eq!(official.calls("ding"), [json!(["interop"])]);

    let second = official.bot().await;
    assert_eq!(second.connect().await.unwrap_err(), Error::EventStreamTaken);
}

#[tokio::test]
async fn messages_decode_and_replies_reach_the_conversation() {
    let official = Official::plaintext();
    let bot = official.bot().await;
    let mut events = bot.events();
    bot.start().await.unwrap();

    // A direct message.
    official.control(
        "POST",
        "/say",
        json!({"from": "ann", "to": "self", "text": "hello interop"}),
    );
    let Event::Message { message_id } =
        next_matching(&mut events, |e| matches!(e, Event::Message { .. })).await
    else {
        unreachable!()
    };
    let message = bot.message(message_id);
    let payload = message.payload().await.unwrap();
    assert_eq!(payload.kind, MessageType::Text, "wire type 7 is Text");
    assert_eq!(payload.text.as_deref(), Some("hello interop"));
    assert_eq!(payload.talker_id, Some(ContactId::from("ann")));
    assert_eq!(payload.listener_id, Some(ContactId::from("self")));
    assert_eq!(payload.room_id, None);
    assert!(payload.date.is_some());
    message.reply("dong").await.unwrap();
    let sent = official.calls("messageSendText");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0][0], "ann");
    assert_eq!(sent[0][1], "dong");

    // A room message: the reply goes to the room.
    official.control(
        "POST",
        "/say",
        json!({"from": "ben", "room": "r1@chatroom", "text": "in the room"}),
    );
    let message = loop {
        let Event::Message { message_id } =
            next_matching(&mut events, |e| matches!(e, Event::Message { .. })).await
        else {
            unreachable!()
        };
        let message = bot.message(message_id);
        if message.payload().await.unwrap().text.as_deref() == Some("in the room") {
            break message;
        }
    };
    let payload = message.payload().await.unwrap();
    assert_eq!(
        payload.room_id.as_ref().map(|r| r.as_str()),
        Some("r1@chatroom")
    );
    message.reply("room dong").await.unwrap();
    let sent = official.calls("messageSendText");
    assert_eq!(sent.last().unwrap()[0], "r1@chatroom");
}

#[tokio::test]
async fn room_events_fired_on_the_service_arrive_decoded() {
    let official = Official::plaintext();
    let bot = official.bot().await;
    let mut events = bot.events();
    bot.connect().await.unwrap();
    next_matching(&mut events, |e| matches!(e, Event::Login { .. })).await;

    official.control(
        "POST",
        "/emit",
        json!({"name": "room-join", "payload": {"roomId": "r1@chatroom", "inviteeIdList": ["dan"], "inviterId": "ann", "timestamp": 1_795_626_223_867u64}}),
    );
    let Event::RoomJoin(join) =
        next_matching(&mut events, |e| matches!(e, Event::RoomJoin(_))).await
    else {
        unreachable!()
    };
    assert_eq!(join.room_id.as_str(), "r1@chatroom");
    assert_eq!(join.invitee_ids, [ContactId::from("dan")]);
    assert_eq!(join.inviter_id, Some(ContactId::from("ann")));

    official.control(
        "POST",
        "/emit",
        json!({"name": "room-topic", "payload": {"roomId": "r1@chatroom", "newTopic": "New", "oldTopic": "Team Room", "changerId": "ann", "timestamp": 1_795_626_224u64}}),
    );
    let Event::RoomTopic(topic) =
        next_matching(&mut events, |e| matches!(e, Event::RoomTopic(_))).await
    else {
        unreachable!()
    };
    assert_eq!(
        (topic.new_topic.as_str(), topic.old_topic.as_str()),
        ("New", "Team Room")
    );

    official.control(
        "POST",
        "/emit",
        json!({"name": "room-leave", "payload": {"roomId": "r2@chatroom", "removeeIdList": ["dan"], "removerId": "self", "timestamp": 1_795_626_247_744u64}}),
    );
    let Event::RoomLeave(leave) =
        next_matching(&mut events, |e| matches!(e, Event::RoomLeave(_))).await
    else {
        unreachable!()
    };
    assert_eq!(leave.removee_ids, [ContactId::from("dan")]);

    official.control(
        "POST",
        "/emit",
        json!({"name": "room-invite", "payload": {"roomInvitationId": "inv-1"}}),
    );
    assert_eq!(
        next_matching(&mut events, |e| matches!(e, Event::RoomInvite { .. })).await,
        Event::RoomInvite {
            room_invitation_id: "inv-1".into()
        }
    );
}

/// The `wechaty` command against the official server.
#[test]
fn the_cli_talks_to_the_official_server() {
    let official = Official::plaintext();
    let run = |token: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wechaty"))
            .args([
                "--endpoint",
                &official.endpoint,
                "--token",
                token,
                "--no-tls",
            ])
            .args(args)
            .env_remove("WECHATY_PUPPET_SERVICE_TOKEN")
            .output()
            .unwrap()
    };
    let version = run(TOKEN, &["--json", "version"]);
    assert!(version.status.success());
    let value: Value = serde_json::from_slice(&version.stdout).unwrap();
    assert!(value["version"].as_str().unwrap().contains('<'));

    let ding = run(TOKEN, &["--json", "ding", "cli"]);
    assert!(
        ding.status.success(),
        "{}",
        String::from_utf8_lossy(&ding.stderr)
    );
    let value: Value = serde_json::from_slice(&ding.stdout).unwrap();
    assert_eq!(value["data"], "cli");

    let wrong = run("insecure_wrong-s3cret", &["version"]);
    assert_eq!(wrong.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("WECHATY_PUPPET_SERVICE_TOKEN"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");

    // TLS with the built-in certificate: the name must be given for a two-underscore token.
    let token = "insecure_team_cli";
    let tls = Official::start(true, token);
    let run_tls = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wechaty"))
            .args(["--endpoint", &tls.endpoint, "--token", token])
            .args(args)
            .env_remove("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT")
            .env_remove("WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME")
            .env_remove("WECHATY_PUPPET_SERVICE_TLS_CA_CERT")
            .output()
            .unwrap()
    };
    assert!(run_tls(&["--tls-server-name", "insecure", "version"])
        .status
        .success());
    let mismatch = run_tls(&["version"]);
    assert_eq!(mismatch.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&mismatch.stderr);
    assert!(stderr.contains("--tls-server-name"), "{stderr}");
    assert!(stderr.contains("\"insecure\""), "{stderr}");
}
