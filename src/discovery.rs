//! Finding a puppet service from its token: `GET https://<authority>/v0/hosties/<token>`
//! answers `{"host": …, "port": …}` (older directories: `{"ip": …, "port": …}`).
//!
//! A missing or zero port, a missing or `0.0.0.0` host, and any 4xx mean the token is not in
//! service (no point retrying). Network failures and 5xx are retried a bounded number of times
//! with exponential backoff. The URL contains the token, so it is never logged or shown.

use std::time::Duration;

use serde::Deserialize;

use crate::env::ENV_AUTHORITY;
use crate::error::{scrub, Error, Result};
use crate::http::{self, Dial, WebUrl};
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

pub(crate) enum Failure {
    /// Worth another try.
    Transient(http::Failure),
    /// The answer is final.
    NotInService,
    /// The answer is not a place to connect to; the text says why (never the token).
    Invalid(String),
}

fn transient(message: String) -> Failure {
    Failure::Transient(http::Failure {
        message,
        source: None,
    })
}

/// Where the directory is: `http://…` or `https://…` as written, a bare authority as https.
struct Directory {
    base: WebUrl,
    /// For messages: the authority as configured.
    label: String,
}

impl Directory {
    fn parse(authority: &str) -> Result<Self> {
        let label = authority.trim().trim_end_matches('/').to_owned();
        let base = WebUrl::parse(&label)
            .filter(|url| url.path == "/" || url.path.is_empty())
            .ok_or_else(|| {
                Error::config(format!(
                    "the discovery authority {authority:?} is not a host name: check \
                     {ENV_AUTHORITY} (or `WechatyBuilder::authority`)"
                ))
            })?;
        Ok(Self { base, label })
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
    let mut last = (String::new(), None);
    for attempt in 1..=attempts {
        tracing::debug!(authority = %directory.label, attempt, "discovering the puppet service");
        let outcome = tokio::time::timeout(timeout, ask(&directory, token, timeout))
            .await
            .unwrap_or_else(|_| Err(transient(format!("no answer within {timeout:?}"))));
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
            Err(Failure::Invalid(message)) => {
                return Err(Error::Discovery {
                    authority: directory.label,
                    attempts: attempt,
                    message: scrub(&message, token.expose()),
                    source: None,
                })
            }
            Err(Failure::Transient(failure)) => {
                let message = scrub(&failure.message, token.expose());
                tracing::warn!(authority = %directory.label, attempt, error = %message, "discovery failed");
                last = (message, failure.source);
            }
        }
        if attempt < attempts {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
    let (message, source) = last;
    Err(Error::Discovery {
        authority: directory.label,
        attempts,
        message,
        source,
    })
}

async fn ask(directory: &Directory, token: &Token, timeout: Duration) -> Result<String, Failure> {
    let url = WebUrl {
        path: format!("/v0/hosties/{}", token.expose()),
        ..directory.base.clone()
    };
    let (status, body) = http::get(&url, Dial::any_address_within(timeout), MAX_BODY)
        .await
        .map_err(Failure::Transient)?;
    if status.is_client_error() {
        return Err(Failure::NotInService);
    }
    if !status.is_success() {
        return Err(transient(format!("the directory answered {status}")));
    }
    read_answer(&body)
}

/// The endpoint (`HOST:PORT`, `[V6]:PORT`) in the body of a successful answer.
pub(crate) fn read_answer(body: &[u8]) -> Result<String, Failure> {
    let answer: Answer = serde_json::from_slice(body).map_err(|error| {
        Failure::Transient(http::Failure {
            message: format!("the answer is not the expected JSON: {error}"),
            source: Some(Box::new(error)),
        })
    })?;
    let host = answer
        .host
        .filter(|host| !host.is_empty())
        .or(answer.ip)
        .filter(|host| !host.is_empty() && host != "0.0.0.0");
    let (host, port) = match (host, answer.port) {
        (Some(host), Some(port)) if port != 0 => (host, port),
        _ => return Err(Failure::NotInService),
    };
    // Dialled as written, a host like `127.0.0.1/evil/…` would be a URL, not a host.
    if !is_host(&host) {
        let shown: String = host.chars().take(64).collect();
        return Err(Failure::Invalid(format!(
            "the directory's answer is not a host name or IP address: {shown:?}"
        )));
    }
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// A DNS name (letters, digits, `-`, `.`, labels of 1–63 characters) or an IP address.
fn is_host(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
