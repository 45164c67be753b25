//! References between containers of one task: `dependsOn`, `volumesFrom` and `links`. Each
//! must name another container of the task, and `dependsOn` and `links` must not loop, since
//! a task whose containers wait on each other would never start.

use super::container::container_field;
use crate::error::ValidationError;
use berth_ecs_wire as wire;
use berth_types::spec::{ContainerSpec, DependencyCondition, NetworkMode};
use std::collections::BTreeMap;

pub(super) fn check_container_references(
    definitions: &[wire::ContainerDefinition],
    containers: &[ContainerSpec],
    network_mode: NetworkMode,
) -> Result<(), ValidationError> {
    let by_name: BTreeMap<&str, &ContainerSpec> =
        containers.iter().map(|container| (container.name.as_str(), container)).collect();
    for (index, container) in containers.iter().enumerate() {
        check_depends_on(index, container, &by_name)?;
    }
    if let Some(cycle) = find_cycle(containers.iter().map(|container| {
        (
            container.name.as_str(),
            container.depends_on.iter().map(|dependency| dependency.container_name.as_str()).collect(),
        )
    })) {
        return Err(ValidationError::client(
            "containerDefinitions",
            format!("Container dependencies (dependsOn) must not form a cycle: {}.", cycle.join(" -> ")),
        ));
    }
    let mut links = Vec::new();
    for (index, (definition, container)) in definitions.iter().zip(containers).enumerate() {
        check_volumes_from(index, container, definition.volumes_from.as_deref(), &by_name)?;
        links.push((
            container.name.as_str(),
            link_targets(index, container, definition.links.as_deref(), &by_name, network_mode)?,
        ));
    }
    if find_cycle(links.into_iter()).is_some() {
        return Err(ValidationError::client("containerDefinitions", "Container links should not have a cycle."));
    }
    Ok(())
}

fn check_depends_on(
    index: usize,
    container: &ContainerSpec,
    by_name: &BTreeMap<&str, &ContainerSpec>,
) -> Result<(), ValidationError> {
    for (position, dependency) in container.depends_on.iter().enumerate() {
        let field = container_field(index, &format!("dependsOn[{position}].containerName"));
        let target_name = dependency.container_name.as_str();
        if target_name == container.name {
            return Err(ValidationError::client(field, format!("Container '{target_name}' cannot depend on itself.")));
        }
        let Some(target) = by_name.get(target_name) else {
            return Err(ValidationError::client(
                field,
                format!("Cannot depend on container '{target_name}' because it does not exist."),
            ));
        };
        match dependency.condition {
            DependencyCondition::Healthy if target.health_check.is_none() => {
                return Err(ValidationError::client(
                    container_field(index, &format!("dependsOn[{position}].condition")),
                    format!(
                        "Container '{}' depends on container '{target_name}' being HEALTHY, but '{target_name}' has no \
                         healthCheck.",
                        container.name
                    ),
                ));
            }
            DependencyCondition::Success | DependencyCondition::Complete if target.essential => {
                return Err(ValidationError::client(
                    container_field(index, &format!("dependsOn[{position}].condition")),
                    format!(
                        "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container \
                         ('{target_name}')."
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_volumes_from(
    index: usize,
    container: &ContainerSpec,
    volumes_from: Option<&[wire::VolumeFrom]>,
    by_name: &BTreeMap<&str, &ContainerSpec>,
) -> Result<(), ValidationError> {
    for (position, volume_from) in volumes_from.unwrap_or_default().iter().enumerate() {
        let field = container_field(index, &format!("volumesFrom[{position}].sourceContainer"));
        let source = volume_from.source_container.as_deref().unwrap_or_default();
        if source == container.name {
            return Err(ValidationError::client(
                field,
                format!("Container '{source}' cannot mount volumes from itself."),
            ));
        }
        if !by_name.contains_key(source) {
            return Err(ValidationError::client(field, format!("Unknown container '{source}' in volumesFrom.")));
        }
    }
    Ok(())
}

/// The containers a container links to; a link is `name` or `name:alias`.
fn link_targets<'a>(
    index: usize,
    container: &ContainerSpec,
    links: Option<&'a [String]>,
    by_name: &BTreeMap<&str, &ContainerSpec>,
    network_mode: NetworkMode,
) -> Result<Vec<&'a str>, ValidationError> {
    let links = links.unwrap_or_default();
    if !links.is_empty() && network_mode != NetworkMode::Bridge {
        return Err(ValidationError::client(
            container_field(index, "links"),
            "links are only supported when the task definition's networkMode is bridge.",
        ));
    }
    let mut targets = Vec::with_capacity(links.len());
    for (position, link) in links.iter().enumerate() {
        let target = link.split_once(':').map_or(link.as_str(), |(target, _alias)| target);
        if target == container.name || !by_name.contains_key(target) {
            return Err(ValidationError::client(
                container_field(index, &format!("links[{position}]")),
                format!(
                    "Invalid link '{link}' for container '{}': no other container is named '{target}'.",
                    container.name
                ),
            ));
        }
        targets.push(target);
    }
    Ok(targets)
}

/// Some cycle in the graph `name -> names it waits for`, as the names along it with the first
/// repeated at the end; `None` if there is none. Edges to unknown names are ignored.
fn find_cycle<'a>(edges: impl Iterator<Item = (&'a str, Vec<&'a str>)>) -> Option<Vec<String>> {
    let graph: BTreeMap<&str, Vec<&str>> = edges.collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Visit {
        InProgress,
        Done,
    }
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, Visit>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(Visit::Done) => return None,
            Some(Visit::InProgress) => {
                let start = path.iter().position(|on_path| *on_path == node).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|name| name.to_string()).collect();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node, Visit::InProgress);
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if graph.contains_key(next) {
                if let Some(cycle) = visit(next, graph, state, path) {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        state.insert(node, Visit::Done);
        None
    }
    let mut state = BTreeMap::new();
    graph.keys().find_map(|node| visit(node, &graph, &mut state, &mut Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::find_cycle;

    #[test]
    fn finds_cycles_and_accepts_chains() {
        let chain = vec![("a", vec!["b"]), ("b", vec!["c"]), ("c", vec![])];
        assert_eq!(find_cycle(chain.into_iter()), None);
        let looped = vec![("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"])];
        assert_eq!(find_cycle(looped.into_iter()).unwrap(), ["a", "b", "c", "a"]);
        let unknown_target = vec![("a", vec!["ghost"])];
        assert_eq!(find_cycle(unknown_target.into_iter()), None);
        let diamond = vec![("a", vec!["b", "c"]), ("b", vec!["d"]), ("c", vec!["d"]), ("d", vec![])];
        assert_eq!(find_cycle(diamond.into_iter()), None);
    }
}
