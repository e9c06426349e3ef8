//! Event fan-out: the mock feeds room events as fast as the stream takes them (or at a fixed
//! rate), and subscribers record when each arrived; the delay of an event is its arrival minus
//! the moment the mock handed it to the gRPC layer.
//!
//! No marker is put in the payloads: event `i` goes to room `i % rooms`, so a room subscriber's
//! `k`-th event is event `room + k * rooms`, and the global subscriber's `k`-th is event `k`.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_stream::StreamExt;

use crate::error::{BenchError, Result};
use crate::stats::percentile;
use crate::world::{contact_id, room_id};
use wechaty_client::mock::MockWorld;
use wechaty_client::Event;
use wechaty_client::RoomEvent;
use wechaty_client::Wechaty;

/// Events the mock may hold before the feed waits for the stream to take them.
const FEED_BACKLOG: usize = 16_384;
/// How long a fan-out run may take before it counts as stalled.
const STALL_LIMIT: Duration = Duration::from_secs(300);

/// What to stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOutPlan {
    /// Events in all (`room-join` 40 %, `room-topic` 30 %, `room-leave` 20 %,
    /// `room-announce` 10 %).
    pub events: usize,
    /// Rooms they are spread over, one subscriber each (the first `rooms` bench rooms).
    pub rooms: usize,
    /// Events per second, or `None` for as fast as the stream takes them.
    pub rate: Option<u64>,
}

/// What one fan-out run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct FanOutResult {
    /// Events streamed.
    pub events: usize,
    /// From the first event sent to the last one received by every subscriber.
    pub elapsed: Duration,
    /// Median delay from send to receipt, over every subscriber's receipts.
    pub p50: Duration,
    /// 99th percentile of the same.
    pub p99: Duration,
    /// Events subscribers missed because they fell behind (0 for a sound run).
    pub lagged: u64,
}

impl FanOutResult {
    /// Events per second, end to end.
    pub fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// The payloads of one room: join, topic, leave, announce, of realistic size (real ids, a
/// millisecond timestamp).
fn room_payloads(room: usize) -> [(i32, String); 4] {
    let id = room_id(room);
    let (a, b) = (contact_id(room * 3 + 1), contact_id(room * 3 + 2));
    let when = 1_764_000_000_000u64 + room as u64;
    [
        (
            19,
            format!(
                r#"{{"inviteeIdList":["{a}","{b}"],"inviterId":"bot","roomId":"{id}","timestamp":{when}}}"#
            ),
        ),
        (
            21,
            format!(
                r#"{{"changerId":"{a}","newTopic":"Bench room {room} (renamed)","oldTopic":"Bench room {room}","roomId":"{id}","timestamp":{when}}}"#
            ),
        ),
        (
            20,
            format!(
                r#"{{"removeeIdList":["{b}"],"removerId":"{a}","roomId":"{id}","timestamp":{when}}}"#
            ),
        ),
        (
            32,
            format!(
                r#"{{"changerId":"{a}","newAnnounce":"Meeting at ten, room {room}","oldAnnounce":"","roomId":"{id}","timestamp":{when}}}"#
            ),
        ),
    ]
}

/// Which payload event `index` carries: 4 joins, 3 topics, 2 leaves, 1 announce in every 10.
fn kind_of(index: usize) -> usize {
    match index % 10 {
        0..=3 => 0,
        4..=6 => 1,
        7 | 8 => 2,
        _ => 3,
    }
}

/// Feeds `plan` into the mock's Event stream; returns when each event was handed over, in
/// nanoseconds since `origin`.
pub(crate) fn feed(world: MockWorld, plan: FanOutPlan, origin: Instant) -> JoinHandle<Vec<u64>> {
    tokio::spawn(async move {
        let payloads: Vec<[(i32, String); 4]> = (0..plan.rooms).map(room_payloads).collect();

        let mut sent = Vec::with_capacity(plan.events);
        let mut ticker = tokio::time::interval(Duration::from_millis(1));
        let started = Instant::now();
        while sent.len() < plan.events {
            let due = match plan.rate {
                Some(rate) => {
                    ticker.tick().await;
                    let due = (started.elapsed().as_secs_f64() * rate as f64) as usize;
                    due.min(plan.events)
                }
                None => {
                    if world.pending_events() > FEED_BACKLOG {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                    (sent.len() + 1024).min(plan.events)
                }
            };
            while sent.len() < due {
                let index = sent.len();
                let (kind, payload) = &payloads[index % plan.rooms][kind_of(index)];
                world.emit_raw(*kind, payload.clone());
                sent.push(origin.elapsed().as_nanos() as u64);
            }
        }
        sent
    })
}

/// Arrival times of one subscriber, in nanoseconds since the origin, plus what it missed.
struct Arrivals {
    times: Vec<u64>,
    lagged: u64,
}

fn nanos(origin: Instant) -> u64 {
    origin.elapsed().as_nanos() as u64
}

/// How many of `plan`'s events go to room `room`.
fn share(plan: &FanOutPlan, room: usize) -> usize {
    plan.events / plan.rooms + usize::from(room < plan.events % plan.rooms)
}

/// The SDK: one global subscriber and one subscriber per room on a connected bot.
pub(crate) async fn through_sdk(
    bot: &Wechaty,
    world: &MockWorld,
    plan: FanOutPlan,
) -> Result<FanOutResult> {
    check(&plan)?;
    bot.connect().await?;
    let origin = Instant::now();
    let mut global = bot.events();
    let expected = plan.events;
    let global_task = tokio::spawn(async move {
        let mut arrivals = Arrivals {
            times: Vec::with_capacity(expected),
            lagged: 0,
        };
        while arrivals.times.len() + (arrivals.lagged as usize) < expected {
            match global.next().await {
                Some(
                    Event::RoomJoin(_)
                    | Event::RoomLeave(_)
                    | Event::RoomTopic(_)
                    | Event::RoomAnnounce(_),
                ) => arrivals.times.push(nanos(origin)),
                Some(Event::Lagged { missed }) => arrivals.lagged += missed,
                Some(_) => {}
                None => break,
            }
        }
        arrivals
    });
    let mut room_tasks = Vec::with_capacity(plan.rooms);
    for room in 0..plan.rooms {
        let mut events = bot.room(room_id(room)).events();
        let expected = share(&plan, room);
        room_tasks.push(tokio::spawn(async move {
            let mut arrivals = Arrivals {
                times: Vec::with_capacity(expected),
                lagged: 0,
            };
            while arrivals.times.len() + (arrivals.lagged as usize) < expected {
                match events.next().await {
                    Some(RoomEvent::Lagged { missed }) => arrivals.lagged += missed,
                    Some(RoomEvent::Reconnected) => {}
                    Some(_) => arrivals.times.push(nanos(origin)),
                    None => break,
                }
            }
            arrivals
        }));
    }
    let sent = feed(world.clone(), plan, origin);
    let collected = tokio::time::timeout(STALL_LIMIT, async {
        let global = global_task.await;
        let mut rooms = Vec::with_capacity(room_tasks.len());
        for task in room_tasks {
            rooms.push(task.await);
        }
        (global, rooms)
    })
    .await
    .map_err(|_| BenchError::Failed(format!("fan-out stalled: not done after {STALL_LIMIT:?}")))?;
    let sent = sent.await.map_err(joined)?;
    let global = collected.0.map_err(joined)?;
    let mut rooms = Vec::with_capacity(plan.rooms);
    for room in collected.1 {
        rooms.push(room.map_err(joined)?);
    }
    summarize(&plan, &sent, &global, &rooms)
}

fn joined(error: tokio::task::JoinError) -> BenchError {
    BenchError::Failed(format!("a fan-out task failed: {error}"))
}

fn check(plan: &FanOutPlan) -> Result<()> {
    if plan.rooms == 0 || plan.events == 0 {
        return Err(BenchError::Failed(
            "a fan-out needs at least one room and one event".into(),
        ));
    }
    Ok(())
}

fn summarize(
    plan: &FanOutPlan,
    sent: &[u64],
    global: &Arrivals,
    rooms: &[Arrivals],
) -> Result<FanOutResult> {
    let lagged = global.lagged + rooms.iter().map(|room| room.lagged).sum::<u64>();
    let mut delays = Vec::with_capacity(plan.events * 2);
    // Positions are only known while nothing was missed: a lagging subscriber's delays are
    // left out (its misses are reported instead).
    if global.lagged == 0 {
        delays.extend(
            global
                .times
                .iter()
                .zip(sent)
                .map(|(arrived, sent)| Duration::from_nanos(arrived.saturating_sub(*sent))),
        );
    }
    for (room, arrivals) in rooms.iter().enumerate() {
        if arrivals.lagged == 0 {
            delays.extend(arrivals.times.iter().enumerate().map(|(k, arrived)| {
                let sent = sent[room + k * plan.rooms];
                Duration::from_nanos(arrived.saturating_sub(sent))
            }));
        }
    }
    let last = global
        .times
        .iter()
        .chain(rooms.iter().flat_map(|room| room.times.iter()))
        .max()
        .copied()
        .unwrap_or(0);
    let first = sent.first().copied().unwrap_or(0);
    Ok(FanOutResult {
        events: plan.events,
        elapsed: Duration::from_nanos(last.saturating_sub(first).max(1)),
        p50: percentile(&mut delays, 50.0).unwrap_or_default(),
        p99: percentile(&mut delays, 99.0).unwrap_or_default(),
        lagged,
    })
}

/// The bare client reading the same stream alone (decoding each payload when `decode`).
pub(crate) async fn through_bare(
    client: &wechaty_client::proto::PuppetClient,
    world: &MockWorld,
    plan: FanOutPlan,
    decode: bool,
) -> Result<FanOutResult> {
    check(&plan)?;
    wait_for_free_stream(world).await?;
    let mut stream = crate::bare::BareEvents::open(client).await?;
    // The stream is attached once the service answered; give the replayed login time to pass.
    wait_for_attached(world).await?;
    let origin = Instant::now();
    let sent = feed(world.clone(), plan, origin);
    let arrivals = tokio::time::timeout(STALL_LIMIT, stream.receive(plan.events, decode, origin))
        .await
        .map_err(|_| BenchError::Failed(format!("bare fan-out stalled after {STALL_LIMIT:?}")))??;
    drop(stream);
    let sent = sent.await.map_err(joined)?;
    let global = Arrivals {
        times: arrivals.iter().map(|at| at.as_nanos() as u64).collect(),
        lagged: 0,
    };
    let result = summarize(&plan, &sent, &global, &[])?;
    wait_for_free_stream(world).await?;
    Ok(result)
}

async fn wait_for_attached(world: &MockWorld) -> Result<()> {
    wait_until(|| world.has_event_stream(), "the Event stream to open").await
}

/// The service allows one Event stream: wait until the previous reader's is gone.
pub(crate) async fn wait_for_free_stream(world: &MockWorld) -> Result<()> {
    wait_until(
        || !world.has_event_stream(),
        "the previous Event stream to close",
    )
    .await
}

async fn wait_until(ready: impl Fn() -> bool, what: &str) -> Result<()> {
    let started = Instant::now();
    while !ready() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(BenchError::Failed(format!("gave up waiting for {what}")));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}
