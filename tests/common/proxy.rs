//! A TCP proxy between a client and a service that a test can turn against the client: it
//! black-holes the connections it carries — the client's side stays open and hears nothing
//! more, as after a NAT timeout or with a stuck proxy, while the service sees its side close —,
//! cuts them (both sides closed at once, as a crashed host or a reset leaves them), or accepts
//! new connections and closes them at once. It counts the bytes it forwarded each way.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct Switches {
    /// Connections numbered below this forward nothing any more.
    dead_below: AtomicU64,
    /// Connections numbered below this are closed on both sides.
    cut_below: AtomicU64,
    /// Bytes forwarded from the client to the service.
    to_service: AtomicU64,
    /// Bytes forwarded from the service to the client.
    to_client: AtomicU64,
    /// New connections are closed as soon as they are accepted.
    refuse: AtomicBool,
    /// Connections accepted so far (the number of the next one).
    accepted: AtomicU64,
}

/// The proxy; dropping it stops it (the connections it carries end with their tasks).
pub struct Proxy {
    /// `HOST:PORT` to give the client.
    pub endpoint: String,
    switches: Arc<Switches>,
    accepting: JoinHandle<()>,
}

impl Proxy {
    /// A proxy on a free loopback port in front of `upstream` (`HOST:PORT`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let switches = Arc::new(Switches::default());
        let shared = Arc::clone(&switches);
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let id = shared.accepted.fetch_add(1, Ordering::SeqCst);
                if shared.refuse.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(
                    id,
                    client_read,
                    server_write,
                    true,
                    Arc::clone(&shared),
                ));
                tokio::spawn(pipe(
                    id,
                    server_read,
                    client_write,
                    false,
                    Arc::clone(&shared),
                ));
            }
        });
        Self {
            endpoint,
            switches,
            accepting,
        }
    }

    /// Every connection carried so far goes silent for the client (its side stays open) and
    /// closes for the service; new connections work.
    pub fn black_hole_existing(&self) {
        let accepted = self.switches.accepted.load(Ordering::SeqCst);
        self.switches.dead_below.store(accepted, Ordering::SeqCst);
    }

    /// Every connection carried so far is closed on both sides; new connections work.
    pub fn cut_existing(&self) {
        let accepted = self.switches.accepted.load(Ordering::SeqCst);
        self.switches.cut_below.store(accepted, Ordering::SeqCst);
    }

    /// Bytes forwarded so far: (client to service, service to client).
    pub fn forwarded(&self) -> (u64, u64) {
        (
            self.switches.to_service.load(Ordering::SeqCst),
            self.switches.to_client.load(Ordering::SeqCst),
        )
    }

    /// New connections are accepted and closed at once (`false`: forwarded again).
    pub fn refuse_new(&self, refuse: bool) {
        self.switches.refuse.store(refuse, Ordering::SeqCst);
    }

    /// How many connections the proxy accepted so far.
    pub fn accepted(&self) -> u64 {
        self.switches.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Copies one direction of connection `id` until either side closes. Once the connection is
/// black-holed, the service's side is closed and the client's side held open, silent.
async fn pipe(
    id: u64,
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    toward_service: bool,
    switches: Arc<Switches>,
) {
    let dead = || id < switches.dead_below.load(Ordering::SeqCst);
    let cut = || id < switches.cut_below.load(Ordering::SeqCst);
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        if cut() {
            return; // both halves dropped: closed
        }
        if dead() {
            if toward_service {
                // The service sees the connection close; the client's read half stays held.
                let _ = to.shutdown().await;
                drop(to);
                let _held = from;
                match std::future::pending::<std::convert::Infallible>().await {}
            } else {
                drop(from);
                // The client's write half stays held: an open connection that never answers.
                let _held = to;
                match std::future::pending::<std::convert::Infallible>().await {}
            }
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            // Check the switch now and then while the connection is quiet.
            () = tokio::time::sleep(std::time::Duration::from_millis(20)) => continue,
        };
        // Dead first: the service closing its side must not reach the client.
        if dead() || cut() {
            continue;
        }
        let Ok(read) = read else { return };
        if read == 0 {
            let _ = to.shutdown().await;
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
        let counter = if toward_service {
            &switches.to_service
        } else {
            &switches.to_client
        };
        counter.fetch_add(read as u64, Ordering::SeqCst);
    }
}
