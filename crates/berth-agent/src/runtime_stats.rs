//! One sample of a container's resource counters, typed: what the usage sampler needs from
//! Docker's stats API (`GET /containers/{id}/stats?stream=false&one-shot=true`), parsed once at
//! the runtime boundary so the sampler never reads Docker's JSON.
//!
//! Docker's shape (API 1.41+): `cpu_stats.cpu_usage.total_usage` and
//! `cpu_stats.system_cpu_usage` in nanoseconds, `cpu_stats.online_cpus`;
//! `memory_stats.usage` in bytes with the cgroup's counters under `memory_stats.stats`
//! (cgroup v2 names the reclaimable page cache `inactive_file`, cgroup v1
//! `total_inactive_file`); `networks` maps each interface to its `rx_bytes`/`tx_bytes`
//! (absent for containers on the host's or no network). Missing members read as zero: a
//! container that has just stopped answers with an empty sample.

use serde_json::Value;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContainerStatsSample {
    /// CPU time the container used since it started, in nanoseconds.
    pub cpu_total_ns: u64,
    /// CPU time the whole host used since it booted, in nanoseconds (all CPUs).
    pub system_cpu_ns: u64,
    pub online_cpus: u32,
    /// The cgroup's memory usage, page cache included.
    pub memory_usage_bytes: u64,
    /// Page cache the kernel may reclaim (`inactive_file`), part of `memory_usage_bytes`.
    pub memory_inactive_file_bytes: u64,
    /// Summed over every interface, since the container started.
    pub network_rx_bytes: u64,
    pub network_tx_bytes: u64,
}

impl ContainerStatsSample {
    /// Reads Docker's stats JSON; `None` when it is not a stats object at all.
    pub fn from_docker_json(stats: &Value) -> Option<Self> {
        let stats = stats.as_object()?;
        let number = |value: Option<&Value>| value.and_then(Value::as_u64).unwrap_or(0);
        let cpu = stats.get("cpu_stats");
        let memory = stats.get("memory_stats");
        let memory_counters = memory.and_then(|memory| memory.get("stats"));
        // Only cgroup v1 has `total_inactive_file` (the hierarchy's, which `docker stats` uses
        // there); its `inactive_file` is the cgroup's own. v2 has just `inactive_file`.
        let inactive_file = memory_counters
            .and_then(|counters| counters.get("total_inactive_file").or_else(|| counters.get("inactive_file")));
        let (mut rx, mut tx) = (0u64, 0u64);
        if let Some(networks) = stats.get("networks").and_then(Value::as_object) {
            for interface in networks.values() {
                rx = rx.saturating_add(number(interface.get("rx_bytes")));
                tx = tx.saturating_add(number(interface.get("tx_bytes")));
            }
        }
        Some(ContainerStatsSample {
            cpu_total_ns: number(cpu.and_then(|cpu| cpu.get("cpu_usage")).and_then(|usage| usage.get("total_usage"))),
            system_cpu_ns: number(cpu.and_then(|cpu| cpu.get("system_cpu_usage"))),
            online_cpus: u32::try_from(number(cpu.and_then(|cpu| cpu.get("online_cpus")))).unwrap_or(u32::MAX),
            memory_usage_bytes: number(memory.and_then(|memory| memory.get("usage"))),
            memory_inactive_file_bytes: number(inactive_file),
            network_rx_bytes: rx,
            network_tx_bytes: tx,
        })
    }

    /// Memory in use as `docker stats` shows it: usage less the reclaimable page cache (when
    /// the cache is smaller than the usage, as Docker's CLI checks).
    pub fn memory_in_use_bytes(&self) -> u64 {
        if self.memory_inactive_file_bytes < self.memory_usage_bytes {
            self.memory_usage_bytes - self.memory_inactive_file_bytes
        } else {
            self.memory_usage_bytes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Docker 24 on a cgroup v2 host, as `docker stats` reads it (trimmed to what matters).
    fn cgroup_v2() -> Value {
        json!({
            "read": "2024-05-01T10:00:05.000000001Z",
            "name": "/ecs-web-1-web",
            "pids_stats": {"current": 3, "limit": 4611},
            "cpu_stats": {
                "cpu_usage": {"total_usage": 2_500_000_000u64, "usage_in_kernelmode": 500_000_000u64, "usage_in_usermode": 2_000_000_000u64},
                "system_cpu_usage": 90_000_000_000_000u64,
                "online_cpus": 2,
                "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}
            },
            "precpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
            "memory_stats": {
                "usage": 20_971_520u64,
                "limit": 536_870_912u64,
                "stats": {"anon": 8_388_608u64, "file": 12_582_912u64, "active_file": 4_194_304u64, "inactive_file": 8_388_608u64}
            },
            "networks": {
                "eth0": {"rx_bytes": 1000, "rx_packets": 10, "tx_bytes": 300, "tx_packets": 3},
                "eth1": {"rx_bytes": 24, "rx_packets": 1, "tx_bytes": 20, "tx_packets": 1}
            }
        })
    }

    /// Docker 20.10 on a cgroup v1 host: per-CPU usage, `total_*` hierarchy counters.
    fn cgroup_v1() -> Value {
        json!({
            "read": "2021-03-01T10:00:05.123Z",
            "cpu_stats": {
                "cpu_usage": {"total_usage": 7_000_000u64, "percpu_usage": [3_000_000u64, 4_000_000u64]},
                "system_cpu_usage": 1_000_000_000u64,
                "online_cpus": 2
            },
            "memory_stats": {
                "usage": 10_485_760u64,
                "max_usage": 12_000_000u64,
                "limit": 2_147_483_648u64,
                "stats": {"cache": 4_194_304u64, "inactive_file": 1u64, "total_inactive_file": 3_145_728u64, "rss": 6_291_456u64}
            },
            "networks": {"eth0": {"rx_bytes": 5, "tx_bytes": 7}}
        })
    }

    #[test]
    fn cgroup_v2_stats_subtract_inactive_file_and_sum_interfaces() {
        let sample = ContainerStatsSample::from_docker_json(&cgroup_v2()).unwrap();
        assert_eq!(
            sample,
            ContainerStatsSample {
                cpu_total_ns: 2_500_000_000,
                system_cpu_ns: 90_000_000_000_000,
                online_cpus: 2,
                memory_usage_bytes: 20_971_520,
                memory_inactive_file_bytes: 8_388_608,
                network_rx_bytes: 1024,
                network_tx_bytes: 320,
            }
        );
        assert_eq!(sample.memory_in_use_bytes(), 12 << 20);
    }

    #[test]
    fn cgroup_v1_stats_read_the_hierarchy_total() {
        let sample = ContainerStatsSample::from_docker_json(&cgroup_v1()).unwrap();
        assert_eq!(sample.cpu_total_ns, 7_000_000);
        assert_eq!(sample.system_cpu_ns, 1_000_000_000);
        assert_eq!((sample.network_rx_bytes, sample.network_tx_bytes), (5, 7));
        // v1 also has the cgroup's own `inactive_file`; the hierarchy's total is what counts.
        assert_eq!(sample.memory_inactive_file_bytes, 3_145_728);
        assert_eq!(sample.memory_in_use_bytes(), 10_485_760 - 3_145_728);
    }

    #[test]
    fn a_stopped_container_reads_as_zeros_and_garbage_as_nothing() {
        let stopped =
            json!({"read": "0001-01-01T00:00:00Z", "cpu_stats": {"cpu_usage": {"total_usage": 0}}, "memory_stats": {}});
        assert_eq!(ContainerStatsSample::from_docker_json(&stopped), Some(ContainerStatsSample::default()));
        assert_eq!(ContainerStatsSample::from_docker_json(&Value::Null), None);
        // A cache larger than the usage (racy counters) leaves the usage as it is.
        let racy =
            ContainerStatsSample { memory_usage_bytes: 10, memory_inactive_file_bytes: 20, ..Default::default() };
        assert_eq!(racy.memory_in_use_bytes(), 10);
    }
}
