//! The certificate operations: each turns its request shape into domain values, calls
//! `berth_control::acm` and renders the answer.

use super::{render, required, AcmApiError, AcmResult};
use crate::Api;
use berth_acm_wire as wire;
use berth_control::acm::certificates::CertificateFilter;
use berth_control::acm::pem::read_import;
use berth_control::acm::tags::TagToRemove;
use berth_types::Tag;

/// Operations whose model has no output answer an empty object.
type Empty = serde_json::Map<String, serde_json::Value>;

fn tags_of(tags: Vec<wire::Tag>) -> AcmResult<Vec<Tag>> {
    tags.into_iter()
        .map(|tag| Ok(Tag { key: required(tag.key, "Tags.Key")?, value: tag.value.unwrap_or_default() }))
        .collect()
}

fn wire_tags(tags: Vec<Tag>) -> Vec<wire::Tag> {
    tags.into_iter().map(|tag| wire::Tag { key: Some(tag.key), value: Some(tag.value) }).collect()
}

fn arn(value: Option<String>) -> AcmResult<String> {
    let arn = required(value, "CertificateArn")?;
    berth_control::acm::certificates::check_arn(&arn)?;
    Ok(arn)
}

pub async fn import_certificate(
    api: &Api,
    request: wire::ImportCertificateRequest,
) -> AcmResult<wire::ImportCertificateResponse> {
    let certificate = required(request.certificate, "Certificate")?;
    let private_key = required(request.private_key, "PrivateKey")?;
    let material =
        read_import(&certificate.0, &private_key.0, request.certificate_chain.as_ref().map(|chain| &chain.0[..]))?;
    let existing = request.certificate_arn.map(|value| arn(Some(value))).transpose()?;
    let tags = tags_of(request.tags.unwrap_or_default())?;
    let certificate_arn = api.control.import_certificate(existing, material, tags).await?;
    Ok(wire::ImportCertificateResponse { certificate_arn: Some(certificate_arn) })
}

pub async fn describe_certificate(
    api: &Api,
    request: wire::DescribeCertificateRequest,
) -> AcmResult<wire::DescribeCertificateResponse> {
    let view = api.control.describe_certificate(&arn(request.certificate_arn)?)?;
    Ok(wire::DescribeCertificateResponse { certificate: Some(render::detail(&view)) })
}

/// The wire names of a list of enum values.
fn names<T: std::fmt::Display>(values: Option<Vec<T>>) -> Vec<String> {
    values.unwrap_or_default().iter().map(ToString::to_string).collect()
}

/// ACM's paging: `NextToken` is the index of the next certificate in the listing's order.
pub async fn list_certificates(
    api: &Api,
    request: wire::ListCertificatesRequest,
) -> AcmResult<wire::ListCertificatesResponse> {
    if request.sort_by.is_some() != request.sort_order.is_some() {
        return Err(AcmApiError::validation("SortBy and SortOrder must be specified together"));
    }
    let includes = request.includes.unwrap_or_default();
    let filter = CertificateFilter {
        statuses: names(request.certificate_statuses),
        key_types: names(includes.key_types),
        key_usages: names(includes.key_usage),
        extended_key_usages: names(includes.extended_key_usage),
    };
    let mut views = api.control.list_certificates(&filter);
    // Imported certificates are all CUSTOMER_PROVIDED, none of an Amazon root hierarchy, none
    // managed by CloudFront, none exportable.
    let origins = request.certificate_key_pair_origins.unwrap_or_default();
    if !origins.is_empty() && !origins.contains(&wire::CertificateKeyPairOrigin::CustomerProvided)
        || request.root_hierarchy_types.is_some_and(|types| !types.is_empty())
        || includes.managed_by.is_some()
        || includes.export_option == Some(wire::CertificateExport::Enabled)
    {
        views.clear();
    }
    if request.sort_order == Some(wire::SortOrder::Descending) {
        views.reverse();
    }
    let start: usize = match request.next_token.as_deref() {
        None => 0,
        Some(token) => {
            token.parse().map_err(|_| AcmApiError::validation(format!("NextToken '{token}' is not valid")))?
        }
    };
    let size = request.max_items.unwrap_or(1000).max(1) as usize;
    let end = (start + size).min(views.len());
    let next_token = (end < views.len()).then(|| end.to_string());
    let page = views.iter().skip(start).take(size).map(render::summary).collect();
    Ok(wire::ListCertificatesResponse { certificate_summary_list: Some(page), next_token })
}

pub async fn get_certificate(
    api: &Api,
    request: wire::GetCertificateRequest,
) -> AcmResult<wire::GetCertificateResponse> {
    let (certificate, chain) = api.control.get_certificate(&arn(request.certificate_arn)?)?;
    Ok(wire::GetCertificateResponse { certificate: Some(certificate), certificate_chain: chain })
}

pub async fn delete_certificate(api: &Api, request: wire::DeleteCertificateRequest) -> AcmResult<Empty> {
    api.control.delete_certificate(&arn(request.certificate_arn)?).await?;
    Ok(Empty::new())
}

pub async fn add_tags_to_certificate(api: &Api, request: wire::AddTagsToCertificateRequest) -> AcmResult<Empty> {
    let certificate_arn = arn(request.certificate_arn)?;
    let tags = tags_of(required(request.tags, "Tags")?)?;
    api.control.add_certificate_tags(&certificate_arn, tags).await?;
    Ok(Empty::new())
}

pub async fn remove_tags_from_certificate(
    api: &Api,
    request: wire::RemoveTagsFromCertificateRequest,
) -> AcmResult<Empty> {
    let certificate_arn = arn(request.certificate_arn)?;
    let remove = required(request.tags, "Tags")?
        .into_iter()
        .map(|tag| Ok(TagToRemove { key: required(tag.key, "Tags.Key")?, value: tag.value }))
        .collect::<AcmResult<Vec<_>>>()?;
    api.control.remove_certificate_tags(&certificate_arn, remove).await?;
    Ok(Empty::new())
}

pub async fn list_tags_for_certificate(
    api: &Api,
    request: wire::ListTagsForCertificateRequest,
) -> AcmResult<wire::ListTagsForCertificateResponse> {
    let tags = api.control.certificate_tags(&arn(request.certificate_arn)?)?;
    Ok(wire::ListTagsForCertificateResponse { tags: Some(wire_tags(tags)) })
}
