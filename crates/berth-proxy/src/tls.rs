//! TLS on both sides. Listeners: one rustls `ServerConfig` per HTTPS listener whose resolver
//! picks the certificate by SNI — a certificate naming the server name exactly, then one that
//! covers it by wildcard, else the listener's default (its first). Targets: TLS without
//! certificate verification, as ALB does not verify targets. Only the ring provider is used.

use berth_proxy_protocol::Certificate;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("certificate {arn}: no certificate in its PEM chain")]
    NoCertificate { arn: String },
    #[error("certificate {arn}: unreadable PEM: {message}")]
    Pem { arn: String, message: String },
    #[error("certificate {arn}: unusable private key: {message}")]
    Key { arn: String, message: String },
    #[error("listener certificate {arn} is not in the document")]
    Missing { arn: String },
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses one certificate (chain and key) into what rustls serves.
pub fn certified_key(certificate: &Certificate) -> Result<Arc<CertifiedKey>, CertificateError> {
    let arn = || certificate.certificate_arn.clone();
    let chain = CertificateDer::pem_slice_iter(certificate.certificate_chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| CertificateError::Pem { arn: arn(), message: error.to_string() })?;
    if chain.is_empty() {
        return Err(CertificateError::NoCertificate { arn: arn() });
    }
    // Never put the key's text in an error: the message says only what went wrong.
    let key = PrivateKeyDer::from_pem_slice(certificate.private_key_pem.as_bytes())
        .map_err(|_| CertificateError::Key { arn: arn(), message: "no readable private key in its PEM".into() })?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|error| CertificateError::Key { arn: arn(), message: error.to_string() })?;
    Ok(Arc::new(CertifiedKey::new(chain, signing_key)))
}

/// Chooses among a listener's certificates by the client's server name.
#[derive(Debug)]
struct SniResolver {
    /// The default first.
    certificates: Vec<Arc<CertifiedKey>>,
}

/// A label no real certificate names: a certificate valid for it as well as for the requested
/// name covers that name by wildcard, not exactly. (webpki answers only "valid or not", so this
/// is how exact names are preferred without parsing certificates ourselves.)
const WILDCARD_PROBE_LABEL: &str = "berth-sni-wildcard-probe";

fn valid_for(certificate: &CertifiedKey, name: &ServerName<'_>) -> bool {
    let Some(leaf) = certificate.cert.first() else { return false };
    let Ok(end_entity) = webpki::EndEntityCert::try_from(leaf) else { return false };
    end_entity.verify_is_valid_for_subject_name(name).is_ok()
}

impl SniResolver {
    fn pick(&self, server_name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let default = self.certificates.first().cloned();
        let Some(server_name) = server_name else { return default };
        let Ok(name) = ServerName::try_from(server_name.to_ascii_lowercase()) else { return default };
        let probe = server_name
            .split_once('.')
            .and_then(|(_, parent)| ServerName::try_from(format!("{WILDCARD_PROBE_LABEL}.{parent}")).ok());
        let covering: Vec<&Arc<CertifiedKey>> =
            self.certificates.iter().filter(|certificate| valid_for(certificate, &name)).collect();
        let exact = covering
            .iter()
            .find(|certificate| probe.as_ref().is_none_or(|probe| !valid_for(certificate, probe)))
            .copied();
        exact.or(covering.first().copied()).cloned().or(default)
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.pick(client_hello.server_name())
    }
}

/// The server side of one HTTPS listener.
pub fn server_config(certificates: Vec<Arc<CertifiedKey>>, http2: bool) -> Result<Arc<rustls::ServerConfig>, String> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SniResolver { certificates }));
    config.alpn_protocols = if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(Arc::new(config))
}

/// Accepts any target certificate (ALB does not verify targets); signatures are still checked
/// so that the handshake itself is sound.
#[derive(Debug)]
struct AcceptAnyTargetCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyTargetCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The client side towards HTTPS targets.
pub fn target_client_config() -> rustls::ClientConfig {
    let provider = provider();
    rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyTargetCertificate(provider)))
        .with_no_client_auth()
}
