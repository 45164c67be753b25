"""ELBv2 on Berth's endpoint: the aws CLI and boto3 create, describe, modify and delete load
balancers, target groups, listeners, rules, targets and tags, and every answer (XML, Query
protocol) validates against botocore's model. Errors carry ELBv2's codes and name the field.
"""

from __future__ import annotations

import botocore.exceptions
import pytest

import berth_e2e as e2e

# Listeners bind loopback only: tests talk to nothing else.
BERTH_UP_EXTRA = ["--proxy-bind", "127.0.0.1"]


@pytest.fixture(scope="module")
def aws_elb(berth, tmp_path_factory):
    return e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-elbv2"), service="elbv2")


def error_of(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def short(prefix: str) -> str:
    # ELBv2 names are at most 32 characters.
    return f"{prefix}-{e2e.uuid.uuid4().hex[:8]}"


def forward(arn: str) -> list[dict]:
    return [{"Type": "forward", "TargetGroupArn": arn}]


def test_the_aws_cli_builds_a_load_balancer_with_listener_rules_and_targets(aws_elb, elb):
    name = short("cli")
    created = aws_elb("create-load-balancer", "--name", name, "--subnets", "subnet-a", "subnet-b",
                      "--security-groups", "sg-1", "--tags", "Key=team,Value=web")
    lb = created["LoadBalancers"][0]
    assert lb["LoadBalancerName"] == name
    assert lb["Type"] == "application" and lb["Scheme"] == "internet-facing"
    assert lb["State"]["Code"] == "active"
    assert lb["DNSName"].startswith(f"{name}-") and lb["DNSName"].endswith(".us-east-1.elb.localhost")
    assert lb["LoadBalancerArn"].startswith("arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/")
    # CreateLoadBalancer is idempotent for the same settings.
    again = aws_elb("create-load-balancer", "--name", name, "--subnets", "subnet-a", "subnet-b",
                    "--security-groups", "sg-1")
    assert again["LoadBalancers"][0]["LoadBalancerArn"] == lb["LoadBalancerArn"]

    group = aws_elb("create-target-group", "--name", short("tg"), "--protocol", "HTTP", "--port", "8080",
                    "--target-type", "ip", "--health-check-path", "/health", "--health-check-interval-seconds", "10",
                    "--health-check-timeout-seconds", "3", "--healthy-threshold-count", "2",
                    "--unhealthy-threshold-count", "3", "--matcher", "HttpCode=200-299")["TargetGroups"][0]
    assert group["HealthCheckPath"] == "/health" and group["HealthCheckIntervalSeconds"] == 10
    assert group["Matcher"] == {"HttpCode": "200-299"} and group["HealthCheckPort"] == "traffic-port"
    assert group["LoadBalancerArns"] == []

    port = e2e.free_port()
    listener = aws_elb("create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol", "HTTP",
                       "--port", str(port), "--default-actions",
                       f"Type=forward,TargetGroupArn={group['TargetGroupArn']}")["Listeners"][0]
    assert listener["Port"] == port and listener["Protocol"] == "HTTP"
    assert listener["DefaultActions"][0]["TargetGroupArn"] == group["TargetGroupArn"]
    described = elb.describe_target_groups(TargetGroupArns=[group["TargetGroupArn"]])["TargetGroups"][0]
    assert described["LoadBalancerArns"] == [lb["LoadBalancerArn"]]

    rule = aws_elb("create-rule", "--listener-arn", listener["ListenerArn"], "--priority", "10",
                   "--conditions", "Field=path-pattern,Values=/api/*",
                   "--actions", "Type=fixed-response,FixedResponseConfig={StatusCode=418,ContentType=text/plain,MessageBody=teapot}")
    assert rule["Rules"][0]["Priority"] == "10"
    assert rule["Rules"][0]["Conditions"][0]["PathPatternConfig"] == {"Values": ["/api/*"]}
    rules = aws_elb("describe-rules", "--listener-arn", listener["ListenerArn"])["Rules"]
    assert [r["Priority"] for r in rules] == ["10", "default"]
    assert rules[1]["IsDefault"] is True and rules[0]["IsDefault"] is False

    aws_elb("register-targets", "--target-group-arn", group["TargetGroupArn"],
            "--targets", "Id=127.0.0.1,Port=9001", "Id=127.0.0.1,Port=9002")
    health = aws_elb("describe-target-health", "--target-group-arn", group["TargetGroupArn"])
    ports = sorted(d["Target"]["Port"] for d in health["TargetHealthDescriptions"])
    assert ports == [9001, 9002]
    assert {d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]} <= {"initial", "unhealthy", "healthy"}

    tags = aws_elb("describe-tags", "--resource-arns", lb["LoadBalancerArn"])["TagDescriptions"][0]["Tags"]
    assert tags == [{"Key": "team", "Value": "web"}]
    # Deletion takes the listener and its rules along; the target group stays, unused.
    aws_elb("delete-load-balancer", "--load-balancer-arn", lb["LoadBalancerArn"])
    code, _ = error_of(elb.describe_listeners, ListenerArns=[listener["ListenerArn"]])
    assert code == "ListenerNotFound"
    health = elb.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    assert {d["TargetHealth"]["State"] for d in health} == {"unused"}
    assert {d["TargetHealth"]["Reason"] for d in health} == {"Target.NotInUse"}
    aws_elb("delete-target-group", "--target-group-arn", group["TargetGroupArn"])


@pytest.fixture
def load_balancer(elb):
    arn = elb.create_load_balancer(Name=short("lb"), Subnets=["subnet-a"])["LoadBalancers"][0]["LoadBalancerArn"]
    yield arn
    try:
        elb.delete_load_balancer(LoadBalancerArn=arn)
    except botocore.exceptions.ClientError:
        pass


def target_group(elb, **extra) -> str:
    spec = {"Name": short("tg"), "Protocol": "HTTP", "Port": 80, "TargetType": "ip", **extra}
    return elb.create_target_group(**spec)["TargetGroups"][0]["TargetGroupArn"]


def test_attributes_have_alb_defaults_and_are_checked(elb, load_balancer):
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=load_balancer)["Attributes"]}
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    assert attributes["deletion_protection.enabled"] == "false"
    assert attributes["routing.http2.enabled"] == "true"
    changed = elb.modify_load_balancer_attributes(
        LoadBalancerArn=load_balancer,
        Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "120"},
                    {"Key": "deletion_protection.enabled", "Value": "true"}],
    )["Attributes"]
    assert {"Key": "idle_timeout.timeout_seconds", "Value": "120"} in changed
    code, message = error_of(elb.modify_load_balancer_attributes, LoadBalancerArn=load_balancer,
                             Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "5000"}])
    assert code == "InvalidConfigurationRequest" and "idle_timeout.timeout_seconds" in message
    code, _ = error_of(elb.delete_load_balancer, LoadBalancerArn=load_balancer)
    assert code == "OperationNotPermitted"
    elb.modify_load_balancer_attributes(LoadBalancerArn=load_balancer,
                                        Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])

    group = target_group(elb)
    defaults = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=group)["Attributes"]}
    assert defaults["deregistration_delay.timeout_seconds"] == "300"
    assert defaults["load_balancing.algorithm.type"] == "round_robin"
    elb.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "0"},
        {"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}])
    code, message = error_of(elb.modify_target_group_attributes, TargetGroupArn=group,
                             Attributes=[{"Key": "slow_start.duration_seconds", "Value": "60"}])
    assert code == "InvalidConfigurationRequest" and "least outstanding" in message
    elb.delete_target_group(TargetGroupArn=group)


def test_listener_and_rule_conflicts_use_elbv2_codes(elb, load_balancer):
    group = target_group(elb)
    port = e2e.free_port()
    listener = elb.create_listener(LoadBalancerArn=load_balancer, Protocol="HTTP", Port=port,
                                   DefaultActions=forward(group))["Listeners"][0]["ListenerArn"]
    code, _ = error_of(elb.create_listener, LoadBalancerArn=load_balancer, Protocol="HTTP", Port=port,
                       DefaultActions=forward(group))
    assert code == "DuplicateListener"
    code, _ = error_of(elb.delete_target_group, TargetGroupArn=group)
    assert code == "ResourceInUse"

    first = elb.create_rule(ListenerArn=listener, Priority=1,
                            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["a.example.com"]}}],
                            Actions=forward(group))["Rules"][0]["RuleArn"]
    second = elb.create_rule(ListenerArn=listener, Priority=2,
                             Conditions=[{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["POST"]}}],
                             Actions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_301"}}]
                             )["Rules"][0]["RuleArn"]
    code, _ = error_of(elb.create_rule, ListenerArn=listener, Priority=1,
                       Conditions=[{"Field": "path-pattern", "Values": ["/x"]}], Actions=forward(group))
    assert code == "PriorityInUse"
    swapped = elb.set_rule_priorities(RulePriorities=[{"RuleArn": first, "Priority": 2},
                                                      {"RuleArn": second, "Priority": 1}])["Rules"]
    assert {r["RuleArn"]: r["Priority"] for r in swapped} == {first: "2", second: "1"}
    rules = elb.describe_rules(ListenerArn=listener)["Rules"]
    assert [r["RuleArn"] for r in rules[:2]] == [second, first]
    default_rule = rules[-1]["RuleArn"]
    code, _ = error_of(elb.delete_rule, RuleArn=default_rule)
    assert code == "OperationNotPermitted"

    # Weighted forwarding is echoed with both groups and their weights.
    other = target_group(elb)
    modified = elb.modify_rule(RuleArn=first, Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": group, "Weight": 80}, {"TargetGroupArn": other, "Weight": 20}]}}])["Rules"][0]
    tuples = modified["Actions"][0]["ForwardConfig"]["TargetGroups"]
    assert [(t["TargetGroupArn"], t["Weight"]) for t in tuples] == [(group, 80), (other, 20)]
    elb.delete_rule(RuleArn=first)
    elb.delete_rule(RuleArn=second)
    code, _ = error_of(elb.describe_rules, RuleArns=[first])
    assert code == "RuleNotFound"
    elb.delete_listener(ListenerArn=listener)
    elb.delete_target_group(TargetGroupArn=group)
    elb.delete_target_group(TargetGroupArn=other)


def test_bad_input_is_refused_with_the_field_named_and_changes_nothing(elb, load_balancer):
    code, message = error_of(elb.create_target_group, Name="bad_name!", Protocol="HTTP", Port=80)
    assert code == "ValidationError" and "bad_name!" in message
    code, message = error_of(elb.create_target_group, Name=short("tg"), Protocol="HTTP", Port=80,
                             HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=5)
    assert code == "ValidationError" and "timeout" in message
    code, message = error_of(elb.create_target_group, Name=short("tg"), Protocol="HTTP", Port=80,
                             Matcher={"HttpCode": "600"})
    assert code == "ValidationError" and "600" in message
    code, _ = error_of(elb.create_listener, LoadBalancerArn=load_balancer + "x", Protocol="HTTP", Port=e2e.free_port(),
                       DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}])
    assert code == "LoadBalancerNotFound"
    code, message = error_of(elb.create_listener, LoadBalancerArn=load_balancer, Protocol="HTTP", Port=e2e.free_port(),
                             DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "302"}}])
    assert code == "ValidationError" and "302" in message
    code, _ = error_of(elb.create_listener, LoadBalancerArn=load_balancer, Protocol="HTTP", Port=e2e.free_port(),
                       DefaultActions=[{"Type": "forward", "TargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/none/0"}])
    assert code == "TargetGroupNotFound"
    assert elb.describe_listeners(LoadBalancerArn=load_balancer)["Listeners"] == []
    code, _ = error_of(elb.create_load_balancer, Name=short("nlb"), Type="network")
    assert code == "InvalidConfigurationRequest"
    # A raw request with a missing member gets ValidationError naming it, in ELBv2's XML.
    status, _, raw = e2e.raw_query(elb.meta.endpoint_url, {"Action": "CreateListener", "Version": "2015-12-01"})
    assert status == 400 and b"<Code>ValidationError</Code>" in raw and b"LoadBalancerArn" in raw


def test_deregistered_targets_drain_then_leave(elb, load_balancer):
    group = target_group(elb)
    elb.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
    elb.create_listener(LoadBalancerArn=load_balancer, Protocol="HTTP", Port=e2e.free_port(), DefaultActions=forward(group))
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": 9101}])
    code, _ = error_of(elb.register_targets, TargetGroupArn=group, Targets=[{"Id": "not-an-ip"}])
    assert code == "InvalidTarget"
    elb.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": 9101}])
    states = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    assert [(d["TargetHealth"]["State"], d["TargetHealth"]["Reason"]) for d in states] == [
        ("draining", "Target.DeregistrationInProgress")]
    e2e.wait_until(lambda: elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"],
                   lambda described: described == [], timeout=30, what="the drained target to leave")
    code, _ = error_of(elb.deregister_targets, TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": 9101}])
    assert code == "InvalidTarget"


def test_tags_on_every_kind_of_resource(elb, load_balancer):
    group = target_group(elb, Tags=[{"Key": "a", "Value": "1"}])
    elb.add_tags(ResourceArns=[load_balancer, group], Tags=[{"Key": "b", "Value": "2"}])
    described = {d["ResourceArn"]: d["Tags"] for d in elb.describe_tags(ResourceArns=[load_balancer, group])["TagDescriptions"]}
    assert described[load_balancer] == [{"Key": "b", "Value": "2"}]
    assert sorted(t["Key"] for t in described[group]) == ["a", "b"]
    elb.remove_tags(ResourceArns=[group], TagKeys=["a"])
    assert elb.describe_tags(ResourceArns=[group])["TagDescriptions"][0]["Tags"] == [{"Key": "b", "Value": "2"}]
    code, _ = error_of(elb.add_tags, ResourceArns=[group], Tags=[{"Key": "x", "Value": "1"}, {"Key": "x", "Value": "2"}])
    assert code == "DuplicateTagKeys"
    code, _ = error_of(elb.describe_tags, ResourceArns=[group + "0"])
    assert code == "TargetGroupNotFound"
    elb.delete_target_group(TargetGroupArn=group)
