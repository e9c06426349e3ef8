//! A small HTTP/1.1 GET client (hyper + rustls with the public web roots), for the two places
//! that need plain web requests: endpoint discovery and URL file boxes.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::error::Cause;

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
    headers: &BTreeMap<String, String>,
    max_body: usize,
) -> Result<(http::StatusCode, Bytes), Failure> {
    let (status, body) = open(url, headers).await?;
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

/// `GET url`: the status and the body as it arrives.
pub(crate) async fn open(
    url: &WebUrl,
    headers: &BTreeMap<String, String>,
) -> Result<(http::StatusCode, hyper::body::Incoming), Failure> {
    let tcp = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(Failure::of)?;
    tcp.set_nodelay(true).map_err(Failure::of)?;
    let mut request = http::Request::get(url.path.as_str())
        .header(http::header::HOST, host_header(url))
        .header(
            http::header::USER_AGENT,
            concat!("wechaty-client/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request.body(Empty::<Bytes>::new()).map_err(Failure::of)?;
    let response = if url.https {
        let name =
            rustls::pki_types::ServerName::try_from(url.host.clone()).map_err(Failure::of)?;
        let stream = tokio_rustls::TlsConnector::from(web_tls_config())
            .connect(name, tcp)
            .await
            .map_err(Failure::of)?;
        send(TokioIo::new(stream), request).await?
    } else {
        send(TokioIo::new(tcp), request).await?
    };
    let status = response.status();
    Ok((status, response.into_body()))
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
