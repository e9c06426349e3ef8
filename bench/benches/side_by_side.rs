//! This SDK's side of the side-by-side benchmark (BENCHMARKS.md): one task per process, so
//! every run starts cold, against the service the `WECHATY_PUPPET_SERVICE_*` variables name.
//! `bench/benches/side-by-side/run.sh` runs it beside the official TypeScript client and
//! python-wechaty against the official puppet service, and prints the table.
//!
//! ```text
//! cargo bench --bench side_by_side -- member_list big500@chatroom
//! cargo bench --bench side_by_side -- find_all
//! cargo bench --bench side_by_side -- events 100000 127.0.0.1:CONTROL_PORT
//! ```
//! Each prints one JSON line: `{"client":"rust","task":…,"ms":…,"count":…}`.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tokio_stream::StreamExt;
use wechaty_bench::BenchFixture;
use wechaty_client::{Event, MemberQuery, RoomQuery, WechatyBuilder, ENV_TOKEN};

#[tokio::main]
async fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; the task is what follows it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    if args.is_empty() || std::env::var_os(ENV_TOKEN).is_none() {
        eprintln!(
            "side_by_side: nothing to do (give a task and set {ENV_TOKEN}; see bench/benches/side-by-side/run.sh)"
        );
        return Ok(());
    }
    let bot = WechatyBuilder::from_env().build().await?;
    // The other clients time their task after `start()`: open the connection first too.
    bot.version().await?;
    let task = args[0].as_str();
    let started = Instant::now();
    let count = match task {
        "member_list" => {
            let room = args.get(1).context("member_list ROOM-ID")?;
            let members = bot
                .room(room.as_str())
                .member_list(MemberQuery::All)
                .await?;
            members.len()
        }
        "find_all" => bot.rooms().find_all(RoomQuery::All).await?.len(),
        "events_bare" => {
            // The same flood read by the generated tonic client alone: the receiving limit.
            let wanted: usize = args.get(1).context("events_bare COUNT CONTROL")?.parse()?;
            let control = args.get(2).context("events_bare COUNT CONTROL")?.clone();
            let fixture = BenchFixture::connect(WechatyBuilder::from_env()).await?;
            let flood = async move {
                tokio::task::spawn_blocking(move || {
                    post(&control, "/flood", &json!({ "count": wanted }))
                })
                .await
                .map_err(|error| wechaty_bench::BenchError::Failed(error.to_string()))?
                .map(drop)
                .map_err(|error| wechaty_bench::BenchError::Failed(error.to_string()))
            };
            let elapsed = fixture.bare_receive(wanted, flood).await?;
            println!(
                "{}",
                json!({ "client": "bare-tonic", "task": "events", "ms": elapsed.as_secs_f64() * 1e3, "count": wanted, "cpu_ms": cpu_ms() })
            );
            return Ok(());
        }
        "events" => {
            let wanted: usize = args.get(1).context("events COUNT CONTROL")?.parse()?;
            let control = args.get(2).context("events COUNT CONTROL")?.clone();
            let mut events = bot.events();
            bot.connect().await?;
            // Let the replayed login/ready pass before the clock starts.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let started = Instant::now();
            let flood = tokio::task::spawn_blocking(move || {
                post(&control, "/flood", &json!({ "count": wanted }))
            });
            let mut received = 0;
            while received < wanted {
                match tokio::time::timeout(Duration::from_secs(120), events.next()).await {
                    Ok(Some(Event::RoomJoin(_))) => received += 1,
                    Ok(Some(Event::Lagged { missed })) => bail!("missed {missed} events"),
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => bail!("the stream stopped after {received} events"),
                }
            }
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let server = flood.await??;
            bot.stop();
            println!(
                "{}",
                json!({ "client": "rust", "task": task, "ms": ms, "count": received, "server_ms": server["ms"], "cpu_ms": cpu_ms() })
            );
            return Ok(());
        }
        other => bail!("unknown task {other:?}: member_list, find_all, events or events_bare"),
    };
    let ms = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "{}",
        json!({ "client": "rust", "task": task, "ms": ms, "count": count })
    );
    Ok(())
}

/// CPU time this process used so far (user + system), from `/proc/self/stat` (10 ms ticks):
/// far below the wall time of a task means the client waited on the service.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

/// A JSON POST to the harness's control port (plain HTTP/1.1, one request per connection).
fn post(address: &str, path: &str, body: &Value) -> Result<Value> {
    let body = body.to_string();
    let mut stream = std::net::TcpStream::connect(address)?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (_, json) = response
        .split_once("\r\n\r\n")
        .context("the control port answered no body")?;
    Ok(serde_json::from_str(json)?)
}
