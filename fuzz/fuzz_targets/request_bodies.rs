//! Fuzzes ECS request bodies the way the API edge reads them: the first byte picks an
//! operation, the rest is the body, which goes through `berth_ecs_wire::decode_request` and
//! then through the same conversion the operation applies (`berth-ecs-convert` for task
//! definitions, overrides and tags; `berth-scheduler` for placement rules and filters;
//! `berth-types` for the resource names and ARNs the body refers to). Any caller can send any
//! bytes, so errors are expected and panics are bugs.
//!
//! It also checks what the edge takes for granted (each is an `expect` or a silent fallback
//! there, so a failure would be a crash or lost data rather than an error):
//! - every decoded request serialises again (RunTask fingerprints its body for `clientToken`)
//!   and the serialised form decodes again;
//! - a wire container-instance status is one Berth knows;
//! - an accepted task definition's document decodes back into a `TaskDefinition` (Describe
//!   renders only the family when it does not);
//! - an ARN that parses renders to text that parses to the same ARN.
//!
//! Not here: the HTTP layer and the control plane; `berth-api` is not a dependency because its
//! helpers only combine the parsers called here with store lookups.

#![no_main]

use std::sync::OnceLock;

use berth_ecs_wire::{self as wire, decode_request, CheckRequired};
use berth_scheduler::{Expression, PlacementConstraint, PlacementStrategy};
use berth_types::spec::TaskSpec;
use berth_types::{Arn, ArnContext, ClusterName, ContainerInstanceStatus, TaskDefinitionFamily};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A definition with two containers, as RunTask's overrides are applied to a stored spec.
fn stored_spec() -> &'static TaskSpec {
    static SPEC: OnceLock<TaskSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let body = br#"{"family":"web","cpu":"512","memory":"1 GB","containerDefinitions":[
            {"name":"web","image":"nginx","cpu":128,"memory":256,"command":["serve"],
             "environment":[{"name":"MODE","value":"prod"}],
             "portMappings":[{"containerPort":80,"hostPort":8080}]},
            {"name":"sidecar","image":"busybox","memoryReservation":64}]}"#;
        let request: wire::RegisterTaskDefinitionRequest = decode_request(body).expect("the fixed definition decodes");
        berth_ecs_convert::parse_register_task_definition(&request).expect("the fixed definition is valid").spec
    })
}

/// Decodes like the edge does and checks the decoded shape survives serialisation.
fn decode<T: DeserializeOwned + CheckRequired + Serialize>(body: &[u8]) -> Option<T> {
    let request: T = decode_request(body).ok()?;
    let text = serde_json::to_vec(&request).expect("a decoded request serialises");
    if let Err(error) = decode_request::<T>(&text) {
        panic!("a decoded request does not decode again: {}\n{}", error.message, String::from_utf8_lossy(&text));
    }
    Some(request)
}

/// A cluster, task definition or ARN reference, as the edge's `parse` helpers read one.
fn reference(text: &str) {
    let context = ArnContext::default();
    if let Ok(arn) = Arn::parse(text, &context) {
        let rendered = arn.render(&context);
        assert_eq!(Arn::parse(&rendered, &context).as_ref(), Ok(&arn), "{text:?} rendered as {rendered:?}");
    }
    let _ = ClusterName::parse(text);
    let family = text.rsplit_once(':').map_or(text, |(family, _)| family);
    let _ = TaskDefinitionFamily::parse(family);
}

fn reference_if(text: Option<&str>) {
    if let Some(text) = text {
        reference(text);
    }
}

fn placement(strategies: Option<&Vec<wire::PlacementStrategy>>, constraints: Option<&Vec<wire::PlacementConstraint>>) {
    for strategy in strategies.into_iter().flatten() {
        let kind = strategy.r#type.map(|kind| kind.as_str()).unwrap_or_default();
        let _ = PlacementStrategy::from_wire(kind, strategy.field.as_deref());
    }
    for constraint in constraints.into_iter().flatten() {
        let kind = constraint.r#type.map(|kind| kind.as_str()).unwrap_or_default();
        let _ = PlacementConstraint::from_wire(kind, constraint.expression.as_deref());
    }
}

fn register_task_definition(body: &[u8]) {
    let Some(request) = decode::<wire::RegisterTaskDefinitionRequest>(body) else {
        return;
    };
    let Ok(parsed) = berth_ecs_convert::parse_register_task_definition(&request) else {
        return;
    };
    let document = berth_ecs_convert::document_to_value(&parsed.document);
    if let Err(error) = serde_json::from_value::<wire::TaskDefinition>(document.clone()) {
        panic!("an accepted definition's document does not decode: {error}\n{document}");
    }
    // Overrides must apply to anything a registration accepts, with or without overrides.
    let _ = berth_ecs_convert::apply_overrides(&parsed.spec, None).expect("no overrides cannot fail");
}

fn run_task(body: &[u8]) {
    let Some(request) = decode::<wire::RunTaskRequest>(body) else {
        return;
    };
    reference_if(request.cluster.as_deref());
    reference_if(request.task_definition.as_deref());
    placement(request.placement_strategy.as_ref(), request.placement_constraints.as_ref());
    let _ = berth_ecs_convert::apply_overrides(stored_spec(), request.overrides.as_ref());
    let _ = berth_ecs_convert::parse_tags(request.tags.as_ref());
}

fn start_task(body: &[u8]) {
    let Some(request) = decode::<wire::StartTaskRequest>(body) else {
        return;
    };
    request.container_instances.iter().flatten().for_each(|instance| reference(instance));
    let _ = berth_ecs_convert::apply_overrides(stored_spec(), request.overrides.as_ref());
    let _ = berth_ecs_convert::parse_tags(request.tags.as_ref());
}

fn create_service(body: &[u8]) {
    let Some(request) = decode::<wire::CreateServiceRequest>(body) else {
        return;
    };
    reference_if(request.cluster.as_deref());
    reference_if(request.task_definition.as_deref());
    placement(request.placement_strategy.as_ref(), request.placement_constraints.as_ref());
    let _ = berth_ecs_convert::parse_tags(request.tags.as_ref());
}

fn update_service(body: &[u8]) {
    let Some(request) = decode::<wire::UpdateServiceRequest>(body) else {
        return;
    };
    reference_if(request.service.as_deref());
    placement(request.placement_strategy.as_ref(), request.placement_constraints.as_ref());
}

fn list_container_instances(body: &[u8]) {
    let Some(request) = decode::<wire::ListContainerInstancesRequest>(body) else {
        return;
    };
    if let Some(filter) = request.filter.as_deref() {
        let _ = Expression::parse(filter);
    }
    if let Some(status) = request.status {
        assert!(ContainerInstanceStatus::parse(status.as_str()).is_some(), "unknown status {status:?}");
    }
}

fn put_attributes(body: &[u8]) {
    let Some(request) = decode::<wire::PutAttributesRequest>(body) else {
        return;
    };
    reference_if(request.cluster.as_deref());
    for attribute in request.attributes.iter().flatten() {
        reference_if(attribute.target_id.as_deref());
    }
}

fn tag_resource(body: &[u8]) {
    let Some(request) = decode::<wire::TagResourceRequest>(body) else {
        return;
    };
    reference_if(request.resource_arn.as_deref());
    let _ = berth_ecs_convert::parse_tags(request.tags.as_ref());
}

const OPERATIONS: [fn(&[u8]); 8] = [
    register_task_definition,
    run_task,
    start_task,
    create_service,
    update_service,
    list_container_instances,
    put_attributes,
    tag_resource,
];

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else {
        return;
    };
    OPERATIONS[usize::from(*selector) % OPERATIONS.len()](body);
});
