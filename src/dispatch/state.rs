//! [`ConnectionState`]: where the connection to the service stands, as the dispatch task
//! reports it.

use std::sync::Arc;

use crate::error::Error;

/// Where the connection to the service stands, as
/// [`Wechaty::connection_state`](crate::Wechaty::connection_state) tells it.
///
/// ```
/// use wechaty_client::ConnectionState;
/// let state = ConnectionState::Reconnecting { attempt: 2 };
/// assert!(!state.is_connected() && !state.is_closed());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Not connected yet: `connect()`/`start()` has not been called or has not succeeded.
    Idle,
    /// Opening the Event stream for the first time.
    Connecting,
    /// The Event stream is open.
    Connected,
    /// The stream broke; waiting before attempt `attempt` to reopen it.
    Reconnecting {
        /// 1 for the first retry.
        attempt: u32,
    },
    /// Another client holds the service's single Event stream; waiting before attempt
    /// `attempt` to take it (it frees when the other client goes).
    StreamTaken {
        /// 1 for the first retry.
        attempt: u32,
    },
    /// Closed for good: by `stop()` (`error` is `None`), or because of `error` (a rejected
    /// token, or the reconnect policy gave up). Shared, so the state can be cloned without
    /// cloning the error.
    Closed {
        /// Why, unless stopped on purpose.
        error: Option<Arc<Error>>,
    },
}

impl ConnectionState {
    /// Whether the Event stream is open.
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected)
    }

    /// Whether the connection is closed for good.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed { .. })
    }

    /// Why the connection closed, when it closed because of an error.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::Closed { error: Some(error) } => Some(error),
            _ => None,
        }
    }
}
