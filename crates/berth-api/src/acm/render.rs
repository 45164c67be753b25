//! Certificates as ACM's wire shapes: `CertificateDetail` for Describe, `CertificateSummary`
//! for List. Imported certificates are `IMPORTED`, `CUSTOMER_PROVIDED` and never renewed.

use berth_acm_wire as wire;
use berth_control::acm::certificates::CertificateView;

fn status(view: &CertificateView) -> Option<wire::CertificateStatus> {
    wire::CertificateStatus::parse(view.status)
}

fn non_empty(names: &[String]) -> Option<Vec<String>> {
    (!names.is_empty()).then(|| names.to_vec())
}

pub fn detail(view: &CertificateView) -> wire::CertificateDetail {
    let facts = &view.facts;
    wire::CertificateDetail {
        certificate_arn: Some(view.arn.clone()),
        domain_name: facts.domain_name.clone(),
        subject_alternative_names: non_empty(&facts.subject_alternative_names),
        serial: Some(facts.serial.clone()),
        subject: Some(facts.subject.clone()),
        issuer: Some(facts.issuer.clone()),
        created_at: Some(view.created_at.as_epoch_seconds()),
        imported_at: Some(view.imported_at.as_epoch_seconds()),
        status: status(view),
        not_before: Some(facts.not_before.as_epoch_seconds()),
        not_after: Some(facts.not_after.as_epoch_seconds()),
        key_algorithm: wire::KeyAlgorithm::parse(&facts.key_algorithm),
        signature_algorithm: Some(facts.signature_algorithm.clone()),
        in_use_by: Some(view.in_use_by.clone()),
        r#type: Some(wire::CertificateType::Imported),
        key_usages: Some(
            facts.key_usages.iter().map(|name| wire::KeyUsage { name: wire::KeyUsageName::parse(name) }).collect(),
        ),
        extended_key_usages: Some(
            facts
                .extended_key_usages
                .iter()
                .map(|usage| wire::ExtendedKeyUsage {
                    name: wire::ExtendedKeyUsageName::parse(&usage.name),
                    oid: Some(usage.oid.clone()),
                })
                .collect(),
        ),
        renewal_eligibility: Some(wire::RenewalEligibility::Ineligible),
        certificate_key_pair_origin: Some(wire::CertificateKeyPairOrigin::CustomerProvided),
        ..Default::default()
    }
}

pub fn summary(view: &CertificateView) -> wire::CertificateSummary {
    let facts = &view.facts;
    wire::CertificateSummary {
        certificate_arn: Some(view.arn.clone()),
        domain_name: facts.domain_name.clone(),
        subject_alternative_name_summaries: non_empty(&facts.subject_alternative_names),
        has_additional_subject_alternative_names: Some(false),
        status: status(view),
        r#type: Some(wire::CertificateType::Imported),
        key_algorithm: wire::KeyAlgorithm::parse(&facts.key_algorithm),
        key_usages: Some(facts.key_usages.iter().filter_map(|name| wire::KeyUsageName::parse(name)).collect()),
        extended_key_usages: Some(
            facts
                .extended_key_usages
                .iter()
                .filter_map(|usage| wire::ExtendedKeyUsageName::parse(&usage.name))
                .collect(),
        ),
        in_use: Some(!view.in_use_by.is_empty()),
        renewal_eligibility: Some(wire::RenewalEligibility::Ineligible),
        not_before: Some(facts.not_before.as_epoch_seconds()),
        not_after: Some(facts.not_after.as_epoch_seconds()),
        created_at: Some(view.created_at.as_epoch_seconds()),
        imported_at: Some(view.imported_at.as_epoch_seconds()),
        certificate_key_pair_origin: Some(wire::CertificateKeyPairOrigin::CustomerProvided),
        ..Default::default()
    }
}
