//! The relay scenario: the mock's room events through a [`Relay`] into JetStream and out to
//! two workers of one group, beside a bare async-nats publisher and two consumers moving the
//! same payloads through the same server; the delay from the mock to a worker at a fixed
//! rate; and the memory of a `wechaty relay` process while NATS is away.
//!
//! The nats-server is the bench's own (started from `WECHATY_TEST_NATS_SERVER`, `PATH` or
//! Debian's `/usr/sbin/nats-server`, on a free port with a temporary store), so that the
//! outage can kill it; without one the scenario is skipped with a note.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream};
use futures_util::stream::FuturesOrdered;
use futures_util::StreamExt;
use tokio::sync::Notify;
use wechaty_client::mock::MockWorld;
use wechaty_client::relay::{Relay, RelayOptions, RelayState, WorkerOptions};
use wechaty_client::{Event, Wechaty, WechatyBuilder};

use crate::error::{BenchError, Result};
use crate::fanout::{self, FanOutPlan};
use crate::world::room_id;

/// Workers of the group the figures measure.
pub(crate) const WORKERS: usize = 2;
/// How long the bench waits for the group to share the partitions before feeding.
const SETTLE: Duration = Duration::from_secs(4);
/// A run that takes longer than this counts as stalled.
const STALL_LIMIT: Duration = Duration::from_secs(120);
/// Publishes the bare publisher keeps in flight: the relay's default.
const BARE_IN_FLIGHT: usize = 256;

/// A nats-server of the bench's own.
pub(crate) struct Nats {
    binary: PathBuf,
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl Nats {
    /// A fresh server, or `None` when nats-server is not installed.
    pub(crate) fn start() -> Result<Option<Nats>> {
        let Some(binary) = nats_binary() else {
            return Ok(None);
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| BenchError::Failed(format!("no free port: {error}")))?
            .port();
        let store = std::env::temp_dir().join(format!("wechaty-bench-nats-{}", std::process::id()));
        let mut nats = Nats {
            binary,
            port,
            store,
            child: None,
        };
        nats.restart()?;
        Ok(Some(nats))
    }

    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it (keeping its store).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) and waits until it accepts connections.
    pub(crate) fn restart(&mut self) -> Result<()> {
        self.stop();
        let child = Command::new(&self.binary)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                BenchError::Failed(format!("cannot start {}: {error}", self.binary.display()))
            })?;
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(BenchError::Failed("nats-server did not start".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

fn nats_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WECHATY_TEST_NATS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let debian = PathBuf::from("/usr/sbin/nats-server");
        debian.is_file().then_some(debian)
    })
}

fn unique(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{name}{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn nats_failed(what: &str, error: impl std::fmt::Display) -> BenchError {
    BenchError::Failed(format!("NATS: {what}: {error}"))
}

/// What one run through the workers measured.
pub(crate) struct Through {
    /// From the first event fed to the last one a worker received.
    pub(crate) elapsed: Duration,
    /// Each event's delay from the mock to its worker.
    pub(crate) delays: Vec<Duration>,
    /// Events each worker received.
    pub(crate) per_worker: Vec<usize>,
}

/// `plan`'s room events from the mock, through a relay into a fresh stream of `nats`, to
/// [`WORKERS`] workers of one group, each reading `events()`.
pub(crate) async fn through_workers(
    world: &MockWorld,
    (endpoint, token): &(String, String),
    url: &str,
    plan: FanOutPlan,
) -> Result<Through> {
    let stream = unique("BENCH");
    let builder = || {
        WechatyBuilder::new()
            .endpoint(endpoint)
            .token(token)
            .no_tls(true)
    };
    fanout::wait_for_free_stream(world).await?;
    let relay_bot = builder().build().await?;
    let relay = Relay::start(&relay_bot, RelayOptions::new(url).stream(&stream)).await?;
    let mut state = relay.state();
    tokio::time::timeout(
        Duration::from_secs(10),
        state.wait_for(|state| *state == RelayState::Relaying),
    )
    .await
    .map_err(|_| BenchError::Failed("the relay did not start relaying".into()))?
    .map_err(|_| BenchError::Failed("the relay stopped".into()))?;

    let rooms: Arc<HashMap<String, usize>> =
        Arc::new((0..plan.rooms).map(|room| (room_id(room), room)).collect());
    let received = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(Notify::new());
    let origin = Instant::now();
    let mut workers: Vec<Wechaty> = Vec::new();
    let mut readers = Vec::new();
    for index in 0..WORKERS {
        let bot = builder()
            .worker(
                WorkerOptions::new(url, "bench")
                    .stream(&stream)
                    .name(format!("w{index}"))
                    .lease(Duration::from_millis(1500)),
            )
            .build()
            .await?;
        let mut events = bot.events();
        bot.start().await?;
        let (rooms, received, done) =
            (Arc::clone(&rooms), Arc::clone(&received), Arc::clone(&done));
        let expected = plan.events;
        readers.push(tokio::spawn(async move {
            // Per room, in order: the times of its events.
            let mut arrivals: Vec<Vec<u64>> = vec![Vec::new(); rooms.len()];
            while let Some(event) = events.next().await {
                let room = match &event {
                    Event::RoomJoin(join) => rooms.get(join.room_id.as_str()),
                    Event::RoomLeave(leave) => rooms.get(leave.room_id.as_str()),
                    Event::RoomTopic(topic) => rooms.get(topic.room_id.as_str()),
                    Event::RoomAnnounce(announce) => rooms.get(announce.room_id.as_str()),
                    _ => None,
                };
                if let Some(&room) = room {
                    arrivals[room].push(origin.elapsed().as_nanos() as u64);
                    if received.fetch_add(1, Ordering::AcqRel) + 1 >= expected {
                        done.notify_one();
                    }
                }
            }
            arrivals
        }));
        workers.push(bot);
    }
    tokio::time::sleep(SETTLE).await;

    let all_received = done.notified();
    tokio::pin!(all_received);
    all_received.as_mut().enable();
    let sent = fanout::feed_unique(world.clone(), plan, origin);
    let finished = tokio::time::timeout(STALL_LIMIT, async {
        if received.load(Ordering::Acquire) < plan.events {
            all_received.await;
        }
    })
    .await;
    let sent = sent
        .await
        .map_err(|error| BenchError::Failed(format!("the feed failed: {error}")))?;
    for bot in &workers {
        bot.stop();
    }
    for bot in &workers {
        bot.stopped().await;
    }
    let mut per_room: Vec<Vec<u64>> = vec![Vec::new(); plan.rooms];
    let mut per_worker = Vec::new();
    for reader in readers {
        let arrivals = reader
            .await
            .map_err(|error| BenchError::Failed(format!("a worker failed: {error}")))?;
        per_worker.push(arrivals.iter().map(Vec::len).sum());
        for (room, times) in arrivals.into_iter().enumerate() {
            // One worker had the room at a time: its times are in the room's order.
            per_room[room].extend(times);
        }
    }
    relay.stop();
    let _ = relay.wait().await;
    relay_bot.stop();
    delete_stream(url, &stream).await;
    if finished.is_err() {
        return Err(BenchError::Failed(format!(
            "the workers received {} of {} events within {STALL_LIMIT:?}",
            received.load(Ordering::Acquire),
            plan.events
        )));
    }
    let mut delays = Vec::with_capacity(plan.events);
    let mut last = 0;
    for (room, times) in per_room.iter_mut().enumerate() {
        times.sort_unstable();
        for (k, &arrived) in times.iter().enumerate() {
            let index = room + k * plan.rooms;
            if let Some(&fed) = sent.get(index) {
                delays.push(Duration::from_nanos(arrived.saturating_sub(fed)));
            }
            last = last.max(arrived);
        }
    }
    let first = sent.first().copied().unwrap_or_default();
    Ok(Through {
        elapsed: Duration::from_nanos(last.saturating_sub(first)),
        delays,
        per_worker,
    })
}

/// The same payloads as `plan` published by a bare async-nats JetStream publisher
/// ([`BARE_IN_FLIGHT`] acknowledgements pending, a `Nats-Msg-Id` each) into a fresh stream
/// with the relay's settings, and read by two durable pull consumers acknowledging each
/// message: the time from the first publish to the last message read.
pub(crate) async fn through_bare(url: &str, plan: FanOutPlan) -> Result<Duration> {
    let client = async_nats::connect(url)
        .await
        .map_err(|error| nats_failed("connecting", error))?;
    let context = jetstream::new(client);
    let name = unique("BARE");
    let stream = context
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![format!("{name}.>")],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|error| nats_failed("creating the stream", error))?;
    let received = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(Notify::new());
    let mut consumers = Vec::new();
    for half in ["a", "b"] {
        let consumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(format!("bare_{half}")),
                filter_subject: format!("{name}.{half}.>"),
                ack_policy: consumer::AckPolicy::Explicit,
                ..Default::default()
            })
            .await
            .map_err(|error| nats_failed("creating a consumer", error))?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(64)
            .messages()
            .await
            .map_err(|error| nats_failed("pulling", error))?;
        let (received, done) = (Arc::clone(&received), Arc::clone(&done));
        let expected = plan.events;
        consumers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = messages.next().await {
                let _ = message.ack().await;
                if received.fetch_add(1, Ordering::AcqRel) + 1 >= expected {
                    done.notify_one();
                }
            }
        }));
    }
    let all_received = done.notified();
    tokio::pin!(all_received);
    all_received.as_mut().enable();
    let started = Instant::now();
    let mut pending = FuturesOrdered::new();
    for index in 0..plan.events {
        let (kind, payload) = fanout::unique_payload(plan.rooms, index);
        let half = if index % 2 == 0 { "a" } else { "b" };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            format!("e{index}").as_str(),
        );
        headers.insert("Wechaty-Event-Type", kind.to_string().as_str());
        let subject = format!("{name}.{half}.{kind}.p{}", index % 16);
        let ack = context
            .publish_with_headers(subject, headers, payload.into())
            .await
            .map_err(|error| nats_failed("publishing", error))?;
        pending.push_back(std::future::IntoFuture::into_future(ack));
        if pending.len() >= BARE_IN_FLIGHT {
            if let Some(Err(error)) = pending.next().await {
                return Err(nats_failed("a publish", error));
            }
        }
    }
    while let Some(ack) = pending.next().await {
        ack.map_err(|error| nats_failed("a publish", error))?;
    }
    let finished = tokio::time::timeout(STALL_LIMIT, async {
        if received.load(Ordering::Acquire) < plan.events {
            all_received.await;
        }
    })
    .await;
    let elapsed = started.elapsed();
    for consumer in consumers {
        consumer.abort();
    }
    let _ = context.delete_stream(&name).await;
    finished.map_err(|_| BenchError::Failed("the bare consumers stalled".into()))?;
    Ok(elapsed)
}

async fn delete_stream(url: &str, name: &str) {
    if let Ok(client) = async_nats::connect(url).await {
        let context = jetstream::new(client);
        let _ = context.delete_stream(name).await;
        // The workers' lease bucket.
        let _ = context.delete_stream(format!("KV_{name}_leases")).await;
    }
}

/// What the relay process held.
pub(crate) struct Outage {
    /// Resident memory once relaying, before the feed started.
    pub(crate) idle: u64,
    /// Just before NATS went away, the feed at full speed.
    pub(crate) before: u64,
    /// The most it held while NATS was away.
    pub(crate) peak: u64,
}

/// Runs `cli relay` against the mock, feeds room events as fast as they are taken, kills
/// `nats` for `away`, and samples the relay process's resident memory meanwhile.
pub(crate) async fn relay_outage(
    world: &MockWorld,
    (endpoint, token): &(String, String),
    nats: &mut Nats,
    cli: &Path,
    away: Duration,
) -> Result<Outage> {
    fanout::wait_for_free_stream(world).await?;
    let stream = unique("OUTAGE");
    let mut relay = Command::new(cli)
        .args([
            "--endpoint",
            endpoint,
            "--no-tls",
            "relay",
            "--nats",
            &nats.url(),
        ])
        .args(["--stream", &stream])
        .env("WECHATY_PUPPET_SERVICE_TOKEN", token)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| BenchError::Failed(format!("cannot run {}: {error}", cli.display())))?;
    let stdout = relay.stdout.take().expect("piped");
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        line
    });
    let result = async {
        let line = tokio::time::timeout(Duration::from_secs(20), first)
            .await
            .map_err(|_| BenchError::Failed("`wechaty relay` did not start relaying".into()))?
            .unwrap_or_default();
        if !line.starts_with("relaying to") {
            return Err(BenchError::Failed(format!(
                "`wechaty relay` said {line:?} instead of `relaying to`"
            )));
        }
        // Far more than the outage can take: the feed waits whenever the stream does.
        let plan = FanOutPlan {
            events: 50_000_000,
            rooms: 1_000,
            rate: None,
        };
        let status = format!("/proc/{}/status", relay.id());
        let idle = resident(&status).unwrap_or_default();
        let feed = fanout::feed_unique(world.clone(), plan, Instant::now());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = resident(&status).unwrap_or_default();
        nats.stop();
        let started = Instant::now();
        let mut peak = before;
        while started.elapsed() < away {
            tokio::time::sleep(Duration::from_millis(100)).await;
            peak = peak.max(resident(&status).unwrap_or_default());
        }
        feed.abort();
        nats.restart()?;
        Ok(Outage { idle, before, peak })
    }
    .await;
    let _ = relay.kill();
    let _ = relay.wait();
    delete_stream(&nats.url(), &stream).await;
    result
}

fn resident(status_file: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
