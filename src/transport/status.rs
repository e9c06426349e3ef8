//! How a gRPC status becomes an [`Error`].
//!
//! The server's details are cut to their first line (Node servers add a stack trace) and
//! scrubbed of the token; for code 16 they are dropped entirely, since the official server quotes
//! the token there. Failures of this side of the connection — whatever code tonic gives them —
//! become [`Error::Transport`] with tonic's error kept as the source, or one of the TLS variants
//! when the connector's diagnosis is in the source chain.

use crate::error::{scrub, Error};
use crate::tls::TlsFailure;

/// A mapped status, and whether an open connection broke (reset, closed, answered with
/// nonsense): what a plaintext client talking to a TLS server sees, and also what a client
/// sees when its service goes away mid-call. The caller tells them apart.
pub(crate) struct Mapped {
    pub(crate) error: Error,
    pub(crate) broke: bool,
}

/// Maps a status of `rpc` from the service at `endpoint`; `secret` is scrubbed from whatever
/// server text remains.
pub(crate) fn map(
    rpc: &'static str,
    mut status: tonic::Status,
    endpoint: &str,
    secret: &str,
) -> Mapped {
    use tonic::Code;
    let message = |status: &tonic::Status| scrub(first_line(status.message()), secret);
    if status.code() == Code::Unavailable || is_local_transport_failure(&status) {
        if let Some(failure) = tls_failure(&status) {
            return Mapped {
                error: failure.clone().into_error(endpoint),
                broke: false,
            };
        }
        let (cause, broke) = transport_cause(&status);
        // A status made on this side carries tonic's error chain and no server text; keep it
        // (without metadata, which a server could have filled) as the cause.
        let source = is_local_transport_failure(&status).then(|| {
            *status.metadata_mut() = tonic::metadata::MetadataMap::new();
            Box::new(status) as crate::error::Cause
        });
        return Mapped {
            error: Error::Transport {
                endpoint: endpoint.to_owned(),
                message: scrub(&cause, secret),
                source,
            },
            broke,
        };
    }
    let error = match status.code() {
        Code::Unauthenticated => Error::Unauthenticated,
        Code::NotFound => Error::NotFound {
            rpc,
            message: message(&status),
        },
        Code::AlreadyExists if rpc == "Event" => Error::EventStreamTaken,
        Code::AlreadyExists => Error::AlreadyExists {
            rpc,
            message: message(&status),
        },
        Code::Unimplemented => Error::Unimplemented { rpc },
        code => Error::Rpc {
            rpc,
            code,
            message: message(&status),
        },
    };
    Mapped {
        error,
        broke: false,
    }
}

/// The server gave up at our `grpc-timeout`: gRPC servers say `DEADLINE_EXCEEDED`, tonic servers
/// `CANCELLED` with "Timeout expired".
pub(crate) fn is_server_deadline(status: &tonic::Status) -> bool {
    match status.code() {
        tonic::Code::DeadlineExceeded => true,
        tonic::Code::Cancelled => status.message() == "Timeout expired",
        _ => false,
    }
}

/// The connector's diagnosis of a failed handshake, if that is what ended this call.
fn tls_failure(status: &tonic::Status) -> Option<&TlsFailure> {
    causes(status).find_map(|error| error.downcast_ref::<TlsFailure>())
}

/// The first line of a server message, without the `Error: ` prefix Node servers put there.
fn first_line(message: &str) -> &str {
    let line = message.lines().next().unwrap_or("").trim();
    line.strip_prefix("Error: ").unwrap_or(line)
}

/// Whether tonic made this status from a local transport error rather than a server reply.
fn is_local_transport_failure(status: &tonic::Status) -> bool {
    causes(status).any(|error| error.is::<tonic::transport::Error>())
}

fn causes(status: &tonic::Status) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    std::iter::successors(std::error::Error::source(status), |error| error.source())
}

/// Local transport failures carry the real cause at the end of the source chain ("tcp connect
/// error" → "Connection refused"); that one is the useful message. Also says whether an
/// established connection broke.
fn transport_cause(status: &tonic::Status) -> (String, bool) {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    let innermost = causes(status).last().map(ToString::to_string);
    let broke = causes(status).any(|error| {
        error.is::<h2::Error>()
            || error
                .downcast_ref::<hyper::Error>()
                .is_some_and(|e| e.is_closed() || e.is_canceled() || e.is_incomplete_message())
            || error.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    BrokenPipe | ConnectionReset | UnexpectedEof | ConnectionAborted
                )
            })
    });
    let cause = match innermost {
        Some(inner) if !inner.is_empty() => inner,
        _ => first_line(status.message()).to_owned(),
    };
    (cause, broke)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(rpc: &'static str, status: tonic::Status, secret: &str) -> Error {
        map(rpc, status, "127.0.0.1:1", secret).error
    }

    #[test]
    fn unauthenticated_drops_the_servers_details() {
        let status = tonic::Status::unauthenticated(r#"Invalid Wechaty TOKEN "insecure_s3cret""#);
        let error = mapped("Version", status, "insecure_s3cret");
        assert!(matches!(error, Error::Unauthenticated));
        assert!(!error.to_string().contains("s3cret"));
        assert!(!format!("{error:?}").contains("s3cret"));
        assert!(error.to_string().contains("WECHATY_PUPPET_SERVICE_TOKEN"));
    }

    #[test]
    fn other_details_are_cut_to_the_first_line_and_scrubbed() {
        let status = tonic::Status::unknown(
            "Error: no payload found for id tok123\n    at Object.<anonymous> (/srv/x.js:1:1)",
        );
        let error = mapped("ContactPayload", status, "tok123");
        assert!(
            matches!(
                &error,
                Error::Rpc {
                    rpc: "ContactPayload",
                    code: tonic::Code::Unknown,
                    message,
                } if message == "no payload found for id <token>"
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_second_event_stream_is_its_own_variant() {
        let status = || tonic::Status::already_exists("GrpcServerImpl.event() can not call twice.");
        assert!(matches!(
            mapped("Event", status(), "t"),
            Error::EventStreamTaken
        ));
        assert!(matches!(
            mapped("RoomCreate", status(), "t"),
            Error::AlreadyExists { .. }
        ));
    }
}
