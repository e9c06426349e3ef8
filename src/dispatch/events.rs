//! [`Events`]: the global subscriber's side of the hub, one event at a time out of the
//! numbered batches the dispatch task publishes.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::Stream;

use super::hub::{EventBatch, Handled, HandledBatch, Hub};
use crate::event::Event;

/// The stream returned by [`Wechaty::events`](crate::Wechaty::events).
pub struct Events {
    /// `None` when subscribed after the bot closed: the stream is over.
    inner: Option<BroadcastStream<EventBatch>>,
    /// Where missed events are counted.
    hub: Arc<Hub>,
    /// The events of the batch being handed out, their [`Handled`]s (held until this
    /// subscriber reads past the batch), and the position in them.
    batch: Option<(Arc<[Event]>, Option<HandledBatch>, usize)>,
    /// The number of the event after the last batch taken: a batch starting later means the
    /// ones in between were missed.
    next: u64,
}

impl Events {
    /// Every event `hub` publishes from now on (a stream that is over when the hub closed).
    pub(crate) fn subscribe(hub: Arc<Hub>) -> Self {
        let (inner, next) = match hub.subscribe() {
            Some((receiver, next)) => (Some(BroadcastStream::new(receiver)), next),
            None => (None, 0),
        };
        Events {
            inner,
            hub,
            batch: None,
            next,
        }
    }

    /// The same events, each with its [`Handled`] (in a worker), for a reader that lets go of
    /// it only once the event's handler returned (the `Bot` runner).
    pub(crate) fn with_handled(self) -> WithHandled {
        WithHandled(self)
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<(Event, Option<Handled>)>> {
        let this = self;
        loop {
            if let Some((batch, handled, position)) = &mut this.batch {
                if let Some(event) = batch.get(*position) {
                    let handled = handled
                        .as_ref()
                        .and_then(|handled| handled.get(*position).cloned().flatten());
                    *position += 1;
                    return Poll::Ready(Some((event.clone(), handled)));
                }
                // Read past: the batch's events count as handled by this subscriber.
                this.batch = None;
            }
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(None);
            };
            match std::task::ready!(Pin::new(inner).poll_next(cx)) {
                None => return Poll::Ready(None),
                // Counts batches, not events: the next batch's number tells how many events.
                Some(Err(BroadcastStreamRecvError::Lagged(_))) => {}
                Some(Ok(batch)) => {
                    let mut missed = batch.first.saturating_sub(this.next);
                    this.next = batch.first + batch.len;
                    match batch.events.get() {
                        Some(events) => this.batch = Some((events, batch.handled, 0)),
                        // Taken back by the byte budget before this subscriber came to it.
                        None => missed += batch.len,
                    }
                    if missed > 0 {
                        this.hub.counts.count_lagged(missed);
                        return Poll::Ready(Some((Event::Lagged { missed }, None)));
                    }
                }
            }
        }
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut()
            .poll_event(cx)
            .map(|next| next.map(|(event, _)| event))
    }
}

/// [`Events`] with each event's [`Handled`].
pub(crate) struct WithHandled(Events);

impl Stream for WithHandled {
    type Item = (Event, Option<Handled>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_event(cx)
    }
}

/// In a worker, the events a subscriber of a stopped bot did not read were not handled by it:
/// abandoned, they go back to JetStream (to another worker) instead of being acknowledged.
/// A subscriber dropped while the bot runs (one that was only waiting for something) lets
/// them count as handled, as any subscriber that read past them.
impl Drop for Events {
    fn drop(&mut self) {
        if !self.hub.is_closed() {
            return;
        }
        let abandon = |handled: &[Option<Handled>]| {
            handled
                .iter()
                .flatten()
                .for_each(|handled| handled.abandon());
        };
        if let Some((_, Some(handled), position)) = &self.batch {
            abandon(handled.get(*position..).unwrap_or_default());
        }
        if let Some(inner) = self.inner.as_mut() {
            let mut cx = Context::from_waker(std::task::Waker::noop());
            while let Poll::Ready(Some(next)) = Pin::new(&mut *inner).poll_next(&mut cx) {
                if let Ok(EventBatch {
                    handled: Some(handled),
                    ..
                }) = next
                {
                    abandon(&handled);
                }
            }
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Events")
    }
}
