//! `events`: what the service sends, as it comes, for everyone or for one room.

use std::pin::Pin;
use std::time::Duration;

use anyhow::{bail, Result};
use serde_json::Value;
use tokio_stream::{Stream, StreamExt};
use wechaty_client::{Wechaty, WechatyBuilder};

use super::rooms::resolve_room;
use crate::json::{event_json, human_event_lines, room_event_json};
use crate::output::Output;

/// `events [--room QUERY] [--count N] [--timeout SECS] [--nats URL [--consumer NAME]]` (never
/// calls Start); exit 1 when `--timeout` came before `--count` events. From NATS, an event
/// is acknowledged once printed.
pub async fn events(
    builder: WechatyBuilder,
    room: Option<String>,
    count: Option<u64>,
    limit: Option<Duration>,
    out: &Output,
) -> Result<()> {
    let bot = builder.build().await?;
    let printed = print_events(&bot, out, room.as_deref(), count, limit).await;
    bot.stop();
    // From NATS: what was printed is acknowledged, the rest handed back.
    bot.stopped().await;
    let printed = printed?;
    if let Some(count) = count {
        if printed < count {
            bail!("only {printed} of {count} events arrived before --timeout");
        }
    }
    Ok(())
}

/// Prints events until `count` were printed, `limit` passed, Ctrl-C, or the stream ended.
/// Returns how many were printed.
async fn print_events(
    bot: &Wechaty,
    out: &Output,
    room: Option<&str>,
    count: Option<u64>,
    limit: Option<Duration>,
) -> Result<u64> {
    let mut stream: Pin<Box<dyn Stream<Item = Value> + Send>> = match room {
        // A topic works as for `room QUERY`, not only an id.
        Some(query) => {
            let room = resolve_room(bot, query).await?;
            Box::pin(room.events().map(|event| room_event_json(&event)))
        }
        None => Box::pin(bot.events().map(|event| event_json(&event))),
    };
    bot.connect().await?;
    let mut printed = 0;
    let deadline = limit.map(|limit| tokio::time::Instant::now() + limit);
    let until_deadline = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(until_deadline);
    while count.is_none_or(|count| printed < count) {
        let event = tokio::select! {
            event = stream.next() => event,
            () = &mut until_deadline => break,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(event) = event else { break };
        // A scan draws its QR code above the line.
        let human = human_event_lines(&event);
        out.lines(
            &event,
            &human.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        printed += 1;
    }
    // Stopped while the stream is still here: from NATS, what it did not print goes back.
    bot.stop();
    Ok(printed)
}
