//! Load balancers, their attributes, and tags over every ELBv2 resource.

use super::render::{self, parse_tags};
use super::{page, required, ElbApiError, ElbResult};
use crate::Api;
use berth_control::elb::load_balancers::NewLoadBalancer;
use berth_query_wire::elbv2 as wire;

pub async fn create_load_balancer(
    api: &Api,
    input: wire::CreateLoadBalancerInput,
) -> ElbResult<wire::CreateLoadBalancerOutput> {
    let mut subnets = input.subnets.unwrap_or_default();
    subnets.extend(input.subnet_mappings.unwrap_or_default().into_iter().filter_map(|mapping| mapping.subnet_id));
    let spec = NewLoadBalancer {
        name: required(input.name, "Name")?,
        load_balancer_type: input.r#type.map(|kind| kind.as_str().to_string()),
        scheme: input.scheme.map(|scheme| scheme.as_str().to_string()),
        ip_address_type: input.ip_address_type.map(|kind| kind.as_str().to_string()),
        subnets,
        security_groups: input.security_groups.unwrap_or_default(),
        tags: parse_tags(input.tags)?,
    };
    let record = api.control.create_load_balancer(spec).await?;
    Ok(wire::CreateLoadBalancerOutput { load_balancers: Some(vec![render::load_balancer(&record)]) })
}

pub async fn describe_load_balancers(
    api: &Api,
    input: wire::DescribeLoadBalancersInput,
) -> ElbResult<wire::DescribeLoadBalancersOutput> {
    let records = api
        .control
        .describe_load_balancers(&input.load_balancer_arns.unwrap_or_default(), &input.names.unwrap_or_default())?;
    let (records, next_marker) = page(records, input.marker.as_deref(), input.page_size)?;
    Ok(wire::DescribeLoadBalancersOutput {
        load_balancers: Some(records.iter().map(render::load_balancer).collect()),
        next_marker,
    })
}

pub async fn delete_load_balancer(
    api: &Api,
    input: wire::DeleteLoadBalancerInput,
) -> ElbResult<wire::DeleteLoadBalancerOutput> {
    api.control.delete_load_balancer(&required(input.load_balancer_arn, "LoadBalancerArn")?).await?;
    Ok(wire::DeleteLoadBalancerOutput {})
}

fn load_balancer_attributes(
    attributes: &std::collections::BTreeMap<String, String>,
) -> Vec<wire::LoadBalancerAttribute> {
    render::attributes(attributes, |key, value| wire::LoadBalancerAttribute { key: Some(key), value: Some(value) })
}

pub async fn describe_load_balancer_attributes(
    api: &Api,
    input: wire::DescribeLoadBalancerAttributesInput,
) -> ElbResult<wire::DescribeLoadBalancerAttributesOutput> {
    let attributes = api.control.load_balancer_attributes(&required(input.load_balancer_arn, "LoadBalancerArn")?)?;
    Ok(wire::DescribeLoadBalancerAttributesOutput { attributes: Some(load_balancer_attributes(&attributes)) })
}

pub async fn modify_load_balancer_attributes(
    api: &Api,
    input: wire::ModifyLoadBalancerAttributesInput,
) -> ElbResult<wire::ModifyLoadBalancerAttributesOutput> {
    let arn = required(input.load_balancer_arn, "LoadBalancerArn")?;
    let pairs = render::attribute_pairs(
        required(input.attributes, "Attributes")?.into_iter().map(|attribute| (attribute.key, attribute.value)),
    )?;
    let attributes = api.control.modify_load_balancer_attributes(&arn, pairs).await?;
    Ok(wire::ModifyLoadBalancerAttributesOutput { attributes: Some(load_balancer_attributes(&attributes)) })
}

pub async fn set_security_groups(
    api: &Api,
    input: wire::SetSecurityGroupsInput,
) -> ElbResult<wire::SetSecurityGroupsOutput> {
    let arn = required(input.load_balancer_arn, "LoadBalancerArn")?;
    let groups =
        api.control.set_load_balancer_security_groups(&arn, required(input.security_groups, "SecurityGroups")?).await?;
    Ok(wire::SetSecurityGroupsOutput { security_group_ids: Some(groups), ..Default::default() })
}

/// ALB's quotas that Berth enforces.
pub async fn describe_account_limits(
    _api: &Api,
    _input: wire::DescribeAccountLimitsInput,
) -> ElbResult<wire::DescribeAccountLimitsOutput> {
    let limits = [
        ("application-load-balancers", "50"),
        ("target-groups", "3000"),
        ("targets-per-application-load-balancer", "1000"),
        ("listeners-per-application-load-balancer", "50"),
        ("rules-per-application-load-balancer", "100"),
        ("certificates-per-application-load-balancer", "25"),
    ];
    Ok(wire::DescribeAccountLimitsOutput {
        limits: Some(
            limits
                .iter()
                .map(|(name, max)| wire::Limit { name: Some(name.to_string()), max: Some(max.to_string()) })
                .collect(),
        ),
        next_marker: None,
    })
}

pub async fn add_tags(api: &Api, input: wire::AddTagsInput) -> ElbResult<wire::AddTagsOutput> {
    let arns = required(input.resource_arns, "ResourceArns")?;
    let tags = parse_tags(Some(required(input.tags, "Tags")?))?;
    api.control.add_elb_tags(arns, tags).await?;
    Ok(wire::AddTagsOutput {})
}

pub async fn remove_tags(api: &Api, input: wire::RemoveTagsInput) -> ElbResult<wire::RemoveTagsOutput> {
    let arns = required(input.resource_arns, "ResourceArns")?;
    api.control.remove_elb_tags(arns, required(input.tag_keys, "TagKeys")?).await?;
    Ok(wire::RemoveTagsOutput {})
}

pub async fn describe_tags(api: &Api, input: wire::DescribeTagsInput) -> ElbResult<wire::DescribeTagsOutput> {
    let arns = required(input.resource_arns, "ResourceArns")?;
    if arns.len() > 20 {
        return Err(ElbApiError::validation("DescribeTags accepts at most 20 resource ARNs"));
    }
    let described = api.control.describe_elb_tags(&arns)?;
    Ok(wire::DescribeTagsOutput {
        tag_descriptions: Some(
            described
                .iter()
                .map(|(arn, tags)| wire::TagDescription {
                    resource_arn: Some(arn.clone()),
                    tags: Some(render::tags(tags)),
                })
                .collect(),
        ),
    })
}
