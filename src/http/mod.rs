//! A small HTTP/1.1 GET client (hyper + rustls with the public web roots), for the two places
//! that need plain web requests: endpoint discovery and URL file boxes.

mod address;
mod headers;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::error::Cause;

pub(crate) use address::AddressPolicy;
pub(crate) use headers::forwardable;

/// How a request may connect, and how long each step may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dial {
    /// Which resolved addresses may be connected to.
    pub(crate) policy: AddressPolicy,
    /// Name resolution and the TCP connection.
    pub(crate) connect: Duration,
    /// The TLS handshake.
    pub(crate) handshake: Duration,
    /// From the request sent to the response's status and headers.
    pub(crate) response: Duration,
}

impl Dial {
    /// Any address, each step within `limit` (for a caller that bounds the whole request).
    pub(crate) fn any_address_within(limit: Duration) -> Self {
        Self {
            policy: AddressPolicy::Any,
            connect: limit,
            handshake: limit,
            response: limit,
        }
    }
}

/// A parsed `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WebUrl {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
}

impl WebUrl {
    /// `https://host[:port]/path`, `http://…`; without a scheme, `https`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let uri: http::Uri = text.trim().parse().ok()?;
        let https = match uri.scheme_str() {
            Some("https") | None => true,
            Some("http") => false,
            Some(_) => return None,
        };
        let authority = uri.authority()?;
        Some(Self {
            https,
            host: authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            path: uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned()),
        })
    }
}

/// What went wrong, with the error underneath; neither contains the URL (it may hold a token).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) source: Option<Cause>,
}

impl Failure {
    fn new(message: String) -> Self {
        Self {
            message,
            source: None,
        }
    }

    fn of(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }
}

/// `GET url`: the status and at most `max_body` bytes of body (more is an error).
pub(crate) async fn get(
    url: &WebUrl,
    dial: Dial,
    max_body: usize,
) -> Result<(http::StatusCode, Bytes), Failure> {
    let (status, body) = open(url, &[], dial).await?;
    let body = Limited::new(body, max_body)
        .collect()
        .await
        .map_err(|error| Failure {
            message: format!("cannot read the answer: {error}"),
            source: Some(error),
        })?
        .to_bytes();
    Ok((status, body))
}

/// `GET url` with `headers`: the status and the body as it arrives. Every step until the
/// status has the deadline `dial` gives it; the body's pace is the caller's to watch.
pub(crate) async fn open(
    url: &WebUrl,
    headers: &[(http::HeaderName, http::HeaderValue)],
    dial: Dial,
) -> Result<(http::StatusCode, hyper::body::Incoming), Failure> {
    let addresses = within(dial.connect, "resolving the host", resolve(url)).await??;
    let addresses = dial.policy.filter(addresses);
    if addresses.is_empty() {
        return Err(Failure::new(format!(
            "{} is on a loopback, link-local or private address; a file from the service is \
             only fetched from public ones (allow others with \
             `WechatyBuilder::allow_private_file_urls(true)` if its files live on your network)",
            url.host
        )));
    }
    let tcp = within(
        dial.connect,
        "connecting",
        TcpStream::connect(&addresses[..]),
    )
    .await?
    .map_err(Failure::of)?;
    tcp.set_nodelay(true).map_err(Failure::of)?;
    let mut request = http::Request::get(url.path.as_str())
        .header(http::header::HOST, host_header(url))
        .header(
            http::header::USER_AGENT,
            concat!("wechaty-client/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = request.body(Empty::<Bytes>::new()).map_err(Failure::of)?;
    let response = if url.https {
        let name =
            rustls::pki_types::ServerName::try_from(url.host.clone()).map_err(Failure::of)?;
        let handshake = tokio_rustls::TlsConnector::from(web_tls_config()).connect(name, tcp);
        let stream = within(dial.handshake, "the TLS handshake", handshake)
            .await?
            .map_err(Failure::of)?;
        within(
            dial.response,
            "waiting for the answer",
            send(TokioIo::new(stream), request),
        )
        .await??
    } else {
        within(
            dial.response,
            "waiting for the answer",
            send(TokioIo::new(tcp), request),
        )
        .await??
    };
    let status = response.status();
    Ok((status, response.into_body()))
}

/// The addresses of the URL's host: itself when it is an IP address.
async fn resolve(url: &WebUrl) -> Result<Vec<SocketAddr>, Failure> {
    if let Ok(ip) = url.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, url.port)]);
    }
    let found = tokio::net::lookup_host((url.host.as_str(), url.port))
        .await
        .map_err(Failure::of)?;
    Ok(found.collect())
}

/// `step` within `limit`, else a failure saying which step did not finish.
async fn within<T>(
    limit: Duration,
    step: &str,
    future: impl Future<Output = T>,
) -> Result<T, Failure> {
    tokio::time::timeout(limit, future)
        .await
        .map_err(|_| Failure::new(format!("{step} took longer than {limit:?}")))
}

fn host_header(url: &WebUrl) -> String {
    let default_port = if url.https { 443 } else { 80 };
    if url.port == default_port {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
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
        .map_err(Failure::of)?;
    tokio::spawn(async move {
        // Ends with the response (the server closes or we drop the sender).
        let _ = connection.await;
    });
    sender.send_request(request).await.map_err(Failure::of)
}

/// Public web services are verified with the public web roots.
fn web_tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url = WebUrl::parse("https://example.invalid/a/b.jpg?x=1").unwrap();
        assert_eq!(
            (url.https, url.port, url.path.as_str()),
            (true, 443, "/a/b.jpg?x=1")
        );
        let url = WebUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!((url.https, url.port, url.path.as_str()), (false, 8080, "/"));
        assert!(WebUrl::parse("ftp://x/y").is_none());
        assert!(WebUrl::parse("not a url").is_none());
    }
}
