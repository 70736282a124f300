"""HTTP in and out for the local Greengrass v2 service.

Routes come from the botocore model's ``requestUri`` templates, so every modelled path is
recognised; the operations this endpoint serves call the backend method of the same name
(CreateComponentVersion -> ``create_component_version``) with the modelled members as
keyword arguments. Errors of every kind leave through ``exceptions.render_error``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .backends import GreengrassV2Backends
from .exceptions import (
    GreengrassV2Error,
    InternalServerException,
    UnknownOperationException,
    ValidationException,
    render_error,
)
from .shapes import (
    operation_model,
    parse_input,
    response_code,
    serialize_output,
    service_model,
    validate_input,
)

log = logging.getLogger(__name__)

IMPLEMENTED_OPERATIONS = frozenset(
    {
        "CreateComponentVersion",
        "DescribeComponent",
        "GetComponent",
        "ListComponents",
        "ListComponentVersions",
        "DeleteComponent",
        "CreateDeployment",
        "GetDeployment",
        "ListDeployments",
        "CancelDeployment",
        "DeleteDeployment",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
        "ListCoreDevices",
        "GetCoreDevice",
        "ListEffectiveDeployments",
        "ListInstalledComponents",
    }
)

#: ``/tags/{arn}`` is shared with other services (Greengrass v1 included): only v2 ARNs are ours.
_V2_TAGGABLE_ARN = re.compile(
    r"^arn:[^:]*:greengrass:[^:]*:[^:]*:(components|deployments|coreDevices):"
)


@dataclass(frozen=True)
class IncomingRequest:
    """What the service needs of an HTTP request, with the caller already identified."""

    method: str
    raw_path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    account_id: str
    region: str


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def is_greengrass_v2(raw_path: str) -> bool:
    """Whether a request path belongs to Greengrass v2 rather than to moto."""
    if raw_path.startswith("/greengrass/v2/"):
        return True
    if raw_path.startswith("/tags/"):
        return bool(_V2_TAGGABLE_ARN.match(unquote(raw_path[len("/tags/") :])))
    return False


@functools.cache
def _routes() -> list[tuple[str, str, tuple[str, ...]]]:
    routes = []
    for name in service_model().operation_names:
        http = operation_model(name).http
        path = http["requestUri"].split("?", 1)[0]
        routes.append((name, http["method"], tuple(path.strip("/").split("/"))))
    # Literal segments first, so /components/{arn}/metadata beats a greedy label.
    routes.sort(key=lambda r: sum(not s.startswith("{") for s in r[2]), reverse=True)
    return routes


def match_route(method: str, raw_path: str) -> tuple[str, dict[str, str]] | None:
    """The operation for a method and raw (still percent-encoded) path, and its labels.

    Matching the raw path keeps an encoded ``/`` inside a label from splitting it.
    """
    segments = raw_path.strip("/").split("/")
    for name, route_method, template in _routes():
        if route_method == method:
            labels = _match_segments(template, segments)
            if labels is not None:
                return name, labels
    return None


def _match_segments(template: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    labels: dict[str, str] = {}
    for i, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[i:]
            if not rest:
                return None
            labels[part[1:-2]] = unquote("/".join(rest))
            return labels
        if i >= len(segments):
            return None
        if part.startswith("{"):
            labels[part[1:-1]] = unquote(segments[i])
        elif part != segments[i]:
            return None
    return labels if len(segments) == len(template) else None


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValidationException("Request body is not a JSON object", reason="CANNOT_PARSE")
    return parsed


class GreengrassV2Responses:
    """Turns HTTP requests into backend calls and backend results into HTTP replies."""

    def __init__(self, backends: GreengrassV2Backends) -> None:
        self.backends = backends

    @staticmethod
    def operation_for(method: str, raw_path: str) -> str | None:
        matched = match_route(method, raw_path)
        return matched[0] if matched else None

    def dispatch(self, request: IncomingRequest) -> Reply:
        try:
            return self._call(request)
        except GreengrassV2Error as err:
            return Reply(*render_error(err))
        except Exception as exc:  # a bug here must still reach the client as AWS would
            log.exception("local Greengrass v2 failed on %s %s", request.method, request.raw_path)
            return Reply(*render_error(InternalServerException(f"{type(exc).__name__}: {exc}")))

    def _call(self, request: IncomingRequest) -> Reply:
        matched = match_route(request.method, request.raw_path)
        if matched is None or matched[0] not in IMPLEMENTED_OPERATIONS:
            what = matched[0] if matched else f"{request.method} {request.raw_path}"
            raise UnknownOperationException(
                f"{what} is not served by the pulumi-dda local endpoint"
            )
        operation, labels = matched
        params = parse_input(
            operation, labels, request.query, request.headers, _json_body(request.body)
        )
        validate_input(operation, params)
        backend = self.backends[request.account_id][request.region]
        result = getattr(backend, _snake(operation))(
            **{_snake(name): value for name, value in params.items()}
        )
        status = response_code(operation)
        body = b"" if status == 204 else json.dumps(serialize_output(operation, result)).encode()
        return Reply(status, [("Content-Type", "application/json")], body)
