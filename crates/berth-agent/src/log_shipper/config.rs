//! The `awslogs` options of a container definition, parsed once into an [`AwslogsConfig`]:
//! which group and stream the container's output goes to, and how lines are grouped into
//! events. Refusals use Docker's words, since on ECS it is Docker's awslogs driver that
//! refuses them.

use crate::log_shipper::strftime;
use regex::Regex;
use std::collections::BTreeMap;

/// The log driver Berth ships itself.
pub const AWSLOGS_DRIVER: &str = "awslogs";

const GROUP: &str = "awslogs-group";
const STREAM_PREFIX: &str = "awslogs-stream-prefix";
const STREAM: &str = "awslogs-stream";
const CREATE_GROUP: &str = "awslogs-create-group";
const DATETIME_FORMAT: &str = "awslogs-datetime-format";
const MULTILINE_PATTERN: &str = "awslogs-multiline-pattern";
const MODE: &str = "mode";
/// Options Docker's awslogs driver takes that change nothing here: the region and endpoint
/// (there is one server), credentials (no IAM), Docker's own batching knobs (the shipper has
/// its own), and `max-buffer-size` (json-file buffers, so a container never waits for the
/// shipper whatever its mode).
const ACCEPTED_WITHOUT_EFFECT: [&str; 8] = [
    "awslogs-region",
    "awslogs-endpoint",
    "awslogs-credentials-endpoint",
    "awslogs-force-flush-interval-seconds",
    "awslogs-max-buffered-events",
    "awslogs-format",
    "tag",
    "max-buffer-size",
];

/// `mode`: whether Docker may drop lines rather than block the container. Accepted and
/// echoed only: Docker's json-file driver takes the output in both cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryMode {
    #[default]
    Blocking,
    NonBlocking,
}

/// Where a container's output goes and how its lines become events.
#[derive(Debug, Clone)]
pub struct AwslogsConfig {
    pub group: String,
    pub stream: StreamName,
    pub create_group: bool,
    /// A line matching this at its start begins a new event; other lines continue the
    /// pending one. `None`: every line is an event.
    pub event_start: Option<Regex>,
    pub mode: DeliveryMode,
}

/// How the stream is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamName {
    /// `awslogs-stream-prefix`: `PREFIX/CONTAINER-NAME/TASK-ID`.
    Prefixed(String),
    /// `awslogs-stream`, Docker's own option: exactly this name.
    Fixed(String),
    /// Neither: the Docker container ID, as ECS names streams on EC2.
    ContainerId,
}

/// A refusal of the options, in Docker's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl AwslogsConfig {
    pub fn parse(options: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        for key in options.keys() {
            let known = [GROUP, STREAM_PREFIX, STREAM, CREATE_GROUP, DATETIME_FORMAT, MULTILINE_PATTERN, MODE]
                .contains(&key.as_str())
                || ACCEPTED_WITHOUT_EFFECT.contains(&key.as_str());
            if !known {
                return Err(ConfigError(format!("unknown log opt '{key}' for awslogs log driver")));
            }
        }
        let group = options
            .get(GROUP)
            .filter(|group| !group.is_empty())
            .ok_or_else(|| ConfigError(format!("must specify a value for log opt '{GROUP}'")))?
            .clone();
        let stream = match (options.get(STREAM_PREFIX), options.get(STREAM)) {
            (Some(prefix), _) if !prefix.is_empty() => StreamName::Prefixed(prefix.clone()),
            (_, Some(stream)) if !stream.is_empty() => StreamName::Fixed(stream.clone()),
            _ => StreamName::ContainerId,
        };
        let create_group = match options.get(CREATE_GROUP) {
            None => false,
            Some(value) => parse_bool(value).ok_or_else(|| {
                ConfigError(format!("invalid value for log opt '{CREATE_GROUP}': {value:?} is not a boolean"))
            })?,
        };
        let mode = match options.get(MODE).map(String::as_str) {
            None | Some("" | "blocking") => DeliveryMode::Blocking,
            Some("non-blocking") => DeliveryMode::NonBlocking,
            Some(other) => return Err(ConfigError(format!("unknown log mode: {other}"))),
        };
        // As Docker: with both, the datetime format wins.
        let start_pattern = match (options.get(DATETIME_FORMAT), options.get(MULTILINE_PATTERN)) {
            (Some(format), _) if !format.is_empty() => Some(
                strftime::to_regex(format)
                    .map_err(|message| ConfigError(format!("invalid log opt '{DATETIME_FORMAT}': {message}")))?,
            ),
            (_, Some(pattern)) if !pattern.is_empty() => Some(pattern.clone()),
            _ => None,
        };
        let event_start = match start_pattern {
            Some(pattern) => Some(
                Regex::new(&format!("^(?:{pattern})"))
                    .map_err(|error| ConfigError(format!("awslogs could not parse multiline pattern: {error}")))?,
            ),
            None => None,
        };
        Ok(AwslogsConfig { group, stream, create_group, event_start, mode })
    }

    /// The stream's name for the container `container_name` (Docker ID `container_id`) of
    /// the task `task_arn`.
    pub fn stream_name(&self, task_arn: &str, container_name: &str, container_id: &str) -> String {
        match &self.stream {
            StreamName::Prefixed(prefix) => {
                format!("{prefix}/{container_name}/{}", crate::container_config::task_id(task_arn))
            }
            StreamName::Fixed(name) => name.clone(),
            StreamName::ContainerId => container_id.to_string(),
        }
    }
}

/// Go's `strconv.ParseBool`, which Docker uses for `awslogs-create-group`.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:ecs:us-east-1:000000000000:task/prod/0123456789abcdef0123456789abcdef";

    fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
    }

    #[test]
    fn stream_names_with_and_without_a_prefix() {
        let prefixed = AwslogsConfig::parse(&options(&[
            ("awslogs-group", "/ecs/web"),
            ("awslogs-region", "eu-west-1"),
            ("awslogs-stream-prefix", "ecs"),
        ]))
        .unwrap();
        assert_eq!(prefixed.group, "/ecs/web");
        assert_eq!(prefixed.stream_name(ARN, "web", "abc123"), "ecs/web/0123456789abcdef0123456789abcdef");
        let plain = AwslogsConfig::parse(&options(&[("awslogs-group", "/ecs/web")])).unwrap();
        assert_eq!(plain.stream_name(ARN, "web", "abc123"), "abc123");
        assert!(!plain.create_group);
        assert!(plain.event_start.is_none());
        assert_eq!(plain.mode, DeliveryMode::Blocking);
    }

    #[test]
    fn options_are_checked_like_docker() {
        let refusal = |pairs: &[(&str, &str)]| AwslogsConfig::parse(&options(pairs)).unwrap_err().0;
        assert_eq!(refusal(&[]), "must specify a value for log opt 'awslogs-group'");
        assert_eq!(
            refusal(&[("awslogs-group", "g"), ("colour", "red")]),
            "unknown log opt 'colour' for awslogs log driver"
        );
        assert!(refusal(&[("awslogs-group", "g"), ("awslogs-create-group", "yes")]).contains("not a boolean"));
        assert!(refusal(&[("awslogs-group", "g"), ("awslogs-multiline-pattern", "(")]).contains("multiline pattern"));
        let config = AwslogsConfig::parse(&options(&[
            ("awslogs-group", "g"),
            ("awslogs-create-group", "true"),
            ("mode", "non-blocking"),
            ("max-buffer-size", "4m"),
        ]))
        .unwrap();
        assert!(config.create_group);
        assert_eq!(config.mode, DeliveryMode::NonBlocking);
    }

    #[test]
    fn the_datetime_format_wins_over_the_multiline_pattern() {
        let config = AwslogsConfig::parse(&options(&[
            ("awslogs-group", "g"),
            ("awslogs-datetime-format", "%Y-%m-%d"),
            ("awslogs-multiline-pattern", "INFO"),
        ]))
        .unwrap();
        let start = config.event_start.unwrap();
        assert!(start.is_match("2024-02-29 boot"));
        assert!(!start.is_match("INFO boot"));
        // The pattern must match at the start of the line.
        let config =
            AwslogsConfig::parse(&options(&[("awslogs-group", "g"), ("awslogs-multiline-pattern", "INFO")])).unwrap();
        let start = config.event_start.unwrap();
        assert!(start.is_match("INFO boot"));
        assert!(!start.is_match("  at INFO"));
    }
}
