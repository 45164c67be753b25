//! The operations ECS reserves for its container agent: DiscoverPollEndpoint,
//! SubmitTaskStateChange, SubmitContainerStateChange, SubmitAttachmentStateChanges and
//! UpdateContainerAgent. Berth's own agent uses its agent protocol instead; these let an agent
//! (or a test) that speaks the ECS API report through the same merge.
//!
//! Invariant: a submission is parsed whole before anything is merged, so a bad member refuses
//! the call and changes nothing.

use crate::error::{ApiError, ApiResult};
use crate::{parse, Api};
use axum::http::{HeaderMap, StatusCode};
use berth_control::submitted_state_changes::{AgentUpdateRefusal, SubmittedContainerChange, SubmittedTaskChange};
use berth_ecs_wire as wire;
use berth_types::records::NetworkBinding;
use berth_types::{PortProtocol, TaskStatus, Timestamp};

/// What ECS answers a state change it accepted.
const ACKNOWLEDGMENT: &str = "ACK";

impl From<AgentUpdateRefusal> for ApiError {
    fn from(refusal: AgentUpdateRefusal) -> Self {
        let (error_type, message) = match refusal {
            AgentUpdateRefusal::NoUpdateAvailable => (
                "NoUpdateAvailableException",
                "There is no update available for your container agent: Berth agents are updated by replacing the berth binary.",
            ),
            AgentUpdateRefusal::MissingVersion => (
                "MissingVersionException",
                "The container instance reported no agent version, so it cannot be told whether an update applies.",
            ),
        };
        ApiError { status: StatusCode::BAD_REQUEST, error_type, message: message.to_string(), resource_ids: None }
    }
}

/// The URL this request reached the server at, from its `Host` header.
fn own_endpoint(headers: &HeaderMap) -> ApiResult<String> {
    let host = headers.get(axum::http::header::HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let plausible = !host.is_empty()
        && host.len() <= 255
        && host.chars().all(|character| character.is_ascii_alphanumeric() || ".-:[]_".contains(character));
    if !plausible {
        return Err(ApiError::client_exception(
            "The request carries no usable Host header to answer an endpoint from.",
        ));
    }
    Ok(format!("http://{host}/"))
}

pub fn discover_poll_endpoint(
    api: &Api,
    request: wire::DiscoverPollEndpointRequest,
    headers: &HeaderMap,
) -> ApiResult<wire::DiscoverPollEndpointResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    if let Some(instance) = request.container_instance.as_deref() {
        parse::container_instance(instance, &cluster, api.context(), "containerInstance")?;
    }
    // One server answers everything: the agent channel, telemetry and Service Connect alike.
    let endpoint = own_endpoint(headers)?;
    Ok(wire::DiscoverPollEndpointResponse {
        endpoint: Some(endpoint.clone()),
        telemetry_endpoint: Some(endpoint.clone()),
        service_connect_endpoint: Some(endpoint),
    })
}

fn status(value: Option<&str>, field: &str) -> ApiResult<Option<TaskStatus>> {
    value
        .map(|text| {
            TaskStatus::parse(text).ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "{field}: {text:?} is not a status (PENDING, RUNNING, STOPPED, ...)"
                ))
            })
        })
        .transpose()
}

fn timestamp(value: Option<f64>, field: &str) -> ApiResult<Option<Timestamp>> {
    value
        .map(|seconds| {
            (seconds.is_finite() && seconds >= 0.0)
                .then(|| Timestamp::from_epoch_seconds(seconds))
                .ok_or_else(|| ApiError::invalid_parameter(format!("{field}: not a valid timestamp")))
        })
        .transpose()
}

fn port(value: Option<i32>, field: &str) -> ApiResult<u16> {
    let value = value.ok_or_else(|| ApiError::invalid_parameter(format!("{field}: required")))?;
    u16::try_from(value).map_err(|_| ApiError::invalid_parameter(format!("{field}: {value} is not a port number")))
}

fn network_bindings(
    bindings: Option<&Vec<wire::NetworkBinding>>,
    field: &str,
) -> ApiResult<Option<Vec<NetworkBinding>>> {
    let Some(bindings) = bindings else {
        return Ok(None);
    };
    bindings
        .iter()
        .enumerate()
        .map(|(index, binding)| {
            let field = format!("{field}[{index}]");
            if binding.container_port_range.is_some() || binding.host_port_range.is_some() {
                return Err(ApiError::invalid_parameter(format!(
                    "{field}: port ranges are not supported by Berth yet"
                )));
            }
            Ok(NetworkBinding {
                bind_ip: binding.bind_ip.clone().unwrap_or_else(|| "0.0.0.0".to_string()),
                container_port: port(binding.container_port, &format!("{field}.containerPort"))?,
                host_port: port(binding.host_port, &format!("{field}.hostPort"))?,
                protocol: match binding.protocol {
                    Some(wire::TransportProtocol::Udp) => PortProtocol::Udp,
                    _ => PortProtocol::Tcp,
                },
            })
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Some)
}

/// `prefix` is how the request names the change's members (`containers[0].`, or nothing when
/// they sit at the top level, as in SubmitContainerStateChange).
fn container_change(change: &wire::ContainerStateChange, prefix: &str) -> ApiResult<SubmittedContainerChange> {
    let name = change
        .container_name
        .clone()
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter(format!("{prefix}containerName: required")))?;
    Ok(SubmittedContainerChange {
        name,
        runtime_id: change.runtime_id.clone(),
        image_digest: change.image_digest.clone(),
        status: status(change.status.as_deref(), &format!("{prefix}status"))?,
        exit_code: change.exit_code,
        reason: change.reason.clone(),
        network_bindings: network_bindings(change.network_bindings.as_ref(), &format!("{prefix}networkBindings"))?,
    })
}

fn refuse_attachments(attachments: Option<&Vec<wire::AttachmentStateChange>>) -> ApiResult<()> {
    match attachments.and_then(|attachments| attachments.first()) {
        None => Ok(()),
        Some(attachment) => Err(ApiError::invalid_parameter(format!(
            "attachments[0].attachmentArn: {:?} names no attachment; Berth tasks have none (awsvpc networking is not supported).",
            attachment.attachment_arn.as_deref().unwrap_or_default()
        ))),
    }
}

fn required_task(task: Option<&String>) -> ApiResult<&str> {
    task.map(String::as_str)
        .filter(|task| !task.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter("task: required"))
}

pub async fn submit_task_state_change(
    api: &Api,
    request: wire::SubmitTaskStateChangeRequest,
) -> ApiResult<wire::SubmitTaskStateChangeResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let task = parse::task(required_task(request.task.as_ref())?, &cluster, api.context(), "task")?;
    refuse_attachments(request.attachments.as_ref())?;
    if request.managed_agents.as_ref().is_some_and(|agents| !agents.is_empty()) {
        return Err(ApiError::invalid_parameter(
            "managedAgents: Berth runs no managed agents (ECS Exec is not supported yet)",
        ));
    }
    let containers = request
        .containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, change)| container_change(change, &format!("containers[{index}].")))
        .collect::<ApiResult<Vec<_>>>()?;
    let change = SubmittedTaskChange {
        status: status(request.status.as_deref(), "status")?,
        reason: request.reason,
        containers,
        pull_started_at: timestamp(request.pull_started_at, "pullStartedAt")?,
        pull_stopped_at: timestamp(request.pull_stopped_at, "pullStoppedAt")?,
        execution_stopped_at: timestamp(request.execution_stopped_at, "executionStoppedAt")?,
    };
    api.control.submit_task_state_change(&cluster, &task, change).await?;
    Ok(wire::SubmitTaskStateChangeResponse { acknowledgment: Some(ACKNOWLEDGMENT.to_string()) })
}

pub async fn submit_container_state_change(
    api: &Api,
    request: wire::SubmitContainerStateChangeRequest,
) -> ApiResult<wire::SubmitContainerStateChangeResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let task = parse::task(required_task(request.task.as_ref())?, &cluster, api.context(), "task")?;
    let as_container_change = wire::ContainerStateChange {
        container_name: request.container_name,
        image_digest: None,
        runtime_id: request.runtime_id,
        exit_code: request.exit_code,
        network_bindings: request.network_bindings,
        reason: request.reason,
        status: request.status,
    };
    let container = container_change(&as_container_change, "")?;
    let change = SubmittedTaskChange { containers: vec![container], ..Default::default() };
    api.control.submit_task_state_change(&cluster, &task, change).await?;
    Ok(wire::SubmitContainerStateChangeResponse { acknowledgment: Some(ACKNOWLEDGMENT.to_string()) })
}

pub async fn submit_attachment_state_changes(
    api: &Api,
    request: wire::SubmitAttachmentStateChangesRequest,
) -> ApiResult<wire::SubmitAttachmentStateChangesResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let arns: Vec<String> = request
        .attachments
        .iter()
        .flatten()
        .map(|attachment| attachment.attachment_arn.clone().unwrap_or_default())
        .collect();
    if arns.is_empty() {
        return Err(ApiError::invalid_parameter("attachments: at least one attachment is required"));
    }
    api.control.submit_attachment_state_changes(&cluster, &arns)?;
    Ok(wire::SubmitAttachmentStateChangesResponse { acknowledgment: Some(ACKNOWLEDGMENT.to_string()) })
}

pub async fn update_container_agent(
    api: &Api,
    request: wire::UpdateContainerAgentRequest,
) -> ApiResult<wire::UpdateContainerAgentResponse> {
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let reference = request.container_instance.as_deref().unwrap_or_default();
    let instance = parse::container_instance(reference, &cluster, api.context(), "containerInstance")?;
    Err(api.control.update_container_agent(&cluster, &instance)?.into())
}
