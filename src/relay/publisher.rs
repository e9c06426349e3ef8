//! The JetStream side of the relay: the stream it writes to, and the task that publishes
//! what the Event side buffered, with a bounded number of acknowledgements pending.
//!
//! An event leaves the buffer only when JetStream acknowledged it. A publish that fails (NATS
//! away, a timeout) is published again, with the same `Nats-Msg-Id`, before anything newer is
//! sent: JetStream drops the copy if the first one did arrive. Only when the server refused an
//! event and took a later one already in flight (a server-side limit) can the retried event land
//! after it.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage as Publish, stream};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures_util::stream::FuturesOrdered;
use futures_util::StreamExt;
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use super::{Shared, HEADER_EVENT_ID, HEADER_REPLAY, HEADER_ROOM, HEADER_TIMESTAMP, HEADER_TYPE};
use crate::error::{Error, Result};
use crate::reconnect::{ExponentialBackoff, ReconnectPolicy};

/// One event on its way to JetStream, holding its share of the buffer until acknowledged.
pub(super) struct Outgoing {
    pub(super) subject: String,
    pub(super) headers: EventHeaders,
    pub(super) payload: Bytes,
    /// When the relay received it, for the publish latency.
    pub(super) received: Instant,
    /// Its place and its bytes in the buffer's budget, given back when it is dropped.
    pub(super) _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

/// An event's headers (`envelope.rs`), kept as fields while the event waits in the buffer
/// and written out for each publish: a `HeaderMap` is several allocations per event, which
/// would make a full buffer twice the memory its byte bound says.
pub(super) struct EventHeaders {
    pub(super) id: String,
    /// The protocol's `EventType` number.
    pub(super) kind: i32,
    pub(super) room: Option<String>,
    /// When the relay received it, in milliseconds since the Unix epoch.
    pub(super) millis: u128,
    /// A login or ready the service replayed.
    pub(super) replay: bool,
}

impl EventHeaders {
    pub(super) fn to_map(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, self.id.as_str());
        headers.insert(HEADER_EVENT_ID, self.id.as_str());
        headers.insert(HEADER_TYPE, self.kind.to_string().as_str());
        if let Some(room) = &self.room {
            headers.insert(HEADER_ROOM, room.as_str());
        }
        headers.insert(HEADER_TIMESTAMP, self.millis.to_string().as_str());
        if self.replay {
            headers.insert(HEADER_REPLAY, "true");
        }
        headers
    }
}

impl Outgoing {
    fn message(&self) -> Publish {
        Publish::build()
            .payload(self.payload.clone())
            .headers(self.headers.to_map())
    }

    fn event_id(&self) -> &str {
        &self.headers.id
    }
}

/// Creates the stream if it is not there (file storage, every subject under its name, the
/// duplicate window JetStream dedups in), retrying until NATS answers: a relay usually starts
/// beside its NATS server, which may come up second.
pub(super) async fn ensure_stream(
    context: &jetstream::Context,
    shared: &Shared,
    max_age: Duration,
) -> Result<()> {
    let config = stream::Config {
        name: shared.stream.clone(),
        subjects: vec![format!("{}.>", shared.stream)],
        storage: stream::StorageType::File,
        max_age,
        duplicate_window: DUPLICATE_WINDOW,
        description: Some("wechaty relay: a puppet service's events".into()),
        ..Default::default()
    };
    let backoff = ExponentialBackoff::default();
    let mut attempt = 0;
    loop {
        match context.get_or_create_stream(config.clone()).await {
            Ok(_) => return Ok(()),
            Err(error) => {
                let error = shared.nats_error("creating the JetStream stream", error);
                attempt += 1;
                let delay = backoff.delay(attempt).unwrap_or(Duration::from_secs(30));
                tracing::warn!(%error, ?delay, "NATS is not ready: retrying");
                if shared.is_stopped() {
                    return Err(Error::Stopped);
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// How long JetStream remembers an event id to drop its copies: as JetStream's default, and
/// longer than a relay takes over from another.
pub(super) const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Publishes everything `buffer` gives, in order, at most `max_in_flight` unacknowledged.
/// Ends when the buffer's sender is gone and everything in it was acknowledged.
pub(super) async fn publish_all(
    context: jetstream::Context,
    mut buffer: mpsc::Receiver<Outgoing>,
    shared: Arc<Shared>,
    max_in_flight: usize,
) {
    let mut in_flight = FuturesOrdered::new();
    // Events whose publish failed, oldest first: they go again, one at a time, before any
    // newer event is sent.
    let mut retry: VecDeque<Outgoing> = VecDeque::new();
    let backoff = ExponentialBackoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(5),
        ..ExponentialBackoff::default()
    };
    loop {
        if in_flight.is_empty() && !retry.is_empty() {
            let mut attempt = 0;
            while let Some(outgoing) = retry.pop_front() {
                loop {
                    match publish_and_wait(&context, &outgoing).await {
                        Ok(ack) => {
                            shared.acknowledged(&outgoing, ack.duplicate);
                            break;
                        }
                        Err(error) => {
                            attempt += 1;
                            let delay = backoff.delay(attempt).unwrap_or(backoff.max);
                            tracing::warn!(
                                event = outgoing.event_id(),
                                error = %shared.nats_error("publishing an event", error),
                                ?delay,
                                "JetStream did not acknowledge an event: publishing it again"
                            );
                            shared.counters.retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(delay).await;
                        }
                    }
                }
            }
            continue;
        }
        tokio::select! {
            next = buffer.recv(), if retry.is_empty() && in_flight.len() < max_in_flight => {
                let Some(outgoing) = next else { break };
                match context.send_publish(outgoing.subject.clone(), outgoing.message()).await {
                    Ok(ack) => in_flight.push_back(async move { (ack.await, outgoing) }),
                    Err(error) => {
                        tracing::debug!(%error, "a publish could not be sent");
                        retry.push_back(outgoing);
                    }
                }
            }
            Some((ack, outgoing)) = in_flight.next(), if !in_flight.is_empty() => match ack {
                Ok(ack) => shared.acknowledged(&outgoing, ack.duplicate),
                Err(error) => {
                    tracing::debug!(%error, "a publish was not acknowledged");
                    retry.push_back(outgoing);
                }
            },
        }
    }
    // The Event side ended: what is still in flight or failed is published before leaving.
    while let Some((ack, outgoing)) = in_flight.next().await {
        match ack {
            Ok(ack) => shared.acknowledged(&outgoing, ack.duplicate),
            Err(_) => retry.push_back(outgoing),
        }
    }
    for outgoing in retry {
        match publish_and_wait(&context, &outgoing).await {
            Ok(ack) => shared.acknowledged(&outgoing, ack.duplicate),
            Err(error) => tracing::error!(
                event = outgoing.event_id(),
                error = %shared.nats_error("publishing an event", error),
                "the relay stopped with an event JetStream never acknowledged"
            ),
        }
    }
}

async fn publish_and_wait(
    context: &jetstream::Context,
    outgoing: &Outgoing,
) -> std::result::Result<jetstream::publish::PublishAck, async_nats::Error> {
    let ack = context
        .send_publish(outgoing.subject.clone(), outgoing.message())
        .await?;
    Ok(ack.await?)
}

impl Shared {
    /// Counts one acknowledged event and its latency.
    fn acknowledged(&self, outgoing: &Outgoing, duplicate: bool) {
        let counters = &self.counters;
        if duplicate {
            counters.duplicates.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.relayed.fetch_add(1, Ordering::Relaxed);
        }
        counters.latency.record(outgoing.received.elapsed());
        counters.buffered_events.fetch_sub(1, Ordering::Relaxed);
        counters
            .buffered_bytes
            .fetch_sub(outgoing._permits.1.num_permits() as u64, Ordering::Relaxed);
        self.published
            .send_if_modified(|published| !std::mem::replace(published, true));
    }
}
