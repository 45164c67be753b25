//! What `/proc` says about a process: resident memory and CPU time. Linux only; a missing
//! process or field reads as `None`, never as an error, because these figures decorate a
//! benchmark rather than decide it.

use std::time::Duration;

/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, which Linux fixes at 100 per second
/// for user space whatever the kernel's own tick rate.
const TICKS_PER_SECOND: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// VmRSS: resident now.
    pub resident_bytes: u64,
    /// VmHWM: the most ever resident.
    pub peak_resident_bytes: u64,
}

pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Memory {
        resident_bytes: kibibytes_field(&status, "VmRSS:")? * 1024,
        peak_resident_bytes: kibibytes_field(&status, "VmHWM:")? * 1024,
    })
}

fn kibibytes_field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// User plus system CPU time the process has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    stat_cpu_time(&format!("/proc/{pid}/stat"))
}

/// User plus system CPU time of the threads of `pid` whose names start with `prefix` (such as
/// the proxy's `berth-proxy-N` threads inside `berth up`).
pub fn threads_cpu_time(pid: u32, prefix: &str) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = Duration::ZERO;
    for task in tasks.flatten() {
        // A thread that ended since the listing has no files left: it counts for nothing.
        let Ok(comm) = std::fs::read_to_string(task.path().join("comm")) else { continue };
        if comm.starts_with(prefix) {
            total += stat_cpu_time(&task.path().join("stat").to_string_lossy()).unwrap_or_default();
        }
    }
    Some(total)
}

/// The processes whose parent is `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // Field 4, the parent's pid, is the second after the command name.
            let parent: u32 = stat[stat.rfind(')')? + 1..].split_whitespace().nth(1)?.parse().ok()?;
            (parent == pid).then_some(child)
        })
        .collect()
}

fn stat_cpu_time(path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the whole line (utime, stime) are the 12th and 13th after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// The pid of a running `berth server` (or `berth up`) whose command line names `listen`,
/// for when the benchmark did not start the server itself.
pub fn find_server(listen: &str) -> Option<u32> {
    let entries = std::fs::read_dir("/proc").ok()?;
    entries.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let command_line = std::fs::read(entry.path().join("cmdline")).ok()?;
        let arguments: Vec<&[u8]> = command_line.split(|byte| *byte == 0).collect();
        let is_berth = arguments.first().is_some_and(|program| program.ends_with(b"berth"));
        let serves = arguments.contains(&b"server".as_slice()) || arguments.contains(&b"up".as_slice());
        let listens = arguments.contains(&listen.as_bytes());
        (is_berth && serves && listens && pid != std::process::id()).then_some(pid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let own = memory(std::process::id()).unwrap();
        assert!(own.resident_bytes > 0 && own.peak_resident_bytes >= own.resident_bytes);
        assert!(cpu_time(std::process::id()).is_some());
        assert!(threads_cpu_time(std::process::id(), "").is_some());
        assert!(children(u32::MAX).is_empty());
        assert!(memory(u32::MAX).is_none());
    }
}
