//! `berth logs`: a task's or a service's awslogs output, read back through Berth's own ECS and
//! CloudWatch Logs APIs (so it works against any Berth endpoint), merged by time, and with
//! `--follow` followed as it arrives.

use crate::cli::LogsArgs;
use anyhow::{bail, Context};
use berth_bench::ecs_client::EcsClient;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LOGS_PREFIX: &str = "Logs_20140328.";
/// How often `--follow` asks for new lines, and re-reads a service's tasks.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(500);
const RESOLVE_EVERY: u32 = 10;

/// One awslogs stream to show, and where reading it stands.
struct Source {
    label: String,
    group: String,
    stream: String,
    token: Option<String>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// Looks like a task ID (32 hex digits) or a task ARN.
fn is_task(target: &str) -> bool {
    target.contains(":task/") || (target.len() == 32 && target.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

async fn task_arns(client: &EcsClient, cluster: &str, target: &str) -> anyhow::Result<Vec<String>> {
    if is_task(target) {
        return Ok(vec![target.to_string()]);
    }
    let mut arns = Vec::new();
    for status in ["RUNNING", "STOPPED"] {
        let listed = client
            .call("ListTasks", &json!({"cluster": cluster, "serviceName": target, "desiredStatus": status}))
            .await
            .with_context(|| format!("listing the tasks of service {target}"))?;
        arns.extend(
            listed["taskArns"].as_array().into_iter().flatten().filter_map(|arn| arn.as_str().map(String::from)),
        );
    }
    Ok(arns)
}

/// The awslogs streams of the targets' containers (only `container`, when named).
async fn resolve(client: &EcsClient, args: &LogsArgs) -> anyhow::Result<Vec<Source>> {
    let arns = task_arns(client, &args.cluster, &args.target).await?;
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let described = client.call("DescribeTasks", &json!({"cluster": args.cluster, "tasks": arns})).await?;
    if let Some(failure) = described["failures"].as_array().and_then(|failures| failures.first()) {
        bail!("{}: {}", failure["arn"].as_str().unwrap_or_default(), failure["reason"].as_str().unwrap_or_default());
    }
    let mut definitions: BTreeMap<String, Value> = BTreeMap::new();
    let mut sources = Vec::new();
    for task in described["tasks"].as_array().into_iter().flatten() {
        let task_arn = task["taskArn"].as_str().unwrap_or_default();
        let task_id = task_arn.rsplit('/').next().unwrap_or_default();
        let definition_arn = task["taskDefinitionArn"].as_str().unwrap_or_default().to_string();
        if !definitions.contains_key(&definition_arn) {
            let definition = client.call("DescribeTaskDefinition", &json!({"taskDefinition": definition_arn})).await?;
            definitions.insert(definition_arn.clone(), definition["taskDefinition"].clone());
        }
        for container in definitions[&definition_arn]["containerDefinitions"].as_array().into_iter().flatten() {
            let name = container["name"].as_str().unwrap_or_default();
            if args.container.as_deref().is_some_and(|wanted| wanted != name) {
                continue;
            }
            let logging = &container["logConfiguration"];
            if logging["logDriver"] != "awslogs" {
                continue;
            }
            let options = &logging["options"];
            let group = options["awslogs-group"].as_str().unwrap_or_default().to_string();
            let stream = match options["awslogs-stream-prefix"].as_str() {
                Some(prefix) => format!("{prefix}/{name}/{task_id}"),
                // Without a prefix the stream is named by the Docker container ID.
                None => task["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|running| running["name"] == name)
                    .and_then(|running| running["runtimeId"].as_str())
                    .unwrap_or_default()
                    .to_string(),
            };
            if !stream.is_empty() {
                sources.push(Source { label: format!("{name}/{task_id}"), group, stream, token: None });
            }
        }
    }
    Ok(sources)
}

/// New events of one source: (timestamp, message).
async fn read(client: &EcsClient, source: &mut Source, since: Option<i64>) -> anyhow::Result<Vec<(i64, String)>> {
    let mut events = Vec::new();
    loop {
        let mut request = json!({"logGroupName": source.group, "logStreamName": source.stream, "startFromHead": true});
        match &source.token {
            Some(token) => request["nextToken"] = json!(token),
            None => {
                if let Some(since) = since {
                    request["startTime"] = json!(since);
                }
            }
        }
        let page = match client.call_service(LOGS_PREFIX, "GetLogEvents", &request).await {
            Ok(page) => page,
            // The stream appears with the container's first batch.
            Err(error) if error.to_string().contains("ResourceNotFoundException") => return Ok(events),
            Err(error) => return Err(error),
        };
        let page_events = page["events"].as_array().cloned().unwrap_or_default();
        events.extend(page_events.iter().map(|event| {
            (event["timestamp"].as_i64().unwrap_or_default(), event["message"].as_str().unwrap_or_default().to_string())
        }));
        let next = page["nextForwardToken"].as_str().map(String::from);
        let done = page_events.is_empty() || next == source.token;
        source.token = next;
        if done {
            return Ok(events);
        }
    }
}

fn print(lines: &mut [(i64, String, String)], labelled: bool) {
    lines.sort_by_key(|line| line.0);
    for (_, label, message) in lines.iter() {
        if labelled {
            println!("{label} | {message}");
        } else {
            println!("{message}");
        }
    }
}

pub async fn run(args: LogsArgs) -> anyhow::Result<()> {
    let client = EcsClient::new(&args.server)?;
    let since = args.since.map(|since| now_ms() - since.as_millis() as i64);
    let mut sources = resolve(&client, &args).await?;
    if sources.is_empty() && !args.follow {
        bail!("{} has no container with the awslogs log driver", args.target);
    }
    let mut round = 0u32;
    loop {
        let labelled = sources.len() > 1 || args.container.is_none() && !is_task(&args.target);
        let mut lines = Vec::new();
        for source in &mut sources {
            for (timestamp, message) in read(&client, source, since).await? {
                lines.push((timestamp, source.label.clone(), message));
            }
        }
        print(&mut lines, labelled);
        if !args.follow {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_INTERVAL).await;
        round += 1;
        // A service's deployments bring new tasks: pick up their streams.
        if round.is_multiple_of(RESOLVE_EVERY) && !is_task(&args.target) {
            for found in resolve(&client, &args).await? {
                if !sources.iter().any(|source| source.group == found.group && source.stream == found.stream) {
                    sources.push(found);
                }
            }
        }
    }
}
