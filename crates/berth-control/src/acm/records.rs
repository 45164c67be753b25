//! The stored certificate: what DescribeCertificate shows (read from the certificate once, at
//! import), the PEM texts, and the private key behind a type that cannot be printed.

use berth_types::{Tag, Timestamp};
use serde::{Deserialize, Serialize};

/// A private key in PEM. Its `Debug` and `Display` print `<redacted>`; the text is reached
/// only through [`PrivateKeyPem::expose`], which the proxy document alone calls.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrivateKeyPem(String);

impl PrivateKeyPem {
    pub fn new(pem: String) -> Self {
        PrivateKeyPem(pem)
    }

    /// The key's PEM text, for the proxy that serves it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PrivateKeyPem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("PrivateKeyPem(<redacted>)")
    }
}

impl std::fmt::Display for PrivateKeyPem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("<redacted>")
    }
}

/// One extended key usage: ACM's name for it (or `CUSTOM`) and its OID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendedKeyUsage {
    pub name: String,
    pub oid: String,
}

/// What an imported certificate says about itself, as ACM shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateFacts {
    /// The subject's common name, else the first DNS name (`None` when it names neither).
    pub domain_name: Option<String>,
    /// The common name and then the DNS names of the subjectAltName extension, without repeats.
    pub subject_alternative_names: Vec<String>,
    /// Colon-separated lowercase hex, as ACM writes it.
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// ACM's `KeyAlgorithm` (`RSA_2048`, `EC_prime256v1`, …).
    pub key_algorithm: String,
    /// ACM's form, e.g. `SHA256WITHRSA`.
    pub signature_algorithm: String,
    /// ACM's `KeyUsageName`s.
    pub key_usages: Vec<String>,
    pub extended_key_usages: Vec<ExtendedKeyUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRecord {
    pub arn: String,
    pub facts: CertificateFacts,
    pub created_at: Timestamp,
    /// Moves on with every re-import.
    pub imported_at: Timestamp,
    /// The leaf, in PEM.
    pub certificate_pem: String,
    /// The intermediates (and maybe the root), in PEM, as imported.
    pub chain_pem: Option<String>,
    pub private_key: PrivateKeyPem,
    pub tags: Vec<Tag>,
}

impl CertificateRecord {
    /// ACM's `Status` of an imported certificate: `ISSUED` until its `NotAfter`, then `EXPIRED`.
    pub fn status(&self, now: Timestamp) -> &'static str {
        if now > self.facts.not_after {
            "EXPIRED"
        } else {
            "ISSUED"
        }
    }

    /// The leaf and then its chain, as a TLS server sends them.
    pub fn full_chain_pem(&self) -> String {
        let mut pem = self.certificate_pem.trim_end().to_string();
        pem.push('\n');
        if let Some(chain) = &self.chain_pem {
            pem.push_str(chain.trim_end());
            pem.push('\n');
        }
        pem
    }
}
