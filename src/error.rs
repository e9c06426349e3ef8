//! The one error type of the crate.
//!
//! Every message says what went wrong and, where the user can fix it, which environment
//! variable or builder method to change. None of them ever contains the service token: the
//! official server quotes the token in the details of `UNAUTHENTICATED` replies and echoes it in
//! trailers, so those details are dropped and any other server text is scrubbed of it before it
//! reaches an [`Error`] (see `transport/status.rs`). Causes from this side of the connection
//! (I/O, TLS, HTTP, JSON) are kept as [`source`](std::error::Error::source)s.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::env::{
    ENV_AUTHORITY, ENV_ENDPOINT, ENV_NO_TLS, ENV_TLS_CA_CERT, ENV_TLS_SERVER_NAME, ENV_TOKEN,
};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What caused an error on this side of the connection (an I/O, TLS, HTTP or JSON error).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when talking to a puppet service.
///
/// The enum is `#[non_exhaustive]`: match the variants you handle and keep a `_` arm.
/// [`code`](Self::code) gives the gRPC status code when the service answered with one, and
/// [`is_retryable`](Self::is_retryable) whether the same call may succeed later.
///
/// ```
/// use wechaty_client::Error;
///
/// fn explain(error: &Error) -> &'static str {
///     match error {
///         Error::Unauthenticated => "fix the token",
///         Error::Transport { .. } => "is the service running?",
///         _ if error.is_retryable() => "try again later",
///         _ => "something else",
///     }
/// }
/// assert_eq!(explain(&Error::Unauthenticated), "fix the token");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or invalid. The message names the setting and how to fix it.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong, naming the environment variable or builder method.
        message: String,
        /// What failed underneath (reading a file, parsing a certificate), if anything.
        #[source]
        source: Option<Cause>,
    },

    /// The service rejected the token (gRPC code 16).
    #[error(
        "the puppet service rejected the token: check {ENV_TOKEN} (or the token given to \
         `WechatyBuilder::token`)"
    )]
    Unauthenticated,

    /// The service could not be reached, or the connection broke (gRPC code 14 or a failure of
    /// this side of the connection).
    #[error(
        "cannot reach the puppet service at {endpoint}: {message} (check {ENV_ENDPOINT} and \
         that the service is running)"
    )]
    Transport {
        /// The endpoint the client tried.
        endpoint: String,
        /// What failed, as reported by the transport.
        message: String,
        /// The transport's own error, when the failure was on this side.
        #[source]
        source: Option<Cause>,
    },

    /// The service's certificate is not signed by a CA this client trusts.
    #[error(
        "the TLS certificate of {endpoint} is not signed by a trusted CA: set {ENV_TLS_CA_CERT} \
         (or call `WechatyBuilder::tls_ca_cert`) to the CA of this service (without it, only the \
         public Wechaty root CA is trusted)"
    )]
    TlsUntrusted {
        /// The endpoint the client tried.
        endpoint: String,
    },

    /// The service's certificate is valid, but for another name.
    #[error("{}", name_mismatch(endpoint, expected, presented, *derived_from_token))]
    TlsNameMismatch {
        /// The endpoint the client tried.
        endpoint: String,
        /// The name this client expected.
        expected: String,
        /// The names the certificate carries (empty when the verifier did not say).
        presented: Vec<String>,
        /// Whether `expected` was derived from the token (its prefix before the last `_`)
        /// rather than set.
        derived_from_token: bool,
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
        "{endpoint} does not speak TLS: if the service runs without TLS, set {ENV_NO_TLS}=true \
         (or call `WechatyBuilder::no_tls(true)`)"
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
        /// The TLS library's error, when there is one.
        #[source]
        source: Option<Cause>,
    },

    /// Discovery says the token is not served by any puppet service right now.
    #[error(
        "the token is not in service according to {authority}: check {ENV_TOKEN}, or set \
         {ENV_ENDPOINT} to reach a service directly"
    )]
    TokenNotInService {
        /// The discovery authority asked.
        authority: String,
    },

    /// Discovery of the endpoint failed.
    #[error(
        "cannot discover the endpoint from {authority} after {attempts} attempt(s): {message} \
         (set {ENV_ENDPOINT}=HOST:PORT to skip discovery, or {ENV_AUTHORITY} for another \
         directory)"
    )]
    Discovery {
        /// The discovery authority asked.
        authority: String,
        /// How many attempts were made.
        attempts: u32,
        /// What failed last.
        message: String,
        /// The last failure's own error, when there is one.
        #[source]
        source: Option<Cause>,
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
         allowed): stop the other bot, or the tool reading its events, first"
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
        /// The HTTP client's own error, when there is one.
        #[source]
        source: Option<Cause>,
    },

    /// A local file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        /// `"read"` or `"write"`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
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
        /// The decoder's own error, when there is one.
        #[source]
        source: Option<Cause>,
    },

    /// The operation needs the Event stream, which is not open (call `start()` or `connect()`).
    #[error("the Event stream is not open: call `start()` (or `connect()`) first")]
    NotConnected,

    /// The bot was stopped with `stop()`; create a new one to reconnect.
    #[error("this bot was stopped: build a new `Wechaty` to connect again")]
    Stopped,

    /// The connection closed for good because of `cause` (the reconnect policy gave up):
    /// build a new `Wechaty` to try again.
    #[error("the connection to the puppet service closed for good ({cause}): build a new `Wechaty` to connect again")]
    Closed {
        /// Why it closed.
        #[source]
        cause: Arc<Error>,
    },

    /// Too many sends are already waiting for the send limiter (see `SendLimits`).
    #[error(
        "{waiting} sends are already waiting for the send limiter: send less at once, or raise \
         `SendLimits::max_waiting` (`WechatyBuilder::send_limits`)"
    )]
    SendQueueFull {
        /// How many were waiting.
        waiting: usize,
    },

    /// NATS (the relay's JetStream, or a worker's) could not be reached or refused a request.
    #[error(
        "NATS at {url}: {what} failed: check the NATS URL (`--nats`, `RelayOptions::new`) and \
         that the server runs with JetStream (`nats-server -js`)"
    )]
    Nats {
        /// The server's URL, without credentials.
        url: String,
        /// What was being done.
        what: String,
        /// The NATS client's error.
        #[source]
        source: Option<Cause>,
    },

    /// Waiting for something took too long: an event, or the next piece of a file transfer.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the client waited.
        timeout: Duration,
    },
}

fn name_mismatch(endpoint: &str, expected: &str, presented: &[String], derived: bool) -> String {
    let presented_name = presented
        .first()
        .map_or("<the name on the certificate>", String::as_str);
    if derived {
        format!(
            "the TLS certificate of {endpoint} is for {presented:?}, not {expected:?}, the name \
             this client derived from the token (its prefix before the last `_`): check \
             {ENV_TOKEN}; if the token is right, set {ENV_TLS_SERVER_NAME}={presented_name} (or \
             call `WechatyBuilder::tls_server_name`)"
        )
    } else {
        format!(
            "the TLS certificate of {endpoint} is for {presented:?}, not {expected:?} as set in \
             {ENV_TLS_SERVER_NAME} (or with `WechatyBuilder::tls_server_name`): set it to \
             {presented_name}, the name the service presents"
        )
    }
}

impl Error {
    /// A configuration error without an underlying cause.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
            source: None,
        }
    }

    /// A configuration error caused by `source`.
    pub(crate) fn config_caused(message: impl Into<String>, source: impl Into<Cause>) -> Self {
        Self::Config {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// Data from the service that cannot be used.
    pub(crate) fn invalid_data(what: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidData {
            what,
            message: message.into(),
            source: None,
        }
    }

    /// Data from the service that a decoder rejected.
    pub(crate) fn invalid_data_caused(what: &'static str, source: impl Into<Cause>) -> Self {
        let source = source.into();
        Self::InvalidData {
            what,
            message: source.to_string(),
            source: Some(source),
        }
    }

    /// A local file that could not be read or written.
    pub(crate) fn file(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::File {
            action,
            path: path.into(),
            source,
        }
    }

    /// The gRPC status code of the service's answer, when this error is one: the code itself
    /// for the variants that map a status ([`Rpc`](Self::Rpc), [`NotFound`](Self::NotFound),
    /// [`Unauthenticated`](Self::Unauthenticated), …), `Unavailable` for a transport failure,
    /// `DeadlineExceeded` for a call past its deadline; `None` for errors of this client's own
    /// (settings, files, TLS, discovery, data).
    ///
    /// ```
    /// use wechaty_client::{Code, Error};
    /// assert_eq!(Error::Unauthenticated.code(), Some(Code::Unauthenticated));
    /// assert_eq!(Error::Stopped.code(), None);
    /// ```
    pub fn code(&self) -> Option<tonic::Code> {
        use tonic::Code;
        Some(match self {
            Self::Unauthenticated => Code::Unauthenticated,
            Self::Transport { .. } => Code::Unavailable,
            Self::DeadlineExceeded { .. } => Code::DeadlineExceeded,
            Self::NotFound { .. } => Code::NotFound,
            Self::EventStreamTaken | Self::AlreadyExists { .. } => Code::AlreadyExists,
            Self::Unimplemented { .. } => Code::Unimplemented,
            Self::Rpc { code, .. } => *code,
            _ => return None,
        })
    }

    /// Whether trying the same thing again later may succeed: the service could not be reached
    /// or did not answer in time, it said it is temporarily unavailable or overloaded, the
    /// discovery directory failed, or an awaited event did not come. Settings, tokens,
    /// certificates and unknown ids do not get better by retrying.
    ///
    /// Sends (`say`, `add`, …) are not idempotent: a send that timed out may have reached the
    /// service, so retrying it may deliver twice.
    ///
    /// ```
    /// use wechaty_client::Error;
    /// assert!(!Error::Unauthenticated.is_retryable());
    /// assert!(Error::EventStreamTaken.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        use tonic::Code;
        match self {
            Self::Transport { .. }
            | Self::DeadlineExceeded { .. }
            | Self::Discovery { .. }
            | Self::Timeout { .. }
            // NATS comes back; its client reconnects.
            | Self::Nats { .. }
            // Room in the queue comes as sends go out.
            | Self::SendQueueFull { .. }
            // Free again once the other client lets go of the stream.
            | Self::EventStreamTaken => true,
            Self::Rpc { code, .. } => matches!(
                code,
                Code::Unavailable | Code::ResourceExhausted | Code::Aborted
            ),
            // A network failure; an answer such as 404 has no source and stays as it is.
            Self::FetchFile { source, .. } => source.is_some(),
            _ => false,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_retries() {
        let rpc = |code| Error::Rpc {
            rpc: "RoomPayload",
            code,
            message: String::new(),
        };
        assert_eq!(rpc(tonic::Code::Unknown).code(), Some(tonic::Code::Unknown));
        assert!(rpc(tonic::Code::Unavailable).is_retryable());
        assert!(!rpc(tonic::Code::Unknown).is_retryable());
        let transport = Error::Transport {
            endpoint: "h:1".into(),
            message: "refused".into(),
            source: None,
        };
        assert!(transport.is_retryable());
        assert_eq!(transport.code(), Some(tonic::Code::Unavailable));
        assert!(!Error::config("x").is_retryable());
    }

    #[test]
    fn causes_are_kept() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let error = Error::file("read", "/tmp/x", io);
        assert_eq!(error.to_string(), "cannot read /tmp/x: gone");
        let cause = error.source().unwrap();
        assert!(cause.downcast_ref::<std::io::Error>().is_some());
        let closed = Error::Closed {
            cause: Arc::new(Error::Unauthenticated),
        };
        assert!(closed.source().unwrap().to_string().contains(ENV_TOKEN));
    }

    #[test]
    fn a_name_derived_from_the_token_says_so() {
        let mismatch = |derived| Error::TlsNameMismatch {
            endpoint: "h:1".into(),
            expected: "wrong".into(),
            presented: vec!["insecure".into()],
            derived_from_token: derived,
        };
        let derived = mismatch(true).to_string();
        assert!(derived.contains("derived from the token"), "{derived}");
        assert!(
            derived.contains(&format!("{ENV_TLS_SERVER_NAME}=insecure")),
            "{derived}"
        );
        let given = mismatch(false).to_string();
        assert!(!given.contains("derived"), "{given}");
        assert!(given.contains(ENV_TLS_SERVER_NAME), "{given}");
        for text in [derived, given] {
            assert!(
                !text.contains("--"),
                "a CLI flag in a library message: {text}"
            );
        }
    }
}
