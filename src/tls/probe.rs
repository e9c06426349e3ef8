//! Does an endpoint speak TLS? Asked when a plaintext connection broke, so that the error tells
//! the user to turn TLS on only when that is the cause, and not when the service simply went
//! away (a connection that breaks looks the same in both cases).

use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// TLS record types a TLS server answers a hello with: a handshake (its hello) or an alert.
const HANDSHAKE: u8 = 0x16;
const ALERT: u8 = 0x15;

/// Sends a TLS hello to `endpoint` and reports whether the answer is TLS. `false` when the
/// endpoint cannot be reached, answers with something else, or says nothing within `timeout`.
pub(crate) async fn speaks_tls(endpoint: &str, timeout: Duration) -> bool {
    let attempt = async {
        let hello = client_hello()?;
        let mut tcp = TcpStream::connect(endpoint).await.ok()?;
        tcp.write_all(&hello).await.ok()?;
        let mut first = [0u8; 1];
        let read = tcp.read(&mut first).await.ok()?;
        Some(read == 1 && matches!(first[0], HANDSHAKE | ALERT))
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// The bytes of a TLS client hello (the handshake never goes further, so the name and the trust
/// settings do not matter).
fn client_hello() -> Option<Vec<u8>> {
    let config = super::client_config(None, "localhost").ok()?;
    let name = ServerName::try_from("localhost").ok()?;
    let mut connection = rustls::ClientConnection::new(config, name).ok()?;
    let mut bytes = Vec::new();
    connection.write_tls(&mut bytes).ok()?;
    Some(bytes)
}
