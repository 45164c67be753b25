"""Checks a raw ECS JSON response body against botocore's model of the operation's output.

botocore's parser is lenient: it silently drops keys it does not know and keeps values of the
wrong type, so a client can "work" while the server sends something AWS never would. This
module is strict instead. For a successful response every key must be a member of the output
structure, every value must have the model's type (timestamps are JSON numbers: epoch
seconds, as the AWS JSON 1.1 protocol sends them), enum strings must be in the enum, `null`
is never sent (AWS omits absent members), and lists and maps are checked element by element.
For an error response the body must be `{"__type": ..., "message": ...}` plus only members of
the named error shape.

Every problem is reported with the JSON path at fault, e.g.
`RunTask: tasks[0].containers[1].exitCode: expected integer, got str '3'`.
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape


@lru_cache(maxsize=1)
def ecs_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("ecs")


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, (bytes, bytearray)) else repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(value).__name__} {text}"


def _join(path: str, member: str) -> str:
    return member if not path else f"{path}.{member}"


def validate_value(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    """Appends to `errors` every way `value` differs from `shape`."""
    where = path or "<body>"
    kind = shape.type_name
    if value is None:
        errors.append(f"{where}: null is not allowed (omit the member instead), expected {kind}")
        return
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"{where}: expected structure {shape.name}, got {_describe(value)}")
            return
        members = shape.members
        for key, item in value.items():
            if key not in members:
                errors.append(
                    f"{_join(path, key)}: unknown member of {shape.name} "
                    f"(known: {', '.join(sorted(members)) or 'none'})"
                )
                continue
            validate_value(members[key], item, _join(path, key), errors)
        for required in getattr(shape, "required_members", []) or []:
            if required not in value:
                errors.append(f"{_join(path, required)}: required member of {shape.name} is missing")
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(f"{where}: expected list, got {_describe(value)}")
            return
        for index, item in enumerate(value):
            validate_value(shape.member, item, f"{path}[{index}]", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(f"{where}: expected map, got {_describe(value)}")
            return
        for key, item in value.items():
            validate_value(shape.key, key, f"{path}<key {key!r}>", errors)
            validate_value(shape.value, item, f"{path}[{key!r}]", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{where}: expected string, got {_describe(value)}")
            return
        enum = shape.enum
        if enum and value not in enum:
            errors.append(f"{where}: {value!r} is not a value of enum {shape.name} ({', '.join(enum)})")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{where}: expected {kind}, got {_describe(value)}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected boolean, got {_describe(value)}")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{where}: expected {kind}, got {_describe(value)}")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{where}: expected timestamp as epoch seconds (a JSON number), got {_describe(value)}")
    elif kind == "blob":
        if not isinstance(value, str):
            errors.append(f"{where}: expected base64 string (blob), got {_describe(value)}")
    else:  # pragma: no cover - the ECS model has no other kinds today
        errors.append(f"{where}: shape kind {kind} is not understood by the validator")


def _parse(body: bytes | str) -> tuple[Any, str | None]:
    if isinstance(body, (bytes, bytearray)):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as error:
            return None, f"body is not UTF-8: {error}"
    if body.strip() == "":
        return {}, None
    try:
        return json.loads(body), None
    except json.JSONDecodeError as error:
        return None, f"body is not JSON ({error}): {body[:200]!r}"


def validate_output(operation: str | OperationModel, body: bytes | str) -> list[str]:
    """Problems in a *successful* response body of `operation` (empty list when it is fine)."""
    model = operation if isinstance(operation, OperationModel) else ecs_model().operation_model(operation)
    name = model.name
    parsed, problem = _parse(body)
    if problem:
        return [f"{name}: {problem}"]
    if not isinstance(parsed, dict):
        return [f"{name}: response body must be a JSON object, got {_describe(parsed)}"]
    errors: list[str] = []
    if model.output_shape is None:
        if parsed:
            errors.append(f"<body>: {name} has no output members but the body has {sorted(parsed)}")
    else:
        validate_value(model.output_shape, parsed, "", errors)
    return [f"{name}: {error}" for error in errors]


def error_code(type_field: str) -> str:
    """`com.amazon.coral...#ClientException` and `ClientException:http://...` → `ClientException`."""
    code = type_field.rsplit("#", 1)[-1]
    return code.split(":", 1)[0]


# Errors any AWS JSON 1.1 service may answer although no operation declares them.
PROTOCOL_ERRORS = frozenset({
    "UnknownOperationException",
    "SerializationException",
    "ValidationException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "ThrottlingException",
    "ServiceUnavailableException",
    "InternalFailure",
})


def validate_error(operation: str | OperationModel, body: bytes | str) -> list[str]:
    """Problems in an *error* response body: `__type` and `message` strings; the code is one
    the operation declares in the model (or a protocol-level one such as
    SerializationException); other keys only when they are members of the named error shape
    (e.g. ConflictException.resourceIds)."""
    model = operation if isinstance(operation, OperationModel) else ecs_model().operation_model(operation)
    name = model.name
    parsed, problem = _parse(body)
    if problem:
        return [f"{name} (error): {problem}"]
    if not isinstance(parsed, dict):
        return [f"{name} (error): error body must be a JSON object, got {_describe(parsed)}"]
    errors: list[str] = []
    type_field = parsed.get("__type")
    if not isinstance(type_field, str) or not type_field:
        errors.append(f"__type: must be a non-empty string, got {_describe(type_field)}")
        type_field = ""
    if not isinstance(parsed.get("message"), str):
        errors.append(f"message: must be a string, got {_describe(parsed.get('message'))}")
    code = error_code(type_field) if type_field else ""
    declared = {shape.name for shape in model.error_shapes}
    if code and code not in declared and code not in PROTOCOL_ERRORS:
        errors.append(
            f"__type: {code} is not an error {name} can return "
            f"(the model declares: {', '.join(sorted(declared))}; protocol-level: "
            f"{', '.join(sorted(PROTOCOL_ERRORS))})"
        )
    shape = None
    if type_field:
        try:
            shape = ecs_model().shape_for(error_code(type_field))
        except Exception:  # an error code without a shape in the model (e.g. UnknownOperationException)
            shape = None
    members = dict(shape.members) if shape is not None and shape.type_name == "structure" else {}
    for key, value in parsed.items():
        if key in ("__type", "message"):
            continue
        if key not in members:
            errors.append(f"{key}: unknown member of error {error_code(type_field) or '?'}")
            continue
        validate_value(members[key], value, key, errors)
    return [f"{name} (error): {error}" for error in errors]


def validate_rest_json_error(model: OperationModel, status: int, body: bytes | str, headers) -> list[str]:
    """Problems in a REST-JSON error (EventBridge Scheduler): the code in `x-amzn-ErrorType`,
    one the operation declares (or a protocol-level one), the status the model gives that
    error, and a body of the error shape's members (`Message`)."""
    name = model.name
    errors: list[str] = []
    code = (headers.get("x-amzn-ErrorType") or "").split(":", 1)[0]
    declared = {shape.name: shape for shape in model.error_shapes}
    if not code:
        errors.append("x-amzn-ErrorType: the header is missing")
    elif code not in declared and code not in PROTOCOL_ERRORS:
        errors.append(f"x-amzn-ErrorType: {code} is not an error {name} can return (declared: {', '.join(sorted(declared))})")
    shape = declared.get(code)
    if shape is not None:
        expected = shape.metadata.get("error", {}).get("httpStatusCode", 400)
        if status != expected:
            errors.append(f"HTTP {status}: the model gives {code} status {expected}")
    parsed, problem = _parse(body)
    if problem:
        return [f"{name} (error): {problem}"]
    if not isinstance(parsed, dict) or not isinstance(parsed.get("Message"), str):
        errors.append(f"<body>: must be an object with a Message string, got {_describe(parsed)}")
    elif shape is not None:
        for key, value in parsed.items():
            if key not in shape.members:
                errors.append(f"{key}: unknown member of error {code}")
            else:
                validate_value(shape.members[key], value, key, errors)
    return [f"{name} (error): {error}" for error in errors]


def validate_response(operation: str | OperationModel, status: int, body: bytes | str, headers=None) -> list[str]:
    """Dispatches on the protocol, then on the HTTP status: 2xx bodies are outputs, everything
    else errors."""
    protocol = operation.metadata.get("protocol") if isinstance(operation, OperationModel) else "json"
    if protocol == "query":
        return validate_query_response(operation, status, body)
    if 200 <= status < 300:
        return validate_output(operation, body)
    if protocol == "rest-json":
        problems = validate_rest_json_error(operation, status, body, headers or {})
        if status >= 500:
            problems.append(f"HTTP {status}: the server answered with a 5xx (a client mistake is a 4xx)")
        return problems
    problems = validate_error(operation, body)
    if status >= 500:
        problems.append(f"HTTP {status}: the server answered with a 5xx (a client mistake is a 400)")
    return problems


# --------------------------------------------------------------------------------------------
# AWS Query protocol (ELBv2): XML answers.

_ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _local(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def validate_xml_value(shape: Shape, element: ElementTree.Element, path: str, errors: list[str]) -> None:
    """Appends every way the XML `element` differs from `shape` (Query protocol encoding)."""
    kind = shape.type_name
    children = list(element)
    text = element.text or ""
    if kind == "structure":
        members = {member.serialization.get("name", name): member for name, member in shape.members.items()}
        seen: set[str] = set()
        for child in children:
            name = _local(child.tag)
            if name not in members:
                errors.append(f"{_join(path, name)}: unknown member of {shape.name} (known: {', '.join(sorted(members))})")
                continue
            if name in seen:
                errors.append(f"{_join(path, name)}: member appears twice")
            seen.add(name)
            validate_xml_value(members[name], child, _join(path, name), errors)
        return
    if children and kind not in ("list", "map"):
        errors.append(f"{path}: expected {kind}, got child elements")
        return
    if kind == "list":
        member_name = shape.member.serialization.get("name", "member")
        for index, child in enumerate(children):
            if _local(child.tag) != member_name:
                errors.append(f"{path}[{index}]: list items are <{member_name}>, got <{_local(child.tag)}>")
                continue
            validate_xml_value(shape.member, child, f"{path}[{index}]", errors)
        return
    if kind == "map":
        for index, entry in enumerate(children):
            parts = {_local(part.tag): part for part in entry}
            if _local(entry.tag) != "entry" or set(parts) != {"key", "value"}:
                errors.append(f"{path}[{index}]: map entries are <entry><key/><value/></entry>")
                continue
            validate_xml_value(shape.value, parts["value"], f"{path}[{parts['key'].text}]", errors)
        return
    if kind in ("integer", "long"):
        if not re.fullmatch(r"-?\d+", text):
            errors.append(f"{path}: expected {kind}, got {text!r}")
    elif kind in ("double", "float"):
        try:
            float(text)
        except ValueError:
            errors.append(f"{path}: expected {kind}, got {text!r}")
    elif kind == "boolean":
        if text not in ("true", "false"):
            errors.append(f"{path}: expected boolean, got {text!r}")
    elif kind == "timestamp":
        if not _ISO_8601.match(text):
            errors.append(f"{path}: expected an ISO 8601 timestamp, got {text!r}")
    elif kind == "string":
        if shape.enum and text not in shape.enum:
            errors.append(f"{path}: {text!r} is not one of {shape.name}'s values {shape.enum}")


def validate_query_response(operation: OperationModel, status: int, body: bytes | str) -> list[str]:
    """A Query answer: `<OpResponse xmlns=NS><OpResult>…</OpResult><ResponseMetadata>` for a
    2xx, `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>` otherwise."""
    name = operation.name
    namespace = operation.metadata.get("xmlNamespace")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        return [f"{name}: body is not XML: {error}"]
    errors: list[str] = []
    if status >= 500:
        errors.append(f"{name}: HTTP {status}: the server answered with a 5xx (a client mistake is a 400)")
    if not 200 <= status < 300:
        if _local(root.tag) != "ErrorResponse":
            return errors + [f"{name}: error root is <{_local(root.tag)}>, expected <ErrorResponse>"]
        error = root.find(f"{{{namespace}}}Error")
        if error is None:
            return errors + [f"{name}: <ErrorResponse> has no <Error> in namespace {namespace}"]
        parts = {_local(child.tag): child.text for child in error}
        for required in ("Type", "Code", "Message"):
            if not parts.get(required):
                errors.append(f"{name}: <Error> lacks <{required}>")
        if parts.get("Type") not in ("Sender", "Receiver"):
            errors.append(f"{name}: <Error><Type> is {parts.get('Type')!r}")
        codes = {shape.error_code for shape in operation.error_shapes} | {"ValidationError", "InvalidAction", "InternalFailure"}
        if parts.get("Code") not in codes:
            errors.append(f"{name}: error code {parts.get('Code')!r} is not one this operation may answer")
        return errors
    if root.tag != f"{{{namespace}}}{name}Response":
        return errors + [f"{name}: root is {root.tag}, expected {{{namespace}}}{name}Response"]
    wrapper = operation.output_shape.serialization.get("resultWrapper") if operation.output_shape else None
    children = {_local(child.tag): child for child in root}
    if set(children) - {wrapper, "ResponseMetadata"}:
        errors.append(f"{name}: unexpected elements {sorted(set(children) - {wrapper, 'ResponseMetadata'})}")
    if "ResponseMetadata" not in children or children["ResponseMetadata"].find(f"{{{namespace}}}RequestId") is None:
        errors.append(f"{name}: no <ResponseMetadata><RequestId>")
    if wrapper:
        if wrapper not in children:
            return errors + [f"{name}: no <{wrapper}>"]
        validate_xml_value(operation.output_shape, children[wrapper], "", errors)
    return [f"{name}: {problem}" if not problem.startswith(name) else problem for problem in errors]
