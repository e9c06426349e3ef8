//! `relay`: the service's Event stream into NATS JetStream.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wechaty_client::relay::{Relay, RelayOptions, RelayState};
use wechaty_client::WechatyBuilder;

use crate::output::Output;

/// `relay --nats URL [--stream NAME] [--metrics ADDR]`: runs until Ctrl-C or SIGTERM, then
/// publishes what it holds and exits; exits 1 when the service refuses the token.
pub async fn relay(
    builder: WechatyBuilder,
    nats: &str,
    stream: String,
    metrics: Option<SocketAddr>,
    out: &Output,
) -> Result<()> {
    let bot = builder.build().await?;
    let relay = Arc::new(Relay::start(&bot, RelayOptions::new(nats).stream(stream)).await?);
    let metrics = match metrics {
        Some(addr) => Some(serve_metrics(addr, Arc::clone(&relay)).await?),
        None => None,
    };
    let mut state = relay.state();
    let mut announced = false;
    let mut terminate = terminate_signal()?;
    loop {
        let now = state.borrow_and_update().clone();
        match now {
            RelayState::Relaying if !announced => {
                announced = true;
                let url = relay.nats_url();
                out.line(
                    &serde_json::json!({ "relaying": url, "subjects": relay.subject_prefix() }),
                    &format!("relaying to {url}"),
                );
            }
            RelayState::Standby => eprintln!(
                "standing by: another relay (or bot) holds the Event stream of this token; \
                 taking over when it lets go"
            ),
            RelayState::Stopped => break,
            _ => {}
        }
        tokio::select! {
            changed = state.changed() => if changed.is_err() { break },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        }
    }
    relay.stop();
    drop(metrics);
    let relay = Arc::try_unwrap(relay)
        .map_err(|_| anyhow::anyhow!("the metrics server still holds the relay"))?;
    relay.wait().await?;
    Ok(())
}

/// Serves `GET /metrics` (Prometheus text) at `addr` until dropped; anything else is a 404.
async fn serve_metrics(addr: SocketAddr, relay: Arc<Relay>) -> Result<AbortOnDrop> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot serve metrics at {addr} (--metrics)"))?;
    let relay = Arc::downgrade(&relay);
    Ok(AbortOnDrop(tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            let Some(relay) = relay.upgrade() else { return };
            let body = relay.prometheus();
            drop(relay);
            tokio::spawn(async move {
                // One request per connection; a request line is all that is read.
                let mut request = [0u8; 1024];
                let read = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    socket.read(&mut request),
                )
                .await;
                let Ok(Ok(read)) = read else { return };
                let found = request[..read].starts_with(b"GET /metrics ");
                let answer = if found {
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .into()
                };
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    })))
}

/// The metrics server's task, stopped with the relay.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(unix)]
fn terminate_signal() -> Result<tokio::signal::unix::Signal> {
    Ok(tokio::signal::unix::signal(
        tokio::signal::unix::SignalKind::terminate(),
    )?)
}
