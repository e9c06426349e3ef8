//! The suite: which scenarios run, how big, and the report of every figure beside its
//! baseline.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{BenchError, Result};
use crate::fanout::FanOutPlan;
use crate::fixture::{BenchFixture, Consumer, MemoryReading, Side};
use crate::memory::peak_resident_bytes_of;
use crate::relay;
use crate::report::{Report, Row, Target, Unit};
use crate::stats::percentile;
use crate::world::{big_room_id, contact_name, room_id, room_topic, WorldSize};

/// The scenarios, by the names `--only` takes.
pub const SCENARIOS: [&str; 7] = [
    "unary", "members", "find", "getters", "fan-out", "memory", "relay",
];

/// What the suite runs, and how big.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Runs of each figure (the report gives median, min and max).
    pub runs: usize,
    /// The embedded mock's world.
    pub world: WorldSize,
    /// Rooms whose member list is measured (default: the world's big rooms).
    pub member_rooms: Vec<String>,
    /// Scenarios to run (names from [`SCENARIOS`]); empty runs them all.
    pub only: Vec<String>,
    /// Sequential `Version` calls per run, for p50/p99.
    pub unary_calls: usize,
    /// `Version` calls per run of the throughput figure.
    pub burst_calls: usize,
    /// Calls in flight for the throughput figure.
    pub in_flight: usize,
    /// `topic()` calls per run of the warm getter figure.
    pub getter_iterations: u32,
    /// Events of the full-speed fan-out.
    pub fan_out_events: usize,
    /// Rooms of the fan-out (one subscriber each, plus one global).
    pub fan_out_rooms: usize,
    /// Events per second of the paced fan-out (for delays).
    pub paced_rate: u64,
    /// Events of the paced fan-out.
    pub paced_events: usize,
    /// Contacts cached for the memory figure.
    pub memory_contacts: usize,
    /// Room events per second streamed to other rooms while a listing is repeated.
    pub traffic_rate: u64,
    /// How long that traffic lasts, per run.
    pub traffic_duration: Duration,
    /// The `wechaty` executable: its peak memory listing the biggest member room is measured,
    /// and its `relay`'s memory while NATS is away.
    pub cli: Option<PathBuf>,
    /// Events per run of the relay's throughput (mock → relay → JetStream → two workers).
    pub relay_events: usize,
    /// Events per second of the relay's paced run (for delays).
    pub relay_rate: u64,
    /// Events of the relay's paced run.
    pub relay_paced_events: usize,
    /// How long NATS stays away while the relay's memory is watched.
    pub relay_outage: Duration,
}

impl Default for SuiteOptions {
    /// The sizes of issue #9 and BENCHMARKS.md: 5 runs, 1,000,000 events over 1,000 rooms,
    /// 100,000 events/s paced, 50,000 contacts, 64 calls in flight.
    fn default() -> Self {
        let world = WorldSize::default();
        Self {
            runs: 5,
            member_rooms: world
                .big_rooms
                .iter()
                .map(|&size| big_room_id(size))
                .collect(),
            world,
            only: Vec::new(),
            unary_calls: 2_000,
            burst_calls: 20_000,
            in_flight: 64,
            getter_iterations: 100_000,
            fan_out_events: 1_000_000,
            fan_out_rooms: 1_000,
            paced_rate: 100_000,
            paced_events: 300_000,
            memory_contacts: 50_000,
            traffic_rate: 10_000,
            traffic_duration: Duration::from_secs(1),
            cli: None,
            relay_events: 100_000,
            relay_rate: 5_000,
            relay_paced_events: 25_000,
            relay_outage: Duration::from_secs(60),
        }
    }
}

impl SuiteOptions {
    /// Small sizes that finish in seconds: for smoke tests, not for figures.
    pub fn quick() -> Self {
        let world = WorldSize {
            rooms: 100,
            contacts: 2_000,
            room_members: 5,
            big_rooms: vec![100],
        };
        Self {
            runs: 2,
            member_rooms: vec![big_room_id(100)],
            world,
            unary_calls: 100,
            burst_calls: 500,
            getter_iterations: 1_000,
            fan_out_events: 5_000,
            fan_out_rooms: 100,
            paced_rate: 10_000,
            paced_events: 2_000,
            memory_contacts: 2_000,
            traffic_rate: 2_000,
            traffic_duration: Duration::from_millis(300),
            relay_events: 3_000,
            relay_rate: 2_000,
            relay_paced_events: 2_000,
            relay_outage: Duration::from_secs(3),
            ..Self::default()
        }
    }

    fn runs(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|only| only == scenario)
    }

    fn check(&self) -> Result<()> {
        if let Some(unknown) = self
            .only
            .iter()
            .find(|name| !SCENARIOS.contains(&name.as_str()))
        {
            return Err(BenchError::Failed(format!(
                "no benchmark scenario is called {unknown:?}: choose from {}",
                SCENARIOS.join(", ")
            )));
        }
        if self.runs == 0 {
            return Err(BenchError::Failed(
                "benchmarks need at least one run".into(),
            ));
        }
        Ok(())
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

const MIB: f64 = 1024.0 * 1024.0;

/// Runs the chosen scenarios `options.runs` times each, the SDK and the bare client taking
/// turns, and reports every figure; `progress` sees each row as it completes. Scenarios that
/// need the embedded mock are skipped (with a note) on other services.
pub async fn run_suite(
    fixture: &BenchFixture,
    options: &SuiteOptions,
    mut progress: impl FnMut(&Row),
) -> Result<Report> {
    options.check()?;
    let mut rows = Vec::new();
    let mut add = |row: Row, rows: &mut Vec<Row>| {
        progress(&row);
        rows.push(row);
    };
    let embedded = fixture.world().is_some();
    if options.runs("unary") {
        let mut p50 = Row::new("unary round trip p50, sequential", Unit::Micros)
            .target(Target::RatioAtMost(1.3));
        let mut p99 = Row::new("unary round trip p99, sequential", Unit::Micros);
        let mut burst = Row::new(
            format!("unary throughput, {} in flight", options.in_flight),
            Unit::PerSecond,
        )
        .target(Target::RatioAtLeast(0.7));
        for _ in 0..options.runs {
            for side in [Side::Sdk, Side::Bare] {
                let mut times = fixture.unary_latencies(side, options.unary_calls).await?;
                let (half, most) = (
                    percentile(&mut times, 50.0).unwrap_or_default(),
                    percentile(&mut times, 99.0).unwrap_or_default(),
                );
                let elapsed = fixture
                    .unary_burst(side, options.burst_calls, options.in_flight)
                    .await?;
                let rate = options.burst_calls as f64 / elapsed.as_secs_f64();
                let (a, b, c) = match side {
                    Side::Sdk => (&mut p50.sdk, &mut p99.sdk, &mut burst.sdk),
                    Side::Bare => (&mut p50.bare, &mut p99.bare, &mut burst.bare),
                };
                a.push(micros(half));
                b.push(micros(most));
                c.push(rate);
            }
        }
        for row in [p50, p99, burst] {
            add(row, &mut rows);
        }
    }
    if options.runs("members") {
        for room in &options.member_rooms {
            let mut cold = Row::new(format!("cold member list, {room}"), Unit::Millis)
                .target(Target::RatioAtMost(1.3));
            let mut repeat = Row::new(format!("repeated member list, {room}"), Unit::Millis)
                .target(Target::AtMost(1.0));
            let mut members = 0;
            for _ in 0..options.runs {
                let (sdk, count) = fixture.member_list(Side::Sdk, room, true).await?;
                let (again, _) = fixture.member_list(Side::Sdk, room, false).await?;
                let (bare, bare_count) = fixture.member_list(Side::Bare, room, true).await?;
                if count != bare_count {
                    return Err(BenchError::Failed(format!(
                        "{room}: the SDK listed {count} members, the bare client {bare_count}"
                    )));
                }
                members = count;
                cold.sdk.push(millis(sdk));
                cold.bare.push(millis(bare));
                repeat.sdk.push(millis(again));
            }
            cold.note = Some(format!("{members} members"));
            add(cold, &mut rows);
            add(repeat, &mut rows);
        }
        if let (Some(room), true) = (options.member_rooms.last(), embedded) {
            add(traffic_row(fixture, options, room).await?, &mut rows);
        }
    }
    if options.runs("find") {
        let mut cold = Row::new("find_all, cold", Unit::Millis).target(Target::RatioAtMost(1.3));
        let mut warm = Row::new("find by topic, warm", Unit::Millis);
        let topic = room_topic(options.world.rooms / 2);
        let mut rooms = 0;
        for _ in 0..options.runs {
            let (sdk, count) = fixture.find_all(Side::Sdk, true).await?;
            let (bare, _) = fixture.find_all(Side::Bare, true).await?;
            rooms = count;
            cold.sdk.push(millis(sdk));
            cold.bare.push(millis(bare));
            if embedded {
                warm.sdk.push(millis(fixture.find_by_topic(&topic).await?));
            }
        }
        cold.note = Some(format!("{rooms} rooms"));
        warm.note = Some("one RoomList RPC, payloads from the cache".into());
        add(cold, &mut rows);
        if embedded {
            add(warm, &mut rows);
        }
        for row in contact_rows(fixture, options, embedded).await? {
            add(row, &mut rows);
        }
    }
    if options.runs("getters") {
        let room = match options.member_rooms.first() {
            Some(room) if !embedded => room.clone(),
            _ => room_id(0),
        };
        let mut getter =
            Row::new("warm getter topic()", Unit::Nanos).target(Target::AtMost(1000.0));
        let mut rpcs = 0;
        for _ in 0..options.runs {
            let (per_call, made) = fixture.warm_topic(&room, options.getter_iterations).await?;
            getter.sdk.push(per_call.as_secs_f64() * 1e9);
            rpcs += made.unwrap_or(0);
        }
        getter.note = Some(match embedded {
            true => format!("{rpcs} RPCs made"),
            false => "RPCs not counted on this service".into(),
        });
        add(getter, &mut rows);
    }
    if options.runs("fan-out") && embedded {
        let full = FanOutPlan {
            events: options.fan_out_events,
            rooms: options.fan_out_rooms,
            rate: None,
        };
        let paced = FanOutPlan {
            events: options.paced_events,
            rooms: options.fan_out_rooms,
            rate: Some(options.paced_rate),
        };
        let mut rate = Row::new(
            format!(
                "event fan-out, {} events over {} rooms (bare: with JSON decode)",
                full.events, full.rooms
            ),
            Unit::PerSecond,
        )
        .target(Target::RatioAtLeast(0.4));
        let mut raw = Row::new("bare event stream without JSON decode", Unit::PerSecond);
        let mut p50 = Row::new(
            format!("event delay p50 at {} events/s", options.paced_rate),
            Unit::Millis,
        );
        let mut p99 = Row::new(
            format!("event delay p99 at {} events/s", options.paced_rate),
            Unit::Millis,
        )
        .target(Target::AtMost(5.0));
        let mut lagged = 0;
        for _ in 0..options.runs {
            let sdk = fixture.fan_out(Side::Sdk, full, true).await?;
            let bare = fixture.fan_out(Side::Bare, full, true).await?;
            let undecoded = fixture.fan_out(Side::Bare, full, false).await?;
            rate.sdk.push(sdk.rate());
            rate.bare.push(bare.rate());
            raw.bare.push(undecoded.rate());
            let sdk_paced = fixture.fan_out(Side::Sdk, paced, true).await?;
            let bare_paced = fixture.fan_out(Side::Bare, paced, true).await?;
            p50.sdk.push(millis(sdk_paced.p50));
            p50.bare.push(millis(bare_paced.p50));
            p99.sdk.push(millis(sdk_paced.p99));
            p99.bare.push(millis(bare_paced.p99));
            lagged += sdk.lagged + sdk_paced.lagged;
        }
        rate.note = Some(format!(
            "1 global + {} room subscribers; {lagged} events missed by lagging subscribers",
            full.rooms
        ));
        for row in [rate, raw, p50, p99] {
            add(row, &mut rows);
        }
        add(bot_trait_row(fixture, options, full).await?, &mut rows);
    }
    if options.runs("memory") && embedded {
        add_memory_rows(fixture, options, &mut |row| add(row, &mut rows)).await?;
    }
    if options.runs("relay") && embedded {
        for row in relay_rows(fixture, options).await? {
            add(row, &mut rows);
        }
    }
    Ok(Report {
        environment: environment(fixture),
        runs: options.runs,
        rows,
    })
}

/// Issue 17's check: the fan-out's events through a [`Bot`](wechaty_client::Bot) run with
/// `bot.run(..)` beside a raw `events()` subscriber on the SDK, each on a fresh bot, taking
/// turns (which goes first alternates by run).
async fn bot_trait_row(
    fixture: &BenchFixture,
    options: &SuiteOptions,
    plan: FanOutPlan,
) -> Result<Row> {
    let mut row = Row::new(
        format!(
            "events through the Bot trait vs a raw events() subscriber, {} events over {} rooms",
            plan.events, plan.rooms
        ),
        Unit::PerSecond,
    )
    .baseline("raw events()")
    .target(Target::RatioAtLeast(0.8));
    let (mut bot_p99, mut raw_p99, mut lagged) = (Vec::new(), Vec::new(), 0);
    for run in 0..options.runs {
        let order = match run % 2 {
            0 => [Consumer::Events, Consumer::Bot],
            _ => [Consumer::Bot, Consumer::Events],
        };
        for consumer in order {
            let result = fixture.fan_out_to(consumer, plan).await?;
            lagged += result.lagged;
            let (rates, p99s) = match consumer {
                Consumer::Bot => (&mut row.sdk, &mut bot_p99),
                Consumer::Events => (&mut row.bare, &mut raw_p99),
            };
            // Only what arrived counts: a consumer that fell behind missed the rest.
            rates.push(result.delivered_rate());
            // A run with events missed has no delays (positions are not known).
            if result.lagged == 0 {
                p99s.push(result.p99);
            }
        }
    }
    let median = |p99s: &mut Vec<Duration>| match percentile(p99s, 50.0) {
        Some(p99) => format!("{:.2} ms", millis(p99)),
        None => "–".into(),
    };
    row.note = Some(format!(
        "a Bot whose 4 room methods record each call, at most {} at once and one at a time \
         per room, the people's payloads loaded; delay p99 at full speed {} (raw events(): \
         {}), median of the runs without misses; rates count events received: {lagged} \
         missed",
        wechaty_client::DEFAULT_MAX_CONCURRENT_HANDLERS,
        median(&mut bot_p99),
        median(&mut raw_p99),
    ));
    Ok(row)
}

/// Warm contact finds per run (the run's figure is their median).
const WARM_FINDS_PER_RUN: usize = 5;

/// `find_all` of every contact, cold, beside the bare client; then, warm (the listing reused:
/// no RPC), `find` of one contact by its exact name (embedded mock only: it knows the names)
/// beside the bare client's `ContactList` alone, what a find that asked the service would
/// cost at the least.
async fn contact_rows(
    fixture: &BenchFixture,
    options: &SuiteOptions,
    embedded: bool,
) -> Result<Vec<Row>> {
    let mut cold =
        Row::new("find_all contacts, cold", Unit::Millis).target(Target::RatioAtMost(1.3));
    let mut warm = Row::new("find contact by name, warm", Unit::Millis).target(Target::AtMost(1.0));
    let name = contact_name(options.world.contacts / 2);
    let (mut contacts, mut warm_rpcs) = (0, 0);
    for _ in 0..options.runs {
        let (sdk, count) = fixture.find_all_contacts(Side::Sdk, true).await?;
        let (bare, bare_count) = fixture.find_all_contacts(Side::Bare, true).await?;
        if count != bare_count {
            return Err(BenchError::Failed(format!(
                "the SDK found {count} contacts, the bare client {bare_count}"
            )));
        }
        contacts = count;
        cold.sdk.push(millis(sdk));
        cold.bare.push(millis(bare));
        if embedded {
            // A few finds per run, each beside a bare ContactList, and the median of each: one
            // find of 50,000 ids swings with whatever else the two cores do at that moment.
            let (mut finds, mut lists) = (Vec::new(), Vec::new());
            let listed = fixture.mock_calls("ContactList");
            for _ in 0..WARM_FINDS_PER_RUN {
                finds.push(fixture.find_contact_by_name(&name).await?);
                lists.push(fixture.bare_contact_list().await?.0);
            }
            // The bare client's calls are counted too: subtract them.
            warm_rpcs += fixture
                .mock_calls("ContactList")
                .zip(listed)
                .map_or(0, |(after, before)| {
                    after - before - WARM_FINDS_PER_RUN as u64
                });
            warm.sdk
                .push(millis(percentile(&mut finds, 50.0).unwrap_or_default()));
            warm.bare
                .push(millis(percentile(&mut lists, 50.0).unwrap_or_default()));
        }
    }
    cold.note = Some(format!("{contacts} contacts"));
    warm.note = Some(format!(
        "the last listing reused: {warm_rpcs} ContactList RPCs by the SDK's warm finds; median of \
         {WARM_FINDS_PER_RUN} per run; bare: one ContactList call, the least a find that asks costs"
    ));
    Ok(match embedded {
        true => vec![cold, warm],
        false => vec![cold],
    })
}

/// The largest member room's listing, repeated every 5 ms while room events stream to other
/// rooms: it must stay a cache hit (no RPC) however busy the account is.
async fn traffic_row(fixture: &BenchFixture, options: &SuiteOptions, room: &str) -> Result<Row> {
    let mut row = Row::new(
        format!(
            "repeated member list under {} room events/s in other rooms, {room}",
            options.traffic_rate
        ),
        Unit::Millis,
    )
    .target(Target::AtMost(1.0));
    let plan = FanOutPlan {
        events: (options.traffic_rate as f64 * options.traffic_duration.as_secs_f64()) as usize,
        rooms: options.fan_out_rooms.min(options.world.rooms),
        rate: Some(options.traffic_rate),
    };
    let (mut rpcs, mut repeats, mut sent, mut received) = (0, 0, 0, 0);
    for _ in 0..options.runs {
        let mut run = fixture
            .listing_under_traffic(room, plan, Duration::from_millis(5))
            .await?;
        let median = percentile(&mut run.repeats, 50.0).unwrap_or_default();
        row.sdk.push(millis(median));
        rpcs += run.repeat_rpcs;
        repeats += run.repeats.len();
        sent += run.events_sent;
        received += run.events_received;
    }
    row.note = Some(format!(
        "{rpcs} RPCs in {repeats} repeats; {received} of {sent} events seen by the bot"
    ));
    Ok(row)
}

/// The machine and the service, for the report's first line.
fn environment(fixture: &BenchFixture) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let service = match fixture.world() {
        Some(_) => "the embedded mock over loopback TCP, in the same process".to_owned(),
        None => "an external service".to_owned(),
    };
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    format!("{cpu}, {cores} cores; {profile} build; {service}")
}

/// The memory figures. With the `wechaty` executable at hand, each is read from a process of
/// its own (a client alone, as a bot runs); without it, from this process, mock included.
async fn add_memory_rows(
    fixture: &BenchFixture,
    options: &SuiteOptions,
    add: &mut impl FnMut(Row),
) -> Result<()> {
    let mut resident = Row::new(
        format!(
            "resident memory after caching {} rooms and {} contacts",
            options.world.rooms, options.memory_contacts
        ),
        Unit::Mebibytes,
    );
    let mut per_contact =
        Row::new("resident bytes per cached contact", Unit::Bytes).target(Target::AtMost(1024.0));
    let Some(cli) = &options.cli else {
        let reading = fixture.cache_memory(options.memory_contacts).await?;
        resident.sdk.push(reading.after_contacts as f64 / MIB);
        per_contact.sdk.push(reading.bytes_per_contact());
        resident.note = Some("client and mock in one process".into());
        add(resident);
        add(per_contact);
        return Ok(());
    };
    let (endpoint, token) = fixture.mock_address()?;
    let client = |args: &[&str]| {
        let mut command = std::process::Command::new(cli);
        command
            .args(["--endpoint", &endpoint, "--token", &token, "--no-tls"])
            .args(args)
            .env_remove("RUST_LOG")
            .stderr(std::process::Stdio::inherit());
        command
    };
    let contacts = options.memory_contacts.to_string();
    for _ in 0..options.runs {
        let output = client(&["bench-memory-probe", "--contacts", &contacts])
            .output()
            .map_err(|error| {
                BenchError::Failed(format!("cannot run {}: {error}", cli.display()))
            })?;
        let reading: MemoryReading = serde_json::from_slice(&output.stdout).map_err(|error| {
            BenchError::Failed(format!("the memory probe printed no reading: {error}"))
        })?;
        resident.sdk.push(reading.after_contacts as f64 / MIB);
        per_contact.sdk.push(reading.bytes_per_contact());
    }
    resident.note = Some("a client process of its own".into());
    add(resident);
    add(per_contact);
    if let Some(room) = options.member_rooms.last() {
        let mut peak = Row::new(
            format!("CLI peak memory, `room {room} members`"),
            Unit::Mebibytes,
        )
        .target(Target::AtMost(40.0));
        for _ in 0..options.runs {
            let mut command = client(&["room", room, "members", "--json"]);
            command.stdout(std::process::Stdio::null());
            let bytes = tokio::task::spawn_blocking(move || peak_resident_bytes_of(&mut command))
                .await
                .map_err(|error| {
                    BenchError::Failed(format!("the memory reader failed: {error}"))
                })??;
            peak.sdk.push(bytes as f64 / MIB);
        }
        add(peak);
    }
    Ok(())
}

/// Issue 18's figures: the relay's throughput to two workers beside bare async-nats, the
/// delay from the mock to a worker at a fixed rate, and a `wechaty relay` process's memory
/// while NATS is away. Skipped, with a note, without nats-server.
async fn relay_rows(fixture: &BenchFixture, options: &SuiteOptions) -> Result<Vec<Row>> {
    let mut rate = Row::new(
        format!(
            "events through relay → JetStream → {} workers, {} events over {} rooms",
            relay::WORKERS,
            options.relay_events,
            options.fan_out_rooms
        ),
        Unit::PerSecond,
    )
    .baseline("bare async-nats publisher + 2 consumers")
    .target(Target::RatioAtLeast(0.7));
    let mut p99 = Row::new(
        format!(
            "delay mock → relay → worker p99, {} events/s",
            options.relay_rate
        ),
        Unit::Millis,
    )
    .target(Target::AtMost(25.0));
    let mut growth = Row::new(
        format!(
            "`wechaty relay` resident memory over its idle size, NATS away {} s at full feed",
            options.relay_outage.as_secs()
        ),
        Unit::Mebibytes,
    )
    .target(Target::AtMost(
        wechaty_client::relay::DEFAULT_BUFFER_BYTES as f64 / MIB,
    ));
    let Some(mut nats) = relay::Nats::start()? else {
        let note = "skipped: nats-server is not installed (apt-get install nats-server)";
        rate.note = Some(note.into());
        return Ok(vec![rate]);
    };
    let world = fixture.embedded_world("relay")?.clone();
    let address = fixture.mock_address()?;
    let url = nats.url();
    let full = FanOutPlan {
        events: options.relay_events,
        rooms: options.fan_out_rooms,
        rate: None,
    };
    let mut shares = Vec::new();
    for run in 0..options.runs {
        // Which goes first alternates by run.
        for sdk in [run % 2 == 0, run % 2 != 0] {
            if sdk {
                let through = relay::through_workers(&world, &address, &url, full).await?;
                rate.sdk
                    .push(full.events as f64 / through.elapsed.as_secs_f64());
                shares.push(through.per_worker);
            } else {
                let elapsed = relay::through_bare(&url, full).await?;
                rate.bare.push(full.events as f64 / elapsed.as_secs_f64());
            }
        }
    }
    rate.note = Some(format!(
        "events per worker by run: {shares:?}; the workers read events() (acknowledged as read), \
         every worker also follows the room events' state subjects"
    ));
    let paced = FanOutPlan {
        events: options.relay_paced_events,
        rooms: options.fan_out_rooms,
        rate: Some(options.relay_rate),
    };
    let mut p50s = Vec::new();
    for _ in 0..options.runs {
        let mut through = relay::through_workers(&world, &address, &url, paced).await?;
        p99.sdk.push(millis(
            percentile(&mut through.delays, 99.0).unwrap_or_default(),
        ));
        p50s.push(millis(
            percentile(&mut through.delays, 50.0).unwrap_or_default(),
        ));
    }
    p99.note = Some(format!(
        "{} events per run; p50 by run: {}",
        paced.events,
        p50s.iter()
            .map(|p50| format!("{p50:.1} ms"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut rows = vec![rate, p99];
    match &options.cli {
        Some(cli) => {
            let outage =
                relay::relay_outage(&world, &address, &mut nats, cli, options.relay_outage).await?;
            growth
                .sdk
                .push(outage.peak.saturating_sub(outage.idle) as f64 / MIB);
            growth.note = Some(format!(
                "one run; resident {:.0} MiB idle, {:.0} MiB at full feed before NATS went away, \
                 {:.0} MiB at most while away; the bound is the relay's buffer \
                 (`RelayOptions::buffer`, 64 MiB by default): full, it stops reading the \
                 service's stream",
                outage.idle as f64 / MIB,
                outage.before as f64 / MIB,
                outage.peak as f64 / MIB
            ));
        }
        None => growth.note = Some("skipped: needs the `wechaty` executable".into()),
    }
    rows.push(growth);
    Ok(rows)
}
