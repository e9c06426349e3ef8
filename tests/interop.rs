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
        Self::start_on(0, tls, token)
    }

    fn start_on(port: u16, tls: bool, token: &str) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(dir)
            .env("TOKEN", token)
            .env("TLS", if tls { "1" } else { "0" })
            .env("PORT", port.to_string())
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

    /// The `wechaty` binary aimed at this (plaintext) server.
    fn cli(&self, token: &str) -> Command {
        let mut command = wechaty(&self.endpoint, token);
        command.arg("--no-tls");
        command
    }

    async fn bot(&self) -> Wechaty {
        self.builder().build().await.unwrap()
    }

    /// A started bot, past the replay of its first stream.
    async fn started(&self) -> (Wechaty, Events) {
        let bot = self.bot().await;
        let mut events = bot.events();
        bot.start().await.unwrap();
        next_matching(&mut events, |e| matches!(e, Event::Ready { .. })).await;
        (bot, events)
    }
}

/// The `wechaty` binary aimed at `endpoint` with `token`, ignoring the caller's environment.
fn wechaty(endpoint: &str, token: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wechaty"));
    command.args(["--endpoint", endpoint, "--token", token]);
    for (name, _) in std::env::vars() {
        if name.starts_with("WECHATY_PUPPET_SERVICE_") {
            command.env_remove(name);
        }
    }
    command
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

    emit(
        &official,
        "room-join",
        json!({"roomId": "r1@chatroom", "inviteeIdList": ["dan"], "inviterId": "ann", "timestamp": 1_795_626_223_867u64}),
    );
    let Event::RoomJoin(join) =
        next_matching(&mut events, |e| matches!(e, Event::RoomJoin(_))).await
    else {
        unreachable!()
    };
    assert_eq!(join.room_id.as_str(), "r1@chatroom");
    assert_eq!(join.invitee_ids, [ContactId::from("dan")]);
    assert_eq!(join.inviter_id, Some(ContactId::from("ann")));

    emit(
        &official,
        "room-topic",
        json!({"roomId": "r1@chatroom", "newTopic": "New", "oldTopic": "Team Room", "changerId": "ann", "timestamp": 1_795_626_224u64}),
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

    emit(
        &official,
        "room-leave",
        json!({"roomId": "r2@chatroom", "removeeIdList": ["dan"], "removerId": "self", "timestamp": 1_795_626_247_744u64}),
    );
    let Event::RoomLeave(leave) =
        next_matching(&mut events, |e| matches!(e, Event::RoomLeave(_))).await
    else {
        unreachable!()
    };
    assert_eq!(leave.removee_ids, [ContactId::from("dan")]);

    emit(
        &official,
        "room-invite",
        json!({"roomInvitationId": "inv-1"}),
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
    let run = |token: &str, args: &[&str]| official.cli(token).args(args).output().unwrap();
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
    let run_tls = |args: &[&str]| wechaty(&tls.endpoint, token).args(args).output().unwrap();
    assert!(run_tls(&["--tls-server-name", "insecure", "version"])
        .status
        .success());
    let mismatch = run_tls(&["version"]);
    assert_eq!(mismatch.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&mismatch.stderr);
    assert!(stderr.contains("--tls-server-name"), "{stderr}");
    assert!(stderr.contains("\"insecure\""), "{stderr}");
}

/// A `wechaty` child process whose stdout lines arrive on a channel.
fn cli_lines(official: &Official, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = official
        .cli(TOKEN)
        .arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines_rx)
}

fn emit(official: &Official, name: &str, payload: Value) {
    official.control("POST", "/emit", json!({ "name": name, "payload": payload }));
}

#[test]
fn cli_events_decode_what_the_official_server_fires() {
    let official = Official::plaintext();
    let (mut child, lines) = cli_lines(&official, &["events", "--count", "8", "--timeout", "30"]);
    let first: Value = serde_json::from_str(&lines.recv_timeout(WAIT).unwrap()).unwrap();
    assert_eq!(first["type"], "heartbeat");
    emit(
        &official,
        "room-join",
        json!({"roomId": "r1@chatroom", "inviteeIdList": ["dan"], "inviterId": "ann", "timestamp": 1_795_626_223_867u64}),
    );
    emit(
        &official,
        "room-leave",
        json!({"roomId": "r1@chatroom", "removeeIdList": ["dan"], "removerId": "ann", "timestamp": 1_795_626_224u64}),
    );
    emit(
        &official,
        "room-topic",
        json!({"roomId": "r1@chatroom", "newTopic": "N", "oldTopic": "Team Room", "changerId": "ann", "timestamp": 1_795_626_225_000u64}),
    );
    emit(
        &official,
        "room-invite",
        json!({"roomInvitationId": "inv-9"}),
    );
    official.control(
        "POST",
        "/say",
        json!({"from": "ann", "to": "self", "text": "cli"}),
    );
    let mut seen = std::collections::HashMap::new();
    while let Ok(line) = lines.recv_timeout(WAIT) {
        let value: Value = serde_json::from_str(&line).unwrap();
        seen.insert(value["type"].as_str().unwrap().to_owned(), value);
        if [
            "room-join",
            "room-leave",
            "room-topic",
            "room-invite",
            "message",
        ]
        .iter()
        .all(|name| seen.contains_key(*name))
        {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen["room-join"]["invitee_ids"], json!(["dan"]));
    assert_eq!(seen["room-join"]["inviter_id"], "ann");
    assert_eq!(seen["room-join"]["timestamp_ms"], 1_795_626_223_867u64);
    // Seconds become milliseconds.
    assert_eq!(seen["room-leave"]["timestamp_ms"], 1_795_626_224_000u64);
    assert_eq!(seen["room-leave"]["removee_ids"], json!(["dan"]));
    assert_eq!(seen["room-topic"]["new_topic"], "N");
    assert_eq!(seen["room-topic"]["old_topic"], "Team Room");
    assert_eq!(seen["room-invite"]["room_invitation_id"], "inv-9");
    assert!(seen["message"]["message_id"].as_str().is_some());
}

#[test]
fn cli_events_for_one_room_keep_only_that_room() {
    let official = Official::plaintext();
    let (mut child, lines) = cli_lines(
        &official,
        &[
            "events",
            "--room",
            "r1@chatroom",
            "--count",
            "3",
            "--timeout",
            "30",
        ],
    );
    // Events fired before the stream is open are dropped: keep firing until lines come.
    let mut got = Vec::new();
    for round in 0..100 {
        emit(
            &official,
            "room-join",
            json!({"roomId": "r2@chatroom", "inviteeIdList": ["x"], "timestamp": round}),
        );
        emit(
            &official,
            "room-topic",
            json!({"roomId": "r1@chatroom", "newTopic": format!("t{round}"), "oldTopic": "", "timestamp": round}),
        );
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(300)) {
            got.push(serde_json::from_str::<Value>(&line).unwrap());
        }
        if got.len() >= 3 {
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success());
    assert_eq!(got.len(), 3);
    for event in &got {
        assert_eq!(event["type"], "room-topic");
        assert_eq!(event["room_id"], "r1@chatroom");
    }
}

#[tokio::test]
async fn the_stream_comes_back_after_the_official_server_restarts() {
    let first = Official::plaintext();
    let port: u16 = first.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let bot = first
        .builder()
        .reconnect_policy(wechaty_client::ExponentialBackoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            factor: 2.0,
            jitter: 0.0,
        })
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    let mut room = bot.room("r1@chatroom").events();
    bot.connect().await.unwrap();
    next_matching(&mut events, |e| matches!(e, Event::Ready { .. })).await;

    drop(first); // kills the process
    let second = Official::start_on(port, false, TOKEN);
    next_matching(&mut events, |e| matches!(e, Event::Reconnected)).await;
    assert!(matches!(
        timeout(WAIT, room.next()).await.unwrap().unwrap(),
        wechaty_client::RoomEvent::Reconnected
    ));
    // Events after the restart arrive, in the room's stream too.
    emit(
        &second,
        "room-topic",
        json!({"roomId": "r1@chatroom", "newTopic": "Back", "oldTopic": "Team Room", "timestamp": 1}),
    );
    let wechaty_client::RoomEvent::Topic(topic) =
        timeout(WAIT, room.next()).await.unwrap().unwrap()
    else {
        panic!("expected the topic")
    };
    assert_eq!(topic.new_topic, "Back");
    assert!(bot.is_logged_in());
}

#[tokio::test]
async fn the_room_api_against_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = official.started().await;

    let rooms = bot.rooms();
    assert_eq!(
        rooms
            .find_all(wechaty_client::RoomQuery::All)
            .await
            .unwrap()
            .len(),
        3
    );
    let team = rooms.find("Team Room").await.unwrap().unwrap();
    assert_eq!(team.id().as_str(), "r1@chatroom");
    assert_eq!(team.owner().await.unwrap().unwrap().id().as_str(), "ann");
    assert_eq!(
        team.alias(&bot.contact("ann")).await.unwrap().as_deref(),
        Some("Ali (room nick)")
    );
    assert!(team.has(&bot.contact("ben")).await.unwrap());
    assert!(!team.has(&bot.contact("dan")).await.unwrap());
    assert_eq!(
        team.member("Ann (alias)")
            .await
            .unwrap()
            .unwrap()
            .id()
            .as_str(),
        "ann"
    );
    assert!(team.qr_code().await.unwrap().contains("r1@chatroom"));
    let avatar = team.avatar().await.unwrap();
    assert!(matches!(
        avatar.source,
        wechaty_client::FileBoxSource::Url { .. }
    ));

    // Topic: set sticks (with the harness's puppet), and the dirty echo refreshes our cache.
    team.set_topic("Interop Topic").await.unwrap();
    next_matching(&mut events, |e| matches!(e, Event::Dirty { .. })).await;
    assert_eq!(team.topic().await.unwrap(), "Interop Topic");

    team.set_announce("Be kind").await.unwrap();
    assert_eq!(team.announce().await.unwrap().as_deref(), Some("Be kind"));

    // Say with a mention: the visible text and the ids reach the puppet.
    team.say_with_mentions("hello", &[bot.contact("ann")])
        .await
        .unwrap();
    let sent = official.calls("messageSendText");
    let last = sent.last().unwrap();
    assert_eq!(last[0], "r1@chatroom");
    assert_eq!(last[1], "@Ali (room nick) hello");
    assert_eq!(last[2], json!(["ann"]));

    // Add and remove: the official server reads our fields and streams the events.
    let mut room_events = team.events();
    team.add(&bot.contact("dan")).await.unwrap();
    assert!(matches!(
        timeout(WAIT, room_events.next()).await.unwrap().unwrap(),
        wechaty_client::RoomEvent::Join(_)
    ));
    assert!(team.has(&bot.contact("dan")).await.unwrap());
    team.remove(&bot.contact("dan")).await.unwrap();
    assert!(!team.has(&bot.contact("dan")).await.unwrap());
    assert!(team.remove(&bot.contact("dan")).await.is_err());

    // The 500-member room.
    let big = bot.room("r500@chatroom");
    let members = big
        .member_details(wechaty_client::MemberQuery::All)
        .await
        .unwrap();
    assert_eq!(members.len(), 500);
    assert_eq!(
        members.iter().filter(|m| m.room_alias().is_some()).count(),
        50
    );
    assert_eq!(big.member_list("Nick m010").await.unwrap().len(), 1);

    // Create (a ready room) and quit.
    let created = rooms
        .create(&[bot.contact("ann"), bot.contact("ben")], "Made Here")
        .await
        .unwrap();
    assert_eq!(created.topic().await.unwrap(), "Made Here");
    assert!(created.has(&bot.contact("ann")).await.unwrap());
    created.quit().await.unwrap();
    assert!(!created.has(&bot.contact("self")).await.unwrap());

    // A missing room is the server's error, first line only.
    let error = bot.room("nope@chatroom").topic().await.unwrap_err();
    assert!(matches!(error, Error::Rpc { .. }), "{error:?}");
    assert!(!error.to_string().contains('\n'));
}

#[tokio::test]
async fn invitations_from_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = official.started().await;
    official.control(
        "POST",
        "/invite",
        json!({"id": "inv-1", "inviterId": "ann", "roomId": "r2@chatroom", "topic": "Weekend", "memberIdList": ["ben", "dan"]}),
    );
    let Event::RoomInvite { room_invitation_id } =
        next_matching(&mut events, |e| matches!(e, Event::RoomInvite { .. })).await
    else {
        unreachable!()
    };
    let invitation = bot.room_invitation(room_invitation_id);
    assert_eq!(invitation.topic().await.unwrap(), "Weekend");
    assert_eq!(invitation.member_count().await.unwrap(), 2);
    assert_eq!(
        invitation.inviter().await.unwrap().unwrap().id().as_str(),
        "ann"
    );
    assert!(invitation.age().await.unwrap() < Duration::from_secs(60));
    invitation.accept().await.unwrap();
    let Event::RoomJoin(join) =
        next_matching(&mut events, |e| matches!(e, Event::RoomJoin(_))).await
    else {
        unreachable!()
    };
    assert_eq!(join.invitee_ids, [ContactId::from("self")]);
}

#[test]
fn the_cli_room_commands_against_the_official_server() {
    let official = Official::plaintext();
    let run = |args: &[&str]| {
        let output = official
            .cli(TOKEN)
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(|line| serde_json::from_str::<Value>(line).unwrap())
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, rooms, _) = run(&["rooms"]);
    assert_eq!(code, Some(0));
    assert_eq!(rooms.len(), 3);
    let big = rooms
        .iter()
        .find(|room| room["id"] == "r500@chatroom")
        .unwrap();
    assert_eq!(big["member_count"], 500);

    assert_eq!(run(&["room", "Weekend", "topic"]).1[0]["topic"], "Weekend");
    assert_eq!(
        run(&["room", "Weekend", "topic", "Long Weekend"]).0,
        Some(0)
    );
    assert_eq!(
        run(&["room", "r2@chatroom", "topic"]).1[0]["topic"],
        "Long Weekend"
    );

    let started = std::time::Instant::now();
    let (code, members, stderr) = run(&["room", "Big Room", "members"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(members.len(), 500);
    eprintln!(
        "cold members of the 500-member room via the CLI: {:?}",
        started.elapsed()
    );
    assert_eq!(members[1]["room_alias"], "Nick m000");

    let (code, said, _) = run(&["room", "Team Room", "say", "hi", "--mention", "ann"]);
    assert_eq!(code, Some(0));
    assert!(said[0].get("message_id").is_some());
    assert_eq!(
        official.calls("messageSendText").last().unwrap()[1],
        "@Ali (room nick) hi"
    );
    assert_eq!(
        run(&["room", "Team Room", "alias", "ann"]).1[0]["alias"],
        "Ali (room nick)"
    );
    assert_eq!(run(&["room", "Team Room", "has", "dan"]).1[0]["has"], false);
    assert_eq!(run(&["room", "Team Room", "owner"]).1[0]["owner_id"], "ann");
    let (code, _, stderr) = run(&["room", "No Such Room", "owner"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("No Such Room"), "{stderr}");
}

#[tokio::test]
async fn files_links_and_cards_through_the_official_server() {
    let official = Official::plaintext();
    let (bot, _events) = official.started().await;
    let room = bot.room("r1@chatroom");

    // A 6 MiB file: bigger than one gRPC message, so it must go through Upload.
    let dir = std::env::temp_dir().join(format!("wechaty-interop-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("six.bin");
    let bytes: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    room.say(wechaty_client::FileBox::from_file(&path))
        .await
        .unwrap();
    let sent = official.calls("messageSendFile");
    let file = &sent.last().unwrap()[1];
    assert_eq!(file["type"], 7, "sent as a UUID box: {file}");
    assert_eq!(file["name"], "six.bin");
    // The official server kept what we uploaded: download it back by the same UUID.
    let uuid = file["uuid"].as_str().unwrap();
    let back = wechaty_client::FileBox::from_uuid(uuid, "six.bin");
    assert_eq!(back.to_bytes(&bot).await.unwrap(), bytes);

    // A small file goes inline.
    room.say(wechaty_client::FileBox::from_bytes(
        "small.txt",
        &b"hello"[..],
    ))
    .await
    .unwrap();
    assert_eq!(
        official.calls("messageSendFile").last().unwrap()[1]["type"],
        1
    );

    let link = wechaty_client::UrlLink::create("d", "", "Docs", "https://docs.rs");
    room.say(link).await.unwrap();
    let url = official.calls("messageSendUrl");
    assert_eq!(url.last().unwrap()[1]["url"], "https://docs.rs");
    assert_eq!(url.last().unwrap()[1]["title"], "Docs");

    room.say(&bot.contact("ben")).await.unwrap();
    assert_eq!(
        official.calls("messageSendContact").last().unwrap()[1],
        "ben"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_say_file_link_and_card_against_the_official_server() {
    let official = Official::plaintext();
    let dir = std::env::temp_dir().join(format!("wechaty-interop-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("six.bin");
    std::fs::write(&path, vec![7u8; 6 * 1024 * 1024]).unwrap();
    let run = |args: &[&str]| {
        official
            .cli(TOKEN)
            .arg("--json")
            .args(args)
            .output()
            .unwrap()
    };
    let file = run(&["room", "Team Room", "say", "--file", path.to_str().unwrap()]);
    assert!(
        file.status.success(),
        "{}",
        String::from_utf8_lossy(&file.stderr)
    );
    assert_eq!(
        official.calls("messageSendFile").last().unwrap()[1]["type"],
        7
    );
    let link = run(&[
        "room",
        "Team Room",
        "say",
        "--url-link",
        "Docs",
        "https://docs.rs",
    ]);
    assert!(link.status.success());
    assert_eq!(official.calls("messageSendUrl").len(), 1);
    let card = run(&["room", "Team Room", "say", "--contact", "ben"]);
    assert!(card.status.success());
    assert_eq!(official.calls("messageSendContact").len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn doctor_against_the_official_server() {
    let token = "insecure_team_doctor";
    let tls = Official::start(true, token);
    let plain = Official::plaintext();
    let doctor = |endpoint: &str, token: &str, extra: &[&str]| {
        let output = wechaty(endpoint, token)
            .args(extra)
            .arg("doctor")
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, report) = doctor(&tls.endpoint, token, &["--tls-server-name", "insecure"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("PASS tls: certificate CN=insecure (X.509 v1) issued by wechaty-root-ca"),
        "{report}"
    );
    assert!(!report.contains("FAIL"), "{report}");

    let (code, report) = doctor(&tls.endpoint, token, &[]);
    assert_eq!(code, Some(1));
    assert!(
        report.contains("FAIL tls")
            && report.contains("WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME=insecure"),
        "{report}"
    );

    let (code, report) = doctor(
        &tls.endpoint,
        "insecure_team_s3cret",
        &["--tls-server-name", "insecure"],
    );
    assert_eq!(code, Some(1));
    assert!(report.contains("FAIL authentication"), "{report}");
    assert!(!report.contains("s3cret"), "{report}");

    let (code, report) = doctor(&plain.endpoint, TOKEN, &[]);
    assert_eq!(code, Some(1));
    assert!(
        report.contains("FAIL tls") && report.contains("--no-tls"),
        "{report}"
    );
}
