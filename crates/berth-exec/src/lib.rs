//! ECS Exec plumbing shared by the server, the agent and the `berth exec` client.
//!
//! A session's stream is a plain HTTP/1.1 upgrade (`Upgrade: berth-exec`) carrying
//! [`frame::Frame`]s both ways: the client attaches at the `streamUrl` ExecuteCommand returned,
//! the agent of the task's instance attaches for the same session, and the server relays frames
//! between the two. Nothing here knows ECS records or Docker.
//!
//! - [`frame`]: the framing (kind byte, length, payload) and its async reader/writer.
//! - [`command_words`]: ECS's one-string `command` split into argv, and argv joined into one.
//! - [`upgrade`]: the client side of the upgrade over a plain TCP connection.
//! - [`client`]: `berth exec` and `berth exec-sessions list`; [`terminal`]: raw mode and size.
//! - [`ticket`]: what the server tells an agent about a session to serve.

#![forbid(unsafe_code)]

pub mod client;
pub mod command_words;
pub mod frame;
pub mod terminal;
pub mod upgrade;

/// The `Upgrade` protocol token of a session stream.
pub const UPGRADE_PROTOCOL: &str = "berth-exec";
/// The header that carries a session's token (the client's or the agent's) on attach.
pub const TOKEN_HEADER: &str = "x-berth-exec-token";
pub mod ticket;
