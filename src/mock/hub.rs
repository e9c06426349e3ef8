//! The one Event stream slot of the mock, as the official server has it: a second stream is
//! refused, events fired while no stream is attached are dropped.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio_stream::Stream;

use crate::generated::wechaty::puppet::EventResponse;

type Item = Result<EventResponse, tonic::Status>;

#[derive(Default)]
struct Slot {
    /// The attached stream: its number and sender.
    attached: Option<Attached>,
    generation: u64,
}

struct Attached {
    id: u64,
    sender: mpsc::UnboundedSender<Item>,
    /// Events sent but not yet taken by the gRPC layer: lets a bulk feed wait instead of
    /// piling events up in memory.
    queued: Arc<AtomicUsize>,
}

/// Cheap to clone; clones share the slot.
#[derive(Clone, Default)]
pub(crate) struct EventHub {
    slot: Arc<Mutex<Slot>>,
    /// A silent service: the stream stays open but carries nothing.
    silent: Arc<AtomicBool>,
}

impl EventHub {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Attaches a new stream, or refuses when one is attached.
    pub(crate) fn attach(&self) -> Result<(u64, HubStream), tonic::Status> {
        let mut slot = self.slot();
        if let Some(Attached { sender, .. }) = &slot.attached {
            if !sender.is_closed() {
                return Err(tonic::Status::already_exists(
                    "GrpcServerImpl.event() can not call twice.",
                ));
            }
        }
        slot.generation += 1;
        let id = slot.generation;
        let (sender, receiver) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        slot.attached = Some(Attached {
            id,
            sender,
            queued: Arc::clone(&queued),
        });
        Ok((
            id,
            HubStream {
                receiver,
                hub: self.clone(),
                id,
                queued,
            },
        ))
    }

    pub(crate) fn is_attached(&self) -> bool {
        self.slot()
            .attached
            .as_ref()
            .is_some_and(|attached| !attached.sender.is_closed())
    }

    /// Events the attached stream has not taken yet (0 without a stream).
    pub(crate) fn queued(&self) -> usize {
        self.slot()
            .attached
            .as_ref()
            .map_or(0, |attached| attached.queued.load(Ordering::Relaxed))
    }

    /// Sends to the attached stream, if any.
    pub(crate) fn emit(&self, kind: i32, payload: String) {
        self.send(
            None,
            Ok(EventResponse {
                r#type: kind,
                payload,
            }),
        );
    }

    /// Sends only if stream `id` is still the attached one (for delayed replays).
    pub(crate) fn emit_to(&self, id: u64, kind: i32, payload: String) {
        self.send(
            Some(id),
            Ok(EventResponse {
                r#type: kind,
                payload,
            }),
        );
    }

    /// Ends the attached stream with `status` (an error the client sees).
    pub(crate) fn fail(&self, status: tonic::Status) {
        self.send(None, Err(status));
        self.detach_all();
    }

    pub(crate) fn set_silent(&self, silent: bool) {
        self.silent.store(silent, Ordering::Relaxed);
    }

    fn send(&self, only: Option<u64>, item: Item) {
        if item.is_ok() && self.silent.load(Ordering::Relaxed) {
            return;
        }
        let mut slot = self.slot();
        let Some(attached) = &slot.attached else {
            return;
        };
        if only.is_some_and(|only| only != attached.id) {
            return;
        }
        attached.queued.fetch_add(1, Ordering::Relaxed);
        if attached.sender.send(item).is_err() {
            slot.attached = None;
        }
    }

    /// Drops the sender: the stream ends with status OK.
    pub(crate) fn detach_all(&self) {
        self.slot().attached = None;
    }

    fn detach(&self, id: u64) {
        let mut slot = self.slot();
        if slot
            .attached
            .as_ref()
            .is_some_and(|attached| attached.id == id)
        {
            slot.attached = None;
        }
    }
}

/// The server side of one Event stream; frees the slot when the client goes away.
pub(crate) struct HubStream {
    receiver: mpsc::UnboundedReceiver<Item>,
    hub: EventHub,
    id: u64,
    queued: Arc<AtomicUsize>,
}

impl Stream for HubStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let polled = self.receiver.poll_recv(cx);
        if let Poll::Ready(Some(_)) = polled {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        polled
    }
}

impl Drop for HubStream {
    fn drop(&mut self) {
        self.hub.detach(self.id);
    }
}
