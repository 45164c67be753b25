//! Task placement as a pure function: which container instance takes each copy of a task, and
//! — when none can — each instance's reason in ECS's words.
//!
//! - [`query`]: ECS's cluster query language (memberOf constraints, ListContainerInstances
//!   filters).
//! - [`model`]: [`InstanceView`] and [`PlacementRequest`] with constraints and strategies;
//!   [`validate`] reads them from the wire's loose shapes and checks ECS's limits.
//! - [`place`]: feasibility (status, agent, required attributes, CPU, memory, TCP/UDP ports),
//!   constraints, then the strategy chain, with indexes so large clusters stay fast.
//! - [`render_placements`]: placements as text for snapshot tests.
//! - `legacy`: the first API (`place_tasks`, `check_fit`, `Candidate`), kept until
//!   `berth-control` moves to [`place`].
//!
//! Invariant: no I/O, no clock, no global randomness. The caller passes a seed; the same
//! inputs and seed always give the same placement.
//!
//! Not here: capacity providers, Fargate, and reading cluster state — the caller builds the
//! views.

pub mod capacity;
mod engine;
mod legacy;
pub mod model;
pub mod query;
mod rejection;
mod render;
pub mod validate;

pub use capacity::{split_by_strategy, ProviderShare};
pub use engine::{place, place_by_scan, Placement};
pub use legacy::{check_fit, place_tasks, Candidate};
pub use model::{BinpackField, InstanceView, PlacementConstraint, PlacementRequest, PlacementStrategy, SpreadField};
pub use query::{Expression, QueryError, MAX_EXPRESSION_CHARACTERS};
pub use rejection::Rejection;
pub use render::render_placements;
pub use validate::{PlacementRequestError, MAX_PLACEMENT_CONSTRAINTS, MAX_PLACEMENT_STRATEGIES};
