//! What a simulated fleet looks like: how many hollow instances, their size, their attributes
//! and the capacity provider they join. Parsing of the `name=v1,v2,..` attribute form lives
//! here so the CLI and the benchmarks share it.

/// One attribute whose values are dealt to instances round-robin: with values `[a, b, c]`,
/// instance 0 gets `a`, instance 1 `b`, instance 3 `a` again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadAttribute {
    pub name: String,
    /// Never empty; a single empty string stands for an attribute without a value.
    pub values: Vec<String>,
}

impl SpreadAttribute {
    /// The value instance `index` gets, `None` for a valueless attribute.
    pub fn value_for(&self, index: usize) -> Option<&str> {
        let value = &self.values[index % self.values.len()];
        (!value.is_empty()).then_some(value.as_str())
    }
}

/// Parses `name=v1,v2,..` (or a bare `name` for a valueless attribute).
pub fn parse_spread_attribute(text: &str) -> Result<SpreadAttribute, String> {
    let (name, values) = match text.split_once('=') {
        Some((name, values)) => (name, values.split(',').map(str::to_string).collect()),
        None => (text, vec![String::new()]),
    };
    if name.is_empty() {
        return Err(format!("{text:?} has an empty attribute name"));
    }
    Ok(SpreadAttribute { name: name.to_string(), values })
}

#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The Berth server's URL, e.g. `http://127.0.0.1:23784`.
    pub server: String,
    pub cluster: String,
    pub instances: usize,
    /// CPU units each instance registers (1024 per vCPU).
    pub cpu: i32,
    /// Memory (MiB) each instance registers.
    pub memory_mib: i32,
    pub attributes: Vec<SpreadAttribute>,
    pub capacity_provider: Option<String>,
    /// Instance `i`'s identity is this prefix followed by `i` in 8 hex digits, so a second run
    /// with the same prefix registers the same container instances again.
    pub identity_prefix: String,
    /// How many registrations are in flight at once while the fleet starts.
    pub registration_concurrency: usize,
}

impl FleetConfig {
    pub fn new(server: &str, cluster: &str, instances: usize) -> Self {
        FleetConfig {
            server: server.to_string(),
            cluster: cluster.to_string(),
            instances,
            cpu: 4096,
            memory_mib: 16384,
            attributes: Vec::new(),
            capacity_provider: None,
            identity_prefix: "i-hollow".to_string(),
            registration_concurrency: 32,
        }
    }

    pub fn identity(&self, index: usize) -> String {
        format!("{}{index:08x}", self.identity_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_dealt_round_robin() {
        let zones = parse_spread_attribute("ecs.availability-zone=us-east-1a,us-east-1b,us-east-1c").unwrap();
        assert_eq!(zones.name, "ecs.availability-zone");
        let dealt: Vec<_> = (0..4).map(|index| zones.value_for(index)).collect();
        assert_eq!(dealt, [Some("us-east-1a"), Some("us-east-1b"), Some("us-east-1c"), Some("us-east-1a")]);
    }

    #[test]
    fn bare_names_and_bad_input() {
        assert_eq!(parse_spread_attribute("gpu").unwrap().value_for(7), None);
        assert_eq!(parse_spread_attribute("stack=blue").unwrap().value_for(3), Some("blue"));
        assert!(parse_spread_attribute("=blue").is_err());
    }

    #[test]
    fn identities_are_stable_per_prefix() {
        let config = FleetConfig::new("http://127.0.0.1:1", "c", 2);
        assert_eq!(config.identity(10), "i-hollow0000000a");
        assert_ne!(config.identity(0), config.identity(1));
    }
}
