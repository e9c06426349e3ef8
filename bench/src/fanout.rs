//! Event fan-out: the mock feeds room events as fast as the stream takes them (or at a fixed
//! rate), and subscribers record when each arrived; the delay of an event is its arrival minus
//! the moment the mock handed it to the gRPC layer.
//!
//! No marker is put in the payloads: event `i` goes to room `i % rooms`, so a room subscriber's
//! `k`-th event is event `room + k * rooms`, and the global subscriber's `k`-th is event `k`.
//! The same holds for a [`Bot`]'s room methods: its runner calls them in order per room.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;

use crate::error::{BenchError, Result};
use crate::stats::percentile;
use crate::world::{contact_id, room_id};
use wechaty_client::mock::MockWorld;
use wechaty_client::Event;
use wechaty_client::RoomEvent;
use wechaty_client::Wechaty;
use wechaty_client::{Bot, HandlerResult, RoomId};
use wechaty_client::{RoomAnnounceChanged, RoomJoined, RoomLeft, RoomTopicChanged};

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

    /// Events received per second: those not missed ([`lagged`](Self::lagged)), end to end.
    /// The same as [`rate`](Self::rate) for a sound run.
    pub fn delivered_rate(&self) -> f64 {
        self.events.saturating_sub(self.lagged as usize) as f64 / self.elapsed.as_secs_f64()
    }
}

/// The payloads of one room: join, topic, leave, announce, of realistic size (real ids, a
/// millisecond timestamp).
fn room_payloads(room: usize) -> [(i32, String); 4] {
    room_payloads_at(room, 1_764_000_000_000u64 + room as u64)
}

/// The same with the timestamp `when`.
fn room_payloads_at(room: usize, when: u64) -> [(i32, String); 4] {
    let id = room_id(room);
    let (a, b) = (contact_id(room * 3 + 1), contact_id(room * 3 + 2));
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

/// The payloads of `rooms` rooms, as [`feed`] sends them.
pub(crate) fn payloads(rooms: usize) -> Vec<[(i32, String); 4]> {
    (0..rooms).map(room_payloads).collect()
}

/// Which payload event `index` carries: 4 joins, 3 topics, 2 leaves, 1 announce in every 10.
pub(crate) fn kind_of(index: usize) -> usize {
    match index % 10 {
        0..=3 => 0,
        4..=6 => 1,
        7 | 8 => 2,
        _ => 3,
    }
}

/// Event `index` of a plan over `rooms` rooms with a payload of its own (its timestamp is
/// the index): what a service really sends, and what a relay's ids tell apart.
pub(crate) fn unique_payload(rooms: usize, index: usize) -> (i32, String) {
    let [payload, ..] = rotate(
        room_payloads_at(index % rooms, 1_764_000_000_000u64 + index as u64),
        kind_of(index),
    );
    payload
}

fn rotate(mut payloads: [(i32, String); 4], first: usize) -> [(i32, String); 4] {
    payloads.rotate_left(first);
    payloads
}

/// Feeds `plan` into the mock's Event stream; returns when each event was handed over, in
/// nanoseconds since `origin`.
pub(crate) fn feed(world: MockWorld, plan: FanOutPlan, origin: Instant) -> JoinHandle<Vec<u64>> {
    let payloads = payloads(plan.rooms);
    feed_with(world, plan, origin, move |index| {
        let (kind, payload) = &payloads[index % plan.rooms][kind_of(index)];
        (*kind, payload.clone())
    })
}

/// [`feed`] with every payload its own ([`unique_payload`]).
pub(crate) fn feed_unique(
    world: MockWorld,
    plan: FanOutPlan,
    origin: Instant,
) -> JoinHandle<Vec<u64>> {
    feed_with(world, plan, origin, move |index| {
        unique_payload(plan.rooms, index)
    })
}

fn feed_with(
    world: MockWorld,
    plan: FanOutPlan,
    origin: Instant,
    payload: impl Fn(usize) -> (i32, String) + Send + 'static,
) -> JoinHandle<Vec<u64>> {
    tokio::spawn(async move {
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
                let (kind, payload) = payload(sent.len());
                world.emit_raw(kind, payload);
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

/// A global `events()` subscriber that records when each room event arrived, until
/// `expected` arrived or were missed.
fn global_subscriber(bot: &Wechaty, expected: usize, origin: Instant) -> JoinHandle<Arrivals> {
    let mut global = bot.events();
    tokio::spawn(async move {
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
    })
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
    let global_task = global_subscriber(bot, plan.events, origin);
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
    .map_err(|_| stalled())?;
    let sent = sent.await.map_err(joined)?;
    let global = collected.0.map_err(joined)?;
    let mut rooms = Vec::with_capacity(plan.rooms);
    for room in collected.1 {
        rooms.push(room.map_err(joined)?);
    }
    summarize(&plan, &sent, &global, &rooms)
}

/// The SDK with one global `events()` subscriber alone: the raw rate a [`Bot`] is measured
/// against ([`through_bot`]).
pub(crate) async fn through_events(
    bot: &Wechaty,
    world: &MockWorld,
    plan: FanOutPlan,
) -> Result<FanOutResult> {
    check(&plan)?;
    bot.connect().await?;
    let origin = Instant::now();
    let global_task = global_subscriber(bot, plan.events, origin);
    let sent = feed(world.clone(), plan, origin);
    let global = tokio::time::timeout(STALL_LIMIT, global_task)
        .await
        .map_err(|_| stalled())?
        .map_err(joined)?;
    let sent = sent.await.map_err(joined)?;
    summarize(&plan, &sent, &global, &[])
}

/// The SDK with a [`Bot`] run by `bot.run(..)` (which starts the bot: the mock's `Start`
/// changes nothing on its logged-in world), whose four room methods record when they were
/// called. The runner loads each event's handles first (the room, the people with their
/// payloads: the first event naming a contact asks `ContactPayload`, later ones hit the cache).
pub(crate) async fn through_bot(
    bot: &Wechaty,
    world: &MockWorld,
    plan: FanOutPlan,
) -> Result<FanOutResult> {
    check(&plan)?;
    let origin = Instant::now();
    let recorder = Arc::new(Recorder::new(plan, origin));
    let starts = world.calls("Start");
    let runner = tokio::spawn({
        let bot = bot.clone();
        let recording = Recording(Arc::clone(&recorder));
        async move { bot.run(recording).await }
    });
    // `run` subscribes before it calls `Start`: once the mock saw that call, nothing is missed.
    wait_until(
        || world.calls("Start") > starts || runner.is_finished(),
        "the bot to start",
    )
    .await?;
    let sent = feed(world.clone(), plan, origin);
    let waited = tokio::time::timeout(STALL_LIMIT, async {
        loop {
            let lagged = bot.statistics().lagged_events;
            if recorder.delivered() + lagged as usize >= plan.events || runner.is_finished() {
                return lagged;
            }
            // The last call notifies; the timeout is for events the runner missed.
            let _ = tokio::time::timeout(Duration::from_millis(5), recorder.done.notified()).await;
        }
    })
    .await;
    bot.stop();
    let ran = runner.await.map_err(joined)?;
    let lagged = waited.map_err(|_| stalled())?;
    ran?;
    let sent = sent.await.map_err(joined)?;
    if recorder.delivered() + (lagged as usize) < plan.events {
        return Err(BenchError::Failed(format!(
            "the bot stopped after {} of {} events",
            recorder.delivered(),
            plan.events
        )));
    }
    Ok(recorder.summarize(&sent, lagged))
}

/// What [`through_bot`]'s bot records: when each event reached its method.
struct Recorder {
    origin: Instant,
    rooms: usize,
    /// Calls so far per room: a room's `k`-th is event `room + k * rooms`.
    per_room: Vec<AtomicUsize>,
    /// When each event arrived (nanoseconds since `origin`; 0 while it has not).
    times: Vec<AtomicU64>,
    delivered: AtomicUsize,
    expected: usize,
    /// Notified by the call that makes `delivered` reach `expected`.
    done: Notify,
}

impl Recorder {
    fn new(plan: FanOutPlan, origin: Instant) -> Self {
        Self {
            origin,
            rooms: plan.rooms,
            per_room: (0..plan.rooms).map(|_| AtomicUsize::new(0)).collect(),
            times: (0..plan.events).map(|_| AtomicU64::new(0)).collect(),
            delivered: AtomicUsize::new(0),
            expected: plan.events,
            done: Notify::new(),
        }
    }

    fn arrived(&self, room: &RoomId) -> HandlerResult {
        let at = nanos(self.origin);
        let index = room_index(room).ok_or_else(|| format!("not a bench room: {room}"))?;
        let k = self.per_room[index].fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = self.times.get(index + k * self.rooms) {
            slot.store(at, Ordering::Relaxed);
        }
        if self.delivered.fetch_add(1, Ordering::AcqRel) + 1 == self.expected {
            self.done.notify_one();
        }
        Ok(())
    }

    fn delivered(&self) -> usize {
        self.delivered.load(Ordering::Acquire)
    }

    /// As [`summarize`] does for subscribers: delays only when nothing was missed.
    fn summarize(&self, sent: &[u64], lagged: u64) -> FanOutResult {
        let times: Vec<u64> = self
            .times
            .iter()
            .map(|time| time.load(Ordering::Relaxed))
            .collect();
        let mut delays: Vec<Duration> = match lagged {
            0 => times
                .iter()
                .zip(sent)
                .map(|(arrived, sent)| Duration::from_nanos(arrived.saturating_sub(*sent)))
                .collect(),
            _ => Vec::new(),
        };
        let last = times.iter().max().copied().unwrap_or(0);
        let first = sent.first().copied().unwrap_or(0);
        FanOutResult {
            events: self.expected,
            elapsed: Duration::from_nanos(last.saturating_sub(first).max(1)),
            p50: percentile(&mut delays, 50.0).unwrap_or_default(),
            p99: percentile(&mut delays, 99.0).unwrap_or_default(),
            lagged,
        }
    }
}

/// The index of bench room `room` (`room7@chatroom` is 7).
fn room_index(room: &RoomId) -> Option<usize> {
    room.as_str()
        .strip_prefix("room")?
        .strip_suffix("@chatroom")?
        .parse()
        .ok()
}

/// A bot that only records its room events' arrivals, as cheaply as it can.
struct Recording(Arc<Recorder>);

impl Bot for Recording {
    async fn on_room_join(&self, join: RoomJoined) -> HandlerResult {
        self.0.arrived(join.room.id())
    }

    async fn on_room_leave(&self, leave: RoomLeft) -> HandlerResult {
        self.0.arrived(leave.room.id())
    }

    async fn on_room_topic(&self, topic: RoomTopicChanged) -> HandlerResult {
        self.0.arrived(topic.room.id())
    }

    async fn on_room_announce(&self, announce: RoomAnnounceChanged) -> HandlerResult {
        self.0.arrived(announce.room.id())
    }
}

fn stalled() -> BenchError {
    BenchError::Failed(format!("fan-out stalled: not done after {STALL_LIMIT:?}"))
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
