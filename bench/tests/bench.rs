//! The benchmark suite itself: every scenario runs at small size and reports consistent figures
//! (the figures' values are for BENCHMARKS.md, not for tests).

use std::time::Duration;

use wechaty_bench::BenchError;
use wechaty_bench::{
    big_room_id, run_suite, BenchFixture, Consumer, FanOutPlan, Side, SuiteOptions, Unit, WorldSize,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_suite_measures_every_scenario_beside_bare_tonic() {
    let mut options = SuiteOptions::quick();
    options.runs = 1;
    let fixture = BenchFixture::embedded(&options.world).await.unwrap();
    let mut seen = Vec::new();
    let report = tokio::time::timeout(
        Duration::from_secs(120),
        run_suite(&fixture, &options, |row| seen.push(row.figure.clone())),
    )
    .await
    .expect("the suite finishes")
    .unwrap();
    assert_eq!(seen.len(), report.rows.len());
    let row = |start: &str| {
        report
            .rows
            .iter()
            .find(|row| row.figure.starts_with(start))
            .unwrap_or_else(|| panic!("no row {start:?} in\n{report}"))
    };
    for figure in [
        "unary round trip p50",
        "unary throughput",
        "cold member list",
        "find_all, cold",
        "find_all contacts, cold",
        "event fan-out",
        "events through the Bot trait",
    ] {
        let row = row(figure);
        assert_eq!((row.sdk.len(), row.bare.len()), (1, 1), "{figure}");
        assert!(row.ratio().is_some_and(|ratio| ratio > 0.0), "{figure}");
    }
    assert_eq!(row("cold member list").note.as_deref(), Some("100 members"));
    assert_eq!(row("find_all, cold").note.as_deref(), Some("101 rooms"));
    // The world's 2,000 contacts and the bot itself.
    assert_eq!(
        row("find_all contacts, cold").note.as_deref(),
        Some("2001 contacts")
    );
    assert_eq!(row("find contact by name, warm").sdk.len(), 1);
    let getter = row("warm getter");
    assert_eq!(getter.unit, Unit::Nanos);
    assert_eq!(getter.note.as_deref(), Some("0 RPCs made"));
    assert!(row("resident memory").sdk[0] > 0.0);
    // The listing under traffic in other rooms stays a cache hit.
    let traffic = row("repeated member list under");
    assert_eq!(traffic.sdk.len(), 1);
    let note = traffic.note.as_deref().unwrap();
    assert!(note.starts_with("0 RPCs in "), "{note}");
    assert!(!note.ends_with("0 of 0 events seen by the bot"), "{note}");
    // Issue 17: the Bot trait beside a raw events() subscriber, every event delivered.
    let through_trait = row("events through the Bot trait");
    assert_eq!(through_trait.baseline.as_deref(), Some("raw events()"));
    let note = through_trait.note.as_deref().unwrap();
    assert!(note.ends_with(": 0 missed"), "{note}");
    let table = report.to_string();
    assert!(table.contains("| figure | SDK median"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_delivers_every_event_to_the_global_and_room_subscribers() {
    let size = WorldSize {
        rooms: 10,
        contacts: 50,
        room_members: 3,
        big_rooms: vec![],
    };
    let fixture = BenchFixture::embedded(&size).await.unwrap();
    let plan = FanOutPlan {
        events: 2_000,
        rooms: 10,
        rate: Some(20_000),
    };
    for side in [Side::Sdk, Side::Bare] {
        let result =
            tokio::time::timeout(Duration::from_secs(60), fixture.fan_out(side, plan, true))
                .await
                .expect("the fan-out finishes")
                .unwrap();
        assert_eq!((result.events, result.lagged), (2_000, 0), "{side:?}");
        assert!(result.p50 <= result.p99);
        // Paced at 20,000/s, 2,000 events take about 100 ms to send.
        assert!(result.elapsed >= Duration::from_millis(90), "{result:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_and_a_raw_subscriber_each_get_every_event_in_turn() {
    let size = WorldSize {
        rooms: 10,
        contacts: 50,
        room_members: 3,
        big_rooms: vec![],
    };
    let fixture = BenchFixture::embedded(&size).await.unwrap();
    let plan = FanOutPlan {
        events: 2_000,
        rooms: 10,
        rate: Some(20_000),
    };
    // Twice each, alternated: `run` starts and stops a fresh bot every time.
    for consumer in [
        Consumer::Bot,
        Consumer::Events,
        Consumer::Bot,
        Consumer::Events,
    ] {
        let result =
            tokio::time::timeout(Duration::from_secs(60), fixture.fan_out_to(consumer, plan))
                .await
                .expect("the fan-out finishes")
                .unwrap();
        assert_eq!((result.events, result.lagged), (2_000, 0), "{consumer:?}");
        assert!(result.p50 <= result.p99);
        assert!(result.elapsed >= Duration::from_millis(90), "{result:?}");
    }
    // Each bot's 2,000 events name 21 contacts (the bot as inviter): their payloads are
    // loaded at first and then read from the cache. The runner loads up to 64 events ahead,
    // and first loads of one contact in that window are not coalesced, so a few more than 21.
    let world = fixture.world().unwrap();
    assert_eq!(world.calls("Start"), 2);
    let loads = world.calls("ContactPayload");
    assert!(
        (2 * 21..2 * 2_000 / 4).contains(&loads),
        "{loads} ContactPayload calls"
    );
}

#[tokio::test]
async fn scenarios_that_need_the_mock_say_so_on_another_service() {
    let server = wechaty_client::mock::MockPuppetService::builder()
        .world(wechaty_bench::bench_world(&WorldSize {
            rooms: 2,
            contacts: 10,
            room_members: 2,
            big_rooms: vec![5],
        }))
        .serve()
        .await
        .unwrap();
    let fixture = BenchFixture::connect(server.bot_builder()).await.unwrap();
    let plan = FanOutPlan {
        events: 10,
        rooms: 1,
        rate: None,
    };
    let error = fixture.fan_out(Side::Sdk, plan, true).await.unwrap_err();
    assert!(
        matches!(&error, BenchError::Failed(message) if message.contains("embedded mock")),
        "{error}"
    );
    // What works against any service does.
    let (_, members) = fixture
        .member_list(Side::Sdk, &big_room_id(5), true)
        .await
        .unwrap();
    assert_eq!(members, 5);
}
