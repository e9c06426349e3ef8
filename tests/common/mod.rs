//! Helpers shared by the integration tests: a mock service, a started bot, and awaiting
//! events with a timeout (a test that waits for a stream never hangs).

// Each test binary uses its own part of these.
#![allow(dead_code)]

pub mod capture;
pub mod heap;
pub mod jetstream;
pub mod nats;
#[cfg(feature = "interop")]
pub mod official;
pub mod proxy;

use std::time::Duration;

use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::mock::{MockPuppetService, MockServer, MockWorld};
use wechaty_client::{
    Event, Events, ExponentialBackoff, RoomEvent, RoomEvents, Wechaty, WechatyBuilder,
};

/// How long a test waits for something the mock should do.
pub const WAIT: Duration = Duration::from_secs(10);

/// The mock serving `world` under `token` on a free port, without periodic heartbeats: tests
/// that check the order of events see only what they cause.
pub async fn serve(token: &str, world: MockWorld) -> MockServer {
    serve_on(0, token, world).await
}

/// The same on `port` (0: any), to restart a service where its clients expect it.
pub async fn serve_on(port: u16, token: &str, world: MockWorld) -> MockServer {
    MockPuppetService::builder()
        .token(token)
        .port(port)
        .world(world)
        .heartbeat_interval(None)
        .serve()
        .await
        .expect("the mock serves")
}

/// Reconnects within milliseconds, so tests of reconnects stay fast.
pub fn quick_retries() -> ExponentialBackoff {
    ExponentialBackoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(200),
        factor: 2.0,
        jitter: 0.0,
    }
}

/// A bot from `builder`, started (Event stream open, `Start` called) and past the replay of
/// login and ready, with its event stream.
pub async fn started(builder: WechatyBuilder) -> (Wechaty, Events) {
    let bot = builder.build().await.expect("valid settings");
    let mut events = bot.events();
    bot.start().await.expect("the bot starts");
    past_replay(&mut events).await;
    (bot, events)
}

/// The next event, failing the test after [`WAIT`].
pub async fn next(events: &mut Events) -> Event {
    timeout(WAIT, events.next())
        .await
        .expect("an event in time")
        .expect("the stream goes on")
}

/// The first event matching `wanted`, failing the test after [`WAIT`].
pub async fn next_matching(events: &mut Events, wanted: impl Fn(&Event) -> bool) -> Event {
    timeout(WAIT, async {
        loop {
            let event = events.next().await.expect("the stream goes on");
            if wanted(&event) {
                return event;
            }
        }
    })
    .await
    .expect("the event arrives in time")
}

/// The next event of one room, failing the test after [`WAIT`].
pub async fn next_room(events: &mut RoomEvents) -> RoomEvent {
    timeout(WAIT, events.next())
        .await
        .expect("a room event in time")
        .expect("the room stream goes on")
}

/// Skips the replay (heartbeat, login, ready) of a fresh connection.
pub async fn past_replay(events: &mut Events) {
    next_matching(events, |e| matches!(e, Event::Ready { .. })).await;
}
