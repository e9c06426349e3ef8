//! The SDK against the **official** TypeScript puppet service (wechaty-puppet-service's
//! PuppetServer serving wechaty-puppet-mock, `tests/interop/server.mjs`).
//!
//! Our mock is ours and can share our mistakes; this server cannot. Needs Node.js and
//! `npm ci` in `tests/interop`, so it runs only with the `interop` feature:
//!
//! ```sh
//! (cd tests/interop && npm ci) && cargo test -p wechaty-client --features interop --test interop
//! ```
#![cfg(feature = "interop")]

mod common;

use std::time::Duration;

use common::next_matching;
use common::official::{Official, TOKEN, WAIT};
use serde_json::json;
use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::{ContactId, Error, Event, Events, MessageType, Wechaty, WechatyBuilder};

async fn bot_of(official: &Official) -> Wechaty {
    official.builder().build().await.unwrap()
}

/// A started bot, past the replay of its first stream.
async fn started(official: &Official) -> (Wechaty, Events) {
    common::started(official.builder()).await
}

#[tokio::test]
async fn version_and_token_auth() {
    let official = Official::plaintext();
    let version = bot_of(&official).await.version().await.unwrap();
    // The puppet's version with wechaty-puppet's in angle brackets, e.g. "1.19.4<1.21.3>".
    assert!(version.contains('<'), "{version}");

    let secret = "insecure_wrong-s3cret";
    let wrong = official.builder().token(secret).build().await.unwrap();
    let error = wrong.version().await.unwrap_err();
    assert!(matches!(error, Error::Unauthenticated), "{error:?}");
    assert!(!format!("{error} {error:?}").contains("s3cret"));
    // On the Event stream too.
    let error = wrong.connect().await.unwrap_err();
    assert!(matches!(error, Error::Unauthenticated), "{error:?}");
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
    assert!(
        matches!(
            &error,
            Error::TlsNameMismatch {
                endpoint,
                expected,
                presented,
                derived_from_token: true,
            } if *endpoint == official.endpoint && expected == "insecure_team" && presented == &["insecure"]
        ),
        "{error:?}"
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
    let error = bot.version().await.unwrap_err();
    assert!(
        matches!(&error, Error::NotTls { endpoint } if *endpoint == official.endpoint),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_event_stream_replays_and_answers_ding() {
    let official = Official::plaintext();
    let bot = bot_of(&official).await;
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

    let second = bot_of(&official).await;
    let error = second.connect().await.unwrap_err();
    assert!(matches!(error, Error::EventStreamTaken), "{error:?}");
}

#[tokio::test]
async fn messages_decode_and_replies_reach_the_conversation() {
    let official = Official::plaintext();
    let bot = bot_of(&official).await;
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
    let bot = bot_of(&official).await;
    let mut events = bot.events();
    bot.connect().await.unwrap();
    next_matching(&mut events, |e| matches!(e, Event::Login { .. })).await;

    official.emit(
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

    official.emit(
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

    official.emit(
        "room-leave",
        json!({"roomId": "r2@chatroom", "removeeIdList": ["dan"], "removerId": "self", "timestamp": 1_795_626_247_744u64}),
    );
    let Event::RoomLeave(leave) =
        next_matching(&mut events, |e| matches!(e, Event::RoomLeave(_))).await
    else {
        unreachable!()
    };
    assert_eq!(leave.removee_ids, [ContactId::from("dan")]);

    official.emit("room-invite", json!({"roomInvitationId": "inv-1"}));
    assert_eq!(
        next_matching(&mut events, |e| matches!(e, Event::RoomInvite { .. })).await,
        Event::RoomInvite {
            room_invitation_id: "inv-1".into()
        }
    );
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
    second.emit(
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_restarts_of_the_official_server_each_reconnected_with_an_event_after() {
    let mut server = Official::plaintext();
    let port: u16 = server.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let bot = server
        .builder()
        .reconnect_policy(common::quick_retries())
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    bot.connect().await.unwrap();
    next_matching(&mut events, |e| matches!(e, Event::Ready { .. })).await;
    let mut recoveries = Vec::new();
    for round in 0..10 {
        drop(server); // kills the process
        server = Official::start_on(port, false, TOKEN);
        let restarted = std::time::Instant::now();
        next_matching(&mut events, |e| matches!(e, Event::Reconnected)).await;
        recoveries.push(restarted.elapsed());
        server.emit(
            "room-topic",
            json!({"roomId": "r1@chatroom", "newTopic": format!("T{round}"), "oldTopic": "", "timestamp": 1}),
        );
        match next_matching(&mut events, |e| matches!(e, Event::RoomTopic(_))).await {
            Event::RoomTopic(topic) => assert_eq!(topic.new_topic, format!("T{round}")),
            _ => unreachable!(),
        }
    }
    recoveries.sort();
    eprintln!(
        "10 official restarts: reconnected {:?} (median) {:?} (max) after the new process was up",
        recoveries[5], recoveries[9]
    );
    assert_eq!(bot.statistics().reconnects, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_connection_to_the_official_server_recovers_in_bounded_time() {
    let server = std::sync::Arc::new(Official::plaintext());
    let proxy = common::proxy::Proxy::start(server.endpoint.clone()).await;
    let (watchdog, connect_timeout) = (Duration::from_millis(1500), Duration::from_secs(1));
    let bot = server
        .builder()
        .endpoint(proxy.endpoint.clone())
        .watchdog(watchdog)
        .connect_timeout(connect_timeout)
        .reconnect_policy(common::quick_retries())
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    bot.connect().await.unwrap();
    next_matching(&mut events, |e| matches!(e, Event::Ready { .. })).await;
    // The official server sends no heartbeats of its own: feed the stream, so that only the
    // black hole can silence it.
    let feeding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let feeder = {
        let (server, feeding) = (
            std::sync::Arc::clone(&server),
            std::sync::Arc::clone(&feeding),
        );
        std::thread::spawn(move || {
            while feeding.load(std::sync::atomic::Ordering::SeqCst) {
                server.emit("heartbeat", json!({"data": "tick"}));
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    proxy.black_hole_existing();
    let cut = std::time::Instant::now();
    next_matching(&mut events, |e| matches!(e, Event::Reconnected)).await;
    let recovered = cut.elapsed();
    feeding.store(false, std::sync::atomic::Ordering::SeqCst);
    feeder.join().unwrap();
    eprintln!("a black-holed connection to the official server recovered in {recovered:?}");
    assert!(
        recovered
            < watchdog + connect_timeout + Duration::from_millis(200) + Duration::from_secs(2),
        "recovered after {recovered:?}"
    );
    assert!(proxy.accepted() >= 2, "over a new connection");
    server.emit(
        "room-topic",
        json!({"roomId": "r1@chatroom", "newTopic": "Through", "oldTopic": "", "timestamp": 1}),
    );
    next_matching(&mut events, |e| matches!(e, Event::RoomTopic(_))).await;
}

#[tokio::test]
async fn the_room_api_against_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;

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
    let (bot, mut events) = started(&official).await;
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

#[tokio::test]
async fn files_links_and_cards_through_the_official_server() {
    let official = Official::plaintext();
    let (bot, _events) = started(&official).await;
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

// ---- contacts, friendships and tags -----------------------------------------------------------
// The stock puppet-mock keeps no alias, phone, friendship or tag; server.mjs adds them, as a
// real puppet has them (see the comments there). What the official *server* does with them
// is its own: those are the assertions below.

/// Waits for the service's `dirty` of contact `id`.
async fn contact_dirty(events: &mut Events, id: &str) {
    next_matching(events, |e| {
        matches!(e, Event::Dirty { payload_type: wechaty_client::PayloadType::Contact, payload_id } if payload_id == id)
    })
    .await;
}

/// The next ready friendship, failing the test after [`WAIT`].
async fn next_friendship(
    friendships: &mut wechaty_client::FriendshipEvents,
) -> wechaty_client::Friendship {
    timeout(WAIT, friendships.next()).await.unwrap().unwrap()
}

#[tokio::test]
async fn contacts_found_by_name_and_alias_on_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;
    let contacts = bot.contacts();

    // ContactList, then every payload: the world's five and the big room's 499.
    let all = contacts
        .find_all(wechaty_client::ContactQuery::All)
        .await
        .unwrap();
    assert_eq!(all.len(), 504);
    let ann = bot.contact("ann");
    assert_eq!(contacts.find("Ann").await.unwrap(), Some(ann.clone()));
    assert_eq!(
        contacts.find("Ann (alias)").await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        contacts.find("ben").await.unwrap(),
        Some(bot.contact("ben"))
    );
    assert_eq!(contacts.find("Nobody").await.unwrap(), None);
    let filter = wechaty_client::ContactQueryFilter::default()
        .name("Ann")
        .weixin("ann_wx");
    assert_eq!(contacts.find(filter).await.unwrap(), Some(ann.clone()));
    // The payload's fields as the official server fills them.
    assert_eq!(
        ann.gender().await.unwrap(),
        wechaty_client::ContactGender::Female
    );
    assert_eq!(ann.city().await.unwrap().as_deref(), Some("Beijing"));
    assert_eq!(ann.phone().await.unwrap(), ["+86-10-5550-0100"]);
    assert!(ann.star().await.unwrap() && ann.is_friend().await.unwrap());
    assert_eq!(ann.province().await.unwrap(), None, "\"\" is absent");
    let me = bot.current_user().unwrap();
    assert!(me.is_self() && !ann.is_self());
    assert_eq!(me.name().await.unwrap(), "Interop Bot");

    // Alias: set, read back (a fresh payload), found by it, then cleared.
    let ben = bot.contact("ben");
    assert_eq!(ben.alias().await.unwrap(), None);
    ben.set_alias(Some("Benny")).await.unwrap();
    assert_eq!(official.calls("contactAlias"), [json!(["ben", "Benny"])]);
    assert_eq!(ben.alias().await.unwrap().as_deref(), Some("Benny"));
    contact_dirty(&mut events, "ben").await;
    assert_eq!(contacts.find("Benny").await.unwrap(), Some(ben.clone()));
    ben.set_alias(None).await.unwrap();
    assert_eq!(
        official.calls("contactAlias").last().unwrap(),
        &json!(["ben", ""]),
        "a cleared alias reaches the puppet as \"\""
    );
    assert_eq!(ben.alias().await.unwrap(), None);
    assert_eq!(contacts.find("Benny").await.unwrap(), None);

    // An unknown contact is the server's error, first line only.
    let error = bot.contact("nobody").name().await.unwrap_err();
    assert!(matches!(error, Error::Rpc { .. }), "{error:?}");
    assert!(error.to_string().contains("nobody") && !error.to_string().contains('\n'));
    let error = bot
        .contact("nobody")
        .set_alias(Some("x"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Rpc { .. }), "{error:?}");
}

#[tokio::test]
async fn a_direct_say_reaches_the_contact_through_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;
    let ann = bot.contacts().find("Ann").await.unwrap().unwrap();
    ann.say("hello Ann").await.unwrap();
    let sent = official.calls("messageSendText");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (&sent[0][0], &sent[0][1]),
        (&json!("ann"), &json!("hello Ann"))
    );
    // The bot's own message comes back on the stream: from the bot, to Ann, no room.
    let message = loop {
        let Event::Message { message_id } =
            next_matching(&mut events, |e| matches!(e, Event::Message { .. })).await
        else {
            unreachable!()
        };
        let message = bot.message(message_id);
        if message.payload().await.unwrap().text.as_deref() == Some("hello Ann") {
            break message;
        }
    };
    let payload = message.payload().await.unwrap();
    assert_eq!(payload.talker_id, Some(ContactId::from("self")));
    assert_eq!(payload.listener_id, Some(ContactId::from("ann")));
    assert_eq!(payload.room_id, None);
}

#[tokio::test]
async fn a_friend_request_from_the_official_server_is_accepted() {
    use wechaty_client::{Friendship, FriendshipKind, FriendshipScene};

    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;
    let mut friendships = bot.friendships().events();
    let dan = bot.contact("dan");
    assert!(!dan.is_friend().await.unwrap());

    official.control(
        "POST",
        "/friendship",
        json!({"id": "fr-1", "contactId": "dan", "hello": "hi, it's Dan"}),
    );
    let request = next_friendship(&mut friendships).await;
    assert_eq!(request.id(), "fr-1");
    assert_eq!(request.kind(), FriendshipKind::Receive);
    assert_eq!(request.hello(), "hi, it's Dan");
    assert_eq!(request.scene(), FriendshipScene::Phone);
    assert_eq!(request.contact(), dan);

    request.accept().await.unwrap();
    assert_eq!(official.calls("friendshipAccept"), [json!(["fr-1"])]);
    assert!(dan.is_friend().await.unwrap(), "our cache was dropped");
    contact_dirty(&mut events, "dan").await;
    let confirm = next_friendship(&mut friendships).await;
    assert_eq!(
        (confirm.id(), confirm.kind()),
        ("fr-1-confirm", FriendshipKind::Confirm)
    );
    assert_eq!(confirm.contact(), dan);
    // Only a received request can be accepted: refused here, without an RPC.
    assert!(matches!(
        confirm.accept().await.unwrap_err(),
        Error::InvalidArgument(_)
    ));
    assert_eq!(official.calls("friendshipAccept").len(), 1);

    // The JSON round trip works while the server still knows the friendship. The official
    // server ignores the payload that `from_json` pushes (its FriendshipPayload handler only
    // reads the id), so a friendship it does not know cannot be brought back, unlike on our
    // mock, which stores it.
    let saved = request.to_json().unwrap();
    let back = Friendship::from_json(&bot, &saved).await.unwrap();
    assert_eq!(back.payload(), request.payload());
    let unknown = saved.replace("fr-1", "fr-unknown");
    let error = Friendship::from_json(&bot, &unknown).await.unwrap_err();
    assert!(
        matches!(&error, Error::Rpc { .. }) && error.to_string().contains("fr-unknown"),
        "{error:?}"
    );
    assert!(bot.friendships().load("fr-unknown").await.is_err());

    // on_friendship: a bot that accepts what it receives.
    let cora = bot.contact("cora");
    let handler = bot.on_friendship(|friendship| async move {
        if friendship.kind() == FriendshipKind::Receive {
            friendship.accept().await?;
        }
        Ok(())
    });
    official.control(
        "POST",
        "/friendship",
        json!({"id": "fr-2", "contactId": "cora", "hello": "", "scene": 14}),
    );
    let request = next_friendship(&mut friendships).await;
    assert_eq!(
        (request.id(), request.scene(), request.hello()),
        ("fr-2", FriendshipScene::Room, "")
    );
    let confirm = next_friendship(&mut friendships).await;
    assert_eq!(confirm.id(), "fr-2-confirm");
    assert_eq!(confirm.contact(), cora);
    assert_eq!(
        official.calls("friendshipAccept").last().unwrap(),
        &json!(["fr-2"])
    );
    drop(handler);
}

#[tokio::test]
async fn a_phone_search_on_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;
    let friendships = bot.friendships();
    assert_eq!(
        friendships.search_phone("+86-10-5550-0100").await.unwrap(),
        Some(bot.contact("ann"))
    );
    // Not found: the server leaves the contact id unset.
    assert_eq!(friendships.search_phone("+1-555-0000").await.unwrap(), None);
    assert_eq!(
        official.calls("friendshipSearchPhone"),
        [json!(["+86-10-5550-0100"]), json!(["+1-555-0000"])]
    );
    // A number noted for Ben is found after.
    let ben = bot.contact("ben");
    ben.set_phone(&["+1-555-0000", "+1-555-0001"])
        .await
        .unwrap();
    assert_eq!(
        official.calls("contactPhone"),
        [json!(["ben", ["+1-555-0000", "+1-555-0001"]])]
    );
    assert_eq!(ben.phone().await.unwrap(), ["+1-555-0000", "+1-555-0001"]);
    contact_dirty(&mut events, "ben").await;
    assert_eq!(
        friendships.search_phone("+1-555-0001").await.unwrap(),
        Some(ben)
    );
    // An empty number is refused here.
    assert!(matches!(
        friendships.search_phone(" ").await.unwrap_err(),
        Error::InvalidArgument(_)
    ));
    assert_eq!(official.calls("friendshipSearchPhone").len(), 3);
}

#[tokio::test]
async fn tags_on_the_official_server() {
    let official = Official::plaintext();
    let (bot, _events) = started(&official).await;
    let names = |tags: Vec<wechaty_client::Tag>| {
        let mut names: Vec<String> = tags.iter().map(|tag| tag.name().to_owned()).collect();
        names.sort();
        names
    };
    let (ann, ben) = (bot.contact("ann"), bot.contact("ben"));
    assert!(bot.tags().await.unwrap().is_empty());

    let (vip, new) = (bot.tag("vip"), bot.tag("new"));
    vip.add(&ann).await.unwrap();
    vip.add(&ben).await.unwrap();
    new.add(&ben).await.unwrap();
    assert_eq!(
        official.calls("tagContactAdd"),
        [
            json!(["vip", "ann"]),
            json!(["vip", "ben"]),
            json!(["new", "ben"])
        ]
    );
    assert_eq!(names(bot.tags().await.unwrap()), ["new", "vip"]);

    // The ps@1.19.9 bug (protocol.md §4.9): for one contact the server asks the puppet (which
    // answers ["new", "vip"]), then sends a fresh, empty response. Not faked here: this is
    // what a bot gets from the official server.
    assert_eq!(ben.tags().await.unwrap(), Vec::<wechaty_client::Tag>::new());
    assert_eq!(
        official.calls("tagContactList").last().unwrap(),
        &json!(["ben"]),
        "the server did ask the puppet for Ben's tags"
    );

    vip.remove(&ann).await.unwrap();
    assert_eq!(official.calls("tagContactRemove"), [json!(["vip", "ann"])]);
    assert_eq!(
        names(bot.tags().await.unwrap()),
        ["new", "vip"],
        "Ben has vip"
    );
    vip.remove(&ben).await.unwrap();
    assert_eq!(names(bot.tags().await.unwrap()), ["new"]);
    new.delete().await.unwrap();
    assert_eq!(official.calls("tagContactDelete"), [json!(["new"])]);
    assert!(bot.tags().await.unwrap().is_empty());

    // Unknown tags and contacts are the puppet's errors; an empty name is refused here.
    assert!(matches!(new.delete().await.unwrap_err(), Error::Rpc { .. }));
    assert!(matches!(
        vip.remove(&ann).await.unwrap_err(),
        Error::Rpc { .. }
    ));
    assert!(matches!(
        vip.add(&bot.contact("nobody")).await.unwrap_err(),
        Error::Rpc { .. }
    ));
    assert!(matches!(
        bot.tag("").add(&ann).await.unwrap_err(),
        Error::InvalidArgument(_)
    ));
}

// ---- messages: read whole, recalled, forwarded, located, mentioned ------------------------------
// The stock puppet-mock recalls nothing, forwards nothing and has no location messages;
// server.mjs adds them (see the comments there). What the official *server* does on the way
// is its own: those are the assertions below.

/// Someone says something through the control port (`/say` or `/location`); returns the new
/// message's id and the control's answer, once its `message` event has arrived.
async fn said(
    official: &Official,
    events: &mut Events,
    path: &str,
    body: serde_json::Value,
) -> (String, serde_json::Value) {
    let answer = official.control("POST", path, body);
    let id = answer["id"].as_str().unwrap().to_owned();
    next_matching(
        events,
        |e| matches!(e, Event::Message { message_id } if message_id.as_str() == id),
    )
    .await;
    (id, answer)
}

/// The next message on the stream whose payload `wanted` accepts (the bot's own sends answer
/// no id on the stock puppet-mock: this is how they are found).
async fn next_message(
    bot: &Wechaty,
    events: &mut Events,
    wanted: impl Fn(&wechaty_client::MessagePayload) -> bool,
) -> wechaty_client::Message {
    loop {
        let Event::Message { message_id } =
            next_matching(events, |e| matches!(e, Event::Message { .. })).await
        else {
            unreachable!()
        };
        let message = bot.message(message_id);
        if wanted(&message.payload().await.unwrap()) {
            return message;
        }
    }
}

fn unix_ms(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn a_message_read_whole_from_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;

    // A direct message from Ann.
    let (id, answer) = said(
        &official,
        &mut events,
        "/say",
        json!({"from": "ann", "to": "self", "text": "hello, whole"}),
    )
    .await;
    let message = bot.message(id.as_str());
    let talker = message.talker().await.unwrap();
    assert_eq!(talker.id().as_str(), "ann");
    assert_eq!(talker.name().await.unwrap(), "Ann");
    assert_eq!(
        message
            .listener()
            .await
            .unwrap()
            .map(|c| c.id().to_string()),
        Some("self".to_owned())
    );
    assert!(message.room().await.unwrap().is_none());
    assert_eq!(message.text().await.unwrap(), "hello, whole");
    assert_eq!(message.kind().await.unwrap(), MessageType::Text);
    // receive_time, built by the server from the puppet's milliseconds, back to the same ms.
    let date = message.date().await.unwrap().unwrap();
    assert_eq!(unix_ms(date), answer["timestamp"].as_u64().unwrap());
    assert!(message.age().await.unwrap() < Duration::from_secs(60));
    assert!(!message.is_self().await.unwrap());
    assert!(message.mention_list().await.unwrap().is_empty());
    assert!(!message.mention_self().await.unwrap());
    assert_eq!(message.mention_text().await.unwrap(), "hello, whole");
    assert_eq!(message.conversation_id().await.unwrap(), "ann");
    let payload = message.payload().await.unwrap();
    assert_eq!(payload.id.as_str(), id);
    assert_eq!(payload.filename, None, "\"\" is absent");
    // Seen on the stream, so found by its text.
    assert_eq!(
        bot.messages()
            .find("hello, whole")
            .await
            .unwrap()
            .map(|m| m.id().to_string()),
        Some(id.clone())
    );

    // A room message from Ben: a room, no listener.
    let (id, _) = said(
        &official,
        &mut events,
        "/say",
        json!({"from": "ben", "room": "r1@chatroom", "text": "in the room, whole"}),
    )
    .await;
    let message = bot.message(id.as_str());
    assert_eq!(message.talker().await.unwrap().id().as_str(), "ben");
    assert!(message.listener().await.unwrap().is_none());
    let room = message.room().await.unwrap().unwrap();
    assert_eq!(room.id().as_str(), "r1@chatroom");
    assert_eq!(room.topic().await.unwrap(), "Team Room");
    assert_eq!(message.conversation_id().await.unwrap(), "r1@chatroom");
    assert!(!message.is_self().await.unwrap());

    // The bot's own: the stock puppet-mock's send answers no id (protocol.md §4.6), so the
    // message is found on the stream; it is the bot's.
    let sent = bot.room("r2@chatroom").say("mine, whole").await.unwrap();
    assert!(sent.is_none());
    let mine = next_message(&bot, &mut events, |p| {
        p.text.as_deref() == Some("mine, whole")
    })
    .await;
    assert!(mine.is_self().await.unwrap());
    assert_eq!(mine.talker().await.unwrap().id().as_str(), "self");
    assert_eq!(mine.conversation_id().await.unwrap(), "r2@chatroom");

    // An unknown id: the server's error, first line only.
    let error = bot.message("no-such-message").text().await.unwrap_err();
    assert!(matches!(error, Error::Rpc { .. }), "{error:?}");
    assert!(error.to_string().contains("no-such-message") && !error.to_string().contains('\n'));
}

#[tokio::test]
async fn a_recall_on_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;

    bot.room("r1@chatroom").say("take this back").await.unwrap();
    let own = next_message(&bot, &mut events, |p| {
        p.text.as_deref() == Some("take this back")
    })
    .await;
    assert!(own.recall().await.unwrap(), "the bot's own message");
    assert_eq!(
        official.calls("messageRecall"),
        [json!([own.id().as_str()])]
    );
    // The notice follows: wire type 13, its text the original's id, which to_recalled reads.
    let notice = next_message(&bot, &mut events, |p| p.kind == MessageType::Recalled).await;
    assert_eq!(notice.kind().await.unwrap(), MessageType::Recalled);
    assert_eq!(notice.text().await.unwrap(), own.id().as_str());
    assert_eq!(
        notice.to_recalled().await.unwrap().map(|m| m.id().clone()),
        Some(own.id().clone())
    );
    assert_eq!(notice.conversation_id().await.unwrap(), "r1@chatroom");
    // Once only; and not someone else's message: both answers, not errors.
    assert!(!own.recall().await.unwrap());
    let (theirs, _) = said(
        &official,
        &mut events,
        "/say",
        json!({"from": "ann", "room": "r1@chatroom", "text": "mine to keep"}),
    )
    .await;
    assert!(!bot.message(theirs.as_str()).recall().await.unwrap());
    assert_eq!(official.calls("messageRecall").len(), 3);
    // Only a notice names a recalled message; an unknown id is the server's error.
    assert!(matches!(
        bot.message(theirs.as_str())
            .to_recalled()
            .await
            .unwrap_err(),
        Error::InvalidArgument(_)
    ));
    let error = bot.message("no-such-message").recall().await.unwrap_err();
    assert!(
        matches!(&error, Error::Rpc { .. }) && error.to_string().contains("no-such-message"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_forward_into_a_room_on_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;
    let (id, _) = said(
        &official,
        &mut events,
        "/say",
        json!({"from": "ann", "to": "self", "text": "worth sharing"}),
    )
    .await;
    let original = bot.message(id.as_str());

    let copy = original
        .forward(&bot.room("r2@chatroom"))
        .await
        .unwrap()
        .expect("the new message's id comes back (both fields, protocol.md §4.6)");
    // The server passes (conversation, message) to the puppet.
    assert_eq!(
        official.calls("messageForward"),
        [json!(["r2@chatroom", id])]
    );
    assert_ne!(copy.id().as_str(), id);
    let payload = copy.payload().await.unwrap();
    assert_eq!(payload.kind, MessageType::Text);
    assert_eq!(payload.text.as_deref(), Some("worth sharing"));
    assert_eq!(payload.talker_id, Some(ContactId::from("self")));
    assert_eq!(
        payload.room_id.as_ref().map(|r| r.as_str()),
        Some("r2@chatroom")
    );
    assert_eq!(payload.listener_id, None);
    assert!(copy.is_self().await.unwrap());

    // Into a direct chat.
    let copy = original
        .forward(&bot.contact("ben"))
        .await
        .unwrap()
        .unwrap();
    let payload = copy.payload().await.unwrap();
    assert_eq!(payload.listener_id, Some(ContactId::from("ben")));
    assert_eq!(payload.room_id, None);

    // An unknown message: the server's error.
    let error = bot
        .message("no-such-message")
        .forward(&bot.room("r2@chatroom"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Rpc { .. }), "{error:?}");
}

#[tokio::test]
async fn locations_through_the_official_server() {
    use wechaty_client::Location;

    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;

    // A place Ben shares: MessageLocation carries it whole (accuracy as a float, the
    // coordinates as doubles).
    let (id, _) = said(
        &official,
        &mut events,
        "/location",
        json!({"from": "ben", "to": "self", "name": "Office", "address": "1 Main St",
               "latitude": 39.9042, "longitude": 116.4074, "accuracy": 15.5}),
    )
    .await;
    let shared = bot.message(id.as_str());
    assert_eq!(shared.kind().await.unwrap(), MessageType::Location);
    assert_eq!(
        shared.to_location().await.unwrap(),
        Location::new("Office", "1 Main St", 39.9042, 116.4074).accuracy(15.5)
    );
    assert_eq!(official.calls("messageLocation"), [json!([id])]);

    // A place the bot sends: MessageSendLocation reaches the puppet, but not the place. The
    // ps@1.19.9 server spreads the protobuf object over its defaults (`{ accuracy: 0,
    // address: 'NOADDRESS', …, ...pbLocationPayload }`) and the object has no such
    // properties, so every place arrives as NONAME / NOADDRESS at 0, 0, whatever the client
    // sent. Not faked here: this is what a bot gets from the official server.
    let place = Location::new("Cafe", "2 Side St", -33.8688, 151.2093).accuracy(5.5);
    let sent = bot
        .room("r1@chatroom")
        .say(place)
        .await
        .unwrap()
        .expect("the send answers the id (field 1)");
    let calls = official.calls("messageSendLocation");
    let (conversation, given) = (&calls[0][0], &calls[0][1]);
    assert_eq!(conversation, "r1@chatroom");
    assert_eq!(
        (
            &given["name"],
            &given["address"],
            &given["latitude"],
            &given["longitude"],
            &given["accuracy"]
        ),
        (
            &json!("NONAME"),
            &json!("NOADDRESS"),
            &json!(0),
            &json!(0),
            &json!(0)
        ),
        "{given}"
    );
    assert_eq!(sent.kind().await.unwrap(), MessageType::Location);
    assert_eq!(
        sent.to_location().await.unwrap(),
        Location::new("NONAME", "NOADDRESS", 0.0, 0.0)
    );

    // A text is no location: the puppet's error.
    let (text, _) = said(
        &official,
        &mut events,
        "/say",
        json!({"from": "ann", "to": "self", "text": "no place"}),
    )
    .await;
    let error = bot.message(text.as_str()).to_location().await.unwrap_err();
    assert!(matches!(error, Error::Rpc { .. }), "{error:?}");
}

#[tokio::test]
async fn mention_text_of_room_messages_from_the_official_server() {
    let official = Official::plaintext();
    let (bot, mut events) = started(&official).await;

    // Cora @-mentions Ann (shown by her room alias) and the bot, as WeChat writes it.
    let (id, _) = said(
        &official,
        &mut events,
        "/say",
        json!({"from": "cora", "room": "r1@chatroom", "mentions": ["ann", "self"],
               "text": "@Ali (room nick)\u{2005}@Interop Bot lunch?"}),
    )
    .await;
    let message = bot.message(id.as_str());
    let mentioned: Vec<String> = message
        .mention_list()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id().to_string())
        .collect();
    assert_eq!(mentioned, ["ann", "self"], "mention_ids, in order");
    assert!(message.mention_self().await.unwrap());
    assert_eq!(message.mention_text().await.unwrap(), "lunch?");
    assert_eq!(
        message.text().await.unwrap(),
        "@Ali (room nick)\u{2005}@Interop Bot lunch?"
    );

    // A member without a room alias is mentioned by name, in the middle of the text.
    let (id, _) = said(
        &official,
        &mut events,
        "/say",
        json!({"from": "ann", "room": "r1@chatroom", "mentions": ["ben"], "text": "ping @Ben now"}),
    )
    .await;
    let message = bot.message(id.as_str());
    assert!(!message.mention_self().await.unwrap());
    assert_eq!(message.mention_text().await.unwrap(), "ping now");
}

/// The relay owns the official server's Event stream: its login replay, a room message (its
/// conversation looked up with `MessagePayload`) and a join are stored under their subjects.
#[tokio::test]
async fn the_relay_publishes_the_official_servers_events() {
    use wechaty_client::relay::{subject_token, Relay, RelayOptions, RelayState};
    let Some(nats) = common::nats::NatsServer::shared("the_relay_publishes_the_official") else {
        return;
    };
    let official = Official::plaintext();
    let bot = bot_of(&official).await;
    let stream = common::nats::unique_stream("INTEROP");
    let relay = Relay::start(&bot, RelayOptions::new(nats.url()).stream(&stream))
        .await
        .unwrap();
    timeout(WAIT, relay.state().wait_for(|s| *s == RelayState::Relaying))
        .await
        .expect("relaying in time")
        .unwrap();

    official.control(
        "POST",
        "/say",
        json!({"from": "ben", "room": "r1@chatroom", "text": "relayed"}),
    );
    official.emit(
        "room-join",
        json!({"roomId": "r1@chatroom", "inviteeIdList": ["dan"], "inviterId": "ann", "timestamp": 1_795_626_223_867u64}),
    );
    let prefix = relay.subject_prefix();
    let room = subject_token("r1@chatroom");
    let in_room = timeout(WAIT, async {
        loop {
            let stored =
                common::jetstream::stored(&nats, &stream, &format!("{prefix}.*.*.{room}.*")).await;
            if stored.len() >= 2 {
                return stored;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the room's events in the stream");
    let types: Vec<&str> = in_room
        .iter()
        .map(|stored| stored.subject.split('.').nth(3).unwrap())
        .collect();
    assert_eq!(types, ["message", "room-join"]);
    assert!(in_room[0].subject.contains(".event.message."));
    assert!(in_room[1].subject.contains(".state.room-join."));
    assert_eq!(in_room[0].headers["Wechaty-Room"], "r1@chatroom");
    assert!(in_room[0].headers["Nats-Msg-Id"].starts_with("message:"));
    // The login the server replays to a new stream is there too.
    let logins =
        common::jetstream::stored(&nats, &stream, &format!("{prefix}.state.login.>")).await;
    assert!(!logins.is_empty());
    relay.stop();
    relay.wait().await.unwrap();
}
