//! TLS as the official client does it: on by default, the public Wechaty root CA trusted unless
//! another CA is configured, the server name taken from the token, and stock gateways' v1
//! certificates accepted through our own check (`verifier.rs`).
//!
//! tonic's own TLS takes no custom verifier, so the crate brings its own connector: TCP, then a
//! tokio-rustls handshake (ALPN `h2`, which Node's HTTP/2 server requires), handed to tonic as
//! the IO of the channel.

mod connector;
mod verifier;
pub(crate) mod x509;

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

pub(crate) use connector::{TlsConnector, TlsFailure};

use crate::config::ENV_TLS_CA_CERT;
use crate::error::{Error, Result};

/// The public Wechaty community root CA that official clients trust by default
/// (`wechaty-puppet-service` `src/auth/ca.ts`; SHA-256 `8D:69:5F:55:…:4C:2B`).
pub const WECHATY_ROOT_CA_PEM: &str = include_str!("../../certs/wechaty-root-ca.pem");

pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the CA setting: PEM text (when it starts with `-----BEGIN`, after turning literal `\n`
/// into newlines, as the official client does) or a path to a PEM file.
pub(crate) fn load_ca(pem_or_path: &str) -> Result<Vec<CertificateDer<'static>>> {
    let trimmed = pem_or_path.trim();
    let pem = if trimmed.starts_with("-----BEGIN") {
        trimmed.replace("\\n", "\n")
    } else {
        std::fs::read_to_string(trimmed).map_err(|error| {
            Error::Config(format!(
                "{ENV_TLS_CA_CERT} (or --tls-ca-cert) is neither PEM text nor a readable file \
                 ({trimmed:?}: {error})"
            ))
        })?
    };
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|error| {
            Error::Config(format!(
                "{ENV_TLS_CA_CERT} (or --tls-ca-cert) holds an invalid PEM certificate: {error}"
            ))
        })?;
    if certificates.is_empty() {
        return Err(Error::Config(format!(
            "{ENV_TLS_CA_CERT} (or --tls-ca-cert) holds no PEM certificate"
        )));
    }
    Ok(certificates)
}

/// A client configuration trusting `roots` (default: the Wechaty root CA) and expecting
/// `server_name` in the certificate.
pub(crate) fn client_config(
    roots: Option<Vec<CertificateDer<'static>>>,
    server_name: &str,
) -> Result<Arc<ClientConfig>> {
    client_config_with_versions(roots, server_name, rustls::DEFAULT_VERSIONS)
}

fn client_config_with_versions(
    roots: Option<Vec<CertificateDer<'static>>>,
    server_name: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Arc<ClientConfig>> {
    let roots = match roots {
        Some(roots) => roots,
        None => load_ca(WECHATY_ROOT_CA_PEM)?,
    };
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(roots.iter().cloned());
    if added == 0 {
        return Err(Error::Config(format!(
            "no usable CA certificate in {ENV_TLS_CA_CERT} (or --tls-ca-cert)"
        )));
    }
    let provider = provider();
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(store),
        provider.clone(),
    )
    .build()
    .map_err(|error| Error::Config(format!("cannot use the CA certificates: {error}")))?;
    let verifier = verifier::WechatyVerifier::new(
        webpki,
        roots,
        server_name,
        provider.signature_verification_algorithms,
    );
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|error| Error::Config(format!("TLS setup failed: {error}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(all(test, feature = "mock"))]
mod tests {
    use super::*;
    use crate::mock::{MockPuppetService, MockTls};
    use rustls::pki_types::ServerName;

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
}
