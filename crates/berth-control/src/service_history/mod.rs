//! Service history: the durable service revisions and service deployments behind
//! ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions and
//! StopServiceDeployment.
//!
//! Invariant: a record is written in the same durable write as the service change that moved
//! it — CreateService/UpdateService create them, reconciler passes move them, a user's stop
//! rolls them back — so after a crash history and the service's progress still agree.
//! Deliberately not here: lifecycle hooks (they come with load balancing), CloudWatch alarms.

pub mod actions;
pub mod mapping;
pub mod records;

#[cfg(test)]
mod mapping_tests;
