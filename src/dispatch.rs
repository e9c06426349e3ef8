//! The one background task that owns the `Event` stream: it decodes each event and publishes it
//! to the subscribers. Subscribers never block it (`broadcast`: a slow one sees `Lagged`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::event::{self, Event};
use crate::proto::wechaty::puppet::{EventRequest, EventResponse};
use crate::transport::Transport;

/// How long `open` waits for the stream to be accepted. The official client waits as long for
/// the first event: some servers send nothing until something happens, and that is fine.
const OPEN_GRACE: Duration = Duration::from_secs(5);

/// Counters a subscriber can read to see what the task skipped.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) malformed: AtomicU64,
}

/// Opens the Event stream and spawns the task that pumps it into `sender`.
///
/// Returns once the service accepted the stream (or after the grace period); a refusal (wrong
/// token, another client holding the stream) is returned as an error.
pub(crate) async fn open(
    transport: Transport,
    sender: broadcast::Sender<Event>,
    stats: Arc<Stats>,
) -> Result<JoinHandle<()>> {
    let (opened_tx, opened_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut stream = match transport.puppet().event(EventRequest {}).await {
            Ok(response) => {
                let _ = opened_tx.send(Ok(()));
                response.into_inner()
            }
            Err(status) => {
                let _ = opened_tx.send(Err(transport.error("Event", &status)));
                return;
            }
        };
        loop {
            match stream.message().await {
                Ok(Some(response)) => publish(&sender, &stats, response),
                Ok(None) => {
                    tracing::warn!(
                        endpoint = transport.endpoint(),
                        "the puppet service ended the Event stream"
                    );
                    break;
                }
                Err(status) => {
                    let error = transport.error("Event", &status);
                    tracing::warn!(%error, "the Event stream failed");
                    break;
                }
            }
        }
    });
    match tokio::time::timeout(OPEN_GRACE, opened_rx).await {
        Ok(Ok(Ok(()))) | Err(_) => Ok(task),
        Ok(Ok(Err(error))) => Err(error),
        Ok(Err(_task_gone)) => Err(Error::NotConnected),
    }
}

fn publish(sender: &broadcast::Sender<Event>, stats: &Stats, response: EventResponse) {
    match event::decode(response.r#type, &response.payload) {
        Ok(event) => {
            tracing::trace!(event = event.name(), "event");
            // No subscriber is not an error: events are dropped like the server drops them.
            let _ = sender.send(event);
        }
        Err(error) => {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                kind = error.kind,
                reason = %error.reason,
                "skipped a malformed event from the puppet service"
            );
        }
    }
}
