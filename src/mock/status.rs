//! The statuses the mock answers errors with, shaped as the official server's.

use tonic::Status;

/// Errors come back as the official server sends them: `UNKNOWN` with a Node-style message
/// and a stack trace below it.
pub(super) fn node_error(message: impl std::fmt::Display) -> Status {
    Status::unknown(format!(
        "Error: {message}\n    at MockPuppet (wechaty-client/src/mock/service.rs)"
    ))
}

pub(super) fn no_payload(id: &str) -> Status {
    node_error(format!("no payload found for id {id}"))
}
