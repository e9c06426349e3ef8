//! The Event stream against the mock: typed events, per-room channels, lagging subscribers,
//! reconnects, the watchdog, and login state.

mod common;

use std::time::Duration;

use common::{next, next_matching, next_room, past_replay, quick_retries, WAIT};
use serde_json::json;
use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::mock::{MockServer, MockWorld};
use wechaty_client::{
    Code, ConnectionState, ContactId, Error, Event, Events, PayloadType, RoomEvent, ScanStatus,
    Wechaty,
};

const TOKEN: &str = "insecure_events";

async fn serve(world: MockWorld, port: u16, token: &str) -> MockServer {
    common::serve_on(port, token, world).await
}

/// A bot that reconnects quickly, with its Event stream open (not started).
async fn connected(server: &MockServer) -> (Wechaty, Events) {
    let bot = server
        .bot_builder()
        .reconnect_policy(quick_retries())
        .build()
        .await
        .unwrap();
    let events = bot.events();
    bot.connect().await.unwrap();
    (bot, events)
}

#[tokio::test]
async fn every_event_type_arrives_decoded() {
    let server = serve(MockWorld::demo(), 0, TOKEN).await;
    let (_bot, mut events) = connected(&server).await;
    past_replay(&mut events).await;
    let world = server.world();
    let sent: Vec<(i32, serde_json::Value)> = vec![
        (1, json!({"data": "beat"})),
        (2, json!({"messageId": "m1"})),
        (3, json!({"data": "d"})),
        (4, json!({"postId": "p1"})),
        (16, json!({"gerror": "{\"code\":2,\"message\":\"boom\"}"})),
        (17, json!({"friendshipId": "f1"})),
        (18, json!({"roomInvitationId": "i1"})),
        (
            19,
            json!({"roomId": "r1@chatroom", "inviteeIdList": ["dan"], "inviterId": "ann", "timestamp": 1_700_000_000}),
        ),
        (
            20,
            json!({"roomId": "r1@chatroom", "removeeIdList": ["ben"], "removerId": "ann", "timestamp": 1_700_000_000_000u64}),
        ),
        (
            21,
            json!({"roomId": "r1@chatroom", "newTopic": "N", "oldTopic": "O", "changerId": "ann", "timestamp": 1}),
        ),
        (22, json!({"status": 2, "qrcode": "https://qr"})),
        (23, json!({"data": "ready"})),
        (24, json!({"data": "reset"})),
        (25, json!({"contactId": "bot2"})),
        (26, json!({"contactId": "bot2", "data": "bye"})),
        (27, json!({"payloadType": 3, "payloadId": "r1@chatroom"})),
        (
            32,
            json!({"roomId": "r1@chatroom", "newAnnounce": "A", "changerId": "ann", "timestamp": 1}),
        ),
        (99, json!({"what": "future"})),
    ];
    for (kind, payload) in &sent {
        world.emit_json(*kind, payload.clone());
    }
    let mut names = Vec::new();
    for _ in &sent {
        let event = next(&mut events).await;
        match &event {
            Event::Error(error) => assert_eq!(error.message, "boom"),
            Event::RoomJoin(join) => {
                assert_eq!(join.invitee_ids, [ContactId::from("dan")]);
                // 1.7e9 < 1e11: seconds.
                let secs = join
                    .date
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                assert_eq!(secs, 1_700_000_000);
            }
            Event::RoomLeave(leave) => {
                let secs = leave
                    .date
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                assert_eq!(secs, 1_700_000_000);
            }
            Event::Scan { status, qrcode, .. } => {
                assert_eq!(*status, ScanStatus::Waiting);
                assert_eq!(qrcode.as_deref(), Some("https://qr"));
            }
            Event::Dirty { payload_type, .. } => assert_eq!(*payload_type, PayloadType::Room),
            Event::RoomAnnounce(announce) => assert_eq!(announce.new_announce, "A"),
            Event::Unknown { kind, .. } => assert_eq!(*kind, 99),
            _ => {}
        }
        names.push(event.name());
    }
    assert_eq!(
        names,
        [
            "heartbeat",
            "message",
            "dong",
            "post",
            "error",
            "friendship",
            "room-invite",
            "room-join",
            "room-leave",
            "room-topic",
            "scan",
            "ready",
            "reset",
            "login",
            "logout",
            "dirty",
            "room-announce",
            "unknown"
        ]
    );
}

#[tokio::test]
async fn a_room_sees_only_its_own_events() {
    let server = serve(MockWorld::demo(), 0, TOKEN).await;
    let (bot, mut events) = connected(&server).await;
    past_replay(&mut events).await;
    let mut team = bot.room("r1@chatroom").events();
    let mut weekend = bot.room("r2@chatroom").events();
    let world = server.world();
    world.emit_json(19, json!({"roomId": "r1@chatroom", "inviteeIdList": ["dan"], "inviterId": "ann", "timestamp": 1}));
    world.emit_json(21, json!({"roomId": "r2@chatroom", "newTopic": "Sunday", "oldTopic": "Weekend", "changerId": "ben", "timestamp": 2}));
    world.receive_text("ben", Some("r2@chatroom"), "hi weekend");
    world.receive_text("ann", Some("r1@chatroom"), "hi team");
    world.emit_json(20, json!({"roomId": "r1@chatroom", "removeeIdList": ["dan"], "removerId": "ann", "timestamp": 3}));

    let RoomEvent::Join(join) = next_room(&mut team).await else {
        panic!("expected the join first")
    };
    assert_eq!(join.invitee_ids, [ContactId::from("dan")]);
    // The message needs a payload lookup, so it may come after the leave.
    let (mut saw_message, mut saw_leave) = (false, false);
    while !(saw_message && saw_leave) {
        match next_room(&mut team).await {
            RoomEvent::Message(message) => {
                let payload = message.payload().await.unwrap();
                assert_eq!(payload.text.as_deref(), Some("hi team"));
                saw_message = true;
            }
            RoomEvent::Leave(leave) => {
                assert_eq!(leave.removee_ids, [ContactId::from("dan")]);
                saw_leave = true;
            }
            other => panic!("r1 got {other:?}"),
        }
    }
    let RoomEvent::Topic(topic) = next_room(&mut weekend).await else {
        panic!("expected the topic")
    };
    assert_eq!(topic.new_topic, "Sunday");
    let RoomEvent::Message(message) = next_room(&mut weekend).await else {
        panic!("expected the message")
    };
    assert_eq!(
        message.payload().await.unwrap().text.as_deref(),
        Some("hi weekend")
    );
    // Nothing else for either room.
    assert!(timeout(Duration::from_millis(200), team.next())
        .await
        .is_err());
    assert!(timeout(Duration::from_millis(200), weekend.next())
        .await
        .is_err());
}

#[tokio::test]
async fn a_slow_subscriber_lags_and_continues_without_slowing_others() {
    let server = serve(MockWorld::demo(), 0, TOKEN).await;
    let (bot, mut events) = connected(&server).await;
    past_replay(&mut events).await;
    let room = bot.room("r1@chatroom");
    let mut slow = room.events();
    let mut fast = room.events();
    let total = 1000;
    let fast_reader = tokio::spawn(async move {
        let mut seen = 0;
        while seen < total {
            match timeout(WAIT, fast.next()).await.unwrap().unwrap() {
                RoomEvent::Join(_) => seen += 1,
                other => panic!("the fast reader got {other:?}"),
            }
        }
        seen
    });
    for i in 0..total {
        server.world().emit_json(
            19,
            json!({"roomId": "r1@chatroom", "inviteeIdList": [format!("c{i}")], "timestamp": 1}),
        );
        // Pauses let the fast reader keep up however the runtime schedules the dispatch task.
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    assert_eq!(fast_reader.await.unwrap(), total);
    // The slow one never read: it has missed the oldest, then continues with the newest.
    let RoomEvent::Lagged { missed } = next_room(&mut slow).await else {
        panic!("expected a lag marker")
    };
    assert!(missed > 0);
    let mut rest = 0;
    while let Ok(Some(RoomEvent::Join(_))) = timeout(Duration::from_millis(200), slow.next()).await
    {
        rest += 1;
    }
    assert_eq!(missed + rest, total as u64);
}

#[tokio::test]
async fn a_restarted_service_is_reconnected_and_the_replay_is_recognised() {
    let world = MockWorld::demo();
    let server = serve(world.clone(), 0, TOKEN).await;
    let port = server.addr().port();
    let (bot, mut events) = connected(&server).await;
    past_replay(&mut events).await;
    let mut room = bot.room("r1@chatroom").events();
    assert_eq!(bot.current_user_id(), Some(ContactId::from("bot")));
    let mut states = bot.connection_state();

    server.shutdown().await;
    let restarted = serve(world.clone(), port, TOKEN).await;

    // Subscribers keep their receivers; the first thing after the gap is the marker.
    assert_eq!(
        next_matching(&mut events, |e| !matches!(e, Event::Heartbeat { .. })).await,
        Event::Reconnected
    );
    assert!(matches!(next_room(&mut room).await, RoomEvent::Reconnected));
    timeout(WAIT, states.wait_for(ConnectionState::is_connected))
        .await
        .expect("connected again")
        .unwrap();

    // The replayed login (same user) and ready are not published again; new events are.
    restarted
        .world()
        .receive_text("ann", Some("r1@chatroom"), "after the restart");
    let after: Event = next_matching(&mut events, |e| !matches!(e, Event::Heartbeat { .. })).await;
    assert!(matches!(after, Event::Message { .. }), "{after:?}");
    let RoomEvent::Message(message) = next_room(&mut room).await else {
        panic!("expected the message")
    };
    assert_eq!(
        message.payload().await.unwrap().text.as_deref(),
        Some("after the restart")
    );
    assert_eq!(bot.current_user_id(), Some(ContactId::from("bot")));
    // One stream per server (the world, and so its call count, is shared by both).
    assert_eq!(restarted.world().calls("Event"), 2);
}

#[tokio::test]
async fn a_stream_cut_with_an_error_is_reopened() {
    let server = serve(MockWorld::demo(), 0, TOKEN).await;
    let (_bot, mut events) = connected(&server).await;
    past_replay(&mut events).await;
    server
        .world()
        .fail_event_stream(Code::Internal, "puppet crashed");
    next_matching(&mut events, |e| matches!(e, Event::Reconnected)).await;
    server.world().emit_json(3, json!({"data": "still here"}));
    assert_eq!(
        next_matching(&mut events, |e| matches!(e, Event::Dong { .. })).await,
        Event::Dong {
            data: Some("still here".into())
        }
    );
    assert_eq!(server.world().calls("Event"), 2);
}

// The clock is paused only once connected: loopback I/O and an auto-advancing clock race.
#[tokio::test(flavor = "current_thread")]
async fn a_silent_service_trips_the_watchdog() {
    let server = serve(MockWorld::demo(), 0, TOKEN).await;
    let bot = server
        .bot_builder()
        .watchdog(Duration::from_secs(60))
        .reconnect_policy(quick_retries())
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    bot.connect().await.unwrap();
    past_replay(&mut events).await;
    // A hung puppet: the stream stays open, nothing comes. After 60 s of (virtual) silence
    // the client drops the stream and opens a new one.
    server.world().set_silent(true);
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let mut states = bot.connection_state();
    timeout(
        Duration::from_secs(120),
        states.wait_for(|state| matches!(state, ConnectionState::Reconnecting { .. })),
    )
    .await
    .expect("the watchdog fires")
    .unwrap();
    server.world().set_silent(false);
    timeout(
        Duration::from_secs(120),
        next_matching(&mut events, |e| matches!(e, Event::Reconnected)),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(60));
    assert_eq!(server.world().calls("Event"), 2);
}

#[tokio::test]
async fn a_rejected_token_after_a_restart_closes_instead_of_retrying() {
    let world = MockWorld::demo();
    let server = serve(world.clone(), 0, TOKEN).await;
    let port = server.addr().port();
    let (bot, mut events) = connected(&server).await;
    past_replay(&mut events).await;
    server.shutdown().await;
    // The service comes back with another token.
    let changed = serve(world, port, "insecure_other").await;
    let mut states = bot.connection_state();
    timeout(WAIT, async {
        loop {
            if let ConnectionState::Closed { error } = &*states.borrow_and_update() {
                assert!(
                    matches!(error.as_deref(), Some(Error::Unauthenticated)),
                    "{error:?}"
                );
                break;
            }
            states.changed().await.unwrap();
        }
    })
    .await
    .expect("closed in time");
    // The stream ends (after anything buffered) and nobody keeps knocking.
    timeout(WAIT, async { while events.next().await.is_some() {} })
        .await
        .expect("the stream ends");
    let attempts = changed.world().calls("Event");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(changed.world().calls("Event"), attempts);
    let error = bot.connect().await.unwrap_err();
    assert!(matches!(error, Error::Unauthenticated), "{error:?}");
}

#[tokio::test]
async fn login_state_follows_the_events_and_stop_ends_the_streams() {
    let server = serve(MockWorld::demo(), 0, TOKEN).await;
    let (bot, mut events) = connected(&server).await;
    past_replay(&mut events).await;
    assert!(bot.is_logged_in());
    bot.logout().await.unwrap();
    next_matching(&mut events, |e| matches!(e, Event::Logout { .. })).await;
    assert!(!bot.is_logged_in());
    assert_eq!(bot.current_user_id(), None);

    let mut room = bot.room("r1@chatroom").events();
    bot.stop();
    assert!(timeout(WAIT, events.next()).await.unwrap().is_none());
    assert!(timeout(WAIT, room.next()).await.unwrap().is_none());
    assert!(matches!(
        *bot.connection_state().borrow(),
        ConnectionState::Closed { error: None }
    ));
}

#[tokio::test]
async fn handlers_are_called_per_event() {
    let server = serve(MockWorld::demo(), 0, TOKEN).await;
    let bot = server.bot_builder().build().await.unwrap();
    let (joins_tx, mut joins) = tokio::sync::mpsc::unbounded_channel();
    let (messages_tx, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let on_join = bot.room("r1@chatroom").on_join(move |join| {
        let joins_tx = joins_tx.clone();
        async move {
            let ids: Vec<String> = join.invitees.iter().map(|c| c.id().to_string()).collect();
            let _ = joins_tx.send(ids);
            Ok(())
        }
    });
    bot.on_message(move |message| {
        let messages_tx = messages_tx.clone();
        async move {
            let text = message.payload().await?.text;
            let _ = messages_tx.send(text);
            Ok(())
        }
    })
    .detach();
    bot.start().await.unwrap();
    server.world().emit_json(
        19,
        json!({"roomId": "r2@chatroom", "inviteeIdList": ["x"], "timestamp": 1}),
    );
    server.world().emit_json(
        19,
        json!({"roomId": "r1@chatroom", "inviteeIdList": ["dan"], "timestamp": 1}),
    );
    server.world().receive_text("ann", None, "hello handler");
    assert_eq!(timeout(WAIT, joins.recv()).await.unwrap().unwrap(), ["dan"]);
    assert_eq!(
        timeout(WAIT, messages.recv())
            .await
            .unwrap()
            .unwrap()
            .as_deref(),
        Some("hello handler")
    );
    on_join.cancel();
}
