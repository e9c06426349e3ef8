//! [`BenchFixture`]: a bot and a bare client on the same service, and one method per scenario
//! that runs it once on either side and returns what it measured.

use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};
use wechaty_client::Event;

use crate::bare;
use crate::error::{BenchError, Result};
use crate::fanout::{self, FanOutPlan, FanOutResult};
use crate::memory::resident_bytes;
use crate::world::{bench_world, contact_id, WorldSize};
use wechaty_client::mock::{MockPuppetService, MockServer, MockWorld};
use wechaty_client::proto::PuppetClient as Puppet;
use wechaty_client::ContactQuery;
use wechaty_client::MemberQuery;
use wechaty_client::RoomQuery;
use wechaty_client::Wechaty;
use wechaty_client::{WechatyBuilder, DEFAULT_MAX_CONCURRENT_LOOKUPS};

/// Who makes the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// This SDK's public API.
    Sdk,
    /// The generated tonic client alone, on its own connection.
    Bare,
}

/// Who takes the fan-out's events on the SDK, for [`BenchFixture::fan_out_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    /// One global `bot.events()` subscriber counting the room events: the raw rate.
    Events,
    /// A [`Bot`](wechaty_client::Bot) run with `bot.run(..)`, its four room methods recording
    /// each call (the runner loads the handles and the people's payloads first).
    Bot,
}

/// A service to benchmark against, with a bot and a bare client connected to it.
///
/// ```no_run
/// use wechaty_bench::{big_room_id, BenchFixture, Side, WorldSize};
///
/// # async fn demo() -> wechaty_bench::Result<()> {
/// let fixture = BenchFixture::embedded(&WorldSize::default()).await?;
/// let room = big_room_id(500);
/// let (sdk, members) = fixture.member_list(Side::Sdk, &room, true).await?;
/// let (bare, _) = fixture.member_list(Side::Bare, &room, true).await?;
/// println!("{members} members: {sdk:?} (bare tonic {bare:?})");
/// # Ok(()) }
/// ```
pub struct BenchFixture {
    builder: WechatyBuilder,
    server: Option<MockServer>,
    bot: Wechaty,
    bare: Puppet,
}

impl std::fmt::Debug for BenchFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BenchFixture")
            .field("bot", &self.bot)
            .field("embedded", &self.server.is_some())
            .finish_non_exhaustive()
    }
}

impl BenchFixture {
    /// Serves the in-crate mock with a [`bench_world`] of `size` on loopback and connects to it.
    pub async fn embedded(size: &WorldSize) -> Result<Self> {
        let server = MockPuppetService::builder()
            .world(bench_world(size))
            .serve()
            .await?;
        let builder = server.bot_builder();
        let mut fixture = Self::connect(builder).await?;
        fixture.server = Some(server);
        Ok(fixture)
    }

    /// Connects to the service `builder` points at (a hosted one, or the official server).
    pub async fn connect(builder: WechatyBuilder) -> Result<Self> {
        let bot = builder.clone().build().await?;
        let bare = builder.build_proto_client().await?;
        let fixture = Self {
            builder,
            server: None,
            bot,
            bare,
        };
        // Open both connections outside any measurement.
        fixture.bot.version().await?;
        bare::version(&fixture.bare).await?;
        Ok(fixture)
    }

    /// The bot.
    pub fn bot(&self) -> &Wechaty {
        &self.bot
    }

    /// The embedded mock's world, if the fixture serves one.
    pub fn world(&self) -> Option<&MockWorld> {
        self.server.as_ref().map(MockServer::world)
    }

    /// The embedded mock's endpoint and token, for a separate process to connect.
    pub fn mock_address(&self) -> Result<(String, String)> {
        let server = self.server.as_ref().ok_or_else(|| {
            BenchError::Failed("only the embedded mock can be given to another process".into())
        })?;
        Ok((server.endpoint(), server.token().to_owned()))
    }

    pub(crate) fn embedded_world(&self, scenario: &str) -> Result<&MockWorld> {
        self.world().ok_or_else(|| {
            BenchError::Failed(format!(
                "{scenario} needs the embedded mock service (it seeds or feeds the data): run \
                 it without --endpoint/--token"
            ))
        })
    }

    /// `calls` sequential `Version` round trips; each one's time.
    pub async fn unary_latencies(&self, side: Side, calls: usize) -> Result<Vec<Duration>> {
        let mut times = Vec::with_capacity(calls);
        for _ in 0..calls {
            let started = Instant::now();
            match side {
                Side::Sdk => drop(self.bot.version().await?),
                Side::Bare => drop(bare::version(&self.bare).await?),
            }
            times.push(started.elapsed());
        }
        Ok(times)
    }

    /// `calls` `Version` round trips, `in_flight` at a time; the total time.
    pub async fn unary_burst(
        &self,
        side: Side,
        calls: usize,
        in_flight: usize,
    ) -> Result<Duration> {
        let started = Instant::now();
        let results: Vec<Result<String>> = stream::iter(0..calls)
            .map(|_| async move {
                match side {
                    Side::Sdk => Ok(self.bot.version().await?),
                    Side::Bare => bare::version(&self.bare).await,
                }
            })
            .buffer_unordered(in_flight.max(1))
            .collect()
            .await;
        let elapsed = started.elapsed();
        results
            .into_iter()
            .try_for_each(|result| result.map(drop))?;
        Ok(elapsed)
    }

    /// Lists every member of `room` with name, room alias and contact alias (the SDK's
    /// `member_details(MemberQuery::All)`, then reading each name and room alias; the bare
    /// client makes the same calls with the same number in flight). `cold` empties the SDK's
    /// caches first. Returns the time and how many members.
    pub async fn member_list(
        &self,
        side: Side,
        room: &str,
        cold: bool,
    ) -> Result<(Duration, usize)> {
        self.timed_count(side, cold, async {
            match side {
                Side::Sdk => {
                    let members = self.bot.room(room).member_details(MemberQuery::All).await?;
                    // Read what a bot reads, so the figure includes touching every member.
                    for member in &members {
                        std::hint::black_box((member.name(), member.room_alias()));
                    }
                    Ok(members.len())
                }
                Side::Bare => {
                    bare::member_list(&self.bare, room, DEFAULT_MAX_CONCURRENT_LOOKUPS).await
                }
            }
        })
        .await
    }

    /// Every room's payload (`find_all` of every room; the bare client: `RoomList` and every
    /// `RoomPayload`, as many in flight). `cold` empties the SDK's caches first.
    pub async fn find_all(&self, side: Side, cold: bool) -> Result<(Duration, usize)> {
        self.timed_count(side, cold, async {
            match side {
                Side::Sdk => Ok(self.bot.rooms().find_all(RoomQuery::All).await?.len()),
                Side::Bare => bare::room_payloads(&self.bare, DEFAULT_MAX_CONCURRENT_LOOKUPS).await,
            }
        })
        .await
    }

    /// Every contact's payload (`find_all` of every contact; the bare client: `ContactList`
    /// and every `ContactPayload`, as many in flight). `cold` empties the SDK's caches first.
    pub async fn find_all_contacts(&self, side: Side, cold: bool) -> Result<(Duration, usize)> {
        self.timed_count(side, cold, async {
            match side {
                Side::Sdk => Ok(self.bot.contacts().find_all(ContactQuery::All).await?.len()),
                Side::Bare => {
                    bare::contact_payloads(&self.bare, DEFAULT_MAX_CONCURRENT_LOOKUPS).await
                }
            }
        })
        .await
    }

    /// Times `work` (which counts what it loaded), after emptying the SDK's caches when
    /// `cold` (the bare client has none).
    async fn timed_count(
        &self,
        side: Side,
        cold: bool,
        work: impl std::future::Future<Output = Result<usize>>,
    ) -> Result<(Duration, usize)> {
        if cold && side == Side::Sdk {
            self.bot.clear_caches();
        }
        let started = Instant::now();
        let count = work.await?;
        Ok((started.elapsed(), count))
    }

    /// `find` of one room by its exact topic, with payloads already cached (it still asks
    /// `RoomList`: rooms come and go without telling).
    pub async fn find_by_topic(&self, topic: &str) -> Result<Duration> {
        let started = Instant::now();
        let found = self.bot.rooms().find(topic).await?;
        let elapsed = started.elapsed();
        found.ok_or_else(|| BenchError::Failed(format!("no room has the topic {topic:?}")))?;
        Ok(elapsed)
    }

    /// `find` of one contact by its exact name, warm: the last listing is reused while no
    /// event says contacts changed (`CacheLimits::contact_list_ttl`).
    pub async fn find_contact_by_name(&self, name: &str) -> Result<Duration> {
        let started = Instant::now();
        let found = self.bot.contacts().find(name).await?;
        let elapsed = started.elapsed();
        found.ok_or_else(|| BenchError::Failed(format!("no contact is named {name:?}")))?;
        Ok(elapsed)
    }

    /// The bare client's `ContactList` call alone: the least a find that asks the service
    /// costs, to set beside [`Self::find_contact_by_name`]. Returns the time and how many ids.
    pub async fn bare_contact_list(&self) -> Result<(Duration, usize)> {
        self.timed_count(Side::Bare, false, async {
            Ok(bare::contact_ids(&self.bare).await?.len())
        })
        .await
    }

    /// How many `rpc` calls the embedded mock has answered (both clients'; `None` elsewhere).
    pub fn mock_calls(&self, rpc: &str) -> Option<u64> {
        self.world().map(|world| world.calls(rpc))
    }

    /// `topic()` of a room whose payload is cached, `iterations` times: the time per call and,
    /// on the embedded mock, how many RPCs the calls made (`None` elsewhere).
    pub async fn warm_topic(&self, room: &str, iterations: u32) -> Result<(Duration, Option<u64>)> {
        let room = self.bot.room(room);
        room.ready().await?;
        let calls = || self.world().map(|world| world.calls("RoomPayload"));
        let before = calls();
        let started = Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(room.topic().await?);
        }
        let elapsed = started.elapsed();
        let rpcs = before.zip(calls()).map(|(before, after)| after - before);
        Ok((elapsed / iterations.max(1), rpcs))
    }

    /// Streams `plan` through a new bot (global and per-room subscribers) or through the bare
    /// client (decoding each payload when `decode`). Needs the embedded mock, which feeds the
    /// events.
    pub async fn fan_out(
        &self,
        side: Side,
        plan: FanOutPlan,
        decode: bool,
    ) -> Result<FanOutResult> {
        let world = self.embedded_world("the fan-out benchmark")?;
        match side {
            Side::Bare => fanout::through_bare(&self.bare, world, plan, decode).await,
            Side::Sdk => {
                fanout::wait_for_free_stream(world).await?;
                let bot = self.builder.clone().build().await?;
                let result = fanout::through_sdk(&bot, world, plan).await;
                bot.stop();
                fanout::wait_for_free_stream(world).await?;
                result
            }
        }
    }

    /// Streams `plan` through a new bot to one consumer alone: a raw `events()` subscriber or
    /// a [`Bot`](wechaty_client::Bot) (`bot.run(..)`, which calls `Start`). Needs the embedded
    /// mock, which feeds the events.
    pub async fn fan_out_to(&self, consumer: Consumer, plan: FanOutPlan) -> Result<FanOutResult> {
        let world = self.embedded_world("the fan-out benchmark")?;
        fanout::wait_for_free_stream(world).await?;
        let bot = self.builder.clone().build().await?;
        let result = match consumer {
            Consumer::Events => fanout::through_events(&bot, world, plan).await,
            Consumer::Bot => fanout::through_bot(&bot, world, plan).await,
        };
        bot.stop();
        fanout::wait_for_free_stream(world).await?;
        result
    }

    /// `room`'s member listing (`member_details(MemberQuery::All)`), repeated every
    /// `every` while the mock streams `plan`'s room events — which go to the first
    /// `plan.rooms` bench rooms, never to `room` — through a new bot that applies them to its
    /// caches. The first listing is cold and made under the traffic too. Needs the embedded
    /// mock.
    pub async fn listing_under_traffic(
        &self,
        room: &str,
        plan: FanOutPlan,
        every: Duration,
    ) -> Result<TrafficListing> {
        let world = self.embedded_world("the listing under traffic")?;
        fanout::wait_for_free_stream(world).await?;
        let bot = self.builder.clone().build().await?;
        let measured = async {
            bot.connect().await?;
            // Counts what the bot's dispatch task took in, so the report can show it.
            let mut events = bot.events();
            let counted = tokio::spawn(async move {
                let mut room_events = 0u64;
                while let Some(event) = events.next().await {
                    if matches!(
                        event,
                        Event::RoomJoin(_)
                            | Event::RoomLeave(_)
                            | Event::RoomTopic(_)
                            | Event::RoomAnnounce(_)
                    ) {
                        room_events += 1;
                    }
                }
                room_events
            });
            let rpcs = || {
                world.calls("RoomMemberList")
                    + world.calls("RoomMemberPayload")
                    + world.calls("ContactPayload")
            };
            let feed = fanout::feed(world.clone(), plan, Instant::now());
            let target = bot.room(room);
            let cold = target.member_details(MemberQuery::All).await?.len();
            let after_cold = rpcs();
            let mut repeats = Vec::new();
            let mut ticker = tokio::time::interval(every);
            while !feed.is_finished() {
                ticker.tick().await;
                let started = Instant::now();
                let members = target.member_details(MemberQuery::All).await?;
                for member in &members {
                    std::hint::black_box((member.name(), member.room_alias()));
                }
                repeats.push(started.elapsed());
            }
            let sent = feed
                .await
                .map_err(|error| BenchError::Failed(error.to_string()))?
                .len();
            let repeat_rpcs = rpcs() - after_cold;
            bot.stop();
            let received = counted
                .await
                .map_err(|error| BenchError::Failed(error.to_string()))?;
            Ok(TrafficListing {
                members: cold,
                repeats,
                repeat_rpcs,
                events_sent: sent as u64,
                events_received: received,
            })
        };
        let result = measured.await;
        bot.stop();
        fanout::wait_for_free_stream(world).await?;
        result
    }

    /// The bare client alone on the Event stream of any service: opens it, runs `trigger`
    /// (which makes the service send room events), and returns how long until `count` room
    /// events arrived, each decoded. The baseline for "is the SDK the bottleneck".
    pub async fn bare_receive(
        &self,
        count: usize,
        trigger: impl std::future::Future<Output = Result<()>>,
    ) -> Result<Duration> {
        let mut stream = bare::BareEvents::open(&self.bare).await?;
        // Let the replayed login/ready pass before the clock starts.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let origin = Instant::now();
        let (arrivals, triggered) = tokio::join!(stream.receive(count, true, origin), trigger);
        triggered?;
        Ok(arrivals?.last().copied().unwrap_or_default())
    }

    /// Caches every room, then `contacts` contact payloads (`contact0`…), and reads this
    /// process's resident set before and after each step.
    /// Works against any service that has the benchmark world's contact ids.
    pub async fn cache_memory(&self, contacts: usize) -> Result<MemoryReading> {
        let unavailable =
            || BenchError::Failed("this system does not report resident memory".into());
        self.bot.clear_caches();
        let start = resident_bytes().ok_or_else(unavailable)?;
        let rooms = self.bot.rooms().find_all(RoomQuery::All).await?.len();
        let after_rooms = resident_bytes().ok_or_else(unavailable)?;
        let bot = &self.bot;
        let loaded: Vec<Result<()>> =
            stream::iter(0..contacts)
                .map(|index| async move {
                    Ok(bot.contact(contact_id(index)).payload().await.map(drop)?)
                })
                .buffer_unordered(DEFAULT_MAX_CONCURRENT_LOOKUPS)
                .collect()
                .await;
        loaded.into_iter().collect::<Result<()>>()?;
        let after_contacts = resident_bytes().ok_or_else(unavailable)?;
        Ok(MemoryReading {
            rooms,
            contacts,
            start,
            after_rooms,
            after_contacts,
        })
    }
}

/// A member listing repeated while other rooms' events stream in.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficListing {
    /// Members listed.
    pub members: usize,
    /// How long each repeat took.
    pub repeats: Vec<Duration>,
    /// RPCs the repeats made (0 when the listing stayed cached).
    pub repeat_rpcs: u64,
    /// Room events the mock sent meanwhile.
    pub events_sent: u64,
    /// Room events the bot received (and applied to its caches).
    pub events_received: u64,
}

/// Resident memory around caching rooms and contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryReading {
    /// Rooms cached.
    pub rooms: usize,
    /// Contacts cached.
    pub contacts: usize,
    /// Resident bytes with empty caches.
    pub start: u64,
    /// After caching the rooms.
    pub after_rooms: u64,
    /// After caching the contacts too.
    pub after_contacts: u64,
}

impl MemoryReading {
    /// Resident bytes the contacts added, per contact.
    pub fn bytes_per_contact(&self) -> f64 {
        self.after_contacts.saturating_sub(self.after_rooms) as f64 / self.contacts.max(1) as f64
    }
}
