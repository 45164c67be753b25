"""Every operation of botocore's ECS model is served. Each is called with an empty request
body: a served operation answers (most with a validation error that names a missing field),
and none may answer UnsupportedFeatureException — except the operations other issues own
(service discovery, the auto-scaling Express services) and the
ones still being built, listed below. That list must only shrink: an operation on it that
starts answering fails this test until it is taken off."""

from __future__ import annotations

import botocore
import botocore.session
import pytest

import berth_e2e as e2e

# Belong to other issues: service discovery, auto scaling.
OTHER_ISSUES = {
    "ListServicesByNamespace",
    "CreateExpressGatewayService", "DeleteExpressGatewayService", "DescribeExpressGatewayService",
    "UpdateExpressGatewayService",
}

# Operations still to be built for issue 8: none are left.
NOT_YET_SERVED: set[str] = set()


def model_operations() -> list[str]:
    return sorted(botocore.session.get_session().get_service_model("ecs").operation_names)


def test_the_pinned_botocore_model_is_the_one_the_wire_types_come_from():
    generated = (e2e.REPO_ROOT / "crates/berth-ecs-wire/src/shapes.rs").read_text().splitlines()[0]
    assert f"from botocore {botocore.__version__}." in generated, (generated, botocore.__version__)
    assert len(model_operations()) == 88


def test_every_operation_of_the_model_is_served(berth):
    unsupported, answered = [], []
    for operation in model_operations():
        status, body, raw = e2e.raw_call(berth.url, operation, {})
        assert status < 500, f"{operation} answered {status}: {raw[:300]!r}"
        assert isinstance(body, dict), f"{operation} answered no JSON: {raw[:300]!r}"
        if status >= 400 and body.get("__type") == "UnsupportedFeatureException":
            unsupported.append(operation)
        else:
            answered.append(operation)
    expected_unsupported = OTHER_ISSUES | NOT_YET_SERVED
    assert set(unsupported) - expected_unsupported == set(), \
        f"operations answering UnsupportedFeatureException: {sorted(set(unsupported) - expected_unsupported)}"
    assert set(answered) & expected_unsupported == set(), \
        f"now served, take them off the lists: {sorted(set(answered) & expected_unsupported)}"


# ACM: Berth serves imported certificates; the other operations (certificates ACM would issue,
# export, renewal, ACME, account configuration) answer that this version does not serve them.
ACM_SERVED = {
    "ImportCertificate", "DescribeCertificate", "ListCertificates", "GetCertificate", "DeleteCertificate",
    "AddTagsToCertificate", "RemoveTagsFromCertificate", "ListTagsForCertificate",
}


def test_the_acm_wire_types_come_from_the_pinned_model():
    generated = (e2e.REPO_ROOT / "crates/berth-acm-wire/src/shapes.rs").read_text().splitlines()[0]
    assert f"from botocore {botocore.__version__}." in generated, (generated, botocore.__version__)


def served_operations(berth, service: str, target_prefix: str) -> set[str]:
    """The operations of a JSON service's model that Berth serves: each is called with an empty
    body, and the rest answer that this version does not serve them (never a 5xx)."""
    served = set()
    for operation in botocore.session.get_session().get_service_model(service).operation_names:
        status, body, raw = e2e.raw_call(berth.url, None, {}, target=f"{target_prefix}{operation}")
        assert status < 500, f"{operation} answered {status}: {raw[:300]!r}"
        assert isinstance(body, dict), f"{operation} answered {raw[:300]!r}"
        if "is not supported by this Berth version" not in body.get("message", ""):
            served.add(operation)
    return served


def test_acm_serves_the_imported_certificate_operations(berth):
    served = served_operations(berth, "acm", "CertificateManager.")
    assert served == ACM_SERVED, (sorted(served - ACM_SERVED), sorted(ACM_SERVED - served))


# CloudWatch Logs: groups, streams, their events and tags; the rest of the model (metric and
# subscription filters, Insights queries, exports, deliveries, Live Tail, …) answers that this
# version does not serve it.
LOGS_SERVED = {
    "CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "PutRetentionPolicy", "DeleteRetentionPolicy",
    "CreateLogStream", "DeleteLogStream", "DescribeLogStreams", "PutLogEvents", "GetLogEvents", "FilterLogEvents",
    "TagResource", "UntagResource", "ListTagsForResource", "TagLogGroup", "UntagLogGroup", "ListTagsLogGroup",
    "StartLiveTail",
}


def test_the_logs_wire_types_come_from_the_pinned_model():
    generated = (e2e.REPO_ROOT / "crates/berth-logs-wire/src/shapes.rs").read_text().splitlines()[0]
    assert f"from botocore {botocore.__version__}." in generated, (generated, botocore.__version__)


def test_logs_serves_the_group_stream_and_event_operations(berth):
    served = served_operations(berth, "logs", "Logs_20140328.")
    assert served == LOGS_SERVED, (sorted(served - LOGS_SERVED), sorted(LOGS_SERVED - served))


# CloudWatch: Berth serves the metric, alarm and tag operations in all three of the model's
# protocols (JSON 1.0 is called here): metrics from the metric store, alarms from the control
# plane's records; the rest of the model (dashboards, metric streams, insight rules, composite
# alarms, …) answers that this version does not serve it.
CLOUDWATCH_DECODED = {
    "PutMetricData", "GetMetricData", "GetMetricStatistics", "ListMetrics", "PutMetricAlarm", "DescribeAlarms",
    "DescribeAlarmsForMetric", "DescribeAlarmHistory", "SetAlarmState", "DeleteAlarms", "EnableAlarmActions",
    "DisableAlarmActions", "TagResource", "UntagResource", "ListTagsForResource",
}


def test_the_cloudwatch_wire_types_come_from_the_pinned_model():
    generated = (e2e.REPO_ROOT / "crates/berth-cloudwatch-wire/src/shapes.rs").read_text().splitlines()[0]
    assert f"from botocore {botocore.__version__}." in generated, (generated, botocore.__version__)


def test_cloudwatch_decodes_the_metric_alarm_and_tag_operations(berth):
    decoded = served_operations(berth, "cloudwatch", "GraniteServiceVersion20100801.")
    assert decoded == CLOUDWATCH_DECODED, (sorted(decoded - CLOUDWATCH_DECODED), sorted(CLOUDWATCH_DECODED - decoded))
