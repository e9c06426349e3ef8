//! A real nats-server with JetStream for the relay's tests: started on a free loopback port
//! with a store directory of its own, stopped by its PID when dropped. Debian's `nats-server`
//! package (2.9) is what `.ci/run` installs; without it the tests that need it say so and pass.
//! `.ci/run` also starts one server and names it in `WECHATY_TEST_NATS_URL`: tests that do not
//! stop their server share it ([`NatsServer::shared`]), each in streams of its own.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running nats-server, or one stopped that [`restart`](Self::restart) brings back on the
/// same port with the same store.
pub struct NatsServer {
    /// `None`: the server `WECHATY_TEST_NATS_URL` names, not ours to stop.
    binary: Option<PathBuf>,
    url: Option<String>,
    child: Option<Child>,
    port: u16,
    store: PathBuf,
}

/// Where nats-server is: `WECHATY_TEST_NATS_SERVER`, the `PATH`, or Debian's `/usr/sbin`.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WECHATY_TEST_NATS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let debian = PathBuf::from("/usr/sbin/nats-server");
        debian.is_file().then_some(debian)
    })
}

impl NatsServer {
    /// The server of `WECHATY_TEST_NATS_URL` when set, else a fresh one as [`start`](Self::start).
    pub fn shared(test: &str) -> Option<NatsServer> {
        match std::env::var("WECHATY_TEST_NATS_URL") {
            Ok(url) if !url.is_empty() => Some(NatsServer {
                binary: None,
                url: Some(url),
                child: None,
                port: 0,
                store: PathBuf::new(),
            }),
            _ => Self::start(test),
        }
    }

    /// A fresh server, or `None` (after saying why) when nats-server is not installed.
    pub fn start(test: &str) -> Option<NatsServer> {
        let Some(binary) = binary() else {
            eprintln!(
                "skipping {test}: nats-server is not installed (apt-get install nats-server, \
                 or set WECHATY_TEST_NATS_SERVER)"
            );
            return None;
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let store = std::env::temp_dir().join(format!(
            "wechaty-nats-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let port = free_port();
        let mut server = NatsServer {
            binary: Some(binary),
            url: None,
            child: None,
            port,
            store,
        };
        server.restart();
        Some(server)
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        match &self.url {
            Some(url) => url.clone(),
            None => format!("nats://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server (as a crash would), keeping its store.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store, and waits until it accepts
    /// connections.
    pub fn restart(&mut self) {
        self.stop();
        let binary = self.binary.as_ref().expect("a server of this test's own");
        let child = Command::new(binary)
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        if self.binary.is_some() {
            let _ = std::fs::remove_dir_all(&self.store);
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A stream name no other test (or earlier run against a shared server) uses.
pub fn unique_stream(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    format!(
        "{name}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
