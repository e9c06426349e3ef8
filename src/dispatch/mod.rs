//! The one background task that owns the service's `Event` stream: its lifecycle.
//!
//! `start` opens the stream and spawns the task. The task reads what the stream already holds
//! (up to [`MAX_BATCH`] events, without waiting), routes each event (`route.rs`: caches, login
//! state, the room's channel), then publishes the batch to the global channel (`hub.rs`). When
//! the stream ends, fails or stays silent past the watchdog, the task drops it (which cancels
//! it: the server allows one stream) and reopens it after the reconnect policy's delay.
//! `Unauthenticated` is final. Subscribers keep their receivers across reconnects and get a
//! `Reconnected` marker; the `login`/`ready` the server replays on every new stream are
//! recognised and not published again.

mod budget;
mod events;
#[cfg(feature = "nats")]
pub(crate) mod feed;
pub(crate) mod hub;
mod route;
mod seen;
mod state;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::codec::Streaming;

use crate::error::{Error, Result};
use crate::generated::wechaty::puppet::{EventRequest, EventResponse};
use crate::reconnect::ReconnectPolicy;
use crate::transport::Transport;
use hub::{Batch, Hub};
use route::{Dispatcher, RoomMessages};

pub use events::Events;
pub use state::ConnectionState;

/// How long `open` waits for the stream to be accepted. The official client waits as long for
/// the first event: some servers send nothing until something happens, and that is fine.
const OPEN_GRACE: Duration = Duration::from_secs(5);
/// How long a stream must stay up for the reconnect backoff to start over: a service that
/// accepts the stream and drops it at once is not retried twice a second forever.
const STABLE_AFTER: Duration = Duration::from_secs(30);
/// Events the task takes from the stream at once, when that many are already there. One
/// batch is one send and one wake-up per global subscriber instead of one per event, so a
/// global subscriber keeps up even among a thousand busy room subscribers.
const MAX_BATCH: usize = 64;
/// A batch also closes once its events' payloads reach this many bytes, so that the global
/// buffer's count of batches bounds its bytes too.
const MAX_BATCH_BYTES: usize = 64 * 1024;

/// Settings of the task.
#[derive(Clone)]
pub(crate) struct StreamSettings {
    pub(crate) watchdog: Duration,
    pub(crate) policy: Arc<dyn ReconnectPolicy>,
    /// Largest payload of one event.
    pub(crate) max_event_payload: usize,
}

/// Opens the Event stream and spawns the task that owns it from then on.
///
/// Returns once the service accepted the stream, or after the grace period (some servers send
/// their answer with the first event); a refusal within it (wrong token, another client holding
/// the stream, an unreachable service) is returned as an error and no task is left running. A
/// first open that fails after the grace period is retried like any later failure. Cancelling
/// the returned future cancels the task.
pub(crate) async fn start(
    transport: Transport,
    hub: Arc<Hub>,
    settings: StreamSettings,
) -> Result<JoinHandle<()>> {
    hub.set_state(ConnectionState::Connecting);
    let (opened_tx, opened_rx) = oneshot::channel();
    let task = AbortOnDrop(Some(tokio::spawn(run(transport, hub, settings, opened_tx))));
    match tokio::time::timeout(OPEN_GRACE, opened_rx).await {
        Ok(Ok(Ok(()))) | Err(_) => Ok(task.defuse()),
        Ok(Ok(Err(error))) => Err(error),
        Ok(Err(_task_gone)) => Err(Error::NotConnected),
    }
}

/// Aborts the task when dropped, unless defused: a `start` cancelled while it waits leaves
/// nothing behind to hold the service's single stream.
struct AbortOnDrop(Option<JoinHandle<()>>);

impl AbortOnDrop {
    fn defuse(mut self) -> JoinHandle<()> {
        self.0.take().expect("defused once")
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// Opens the stream, giving up after `deadline`: on a connection that is silently dead the
/// request would wait forever.
pub(crate) async fn open_stream(
    transport: &Transport,
    deadline: Duration,
) -> Result<Streaming<EventResponse>> {
    let mut puppet = transport.puppet();
    let started = tokio::time::Instant::now();
    let opened = match tokio::time::timeout(deadline, puppet.event(EventRequest {})).await {
        Ok(Ok(response)) => Ok(response.into_inner()),
        Ok(Err(status)) => Err(transport.error("Event", status).await),
        Err(_) => Err(Error::Timeout {
            what: "the puppet service to open the Event stream".into(),
            timeout: deadline,
        }),
    };
    transport.record("Event", started.elapsed(), opened.as_ref().err());
    opened
}

/// How one stream ended.
enum Ended {
    /// The server closed it, it failed, or it went silent: reopen.
    Broken(Error),
    /// The token was rejected: stop.
    Unauthenticated,
    /// The bot stopped or went away: this client's own doing, nothing to report.
    Stopped,
}

/// The task: open, read until the stream ends, wait, reopen on a fresh connection, for as
/// long as the reconnect policy allows. `opened` hears how the first open went; once
/// [`start`] stopped listening, a failed first open is retried like any other.
async fn run(
    transport: Transport,
    hub: Arc<Hub>,
    settings: StreamSettings,
    opened: oneshot::Sender<Result<()>>,
) {
    let rooms = RoomMessages::spawn(transport.clone(), Arc::clone(&hub));
    let mut opened = Some(opened);
    // Reconnect attempts since the last stream that stayed up for a while; a stream that is
    // accepted and dropped at once does not reset the backoff.
    let mut attempt = 0;
    let mut reconnected = false;
    loop {
        let failure = match open_stream(&transport, settings.watchdog).await {
            Ok(mut stream) => {
                if let Some(opened) = opened.take() {
                    let _ = opened.send(Ok(()));
                }
                if reconnected {
                    hub.publish_reconnected();
                }
                hub.set_state(ConnectionState::Connected);
                let since = tokio::time::Instant::now();
                let mut dispatcher = Dispatcher {
                    hub: &hub,
                    rooms: &rooms,
                    replaying: reconnected,
                    max_payload: settings.max_event_payload,
                    follows_session: false,
                };
                let ended = pump(&mut stream, &transport, &settings, &mut dispatcher).await;
                // Dropping the stream cancels it, so the server frees its single slot.
                drop(stream);
                if since.elapsed() >= STABLE_AFTER {
                    attempt = 0;
                }
                match ended {
                    Ended::Stopped => return,
                    Ended::Unauthenticated => {
                        hub.close(Some(Error::Unauthenticated));
                        return;
                    }
                    Ended::Broken(error) => error,
                }
            }
            Err(_) if hub.is_closed() => return,
            Err(error) => {
                if let Some(first) = opened.take() {
                    match first.send(Err(error)) {
                        // `start` reports it; nothing is left running.
                        Ok(()) => return,
                        Err(Err(error)) => {
                            tracing::warn!(%error, "opening the Event stream failed after start() returned: retrying");
                            error
                        }
                        Err(Ok(())) => unreachable!("an error was sent"),
                    }
                } else {
                    tracing::warn!(attempt, %error, "reopening the Event stream failed");
                    error
                }
            }
        };
        if hub.is_closed() {
            return;
        }
        if matches!(failure, Error::Unauthenticated) {
            hub.close(Some(Error::Unauthenticated));
            return;
        }
        attempt += 1;
        let Some(delay) = settings.policy.delay(attempt) else {
            tracing::error!(error = %failure, "giving up reconnecting the Event stream");
            hub.close(Some(failure));
            return;
        };
        if matches!(failure, Error::EventStreamTaken) {
            tracing::warn!(
                attempt,
                ?delay,
                "another client holds the Event stream: waiting for it to let go"
            );
            hub.set_state(ConnectionState::StreamTaken { attempt });
        } else {
            tracing::info!(attempt, ?delay, "reconnecting the Event stream");
            hub.set_state(ConnectionState::Reconnecting { attempt });
        }
        tokio::time::sleep(delay).await;
        // The old connection may be half-open; only a new one is known to work.
        transport.renew();
        reconnected = true;
    }
}

/// Reads one stream until it ends, fails or stays silent longer than the watchdog allows.
/// Events already waiting are taken together (up to [`MAX_BATCH`]) and published as one batch.
async fn pump(
    stream: &mut Streaming<EventResponse>,
    transport: &Transport,
    settings: &StreamSettings,
    dispatcher: &mut Dispatcher<'_>,
) -> Ended {
    // Reused for every batch: a fresh buffer per batch is a large allocation, which costs
    // glibc's allocator a sweep of its small free lists each time.
    let mut batch = Batch::with_capacity(MAX_BATCH);
    loop {
        let mut next = match tokio::time::timeout(settings.watchdog, stream.next()).await {
            Err(_silent) if dispatcher.hub.is_closed() => return Ended::Stopped,
            Err(_silent) => {
                tracing::warn!(
                    watchdog = ?settings.watchdog,
                    "no event (not even a heartbeat) within the watchdog period: reconnecting"
                );
                return Ended::Broken(Error::Timeout {
                    what: "a heartbeat on the Event stream".into(),
                    timeout: settings.watchdog,
                });
            }
            Ok(next) => next,
        };
        let mut taken = 0;
        let ended = loop {
            match next {
                Some(Ok(response)) => dispatcher.dispatch(response, &mut batch),
                _ if dispatcher.hub.is_closed() => break Some(Ended::Stopped),
                Some(Err(status)) => break Some(failed(transport, status).await),
                None => {
                    tracing::warn!(
                        endpoint = transport.endpoint(),
                        "the puppet service ended the Event stream"
                    );
                    break Some(Ended::Broken(Error::NotConnected));
                }
            }
            taken += 1;
            if taken == MAX_BATCH || batch.bytes >= MAX_BATCH_BYTES {
                break None;
            }
            // What is already there, without waiting.
            match stream.next().now_or_never() {
                Some(item) => next = item,
                None => break None,
            }
        };
        dispatcher.hub.publish_batch(&mut batch);
        if let Some(ended) = ended {
            return ended;
        }
        // A stream that always has data would keep this task running while the subscribers
        // it woke wait in the queue; counting each batch against tokio's cooperative budget
        // makes it yield now and then, so they keep up instead of lagging.
        tokio::task::consume_budget().await;
    }
}

async fn failed(transport: &Transport, status: tonic::Status) -> Ended {
    let error = transport.error("Event", status).await;
    if matches!(error, Error::Unauthenticated) {
        tracing::error!(%error, "the Event stream was refused");
        return Ended::Unauthenticated;
    }
    tracing::warn!(%error, "the Event stream failed");
    Ended::Broken(error)
}
