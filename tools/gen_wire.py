#!/usr/bin/env python3
"""Generate the wire types of the AWS services Berth serves from botocore's service models.

The model (botocore/data/SERVICE/VERSION/service-2.json[.gz]) is the spec for every shape, so
the wire structs are derived from it instead of being typed by hand. Every member becomes an
`Option` so one struct serves requests and responses. The model's `protocol` decides the
encoding:

- `json` (ECS, ACM, CloudWatch Logs, EventBridge, Application Auto Scaling): serde derives; required members are checked by the generated
  `CheckRequired` impls, which name the missing field. Blobs are `crate::Blob` (base64 on the
  wire). For services after ECS the output also carries the `X-Amz-Target` prefix and the
  model's error codes, and a structure with a `sensitive` member gets a `Debug` that prints
  `<redacted>` for it (ECS's output is kept as it was, so its crate is unchanged).
- `query` (ELBv2): `FromQuery` impls that read form parameters (`Name.member.N`,
  `Name.entry.N.key`) and check required members, enum values and integer ranges; `ToXml`
  impls that write members under their model names; the operations' result wrappers and the
  model's error codes.
- `rest-json` (EventBridge Scheduler): the JSON emitter's serde structs, except that members
  bound to the request line or headers (`location` `uri`, `querystring`, `header`) are skipped
  by serde and filled by a generated `BindHttp` impl from the matched route's labels, the query
  string and the headers (integers checked against the model's range, enums against its
  values, naming the wire key at fault); `ROUTES` lists each operation's method, URI template
  and success status for the router.
- `smithy-rpc-v2-cbor` with `json` and `query` beside it in `protocols` (CloudWatch): one
  struct or enum per shape carrying both the serde derives (JSON 1.0 and RPC v2 CBOR, members
  under their model names; `crate::Timestamp` and `crate::Blob` pick their encoding from the
  format) and the Query impls (`FromQuery`, `ToXml`) of `berth-query-wire`; required members
  are checked by `CheckRequired` for JSON and CBOR and by `FromQuery` for Query. The output
  carries the target prefix, the Query version, namespace and signing name, the result
  wrappers and the model's error codes with their Query codes and shape names.

Re-run after upgrading botocore:

    python3 tools/gen_wire.py ecs > crates/berth-ecs-wire/src/shapes.rs
    python3 tools/gen_wire.py elbv2 > crates/berth-query-wire/src/elbv2.rs
    python3 tools/gen_wire.py acm > crates/berth-acm-wire/src/shapes.rs
    python3 tools/gen_wire.py logs > crates/berth-logs-wire/src/shapes.rs
    python3 tools/gen_wire.py cloudwatch > crates/berth-cloudwatch-wire/src/shapes.rs
    python3 tools/gen_wire.py events > crates/berth-events-wire/src/shapes.rs
    python3 tools/gen_wire.py application-autoscaling > crates/berth-autoscaling-wire/src/shapes.rs
    python3 tools/gen_wire.py scheduler > crates/berth-eventbridge-scheduler-wire/src/shapes.rs
    cargo fmt --all
"""
import gzip, json, os, re, sys

import botocore

ECS_OPERATIONS = """
CreateCluster DescribeClusters ListClusters UpdateCluster UpdateClusterSettings DeleteCluster
RegisterTaskDefinition DeregisterTaskDefinition DeleteTaskDefinitions DescribeTaskDefinition
ListTaskDefinitions ListTaskDefinitionFamilies
RunTask StartTask StopTask DescribeTasks ListTasks
RegisterContainerInstance DeregisterContainerInstance DescribeContainerInstances
ListContainerInstances UpdateContainerInstancesState
TagResource UntagResource ListTagsForResource
CreateService UpdateService DeleteService DescribeServices ListServices
PutAttributes ListAttributes DeleteAttributes
CreateCapacityProvider UpdateCapacityProvider DeleteCapacityProvider DescribeCapacityProviders
PutClusterCapacityProviders
SubmitTaskStateChange SubmitContainerStateChange DiscoverPollEndpoint
ListAccountSettings PutAccountSetting PutAccountSettingDefault DeleteAccountSetting
SubmitAttachmentStateChanges UpdateContainerAgent
CreateTaskSet DescribeTaskSets UpdateTaskSet UpdateServicePrimaryTaskSet DeleteTaskSet
ListServiceDeployments DescribeServiceDeployments DescribeServiceRevisions StopServiceDeployment
ContinueServiceDeployment
UpdateTaskProtection GetTaskProtection
ExecuteCommand
RegisterDaemonTaskDefinition DescribeDaemonTaskDefinition ListDaemonTaskDefinitions
DeleteDaemonTaskDefinition CreateDaemon UpdateDaemon DescribeDaemon ListDaemons DeleteDaemon
DescribeDaemonDeployments ListDaemonDeployments DescribeDaemonRevisions
CreateGateway UpdateGateway DeleteGateway DescribeGateway ListGateways DescribeGatewayResources
DescribeGatewayRoute ListGatewayRoutes AssociateGatewayWithCluster DisassociateGatewayFromCluster
ListGatewayClusterAssociations
""".split()

ACM_OPERATIONS = """
ImportCertificate DescribeCertificate ListCertificates DeleteCertificate GetCertificate
AddTagsToCertificate RemoveTagsFromCertificate ListTagsForCertificate
""".split()

LOGS_OPERATIONS = """
CreateLogGroup DeleteLogGroup DescribeLogGroups PutRetentionPolicy DeleteRetentionPolicy
CreateLogStream DeleteLogStream DescribeLogStreams PutLogEvents GetLogEvents FilterLogEvents
TagResource UntagResource ListTagsForResource TagLogGroup UntagLogGroup ListTagsLogGroup
StartLiveTail
""".split()

CLOUDWATCH_OPERATIONS = """
PutMetricData GetMetricData GetMetricStatistics ListMetrics
PutMetricAlarm DescribeAlarms DescribeAlarmsForMetric DescribeAlarmHistory SetAlarmState DeleteAlarms
EnableAlarmActions DisableAlarmActions
TagResource UntagResource ListTagsForResource
""".split()

EVENTS_OPERATIONS = """
PutRule DescribeRule ListRules DeleteRule EnableRule DisableRule ListRuleNamesByTarget
PutTargets RemoveTargets ListTargetsByRule PutEvents TestEventPattern
DescribeEventBus ListEventBuses TagResource UntagResource ListTagsForResource
""".split()

SCHEDULER_OPERATIONS = """
CreateSchedule GetSchedule UpdateSchedule DeleteSchedule ListSchedules
CreateScheduleGroup GetScheduleGroup DeleteScheduleGroup ListScheduleGroups
TagResource UntagResource ListTagsForResource
""".split()

# The service models, where they live in botocore, and which operations get wire types (None:
# all of them).
SERVICES = {
    "ecs": ("ecs", "2014-11-13", ECS_OPERATIONS),
    "elbv2": ("elbv2", "2015-12-01", None),
    "acm": ("acm", "2015-12-08", ACM_OPERATIONS),
    "logs": ("logs", "2014-03-28", LOGS_OPERATIONS),
    "cloudwatch": ("cloudwatch", "2010-08-01", CLOUDWATCH_OPERATIONS),
    "events": ("events", "2015-10-07", EVENTS_OPERATIONS),
    # Every operation: PutScalingPolicy's shapes reach the predictive configuration anyway.
    "application-autoscaling": ("application-autoscaling", "2016-02-06", None),
    "scheduler": ("scheduler", "2021-06-30", SCHEDULER_OPERATIONS),
}

# JSON services whose output predates the target prefix, error codes and redacted Debug.
JSON_LEGACY = {"ecs"}


def load_model(directory, version):
    base = os.path.join(os.path.dirname(botocore.__file__), "data", directory, version)
    plain = os.path.join(base, "service-2.json")
    if os.path.exists(plain):
        with open(plain) as f:
            return json.load(f)
    with gzip.open(plain + ".gz") as f:
        return json.load(f)


RUST_KEYWORDS = {"type", "match", "ref", "self", "mod", "use", "fn", "struct", "enum", "in", "loop", "box", "override", "final", "async", "await", "dyn", "move", "static", "where", "crate", "super", "trait", "impl", "let", "const", "priv", "virtual", "yield", "macro", "unsized", "abstract", "become", "do", "try", "gen"}


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = s.replace("-", "_").replace(".", "_").lower()
    return "r#" + s if s in RUST_KEYWORDS else s


def variant(value):
    parts = re.split(r"[^A-Za-z0-9]+", value)
    out = "".join(p[:1].upper() + p[1:].lower() if p.isupper() or p.islower() else p[:1].upper() + p[1:] for p in parts if p)
    if not out or not out[0].isalpha():
        out = "V" + out
    return out


def wanted_shapes(model, operations):
    """Every shape reachable from the chosen operations' inputs and outputs."""
    shapes = model["shapes"]
    wanted = set()

    def visit(name):
        if name in wanted:
            return
        wanted.add(name)
        shape = shapes[name]
        if shape["type"] == "structure":
            for member in shape["members"].values():
                visit(member["shape"])
        elif shape["type"] == "list":
            visit(shape["member"]["shape"])
        elif shape["type"] == "map":
            visit(shape["key"]["shape"])
            visit(shape["value"]["shape"])

    for op in operations:
        for io in ("input", "output"):
            if io in model["operations"][op]:
                visit(model["operations"][op][io]["shape"])
    return wanted


def rust_type(shapes, name, timestamp, blob="crate::Blob"):
    shape = shapes[name]
    t = shape["type"]
    if t == "structure":
        return name
    if t == "string":
        return name if "enum" in shape else "String"
    if t == "list":
        return "Vec<%s>" % rust_type(shapes, shape["member"]["shape"], timestamp, blob)
    if t == "map":
        return "BTreeMap<String, %s>" % rust_type(shapes, shape["value"]["shape"], timestamp, blob)
    return {"integer": "i32", "long": "i64", "double": "f64", "boolean": "bool", "timestamp": timestamp,
            "blob": blob}[t]


def emit_enum(w, name, shape, derives):
    w("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord%s)]" % derives)
    w("pub enum %s {" % name)
    for value in shape["enum"]:
        if derives:
            w('    #[serde(rename = "%s")]' % value)
        w("    %s," % variant(value))
    w("}")
    w("impl %s {" % name)
    w("    pub const ALL: &'static [%s] = &[%s];" % (name, ", ".join("%s::%s" % (name, variant(v)) for v in shape["enum"])))
    w("    pub fn as_str(&self) -> &'static str {")
    w("        match self {")
    for value in shape["enum"]:
        w('            %s::%s => "%s",' % (name, variant(value), value))
    w("        }")
    w("    }")
    w("    pub fn parse(value: &str) -> Option<Self> {")
    w("        Self::ALL.iter().copied().find(|candidate| candidate.as_str() == value)")
    w("    }")
    w("}")
    w("impl std::fmt::Display for %s { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) } }" % name)


def emit_error_codes(w, shapes, shape_names=False):
    """The model's errors. `shape_names` adds each error's shape name, which protocols other
    than Query put in `__type` when the model gives the error a Query code of its own."""
    errors = sorted((n, s) for n, s in shapes.items() if s.get("exception"))
    w("/// The model's errors: the `Code` each puts on the wire and its HTTP status.")
    w("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]")
    w("pub enum ErrorCode {")
    for name, _ in errors:
        w("    %s," % name)
    w("}")
    w("impl ErrorCode {")
    w("    pub fn code(self) -> &'static str {")
    w("        match self {")
    for name, shape in errors:
        w('            ErrorCode::%s => "%s",' % (name, shape.get("error", {}).get("code", name)))
    w("        }")
    w("    }")
    if shape_names:
        w("    /// The error's shape in the model (`__type` of JSON and CBOR errors).")
        w("    pub fn shape_name(self) -> &'static str {")
        w("        match self {")
        for name, _ in errors:
            w('            ErrorCode::%s => "%s",' % (name, name))
        w("        }")
        w("    }")
    w("    pub fn http_status(self) -> u16 {")
    w("        match self {")
    for name, shape in errors:
        w("            ErrorCode::%s => %d," % (name, shape.get("error", {}).get("httpStatusCode", 400)))
    w("        }")
    w("    }")
    w("    pub fn sender_fault(self) -> bool {")
    w("        match self {")
    for name, shape in errors:
        error = shape.get("error", {})
        # Without `senderFault` the status decides: a 5xx is the server's fault.
        sender = error.get("senderFault", error.get("httpStatusCode", 400) < 500)
        w("            ErrorCode::%s => %s," % (name, "true" if sender else "false"))
    w("        }")
    w("    }")
    w("}")
    w("")


def is_sensitive(shapes, spec):
    return bool(spec.get("sensitive") or shapes[spec["shape"]].get("sensitive"))


def members(shapes, shape):
    """A structure's members, less the modelled exceptions an event stream lists among its
    events (they travel as exception messages, not as members)."""
    return [(member, spec) for member, spec in shape["members"].items() if not shapes[spec["shape"]].get("exception")]


def emit_serde_struct(w, shapes, name, shape, redact_sensitive, timestamp, member_attributes=lambda spec: ""):
    """A structure with serde derives, every member an `Option` under its model name; a `Debug`
    that redacts `sensitive` members when asked. Members bound to the HTTP request line or
    headers (REST protocols) are not part of the body: serde skips them."""
    redact = redact_sensitive and any(is_sensitive(shapes, spec) for spec in shape["members"].values())
    w("#[derive(%sClone, Default, PartialEq, Serialize, Deserialize)]" % ("" if redact else "Debug, "))
    w("pub struct %s {" % name)
    for member, spec in members(shapes, shape):
        field = snake(member)
        if spec.get("location"):
            w("    #[serde(skip)]")
        else:
            w('    #[serde(rename = "%s", default, skip_serializing_if = "Option::is_none"%s)]' % (member, member_attributes(spec)))
        w("    pub %s: Option<%s>," % (field, rust_type(shapes, spec["shape"], timestamp)))
    w("}")
    if redact:
        w("impl std::fmt::Debug for %s {" % name)
        w("    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {")
        w('        f.debug_struct("%s")' % name)
        for member, spec in members(shapes, shape):
            field = snake(member)
            if is_sensitive(shapes, spec):
                w('            .field("%s", &self.%s.as_ref().map(|_| "<redacted>"))' % (field.removeprefix("r#"), field))
            else:
                w('            .field("%s", &self.%s)' % (field.removeprefix("r#"), field))
        w("            .finish()")
        w("    }")
        w("}")


def emit_check_required(w, shapes, name, shape):
    required = set(shape.get("required", []))
    w("impl CheckRequired for %s {" % name)
    w("    fn check_required(&self, path: &str) -> Result<(), String> {")
    for member, spec in members(shapes, shape):
        field = snake(member)
        target = shapes[spec["shape"]]
        if member in required:
            w('        if self.%s.is_none() { return Err(crate::required::join(path, "%s")); }' % (field, member))
        nested = target["type"] == "structure" or (target["type"] == "list" and shapes[target["member"]["shape"]]["type"] == "structure") or (target["type"] == "map" and shapes[target["value"]["shape"]]["type"] == "structure")
        if nested:
            w('        if let Some(value) = &self.%s { value.check_required(&crate::required::join(path, "%s"))?; }' % (field, member))
    w("        Ok(())")
    w("    }")
    w("}")


def emit_json(model, operations, service):
    shapes = model["shapes"]
    ops = model["operations"]
    meta = model["metadata"]
    legacy = service in JSON_LEGACY
    wanted = wanted_shapes(model, operations)
    out = []
    w = out.append
    w("// @generated by tools/gen_wire.py from botocore %s. Do not edit by hand." % botocore.__version__)
    w("#![allow(clippy::all, missing_docs, unused_variables%s)]" % ("" if legacy else ", unused_imports"))
    w("use serde::{Deserialize, Serialize};")
    w("use std::collections::BTreeMap;")
    w("use crate::required::CheckRequired;")
    w("")
    w("/// Every %s operation in the model, by its `X-Amz-Target` suffix." % ("ECS" if legacy else meta["serviceId"]))
    w("pub const ALL_OPERATIONS: &[&str] = &[%s];" % ", ".join('"%s"' % o for o in sorted(ops)))
    w("")
    if not legacy:
        w("/// The `X-Amz-Target` prefix of every %s operation (`PREFIX.Operation`)." % meta["serviceId"])
        w('pub const TARGET_PREFIX: &str = "%s.";' % meta["targetPrefix"])
        w("")
        emit_error_codes(w, shapes)
    for name in sorted(wanted):
        shape = shapes[name]
        if shape.get("exception"):
            continue
        t = shape["type"]
        if t == "string" and "enum" in shape:
            emit_enum(w, name, shape, ", Serialize, Deserialize")
            w("")
        elif t == "structure":
            emit_serde_struct(w, shapes, name, shape, not legacy, "f64")
            emit_check_required(w, shapes, name, shape)
            w("")
    return out


def query_reader(shapes, name, key, own_types=False):
    """A Rust expression reading one value of shape `name` at the key `key` (a `&str`
    expression) from `params`, of type `Result<Option<T>, DecodeError>`. With `own_types`,
    timestamps and blobs are the crate's own `Timestamp` and `Blob`, which read themselves."""
    shape = shapes[name]
    t = shape["type"]
    if t == "list":
        flat = "true" if shape.get("flattened") else "false"
        element = query_reader(shapes, shape["member"]["shape"], "key", own_types)
        return "params.list(%s, %s, |params: &QueryParams, key: &str| %s)" % (key, flat, element)
    if t == "map":
        value = query_reader(shapes, shape["value"]["shape"], "key", own_types)
        return "params.map(%s, |params: &QueryParams, key: &str| %s)" % (key, value)
    if t == "structure" or (t == "string" and "enum" in shape):
        return "%s::from_query(params, %s)" % (name, key)
    if own_types and t in ("timestamp", "blob"):
        return "crate::%s::from_query(params, %s)" % ({"timestamp": "Timestamp", "blob": "Blob"}[t], key)
    if t in ("integer", "long"):
        bound = lambda v: "Some(%d)" % v if v is not None else "None"
        rust = "i32" if t == "integer" else "i64"
        return "params.integer::<%s>(%s, %s, %s)" % (rust, key, bound(shape.get("min")), bound(shape.get("max")))
    return "params.%s(%s)" % ({"string": "string", "boolean": "boolean", "double": "double", "timestamp": "timestamp"}[t], key)


def emit_query_enum_impls(w, name, shape):
    w("impl FromQuery for %s {" % name)
    w("    fn from_query(params: &QueryParams, key: &str) -> Result<Option<Self>, DecodeError> {")
    w("        params.enumeration(key, Self::parse, &[%s])" % ", ".join('"%s"' % v for v in shape["enum"]))
    w("    }")
    w("}")
    w("impl ToXml for %s { fn write_xml(&self, out: &mut XmlWriter) { out.text(self.as_str()) } }" % name)


def emit_query_struct_impls(w, shapes, name, shape, own_types=False):
    required = shape.get("required", [])
    w("impl FromQuery for %s {" % name)
    w("    fn from_query(params: &QueryParams, key: &str) -> Result<Option<Self>, DecodeError> {")
    if shape["members"]:
        w("        if !key.is_empty() && !params.has_under(key) { return Ok(None); }")
        w("        let value = %s {" % name)
        for member, spec in shape["members"].items():
            wire = spec.get("locationName", member)
            w("            %s: %s?," % (snake(member), query_reader(shapes, spec["shape"], '&crate::query::child(key, "%s")' % wire, own_types)))
        w("        };")
        for member in required:
            w('        if value.%s.is_none() { return Err(DecodeError::missing(&crate::query::child(key, "%s"))); }' % (snake(member), shape["members"][member].get("locationName", member)))
        w("        Ok(Some(value))")
    else:
        w("        Ok(Some(%s {}))" % name)
    w("    }")
    w("}")
    w("impl ToXml for %s {" % name)
    w("    fn write_xml(&self, out: &mut XmlWriter) {")
    for member, spec in shape["members"].items():
        w('        out.member("%s", &self.%s);' % (spec.get("locationName", member), snake(member)))
    w("    }")
    w("}")


def emit_query_constants(w, meta, ops):
    w('/// The `Version` form parameter of every %s request.' % meta["serviceId"])
    w('pub const API_VERSION: &str = "%s";' % meta["apiVersion"])
    w('/// The namespace of every %s answer.' % meta["serviceId"])
    w('pub const XML_NAMESPACE: &str = "%s";' % meta["xmlNamespace"])
    w('/// The SigV4 signing name.')
    w('pub const SIGNING_NAME: &str = "%s";' % meta.get("signingName", meta["endpointPrefix"]))
    w("")
    w("/// Every operation in the model, by its `Action`.")
    w("pub const ALL_OPERATIONS: &[&str] = &[%s];" % ", ".join('"%s"' % o for o in sorted(ops)))
    w("")
    w("/// The element an operation's result is wrapped in (`resultWrapper` in the model).")
    w("pub fn result_wrapper(operation: &str) -> Option<&'static str> {")
    w("    match operation {")
    for op in sorted(ops):
        wrapper = ops[op].get("output", {}).get("resultWrapper")
        if wrapper:
            w('        "%s" => Some("%s"),' % (op, wrapper))
    w("        _ => None,")
    w("    }")
    w("}")
    w("")


def emit_query(model, service):
    shapes = model["shapes"]
    ops = model["operations"]
    meta = model["metadata"]
    wanted = wanted_shapes(model, sorted(ops))
    out = []
    w = out.append
    w("// @generated by tools/gen_wire.py from botocore %s. Do not edit by hand." % botocore.__version__)
    w("#![allow(clippy::all, missing_docs, unused_variables, unused_imports)]")
    w("use std::collections::BTreeMap;")
    w("use crate::query::{DecodeError, FromQuery, QueryParams, Timestamp, ToXml, XmlWriter};")
    w("")
    emit_query_constants(w, meta, ops)
    emit_error_codes(w, shapes)
    for name in sorted(wanted):
        shape = shapes[name]
        if shape.get("exception"):
            continue
        t = shape["type"]
        if t == "string" and "enum" in shape:
            emit_enum(w, name, shape, "")
            emit_query_enum_impls(w, name, shape)
            w("")
        elif t == "structure":
            w("#[derive(Debug, Clone, Default, PartialEq)]")
            w("pub struct %s {" % name)
            for member, spec in shape["members"].items():
                w("    pub %s: Option<%s>," % (snake(member), rust_type(shapes, spec["shape"], "Timestamp")))
            w("}")
            emit_query_struct_impls(w, shapes, name, shape)
            w("")
    return out


def double_reader(shapes, spec):
    """The serde attribute that lets a `double` member (or a list of them) also be read from
    an integer: JSON readers do that anyway, but CBOR keeps integers and floats apart, and
    SDKs whose numbers carry no such distinction send a whole double as an integer."""
    shape = shapes[spec["shape"]]
    if shape["type"] == "double":
        return ', deserialize_with = "crate::numbers::optional_double"'
    if shape["type"] == "list" and shapes[shape["member"]["shape"]]["type"] == "double":
        return ', deserialize_with = "crate::numbers::optional_doubles"'
    if shape["type"] == "map" and shapes[shape["value"]["shape"]]["type"] == "double":
        return ', deserialize_with = "crate::numbers::optional_double_map"'
    return ""


def emit_multi_protocol(model, operations, service):
    """One set of types for a service served over RPC v2 CBOR, JSON 1.0 and Query at once."""
    shapes = model["shapes"]
    ops = model["operations"]
    meta = model["metadata"]
    wanted = wanted_shapes(model, operations)
    out = []
    w = out.append
    w("// @generated by tools/gen_wire.py from botocore %s. Do not edit by hand." % botocore.__version__)
    w("#![allow(clippy::all, missing_docs, unused_variables, unused_imports)]")
    w("use berth_query_wire::query::{DecodeError, FromQuery, QueryParams, ToXml, XmlWriter};")
    w("use crate::required::CheckRequired;")
    w("use serde::{Deserialize, Serialize};")
    w("use std::collections::BTreeMap;")
    w("")
    w("/// The `X-Amz-Target` prefix of every %s operation in JSON 1.0 (`PREFIX.Operation`)." % meta["serviceId"])
    w('pub const TARGET_PREFIX: &str = "%s.";' % meta["targetPrefix"])
    w("/// The service's name in RPC v2 CBOR paths (`/service/NAME/operation/Operation`).")
    w('pub const RPC_V2_SERVICE_NAME: &str = "%s";' % meta["targetPrefix"])
    w("/// The operations that have wire types here, in the order they were chosen.")
    w("pub const WIRE_OPERATIONS: &[&str] = &[%s];" % ", ".join('"%s"' % o for o in operations))
    emit_query_constants(w, meta, ops)
    emit_error_codes(w, shapes, shape_names=True)
    for name in sorted(wanted):
        shape = shapes[name]
        if shape.get("exception"):
            continue
        t = shape["type"]
        if t == "string" and "enum" in shape:
            emit_enum(w, name, shape, ", Serialize, Deserialize")
            emit_query_enum_impls(w, name, shape)
            w("")
        elif t == "structure":
            emit_serde_struct(w, shapes, name, shape, True, "crate::Timestamp", lambda spec: double_reader(shapes, spec))
            emit_check_required(w, shapes, name, shape)
            emit_query_struct_impls(w, shapes, name, shape, own_types=True)
            w("")
    return out


def http_reader(shapes, spec):
    """A Rust expression reading one member bound to the request line or headers from `request`
    (a `crate::rest::HttpParts`), of type `Result<Option<T>, DecodeError>` (`Ok(…)` around
    the readers that cannot fail, which the caller unwraps)."""
    shape = shapes[spec["shape"]]
    t = shape["type"]
    key = spec.get("locationName", "")
    source = {"uri": "label", "querystring": "query", "header": "header"}[spec["location"]]
    if t == "list":
        return 'Ok(request.query_list("%s"))' % key
    if t == "string" and "enum" in shape:
        return 'request.enumeration(crate::rest::Source::%s, "%s", %s::parse, &[%s])' % (
            source.capitalize(), key, spec["shape"], ", ".join('"%s"' % v for v in shape["enum"]))
    if t in ("integer", "long"):
        bound = lambda v: "Some(%d)" % v if v is not None else "None"
        return 'request.integer::<%s>(crate::rest::Source::%s, "%s", %s, %s)' % (
            "i32" if t == "integer" else "i64", source.capitalize(), key, bound(shape.get("min")), bound(shape.get("max")))
    if t == "boolean":
        return 'request.boolean(crate::rest::Source::%s, "%s")' % (source.capitalize(), key)
    if t == "string":
        return 'Ok(request.text(crate::rest::Source::%s, "%s"))' % (source.capitalize(), key)
    sys.exit("no HTTP binding for %s members" % t)


def emit_rest_json(model, operations, service):
    """REST-JSON: the JSON emitter's structures (members bound to the URI, query string or
    headers skipped by serde), `BindHttp` for every operation's input, and the routes."""
    shapes = model["shapes"]
    ops = model["operations"]
    meta = model["metadata"]
    wanted = wanted_shapes(model, operations)
    out = []
    w = out.append
    w("// @generated by tools/gen_wire.py from botocore %s. Do not edit by hand." % botocore.__version__)
    w("#![allow(clippy::all, missing_docs, unused_variables, unused_imports)]")
    w("use serde::{Deserialize, Serialize};")
    w("use std::collections::BTreeMap;")
    w("use crate::required::CheckRequired;")
    w("use crate::rest::{BindHttp, HttpParts, Route};")
    w("use crate::DecodeError;")
    w("")
    w("/// Every %s operation in the model." % meta["serviceId"])
    w("pub const ALL_OPERATIONS: &[&str] = &[%s];" % ", ".join('"%s"' % o for o in sorted(ops)))
    w("/// The SigV4 signing name (the service of the credential scope).")
    w('pub const SIGNING_NAME: &str = "%s";' % meta.get("signingName", meta["endpointPrefix"]))
    w("")
    w("/// Each served operation's HTTP binding, from the model's `http` trait.")
    w("pub const ROUTES: &[Route] = &[")
    for op in operations:
        http = ops[op]["http"]
        w('    Route { operation: "%s", method: "%s", uri: "%s", status: %d },' % (op, http["method"], http["requestUri"], http.get("responseCode", 200)))
    w("];")
    w("")
    emit_error_codes(w, shapes)
    inputs = {ops[op]["input"]["shape"] for op in operations if "input" in ops[op]}
    for name in sorted(wanted):
        shape = shapes[name]
        if shape.get("exception"):
            continue
        t = shape["type"]
        if t == "string" and "enum" in shape:
            emit_enum(w, name, shape, ", Serialize, Deserialize")
            w("")
        elif t == "structure":
            emit_serde_struct(w, shapes, name, shape, True, "f64")
            emit_check_required(w, shapes, name, shape)
            if name in inputs:
                w("impl BindHttp for %s {" % name)
                w("    fn bind_http(&mut self, request: &HttpParts) -> Result<(), DecodeError> {")
                for member, spec in members(shapes, shape):
                    if spec.get("location"):
                        reader = http_reader(shapes, spec)
                        if reader.startswith("Ok("):
                            w("        self.%s = %s;" % (snake(member), reader[3:-1]))
                        else:
                            w("        self.%s = %s?;" % (snake(member), reader))
                w("        Ok(())")
                w("    }")
                w("}")
            w("")
    return out


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SERVICES:
        sys.exit("usage: gen_wire.py {%s}" % "|".join(SERVICES))
    directory, version, operations = SERVICES[sys.argv[1]]
    model = load_model(directory, version)
    if operations is None:
        operations = sorted(model["operations"])
    meta = model["metadata"]
    protocol = meta["protocol"]
    if protocol == "smithy-rpc-v2-cbor" and {"json", "query"} <= set(meta.get("protocols", [])):
        out = emit_multi_protocol(model, operations, sys.argv[1])
    elif protocol == "json":
        out = emit_json(model, operations, sys.argv[1])
    elif protocol == "rest-json":
        out = emit_rest_json(model, operations, sys.argv[1])
    elif protocol == "query":
        out = emit_query(model, sys.argv[1])
    else:
        sys.exit("no emitter for protocol %s" % protocol)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
