//! TLS as the official client does it: on by default, the public Wechaty root CA trusted unless
//! another CA is configured, the server name taken from the token, and stock gateways' v1
//! certificates accepted through our own check (`verifier.rs`).
//!
//! tonic's own TLS takes no custom verifier, so the crate brings its own connector: TCP, then a
//! tokio-rustls handshake (ALPN `h2`, which Node's HTTP/2 server requires), handed to tonic as
//! the IO of the channel.

mod connector;
mod probe;
mod verifier;
pub(crate) mod x509;

use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

pub(crate) use connector::{TlsConnector, TlsFailure};
pub(crate) use probe::speaks_tls;

use crate::env::ENV_TLS_CA_CERT;
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
            Error::config_caused(
                format!(
                    "{ENV_TLS_CA_CERT} (or `WechatyBuilder::tls_ca_cert`) is neither PEM text \
                     nor a readable file ({trimmed:?}: {error})"
                ),
                error,
            )
        })?
    };
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|error| {
            Error::config_caused(
                format!(
                    "{ENV_TLS_CA_CERT} (or `WechatyBuilder::tls_ca_cert`) holds an invalid PEM \
                     certificate: {error}"
                ),
                error,
            )
        })?;
    if certificates.is_empty() {
        return Err(Error::config(format!(
            "{ENV_TLS_CA_CERT} (or `WechatyBuilder::tls_ca_cert`) holds no PEM certificate"
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

/// [`client_config`] for chosen TLS versions (tests take each in turn).
pub(crate) fn client_config_with_versions(
    roots: Option<Vec<CertificateDer<'static>>>,
    server_name: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Arc<ClientConfig>> {
    let verifier = server_verifier(roots, server_name)?;
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|error| Error::config_caused(format!("TLS setup failed: {error}"), error))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// The verifier of [`client_config`]: trusts `roots` (default: the Wechaty root CA), expects
/// `server_name`.
pub(crate) fn server_verifier(
    roots: Option<Vec<CertificateDer<'static>>>,
    server_name: &str,
) -> Result<Arc<dyn ServerCertVerifier>> {
    let roots = match roots {
        Some(roots) => roots,
        None => load_ca(WECHATY_ROOT_CA_PEM)?,
    };
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(roots.iter().cloned());
    if added == 0 {
        return Err(Error::config(format!(
            "no usable CA certificate in {ENV_TLS_CA_CERT} (or `WechatyBuilder::tls_ca_cert`)"
        )));
    }
    let provider = provider();
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(store),
        provider.clone(),
    )
    .build()
    .map_err(|error| {
        Error::config_caused(format!("cannot use the CA certificates: {error}"), error)
    })?;
    Ok(Arc::new(verifier::WechatyVerifier::new(
        webpki,
        roots,
        server_name,
        provider.signature_verification_algorithms,
    )))
}
