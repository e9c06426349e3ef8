//! The official TypeScript puppet service as a test peer: `tests/interop/server.mjs`
//! (wechaty-puppet-service's PuppetServer over wechaty-puppet-mock with a fixed world), started
//! as a child process, with its HTTP control port to make things happen and read what the
//! puppet was asked. Shared by the SDK's and the CLI's interop suites (the CLI includes this
//! file by path).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use wechaty_client::WechatyBuilder;

/// The token the official server is started with unless a test gives another.
pub const TOKEN: &str = "insecure_00000000-0000-0000-0000-000000000000";
/// How long a test waits for something the official server should do.
pub const WAIT: Duration = Duration::from_secs(15);

/// One official server process, killed when dropped.
pub struct Official {
    child: Child,
    /// `HOST:PORT` of its gRPC service.
    pub endpoint: String,
    control: String,
}

impl Official {
    /// A server on any free port, with or without TLS (the stock certificate), accepting `token`.
    pub fn start(tls: bool, token: &str) -> Self {
        Self::start_on(0, tls, token)
    }

    /// The same on `port` (to restart a server where a client expects it).
    pub fn start_on(port: u16, tls: bool, token: &str) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");
        // The CLI's copy of this file runs from cli/: the harness is the SDK's.
        let dir = if std::path::Path::new(dir).exists() {
            dir.to_owned()
        } else {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/interop").to_owned()
        };
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(dir)
            .env("TOKEN", token)
            .env("TLS", if tls { "1" } else { "0" })
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs (install Node.js, then `npm ci` in tests/interop)");
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let next = |prefix: &str| {
            let line = lines_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the official server starts (did `npm ci` run in tests/interop?)");
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("unexpected line {line:?}"))
                .to_owned()
        };
        let endpoint = next("listening on ");
        let control = next("control on ");
        Self {
            child,
            endpoint,
            control,
        }
    }

    /// A plaintext server accepting [`TOKEN`].
    pub fn plaintext() -> Self {
        Self::start(false, TOKEN)
    }

    /// A request to the control port (plain HTTP/1.1, one per connection).
    pub fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let body = body.to_string();
        let mut stream = TcpStream::connect(&self.control).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
        serde_json::from_str(body).unwrap()
    }

    /// The arguments of every call the puppet got for `method` (its camelCase name).
    pub fn calls(&self, method: &str) -> Vec<Value> {
        let calls = self.control("GET", "/calls", Value::Null);
        calls
            .as_array()
            .unwrap()
            .iter()
            .filter(|call| call["method"] == method)
            .map(|call| call["args"].clone())
            .collect()
    }

    /// Makes the puppet emit event `name` (`"room-join"`, …) with `payload`.
    pub fn emit(&self, name: &str, payload: Value) {
        self.control("POST", "/emit", json!({ "name": name, "payload": payload }));
    }

    /// A builder aimed at this (plaintext) server with [`TOKEN`]. Sends are not limited, as
    /// with the mock: the tests should not wait a second between two messages.
    #[allow(dead_code)] // The CLI suite drives the server through the binary only.
    pub fn builder(&self) -> WechatyBuilder {
        WechatyBuilder::new()
            .endpoint(self.endpoint.clone())
            .token(TOKEN)
            .no_tls(true)
            .send_limits(None)
    }
}

impl Drop for Official {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
