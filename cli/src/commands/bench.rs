//! `bench`: the benchmark suite (the `wechaty-bench` package) against the embedded mock or a
//! service, and the memory probe it runs as a process of its own.

use anyhow::{bail, Result};
use wechaty_bench::{run_suite, BenchFixture, SuiteOptions};
use wechaty_client::WechatyBuilder;

use crate::args::Global;
use crate::output::Output;

/// What `bench` runs.
pub struct BenchOptions {
    /// Runs per figure.
    pub runs: Option<usize>,
    /// Only these scenarios.
    pub only: Vec<String>,
    /// Small sizes.
    pub quick: bool,
    /// Events of the full-speed fan-out.
    pub events: Option<usize>,
    /// Against a service: rooms whose member lists to measure.
    pub member_rooms: Vec<String>,
    /// Exit 1 when a figure misses its target.
    pub check: bool,
}

/// `bench`: every figure beside the bare tonic client (BENCHMARKS.md).
pub async fn bench(global: &Global, options: BenchOptions, out: &Output) -> Result<()> {
    let mut suite = if options.quick {
        SuiteOptions::quick()
    } else {
        SuiteOptions::default()
    };
    if let Some(runs) = options.runs {
        suite.runs = runs;
    }
    suite.only = options.only;
    if let Some(events) = options.events {
        suite.fan_out_events = events;
    }
    let external = global.endpoint.is_some()
        || global.token.is_some()
        || global.token_file.is_some()
        || std::env::var_os(wechaty_client::ENV_TOKEN).is_some();
    let fixture = if external {
        if !options.member_rooms.is_empty() {
            suite.member_rooms = options.member_rooms;
        }
        eprintln!("benchmarking the service the options and variables point at");
        BenchFixture::connect(global.builder()?).await?
    } else {
        suite.cli = std::env::current_exe().ok();
        eprintln!(
            "benchmarking the embedded mock ({} rooms, {} contacts)",
            suite.world.rooms, suite.world.contacts
        );
        BenchFixture::embedded(&suite.world).await?
    };
    let suite_run = run_suite(&fixture, &suite, |row| {
        eprintln!("measured: {}", row.figure);
    });
    // The fan-out's `Bot` runs listen for Ctrl-C themselves, and once anything in the process
    // has, Ctrl-C no longer ends it by default: end the suite here.
    let report = tokio::select! {
        report = suite_run => report?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    };
    if out.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{report}");
    }
    let missed: Vec<&str> = report.missed().map(|row| row.figure.as_str()).collect();
    if options.check && !missed.is_empty() {
        bail!("targets missed: {}", missed.join("; "));
    }
    Ok(())
}

/// `bench-memory-probe` (hidden): caches every room and `contacts` contacts of the benchmark
/// world, then prints the resident memory it took, as JSON.
pub async fn memory_probe(builder: WechatyBuilder, contacts: usize) -> Result<()> {
    let fixture = BenchFixture::connect(builder).await?;
    let reading = fixture.cache_memory(contacts).await?;
    println!("{}", serde_json::to_string(&reading)?);
    Ok(())
}
