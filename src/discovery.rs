//! Finding a puppet service from its token: `GET https://<authority>/v0/hosties/<token>`
//! answers `{"host": …, "port": …}` (older directories: `{"ip": …, "port": …}`).
//!
//! A missing or zero port, a missing or `0.0.0.0` host, and any 4xx mean the token is not in
//! service (no point retrying). Network failures and 5xx are retried a bounded number of times
//! with exponential backoff. The URL contains the token, so it is never logged or shown.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpStream;

use crate::error::{scrub, Error, Result};
use crate::token::Token;

/// The directory official clients use.
pub const DEFAULT_AUTHORITY: &str = "api.chatie.io";

/// Largest answer accepted from the directory.
const MAX_BODY: usize = 64 * 1024;

/// Attempts and backoff of discovery: `attempts` tries, waiting `first_backoff`, then twice
/// that, and so on, between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveryRetry {
    /// How many requests at most (at least 1).
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub first_backoff: Duration,
}

impl Default for DiscoveryRetry {
    /// Three attempts, 500 ms then 1 s apart (the official client also tries three times).
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_millis(500),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    host: Option<String>,
    ip: Option<String>,
    port: Option<u16>,
}

enum Failure {
    /// Worth another try.
    Transient(String),
    /// The answer is final.
    NotInService,
}

/// Where the directory is: `http://…` or `https://…` as written, a bare authority as https.
struct Directory {
    https: bool,
    host: String,
    port: u16,
    /// For messages: the authority as configured.
    label: String,
}

impl Directory {
    fn parse(authority: &str) -> Result<Self> {
        let trimmed = authority.trim().trim_end_matches('/');
        let (https, rest) = if let Some(rest) = trimmed.strip_prefix("http://") {
            (false, rest)
        } else {
            (true, trimmed.strip_prefix("https://").unwrap_or(trimmed))
        };
        let uri: http::uri::Authority = rest.parse().map_err(|_| {
            Error::Config(format!(
                "the discovery authority {authority:?} is not a host name: check \
                 WECHATY_PUPPET_SERVICE_AUTHORITY (or --authority)"
            ))
        })?;
        Ok(Self {
            https,
            host: uri.host().to_owned(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
            label: trimmed.to_owned(),
        })
    }
}

/// Asks the directory at `authority` where the service of `token` is; returns `HOST:PORT`.
pub(crate) async fn discover(
    authority: &str,
    token: &Token,
    retry: DiscoveryRetry,
    timeout: Duration,
) -> Result<String> {
    let directory = Directory::parse(authority)?;
    let attempts = retry.attempts.max(1);
    let mut backoff = retry.first_backoff;
    let mut last = String::new();
    for attempt in 1..=attempts {
        tracing::debug!(authority = %directory.label, attempt, "discovering the puppet service");
        let outcome = tokio::time::timeout(timeout, ask(&directory, token))
            .await
            .unwrap_or_else(|_| Err(Failure::Transient(format!("no answer within {timeout:?}"))));
        match outcome {
            Ok(endpoint) => {
                tracing::info!(%endpoint, authority = %directory.label, "discovered the puppet service");
                return Ok(endpoint);
            }
            Err(Failure::NotInService) => {
                return Err(Error::TokenNotInService {
                    authority: directory.label,
                })
            }
            Err(Failure::Transient(message)) => {
                last = scrub(&message, token.expose());
                tracing::warn!(authority = %directory.label, attempt, error = %last, "discovery failed");
            }
        }
        if attempt < attempts {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
    Err(Error::Discovery {
        authority: directory.label,
        attempts,
        message: last,
    })
}

async fn ask(directory: &Directory, token: &Token) -> Result<String, Failure> {
    let transient = |error: &dyn std::fmt::Display| Failure::Transient(error.to_string());
    let tcp = TcpStream::connect((directory.host.as_str(), directory.port))
        .await
        .map_err(|e| transient(&e))?;
    tcp.set_nodelay(true).map_err(|e| transient(&e))?;
    let request = http::Request::get(format!("/v0/hosties/{}", token.expose()))
        .header(http::header::HOST, &directory.host)
        .header(
            http::header::USER_AGENT,
            concat!("wechaty-client/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| transient(&e))?;
    let response = if directory.https {
        let name = rustls::pki_types::ServerName::try_from(directory.host.clone())
            .map_err(|e| transient(&e))?;
        let stream = tokio_rustls::TlsConnector::from(web_tls_config())
            .connect(name, tcp)
            .await
            .map_err(|e| transient(&e))?;
        send(TokioIo::new(stream), request).await?
    } else {
        send(TokioIo::new(tcp), request).await?
    };
    let status = response.status();
    if status.is_client_error() {
        return Err(Failure::NotInService);
    }
    if !status.is_success() {
        return Err(Failure::Transient(format!(
            "the directory answered {status}"
        )));
    }
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| Failure::Transient(format!("cannot read the answer: {e}")))?
        .to_bytes();
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|e| Failure::Transient(format!("the answer is not the expected JSON: {e}")))?;
    let host = answer
        .host
        .filter(|host| !host.is_empty())
        .or(answer.ip)
        .filter(|host| !host.is_empty() && host != "0.0.0.0");
    match (host, answer.port) {
        (Some(host), Some(port)) if port != 0 => Ok(if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }),
        _ => Err(Failure::NotInService),
    }
}

async fn send<IO>(
    io: TokioIo<IO>,
    request: http::Request<Empty<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, Failure>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| Failure::Transient(e.to_string()))?;
    tokio::spawn(async move {
        // Ends with the response (the directory closes or we drop the sender).
        let _ = connection.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|e| Failure::Transient(e.to_string()))
}

/// The directory is a public web service: the public web roots verify it.
fn web_tls_config() -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
    let mut config = config.expect("the ring provider supports the default TLS versions");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}
