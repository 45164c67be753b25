//! Reading what ImportCertificate is given: one certificate, its private key and an optional
//! chain, all PEM. The certificate is parsed once, here, into the [`CertificateFacts`] ACM
//! shows; the key must be one the proxy can serve (RSA 2048–4096 bits, EC P-256 or P-384) and
//! must belong to the certificate.
//!
//! Every failure is a ValidationException that names the field at fault (`Certificate`,
//! `PrivateKey`, `CertificateChain`) and never quotes the key.

use super::records::{CertificateFacts, ExtendedKeyUsage, PrivateKeyPem};
use super::AcmError;
use berth_types::Timestamp;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{self as oids, Oid};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

/// What an import brings, checked: the facts, the PEM texts trimmed, and the key.
#[derive(Debug, Clone)]
pub struct ImportedMaterial {
    pub facts: CertificateFacts,
    pub certificate_pem: String,
    pub chain_pem: Option<String>,
    pub private_key: PrivateKeyPem,
}

fn utf8<'a>(field: &str, bytes: &'a [u8]) -> Result<&'a str, AcmError> {
    std::str::from_utf8(bytes).map_err(|_| AcmError::validation(format!("The {field} is not PEM text")))
}

/// The DER certificates of a PEM text: at least one, nothing unreadable.
fn certificates(field: &str, pem: &str) -> Result<Vec<CertificateDer<'static>>, AcmError> {
    let found = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| AcmError::validation(format!("The {field} is not valid PEM: {error}")))?;
    if found.is_empty() {
        return Err(AcmError::validation(format!("The {field} field contains no PEM-encoded certificate")));
    }
    Ok(found)
}

fn parse_der<'a>(field: &str, der: &'a [u8]) -> Result<X509Certificate<'a>, AcmError> {
    match X509Certificate::from_der(der) {
        Ok(([], certificate)) => Ok(certificate),
        Ok(_) => Err(AcmError::validation(format!("The {field} has trailing data after its certificate"))),
        Err(error) => Err(AcmError::validation(format!("The {field} is not a valid X.509 certificate: {error}"))),
    }
}

/// Checks and reads one import. `now` decides nothing here (an expired certificate may be
/// imported; it is then `EXPIRED`).
pub fn read_import(certificate: &[u8], private_key: &[u8], chain: Option<&[u8]>) -> Result<ImportedMaterial, AcmError> {
    let certificate_pem = utf8("certificate", certificate)?;
    let leaf_ders = certificates("certificate", certificate_pem)?;
    if leaf_ders.len() > 1 {
        return Err(AcmError::validation(
            "The certificate field contains more than one certificate. You can specify only one certificate in this field; put the others in CertificateChain",
        ));
    }
    let leaf_der = leaf_ders.into_iter().next().expect("one certificate");
    let leaf = parse_der("certificate", &leaf_der)?;
    let facts = facts(&leaf)?;

    let chain_pem = match chain {
        None => None,
        Some(chain) => {
            let chain_pem = utf8("certificate chain", chain)?;
            for der in certificates("certificate chain", chain_pem)? {
                parse_der("certificate chain", &der)?;
            }
            Some(chain_pem.trim().to_string() + "\n")
        }
    };

    let key_pem = utf8("private key", private_key)?;
    // The key's own parser error could quote it: only say what is wrong.
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| {
        AcmError::validation(
            "The private key is not supported: expected an unencrypted PEM private key (PKCS#8, RSA or EC)",
        )
    })?;
    let provider = rustls::crypto::ring::default_provider();
    let signing_key = provider.key_provider.load_private_key(key).map_err(|_| {
        AcmError::validation(format!(
            "The private key is not supported: Berth serves RSA keys of 2048 to 4096 bits and EC P-256 or P-384 keys (the certificate's key is {})",
            facts.key_algorithm
        ))
    })?;
    CertifiedKey::new(vec![leaf_der.clone()], signing_key)
        .keys_match()
        .map_err(|_| AcmError::validation("The private key does not match the public key in the certificate"))?;

    Ok(ImportedMaterial {
        facts,
        certificate_pem: certificate_pem.trim().to_string() + "\n",
        chain_pem,
        private_key: PrivateKeyPem::new(key_pem.trim().to_string() + "\n"),
    })
}

fn first_text<'a>(values: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>) -> Option<String> {
    values.filter_map(|value| value.as_str().ok()).map(str::to_string).next()
}

/// The issuer as ACM names it: its organisation, else its common name, else the whole name.
fn issuer_name(name: &X509Name<'_>) -> String {
    first_text(name.iter_organization())
        .or_else(|| first_text(name.iter_common_name()))
        .unwrap_or_else(|| name.to_string())
}

fn facts(certificate: &X509Certificate<'_>) -> Result<CertificateFacts, AcmError> {
    let common_name = first_text(certificate.subject().iter_common_name());
    let dns_names: Vec<String> = match certificate.subject_alternative_name() {
        Ok(Some(extension)) => extension
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some(dns.to_string()),
                _ => None,
            })
            .collect(),
        Ok(None) => vec![],
        Err(error) => {
            return Err(AcmError::validation(format!("The certificate's subjectAltName is not valid: {error}")))
        }
    };
    let mut subject_alternative_names: Vec<String> = Vec::new();
    for name in common_name.iter().chain(&dns_names) {
        if !subject_alternative_names.contains(name) {
            subject_alternative_names.push(name.clone());
        }
    }
    let validity = certificate.validity();
    Ok(CertificateFacts {
        domain_name: common_name.or_else(|| dns_names.first().cloned()),
        subject_alternative_names,
        serial: certificate.raw_serial_as_string(),
        subject: certificate.subject().to_string(),
        issuer: issuer_name(certificate.issuer()),
        not_before: Timestamp(validity.not_before.timestamp() * 1000),
        not_after: Timestamp(validity.not_after.timestamp() * 1000),
        key_algorithm: key_algorithm(certificate)?,
        signature_algorithm: signature_algorithm(&certificate.signature_algorithm.algorithm),
        key_usages: key_usages(certificate),
        extended_key_usages: extended_key_usages(certificate),
    })
}

/// The number of bits of an unsigned big-endian integer.
fn bit_length(magnitude: &[u8]) -> usize {
    let significant: &[u8] = match magnitude.iter().position(|byte| *byte != 0) {
        Some(start) => &magnitude[start..],
        None => return 0,
    };
    significant.len() * 8 - significant[0].leading_zeros() as usize
}

/// ACM's `KeyAlgorithm` of the certificate's public key; ACM refuses others.
fn key_algorithm(certificate: &X509Certificate<'_>) -> Result<String, AcmError> {
    use x509_parser::public_key::PublicKey;
    let spki = certificate.public_key();
    let unsupported = |what: &str| {
        AcmError::validation(format!(
            "The certificate's key algorithm is not supported ({what}): ACM imports RSA (1024 to 4096 bits) and EC P-256, P-384 or P-521 keys"
        ))
    };
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => match bit_length(rsa.modulus) {
            bits @ (1024 | 2048 | 3072 | 4096) => Ok(format!("RSA_{bits}")),
            bits => Err(unsupported(&format!("RSA with {bits} bits"))),
        },
        Ok(PublicKey::EC(_)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|parameters| parameters.as_oid().ok());
            match curve {
                Some(oid) if oid == oids::OID_EC_P256 => Ok("EC_prime256v1".to_string()),
                Some(oid) if oid == oids::OID_NIST_EC_P384 => Ok("EC_secp384r1".to_string()),
                Some(oid) if oid == oids::OID_NIST_EC_P521 => Ok("EC_secp521r1".to_string()),
                Some(oid) => Err(unsupported(&format!("EC curve {oid}"))),
                None => Err(unsupported("EC without a named curve")),
            }
        }
        Ok(_) => Err(unsupported(&spki.algorithm.algorithm.to_id_string())),
        Err(error) => Err(AcmError::validation(format!("The certificate's public key is not readable: {error}"))),
    }
}

/// ACM's spelling of the signature algorithm (`SHA256WITHRSA`, `SHA384WITHECDSA`, …).
fn signature_algorithm(oid: &Oid<'_>) -> String {
    let known: [(&Oid<'static>, &str); 10] = [
        (&oids::OID_PKCS1_SHA1WITHRSA, "SHA1WITHRSA"),
        (&oids::OID_PKCS1_SHA224WITHRSA, "SHA224WITHRSA"),
        (&oids::OID_PKCS1_SHA256WITHRSA, "SHA256WITHRSA"),
        (&oids::OID_PKCS1_SHA384WITHRSA, "SHA384WITHRSA"),
        (&oids::OID_PKCS1_SHA512WITHRSA, "SHA512WITHRSA"),
        (&oids::OID_PKCS1_RSASSAPSS, "RSASSA-PSS"),
        (&oids::OID_SIG_ECDSA_WITH_SHA224, "SHA224WITHECDSA"),
        (&oids::OID_SIG_ECDSA_WITH_SHA256, "SHA256WITHECDSA"),
        (&oids::OID_SIG_ECDSA_WITH_SHA384, "SHA384WITHECDSA"),
        (&oids::OID_SIG_ECDSA_WITH_SHA512, "SHA512WITHECDSA"),
    ];
    known
        .iter()
        .find(|(known, _)| *known == oid)
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| oid.to_id_string())
}

fn key_usages(certificate: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(extension)) = certificate.key_usage() else { return vec![] };
    let usage = extension.value;
    [
        (usage.digital_signature(), "DIGITAL_SIGNATURE"),
        (usage.non_repudiation(), "NON_REPUDIATION"),
        (usage.key_encipherment(), "KEY_ENCIPHERMENT"),
        (usage.data_encipherment(), "DATA_ENCIPHERMENT"),
        (usage.key_agreement(), "KEY_AGREEMENT"),
        (usage.key_cert_sign(), "CERTIFICATE_SIGNING"),
        (usage.crl_sign(), "CRL_SIGNING"),
        (usage.encipher_only(), "ENCIPHER_ONLY"),
        (usage.decipher_only(), "DECIPHER_ONLY"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| name.to_string())
    .collect()
}

fn extended_key_usages(certificate: &X509Certificate<'_>) -> Vec<ExtendedKeyUsage> {
    let Ok(Some(extension)) = certificate.extended_key_usage() else { return vec![] };
    let usage = extension.value;
    let usage_of = |name: &str, oid: &str| ExtendedKeyUsage { name: name.to_string(), oid: oid.to_string() };
    let mut usages: Vec<ExtendedKeyUsage> = [
        (usage.any, "ANY", "2.5.29.37.0"),
        (usage.server_auth, "TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1"),
        (usage.client_auth, "TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2"),
        (usage.code_signing, "CODE_SIGNING", "1.3.6.1.5.5.7.3.3"),
        (usage.email_protection, "EMAIL_PROTECTION", "1.3.6.1.5.5.7.3.4"),
        (usage.time_stamping, "TIME_STAMPING", "1.3.6.1.5.5.7.3.8"),
        (usage.ocsp_signing, "OCSP_SIGNING", "1.3.6.1.5.5.7.3.9"),
    ]
    .into_iter()
    .filter(|(set, _, _)| *set)
    .map(|(_, name, oid)| usage_of(name, oid))
    .collect();
    usages.extend(usage.other.iter().map(|oid| usage_of("CUSTOM", &oid.to_id_string())));
    usages
}
