//! The task metadata endpoint inside containers (ECS's task metadata endpoint v3/v4 and the
//! agent API's task scale-in protection endpoint): a small HTTP server the agent runs on the
//! Docker bridge gateway, and the registry of what it may answer.
//!
//! Every container gets its own unguessable token, given to it in `ECS_CONTAINER_METADATA_URI_V4`
//! (`http://<gateway>:<port>/v4/<token>`), `ECS_CONTAINER_METADATA_URI` (`…/v3/<token>`) and
//! `ECS_AGENT_URI` (`…/api/<token>`), and kept in a container label so a restarted agent knows
//! its containers' tokens again. Invariant: a request is answered only for the task (and
//! container) its token belongs to; an unknown token, or any other path, is a 404 — a task ID
//! alone opens nothing. Not here: the JSON shapes (`render`) and the routes (`server`).

pub mod listen;
pub mod render;
pub mod server;

use crate::task::state::{ContainerPhase, TaskState};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};

/// The label that keeps a container's metadata token across agent restarts.
pub const TOKEN_LABEL: &str = "dev.berth.metadata-token";

/// Which container a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub task_arn: String,
    pub container: String,
}

/// What the endpoint knows: tokens and the latest state of every task this agent runs.
#[derive(Debug, Default)]
pub struct MetadataRegistry {
    /// `http://<address>:<port>` when the server listens; `None` leaves containers without
    /// the endpoint's variables.
    base_uri: Option<String>,
    /// The cluster's name, for the `Cluster` member.
    pub cluster: String,
    pub availability_zone: Option<String>,
    tokens: RwLock<HashMap<String, TokenOwner>>,
    tasks: RwLock<HashMap<String, TaskState>>,
}

impl MetadataRegistry {
    pub fn new(base_uri: Option<String>, cluster: String, availability_zone: Option<String>) -> Self {
        MetadataRegistry { base_uri, cluster, availability_zone, ..MetadataRegistry::default() }
    }

    /// A registry with no server: containers get no metadata variables.
    pub fn disabled() -> Self {
        MetadataRegistry::default()
    }

    /// A fresh token for a container about to be created, and the label and variables that
    /// carry it; `None` when the endpoint is not running.
    pub fn issue(&self, task_arn: &str, container: &str) -> Option<(String, Vec<(String, String)>)> {
        let base = self.base_uri.as_ref()?;
        let token = format!("{:032x}", rand::random::<u128>());
        self.tokens
            .write()
            .insert(token.clone(), TokenOwner { task_arn: task_arn.to_string(), container: container.to_string() });
        let environment = vec![
            ("ECS_CONTAINER_METADATA_URI_V4".to_string(), format!("{base}/v4/{token}")),
            ("ECS_CONTAINER_METADATA_URI".to_string(), format!("{base}/v3/{token}")),
            ("ECS_AGENT_URI".to_string(), format!("{base}/api/{token}")),
        ];
        Some((token, environment))
    }

    /// Learns the token of an existing container from its labels (adoption after a restart).
    pub fn adopt(&self, labels: &BTreeMap<String, String>) {
        use berth_agent_protocol::labels;
        let (Some(token), Some(task_arn), Some(container)) =
            (labels.get(TOKEN_LABEL), labels.get(labels::TASK_ARN), labels.get(labels::CONTAINER_NAME))
        else {
            return;
        };
        if token.len() < 32 {
            return;
        }
        self.tokens
            .write()
            .entry(token.clone())
            .or_insert_with(|| TokenOwner { task_arn: task_arn.clone(), container: container.clone() });
    }

    pub fn update_task(&self, state: &TaskState) {
        self.tasks.write().insert(state.task_arn.clone(), state.clone());
    }

    /// The task is gone from this host: its tokens open nothing any more.
    pub fn forget_task(&self, task_arn: &str) {
        self.tasks.write().remove(task_arn);
        self.tokens.write().retain(|_, owner| owner.task_arn != task_arn);
    }

    pub fn owner(&self, token: &str) -> Option<TokenOwner> {
        self.tokens.read().get(token).cloned()
    }

    pub fn task(&self, task_arn: &str) -> Option<TaskState> {
        self.tasks.read().get(task_arn).cloned()
    }

    /// Every container of this agent's tasks that ran at the last inspect, for the usage
    /// sampler: the runners keep the registry current, so sampling needs no Docker listing.
    pub fn running_containers(&self) -> Vec<RunningContainer> {
        let tasks = self.tasks.read();
        let mut running = Vec::new();
        for task in tasks.values() {
            for container in &task.containers {
                if let (ContainerPhase::Running, Some(id)) = (container.phase, &container.runtime_id) {
                    running.push(RunningContainer {
                        task_arn: task.task_arn.clone(),
                        container_name: container.name.clone(),
                        runtime_id: id.clone(),
                    });
                }
            }
        }
        running
    }
}

/// A container the usage sampler samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningContainer {
    pub task_arn: String,
    pub container_name: String,
    pub runtime_id: String,
}
