//! The one error type of the crate.
//!
//! Every message says what went wrong and, where the user can fix it, which setting to change.
//! None of them ever contains the service token: the official server quotes the token in the
//! details of `UNAUTHENTICATED` replies and echoes it in trailers, so those details are dropped and
//! any other server text is scrubbed of it before it reaches an [`Error`].

use std::time::Duration;

use crate::tls::TlsFailure;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to a puppet service.
///
/// The enum is `#[non_exhaustive]`: match the variants you handle and keep a `_` arm.
///
/// ```
/// use wechaty_client::Error;
///
/// fn explain(error: &Error) -> &'static str {
///     match error {
///         Error::Unauthenticated => "fix the token",
///         Error::Transport { .. } => "is the service running?",
///         _ => "something else",
///     }
/// }
/// assert_eq!(explain(&Error::Unauthenticated), "fix the token");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or invalid. The message names the setting and how to fix it.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// The service rejected the token (gRPC code 16).
    #[error(
        "the puppet service rejected the token: check WECHATY_PUPPET_SERVICE_TOKEN \
         (or the token given to the builder / --token)"
    )]
    Unauthenticated,

    /// The service could not be reached, or the connection broke (gRPC code 14 or a local
    /// transport failure).
    #[error(
        "cannot reach the puppet service at {endpoint}: {message} \
         (check WECHATY_PUPPET_SERVICE_ENDPOINT and that the service is running)"
    )]
    Transport {
        /// The endpoint the client tried.
        endpoint: String,
        /// What failed, as reported by the transport.
        message: String,
    },

    /// The service's certificate is not signed by a CA this client trusts.
    #[error(
        "the TLS certificate of {endpoint} is not signed by a trusted CA: set \
         WECHATY_PUPPET_SERVICE_TLS_CA_CERT (or --tls-ca-cert) to the CA of this service \
         (without it, only the public Wechaty root CA is trusted)"
    )]
    TlsUntrusted {
        /// The endpoint the client tried.
        endpoint: String,
    },

    /// The service's certificate is valid, but for another name.
    #[error(
        "the TLS certificate of {endpoint} is for {presented:?}, not {expected:?}: set \
         WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME (or --tls-server-name) to the name the service \
         presents (the default is the token's prefix before its last `_`)"
    )]
    TlsNameMismatch {
        /// The endpoint the client tried.
        endpoint: String,
        /// The name this client expected.
        expected: String,
        /// The names the certificate carries (empty when the verifier did not say).
        presented: Vec<String>,
    },

    /// The service's certificate has expired.
    #[error(
        "the TLS certificate of {endpoint} expired on {not_after}: the service must renew it \
         (check this machine's clock too)"
    )]
    TlsExpired {
        /// The endpoint the client tried.
        endpoint: String,
        /// When it expired.
        not_after: String,
    },

    /// The service's certificate is not valid yet.
    #[error(
        "the TLS certificate of {endpoint} is valid only from {not_before}: check this \
         machine's clock"
    )]
    TlsNotYetValid {
        /// The endpoint the client tried.
        endpoint: String,
        /// When it becomes valid.
        not_before: String,
    },

    /// The service does not speak TLS.
    #[error(
        "{endpoint} does not speak TLS: if the service runs without TLS, set \
         WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true (or --no-tls)"
    )]
    NotTls {
        /// The endpoint the client tried.
        endpoint: String,
    },

    /// The TLS handshake failed for another reason.
    #[error("TLS with {endpoint} failed: {message}")]
    Tls {
        /// The endpoint the client tried.
        endpoint: String,
        /// What failed.
        message: String,
    },

    /// Discovery says the token is not served by any puppet service right now.
    #[error(
        "the token is not in service according to {authority}: check \
         WECHATY_PUPPET_SERVICE_TOKEN, or set WECHATY_PUPPET_SERVICE_ENDPOINT to reach a service \
         directly"
    )]
    TokenNotInService {
        /// The discovery authority asked.
        authority: String,
    },

    /// Discovery of the endpoint failed.
    #[error(
        "cannot discover the endpoint from {authority} after {attempts} attempt(s): {message} \
         (set WECHATY_PUPPET_SERVICE_ENDPOINT=HOST:PORT to skip discovery, or \
         WECHATY_PUPPET_SERVICE_AUTHORITY for another directory)"
    )]
    Discovery {
        /// The discovery authority asked.
        authority: String,
        /// How many attempts were made.
        attempts: u32,
        /// What failed last.
        message: String,
    },

    /// A call took longer than its deadline.
    #[error(
        "{rpc} did not answer within {timeout:?} (raise the call timeout with \
         `WechatyBuilder::call_timeout` if the service is just slow)"
    )]
    DeadlineExceeded {
        /// The RPC that timed out.
        rpc: &'static str,
        /// The deadline that passed.
        timeout: Duration,
    },

    /// The service does not know the requested object (gRPC code 5).
    #[error("{rpc}: not found: {message}")]
    NotFound {
        /// The RPC that failed.
        rpc: &'static str,
        /// The server's explanation (first line).
        message: String,
    },

    /// Another client already holds the service's Event stream (gRPC code 6). A puppet service
    /// allows one Event stream at a time.
    #[error(
        "another client already holds the Event stream of this puppet service (only one is \
         allowed): stop the other bot or CLI `events`/`ding` first"
    )]
    EventStreamTaken,

    /// The object exists already (gRPC code 6 on a call other than `Event`).
    #[error("{rpc}: already exists: {message}")]
    AlreadyExists {
        /// The RPC that failed.
        rpc: &'static str,
        /// The server's explanation (first line).
        message: String,
    },

    /// The service does not implement this RPC (gRPC code 12).
    #[error("{rpc} is not implemented by this puppet service")]
    Unimplemented {
        /// The RPC the service does not offer.
        rpc: &'static str,
    },

    /// Any other failure reported by the service.
    #[error("{rpc} failed ({code:?}): {message}")]
    Rpc {
        /// The RPC that failed.
        rpc: &'static str,
        /// The gRPC status code.
        code: tonic::Code,
        /// The server's explanation, cut to its first line.
        message: String,
    },

    /// A file's bytes could not be fetched from its URL.
    #[error("cannot fetch the file {name}: {message}")]
    FetchFile {
        /// The file name.
        name: String,
        /// What failed.
        message: String,
    },

    /// A scenario's expectations were not met (see `testing::ScenarioRun`).
    #[error("the scenario failed: {}", .0.join("; "))]
    ScenarioFailed(Vec<String>),

    /// An argument cannot work; the message says why.
    #[error("{0}")]
    InvalidArgument(String),

    /// The service sent data this client cannot use (malformed JSON, a missing id, ...).
    #[error("the puppet service sent an invalid {what}: {message}")]
    InvalidData {
        /// What was being decoded.
        what: &'static str,
        /// Why it was rejected.
        message: String,
    },

    /// The operation needs the Event stream, which is not open (call `start()` or `connect()`).
    #[error("the Event stream is not open: call `start()` (or `connect()`) first")]
    NotConnected,

    /// The bot was stopped with `stop()`; create a new one to reconnect.
    #[error("this bot was stopped: build a new `Wechaty` to connect again")]
    Stopped,

    /// Waiting for something on the Event stream took too long.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the client waited.
        timeout: Duration,
    },
}

impl Error {
    /// Turns a gRPC status into an [`Error`]: keeps the first line of the server's details, drops
    /// them entirely for code 16 (the official server quotes the token there) and scrubs `secret`
    /// from whatever remains.
    pub(crate) fn from_status(
        rpc: &'static str,
        status: &tonic::Status,
        endpoint: &str,
        secret: &str,
        plaintext: bool,
    ) -> Self {
        use tonic::Code;
        let message = || scrub(first_line(status.message()), secret);
        // A failure of our side of the connection, whatever code tonic gave it.
        if status.code() == Code::Unavailable || is_local_transport_failure(status) {
            if let Some(failure) = tls_failure(status) {
                return Error::from_tls(failure.clone(), endpoint);
            }
            let (cause, broke) = transport_cause(status);
            let mut message = scrub(&cause, secret);
            if plaintext && broke {
                message.push_str(
                    " (the connection broke right away: if the service uses TLS, do not set \
                     WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT or --no-tls)",
                );
            }
            return Error::Transport {
                endpoint: endpoint.to_owned(),
                message,
            };
        }
        match status.code() {
            Code::Unauthenticated => Error::Unauthenticated,
            Code::NotFound => Error::NotFound {
                rpc,
                message: message(),
            },
            Code::AlreadyExists if rpc == "Event" => Error::EventStreamTaken,
            Code::AlreadyExists => Error::AlreadyExists {
                rpc,
                message: message(),
            },
            Code::Unimplemented => Error::Unimplemented { rpc },
            code => Error::Rpc {
                rpc,
                code,
                message: message(),
            },
        }
    }
}

impl Error {
    pub(crate) fn from_tls(failure: TlsFailure, endpoint: &str) -> Self {
        let endpoint = endpoint.to_owned();
        match failure {
            TlsFailure::Untrusted => Error::TlsUntrusted { endpoint },
            TlsFailure::NameMismatch {
                expected,
                presented,
            } => Error::TlsNameMismatch {
                endpoint,
                expected,
                presented,
            },
            TlsFailure::Expired { not_after } => Error::TlsExpired {
                endpoint,
                not_after,
            },
            TlsFailure::NotYetValid { not_before } => Error::TlsNotYetValid {
                endpoint,
                not_before,
            },
            TlsFailure::NotTls => Error::NotTls { endpoint },
            TlsFailure::Other(message) => Error::Tls { endpoint, message },
        }
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

/// Replaces every occurrence of the secret; a defence in depth for servers that quote the token
/// where we do not expect it.
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        text.to_owned()
    } else {
        text.replace(secret, "<token>")
    }
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
/// established connection broke (as when a TLS server hears plaintext).
fn transport_cause(status: &tonic::Status) -> (String, bool) {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    let innermost = causes(status).last().map(ToString::to_string);
    // Cut off or answered with nonsense after connecting, e.g. a TLS server hearing plaintext:
    // its alert reads as a bad HTTP/2 frame, or it just hangs up.
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

    #[test]
    fn unauthenticated_drops_the_servers_details() {
        let status = tonic::Status::unauthenticated(r#"Invalid Wechaty TOKEN "insecure_s3cret""#);
        let error = Error::from_status("Version", &status, "127.0.0.1:1", "insecure_s3cret", false);
        assert_eq!(error, Error::Unauthenticated);
        assert!(!error.to_string().contains("s3cret"));
        assert!(error.to_string().contains("WECHATY_PUPPET_SERVICE_TOKEN"));
    }

    #[test]
    fn other_details_are_cut_to_the_first_line_and_scrubbed() {
        let status = tonic::Status::unknown(
            "Error: no payload found for id tok123\n    at Object.<anonymous> (/srv/x.js:1:1)",
        );
        let error = Error::from_status("ContactPayload", &status, "h:1", "tok123", false);
        assert_eq!(
            error,
            Error::Rpc {
                rpc: "ContactPayload",
                code: tonic::Code::Unknown,
                message: "no payload found for id <token>".into(),
            }
        );
    }

    #[test]
    fn a_second_event_stream_is_its_own_variant() {
        let status = tonic::Status::already_exists("GrpcServerImpl.event() can not call twice.");
        assert_eq!(
            Error::from_status("Event", &status, "h:1", "t", false),
            Error::EventStreamTaken
        );
        assert!(matches!(
            Error::from_status("RoomCreate", &status, "h:1", "t", false),
            Error::AlreadyExists { .. }
        ));
    }
}
