//! The scale benchmark's figures, and the table they are printed as. Targets are printed next
//! to the figures for the reader; nothing is asserted.

use crate::stats::{millis, summarise};
use std::fmt::Write as _;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct ScaleFigures {
    pub instances: usize,
    pub tasks_wanted: usize,
    pub clients: usize,
    pub registration: Duration,
    pub load: super::load::LoadOutcome,
    pub resident_before_fleet: Option<u64>,
    pub resident_after_fleet: Option<u64>,
    pub resident_after_load: Option<u64>,
    pub peak_resident: Option<u64>,
    pub restart: Option<RestartFigures>,
    /// The fleet's counters once the load was placed and RUNNING, before any restart.
    pub fleet_after_load: Option<berth_sim::FleetSnapshot>,
    /// And at the end (a restart's refused requests show up here).
    pub fleet: Option<berth_sim::FleetSnapshot>,
}

#[derive(Debug, Default)]
pub struct RestartFigures {
    pub first_answer: Duration,
    /// The cluster's (RUNNING, PENDING) task counts once the restarted server answers.
    pub counts_after_restart: Option<(u64, u64)>,
    pub resident_after_restart: Option<u64>,
}

pub fn render(figures: &ScaleFigures) -> String {
    let load = &figures.load;
    let mut rows: Vec<(String, String, &str)> = Vec::new();
    let per_second = |count: usize, over: Duration| count as f64 / over.as_secs_f64().max(f64::EPSILON);
    rows.push((
        "hollow instances registered".into(),
        format!(
            "{} in {:.1} s ({:.0}/s)",
            figures.instances,
            figures.registration.as_secs_f64(),
            per_second(figures.instances, figures.registration)
        ),
        "",
    ));
    rows.push((
        "RunTask calls (ok / failed)".into(),
        format!("{} / {}", load.calls - load.failed_calls, load.failed_calls),
        "",
    ));
    rows.push((
        "tasks placed and acknowledged".into(),
        format!("{} of {} ({} placement failures)", load.placed, figures.tasks_wanted, load.placement_failures),
        "",
    ));
    rows.push((
        "placement throughput".into(),
        format!("{:.0} tasks/s over {:.1} s", per_second(load.placed, load.placing), load.placing.as_secs_f64()),
        ">= 5,000 tasks/s",
    ));
    match summarise(&load.latencies) {
        Some(summary) => rows.push((
            "RunTask latency p50 / p99 / max".into(),
            format!("{:.1} / {:.1} / {:.1} ms", millis(summary.median), millis(summary.p99), millis(summary.max)),
            "p99 < 50 ms",
        )),
        None => rows.push(("RunTask latency".into(), "no call succeeded".into(), "p99 < 50 ms")),
    }
    rows.push((
        "time until all placed tasks RUNNING".into(),
        match load.all_running {
            Some(after) => format!("{:.1} s from the first RunTask", after.as_secs_f64()),
            None => {
                format!("not reached: {} RUNNING after {:.0} s", load.last_running_count, load.elapsed.as_secs_f64())
            }
        },
        "",
    ));
    if let Some(cpu) = load.server_cpu {
        rows.push((
            "server CPU during the load".into(),
            format!(
                "{:.1} s ({:.2} cores on average)",
                cpu.as_secs_f64(),
                cpu.as_secs_f64() / load.elapsed.as_secs_f64()
            ),
            "",
        ));
    }
    rows.push(("server RSS before the fleet".into(), mebibytes(figures.resident_before_fleet), ""));
    rows.push(("server RSS with the fleet, no tasks".into(), mebibytes(figures.resident_after_fleet), ""));
    rows.push((
        format!("server RSS, {} instances + {} tasks", figures.instances, load.placed),
        mebibytes(figures.resident_after_load),
        "<= 1 GiB",
    ));
    rows.push(("server peak RSS (VmHWM)".into(), mebibytes(figures.peak_resident), "<= 1 GiB"));
    match &figures.restart {
        Some(restart) => {
            rows.push((
                "restart after kill -9: first answer".into(),
                format!("{:.0} ms", millis(restart.first_answer)),
                "<= 5 s",
            ));
            rows.push((
                "tasks after the restart".into(),
                restart.counts_after_restart.map_or("unknown".into(), |(running, pending)| {
                    format!("{running} RUNNING + {pending} PENDING of {} placed", load.placed)
                }),
                "none lost",
            ));
            rows.push(("server RSS after the restart".into(), mebibytes(restart.resident_after_restart), ""));
        }
        None => rows.push(("restart".into(), "skipped (server not started by the benchmark)".into(), "")),
    }
    if let Some(fleet) = &figures.fleet_after_load {
        rows.push(("hollow fleet after the load".into(), fleet.to_string(), ""));
    }
    if let Some(fleet) = &figures.fleet {
        rows.push(("hollow fleet at the end".into(), fleet.to_string(), ""));
    }
    let width = rows.iter().map(|(name, _, _)| name.len()).max().unwrap_or(0);
    // Targets line up after the widest value that has one; long untargeted values run on.
    let value_width = rows.iter().filter(|(_, _, target)| !target.is_empty()).map(|(_, value, _)| value.len()).max();
    let value_width = value_width.unwrap_or(0);
    let mut table = format!(
        "scale benchmark: {} hollow instances, {} tasks (RunTask count 10), {} clients, loopback\n",
        figures.instances, figures.tasks_wanted, figures.clients
    );
    for (name, value, target) in rows {
        let target = if target.is_empty() { String::new() } else { format!("  target {target}") };
        let line = format!("  {name:<width$}  {value:<value_width$}{target}");
        let _ = writeln!(table, "{}", line.trim_end());
    }
    table
}

fn mebibytes(bytes: Option<u64>) -> String {
    bytes.map_or("unknown (no server pid)".into(), |bytes| format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0)))
}
