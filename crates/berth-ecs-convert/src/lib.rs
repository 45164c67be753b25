//! Parsing ECS wire requests into Berth's domain types, with the validation rules ECS applies:
//! RegisterTaskDefinition into a `TaskSpec` plus the document Describe echoes, RunTask
//! overrides applied to a `TaskSpec`, and resource tags.
//!
//! Invariant: every function here is pure. A request either becomes validated domain values
//! or a [`ValidationError`] whose message names the offending field and whose kind says which
//! ECS error type (`ClientException` or `InvalidParameterException`) to answer with.
//!
//! Deliberately not here: storing definitions, assigning revisions and ARNs (the control
//! plane), and HTTP or error-body encoding (the API edge).

mod daemon_task_definition;
mod error;
mod names;
mod overrides;
mod resource_rules;
mod tags;
mod task_definition;
mod units;

pub use daemon_task_definition::{parse_register_daemon_task_definition, ParsedDaemonTaskDefinition};
pub use error::{ValidationError, ValidationErrorKind};
pub use overrides::{apply_overrides, ParsedOverrides, MAX_CONTAINER_OVERRIDES_CHARACTERS};
pub use tags::{parse_tags, MAX_TAGS_PER_RESOURCE};
pub use task_definition::{
    document_to_value, parse_register_task_definition, render_task_definition, ParsedTaskDefinition,
    MAX_CONTAINERS_PER_TASK_DEFINITION, MAX_TASK_DEFINITION_BYTES,
};
pub use units::{parse_task_cpu, parse_task_memory, MAX_TASK_CPU_UNITS, MIN_MEMORY_MIB, MIN_TASK_CPU_UNITS};
