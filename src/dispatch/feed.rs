//! The hub fed by a worker (feature `nats`) instead of the service's stream: the events its
//! partitions deliver, published to the bot's subscribers and acknowledged once handled, and
//! the state events every worker follows for its caches and login state. One task, as the
//! service's stream has one, so the events of one partition stay in order.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::hub::{Batch, Handled, Hub};
use super::route::{Dispatcher, RoomMessages};
use super::seen::SeenMessages;
use super::MAX_BATCH;
use crate::generated::wechaty::puppet::EventResponse;
use crate::transport::Transport;

/// Events waiting for the feed task; past it the partitions wait (and so pull no more).
const FEED_QUEUE: usize = 1024;
/// Event ids remembered to drop what JetStream delivers again (an acknowledgement lost, a
/// partition taken over). Kept as 64-bit hashes: 100,000 of them are under 4 MiB.
const SEEN_EVENTS: usize = 100_000;

/// What a worker feeds the hub.
pub(crate) enum Fed {
    /// An event for this worker's subscribers: `handled` is let go of once they handled it.
    Deliver {
        response: EventResponse,
        /// The relay's stable event id.
        id: String,
        /// A login or ready the service replayed to a relay (the relay says so): it changes
        /// nothing, and the handlers heard of it already.
        replay: bool,
        handled: Handled,
    },
    /// A state event every worker follows: caches and login state only. `catch_up`: stored
    /// before this worker started (its caches are empty: only the login state matters).
    Follow {
        response: EventResponse,
        catch_up: bool,
    },
}

/// Spawns the feed task; it ends when every sender is gone or the hub closes.
pub(crate) fn spawn(
    transport: Transport,
    hub: Arc<Hub>,
    max_payload: usize,
) -> (mpsc::Sender<Fed>, JoinHandle<()>) {
    let (sender, mut received) = mpsc::channel::<Fed>(FEED_QUEUE);
    let task = tokio::spawn(async move {
        let rooms = RoomMessages::spawn(transport, Arc::clone(&hub));
        let mut dispatcher = Dispatcher {
            hub: &hub,
            rooms: &rooms,
            replaying: false,
            max_payload,
            follows_session: true,
        };
        let mut seen = SeenMessages::<u64>::new(SEEN_EVENTS);
        let mut batch = Batch::with_capacity(MAX_BATCH);
        let mut fed = Vec::with_capacity(MAX_BATCH);
        while received.recv_many(&mut fed, MAX_BATCH).await > 0 {
            for item in fed.drain(..) {
                match item {
                    Fed::Deliver {
                        response,
                        id,
                        replay,
                        handled,
                    } => {
                        // An event dropped here lets go of `handled`: acknowledged at once.
                        if !seen.first_sighting(&hash_of(&id)) {
                            hub.counts.count_duplicate();
                            tracing::debug!(%id, "dropped an event delivered twice");
                            continue;
                        }
                        if replay {
                            tracing::debug!(%id, "a login or ready the service replayed");
                            continue;
                        }
                        batch.next_handled = Some(handled);
                        dispatcher.dispatch(response, &mut batch);
                        batch.next_handled = None;
                    }
                    Fed::Follow { response, catch_up } => {
                        dispatcher.follow(&response, catch_up, &mut batch);
                    }
                }
            }
            if hub.is_closed() {
                break;
            }
            hub.publish_batch(&mut batch);
            tokio::task::consume_budget().await;
        }
    });
    (sender, task)
}

fn hash_of(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}
