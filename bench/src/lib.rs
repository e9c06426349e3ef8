//! The benchmark suite: the same scenarios for `cargo bench` (criterion, `benches/suite.rs`)
//! and `wechaty bench`, each measured beside a bare tonic client doing the same calls over the
//! same loopback in the same run, so that every figure is also a ratio to what this machine
//! allows. `BENCHMARKS.md` has the figures, the commands and the targets.
//!
//! ```no_run
//! use wechaty_bench::{run_suite, BenchFixture, SuiteOptions};
//!
//! # async fn demo() -> wechaty_bench::Result<()> {
//! let options = SuiteOptions::default();
//! let fixture = BenchFixture::embedded(&options.world).await?;
//! let report = run_suite(&fixture, &options, |row| eprintln!("measured {}", row.figure)).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod bare;
mod error;
mod fanout;
mod fixture;
mod memory;
mod relay;
mod report;
mod stats;
mod suite;
mod world;

pub use error::{BenchError, Result};
pub use fanout::{FanOutPlan, FanOutResult};
pub use fixture::{BenchFixture, Consumer, MemoryReading, Side, TrafficListing};
pub use memory::{peak_resident_bytes_of, resident_bytes};
pub use report::{Report, Row, Target, Unit};
pub use stats::{percentile, Spread};
pub use suite::{run_suite, SuiteOptions, SCENARIOS};
pub use world::{
    bench_world, big_room_id, contact_id, contact_name, room_id, room_topic, WorldSize,
};
