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

mod events;
pub(crate) mod hub;
mod route;
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
use hub::Hub;
use route::{Dispatcher, RoomMessages};

pub use events::Events;
pub use state::ConnectionState;

/// How long `open` waits for the stream to be accepted. The official client waits as long for
/// the first event: some servers send nothing until something happens, and that is fine.
const OPEN_GRACE: Duration = Duration::from_secs(5);
/// Events the task takes from the stream at once, when that many are already there. One
/// batch is one send and one wake-up per global subscriber instead of one per event, so a
/// global subscriber keeps up even among a thousand busy room subscribers.
const MAX_BATCH: usize = 64;

/// Settings of the task.
#[derive(Clone)]
pub(crate) struct StreamSettings {
    pub(crate) watchdog: Duration,
    pub(crate) policy: Arc<dyn ReconnectPolicy>,
}

/// Opens the Event stream and spawns the task that owns it from then on.
///
/// Returns once the service accepted the stream (or after the grace period); a refusal (wrong
/// token, another client holding the stream, an unreachable service) is returned as an error
/// and no task is left running.
pub(crate) async fn start(
    transport: Transport,
    hub: Arc<Hub>,
    settings: StreamSettings,
) -> Result<JoinHandle<()>> {
    hub.set_state(ConnectionState::Connecting);
    let (opened_tx, opened_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let first = match open_stream(&transport).await {
            Ok(stream) => {
                let _ = opened_tx.send(Ok(()));
                stream
            }
            Err(error) => {
                let _ = opened_tx.send(Err(error));
                return;
            }
        };
        run(first, transport, hub, settings).await;
    });
    match tokio::time::timeout(OPEN_GRACE, opened_rx).await {
        Ok(Ok(Ok(()))) | Err(_) => Ok(task),
        Ok(Ok(Err(error))) => Err(error),
        Ok(Err(_task_gone)) => Err(Error::NotConnected),
    }
}

async fn open_stream(transport: &Transport) -> Result<Streaming<EventResponse>> {
    match transport.puppet().event(EventRequest {}).await {
        Ok(response) => Ok(response.into_inner()),
        Err(status) => Err(transport.error("Event", status).await),
    }
}

/// How one stream ended.
enum Ended {
    /// The server closed it, it failed, or it went silent: reopen.
    Broken(Error),
    /// The token was rejected: stop.
    Unauthenticated,
}

async fn run(
    first: Streaming<EventResponse>,
    transport: Transport,
    hub: Arc<Hub>,
    settings: StreamSettings,
) {
    let rooms = RoomMessages::spawn(transport.clone(), Arc::clone(&hub));
    let mut stream = first;
    let mut reconnected = false;
    loop {
        hub.set_state(ConnectionState::Connected);
        let mut dispatcher = Dispatcher {
            hub: &hub,
            rooms: &rooms,
            replaying: reconnected,
        };
        let mut last_error = match pump(&mut stream, &transport, &settings, &mut dispatcher).await {
            Ended::Unauthenticated => {
                hub.close(Some(Error::Unauthenticated));
                return;
            }
            Ended::Broken(error) => error,
        };
        // Dropping the stream cancels it, so the server frees its single slot.
        drop(stream);
        let mut attempt = 0;
        stream = loop {
            attempt += 1;
            let Some(delay) = settings.policy.delay(attempt) else {
                tracing::error!(error = %last_error, "giving up reconnecting the Event stream");
                hub.close(Some(last_error));
                return;
            };
            hub.set_state(ConnectionState::Reconnecting { attempt });
            tracing::info!(attempt, ?delay, "reconnecting the Event stream");
            tokio::time::sleep(delay).await;
            match open_stream(&transport).await {
                Ok(stream) => break stream,
                Err(Error::Unauthenticated) => {
                    hub.close(Some(Error::Unauthenticated));
                    return;
                }
                Err(error) => {
                    tracing::warn!(attempt, %error, "reopening the Event stream failed");
                    last_error = error;
                }
            }
        };
        reconnected = true;
        hub.publish_reconnected();
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
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let mut next = match tokio::time::timeout(settings.watchdog, stream.next()).await {
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
                Some(Ok(response)) => batch.extend(dispatcher.dispatch(response)),
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
            if taken == MAX_BATCH {
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
