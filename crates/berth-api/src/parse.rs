//! Parsing request members that name resources: a cluster, task, container instance or task
//! definition may be given by name/ID or by full ARN, as ECS accepts both.

use crate::error::{ApiError, ApiResult};
use berth_types::{Arn, ArnContext, ClusterName, ContainerInstanceId, TaskId};

/// `cluster` member: name, ARN, or absent for `default`.
pub fn cluster(value: Option<&String>, context: &ArnContext) -> ApiResult<ClusterName> {
    match value.map(String::as_str) {
        None | Some("") => Ok(ClusterName::default_cluster()),
        Some(text) if text.starts_with("arn:") => match Arn::parse(text, context)? {
            Arn::Cluster(name) => Ok(name),
            _ => Err(ApiError::invalid_parameter(format!("cluster: {text} is not a cluster ARN"))),
        },
        Some(text) => {
            ClusterName::parse(text).map_err(|error| ApiError::invalid_parameter(format!("cluster: {error}")))
        }
    }
}

/// A task by ID or ARN; an ARN must name a task in `cluster`.
pub fn task(value: &str, cluster: &ClusterName, context: &ArnContext, field: &str) -> ApiResult<TaskId> {
    if value.starts_with("arn:") {
        match Arn::parse(value, context)? {
            Arn::Task(task_cluster, id) if &task_cluster == cluster => Ok(id),
            Arn::Task(..) => {
                Err(ApiError::invalid_parameter(format!("{field}: task {value} is not in cluster {cluster}")))
            }
            _ => Err(ApiError::invalid_parameter(format!("{field}: {value} is not a task ARN"))),
        }
    } else {
        TaskId::parse(value).map_err(|error| ApiError::invalid_parameter(format!("{field}: {error}")))
    }
}

/// A container instance by ID or ARN; an ARN must name an instance in `cluster`.
pub fn container_instance(
    value: &str,
    cluster: &ClusterName,
    context: &ArnContext,
    field: &str,
) -> ApiResult<ContainerInstanceId> {
    if value.starts_with("arn:") {
        match Arn::parse(value, context)? {
            Arn::ContainerInstance(instance_cluster, id) if &instance_cluster == cluster => Ok(id),
            Arn::ContainerInstance(..) => Err(ApiError::invalid_parameter(format!(
                "{field}: container instance {value} is not in cluster {cluster}"
            ))),
            _ => Err(ApiError::invalid_parameter(format!("{field}: {value} is not a container instance ARN"))),
        }
    } else {
        ContainerInstanceId::parse(value).map_err(|error| ApiError::invalid_parameter(format!("{field}: {error}")))
    }
}

/// A required list of at most `limit` container instances, by ID or ARN, all in `cluster`.
pub fn container_instances(
    references: Option<&Vec<String>>,
    limit: usize,
    cluster: &ClusterName,
    context: &ArnContext,
    field: &str,
) -> ApiResult<Vec<ContainerInstanceId>> {
    bounded(references, limit, field, true)?
        .iter()
        .enumerate()
        .map(|(index, reference)| container_instance(reference, cluster, context, &format!("{field}[{index}]")))
        .collect()
}

/// `family`, `family:revision` or a task definition ARN.
pub fn task_definition(value: &str, context: &ArnContext, field: &str) -> ApiResult<(String, Option<u32>)> {
    if value.starts_with("arn:") {
        return match Arn::parse(value, context)? {
            Arn::TaskDefinition(family, revision) => Ok((family.as_str().to_string(), Some(revision))),
            _ => Err(ApiError::invalid_parameter(format!("{field}: {value} is not a task definition ARN"))),
        };
    }
    let (family, revision) = match value.rsplit_once(':') {
        Some((family, revision)) => {
            let revision: u32 = revision
                .parse()
                .ok()
                .filter(|revision| *revision > 0)
                .ok_or_else(|| ApiError::invalid_parameter(format!("{field}: invalid revision in {value:?}")))?;
            (family, Some(revision))
        }
        None => (value, None),
    };
    berth_types::TaskDefinitionFamily::parse(family)
        .map_err(|error| ApiError::invalid_parameter(format!("{field}: {error}")))?;
    Ok((family.to_string(), revision))
}

/// A list of at most `limit` items, as ECS bounds its batch calls.
pub fn bounded<'a, T>(items: Option<&'a Vec<T>>, limit: usize, field: &str, required: bool) -> ApiResult<&'a [T]> {
    let items = items.map(Vec::as_slice).unwrap_or(&[]);
    if items.len() > limit {
        return Err(ApiError::invalid_parameter(format!(
            "{field}: at most {limit} items are allowed, got {}",
            items.len()
        )));
    }
    if required && items.is_empty() {
        return Err(ApiError::invalid_parameter(format!("{field}: at least one item is required")));
    }
    Ok(items)
}

/// One page of `items`: ECS list calls take `maxResults` (1..=`limit`) and an opaque `nextToken`.
pub fn page<T: Clone>(
    items: &[T],
    max_results: Option<i32>,
    next_token: Option<&String>,
    default_size: usize,
    limit: usize,
) -> ApiResult<(Vec<T>, Option<String>)> {
    let size = match max_results {
        None => default_size,
        Some(value) if value >= 1 && value as usize <= limit => value as usize,
        Some(value) => {
            return Err(ApiError::invalid_parameter(format!("maxResults: must be between 1 and {limit}, got {value}")))
        }
    };
    let start = match next_token {
        None => 0,
        Some(token) => token
            .strip_prefix("berth-page-")
            .and_then(|offset| offset.parse::<usize>().ok())
            .filter(|offset| *offset <= items.len())
            .ok_or_else(|| ApiError::invalid_parameter("nextToken: the token is not valid for this listing"))?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("berth-page-{end}"));
    Ok((items[start..end].to_vec(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_the_whole_list() {
        let items: Vec<u32> = (0..25).collect();
        let (first, token) = page(&items, Some(10), None, 100, 100).unwrap();
        assert_eq!(first, (0..10).collect::<Vec<_>>());
        let (second, token) = page(&items, Some(10), token.as_ref(), 100, 100).unwrap();
        assert_eq!(second[0], 10);
        let (third, token) = page(&items, Some(10), token.as_ref(), 100, 100).unwrap();
        assert_eq!(third.len(), 5);
        assert!(token.is_none());
        assert!(page(&items, Some(0), None, 100, 100).is_err());
        assert!(page(&items, None, Some(&"junk".to_string()), 100, 100).is_err());
    }

    #[test]
    fn task_definition_references() {
        let context = ArnContext::default();
        assert_eq!(task_definition("web", &context, "f").unwrap(), ("web".to_string(), None));
        assert_eq!(task_definition("web:3", &context, "f").unwrap(), ("web".to_string(), Some(3)));
        assert_eq!(
            task_definition("arn:aws:ecs:us-east-1:000000000000:task-definition/web:7", &context, "f").unwrap(),
            ("web".to_string(), Some(7))
        );
        assert!(task_definition("web:x", &context, "f").is_err());
        assert!(task_definition("bad name", &context, "f").is_err());
    }
}
