//! Listeners and their certificates.

use super::actions::parse_actions;
use super::render::{self, parse_tags};
use super::{page, required, ElbApiError, ElbResult};
use crate::Api;
use berth_control::elb::listeners::{ListenerChange, NewListener};
use berth_query_wire::elbv2 as wire;

fn port(value: Option<i32>) -> Option<u16> {
    value.and_then(|port| u16::try_from(port).ok())
}

/// The one default certificate a listener takes (CreateListener and ModifyListener accept
/// exactly one).
fn default_certificate(certificates: Option<Vec<wire::Certificate>>) -> ElbResult<Option<String>> {
    match certificates.unwrap_or_default().as_slice() {
        [] => Ok(None),
        [only] => Ok(only.certificate_arn.clone()),
        _ => Err(ElbApiError::validation(
            "A listener takes exactly one default certificate; add more with AddListenerCertificates",
        )),
    }
}

fn refuse_mutual_authentication(value: &Option<wire::MutualAuthenticationAttributes>) -> ElbResult<()> {
    match value.as_ref().and_then(|attributes| attributes.mode.as_deref()) {
        None | Some("off") => Ok(()),
        Some(mode) => {
            Err(ElbApiError::validation(format!("Mutual TLS mode '{mode}' is not supported by this Berth version")))
        }
    }
}

pub async fn create_listener(api: &Api, input: wire::CreateListenerInput) -> ElbResult<wire::CreateListenerOutput> {
    refuse_mutual_authentication(&input.mutual_authentication)?;
    let spec = NewListener {
        load_balancer_arn: required(input.load_balancer_arn, "LoadBalancerArn")?,
        protocol: input.protocol.map(|protocol| protocol.as_str().to_string()),
        port: port(input.port),
        ssl_policy: input.ssl_policy,
        certificate: default_certificate(input.certificates)?,
        default_actions: parse_actions(required(input.default_actions, "DefaultActions")?)?,
        alpn_policy: input.alpn_policy.unwrap_or_default(),
        tags: parse_tags(input.tags)?,
    };
    let record = api.control.create_listener(spec).await?;
    Ok(wire::CreateListenerOutput { listeners: Some(vec![render::listener(&record)]) })
}

pub async fn describe_listeners(
    api: &Api,
    input: wire::DescribeListenersInput,
) -> ElbResult<wire::DescribeListenersOutput> {
    let arns = input.listener_arns.unwrap_or_default();
    if input.load_balancer_arn.is_none() && arns.is_empty() {
        return Err(ElbApiError::validation("You must specify either listener ARNs or a load balancer ARN"));
    }
    let records = api.control.describe_listeners(input.load_balancer_arn.as_deref(), &arns)?;
    let (records, next_marker) = page(records, input.marker.as_deref(), input.page_size)?;
    Ok(wire::DescribeListenersOutput { listeners: Some(records.iter().map(render::listener).collect()), next_marker })
}

pub async fn modify_listener(api: &Api, input: wire::ModifyListenerInput) -> ElbResult<wire::ModifyListenerOutput> {
    refuse_mutual_authentication(&input.mutual_authentication)?;
    let arn = required(input.listener_arn, "ListenerArn")?;
    let change = ListenerChange {
        protocol: input.protocol.map(|protocol| protocol.as_str().to_string()),
        port: port(input.port),
        ssl_policy: input.ssl_policy,
        certificate: default_certificate(input.certificates)?,
        default_actions: input.default_actions.map(parse_actions).transpose()?,
        alpn_policy: input.alpn_policy,
    };
    let record = api.control.modify_listener(&arn, change).await?;
    Ok(wire::ModifyListenerOutput { listeners: Some(vec![render::listener(&record)]) })
}

pub async fn delete_listener(api: &Api, input: wire::DeleteListenerInput) -> ElbResult<wire::DeleteListenerOutput> {
    api.control.delete_listener(&required(input.listener_arn, "ListenerArn")?).await?;
    Ok(wire::DeleteListenerOutput {})
}

fn certificate_arns(certificates: Vec<wire::Certificate>) -> ElbResult<Vec<String>> {
    certificates
        .into_iter()
        .map(|certificate| required(certificate.certificate_arn, "Certificates.member.N.CertificateArn"))
        .collect()
}

fn all_certificates(record: &berth_control::elb::records::ListenerRecord) -> Vec<wire::Certificate> {
    let default = record.default_certificate.iter().map(|arn| (arn, true));
    default
        .chain(record.extra_certificates.iter().map(|arn| (arn, false)))
        .map(|(arn, is_default)| wire::Certificate { certificate_arn: Some(arn.clone()), is_default: Some(is_default) })
        .collect()
}

pub async fn add_listener_certificates(
    api: &Api,
    input: wire::AddListenerCertificatesInput,
) -> ElbResult<wire::AddListenerCertificatesOutput> {
    let arn = required(input.listener_arn, "ListenerArn")?;
    let added = certificate_arns(required(input.certificates, "Certificates")?)?;
    let record = api.control.change_listener_certificates(&arn, added.clone(), vec![]).await?;
    let certificates = all_certificates(&record)
        .into_iter()
        .filter(|certificate| certificate.certificate_arn.as_ref().is_some_and(|arn| added.contains(arn)))
        .collect();
    Ok(wire::AddListenerCertificatesOutput { certificates: Some(certificates) })
}

pub async fn remove_listener_certificates(
    api: &Api,
    input: wire::RemoveListenerCertificatesInput,
) -> ElbResult<wire::RemoveListenerCertificatesOutput> {
    let arn = required(input.listener_arn, "ListenerArn")?;
    let removed = certificate_arns(required(input.certificates, "Certificates")?)?;
    api.control.change_listener_certificates(&arn, vec![], removed).await?;
    Ok(wire::RemoveListenerCertificatesOutput {})
}

pub async fn describe_listener_certificates(
    api: &Api,
    input: wire::DescribeListenerCertificatesInput,
) -> ElbResult<wire::DescribeListenerCertificatesOutput> {
    let arn = required(input.listener_arn, "ListenerArn")?;
    let records = api.control.describe_listeners(None, std::slice::from_ref(&arn))?;
    let certificates = records.first().map(all_certificates).unwrap_or_default();
    let (certificates, next_marker) = page(certificates, input.marker.as_deref(), input.page_size)?;
    Ok(wire::DescribeListenerCertificatesOutput { certificates: Some(certificates), next_marker })
}
