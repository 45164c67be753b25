//! Listener rules.

use super::actions::{parse_actions, parse_conditions};
use super::render::{self, parse_tags};
use super::{page, required, ElbApiError, ElbResult};
use crate::Api;
use berth_query_wire::elbv2 as wire;

fn refuse_transforms(transforms: &Option<Vec<wire::RuleTransform>>) -> ElbResult<()> {
    match transforms {
        Some(transforms) if !transforms.is_empty() => {
            Err(ElbApiError::validation("Rule transforms are not supported by this Berth version"))
        }
        _ => Ok(()),
    }
}

pub async fn create_rule(api: &Api, input: wire::CreateRuleInput) -> ElbResult<wire::CreateRuleOutput> {
    refuse_transforms(&input.transforms)?;
    let listener_arn = required(input.listener_arn, "ListenerArn")?;
    let priority = required(input.priority, "Priority")? as u32;
    let conditions = parse_conditions(required(input.conditions, "Conditions")?)?;
    let actions = parse_actions(required(input.actions, "Actions")?)?;
    let record = api.control.create_rule(&listener_arn, priority, conditions, actions, parse_tags(input.tags)?).await?;
    let view = berth_control::elb::rules::RuleView {
        arn: record.arn,
        priority: Some(record.priority),
        conditions: record.conditions,
        actions: record.actions,
    };
    Ok(wire::CreateRuleOutput { rules: Some(vec![render::rule(&view)]) })
}

pub async fn describe_rules(api: &Api, input: wire::DescribeRulesInput) -> ElbResult<wire::DescribeRulesOutput> {
    let arns = input.rule_arns.unwrap_or_default();
    if input.listener_arn.is_none() && arns.is_empty() {
        return Err(ElbApiError::validation("You must specify either rule ARNs or a listener ARN"));
    }
    let views = api.control.describe_rules(input.listener_arn.as_deref(), &arns)?;
    let (views, next_marker) = page(views, input.marker.as_deref(), input.page_size)?;
    Ok(wire::DescribeRulesOutput { rules: Some(views.iter().map(render::rule).collect()), next_marker })
}

pub async fn modify_rule(api: &Api, input: wire::ModifyRuleInput) -> ElbResult<wire::ModifyRuleOutput> {
    refuse_transforms(&input.transforms)?;
    let arn = required(input.rule_arn, "RuleArn")?;
    let conditions = input.conditions.map(parse_conditions).transpose()?;
    let actions = input.actions.map(parse_actions).transpose()?;
    let view = api.control.modify_rule(&arn, conditions, actions).await?;
    Ok(wire::ModifyRuleOutput { rules: Some(vec![render::rule(&view)]) })
}

pub async fn delete_rule(api: &Api, input: wire::DeleteRuleInput) -> ElbResult<wire::DeleteRuleOutput> {
    api.control.delete_rule(&required(input.rule_arn, "RuleArn")?).await?;
    Ok(wire::DeleteRuleOutput {})
}

pub async fn set_rule_priorities(
    api: &Api,
    input: wire::SetRulePrioritiesInput,
) -> ElbResult<wire::SetRulePrioritiesOutput> {
    let pairs = required(input.rule_priorities, "RulePriorities")?
        .into_iter()
        .map(|pair| {
            let arn = required(pair.rule_arn, "RulePriorities.member.N.RuleArn")?;
            let priority = required(pair.priority, "RulePriorities.member.N.Priority")?;
            Ok((arn, priority as u32))
        })
        .collect::<ElbResult<Vec<_>>>()?;
    let views = api.control.set_rule_priorities(pairs).await?;
    Ok(wire::SetRulePrioritiesOutput { rules: Some(views.iter().map(render::rule).collect()) })
}
