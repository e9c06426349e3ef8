//! What the relay and the workers say about their NATS connection, the same way: its events
//! in the log, its failures as [`Error::Nats`].

use crate::error::{Cause, Error};

/// Logs an event of the NATS client's connection. `Closed` is this process's own doing (it
/// stops), so it is not a warning.
pub(super) fn log_event(event: &async_nats::Event) {
    match event {
        async_nats::Event::Disconnected => {
            tracing::warn!("lost the connection to NATS: reconnecting")
        }
        async_nats::Event::Connected => tracing::info!("connected to NATS"),
        async_nats::Event::Closed => tracing::debug!("closed the connection to NATS"),
        other => tracing::warn!(event = %other, "NATS"),
    }
}

/// `what` failed at the NATS server(s) `url` (already without credentials).
pub(super) fn nats_error(url: String, what: &str, error: impl Into<Cause>) -> Error {
    Error::Nats {
        url,
        what: what.into(),
        source: Some(error.into()),
    }
}
