//! The mock puppet service: a real `wechaty.Puppet` gRPC server on loopback TCP, with a world
//! of contacts, rooms and messages that tests seed and inspect through a Rust API.
//!
//! It behaves like the official TypeScript server where a client can tell: the token check and
//! its `UNAUTHENTICATED` details, one Event stream at a time (`ALREADY_EXISTS`), the replay of
//! heartbeat → login → ready on connect (and of the pending `scan` until the login: a bot
//! can log in by QR code, see [`MockWorld::require_scan`]), `Ding` answered by a `dong` event, events fired while
//! no stream is open being dropped, errors as `UNKNOWN` with `Error: …` details, and the
//! standard health service without a token check. RPCs it does not model answer
//! `UNIMPLEMENTED`.
//!
//! ```
//! use wechaty_client::mock::{MockContact, MockPuppetService};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> wechaty_client::Result<()> {
//! let server = MockPuppetService::builder().serve().await?;
//! server.world().add_contact(MockContact::new("ann", "Ann"));
//! let bot = server.bot_builder().build().await?;
//! assert!(bot.version().await?.starts_with("wechaty-client-mock"));
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The world state ([`MockWorld`]) lives apart from the gRPC glue (`service.rs`), so later
//! features add state and RPCs without touching the transport.

mod auth;
mod faults;
mod friendships;
mod health;
mod hub;
mod login;
mod messages;
mod scenario;
mod service;
mod status;
mod tags;
mod tls;
mod wire;
mod world;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;

use crate::config::WechatyBuilder;
use crate::config::DEFAULT_MAX_MESSAGE_SIZE;
use crate::error::{Error, Result};
use crate::generated::health::health_server::HealthServer;
use crate::generated::wechaty::puppet_server::PuppetServer;

pub use faults::Faults;
pub use scenario::{
    AcceptedFriendshipExpectation, ContactSpec, Expectation, FriendRequestStep, FromStep,
    InviteStep, JoinStep, LeaveStep, LocationStep, LoginStep, RoomSpec, SaidExpectation, SayStep,
    ScanStep, Scenario, SetAliasExpectation, Step, TopicStep, WorldSpec,
};
pub use tls::MockTls;
pub use world::{
    MockAttachment, MockContact, MockFriendship, MockInvitation, MockMessage, MockRoom, MockScan,
    MockWorld,
};

/// The token the mock accepts when none is configured. Its `insecure` prefix is the server name
/// of the official default certificate.
pub const DEFAULT_TOKEN: &str = "insecure_mock";

/// How often the mock's puppet sends a `heartbeat` by default.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(20);

/// Entry point: `MockPuppetService::builder()…serve().await`.
#[derive(Debug)]
pub struct MockPuppetService;

impl MockPuppetService {
    /// A builder for a mock on `127.0.0.1`, any free port, token [`DEFAULT_TOKEN`], empty world.
    pub fn builder() -> MockBuilder {
        MockBuilder {
            token: DEFAULT_TOKEN.to_owned(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            world: MockWorld::new(),
            heartbeat_interval: Some(DEFAULT_HEARTBEAT_INTERVAL),
            tls: None,
        }
    }
}

/// Settings of a mock service before it serves. `Debug` never shows the token.
pub struct MockBuilder {
    token: String,
    host: IpAddr,
    port: u16,
    world: MockWorld,
    heartbeat_interval: Option<Duration>,
    tls: Option<MockTls>,
}

impl std::fmt::Debug for MockBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBuilder")
            .field("token", &"<redacted>")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("world", &self.world)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .field("token", &"<redacted>")
            .field("tls", &self.tls)
            .field("world", &self.world)
            .finish_non_exhaustive()
    }
}

impl MockBuilder {
    /// Serve TLS with this certificate (default: plaintext).
    pub fn tls(mut self, tls: MockTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The token clients must present.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The address to listen on (default `127.0.0.1`; `0.0.0.0` in a container, so that other
    /// containers reach it).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// The port on `127.0.0.1` (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serve this world (for example a [`MockWorld::demo`], or the world of a server that is
    /// being restarted on the same port).
    pub fn world(mut self, world: MockWorld) -> Self {
        self.world = world;
        self
    }

    /// How often the puppet sends a `heartbeat` event (`None`: never, as a silent service).
    pub fn heartbeat_interval(mut self, interval: Option<Duration>) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Binds the port and serves in a background task until [`MockServer::shutdown`] or drop.
    pub async fn serve(self) -> Result<MockServer> {
        let listener = TcpListener::bind((self.host, self.port))
            .await
            .map_err(|error| {
                Error::config_caused(
                    format!("the mock cannot listen on port {}: {error}", self.port),
                    error,
                )
            })?;
        let addr = listener.local_addr().map_err(|error| {
            Error::config_caused(
                format!("the mock's listener has no address: {error}"),
                error,
            )
        })?;
        let world = self.world;
        let puppet = PuppetServer::new(service::MockService::new(world.clone()))
            .max_decoding_message_size(DEFAULT_MAX_MESSAGE_SIZE)
            .max_encoding_message_size(DEFAULT_MAX_MESSAGE_SIZE);
        let health = HealthServer::new(health::MockHealth::new(world.clone()));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let router = tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .layer(auth::TokenCheckLayer::new(&self.token))
            .add_service(puppet)
            .add_service(health);
        let shutdown = async {
            let _ = stop_rx.await;
        };
        let mut background = Vec::new();
        let served = match &self.tls {
            None => {
                // `Server::tcp_nodelay` only reaches the listener tonic binds itself; without
                // it, small answers wait out Nagle and the client's delayed ACK (40 ms).
                let incoming = TcpListenerStream::new(listener).map(|accepted| {
                    if let Ok(tcp) = &accepted {
                        let _ = tcp.set_nodelay(true);
                    }
                    accepted
                });
                spawn_serve(router, incoming, shutdown)
            }
            Some(tls) => {
                let (ready, accepting) = tls::accept(listener, tls)?;
                background.push(accepting);
                let incoming = tokio_stream::wrappers::ReceiverStream::new(ready);
                spawn_serve(router, incoming, shutdown)
            }
        };
        if let Some(interval) = self.heartbeat_interval {
            background.push(tokio::spawn(world.clone().heartbeat_every(interval)));
        }
        tracing::debug!(%addr, tls = self.tls.is_some(), "mock puppet service listening");
        Ok(MockServer {
            addr,
            token: self.token,
            tls: self.tls.is_some(),
            world,
            stop: Some(stop_tx),
            served: Some(served),
            background,
        })
    }
}

/// Serves `router` over `incoming` connections (plain TCP or TLS) until `shutdown`.
fn spawn_serve<I, IO, E>(
    router: tonic::transport::server::Router<
        tower::layer::util::Stack<auth::TokenCheckLayer, tower::layer::util::Identity>,
    >,
    incoming: I,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> JoinHandle<()>
where
    I: tokio_stream::Stream<Item = Result<IO, E>> + Send + 'static,
    IO: tokio::io::AsyncRead
        + tokio::io::AsyncWrite
        + tonic::transport::server::Connected
        + Unpin
        + Send
        + 'static,
    IO::ConnectInfo: Clone + Send + Sync + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::spawn(async move {
        if let Err(error) = router
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
        {
            tracing::warn!(%error, "the mock puppet service stopped with an error");
        }
    })
}

/// A running mock service. Dropping it stops the server. `Debug` never shows the token.
pub struct MockServer {
    addr: SocketAddr,
    token: String,
    tls: bool,
    world: MockWorld,
    stop: Option<oneshot::Sender<()>>,
    served: Option<JoinHandle<()>>,
    /// The heartbeat and, with TLS, the accept loop (which owns the listener).
    background: Vec<JoinHandle<()>>,
}

impl MockServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `HOST:PORT` to connect to, ready for [`WechatyBuilder::endpoint`] (`127.0.0.1` when
    /// listening on all addresses).
    pub fn endpoint(&self) -> String {
        if self.addr.ip().is_unspecified() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.addr.port()).to_string()
        } else {
            self.addr.to_string()
        }
    }

    /// The token it accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The world it serves: seed it, inject events, inspect what clients did.
    pub fn world(&self) -> &MockWorld {
        &self.world
    }

    /// Fault injection: delays and failures of chosen RPCs.
    pub fn faults(&self) -> &Faults {
        self.world.faults()
    }

    /// A builder already pointed at this mock: endpoint, token, and plaintext unless the mock
    /// serves TLS (then the client's TLS defaults apply: with [`MockTls::stock`] and a token
    /// starting `insecure_`, they just work). URL files from the mock may be on loopback
    /// (`allow_private_file_urls(true)`), and sends are not limited (`send_limits(None)`): a
    /// test should not wait a second between two messages.
    pub fn bot_builder(&self) -> WechatyBuilder {
        WechatyBuilder::new()
            .endpoint(self.endpoint())
            .token(self.token.clone())
            .no_tls(!self.tls)
            .allow_private_file_urls(true)
            .send_limits(None)
    }

    /// Stops serving: open streams end, the port is released. The world stays usable, so a
    /// test can serve it again on the same port.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some(served) = self.served.take() {
            let _ = served.await;
        }
    }

    fn stop_now(&mut self) {
        self.world.end_event_stream();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in self.background.drain(..) {
            task.abort();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::health::health_check_response::ServingStatus;
    use crate::generated::health::health_client::HealthClient;
    use crate::generated::health::HealthCheckRequest;

    async fn health_status(server: &MockServer) -> i32 {
        let channel =
            tonic::transport::Endpoint::from_shared(format!("http://{}", server.endpoint()))
                .unwrap()
                .connect()
                .await
                .unwrap();
        // No token: the health service is open, as upstream.
        HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
            .unwrap()
            .into_inner()
            .status
    }

    #[tokio::test]
    async fn debug_never_shows_the_token() {
        let builder = MockPuppetService::builder().token("insecure_mock-s3cret");
        assert!(!format!("{builder:?}").contains("s3cret"));
        let server = builder.serve().await.unwrap();
        assert!(!format!("{server:?}").contains("s3cret"));
    }

    #[tokio::test]
    async fn health_follows_the_puppets_heartbeat_without_a_token() {
        let silent = MockPuppetService::builder()
            .heartbeat_interval(None)
            .serve()
            .await
            .unwrap();
        assert_eq!(
            health_status(&silent).await,
            ServingStatus::ServiceUnknown as i32
        );
        let beating = MockPuppetService::builder().serve().await.unwrap();
        // The first heartbeat goes out as the server starts.
        tokio::time::timeout(Duration::from_secs(5), async {
            while health_status(&beating).await != ServingStatus::Serving as i32 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("SERVING after the first heartbeat");
    }
}
