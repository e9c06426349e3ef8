//! A subscriber that stops reading costs a bounded number of bytes, not one buffer slot per
//! event whatever its size: with 200 events of 200 KiB (40 MiB) published while it sleeps,
//! the live heap grows by far less, the subscribers that read get everything, and the slow
//! one learns exactly how many it missed. The test counts live heap bytes with its own global
//! allocator.

mod common;

use common::{heap, next, next_room};
use serde_json::json;
use tokio_stream::StreamExt;
use wechaty_client::mock::MockWorld;
use wechaty_client::{Event, RoomEvent};

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

const EVENTS: u64 = 200;
const TOPIC_BYTES: usize = 200 * 1024;
/// The budget (16 MiB; the room buffers share the same events) and slack: far below the
/// 40 MiB that buffers bounded only by count would hold.
const MAX_GROWTH: usize = 24 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_lags_with_bounded_memory_and_others_get_everything() {
    let server = common::serve("insecure_slow", MockWorld::demo()).await;
    let (bot, mut fast) = common::started(server.bot_builder()).await;
    let mut slow = bot.events();
    let room = bot.room("r1@chatroom");
    let mut fast_room = room.events();
    let mut slow_room = room.events();

    let baseline = heap::live();
    let mut peak = baseline;
    for round in 0..EVENTS {
        // One at a time: the fast subscribers have each one before the next is sent, so what
        // stays on the heap is what the slow ones have not read.
        let topic = format!("{round:06}{}", "t".repeat(TOPIC_BYTES));
        server.world().emit_json(
            21, // room-topic
            json!({"roomId": "r1@chatroom", "newTopic": topic, "oldTopic": "", "timestamp": round}),
        );
        assert!(matches!(next(&mut fast).await, Event::RoomTopic(_)));
        assert!(matches!(
            next_room(&mut fast_room).await,
            RoomEvent::Topic(_)
        ));
        peak = peak.max(heap::live());
    }
    let growth = peak.saturating_sub(baseline);
    eprintln!("held for the slow subscribers: {growth} bytes at the peak");
    assert!(
        growth < MAX_GROWTH,
        "the heap grew by {growth} bytes for the slow subscribers"
    );

    // The slow ones: a Lagged first, then the newest events, all counted.
    let (mut missed, mut received) = (0, 0);
    while missed + received < EVENTS {
        match next(&mut slow).await {
            Event::Lagged { missed: m } => missed += m,
            Event::RoomTopic(_) => received += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        missed > 0 && received > 0,
        "missed {missed}, received {received}"
    );
    let (mut room_missed, mut room_received) = (0, 0);
    while room_missed + room_received < EVENTS {
        match next_room(&mut slow_room).await {
            RoomEvent::Lagged { missed } => room_missed += missed,
            RoomEvent::Topic(_) => room_received += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(room_missed > 0 && room_received > 0);
    // And the stream goes on for everyone.
    server.world().change_topic("r1@chatroom", "after", None);
    assert!(matches!(next(&mut slow).await, Event::RoomTopic(_)));
    assert!(matches!(slow_room.next().await, Some(RoomEvent::Topic(_))));
}
