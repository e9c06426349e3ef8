//! The gRPC channel to the puppet service: one multiplexed HTTP/2 connection, the
//! `authorization` metadata on every call, a cap on calls in flight and a deadline on unary calls.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

mod status;

use crate::env::ENV_NO_TLS;
use crate::error::{Error, Result};
use crate::generated::health::health_client::HealthClient;
use crate::generated::wechaty::puppet_client::PuppetClient;
use crate::statistics::RpcLog;
use crate::tls::{speaks_tls, TlsConnector};
use crate::token::Token;

/// Adds `authorization: Wechaty <token>` to every call. The value is built once and marked
/// sensitive (HTTP/2 never indexes it); `Debug` never shows it.
#[derive(Clone)]
pub struct Authorization(MetadataValue<Ascii>);

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authorization(<redacted>)")
    }
}

impl tonic::service::Interceptor for Authorization {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// The generated client over our authenticated channel.
pub(crate) type Puppet = PuppetClient<InterceptedService<Channel, Authorization>>;

/// How the channel talks to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChannelSettings {
    /// Deadline of each unary call.
    pub(crate) call_timeout: Duration,
    /// Time allowed to open the TCP connection.
    pub(crate) connect_timeout: Duration,
    /// Cap on calls in flight over the connection.
    pub(crate) max_calls_in_flight: usize,
    /// Largest gRPC message, both ways.
    pub(crate) max_message_size: usize,
    /// HTTP/2 keepalive: ping interval and how long a ping may stay unanswered.
    pub(crate) keepalive: Option<(Duration, Duration)>,
}

/// Everything needed to make calls. Cloning it is one reference count (a tonic channel's own
/// clone allocates), and clones share the connection — also a renewed one.
#[derive(Clone)]
pub(crate) struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    /// The current connection; [`Transport::renew`] replaces it.
    connection: RwLock<Connection>,
    endpoint: String,
    token: Token,
    tls: Option<TlsConnector>,
    settings: ChannelSettings,
    /// Calls by method, for the statistics.
    rpcs: Arc<RpcLog>,
}

/// One HTTP/2 connection (made lazily) and the clients over it.
#[derive(Clone)]
struct Connection {
    puppet: Puppet,
    health: HealthClient<Channel>,
}

impl Connection {
    fn open(
        endpoint: &str,
        token: &Token,
        tls: Option<&TlsConnector>,
        settings: &ChannelSettings,
    ) -> Result<Self> {
        let channel = channel(endpoint, tls, |endpoint| {
            let endpoint = endpoint
                .connect_timeout(settings.connect_timeout)
                .concurrency_limit(settings.max_calls_in_flight);
            match settings.keepalive {
                Some((interval, timeout)) => endpoint
                    .http2_keep_alive_interval(interval)
                    .keep_alive_timeout(timeout)
                    .keep_alive_while_idle(false),
                None => endpoint,
            }
        })?;
        Ok(Self {
            puppet: puppet_client(channel.clone(), token, settings.max_message_size),
            health: HealthClient::new(channel),
        })
    }
}

/// A lazily connecting channel to `endpoint` (`HOST:PORT`, `https` with `tls`), with
/// `TCP_NODELAY` and whatever `configure` adds.
fn channel(
    endpoint: &str,
    tls: Option<&TlsConnector>,
    configure: impl FnOnce(Endpoint) -> Endpoint,
) -> Result<Channel> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let settings = Endpoint::from_shared(format!("{scheme}://{endpoint}"))
        .map_err(|error| {
            Error::config_caused(format!("endpoint {endpoint:?} is invalid: {error}"), error)
        })?
        .tcp_nodelay(true);
    let settings = configure(settings);
    Ok(match tls {
        Some(connector) => settings.connect_with_connector_lazy(connector.clone()),
        None => settings.connect_lazy(),
    })
}

/// The generated client over `channel`, sending the token and holding the message limits.
fn puppet_client(channel: Channel, token: &Token, max_message_size: usize) -> Puppet {
    PuppetClient::with_interceptor(channel, Authorization(token.authorization()))
        .max_decoding_message_size(max_message_size)
        .max_encoding_message_size(max_message_size)
}

/// The generated client alone on a connection of its own: no cap on calls in flight, no
/// deadline, no error mapping (the `proto` feature's escape hatch).
#[cfg_attr(not(feature = "proto"), allow(dead_code))]
pub(crate) fn bare_client(
    endpoint: &str,
    token: &Token,
    tls: Option<&TlsConnector>,
    settings: &ChannelSettings,
) -> Result<Puppet> {
    let channel = channel(endpoint, tls, |endpoint| {
        endpoint.connect_timeout(settings.connect_timeout)
    })?;
    Ok(puppet_client(channel, token, settings.max_message_size))
}

impl Transport {
    /// A lazily connecting channel to `endpoint` (`HOST:PORT`): plaintext HTTP/2 when `tls` is
    /// `None`, else TLS through our own connector.
    pub(crate) fn new(
        endpoint: &str,
        token: Token,
        tls: Option<TlsConnector>,
        settings: &ChannelSettings,
    ) -> Result<Self> {
        let connection = Connection::open(endpoint, &token, tls.as_ref(), settings)?;
        Ok(Self {
            inner: Arc::new(Inner {
                connection: RwLock::new(connection),
                endpoint: endpoint.to_owned(),
                token,
                tls,
                settings: *settings,
                rpcs: Arc::default(),
            }),
        })
    }

    /// The log of calls made through this transport.
    pub(crate) fn rpc_log(&self) -> Arc<RpcLog> {
        Arc::clone(&self.inner.rpcs)
    }

    /// Notes one call of `rpc` (streaming ones too) in the statistics.
    pub(crate) fn record(&self, rpc: &'static str, latency: Duration, error: Option<&Error>) {
        let code = error.map(|error| error.code().unwrap_or(tonic::Code::Unknown));
        self.inner.rpcs.record(rpc, latency, code);
    }

    /// Replaces the connection with a new one (opened on the next call). The old one may be
    /// half-open — a NAT that forgot it, a proxy that stopped forwarding — and HTTP/2 cannot
    /// tell: a call on it would wait forever. Calls already made on it keep it until they end.
    pub(crate) fn renew(&self) {
        let inner = &self.inner;
        match Connection::open(
            &inner.endpoint,
            &inner.token,
            inner.tls.as_ref(),
            &inner.settings,
        ) {
            Ok(fresh) => *write(&inner.connection) = fresh,
            // It opened before with the same settings; keep the old one if it cannot now.
            Err(error) => {
                tracing::warn!(%error, "cannot renew the connection to the puppet service")
            }
        }
    }

    /// A client for streaming calls, which carry no deadline.
    pub(crate) fn puppet(&self) -> Puppet {
        read(&self.inner.connection).puppet.clone()
    }

    /// The health client (`grpc.health.v1.Health`; the service does not check the token there).
    pub(crate) fn health(&self) -> HealthClient<Channel> {
        read(&self.inner.connection).health.clone()
    }

    /// The token, for the relay's account name (a hash of it).
    #[cfg(feature = "nats")]
    pub(crate) fn token(&self) -> &Token {
        &self.inner.token
    }

    /// `HOST:PORT` of the service.
    pub(crate) fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Runs one unary call with the deadline: sent to the server as `grpc-timeout` and enforced
    /// here too, so a server that ignores it cannot hang the caller.
    pub(crate) async fn unary<Req, Resp, Call, Fut>(
        &self,
        rpc: &'static str,
        message: Req,
        call: Call,
    ) -> Result<Resp>
    where
        Call: FnOnce(Puppet, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
    {
        let timeout = self.inner.settings.call_timeout;
        let mut request = tonic::Request::new(message);
        request.set_timeout(timeout);
        let deadline_exceeded = || Error::DeadlineExceeded { rpc, timeout };
        // Field names after OpenTelemetry's RPC conventions.
        let span = tracing::debug_span!(
            "rpc",
            rpc.system = "grpc",
            rpc.service = "wechaty.Puppet",
            rpc.method = rpc,
            rpc.grpc.status_code = tracing::field::Empty,
            rpc.client.duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = async {
            match tokio::time::timeout(timeout, call(self.puppet(), request)).await {
                Err(_elapsed) => {
                    // Not a word from the service: the connection may be half-open. Later
                    // calls go over a fresh one (a handshake more if it was only slow).
                    tracing::debug!("no answer in time; renewing the connection");
                    self.renew();
                    Err(deadline_exceeded())
                }
                Ok(Ok(response)) => Ok(response.into_inner()),
                Ok(Err(status)) if status::is_server_deadline(&status) => Err(deadline_exceeded()),
                Ok(Err(status)) => Err(self.error(rpc, status).await),
            }
        }
        .instrument(span.clone())
        .await;
        let latency = started.elapsed();
        let error = outcome.as_ref().err();
        let code = error.map_or(tonic::Code::Ok, |error| {
            error.code().unwrap_or(tonic::Code::Unknown)
        });
        span.record("rpc.grpc.status_code", code as i32);
        span.record("rpc.client.duration_ms", latency.as_secs_f64() * 1000.0);
        self.record(rpc, latency, error);
        outcome
    }

    /// Maps a status of `rpc` to an [`Error`], never leaking the token. When a plaintext
    /// connection broke, asks the endpoint whether it speaks TLS, so the error says to turn TLS
    /// on only when that is why (a service that went away breaks connections too).
    pub(crate) async fn error(&self, rpc: &'static str, status: tonic::Status) -> Error {
        let inner = &self.inner;
        let status::Mapped { mut error, broke } =
            status::map(rpc, status, &inner.endpoint, inner.token.expose());
        let plaintext = inner.tls.is_none();
        if broke && plaintext && speaks_tls(&inner.endpoint, inner.settings.connect_timeout).await {
            if let Error::Transport { message, .. } = &mut error {
                message.push_str(&format!(
                    " (the service uses TLS: do not set {ENV_NO_TLS}, nor call \
                     `WechatyBuilder::no_tls(true)`)"
                ));
            }
        }
        error
    }
}

// The lock is never held across an await; a panic elsewhere cannot poison it into uselessness.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
