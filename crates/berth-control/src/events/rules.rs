//! The rule and target operations: PutRule, DescribeRule, ListRules, DeleteRule,
//! Enable/DisableRule, PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget,
//! TestEventPattern and the tags of rules.

use super::records::{RuleRecord, TargetRecord};
use super::{EventsChange, EventsError, EventsErrorKind, DEFAULT_BUS};
use crate::state::{Change, State};
use crate::{ControlPlane, ControlResult};
use berth_event_pattern::Pattern;
use berth_types::{Tag, Timestamp};

/// EventBridge's quota: targets per rule.
pub const MAX_TARGETS_PER_RULE: usize = 5;
/// EventBridge's quota: tags per resource.
const MAX_TAGS: usize = 50;

/// PutRule's members.
#[derive(Debug, Clone, Default)]
pub struct NewRule {
    pub name: String,
    pub event_bus: Option<String>,
    pub event_pattern: Option<String>,
    pub schedule_expression: Option<String>,
    pub state: Option<String>,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub tags: Vec<Tag>,
}

fn check_rule_name(name: &str) -> Result<(), EventsError> {
    let valid = (1..=64).contains(&name.len())
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_'));
    if !valid {
        return Err(EventsError::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 64"
        )));
    }
    Ok(())
}

/// The bus a request names (`EventBusName`, a name or an ARN): only `default` exists.
pub fn check_bus(bus: Option<&str>) -> Result<(), EventsError> {
    match bus {
        None => Ok(()),
        Some(bus) if bus == DEFAULT_BUS || bus.ends_with(":event-bus/default") => Ok(()),
        Some(bus) => Err(EventsError::new(
            EventsErrorKind::ResourceNotFound,
            format!("Event bus {bus} does not exist. Berth serves the default event bus only."),
        )),
    }
}

pub fn parse_pattern(text: &str) -> Result<Pattern, EventsError> {
    if text.len() > 4096 {
        return Err(EventsError::new(
            EventsErrorKind::InvalidEventPattern,
            "Event pattern is not valid. Reason: it is longer than 4096 characters",
        ));
    }
    Pattern::parse(text).map_err(|error| EventsError::new(EventsErrorKind::InvalidEventPattern, error.to_string()))
}

fn rule<'s>(state: &'s State, name: &str) -> Result<&'s RuleRecord, EventsError> {
    state.events.rules.get(name).ok_or_else(|| EventsError::rule_not_found(name))
}

fn check_tags(tags: &[Tag]) -> Result<(), EventsError> {
    if tags.len() > MAX_TAGS {
        return Err(EventsError::validation(format!("Tags: at most {MAX_TAGS} tags, got {}", tags.len())));
    }
    for tag in tags {
        if tag.key.is_empty() || tag.key.len() > 128 || tag.value.len() > 256 {
            return Err(EventsError::validation(format!(
                "Tags: key '{}' must have 1-128 characters and its value at most 256",
                tag.key
            )));
        }
        if tag.key.starts_with("aws:") {
            return Err(EventsError::validation("Tags: keys beginning with aws: are reserved"));
        }
    }
    Ok(())
}

/// The rule name of a rule ARN on the default bus (`arn:aws:events:REGION:ACCOUNT:rule/NAME`).
fn rule_of_arn(arn: &str) -> Result<&str, EventsError> {
    arn.split_once(":rule/").map(|(_, name)| name).filter(|name| !name.contains('/')).ok_or_else(|| {
        EventsError::new(
            EventsErrorKind::ResourceNotFound,
            format!("Resource {arn} not found. Berth tags rules on the default bus."),
        )
    })
}

impl ControlPlane {
    fn rule_arn(&self, name: &str) -> String {
        format!("arn:aws:events:{}:{}:rule/{name}", self.arn_context().region, self.arn_context().account)
    }

    /// PutRule: creates the rule or updates it (an update keeps its targets and tags, as
    /// EventBridge does); answers its ARN.
    pub async fn put_event_rule(&self, new: NewRule) -> ControlResult<String> {
        check_rule_name(&new.name)?;
        check_bus(new.event_bus.as_deref())?;
        if new.schedule_expression.is_some() {
            return Err(EventsError::validation(
                "ScheduleExpression: scheduled rules are not served by this Berth version; use EventBridge Scheduler (aws scheduler create-schedule) to run tasks on a schedule",
            )
            .into());
        }
        let Some(pattern) = new.event_pattern.clone() else {
            return Err(
                EventsError::validation("Parameter(s) EventPattern or ScheduleExpression must be specified.").into()
            );
        };
        parse_pattern(&pattern)?;
        let enabled = match new.state.as_deref() {
            None | Some("ENABLED") | Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") => true,
            Some("DISABLED") => false,
            Some(other) => {
                return Err(EventsError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
                ))
                .into())
            }
        };
        if new.description.as_ref().is_some_and(|description| description.len() > 512) {
            return Err(EventsError::validation("Description: must be at most 512 characters").into());
        }
        check_tags(&new.tags)?;
        let arn = self.rule_arn(&new.name);
        self.mutate(move |state| {
            let record = match state.events.rules.get(&new.name) {
                Some(existing) => RuleRecord {
                    event_pattern: pattern,
                    enabled,
                    description: new.description,
                    role_arn: new.role_arn,
                    ..existing.clone()
                },
                None => RuleRecord {
                    name: new.name.clone(),
                    arn: arn.clone(),
                    event_pattern: pattern,
                    enabled,
                    description: new.description,
                    role_arn: new.role_arn,
                    created_at: Timestamp::now(),
                    targets: Vec::new(),
                    tags: new.tags,
                },
            };
            Ok((vec![Change::Events(EventsChange::PutRule(Box::new(record)))], arn))
        })
        .await
    }

    pub fn describe_event_rule(&self, name: &str, bus: Option<&str>) -> ControlResult<RuleRecord> {
        check_bus(bus)?;
        Ok(rule(&self.read(), name)?.clone())
    }

    /// The rules whose names begin with `prefix`, in name order.
    pub fn list_event_rules(&self, prefix: Option<&str>, bus: Option<&str>) -> ControlResult<Vec<RuleRecord>> {
        check_bus(bus)?;
        let state = self.read();
        Ok(state
            .events
            .rules
            .values()
            .filter(|rule| prefix.is_none_or(|prefix| rule.name.starts_with(prefix)))
            .cloned()
            .collect())
    }

    /// DeleteRule: refused while the rule has targets; deleting a rule that is not there
    /// succeeds, as EventBridge's does.
    pub async fn delete_event_rule(&self, name: String, bus: Option<&str>) -> ControlResult<()> {
        check_bus(bus)?;
        self.mutate(move |state| {
            let Some(rule) = state.events.rules.get(&name) else {
                return Ok((Vec::new(), ()));
            };
            if !rule.targets.is_empty() {
                return Err(EventsError::validation("Rule can't be deleted since it has targets.").into());
            }
            Ok((vec![Change::Events(EventsChange::DeleteRule(name))], ()))
        })
        .await
    }

    pub async fn set_event_rule_enabled(&self, name: String, bus: Option<&str>, enabled: bool) -> ControlResult<()> {
        check_bus(bus)?;
        self.mutate(move |state| {
            let record = RuleRecord { enabled, ..rule(state, &name)?.clone() };
            Ok((vec![Change::Events(EventsChange::PutRule(Box::new(record)))], ()))
        })
        .await
    }

    /// PutTargets: adds the targets or replaces those with the same ids (each checked by
    /// `berth-api` already, which refuses the request whole for a malformed one).
    pub async fn put_event_targets(
        &self,
        name: String,
        bus: Option<&str>,
        targets: Vec<TargetRecord>,
    ) -> ControlResult<()> {
        check_bus(bus)?;
        self.mutate(move |state| {
            let mut record = rule(state, &name)?.clone();
            for target in targets {
                record.targets.retain(|existing| existing.id != target.id);
                record.targets.push(target);
            }
            if record.targets.len() > MAX_TARGETS_PER_RULE {
                return Err(EventsError::new(
                    EventsErrorKind::LimitExceeded,
                    format!("The requested resource exceeds the maximum number allowed: a rule has at most {MAX_TARGETS_PER_RULE} targets."),
                )
                .into());
            }
            Ok((vec![Change::Events(EventsChange::PutRule(Box::new(record)))], ()))
        })
        .await
    }

    pub async fn remove_event_targets(&self, name: String, bus: Option<&str>, ids: Vec<String>) -> ControlResult<()> {
        check_bus(bus)?;
        self.mutate(move |state| {
            let mut record = rule(state, &name)?.clone();
            record.targets.retain(|target| !ids.contains(&target.id));
            Ok((vec![Change::Events(EventsChange::PutRule(Box::new(record)))], ()))
        })
        .await
    }

    pub fn list_targets_by_rule(&self, name: &str, bus: Option<&str>) -> ControlResult<Vec<TargetRecord>> {
        check_bus(bus)?;
        Ok(rule(&self.read(), name)?.targets.clone())
    }

    /// The names of the rules with a target whose ARN is `arn`.
    pub fn list_rule_names_by_target(&self, arn: &str, bus: Option<&str>) -> ControlResult<Vec<String>> {
        check_bus(bus)?;
        let state = self.read();
        Ok(state
            .events
            .rules
            .values()
            .filter(|rule| rule.targets.iter().any(|target| target.arn == arn))
            .map(|rule| rule.name.clone())
            .collect())
    }

    pub fn list_rule_tags(&self, arn: &str) -> ControlResult<Vec<Tag>> {
        Ok(rule(&self.read(), rule_of_arn(arn)?)?.tags.clone())
    }

    pub async fn tag_rule(&self, arn: String, tags: Vec<Tag>) -> ControlResult<()> {
        self.mutate(move |state| {
            let mut record = rule(state, rule_of_arn(&arn)?)?.clone();
            for tag in tags {
                record.tags.retain(|existing| existing.key != tag.key);
                record.tags.push(tag);
            }
            check_tags(&record.tags)?;
            Ok((vec![Change::Events(EventsChange::PutRule(Box::new(record)))], ()))
        })
        .await
    }

    pub async fn untag_rule(&self, arn: String, keys: Vec<String>) -> ControlResult<()> {
        self.mutate(move |state| {
            let mut record = rule(state, rule_of_arn(&arn)?)?.clone();
            record.tags.retain(|tag| !keys.contains(&tag.key));
            Ok((vec![Change::Events(EventsChange::PutRule(Box::new(record)))], ()))
        })
        .await
    }
}
