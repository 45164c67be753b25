//! The benchmarks behind `berth bench`. Each talks to a Berth endpoint the way a user's tools
//! do (ECS JSON over HTTP on loopback) and prints its figures; none is a test, so none can fail
//! on a slow machine.
//!
//! - [`launch`]: RunTask → RUNNING against `docker create` + `docker start` of the same image.
//! - [`api`]: DescribeTasks (100 tasks) and ListTasks under concurrent clients.
//! - [`startup`]: how soon a fresh `berth up` answers its first request.
//! - [`exec`]: `berth exec … -- echo hi` against `docker exec` on the same container.
//! - [`proxy`]: an ELBv2 listener of Berth's proxy against nginx as a reverse proxy to the same
//!   targets (wrk, alternating rounds), a new target's first request after it turns healthy,
//!   and ([`proxy_memory`], a child process) the proxy's memory with 10,000 checked targets.
//! - [`logs`]: a task's output through the awslogs shipper against Docker's json-file logging
//!   of the same task, the server's memory while it ingests, and GetLogEvents/FilterLogEvents
//!   over a million stored events.
//! - [`scale`]: thousands of hollow instances (`berth-sim`), a hundred thousand tasks placed
//!   through RunTask, the server's memory, and its restart after `kill -9`.
//!
//! - [`schedules`]: many EventBridge Scheduler schedules at `rate(1 minute)` on hollow
//!   instances: how late firings call RunTask (p50, p99) and the server's CPU.
//!
//! Every loop here is bounded in count and time, and talks only to loopback and the containers
//! it created.

pub mod api;
pub mod ecs_client;
pub mod elb_client;
pub mod exec;
pub mod launch;
pub mod logs;
pub mod metrics;
pub mod process;
pub mod proxy;
pub mod proxy_memory;
pub mod scale;
pub mod schedules;
pub mod service;
pub mod startup;
pub mod stats;
