//! The relay against the mock service and a real nats-server (skipped, with a message, when
//! nats-server is not installed): every event stored once with its subject and headers, NATS
//! away means back-pressure and nothing lost, a standby takes over.

mod common;

use std::time::Duration;

use common::jetstream::stored;
use common::nats::{unique_stream, NatsServer};
use common::{serve, WAIT};
use tokio::sync::watch;
use tokio::time::timeout;
use wechaty_client::mock::{MockServer, MockWorld};
use wechaty_client::relay::{
    subject_token, Relay, RelayOptions, RelayState, HEADER_EVENT_ID, HEADER_ROOM, HEADER_TIMESTAMP,
    HEADER_TYPE,
};
use wechaty_client::Wechaty;

/// A mock service and a relay of its Event stream into `options`' stream, relaying.
struct Relaying {
    world: MockWorld,
    _server: MockServer,
    _bot: Wechaty,
    relay: Relay,
}

async fn relaying(options: RelayOptions) -> Relaying {
    let world = MockWorld::demo();
    let server = serve("relay-token", world.clone()).await;
    let bot = server.bot_builder().build().await.expect("valid settings");
    let relay = Relay::start(&bot, options).await.expect("the relay starts");
    reach(&mut relay.state(), RelayState::Relaying).await;
    Relaying {
        world,
        _server: server,
        _bot: bot,
        relay,
    }
}

async fn reach(state: &mut watch::Receiver<RelayState>, wanted: RelayState) {
    timeout(WAIT, state.wait_for(|state| *state == wanted))
        .await
        .unwrap_or_else(|_| panic!("the relay never reached {wanted:?}"))
        .expect("the relay runs");
}

/// Waits until the relay has stored (or recognised as stored) `events` events.
async fn settled(relay: &Relay, events: u64) {
    timeout(Duration::from_secs(30), async {
        loop {
            let stats = relay.statistics();
            if stats.relayed + stats.duplicates >= events && stats.buffered_events == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the relay did not settle: {:?}", relay.statistics()));
}

#[tokio::test]
async fn every_event_is_stored_once_under_its_room_with_its_headers() {
    let Some(nats) = NatsServer::shared("every_event_is_stored_once") else {
        return;
    };
    let once = unique_stream("ONCE");
    let Relaying {
        world,
        relay,
        _server,
        _bot,
    } = relaying(RelayOptions::new(nats.url()).stream(&once)).await;
    let before = relay.statistics().relayed;

    let in_room = world.receive_text("ann", Some("r1@chatroom"), "hello room");
    world.join("r1@chatroom", &["dan"], Some("ann"));
    let direct = world.receive_text("ben", None, "hello bot");
    // The service sends the room message again (as around a reconnect): JetStream keeps one.
    world.emit_raw(2, format!(r#"{{"messageId":"{in_room}"}}"#));
    settled(&relay, before + 4).await;
    assert_eq!(relay.statistics().duplicates, 1, "{:?}", relay.statistics());

    let prefix = relay.subject_prefix();
    let messages = stored(&nats, &once, &format!("{prefix}.event.message.>")).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    let room = &messages[0];
    let room_token = subject_token("r1@chatroom");
    assert!(
        room.subject
            .starts_with(&format!("{prefix}.event.message.{room_token}.p")),
        "{}",
        room.subject
    );
    assert_eq!(room.headers[HEADER_TYPE], "2");
    assert_eq!(room.headers[HEADER_EVENT_ID], format!("message:{in_room}"));
    assert_eq!(room.headers["Nats-Msg-Id"], format!("message:{in_room}"));
    assert_eq!(room.headers[HEADER_ROOM], "r1@chatroom");
    let millis: u128 = room.headers[HEADER_TIMESTAMP].parse().expect("a number");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(millis <= now && now - millis < 60_000, "{millis} vs {now}");
    // The body is the payload as the service sent it.
    assert_eq!(room.payload, format!(r#"{{"messageId":"{in_room}"}}"#));
    let direct_stored = &messages[1];
    assert!(
        direct_stored
            .subject
            .starts_with(&format!("{prefix}.event.message._.p")),
        "{}",
        direct_stored.subject
    );
    assert_eq!(
        direct_stored.headers[HEADER_EVENT_ID],
        format!("message:{direct}")
    );
    assert!(!direct_stored.headers.contains_key(HEADER_ROOM));

    // A join is a `state` event (every worker follows it), in the room's partition.
    let joins = stored(&nats, &once, &format!("{prefix}.state.room-join.>")).await;
    assert_eq!(joins.len(), 1, "{joins:?}");
    let partition = |subject: &str| subject.rsplit('.').next().unwrap().to_string();
    assert_eq!(partition(&joins[0].subject), partition(&room.subject));
    assert!(joins[0].payload.contains("dan"));

    // One room's events, by filter, as a worker of one room would read them.
    let one_room = stored(&nats, &once, &format!("{prefix}.*.*.{room_token}.*")).await;
    assert_eq!(one_room.len(), 2, "{one_room:?}");

    relay.stop();
    relay.wait().await.expect("a clean stop");
}

#[tokio::test]
async fn nats_away_fills_the_buffer_then_holds_the_service_back_and_loses_nothing() {
    let Some(mut nats) = NatsServer::start("nats_away_fills_the_buffer") else {
        return;
    };
    let away = unique_stream("AWAY");
    let options = RelayOptions::new(nats.url())
        .stream(&away)
        .buffer(50, 1024 * 1024);
    let Relaying {
        world,
        relay,
        _server,
        _bot,
    } = relaying(options).await;
    let mut state = relay.state();
    let before = relay.statistics().relayed;

    nats.stop();
    // 6 MB of events: more than the relay's buffer (1 MiB) and HTTP/2's windows hold.
    const SENT: u64 = 400;
    let padding = "x".repeat(16 * 1024);
    for i in 0..SENT {
        world.emit_raw(1, format!(r#"{{"data":"{i} {padding}"}}"#));
    }
    reach(&mut state, RelayState::BackPressure).await;
    let held = relay.statistics();
    assert!(held.buffered_events <= 50, "{held:?}");
    // The relay stopped reading: the service still holds events (HTTP/2 pushed back).
    timeout(WAIT, async {
        while world.pending_events() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the service holds events the relay did not read");

    nats.restart();
    settled(&relay, before + SENT).await;
    let prefix = relay.subject_prefix();
    let beats = stored(&nats, &away, &format!("{prefix}.event.heartbeat.>")).await;
    let order: Vec<u64> = beats
        .iter()
        // Not the service's greeting heartbeat.
        .filter(|stored| stored.payload.len() > 1024)
        .map(|stored| {
            let data = stored.payload.trim_start_matches(r#"{"data":""#);
            data.split(' ').next().unwrap().parse().expect("the index")
        })
        .collect();
    assert_eq!(
        order,
        (0..SENT).collect::<Vec<_>>(),
        "every event once, in order"
    );
    relay.stop();
    relay.wait().await.expect("a clean stop");
}

#[tokio::test]
async fn a_standby_relay_takes_over_when_the_active_one_stops() {
    let Some(nats) = NatsServer::shared("a_standby_relay_takes_over") else {
        return;
    };
    let world = MockWorld::demo();
    let server = serve("relay-token", world.clone()).await;
    let first_bot = server.bot_builder().build().await.expect("valid settings");
    let second_bot = server.bot_builder().build().await.expect("valid settings");
    let ha = unique_stream("HA");
    let options = RelayOptions::new(nats.url()).stream(&ha);
    let first = Relay::start(&first_bot, options.clone())
        .await
        .expect("the first relay starts");
    reach(&mut first.state(), RelayState::Relaying).await;
    let second = Relay::start(&second_bot, options)
        .await
        .expect("the second relay starts");
    let mut second_state = second.state();
    reach(&mut second_state, RelayState::Standby).await;

    let before = world.receive_text("ann", None, "before the switch");
    settled(&first, first.statistics().relayed + 1).await;
    assert_eq!(second.statistics().relayed, 0);

    first.stop();
    first.wait().await.expect("a clean stop");
    let switch = std::time::Instant::now();
    reach(&mut second_state, RelayState::Relaying).await;
    assert!(
        switch.elapsed() < Duration::from_secs(5),
        "{:?}",
        switch.elapsed()
    );

    // The service sends the last message again around the switch: stored once.
    world.emit_raw(2, format!(r#"{{"messageId":"{before}"}}"#));
    let after = world.receive_text("ann", None, "after the switch");
    settled(&second, 2).await;
    let stats = second.statistics();
    assert_eq!(stats.duplicates, 1, "{stats:?}");
    let prefix = second.subject_prefix();
    let ids: Vec<String> = stored(&nats, &ha, &format!("{prefix}.event.message.>"))
        .await
        .into_iter()
        .map(|stored| stored.headers[HEADER_EVENT_ID].clone())
        .collect();
    assert_eq!(
        ids,
        [format!("message:{before}"), format!("message:{after}")]
    );
    second.stop();
    second.wait().await.expect("a clean stop");
}

#[tokio::test]
async fn a_relay_stopped_while_nats_is_away_ends_after_its_grace() {
    let Some(mut nats) = NatsServer::start("a_relay_stopped_while_nats_is_away") else {
        return;
    };
    let options = RelayOptions::new(nats.url())
        .stream(unique_stream("GRACE"))
        .stop_grace(Duration::from_millis(500));
    let Relaying {
        world,
        relay,
        _server,
        _bot,
    } = relaying(options).await;
    let mut state = relay.state();
    nats.stop();
    for i in 0..10 {
        world.emit_raw(1, format!(r#"{{"data":"held {i}"}}"#));
    }
    timeout(WAIT, async {
        while relay.statistics().buffered_events < 10 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the events reach the buffer");
    let stopping = std::time::Instant::now();
    relay.stop();
    timeout(WAIT, relay.wait())
        .await
        .expect("a stop does not wait for NATS forever")
        .expect("a clean stop");
    let took = stopping.elapsed();
    assert!(
        took >= Duration::from_millis(500),
        "it gave NATS its grace: {took:?}"
    );
    assert_eq!(*state.borrow_and_update(), RelayState::Stopped);
}
