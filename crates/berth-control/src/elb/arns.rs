//! ELBv2's ARN and DNS name formats (long hexadecimal IDs, as AWS issues them).

use berth_types::ArnContext;

/// A fresh 16-hex-digit resource ID.
pub fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn prefix(context: &ArnContext) -> String {
    format!("arn:aws:elasticloadbalancing:{}:{}", context.region, context.account)
}

pub fn load_balancer(context: &ArnContext, name: &str, id: &str) -> String {
    format!("{}:loadbalancer/app/{name}/{id}", prefix(context))
}

pub fn target_group(context: &ArnContext, name: &str, id: &str) -> String {
    format!("{}:targetgroup/{name}/{id}", prefix(context))
}

/// A listener's ARN carries its load balancer's `app/NAME/ID`.
pub fn listener(load_balancer_arn: &str, id: &str) -> String {
    format!("{}/{id}", load_balancer_arn.replacen(":loadbalancer/", ":listener/", 1))
}

/// A rule's ARN carries its listener's path.
pub fn rule(listener_arn: &str, id: &str) -> String {
    format!("{}/{id}", listener_arn.replacen(":listener/", ":listener-rule/", 1))
}

/// The default rule of a listener has an ARN of its own, stable for the listener's life: its
/// ID is derived from the listener's.
pub fn default_rule(listener_arn: &str) -> String {
    let listener_id = listener_arn.rsplit('/').next().unwrap_or_default();
    let reversed: String = listener_id.chars().rev().collect();
    rule(listener_arn, &reversed)
}

/// `NAME-DIGITS.REGION.elb.localhost` (`internal-` first for internal load balancers): AWS's
/// shape under `.localhost`, which glibc's `myhostname` module and curl resolve to loopback,
/// where the proxy's listeners accept.
pub fn dns_name(context: &ArnContext, name: &str, scheme: &str) -> String {
    let digits = rand::random_range(1_000_000_000u64..10_000_000_000);
    let internal = if scheme == "internal" { "internal-" } else { "" };
    format!("{internal}{name}-{digits}.{}.elb.localhost", context.region)
}

/// The ARN kinds ELBv2 tags: load balancers, target groups, listeners and rules.
pub fn is_taggable(arn: &str) -> bool {
    [":loadbalancer/", ":targetgroup/", ":listener/", ":listener-rule/"].iter().any(|kind| arn.contains(kind))
        && arn.starts_with("arn:aws:elasticloadbalancing:")
}
