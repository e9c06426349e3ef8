//! Faults, as a client meets them: connections that go silent, services that restart, drop the
//! stream at once or hand it to another client, opens that fail late, tokens revoked, events
//! malformed or oversized, bots that go away. Against the mock, through an in-test TCP proxy
//! where the network itself misbehaves. Two more parts of the suite live in binaries of their
//! own: `slow_subscriber.rs` (it counts heap bytes with its own allocator) and `files.rs`
//! (transfers cut, stalled or pointed at the local network).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::proxy::Proxy;
use common::{next_matching, past_replay, quick_retries, WAIT};
use serde_json::json;
use tokio::time::timeout;
use wechaty_client::mock::{MockPuppetService, MockServer, MockWorld};
use wechaty_client::{Code, ConnectionState, Event, ReconnectPolicy, Wechaty};

const TOKEN: &str = "insecure_faults";

/// A reconnect policy that waits `wait` and writes down each attempt number it was asked for.
#[derive(Clone)]
struct Recording {
    wait: Duration,
    attempts: Arc<Mutex<Vec<u32>>>,
}

impl Recording {
    fn new(wait: Duration) -> Self {
        Self {
            wait,
            attempts: Arc::default(),
        }
    }

    fn attempts(&self) -> Vec<u32> {
        self.attempts.lock().unwrap().clone()
    }
}

impl ReconnectPolicy for Recording {
    fn delay(&self, attempt: u32) -> Option<Duration> {
        self.attempts.lock().unwrap().push(attempt);
        Some(self.wait)
    }
}

fn topic(round: u64) -> serde_json::Value {
    json!({"roomId": "r1@chatroom", "newTopic": format!("T{round}"), "oldTopic": "", "timestamp": round})
}

async fn wait_for_state(
    bot: &Wechaty,
    wanted: impl Fn(&ConnectionState) -> bool,
) -> ConnectionState {
    let mut states = bot.connection_state();
    let state = timeout(WAIT, states.wait_for(|state| wanted(state)))
        .await
        .expect("the state comes in time")
        .expect("the bot is alive")
        .clone();
    state
}

#[tokio::test]
async fn a_black_holed_connection_is_left_for_a_fresh_one_in_bounded_time() {
    // Heartbeats well within the watchdog, so only the black hole trips it.
    let server = MockPuppetService::builder()
        .token(TOKEN)
        .world(MockWorld::demo())
        .heartbeat_interval(Some(Duration::from_millis(200)))
        .serve()
        .await
        .unwrap();
    let proxy = Proxy::start(server.endpoint()).await;
    let (watchdog, connect_timeout) = (Duration::from_secs(1), Duration::from_secs(1));
    let bot = server
        .bot_builder()
        .endpoint(proxy.endpoint.clone())
        .watchdog(watchdog)
        .connect_timeout(connect_timeout)
        .reconnect_policy(quick_retries())
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    bot.connect().await.unwrap();
    past_replay(&mut events).await;

    // The path goes silent without closing: the client cannot tell until the watchdog fires.
    proxy.black_hole_existing();
    let cut = Instant::now();
    next_matching(&mut events, |e| matches!(e, Event::Reconnected)).await;
    let recovered = cut.elapsed();
    // Watchdog + connect timeout + backoff (at most 200 ms), and a margin for a busy machine.
    assert!(
        recovered
            < watchdog + connect_timeout + Duration::from_millis(200) + Duration::from_secs(2),
        "recovered after {recovered:?}"
    );
    // Over a new connection, events flow again.
    assert!(proxy.accepted() >= 2);
    server.world().emit_json(21, topic(1));
    next_matching(&mut events, |e| matches!(e, Event::RoomTopic(_))).await;
    eprintln!("a black-holed connection recovered in {recovered:?}");
}

#[tokio::test]
async fn streams_dropped_at_once_do_not_reset_the_backoff() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let policy = Recording::new(Duration::from_millis(10));
    let bot = server
        .bot_builder()
        .reconnect_policy(policy.clone())
        .build()
        .await
        .unwrap();
    bot.connect().await.unwrap();
    // The service accepts every stream and ends it right away, four times.
    for _ in 0..4 {
        timeout(WAIT, async {
            while !server.world().has_event_stream() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        let before = policy.attempts().len();
        server.world().end_event_stream();
        timeout(WAIT, async {
            while policy.attempts().len() == before {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
    }
    // Each short-lived stream counts as one more attempt: a service that accepts and closes is
    // retried less and less often, not twice a second forever.
    assert_eq!(policy.attempts(), [1, 2, 3, 4]);
}

#[tokio::test(start_paused = true)]
async fn a_first_open_that_fails_after_start_returned_is_retried() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    // The first open answers after the grace period of `connect()`, and with a failure.
    server.faults().delay("Event", Duration::from_secs(8));
    server
        .faults()
        .fail_next("Event", Code::Unavailable, "warming up");
    let policy = Recording::new(Duration::from_millis(100));
    let bot = server
        .bot_builder()
        .reconnect_policy(policy.clone())
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    bot.connect().await.unwrap();
    let state = wait_for_state(&bot, |state| {
        matches!(state, ConnectionState::Reconnecting { .. })
    })
    .await;
    assert!(
        matches!(state, ConnectionState::Reconnecting { attempt: 1 }),
        "{state:?}"
    );
    wait_for_state(&bot, ConnectionState::is_connected).await;
    assert_eq!(policy.attempts(), [1]);
    next_matching(&mut events, |e| matches!(e, Event::Login { .. })).await;
}

#[tokio::test]
async fn a_stream_held_by_another_client_is_shown_and_taken_when_it_frees() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let bot = server
        .bot_builder()
        .reconnect_policy(Recording::new(Duration::from_millis(300)))
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    bot.connect().await.unwrap();
    past_replay(&mut events).await;
    // The stream ends, and another client takes the slot before this one comes back.
    server.world().end_event_stream();
    let other = server.bot_builder().build().await.unwrap();
    timeout(WAIT, async {
        while other.connect().await.is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    let state = wait_for_state(&bot, |state| {
        matches!(state, ConnectionState::StreamTaken { .. })
    })
    .await;
    assert!(matches!(state, ConnectionState::StreamTaken { attempt } if attempt >= 1));
    other.stop();
    next_matching(&mut events, |e| matches!(e, Event::Reconnected)).await;
    assert!(bot.connection_state().borrow().is_connected());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_connect_leaves_nothing_holding_the_stream() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    server.faults().delay("Event", Duration::from_secs(3));
    let bot = server.bot_builder().build().await.unwrap();
    assert!(timeout(Duration::from_secs(1), bot.connect())
        .await
        .is_err());
    // Long after the delayed open would have been answered, nobody holds the stream.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(!bot.is_connected());
    assert!(!server.world().has_event_stream());
    server.faults().clear();
    let other = server.bot_builder().build().await.unwrap();
    other.connect().await.unwrap();
}

#[tokio::test]
async fn handlers_and_room_streams_do_not_keep_a_dropped_bot_alive() {
    let server: MockServer = common::serve(TOKEN, MockWorld::demo()).await;
    let bot = server.bot_builder().build().await.unwrap();
    let on_message = bot.on_message(|_| async { Ok(()) });
    let on_invite = bot.on_room_invite(|_| async { Ok(()) });
    let on_join = bot.room("r1@chatroom").on_join(|_| async { Ok(()) });
    let room_events = bot.room("r1@chatroom").events();
    bot.connect().await.unwrap();
    assert!(server.world().has_event_stream());
    drop(bot);
    // The last handle is gone: the stream, the connection and every handler with it.
    timeout(WAIT, async {
        while server.world().has_event_stream()
            || !(on_message.is_finished() && on_invite.is_finished() && on_join.is_finished())
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the bot goes when its last handle does");
    drop(room_events);
}

/// Reconnects after a fixed short wait, whatever the attempt.
#[derive(Clone, Copy)]
struct Constant(Duration);

impl ReconnectPolicy for Constant {
    fn delay(&self, _attempt: u32) -> Option<Duration> {
        Some(self.0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_restarts_each_end_in_reconnected_and_events_flow_after_each() {
    let mut server = common::serve(TOKEN, MockWorld::demo()).await;
    let port: u16 = server
        .endpoint()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let world = server.world().clone();
    let bot = server
        .bot_builder()
        .reconnect_policy(Constant(Duration::from_millis(10)))
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    bot.start().await.unwrap();
    past_replay(&mut events).await;
    let mut recoveries = Vec::new();
    for round in 0..100u64 {
        server.shutdown().await;
        let restarted = Instant::now();
        server = common::serve_on(port, TOKEN, world.clone()).await;
        next_matching(&mut events, |e| matches!(e, Event::Reconnected)).await;
        recoveries.push(restarted.elapsed());
        server.world().emit_json(21, topic(round));
        match next_matching(&mut events, |e| matches!(e, Event::RoomTopic(_))).await {
            Event::RoomTopic(changed) => assert_eq!(changed.new_topic, format!("T{round}")),
            _ => unreachable!(),
        }
    }
    recoveries.sort();
    let (median, max) = (recoveries[50], recoveries[99]);
    eprintln!("100 restarts: reconnected after {median:?} (median), {max:?} (max)");
    assert_eq!(bot.statistics().reconnects, 100);
    assert!(bot.is_logged_in());
}

#[tokio::test(start_paused = true)]
async fn a_service_that_accepts_and_closes_gets_a_few_reconnects_a_minute() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let proxy = Proxy::start(server.endpoint()).await;
    // The default backoff: 500 ms doubling to 30 s, with jitter.
    let bot = server
        .bot_builder()
        .endpoint(proxy.endpoint.clone())
        .reconnect_policy(wechaty_client::ExponentialBackoff::default())
        .build()
        .await
        .unwrap();
    bot.connect().await.unwrap();
    // From now on every connection is accepted and closed at once.
    proxy.refuse_new(true);
    proxy.cut_existing();
    // Attempts to open the stream (each also probes whether the endpoint speaks TLS, which
    // the proxy counts as a second connection).
    let opens = || {
        bot.statistics()
            .rpcs
            .get("Event")
            .map_or(0, |event| event.calls)
    };
    let start = opens();
    let mut per_minute = Vec::new();
    for _ in 0..5 {
        let before = opens();
        tokio::time::sleep(Duration::from_secs(60)).await;
        per_minute.push(opens() - before);
    }
    eprintln!("accept-then-close: reconnect attempts per minute {per_minute:?}");
    // 0.5 + 1 + 2 + 4 + 8 + 16 + 30 s, ± 20 %: about seven in the first minute, then two.
    assert!(per_minute[0] <= 9, "{per_minute:?}");
    assert!(per_minute[1..].iter().all(|&n| n <= 3), "{per_minute:?}");
    assert!(opens() - start >= 12, "it keeps trying: {per_minute:?}");
    // When the service works again, so does the bot: at its next attempt, within 36 s.
    proxy.refuse_new(false);
    let mut states = bot.connection_state();
    timeout(
        Duration::from_secs(40),
        states.wait_for(ConnectionState::is_connected),
    )
    .await
    .expect("back at the next attempt")
    .unwrap();
}

#[tokio::test]
async fn a_token_revoked_mid_session_is_final() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let bot = server
        .bot_builder()
        .reconnect_policy(Constant(Duration::from_millis(10)))
        .build()
        .await
        .unwrap();
    let mut events = bot.events();
    let mut room = bot.room("r1@chatroom").events();
    bot.connect().await.unwrap();
    past_replay(&mut events).await;
    let opens = server.world().calls("Event");
    server
        .world()
        .fail_event_stream(Code::Unauthenticated, "token revoked");
    let state = wait_for_state(&bot, |state| {
        matches!(state, ConnectionState::Closed { .. })
    })
    .await;
    assert!(
        matches!(&state, ConnectionState::Closed { error: Some(error) } if matches!(**error, wechaty_client::Error::Unauthenticated)),
        "{state:?}"
    );
    // Every stream ends; nothing retries.
    assert_eq!(timeout(WAIT, events_end(&mut events)).await, Ok(()));
    assert!(timeout(WAIT, tokio_stream::StreamExt::next(&mut room))
        .await
        .unwrap()
        .is_none());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.world().calls("Event"), opens, "no retry storm");
}

/// Reads `events` until it ends.
async fn events_end(events: &mut wechaty_client::Events) {
    while tokio_stream::StreamExt::next(events).await.is_some() {}
}

#[tokio::test]
async fn malformed_and_oversized_events_are_skipped_counted_and_the_stream_goes_on() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let (bot, mut events) = common::started(server.bot_builder()).await;
    server.world().emit_raw(2, "{not json");
    server.world().emit_raw(19, r#"{"roomId": 42}"#);
    // Well-formed, but past the 256 KiB cap on one event's payload.
    let huge = format!(r#"{{"messageId": "{}"}}"#, "m".repeat(300 * 1024));
    server.world().emit_raw(2, huge);
    server.world().emit_raw(2, r#"{"messageId": "fine"}"#);
    assert!(matches!(
        common::next(&mut events).await,
        Event::Malformed { kind: 2, .. }
    ));
    assert!(matches!(
        common::next(&mut events).await,
        Event::Malformed { kind: 19, .. }
    ));
    match common::next(&mut events).await {
        Event::Malformed { kind: 2, reason } => {
            assert!(reason.contains("max_event_payload"), "{reason}")
        }
        other => panic!("expected the oversized event skipped, got {other:?}"),
    }
    assert_eq!(
        common::next(&mut events).await,
        Event::Message {
            message_id: "fine".into()
        }
    );
    assert_eq!(bot.malformed_events(), 3);
    assert!(bot.connection_state().borrow().is_connected());
}
