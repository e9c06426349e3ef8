//! The connector tonic uses for TLS channels: TCP, then the rustls handshake. Handshake failures
//! are classified here, where the rustls error is still at hand, into a [`TlsFailure`] that
//! `Error` turns into a message naming the setting to change.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::x509::format_time;
use crate::error::Error;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong in a TLS handshake, in terms a user can act on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TlsFailure {
    /// Not signed by a trusted CA (unknown issuer or bad signature).
    Untrusted,
    /// The certificate is for other names.
    NameMismatch {
        expected: String,
        presented: Vec<String>,
        /// The expected name came from the token, not from a setting.
        derived_from_token: bool,
    },
    Expired {
        not_after: String,
    },
    NotYetValid {
        not_before: String,
    },
    /// The peer does not speak TLS.
    NotTls,
    /// Anything else, with the TLS library's error when there is one.
    Other {
        message: String,
        source: Option<rustls::Error>,
    },
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Untrusted => f.write_str("certificate not signed by a trusted CA"),
            Self::NameMismatch {
                expected,
                presented,
                ..
            } => write!(f, "certificate for {presented:?}, not {expected:?}"),
            Self::Expired { not_after } => write!(f, "certificate expired on {not_after}"),
            Self::NotYetValid { not_before } => write!(f, "certificate valid from {not_before}"),
            Self::NotTls => f.write_str("the peer does not speak TLS"),
            Self::Other { message, .. } => write!(f, "TLS handshake failed: {message}"),
        }
    }
}

impl std::error::Error for TlsFailure {}

fn date(time: rustls::pki_types::UnixTime) -> String {
    format_time(std::time::UNIX_EPOCH + std::time::Duration::from_secs(time.as_secs()))
}

impl TlsFailure {
    /// The [`Error`] a user reads for this failure with `endpoint`.
    pub(crate) fn into_error(self, endpoint: &str) -> Error {
        let endpoint = endpoint.to_owned();
        match self {
            Self::Untrusted => Error::TlsUntrusted { endpoint },
            Self::NameMismatch {
                expected,
                presented,
                derived_from_token,
            } => Error::TlsNameMismatch {
                endpoint,
                expected,
                presented,
                derived_from_token,
            },
            Self::Expired { not_after } => Error::TlsExpired {
                endpoint,
                not_after,
            },
            Self::NotYetValid { not_before } => Error::TlsNotYetValid {
                endpoint,
                not_before,
            },
            Self::NotTls => Error::NotTls { endpoint },
            Self::Other { message, source } => Error::Tls {
                endpoint,
                message,
                source: source.map(|error| Box::new(error) as crate::error::Cause),
            },
        }
    }

    fn classify(error: &io::Error, expected: &str, derived_from_token: bool) -> Self {
        let Some(tls) = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        else {
            // The peer hung up during the handshake: typically a plaintext server.
            return match error.kind() {
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => Self::NotTls,
                _ => Self::Other {
                    message: error.to_string(),
                    source: None,
                },
            };
        };
        match tls {
            rustls::Error::InvalidCertificate(certificate) => match certificate {
                CertificateError::UnknownIssuer
                | CertificateError::BadSignature
                | CertificateError::UnsupportedSignatureAlgorithmContext { .. } => Self::Untrusted,
                CertificateError::NotValidForName => Self::NameMismatch {
                    expected: expected.to_owned(),
                    presented: Vec::new(),
                    derived_from_token,
                },
                CertificateError::NotValidForNameContext { presented, .. } => Self::NameMismatch {
                    expected: expected.to_owned(),
                    presented: presented.iter().map(|name| bare_name(name)).collect(),
                    derived_from_token,
                },
                CertificateError::ExpiredContext { not_after, .. } => Self::Expired {
                    not_after: date(*not_after),
                },
                CertificateError::Expired => Self::Expired {
                    not_after: "an earlier date".into(),
                },
                CertificateError::NotValidYetContext { not_before, .. } => Self::NotYetValid {
                    not_before: date(*not_before),
                },
                CertificateError::NotValidYet => Self::NotYetValid {
                    not_before: "a later date".into(),
                },
                CertificateError::InvalidPurpose
                | CertificateError::InvalidPurposeContext { .. } => Self::Other {
                    message: "the certificate is not one of a TLS server (it is a CA's, or \
                                  its extended key usage leaves out serverAuth)"
                        .into(),
                    source: Some(tls.clone()),
                },
                CertificateError::UnhandledCriticalExtension => Self::Other {
                    message: "the certificate has a critical extension this client does not \
                              understand"
                        .into(),
                    source: Some(tls.clone()),
                },
                other => Self::Other {
                    message: format!("invalid certificate: {other:?}"),
                    source: Some(tls.clone()),
                },
            },
            // Bytes that are not TLS records: a plaintext HTTP/2 server answering our hello.
            rustls::Error::InvalidMessage(_) => Self::NotTls,
            other => Self::Other {
                message: other.to_string(),
                source: Some(other.clone()),
            },
        }
    }
}

/// webpki reports names as `DnsName("host")`; users want `host`.
fn bare_name(presented: &str) -> String {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .unwrap_or(presented)
        .to_owned()
}

/// Opens TLS connections for tonic. Cheap to clone.
#[derive(Clone)]
pub(crate) struct TlsConnector {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    /// The server name was derived from the token (for the hint when it does not match).
    name_from_token: bool,
}

impl TlsConnector {
    pub(crate) fn new(
        config: Arc<ClientConfig>,
        server_name: ServerName<'static>,
        name_from_token: bool,
    ) -> Self {
        Self {
            config,
            server_name,
            name_from_token,
        }
    }

    /// The handshake alone, over an open TCP stream (for diagnostics).
    pub(crate) async fn handshake(
        &self,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, TlsFailure> {
        let expected = self.server_name.to_str().into_owned();
        tokio_rustls::TlsConnector::from(Arc::clone(&self.config))
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|error| TlsFailure::classify(&error, &expected, self.name_from_token))
    }

    async fn connect(self, uri: http::Uri) -> Result<TokioIo<TlsStream<TcpStream>>, BoxError> {
        let host = uri
            .host()
            .ok_or("the endpoint has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);
        let tcp = TcpStream::connect((host.as_str(), port)).await?;
        tcp.set_nodelay(true)?;
        let expected = self.server_name.to_str().into_owned();
        let stream = tokio_rustls::TlsConnector::from(self.config)
            .connect(self.server_name, tcp)
            .await
            .map_err(|error| {
                BoxError::from(TlsFailure::classify(
                    &error,
                    &expected,
                    self.name_from_token,
                ))
            })?;
        Ok(TokioIo::new(stream))
    }
}

impl tower::Service<http::Uri> for TlsConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        Box::pin(self.clone().connect(uri))
    }
}
