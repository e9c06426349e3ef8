//! Server certificate verification that accepts what stock Wechaty gateways present.
//!
//! Standard leaves (v3 with a subjectAltName) go through webpki unchanged. Leaves webpki refuses
//! by design, X.509 v1 or v3 without a subjectAltName, get the check Node applies to them:
//! signed directly by a trusted root, within their validity dates, and a CN equal to the
//! expected server name (ASCII case-insensitive) — and, as webpki for any leaf, not a CA, not
//! restricted to other purposes than a TLS server, no critical extension left unread. Handshake signatures of such leaves are checked
//! with the leaf's public key, since rustls would parse the leaf with webpki again.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, PeerMisbehaved, SignatureScheme};

use super::x509::Certificate;

pub(crate) struct WechatyVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    /// DER of the trusted roots; parsed per handshake (handshakes are rare, roots few).
    roots: Vec<CertificateDer<'static>>,
    expected_name: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl fmt::Debug for WechatyVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatyVerifier")
            .field("roots", &self.roots.len())
            .field("expected_name", &self.expected_name)
            .finish()
    }
}

impl WechatyVerifier {
    pub(crate) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        roots: Vec<CertificateDer<'static>>,
        expected_name: &str,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Self {
        Self {
            webpki,
            roots,
            expected_name: expected_name.to_owned(),
            algorithms,
        }
    }

    fn verify_legacy(&self, leaf: &Certificate<'_>, now: UnixTime) -> Result<(), Error> {
        // What webpki would refuse in any leaf, refused here too: a CA's certificate, one for
        // other purposes than a TLS server, and one with a critical extension not understood.
        if leaf.is_ca || leaf.allows_server_auth == Some(false) {
            return Err(CertificateError::InvalidPurpose.into());
        }
        if leaf.unknown_critical_extension {
            return Err(CertificateError::UnhandledCriticalExtension.into());
        }
        let issuer = self
            .roots
            .iter()
            .filter_map(|root| Certificate::parse(root).ok())
            .find(|root| root.subject == leaf.issuer)
            .ok_or(CertificateError::UnknownIssuer)?;
        let algorithm = self
            .algorithms
            .all
            .iter()
            .find(|algorithm| {
                algorithm.signature_alg_id().as_ref() == leaf.signature_algorithm
                    && algorithm.public_key_alg_id().as_ref() == issuer.public_key_algorithm
            })
            .ok_or_else(|| CertificateError::UnsupportedSignatureAlgorithmContext {
                signature_algorithm_id: leaf.signature_algorithm.to_vec(),
                supported_algorithms: self
                    .algorithms
                    .all
                    .iter()
                    .map(|algorithm| algorithm.signature_alg_id())
                    .collect(),
            })?;
        algorithm
            .verify_signature(issuer.public_key, leaf.signed, leaf.signature)
            .map_err(|_| CertificateError::BadSignature)?;

        let unix = |time: std::time::SystemTime| {
            UnixTime::since_unix_epoch(time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO))
        };
        let (not_before, not_after) = (unix(leaf.not_before), unix(leaf.not_after));
        if now < not_before {
            return Err(CertificateError::NotValidYetContext {
                time: now,
                not_before,
            }
            .into());
        }
        if now > not_after {
            return Err(CertificateError::ExpiredContext {
                time: now,
                not_after,
            }
            .into());
        }
        if !leaf
            .common_names
            .iter()
            .any(|name| name.eq_ignore_ascii_case(&self.expected_name))
        {
            return Err(match ServerName::try_from(self.expected_name.clone()) {
                Ok(expected) => CertificateError::NotValidForNameContext {
                    expected,
                    presented: leaf.common_names.clone(),
                },
                Err(_) => CertificateError::NotValidForName,
            }
            .into());
        }
        Ok(())
    }

    /// Verifies a handshake signature with the legacy leaf's own public key.
    fn verify_with_leaf_key(
        &self,
        message: &[u8],
        leaf: &Certificate<'_>,
        signed: &DigitallySignedStruct,
        tls13: bool,
    ) -> Result<HandshakeSignatureValid, Error> {
        if tls13 && !allowed_in_tls13(signed.scheme) {
            return Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into());
        }
        let candidates = self
            .algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == signed.scheme)
            .map(|(_, algorithms)| *algorithms)
            .ok_or(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)?;
        let verified = candidates
            .iter()
            .filter(|algorithm| algorithm.public_key_alg_id().as_ref() == leaf.public_key_algorithm)
            .any(|algorithm| {
                algorithm
                    .verify_signature(leaf.public_key, message, signed.signature())
                    .is_ok()
            });
        if verified {
            Ok(HandshakeSignatureValid::assertion())
        } else {
            Err(CertificateError::BadSignature.into())
        }
    }
}

/// TLS 1.3 signs handshakes with ECDSA, RSA-PSS or EdDSA only (RFC 8446 §4.2.3).
fn allowed_in_tls13(scheme: SignatureScheme) -> bool {
    use SignatureScheme::*;
    matches!(
        scheme,
        ECDSA_NISTP256_SHA256
            | ECDSA_NISTP384_SHA384
            | ECDSA_NISTP521_SHA512
            | RSA_PSS_SHA256
            | RSA_PSS_SHA384
            | RSA_PSS_SHA512
            | ED25519
            | ED448
    )
}

/// A leaf webpki refuses by design and we check ourselves.
fn legacy_leaf<'a>(der: &'a CertificateDer<'_>) -> Option<Certificate<'a>> {
    Certificate::parse(der)
        .ok()
        .filter(|leaf| leaf.version == 1 || !leaf.has_subject_alt_name)
}

impl ServerCertVerifier for WechatyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match legacy_leaf(end_entity) {
            Some(leaf) => {
                tracing::debug!(
                    version = leaf.version,
                    "checking a leaf certificate without subjectAltName by its CN"
                );
                self.verify_legacy(&leaf, now)?;
                Ok(ServerCertVerified::assertion())
            }
            None => self.webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        match legacy_leaf(cert) {
            Some(leaf) => self.verify_with_leaf_key(message, &leaf, signed, false),
            None => rustls::crypto::verify_tls12_signature(message, cert, signed, &self.algorithms),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        match legacy_leaf(cert) {
            Some(leaf) => self.verify_with_leaf_key(message, &leaf, signed, true),
            None => rustls::crypto::verify_tls13_signature(message, cert, signed, &self.algorithms),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
