//! TLS for the mock service, including the v1 leaf stock gateways present.
//!
//! tonic's `ServerTlsConfig` cannot serve a v1 leaf (rustls' key check parses it with webpki),
//! so the mock runs its own tokio-rustls acceptor with a fixed certificate resolver and hands
//! the decrypted streams to tonic.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};

/// The certificate the mock serves TLS with.
///
/// ```
/// use wechaty_client::mock::MockTls;
/// // What a stock Wechaty gateway presents: a v1 leaf, CN=insecure, signed by the public
/// // Wechaty root CA. Clients with default TLS settings and a token `insecure_…` accept it.
/// let tls = MockTls::stock();
/// ```
#[derive(Clone)]
pub struct MockTls {
    key: Arc<CertifiedKey>,
}

impl std::fmt::Debug for MockTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockTls")
            .field("chain", &self.key.cert.len())
            .finish_non_exhaustive()
    }
}

/// The default server certificate of the official `wechaty-puppet-service` (public, so it
/// secures nothing; it exists so that clients can verify *something*).
const STOCK_CERT: &str = include_str!("../../certs/wechaty-insecure-server.pem");
const STOCK_KEY: &str = include_str!("../../certs/wechaty-insecure-server.key");

impl MockTls {
    /// The stock gateway certificate: X.509 v1, `CN=insecure`, signed by the Wechaty root CA.
    pub fn stock() -> Self {
        Self::from_pem(STOCK_CERT, STOCK_KEY).expect("the bundled stock certificate is valid")
    }

    /// A certificate chain (leaf first) and its private key, both PEM.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self> {
        fn invalid(what: &str, error: impl std::error::Error + Send + Sync + 'static) -> Error {
            Error::config_caused(format!("the mock's TLS {what} is invalid: {error}"), error)
        }
        let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| invalid("certificate", e))?;
        if chain.is_empty() {
            return Err(Error::config(
                "the mock's TLS certificate PEM holds no certificate",
            ));
        }
        let key =
            PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| invalid("key", e))?;
        let signing =
            rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| invalid("key", e))?;
        Ok(Self {
            key: Arc::new(CertifiedKey::new(chain, signing)),
        })
    }

    /// [`from_pem`](Self::from_pem) from two files.
    pub fn from_files(chain_path: &str, key_path: &str) -> Result<Self> {
        let read = |path: &str| {
            std::fs::read_to_string(path).map_err(|error| Error::file("read", path, error))
        };
        Self::from_pem(&read(chain_path)?, &read(key_path)?)
    }

    fn acceptor(&self) -> Result<TlsAcceptor> {
        let mut config = rustls::ServerConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| {
                Error::config_caused(format!("mock TLS setup failed: {error}"), error)
            })?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(FixedCertificate(Arc::clone(&self.key))));
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Always the same certificate, without rustls' key/certificate consistency check (which
/// parses the leaf with webpki and so refuses v1 leaves).
#[derive(Debug)]
struct FixedCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

/// How long a client may take to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts TCP connections, runs the TLS handshake for each, and yields the ready streams.
/// Failed handshakes (wrong CA on the client side, plaintext clients) are logged and dropped.
pub(crate) fn accept(
    listener: TcpListener,
    tls: &MockTls,
) -> Result<(mpsc::Receiver<io::Result<TlsIo>>, JoinHandle<()>)> {
    let acceptor = tls.acceptor()?;
    let (ready_tx, ready_rx) = mpsc::channel(16);
    let task = tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "the mock cannot accept connections");
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let ready_tx = ready_tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = ready_tx.send(Ok(TlsIo(stream))).await;
                    }
                    Ok(Err(error)) => {
                        tracing::debug!(%peer, %error, "mock TLS handshake failed")
                    }
                    Err(_) => tracing::debug!(%peer, "mock TLS handshake timed out"),
                }
            });
        }
    });
    Ok((ready_rx, task))
}

/// A server-side TLS stream tonic can serve.
pub(crate) struct TlsIo(tokio_rustls::server::TlsStream<TcpStream>);

impl tonic::transport::server::Connected for TlsIo {
    type ConnectInfo = Option<std::net::SocketAddr>;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.get_ref().0.peer_addr().ok()
    }
}

impl AsyncRead for TlsIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

// The client's TLS against the mock's, here rather than in `tls/`: the mock stands above the
// client's modules and may use them, not the other way round.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rustls::pki_types::ServerName;

    use super::MockTls;
    use crate::mock::MockPuppetService;
    use crate::tls::{client_config_with_versions, speaks_tls};

    /// Node servers may settle on TLS 1.2, where the handshake signature of a v1 leaf takes the
    /// other verification path.
    #[tokio::test]
    async fn both_tls_versions_verify_the_stock_v1_leaf() {
        let server = MockPuppetService::builder()
            .tls(MockTls::stock())
            .serve()
            .await
            .unwrap();
        for (version, expected) in [
            (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
            (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
        ] {
            let config = client_config_with_versions(None, "insecure", &[version]).unwrap();
            let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
            let name = ServerName::try_from("insecure").unwrap();
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .unwrap();
            assert_eq!(stream.get_ref().1.protocol_version(), Some(expected));
            assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        }
    }

    #[tokio::test]
    async fn the_probe_tells_a_tls_service_from_a_plaintext_one_and_from_none() {
        let wait = Duration::from_secs(5);
        let tls = MockPuppetService::builder()
            .tls(MockTls::stock())
            .serve()
            .await
            .unwrap();
        assert!(speaks_tls(&tls.endpoint(), wait).await);
        let plain = MockPuppetService::builder().serve().await.unwrap();
        assert!(!speaks_tls(&plain.endpoint(), wait).await);
        let gone = plain.endpoint();
        plain.shutdown().await;
        assert!(!speaks_tls(&gone, wait).await);
    }
}
