//! Diagnosing a connection step by step: [`WechatyBuilder::doctor`].
//!
//! Each step says PASS or FAIL with what it saw and, on failure, which setting to change. The
//! steps follow the path of a real connection: settings, discovery, TCP, TLS (the certificate
//! and why it is trusted or not), authentication, the health service, the first event, the
//! version. A step that cannot run because an earlier one failed is skipped.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_stream::StreamExt;

use crate::config::{parse_endpoint, WechatyBuilder};
use crate::discovery::{discover, DEFAULT_AUTHORITY};
use crate::env::{
    ENV_ENDPOINT, ENV_NO_TLS, ENV_TLS_CA_CERT, ENV_TLS_SERVER_NAME, ENV_TOKEN, ENV_TOKEN_FILE,
};
use crate::error::Error;
use crate::generated::health::health_check_response::ServingStatus;
use crate::generated::health::HealthCheckRequest;
use crate::tls::x509::Certificate;

/// How long the doctor waits for the first event.
const FIRST_EVENT_WAIT: Duration = Duration::from_secs(10);

/// The verdict of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// It works.
    Pass,
    /// It does not; see the hint.
    Fail,
    /// Not tried, because an earlier step failed or it does not apply.
    Skip,
}

/// One step of the diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// The step: `settings`, `discovery`, `tcp`, `tls`, `authentication`, `health`,
    /// `event stream`, `version`.
    pub step: &'static str,
    /// PASS, FAIL or SKIP.
    pub outcome: Outcome,
    /// What was seen (never the token).
    pub detail: String,
    /// On failure, what to change.
    pub hint: Option<String>,
}

fn pass(step: &'static str, detail: impl Into<String>) -> Check {
    Check {
        step,
        outcome: Outcome::Pass,
        detail: detail.into(),
        hint: None,
    }
}

fn fail(step: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Check {
    Check {
        step,
        outcome: Outcome::Fail,
        detail: detail.into(),
        hint: Some(hint.into()),
    }
}

fn skip(step: &'static str) -> Check {
    Check {
        step,
        outcome: Outcome::Skip,
        detail: "skipped after an earlier failure".into(),
        hint: None,
    }
}

const LATER: [&str; 6] = [
    "tcp",
    "tls",
    "authentication",
    "health",
    "event stream",
    "version",
];

impl WechatyBuilder {
    /// Diagnoses these settings against the service, step by step. Never fails: the report
    /// says what went wrong.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// for check in wechaty_client::WechatyBuilder::from_env().doctor().await {
    ///     println!("{:?} {}: {}", check.outcome, check.step, check.detail);
    /// }
    /// # }
    /// ```
    pub async fn doctor(self) -> Vec<Check> {
        let mut checks = Vec::new();
        let skip_rest = |checks: &mut Vec<Check>, from: &str| {
            let start = LATER.iter().position(|step| *step == from).unwrap_or(0);
            checks.extend(LATER[start..].iter().map(|step| skip(step)));
        };

        // Settings.
        let token = match self.parsed_token() {
            Ok(token) => token,
            Err(error) => {
                let hint = if self.token.is_none() && self.token_file.is_none() {
                    format!("set {ENV_TOKEN} (or call `WechatyBuilder::token`)")
                } else {
                    format!("check {ENV_TOKEN} or {ENV_TOKEN_FILE}")
                };
                let detail = match (&self.token, &self.token_file) {
                    (None, None) => "no token".to_owned(),
                    _ => error.to_string(),
                };
                checks.push(fail("settings", detail, hint));
                checks.push(skip("discovery"));
                skip_rest(&mut checks, "tcp");
                return checks;
            }
        };
        let tls = if self.no_tls {
            None
        } else {
            match self.tls_connector(&token) {
                Ok(connector) => Some(connector),
                Err(error) => {
                    checks.push(fail("settings", error.to_string(), "fix the TLS settings"));
                    checks.push(skip("discovery"));
                    skip_rest(&mut checks, "tcp");
                    return checks;
                }
            }
        };
        let tls_mode = match &tls {
            None => format!("TLS off ({ENV_NO_TLS}=true)"),
            Some(_) => {
                let name = self
                    .tls_server_name
                    .clone()
                    .map(|name| format!("{name} (given)"))
                    .or_else(|| {
                        token
                            .server_name()
                            .map(|name| format!("{name} (from the token)"))
                    })
                    .unwrap_or_default();
                let ca = if self.tls_ca_cert.is_some() {
                    "the configured CA"
                } else {
                    "the Wechaty root CA"
                };
                format!("TLS on, server name {name}, trusting {ca}")
            }
        };
        checks.push(pass("settings", format!("token set; {tls_mode}")));

        // Discovery.
        let endpoint = match self.endpoint.as_deref() {
            Some(given) => match parse_endpoint(given) {
                Ok(endpoint) => {
                    checks.push(pass(
                        "discovery",
                        format!("not needed: endpoint {endpoint} given"),
                    ));
                    endpoint
                }
                Err(error) => {
                    checks.push(fail(
                        "discovery",
                        error.to_string(),
                        format!("fix {ENV_ENDPOINT}"),
                    ));
                    skip_rest(&mut checks, "tcp");
                    return checks;
                }
            },
            None => {
                let authority = self.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY);
                match discover(
                    authority,
                    &token,
                    self.discovery_retry,
                    self.connect_timeout,
                )
                .await
                {
                    Ok(endpoint) => {
                        checks.push(pass("discovery", format!("{authority} says {endpoint}")));
                        endpoint
                    }
                    Err(error) => {
                        checks.push(fail(
                            "discovery",
                            error.to_string(),
                            format!("set {ENV_ENDPOINT}=HOST:PORT to skip discovery, or check the token"),
                        ));
                        skip_rest(&mut checks, "tcp");
                        return checks;
                    }
                }
            }
        };

        // TCP.
        let tcp =
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(&endpoint)).await {
                Ok(Ok(tcp)) => {
                    checks.push(pass("tcp", format!("connected to {endpoint}")));
                    tcp
                }
                Ok(Err(error)) => {
                    checks.push(fail(
                        "tcp",
                        format!("cannot connect to {endpoint}: {error}"),
                        format!("check {ENV_ENDPOINT} and that the service runs"),
                    ));
                    skip_rest(&mut checks, "tls");
                    return checks;
                }
                Err(_) => {
                    checks.push(fail(
                        "tcp",
                        format!(
                            "no answer from {endpoint} within {:?}",
                            self.connect_timeout
                        ),
                        format!("check {ENV_ENDPOINT} and the network"),
                    ));
                    skip_rest(&mut checks, "tls");
                    return checks;
                }
            };

        // TLS.
        match &tls {
            None => checks.push(Check {
                step: "tls",
                outcome: Outcome::Skip,
                detail: "TLS is off".into(),
                hint: None,
            }),
            Some(connector) => match connector.handshake(tcp).await {
                Ok(stream) => {
                    let (_, connection) = stream.get_ref();
                    let described = connection
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .and_then(|leaf| Certificate::parse(leaf).ok())
                        .map(|leaf| {
                            let how = if leaf.version == 1 || !leaf.has_subject_alt_name {
                                "no subjectAltName: checked by its CN, signature and dates"
                            } else {
                                "verified by webpki"
                            };
                            format!(
                                "certificate CN={} (X.509 v{}) issued by {}: trusted ({how})",
                                leaf.common_names.join(","),
                                leaf.version,
                                leaf.issuer_common_names.join(",")
                            )
                        })
                        .unwrap_or_else(|| "handshake done".into());
                    checks.push(pass("tls", described));
                }
                Err(failure) => {
                    let error = failure.into_error(&endpoint);
                    checks.push(fail("tls", error.to_string(), tls_hint(&error)));
                    skip_rest(&mut checks, "authentication");
                    return checks;
                }
            },
        }

        // Authentication, health, first event, version: through a real bot.
        let bot = match self.build().await {
            Ok(bot) => bot,
            Err(error) => {
                checks.push(fail(
                    "authentication",
                    error.to_string(),
                    "fix the settings above",
                ));
                skip_rest(&mut checks, "health");
                return checks;
            }
        };
        let version = match bot.version().await {
            Ok(version) => {
                checks.push(pass("authentication", "the service accepted the token"));
                version
            }
            Err(error @ Error::Unauthenticated) => {
                checks.push(fail(
                    "authentication",
                    error.to_string(),
                    format!("check {ENV_TOKEN} (or the token given to `WechatyBuilder::token`)"),
                ));
                skip_rest(&mut checks, "health");
                return checks;
            }
            Err(error) => {
                checks.push(fail("authentication", error.to_string(), "see the message"));
                skip_rest(&mut checks, "health");
                return checks;
            }
        };
        checks.push(health(&bot).await);
        let mut events = bot.events();
        checks.push(match bot.connect().await {
            Ok(()) => match tokio::time::timeout(FIRST_EVENT_WAIT, events.next()).await {
                Ok(Some(event)) => pass("event stream", format!("first event: {}", event.name())),
                _ => fail(
                    "event stream",
                    format!("no event within {FIRST_EVENT_WAIT:?}"),
                    "the service accepted the stream but sends nothing: check the puppet behind it",
                ),
            },
            Err(error @ Error::EventStreamTaken) => fail(
                "event stream",
                error.to_string(),
                "stop the other bot (a service allows one Event stream)",
            ),
            Err(error) => fail("event stream", error.to_string(), "see the message"),
        });
        bot.stop();
        checks.push(pass("version", version));
        checks
    }
}

fn tls_hint(error: &Error) -> String {
    match error {
        Error::TlsNameMismatch { presented, .. } => format!(
            "set {ENV_TLS_SERVER_NAME}={} (or call `WechatyBuilder::tls_server_name`)",
            presented
                .first()
                .map_or("<the name on the certificate>", String::as_str)
        ),
        Error::TlsUntrusted { .. } => format!(
            "set {ENV_TLS_CA_CERT} (or call `WechatyBuilder::tls_ca_cert`) to the CA that signed \
             the service's certificate"
        ),
        Error::NotTls { .. } => {
            format!("set {ENV_NO_TLS}=true (or call `WechatyBuilder::no_tls(true)`)")
        }
        Error::TlsExpired { .. } | Error::TlsNotYetValid { .. } => {
            "the service must renew its certificate (or fix this machine's clock)".into()
        }
        _ => "see the message".into(),
    }
}

async fn health(bot: &crate::Wechaty) -> Check {
    let Ok(transport) = bot.transport() else {
        return skip("health");
    };
    let request = tonic::Request::new(HealthCheckRequest::default());
    match tokio::time::timeout(Duration::from_secs(10), transport.health().check(request)).await {
        Ok(Ok(response)) => match ServingStatus::try_from(response.into_inner().status) {
            Ok(ServingStatus::Serving) => pass("health", "SERVING"),
            Ok(ServingStatus::ServiceUnknown) => pass(
                "health",
                "SERVICE_UNKNOWN (no puppet heartbeat yet; normal right after a start)",
            ),
            Ok(ServingStatus::NotServing) => fail(
                "health",
                "NOT_SERVING: the puppet's last heartbeat is over 60 s old",
                "the puppet behind the service is stuck: restart it",
            ),
            _ => pass("health", "unknown status"),
        },
        Ok(Err(status)) if status.code() == tonic::Code::Unimplemented => {
            pass("health", "the service has no health endpoint")
        }
        Ok(Err(status)) => fail(
            "health",
            transport.error("Check", status).await.to_string(),
            "see the message",
        ),
        Err(_) => fail("health", "no answer within 10 s", "check the service"),
    }
}
