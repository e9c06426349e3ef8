//! Connection settings: the [`WechatyBuilder`] and the environment variables it reads.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;

use crate::discovery::{discover, DiscoveryRetry, DEFAULT_AUTHORITY};
use crate::dispatch::StreamSettings;
use crate::env::{
    ENV_AUTHORITY, ENV_ENDPOINT, ENV_ENDPOINT_LEGACY, ENV_NO_TLS, ENV_TLS_CA_CERT,
    ENV_TLS_SERVER_NAME, ENV_TOKEN, ENV_TOKEN_FILE, ENV_TOKEN_LEGACY,
};
use crate::error::{Error, Result};
use crate::file_policy::{FilePolicy, FileTransfers};
use crate::payload_cache::CacheLimits;
use crate::reconnect::{ExponentialBackoff, ReconnectPolicy};
use crate::send_limiter::SendLimits;
use crate::tls::{self, TlsConnector};
use crate::token::Token;
use crate::transport::{ChannelSettings, Transport};
use crate::wechaty::{BotSettings, Wechaty};

/// Default deadline of a unary call.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time allowed to open the TCP connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on calls in flight over the one HTTP/2 connection.
pub const DEFAULT_MAX_CALLS_IN_FLIGHT: usize = 100;
/// Default largest gRPC message, both ways: the 4 MiB every official peer uses.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
/// Default size up to which files are sent inline (base64 in the message); bigger ones are
/// uploaded in chunks first. Well under the 4 MiB message limit, base64 growth included.
pub const DEFAULT_INLINE_FILE_LIMIT: usize = 256 * 1024;
/// Default number of payload lookups one list (members, rooms) runs at once.
pub const DEFAULT_MAX_CONCURRENT_LOOKUPS: usize = 32;
/// Default longest silence on the Event stream before it is reopened.
pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(60);
/// Default largest payload of one event: far above any real one (a `room-join` of 500
/// members is about 15 KiB), so only a broken or hostile service reaches it.
pub const DEFAULT_MAX_EVENT_PAYLOAD: usize = 256 * 1024;
/// Default time to wait for the answer to an HTTP/2 keepalive ping.
pub const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Builds a [`Wechaty`] bot handle: where the service is, the token, and how to talk to it.
///
/// Start from [`Wechaty::builder()`] (nothing set) or [`WechatyBuilder::from_env()`] (the
/// `WECHATY_PUPPET_SERVICE_*` variables), override what you need, then [`build`](Self::build).
///
/// ```no_run
/// # async fn demo() -> wechaty_client::Result<()> {
/// use std::time::Duration;
/// use wechaty_client::Wechaty;
///
/// let bot = Wechaty::builder()
///     .endpoint("127.0.0.1:8788")
///     .token("insecure_0123")
///     .no_tls(true)
///     .call_timeout(Duration::from_secs(10))
///     .build()
///     .await?;
/// println!("{}", bot.version().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WechatyBuilder {
    pub(crate) token: Option<String>,
    pub(crate) token_file: Option<PathBuf>,
    pub(crate) endpoint: Option<String>,
    pub(crate) authority: Option<String>,
    pub(crate) no_tls: bool,
    pub(crate) tls_ca_cert: Option<String>,
    pub(crate) tls_server_name: Option<String>,
    pub(crate) call_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_calls_in_flight: usize,
    pub(crate) max_message_size: usize,
    pub(crate) keepalive_interval: Option<Duration>,
    pub(crate) keepalive_timeout: Duration,
    pub(crate) discovery_retry: DiscoveryRetry,
    pub(crate) watchdog: Duration,
    pub(crate) reconnect: Arc<dyn ReconnectPolicy>,
    pub(crate) cache_limits: CacheLimits,
    pub(crate) max_concurrent_lookups: usize,
    pub(crate) inline_file_limit: usize,
    pub(crate) max_event_payload: usize,
    pub(crate) file_transfers: FileTransfers,
    pub(crate) allow_private_file_urls: bool,
    pub(crate) send_limits: Option<SendLimits>,
    /// Events from a relay's JetStream stream instead of the service's Event stream.
    #[cfg(feature = "nats")]
    pub(crate) worker: Option<crate::relay::worker::WorkerOptions>,
    /// A setting from the environment that could not be read; reported by `build()`.
    pub(crate) env_error: Option<String>,
}

impl Default for WechatyBuilder {
    fn default() -> Self {
        Self {
            token: None,
            token_file: None,
            endpoint: None,
            authority: None,
            no_tls: false,
            tls_ca_cert: None,
            tls_server_name: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_calls_in_flight: DEFAULT_MAX_CALLS_IN_FLIGHT,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            keepalive_interval: None,
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            discovery_retry: DiscoveryRetry::default(),
            watchdog: DEFAULT_WATCHDOG,
            reconnect: Arc::new(ExponentialBackoff::default()),
            cache_limits: CacheLimits::default(),
            max_concurrent_lookups: DEFAULT_MAX_CONCURRENT_LOOKUPS,
            inline_file_limit: DEFAULT_INLINE_FILE_LIMIT,
            max_event_payload: DEFAULT_MAX_EVENT_PAYLOAD,
            file_transfers: FileTransfers::default(),
            allow_private_file_urls: false,
            send_limits: Some(SendLimits::default()),
            #[cfg(feature = "nats")]
            worker: None,
            env_error: None,
        }
    }
}

impl fmt::Debug for WechatyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("WechatyBuilder");
        debug
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_file", &self.token_file)
            .field("endpoint", &self.endpoint)
            .field("authority", &self.authority)
            .field("no_tls", &self.no_tls)
            .field("tls_ca_cert", &self.tls_ca_cert.as_ref().map(|_| "<set>"))
            .field("tls_server_name", &self.tls_server_name)
            .field("call_timeout", &self.call_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_calls_in_flight", &self.max_calls_in_flight)
            .field("max_message_size", &self.max_message_size)
            .field("keepalive_interval", &self.keepalive_interval)
            .field("keepalive_timeout", &self.keepalive_timeout)
            .field("discovery_retry", &self.discovery_retry)
            .field("watchdog", &self.watchdog)
            .field("cache_limits", &self.cache_limits)
            .field("max_concurrent_lookups", &self.max_concurrent_lookups)
            .field("inline_file_limit", &self.inline_file_limit)
            .field("max_event_payload", &self.max_event_payload)
            .field("file_transfers", &self.file_transfers)
            .field("allow_private_file_urls", &self.allow_private_file_urls)
            .field("send_limits", &self.send_limits);
        #[cfg(feature = "nats")]
        debug.field("worker", &self.worker);
        debug.finish_non_exhaustive()
    }
}

impl Wechaty {
    /// A builder with nothing set (TLS on, default timeouts).
    pub fn builder() -> WechatyBuilder {
        WechatyBuilder::new()
    }
}

impl WechatyBuilder {
    /// A builder with nothing set: TLS on, default timeouts.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from the environment, as the official clients read it:
    /// `WECHATY_PUPPET_SERVICE_TOKEN`, `_ENDPOINT`, `_AUTHORITY`, `_NO_TLS_INSECURE_CLIENT`,
    /// `_TLS_CA_CERT`, `_TLS_SERVER_NAME` (and the legacy `WECHATY_PUPPET_HOSTIE_TOKEN` /
    /// `_ENDPOINT`), and `WECHATY_PUPPET_SERVICE_TOKEN_FILE`. Empty variables count as unset. Later builder calls override these.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables (tests, config files).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let token = get(ENV_TOKEN).or_else(|| {
            let legacy = get(ENV_TOKEN_LEGACY);
            if legacy.is_some() {
                tracing::warn!("{ENV_TOKEN_LEGACY} is deprecated: use {ENV_TOKEN}");
            }
            legacy
        });
        let mut builder = Self {
            token,
            token_file: get(ENV_TOKEN_FILE).map(PathBuf::from),
            endpoint: get(ENV_ENDPOINT).or_else(|| get(ENV_ENDPOINT_LEGACY)),
            authority: get(ENV_AUTHORITY),
            tls_ca_cert: get(ENV_TLS_CA_CERT),
            tls_server_name: get(ENV_TLS_SERVER_NAME),
            ..Self::default()
        };
        if let Some(value) = get(ENV_NO_TLS) {
            match parse_bool(&value) {
                Some(no_tls) => builder.no_tls = no_tls,
                None => {
                    builder.env_error = Some(format!(
                        "{ENV_NO_TLS} must be `true` or `false`, not {value:?}"
                    ))
                }
            }
        }
        builder
    }

    /// The service token. Required (or [`token_file`](Self::token_file)); never logged or
    /// shown in errors.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// A file holding the token (surrounding whitespace ignored), read by `build()` when no
    /// token is given: the token then sits neither in the environment nor in a process list.
    /// `WECHATY_PUPPET_SERVICE_TOKEN_FILE` sets it too.
    pub fn token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token_file = Some(path.into());
        self
    }

    /// `HOST:PORT` of the puppet service. Without it the endpoint is discovered from the token.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The discovery authority (default `api.chatie.io`).
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// `true` for plaintext HTTP/2 (the service must have TLS off too). TLS is on by default.
    pub fn no_tls(mut self, no_tls: bool) -> Self {
        self.no_tls = no_tls;
        self
    }

    /// The root CA to trust: PEM text or a path to a PEM file.
    pub fn tls_ca_cert(mut self, pem_or_path: impl Into<String>) -> Self {
        self.tls_ca_cert = Some(pem_or_path.into());
        self
    }

    /// The name the server certificate must carry (default: derived from the token).
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls_server_name = Some(name.into());
        self
    }

    /// Deadline of each unary call (default 30 s). Streams are not subject to it.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Time allowed to open the TCP connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Cap on calls in flight over the one HTTP/2 connection (default 100); further calls wait
    /// for a free slot. Thousands of concurrent calls can make a server end the connection.
    pub fn max_calls_in_flight(mut self, limit: usize) -> Self {
        self.max_calls_in_flight = limit;
        self
    }

    /// Largest gRPC message sent or accepted (default 4 MiB, as every official peer). Files go
    /// through the streaming `Upload`/`Download` RPCs in chunks below this size.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sends HTTP/2 keepalive pings this often while calls are open (default: off), and drops
    /// the connection when one is not answered within [`keepalive_timeout`](Self::keepalive_timeout).
    ///
    /// Off by default because gRPC servers answer pings more frequent than they allow (grpc-js
    /// and grpc-core: one per 5 minutes without data) with `GOAWAY too_many_pings`; the Event
    /// stream's heartbeat watchdog already notices a dead connection.
    pub fn keepalive_interval(mut self, interval: Option<Duration>) -> Self {
        self.keepalive_interval = interval;
        self
    }

    /// How long a keepalive ping may stay unanswered (default 20 s).
    pub fn keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.keepalive_timeout = timeout;
        self
    }

    /// Attempts and backoff of endpoint discovery (default: 3 attempts, 500 ms then 1 s apart).
    pub fn discovery_retry(mut self, retry: DiscoveryRetry) -> Self {
        self.discovery_retry = retry;
        self
    }

    /// Longest silence on the Event stream (not even a heartbeat) before the client reopens it
    /// (default 60 s, as the official client). Services send heartbeats well within that.
    pub fn watchdog(mut self, silence: Duration) -> Self {
        self.watchdog = silence;
        self
    }

    /// How to wait between attempts to reopen a broken Event stream (default:
    /// [`ExponentialBackoff::default`], which never gives up).
    pub fn reconnect_policy(mut self, policy: impl ReconnectPolicy) -> Self {
        self.reconnect = Arc::new(policy);
        self
    }

    /// How many room, contact and member-list entries the caches keep (default:
    /// [`CacheLimits::default`]); the least recently used go first.
    pub fn cache_limits(mut self, limits: CacheLimits) -> Self {
        self.cache_limits = limits;
        self
    }

    /// How many payload lookups one list (a member list, finding rooms) runs at once (default
    /// 32). They share the connection's cap on calls in flight.
    pub fn max_concurrent_lookups(mut self, limit: usize) -> Self {
        self.max_concurrent_lookups = limit;
        self
    }

    /// Files up to this many bytes are sent inline; bigger ones are streamed with `Upload` in
    /// chunks and sent by id (default 256 KiB). Keep it well under the message size limit:
    /// base64 adds a third.
    pub fn inline_file_limit(mut self, bytes: usize) -> Self {
        self.inline_file_limit = bytes;
        self
    }

    /// Largest payload of one event (default [`DEFAULT_MAX_EVENT_PAYLOAD`], 256 KiB). A bigger
    /// one is skipped like a malformed one: counted, logged, and seen by subscribers as
    /// [`Event::Malformed`](crate::Event::Malformed); the stream goes on.
    pub fn max_event_payload(mut self, bytes: usize) -> Self {
        self.max_event_payload = bytes;
        self
    }

    /// Deadlines and the size cap of file transfers (default: [`FileTransfers::default`]).
    pub fn file_transfers(mut self, transfers: FileTransfers) -> Self {
        self.file_transfers = transfers;
        self
    }

    /// Whether a URL file box from the service (a message's file, an avatar) may be fetched
    /// from a loopback, link-local or private address (default `false`: public addresses
    /// only, so a hostile service cannot make the bot read its own network). Turn it on when
    /// the service's file host is on your network; the mock's `MockServer::bot_builder` does,
    /// its files being on loopback. URLs the program makes itself are never restricted.
    pub fn allow_private_file_urls(mut self, allow: bool) -> Self {
        self.allow_private_file_urls = allow;
        self
    }

    /// How fast the bot may send (default: [`SendLimits::default`], on), so that the account
    /// is not restricted for sending too fast; `None` switches the limiter off. Every send —
    /// `say` of any kind, `say_with_mentions`, `forward` — waits for its turn, in the order
    /// they came; past [`SendLimits::max_waiting`] waiting, a send fails with
    /// [`Error::SendQueueFull`](crate::Error::SendQueueFull). The mock's
    /// `MockServer::bot_builder` switches it off: tests should not wait.
    pub fn send_limits(mut self, limits: Option<SendLimits>) -> Self {
        self.send_limits = limits;
        self
    }

    /// Validates the settings, discovers the endpoint from the token when none is given, and
    /// prepares the connection. The connection itself opens on the first call, and re-opens by
    /// itself if it breaks.
    pub async fn build(self) -> Result<Wechaty> {
        let (endpoint, token, tls) = self.resolve().await?;
        let transport = Transport::new(&endpoint, token, tls, &self.channel_settings())?;
        let settings = BotSettings {
            stream: StreamSettings {
                watchdog: self.watchdog,
                policy: Arc::clone(&self.reconnect),
                max_event_payload: self.max_event_payload,
            },
            cache_limits: self.cache_limits,
            lookup_limit: self.max_concurrent_lookups,
            inline_file_limit: self.inline_file_limit,
            files: FilePolicy {
                transfers: self.file_transfers,
                allow_private_urls: self.allow_private_file_urls,
            },
            send_limits: self.send_limits,
            #[cfg(feature = "nats")]
            worker: self.worker,
        };
        Ok(Wechaty::new(transport, settings))
    }

    /// The generated gRPC client (feature `proto`) on a connection of its own to the service
    /// these settings point at: the same endpoint (discovered when none is given), token and
    /// TLS, and the message size limit — but no cap on calls in flight, no deadlines, no
    /// caches and no error mapping. For RPCs the SDK does not wrap; see [`crate::proto`].
    #[cfg(feature = "proto")]
    #[cfg_attr(docsrs, doc(cfg(feature = "proto")))]
    pub async fn build_proto_client(&self) -> Result<crate::proto::PuppetClient> {
        let (endpoint, token, tls) = self.resolve().await?;
        crate::transport::bare_client(&endpoint, &token, tls.as_ref(), &self.channel_settings())
    }

    /// Checks every setting, then finds the endpoint: the service's address, the token, and
    /// the TLS connector unless TLS is off.
    async fn resolve(&self) -> Result<(String, Token, Option<TlsConnector>)> {
        if let Some(message) = &self.env_error {
            return Err(Error::config(message.clone()));
        }
        let token = self.parsed_token()?;
        if self.max_calls_in_flight == 0 {
            return Err(Error::config(
                "`WechatyBuilder::max_calls_in_flight` must be at least 1",
            ));
        }
        if self.max_message_size == 0 {
            return Err(Error::config(
                "`WechatyBuilder::max_message_size` must be at least 1 byte",
            ));
        }
        if self.watchdog.is_zero() {
            return Err(Error::config(
                "`WechatyBuilder::watchdog` must be above zero",
            ));
        }
        // TLS settings first: a bad CA or name should not cost a discovery round trip.
        let tls = if self.no_tls {
            None
        } else {
            Some(self.tls_connector(&token)?)
        };
        let endpoint = match self.endpoint.as_deref() {
            Some(endpoint) => parse_endpoint(endpoint)?,
            None => {
                let authority = self.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY);
                discover(
                    authority,
                    &token,
                    self.discovery_retry,
                    self.connect_timeout,
                )
                .await?
            }
        };
        Ok((endpoint, token, tls))
    }

    /// The token: as given, else read from the token file.
    pub(crate) fn parsed_token(&self) -> Result<Token> {
        if let Some(token) = &self.token {
            return Token::parse(token);
        }
        let Some(path) = &self.token_file else {
            return Err(Error::config(format!(
                "no token: set {ENV_TOKEN} or {ENV_TOKEN_FILE} (or call `WechatyBuilder::token` \
                 or `WechatyBuilder::token_file`)"
            )));
        };
        let text = std::fs::read_to_string(path).map_err(|error| {
            Error::config_caused(
                format!(
                    "cannot read the token file {} ({ENV_TOKEN_FILE}): {error}",
                    path.display()
                ),
                error,
            )
        })?;
        Token::parse(text.trim())
    }

    /// How the channel talks to the service.
    fn channel_settings(&self) -> ChannelSettings {
        ChannelSettings {
            call_timeout: self.call_timeout,
            connect_timeout: self.connect_timeout,
            max_calls_in_flight: self.max_calls_in_flight,
            max_message_size: self.max_message_size,
            keepalive: self
                .keepalive_interval
                .map(|interval| (interval, self.keepalive_timeout)),
        }
    }

    /// The TLS connector: trusted roots and the server name to expect.
    pub(crate) fn tls_connector(&self, token: &Token) -> Result<TlsConnector> {
        let (server_name, from_token) = match &self.tls_server_name {
            Some(name) => (name.trim().to_ascii_lowercase(), false),
            None => {
                let derived = token.server_name().ok_or_else(|| {
                    Error::config(format!(
                        "cannot derive the TLS server name from a token without `_`: set \
                         {ENV_TLS_SERVER_NAME} (or call `WechatyBuilder::tls_server_name`), or \
                         turn TLS off with {ENV_NO_TLS}=true if the service runs without it"
                    ))
                })?;
                (derived, true)
            }
        };
        let name = ServerName::try_from(server_name.clone()).map_err(|error| {
            Error::config_caused(
                format!(
                    "{server_name:?} is not a valid TLS server name: check \
                     {ENV_TLS_SERVER_NAME} (or `WechatyBuilder::tls_server_name`)"
                ),
                error,
            )
        })?;
        let roots = self.tls_ca_cert.as_deref().map(tls::load_ca).transpose()?;
        let config = tls::client_config(roots, &server_name)?;
        Ok(TlsConnector::new(config, name, from_token))
    }
}

/// `HOST:PORT`, with an optional `http://` or `grpc://` in front and `/` behind.
pub(crate) fn parse_endpoint(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let without_scheme = ["http://", "grpc://"]
        .iter()
        .find_map(|scheme| trimmed.strip_prefix(scheme))
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    let invalid = || {
        Error::config(format!(
            "endpoint {raw:?} is not HOST:PORT: check {ENV_ENDPOINT} (or \
             `WechatyBuilder::endpoint`)"
        ))
    };
    let (host, port) = without_scheme.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || host.contains('/') || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    Ok(without_scheme.to_owned())
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(feature = "nats")]
impl WechatyBuilder {
    /// Makes the bot a worker of `group`: its events come from the JetStream stream a
    /// `wechaty relay` (or [`Relay`](crate::relay::Relay)) publishes at `url`, shared with the other
    /// workers of the group — each event reaches one of them, a conversation's events one
    /// worker at a time, in order — while its calls still go to the service (the token is
    /// still needed). `events()`, `room.events()`, the handlers and [`Bot`](crate::Bot)s work
    /// as usual; [`start`](crate::Wechaty::start) does not start the puppet (the relay does).
    ///
    /// An event is acknowledged once the handlers it went to returned and every `events()`
    /// stream read past it: at least once, and a dead worker's events go to another. Call
    /// [`stopped`](crate::Wechaty::stopped) after `stop()` before exiting
    /// ([`run`](crate::Wechaty::run) does).
    ///
    /// ```no_run
    /// # struct RoomBot;
    /// # impl wechaty_client::Bot for RoomBot {}
    /// # async fn demo() -> wechaty_client::Result<()> {
    /// wechaty_client::WechatyBuilder::from_env()
    ///     .events_from_nats("nats://127.0.0.1:4222", "room-bots")
    ///     .run(RoomBot)
    ///     .await
    /// # }
    /// ```
    pub fn events_from_nats(self, url: impl Into<String>, group: impl Into<String>) -> Self {
        self.worker(crate::relay::WorkerOptions::new(url, group))
    }

    /// [`events_from_nats`](Self::events_from_nats) with every option.
    pub fn worker(mut self, options: crate::relay::WorkerOptions) -> Self {
        self.worker = Some(options);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> WechatyBuilder {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        WechatyBuilder::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn reads_the_official_variables() {
        let builder = from(&[
            (ENV_TOKEN, "insecure_abc"),
            (ENV_ENDPOINT, "127.0.0.1:8788"),
            (ENV_NO_TLS, "true"),
            (ENV_TLS_SERVER_NAME, "insecure"),
        ]);
        assert_eq!(builder.token.as_deref(), Some("insecure_abc"));
        assert_eq!(builder.endpoint.as_deref(), Some("127.0.0.1:8788"));
        assert!(builder.no_tls);
        assert_eq!(builder.tls_server_name.as_deref(), Some("insecure"));
    }

    #[test]
    fn legacy_names_and_empty_values() {
        let builder = from(&[(ENV_TOKEN, " "), (ENV_TOKEN_LEGACY, "old_token")]);
        assert_eq!(builder.token.as_deref(), Some("old_token"));
    }

    #[tokio::test]
    async fn the_token_can_come_from_a_file() {
        let path = std::env::temp_dir().join(format!("wechaty-token-{}", std::process::id()));
        std::fs::write(&path, "  insecure_from-file\n").unwrap();
        let builder = from(&[(ENV_TOKEN_FILE, path.to_str().unwrap())]);
        assert_eq!(
            builder.parsed_token().unwrap().expose(),
            "insecure_from-file"
        );
        // A token given outright wins.
        let given = builder.clone().token("insecure_given");
        assert_eq!(given.parsed_token().unwrap().expose(), "insecure_given");
        std::fs::remove_file(&path).unwrap();
        let error = builder.parsed_token().unwrap_err().to_string();
        assert!(error.contains(ENV_TOKEN_FILE), "{error}");
    }

    #[test]
    fn debug_redacts_the_token() {
        let shown = format!("{:?}", WechatyBuilder::new().token("insecure_s3cret"));
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[tokio::test]
    async fn missing_or_bad_settings_name_the_variable() {
        let error = |b: WechatyBuilder| async move { b.build().await.unwrap_err().to_string() };
        assert!(error(WechatyBuilder::new()).await.contains(ENV_TOKEN));
        assert!(error(from(&[(ENV_NO_TLS, "maybe")]))
            .await
            .contains(ENV_NO_TLS));
        let no_endpoint = WechatyBuilder::new().token("t_1").no_tls(true);
        assert!(error(no_endpoint).await.contains(ENV_ENDPOINT));
        let bad_endpoint = WechatyBuilder::new()
            .token("t_1")
            .no_tls(true)
            .endpoint("nonsense");
        assert!(error(bad_endpoint).await.contains(ENV_ENDPOINT));
        // TLS needs a server name: from the token's prefix, or given.
        let nameless = WechatyBuilder::new().token("no-underscore").endpoint("h:1");
        assert!(error(nameless).await.contains(ENV_TLS_SERVER_NAME));
        let missing_ca = WechatyBuilder::new()
            .token("t_1")
            .endpoint("h:1")
            .tls_ca_cert("/no/such/ca.pem");
        assert!(error(missing_ca).await.contains(ENV_TLS_CA_CERT));
        let not_pem = WechatyBuilder::new()
            .token("t_1")
            .endpoint("h:1")
            .tls_ca_cert("-----BEGIN CERTIFICATE-----\\nbm9wZQ==\\n-----END CERTIFICATE-----");
        assert!(error(not_pem).await.contains(ENV_TLS_CA_CERT));
    }

    #[test]
    fn endpoints() {
        assert_eq!(parse_endpoint("h:1").unwrap(), "h:1");
        assert_eq!(parse_endpoint("http://h:1/").unwrap(), "h:1");
        assert_eq!(parse_endpoint("[::1]:80").unwrap(), "[::1]:80");
        assert!(parse_endpoint("h").is_err());
        assert!(parse_endpoint(":1").is_err());
        assert!(parse_endpoint("h:port").is_err());
    }
}
