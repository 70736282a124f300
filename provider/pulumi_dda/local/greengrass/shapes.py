"""The botocore ``greengrassv2`` model as the contract for requests and responses.

Clients are generated from this model, so checking requests against it (required members,
types, lengths, ranges, patterns, enums) catches what the real service would reject, and
serialising responses through it guarantees botocore parses them without special cases:
an output member the model does not know is a bug here, raised as an internal error.

botocore's own client-side validator only checks ``required``, types and ``min``; the
service also enforces ``max``, ``pattern`` and ``enum``, so this module checks all of them.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from .exceptions import InternalServerException, ValidationException

SERVICE_NAME = "greengrassv2"


@functools.cache
def service_model() -> ServiceModel:
    """The installed botocore model; loading it takes a moment, so once per process."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def operation_model(name: str) -> OperationModel:
    return service_model().operation_model(name)


def response_code(name: str) -> int:
    """The modelled success status (201 for creates, 204 for deletes, else 200)."""
    return int(operation_model(name).http.get("responseCode", 200))


def validate_input(operation: str, params: dict[str, Any]) -> None:
    """Raise ValidationException naming every member that breaks the model."""
    shape = operation_model(operation).input_shape
    if shape is None:
        return
    problems: list[tuple[str, str, Any]] = []
    _check_structure(shape, params, "", problems)
    if not problems:
        return
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(
        f"Value {_show(value)} at '{path}' failed to satisfy constraint: {what}"
        for path, what, value in problems
    )
    raise ValidationException(
        f"{count} validation {noun} detected: {details}",
        fields=[{"name": path, "message": what} for path, what, _ in problems],
    )


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bytes):
        return "'<blob>'"
    return f"'{value}'"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "blob": lambda v: isinstance(v, bytes),
    "timestamp": lambda v: isinstance(v, int | float | str),
    "structure": lambda v: isinstance(v, dict),
    "map": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
}


def _check(shape: Shape, value: Any, path: str, out: list[tuple[str, str, Any]]) -> None:
    if not _TYPE_CHECKS.get(shape.type_name, lambda _v: True)(value):
        out.append((path, f"Member must be of type {shape.type_name}", value))
        return
    meta = shape.metadata
    if isinstance(shape, StructureShape):
        _check_structure(shape, value, path, out)
    elif isinstance(shape, ListShape):
        _check_size(meta, len(value), "length", path, value, out)
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}.{i + 1}.member", out)
    elif isinstance(shape, MapShape):
        _check_size(meta, len(value), "length", path, value, out)
        for key, item in value.items():
            _check(shape.key, key, f"{path}.{key}.key", out)
            _check(shape.value, item, f"{path}.{key}.value", out)
    elif shape.type_name == "string":
        _check_string(shape, value, path, out)
    elif shape.type_name in ("integer", "long", "double", "float"):
        _check_size(meta, value, "value", path, value, out)
    elif shape.type_name == "blob":
        _check_size(meta, len(value), "length", path, value, out)


def _check_structure(
    shape: StructureShape, value: dict[str, Any], path: str, out: list[tuple[str, str, Any]]
) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            out.append((_join(path, name), "Member must not be null", None))
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _check(member, value[name], _join(path, name), out)


def _check_size(
    meta: dict[str, Any],
    size: int | float,
    what: str,
    path: str,
    value: Any,
    out: list[tuple[str, str, Any]],
) -> None:
    if "min" in meta and size < meta["min"]:
        out.append((path, f"Member must have {what} greater than or equal to {meta['min']}", value))
    if "max" in meta and size > meta["max"]:
        out.append((path, f"Member must have {what} less than or equal to {meta['max']}", value))


def _check_string(shape: Shape, value: str, path: str, out: list[tuple[str, str, Any]]) -> None:
    _check_size(shape.metadata, len(value), "length", path, value, out)
    enum: list[str] = shape.metadata.get("enum", [])
    if enum and value not in enum:
        out.append((path, f"Member must satisfy enum value set: [{', '.join(enum)}]", value))
    pattern = shape.metadata.get("pattern")
    if pattern and not _compiled(pattern).fullmatch(value):
        out.append((path, f"Member must satisfy regular expression pattern: {pattern}", value))


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


def serialize_output(operation: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """Turn a backend result into the REST-JSON body botocore expects.

    Timestamps become epoch seconds, blobs base64; a member the model does not define
    raises InternalServerException so that tests catch the drift.
    """
    shape = operation_model(operation).output_shape
    if shape is None or data is None:
        return {}
    result = _serialize(shape, data, operation)
    assert isinstance(result, dict)
    return result


def _serialize(shape: Shape, value: Any, path: str) -> Any:
    if isinstance(shape, StructureShape):
        unknown = set(value) - set(shape.members)
        if unknown:
            raise InternalServerException(f"unmodelled output members at {path}: {unknown}")
        return {
            name: _serialize(shape.members[name], item, f"{path}.{name}")
            for name, item in value.items()
            if item is not None
        }
    if isinstance(shape, ListShape):
        return [_serialize(shape.member, item, path) for item in value]
    if isinstance(shape, MapShape):
        return {key: _serialize(shape.value, item, path) for key, item in value.items()}
    if shape.type_name == "timestamp":
        return value.timestamp() if isinstance(value, datetime) else float(value)
    if shape.type_name == "blob":
        return base64.b64encode(value).decode("ascii")
    return value


def parse_input(
    operation: str,
    uri_params: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: dict[str, Any],
) -> dict[str, Any]:
    """Gather the input members from wherever the model places them (REST-JSON bindings)."""
    shape = operation_model(operation).input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in uri_params:
                params[name] = uri_params[wire_name]
        elif location == "querystring":
            if wire_name in query:
                params[name] = _query_value(member, query[wire_name], name)
        elif location == "header":
            if wire_name.lower() in headers:
                params[name] = headers[wire_name.lower()]
        elif name in body:
            params[name] = _body_value(member, body[name], name)
    return params


def _query_value(member: Shape, values: list[str], name: str) -> Any:
    if member.type_name == "list":
        return values
    if member.type_name in ("integer", "long"):
        try:
            return int(values[0])
        except ValueError:
            raise ValidationException(
                f"1 validation error detected: Value '{values[0]}' at '{name}' failed to "
                "satisfy constraint: Member must be of type integer",
                fields=[{"name": name, "message": "Member must be of type integer"}],
            ) from None
    return values[0]


def _body_value(member: Shape, value: Any, name: str) -> Any:
    if member.type_name != "blob" or not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise ValidationException(
            f"Value at '{name}' is not valid base64", reason="CANNOT_PARSE"
        ) from None
