//! ImportCertificate (new and re-import), DescribeCertificate, ListCertificates,
//! GetCertificate and DeleteCertificate. What leaves here for the API is a
//! [`CertificateView`] (no PEM, no key) or, for GetCertificate, the public PEM texts.

use super::pem::ImportedMaterial;
use super::records::{CertificateFacts, CertificateRecord};
use super::{AcmChange, AcmError, AcmErrorKind};
use crate::error::ControlResult;
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::{ArnContext, Tag, Timestamp};

/// A certificate as Describe and List show it.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateView {
    pub arn: String,
    pub facts: CertificateFacts,
    pub status: &'static str,
    pub created_at: Timestamp,
    pub imported_at: Timestamp,
    /// The load balancers whose listeners use it.
    pub in_use_by: Vec<String>,
}

/// ListCertificates' filters; an empty list does not filter.
#[derive(Debug, Clone, Default)]
pub struct CertificateFilter {
    pub statuses: Vec<String>,
    /// ACM lists only `RSA_1024` and `RSA_2048` certificates unless key types are named.
    pub key_types: Vec<String>,
    pub key_usages: Vec<String>,
    pub extended_key_usages: Vec<String>,
}

/// The key types ListCertificates shows when none are named (ACM's documented default).
pub const DEFAULT_LISTED_KEY_TYPES: [&str; 2] = ["RSA_1024", "RSA_2048"];

pub fn certificate_arn(context: &ArnContext, id: &str) -> String {
    format!("arn:aws:acm:{}:{}:certificate/{id}", context.region, context.account)
}

/// Checks that `arn` is shaped as an ACM certificate ARN (`InvalidArnException` if not).
pub fn check_arn(arn: &str) -> Result<(), AcmError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "acm"
        && !parts[4].is_empty()
        && parts[4].bytes().all(|byte| byte.is_ascii_digit())
        && parts[5].strip_prefix("certificate/").is_some_and(|id| !id.is_empty() && !id.contains('/'));
    if valid {
        Ok(())
    } else {
        Err(AcmError::new(AcmErrorKind::InvalidArn, format!("The ARN '{arn}' is not a valid ACM certificate ARN")))
    }
}

pub(crate) fn certificate<'a>(state: &'a State, arn: &str) -> Result<&'a CertificateRecord, AcmError> {
    check_arn(arn)?;
    state.acm.certificates.get(arn).ok_or_else(|| {
        AcmError::new(AcmErrorKind::ResourceNotFound, format!("Could not find certificate with arn {arn}"))
    })
}

/// The load balancers with a listener that serves the certificate, sorted.
pub(crate) fn in_use_by(state: &State, arn: &str) -> Vec<String> {
    let mut users: Vec<String> = state
        .elb
        .listeners
        .values()
        .filter(|listener| {
            listener.default_certificate.as_deref() == Some(arn) || listener.extra_certificates.iter().any(|c| c == arn)
        })
        .map(|listener| listener.load_balancer_arn.clone())
        .collect();
    users.sort();
    users.dedup();
    users
}

fn view(state: &State, record: &CertificateRecord, now: Timestamp) -> CertificateView {
    CertificateView {
        arn: record.arn.clone(),
        facts: record.facts.clone(),
        status: record.status(now),
        created_at: record.created_at,
        imported_at: record.imported_at,
        in_use_by: in_use_by(state, &record.arn),
    }
}

fn matches(filter: &CertificateFilter, view: &CertificateView) -> bool {
    let listed = |wanted: &[String], value: &str| wanted.is_empty() || wanted.iter().any(|w| w == value);
    let key_types_match = if filter.key_types.is_empty() {
        DEFAULT_LISTED_KEY_TYPES.contains(&view.facts.key_algorithm.as_str())
    } else {
        listed(&filter.key_types, &view.facts.key_algorithm)
    };
    let any_of = |wanted: &[String], have: Vec<&str>| {
        wanted.is_empty() || have.iter().any(|value| wanted.iter().any(|w| w == value || w == "ANY"))
    };
    listed(&filter.statuses, view.status)
        && key_types_match
        && any_of(&filter.key_usages, view.facts.key_usages.iter().map(String::as_str).collect())
        && any_of(&filter.extended_key_usages, view.facts.extended_key_usages.iter().map(|u| u.name.as_str()).collect())
}

impl ControlPlane {
    /// Imports a new certificate (`arn: None`) or replaces an imported one's certificate and key
    /// in place (its ARN, creation time and tags stay; listeners serve the new one). Answers
    /// the ARN.
    pub async fn import_certificate(
        &self,
        arn: Option<String>,
        material: ImportedMaterial,
        tags: Vec<Tag>,
    ) -> ControlResult<String> {
        let context = self.arn_context().clone();
        self.mutate(move |state| {
            let now = Timestamp::now();
            let record = match arn {
                Some(arn) => {
                    let existing = certificate(state, &arn)?;
                    if !tags.is_empty() {
                        return Err(AcmError::validation("You cannot apply tags when reimporting a certificate").into());
                    }
                    CertificateRecord {
                        facts: material.facts,
                        imported_at: now,
                        certificate_pem: material.certificate_pem,
                        chain_pem: material.chain_pem,
                        private_key: material.private_key,
                        ..existing.clone()
                    }
                }
                None => {
                    super::tags::check_tags(&tags, &[])?;
                    CertificateRecord {
                        arn: certificate_arn(&context, &uuid::Uuid::new_v4().to_string()),
                        facts: material.facts,
                        created_at: now,
                        imported_at: now,
                        certificate_pem: material.certificate_pem,
                        chain_pem: material.chain_pem,
                        private_key: material.private_key,
                        tags,
                    }
                }
            };
            let arn = record.arn.clone();
            Ok((vec![Change::Acm(AcmChange::PutCertificate(Box::new(record)))], arn))
        })
        .await
    }

    pub fn describe_certificate(&self, arn: &str) -> ControlResult<CertificateView> {
        let state = self.read();
        let record = certificate(&state, arn)?;
        Ok(view(&state, record, Timestamp::now()))
    }

    /// The certificates that pass `filter`, oldest first (ARN order among equals).
    pub fn list_certificates(&self, filter: &CertificateFilter) -> Vec<CertificateView> {
        let state = self.read();
        let now = Timestamp::now();
        let mut views: Vec<CertificateView> = state
            .acm
            .certificates
            .values()
            .map(|record| view(&state, record, now))
            .filter(|view| matches(filter, view))
            .collect();
        views.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.arn.cmp(&b.arn)));
        views
    }

    /// GetCertificate: the certificate and its chain, in PEM. Never the key.
    pub fn get_certificate(&self, arn: &str) -> ControlResult<(String, Option<String>)> {
        let state = self.read();
        let record = certificate(&state, arn)?;
        Ok((record.certificate_pem.clone(), record.chain_pem.clone()))
    }

    /// Deletes a certificate no listener uses (ResourceInUseException otherwise).
    pub async fn delete_certificate(&self, arn: &str) -> ControlResult<()> {
        let context = self.arn_context().clone();
        self.mutate(|state| {
            certificate(state, arn)?;
            let users = in_use_by(state, arn);
            if !users.is_empty() {
                return Err(AcmError::new(
                    AcmErrorKind::ResourceInUse,
                    format!("Certificate {arn} in account {} is in use by {}", context.account, users.join(", ")),
                )
                .into());
            }
            Ok((vec![Change::Acm(AcmChange::DeleteCertificate(arn.to_string()))], ()))
        })
        .await
    }
}
