//! File descriptors: a fleet holds about one connection per hollow instance, so 5,000
//! instances need more than the common default soft limit of 1,024. The soft limit is raised
//! up to the hard limit; past that the operator must raise it (`ulimit -n`).

use crate::SimError;

/// Descriptors kept for everything but the instances' connections (the runtime, the logs,
/// the benchmark's own clients).
const SPARE_DESCRIPTORS: u64 = 512;

/// Raises the soft `RLIMIT_NOFILE` as far as allowed and checks it covers `instances`.
pub fn ensure_descriptors_for(instances: usize) -> Result<u64, SimError> {
    let needed = instances as u64 + SPARE_DESCRIPTORS;
    let limit = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|error| SimError::Descriptors(format!("cannot read or raise RLIMIT_NOFILE: {error}")))?;
    if limit < needed {
        return Err(SimError::Descriptors(format!(
            "{instances} hollow instances need about {needed} file descriptors but the limit is {limit}; \
             raise the hard limit (ulimit -Hn) and try again"
        )));
    }
    Ok(limit)
}
