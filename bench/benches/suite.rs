//! Criterion benchmarks: the scenarios of `wechaty_bench`, each beside the bare tonic
//! client doing the same calls, against the in-crate mock over loopback TCP.
//!
//! `cargo bench --bench suite` (all), `cargo bench --bench suite -- member_list` (one group).
//! `wechaty bench` runs the same scenarios at full size and prints the ratios and targets;
//! BENCHMARKS.md has both.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tokio::runtime::Runtime;
use wechaty_bench::{
    big_room_id, contact_name, room_id, BenchFixture, FanOutPlan, Side, WorldSize,
};

const SIDES: [(Side, &str); 2] = [(Side::Sdk, "sdk"), (Side::Bare, "bare")];

fn fixture(runtime: &Runtime) -> BenchFixture {
    runtime
        .block_on(BenchFixture::embedded(&WorldSize::default()))
        .expect("the benchmark mock serves")
}

fn unary(c: &mut Criterion, runtime: &Runtime, fixture: &BenchFixture) {
    let mut group = c.benchmark_group("unary");
    for (side, name) in SIDES {
        group.bench_function(BenchmarkId::new("sequential", name), |b| {
            b.iter_custom(|iters| {
                let times = runtime
                    .block_on(fixture.unary_latencies(side, iters as usize))
                    .expect("Version answers");
                times.iter().sum()
            })
        });
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("64_in_flight", name), |b| {
            b.iter_custom(|iters| {
                runtime
                    .block_on(fixture.unary_burst(side, iters as usize, 64))
                    .expect("Version answers")
            })
        });
    }
    group.finish();
}

fn member_list(c: &mut Criterion, runtime: &Runtime, fixture: &BenchFixture) {
    let mut group = c.benchmark_group("member_list");
    group.sample_size(10);
    for members in [500, 5_000] {
        let room = big_room_id(members);
        for (side, name) in SIDES {
            group.bench_function(BenchmarkId::new(format!("cold_{name}"), members), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            runtime
                                .block_on(fixture.member_list(side, &room, true))
                                .expect("members list")
                                .0
                        })
                        .sum()
                })
            });
        }
        group.bench_function(BenchmarkId::new("repeat_sdk", members), |b| {
            runtime
                .block_on(fixture.member_list(Side::Sdk, &room, true))
                .expect("members list");
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        runtime
                            .block_on(fixture.member_list(Side::Sdk, &room, false))
                            .expect("members list")
                            .0
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

fn rooms(c: &mut Criterion, runtime: &Runtime, fixture: &BenchFixture) {
    let mut group = c.benchmark_group("rooms");
    group.sample_size(10);
    for (side, name) in SIDES {
        group.bench_function(BenchmarkId::new("find_all_cold", name), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        runtime
                            .block_on(fixture.find_all(side, true))
                            .expect("rooms list")
                            .0
                    })
                    .sum()
            })
        });
    }
    runtime
        .block_on(fixture.find_all(Side::Sdk, true))
        .expect("rooms list");
    group.bench_function("find_by_topic_warm", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    runtime
                        .block_on(fixture.find_by_topic("Bench room 500"))
                        .expect("the room is found")
                })
                .sum()
        })
    });
    group.finish();
}

fn contacts(c: &mut Criterion, runtime: &Runtime, fixture: &BenchFixture) {
    let mut group = c.benchmark_group("contacts");
    group.sample_size(10);
    for (side, name) in SIDES {
        group.bench_function(BenchmarkId::new("find_all_cold", name), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        runtime
                            .block_on(fixture.find_all_contacts(side, true))
                            .expect("contacts list")
                            .0
                    })
                    .sum()
            })
        });
    }
    runtime
        .block_on(fixture.find_all_contacts(Side::Sdk, true))
        .expect("contacts list");
    let name = contact_name(WorldSize::default().contacts / 2);
    group.bench_function("find_by_name_warm", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    runtime
                        .block_on(fixture.find_contact_by_name(&name))
                        .expect("the contact is found")
                })
                .sum()
        })
    });
    group.finish();
}

fn getters(c: &mut Criterion, runtime: &Runtime, fixture: &BenchFixture) {
    let room = room_id(0);
    c.bench_function("warm_getter_topic", |b| {
        b.iter_custom(|iters| {
            let (per_call, rpcs) = runtime
                .block_on(fixture.warm_topic(&room, iters as u32))
                .expect("topic reads");
            assert_eq!(rpcs, Some(0), "a warm getter made an RPC");
            per_call * iters as u32
        })
    });
}

fn fan_out(c: &mut Criterion, runtime: &Runtime, fixture: &BenchFixture) {
    let plan = FanOutPlan {
        events: 100_000,
        rooms: 1_000,
        rate: None,
    };
    let mut group = c.benchmark_group("fan_out");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(plan.events as u64));
    for (side, decode, name) in [
        (Side::Sdk, true, "sdk"),
        (Side::Bare, true, "bare_decode"),
        (Side::Bare, false, "bare_raw"),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        runtime
                            .block_on(fixture.fan_out(side, plan, decode))
                            .expect("the events arrive")
                            .elapsed
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

fn suite(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    let fixture = fixture(&runtime);
    unary(c, &runtime, &fixture);
    member_list(c, &runtime, &fixture);
    rooms(c, &runtime, &fixture);
    contacts(c, &runtime, &fixture);
    getters(c, &runtime, &fixture);
    fan_out(c, &runtime, &fixture);
}

criterion_group!(benches, suite);
criterion_main!(benches);
