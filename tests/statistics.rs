//! `bot.statistics()` counts what the bot did.

mod common;

use std::time::Duration;

use common::{next, next_matching, quick_retries};
use wechaty_client::mock::MockWorld;
use wechaty_client::{Code, Event, SendLimits};

const TOKEN: &str = "insecure_statistics";

#[tokio::test]
async fn events_rpcs_caches_reconnects_and_sends_are_counted() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let limits = SendLimits {
        conversation_gap: Duration::from_millis(30),
        per_minute: 6000,
        burst: 10,
        max_waiting: 10,
    };
    let (bot, mut events) = common::started(
        server
            .bot_builder()
            .send_limits(Some(limits))
            .reconnect_policy(quick_retries()),
    )
    .await;
    let mut slow = bot.events();

    // Events by type, and a malformed one.
    let world = server.world();
    world.change_topic("r1@chatroom", "One", None);
    world.emit_raw(2, "{not json");
    world.receive_text("ann", Some("r1@chatroom"), "hi");
    next_matching(&mut events, |event| matches!(event, Event::Message { .. })).await;
    let early = bot.statistics();
    assert_eq!(
        early.events.get("room-topic"),
        Some(&1),
        "{:?}",
        early.events
    );
    assert_eq!(early.events.get("message"), Some(&1));
    assert_eq!(early.events.get("malformed"), Some(&1));
    assert_eq!(early.malformed_events, 1);
    assert!(early.events.get("login").is_some_and(|&logins| logins >= 1));

    // RPCs: a miss then a hit in the room cache, a failure by code.
    let room = bot.room("r1@chatroom");
    room.topic().await.unwrap();
    room.topic().await.unwrap();
    server.faults().fail_next("Version", Code::Internal, "boom");
    assert!(bot.version().await.is_err());
    bot.version().await.unwrap();

    // Three sends into one room: the two after the first wait for the gap.
    for text in ["a", "b", "c"] {
        room.say(text).await.unwrap();
    }

    let before = bot.statistics().caches.rooms;
    assert_eq!(before.entries, 1);
    assert!(before.bytes > 0);

    // A reconnect.
    world.end_event_stream();
    next_matching(&mut events, |event| matches!(event, Event::Reconnected)).await;

    let stats = bot.statistics();
    assert_eq!(stats.reconnects, 1);

    let version = &stats.rpcs["Version"];
    assert_eq!(version.calls, 2);
    assert_eq!(version.errors, vec![(Code::Internal, 1)]);
    assert!(version.max_latency > Duration::ZERO);
    assert_eq!(stats.rpcs["MessageSendText"].calls, 3);
    assert!(
        stats.rpcs["Event"].calls >= 2,
        "the first open and the reopen"
    );
    assert_eq!(
        stats.rpcs["RoomPayload"].calls, 1,
        "the second topic was cached"
    );
    assert_eq!(
        (stats.caches.rooms.hits, stats.caches.rooms.misses),
        (1, 1),
        "{:?}",
        stats.caches.rooms
    );
    // The reconnect emptied the caches: their bytes went with the entries.
    assert_eq!(
        (stats.caches.rooms.entries, stats.caches.rooms.bytes),
        (0, 0)
    );

    assert_eq!(stats.sends.delayed, 2);
    assert!(stats.sends.total_delay >= Duration::from_millis(30));
    assert_eq!((stats.sends.waiting, stats.sends.refused), (0, 0));

    // The subscriber that never read has everything buffered; then reading it empties it.
    assert!(stats.buffered_event_bytes > 0);
    while !matches!(next(&mut slow).await, Event::Reconnected) {}
    // The mock's bot builder has no limiter: nothing to count.
    let unlimited = server.bot_builder().build().await.unwrap();
    unlimited.room("r1@chatroom").say("x").await.unwrap();
    assert_eq!(unlimited.statistics().sends.delayed, 0);
}
